"""The JSON pages reader: pulled pages checked for completeness, records exploded as strings."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from pyspark.testing import assertDataFrameEqual

from jobs.bronze import Batch
from jobs.readers import json_pages, reader
from kernel import contracts
from kernel.errors import DeliveryError
from kernel.storage import Storage

FEED = contracts.feed("nhia.insured_status")
WIRE = [f.wire for f in FEED.fields]


def _rec(n: int, **extra: object) -> dict[str, object]:
    return {"idNo": f"A1{n:08d}", "name": "王小明", "insuredCategory": "1",
            "unitName": "大同股份有限公司", "startDate": "2019-08-24", "endDate": None,
            "premiumSalary": 25250 + n, **extra}


def _land(folder: Path, pages: dict[int, object], raw: dict[int, bytes] | None = None) -> Batch:
    """Pages written as a puller lands them; ``raw`` pages replace the JSON ones byte for byte."""
    folder.mkdir(parents=True)
    for n, doc in pages.items():
        (folder / f"page-{n:05d}.json").write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    for n, data in (raw or {}).items():
        (folder / f"page-{n:05d}.json").write_bytes(data)
    (folder / "SHA256SUMS").write_text("")
    return Batch("b1", FEED.name, "INSURED_STATUS-20241105-x", str(folder), "d" * 64,
                 dt.date(2024, 11, 5))


def _page(n: int, records: list[object], total: int = 3, size: int = 2) -> dict[str, object]:
    return {"page": n, "page_size": size, "total_pages": total, "records": records}


GOOD = {1: _page(1, [_rec(1), _rec(2)]), 2: _page(2, [_rec(3), _rec(4)]), 3: _page(3, [_rec(5)])}


def test_the_format_is_registered():
    assert reader("json_pages") is json_pages
    assert FEED.delivery.format == "json_pages"


def test_reads_every_record_as_strings_with_its_ordinal(spark, tmp_path):
    fullwidth = "Ｂ２２３４５６７８９"
    odd = {
        "idNo": fullwidth, "name": None, "insuredCategory": 3, "startDate": "2020-01-01",
        "endDate": "2024-10-31", "premiumSalary": "45,800", "unitName": {"a": 1}, "extra": 1}
    pages = {1: _page(1, [_rec(1), odd]),
             2: _page(2, ["not an object", None]),
             3: _page(3, [{"idNo": "C123456789", "premiumSalary": True}])}
    batch = _land(tmp_path / "b", pages)
    storage = Storage(spark, str(tmp_path))
    json_pages.check(storage, batch, FEED)
    out = json_pages.read(spark, batch, FEED)
    assert out.columns == [*WIRE, "_corrupt_record", "_source_row"]
    expected = spark.createDataFrame([
        ("A100000001", "王小明", "1", "大同股份有限公司", "2019-08-24", None, "25251", None, 1),
        (fullwidth, None, "3", '{"a":1}', "2020-01-01", "2024-10-31", "45,800", None, 2),
        (None, None, None, None, None, None, None, "not an object", 3),
        (None, None, None, None, None, None, None, "null", 4),
        ("C123456789", None, None, None, None, None, "true", None, 5),
    ], out.schema)
    assertDataFrameEqual(out, expected)
    assert json_pages.declared(storage, batch, FEED) == 5


def test_declared_is_the_pullers_count_from_the_manifest(spark, tmp_path):
    batch = _land(tmp_path / "b", GOOD)
    storage = Storage(spark, str(tmp_path))
    assert json_pages.declared(storage, batch, FEED) == 5  # no manifest: the pages' arrays
    (tmp_path / "b" / "manifest.json").write_text(json.dumps({"records": 6}))
    assert json_pages.declared(storage, batch, FEED) == 6  # then bronze (5) fails to reconcile
    assert json_pages.read(spark, batch, FEED).count() == 5


HTML = b"<!DOCTYPE html><html><body>maintenance</body></html>"


@pytest.mark.parametrize(("pages", "raw", "reason"), [
    ({1: GOOD[1], 3: GOOD[3]}, {}, "page(s) 2 of 3 missing"),
    ({**GOOD, 4: _page(4, [_rec(6)])}, {}, "page(s) 4 beyond total_pages 3"),
    ({1: GOOD[1], 3: GOOD[3]}, {2: HTML}, "page-00002.json: not valid JSON (one object per page)"),
    ({1: GOOD[1], 3: GOOD[3]}, {2: json.dumps(GOOD[2]).encode() + b" trailing"},
     "page-00002.json: not valid JSON (one object per page)"),
    ({1: GOOD[1], 2: GOOD[2]}, {3: b'{"page": 3, "page_size": 2, "total_pages": 3, '
                                   b'"records": [{"name": "\xff"}]}'},
     "page-00003.json: line 1: not valid utf-8 text (wrong encoding or damaged bytes)"),
    ({**GOOD, 2: {"page": 2, "page_size": 2, "total_pages": 3}}, {},
     "page-00002.json: no records array"),
    ({**GOOD, 2: {**GOOD[2], "records": {"a": 1}}}, {}, "page-00002.json: no records array"),
    ({**GOOD, 2: {**GOOD[2], "page": 1}}, {},
     "page-00002.json: the page states another page number"),
    ({**GOOD, 2: {**GOOD[2], "page": "2"}}, {}, "page-00002.json: no page number"),
    ({**GOOD, 2: {**GOOD[2], "total_pages": None}}, {}, "page-00002.json: no total_pages"),
    ({**GOOD, 3: {**GOOD[3], "page_size": 0}}, {}, "page-00003.json: no page_size"),
    ({**GOOD, 3: {**GOOD[3], "total_pages": 4}}, {}, "the pages disagree on total_pages (3, 4)"),
    ({**GOOD, 2: _page(2, [_rec(3)])}, {},
     "page-00002.json: 1 records on a page of 2 that is not the last (records lost between "
     "pages)"),
    ({**GOOD, 3: _page(3, [_rec(5), _rec(6), _rec(7)])}, {},
     "page-00003.json: 3 records on a page of 2"),
    ({**GOOD, 3: _page(3, [])}, {}, "page-00003.json: no records on the last page of 3"),
    ({}, {}, "no pages (page-NNNNN.json) in the pulled delivery"),
])
def test_check_refuses_incomplete_or_inconsistent_pages(spark, tmp_path, pages, raw, reason):
    batch = _land(tmp_path / "b", pages, raw)
    with pytest.raises(DeliveryError) as err:
        json_pages.check(Storage(spark, str(tmp_path)), batch, FEED)
    assert str(err.value) == reason


def test_check_accepts_complete_pages_and_a_single_empty_page(spark, tmp_path):
    storage = Storage(spark, str(tmp_path))
    json_pages.check(storage, _land(tmp_path / "a", GOOD), FEED)
    empty = _land(tmp_path / "e", {1: _page(1, [], total=0, size=1000)})
    json_pages.check(storage, empty, FEED)
    assert json_pages.read(spark, empty, FEED).count() == 0
    assert [p.records for p in json_pages.pages(storage, _land(tmp_path / "s", GOOD), FEED)] \
        == [2, 2, 1]
