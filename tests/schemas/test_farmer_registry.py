"""Feed 5, moa.farmer_registry: the contract, then land, bronze and silver on generated monthly
XML deliveries. Every delivered record ends in silver, in quarantine with exactly the rules it
breaks, or counted as a duplicate (a farmer unchanged since last month's full registry); empty
and omitted elements are no value; full-width IDs and decimals, padded values and 6-digit
dates are normalised.

The expected outcome of every record comes from an oracle written here in plain Python
(``xml.etree``, ``unicodedata`` NFKC, ``decimal``, the check digits and ROC dates of
``kernel.twid``), and the expected silver rows of a few farmers from the population and
their roles, not from the pipeline's Spark expressions.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobs.readers import xml as xml_reader
from kernel import contracts
from kernel.config import Settings
from kernel.context import Context
from kernel.records import Records
from kernel.storage import Storage
from kernel.twid import is_valid_person_id, parse_roc_date
from masking.plan import describe_plan
from quality.ids import CHECK_DECLARED, CHECK_SILVER
from quality.suite import build_suite
from sandbox.generate import generate
from sandbox.generate.household import IssueRates
from sandbox.generate.population import build_population
from sandbox.generate.roles import roles
from stages.feed import run_feed
from stages.land import parse_file_date
from stages.results import StageResult

_LOADED = contracts.load(contracts.CONTRACTS_DIR / "moa" / "farmer_registry.yaml")
assert isinstance(_LOADED, contracts.FeedContract)
FEED = _LOADED
WIRE = {f.name: f.wire for f in FEED.fields}
PERSONS, SEED, START = 1500, 29, dt.date(2024, 10, 1)
RATES = IssueRates(fullwidth_id=0.1, padded_spaces=0.1, invalid_check_digit=0.03,
                   six_digit_date=0.2, impossible_date=0.03, fullwidth_decimal=0.3,
                   empty_element=0.3, missing_element=0.3)
BUSINESS = [f.name for f in FEED.fields]
SILVER = ("national_id string, name string, birth_date date, association_code string, "
          "eligible_from date, eligible_until date, land_hectares decimal(18,4), "
          "elderly_allowance string")


# --------------------------------------------------------------------------- the contract
def test_the_contract_fixes_the_names_others_build_on():
    assert contracts.feed("moa.farmer_registry").path == FEED.path
    assert (FEED.name, FEED.cadence, FEED.entity) == ("moa.farmer_registry", "monthly",
                                                      "moa.farmers")
    d = FEED.delivery
    assert (d.kind, d.format, d.inbox, d.encoding, d.file_date_format) == (
        "file_drop", "xml", "moa/farmer_registry", "utf-8", "rocYYYMM")
    assert d.file_pattern == r"MOA_FHI_(?P<file_date>\d{5})\.xml"
    assert d.options == {"root_tag": "農民資料", "row_tag": "農民"}
    assert FEED.primary_key == ("national_id",)
    assert FEED.order_by == ("_file_date", "eligible_from", "_source_row")
    assert FEED.event_key == tuple(BUSINESS)
    assert [(f.name, f.wire, f.type) for f in FEED.fields] == [
        ("national_id", "身分證號", "string"), ("name", "姓名", "string"),
        ("birth_date", "出生日期", "date"), ("association_code", "農會代號", "string"),
        ("eligible_from", "資格取得日期", "date"), ("eligible_until", "資格喪失日期", "date"),
        ("land_hectares", "農地面積公頃", "decimal"), ("elderly_allowance", "老農津貼", "string")]
    assert FEED.field("land_hectares").parse == ("nfkc", "trim")
    assert [r.id for r in FEED.rules] == [
        "national_id.required", "national_id.check_digit", "name.required", "name.length",
        "birth_date.required", "birth_date.valid", "association_code.required",
        "association_code.format", "eligible_from.required", "eligible_from.valid",
        "eligible_until.valid", "land_hectares.valid", "land_hectares.range",
        "elderly_allowance.code", "eligible_until.after_from"]
    assert {r.id: r.action for r in FEED.rules}["land_hectares.range"] == "warn"
    assert FEED.gates.freshness_hours == 45 * 24 and FEED.gates.min_rows == 1
    assert parse_file_date("11311", d.file_date_format) == dt.date(2024, 11, 1)


def test_the_contract_derives_reader_suite_and_masking_plan():
    assert xml_reader.options(FEED).row_tag == "農民"
    suite = build_suite(FEED)
    assert suite.name == "moa.farmer_registry.1.0.0"
    assert {e.meta["rule_id"] for e in suite.expectations} >= {r.id for r in FEED.rules}
    assert [(c, out) for c, _, _, out in describe_plan(FEED)] == [
        ("national_id", "national_id_key"), ("name", None), ("birth_date", "birth_year"),
        ("association_code", "association_code"), ("eligible_from", "eligible_from"),
        ("eligible_until", "eligible_until_month"), ("land_hectares", "land_hectares"),
        ("elderly_allowance", "elderly_allowance")]


# --------------------------------------------------------------------------- the oracle
def _n(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


@dataclass(frozen=True)
class Record:
    """One delivered record as the oracle reads it."""

    file: str
    row: int
    file_date: dt.date
    raw: dict[str, str | None]  # by column name; None when the element is omitted

    def value(self, name: str) -> Any:
        text = _n(self.raw[name])
        if name == "national_id" or name == "elderly_allowance":
            text = text.upper()
        if not text:
            return None
        if FEED.field(name).type == "date":
            return parse_roc_date(text)
        if name == "land_hectares":
            try:
                return Decimal(text).quantize(Decimal("0.0001"))
            except InvalidOperation:
                return None
        return text

    @property
    def values(self) -> tuple[Any, ...]:
        return tuple(self.value(c) for c in BUSINESS)

    def rules(self) -> set[str]:
        """The quarantine rules the record breaks, by the contract's definitions."""
        out = set()
        v = {c: self.value(c) for c in BUSINESS}
        present = {c: bool(_n(self.raw[c])) for c in BUSINESS}
        if not v["national_id"]:
            out.add("national_id.required")
        elif not is_valid_person_id(v["national_id"]):
            out.add("national_id.check_digit")
        if not v["name"]:
            out.add("name.required")
        elif len(v["name"]) > 20:
            out.add("name.length")
        for c in ("birth_date", "eligible_from", "eligible_until"):
            if present[c] and v[c] is None:
                out.add(f"{c}.valid")
            if c != "eligible_until" and v[c] is None:
                out.add(f"{c}.required")
        if not v["association_code"]:
            out.add("association_code.required")
        elif not (len(v["association_code"]) == 7 and v["association_code"].isdigit()):
            out.add("association_code.format")
        if present["land_hectares"] and v["land_hectares"] is None:
            out.add("land_hectares.valid")
        if v["elderly_allowance"] is not None and v["elderly_allowance"] not in {"Y", "N"}:
            out.add("elderly_allowance.code")
        if v["eligible_until"] and v["eligible_from"] and v["eligible_until"] < v["eligible_from"]:
            out.add("eligible_until.after_from")
        return out


def _read(path: Path, file_date: dt.date) -> list[Record]:
    out = []
    for i, rec in enumerate(ET.parse(path).getroot(), start=1):
        raw: dict[str, str | None] = {}
        for name, wire in WIRE.items():
            el = rec.find(wire)
            raw[name] = None if el is None else (el.text or "")
        out.append(Record(path.name, i, file_date, raw))
    return out


@dataclass
class Lakehouse:
    """The generated deliveries after one ``run_feed``."""

    ctx: Context
    stages: list[StageResult]
    records: list[Record]  # both files, in delivery order
    files: list[str]


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory) -> Lakehouse:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("farmers") / "lakehouse"
    root.mkdir()
    report = generate(root, persons=PERSONS, seed=SEED, days=35, start=START, rates=RATES,
                      feeds=[FEED.name]).feeds[FEED.name]
    records = [r for f in report.files for r in _read(f.path, f.file_date)]
    storage = Storage(spark, str(root))
    ctx = Context(settings=Settings.from_env({"LAKEHOUSE_ROOT": str(root)}),
                           storage=storage, records=Records(storage), run_id="farmers",
                           now=dt.datetime(2024, 11, 5, 8, 0), actor="steward:test")
    stages = run_feed(ctx, FEED)
    return Lakehouse(ctx, stages, records, [f.path.name for f in report.files])


# --------------------------------------------------------------------------- the pipeline
def test_every_record_is_in_silver_quarantine_or_a_counted_duplicate(lake):
    assert not [p for s in lake.stages for p in s.problems]
    land, bronze, silver = lake.stages
    assert land.counts == {"landed_files": 2}
    assert bronze.rows == len(lake.records) and bronze.batches == 2
    st = lake.ctx.storage

    expected_q = {(r.file, r.row): r.rules() for r in lake.records if r.rules()}
    assert {rule for rules in expected_q.values() for rule in rules} >= {
        "national_id.check_digit", "birth_date.valid", "eligible_from.valid"}
    quarantined = {(r["_source_file"], r["_source_row"]): set(r["_rule_ids"])
                   for r in st.read("quarantine", FEED.name)
                   .select("_source_file", "_source_row", "_rule_ids").collect()}
    assert quarantined == expected_q

    # A passing record is new in silver unless an earlier one carried the same values.
    seen: set[tuple[Any, ...]] = set()
    new, dups = [], {f: 0 for f in lake.files}
    for r in lake.records:
        if (r.file, r.row) in expected_q:
            continue
        if r.values in seen:
            dups[r.file] += 1
        else:
            seen.add(r.values)
            new.append((r.file, r.row))
    events = {(r["_source_file"], r["_source_row"]) for r in
              st.read("silver", FEED.name).select("_source_file", "_source_row").collect()}
    assert events == set(new)
    assert dups[lake.files[1]] > 0.8 * sum(1 for r in lake.records if r.file == lake.files[1])

    batches = {r["batch_id"].split("-")[0] + ".xml": r for r in lake.ctx.records.read("batches")
               .where(F.col("stage") == "silver").collect()}
    for f in lake.files:
        rows = [r for r in lake.records if r.file == f]
        b = batches[f]
        assert (b["status"], b["rows_in"], b["quarantined"], b["duplicates"]) == (
            "ok", len(rows), sum(1 for r in rows if (r.file, r.row) in expected_q), dups[f])
        assert b["rows_out"] == sum(1 for k in new if k[0] == f)
    recon = lake.ctx.records.read("reconciliation").collect()
    assert len(recon) == 8 and all(r["holds"] for r in recon)
    assert {r["check"] for r in recon} >= {CHECK_DECLARED, CHECK_SILVER}
    assert silver.counts["silver_rows"] == len(new) and silver.counts["warnings"] == 0


def test_injected_issues_are_normalised_in_silver(lake):
    passing = [r for r in lake.records if not r.rules()]
    raw = {name: [r.raw[name] for r in passing] for name in BUSINESS}
    # The generator's issues reached records that pass: the pipeline normalised them.
    assert any("．" in (v or "") for v in raw["land_hectares"])
    assert any(v and v.strip() != unicodedata.normalize("NFKC", v.strip())
               for v in raw["national_id"])
    assert any(v and len(v.strip()) == 6 for v in raw["birth_date"])
    assert any(v is None for v in raw["eligible_until"])  # omitted
    assert any(v == "" for v in raw["eligible_until"])  # <x/> or <x></x>
    entity = lake.ctx.storage.read("silver", FEED.entity)
    counts = entity.agg(
        F.count(F.lit(1)).alias("rows"),
        F.sum(F.col("eligible_until").isNull().cast("int")).alias("eligible"),
        F.sum((~F.col("national_id").rlike("^[A-Z][1289A-D][0-9]{8}$")).cast("int")).alias("ids"),
    ).first()
    assert counts is not None
    assert counts["rows"] == len({r.value("national_id") for r in passing})
    assert counts["ids"] == 0
    assert counts["eligible"] == len({r.value("national_id") for r in passing
                                      if r.value("eligible_until") is None})


def test_silver_rows_of_a_few_farmers_match_the_population(lake, spark):
    as_of = START - dt.timedelta(days=1)
    population = build_population(PERSONS, SEED, as_of, RATES.population_params())
    farmers = {p.national_id: p for p in population if roles(p, SEED, as_of).farmer}
    # The current values of a farmer: those of their latest record that passed.
    latest = {r.value("national_id"): r for r in lake.records if not r.rules()}
    deceased = [n for n, p in sorted(farmers.items()) if p.death_date and n in latest][:2]
    full_width = [n for n, r in sorted(latest.items()) if "．" in (r.raw["land_hectares"] or "")]
    omitted = [n for n, r in sorted(latest.items()) if r.raw["eligible_until"] is None]
    empty = [n for n, r in sorted(latest.items()) if r.raw["eligible_until"] == ""]
    chosen = sorted({*deceased, *full_width[:2], *omitted[:2], *empty[:2]})
    assert deceased and full_width and omitted and empty and len(chosen) >= 5

    rows = []
    for nid in chosen:
        p, r = farmers[nid], roles(farmers[nid], SEED, as_of)
        since = latest[nid].value("eligible_from")
        if p.death_date is None:
            assert since == r.enrolled_on
        rows.append((nid, p.name, p.birth_date, r.association_code, since, p.death_date,
                     latest[nid].value("land_hectares"), latest[nid].value("elderly_allowance")))
    expected = spark.createDataFrame(rows, SILVER)
    actual = (lake.ctx.storage.read("silver", FEED.entity)
              .where(F.col("national_id").isin(chosen)).select(*BUSINESS))
    assertDataFrameEqual(actual, expected)
