"""CSV deliveries (header row, quoted fields, any charset the contract names).

Delivery options: ``delimiter``, ``quote``, ``header`` and ``encoding`` of the contract. A
header repeated mid-file (two extracts concatenated) is read as a record and quarantined by
the silver stage under ``record.repeated_header``; a byte-order mark is accepted when the
contract's encoding is ``utf-8-sig`` and refused otherwise.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from convergence.contracts import FeedContract
from convergence.storage import Storage
from jobs import bronze
from jobs.bronze import Batch, DeliveryError
from jobs.readers.common import check_charset

BOM = b"\xef\xbb\xbf"


def check(storage: Storage, batch: Batch, contract: FeedContract) -> None:
    """Strict charset, byte-order mark as the contract says, the header as the contract says."""
    check_charset(storage, batch.path, contract)
    head = storage.read_bytes(batch.path, 65536)
    has_bom = head.startswith(BOM)
    wants_bom = contract.delivery.encoding.lower() == "utf-8-sig"
    if has_bom and not wants_bom:
        raise DeliveryError("line 1: a UTF-8 byte-order mark where the contract expects "
                            f"{contract.delivery.encoding} without one")
    if wants_bom and not has_bom:
        raise DeliveryError("line 1: no UTF-8 byte-order mark (the contract expects one)")
    bronze.check_header(bronze.header_fields(head[len(BOM):] if has_bom else head, contract),
                        contract)


def read(spark: SparkSession, batch: Batch, contract: FeedContract) -> DataFrame:
    """Every record after the header; see :func:`jobs.bronze.read_csv`."""
    return bronze.read_csv(spark, batch.path, contract)


def declared(storage: Storage, batch: Batch, contract: FeedContract) -> int | None:
    """A CSV delivery declares no record count."""
    return None
