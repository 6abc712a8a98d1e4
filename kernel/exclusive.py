"""An exclusive lock file, correct across processes and hosts (the mechanism of
:mod:`kernel.locks` and of the run records' appends, :mod:`kernel.records`).

The lock is a small file created only if absent (:meth:`kernel.storage.Storage.create_exclusive`:
an exclusive create on a local disk, a conditional PUT on an object store), holding who holds it
(run id, host, process, since when), and deleted on the way out.

A stale holder's lock (its process is gone on this host, or it is too old) is taken over by one
waiter only: the taker first creates the marker ``<lock>.takeover-<digest of the stale lock's
bytes>`` exclusively, reads the lock again, deletes it only if it still holds those bytes, and
then deletes the marker. Without that, two waiters that both read the stale lock could each
delete "it", the second deleting the lock the first had just created, and both would hold the
lock. A later waiter that read the stale lock before the takeover may win the marker again once
it is gone, but then finds other bytes (or none) and deletes nothing: the stale lock is deleted
only by the one holding its marker, and its marker is deleted only after it. A taker that dies
between its marker and its delete leaves a marker that is itself stale by the same rule, and it
is removed so that the next waiter can take over.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kernel.storage import Storage


class LockBusy(RuntimeError):
    """Another run holds the lock: the message says which one, since when."""


def _read(storage: Storage, path: str) -> tuple[bytes, dict[str, Any] | None]:
    """The lock file's bytes and its holder (None when it is gone meanwhile or half-written:
    an unknown holder, never stale)."""
    try:
        raw = storage.read_bytes(path, 4096)
        return raw, dict(json.loads(raw.decode("utf-8")))
    except Exception:
        return b"", None


def _stale(holder: dict[str, Any] | None, stale_hours: float) -> bool:
    if holder is None:
        return False
    if holder.get("host") == socket.gethostname():
        try:
            os.kill(int(holder.get("pid", 0)), 0)
        except ProcessLookupError:
            return True
        except (PermissionError, ValueError):
            pass
    since = holder.get("since_epoch")
    return isinstance(since, (int, float)) and time.time() - since > stale_hours * 3600


def _take_over(storage: Storage, path: str, raw: bytes, data: bytes, stale_hours: float) -> bool:
    """Delete the stale lock ``path`` (whose bytes were ``raw``) if this caller wins its
    takeover marker (module docstring); False when another waiter is taking it over."""
    marker = f"{path}.takeover-{hashlib.sha256(raw).hexdigest()[:16]}"
    if not storage.create_exclusive(marker, data):
        if _stale(_read(storage, marker)[1], stale_hours):  # that taker died mid-takeover
            storage.delete(marker)
        return False
    try:
        if _read(storage, path)[0] != raw:  # taken over meanwhile (the marker came and went)
            return False
        storage.delete(path)
        return True
    finally:
        storage.delete(marker)


@contextmanager
def held(storage: Storage, path: str, name: str, run_id: str, *, wait: float,
         stale_hours: float, on_takeover: Callable[[dict[str, Any] | None], None] | None = None,
         same_run_waits: bool = True) -> Iterator[None]:
    """Hold the lock file ``path`` for the block: create it only if absent
    (:meth:`kernel.storage.Storage.create_exclusive`, atomic on a local disk and on an object
    store alike), retry for up to ``wait`` seconds, take over a stale holder's lock (its process
    is gone on this host, or it is older than ``stale_hours``; one waiter only takes it over,
    and ``on_takeover`` is told), and delete it on the way out. With ``same_run_waits`` False, a
    second take by the same run and process is refused at once (a stage nested in itself)
    instead of waiting for itself."""
    me = {"name": name, "run_id": run_id, "host": socket.gethostname(), "pid": os.getpid(),
          "since": datetime.now(UTC).isoformat(timespec="seconds"), "since_epoch": time.time()}
    data = json.dumps(me).encode("utf-8")
    deadline = time.monotonic() + wait
    while not storage.create_exclusive(path, data):
        raw, holder = _read(storage, path)
        if not same_run_waits and holder is not None and holder.get("run_id") == run_id \
                and holder.get("pid") == os.getpid():
            raise LockBusy(f"{name}: this run already holds the lock (nested stage)")
        if _stale(holder, stale_hours) and _take_over(storage, path, raw, data, stale_hours):
            if on_takeover is not None:
                on_takeover(holder)
            continue
        if time.monotonic() >= deadline:
            who = (f"run {holder.get('run_id')} (pid {holder.get('pid')} on "
                   f"{holder.get('host')}, since {holder.get('since')})") if holder else \
                "another run"
            raise LockBusy(f"{name} is being processed by {who}; not started, to avoid two "
                           "writers. Try again when it has finished.")
        time.sleep(min(0.2 if same_run_waits else 1.0, max(0.0, deadline - time.monotonic())))
    try:
        yield
    finally:
        storage.delete(path)
