"""Spark predicates derived from the contract rules (quality.checks)."""

from __future__ import annotations

import datetime as dt
import random
import string
from typing import Any

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from kernel.contracts import FeedContract
from kernel.twid import is_valid_business_id, is_valid_person_id
from quality.checks import (
    failed_rules_column,
    rule_predicate,
    rule_reason,
    split_by_rules,
    tw_business_id_ok,
    tw_person_id_ok,
)
from tests.quality.samples import CONFORMED_SCHEMA, conformed_row, with_extra_checks

PERSON_IDS = [
    ("A123456789", True),  # national ID, male
    ("B200000004", True),  # national ID, female
    ("A800000014", True),  # new resident certificate (統一證號)
    ("FA12345689", True),  # old resident certificate, second letter A
    ("AC01234567", True),  # old resident certificate, second letter C
    ("YD12345670", True),  # old resident certificate, second letter D
    ("A123456788", False),  # wrong check digit
    ("FA12345688", False),
    ("A323456789", False),  # 3 is no sex / certificate code
    ("AE12345678", False),  # E is no old-certificate letter
    ("a123456789", False),  # lower case (the conformed value is upper-cased)
    ("Ａ123456789", False),  # full width (the conformed value is NFKC-normalised)
    ("A12345678", False),  # too short
    ("A1234567890", False),  # too long
    ("A123456789\n", False),  # trailing line break ($ in a Java regex would accept it)
    (" A123456789", False),
    ("1234567890", False),
    ("", False),
    (None, True),  # null passes; required-ness is the not_null rule's business
]

BUSINESS_IDS = [
    ("04595257", True),
    ("22099131", True),
    ("10458575", True),  # 7th digit 7, the plain sum (30) is already divisible by 5
    ("10458574", True),  # 7th digit 7, only sum + 1 (29 + 1) is divisible by 5
    ("12345675", True),  # 7th digit 7, sum 39: valid through the sum + 1 rule
    ("10458584", False),  # 7th digit 8, sum 24: no second chance
    ("04595258", False),
    ("0459525", False),
    ("045952570", False),
    ("0459525A", False),
    ("０4595257", False),
    ("", False),
    (None, True),
]


def _frame(spark: Any, values: list[tuple[str | None, bool]]) -> Any:
    return spark.createDataFrame(values, "value string, expected boolean")


@pytest.mark.parametrize(("value", "valid"), PERSON_IDS)
def test_python_person_id(value: str | None, valid: bool) -> None:
    """The kernel's rule (the one the Spark check is built from) agrees on every case."""
    assert (value is None or is_valid_person_id(value)) is valid


@pytest.mark.parametrize(("value", "valid"), BUSINESS_IDS)
def test_python_business_id(value: str | None, valid: bool) -> None:
    assert (value is None or is_valid_business_id(value)) is valid


def test_spark_person_id(spark: Any) -> None:
    df = _frame(spark, PERSON_IDS)
    actual = df.select("value", tw_person_id_ok(F.col("value")).alias("expected"))
    assertDataFrameEqual(actual, df)


def test_spark_business_id(spark: Any) -> None:
    df = _frame(spark, BUSINESS_IDS)
    actual = df.select("value", tw_business_id_ok(F.col("value")).alias("expected"))
    assertDataFrameEqual(actual, df)


def test_spark_and_python_agree_on_random_strings(spark: Any) -> None:
    rng = random.Random(20240105)
    values: list[str] = []
    for _ in range(3000):
        kind = rng.random()
        if kind < 0.4:
            values.append(
                rng.choice(string.ascii_uppercase)
                + rng.choice("1289ABCDE3")
                + "".join(rng.choices(string.digits, k=8))
            )
        elif kind < 0.8:
            values.append("".join(rng.choices(string.digits, k=8)))
        else:
            alphabet = string.ascii_uppercase + string.digits + " -\n"
            values.append("".join(rng.choices(alphabet, k=rng.randint(0, 11))))
    expected = spark.createDataFrame(
        [(v, v is None or is_valid_person_id(v), v is None or is_valid_business_id(v))
         for v in values],
        "value string, person boolean, business boolean",
    )
    actual = expected.select(
        "value",
        tw_person_id_ok(F.col("value")).alias("person"),
        tw_business_id_ok(F.col("value")).alias("business"),
    )
    assertDataFrameEqual(actual, expected)
    # The sample exercises both outcomes of both checks.
    counts = expected.agg(F.sum(F.col("person").cast("int")), F.sum(F.col("business").cast("int")))
    person_valid, business_valid = counts.first()  # type: ignore[misc]
    assert 0 < person_valid < len(values)
    assert 0 < business_valid < len(values)


def test_predicates_are_ansi_safe(spark: Any) -> None:
    """Letters where digits belong must fail the check, not raise a cast error."""
    assert spark.conf.get("spark.sql.ansi.enabled") == "true"
    values = [("AZZZZZZZZZ",), ("ABCDEFGH",), ("數字數字數字數字",)]
    df = spark.createDataFrame(values, "value string")
    rows = df.select(
        tw_person_id_ok(F.col("value")).alias("p"), tw_business_id_ok(F.col("value")).alias("b")
    ).collect()
    assert all(not r.p and not r.b for r in rows)


def _rule(contract: FeedContract, rule_id: str) -> Any:
    return next(r for r in contract.rules if r.id == rule_id)


def _indexed(spark: Any, rows: list[tuple[Any, ...]]) -> Any:
    """A conformed household frame with a leading row number ``i``."""
    return spark.createDataFrame(
        [(i, *r) for i, r in enumerate(rows)], f"i int, {CONFORMED_SCHEMA}"
    )


def _passes(df: Any, contract: FeedContract, rule_id: str) -> list[bool]:
    """The predicate of ``rule_id`` over ``df``, in row order (``df`` carries an ``i`` column)."""
    out = df.select("i", rule_predicate(_rule(contract, rule_id), contract).alias("ok"))
    return [r.ok for r in out.orderBy("i").collect()]


def test_household_field_rules(spark: Any, household: FeedContract) -> None:
    rows = [
        conformed_row(),
        conformed_row(national_id="A123456788", name="", sex="3", household_no="f12"),
        conformed_row(national_id=None, name=None, sex=None, household_no=None),
        conformed_row(name="王" * 21, change_type="06"),
        conformed_row(name="王" * 20, household_no="F1234567\n"),
    ]
    df = _indexed(spark, rows)
    assert _passes(df, household, "national_id.required") == [True, True, False, True, True]
    assert _passes(df, household, "national_id.check_digit") == [True, False, True, True, True]
    assert _passes(df, household, "name.required") == [True, False, False, True, True]
    # Characters, not bytes: 20 CJK characters pass, 21 do not; null passes, "" does not.
    assert _passes(df, household, "name.length") == [True, False, True, False, True]
    assert _passes(df, household, "sex.code") == [True, False, True, True, True]
    assert _passes(df, household, "change_type.code") == [True, True, True, False, True]
    # A regex check is a search, as in Spark's rlike (and Python's re.search).
    assert _passes(df, household, "household_no.format") == [True, False, True, True, True]


def test_valid_date(spark: Any, household: FeedContract) -> None:
    rows = [
        conformed_row(),  # 0780315 parsed
        conformed_row(birth_date=None, _raw_birth_date="1080230"),  # impossible date
        conformed_row(birth_date=None, _raw_birth_date=""),  # empty: no date
        conformed_row(birth_date=None, _raw_birth_date=None),  # absent
        conformed_row(birth_date=dt.date(1989, 3, 15), _raw_birth_date="780315"),  # 6 digits
    ]
    df = _indexed(spark, rows)
    assert _passes(df, household, "birth_date.valid") == [True, False, True, True, True]
    assert _passes(df, household, "birth_date.required") == [True, False, False, False, True]


def test_row_rule_null_fails(spark: Any, household: FeedContract) -> None:
    rows = [
        conformed_row(),  # move-in, no death date
        conformed_row(change_type="04", death_date=dt.date(2024, 1, 1), _raw_death_date="1130101"),
        conformed_row(change_type="04"),  # a death without a death date
        conformed_row(death_date=dt.date(2024, 1, 1), _raw_death_date="1130101"),  # not a death
        conformed_row(change_type=None),  # NULL = ... is NULL: fails
    ]
    df = _indexed(spark, rows)
    assert _passes(df, household, "death_date.only_on_death") == [True, True, False, False, False]


def test_between_business_id_and_non_string_not_null(spark: Any, contract_variant: Any) -> None:
    contract = contract_variant(with_extra_checks)
    df = spark.createDataFrame(
        [
            (0, "04595257", 45800, 6.0),
            (1, "04595258", 0, 6.5),
            (2, None, None, None),
            (3, "", 150001, -0.5),
        ],
        "i int, employer_ubn string, wage int, self_rate double",
    )
    assert _passes(df, contract, "employer_ubn.check_digit") == [True, False, True, False]
    assert _passes(df, contract, "wage.required") == [True, True, False, True]
    assert _passes(df, contract, "wage.range") == [True, False, True, False]
    assert _passes(df, contract, "self_rate.range") == [True, False, True, False]
    assert _passes(df, contract, "wage.positive_if_rate") == [True, False, False, True]


def test_failed_rules_column(spark: Any, household: FeedContract) -> None:
    rows = [
        conformed_row(),
        conformed_row(national_id="A123456788", household_no="bad"),
        conformed_row(sex="3", change_type="04"),
    ]
    df = _indexed(spark, rows)
    actual = df.select(
        "i",
        failed_rules_column(household, "quarantine").alias("quarantine"),
        failed_rules_column(household, "warn").alias("warn"),
        failed_rules_column(household, "fail").alias("fail"),
    )
    expected = spark.createDataFrame(
        [
            (0, [], [], []),
            (1, ["national_id.check_digit"], ["household_no.format"], []),
            (2, ["sex.code", "death_date.only_on_death"], [], []),
        ],
        "i int, quarantine array<string>, warn array<string>, fail array<string>",
    )
    assertDataFrameEqual(actual.orderBy("i"), expected, checkRowOrder=True)


def test_split_by_rules(spark: Any, household: FeedContract, conformed: Any) -> None:
    good = conformed_row()
    bad_id = conformed_row(national_id="A123456788", name="陳美玲")
    bad_many = conformed_row(
        national_id="B123456781", name="", birth_date=None, _raw_birth_date="1080230"
    )
    warn_only = conformed_row(household_no="x")
    df = conformed([good, bad_id, bad_many, warn_only])

    passing, quarantined = split_by_rules(df, household)

    assertDataFrameEqual(passing, conformed([good, warn_only]))
    assert quarantined.columns == [*df.columns, "_rule_ids", "_reason"]
    expected = spark.createDataFrame(
        [
            (
                "A123456788",
                ["national_id.check_digit"],
                "national_id.check_digit: national_id fails tw_person_id",
            ),
            (
                "B123456781",
                ["national_id.check_digit", "name.required", "name.length",
                 "birth_date.required", "birth_date.valid"],
                "national_id.check_digit: national_id fails tw_person_id; "
                "name.required: name fails not_null; "
                "name.length: name fails length_between; "
                "birth_date.required: birth_date fails not_null; "
                "birth_date.valid: birth_date fails valid_date",
            ),
        ],
        "national_id string, _rule_ids array<string>, _reason string",
    )
    assertDataFrameEqual(quarantined.select("national_id", "_rule_ids", "_reason"), expected)
    reasons = " ".join(r._reason for r in quarantined.collect())
    for value in ("A123456788", "B123456781", "陳美玲", "1080230"):
        assert value not in reasons


def test_rule_reason_names_no_value(household: FeedContract) -> None:
    rule = _rule(household, "death_date.only_on_death")
    assert rule_reason(rule) == "death_date.only_on_death: change_type, death_date fails expression"
