"""Concurrency between real processes: while one ``lakehouse run`` holds a feed (paused inside
its land stage, ``LAKEHOUSE_FAULT=pause:land.copied``), a second ``lakehouse run`` of the same
feed refuses with one line naming the holder and writes nothing; a run of another feed goes
ahead at the same time and accounts for every record; released, the holder finishes its run.
(Waiting, and taking over the lock of a dead run, are in ``tests/kernel/test_locks.py``.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pyspark.sql import functions as F

from kernel import contracts, faults
from kernel.config import REPO_ROOT
from kernel.context import Context
from sandbox.generate import generate

HOUSEHOLD = contracts.feed("moi.household_registry")
FARMERS = contracts.feed("moa.farmer_registry")


def _env(root: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (faults.ENV, faults.RELEASE_ENV)}
    env.update({"LAKEHOUSE_ROOT": root, "LAKEHOUSE_SHUFFLE_PARTITIONS": "1",
                "LAKEHOUSE_LOCK_WAIT_SECONDS": "0", "PYTHONPATH": str(REPO_ROOT), **extra})
    return env


def _run(root: str, feed: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli.main", "run", feed], cwd=REPO_ROOT,
                          env=_env(root), capture_output=True, text=True, timeout=600,
                          check=False)


def _tree(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(folder)), p.stat().st_size)
                  for p in folder.rglob("*") if p.is_file())


def _accounted(ctx: Context, feed: str, delivered: int) -> None:
    """The feed's one batch went through silver whole: every delivered record is in silver,
    in quarantine or a counted duplicate, and the events table holds the silver rows."""
    (b,) = ctx.records.read("batches").where(
        (F.col("feed") == feed) & (F.col("stage") == "silver")).collect()
    assert (b["status"], b["rows_in"]) == ("ok", delivered)
    assert b["rows_in"] == b["rows_out"] + b["duplicates"] + b["quarantined"]
    assert ctx.storage.read("silver", feed).count() == b["rows_out"] > 0


def test_a_second_run_of_a_busy_feed_refuses_while_another_feed_runs(
        ctx: Context, root: str, tmp_path: Path) -> None:
    report = generate(Path(root), feeds=[HOUSEHOLD.name, FARMERS.name], persons=40, seed=21,
                      days=1)
    release, log = tmp_path / "release", tmp_path / "holder.log"
    with log.open("w") as sink:  # a file, not a pipe: a paused holder never blocks on output
        holder = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "run", HOUSEHOLD.name], cwd=REPO_ROOT,
            env=_env(root, **{faults.ENV: "pause:land.copied",
                              faults.RELEASE_ENV: str(release)}),
            stdout=sink, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 300
        while not Path(f"{release}.paused").exists():
            assert holder.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        lock = json.loads((Path(root) / "system" / "locks" / f"{HOUSEHOLD.name}.lock")
                          .read_text(encoding="utf-8"))
        assert lock["pid"] == holder.pid
        mine = (Path(root) / "inbox" / HOUSEHOLD.delivery.inbox,
                Path(root) / "landing" / HOUSEHOLD.name, Path(root) / "system" / "locks")
        before = [_tree(folder) for folder in mine]
        with ThreadPoolExecutor(2) as pool:
            busy = pool.submit(_run, root, HOUSEHOLD.name)
            other = pool.submit(_run, root, FARMERS.name)
            busy_done, other_done = busy.result(), other.result()
        after = [_tree(folder) for folder in mine]
    finally:
        release.touch()
    holder.wait(timeout=600)

    # The busy feed: refused in one line naming the holding process, nothing written.
    assert busy_done.returncode == 1, busy_done.stderr
    lines = [line for line in busy_done.stderr.splitlines() if line.startswith("✗")]
    assert len(lines) == 1 and "Traceback" not in busy_done.stderr, busy_done.stderr
    assert (f"moi.household_registry is being processed by run {lock['run_id']} "
            f"(pid {holder.pid} on {lock['host']}, since {lock['since']})") in lines[0]
    assert after == before  # the holder's inbox, landing and lock as they were
    # The other feed ran to the end at the same time, every record accounted for.
    assert other_done.returncode == 0, other_done.stderr
    _accounted(ctx, FARMERS.name, report.feeds[FARMERS.name].rows)
    # Released, the holder finished the run it had started.
    assert holder.returncode == 0, log.read_text()[-3000:]
    _accounted(ctx, HOUSEHOLD.name, report.feeds[HOUSEHOLD.name].rows)
    assert not (Path(root) / "system" / "locks" / f"{HOUSEHOLD.name}.lock").exists()
