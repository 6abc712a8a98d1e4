"""The one Airflow connection lookup of the pullers: ``AIRFLOW_CONN_<ID>`` as a URI or as JSON."""

from __future__ import annotations

import json
import os

import pytest

from pull import jdbc
from pull.connections import Connection, airflow_connection

URI = "postgres://reader:p%40ss-w0rd@db.example:5433/benefits?sslmode=require&connect_timeout=5"
API = {"conn_type": "http", "host": "api.example", "port": 8443, "schema": "https",
       "login": "client-1", "password": "s3cret-value", "extra": {"region": "tw"}}


def _env(monkeypatch: pytest.MonkeyPatch, **conns: str) -> dict[str, str]:
    """Define the connections in the process environment (where Airflow reads them) and return
    the environment the settings would carry."""
    for conn_id, value in conns.items():
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", value)
    return dict(os.environ)


def test_a_connection_as_a_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    env = _env(monkeypatch, benefits_db=URI)
    conn = airflow_connection(env, "benefits_db")
    assert conn == Connection(host="db.example", port=5433, schema="benefits", login="reader",
                              password="p@ss-w0rd", conn_type="postgres",
                              extra={"sslmode": "require", "connect_timeout": "5"})
    assert "p@ss-w0rd" not in repr(conn)


def test_a_connection_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    env = _env(monkeypatch, nhia_api=json.dumps(API))
    conn = airflow_connection(env, "nhia_api")
    assert conn == Connection(host="api.example", port=8443, schema="https", login="client-1",
                              password="s3cret-value", extra={"region": "tw"}, conn_type="http")
    assert "s3cret-value" not in repr(conn)


def test_no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    env = _env(monkeypatch, no_host=json.dumps({"conn_type": "http", "login": "x"}),
               odd_extra=json.dumps({"conn_type": "http", "host": "h", "extra": "[1, 2]"}))
    monkeypatch.delenv("AIRFLOW_CTX_DAG_ID", raising=False)
    assert airflow_connection(env, "no_host") is None  # a connection without a host
    assert airflow_connection(env, "undefined") is None  # neither defined nor in a task
    assert airflow_connection({}, "odd_extra") is None  # the settings' environment decides
    odd = airflow_connection(env, "odd_extra")
    assert odd is not None and odd.extra == {} and odd.port is None and odd.login == ""


def test_the_database_puller_maps_the_connection_to_its_target(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = _env(monkeypatch, benefits_db=URI)
    db = jdbc.target({**env, jdbc.URL_ENV: "postgresql://elsewhere:1/x"})  # the connection wins
    assert (db.host, db.port, db.database, db.user, db.password) == (
        "db.example", 5433, "benefits", "reader", "p@ss-w0rd")
    assert db.params == (("connect_timeout", "5"), ("sslmode", "require"))
    env = _env(monkeypatch, other_db="postgres://db2.example")
    db = jdbc.target({**env, jdbc.CONN_ENV: "other_db"})
    assert (db.host, db.port, db.database, db.user) == (
        "db2.example", 5432, "benefits", jdbc.DEFAULT_USER)
