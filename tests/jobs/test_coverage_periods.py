"""gold.coverage_periods on hand-built silver tables: each scheme's periods, merged and cut at
the snapshot date, against rows worked out by hand, through the dataset's masking plan."""

from __future__ import annotations

import pytest
from pyspark.testing import assertDataFrameEqual

from jobs.coverage_periods import coverage_periods
from jobs.person_coverage import person_coverage
from tests.jobs.test_person_coverage import SNAPSHOT, D, contract, frame, pk, published

P1, P2, P3 = "A123456789", "B234567890", "C100000003"


@pytest.fixture(scope="module")
def periods_contract():
    return contract("gold/coverage_periods.yaml")


def _inputs(spark):
    labor = [
        # P1: enrolled at unit U1, salary change (still insured), withdrawn; enrolled at U2
        # before the withdrawal (overlap: one period), withdrawn again, then enrolled anew.
        {"national_id": P1, "insurance_unit_no": "U1", "action": "1", "action_date": D(2020, 1, 6)},
        {"national_id": P1, "insurance_unit_no": "U1", "action": "3", "action_date": D(2021, 3, 1)},
        {"national_id": P1, "insurance_unit_no": "U1", "action": "2", "action_date": D(2022, 5, 1)},
        {"national_id": P1, "insurance_unit_no": "U2", "action": "1", "action_date": D(2022, 4, 1)},
        {"national_id": P1, "insurance_unit_no": "U2", "action": "2", "action_date": D(2023, 1, 1)},
        {"national_id": P1, "insurance_unit_no": "U3", "action": "1", "action_date": D(2024, 2, 1)},
        # P2: withdrawn after the snapshot: open on the snapshot date; a later enrolment unknown.
        {"national_id": " ｂ２３４５６７８９０", "insurance_unit_no": "U9", "action": "1",
         "action_date": D(2024, 6, 1)},
        {"national_id": P2, "insurance_unit_no": "U9", "action": "2",
         "action_date": D(2024, 12, 1)},
        {"national_id": P2, "insurance_unit_no": "U8", "action": "1", "action_date": D(2025, 1, 1)},
    ]
    nhi = [{"national_id": P1, "start_date": D(2019, 1, 1), "end_date": D(2024, 3, 1)},
           {"national_id": P3, "start_date": D(2024, 3, 1), "end_date": None},
           {"national_id": P3, "start_date": D(2010, 1, 1), "end_date": D(2024, 3, 1)}]
    farmers = [{"national_id": P2, "eligible_from": D(2015, 7, 1), "eligible_until": D(2015, 7, 1)},
               {"national_id": P3, "eligible_from": D(2018, 1, 1), "eligible_until": D(2030, 1, 1)}]
    pension = [{"national_id": P1, "contribution_month": D(2024, m, 1)} for m in (1, 2, 3, 5)]
    pension += [{"national_id": P1, "contribution_month": D(2024, 12, 1)}]
    return {
        "bli.labor_insurance_enrollment": frame(spark, "bli.labor_insurance_enrollment", labor),
        "nhia.insured": frame(spark, "nhia.insured", nhi),
        "moa.farmers": frame(spark, "moa.farmers", farmers),
        "bli.pension_contributions": frame(spark, "bli.pension_contributions", pension),
        "moi.residents": frame(spark, "moi.residents", []),
        "bli.payments": frame(spark, "bli.payments", []),
    }


EXPECTED = [
    (P1, "labor", D(2020, 1, 6), D(2023, 1, 1)),   # U1 and U2 overlap: one period
    (P1, "labor", D(2024, 2, 1), None),             # open
    (P1, "nhi", D(2019, 1, 1), D(2024, 3, 1)),
    (P1, "pension", D(2024, 1, 1), D(2024, 4, 1)),  # January to March
    (P1, "pension", D(2024, 5, 1), D(2024, 6, 1)),  # December is after the snapshot
    (P2, "labor", D(2024, 6, 1), None),             # the withdrawal is after the snapshot
    (P3, "nhi", D(2010, 1, 1), None),               # touching periods merged, then open
    (P3, "farmer", D(2018, 1, 1), None),            # its end is after the snapshot
]                                                   # P2's empty farmer interval: dropped


def test_every_schemes_periods_merged_and_cut_at_the_snapshot(spark, periods_contract):
    got = published(coverage_periods, _inputs(spark), SNAPSHOT, periods_contract)
    expected = spark.createDataFrame(
        [(pk(p), s, a, b, SNAPSHOT) for p, s, a, b in EXPECTED],
        "person_key string, scheme string, start_date date, end_date date, snapshot_date date")
    assertDataFrameEqual(got, expected)


def test_on_the_snapshot_date_the_periods_agree_with_person_coverage(spark, periods_contract):
    """Who is insured in labor, NHI and farmers' insurance on the snapshot date is the same in
    both datasets (labor pension differs by design: months here, a 12-month window there)."""
    inputs = _inputs(spark)
    periods = published(coverage_periods, inputs, SNAPSHOT, periods_contract).collect()
    open_on = {(r.person_key, r.scheme) for r in periods
               if r.start_date <= SNAPSHOT and (r.end_date is None or r.end_date > SNAPSHOT)}
    coverage = published(person_coverage, inputs, SNAPSHOT,
                         contract("gold/person_coverage.yaml")).collect()
    flags = {"labor": "in_labor_insurance", "nhi": "in_nhi", "farmer": "is_farmer"}
    from_flags = {(r.person_key, s) for r in coverage for s, f in flags.items() if r[f]}
    assert {k for k in open_on if k[1] != "pension"} == from_flags
