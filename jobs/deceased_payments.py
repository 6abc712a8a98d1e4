"""gold.deceased_with_active_payments: benefit payments for a month after the person's death.

The case list that lets the bureau stop payments to deceased persons and recover them
(restricted: stewards and investigators). A payment is listed when its latest version
(``bli.payments``: a correction or a cancellation replaces the earlier version) has an amount
above zero (a cancelled payment has amount 0) and its ``payment_month`` is a calendar month
after the month of death recorded by the household registry (``moi.residents.death_date``,
recorded on or before the snapshot date). A payment for the month of death itself is due and
not listed. Future payment months are listed too: they are exactly the ones to stop.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.person_coverage import PAYMENTS, RESIDENTS, by_person, require, to_contract
from kernel.contracts import DatasetContract
from masking.keys import PseudonymKey
from masking.pseudonymize import pseudonymize


def deceased_with_active_payments(
    inputs: Mapping[str, DataFrame], snapshot_date: date, key: PseudonymKey,
    contract: DatasetContract,
) -> DataFrame:
    """One row per listed payment: ``person_key``, ``death_month`` (first day of the month of
    death), ``payment_id``, ``payment_month``, ``benefit_type``, ``amount``."""
    residents, payments = by_person(*require(inputs, RESIDENTS, PAYMENTS))
    deaths = residents.where(
        F.col("death_date").isNotNull() & (F.col("death_date") <= F.lit(snapshot_date))
    ).select("national_id", F.trunc("death_date", "month").alias("death_month"))
    active = payments.where(F.col("amount") > 0).select(
        "national_id", "payment_id", "payment_month", "benefit_type", "amount"
    )
    listed = active.join(deaths, "national_id").where(
        F.trunc("payment_month", "month") > F.col("death_month")
    )
    return to_contract(pseudonymize(listed, key, "national_id", "person_key"), contract)
