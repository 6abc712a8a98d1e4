"""The suite derived from a contract (quality.suite)."""

from __future__ import annotations

import json
from typing import Any

import great_expectations as gx

from kernel.contracts import FeedContract
from quality.checks import expected_columns
from quality.ids import COLUMNS_RULE, ROW_COUNT_RULE
from quality.suite import build_suite
from tests.quality.samples import with_extra_checks


def _by_rule(suite: gx.ExpectationSuite) -> dict[str, Any]:
    return {e.meta["rule_id"]: e for e in suite.expectations}


def test_one_expectation_per_rule(household: FeedContract) -> None:
    suite = build_suite(household)
    assert suite.name == "moi.household_registry.1.0.0" == household.suite_name
    rule_ids = [e.meta["rule_id"] for e in suite.expectations]
    assert rule_ids == [r.id for r in household.rules] + [ROW_COUNT_RULE, COLUMNS_RULE]
    actions = {e.meta["rule_id"]: e.meta["action"] for e in suite.expectations}
    assert actions == {
        **{r.id: r.action for r in household.rules},
        ROW_COUNT_RULE: "fail",
        COLUMNS_RULE: "fail",
    }


def test_expectation_kinds(household: FeedContract) -> None:
    by_rule = _by_rule(build_suite(household))
    kinds = {rid: e.expectation_type for rid, e in by_rule.items()}
    assert kinds["national_id.required"] == "expect_column_values_to_be_present"
    assert kinds["national_id.check_digit"] == "expect_column_values_to_be_valid_tw_person_id"
    assert kinds["name.length"] == "expect_column_value_lengths_to_be_between"
    assert kinds["sex.code"] == "expect_column_values_to_be_in_set"
    assert kinds["household_no.format"] == "expect_column_values_to_match_regex"
    assert kinds["birth_date.valid"] == "expect_column_pair_values_to_be_valid_date"
    assert kinds["death_date.only_on_death"] == "expect_rows_to_satisfy_expression"
    assert kinds[ROW_COUNT_RULE] == "expect_table_row_count_to_be_between"
    assert kinds[COLUMNS_RULE] == "expect_table_columns_to_match_set"


def test_parameters_come_from_the_contract(household: FeedContract) -> None:
    by_rule = _by_rule(build_suite(household))
    assert by_rule["sex.code"].value_set == ["1", "2"]
    assert by_rule["name.length"].min_value == 1
    assert by_rule["name.length"].max_value == 20
    assert by_rule["household_no.format"].regex == "^[A-Z0-9]{8}$"
    birth = by_rule["birth_date.valid"]
    assert (birth.column_A, birth.column_B) == ("_raw_birth_date", "birth_date")
    row_rule = by_rule["death_date.only_on_death"]
    assert row_rule.expression == household.row_rules[0].expression
    assert row_rule.column_list == ["change_type", "death_date"]
    assert by_rule[ROW_COUNT_RULE].min_value == household.gates.min_rows
    assert set(by_rule[COLUMNS_RULE].column_set) == set(expected_columns(household))


def test_suite_serializes(household: FeedContract) -> None:
    suite = build_suite(household)
    doc = suite.to_json_dict()
    text = json.dumps(doc, ensure_ascii=False)
    assert "national_id.check_digit" in text
    assert len(doc["expectations"]) == len(household.rules) + 2


def test_every_check_kind_builds(household: FeedContract, contract_variant: Any) -> None:
    contract = contract_variant(with_extra_checks)
    by_rule = _by_rule(build_suite(contract))
    assert by_rule["employer_ubn.check_digit"].expectation_type == (
        "expect_column_values_to_be_valid_tw_business_id"
    )
    assert by_rule["wage.range"].expectation_type == "expect_column_values_to_be_between"
    assert (by_rule["wage.range"].min_value, by_rule["wage.range"].max_value) == (1, 150000)
    assert by_rule["wage.required"].expectation_type == "expect_column_values_to_be_present"
    assert len(by_rule) == len(contract.rules) + 2


def test_single_column_row_rule(contract_variant: Any) -> None:
    """A row rule over one column still gets a (multicolumn) expectation."""

    def one_column_rule(doc: dict[str, Any]) -> None:
        doc["row_rules"].append(
            {"id": "sex.not_blank", "expression": "trim(sex) <> ''", "columns": ["sex"],
             "action": "warn"}
        )

    by_rule = _by_rule(build_suite(contract_variant(one_column_rule)))
    assert by_rule["sex.not_blank"].column_list == ["sex", "sex"]
