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
from quality.ids import CHECK_BRONZE, CHECK_SILVER
from sandbox.generate import generate
from sandbox.generate.issues import IssueRates
from stages.feed import run_feed
from stages.publish import publish

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


def test_a_row_lost_on_its_way_to_bronze_fails_the_bronze_check(ctx, delivered, monkeypatch):
    monkeypatch.setenv("LAKEHOUSE_FAULT", f"lose:bronze/{FEED.name}")
    results = run_feed(ctx, FEED)
    monkeypatch.delenv("LAKEHOUSE_FAULT")
    b = _batch(ctx, "bronze")
    assert _in(ctx, "bronze", b["batch_id"]) == delivered - 1
    why = f"reconciliation failed: {CHECK_BRONZE} ({delivered - 1} != {delivered})"
    assert (b["status"], b["reason"], b["rows_in"], b["rows_out"]) == (
        "failed", why, delivered, delivered - 1)
    assert [p.reason for r in results for p in r.problems] == [why]
    # Nothing of a failed batch goes on to silver.
    assert not ctx.records.read("batches").where(F.col("stage") == "silver").count()
    assert not ctx.storage.exists("silver", FEED.name)
