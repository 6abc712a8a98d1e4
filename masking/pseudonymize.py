"""Keyed pseudonymisation with Spark built-in functions only (no Python UDF).

``person_key`` = lowercase hex of HMAC-SHA256(key, UTF-8 of the normalised identifier), computed
as ``sha2((K xor opad) || unhex(sha2((K xor ipad) || m)))`` (RFC 2104). The padded key bytes
travel as a one-row broadcast relation joined to the data, not as literals, so that they never
appear in a query plan's text.
"""

from __future__ import annotations

import hashlib

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from kernel.text import normalise_identifier
from masking.keys import PseudonymKey

_BLOCK = 64
IPAD_COLUMN = "_hmac_ipad"
OPAD_COLUMN = "_hmac_opad"


def hmac_pads(secret: bytes) -> tuple[bytes, bytes]:
    """The key XOR ipad and key XOR opad blocks of HMAC-SHA256."""
    if len(secret) > _BLOCK:
        secret = hashlib.sha256(secret).digest()
    block = secret.ljust(_BLOCK, b"\x00")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def key_relation(spark: SparkSession, key: PseudonymKey) -> DataFrame:
    """A one-row DataFrame holding the padded key blocks."""
    ipad, opad = hmac_pads(key.secret)
    return spark.createDataFrame(
        [(bytearray(ipad), bytearray(opad))], f"{IPAD_COLUMN} binary, {OPAD_COLUMN} binary"
    )


def with_key(df: DataFrame, key: PseudonymKey) -> DataFrame:
    """``df`` with the padded key blocks attached to every row (broadcast cross join)."""
    return df.crossJoin(F.broadcast(key_relation(df.sparkSession, key)))


def hmac_hex(col: Column) -> Column:
    """HMAC-SHA256 hex of ``col`` (a string) with the key columns of :func:`with_key`."""
    message = F.encode(col, "UTF-8")
    inner = F.sha2(F.concat(F.col(IPAD_COLUMN), message), 256)
    return F.sha2(F.concat(F.col(OPAD_COLUMN), F.unhex(inner)), 256)


def pseudonymize(df: DataFrame, key: PseudonymKey, column: str, out: str) -> DataFrame:
    """Replace ``column`` by ``out`` = the keyed pseudonym of its normalised value."""
    keyed = with_key(df, key)
    keyed = keyed.withColumn(out, hmac_hex(normalise_identifier(F.col(column))))
    return keyed.drop(IPAD_COLUMN, OPAD_COLUMN, *([column] if column != out else []))
