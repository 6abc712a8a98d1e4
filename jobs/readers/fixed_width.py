"""Fixed-width deliveries: records of ``record_length`` bytes cut by byte offsets, CRLF after
each, a header record first and a trailer record with the detail count last.

Layout (``delivery.options`` of the contract; the keys this reader reads):

``record_length`` (int, required)
    Bytes per record, without its CRLF.
``header_tag`` (default ``HDR``)
    The first record: the tag, the file date (Gregorian ``YYYYMMDD``, equal to the file name's
    date), spaces to ``record_length``.
``trailer_tag`` (default ``TRL``)
    The last record: the tag, the number of detail records (10 digits, zero padded), spaces.

Each contract field names its bytes (``bytes: [first, last]``, 1-based, inclusive): offsets
count **bytes**, not characters (a Chinese character of CP950 takes two).

Everything stays in the JVM, on bytes: the file is loaded with Spark's ``binaryFile`` source,
split into records at CRLF through an ISO-8859-1 view of its bytes (one character per byte,
lossless; 0x0D and 0x0A are never the second byte of a CP950 character, so a CRLF is always a
record end), each record turned back into its bytes, and each field cut from them with
``substring`` on binary (byte-based) and decoded with the contract's charset (``MS950``: EUDC
characters of rare names included). No Python UDF.

``_source_row`` is the record's **line number in the file**: the header is line 1, so the
first detail record is line 2; refusal messages and quarantine rows name the same lines.
Field values keep their spaces (the silver stage trims them). A detail record of the wrong
length, or one whose field boundaries fall inside a two-byte character, keeps its text in
``_corrupt_record`` and has no field values; so does a record with a control character in a
field's bytes (its fields keep their values); the silver stage quarantines them.

:func:`check` refuses a file whose structure is broken, in this order, so that the message
names the real cause: line ends that are not CRLF; the header (present, well formed, dated as
the file name); the trailer (present as the last record, complete, well formed; a file cut
short by a killed job has neither a complete last record nor a trailer); header or trailer
records inside the file; the trailer's count against the detail records; and only then the
charset of the whole file (a file cut inside a two-byte character would otherwise be reported
as an encoding problem).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.bronze import CORRUPT, Batch, has_control_characters
from jobs.readers.common import check_charset
from kernel.contracts import ContractError, FeedContract
from kernel.errors import DeliveryError
from kernel.storage import Storage

BYTES = "ISO-8859-1"
"""The charset that maps each byte to one character and back (the records' byte view)."""
CRLF = "\r\n"
_LEAD_MARK = "\u0100"  # stands for the first byte of a two-byte character (see _aligned)
_TRAIL_MARK = "\u0101"
# CP950 lead bytes (0x81-0xFE) start a two-byte character; 0x00-0x7F are one byte each.
_PAIR = r"(?s)[\x81-\xFE]."
_COUNT_DIGITS = 10
_DATE_DIGITS = 8
_PREVIEW = 120  # characters of a record collected to the driver (header, trailer): no data


@dataclass(frozen=True)
class Layout:
    """The record layout of a fixed-width contract (``delivery.options``)."""

    record_length: int
    header_tag: str
    trailer_tag: str


def layout(contract: FeedContract) -> Layout:
    """The layout the contract's ``delivery.options`` declare (validated)."""
    options = contract.delivery.options
    known = {"record_length", "header_tag", "trailer_tag"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ContractError(contract.path, "delivery.options",
                            f"unknown fixed_width option(s) {unknown} (known: {sorted(known)})")
    out = Layout(int(options.get("record_length", 0)), str(options.get("header_tag", "HDR")),
                 str(options.get("trailer_tag", "TRL")))
    for name, tag, width in (("header_tag", out.header_tag, _DATE_DIGITS),
                             ("trailer_tag", out.trailer_tag, _COUNT_DIGITS)):
        if not re.fullmatch(r"[A-Z0-9]+", tag) or len(tag) + width > out.record_length:
            raise ContractError(contract.path, f"delivery.options.{name}",
                                f"{tag!r} is not an upper-case ASCII tag that fits the record")
    if out.header_tag == out.trailer_tag:
        raise ContractError(contract.path, "delivery.options", "header and trailer tags differ")
    return out


# --- the file's structure ------------------------------------------------------------------


@dataclass(frozen=True)
class Structure:
    """What :func:`structure` finds in a file, in counts and line numbers (no data values).

    ``records`` counts CRLF-terminated records plus an unterminated tail; ``tail_length`` is
    the tail's length in bytes (0 when the file ends with CRLF).
    """

    records: int
    tail_length: int
    tail_ends_with_cr: bool
    first_length: int
    first: bytes
    last_length: int
    last: bytes
    bare_break_line: int | None
    header_lines: tuple[int, ...]
    trailer_lines: tuple[int, ...]

    @property
    def terminated(self) -> bool:
        """True when the file ends with CRLF."""
        return self.tail_length == 0


def _lines(spark: SparkSession, path: str) -> DataFrame:
    """One row: ``parts``, the file's bytes (as ISO-8859-1 text) split at every CRLF."""
    return spark.read.format("binaryFile").load(path).select(
        F.split(F.decode("content", BYTES), CRLF, -1).alias("parts"))


def _indices(parts: Column, predicate: Any, first: int = 1) -> Column:
    """The 1-based indices (from ``first``) of the elements of ``parts`` where ``predicate``
    holds, at most 3 of them, in order."""
    hits = F.filter(
        F.transform(parts, lambda x, i: F.when(predicate(x) & (i + 1 >= first), i + 1)),
        lambda v: v.isNotNull())
    return F.slice(hits, 1, 3)


def structure(spark: SparkSession, path: str, lay: Layout) -> Structure:
    """Read the file once (in the JVM) and return its structure: record count, the first and
    last records (their first bytes only), where line breaks are not CRLF and where header
    and trailer tags occur."""
    parts = F.col("parts")
    n = F.size(parts)
    tail = F.element_at(parts, -1)
    last = F.when(F.length(tail) == 0, F.element_at(parts, F.greatest(n - 1, F.lit(1)))) \
        .otherwise(tail)
    tail_body = F.regexp_replace(tail, "\r$", "")
    inner = F.slice(parts, 1, F.greatest(n - 1, F.lit(0)))
    bare = F.array_min(_indices(inner, lambda x: x.rlike("[\r\n]")))
    tail_bare = tail_body.rlike("[\r\n]")
    row = _lines(spark, path).select(
        n.alias("n"),
        F.length(tail).alias("tail_length"),
        tail.endswith(F.lit("\r")).alias("tail_cr"),
        F.length(F.element_at(parts, 1)).alias("first_length"),
        F.substring(F.element_at(parts, 1), 1, _PREVIEW).alias("first"),
        F.length(last).alias("last_length"),
        F.substring(last, 1, _PREVIEW).alias("last"),
        F.when(bare.isNotNull(), bare).when(tail_bare, n).alias("bare"),
        _indices(parts, lambda x: x.startswith(lay.header_tag), first=2).alias("headers"),
        _indices(parts, lambda x: x.startswith(lay.trailer_tag)).alias("trailers"),
    ).first()
    if row is None:
        raise DeliveryError("the file vanished while it was read")
    records = int(row["n"]) - (1 if int(row["tail_length"]) == 0 else 0)
    return Structure(
        records=records,
        tail_length=int(row["tail_length"]),
        tail_ends_with_cr=bool(row["tail_cr"]),
        first_length=int(row["first_length"]),
        first=str(row["first"]).encode(BYTES),
        last_length=int(row["last_length"]),
        last=str(row["last"]).encode(BYTES),
        bare_break_line=None if row["bare"] is None else int(row["bare"]),
        header_lines=tuple(int(i) for i in row["headers"]),
        trailer_lines=tuple(int(i) for i in row["trailers"]),
    )


def _header_problem(s: Structure, lay: Layout, file_date: datetime.date) -> str | None:
    head, tag = s.first, lay.header_tag
    if not head.startswith(tag.encode("ascii")):
        return f"line 1: no header record (the file does not start with {tag})"
    if s.records == 1 and not s.terminated:
        return (f"incomplete file: the header record (line 1) is {s.first_length} bytes and "
                "the file ends there")
    if s.first_length != lay.record_length:
        return f"line 1: the header record is {s.first_length} bytes, not {lay.record_length}"
    raw = head[len(tag): len(tag) + _DATE_DIGITS]
    try:
        declared = datetime.datetime.strptime(raw.decode("ascii"), "%Y%m%d").date()
        if not raw.isdigit():
            raise ValueError(raw)
    except ValueError:
        return "line 1: the header's file date is not a date (YYYYMMDD)"
    if head[len(tag) + _DATE_DIGITS:].strip(b" "):
        return (f"line 1: the header record holds more than {tag} and the file date (bytes "
                f"{len(tag) + _DATE_DIGITS + 1}-{lay.record_length} are not spaces)")
    if declared != file_date:
        return (f"line 1: the header's file date {declared.isoformat()} differs from the file "
                f"name's date {file_date.isoformat()}")
    return None


def _trailer_problem(s: Structure, lay: Layout) -> str | None:
    tag, line = lay.trailer_tag, s.records
    if s.records < 2:
        return "incomplete file: no trailer record (the file holds only the header)"
    length = s.last_length - (1 if s.tail_ends_with_cr else 0)
    if not s.last.startswith(tag.encode("ascii")) or length != lay.record_length:
        if length != lay.record_length:
            return (f"incomplete file: no trailer record (last record, line {line}, is "
                    f"{length} bytes, not {lay.record_length})")
        return (f"incomplete file: no trailer record (last record, line {line}, does not "
                f"start with {tag})")
    if not s.terminated:
        return f"incomplete file: the trailer record (line {line}) does not end with CRLF"
    raw = s.last[len(tag): len(tag) + _COUNT_DIGITS]
    if len(raw) != _COUNT_DIGITS or not raw.isdigit():
        return f"line {line}: the trailer's record count is not {_COUNT_DIGITS} digits"
    if s.last[len(tag) + _COUNT_DIGITS:].strip(b" "):
        return (f"line {line}: the trailer record holds more than {tag} and the count (bytes "
                f"{len(tag) + _COUNT_DIGITS + 1}-{lay.record_length} are not spaces)")
    return None


def trailer_count(s: Structure, lay: Layout) -> int:
    """The detail count the (checked) trailer declares."""
    start = len(lay.trailer_tag)
    return int(s.last[start: start + _COUNT_DIGITS])


def problem(s: Structure, lay: Layout, file_date: datetime.date) -> str | None:
    """Why a file with structure ``s`` cannot be ingested (the first reason), or ``None``."""
    if s.records == 0:
        return "empty file: no header record"
    if s.bare_break_line is not None:
        return (f"line {s.bare_break_line}: a line break that is not CRLF (every record ends "
                "with CRLF)")
    found = _header_problem(s, lay, file_date) or _trailer_problem(s, lay)
    if found:
        return found
    if s.header_lines:
        return (f"line {s.header_lines[0]}: a second header record inside the file (files "
                "concatenated?)")
    early = [i for i in s.trailer_lines if i != s.records]
    if early:
        return f"line {early[0]}: a trailer record before the end of the file"
    declared, details = trailer_count(s, lay), s.records - 2
    if declared != details:
        return (f"trailer declares {declared} detail records, the file holds {details} "
                f"(trailer on line {s.records})")
    return None


# --- the reader's functions ----------------------------------------------------------------


def check(storage: Storage, batch: Batch, contract: FeedContract) -> None:
    """Refuse a file whose structure is broken or that is not text in the contract's charset.

    The reason names the line (see the module docstring for the order of the checks)."""
    lay = layout(contract)
    if storage.file_size(batch.path) == 0:
        raise DeliveryError("empty file (0 bytes): no header record")
    found = problem(structure(storage.spark, batch.path, lay), lay, batch.file_date)
    if found:
        raise DeliveryError(found)
    check_charset(storage, batch.path, contract)  # names the line of the first bad byte


def declared(storage: Storage, batch: Batch, contract: FeedContract) -> int | None:
    """The number of detail records the trailer declares."""
    lay = layout(contract)
    tail_bytes = 2 * (lay.record_length + len(CRLF)) + 2
    row = (storage.spark.read.format("binaryFile").load(batch.path)
           .select(F.substring("content", -tail_bytes, tail_bytes).alias("tail")).first())
    if row is None:
        raise DeliveryError("the file vanished while it was read")
    records = [r for r in bytes(row["tail"]).split(CRLF.encode("ascii")) if r]
    tag = lay.trailer_tag.encode("ascii")
    if not records or not records[-1].startswith(tag):
        raise DeliveryError("incomplete file: no trailer record")
    count = records[-1][len(tag): len(tag) + _COUNT_DIGITS]
    if not count.isdigit():
        raise DeliveryError(f"the trailer's record count is not {_COUNT_DIGITS} digits")
    return int(count)


def _aligned(text: Column, boundaries: list[int]) -> Column:
    """TRUE when no byte position in ``boundaries`` ends in the middle of a two-byte character.

    The record's bytes are tokenised left to right as the decoder does (a lead byte 0x81-0xFE
    takes the next byte with it): each pair becomes a lead mark and a trail mark, so a boundary
    after byte ``b`` splits a character exactly when character ``b`` is a lead mark."""
    marks = F.regexp_replace(text, _PAIR, _LEAD_MARK + _TRAIL_MARK)
    checks = [F.substring(marks, b, 1) != F.lit(_LEAD_MARK) for b in boundaries]
    out = F.lit(True)
    for c in checks:
        out = out & c
    return out


def read(spark: SparkSession, batch: Batch, contract: FeedContract) -> DataFrame:
    """Every detail record (not the header or trailer), one row each: the wire-named fields
    cut by bytes and decoded, ``_corrupt_record``, ``_source_row`` (the line number)."""
    lay = layout(contract)
    cs = contract.delivery.java_charset
    parts = F.col("parts")
    n = F.size(parts)
    last = F.when(F.length(F.element_at(parts, -1)) == 0, n - 2).otherwise(n - 1)
    lines = _lines(spark, batch.path).select(
        F.posexplode(parts).alias("pos", "text"), last.alias("last"))
    details = lines.where(
        (F.col("pos") > 0) & ((F.col("pos") < F.col("last")) | (
            (F.col("pos") == F.col("last")) & ~F.col("text").startswith(lay.trailer_tag))))
    spans = [f.bytes for f in contract.fields if f.bytes is not None]
    boundaries = sorted({b for first, last_byte in spans for b in (first - 1, last_byte)} - {0})
    text = F.col("text")
    record = F.encode(text, BYTES)
    ok = (F.octet_length(record) == F.lit(lay.record_length)) & _aligned(text, boundaries)
    fields, values = [], []
    for f in contract.fields:
        assert f.bytes is not None  # the contract requires bytes for fixed_width fields
        first, last_byte = f.bytes
        value = F.decode(F.substring(record, first, last_byte - first + 1), cs)
        values.append(value)
        fields.append(F.when(ok, value).alias(f.wire))
    # A control character in a field's bytes (not the filler) damages the record.
    # (CASE WHEN: a misaligned record's fields are never decoded.)
    damaged = F.when(ok, has_control_characters(values)).otherwise(F.lit(True))
    return details.select(
        *fields,
        F.when(damaged, F.decode(record, cs)).alias(CORRUPT),
        (F.col("pos") + 1).cast("long").alias("_source_row"),
    )


__all__ = ["Layout", "Structure", "check", "declared", "layout", "problem", "read", "structure"]
