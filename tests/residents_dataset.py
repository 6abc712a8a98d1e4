"""A one-feed dataset for the publishing tests: person coverage from the household registry
alone (the real ``gold.person_coverage`` needs all six feeds).

Same name, table and columns as ``gold.person_coverage``; its only input is
``moi.household_registry`` and its transform is :func:`residents_coverage` below, so a test can
publish after ingesting feed 1 only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from convergence import contracts
from convergence.contracts import DatasetContract
from jobs.person_coverage import age_band, county, to_contract
from masking.keys import PseudonymKey
from masking.pseudonymize import pseudonymize

TRANSFORM = "tests.residents_dataset:residents_coverage"


def contract() -> DatasetContract:
    """``gold.person_coverage`` with the household registry as its only input."""
    return dataclasses.replace(contracts.dataset("gold.person_coverage"),
                               inputs=("moi.household_registry",), transform=TRANSFORM)


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
        *[F.lit(None).cast("boolean").alias(c) for c in (
            "in_labor_insurance", "in_nhi", "is_farmer", "pension_contrib_last_12m",
            "receives_benefit")],
        F.lit(None).cast("string").alias("insured_salary_band"),
        snap.alias("snapshot_date"),
    )
    return to_contract(pseudonymize(base, key, "national_id", "person_key"), contract)
