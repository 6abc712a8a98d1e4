"""One ingestion DAG per feed contract (DAG id = feed name): land -> bronze -> silver -> check.

Wiring only: the tasks call ``stages.tasks`` (Spark is imported when a task runs, not
when this file is parsed); the documentation, tags and owner come from the contract
(:mod:`kernel.contracts.docs`). The silver task updates the feed's silver entity, an Airflow
Asset that triggers the publishing DAGs of the datasets built from it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Asset, task

from kernel import contracts
from kernel.contracts import docs


def silver_asset(entity: str) -> Asset:
    """The Asset of a silver entity (``silver.moi.residents``)."""
    return Asset(name=f"silver.{entity}", uri=f"lakehouse://silver/{entity}")


def _feed_dag(contract: contracts.FeedContract) -> DAG:
    feed = contract.name
    with DAG(
        dag_id=feed,
        description=contract.title,
        doc_md=docs.feed_doc_md(contract),
        schedule=contract.schedule,
        start_date=datetime(2024, 1, 1),
        catchup=False,
        max_active_runs=1,
        tags=docs.feed_tags(contract),
        default_args={
            "owner": contract.owner.get("steward", "data-steward"),
            "retries": 2,
            "retry_delay": timedelta(minutes=2),
        },
    ) as dag:

        @task(task_id="land")
        def land(**context: Any) -> dict[str, Any]:
            from stages.tasks import airflow_parent, run_stage

            return run_stage(feed, "land", context["run_id"], (feed, "land"),
                             airflow_parent(context))

        @task(task_id="bronze")
        def bronze(_: Any, **context: Any) -> dict[str, Any]:
            from stages.tasks import airflow_parent, run_stage

            return run_stage(feed, "bronze", context["run_id"], (feed, "bronze"),
                             airflow_parent(context))

        @task(task_id="silver", outlets=[silver_asset(contract.entity)])
        def silver(_: Any, **context: Any) -> dict[str, Any]:
            from stages.tasks import airflow_parent, run_stage

            return run_stage(feed, "silver", context["run_id"], (feed, "silver"),
                             airflow_parent(context))

        @task(task_id="check", retries=0, trigger_rule="all_done")
        def check(*summaries: Any, **context: Any) -> None:
            """Write the run's quality report; fail the run, one line per problem (the first
            lines of the task's log, and the run's note), if any delivery was refused or failed
            a gate."""
            from stages.tasks import announce_problems, fail_on_problems, write_quality_report

            lines = announce_problems([s for s in summaries if s])
            write_quality_report(context["run_id"])
            fail_on_problems(context, lines)

        landed = land()
        bronzed = bronze(landed)
        silvered = silver(bronzed)
        check(landed, bronzed, silvered)
    return dag


for _contract in contracts.feeds():
    globals()[_contract.name.replace(".", "__")] = _feed_dag(_contract)
