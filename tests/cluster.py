"""The cluster profile (``infra/cluster.sh``) for tests: on free loopback ports, in a throw-away
run folder, with keys that are not the defaults, and without Airflow (``CLUSTER_AIRFLOW=0``):
the Spark standalone master and worker, versitygw with a bucket, and Redis.

:func:`profile` brings it up, yields it, and stops and purges it. Missing set-up (``make
cluster-setup``: versitygw, ``redis-server``, the s3a jars) is a failure in CI and a skip
elsewhere.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.celeryrun import read_env_file
from tests.s3 import BINARY as VERSITYGW
from tests.s3 import REPO, S3A_JARS

SCRIPT = REPO / "infra" / "cluster.sh"
PORTS = ("CLUSTER_SPARK_PORT", "CLUSTER_SPARK_UI_PORT", "CLUSTER_WORKER_UI_PORT",
         "CLUSTER_S3_PORT", "CLUSTER_REDIS_PORT")


def missing_setup() -> list[str]:
    """What ``make cluster-setup`` provides and this machine lacks."""
    missing = []
    if not VERSITYGW.exists():
        missing.append(f"versitygw ({VERSITYGW.relative_to(REPO)})")
    if shutil.which("redis-server") is None:
        missing.append("redis-server")
    if not list(S3A_JARS.glob("hadoop-aws-*.jar")):
        missing.append(f"the s3a jars ({S3A_JARS.relative_to(REPO)}/)")
    return missing


def free_ports(n: int) -> list[int]:
    """``n`` distinct free loopback ports (held open together while chosen)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass(frozen=True)
class Cluster:
    """A running profile: the script's environment, its run folder, and its env file's values."""

    script_env: dict[str, str]
    folder: Path
    env: dict[str, str]
    up_seconds: float

    def script(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``infra/cluster.sh ARGS`` on this profile."""
        return subprocess.run(["bash", str(SCRIPT), *args], env=self.script_env, text=True,
                              capture_output=True, timeout=180, check=False)

    def pids(self) -> dict[str, int]:
        """The daemons' pids, from the run folder's pid files."""
        return {p.name: int(p.read_text().strip()) for p in (self.folder / "pids").glob("*.pid")}


@contextmanager
def profile(folder: Path, **settings: str) -> Iterator[Cluster]:
    """The profile in the run folder ``folder`` (``settings`` on top of the defaults here);
    stopped and purged on exit."""
    missing = missing_setup()
    if missing:
        why = "the cluster profile is not set up (make cluster-setup): missing " + \
            ", ".join(missing)
        if os.environ.get("CI"):  # .ci/run sets it up: a skip there would hide a failure
            pytest.fail(why)
        pytest.skip(why)
    script_env = {
        **os.environ,
        "LAKEHOUSE_CLUSTER_DIR": str(folder),
        **dict(zip(PORTS, map(str, free_ports(len(PORTS))), strict=True)),
        "LAKEHOUSE_S3_ACCESS_KEY": "cluster-test",
        "LAKEHOUSE_S3_SECRET_KEY": secrets.token_hex(16),  # not the demo default: read from env
        "CLUSTER_AIRFLOW": "0",  # the Spark and store pieces only
        **settings,
    }
    started = time.monotonic()
    up = subprocess.run(["bash", str(SCRIPT), "up"], env=script_env, text=True,
                        capture_output=True, timeout=300, check=False)
    seconds = time.monotonic() - started
    running = Cluster(script_env, folder, {}, seconds)
    try:
        assert up.returncode == 0, f"cluster.sh up failed:\n{up.stdout}\n{up.stderr}"
        yield Cluster(script_env, folder, read_env_file(folder / "env"), seconds)
    finally:
        running.script("down", "--purge")
