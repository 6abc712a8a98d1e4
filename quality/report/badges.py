"""The status labels of the quality report (a word and a tone), and how outcomes map to them.

A tone is one of ``ok``, ``warn``, ``quar``, ``fail``, ``info`` and ``muted``; the templates
colour a badge by its tone.
"""

from __future__ import annotations

from dataclasses import dataclass

from quality.report.data import Row


@dataclass(frozen=True)
class Badge:
    """A coloured status label."""

    label: str
    tone: str
    title: str | None = None
    """A tooltip, if any."""


NOT_EVALUATED = Badge("not evaluated", "muted")
"""A gate, rule or check without a result."""


def gate_badge(ok: bool | None) -> Badge:
    """``pass`` / ``FAILED`` for a gate's success, *not evaluated* for ``None``."""
    if ok is None:
        return NOT_EVALUATED
    return Badge("pass", "ok") if ok else Badge("FAILED", "fail")


def holds_badge(ok: bool | None) -> Badge:
    """``✓ holds`` / ``✗ does not hold`` for a reconciliation check, *not evaluated* for
    ``None``."""
    if ok is None:
        return NOT_EVALUATED
    return Badge("✓ holds", "ok") if ok else Badge("✗ does not hold", "fail")


def outcome(result: Row, batch_failed: bool) -> Badge:
    """A rule's outcome on its batch from its quality result: ``pass``, ``warn``,
    ``quarantined`` (``held · batch failed`` when the whole batch failed, so nothing was
    quarantined), ``FAILED`` (action ``fail``), or *not evaluated* (no success recorded)."""
    success = result.get("success")
    if success is None:
        return NOT_EVALUATED
    if success:
        return Badge("pass", "ok")
    action = result.get("action")
    if action == "warn":
        return Badge("warn", "warn")
    if action == "quarantine":
        return Badge("held · batch failed" if batch_failed else "quarantined", "quar")
    return Badge("FAILED", "fail")
