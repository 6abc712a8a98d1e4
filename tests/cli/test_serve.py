"""``lakehouse serve`` as an operator runs it: the installed console script in a new process,
``--demo`` on a lakehouse whose ``gold.person_coverage`` was published with the demo key (as
``make demo`` publishes), called over HTTP as an agency calls it, audited with ``lakehouse
audit`` as the auditors do, and killed in the middle of a download.

One server process for the module (the machine has two cores). The tests run in file order:
the audit test lists the exchanges made so far (those of the verification test); the versions
test publishes versions 1 and 2 while requests run; the last test kills the server (SIGKILL)
and later tests would need it started again. The module's teardown stops it (SIGTERM) if it
still runs.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest
from deltalake import DeltaTable

from analytics import catalog
from masking.keys import PseudonymKey
from sandbox.demo import DEMO_KEY
from services.datasets import BOM
from services.tokens import ISSUER, SigningKey, verify_answer
from tests.services.conftest import person_id, publish

EXE = Path(sys.executable).with_name("lakehouse")
DEMO = PseudonymKey.from_env({"LAKEHOUSE_PSEUDONYM_KEY": DEMO_KEY})
LABOR = "taipei-labor-office"
AGENCY = "臺北市政府勞動局"
DATASET = "gold.person_coverage"
V0, V1, V2 = date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)
FLAGS = {1: (True, True, False, False), 2: (False, True, True, False),
         3: (False, False, False, True)}
"""Person ``n``: (labor, nhi, farmer, pension) in version 0."""
NATIONAL_ID = re.compile(r"[A-Z][1289]\d{8}")
UNSET = ("LAKEHOUSE_PSEUDONYM_KEY", "LAKEHOUSE_SERVICE_", "LAKEHOUSE_ROLE", "LAKEHOUSE_USER",
         "LAKEHOUSE_DEBUG", "AIRFLOW_CONN_", "AIRFLOW_CTX_")
"""What the server's environment must not hold (prefixes): no key, registry or role given."""


def demo_rows(flags: dict[int, tuple[bool, bool, bool, bool]], snapshot: date) -> pa.Table:
    """``gold.person_coverage`` rows of persons ``n`` (``person_id(n)``), keyed with the demo
    pseudonymisation key."""
    cols = list(zip(*flags.values(), strict=True))
    names = ("in_labor_insurance", "in_nhi", "is_farmer", "pension_contrib_last_12m")
    return pa.table({
        "person_key": [DEMO.person_key(person_id(n)) for n in flags],
        **{name: pa.array(col, pa.bool_()) for name, col in zip(names, cols, strict=True)},
        "snapshot_date": pa.array([snapshot] * len(flags), pa.date32()),
    })


@dataclass(frozen=True)
class Done:
    """A finished ``lakehouse`` process."""

    code: int
    out: str
    err: str


@dataclass
class Server:
    """The ``lakehouse serve --demo`` process, its lakehouse and its environment."""

    root: Path
    env: dict[str, str]
    port: int
    proc: subprocess.Popen[bytes]
    logs: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def demo_dir(self) -> Path:
        return self.root / "system" / "services"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)

    def secret(self, client_id: str) -> str:
        return str(json.loads((self.demo_dir / "demo-secrets.json").read_text())[client_id])

    def token(self, client_id: str) -> httpx.Response:
        with self.client() as c:
            return c.post("/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(client_id, self.secret(client_id)))

    def output(self, name: str) -> str:
        return (self.logs / name).read_text(encoding="utf-8")

    def lakehouse(self, *calls: tuple[tuple[str, ...], dict[str, str]]) -> list[Done]:
        """Run ``lakehouse ARGS`` with extra environment, several at once, to their ends."""
        procs = [subprocess.Popen([str(EXE), *args], env={**self.env, **extra}, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  encoding="utf-8") for args, extra in calls]
        return [Done(p.returncode, *p.communicate(timeout=120))
                for p in procs] if False else [_finish(p) for p in procs]


def _finish(proc: subprocess.Popen[str]) -> Done:
    out, err = proc.communicate(timeout=120)
    return Done(proc.returncode, out, err)


def _environment(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(UNSET)}
    env.update({"LAKEHOUSE_ROOT": str(root), "COLUMNS": "400", "PYTHONIOENCODING": "utf-8"})
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``lakehouse serve --demo`` on a lakehouse with version 0 published with the demo key,
    answering ``/healthz``; stopped with SIGTERM at the end of the module."""
    root = tmp_path_factory.mktemp("serve") / "lakehouse"
    logs = root.parent / "logs"
    logs.mkdir()
    publish(root, demo_rows(FLAGS, V0), V0, key_id=DEMO.key_id)
    env, port = _environment(root), _free_port()
    with (logs / "stdout").open("wb") as out, (logs / "stderr").open("wb") as err:
        proc = subprocess.Popen([str(EXE), "serve", "--demo", "--port", str(port)], env=env,
                                stdout=out, stderr=err)
    running = Server(root, env, port, proc, logs)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(f"{running.url}/healthz", timeout=5).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail(f"lakehouse serve did not start: {running.output('stderr')[-2000:]}")
    yield running
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught
        assert proc.wait(timeout=30) == -signal.SIGTERM
