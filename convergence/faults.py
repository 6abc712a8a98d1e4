"""Fault injection for the crash-safety tests: kill this process at a named point.

``LAKEHOUSE_FAULT=<point>`` makes the job process kill itself (``SIGKILL``: no ``finally``,
no clean-up, exactly like the kernel's OOM killer or a pulled plug) when it reaches that point.
Unset, as in production, every call here is a dictionary lookup and nothing else.

Points are of two kinds:

* **step points**, named ``<stage>.<step>`` (:data:`POINTS`), between two writes of a stage
  or at a stage boundary (``<stage>.done``: the stage finished, its lineage COMPLETE not sent);
* **mid-write points**, named ``write:<zone>/<table>``: the process dies while Delta writes the
  table, once the first new data file exists and before the commit that would make it visible
  (local storage roots only: the data files are watched on the local file system).

The tests in ``tests/reliability/test_crash_safety.py`` kill a real ``lakehouse`` process at
each point and check that readers still see the last complete version and that a plain re-run
ends exactly where an uninterrupted run does.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENV = "LAKEHOUSE_FAULT"

POINTS: dict[str, str] = {
    "land.copied": "a delivery copied into landing, its manifest not written yet",
    "land.moved": "a delivery landed with its manifest and removed from the inbox, not recorded",
    "land.done": "the land stage finished (boundary land → bronze)",
    "bronze.appended": "a batch committed to bronze, its batch record not written",
    "bronze.done": "the bronze stage finished (boundary bronze → silver)",
    "silver.quarantined": "a batch's quarantined rows committed, its silver rows not yet",
    "silver.events": "a batch's events committed to silver, the entity not merged",
    "silver.merged": "the entity merged, the batch record not written",
    "silver.done": "the silver stage finished (boundary silver → publish)",
    "gold.written": "a dataset version committed, its publish record and export not written",
}


def armed() -> str | None:
    """The point this process is to die at, if any."""
    return os.environ.get(ENV) or None


def kill() -> None:
    """Die now, the hard way (``SIGKILL``): nothing after this line runs."""
    os.kill(os.getpid(), signal.SIGKILL)


def point(name: str) -> None:
    """A step point: die here if ``LAKEHOUSE_FAULT`` names it."""
    if name not in POINTS:
        raise ValueError(f"unknown fault point {name!r}")
    if armed() == name:
        kill()


def _local(path: str) -> Path | None:
    """The local folder of a storage path, or None on a remote file system."""
    if path.startswith("file:"):
        return Path("/" + path[len("file:"):].lstrip("/"))
    return None if "://" in path else Path(path)


def _data_files(folder: Path) -> set[str]:
    if not folder.exists():
        return set()
    return {
        str(p) for p in folder.rglob("*.parquet")
        if "_delta_log" not in p.parts
    }


@contextmanager
def writing(zone: str, table: str, path: str) -> Iterator[None]:
    """Around a Delta write of ``<zone>/<table>`` at ``path``: when ``LAKEHOUSE_FAULT`` is
    ``write:<zone>/<table>``, a watcher kills the process as soon as the write's first new
    data file appears (before Delta commits it)."""
    local = _local(path)
    if armed() != f"write:{zone}/{table}" or local is None:
        yield
        return
    before = _data_files(local)
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if _data_files(local) - before:
                kill()
            time.sleep(0.001)

    watcher = threading.Thread(target=watch, name="fault-watcher", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
    # The write committed before the watcher saw a new data file (a write of no rows): die
    # right after it, so an armed write never passes unnoticed.
    kill()
