"""The periods index: covered on a day and since when, per scheme, from a published version of
gold.coverage_periods (a real Delta table), including digests that share their first word."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import CommitProperties, write_deltalake

from analytics import catalog
from services.periods import CoverageUnavailable, PeriodsSource

SNAP = date(2026, 11, 30)
A = "0123456789abcdef" + "0" * 48
B = "0123456789abcdef" + "f" * 48   # the same first word as A
C = "f" * 64


def _publish(root: Path, rows: list[tuple[str, str, date, date | None]],
             meta: dict | None = None) -> None:
    table = pa.table({
        "person_key": [r[0] for r in rows], "scheme": [r[1] for r in rows],
        "start_date": pa.array([r[2] for r in rows], pa.date32()),
        "end_date": pa.array([r[3] for r in rows], pa.date32()),
        "snapshot_date": pa.array([SNAP] * len(rows), pa.date32())})
    props = CommitProperties(custom_metadata={"userMetadata": json.dumps(
        {"key_id": "k-test", "snapshot_date": SNAP.isoformat()} if meta is None else meta)})
    write_deltalake(catalog.table_uri(str(root), "gold", "coverage_periods"), table,
                    mode="overwrite", commit_properties=props)


ROWS = [
    (A, "labor", date(2019, 1, 1), date(2022, 5, 1)),
    (A, "labor", date(2023, 2, 1), None),
    (B, "labor", date(2022, 1, 1), date(2022, 3, 1)),
    (B, "nhi", date(2010, 1, 1), None),
    (C, "pension", date(2026, 1, 1), date(2026, 4, 1)),
]


@pytest.mark.parametrize(("key", "scheme", "day", "insured", "since", "on"), [
    (A, "labor", date(2020, 6, 1), True, date(2019, 1, 1), date(2020, 6, 1)),
    (A, "labor", date(2022, 5, 1), False, None, date(2022, 5, 1)),   # end is exclusive
    (A, "labor", date(2022, 4, 30), True, date(2019, 1, 1), date(2022, 4, 30)),
    (A, "labor", date(2027, 1, 1), True, date(2023, 2, 1), SNAP),    # after the snapshot
    (A, "nhi", date(2020, 6, 1), False, None, date(2020, 6, 1)),
    (B, "labor", date(2022, 2, 1), True, date(2022, 1, 1), date(2022, 2, 1)),
    (B, "labor", date(2020, 6, 1), False, None, date(2020, 6, 1)),   # A's period, not B's
    (B, "nhi", date(2010, 1, 1), True, date(2010, 1, 1), date(2010, 1, 1)),
    (C, "pension", date(2026, 3, 31), True, date(2026, 1, 1), date(2026, 3, 31)),
    ("e" * 64, "labor", date(2020, 6, 1), False, None, date(2020, 6, 1)),
])
def test_covered_on_a_day_and_since_when(tmp_path, key, scheme, day, insured, since, on):
    _publish(tmp_path, ROWS)
    got = PeriodsSource(str(tmp_path)).latest().answer(key, scheme, day)
    assert (got.insured, got.since, got.on) == (insured, since, on)


def test_a_new_version_is_swapped_in_by_refresh(tmp_path):
    _publish(tmp_path, ROWS)
    source = PeriodsSource(str(tmp_path))
    first = source.latest()
    assert (first.version, first.key_id, first.periods, source.refresh()) == (0, "k-test", 5,
                                                                               False)
    _publish(tmp_path, [*ROWS, (C, "labor", date(2026, 11, 1), None)])
    assert source.refresh() is True
    assert (source.latest().version, source.latest().periods) == (1, 6)
    assert source.latest().answer(C, "labor", SNAP).insured is True
    assert first.answer(C, "labor", SNAP).insured is False   # a held version never changes


def test_unpublished_or_unmarked_versions_are_unavailable(tmp_path):
    with pytest.raises(CoverageUnavailable, match=r"gold\.coverage_periods has not been published"):
        PeriodsSource(str(tmp_path)).latest()
    _publish(tmp_path, ROWS, meta={"run_id": "x"})
    with pytest.raises(CoverageUnavailable, match="names no snapshot date or key id"):
        PeriodsSource(str(tmp_path)).latest()
    _publish(tmp_path, [("not-hex", "labor", date(2020, 1, 1), None)])
    with pytest.raises(CoverageUnavailable, match="not 64 hex digits"):
        PeriodsSource(str(tmp_path)).latest()
