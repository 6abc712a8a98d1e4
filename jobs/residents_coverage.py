"""Person coverage from the household registry alone: a one-feed ``gold.person_coverage``.

``gold.person_coverage`` proper needs all six feeds (two of them pulled from an API and a
database). The benchmark (``bench/``) and the publishing, lineage and reliability tests need a
dataset that one file-drop feed can publish: :func:`contract` is the same contract (name,
table, columns, masking, gates) with ``moi.household_registry`` as its only input and
:func:`residents_coverage` as its transform. Every resident, pseudonymised (``person_key``,
HMAC-SHA256), birth date generalised to year and age band, address to county; the other
feeds' flags null.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.person_coverage import to_contract
from kernel import contracts
from kernel.contracts import DatasetContract
from masking.generalize import age_band, county
from masking.keys import PseudonymKey
from masking.pseudonymize import pseudonymize

FEED = "moi.household_registry"
TRANSFORM = "jobs.residents_coverage:residents_coverage"
OTHER_FLAGS = ("in_labor_insurance", "in_nhi", "is_farmer", "pension_contrib_last_12m",
               "receives_benefit")


def contract() -> DatasetContract:
    """``gold.person_coverage`` with the household registry as its only input."""
    return dataclasses.replace(contracts.dataset("gold.person_coverage"), inputs=(FEED,),
                               transform=TRANSFORM)


def residents_coverage(inputs: Mapping[str, DataFrame], snapshot_date: date, key: PseudonymKey,
                       contract: DatasetContract) -> DataFrame:
    """One row per resident: demographics generalised, ``is_deceased``; the flags of the other
    feeds null (not inputs of this dataset)."""
    snap = F.lit(snapshot_date).cast("date")
    residents = inputs["moi.residents"]
    base = residents.select(
        "national_id", "sex", F.year("birth_date").alias("birth_year"),
        age_band(F.col("birth_date"), snap).alias("age_band"),
        county(F.col("address")).alias("county"),
        F.coalesce(F.col("death_date") <= snap, F.lit(False)).alias("is_deceased"),
        *[F.lit(None).cast("boolean").alias(c) for c in OTHER_FLAGS],
        F.lit(None).cast("string").alias("insured_salary_band"),
        snap.alias("snapshot_date"),
    )
    return to_contract(pseudonymize(base, key, "national_id", "person_key"), contract)
