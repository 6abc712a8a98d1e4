"""The XML reader: Chinese element names, empty versus omitted elements, record numbers, and
the structural check that refuses a file naming the line (never a value)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobs import bronze
from jobs import conform as conform_job
from jobs.bronze import Batch
from jobs.readers import reader
from jobs.readers import xml as xml_reader
from kernel import contracts
from kernel.contracts import ContractError
from kernel.errors import DeliveryError
from kernel.storage import Storage

_LOADED = contracts.load(contracts.CONTRACTS_DIR / "moa" / "farmer_registry.yaml")
assert isinstance(_LOADED, contracts.FeedContract)
FEED = _LOADED
WIRES = [f.wire for f in FEED.fields]
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<農民資料 產製日期="1131105">\n'
TAIL = "</農民資料>\n"
OUT = ", ".join(f"`{w}` string" for w in WIRES) + ", _corrupt_record string, _source_row long"


def _record(**fields: str | None) -> str:
    """A ``<農民>`` record: keyword = wire name; ``None`` writes ``<x/>``."""
    inner = "".join(f"<{k}/>" if v is None else f"<{k}>{v}</{k}>" for k, v in fields.items())
    return f"  <農民>{inner}</農民>\n"


def _write(tmp_path: Path, text: str | bytes, name: str = "MOA_FHI_11311.xml") -> Batch:
    data = text.encode("utf-8") if isinstance(text, str) else text
    path = tmp_path / name
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    return Batch("b-" + digest[:8], FEED.name, name, str(path), digest, dt.date(2024, 11, 1))


@pytest.fixture
def storage(spark, root) -> Storage:  # type: ignore[no-untyped-def]
    return Storage(spark, root)


def _refusal(storage: Storage, batch: Batch) -> str:
    with pytest.raises(DeliveryError) as info:
        xml_reader.check(storage, batch, FEED)
    return str(info.value)


def test_the_contract_format_selects_this_reader():
    assert reader(FEED.delivery.format) is xml_reader
    assert xml_reader.options(FEED) == xml_reader.XmlOptions("農民資料", "農民")


def test_empty_elements_are_empty_strings_and_omitted_ones_null(spark, storage, tmp_path):
    # Spark's XML source reads <x/> and <x></x> (and xsi:nil) as "", an omitted element as null;
    # white space inside an element is kept as delivered (conform trims it).
    text = (
        HEAD.replace('="1131105">', '="1131105" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">')
        + "  <農民>\n    <身分證號>A123456789</身分證號>\n    <姓名>王&amp;小明</姓名>\n"
        "    <資格喪失日期/>\n    <農地面積公頃>０．３５</農地面積公頃>\n  </農民>\n"
        + _record(身分證號="B123456789", 資格喪失日期="")
        + _record(身分證號="C123456789")
        + '  <農民><身分證號>D123456789</身分證號><資格喪失日期 xsi:nil="true"/></農民>\n'
        + _record(身分證號=" E123456789\u3000", 老農津貼="\n Y\n")
        + "  <農民><身分證號><![CDATA[<F>]]></身分證號><姓名>&#x738B;</姓名></農民>\n"
        + TAIL
    )
    batch = _write(tmp_path, text)
    xml_reader.check(storage, batch, FEED)
    out = xml_reader.read(spark, batch, FEED)

    def row(nid: str, n: int, **values: str | None) -> tuple[str | None, ...]:
        return tuple([nid, *[values.get(w) for w in WIRES[1:]], None, n])

    expected = spark.createDataFrame([
        row("A123456789", 1, 姓名="王&小明", 資格喪失日期="", 農地面積公頃="０．３５"),
        row("B123456789", 2, 資格喪失日期=""),
        row("C123456789", 3),
        row("D123456789", 4, 資格喪失日期=""),
        row(" E123456789\u3000", 5, 老農津貼="\n Y\n"),
        row("<F>", 6, 姓名="王"),
    ], OUT)
    assertDataFrameEqual(out, expected, checkRowOrder=True)
    assert xml_reader.declared(storage, batch, FEED) == 6


def test_full_width_decimal_and_empty_elements_conform_to_silver_values(spark, storage, tmp_path):
    fields = {"身分證號": "A123456789", "姓名": "王小明", "出生日期": "0450101",
              "農會代號": "6010101", "資格取得日期": "1050301"}
    text = HEAD + "".join([
        _record(**fields, 資格喪失日期=None, 農地面積公頃="０．３５", 老農津貼="Y"),
        _record(**fields, 資格喪失日期="", 農地面積公頃=" 0.35 ", 老農津貼="ｙ"),
        _record(**fields, 農地面積公頃="1.2"),
        _record(**fields, 資格喪失日期="1130230", 農地面積公頃="０，３５"),
    ]) + TAIL
    batch = _write(tmp_path, text)
    raw = xml_reader.read(spark, batch, FEED)
    conformed = conform_job.conform(bronze.to_bronze(raw, FEED, batch), FEED)
    got = conformed.select("eligible_until", "_raw_eligible_until", "land_hectares",
                           "elderly_allowance", "_source_row")
    expected = spark.createDataFrame([
        (None, None, Decimal("0.35"), "Y", 1),
        (None, None, Decimal("0.35"), "Y", 2),
        (None, None, Decimal("1.2"), None, 3),
        (None, "1130230", None, None, 4),  # impossible date and 0,35: quarantined by the rules
    ], "eligible_until date, _raw_eligible_until string, land_hectares decimal(18,4), "
       "elderly_allowance string, _source_row long")
    assertDataFrameEqual(got, expected, checkRowOrder=True)


def test_a_repeated_field_or_text_outside_the_fields_makes_a_corrupt_record(
        spark, storage, tmp_path):
    text = HEAD + "".join([
        "  <農民><身分證號>A123456789</身分證號><姓名>甲</姓名><姓名>乙</姓名></農民>\n",
        "  <農民>stray<身分證號>B123456789</身分證號></農民>\n",
        "  <農民>\n    <身分證號>C123456789</身分證號>\n  </農民>\n",
    ]) + TAIL
    batch = _write(tmp_path, text)
    xml_reader.check(storage, batch, FEED)
    rows = xml_reader.read(spark, batch, FEED).orderBy("_source_row").collect()
    assert [r["身分證號"] for r in rows] == ["A123456789", "B123456789", "C123456789"]
    assert rows[0]["姓名"] == "甲"  # the first occurrence; the record goes to quarantine
    assert "<姓名>甲</姓名>" in rows[0]["_corrupt_record"]
    assert "<姓名>乙</姓名>" in rows[0]["_corrupt_record"]
    assert "stray" in rows[1]["_corrupt_record"]
    assert rows[2]["_corrupt_record"] is None


def test_not_well_formed_xml_is_refused_naming_the_line(storage, tmp_path):
    good = _record(身分證號="A123456789", 姓名="王小明")
    text = HEAD + good * 3 + "  <農民><身分證號>B123456789</姓名></農民>\n" + good + TAIL
    assert _refusal(storage, _write(tmp_path, text)) == (
        "not well-formed XML: line 6, column 25: mismatched tag")
    truncated = (HEAD + good * 2)[:-20]
    assert _refusal(storage, _write(tmp_path, truncated)) == (
        "not well-formed XML: line 4, column 23: unclosed token")
    cut = (HEAD + good * 2).encode("utf-8")[:-21]  # inside the 3 bytes of a character
    assert _refusal(storage, _write(tmp_path, cut)) == (
        "not valid utf-8 text: line 4 (the file ends inside a character)")
    assert _refusal(storage, _write(tmp_path, b"")) == (
        "not well-formed XML: line 1, column 1: no element found")


def test_the_root_element_and_the_place_of_records_are_checked(storage, tmp_path):
    rec = _record(身分證號="A123456789")
    wrong_root = '<?xml version="1.0" encoding="UTF-8"?>\n<農民清冊>\n' + rec + "</農民清冊>\n"
    assert _refusal(storage, _write(tmp_path, wrong_root)) == (
        "line 2: the root element is <農民清冊>, the contract expects <農民資料>")
    nested = HEAD + "  <縣市>\n" + rec + "  </縣市>\n" + TAIL
    assert _refusal(storage, _write(tmp_path, nested)) == (
        "line 4: a <農民> record inside <縣市>; records are children of <農民資料>")
    # Spark's XML source skips a bare <農民/>: the record would be lost, so the file is refused.
    bare = HEAD + rec + "  <農民/>\n" + rec + TAIL
    assert _refusal(storage, _write(tmp_path, bare)) == (
        "line 4: record 2 is an empty <農民/> element, which the XML reader cannot read as a "
        "record (write it with its fields)")
    # <農民 /> and <農民></農民> are read (as a record without fields, quarantined later).
    spaced = HEAD + rec + "  <農民 />\n  <農民></農民>\n" + TAIL
    batch = _write(tmp_path, spaced)
    xml_reader.check(storage, batch, FEED)
    assert xml_reader.declared(storage, batch, FEED) == 3
    assert xml_reader.read(storage.spark, batch, FEED).count() == 3


def test_encoding_and_doctype_are_checked(storage, tmp_path):
    rec = _record(身分證號="A123456789", 姓名="王小明")
    big5 = HEAD.replace("UTF-8", "Big5") + rec + TAIL
    assert _refusal(storage, _write(tmp_path, big5)) == (
        "line 1: the XML declaration names encoding Big5, the contract expects utf-8")
    damaged = (HEAD + rec * 3).encode("utf-8") + "王".encode("cp950") + TAIL.encode("utf-8")
    assert _refusal(storage, _write(tmp_path, damaged)) == (
        "not valid utf-8 text: line 6 (wrong encoding or damaged bytes)")
    doctype = HEAD.replace("\n", '\n<!DOCTYPE 農民資料 [<!ENTITY x "y">]>\n', 1) + rec + TAIL
    assert _refusal(storage, _write(tmp_path, doctype)) == (
        "line 2: a DOCTYPE declaration (the interface has none; entity declarations are not "
        "accepted)")
    # XML allows a byte-order mark, and a file without a declaration is UTF-8.
    for text in (b"\xef\xbb\xbf" + (HEAD + rec + TAIL).encode("utf-8"),
                 ("<農民資料>\n" + rec + TAIL).encode("utf-8")):
        batch = _write(tmp_path, text)
        xml_reader.check(storage, batch, FEED)
        assert xml_reader.read(storage.spark, batch, FEED).first()["姓名"] == "王小明"


def test_unknown_elements_are_drift_reported_without_values(storage, tmp_path, caplog):
    text = HEAD + "".join([
        _record(身分證號="A123456789", 手機="0912345678"),
        _record(身分證號="B123456789", 手機="0987654321"),
        _record(身分證號="C1<b>2345678</b>9"),
        "  <備註>王小明</備註>\n",
    ]) + TAIL
    batch = _write(tmp_path, text)
    with caplog.at_level(logging.WARNING, logger="jobs.readers.xml"):
        xml_reader.check(storage, batch, FEED)
    expected = [
        "<手機> in <農民> (not a field of the contract): 2 time(s), first at line 3",
        "<b> inside the field <身分證號>: 1 time(s), first at line 5",
        "<備註> among the records (not a <農民>): 1 time(s), first at line 6",
    ]
    assert xml_reader.drift(storage, batch, FEED) == expected
    assert [r.getMessage() for r in caplog.records] == [
        f"moa.farmer_registry: MOA_FHI_11311.xml: schema drift, ignored: {line}"
        for line in expected]
    assert not any(v in caplog.text for v in ("0912345678", "王小明", "2345678"))
    rows = xml_reader.read(storage.spark, batch, FEED).orderBy("_source_row").collect()
    assert len(rows) == xml_reader.declared(storage, batch, FEED) == 3
    assert rows[2]["身分證號"] == "C1<b>2345678</b>9"  # fails its check digit in silver


def test_a_large_file_is_one_partition_numbered_in_file_order(spark, storage, tmp_path):
    n = 40_000
    body = "".join(_record(身分證號=f"A{i:09d}", 姓名="王小明", 農地面積公頃="0.35")
                   for i in range(1, n + 1))
    batch = _write(tmp_path, HEAD + body + TAIL)
    assert Path(batch.path).stat().st_size > 4_000_000
    spark.conf.set("spark.sql.files.maxPartitionBytes", "262144")
    try:
        out = xml_reader.read(spark, batch, FEED)
        assert out.rdd.getNumPartitions() == 1
        i = F.substring("身分證號", 2, 9).cast("long")
        got = out.agg(F.count(F.lit(1)).alias("rows"),
                      F.sum((i != F.col("_source_row")).cast("int")).alias("misnumbered")).first()
        assert got is not None and (got["rows"], got["misnumbered"]) == (n, 0)
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")


def test_bad_options_are_contract_errors():
    def with_options(**opts: str) -> contracts.FeedContract:
        return dataclasses.replace(FEED, delivery=dataclasses.replace(FEED.delivery,
                                                                      options=opts))

    for opts, problem in (
        ({"root_tag": "農民資料"}, "format xml needs row_tag: an element name"),
        ({"root_tag": "農民資料", "row_tag": "農民", "rowTag": "x"}, "unknown key(s) ['rowTag']"),
        ({"root_tag": "農民", "row_tag": "農民"}, "root_tag and row_tag are equal"),
        ({"root_tag": "農民資料", "row_tag": "姓名"}, "a field's wire name repeats"),
    ):
        with pytest.raises(ContractError) as info:
            xml_reader.options(with_options(**opts))
        assert info.value.where == "delivery.options"
        assert problem in info.value.problem
