"""Free-text scrubbing in Spark: the JVM prefilter, Presidio in Arrow batches, the naive UDF."""

from __future__ import annotations

import json
import re

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from masking.evaluate import DEFAULT_PATH
from masking.freetext import java_prefilter, scrub, scrub_naive, to_java_regex
from masking.recognizers import PREFILTER, needs_analysis

RECORDS = [json.loads(line) for line in DEFAULT_PATH.read_text(encoding="utf-8").splitlines()]
SAMPLE = RECORDS[::4]  # 150 of the 600 labelled remarks, every kind


def test_java_prefilter_spells_out_python_whitespace():
    java = java_prefilter()
    assert r"\s" not in java and r"\u3000" in java
    assert to_java_regex(r"a\sb[\s-]") .startswith(r"a[\u0009")
    with pytest.raises(ValueError):
        to_java_regex(r"\d+")


def test_jvm_prefilter_agrees_with_python(spark):
    texts = [r["text"] for r in RECORDS] + [
        "電話０９１２\u3000３４５６７８",  # ideographic space: Python \s, not Java \s
        "12\u20033456789",
        "無個資的備註",
        "",
    ]
    df = spark.createDataFrame([(i, t) for i, t in enumerate(texts)], "id int, text string")
    jvm = {r["id"]: r["hit"] for r in
           df.select("id", F.col("text").rlike(java_prefilter()).alias("hit")).collect()}
    assert jvm == {i: bool(PREFILTER.search(t)) for i, t in enumerate(texts)}


def _frame(spark, records):
    return spark.createDataFrame(
        [(r["id"], r["text"], r["known_names"]) for r in records],
        "id int, text string, names array<string>",
    )


def test_scrub_matches_the_naive_udf_on_the_eval_texts(spark):
    df = _frame(spark, SAMPLE)
    fast = scrub(df, "text", "names")
    assertDataFrameEqual(fast, scrub_naive(df, "text", "names"))
    assertDataFrameEqual(scrub(df, "text"), scrub_naive(df, "text"))
    out = {r["id"]: r["text"] for r in fast.collect()}
    for r in SAMPLE:
        for span in r["spans"]:
            value = r["text"][span["start"] : span["end"]]
            assert value not in out[r["id"]], (r["id"], span["entity"])
        if r["spans"]:
            assert re.search(r"<[A-Z_]+>", out[r["id"]])
    # Texts the prefilter rules out are unchanged.
    for r in SAMPLE:
        if not needs_analysis(r["text"], r["known_names"]):
            assert out[r["id"]] == r["text"]


def test_scrub_real_output_and_nulls(spark):
    df = spark.createDataFrame(
        [
            (1, "受款人王小明(A123456789)來電0912-345-678", None),
            (2, "本月給付正常", ["林美玲"]),
            (3, "林美玲表示帳戶已結清", ["林美玲"]),
            (4, None, ["林美玲"]),
            (5, "請洽０９１２－３４５－６７８王先生", []),
        ],
        "id int, remark string, names array<string>",
    )
    assertDataFrameEqual(
        scrub(df, "remark", "names"),
        spark.createDataFrame(
            [
                (1, "受款人<PERSON>(<TW_NATIONAL_ID>)來電<TW_PHONE>", None),
                (2, "本月給付正常", ["林美玲"]),
                (3, "<PERSON>表示帳戶已結清", ["林美玲"]),
                (4, None, ["林美玲"]),
                (5, "請洽<TW_PHONE>王先生", []),  # a surname and a title: no name
            ],
            "id int, remark string, names array<string>",
        ),
    )


def test_scrub_accepts_a_string_name_column(spark):
    df = spark.createDataFrame([("陳大文說明", "陳大文")], "remark string, payee string")
    assertDataFrameEqual(
        scrub(df, "remark", "payee"),
        spark.createDataFrame([("<PERSON>說明", "陳大文")], "remark string, payee string"),
    )
