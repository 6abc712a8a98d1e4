"""What the ``lakehouse`` commands share: the two consoles, one line per problem, the caller.

Output: results and progress on standard output, problems on standard error, one line each
(``✗ feed: file: reason``), never a traceback; lines are not wrapped (they end up in logs).
Importing this module imports nothing heavy (rich included: the consoles are made on first use).
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from analytics.roles import Identity

REFUSED = 2
"""Exit status of a refusal or a usage error (a failure is 1)."""
RUN_ID_HELP = "the run id in the records and the audit log (default: cli-<12 hex digits>)"


@functools.cache
def out() -> Console:
    """The console of results and progress (standard output)."""
    from rich.console import Console

    return Console(stderr=False, highlight=False, soft_wrap=True)


@functools.cache
def err() -> Console:
    """The console of problems, one line each (standard error)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def _line(mark: str, style: str, message: str) -> Any:
    """``mark message`` with the mark coloured; the message is never read as rich markup (a
    reason may hold brackets)."""
    from rich.text import Text

    line = Text(f"{mark} ", style=style)
    line.append(message)
    return line


def done(message: str, ok: bool = True) -> None:
    """``✓ message`` on standard output (``✗ message`` when not ``ok``: an outcome whose
    problems follow on standard error)."""
    out().print(_line("✓", "green", message) if ok else _line("✗", "red", message))


def note(message: str) -> None:
    """``! message`` on standard output (a warning the run goes on after)."""
    out().print(_line("!", "yellow", message))


def fail(message: str) -> None:
    """``✗ message`` on standard error."""
    err().print(_line("✗", "red", message))


def problems(summaries: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every problem of the summaries (``StageResult.as_dict()``, ``PublishResult.as_dict()``)."""
    return [p for s in summaries for p in s.get("problems", [])]


def report_problems(found: Sequence[str]) -> int:
    """One ``✗`` line per problem; the exit status: 1 if any, else 0."""
    for p in found:
        fail(p)
    return 1 if found else 0


def caller() -> Identity | None:
    """The caller (``LAKEHOUSE_USER``, ``LAKEHOUSE_ROLE``), or ``None`` after a ``refused:`` line
    for a role the lakehouse does not have (it is never mapped to a default)."""
    from analytics.roles import UnknownRole, identity

    try:
        return identity()
    except UnknownRole as exc:
        fail(f"refused: {exc}")
        return None


def iso_date(text: str) -> date:
    """An argument type: ``YYYY-MM-DD`` (a usage error otherwise)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message for a one-line report ('' when it has none;
    withheld when it quotes what looks like personal data)."""
    from audit.log import check_no_personal_values

    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    text = text.strip().splitlines()[0] if text.strip() else ""
    try:
        check_no_personal_values(text)
    except ValueError:
        return "(message withheld: it quotes what looks like personal data)"
    return text
