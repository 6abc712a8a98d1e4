"""The Airflow plugin of the stewards' console (entry point ``airflow.plugins``:
``lakehouse_console = console.plugin:LakehouseConsole``).

It mounts the console's app (:func:`console.app.create_app`) under ``/lakehouse`` and adds its
pages to the Airflow UI as external views (iframes; Airflow fills in ``{DAG_ID}`` and
``{RUN_ID}``): "Lakehouse" in the navigation, "Quality report" and "Lineage report" on every DAG
run, "Quarantine" on every DAG (a publishing DAG's says it has none). The app checks Airflow's
authentication itself: Airflow does not protect a plugin's app. Its listener writes a failed
run's problem lines in the run's note (:mod:`console.notes`).
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/lakehouse"
"""Where Airflow's API server mounts the console's app."""
_PREFIX = URL_PREFIX.lstrip("/")  # external views' hrefs are relative to the UI's base URL

EXTERNAL_VIEWS: list[dict[str, Any]] = [
    {"name": "Lakehouse", "href": f"{_PREFIX}/", "destination": "nav",
     "url_route": "lakehouse", "nav_top_level": True},
    {"name": "Quality report", "href": f"{_PREFIX}/runs/{{DAG_ID}}/{{RUN_ID}}/quality",
     "destination": "dag_run", "url_route": "lakehouse-quality"},
    {"name": "Lineage report", "href": f"{_PREFIX}/runs/{{DAG_ID}}/{{RUN_ID}}/lineage",
     "destination": "dag_run", "url_route": "lakehouse-lineage"},
    {"name": "Quarantine", "href": f"{_PREFIX}/feeds/{{DAG_ID}}/quarantine",
     "destination": "dag", "url_route": "lakehouse-quarantine"},
]
"""The console's pages in the Airflow UI."""


def _apps() -> list[dict[str, Any]]:
    from console.app import create_app

    return [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Lakehouse console"}]


def _listeners() -> list[Any]:
    from console import notes

    return [notes]


class LakehouseConsole(AirflowPlugin):
    """The stewards' console: its app, its views, and the listener that writes a failed
    run's problems in its note (:mod:`console.notes`)."""

    name = "lakehouse_console"
    fastapi_apps = _apps()
    external_views = EXTERNAL_VIEWS
    listeners = _listeners()
