"""Shared fixtures: one Spark session for the whole test run (local[1], 1 shuffle partition)."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kernel.context import Context

# py4j logs at INFO while the interpreter shuts down, after pytest closed its streams.
logging.getLogger("py4j").setLevel(logging.WARNING)

# Airflow reads its home at import time: a throw-away one per test process (each xdist worker
# its own SQLite database), never ~/airflow nor the demo's .airflow.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="airflow-home-")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault(
    "AIRFLOW__CORE__DAGS_FOLDER", str(Path(__file__).resolve().parents[1] / "dags")
)

# The many short ``lakehouse`` processes the tests start (each its own Spark driver) spend less
# CPU without the JVM's C2 compiler (kernel.spark.DRIVER_JAVA_OPTIONS); the shared session below,
# alive for the whole run, keeps the default.
os.environ.setdefault("LAKEHOUSE_DRIVER_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
# Without Java code generation for each query (tests/spark/spark-defaults.conf): tiny data.
os.environ.setdefault("SPARK_CONF_DIR", str(Path(__file__).resolve().parent / "spark"))

# The slowest files first: with two xdist workers (``--dist loadfile``) they start at once and
# the many short files fill in around them, instead of one worker running a long file alone at
# the end. ``make test`` passes ``--no-loadscope-reorder``, without which xdist hands out files
# by number of tests (the one-test end-to-end file last). It prints the slowest tests
# (``--durations``) to keep this list honest.
SLOW_FIRST = (
    "tests/reliability/test_crash_safety.py",
    "tests/test_end_to_end.py",
    "tests/reliability/test_bad_input.py",
    "tests/bench/test_harness.py",
    "tests/reliability/test_idempotency.py",
    "tests/reliability/test_concurrency.py",
    "tests/stages/test_pipeline.py",
    "tests/cli/test_entry_point.py",
    "tests/quality/test_report.py",
    "tests/console/test_app.py",
    "tests/console/test_browser.py",
    "tests/test_object_store.py",
    "tests/infra/test_cluster.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run :data:`SLOW_FIRST` first, in that order; the rest keeps its order (stable sort)."""
    rank = {path: i for i, path in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """The one Spark session of the test run."""
    from kernel.config import Settings
    from kernel.spark import session

    env = {k: v for k, v in os.environ.items() if k != "LAKEHOUSE_DRIVER_JAVA_OPTIONS"}
    s = session(Settings.from_env(env), app_name="tests", master="local[1]", shuffle_partitions=1)
    yield s
    s.stop()


@pytest.fixture
def root(tmp_path: Path) -> str:
    """A temporary lakehouse storage root."""
    path = tmp_path / "lakehouse"
    path.mkdir()
    return str(path)


@pytest.fixture
def ctx(spark, root):  # type: ignore[no-untyped-def]
    """A job run on the shared Spark session, writing under a temporary root."""
    import datetime as dt

    from kernel.config import Settings
    from kernel.records import Records
    from kernel.storage import Storage

    storage = Storage(spark, root)
    return Context(
        settings=Settings.from_env({**os.environ, "LAKEHOUSE_ROOT": root}), storage=storage,
        records=Records(storage), run_id="test-run", now=dt.datetime(2024, 11, 5, 8, 0),
        actor="steward:test",
    )
