"""The coverage index e-verification answers from: ``gold.person_coverage`` as published.

**What it holds.** For one published version of ``gold.person_coverage``: the sorted
``person_key`` digests and, per person, one bit per scheme (:data:`SCHEME_COLUMNS`), plus the
version's snapshot date and the id of the pseudonymisation key it was published with. Nothing
else of the table is read (three columns' worth of memory: 33 bytes a person, about 33 MB for a
million persons).

**Lookup.** ``person_key`` is 64 hex digits (a SHA-256 HMAC). The index keeps each digest as
four big-endian ``uint64`` words, sorted by the first; a lookup is one binary search on the
first word (``numpy.searchsorted``) and a comparison of the full 32 bytes, in the same number of
steps whether the person is found or not.

**Versions.** :class:`CoverageSource` serves the latest published version and follows new ones
without a restart: :meth:`CoverageSource.refresh` (called by a background thread every few
seconds) reads the table's current version from the Delta log and, when it changed, builds the
new index off the request path and swaps it in with one reference assignment; a request holds
the index it started with, so no request fails or mixes two versions during a swap. A date
before the latest snapshot is answered from the newest version whose snapshot date is not after
it (Delta time travel; the last few such versions are cached).

Reads go through ``deltalake`` (no JVM); the layout is :func:`analytics.catalog.table_uri`'s.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from analytics.catalog import table_uri

ZONE, TABLE = "gold", "person_coverage"
DATASET = f"{ZONE}.{TABLE}"
SCHEME_COLUMNS = {
    "labor": "in_labor_insurance",
    "nhi": "in_nhi",
    "farmer": "is_farmer",
    "pension": "pension_contrib_last_12m",
}
"""The scheme a verification asks about, and the published column that answers it."""
SCHEME_BITS = {scheme: 1 << i for i, scheme in enumerate(SCHEME_COLUMNS)}
OLDER_VERSIONS_CACHED = 3


class CoverageUnavailable(RuntimeError):
    """No published version can answer (never published, none as old as the date asked, or a
    version that cannot be read); the message says which, without any request value."""


@dataclass(frozen=True)
class CoverageVersion:
    """One published version, indexed by ``person_key``."""

    version: int
    snapshot_date: date
    key_id: str
    words: np.ndarray = field(repr=False)
    """``(n, 4)`` ``uint64`` words of the sorted digests (each read big-endian, stored in the
    machine's order so that comparisons cost no conversion)."""
    first: np.ndarray = field(repr=False)
    """The first word of each digest, contiguous: what the binary search runs over (a
    strided or byte-swapped column would be copied whole by every search)."""
    flags: np.ndarray = field(repr=False)
    """``(n,)`` ``uint8`` scheme bits, aligned with :attr:`words`."""

    @property
    def persons(self) -> int:
        """Persons in the version."""
        return int(self.flags.shape[0])

    def flags_of(self, person_key: str) -> int | None:
        """The scheme bits of ``person_key`` (64 lowercase hex digits), ``None`` if unknown."""
        probe = np.frombuffer(bytes.fromhex(person_key), dtype=">u8").astype(np.uint64)
        first = self.first
        i = int(np.searchsorted(first, probe[0]))
        n = first.shape[0]
        while i < n and first[i] == probe[0]:
            if bool((self.words[i] == probe).all()):
                return int(self.flags[i])
            i += 1
        return None

    def insured(self, person_key: str, scheme: str) -> bool:
        """Whether the person is covered by ``scheme`` in this version (unknown: not covered)."""
        bits = self.flags_of(person_key)
        return bits is not None and bool(bits & SCHEME_BITS[scheme])


def _commit_metadata(history: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Per version, the publish's commit metadata (``userMetadata`` JSON)."""
    out: dict[int, dict[str, Any]] = {}
    for commit in history:
        raw = commit.get("userMetadata")
        try:
            meta = json.loads(raw) if isinstance(raw, str) else {}
        except ValueError:
            meta = {}
        if isinstance(commit.get("version"), int) and isinstance(meta, dict):
            out[commit["version"]] = meta
    return out


def build(uri: str, version: int, metadata: dict[str, Any]) -> CoverageVersion:
    """The index of ``version`` of the table at ``uri`` (its commit ``metadata`` gives the
    snapshot date and key id). Raises :class:`CoverageUnavailable` naming what is missing."""
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    table = DeltaTable(uri, version=version).to_pyarrow_dataset().to_table(
        columns=["person_key", *SCHEME_COLUMNS.values()])
    keys = table["person_key"]
    if keys.null_count or (len(keys) and not pc.all(pc.match_substring_regex(
            keys, r"^[0-9a-f]{64}$")).as_py()):
        raise CoverageUnavailable(f"{DATASET} version {version}: a person_key is not 64 hex "
                                  "digits")
    digests = bytes.fromhex("".join(keys.to_pylist()))
    words = np.frombuffer(digests, dtype=">u8").reshape(-1, 4).astype(np.uint64)
    flags = np.zeros(len(keys), dtype=np.uint8)
    for scheme, column in SCHEME_COLUMNS.items():
        values = table[column].fill_null(False).to_numpy(zero_copy_only=False)
        flags |= np.where(values, SCHEME_BITS[scheme], 0).astype(np.uint8)
    order = np.lexsort(tuple(words[:, j] for j in range(3, -1, -1)))
    snap = metadata.get("snapshot_date")
    key_id = metadata.get("key_id")
    if not isinstance(snap, str) or not isinstance(key_id, str):
        raise CoverageUnavailable(f"{DATASET} version {version}: its commit names no snapshot "
                                  "date or key id (not written by a publish)")
    ordered = np.ascontiguousarray(words[order])
    return CoverageVersion(version, date.fromisoformat(snap[:10]), key_id, ordered,
                           np.ascontiguousarray(ordered[:, 0]), flags[order])


class CoverageSource:
    """The published versions of ``gold.person_coverage`` under ``root``, the latest indexed."""

    def __init__(self, root: str) -> None:
        self.uri = table_uri(root, ZONE, TABLE)
        self._latest: CoverageVersion | None = None
        self._older: OrderedDict[int, CoverageVersion] = OrderedDict()
        self._lock = threading.Lock()
        self._metadata: dict[int, dict[str, Any]] = {}

    def served(self) -> CoverageVersion | None:
        """The version being served, if one is loaded (no loading)."""
        return self._latest

    def latest(self) -> CoverageVersion:
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
            self._metadata = _commit_metadata(table.history())
            index = build(self.uri, version, self._metadata.get(version, {}))
            self._latest = index
            return True

    def for_date(self, day: date) -> CoverageVersion:
        """The version that answers for ``day``: the latest one if its snapshot date is on or
        before ``day``, else the newest version whose snapshot date is not after ``day``."""
        current = self.latest()
        if day >= current.snapshot_date:
            return current
        with self._lock:
            candidates = sorted(
                ((v, m) for v, m in self._metadata.items() if v < current.version
                 and isinstance(m.get("snapshot_date"), str)
                 and date.fromisoformat(m["snapshot_date"][:10]) <= day),
                key=lambda vm: (vm[1]["snapshot_date"], vm[0]))
            if not candidates:
                raise CoverageUnavailable(f"{DATASET} has no published snapshot on or before "
                                          "the date asked")
            version, meta = candidates[-1]
            cached = self._older.get(version)
            if cached is None:
                cached = build(self.uri, version, meta)
                self._older[version] = cached
                while len(self._older) > OLDER_VERSIONS_CACHED:
                    self._older.popitem(last=False)
            self._older.move_to_end(version)
            return cached
