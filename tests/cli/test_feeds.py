"""``lakehouse run`` and ``lakehouse quarantine``: usage and refusals, in their order, before
Spark starts (no Spark session here; the runs themselves are tested in tests/stages and
tests/reliability)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main

FEED = "moi.household_registry"
RELEASE = ["quarantine", "release", FEED, "--batch", "MOI_HHR_20241101-x", "--reason", "fixed"]


@pytest.fixture
def env(root: str, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A storage root; no role set (an analyst)."""
    monkeypatch.setenv("LAKEHOUSE_ROOT", root)
    monkeypatch.delenv("LAKEHOUSE_ROLE", raising=False)
    return monkeypatch


def _one_line(capsys: pytest.CaptureFixture[str], argv: list[str], code: int = 2) -> str:
    assert main(argv) == code
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    return err.rstrip("\n")


@pytest.mark.parametrize("action", [["list"], ["show", "--rule", "national_id.check_digit"]])
def test_an_analyst_may_not_read_the_quarantine(env: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str],
                                                action: list[str]) -> None:
    line = _one_line(capsys, ["quarantine", action[0], FEED, *action[1:]])
    assert line == (f'✗ refused: role analyst may not read quarantine."{FEED}": zone quarantine '
                    "is read by stewards only")
    env.setenv("LAKEHOUSE_ROLE", "auditor")
    assert "role auditor may not read" in _one_line(capsys, ["quarantine", action[0], FEED])


def test_only_a_steward_releases_and_the_role_comes_first(env: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    expected = (f"✗ refused: role analyst may not release quarantined records of {FEED}: a "
                "release is a steward's action (LAKEHOUSE_ROLE=steward)")
    assert _one_line(capsys, [*RELEASE, "--rows", "17"]) == expected
    # whatever else is wrong with the request (no rows) or the feed (unknown)
    assert _one_line(capsys, RELEASE) == expected
    assert "role analyst may not read" in _one_line(capsys, ["quarantine", "list", "no.such"])
    env.setenv("LAKEHOUSE_ROLE", "admin")
    assert _one_line(capsys, ["quarantine", "list", FEED]).startswith(
        "✗ refused: LAKEHOUSE_ROLE='admin' is not a role of the lakehouse")


def test_a_steward_s_incomplete_release_is_refused_before_spark(
        env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env.setenv("LAKEHOUSE_ROLE", "steward")
    assert _one_line(capsys, RELEASE) == (
        f"✗ {FEED}: name the rows to release (--rows) or give corrections (--corrections)")
    missing = tmp_path / "fixes.csv"
    assert _one_line(capsys, [*RELEASE, "--corrections", str(missing)]) == (
        f"✗ {FEED}: no corrections file {missing}")
    assert _one_line(capsys, ["quarantine", "list", "no.such"]).startswith(
        "✗ unknown feed 'no.such'; known feeds: ")


def test_release_arguments_are_checked_by_the_parser(env: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    env.setenv("LAKEHOUSE_ROLE", "steward")
    for argv, message in (
            ([*RELEASE, "--rows", "17,x"], "argument --rows: '17,x' is not a list of row "
                                           "numbers (e.g. 17,42)"),
            (["quarantine", "release", FEED, "--rows", "17"],
             "the following arguments are required: --batch, --reason"),
            (["quarantine", "list", FEED, "--rows", "17"], "unrecognized arguments: --rows 17"),
            (["quarantine", "purge", FEED], "invalid choice: 'purge'")):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2
        assert message in capsys.readouterr().err


def test_run_names_a_feed_or_all(env: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert _one_line(capsys, ["run"]) == "✗ name a feed or give --all"
    assert _one_line(capsys, ["run", FEED, "--all"]) == "✗ name a feed or give --all, not both"
    assert _one_line(capsys, ["run", "no.such"]).startswith(
        "✗ unknown feed 'no.such'; known feeds: ")
