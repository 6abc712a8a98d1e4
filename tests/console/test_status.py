"""A feed's line on the Lakehouse page from plain system-table rows (no Spark): its latest
run's outcome, its freshness against the contract's limit."""

from __future__ import annotations

import datetime as dt

from console.status import feed_line
from kernel import contracts
from quality.report.data import SystemTables

FEED = contracts.feed("moi.household_registry")
NOW = dt.datetime(2024, 12, 3, 8, 0, tzinfo=dt.UTC)


def _at(hours_ago: float) -> dt.datetime:
    return (NOW - dt.timedelta(hours=hours_ago)).replace(tzinfo=None)


def _tables(deliveries: list[dict[str, object]], batches: list[dict[str, object]]
            ) -> SystemTables:
    base = {"feed": FEED.name}
    return SystemTables(root="/nowhere", deliveries=[{**base, **d} for d in deliveries],
                        batches=[{**base, **b} for b in batches])


def test_a_landed_run_with_quarantined_rows() -> None:
    tables = _tables(
        [{"file_name": "MOI_HHR_20241202.csv", "status": "landed", "run_id": "r2", "at": _at(6)}],
        [{"stage": "bronze", "status": "ok", "run_id": "r2", "at": _at(6)},
         {"stage": "silver", "status": "ok", "quarantined": 1200, "run_id": "r2", "at": _at(6)}])
    line = feed_line(tables, FEED, NOW)
    assert (line.outcome, line.reason, line.last_run) == ("quarantined 1,200", "", "r2")
    assert line.last_delivery == "MOI_HHR_20241202.csv (landed)"
    assert (line.freshness, line.fresh) == ("6.0 h ago (limit 36 h)", True)


def test_only_the_latest_runs_refusal_counts_and_staleness_is_in_days() -> None:
    tables = _tables(
        [{"file_name": "MOI_HHR_20241128.csv", "status": "landed", "run_id": "r1", "at": _at(120)},
         {"file_name": "x.txt", "status": "refused", "reason": "file name does not match",
          "run_id": "r2", "at": _at(1)}],
        [{"stage": "silver", "status": "failed", "reason": "old", "run_id": "r1", "at": _at(120)}])
    line = feed_line(tables, FEED, NOW)
    assert (line.outcome, line.reason) == ("refused", "x.txt: file name does not match")
    assert (line.freshness, line.fresh) == ("5.0 days ago (limit 36 h)", False)


def test_a_failed_gate_names_the_gate_not_every_rule() -> None:
    reason = ("quality gate failed: rule a.b (quarantine): 4 of 5 rows fail; "
              "gate.max_quarantine_share: 4 of 5 rows quarantined (80.0% > 20.0%)")
    tables = _tables([], [{"stage": "silver", "status": "failed", "reason": reason,
                           "run_id": "r3", "at": _at(2)}])
    line = feed_line(tables, FEED, NOW)
    assert line.outcome == "gate failed"
    assert line.reason == "gate.max_quarantine_share: 4 of 5 rows quarantined (80.0% > 20.0%)"
    assert (line.freshness, line.fresh) == ("never landed (limit 36 h)", None)


def test_a_feed_without_records() -> None:
    line = feed_line(_tables([], []), FEED, NOW)
    assert (line.outcome, line.last_delivery, line.last_run) == ("no batch yet", "none", "")
