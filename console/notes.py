"""A failed run explains itself: its note in the Airflow UI is the problem lines its tasks
failed with (one per refused delivery, failed gate or refused publish, as ``lakehouse run``
prints them).

An Airflow listener (registered by :class:`console.plugin.LakehouseConsole`): when a DAG run
fails, the scheduler (or ``dag.test()``) calls :func:`on_dag_run_failed` with the run; the
lines the failing tasks left in XCom under :data:`kernel.errors.PROBLEMS_XCOM_KEY`
(:func:`stages.tasks.fail_on_problems`) become the run's note, unless a person already wrote
one. The lines name feed, file and reason: never a value from the data.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from airflow.listeners import hookimpl

from kernel.errors import PROBLEMS_XCOM_KEY

log = logging.getLogger(__name__)
MAX_NOTE = 1000
"""The note's length limit (Airflow's ``dag_run_note.content`` holds 1,000 characters)."""


def _lines(value: Any) -> list[str]:
    """The problem lines of one XCom value (a JSON list of strings, maybe still encoded)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def problem_note(session: Any, dag_run_id: int) -> str | None:
    """The note of DAG run ``dag_run_id`` (its database id): every problem line its tasks
    left, in task order, once each, cut at :data:`MAX_NOTE`; ``None`` when they left none."""
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    rows = session.execute(
        select(XComModel.task_id, XComModel.value)
        .where(XComModel.dag_run_id == dag_run_id, XComModel.key == PROBLEMS_XCOM_KEY)
        .order_by(XComModel.task_id)).all()
    lines = list(dict.fromkeys(line for _, value in rows for line in _lines(value)))
    if not lines:
        return None
    text = "\n".join(lines)
    return text if len(text) <= MAX_NOTE else text[:MAX_NOTE - 1] + "…"


def _set_note(session: Any, dag_run: Any) -> None:
    """Write the problems of ``dag_run`` (attached to ``session``) in its note, unless a
    person already wrote one."""
    if dag_run.note:
        return
    note = problem_note(session, dag_run.id)
    if note:
        dag_run.note = note
        log.info("note of %s %s: %d problem line(s)", dag_run.dag_id, dag_run.run_id,
                 note.count("\n") + 1)


@hookimpl
def on_dag_run_failed(dag_run: Any, msg: str) -> None:
    """Set the failed run's note to its problem lines: in the caller's session when the run
    is attached to one (the scheduler's), else in a session of its own (``dag.test()``)."""
    from sqlalchemy.orm import object_session

    session = object_session(dag_run)
    if session is not None:
        _set_note(session, dag_run)
        return
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as own:
        attached = own.get(DagRun, dag_run.id)
        if attached is not None:
            _set_note(own, attached)
