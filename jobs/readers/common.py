"""Helpers shared by the readers."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from convergence.contracts import FeedContract
from convergence.storage import Storage
from jobs.bronze import CORRUPT, DeliveryError

ROW_BITS = (1 << 33) - 1
"""``monotonically_increasing_id`` keeps the partition index above bit 33: the low bits count
rows within one partition (one file read as one partition keeps file order)."""


def check_charset(storage: Storage, path: str, contract: FeedContract) -> None:
    """Refuse a file that is not valid text in the contract's charset (strict decoding)."""
    cs = contract.delivery.java_charset
    try:
        storage.spark.read.format("binaryFile").load(path).select(
            F.length(F.expr(f"decode(content, '{cs}')"))
        ).collect()
    except Exception as exc:  # the JVM's MALFORMED_CHARACTER_CODING
        if "MALFORMED" not in str(exc) and "coding" not in str(exc).lower():
            raise
        raise DeliveryError(
            f"not valid {contract.delivery.encoding} text (wrong encoding or damaged bytes)"
        ) from None


def wire_schema(contract: FeedContract) -> str:
    """The DDL of a reader's output: one string per wire field, then ``_corrupt_record``."""
    return ", ".join(f"`{f.wire}` string" for f in contract.fields) + f", {CORRUPT} string"


def source_row_in_file() -> F.Column:
    """The 1-based ordinal of a row within its (single-partition) file."""
    return (F.monotonically_increasing_id().bitwiseAND(F.lit(ROW_BITS)) + 1).alias("_source_row")


__all__ = ["DataFrame", "check_charset", "source_row_in_file", "wire_schema"]
