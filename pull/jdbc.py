"""Incremental pulls from an agency's PostgreSQL table over JDBC (feed 6, ``jdbc_pull``).

The puller reads, with Spark's JDBC source, the rows whose watermark column is at or after
the last pull's watermark (``>=``: a row committed in the same instant as the watermark is
never missed; the rows at that instant are pulled again and counted as duplicates in silver,
or the whole pull is a duplicate delivery when nothing else changed). Every column is
converted to its PostgreSQL **text** in the query, so nothing is re-typed before bronze; a
``timestamptz`` column (the watermark, any ``timestamp`` field) becomes ISO-8601 UTC text with
microseconds (``2024-10-25T01:13:05.123456Z``), which keeps the instant exactly and sorts as
text. The rows are written, in the order of (watermark, key), as one JSON-lines file
``<table>.jsonl`` (UTF-8, one object per row, every column present, SQL NULL as ``null``) in
the landing folder.

Delivery options (the contract's ``delivery.options``):

``table``       the source table (``name`` or ``schema.name``);
``watermark``   the ``timestamptz`` column of the incremental pull (a contract field of type
                ``timestamp``);
``key``         the primary key column (orders the rows of one instant);
``fetch_size``  rows per JDBC round trip (default 10000).

The connection: the Airflow connection ``benefits_db`` (id changeable with
``LAKEHOUSE_BENEFITS_DB_CONN``) inside an Airflow task or when ``AIRFLOW_CONN_BENEFITS_DB`` is
set; else ``LAKEHOUSE_BENEFITS_DB_URL`` (default ``postgresql://localhost:5432/benefits``;
``postgres://`` and ``jdbc:postgresql://`` accepted, query parameters such as ``sslmode`` are
passed on) with ``LAKEHOUSE_BENEFITS_DB_USER`` / ``LAKEHOUSE_BENEFITS_DB_PASSWORD`` (or
``user:password@`` in the URL; dev default ``lakehouse``/``lakehouse``, see
``infra/benefits_db.sh``). ``LAKEHOUSE_BENEFITS_DB_CONNECT_TIMEOUT`` (seconds, default 10)
bounds the connection attempt. The password is handed to the driver as a property: it is never
part of a URL, the recorded source, a log line or an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from kernel.contracts import FeedContract
from kernel.errors import DeliveryError
from pull import Pulled
from pull.connections import airflow_connection

if TYPE_CHECKING:
    from kernel.context import Context

__all__ = ["DbTarget", "pull", "select_sql", "target"]

URL_ENV = "LAKEHOUSE_BENEFITS_DB_URL"
USER_ENV = "LAKEHOUSE_BENEFITS_DB_USER"
PASSWORD_ENV = "LAKEHOUSE_BENEFITS_DB_PASSWORD"
TIMEOUT_ENV = "LAKEHOUSE_BENEFITS_DB_CONNECT_TIMEOUT"
CONN_ENV = "LAKEHOUSE_BENEFITS_DB_CONN"
DEFAULT_URL = "postgresql://localhost:5432/benefits"
DEFAULT_USER = "lakehouse"
DEFAULT_PASSWORD = "lakehouse"  # dev-only default of infra/benefits_db.sh
DEFAULT_CONN_ID = "benefits_db"
DEFAULT_TIMEOUT = 10
DEFAULT_FETCH_SIZE = 10000
DRIVER = "org.postgresql.Driver"
ISO_UTC = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'
"""``to_char`` format of a timestamptz taken ``AT TIME ZONE 'UTC'``."""

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class DbTarget:
    """Where the source database is and who logs in (the password never shows in a repr)."""

    host: str
    port: int
    database: str
    user: str
    password: str = field(repr=False)
    params: tuple[tuple[str, str], ...] = ()
    """Further connection parameters (``sslmode``, ``options``), passed on to the driver."""
    timeout: int = DEFAULT_TIMEOUT

    @property
    def where(self) -> str:
        """``jdbc:postgresql://host:port/db``: the database without credentials or parameters."""
        return f"jdbc:postgresql://{self.host}:{self.port}/{quote(self.database)}"

    @property
    def jdbc_url(self) -> str:
        """The JDBC URL with the connection parameters (never the user or password)."""
        query = urlencode(self.params, quote_via=quote)
        return self.where + (f"?{query}" if query else "")

    def conninfo(self) -> str:
        """A libpq connection string (psycopg), password included: never log it."""
        from psycopg.conninfo import make_conninfo

        return make_conninfo(host=self.host, port=str(self.port), dbname=self.database,
                             user=self.user, password=self.password,
                             connect_timeout=str(self.timeout), **dict(self.params))


def _get(env: Mapping[str, str], key: str, default: str) -> str:
    value = env.get(key)
    return default if value in (None, "") else str(value)


def _timeout(env: Mapping[str, str]) -> int:
    raw = _get(env, TIMEOUT_ENV, str(DEFAULT_TIMEOUT))
    if not raw.isdigit() or int(raw) < 1:
        raise DeliveryError(f"{TIMEOUT_ENV} must be a positive number of seconds")
    return int(raw)


def _from_airflow(env: Mapping[str, str]) -> DbTarget | None:
    """The target from the Airflow connection (:func:`pull.connections.airflow_connection`;
    id ``LAKEHOUSE_BENEFITS_DB_CONN``, default ``benefits_db``): host, port, schema = database,
    login = user, password, extra = driver parameters."""
    conn = airflow_connection(env, _get(env, CONN_ENV, DEFAULT_CONN_ID))
    if conn is None:
        return None
    return DbTarget(
        host=conn.host, port=conn.port or 5432,
        database=conn.schema or "benefits", user=conn.login or DEFAULT_USER,
        password=conn.password,
        params=tuple(sorted((str(k), str(v)) for k, v in conn.extra.items())),
        timeout=_timeout(env),
    )


def target(env: Mapping[str, str]) -> DbTarget:
    """The source database from an environment (``ctx.settings.env``; the generator's
    ``os.environ``): the Airflow connection when defined, else the URL and credentials."""
    found = _from_airflow(env)
    if found is not None:
        return found
    raw = _get(env, URL_ENV, DEFAULT_URL)
    url = raw[len("jdbc:"):] if raw.startswith("jdbc:") else raw
    try:
        parts = urlsplit(url)
        port = parts.port or 5432
    except ValueError:
        raise DeliveryError(f"{URL_ENV} is not a postgresql://host:port/database URL") from None
    database = unquote(parts.path.lstrip("/"))
    if parts.scheme not in ("postgresql", "postgres") or not parts.hostname or not database:
        raise DeliveryError(f"{URL_ENV} is not a postgresql://host:port/database URL")
    return DbTarget(
        host=parts.hostname, port=port, database=database,
        user=_get(env, USER_ENV, unquote(parts.username or "") or DEFAULT_USER),
        password=_get(env, PASSWORD_ENV, unquote(parts.password or "") or DEFAULT_PASSWORD),
        params=tuple(parse_qsl(parts.query)),
        timeout=_timeout(env),
    )


# --------------------------------------------------------------------------- the query
@dataclass(frozen=True)
class _Options:
    table: str
    watermark: str
    key: str
    fetch_size: int


def _options(contract: FeedContract) -> _Options:
    """The delivery options, validated against the contract (names become SQL identifiers)."""
    o = contract.delivery.options
    table = str(o.get("table") or "")
    if not table or not all(_IDENT.match(p) for p in table.split(".")) or table.count(".") > 1:
        raise DeliveryError("delivery option table must be a SQL name (table or schema.table)")
    wires = {f.wire: f for f in contract.fields}
    watermark, key = str(o.get("watermark") or ""), str(o.get("key") or "")
    if watermark not in wires or wires[watermark].type != "timestamp":
        raise DeliveryError("delivery option watermark must name a timestamp field of the "
                            "contract")
    if key not in wires:
        raise DeliveryError("delivery option key must name a field of the contract")
    bad = [w for w in wires if not _IDENT.match(w)]
    if bad:
        raise DeliveryError(f"wire names are not plain SQL column names: {', '.join(bad)}")
    try:
        fetch = int(o.get("fetch_size", DEFAULT_FETCH_SIZE))
    except (TypeError, ValueError):
        fetch = 0
    if fetch < 1:
        raise DeliveryError("delivery option fetch_size must be a positive number of rows")
    return _Options(table, watermark, key, fetch)


def _since(since: str | None) -> datetime | None:
    if since is None:
        return None
    try:
        ts = datetime.fromisoformat(since)
    except ValueError:
        raise DeliveryError("the stored watermark is not an ISO-8601 timestamp") from None
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).astimezone(UTC)


def utc_text(ts: datetime) -> str:
    """An instant as the wire text of a timestamptz: ``2024-10-25T01:13:05.123456Z``."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def select_sql(contract: FeedContract, since: str | None) -> str:
    """The pull's query: every contract column as text, rows at or after ``since``, in the
    order of (watermark, key)."""
    o = _options(contract)
    cols = []
    for f in contract.fields:
        c = f'"{f.wire}"'
        text = (f"to_char({c} AT TIME ZONE 'UTC', '{ISO_UTC}')" if f.type == "timestamp"
                else f"{c}::text")
        cols.append(f'{text} AS "{f.wire}"')
    table = ".".join(f'"{p}"' for p in o.table.split("."))
    start = _since(since)
    where = "" if start is None else (
        f""" WHERE "{o.watermark}" >= '{utc_text(start)}'::timestamptz""")
    return (f"SELECT {', '.join(cols)} FROM {table}{where} "
            f'ORDER BY "{o.watermark}", "{o.key}"')


# --------------------------------------------------------------------------- errors
_COLUMN_MISSING = re.compile(r'column "?([A-Za-z_][A-Za-z0-9_.]*)"? does not exist')


def _sql_state(exc: BaseException) -> tuple[str | None, str]:
    """The SQLSTATE and server message of the first PostgreSQL exception in the Java cause
    chain of ``exc`` (``None`` when there is none)."""
    java: Any = getattr(exc, "java_exception", None)
    seen = 0
    while java is not None and seen < 20:
        name = str(java.getClass().getName())
        if name == "java.lang.ClassNotFoundException":
            return "driver", ""
        if name.startswith("org.postgresql."):
            try:
                return str(java.getSQLState()), str(java.getMessage() or "")
            except Exception:
                return None, ""
        java = java.getCause()
        seen += 1
    return None, ""


def _refusal(exc: BaseException, db: DbTarget, table: str) -> DeliveryError:
    """A one-line reason for a failed pull: the database, the kind of failure; never the
    password (the driver's messages are not passed on, only classified)."""
    state, message = _sql_state(exc)
    at = db.where
    if state == "driver":
        return DeliveryError(f"the PostgreSQL JDBC driver ({DRIVER}) is not on spark.jars")
    if state is None:
        return DeliveryError(f"the pull from {at} table {table} failed ({type(exc).__name__})")
    if state.startswith("08") or state in ("57P01", "57P03", "53300"):
        return DeliveryError(f"database unreachable: no connection to {at} within "
                             f"{db.timeout}s (SQLSTATE {state}: refused, timed out or not "
                             "accepting connections)")
    if state.startswith("28"):
        return DeliveryError(f"authentication failed at {at} for the configured user (check "
                             f"the connection's user and password; SQLSTATE {state})")
    if state == "3D000":
        return DeliveryError(f"database unreachable: {at} does not exist (SQLSTATE {state})")
    if state == "42P01" or state == "3F000":
        return DeliveryError(f"table {table} does not exist in {at} (SQLSTATE {state})")
    if state == "42703":
        m = _COLUMN_MISSING.search(message)
        col = f" {m[1]}" if m else ""
        return DeliveryError(f"table {table} has no column{col} of the contract "
                             f"(SQLSTATE {state})")
    if state == "42501":
        return DeliveryError(f"the configured user may not read table {table} at {at} "
                             f"(SQLSTATE {state})")
    return DeliveryError(f"the pull from {at} table {table} failed (SQLSTATE {state})")


# --------------------------------------------------------------------------- pull
def _read(ctx: Context, db: DbTarget, sql: str, fetch_size: int) -> DataFrame:
    return (
        ctx.storage.spark.read.format("jdbc")
        .option("url", db.jdbc_url)
        .option("driver", DRIVER)
        .option("user", db.user)
        .option("password", db.password)
        .option("query", sql)
        .option("fetchsize", str(fetch_size))
        .option("connectTimeout", str(db.timeout))
        .option("loginTimeout", str(db.timeout))
        .option("readOnly", "true")
        .option("ApplicationName", "convergence-lakehouse")
        .load()
    )


def pull(ctx: Context, contract: FeedContract, folder: str, since: str | None) -> Pulled:
    """Pull the rows changed at or after ``since`` into ``<folder>/<table>.jsonl``.

    Returns the file, the number of rows, the next watermark (the largest watermark pulled, as
    ISO-8601 UTC text; ``since`` again when no row came) and the source without credentials.
    Raises :class:`DeliveryError` (database unreachable, authentication failed, table or
    column missing) with a one-line reason.
    """
    o = _options(contract)
    db = target(ctx.settings.env)
    sql = select_sql(contract, since)
    st = ctx.storage
    name = f"{o.table.rsplit('.', 1)[-1]}.jsonl"
    scratch = f"{folder}/_spark"
    try:
        rows = _read(ctx, db, sql, o.fetch_size)
        # One JDBC partition, read in the query's order, written as one file in that order.
        (rows.coalesce(1).write.mode("overwrite").option("ignoreNullFields", "false")
         .option("encoding", "UTF-8").option("lineSep", "\n").json(scratch))
    except Exception as exc:  # the driver's own message may name the user: classified only
        st.delete_tree(scratch)
        raise _refusal(exc, db, o.table) from None
    parts = [f for f in st.list_files(scratch) if f.name.startswith("part-")]
    if len(parts) > 1:
        st.delete_tree(scratch)
        raise DeliveryError(f"the extract was written as {len(parts)} files, expected one")
    if parts:
        st.copy(parts[0].path, f"{folder}/{name}")  # no rename: a copy and a delete on S3
    else:  # no rows: Spark may write no part file at all
        st.write_bytes(f"{folder}/{name}", b"")
    st.delete_tree(scratch)
    stats = (st.spark.read.schema(f"`{o.watermark}` string").json(f"{folder}/{name}")
             .agg(F.count(F.lit(1)).alias("n"), F.max(o.watermark).alias("wm")).first())
    records = 0 if stats is None else int(stats["n"])
    latest = None if stats is None else stats["wm"]
    return Pulled(
        files=[name],
        records=records,
        watermark=str(latest) if latest is not None else since,
        source=f"{db.where} table {o.table}",
    )
