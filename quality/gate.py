"""The batch gate: run a feed's suite on a conformed batch and decide whether it may pass.

:func:`validate` persists the batch once, counts its rows and quarantined rows in one Spark
aggregation, then runs the contract's suite (:func:`quality.suite.build_suite`) in a single Great
Expectations validation on an ephemeral context. The batch fails the gate when

- a rule with action ``fail`` has unexpected rows (the table rules included: fewer rows than
  ``gates.min_rows``, columns missing),
- the share of quarantined rows exceeds ``gates.max_quarantine_share``, or
- the batch has fewer than ``gates.min_rows`` rows.

Great Expectations runs with ``result_format`` SUMMARY and ``partial_unexpected_count`` 0, and
only counts are read back from its results: no value of the data (personal data) ends up in a
:class:`GateResult`, not even in an error message.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import great_expectations as gx
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.data_context.types.base import ProgressBarsConfig
from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from kernel.contracts import FeedContract, Rule
from quality.checks import (
    expected_columns,
    failed_rules_column,
    raw_column,
    rule_columns,
    rules_with_action,
)
from quality.ids import COLUMNS_RULE, ROW_COUNT_RULE, TABLE_RULE_ACTION
from quality.suite import build_suite
from quality.verdicts import (
    RESULT_FORMAT,
    GateResult,
    RuleResult,
    count,
    error_class,
    gate_success,
    sanitize,
)

__all__ = ["RESULT_FORMAT", "GateResult", "RuleResult", "run_suite", "sanitize", "validate"]

def run_suite(df: DataFrame, suite: gx.ExpectationSuite) -> ExpectationSuiteValidationResult:
    """Run ``suite`` on ``df`` once, in an ephemeral context, with :data:`RESULT_FORMAT`.

    The data source does not persist the frame (Great Expectations would never unpersist it);
    persist ``df`` beforehand, as :func:`validate` does.
    """
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_spark(name="spark", persist=False)
    asset = source.add_dataframe_asset(name=suite.name)
    batch_definition = asset.add_batch_definition_whole_dataframe("whole_dataframe")
    batch = batch_definition.get_batch(batch_parameters={"dataframe": df})
    return batch.validate(suite, result_format=RESULT_FORMAT)


def _rule_result(
    rule_id: str, column: str | None, check: str, action: str, gx_result: Any
) -> RuleResult:
    result = sanitize(gx_result.result or {})
    error = error_class(gx_result.exception_info or {})
    element_count = count(result.get("element_count"))
    unexpected_count = count(result.get("unexpected_count"))
    if unexpected_count is None and rule_id != COLUMNS_RULE:
        # Table expectations report their measure as observed_value.
        element_count = count(result.get("observed_value"))
    return RuleResult(
        rule_id=rule_id,
        column=column,
        check=check,
        action=action,
        expectation=str(gx_result.expectation_config.type),
        element_count=element_count,
        unexpected_count=unexpected_count,
        success=bool(gx_result.success) and error is None,
        error=error,
    )


def _rule_column(rule: Rule) -> str | None:
    return rule.column or (",".join(rule_columns(rule)) or None)


def _counts(df: DataFrame, contract: FeedContract, rules: tuple[Rule, ...]) -> tuple[int, int]:
    """(rows, rows failing at least one of ``rules``) in one aggregation."""
    if rules:
        quarantine_contract = _with_rules(contract, rules)
        failed = F.size(failed_rules_column(quarantine_contract, "quarantine")) > 0
        flagged = F.sum(F.when(failed, 1).otherwise(0))
    else:
        flagged = F.lit(0)
    row = df.agg(F.count(F.lit(1)).alias("rows"), flagged.alias("flagged")).collect()[0]
    return int(row["rows"]), int(row["flagged"] or 0)


def _with_rules(contract: FeedContract, rules: tuple[Rule, ...]) -> FeedContract:
    """A copy of ``contract`` whose quarantine rules are ``rules`` (the evaluable ones)."""
    keep = {r.id for r in rules}
    fields = tuple(
        replace(f, rules=tuple(r for r in f.rules if r.id in keep)) for f in contract.fields
    )
    row_rules = tuple(r for r in contract.row_rules if r.id in keep)
    return replace(contract, fields=fields, row_rules=row_rules)


def validate(df: DataFrame, contract: FeedContract) -> GateResult:
    """Gate a conformed batch of ``contract``'s feed: one aggregation plus one GX validation."""
    suite = build_suite(contract)
    present = set(df.columns)
    missing = [c for c in expected_columns(contract) if c not in present]
    rules_by_id: dict[str, Rule] = {r.id: r for r in contract.rules}
    # A rule over a missing column cannot be evaluated here; the column rule fails the gate.
    evaluable = tuple(
        r for r in rules_with_action(contract, "quarantine") if set(_reads(r)) <= present
    )

    persisted = not df.is_cached
    batch = df.persist(StorageLevel.MEMORY_AND_DISK) if persisted else df
    try:
        rows, quarantined = _counts(batch, contract, evaluable)
        gx_results = run_suite(batch, suite)
    finally:
        if persisted:
            batch.unpersist()

    results: list[RuleResult] = []
    for r in gx_results.results:
        config = r.expectation_config
        meta = (config.meta if config is not None else None) or {}
        rule_id = str(meta.get("rule_id"))
        rule = rules_by_id.get(rule_id)
        if rule is not None:
            results.append(
                _rule_result(rule.id, _rule_column(rule), rule.check, rule.action, r)
            )
        else:
            check = "min_rows" if rule_id == ROW_COUNT_RULE else "columns"
            action = str(meta.get("action", TABLE_RULE_ACTION))
            results.append(_rule_result(rule_id, None, check, action, r))
    order = {rid: i for i, rid in enumerate([*rules_by_id, ROW_COUNT_RULE, COLUMNS_RULE])}
    results.sort(key=lambda x: order.get(x.rule_id, len(order)))

    return GateResult(
        suite=suite.name,
        success=gate_success(results, missing, rows, quarantined,
                             contract.gates.max_quarantine_share, contract.gates.min_rows),
        rows=rows,
        quarantined_rows=quarantined,
        rules=results,
        max_quarantine_share=contract.gates.max_quarantine_share,
        min_rows=contract.gates.min_rows,
        missing_columns=missing,
    )


def _reads(rule: Rule) -> tuple[str, ...]:
    """The conformed columns a rule's predicate reads (a date rule reads its raw column too)."""
    cols = rule_columns(rule)
    if rule.check in ("valid_date", "valid_value"):
        cols = (*cols, *(raw_column(c) for c in cols))
    return cols
