"""Formatting of the report's numbers, shares, times and names: plain text, never HTML.

The view model (:mod:`quality.report.view`) uses these to word what it shows; the templates
(:mod:`quality.report.render`) use :func:`count` and :func:`time` as the filters ``n`` and
``time``. Escaping is the templates' business (Jinja2 autoescape), not this module's.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

DASH = "—"
"""What the report shows for a missing value."""

_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]")


def count(value: Any) -> str:
    """A count with thousands separators (``1,234``); ``None`` as an em dash, and a value that
    is not a number as its text."""
    if value is None:
        return DASH
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


def pct(part: Any, whole: Any) -> str:
    """``part`` as a percentage of ``whole`` (``0%``, ``1.25%`` under 10%, ``12.5%`` above); an
    em dash when ``part`` is missing or ``whole`` is missing or zero."""
    if part is None or not whole:
        return DASH
    share = 100.0 * float(part) / float(whole)
    if share == 0:
        return "0%"
    return f"{share:.2f}%" if share < 10 else f"{share:.1f}%"


def time(value: Any) -> str:
    """A timestamp as ``YYYY-MM-DD HH:MM:SS UTC`` (a naive one is taken as UTC); ``None`` as an
    em dash, anything else as its text."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return DASH if value is None else str(value)


def safe_name(text: str) -> str:
    """``text`` with every character but ``A-Z a-z 0-9 . _ -`` replaced by ``_`` (for file
    names and in-page anchors)."""
    return _UNSAFE_NAME_CHARS.sub("_", text)
