"""The leak gate: no personal data in a candidate dataset before it is published.

Every string column of the candidate is scanned in three ways:

1. **Patterns** (JVM, built-in regular expressions): Taiwanese personal identifiers, mobile
   phone numbers and e-mail addresses.
2. **Presidio** (Python workers, :mod:`masking.recognizers`): the distinct values of each text
   column that pass the cheap prefilter (evaluated in the JVM) are analysed once each, in Arrow
   batches; each finding counts the rows holding that value. This finds what the patterns miss:
   full-width or spaced numbers in Chinese text (``請洽０９１２－３４５－６７８王先生``),
   landlines, bank accounts, addresses and names next to a cue (``受款人陳大文``). Categorical
   columns have a handful of distinct values, so this costs little. A column with more than
   :data:`MAX_DISTINCT` distinct prefiltered values is sampled down to about that many (seeded);
   the scan then says so (a note, logged and returned through ``notes``) and its counts are
   lower bounds.
3. **Known values**: matched whole (after trimming) against the personal values known from the
   source feeds (names, identifiers, addresses).

The pattern and Presidio passes run on the same distinct values (every pattern match also passes
the prefilter), so a row holding a phone found by both counts once. Presidio's entity names are
reported in the gate's vocabulary (:data:`ENTITY_NAMES`). A finding reports dataset, column,
entity type and number of rows, never the value.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

log = logging.getLogger(__name__)

# Look-arounds instead of \b: \b fails next to Chinese characters.
PATTERNS: dict[str, str] = {
    "TW_PERSON_ID": r"(?<![A-Za-z0-9])[A-Za-z][12890ABCDabcd][0-9]{8}(?![0-9])",
    "TW_PHONE": r"(?<![0-9])(?:\+886[- ]?|0)9[0-9]{2}[- ]?[0-9]{3}[- ]?[0-9]{3}(?![0-9])",
    "EMAIL": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
}


@dataclass(frozen=True)
class Finding:
    """Personal data found in a column: which kind and how many rows (no values)."""

    dataset: str
    column: str
    entity: str
    count: int

    def __str__(self) -> str:
        return f"{self.dataset}.{self.column}: {self.count} row(s) hold {self.entity}"


PSEUDONYM = r"^[0-9a-f]{64}$"

MAX_DISTINCT = 1_000_000
"""Distinct prefiltered values of one column analysed by Presidio at most (beyond: sampled)."""
ENTITY_NAMES: dict[str, str] = {
    "TW_NATIONAL_ID": "TW_PERSON_ID",
    "TW_PHONE": "TW_PHONE",
    "EMAIL_ADDRESS": "EMAIL",
    "TW_BANK_ACCOUNT": "TW_BANK_ACCOUNT",
    "TW_ADDRESS": "TW_ADDRESS",
    "PERSON": "PERSON",
    "SOCIAL_HANDLE": "SOCIAL_HANDLE",
}
"""Presidio entity → gate entity. Business IDs (統一編號) are not personal data: not reported."""

def _cells(candidate: DataFrame, columns: list[str]) -> DataFrame:
    """One row per cell of ``columns``: its ``column`` name and its value ``_v`` (as is)."""
    return candidate.select(
        F.explode(
            F.array(*[F.struct(F.lit(c).alias("column"), F.col(c).alias("_v")) for c in columns])
        ).alias("x")
    ).select("x.column", "x._v")


def _pattern_entities(value: Column) -> Column:
    """The gate entities of :data:`PATTERNS` that ``value`` matches (an array)."""
    hits = [F.when(value.rlike(p), F.lit(e)) for e, p in PATTERNS.items()]
    return F.filter(F.array(*hits), lambda e: e.isNotNull())


def _presidio_entities(spark: SparkSession, value: Column) -> Column:
    """The gate entities Presidio finds in ``value`` (an array; runs on Python workers)."""
    from masking.freetext import entities_column

    mapping = F.create_map(*[F.lit(x) for kv in ENTITY_NAMES.items() for x in kv])
    mapped = F.transform(entities_column(spark, value), lambda e: F.try_element_at(mapping, e))
    return F.filter(mapped, lambda e: e.isNotNull())


def content_scan(
    candidate: DataFrame,
    dataset: str,
    columns: list[str],
    max_distinct: int = MAX_DISTINCT,
    notes: list[str] | None = None,
) -> list[Finding]:
    """Patterns and Presidio over the distinct prefiltered values of ``columns``, with row
    counts (passes 1 and 2 of the module docstring)."""
    if not columns:
        return []
    from masking.freetext import prefilter

    distinct = (
        _cells(candidate, columns)
        .where(prefilter(F.col("_v")))
        .groupBy("column", "_v")
        .agg(F.count(F.lit(1)).alias("_n"))
    ).persist()
    try:
        sizes = {r["column"]: int(r["count"]) for r in distinct.groupBy("column").count().collect()}
        if not sizes:
            return []
        frame = distinct
        huge = {c: n for c, n in sizes.items() if n > max_distinct}
        if huge:
            parts = [distinct.where(~F.col("column").isin(*huge))]
            for c, n in sorted(huge.items()):
                parts.append(distinct.where(F.col("column") == c).sample(max_distinct / n, seed=0))
                note = (
                    f"{dataset}.{c}: {n} distinct values pass the prefilter; Presidio analysed "
                    f"a sample of about {max_distinct} (counts are lower bounds)"
                )
                log.warning(note)
                if notes is not None:
                    notes.append(note)
            frame = parts[0]
            for p in parts[1:]:
                frame = frame.unionByName(p)
        value = F.col("_v")
        entities = F.array_union(
            _pattern_entities(value), _presidio_entities(candidate.sparkSession, value)
        )
        hits = (
            frame.select("column", "_n", F.explode(entities).alias("entity"))
            .groupBy("column", "entity")
            .agg(F.sum("_n").alias("n"))
            .collect()
        )
    finally:
        distinct.unpersist()
    return [Finding(dataset, r["column"], r["entity"], int(r["n"])) for r in hits]


def scan(
    candidate: DataFrame,
    dataset: str,
    known: dict[str, DataFrame] | None = None,
    pseudonym_columns: tuple[str, ...] = (),
    *,
    max_distinct: int = MAX_DISTINCT,
    notes: list[str] | None = None,
) -> list[Finding]:
    """Scan every string column of ``candidate``: patterns and Presidio over the distinct
    prefiltered values, then the known values.

    ``known`` maps an entity name to a one-column DataFrame of personal values from the sources
    (matched whole, after trimming). A ``pseudonym_columns`` column must hold only keyed
    pseudonyms (64 lowercase hex digits); any other value is a finding (``NOT_A_PSEUDONYM``).
    Hex digests are not searched for patterns: ``a1`` and eight digits in a digest are chance.
    ``notes`` receives what the caller should know about the scan itself (a sampled column).
    """
    text_cols = [f.name for f in candidate.schema.fields if f.dataType.simpleString() == "string"]
    if not text_cols:
        return []
    findings = content_scan(
        candidate,
        dataset,
        [c for c in text_cols if c not in pseudonym_columns],
        max_distinct,
        notes,
    )
    pseudo = [c for c in text_cols if c in pseudonym_columns]
    if pseudo:
        row = candidate.agg(
            *[F.sum((~F.col(c).rlike(PSEUDONYM)).cast("int")).alias(c) for c in pseudo]
        ).first()
        findings += [
            Finding(dataset, c, "NOT_A_PSEUDONYM", int(v))
            for c, v in (row.asDict() if row else {}).items()
            if v
        ]
    if known:
        cells = candidate.select(
            F.explode(
                F.array(*[F.struct(F.lit(c).alias("column"), F.trim(F.col(c)).alias("_v"))
                          for c in text_cols])
            ).alias("x")
        ).select("x.column", "x._v")
        values = None
        for entity, frame in known.items():
            part = frame.select(
                F.lit(entity).alias("entity"), F.trim(F.col(frame.columns[0])).alias("_v")
            ).where("_v <> ''")
            values = part if values is None else values.unionByName(part)
        assert values is not None
        hits = cells.join(values.distinct(), "_v")
        for r in hits.groupBy("column", "entity").count().collect():
            findings.append(Finding(dataset, r["column"], r["entity"], int(r["count"])))
    return sorted(findings, key=lambda f: (f.column, f.entity))
