"""A contracts folder with one feed and the one-feed person coverage (development only).

``gold.person_coverage`` proper needs all six feeds. Runs that deliver the household registry
alone (the crash-safety test, ``bench.cluster``) point ``LAKEHOUSE_CONTRACTS_DIR`` at the folder
:func:`residents_only` writes: the feed's own contract, and ``gold/person_coverage.yaml`` with
that feed as its only input and :mod:`jobs.residents_coverage` as its transform (the rest of the
contract, its masking and gates, unchanged).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from kernel.config import REPO_ROOT

FEED = "moi.household_registry"
SCHEMAS = REPO_ROOT / "schemas"


def residents_only(folder: Path) -> Path:
    """Write the two contracts under ``folder`` (created; it must not hold them yet)."""
    (folder / "moi").mkdir(parents=True)
    (folder / "gold").mkdir()
    shutil.copy(SCHEMAS / "moi" / "household_registry.yaml", folder / "moi")
    text = (SCHEMAS / "gold" / "person_coverage.yaml").read_text(encoding="utf-8")
    head, rest = text.split("\ninputs:\n", 1)
    rest = rest.split("\nkey:", 1)[1]
    text = f"{head}\ninputs:\n  - {FEED}\nkey:{rest}".replace(
        "transform: jobs.person_coverage:person_coverage",
        "transform: jobs.residents_coverage:residents_coverage")
    (folder / "gold" / "person_coverage.yaml").write_text(text, encoding="utf-8")
    return folder
