"""A real S3-compatible server on loopback for tests: versitygw (Apache-2.0) on a local folder.

The binary is built at set-up from its tagged Go module (``make .cache/go/bin/versitygw``; CI
builds it), never downloaded at run time. :func:`versitygw` starts one server on a free port
with a throw-away data folder and one bucket, and sets the standard AWS variables that
:mod:`audit.objects` (and ``deltalake``) read; missing, it is a failure in CI and a skip
elsewhere.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BINARY = REPO / ".cache" / "go" / "bin" / "versitygw"
S3A_JARS = REPO / ".jars" / "s3a"


@dataclass(frozen=True)
class S3Server:
    """A running server: its endpoint, credentials and bucket, and the environment to use it."""

    endpoint: str
    access_key: str
    secret_key: str
    bucket: str
    data: Path

    @property
    def env(self) -> dict[str, str]:
        """The standard AWS variables pointing at this server."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": self.secret_key, "AWS_REGION": "us-east-1",
                "AWS_ALLOW_HTTP": "true"}


def binary() -> Path:
    """The versitygw binary: a failure in CI when it was not built, a skip elsewhere."""
    found = BINARY if BINARY.exists() else shutil.which("versitygw")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("versitygw is not built (make .cache/go/bin/versitygw; .ci/run does)")
        pytest.skip("versitygw is not built (make .cache/go/bin/versitygw)")
    return Path(found)


def s3a_jars() -> Path:
    """The s3a jars' folder (``make .jars/s3a/.resolved``): a failure in CI when they were not
    resolved, a skip elsewhere."""
    if not list(S3A_JARS.glob("hadoop-aws-*.jar")):
        if os.environ.get("CI"):
            pytest.fail("the s3a jars are not resolved (make .jars/s3a/.resolved; .ci/run does)")
        pytest.skip("the s3a jars are not resolved (make .jars/s3a/.resolved)")
    return S3A_JARS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def versitygw(folder: Path, bucket: str = "lakehouse") -> Iterator[S3Server]:
    """A versitygw server on a free loopback port, serving ``folder`` (its posix back end: a
    bucket is a directory), with ``bucket`` made; stopped on exit."""
    exe = binary()
    data, meta = folder / "data", folder / "meta"
    (data / bucket).mkdir(parents=True, exist_ok=True)
    meta.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    server = S3Server(f"http://127.0.0.1:{port}", "test-access", "test-secret-key", bucket, data)
    env = {**os.environ, "ROOT_ACCESS_KEY": server.access_key,
           "ROOT_SECRET_KEY": server.secret_key}
    with open(folder / "versitygw.log", "wb") as log:
        proc = subprocess.Popen([str(exe), "--port", f"127.0.0.1:{port}", "posix",
                                 "--sidecar", str(meta), str(data)],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("versitygw did not start: "
                                       + (folder / "versitygw.log").read_text()[-2000:]) from None
                time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=30)
