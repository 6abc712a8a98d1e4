"""Every DAG imports without errors, is generated from a contract, and carries tags, owner
and retries; parsing the DAG folder imports no Spark."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kernel import contracts

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS), safe_mode=False)


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_one_dag_per_contract(dagbag):
    expected = {c.name for c in contracts.feeds()}
    expected |= {f"publish.{d.table}" for d in contracts.datasets()}
    assert set(dagbag.dag_ids) == expected


def test_tags_owner_retries(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, dag_id
        for t in dag.tasks:
            assert t.owner and t.owner != "airflow", (dag_id, t.task_id)
            if t.task_id != "check" and t.task_id != "publish":
                assert t.retries >= 1, (dag_id, t.task_id)


def test_docs_and_tags_come_from_the_contracts(dagbag):
    from kernel.contracts import docs

    for fc in contracts.feeds():
        dag = dagbag.dags[fc.name]
        assert dag.doc_md == docs.feed_doc_md(fc)
        assert set(dag.tags) == set(docs.feed_tags(fc))
    for dc in contracts.datasets():
        dag = dagbag.dags[f"publish.{dc.table}"]
        assert dag.doc_md == docs.dataset_doc_md(dc)
        assert f"zone:{dc.zone}" in dag.tags
        assert {f"agency:{contracts.feed(i).agency}" for i in dc.inputs} <= set(dag.tags)


def test_feed_dag_shape_and_assets(dagbag):
    for fc in contracts.feeds():
        dag = dagbag.dags[fc.name]
        assert [t.task_id for t in dag.topological_sort()] == ["land", "bronze", "silver", "check"]
        assert dag.schedule == fc.schedule
        outlets = dag.get_task("silver").outlets
        assert [a.name for a in outlets] == [f"silver.{fc.entity}"]


def test_publish_dags_are_triggered_by_their_inputs(dagbag):
    for dc in contracts.datasets():
        dag = dagbag.dags[f"publish.{dc.table}"]
        wanted = {f"silver.{contracts.feed(i).entity}" for i in dc.inputs}
        names = {a.name for a in dag.timetable.asset_condition.objects}
        assert names == wanted


def test_parsing_imports_no_spark():
    code = (
        "import sys, runpy; "
        f"runpy.run_path({str(DAGS / 'feeds.py')!r}); "
        f"runpy.run_path({str(DAGS / 'publish.py')!r}); "
        "bad = [m for m in ('pyspark', 'great_expectations', 'presidio_analyzer', 'delta') "
        "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
