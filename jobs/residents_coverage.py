"""Person coverage from the household registry alone: a one-feed ``gold.person_coverage``.

``gold.person_coverage`` proper needs all six feeds (two of them pulled from an API and a
database). The benchmark (``bench/``) and the publishing, lineage and reliability tests need a
dataset that one file-drop feed can publish: :func:`contract` is the same contract (name,
table, columns, masking, gates) with ``moi.household_registry`` as its only input and
:func:`residents_coverage` as its transform. Every resident, with the other feeds' flags null;
the dataset's masking plan (:mod:`masking.dataset_plan`) then pseudonymises ``national_id``
(``person_key``, HMAC-SHA256), generalises the birth date to year and age band and the address
to county, as for ``gold.person_coverage``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from kernel import contracts
from kernel.contracts import DatasetContract

FEED = "moi.household_registry"
TRANSFORM = "jobs.residents_coverage:residents_coverage"
OTHER_FLAGS = ("in_labor_insurance", "in_nhi", "is_farmer", "pension_contrib_last_12m",
               "receives_benefit")


def contract() -> DatasetContract:
    """``gold.person_coverage`` with the household registry as its only input."""
    return dataclasses.replace(contracts.dataset("gold.person_coverage"), inputs=(FEED,),
                               transform=TRANSFORM)


def residents_coverage(
    inputs: Mapping[str, DataFrame], snapshot_date: date, contract: DatasetContract
) -> DataFrame:
    """One row per resident: the business columns of :func:`jobs.person_coverage.person_coverage`
    (``national_id``, ``sex``, ``birth_date``, ``address``, ``is_deceased`` as of
    ``snapshot_date``, ``snapshot_date``); the flags of the other feeds and ``insured_salary``
    null (not inputs of this dataset). ``contract`` is not read."""
    del contract
    snap = F.lit(snapshot_date).cast("date")
    residents = inputs["moi.residents"]
    return residents.select(
        "national_id", "sex", "birth_date", "address",
        F.coalesce(F.col("death_date") <= snap, F.lit(False)).alias("is_deceased"),
        *[F.lit(None).cast("boolean").alias(c) for c in OTHER_FLAGS],
        F.lit(None).cast("int").alias("insured_salary"),
        snap.alias("snapshot_date"),
    )
