"""gold.person_coverage: one row per person known to any feed; and the person-level derivations
the other published datasets share (labor-insurance spells, demographics, month windows).

Every transform of a published dataset has the signature of :data:`Transform`: the silver tables
in (``inputs`` maps silver table names, entities such as ``moi.residents`` and event tables such
as ``bli.labor_insurance_enrollment``, to DataFrames), the candidate out: the dataset's *business
columns*, computed and not masked. The snapshot date and the contract are parameters: no paths,
no clock, no environment, no key. The publish path then applies the dataset's masking plan,
derived from the contract (:func:`masking.dataset_plan.apply_dataset_plan`): a column with a
masking policy is handed over as its input (``national_id`` for ``person_key``, ``birth_date``
for ``birth_year`` and ``age_band``, ``address`` for ``county``, ...), which the plan masks and
drops; a column the transform must generalise itself (to aggregate over it) is handed over in
its published form, generalised with the functions of :mod:`masking.generalize`, and the plan
checks it. The plan shapes the result to the contract's columns and types.

Time semantics: every flag is evaluated *as of the snapshot date*. Labor insurance is rebuilt
from the enrolment events (the latest event per person and insurance unit on or before the
date); the other feeds hold one current row per person with validity dates (NHI, farmers), or
dated rows (pension contributions, payments by month). A "last N months" window is the N
calendar months up to and including the snapshot's month (never a month after the snapshot).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from functools import reduce
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from kernel.contracts import DatasetContract
from kernel.text import normalise_identifier

# Silver tables (entities: current state; events: every delivered change).
RESIDENTS = "moi.residents"
LABOR_EVENTS = "bli.labor_insurance_enrollment"
PENSION = "bli.pension_contributions"
NHI = "nhia.insured"
FARMERS = "moa.farmers"
PAYMENTS = "bli.payments"

Transform = Callable[[Mapping[str, DataFrame], date, DatasetContract], DataFrame]
"""``fn(inputs, snapshot_date, contract) -> DataFrame``: the candidate's business columns, before
the dataset's masking plan (see the module docstring)."""

ENROLLED_ACTIONS = ("1", "3")
"""Labor-insurance actions that leave a person insured: enrolment and insured-salary change."""

DEFAULT_PENSION_MONTHS = 12
DEFAULT_BENEFIT_MONTHS = 3


# ----------------------------------------------------------------------------- generic helpers
def require(inputs: Mapping[str, DataFrame], *names: str) -> list[DataFrame]:
    """The input tables ``names``, in order; ``KeyError`` names the missing ones."""
    missing = [n for n in names if n not in inputs]
    if missing:
        raise KeyError(f"missing input table(s): {', '.join(missing)}")
    return [inputs[n] for n in names]


def by_person(*frames: DataFrame) -> list[DataFrame]:
    """``frames`` with ``national_id`` normalised as for the pseudonym (NFKC, upper case,
    trimmed), so that joins and the union of persons across feeds agree with ``person_key``."""
    return [f.withColumn("national_id", normalise_identifier(F.col("national_id")))
            for f in frames]  # fmt: skip


def option(contract: DatasetContract, name: str, default: Any) -> Any:
    """A dataset option (``options:`` in the contract) or ``default``."""
    return contract.options.get(name, default)


def month_start(d: date) -> date:
    """The first day of ``d``'s month."""
    return d.replace(day=1)


def add_months(d: date, n: int) -> date:
    """The first day of the month ``n`` months after ``d``'s (``n`` may be negative)."""
    k = d.year * 12 + d.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


def month_end(d: date) -> date:
    """The last day of ``d``'s month."""
    return add_months(d, 1) - timedelta(days=1)


def month_ends(snapshot: date, n: int) -> list[tuple[date, date]]:
    """(first day, last day) of the ``n`` latest months that have ended on or before
    ``snapshot`` (the snapshot's own month counts when the snapshot is its last day), oldest
    first."""
    if n < 1:
        raise ValueError("a month range needs at least one month")
    last = month_start(snapshot) if month_end(snapshot) == snapshot else add_months(snapshot, -1)
    months = [add_months(last, -k) for k in range(n - 1, -1, -1)]
    return [(m, month_end(m)) for m in months]


def in_last_months(month: Column, snapshot: date, n: int) -> Column:
    """``month`` (a date) falls in the ``n`` calendar months up to and including the snapshot's
    month, and not after the snapshot."""
    if n < 1:
        raise ValueError("a month window needs at least one month")
    first = F.lit(add_months(snapshot, -(n - 1))).cast("date")
    return (F.trunc(month, "month") >= first) & (month <= F.lit(snapshot).cast("date"))


# ------------------------------------------------------------------- labor-insurance spells
def labor_spells(events: DataFrame) -> DataFrame:
    """Each enrolment event with the span during which it is the person's latest event at its
    insurance unit: ``valid_from`` (its action date) to ``valid_to`` (the next event's action
    date, exclusive; null while it is the latest). Events of one day are ordered by file date,
    then record number (the later one wins; an earlier one gets an empty span)."""
    order = [F.col("action_date"), F.col("_file_date"), F.col("_source_row")]
    w = Window.partitionBy("national_id", "insurance_unit_no").orderBy(*order)
    return (
        events.where(F.col("national_id").isNotNull() & F.col("action_date").isNotNull())
        .select("national_id", "insurance_unit_no", "employer_ubn", "action", "category",
                "insured_salary", "action_date", "_file_date", "_source_row")
        .withColumn("valid_to", F.lead("action_date").over(w))
        .withColumnRenamed("action_date", "valid_from")
    )


def insured_at(at: Column) -> Column:
    """On a row of :func:`labor_spells`: the person is insured at that unit on date ``at``."""
    return (
        (F.col("valid_from") <= at)
        & (F.col("valid_to").isNull() | (F.col("valid_to") > at))
        & F.col("action").isin(*ENROLLED_ACTIONS)
    )


def labor_birth_dates(events: DataFrame) -> DataFrame:
    """``national_id, birth_date`` from each person's latest enrolment event giving one."""
    latest = F.struct(F.col("action_date"), F.col("_file_date"), F.col("_source_row"))
    return (
        events.where(F.col("national_id").isNotNull() & F.col("birth_date").isNotNull())
        .groupBy("national_id")
        .agg(F.max_by("birth_date", latest).alias("birth_date"))
    )


def demographics(residents: DataFrame, *others: DataFrame) -> DataFrame:
    """``national_id, sex, birth_date, address`` of every person of ``residents`` or ``others``
    (``national_id, birth_date`` frames, one row per person, in order of preference): sex and
    address from the registry only; the birth date from the registry, else from the first other
    frame that has one."""
    reg = residents.select(
        "national_id", "sex", F.col("birth_date").alias("_b0"), "address"
    ).where(F.col("national_id").isNotNull())
    frames = [o.select("national_id", F.col("birth_date").alias(f"_b{i + 1}"))
              for i, o in enumerate(others)]  # fmt: skip
    joined = reduce(lambda a, b: a.join(b, "national_id", "full"), frames, reg)
    births = [F.col(f"_b{i}") for i in range(len(others) + 1)]
    return joined.select("national_id", "sex", F.coalesce(*births).alias("birth_date"), "address")


# ------------------------------------------------------------------------------ the transform
FLAGS = ("in_labor_insurance", "in_nhi", "is_farmer", "pension_contrib_last_12m",
         "receives_benefit", "is_deceased")  # fmt: skip
"""The coverage flags, in contract order."""


def _facts(df: DataFrame, **columns: Column) -> DataFrame:
    """``national_id`` and the given columns of the rows of ``df`` (one fact per row)."""
    return df.where(F.col("national_id").isNotNull()).select(
        "national_id", *[c.alias(n) for n, c in columns.items()]
    )


def person_coverage(
    inputs: Mapping[str, DataFrame], snapshot_date: date, contract: DatasetContract
) -> DataFrame:
    """The candidate rows: one per person known to any input, with the business columns
    ``national_id``, ``sex``, ``birth_date`` (registry, else latest labor-insurance event, else
    farmers' registry), ``address`` (registry), ``insured_salary`` (the highest current insured
    salary over the person's units, null when not in labor insurance), the coverage flags as of
    ``snapshot_date`` (false where a feed does not know the person) and ``snapshot_date``.
    Options: ``pension_months``, ``benefit_months`` (``salary_band_edges`` is the plan's).

    Every input contributes facts about persons (``national_id`` plus the columns it knows);
    one aggregation per person merges them, so a person known to any input gets a row."""
    residents, events, pension, nhi, farmers, payments = by_person(*require(
        inputs, RESIDENTS, LABOR_EVENTS, PENSION, NHI, FARMERS, PAYMENTS
    ))
    snap = F.lit(snapshot_date).cast("date")
    pension_months = int(option(contract, "pension_months", DEFAULT_PENSION_MONTHS))
    benefit_months = int(option(contract, "benefit_months", DEFAULT_BENEFIT_MONTHS))
    col = F.col

    facts = [
        _facts(residents, sex=col("sex"), _b0=col("birth_date"), address=col("address"),
               is_deceased=col("death_date") <= snap),
        _facts(labor_birth_dates(events), _b1=col("birth_date")),
        _facts(labor_spells(events), in_labor_insurance=insured_at(snap),
               _salary=F.when(insured_at(snap), col("insured_salary"))),
        _facts(pension, pension_contrib_last_12m=in_last_months(
            col("contribution_month"), snapshot_date, pension_months)),
        _facts(nhi, in_nhi=(col("start_date") <= snap)
               & (col("end_date").isNull() | (col("end_date") > snap))),
        _facts(farmers, _b2=col("birth_date"), is_farmer=(col("eligible_from") <= snap)
               & (col("eligible_until").isNull() | (col("eligible_until") > snap))),
        _facts(payments, receives_benefit=(col("amount") > 0)
               & in_last_months(col("payment_month"), snapshot_date, benefit_months)),
    ]  # fmt: skip
    merged = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), facts)
    values = ["sex", "address", "_b0", "_b1", "_b2", "_salary"]
    person = merged.groupBy("national_id").agg(
        *[F.max(c).alias(c) for c in values],
        *[F.coalesce(F.max(f), F.lit(False)).alias(f) for f in FLAGS],
    )
    return person.select(
        "national_id",
        col("sex"),
        F.coalesce(col("_b0"), col("_b1"), col("_b2")).alias("birth_date"),
        col("address"),
        *FLAGS,
        col("_salary").alias("insured_salary"),
        snap.alias("snapshot_date"),
    )
