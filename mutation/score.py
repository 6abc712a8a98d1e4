"""The mutation score per module, from mutmut's results, as the Markdown committed under
``mutation/results/`` (development only: ``make mutation``; nothing in production imports it).

Contract:

- :func:`parse_results` reads the lines of ``mutmut results --all true`` (``    name: status``)
  into ``(module, status)`` pairs; a mutant's module is its name up to the function part
  (``audit.log.x_verify__mutmut_3`` and ``audit.log.xǁAuditLogǁappend__mutmut_1`` belong to
  ``audit.log``); lines of any other shape are ignored.
- A mutant is *killed* when a test failed (``killed``), hung (``timeout``) or crashed
  (``segfault``) on it; the score of a module is killed / all its mutants, so mutants no test
  covers (``no tests``), survivors and suspicious ones all count against it.
- ``python -m mutation.score --out FILE`` writes the table, the surviving mutants with their
  diffs (``mutmut show``) and the conditions of the run, prints the table, and exits 1 when a
  module scores below :data:`TARGET` (naming it), else 0.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

TARGET = 0.85
"""The least share of killed mutants each module must reach (issue 21)."""
KILLED = ("killed", "timeout", "segfault")
"""The statuses of a mutant some test detected."""
_LINE = re.compile(r"^\s*(?P<name>[\w.ǁ]+__mutmut_\d+): (?P<status>[a-z ]+)$")
_FUNCTION = re.compile(r"\.x[_ǁ]")


def module_of(name: str) -> str:
    """The dotted module of mutant ``name`` (the part before its ``.x_`` or ``.xǁ`` function)."""
    match = _FUNCTION.search(name)
    if match is None:
        raise ValueError(f"not a mutmut mutant name: {name!r}")
    return name[: match.start()]


def parse_results(lines: Iterable[str]) -> list[tuple[str, str, str]]:
    """``(module, mutant, status)`` for every result line of ``mutmut results --all true``."""
    out = []
    for line in lines:
        match = _LINE.match(line.rstrip("\n"))
        if match:
            name = match["name"]
            out.append((module_of(name), name, match["status"].strip()))
    return out


def scores(results: Iterable[tuple[str, str, str]]) -> dict[str, Counter[str]]:
    """Per module, the number of mutants by status (modules in name order)."""
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for module, _, status in results:
        by_module[module][status] += 1
    return dict(sorted(by_module.items()))


def killed_share(counts: Mapping[str, int]) -> float:
    """Killed (killed, timeout, segfault) over all mutants of a module; 0.0 for none."""
    total = sum(counts.values())
    return sum(counts.get(s, 0) for s in KILLED) / total if total else 0.0


def table(by_module: Mapping[str, Counter[str]]) -> list[str]:
    """The Markdown table: one row per module and a total row."""
    rows = ["| module | mutants | killed | timeout | survived | no tests | other | score |",
            "|---|--:|--:|--:|--:|--:|--:|--:|"]  # fmt: skip
    total: Counter[str] = Counter()
    for module, counts in by_module.items():
        total.update(counts)
        rows.append(_row(module, counts))
    rows.append(_row("**all**", total))
    return rows


def _row(label: str, counts: Mapping[str, int]) -> str:
    known = ("killed", "timeout", "survived", "no tests", "segfault")
    other = sum(n for s, n in counts.items() if s not in known)
    cells = [sum(counts.values()), counts.get("killed", 0) + counts.get("segfault", 0),
             counts.get("timeout", 0), counts.get("survived", 0), counts.get("no tests", 0),
             other]  # fmt: skip
    return f"| {label} | " + " | ".join(map(str, cells)) + f" | {killed_share(counts):.1%} |"


def below_target(by_module: Mapping[str, Counter[str]]) -> list[str]:
    """The modules whose score is under :data:`TARGET`, with their score."""
    return [f"{m} {killed_share(c):.1%}" for m, c in by_module.items()
            if killed_share(c) < TARGET]  # fmt: skip


def _mutmut(*args: str) -> str:
    exe = Path(sys.executable).with_name("mutmut")
    done = subprocess.run([str(exe), *args], capture_output=True, text=True, check=True)
    return re.sub(r"\x1b\[[0-9;]*m", "", done.stdout)


def _diff(name: str) -> str:
    lines = _mutmut("show", name).splitlines()
    return "\n".join(x for x in lines if x[:1] in "+-" and x[:3] not in ("+++", "---"))


def report(results: list[tuple[str, str, str]], conditions: str) -> str:
    """The Markdown of a run: conditions, table, and each survivor with its diff."""
    by_module = scores(results)
    parts = [f"# Mutation score, {datetime.date.today().isoformat()}", "", conditions, "",
             f"Target: at least {TARGET:.0%} killed on each module.", "", *table(by_module),
             "", "## Surviving mutants", ""]  # fmt: skip
    for _, name, status in results:
        if status not in KILLED:
            parts += [f"- `{name}` ({status})", "", "  ```diff",
                      *("  " + x for x in _diff(name).splitlines()), "  ```", ""]  # fmt: skip
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the report of the last ``mutmut run`` to ``--out``; 1 when a module misses."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="the Markdown file to write")
    parser.add_argument("--seconds", type=int, help="how long mutmut run took")
    args = parser.parse_args(argv)
    results = parse_results(_mutmut("results", "--all", "true").splitlines())
    if not results:
        print("✗ mutation: no mutmut results (run `mutmut run` first)", file=sys.stderr)
        return 1
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    took = f", mutmut run took {args.seconds} s" if args.seconds is not None else ""
    conditions = (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average after the run {load}{took}."
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report(results, conditions), encoding="utf-8")
    by_module = scores(results)
    print("\n".join(table(by_module)))
    missed = below_target(by_module)
    if missed:
        print(f"✗ mutation: under {TARGET:.0%} killed: {', '.join(missed)}", file=sys.stderr)
        return 1
    print(f"✓ mutation: every module at least {TARGET:.0%} killed; report in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
