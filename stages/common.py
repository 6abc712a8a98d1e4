"""What every stage shares: the run records it writes, the batches it has to do, its audit
entry and its lineage events.

Records hold counts, digests, rule ids and reasons, never a value: a reconciliation check
(:func:`check_row`), a quality result (:func:`quality_row`), one audit entry per stage run
(:func:`audit_stage`). :func:`traced` wraps a stage in its OpenLineage START and COMPLETE/FAIL
events and in the feed's lock (one writer per feed).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

from jobs.bronze import Batch
from kernel import faults
from kernel.context import Context
from kernel.contracts import FeedContract
from kernel.locks import lock
from stages.results import StageResult

StageFn = Callable[[Context, FeedContract], StageResult]
RELEASE_PREFIX = "release-"
"""Batch ids of quarantined rows a steward released back through silver."""


def check_row(
    ctx: Context, feed: str, batch_id: str, check: str, expected: int, actual: int
) -> dict[str, Any]:
    """One reconciliation record: a check, its expected and actual counts, whether it holds."""
    return {"feed": feed, "batch_id": batch_id, "check": check, "expected": int(expected),
            "actual": int(actual), "holds": int(expected) == int(actual), "run_id": ctx.run_id,
            "at": ctx.now}


def quality_row(
    ctx: Context, contract: FeedContract, rule_id: str, check: str, success: bool, *,
    action: str = "fail", batch_id: str | None = None, column: str | None = None,
    element_count: int | None = None, unexpected_count: int | None = None,
    result_id: str | None = None, suite: str | None = None,
) -> dict[str, Any]:
    """One quality result: a rule or gate of a feed (and batch), its counts and outcome.

    ``check`` says what was checked, or for a batch gate what was observed (counts, ratios:
    never a value)."""
    return {"result_id": result_id or new_result_id(), "feed": contract.name,
            "batch_id": batch_id, "suite": suite or contract.suite_name, "rule_id": rule_id,
            "column": column, "check": check[:500], "action": action,
            "element_count": element_count, "unexpected_count": unexpected_count,
            "success": bool(success), "run_id": ctx.run_id, "at": ctx.now}


def new_result_id() -> str:
    """A fresh quality-result id (``qr-`` and 12 hex digits)."""
    return f"qr-{uuid.uuid4().hex[:12]}"


def batch_row(ctx: Context, contract: FeedContract, batch_id: str, stage: str,
              status: str, **counts: Any) -> dict[str, Any]:
    """One ``system/batches`` record: a batch's outcome at a stage with its counts."""
    return {"feed": contract.name, "batch_id": batch_id, "stage": stage, "status": status,
            "contract_version": contract.version, "run_id": ctx.run_id, "at": ctx.now,
            **counts}


def landed_digests(ctx: Context, feed: str) -> dict[str, str]:
    """The digest of every delivery of the feed already landed, to its batch id."""
    return {str(r["sha256"]): str(r["batch_id"])
            for r in ctx.records.rows("deliveries", feed=feed, status="landed")}


def pending(ctx: Context, feed: str, stage: str, after: str | None) -> list[Batch]:
    """Landed batches (or batches done with stage ``after``) with no record for ``stage``, in
    delivery order (the run records looked up in Python: no Spark job)."""
    rec = ctx.records
    todo = rec.rows("deliveries", feed=feed, status="landed")
    batches = rec.rows("batches", feed=feed)
    if after is None:  # release batches are written to bronze directly: no landed file
        todo = [r for r in todo if r["landing_path"] is not None]
    else:
        done = {r["batch_id"] for r in batches if r["stage"] == after and r["status"] == "ok"}
        todo = [r for r in todo if r["batch_id"] in done]
    seen = {r["batch_id"] for r in batches if r["stage"] == stage}
    todo = sorted((r for r in todo if r["batch_id"] not in seen),
                  key=lambda r: (r["file_date"] is not None, r["file_date"],
                                 r["file_name"] is not None, r["file_name"]))
    return [Batch(batch_id=r["batch_id"], feed=r["feed"], file_name=r["file_name"],
                  path=r["landing_path"], sha256=r["sha256"], file_date=r["file_date"])
            for r in todo]


def audit_stage(ctx: Context, result: StageResult) -> None:
    """One audit entry per stage run: what it did, in counts, and how many problems."""
    ctx.audit("run", {"feed": result.feed, "stage": result.stage, "batches": result.batches,
                      "rows": result.rows, "counts": result.counts,
                      "problems": len(result.problems)})


def traced(stage: str) -> Callable[[StageFn], StageFn]:
    """Run a stage of a feed under the feed's lock, between OpenLineage START and
    COMPLETE/FAIL events.

    A stage that reports problems (a refused delivery, a failed gate) ends with FAIL and the
    problems as the error message (file names, rule ids and counts: no values).
    """

    def wrap(fn: StageFn) -> StageFn:
        @functools.wraps(fn)
        def run(ctx: Context, contract: FeedContract) -> StageResult:
            from lineage import pipeline as lp
            from lineage.events import Assertion

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
            quality = [Assertion(rule, ok, col) for rule, ok, col in result.assertions]
            ins, outs = lp.stage_datasets(ctx, contract, stage, quality=quality)
            problems = "; ".join(str(p) for p in result.problems) or None
            lp.emit(ctx, "FAIL" if problems else "COMPLETE", job, ins, outs, error=problems)
            return result

        return run

    return wrap
