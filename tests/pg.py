"""PostgreSQL for the tests of feed 6 (bli.benefit_payments): the real benefits database.

:func:`ensure_database` makes sure the database is reachable, running ``infra/benefits_db.sh``
once per test session when it is not (it installs, starts and sets up PostgreSQL). Each test
then gets its own schema holding an empty ``benefit_payments`` (the same definition as the
table of ``public``), and the connection URL points at it through ``search_path``
(``?options=-c search_path=<schema>``), so tests never see each other's rows nor those of the
demo; the schema is dropped afterwards.

Use it with ``pytest_plugins = ["tests.pg"]`` in a test module and the ``pg`` fixture, or with
:func:`clean_schema` in fixtures of a wider scope.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg
import pytest

from kernel.context import Context
from pull.jdbc import URL_ENV, DbTarget, target

REPO = Path(__file__).resolve().parents[1]
SETUP = REPO / "infra" / "benefits_db.sh"
_state: dict[str, str] = {}


def _reachable(db: DbTarget) -> str | None:
    """None when the table answers, else why not (no values, no password)."""
    try:
        with psycopg.connect(db.conninfo()) as conn:
            conn.execute("SELECT 1 FROM public.benefit_payments LIMIT 0")
        return None
    except psycopg.Error as exc:
        return type(exc).__name__


def ensure_database() -> DbTarget:
    """The benefits database (from the environment's defaults), set up once if needed."""
    db = replace(target(os.environ), params=())
    if _reachable(db) is None:
        return db
    if "setup" not in _state:
        done = subprocess.run([str(SETUP)], capture_output=True, text=True, timeout=900)
        _state["setup"] = (done.stdout + done.stderr).strip()
        if done.returncode != 0:
            pytest.fail(f"infra/benefits_db.sh failed: {_state['setup']}")
    why = _reachable(db)
    if why is not None:
        pytest.fail(f"benefits database still unreachable at {db.where} after "
                    f"infra/benefits_db.sh ({why}): {_state['setup']}")
    return db


@dataclass
class PgSchema:
    """One test's schema in the benefits database, with its own ``benefit_payments``."""

    db: DbTarget
    schema: str

    @property
    def url(self) -> str:
        """``LAKEHOUSE_BENEFITS_DB_URL`` of this schema (no credentials)."""
        return (f"postgresql://{self.db.host}:{self.db.port}/{self.db.database}"
                f"?options=-c%20search_path%3D{self.schema}")

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        """Run one statement in this schema (committed)."""
        with psycopg.connect(self.db.conninfo(), options=f"-c search_path={self.schema}") as c:
            c.execute(sql, params)

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """The rows of one query in this schema."""
        with psycopg.connect(self.db.conninfo(), options=f"-c search_path={self.schema}") as c:
            return list(c.execute(sql, params).fetchall())

    def insert(self, *rows: tuple[Any, ...]) -> None:
        """Insert payment rows (the table's nine columns, in order)."""
        with psycopg.connect(self.db.conninfo(), options=f"-c search_path={self.schema}") as c:
            c.cursor().executemany(
                "INSERT INTO benefit_payments VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)

    def context(self, spark: Any, root: str, run_id: str = "test-run",
                now: dt.datetime = dt.datetime(2024, 11, 5, 8, 0), **env: str) -> Any:
        """A job run on ``root`` whose settings point at this schema (``env`` overrides)."""
        from kernel.config import Settings
        from kernel.records import Records
        from kernel.storage import Storage

        storage = Storage(spark, root)
        settings = Settings.from_env(
            {**os.environ, "LAKEHOUSE_ROOT": root, URL_ENV: self.url, **env})
        return Context(settings=settings, storage=storage,
                                records=Records(storage), run_id=run_id, now=now,
                                actor="steward:test")


@contextmanager
def clean_schema(mp: pytest.MonkeyPatch, table: bool = True) -> Iterator[PgSchema]:
    """A fresh schema (with an empty ``benefit_payments`` unless ``table`` is false), the
    process environment's URL pointing at it (the generator reads ``os.environ``); dropped
    afterwards."""
    db = ensure_database()
    s = PgSchema(db, f"t_{uuid.uuid4().hex[:12]}")
    with psycopg.connect(db.conninfo()) as conn:
        conn.execute(f"CREATE SCHEMA {s.schema}")
        if table:
            conn.execute(f"CREATE TABLE {s.schema}.benefit_payments "
                         "(LIKE public.benefit_payments INCLUDING ALL)")
    mp.setenv(URL_ENV, s.url)
    try:
        yield s
    finally:
        with psycopg.connect(db.conninfo()) as conn:
            conn.execute(f"DROP SCHEMA {s.schema} CASCADE")


@pytest.fixture
def pg(monkeypatch: pytest.MonkeyPatch) -> Iterator[PgSchema]:
    """This test's schema in the benefits database, with an empty ``benefit_payments``."""
    with clean_schema(monkeypatch) as s:
        yield s
