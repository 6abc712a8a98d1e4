"""The audit log and exclusive creates on a real S3-compatible server (versitygw on loopback).

Object stores cannot append: the log is kept as immutable objects, one per append, created only
if absent. These tests check that the chain reads and verifies as on a local disk, that
tampering is named, and that writers in two processes neither fork the chain nor lose an entry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from audit.files import ObjectFiles, files_for
from audit.log import AuditLog, entries, head, present, verify
from audit.objects import folder
from tests.s3 import S3Server, versitygw

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with versitygw(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture
def uri(s3: S3Server, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    for key, value in s3.env.items():
        monkeypatch.setenv(key, value)
    return f"s3a://{s3.bucket}/{request.node.name}/system/audit"


def _run(code: str, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=REPO,
                            env={**os.environ, **env}, stdout=subprocess.PIPE)


def test_the_log_on_an_object_store_is_objects_and_verifies(uri: str, s3: S3Server) -> None:
    """Each append is one object named by its first seq; the chain reads and verifies as on a
    local disk, ``head`` gives the anchor, and nothing is appended to an existing object."""
    assert not present(uri) and head(uri) == (0, "0" * 64)
    log = AuditLog(uri)
    first = log.append("run", "steward", {"feed": "moi.residents"})
    batch = log.append_many([("publish", "steward", {"dataset": "gold.person_coverage"}),
                             ("query", "analyst", {"rows": 3})])
    assert isinstance(files_for(uri), ObjectFiles) and present(uri)
    stored = sorted(p.name for p in (s3.data / s3.bucket).rglob("audit-*.jsonl"))
    assert stored == ["audit-000000000001.jsonl", "audit-000000000002.jsonl"]
    assert [e.seq for e in entries(uri)] == [1, 2, 3]
    assert [e.action for e in entries(uri, "query")] == ["query"]
    assert head(uri) == (3, batch[-1].hash) and batch[0].prev_hash == first.hash
    result = verify(uri, expected_head=(2, batch[0].hash))
    assert (result.ok, result.entries, result.torn, result.sealed) == (True, 3, None, 0)
    with pytest.raises(OSError, match="never changed"):
        files_for(uri).append("audit-000000000001.jsonl", "\n")


def test_tampering_with_an_object_is_named(uri: str) -> None:
    """An edited entry breaks its hash; a removed object leaves a gap in the seqs."""
    log = AuditLog(uri)
    for n in range(3):
        log.append("run", "steward", {"n": n})
    where = folder(uri)
    edited = json.loads(where.get("audit-000000000002.jsonl") or b"")
    edited["details"] = {"n": 99}
    where.put("audit-000000000002.jsonl", (json.dumps(edited) + "\n").encode())
    result = verify(uri)
    assert (result.ok, result.first_bad) == (False, 2)
    assert "audit-000000000002.jsonl line 1 (seq 2): hash does not match" in str(result.reason)
    where.delete("audit-000000000002.jsonl")
    result = verify(uri)
    assert (result.ok, result.first_bad, result.entries) == (False, 2, 1)
    assert "seq 3 where 2 was expected" in str(result.reason)


_APPENDER = (
    "import sys; from audit.log import AuditLog; log = AuditLog(sys.argv[1]); "
    "[log.append('run', 'writer-' + sys.argv[2], {'n': n}) for n in range(int(sys.argv[3]))]"
)


def test_two_processes_appending_never_fork_the_chain(uri: str, s3: S3Server) -> None:
    """Two writers append at once with no lock between them: every entry is kept once, the
    seqs run 1..N and the chain verifies (a lost race re-reads the tail and tries again)."""
    n = 60
    procs = [_run(_APPENDER, s3.env, uri, w, str(n)) for w in ("a", "b")]
    assert [p.wait(timeout=240) for p in procs] == [0, 0]
    got = list(entries(uri))
    assert [e.seq for e in got] == list(range(1, 2 * n + 1))
    for writer in ("writer-a", "writer-b"):
        assert [e.details["n"] for e in got if e.actor == writer] == list(range(n))
    assert verify(uri).ok


_CREATOR = (
    "import sys; from audit.objects import folder; f = folder(sys.argv[1]); "
    "print(sum(f.create(f'lock-{i}', sys.argv[2].encode()) for i in range(40)))"
)


def test_exclusive_create_has_one_winner_across_processes(uri: str, s3: S3Server) -> None:
    """Two processes create the same 40 names: each name is created once, holding the
    content of the process that created it, and the wins add up to 40."""
    procs = [_run(_CREATOR, s3.env, uri + "/locks", w) for w in ("a", "b")]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    wins = [int(out) for out in outs]
    where = folder(uri + "/locks")
    owners = [where.get(f"lock-{i}") for i in range(40)]
    assert sum(wins) == 40 and set(owners) <= {b"a", b"b"}
    assert owners.count(b"a") == wins[0]


def test_the_kernel_storage_creates_exclusively_on_s3a(uri: str) -> None:
    """``Storage.create_exclusive`` on an ``s3a://`` path is a conditional create (the lock
    files of one writer per table), without Spark."""
    from kernel.storage import Storage

    storage = Storage(None, uri.rsplit("/system/", 1)[0])  # type: ignore[arg-type]
    path = storage.layout.lock("moi.residents")
    since = datetime.now(UTC).isoformat()
    assert storage.create_exclusive(path, since.encode()) is True
    assert storage.create_exclusive(path, b"other") is False
    assert folder(path.rsplit("/", 1)[0]).get("moi.residents.lock") == since.encode()
