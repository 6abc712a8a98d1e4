"""XML deliveries: one element per record, one child element per field (feed 5 and alike).

Delivery options (``delivery.options`` of the contract): ``root_tag``, the document element,
and ``row_tag``, the record element (each a child of the root). The field elements are named by
the contract's wire names; their order inside a record does not matter.

:func:`check` streams the file once through expat (the structure only, never a value):

- strict decoding in the contract's charset (the line of the first bad byte is named); a UTF-8
  byte-order mark is accepted, as XML allows it;
- the XML declaration, when present, names the contract's encoding (without one, XML means
  UTF-8, so the contract must say UTF-8);
- no DOCTYPE (the interface has none, and entity declarations are not accepted);
- well-formed: a file that is not is refused as ``not well-formed XML: line L, column C:
  <expat's reason>`` (column 1-based);
- the document element is ``root_tag``; records are its children: a ``row_tag`` element
  anywhere else is refused, and so is a bare ``<農民/>`` record (Spark's XML reader skips that
  exact form, which would lose a record);
- schema drift: elements the contract does not know (a new field, markup inside a field,
  other children of the root) do not stop the delivery: Spark ignores them; they are logged as
  a warning (element names, counts and first lines, never values) and :func:`drift` returns
  them for the stage to record.

:func:`read` parses the records with Spark's XML source (``multiLine``: StAX, one file is one
partition, so ``_source_row`` counts records in file order even for a large file). How absent
values arrive: an omitted element gives null, an empty element (``<x/>`` and ``<x></x>``
alike, and ``<x xsi:nil="true"/>``) gives ``""`` (conform's ``empty_to_null`` makes both no
value), and white space inside an element is kept as delivered (``ignoreSurroundingSpaces``
off: bronze keeps the agency's text; conform trims). Every field is read as an array of
strings, so that a record repeating a field, or holding text outside its fields, is not
silently cut down to one value: it gets ``_corrupt_record`` (the record re-serialised with
``to_xml``) and is quarantined as ``record.malformed``; the field columns keep the first
occurrence. Entities and CDATA are resolved by the parser (``&amp;`` is ``&``).

:func:`declared` is the number of record elements the expat pass counted: the document's own
structure, read by a second, independent parser; the bronze stage reconciles it with the rows
Spark read.
"""

from __future__ import annotations

import codecs
import logging
import re
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import reduce
from typing import Any
from xml.parsers import expat

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.bronze import CORRUPT, Batch, python_codec
from jobs.readers.common import source_row_in_file
from kernel.contracts import ContractError, FeedContract
from kernel.errors import DeliveryError
from kernel.storage import Storage

log = logging.getLogger(__name__)

OPTION_KEYS = ("root_tag", "row_tag")
"""The ``delivery.options`` this reader reads (both required)."""
VALUE_TAG = "_VALUE"
"""Spark's column for text directly inside a record element (outside its fields)."""
CHUNK = 1 << 20
"""Bytes per read of the streaming structural check."""
_UTF8 = {"utf-8", "utf-8-sig"}
_WS = r"^[\s\u3000]+|[\s\u3000]+$"
_SCANS: OrderedDict[tuple[str, str], Scan] = OrderedDict()
_SCANS_KEPT = 8


@dataclass(frozen=True)
class XmlOptions:
    """The contract's XML delivery options."""

    root_tag: str
    row_tag: str


def options(contract: FeedContract) -> XmlOptions:
    """The contract's ``root_tag`` and ``row_tag``; :class:`ContractError` if they are wrong."""
    opts = contract.delivery.options
    unknown = sorted(set(opts) - set(OPTION_KEYS))
    if unknown:
        raise ContractError(contract.path, "delivery.options",
                            f"unknown key(s) {unknown} for format xml (known: {OPTION_KEYS})")
    values = {}
    for key in OPTION_KEYS:
        value = str(opts.get(key) or "")
        if not re.fullmatch(r"[^\s<>&/=\"']+", value):
            raise ContractError(contract.path, "delivery.options",
                                f"format xml needs {key}: an element name")
        values[key] = value
    if values["root_tag"] == values["row_tag"]:
        raise ContractError(contract.path, "delivery.options", "root_tag and row_tag are equal")
    wires = {f.wire for f in contract.fields}
    if wires & set(values.values()) or VALUE_TAG in wires:
        raise ContractError(contract.path, "delivery.options",
                            "a field's wire name repeats root_tag, row_tag or _VALUE")
    return XmlOptions(**values)


# --------------------------------------------------------------------------- structural check
@dataclass
class Drift:
    """Unknown elements of one kind: how many, and the first line."""

    count: int
    first_line: int


@dataclass
class Scan:
    """What the structural pass found: the record count and the schema drift."""

    records: int
    drift: dict[str, Drift] = field(default_factory=dict)

    def drift_messages(self) -> list[str]:
        """One line per kind of unknown element (names, counts, lines; never a value)."""
        return [f"{what}: {d.count} time(s), first at line {d.first_line}"
                for what, d in self.drift.items()]


class _Scanner:
    """Expat handlers that check the document's structure as it streams by."""

    def __init__(self, opts: XmlOptions, wires: set[str], encoding: str) -> None:
        self.opts = opts
        self.wires = wires
        self.encoding = encoding
        self.row = opts.row_tag.encode("utf-8")
        self.parser = expat.ParserCreate(encoding="UTF-8")  # the bytes fed are UTF-8
        self.parser.XmlDeclHandler = self._decl
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.stack: list[str] = []
        self.declared: str | None = None
        self.records = 0
        self.drift: dict[str, Drift] = {}
        self.row_start = 0
        self.row_bare = False
        self.window = b""  # the bytes fed lately (to look at a record's tag)
        self.window_start = 0

    def feed(self, data: bytes, final: bool = False) -> None:
        keep = self.window[-CHUNK:]
        self.window_start += len(self.window) - len(keep)
        self.window = keep + data
        self.parser.Parse(data, final)

    def _where(self) -> str:
        return f"line {self.parser.CurrentLineNumber}"

    def _decl(self, version: str, encoding: str | None, standalone: int) -> None:
        self.declared = encoding
        if encoding is not None and not _same_charset(encoding, self.encoding):
            raise DeliveryError(f"line 1: the XML declaration names encoding {encoding}, the "
                                f"contract expects {self.encoding}")

    def _doctype(self, name: str, sysid: str | None, pubid: str | None, subset: int) -> None:
        raise DeliveryError(f"{self._where()}: a DOCTYPE declaration (the interface has none; "
                            "entity declarations are not accepted)")

    def _note(self, what: str) -> None:
        d = self.drift.get(what)
        if d is None:
            self.drift[what] = Drift(1, self.parser.CurrentLineNumber)
        else:
            d.count += 1

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        depth = len(self.stack) + 1
        root, row = self.opts.root_tag, self.opts.row_tag
        if depth == 1 and name != root:
            raise DeliveryError(f"{self._where()}: the root element is <{name}>, the contract "
                                f"expects <{root}>")
        if name == row and depth != 2:
            raise DeliveryError(f"{self._where()}: a <{row}> record inside <{self.stack[-1]}>; "
                                f"records are children of <{root}>")
        if depth == 2:
            if name == row:
                self.records += 1
                self.row_start = self.parser.CurrentByteIndex
                self.row_bare = not attrs
            else:
                self._note(f"<{name}> among the records (not a <{row}>)")
        elif depth == 3 and self.stack[1] == row:
            self.row_bare = False
            if name not in self.wires:
                self._note(f"<{name}> in <{row}> (not a field of the contract)")
        elif depth >= 4 and self.stack[1] == row:
            self._note(f"<{name}> inside the field <{self.stack[2]}>")
        self.stack.append(name)

    def _end(self, name: str) -> None:
        self.stack.pop()
        if len(self.stack) == 1 and name == self.opts.row_tag and self.row_bare:
            lo = self.row_start - self.window_start
            hi = self.parser.CurrentByteIndex - self.window_start
            if lo >= 0 and self.window[lo:hi] == b"<" + self.row + b"/>":
                raise DeliveryError(
                    f"{self._where()}: record {self.records} is an empty <{name}/> element, "
                    "which the XML reader cannot read as a record (write it with its fields)")


def _same_charset(declared: str, contract_encoding: str) -> bool:
    """True when the XML declaration's encoding is the contract's (UTF-8 with or without BOM)."""
    try:
        a = codecs.lookup(declared).name
        b = codecs.lookup(python_codec(contract_encoding)).name
    except LookupError:
        return False
    return a == b or {a, b} <= _UTF8


def _chunks(storage: Storage, path: str) -> Iterator[bytes]:
    """The file's bytes, :data:`CHUNK` at a time, through the Hadoop file system."""
    yield from storage.iter_bytes(path, CHUNK)


def scan(storage: Storage, path: str, contract: FeedContract) -> Scan:
    """Stream the file through expat: charset, declaration, well-formedness, root, records.

    Raises :class:`DeliveryError` naming the line (and column) of the first problem.
    """
    enc = contract.delivery.encoding
    opts = options(contract)
    scanner = _Scanner(opts, {f.wire for f in contract.fields}, enc)
    decoder = codecs.getincrementaldecoder(python_codec(enc))(errors="strict")
    lines = 0
    try:
        for chunk in _chunks(storage, path):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line = lines + chunk[: max(exc.start, 0)].count(b"\n") + 1
                raise DeliveryError(f"not valid {enc} text: line {line} (wrong encoding or "
                                    "damaged bytes)") from None
            lines += chunk.count(b"\n")
            scanner.feed(text.encode("utf-8"))
        try:
            tail = decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise DeliveryError(f"not valid {enc} text: line {lines + 1} (the file ends inside "
                                "a character)") from None
        scanner.feed(tail.encode("utf-8"), final=True)
    except expat.ExpatError as exc:
        raise DeliveryError(f"not well-formed XML: line {exc.lineno}, column {exc.offset + 1}: "
                            f"{expat.ErrorString(exc.code)}") from None
    if scanner.declared is None and codecs.lookup(python_codec(enc)).name not in _UTF8:
        raise DeliveryError(f"no XML declaration naming the encoding (XML then means UTF-8, "
                            f"the contract expects {enc})")
    return Scan(records=scanner.records, drift=scanner.drift)


def _scan_of(storage: Storage, batch: Batch, contract: FeedContract) -> Scan:
    """The batch's scan, done once per landed file (landed files never change)."""
    key = (batch.path, batch.sha256)
    found = _SCANS.get(key)
    if found is None:
        found = _SCANS[key] = scan(storage, batch.path, contract)
        while len(_SCANS) > _SCANS_KEPT:
            _SCANS.popitem(last=False)
    return found


def check(storage: Storage, batch: Batch, contract: FeedContract) -> None:
    """Refuse a file that is not well-formed XML of the contract's shape (see the module doc);
    log the schema drift of an accepted one."""
    found = _scan_of(storage, batch, contract)
    for line in found.drift_messages():
        log.warning("%s: %s: schema drift, ignored: %s", contract.name, batch.file_name, line)


def drift(storage: Storage, batch: Batch, contract: FeedContract) -> list[str]:
    """The batch's schema drift, one line per kind of unknown element (empty when none)."""
    return _scan_of(storage, batch, contract).drift_messages()


def declared(storage: Storage, batch: Batch, contract: FeedContract) -> int | None:
    """The number of record elements in the document, as the structural pass counted them."""
    return _scan_of(storage, batch, contract).records


# --------------------------------------------------------------------------- rows
def _trimmed(x: Column) -> Column:
    return F.regexp_replace(x, _WS, "")


def read(spark: SparkSession, batch: Batch, contract: FeedContract) -> DataFrame:
    """Every record of the file (see the module doc): wire-named strings, ``_corrupt_record``,
    ``_source_row``."""
    opts = options(contract)
    wires = [f.wire for f in contract.fields]
    schema = ", ".join(f"`{w}` array<string>" for w in wires)
    schema += f", `{VALUE_TAG}` array<string>, `{CORRUPT}` string"
    raw = (
        spark.read.format("xml")
        .schema(schema)
        .option("rowTag", opts.row_tag)
        .option("charset", contract.delivery.java_charset)
        .option("multiLine", "true")  # StAX over the whole file: one partition per file
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT)
        .option("ignoreSurroundingSpaces", "false")
        .option("valueTag", VALUE_TAG)
        .load(batch.path)
    )
    repeated = [F.coalesce(F.size(F.col(f"`{w}`")) > 1, F.lit(False)) for w in wires]
    stray = F.coalesce(F.exists(VALUE_TAG, lambda x: _trimmed(x) != ""), F.lit(False))
    malformed = reduce(lambda a, b: a | b, repeated, stray)
    text = F.to_xml(F.struct(*[F.col(f"`{w}`") for w in wires], F.col(VALUE_TAG)),
                    {"rowTag": opts.row_tag})
    corrupt = F.when(F.col(CORRUPT).isNotNull(), F.col(CORRUPT)).when(malformed, text)
    first: list[Any] = [F.try_element_at(F.col(f"`{w}`"), F.lit(1)).alias(w) for w in wires]
    return raw.select(*first, corrupt.alias(CORRUPT), source_row_in_file())
