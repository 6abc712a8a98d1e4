"""The one-feed person coverage (household registry only) on hand-built residents, through the
dataset's masking plan: generalised demographics, ``is_deceased`` at the snapshot, the other
feeds' flags null, the person_key an independent HMAC."""

from __future__ import annotations

import datetime as dt

from pyspark.testing import assertDataFrameEqual

from jobs import residents_coverage
from tests.jobs.test_person_coverage import frame, pk, published

D = dt.date
SNAPSHOT = D(2024, 11, 15)


def test_one_row_per_resident_generalised_with_the_other_flags_null(spark) -> None:  # type: ignore[no-untyped-def]
    residents = frame(spark, "moi.residents", [
        {"national_id": "A123456789", "name": "王小明", "sex": "1", "birth_date": D(1980, 3, 15),
         "address": "台北市中正區重慶南路一段122號"},
        {"national_id": "B234567890", "name": "陳美玲", "sex": "2", "birth_date": D(1930, 1, 2),
         "address": "花蓮縣花蓮市中山路1號", "death_date": D(2024, 11, 15)},
        {"national_id": "C100000003", "sex": "2", "birth_date": D(2020, 11, 16),
         "address": "月球基地", "death_date": D(2024, 12, 1)},
    ])
    dc = residents_coverage.contract()
    assert dc.inputs == ("moi.household_registry",)
    got = published(residents_coverage.residents_coverage, {"moi.residents": residents},
                    SNAPSHOT, dc)

    def row(pid: str, sex: str, year: int, band: str, county: str | None,
            deceased: bool) -> tuple[object, ...]:
        return (pk(pid), sex, year, band, county, None, None, None, None, None, None, deceased,
                SNAPSHOT)

    assert got.columns == [c.name for c in dc.columns]
    assertDataFrameEqual(got, spark.createDataFrame([
        row("A123456789", "1", 1980, "40-44", "臺北市", False),
        row("B234567890", "2", 1930, "90-94", "花蓮縣", True),
        row("C100000003", "2", 2020, "0-4", None, False),  # dies after the snapshot
    ], got.schema))
