"""The ``lakehouse`` parser: one module per command group, each declaring its commands once,
and building it imports nothing heavy."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from cli import main as cli_main
from kernel.config import REPO_ROOT

TREE = {
    "generate": None, "demo": None, "run": None,
    "quarantine": {"list", "show", "release"},
    "publish": None, "accept-change": None,
    "quality": {"report"}, "lineage": {"report"},
    "scan-pii": None, "eval-pii": None, "reidentify": None,
    "audit": {"verify", "exchanges"},
    "tables": None, "describe": None, "query": None,
    "serve": None,
}
HEAVY = ("pyspark", "py4j", "airflow", "great_expectations", "presidio_analyzer", "spacy",
         "deltalake", "duckdb", "pyarrow", "rich")


def _choices(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (sub,) = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_the_command_tree() -> None:
    commands = _choices(cli_main.parser())
    assert set(commands) == set(TREE)
    for name, actions in TREE.items():
        if actions is not None:
            assert set(_choices(commands[name])) == actions, name


def test_each_group_declares_its_own_commands_once() -> None:
    seen: dict[str, str] = {}
    for group in cli_main.GROUPS:
        p = argparse.ArgumentParser()
        group.add_parsers(p.add_subparsers(dest="command"))
        for name in _choices(p):
            assert name not in seen, f"{name} declared by {seen[name]} and {group.__name__}"
            seen[name] = group.__name__
    assert set(seen) == set(TREE)


def test_every_command_has_help_and_a_function(capsys: pytest.CaptureFixture[str]) -> None:
    for name, actions in TREE.items():
        for argv in ([name], *([name, a] for a in sorted(actions or ()))):
            if actions is not None and len(argv) == 1:
                continue
            with pytest.raises(SystemExit) as exited:
                cli_main.main([*argv, "--help"])
            assert exited.value.code == 0
            assert f"usage: lakehouse {' '.join(argv)}" in capsys.readouterr().out


def test_an_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli_main.main(["publsh", "gold.person_coverage"])
    assert exited.value.code == 2
    assert "invalid choice: 'publsh'" in capsys.readouterr().err


def test_building_the_parser_imports_nothing_heavy() -> None:
    script = ("import sys; import cli.main; cli.main.parser(); "
              f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))")
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
