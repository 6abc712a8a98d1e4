"""gold.coverage_periods: every continuous coverage period of every person, per scheme.

The source of the document-free e-verification (``lakehouse serve``): "is this person insured
in this scheme on day D, and since when" is the one period of the person and scheme with
``start_date <= D`` and ``end_date`` null or after D. Each scheme's raw intervals come from its
silver table, truncated to what is known on the snapshot date, and one gaps-and-islands pass
(:func:`merged`) joins the overlapping or touching intervals of a person and scheme. The
semantics on the snapshot date are those of :mod:`jobs.person_coverage` (labor insurance from
the same enrolment spans), so both datasets agree on who is insured that day; labor pension is
month-based here (a month with a contribution is covered) where person_coverage's flag looks
at the last 12 months.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import reduce

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.person_coverage import (
    ENROLLED_ACTIONS,
    FARMERS,
    LABOR_EVENTS,
    NHI,
    PENSION,
    by_person,
    labor_spells,
    require,
)
from kernel.contracts import DatasetContract

OPEN_END = date(9999, 12, 31)
"""An open end while merging (never published: an open period's end_date is null)."""


def _intervals(df: DataFrame, scheme: str, start: Column, end: Column) -> DataFrame:
    """``national_id, scheme, start_date, end_date`` of the rows of ``df`` with an identifier
    and a start (an end before or on the start leaves an empty interval, dropped)."""
    return (
        df.where(F.col("national_id").isNotNull() & start.isNotNull())
        .select("national_id", F.lit(scheme).alias("scheme"), start.alias("start_date"),
                end.alias("end_date"))
        .where(F.col("end_date").isNull() | (F.col("end_date") > F.col("start_date")))
    )


def raw_intervals(inputs: Mapping[str, DataFrame]) -> DataFrame:
    """Every scheme's intervals before merging (end exclusive, null when open)."""
    events, pension, nhi, farmers = by_person(*require(inputs, LABOR_EVENTS, PENSION, NHI,
                                                       FARMERS))
    col = F.col
    spells = labor_spells(events).where(col("action").isin(*ENROLLED_ACTIONS))
    month = F.trunc(col("contribution_month"), "month")
    parts = [
        _intervals(spells, "labor", col("valid_from"), col("valid_to")),
        _intervals(nhi, "nhi", col("start_date"), col("end_date")),
        _intervals(farmers, "farmer", col("eligible_from"), col("eligible_until")),
        _intervals(pension, "pension", month, F.add_months(month, 1)),
    ]
    return reduce(DataFrame.unionByName, parts)


def merged(intervals: DataFrame, snapshot_date: date) -> DataFrame:
    """The intervals known on ``snapshot_date`` (started on or before it; an end after it is
    not known yet: open), overlapping or touching ones of a person and scheme merged."""
    snap = F.lit(snapshot_date).cast("date")
    known = intervals.where(F.col("start_date") <= snap).withColumn(
        "_end", F.when(F.col("end_date").isNull() | (F.col("end_date") > snap),
                       F.lit(OPEN_END).cast("date")).otherwise(F.col("end_date")))
    w = Window.partitionBy("national_id", "scheme").orderBy("start_date", "_end")
    reach = F.max("_end").over(w.rowsBetween(Window.unboundedPreceding, -1))
    starts = known.withColumn(
        "_new", F.when(reach.isNull() | (F.col("start_date") > reach), 1).otherwise(0))
    islands = starts.withColumn(
        "_island", F.sum("_new").over(w.rowsBetween(Window.unboundedPreceding, 0)))
    out = islands.groupBy("national_id", "scheme", "_island").agg(
        F.min("start_date").alias("start_date"), F.max("_end").alias("_end"))
    end = F.when(F.col("_end") == F.lit(OPEN_END).cast("date"), F.lit(None).cast("date"))
    return out.select("national_id", "scheme", "start_date",
                      end.otherwise(F.col("_end")).alias("end_date"))


def coverage_periods(inputs: Mapping[str, DataFrame], snapshot_date: date,
                     contract: DatasetContract) -> DataFrame:
    """The candidate rows: ``national_id``, ``scheme``, ``start_date``, ``end_date``,
    ``snapshot_date`` (see the module docstring)."""
    periods = merged(raw_intervals(inputs), snapshot_date)
    return periods.withColumn("snapshot_date", F.lit(snapshot_date).cast("date"))
