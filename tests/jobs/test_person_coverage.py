"""gold.person_coverage on hand-built silver tables: every flag's edge cases, against rows worked
out by hand (the person_key by an independent HMAC in Python). The published rows are the
transform's candidate through the dataset's masking plan, as the publish path builds them.

The helpers (silver schemas, :func:`frame`, :func:`pk`, :data:`KEY`, :func:`published`) are
shared with the tests of the other published datasets.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from pyspark.sql import DataFrame
from pyspark.sql.types import StructType
from pyspark.testing import assertDataFrameEqual

from jobs.person_coverage import Transform, month_ends, person_coverage
from kernel import contracts
from kernel.twid import AGE_BANDS
from masking.dataset_plan import apply_dataset_plan
from masking.generalize import band_labels
from masking.keys import PseudonymKey

D = dt.date
SECRET = "s3cret-key-for-published-datasets-0123456789"
KEY = PseudonymKey.from_env({"LAKEHOUSE_PSEUDONYM_KEY": SECRET})
SNAPSHOT = D(2024, 11, 15)

LINEAGE = ("_batch_id string, _source_file string, _source_digest string, _source_row long, "
           "_file_date date, _event_id string")
SCHEMAS = {
    "moi.residents": "national_id string, name string, sex string, birth_date date, "
    "address string, household_no string, change_type string, change_date date, death_date date",
    "bli.labor_insurance_enrollment": "insurance_unit_no string, employer_ubn string, "
    "national_id string, name string, birth_date date, action string, action_date date, "
    "insured_salary int, category string",
    "bli.pension_contributions": "contribution_month date, employer_ubn string, "
    "national_id string, wage int, employer_rate decimal(5,2), self_rate decimal(5,2), amount int",
    "nhia.insured": "national_id string, name string, insured_category string, unit_name string, "
    "start_date date, end_date date",
    "moa.farmers": "national_id string, name string, birth_date date, association_code string, "
    "eligible_from date, eligible_until date, land_hectares decimal(10,2), "
    "elderly_allowance string",
    "bli.payments": "payment_id long, national_id string, benefit_type string, "
    "payment_month date, amount long, bank_code string, account_no string, remark string, "
    "updated_at timestamp",
}


def contract(path: str) -> contracts.DatasetContract:
    """A dataset contract of the repository, loaded by file (not through every contract)."""
    loaded = contracts.load(contracts.CONTRACTS_DIR / path)
    assert isinstance(loaded, contracts.DatasetContract)
    return loaded


def frame(spark: Any, table: str, rows: Sequence[Mapping[str, Any]]) -> DataFrame:
    """A silver-like table: the given fields, the others null, lineage filled in (the
    ``_source_row`` is the row's position unless given; ``_file_date`` 2024-11-01 unless given)."""
    schema = StructType.fromDDL(f"{SCHEMAS[table]}, {LINEAGE}")
    data = []
    for i, r in enumerate(rows):
        full = {"_batch_id": "b1", "_source_file": "f", "_source_digest": "d",
                "_source_row": i + 1, "_file_date": D(2024, 11, 1), "_event_id": f"e{i}", **r}
        unknown = set(full) - set(schema.fieldNames())
        assert not unknown, unknown
        data.append(tuple(full.get(f) for f in schema.fieldNames()))
    return spark.createDataFrame(data, schema)


def published(transform: Transform, inputs: Mapping[str, DataFrame], snapshot: dt.date,
              dc: contracts.DatasetContract) -> DataFrame:
    """The rows the publish path builds: the transform's candidate through the dataset's
    masking plan (:func:`masking.dataset_plan.apply_dataset_plan`, key :data:`KEY`)."""
    return apply_dataset_plan(transform(inputs, snapshot, dc), dc, KEY, snapshot)


def pk(national_id: str) -> str:
    """The expected person_key: HMAC-SHA256 of the identifier, computed in Python."""
    return hmac.new(SECRET.encode(), national_id.encode(), hashlib.sha256).hexdigest()


# ------------------------------------------------------------------------------ fixtures
P1, P2, P3, P4, P5 = "A123456789", "B234567890", "C100000003", "D100000004", "E100000005"
P6, P7, P8, P9, P10 = "F100000006", "G100000007", "H100000008", "J100000009", "K100000010"


def _enrol(pid: str, unit: str, action: str, day: dt.date, salary: int = 30300,
           **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {"insurance_unit_no": unit, "employer_ubn": "0" + unit[1:], "national_id": pid,
            "action": action, "action_date": day, "insured_salary": salary, "category": "1",
            **extra}  # fmt: skip


def coverage_inputs(spark: Any) -> dict[str, DataFrame]:
    """Ten persons, each showing edge cases (see the expected rows of the test)."""
    residents = [
        {"national_id": P1, "sex": "1", "birth_date": D(1990, 3, 15),
         "address": "台北市中正區忠孝東路一段12號", "change_type": "02"},
        {"national_id": P2, "sex": "2", "birth_date": D(1960, 11, 20),
         "address": "臺北市大安區和平東路1號", "change_type": "01"},
        {"national_id": P3, "sex": "1", "birth_date": D(1950, 1, 1), "address": "高雄市苓雅區1號",
         "change_type": "04", "death_date": D(2024, 8, 10)},
        {"national_id": P7, "sex": "2", "birth_date": D(2024, 1, 10), "address": "某某路1號",
         "change_type": "01"},
        {"national_id": P9, "sex": "1", "birth_date": D(1980, 1, 1), "address": "新竹縣竹北市1號",
         "change_type": "01"},
        {"national_id": P10, "sex": "2", "birth_date": D(1999, 11, 15), "address": "臺東縣1號",
         "change_type": "01"},
    ]  # fmt: skip
    labor = [
        _enrol(P1, "10000001", "1", D(2020, 1, 1), 28800),
        _enrol(P1, "10000001", "3", D(2023, 5, 1), 45800),
        _enrol(P1, "10000002", "1", D(2024, 1, 1), 33300),
        _enrol(P2, "10000003", "1", D(2010, 1, 1), 30300),
        _enrol(P2, "10000003", "2", D(2022, 6, 30), 30300),
        _enrol(P2, "10000003", "1", D(2024, 3, 1), 42000),  # withdrawn, then re-enrolled
        _enrol(P3, "10000004", "1", D(2000, 1, 1)),
        _enrol(P3, "10000004", "2", D(2015, 1, 1)),
        _enrol(P5, "10000005", "1", D(2024, 12, 1), birth_date=D(1995, 6, 1)),  # after snapshot
        _enrol(P9, "10000006", "1", D(2024, 5, 1), _source_row=1),  # same day: the later
        _enrol(P9, "10000006", "2", D(2024, 5, 1), _source_row=2),  # record (withdraw) wins
        _enrol(P10, "10000007", "3", D(2024, 2, 1), 27470),  # salary change only: insured
    ]
    pension = [
        {"contribution_month": D(2024, 10, 1), "national_id": P1, "amount": 2748},
        {"contribution_month": D(2023, 11, 1), "national_id": P2, "amount": 1800},  # 13th month
        {"contribution_month": D(2024, 11, 1), "national_id": P4, "amount": 1800},  # only here
    ]
    nhi = [
        {"national_id": P1, "start_date": D(2019, 8, 24)},
        {"national_id": P2, "start_date": D(2000, 1, 1), "end_date": SNAPSHOT},  # ended that day
        {"national_id": P6, "start_date": D(2025, 1, 1)},  # starts after the snapshot
        {"national_id": " ｇ１０００００００７ ", "start_date": D(2024, 1, 20)},  # P7, unnormalised
    ]
    farmers = [
        {"national_id": P2, "birth_date": D(1960, 11, 20), "association_code": "6010101",
         "eligible_from": D(2015, 3, 1)},
        {"national_id": P6, "birth_date": D(1940, 5, 5), "association_code": "6010102",
         "eligible_from": D(2000, 1, 1), "eligible_until": D(2024, 1, 31)},
    ]
    payments = [
        {"payment_id": 1, "national_id": P2, "benefit_type": "OLD_AGE",
         "payment_month": D(2024, 8, 1), "amount": 20000},  # before the 3-month window
        {"payment_id": 2, "national_id": P2, "benefit_type": "OLD_AGE",
         "payment_month": D(2024, 9, 1), "amount": 0},  # cancelled
        {"payment_id": 3, "national_id": P3, "benefit_type": "OLD_AGE",
         "payment_month": D(2024, 9, 1), "amount": 100},
        {"payment_id": 4, "national_id": P8, "benefit_type": "DISABILITY",
         "payment_month": D(2024, 11, 1), "amount": 15000},  # only here
    ]  # fmt: skip
    return {
        "moi.residents": frame(spark, "moi.residents", residents),
        "bli.labor_insurance_enrollment": frame(spark, "bli.labor_insurance_enrollment", labor),
        "bli.pension_contributions": frame(spark, "bli.pension_contributions", pension),
        "nhia.insured": frame(spark, "nhia.insured", nhi),
        "moa.farmers": frame(spark, "moa.farmers", farmers),
        "bli.payments": frame(spark, "bli.payments", payments),
    }


COLUMNS = ("person_key string, sex string, birth_year int, age_band string, county string, "
           "in_labor_insurance boolean, insured_salary_band string, in_nhi boolean, "
           "is_farmer boolean, pension_contrib_last_12m boolean, receives_benefit boolean, "
           "is_deceased boolean, snapshot_date date")

# person, sex, birth_year, age_band, county, labor, band, nhi, farmer, pension, benefit, dead
EXPECTED = [
    (P1, "1", 1990, "30-34", "臺北市", True, "45800+", True, False, True, False, False),
    (P2, "2", 1960, "60-64", "臺北市", True, "40000-45799", False, True, False, False, False),
    (P3, "1", 1950, "70-74", "高雄市", False, None, False, False, False, True, True),
    (P4, None, None, None, None, False, None, False, False, True, False, False),
    (P5, None, 1995, "25-29", None, False, None, False, False, False, False, False),
    (P6, None, 1940, "80-84", None, False, None, False, False, False, False, False),
    (P7, "2", 2024, "0-4", None, False, None, True, False, False, False, False),
    (P8, None, None, None, None, False, None, False, False, False, True, False),
    (P9, "1", 1980, "40-44", "新竹縣", False, None, False, False, False, False, False),
    (P10, "2", 1999, "25-29", "臺東縣", True, "<30000", False, False, False, False, False),
]


@pytest.fixture(scope="module")
def coverage_contract() -> contracts.DatasetContract:
    return contract("gold/person_coverage.yaml")


def test_person_coverage_every_flag(spark, coverage_contract):
    got = published(person_coverage, coverage_inputs(spark), SNAPSHOT, coverage_contract)
    assert got.columns == [c.name for c in coverage_contract.columns]
    expected = spark.createDataFrame(
        [(pk(p), *rest, SNAPSHOT) for p, *rest in EXPECTED], COLUMNS
    )
    assertDataFrameEqual(got, expected)
    assert got.schema.simpleString() == expected.schema.simpleString()


def test_a_later_snapshot_moves_the_windows(spark, coverage_contract):
    """At 2025-01-10: P5's enrolment (2024-12-01) counts, P1's contribution of 2024-10 is still
    within 12 months, P3's payment (2024-09) is older than 3 months but P8's (2024-11) is not,
    P6's NHI has started."""
    got = published(person_coverage, coverage_inputs(spark), D(2025, 1, 10), coverage_contract)
    by_key = {r["person_key"]: r for r in got.collect()}
    assert by_key[pk(P5)]["in_labor_insurance"] and by_key[pk(P5)]["insured_salary_band"] == (
        "30000-39999")
    assert by_key[pk(P1)]["pension_contrib_last_12m"]
    assert not by_key[pk(P3)]["receives_benefit"] and by_key[pk(P8)]["receives_benefit"]
    assert by_key[pk(P6)]["in_nhi"]
    assert got.count() == len(EXPECTED)


def test_inputs_are_all_required(spark, coverage_contract):
    inputs = coverage_inputs(spark)
    del inputs["moa.farmers"]
    with pytest.raises(KeyError, match=r"missing input table\(s\): moa.farmers"):
        person_coverage(inputs, SNAPSHOT, coverage_contract)


def test_helpers():
    assert band_labels([30000, 40000, 45800]) == ["<30000", "30000-39999", "40000-45799",
                                                  "45800+"]  # fmt: skip
    assert len(AGE_BANDS) == 21 and AGE_BANDS[0] == "0-4" and AGE_BANDS[-1] == "100+"
    assert month_ends(D(2024, 11, 15), 2) == [(D(2024, 9, 1), D(2024, 9, 30)),
                                              (D(2024, 10, 1), D(2024, 10, 31))]  # fmt: skip
    assert month_ends(D(2024, 10, 31), 1) == [(D(2024, 10, 1), D(2024, 10, 31))]
    assert month_ends(D(2024, 3, 1), 3)[0] == (D(2023, 12, 1), D(2023, 12, 31))
    assert month_ends(D(2024, 2, 29), 1) == [(D(2024, 2, 1), D(2024, 2, 29))]


PUBLISHED = ("gold/person_coverage.yaml", "gold/deceased_with_active_payments.yaml",
             "gold/dual_enrollment.yaml", "gold/coverage_periods.yaml",
             "opendata/insured_by_county_age_sex.yaml")


@pytest.mark.parametrize("path", PUBLISHED)
def test_published_contracts_are_consistent(path):
    """Each column source names a field of an input feed; the transform resolves."""
    import importlib

    dc = contract(path)
    feeds = {f.name: f for f in contracts.feeds()}
    assert set(dc.inputs) <= set(feeds)
    for c in dc.columns:
        for source in c.source:
            feed, _, field = source.rpartition(".")
            assert feed in dc.inputs and field in {f.name for f in feeds[feed].fields}, source
    module, function = dc.transform.split(":")
    assert callable(getattr(importlib.import_module(module), function))
    assert dc.key and set(dc.key) <= {c.name for c in dc.columns}
