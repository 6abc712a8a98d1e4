"""The catalog: tables from the contracts, versions and row counts from the Delta logs."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import CommitProperties, write_deltalake

from analytics import catalog
from cli.analytics import main
from kernel import contracts

SNAPSHOT = date(2024, 11, 30)
COVERAGE_FIELDS = ("person_key", "sex", "birth_year", "age_band", "county", "in_labor_insurance",
                   "insured_salary_band", "in_nhi", "is_farmer", "pension_contrib_last_12m",
                   "receives_benefit", "is_deceased")
# person, sex, birth year, age band, county, labor, salary band, NHI, farmer, pension,
# benefit, deceased
PERSONS = [
    (1, "1", 1980, "40-44", "臺北市", True, "40000-45799", True, False, True, False, False),
    (2, "2", 1990, "30-34", "臺北市", False, None, False, False, False, False, False),
    (3, "1", 1995, "25-29", "臺中市", False, None, False, False, False, False, False),
    (4, "2", 1960, "60-64", "臺中市", False, None, True, True, False, False, False),
    (5, None, 2000, "20-24", None, True, "<30000", True, False, True, False, False),
    (6, "1", 1940, "80-84", "臺北市", False, None, True, False, False, True, True),
    (7, "2", 2010, "10-14", "臺北市", False, None, False, False, False, False, False),
    (8, "1", 1985, "35-39", "臺中市", True, "45800+", True, True, True, False, False),
]
METADATA = {"run_id": "run-7", "key_id": "k-2024", "contract_version": "2.0.0",
            "snapshot_date": "2024-11-30", "audit_anchor": "12:" + "0" * 64,
            "inputs": {"moi.household_registry": {"silver_version": 3}}}
RESIDENT_ID = "A123456789"
RESIDENT_NAME = "王小明"
RESIDENT_ADDRESS = "臺北市中正區重慶南路一段122號"


def person_key(i: int) -> str:
    """The test's pseudonym of person ``i`` (64 hex digits)."""
    return hashlib.sha256(f"person-{i}".encode()).hexdigest()


def coverage(rows: list[tuple[Any, ...]]) -> pa.Table:
    """``gold.person_coverage`` rows as an Arrow table with the contract's types."""
    cols: dict[str, list[Any]] = {f: [] for f in COVERAGE_FIELDS}
    for row in rows:
        for name, value in zip(COVERAGE_FIELDS, (person_key(row[0]), *row[1:]), strict=True):
            cols[name].append(value)
    types = {"birth_year": pa.int32()}
    table = pa.table({k: pa.array(v, types.get(k, pa.string() if k in (
        "person_key", "sex", "age_band", "county", "insured_salary_band") else pa.bool_()))
        for k, v in cols.items()})
    return table.append_column("snapshot_date", pa.array([SNAPSHOT] * len(rows), pa.date32()))


def build_lakehouse(root: Path) -> dict[str, pa.Table]:
    """A small lakehouse under ``root``: every gold/opendata dataset, a silver entity with
    personal data, a quarantine table and a system table, written with ``deltalake``."""
    def write(zone: str, name: str, table: pa.Table, mode: str = "append",
              metadata: dict[str, Any] | None = None) -> None:
        props = (CommitProperties(custom_metadata={"userMetadata": json.dumps(metadata)})
                 if metadata else None)
        write_deltalake(str(root / zone / name), table, mode=mode, commit_properties=props)

    tables = {"person_coverage_v0": coverage(PERSONS[:6]), "person_coverage": coverage(PERSONS)}
    write("gold", "person_coverage", tables["person_coverage_v0"])
    write("gold", "person_coverage", tables["person_coverage"], "overwrite", METADATA)
    m = pa.date32()
    tables["deceased"] = pa.table({
        "person_key": [person_key(6), person_key(6), person_key(9)],
        "death_month": pa.array([date(2024, 9, 1), date(2024, 9, 1), date(2024, 8, 1)], m),
        "payment_id": pa.array([1001, 1002, 1003], pa.int64()),
        "payment_month": pa.array([date(2024, 10, 1), date(2024, 11, 1), date(2024, 11, 1)], m),
        "benefit_type": ["OLD_AGE", "OLD_AGE", "SURVIVOR"],
        "amount": pa.array([15000, 15000, 8000], pa.int64()),
    })
    write("gold", "deceased_with_active_payments", tables["deceased"])
    tables["dual"] = pa.table({
        "person_key": [person_key(8), person_key(8), person_key(4)],
        "month": pa.array([date(2024, 10, 1), date(2024, 11, 1), date(2024, 11, 1)], m),
        "association_code": ["6010012", "6010012", "6010013"],
        "employer_ubn": ["12345675", "12345675", "22099131"],
    })
    write("gold", "dual_enrollment", tables["dual"])
    write("opendata", "insured_by_county_age_sex", pa.table({
        "month": pa.array([date(2024, 11, 1)] * 2, m), "county": ["臺北市", "臺中市"],
        "age_band": ["40-44", "35-39"], "sex": ["男", "男"],
        "persons": pa.array([None, 12], pa.int64()), "suppressed": [True, False]}))
    write("silver", "moi.residents", pa.table({
        "national_id": [RESIDENT_ID, "B287654321"], "name": [RESIDENT_NAME, "林美華"],
        "address": [RESIDENT_ADDRESS, "臺中市西屯區臺灣大道三段99號"],
        "_batch_id": ["MOI_HHR_20241101-0123456789ab"] * 2, "_extra": ["x", "y"]}))
    write("quarantine", "moi.household_registry", pa.table({
        "national_id": ["A12345678"], "_rule_ids": [["national_id.check_digit"]],
        "_reason": ["national_id.check_digit"]}))
    write("system", "publishes", pa.table({
        "dataset": ["gold.person_coverage"], "version": pa.array([1], pa.int64()),
        "status": ["published"], "rows": pa.array([8], pa.int64()), "key_id": ["k-2024"],
        "run_id": ["run-7"]}))
    return tables


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small lakehouse, built once for the module (the tests only read it)."""
    root = tmp_path_factory.mktemp("catalog") / "lakehouse"
    build_lakehouse(root)
    return str(root)


def test_sql_names_quote_a_table_name_holding_a_dot():
    assert catalog.sql_name("gold", "person_coverage") == "gold.person_coverage"
    assert catalog.sql_name("silver", "moi.residents") == 'silver."moi.residents"'
    assert catalog.split_name('silver."moi.residents"') == ("silver", "moi.residents")
    assert catalog.split_name("silver.moi.residents") == ("silver", "moi.residents")
    assert catalog.split_name("GOLD.Person_Coverage") == ("gold", "person_coverage")
    with pytest.raises(catalog.UnknownTable, match=r"<zone>\.<table>"):
        catalog.split_name("person_coverage")


def test_every_contract_gives_its_tables(lake):
    names = {t.name for t in catalog.tables(lake)}
    for dc in contracts.datasets():
        assert dc.name in names
    for fc in contracts.feeds():
        for zone in ("bronze", "quarantine", "silver"):
            assert catalog.sql_name(zone, fc.name) in names
        assert catalog.sql_name("silver", fc.entity) in names
    assert {f"system.{n}" for n in catalog.SYSTEM_TABLES} <= names


def test_each_role_sees_the_tables_it_may_read(lake):
    analyst = {t.name for t in catalog.readable(lake, "analyst")}
    assert analyst == {"gold.person_coverage", "gold.dual_enrollment",
                       "opendata.insured_by_county_age_sex"}
    steward = {t.name for t in catalog.readable(lake, "steward")}
    assert {"gold.deceased_with_active_payments", 'silver."moi.residents"',
            'quarantine."moi.household_registry"', "system.publishes"} <= steward
    auditor = {t.name for t in catalog.readable(lake, "auditor")}
    assert "system.publishes" in auditor and "gold.person_coverage" in auditor
    assert not any(n.startswith(("silver.", "quarantine.", "bronze.")) for n in auditor)
    assert "gold.deceased_with_active_payments" not in auditor


def test_a_snapshot_has_version_commit_time_rows_and_commit_metadata(lake):
    t = catalog.lookup(lake, "gold.person_coverage")
    snap = catalog.snapshot(lake, t)
    assert snap is not None
    assert (snap.version, snap.rows, snap.operation) == (1, len(PERSONS), "WRITE")
    assert snap.committed_at.endswith("Z") and "T" in snap.committed_at
    assert snap.metadata == {k: METADATA[k] for k in ("run_id", "key_id", "contract_version",
                                                       "snapshot_date")}
    assert ("birth_year", "integer") in snap.schema


def test_time_travel_reads_an_older_version_and_names_the_valid_range(lake):
    t = catalog.lookup(lake, "gold.person_coverage")
    old = catalog.snapshot(lake, t, 0)
    assert old is not None and (old.version, old.rows, old.metadata) == (0, 6, {})
    with pytest.raises(ValueError, match=r"gold.person_coverage has no version 5 \(versions 0 "
                                         r"to 1\)"):
        catalog.snapshot(lake, t, 5)


def test_a_table_never_written_has_no_snapshot(lake):
    assert catalog.snapshot(lake, catalog.lookup(lake, 'bronze."moi.household_registry"')) is None


def test_columns_carry_the_contract_classification_and_the_stored_types(lake):
    t = catalog.lookup(lake, "gold.person_coverage")
    cols = {c.name: c for c in catalog.columns(t, catalog.snapshot(lake, t))}
    assert (cols["person_key"].type, cols["person_key"].pii, cols["person_key"].masking) == (
        "string", "direct_identifier", "pseudonymize")
    assert (cols["birth_year"].type, cols["birth_year"].masking) == ("integer", "generalize_year")
    assert cols["county"].masking == "generalize_county"
    assert cols["in_labor_insurance"].pii == "none"
    silver = catalog.lookup(lake, 'silver."moi.residents"')
    scols = {c.name: c for c in catalog.columns(silver, catalog.snapshot(lake, silver))}
    assert (scols["national_id"].pii, scols["national_id"].masking) == ("direct_identifier",
                                                                       "pseudonymize")
    assert (scols["name"].pii, scols["name"].masking) == ("direct_identifier", "drop")
    assert scols["_batch_id"].description == "the batch (delivery) the record came in"
    assert scols["_extra"].pii == "unclassified"
    assert "sex" in scols  # a contract column the table does not have (yet) is still listed


def test_lakehouse_tables_lists_what_the_role_reads(lake, monkeypatch, capsys):
    monkeypatch.setenv("LAKEHOUSE_ROOT", lake)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("LAKEHOUSE_ROLE", raising=False)
    assert main(["tables"]) == 0
    out = capsys.readouterr().out
    assert "gold.person_coverage" in out and "gold.dual_enrollment" in out
    assert "deceased" not in out and "silver" not in out and "system" not in out
    line = next(x for x in out.splitlines() if "gold.person_coverage" in x)
    assert " 1 " in line and " 8 " in line  # version 1, 8 rows
    monkeypatch.setenv("LAKEHOUSE_ROLE", "steward")
    assert main(["tables", "--zone", "silver"]) == 0
    out = capsys.readouterr().out
    assert 'silver."moi.residents"' in out and "gold." not in out
    monkeypatch.setenv("LAKEHOUSE_ROLE", "auditor")
    assert main(["tables", "--zone", "system"]) == 0
    assert "system.publishes" in capsys.readouterr().out


def test_lakehouse_describe_shows_the_contract_and_the_delta_log(lake, monkeypatch, capsys):
    monkeypatch.setenv("LAKEHOUSE_ROOT", lake)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("LAKEHOUSE_ROLE", raising=False)
    assert main(["describe", "gold.person_coverage"]) == 0
    out = capsys.readouterr().out
    for expected in ("人員投保涵蓋 (person coverage)", "One row per person known to any",
                     "convergence-data-steward", "audience: analyst, steward, auditor",
                     "contract: gold.person_coverage 2.0.0", "version: 1", "rows: 8",
                     "commit run_id: run-7", "commit key_id: k-2024", "pseudonymize",
                     "generalize_band", "direct_identifier"):
        assert expected in out
    assert main(["describe", "gold.person_coverage", "--version", "0"]) == 0
    assert "rows: 6" in capsys.readouterr().out


def test_describe_shows_no_data_value_even_of_personal_columns(lake, monkeypatch, capsys):
    # The Delta log keeps each file's minimum and maximum national_id: never shown.
    monkeypatch.setenv("LAKEHOUSE_ROOT", lake)
    monkeypatch.setenv("LAKEHOUSE_ROLE", "steward")
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["describe", 'silver."moi.residents"']) == 0
    out = capsys.readouterr().out
    assert "national_id" in out and "rows: 2" in out
    for value in (RESIDENT_ID, "B287654321", RESIDENT_NAME, RESIDENT_ADDRESS):
        assert value not in out


def test_describe_refuses_a_table_the_role_may_not_read(lake, monkeypatch, capsys):
    monkeypatch.setenv("LAKEHOUSE_ROOT", lake)
    monkeypatch.setenv("LAKEHOUSE_ROLE", "analyst")
    assert main(["describe", 'silver."moi.residents"']) == 2
    err = capsys.readouterr().err
    assert 'refused: role analyst may not read silver."moi.residents": zone silver' in err
    assert main(["describe", "gold.deceased_with_active_payments"]) == 2
    assert "audience is steward, investigator" in capsys.readouterr().err
    assert main(["describe", "gold.nothing"]) == 2
    assert "no table gold.nothing" in capsys.readouterr().err
