"""The bronze stage: every landed, not yet ingested batch appended to the feed's bronze table.

Per batch: the reader checks the delivery whole (:meth:`check`), reports schema drift, reads
what the delivery declares (a trailer count), reads every record as strings and appends them
with their lineage in one commit, guarded by the batch id (a re-run appends nothing twice). The
reconciliation ``bronze rows = delivered records`` (and ``= declared``) is recorded; a batch
that does not reconcile fails. A refused delivery is recorded once per stage run.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import functions as F

from jobs import bronze as bronze_job
from jobs.bronze import Batch
from jobs.readers import reader
from kernel import faults
from kernel.context import Context
from kernel.contracts import FeedContract
from kernel.errors import DeliveryError
from quality.ids import CHECK_BRONZE, CHECK_DECLARED, RULE_DRIFT
from stages.common import audit_stage, batch_row, check_row, pending, quality_row, traced
from stages.results import Problem, StageResult


@traced("bronze")
def bronze(ctx: Context, contract: FeedContract) -> StageResult:
    """Append every landed, not yet ingested batch to the feed's bronze table."""
    result = StageResult(contract.name, "bronze")
    refused: list[dict[str, Any]] = []  # recorded together at the end (a re-run refuses again)
    for batch in pending(ctx, contract.name, "bronze", None):
        try:
            delivered, declared = _ingest(ctx, contract, batch, result)
        except DeliveryError as exc:
            refused.append(batch_row(ctx, contract, batch.batch_id, "bronze", "refused",
                                     reason=str(exc)))
            result.problems.append(Problem(contract.name, batch.file_name, f"refused: {exc}"))
            result.add("refused", 1)
            continue
        _reconcile(ctx, contract, batch, delivered, declared, result)
    if refused:
        ctx.records.append("batches", refused)
    audit_stage(ctx, result)
    return result


def _ingest(ctx: Context, contract: FeedContract, batch: Batch,
            result: StageResult) -> tuple[int, int | None]:
    """Check and read one delivery, append its records to bronze (once); the number of records
    delivered and the number the delivery declares (``None`` when it declares none)."""
    st = ctx.storage
    fmt = reader(contract.delivery.format)
    fmt.check(st, batch, contract)
    _record_drift(ctx, contract, batch, fmt, result)
    declared = fmt.declared(st, batch, contract)
    raw = fmt.read(st.spark, batch, contract)
    delivered = raw.count()
    if not st.contains("bronze", contract.name, "_batch_id", batch.batch_id):
        df = bronze_job.to_bronze(raw, contract, batch)
        st.append(df, "bronze", contract.name, {"run_id": ctx.run_id, "batch_id": batch.batch_id,
                                                "contract_version": contract.version})
        faults.point("bronze.appended")
    return delivered, declared


def _reconcile(ctx: Context, contract: FeedContract, batch: Batch, delivered: int,
               declared: int | None, result: StageResult) -> None:
    """Record ``bronze rows = delivered (= declared)`` and the batch's bronze outcome."""
    feed = contract.name
    n = ctx.storage.read("bronze", feed).where(F.col("_batch_id") == batch.batch_id).count()
    checks = [check_row(ctx, feed, batch.batch_id, CHECK_BRONZE, delivered, n)]
    if declared is not None:
        checks.append(check_row(ctx, feed, batch.batch_id, CHECK_DECLARED, declared, n))
    ctx.records.append("reconciliation", checks)
    broken = [c for c in checks if not c["holds"]]
    if broken:
        reason = "reconciliation failed: " + "; ".join(
            f"{c['check']} ({c['actual']} != {c['expected']})" for c in broken)
        ctx.records.append("batches", [batch_row(ctx, contract, batch.batch_id, "bronze",
                                                 "failed", rows_in=delivered, rows_out=n,
                                                 reason=reason)])
        result.problems.append(Problem(feed, batch.file_name, reason))
        return
    ctx.records.append("batches", [batch_row(ctx, contract, batch.batch_id, "bronze", "ok",
                                             rows_in=n, rows_out=n)])
    result.batches += 1
    result.rows += n


def _record_drift(ctx: Context, contract: FeedContract, batch: Batch, fmt: Any,
                  result: StageResult) -> None:
    """Schema drift a reader reports (``drift``: new fields the contract does not know): kept
    in the quality results as a warning for the steward; the run goes on."""
    drift = getattr(fmt, "drift", None)
    lines: list[str] = drift(ctx.storage, batch, contract) if drift else []
    if not lines:
        return
    ctx.records.append("quality_results", [
        quality_row(ctx, contract, RULE_DRIFT, f"schema drift: {line}", False, action="warn",
                    batch_id=batch.batch_id, unexpected_count=1) for line in lines])
    result.add("schema_drift", len(lines))
    result.notes.extend(Problem(contract.name, batch.file_name, f"schema drift: {line}")
                        for line in lines)
