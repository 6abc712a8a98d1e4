"""One publishing DAG per dataset contract, triggered by the Assets of its inputs.

Wiring only: the task calls ``stages.tasks.publish_dataset``, which passes every gate
(quality, reconciliation, no personal data) before one atomic Delta commit. The documentation,
tags and owner come from the contract (:mod:`kernel.contracts.docs`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Asset, task

from kernel import contracts
from kernel.contracts import docs


def _publish_dag(dc: contracts.DatasetContract) -> DAG:
    inputs = [contracts.feed(name).entity for name in dc.inputs]
    with DAG(
        dag_id=f"publish.{dc.table}",
        description=dc.title,
        doc_md=docs.dataset_doc_md(dc),
        schedule=[Asset(name=f"silver.{e}", uri=f"lakehouse://silver/{e}") for e in inputs],
        start_date=datetime(2024, 1, 1),
        catchup=False,
        max_active_runs=1,
        tags=docs.dataset_tags(dc, [contracts.feed(name).agency for name in dc.inputs]),
        default_args={
            "owner": dc.owner.get("steward", "data-steward"),
            "retries": 1,
            "retry_delay": timedelta(minutes=2),
        },
    ) as dag:

        @task(
            task_id="publish",
            outlets=[Asset(name=dc.name, uri=f"lakehouse://{dc.zone}/{dc.table}")],
        )
        def publish(**context: Any) -> dict[str, Any]:
            from stages.tasks import (
                TAIPEI,
                airflow_parent,
                announce_problems,
                fail_on_problems,
                publish_dataset,
            )

            snapshot = context["dag_run"].run_after.astimezone(TAIPEI).date()
            summary = publish_dataset(dc.name, context["run_id"], snapshot,
                                      (context["dag"].dag_id, "publish"), airflow_parent(context))
            fail_on_problems(context, announce_problems([summary]))  # a refusal: not retried
            return summary

        publish()
    return dag


for _dc in contracts.datasets():
    globals()[_dc.name.replace(".", "__")] = _publish_dag(_dc)
