"""One writer per feed (and per dataset) at a time.

A run takes the lock ``<root>/system/locks/<name>.lock`` before it writes: a small file
created only if absent (atomic), holding who holds it (run id, host, process, since when).
A second run of the same feed waits up to ``LAKEHOUSE_LOCK_WAIT_SECONDS`` (default 0) and then
refuses with a message naming the holder; runs of different feeds never wait for each other.
A lock left by a crashed run is taken over when its process is gone (same host) or it is older
than ``LAKEHOUSE_LOCK_STALE_HOURS`` (default 6); the takeover goes to the audit log.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kernel.context import Context


class LockBusy(RuntimeError):
    """Another run holds the lock: the message says which one, since when."""


def _path(ctx: Context, name: str) -> str:
    return ctx.layout.lock(name)


def _holder(ctx: Context, path: str) -> dict[str, Any] | None:
    try:
        return dict(json.loads(ctx.storage.read_bytes(path, 4096).decode("utf-8")))
    except Exception:  # gone meanwhile, or half-written: treat as unknown holder
        return None


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


@contextmanager
def lock(ctx: Context, name: str) -> Iterator[None]:
    """Hold the lock of ``name`` (a feed or dataset) for the duration of the block."""
    path = _path(ctx, name)
    wait = float(ctx.settings.get("LAKEHOUSE_LOCK_WAIT_SECONDS", "0") or 0)
    stale_hours = float(ctx.settings.get("LAKEHOUSE_LOCK_STALE_HOURS", "6") or 6)
    me = {"name": name, "run_id": ctx.run_id, "host": socket.gethostname(), "pid": os.getpid(),
          "since": datetime.now(UTC).isoformat(timespec="seconds"), "since_epoch": time.time()}
    data = json.dumps(me).encode("utf-8")
    deadline = time.monotonic() + wait
    while not ctx.storage.create_exclusive(path, data):
        holder = _holder(ctx, path)
        if holder is not None and holder.get("run_id") == ctx.run_id \
                and holder.get("pid") == os.getpid():
            raise LockBusy(f"{name}: this run already holds the lock (nested stage)")
        if _stale(holder, stale_hours):
            ctx.storage.delete(path)
            ctx.audit("lock_takeover", {"name": name, "stale_holder": holder})
            continue
        if time.monotonic() >= deadline:
            who = (f"run {holder.get('run_id')} (pid {holder.get('pid')} on "
                   f"{holder.get('host')}, since {holder.get('since')})") if holder else \
                "another run"
            raise LockBusy(f"{name} is being processed by {who}; not started, to avoid two "
                           "writers. Try again when it has finished.")
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    try:
        yield
    finally:
        ctx.storage.delete(path)
