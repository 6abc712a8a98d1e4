"""The run records: one append is one commit, made under the table's lock, so that two drivers
appending to one system table never commit at once (Delta on ``s3a://`` does not survive that)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from kernel.context import Context
from kernel.records import Records
from tests.s3 import s3a_jars, versitygw

REPO = Path(__file__).resolve().parents[2]
APPENDS = 6
"""Appends per racing process."""


def _batch(who: str, n: int) -> dict[str, object]:
    return {"feed": who, "batch_id": f"{who}-{n}", "stage": "test", "status": "ok",
            "run_id": who, "at": datetime(2024, 11, 5, 8, n)}


def _lock(ctx: Context, table: str) -> str:
    return ctx.layout.lock(f"system.{table}")


def test_an_append_waits_for_another_runs_append_to_the_same_table(ctx: Context) -> None:
    from kernel.exclusive import held

    holding, release = threading.Event(), threading.Event()

    def other_run() -> None:
        with held(ctx.storage, _lock(ctx, "batches"), "system.batches", "other", wait=5,
                  stale_hours=1):
            holding.set()
            release.wait(10)

    t = threading.Thread(target=other_run)
    t.start()
    assert holding.wait(10)
    threading.Timer(1.5, release.set).start()
    began = time.monotonic()
    ctx.records.append("batches", [_batch("a", 1)])
    waited = time.monotonic() - began
    t.join()
    assert waited >= 1.0
    assert [r["batch_id"] for r in ctx.records.read("batches").collect()] == ["a-1"]
    assert not ctx.storage.file_exists(_lock(ctx, "batches"))


def test_every_table_written_by_deltalake_reads_in_spark_with_its_schema(ctx: Context) -> None:
    """The appends are delta-rs commits; Spark reads them back with the DDL's types, the
    timestamp as the same instant, and the commit carries no value."""
    from kernel.records import SCHEMAS

    samples = {"deliveries": {"file_date": datetime(2024, 11, 5).date(), "bytes": 12},
               "releases": {"source_rows": [3, 4], "corrected_columns": ["name"]},
               "quality_results": {"success": True, "unexpected_count": 2}}
    for table in SCHEMAS:
        ctx.records.append(table, [{"feed": "f", "run_id": "r", "at": datetime(2024, 11, 5, 8, 1),
                                    **samples.get(table, {})}])
        frame = ctx.records.read(table)
        assert frame.schema == ctx.records.frame(table, []).schema, table
        (row,) = frame.collect()
        assert (row.asDict().get("feed", "f"), row["run_id"], row["at"]) == (
            "f", "r", datetime(2024, 11, 5, 8, 1))
        for column, value in samples.get(table, {}).items():
            assert row[column] == value, (table, column)
    assert [c.operation for c in ctx.storage.history("system", "releases")] == ["WRITE"]


def test_a_crashed_appenders_lock_is_taken_over(ctx: Context) -> None:
    crashed = {"name": "system.deliveries", "run_id": "records", "host": socket.gethostname(),
               "pid": 2**22 + 4321, "since": "2024-11-05T00:00:00+00:00",
               "since_epoch": time.time()}
    ctx.storage.write_bytes(_lock(ctx, "deliveries"), json.dumps(crashed).encode())
    ctx.records.append("deliveries", [{"feed": "f", "batch_id": "b", "status": "landed"}])
    assert ctx.records.read("deliveries").count() == 1
    assert not ctx.storage.file_exists(_lock(ctx, "deliveries"))


def test_the_lock_is_released_when_the_commit_fails(
        ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the store refused the commit")

    monkeypatch.setattr(ctx.storage, "append_rows", refused)
    with pytest.raises(RuntimeError, match="refused the commit"):
        ctx.records.append("batches", [_batch("b", 2)])
    assert not ctx.storage.file_exists(_lock(ctx, "batches"))


def appender(who: str, go: str) -> None:
    """One racing driver (run in its own process): a Spark session of its own on the root
    ``LAKEHOUSE_ROOT``, then ``APPENDS`` appends to ``system/batches`` once ``go`` exists."""
    from kernel.config import Settings
    from kernel.spark import session
    from kernel.storage import Storage

    settings = Settings.from_env()
    records = Records(Storage(session(settings, app_name=who, master="local[1]",
                                      shuffle_partitions=1), settings.root))
    records.frame("batches", [_batch(who, 0)]).count()  # the JVM warmed up before the race
    Path(f"{go}.{who}").touch()
    while not Path(go).exists():
        time.sleep(0.05)
    for n in range(APPENDS):
        records.append("batches", [_batch(who, n)])


def test_two_drivers_appending_to_one_table_on_s3_lose_no_commit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes, each with its own Spark driver, append to one system table on an S3
    bucket at the same time: every append is a commit of its own, in one unbroken log."""
    jars = s3a_jars()
    go = str(tmp_path / "go")
    with versitygw(tmp_path / "s3") as s3:
        root = f"s3a://{s3.bucket}/race"
        for key, value in s3.env.items():
            monkeypatch.setenv(key, value)
        env = {**os.environ, **s3.env, "LAKEHOUSE_ROOT": root,
               "LAKEHOUSE_EXTRA_JARS_DIR": str(jars)}
        procs = [subprocess.Popen(
            [sys.executable, "-c",
             f"from tests.kernel.test_records import appender; appender({who!r}, {go!r})"],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for who in ("driver-a", "driver-b")]
        deadline = time.monotonic() + 600
        while not all(Path(f"{go}.{w}").exists() for w in ("driver-a", "driver-b")):
            assert all(p.poll() is None for p in procs) and time.monotonic() < deadline
            time.sleep(0.2)
        Path(go).touch()
        for proc in procs:
            out = proc.communicate(timeout=900)[0]
            assert proc.returncode == 0, out[-3000:]
        from deltalake import DeltaTable

        table = DeltaTable(f"{root}/system/batches")
        rows = sorted(r["batch_id"] for r in table.to_pyarrow_table().to_pylist())
        assert rows == sorted(f"{w}-{n}" for w in ("driver-a", "driver-b")
                              for n in range(APPENDS))
        versions = sorted(int(c["version"]) for c in table.history())
        assert versions == list(range(2 * APPENDS))
        from audit.objects import folder

        assert folder(f"{root}/system/locks").names() == []


def test_a_checkpoint_every_ten_appends_and_spark_reads_every_row(ctx: Context) -> None:
    """delta-rs writes a checkpoint at version 10 (as Spark would), and Spark's reader, which
    starts from it, still sees every appended row."""
    from kernel.storage import CHECKPOINT_INTERVAL

    for n in range(CHECKPOINT_INTERVAL + 1):
        ctx.records.append("batches", [_batch("c", n)])
    log = Path(ctx.storage.layout.delta_uri("system", "batches")) / "_delta_log"
    assert sorted(p.name for p in log.glob("*.checkpoint.parquet")) == \
        [f"{CHECKPOINT_INTERVAL:020d}.checkpoint.parquet"]
    assert ctx.storage.version("system", "batches") == CHECKPOINT_INTERVAL
    assert sorted(r["batch_id"] for r in ctx.records.read("batches").collect()) == \
        sorted(f"c-{n}" for n in range(CHECKPOINT_INTERVAL + 1))


def test_rows_look_up_what_spark_reads(ctx: Context) -> None:
    """The stages' lookups (``rows``, ``latest_rows``) see the rows Spark reads, filtered by
    equality, the timestamp naive UTC as ``ctx.now``; the latest row per key wins, of equal
    times the one written last; an unwritten table has no rows."""
    assert ctx.records.rows("publishes") == []
    ctx.records.append("batches", [_batch("a", 1), {**_batch("a", 2), "status": "failed"}])
    ctx.records.append("batches", [{**_batch("a", 1), "at": datetime(2024, 11, 5, 9, 0),
                                    "status": "refused"}, _batch("b", 3)])
    ctx.records.append("batches", [{**_batch("a", 2), "status": "ok"}])
    spark_rows = sorted((r["batch_id"], r["status"], r["at"]) for r in
                        ctx.records.read("batches").where("feed = 'a'").collect())
    ours = ctx.records.rows("batches", feed="a")
    assert sorted((r["batch_id"], r["status"], r["at"]) for r in ours) == spark_rows
    assert all(r["at"].tzinfo is None for r in ours)
    assert [r["status"] for r in ctx.records.rows("batches", feed="a", batch_id="a-2")] == \
        ["failed", "ok"]
    latest = ctx.records.latest_rows("batches", ["batch_id"], feed="a")
    assert [(r["batch_id"], r["status"]) for r in latest] == [("a-1", "refused"), ("a-2", "ok")]
