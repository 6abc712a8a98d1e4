"""A version large enough to be spliced goes out with its ``Content-Length``, equal to the
published rows (its own module: it publishes a second version of gold.person_coverage)."""

from __future__ import annotations

import io
from datetime import date

import pyarrow.parquet as pq

from tests.services.conftest import Running, coverage_rows, publish

GOLD = "/v1/datasets/gold.person_coverage"


def test_a_spliced_version_streams_with_its_length(service: Running) -> None:
    flags = {n: (n % 2 == 0, n % 3 == 0, False, n % 5 == 0) for n in range(1, 60_001)}
    rows = coverage_rows(flags, date(2026, 12, 31))
    publish(service.root, rows, date(2026, 12, 31))
    with service.client() as c:
        r = c.get(f"{GOLD}/versions/1", headers={
            "Authorization": f"Bearer {service.token('research')}"})
        assert r.status_code == 200, r.text
        assert int(r.headers["content-length"]) == len(r.content) > 1_000_000
        assert "chunked" not in r.headers.get("transfer-encoding", "")
        back = pq.read_table(io.BytesIO(r.content))
        assert back.replace_schema_metadata().equals(rows)
        assert pq.ParquetFile(io.BytesIO(r.content)).metadata.row_group(0).column(0) \
            .compression == "SNAPPY"  # the table's own bytes, not encoded anew
        old = c.get(f"{GOLD}/versions/0", headers={
            "Authorization": f"Bearer {service.token('research')}"})
        assert old.status_code == 200 and "content-length" not in old.headers  # tiny: encoded
