"""The small-cell rule: primary and complementary suppression, and the disclosure gate."""

from __future__ import annotations

from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from masking.disclosure import (
    check_disclosure,
    marginal_totals,
    suppress_small_cells,
    suppression_flags,
)

DIMS = ["county", "age_band", "sex"]
SCHEMA = "county string, age_band string, sex string, count long"
COUNTIES = ["臺北市", "新北市", "桃園市"]
AGES = ["20-24", "25-29", "30-34"]


def _table(spark):
    """A county × age band × sex table with three small cells; (臺北市, 20-24, 1) = 2 could be
    recovered from the total over sex of (臺北市, 20-24) unless its other cell is suppressed."""
    small = {("臺北市", "20-24", "1"): 2, ("新北市", "30-34", "2"): 1, ("桃園市", "25-29", "1"): 0}
    rows = []
    for i, c in enumerate(COUNTIES):
        for j, a in enumerate(AGES):
            for k, s in enumerate(("1", "2")):
                rows.append((c, a, s, small.get((c, a, s), 10 + 7 * i + 3 * j + k)))
    return spark.createDataFrame(rows, SCHEMA)


def test_two_dimensions_exact_output(spark):
    counts = spark.createDataFrame(
        [("臺北市", "1", 2), ("臺北市", "2", 10), ("新北市", "1", 6), ("新北市", "2", 8),
         ("桃園市", "1", 20), ("桃園市", "2", 30)],
        "county string, sex string, count long",
    )
    assertDataFrameEqual(
        suppress_small_cells(counts, ["county", "sex"]),
        spark.createDataFrame(
            [("臺北市", "1", None, True), ("臺北市", "2", None, True),  # primary, its row
             ("新北市", "1", None, True), ("新北市", "2", None, True),  # its column, then row
             ("桃園市", "1", 20, False), ("桃園市", "2", 30, False)],
            "county string, sex string, count long, suppressed boolean",
        ),
    )


def test_no_small_cell_is_published_and_none_is_recoverable(spark):
    table = _table(spark)
    published = suppress_small_cells(table, DIMS)
    rows = published.collect()
    assert not [r for r in rows if r["count"] is not None and 1 <= r["count"] <= 2]
    assert all((r["count"] is None) == r["suppressed"] for r in rows)
    by_cell = {(r["county"], r["age_band"], r["sex"]): r for r in rows}
    # The primary cells are suppressed, and so is the other sex of (臺北市, 20-24).
    assert by_cell[("臺北市", "20-24", "1")]["suppressed"]
    assert by_cell[("新北市", "30-34", "2")]["suppressed"]
    assert by_cell[("臺北市", "20-24", "2")]["suppressed"]
    assert not by_cell[("桃園市", "25-29", "1")]["suppressed"]  # 0 is not a small cell
    assert 0 < sum(r["suppressed"] for r in rows) < len(rows)
    totals = marginal_totals(table, DIMS)
    assert check_disclosure(published, DIMS, totals) == []
    assert check_disclosure(published, DIMS) == []  # totals over each dimension assumed
    # Deterministic.
    assertDataFrameEqual(published, suppress_small_cells(table.orderBy(F.rand(7)), DIMS))


def test_the_gate_catches_small_and_recoverable_cells(spark):
    table = _table(spark)
    primary_only = table.select(
        *DIMS,
        F.when(F.col("count").between(1, 2), None).otherwise(F.col("count")).alias("count"),
        F.col("count").between(1, 2).alias("suppressed"),
    )
    problems = check_disclosure(primary_only, DIMS, marginal_totals(table, DIMS))
    assert any("over sex by county, age_band" in p and "recoverable" in p for p in problems)
    assert len(problems) == 3  # one per margin
    raw = check_disclosure(table, DIMS, None)
    assert raw[0] == "2 published cell(s) hold a count from 1 to 2 (small cells)"
    leaky = primary_only.withColumn("count", F.coalesce("count", F.lit(2)))
    assert any("still publish" in p for p in check_disclosure(leaky, DIMS))
    # Problems name columns and counts, never a county or a count value of a cell.
    assert not any(c in p for p in problems + raw for c in COUNTIES)


def test_small_published_totals_are_a_problem(spark):
    counts = spark.createDataFrame(
        [("臺北市", "1", 1), ("臺北市", "2", 0), ("新北市", "1", 9), ("新北市", "2", 8)],
        "county string, sex string, count long",
    )
    published = suppress_small_cells(counts, ["county", "sex"])
    # The zero is the only complement in its row: suppressed so that the 1 cannot be derived.
    assert [r["suppressed"] for r in published.orderBy("county", "sex").collect()] == [
        True, True, True, True,
    ]
    totals = marginal_totals(counts, ["county", "sex"])
    by = {(r["county"], r["sex"]): (r["count"], r["suppressed"]) for r in totals.collect()}
    assert by[("臺北市", None)] == (None, True)  # the total of 臺北市 is 1: withheld too
    unsafe = totals.withColumn("count", F.coalesce("count", F.lit(1)))
    problems = check_disclosure(published, ["county", "sex"], unsafe)
    assert any("published total(s)" in p for p in problems)


def test_suppression_flags_is_a_fixpoint():
    cells = [(a, b) for a in "xyz" for b in "pq"]
    counts = [1, 5, 4, 6, 9, 9]
    flags = suppression_flags(cells, counts, ["a", "b"])
    for pos in (0, 1):
        for value in {c[pos] for c in cells}:
            group = [f for c, f in zip(cells, flags, strict=True) if c[pos] == value]
            assert sum(group) != 1
    assert flags == [True, True, True, True, False, False]
