"""Small Delta tables read into Python by deltalake: rows, columns, timestamps, no table."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
from deltalake import write_deltalake

from kernel.delta_rows import open_table, read_rows

AT = datetime(2024, 11, 5, 8, 30, tzinfo=UTC)


def _table(tmp_path: Path) -> str:
    uri = str(tmp_path / "t")
    data = pa.table({"feed": ["a", "b"], "n": [1, 2],
                     "at": pa.array([AT, AT], pa.timestamp("us", tz="UTC"))})
    write_deltalake(uri, data)
    return uri


def test_rows_of_a_table_with_aware_or_naive_utc_timestamps(tmp_path: Path) -> None:
    uri = _table(tmp_path)
    assert read_rows(uri) == [{"feed": "a", "n": 1, "at": AT}, {"feed": "b", "n": 2, "at": AT}]
    naive = read_rows(uri, ["feed", "at"], naive_utc=True)
    assert naive == [{"feed": f, "at": AT.replace(tzinfo=None)} for f in "ab"]


def test_no_table_reads_as_no_rows(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert open_table(str(tmp_path / "empty")) is None
    assert read_rows(str(tmp_path / "missing")) == []
    assert open_table(_table(tmp_path)) is not None
