"""The architecture holds: the import-linter contracts of ``.importlinter`` are kept.

The contract file is the architecture's written form (layers that point one way, production
code never depending on the sandbox, DAG files importing nothing heavy, no import cycle inside a
package); ``make lint`` checks it too. This test makes CI check it on every run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_import_linter_contracts_are_kept() -> None:
    linter = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run([str(linter), "--no-cache"], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    broken = [line for line in proc.stdout.splitlines() if "BROKEN" in line or "->" in line]
    assert proc.returncode == 0, "\n".join(broken) or proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_the_sandbox_is_reached_only_through_the_nhi_pull_fallback() -> None:
    """The one production path into the sandbox is dynamic (``importlib``, invisible to the
    linter): it must stay the NHI pull's simulator fallback, and nothing else may do the same."""
    production = ("cli", "console", "services", "stages", "jobs", "pull", "quality", "masking",
                  "lineage", "analytics", "kernel", "audit", "dags")
    found = [str(p.relative_to(REPO)) for pkg in production for p in (REPO / pkg).rglob("*.py")
             if "sandbox." in p.read_text(encoding="utf-8") and pkg != "cli"]
    assert found == ["pull/api.py"], found
