"""opendata.insured_by_county_age_sex: monthly counts by county, age band and sex, with small
cells suppressed so that totals cannot reveal them. The expected counts are computed in plain
Python from the persons' enrolment periods."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from itertools import product

import pytest
from pyspark.testing import assertDataFrameEqual

from jobs.insured_by_county import UNKNOWN, insured_by_county_age_sex, insured_counts
from jobs.opendata_export import disclosure_settings
from jobs.person_coverage import by_person
from kernel.twid import AGE_BANDS, COUNTIES
from masking.disclosure import check_disclosure, suppression_flags
from tests.jobs.test_person_coverage import contract, frame, published

D = dt.date
SNAPSHOT = D(2024, 11, 15)  # with months=2: the ends of September and October 2024
MONTHS = [(D(2024, 9, 1), D(2024, 9, 30)), (D(2024, 10, 1), D(2024, 10, 31))]
DIMS = ["month", "county", "age_band", "sex"]
SCHEMA = "month date, county string, age_band string, sex string, persons long, suppressed boolean"

# person: (registry (sex, birth, address) or None, birth date on the events, enrolment spans
# [(unit, from, withdrawn on or None)]).
PERSONS: dict[str, tuple[tuple[str, dt.date, str] | None, dt.date, list[tuple]]] = {
    "T100000001": (("1", D(1990, 3, 1), "台中市西屯區1號"), D(1990, 3, 1),
                   [("u1", D(2020, 1, 1), None)]),
    "T100000002": (("1", D(1990, 3, 1), "台中市北區2號"), D(1990, 3, 1),
                   [("u1", D(2020, 1, 1), None)]),
    "T100000003": (("1", D(1990, 3, 1), "臺中市南區3號"), D(1990, 3, 1),
                   [("u2", D(2021, 1, 1), None)]),
    "T100000004": (("2", D(1990, 5, 5), "臺中市南區4號"), D(1990, 5, 5),
                   [("u2", D(2021, 1, 1), None)]),
    "T100000005": (("2", D(1985, 1, 1), "新北市板橋區5號"), D(1985, 1, 1),  # two units
                   [("u3", D(2018, 1, 1), None), ("u4", D(2019, 1, 1), None)]),
    "T100000006": (("2", D(1985, 2, 2), "新北市板橋區6號"), D(1985, 2, 2),  # October only
                   [("u3", D(2024, 10, 10), None)]),
    "T100000007": (("2", D(1985, 3, 3), "新北市板橋區7號"), D(1985, 3, 3),  # withdrawn
                   [("u3", D(2015, 1, 1), D(2024, 9, 15))]),
    "T100000008": (None, D(1985, 7, 1), [("u5", D(2022, 1, 1), None)]),  # not in the registry
    "T100000009": (("1", D(1994, 10, 15), "新北市三重區9號"), D(1994, 10, 15),  # turns 30
                   [("u6", D(2022, 1, 1), None)]),
    "T100000010": (("1", D(2000, 1, 1), "台北市中正區10號"), D(2000, 1, 1),
                   [("u7", D(2023, 1, 1), None)]),
    **{f"N10000000{i}": (("2", D(1986, 6, 6), "新北市板橋區11號"), D(1986, 6, 6),
                         [("u8", D(2016, 1, 1), None)]) for i in range(9)},
}  # fmt: skip


def _inputs(spark):
    residents, events = [], []
    for pid, (reg, birth, spans) in PERSONS.items():
        if reg:
            sex, born, address = reg
            residents.append({"national_id": pid, "sex": sex, "birth_date": born,
                              "address": address, "change_type": "01"})  # fmt: skip
        for unit, start, end in spans:
            base = {"insurance_unit_no": unit, "employer_ubn": "12345678", "national_id": pid,
                    "birth_date": birth, "insured_salary": 30300, "category": "1"}  # fmt: skip
            events.append({**base, "action": "1", "action_date": start})
            if end:
                events.append({**base, "action": "2", "action_date": end})
    return {"moi.residents": frame(spark, "moi.residents", residents),
            "bli.labor_insurance_enrollment":
                frame(spark, "bli.labor_insurance_enrollment", events)}  # fmt: skip


def _age_band(birth: dt.date, at: dt.date) -> str:
    age = at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))
    return "100+" if age >= 100 else f"{age // 5 * 5}-{age // 5 * 5 + 4}"


def _county(address: str) -> str:
    head = address[:3].replace("台", "臺")
    return head if head in COUNTIES else UNKNOWN


def _expected_counts() -> Counter:
    counts: Counter = Counter()
    for reg, birth, spans in PERSONS.values():
        for month, at in MONTHS:
            if not any(s <= at and (e is None or e > at) for _, s, e in spans):
                continue
            sex = {"1": "男", "2": "女"}[reg[0]] if reg else UNKNOWN
            county = _county(reg[2]) if reg else UNKNOWN
            counts[(month, county, _age_band(reg[1] if reg else birth, at), sex)] += 1
    return counts


def _grid() -> list[tuple]:
    return sorted(product([m for m, _ in MONTHS], (*COUNTIES, UNKNOWN), (*AGE_BANDS, UNKNOWN),
                          ("男", "女", UNKNOWN)), key=lambda c: tuple(map(str, c)))  # fmt: skip


@pytest.fixture(scope="module")
def dc():
    return contract("opendata/insured_by_county_age_sex.yaml")


def test_counts_and_small_cell_suppression(spark, dc):
    assert dc.options["unknown_label"] == UNKNOWN  # the label the masking plan accepts
    two = dataclasses.replace(dc, options={**dc.options, "months": 2})
    inputs = _inputs(spark)
    counts = _expected_counts()
    # The independent counts: 台中市 and 臺中市 are one county; a person with two units counts
    # once; the withdrawn person never; T9 moves from 25-29 to 30-34 in October.
    sep, oct_ = (m for m, _ in MONTHS)
    assert counts[(sep, "臺中市", "30-34", "男")] == 3
    assert counts[(sep, "新北市", "35-39", "女")] == 10
    assert counts[(oct_, "新北市", "35-39", "女")] == 11
    assert counts[(sep, "新北市", "25-29", "男")] == 1
    assert counts[(oct_, "新北市", "30-34", "男")] == 1
    assert counts[(sep, UNKNOWN, "35-39", UNKNOWN)] == 1
    cells = _grid()
    true = [counts.get(c, 0) for c in cells]
    # The true counts of the whole grid, before suppression.
    residents, events = by_person(inputs["moi.residents"],
                                  inputs["bli.labor_insurance_enrollment"])  # fmt: skip
    assertDataFrameEqual(
        insured_counts(residents, events, SNAPSHOT, 2),
        spark.createDataFrame([(*c, n) for c, n in zip(cells, true, strict=True)],
                              "month date, county string, age_band string, sex string, "
                              "persons long"))  # fmt: skip
    got = published(insured_by_county_age_sex, inputs, SNAPSHOT, two).cache()
    assert got.columns == [c.name for c in dc.columns]
    flags = suppression_flags(cells, true, DIMS)
    expected = [(*c, None if f else n, f) for c, n, f in zip(cells, true, flags, strict=True)]
    assertDataFrameEqual(got, spark.createDataFrame(expected, SCHEMA))

    rows = got.collect()
    by_cell = {tuple(r[d] for d in DIMS): r for r in rows}
    # Every small cell is suppressed; every published count is the true count.
    for cell, n in zip(cells, true, strict=True):
        row = by_cell[cell]
        if 1 <= n <= 2:
            assert row["suppressed"] and row["persons"] is None
        assert row["persons"] in (None, n)
    # No total over a dimension has exactly one suppressed cell: nothing is recoverable.
    for d in DIMS:
        groups: dict[tuple, int] = defaultdict(int)
        for r in rows:
            groups[tuple(r[x] for x in DIMS if x != d)] += r["suppressed"]
        assert 1 not in groups.values(), d
    rule = disclosure_settings(dc)
    assert rule is not None and rule.dimensions == tuple(DIMS) and rule.count_column == "persons"
    assert check_disclosure(got, list(rule.dimensions), None, rule.count_column, rule.low,
                            rule.high) == []  # fmt: skip
    got.unpersist()


def test_twelve_months_pass_the_disclosure_gate(spark, dc):
    got = published(insured_by_county_age_sex, _inputs(spark), SNAPSHOT, dc).cache()
    assert got.count() == 12 * 23 * 22 * 3
    assert got.agg({"month": "min"}).first()[0] == D(2023, 11, 1)
    assert check_disclosure(got, DIMS, None, "persons") == []
    assert got.where("persons between 1 and 2").count() == 0
    got.unpersist()
