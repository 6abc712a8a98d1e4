"""Feed 3, bli.labor_pension_contributions, through land, bronze and silver on generated
deliveries: every delivered record ends in silver, in quarantine with exactly the rules it
breaks, or counted as a duplicate; thousands separators and percent signs parse; the repeated
header is quarantined as such; a file without its byte-order mark is refused.

The expected outcome of every record comes from an oracle written here in plain Python
(``unicodedata`` NFKC, ``decimal``, the check digits of ``kernel.twid``), not from the
pipeline's Spark expressions.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import random
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.testing import assertDataFrameEqual

from kernel import contracts
from kernel.config import Settings
from kernel.context import Context
from kernel.records import Records
from kernel.storage import Storage
from kernel.twid import is_valid_business_id, is_valid_person_id, make_person_id
from quality.ids import CHECK_BRONZE, CHECK_LANDED, CHECK_SILVER, RULE_REPEATED_HEADER
from sandbox.generate import generate
from sandbox.generate.household import IssueRates
from sandbox.generate.roles import employer
from stages.feed import run_feed
from stages.results import Problem, StageResult

_LOADED = contracts.load(contracts.CONTRACTS_DIR / "bli" / "labor_pension_contributions.yaml")
assert isinstance(_LOADED, contracts.FeedContract)
FEED = _LOADED
WIRE = [f.wire for f in FEED.fields]
COLUMNS = [f.name for f in FEED.fields]
SEED = 23
GOOD = "BLI_LPC_11310.csv"
NO_BOM = "BLI_LPC_11309.csv"
RATES = IssueRates(
    thousands_separator=0.1, percent_sign=0.1, repeated_header=1.0, fullwidth_id=0.05,
    padded_spaces=0.05, invalid_check_digit=0.02, duplicate_within=0.03,
)  # fmt: skip
Oracle = tuple[Any, ...]


def _extra_rows() -> list[list[str]]:
    """Hand-written records appended to the delivery: one inconsistent amount (a warning, kept),
    and one breaking each range and format rule the generator does not inject."""
    ubn = employer(0, SEED)[1]
    rng = random.Random(SEED)
    ids = [make_person_id(rng) for _ in range(4)]
    return [
        ["11310", ubn, ids[0], "45,800", "6%", "0%", "3000"],  # amount is 2748: warn only
        ["11310", ubn, ids[1], "30300", "5.50", "0.00", "1667"],  # employer below 6 %
        ["11310", ubn, ids[2], "30300", "6.00", "7%", "3939"],  # own rate above 6 %
        ["11313", ubn, ids[3], "3O3OO", "6.00", "0.00", "1818"],  # month 13, letters O
    ]


@dataclass
class Lakehouse:
    """The generated deliveries after one ``run_feed``, and what it wrote, collected once."""

    ctx: Context
    stages: list[StageResult]
    records: list[list[str]]  # the records of GOOD after its header, in file order
    lines: list[str]  # the same as text lines
    bronze_rows: dict[str, int]  # per file
    silver: list[Row]
    quarantine: list[Row]
    system: dict[str, list[Row]]  # the system records: batches, reconciliation, …

    def batch(self, file_name: str) -> str:
        """The batch id of a landed file."""
        (row,) = [r for r in self.system["deliveries"] if r["file_name"] == file_name]
        return str(row["batch_id"])

    def silver_row(self, source_row: int) -> Row:
        (row,) = [r for r in self.silver if r["_source_row"] == source_row]
        return row


def _redigest(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.with_name(path.name + ".sha256").write_text(
        f"{hashlib.sha256(data).hexdigest()}  {path.name}\n", encoding="ascii")


@pytest.fixture(scope="module")
def lake(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Lakehouse:
    root = tmp_path_factory.mktemp("pension") / "lakehouse"
    root.mkdir()
    # 2024-10-01 .. 2024-11-01: the contributions of September (11309) and October (11310).
    generate(root, persons=1000, seed=SEED, days=32, start=dt.date(2024, 10, 1), rates=RATES,
             feeds=[FEED.name])  # fmt: skip
    inbox = root / "inbox" / FEED.delivery.inbox
    good = inbox / GOOD
    extra = "".join(",".join(f'"{v}"' if "," in v else v for v in r) + "\n"
                    for r in _extra_rows())  # fmt: skip
    _redigest(good, good.read_bytes() + extra.encode("utf-8"))
    no_bom = inbox / NO_BOM
    _redigest(no_bom, no_bom.read_bytes().removeprefix(b"\xef\xbb\xbf"))
    text = good.read_bytes().decode("utf-8-sig")
    records = list(csv.reader(io.StringIO(text, newline="")))
    assert records[0] == WIRE
    storage = Storage(spark, str(root))
    ctx = Context(
        settings=Settings.from_env({**os.environ, "LAKEHOUSE_ROOT": str(root)}), storage=storage,
        records=Records(storage), run_id="pension-test", now=dt.datetime(2024, 11, 5, 8, 0),
        actor="steward:test",
    )
    stages = run_feed(ctx, FEED)
    bronze = storage.read("bronze", FEED.name).groupBy("_source_file").count().collect()
    system = {t: ctx.records.read(t).where(F.col("feed") == FEED.name).collect()
              for t in ("deliveries", "batches", "reconciliation", "quality_results")}
    return Lakehouse(
        ctx, stages, records[1:], text.split("\n")[1:-1],
        {r["_source_file"]: r["count"] for r in bronze},
        storage.read("silver", FEED.name).collect(),
        storage.read("quarantine", FEED.name).collect(), system,
    )


# --- the oracle ----------------------------------------------------------------------------------


def _n(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip(" \t\u3000")


def _month(text: str) -> dt.date | None:
    if not re.fullmatch(r"[0-9]{4,5}", text):
        return None
    try:
        return dt.date(int(text[:-2]) + 1911, int(text[-2:]), 1)
    except ValueError:
        return None


def _int(text: str) -> int | None:
    if re.fullmatch(r"[+-]?[0-9]{1,3}(,[0-9]{3})+", text):
        text = text.replace(",", "")
    if not re.fullmatch(r"[+-]?[0-9]+", text) or not -(2**31) <= int(text) < 2**31:
        return None
    return int(text)


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(re.sub(r"\s*%$", "", text)).quantize(Decimal("0.0001"))
    except InvalidOperation:
        return None


def expected(rec: list[str]) -> tuple[set[str], Oracle]:
    """The quarantine rules a delivered record breaks, and its typed values."""
    raw = {c: _n(v) for c, v in zip(COLUMNS, rec, strict=True)}
    raw["national_id"] = raw["national_id"].upper()
    typed: dict[str, Any] = {
        "contribution_month": _month(raw["contribution_month"]),
        "employer_ubn": raw["employer_ubn"],
        "national_id": raw["national_id"],
        "wage": _int(raw["wage"]),
        "employer_rate": _decimal(raw["employer_rate"]),
        "self_rate": _decimal(raw["self_rate"]),
        "amount": _int(raw["amount"]),
    }
    rules = set()
    for col in COLUMNS:  # required: a typed value (text that does not parse has none)
        if typed[col] is None or typed[col] == "":
            rules.add(f"{col}.required")
        if raw[col] and typed[col] is None:
            rules.add(f"{col}.valid")
    if raw["employer_ubn"] and not is_valid_business_id(raw["employer_ubn"]):
        rules.add("employer_ubn.check_digit")
    if raw["national_id"] and not is_valid_person_id(raw["national_id"]):
        rules.add("national_id.check_digit")
    er, sr = typed["employer_rate"], typed["self_rate"]
    if er is not None and not Decimal(6) <= er <= Decimal(100):
        rules.add("employer_rate.minimum")
    if sr is not None and not Decimal(0) <= sr <= Decimal(6):
        rules.add("self_rate.range")
    return rules, tuple(typed[c] for c in COLUMNS)


def _header_rows(lake: Lakehouse) -> set[int]:
    return {i for i, r in enumerate(lake.records, start=1) if r == WIRE}


def _expected_silver(lake: Lakehouse) -> list[tuple[Any, ...]]:
    """The silver events: every record breaking no quarantine rule, repeats once (the first)."""
    rows, seen = [], set()
    for i, rec in enumerate(lake.records, start=1):
        if i in _header_rows(lake):
            continue
        rules, typed = expected(rec)
        if not rules and typed not in seen:  # a repeat of an event is a counted duplicate
            seen.add(typed)
            rows.append((*typed, i))
    return rows


def _appended(lake: Lakehouse) -> int:
    """The source row of the first hand-written record ("45,800", 6%, an inconsistent amount)."""
    return len(lake.records) - len(_extra_rows()) + 1


SILVER_SCHEMA = T.StructType([
    T.StructField("contribution_month", T.DateType()),
    T.StructField("employer_ubn", T.StringType()),
    T.StructField("national_id", T.StringType()),
    T.StructField("wage", T.IntegerType()),
    T.StructField("employer_rate", T.DecimalType(18, 4)),
    T.StructField("self_rate", T.DecimalType(18, 4)),
    T.StructField("amount", T.IntegerType()),
    T.StructField("_source_row", T.LongType()),
])  # fmt: skip


# --- tests ---------------------------------------------------------------------------------------


def test_a_file_without_its_byte_order_mark_is_refused(lake: Lakehouse) -> None:
    land, bronze, silver = lake.stages
    assert land.counts == {"landed_files": 2} and not land.problems
    assert bronze.problems == [Problem(
        FEED.name, NO_BOM,
        "refused: line 1: no UTF-8 byte-order mark (the contract expects one)")]  # fmt: skip
    assert bronze.counts == {"refused": 1} and bronze.batches == 1
    assert NO_BOM not in lake.bronze_rows
    (row,) = [r for r in lake.system["batches"] if r["batch_id"] == lake.batch(NO_BOM)]
    assert row["stage"] == "bronze" and row["status"] == "refused"
    assert row["reason"] == "line 1: no UTF-8 byte-order mark (the contract expects one)"
    assert not silver.problems and silver.batches == 1


def test_every_delivered_record_is_accounted_for(lake: Lakehouse) -> None:
    n = len(lake.records)
    assert lake.bronze_rows == {GOOD: n}
    (row,) = [r for r in lake.system["batches"]
              if r["batch_id"] == lake.batch(GOOD) and r["stage"] == "silver"]  # fmt: skip
    assert row["status"] == "ok" and row["rows_in"] == n
    assert (row["rows_out"], row["quarantined"]) == (len(lake.silver), len(lake.quarantine))
    assert len(lake.silver) + len(lake.quarantine) + row["duplicates"] == n
    assert row["duplicates"] > 0
    checks = [c for c in lake.system["reconciliation"] if c["batch_id"] == lake.batch(GOOD)]
    assert {c["check"] for c in checks} == {
        CHECK_LANDED, CHECK_BRONZE, CHECK_SILVER}
    assert all(c["holds"] for c in checks)


def test_silver_holds_the_typed_values(lake: Lakehouse, spark: SparkSession) -> None:
    want = spark.createDataFrame(_expected_silver(lake), SILVER_SCHEMA)
    got = lake.ctx.storage.read("silver", FEED.name).select(*SILVER_SCHEMA.fieldNames())
    assertDataFrameEqual(got, want)
    fresh = sum(1 for i, r in enumerate(lake.records, start=1)
                if i not in _header_rows(lake) and not expected(r)[0])  # fmt: skip
    assert lake.stages[2].counts["duplicates"] == fresh - len(_expected_silver(lake)) > 0


def test_thousands_separators_and_percent_signs_parse(lake: Lakehouse) -> None:
    first = _appended(lake)
    assert lake.lines[first - 1].split(",", 3)[3] == '"45,800",6%,0%,3000'
    row = lake.silver_row(first)
    assert row["wage"] == 45800 and row["employer_rate"] == Decimal("6.00")
    assert row["self_rate"] == Decimal("0.00") and row["amount"] == 3000
    # And every generated separator and sign: the delivered text against the silver value.
    by_row = {r["_source_row"]: r for r in lake.silver}
    checked = 0
    for i, rec in enumerate(lake.records, start=1):
        got = by_row.get(i)
        if got is None or i >= first:
            continue
        wage, amount, rates = rec[3], rec[6], (rec[4], rec[5])
        if "," in wage or "," in amount or any("%" in r for r in rates):
            checked += 1
            assert got["wage"] == int(_n(wage).replace(",", ""))
            assert got["amount"] == int(_n(amount).replace(",", ""))
            assert got["employer_rate"] == Decimal(_n(rates[0]).rstrip("%"))
            assert got["self_rate"] == Decimal(_n(rates[1]).rstrip("%"))
    assert checked > 20


def test_the_repeated_header_is_quarantined_as_such(lake: Lakehouse) -> None:
    (where,) = _header_rows(lake)
    assert 0.3 < where / len(lake.records) < 0.7  # in the middle: two extracts concatenated
    q = [r for r in lake.quarantine if RULE_REPEATED_HEADER in r["_rule_ids"]]
    assert len(q) == 1
    assert q[0]["_rule_ids"] == [RULE_REPEATED_HEADER]
    assert q[0]["_source_row"] == where and q[0]["_source_file"] == GOOD
    assert q[0]["_reason"].startswith("record.repeated_header: the header row repeated")
    assert [q[0][c] for c in COLUMNS] == WIRE  # the record as delivered


def test_each_bad_record_is_quarantined_with_the_right_rules(lake: Lakehouse) -> None:
    want = {i: expected(r)[0] for i, r in enumerate(lake.records, start=1)}
    for i in _header_rows(lake):
        want[i] = {RULE_REPEATED_HEADER}
    got = {r["_source_row"]: set(r["_rule_ids"]) for r in lake.quarantine}
    assert got == {i: rules for i, rules in want.items() if rules}
    kinds = {rule for rules in got.values() for rule in rules}
    assert {"national_id.check_digit", "employer_ubn.check_digit", "employer_rate.minimum",
            "self_rate.range", "contribution_month.valid", "wage.valid"} <= kinds
    # The generator's wrong check digits are all here, under the rule of the broken ID.
    broken = [r for r in lake.quarantine if r["_rule_ids"] != [RULE_REPEATED_HEADER]]
    assert sum(r["_rule_ids"] == ["national_id.check_digit"] for r in broken) >= 5
    # Reasons name rules and columns, never a value.
    for r in lake.quarantine:
        assert r["national_id"] not in r["_reason"] and r["employer_ubn"] not in r["_reason"]


def test_an_inconsistent_amount_is_a_warning_and_kept(lake: Lakehouse) -> None:
    assert lake.stages[2].counts["warnings"] == 1
    (result,) = [r for r in lake.system["quality_results"] if r["rule_id"] == "amount.consistent"]
    assert result["action"] == "warn" and result["unexpected_count"] == 1
    assert lake.silver_row(_appended(lake))["amount"] == 3000


def test_the_entity_is_one_row_per_worker_employer_and_month(
    lake: Lakehouse, spark: SparkSession
) -> None:
    # One month, one row per person: the current state is every silver event.
    entity = lake.ctx.storage.read("silver", FEED.entity).select(*SILVER_SCHEMA.fieldNames())
    assertDataFrameEqual(entity, spark.createDataFrame(_expected_silver(lake), SILVER_SCHEMA))
    keys = {tuple(r[c] for c in FEED.primary_key) for r in lake.silver}
    assert len(keys) == len(lake.silver)
