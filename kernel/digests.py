"""Digests that name a set of records without listing it (pure Python, no Spark)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any


def results_reference(result_ids: Iterable[str]) -> dict[str, Any]:
    """How a published version names the quality results it was published on: their number
    and the SHA-256 of their sorted, distinct ids (one per line). Bounded whatever the history
    (the ids themselves are read back from ``system/quality_results``), and a reader can tell
    whether the results it reads now are exactly those."""
    ids = sorted(set(result_ids))
    return {"count": len(ids),
            "sha256": hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()}
