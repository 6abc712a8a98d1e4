"""The I/O shells of the jobs: landing, bronze, silver and publishing.

The command line and the Airflow tasks call these same functions. Each stage is idempotent:
it finds its pending work from the system records and the tables themselves, guards every
write by the batch id, and can be re-run after a crash or a retry without doubling anything.
Problems are collected as :class:`Problem` (feed, file, reason) and never carry a data value.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from convergence import contracts, faults
from convergence.config import Settings
from convergence.contracts import DatasetContract, FeedContract
from convergence.locks import lock
from convergence.records import Records
from convergence.spark import session
from convergence.storage import Storage
from jobs import bronze as bronze_job
from jobs import conform as conform_job
from jobs.bronze import Batch, DeliveryError

StageFn = Callable[["Context", FeedContract], "StageResult"]
RULE_MALFORMED = "record.malformed"
RELEASE_PREFIX = "release-"
CHECK_LANDED = "landed bytes = delivered bytes"
CHECK_BRONZE = "bronze rows = delivered records"
CHECK_SILVER = "bronze rows = silver + quarantined + duplicates"
CHECK_DECLARED = "bronze rows = records the delivery declares"
RULE_REPEATED_HEADER = "record.repeated_header"
RULE_DRIFT = "schema.drift"
REFUSAL_SUFFIX = ".refusal.json"
GATE_VOLUME = "gate.volume"
GATE_FRESHNESS = "gate.freshness"


def _check(
    ctx: Context, feed: str, batch_id: str, check: str, expected: int, actual: int
) -> dict[str, Any]:
    """One reconciliation record: a check, its expected and actual counts, whether it holds."""
    return {"feed": feed, "batch_id": batch_id, "check": check, "expected": int(expected),
            "actual": int(actual), "holds": int(expected) == int(actual), "run_id": ctx.run_id,
            "at": ctx.now}


@dataclass(frozen=True)
class Problem:
    """A refused delivery, a failed gate or a refused publish, in one line."""

    feed: str
    file: str
    reason: str

    def __str__(self) -> str:
        return f"{self.feed}: {self.file}: {self.reason}"


@dataclass
class StageResult:
    """What a stage did, with counts (no values)."""

    feed: str
    stage: str
    batches: int = 0
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    assertions: list[tuple[str, bool, str | None]] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    """What the steward should know that did not stop a batch: records quarantined (rules and
    record numbers), schema drift (column names). Never a value."""

    def add(self, key: str, n: int) -> None:
        """Add ``n`` to the counter ``key``."""
        self.counts[key] = self.counts.get(key, 0) + int(n)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary (Airflow XCom, CLI)."""
        d = asdict(self)
        d["problems"] = [str(p) for p in self.problems]
        d["notes"] = [str(p) for p in self.notes]
        return d


def current_actor() -> str:
    """Who runs this job: ``LAKEHOUSE_USER`` (set by the identity provider or Airflow), else the
    operating-system user."""
    import getpass
    import os

    return os.environ.get("LAKEHOUSE_USER") or f"os:{getpass.getuser()}"


@dataclass
class Context:
    """One job run: settings, the run's Spark session, storage and records, run id and time."""

    settings: Settings
    storage: Storage
    records: Records
    run_id: str
    now: datetime
    actor: str = field(default_factory=current_actor)
    parent: Any = None  # lineage.events.ParentRef of the Airflow task running this job
    def audit(self, action: str, details: dict[str, Any]) -> None:
        """Append an entry to the hash-chained audit log (``<root>/system/audit``)."""
        from audit.log import AuditLog

        if self.settings.is_local:
            AuditLog(self.settings.root).append(
                action, self.actor, {"run_id": self.run_id, **details})

    @classmethod
    def create(cls, run_id: str | None = None, settings: Settings | None = None) -> Context:
        """The context of a job run (one Spark session per run)."""
        s = settings or Settings.from_env()
        spark = session(s)
        storage = Storage(spark, s.root)
        return cls(
            settings=s,
            storage=storage,
            records=Records(storage),
            run_id=run_id or f"run-{uuid.uuid4().hex[:12]}",
            now=datetime.now(UTC).replace(tzinfo=None),
        )


def traced(stage: str) -> Callable[[StageFn], StageFn]:
    """Emit OpenLineage START and COMPLETE/FAIL events around a stage of a feed.

    A stage that reports problems (a refused delivery, a failed gate) ends with FAIL and the
    problems as the error message (file names, rule ids and counts: no values).
    """

    def wrap(fn: StageFn) -> StageFn:
        @functools.wraps(fn)
        def run(ctx: Context, contract: FeedContract) -> StageResult:
            from lineage import pipeline as lp

            job = f"{contract.name}.{stage}"
            ins, outs = lp.stage_datasets(ctx, contract, stage, versions=False)
            lp.emit(ctx, "START", job, ins, outs)
            try:
                with lock(ctx, contract.name):
                    result = fn(ctx, contract)
            except Exception as exc:
                lp.emit(ctx, "FAIL", job, ins, outs, error=f"{type(exc).__name__} in {job}")
                raise
            faults.point(f"{stage}.done")
            from lineage.events import Assertion

            quality = [Assertion(rule, ok, col) for rule, ok, col in result.assertions]
            ins, outs = lp.stage_datasets(ctx, contract, stage, quality=quality)
            problems = "; ".join(str(p) for p in result.problems) or None
            lp.emit(ctx, "FAIL" if problems else "COMPLETE", job, ins, outs, error=problems)
            return result

        return run

    return wrap


# --------------------------------------------------------------------------- landing
def _parse_file_date(text: str, fmt: str) -> date:
    if fmt == "yyyyMMdd":
        return datetime.strptime(text, "%Y%m%d").date()
    if fmt == "rocYYYMM":
        return date(int(text[:-2]) + 1911, int(text[-2:]), 1)
    raise ValueError(f"unknown file date format {fmt}")


def _companion_digest(storage: Storage, path: str, name: str) -> str:
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


def _file_digest(storage: Storage, path: str) -> str:
    row = (
        storage.spark.read.format("binaryFile")
        .load(path)
        .select(F.sha2("content", 256).alias("d"))
        .first()
    )
    if row is None:
        raise DeliveryError("file vanished while it was read")
    return str(row["d"])


@traced("land")
def land(ctx: Context, contract: FeedContract) -> StageResult:
    """Verify every file in the feed's inbox against its digest and land it unchanged.

    A landed file is copied byte for byte to ``landing/<feed>/<batch id>/`` with its companion
    and a manifest, then removed from the inbox. A resent file (same digest) is recorded as a
    duplicate delivery and removed. A file that fails verification is moved to
    ``landing/<feed>/_rejected/`` and reported.
    """
    st, rec, feed = ctx.storage, ctx.records, contract.name
    result = StageResult(feed, "land")
    _recover_landing(ctx, contract, result)
    if contract.delivery.is_pull:
        _land_pull(ctx, contract, result)
        _add_freshness(ctx, contract, result)
        _audit_stage(ctx, result)
        return result
    inbox = st.inbox(contract.delivery.inbox)
    files = st.list_files(inbox)
    names = {f.name for f in files}
    pattern = re.compile(contract.delivery.file_pattern)
    landed = {
        r["sha256"]: r["batch_id"]
        for r in rec.read("deliveries")
        .where((F.col("feed") == feed) & (F.col("status") == "landed"))
        .select("sha256", "batch_id")
        .collect()
    }
    rows: list[dict[str, Any]] = []
    recon: list[dict[str, Any]] = []
    for f in files:
        if f.name.endswith(".sha256"):
            if f.name[: -len(".sha256")] not in names:
                result.problems.append(Problem(feed, f.name, "digest companion without its file"))
            continue
        base = {"feed": feed, "file_name": f.name, "bytes": f.size, "run_id": ctx.run_id,
                "at": ctx.now}
        companion = f"{f.path}.sha256"
        try:
            m = pattern.fullmatch(f.name)
            if not m:
                raise DeliveryError(f"file name does not match {contract.delivery.file_pattern}")
            try:
                file_date = _parse_file_date(m["file_date"], contract.delivery.file_date_format)
            except ValueError:
                raise DeliveryError("the file name carries an impossible date") from None
            if f.name + ".sha256" not in names:
                raise DeliveryError("missing .sha256 companion: the delivery cannot be verified")
            if f.size == 0:
                raise DeliveryError("empty file (0 bytes)")
            declared = _companion_digest(st, companion, f.name)
            actual = _file_digest(st, f.path)
            if declared != actual:
                raise DeliveryError(
                    f"SHA-256 mismatch: the companion declares {declared[:16]}…, "
                    f"the file has {actual[:16]}… (corrupted or incomplete transfer)"
                )
        except DeliveryError as exc:
            target = f"{st.root}/landing/{feed}/_rejected/{ctx.run_id}"
            refusal = {**base, "status": "refused", "reason": str(exc)}
            st.copy(f.path, f"{target}/{f.name}")
            if f.name + ".sha256" in names:
                st.copy(companion, f"{target}/{f.name}.sha256")
            # The refusal's own record beside the file: a run killed before it wrote the
            # deliveries table leaves it for the next run to record (_recover_landing).
            st.write_bytes(f"{target}/{f.name}{REFUSAL_SUFFIX}",
                           json.dumps(refusal, default=str, ensure_ascii=False).encode("utf-8"))
            st.delete(f.path)
            if f.name + ".sha256" in names:
                st.delete(companion)
            rows.append(refusal)
            result.problems.append(Problem(feed, f.name, f"refused: {exc}"))
            result.add("refused", 1)
            continue
        if actual in landed:
            rows.append({**base, "status": "duplicate", "sha256": actual, "file_date": file_date,
                         "batch_id": landed[actual],
                         "reason": f"resent: identical to batch {landed[actual]}"})
            st.delete(f.path)
            st.delete(companion)
            result.add("duplicate_files", 1)
            continue
        batch_id = f"{f.name.rsplit('.', 1)[0]}-{actual[:12]}"
        folder = f"{st.root}/landing/{feed}/{batch_id}"
        st.copy(f.path, f"{folder}/{f.name}")
        st.copy(companion, f"{folder}/{f.name}.sha256")
        faults.point("land.copied")
        manifest = {
            "feed": feed, "batch_id": batch_id, "file": f.name, "bytes": f.size,
            "sha256": actual, "file_date": file_date.isoformat(), "run_id": ctx.run_id,
            "received_at": ctx.now.isoformat(timespec="seconds") + "Z",
            "contract_version": contract.version,
        }
        # The manifest is written last: a landing folder with a manifest holds a complete
        # copy, which a run killed before recording it leaves for the next (_recover_landing).
        st.write_bytes(f"{folder}/manifest.json",
                       json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
        landed_size = st.file_size(f"{folder}/{f.name}")
        recon.append(_check(ctx, feed, batch_id, CHECK_LANDED, f.size, landed_size))
        rows.append({**base, "status": "landed", "sha256": actual, "file_date": file_date,
                     "batch_id": batch_id, "landing_path": f"{folder}/{f.name}"})
        landed[actual] = batch_id
        st.delete(f.path)
        st.delete(companion)
        faults.point("land.moved")
        result.batches += 1
        result.add("landed_files", 1)
    rec.append("deliveries", rows)
    rec.append("reconciliation", recon)
    _add_freshness(ctx, contract, result)
    for r in rows:
        if r["status"] == "refused":
            ctx.audit("delivery_refused",
                      {"feed": feed, "file": r["file_name"], "reason": r["reason"]})
    _audit_stage(ctx, result)
    return result


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
    return row, _check(ctx, m["feed"], m["batch_id"], CHECK_LANDED, int(m["bytes"]), size)


def _recover_landing(ctx: Context, contract: FeedContract, result: StageResult) -> None:
    """Record what a killed run landed or refused but did not record.

    A landing folder is complete once its manifest exists (written last), and a refused file
    has its refusal written beside it before it leaves the inbox; the deliveries table is
    written after. A run killed in between leaves landed or refused files without a delivery
    row: they are recorded now (as landed by, or refused in, the run that did the work), and a
    file still in the inbox that is the very file landed is removed, not taken for a resend.
    Half-done pulls (``_pulling``) are discarded: the next pull fetches them again.
    """
    st, rec, feed = ctx.storage, ctx.records, contract.name
    base = f"{st.root}/landing/{feed}"
    folders = st.list_dirs(base)
    for stale in st.list_dirs(f"{base}/_pulling"):
        st.delete_tree(f"{base}/_pulling/{stale}")
    known = rec.read("deliveries").where(F.col("feed") == feed)
    landed = {r["batch_id"] for r in known.where(F.col("status") == "landed")
              .select("batch_id").collect()}
    refused = {(r["run_id"], r["file_name"]) for r in known.where(F.col("status") == "refused")
               .select("run_id", "file_name").collect()}
    rows: list[dict[str, Any]] = []
    recon: list[dict[str, Any]] = []
    inbox = st.inbox(contract.delivery.inbox) if contract.delivery.inbox else None
    for name in folders:
        if name.startswith("_") or name in landed:
            continue
        folder = f"{base}/{name}"
        if not st.file_exists(f"{folder}/manifest.json"):
            st.delete_tree(folder)  # a copy cut short: the file is still in the inbox
            continue
        m = json.loads(st.read_bytes(f"{folder}/manifest.json").decode("utf-8"))
        row, check = _manifest_row(ctx, folder, m)
        rows.append(row)
        recon.append(check)
        if inbox and "file" in m and st.file_exists(f"{inbox}/{m['file']}") \
                and _file_digest(st, f"{inbox}/{m['file']}") == m["sha256"]:
            st.delete(f"{inbox}/{m['file']}")
            st.delete(f"{inbox}/{m['file']}.sha256")
    for run in st.list_dirs(f"{base}/_rejected"):
        for f in st.list_files(f"{base}/_rejected/{run}"):
            if not f.name.endswith(REFUSAL_SUFFIX):
                continue
            r = json.loads(st.read_bytes(f.path).decode("utf-8"))
            if (r.get("run_id"), r.get("file_name")) in refused:
                continue
            r["at"] = datetime.fromisoformat(str(r["at"]))
            rows.append(r)
    if rows:
        rec.append("deliveries", rows)
        rec.append("reconciliation", recon)
        result.add("recovered", len(rows))
        ctx.audit("recovered", {"feed": feed, "deliveries": [r["file_name"] for r in rows],
                                "from_runs": sorted({str(r["run_id"]) for r in rows})})


def _last_watermark(ctx: Context, feed: str) -> str | None:
    """The watermark of the feed's latest successful pull (landed, identical or empty)."""
    row = (ctx.records.read("deliveries")
           .where((F.col("feed") == feed) & F.col("status").isin("landed", "duplicate", "empty")
                  & F.col("watermark").isNotNull())
           .orderBy(F.col("at").desc(), F.col("watermark").desc()).select("watermark").first())
    return None if row is None else str(row["watermark"])


def _land_pull(ctx: Context, contract: FeedContract, result: StageResult) -> None:
    """Pull the feed from its source into a fresh landing folder, then land it as one batch.

    The puller writes what the source returned, unchanged; this records the digest of every
    file (``SHA256SUMS``, in ``sha256sum`` format) and a manifest, and names the batch by the
    digest of ``SHA256SUMS``: a re-pull that returns exactly the same is a duplicate delivery.
    """
    import hashlib

    from convergence.pull import puller

    st, rec, feed = ctx.storage, ctx.records, contract.name
    since = _last_watermark(ctx, feed)
    folder = f"{st.root}/landing/{feed}/_pulling/{ctx.run_id}"
    st.delete_tree(folder)
    base: dict[str, Any] = {"feed": feed, "run_id": ctx.run_id, "at": ctx.now}
    try:
        pulled = puller(contract.delivery.kind).pull(ctx, contract, folder, since)
    except DeliveryError as exc:
        st.delete_tree(folder)
        rec.append("deliveries", [{**base, "file_name": f"pull since {since or 'the start'}",
                                   "status": "refused", "reason": str(exc)}])
        result.problems.append(Problem(feed, "pull", f"refused: {exc}"))
        result.add("refused", 1)
        ctx.audit("delivery_refused", {"feed": feed, "file": "pull", "reason": str(exc)})
        return
    file_date = pulled.file_date or ctx.now.date()
    base.update(file_date=file_date, records=pulled.records, watermark=pulled.watermark,
                source=pulled.source)
    if pulled.records == 0:
        st.delete_tree(folder)
        rec.append("deliveries", [{**base, "file_name": f"pull since {since or 'the start'}",
                                   "status": "empty",
                                   "reason": "the source returned no records"}])
        result.add("empty_pulls", 1)
        return
    # One Spark job digests every file of the pull (an API pull can have a thousand pages).
    found = {str(r["name"]): str(r["d"]) for r in st.spark.read.format("binaryFile")
             .load(folder).select(F.element_at(F.split("path", "/"), -1).alias("name"),
                                  F.sha2("content", 256).alias("d")).collect()}
    missing = [n for n in pulled.files if n not in found]
    if missing:
        st.delete_tree(folder)
        why = f"the pull's file {missing[0]} vanished before it was landed; pulled again next run"
        rec.append("deliveries", [{**base, "file_name": f"pull since {since or 'the start'}",
                                   "status": "refused", "reason": why}])
        result.problems.append(Problem(feed, "pull", f"refused: {why}"))
        result.add("refused", 1)
        return
    sums = [(name, found[name]) for name in pulled.files]
    listing = "".join(f"{d}  {name}\n" for name, d in sums).encode("utf-8")
    digest = hashlib.sha256(listing).hexdigest()
    size = sum(st.file_size(f"{folder}/{name}") for name in pulled.files)
    landed = {r["sha256"]: r["batch_id"] for r in rec.read("deliveries").where(
        (F.col("feed") == feed) & (F.col("status") == "landed")).collect()}
    prefix = contract.name.split(".", 1)[1].upper()
    batch_id = landed.get(digest) or f"{prefix}-{file_date:%Y%m%d}-{digest[:12]}"
    base.update(file_name=batch_id, sha256=digest, bytes=size, batch_id=batch_id)
    if digest in landed:
        st.delete_tree(folder)
        rec.append("deliveries", [{**base, "status": "duplicate",
                                   "reason": f"re-pulled: identical to batch {batch_id}"}])
        result.add("duplicate_pulls", 1)
        return
    target = f"{st.root}/landing/{feed}/{batch_id}"
    st.write_bytes(f"{folder}/SHA256SUMS", listing)
    manifest = {
        "feed": feed, "batch_id": batch_id, "source": pulled.source, "since": since,
        "watermark": pulled.watermark, "records": pulled.records, "bytes": size,
        "files": [{"name": n, "sha256": d} for n, d in sums], "sha256_of_SHA256SUMS": digest,
        "file_date": file_date.isoformat(), "run_id": ctx.run_id,
        "received_at": ctx.now.isoformat(timespec="seconds") + "Z",
        "contract_version": contract.version,
    }
    st.write_bytes(f"{folder}/manifest.json",
                   json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
    st.delete_tree(target)  # a half-moved folder of a crashed run (never recorded as landed)
    st.rename(folder, target)
    faults.point("land.moved")
    landed_size = sum(st.file_size(f"{target}/{name}") for name in pulled.files)
    rec.append("reconciliation", [_check(ctx, feed, batch_id, CHECK_LANDED, size, landed_size)])
    rec.append("deliveries", [{**base, "status": "landed", "landing_path": target}])
    result.batches += 1
    result.add("landed_pulls", 1)
    result.add("pulled_records", pulled.records)


def _audit_stage(ctx: Context, result: StageResult) -> None:
    """One audit entry per stage run: what it did, in counts, and how many problems."""
    ctx.audit("run", {"feed": result.feed, "stage": result.stage, "batches": result.batches,
                      "rows": result.rows, "counts": result.counts,
                      "problems": len(result.problems)})


def _add_freshness(ctx: Context, contract: FeedContract, result: StageResult) -> None:
    """Check the freshness gate (always recorded); report it unless the stage already reported
    a problem (a refused delivery explains the feed's staleness in its own line)."""
    stale = freshness_problem(ctx, contract)
    if stale and not result.problems:
        result.problems.append(stale)


def freshness_problem(ctx: Context, contract: FeedContract) -> Problem | None:
    """The freshness gate: a problem when nothing landed within ``gates.freshness_hours``."""
    feed, limit = contract.name, contract.gates.freshness_hours
    row = ctx.records.read("deliveries").where(
        (F.col("feed") == feed) & F.col("status").isin("landed", "empty")).agg(F.max("at")).first()
    latest = row[0] if row else None
    age = None if latest is None else (ctx.now - latest).total_seconds() / 3600
    ok = age is not None and age <= limit
    ctx.records.append("quality_results", [{
        "result_id": f"qr-{uuid.uuid4().hex[:12]}", "feed": feed, "suite": contract.suite_name,
        "rule_id": GATE_FRESHNESS, "check": "freshness", "action": "fail",
        "element_count": None if age is None else round(age), "unexpected_count": None,
        "success": ok, "run_id": ctx.run_id, "at": ctx.now,
    }])
    if ok:
        return None
    since = "no delivery has ever landed" if age is None else f"the last landed {age:.0f}h ago"
    return Problem(feed, "-", f"{GATE_FRESHNESS}: {since} (limit {limit:g}h for a "
                              f"{contract.cadence} feed)")


def volume_problem(ctx: Context, contract: FeedContract, batch_id: str, rows: int) -> str | None:
    """The volume gate: a batch far above or below the median of the recent accepted ones."""
    g = contract.gates
    recent = [
        r["rows_in"] for r in ctx.records.latest("batches", ["batch_id", "stage"])
        .where((F.col("feed") == contract.name) & (F.col("stage") == "silver")
               & (F.col("status") == "ok") & (F.col("batch_id") != batch_id))
        .orderBy(F.col("at").desc()).limit(g.volume_history).select("rows_in").collect()
        if r["rows_in"]
    ]
    if len(recent) < g.volume_min_history:
        return None
    recent.sort()
    median = recent[len(recent) // 2] if len(recent) % 2 else (
        recent[len(recent) // 2 - 1] + recent[len(recent) // 2]) / 2
    ratio = rows / median if median else float("inf")
    if 1 / g.volume_max_ratio <= ratio <= g.volume_max_ratio:
        return None
    return (f"{GATE_VOLUME}: {rows:,} records, {ratio:.2g}x the median {median:,.0f} of the "
            f"last {len(recent)} accepted batches (allowed 1/{g.volume_max_ratio:g}x to "
            f"{g.volume_max_ratio:g}x)")


# --------------------------------------------------------------------------- bronze
def _pending(ctx: Context, feed: str, stage: str, after: str | None) -> list[dict[str, Any]]:
    """Landed batches (or batches done with stage ``after``) with no record for ``stage``."""
    rec = ctx.records
    if after is None:  # release batches are written to bronze directly: no landed file
        todo = rec.read("deliveries").where(
            (F.col("feed") == feed) & (F.col("status") == "landed")
            & F.col("landing_path").isNotNull()
        )
    else:
        done = rec.read("batches").where(
            (F.col("feed") == feed) & (F.col("stage") == after) & (F.col("status") == "ok")
        ).select("batch_id")
        todo = rec.read("deliveries").where(
            (F.col("feed") == feed) & (F.col("status") == "landed")
        ).join(done, "batch_id", "left_semi")
    seen = rec.read("batches").where((F.col("feed") == feed) & (F.col("stage") == stage))
    todo = todo.join(seen.select("batch_id"), "batch_id", "left_anti")
    return [r.asDict() for r in todo.orderBy("file_date", "file_name").collect()]


def _batch(row: dict[str, Any]) -> Batch:
    return Batch(
        batch_id=row["batch_id"], feed=row["feed"], file_name=row["file_name"],
        path=row["landing_path"], sha256=row["sha256"], file_date=row["file_date"],
    )


@traced("bronze")
def bronze(ctx: Context, contract: FeedContract) -> StageResult:
    """Append every landed, not yet ingested batch to the feed's bronze table."""
    from jobs.readers import reader

    st, feed = ctx.storage, contract.name
    result = StageResult(feed, "bronze")
    fmt = reader(contract.delivery.format)
    refused: list[dict[str, Any]] = []  # recorded together at the end (a re-run refuses again)
    for row in _pending(ctx, feed, "bronze", None):
        batch = _batch(row)
        base = {"feed": feed, "batch_id": batch.batch_id, "stage": "bronze",
                "contract_version": contract.version, "run_id": ctx.run_id, "at": ctx.now}
        try:
            fmt.check(st, batch, contract)
            _record_drift(ctx, contract, batch, fmt, result)
            declared = fmt.declared(st, batch, contract)
            raw = fmt.read(st.spark, batch, contract)
            delivered = raw.count()
            if not st.contains("bronze", feed, "_batch_id", batch.batch_id):
                df = bronze_job.to_bronze(raw, contract, batch)
                st.append(df, "bronze", feed, {"run_id": ctx.run_id, "batch_id": batch.batch_id,
                                               "contract_version": contract.version})
                faults.point("bronze.appended")
        except DeliveryError as exc:
            refused.append({**base, "status": "refused", "reason": str(exc)})
            result.problems.append(Problem(feed, batch.file_name, f"refused: {exc}"))
            result.add("refused", 1)
            continue
        n = st.read("bronze", feed).where(F.col("_batch_id") == batch.batch_id).count()
        checks = [_check(ctx, feed, batch.batch_id, CHECK_BRONZE, delivered, n)]
        if declared is not None:
            checks.append(_check(ctx, feed, batch.batch_id, CHECK_DECLARED, declared, n))
        ctx.records.append("reconciliation", checks)
        broken = [c for c in checks if not c["holds"]]
        if broken:
            reason = "reconciliation failed: " + "; ".join(
                f"{c['check']} ({c['actual']} != {c['expected']})" for c in broken)
            ctx.records.append("batches", [{**base, "status": "failed", "rows_in": delivered,
                                            "rows_out": n, "reason": reason}])
            result.problems.append(Problem(feed, batch.file_name, reason))
            continue
        ctx.records.append("batches", [{**base, "status": "ok", "rows_in": n, "rows_out": n}])
        result.batches += 1
        result.rows += n
    if refused:
        ctx.records.append("batches", refused)
    _audit_stage(ctx, result)
    return result


def _record_drift(ctx: Context, contract: FeedContract, batch: Batch, fmt: Any,
                  result: StageResult) -> None:
    """Schema drift a reader reports (``drift``: new fields the contract does not know): kept
    in the quality results as a warning for the steward; the run goes on."""
    drift = getattr(fmt, "drift", None)
    lines: list[str] = drift(ctx.storage, batch, contract) if drift else []
    if not lines:
        return
    ctx.records.append("quality_results", [{
        "result_id": f"qr-{uuid.uuid4().hex[:12]}", "feed": contract.name,
        "batch_id": batch.batch_id, "suite": contract.suite_name, "rule_id": RULE_DRIFT,
        "column": None, "check": f"schema drift: {line}"[:500], "action": "warn",
        "element_count": None, "unexpected_count": 1, "success": False, "run_id": ctx.run_id,
        "at": ctx.now} for line in lines])
    result.add("schema_drift", len(lines))
    result.notes.extend(Problem(contract.name, batch.file_name, f"schema drift: {line}")
                        for line in lines)


# --------------------------------------------------------------------------- silver
def _quarantine_frame(rows: DataFrame, rule_ids: Any, reason: Any) -> DataFrame:
    """Quarantine rows: the record as delivered (``_raw_record``: its text when it did not
    split into fields), the rules it fails and why, its lineage."""
    raw = F.col(bronze_job.CORRUPT) if bronze_job.CORRUPT in rows.columns else F.lit(None)
    return rows.select(
        "_bronze.*",
        raw.cast("string").alias("_raw_record"),
        rule_ids.alias("_rule_ids"),
        reason.alias("_reason"),
        *[F.col(c) for c in conform_job.LINEAGE_COLUMNS],
    )


def _repeated_header(contract: FeedContract) -> Any:
    """True for a row that is the CSV header again (every field holds its wire name)."""
    d = contract.delivery
    if d.format != "csv" or not d.header:
        return F.lit(False)
    # A BOM before the repeated header: two BOM files concatenated with ``cat``.
    # An optional column the delivery lacks (schema drift) is read as no value: it matches.
    same = [F.coalesce(F.regexp_replace(conform_job.trim_ws(F.col(f.name)), "^\ufeff", "")
                       == F.lit(f.wire), F.lit(not f.required))
            for f in contract.fields]
    return functools.reduce(lambda a, b: a & b, same)


@traced("silver")
def silver(ctx: Context, contract: FeedContract) -> StageResult:
    """Conform, validate and merge each bronze batch into silver, in delivery order.

    Per batch: the Great Expectations suite of the contract runs on the conformed rows; if the
    gate fails nothing of the batch reaches silver. Otherwise rows failing a quarantine rule
    go to the feed's quarantine table with the rule and the reason; the rest is deduplicated
    (within the batch and against earlier batches) and merged into the events table and the
    entity's current state. The reconciliation bronze = silver + quarantined + duplicates is
    checked and recorded.
    """
    from quality.checks import quarantine_summary, split_by_rules
    from quality.gate import validate

    st, rec, feed = ctx.storage, ctx.records, contract.name
    result = StageResult(feed, "silver")
    for row in _pending(ctx, feed, "silver", "bronze"):
        batch = _batch(row)
        base = {"feed": feed, "batch_id": batch.batch_id, "stage": "silver",
                "contract_version": contract.version, "run_id": ctx.run_id, "at": ctx.now}
        meta = {"run_id": ctx.run_id, "batch_id": batch.batch_id,
                "contract_version": contract.version}
        raw = st.read("bronze", feed).where(F.col("_batch_id") == batch.batch_id)
        flagged = raw.withColumn("_header", _repeated_header(contract)).withColumn(
            "_malformed", F.col(bronze_job.CORRUPT).isNotNull() | F.col("_header"))
        conformed = conform_job.conform(
            flagged, contract, keep=["_malformed", "_header", bronze_job.CORRUPT]).persist()
        try:
            n_in = conformed.count()
            if n_in < contract.gates.min_rows or n_in == 0:
                # A header-only delivery: no records (a day without changes, if the contract
                # allows it), or a batch below the contract's minimum.
                ok = n_in >= contract.gates.min_rows
                why = None if ok else (f"quality gate failed: gate.min_rows: {n_in} records, "
                                       f"the contract requires at least {contract.gates.min_rows}")
                rec.append("reconciliation", [_check(ctx, feed, batch.batch_id, CHECK_SILVER,
                                                     n_in, 0)])
                rec.append("batches", [{**base, "status": "ok" if ok else "failed",
                                        "rows_in": n_in, "rows_out": 0, "duplicates": 0,
                                        "quarantined": 0, "reason": why}])
                if why:
                    result.problems.append(Problem(feed, batch.file_name, why))
                    result.add("failed_batches", 1)
                else:
                    result.batches += 1
                continue
            wellformed = conformed.where("NOT _malformed").drop(
                "_malformed", "_header", bronze_job.CORRUPT)
            malformed = conformed.where("_malformed").drop("_malformed")
            gate = validate(wellformed, contract)
            n_malformed = n_in - gate.rows
            # A steward's release is small by nature: no volume or quarantined-share gate;
            # its rows that still fail a rule simply go back to quarantine.
            released = batch.batch_id.startswith(RELEASE_PREFIX)
            volume = None if released else volume_problem(ctx, contract, batch.batch_id, n_in)
            passed = gate.success or (released and all(
                r.success for r in gate.rules if r.action == "fail"))
            result_id = f"qr-{uuid.uuid4().hex[:12]}"
            common = {"result_id": result_id, "feed": feed, "batch_id": batch.batch_id,
                      "suite": gate.suite, "run_id": ctx.run_id, "at": ctx.now}
            rec.append("quality_results", [
                *({**common, "rule_id": r.rule_id, "column": r.column, "check": r.check,
                   "action": r.action, "element_count": r.element_count,
                   "unexpected_count": r.unexpected_count, "success": r.success}
                  for r in gate.rules),
                {**common, "rule_id": GATE_VOLUME, "check": "volume", "action": "fail",
                 "element_count": n_in, "success": volume is None},
            ])
            result.assertions.extend(
                (r.rule_id, bool(r.success), r.column) for r in gate.rules)
            if not passed or volume:
                failures = gate.failures() + ([volume] if volume else [])
                failed = "quality gate failed: " + "; ".join(failures)
                rec.append("batches", [{**base, "status": "failed", "rows_in": n_in,
                                        "reason": failed}])
                ctx.audit("gate_failure", {"feed": feed, "batch_id": batch.batch_id,
                                           "result_id": result_id, "reason": failed})
                result.problems.append(Problem(feed, batch.file_name, failed))
                result.add("failed_batches", 1)
                continue
            passing, quarantined = split_by_rules(wellformed, contract)
            header = F.col("_header")
            bad_format = _quarantine_frame(
                malformed,
                F.array(F.when(header, F.lit(RULE_REPEATED_HEADER)).otherwise(RULE_MALFORMED)),
                F.when(header, F.lit(f"{RULE_REPEATED_HEADER}: the header row repeated inside "
                                     "the file (extracts concatenated); not a record"))
                .otherwise(F.lit(f"{RULE_MALFORMED}: the record does not split into the "
                                 "contract's fields, or holds a control character")),
            )
            q = _quarantine_frame(quarantined, F.col("_rule_ids"), F.col("_reason"))
            if not st.contains("quarantine", feed, "_batch_id", batch.batch_id):
                st.append(q.unionByName(bad_format), "quarantine", feed, meta)
                faults.point("silver.quarantined")
            n_quarantined = gate.quarantined_rows + n_malformed

            # Duplicates: an event repeated within the batch, or already in silver from an
            # earlier batch. One aggregation counts both.
            events = conform_job.mark_duplicates(conform_job.with_event_id(passing, contract))
            if st.exists("silver", feed):
                earlier = (st.read("silver", feed).where(F.col("_batch_id") != batch.batch_id)
                           .select("_event_id").distinct().withColumn("_seen", F.lit(True)))
                # A join on a name puts that column first: keep the columns' order, so that
                # the tables' schema does not depend on whether silver existed already.
                events = events.join(earlier, "_event_id", "left").select(*events.columns,
                                                                          "_seen")
            else:
                events = events.withColumn("_seen", F.lit(None).cast("boolean"))
            seen = F.coalesce(F.col("_seen"), F.lit(False))
            events = events.withColumn("_dup", F.col("_dup_in_batch") | seen).persist()
            counts = events.agg(
                F.count(F.lit(1)).alias("passing"),
                F.coalesce(F.sum(F.col("_dup_in_batch").cast("long")), F.lit(0)).alias("in_batch"),
                F.coalesce(F.sum(F.col("_dup").cast("long")), F.lit(0)).alias("dup"),
            ).first()
            assert counts is not None
            n_passing, duplicates = int(counts["passing"]), int(counts["dup"])
            n_new = n_passing - duplicates
            new = conform_job.to_silver(
                events.where("NOT _dup").drop("_dup", "_dup_in_batch", "_seen"))
            if not st.contains("silver", feed, "_batch_id", batch.batch_id):
                st.append(new, "silver", feed, meta)
                faults.point("silver.events")
            current = conform_job.latest_per_key(new, contract)
            update = {f"`{c}`": f"s.`{c}`" for c in new.columns}
            for c in contract.sticky:
                update[f"`{c}`"] = f"coalesce(s.`{c}`, t.`{c}`)"
            st.upsert(current, "silver", contract.entity, contract.primary_key,
                      conform_job.newer_condition(contract), update, meta)
            faults.point("silver.merged")
            events.unpersist()
            check = _check(ctx, feed, batch.batch_id, CHECK_SILVER, n_in,
                           n_new + duplicates + n_quarantined)
            rec.append("reconciliation", [check])
            status, reason = "ok", None
            if not check["holds"]:
                status = "failed"
                reason = (f"reconciliation failed: bronze {n_in} != silver {n_new} + "
                          f"duplicates {duplicates} + quarantined {n_quarantined}")
                result.problems.append(Problem(feed, batch.file_name, reason))
            rec.append("batches", [{**base, "status": status, "rows_in": n_in, "rows_out": n_new,
                                    "duplicates": duplicates, "quarantined": n_quarantined,
                                    "reason": reason}])
            result.batches += 1
            result.rows += n_in
            result.add("silver_rows", n_new)
            result.add("duplicates", duplicates)
            result.add("duplicates_in_batch", int(counts["in_batch"]))
            result.add("quarantined", n_quarantined)
            if n_quarantined:
                in_quarantine = st.read("quarantine", feed).where(
                    F.col("_batch_id") == batch.batch_id)
                result.notes.append(Problem(feed, batch.file_name,
                                            quarantine_summary(in_quarantine, n_quarantined)))
            result.add("warnings", sum(r.unexpected_count or 0 for r in gate.rules
                                       if r.action == "warn"))
        finally:
            conformed.unpersist()
    _audit_stage(ctx, result)
    return result


def run_feed(ctx: Context, contract: FeedContract) -> list[StageResult]:
    """Land, ingest to bronze and conform to silver every pending delivery of a feed."""
    return [land(ctx, contract), bronze(ctx, contract), silver(ctx, contract)]


# --------------------------------------------------------------------------- publish
@dataclass
class PublishResult:
    """The outcome of a publish: published, up to date, or refused (with the gate)."""

    dataset: str
    status: str
    version: int | None = None
    rows: int = 0
    key_id: str | None = None
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary."""
        d = asdict(self)
        d["problems"] = [str(p) for p in self.problems]
        return d


def _inputs_state(ctx: Context, dc: DatasetContract) -> dict[str, Any]:
    """The silver versions (events table and entity) and contract versions the candidate is
    built from."""
    out: dict[str, Any] = {}
    for name in dc.inputs:
        fc = contracts.feed(name)
        out[name] = {
            "contract_version": fc.version,
            "silver_version": ctx.storage.version("silver", fc.entity),
            "entity": fc.entity,
            "events_version": ctx.storage.version("silver", fc.name),
        }
    return out


def _transform(dc: DatasetContract) -> Callable[..., DataFrame]:
    """The dataset's pure transform, ``module:function`` of its contract."""
    import importlib

    module, _, func = (dc.transform or "jobs.person_coverage:person_coverage").partition(":")
    fn: Callable[..., DataFrame] = getattr(importlib.import_module(module), func)
    return fn


def _silver_inputs(ctx: Context, dc: DatasetContract) -> dict[str, DataFrame]:
    """Each input feed's silver tables by name: its events (``<feed>``) and its entity."""
    out: dict[str, DataFrame] = {}
    for name in dc.inputs:
        fc = contracts.feed(name)
        out[fc.name] = ctx.storage.read("silver", fc.name)
        out[fc.entity] = ctx.storage.read("silver", fc.entity)
    return out


def _known_values(ctx: Context, dc: DatasetContract) -> dict[str, DataFrame]:
    """The personal values of the inputs the leak gate searches for, by recognizer entity
    (a contract field's ``entity``): names, identifiers, addresses, account numbers."""
    known: dict[str, DataFrame] = {}
    for name in dc.inputs:
        fc = contracts.feed(name)
        for f in fc.fields:
            if f.entity and f.type == "string":
                col = ctx.storage.read("silver", fc.name).select(F.col(f.name).alias("v"))
                known[f.entity] = known[f.entity].unionByName(col) if f.entity in known else col
    return known


def _reconciliation_problems(ctx: Context, dc: DatasetContract) -> list[Problem]:
    """Batches of the inputs that are unaccounted for: landed but not processed, or failed."""
    problems = []
    for name in dc.inputs:
        landed = ctx.records.read("deliveries").where(
            (F.col("feed") == name) & (F.col("status") == "landed"))
        latest = ctx.records.latest("batches", ["batch_id", "stage"]).where(F.col("feed") == name)
        silver_done = latest.where(F.col("stage") == "silver").select("batch_id")
        refused = latest.where(F.col("status") == "refused").select("batch_id")
        pending = landed.join(silver_done, "batch_id", "left_anti").join(
            refused, "batch_id", "left_anti").count()
        if pending:
            problems.append(Problem(name, "-", f"reconciliation gate: {pending} landed batch(es) "
                                    "not processed yet; run the feed first"))
        bad = latest.where((F.col("stage") == "silver") & (F.col("status") == "failed")
                           & F.col("reason").startswith("reconciliation")).count()
        if bad:
            problems.append(Problem(name, "-", f"reconciliation gate: {bad} batch(es) do not "
                                    "reconcile (bronze != silver + quarantined + duplicates)"))
    return problems


def publish(ctx: Context, dc: DatasetContract, snapshot_date: date) -> PublishResult:
    """Build the candidate, pass every gate, then publish it atomically in one Delta commit.

    The publish is a job of its own in the lineage (START, then COMPLETE or FAIL)."""
    from lineage import pipeline as lp

    job = f"publish.{dc.name}"
    ins, outs = lp.publish_datasets(ctx, dc)
    lp.emit(ctx, "START", job, ins, outs)
    try:
        with lock(ctx, dc.name):
            res = _publish(ctx, dc, snapshot_date)
    except Exception as exc:
        lp.emit(ctx, "FAIL", job, ins, outs, error=f"{type(exc).__name__} in {job}")
        raise
    ins, outs = lp.publish_datasets(ctx, dc)
    problems = "; ".join(str(p) for p in res.problems) or None
    lp.emit(ctx, "FAIL" if problems else "COMPLETE", job, ins, outs, error=problems)
    return res


def _publish(ctx: Context, dc: DatasetContract, snapshot_date: date) -> PublishResult:
    from masking.keys import MissingKeyError, PseudonymKey
    from masking.leak import scan

    st = ctx.storage
    res = PublishResult(dc.name, "refused")
    try:
        key = PseudonymKey.from_env()
    except MissingKeyError as exc:
        res.problems.append(Problem(dc.name, "-", str(exc)))
        ctx.audit("gate_failure", {"dataset": dc.name, "status": res.status,
                                   "reasons": [str(exc)]})
        return res
    res.key_id = key.key_id
    inputs = _inputs_state(ctx, dc)
    missing = [n for n, s in inputs.items() if s["silver_version"] is None]
    if missing:
        res.problems.append(Problem(dc.name, "-", f"no silver data yet for {', '.join(missing)}"))
        return res
    res.problems.extend(_reconciliation_problems(ctx, dc))
    if res.problems:
        _record_publish(ctx, dc, res, inputs)
        return res
    state = {
        "dataset": dc.name, "contract_version": dc.version, "inputs": inputs,
        "key_id": key.key_id, "snapshot_date": snapshot_date.isoformat(),
    }
    current = st.commit_metadata(dc.zone, dc.table)
    if current and all(current.get(k) == v for k, v in state.items()):
        res.status, res.version = "up_to_date", st.version(dc.zone, dc.table)
        res.rows = st.read(dc.zone, dc.table).count()
        _export_open_data(ctx, dc, res, current)  # heals an export a crash left undone
        recorded = ctx.records.read("publishes").where(
            (F.col("dataset") == dc.name) & (F.col("version") == res.version)
            & (F.col("status") == "published")).limit(1).count()
        if not recorded:  # published by a run killed before it recorded the publish
            res.status = "published"
            _record_publish(ctx, dc, res, inputs,
                            note=f"recovered: committed by run {current.get('run_id')}, which "
                                 "stopped before recording it")
            res.status = "up_to_date"
            return res
        ctx.audit("run", {"dataset": dc.name, "status": res.status, "version": res.version,
                          "key_id": res.key_id})
        return res
    candidate = _transform(dc)(_silver_inputs(ctx, dc), snapshot_date, key, dc).persist()
    try:
        known = _known_values(ctx, dc)
        pseudonyms = tuple(c.name for c in dc.columns if c.masking == "pseudonymize")
        findings = scan(candidate, dc.name, known, pseudonyms)
        if findings:
            for f in findings:
                res.problems.append(Problem(dc.name, f.column, f"leak gate: {f}"))
            _record_publish(ctx, dc, res, inputs)
            return res
        res.problems.extend(_disclosure_problems(dc, candidate))
        if res.problems:
            _record_publish(ctx, dc, res, inputs)
            return res
        quality_ids = [
            r["result_id"] for r in ctx.records.read("quality_results")
            .where(F.col("feed").isin(*dc.inputs)).select("result_id").distinct().collect()
        ]
        metadata = {**state, "run_id": ctx.run_id, "quality_result_ids": sorted(quality_ids),
                    "published_at": ctx.now.isoformat(timespec="seconds") + "Z",
                    "audit_anchor": _audit_anchor(ctx)}
        previous_key = current.get("key_id") if current else None
        if previous_key and previous_key != key.key_id:
            ctx.audit("key_rotation", {"dataset": dc.name, "from_key_id": previous_key,
                                       "to_key_id": key.key_id})
        st.overwrite(candidate, dc.zone, dc.table, metadata)
        faults.point("gold.written")
        res.status = "published"
        res.version = st.version(dc.zone, dc.table)
        res.rows = st.read(dc.zone, dc.table).count()
        _export_open_data(ctx, dc, res, metadata)
    finally:
        candidate.unpersist()
    _record_publish(ctx, dc, res, inputs)
    return res


def _disclosure_problems(dc: DatasetContract, candidate: DataFrame) -> list[Problem]:
    """The disclosure gate of an open-data dataset: its small-cell rule holds (counts, never
    values, in the messages)."""
    if "disclosure" not in dc.gates:
        return []
    from jobs.opendata_export import disclosure_settings
    from masking.disclosure import check_disclosure

    rule = disclosure_settings(dc)
    if rule is None:
        return [Problem(dc.name, "-", "disclosure gate: the contract has no options.disclosure "
                        "rule; an open-data publish needs one")]
    found = check_disclosure(candidate, list(rule.dimensions), None, rule.count_column,
                             rule.low, rule.high)
    return [Problem(dc.name, rule.count_column, f"disclosure gate: {p}") for p in found]


def open_data_files(ctx: Context, dc: DatasetContract) -> str:
    """Where the files of an open-data dataset are exported (beside its Delta table)."""
    return f"{ctx.storage.root}/opendata/files/{dc.table}"


def _export_open_data(
    ctx: Context, dc: DatasetContract, res: PublishResult, metadata: dict[str, Any]
) -> None:
    """Export the published open-data version as files (CSV with BOM, Parquet, dictionary)
    unless the pointer already names this version."""
    if dc.zone != "opendata" or res.version is None:
        return
    from jobs.opendata_export import current, export_open_data

    target = open_data_files(ctx, dc)
    pointed = current(ctx.storage.spark, target)
    if pointed is not None and str(pointed.get("version")) == str(res.version):
        return
    keep = ("snapshot_date", "key_id", "run_id", "published_at", "contract_version")
    export_open_data(ctx.storage.read(dc.zone, dc.table, version=res.version), dc, target,
                     str(res.version), {**{k: metadata.get(k) for k in keep},
                                        "delta_version": res.version})


def _audit_anchor(ctx: Context) -> str | None:
    """``SEQ:HASH`` of the audit log's head, kept in the published version's commit metadata:
    ``lakehouse audit verify`` checks that the log still reaches every anchor unchanged."""
    if not ctx.settings.is_local:
        return None
    from audit.log import head

    seq, digest = head(ctx.settings.root)
    return f"{seq}:{digest}"


def _record_publish(
    ctx: Context, dc: DatasetContract, res: PublishResult, inputs: dict[str, Any],
    note: str | None = None,
) -> None:
    ctx.audit("publish" if res.status == "published" else "gate_failure", {
        "dataset": dc.name, "status": res.status, "version": res.version, "rows": res.rows,
        "key_id": res.key_id, "reasons": [p.reason for p in res.problems],
        **({"note": note} if note else {})})
    ctx.records.append("publishes", [{
        "dataset": dc.name, "version": res.version, "status": res.status,
        "reason": "; ".join(p.reason for p in res.problems) or note, "rows": res.rows,
        "key_id": res.key_id, "inputs": json.dumps(inputs, sort_keys=True),
        "contract_version": dc.version, "run_id": ctx.run_id, "at": ctx.now,
    }])


__all__ = [
    "Context", "Problem", "PublishResult", "StageResult", "bronze", "land",
    "publish", "run_feed", "silver",
]
