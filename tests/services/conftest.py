"""A lakehouse root with published coverage, and the data services running on it over HTTP.

``gold.coverage_periods`` (what verifications answer from) and ``gold.person_coverage`` (a
dataset to download) are written as real Delta tables with the commit metadata a publish writes
(snapshot date, key id); the service is the real application on uvicorn on a free localhost
port, called with ``httpx``.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest
import uvicorn
from deltalake import CommitProperties, write_deltalake

from analytics import catalog
from kernel.twid import person_id_check_digit
from masking.keys import PseudonymKey
from services.app import create_app
from services.clients import Client, Registry, hash_secret
from services.state import ServiceConfig
from services.tokens import Keyring, SigningKey

PSEUDONYM = PseudonymKey.from_env({"LAKEHOUSE_PSEUDONYM_KEY": "service-tests-key-0123456789abcdef"})
SECRET = "labor-office-secret-for-tests"


def person_id(n: int) -> str:
    """A valid national ID (male, Taipei letter A) numbered ``n``."""
    prefix = f"A1{n:07d}"
    return prefix + person_id_check_digit(prefix)


def coverage_rows(flags: dict[int, tuple[bool, bool, bool, bool]], snapshot: date) -> pa.Table:
    """``gold.person_coverage`` rows: person ``n`` with (labor, nhi, farmer, pension) flags."""
    keys = [PSEUDONYM.person_key(person_id(n)) for n in flags]
    cols = list(zip(*flags.values(), strict=True))
    return pa.table({
        "person_key": keys,
        "in_labor_insurance": pa.array(cols[0], pa.bool_()),
        "in_nhi": pa.array(cols[1], pa.bool_()),
        "is_farmer": pa.array(cols[2], pa.bool_()),
        "pension_contrib_last_12m": pa.array(cols[3], pa.bool_()),
        "snapshot_date": pa.array([snapshot] * len(keys), pa.date32()),
    })


SCHEMES = ("labor", "nhi", "farmer", "pension")
SINCE = date(2020, 1, 1)
PAST = (date(2015, 1, 1), date(2016, 1, 1))


def since(n: int, scheme: str) -> date:
    """The first day of person ``n``'s open period in ``scheme`` (distinct per person)."""
    return date(2020, 1 + SCHEMES.index(scheme), n % 28 + 1)


def period_rows(flags: dict[int, tuple[bool, bool, bool, bool]], snapshot: date,
                key: PseudonymKey = PSEUDONYM) -> pa.Table:
    """``gold.coverage_periods`` rows: for person ``n`` and each scheme whose flag is true, a
    period open since :func:`since`; whose flag is false, a period closed in 2015 (was insured,
    is not)."""
    rows = []
    for n, fl in flags.items():
        pk = key.person_key(person_id(n))
        for scheme, on in zip(SCHEMES, fl, strict=True):
            rows.append((pk, scheme, *((since(n, scheme), None) if on else PAST)))
    cols = list(zip(*rows, strict=True))
    return pa.table({
        "person_key": pa.array(cols[0], pa.string()), "scheme": pa.array(cols[1], pa.string()),
        "start_date": pa.array(cols[2], pa.date32()), "end_date": pa.array(cols[3], pa.date32()),
        "snapshot_date": pa.array([snapshot] * len(rows), pa.date32()),
    })


def publish(root: Path, rows: pa.Table, snapshot: date, key_id: str | None = None) -> None:
    """Write a new version of the dataset ``rows`` belong to (gold.coverage_periods when they
    have a ``scheme``, else gold.person_coverage) as a publish does (overwrite + metadata)."""
    table = "coverage_periods" if "scheme" in rows.column_names else "person_coverage"
    meta = {"dataset": f"gold.{table}", "key_id": key_id or PSEUDONYM.key_id,
            "snapshot_date": snapshot.isoformat(), "run_id": "test-run"}
    write_deltalake(catalog.table_uri(str(root), "gold", table), rows,
                    mode="overwrite",
                    commit_properties=CommitProperties(
                        custom_metadata={"userMetadata": json.dumps(meta)}))


def registry() -> Registry:
    """Two clients: a labor office (verify labor and nhi) and a research unit (datasets)."""
    return Registry((
        Client("labor-office", "臺北市政府勞動局", hash_secret(SECRET, iterations=1000),
               frozenset({"verify:labor", "verify:nhi"}), frozenset({"LABOR_INSPECTION"}),
               rate_limit=1000.0, burst=1000),
        Client("research", "衛生福利部", hash_secret(SECRET, iterations=1000),
               frozenset({"datasets:gold.person_coverage"}), frozenset({"RESEARCH"}),
               rate_limit=1000.0, burst=1000),
        Client("slow", "測試機關", hash_secret(SECRET, iterations=1000),
               frozenset({"verify:labor"}), frozenset({"LABOR_INSPECTION"}),
               rate_limit=0.5, burst=2),
    ))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Running:
    """The service under test."""

    url: str
    root: Path
    cfg: ServiceConfig
    server: uvicorn.Server

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def token(self, client_id: str = "labor-office", scope: str | None = None) -> str:
        form: dict[str, Any] = {"grant_type": "client_credentials"}
        if scope:
            form["scope"] = scope
        with self.client() as c:
            r = c.post("/oauth/token", data=form, auth=(client_id, SECRET))
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])


SNAPSHOT = date(2026, 11, 30)
FLAGS = {1: (True, True, False, False), 2: (False, True, True, False),
         3: (False, False, False, True), 4: (True, False, False, False)}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("lake")
    publish(root, coverage_rows(FLAGS, SNAPSHOT), SNAPSHOT)
    publish(root, period_rows(FLAGS, SNAPSHOT), SNAPSHOT)
    cfg = ServiceConfig(root=str(root), registry=registry(),
                        keyring=Keyring(SigningKey.generate()), pseudonym_key=PSEUDONYM,
                        refresh_seconds=0.2)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(cfg), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the service did not start"
    yield Running(f"http://127.0.0.1:{port}", root, cfg, server)
    server.should_exit = True
    thread.join(timeout=10)
