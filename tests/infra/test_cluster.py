"""The cluster profile (docs/cluster.md), for real: ``infra/cluster.sh`` starts a Spark
standalone cluster, versitygw with a bucket and Redis on free loopback ports in a throw-away run
folder; a Spark driver on ``spark://…`` (the project's :func:`kernel.spark.session`, configured
from the profile's env file alone) writes a Delta table to ``s3a://``, MERGEs into it and reads
it back; ``deltalake`` reads the same table from the store and appends to it; ``down`` leaves no
process behind.

The driver runs in a subprocess (this module run with ``python -m``): a process has one Spark
session and its master cannot change, and the test run's shared session (tests/conftest.py) is
``local[1]``.

Airflow, the profile's fifth part (the Celery executor, its metadata on PostgreSQL), is left out
here (``CLUSTER_AIRFLOW=0``): ``make cluster-demo`` runs it with the DAGs (docs/cluster.md).

Skipped only when the profile is not set up (``make cluster-setup``: versitygw, redis-server,
the s3a jars); everything else that fails here is a failure.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster import PORTS, S3A_JARS, Cluster, profile

REPO = Path(__file__).resolve().parents[2]
TABLE = "tests/people"
SCHEMA = "id long, name string, amount long"
FIRST = [(1, "a", 10), (2, "b", 20), (3, "c", 30)]
CHANGES = [(2, "B", 21), (4, "d", 40)]
MERGED = [(1, "a", 10), (2, "B", 21), (3, "c", 30), (4, "d", 40)]


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def descendants(pids: set[int]) -> set[int]:
    """``pids`` and every process below them (executors, Python workers)."""
    parent: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parent[int(stat.parent.name)] = int(fields[1])
    found = set(pids)
    grew = True
    while grew:
        below = {pid for pid, ppid in parent.items() if ppid in found} - found
        found |= below
        grew = bool(below)
    return found


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The profile on free ports in a throw-away run folder; stopped and purged after."""
    with profile(tmp_path_factory.mktemp("cluster") / "run") as running:
        yield running


def test_up_answers_writes_the_env_file_and_is_idempotent(cluster: Cluster) -> None:
    env = cluster.env
    ports = cluster.script_env
    assert env["SPARK_MASTER"] == f"spark://127.0.0.1:{ports['CLUSTER_SPARK_PORT']}"
    assert env["LAKEHOUSE_ROOT"] == "s3a://lakehouse/demo"
    assert env["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{ports['CLUSTER_S3_PORT']}"
    assert env["AWS_ACCESS_KEY_ID"] == "cluster-test"
    assert env["AWS_SECRET_ACCESS_KEY"] == ports["LAKEHOUSE_S3_SECRET_KEY"]
    assert env["LAKEHOUSE_EXTRA_JARS_DIR"] == str(S3A_JARS)
    assert env["LAKEHOUSE_REDIS_URL"] == f"redis://127.0.0.1:{ports['CLUSTER_REDIS_PORT']}/0"
    assert (cluster.folder / "env").stat().st_mode & 0o077 == 0  # it holds the keys

    status = cluster.script("status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.count(" up (pid ") == 4, status.stdout
    assert "airflow       off (CLUSTER_AIRFLOW=0)" in status.stdout, status.stdout
    assert env["CLUSTER_AIRFLOW"] == "0"

    before = cluster.pids()
    again = cluster.script("up")
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("already running") == 4, again.stdout
    assert cluster.pids() == before

    # Redis answers as a broker would use it.
    redis = subprocess.run(["redis-cli", "-p", ports["CLUSTER_REDIS_PORT"], "ping"],
                           capture_output=True, text=True, timeout=10, check=False)
    assert redis.stdout.strip() == "PONG"


def test_delta_on_s3a_from_the_cluster_then_deltalake(cluster: Cluster) -> None:
    env = {**os.environ, **cluster.env, "LAKEHOUSE_DRIVER_MEMORY": "1g"}
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "tests.infra.test_cluster", TABLE], env=env,
                         cwd=REPO, text=True,
                         capture_output=True, timeout=600, check=False)
    seconds = time.monotonic() - started
    assert run.returncode == 0, f"the Spark driver failed:\n{run.stdout}\n{run.stderr[-4000:]}"
    result = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"cluster up {cluster.up_seconds:.1f}s; Spark driver {seconds:.1f}s: {result['seconds']}")

    # Spark ran on the standalone cluster, its executor on the project's interpreter, within the
    # profile's limits (spark-defaults.conf of the run folder).
    assert result["master"] == cluster.env["SPARK_MASTER"]
    assert result["executors"] == 1
    assert result["executor_python"] == [sys.executable]
    assert result["cores_max"] == "1"
    assert [tuple(r) for r in result["written"]] == FIRST
    assert [tuple(r) for r in result["merged"]] == MERGED
    assert result["operations"][:2] == ["WRITE", "MERGE"]

    # The table is on the object store (the server's data folder), not on a local path.
    bucket = cluster.env["LAKEHOUSE_S3_BUCKET"]
    prefix = cluster.env["LAKEHOUSE_S3_PREFIX"]
    log = cluster.folder / "s3" / "data" / bucket / prefix / TABLE / "_delta_log"
    assert sorted(p.name for p in log.glob("*.json")) == [
        "00000000000000000000.json", "00000000000000000001.json"]

    # deltalake reads the same table through the S3 API, with the storage options of
    # docs/cluster.md, and appends to it by conditional put.
    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake

    uri = f"s3://{bucket}/{prefix}/{TABLE}"
    options = {
        "AWS_ENDPOINT_URL": cluster.env["AWS_ENDPOINT_URL"],
        "AWS_ALLOW_HTTP": "true",
        "AWS_FORCE_PATH_STYLE": "true",
        "AWS_ACCESS_KEY_ID": cluster.env["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": cluster.env["AWS_SECRET_ACCESS_KEY"],
        "AWS_REGION": cluster.env["AWS_REGION"],
        "conditional_put": "etag",
    }
    table = DeltaTable(uri, storage_options=options)
    assert table.version() == 1
    rows = table.to_pyarrow_table().sort_by("id").to_pylist()
    assert [(r["id"], r["name"], r["amount"]) for r in rows] == MERGED

    extra = pa.table({"id": pa.array([5], pa.int64()), "name": ["e"],
                      "amount": pa.array([50], pa.int64())})
    write_deltalake(uri, extra, mode="append", storage_options=options)
    table = DeltaTable(uri, storage_options=options)
    assert table.version() == 2
    rows = table.to_pyarrow_table().sort_by("id").to_pylist()
    assert [(r["id"], r["name"], r["amount"]) for r in rows] == [*MERGED, (5, "e", 50)]


def test_down_stops_every_process_and_closes_every_port(cluster: Cluster) -> None:
    daemons = cluster.pids()
    assert len(daemons) == 4, daemons
    processes = descendants(set(daemons.values()))
    ports = [int(cluster.script_env[k]) for k in PORTS]

    down = cluster.script("down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert down.stdout.count(" stopped (pid ") == 4, down.stdout

    deadline = time.monotonic() + 20
    while any(alive(p) for p in processes) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [p for p in processes if alive(p)] == []
    for port in ports:
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers"

    status = cluster.script("status")
    assert status.returncode != 0
    assert status.stdout.count(" down") == 4, status.stdout
    again = cluster.script("down")
    assert again.returncode == 0 and again.stdout.count("not running") == 4, again.stdout


def drive(table: str) -> dict[str, Any]:
    """The Spark driver (run as a script): the profile's env file is its whole configuration."""
    from delta.tables import DeltaTable

    from kernel.config import Settings
    from kernel.spark import session

    settings = Settings.from_env()
    path = f"{settings.root}/{table}"
    marks: dict[str, float] = {}
    t0 = time.monotonic()
    spark = session(settings, app_name="cluster-test", shuffle_partitions=1)
    marks["session"] = time.monotonic() - t0
    try:
        sc = spark.sparkContext
        pythons = sc.parallelize(range(2), 2).map(lambda _: sys.executable).distinct().collect()
        executors = sc._jsc.sc().getExecutorMemoryStatus().size() - 1  # less the driver
        marks["executor"] = time.monotonic() - t0

        spark.createDataFrame(FIRST, SCHEMA).write.format("delta").mode("overwrite").save(path)
        written = spark.read.format("delta").load(path).orderBy("id").collect()
        marks["write"] = time.monotonic() - t0

        changes = spark.createDataFrame(CHANGES, SCHEMA)
        (DeltaTable.forPath(spark, path).alias("t")
         .merge(changes.alias("s"), "t.id = s.id")
         .whenMatchedUpdateAll().whenNotMatchedInsertAll().execute())
        merged = spark.read.format("delta").load(path).orderBy("id").collect()
        history = DeltaTable.forPath(spark, path).history().orderBy("version").collect()
        marks["merge"] = time.monotonic() - t0
        return {
            "master": sc.master,
            "executors": executors,
            "executor_python": pythons,
            "cores_max": spark.conf.get("spark.cores.max", None),
            "written": [list(r) for r in written],
            "merged": [list(r) for r in merged],
            "operations": [r["operation"] for r in history],
            "seconds": {k: round(v, 1) for k, v in marks.items()},
        }
    finally:
        spark.stop()


if __name__ == "__main__":
    print(json.dumps(drive(sys.argv[1])))
