"""The disclosure gate at publish, failing: an open-data candidate whose small cells were
suppressed without their complementary cells (a defect in the transform) is refused, with the
number of recoverable totals per margin, and nothing is published or exported."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs import insured_by_county
from kernel import contracts
from masking.disclosure import SUPPRESSED, default_margins
from sandbox.generate import generate
from stages.feed import run_feed
from stages.publish import publish

KEY = "disclosure-test-key-0123456789-abcdefghij"
SNAPSHOT = dt.date(2024, 12, 1)


def primary_only(counts: DataFrame, dims, count_col="count", low=1, high=2,  # type: ignore[no-untyped-def]
                 margins=None) -> DataFrame:
    """The defect: small cells withheld, no complementary suppression."""
    small = F.col(count_col).between(low, high)
    return counts.withColumn(SUPPRESSED, small).withColumn(
        count_col, F.when(small, F.lit(None)).otherwise(F.col(count_col)))


def recoverable(rows: list[dict], dims: list[str]) -> dict[tuple[str, ...], int]:  # type: ignore[type-arg]
    """Per margin (the dimensions a published total is grouped by), the groups holding exactly
    one suppressed cell: each such cell is its total minus the published cells."""
    out = {}
    for margin in default_margins(dims):
        per_group = Counter(tuple(r[d] for d in margin) for r in rows if r[SUPPRESSED])
        n = sum(1 for k in per_group if per_group[k] == 1)
        if n:
            out[margin] = n
    return out


def test_a_candidate_with_recoverable_suppressed_cells_is_refused(ctx, root, monkeypatch):
    dc = contracts.dataset("opendata.insured_by_county_age_sex")
    generate(Path(root), feeds=list(dc.inputs), persons=60, seed=9, days=1)
    for name in dc.inputs:
        run_feed(ctx, contracts.feed(name))
    monkeypatch.setenv("LAKEHOUSE_PSEUDONYM_KEY", KEY)
    monkeypatch.setattr(insured_by_county, "suppress_small_cells", primary_only)
    from stages.publish import silver_inputs, transform

    dims = list(dc.options["disclosure"]["dimensions"])
    candidate = transform(dc)(silver_inputs(ctx, dc), SNAPSHOT, dc)
    expected = recoverable([r.asDict() for r in candidate.collect()], dims)
    assert expected  # the defect leaves cells recoverable on this population

    res = publish(ctx, dc, SNAPSHOT)
    assert res.status == "refused"
    assert [p.reason for p in res.problems] == [
        f"disclosure gate: {n} published total(s) over "
        f"{', '.join(d for d in dims if d not in m)} by {', '.join(m)} have exactly one "
        "suppressed cell: recoverable by subtraction" for m, n in sorted(expected.items())]
    assert [(p.feed, p.file) for p in res.problems] == [(dc.name, "persons")] * len(expected)
    assert not ctx.storage.exists(dc.zone, dc.table)
    assert not (Path(root) / "opendata" / "files").exists()
