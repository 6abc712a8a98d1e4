"""Splicing a version's Parquet files into one download, checked by reading it back."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from services import parquet_splice
from services import thrift_compact as tc

META = {"lakehouse.dataset": "gold.t", "lakehouse.version": "3"}


def rows(n: int, first: int = 0) -> pa.Table:
    ids = range(first, first + n)
    return pa.table({"key": [f"{i:064x}" for i in ids],
                     "county": [("臺北市", "花蓮縣", None)[i % 3] for i in ids],
                     "n": pa.array(list(ids), pa.int64()),
                     "flag": [i % 2 == 0 for i in ids]})


def files(folder: Path, parts: list[tuple[pa.Table, dict[str, object]]]) -> list[ds.Fragment]:
    """Write each part as its own Parquet file (with its writer options), the fragments in
    order."""
    folder.mkdir()
    for i, (table, options) in enumerate(parts):
        pq.write_table(table, folder / f"part-{i}.parquet", **options)  # type: ignore[arg-type]
    data = ds.dataset(str(folder), format="parquet")
    return sorted(data.get_fragments(), key=lambda f: f.path)


def spliced(fragments: list[ds.Fragment], schema: pa.Schema) -> tuple[bytes, int]:
    plan = parquet_splice.plan(schema, fragments, META, min_group_bytes=0)
    assert plan is not None
    return b"".join(parquet_splice.chunks(plan)), plan.size


def test_the_files_row_groups_read_back_as_one_file(tmp_path: Path) -> None:
    parts = [(rows(2500), {"row_group_size": 1000, "write_page_index": True}),
             (rows(700, 2500), {"row_group_size": 1000, "write_page_index": True}),
             (rows(1800, 3200), {"row_group_size": 1000, "write_page_index": True})]
    fragments = files(tmp_path / "t", parts)
    data, size = spliced(fragments, parts[0][0].schema)
    assert len(data) == size
    assert data[:4] == data[-4:] == b"PAR1"
    whole = pa.concat_tables([p for p, _ in parts])
    back = pq.read_table(io.BytesIO(data))
    assert back.equals(whole.replace_schema_metadata(back.schema.metadata))
    assert back.schema.metadata == {k.encode(): v.encode() for k, v in META.items()}
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [
        1000, 1000, 500, 700, 1000, 800]
    # every row group reads alone (its offsets moved), statistics included
    last = pq.ParquetFile(io.BytesIO(data)).read_row_group(5)
    assert last["n"].to_pylist() == list(range(4200, 5000))
    assert meta.row_group(3).column(2).statistics.min == 2500
    # another engine reads it too
    path = tmp_path / "spliced.parquet"
    path.write_bytes(data)
    got = duckdb.sql(f"SELECT count(*), sum(n), count(county) FROM '{path}'").fetchall()
    assert got == [(5000, sum(range(5000)), len(whole["county"].drop_null()))]


def test_the_same_files_give_the_same_bytes(tmp_path: Path) -> None:
    parts = [(rows(300), {}), (rows(300, 300), {})]
    fragments = files(tmp_path / "t", parts)
    assert spliced(fragments, parts[0][0].schema) == spliced(fragments, parts[0][0].schema)


def test_files_that_disagree_are_not_spliced(tmp_path: Path) -> None:
    table = rows(200)
    schema = table.schema
    cases = {
        "schema": [(table, {}), (table.drop_columns(["flag"]), {})],
        "nullability": [(table, {}), (table.cast(pa.schema(
            [f.with_nullable(f.name != "n") for f in schema])), {})],
        "writer": [(table, {}), (table, {})],
    }
    for name, parts in cases.items():
        fragments = files(tmp_path / name, parts)
        if name == "writer":
            rewrite_created_by(Path(fragments[1].path), b"parquet-mr version 1.13.1")
        assert parquet_splice.plan(schema, fragments, META, min_group_bytes=0) is None, name
    same = files(tmp_path / "same", [(table, {}), (table, {})])
    assert parquet_splice.plan(schema, same, META, min_group_bytes=0) is not None


def rewrite_created_by(path: Path, writer: bytes) -> None:
    """Give a Parquet file another writer name (its footer decoded, changed, written again)."""
    data = path.read_bytes()
    length = struct.unpack("<I", data[-8:-4])[0]
    fields, _ = tc.decode(data[-8 - length:-8])
    fields = [tc.Field(6, tc.BINARY, writer) if f.fid == 6 else f for f in fields]
    footer = tc.encode(fields)
    path.write_bytes(data[:-8 - length] + footer + struct.pack("<I", len(footer)) + b"PAR1")
    assert pq.ParquetFile(path).metadata.created_by == writer.decode()


def test_a_file_read_as_another_type_is_not_spliced(tmp_path: Path) -> None:
    table = rows(100)
    fragments = files(tmp_path / "t", [(table, {})])
    wider = table.schema.set(2, pa.field("n", pa.decimal128(20, 0)))
    assert parquet_splice.plan(wider, fragments, META, min_group_bytes=0) is None
    assert parquet_splice.plan(table.schema, [], META, min_group_bytes=0) is None


def test_tiny_row_groups_are_left_to_the_encoder(tmp_path: Path) -> None:
    table = rows(100)
    fragments = files(tmp_path / "t", [(table, {}), (rows(100, 100), {})])
    assert parquet_splice.plan(table.schema, fragments, META) is None
    assert parquet_splice.plan(table.schema, fragments, META, min_group_bytes=1) is not None


def test_a_file_that_is_not_parquet_is_not_spliced(tmp_path: Path) -> None:
    table = rows(100)
    fragments = files(tmp_path / "t", [(table, {})])
    path = Path(fragments[0].path)
    good = path.read_bytes()
    path.write_bytes(good[:-4] + b"PARE")  # an encrypted footer's magic
    assert parquet_splice.plan(table.schema, fragments, META, min_group_bytes=0) is None


def test_a_table_spark_wrote_is_spliced_to_its_rows(spark: object, tmp_path: Path) -> None:
    """The pipeline's gold tables are written by Spark (parquet-mr, with page indexes): their
    files splice, and the download reads back as the rows Spark wrote."""
    from deltalake import DeltaTable
    from pyspark.sql import SparkSession

    assert isinstance(spark, SparkSession)
    path = str(tmp_path / "gold")
    frame = spark.range(0, 30_000, numPartitions=3).selectExpr(
        "sha2(cast(id AS string), 256) AS person_key", "cast(id % 90 AS int) AS age",
        "CASE WHEN id % 7 = 0 THEN NULL ELSE concat('縣', cast(id % 22 AS string)) END AS county",
        "id % 2 = 0 AS insured", "date_add(DATE'2026-11-30', 0) AS snapshot_date")
    frame.write.format("delta").save(path)
    table = DeltaTable(path)
    data = table.to_pyarrow_dataset()
    fragments = sorted(data.get_fragments(), key=lambda f: f.path)
    assert len(fragments) == 3
    assert "parquet-mr" in fragments[0].metadata.created_by
    plan = parquet_splice.plan(data.schema, fragments, META, min_group_bytes=0)
    assert plan is not None
    back = pq.read_table(io.BytesIO(b"".join(parquet_splice.chunks(plan))))
    want = pa.concat_tables([f.to_table(schema=data.schema) for f in fragments])
    assert back.replace_schema_metadata().equals(want.replace_schema_metadata())
