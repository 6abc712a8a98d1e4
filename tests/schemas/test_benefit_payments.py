"""Feed 6, bli.benefit_payments, pulled from the real PostgreSQL through land, bronze and silver.

One lakehouse per module: the generated payments of 1,000 persons plus hand-written rows that
break the contract's rules are pulled (run 1). Then one payment is corrected in the database
with an ``updated_at`` in the very instant of the watermark (a transaction that committed
after the pull, stamped with its start time): run 2 pulls it (the watermark's ``>=``) with the
row of that instant pulled before, a counted duplicate; the corrected payment has two versions
in the history and its latest in ``bli.payments``. Run 3 (landing only) pulls the same rows
again: a duplicate delivery. Every pulled record is in silver, in quarantine with exactly the
rules it breaks, or a counted duplicate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from kernel import contracts
from kernel.context import Context
from pull import jdbc
from quality.ids import CHECK_BRONZE, CHECK_DECLARED, CHECK_LANDED, CHECK_SILVER
from sandbox.generate import generate
from sandbox.generate.household import DeliveryReport
from stages.feed import run_feed, run_stage
from stages.land_pull import last_watermark
from stages.results import StageResult
from tests.pg import PgSchema, clean_schema

_LOADED = contracts.load(contracts.CONTRACTS_DIR / "bli" / "benefit_payments.yaml")
assert isinstance(_LOADED, contracts.FeedContract)
FEED = _LOADED
TPE = dt.timezone(dt.timedelta(hours=8))
LATE = dt.datetime(2024, 10, 31, 23, 0, tzinfo=TPE)  # before the generated updates (Nov 1-3)
BAD = {  # payment_id -> (row, the rules it breaks)
    900000000001: (("A123456780", "OLD_AGE", "11310", 18000), ["national_id.check_digit"]),
    900000000002: (("A123456789", "RETIRE", "11310", 18000), ["benefit_type.code"]),
    900000000003: (("A123456789", "OLD_AGE", "11313", 18000),  # month 13: no typed value
                   ["payment_month.required", "payment_month.valid"]),
    900000000004: (("A123456789", "OLD_AGE", "11310", -5), ["amount.not_negative"]),
    900000000005: (("ａ123456789", "DISABILITY", "11309", 0), []),  # full width: passes
}


@dataclass
class Lake:
    """The lakehouse after the three runs and a refused pull."""

    pg: PgSchema
    ctx: Context
    report: DeliveryReport
    table_rows: int
    corrected: tuple[int, int, int]  # payment_id, amount before, amount after
    watermark: str  # of run 1 (the instant of its latest row), kept by run 2
    runs: list[list[StageResult]]
    refused: StageResult


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    root = str(tmp_path_factory.mktemp("benefits") / "lakehouse")
    Path(root).mkdir()
    with pytest.MonkeyPatch.context() as mp, clean_schema(mp) as pg:
        report = generate(Path(root), persons=1000, seed=11,
                          feeds=["bli.benefit_payments"]).feeds[FEED.name]
        pg.insert(*[(pid, *row[:3], row[3], "700", "00012345678901", None, LATE)
                    for pid, (row, _) in BAD.items()])
        (table_rows,) = pg.rows("SELECT count(*) FROM benefit_payments")[0]
        # A payment untouched by the generated updates, corrected after the first pull.
        pid, before = pg.rows("SELECT payment_id, amount FROM benefit_payments WHERE "
                              "updated_at < '2024-11-01' AND amount > 0 ORDER BY payment_id "
                              "LIMIT 1")[0]

        def ctx(n: int, **env: str) -> Context:  # run n, an hour after run n - 1
            now = dt.datetime(2024, 11, 5, 8, 0) + dt.timedelta(hours=n)
            return pg.context(spark, root, run_id=f"run-{n}", now=now, **env)

        runs = [run_feed(ctx(1), FEED)]
        pg.execute("UPDATE benefit_payments SET amount = amount + 500, updated_at = "
                   "(SELECT max(updated_at) FROM benefit_payments) WHERE payment_id = %s", (pid,))
        runs += [run_feed(ctx(2), FEED), [run_stage(ctx(3), FEED, "land")]]
        last = ctx(4, **{jdbc.URL_ENV: "postgresql://localhost:1/benefits"})
        refused = run_stage(last, FEED, "land")
        watermark = jdbc.utc_text(pg.rows("SELECT max(updated_at) FROM benefit_payments")[0][0])
        yield Lake(pg, last, report, int(table_rows), (int(pid), int(before), int(before) + 500),
                   watermark, runs, refused)


def test_the_contract_names_the_feed_as_agreed():
    assert (FEED.name, FEED.cadence, FEED.entity) == ("bli.benefit_payments", "daily",
                                                      "bli.payments")
    d = FEED.delivery
    assert (d.kind, d.format, d.is_pull) == ("jdbc_pull", "jdbc", True)
    assert d.options == {"table": "benefit_payments", "watermark": "updated_at",
                         "key": "payment_id", "fetch_size": 10000}
    assert FEED.primary_key == ("payment_id",)
    assert FEED.order_by == ("updated_at", "_file_date", "_source_row")
    assert FEED.event_key == tuple(f.name for f in FEED.fields)
    assert [(f.name, f.wire, f.type, f.pii, f.masking) for f in FEED.fields] == [
        ("payment_id", "payment_id", "long", "none", "keep"),
        ("national_id", "national_id", "string", "direct_identifier", "pseudonymize"),
        ("benefit_type", "benefit_type", "string", "none", "keep"),
        ("payment_month", "payment_month", "date", "none", "keep"),
        ("amount", "amount", "long", "none", "keep"),
        ("bank_code", "bank_code", "string", "indirect_identifier", "drop"),
        ("account_no", "account_no", "string", "direct_identifier", "drop"),
        ("remark", "remark", "string", "free_text", "scan_free_text"),
        ("updated_at", "updated_at", "timestamp", "none", "keep"),
    ]


def test_the_wire_names_are_the_columns_of_the_agency_table(lake: Lake):
    columns = lake.pg.rows("SELECT column_name FROM information_schema.columns WHERE "
                           "table_schema = 'public' AND table_name = 'benefit_payments' "
                           "ORDER BY ordinal_position")
    assert [c for (c,) in columns] == [f.wire for f in FEED.fields]


def test_every_pulled_record_is_in_silver_quarantine_or_a_counted_duplicate(lake: Lake):
    land, bronze, silver = lake.runs[0]
    assert not (land.problems or bronze.problems or silver.problems)
    assert land.counts == {"landed_pulls": 1, "pulled_records": lake.table_rows}
    assert bronze.rows == lake.table_rows == lake.report.events["payments"] + len(BAD)
    quarantined = sum(1 for _, rules in BAD.values() if rules)
    assert silver.counts["silver_rows"] == lake.table_rows - quarantined
    assert silver.counts["quarantined"] == quarantined and silver.counts["duplicates"] == 0
    (landed,) = lake.ctx.records.read("deliveries").where(F.col("run_id") == "run-1").collect()
    batch = landed["batch_id"]
    assert batch.startswith("BENEFIT_PAYMENTS-20241105-") and landed["records"] == bronze.rows
    events = lake.ctx.storage.read("silver", FEED.name).where(F.col("_batch_id") == batch)
    assert events.count() == silver.counts["silver_rows"]
    recon = lake.ctx.records.read("reconciliation").where(F.col("batch_id") == batch)
    assert {(r["check"], r["holds"]) for r in recon.collect()} == {
        (CHECK_LANDED, True), (CHECK_BRONZE, True),
        (CHECK_DECLARED, True), (CHECK_SILVER, True)}


def test_rows_breaking_a_rule_are_quarantined_with_exactly_its_rule(lake: Lake):
    q = lake.ctx.storage.read("quarantine", FEED.name)
    got = {r["payment_id"]: list(r["_rule_ids"]) for r in
           q.select("payment_id", "_rule_ids").collect()}  # the record as pulled (strings)
    assert got == {str(pid): rules for pid, (_, rules) in BAD.items() if rules}
    assert all("A123456789" not in r["_reason"] for r in q.select("_reason").collect())
    ok = lake.ctx.storage.read("silver", FEED.entity).where(
        F.col("payment_id") == 900000000005).select("national_id").first()
    assert ok is not None and ok["national_id"] == "A123456789"  # NFKC and upper case


def test_a_corrected_payment_keeps_its_history_and_the_latest_version(lake: Lake):
    pid, before, after = lake.corrected
    land, _, silver = lake.runs[1]
    assert land.counts == {"landed_pulls": 1, "pulled_records": 2}
    # The row of the old watermark's instant came again: a counted duplicate, not a new row.
    assert (silver.counts["silver_rows"], silver.counts["duplicates"]) == (1, 1)
    st = lake.ctx.storage
    stamp = F.date_format("updated_at", "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX")
    history = [(r["amount"], r["at"]) for r in st.read("silver", FEED.name)
               .where(F.col("payment_id") == pid).orderBy("updated_at")
               .select("amount", stamp.alias("at")).collect()]
    assert len(history) == 2 and history[0][0] == before
    assert history[1] == (after, lake.watermark)
    current = st.read("silver", FEED.entity).where(F.col("payment_id") == pid).collect()
    assert [r["amount"] for r in current] == [after]


def test_re_pulled_rows_are_duplicates_never_doubled_rows(lake: Lake):
    # Run 2 re-pulled the row of the watermark's instant: a counted duplicate (see above).
    # Run 3 pulled exactly what run 2 had: a duplicate delivery, nothing ingested again.
    (land3,) = lake.runs[2]
    assert land3.counts == {"duplicate_pulls": 1} and land3.batches == 0
    st = lake.ctx.storage
    events = st.read("silver", FEED.name)
    assert events.count() == lake.table_rows - 4 + 1  # 4 quarantined, 1 more version
    assert events.select("_event_id").distinct().count() == events.count()
    entity = st.read("silver", FEED.entity)
    assert entity.count() == entity.select("payment_id").distinct().count() == (
        lake.table_rows - 4)
    deliveries = lake.ctx.records.read("deliveries").where(F.col("feed") == FEED.name)
    assert sorted(r["status"] for r in deliveries.collect()) == [
        "duplicate", "landed", "landed", "refused"]


def test_an_unreachable_database_is_a_refused_pull(lake: Lake):
    (problem,) = [p for p in lake.refused.problems if p.file == "pull"]
    assert problem.reason == (
        "refused: database unreachable: no connection to jdbc:postgresql://localhost:1/benefits"
        " within 10s (SQLSTATE 08001: refused, timed out or not accepting connections)")
    assert lake.refused.counts == {"refused": 1}
    # The next pull still starts from the last good watermark.
    assert last_watermark(lake.ctx, FEED.name) == lake.watermark
