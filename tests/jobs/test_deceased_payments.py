"""gold.deceased_with_active_payments: payments after the month of death, latest versions only
(the transform's candidate through the dataset's masking plan)."""

from __future__ import annotations

import datetime as dt

import pytest
from pyspark.testing import assertDataFrameEqual

from jobs.deceased_payments import deceased_with_active_payments
from tests.jobs.test_person_coverage import contract, frame, pk, published

D = dt.date
SNAPSHOT = D(2024, 11, 15)
REMARK = "受款人王小明(A123456789)來電0912-345-678"
MASKED = "受款人<PERSON>(<TW_NATIONAL_ID>)來電<TW_PHONE>"
DEAD, DEAD_ON_FIRST, ALIVE, LATE_DEATH, NOT_REGISTERED = (
    "C100000003", "C200000004", "A123456789", "D100000005", "E100000006")  # fmt: skip


@pytest.fixture(scope="module")
def dc():
    return contract("gold/deceased_with_active_payments.yaml")


def _pay(pid: int, who: str, month: dt.date, amount: int, kind: str = "OLD_AGE") -> dict:
    return {"payment_id": pid, "national_id": who, "benefit_type": kind, "payment_month": month,
            "amount": amount, "bank_code": "700", "account_no": "00012345678901",
            "remark": REMARK}  # fmt: skip


def test_only_payments_for_months_after_death_are_listed(spark, dc):
    residents = frame(spark, "moi.residents", [
        {"national_id": DEAD, "sex": "1", "birth_date": D(1950, 1, 1), "change_type": "04",
         "death_date": D(2024, 8, 10)},
        {"national_id": DEAD_ON_FIRST, "sex": "2", "birth_date": D(1940, 2, 2),
         "change_type": "04", "death_date": D(2024, 7, 1)},
        {"national_id": ALIVE, "sex": "1", "birth_date": D(1955, 3, 3), "change_type": "02"},
        {"national_id": LATE_DEATH, "sex": "1", "birth_date": D(1945, 4, 4), "change_type": "04",
         "death_date": D(2024, 12, 3)},  # recorded after the snapshot date
    ])  # fmt: skip
    payments = frame(spark, "bli.payments", [
        _pay(1, DEAD, D(2024, 8, 1), 18000),            # the month of death: due, not listed
        _pay(2, DEAD, D(2024, 9, 1), 18000),            # the month after: listed
        _pay(3, DEAD, D(2024, 10, 1), 0),               # cancelled: not listed
        _pay(4, DEAD, D(2024, 12, 1), 18000),           # a future month: listed (to stop)
        _pay(5, DEAD_ON_FIRST, D(2024, 7, 1), 9000, "SURVIVOR"),   # month of death
        _pay(6, DEAD_ON_FIRST, D(2024, 8, 1), 9000, "SURVIVOR"),   # listed
        _pay(7, ALIVE, D(2024, 10, 1), 20000),          # alive: never listed
        _pay(8, LATE_DEATH, D(2025, 1, 1), 20000),      # death not recorded as of the snapshot
        _pay(9, NOT_REGISTERED, D(2024, 10, 1), 5000, "DISABILITY"),  # no registry record
    ])  # fmt: skip
    inputs = {"moi.residents": residents, "bli.payments": payments}
    got = published(deceased_with_active_payments, inputs, SNAPSHOT, dc)
    assert got.columns == ["person_key", "death_month", "payment_id", "payment_month",
                           "benefit_type", "amount", "remark_masked"]  # fmt: skip
    expected = spark.createDataFrame(
        [(pk(DEAD), D(2024, 8, 1), 2, D(2024, 9, 1), "OLD_AGE", 18000, MASKED),
         (pk(DEAD), D(2024, 8, 1), 4, D(2024, 12, 1), "OLD_AGE", 18000, MASKED),
         (pk(DEAD_ON_FIRST), D(2024, 7, 1), 6, D(2024, 8, 1), "SURVIVOR", 9000, MASKED)],
        "person_key string, death_month date, payment_id long, payment_month date, "
        "benefit_type string, amount long, remark_masked string",
    )  # fmt: skip
    assertDataFrameEqual(got, expected)
    assert got.schema.simpleString() == expected.schema.simpleString()
    # A later snapshot sees the later death: the January payment is listed then.
    later = deceased_with_active_payments(inputs, D(2025, 1, 10), dc)
    assert {r["payment_id"] for r in later.collect()} == {2, 4, 6, 8}
