"""The land stage: deliveries verified and copied unchanged into landing, one batch each.

A file drop is verified against its ``.sha256`` companion (name, date, digest), copied byte for
byte to ``landing/<feed>/<batch id>/`` with its companion and a manifest, then removed from the
inbox. A resent file (same digest) is noted in ``landing/<feed>/_duplicates/<run>/``, recorded as
a duplicate delivery and removed; a file that fails verification is moved to
``landing/<feed>/_rejected/<run>/`` with its refusal note and reported. A pulled feed
is fetched from its source instead (:mod:`stages.land_pull`). Whatever a killed run landed or
refused without recording it is recorded first (:mod:`stages.recovery`).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from kernel import faults
from kernel.context import Context
from kernel.contracts import FeedContract
from kernel.errors import DeliveryError
from kernel.storage import FileInfo, Storage
from quality.ids import CHECK_LANDED
from stages.common import audit_stage, check_row, landed_digests, traced
from stages.gates import add_freshness
from stages.land_pull import land_pull
from stages.recovery import DUPLICATE_SUFFIX, REFUSAL_SUFFIX, file_digest, recover_landing
from stages.results import Problem, StageResult


@traced("land")
def land(ctx: Context, contract: FeedContract) -> StageResult:
    """Land every delivery waiting for the feed (its inbox, or a pull from its source)."""
    result = StageResult(contract.name, "land")
    recover_landing(ctx, contract, result)
    if contract.delivery.is_pull:
        land_pull(ctx, contract, result)
    else:
        _land_files(ctx, contract, result)
    add_freshness(ctx, contract, result)
    audit_stage(ctx, result)
    return result


def _land_files(ctx: Context, contract: FeedContract, result: StageResult) -> None:
    """Verify and land every file of the inbox (see the module docstring); one record each."""
    st, feed = ctx.storage, contract.name
    files = st.list_files(ctx.layout.inbox(contract.delivery.inbox))
    names = {f.name for f in files}
    landed = landed_digests(ctx, feed)
    rows: list[dict[str, Any]] = []
    recon: list[dict[str, Any]] = []
    for f in files:
        if f.name.endswith(".sha256"):
            if f.name[: -len(".sha256")] not in names:
                result.problems.append(Problem(feed, f.name, "digest companion without its file"))
            continue
        base = {"feed": feed, "file_name": f.name, "bytes": f.size, "run_id": ctx.run_id,
                "at": ctx.now}
        try:
            file_date, digest = _verify(st, contract, f, names)
        except DeliveryError as exc:
            rows.append(_refuse(ctx, contract, f, names, base, exc))
            result.problems.append(Problem(feed, f.name, f"refused: {exc}"))
            result.add("refused", 1)
            continue
        if digest in landed:
            rows.append(_duplicate(ctx, contract, f, {
                **base, "status": "duplicate", "sha256": digest, "file_date": file_date,
                "batch_id": landed[digest],
                "reason": f"resent: identical to batch {landed[digest]}"}))
            result.add("duplicate_files", 1)
            continue
        row, check = _land_file(ctx, contract, f, base, file_date, digest)
        rows.append(row)
        recon.append(check)
        if row["status"] == "failed":
            result.problems.append(Problem(feed, f.name, row["reason"]))
            result.add("failed_copies", 1)
            continue
        landed[digest] = row["batch_id"]
        result.batches += 1
        result.add("landed_files", 1)
    ctx.records.append("deliveries", rows)
    ctx.records.append("reconciliation", recon)
    for r in rows:
        if r["status"] == "refused":
            ctx.audit("delivery_refused",
                      {"feed": feed, "file": r["file_name"], "reason": r["reason"]})


def _verify(st: Storage, contract: FeedContract, f: FileInfo, names: set[str]) -> tuple[date,
                                                                                        str]:
    """The file date and digest of a delivered file once its name, companion, size and digest
    check out; :class:`DeliveryError` naming the first that does not."""
    d = contract.delivery
    m = re.compile(d.file_pattern).fullmatch(f.name)
    if not m:
        raise DeliveryError(f"file name does not match {d.file_pattern}")
    try:
        file_date = parse_file_date(m["file_date"], d.file_date_format)
    except ValueError:
        raise DeliveryError("the file name carries an impossible date") from None
    if f.name + ".sha256" not in names:
        raise DeliveryError("missing .sha256 companion: the delivery cannot be verified")
    if f.size == 0:
        raise DeliveryError("empty file (0 bytes)")
    declared = companion_digest(st, f"{f.path}.sha256", f.name)
    actual = file_digest(st, f.path)
    if declared != actual:
        raise DeliveryError(
            f"SHA-256 mismatch: the companion declares {declared[:16]}…, "
            f"the file has {actual[:16]}… (corrupted or incomplete transfer)"
        )
    return file_date, actual


def parse_file_date(text: str, fmt: str) -> date:
    """The date a delivery's file name carries (``yyyyMMdd`` or ROC ``rocYYYMM``)."""
    if fmt == "yyyyMMdd":
        return datetime.strptime(text, "%Y%m%d").date()
    if fmt == "rocYYYMM":
        return date(int(text[:-2]) + 1911, int(text[-2:]), 1)
    raise ValueError(f"unknown file date format {fmt}")


def companion_digest(storage: Storage, path: str, name: str) -> str:
    """The digest a ``.sha256`` companion declares: ``<hex>  <file name>`` as ``sha256sum``
    writes it (``*<name>`` in binary mode, or the digest alone), or the BSD form
    ``SHA256 (<file name>) = <hex>``."""
    text = storage.read_bytes(path, 4096).decode("utf-8", errors="replace").strip()
    bsd = re.fullmatch(r"SHA256 \((.+)\) = ([0-9a-fA-F]{64})", text)
    if bsd:
        text = f"{bsd[2]}  {bsd[1]}"
    parts = text.split()
    if not parts or not re.fullmatch(r"[0-9a-fA-F]{64}", parts[0]):
        raise DeliveryError("the .sha256 companion does not hold a SHA-256 digest")
    if len(parts) > 1 and parts[-1].lstrip("*") != name:
        raise DeliveryError(f"the .sha256 companion names another file ({parts[-1]})")
    return parts[0].lower()


def _refuse(ctx: Context, contract: FeedContract, f: FileInfo, names: set[str],
            base: dict[str, Any], exc: DeliveryError) -> dict[str, Any]:
    """Move a refused file (and its companion) to ``_rejected/<run>`` with its refusal record
    beside it; the deliveries row of the refusal."""
    st = ctx.storage
    target = ctx.layout.rejected(contract.name, ctx.run_id)
    refusal = {**base, "status": "refused", "reason": str(exc)}
    companion = f.name + ".sha256" in names
    st.copy(f.path, f"{target}/{f.name}")
    if companion:
        st.copy(f"{f.path}.sha256", f"{target}/{f.name}.sha256")
    # The refusal's own record beside the file: a run killed before it wrote the deliveries
    # table leaves it for the next run to record (recovery).
    st.write_bytes(f"{target}/{f.name}{REFUSAL_SUFFIX}",
                   json.dumps(refusal, default=str, ensure_ascii=False).encode("utf-8"))
    faults.point("land.refused")
    st.delete(f.path)
    if companion:
        st.delete(f"{f.path}.sha256")
    return refusal


def _duplicate(ctx: Context, contract: FeedContract, f: FileInfo,
               row: dict[str, Any]) -> dict[str, Any]:
    """Note a resent file in ``_duplicates/<run>`` (a run killed before it wrote the deliveries
    table leaves the note for the next run to record: recovery), then remove it from the
    inbox; its deliveries row."""
    st = ctx.storage
    st.write_bytes(f"{ctx.layout.duplicates(contract.name, ctx.run_id)}/{f.name}{DUPLICATE_SUFFIX}",
                   json.dumps(row, default=str, ensure_ascii=False).encode("utf-8"))
    faults.point("land.duplicate")
    _remove_from_inbox(st, f)
    return row


def _land_file(ctx: Context, contract: FeedContract, f: FileInfo, base: dict[str, Any],
               file_date: date, digest: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Copy a verified file with its companion into its batch folder, check the copy's size,
    write the manifest last, remove it from the inbox; its deliveries row and landing
    reconciliation. A copy of another size is removed and the file left in the inbox (a
    ``failed`` row: it lands on the next run)."""
    st, feed = ctx.storage, contract.name
    batch_id = f"{f.name.rsplit('.', 1)[0]}-{digest[:12]}"
    folder = ctx.layout.landed_batch(feed, batch_id)
    st.copy(f.path, f"{folder}/{f.name}")
    st.copy(f"{f.path}.sha256", f"{folder}/{f.name}.sha256")
    faults.point("land.copied")
    faults.cut(f"{folder}/{f.name}")
    size = st.file_size(f"{folder}/{f.name}")
    check = check_row(ctx, feed, batch_id, CHECK_LANDED, f.size, size)
    if size != f.size:  # a copy cut short (a full disk, a failing store): never landed
        st.delete_tree(folder)
        return {**base, "status": "failed", "sha256": digest, "file_date": file_date,
                "batch_id": batch_id,
                "reason": f"the landing copy holds {size} bytes, the delivery {f.size}: removed; "
                          "the file stays in the inbox and lands on the next run"}, check
    manifest = {
        "feed": feed, "batch_id": batch_id, "file": f.name, "bytes": f.size,
        "sha256": digest, "file_date": file_date.isoformat(), "run_id": ctx.run_id,
        "received_at": ctx.now.isoformat(timespec="seconds") + "Z",
        "contract_version": contract.version,
    }
    # The manifest is written last: a landing folder with a manifest holds a complete copy,
    # which a run killed before recording it leaves for the next (recovery).
    st.write_bytes(f"{folder}/manifest.json",
                   json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
    row = {**base, "status": "landed", "sha256": digest, "file_date": file_date,
           "batch_id": batch_id, "landing_path": f"{folder}/{f.name}"}
    _remove_from_inbox(st, f)
    faults.point("land.moved")
    return row, check


def _remove_from_inbox(st: Storage, f: FileInfo) -> None:
    st.delete(f.path)
    st.delete(f"{f.path}.sha256")
