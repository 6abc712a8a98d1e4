"""``sandbox.celeryrun`` (``lakehouse demo --executor celery``): reading the profile's settings
and the tasks' log files. Triggering and following DAG runs needs the profile's Airflow: that is
``make cluster-demo`` (docs/cluster.md, run by hand: eleven DAG runs through the Celery worker)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from sandbox.celeryrun import (
    AIRFLOW_ENV_FILE,
    FAIL_MARKER,
    _Follower,
    cluster_airflow_env,
    log_event,
    read_env_file,
)


def test_the_env_file_reads_back_what_the_shell_wrote(tmp_path: Path) -> None:
    """``infra/cluster.sh`` writes ``export NAME=value`` with ``printf %q``: spaces, quotes and
    JSON survive, comments and other lines are skipped."""
    values = {"A": "plain", "B": "with space", "C": "it's", "D": '{"k": "v"}', "E": ""}
    script = "".join(f"printf 'export %s=%q\\n' {n} {json.dumps(v)};" for n, v in values.items())
    text = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                          check=True).stdout
    path = tmp_path / "env"
    path.write_text("# a comment\n" + text + "echo not an export\n", encoding="utf-8")
    assert read_env_file(path) == values


def test_without_the_profiles_airflow_it_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="make cluster-up"):
        cluster_airflow_env({})
    with pytest.raises(RuntimeError, match="CLUSTER_AIRFLOW=1"):
        cluster_airflow_env({AIRFLOW_ENV_FILE: str(tmp_path / "missing")})
    airflow = tmp_path / "airflow.env"
    airflow.write_text("export AIRFLOW__CORE__EXECUTOR=CeleryExecutor\n", encoding="utf-8")
    env = cluster_airflow_env({AIRFLOW_ENV_FILE: str(airflow), "KEEP": "1"})
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor" and env["KEEP"] == "1"


def test_a_task_log_line_gives_its_logger_event_and_failure() -> None:
    line = json.dumps({"event": "Task failed", "logger": "task",
                       "error_detail": [{"exc_type": "AirflowFailException",
                                         "exc_value": "moi.household_registry: refused"}]})
    logger, event = log_event(line)
    assert logger == "task"
    assert event.splitlines() == ["Task failed",
                                  f"{FAIL_MARKER}moi.household_registry: refused"]
    assert log_event("plain text\n") == ("", "plain text\n")
    assert log_event("{not json") == ("", "{not json")


def test_the_follower_reads_each_task_logs_new_lines_once(tmp_path: Path) -> None:
    run = tmp_path / "logs" / "dag_id=d" / "run_id=r"
    first = run / "task_id=land" / "attempt=1.log"
    first.parent.mkdir(parents=True)
    first.write_text("one\n", encoding="utf-8")
    follower = _Follower({"AIRFLOW_HOME": str(tmp_path)}, "d", "r")
    assert follower.new_lines() == ["one\n"]
    assert follower.new_lines() == []
    with first.open("a", encoding="utf-8") as f:
        f.write("two\n")
    second = run / "task_id=silver" / "attempt=1.log"
    second.parent.mkdir(parents=True)
    second.write_text("three\n", encoding="utf-8")
    assert follower.new_lines() == ["two\n", "three\n"]
