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
    started, finished, step = demo._dag_reporter(2, steps.append)
    started("moi.household_registry")
    assert steps == ["Airflow: DAG moi.household_registry (dag.test, 1/2)…"]
    step("moi.household_registry bronze: 2 batch(es), 4,000 rows")
    assert steps[-1] == "Airflow 1/2: moi.household_registry bronze: 2 batch(es), 4,000 rows"
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


def test_a_tasks_progress_line_is_read_from_the_runners_output() -> None:
    """The text after the marker, the log's decoration (logger, location) dropped."""
    from stages.tasks import PROGRESS_MARKER

    line = (f"2026-12-05T21:20:24.003944Z [info     ] {PROGRESS_MARKER}moi.household_registry "
            "bronze: 1 batch(es), 61 rows [lakehouse] loc=tasks.py:70\n")
    assert demo.progress_text(line) == "moi.household_registry bronze: 1 batch(es), 61 rows"
    assert demo.progress_text(f"{PROGRESS_MARKER}gold.person_coverage publish…") == (
        "gold.person_coverage publish…")
    assert demo.progress_text("2026-12-05T21:20:24Z [info     ] Task started") is None


def test_progress_is_a_line_per_step_when_not_on_a_terminal(
        capsys: pytest.CaptureFixture[str]) -> None:
    with demo._progress("running the DAGs through Airflow…") as update:
        update("Airflow: DAG moi.household_registry (dag.test, 1/6)…")
    assert capsys.readouterr().out.splitlines() == [
        "… running the DAGs through Airflow…",
        "… Airflow: DAG moi.household_registry (dag.test, 1/6)…"]


def test_the_summary_is_a_row_per_feed_within_80_columns() -> None:
    """Feeds as rows, counts in the millions included, in 78 columns; the legend fits too; the
    resent and refused files are told under the table, only for the feeds that had some."""
    from rich.console import Console

    from sandbox.demo import SUMMARY_LEGEND, FeedSummary, file_notes, summary_table

    rows = [FeedSummary("moi.household_registry", 3, 1, 0, 3125, 12, 4, 3001),
            FeedSummary("bli.labor_pension_contributions", 3, 0, 1, 1012873, 55, 17, 2977),
            FeedSummary("nhia.insured_status", 1, 0, 0, 120456, 3, 0, 1099999)]  # fmt: skip
    console = Console(width=80, record=True, highlight=False)
    console.print(summary_table(rows))
    assert [line.rstrip() for line in console.export_text().splitlines()] == [
        "What the demo did, per feed",
        "feed                             files    records  quarant.  dupl.     entity",
        "─" * 78,
        "moi.household_registry               3      3,125        12      4      3,001",
        "bli.labor_pension_contributions      3  1,012,873        55     17      2,977",
        "nhia.insured_status                  1    120,456         3      0  1,099,999",
    ]
    assert len(SUMMARY_LEGEND) <= 80
    assert file_notes(rows) == [
        "moi.household_registry: 1 file(s) resent, not ingested again",
        "bli.labor_pension_contributions: 1 file(s) refused",
    ]


def test_the_summary_counts_the_run_records(ctx, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The demo's closing summary, from the run records as a run leaves them: files by status,
    and the silver counts of each batch's latest silver record (a batch redone counts once)."""
    feed = "moi.household_registry"
    ctx.records.append("deliveries", [
        {"feed": feed, "batch_id": b, "status": s, "at": ctx.now}
        for b, s in (("b1", "landed"), ("b2", "landed"), ("b1", "duplicate"), ("b3", "refused"))])
    silver = {"feed": feed, "stage": "silver", "status": "ok", "at": ctx.now}
    ctx.records.append("batches", [
        {**silver, "batch_id": "b1", "rows_in": 100, "quarantined": 9, "duplicates": 9},
        {**silver, "batch_id": "b2", "rows_in": 50, "quarantined": 2, "duplicates": 1}])
    ctx.records.append("batches", [{**silver, "batch_id": "b1", "rows_in": 100, "quarantined": 3,
                                    "duplicates": 0, "at": ctx.now + timedelta(hours=1)}])
    monkeypatch.setattr(demo, "_console", lambda: __import__("rich.console").console.Console(
        width=200, highlight=False))
    demo._summary(Settings.from_env({"LAKEHOUSE_ROOT": ctx.storage.root}))
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith(feed))
    assert line.split()[1:] == ["2", "150", "5", "1", "0"]
