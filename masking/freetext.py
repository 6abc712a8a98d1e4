"""Free-text scrubbing in Spark: every Presidio finding replaced by its entity tag.

:func:`scrub` runs the cheap prefilter of :mod:`masking.recognizers` in the JVM (``rlike`` on
:func:`java_prefilter`, the same pattern as :data:`~masking.recognizers.PREFILTER` with Python's
``\\s`` spelled out as Java does not share its meaning); only the texts it matches, or that come
with known names, are sent to a Python worker. There they go through Presidio in Arrow batches
(a pandas UDF); the analyzer engine is built once per Python worker process and reused
(``masking.recognizers.get_analyzer`` caches it at module level, and Spark reuses its Python
workers). Texts that skip Presidio cross to Python as nulls only.

:func:`scrub_naive` is the baseline it is measured against: a plain per-row Python UDF calling
``analyze`` and ``redact`` for every row.

Presidio is imported inside the functions that run on the workers, never at import time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, StringType

if TYPE_CHECKING:
    import pandas as pd

KNOWN_NAMES_COLUMN = "_known_names"
"""The temporary column holding the known names of a record (an array of strings)."""


# --------------------------------------------------------------------------------------------
# The prefilter in the JVM.

_JAVA_INCOMPATIBLE = re.compile(r"\\[dwDWSbBAZ]|\(\?P|\(\?[aiLmsux]")


@cache
def _python_whitespace() -> str:
    """Every character Python's ``\\s`` matches in a ``str`` pattern, as Java ``\\uXXXX``."""
    chars = [c for c in range(0x10000) if re.match(r"\s", chr(c))]  # all in the BMP
    return "".join(f"\\u{c:04X}" for c in chars)


def to_java_regex(pattern: str) -> str:
    """``pattern`` (a Python regular expression) as a Java regular expression that matches the
    same texts.

    Only ``\\s`` differs in meaning between the two for the prefilter (Python: any Unicode white
    space; Java: ASCII only), so it is replaced by the explicit list of the characters Python
    matches. Constructs whose meaning differs and that are not translated (``\\d``, ``\\w``,
    ``\\b``, named groups, inline flags) raise :class:`ValueError`: the caller must then filter
    in Python.
    """
    if _JAVA_INCOMPATIBLE.search(pattern):
        raise ValueError("the pattern uses a construct that differs between Python and Java")
    ws = _python_whitespace()
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            esc = pattern[i : i + 2]
            out.append((ws if in_class else f"[{ws}]") if esc == r"\s" else esc)
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
        elif c == "]" and in_class:
            in_class = False
        out.append(c)
        i += 1
    return "".join(out)


@cache
def java_prefilter() -> str:
    """:data:`masking.recognizers.PREFILTER` as a Java regular expression for ``rlike``."""
    from masking.recognizers import PREFILTER

    return to_java_regex(PREFILTER.pattern)


def prefilter(text: Column) -> Column:
    """True when ``text`` could hold personal data (the prefilter, evaluated in the JVM); false
    for null."""
    return F.coalesce(text.rlike(java_prefilter()), F.lit(False))


# --------------------------------------------------------------------------------------------
# Python side (runs on the workers).


def _names(value: Any) -> tuple[str, ...]:
    """The known names of one record as a tuple (Arrow hands arrays over as numpy arrays)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value if v)


def scrub_text(text: str | None, known_names: Sequence[str] = ()) -> str | None:
    """``text`` with every finding replaced by its entity tag (``<TW_PHONE>``)."""
    if text is None:
        return None
    from masking.recognizers import analyze, redact

    return redact(text, analyze(text, known_names))


def _scrub_series(texts: pd.Series, names: pd.Series | None = None) -> pd.Series:
    """Scrub a batch of texts (nulls stay null)."""
    import pandas as pd

    known: Iterable[Any] = names if names is not None else [None] * len(texts)
    return pd.Series(
        [scrub_text(t, _names(n)) for t, n in zip(texts, known, strict=True)],
        index=texts.index,
        dtype=object,
    )


def found_entities(text: str | None) -> list[str]:
    """The entity types Presidio finds in ``text`` (each once, sorted)."""
    if text is None:
        return []
    from masking.recognizers import analyze

    return sorted({r.entity_type for r in analyze(text)})


def _entities_series(texts: pd.Series) -> pd.Series:
    import pandas as pd

    return pd.Series([found_entities(t) for t in texts], index=texts.index, dtype=object)


def worker_python(spark: SparkSession) -> None:
    """Make the Python UDFs created from now on run on the session's ``spark.pyspark.python``.

    PySpark takes the workers' interpreter from ``PYSPARK_PYTHON`` (else ``python3`` on the
    PATH) when the driver starts, and reads ``spark.pyspark.python`` only under spark-submit: a
    session started from a Python process would run its UDFs on whatever ``python3`` is first on
    the PATH (without Presidio or pandas). Nothing changes when ``PYSPARK_PYTHON`` is set.
    """
    sc = spark.sparkContext
    wanted = sc.getConf().get("spark.pyspark.python")
    if wanted and not os.environ.get("PYSPARK_PYTHON") and sc.pythonExec != wanted:
        sc.pythonExec = wanted


def _udfs(spark: SparkSession) -> dict[str, Any]:
    """The pandas UDFs for ``spark`` (created per use: a UDF binds to the session it is first
    applied in). The analyzer they use is built once per worker process."""
    worker_python(spark)
    import pandas as pd
    from pyspark.sql.functions import pandas_udf

    def scrub_plain(texts: pd.Series) -> pd.Series:
        return _scrub_series(texts)

    def scrub_named(texts: pd.Series, names: pd.Series) -> pd.Series:
        return _scrub_series(texts, names)

    def entities(texts: pd.Series) -> pd.Series:
        return _entities_series(texts)

    # pyspark reads the type hints to pick the UDF kind: give it the classes, not the strings
    # that ``from __future__ import annotations`` leaves.
    for fn in (scrub_plain, scrub_named, entities):
        fn.__annotations__ = {k: pd.Series for k in fn.__annotations__}
    return {
        "plain": pandas_udf(scrub_plain, StringType()),  # type: ignore[call-overload]
        "named": pandas_udf(scrub_named, StringType()),  # type: ignore[call-overload]
        "entities": pandas_udf(entities, ArrayType(StringType())),  # type: ignore[call-overload]
    }


def entities_column(spark: SparkSession, text: Column) -> Column:
    """The entity types Presidio finds in ``text`` (an array; analysed in Arrow batches). The
    caller should prefilter: every row given here crosses to Python."""
    return _udfs(spark)["entities"](text)


# --------------------------------------------------------------------------------------------
# Spark API.


def known_names(df: DataFrame, column: str) -> Column:
    """``column`` as an array of non-empty names (a string column becomes a one-name array)."""
    dtype = df.schema[column].dataType
    col = F.col(column)
    if isinstance(dtype, ArrayType):
        arr = col.cast(ArrayType(StringType()))
    else:
        arr = F.array(col.cast("string"))
    return F.filter(arr, lambda n: n.isNotNull() & (F.trim(n) != ""))


def scrub(df: DataFrame, column: str, known_names_column: str | None = None) -> DataFrame:
    """``df`` with the text of ``column`` replaced by its redacted text.

    A text goes to Presidio only when the JVM prefilter matches it, or when the record has known
    names (``known_names_column``: a string or an array of strings, e.g. the payee's registered
    name; found anywhere in the text). Every other text is kept as is without leaving the JVM
    (it crosses to Python as a null). Null stays null. Row order and the other columns are kept.
    """
    text = F.col(column)
    if known_names_column is None:
        needs = prefilter(text)
        scrubbed = _udfs(df.sparkSession)["plain"](F.when(needs, text))
    else:
        names = known_names(df, known_names_column)
        needs = prefilter(text) | (text.isNotNull() & (F.size(names) > 0))
        scrubbed = _udfs(df.sparkSession)["named"](F.when(needs, text), F.when(needs, names))
    return df.withColumn(column, F.when(needs, scrubbed).otherwise(text))


def scrub_naive(df: DataFrame, column: str, known_names_column: str | None = None) -> DataFrame:
    """The baseline: a plain Python UDF calling ``analyze`` and ``redact`` for every row (no JVM
    prefilter, no Arrow batches). Same output as :func:`scrub`."""
    worker_python(df.sparkSession)
    if known_names_column is None:
        udf = F.udf(lambda t: scrub_text(t), StringType())
        return df.withColumn(column, udf(F.col(column)))
    named = F.udf(lambda t, n: scrub_text(t, _names(n)), StringType())
    return df.withColumn(column, named(F.col(column), known_names(df, known_names_column)))
