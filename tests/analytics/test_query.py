"""``lakehouse query``: DuckDB over the Delta tables, role checks, no file access, the audit log,
time travel, the worked analyses, the Spark engine and a fast start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from analytics import query
from analytics.query import QueryFailed, QueryRefused, run
from analytics.roles import Identity
from audit.log import entries, verify
from bench import query as perf
from cli.analytics import main
from kernel.layout import Layout
from tests.analytics.test_catalog import (
    PERSONS,
    RESIDENT_ADDRESS,
    RESIDENT_ID,
    RESIDENT_NAME,
    build_lakehouse,
    person_key,
)

REPO = Path(__file__).resolve().parents[2]
ANALYST = Identity("chen.analyst", "analyst")
STEWARD = Identity("lin.steward", "steward")
AUDITOR = Identity("wu.auditor", "auditor")
WORKING_AGE = {f"{a}-{a + 4}" for a in range(15, 65, 5)}


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small lakehouse shared by the module's tests (queries only append to its audit log)."""
    root = tmp_path_factory.mktemp("query") / "lakehouse"
    build_lakehouse(root)
    return str(root)


@pytest.fixture
def cli_env(lake: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The CLI's environment: the lakehouse root, an analyst, a wide terminal."""
    monkeypatch.setenv("LAKEHOUSE_ROOT", lake)
    monkeypatch.setenv("LAKEHOUSE_USER", "chen.analyst")
    monkeypatch.delenv("LAKEHOUSE_ROLE", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return lake


def last_query(root: str) -> dict[str, Any]:
    """The last ``query`` entry of the audit log: actor and details."""
    entry = list(entries(Layout(root).audit_dir, "query"))[-1]
    return {"actor": entry.actor, **entry.details}


def rows(table: pa.Table) -> list[tuple[Any, ...]]:
    """A result's rows as tuples, sorted (``None`` first)."""
    return sorted((tuple(r.values()) for r in table.to_pylist()),
                  key=lambda r: tuple((v is not None, v) for v in r))


# ----------------------------------------------------------------------------- parsing
def test_the_parser_finds_every_table_a_statement_reads():
    parsed = query.parse(
        'WITH c AS (SELECT person_key FROM gold.person_coverage) '
        "SELECT * FROM c JOIN gold.dual_enrollment AS d USING (person_key) "
        'WHERE EXISTS (SELECT 1 FROM silver."moi.residents" r WHERE r.name = \'x\') '
        "UNION ALL SELECT * FROM (FROM opendata.insured_by_county_age_sex), range(3)")
    assert {(r.schema, r.table) for r in parsed.refs} == {
        ("gold", "person_coverage"), ("gold", "dual_enrollment"), ("silver", "moi.residents"),
        ("opendata", "insured_by_county_age_sex"), ("", "c")}
    assert parsed.ctes == {"c"}
    assert parsed.table_functions == {"range"}


# ----------------------------------------------------------------------------- running
def test_an_analyst_aggregate_reads_the_delta_table(lake):
    res = run("SELECT county, count(*) AS n, count(*) FILTER (WHERE in_nhi) AS nhi "
              "FROM gold.person_coverage GROUP BY county", ANALYST, lake)
    expected: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    for p in PERSONS:
        expected[p[4]][0] += 1
        expected[p[4]][1] += int(p[7])
    assert rows(res.table) == rows(pa.table({
        "county": list(expected), "n": [v[0] for v in expected.values()],
        "nhi": [v[1] for v in expected.values()]}))
    assert res.tables == ("gold.person_coverage",) and res.versions == {"gold.person_coverage": 1}
    entry = last_query(lake)
    assert entry == {"actor": "chen.analyst", "role": "analyst", "engine": "duckdb",
                     "status": "ok", "sql": entry["sql"], "tables": ["gold.person_coverage"],
                     "versions": {"gold.person_coverage": 1}, "rows": 3,
                     "seconds": entry["seconds"]}
    assert entry["sql"].startswith("SELECT county, count(*)")


def test_table_names_serve_as_aliases_and_the_system_zone_resolves(lake):
    res = run("SELECT person_coverage.county FROM gold.person_coverage WHERE "
              "person_coverage.is_farmer", ANALYST, lake)
    assert rows(res.table) == [("臺中市",), ("臺中市",)]
    res = run("SELECT publishes.status FROM system.publishes", AUDITOR, lake)
    assert rows(res.table) == [("published",)]


def test_an_analyst_joins_datasets_on_person_key(lake):
    res = run("SELECT p.county, count(*) AS n FROM gold.dual_enrollment d "
              "JOIN gold.person_coverage p USING (person_key) GROUP BY ALL", ANALYST, lake)
    assert rows(res.table) == [("臺中市", 3)]


# ----------------------------------------------------------------------------- refusals
def test_a_refusal_names_role_table_and_zone_and_is_audited(lake):
    sql = 'SELECT count(*) FROM silver."moi.residents"'
    with pytest.raises(QueryRefused) as exc:
        run(sql, ANALYST, lake)
    assert str(exc.value) == ('role analyst may not read silver."moi.residents": zone silver '
                              "is read by stewards only")
    entry = last_query(lake)
    assert (entry["status"], entry["role"], entry["tables"], entry["sql"], entry["rows"]) == (
        "refused", "analyst", ['silver."moi.residents"'], sql, None)
    assert entry["reason"] == str(exc.value)


@pytest.mark.parametrize("sql", [
    'WITH x AS (SELECT * FROM silver."moi.residents") SELECT count(*) FROM x',
    'SELECT (SELECT max(name) FROM silver."moi.residents") AS n FROM gold.person_coverage',
    'SELECT 1 FROM gold.person_coverage WHERE EXISTS (SELECT 1 FROM quarantine.'
    '"moi.household_registry")',
    "SELECT person_key FROM gold.person_coverage UNION SELECT person_key FROM "
    "gold.deceased_with_active_payments",
    "SELECT * FROM gold.person_coverage WHERE person_key IN (SELECT person_key FROM "
    "gold.deceased_with_active_payments)",
    "SELECT * FROM (SUMMARIZE system.publishes)",
    "FROM silver.\"moi.residents\" SELECT national_id",
])
def test_a_forbidden_table_is_found_wherever_it_hides(lake, sql):
    with pytest.raises(QueryRefused, match="role analyst may not read"):
        run(sql, ANALYST, lake)
    assert last_query(lake)["status"] == "refused"


def test_the_restricted_case_list_is_for_stewards_only(lake):
    sql = "SELECT count(*) AS n, sum(amount) AS total FROM gold.deceased_with_active_payments"
    for who in (ANALYST, AUDITOR):
        with pytest.raises(QueryRefused, match=(
                f"role {who.role} may not read gold.deceased_with_active_payments \\(zone "
                "gold\\): the dataset's contract audience is steward, investigator")):
            run(sql, who, lake)
    assert rows(run(sql, STEWARD, lake).table) == [(3, 38000)]


def test_stewards_read_silver_and_quarantine_auditors_the_system_zone(lake):
    res = run('SELECT count(*) FROM silver."moi.residents" JOIN quarantine.'
              '"moi.household_registry" q ON true', STEWARD, lake)
    assert rows(res.table) == [(2,)]
    assert rows(run("SELECT dataset, version FROM system.publishes", AUDITOR, lake).table) == [
        ("gold.person_coverage", 1)]
    with pytest.raises(QueryRefused, match="role auditor may not read silver"):
        run('SELECT 1 FROM silver."moi.residents"', AUDITOR, lake)
    with pytest.raises(QueryRefused, match=r"role analyst may not read system\.publishes: zone "
                                           r"system is read by auditors, stewards only"):
        run("SELECT 1 FROM system.publishes", ANALYST, lake)


@pytest.mark.parametrize("sql", [
    "COPY (SELECT * FROM gold.person_coverage) TO '/tmp/out.csv'",
    "ATTACH '/tmp/other.duckdb' AS other",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "PRAGMA database_list",
    "CREATE TABLE t AS SELECT * FROM gold.person_coverage",
    "DELETE FROM gold.person_coverage",
    "EXPORT DATABASE '/tmp/export'",
    "SELECT 1; SELECT 2",
    "EXPLAIN SELECT * FROM gold.person_coverage",
])
def test_only_one_select_statement_may_run(lake, sql):
    with pytest.raises(QueryRefused, match=r"one SELECT statement"):
        run(sql, STEWARD, lake)


def _files(tmp_path: Path) -> dict[str, str]:
    parquet = tmp_path / "x.parquet"
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"a": [1]}), parquet)
    csv = tmp_path / "x.csv"
    csv.write_text("a\n1\n", encoding="utf-8")
    return {"parquet": str(parquet), "csv": str(csv)}


@pytest.mark.parametrize("template", [
    "SELECT * FROM read_parquet('{parquet}')",
    "SELECT * FROM read_csv('{csv}')",
    "SELECT * FROM read_csv_auto('{csv}')",
    "SELECT * FROM read_text('{csv}')",
    "SELECT * FROM read_blob('{csv}')",
    "SELECT * FROM glob('{csv}')",
    "SELECT * FROM '{parquet}'",
    "SELECT * FROM parquet_scan('{parquet}')",
    "SELECT * FROM query_table('gold.person_coverage')",
    "SELECT * FROM gold.person_coverage, read_parquet('{parquet}')",
])
def test_files_cannot_be_read_directly(lake, tmp_path, template):
    sql = template.format(**_files(tmp_path))
    with pytest.raises(QueryRefused, match=r"is not allowed|unknown table|name the zone"):
        run(sql, STEWARD, lake)
    assert last_query(lake)["status"] == "refused"


def test_the_duckdb_connection_itself_has_no_file_access(tmp_path):
    # Second line of defence, below the parser check: the connection the queries run in.
    f = _files(tmp_path)
    con = query.connect()
    for sql in (f"SELECT * FROM read_parquet('{f['parquet']}')", f"SELECT * FROM '{f['csv']}'",
                f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'",
                f"ATTACH '{tmp_path / 'x.duckdb'}' AS x", "INSTALL httpfs", "LOAD httpfs",
                f"SELECT * FROM read_text('{f['csv']}')"):
        with pytest.raises(duckdb.Error, match=r"disabled|Permission"):
            con.execute(sql).fetchall()
    with pytest.raises(duckdb.Error, match="locked"):
        con.execute("SET enable_external_access = true")
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "x.duckdb").exists()


def test_unknown_tables_get_a_clear_message(lake):
    with pytest.raises(QueryRefused, match=r"unknown table gold.nothing \(lakehouse tables"):
        run("SELECT * FROM gold.nothing", ANALYST, lake)
    with pytest.raises(QueryRefused, match="name the zone of table person_coverage"):
        run("SELECT * FROM person_coverage", ANALYST, lake)
    with pytest.raises(QueryRefused, match=r'write silver."moi.residents" \(a table name '):
        run("SELECT * FROM silver.moi.residents", STEWARD, lake)
    with pytest.raises(QueryRefused, match=r"AT .* not supported: pin versions with --version"):
        run("SELECT * FROM gold.person_coverage AT (VERSION => 0)", ANALYST, lake)


# ----------------------------------------------------------------------------- identifiers
def test_an_analyst_query_holding_an_identifier_is_refused_and_never_logged(lake):
    sql = f"SELECT * FROM gold.person_coverage WHERE person_key = '{RESIDENT_ID}'"
    with pytest.raises(QueryRefused) as exc:
        run(sql, ANALYST, lake)
    assert "looks like a national ID (not shown)" in str(exc.value)
    assert "never filters on raw identifiers" in str(exc.value)
    assert RESIDENT_ID not in str(exc.value)
    entry = last_query(lake)
    assert entry["status"] == "refused" and entry["sql_redacted"] is True
    assert entry["sql"] == "SELECT * FROM gold.person_coverage WHERE person_key = '<redacted>'"
    with pytest.raises(QueryRefused, match="a mobile number"):
        run("SELECT * FROM gold.person_coverage WHERE county = '0912345678'", ANALYST, lake)


def test_a_steward_may_look_a_person_up_and_the_audit_log_keeps_it_redacted(lake):
    full_width = "Ａ１２３４５６７８９"  # NFKC: A123456789
    for literal in (RESIDENT_ID, full_width):
        res = run(f"SELECT name, address FROM silver.\"moi.residents\" WHERE national_id = "
                  f"'{RESIDENT_ID}' AND '{literal}' IS NOT NULL", STEWARD, lake)
        assert rows(res.table) == [(RESIDENT_NAME, RESIDENT_ADDRESS)]
        entry = last_query(lake)
        assert entry["status"] == "ok" and entry["sql_redacted"] is True and entry["rows"] == 1
        assert entry["sql"].count("'<redacted>'") == 2
    sql = f'SELECT count(*) FROM silver."moi.residents" -- asked about {RESIDENT_ID}\n'
    assert rows(run(sql, STEWARD, lake).table) == [(2,)]
    entry = last_query(lake)
    assert entry["sql"] is None and entry["sql_withheld"] is True


def test_the_audit_log_holds_no_result_and_no_personal_value(lake):
    run('SELECT * FROM silver."moi.residents"', STEWARD, lake)
    assert last_query(lake)["rows"] == 2
    text = "".join(p.read_text(encoding="utf-8")
                   for p in (Path(lake) / "system" / "audit").glob("audit-*.jsonl"))
    for value in (RESIDENT_ID, "B287654321", RESIDENT_NAME, RESIDENT_ADDRESS, "林美華"):
        assert value not in text
    assert verify(Layout(lake).audit_dir).ok


# ----------------------------------------------------------------------------- versions
def test_time_travel_by_version(lake):
    sql = "SELECT count(*) AS n FROM gold.person_coverage"
    assert rows(run(sql, ANALYST, lake, versions=0).table) == [(6,)]
    assert last_query(lake)["versions"] == {"gold.person_coverage": 0}
    res = run(sql, ANALYST, lake, versions={"gold.person_coverage": 1})
    assert rows(res.table) == [(8,)] and res.versions == {"gold.person_coverage": 1}
    two = "SELECT count(*) FROM gold.person_coverage JOIN gold.dual_enrollment USING (person_key)"
    with pytest.raises(QueryRefused, match="--version 0 needs a query on one table"):
        run(two, ANALYST, lake, versions=0)
    res = run(two, ANALYST, lake, versions={"gold.person_coverage": 0, "gold.dual_enrollment": 0})
    assert rows(res.table) == [(1,)]  # person 4 is in version 0, person 8 only in version 1
    with pytest.raises(QueryFailed, match=r"has no version 7 \(versions 0 to 1\)"):
        run(sql, ANALYST, lake, versions=7)
    assert last_query(lake)["status"] == "failed"


def test_a_failed_query_is_audited_with_its_reason(lake):
    with pytest.raises(QueryFailed, match=r"Binder Error.*nope"):
        run("SELECT nope FROM gold.person_coverage", ANALYST, lake)
    entry = last_query(lake)
    assert entry["status"] == "failed" and "nope" in entry["reason"]
    with pytest.raises(QueryFailed, match=r'bronze\."moi\.household_registry" has no data yet'):
        run('SELECT * FROM bronze."moi.household_registry"', STEWARD, lake)


# ----------------------------------------------------------------------------- the command
def test_the_command_prints_csv_and_json_and_exits_non_zero_when_refused(cli_env, capsys):
    sql = "SELECT age_band, count(*) AS n FROM gold.person_coverage WHERE county = '臺中市' " \
          "GROUP BY age_band ORDER BY age_band"
    assert main(["query", sql, "--format", "csv"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "age_band,n\n25-29,1\n35-39,1\n60-64,1\n"
    assert "3 row(s) · gold.person_coverage v1" in captured.err
    assert main(["query", sql, "--format", "json", "--version", "0"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"age_band": "25-29", "n": 1},
                                                   {"age_band": "60-64", "n": 1}]
    assert main(["query", sql]) == 0
    assert "35-39" in capsys.readouterr().out
    assert main(["query", 'SELECT * FROM silver."moi.residents"']) == 2
    assert "refused: role analyst may not read silver" in capsys.readouterr().err
    assert main(["query", "SELECT nope FROM gold.person_coverage"]) == 1
    assert "query failed" in capsys.readouterr().err
    assert main(["query"]) == 2
    assert main(["query", sql, "--version", "x=y"]) == 2
    assert "not a version number" in capsys.readouterr().err


def test_json_output_keeps_dates_and_decimals_readable(cli_env, capsys):
    assert main(["query", "SELECT snapshot_date, sum(birth_year) AS s, avg(birth_year) AS a "
                 "FROM gold.person_coverage GROUP BY 1", "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row == {"snapshot_date": "2024-11-30", "s": sum(p[2] for p in PERSONS),
                   "a": sum(p[2] for p in PERSONS) / len(PERSONS)}


def _analysis(name: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    assert main(["query", "--file", str(REPO / "analytics" / "queries" / name),
                 "--format", "json"]) == 0
    return list(json.loads(capsys.readouterr().out))


def test_worked_analysis_coverage_gaps(cli_env, capsys):
    got = _analysis("coverage_gaps.sql", capsys)
    groups: Counter[tuple[str, str]] = Counter()
    gaps: Counter[tuple[str, str]] = Counter()
    for p in PERSONS:
        if p[3] in WORKING_AGE and not p[11]:
            key = (p[4] or "不詳", p[3])
            groups[key] += 1
            gaps[key] += int(not (p[5] or p[7] or p[8]))
    assert {(r["county"], r["age_band"]): (r["persons"], r["uninsured"]) for r in got} == {
        k: (groups[k], gaps[k]) for k in groups}
    assert [(r["county"], r["age_band"]) for r in got[:2]] == [("臺中市", "25-29"),
                                                              ("臺北市", "30-34")]
    assert got[0]["uninsured_pct"] == 100.0


def test_worked_analysis_payments_after_death_is_for_stewards(cli_env, capsys, monkeypatch):
    path = str(REPO / "analytics" / "queries" / "payments_after_death.sql")
    assert main(["query", "--file", path]) == 2
    assert "audience is steward, investigator" in capsys.readouterr().err
    monkeypatch.setenv("LAKEHOUSE_ROLE", "steward")
    got = _analysis("payments_after_death.sql", capsys)
    assert [(r["person_key"], r["payments"], r["total_amount"], r["first_month_paid"])
            for r in got] == [(person_key(6), 2, 30000, "2024-10-01"),
                              (person_key(9), 1, 8000, "2024-11-01")]


def test_worked_analysis_dual_enrollment(cli_env, capsys):
    got = _analysis("dual_enrollment.sql", capsys)
    assert [(r["month"], r["county"], r["persons"], r["employers"], r["associations"])
            for r in got] == [("2024-11-01", "臺中市", 2, 2, 2), ("2024-10-01", "臺中市", 1, 1, 1)]


def test_worked_analysis_insured_by_county_age(cli_env, capsys):
    got = _analysis("insured_by_county_age.sql", capsys)
    expected: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for p in PERSONS:
        if p[11]:
            continue
        e = expected[(p[4] or "不詳", p[3])]
        for i, flag in enumerate((True, p[5], p[7], p[8], p[5] or p[7] or p[8])):
            e[i] += int(flag)
    assert {(r["county"], r["age_band"]): [r["persons"], r["labor_insured"], r["nhi_insured"],
                                           r["farmers"], r["insured_any"]] for r in got} == \
        dict(expected)
    taichung = [r["age_band"] for r in got if r["county"] == "臺中市"]
    assert taichung == ["25-29", "35-39", "60-64"]


def test_an_aggregate_over_200k_persons_matches_pyarrow(tmp_path):
    table = perf.person_coverage(200_000, seed=11)
    perf.write_table(tmp_path, table)
    res = run(perf.SQL, ANALYST, str(tmp_path))
    got = sorted(("" if r["county"] is None else r["county"], r["age_band"], r["persons"],
                  r["labor_insured"]) for r in res.table.to_pylist())
    assert got == perf.expected(table)
    assert sum(r[2] for r in got) == 200_000


# ----------------------------------------------------------------------------- start-up
HEAVY = ("pyspark", "py4j", "airflow", "great_expectations", "presidio_analyzer", "spacy")


def test_the_duckdb_path_imports_no_spark_nor_airflow(lake):
    env = {**os.environ, "LAKEHOUSE_ROOT": lake, "LAKEHOUSE_USER": "chen.analyst",
           "LAKEHOUSE_ROLE": "analyst"}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cli.analytics", "query",
         "SELECT count(*) FROM gold.person_coverage", "--format", "csv"],
        cwd=REPO, env=env, capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == "count_star()\n8\n"
    imported = {line.split("|")[-1].strip().split(".")[0]
                for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "duckdb" in imported and "deltalake" in imported
    assert not imported & set(HEAVY)
    # The same in-process, after the query function ran.
    script = ("import sys; from analytics.query import run; from analytics.roles import "
              "identity; run('SELECT count(*) FROM gold.person_coverage', identity(), "
              f"{lake!r}); print(sorted(m for m in sys.modules if m.split('.')[0] in "
              f"{HEAVY!r}))")
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- Spark
def test_the_spark_engine_runs_the_same_sql_with_the_same_names(spark, lake):
    for sql, who, versions in [
        ("SELECT coalesce(county, '不詳') AS county, count(*) AS n FROM gold.person_coverage "
         "GROUP BY coalesce(county, '不詳')", ANALYST, None),
        ("SELECT count(*) AS n FROM gold.person_coverage", ANALYST, 0),
        ('SELECT r.name AS "the name", q._reason FROM silver."moi.residents" AS r '
         "CROSS JOIN quarantine.\"moi.household_registry\" q WHERE r.national_id LIKE 'A%'",
         STEWARD, None),
        ("WITH d AS (SELECT person_key, count(*) AS k FROM gold.dual_enrollment GROUP BY "
         "person_key) SELECT p.age_band, d.k FROM d JOIN gold.person_coverage p ON "
         "p.person_key = d.person_key", ANALYST, None),
    ]:
        on_duckdb = run(sql, who, lake, versions=versions)
        on_spark = run(sql, who, lake, versions=versions, engine="spark", spark=spark)
        assert on_spark.table.column_names == on_duckdb.table.column_names
        assert rows(on_spark.table) == rows(on_duckdb.table), sql
        assert on_spark.versions == on_duckdb.versions
        assert last_query(lake)["engine"] == "spark"
    assert not [t for t in spark.catalog.listTables() if t.name.startswith("__lakehouse")]


def test_the_spark_engine_keeps_the_same_guards(spark, lake, tmp_path):
    parquet = _files(tmp_path)["parquet"]
    with pytest.raises(QueryRefused, match="role analyst may not read silver"):
        run('SELECT * FROM silver."moi.residents"', ANALYST, lake, engine="spark", spark=spark)
    with pytest.raises(QueryRefused, match="function reflect is not allowed"):
        run("SELECT reflect('java.lang.System', 'getProperty', 'user.home') AS h FROM "
            "gold.person_coverage", ANALYST, lake, engine="spark", spark=spark)
    for quoted in (f'"{parquet}"', f"`{parquet}`"):  # Spark's path-as-table forms
        with pytest.raises(QueryRefused, match="unknown table parquet"):
            run(f"SELECT * FROM parquet.{quoted}", ANALYST, lake, engine="spark", spark=spark)
    with pytest.raises(QueryFailed, match="nope"):
        run("SELECT nope FROM gold.person_coverage", ANALYST, lake, engine="spark", spark=spark)
    assert spark.conf.get("spark.sql.ansi.doubleQuotedIdentifiers", "false") == "false"
