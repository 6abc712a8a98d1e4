"""Re-identification: from a ``person_key`` back to the person, a steward's logged action.

The bureau may need to act on a case (stop a payment to a deceased person, contact an insured
person); the published data carries only ``person_key``. A steward gives the key and a reason;
the lakehouse recomputes the keyed pseudonym of every identifier in the silver zone with the
key the dataset was published with and returns the identifiers that match. The audit log
records who, when, why, which key id and whether a person was found, never the identifier.

:func:`check_request` refuses a request before anything starts (no Spark, no key needed), so
importing this module imports no pyspark: a refused caller is told at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from kernel.context import Context
    from masking.keys import PseudonymKey

PERSON_KEY = re.compile(r"^[0-9a-f]{64}$")
STEWARD_ROLES = ("steward",)


class ReidentificationRefused(PermissionError):
    """The request is not allowed or not well formed; the message says why."""


@dataclass(frozen=True)
class Match:
    """An identifier whose keyed pseudonym is the given ``person_key``, and where it is."""

    national_id: str
    tables: tuple[str, ...]


def identifiers(ctx: Context) -> DataFrame:
    """``(national_id, table)`` for every silver entity of a feed that has a ``national_id``."""
    from pyspark.sql import functions as F

    from kernel import contracts

    frames = []
    for fc in contracts.feeds():
        if "national_id" in {f.name for f in fc.fields} and ctx.storage.exists("silver",
                                                                               fc.entity):
            frames.append(ctx.storage.read("silver", fc.entity).select(
                F.col("national_id").cast("string").alias("national_id"),
                F.lit(f"silver/{fc.entity}").alias("table")))
    if not frames:
        return ctx.storage.spark.createDataFrame([], "national_id string, table string")
    out = frames[0]
    for f in frames[1:]:
        out = out.unionByName(f)
    return out


def check_request(person_key: str, reason: str, role: str) -> None:
    """Refuse a request that may not go on, in this order: a caller who is not a steward
    (whatever else the request holds), then a malformed ``person_key``, then a missing reason or
    one holding personal data. Needs neither Spark nor the key: a caller learns at once."""
    from audit.log import check_no_personal_values

    if role not in STEWARD_ROLES:
        raise ReidentificationRefused(
            f"re-identification is a steward's action; role {role!r} may not re-identify")
    if not PERSON_KEY.fullmatch(person_key):
        raise ReidentificationRefused("a person_key is 64 lowercase hexadecimal digits")
    if not reason.strip():
        raise ReidentificationRefused("re-identification needs a reason (--reason)")
    try:
        check_no_personal_values(reason, "the reason")
    except ValueError as exc:
        raise ReidentificationRefused(f"{exc}: write the reason without personal data") from None


def reidentify(ctx: Context, person_key: str, reason: str, key: PseudonymKey,
               role: str) -> list[Match]:
    """The identifiers behind ``person_key`` (normally one), audited; refused
    (:func:`check_request`) unless the caller's role is a steward's and the reason is given
    without personal data."""
    from pyspark.sql import functions as F

    from kernel.text import normalise_identifier
    from masking.pseudonymize import hmac_hex, with_key

    check_request(person_key, reason, role)
    ids = identifiers(ctx).where(F.col("national_id").isNotNull())
    keyed = with_key(ids, key).select(
        normalise_identifier(F.col("national_id")).alias("national_id"), "table",
        hmac_hex(normalise_identifier(F.col("national_id"))).alias("person_key"))
    rows = (keyed.where(F.col("person_key") == person_key)
            .groupBy("national_id").agg(F.sort_array(F.collect_set("table")).alias("tables"))
            .orderBy("national_id").collect())
    matches = [Match(r["national_id"], tuple(r["tables"])) for r in rows]
    ctx.audit("reidentification", {"person_key": person_key, "reason": reason,
                                   "key_id": key.key_id, "found": len(matches)})
    return matches
