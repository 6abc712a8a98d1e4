"""Pulled JSON pages (``delivery.format: json_pages``): the API pages a puller landed.

A pulled batch is a folder of pages ``page-00001.json`` … exactly as the API returned them
(see :mod:`pull.api`), each ``{"page", "page_size", "total_pages", "records": [...]}``
(the array's key is the option ``records_key``, default ``records``), with the landing stage's
``SHA256SUMS`` and ``manifest.json`` next to them.

``check`` refuses the batch unless every page is UTF-8 JSON (one object, nothing after it) with
the records array, its ``page`` is the number in its file name, all pages state the same
``total_pages`` and ``page_size``, pages 1 … ``total_pages`` are all there (and no other), and
every page but the last holds exactly ``page_size`` records (the last 1 … ``page_size``): the
API's own statement of how many records there are, so a short page means records were lost.

``read`` is Spark's JSON reader (multi-line: one page per file), the records array exploded:
each record's text is parsed with ``from_json`` into one string column per wire key (a missing
key or ``null``: null; a number or boolean: its JSON text, ``25250``; an object or array: its
JSON text). A record that is not a JSON object (``"abc"``, ``5``, ``[…]``, ``null``) keeps its
text in ``_corrupt_record`` (``null`` for a null) and is quarantined by the silver stage.
``_source_row`` is the record's 1-based ordinal in the whole pull,
``(page - 1) * page_size + index in the page + 1``: stable, because ``check`` guarantees full
pages before the last.

``check`` then refuses a pull in which a required field's key is carried by none of the records
(the field is missing from the interface, or renamed), naming the key and its column; keys the
contract does not know are schema drift (``drift``: names, counts and the first record; never a
value): reported, the run goes on (the landed pages keep them, byte for byte).

A record whose values hold a control character (tab and line breaks excepted; JSON writes them
escaped, ``\u0007``) keeps its text in ``_corrupt_record`` as well.

``declared`` is the number of records the puller counted as it received the pages (the
manifest's ``records``, parsed by the puller independently of Spark), else the sum of the
pages' array lengths: the bronze stage reconciles it with the rows Spark read.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.bronze import CORRUPT, Batch, has_control_characters
from jobs.readers.common import check_charset, wire_schema
from kernel.contracts import FeedContract
from kernel.errors import DeliveryError
from kernel.storage import Storage

PAGE_GLOB = "page-*.json"
_EVERY = "\u0000record"  # counts every record among the keys (no JSON key is this)
_KEYS: OrderedDict[tuple[str, str], Keys] = OrderedDict()
_KEYS_KEPT = 8
PAGE_NAME = re.compile(r"page-(\d{5})\.json")
MANIFEST = "manifest.json"


def records_key(contract: FeedContract) -> str:
    """The key of the records array in a page (option ``records_key``)."""
    return str(contract.delivery.options.get("records_key", "records"))


@dataclass(frozen=True)
class Page:
    """What one landed page states about itself (no record values)."""

    name: str
    number: int
    parsed: bool
    """The file is one JSON object and nothing else."""
    page: int | None
    page_size: int | None
    total_pages: int | None
    records: int | None
    """Length of the records array; None when there is no array."""


def pages(storage: Storage, batch: Batch, contract: FeedContract) -> list[Page]:
    """Every landed page's statement (one small row per page, computed in the JVM)."""
    spark, key = storage.spark, records_key(contract)
    glob = f"{batch.path}/{PAGE_GLOB}"
    # Numbers typed (a page number written as a string is no page number); the records as
    # their JSON text, so that a page whose records are not an array still parses.
    lenient = (spark.read.schema(f"page long, page_size long, total_pages long, "
                                 f"`{key}` string, {CORRUPT} string")
               .option("multiLine", "true").option("mode", "PERMISSIVE")
               .option("columnNameOfCorruptRecord", CORRUPT).option("encoding", "UTF-8")
               .json(glob))
    stated = lenient.select(
        F.col("_metadata.file_name").alias("name"), "page", "page_size", "total_pages",
        F.size(F.from_json(F.col(f"`{key}`"), "array<string>")).alias("n"),
        F.col(f"`{key}`").isNotNull().alias("has_records"),
        (F.col(CORRUPT).isNull() | F.coalesce("page", "page_size", "total_pages",
                                               F.col(f"`{key}`")).isNotNull()).alias("json_ok"),
    )
    text = F.expr("decode(content, 'UTF-8')")
    whole = spark.read.format("binaryFile").load(glob).select(
        F.element_at(F.split("path", "/"), -1).alias("name"),
        ((F.regexp_extract(text, r"^\s*(\S)", 1) == "{")
         & (F.regexp_extract(text, r"(\S)\s*$", 1) == "}")).alias("object_only"),
    )
    out = []
    for r in stated.join(whole, "name", "left").collect():
        m = PAGE_NAME.fullmatch(r["name"])
        has_array = bool(r["has_records"]) and r["n"] is not None and r["n"] >= 0
        out.append(Page(
            name=r["name"], number=int(m[1]) if m else 0,
            parsed=bool(r["json_ok"]) and bool(r["object_only"]),
            page=r["page"], page_size=r["page_size"], total_pages=r["total_pages"],
            records=int(r["n"]) if has_array else None))
    return sorted(out, key=lambda p: (p.number, p.name))


def check(storage: Storage, batch: Batch, contract: FeedContract) -> None:
    """Refuse a pull whose pages are not complete, consistent JSON pages (module docstring)."""
    names = [f.name for f in storage.list_files(batch.path) if f.name.startswith("page-")]
    if not names:
        raise DeliveryError("no pages (page-NNNNN.json) in the pulled delivery")
    for name in names:
        if not PAGE_NAME.fullmatch(name):
            raise DeliveryError(f"{name}: not a page file name (page-NNNNN.json)")
    check_charset(storage, f"{batch.path}/{PAGE_GLOB}", contract)
    key = records_key(contract)
    found = pages(storage, batch, contract)
    for p in found:
        if not p.parsed:
            raise DeliveryError(f"{p.name}: not valid JSON (one object per page)")
        if p.records is None:
            raise DeliveryError(f"{p.name}: no {key} array")
        if p.page is None:
            raise DeliveryError(f"{p.name}: no page number")
        if p.page != p.number:
            raise DeliveryError(f"{p.name}: the page states another page number")
        if p.total_pages is None or p.total_pages < 0:
            raise DeliveryError(f"{p.name}: no total_pages")
        if p.page_size is None or p.page_size < 1:
            raise DeliveryError(f"{p.name}: no page_size")
    for attr in ("total_pages", "page_size"):
        values = sorted({getattr(p, attr) for p in found})
        if len(values) > 1:
            raise DeliveryError(f"the pages disagree on {attr} ({', '.join(map(str, values))})")
    total, size = found[0].total_pages or 0, found[0].page_size or 0
    numbers = {p.number for p in found}
    expected = set(range(1, max(total, 1) + 1))
    missing = sorted(expected - numbers)
    if missing:
        raise DeliveryError(f"page(s) {_listing(missing)} of {total} missing")
    extra = sorted(numbers - expected)
    if extra:
        raise DeliveryError(f"page(s) {_listing(extra)} beyond total_pages {total}")
    for p in found:
        n = p.records or 0
        if n > size:
            raise DeliveryError(f"{p.name}: {n} records on a page of {size}")
        if p.number < total and n != size:
            raise DeliveryError(f"{p.name}: {n} records on a page of {size} that is not the "
                                "last (records lost between pages)")
        if p.number == total and n == 0:
            raise DeliveryError(f"{p.name}: no records on the last page of {total}")


    found_keys = keys(storage, batch, contract)
    absent = [f for f in contract.fields if f.required and f.wire not in found_keys.counts]
    if found_keys.records and absent:
        fields = ", ".join(f"{f.wire} ({f.name})" for f in absent)
        why = f"required field(s) {fields} in none of the {found_keys.records} records"
        new = found_keys.unknown(contract)
        if new:
            why += f"; the records carry unknown field(s) {', '.join(new)} (renamed?)"
        raise DeliveryError(why)


@dataclass(frozen=True)
class Keys:
    """The keys the records of a pull carry: per key, how many records and the first one."""

    records: int
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)

    def unknown(self, contract: FeedContract) -> list[str]:
        """The keys the contract does not know, in the order of their first record."""
        wires = {f.wire for f in contract.fields}
        return sorted((k for k in self.counts if k not in wires),
                      key=lambda k: (self.counts[k][1], k))


def keys(storage: Storage, batch: Batch, contract: FeedContract) -> Keys:
    """The keys of every record of the pull (one Spark job, once per landed batch)."""
    cache = (batch.path, batch.sha256)
    if cache in _KEYS:
        return _KEYS[cache]
    key = records_key(contract)
    raw = (storage.spark.read.schema(f"page long, page_size long, `{key}` array<string>")
           .option("multiLine", "true").option("mode", "PERMISSIVE").option("encoding", "UTF-8")
           .json(f"{batch.path}/{PAGE_GLOB}"))
    records = raw.select("page", "page_size",
                         F.posexplode(F.col(f"`{key}`")).alias("_index", "_text"))
    ordinal = (F.col("page") - 1) * F.col("page_size") + F.col("_index") + 1
    names = F.array_union(F.coalesce(F.json_object_keys("_text"), F.array().cast("array<string>")),
                          F.array(F.lit(_EVERY)))
    rows = (records.select(ordinal.alias("o"), F.explode(names).alias("k"))
            .groupBy("k").agg(F.count(F.lit(1)).alias("n"), F.min("o").alias("first"))
            .collect())
    counts = {str(r["k"]): (int(r["n"]), int(r["first"])) for r in rows}
    total = counts.pop(_EVERY, (0, 0))[0]
    found = _KEYS[cache] = Keys(total, counts)
    while len(_KEYS) > _KEYS_KEPT:
        _KEYS.popitem(last=False)
    return found


def drift(storage: Storage, batch: Batch, contract: FeedContract) -> list[str]:
    """One line per key the contract does not know: records carrying it, the first one."""
    found = keys(storage, batch, contract)
    return [f"new field {k}: in {found.counts[k][0]} of {found.records} record(s), first in "
            f"record {found.counts[k][1]}; not in the contract (kept in the landed pages)"
            for k in found.unknown(contract)]


def _listing(numbers: list[int], limit: int = 10) -> str:
    shown = ", ".join(str(n) for n in numbers[:limit])
    return shown + (f" and {len(numbers) - limit} more" if len(numbers) > limit else "")


def read(spark: SparkSession, batch: Batch, contract: FeedContract) -> DataFrame:
    """Every record of every page: wire-named strings, ``_corrupt_record``, ``_source_row``."""
    key = records_key(contract)
    raw = (spark.read.schema(f"page long, page_size long, `{key}` array<string>")
           .option("multiLine", "true").option("mode", "PERMISSIVE").option("encoding", "UTF-8")
           .json(f"{batch.path}/{PAGE_GLOB}"))
    exploded = raw.select("page", "page_size",
                          F.posexplode(F.col(f"`{key}`")).alias("_index", "_text"))
    options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT}
    parsed = exploded.select(
        "page", "page_size", "_index", "_text",
        F.from_json("_text", wire_schema(contract), options).alias("_r"))
    values = [F.col("_r")[f.wire] for f in contract.fields]
    corrupt: Column = F.coalesce(F.col("_r")[CORRUPT],
                                 F.when(F.col("_text").isNull(), F.lit("null")),
                                 F.when(has_control_characters(values), F.col("_text")))
    return parsed.select(
        *[F.col("_r")[f.wire].alias(f.wire) for f in contract.fields],
        corrupt.alias(CORRUPT),
        ((F.col("page") - 1) * F.col("page_size") + F.col("_index") + 1)
        .cast("long").alias("_source_row"),
    )


def declared(storage: Storage, batch: Batch, contract: FeedContract) -> int | None:
    """The records the puller counted (the manifest), else the sum of the pages' arrays."""
    manifest = f"{batch.path}/{MANIFEST}"
    if storage.file_exists(manifest):
        try:
            count = json.loads(storage.read_bytes(manifest).decode("utf-8")).get("records")
        except (ValueError, AttributeError):
            count = None
        if isinstance(count, int) and not isinstance(count, bool):
            return count
    return sum(p.records or 0 for p in pages(storage, batch, contract))
