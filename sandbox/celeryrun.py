"""The demo's DAG runs on the cluster profile's Airflow (``lakehouse demo --executor celery``).

``infra/cluster.sh up`` runs Airflow with the Celery executor (scheduler, dag-processor,
api-server, a Celery worker; the metadata on PostgreSQL, Redis as the broker) and writes its
settings to the file named by ``LAKEHOUSE_AIRFLOW_ENV`` in ``.cluster/env``. Here each DAG is
triggered there (``airflow dags trigger``), one after the other as :func:`sandbox.demo.run_dags`
runs them, and followed in the metadata database until it ends: its tasks' states (and the
Celery worker that ran each) and, from the tasks' log files, their progress lines and reasons of
failure. The scheduler starts no run of its own (``use_job_schedule`` is off in the profile):
two runs at once would be two Spark drivers on the shared run-record tables.
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FAIL_MARKER = "AirflowFailException: "
"""What a lakehouse task's failure looks like in Airflow's output; the reason follows it."""
AIRFLOW_ENV_FILE = "LAKEHOUSE_AIRFLOW_ENV"
"""The setting naming the profile's Airflow settings file (``.cluster/airflow/env``)."""
FINAL_STATES = ("success", "failed")


def read_env_file(path: Path) -> dict[str, str]:
    """The ``export NAME=value`` lines of a shell env file (values quoted by ``printf %q``)."""
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, value = words[1].split("=", 1)
            out[name] = value
    return out


def cluster_airflow_env(base: dict[str, str]) -> dict[str, str]:
    """``base`` with the profile's Airflow settings on top; a clear error when the profile
    has no Airflow (``make cluster-up``, ``source .cluster/env``)."""
    name = base.get(AIRFLOW_ENV_FILE)
    if not name or not Path(name).is_file():
        raise RuntimeError(f"{AIRFLOW_ENV_FILE} does not name the cluster profile's Airflow "
                           "settings: run 'make cluster-up' and 'source .cluster/env' "
                           "(with CLUSTER_AIRFLOW=1)")
    return {**base, **read_env_file(Path(name))}


def _connect(env: dict[str, str]) -> Any:
    """A connection to the profile's metadata database (autocommit: every poll sees now)."""
    import psycopg

    url = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("postgresql+psycopg://",
                                                             "postgresql://", 1)
    return psycopg.connect(url, autocommit=True, connect_timeout=10)


def wait_for_dags(conn: Any, dag_ids: Sequence[str], timeout: float = 300) -> list[str]:
    """Wait until the dag-processor has serialised every DAG; returns those still missing."""
    deadline = time.monotonic() + timeout
    while True:
        rows = conn.execute("SELECT DISTINCT dag_id FROM serialized_dag WHERE dag_id = ANY(%s)",
                            (list(dag_ids),)).fetchall()
        missing = sorted(set(dag_ids) - {r[0] for r in rows})
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(2)


def unfinished_runs(conn: Any, dag_ids: Sequence[str]) -> list[tuple[str, str, str]]:
    """The runs of ``dag_ids`` still queued or running in the metadata database, as
    ``(dag_id, run_id, state)``: an interrupted demo's run, which the scheduler would resume
    alongside (and with the settings of) a new one."""
    rows = conn.execute("SELECT dag_id, run_id, state FROM dag_run WHERE dag_id = ANY(%s) "
                        "AND state IN ('queued', 'running') ORDER BY dag_id, run_id",
                        (list(dag_ids),)).fetchall()
    return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]


def _task_logs(env: dict[str, str], dag_id: str, run_id: str) -> list[Path]:
    """The log files of a run's task attempts (Airflow's default log layout)."""
    folder = Path(env["AIRFLOW_HOME"]) / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
    return sorted(folder.glob("task_id=*/attempt=*.log")) if folder.is_dir() else []


class _Follower:
    """Reads a run's task logs as they grow: progress lines and failure reasons."""

    def __init__(self, env: dict[str, str], dag_id: str, run_id: str) -> None:
        self.env, self.dag_id, self.run_id = env, dag_id, run_id
        self.offsets: dict[Path, int] = {}
        self.problems: list[str] = []

    def new_lines(self) -> list[str]:
        """The lines written to the run's task logs since the last call."""
        out: list[str] = []
        for path in _task_logs(self.env, self.dag_id, self.run_id):
            with path.open(encoding="utf-8", errors="replace") as f:
                f.seek(self.offsets.get(path, 0))
                out.extend(f.readlines())
                self.offsets[path] = f.tell()
        return out


def log_event(line: str) -> tuple[str, str]:
    """A task log line's logger and text: Airflow 3 writes JSON lines (``event``, ``logger``,
    a failure's ``error_detail``, given here as ``<exc_type>: <exc_value>``); any other line is
    its own text."""
    if line.startswith("{"):
        try:
            obj = json.loads(line)
        except ValueError:
            return "", line
        if isinstance(obj, dict):
            errors = [f"{e.get('exc_type')}: {e.get('exc_value')}"
                      for e in obj.get("error_detail") or [] if isinstance(e, dict)]
            return str(obj.get("logger", "")), "\n".join([str(obj.get("event", "")), *errors])
    return "", line


def _poll(conn: Any, dag_id: str, run_id: str) -> tuple[str, list[tuple[str, str, str]]]:
    """The run's state and its tasks' (task_id, state, hostname)."""
    row = conn.execute("SELECT state FROM dag_run WHERE dag_id = %s AND run_id = %s",
                       (dag_id, run_id)).fetchone()
    tis = conn.execute("SELECT task_id, coalesce(state, 'none'), coalesce(hostname, '') "
                       "FROM task_instance WHERE dag_id = %s AND run_id = %s ORDER BY task_id",
                       (dag_id, run_id)).fetchall()
    return (row[0] if row else "missing"), [tuple(t) for t in tis]


def follow_run(conn: Any, env: dict[str, str], dag_id: str, run_id: str,
               step: Callable[[str], object] | None, timeout: float) -> tuple[str, list[str]]:
    """Poll a triggered run until it ends (or ``timeout`` seconds); its state and problems.
    ``step`` gets each task's change of state (with the Celery worker's host) and each
    progress line of the tasks."""
    from stages.tasks import PROGRESS_MARKER

    follower = _Follower(env, dag_id, run_id)
    seen: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    state = "queued"
    while True:
        state, tis = _poll(conn, dag_id, run_id)
        for task_id, ti_state, host in tis:
            if seen.get(task_id) != ti_state:
                seen[task_id] = ti_state
                if step and ti_state != "none":
                    step(f"{dag_id}.{task_id}: {ti_state}" + (f" on {host}" if host else ""))
        for line in follower.new_lines():
            logger, event = log_event(line)
            if FAIL_MARKER in event:
                follower.problems.append(event.split(FAIL_MARKER, 1)[1].strip())
            elif step and logger != "lakehouse" and PROGRESS_MARKER in event:
                # the task's stdout copy of its progress line, once
                step(event.split(PROGRESS_MARKER, 1)[1].strip())
        if state in FINAL_STATES:
            return state, list(dict.fromkeys(follower.problems))
        if time.monotonic() > deadline:
            return f"timed out ({state})", list(dict.fromkeys(follower.problems))
        time.sleep(3)


def _trigger(airflow: str, dag_id: str, run_id: str, env: dict[str, str], log: Path) -> int:
    """``airflow dags trigger``, its output appended to ``log``; its exit code."""
    import subprocess

    args = ["dags", "trigger", dag_id, "--run-id", run_id]
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ airflow {' '.join(args)}\n")
        out.flush()
        return subprocess.call([airflow, *args], env=env, stdout=out, stderr=subprocess.STDOUT)


def run_dags_celery(dag_ids: Sequence[str], env: dict[str, str], log: Path,
                    progress: Callable[[str], object] | None = None,
                    finished: Callable[[str, str, list[str]], object] | None = None,
                    step: Callable[[str], object] | None = None,
                    timeout: float = 3600) -> dict[str, tuple[str, list[str]]]:
    """Trigger each DAG on the profile's Airflow and wait for it to end before the next (the
    same order and callbacks as :func:`sandbox.demo.run_dags`); per DAG its final state and
    the problems its tasks reported. ``airflow dags trigger``'s output goes to ``log``.
    Refused (``RuntimeError``, nothing triggered) while an earlier demo's run of one of these
    DAGs is unfinished (:func:`unfinished_runs`)."""
    import sys

    airflow = str(Path(sys.executable).parent / "airflow")
    out: dict[str, tuple[str, list[str]]] = {d: ("not run", []) for d in dag_ids}
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    with _connect(env) as conn:
        left = unfinished_runs(conn, dag_ids)
        if left:
            runs = ", ".join(f"{d} {r} ({s})" for d, r, s in left)
            raise RuntimeError(
                f"the cluster's Airflow has unfinished runs of an earlier demo: {runs}; let them "
                f"end, or mark them failed in the Airflow UI ({env.get('AIRFLOW__API__BASE_URL')})"
                ", then run the demo again")
        missing = wait_for_dags(conn, dag_ids)
        for dag_id in dag_ids:
            if progress:
                progress(dag_id)
            run_id = f"demo__{stamp}__{dag_id}"
            if dag_id in missing:
                out[dag_id] = ("unknown (not parsed by the dag-processor)", [])
            elif _trigger(airflow, dag_id, run_id, env, log) != 0:
                out[dag_id] = ("trigger failed", [])
            else:
                out[dag_id] = follow_run(conn, env, dag_id, run_id, step, timeout)
            if finished:
                finished(dag_id, *out[dag_id])
    return out
