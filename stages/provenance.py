"""Input provenance at publish: an input version the pipeline did not write is refused.

The reconciliation recorded for each batch (``bronze = silver + quarantined + duplicates``)
proves what the pipeline wrote, not what the tables hold when a dataset is published: a Delta
``DELETE``, ``UPDATE``, ``RESTORE`` or a stray append made outside the pipeline (a faulty fix, a
rogue job) changes an input under the recorded counts. So before a publish reads its inputs,
every commit still in the log of each input feed's tables (bronze, the silver events and the
silver entity) must be one of:

- **the pipeline's**: its ``userMetadata`` names a run and a batch the feed's run records know
  (``system/batches``), and an append to bronze or to the silver events wrote exactly the rows
  the batch's record of that stage says it did (``rows_out``);
- **maintenance** that keeps every row (``OPTIMIZE``, ``VACUUM``);
- **accepted**: a steward reviewed the change and accepted it with ``lakehouse accept-change``,
  recorded in ``system/acceptances`` and in the audit log (who, why, which version).

Anything else refuses the publish, naming the table, the version, the operation and the rows it
changed (Delta's operation metrics: counts, never values).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kernel import contracts
from kernel.context import Context
from kernel.contracts import DatasetContract, FeedContract
from kernel.storage import Commit
from stages.results import Problem

MAINTENANCE = frozenset({"OPTIMIZE", "VACUUM START", "VACUUM END"})
"""Operations that rewrite files but keep every row."""
_ROW_METRICS = (
    ("numOutputRows", "written"),
    ("numTargetRowsInserted", "inserted"),
    ("numUpdatedRows", "updated"),
    ("numTargetRowsUpdated", "updated"),
    ("numDeletedRows", "deleted"),
    ("numTargetRowsDeleted", "deleted"),
)
"""Delta's operation metrics that count changed rows, and what they say (a MERGE reports
``numOutputRows`` too: its inserted and updated rows are named instead)."""


def input_tables(fc: FeedContract) -> tuple[tuple[str, str, str | None], ...]:
    """(zone, table, the stage whose ``rows_out`` an append must match) of each table of feed
    ``fc`` a publish depends on: bronze, the silver events, the silver entity (MERGEd: no
    count to match)."""
    return (("bronze", fc.name, "bronze"), ("silver", fc.name, "silver"),
            ("silver", fc.entity, None))


def rows_changed(commit: Commit) -> str:
    """What a commit did to the rows, from its metrics: ``1 row(s) deleted``, …"""
    merge = commit.operation == "MERGE"
    parts: dict[str, int] = {}
    for key, verb in _ROW_METRICS:
        if merge and key == "numOutputRows":
            continue
        n = int(commit.metrics.get(key) or 0)
        if n:
            parts[verb] = parts.get(verb, 0) + n
    if not parts:
        return "no row count recorded"
    return ", ".join(f"{n:,} row(s) {verb}" for verb, n in parts.items())


@dataclass(frozen=True)
class RunRecords:
    """What a feed's run records say of its batches: every known batch id, and per stage the
    rows each batch wrote by its latest successful record of that stage."""

    known: frozenset[str]
    written: Mapping[str, Mapping[str, int | None]]

    @classmethod
    def read(cls, ctx: Context, feed: str) -> RunRecords:
        """The feed's records in ``system/batches``."""
        rows = ctx.records.rows("batches", feed=feed)
        latest: dict[tuple[str, str], Any] = {}
        for r in sorted(rows, key=lambda r: r["at"]):
            latest[(str(r["stage"]), str(r["batch_id"]))] = r
        written: dict[str, dict[str, int | None]] = {}
        for (stage, batch), r in latest.items():
            if r["status"] == "ok":
                n = r["rows_out"]
                written.setdefault(stage, {})[batch] = None if n is None else int(n)
        return cls(frozenset(str(r["batch_id"]) for r in rows), written)


def accepted(ctx: Context) -> frozenset[tuple[str, str, int]]:
    """(zone, table, version) of every change a steward accepted (one read of the records)."""
    rows = ctx.records.rows("acceptances")
    return frozenset((str(r["zone"]), str(r["table"]), int(r["version"])) for r in rows)


def commit_problem(commit: Commit, stage: str | None, records: RunRecords) -> str | None:
    """Why ``commit`` is not the pipeline's own (``None`` when it is, or is maintenance).

    ``stage``: the stage whose batches append to the table (an append must have written
    exactly the batch's recorded ``rows_out``); ``None`` for a table with no such count."""
    if commit.operation in MAINTENANCE:
        return None
    run, batch = commit.metadata.get("run_id"), commit.metadata.get("batch_id")
    if not run or not batch or str(batch) not in records.known:
        return ("was not written by the pipeline (no run and batch the run records know): "
                f"{rows_changed(commit)}")
    if stage and commit.operation == "WRITE":
        expected = records.written.get(stage, {}).get(str(batch))
        actual = int(commit.metrics.get("numOutputRows") or 0)
        if expected is not None and actual != expected:
            return (f"wrote {actual:,} row(s) for batch {batch}; its {stage} record says "
                    f"{expected:,} ({actual - expected:+,} rows)")
    return None


def feed_problems(ctx: Context, fc: FeedContract,
                  ok: frozenset[tuple[str, str, int]]) -> list[Problem]:
    """The commits of ``fc``'s tables that are neither the pipeline's, maintenance, nor
    accepted (``ok``: :func:`accepted`): one problem each."""
    records = RunRecords.read(ctx, fc.name)
    problems = []
    for zone, table, stage in input_tables(fc):
        for commit in ctx.storage.history(zone, table):
            if (zone, table, commit.version) in ok:
                continue
            why = commit_problem(commit, stage, records)
            if why:
                problems.append(Problem(fc.name, "-", (
                    f"provenance gate: {zone}/{table} version {commit.version} "
                    f"({commit.operation}) {why}; review it and accept it (lakehouse "
                    f"accept-change {zone}/{table} {commit.version} --reason …) or undo it")))
    return problems


def provenance_problems(ctx: Context, dc: DatasetContract) -> list[Problem]:
    """Every input commit of ``dc`` the pipeline did not write (see the module docstring)."""
    ok = accepted(ctx)
    return [p for name in dc.inputs for p in feed_problems(ctx, contracts.feed(name), ok)]


class AcceptError(ValueError):
    """The change cannot be accepted (unknown table or version, or nothing to accept)."""


def _feed_of(zone: str, table: str) -> tuple[FeedContract, str | None]:
    """The feed whose table ``<zone>/<table>`` is, and the stage whose counts it must match."""
    for fc in contracts.feeds():
        for z, t, stage in input_tables(fc):
            if (z, t) == (zone, table):
                return fc, stage
    raise AcceptError(f"{zone}/{table} is not a feed's bronze or silver table")


def accept_change(ctx: Context, zone: str, table: str, version: int, reason: str) -> Commit:
    """Record a steward's acceptance of version ``version`` of ``<zone>/<table>`` (a change
    made outside the pipeline, reviewed): one row in ``system/acceptances`` and an audit
    entry. Refused when the version does not exist or needs no acceptance."""
    fc, stage = _feed_of(zone, table)
    found = [c for c in ctx.storage.history(zone, table, after=version - 1)
             if c.version == version]
    if not found:
        raise AcceptError(f"{zone}/{table} has no version {version} in its log")
    commit = found[0]
    if commit_problem(commit, stage, RunRecords.read(ctx, fc.name)) is None:
        raise AcceptError(f"{zone}/{table} version {version} ({commit.operation}) was written "
                          "by the pipeline: nothing to accept")
    if (zone, table, version) in accepted(ctx):
        raise AcceptError(f"{zone}/{table} version {version} is already accepted")
    row = {"zone": zone, "table": table, "version": version, "operation": commit.operation,
           "feed": fc.name, "rows_changed": rows_changed(commit), "accepted_by": ctx.actor,
           "reason": reason, "run_id": ctx.run_id, "at": ctx.now}
    # The audit log refuses personal data (in the reason): audited first, then recorded.
    ctx.audit("accept_change", {k: v for k, v in row.items() if k != "at"})
    ctx.records.append("acceptances", [row])
    return commit
