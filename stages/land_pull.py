"""Landing a pulled feed: fetch from the agency's source, digest, land as one batch.

The puller (:mod:`pull`) writes what the source returned, unchanged, into a fresh folder under
``landing/<feed>/_pulling/<run>``; this names the batch by the digest of ``SHA256SUMS`` (the
digest of every file, in ``sha256sum`` format): a re-pull that returns exactly the same is a
duplicate delivery. The files are copied into the batch folder, ``SHA256SUMS`` and the manifest
written last, as a file drop is landed: no folder is renamed. The next pull starts at the
watermark recorded here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from pyspark.sql import functions as F

from kernel import faults
from kernel.context import Context
from kernel.contracts import FeedContract
from kernel.errors import DeliveryError
from kernel.storage import FileInfo
from pull import Pulled, puller
from quality.ids import CHECK_LANDED
from stages.common import check_row, landed_digests
from stages.results import Problem, StageResult


def last_watermark(ctx: Context, feed: str) -> str | None:
    """The watermark of the feed's latest successful pull (landed, identical or empty)."""
    pulls = [r for r in ctx.records.rows("deliveries", feed=feed)
             if r["status"] in ("landed", "duplicate", "empty") and r["watermark"] is not None]
    latest = max(pulls, key=lambda r: (r["at"], r["watermark"]), default=None)
    return None if latest is None else str(latest["watermark"])


def land_pull(ctx: Context, contract: FeedContract, result: StageResult) -> None:
    """Pull the feed from its source into a fresh landing folder, then land it as one batch
    (see the module docstring); a refused, empty or identical pull is recorded as such."""
    st, feed = ctx.storage, contract.name
    since = last_watermark(ctx, feed)
    folder = ctx.layout.pulling(feed, ctx.run_id)
    st.delete_tree(folder)
    base: dict[str, Any] = {"feed": feed, "run_id": ctx.run_id, "at": ctx.now,
                            "file_name": f"pull since {since or 'the start'}"}
    try:
        pulled = puller(contract.delivery.kind).pull(ctx, contract, folder, since)
    except DeliveryError as exc:
        _discard(ctx, folder, base, result, "refused", str(exc))
        return
    faults.vanish(folder)
    file_date = pulled.file_date or ctx.now.date()
    base.update(file_date=file_date, records=pulled.records, watermark=pulled.watermark,
                source=pulled.source)
    if pulled.records == 0:
        _discard(ctx, folder, base, result, "empty", "the source returned no records")
        return
    sums, missing = _digests(ctx, folder, pulled)
    if missing:
        why = f"the pull's file {missing} vanished before it was landed; pulled again next run"
        _discard(ctx, folder, base, result, "refused", why)
        return
    _land_batch(ctx, contract, folder, pulled, sums, since, file_date, base, result)


def _discard(ctx: Context, folder: str, base: dict[str, Any], result: StageResult,
             status: str, reason: str) -> None:
    """Drop a pull that lands nothing (``refused``: a problem, audited; ``empty``: no
    records) and record it."""
    ctx.storage.delete_tree(folder)
    ctx.records.append("deliveries", [{**base, "status": status, "reason": reason}])
    if status == "refused":
        result.problems.append(Problem(base["feed"], "pull", f"refused: {reason}"))
        result.add("refused", 1)
        ctx.audit("delivery_refused", {"feed": base["feed"], "file": "pull", "reason": reason})
    else:
        result.add("empty_pulls", 1)


def _digests(ctx: Context, folder: str, pulled: Pulled) -> tuple[list[tuple[str, str]],
                                                                 str | None]:
    """``(file name, SHA-256)`` of every pulled file in pull order, computed by one Spark job
    (an API pull can have a thousand pages), and the first file that has gone, if any: gone
    before the job (the folder listed first) or while it read (the job fails, the folder is
    listed again)."""
    st = ctx.storage
    first = _first_missing(st.list_files(folder), pulled.files)
    if first is not None:
        return [], first
    try:
        found = {str(r["name"]): str(r["d"]) for r in st.spark.read.format("binaryFile")
                 .load(folder).select(F.element_at(F.split("path", "/"), -1).alias("name"),
                                      F.sha2("content", 256).alias("d")).collect()}
    except Exception:
        first = _first_missing(st.list_files(folder), pulled.files)
        if first is None:
            raise
        return [], first
    first = _first_missing(list(found), pulled.files)
    if first is not None:
        return [], first
    return [(name, found[name]) for name in pulled.files], None


def _manifest(ctx: Context, contract: FeedContract, pulled: Pulled,
              sums: list[tuple[str, str]], since: str | None, file_date: date, batch_id: str,
              size: int, digest: str) -> dict[str, Any]:
    """The landed pull's ``manifest.json``: what was pulled, from where, since which
    watermark, with every file's digest."""
    return {
        "feed": contract.name, "batch_id": batch_id, "source": pulled.source, "since": since,
        "watermark": pulled.watermark, "records": pulled.records, "bytes": size,
        "files": [{"name": n, "sha256": d} for n, d in sums], "sha256_of_SHA256SUMS": digest,
        "file_date": file_date.isoformat(), "run_id": ctx.run_id,
        "received_at": ctx.now.isoformat(timespec="seconds") + "Z",
        "contract_version": contract.version,
    }


def _first_missing(present: Sequence[FileInfo | str], wanted: list[str]) -> str | None:
    """The first of ``wanted`` (pulled file names) not among ``present``."""
    names = {p if isinstance(p, str) else p.name for p in present}
    return next((n for n in wanted if n not in names), None)


def _land_batch(ctx: Context, contract: FeedContract, folder: str, pulled: Pulled,
                sums: list[tuple[str, str]], since: str | None, file_date: date,
                base: dict[str, Any], result: StageResult) -> None:
    """Name the pull's batch by its ``SHA256SUMS`` digest; record an identical re-pull as a
    duplicate, else copy the pulled files into the batch folder, check the copy's size, write
    ``SHA256SUMS`` and the manifest last, and drop the pull folder. Nothing is renamed (an
    object store renames by copy and delete): a batch folder with its manifest is complete,
    and :mod:`stages.recovery` records one a killed run left unrecorded."""
    st, feed = ctx.storage, contract.name
    listing = "".join(f"{d}  {name}\n" for name, d in sums).encode("utf-8")
    digest = hashlib.sha256(listing).hexdigest()
    size = sum(st.file_size(f"{folder}/{name}") for name in pulled.files)
    landed = landed_digests(ctx, feed)
    prefix = contract.name.split(".", 1)[1].upper()
    batch_id = landed.get(digest) or f"{prefix}-{file_date:%Y%m%d}-{digest[:12]}"
    base.update(file_name=batch_id, sha256=digest, bytes=size, batch_id=batch_id)
    if digest in landed:
        st.delete_tree(folder)
        ctx.records.append("deliveries", [{**base, "status": "duplicate",
                                           "reason": f"re-pulled: identical to batch {batch_id}"}])
        result.add("duplicate_pulls", 1)
        return
    target = ctx.layout.landed_batch(feed, batch_id)
    st.delete_tree(target)  # a half-copied folder of a crashed run (never recorded as landed)
    for name in pulled.files:
        st.copy(f"{folder}/{name}", f"{target}/{name}")
    faults.cut(f"{target}/{pulled.files[0]}")
    landed_size = sum(st.file_size(f"{target}/{name}") for name in pulled.files)
    check = check_row(ctx, feed, batch_id, CHECK_LANDED, size, landed_size)
    if landed_size != size:  # a copy cut short (a full disk, a failing store)
        st.delete_tree(target)
        st.delete_tree(folder)
        why = (f"the landed pull holds {landed_size} bytes, the pull {size}: removed; pulled "
               "again next run")
        ctx.records.append("reconciliation", [check])
        ctx.records.append("deliveries", [{**base, "status": "failed", "reason": why}])
        result.problems.append(Problem(feed, batch_id, why))
        result.add("failed_copies", 1)
        return
    st.write_bytes(f"{target}/SHA256SUMS", listing)
    st.write_bytes(f"{target}/manifest.json",  # last: a folder with a manifest is complete
                   json.dumps(_manifest(ctx, contract, pulled, sums, since, file_date, batch_id,
                                        size, digest), ensure_ascii=False, indent=2)
                   .encode("utf-8"))
    faults.point("land.moved")
    st.delete_tree(folder)
    ctx.records.append("reconciliation", [check])
    ctx.records.append("deliveries", [{**base, "status": "landed", "landing_path": target}])
    result.batches += 1
    result.add("landed_pulls", 1)
    result.add("pulled_records", pulled.records)
