"""opendata.insured_by_county_age_sex: monthly counts of persons in labor insurance, protected by
the small-cell rule.

For each of the last ``months`` month ends on or before the snapshot date (option ``months``,
default 12; see :func:`jobs.person_coverage.month_ends`), a person is counted once when, at some
insurance unit, their latest enrolment event on or before that day is an enrolment or a salary
change (not a withdrawal), of either category. They are counted in:

- ``county``: the 縣市 of their current household address (``moi.residents``; 台 and 臺 are one
  county), or the unknown label when the registry does not know them or their address names none;
- ``age_band``: 5-year band of their age at that month end (birth date from the registry, else
  from their latest enrolment event), or the unknown label;
- ``sex``: 男 (registry code 1), 女 (code 2), or the unknown label.

The table is the full grid of every month × county (22 + unknown) × age band (21 + unknown) × sex
(2 + unknown), zeros included, so that every cell is explicit. Small cells (``low`` to ``high``,
options ``disclosure.low``/``disclosure.high``, default 1 and 2) are suppressed (``persons``
null, ``suppressed`` true), with complementary suppression over the totals of each dimension
(:func:`masking.disclosure.suppress_small_cells`, all four dimensions, the month included, which
is also what :func:`masking.disclosure.check_disclosure` assumes by default).

The counts are taken over generalised dimensions, so the transform generalises before it
aggregates, with the policy functions of :mod:`masking.generalize` (``county``, ``age_band``):
``month``, ``county`` and ``age_band`` are handed over in their published form, and the
dataset's masking plan (:mod:`masking.dataset_plan`) checks them (a county of
:data:`kernel.twid.COUNTIES`, an age band of :data:`kernel.twid.AGE_BANDS`, the unknown label of
the contract option ``unknown_label``, a month's first day) instead of applying them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from itertools import product

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.dual_enrollment import month_table
from jobs.opendata_export import disclosure_settings
from jobs.person_coverage import (
    LABOR_EVENTS,
    RESIDENTS,
    by_person,
    demographics,
    insured_at,
    labor_birth_dates,
    labor_spells,
    month_ends,
    option,
    require,
)
from kernel.contracts import DatasetContract
from kernel.twid import AGE_BANDS, COUNTIES
from masking.dataset_plan import UNKNOWN_OPTION
from masking.disclosure import suppress_small_cells
from masking.generalize import age_band, county

DEFAULT_MONTHS = 12
UNKNOWN = "不詳"
"""The unknown label unless the contract's option ``unknown_label`` names another."""
SEXES = {"1": "男", "2": "女"}
DIMENSIONS = ("month", "county", "age_band", "sex")
COUNT = "persons"


def grid(like: DataFrame, snapshot_date: date, n: int, label: str = UNKNOWN) -> DataFrame:
    """Every cell (month, county, age band, sex) of the published table (``label``: unknown)."""
    unknown = (label,)
    rows = product(
        [m for m, _ in month_ends(snapshot_date, n)],
        (*COUNTIES, *unknown), (*AGE_BANDS, *unknown), (*SEXES.values(), *unknown),
    )
    return like.sparkSession.createDataFrame(
        list(rows), "month date, county string, age_band string, sex string"
    )


def insured_counts(
    residents: DataFrame, events: DataFrame, snapshot_date: date, n: int, label: str = UNKNOWN
) -> DataFrame:
    """``month, county, age_band, sex, persons``: the true counts of the whole grid (zeros
    included), before any suppression, ``label`` for what is unknown. ``residents`` and
    ``events`` are the silver tables with normalised identifiers
    (:func:`jobs.person_coverage.by_person`)."""
    months = F.broadcast(month_table(events, snapshot_date, n))
    insured = (
        labor_spells(events).join(months, insured_at(F.col("at")))
        .select("national_id", "month", "at").distinct()
    )
    demo = demographics(residents, labor_birth_dates(events))
    sex = F.col("sex")
    people = insured.join(demo, "national_id", "left").select(
        "month",
        F.coalesce(county(F.col("address")), F.lit(label)).alias("county"),
        F.coalesce(age_band(F.col("birth_date"), F.col("at")), F.lit(label)).alias("age_band"),
        F.when(sex == "1", SEXES["1"]).when(sex == "2", SEXES["2"]).otherwise(label).alias("sex"),
    )
    dims = list(DIMENSIONS)
    counted = people.groupBy(*dims).agg(F.count(F.lit(1)).alias(COUNT))
    return grid(events, snapshot_date, n, label).join(counted, dims, "left").select(
        *dims, F.coalesce(F.col(COUNT), F.lit(0)).cast("long").alias(COUNT)
    )


def insured_by_county_age_sex(
    inputs: Mapping[str, DataFrame], snapshot_date: date, contract: DatasetContract
) -> DataFrame:
    """``month, county, age_band, sex, persons, suppressed``: the protected counts (see the
    module docstring), every dimension in its published form. Options: ``months``,
    ``disclosure``, ``unknown_label``."""
    residents, events = by_person(*require(inputs, RESIDENTS, LABOR_EVENTS))
    rule = disclosure_settings(contract)
    if rule is None or rule.dimensions != DIMENSIONS or rule.count_column != COUNT:
        raise ValueError(f"{contract.name}: options.disclosure must name dimensions "
                         f"{list(DIMENSIONS)} and count_column {COUNT}")
    n = int(option(contract, "months", DEFAULT_MONTHS))
    label = str(option(contract, UNKNOWN_OPTION, UNKNOWN))
    cells = insured_counts(residents, events, snapshot_date, n, label)
    return suppress_small_cells(cells, list(DIMENSIONS), COUNT, low=rule.low, high=rule.high)
