"""Open-data export: CSV with BOM, Parquet, data dictionary, manifest; atomic versions."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobs.opendata_export import BOM, current, export_open_data, version_folder
from tests.jobs.test_person_coverage import contract

D = dt.date
SCHEMA = "month date, county string, age_band string, sex string, persons long, suppressed boolean"
ROWS = [
    (D(2024, 10, 1), "臺北市", "20-24", "男", None, True),
    (D(2024, 10, 1), "臺北市", "20-24", "女", None, True),
    (D(2024, 10, 1), "新北市", "35-39", "女", 11, False),
    (D(2024, 10, 1), "不詳", "不詳", "不詳", 0, False),
    (D(2024, 9, 1), "新北市", 'a,"b"', "女", 10, False),  # quoting, as Excel reads it
]
TABLE = "insured_by_county_age_sex"


@pytest.fixture(scope="module")
def dc():
    return contract("opendata/insured_by_county_age_sex.yaml")


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def test_export_writes_a_complete_version_then_the_pointer(spark, dc, tmp_path):
    target = str(tmp_path / "opendata" / TABLE)
    df = spark.createDataFrame(ROWS, SCHEMA)
    meta = {"snapshot_date": "2024-11-15", "key_id": "2026-q3", "delta_version": 0}
    out = export_open_data(df, dc, target, "1", meta)
    folder = Path(version_folder(target, "1"))
    assert out.folder == str(folder) and out.rows == len(ROWS) and out.version == "1"
    names = [f"{TABLE}.csv", f"{TABLE}.parquet", "data_dictionary.md", "data_dictionary.json"]
    assert sorted(p.name for p in folder.iterdir()) == sorted([*names, "manifest.json"])
    assert [f.name for f in out.files] == names

    # CSV: UTF-8 with BOM, the contract's columns, rows in key order, empty = suppressed.
    raw = (folder / f"{TABLE}.csv").read_bytes()
    assert raw.startswith(BOM) and not raw[3:].startswith(BOM)
    parsed = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert parsed[0] == [c.name for c in dc.columns]
    by_key = sorted(ROWS, key=lambda r: (r[0], r[1], r[2], r[3]))
    assert parsed[1:] == [[_csv_text(v) for v in r] for r in by_key]

    # Parquet: the same rows and types.
    back = spark.read.parquet(str(folder / f"{TABLE}.parquet"))
    assertDataFrameEqual(back, df)
    assert back.schema.simpleString() == df.schema.simpleString()

    # Manifest: the digest and size of every file; metadata recorded.
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    for f in manifest["files"]:
        data = (folder / f["name"]).read_bytes()
        assert f["sha256"] == hashlib.sha256(data).hexdigest() and f["bytes"] == len(data)
    assert manifest["rows"] == len(ROWS) and manifest["metadata"] == meta
    assert manifest["contract_version"] == dc.version

    # Data dictionary from the contract.
    md = (folder / "data_dictionary.md").read_text("utf-8")
    assert md.startswith(f"# {dc.title}")
    for c in dc.columns:
        assert f"| {c.name} |" in md and c.description in md
    assert "from 1 to 2 is not published" in md
    doc = json.loads((folder / "data_dictionary.json").read_text("utf-8"))
    assert [c["name"] for c in doc["columns"]] == [c.name for c in dc.columns]

    pointer = current(spark, target)
    assert pointer is not None and pointer["version"] == "1" and pointer["folder"] == "versions/1"
    assert json.loads(Path(target, "latest.json").read_text("utf-8")) == pointer
    assert not list(Path(target, "_staging").glob("*"))  # work folders removed


def test_versions_are_immutable_and_a_failed_export_changes_nothing(spark, dc, tmp_path):
    target = str(tmp_path / TABLE)
    df = spark.createDataFrame(ROWS, SCHEMA)
    export_open_data(df, dc, target, "1")
    v1 = Path(version_folder(target, "1"), f"{TABLE}.csv").read_bytes()
    export_open_data(df.where("persons is not null"), dc, target, "2")
    assert current(spark, target)["version"] == "2"
    assert Path(version_folder(target, "1"), f"{TABLE}.csv").read_bytes() == v1  # kept as is

    with pytest.raises(FileExistsError, match="version 2 is already the published"):
        export_open_data(df, dc, target, "2")
    with pytest.raises(ValueError, match="invalid export version label"):
        export_open_data(df, dc, target, "../x")

    # A candidate that fails while being written: no version 3, the pointer still on 2.
    broken = df.withColumn(
        "county", F.when(F.col("persons") > 0, F.raise_error(F.lit("boom"))).otherwise(
            F.col("county")))  # fmt: skip
    with pytest.raises(Exception, match="boom"):
        export_open_data(broken, dc, target, "3")
    assert current(spark, target)["version"] == "2"
    assert not Path(version_folder(target, "3")).exists()
    assert not list(Path(target, "_staging").glob("*"))

    # A version folder the pointer does not name (an interrupted export) is replaced.
    leftover = Path(version_folder(target, "4"))
    leftover.mkdir(parents=True)
    (leftover / "partial.csv").write_text("x")
    export_open_data(df, dc, target, "4")
    assert current(spark, target)["version"] == "4"
    assert not (leftover / "partial.csv").exists() and (leftover / "manifest.json").exists()


def test_formats_come_from_the_contract(spark, dc, tmp_path):
    import dataclasses

    csv_only = dataclasses.replace(dc, options={**dc.options, "export": {"formats": ["csv"]}})
    out = export_open_data(spark.createDataFrame(ROWS, SCHEMA), csv_only, str(tmp_path), "1")
    assert [f.name for f in out.files] == [f"{TABLE}.csv", "data_dictionary.md",
                                           "data_dictionary.json"]  # fmt: skip
    bad = dataclasses.replace(dc, options={"export": {"formats": ["xlsx"]}})
    with pytest.raises(ValueError, match="formats must be among"):
        export_open_data(spark.createDataFrame(ROWS, SCHEMA), bad, str(tmp_path), "2")
