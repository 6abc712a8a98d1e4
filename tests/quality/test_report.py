"""The steward quality report, on system tables written by the real pipeline.

Two runs on a small generated delivery: the first lands two daily files (some records
quarantined), the second a file where most identifiers carry a wrong check digit (the batch
fails its quarantine-share gate) next to a file with no name pattern (refused). The report and
the index are then written and checked against the system tables, against the personal values
of the delivered files, and in headless Chromium.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import html
import io
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from kernel import contracts
from kernel.config import REPO_ROOT as REPO
from kernel.config import Settings
from kernel.context import Context
from kernel.records import Records
from kernel.storage import Storage
from quality.ids import BATCH_GATES, GATE_MIN_ROWS, GATE_QUARANTINE_SHARE, GATE_VOLUME
from quality.report import (
    assert_no_personal_values,
    run_file_name,
    write_all,
    write_index,
    write_run_report,
)
from sandbox.generate import generate
from sandbox.generate.household import IssueRates, decode_cp950
from stages.feed import run_feed
from tests.browser import chromium
from tests.screens import css_colours, read_png

FEED = contracts.feed("moi.household_registry")
RUN_1, RUN_2 = "report-run-1", "report-run-2"
FAILING_FILE = "MOI_HHR_20241201.csv"
PERSONAL_COLUMNS = ("身分證統一編號", "姓名", "戶籍地址")  # national id, name, address (wire)


@dataclasses.dataclass(frozen=True)
class Lakehouse:
    """A storage root after two pipeline runs, with copies of the delivered CSV files."""

    root: str
    delivered: tuple[Path, ...]


def _ctx(spark: Any, root: str, run_id: str, now: dt.datetime) -> Context:
    """A pipeline context as the ``ctx`` fixture of ``tests/stages/test_pipeline.py``."""
    storage = Storage(spark, root)
    return Context(
        settings=Settings.from_env({"LAKEHOUSE_ROOT": root}), storage=storage,
        records=Records(storage), run_id=run_id, now=now,
    )


def _keep_deliveries(root: str, into: Path) -> list[Path]:
    """Copy the CSV files waiting in the inbox (landing removes them from there)."""
    into.mkdir(parents=True, exist_ok=True)
    inbox = Path(root) / "inbox" / FEED.delivery.inbox
    return [Path(shutil.copy2(p, into / p.name)) for p in sorted(inbox.glob("*.csv"))]


@pytest.fixture(scope="module")
def lakehouse(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Lakehouse:
    """Run the pipeline twice on generated deliveries; the second run fails a batch."""
    base = tmp_path_factory.mktemp("report")
    root = str(base / "lakehouse")
    Path(root).mkdir()
    delivered: list[Path] = []

    generate(Path(root), feeds=["moi.household_registry"], persons=60, seed=21, days=2)
    delivered += _keep_deliveries(root, base / "delivered")
    run_feed(_ctx(spark, root, RUN_1, dt.datetime(2024, 11, 2, 8, 0)), FEED)

    # Most identifiers of this delivery carry a wrong check digit: more than the contract's
    # maximum quarantined share, so the whole batch fails (as test_pipeline's failed gate).
    generate(Path(root), feeds=["moi.household_registry"], persons=60, seed=4, days=1,
             start=dt.date(2024, 12, 1), rates=IssueRates.parse(["invalid_check_digit=0.6"]))
    delivered += _keep_deliveries(root, base / "delivered")
    (Path(root) / "inbox" / FEED.delivery.inbox / "notes.txt").write_text("hello")
    stages = run_feed(_ctx(spark, root, RUN_2, dt.datetime(2024, 12, 1, 8, 0)), FEED)
    assert [p.file for p in stages[2].problems] == [FAILING_FILE]
    return Lakehouse(root=root, delivered=tuple(delivered))


# --------------------------------------------------------------------------- helpers


def _system(root: str, table: str, run_id: str | None = None) -> list[dict[str, Any]]:
    """The rows of a system table (of one run), read with deltalake."""
    from deltalake import DeltaTable

    rows: list[dict[str, Any]] = DeltaTable(f"{root}/system/{table}").to_pyarrow_table().to_pylist()
    return [r for r in rows if run_id is None or r["run_id"] == run_id]


def _batch_sections(page: str) -> dict[str, str]:
    """The HTML of each batch section of a run page, by batch id."""
    sections: dict[str, str] = {}
    for part in page.split('<div class="batch ')[1:]:
        m = re.search(r"batch <code>([^<]+)</code>", part)
        assert m, "a batch section names its batch id"
        sections[html.unescape(m[1])] = part
    return sections


def _row(section: str, first_cell: str) -> str:
    """The first table row of ``section`` whose first cell starts with ``first_cell`` (code)."""
    start = re.compile(rf"^[^>]*><td><code>{re.escape(html.escape(first_cell))}</code>")
    rows = [r for r in section.split("<tr") if start.match(r)]
    assert rows, f"no row for {first_cell}"
    return rows[0]


def _personal_values(files: tuple[Path, ...]) -> list[str]:
    """National ids, names and addresses of the delivered files (decoded as CP950)."""
    values: list[str] = []
    for path in files:
        reader = csv.DictReader(io.StringIO(decode_cp950(path.read_bytes()), newline=""))
        for record in reader:
            values += [record[c] for c in PERSONAL_COLUMNS if record.get(c)]
    return values


def _pages(lakehouse: Lakehouse) -> dict[str, str]:
    """Write every page (default folder) and return them by file name."""
    paths = write_all(lakehouse.root)
    return {p.name: p.read_text(encoding="utf-8") for p in paths}


# --------------------------------------------------------------------------- (a) content


def test_pages_are_written_where_expected(lakehouse: Lakehouse) -> None:
    out = Path(lakehouse.root) / "system" / "reports" / "quality"
    assert write_run_report(lakehouse.root, RUN_1) == out / f"{RUN_1}.html"
    assert write_index(lakehouse.root) == out / "index.html"
    paths = write_all(lakehouse.root)
    assert sorted(p.name for p in paths) == sorted([f"{RUN_1}.html", f"{RUN_2}.html",
                                                    "index.html"])
    assert paths[-1].name == "index.html"
    page = paths[0].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    # Self-contained: no script, no external resource.
    assert "<script" not in page and "<link" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert run_file_name("scheduled__2024-11-01T00:00:00+00:00") == (
        "scheduled__2024-11-01T00_00_00_00_00.html")


def test_run_page_shows_rules_counts_and_statuses_from_the_system_tables(
    lakehouse: Lakehouse,
) -> None:
    page = _pages(lakehouse)[f"{RUN_1}.html"]
    assert FEED.title in page and FEED.name in page
    sections = _batch_sections(page)
    batches = {r["batch_id"]: r for r in _system(lakehouse.root, "batches", RUN_1)
               if r["stage"] == "silver"}
    assert set(sections) == set(batches) and len(batches) == 2
    deliveries = {r["batch_id"]: r for r in _system(lakehouse.root, "deliveries", RUN_1)}

    results = _system(lakehouse.root, "quality_results", RUN_1)
    for r in results:
        if r["rule_id"] in BATCH_GATES:  # in the gates table (below) and the freshness line
            continue
        row = _row(sections[r["batch_id"]], r["rule_id"])
        assert f">{r['action']}<" in row
        if r["unexpected_count"] is not None:
            assert f'<td class="num">{r["unexpected_count"]:,}</td>' in row
            assert f'<td class="num">{r["element_count"]:,}</td>' in row
        outcome = "pass" if r["success"] else {"warn": "warn", "quarantine": "quarantined",
                                               "fail": "FAILED"}[r["action"]]
        assert f">{outcome}</span>" in row
    # The batch gates, from their own results: what they observed and their outcome (the
    # header-only file has no record: it passed the minimum-rows gate, nothing else ran).
    assert "Freshness gate" in page
    assert "≤ 20.0%" in page  # the contract's maximum quarantined share
    gates = [r for r in results if r["rule_id"] in BATCH_GATES and r["batch_id"]]
    assert {r["batch_id"] for r in gates} == set(batches)
    observed = {
        GATE_MIN_ROWS: lambda r: f"{r['element_count']:,} records",
        GATE_QUARANTINE_SHARE:
            lambda r: f"{r['unexpected_count']:,} of {r['element_count']:,} rows",
        GATE_VOLUME: lambda r: html.escape(r["check"]),
    }
    for r in gates:
        assert re.search(rf'title="{re.escape(r["rule_id"])}">[a-z ]+</td><td>'
                         rf'{re.escape(observed[r["rule_id"]](r))}[^<]*</td><td>[^<]+</td>'
                         r'<td><span class="badge ok">pass</span>', sections[r["batch_id"]])

    for batch_id, b in batches.items():
        section = sections[batch_id]
        assert deliveries[batch_id]["file_name"] in section
        assert f"{b['quarantined']:,} quarantined" in section
        if b["rows_in"]:  # no malformed record here: the share gate's rows are the batch's
            share = f"{b['quarantined']:,} of {b['rows_in']:,} rows"
            assert share in section
    quarantined = sum(b["quarantined"] for b in batches.values())
    assert quarantined > 0, "the generated delivery has records to quarantine"

    # Reconciliation: every check of the run, with ✓.
    checks = _system(lakehouse.root, "reconciliation", RUN_1)
    assert page.count("✓ holds") == len(checks) and "✗" not in page
    for c in checks:
        assert html.escape(c["check"]) in sections[c["batch_id"]]

    # Quarantined rows: counts per rule, as in the quarantine table.
    from deltalake import DeltaTable

    q = DeltaTable(f"{lakehouse.root}/quarantine/{FEED.name}").to_pyarrow_table(
        columns=["_batch_id", "_rule_ids"]).to_pylist()
    per_rule: dict[str, Counter[str]] = {}
    for rec in q:
        per_rule.setdefault(rec["_batch_id"], Counter()).update(rec["_rule_ids"])
    for batch_id, counts in per_rule.items():
        part = sections[batch_id].split("Quarantined rows by rule", 1)[1]
        for rule_id, n in counts.items():
            assert f'<td><code>{rule_id}</code></td><td class="num">{n:,}</td>' in part
    assert "Nothing needs attention" in page


def test_failed_batch_and_refused_delivery_are_flagged(lakehouse: Lakehouse) -> None:
    page = _pages(lakehouse)[f"{RUN_2}.html"]
    (failed,) = [r for r in _system(lakehouse.root, "batches", RUN_2)
                 if r["status"] == "failed"]
    section = _batch_sections(page)[failed["batch_id"]]
    assert FAILING_FILE in section and ">FAILED</span>" in section
    # The gate's reason, part by part, and its gate-level headline under "Needs attention".
    head, parts = failed["reason"].split(": ", 1)
    assert head == "quality gate failed"
    for part in parts.split("; "):
        assert f"<li>{html.escape(part)}</li>" in section
    # The headline names the failed gate with what it observed (its own quality result).
    attention = page.split("Needs attention", 1)[1].split("</ul>")[0]
    (gate,) = [r for r in _system(lakehouse.root, "quality_results", RUN_2)
               if r["rule_id"] == GATE_QUARANTINE_SHARE and r["batch_id"] == failed["batch_id"]]
    assert f"{GATE_QUARANTINE_SHARE}: {html.escape(gate['check'])}" in attention
    assert f'href="#batch-{failed["batch_id"]}"' in page
    # The check-digit rule failed but nothing was quarantined: the batch failed whole.
    row = _row(section, "national_id.check_digit")
    assert "held · batch failed" in row
    assert "nothing of it was quarantined or merged into silver" in section
    assert re.search(r"quarantine share</td><td>\d+ of \d+ rows \(\d+\.\d%\)</td>"
                     r"<td>≤ 20.0%</td><td><span class=\"badge fail\">FAILED", section)

    (refused,) = [d for d in _system(lakehouse.root, "deliveries", RUN_2)
                  if d["status"] == "refused"]
    assert refused["file_name"] == "notes.txt"
    assert html.escape(refused["reason"]) in page and "Needs attention (2)" in page

    index = _pages(lakehouse)["index.html"]
    rows = index.split("<tbody>", 1)[1].split("<tr")[1:]
    assert len(rows) == 2
    assert RUN_2 in rows[0] and RUN_1 in rows[1], "newest first"
    assert f'href="{RUN_2}.html"' in rows[0] and f'href="{RUN_1}.html"' in rows[1]
    assert 'class="badge fail">1</span>' in rows[0].split("</td>")[7]  # failed gates
    assert 'class="badge fail">1</span>' in rows[0].split("</td>")[8]  # refused deliveries
    rows_1 = sum(r["rows_in"] for r in _system(lakehouse.root, "batches", RUN_1)
                 if r["stage"] == "bronze")
    assert f'<td class="num">{rows_1:,}</td>' in rows[1]


# --------------------------------------------------------------------------- (b) no PII


def test_no_personal_value_reaches_the_report(lakehouse: Lakehouse) -> None:
    values = _personal_values(lakehouse.delivered)
    assert len(values) > 100
    pages = _pages(lakehouse)
    for text in pages.values():
        assert_no_personal_values(text, values)
    # The check itself catches a leak, escaped or not, and does not print the value.
    leaked = pages[f"{RUN_1}.html"].replace("</main>", f"<p>{html.escape(values[1])}</p></main>")
    with pytest.raises(AssertionError, match=r"1 personal value") as err:
        assert_no_personal_values(leaked, values)
    assert values[1] not in str(err.value)


# --------------------------------------------------------------------------- (c) browser


def _browser(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with a throw-away profile and no network activity of its own."""
    cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update", "--no-first-run",
           f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


def test_report_renders_in_headless_chromium(lakehouse: Lakehouse, tmp_path: Path) -> None:
    binary = chromium()
    page = Path(lakehouse.root) / "system" / "reports" / "quality" / f"{RUN_2}.html"
    write_all(lakehouse.root)

    done = _browser(binary, tmp_path / "profile-dom", "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    for text in (FEED.name, FEED.title, "national_id.check_digit", "FAILED", FAILING_FILE,
                 "notes.txt", "Reconciliation", "Quality rules"):
        assert text in dom, text
    assert_no_personal_values(dom, _personal_values(lakehouse.delivered))

    shot = tmp_path / "shot.png"
    done = _browser(binary, tmp_path / "profile-shot", f"--screenshot={shot}",
                    "--window-size=1280,2000", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    # The screenshot shows the page as styled: its dark header across the width, and the
    # failed batch's card and reason in the style sheet's failure colour.
    screen = read_png(shot.read_bytes())
    assert (screen.width, screen.height) == (1280, 2000)
    css = (REPO / "quality" / "report" / "templates" / "report.css").read_text(encoding="utf-8")
    header = re.search(r"header\.page\s*\{\s*background:(#[0-9a-fA-F]{6})", css)
    assert header is not None
    assert screen.area(header[1]) >= 1280 * 40
    html_page = page.read_text(encoding="utf-8")
    assert 'class="reason"' in html_page
    assert screen.area(css_colours(css)["fail-bg"]) >= 10_000
