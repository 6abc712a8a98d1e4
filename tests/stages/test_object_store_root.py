"""A feed run on an object-store root (``s3a://`` on versitygw, loopback) against the same run
on a local root: same tables, and two drivers racing on the object store lose nothing.

The same deliveries are generated once and put in both inboxes. On the local root one
``lakehouse run`` ingests them; on the object store two ``lakehouse run`` processes start at
once on the same feed: the lock (a conditional create on S3) lets one write while the other
waits, then finds nothing left to do. Every table, the audit log, the lineage events and the
quality report live on the object store (no local path under the root), and the result must
equal the local run's: the silver rows, the batches landed, the quarantined records; the audit
log verifies; no lock is left behind. Spark runs in ``local`` mode with the s3a jars
(``make .jars/s3a/.resolved``); the cluster profile adds the standalone master.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.s3 import versitygw

REPO = Path(__file__).resolve().parents[2]
S3A_JARS = REPO / ".jars" / "s3a"
FEED = "moi.household_registry"


def _s3a_jars() -> Path:
    if not list(S3A_JARS.glob("hadoop-aws-*.jar")):
        if os.environ.get("CI"):
            pytest.fail("the s3a jars are not resolved (make .jars/s3a/.resolved; .ci/run does)")
        pytest.skip("the s3a jars are not resolved (make .jars/s3a/.resolved)")
    return S3A_JARS


def _lakehouse(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "cli.main", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(proc: subprocess.Popen[str]) -> str:
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out[-3000:]
    return out


def _upload(inbox: Path, uri: str) -> int:
    from audit.objects import folder

    files = [p for p in sorted(inbox.rglob("*")) if p.is_file()]
    for path in files:
        rel = path.relative_to(inbox)
        folder(f"{uri}/{rel.parent.as_posix()}").put(path.name, path.read_bytes())
    return len(files)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The local run and the two racing runs on the object store, done."""
    jars = _s3a_jars()
    base = tmp_path_factory.mktemp("objroot")
    local = base / "local"
    env = {**os.environ, "LAKEHOUSE_ROOT": str(local), "LAKEHOUSE_LOCK_WAIT_SECONDS": "300"}
    env.pop("LAKEHOUSE_EXTRA_JARS_DIR", None)
    _finish(_lakehouse(env, "generate", "--persons", "150", "--days", "2", "--feed", FEED))
    with versitygw(base / "s3") as s3:
        root = f"s3a://{s3.bucket}/lakehouse"
        s3env = {**env, **s3.env, "LAKEHOUSE_ROOT": root, "LAKEHOUSE_EXTRA_JARS_DIR": str(jars)}
        saved = {k: os.environ.get(k) for k in s3.env}
        os.environ.update(s3.env)
        try:
            uploaded = _upload(local / "inbox", f"{root}/inbox")
            racing = [_lakehouse(s3env, "run", FEED) for _ in range(2)]
            outs = [_finish(p) for p in racing]
            _finish(_lakehouse(env, "run", FEED))
            yield {"local": str(local), "s3": root, "server": s3, "outs": outs,
                   "uploaded": uploaded, "env": s3env}
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _rows(uri: str, drop: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
    from deltalake import DeltaTable

    table = DeltaTable(uri).to_pyarrow_table()
    table = table.select([c for c in table.column_names if c not in drop])
    return sorted(tuple(r.values()) for r in table.to_pylist())


def test_every_table_equals_the_local_run(runs: dict[str, Any]) -> None:
    """Silver, the quarantine and the landed batches are the local run's, row for row."""
    local, s3 = runs["local"], runs["s3"]
    assert runs["uploaded"] >= 4  # two daily files and their digests
    silver = _rows(f"{s3}/silver/{FEED.replace('household_registry', 'residents')}")
    assert silver and silver == _rows(f"{local}/silver/moi.residents")
    for table in (f"quarantine/{FEED}", f"bronze/{FEED}"):
        assert _rows(f"{s3}/{table}", ("_run_id", "_ingested_at", "_quarantined_at")) == \
            _rows(f"{local}/{table}", ("_run_id", "_ingested_at", "_quarantined_at"))


def test_the_racing_drivers_landed_each_batch_once(runs: dict[str, Any]) -> None:
    """Of the two drivers, the second waited for the lock and found every batch landed: the
    batches landed on the object store are the local run's, each once."""
    from deltalake import DeltaTable

    def landed(root: str) -> list[str]:
        rows = DeltaTable(f"{root}/system/deliveries").to_pyarrow_table().to_pylist()
        return sorted(r["batch_id"] for r in rows if r["status"] == "landed")

    assert landed(runs["s3"]) == landed(runs["local"]) and len(landed(runs["local"])) == 2
    assert sum("land: 2 batch(es)" in out for out in runs["outs"]) == 1, runs["outs"]


def test_the_run_records_live_on_the_object_store(runs: dict[str, Any]) -> None:
    """The audit log verifies (as objects), lineage events and the quality report are objects,
    and no lock is left; nothing of the root was written to a local path."""
    from audit.log import entries, verify
    from audit.objects import folder
    from lineage.emit import event_lines

    s3 = runs["s3"]
    result = verify(f"{s3}/system/audit")
    assert result.ok and result.entries >= 6, result
    assert {e.action for e in entries(f"{s3}/system/audit")} >= {"run"}
    def kinds(root: str) -> set[tuple[str, str]]:
        events = [json.loads(line) for line in event_lines(root)]
        return {(e["job"]["name"], e["eventType"]) for e in events}

    assert kinds(runs["local"]) and kinds(runs["local"]) <= kinds(s3)
    assert "index.html" in folder(f"{s3}/system/reports/quality").names()
    assert folder(f"{s3}/system/locks").names() == []
    assert not (REPO / "s3a:").exists()
    done = subprocess.run([sys.executable, "-m", "cli.main", "audit", "verify"], cwd=REPO,
                          env=runs["env"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "audit log ok" in done.stdout, done.stdout + done.stderr
