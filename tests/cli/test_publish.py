"""``lakehouse publish``: names and dates checked before Spark starts; the key's refusal keeps
publishing's own words (the publish itself is tested in tests/stages/test_pipeline.py)."""

from __future__ import annotations

import pytest

from cli.main import main
from masking.keys import REIDENTIFY, MissingKeyError, PseudonymKey

DATASET = "gold.person_coverage"


@pytest.fixture
def env(root: str, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("LAKEHOUSE_ROOT", root)
    return monkeypatch


def _one_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    return err.rstrip("\n")


def test_a_dataset_or_all(env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert _one_line(capsys, ["publish"]) == "✗ name a dataset or give --all"
    assert _one_line(capsys, ["publish", DATASET, "--all"]) == (
        "✗ name a dataset or give --all, not both")


def test_an_unknown_dataset_is_refused_at_once(env: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    line = _one_line(capsys, ["publish", "gold.no_such"])
    assert line.startswith("✗ unknown dataset 'gold.no_such'; known datasets: ")
    assert DATASET in line


def test_a_snapshot_date_is_a_date(env: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["publish", DATASET, "--snapshot-date", "2024-13-01"])
    assert exited.value.code == 2
    assert ("argument --snapshot-date: '2024-13-01' is not a date (YYYY-MM-DD)"
            in capsys.readouterr().err)


def test_the_missing_key_names_the_action_it_refuses() -> None:
    with pytest.raises(MissingKeyError) as publishing:
        PseudonymKey.from_env({})
    assert str(publishing.value) == (
        "refusing to publish: no pseudonymisation key (LAKEHOUSE_PSEUDONYM_KEY is not set and "
        "no Airflow connection lakehouse_pseudonym_key holds one). Set it to a secret of at "
        "least 32 characters held outside the code and the data.")
    with pytest.raises(MissingKeyError) as reidentifying:
        PseudonymKey.from_env({"LAKEHOUSE_PSEUDONYM_KEY_CONN": "keys"}, action=REIDENTIFY)
    assert str(reidentifying.value).startswith(
        "refusing to re-identify: no pseudonymisation key (LAKEHOUSE_PSEUDONYM_KEY is not set "
        "and no Airflow connection keys holds one). Set it to the key the data was published "
        "with")
