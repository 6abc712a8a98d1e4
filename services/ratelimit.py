"""Per-client rate limiting of the data services: one token bucket per client.

A client's bucket holds up to ``burst`` tokens and refills at ``rate`` tokens a second; each
request takes one token, and a request finding less than one is refused with the time until
one will be there (the caller answers 429 with ``Retry-After``, :func:`retry_after_seconds`).
A refused request takes nothing, so a client that waits as told is served. The rate and burst
are the client's in the registry, passed on each call, so a registry reload applies at once
(a bucket fuller than a lowered burst is cut down to it).

Thread safety: one :class:`threading.Lock` around each decision; the critical section is a few
float operations, far cheaper than the request it guards (ASGI servers run synchronous
dependencies in a thread pool, so decisions do race without it).

Time is a monotonic clock (``time.monotonic`` unless another is given, or ``now`` per call):
wall-clock jumps neither refill nor drain a bucket. A clock going backwards refills nothing.

Bounded memory: buckets are created only for authenticated clients (the caller checks the
token first), so there are at most as many as the registry has clients. Buckets are also
dropped once idle long enough to be full again (``burst / rate`` seconds) — a full bucket is
what a new one would be, so dropping it changes no decision — in a sweep at most once every
:data:`SWEEP_INTERVAL` seconds; a registry shrunk by a reload thus leaves nothing behind.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

SWEEP_INTERVAL = 60.0
"""Seconds between two sweeps of the idle (full) buckets."""
_EPSILON = 1e-9
"""Tokens counted as there despite float rounding: a client waiting exactly the time it was
told is served, never told to wait a further few attoseconds (a whole second once rounded)."""


@dataclass
class _Bucket:
    tokens: float
    last: float
    full_at: float
    """When the bucket is full again if nothing is taken: from then on it may be dropped."""


class RateLimiter:
    """Token buckets by client id, safe to share between threads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}
        self._next_sweep = -math.inf

    def __len__(self) -> int:
        """The number of buckets held (clients seen lately and not yet refilled)."""
        with self._lock:
            return len(self._buckets)

    def take(self, client_id: str, rate: float, burst: int, now: float | None = None) -> float:
        """Takes one token of ``client_id``'s bucket (``rate`` tokens a second, at most
        ``burst``; a new bucket is full) at ``now`` (the clock's time by default). Returns 0.0
        when the request is allowed, else the seconds until it would be (> 0; nothing taken).
        ValueError when ``rate`` is not positive and finite or ``burst`` is below 1."""
        if not (rate > 0 and math.isfinite(rate)):
            raise ValueError(f"rate must be a positive number of requests per second, not {rate}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, not {burst}")
        with self._lock:
            t = self._clock() if now is None else now
            if t >= self._next_sweep:
                self._sweep(t)
            bucket = self._buckets.get(client_id)
            if bucket is None:
                bucket = self._buckets[client_id] = _Bucket(float(burst), t, t)
            elif t > bucket.last:
                bucket.tokens = min(float(burst), bucket.tokens + (t - bucket.last) * rate)
                bucket.last = t
            else:
                bucket.tokens = min(float(burst), bucket.tokens)
            allowed = bucket.tokens + _EPSILON >= 1.0
            if allowed:
                bucket.tokens = max(0.0, bucket.tokens - 1.0)
            bucket.full_at = bucket.last + (burst - bucket.tokens) / rate
            return 0.0 if allowed else (1.0 - bucket.tokens) / rate

    def _sweep(self, now: float) -> None:
        """Drops the buckets full again by ``now`` (the lock held)."""
        for client_id in [c for c, b in self._buckets.items() if b.full_at <= now]:
            del self._buckets[client_id]
        self._next_sweep = now + SWEEP_INTERVAL


def retry_after_seconds(wait: float) -> int:
    """The ``Retry-After`` header's value (whole seconds, at least 1) for a wait of ``wait``
    seconds returned by :meth:`RateLimiter.take`."""
    return max(1, math.ceil(wait))
