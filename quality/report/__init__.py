"""The steward-facing quality report: one self-contained HTML page per run, and an index.

The report is built from the system-zone tables only, read without a JVM
(:mod:`quality.report.data`), worded as a view model (:mod:`quality.report.view`, the batches
in :mod:`quality.report.batch`) and rendered by Jinja2 templates with autoescape
(:mod:`quality.report.render`, ``templates/``). It shows file names, digests, rule ids, reasons
and counts: never a record, never a value.

The pages are plain HTML with inline CSS (no JavaScript, no external resource), so they open
offline in any browser::

    write_all("/path/to/lakehouse")   # every run page and index.html
    write_run_report(root, "cli-0123456789ab")
    write_index(root)

By default the pages go to the root's reports folder (``system/reports/quality/``, see
:attr:`kernel.layout.Layout.reports_uri`) as ``<run id>.html`` and ``index.html``: files on a
local root (each replaced atomically), objects on an object store (each written whole); the
functions return the path, or the object's URI.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from audit.objects import folder, is_object_uri
from kernel.layout import Layout
from quality.report import render, view
from quality.report.data import SystemTables
from quality.report.view import RunSummary, run_file_name

__all__ = [
    "RunSummary",
    "SystemTables",
    "assert_no_personal_values",
    "render_index",
    "render_run",
    "run_file_name",
    "write_all",
    "write_index",
    "write_run_report",
]


def render_run(tables: SystemTables, run_id: str) -> str:
    """The HTML page of run ``run_id`` (a page saying so when the run left no record)."""
    return render.run_html(view.run_page(tables, run_id))


def render_index(tables: SystemTables) -> str:
    """The HTML index: one row per run, newest first, each linking to its page."""
    return render.index_html(view.index_page(tables))


def _out_dir(root: str, out_dir: str | None) -> Path | str:
    """Where the pages go: ``out_dir``, else the root's reports folder; a local folder is
    created, an object store's is a URI (``s3a://…``)."""
    target = out_dir or Layout(root).reports_uri
    if is_object_uri(target):
        return target.rstrip("/")
    path = Path(target)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write(target: Path | str, name: str, text: str) -> Path | str:
    """Write ``text`` as UTF-8 as ``name`` in ``target`` so that readers see the old page or the
    new one: a temporary file renamed over it (local), or one object PUT (object store)."""
    if isinstance(target, str):
        folder(target).put(name, text.encode("utf-8"))
        return f"{target}/{name}"
    path = target / name
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def write_run_report(root: str, run_id: str, out_dir: str | None = None, *,
                     known_only: bool = False) -> Path | str:
    """Write the page of run ``run_id`` as ``<out_dir>/<run id>.html`` and return its path.

    ``out_dir`` defaults to the root's reports folder (``<root>/system/reports/quality/``).
    With ``known_only`` (a steward naming a run), raises :class:`LookupError` naming the run when
    no system table holds ``run_id``: a typo is told, not written as a quiet run. Without it (the
    pipeline's own run, which may have found nothing to do), such a run gets its quiet page.
    """
    tables = SystemTables.load(root)
    if known_only and run_id not in tables.run_ids():
        raise LookupError(f"no run {run_id!r} in the system tables under {root}")
    return _write(_out_dir(root, out_dir), run_file_name(run_id), render_run(tables, run_id))


def write_index(root: str, out_dir: str | None = None) -> Path | str:
    """Write ``<out_dir>/index.html`` (one row per run, newest first) and return its path."""
    tables = SystemTables.load(root)
    return _write(_out_dir(root, out_dir), "index.html", render_index(tables))


def write_all(root: str, out_dir: str | None = None) -> list[Path | str]:
    """Regenerate every run page and the index; the index is the last path returned."""
    tables = SystemTables.load(root)
    target = _out_dir(root, out_dir)
    paths = [_write(target, run_file_name(rid), render_run(tables, rid))
             for rid in tables.run_ids()]
    paths.append(_write(target, "index.html", render_index(tables)))
    return paths


def assert_no_personal_values(html_text: str, values: Iterable[str], min_length: int = 2) -> None:
    """Fail when any of ``values`` (personal data) appears in the page.

    Each value is looked for as delivered, trimmed, NFKC-normalised and upper-cased, in the
    page text and in its unescaped form. Values shorter than ``min_length`` are skipped (a
    one-character code says nothing). The error names how many values leaked and their
    positions in ``values``, never the values themselves.
    """
    haystacks = (html_text, html.unescape(html_text))
    leaked: list[int] = []
    for i, value in enumerate(values):
        forms = {value, value.strip(), unicodedata.normalize("NFKC", value).strip()}
        forms |= {f.upper() for f in forms}
        forms |= {html.escape(f, quote=True) for f in forms}
        if any(len(f) >= min_length and f in h for f in forms for h in haystacks):
            leaked.append(i)
    if leaked:
        shown = ", ".join(str(i) for i in leaked[:20])
        raise AssertionError(
            f"{len(leaked)} personal value(s) appear in the report (positions {shown})")
