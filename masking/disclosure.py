"""Disclosure control for open data: the small-cell rule of ``datasets.md`` as a gate.

A count from 1 to 2 is suppressed (published empty, with a flag), and the suppression must not
be undone by subtraction from row or column totals. :func:`suppress_small_cells` applies the
rule (primary suppression of the small cells, then complementary suppression: in every group
whose total is published, one suppressed cell alone would be recoverable as *total − the other
cells*, so the next smallest non-zero cell of that group is suppressed too, until no group has
exactly one). :func:`marginal_totals` computes the totals to publish, with the same rule on the
totals. :func:`check_disclosure` is the gate: it returns problems (counts and column names,
never values).

"Groups" are the margins a reader can sum over: by default, for each dimension, the total over
that dimension for every combination of the others (county × age_band × sex gives the totals
over sex by county and age band, over age band by county and sex, over county by age band and
sex). Other margins (a county's grand total, ``()`` for the grand total) can be given.

Scale: open-data tables are small aggregates (22 counties × 21 age bands × 2 sexes per month),
so both functions collect the table to the driver and work in plain Python
(:mod:`masking.smallcells`, Spark in, Spark out for the suppression). The protection is
against subtraction within one group, which is what the rule asks; it is not an optimal
(minimum loss) suppression, nor a defence against solving the system of all margins at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, StructField, StructType

from masking.smallcells import (
    SUPPRESSED,
    Margin,
    default_margins,
    disclosure_problems,
    sort_key,
    suppression_flags,
)

__all__ = [
    "SUPPRESSED", "Margin", "check_disclosure", "default_margins", "marginal_totals",
    "suppress_small_cells", "suppression_flags",
]


def _collect(df: DataFrame, dims: Sequence[str], count_col: str) -> list[dict[str, Any]]:
    missing = [c for c in (*dims, count_col) if c not in df.columns]
    if missing:
        raise ValueError(f"the table has no column(s) {missing}")
    return [r.asDict() for r in df.collect()]


def suppress_small_cells(
    counts: DataFrame,
    dims: Sequence[str],
    count_col: str = "count",
    low: int = 1,
    high: int = 2,
    margins: Sequence[Sequence[str]] | None = None,
) -> DataFrame:
    """``counts`` (one row per cell of ``dims``) with ``count_col`` null and ``suppressed`` true
    for every small cell (``low <= count <= high``) and for the complementary cells that keep
    them from being recovered from the totals of ``margins`` (default: the total over each
    dimension, :func:`default_margins`). Other rows keep their count with ``suppressed`` false.

    Deterministic (rows sorted by ``dims``). Collected to the driver: for small aggregate tables.
    """
    rows = _collect(counts, dims, count_col)
    rows.sort(key=lambda r: sort_key([r[d] for d in dims]))
    if any(r[count_col] is None or r[count_col] < 0 for r in rows):
        raise ValueError(f"{count_col}: every cell needs a count >= 0 before suppression")
    flags = suppression_flags(
        [tuple(r[d] for d in dims) for r in rows],
        [int(r[count_col]) for r in rows],
        dims,
        None if margins is None else [tuple(m) for m in margins],
        low,
        high,
    )
    fields = [
        StructField(f.name, f.dataType, True) if f.name == count_col else f
        for f in counts.schema.fields
        if f.name != SUPPRESSED
    ]
    schema = StructType([*fields, StructField(SUPPRESSED, BooleanType(), False)])
    out = [
        (*(None if f.name == count_col and flag else r[f.name] for f in fields), flag)
        for r, flag in zip(rows, flags, strict=True)
    ]
    return counts.sparkSession.createDataFrame(out, schema)


def marginal_totals(
    counts: DataFrame,
    dims: Sequence[str],
    count_col: str = "count",
    low: int = 1,
    high: int = 2,
    margins: Sequence[Sequence[str]] | None = None,
) -> DataFrame:
    """The totals of ``margins`` computed from the true ``counts``: one row per group, the
    dimensions summed over are null (as in ``cube``). A total from ``low`` to ``high`` is itself
    suppressed (null, ``suppressed`` true)."""
    parts = []
    for m in default_margins(dims) if margins is None else margins:
        cols = [F.col(d) if d in m else F.lit(None).cast(counts.schema[d].dataType).alias(d)
                for d in dims]  # fmt: skip
        total = F.sum(count_col)
        grouped = counts.groupBy(*m).agg(total.alias(count_col)) if m else counts.agg(
            total.alias(count_col)
        )
        parts.append(grouped.select(*cols, F.col(count_col)))
    union = parts[0]
    for p in parts[1:]:
        union = union.unionByName(p)
    small = F.col(count_col).between(low, high)
    return union.select(
        *dims,
        F.when(small, F.lit(None)).otherwise(F.col(count_col)).alias(count_col),
        F.coalesce(small, F.lit(False)).alias(SUPPRESSED),
    ).orderBy(*[F.col(d).asc_nulls_first() for d in dims])


def check_disclosure(
    published: DataFrame,
    dims: Sequence[str],
    totals: DataFrame | None = None,
    count_col: str = "count",
    low: int = 1,
    high: int = 2,
) -> list[str]:
    """The disclosure gate: problems of a table about to be published (empty when it passes).

    Problems: a published count from ``low`` to ``high``; a cell flagged ``suppressed`` that
    still shows a count; and a suppressed cell recoverable by subtraction: a group with exactly
    one suppressed cell whose total is published. ``totals`` are the published totals, one row
    per group with the dimensions summed over null (as :func:`marginal_totals` or ``cube``
    produce; cells must then have no null dimension). A null total is withheld, any other is
    published (flagged or not), and a published total from ``low`` to ``high`` is a problem too.
    Without ``totals``, the totals over each dimension (:func:`default_margins`) are assumed
    published (readers can get them elsewhere): fail closed. A problem names columns and
    counts, never a value.

    Collected to the driver (pandas-sized open-data aggregates, not big tables).
    """
    rows = _collect(published, dims, count_col)
    trows = None if totals is None else _collect(
        totals, [d for d in dims if d in totals.columns], count_col)
    return disclosure_problems(rows, dims, trows, count_col, low, high)
