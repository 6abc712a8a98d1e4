"""gold.person_coverage: one row per person known to any feed, pseudonymised.

Pure transform: the residents' current state in, the published rows out. The snapshot date
and the key are parameters (no clock, no environment).
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from convergence.contracts import DatasetContract
from masking.keys import PseudonymKey
from masking.pseudonymize import pseudonymize

# The 22 counties and cities (縣市) of Taiwan, official forms (臺, not 台).
COUNTIES = (
    "臺北市", "新北市", "桃園市", "臺中市", "臺南市", "高雄市", "基隆市", "新竹市", "嘉義市",
    "新竹縣", "苗栗縣", "彰化縣", "南投縣", "雲林縣", "嘉義縣", "屏東縣", "宜蘭縣", "花蓮縣",
    "臺東縣", "澎湖縣", "金門縣", "連江縣",
)  # fmt: skip


def county(address: Column) -> Column:
    """The 縣市 an address starts with (台 read as 臺), or null if it names none."""
    head = F.translate(F.substring(address, 1, 3), "台", "臺")
    return F.when(head.isin(*COUNTIES), head)


def age_band(birth: Column, snapshot: Column) -> Column:
    """5-year age band at the snapshot date (``0-4``, ``5-9``, ..., ``100+``)."""
    age = F.floor(F.months_between(snapshot, birth) / 12).cast("int")
    low = (F.floor(age / 5) * 5).cast("int")
    return (
        F.when(age.isNull() | (age < 0), F.lit(None))
        .when(low >= 100, F.lit("100+"))
        .otherwise(F.concat(low.cast("string"), F.lit("-"), (low + 4).cast("string")))
    )


def person_coverage(
    residents: DataFrame, snapshot_date: date, key: PseudonymKey, contract: DatasetContract
) -> DataFrame:
    """The published rows: demographics generalised, coverage flags, ``person_key``."""
    snap = F.lit(snapshot_date).cast("date")
    base = residents.select(
        "national_id",
        F.col("sex"),
        F.year("birth_date").alias("birth_year"),
        age_band(F.col("birth_date"), snap).alias("age_band"),
        county(F.col("address")).alias("county"),
        F.col("death_date").isNotNull().alias("is_deceased"),
    )
    keyed = pseudonymize(base, key, "national_id", "person_key")
    # Feeds not onboarded yet leave their columns null (typed as the contract says).
    known = {"person_key", "sex", "birth_year", "age_band", "county", "is_deceased"}
    cols: list[Column] = []
    for c in contract.columns:
        if c.name in known:
            cols.append(F.col(c.name).cast(c.type).alias(c.name))
        elif c.name == "snapshot_date":
            cols.append(snap.alias(c.name))
        else:
            cols.append(F.lit(None).cast(c.type).alias(c.name))
    return keyed.select(*cols)
