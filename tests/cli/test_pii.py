"""``lakehouse reidentify``, ``scan-pii`` and ``eval-pii``: refusals in their own words and
order, before Spark starts (no Spark session in these tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main
from kernel.config import MIN_KEY_LENGTH, REPO_ROOT

PERSON_KEY = "0123456789abcdef" * 4
KEY = "reidentify-cli-test-key-0123456789abcdef"
ROLE_REFUSAL = ("✗ refused: re-identification is a steward's action; role 'analyst' may not "
                "re-identify")


@pytest.fixture
def env(root: str, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A storage root; no role, no user, no key (a new user's shell)."""
    monkeypatch.setenv("LAKEHOUSE_ROOT", root)
    for name in ("LAKEHOUSE_ROLE", "LAKEHOUSE_USER", "LAKEHOUSE_PSEUDONYM_KEY",
                 "LAKEHOUSE_PSEUDONYM_KEY_ID", "LAKEHOUSE_PSEUDONYM_KEY_CONN",
                 "AIRFLOW_CONN_LAKEHOUSE_PSEUDONYM_KEY", "AIRFLOW_CTX_DAG_ID"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _refusal(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run ``lakehouse reidentify …``; its one stderr line (exit status 2, nothing on stdout)."""
    assert main(["reidentify", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    return err.rstrip("\n")


@pytest.mark.parametrize("role", [None, "analyst", " Analyst "])
@pytest.mark.parametrize("key", [None, "short", KEY])
def test_an_analyst_is_refused_for_the_role_whatever_the_key(
        env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], role: str | None,
        key: str | None) -> None:
    if role is not None:
        env.setenv("LAKEHOUSE_ROLE", role)
    if key is not None:
        env.setenv("LAKEHOUSE_PSEUDONYM_KEY", key)
    assert _refusal(capsys, PERSON_KEY, "--reason", "case 2024-117") == ROLE_REFUSAL
    # ... and whatever the rest of the request: the role comes first.
    assert _refusal(capsys, "not-a-key", "--reason", "A123456789") == ROLE_REFUSAL


def test_an_unknown_role_is_refused_as_such(env: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    env.setenv("LAKEHOUSE_ROLE", "admin")
    assert _refusal(capsys, PERSON_KEY, "--reason", "case 2024-117") == (
        "✗ refused: LAKEHOUSE_ROLE='admin' is not a role of the lakehouse (one of analyst, "
        "steward, auditor)")


def test_a_steward_without_a_key_is_told_re_identification_needs_it(
        env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    env.setenv("LAKEHOUSE_ROLE", "steward")
    line = _refusal(capsys, PERSON_KEY, "--reason", "case 2024-117")
    assert line.startswith("✗ refusing to re-identify: no pseudonymisation key "
                           "(LAKEHOUSE_PSEUDONYM_KEY is not set")
    assert "refusing to publish" not in line
    env.setenv("LAKEHOUSE_PSEUDONYM_KEY", "short")
    assert _refusal(capsys, PERSON_KEY, "--reason", "case 2024-117") == (
        "✗ refusing to re-identify: the pseudonymisation key in LAKEHOUSE_PSEUDONYM_KEY is too "
        f"short (5 characters; at least {MIN_KEY_LENGTH} are required).")


def test_a_steward_s_malformed_request_is_refused_before_the_key(
        env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    env.setenv("LAKEHOUSE_ROLE", "steward")  # and no key: the request is refused first
    assert _refusal(capsys, PERSON_KEY.upper(), "--reason", "case 2024-117") == (
        "✗ refused: a person_key is 64 lowercase hexadecimal digits")
    assert _refusal(capsys, PERSON_KEY, "--reason", "  ") == (
        "✗ refused: re-identification needs a reason (--reason)")
    line = _refusal(capsys, PERSON_KEY, "--reason", "called by A123456789")
    assert line.startswith("✗ refused: the reason holds what looks like a national ID")
    assert "A123456789" not in line


def test_a_refused_re_identification_starts_no_spark(tmp_path: Path) -> None:
    """As a new user runs it: its own process, which never imports pyspark."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LAKEHOUSE_ROLE", "LAKEHOUSE_PSEUDONYM"))}
    env["LAKEHOUSE_ROOT"] = str(tmp_path)
    for role in ("analyst", "steward"):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "cli.main", "reidentify", PERSON_KEY,
             "--reason", "case 2024-117"], cwd=REPO_ROOT, env={**env, "LAKEHOUSE_ROLE": role},
            capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 2, done.stderr[-2000:]
        imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines()
                    if line.startswith("import time:")}
        assert not {m for m in imported if m.split(".")[0] in ("pyspark", "py4j", "airflow")}
        assert "kernel.spark" not in imported and "kernel.context" not in imported
        (refusal,) = [line for line in done.stderr.splitlines() if line.startswith("✗")]
        if role == "analyst":
            assert refusal == ROLE_REFUSAL
        else:
            assert refusal.startswith("✗ refusing to re-identify: no pseudonymisation key")


def test_scan_pii_of_a_missing_path_is_refused_before_spark(
        env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nothing-here"
    assert main(["scan-pii", str(missing)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"✗ scan-pii: {missing}: no such table, file or folder\n"


def test_eval_pii_lists_the_misses_and_fails_a_missed_target(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labelled = tmp_path / "one.jsonl"
    record = {"id": 7, "text": "本案已結案", "split": "holdout",
              "spans": [{"start": 0, "end": 2, "entity": "PERSON"}]}
    labelled.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["eval-pii", str(labelled), "--errors"]) == 1
    out = capsys.readouterr().out
    assert "one.jsonl: all (1 texts)" in out and "one.jsonl: holdout (1 texts)" in out
    assert "FN #7 PERSON '本案' in '本案已結案'" in out
    assert "targets missed (all): PERSON" in out and "targets missed (holdout): PERSON" in out
    assert "all targets met" not in out


def test_eval_pii_reports_both_sets_the_independent_one_first(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Without a PATH: the independent set (the headline) then the original one, each whole and
    holdout; a target missed on either set fails the command."""
    from masking import evaluate as ev

    good, bad = tmp_path / "independent.jsonl", tmp_path / "remarks.jsonl"
    ok = {"id": 1, "text": "受款人王小明來電", "split": "holdout",
          "spans": [{"start": 3, "end": 6, "entity": "PERSON"}]}
    missed = {"id": 2, "text": "本案已結案", "split": "train",
              "spans": [{"start": 0, "end": 2, "entity": "PERSON"}]}
    good.write_text(json.dumps(ok, ensure_ascii=False) + "\n", encoding="utf-8")
    bad.write_text(json.dumps(missed, ensure_ascii=False) + "\n", encoding="utf-8")
    monkeypatch.setattr(ev, "shipped_sets", lambda: [good, bad])
    assert main(["eval-pii"]) == 1
    out = capsys.readouterr().out
    order = [out.index(t) for t in ("independent.jsonl: all", "independent.jsonl: holdout",
                                    "remarks.jsonl: all", "remarks.jsonl: holdout")]
    assert order == sorted(order)
    assert "remarks.jsonl: targets missed (all): PERSON" in out
    assert "independent.jsonl: targets missed" not in out and "all targets met" not in out
    monkeypatch.setattr(ev, "shipped_sets", lambda: [good])
    assert main(["eval-pii"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("all targets met")
