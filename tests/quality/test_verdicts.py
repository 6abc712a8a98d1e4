"""The gate decisions in plain Python (quality.verdicts): the batch gate, its messages, what is
read back from an expectation's result, a steward's release, freshness and volume. No Spark:
these are the tests ``make mutation`` runs against the module."""

from __future__ import annotations

import pytest

from quality.ids import COLUMNS_RULE, ROW_COUNT_RULE
from quality.verdicts import (
    GateResult,
    RuleResult,
    count,
    error_class,
    freshness_verdict,
    gate_success,
    median,
    release_passes,
    sanitize,
    volume_verdict,
)


def _rule(rule_id: str = "r1", action: str = "fail", success: bool = True,
          unexpected: int | None = 0, elements: int | None = 10,
          error: str | None = None) -> RuleResult:
    return RuleResult(rule_id=rule_id, column="c", check="not_null", action=action,
                      expectation="expect_x", element_count=elements,
                      unexpected_count=unexpected, success=success, error=error)


def _gate(rules: list[RuleResult], rows: int = 10, quarantined: int = 0, success: bool = True,
          missing: list[str] | None = None) -> GateResult:
    return GateResult(suite="s", success=success, rows=rows, quarantined_rows=quarantined,
                      rules=rules, max_quarantine_share=0.2, min_rows=5,
                      missing_columns=missing or [])


def test_gate_success_on_each_condition() -> None:
    ok = [_rule(), _rule("q", action="quarantine", success=False)]
    assert gate_success(ok, [], rows=10, quarantined=2, max_quarantine_share=0.2, min_rows=10)
    assert not gate_success([_rule(success=False)], [], 10, 0, 0.2, 1)
    assert not gate_success(ok, ["c"], 10, 0, 0.2, 1)
    assert not gate_success(ok, [], 10, 3, 0.2, 1)  # 30 % > 20 %
    assert not gate_success(ok, [], 9, 0, 0.2, 10)  # fewer rows than the minimum
    assert gate_success(ok, [], 0, 0, 0.0, 0)  # an empty batch has no quarantined share
    assert not gate_success(ok, [], 0, 0, 0.0, 1)


def test_quarantine_share_and_rule_lookup() -> None:
    gate = _gate([_rule("a"), _rule("b")], rows=8, quarantined=2)
    assert gate.quarantine_share == 0.25
    assert _gate([], rows=0, quarantined=0).quarantine_share == 0.0
    assert gate.rule("b").rule_id == "b"
    with pytest.raises(KeyError, match="no rule 'z' in s"):
        gate.rule("z")


def test_failures_name_every_failed_rule_and_gate_without_values() -> None:
    gate = _gate([
        _rule("ok"),
        _rule("r1", success=False, unexpected=3, elements=None),
        _rule("r2", action="quarantine", success=False, unexpected=1, elements=7),
        _rule("r3", success=False, error="UNRESOLVED_COLUMN"),
        _rule(ROW_COUNT_RULE, success=False),
        _rule(COLUMNS_RULE, success=False),
    ], rows=10, quarantined=3, missing=["a", "b"])
    assert gate.failures() == [
        "rule r1 (fail): 3 of 10 rows fail",
        "rule r2 (quarantine): 1 of 7 rows fail",
        "rule r3 (fail): could not be evaluated (UNRESOLVED_COLUMN)",
        f"rule {ROW_COUNT_RULE} (fail): 10 rows, fewer than 5",
        f"rule {COLUMNS_RULE} (fail): columns missing from the batch: a, b",
        "gate.max_quarantine_share: 3 of 10 rows quarantined (30.0% > 20.0%)",
    ]
    assert _gate([_rule(COLUMNS_RULE, success=False)]).failures() == [
        f"rule {COLUMNS_RULE} (fail): columns missing from the batch: ?"]
    assert _gate([_rule()], rows=10, quarantined=2).failures() == []  # 20 % is allowed


def test_to_dict_carries_the_share_and_the_failures() -> None:
    out = _gate([_rule("r1", success=False, unexpected=1)], rows=4, quarantined=1).to_dict()
    assert out["quarantine_share"] == 0.25
    assert out["failures"] == [
        "rule r1 (fail): 1 of 10 rows fail",
        "gate.max_quarantine_share: 1 of 4 rows quarantined (25.0% > 20.0%)",
    ]
    assert out["rules"][0]["rule_id"] == "r1" and out["rows"] == 4


def test_sanitize_keeps_numbers_only() -> None:
    result = {"element_count": 10, "unexpected_count": 2, "unexpected_percent": 20.0,
              "missing_count": True, "observed_value": "A123456789",
              "partial_unexpected_list": ["A123456789"], "details": {"x": 1}, "other": 5}
    assert sanitize(result) == {"element_count": 10, "unexpected_count": 2,
                                "unexpected_percent": 20.0}
    assert sanitize({}) == {}


def test_count_reads_numbers_not_booleans() -> None:
    assert count(3) == 3 and count(3.0) == 3 and count(0) == 0
    assert count(True) is None and count("3") is None and count(None) is None


def test_error_class_names_the_spark_error_never_the_message() -> None:
    raised = {"raised_exception": True,
              "exception_message": " [UNRESOLVED_COLUMN.WITH_SUGGESTION] A123456789 ..."}
    assert error_class(raised) == "UNRESOLVED_COLUMN.WITH_SUGGESTION"
    assert error_class({"raised_exception": True, "exception_message": "boom A123456789"}) == (
        "error")
    assert error_class({"raised_exception": True, "exception_message": None}) == "error"
    assert error_class({"raised_exception": False, "exception_message": "[X] y"}) is None
    assert error_class({}) is None
    by_metric = {"m1": {"raised_exception": False},
                 "m2": {"raised_exception": True, "exception_message": "[DIVIDE_BY_ZERO] z"},
                 "m3": "not a mapping"}
    assert error_class(by_metric) == "DIVIDE_BY_ZERO"
    assert error_class({"m1": {"raised_exception": False}}) is None


def test_a_release_passes_on_its_fail_rules_alone() -> None:
    small = _gate([_rule(), _rule("q", action="quarantine", success=False)], success=False)
    assert release_passes(small, released=True)
    assert not release_passes(small, released=False)
    broken = _gate([_rule(success=False)], success=False)
    assert not release_passes(broken, released=True)
    assert release_passes(_gate([_rule(success=False)], success=True), released=False)


def test_freshness_verdict() -> None:
    assert freshness_verdict(None, 36, "daily") == (
        False, "no delivery has ever landed (limit 36h for a daily feed)")
    assert freshness_verdict(36.0, 36, "daily") == (
        True, "the last landed 36h ago (limit 36h for a daily feed)")
    assert freshness_verdict(36.4, 36, "daily") == (
        False, "the last landed 36h ago (limit 36h for a daily feed)")
    assert freshness_verdict(0.0, 1.5, "hourly") == (
        True, "the last landed 0h ago (limit 1.5h for a hourly feed)")


def test_median() -> None:
    assert median([5]) == 5
    assert median([9, 1, 5]) == 5
    assert median([4, 1, 3, 2]) == 2.5
    assert median([10, 20]) == 15


def test_volume_verdict_bounds_and_history() -> None:
    recent = [100, 120, 80]  # median 100
    assert volume_verdict(recent, 1000, 10, 3) is None  # exactly 10x
    assert volume_verdict(recent, 10, 10, 3) is None  # exactly 1/10x
    assert volume_verdict(recent, 9, 10, 3) == (
        "9 records, 0.09x the median 100 of the last 3 accepted batches "
        "(allowed 1/10x to 10x)")
    assert volume_verdict(recent, 1001, 10, 3) == (
        "1,001 records, 10x the median 100 of the last 3 accepted batches "
        "(allowed 1/10x to 10x)")
    assert volume_verdict(recent, 1, 10, 4) is None  # too little history to judge
    assert volume_verdict([2000, 1000], 1, 2.5, 2) == (
        "1 records, 0.00067x the median 1,500 of the last 2 accepted batches "
        "(allowed 1/2.5x to 2.5x)")
    assert volume_verdict([0, 0, 0], 5, 10, 3) == (
        "5 records, infx the median 0 of the last 3 accepted batches (allowed 1/10x to 10x)")
