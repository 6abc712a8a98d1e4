"""``lakehouse generate`` (a small population into a temporary root) and its refusals; the
demo itself runs in tests/test_end_to_end.py (its runner: tests/sandbox/test_demo.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main

FEED = "moi.household_registry"


@pytest.fixture
def env(root: str, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("LAKEHOUSE_ROOT", root)
    return monkeypatch


def test_generate_writes_one_feed(env: pytest.MonkeyPatch, root: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--persons", "5", "--days", "1", "--start", "2024-11-01",
                 "--feed", FEED]) == 0
    out = capsys.readouterr().out
    assert out.startswith("✓ 5 persons, 1 day(s) from 2024-11-01, seed 42") and FEED in out
    delivered = sorted(p.name for p in (Path(root) / "inbox").rglob("*") if p.is_file())
    assert delivered == ["MOI_HHR_20241101.csv", "MOI_HHR_20241101.csv.sha256"]


def test_generate_refuses_what_it_cannot_do(env: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--feed", "no.such"]) == 2
    assert capsys.readouterr().err.startswith(
        f"✗ --feed: unknown feed(s) no.such; known feeds: {FEED}")
    assert main(["generate", "--rate", "typo=0.5"]) == 2
    assert capsys.readouterr().err.startswith("✗ --rate: expected <issue>=<rate>")
    env.setenv("LAKEHOUSE_ROOT", "s3a://bucket/lakehouse")
    assert main(["generate"]) == 2
    assert capsys.readouterr().err == (
        "✗ generate writes to a local storage root only (LAKEHOUSE_ROOT is a URI)\n")
    with pytest.raises(SystemExit):
        main(["generate", "--start", "1 Nov"])
    assert "argument --start: '1 Nov' is not a date (YYYY-MM-DD)" in capsys.readouterr().err


def test_an_unexpected_failure_is_one_line(env: pytest.MonkeyPatch, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    env.setenv("LAKEHOUSE_ROOT", str(blocker / "lakehouse"))
    env.delenv("LAKEHOUSE_DEBUG", raising=False)
    assert main(["generate", "--persons", "2", "--days", "1", "--feed", FEED]) == 1
    out, err = capsys.readouterr()
    assert err.startswith("✗ generate failed: NotADirectoryError: ") and err.count("\n") == 1
    assert "Traceback" not in out + err
