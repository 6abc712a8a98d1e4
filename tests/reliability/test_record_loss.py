"""A record lost between two zones, injected through the fault points (``lose:<zone>/<table>``):
the reconciliation of that stage sees the table hold one row less than it should, fails the
batch with the counts, and the publish that depends on it is refused. Each case is a real run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs import residents_coverage
from kernel import contracts
from quality.ids import CHECK_BRONZE, CHECK_DECLARED, CHECK_LANDED, CHECK_SILVER
from sandbox.generate import generate
from sandbox.generate.issues import IssueRates
from stages.feed import run_feed
from stages.publish import publish
from tests.pg import clean_schema

FEED = contracts.feed("moi.household_registry")
KEY = "record-loss-test-key-0123456789-abcdefghij"
# Enough rows of every kind: some quarantined (bad check digits), some repeated in the file.
RATES = IssueRates(invalid_check_digit=0.15, duplicate_within=0.1)


def _batch(ctx, stage: str) -> dict:  # type: ignore[no-untyped-def]
    (row,) = ctx.records.read("batches").where(F.col("stage") == stage).collect()
    return row.asDict()


def _in(ctx, zone: str, batch_id: str) -> int:  # type: ignore[no-untyped-def]
    return int(ctx.storage.read(zone, FEED.name).where(F.col("_batch_id") == batch_id).count())


@pytest.fixture
def delivered(root):  # type: ignore[no-untyped-def]
    report = generate(Path(root), feeds=[FEED.name], persons=40, seed=21, days=1, rates=RATES)
    return report.feeds[FEED.name].files[0].rows


@pytest.mark.parametrize("zone", ["silver", "quarantine"])
def test_a_row_lost_on_its_way_to_silver_fails_the_batch_and_refuses_the_publish(
        ctx, delivered, monkeypatch, zone):
    monkeypatch.setenv("LAKEHOUSE_FAULT", f"lose:{zone}/{FEED.name}")
    results = run_feed(ctx, FEED)
    monkeypatch.delenv("LAKEHOUSE_FAULT")
    b = _batch(ctx, "silver")
    silver, quarantined = _in(ctx, "silver", b["batch_id"]), _in(ctx, "quarantine", b["batch_id"])
    assert b["rows_in"] == delivered and quarantined > 0 and b["duplicates"] > 0
    # The tables hold one row less than the batch: the one the fault lost, nothing else.
    assert silver + quarantined + b["duplicates"] == delivered - 1
    why = (f"reconciliation failed: bronze {delivered} != silver {silver} + duplicates "
           f"{b['duplicates']} + quarantined {quarantined}")
    assert (b["status"], b["reason"], b["rows_out"], b["quarantined"]) == (
        "failed", why, silver, quarantined)
    assert [p.reason for r in results for p in r.problems] == [why]
    (check,) = ctx.records.read("reconciliation").where(
        F.col("check") == CHECK_SILVER).collect()
    assert (check["expected"], check["actual"], check["holds"]) == (
        delivered, delivered - 1, False)

    monkeypatch.setenv("LAKEHOUSE_PSEUDONYM_KEY", KEY)
    res = publish(ctx, residents_coverage.contract(), dt.date(2024, 12, 1))
    assert res.status == "refused"
    assert [p.reason for p in res.problems] == [
        "reconciliation gate: 1 batch(es) do not reconcile (bronze != silver + quarantined + "
        "duplicates)"]
    assert not ctx.storage.exists("gold", "person_coverage")


@pytest.mark.parametrize(("feed", "persons"), [
    ("moi.household_registry", 40),  # a CSV: no count declared
    ("bli.labor_insurance_enrollment", 40),  # fixed width: the trailer's count
    ("moa.farmer_registry", 200),  # XML: the record elements the document holds (few farmers)
])
def test_a_row_lost_on_its_way_to_bronze_fails_the_delivered_and_declared_checks(
        ctx, root, monkeypatch, feed, persons):
    fc = contracts.feed(feed)
    report = generate(Path(root), feeds=[feed], persons=persons, seed=22, days=1)
    sizes = {f.path.name: f.rows for f in report.feeds[feed].files}
    assert sizes and all(sizes.values())
    monkeypatch.setenv("LAKEHOUSE_FAULT", f"lose:bronze/{feed}")
    results = run_feed(ctx, fc)
    monkeypatch.delenv("LAKEHOUSE_FAULT")
    files = {r["batch_id"]: r["file_name"] for r in ctx.records.read("deliveries").collect()}
    batches = ctx.records.read("batches").where(F.col("stage") == "bronze").collect()
    assert sorted(files[b["batch_id"]] for b in batches) == sorted(sizes)
    declares = fc.delivery.format != "csv"
    reasons = []
    for b in batches:
        n = sizes[files[b["batch_id"]]]
        bronze = ctx.storage.read("bronze", feed).where(F.col("_batch_id") == b["batch_id"])
        assert bronze.count() == n - 1
        why = f"reconciliation failed: {CHECK_BRONZE} ({n - 1} != {n})"
        if declares:
            why += f"; {CHECK_DECLARED} ({n - 1} != {n})"
        assert (b["status"], b["reason"], b["rows_in"], b["rows_out"]) == (
            "failed", why, n, n - 1)
        reasons.append(why)
    assert sorted(p.reason for r in results for p in r.problems) == sorted(reasons)
    # Nothing of a failed batch goes on to silver.
    assert not ctx.records.read("batches").where(F.col("stage") == "silver").count()
    assert not ctx.storage.exists("silver", feed)


@pytest.mark.parametrize("feed", ["nhia.insured_status", "bli.benefit_payments"])
def test_a_row_lost_from_a_pull_fails_the_count_the_puller_declared(
        spark, root, monkeypatch, feed):
    """A pulled feed declares what the puller counted as it received the pages (API) or the
    rows (JDBC extract), independently of Spark: a row lost on its way to bronze fails both
    the delivered and the declared check, with the puller's count as the declared one."""
    fc = contracts.feed(feed)
    calm = IssueRates(api_throttle=0.0, api_unavailable=0.0)  # no waits for retries
    monkeypatch.delenv("LAKEHOUSE_NHIA_BASE_URL", raising=False)  # the bundled simulator
    with clean_schema(monkeypatch) as pg:
        report = generate(Path(root), feeds=[feed], persons=200, seed=23, days=1, rates=calm)
        if feed == "bli.benefit_payments":
            ((n,),) = pg.rows("SELECT count(*) FROM benefit_payments")
        else:
            (source,) = report.feeds[feed].files
            n = source.rows
        assert n > 0
        ctx = pg.context(spark, root)
        monkeypatch.setenv("LAKEHOUSE_FAULT", f"lose:bronze/{feed}")
        results = run_feed(ctx, fc)
        monkeypatch.delenv("LAKEHOUSE_FAULT")
    (delivery,) = ctx.records.read("deliveries").collect()
    assert (delivery["status"], delivery["records"]) == ("landed", n)
    (b,) = ctx.records.read("batches").where(F.col("stage") == "bronze").collect()
    why = (f"reconciliation failed: {CHECK_BRONZE} ({n - 1} != {n}); "
           f"{CHECK_DECLARED} ({n - 1} != {n})")
    assert (b["batch_id"], b["status"], b["reason"], b["rows_in"], b["rows_out"]) == (
        delivery["batch_id"], "failed", why, n, n - 1)
    assert [p.reason for r in results for p in r.problems] == [why]
    declared = ctx.records.read("reconciliation").where(F.col("check") == CHECK_DECLARED)
    assert [(c["expected"], c["actual"], c["holds"]) for c in declared.collect()] == [
        (n, n - 1, False)]
    assert not ctx.storage.exists("silver", feed)


@pytest.mark.parametrize("feed", ["moi.household_registry", "bli.benefit_payments"])
def test_a_landing_copy_cut_short_is_not_landed_and_lands_on_the_next_run(
        spark, root, monkeypatch, feed):
    """The landed-bytes check: a landing copy one byte short (``cut:landing``) is removed, the
    delivery recorded as ``failed`` with both sizes, nothing reaches bronze; the next run lands
    it whole (the file was left in the inbox; the pull's watermark did not move)."""
    fc = contracts.feed(feed)
    with clean_schema(monkeypatch) as pg:
        report = generate(Path(root), feeds=[feed], persons=60, seed=24, days=1,
                          rates=IssueRates(api_throttle=0.0, api_unavailable=0.0))
        if fc.delivery.is_pull:
            ((rows,),) = pg.rows("SELECT count(*) FROM benefit_payments")
        else:
            (source,) = report.feeds[feed].files
            rows = source.rows
        ctx = pg.context(spark, root)
        monkeypatch.setenv("LAKEHOUSE_FAULT", "cut:landing")
        first = run_feed(ctx, fc)
        monkeypatch.delenv("LAKEHOUSE_FAULT")
        (failed,) = ctx.records.read("deliveries").collect()
        size = int(failed["bytes"])
        (check,) = ctx.records.read("reconciliation").collect()
        assert (check["check"], check["expected"], check["actual"], check["holds"]) == (
            CHECK_LANDED, size, size - 1, False)
        what = ("the landed pull holds {} bytes, the pull {}: removed; pulled again next run"
                if fc.delivery.is_pull else
                "the landing copy holds {} bytes, the delivery {}: removed; the file stays in "
                "the inbox and lands on the next run").format(size - 1, size)
        assert (failed["status"], failed["reason"]) == ("failed", what)
        assert [p.reason for r in first for p in r.problems] == [what]
        assert ctx.storage.list_dirs(ctx.layout.landing(feed)) == (
            ["_pulling"] if fc.delivery.is_pull else [])
        assert not ctx.storage.exists("bronze", feed)
        again = pg.context(spark, root, run_id="test-run-2")
        second = run_feed(again, fc)
    assert [p.reason for r in second for p in r.problems] == []
    (landed,) = again.records.read("deliveries").where(F.col("status") == "landed").collect()
    assert (landed["bytes"], landed["batch_id"]) == (size, failed["batch_id"])
    assert again.storage.read("bronze", feed).count() == rows
