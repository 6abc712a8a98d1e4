"""The Great Expectations suite of a feed, derived from its contract.

One expectation per contract rule (field rules in field order, then row rules), each carrying
``meta={"rule_id": ..., "action": ...}``, plus two table-level expectations with the pseudo rule
ids :data:`ROW_COUNT_RULE` (``gates.min_rows``) and :data:`COLUMNS_RULE` (the conformed columns),
both with action ``fail``.

=================  ==============================================================
contract check     expectation
=================  ==============================================================
not_null           ``expect_column_values_to_be_present`` (null or empty fails)
in_set             ``expect_column_values_to_be_in_set``
regex              ``expect_column_values_to_match_regex``
length_between     ``expect_column_value_lengths_to_be_between``
between            ``expect_column_values_to_be_between``
valid_date         ``expect_column_pair_values_to_be_valid_date`` (raw text, date)
tw_person_id       ``expect_column_values_to_be_valid_tw_person_id``
tw_business_id     ``expect_column_values_to_be_valid_tw_business_id``
expression         ``expect_rows_to_satisfy_expression``
=================  ==============================================================
"""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.expectations.expectation import Expectation

from kernel.contracts import FeedContract, Rule
from quality.checks import expected_columns, raw_column, rule_columns
from quality.expectations import (
    ExpectColumnPairValuesToBeValidDate,
    ExpectColumnValuesToBePresent,
    ExpectColumnValuesToBeValidTwBusinessId,
    ExpectColumnValuesToBeValidTwPersonId,
    ExpectRowsToSatisfyExpression,
)
from quality.ids import COLUMNS_RULE, ROW_COUNT_RULE, TABLE_RULE_ACTION


def _meta(rule_id: str, action: str) -> dict[str, str]:
    return {"rule_id": rule_id, "action": action}


def rule_expectation(rule: Rule, contract: FeedContract) -> Expectation:
    """The expectation checking ``rule`` of ``contract``, with the rule id and action in meta."""
    meta = _meta(rule.id, rule.action)
    description = rule.description or None
    if rule.check == "expression":
        if not rule.expression:
            raise ValueError(f"{contract.name}: rule {rule.id} has no expression")
        columns = list(rule_columns(rule))
        if len(columns) < 2:
            # A multicolumn domain needs two columns; the expression reads the whole row anyway.
            columns = columns * 2
        return ExpectRowsToSatisfyExpression(
            column_list=columns, expression=rule.expression, meta=meta, description=description
        )
    if rule.column is None:
        raise ValueError(f"{contract.name}: rule {rule.id} ({rule.check}) names no column")
    column, params = rule.column, rule.params
    if rule.check == "not_null":
        return ExpectColumnValuesToBePresent(column=column, meta=meta, description=description)
    if rule.check == "in_set":
        return gxe.ExpectColumnValuesToBeInSet(
            column=column, value_set=list(params["values"]), meta=meta, description=description
        )
    if rule.check == "regex":
        return gxe.ExpectColumnValuesToMatchRegex(
            column=column, regex=str(params["pattern"]), meta=meta, description=description
        )
    if rule.check == "length_between":
        return gxe.ExpectColumnValueLengthsToBeBetween(
            column=column,
            min_value=params.get("min"),
            max_value=params.get("max"),
            meta=meta,
            description=description,
        )
    if rule.check == "between":
        return gxe.ExpectColumnValuesToBeBetween(
            column=column,
            min_value=params.get("min"),
            max_value=params.get("max"),
            meta=meta,
            description=description,
        )
    if rule.check in ("valid_date", "valid_value"):
        return ExpectColumnPairValuesToBeValidDate(
            column_A=raw_column(column), column_B=column, meta=meta, description=description
        )
    if rule.check == "tw_person_id":
        return ExpectColumnValuesToBeValidTwPersonId(
            column=column, meta=meta, description=description
        )
    if rule.check == "tw_business_id":
        return ExpectColumnValuesToBeValidTwBusinessId(
            column=column, meta=meta, description=description
        )
    raise ValueError(f"{contract.name}: rule {rule.id}: unknown check {rule.check!r}")


def table_expectations(contract: FeedContract) -> list[Expectation]:
    """The table-level expectations: minimum row count and the conformed column set."""
    meta_rows = _meta(ROW_COUNT_RULE, TABLE_RULE_ACTION)
    meta_cols = _meta(COLUMNS_RULE, TABLE_RULE_ACTION)
    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=contract.gates.min_rows, meta=meta_rows),
        gxe.ExpectTableColumnsToMatchSet(
            column_set=expected_columns(contract), exact_match=False, meta=meta_cols
        ),
    ]


def build_suite(contract: FeedContract) -> gx.ExpectationSuite:
    """The suite ``<feed>.<version>``: one expectation per contract rule, then the table ones."""
    expectations = [rule_expectation(r, contract) for r in contract.rules]
    expectations += table_expectations(contract)
    # Built through the constructor: ``add_expectation`` needs an active Data Context (it looks
    # for a store to save to). The constructor logs and drops an invalid expectation instead of
    # raising, hence the count check.
    suite = gx.ExpectationSuite(
        name=contract.suite_name,
        expectations=expectations,
        meta={"feed": contract.name, "contract_version": contract.version},
    )
    if len(suite.expectations) != len(expectations):
        raise ValueError(f"{contract.name}: some expectations were rejected by Great Expectations")
    return suite
