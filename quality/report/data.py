"""The data of the quality report: the system-zone tables, and the records of one run.

The tables (``system/deliveries``, ``batches``, ``quality_results``, ``reconciliation`` and,
when present, ``publishes``) are read with ``deltalake`` (no JVM, no Spark); where they are is
asked of :class:`kernel.layout.Layout`. From a feed's quarantine table only the columns
``_batch_id`` and ``_rule_ids`` are read, and only counted: never a record, never a value.

:meth:`SystemTables.run` gathers what one run recorded, per feed and batch
(:class:`RunRecords`), for the view model (:mod:`quality.report.view`) to word.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kernel.layout import Layout
from quality.ids import GATE_FRESHNESS

Row = dict[str, Any]
"""One row of a system table, as ``deltalake`` returns it (column name → value)."""

SYSTEM_TABLES = ("deliveries", "batches", "quality_results", "reconciliation", "publishes")
"""The system tables the report reads (a missing one reads as empty)."""

QuarantineCounts = dict[str, Counter[str]]
"""Quarantined rows of a feed per batch id: a counter per rule id, the key ``""`` holding the
batch's number of quarantined rows."""


def read_table(uri: str, columns: Sequence[str] | None = None) -> list[Row]:
    """The rows of the Delta table at ``uri`` (only ``columns`` when given), or ``[]`` when
    there is no Delta table there (:func:`kernel.delta_rows.read_rows`; timestamps aware)."""
    from kernel.delta_rows import read_rows

    return read_rows(uri, columns)


def timestamp(value: Any) -> float:
    """A sortable number for a timestamp (a naive one taken as UTC); anything that is not a
    timestamp (``None``) sorts first."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.timestamp()
    return float("-inf")


def latest(rows: Iterable[Row], *keys: str) -> dict[tuple[Any, ...], Row]:
    """The latest row (by ``at``; the later one of equal times) per value of ``keys``, in the
    order the keys first appear."""
    out: dict[tuple[Any, ...], Row] = {}
    for r in rows:
        k = tuple(r.get(key) for key in keys)
        if k not in out or timestamp(r.get("at")) >= timestamp(out[k].get("at")):
            out[k] = r
    return out


# --------------------------------------------------------------------------- one run's records


@dataclass(frozen=True)
class BatchRecords:
    """What one run recorded for one batch of a feed."""

    feed: str
    batch_id: str
    delivery: Row | None
    """The delivery that landed the batch (in whichever run), if recorded."""
    stages: dict[str, Row]
    """The latest ``system/batches`` row per stage (``bronze``, ``silver``)."""
    results: dict[str, Row]
    """The latest ``system/quality_results`` row per rule or gate id."""
    checks: list[Row]
    """The latest ``system/reconciliation`` row per check."""

    @property
    def silver(self) -> Row | None:
        """The batch's silver row of the run, if the run reached silver."""
        return self.stages.get("silver")

    @property
    def failed(self) -> bool:
        """True when a stage failed or a reconciliation check does not hold."""
        return any(s.get("status") == "failed" for s in self.stages.values()) or any(
            c.get("holds") is False for c in self.checks
        )

    @property
    def rows_in(self) -> int | None:
        """Records delivered: the bronze stage's rows in, else the silver stage's, else
        ``None``."""
        for stage in ("bronze", "silver"):
            if stage in self.stages and self.stages[stage].get("rows_in") is not None:
                return int(self.stages[stage]["rows_in"])
        return None

    @property
    def reason(self) -> str | None:
        """The failure reasons of the batch's stages as recorded, joined by ``; ``, or
        ``None``."""
        reasons = [str(s["reason"]) for s in self.stages.values() if s.get("reason")]
        return "; ".join(reasons) or None


@dataclass(frozen=True)
class FeedRecords:
    """What one run recorded for one feed."""

    name: str
    deliveries: list[Row]
    batches: list[BatchRecords]
    """The batches the run touched, by file date and batch id."""
    freshness: Row | None
    """The run's latest freshness-gate result of the feed, if any."""


@dataclass(frozen=True)
class RunRecords:
    """What one run recorded, per feed, and its publishes."""

    run_id: str
    feeds: list[FeedRecords]
    publishes: list[Row]
    at: dt.datetime | None
    """The latest time any of the run's records carries."""


# --------------------------------------------------------------------------- the tables


@dataclass
class SystemTables:
    """The system-zone tables of one storage root, as lists of rows.

    Build it with :meth:`load`, or from plain rows (tests). ``quarantine`` holds each feed's
    quarantine counts once read (:meth:`quarantine_counts`); given up front, they are not read.
    """

    root: str
    deliveries: list[Row] = field(default_factory=list)
    batches: list[Row] = field(default_factory=list)
    quality_results: list[Row] = field(default_factory=list)
    reconciliation: list[Row] = field(default_factory=list)
    publishes: list[Row] = field(default_factory=list)
    quarantine: dict[str, QuarantineCounts] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, root: str) -> SystemTables:
        """Read every system table of storage root ``root`` (missing tables are empty)."""
        layout = Layout(root)
        read = {name: read_table(layout.delta_uri("system", name)) for name in SYSTEM_TABLES}
        return cls(root=root, deliveries=read["deliveries"], batches=read["batches"],
                   quality_results=read["quality_results"],
                   reconciliation=read["reconciliation"], publishes=read["publishes"])

    def run_ids(self) -> list[str]:
        """Every run id found in the system tables, sorted."""
        ids = {
            str(r["run_id"])
            for name in SYSTEM_TABLES
            for r in getattr(self, name)
            if r.get("run_id")
        }
        return sorted(ids)

    def of_run(self, table: str, run_id: str) -> list[Row]:
        """The rows of system table ``table`` written by run ``run_id``."""
        rows: list[Row] = getattr(self, table)
        return [r for r in rows if r.get("run_id") == run_id]

    def landed_delivery(self, batch_id: str) -> Row | None:
        """The delivery that landed batch ``batch_id`` (in whichever run), or ``None``."""
        for r in self.deliveries:
            if r.get("batch_id") == batch_id and r.get("status") == "landed":
                return r
        return None

    def quarantine_counts(self, feed: str) -> QuarantineCounts:
        """Quarantined rows of ``feed`` per batch and rule id (counts only, never values).

        Only ``_batch_id`` and ``_rule_ids`` are read from the quarantine table, once per feed;
        a feed without a quarantine table has no counts.
        """
        if feed not in self.quarantine:
            uri = Layout(self.root).delta_uri("quarantine", feed)
            counts: QuarantineCounts = defaultdict(Counter)
            for r in read_table(uri, ["_batch_id", "_rule_ids"]):
                c = counts[str(r.get("_batch_id"))]
                c[""] += 1
                for rule_id in r.get("_rule_ids") or ():
                    c[str(rule_id)] += 1
            self.quarantine[feed] = dict(counts)
        return self.quarantine[feed]

    def run(self, run_id: str) -> RunRecords:
        """The records of run ``run_id``, per feed (sorted by name) and batch."""
        deliveries = self.of_run("deliveries", run_id)
        stages = latest(self.of_run("batches", run_id), "feed", "batch_id", "stage")
        results = self.of_run("quality_results", run_id)
        checks = self.of_run("reconciliation", run_id)
        names = sorted(
            {str(r["feed"]) for rows in (deliveries, results, checks) for r in rows
             if r.get("feed")} | {str(k[0]) for k in stages}
        )
        feeds = [self._feed(name, deliveries, stages, results, checks) for name in names]
        stamps = [r["at"] for name in SYSTEM_TABLES for r in self.of_run(name, run_id)
                  if isinstance(r.get("at"), dt.datetime)]
        return RunRecords(run_id=run_id, feeds=feeds, publishes=self.of_run("publishes", run_id),
                          at=max(stamps, key=timestamp) if stamps else None)

    def _feed(self, name: str, deliveries: list[Row], stages: dict[tuple[Any, ...], Row],
              results: list[Row], checks: list[Row]) -> FeedRecords:
        """The records of one feed in a run: the batches the run landed, processed by a stage,
        checked or reconciled."""
        mine = [r for r in results if r.get("feed") == name]
        touched = [
            *(d.get("batch_id") for d in deliveries
              if d.get("feed") == name and d.get("status") == "landed"),
            *(k[1] for k in stages if k[0] == name),
            *(r.get("batch_id") for r in mine),
            *(c.get("batch_id") for c in checks if c.get("feed") == name),
        ]
        batches = [
            BatchRecords(
                feed=name, batch_id=bid, delivery=self.landed_delivery(bid),
                stages={k[2]: v for k, v in stages.items() if k[0] == name and k[1] == bid},
                results={str(k[0]): v for k, v in latest(
                    [r for r in mine if r.get("batch_id") == bid], "rule_id").items()},
                checks=list(latest([c for c in checks if c.get("feed") == name
                                    and c.get("batch_id") == bid], "check").values()),
            )
            for bid in (str(b) for b in dict.fromkeys(touched) if b)
        ]
        batches.sort(key=lambda b: (str((b.delivery or {}).get("file_date") or ""), b.batch_id))
        fresh = [r for r in mine if r.get("rule_id") == GATE_FRESHNESS]
        return FeedRecords(
            name=name, deliveries=[d for d in deliveries if d.get("feed") == name],
            batches=batches,
            freshness=max(fresh, key=lambda r: timestamp(r.get("at"))) if fresh else None,
        )
