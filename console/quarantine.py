"""A feed's quarantine, read with ``deltalake``: in counts for anyone (rows per batch and rule
id, rows released per batch; only ``_batch_id`` and ``_rule_ids`` of the quarantine table are
read, :meth:`quality.report.data.SystemTables.quarantine_counts`), and its open records as
delivered for a steward, each reading audited as ``lakehouse quarantine show`` audits it."""

from __future__ import annotations

from collections import Counter
from typing import Any

from kernel.contracts import FeedContract
from kernel.layout import Layout
from quality.report.data import SystemTables, read_table


def counts(root: str, feed: str) -> tuple[list[tuple[str, str, int]], dict[str, int]]:
    """``([(batch id, rule id, rows)], {batch id: rows released})`` of ``feed``: per batch
    (sorted), first its total (rule id ``""``), then each rule id (sorted)."""
    per_batch = SystemTables(root=root).quarantine_counts(feed)
    rows = [(batch, rule, n) for batch in sorted(per_batch)
            for rule, n in sorted(per_batch[batch].items())]
    released: Counter[str] = Counter()
    for r in read_table(Layout(root).delta_uri("system", "releases"),
                        ["feed", "batch_id", "source_rows"]):
        if r.get("feed") == feed:
            released[str(r.get("batch_id"))] += len(r.get("source_rows") or ())
    return rows, dict(released)


RECORD_COLUMNS = ("_batch_id", "_source_row", "_rule_ids", "_reason")
"""The quarantine's own columns a steward sees before the feed's fields and ``_raw_record``."""


def open_records(root: str, fc: FeedContract, batch: str | None, rule: str | None,
                 limit: int) -> list[dict[str, Any]]:
    """Open (not released) quarantined records of feed ``fc`` as delivered, by batch and row,
    at most ``limit``, of batch ``batch`` and failing rule ``rule`` when given. Personal data:
    the caller shows them to stewards only and audits the reading (:func:`audit_reading`)."""
    from deltalake import DeltaTable

    layout = Layout(root)
    uri = layout.delta_uri("quarantine", fc.name)
    if not DeltaTable.is_deltatable(uri):
        return []
    released = {(str(r.get("batch_id")), int(s))
                for r in read_table(layout.delta_uri("system", "releases"),
                                    ["feed", "batch_id", "source_rows"])
                if r.get("feed") == fc.name for s in r.get("source_rows") or ()}
    table = DeltaTable(uri).to_pyarrow_table(
        filters=[("_batch_id", "=", batch)] if batch else None)
    rows = [r for r in table.sort_by([("_batch_id", "ascending"), ("_source_row", "ascending")])
            .to_pylist()
            if (str(r["_batch_id"]), int(r["_source_row"])) not in released
            and (rule is None or rule in (r.get("_rule_ids") or ()))]
    return rows[:max(limit, 0)]


def audit_reading(root: str, actor: str, feed: str, batch: str | None, rule: str | None,
                  rows: int) -> None:
    """Record a steward's reading of quarantined records in the audit log (action ``query``,
    as ``lakehouse quarantine show`` records it): who, feed, filters and row count."""
    from audit.log import AuditLog

    AuditLog(Layout(root).audit_dir).append("query", actor, {
        "feed": feed, "zone": "quarantine", "batch_id": batch, "rule": rule, "rows": rows,
        "via": "airflow console"})
