"""The small-cell rule of ``datasets.md`` in plain Python: which cells to suppress, and what a
table about to be published still discloses.

No Spark here (:mod:`masking.disclosure` collects the aggregate and calls these), so the rule is
tested, and mutation-tested (``make mutation``), on plain tuples and dicts.

A count from ``low`` to ``high`` (1 to 2) is suppressed, and the suppression must not be undone by
subtraction from a published total: a group of cells whose total is published must not hold
exactly one suppressed cell. "Groups" are the margins a reader can sum over
(:func:`default_margins`: for each dimension, its total for every combination of the others).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

SUPPRESSED = "suppressed"
"""The flag column: true when the count is withheld."""

Margin = tuple[str, ...]


def default_margins(dims: Sequence[str]) -> list[Margin]:
    """For each dimension, the group-by of its total: all the other dimensions."""
    return [tuple(d for d in dims if d != x) for x in dims]


def sort_key(values: Sequence[Any]) -> tuple[tuple[bool, str], ...]:
    """A total order over dimension values of any type (nulls first)."""
    return tuple((v is not None, "" if v is None else str(v)) for v in values)


def _groups(
    cells: Sequence[tuple[Any, ...]], dims: Sequence[str], margin: Margin
) -> list[list[int]]:
    """Indices of ``cells`` (tuples of the dimension values) grouped by ``margin``, in a
    deterministic order."""
    pos = [list(dims).index(d) for d in margin]
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i, cell in enumerate(cells):
        groups[tuple(cell[p] for p in pos)].append(i)
    return [groups[k] for k in sorted(groups, key=sort_key)]


def suppression_flags(
    cells: Sequence[tuple[Any, ...]],
    counts: Sequence[int],
    dims: Sequence[str],
    margins: Sequence[Margin] | None = None,
    low: int = 1,
    high: int = 2,
) -> list[bool]:
    """Which cells to suppress (plain Python): primary (``low <= count <= high``), then
    complementary until no group of ``margins`` has exactly one suppressed cell.

    The complement of a group is its smallest unsuppressed non-zero cell (ties: the first in
    dimension order); a zero cell only when the group has no other. A group of one cell cannot be
    protected by suppressing cells: its total must not be published (the gate reports it).
    """
    suppressed = [low <= c <= high for c in counts]
    order = sorted(range(len(cells)), key=lambda i: sort_key(cells[i]))
    rank = {i: r for r, i in enumerate(order)}
    chosen = default_margins(dims) if margins is None else margins
    groups = [g for m in chosen for g in _groups(cells, dims, tuple(m))]
    changed = True
    while changed:
        changed = False
        for group in groups:
            if sum(suppressed[i] for i in group) != 1:
                continue
            free = [i for i in group if not suppressed[i]]
            candidates = [i for i in free if counts[i] > 0] or free
            if candidates:
                pick = min(candidates, key=lambda i: (counts[i], rank[i]))
                suppressed[pick] = True
                changed = True
    return suppressed


def disclosure_problems(
    rows: Sequence[Mapping[str, Any]],
    dims: Sequence[str],
    totals: Sequence[Mapping[str, Any]] | None = None,
    count_col: str = "count",
    low: int = 1,
    high: int = 2,
) -> list[str]:
    """The disclosure gate on collected rows (one mapping per cell; ``totals`` one per published
    total, the dimensions summed over null): the problems, empty when the table passes.

    Problems: a published count from ``low`` to ``high``; a cell flagged :data:`SUPPRESSED` that
    still shows a count; a published total from ``low`` to ``high``; and a group with exactly
    one suppressed cell whose total is published (recoverable by subtraction). Without a
    :data:`SUPPRESSED` column a null count is the suppressed cell. A null total is withheld, any
    other is published. Without ``totals`` the totals over each dimension are assumed
    published (fail closed). A problem names columns and counts, never a value.
    """
    has_flag = any(SUPPRESSED in r for r in rows)
    flags = [bool(r[SUPPRESSED]) if has_flag else r[count_col] is None for r in rows]
    problems: list[str] = []
    small = sum(1 for r in rows if r[count_col] is not None and low <= r[count_col] <= high)
    if small:
        problems.append(
            f"{small} published cell(s) hold a {count_col} from {low} to {high} (small cells)"
        )
    shown = sum(1 for r, f in zip(rows, flags, strict=True)
                if has_flag and f and r[count_col] is not None)
    if shown:
        problems.append(f"{shown} cell(s) flagged {SUPPRESSED} still publish a {count_col}")
    cells = [tuple(r[d] for d in dims) for r in rows]
    groups, small_totals = _published_groups(cells, dims, totals, count_col, low, high)
    if small_totals:
        problems.append(
            f"{small_totals} published total(s) hold a {count_col} from {low} to {high}"
        )
    for m, n in sorted(_recoverable(cells, flags, dims, groups).items()):
        over = [d for d in dims if d not in m] or ["nothing"]
        by = ", ".join(m) if m else "the whole table"
        problems.append(
            f"{n} published total(s) over {', '.join(over)} by {by} have exactly one "
            "suppressed cell: recoverable by subtraction"
        )
    return problems


def _published_groups(
    cells: Sequence[tuple[Any, ...]],
    dims: Sequence[str],
    totals: Sequence[Mapping[str, Any]] | None,
    count_col: str,
    low: int,
    high: int,
) -> tuple[list[tuple[Margin, tuple[Any, ...]]], int]:
    """(margin, group key) of every published total, and how many of them are small."""
    published: list[tuple[Margin, tuple[Any, ...]]] = []
    if totals is None:
        for m in default_margins(dims):
            for g in _groups(cells, dims, m):
                published.append((m, tuple(cells[g[0]][list(dims).index(d)] for d in m)))
        return published, 0
    small = 0
    for t in totals:
        if t[count_col] is None:  # withheld (whatever a flag says, no count is published)
            continue
        if low <= t[count_col] <= high:
            small += 1
        m = tuple(d for d in dims if t.get(d) is not None)
        published.append((m, tuple(t[d] for d in m)))
    return published, small


def _recoverable(
    cells: Sequence[tuple[Any, ...]],
    flags: Sequence[bool],
    dims: Sequence[str],
    published: Sequence[tuple[Margin, tuple[Any, ...]]],
) -> dict[Margin, int]:
    """Per margin, the published totals whose group holds exactly one suppressed cell."""
    index: dict[Margin, dict[tuple[Any, ...], list[int]]] = {}
    recoverable: dict[Margin, int] = defaultdict(int)
    for m, key in published:
        if m not in index:
            pos = [list(dims).index(d) for d in m]
            by_key: dict[tuple[Any, ...], list[int]] = defaultdict(list)
            for i, cell in enumerate(cells):
                by_key[tuple(cell[p] for p in pos)].append(i)
            index[m] = by_key
        if sum(flags[i] for i in index[m].get(key, [])) == 1:
            recoverable[m] += 1
    return recoverable
