"""The leak gate: no personal data in a candidate dataset before it is published.

Every string column of the candidate is scanned in Spark (built-in regular expressions) for
Taiwanese personal identifiers, phone numbers and e-mail addresses, and matched against the
personal values known from the source feeds (names, identifiers, addresses). A finding reports
dataset, column, entity type and count, never the value.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

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


def scan(
    candidate: DataFrame,
    dataset: str,
    known: dict[str, DataFrame] | None = None,
    pseudonym_columns: tuple[str, ...] = (),
) -> list[Finding]:
    """Scan every string column of ``candidate`` in one pass.

    ``known`` maps an entity name to a one-column DataFrame of personal values from the sources
    (matched whole, after trimming). A ``pseudonym_columns`` column must hold only keyed
    pseudonyms (64 lowercase hex digits); any other value is a finding (``NOT_A_PSEUDONYM``).
    Hex digests are not searched for patterns: ``a1`` and eight digits in a digest are chance.
    """
    text_cols = [f.name for f in candidate.schema.fields if f.dataType.simpleString() == "string"]
    if not text_cols:
        return []
    aggs = [
        F.sum(F.col(c).rlike(p).cast("int")).alias(f"{c}\u0001{entity}")
        for c in text_cols
        if c not in pseudonym_columns
        for entity, p in PATTERNS.items()
    ] + [
        F.sum((~F.col(c).rlike(PSEUDONYM)).cast("int")).alias(f"{c}\u0001NOT_A_PSEUDONYM")
        for c in text_cols
        if c in pseudonym_columns
    ]
    row = candidate.agg(*aggs).first()
    findings = [
        Finding(dataset, k.split("\u0001")[0], k.split("\u0001")[1], int(v))
        for k, v in (row.asDict() if row else {}).items()
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
