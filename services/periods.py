"""The index e-verification answers from: ``gold.coverage_periods`` as published.

**What it holds.** For the latest published version of ``gold.coverage_periods``: per scheme,
the periods' ``person_key`` digests sorted, with each period's first day and the day after its
last (days since 1970-01-01; an open period ends at :data:`OPEN`), plus the version's snapshot
date and the id of the pseudonymisation key it was published with. About 48 bytes a period.

**Lookup.** ``person_key`` is 64 hex digits (an HMAC-SHA256). A scheme's digests are kept as
four ``uint64`` words each (read big-endian, so their order is the digests' order), sorted by
digest then start; a lookup is one binary search on a contiguous column of first words
(``numpy.searchsorted``), then a walk over the person's few periods, in the same steps whether
the person is found or not. "Insured on day D, since when" is the period with ``start <= D <
end``; a day after the snapshot date is answered as of the snapshot date (nothing later is
known), and the answer says which day it holds for.

**Versions.** :class:`PeriodsSource` serves the latest published version and follows new ones
without a restart: :meth:`PeriodsSource.refresh` (called by a background thread every few
seconds) reads the table's current version from the Delta log and, when it changed, builds the
new index off the request path and swaps it in with one reference assignment; a request holds
the index it started with, so no request fails or mixes two versions during a swap. Periods
carry their history, so one version answers for any day up to its snapshot date: no time travel.

Reads go through ``deltalake`` (no JVM); the layout is :func:`analytics.catalog.table_uri`'s.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from analytics.catalog import table_uri

ZONE, TABLE = "gold", "coverage_periods"
DATASET = f"{ZONE}.{TABLE}"
SCHEMES = ("labor", "nhi", "farmer", "pension")
EPOCH = date(1970, 1, 1)
OPEN = np.iinfo(np.int32).max
"""The end of a period still open on the snapshot date."""


class CoverageUnavailable(RuntimeError):
    """No published version can answer (never published, or a version that cannot be read);
    the message says which, without any request value."""


@dataclass(frozen=True)
class Answer:
    """Covered or not on the day looked at, and since when (the period's first day)."""

    insured: bool
    since: date | None
    on: date
    """The day the answer holds for: the day asked, or the snapshot date if it was later."""


@dataclass(frozen=True)
class SchemeIndex:
    """One scheme's periods, sorted by digest then start."""

    first: np.ndarray = field(repr=False)
    """``(n,)`` the first ``uint64`` word of each digest, contiguous (what is searched)."""
    words: np.ndarray = field(repr=False)
    """``(n, 4)`` the digests' ``uint64`` words."""
    start: np.ndarray = field(repr=False)
    """``(n,)`` ``int32`` first day of each period (days since 1970-01-01)."""
    end: np.ndarray = field(repr=False)
    """``(n,)`` ``int32`` day after the last day (:data:`OPEN` when open)."""

    def period_at(self, probe: np.ndarray, day: int) -> int | None:
        """The start day of the period of digest ``probe`` covering ``day``, or ``None``."""
        first = self.first
        i = int(np.searchsorted(first, probe[0]))
        n = first.shape[0]
        found = None
        while i < n and first[i] == probe[0]:
            if (bool((self.words[i] == probe).all()) and self.start[i] <= day < self.end[i]):
                found = int(self.start[i])
            i += 1
        return found


@dataclass(frozen=True)
class PeriodsVersion:
    """One published version, indexed by scheme and ``person_key``."""

    version: int
    snapshot_date: date
    key_id: str
    schemes: dict[str, SchemeIndex] = field(repr=False)

    @property
    def periods(self) -> int:
        """Periods in the version."""
        return sum(int(s.first.shape[0]) for s in self.schemes.values())

    def answer(self, person_key: str, scheme: str, day: date) -> Answer:
        """Whether ``person_key`` is covered by ``scheme`` on ``day`` (or on the snapshot date
        when ``day`` is later), and since when; unknown persons are not covered."""
        on = min(day, self.snapshot_date)
        probe = np.frombuffer(bytes.fromhex(person_key), dtype=">u8").astype(np.uint64)
        start = self.schemes[scheme].period_at(probe, (on - EPOCH).days)
        since = None if start is None else EPOCH + timedelta(days=start)
        return Answer(start is not None, since, on)


def _days(column: Any, open_value: int | None = None) -> np.ndarray:
    """A date32 column as ``int32`` days (nulls as ``open_value``)."""
    import pyarrow as pa

    ints = column.cast(pa.int32())
    if open_value is not None:
        ints = ints.fill_null(open_value)
    return np.asarray(ints.to_numpy(zero_copy_only=False), dtype=np.int32)


def _scheme_index(table: Any) -> SchemeIndex:
    """The index of one scheme's rows (``person_key``, ``start_date``, ``end_date``)."""
    digests = bytes.fromhex("".join(table["person_key"].to_pylist()))
    words = np.frombuffer(digests, dtype=">u8").reshape(-1, 4).astype(np.uint64)
    start = _days(table["start_date"])
    end = _days(table["end_date"], OPEN)
    order = np.lexsort((start, words[:, 3], words[:, 2], words[:, 1], words[:, 0]))
    ordered = np.ascontiguousarray(words[order])
    return SchemeIndex(np.ascontiguousarray(ordered[:, 0]), ordered, start[order], end[order])


def build(uri: str, version: int, metadata: dict[str, Any]) -> PeriodsVersion:
    """The index of ``version`` of the table at ``uri``; its commit ``metadata`` gives the
    snapshot date and key id. Raises :class:`CoverageUnavailable` naming what is wrong."""
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    table = DeltaTable(uri, version=version).to_pyarrow_dataset().to_table(
        columns=["person_key", "scheme", "start_date", "end_date"])
    keys = table["person_key"]
    if keys.null_count or table["start_date"].null_count or (len(keys) and not pc.all(
            pc.match_substring_regex(keys, r"^[0-9a-f]{64}$")).as_py()):
        raise CoverageUnavailable(f"{DATASET} version {version}: a period has no start or a "
                                  "person_key that is not 64 hex digits")
    snap, key_id = metadata.get("snapshot_date"), metadata.get("key_id")
    if not isinstance(snap, str) or not isinstance(key_id, str):
        raise CoverageUnavailable(f"{DATASET} version {version}: its commit names no snapshot "
                                  "date or key id (not written by a publish)")
    schemes = {s: _scheme_index(table.filter(pc.equal(table["scheme"], s))) for s in SCHEMES}
    return PeriodsVersion(version, date.fromisoformat(snap[:10]), key_id, schemes)


def _metadata(commit: dict[str, Any]) -> dict[str, Any]:
    """A commit's ``userMetadata`` JSON (empty when absent or malformed)."""
    raw = commit.get("userMetadata")
    try:
        meta = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        meta = {}
    return meta if isinstance(meta, dict) else {}


class PeriodsSource:
    """The published versions of ``gold.coverage_periods`` under ``root``, the latest indexed."""

    def __init__(self, root: str) -> None:
        self.uri = table_uri(root, ZONE, TABLE)
        self._latest: PeriodsVersion | None = None
        self._lock = threading.Lock()

    def served(self) -> PeriodsVersion | None:
        """The version being served, if one is loaded (no loading)."""
        return self._latest

    def latest(self) -> PeriodsVersion:
        """The latest version's index (loaded on first use)."""
        current = self._latest
        if current is None:
            self.refresh()
            current = self._latest
        if current is None:
            raise CoverageUnavailable(f"{DATASET} has not been published yet")
        return current

    def refresh(self) -> bool:
        """Index the table's current version if it is newer than the one served; True if a new
        version was swapped in. Errors leave the served version in place and propagate."""
        from deltalake import DeltaTable

        if not DeltaTable.is_deltatable(self.uri):
            return False
        with self._lock:
            table = DeltaTable(self.uri)
            version = table.version()
            if self._latest is not None and self._latest.version == version:
                return False
            commit = next((c for c in table.history(1) if c.get("version") == version), {})
            self._latest = build(self.uri, version, _metadata(commit))
            return True
