"""Delta write and read-back under a temporary storage root."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from deltalake import DeltaTable
from pyspark.testing import assertDataFrameEqual

from kernel.storage import Storage


@pytest.fixture
def storage(spark, root) -> Storage:
    return Storage(spark, root)


def test_layout(storage, root):
    feed = "moi.household_registry"
    assert storage.path("bronze", feed) == f"{root}/bronze/{feed}"
    assert storage.layout.inbox("moi/household_registry") == f"{root}/inbox/moi/household_registry"
    with pytest.raises(ValueError, match="unknown zone"):
        storage.path("tmp", "x")


def test_append_overwrite_versions_and_metadata(spark, storage, root):
    df = spark.createDataFrame([(1, "a"), (2, "b")], "id int, v string")
    assert storage.version("gold", "t") is None
    storage.append(df, "gold", "t", {"run_id": "r1"})
    storage.overwrite(df.where("id = 1"), "gold", "t", {"run_id": "r2", "key_id": "k-1"})
    assert storage.version("gold", "t") == 1
    assert storage.commit_metadata("gold", "t") == {"run_id": "r2", "key_id": "k-1"}
    assert storage.commit_metadata("gold", "t", version=0) == {"run_id": "r1"}
    assertDataFrameEqual(storage.read("gold", "t", version=0), df)
    assertDataFrameEqual(storage.read("gold", "t"), df.where("id = 1"))
    # A real Delta table, readable without a JVM too.
    log = sorted(p.name for p in (Path(root) / "gold" / "t" / "_delta_log").glob("*.json"))
    assert log == ["00000000000000000000.json", "00000000000000000001.json"]
    assert DeltaTable(f"{root}/gold/t").version() == 1
    assert json.loads(DeltaTable(f"{root}/gold/t").history(1)[0]["userMetadata"])["run_id"] == "r2"


def test_insert_new_is_idempotent(spark, storage):
    df = spark.createDataFrame([(1, "a"), (2, "b")], "id int, v string")
    storage.insert_new(df, "silver", "e", ["id"])
    storage.insert_new(df, "silver", "e", ["id"])
    storage.insert_new(spark.createDataFrame([(3, "c")], "id int, v string"), "silver", "e", ["id"])
    assertDataFrameEqual(storage.read("silver", "e"),
                         spark.createDataFrame([(1, "a"), (2, "b"), (3, "c")], "id int, v string"))
    assert storage.contains("silver", "e", "v", "c")
    assert not storage.contains("silver", "e", "v", "z")


def test_upsert_updates_only_newer(spark, storage):
    schema = "id int, at int, v string"
    storage.upsert(spark.createDataFrame([(1, 5, "old"), (2, 5, "keep")], schema), "silver", "c",
                   ["id"], "s.at > t.at")
    storage.upsert(spark.createDataFrame([(1, 6, "new"), (2, 4, "stale"), (3, 1, "ins")], schema),
                   "silver", "c", ["id"], "s.at > t.at")
    assertDataFrameEqual(
        storage.read("silver", "c"),
        spark.createDataFrame([(1, 6, "new"), (2, 5, "keep"), (3, 1, "ins")], schema))


def test_files(storage, root):
    inbox = storage.layout.inbox("moi/household_registry")
    storage.write_bytes(f"{inbox}/a.csv", b"\xa4\xfd")
    storage.copy(f"{inbox}/a.csv", f"{root}/landing/x/a.csv")
    assert storage.read_bytes(f"{root}/landing/x/a.csv") == b"\xa4\xfd"
    assert [f.name for f in storage.list_files(inbox)] == ["a.csv"]
    storage.delete(f"{inbox}/a.csv")
    assert storage.list_files(inbox) == []
    assert storage.list_files(f"{root}/nowhere") == []


def test_digest_and_a_copy_after_a_head(storage, root):
    import hashlib

    data = "縣市,人數\n臺北市,3\n".encode()
    storage.write_bytes(f"{root}/x/part-0.csv", data)
    storage.copy_after(b"\xef\xbb\xbf", f"{root}/x/part-0.csv", f"{root}/y/t.csv")
    assert Path(root, "y", "t.csv").read_bytes() == b"\xef\xbb\xbf" + data
    assert storage.sha256(f"{root}/y/t.csv") == hashlib.sha256(b"\xef\xbb\xbf" + data).hexdigest()
    assert storage.file_size(f"{root}/y/t.csv") == len(data) + 3


def test_replace_a_small_file_through_a_scratch_folder(storage, root):
    path = f"{root}/opendata/files/t/latest.json"
    storage.replace(path, b'{"version": "1"}', f"{root}/opendata/files/t/_staging")
    storage.replace(path, b'{"version": "2"}', f"{root}/opendata/files/t/_staging")
    assert storage.read_bytes(path) == b'{"version": "2"}'
    assert storage.list_files(f"{root}/opendata/files/t/_staging") == []  # renamed over it
