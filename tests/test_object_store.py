"""The lakehouse on the cluster profile (Spark's standalone master, ``s3a://`` on versitygw,
loopback) equals it on a local disk.

The same deliveries (the six feeds, 150 persons, two days, the cross-agency anomalies raised)
are generated once and given to two roots: a local folder, and an S3 bucket (the inbox files
put object by object, the API simulator's data read from the local staging folder through
``LAKEHOUSE_SOURCES_DIR``). Each root then runs every feed (``lakehouse run --all``) and
publishes every dataset (``lakehouse publish --all``) with the same pseudonymisation key: the
bucket's driver on the profile's standalone master (``tests.cluster``: ``infra/cluster.sh up``
without Airflow, its executor on the worker's one core), the local one in ``local`` mode. One
driver runs on the bucket: two drivers racing on one table of the bucket are the test of
``tests/kernel/test_records.py`` (the shared run-record tables) and the locks' conditional
create is :mod:`tests.audit.test_objects`'s; a second racing driver here would add a third JVM
to a CI machine of two cores.

Checked: every gold and open-data table holds the same rows (``person_key``s equal under the
same key), the open-data files are byte for byte the same, the batches landed are the same and
each landed once, every reconciliation check holds and equals the local one, the audit log
verifies against the anchors of the published versions (``lakehouse audit verify``), the
lineage holds the same runs, no lock is left, and the master ran the bucket's two drivers.
Airflow's Celery executor, the profile's last part, runs the DAGs in ``make cluster-demo``
(docs/cluster.md): each task its own driver, too slow for CI.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kernel import contracts
from tests.cluster import Cluster, profile
from tests.pg import clean_schema

REPO = Path(__file__).resolve().parents[1]
KEY = "equivalence-test-key-0123456789abcdef"
DATASETS = [(d.zone, d.table) for d in contracts.datasets()]
RACED = "moi.household_registry"
"""A feed whose run is checked in the output."""
FILE_FEEDS = {c.name for c in contracts.feeds() if c.delivery.kind == "file_drop"}
CLUSTER_SETTINGS = ("SPARK_MASTER", "SPARK_CONF_DIR", "LAKEHOUSE_EXTRA_JARS_DIR")
"""What the bucket's driver takes from the profile's env file besides the store's ``AWS_*``."""


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "cli.main", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _done(*procs: subprocess.Popen[str]) -> list[str]:
    outs = [p.communicate(timeout=2400)[0] for p in procs]  # a loaded CI machine: 2 cores
    for proc, out in zip(procs, outs, strict=True):
        assert proc.returncode == 0, out[-3000:]
    return outs


def _generate(local: Path) -> None:
    from sandbox.generate import generate
    from sandbox.generate.household import IssueRates

    rates = IssueRates.parse(["payment_after_death=1", "dual_enrollment=0.5"])
    generate(local, persons=150, seed=5, days=2, rates=rates)


def _applications(cluster: Cluster) -> list[dict[str, Any]]:
    """The applications the profile's Spark master has run (its JSON status page)."""
    import urllib.request

    url = f"http://127.0.0.1:{cluster.script_env['CLUSTER_SPARK_UI_PORT']}/json/"
    with urllib.request.urlopen(url, timeout=30) as answer:
        status = json.load(answer)
    return [*status.get("completedapps", []), *status.get("activeapps", [])]


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Both roots, every feed run and every dataset published: the bucket's on the cluster
    profile (its standalone master, one executor core), the local one in ``local`` mode."""
    from sandbox.remote import upload_inbox

    base = tmp_path_factory.mktemp("equivalence")
    local = base / "local"
    with pytest.MonkeyPatch.context() as mp, clean_schema(mp), \
            profile(base / "cluster") as cluster:
        for key, value in cluster.env.items():
            if key.startswith("AWS_"):
                mp.setenv(key, value)
        _generate(local)  # into the benefits database of this module's schema too
        s3root = f"s3a://{cluster.env['LAKEHOUSE_S3_BUCKET']}/lakehouse"
        upload_inbox(local, s3root)
        common = {**os.environ, "LAKEHOUSE_PSEUDONYM_KEY": KEY, "LAKEHOUSE_ROLE": "steward",
                  "LAKEHOUSE_LOCK_WAIT_SECONDS": "600"}
        on_disk = {**common, "LAKEHOUSE_ROOT": str(local)}
        on_s3 = {**common, **{k: cluster.env[k] for k in CLUSTER_SETTINGS},
                 "LAKEHOUSE_ROOT": s3root, "LAKEHOUSE_SOURCES_DIR": str(local / "sources")}
        racers = _done(_start(on_s3, "run", "--all"), _start(on_disk, "run", "--all"))[:1]
        _done(_start(on_s3, "publish", "--all"), _start(on_disk, "publish", "--all"))
        yield {"local": str(local), "s3": s3root, "racers": racers, "env": on_s3,
               "applications": _applications(cluster)}


def _rows(uri: str, prefix: str | None = None) -> list[tuple[Any, ...]]:
    """The rows of a table, sorted; without the columns starting with ``prefix`` (a silver
    table's lineage columns: batch, file, row of the delivery)."""
    from deltalake import DeltaTable

    table = DeltaTable(uri).to_pyarrow_table()
    if prefix:
        table = table.select([c for c in table.column_names if not c.startswith(prefix)])
    return sorted(tuple(r.values()) for r in table.to_pylist())


def test_gold_and_open_data_equal_the_local_run(roots: dict[str, Any]) -> None:
    """Every published table holds the same rows, the pseudonyms included; the case lists
    are not empty (the anomalies were raised), and the open-data files are the same bytes."""
    for zone, table in DATASETS:
        s3_rows = _rows(f"{roots['s3']}/{zone}/{table}")
        assert s3_rows == _rows(f"{roots['local']}/{zone}/{table}"), (zone, table)
        assert s3_rows or table == "dual_enrollment", (zone, table)
    from audit.objects import folder

    files = "opendata/files/insured_by_county_age_sex"
    local = Path(roots["local"]) / files
    pointer = json.loads((local / "latest.json").read_text("utf-8"))
    remote = folder(f"{roots['s3']}/{files}/{pointer['folder']}")
    names = sorted(p.name for p in (local / str(pointer["folder"])).iterdir())
    assert names and remote.names() == names
    for name in names:
        assert _same(name, remote.get(name) or b"",
                     (local / str(pointer["folder"]) / name).read_bytes()), name


def _same(name: str, ours: bytes, theirs: bytes) -> bool:
    """Two export files say the same: the same bytes (CSV, data dictionary); the same rows
    (Parquet: Spark's writer is not byte-reproducible); the same manifest but for what differs
    by run (the run, the time, the audit head, the Parquet file's digest)."""
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        return bool(pq.read_table(io.BytesIO(ours)).equals(pq.read_table(io.BytesIO(theirs))))
    if name == "manifest.json":
        def stable(data: bytes) -> Any:
            doc = json.loads(data)
            files = [f if not f["name"].endswith(".parquet") else f["name"] for f in doc["files"]]
            meta = {k: doc["metadata"].get(k) for k in ("snapshot_date", "key_id")}
            return doc["dataset"], doc["version"], doc["rows"], files, meta

        return bool(stable(ours) == stable(theirs))
    return ours == theirs


def test_each_batch_landed_once_and_every_check_holds(roots: dict[str, Any]) -> None:
    """The two racing drivers landed no batch twice; the delivered files' batches are the local
    run's (a pull's batch is named by what it fetched: compared by the entity's rows); the
    raced feed was written by one driver only; every entity holds the
    local run's rows; every reconciliation check holds, and the files' checks equal the local
    ones."""
    from deltalake import DeltaTable

    def landed(root: str) -> list[tuple[str, str]]:
        rows = DeltaTable(f"{root}/system/deliveries").to_pyarrow_table().to_pylist()
        return sorted((r["feed"], r["batch_id"]) for r in rows if r["status"] == "landed")

    def checks(root: str) -> list[tuple[Any, ...]]:
        rows = DeltaTable(f"{root}/system/reconciliation").to_pyarrow_table().to_pylist()
        assert rows and all(r["holds"] for r in rows)
        return sorted({(r["feed"], r["batch_id"], r["check"], r["expected"], r["actual"])
                       for r in rows if r["feed"] in FILE_FEEDS})

    on_s3 = landed(roots["s3"])
    assert len(on_s3) == len(set(on_s3))
    assert [b for b in on_s3 if b[0] in FILE_FEEDS] == \
        [b for b in landed(roots["local"]) if b[0] in FILE_FEEDS] and len(on_s3) >= 6
    assert checks(roots["s3"]) == checks(roots["local"])
    assert f"✓ {RACED} bronze: " in roots["racers"][0]
    for feed in contracts.feeds():
        entity = feed.entity
        assert _rows(f"{roots['s3']}/silver/{entity}", prefix="_") == \
            _rows(f"{roots['local']}/silver/{entity}", prefix="_"), entity


def test_the_run_records_live_on_the_object_store(roots: dict[str, Any]) -> None:
    """The audit log verifies as objects and reaches every published version's anchor, the
    lineage holds the local run's jobs, the quality reports are objects, no lock is left."""
    from audit.objects import folder
    from lineage.emit import event_lines

    s3 = roots["s3"]
    done = subprocess.run([sys.executable, "-m", "cli.main", "audit", "verify"], cwd=REPO,
                          env=roots["env"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "audit log ok" in done.stdout, done.stdout + done.stderr
    assert f"anchors checked: {len(DATASETS)}" in done.stdout

    def jobs(root: str) -> set[tuple[str, str]]:
        events = [json.loads(line) for line in event_lines(root)]
        return {(e["job"]["name"], e["eventType"]) for e in events}

    assert jobs(roots["local"]) and jobs(roots["local"]) <= jobs(s3)
    assert "index.html" in folder(f"{s3}/system/reports/quality").names()
    assert folder(f"{s3}/system/locks").names() == []
    assert not (REPO / "s3a:").exists()


def test_the_buckets_drivers_ran_on_the_standalone_master(roots: dict[str, Any]) -> None:
    """The run and the publish on the bucket were applications of the profile's master (not
    ``local`` mode), and both ended."""
    apps = roots["applications"]
    assert [(a.get("name"), a.get("state")) for a in apps] == \
        [("convergence-lakehouse", "FINISHED")] * 2, apps
