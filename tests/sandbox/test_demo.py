"""The demo runner's parts that need no Airflow run: its Airflow environment, the first delivery
day, and the progress it shows (a line per DAG as it finishes). ``run_dags`` itself runs the
DAGs of tests/test_end_to_end.py."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from kernel.config import REPO_ROOT, Settings
from sandbox import demo
from stages.tasks import today


def test_airflow_env_points_at_the_project_and_the_root(root: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AIRFLOW__OPENLINEAGE__TRANSPORT", "OPENLINEAGE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AIRFLOW_HOME", str(Path(root) / "airflow"))
    env = demo.airflow_env(Settings.from_env({"LAKEHOUSE_ROOT": root}))
    assert env["AIRFLOW_HOME"] == str(Path(root) / "airflow")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(REPO_ROOT / "dags")
    assert env["LAKEHOUSE_ROOT"] == root and env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    transport = json.loads(env["AIRFLOW__OPENLINEAGE__TRANSPORT"])
    folder = Path(root) / "system" / "lineage" / "airflow"
    assert transport["log_file_path"] == str(folder / "events.jsonl") and folder.is_dir()


def test_the_last_daily_delivery_is_today() -> None:
    assert demo.default_start(1) == today()
    assert demo.default_start(3) == today() - timedelta(days=2)


def test_each_dag_s_line_is_printed_as_it_finishes(capsys: pytest.CaptureFixture[str]) -> None:
    steps: list[str] = []
    started, finished = demo._dag_reporter(2, steps.append)
    started("moi.household_registry")
    assert steps == ["Airflow: DAG moi.household_registry (dag.test, 1/2)…"]
    finished("moi.household_registry", "success", [])
    out, err = capsys.readouterr()
    assert out.startswith("✓ DAG moi.household_registry: success (") and out.endswith(" s)\n")
    assert err == ""
    started("publish.person_coverage")
    finished("publish.person_coverage", "failed", ["gold.person_coverage: -: leak gate [x]"])
    out, err = capsys.readouterr()
    assert out.startswith("✗ DAG publish.person_coverage: failed (")
    assert err == "  ✗ gold.person_coverage: -: leak gate [x]\n"  # brackets kept, not markup
    assert steps[-1] == "Airflow: DAG publish.person_coverage (dag.test, 2/2)…"


def test_progress_is_a_line_per_step_when_not_on_a_terminal(
        capsys: pytest.CaptureFixture[str]) -> None:
    with demo._progress("running the DAGs through Airflow…") as update:
        update("Airflow: DAG moi.household_registry (dag.test, 1/6)…")
    assert capsys.readouterr().out.splitlines() == [
        "… running the DAGs through Airflow…",
        "… Airflow: DAG moi.household_registry (dag.test, 1/6)…"]
