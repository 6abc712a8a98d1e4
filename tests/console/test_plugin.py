"""Airflow loads the console from the package's entry point: its app under ``/lakehouse`` and
its views where the UI shows them, as Airflow's own plugins endpoint reports them."""

from __future__ import annotations

from tests.console.conftest import Airflow


def test_airflow_reports_the_console_and_its_views(airflow: Airflow) -> None:
    answer = airflow.get("/api/v2/plugins", "admin")
    assert answer.status_code == 200
    (plugin,) = [p for p in answer.json()["plugins"] if p["name"] == "lakehouse_console"]
    assert [(a["name"], a["url_prefix"]) for a in plugin["fastapi_apps"]] == [
        ("Lakehouse console", "/lakehouse")]
    assert [(v["name"], v["destination"], v["href"]) for v in plugin["external_views"]] == [
        ("Lakehouse", "nav", "lakehouse/"),
        ("Quality report", "dag_run", "lakehouse/runs/{DAG_ID}/{RUN_ID}/quality"),
        ("Lineage report", "dag_run", "lakehouse/runs/{DAG_ID}/{RUN_ID}/lineage"),
        ("Quarantine", "dag", "lakehouse/feeds/{DAG_ID}/quarantine"),
    ]
    assert plugin["listeners"] == ["console.notes"]
    assert "convergence-lakehouse" in plugin["source"]


def test_the_mounted_app_is_not_open_to_anyone(airflow: Airflow) -> None:
    """Airflow does not protect a plugin's app: the console does, on every route."""
    assert airflow.get("/lakehouse/").status_code == 401
    assert airflow.get("/lakehouse/quality/index.html").status_code == 401
