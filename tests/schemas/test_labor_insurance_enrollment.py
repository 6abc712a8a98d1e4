"""Feed 2, bli.labor_insurance_enrollment: the contract as the interface specifies it, and the
feed through land, bronze and silver on generated deliveries. Every delivered detail record
ends in silver, in quarantine with exactly the rules it breaks, or counted as a duplicate; the
trailer's count is reconciled; a file cut short by a killed job is refused at bronze.

The expected outcome of every record comes from an oracle written here in plain Python (byte
slicing, ``unicodedata`` NFKC, the check digits of ``kernel.twid``), not from the
pipeline's Spark expressions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from kernel import contracts
from kernel.config import Settings
from kernel.context import Context
from kernel.records import Records
from kernel.storage import Storage
from kernel.twid import is_valid_business_id, is_valid_person_id, parse_roc_date
from masking.plan import describe_plan
from quality.ids import CHECK_BRONZE, CHECK_DECLARED, CHECK_LANDED, CHECK_SILVER, RULE_MALFORMED
from sandbox.generate.household import IssueRates, decode_cp950
from sandbox.generate.labor import write_labor_deliveries
from sandbox.generate.population import Population
from stages.feed import run_feed
from stages.results import Problem, StageResult

FEED = contracts.feed("bli.labor_insurance_enrollment")
SEED = 17
START = dt.date(2024, 11, 1)
DAY1, DAY2, CUT = "BLI_LIE_20241101.dat", "BLI_LIE_20241102.dat", "BLI_LIE_20241103.dat"
RATES = IssueRates(
    fullwidth_id=0.02, padded_spaces=0.05, six_digit_date=0.05, impossible_date=0.02,
    duplicate_within=0.03, duplicate_across=0.05, invalid_check_digit=0.02,
)  # fmt: skip
SPEC = [  # (bytes, wire name, column) of the interface specification, feed 2
    ((1, 8), "保險證號", "insurance_unit_no"), ((9, 16), "投保單位統一編號", "employer_ubn"),
    ((17, 26), "身分證號", "national_id"), ((27, 38), "姓名", "name"),
    ((39, 45), "出生日期", "birth_date"), ((46, 46), "異動別", "action"),
    ((47, 53), "異動日期", "action_date"), ((54, 59), "月投保薪資", "insured_salary"),
    ((60, 60), "保險類別", "category"),
]  # fmt: skip


# --- the contract --------------------------------------------------------------------------


def test_the_contract_is_the_interface_of_feed_2():
    assert (FEED.name, FEED.cadence, FEED.entity) == (
        "bli.labor_insurance_enrollment", "daily", "bli.labor_enrollments")
    d = FEED.delivery
    assert (d.kind, d.format, d.inbox, d.encoding, d.java_charset, d.file_date_format) == (
        "file_drop", "fixed_width", "bli/labor_insurance_enrollment", "cp950", "MS950",
        "yyyyMMdd")
    assert re.fullmatch(d.file_pattern, "BLI_LIE_20241101.dat")["file_date"] == "20241101"
    assert not re.fullmatch(d.file_pattern, "BLI_LIE_20241101.csv")
    assert d.options == {"record_length": 80, "header_tag": "HDR", "trailer_tag": "TRL"}
    assert [(f.bytes, f.wire, f.name) for f in FEED.fields] == SPEC
    assert FEED.primary_key == ("national_id", "insurance_unit_no")
    assert FEED.order_by == ("action_date", "_file_date", "_source_row")
    assert set(FEED.event_key) == {f.name for f in FEED.fields}
    assert {f.name: f.type for f in FEED.fields if f.type != "string"} == {
        "birth_date": "date", "action_date": "date", "insured_salary": "int"}
    assert (FEED.gates.min_rows, FEED.gates.max_quarantine_share, FEED.gates.freshness_hours) == (
        0, 0.2, 36.0)


def test_rules_and_masking():
    rules = {r.id: (r.check, r.action) for r in FEED.rules}
    assert rules == {
        "insurance_unit_no.required": ("not_null", "quarantine"),
        "insurance_unit_no.format": ("regex", "quarantine"),
        "employer_ubn.required": ("not_null", "quarantine"),
        "employer_ubn.check_digit": ("tw_business_id", "quarantine"),
        "national_id.required": ("not_null", "quarantine"),
        "national_id.check_digit": ("tw_person_id", "quarantine"),
        "name.present": ("not_null", "warn"),
        "birth_date.required": ("not_null", "quarantine"),
        "birth_date.valid": ("valid_date", "quarantine"),
        "action.required": ("not_null", "quarantine"),
        "action.code": ("in_set", "quarantine"),
        "action_date.required": ("not_null", "quarantine"),
        "action_date.valid": ("valid_date", "quarantine"),
        "insured_salary.required": ("not_null", "quarantine"),
        "insured_salary.valid": ("valid_value", "quarantine"),
        "insured_salary.range": ("between", "warn"),
        "category.required": ("not_null", "quarantine"),
        "category.code": ("in_set", "quarantine"),
        "action_date.after_birth": ("expression", "quarantine"),
    }
    plan = {column: (pii, policy, out) for column, pii, policy, out in describe_plan(FEED)}
    assert plan["national_id"][:2] == ("direct_identifier", "pseudonymize")
    assert plan["name"] == ("direct_identifier", "drop", None)
    assert plan["birth_date"][1] == "generalize_year"
    assert plan["insured_salary"][1:] == ("generalize_band", "insured_salary_band")


# --- the oracle ----------------------------------------------------------------------------


def _norm(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw).strip()


def _date(raw: str, column: str, out: set[str]) -> dt.date | None:
    text = _norm(raw)
    parsed = parse_roc_date(text) if re.fullmatch(r"\d{6,7}", text) else None
    if text and parsed is None:
        out.add(f"{column}.valid")
    if parsed is None:
        out.add(f"{column}.required")
    return parsed


def expected_rules(line: bytes) -> set[str]:
    """The quarantine rules a delivered detail record breaks, by the contract's definitions."""
    if len(line) != 80:
        return {RULE_MALFORMED}
    raw = {col: decode_cp950(line[a - 1 : b]) for (a, b), _, col in SPEC}
    out: set[str] = set()
    unit = _norm(raw["insurance_unit_no"])
    if not unit:
        out.add("insurance_unit_no.required")
    elif not re.fullmatch(r"[0-9]{8}", unit):
        out.add("insurance_unit_no.format")
    ubn = _norm(raw["employer_ubn"])
    if not ubn:
        out.add("employer_ubn.required")
    elif not is_valid_business_id(ubn):
        out.add("employer_ubn.check_digit")
    nid = _norm(raw["national_id"]).upper()
    if not nid:
        out.add("national_id.required")
    elif not is_valid_person_id(nid):
        out.add("national_id.check_digit")
    birth = _date(raw["birth_date"], "birth_date", out)
    action = _norm(raw["action"])
    if not action:
        out.add("action.required")
    elif action not in {"1", "2", "3"}:
        out.add("action.code")
    when = _date(raw["action_date"], "action_date", out)
    salary = _norm(raw["insured_salary"])
    if not re.fullmatch(r"[+-]?[0-9]+", salary):
        out.add("insured_salary.required")
        if salary:
            out.add("insured_salary.valid")
    category = _norm(raw["category"])
    if not category:
        out.add("category.required")
    elif category not in {"1", "2"}:
        out.add("category.code")
    if birth and when and when < birth:
        out.add("action_date.after_birth")
    return out


# --- the lakehouse -------------------------------------------------------------------------


@dataclass
class Lakehouse:
    """The generated deliveries after one ``run_feed``."""

    ctx: Context
    stages: list[StageResult]
    details: dict[str, list[bytes]]  # file -> its detail records, in file order (line 2 on)
    malformed: bytes  # the record appended to DAY2 by hand
    cut_reason: str  # the refusal expected for CUT


def _add_malformed(path: Path) -> bytes:
    """Insert a 61-byte detail record before DAY2's trailer; fix the count and the digest."""
    lines = path.read_bytes().split(b"\r\n")[:-1]
    short = lines[1][:61] if len(lines) > 2 else b"1234567804595257A123456789" + b" " * 35
    count = int(lines[-1][3:13]) + 1
    lines[-1:] = [short, f"TRL{count:010d}".ljust(80).encode("ascii")]
    data = b"".join(line + b"\r\n" for line in lines)
    path.write_bytes(data)
    path.with_name(path.name + ".sha256").write_text(
        f"{hashlib.sha256(data).hexdigest()}  {path.name}\n")
    return short


@pytest.fixture(scope="module")
def lake(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Lakehouse:
    root = tmp_path_factory.mktemp("lie") / "lakehouse"
    inbox = root / "inbox"
    population = Population(1200, SEED, START - dt.timedelta(days=1), RATES.population_params())
    write_labor_deliveries(inbox, population, SEED, START, 2, RATES, change_rate=0.05)
    folder = inbox / FEED.delivery.inbox
    malformed = _add_malformed(folder / DAY2)
    # A third day whose writing job was killed: a short last record, no trailer.
    killed = IssueRates.parse(["truncated_file=1"], IssueRates.none())
    write_labor_deliveries(inbox, Population(40, SEED, dt.date(2024, 11, 2)), SEED,
                           dt.date(2024, 11, 3), 1, killed)
    *complete, tail = (folder / CUT).read_bytes().split(b"\r\n")
    cut_reason = (f"incomplete file: no trailer record (last record, line {len(complete) + 1}, "
                  f"is {len(tail)} bytes, not 80)")
    details = {}
    for name in (DAY1, DAY2):
        lines = (folder / name).read_bytes().split(b"\r\n")
        details[name] = lines[1:-2]
    storage = Storage(spark, str(root))
    ctx = Context(
        settings=Settings.from_env({**os.environ, "LAKEHOUSE_ROOT": str(root)}),
        storage=storage, records=Records(storage), run_id="lie-test",
        now=dt.datetime(2024, 11, 3, 8, 0), actor="steward:test")
    stages = run_feed(ctx, FEED)
    return Lakehouse(ctx, stages, details, malformed, cut_reason)


def test_the_truncated_file_is_refused_at_bronze_naming_the_file(lake: Lakehouse):
    land, bronze, silver = lake.stages
    assert land.counts == {"landed_files": 3} and not land.problems
    assert bronze.problems == [Problem(FEED.name, CUT, f"refused: {lake.cut_reason}")]
    assert bronze.counts == {"refused": 1} and bronze.batches == 2
    refused = lake.ctx.records.read("batches").where(F.col("status") == "refused").collect()
    assert [(r["stage"], r["reason"]) for r in refused] == [("bronze", lake.cut_reason)]
    assert refused[0]["batch_id"].startswith("BLI_LIE_20241103-")
    assert not silver.problems and silver.batches == 2
    assert lake.ctx.storage.read("bronze", FEED.name).where(
        F.col("_source_file") == CUT).count() == 0


def test_every_record_is_reconciled_including_the_trailer_count(lake: Lakehouse):
    checks = lake.ctx.records.read("reconciliation").collect()
    assert checks and all(c["holds"] for c in checks)
    by_batch: dict[str, dict[str, int]] = {}
    for c in checks:
        by_batch.setdefault(c["batch_id"], {})[c["check"]] = c["actual"]
    files = {c["batch_id"]: f"BLI_LIE_{c['batch_id'][8:16]}.dat" for c in checks}
    assert sorted(files.values()) == [DAY1, DAY2, CUT]
    for batch_id, done in by_batch.items():
        if files[batch_id] == CUT:  # landed, then refused: nothing further to reconcile
            assert set(done) == {CHECK_LANDED}
            continue
        n = len(lake.details[files[batch_id]])
        assert done == {CHECK_LANDED: done[CHECK_LANDED],
                        CHECK_BRONZE: n, CHECK_DECLARED: n,
                        CHECK_SILVER: n}
    for b in lake.ctx.records.read("batches").where(F.col("stage") == "silver").collect():
        assert b["status"] == "ok"
        assert b["rows_in"] == b["rows_out"] + b["duplicates"] + b["quarantined"]


def test_each_record_ends_where_the_contract_says(lake: Lakehouse):
    st = lake.ctx.storage
    quarantined = {(r["_source_file"], r["_source_row"]): set(r["_rule_ids"])
                   for r in st.read("quarantine", FEED.name).collect()}
    expected = {(name, i): expected_rules(line)
                for name, lines in lake.details.items() for i, line in enumerate(lines, start=2)}
    assert {k: v for k, v in expected.items() if v} == quarantined
    good = {k for k, v in expected.items() if not v}
    silver = {(r["_source_file"], r["_source_row"]) for r in st.read("silver", FEED.name)
              .select("_source_file", "_source_row").collect()}
    assert silver <= good
    # What is neither in silver nor in quarantine was counted as a duplicate.
    duplicates = sum(b["duplicates"] for b in lake.ctx.records.read("batches")
                     .where(F.col("stage") == "silver").collect())
    assert duplicates == len(good - silver) > 0
    # A duplicate is a byte-identical repeat of a record that reached silver.
    kept = {lake.details[f][r - 2] for f, r in silver}
    assert all(lake.details[f][r - 2] in kept for f, r in good - silver)


def test_injected_issues_land_in_quarantine_with_their_rules(lake: Lakehouse):
    q = lake.ctx.storage.read("quarantine", FEED.name)
    rows = {(r["_source_file"], r["_source_row"]): r for r in q.collect()}
    found: dict[str, int] = {}
    for name, lines in lake.details.items():
        for i, line in enumerate(lines, start=2):
            if len(line) != 80:
                continue
            nid = decode_cp950(line[16:26])
            dates = [decode_cp950(line[38:45]), decode_cp950(line[46:53])]
            if any("\uff01" <= c <= "\uff5e" for c in nid):  # full-width, cut to 5 characters
                found["fullwidth_id"] = found.get("fullwidth_id", 0) + 1
                assert "national_id.check_digit" in rows[(name, i)]["_rule_ids"]
            elif not is_valid_person_id(nid):
                found["invalid_check_digit"] = found.get("invalid_check_digit", 0) + 1
                assert "national_id.check_digit" in rows[(name, i)]["_rule_ids"]
            for column, d in zip(("birth_date", "action_date"), dates, strict=True):
                if re.fullmatch(r"\d{7}", d) and parse_roc_date(d) is None:
                    found["impossible_date"] = found.get("impossible_date", 0) + 1
                    assert {f"{column}.valid", f"{column}.required"} <= set(
                        rows[(name, i)]["_rule_ids"])
    assert all(found.get(k, 0) > 0 for k in ("fullwidth_id", "invalid_check_digit",
                                             "impossible_date"))
    (bad,) = [r for r in rows.values() if RULE_MALFORMED in r["_rule_ids"]]
    assert bad["_source_file"] == DAY2 and bad["_raw_record"] == decode_cp950(lake.malformed)
    assert bad["_source_row"] == len(lake.details[DAY2]) + 1
    assert bad["_rule_ids"] == [RULE_MALFORMED]
    assert all(r["_reason"] for r in rows.values())


def test_six_digit_dates_padded_spaces_and_names_are_conformed(lake: Lakehouse):
    events = lake.ctx.storage.read("silver", FEED.name)
    by_row = {(r["_source_file"], r["_source_row"]): r for r in events.collect()}
    six = padded = 0
    for (name, i), r in by_row.items():
        line = lake.details[name][i - 2]
        birth, salary, raw_name = line[38:45], line[53:59], decode_cp950(line[26:38])
        if birth.startswith(b" "):  # written as YYMMDD, right-aligned
            six += 1
            assert r["birth_date"] == parse_roc_date(birth.decode().strip())
        if salary.startswith(b" "):
            padded += 1
            assert r["insured_salary"] == int(salary)
        assert r["name"] == raw_name.strip(" \u3000") and r["name"]
    assert six > 0 and padded > 0


def test_the_current_state_is_the_latest_record_per_person_and_unit(lake: Lakehouse):
    latest: dict[tuple[str, str], tuple[tuple[object, ...], str]] = {}
    for day, name in enumerate((DAY1, DAY2)):
        for i, line in enumerate(lake.details[name], start=2):
            if expected_rules(line):
                continue
            key = (line[16:26].decode(), line[:8].decode())
            order = (parse_roc_date(line[46:53].decode().strip()), day, i)
            action = line[45:46].decode()
            if key not in latest or latest[key][0] < order:
                latest[key] = (order, action)
    state = {(r["national_id"], r["insurance_unit_no"]): r["action"]
             for r in lake.ctx.storage.read("silver", FEED.entity).collect()}
    assert state == {k: action for k, (_, action) in latest.items()}
    assert set(state.values()) == {"1", "2", "3"}
