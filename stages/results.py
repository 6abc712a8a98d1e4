"""What a stage or a publish reports: counts, problems and notes, never a value.

A :class:`Problem` is one line for the steward (feed, file, reason): a refused delivery, a failed
gate, a refused publish. The command line prints it as is, Airflow fails the task with it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """A refused delivery, a failed gate or a refused publish, in one line."""

    feed: str
    file: str
    reason: str

    def __str__(self) -> str:
        return f"{self.feed}: {self.file}: {self.reason}"


@dataclass
class StageResult:
    """What a stage did, with counts (no values)."""

    feed: str
    stage: str
    batches: int = 0
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    assertions: list[tuple[str, bool, str | None]] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    """What the steward should know that did not stop a batch: records quarantined (rules and
    record numbers), schema drift (column names). Never a value."""

    def add(self, key: str, n: int) -> None:
        """Add ``n`` to the counter ``key``."""
        self.counts[key] = self.counts.get(key, 0) + int(n)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary (Airflow XCom, CLI)."""
        d = asdict(self)
        d["problems"] = [str(p) for p in self.problems]
        d["notes"] = [str(p) for p in self.notes]
        return d


@dataclass
class PublishResult:
    """The outcome of a publish: published, up to date, or refused (with the gate)."""

    dataset: str
    status: str
    version: int | None = None
    rows: int = 0
    key_id: str | None = None
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary."""
        d = asdict(self)
        d["problems"] = [str(p) for p in self.problems]
        return d
