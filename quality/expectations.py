"""Great Expectations 1.x custom expectations for the Taiwan-specific contract checks.

Each expectation is a map expectation backed by a metric provider whose Spark condition is the
predicate of :mod:`quality.checks`, so that the gate (Great Expectations) and the quarantine split
(plain Spark) cannot disagree. Importing this module registers the expectations and their metrics
with Great Expectations.

- :class:`ExpectColumnValuesToBeValidTwPersonId` (metric
  ``column_values.valid_tw_person_id``): the ``tw_person_id`` check;
- :class:`ExpectColumnValuesToBeValidTwBusinessId` (``column_values.valid_tw_business_id``):
  the ``tw_business_id`` check;
- :class:`ExpectColumnValuesToBePresent` (``column_values.present``): the ``not_null`` check
  (null or empty string);
- :class:`ExpectColumnPairValuesToBeValidDate` (``column_pair_values.valid_date``): the
  ``valid_date`` check on the pair (raw wire text, parsed date);
- :class:`ExpectRowsToSatisfyExpression` (``multicolumn_values.satisfy_expression``): the row
  rules (a Spark SQL expression, NULL failing).

The Taiwan identifier, presence and date expectations also run on Pandas; the row-rule
expectation evaluates Spark SQL and so runs on Spark only.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import pandas as pd
from great_expectations.compatibility import pydantic
from great_expectations.execution_engine import PandasExecutionEngine, SparkDFExecutionEngine
from great_expectations.expectations.core.expect_column_values_to_not_be_null import (
    ExpectColumnValuesToNotBeNull,
)
from great_expectations.expectations.expectation import (
    ColumnMapExpectation,
    ColumnPairMapExpectation,
    MulticolumnMapExpectation,
)
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    ColumnPairMapMetricProvider,
    MulticolumnMapMetricProvider,
    column_condition_partial,
    column_pair_condition_partial,
    multicolumn_condition_partial,
)
from pyspark.sql import Column

from kernel.twid import is_valid_business_id, is_valid_person_id
from quality.checks import (
    expression_ok,
    present_ok,
    tw_business_id_ok,
    tw_person_id_ok,
    valid_date_ok,
)

_LIBRARY_METADATA: dict[str, str | list[str] | bool] = {
    "maturity": "production",
    "tags": ["taiwan", "convergence lakehouse"],
    "contributors": ["@bli-convergence"],
    "requirements": [],
    "has_full_test_suite": True,
    "manually_reviewed_code": True,
}


# --- metrics ----------------------------------------------------------------------------------


class ColumnValuesValidTwPersonId(ColumnMapMetricProvider):
    """Row-wise: the value is a valid national ID or resident certificate number."""

    condition_metric_name = "column_values.valid_tw_person_id"

    @column_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column: Column, **kwargs: Any) -> Column:
        return tw_person_id_ok(column)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs: Any) -> pd.Series:
        return column.map(lambda v: is_valid_person_id(v if isinstance(v, str) else str(v)))


class ColumnValuesValidTwBusinessId(ColumnMapMetricProvider):
    """Row-wise: the value is a valid business ID (統一編號)."""

    condition_metric_name = "column_values.valid_tw_business_id"

    @column_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column: Column, **kwargs: Any) -> Column:
        return tw_business_id_ok(column)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs: Any) -> pd.Series:
        return column.map(lambda v: is_valid_business_id(v if isinstance(v, str) else str(v)))


class ColumnValuesPresent(ColumnMapMetricProvider):
    """Row-wise: the value is neither null nor the empty string (nulls are not filtered out)."""

    condition_metric_name = "column_values.present"
    filter_column_isnull = False

    @column_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column: Column, **kwargs: Any) -> Column:
        return present_ok(column)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs: Any) -> pd.Series:
        return column.notna() & (column.astype(str) != "")


class ColumnPairValuesValidDate(ColumnPairMapMetricProvider):
    """Row-wise: column_A (the wire text) is empty, or column_B (the parsed date) is not null."""

    condition_metric_name = "column_pair_values.valid_date"
    condition_domain_keys = (
        "batch_id",
        "table",
        "column_A",
        "column_B",
        "row_condition",
        "condition_parser",
        "ignore_row_if",
    )

    @column_pair_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column_A: Column, column_B: Column, **kwargs: Any) -> Column:
        return valid_date_ok(column_A, column_B)

    @column_pair_condition_partial(engine=PandasExecutionEngine)
    def _pandas(
        cls,
        column_A: pd.Series,
        column_B: pd.Series,
        **kwargs: Any,
    ) -> pd.Series:
        return column_A.isna() | (column_A.astype(str) == "") | column_B.notna()


class MulticolumnValuesSatisfyExpression(MulticolumnMapMetricProvider):
    """Row-wise: a Spark SQL boolean expression over the row is TRUE (NULL fails)."""

    condition_metric_name = "multicolumn_values.satisfy_expression"
    condition_value_keys = ("expression",)

    @multicolumn_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column_list: Any, expression: str, **kwargs: Any) -> Column:
        return expression_ok(expression)


# --- expectations -----------------------------------------------------------------------------


class ExpectColumnValuesToBeValidTwPersonId(ColumnMapExpectation):
    """Expect column values to be valid Taiwan personal identifiers (check digit verified).

    National ID ``[A-Z][12]\\d{8}``, new resident certificate ``[A-Z][89]\\d{8}`` or old resident
    certificate ``[A-Z][A-D]\\d{8}``. Nulls are ignored (use a presence expectation for them).
    """

    map_metric: ClassVar[str] = "column_values.valid_tw_person_id"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)
    library_metadata: ClassVar[dict[str, str | list[str] | bool]] = _LIBRARY_METADATA
    _library_metadata = library_metadata

    class Config:
        title = "Expect column values to be valid Taiwan personal identifiers"


class ExpectColumnValuesToBeValidTwBusinessId(ColumnMapExpectation):
    """Expect column values to be valid Taiwan business IDs (統一編號, check digit verified).

    Nulls are ignored (use a presence expectation for them).
    """

    map_metric: ClassVar[str] = "column_values.valid_tw_business_id"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)
    library_metadata: ClassVar[dict[str, str | list[str] | bool]] = _LIBRARY_METADATA
    _library_metadata = library_metadata

    class Config:
        title = "Expect column values to be valid Taiwan business IDs"


class ExpectColumnValuesToBePresent(ExpectColumnValuesToNotBeNull):
    """Expect column values to be neither null nor the empty string.

    The contract's ``not_null`` check. It inherits the null-counting validation of
    ``expect_column_values_to_not_be_null`` (unexpected share of all rows, not of the non-null
    ones), with an empty string counted as missing too.
    """

    map_metric: ClassVar[str] = "column_values.present"
    library_metadata: ClassVar[dict[str, str | list[str] | bool]] = _LIBRARY_METADATA
    _library_metadata = library_metadata

    class Config:
        title = "Expect column values to be present (not null, not empty)"


class ExpectColumnPairValuesToBeValidDate(ColumnPairMapExpectation):
    """Expect a date column to be parsed whenever its wire text is non-empty.

    ``column_A`` is the trimmed wire text (``_raw_<field>``), ``column_B`` the parsed date
    (null for an empty or impossible date). A row fails when the text is non-empty and the date
    is null: an impossible date such as ROC ``1080230``. Rows where both are null are ignored.
    """

    map_metric: ClassVar[str] = "column_pair_values.valid_date"
    ignore_row_if: Literal["both_values_are_missing", "either_value_is_missing", "neither"] = (
        "both_values_are_missing"
    )
    success_keys: ClassVar[tuple[str, ...]] = ("column_A", "column_B", "ignore_row_if", "mostly")
    args_keys: ClassVar[tuple[str, ...]] = ("column_A", "column_B")
    library_metadata: ClassVar[dict[str, str | list[str] | bool]] = _LIBRARY_METADATA
    _library_metadata = library_metadata

    class Config:
        title = "Expect the wire text of a date to parse to a date"


class ExpectRowsToSatisfyExpression(MulticolumnMapExpectation):
    """Expect every row to satisfy a Spark SQL boolean expression over ``column_list``.

    The contract's row rules. A NULL result counts as a failure, and no row is ignored
    (``ignore_row_if="never"``): a rule over absent values decides for itself. Spark only.
    """

    expression: str = pydantic.Field(description="A Spark SQL boolean expression over the row.")
    ignore_row_if: Literal["all_values_are_missing", "any_value_is_missing", "never"] = "never"
    map_metric: ClassVar[str] = "multicolumn_values.satisfy_expression"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "expression")
    args_keys: ClassVar[tuple[str, ...]] = ("column_list", "expression")
    library_metadata: ClassVar[dict[str, str | list[str] | bool]] = _LIBRARY_METADATA
    _library_metadata = library_metadata

    class Config:
        title = "Expect rows to satisfy a Spark SQL expression"
