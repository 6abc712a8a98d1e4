"""``lakehouse quality report`` and ``lakehouse lineage report`` on a root with nothing
published: clear lines, no traceback (the reports' content is tested in tests/quality and
tests/lineage)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main


@pytest.fixture
def env(root: str, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("LAKEHOUSE_ROOT", root)
    return monkeypatch


def test_lineage_report_of_an_unknown_or_unpublished_dataset(
        env: pytest.MonkeyPatch, root: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.html"
    assert main(["lineage", "report", "gold.no_such", "--out", str(out)]) == 2
    assert capsys.readouterr().err.startswith(
        "✗ lineage report: unknown dataset 'gold.no_such'; known datasets: ")
    assert main(["lineage", "report", "gold.person_coverage", "--out", str(out)]) == 1
    assert capsys.readouterr().err == (
        f"✗ lineage report: gold.person_coverage is not published (no Delta table under "
        f"{root})\n")
    assert not out.exists()


def test_lineage_report_needs_its_output_file(env: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["lineage", "report", "gold.person_coverage"])
    assert exited.value.code == 2
    assert "the following arguments are required: --out" in capsys.readouterr().err


def test_quality_report_of_a_root_without_runs(env: pytest.MonkeyPatch, root: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quality", "report"]) == 0
    index = Path(root) / "system" / "reports" / "quality" / "index.html"
    assert capsys.readouterr().out == f"0 run report(s); index: {index}\n"
    assert index.is_file()
