"""Pullers: the lakehouse fetches a feed itself (an agency API, an agency database).

A puller is a module with ``pull(ctx, contract, folder, since) -> Pulled``: it writes what
the source returned, exactly as received (raw API pages; database rows as JSON lines), as
files into ``folder`` (a fresh folder under the feed's landing zone) and reports what it
wrote. ``since`` is the watermark of the last landed pull (``None`` the first time); the
puller returns the watermark the next pull starts from. The landing stage digests the files,
writes the manifest, records the delivery and refuses an identical re-pull as a duplicate.

A puller raises :class:`jobs.bronze.DeliveryError` with a clear reason (source unreachable,
not JSON, retries exhausted, …): never a credential, never a value.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Protocol

from kernel.contracts import FeedContract

if TYPE_CHECKING:
    from kernel.context import Context

MODULES = {"api_pull": "pull.api", "jdbc_pull": "pull.jdbc"}


@dataclass
class Pulled:
    """What one pull wrote: file names (in order), records, the next watermark, the source."""

    files: list[str] = field(default_factory=list)
    records: int = 0
    watermark: str | None = None
    source: str = ""
    """Where the data came from (URL without credentials, table), for the record."""
    file_date: date | None = None
    """The business date of the pull (default: the run's date)."""


class Puller(Protocol):
    """The function of a puller module."""

    def pull(
        self, ctx: Context, contract: FeedContract, folder: str, since: str | None
    ) -> Pulled: ...


def puller(kind: str) -> Puller:
    """The puller of a delivery kind (``api_pull``, ``jdbc_pull``)."""
    if kind not in MODULES:
        raise KeyError(f"no puller for delivery kind {kind!r}; known: {', '.join(MODULES)}")
    module: Puller = importlib.import_module(MODULES[kind])
    return module
