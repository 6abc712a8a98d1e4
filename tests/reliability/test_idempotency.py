"""Idempotency, zone by zone: a task run again with the same inputs leaves every table as the
first run left it (same rows, same row count), whether it finds its work recorded as done (an
Airflow retry or a cleared task) or not (its records lost, the writes guarded by the batch).

The DAG-level counterpart (every DAG of the six feeds and four datasets run twice through
Airflow) is in ``tests/test_end_to_end.py``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobs import residents_coverage
from kernel import contracts
from kernel.context import Context
from sandbox.generate import IssueRates, generate
from stages.feed import run_feed, run_stage
from stages.publish import publish

FEED = contracts.feed("moi.household_registry")
KEY = "idempotency-test-key-0123456789-abcdefgh"
SNAPSHOT = dt.date(2024, 11, 3)
ZONES = (("bronze", FEED.name), ("quarantine", FEED.name), ("silver", FEED.name),
         ("silver", FEED.entity), ("gold", "person_coverage"))


def _again(ctx: Context, run_id: str) -> Context:
    return dataclasses.replace(ctx, run_id=run_id, now=ctx.now + dt.timedelta(hours=1))


def _snapshot(ctx: Context) -> dict[str, Any]:
    st = ctx.storage
    landing = Path(st.root) / "landing" / FEED.name
    return {
        "landing": sorted(str(p.relative_to(landing)) for p in landing.rglob("*") if p.is_file()),
        **{f"{z}/{n}": (st.version(z, n), st.read(z, n).count()) for z, n in ZONES},
        "landed": ctx.records.read("deliveries").where("status = 'landed'").count(),
    }


def _frames(ctx: Context) -> dict[str, Any]:
    return {f"{z}/{n}": ctx.storage.read(z, n) for z, n in ZONES}


@pytest.fixture
def done(ctx: Context, root: str, monkeypatch: pytest.MonkeyPatch) -> Context:
    """Two days of the household registry (with records to quarantine and duplicates) landed,
    ingested and published."""
    monkeypatch.setenv("LAKEHOUSE_PSEUDONYM_KEY", KEY)
    rates = IssueRates(invalid_check_digit=0.04, duplicate_within=0.03, duplicate_across=0.03)
    generate(Path(root), feeds=[FEED.name], persons=60, seed=11, days=2, rates=rates)
    stages = run_feed(ctx, FEED)
    assert [s.batches for s in stages] == [2, 2, 2]
    assert stages[2].counts["quarantined"] and stages[2].counts["duplicates"]
    res = publish(ctx, residents_coverage.contract(), SNAPSHOT)
    assert res.status == "published", res.problems
    return ctx


def _cached(ctx: Context) -> dict[str, Any]:
    """The tables' content now, materialised (a later write must not change what we compare)."""
    return {k: ctx.storage.spark.createDataFrame(v.collect(), v.schema)
            for k, v in _frames(ctx).items()}


def test_every_stage_run_again_changes_nothing(done: Context) -> None:
    """A retry or a cleared task: land, bronze, silver and publish run again with a new run
    id; no table gets a new version or a new row."""
    before, content = _snapshot(done), _cached(done)
    again = _again(done, "retry-run")
    stages = run_feed(again, FEED)
    assert [s.batches for s in stages] == [0, 0, 0] and not any(s.rows for s in stages)
    res = publish(again, residents_coverage.contract(), SNAPSHOT)
    assert res.status == "up_to_date"
    assert _snapshot(done) == before
    for name, frame in _frames(done).items():
        assertDataFrameEqual(frame, content[name])


def test_a_resent_delivery_is_a_duplicate_and_changes_no_table(done: Context,
                                                                root: str) -> None:
    """Landing: the agency sends the same two files again."""
    before = _snapshot(done)
    rates = IssueRates(invalid_check_digit=0.04, duplicate_within=0.03, duplicate_across=0.03)
    generate(Path(root), feeds=[FEED.name], persons=60, seed=11, days=2, rates=rates)
    stages = run_feed(_again(done, "resend-run"), FEED)
    assert stages[0].counts == {"duplicate_files": 2}
    after = _snapshot(done)
    notes = sorted(f"_duplicates/resend-run/{Path(name).name}.duplicate.json"
                   for name in before["landing"] if name.endswith(".csv"))
    assert len(notes) == 2  # each resend noted (kept for recovery), nothing else landed
    assert after == {**before, "landing": sorted(before["landing"] + notes)}
    dup = done.records.read("deliveries").where("status = 'duplicate'")
    assert dup.count() == 2 and dup.where(F.col("reason").startswith("resent")).count() == 2


def _forget(ctx: Context, stage: str) -> None:
    """Lose the run records of a stage (as if the run died before writing them)."""
    DeltaTable.forPath(ctx.storage.spark, ctx.storage.path("system", "batches")).delete(
        (F.col("feed") == FEED.name) & (F.col("stage") == stage))


@pytest.mark.parametrize("stage", ["bronze", "silver"])
def test_a_stage_redoing_a_batch_writes_it_once(done: Context, stage: str) -> None:
    """Bronze, quarantine and silver: the stage's records are lost, so it processes both
    batches again; the writes are guarded by the batch id (and the entity MERGE is keyed), so
    every table keeps the same rows and row count."""
    content = _cached(done)
    counts = {k: v.count() for k, v in content.items()}
    versions = {f"{z}/{n}": done.storage.version(z, n) for z, n in ZONES}
    _forget(done, stage)
    again = _again(done, f"redo-{stage}")
    res = run_stage(again, FEED, stage)
    assert res.batches == 2 and not res.problems
    for name, frame in _frames(done).items():
        assert frame.count() == counts[name], name
        assertDataFrameEqual(frame, content[name])
    # The writes were skipped: every table kept its version.
    assert {f"{z}/{n}": done.storage.version(z, n) for z, n in ZONES} == versions
    redone = done.records.read("batches").where(F.col("run_id") == f"redo-{stage}")
    assert redone.where("status = 'ok'").count() == 2


def test_gold_published_again_by_a_new_run_is_up_to_date(done: Context) -> None:
    """Gold: the same inputs and key give the same version, not a new one."""
    version = done.storage.version("gold", "person_coverage")
    rows = done.storage.read("gold", "person_coverage").count()
    for n in range(2):
        res = publish(_again(done, f"republish-{n}"), residents_coverage.contract(),
                               SNAPSHOT)
        assert (res.status, res.version, res.rows) == ("up_to_date", version, rows)
    pubs = done.records.read("publishes").where("status = 'published'")
    assert pubs.count() == 1
