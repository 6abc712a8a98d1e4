"""The known issues: their rates, and the one counter, repeat queue and duplicate injector every
writer uses."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from sandbox.generate.household import DeliveryReport
from sandbox.generate.issues import (
    RESERVOIR,
    Duplicator,
    IssueCounter,
    IssueRates,
    Repeats,
)


class _File:
    """A delivery file that keeps what was written."""

    def __init__(self) -> None:
        self.rows: list[str] = []

    def write(self, row: str) -> None:
        self.rows.append(row)


def test_issue_rates_parse() -> None:
    rates = IssueRates.parse(["fullwidth_id=0.05", " tai_variant = 0.5"])
    assert rates.fullwidth_id == 0.05 and rates.tai_variant == 0.5
    assert rates.padded_spaces == IssueRates().padded_spaces
    assert IssueRates.parse([], base=IssueRates.none()) == IssueRates.none()
    for bad in (["nope=0.1"], ["fullwidth_id"], ["fullwidth_id=x"], ["fullwidth_id=1.5"]):
        with pytest.raises(ValueError):
            IssueRates.parse(bad)
    assert IssueRates().invalid_check_digit == 0.002
    assert set(IssueRates.kinds()) >= {
        "fullwidth_id", "padded_spaces", "six_digit_date", "impossible_date", "duplicate_within",
        "duplicate_across", "tai_variant", "invalid_check_digit", "eudc_name",
    }  # fmt: skip


def test_the_counter_draws_once_per_row_and_counts_the_eligible() -> None:
    rates = IssueRates.parse(["fullwidth_id=0.5", "tai_variant=0"])
    counter = IssueCounter(rates)
    rng, mirror = random.Random(3), random.Random(3)
    hits = [counter.hit("fullwidth_id", rng) for _ in range(400)]
    assert hits == [mirror.random() < 0.5 for _ in range(400)]  # one draw per row, in order
    assert counter.issues["fullwidth_id"] == sum(hits) and counter.eligible["fullwidth_id"] == 400
    assert not counter.hit("fullwidth_id", rng, eligible=False)  # drawn, but not counted
    mirror.random()
    assert rng.random() == mirror.random() and counter.eligible["fullwidth_id"] == 400
    assert not any(counter.hit("tai_variant", rng) for _ in range(50))
    assert counter.eligible["tai_variant"] == 50 and "tai_variant" not in counter.issues
    assert counter.count("eudc_name", True) and not counter.count("eudc_name", False)
    assert (counter.issues["eudc_name"], counter.eligible["eudc_name"]) == (1, 2)


def test_the_counter_counts_into_a_report() -> None:
    report = DeliveryReport(feed="x.y")
    counter = IssueCounter(IssueRates(), report)
    counter.count("name_cut", True)
    counter.count("name_cut", False)
    assert report.issues == Counter(name_cut=1) and report.eligible == Counter(name_cut=2)


def test_repeats_come_after_their_fresh_rows_in_order() -> None:
    later: Repeats[str] = Repeats()
    out: list[str] = []
    for i, after in enumerate((3, 1, None, None, None, 2)):
        out.append(f"r{i}")
        later.fresh_row()
        if after is not None:
            later.repeat(f"r{i}", after)
        out += later.due()
    out += later.rest()
    assert out == ["r0", "r1", "r2", "r1", "r3", "r0", "r4", "r5", "r5"]


def test_the_duplicator_repeats_within_and_across_files() -> None:
    rates = IssueRates.parse(["duplicate_within=0.2", "duplicate_across=0.2"])
    report = DeliveryReport(feed="x.y")
    counter = IssueCounter(rates, report)
    dup: Duplicator[str] = Duplicator(counter)
    rng = random.Random(11)
    fresh = RESERVOIR + 200
    files: list[list[str]] = []
    for day in range(3):
        out = _File()
        dup.start_file()
        for i in range(fresh):
            dup.emit(out, f"{day}:{i}", rng)
        dup.end_file(out)
        files.append(out.rows)
        if day == 0:  # the first file: repeats of its own rows only
            first = Counter(out.rows)
            assert set(first) == {f"0:{i}" for i in range(fresh)}
            assert len(out.rows) - fresh == report.issues["duplicate_within"] > 0
            assert report.eligible["duplicate_across"] == 0
    assert report.eligible["duplicate_across"] == 2 * fresh
    across = sum(1 for day, rows in enumerate(files) for r in rows
                 if not r.startswith(f"{day}:"))
    assert across == report.issues["duplicate_across"] > 0
    assert sum(map(len, files)) == 3 * fresh + sum(report.issues.values())
    assert len(dup.sample) == RESERVOIR
