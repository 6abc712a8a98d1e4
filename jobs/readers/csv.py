"""CSV deliveries (header row, quoted fields, any charset the contract names).

Delivery options: ``delimiter``, ``quote``, ``header`` and ``encoding`` of the contract.

Columns are matched by the header's **names**, in any order (see :func:`jobs.bronze.read_csv`):
a new column is kept in bronze's ``_extra`` map and reported as schema drift, an optional
column the header lacks is read as no value (drift too), a missing or renamed required column
refuses the delivery naming it.

:func:`check` refuses a file that cannot be read whole, naming the line: a byte-order mark
the contract does not expect (or a missing one it does), bytes that are not text in the
contract's charset, a header without a required column, a column without a name or named
twice, a quoted field that is never closed (the rest of the file would silently become one
value), and a last line without its line break (a file cut short). CRLF and LF may be mixed:
every record still splits unambiguously.

Record-level problems do not refuse the file: a record with more or fewer fields than the
header, or one holding a control character, keeps its text in ``_corrupt_record`` and is
quarantined by the silver stage with its record number; a header repeated mid-file (two
extracts concatenated) is quarantined as ``record.repeated_header``.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable

from pyspark.sql import DataFrame, SparkSession

from jobs import bronze
from jobs.bronze import Batch, python_codec
from jobs.readers.common import check_charset
from kernel.contracts import FeedContract
from kernel.errors import DeliveryError
from kernel.storage import Storage

BOM = b"\xef\xbb\xbf"
CHUNK = 1 << 20
"""Bytes per read of the structural scan."""


def _head(storage: Storage, batch: Batch) -> tuple[bytes, bool]:
    head = storage.read_bytes(batch.path, bronze.HEAD_BYTES)
    return head, head.startswith(BOM)


def check(storage: Storage, batch: Batch, contract: FeedContract) -> None:
    """Refuse a delivery that cannot be read whole (see the module docstring); the reason
    names the line."""
    head, has_bom = _head(storage, batch)
    wants_bom = contract.delivery.encoding.lower() == "utf-8-sig"
    if has_bom and not wants_bom:
        raise DeliveryError("line 1: a UTF-8 byte-order mark where the contract expects "
                            f"{contract.delivery.encoding} without one")
    check_charset(storage, batch.path, contract)
    if wants_bom and not has_bom:
        raise DeliveryError("line 1: no UTF-8 byte-order mark (the contract expects one)")
    if contract.delivery.header:
        bronze.check_header(bronze.header_fields(head, contract), contract)
    found = scan(storage.iter_bytes(batch.path, CHUNK), contract)
    if found:
        raise DeliveryError(found)


def drift(storage: Storage, batch: Batch, contract: FeedContract) -> list[str]:
    """New columns, optional columns the header lacks, another column order (names only)."""
    if not contract.delivery.header:
        return []
    head, _ = _head(storage, batch)
    header = bronze.check_header(bronze.header_fields(head, contract), contract)
    return bronze.drift_lines(header, contract)


def read(spark: SparkSession, batch: Batch, contract: FeedContract) -> DataFrame:
    """Every record after the header; see :func:`jobs.bronze.read_csv`."""
    return bronze.read_csv(spark, batch.path, contract)


def declared(storage: Storage, batch: Batch, contract: FeedContract) -> int | None:
    """A CSV delivery declares no record count."""
    return None


def _ascii_compatible(encoding: str) -> bool:
    """True when quotes, delimiters and line breaks are the ASCII bytes, never part of another
    character (CP950's second bytes are 0x40 and above; UTF-8's are 0x80 and above)."""
    name = codecs.lookup(python_codec(encoding)).name
    return not name.startswith(("utf-16", "utf-32", "utf_16", "utf_32"))


def scan(chunks: Iterable[bytes], contract: FeedContract) -> str | None:
    """Why the file's quoting or its end is broken, naming the line; ``None`` when sound.

    One streaming pass over the bytes, looking only at quote characters: a quote at the start
    of a field (after the delimiter, a line break or the start of the file) opens a quoted
    field; inside one, a doubled quote is a quote and a single one closes it. A quote inside
    an unquoted field is a literal character, as the CSV parser reads it. The file must not
    end inside a quoted field, and its last line must end with a line break.
    """
    d = contract.delivery
    codec = python_codec(d.encoding)
    if not _ascii_compatible(d.encoding):
        return None
    quote, delim = d.quote.encode(codec), d.delimiter.encode(codec)
    starts = (b"\n", delim)
    line, inside, opened, pending = 1, False, 0, False
    prev = b"\n"  # the start of the file is the start of a field
    first = True
    for chunk in chunks:
        if not chunk:
            continue
        i = 0
        if first:
            first = False
            if chunk.startswith(BOM):
                i = len(BOM)
        if pending:  # a quote ended the previous chunk inside a quoted field
            pending = False
            if chunk[:1] == quote:
                i = 1  # a doubled quote: still inside
            else:
                inside = False
        while True:
            j = chunk.find(quote, i)
            if j < 0:
                break
            if inside:
                if j + 1 == len(chunk):
                    pending = True
                    i = j + 1
                    break
                if chunk[j + 1: j + 2] == quote:
                    i = j + 2
                    continue
                inside, i = False, j + 1
                continue
            before = chunk[j - 1: j] if j > 0 else prev
            if before in starts:
                inside, opened = True, line + chunk.count(b"\n", 0, j)
            i = j + 1
        line += chunk.count(b"\n")
        prev = chunk[-1:]
    if pending:
        inside = False
    if inside:
        return (f"line {opened}: a quoted field opened here is never closed (unbalanced "
                "quotes, or the file was cut short): the rest of the file would be one value")
    if prev != b"\n":
        return (f"incomplete file: the last line (line {line}) does not end with a line break "
                "(the file was cut short?)")
    return None
