"""gold.dual_enrollment: farmers in ordinary labor insurance at month ends (the transform's
candidate through the dataset's masking plan)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from pyspark.testing import assertDataFrameEqual

from jobs.dual_enrollment import dual_enrollment
from tests.jobs.test_person_coverage import contract, frame, pk, published

D = dt.date
SNAPSHOT = D(2024, 11, 15)  # with months=3: the ends of August, September and October 2024
AUG, SEP, OCT = D(2024, 8, 1), D(2024, 9, 1), D(2024, 10, 1)


def _farmer(who: str, since: dt.date, until: dt.date | None = None, assoc: str = "6010101"):
    return {"national_id": who, "birth_date": D(1970, 1, 1), "association_code": assoc,
            "eligible_from": since, "eligible_until": until}  # fmt: skip


def _event(who: str, unit: str, ubn: str, action: str, day: dt.date, category: str = "1",
           **extra):  # fmt: skip
    return {"insurance_unit_no": unit, "employer_ubn": ubn, "national_id": who,
            "action": action, "action_date": day, "insured_salary": 30300, "category": category,
            **extra}  # fmt: skip


def test_dual_enrollment_at_month_ends(spark):
    dc = contract("gold/dual_enrollment.yaml")
    assert dc.options["months"] == 12
    dc = dataclasses.replace(dc, options={**dc.options, "months": 3})
    f = [f"F10000000{i}" for i in range(10)]
    farmers = frame(spark, "moa.farmers", [
        _farmer(f[1], D(2010, 1, 1)),
        _farmer(f[2], D(2010, 1, 1)),
        _farmer(f[3], D(2010, 1, 1), until=D(2024, 9, 30)),  # not eligible at the end of Sep
        _farmer(f[4], D(2024, 10, 15), assoc="6020202"),     # eligible from mid-October
        _farmer(f[6], D(2010, 1, 1)),
        _farmer(f[7], D(2010, 1, 1)),
        _farmer(f[8], D(2010, 1, 1)),
        _farmer(f[9], D(2010, 1, 1)),
    ])  # fmt: skip
    events = frame(spark, "bli.labor_insurance_enrollment", [
        # F1: a new unit from mid-September; the old one withdrawn on the last day of September.
        _event(f[1], "10000001", "11111111", "1", D(2024, 9, 15)),
        _event(f[1], "10000002", "22222222", "1", D(2020, 1, 1)),
        _event(f[1], "10000002", "22222222", "2", D(2024, 9, 30)),
        # F2: occupational accident only (category 2) is allowed with farmers' insurance.
        _event(f[2], "10000003", "33333333", "1", D(2020, 1, 1), category="2"),
        _event(f[3], "10000004", "44444444", "1", D(2020, 1, 1)),
        _event(f[4], "10000005", "55555555", "1", D(2020, 1, 1)),
        # F5 is not a farmer.
        _event(f[5], "10000006", "66666666", "1", D(2020, 1, 1)),
        # F6: enrolled after the last month end of the range.
        _event(f[6], "10000007", "77777777", "1", D(2024, 11, 1)),
        # F7: withdrawn in August, re-enrolled in October.
        _event(f[7], "10000008", "88888888", "1", D(2019, 1, 1)),
        _event(f[7], "10000008", "88888888", "2", D(2024, 8, 10)),
        _event(f[7], "10000008", "88888888", "1", D(2024, 10, 1)),
        # F8: two insurance units of one employer: one row per month.
        _event(f[8], "10000009", "99999999", "1", D(2020, 1, 1)),
        _event(f[8], "10000010", "99999999", "1", D(2021, 1, 1)),
        # F9: category 2, then a salary change that makes it category 1 from September.
        _event(f[9], "10000011", "12121212", "1", D(2020, 1, 1), category="2"),
        _event(f[9], "10000011", "12121212", "3", D(2024, 9, 1), category="1"),
    ])  # fmt: skip
    inputs = {"moa.farmers": farmers, "bli.labor_insurance_enrollment": events}
    got = published(dual_enrollment, inputs, SNAPSHOT, dc)
    assert got.columns == ["person_key", "month", "association_code", "employer_ubn"]
    expected = [
        (f[1], AUG, "6010101", "22222222"), (f[1], SEP, "6010101", "11111111"),
        (f[1], OCT, "6010101", "11111111"),
        (f[3], AUG, "6010101", "44444444"),
        (f[4], OCT, "6020202", "55555555"),
        (f[7], OCT, "6010101", "88888888"),
        (f[8], AUG, "6010101", "99999999"), (f[8], SEP, "6010101", "99999999"),
        (f[8], OCT, "6010101", "99999999"),
        (f[9], SEP, "6010101", "12121212"), (f[9], OCT, "6010101", "12121212"),
    ]  # fmt: skip
    assertDataFrameEqual(got, spark.createDataFrame(
        [(pk(p), *rest) for p, *rest in expected],
        "person_key string, month date, association_code string, employer_ubn string"))
