"""The Airflow connection of a source, as every puller looks it up.

A puller's source may be an Airflow connection: inside an Airflow task (``AIRFLOW_CTX_DAG_ID``
is set), or anywhere when the connection is defined in the environment (``AIRFLOW_CONN_<ID>``,
as a URI or as JSON). Anything else (no such connection, no host, Airflow not importable or not
reachable) is no connection: the puller falls back to its settings. Each puller maps the
connection to its own kind of source (:mod:`pull.api`: base URL and client credentials;
:mod:`pull.jdbc`: database, user and driver parameters).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Connection", "airflow_connection"]


@dataclass(frozen=True)
class Connection:
    """What a puller reads of an Airflow connection (the password never shows in a repr)."""

    host: str
    port: int | None = None
    schema: str = ""
    login: str = ""
    password: str = field(default="", repr=False)
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """The connection's extra JSON object (``{}`` when it has none or it is not an object)."""
    conn_type: str = ""


def _defined(env: Mapping[str, str], conn_id: str) -> bool:
    """True inside an Airflow task, or when the environment defines the connection."""
    return f"AIRFLOW_CONN_{conn_id.upper()}" in env or "AIRFLOW_CTX_DAG_ID" in env


def airflow_connection(env: Mapping[str, str], conn_id: str) -> Connection | None:
    """The Airflow connection ``conn_id`` when ``env`` (the settings' environment) is an Airflow
    task's or defines ``AIRFLOW_CONN_<ID>``, and the connection has a host; None otherwise."""
    if not _defined(env, conn_id):
        return None
    try:
        from airflow.sdk import Connection as AirflowConnection

        conn = AirflowConnection.get(conn_id)
    except Exception:  # not defined, or Airflow not reachable: nothing from Airflow
        return None
    if conn is None or not conn.host:
        return None
    extra = conn.extra_dejson if conn.extra else {}
    return Connection(
        host=str(conn.host),
        port=int(conn.port) if conn.port else None,
        schema=str(conn.schema or ""),
        login=str(conn.login or ""),
        password=str(conn.password or ""),
        extra=dict(extra) if isinstance(extra, dict) else {},
        conn_type=str(conn.conn_type or ""),
    )
