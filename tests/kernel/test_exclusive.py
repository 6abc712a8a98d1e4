"""The lock file's takeover: a stale holder's lock is taken over by one waiter only, even when
two waiters both read the stale lock before either acts, and nothing is left behind
(``kernel.exclusive``)."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

import kernel.exclusive as exclusive
from kernel.context import Context
from kernel.exclusive import held

DEAD_PID = 2**22 + 4321
"""A process id no live process has here (above the default pid_max)."""


def _left(ctx: Context, path: str) -> list[str]:
    """The files left in the lock's folder (no lock, no takeover marker after a takeover)."""
    return [f.name for f in ctx.storage.list_files(path.rsplit("/", 1)[0])]


def _dead_holder(run_id: str) -> bytes:
    return json.dumps({"name": "t", "run_id": run_id, "host": socket.gethostname(),
                       "pid": DEAD_PID, "since": "2024-11-05T00:00:00+00:00",
                       "since_epoch": time.time()}).encode()


def test_a_waiter_that_read_the_stale_lock_late_does_not_delete_the_takers_lock(
        ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """The interleaving of the race, made certain: the second waiter reads the dead holder's
    lock (as if it had read it just before the first waiter took over), while the first waiter
    already holds the lock. It must wait for the first, not delete its lock and enter too."""
    path = ctx.layout.lock("exclusive.race")
    stale = _dead_holder("crashed")
    ctx.storage.write_bytes(path, stale)
    inside, first_in, release = [], threading.Event(), threading.Event()

    def first() -> None:
        with held(ctx.storage, path, "t", "first", wait=10, stale_hours=1):
            inside.append("first in")
            first_in.set()
            release.wait(10)
            inside.append("first out")

    t = threading.Thread(target=first)
    t.start()
    assert first_in.wait(10)
    real_read, late = exclusive._read, [True]

    def read_late(storage: object, p: str) -> tuple[bytes, object]:
        if p == path and late:  # the second waiter's first look: the stale lock, as it was
            late.clear()
            return stale, json.loads(stale)
        return real_read(storage, p)  # type: ignore[arg-type]

    monkeypatch.setattr(exclusive, "_read", read_late)
    threading.Timer(1.5, release.set).start()
    with held(ctx.storage, path, "t", "second", wait=10, stale_hours=1):
        inside.append("second in")
    t.join()
    assert not late  # the stale view was used
    assert inside == ["first in", "first out", "second in"]
    assert _left(ctx, path) == []


def _most_inside_at_once(ctx: Context, path: str) -> int:
    """Two threads released at once onto the lock ``path``: the most that held it together."""
    start, inside, most, mutex = threading.Barrier(2), [0], [0], threading.Lock()

    def waiter(name: str) -> None:
        start.wait(10)
        with held(ctx.storage, path, "t", name, wait=20, stale_hours=1):
            with mutex:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.3)
            with mutex:
                inside[0] -= 1

    threads = [threading.Thread(target=waiter, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return most[0]


def test_two_waiters_racing_on_one_stale_lock_never_hold_it_together(ctx: Context) -> None:
    """Rounds of two threads released at once onto a dead holder's lock: one enters, then the
    other, never both (the interleaving is up to the scheduler; the test above forces it)."""
    path = ctx.layout.lock("exclusive.pair")
    for round_ in range(3):
        ctx.storage.write_bytes(path, _dead_holder(f"crashed-{round_}"))
        assert _most_inside_at_once(ctx, path) == 1, f"round {round_}: both held the lock"
        assert _left(ctx, path) == []


def test_a_taker_that_died_mid_takeover_does_not_block_the_lock_forever(ctx: Context) -> None:
    """A takeover marker left by a dead taker (its stale lock still there) is itself stale:
    it is removed and the next waiter takes the lock over."""
    path = ctx.layout.lock("exclusive.orphan")
    stale = _dead_holder("crashed")
    ctx.storage.write_bytes(path, stale)
    marker = f"{path}.takeover-{exclusive.hashlib.sha256(stale).hexdigest()[:16]}"
    assert ctx.storage.create_exclusive(marker, _dead_holder("dead-taker"))
    taken: list[object] = []
    with held(ctx.storage, path, "t", "next", wait=10, stale_hours=1, on_takeover=taken.append):
        holder = json.loads(ctx.storage.read_bytes(path))
        assert holder["run_id"] == "next"
    assert [h["run_id"] for h in taken] == ["crashed"]  # type: ignore[index]
    assert _left(ctx, path) == []
