"""The CSV reader keeps every record as delivered: CP950 with EUDC, quotes, CRLF, row numbers;
columns are matched by name, a new one is kept and reported (schema drift), a missing required
one refuses the delivery."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from pyspark.testing import assertDataFrameEqual

from jobs import bronze
from kernel import contracts

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
    assert bronze.check_header(fields, FEED) == bronze.Header(tuple(fields), (), (), False)
    with pytest.raises(bronze.DeliveryError,
                       match=r"^line 1: missing required column\(s\) 姓名 \(name\)$"):
        bronze.check_header([w for w in fields if w != "姓名"], FEED)
    renamed = ["身分證號", *fields[1:]]
    with pytest.raises(bronze.DeliveryError, match=re.escape(
            "line 1: missing required column(s) 身分證統一編號 (national_id); the header has "
            "unknown column(s) 身分證號 (renamed?)")):
        bronze.check_header(renamed, FEED)
    with pytest.raises(bronze.DeliveryError, match="line 1: header column 10 has no name"):
        bronze.check_header([*fields, ""], FEED)
    with pytest.raises(bronze.DeliveryError,
                       match=r"line 1: column\(s\) 性別 named more than once"):
        bronze.check_header([*fields, "性別"], FEED)
    with pytest.raises(bronze.DeliveryError, match="line 1: empty header"):
        bronze.header_fields(b"", FEED)
    assert bronze.header_fields(HEADER.encode("cp950") + b"\r\nx", FEED) == fields


def test_schema_drift_is_kept_and_reported_not_refused():
    fields = [f.wire for f in FEED.fields]
    # a new column, the optional 戶號 (household_no) left out, another order
    drifted = ["備註", *reversed([w for w in fields if w != "戶號"])]
    header = bronze.check_header(drifted, FEED)
    assert header == bronze.Header(tuple(drifted), ("戶號",), ("備註",), True)
    assert bronze.drift_lines(header, FEED) == [
        "new column 備註: not in the contract, kept in bronze (_extra)",
        "column 戶號 (household_no) missing from the header: read as no value",
        "columns in another order than the contract's: read by name",
    ]


def test_columns_are_read_by_name_and_a_new_one_is_kept(spark, tmp_path):
    # a new column first, 戶號 left out, 姓名 before the ID
    wires = ["備註", "姓名", "身分證統一編號", "性別", "出生日期", "戶籍地址", "異動類別",
             "異動日期", "死亡日期"]
    path = tmp_path / "MOI_HHR_20241101.csv"
    path.write_bytes("\r\n".join([
        ",".join(wires),
        "改名,王小明,A123456789,1,0780315,臺北市中正區,02,1130105,",
        ",林一,B123456780,2,0780315,臺中市西區,02,1130105,",
    ]).encode("cp950") + b"\r\n")
    raw = bronze.read_csv(spark, str(path), FEED)
    batch = bronze.Batch("b1", FEED.name, path.name, str(path), "d" * 64, dt.date(2024, 11, 1))
    out = bronze.to_bronze(raw, FEED, batch).select(
        "national_id", "name", "household_no", "_extra", "_corrupt_record", "_source_row")
    expected = spark.createDataFrame(
        [("A123456789", "王小明", None, {"備註": "改名"}, None, 1),
         ("B123456780", "林一", None, {"備註": None}, None, 2)],  # empty: no value
        "national_id string, name string, household_no string, _extra map<string,string>, "
        "_corrupt_record string, _source_row long")
    assertDataFrameEqual(out, expected, checkRowOrder=True)
    plain = bronze.read_csv(spark, str(path), FEED, header=[f.wire for f in FEED.fields] + [""])
    assert "_extra" in plain.columns  # the header given is used as is (the check refuses it)


def test_a_record_with_a_control_character_is_kept_as_corrupt(spark, tmp_path):
    good = "A123456789,王小明,1,0780315,臺北市,AB123456,02,1130105,"
    path = _delivery(tmp_path, [good.encode("cp950"), good.replace("王", "王\x07").encode(
        "cp950"), good.replace("臺北市", "臺北市\t").encode("cp950")])
    rows = bronze.read_csv(spark, str(path), FEED).orderBy("_source_row").collect()
    assert [r["_corrupt_record"] for r in rows] == [
        None, good.replace("王", "王\x07"), None]  # a tab is white space, not damage
    assert rows[1]["姓名"] == "王\x07小明"  # the fields keep what was delivered


@pytest.mark.parametrize(("data", "reason"), [
    (b'h1,h2\r\n"a,b",c\r\n"x""y",z\r\n', None),
    (b'h1,h2\r\nab"c,d\r\n', None),  # a quote inside an unquoted field is a character
    (b'\xef\xbb\xbf"h1",h2\n1,2\n', None),
    (b'h1,h2\r\na,b\r\nc,"d\r\ne,f\r\n', "line 3: a quoted field opened here is never closed"),
    (b'h1,h2\r\na,"b\r\nc""', "line 2: a quoted field opened here is never closed"),
    (b'h1,h2\r\na,b\r\nc,d', "incomplete file: the last line (line 3) does not end with a"),
    (b'h1,h2\r\na,"b"', "incomplete file: the last line (line 2)"),
])
def test_the_structural_scan_of_a_csv_file(data, reason):
    from jobs.readers import csv as csv_reader

    for size in (1, 2, 3, len(data)):  # quotes and doubled quotes across chunk boundaries
        chunks = [data[i: i + size] for i in range(0, len(data), size)]
        found = csv_reader.scan(chunks, FEED)
        assert (found or None) == reason if reason is None else found.startswith(reason), \
            (size, found)


def test_the_line_of_the_first_undecodable_byte(spark, tmp_path):
    from jobs.readers.common import first_undecodable_line
    from kernel.storage import Storage

    storage = Storage(spark, str(tmp_path))
    text = "身分證\r\n王小明\r\n".encode("cp950") + EUDC + b"\r\n"
    path = tmp_path / "f.csv"
    for bad, line in ((b"", None), (b"\xa4\r\n", 4), (b"ok\xa4", 4)):
        path.write_bytes(text + bad)
        for chunk in (1, 17, 1 << 20):  # characters across the reads' boundaries
            assert first_undecodable_line(storage, str(path), "MS950", chunk) == line
    path.write_bytes(("a\n" + "王" * 7 + "\n").encode() + b"\xe7\x8e\n")
    for chunk in (1, 17):
        assert first_undecodable_line(storage, str(path), "UTF-8", chunk) == 3
