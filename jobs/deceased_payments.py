"""gold.deceased_with_active_payments: benefit payments for a month after the person's death.

The case list that lets the bureau stop payments to deceased persons and recover them
(restricted: stewards and investigators). A payment is listed when its latest version
(``bli.payments``: a correction or a cancellation replaces the earlier version) has an amount
above zero (a cancelled payment has amount 0) and its ``payment_month`` is a calendar month
after the month of death recorded by the household registry (``moi.residents.death_date``,
recorded on or before the snapshot date). A payment for the month of death itself is due and
not listed. Future payment months are listed too: they are exactly the ones to stop.

The candidate holds the business columns; the dataset's masking plan
(:mod:`masking.dataset_plan`) makes ``person_key`` of ``national_id``, ``death_month`` of
``death_date`` and ``remark_masked`` of the clerk's ``remark`` (every name, identifier, phone,
e-mail, account and address replaced by its entity tag, the deceased's registered ``name``
passed to the scrub as a known name), and drops the raw columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.person_coverage import PAYMENTS, RESIDENTS, by_person, require
from kernel.contracts import DatasetContract
from masking.generalize import first_of_month


def deceased_with_active_payments(
    inputs: Mapping[str, DataFrame], snapshot_date: date, contract: DatasetContract
) -> DataFrame:
    """One row per listed payment: ``national_id``, ``name`` (registered), ``death_date``,
    ``payment_id``, ``payment_month``, ``benefit_type``, ``amount``, ``remark`` (the latest
    version's, unmasked). ``contract`` is not read: the listing has no options."""
    del contract
    residents, payments = by_person(*require(inputs, RESIDENTS, PAYMENTS))
    deaths = residents.where(
        F.col("death_date").isNotNull() & (F.col("death_date") <= F.lit(snapshot_date))
    ).select("national_id", "name", "death_date")
    active = payments.where(F.col("amount") > 0).select(
        "national_id", "payment_id", "payment_month", "benefit_type", "amount", "remark"
    )
    return active.join(deaths, "national_id").where(
        first_of_month(F.col("payment_month")) > first_of_month(F.col("death_date"))
    )
