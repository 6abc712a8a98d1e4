"""The per-client token buckets: burst, refusal with the exact wait, refill, independence,
idle buckets dropped, and threads never exceeding the budget."""

from __future__ import annotations

import threading
import time

import pytest

from services.ratelimit import SWEEP_INTERVAL, RateLimiter, retry_after_seconds


def test_a_burst_is_allowed_then_refused_with_the_exact_wait() -> None:
    limiter = RateLimiter()
    assert [limiter.take("a", 2.0, 3, now=100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a", 2.0, 3, now=100.0) == 0.5
    assert limiter.take("a", 2.0, 3, now=100.0) == 0.5  # a refusal takes nothing
    assert limiter.take("a", 2.0, 3, now=100.25) == 0.25
    assert limiter.take("a", 2.0, 3, now=100.5) == 0.0
    assert limiter.take("a", 2.0, 3, now=100.5) == 0.5


def test_refill_is_linear_and_capped_at_the_burst() -> None:
    limiter = RateLimiter()
    assert [limiter.take("a", 4.0, 2, now=0.0) for _ in range(3)] == [0.0, 0.0, 0.25]
    assert [limiter.take("a", 4.0, 2, now=0.5) for _ in range(3)] == [0.0, 0.0, 0.25]
    assert [limiter.take("a", 4.0, 2, now=1_000.0) for _ in range(3)] == [0.0, 0.0, 0.25]


def test_a_slow_rate_tells_a_long_wait() -> None:
    limiter = RateLimiter()
    assert limiter.take("a", 0.5, 1, now=10.0) == 0.0
    assert limiter.take("a", 0.5, 1, now=10.0) == 2.0
    assert limiter.take("a", 0.5, 1, now=11.5) == 0.5
    assert limiter.take("a", 0.5, 1, now=12.0) == 0.0


def test_a_client_waiting_exactly_as_told_is_served_despite_float_rounding() -> None:
    limiter = RateLimiter()
    assert limiter.take("a", 10.0, 1, now=0.7) == 0.0
    wait = limiter.take("a", 10.0, 1, now=0.7)
    assert wait == 0.1
    assert (0.7 + wait - 0.7) * 10.0 < 1.0  # the float arithmetic falls short of one token
    assert limiter.take("a", 10.0, 1, now=0.7 + wait) == 0.0


def test_clients_are_independent() -> None:
    limiter = RateLimiter()
    assert limiter.take("a", 1.0, 1, now=0.0) == 0.0
    assert limiter.take("a", 1.0, 1, now=0.0) == 1.0
    assert limiter.take("b", 1.0, 1, now=0.0) == 0.0
    assert limiter.take("b", 1.0, 1, now=0.0) == 1.0
    assert limiter.take("c", 5.0, 10, now=0.0) == 0.0
    assert len(limiter) == 3


def test_the_clock_is_injectable_and_going_backwards_refills_nothing() -> None:
    clock = [50.0]
    limiter = RateLimiter(clock=lambda: clock[0])
    assert [limiter.take("a", 1.0, 2) for _ in range(3)] == [0.0, 0.0, 1.0]
    clock[0] = 40.0
    assert limiter.take("a", 1.0, 2) == 1.0
    clock[0] = 50.5
    assert limiter.take("a", 1.0, 2) == 0.5
    clock[0] = 51.0
    assert limiter.take("a", 1.0, 2) == 0.0
    assert limiter.take("a", 1.0, 2, now=51.0) == 1.0  # ``now`` overrides the clock


def test_a_lowered_burst_cuts_a_full_bucket_down() -> None:
    limiter = RateLimiter()
    assert limiter.take("a", 1.0, 10, now=0.0) == 0.0  # 9 left
    assert [limiter.take("a", 1.0, 2, now=0.0) for _ in range(3)] == [0.0, 0.0, 1.0]


def test_idle_buckets_are_dropped_once_full_again() -> None:
    limiter = RateLimiter()
    assert limiter.take("a", 1.0, 2, now=0.0) == 0.0  # full again at 1.0
    assert limiter.take("slow", 0.001, 5, now=0.0) == 0.0  # full again at 1000.0
    assert len(limiter) == 2
    assert limiter.take("b", 1.0, 2, now=SWEEP_INTERVAL - 1) == 0.0  # no sweep yet
    assert len(limiter) == 3
    assert limiter.take("c", 1.0, 2, now=SWEEP_INTERVAL) == 0.0  # a and b dropped
    assert len(limiter) == 2
    # A dropped bucket comes back full, as it would have been.
    assert [limiter.take("a", 1.0, 2, now=SWEEP_INTERVAL) for _ in range(3)] == [0.0, 0.0, 1.0]
    assert [limiter.take("slow", 0.001, 5, now=SWEEP_INTERVAL) for _ in range(5)] == [
        0.0, 0.0, 0.0, 0.0, pytest.approx(940.0)]  # 4 + 60 × 0.001 tokens were left


def test_a_rate_or_burst_out_of_range_is_refused() -> None:
    limiter = RateLimiter()
    for rate in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError) as refused:
            limiter.take("a", rate, 1, now=0.0)
        assert str(refused.value) == (
            f"rate must be a positive number of requests per second, not {rate}")
    with pytest.raises(ValueError) as refused:
        limiter.take("a", 1.0, 0, now=0.0)
    assert str(refused.value) == "burst must be at least 1, not 0"
    assert len(limiter) == 0


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    assert [retry_after_seconds(w) for w in (0.001, 0.5, 1.0, 1.0000001, 2.0, 59.2)] == [
        1, 1, 1, 2, 2, 60]


def _hammer(limiter: RateLimiter, threads: int, attempts: int, rate: float, burst: int,
            now: float | None = None) -> list[float]:
    """Every result of ``threads`` threads each taking ``attempts`` times at once."""
    results: list[float] = []
    lock, start = threading.Lock(), threading.Barrier(threads)

    def worker() -> None:
        mine = []
        start.wait()
        for _ in range(attempts):
            mine.append(limiter.take("a", rate, burst, now))
        with lock:
            results.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results


def test_concurrent_threads_never_exceed_the_budget_at_a_fixed_time() -> None:
    results = _hammer(RateLimiter(), 16, 200, rate=1.0, burst=50, now=7.0)
    assert len(results) == 3_200
    assert results.count(0.0) == 50
    assert set(results) - {0.0} == {1.0}


def test_concurrent_threads_never_exceed_the_budget_on_the_real_clock() -> None:
    limiter = RateLimiter()
    began = time.monotonic()
    results = _hammer(limiter, 8, 2_000, rate=200.0, burst=20)
    elapsed = time.monotonic() - began
    allowed = results.count(0.0)
    assert 20 <= allowed <= 20 + 200.0 * elapsed + 1
    assert all(0.0 < r <= 1 / 200.0 + 1e-9 for r in results if r)
