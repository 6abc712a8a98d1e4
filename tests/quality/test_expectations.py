"""The custom Great Expectations expectations (quality.expectations), on Spark and Pandas."""

from __future__ import annotations

import datetime as dt
from typing import Any

import great_expectations as gx
import pandas as pd
import pytest
from great_expectations.expectations.registry import get_expectation_impl

from quality.expectations import (
    ExpectColumnPairValuesToBeValidDate,
    ExpectColumnValuesToBePresent,
    ExpectColumnValuesToBeValidTwBusinessId,
    ExpectColumnValuesToBeValidTwPersonId,
    ExpectRowsToSatisfyExpression,
)
from quality.gate import RESULT_FORMAT

ROWS = [
    # national_id, employer_ubn, raw date, date, change_type
    ("A123456789", "04595257", "0780315", dt.date(1989, 3, 15), "02"),
    ("A123456788", "04595258", "1080230", None, "04"),
    ("FA12345689", "10458574", "", None, "02"),
    (None, None, None, None, None),
    ("", "", "1130105", dt.date(2024, 1, 5), "04"),
]
SCHEMA = "national_id string, employer_ubn string, raw string, parsed date, change_type string"


def _validate(batch_frame: Any, expectation: Any, engine: str) -> Any:
    context = gx.get_context(mode="ephemeral")
    if engine == "spark":
        source = context.data_sources.add_spark("spark", persist=False)
    else:
        source = context.data_sources.add_pandas("pandas")
    batch_definition = source.add_dataframe_asset("frame").add_batch_definition_whole_dataframe(
        "whole"
    )
    batch = batch_definition.get_batch(batch_parameters={"dataframe": batch_frame})
    return batch.validate(expectation, result_format=RESULT_FORMAT)


@pytest.fixture(params=["spark", "pandas"])
def frame(request: pytest.FixtureRequest, spark: Any) -> tuple[str, Any]:
    """The same rows as a Spark and as a Pandas DataFrame."""
    df = spark.createDataFrame(ROWS, SCHEMA)
    if request.param == "pandas":
        return "pandas", pd.DataFrame(ROWS, columns=[c.split()[0] for c in SCHEMA.split(", ")])
    return "spark", df


@pytest.mark.parametrize(
    ("expectation", "unexpected"),
    [
        # A123456788 and "" fail; null is ignored.
        (ExpectColumnValuesToBeValidTwPersonId(column="national_id"), 2),
        # 04595258 and "" fail; 10458574 passes through the 7th-digit-7 rule.
        (ExpectColumnValuesToBeValidTwBusinessId(column="employer_ubn"), 2),
        # One null and one empty string.
        (ExpectColumnValuesToBePresent(column="national_id"), 2),
        # Only 1080230 is non-empty text without a date.
        (ExpectColumnPairValuesToBeValidDate(column_A="raw", column_B="parsed"), 1),
    ],
    ids=["person_id", "business_id", "present", "valid_date"],
)
def test_expectation_counts(frame: tuple[str, Any], expectation: Any, unexpected: int) -> None:
    engine, batch_frame = frame
    result = _validate(batch_frame, expectation, engine)
    assert result.exception_info.get("raised_exception") is not True, result.exception_info
    assert result.result["element_count"] == len(ROWS)
    assert result.result["unexpected_count"] == unexpected
    assert result.success is False
    assert result.result["partial_unexpected_list"] == []


def test_row_expression_on_spark(spark: Any) -> None:
    df = spark.createDataFrame(ROWS, SCHEMA)
    expectation = ExpectRowsToSatisfyExpression(
        column_list=["change_type", "parsed"],
        expression="(change_type = '04') = (parsed IS NOT NULL)",
    )
    result = _validate(df, expectation, "spark")
    # Row 1 (04 without date) fails, row 3 (all null) fails because NULL counts as failing, and
    # row 0 (02 with a date) fails; row 4 (04 with a date) and row 2 (02, no date) pass.
    assert result.result["element_count"] == len(ROWS)
    assert result.result["unexpected_count"] == 3
    assert result.success is False


def test_all_null_column_is_not_present(spark: Any) -> None:
    """Presence counts nulls against all rows: an all-null column fails (not vacuously true)."""
    df = spark.createDataFrame([(None,), (None,)], "national_id string")
    result = _validate(df, ExpectColumnValuesToBePresent(column="national_id"), "spark")
    assert result.success is False
    assert result.result["unexpected_count"] == 2


def test_passing_batch(spark: Any) -> None:
    df = spark.createDataFrame([("A123456789", "04595257")], "national_id string, ubn string")
    for expectation in (
        ExpectColumnValuesToBeValidTwPersonId(column="national_id"),
        ExpectColumnValuesToBeValidTwBusinessId(column="ubn"),
        ExpectColumnValuesToBePresent(column="national_id"),
    ):
        assert _validate(df, expectation, "spark").success is True


def test_mostly(spark: Any) -> None:
    df = spark.createDataFrame([("A123456789",)] * 9 + [("A123456788",)], "national_id string")
    lenient = ExpectColumnValuesToBeValidTwPersonId(column="national_id", mostly=0.9)
    assert _validate(df, lenient, "spark").success is True


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("expect_column_values_to_be_valid_tw_person_id", ExpectColumnValuesToBeValidTwPersonId),
        (
            "expect_column_values_to_be_valid_tw_business_id",
            ExpectColumnValuesToBeValidTwBusinessId,
        ),
        ("expect_column_values_to_be_present", ExpectColumnValuesToBePresent),
        ("expect_column_pair_values_to_be_valid_date", ExpectColumnPairValuesToBeValidDate),
        ("expect_rows_to_satisfy_expression", ExpectRowsToSatisfyExpression),
    ],
)
def test_registered(name: str, cls: type) -> None:
    assert get_expectation_impl(name) is cls


def test_configuration_round_trip() -> None:
    expectation = ExpectRowsToSatisfyExpression(
        column_list=["a", "b"], expression="a = b", meta={"rule_id": "x", "action": "warn"}
    )
    config = expectation.configuration
    assert config.type == "expect_rows_to_satisfy_expression"
    assert config.kwargs["expression"] == "a = b"
    # Defaults stay out of the serialized kwargs; the class default applies on load.
    assert expectation.ignore_row_if == "never"
    assert config.to_domain_obj() == expectation
