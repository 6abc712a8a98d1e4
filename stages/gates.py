"""The batch gates of a feed that look beyond one batch: freshness and volume.

Both read the run records: freshness the time of the feed's latest landed delivery, volume the
sizes of its recent accepted batches. Each result is recorded in ``system/quality_results``
under its gate id (:mod:`quality.ids`) with what was observed (hours, records, ratio).
"""

from __future__ import annotations

from kernel.context import Context
from kernel.contracts import FeedContract
from quality.ids import GATE_FRESHNESS
from quality.verdicts import freshness_verdict, volume_verdict
from stages.common import quality_row
from stages.results import Problem, StageResult


def add_freshness(ctx: Context, contract: FeedContract, result: StageResult) -> None:
    """Check the freshness gate (always recorded); report it unless the stage already reported
    a problem (a refused delivery explains the feed's staleness in its own line)."""
    stale = freshness_problem(ctx, contract)
    if stale and not result.problems:
        result.problems.append(stale)


def freshness_problem(ctx: Context, contract: FeedContract) -> Problem | None:
    """The freshness gate: a problem when nothing landed within ``gates.freshness_hours``."""
    feed, limit = contract.name, contract.gates.freshness_hours
    latest = max((r["at"] for r in ctx.records.rows("deliveries", feed=feed)
                  if r["status"] in ("landed", "empty") and r["at"] is not None), default=None)
    age = None if latest is None else (ctx.now - latest).total_seconds() / 3600
    ok, observed = freshness_verdict(age, limit, contract.cadence)
    ctx.records.append("quality_results", [quality_row(
        ctx, contract, GATE_FRESHNESS, "freshness" if ok else observed, ok,
        element_count=None if age is None else round(age))])
    return None if ok else Problem(feed, "-", f"{GATE_FRESHNESS}: {observed}")


def volume_problem(ctx: Context, contract: FeedContract, batch_id: str, rows: int) -> str | None:
    """The volume gate: what was observed when a batch is far above or below the median of the
    recent accepted ones (``None`` when it is not)."""
    g = contract.gates
    accepted = [r for r in ctx.records.latest_rows("batches", ["batch_id", "stage"],
                                                   feed=contract.name, stage="silver")
                if r["status"] == "ok" and r["batch_id"] != batch_id]
    accepted.sort(key=lambda r: r["at"], reverse=True)
    recent = [r["rows_in"] for r in accepted[:g.volume_history] if r["rows_in"]]
    return volume_verdict(recent, rows, g.volume_max_ratio, g.volume_min_history)
