"""The size limits of the house rules, checked on the source: no module over 600 lines and no
function over 80 lines, in every package of the project and in the tests.

Contract of the check:

- a *module* is every ``*.py`` file under the packages of :data:`PACKAGES` (``__pycache__``
  aside); its size is its number of lines (``str.splitlines`` of the file's text), blank lines,
  comments and docstrings included;
- a *function* is every ``def`` and ``async def`` the module's ``ast`` holds, methods and
  nested functions included (a nested function counts in its enclosing function's size too);
  its size runs from its ``def`` line to its last line (``end_lineno``), decorators aside;
- data and labelled evaluation files are not code and are not checked: the paths matching
  :data:`DATA_FILES` (``fnmatch`` patterns on the path relative to the repository, where ``*``
  also crosses ``/``).

The failure message lists every offender on one line: ``path: module of N lines (max 600)``
or ``path:line: function qualified.name of N lines (max 80)``.
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("cli", "console", "services", "stages", "jobs", "pull", "quality", "masking", "lineage",
            "analytics", "kernel", "audit", "sandbox", "bench", "dags", "mutation",
            "tests")  # fmt: skip
"""The packages whose modules the rules apply to."""
DATA_FILES = ("masking/evalset/*", "tests/reliability/corpus/*", "*.jsonl")
"""Data and labelled evaluation files: not subject to the size limits."""
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


@dataclass(frozen=True)
class Offender:
    """A module or a function over its limit."""

    path: str
    line: int
    name: str
    """The function's qualified name (``Class.method``, ``outer.inner``); empty for a module."""
    lines: int

    def __str__(self) -> str:
        if not self.name:
            return f"{self.path}: module of {self.lines} lines (max {MAX_MODULE_LINES})"
        return (f"{self.path}:{self.line}: function {self.name} of {self.lines} lines "
                f"(max {MAX_FUNCTION_LINES})")


def is_data(rel: str) -> bool:
    """True when the repository-relative path ``rel`` is a data file (:data:`DATA_FILES`)."""
    return any(fnmatch.fnmatch(rel, pattern) for pattern in DATA_FILES)


def modules(repo: Path = REPO) -> list[Path]:
    """Every Python module of :data:`PACKAGES` under ``repo``, data files aside, sorted."""
    found: list[Path] = []
    for package in PACKAGES:
        for path in (repo / package).rglob("*.py"):
            rel = path.relative_to(repo).as_posix()
            if "__pycache__" not in path.parts and not is_data(rel):
                found.append(path)
    return sorted(found)


def functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.AST]]:
    """``(qualified name, node)`` of every function in ``tree``, nested ones included."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{node.name}"
            if not isinstance(node, ast.ClassDef):
                yield name, node
            yield from functions(node, f"{name}.")
        else:
            yield from functions(node, prefix)


def offenders(source: str, rel: str) -> list[Offender]:
    """The module ``rel`` (its text ``source``) and its functions over their limits."""
    out: list[Offender] = []
    size = len(source.splitlines())
    if size > MAX_MODULE_LINES:
        out.append(Offender(rel, 1, "", size))
    for name, node in functions(ast.parse(source, filename=rel)):
        assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        size = (node.end_lineno or node.lineno) - node.lineno + 1
        if size > MAX_FUNCTION_LINES:
            out.append(Offender(rel, node.lineno, name, size))
    return out


def _function(name: str, lines: int, indent: str = "") -> str:
    """The source of a function ``name`` of exactly ``lines`` lines (its ``def`` included)."""
    body = "".join(f"{indent}    x{i} = {i}\n" for i in range(lines - 1))
    return f"{indent}def {name}():\n{body}"


def test_the_checker_measures_modules_and_functions_precisely() -> None:
    assert offenders(_function("f", MAX_FUNCTION_LINES), "a.py") == []
    method = "class C:\n    @staticmethod\n" + _function("g", MAX_FUNCTION_LINES + 1, "    ")
    assert [str(o) for o in offenders(method, "b.py")] == [
        f"b.py:3: function C.g of {MAX_FUNCTION_LINES + 1} lines (max {MAX_FUNCTION_LINES})"]
    nested = "async def outer():\n" + _function("inner", MAX_FUNCTION_LINES, "    ")
    assert [(o.name, o.lines) for o in offenders(nested, "c.py")] == [
        ("outer", MAX_FUNCTION_LINES + 1)]
    assert offenders("\n" * MAX_MODULE_LINES, "d.py") == []
    assert [str(o) for o in offenders("x = 1\n" * (MAX_MODULE_LINES + 1), "e.py")] == [
        f"e.py: module of {MAX_MODULE_LINES + 1} lines (max {MAX_MODULE_LINES})"]


def test_the_checker_sees_every_package_and_skips_data_files() -> None:
    rels = {p.relative_to(REPO).as_posix() for p in modules()}
    assert {r.split("/", 1)[0] for r in rels} == set(PACKAGES)
    assert "tests/test_house_rules.py" in rels
    assert is_data("masking/evalset/build.py") and is_data("tests/reliability/corpus/a/b.py")
    assert is_data("x/remarks.jsonl") and not is_data("masking/evaluate.py")
    assert not any(is_data(r) for r in rels)


def test_no_module_over_600_lines_and_no_function_over_80() -> None:
    found = [o for path in modules() for o in offenders(
        path.read_text(encoding="utf-8"), path.relative_to(REPO).as_posix())]
    if found:
        pytest.fail(f"{len(found)} over the house rules' size limits:\n"
                    + "\n".join(str(o) for o in found), pytrace=False)
