"""The data service's datasets: who may read which, what each one is, and its versions streamed
as Parquet or CSV. Real Delta tables written with ``deltalake`` under a temporary root laid out
as :func:`analytics.catalog.table_uri` expects, with the commit metadata the publish writes
(``stages.publish``); no mocks."""

from __future__ import annotations

import io
import json
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from deltalake import CommitProperties, DeltaTable, write_deltalake

from analytics import catalog
from kernel import contracts
from services import datasets
from services.datasets import (
    BOM,
    DatasetError,
    NotEntitled,
    UnknownDataset,
    UnknownVersion,
    UnsupportedFormat,
    VersionUnavailable,
)

COVERAGE = "gold.person_coverage"
DUAL = "gold.dual_enrollment"
OPEN = "opendata.insured_by_county_age_sex"
COVERAGE_SCOPE = "datasets:gold.person_coverage"
COUNTIES = ("臺北市", "新北市", "臺中市", "高雄市")
BANDS = ("<30000", "30000-39999", "40000-45799", "45800+")


def coverage(n: int, snapshot: date, first: int = 0) -> pa.Table:
    """``n`` rows of ``gold.person_coverage`` (persons ``first`` to ``first + n - 1``) with the
    contract's columns and types, nulls where the contract allows them."""
    ids = range(first, first + n)
    labor = [i % 3 != 0 for i in ids]
    return pa.table({
        "person_key": [f"{i:064x}" for i in ids],
        "sex": [None if i % 7 == 0 else str(1 + i % 2) for i in ids],
        "birth_year": pa.array([1940 + i % 80 for i in ids], pa.int32()),
        "age_band": [f"{5 * (i % 20)}-{5 * (i % 20) + 4}" for i in ids],
        "county": [None if i % 5 == 0 else COUNTIES[i % 4] for i in ids],
        "in_labor_insurance": labor,
        "insured_salary_band": [BANDS[i % 4] if w else None for i, w in zip(ids, labor,
                                                                            strict=True)],
        "in_nhi": [i % 4 != 0 for i in ids],
        "is_farmer": [i % 9 == 0 for i in ids],
        "pension_contrib_last_12m": [i % 2 == 0 for i in ids],
        "receives_benefit": [i % 11 == 0 for i in ids],
        "is_deceased": [i % 13 == 0 for i in ids],
        "snapshot_date": pa.array([snapshot] * n, pa.date32()),
    })


def published(version: int, snapshot: date) -> dict[str, Any]:
    """The commit metadata of a publish (``stages.publish._publish_candidate``)."""
    return {"dataset": COVERAGE, "contract_version": "2.0.0",
            "inputs": {"moi.household_registry": {"silver_version": version + 3}},
            "key_id": f"k-{2024 + version}", "snapshot_date": snapshot.isoformat(),
            "run_id": f"20241201T020000-{version:04d}", "quality_results": ["q-1"],
            "published_at": f"2024-12-0{1 + version}T02:00:00Z", "audit_anchor": "12:" + "0" * 64}


def write(root: Path, name: str, data: pa.Table, mode: str = "append",
          metadata: dict[str, Any] | None = None, partition_by: list[str] | None = None) -> None:
    """Commit ``data`` to the table ``<zone>.<table>`` under ``root`` (one Delta version)."""
    zone, _, table = name.partition(".")
    props = (CommitProperties(custom_metadata={"userMetadata": json.dumps(metadata)})
             if metadata else None)
    write_deltalake(catalog.table_uri(str(root), zone, table), data, mode=mode,
                    commit_properties=props, partition_by=partition_by)


OPEN_ROWS = pa.table({
    "month": pa.array([date(2024, 11, 1)] * 2, pa.date32()), "county": ["臺北市", "臺中市"],
    "age_band": ["40-44", "35-39"], "sex": ["男", "男"],
    "persons": pa.array([None, 12], pa.int64()), "suppressed": [True, False]})
DUAL_ROWS = pa.table({"person_key": ["a" * 64], "month": pa.array([date(2024, 11, 1)]),
                      "association_code": ["6010012"], "employer_ubn": ["12345675"]})


@pytest.fixture
def lake(tmp_path: Path) -> dict[str, Any]:
    """A root with ``gold.person_coverage`` at versions 0 (6 persons, October) and 1 (8 persons,
    November), open data and ``gold.dual_enrollment``; with the rows of each version and the
    time window of the commits."""
    root = tmp_path / "lakehouse"
    before = datetime.now(UTC).replace(microsecond=0)
    v0, v1 = coverage(6, date(2024, 10, 31)), coverage(8, date(2024, 11, 30))
    write(root, COVERAGE, v0, metadata=published(0, date(2024, 10, 31)))
    write(root, COVERAGE, v1, "overwrite", published(1, date(2024, 11, 30)))
    write(root, OPEN, OPEN_ROWS, metadata={"snapshot_date": "2024-11-30", "run_id": "r-9",
                                           "contract_version": "1.0.1", "key_id": "k-2025"})
    write(root, DUAL, DUAL_ROWS)
    return {"root": str(root), "v0": v0, "v1": v1, "before": before,
            "after": datetime.now(UTC)}


def download(root: str, name: str, version: int, fmt: str, **tuning: int) -> bytes:
    """The whole download of a version, by a client holding the dataset's scope."""
    table = datasets.dataset(root, name, frozenset({f"datasets:{name}"}))
    return b"".join(datasets.stream(root, table, version, fmt, **tuning).chunks)


def from_csv(data: bytes, like: pa.Table) -> pa.Table:
    """A CSV download parsed back with the types of ``like`` (an empty unquoted field null)."""
    assert data.startswith(BOM)
    options = pa_csv.ConvertOptions(column_types=like.schema, strings_can_be_null=True)
    return pa_csv.read_csv(io.BytesIO(data[len(BOM):]), convert_options=options)


# ---------------------------------------------------------------- entitlement
def test_a_scope_names_the_zone_and_the_table(lake: dict[str, Any]) -> None:
    table = catalog.lookup(lake["root"], COVERAGE)
    assert datasets.scope_of(table) == COVERAGE_SCOPE


def test_anonymous_callers_are_entitled_to_open_data_only(lake: dict[str, Any]) -> None:
    assert [t.name for t in datasets.entitled(lake["root"], None)] == [OPEN]
    assert [t.name for t in datasets.entitled(lake["root"], frozenset())] == [OPEN]


def test_a_scope_grants_exactly_its_dataset(lake: dict[str, Any]) -> None:
    root = lake["root"]
    names = {t.name for t in datasets.entitled(root, frozenset({COVERAGE_SCOPE}))}
    assert names == {COVERAGE, OPEN}
    names = {t.name for t in datasets.entitled(root, frozenset({"datasets:gold.dual_enrollment",
                                                                 "verify:labor"}))}
    assert names == {DUAL, OPEN}
    # a scope naming a table that is not a published dataset grants nothing
    not_datasets = frozenset({"datasets:silver.residents", "datasets:system.publishes"})
    assert [t.name for t in datasets.entitled(root, not_datasets)] == [OPEN]
    every = frozenset(datasets.scope_of(t) for t in catalog.tables(root) if t.kind == "dataset")
    assert {t.name for t in datasets.entitled(root, every)} == {
        dc.name for dc in contracts.datasets()}


def test_open_data_whose_contract_is_not_public_needs_its_scope(lake: dict[str, Any],
                                                              tmp_path: Path) -> None:
    schemas = tmp_path / "schemas"
    shutil.copytree(contracts.contracts_dir(), schemas)
    contract = schemas / "opendata" / "insured_by_county_age_sex.yaml"
    text = contract.read_text(encoding="utf-8")
    assert "audience: [public]" in text
    contract.write_text(text.replace("audience: [public]", "audience: [analyst]"),
                        encoding="utf-8")
    root, scope = lake["root"], "datasets:opendata.insured_by_county_age_sex"
    assert datasets.entitled(root, None, schemas) == []
    assert [t.name for t in datasets.entitled(root, frozenset({scope}), schemas)] == [OPEN]
    with pytest.raises(NotEntitled):
        datasets.dataset(root, OPEN, None, schemas)


def test_a_granted_dataset_resolves_by_name(lake: dict[str, Any]) -> None:
    root = lake["root"]
    assert datasets.dataset(root, "GOLD.Person_Coverage",
                            frozenset({COVERAGE_SCOPE})).name == COVERAGE
    assert datasets.dataset(root, OPEN, None).name == OPEN


def test_an_unknown_or_unpublished_name_is_an_unknown_dataset(lake: dict[str, Any]) -> None:
    root, every = lake["root"], frozenset({COVERAGE_SCOPE, 'datasets:silver."moi.residents"'})
    for name in ("gold.no_such_table", "no_zone", 'silver."moi.residents"', "system.publishes"):
        with pytest.raises(UnknownDataset) as refused:
            datasets.dataset(root, name, every)
        assert refused.value.kind == "unknown-dataset"
        assert str(refused.value) == ("no published dataset of that name (the dataset list "
                                      "names the ones this client may read)")


def test_a_dataset_the_scopes_do_not_grant_is_refused_naming_the_scope(
        lake: dict[str, Any]) -> None:
    root = lake["root"]
    with pytest.raises(NotEntitled) as refused:
        datasets.dataset(root, COVERAGE, frozenset({"datasets:gold.dual_enrollment"}))
    assert (refused.value.kind, refused.value.scope, refused.value.anonymous) == (
        "not-entitled", COVERAGE_SCOPE, False)
    assert str(refused.value) == ("gold.person_coverage needs the scope "
                                  "datasets:gold.person_coverage, which this client does not hold")
    with pytest.raises(NotEntitled) as refused:
        datasets.dataset(root, COVERAGE, None)
    assert refused.value.anonymous
    assert str(refused.value) == ("gold.person_coverage needs the scope datasets:gold."
                                  "person_coverage, which an anonymous caller does not hold")


# ---------------------------------------------------------------- describe
def test_describe_gives_the_columns_and_every_version_newest_first(
        lake: dict[str, Any]) -> None:
    root = lake["root"]
    table = datasets.dataset(root, COVERAGE, frozenset({COVERAGE_SCOPE}))
    doc = datasets.describe(root, table)
    dc = next(d for d in contracts.datasets() if d.name == COVERAGE)
    assert {k: doc[k] for k in ("name", "title", "description", "owner", "audience", "scope",
                                "formats")} == {
        "name": COVERAGE, "title": dc.title, "description": dc.description,
        "owner": dict(dc.owner), "audience": ["analyst", "steward", "auditor"],
        "scope": COVERAGE_SCOPE, "formats": ["parquet", "csv"]}
    stored = {"birth_year": "integer", "snapshot_date": "date"}
    bools = {"in_labor_insurance", "in_nhi", "is_farmer", "pension_contrib_last_12m",
             "receives_benefit", "is_deceased"}
    pii = {"person_key": "direct_identifier", "county": "direct_identifier",
           "in_labor_insurance": "none", "pension_contrib_last_12m": "none",
           "receives_benefit": "none", "snapshot_date": "none"}
    described = {c.name: c for c in dc.columns}
    assert doc["columns"] == [
        {"name": name, "type": stored.get(name, "boolean" if name in bools else "string"),
         "description": described[name].description, "pii": pii.get(name, "quasi_identifier"),
         "masking": described[name].masking} for name in lake["v1"].column_names]
    assert [c["masking"] for c in doc["columns"][:5]] == [
        "pseudonymize", "keep", "generalize_year", "generalize_band", "generalize_county"]
    stamps = [v.pop("committed_at") for v in doc["versions"]]
    assert doc["versions"] == [
        {"version": 1, "rows": 8, "snapshot_date": "2024-11-30", "key_id": "k-2025",
         "published_at": "2024-12-02T02:00:00Z", "contract_version": "2.0.0"},
        {"version": 0, "rows": 6, "snapshot_date": "2024-10-31", "key_id": "k-2024",
         "published_at": "2024-12-01T02:00:00Z", "contract_version": "2.0.0"}]
    for stamp in stamps:  # the commit times, in UTC, to the second
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp)
        at = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        assert lake["before"] <= at <= lake["after"]
    assert stamps == sorted(stamps, reverse=True)
    assert json.loads(json.dumps(doc, ensure_ascii=False))["versions"][0]["version"] == 1


def test_describe_open_data_and_a_dataset_never_published(lake: dict[str, Any]) -> None:
    root = lake["root"]
    doc = datasets.describe(root, datasets.dataset(root, OPEN, None))
    assert doc["scope"] is None and doc["audience"] == ["public"]
    assert [(c["name"], c["type"]) for c in doc["columns"]] == [
        ("month", "date"), ("county", "string"), ("age_band", "string"), ("sex", "string"),
        ("persons", "long"), ("suppressed", "boolean")]
    [version] = doc["versions"]
    del version["committed_at"]
    assert version == {"version": 0, "rows": 2, "snapshot_date": "2024-11-30",
                       "key_id": "k-2025", "published_at": None, "contract_version": "1.0.1"}
    name = "gold.deceased_with_active_payments"
    never = datasets.describe(root, datasets.dataset(root, name, frozenset({f"datasets:{name}"})))
    dc = next(d for d in contracts.datasets() if d.name == name)
    assert never["versions"] == []
    assert [(c["name"], c["type"]) for c in never["columns"]] == [
        (c.name, c.type) for c in dc.columns]


def test_describe_refuses_a_table_that_is_not_a_dataset(lake: dict[str, Any]) -> None:
    with pytest.raises(UnknownDataset):
        datasets.describe(lake["root"], catalog.lookup(lake["root"], "system.publishes"))


# ---------------------------------------------------------------- download
def test_a_parquet_download_holds_exactly_the_versions_rows(lake: dict[str, Any]) -> None:
    root = lake["root"]
    table = datasets.dataset(root, COVERAGE, frozenset({COVERAGE_SCOPE}))
    got = datasets.stream(root, table, 1, "parquet")
    assert (got.media_type, got.filename) == ("application/vnd.apache.parquet",
                                              "gold.person_coverage-v1.parquet")
    assert got.etag == datasets.version_etag(table, 1, "parquet")
    data = b"".join(got.chunks)
    assert data[:4] == data[-4:] == b"PAR1"
    back = pq.read_table(io.BytesIO(data))
    assert back.equals(lake["v1"])
    assert back.schema.metadata == {b"lakehouse.dataset": b"gold.person_coverage",
                                    b"lakehouse.version": b"1"}
    assert pq.ParquetFile(io.BytesIO(data)).metadata.row_group(0).column(0).compression == "ZSTD"


def test_a_csv_download_is_utf8_with_a_bom_and_a_header(lake: dict[str, Any]) -> None:
    root = lake["root"]
    got = datasets.stream(root, datasets.dataset(root, OPEN, None), 0, "csv")
    assert (got.media_type, got.filename) == ("text/csv; charset=utf-8",
                                              "opendata.insured_by_county_age_sex-v0.csv")
    assert b"".join(got.chunks) == BOM + (
        '"month","county","age_band","sex","persons","suppressed"\n'
        '2024-11-01,"臺北市","40-44","男",,true\n'
        '2024-11-01,"臺中市","35-39","男",12,false\n').encode()
    data = download(root, COVERAGE, 1, "CSV")
    assert from_csv(data, lake["v1"]).equals(lake["v1"])


def test_an_older_version_is_read_by_time_travel(lake: dict[str, Any]) -> None:
    root = lake["root"]
    assert pq.read_table(io.BytesIO(download(root, COVERAGE, 0, "parquet"))).equals(lake["v0"])
    assert from_csv(download(root, COVERAGE, 0, "csv"), lake["v0"]).equals(lake["v0"])
    # a download resolved before a new version is committed reads the version it resolved
    table = datasets.dataset(root, COVERAGE, frozenset({COVERAGE_SCOPE}))
    pending = datasets.stream(root, table, 1, "parquet")
    write(Path(root), COVERAGE, coverage(3, date(2024, 12, 31), 100), "overwrite")
    assert pq.read_table(io.BytesIO(b"".join(pending.chunks))).equals(lake["v1"])


def test_a_download_started_before_a_new_version_finishes_with_the_old_rows(
        tmp_path: Path) -> None:
    root = tmp_path / "lakehouse"
    parts = [coverage(400, date(2024, 11, 30), 400 * i) for i in range(3)]
    for part in parts:
        write(root, COVERAGE, part)
    table = datasets.dataset(str(root), COVERAGE, frozenset({COVERAGE_SCOPE}))
    expected = pa.concat_tables(parts)
    for fmt in ("parquet", "csv"):
        chunks = datasets.stream(str(root), table, 2, fmt, batch_rows=100,
                                 row_group_rows=200).chunks
        first = next(chunks)
        write(root, COVERAGE, coverage(5, date(2024, 12, 31), 9000), "overwrite")
        write(root, COVERAGE, coverage(5, date(2025, 1, 31), 9100))
        data = first + b"".join(chunks)
        back = (pq.read_table(io.BytesIO(data)) if fmt == "parquet"
                else from_csv(data, expected))
        assert back.equals(expected)


def test_chunks_are_produced_as_the_rows_are_encoded(tmp_path: Path) -> None:
    root = tmp_path / "lakehouse"
    for i in range(3):
        write(root, COVERAGE, coverage(4000, date(2024, 11, 30), 4000 * i))
    table = datasets.dataset(str(root), COVERAGE, frozenset({COVERAGE_SCOPE}))
    got = {fmt: list(datasets.stream(str(root), table, 2, fmt, batch_rows=1000,
                                     row_group_rows=2000).chunks) for fmt in ("parquet", "csv")}
    # Parquet: a chunk per row group of 2000 rows, then the footer; CSV: a chunk per batch
    assert [len(got["parquet"]), len(got["csv"])] == [7, 12]
    for fmt, chunks in got.items():
        assert max(len(c) for c in chunks) < sum(len(c) for c in chunks) / 4, fmt
    meta = pq.ParquetFile(io.BytesIO(b"".join(got["parquet"]))).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [2000] * 6


def test_default_row_groups_gather_small_files(tmp_path: Path) -> None:
    root = tmp_path / "lakehouse"
    parts = [coverage(50, date(2024, 11, 30), 50 * i) for i in range(4)]
    for part in parts:
        write(root, COVERAGE, part)
    data = download(str(root), COVERAGE, 3, "parquet")
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    assert (meta.num_row_groups, meta.num_rows) == (1, 200)
    assert pq.read_table(io.BytesIO(data)).equals(pa.concat_tables(parts))


def test_a_partitioned_version_is_conformed_to_its_schema(tmp_path: Path) -> None:
    """Files without every column (here the partition column) go through the dataset scanner,
    which adds the partition values."""
    root = tmp_path / "lakehouse"
    rows = pa.concat_tables([coverage(30, date(2024, 10, 31)),
                             coverage(20, date(2024, 11, 30), 30)])
    write(root, COVERAGE, rows, partition_by=["snapshot_date"])
    for fmt in ("parquet", "csv"):
        data = download(str(root), COVERAGE, 0, fmt, batch_rows=7, row_group_rows=10)
        back = pq.read_table(io.BytesIO(data)) if fmt == "parquet" else from_csv(data, rows)
        assert back.sort_by("person_key").equals(rows.sort_by("person_key")), fmt


def test_a_version_downloads_to_the_same_bytes_every_time(lake: dict[str, Any]) -> None:
    root = lake["root"]
    table = datasets.dataset(root, COVERAGE, frozenset({COVERAGE_SCOPE}))
    for fmt in ("parquet", "csv"):
        assert download(root, COVERAGE, 1, fmt) == download(root, COVERAGE, 1, fmt)
    etags = {datasets.version_etag(table, v, f) for v in (0, 1) for f in ("parquet", "csv")}
    assert len(etags) == 4
    assert all(re.fullmatch(r'"v[01]-[0-9a-f]{24}"', e) for e in etags)
    assert datasets.version_etag(table, 1, "csv") == datasets.version_etag(table, 1, "csv")
    tuned = datasets.stream(root, table, 1, "parquet", batch_rows=2, row_group_rows=2)
    assert tuned.etag != datasets.version_etag(table, 1, "parquet")


def test_the_files_of_a_version_come_in_the_same_order_after_a_checkpoint(
        tmp_path: Path) -> None:
    """delta-rs lists a version's files newest commit first and a checkpoint may list them in
    another order: a download orders them by their add actions (oldest first), so the bytes of a
    version (and its strong ETag) hold whichever way the log is read."""
    root = tmp_path / "lakehouse"
    parts = [coverage(20, date(2024, 11, 30), 20 * i) for i in range(5)]
    for part in parts:
        write(root, COVERAGE, part)
    before = {fmt: download(str(root), COVERAGE, 4, fmt) for fmt in ("parquet", "csv")}
    assert pq.read_table(io.BytesIO(before["parquet"])).equals(pa.concat_tables(parts))
    DeltaTable(catalog.table_uri(str(root), "gold", "person_coverage")).create_checkpoint()
    assert {fmt: download(str(root), COVERAGE, 4, fmt) for fmt in before} == before


# ---------------------------------------------------------------- refusals
def test_an_unknown_version_is_refused_naming_the_versions(lake: dict[str, Any]) -> None:
    root = lake["root"]
    table = datasets.dataset(root, COVERAGE, frozenset({COVERAGE_SCOPE}))
    for version in (2, -1):
        with pytest.raises(UnknownVersion) as refused:
            datasets.stream(root, table, version, "parquet")
        assert str(refused.value) == (f"gold.person_coverage has no version {version}: its "
                                      "versions are 0 to 1")
        assert (refused.value.kind, refused.value.versions) == ("unknown-version", (0, 1))
    dual = datasets.dataset(root, DUAL, frozenset({"datasets:gold.dual_enrollment"}))
    with pytest.raises(UnknownVersion, match=r"^gold.dual_enrollment has no version 1: its only "
                                             r"version is 0$"):
        datasets.stream(root, dual, 1, "csv")
    name = "gold.deceased_with_active_payments"
    never = datasets.dataset(root, name, frozenset({f"datasets:{name}"}))
    with pytest.raises(UnknownVersion) as refused:
        datasets.stream(root, never, 0, "csv")
    assert str(refused.value) == f"{name} has no version 0: it has no version yet"
    assert refused.value.versions == ()


def test_an_unsupported_format_is_refused_before_the_version_is_read(
        lake: dict[str, Any]) -> None:
    root = lake["root"]
    table = datasets.dataset(root, COVERAGE, frozenset({COVERAGE_SCOPE}))
    for fmt in ("xlsx", "json", ""):
        with pytest.raises(UnsupportedFormat) as refused:
            datasets.stream(root, table, 99, fmt)
        assert str(refused.value) == "gold.person_coverage is served as parquet or csv"
        assert (refused.value.kind, refused.value.formats) == ("unsupported-format",
                                                               ("parquet", "csv"))


def test_a_table_that_is_not_a_dataset_is_never_streamed(lake: dict[str, Any]) -> None:
    root = Path(lake["root"])
    write(root, "silver.moi.residents", pa.table({"national_id": ["A123456789"]}))
    silver = catalog.lookup(str(root), 'silver."moi.residents"')
    with pytest.raises(UnknownDataset):
        datasets.stream(str(root), silver, 0, "csv")


def test_a_vacuumed_version_is_unavailable(lake: dict[str, Any]) -> None:
    root = lake["root"]
    DeltaTable(catalog.table_uri(root, "gold", "person_coverage")).vacuum(
        retention_hours=0, enforce_retention_duration=False, dry_run=False)
    table = datasets.dataset(root, COVERAGE, frozenset({COVERAGE_SCOPE}))
    with pytest.raises(VersionUnavailable) as refused:
        datasets.stream(root, table, 0, "parquet")
    assert refused.value.kind == "version-unavailable"
    assert str(refused.value) == ("gold.person_coverage version 0 is no longer available: 1 of "
                                  "its data files were removed (VACUUM)")
    assert pq.read_table(io.BytesIO(download(root, COVERAGE, 1, "parquet"))).equals(lake["v1"])


def test_every_refusal_is_a_dataset_error_with_a_kind() -> None:
    kinds = {cls.kind for cls in (UnknownDataset, NotEntitled, UnknownVersion,
                                  VersionUnavailable, UnsupportedFormat)}
    assert kinds == {"unknown-dataset", "not-entitled", "unknown-version",
                     "version-unavailable", "unsupported-format"}
    assert all(issubclass(cls, DatasetError) and issubclass(cls, ValueError)
               for cls in (UnknownDataset, NotEntitled, UnknownVersion, VersionUnavailable,
                           UnsupportedFormat))


def test_a_version_of_agreeing_files_is_spliced_not_encoded(tmp_path: Path) -> None:
    """Files of one writer and schema: the download is their row groups as written (the
    writer's compression), its size known before it starts, the rows the version's."""
    root = tmp_path / "lakehouse"
    parts = [coverage(3000, date(2024, 11, 30), 3000 * i) for i in range(3)]
    for part in parts:
        write(root, COVERAGE, part)
    table = datasets.dataset(str(root), COVERAGE, frozenset({COVERAGE_SCOPE}))
    got = datasets.stream(str(root), table, 2, "parquet", splice_min_bytes=0)
    data = b"".join(got.chunks)
    assert got.size == len(data)
    back = pq.read_table(io.BytesIO(data))
    assert back.equals(pa.concat_tables(parts).replace_schema_metadata(back.schema.metadata))
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    assert meta.num_row_groups == 3  # one per file, as written
    assert meta.row_group(0).column(0).compression == "SNAPPY"  # delta-rs's choice
    assert back.schema.metadata == {b"lakehouse.dataset": b"gold.person_coverage",
                                    b"lakehouse.version": b"2"}
    assert got.etag != datasets.version_etag(table, 2, "parquet")  # tuned: another encoding
    # the same version encoded anew holds the same rows
    encoded = datasets.stream(str(root), table, 2, "parquet", splice_min_bytes=2**40)
    assert encoded.size is None
    assert pq.read_table(io.BytesIO(b"".join(encoded.chunks))).equals(back)


def test_a_partitioned_version_is_never_spliced(tmp_path: Path) -> None:
    """Its files lack the partition column: spliced, the column would be lost."""
    root = tmp_path / "lakehouse"
    rows = coverage(40, date(2024, 10, 31))
    write(root, COVERAGE, rows, partition_by=["snapshot_date"])
    table = datasets.dataset(str(root), COVERAGE, frozenset({COVERAGE_SCOPE}))
    got = datasets.stream(str(root), table, 0, "parquet", splice_min_bytes=0)
    assert got.size is None
    assert pq.read_table(io.BytesIO(b"".join(got.chunks))).sort_by("person_key").equals(
        rows.sort_by("person_key"))
