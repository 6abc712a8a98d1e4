"""The batch gate (quality.gate): counts per rule, the verdict, and no personal data out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pyspark.sql import functions as F

from kernel.contracts import FeedContract
from quality.checks import rule_predicate
from quality.gate import GateResult, RuleResult, run_suite, validate
from quality.ids import COLUMNS_RULE, ROW_COUNT_RULE
from quality.suite import build_suite
from tests.quality.samples import CONFORMED_SCHEMA, conformed_row

# Personal values planted in the bad rows; none may leave the gate.
BAD_ID = "A123456788"
BAD_ID_2 = "B123456781"
BAD_NAME = "林怡君"
BAD_HOUSEHOLD = "QQ9"
BAD_DATE = "1080230"
PLANTED = (BAD_ID, BAD_ID_2, BAD_NAME, BAD_HOUSEHOLD, BAD_DATE, "王小明", "忠孝東路", "A123456789")

PLANTED_ROWS = [
    conformed_row(national_id=BAD_ID),  # national_id.check_digit
    conformed_row(national_id=BAD_ID_2, name=BAD_NAME),  # national_id.check_digit
    conformed_row(sex="3"),  # sex.code
    conformed_row(household_no=BAD_HOUSEHOLD),  # household_no.format (warn only)
    conformed_row(birth_date=None, _raw_birth_date=BAD_DATE),  # birth_date.valid + .required
]
EXPECTED_UNEXPECTED = {
    "national_id.check_digit": 2,
    "sex.code": 1,
    "household_no.format": 1,
    "birth_date.valid": 1,
    "birth_date.required": 1,
}


def _batch(conformed: Any, good: int, bad: list[tuple[Any, ...]] = PLANTED_ROWS) -> Any:
    return conformed([conformed_row() for _ in range(good)] + list(bad))


@pytest.fixture(scope="module")
def planted_result(spark: Any, household: FeedContract) -> tuple[Any, GateResult]:
    """20 rows, 4 quarantined (share 0.2, on the limit), one warn-only row."""
    rows = [conformed_row() for _ in range(15)] + PLANTED_ROWS
    df = spark.createDataFrame(rows, CONFORMED_SCHEMA)
    return df, validate(df, household)


def test_counts_per_rule(planted_result: tuple[Any, GateResult], household: FeedContract) -> None:
    _, result = planted_result
    assert result.suite == "moi.household_registry.1.0.0"
    assert result.rows == 20
    assert result.quarantined_rows == 4
    assert [r.rule_id for r in result.rules] == [r.id for r in household.rules] + [
        ROW_COUNT_RULE,
        COLUMNS_RULE,
    ]
    for r in result.rules:
        if r.rule_id in (ROW_COUNT_RULE, COLUMNS_RULE):
            assert r.success and r.error is None
            continue
        assert r.element_count == 20, r
        assert r.unexpected_count == EXPECTED_UNEXPECTED.get(r.rule_id, 0), r
        assert r.success is (r.rule_id not in EXPECTED_UNEXPECTED), r
        assert r.error is None
    assert result.rule("national_id.check_digit") == RuleResult(
        rule_id="national_id.check_digit",
        column="national_id",
        check="tw_person_id",
        action="quarantine",
        expectation="expect_column_values_to_be_valid_tw_person_id",
        element_count=20,
        unexpected_count=2,
        success=False,
    )
    assert result.rule("death_date.only_on_death").column == "change_type,death_date"


def test_quarantine_share_on_the_limit_passes(planted_result: tuple[Any, GateResult]) -> None:
    _, result = planted_result
    assert result.quarantine_share == pytest.approx(0.2)
    assert result.success is True
    assert result.failures() == [
        "rule national_id.check_digit (quarantine): 2 of 20 rows fail",
        "rule sex.code (quarantine): 1 of 20 rows fail",
        "rule birth_date.required (quarantine): 1 of 20 rows fail",
        "rule birth_date.valid (quarantine): 1 of 20 rows fail",
        "rule household_no.format (warn): 1 of 20 rows fail",
    ]


def test_gx_agrees_with_the_split(
    planted_result: tuple[Any, GateResult], household: FeedContract
) -> None:
    """Great Expectations and the Spark predicates count the same failures for every rule."""
    df, result = planted_result
    failing = df.agg(
        *[
            F.sum(F.when(~rule_predicate(r, household), 1).otherwise(0)).alias(r.id)
            for r in household.rules
        ]
    ).first()
    assert failing is not None
    for r in household.rules:
        assert result.rule(r.id).unexpected_count == failing[r.id], r.id


def test_no_personal_value_in_results(
    planted_result: tuple[Any, GateResult], household: FeedContract
) -> None:
    df, result = planted_result
    texts = [
        str(result),
        repr(result),
        json.dumps(result.to_dict(), ensure_ascii=False),
        "\n".join(result.failures()),
    ]
    raw = run_suite(df, build_suite(household))
    texts += [json.dumps(raw.to_json_dict(), ensure_ascii=False), str(raw)]
    for text in texts:
        for value in PLANTED:
            assert value not in text


def test_share_over_the_limit_fails(
    spark: Any, household: FeedContract, conformed: Any
) -> None:
    result = validate(_batch(conformed, good=14), household)  # 4 of 19 quarantined
    assert result.rows == 19
    assert result.quarantined_rows == 4
    assert result.success is False
    assert result.failures()[-1] == (
        "gate.max_quarantine_share: 4 of 19 rows quarantined (21.1% > 20.0%)"
    )


def test_fail_rule_fails_the_batch(contract_variant: Any, conformed: Any) -> None:
    def sex_code_fails(doc: dict[str, Any]) -> None:
        sex = next(f for f in doc["fields"] if f["name"] == "sex")
        sex["rules"][0]["action"] = "fail"

    contract = contract_variant(sex_code_fails)
    result = validate(_batch(conformed, good=50, bad=[conformed_row(sex="9")]), contract)
    assert result.quarantined_rows == 0
    assert result.rule("sex.code").action == "fail"
    assert result.rule("sex.code").unexpected_count == 1
    assert result.success is False
    assert result.failures() == ["rule sex.code (fail): 1 of 51 rows fail"]

    clean = validate(_batch(conformed, good=3, bad=[]), contract)
    assert clean.success is True
    assert clean.failures() == []


def test_empty_batch_fails_min_rows(household: FeedContract, conformed: Any) -> None:
    import dataclasses

    # The household feed allows a header-only day (min_rows 0); a feed that requires rows:
    strict = dataclasses.replace(household, gates=dataclasses.replace(household.gates, min_rows=1))
    assert validate(_batch(conformed, good=0, bad=[]), household).success is True
    result = validate(_batch(conformed, good=0, bad=[]), strict)
    assert result.rows == 0
    assert result.success is False
    assert result.rule(ROW_COUNT_RULE).success is False
    assert "rule table.row_count (fail): 0 rows, fewer than 1" in result.failures()


def test_missing_column_fails_without_raising(household: FeedContract, conformed: Any) -> None:
    df = _batch(conformed, good=3).drop("household_no", "_raw_death_date")
    result = validate(df, household)
    assert result.success is False
    assert result.missing_columns == ["household_no", "_raw_death_date"]
    assert result.rule("household_no.format").error is not None
    assert result.rule("death_date.valid").error is not None
    assert (
        "rule table.columns (fail): columns missing from the batch: household_no, _raw_death_date"
        in result.failures()
    )
    # The quarantine count still covers the rules that could be evaluated.
    assert result.quarantined_rows == 4
    for value in PLANTED:
        assert value not in json.dumps(result.to_dict(), ensure_ascii=False)


def test_persists_only_what_it_cached(household: FeedContract, conformed: Any) -> None:
    df = _batch(conformed, good=3)
    validate(df, household)
    assert not df.is_cached
    cached = _batch(conformed, good=3).cache()
    validate(cached, household)
    assert cached.is_cached
    cached.unpersist()
