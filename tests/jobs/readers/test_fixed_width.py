"""The fixed-width reader on small hand-built files of feed 2 (bli.labor_insurance_enrollment):
fields cut by BYTE offsets and decoded as MS950 (Chinese and EUDC names), line numbers, corrupt
records, and the refusals of a broken structure with the exact reason and line.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from jobs.bronze import Batch
from jobs.readers import fixed_width, reader
from kernel import contracts
from kernel.errors import DeliveryError
from kernel.storage import Storage
from sandbox.generate.labor import fit

FEED = contracts.feed("bli.labor_insurance_enrollment")
WIRE = [f.wire for f in FEED.fields]
DAY = dt.date(2024, 11, 1)
NAME = "BLI_LIE_20241101.dat"
EUDC = b"\xfa\x40"  # the first CP950 user-defined character: U+E000 as MS950 decodes it
HEADER = b"HDR20241101".ljust(80) + b"\r\n"
SCHEMA = ", ".join(f"`{w}` string" for w in WIRE) + ", _corrupt_record string, _source_row long"


def record(name: bytes = "王小明".encode("cp950").ljust(12), nid: bytes = b"A123456789",
           birth: bytes = b"0780315", salary: bytes = b"027470") -> bytes:
    """One 80-byte detail record (without its CRLF)."""
    out = (b"12345678" + b"04595257" + nid + name + birth + b"1" + b"1131031" + salary + b"1"
           + b" " * 20)
    assert len(out) == 80
    return out


def trailer(count: int) -> bytes:
    return f"TRL{count:010d}".ljust(80).encode("ascii") + b"\r\n"


def delivery(tmp_path: Path, details: list[bytes], count: int | None = None,
             header: bytes = HEADER, end: bytes | None = None) -> Batch:
    """A file: header, details (each + CRLF), trailer (or ``end`` instead of it)."""
    data = header + b"".join(d + b"\r\n" for d in details)
    data += trailer(len(details) if count is None else count) if end is None else end
    path = tmp_path / NAME
    path.write_bytes(data)
    return Batch("b1", FEED.name, NAME, str(path), "d" * 64, DAY)


@pytest.fixture
def storage(spark: SparkSession, tmp_path: Path) -> Storage:
    return Storage(spark, str(tmp_path))


def fields(values: dict[str, str | None]) -> tuple[str | None, ...]:
    """A row of the reader's fields, in contract order, from column-name values."""
    defaults = {"insurance_unit_no": "12345678", "employer_ubn": "04595257",
                "national_id": "A123456789", "name": "王小明      ", "birth_date": "0780315",
                "action": "1", "action_date": "1131031", "insured_salary": "027470",
                "category": "1"}  # fmt: skip
    merged = {**defaults, **values}
    return tuple(merged[f.name] for f in FEED.fields)


def test_fields_are_cut_by_bytes_and_decoded(spark, storage, tmp_path):
    details = [
        record(),
        record(name=("王".encode("cp950") + EUDC + "林".encode("cp950")).ljust(12)),
        record(name="歐陽娜娜娜娜".encode("cp950"), nid=b"B223456783"),  # 6 characters: 12 bytes
        record(name=b"NGUYEN VAN A", birth=b" 780315", salary=b" 27470"),
    ]
    batch = delivery(tmp_path, details)
    assert reader("fixed_width") is fixed_width
    fixed_width.check(storage, batch, FEED)
    assert fixed_width.declared(storage, batch, FEED) == 4
    out = fixed_width.read(spark, batch, FEED)
    assert out.columns == [*WIRE, "_corrupt_record", "_source_row"]
    expected = spark.createDataFrame([
        (*fields({}), None, 2),
        # 王, the EUDC character and 林 take 6 bytes; the other 6 bytes are spaces.
        (*fields({"name": "王\ue000林      "}), None, 3),
        (*fields({"name": "歐陽娜娜娜娜", "national_id": "B223456783"}), None, 4),
        (*fields({"name": "NGUYEN VAN A", "birth_date": " 780315", "insured_salary": " 27470"}),
         None, 5),
    ], SCHEMA)
    assertDataFrameEqual(out, expected, checkRowOrder=True)


def test_a_name_cut_at_12_bytes_never_splits_a_character(spark, storage, tmp_path):
    # 13 bytes: a cut at byte 12 would leave half of the last 娜. The writer keeps whole
    # characters and pads with a space; the reader gets them back intact.
    long_name = "A歐陽娜娜娜娜"
    cut, was_cut = fit(long_name, 12)
    assert was_cut and cut == "A歐陽娜娜娜".encode("cp950") + b" " and len(cut) == 12
    assert fit("王\ue000林", 12) == ("王".encode("cp950") + EUDC + "林".encode("cp950")
                                   + b" " * 6, False)
    # A faulty writer that cut inside the character: the name field ends with a lead byte and
    # the birth date field starts with its trail byte; the record is corrupt, not a crash.
    split = record(name=" 王小明".encode("cp950") + b"    \xa4", birth=b"\x40780315")
    batch = delivery(tmp_path, [record(name=cut), split])
    fixed_width.check(storage, batch, FEED)  # the file itself is valid CP950
    rows = fixed_width.read(spark, batch, FEED).collect()
    assert rows[0]["姓名"] == "A歐陽娜娜娜 " and rows[0]["_corrupt_record"] is None
    assert rows[1]["_corrupt_record"] == split.decode("cp950")
    assert all(rows[1][w] is None for w in WIRE)


def test_a_record_of_the_wrong_length_is_kept_as_corrupt(spark, storage, tmp_path):
    short = record()[:61]
    long_ = record() + "張".encode("cp950")
    batch = delivery(tmp_path, [record(), short, long_, b"", record()])
    fixed_width.check(storage, batch, FEED)
    out = fixed_width.read(spark, batch, FEED).select("姓名", "_corrupt_record", "_source_row")
    expected = spark.createDataFrame([
        ("王小明      ", None, 2),
        (None, short.decode("cp950"), 3),
        (None, long_.decode("cp950"), 4),
        (None, "", 5),  # an empty line is a record of 0 bytes
        ("王小明      ", None, 6),
    ], "`姓名` string, _corrupt_record string, _source_row long")
    assertDataFrameEqual(out, expected, checkRowOrder=True)


def test_a_day_without_changes_has_no_detail_records(spark, storage, tmp_path):
    batch = delivery(tmp_path, [])
    fixed_width.check(storage, batch, FEED)
    assert fixed_width.declared(storage, batch, FEED) == 0
    assert fixed_width.read(spark, batch, FEED).count() == 0


GOOD = [record(), record(name="林一".encode("cp950").ljust(12))]


@pytest.mark.parametrize(("details", "kwargs", "reason"), [
    # The writing job was killed: the last record is short (cut inside 明: a lone lead byte,
    # which must not be reported as an encoding problem) and the trailer is missing.
    (GOOD, {"end": record()[:31]},
     "incomplete file: no trailer record (last record, line 4, is 31 bytes, not 80)"),
    (GOOD, {"end": b""},
     "incomplete file: no trailer record (last record, line 3, does not start with TRL)"),
    (GOOD, {"count": 3}, "trailer declares 3 detail records, the file holds 2 "
                         "(trailer on line 4)"),
    (GOOD, {"end": trailer(2)[:-2]},
     "incomplete file: the trailer record (line 4) does not end with CRLF"),
    (GOOD, {"header": b"HDR20241102".ljust(80) + b"\r\n"},
     "line 1: the header's file date 2024-11-02 differs from the file name's date 2024-11-01"),
    (GOOD, {"header": b"HDR2024113".ljust(80) + b"\r\n"},
     "line 1: the header's file date is not a date (YYYYMMDD)"),
    (GOOD, {"header": b""}, "line 1: no header record (the file does not start with HDR)"),
    (GOOD, {"header": b"HDR20241101\r\n"}, "line 1: the header record is 11 bytes, not 80"),
    ([record(), record() + b"\n" + record()], {},
     "line 3: a line break that is not CRLF (every record ends with CRLF)"),
    ([record(), trailer(1)[:-2], record()], {},
     "line 3: a trailer record before the end of the file"),
    ([record(), HEADER[:-2], record()], {},
     "line 3: a second header record inside the file (files concatenated?)"),
    # Valid structure, but a byte that is no CP950 character (0x80) in the second record.
    ([record(), record(name=b"\x80".ljust(12))], {},
     "line 3: not valid cp950 text (wrong encoding or damaged bytes)"),
])  # fmt: skip
def test_a_broken_file_is_refused_with_the_reason_and_line(storage, tmp_path, details, kwargs,
                                                           reason):
    batch = delivery(tmp_path, details, **kwargs)
    with pytest.raises(DeliveryError) as refused:
        fixed_width.check(storage, batch, FEED)
    assert str(refused.value) == reason
    assert "A123456789" not in reason and "王" not in reason


def test_an_empty_file_is_refused(storage, tmp_path):
    path = tmp_path / NAME
    path.write_bytes(b"")
    batch = Batch("b1", FEED.name, NAME, str(path), "d" * 64, DAY)
    with pytest.raises(DeliveryError, match=r"^empty file \(0 bytes\): no header record$"):
        fixed_width.check(storage, batch, FEED)


def test_the_layout_comes_from_the_contract_options():
    lay = fixed_width.layout(FEED)
    assert lay == fixed_width.Layout(record_length=80, header_tag="HDR", trailer_tag="TRL")
    broken = contracts.parse_feed(
        {**_raw_contract(), "delivery": {**_raw_contract()["delivery"],
                                         "options": {"record_length": 80, "pad": " "}}},
        Path("broken.yaml"))
    with pytest.raises(contracts.ContractError, match=r"unknown fixed_width option\(s\) \['pad'\]"):
        fixed_width.layout(broken)


def _raw_contract() -> dict[str, object]:
    import yaml

    raw = yaml.safe_load(Path(FEED.path).read_text(encoding="utf-8"))
    assert isinstance(raw, dict)
    return raw
