"""One writer per feed: a second run refuses (or waits), a crashed holder's lock is taken over."""

from __future__ import annotations

import dataclasses
import json
import threading
import time

import pytest

from kernel.config import Settings
from kernel.context import Context
from kernel.locks import LockBusy, lock


def _other_run(ctx: Context, run_id: str, **env: str) -> Context:
    settings = Settings.from_env({**dict(ctx.settings.env), **env})
    return dataclasses.replace(ctx, run_id=run_id, settings=settings)


def test_second_run_of_the_same_feed_refuses_with_the_holder(ctx: Context) -> None:
    other = _other_run(ctx, "run-b")
    with lock(ctx, "moi.household_registry"):
        with pytest.raises(LockBusy) as info, lock(other, "moi.household_registry"):
            pass
        message = str(info.value)
        assert message.startswith("moi.household_registry is being processed by run test-run")
        assert "Try again when it has finished" in message
        with lock(other, "bli.labor_insurance_enrollment"):  # another feed: no wait
            pass
    with lock(other, "moi.household_registry"):  # released: the second run may go
        pass


def test_a_waiting_run_starts_when_the_first_has_finished(ctx: Context) -> None:
    other = _other_run(ctx, "run-b", LAKEHOUSE_LOCK_WAIT_SECONDS="10")
    held = threading.Event()
    release = threading.Event()

    def first() -> None:
        with lock(ctx, "feed.x"):
            held.set()
            release.wait(5)

    t = threading.Thread(target=first)
    t.start()
    held.wait(5)
    threading.Timer(1.5, release.set).start()
    began = time.monotonic()
    with lock(other, "feed.x"):
        waited = time.monotonic() - began
    t.join()
    assert 1.0 <= waited < 10


def test_the_lock_of_a_crashed_run_is_taken_over_and_audited(ctx: Context) -> None:
    import socket

    path = f"{ctx.storage.root}/system/locks/feed.y.lock"
    crashed = {"name": "feed.y", "run_id": "crashed", "host": socket.gethostname(),
               "pid": 2**22 + 12345, "since": "2024-11-05T00:00:00+00:00", "since_epoch": 0.0}
    ctx.storage.write_bytes(path, json.dumps(crashed).encode())
    with lock(ctx, "feed.y"):
        holder = json.loads(ctx.storage.read_bytes(path).decode())
        assert holder["run_id"] == "test-run"
    assert not ctx.storage.file_exists(path)
    from audit.log import entries

    taken = list(entries(ctx.layout.audit_dir, "lock_takeover"))
    assert taken and taken[-1].details["stale_holder"]["run_id"] == "crashed"
