"""The reader of landed JDBC pulls: columns checked against the contract, every row read as
strings with its ordinal, the record count from the manifest."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from pyspark.testing import assertDataFrameEqual

from jobs.bronze import CORRUPT, Batch
from jobs.readers import jdbc, reader
from kernel import contracts
from kernel.errors import DeliveryError
from kernel.storage import Storage

_LOADED = contracts.load(contracts.CONTRACTS_DIR / "bli" / "benefit_payments.yaml")
assert isinstance(_LOADED, contracts.FeedContract)
FEED = _LOADED
WIRE = [f.wire for f in FEED.fields]


def _record(pid: int, **changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "payment_id": str(pid), "national_id": "A123456789", "benefit_type": "OLD_AGE",
        "payment_month": "11310", "amount": "18000", "bank_code": "700",
        "account_no": "00012345678901", "remark": None,
        "updated_at": f"2024-10-25T01:00:{pid % 60:02d}.000000Z"}
    row.update(changes)
    return row


def _landed(root: str, lines: list[str], records: int | None = None) -> Batch:
    folder = Path(root) / "landing" / "bli.benefit_payments" / "BENEFIT_PAYMENTS-20241105-x"
    folder.mkdir(parents=True)
    (folder / "benefit_payments.jsonl").write_text("".join(f"{x}\n" for x in lines), "utf-8")
    manifest = {"feed": FEED.name, "records": len(lines) if records is None else records,
                "files": [{"name": "benefit_payments.jsonl", "sha256": "0" * 64}]}
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    return Batch("BENEFIT_PAYMENTS-20241105-x", FEED.name, "BENEFIT_PAYMENTS-20241105-x",
                 str(folder), "0" * 64, dt.date(2024, 11, 5))


def _json(row: dict[str, object]) -> str:
    return json.dumps(row, ensure_ascii=False)


def test_the_reader_is_registered_for_the_jdbc_format():
    assert reader("jdbc") is jdbc


def test_every_row_is_read_as_strings_with_its_ordinal(spark, root):
    rows = [_record(1, remark="受款人王小明來電0912-345-678"), _record(2, bank_code=None),
            _record(3, remark="")]
    lines = [_json(r) for r in rows]
    lines.insert(2, '{"payment_id": "9", "national_id": ')  # a damaged line
    batch = _landed(root, lines)
    st = Storage(spark, root)
    jdbc.check(st, batch, FEED)
    assert jdbc.declared(st, batch, FEED) == 4
    got = jdbc.read(spark, batch, FEED)
    assert got.columns == [*WIRE, CORRUPT, "_source_row"]
    expected = [(*[r[w] for w in WIRE], None, n) for n, r in ((1, rows[0]), (2, rows[1]),
                                                             (4, rows[2]))]
    expected.insert(2, (*([None] * len(WIRE)), lines[2], 3))
    assertDataFrameEqual(got, spark.createDataFrame(expected, got.schema), checkRowOrder=False)


def test_the_ordinal_follows_the_file_when_spark_splits_it(spark, root):
    lines = [_json(_record(i, remark="x" * (i % 7))) for i in range(1, 401)]
    batch = _landed(root, lines)
    spark.conf.set("spark.sql.files.maxPartitionBytes", "4096")
    spark.conf.set("spark.sql.files.openCostInBytes", "0")
    try:
        df = jdbc.read(spark, batch, FEED)
        assert df.rdd.getNumPartitions() >= 1
        pairs = [(int(r["payment_id"]), r["_source_row"])
                 for r in df.select("payment_id", "_source_row").collect()]
        splits = spark.read.text(batch.path + "/benefit_payments.jsonl").rdd.getNumPartitions()
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
        spark.conf.unset("spark.sql.files.openCostInBytes")
    assert splits > 5  # the extract was read in several splits
    assert sorted(pairs) == [(i, i) for i in range(1, 401)]


def test_an_extract_without_a_contract_column_is_refused_by_name(spark, root):
    rows = [_record(1), _record(2)]
    del rows[1]["remark"]
    batch = _landed(root, [_json(r) for r in rows])
    with pytest.raises(DeliveryError) as err:
        jdbc.check(Storage(spark, root), batch, FEED)
    assert str(err.value) == "missing column(s) remark (remark)"


def test_an_extract_with_an_unknown_column_is_refused(spark, root):
    batch = _landed(root, [_json(_record(1, created_by="clerk7"))])
    with pytest.raises(DeliveryError) as err:
        jdbc.check(Storage(spark, root), batch, FEED)
    assert str(err.value) == "unknown column(s) created_by"


def test_the_manifest_states_the_record_count(spark, root):
    st = Storage(spark, root)
    batch = _landed(root, [_json(_record(1))], records=7)
    assert jdbc.declared(st, batch, FEED) == 7  # bronze then fails CHECK_DECLARED (7 != 1)
    (Path(batch.path) / "manifest.json").write_text('{"feed": "x"}', "utf-8")
    with pytest.raises(DeliveryError, match=r"manifest\.json does not state the number of records"):
        jdbc.declared(st, batch, FEED)
    (Path(batch.path) / "manifest.json").unlink()
    with pytest.raises(DeliveryError, match=r"the landed pull has no manifest\.json"):
        jdbc.check(st, batch, FEED)
