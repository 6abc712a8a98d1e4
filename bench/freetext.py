"""Free-text masking: ours (:func:`masking.freetext.scrub`) against a naive per-row Presidio UDF.

*Ours* is what the masking plan runs on a ``scan_free_text`` column: the JVM prefilter, then
Presidio in Arrow batches (a pandas UDF) only for the texts the prefilter lets through.

*Naive* is what one would write first: a plain Python UDF that, for every row, calls Presidio's
``AnalyzerEngine.analyze`` and ``AnonymizerEngine.anonymize`` (every finding replaced by its
entity tag, as ours does). It is given the same engine, built the same offline way
(:func:`masking.recognizers.get_analyzer`: the Taiwan recognizers on the blank spaCy ``zh``
pipeline, built once per Python worker), so the comparison measures the prefilter and the
batching, not a cold engine.

Texts:

- the *sample*: clerks' remarks of ``bli.benefit_payments`` as the generator writes them for the
  same population (about 30 % with personal data, the rest empty, NULL or harmless), the
  realistic mix of the feed whose free text is masked;
- the *evaluation set* ``masking/evalset/remarks.jsonl`` (600 labelled remarks, known names
  included): recall of both against its labels, and the same comparison of outputs.

"Same findings" is measured on the outputs: the share of texts whose masked text is identical
in both.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from bench.probes import timed


# --------------------------------------------------------------------------------------------
# The texts.
def _copy_field(value: str) -> str | None:
    """A field of PostgreSQL's COPY text format (``\\N`` is NULL)."""
    if value == "\\N":
        return None
    return (value.replace("\\t", "\t").replace("\\n", "\n").replace("\\r", "\r")
            .replace("\\\\", "\\"))


def remarks(persons: int, seed: int, start: datetime.date, limit: int) -> list[str | None]:
    """The first ``limit`` remarks of the benefit payments the generator writes for a
    population of ``persons`` (the rows it would COPY into the benefits database; nothing is
    written to the database)."""
    from sandbox.generate import IssueRates
    from sandbox.generate.benefits import COLUMNS, _Rows
    from sandbox.generate.population import Population
    from sandbox.generate.roles import shares_in_effect

    rates = IssueRates()
    population = Population(n=persons, seed=seed, as_of=start - datetime.timedelta(days=1),
                            params=rates.population_params())
    column = COLUMNS.index("remark")
    out: list[str | None] = []
    with shares_in_effect(rates.role_shares()):
        rows = _Rows(seed, start, 1, rates)
        for person in population:
            for line in rows.of(person):
                out.append(_copy_field(line.rstrip("\n").split("\t")[column]))
                if len(out) >= limit:
                    return out
    return out


# --------------------------------------------------------------------------------------------
# The naive UDF (runs on the Python workers).
_ANONYMIZER: list[Any] = []


def _operators() -> dict[str, Any]:
    from presidio_anonymizer.entities import OperatorConfig

    from masking.recognizers import ENTITIES

    ops = {e: OperatorConfig("replace", {"new_value": f"<{e}>"}) for e in ENTITIES}
    ops["DEFAULT"] = OperatorConfig("replace", {"new_value": "<PII>"})
    return ops


def naive_scrub_text(text: str | None, known_names: Sequence[str] | None = None) -> str | None:
    """One row, the naive way: the analyzer engine then ``anonymize``, whatever the text (no
    prefilter, no batching), overlaps resolved as :func:`masking.recognizers.analyze` does."""
    if text is None:
        return None
    from presidio_anonymizer import AnonymizerEngine

    from masking.recognizers import LANGUAGE, KnownNamesRecognizer, get_analyzer
    from masking.recognizers.engine import resolve_overlaps

    if not _ANONYMIZER:
        _ANONYMIZER.append(AnonymizerEngine())
    names = [n for n in (known_names or ()) if n]
    ad_hoc: list[Any] | None = [KnownNamesRecognizer(names)] if names else None
    results = get_analyzer().analyze(text=text, language=LANGUAGE, ad_hoc_recognizers=ad_hoc)
    # The same choice between overlapping findings as ours (a rule of the recognizers, not of
    # the fast path): Presidio's anonymizer would merge two overlapping names into one span.
    results = resolve_overlaps(results)
    return str(_ANONYMIZER[0].anonymize(text=text, analyzer_results=results,
                                        operators=_operators()).text)


def _ship_by_value() -> None:
    """Pickle this module's functions by value: the Python workers need not import ``bench``."""
    from pyspark import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])


def naive(df: DataFrame, column: str, known_names_column: str | None = None) -> DataFrame:
    """``df`` with ``column`` masked by the naive per-row UDF."""
    from masking.freetext import worker_python

    worker_python(df.sparkSession)
    _ship_by_value()
    if known_names_column is None:
        udf = F.udf(lambda t: naive_scrub_text(t), StringType())
        return df.withColumn(column, udf(F.col(column)))
    named = F.udf(lambda t, n: naive_scrub_text(t, n), StringType())
    return df.withColumn(column, named(F.col(column), F.col(known_names_column)))


def ours(df: DataFrame, column: str, known_names_column: str | None = None) -> DataFrame:
    """``df`` with ``column`` masked as the masking plan does (:func:`masking.freetext.scrub`)."""
    from masking.freetext import scrub

    return scrub(df, column, known_names_column)


# --------------------------------------------------------------------------------------------
# Measuring.
@dataclass
class Run:
    """One timed run of both on the same texts, and how far their outputs agree."""

    ours: float
    naive: float
    texts: int
    agree: int


def _run_both(df: DataFrame, names: str | None) -> tuple[float, float]:
    """Each way timed on ``df``, right after an untimed pass over a few hundred of its texts on
    every core: the Python workers are started, Presidio imported and the engine built before
    the clock starts (Spark stops idle Python workers after a minute)."""
    parts = max(1, df.sparkSession.sparkContext.defaultParallelism)
    warm = df.limit(400).repartition(parts)

    def sink(out: DataFrame) -> None:
        out.write.format("noop").mode("overwrite").save()

    sink(ours(warm, "text", names))
    t_ours = timed(lambda: sink(ours(df, "text", names)))
    sink(naive(warm, "text", names))
    t_naive = timed(lambda: sink(naive(df, "text", names)))
    return t_ours, t_naive


def _agreement(df: DataFrame, names: str | None) -> int:
    """Texts whose masked text is the same both ways."""
    a = ours(df, "text", names).select("id", F.col("text").alias("a"))
    b = naive(df, "text", names).select("id", F.col("text").alias("b"))
    row = a.join(b, "id").agg(F.sum(F.col("a").eqNullSafe(F.col("b")).cast("long"))).first()
    return int(row[0] or 0) if row else 0


def frame(spark: SparkSession, texts: Sequence[str | None],
          names: Sequence[Sequence[str]] | None = None) -> DataFrame:
    """The texts as a cached frame ``id, text[, names]`` spread over the cores."""
    parts = max(1, spark.sparkContext.defaultParallelism)
    if names is None:
        df = spark.createDataFrame(list(enumerate(texts)), "id long, text string")
    else:
        rows = [(i, t, list(n)) for i, (t, n) in enumerate(zip(texts, names, strict=True))]
        df = spark.createDataFrame(rows, "id long, text string, names array<string>")
    df = df.repartition(parts).cache()
    df.count()
    return df


def measure(df: DataFrame, names: str | None = None) -> Run:
    """Both on ``df`` (timed), then their outputs compared (not timed)."""
    t_ours, t_naive = _run_both(df, names)
    return Run(ours=t_ours, naive=t_naive, texts=df.count(), agree=_agreement(df, names))


def prefiltered_share(df: DataFrame) -> float:
    """The share of texts the JVM prefilter sends to Presidio."""
    from masking.freetext import prefilter

    row = df.agg(F.avg(prefilter(F.col("text")).cast("double"))).first()
    return float(row[0] or 0.0) if row else 0.0


# --------------------------------------------------------------------------------------------
# Recall on the labelled evaluation set.
def _spans_ours(text: str, known: Sequence[str]) -> Iterator[Any]:
    from masking.evaluate import Span
    from masking.recognizers import analyze

    for r in analyze(text, known):
        yield Span(r.start, r.end, r.entity_type)


def _spans_naive(text: str, known: Sequence[str]) -> Iterator[Any]:
    from masking.evaluate import Span
    from masking.recognizers import LANGUAGE, KnownNamesRecognizer, get_analyzer

    ad_hoc: list[Any] | None = [KnownNamesRecognizer(known)] if known else None
    for r in get_analyzer().analyze(text=text, language=LANGUAGE, ad_hoc_recognizers=ad_hoc):
        yield Span(r.start, r.end, r.entity_type)


@dataclass
class Recall:
    """Recall over every labelled span of the evaluation set, and per entity."""

    recall: float
    labels: int
    per_entity: dict[str, float]


def recall() -> tuple[Recall, Recall]:
    """(ours, naive) against the labels of the evaluation set: the findings of
    :func:`masking.recognizers.analyze` (what the scrub UDF runs per text) and of the engine's
    own ``analyze`` (what the naive UDF runs)."""
    from masking.evaluate import load, score

    records = load()

    def one(find: Any) -> Recall:
        scores = score((r.spans, list(find(r.text, r.known_names))) for r in records)
        tp = sum(s.tp for s in scores.values())
        fn = sum(s.fn for s in scores.values())
        return Recall(recall=tp / (tp + fn) if tp + fn else 1.0, labels=tp + fn,
                      per_entity={e: round(s.recall, 4) for e, s in scores.items()})

    return one(_spans_ours), one(_spans_naive)


@dataclass
class PerText:
    """Milliseconds per text in one Python process (no Spark): where a masked text's time goes."""

    naive_all: float
    """``analyze`` + ``anonymize`` on every text (the naive UDF's work)."""
    naive_harmless: float
    """The same on the texts the prefilter rules out (empty, NULL, harmless)."""
    presidio_suspicious: float
    """Ours (:func:`masking.freetext.scrub_text`) on the texts the prefilter lets through."""
    recognizers_only: float
    """Only the Taiwan recognizers' own pattern search (``find`` on the folded text) on those
    texts: no spaCy pipeline, no Presidio engine, no anonymizer (a lower bound)."""
    suspicious_share: float


def per_text(texts: Sequence[str | None]) -> PerText:
    """Per-text costs on ``texts``, measured in this process."""
    import time

    from masking.freetext import scrub_text
    from masking.recognizers import RECOGNIZERS, fold, needs_analysis

    present = [t for t in texts if t is not None]
    suspicious = [t for t in present if needs_analysis(t)]
    harmless = [t for t in present if not needs_analysis(t)]
    recognizers = [make() for make in RECOGNIZERS]
    naive_scrub_text(present[0] if present else "")  # builds the engines

    def ms(fn: Any, items: Sequence[str]) -> float:
        start = time.perf_counter()
        for t in items:
            fn(t)
        return (time.perf_counter() - start) * 1000 / len(items) if items else 0.0

    def find(t: str) -> None:
        folded = fold(t)
        for r in recognizers:
            for _ in r.find(folded):
                pass

    return PerText(naive_all=ms(naive_scrub_text, present),
                   naive_harmless=ms(naive_scrub_text, harmless),
                   presidio_suspicious=ms(scrub_text, suspicious),
                   recognizers_only=ms(find, suspicious),
                   suspicious_share=len(suspicious) / len(texts) if texts else 0.0)


def eval_texts() -> tuple[list[str | None], list[list[str]]]:
    """The texts of the evaluation set and the known names of each."""
    from masking.evaluate import load

    records = load()
    return [r.text for r in records], [list(r.known_names) for r in records]
