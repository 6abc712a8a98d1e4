"""One publishing DAG per dataset contract, triggered by the Assets of its inputs.

Wiring only: the task calls ``stages.tasks.publish_dataset``, which passes every gate
(quality, reconciliation, no personal data) before one atomic Delta commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Asset, task

from kernel import contracts


def _publish_dag(dc: contracts.DatasetContract) -> DAG:
    inputs = [contracts.feed(name).entity for name in dc.inputs]
    with DAG(
        dag_id=f"publish.{dc.table}",
        description=dc.title,
        doc_md=f"**{dc.title}**\n\n{dc.description}\n\nContract: `{dc.path}` "
        f"(version {dc.version}); audience: {', '.join(dc.audience)}",
        schedule=[Asset(name=f"silver.{e}", uri=f"lakehouse://silver/{e}") for e in inputs],
        start_date=datetime(2024, 1, 1),
        catchup=False,
        max_active_runs=1,
        tags=["publish", dc.zone],
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
            from airflow.sdk.exceptions import AirflowFailException

            from stages.tasks import (
                TAIPEI,
                StageFailed,
                airflow_parent,
                publish_dataset,
                raise_for_problems,
            )

            snapshot = context["dag_run"].run_after.astimezone(TAIPEI).date()
            summary = publish_dataset(dc.name, context["run_id"], snapshot,
                                      (context["dag"].dag_id, "publish"), airflow_parent(context))
            try:
                raise_for_problems([summary])
            except StageFailed as exc:  # a refused gate is not transient: do not retry
                raise AirflowFailException(str(exc)) from None
            return summary

        publish()
    return dag


for _dc in contracts.datasets():
    globals()[_dc.name.replace(".", "__")] = _publish_dag(_dc)
