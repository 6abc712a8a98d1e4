"""The CSV reader keeps every record as delivered: CP950 with EUDC, quotes, CRLF, row numbers."""

from __future__ import annotations

import datetime as dt

import pytest
from pyspark.testing import assertDataFrameEqual

from convergence import contracts
from jobs import bronze

FEED = contracts.feed("moi.household_registry")
HEADER = ",".join(f.wire for f in FEED.fields)
EUDC = b"\xfa\x40"  # the first CP950 user-defined character: U+E000 as Java's MS950 decodes it


def _delivery(tmp_path, lines: list[bytes]):
    path = tmp_path / "MOI_HHR_20241101.csv"
    path.write_bytes(b"\r\n".join([HEADER.encode("cp950"), *lines]) + b"\r\n")
    return path


def test_reads_cp950_quotes_line_breaks_and_numbers_records(spark, tmp_path):
    lines = [
        "A123456789,王小明,1,0780315,臺北市中正區忠孝東路一段１２號,AB123456,02,1130105,".encode(
            "cp950"),
        b"B123456780,\xa4\xfd" + EUDC + b",2,780315,\"" + "新北市板橋區,文化路\r\n二段".encode(
            "cp950") + b"\",CD123456,01,1130105,",
        '"C1234567""89",林一,1,0780315,臺中市西區,EF123456,03,1130105,'.encode("cp950"),
    ]
    path = _delivery(tmp_path, lines)
    raw = bronze.read_csv(spark, str(path), FEED)
    batch = bronze.Batch("b1", FEED.name, path.name, str(path), "d" * 64, dt.date(2024, 11, 1))
    out = bronze.to_bronze(raw, FEED, batch).select(
        "national_id", "name", "address", "_corrupt_record", "_source_row")
    expected = spark.createDataFrame(
        [("A123456789", "王小明", "臺北市中正區忠孝東路一段１２號", None, 1),
         # A quoted line break survives; the CSV parser folds its CRLF to LF (the landing zone
         # keeps the delivered bytes unchanged).
         ("B123456780", "王\ue000", "新北市板橋區,文化路\n二段", None, 2),
         ('C1234567"89', "林一", "臺中市西區", None, 3)],
        "national_id string, name string, address string, _corrupt_record string, "
        "_source_row long",
    )
    assertDataFrameEqual(out, expected, checkRowOrder=True)


def test_a_record_with_too_many_fields_is_kept_as_corrupt(spark, tmp_path):
    good = "A123456789,王小明,1,0780315,臺北市,AB123456,02,1130105,".encode("cp950")
    path = _delivery(tmp_path, [good, good + b",extra"])
    rows = bronze.read_csv(spark, str(path), FEED).orderBy("_source_row").collect()
    assert len(rows) == 2
    assert rows[0]["_corrupt_record"] is None
    assert rows[1]["_corrupt_record"] is not None


def test_header_checks():
    fields = [f.wire for f in FEED.fields]
    bronze.check_header(fields, FEED)
    with pytest.raises(bronze.DeliveryError, match=r"missing column\(s\) 姓名 \(name\)"):
        bronze.check_header([w for w in fields if w != "姓名"], FEED)
    with pytest.raises(bronze.DeliveryError, match="unknown column"):
        bronze.check_header([*fields, "備註"], FEED)
    with pytest.raises(bronze.DeliveryError, match="empty file"):
        bronze.header_fields(b"", FEED)
    assert bronze.header_fields(HEADER.encode("cp950") + b"\r\nx", FEED) == fields
