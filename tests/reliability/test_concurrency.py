"""Concurrency between real processes: while one run holds a feed, a second ``lakehouse run`` of
the same feed refuses with one clear line and writes nothing; a run of another feed goes ahead
at the same time. (Waiting, and taking over the lock of a dead run, are in
``tests/kernel/test_locks.py``.)"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kernel import contracts
from kernel.config import REPO_ROOT
from kernel.context import Context
from kernel.locks import lock
from sandbox.generate import generate

HOUSEHOLD = contracts.feed("moi.household_registry")
FARMERS = contracts.feed("moa.farmer_registry")


def _run(root: str, feed: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LAKEHOUSE_FAULT"}
    env.update({"LAKEHOUSE_ROOT": root, "LAKEHOUSE_SHUFFLE_PARTITIONS": "1",
                "LAKEHOUSE_LOCK_WAIT_SECONDS": "0", "PYTHONPATH": str(REPO_ROOT)})
    return subprocess.run([sys.executable, "-m", "cli.main", "run", feed], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=600, check=False)


def test_a_second_run_of_a_busy_feed_refuses_while_another_feed_runs(
        ctx: Context, root: str) -> None:
    generate(Path(root), feeds=[HOUSEHOLD.name, FARMERS.name], persons=40, seed=21, days=1)
    inbox = Path(root) / "inbox" / HOUSEHOLD.delivery.inbox
    delivered = sorted(p.name for p in inbox.iterdir())
    with lock(ctx, HOUSEHOLD.name), ThreadPoolExecutor(2) as pool:
        busy = pool.submit(_run, root, HOUSEHOLD.name)
        other = pool.submit(_run, root, FARMERS.name)
        busy_done, other_done = busy.result(), other.result()

    # The busy feed: refused in one line naming the holder, nothing landed or written.
    assert busy_done.returncode == 1, busy_done.stderr
    lines = [line for line in busy_done.stderr.splitlines() if line.startswith("✗")]
    assert len(lines) == 1, busy_done.stderr
    assert "moi.household_registry is being processed by run test-run" in lines[0]
    assert f"pid {os.getpid()}" in lines[0] and "Traceback" not in busy_done.stderr
    assert sorted(p.name for p in inbox.iterdir()) == delivered
    assert not (Path(root) / "landing" / HOUSEHOLD.name).exists()
    assert not ctx.storage.exists("bronze", HOUSEHOLD.name)

    # The other feed ran to the end at the same time.
    assert other_done.returncode == 0, other_done.stderr
    assert ctx.storage.read("silver", FARMERS.name).count() > 0

    # Once the holder is done, the feed runs normally.
    again = _run(root, HOUSEHOLD.name)
    assert again.returncode == 0, again.stderr
    assert ctx.storage.read("silver", HOUSEHOLD.name).count() > 0
