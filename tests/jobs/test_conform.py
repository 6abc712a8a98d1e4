"""Unit tests of the conforming transforms on small inline data."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobs import conform
from kernel import contracts
from kernel.text import nfkc_width, trim_ws

FEED = contracts.feed("moi.household_registry")


def test_nfkc_trim_upper(spark):
    df = spark.createDataFrame([("  ａ１２３４５６７８９\u3000",), ("A123456789",)], "v string")
    out = df.select(F.upper(trim_ws(nfkc_width(F.col("v")))).alias("v"))
    assertDataFrameEqual(out, spark.createDataFrame([("A123456789",), ("A123456789",)], "v string"))


def test_roc_dates(spark):
    raw = ["0780315", "780315", "1130105", "1080230", "1131301", "", None, "78031", "abc1234"]
    df = spark.createDataFrame([(r,) for r in raw], "v string")
    got = df.select(conform.roc_date(F.col("v")).alias("d"))
    expected = [dt.date(1989, 3, 15), dt.date(1989, 3, 15), dt.date(2024, 1, 5)] + [None] * 6
    assertDataFrameEqual(got, spark.createDataFrame([(d,) for d in expected], "d date"),
                         checkRowOrder=True)


def test_tai_variant_is_one_county(spark):
    df = spark.createDataFrame([("台北市中正區",), ("臺北市中正區",)], "a string")
    out = df.select(conform.tai_to_tai(F.col("a")).alias("a")).distinct()
    assertDataFrameEqual(out, spark.createDataFrame([("臺北市中正區",)], "a string"))


def _bronze(spark, rows):
    cols = [f.name for f in FEED.fields]
    schema = ", ".join(f"{c} string" for c in cols)
    schema += ", _batch_id string, _source_file string, _source_digest string, "
    schema += "_source_row long, _file_date date"
    return spark.createDataFrame(rows, schema)


ROW = ("Ａ１２３４５６７８９ ", " 王小明", "1", "780315", "台北市中正區忠孝東路一段１２號",
       "ab123456", "02", "1130105", "")


def test_conform_types_and_normalises(spark):
    df = _bronze(spark, [(*ROW, "b1", "f.csv", "d", 1, dt.date(2024, 1, 5))])
    out = conform.to_silver(conform.conform(df, FEED))
    expected = spark.createDataFrame(
        [("A123456789", "王小明", "1", dt.date(1989, 3, 15), "臺北市中正區忠孝東路一段12號",
          "AB123456", "02", dt.date(2024, 1, 5), None, "b1", "f.csv", "d", 1,
          dt.date(2024, 1, 5))],
        "national_id string, name string, sex string, birth_date date, address string, "
        "household_no string, change_type string, change_date date, death_date date, "
        "_batch_id string, _source_file string, _source_digest string, _source_row long, "
        "_file_date date",
    )
    assertDataFrameEqual(out, expected)


def test_conform_keeps_raw_text_of_dates_and_the_bronze_record(spark):
    row = list(ROW)
    row[3] = "1080230"
    df = _bronze(spark, [(*row, "b1", "f.csv", "d", 1, dt.date(2024, 1, 5))])
    out = conform.conform(df, FEED).select("birth_date", "_raw_birth_date", "_bronze.name").first()
    assert out["birth_date"] is None
    assert out["_raw_birth_date"] == "1080230"
    assert out["name"] == " 王小明"


def test_events_deduplicated_within_batch(spark):
    rows = [(*ROW, "b1", "f.csv", "d", i, dt.date(2024, 1, 5)) for i in (1, 2, 3)]
    events = conform.with_event_id(conform.conform(_bronze(spark, rows), FEED), FEED)
    unique = conform.drop_duplicates_in_batch(events)
    assertDataFrameEqual(unique.select("_source_row"),
                         spark.createDataFrame([(1,)], "_source_row long"))


def test_latest_per_key_keeps_a_recorded_death(spark):
    death = list(ROW)
    death[6], death[7], death[8] = "04", "1130201", "1130131"
    correction = list(ROW)
    correction[6], correction[7] = "05", "1130301"
    rows = [
        (*ROW, "b1", "f1.csv", "d", 1, dt.date(2024, 1, 5)),
        (*death, "b2", "f2.csv", "d", 1, dt.date(2024, 2, 1)),
        (*correction, "b3", "f3.csv", "d", 1, dt.date(2024, 3, 1)),
    ]
    events = conform.to_silver(conform.conform(_bronze(spark, rows), FEED))
    latest = conform.latest_per_key(events, FEED)
    assertDataFrameEqual(
        latest.select("national_id", "change_type", "death_date"),
        spark.createDataFrame([("A123456789", "05", dt.date(2024, 1, 31))],
                              "national_id string, change_type string, death_date date"),
    )


def test_newer_condition_orders_by_contract():
    cond = conform.newer_condition(FEED)
    assert cond.startswith("(s.`change_date` > t.`change_date`)")
    assert "s.`_file_date` > t.`_file_date`" in cond
    assert cond.endswith("s.`_source_row` > t.`_source_row`)")
