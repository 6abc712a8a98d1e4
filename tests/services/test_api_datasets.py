"""The dataset endpoints over HTTP: what a caller may see, a version streamed by time travel,
refusals that name the scope and never repeat the name sent, and the exchange record."""

from __future__ import annotations

import io

import pyarrow.parquet as pq
import pytest

from kernel.layout import Layout
from services.exchanges import exchanges
from tests.services.conftest import FLAGS, SNAPSHOT, Running, coverage_rows

GOLD = "/v1/datasets/gold.person_coverage"


def _get(service: Running, path: str, token: str | None = None,
         **headers: str) -> tuple[int, object, dict[str, str], bytes]:
    h = dict(headers)
    if token:
        h["Authorization"] = f"Bearer {token}"
    with service.client() as c:
        r = c.get(path, headers=h)
    ctype = r.headers.get("content-type", "")
    doc = r.json() if "json" in ctype else None
    return r.status_code, doc, dict(r.headers), r.content


def test_anonymous_callers_see_open_data_only(service: Running) -> None:
    code, doc, _, _ = _get(service, "/v1/datasets")
    assert code == 200
    assert [d["name"] for d in doc["datasets"]] == ["opendata.insured_by_county_age_sex"]  # type: ignore[index]
    assert doc["datasets"][0]["open"] is True and doc["datasets"][0]["scope"] is None  # type: ignore[index]


def test_a_scope_adds_its_dataset(service: Running) -> None:
    code, doc, _, _ = _get(service, "/v1/datasets", service.token("research"))
    names = [d["name"] for d in doc["datasets"]]  # type: ignore[index]
    assert code == 200 and sorted(names) == ["gold.person_coverage",
                                             "opendata.insured_by_county_age_sex"]


def test_describe_lists_the_versions_with_their_snapshot(service: Running) -> None:
    code, doc, _, _ = _get(service, GOLD, service.token("research"))
    assert code == 200
    assert doc["name"] == "gold.person_coverage"  # type: ignore[index]
    assert [(v["version"], v["snapshot_date"]) for v in doc["versions"]] == [  # type: ignore[index]
        (0, SNAPSHOT.isoformat())]


def test_a_version_streams_as_parquet_equal_to_the_published_rows(service: Running) -> None:
    code, _, headers, body = _get(service, f"{GOLD}/versions/0", service.token("research"))
    assert code == 200 and headers["content-type"] == "application/vnd.apache.parquet"
    got = pq.read_table(io.BytesIO(body))
    assert got.sort_by("person_key").equals(coverage_rows(FLAGS, SNAPSHOT).sort_by("person_key"))
    again = _get(service, f"{GOLD}/versions/0", service.token("research"),
                 **{"If-None-Match": headers["etag"]})
    assert again[0] == 304


def test_csv_starts_with_a_bom_and_a_header(service: Running) -> None:
    code, _, headers, body = _get(service, f"{GOLD}/versions/0?format=csv",
                                  service.token("research"))
    assert code == 200 and headers["content-type"].startswith("text/csv")
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].replace('"', "").split(",")[:2] == ["person_key", "in_labor_insurance"]
    assert len(lines) == 1 + len(FLAGS)


@pytest.mark.parametrize(("path", "who", "status", "kind", "detail"), [
    (GOLD, None, 401, "unauthorized", "gold.person_coverage needs the scope "
     "datasets:gold.person_coverage, which an anonymous caller does not hold (get a token: "
     "POST /oauth/token)"),
    (GOLD, "labor-office", 403, "missing-scope", "gold.person_coverage needs the scope "
     "datasets:gold.person_coverage, which this client does not hold"),
    ("/v1/datasets/..%2F..%2Fetc%2Fpasswd", "research", 404, "not-found",
     "no such endpoint (see /docs)"),
    ("/v1/datasets/..%5C..%5Cetc%5Cpasswd", "research", 404, "unknown-dataset",
     "no published dataset of that name (the dataset list names the ones this client may read)"),
    ("/v1/datasets/silver.moi.residents", "research", 404, "unknown-dataset",
     "no published dataset of that name (the dataset list names the ones this client may read)"),
    (f"{GOLD}/versions/7", "research", 404, "unknown-version", None),
    (f"{GOLD}/versions/0?format=xlsx", "research", 422, "unsupported-format", None),
    (f"{GOLD}/versions/1%20OR%201=1", "research", 422, "invalid-request", None),
])
def test_dataset_refusals(service: Running, path: str, who: str | None, status: int, kind: str,
                          detail: str | None) -> None:
    code, doc, headers, _ = _get(service, path, service.token(who) if who else None)
    assert code == status and headers["content-type"] == "application/problem+json"
    assert doc["type"].rsplit("/", 1)[1] == kind  # type: ignore[index]
    if detail is not None:
        assert doc["detail"] == detail  # type: ignore[index]
    assert "passwd" not in str(doc) and "OR 1=1" not in str(doc)


def test_a_download_is_recorded_with_its_version_and_etag(service: Running) -> None:
    code, _, headers, _ = _get(service, f"{GOLD}/versions/0", service.token("research"))
    assert code == 200
    found = [e for e in exchanges(Layout(str(service.root)).audit_dir, client="research")
             if e.details.get("etag") == headers["etag"].strip('"')]
    assert found and found[-1].details["dataset"] == "gold.person_coverage"
    assert (found[-1].details["version"], found[-1].details["format"]) == (0, "parquet")
