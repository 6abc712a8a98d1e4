"""The layout floor (``python -m bench.floor``) on a tiny delivery: not a measurement, a check
that it writes the three tables it claims to time, whole, and reports every figure."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from deltalake import DeltaTable

from bench import floor
from bench import pipeline as bp


def test_layout_floor_writes_bronze_silver_and_gold_whole(spark, tmp_path: Path):
    d = bp.generate(tmp_path / "src", 120, 7, datetime.date(2024, 11, 1))
    seconds = floor.layout_floor(spark, d.full, tmp_path / "t")
    assert seconds > 0
    rows = {name: DeltaTable(str(tmp_path / "t" / name)).to_pyarrow_table()
            for name in ("bronze", "silver", "gold")}
    # Every delivered record in each table (the generator's count, an independent figure).
    assert {name: t.num_rows for name, t in rows.items()} == dict.fromkeys(rows, d.full_rows)
    assert rows["bronze"].column_names == rows["silver"].column_names
    assert rows["bronze"].column_names[-2:] == ["_batch_id", "_source_row"]
    assert rows["gold"].column_names[0] == "person_key"
    assert len(rows["gold"].column_names) == 5
    assert all(len(k) == 64 for k in rows["gold"].column("person_key").to_pylist())


def test_run_reports_every_figure_against_the_bare_conversion(spark, tmp_path: Path):
    js, md, _ = floor.run(150, 1, tmp_path / "out", "smoke", work=tmp_path / "w",
                               spark=spark)
    doc = json.loads(js.read_text(encoding="utf-8"))
    assert doc["persons"] == 150 and doc["repeat"] == 1 and doc["records"] >= 150
    for key in ("bare", "read_only", "floor"):
        assert len(doc["runs"][key]) == 1 and doc["medians"][key] > 0, key
        assert doc["ratios"][key] == pytest.approx(doc["medians"][key] / doc["medians"]["bare"])
    assert doc["target"] == floor.TARGET
    assert doc["machine"]["cpus"] and "other_processes_cpu_seconds" in doc["machine_load"]
    page = md.read_text(encoding="utf-8")
    assert f"| {doc['ratios']['floor']:.2f} |" in page
    assert not (tmp_path / "w" / "tables").exists()  # the scratch tables are removed


def test_main_refuses_a_size_that_measures_nothing():
    with pytest.raises(SystemExit):
        floor.main(["--persons", "0"])
