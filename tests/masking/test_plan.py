"""The masking plan of a feed contract and its application in Spark."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from pyspark.testing import assertDataFrameEqual

from kernel.contracts import Field, feed, parse_feed
from masking.keys import PseudonymKey
from masking.plan import apply_policies, describe_plan, masking_plan

KEY = PseudonymKey("k-test", b"t" * 32)


def _hmac(value: str) -> str:
    return hmac.new(KEY.secret, value.encode("utf-8"), hashlib.sha256).hexdigest()


def _field(name: str, type_: str, pii: str, masking: str) -> dict[str, object]:
    parse = ["roc_date"] if type_ == "date" else []
    return {"name": name, "wire": name.upper(), "type": type_, "parse": parse, "pii": pii,
            "masking": masking}


PAYMENTS = parse_feed(
    {
        "name": "bli.benefit_payments",
        "version": "1.0.0",
        "cadence": "daily",
        "entity": "bli.payments",
        "primary_key": ["payment_id"],
        "delivery": {"kind": "file_drop", "inbox": "bli/payments", "format": "csv",
                     "file_pattern": r"P_(?P<file_date>\d{8})\.csv"},
        "fields": [
            _field("payment_id", "string", "none", "keep"),
            _field("national_id", "string", "direct_identifier", "pseudonymize"),
            _field("name", "string", "direct_identifier", "mask_partial"),
            _field("payee_name", "string", "direct_identifier", "drop"),
            _field("bank_account", "string", "direct_identifier", "mask_partial"),
            _field("birth_date", "date", "quasi_identifier", "generalize_band"),
            _field("death_date", "date", "quasi_identifier", "generalize_month"),
            _field("payment_date", "date", "none", "generalize_year"),
            _field("mailing_address", "string", "direct_identifier", "generalize_county"),
            _field("insured_salary", "int", "quasi_identifier", "generalize_band"),
            _field("claimant_age", "int", "quasi_identifier", "generalize_band"),
            _field("remark", "string", "free_text", "scan_free_text"),
        ],
    },
    Path("payments.yaml"),
)
SCHEMA = (
    "payment_id string, national_id string, name string, payee_name string, "
    "bank_account string, birth_date date, death_date date, payment_date date, "
    "mailing_address string, insured_salary int, claimant_age int, remark string, "
    "_batch_id string"
)
OUT_SCHEMA = (
    "payment_id string, national_id_key string, name string, bank_account string, "
    "age_band string, death_month string, payment_year int, mailing_county string, "
    "insured_salary_band string, claimant_age_band string, remark string"
)


def test_plan_and_description_follow_the_contract():
    assert masking_plan(feed("moi.household_registry")) == {
        "national_id": "pseudonymize", "name": "drop", "sex": "keep",
        "birth_date": "generalize_year", "address": "generalize_county", "household_no": "drop",
        "change_type": "keep", "change_date": "keep", "death_date": "generalize_month",
    }
    assert describe_plan(PAYMENTS) == [
        ("payment_id", "none", "keep", "payment_id"),
        ("national_id", "direct_identifier", "pseudonymize", "national_id_key"),
        ("name", "direct_identifier", "mask_partial", "name"),
        ("payee_name", "direct_identifier", "drop", None),
        ("bank_account", "direct_identifier", "mask_partial", "bank_account"),
        ("birth_date", "quasi_identifier", "generalize_band", "age_band"),
        ("death_date", "quasi_identifier", "generalize_month", "death_month"),
        ("payment_date", "none", "generalize_year", "payment_year"),
        ("mailing_address", "direct_identifier", "generalize_county", "mailing_county"),
        ("insured_salary", "quasi_identifier", "generalize_band", "insured_salary_band"),
        ("claimant_age", "quasi_identifier", "generalize_band", "claimant_age_band"),
        ("remark", "free_text", "scan_free_text", "remark"),
    ]


def test_describe_plan_rejects_clashes_and_unbandable_fields():
    age = Field("age", "AGE", "int", False, (), "quasi_identifier", "generalize_band", ())
    clash = replace(PAYMENTS, fields=(*PAYMENTS.fields, replace(age, name="x_age")))
    assert describe_plan(clash)[-1][3] == "x_age_band"
    dob = replace(age, name="dob", type="date")  # a second date of birth: age_band twice
    with pytest.raises(ValueError, match="age_band"):
        describe_plan(replace(PAYMENTS, fields=(*PAYMENTS.fields, dob)))
    with pytest.raises(ValueError, match="generalize_band"):
        describe_plan(replace(PAYMENTS, fields=(replace(age, type="string"),)))


def test_apply_policies_on_real_rows(spark):
    df = spark.createDataFrame(
        [
            ("P1", "ａ123456789 ", "王小明", "陳大文", "0001234-5678901", date(1960, 5, 1),
             date(2024, 3, 9), date(2024, 6, 5), "台北市中正區忠孝東路一段12號", 27600, 64,
             "受款人陳大文來電0912-345-678", "b1"),
            ("P2", "B234567890", "歐陽娜娜", None, "1234", date(1924, 1, 1), None,
             date(2023, 1, 2), "某處", 45800, 102, "陳大文已領取", "b1"),
            ("P3", None, "李四", None, None, None, None, None, None, None, None, None, "b2"),
        ],
        SCHEMA,
    )
    out = apply_policies(df, PAYMENTS, KEY, snapshot_date=date(2024, 11, 30),
                         band_widths={"insured_salary": 1000})
    expected = spark.createDataFrame(
        [
            ("P1", _hmac("A123456789"), "王*明", "***********8901", "60-64", "2024-03", 2024,
             "臺北市", "27000-27999", "60-64", "受款人<PERSON>來電<TW_PHONE>"),
            ("P2", _hmac("B234567890"), "歐**娜", "****", "100+", None, 2023, None,
             # 陳大文 is known for P1 only and has no cue here, but a full name before a verb
             # such as 領取 is found by the name rules (#20): masked in P2's remark too.
             "45000-45999", "100+", "<PERSON>已領取"),
            ("P3", None, "李*", None, None, None, None, None, None, None, None),
        ],
        OUT_SCHEMA,
    )
    assertDataFrameEqual(out, expected)
    assert out.columns == [c.split()[0] for c in OUT_SCHEMA.split(", ")]


def test_mask_partial_of_identifiers_and_default_salary_bands(spark):
    ids = replace(PAYMENTS, fields=(
        replace(PAYMENTS.field("payment_id"), masking="mask_partial"),
        PAYMENTS.field("insured_salary"),
    ))
    df = spark.createDataFrame([("A123456789", 27600), ("AB", 4999)],
                               "payment_id string, insured_salary int")
    assertDataFrameEqual(
        apply_policies(df, ids, KEY),
        spark.createDataFrame([("A1******89", "25000-29999"), ("A*", "0-4999")],
                              "payment_id string, insured_salary_band string"),
    )


def test_apply_policies_refuses_missing_columns_and_needs_a_snapshot_for_ages(spark):
    df = spark.createDataFrame([("P1",)], "payment_id string")
    with pytest.raises(ValueError, match="no column"):
        apply_policies(df, PAYMENTS, KEY)
    full = spark.createDataFrame([], SCHEMA)
    with pytest.raises(ValueError, match="snapshot date"):
        apply_policies(full, PAYMENTS, KEY)
    kept = apply_policies(full, PAYMENTS, KEY, snapshot_date=date(2024, 1, 1),
                          keep_extra=["_batch_id"])
    assert kept.columns[-1] == "_batch_id"


def test_importing_the_plan_does_not_import_presidio():
    code = "import masking.plan, sys; print('presidio_analyzer' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parents[2])
    assert result.stdout.strip() == "False"
