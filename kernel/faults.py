"""Fault injection for the crash-safety tests: kill this process at a named point (or lose a
row on its way into a table).

``LAKEHOUSE_FAULT=<point>`` makes the job process kill itself (``SIGKILL``: no ``finally``,
no clean-up, exactly like the kernel's OOM killer or a pulled plug) when it reaches that point.
Unset, as in production, every call here is a dictionary lookup and nothing else.

Points are of three kinds:

* **step points**, named ``<stage>.<step>`` (:data:`POINTS`), between two writes of a stage
  or at a stage boundary (``<stage>.done``: the stage finished, its lineage COMPLETE not sent);
* **mid-write points**, named ``write:<zone>/<table>``: the process dies while Delta writes the
  table, once the first new data file exists and before the commit that would make it visible
  (local storage roots only: the data files are watched on the local file system);
* **loss points**, named ``lose:<zone>/<table>``: nobody dies, but every append or overwrite of
  that table loses one row on the way (:func:`lossy`), for the tests that prove the
  reconciliation notices a record lost between two zones;
* **pause points**, named ``pause:<step point>``: nobody dies, the process waits at that step
  point (inside the stage, holding the feed's lock) until the test releases it (:func:`pause`),
  for the tests of two real processes at once;
* ``cut:landing``: a file drop's landing copy loses its last byte (:func:`cut`);
* ``vanish:pulled``: nobody dies, but a pull's folder is removed right after the puller wrote
  it, before it is digested and landed, as an outside clean-up would remove it (:func:`vanish`).

The audit log, below the kernel, has its own point: ``LAKEHOUSE_FAULT=audit.torn`` makes an
audit append write half its line and kill the process (:mod:`audit.log`).

A kill takes the whole job down at once: the Spark JVM first, then this process. Killing only
the Python driver would leave the JVM running until it noticed, long enough to finish a commit.

A mid-write kill is deterministic for appends and overwrites: :func:`held` puts a brake on the
rows being written (a Python UDF that waits in the write task, after the task has opened its
data file), so the write cannot reach its commit before the watcher of :func:`writing` has seen
the file and killed the job. A MERGE's source is evaluated before its files are written, so a
brake there would hold the wrong step: MERGEs rely on the watcher alone, whose 5 ms polls are
far shorter than a MERGE's write and commit.

The tests in ``tests/reliability/test_crash_safety.py`` kill a real ``lakehouse`` process at
each point and check that readers still see the last complete version and that a plain re-run
ends exactly where an uninterrupted run does.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from kernel.layout import local_path

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

ENV = "LAKEHOUSE_FAULT"
RELEASE_ENV = "LAKEHOUSE_FAULT_RELEASE"

# How long a brake holds a write task (the watcher kills the job long before), and how often
# the watcher looks for the write's data files.
HOLD_SECONDS = 300.0
POLL_SECONDS = 0.005

POINTS: dict[str, str] = {
    "land.copied": "a delivery copied into landing, its manifest not written yet",
    "land.refused": "a refused file kept with its refusal note, still in the inbox",
    "land.duplicate": "a resent file's duplicate note written, the file still in the inbox",
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


def _jvm_pid() -> int | None:
    """The pid of the Spark JVM this process started, if it started one (pyspark keeps the
    gateway's ``Popen``); read from the loaded module only, never importing pyspark."""
    pyspark = sys.modules.get("pyspark")
    gateway = getattr(getattr(pyspark, "SparkContext", None), "_gateway", None)
    proc = getattr(gateway, "proc", None)
    return getattr(proc, "pid", None)


def kill() -> None:
    """Die now, the hard way (``SIGKILL``), the Spark JVM first: nothing after this runs, and
    the JVM cannot go on to finish a commit the driver had started."""
    jvm = _jvm_pid()
    if jvm is not None:
        with suppress(ProcessLookupError):
            os.kill(jvm, signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)


def point(name: str) -> None:
    """A step point: die here if ``LAKEHOUSE_FAULT`` names it; wait here if it names
    ``pause:<point>`` (:func:`pause`)."""
    if name not in POINTS:
        raise ValueError(f"unknown fault point {name!r}")
    if armed() == name:
        kill()
    elif armed() == f"pause:{name}":
        pause()


def pause() -> None:
    """Stay here (holding whatever the process holds, its locks included) until the file
    ``LAKEHOUSE_FAULT_RELEASE`` names exists, at most :data:`HOLD_SECONDS`; ``<that file>.paused``
    is created on arrival, so a test knows the process has got here."""
    release = Path(os.environ[RELEASE_ENV])
    Path(f"{release}.paused").touch()
    deadline = time.monotonic() + HOLD_SECONDS
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def _data_files(folder: Path) -> set[str]:
    if not folder.exists():
        return set()
    return {
        str(p) for p in folder.rglob("*.parquet")
        if "_delta_log" not in p.parts
    }


def vanish(folder: str) -> None:
    """Remove a pull's folder (local storage roots only) when ``LAKEHOUSE_FAULT`` is
    ``vanish:pulled``: the files the puller wrote are gone before the land stage digests them."""
    local = local_path(folder)
    if armed() != "vanish:pulled" or local is None:
        return
    import shutil

    shutil.rmtree(local, ignore_errors=True)


def cut(path: str) -> None:
    """Cut the last byte off a landed copy (local storage roots only) when ``LAKEHOUSE_FAULT``
    is ``cut:landing``: a copy cut short, for the test that proves the land stage sees it."""
    local = local_path(path)
    if armed() != "cut:landing" or local is None or not local.is_file():
        return
    with local.open("r+b") as f:
        f.truncate(max(0, local.stat().st_size - 1))


def lossy(df: DataFrame, zone: str, table: str) -> DataFrame:
    """``df`` less one row when ``LAKEHOUSE_FAULT`` is ``lose:<zone>/<table>`` (else ``df``
    itself): a record lost on its way into the table, as a faulty job or connector would lose
    it, for the tests that prove the reconciliation sees it. The row lost is the one with the
    lowest ``_source_row`` (any one row when the frame has no such column)."""
    if armed() != f"lose:{zone}/{table}":
        return df
    if "_source_row" not in df.columns:
        return df.exceptAll(df.limit(1))
    from pyspark.sql import functions as F

    first = df.agg(F.min("_source_row")).first()
    return df if first is None or first[0] is None else df.where(
        F.col("_source_row") != first[0])


def held(df: DataFrame, zone: str, table: str) -> DataFrame:
    """``df`` with a brake on its rows when ``LAKEHOUSE_FAULT`` is ``write:<zone>/<table>``
    (else ``df`` itself): a non-deterministic Python UDF filter that waits in the write task,
    which has opened its data file by then, until the watcher of :func:`writing` kills the job.
    Spark keeps a non-deterministic filter where it is, on top of the plan, in the write stage.
    """
    if armed() != f"write:{zone}/{table}":
        return df
    from pyspark.sql import functions as F
    from pyspark.sql.types import BooleanType

    deadline = time.time() + HOLD_SECONDS

    def hold() -> bool:  # runs in a Python worker: pickled by value, no project import
        import time as clock

        clock.sleep(max(0.0, deadline - clock.time()))
        return True

    return df.where(F.udf(hold, BooleanType()).asNondeterministic()())


@contextmanager
def writing(zone: str, table: str, path: str) -> Iterator[None]:
    """Around a Delta write of ``<zone>/<table>`` at ``path``: when ``LAKEHOUSE_FAULT`` is
    ``write:<zone>/<table>``, a watcher kills the process as soon as the write's first new
    data file appears (before Delta commits it; :func:`held` makes sure of it for appends and
    overwrites)."""
    local = local_path(path)
    if armed() != f"write:{zone}/{table}" or local is None:
        yield
        return
    before = _data_files(local)
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if _data_files(local) - before:
                kill()
            time.sleep(POLL_SECONDS)

    watcher = threading.Thread(target=watch, name="fault-watcher", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
    # The write committed before the watcher saw a new data file (a write of no rows): die
    # right after it, so an armed write never passes unnoticed.
    kill()
