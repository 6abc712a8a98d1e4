"""What the Lakehouse page shows: every feed and every dataset in one line, from the run
records (read with ``deltalake``, :class:`quality.report.data.SystemTables`) and the contracts.

A feed's line (:class:`FeedLine`): its last delivery (file or pull, its status and when), its
freshness (the age of its last landed delivery against the contract's ``freshness_hours``),
and the outcome of its latest run: ``gate failed`` (a batch stage failed, with the recorded
reason), ``refused`` (a delivery was refused), ``quarantined n`` or ``landed``. A dataset's
line (:class:`DatasetLine`): its published Delta version, snapshot date and key id (from the
version's commit metadata), and its last publish with its gate outcome. Only ids, counts,
file names, times and recorded reasons: never a value.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from kernel import contracts
from kernel.layout import Layout
from quality.report.data import Row, SystemTables, timestamp


@dataclass(frozen=True)
class FeedLine:
    """One feed on the Lakehouse page."""

    name: str
    title: str
    agency: str
    cadence: str
    last_delivery: str
    """``file name (status)``, or ``none`` when nothing was ever delivered."""
    delivered_at: dt.datetime | None
    freshness: str
    fresh: bool | None
    """True within the limit, False past it, None when nothing ever landed."""
    outcome: str
    """Of the latest run: ``landed``, ``quarantined n``, ``gate failed`` (``, n refused``),
    ``refused``, ``nothing new`` or ``no batch yet``."""
    reason: str
    """The recorded reason of a refusal or failure (empty otherwise)."""
    last_run: str
    """The run id of the feed's latest record (the link to its quality report)."""


@dataclass(frozen=True)
class DatasetLine:
    """One published dataset on the Lakehouse page."""

    name: str
    title: str
    zone: str
    version: int | None
    """The latest Delta version, ``None`` when not published."""
    snapshot_date: str
    key_id: str
    published_at: dt.datetime | None
    last_status: str
    """The last publish's status (``published``, ``up_to_date``, ``refused``) or ``never``."""
    reason: str
    last_run: str


def _latest(rows: list[Row]) -> Row | None:
    """The latest row by ``at`` (``None`` for no rows)."""
    return max(rows, key=lambda r: timestamp(r.get("at"))) if rows else None


def _age_hours(at: Any, now: dt.datetime) -> float | None:
    """Hours between ``at`` (a naive one taken as UTC) and ``now``."""
    if not isinstance(at, dt.datetime):
        return None
    return (now.timestamp() - timestamp(at)) / 3600


def _gate_reason(reason: str) -> str:
    """The failed gates of a stage's recorded reason (its ``gate.…`` parts; the whole reason
    when it names no gate): the rule counts are the quality report's."""
    gates = [part for part in reason.split("; ") if part.startswith("gate.")]
    return "; ".join(gates) or reason


def _age(hours: float) -> str:
    """An age in hours, or in days past two days."""
    return f"{hours:,.1f} h" if hours < 48 else f"{hours / 24:,.1f} days"


def _outcome(deliveries: list[Row], batches: list[Row]) -> tuple[str, str]:
    """``(outcome, reason)`` of a feed's last run from its deliveries and batch stage rows of
    that run: a failed stage first (``gate failed``), then a refused delivery (``refused``),
    then the rows its silver stage quarantined, else ``landed`` (or ``nothing new``)."""
    failed = [b for b in batches if b.get("status") == "failed"]
    refused = [d for d in deliveries if d.get("status") in ("refused", "failed")]
    parts: list[str] = []
    reasons = [_gate_reason(str(b.get("reason"))) for b in failed if b.get("reason")] + [
        f"{d.get('file_name') or d.get('batch_id')}: {d.get('reason') or d.get('status')}"
        for d in refused]
    if failed:
        parts.append("gate failed")
    if refused:
        parts.append(f"{len(refused)} refused" if failed else "refused")
    if parts:
        return ", ".join(parts), "; ".join(reasons)
    quarantined = sum(int(b.get("quarantined") or 0) for b in batches
                      if b.get("stage") == "silver")
    if quarantined:
        return f"quarantined {quarantined:,}", ""
    return ("landed" if batches else "nothing new"), ""


def feed_line(tables: SystemTables, fc: contracts.FeedContract, now: dt.datetime) -> FeedLine:
    """The line of feed ``fc`` as of ``now`` (aware); its outcome is its latest run's."""
    deliveries = [r for r in tables.deliveries if r.get("feed") == fc.name]
    batches = [r for r in tables.batches if r.get("feed") == fc.name]
    last = _latest(deliveries)
    landed = _latest([r for r in deliveries if r.get("status") == "landed"])
    limit = fc.gates.freshness_hours
    age = _age_hours((landed or {}).get("at"), now)
    freshness = (f"never landed (limit {limit:g} h)" if age is None
                 else f"{_age(age)} ago (limit {limit:g} h)")
    run = str((_latest(deliveries + batches) or {}).get("run_id") or "")
    if run:
        outcome, reason = _outcome([d for d in deliveries if d.get("run_id") == run],
                                   [b for b in batches if b.get("run_id") == run])
    else:
        outcome, reason = "no batch yet", ""
    return FeedLine(
        name=fc.name, title=fc.title, agency=fc.agency, cadence=fc.cadence,
        last_delivery=(f"{last.get('file_name') or last.get('batch_id')} ({last.get('status')})"
                       if last else "none"),
        delivered_at=(last or {}).get("at"), freshness=freshness,
        fresh=None if age is None else age <= limit, outcome=outcome, reason=reason,
        last_run=run)


def _commit(root: str, dc: contracts.DatasetContract) -> tuple[int | None, Row]:
    """The dataset's latest Delta version and its commit metadata (``{}`` if unpublished)."""
    from deltalake import DeltaTable

    uri = Layout(root).delta_uri(dc.zone, dc.table)
    if not DeltaTable.is_deltatable(uri):
        return None, {}
    table = DeltaTable(uri)
    history = table.history(1)
    raw = (history[0].get("userMetadata") if history else None) or "{}"
    meta = json.loads(raw) if isinstance(raw, str) else dict(raw)
    return int(table.version()), meta


def dataset_line(tables: SystemTables, dc: contracts.DatasetContract) -> DatasetLine:
    """The line of dataset ``dc``: its latest version's commit metadata and last publish."""
    version, meta = _commit(tables.root, dc)
    last = _latest([r for r in tables.publishes if r.get("dataset") == dc.name])
    published = _latest([r for r in tables.publishes if r.get("dataset") == dc.name
                         and r.get("status") == "published"])
    return DatasetLine(
        name=dc.name, title=dc.title, zone=dc.zone, version=version,
        snapshot_date=str(meta.get("snapshot_date") or ""), key_id=str(meta.get("key_id") or ""),
        published_at=(published or {}).get("at"),
        last_status=str((last or {}).get("status") or "never"),
        reason=str((last or {}).get("reason") or ""),
        last_run=str((last or {}).get("run_id") or ""))


def overview(root: str, now: dt.datetime | None = None
             ) -> tuple[list[FeedLine], list[DatasetLine]]:
    """Every feed's and every dataset's line (contract order) under storage ``root``."""
    tables = SystemTables.load(root)
    at = now or dt.datetime.now(dt.UTC)
    return ([feed_line(tables, fc, at) for fc in contracts.feeds()],
            [dataset_line(tables, dc) for dc in contracts.datasets()])


def publish_of_run(tables: SystemTables, run_id: str, dataset: str | None = None) -> Row | None:
    """The latest publish record of run ``run_id`` (of ``dataset`` when given) that names a
    version, or ``None``."""
    rows = [r for r in tables.of_run("publishes", run_id)
            if r.get("version") is not None and (dataset is None or r.get("dataset") == dataset)]
    return _latest(rows)
