"""Readers: one per delivery format, chosen by the contract's ``delivery.format``.

A reader is a module with three functions:

``check(storage, batch, contract) -> None``
    Refuse a delivery that cannot be ingested whole (wrong encoding, missing trailer, XML not
    well formed, …) by raising :class:`jobs.bronze.DeliveryError` with a message that names the
    reason and, where it helps, the line or record (never a value).
``read(spark, batch, contract) -> DataFrame``
    Every delivered record, one row each: one string column per contract field named by its
    **wire** name, ``_corrupt_record`` (the record's text when it does not split into the
    fields, else null) and ``_source_row`` (long: the record's ordinal in the delivery,
    1-based). ``batch.path`` is the landed file (file drops) or the landed folder (pulls).
``declared(storage, batch, contract) -> int | None``
    The number of records the delivery itself declares (a trailer count, the sum of the API's
    pages), reconciled against bronze; ``None`` when the format declares none.
``drift(storage, batch, contract) -> list[str]`` (optional)
    Schema drift: one line per field the delivery carries that the contract does not know
    (names and counts, no values); recorded as a ``schema.drift`` warning, the run goes on.

``_source_row`` may be the line number where the format has header records (fixed width).

Onboarding a feed in a known format is a YAML contract; a new format is a module here.
"""

from __future__ import annotations

import importlib
from typing import Protocol

from pyspark.sql import DataFrame, SparkSession

from jobs.bronze import Batch
from kernel.contracts import FeedContract
from kernel.storage import Storage

MODULES = {
    "csv": "jobs.readers.csv",
    "fixed_width": "jobs.readers.fixed_width",
    "xml": "jobs.readers.xml",
    "json_pages": "jobs.readers.json_pages",
    "jdbc": "jobs.readers.jdbc",
}


class Reader(Protocol):
    """The functions of a reader module (see the module docstring)."""

    def check(self, storage: Storage, batch: Batch, contract: FeedContract) -> None: ...

    def read(self, spark: SparkSession, batch: Batch, contract: FeedContract) -> DataFrame: ...

    def declared(self, storage: Storage, batch: Batch, contract: FeedContract) -> int | None: ...


def reader(fmt: str) -> Reader:
    """The reader of a delivery format."""
    if fmt not in MODULES:
        raise KeyError(f"no reader for format {fmt!r}; known: {', '.join(MODULES)}")
    module: Reader = importlib.import_module(MODULES[fmt])
    return module
