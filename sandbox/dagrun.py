"""Run several DAGs through Airflow in one process: ``python -m sandbox.dagrun DAG_ID …``.

Each DAG runs with ``dag.test()``, Airflow's own local runner (what ``airflow dags test`` calls),
on the configured metadata database. Running them in one process lets the tasks share one Spark
session instead of starting a JVM per DAG, which is what makes ``make demo`` quick on a laptop.

Output: before each DAG a line ``DAGRUN <dag_id>``, after it ``DAGRUN-END <dag_id> <state>``;
everything Airflow and the tasks log goes in between. Exit code 0 when every run succeeded.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def run(dag_ids: Sequence[str]) -> dict[str, str]:
    """Run each DAG once, in order; returns the final state per DAG id."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag()
    if bag.import_errors:
        for path, error in bag.import_errors.items():
            print(f"DAG import error in {path}: {error.splitlines()[-1]}", flush=True)
    states: dict[str, str] = {}
    for dag_id in dag_ids:
        dag = bag.get_dag(dag_id)
        print(f"DAGRUN {dag_id}", flush=True)
        if dag is None:
            states[dag_id] = "unknown"
        else:
            try:
                dr = dag.test()
                states[dag_id] = str(getattr(dr, "state", "failed"))
            except Exception as exc:  # one line, the run goes on with the next DAG
                print(f"dag.test failed: {type(exc).__name__}: {exc}", flush=True)
                states[dag_id] = "failed"
        print(f"DAGRUN-END {dag_id} {states[dag_id]}", flush=True)
    return states


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    dag_ids = list(sys.argv[1:] if argv is None else argv)
    if not dag_ids:
        print("usage: python -m sandbox.dagrun DAG_ID [DAG_ID …]", file=sys.stderr)
        return 2
    states = run(dag_ids)
    return 0 if all(s == "success" for s in states.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
