"""The tasks' progress lines: in the task's log always, on the process's own standard output
when a runner asks for them (``make demo``, whose Airflow logs at WARNING)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from stages.tasks import PROGRESS_MARKER, PROGRESS_STDOUT_ENV, progress


def test_a_progress_line_is_logged_and_written_to_stdout_when_asked(
        capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.INFO, logger="lakehouse")
    monkeypatch.delenv(PROGRESS_STDOUT_ENV, raising=False)
    progress("moi.household_registry bronze: 1 batch(es), 61 rows")
    assert capfd.readouterr().out == ""
    monkeypatch.setenv(PROGRESS_STDOUT_ENV, "1")
    progress("moi.household_registry silver…")
    assert capfd.readouterr().out == f"{PROGRESS_MARKER}moi.household_registry silver…\n"
    assert [r.getMessage() for r in caplog.records] == [
        f"{PROGRESS_MARKER}moi.household_registry bronze: 1 batch(es), 61 rows",
        f"{PROGRESS_MARKER}moi.household_registry silver…"]


def test_the_demo_asks_for_the_progress_lines(tmp_path: Path) -> None:
    from kernel.config import Settings
    from sandbox.demo import airflow_env

    env = airflow_env(Settings.from_env({"LAKEHOUSE_ROOT": str(tmp_path / "lake")}))
    assert env[PROGRESS_STDOUT_ENV] == "1"
