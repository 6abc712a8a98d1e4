"""Feed 4, nhia.insured_status: the contract, and the feed pulled from the API simulator through
land, bronze and silver. Every served record ends in silver, in quarantine with exactly the
rules it breaks, or counted as a duplicate; an incremental pull re-delivering records changed on
the watermark day adds nothing to silver; an identical re-pull is a duplicate delivery.

The expected outcome of every record comes from an oracle written here in plain Python
(``unicodedata`` NFKC, ``datetime.date.fromisoformat``, the check digits of ``kernel.twid``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import random
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from kernel import contracts
from kernel.config import Settings
from kernel.context import Context
from kernel.records import Records
from kernel.storage import Storage
from kernel.twid import is_valid_person_id, make_person_id
from masking.plan import output_column
from quality.ids import CHECK_BRONZE, CHECK_DECLARED, CHECK_LANDED, CHECK_SILVER
from sandbox.generate import generate
from sandbox.generate.household import IssueRates
from sandbox.generate.nhi import source_dir
from stages.feed import run_feed, run_stage
from stages.results import StageResult

FEED = contracts.feed("nhia.insured_status")
START = dt.date(2024, 11, 3)  # change dates up to 2024-11-05, the day of the test runs
NOW = dt.datetime(2024, 11, 5, 8, 0)
RATES = IssueRates.parse(["fullwidth_id=0.05", "invalid_check_digit=0.01",
                          "api_throttle=0.03", "api_unavailable=0.05"])
PAGE_SIZE = 250


# ------------------------------------------------------------------------------ the contract
def test_the_contract_fixes_the_names_other_feeds_and_datasets_rely_on():
    assert (FEED.name, FEED.cadence, FEED.entity) == (
        "nhia.insured_status", "daily", "nhia.insured")
    d = FEED.delivery
    assert (d.kind, d.format, d.encoding) == ("api_pull", "json_pages", "utf-8")
    assert {k: d.options[k] for k in ("endpoint", "token_endpoint", "page_size", "records_key",
                                      "max_retries", "timeout_seconds")} == {
        "endpoint": "/v1/insured-status", "token_endpoint": "/v1/token", "page_size": 1000,
        "records_key": "records", "max_retries": 5, "timeout_seconds": 30}
    assert FEED.primary_key == ("national_id",)
    assert FEED.order_by == ("start_date", "_file_date", "_source_row")
    assert [(f.name, f.wire, f.type) for f in FEED.fields] == [
        ("national_id", "idNo", "string"), ("name", "name", "string"),
        ("insured_category", "insuredCategory", "string"), ("unit_name", "unitName", "string"),
        ("start_date", "startDate", "date"), ("end_date", "endDate", "date"),
        ("premium_salary", "premiumSalary", "int")]
    assert set(FEED.event_key) == {f.name for f in FEED.fields}
    nid = FEED.field("national_id")
    assert nid.parse == ("nfkc", "trim", "upper") and nid.masking == "pseudonymize"
    assert FEED.field("start_date").parse[-1] == FEED.field("end_date").parse[-1] == "iso_date"
    assert FEED.field("premium_salary").rules[0].check == "valid_value"
    assert FEED.field("insured_category").rules[1].params["values"] == list("123456")
    # Published: the pseudonymous key, the category, generalised dates and salary band; the
    # name and the insuring unit (an employer or a district office) never.
    assert [output_column(f) for f in FEED.fields] == [
        "national_id_key", None, "insured_category", None, "start_month", "end_month",
        "premium_salary_band"]
    assert (FEED.field("unit_name").pii, FEED.field("unit_name").masking) == (
        "indirect_identifier", "drop")
    assert [r.id for r in FEED.rules if r.action == "quarantine"] == [
        "national_id.required", "national_id.check_digit", "insured_category.required",
        "insured_category.code", "start_date.required", "start_date.valid", "end_date.valid",
        "premium_salary.valid", "end_date.after_start"]


# ------------------------------------------------------------------------------ the oracle
def _n(value: Any) -> str | None:
    """The wire value as the reader hands it over (a number: its JSON text), then NFKC+trim."""
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value)
    text = unicodedata.normalize("NFKC", text).strip()
    return text or None


def _date(text: str | None) -> dt.date | None:
    if text is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def expected(rec: Any) -> tuple[set[str], tuple[Any, ...] | None]:
    """(quarantine rules, silver row) of a served record."""
    if not isinstance(rec, dict):
        return {"record.malformed"}, None
    rules = set()
    nid = (_n(rec.get("idNo")) or "").upper() or None
    if nid is None:
        rules.add("national_id.required")
    elif not is_valid_person_id(nid):
        rules.add("national_id.check_digit")
    category = _n(rec.get("insuredCategory"))
    if category is None:
        rules.add("insured_category.required")
    elif category not in set("123456"):
        rules.add("insured_category.code")
    start_raw, end_raw = _n(rec.get("startDate")), _n(rec.get("endDate"))
    start, end = _date(start_raw), _date(end_raw)
    if start_raw and start is None:
        rules.add("start_date.valid")
    if start is None:
        rules.add("start_date.required")
    if end_raw and end is None:
        rules.add("end_date.valid")
    salary_raw = _n(rec.get("premiumSalary"))
    if salary_raw is not None and re.fullmatch(r"\d{1,3}(,\d{3})+", salary_raw):
        salary_raw = salary_raw.replace(",", "")
    salary = int(salary_raw) if salary_raw and re.fullmatch(r"-?\d{1,9}", salary_raw) else None
    if salary_raw is not None and salary is None:
        rules.add("premium_salary.valid")
    if start and end and end < start:
        rules.add("end_date.after_start")
    row = (nid, _n(rec.get("name")), category, _n(rec.get("unitName")), start, end, salary)
    return rules, None if rules else row


def _extra_records() -> list[tuple[str, Any]]:
    """Hand-written records served after the generated ones (with their change dates): one
    breaking each rule the generator does not inject, and one with numbers written as text."""
    rng = random.Random(77)
    ids = [make_person_id(rng, letter="Z") for _ in range(8)]
    base = {"name": "測試員", "insuredCategory": "6", "unitName": "臺北市中正區公所",
            "startDate": "2020-01-01", "endDate": None, "premiumSalary": 0}
    return [
        ("2024-11-01", {**base, "idNo": ids[0], "insuredCategory": "9"}),
        ("2024-11-01", {**base, "idNo": ids[1], "startDate": "2024-02-30"}),
        ("2024-11-01", {**base, "idNo": ids[2], "endDate": "2019-12-31"}),
        ("2024-11-01", {**base, "idNo": ids[3], "premiumSalary": "abc"}),
        ("2024-11-01", {k: v for k, v in base.items() if k != "startDate"} | {"idNo": ids[4]}),
        ("2024-11-01", "not an object"),
        ("2024-11-05", {**base, "idNo": ids[5], "insuredCategory": 1, "premiumSalary": "45,800",
                        "unitName": " 大同股份有限公司 "}),
        ("2024-11-05", {**base, "idNo": "", "name": "無證號"}),
    ]


# ------------------------------------------------------------------------------ the lakehouse
@dataclass
class Lakehouse:
    root: Path
    ctx: Context
    contract: contracts.FeedContract
    served: list[tuple[str, Any]]  # (change date, record), in the order the API serves them
    issues: dict[str, int]
    runs: list[list[StageResult]]

    def batches(self) -> list[str]:
        rows = self.ctx.records.read("deliveries").where(
            (F.col("feed") == FEED.name) & (F.col("status") == "landed")).orderBy("run_id")
        return [r["batch_id"] for r in rows.select("batch_id").collect()]


@pytest.fixture(scope="module")
def lake(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Lakehouse:
    root = tmp_path_factory.mktemp("nhia") / "lakehouse"
    report = generate(root, persons=1000, seed=31, days=3, start=START, rates=RATES,
                      feeds=["nhia.insured_status"]).feeds[FEED.name]
    data = source_dir(root) / "records.jsonl"
    with data.open("a", encoding="utf-8") as fh:
        for changed, rec in _extra_records():
            fh.write(json.dumps({"changed": changed, "record": rec}, ensure_ascii=False) + "\n")
    served = [(x["changed"], x["record"]) for x in map(json.loads, data.read_text().splitlines())]
    storage = Storage(spark, str(root))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_NHIA")}
    ctx = Context(
        settings=Settings.from_env({**env, "LAKEHOUSE_ROOT": str(root)}), storage=storage,
        records=Records(storage), run_id="nhia-1", now=NOW, actor="steward:test")
    contract = dataclasses.replace(FEED, delivery=dataclasses.replace(FEED.delivery, options={
        **FEED.delivery.options, "page_size": PAGE_SIZE, "backoff_seconds": 0.05}))
    # No API configured: the pull starts the bundled simulator on <root>/sources (the default).
    runs = [run_feed(dataclasses.replace(ctx, run_id=f"nhia-{i}"), contract)
            for i in (1, 2)]
    # The same pull again (same watermark, same data): only the landing stage has work.
    runs.append([run_stage(dataclasses.replace(ctx, run_id="nhia-3"), contract, "land")])
    return Lakehouse(root, ctx, contract, served, dict(report.issues), runs)


def test_the_first_pull_lands_every_page_with_its_digests(lake: Lakehouse):
    first = lake.runs[0][0]
    assert not any(p for run in lake.runs for stage in run for p in stage.problems)
    assert first.counts == {"landed_pulls": 1, "pulled_records": len(lake.served)}
    batch = lake.batches()[0]
    folder = lake.root / "landing" / FEED.name / batch
    pages = sorted(p.name for p in folder.glob("page-*.json"))
    assert pages == [f"page-{n:05d}.json" for n in range(1, -(-len(lake.served) // PAGE_SIZE) + 1)]
    sums = (folder / "SHA256SUMS").read_text().splitlines()
    assert sums == [f"{hashlib.sha256((folder / p).read_bytes()).hexdigest()}  {p}" for p in pages]
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert manifest["since"] is None and manifest["watermark"] == "2024-11-05"
    assert manifest["records"] == len(lake.served)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1/insured-status", manifest["source"])
    received = [r for p in pages for r in json.loads((folder / p).read_bytes())["records"]]
    assert received == [rec for _, rec in lake.served]


def test_every_served_record_is_in_silver_quarantine_or_a_counted_duplicate(lake: Lakehouse):
    st = lake.ctx.storage
    recon = lake.ctx.records.read("reconciliation").where(F.col("feed") == FEED.name).collect()
    assert recon and all(r["holds"] for r in recon)
    assert {r["check"] for r in recon} == {CHECK_LANDED, CHECK_BRONZE,
                                           CHECK_DECLARED, CHECK_SILVER}
    first, delta = lake.batches()
    outcome = {i + 1: expected(rec) for i, (_, rec) in enumerate(lake.served)}
    quarantined = {r["_source_row"]: set(r["_rule_ids"]) for r in st.read("quarantine", FEED.name)
                   .where(F.col("_batch_id") == first).collect()}
    assert quarantined == {row: rules for row, (rules, _) in outcome.items() if rules}
    silver = st.read("silver", FEED.name)
    assert silver.where(F.col("_batch_id") == first).count() == \
        sum(1 for rules, _ in outcome.values() if not rules)
    assert silver.where(F.col("_batch_id") == delta).count() == 0
    silver_stage = lake.runs[0][2]
    assert silver_stage.counts["duplicates"] == 0
    assert silver_stage.counts["quarantined"] == len(quarantined)
    assert silver_stage.counts["silver_rows"] + len(quarantined) == len(lake.served)


def test_injected_and_hand_written_issues_get_exactly_their_rules(lake: Lakehouse):
    first = lake.batches()[0]
    rules = [r["_rule_ids"] for r in lake.ctx.storage.read("quarantine", FEED.name)
             .where(F.col("_batch_id") == first).collect()]
    assert sorted(map(sorted, rules)) == sorted([
        *[["national_id.check_digit"]] * lake.issues["invalid_check_digit"],
        ["insured_category.code"], ["start_date.required", "start_date.valid"],
        ["end_date.after_start"], ["premium_salary.valid"], ["start_date.required"],
        ["record.malformed"], ["national_id.required"]])
    assert lake.issues["invalid_check_digit"] > 0 and lake.issues["fullwidth_id"] > 0


def test_silver_holds_the_typed_current_status_per_person(lake: Lakehouse, spark: SparkSession):
    rows = [row for rules, row in map(expected, (rec for _, rec in lake.served)) if not rules]
    cols = [f.name for f in FEED.fields]
    entity = lake.ctx.storage.read("silver", FEED.entity).select(*cols)
    assertDataFrameEqual(entity, spark.createDataFrame(rows, entity.schema))
    assert entity.count() == entity.select("national_id").distinct().count()
    fixed = [r for r in rows if r[0] and r[2] == "1" and r[6] == 45800 and r[1] == "測試員"]
    assert fixed and fixed[0][3] == "大同股份有限公司"  # a number as text, trimmed spaces


def test_the_incremental_pull_re_delivers_the_watermark_day_as_duplicates(lake: Lakehouse):
    land, bronze, silver = lake.runs[1]
    delta = [rec for changed, rec in lake.served if changed >= "2024-11-05"]
    assert land.counts == {"landed_pulls": 1, "pulled_records": len(delta)}
    batch = lake.batches()[1]
    manifest = json.loads((lake.root / "landing" / FEED.name / batch / "manifest.json")
                          .read_text("utf-8"))
    assert manifest["since"] == "2024-11-05" and manifest["records"] == len(delta)
    outcomes = [expected(rec) for rec in delta]
    bad = sum(1 for rules, _ in outcomes if rules)
    assert bronze.rows == len(delta)
    assert silver.counts["silver_rows"] == 0  # nothing new: the same events as batch 1
    assert silver.counts["duplicates"] == len(delta) - bad > 0
    assert silver.counts["quarantined"] == bad > 0
    events = lake.ctx.storage.read("silver", FEED.name)
    assert events.groupBy("_event_id").count().where("count > 1").count() == 0


def test_an_identical_re_pull_is_a_duplicate_delivery(lake: Lakehouse):
    (land,) = lake.runs[2]
    assert land.counts == {"duplicate_pulls": 1} and land.batches == 0
    assert not (lake.root / "landing" / FEED.name / "_pulling" / "nhia-3").exists()
    dup = lake.ctx.records.read("deliveries").where(
        (F.col("feed") == FEED.name) & (F.col("status") == "duplicate")).collect()
    assert len(dup) == 1 and dup[0]["batch_id"] == lake.batches()[1]
    assert dup[0]["watermark"] == "2024-11-05"
