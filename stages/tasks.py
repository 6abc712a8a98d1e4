"""The functions Airflow tasks and the command line call: one stage, one feed, one dataset.

Each returns a JSON-serialisable summary (for XCom). Heavy imports (Spark) happen inside the
functions, never when a DAG file is parsed.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import date
from typing import Any

from kernel.errors import PROBLEMS_XCOM_KEY
from kernel.twid import TAIPEI as TAIPEI  # re-exported: the DAGs and the CLI use them here
from kernel.twid import today as today

PROGRESS_MARKER = "lakehouse progress: "
"""What starts a progress line in a task's log (which feed or dataset, which stage, rows so
far): ``make demo`` shows them as its tasks run (its runner reads them from the output)."""


PROGRESS_STDOUT_ENV = "LAKEHOUSE_PROGRESS_STDOUT"
"""Set to ``1`` by a runner that reads the progress from the process's own standard output
(``make demo``'s runner sets it in the embedded Airflow's environment): Airflow's logging
level there is WARNING and a task's log goes to Airflow's handlers, so the log line alone would
not reach it."""


def progress(text: str) -> None:
    """Log one progress line (``lakehouse progress: <text>``) at INFO: names and counts only;
    with :data:`PROGRESS_STDOUT_ENV` set, also write it to the process's own standard output."""
    logging.getLogger("lakehouse").info("%s%s", PROGRESS_MARKER, text)
    stream = sys.__stdout__
    if os.environ.get(PROGRESS_STDOUT_ENV) == "1" and stream is not None:
        stream.write(f"{PROGRESS_MARKER}{text}\n")
        stream.flush()


def airflow_parent(context: Any) -> tuple[str, str] | None:
    """(namespace, run id) the Airflow OpenLineage provider gives the running task instance,
    so that our job's events name exactly the provider's task run as their parent; ``None``
    when the provider is not installed."""
    try:
        from airflow.providers.openlineage.plugins.macros import (
            lineage_job_namespace,
            lineage_run_id,
        )
    except ImportError:
        return None
    return str(lineage_job_namespace()), str(lineage_run_id(context["ti"]))


def _context(run_id: str | None, airflow_task: tuple[str, str] | None,
             parent: tuple[str, str] | None = None) -> Any:
    """The job run's context; under Airflow, its lineage parent is the task (dag, task)."""
    from kernel.context import Context

    ctx = Context.create(run_id)
    if airflow_task and run_id:
        import os

        from lineage.events import ParentRef, lineage_run_id

        name = ".".join(airflow_task)
        if parent is not None:
            ctx.parent = ParentRef(parent[0], name, parent[1])
        else:
            ns = os.environ.get("AIRFLOW__OPENLINEAGE__NAMESPACE", "airflow")
            ctx.parent = ParentRef(ns, name, lineage_run_id(run_id, ns, name))
        ctx.actor = os.environ.get("LAKEHOUSE_USER") or f"airflow:{name}"
    return ctx


def run_stage(
    feed: str, stage: str, run_id: str | None = None,
    airflow_task: tuple[str, str] | None = None, parent: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Run one stage (land, bronze or silver) of a feed; returns its summary. A progress line
    is logged as it starts and as it ends (:func:`progress`)."""
    from kernel import contracts
    from stages import feed as feed_stages

    ctx = _context(run_id, airflow_task, parent)
    progress(f"{feed} {stage}…")
    result = feed_stages.run_stage(ctx, contracts.feed(feed), stage)
    progress(f"{feed} {stage}: {result.batches} batch(es), {result.rows:,} rows")
    return dict(result.as_dict())


def publish_dataset(
    name: str, run_id: str | None = None, snapshot_date: date | None = None,
    airflow_task: tuple[str, str] | None = None, parent: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Publish one dataset; returns its summary (status published, up_to_date or refused). A
    progress line is logged as it starts and as it ends (:func:`progress`)."""
    from kernel import contracts
    from stages.publish import publish

    ctx = _context(run_id, airflow_task, parent)
    progress(f"{name} publish: building the candidate and passing its gates…")
    result = publish(ctx, contracts.dataset(name), snapshot_date or today())
    version = "" if result.version is None else f" version {result.version},"
    progress(f"{name} publish: {result.status},{version} {result.rows:,} rows")
    return dict(result.as_dict())


def write_quality_report(run_id: str) -> str | None:
    """Write the steward's HTML quality report of a run (and the index); returns its path
    (an object's URI on an object store)."""
    from kernel.config import Settings
    from quality.report import write_index, write_run_report

    settings = Settings.from_env()
    page = write_run_report(settings.root, run_id)
    write_index(settings.root)
    return str(page)


def announce_problems(summaries: list[dict[str, Any]]) -> list[str]:
    """The problem lines of the summaries (as ``lakehouse run`` prints them), each logged at
    once as an error: called first in a task, they are the first lines of its log."""
    lines = [p for s in summaries if s for p in s.get("problems", [])]
    for line in lines:
        logging.getLogger("lakehouse").error("%s", line)
    return lines


def fail_on_problems(context: Any, lines: list[str]) -> None:
    """Fail the Airflow task with ``lines`` (one per problem; nothing when there are none),
    not retried: a refusal is not transient. The lines are left in XCom
    (:data:`~kernel.errors.PROBLEMS_XCOM_KEY`) for the run's note."""
    if not lines:
        return
    from airflow.sdk.exceptions import AirflowFailException

    context["ti"].xcom_push(key=PROBLEMS_XCOM_KEY, value=lines)
    raise AirflowFailException("\n".join(lines))
