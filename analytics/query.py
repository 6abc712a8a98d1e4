"""One SQL query over the lakehouse's Delta tables, checked against the caller's role, audited.

**Engines.** DuckDB (the default) reads each table with ``deltalake`` —
``DeltaTable(path, version=N).to_pyarrow_dataset()`` registered in an in-memory DuckDB
connection (zero copy; projections and filters are pushed into the Parquet scan) — so a query
needs no JVM and no DuckDB extension. ``engine="spark"`` runs the same SQL on Spark
(:func:`kernel.spark.session`, imported on that path only) for work too big for one
process: each table is read with ``versionAsOf`` and registered as a temporary view.

**Names.** ``<zone>.<table>`` as in :mod:`analytics.catalog`: ``gold.person_coverage``,
``silver."moi.residents"`` (a table name holding a dot is quoted as one identifier),
``system.publishes``. Neither engine has these names as such (Spark's temporary views have
one-part names; ``system`` is a built-in DuckDB catalog): each table is registered under an
internal view name and each reference in the statement is replaced by it, at the byte offsets
DuckDB's parser reports, keeping the table name as alias. Double-quoted identifiers mean the
same on both engines (``spark.sql.ansi.doubleQuotedIdentifiers`` is on for the query).

**What a statement may read** is found by DuckDB's own parser (``json_serialize_sql``), never
by a regular expression: the statement must be one ``SELECT`` (``WITH``, ``UNION``, subqueries
and ``FROM``-first included); every table it names must be in the catalog and readable by the
role (:func:`analytics.roles.refusal`); the only table functions are ``range``,
``generate_series`` and ``unnest``. Only those tables are registered, in a connection opened
with ``enable_external_access=false`` (no ``read_parquet('/path')``, ``read_csv``,
``'file.parquet'``, ``COPY``, ``ATTACH``, ``INSTALL``/``LOAD``, ``EXPORT``), extension
auto-loading off and the configuration locked. On Spark, reading files by path is off
(``spark.sql.runSQLOnFiles=false``), every table reference is a registered view, and
``reflect``/``java_method`` are refused.

**Time travel.** ``versions`` pins tables to Delta versions: an ``int`` for a query on one
table, or ``{"gold.person_coverage": 3, ...}``. The versions read are recorded either way.

**Identifier literals.** An analyst (or auditor) works on pseudonymised data and has no
business filtering on raw identifiers: a statement holding what looks like a national ID or a
mobile number (the audit log's own test, :func:`audit.log.check_no_personal_values`) is
refused for them. A steward may (looking a person up in silver); the audit log then records
the statement with each such literal replaced by ``'<redacted>'`` (or, if one sits outside a
literal, e.g. in a comment, no statement text at all: ``sql_withheld``).

**Audit.** Every query — run, refused or failed — appends one ``query`` entry to the audit log:
the user, role, engine, status, statement (redacted as above), the tables and versions read,
the row count and, for a refusal or failure, the reason; never a result value. A result is
returned only after its entry is written. Messages never quote a personal-looking value.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analytics import catalog, roles
from analytics.catalog import Table, UnknownTable
from analytics.roles import Identity
from audit.log import check_no_personal_values
from kernel.layout import Layout

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from kernel.config import Settings

ENGINES = ("duckdb", "spark")
TABLE_FUNCTIONS = {"duckdb": frozenset({"range", "generate_series", "unnest"}),
                   "spark": frozenset({"range"})}
SPARK_DENIED_FUNCTIONS = frozenset({"reflect", "java_method", "try_reflect"})
DUCKDB_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "lock_configuration": True,
}
REDACTED = "'<redacted>'"
WITHHELD = "(withheld: it quotes what looks like personal data)"
_NO_LOCATION = 1 << 63
_PART = r'(?:"(?:[^"]|"")*"|[^\W\d][\w$]*)'
_QUALIFIED = re.compile(rf"{_PART}(?:\s*\.\s*{_PART})*")


class QueryRefused(PermissionError):
    """The caller may not run this statement; the message names the role, table and zone."""


class QueryFailed(RuntimeError):
    """The statement was allowed but could not run (SQL error, table not published, …)."""


@dataclass(frozen=True)
class Ref:
    """A table named by the statement, as DuckDB's parser reports it."""

    catalog: str
    schema: str
    table: str
    start: int | None
    """Byte offset of the reference in the UTF-8 statement (``None`` if not reported)."""
    length: int
    alias: str = ""


@dataclass(frozen=True)
class Parsed:
    """What the parser found in a statement."""

    refs: tuple[Ref, ...]
    ctes: frozenset[str]
    table_functions: frozenset[str]
    functions: frozenset[str]
    literals: tuple[tuple[int, int, str], ...]
    """``(byte offset, byte length, text)`` of every constant."""
    shows: int
    """``DESCRIBE``/``SUMMARIZE``/``SHOW`` used as a table."""


@dataclass
class Plan:
    """An allowed statement: the tables it reads (in order) and where it names them."""

    sql: str
    engine: str
    tables: list[Table]
    refs: list[tuple[Ref, Table]]
    versions: dict[str, int] = field(default_factory=dict)
    """Requested versions by table name."""
    personal: list[str] = field(default_factory=list)
    """Labels of personal-looking values in the statement (a steward's query)."""


@dataclass(frozen=True)
class QueryResult:
    """A query's result and what the audit log recorded about it."""

    table: pa.Table
    tables: tuple[str, ...]
    versions: dict[str, int]
    seconds: float
    audit_seq: int


def clean(text: str) -> str:
    """``text``, or a placeholder if it holds what looks like personal data."""
    try:
        check_no_personal_values(text)
    except ValueError:
        return WITHHELD
    return text


def _personal_label(text: str) -> str | None:
    try:
        check_no_personal_values(text, "the SQL")
    except ValueError as exc:
        match = re.search(r"looks like (.+?);", str(exc))
        return match.group(1) if match else "personal data"
    return None


# ----------------------------------------------------------------------------- parsing
def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection without file or network access, configuration locked."""
    import duckdb

    return duckdb.connect(":memory:", config=dict(DUCKDB_CONFIG))


def parse(sql: str, con: duckdb.DuckDBPyConnection | None = None) -> Parsed:
    """Parse ``sql`` with DuckDB's parser; :class:`QueryRefused` unless it is one SELECT."""
    own = con is None
    con = connect() if con is None else con
    try:
        rows = con.execute("SELECT json_serialize_sql($1)", [sql]).fetchall()
    finally:
        if own:
            con.close()
    doc = json.loads(rows[0][0]) if rows else {}
    if doc.get("error"):
        problem = str(doc.get("error_message", "cannot be parsed"))
        if "Only SELECT" in problem:
            raise QueryRefused("only one SELECT statement (WITH … SELECT, UNION, FROM-first "
                               "included) may be run: no DDL, DML, COPY, ATTACH, PRAGMA, SET, "
                               "PIVOT or EXPLAIN statements")
        raise QueryRefused(f"the SQL does not parse: {clean(problem)}")
    statements = doc.get("statements") or []
    if len(statements) != 1:
        raise QueryRefused(f"one SELECT statement per query, not {len(statements)}")
    refs: list[Ref] = []
    ctes: set[str] = set()
    tfuncs: set[str] = set()
    funcs: set[str] = set()
    literals: list[tuple[int, int, str]] = []
    shows = 0
    for node in _walk(statements[0]):
        kind = node.get("type")
        if kind == "BASE_TABLE":
            loc = node.get("query_location")
            refs.append(Ref(str(node.get("catalog_name") or ""), str(node.get("schema_name") or ""),
                            str(node.get("table_name") or ""),
                            loc if isinstance(loc, int) and loc < _NO_LOCATION else None,
                            int(node.get("query_location_length") or 0),
                            str(node.get("alias") or "")))
            if node.get("at_clause"):
                raise QueryRefused("AT (VERSION => …) is not supported: pin versions with "
                                   "--version TABLE=N")
        elif kind == "TABLE_FUNCTION":
            fn = node.get("function") or {}
            tfuncs.add(str(fn.get("function_name", "?")).lower())
        elif kind == "SHOW_REF":
            shows += 1
        if node.get("class") == "FUNCTION":
            funcs.add(str(node.get("function_name", "")).lower())
        elif node.get("class") == "CONSTANT":
            loc = node.get("query_location")
            text = (node.get("literal") or {}).get("text")
            if isinstance(loc, int) and loc < _NO_LOCATION and isinstance(text, str):
                literals.append((loc, int(node.get("query_location_length") or 0), text))
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            ctes.update(str(e.get("key", "")).lower() for e in cte_map.get("map") or [])
    return Parsed(tuple(refs), frozenset(ctes), frozenset(tfuncs), frozenset(funcs),
                  tuple(literals), shows)


def _walk(obj: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object of a parse tree, depth first."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))


# ----------------------------------------------------------------------------- planning
def plan(sql: str, role: str, root: str, versions: int | Mapping[str, int] | None = None,
         engine: str = "duckdb", contracts_dir: Path | None = None,
         parsed: Parsed | None = None) -> Plan:
    """Check ``sql`` against ``role``: :class:`QueryRefused` (naming role, table and zone)
    unless every table it reads is one the role may read."""
    if engine not in ENGINES:
        raise QueryRefused(f"unknown engine {engine!r} (one of {', '.join(ENGINES)})")
    parsed = parsed or parse(sql)
    problems: list[str] = []
    bad_tf = sorted(parsed.table_functions - TABLE_FUNCTIONS[engine])
    if bad_tf:
        problems.append(f"table function {', '.join(bad_tf)} is not allowed: queries read the "
                        "catalog's tables by name (lakehouse tables)")
    if engine == "spark":
        denied = sorted(parsed.functions & SPARK_DENIED_FUNCTIONS)
        if denied:
            problems.append(f"function {', '.join(denied)} is not allowed")
    if parsed.shows:
        problems.append("DESCRIBE, SUMMARIZE and SHOW are not run as queries: lakehouse "
                        "describe TABLE shows a table's columns")
    known = {(t.zone, t.table.lower()): t for t in catalog.tables(root, contracts_dir)}
    found: list[tuple[Ref, Table]] = []
    for ref in parsed.refs:
        if not ref.catalog and not ref.schema and ref.table.lower() in parsed.ctes:
            continue  # a WITH query's name
        table = _resolve(ref, known, problems)
        if table is None:
            continue
        reason = table.refusal(role)
        if reason:
            problems.append(reason)
        found.append((ref, table))
    if problems:
        raise QueryRefused("; ".join(dict.fromkeys(clean(p) for p in problems)))
    tables = list({t.name: t for _, t in found}.values())
    p = Plan(sql, engine, tables, found, _versions(versions, tables))
    p.personal = _personal(sql, parsed)
    if p.personal and role not in roles.IDENTIFIER_FILTER_ROLES:
        raise QueryRefused(
            f"the SQL holds what looks like {' and '.join(p.personal)} (not shown): role "
            f"{role} queries pseudonymised data and never filters on raw identifiers; join on "
            "person_key instead")
    return p


def _resolve(ref: Ref, known: dict[tuple[str, str], Table], problems: list[str]) -> Table | None:
    """The catalog table a reference names, or ``None`` with the problem recorded."""
    if ref.catalog:
        dotted = (ref.catalog.lower(), f"{ref.schema}.{ref.table}".lower())
        hint = (f"; write {known[dotted].name} (a table name holding a dot is quoted)"
                if dotted in known else "")
        problems.append(f"unknown table {ref.catalog}.{ref.schema}.{ref.table}{hint}")
        return None
    if not ref.schema:
        problems.append(f"name the zone of table {ref.table}: <zone>.<table>, e.g. "
                        "gold.person_coverage")
        return None
    table = known.get((ref.schema.lower(), ref.table.lower()))
    if table is None:
        problems.append(f"unknown table {catalog.sql_name(ref.schema, ref.table)} "
                        "(lakehouse tables lists the tables you may read)")
    return table


def _versions(versions: int | Mapping[str, int] | None, tables: list[Table]) -> dict[str, int]:
    if versions is None:
        return {}
    if isinstance(versions, int):
        if len(tables) != 1:
            raise QueryRefused(f"--version {versions} needs a query on one table; this one "
                               f"reads {len(tables)}: give --version TABLE=N for each")
        return {tables[0].name: versions}
    by_key = {(t.zone, t.table.lower()): t for t in tables}
    out: dict[str, int] = {}
    for name, v in versions.items():
        try:
            key = catalog.split_name(name)
        except UnknownTable as exc:
            raise QueryRefused(str(exc)) from None
        if key not in by_key:
            raise QueryRefused(f"--version names {clean(name)}, which the query does not read")
        out[by_key[key].name] = int(v)
    return out


def _personal(sql: str, parsed: Parsed) -> list[str]:
    """Labels of the personal-looking values in the statement (none: an empty list)."""
    labels = [_personal_label(text) for _, _, text in parsed.literals]
    labels.append(_personal_label(sql))
    return sorted({label for label in labels if label})


def audit_sql(sql: str, parsed: Parsed | None) -> tuple[str | None, bool]:
    """The statement as the audit log records it, and whether it was redacted: personal-looking
    literals replaced by ``'<redacted>'``; ``None`` if such a value is outside a literal."""
    if _personal_label(sql) is None:
        return sql, False
    if parsed is None:
        return None, True
    data = sql.encode("utf-8")
    for start, length, text in sorted(parsed.literals, reverse=True):
        if _personal_label(text):
            data = data[:start] + REDACTED.encode() + data[start + length:]
    redacted = data.decode("utf-8", errors="replace")
    return (redacted if _personal_label(redacted) is None else None), True


# ----------------------------------------------------------------------------- running
def _open(root: str, t: Table, version: int | None) -> Any:
    """The table's Delta log at ``version``; :class:`QueryFailed` if it cannot be read."""
    try:
        dt = catalog.open_delta(root, t, version)
    except ValueError as exc:
        raise QueryFailed(str(exc)) from None
    if dt is None:
        raise QueryFailed(f"{t.name} has no data yet (nothing published or written)")
    return dt


def view_names(p: Plan) -> dict[str, str]:
    """The name each table of the plan is registered under in the engine."""
    return {t.name: f"__lakehouse_{i}" for i, t in enumerate(p.tables)}


def rewrite(p: Plan, views: Mapping[str, str]) -> str:
    """``p.sql`` with each table reference replaced by its registered view, at the byte offsets
    DuckDB's parser reported; a reference without an alias keeps its table name as alias
    (``person_coverage.county`` still works). Both engines run the rewritten statement, so a
    zone needs no schema of its own (DuckDB's built-in ``system`` catalog would clash)."""
    data = p.sql.encode("utf-8")
    edits: list[tuple[int, int, str]] = []
    for ref, t in p.refs:
        if ref.start is None or ref.start + ref.length > len(data):
            raise QueryRefused("a table reference has no position in the statement; write "
                               "it in a FROM or JOIN clause")
        span = data[ref.start:ref.start + ref.length].decode("utf-8", errors="replace")
        match = _QUALIFIED.match(span)
        parts = [x[1:-1].replace('""', '"').lower() if x.startswith('"') else x.lower()
                 for x in re.findall(_PART, match.group(0))] if match else []
        if match is None or parts != [ref.schema.lower(), ref.table.lower()]:
            raise QueryRefused(f"the reference to {t.name} could not be located in the "
                               "statement")
        text = _quote(views[t.name]) + ("" if ref.alias else f" AS {_quote(ref.table)}")
        edits.append((ref.start, len(match.group(0).encode("utf-8")), text))
    for start, length, text in sorted(edits, reverse=True):
        data = data[:start] + text.encode("utf-8") + data[start + length:]
    return data.decode("utf-8")


def _named(text: str, views: Mapping[str, str]) -> str:
    """An engine's message with the registered view names replaced by the tables' names."""
    for name, view in sorted(views.items(), key=lambda kv: -len(kv[1])):
        text = text.replace(view, name)
    return clean(text)


def run_duckdb(p: Plan, root: str, con: duckdb.DuckDBPyConnection | None = None
               ) -> tuple[pa.Table, dict[str, int]]:
    """Run an allowed plan on DuckDB over the tables' Arrow datasets (in ``con``, a fresh
    :func:`connect` connection by default, closed afterwards)."""
    import duckdb

    views = view_names(p)
    sql = rewrite(p, views)
    con = connect() if con is None else con
    try:
        read: dict[str, int] = {}
        for t in p.tables:
            dt = _open(root, t, p.versions.get(t.name))
            try:
                dataset = dt.to_pyarrow_dataset()
            except Exception as exc:  # a reader feature delta-rs lacks (deletion vectors, …)
                raise QueryFailed(f"{t.name}: deltalake cannot read this table "
                                  f"({type(exc).__name__}: {clean(_first(exc))}); try "
                                  "--engine spark") from None
            read[t.name] = dt.version()
            con.register(views[t.name], dataset)
        try:
            result = con.sql(sql)
            if result is None:
                raise QueryFailed("the statement returned no result")
            return result.to_arrow_table(), read
        except duckdb.PermissionException as exc:
            raise QueryRefused(f"DuckDB refused an access outside the catalog's tables "
                               f"({_named(_first(exc), views)})") from None
        except duckdb.Error as exc:
            raise QueryFailed(f"{type(exc).__name__}: {_named(_joined(exc), views)}") from None
    finally:
        con.close()


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def _joined(exc: BaseException) -> str:
    """An engine's message on one line (its lines, stripped, joined by one space)."""
    return " ".join(line.strip() for line in str(exc).splitlines() if line.strip())


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def _spark_conf(spark: Any, values: Mapping[str, str]) -> Iterator[None]:
    previous = {k: spark.conf.get(k, None) for k in values}
    for k, v in values.items():
        spark.conf.set(k, v)
    try:
        yield
    finally:
        for k, v in previous.items():
            if v is None:
                spark.conf.unset(k)
            else:
                spark.conf.set(k, v)


def run_spark(p: Plan, root: str, settings: Settings | None = None,
              spark: Any = None) -> tuple[pa.Table, dict[str, int]]:
    """Run an allowed plan on Spark (``spark``, else :func:`kernel.spark.session` of
    ``settings``), the tables registered as temporary views."""
    views = view_names(p)
    sql = rewrite(p, views)
    read = {t.name: _open(root, t, p.versions.get(t.name)).version() for t in p.tables}
    if spark is None:
        from kernel.spark import session

        spark = session(settings)
    conf = {"spark.sql.ansi.enabled": "true", "spark.sql.ansi.doubleQuotedIdentifiers": "true",
            "spark.sql.runSQLOnFiles": "false"}
    try:
        for t in p.tables:
            (spark.read.format("delta").option("versionAsOf", read[t.name])
             .load(catalog.table_uri(root, t.zone, t.table))
             .createOrReplaceTempView(views[t.name]))
        with _spark_conf(spark, conf):
            try:
                return spark.sql(sql).toArrow(), read
            except Exception as exc:  # AnalysisException, ParseException, … from Spark
                raise QueryFailed(f"{type(exc).__name__}: {_named(_first(exc), views)}") \
                    from None
    finally:
        for view in views.values():
            spark.catalog.dropTempView(view)


def run(sql: str, who: Identity, root: str, versions: int | Mapping[str, int] | None = None,
        engine: str = "duckdb", contracts_dir: Path | None = None,
        settings: Settings | None = None, spark: Any = None) -> QueryResult:
    """Check, run and audit one query (see the module docstring); ``settings`` and ``spark``
    (an existing session) are for the Spark engine.

    Raises :class:`QueryRefused` or :class:`QueryFailed` after writing their audit entry.
    """
    from audit.log import AuditLog

    started = time.monotonic()
    details: dict[str, Any] = {"role": who.role, "engine": engine, "tables": [],
                               "versions": {}, "rows": None}
    parsed: Parsed | None = None

    def record(status: str, reason: str | None = None) -> int:
        text, redacted = audit_sql(sql, parsed)
        entry = {**details, "status": status, "sql": text,
                 "seconds": round(time.monotonic() - started, 3)}
        if redacted:
            entry["sql_redacted" if text is not None else "sql_withheld"] = True
        if reason is not None:
            entry["reason"] = clean(reason)
        try:
            return AuditLog(Layout(root).audit_dir).append("query", who.user, entry).seq
        except (OSError, ValueError) as exc:
            raise QueryFailed(f"the audit log could not be written ({type(exc).__name__}: "
                              f"{clean(_first(exc))}); no result is shown") from None

    con = connect() if engine != "spark" else None
    try:
        parsed = parse(sql, con)
        details["tables"] = [clean(catalog.sql_name(r.schema, r.table)) for r in parsed.refs
                             if r.schema and not r.catalog]
        p = plan(sql, who.role, root, versions, engine, contracts_dir, parsed)
        details["tables"] = [t.name for t in p.tables]
        if engine == "spark":
            table, read = run_spark(p, root, settings, spark)
        else:
            table, read = run_duckdb(p, root, con)
    except QueryRefused as exc:
        record("refused", str(exc))
        raise
    except QueryFailed as exc:
        record("failed", str(exc))
        raise
    except Exception as exc:  # anything unexpected is audited too, then reported
        record("failed", type(exc).__name__)
        raise
    finally:
        if con is not None:
            con.close()
    details["versions"] = read
    details["rows"] = table.num_rows
    seq = record("ok")
    return QueryResult(table, tuple(t.name for t in p.tables), read,
                       time.monotonic() - started, seq)
