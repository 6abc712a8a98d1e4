"""gold.dual_enrollment: persons both eligible as farmers and in ordinary labor insurance.

Farmers' health insurance and ordinary labor insurance are mutually exclusive by law. For each of
the last ``months`` month ends on or before the snapshot date (option ``months``, default 12:
the months that have ended; the snapshot's own month counts when the snapshot is its last day),
a person is listed when, at that month end:

- their farmer eligibility covers it (``eligible_from <= month end`` and ``eligible_until`` null
  or after it; ``moa.farmers``, the current record per person), and
- at some insurance unit, their latest enrolment event on or before it is an enrolment or a
  salary change (not a withdrawal) of category ``1`` (ordinary + occupational accident; category
  ``2``, occupational accident only, is allowed alongside farmers' insurance).

One row per person, month and employer (``employer_ubn``); ``month`` is the first day of the
month whose last day was evaluated, handed over in its published form (the masking plan checks
it is a month's first day); ``national_id`` becomes ``person_key`` in the dataset's masking plan
(:mod:`masking.dataset_plan`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.person_coverage import (
    FARMERS,
    LABOR_EVENTS,
    by_person,
    insured_at,
    labor_spells,
    month_ends,
    option,
    require,
)
from kernel.contracts import DatasetContract

DEFAULT_MONTHS = 12
ORDINARY = "1"
"""Labor-insurance category: ordinary + occupational accident."""


def month_table(like: DataFrame, snapshot_date: date, n: int) -> DataFrame:
    """``month`` (first day), ``at`` (last day) of the ``n`` month ends of
    :func:`jobs.person_coverage.month_ends`."""
    return like.sparkSession.createDataFrame(month_ends(snapshot_date, n), "month date, at date")


def dual_enrollment(
    inputs: Mapping[str, DataFrame], snapshot_date: date, contract: DatasetContract
) -> DataFrame:
    """``national_id, month, association_code, employer_ubn`` of every dual enrolment at a month
    end of the range (see the module docstring). Option: ``months``."""
    farmers, events = by_person(*require(inputs, FARMERS, LABOR_EVENTS))
    months = F.broadcast(
        month_table(farmers, snapshot_date, int(option(contract, "months", DEFAULT_MONTHS)))
    )
    eligible = farmers.join(months, (F.col("eligible_from") <= F.col("at")) & (
        F.col("eligible_until").isNull() | (F.col("eligible_until") > F.col("at"))
    )).select("national_id", "month", "at", "association_code")
    # Only the farmers' events: the spells of everyone else are never needed.
    spells = labor_spells(events.join(eligible.select("national_id").distinct(), "national_id"))
    insured = spells.where(F.col("category") == ORDINARY).join(months, insured_at(F.col("at")))
    dual = eligible.join(
        insured.select("national_id", "month", "employer_ubn"), ["national_id", "month"]
    ).select("national_id", "month", "association_code", "employer_ubn").distinct()
    return dual
