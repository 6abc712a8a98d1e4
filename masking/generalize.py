"""The column transforms of the masking policies (Spark built-in functions only).

Each generalisation or partial mask a contract can name is implemented here once, and used by
the masking plans (:mod:`masking.plan` for feeds, :mod:`masking.dataset_plan` for published
datasets) and by the transforms that aggregate over generalised dimensions
(:mod:`jobs.insured_by_county`): the 縣市 of an address, the 5-year age band, the first day of a
month, the band of a number (fixed width, or cut at a contract's edges), the partial mask of an
identifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from pyspark.sql import Column
from pyspark.sql import functions as F

from kernel.twid import COUNTIES

DEFAULT_BAND_WIDTH = 5000
"""Width of the bands of a number (an insured salary) unless configured per column."""
AGE_BAND_WIDTH = 5


def county(address: Column) -> Column:
    """The 縣市 an address starts with (台 read as 臺), or null if it names none."""
    head = F.translate(F.substring(address, 1, 3), "台", "臺")
    return F.when(head.isin(*COUNTIES), head)


def age_years(birth: Column, at: Column) -> Column:
    """Age in whole years at the date ``at`` (null when either is null)."""
    return F.floor(F.months_between(at, birth) / 12).cast("int")


def age_band(birth: Column, at: Column) -> Column:
    """5-year age band at the date ``at`` (``0-4``, ``5-9``, ..., ``100+``;
    :data:`kernel.twid.AGE_BANDS`)."""
    return age_number_band(age_years(birth, at))


def first_of_month(day: Column) -> Column:
    """The first day of the month of ``day`` (a date or timestamp), as a date; null for null."""
    return F.trunc(day.cast("date"), "month")


def band_labels(edges: Sequence[int]) -> list[str]:
    """Labels of the bands cut at ``edges`` (increasing): ``<e0``, ``e0-(e1-1)``, ...,
    ``e_last+`` (``[30000, 40000, 45800]``: ``<30000``, ``30000-39999``, ``40000-45799``,
    ``45800+``). Raises :class:`ValueError` for no edges or edges not strictly increasing."""
    if not edges or list(edges) != sorted(set(edges)):
        raise ValueError("band edges must be strictly increasing (and at least one)")
    labels = [f"<{edges[0]}"]
    labels += [f"{lo}-{hi - 1}" for lo, hi in pairwise(edges)]
    return [*labels, f"{edges[-1]}+"]


def edges_band(value: Column, edges: Sequence[int]) -> Column:
    """The band (:func:`band_labels`) holding ``value`` (a number); null for null."""
    labels = band_labels(edges)
    expr = F.when(value.isNull(), F.lit(None).cast("string"))
    for edge, label in zip(edges, labels, strict=False):
        expr = expr.when(value < edge, F.lit(label))
    return expr.otherwise(F.lit(labels[-1]))


def mask_partial(col: Column, account: bool = False) -> Column:
    """Keep the first and last characters and star the rest: 2 + 2 of 8 or more characters
    (``A1******89``), 1 + 1 of 3 to 7 (``王*明``), the first of 2 (``王*``), nothing of 1.
    ``account``: keep the last 4 only (all starred up to 4 characters)."""
    text = col.cast("string")
    n = F.length(text)

    def starred(keep_head: int, keep_tail: int) -> Column:
        head = F.substring(text, 1, keep_head) if keep_head else F.lit("")
        tail = F.substring(text, -keep_tail, keep_tail) if keep_tail else F.lit("")
        return F.concat(head, F.repeat(F.lit("*"), n - keep_head - keep_tail), tail)

    if account:
        return F.when(n <= 4, F.repeat(F.lit("*"), n)).otherwise(starred(0, 4))
    return (
        F.when(n >= 8, starred(2, 2))
        .when(n >= 3, starred(1, 1))
        .when(n == 2, starred(1, 0))
        .otherwise(F.repeat(F.lit("*"), n))
    )


def number_band(col: Column, width: int) -> Column:
    """The band of width ``width`` holding ``col``: ``25000-29999`` for 27600 and width 5000."""
    if width < 1:
        raise ValueError("a band width is a positive integer")
    low = (F.floor(col.cast("double") / width) * width).cast("long")
    return F.concat(low.cast("string"), F.lit("-"), (low + width - 1).cast("string"))


def age_number_band(col: Column) -> Column:
    """5-year band of an age in years (``0-4``, ..., ``95-99``, ``100+``); null for no age or
    a negative one."""
    age = col.cast("int")
    low = (F.floor(age / AGE_BAND_WIDTH) * AGE_BAND_WIDTH).cast("int")
    return (
        F.when(age.isNull() | (age < 0), F.lit(None).cast("string"))
        .when(low >= 100, F.lit("100+"))
        .otherwise(F.concat(low.cast("string"), F.lit("-"), (low + 4).cast("string")))
    )
