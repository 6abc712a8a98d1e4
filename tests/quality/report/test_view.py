"""The quality report's view model and pages on system tables built from plain rows (no
Spark): the batch gates from their own quality results, *not evaluated* for batches recorded
before those results existed, the failed-gate counts, the headline of a failed batch, and the
escaping of what the records hold."""

from __future__ import annotations

import datetime as dt
import html
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from quality.ids import (
    CHECK_BRONZE,
    CHECK_LANDED,
    CHECK_SILVER,
    GATE_FRESHNESS,
    GATE_MIN_ROWS,
    GATE_QUARANTINE_SHARE,
    GATE_VOLUME,
    RECORD_RULES,
    RULE_MALFORMED,
)
from quality.report import SystemTables, render_index, render_run, run_file_name, write_all
from quality.report.batch import GateLine
from quality.report.data import QuarantineCounts
from quality.report.view import RunPage, index_page, run_page, summaries

FEED = "moi.household_registry"
RUN = "run-1"
AT = dt.datetime(2024, 12, 1, 8, 0, tzinfo=dt.UTC)
VOLUME_FAILURE = ("gate.volume: 12 records, 0.1x the median 120 of the last 7 accepted batches "
                  "(allowed 1/10x to 10x)")


def _delivery(batch: str, file: str, status: str = "landed", **extra: Any) -> dict[str, Any]:
    """A ``system/deliveries`` row."""
    return {"feed": FEED, "batch_id": batch, "file_name": file, "status": status,
            "sha256": "ab" * 32, "bytes": 1_234, "file_date": "2024-12-01", "reason": None,
            "run_id": RUN, "at": AT, **extra}


def _stage(batch: str, stage: str, status: str = "ok", **counts: Any) -> dict[str, Any]:
    """A ``system/batches`` row."""
    return {"feed": FEED, "batch_id": batch, "stage": stage, "status": status,
            "contract_version": "1.2.0", "run_id": RUN, "at": AT, **counts}


def _result(batch: str | None, rule_id: str, success: bool, check: str = "", *,
            action: str = "fail", **counts: Any) -> dict[str, Any]:
    """A ``system/quality_results`` row (as ``stages.common.quality_row`` writes it)."""
    return {"result_id": "qr-0", "feed": FEED, "batch_id": batch, "suite": "s",
            "rule_id": rule_id, "column": counts.pop("column", None), "check": check,
            "action": action, "element_count": counts.get("element_count"),
            "unexpected_count": counts.get("unexpected_count"), "success": success,
            "run_id": RUN, "at": AT}


def _check(batch: str, check: str, expected: int, actual: int) -> dict[str, Any]:
    """A ``system/reconciliation`` row."""
    return {"feed": FEED, "batch_id": batch, "check": check, "expected": expected,
            "actual": actual, "holds": expected == actual, "run_id": RUN, "at": AT}


def _tables(*, deliveries: list[dict[str, Any]], batches: list[dict[str, Any]],
            results: list[dict[str, Any]], checks: list[dict[str, Any]] | None = None,
            quarantine: QuarantineCounts | None = None) -> SystemTables:
    """System tables from plain rows; the feed's quarantine counts given (nothing is read)."""
    return SystemTables(root="/nonexistent/lakehouse", deliveries=deliveries, batches=batches,
                        quality_results=results, reconciliation=checks or [],
                        quarantine={FEED: quarantine or {}})


@pytest.fixture
def tables() -> SystemTables:
    """One run, four batches: ok with quarantined rows (all gates recorded), failed on its
    quarantine share, too few records (minimum rows), and one recorded before the gates had
    results of their own; plus the freshness gate and a refused delivery."""
    return _tables(
        deliveries=[_delivery("b-ok", "OK.csv"), _delivery("b-share", "SHARE.csv"),
                    _delivery("b-few", "FEW.csv"), _delivery("b-old", "OLD.csv"),
                    _delivery("", "<b>notes</b>.txt", "refused",
                              reason="file name does not match <pattern>")],
        batches=[
            _stage("b-ok", "bronze", rows_in=100), _stage(
                "b-ok", "silver", rows_in=100, rows_out=95, duplicates=0, quarantined=5),
            _stage("b-share", "bronze", rows_in=60),
            _stage("b-share", "silver", "failed", rows_in=60,
                   reason="quality gate failed: rule national_id.check_digit (quarantine): "
                          "36 of 60 rows fail; gate.max_quarantine_share: 36 of 60 rows "
                          "quarantined (60.0% > 20.0%)"),
            _stage("b-few", "bronze", rows_in=0),
            _stage("b-few", "silver", "failed", rows_in=0, rows_out=0, duplicates=0,
                   quarantined=0, reason="quality gate failed: gate.min_rows: 0 records, "
                                         "the contract requires at least 1"),
            _stage("b-old", "bronze", rows_in=50), _stage(
                "b-old", "silver", rows_in=50, rows_out=50, duplicates=0, quarantined=0),
        ],
        results=[
            _result("b-ok", "national_id.check_digit", False, "tw_person_id",
                    action="quarantine", column="national_id", element_count=100,
                    unexpected_count=5),
            _result("b-ok", RULE_MALFORMED, True, "splits", action="quarantine",
                    element_count=100, unexpected_count=0),
            _result("b-ok", GATE_QUARANTINE_SHARE, True,
                    "5 of 100 rows quarantined (5.0%; at most 20.0%)", element_count=100,
                    unexpected_count=5),
            _result("b-ok", GATE_VOLUME, True, "100 records", element_count=100),
            _result("b-share", "national_id.check_digit", False, "tw_person_id",
                    action="quarantine", column="national_id", element_count=60,
                    unexpected_count=36),
            _result("b-share", GATE_QUARANTINE_SHARE, False,
                    "36 of 60 rows quarantined (60.0%; at most 20.0%)", element_count=60,
                    unexpected_count=36),
            _result("b-share", GATE_VOLUME, True, "60 records", element_count=60),
            # Recorded under a contract version that required a record (the current one: 0).
            _result("b-few", GATE_MIN_ROWS, False, "0 records (at least 1)", element_count=0),
            _result("b-old", "national_id.check_digit", True, "tw_person_id",
                    action="quarantine", column="national_id", element_count=50,
                    unexpected_count=0),
            _result(None, GATE_FRESHNESS, True, "freshness", element_count=3),
        ],
        checks=[_check("b-ok", CHECK_LANDED, 1_234, 1_234), _check("b-ok", CHECK_BRONZE, 100, 100),
                _check("b-ok", CHECK_SILVER, 100, 100)],
        quarantine={"b-ok": Counter({"": 5, "national_id.check_digit": 5})},
    )


def _page(tables: SystemTables) -> RunPage:
    """The run's page view."""
    return run_page(tables, RUN)


def _gates(page: RunPage, batch: str) -> dict[str, GateLine]:
    """The gate lines of a batch, by gate id."""
    (b,) = [b for f in page.feeds for b in f.batches if b.batch_id == batch]
    return {g.gate_id: g for g in b.gates}


# --------------------------------------------------------------------------- gates


def test_gates_are_read_from_their_own_results(tables: SystemTables) -> None:
    page = _page(tables)
    ok = _gates(page, "b-ok")
    assert list(ok) == [GATE_QUARANTINE_SHARE, GATE_VOLUME]  # minimum rows: only when recorded
    share = ok[GATE_QUARANTINE_SHARE]
    assert (share.label, share.observed, share.allowed) == (
        "quarantine share", "5 of 100 rows (5.0%)", "≤ 20.0%")
    assert (share.outcome.label, share.outcome.tone) == ("pass", "ok")
    volume = ok[GATE_VOLUME]
    assert volume.observed == "100 records" and volume.outcome.label == "pass"
    assert volume.allowed == "1/10× to 10× the median of the last 7 accepted batches"

    failed = _gates(page, "b-share")[GATE_QUARANTINE_SHARE]
    assert (failed.observed, failed.outcome.label, failed.outcome.tone) == (
        "36 of 60 rows (60.0%)", "FAILED", "fail")


def test_minimum_rows_gate_when_recorded_and_the_rest_not_reached(tables: SystemTables) -> None:
    few = _gates(_page(tables), "b-few")
    assert list(few) == [GATE_MIN_ROWS, GATE_QUARANTINE_SHARE, GATE_VOLUME]
    assert (few[GATE_MIN_ROWS].observed, few[GATE_MIN_ROWS].allowed) == ("0 records", "≥ 0 records")
    assert few[GATE_MIN_ROWS].outcome.label == "FAILED"
    for gate in (GATE_QUARANTINE_SHARE, GATE_VOLUME):
        assert few[gate].observed == "not reached (batch failed)"
        assert few[gate].outcome.label == "not evaluated"


def test_batch_recorded_before_gate_results_shows_them_not_evaluated(
    tables: SystemTables,
) -> None:
    old = _gates(_page(tables), "b-old")
    assert list(old) == [GATE_QUARANTINE_SHARE, GATE_VOLUME]
    for line in old.values():
        assert (line.observed, line.outcome.label, line.outcome.tone) == (
            "—", "not evaluated", "muted")


def test_failed_volume_gate_shows_what_it_observed() -> None:
    tables = _tables(
        deliveries=[_delivery("b-v", "V.csv")],
        batches=[_stage("b-v", "silver", "failed", rows_in=12,
                        reason=f"quality gate failed: {VOLUME_FAILURE}")],
        results=[_result("b-v", GATE_VOLUME, False, VOLUME_FAILURE, element_count=12)])
    volume = _gates(_page(tables), "b-v")[GATE_VOLUME]
    assert volume.observed == VOLUME_FAILURE.removeprefix("gate.volume: ")
    assert volume.outcome.label == "FAILED"
    (item,) = _page(tables).attention
    assert item.detail == VOLUME_FAILURE
    assert summaries(tables)[0].failed_gates == 1


# --------------------------------------------------------------------------- the run


def test_failed_gates_are_counted_once_each(tables: SystemTables) -> None:
    (s,) = summaries(tables)
    # b-share: its quarantine share; b-few: its minimum rows (a quarantine rule is no gate).
    assert s.failed_gates == 2 and s.refused == 1
    assert s.batches == 4 and s.rows == 100 + 60 + 0 + 50 and s.quarantined == 5


def test_attention_names_the_failed_gates_with_what_they_observed(tables: SystemTables) -> None:
    items = {i.code: i for i in _page(tables).attention}
    assert set(items) == {"<b>notes</b>.txt", "SHARE.csv", "FEW.csv"}
    assert items["SHARE.csv"].detail == (
        f"{GATE_QUARANTINE_SHARE}: 36 of 60 rows quarantined (60.0%; at most 20.0%)")
    assert items["SHARE.csv"].anchor == "batch-b-share"
    assert items["FEW.csv"].detail == f"{GATE_MIN_ROWS}: 0 records (at least 1)"
    assert items["<b>notes</b>.txt"].verdict == "refused"


def test_rules_exclude_the_gates_and_word_the_record_rules(tables: SystemTables) -> None:
    (b,) = [b for f in _page(tables).feeds for b in f.batches if b.batch_id == "b-ok"]
    assert b.rules is not None
    by_id = {r.rule_id: r for r in b.rules.lines}
    assert set(by_id) == {"national_id.check_digit", RULE_MALFORMED}
    assert by_id[RULE_MALFORMED].expects == RECORD_RULES[RULE_MALFORMED]
    assert by_id["national_id.check_digit"].outcome.label == "quarantined"
    assert b.rules.tally == "1 pass · 1 quarantined" and b.rules.open
    assert b.status.label == "ok · 5 quarantined"
    assert [c.check for c in b.checks] == [CHECK_LANDED, CHECK_BRONZE, CHECK_SILVER]
    assert b.quarantine is not None and b.quarantine.total == 5


def test_page_escapes_what_the_records_hold(tables: SystemTables) -> None:
    page = render_run(tables, RUN)
    assert page.startswith("<!DOCTYPE html>")
    assert "<b>notes</b>" not in page and html.escape("<b>notes</b>.txt") in page
    assert "does not match &lt;pattern&gt;" in page
    assert 'title="gate.max_quarantine_share">quarantine share</td><td>36 of 60 rows (60.0%)' \
        "</td><td>≤ 20.0%</td><td><span class=\"badge fail\">FAILED</span>" in page
    assert '<td class="gate" title="gate.volume">volume</td><td>—</td>' in page  # b-old
    assert page.count("not evaluated") == 4  # b-few: share and volume; b-old: both
    assert "Needs attention (3)" in page and "Freshness gate" in page


def test_index_and_empty_run() -> None:
    empty = _tables(deliveries=[], batches=[], results=[])
    assert "No run has left records" in render_index(empty)
    assert index_page(empty).lines == []
    assert "No record of this run in the system tables." in render_run(empty, "nothing")
    assert run_file_name("a/b c") == "a_b_c.html"


def test_the_index_of_an_empty_root(tmp_path: Path) -> None:
    paths = write_all(str(tmp_path / "lakehouse"), str(tmp_path / "out"))
    assert paths == [tmp_path / "out" / "index.html"]
    assert "No run has left records" in (tmp_path / "out" / "index.html").read_text("utf-8")
