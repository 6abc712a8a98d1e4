"""The small-cell rule in plain Python (masking.smallcells): which cells are suppressed, and the
exact problems the disclosure gate reports. No Spark: these are the tests ``make mutation``
runs against the module."""

from __future__ import annotations

import re

from masking.smallcells import (
    SUPPRESSED,
    default_margins,
    disclosure_problems,
    sort_key,
    suppression_flags,
)

DIMS = ["county", "sex"]


def _rows(counts: dict[tuple[str, str], int | None], flags: dict[tuple[str, str], bool] | None
          = None) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for (county, sex), n in counts.items():
        row: dict[str, object] = {"county": county, "sex": sex, "count": n}
        if flags is not None:
            row[SUPPRESSED] = flags[(county, sex)]
        rows.append(row)
    return rows


def test_default_margins_are_the_totals_over_each_dimension() -> None:
    assert default_margins(["a", "b", "c"]) == [("b", "c"), ("a", "c"), ("a", "b")]
    assert default_margins(["a"]) == [()]
    assert default_margins([]) == []


def test_sort_key_orders_nulls_first_and_any_type_by_text() -> None:
    assert sort_key([None, 1]) == ((False, ""), (True, "1"))
    values = [("b", 2), (None, 1), ("a", None), ("a", 10)]
    assert sorted(values, key=sort_key) == [(None, 1), ("a", None), ("a", 10), ("b", 2)]


def test_primary_suppression_bounds_are_inclusive() -> None:
    cells = [("x", str(i)) for i in range(5)]
    # One group per cell over sex (each county once) would force complements: use one margin,
    # the grand total, whose group holds all five cells.
    flags = suppression_flags(cells, [0, 1, 2, 3, 4], DIMS, margins=[()])
    assert flags == [False, True, True, False, False]
    assert suppression_flags(cells, [0, 1, 2, 3, 4], DIMS, margins=[()], low=2, high=3) == [
        False, False, True, True, False]


def test_a_lone_suppressed_cell_takes_the_smallest_non_zero_complement() -> None:
    cells = [("x", "1"), ("x", "2"), ("x", "3"), ("x", "4")]
    assert suppression_flags(cells, [1, 0, 7, 5], DIMS, margins=[("county",)]) == [
        True, False, False, True]
    # Ties go to the first cell in dimension order.
    assert suppression_flags(cells, [2, 6, 6, 9], DIMS, margins=[("county",)]) == [
        True, True, False, False]
    # A zero only when the group has no other unsuppressed cell.
    assert suppression_flags(cells[:2], [1, 0], DIMS, margins=[("county",)]) == [True, True]


def test_a_group_of_one_cannot_be_protected_and_is_left_alone() -> None:
    assert suppression_flags([("x", "1")], [1], DIMS, margins=[("county",)]) == [True]
    assert suppression_flags([("x", "1")], [5], DIMS) == [False]


def test_complements_propagate_across_margins_until_a_fixpoint() -> None:
    cells = [(a, b) for a in "xyz" for b in "pq"]
    flags = suppression_flags(cells, [1, 5, 4, 6, 9, 9], DIMS)
    assert flags == [True, True, True, True, False, False]
    # Two small cells in one group protect each other: no complement needed in that group,
    # but each column still needs one.
    flags = suppression_flags(cells, [1, 2, 4, 6, 9, 9], DIMS)
    assert flags == [True, True, True, True, False, False]
    assert suppression_flags(cells, [5, 5, 4, 6, 9, 9], DIMS) == [False] * 6


def test_a_clean_table_has_no_problem() -> None:
    counts = {("x", "1"): 5, ("x", "2"): 6, ("y", "1"): 7, ("y", "2"): 8}
    assert disclosure_problems(_rows(counts), DIMS) == []
    assert disclosure_problems(_rows(counts, dict.fromkeys(counts, False)), DIMS) == []


def test_small_cells_are_counted_at_both_bounds() -> None:
    counts = {("x", "1"): 1, ("x", "2"): 2, ("y", "1"): 3, ("y", "2"): 0}
    problems = disclosure_problems(_rows(counts), DIMS)
    assert problems == ["2 published cell(s) hold a count from 1 to 2 (small cells)"]
    problems = disclosure_problems(_rows(counts), DIMS, count_col="count", low=2, high=3)
    assert problems == ["2 published cell(s) hold a count from 2 to 3 (small cells)"]


def test_a_flagged_cell_that_shows_its_count() -> None:
    counts: dict[tuple[str, str], int | None] = {
        ("x", "1"): 9, ("x", "2"): None, ("y", "1"): 3, ("y", "2"): None}
    flags = {("x", "1"): True, ("x", "2"): True, ("y", "1"): True, ("y", "2"): True}
    assert disclosure_problems(_rows(counts, flags), DIMS) == [
        "2 cell(s) flagged suppressed still publish a count"]


def test_without_a_flag_a_null_count_is_the_suppressed_cell() -> None:
    counts: dict[tuple[str, str], int | None] = {
        ("x", "1"): None, ("x", "2"): 6, ("y", "1"): 7, ("y", "2"): 8}
    assert disclosure_problems(_rows(counts), DIMS) == [  # margins in order: (county,), (sex,)
        "1 published total(s) over sex by county have exactly one suppressed cell: "
        "recoverable by subtraction",
        "1 published total(s) over county by sex have exactly one suppressed cell: "
        "recoverable by subtraction",
    ]
    # The same table with the flag column: the flag decides, not the null.
    flags = {("x", "1"): False, ("x", "2"): False, ("y", "1"): False, ("y", "2"): False}
    assert disclosure_problems(_rows(counts, flags), DIMS) == []


def test_published_totals_decide_what_is_recoverable() -> None:
    counts: dict[tuple[str, str], int | None] = {
        ("x", "1"): None, ("x", "2"): 6, ("y", "1"): None, ("y", "2"): 8}
    rows = _rows(counts)
    by_sex = [{"county": None, "sex": "1", "count": 12}, {"county": None, "sex": "2", "count": 14}]
    by_county = [{"county": "x", "sex": None, "count": 7}, {"county": "y", "sex": None,
                                                           "count": None}]
    grand = [{"county": None, "sex": None, "count": 26}]
    # Column totals: two suppressed cells in sex 1, none alone. Row total of x: recoverable;
    # the row total of y is withheld (null).
    assert disclosure_problems(rows, DIMS, by_sex + by_county) == [
        "1 published total(s) over sex by county have exactly one suppressed cell: "
        "recoverable by subtraction"]
    assert disclosure_problems(rows, DIMS, by_sex) == []
    assert disclosure_problems(rows, DIMS, []) == []
    # The grand total alone: two suppressed cells in the whole table, not one.
    assert disclosure_problems(rows, DIMS, grand) == []
    one = _rows({("x", "1"): None, ("x", "2"): 6, ("y", "1"): 5, ("y", "2"): 8})
    assert disclosure_problems(one, DIMS, grand) == [
        "1 published total(s) over county, sex by the whole table have exactly one "
        "suppressed cell: recoverable by subtraction"]


def test_small_published_totals_are_counted() -> None:
    rows = _rows({("x", "1"): 5, ("x", "2"): 6, ("y", "1"): 7, ("y", "2"): 8})
    totals = [{"county": "x", "sex": None, "count": 1}, {"county": "y", "sex": None, "count": 2},
              {"county": None, "sex": "1", "count": 3}, {"county": None, "sex": "2", "count": 0}]
    assert disclosure_problems(rows, DIMS, totals) == [
        "2 published total(s) hold a count from 1 to 2"]


def test_recoverable_groups_are_counted_per_margin_in_order() -> None:
    cells = {(c, s): 10 for c in "xyz" for s in "12"}
    cells.update({("x", "1"): None, ("y", "2"): None})  # type: ignore[dict-item]
    problems = disclosure_problems(_rows(cells), DIMS)  # type: ignore[arg-type]
    assert problems == [
        "2 published total(s) over sex by county have exactly one suppressed cell: "
        "recoverable by subtraction",
        "2 published total(s) over county by sex have exactly one suppressed cell: "
        "recoverable by subtraction",
    ]
    # A problem never names a value of a cell.
    assert not any(re.search(r"\b[xyz1]\b|10", p.removeprefix("2 ")) for p in problems)


def test_every_problem_at_once_in_order() -> None:
    counts: dict[tuple[str, str], int | None] = {
        ("x", "1"): 1, ("x", "2"): 4, ("y", "1"): 5, ("y", "2"): 8}
    flags = {("x", "1"): False, ("x", "2"): True, ("y", "1"): False, ("y", "2"): False}
    totals = [{"county": "x", "sex": None, "count": 2}]
    assert disclosure_problems(_rows(counts, flags), DIMS, totals) == [
        "1 published cell(s) hold a count from 1 to 2 (small cells)",
        "1 cell(s) flagged suppressed still publish a count",
        "1 published total(s) hold a count from 1 to 2",
        "1 published total(s) over sex by county have exactly one suppressed cell: "
        "recoverable by subtraction",
    ]
