"""The performance check of ``lakehouse query`` (``python -m bench.query``), on a small table."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import query
from kernel import contracts
from kernel.twid import AGE_BANDS, COUNTIES


def test_the_synthetic_table_has_the_contract_columns_and_real_values() -> None:
    table = query.person_coverage(3000)
    dc = contracts.dataset("gold.person_coverage")
    assert table.column_names == [c.name for c in dc.columns]
    assert set(table["county"].drop_null().to_pylist()) <= set(COUNTIES)
    assert set(table["age_band"].to_pylist()) <= set(AGE_BANDS)
    assert query.person_coverage(3000).equals(table)  # seeded: the same table


def test_a_small_run_times_the_command_and_checks_its_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert query.COMMAND[1:] == ["-m", "cli.main", "query"]
    code = query.main(["--rows", "2000", "--repeat", "1", "--budget", "120",
                       "--root", str(tmp_path)])
    out = capsys.readouterr().out
    assert "result matches the pyarrow aggregate" in out, out
    assert code == 0
    assert (tmp_path / "gold" / "person_coverage" / "_delta_log").is_dir()
