"""The auditor's lineage report on a real pipeline run with two published versions."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import html
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from deltalake import DeltaTable

from cli.main import main
from jobs import residents_coverage
from kernel import contracts
from kernel.config import Settings
from kernel.context import Context
from kernel.records import Records
from kernel.storage import Storage
from lineage.report import write_lineage_report
from sandbox.generate import generate
from sandbox.generate.household import decode_cp950
from stages.feed import run_feed
from stages.publish import publish
from tests.screens import read_png

FEED = contracts.feed("moi.household_registry")
DATASET = "gold.person_coverage"
KEY = "lineage-report-test-key-0123456789-abcdef"


@pytest.fixture
def ctx(spark, root) -> Context:
    """A job run on the shared Spark session, writing under a temporary root."""
    storage = Storage(spark, root)
    return Context(
        settings=Settings.from_env({"LAKEHOUSE_ROOT": root}), storage=storage,
        records=Records(storage), run_id="test-run", now=dt.datetime(2024, 11, 5, 8, 0),
        actor="steward:test",
    )


@pytest.fixture
def published(ctx, root, monkeypatch) -> dict[str, object]:
    """One delivery through the pipeline, published twice (versions 0 and 1); the delivered
    CSV's personal values are returned for the leak checks."""
    generate(Path(root), feeds=["moi.household_registry"], persons=30, seed=11, days=1)
    delivered = decode_cp950(
        (Path(root) / "inbox" / FEED.delivery.inbox / "MOI_HHR_20241101.csv").read_bytes())
    run_feed(ctx, FEED)
    monkeypatch.setenv("LAKEHOUSE_PSEUDONYM_KEY", KEY)
    dc = residents_coverage.contract()
    first = publish(ctx, dc, dt.date(2024, 12, 1))
    second = publish(ctx, dc, dt.date(2024, 12, 2))
    assert (first.status, first.version) == ("published", 0)
    assert (second.status, second.version) == ("published", 1)
    rows = list(csv.DictReader(io.StringIO(delivered)))
    wire_id, wire_name = FEED.field("national_id").wire, FEED.field("name").wire
    return {
        "key_id": second.key_id,
        "ids": {r[wire_id].strip() for r in rows if r[wire_id].strip()},
        "names": {r[wire_name].strip() for r in rows if len(r[wire_name].strip()) >= 2},
    }


def _delivery(root: str) -> dict[str, object]:
    (row,) = [r for r in DeltaTable(f"{root}/system/deliveries").to_pyarrow_table().to_pylist()
              if r["feed"] == FEED.name]
    return row


def _text(page: str) -> str:
    """The page's visible text, roughly: tags removed."""
    return re.sub(r"<[^>]+>", " ", page)


def _check_page(page: str, root: str, version: int, info: dict[str, object]) -> None:
    delivery = _delivery(root)
    assert f"{DATASET} version {version}" in page
    assert str(delivery["file_name"]) in page and str(delivery["sha256"]) in page
    assert str(delivery["sha256"])[:12] in page  # in the graph
    assert str(info["key_id"]) in page and KEY not in page
    code = html.unescape(page)
    assert f'option("versionAsOf", {version})' in code and f"version={version})" in code
    (row,) = [r for r in re.findall(r"<tr>.*?</tr>", page)
              if "person_key ← 身分證統一編號 (national_id)" in r]
    assert "MASKED" in row and "pseudonymize" in row
    text = _text(page)
    for value in {*info["ids"], *info["names"]}:  # type: ignore[misc]
        assert value not in text, "a delivered personal value appears in the report"
    assert "<script" not in page.lower() and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page
    results = DeltaTable(f"{root}/system/quality_results").to_pyarrow_table().to_pylist()
    ids = sorted({r["result_id"] for r in results if r["feed"] == FEED.name})
    digest = hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()
    assert ids and (f"<dt>Quality results</dt><dd>{len(ids)} (SHA-256 of their ids "
                    f"{digest[:16]}…): the results shown are exactly those</dd>") in page


def test_report_of_each_version_after_newer_publishes(published, root, tmp_path):
    old = write_lineage_report(root, DATASET, str(tmp_path / "v0.html"), version=0)
    latest = write_lineage_report(root, DATASET, str(tmp_path / "latest.html"))
    page0, page1 = old.read_text(encoding="utf-8"), latest.read_text(encoding="utf-8")
    _check_page(page0, root, 0, published)
    _check_page(page1, root, 1, published)
    assert "2024-12-01" in page0 and "2024-12-02" in page1  # snapshot date of each commit
    assert "publish.gold.person_coverage" in page0 and "moi.household_registry.silver" in page0
    assert "<svg" in page0 and "bronze/moi.household_registry" in page0
    assert "silver/moi.residents" in page0 and "national_id.check_digit" in page0
    with pytest.raises(ValueError, match="no version 7"):
        write_lineage_report(root, DATASET, str(tmp_path / "v7.html"), version=7)


def test_main_writes_the_report(published, root, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LAKEHOUSE_ROOT", root)
    out = tmp_path / "cli.html"
    assert main(["lineage", "report", DATASET, "--version", "0", "--out", str(out)]) == 0
    assert out.exists() and f"{DATASET} version 0" in out.read_text(encoding="utf-8")
    assert main(["lineage", "report", DATASET, "--version", "9", "--out",
                 str(tmp_path / "x.html")]) == 1
    assert "no version 9" in capsys.readouterr().err


def test_renders_in_headless_chromium(published, root, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing on CI")
        pytest.skip("chromium is not installed")
    page = write_lineage_report(root, DATASET, str(tmp_path / "report.html"), version=0)
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--no-first-run",
            f"--user-data-dir={tmp_path / 'chromium'}"]
    dom = subprocess.run([*base, "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    delivery = _delivery(root)
    expected_texts = (f"{DATASET} version 0", str(delivery["sha256"]), str(published["key_id"]),
                      "person_key ← 身分證統一編號 (national_id)",
                      "How to read exactly this version")
    for expected in expected_texts:
        assert expected in dom
    shot = tmp_path / "report.png"
    subprocess.run([*base, "--window-size=1200,2400", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    # The screenshot shows the lineage graph: every box of the page's SVG is painted in its
    # fill colour over at least half its area (the page is not scaled at this width).
    screen = read_png(shot.read_bytes())
    assert (screen.width, screen.height) == (1200, 2400)
    boxes: dict[str, int] = {}
    for rect in re.findall(r"<rect [^>]*>", page_html := page.read_text(encoding="utf-8")):
        size = re.search(r'width="(\d+)" height="(\d+)"', rect)
        fill = re.search(r'fill="(#[0-9a-fA-F]{6})"', rect)
        if size and fill:
            boxes[fill[1].lower()] = boxes.get(fill[1].lower(), 0) + int(size[1]) * int(size[2])
    assert len(boxes) >= 4, page_html[:500]  # deliveries, bronze, silver, gold
    painted = {colour: screen.area(colour) for colour in boxes}
    assert all(painted[c] >= boxes[c] // 2 for c in boxes), (painted, boxes)
    keep = os.environ.get("LINEAGE_REPORT_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)
