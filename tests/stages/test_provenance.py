"""The provenance gate at publish, each case a real run: a change made to a silver input outside
the pipeline is refused naming table, version, operation and rows, until a steward accepts it."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from audit.log import entries
from jobs import residents_coverage
from kernel import contracts
from kernel.layout import Layout
from sandbox.generate import generate
from stages.feed import run_feed
from stages.provenance import AcceptError, accept_change
from stages.publish import publish

FEED = contracts.feed("moi.household_registry")
KEY = "provenance-test-key-0123456789-abcdefghij"
SNAPSHOT = dt.date(2024, 12, 1)


def _hint(table: str, version: int, zone: str = "silver") -> str:
    return (f"; review it and accept it (lakehouse accept-change {zone}/{table} {version} "
            "--reason …) or undo it")


def _refused(ctx, reason: str):  # type: ignore[no-untyped-def]
    """Publish again: refused for ``reason`` alone, the published version left as it was."""
    res = publish(ctx, residents_coverage.contract(), SNAPSHOT)
    assert res.status == "refused"
    assert [p.reason for p in res.problems] == [reason]
    assert ctx.storage.version("gold", "person_coverage") == 0
    return res


@pytest.fixture(scope="module")
def template(spark, tmp_path_factory):  # type: ignore[no-untyped-def]
    """One feed run and its first publish (version 0), made once: each test works on a copy."""
    import os

    from kernel.config import Settings
    from kernel.context import Context
    from kernel.records import Records
    from kernel.storage import Storage

    folder = tmp_path_factory.mktemp("provenance") / "lakehouse"
    folder.mkdir()
    storage = Storage(spark, str(folder))
    ctx = Context(settings=Settings.from_env({**os.environ, "LAKEHOUSE_ROOT": str(folder)}),
                  storage=storage, records=Records(storage), run_id="template-run",
                  now=dt.datetime(2024, 11, 5, 8, 0), actor="steward:test")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAKEHOUSE_PSEUDONYM_KEY", KEY)
        generate(folder, feeds=[FEED.name], persons=30, seed=11, days=1)
        run_feed(ctx, FEED)
        res = publish(ctx, residents_coverage.contract(), SNAPSHOT)
    assert (res.status, res.version) == ("published", 0)
    return folder, res


@pytest.fixture
def published(template, root, monkeypatch):  # type: ignore[no-untyped-def]
    """The template's tables, records and audit log under this test's root (Delta tables and
    the audit log are plain files: a copy is the same lakehouse), and its publish result."""
    folder, res = template
    shutil.copytree(folder, root, dirs_exist_ok=True)
    monkeypatch.setenv("LAKEHOUSE_PSEUDONYM_KEY", KEY)
    return res


def test_a_row_deleted_outside_the_pipeline_is_refused_until_a_steward_accepts_it(
        ctx, root, published, spark):
    entity = ctx.storage.path("silver", FEED.entity)
    victim = ctx.storage.read("silver", FEED.entity).orderBy("national_id").first()["national_id"]
    DeltaTable.forPath(spark, entity).delete(F.col("national_id") == victim)
    version = ctx.storage.version("silver", FEED.entity)

    res = _refused(
        ctx, f"provenance gate: silver/{FEED.entity} version {version} (DELETE) was not "
        "written by the pipeline (no run and batch the run records know): 1 row(s) deleted"
        + _hint(FEED.entity, version))
    assert victim not in json.dumps(res.as_dict())

    commit = accept_change(ctx, "silver", FEED.entity, version,
                           "reviewed: a duplicate person removed")
    assert (commit.version, commit.operation) == (version, "DELETE")
    with pytest.raises(AcceptError, match="already accepted"):
        accept_change(ctx, "silver", FEED.entity, version, "again")
    again = publish(ctx, residents_coverage.contract(), SNAPSHOT)
    assert (again.status, again.version, again.rows) == ("published", 1, published.rows - 1)
    (acc,) = ctx.records.read("acceptances").collect()
    assert (acc["table"], acc["version"], acc["operation"], acc["rows_changed"],
            acc["accepted_by"]) == (FEED.entity, version, "DELETE", "1 row(s) deleted",
                                    "steward:test")
    audited = [e.details for e in entries(Layout(root).audit_dir, action="accept_change")]
    assert [(d["table"], d["version"], d["reason"]) for d in audited] == [
        (FEED.entity, version, "reviewed: a duplicate person removed")]


def test_an_append_posing_as_a_batch_is_refused_by_its_row_count(ctx, published):
    (write,) = [c for c in ctx.storage.history("silver", FEED.name) if c.operation == "WRITE"]
    batch = write.metadata["batch_id"]
    recorded = int(write.metrics["numOutputRows"])
    forged = ctx.storage.read("silver", FEED.name).limit(2)
    ctx.storage.append(forged, "silver", FEED.name, dict(write.metadata))
    version = ctx.storage.version("silver", FEED.name)

    _refused(ctx, f"provenance gate: silver/{FEED.name} version {version} (WRITE) wrote 2 "
             f"row(s) for batch {batch}; its silver record says {recorded:,} "
             f"({2 - recorded:+,} rows)" + _hint(FEED.name, version))
    with pytest.raises(AcceptError, match="has no version 99"):
        accept_change(ctx, "silver", FEED.name, 99, "no such version")


def test_a_row_updated_in_bronze_outside_the_pipeline_is_refused(ctx, published, spark):
    bronze = DeltaTable.forPath(spark, ctx.storage.path("bronze", FEED.name))
    bronze.update(F.col("_source_row") == 1, {"sex": F.lit("9")})
    version = ctx.storage.version("bronze", FEED.name)

    _refused(ctx, f"provenance gate: bronze/{FEED.name} version {version} (UPDATE) was not "
             "written by the pipeline (no run and batch the run records know): 1 row(s) "
             "updated" + _hint(FEED.name, version, "bronze"))


def test_maintenance_and_the_pipelines_own_versions_pass(ctx, published, spark):
    # Z-ordering rewrites the table's files even when there is only one to compact.
    DeltaTable.forPath(spark, ctx.storage.path("silver", FEED.entity)).optimize() \
        .executeZOrderBy("national_id")
    assert ctx.storage.history("silver", FEED.entity)[-1].operation == "OPTIMIZE"
    res = publish(ctx, residents_coverage.contract(), SNAPSHOT)
    # The entity's version moved: a new gold version of the same rows, nothing refused.
    assert (res.status, res.version, res.rows, res.problems) == (
        "published", 1, published.rows, [])
    own = ctx.storage.history("silver", FEED.name)[0].version
    with pytest.raises(AcceptError, match="written by the pipeline: nothing to accept"):
        accept_change(ctx, "silver", FEED.name, own, "nothing to accept")
    with pytest.raises(AcceptError, match="not a feed's bronze or silver table"):
        accept_change(ctx, "silver", "nope.table", 0, "unknown")


def test_accept_change_is_a_stewards_command_refused_before_spark(monkeypatch, capsys):
    from cli.main import main

    monkeypatch.setenv("LAKEHOUSE_ROLE", "analyst")
    assert main(["accept-change", "silver/moi.residents", "3", "--reason", "x"]) == 2
    assert "role analyst may not accept changes to silver/moi.residents" in \
        capsys.readouterr().err
    monkeypatch.setenv("LAKEHOUSE_ROLE", "steward")
    assert main(["accept-change", "gold/person_coverage", "3", "--reason", "x"]) == 2
    assert "name a feed's table as bronze/<feed> or silver/<table>" in capsys.readouterr().err


def test_a_publish_before_any_silver_data_is_refused_recorded_and_audited(ctx, monkeypatch):
    """Nothing has reached silver: the publish is refused naming the missing inputs, and the
    refusal is a publish record and a gate_failure audit entry like every other refusal."""
    monkeypatch.setenv("LAKEHOUSE_PSEUDONYM_KEY", KEY)
    dc = residents_coverage.contract()
    res = publish(ctx, dc, SNAPSHOT)
    reason = f"no silver data yet for {', '.join(dc.inputs)}"
    assert (res.status, [p.reason for p in res.problems]) == ("refused", [reason])
    records = [r.asDict() for r in ctx.records.read("publishes").collect()]
    assert [(r["dataset"], r["status"], r["reason"], r["version"]) for r in records] == [
        (dc.name, "refused", reason, None)]
    audited = [e.details for e in entries(Layout(ctx.settings.root).audit_dir,
                                          action="gate_failure")]
    assert [(d["dataset"], d["status"], d["reasons"]) for d in audited] == [
        (dc.name, "refused", [reason])]
