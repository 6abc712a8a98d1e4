"""Recovery of the land stage: what a killed run landed or refused but never recorded.

A landing folder is complete once its manifest exists (written last); a refused file has its
refusal note written beside it, and a resent file its duplicate note, before it leaves the
inbox; the deliveries table is written after. A run killed in between leaves landed, refused or
resent files without a delivery row: they are recorded by the next run (as landed by, refused
in or resent to the run that did the work), and a file still in the inbox that is the very file
landed, refused or noted is removed, not taken for a new delivery (which would record it
twice). Half-done pulls (``_pulling``) are discarded: the next pull fetches them again.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from pyspark.sql import functions as F

from kernel.context import Context
from kernel.contracts import FeedContract
from kernel.errors import DeliveryError
from kernel.storage import Storage
from quality.ids import CHECK_LANDED
from stages.common import check_row
from stages.results import StageResult

REFUSAL_SUFFIX = ".refusal.json"
"""The refusal record kept beside a refused file in ``_rejected/<run>/``."""
DUPLICATE_SUFFIX = ".duplicate.json"
"""The record of a resent file, kept in ``_duplicates/<run>/``."""


def file_digest(storage: Storage, path: str) -> str:
    """The SHA-256 of a file (hex), computed in the JVM."""
    row = (
        storage.spark.read.format("binaryFile")
        .load(path)
        .select(F.sha2("content", 256).alias("d"))
        .first()
    )
    if row is None:
        raise DeliveryError("file vanished while it was read")
    return str(row["d"])


def recover_landing(ctx: Context, contract: FeedContract, result: StageResult) -> None:
    """Record what a killed run landed or refused but did not record (see the module doc)."""
    st, rec, feed = ctx.storage, ctx.records, contract.name
    for stale in st.list_dirs(ctx.layout.pulling(feed)):
        st.delete_tree(ctx.layout.pulling(feed, stale))
    known = rec.rows("deliveries", feed=feed)
    landed = {r["batch_id"] for r in known if r["status"] == "landed"}
    noted = {(r["status"], r["run_id"], r["file_name"]) for r in known
             if r["status"] in ("refused", "duplicate")}
    rows, recon = _recover_landed(ctx, contract, landed)
    rows += _recover_noted(ctx, contract, noted)
    if rows:
        rec.append("deliveries", rows)
        rec.append("reconciliation", recon)
        result.add("recovered", len(rows))
        ctx.audit("recovered", {"feed": feed, "deliveries": [r["file_name"] for r in rows],
                                "from_runs": sorted({str(r["run_id"]) for r in rows})})


def _recover_landed(ctx: Context, contract: FeedContract, landed: set[str]) -> tuple[
        list[dict[str, Any]], list[dict[str, Any]]]:
    """Deliveries rows and landing checks of the complete landing folders nobody recorded;
    folders without a manifest (a copy cut short) are removed."""
    st, feed = ctx.storage, contract.name
    inbox = ctx.layout.inbox(contract.delivery.inbox) if contract.delivery.inbox else None
    rows: list[dict[str, Any]] = []
    recon: list[dict[str, Any]] = []
    for name in st.list_dirs(ctx.layout.landing(feed)):
        if name.startswith("_") or name in landed:
            continue
        folder = ctx.layout.landed_batch(feed, name)
        if not st.file_exists(f"{folder}/manifest.json"):
            st.delete_tree(folder)  # a copy cut short: the file is still in the inbox
            continue
        m = json.loads(st.read_bytes(f"{folder}/manifest.json").decode("utf-8"))
        row, check = _manifest_row(ctx, folder, m)
        rows.append(row)
        recon.append(check)
        if inbox and "file" in m and st.file_exists(f"{inbox}/{m['file']}") \
                and file_digest(st, f"{inbox}/{m['file']}") == m["sha256"]:
            st.delete(f"{inbox}/{m['file']}")
            st.delete(f"{inbox}/{m['file']}.sha256")
    return rows, recon


def _recover_noted(ctx: Context, contract: FeedContract,
                   recorded: set[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """Deliveries rows of the refusals (``_rejected/``) and resends (``_duplicates/``) noted
    by a run that nobody recorded; the noted file is removed from the inbox if still there."""
    st, feed = ctx.storage, contract.name
    rows: list[dict[str, Any]] = []
    for top, suffix in ((ctx.layout.rejected(feed), REFUSAL_SUFFIX),
                        (ctx.layout.duplicates(feed), DUPLICATE_SUFFIX)):
        for run in st.list_dirs(top):
            for f in st.list_files(f"{top}/{run}"):
                if not f.name.endswith(suffix):
                    continue
                r = json.loads(st.read_bytes(f.path).decode("utf-8"))
                if (r.get("status"), r.get("run_id"), r.get("file_name")) in recorded:
                    continue
                r["at"] = datetime.fromisoformat(str(r["at"]))
                if r.get("file_date"):
                    r["file_date"] = date.fromisoformat(str(r["file_date"]))
                rows.append(r)
                _still_in_inbox(ctx, contract, r, f"{top}/{run}/{r['file_name']}")
    return rows


def _still_in_inbox(ctx: Context, contract: FeedContract, row: dict[str, Any],
                    kept: str) -> None:
    """Remove a noted file (and its companion) from the inbox when the inbox still holds the
    very bytes noted: a resend's digest, or the refused file's copy kept in ``_rejected``."""
    st, inbox = ctx.storage, contract.delivery.inbox
    if not inbox:
        return
    path = f"{ctx.layout.inbox(inbox)}/{row['file_name']}"
    if not st.file_exists(path):
        return
    noted = row.get("sha256") or (file_digest(st, kept) if st.file_exists(kept) else None)
    if noted is not None and file_digest(st, path) == noted:
        st.delete(path)
        if st.file_exists(f"{path}.sha256"):
            st.delete(f"{path}.sha256")


def _manifest_row(ctx: Context, folder: str, m: dict[str, Any]) -> tuple[dict[str, Any],
                                                                        dict[str, Any]]:
    """The deliveries row and the landing reconciliation of a landed folder's manifest (a file
    drop names its ``file``; a pull lists its ``files``)."""
    st = ctx.storage
    pulled = "files" in m
    names = [f["name"] for f in m["files"]] if pulled else [m["file"]]
    size = sum(st.file_size(f"{folder}/{n}") for n in names)
    received = datetime.fromisoformat(str(m["received_at"]).rstrip("Z"))
    row = {
        "feed": m["feed"], "batch_id": m["batch_id"], "status": "landed",
        "file_name": m["batch_id"] if pulled else m["file"],
        "sha256": m["sha256_of_SHA256SUMS"] if pulled else m["sha256"],
        "bytes": m["bytes"], "file_date": date.fromisoformat(m["file_date"]),
        "landing_path": folder if pulled else f"{folder}/{m['file']}",
        "records": m.get("records"), "watermark": m.get("watermark"), "source": m.get("source"),
        "run_id": m["run_id"], "at": received,
        "reason": f"recovered: landed by run {m['run_id']}, which stopped before recording it",
    }
    return row, check_row(ctx, m["feed"], m["batch_id"], CHECK_LANDED, int(m["bytes"]), size)
