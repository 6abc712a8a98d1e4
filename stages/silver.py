"""The silver stage: each bronze batch conformed, validated and merged, in delivery order.

Per batch: the rows are conformed (typed, parsed, normalised by the contract); a batch below the
contract's minimum stops there. The Great Expectations suite of the contract and the volume gate
run on the well-formed rows; if a gate fails nothing of the batch reaches silver. Otherwise rows
failing a quarantine rule, and malformed records, go to the feed's quarantine table with the
rule and the reason; the rest is deduplicated (within the batch and against earlier batches)
and merged into the events table and the entity's current state. The reconciliation
``bronze = silver + quarantined + duplicates`` is checked and recorded.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs import bronze as bronze_job
from jobs import conform as conform_job
from jobs.bronze import Batch
from kernel import faults
from kernel.context import Context
from kernel.contracts import FeedContract
from kernel.text import trim_ws
from quality.checks import quarantine_summary, split_by_rules
from quality.ids import (
    CHECK_SILVER,
    GATE_MIN_ROWS,
    GATE_QUARANTINE_SHARE,
    GATE_VOLUME,
    RULE_MALFORMED,
    RULE_REPEATED_HEADER,
)
from quality.verdicts import GateResult, release_passes
from stages.common import (
    RELEASE_PREFIX,
    audit_stage,
    batch_row,
    check_row,
    new_result_id,
    pending,
    quality_row,
    traced,
)
from stages.gates import volume_problem
from stages.results import Problem, StageResult


@dataclass(frozen=True)
class Merged:
    """What a batch's merge did: duplicates (all, and within the batch) and the new events
    the events table holds for the batch, read back after the write."""

    duplicates: int
    in_batch: int
    written: int


@traced("silver")
def silver(ctx: Context, contract: FeedContract) -> StageResult:
    """Conform, validate and merge each bronze batch into silver (see the module docstring)."""
    result = StageResult(contract.name, "silver")
    for batch in pending(ctx, contract.name, "silver", "bronze"):
        conformed = _conformed(ctx, contract, batch).persist()
        try:
            _silver_batch(ctx, contract, batch, conformed, result)
        finally:
            conformed.unpersist()
    audit_stage(ctx, result)
    return result


def _silver_batch(ctx: Context, contract: FeedContract, batch: Batch, conformed: DataFrame,
                  result: StageResult) -> None:
    """One batch through the gates, quarantine and merge (``conformed`` is persisted)."""
    n_in = conformed.count()
    if n_in < contract.gates.min_rows or n_in == 0:
        _too_few(ctx, contract, batch, n_in, result)
        return
    wellformed = conformed.where("NOT _malformed").drop(
        "_malformed", "_header", bronze_job.CORRUPT)
    malformed = conformed.where("_malformed").drop("_malformed")
    from quality.gate import validate  # Great Expectations takes seconds to import: a run
                                       # that reaches the gate pays for it, no other

    gate = validate(wellformed, contract)
    if not _gates_pass(ctx, contract, batch, n_in, gate, result):
        return
    passing, quarantined = split_by_rules(wellformed, contract)
    _quarantine(ctx, contract, batch, quarantined, malformed)
    n_quarantined = gate.quarantined_rows + (n_in - gate.rows)
    merged = _merge(ctx, contract, batch, passing)
    # Reconciled with what the tables hold for the batch, read back after the writes.
    in_quarantine = ctx.storage.read("quarantine", contract.name).where(
        F.col("_batch_id") == batch.batch_id) if n_quarantined else None
    q_written = in_quarantine.count() if in_quarantine is not None else 0
    _reconcile(ctx, contract, batch, n_in, q_written, merged, result)
    if in_quarantine is not None:
        result.notes.append(Problem(contract.name, batch.file_name,
                                    quarantine_summary(in_quarantine, q_written)))
    result.add("warnings", sum(r.unexpected_count or 0 for r in gate.rules
                               if r.action == "warn"))


def _conformed(ctx: Context, contract: FeedContract, batch: Batch) -> DataFrame:
    """The batch's bronze rows conformed, flagged ``_malformed`` (did not split, or the
    header repeated: ``_header``)."""
    raw = ctx.storage.read("bronze", contract.name).where(F.col("_batch_id") == batch.batch_id)
    flagged = raw.withColumn("_header", _repeated_header(contract)).withColumn(
        "_malformed", F.col(bronze_job.CORRUPT).isNotNull() | F.col("_header"))
    return conform_job.conform(flagged, contract,
                               keep=["_malformed", "_header", bronze_job.CORRUPT])


def _repeated_header(contract: FeedContract) -> Column:
    """True for a row that is the CSV header again (every field holds its wire name)."""
    d = contract.delivery
    if d.format != "csv" or not d.header:
        return F.lit(False)
    # A BOM before the repeated header: two BOM files concatenated with ``cat``.
    # An optional column the delivery lacks (schema drift) is read as no value: it matches.
    same = [F.coalesce(F.regexp_replace(trim_ws(F.col(f.name)), "^\ufeff", "")
                       == F.lit(f.wire), F.lit(not f.required))
            for f in contract.fields]
    return functools.reduce(lambda a, b: a & b, same)


def _too_few(ctx: Context, contract: FeedContract, batch: Batch, n_in: int,
             result: StageResult) -> None:
    """A header-only delivery (no records: a day without changes, if the contract allows it),
    or a batch below the contract's minimum: recorded, nothing written."""
    feed, minimum = contract.name, contract.gates.min_rows
    ok = n_in >= minimum
    why = None if ok else (f"quality gate failed: {GATE_MIN_ROWS}: {n_in} records, "
                           f"the contract requires at least {minimum}")
    ctx.records.append("quality_results", [quality_row(
        ctx, contract, GATE_MIN_ROWS, f"{n_in} records (at least {minimum})", ok,
        batch_id=batch.batch_id, element_count=n_in)])
    ctx.records.append("reconciliation", [check_row(ctx, feed, batch.batch_id, CHECK_SILVER,
                                                    n_in, 0)])
    ctx.records.append("batches", [batch_row(
        ctx, contract, batch.batch_id, "silver", "ok" if ok else "failed", rows_in=n_in,
        rows_out=0, duplicates=0, quarantined=0, reason=why)])
    if why:
        result.problems.append(Problem(feed, batch.file_name, why))
        result.add("failed_batches", 1)
    else:
        result.batches += 1


def _gates_pass(ctx: Context, contract: FeedContract, batch: Batch, n_in: int,
                gate: GateResult, result: StageResult) -> bool:
    """Record the batch's rule and gate results; False (batch failed, recorded and audited)
    when a ``fail`` rule, the quarantined share or the volume gate fails.

    A steward's release is small by nature: no volume or quarantined-share gate; its rows that
    still fail a rule simply go back to quarantine."""
    feed = contract.name
    released = batch.batch_id.startswith(RELEASE_PREFIX)
    volume = None if released else volume_problem(ctx, contract, batch.batch_id, n_in)
    passed = release_passes(gate, released)
    result_id = new_result_id()
    share_ok = released or gate.quarantine_share <= gate.max_quarantine_share
    common: dict[str, Any] = {"batch_id": batch.batch_id, "result_id": result_id,
                              "suite": gate.suite}
    ctx.records.append("quality_results", [
        *(quality_row(ctx, contract, r.rule_id, r.check, r.success, action=r.action,
                      column=r.column, element_count=r.element_count,
                      unexpected_count=r.unexpected_count, **common) for r in gate.rules),
        quality_row(ctx, contract, GATE_MIN_ROWS, f"{n_in} records (at least "
                    f"{contract.gates.min_rows})", True, element_count=n_in, **common),
        quality_row(ctx, contract, GATE_QUARANTINE_SHARE,
                    f"{gate.quarantined_rows} of {gate.rows} rows quarantined "
                    f"({gate.quarantine_share:.1%}; at most {gate.max_quarantine_share:.1%})",
                    share_ok, element_count=gate.rows, unexpected_count=gate.quarantined_rows,
                    **common),
        quality_row(ctx, contract, GATE_VOLUME, volume or f"{n_in:,} records", volume is None,
                    element_count=n_in, **common),
    ])
    result.assertions.extend((r.rule_id, bool(r.success), r.column) for r in gate.rules)
    if passed and not volume:
        return True
    failures = gate.failures() + ([f"{GATE_VOLUME}: {volume}"] if volume else [])
    failed = "quality gate failed: " + "; ".join(failures)
    ctx.records.append("batches", [batch_row(ctx, contract, batch.batch_id, "silver", "failed",
                                             rows_in=n_in, reason=failed)])
    ctx.audit("gate_failure", {"feed": feed, "batch_id": batch.batch_id,
                               "result_id": result_id, "reason": failed})
    result.problems.append(Problem(feed, batch.file_name, failed))
    result.add("failed_batches", 1)
    return False


def _quarantine_frame(rows: DataFrame, rule_ids: Column, reason: Column) -> DataFrame:
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


def _quarantine(ctx: Context, contract: FeedContract, batch: Batch, quarantined: DataFrame,
                malformed: DataFrame) -> None:
    """Append the rows failing a quarantine rule and the malformed records to the feed's
    quarantine table (once per batch)."""
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
    st = ctx.storage
    if not st.contains("quarantine", contract.name, "_batch_id", batch.batch_id):
        st.append(q.unionByName(bad_format), "quarantine", contract.name, _meta(ctx, contract,
                                                                                batch))
        faults.point("silver.quarantined")


def _meta(ctx: Context, contract: FeedContract, batch: Batch) -> dict[str, str]:
    return {"run_id": ctx.run_id, "batch_id": batch.batch_id,
            "contract_version": contract.version}


def _merge(ctx: Context, contract: FeedContract, batch: Batch, passing: DataFrame) -> Merged:
    """Deduplicate the passing rows (an event repeated within the batch, or already in silver
    from an earlier batch: one aggregation counts both), append the new events and MERGE the
    entity's current state."""
    st, feed = ctx.storage, contract.name
    events = conform_job.mark_duplicates(conform_job.with_event_id(passing, contract))
    if st.exists("silver", feed):
        earlier = (st.read("silver", feed).where(F.col("_batch_id") != batch.batch_id)
                   .select("_event_id").distinct().withColumn("_seen", F.lit(True)))
        # A join on a name puts that column first: keep the columns' order, so that the
        # tables' schema does not depend on whether silver existed already.
        events = events.join(earlier, "_event_id", "left").select(*events.columns, "_seen")
    else:
        events = events.withColumn("_seen", F.lit(None).cast("boolean"))
    seen = F.coalesce(F.col("_seen"), F.lit(False))
    events = events.withColumn("_dup", F.col("_dup_in_batch") | seen).persist()
    try:
        counts = events.agg(
            F.coalesce(F.sum(F.col("_dup_in_batch").cast("long")), F.lit(0)).alias("in_batch"),
            F.coalesce(F.sum(F.col("_dup").cast("long")), F.lit(0)).alias("dup"),
        ).first()
        assert counts is not None
        new = conform_job.to_silver(
            events.where("NOT _dup").drop("_dup", "_dup_in_batch", "_seen"))
        meta = _meta(ctx, contract, batch)
        if not st.contains("silver", feed, "_batch_id", batch.batch_id):
            st.append(new, "silver", feed, meta)
            faults.point("silver.events")
            merge = True
        else:  # a batch redone after its records were lost, or its MERGE cut short
            merge = not _merged_before(ctx, contract, batch)
        if merge:
            update = {f"`{c}`": f"s.`{c}`" for c in new.columns}
            for c in contract.sticky:
                update[f"`{c}`"] = f"coalesce(s.`{c}`, t.`{c}`)"
            st.upsert(conform_job.latest_per_key(new, contract), "silver", contract.entity,
                      contract.primary_key, conform_job.newer_condition(contract), update, meta)
            faults.point("silver.merged")
    finally:
        events.unpersist()
    duplicates = int(counts["dup"])
    written = st.read("silver", feed).where(F.col("_batch_id") == batch.batch_id).count()
    return Merged(duplicates, int(counts["in_batch"]), written)


def _merged_before(ctx: Context, contract: FeedContract, batch: Batch) -> bool:
    """Whether the entity's log still holds this batch's write (its MERGE, or the write that
    created the table); asked only when the batch's events are in silver already: a redo, or a
    run killed between the append and the MERGE."""
    return any(c.metadata.get("batch_id") == batch.batch_id
               for c in ctx.storage.history("silver", contract.entity))


def _reconcile(ctx: Context, contract: FeedContract, batch: Batch, n_in: int,
               n_quarantined: int, merged: Merged, result: StageResult) -> None:
    """Record ``bronze = silver + quarantined + duplicates`` and the batch's silver outcome,
    with the silver and quarantined rows the tables hold for the batch (read back)."""
    feed = contract.name
    check = check_row(ctx, feed, batch.batch_id, CHECK_SILVER, n_in,
                      merged.written + merged.duplicates + n_quarantined)
    ctx.records.append("reconciliation", [check])
    status, reason = "ok", None
    if not check["holds"]:
        status = "failed"
        reason = (f"reconciliation failed: bronze {n_in} != silver {merged.written} + "
                  f"duplicates {merged.duplicates} + quarantined {n_quarantined}")
        result.problems.append(Problem(feed, batch.file_name, reason))
    ctx.records.append("batches", [batch_row(
        ctx, contract, batch.batch_id, "silver", status, rows_in=n_in, rows_out=merged.written,
        duplicates=merged.duplicates, quarantined=n_quarantined, reason=reason)])
    result.batches += 1
    result.rows += n_in
    result.add("silver_rows", merged.written)
    result.add("duplicates", merged.duplicates)
    result.add("duplicates_in_batch", merged.in_batch)
    result.add("quarantined", n_quarantined)
