"""The masking plan of a feed, derived from its contract, and its application in Spark.

Each field of a feed contract names a masking policy; :func:`apply_policies` applies them all
with Spark built-in functions (free text aside, which goes through Presidio, see
:mod:`masking.freetext`):

- ``keep``: ``<name>``, unchanged.
- ``pseudonymize``: ``<name>_key``, the keyed HMAC-SHA256 (:mod:`masking.pseudonymize`); the
  identifier itself is dropped.
- ``drop``: no output column.
- ``mask_partial``: ``<name>``, first and last characters kept (``A1******89``, ``王*明``);
  account numbers (a column name containing ``account``) keep the last 4 only
  (``***********8901``).
- ``generalize_year``: ``<stem>_year`` (``birth_date`` → ``birth_year``), the year (int).
- ``generalize_month``: ``<stem>_month`` (``death_date`` → ``death_month``), ``YYYY-MM`` (the
  month of :func:`masking.generalize.first_of_month`).
- ``generalize_county``: ``county`` (``<x>_address`` → ``<x>_county``), the 縣市 the address
  starts with (台 read as 臺), via :func:`masking.generalize.county`.
- ``generalize_band``: ``<name>_band`` for a number: ``25000-29999`` (width configurable); an
  age (``age``, ``*_age``): 5-year bands up to ``100+``. A date of birth gives ``age_band``, the
  5-year age band at the snapshot date (:func:`masking.generalize.age_band`).
- ``scan_free_text``: ``<name>``, every Presidio finding replaced by its entity tag
  (``<TW_PHONE>``), see :mod:`masking.freetext`.

``<stem>`` is the name without a ``_date`` suffix. Columns of the input that the contract does
not name are dropped unless listed in ``keep_extra`` (fail closed). Importing this module does
not import Presidio. The plan of a published dataset (columns derived from several feeds) is
:mod:`masking.dataset_plan`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from kernel.contracts import FeedContract, Field
from kernel.text import normalise_identifier
from masking.generalize import (
    DEFAULT_BAND_WIDTH,
    age_band,
    age_number_band,
    county,
    first_of_month,
    mask_partial,
    number_band,
)
from masking.keys import PseudonymKey
from masking.pseudonymize import IPAD_COLUMN, OPAD_COLUMN, hmac_hex, with_key

NUMERIC_TYPES = frozenset({"int", "long", "decimal"})
DATE_TYPES = frozenset({"date", "timestamp"})


def masking_plan(contract: FeedContract) -> dict[str, str]:
    """Column → masking policy, in field order."""
    return {f.name: f.masking for f in contract.fields}


def _stem(name: str) -> str:
    return name[: -len("_date")] if name.endswith("_date") and name != "_date" else name


def _is_age(f: Field) -> bool:
    return f.name == "age" or f.name.endswith("_age")


def output_column(f: Field) -> str | None:
    """The column ``f`` becomes once masked (``None`` when it is dropped)."""
    policy = f.masking
    if policy == "drop":
        return None
    if policy == "pseudonymize":
        return f"{f.name}_key"
    if policy == "generalize_year":
        return f"{_stem(f.name)}_year"
    if policy == "generalize_month":
        return f"{_stem(f.name)}_month"
    if policy == "generalize_county":
        if f.name == "address":
            return "county"
        if f.name.endswith("_address"):
            return f.name[: -len("address")] + "county"
        return f"{f.name}_county"
    if policy == "generalize_band":
        if f.type in DATE_TYPES:
            return "age_band"
        if f.type not in NUMERIC_TYPES:
            raise ValueError(
                f"{f.name}: generalize_band needs a number or a date of birth, not {f.type}"
            )
        return f"{f.name}_band"
    return f.name  # keep, mask_partial, scan_free_text


def describe_plan(contract: FeedContract) -> list[tuple[str, str, str, str | None]]:
    """``(column, pii class, policy, output column)`` for every field, in field order (for
    reports and lineage); the output column is ``None`` for a dropped field.

    Raises :class:`ValueError` when two fields would produce the same output column or a policy
    does not fit the field's type.
    """
    rows = [(f.name, f.pii, f.masking, output_column(f)) for f in contract.fields]
    outputs = [o for *_, o in rows if o is not None]
    clashes = sorted({o for o in outputs if outputs.count(o) > 1})
    if clashes:
        raise ValueError(f"{contract.name}: several fields produce the column(s) {clashes}")
    return rows


def is_account(name: str) -> bool:
    """True for a column that holds an account number (``bank_account``, ``account_no``)."""
    return "account" in name


def known_name_fields(contract: FeedContract) -> list[str]:
    """The personal name fields of a record (``name``, ``*_name``): names known for the record
    that the free-text scrub looks for anywhere in the record's remarks."""
    return [
        f.name
        for f in contract.fields
        if (f.name == "name" or f.name.endswith("_name")) and f.type == "string" and f.is_personal
    ]


def apply_policies(
    df: DataFrame,
    contract: FeedContract,
    key: PseudonymKey,
    *,
    snapshot_date: date | None = None,
    band_width: int = DEFAULT_BAND_WIDTH,
    band_widths: Mapping[str, int] | None = None,
    keep_extra: Sequence[str] = (),
) -> DataFrame:
    """``df`` (a feed's silver rows) with every field's masking policy applied.

    The output has the plan's output columns in field order (:func:`describe_plan`), then the
    ``keep_extra`` columns; every other column is dropped. ``snapshot_date`` is needed when a
    date of birth is banded (``generalize_band`` on a date: the age at that date).
    ``band_widths`` sets the band width per column (default ``band_width``; ages always 5).
    Free-text columns are scrubbed with the names of the record's name fields as known names.
    """
    plan = describe_plan(contract)
    missing = [f.name for f in contract.fields if f.name not in df.columns]
    missing += [c for c in keep_extra if c not in df.columns]
    if missing:
        raise ValueError(f"{contract.name}: the input has no column(s) {missing}")
    widths = dict(band_widths or {})

    out = df
    free_text = [f.name for f in contract.fields if f.masking == "scan_free_text"]
    if free_text:
        from masking.freetext import KNOWN_NAMES_COLUMN, scrub

        names = known_name_fields(contract)
        if names:
            out = out.withColumn(KNOWN_NAMES_COLUMN, F.array(*[F.col(n) for n in names]))
        for column in free_text:
            out = scrub(out, column, KNOWN_NAMES_COLUMN if names else None)
    if any(f.masking == "pseudonymize" for f in contract.fields):
        out = with_key(out, key)

    cols: list[Column] = []
    for f, (_, _, policy, target) in zip(contract.fields, plan, strict=True):
        if target is None:
            continue
        c = F.col(f.name)
        if policy == "pseudonymize":
            value = hmac_hex(normalise_identifier(c.cast("string")))
        elif policy == "mask_partial":
            value = mask_partial(c, account=is_account(f.name))
        elif policy == "generalize_year":
            value = F.year(c)
        elif policy == "generalize_month":
            value = F.date_format(first_of_month(c), "yyyy-MM")
        elif policy == "generalize_county":
            value = county(c.cast("string"))
        elif policy == "generalize_band":
            if f.type in DATE_TYPES:
                if snapshot_date is None:
                    raise ValueError(f"{f.name}: an age band needs the snapshot date")
                value = age_band(c, F.lit(snapshot_date).cast("date"))
            elif _is_age(f):
                value = age_number_band(c)
            else:
                value = number_band(c, widths.get(f.name, band_width))
        else:  # keep, scan_free_text (already scrubbed)
            value = c
        cols.append(value.alias(target))
    result = out.select(*cols, *[F.col(c) for c in keep_extra])
    assert IPAD_COLUMN not in result.columns and OPAD_COLUMN not in result.columns
    return result
