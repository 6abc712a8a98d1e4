"""One writer per feed (and per dataset) at a time.

A run takes the lock ``<root>/system/locks/<name>.lock`` before it writes: a small file
created only if absent (atomic), holding who holds it (run id, host, process, since when).
A second run of the same feed waits up to ``LAKEHOUSE_LOCK_WAIT_SECONDS`` (default 0) and then
refuses with a message naming the holder; runs of different feeds never wait for each other.
A lock left by a crashed run is taken over when its process is gone (same host) or it is older
than ``LAKEHOUSE_LOCK_STALE_HOURS`` (default 6); the takeover goes to the audit log.

The same mechanism (:func:`kernel.exclusive.held`) serialises the appends of different runs to
one shared table: every run appends to the system tables (:mod:`kernel.records`), and Delta on
``s3a://`` (``S3SingleDriverLogStore``) is safe with one writing driver per table only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from kernel.exclusive import LockBusy, held

if TYPE_CHECKING:
    from kernel.context import Context

__all__ = ["LockBusy", "held", "lock"]


@contextmanager
def lock(ctx: Context, name: str) -> Iterator[None]:
    """Hold the lock of ``name`` (a feed or dataset) for the duration of the block."""
    wait = float(ctx.settings.get("LAKEHOUSE_LOCK_WAIT_SECONDS", "0") or 0)
    stale_hours = float(ctx.settings.get("LAKEHOUSE_LOCK_STALE_HOURS", "6") or 6)

    def taken_over(holder: dict[str, Any] | None) -> None:
        ctx.audit("lock_takeover", {"name": name, "stale_holder": holder})

    with held(ctx.storage, ctx.layout.lock(name), name, ctx.run_id, wait=wait,
              stale_hours=stale_hours, on_takeover=taken_over, same_run_waits=False):
        yield
