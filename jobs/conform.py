"""Bronze to silver: typing, parsing and normalisation driven by the feed contract.

Everything is a Spark built-in function (no Python UDF), so the work stays in the JVM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from kernel.contracts import FeedContract, Field
from kernel.text import nfkc_width, trim_ws

LINEAGE_COLUMNS = ("_batch_id", "_source_file", "_source_digest", "_source_row", "_file_date")


def empty_to_null(col: Column) -> Column:
    """An empty string means no value."""
    return F.when(col == "", F.lit(None)).otherwise(col)


def roc_date(col: Column) -> Column:
    """A ROC date ``YYYMMDD`` (or ``YYMMDD`` without the leading zero) as a DateType.

    Empty, malformed or impossible dates (``1080230``) become null; ``valid_date`` rules tell
    the two apart through the raw column.
    """
    padded = F.lpad(col, 7, "0")
    year = padded.substr(1, 3).cast("int") + F.lit(1911)
    text = F.concat(F.lpad(year.cast("string"), 4, "0"), padded.substr(4, 4))
    parsed = F.to_date(F.try_to_timestamp(text, F.lit("yyyyMMdd")))
    return F.when(col.rlike(r"^[0-9]{6,7}$"), parsed)


def roc_month(col: Column) -> Column:
    """A ROC month ``YYYMM`` (or ``YYMM``) as the first day of that month; else null."""
    padded = F.lpad(col, 5, "0")
    year = padded.substr(1, 3).cast("int") + F.lit(1911)
    text = F.concat(F.lpad(year.cast("string"), 4, "0"), padded.substr(4, 2), F.lit("01"))
    parsed = F.to_date(F.try_to_timestamp(text, F.lit("yyyyMMdd")))
    return F.when(col.rlike(r"^[0-9]{4,5}$"), parsed)


def iso_date(col: Column) -> Column:
    """An ISO date ``YYYY-MM-DD`` (Gregorian) as a DateType; malformed or impossible: null."""
    parsed = F.to_date(F.try_to_timestamp(col, F.lit("yyyy-MM-dd")))
    return F.when(col.rlike(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"), parsed)


def digits(col: Column) -> Column:
    """A number written with thousands separators (``45,800``) or inner spaces, without them.

    Only a well-formed grouping is rewritten (``1,234,567``); ``12,34`` stays as delivered
    and fails its type (no silent reinterpretation)."""
    grouped = r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$"
    return F.when(col.rlike(grouped), F.regexp_replace(col, ",", "")).otherwise(col)


def percent(col: Column) -> Column:
    """A percentage written with its sign (``6%``, ``6.00 %``) as the bare number."""
    return F.regexp_replace(col, r"\s*%$", "")


def tai_to_tai(col: Column) -> Column:
    """臺 is the official form of 台 in place names (台北市 and 臺北市 are one county)."""
    return F.translate(col, "台", "臺")


_STEPS: dict[str, Callable[[Column], Column]] = {
    "nfkc": nfkc_width,
    "trim": trim_ws,
    "upper": F.upper,
    "tai_to_tai": tai_to_tai,
    "empty_to_null": empty_to_null,
    "digits": digits,
    "percent": percent,
}
_DATES: dict[str, Callable[[Column], Column]] = {
    "roc_date": roc_date,
    "roc_month": roc_month,
    "iso_date": iso_date,
}


def parse_field(field: Field, raw: Column) -> tuple[Column, Column]:
    """The typed value of ``field`` from its bronze string, and its normalised raw text."""
    text = raw
    for step in field.parse:
        if step in _STEPS:
            text = _STEPS[step](text)
    text = empty_to_null(text)
    if field.type == "date":
        step = next(s for s in field.parse if s in _DATES)
        return _DATES[step](text), text
    if field.type in {"int", "long", "boolean", "timestamp"}:
        return text.try_cast(field.type), text
    if field.type == "decimal":
        return text.try_cast("decimal(18,4)"), text
    return text, text


def conform(bronze: DataFrame, contract: FeedContract, keep: Sequence[str] = ()) -> DataFrame:
    """Bronze rows (strings) to typed, normalised rows.

    Output: one column per contract field (typed), ``_raw_<field>`` for each typed field (the
    normalised wire text, so that an impossible date is told apart from an empty one), the
    lineage columns, the ``keep`` columns, and ``_bronze``: the record exactly as delivered
    (for quarantine).
    """
    cols: list[Column] = []
    for f in contract.fields:
        value, text = parse_field(f, F.col(f.name))
        cols.append(value.alias(f.name))
        if f.type != "string":
            cols.append(text.alias(f"_raw_{f.name}"))
    bronze_struct = F.struct(*[F.col(f.name) for f in contract.fields])
    lineage = [F.col(c) for c in LINEAGE_COLUMNS if c in bronze.columns]
    return bronze.select(*cols, *lineage, *keep, bronze_struct.alias("_bronze"))


def with_event_id(df: DataFrame, contract: FeedContract) -> DataFrame:
    """Add ``_event_id``: SHA-256 of the event key fields, the identity of a change event."""
    parts = [F.coalesce(F.col(c).cast("string"), F.lit("\u2400")) for c in contract.event_key]
    return df.withColumn("_event_id", F.sha2(F.concat_ws("\u241f", *parts), 256))


def mark_duplicates(df: DataFrame) -> DataFrame:
    """Add ``_dup_in_batch``: true for every repeat of an ``_event_id`` after its first delivery
    (lowest source row)."""
    from pyspark.sql import Window

    w = Window.partitionBy("_event_id").orderBy(F.col("_source_row").asc())
    return df.withColumn("_dup_in_batch", F.row_number().over(w) > 1)


def drop_duplicates_in_batch(df: DataFrame) -> DataFrame:
    """One row per ``_event_id``: the first delivered (lowest source row)."""
    return mark_duplicates(df).where("NOT _dup_in_batch").drop("_dup_in_batch")


def latest_per_key(events: DataFrame, contract: FeedContract) -> DataFrame:
    """The latest event per primary key, by ``order_by`` (then source row), descending.

    A ``sticky`` column keeps its latest non-empty value when the latest event leaves it empty.
    """
    from pyspark.sql import Window

    order = [F.col(c).desc_nulls_last() for c in (*contract.order_by, "_source_row")]
    w = Window.partitionBy(*contract.primary_key).orderBy(*order)
    whole = w.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    out = events
    for c in contract.sticky:
        out = out.withColumn(c, F.first(F.col(c), ignorenulls=True).over(whole))
    return out.withColumn("_n", F.row_number().over(w)).where("_n = 1").drop("_n")


def newer_condition(contract: FeedContract) -> str:
    """SQL: source row ``s`` is later than target row ``t`` by ``order_by``, then source row."""
    cols = [*contract.order_by, "_source_row"]
    terms = []
    for i, c in enumerate(cols):
        equal = [f"s.`{p}` <=> t.`{p}`" for p in cols[:i]]
        terms.append("(" + " AND ".join([*equal, f"s.`{c}` > t.`{c}`"]) + ")")
    return " OR ".join(terms)


def to_silver(df: DataFrame) -> DataFrame:
    """Drop the helper columns of conforming (raw texts, the bronze record)."""
    return df.drop("_bronze", *[c for c in df.columns if c.startswith("_raw_")])
