"""A failed run explains itself: run through Airflow (``dag.test()``, the scheduler's code
path), a task that fails with problem lines (:func:`stages.tasks.fail_on_problems`) leaves
them, and the console's listener makes them the run's note; a run that fails otherwise gets
no note."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

LINES = ["moi.household_registry: MOI_HHR_20241201.csv: gate.max_quarantine_share: 43 of 61 "
         "rows quarantined (70.5% > 20.0%)",
         "moi.household_registry: notes.txt: file name does not match MOI_HHR_(?P<file_date>"
         r"\d{8})\.csv"]


DAG_FILE = """
import datetime as dt
from typing import Any

from airflow.sdk import DAG, task

for dag_id, lines in {"console_notes_problems": LINES, "console_notes_other": None}.items():
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2024, 1, 1), catchup=False) as dag:

        @task(task_id="check", retries=0)
        def check(lines: Any = lines, **context: Any) -> None:
            from stages.tasks import announce_problems, fail_on_problems

            if lines is None:
                raise RuntimeError("an ordinary failure")
            fail_on_problems(context, announce_problems([{"problems": lines}]))

        check()
    globals()[dag_id] = dag
"""
"""Two one-task DAGs: one fails with problem lines, the other with an ordinary error."""


@pytest.fixture(scope="module")
def dags(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The test's DAGs in a DAG bundle of their own (``dag.test()`` runs a DAG of a bundle),
    on the test process's Airflow database, migrated."""
    import json

    from airflow.configuration import conf
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils.db import initdb

    folder = tmp_path_factory.mktemp("console-dags")
    (folder / "notes_dags.py").write_text(f"LINES = {LINES!r}\n" + DAG_FILE, encoding="utf-8")
    saved = conf.get("dag_processor", "dag_bundle_config_list")
    conf.set("dag_processor", "dag_bundle_config_list", json.dumps([{
        "name": "console-tests", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
        "kwargs": {"path": str(folder), "refresh_interval": 0}}]))
    initdb()
    try:
        yield DagBag(dag_folder=str(folder)).dags
    finally:
        conf.set("dag_processor", "dag_bundle_config_list", saved)


def _run(dags: dict[str, Any], dag_id: str) -> tuple[str, str | None]:
    """Run DAG ``dag_id`` with ``dag.test()``; its state and note, re-read from the
    database."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    run_id = dags[dag_id].test().run_id
    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id,
                                                  DagRun.run_id == run_id))
        return str(run.state), run.note


def test_a_failed_run_has_its_problem_lines_as_its_note(dags: dict[str, Any],
                                                        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="lakehouse"):
        state, note = _run(dags, "console_notes_problems")
    assert state == "failed"
    assert note == "\n".join(LINES)
    logged = [r.getMessage() for r in caplog.records if r.name == "lakehouse"]
    assert logged[:2] == LINES


def test_a_run_failing_otherwise_gets_no_note(dags: dict[str, Any]) -> None:
    state, note = _run(dags, "console_notes_other")
    assert state == "failed"
    assert note is None


def test_a_long_note_is_cut_to_what_airflow_keeps() -> None:
    from console.notes import MAX_NOTE, _lines

    assert _lines('["a", "b"]') == ["a", "b"] and _lines(["c"]) == ["c"]
    assert MAX_NOTE == 1000
