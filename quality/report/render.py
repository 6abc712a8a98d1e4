"""The HTML of the quality report: the view model (:mod:`quality.report.view`) through the
Jinja2 templates of ``quality/report/templates/``.

Autoescape is on for every template, so every string of the view model is escaped; no HTML is
built in Python. The filters ``n`` (a count, ``1,234``), ``time`` (``YYYY-MM-DD HH:MM:SS UTC``)
and ``dash`` (``None`` as an em dash) word what the view keeps as values.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from quality.report import fmt
from quality.report.view import IndexPage, RunPage


def _dash(value: Any) -> Any:
    """``value``, or an em dash for ``None``."""
    return fmt.DASH if value is None else value


def _environment() -> Environment:
    """The templates' environment: autoescaped, strict about undefined names, block tags
    leaving no blank lines."""
    env = Environment(
        loader=PackageLoader("quality.report", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"),
                                     default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(n=fmt.count, time=fmt.time, dash=_dash)
    return env


_ENV = _environment()


def _now() -> dt.datetime:
    """The time a page is generated (UTC)."""
    return dt.datetime.now(dt.UTC)


def run_html(page: RunPage, generated: dt.datetime | None = None) -> str:
    """The HTML document of a run page; ``generated`` (default: now) goes in its footer."""
    return _ENV.get_template("run.html.j2").render(page=page, generated=generated or _now())


def index_html(page: IndexPage, generated: dt.datetime | None = None) -> str:
    """The HTML document of the index; ``generated`` (default: now) goes in its footer."""
    return _ENV.get_template("index.html.j2").render(page=page, generated=generated or _now())
