"""The console's pages, served by Airflow's own API server app (the plugin mounted from its
entry point) on a real small lakehouse (``conftest.lakehouse``): what each page shows, read
back against the system tables; who may see it (Airflow's authentication and roles); and no
personal value anywhere."""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import quote

import pytest
from deltalake import DeltaTable

from quality.report import assert_no_personal_values, run_file_name
from tests.console.conftest import (
    FAILING_FILE,
    FEED,
    PUBLISH_DAG,
    PUBLISH_RUN,
    RUN_1,
    RUN_2,
    Airflow,
    Lakehouse,
)

QUALITY_2 = f"/lakehouse/runs/{FEED.name}/{quote(RUN_2, safe='')}/quality"
LINEAGE = f"/lakehouse/runs/{PUBLISH_DAG}/{quote(PUBLISH_RUN, safe='')}/lineage"
QUARANTINE = f"/lakehouse/feeds/{FEED.name}/quarantine"
PAGES = ["/lakehouse/", "/lakehouse/quality/index.html", QUALITY_2, LINEAGE, QUARANTINE,
         "/lakehouse/datasets/gold.person_coverage/lineage"]


def _text(page: str) -> str:
    """The page's text, tags removed and whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_every_page_refuses_a_caller_airflow_does_not_know(
        lakehouse: Lakehouse, airflow: Airflow) -> None:
    """No token: 401 and a page offering Airflow's login; a forged token: 403; a user whose
    Airflow role maps to no lakehouse role: 403 naming the user."""
    for path in PAGES:
        anonymous = airflow.get(path)
        assert anonymous.status_code == 401, path
        assert "Not signed in" in anonymous.text and 'href="/auth/login' in anonymous.text
        forged = airflow.client.get(path, headers={"Authorization": "Bearer not-a-jwt"})
        assert forged.status_code == 403, path
        cookie = airflow.client.get(path, cookies={"_token": "not-a-jwt"})
        assert cookie.status_code == 403, path
    no_role = airflow.client.get("/lakehouse/", headers={
        "Authorization": f"Bearer {airflow.token(None, 'nobody')}"})  # type: ignore[arg-type]
    assert no_role.status_code == 403
    assert "user nobody has no Airflow role the lakehouse knows" in no_role.text


def test_the_ui_token_cookie_signs_a_user_in(lakehouse: Lakehouse, airflow: Airflow) -> None:
    """The UI's login sets the ``_token`` cookie: the same user reads the page with it."""
    page = airflow.client.get("/lakehouse/", cookies={"_token": airflow.token("op", "olga")})
    assert page.status_code == 200
    assert "signed in as olga (lakehouse role: steward)" in page.text


def test_lakehouse_page_shows_every_feed_and_dataset(lakehouse: Lakehouse,
                                                     airflow: Airflow) -> None:
    """Every feed and dataset of the contracts, one row each; the registry's row says its last
    run failed a gate and refused a file, with the reasons, and links to that run's quality
    report and the feed's quarantine; the published dataset shows version 0, its snapshot
    date and key id, and links to its lineage report."""
    from kernel import contracts

    page = airflow.get("/lakehouse/", "viewer")
    assert page.status_code == 200
    rows = re.findall(r"<tr>(.*?)</tr>", page.text)
    feeds = [r for r in rows if "/quarantine" in r]
    assert [re.search(r"<code>(.*?)</code>", r)[1] for r in feeds] == [  # type: ignore[index]
        fc.name for fc in contracts.feeds()]
    (registry,) = [r for r in feeds if f"<code>{FEED.name}</code>" in r]
    text = _text(registry)
    assert "gate failed, 1 refused" in text
    assert "notes.txt: file name does not match" in text and "limit 36 h" in text
    assert f'href="/lakehouse/runs/{FEED.name}/{quote(RUN_2, safe="")}/quality"' in registry
    assert f'href="{QUARANTINE}"' in registry
    others = [r for r in feeds if r is not registry]
    assert all("never landed" in _text(r) and "no batch yet" in _text(r) for r in others)
    (dataset,) = [r for r in rows if "<code>gold.person_coverage</code>" in r]
    cells = re.findall(r"<td>(.*?)</td>", dataset)
    assert [_text(c) for c in cells[1:4]] == ["0", "2024-11-02", _key_id(lakehouse.root)]
    assert "published" in _text(cells[5])
    assert 'href="/lakehouse/datasets/gold.person_coverage/lineage"' in dataset
    assert "signed in as viewer-user (lakehouse role: analyst)" in page.text


def _key_id(root: str) -> str:
    """The key id the fixture's publish recorded (``system/publishes``)."""
    rows = DeltaTable(f"{root}/system/publishes").to_pyarrow_table().to_pylist()
    (key,) = {r["key_id"] for r in rows if r["status"] == "published"}
    return str(key)


def test_a_runs_quality_report_is_served_on_the_dag_run(lakehouse: Lakehouse,
                                                        airflow: Airflow) -> None:
    """The dag_run view serves the run's report (the failing file, the refused one), its link
    to all runs points at the console's index, and the index links back to the run pages."""
    page = airflow.get(QUALITY_2, "viewer")
    assert page.status_code == 200
    assert FAILING_FILE in page.text and "notes.txt" in page.text
    assert 'href="/lakehouse/quality/index.html"' in page.text
    index = airflow.get("/lakehouse/quality/index.html", "viewer")
    assert index.status_code == 200
    for run in (RUN_1, RUN_2):
        assert f'href="{run_file_name(run)}"' in index.text
        again = airflow.get(f"/lakehouse/quality/{run_file_name(run)}", "viewer")
        assert again.status_code == 200 and run in again.text
    unknown = airflow.get(f"/lakehouse/runs/{FEED.name}/manual__nothing/quality", "viewer")
    assert unknown.status_code == 404 and "left no record" in unknown.text


def test_a_feeds_quarantine_is_counts_per_batch_and_rule(lakehouse: Lakehouse,
                                                         airflow: Airflow) -> None:
    """The counts equal the quarantine table's, per batch (all rules) and per rule id."""
    table = DeltaTable(f"{lakehouse.root}/quarantine/{FEED.name}").to_pyarrow_table(
        columns=["_batch_id", "_rule_ids"]).to_pylist()
    expected: Counter[tuple[str, str]] = Counter()
    for r in table:
        expected[(r["_batch_id"], "all rules")] += 1
        for rule in r["_rule_ids"]:
            expected[(r["_batch_id"], rule)] += 1
    assert expected
    page = airflow.get(QUARANTINE, "viewer")
    assert page.status_code == 200
    shown = {(m[1], _text(m[2])): int(_text(m[3]).replace(",", "")) for m in re.finditer(
        r"<tr><td><code>(.*?)</code></td><td>(.*?)</td><td>(.*?)</td>", page.text)}
    assert shown == dict(expected)
    assert airflow.get(f"/lakehouse/feeds/{PUBLISH_DAG}/quarantine", "viewer").status_code == 404


@pytest.mark.parametrize("role", ["admin", "op", "user"])
def test_a_publishing_runs_lineage_report_for_auditors_and_stewards(
        lakehouse: Lakehouse, airflow: Airflow, role: str) -> None:
    """The lineage report of the version the publishing run published (version 0)."""
    page = airflow.get(LINEAGE, role)
    assert page.status_code == 200
    assert "gold.person_coverage" in page.text and PUBLISH_RUN in page.text
    assert "version 0" in _text(page.text).lower() or "VERSION AS OF 0" in page.text


def test_lineage_is_refused_to_analysts_and_explained_elsewhere(
        lakehouse: Lakehouse, airflow: Airflow) -> None:
    """An analyst (Airflow viewer) is refused with the role; a feed's run has no lineage
    report, and neither has a publishing run that published nothing."""
    refused = airflow.get(LINEAGE, "viewer")
    assert refused.status_code == 403
    assert "role analyst may not read lineage reports" in refused.text
    feed_run = airflow.get(f"/lakehouse/runs/{FEED.name}/{quote(RUN_1, safe='')}/lineage",
                           "admin")
    assert feed_run.status_code == 404 and "publishes no dataset" in feed_run.text
    other = airflow.get(f"/lakehouse/runs/{PUBLISH_DAG}/manual__other/lineage", "admin")
    assert other.status_code == 404 and "published no version" in other.text


def test_no_personal_value_reaches_any_page(lakehouse: Lakehouse, airflow: Airflow) -> None:
    """Not one national id, name or address delivered appears in any page."""
    assert len(lakehouse.personal) > 100
    for path in PAGES:
        page = airflow.get(path, "admin")
        assert page.status_code == 200, path
        assert_no_personal_values(page.text, lakehouse.personal)


def _audit_queries(root: str) -> list[dict[str, object]]:
    """The ``query`` entries of the audit log."""
    import json
    from pathlib import Path

    folder = Path(root) / "system" / "audit"
    entries = [json.loads(line) for path in sorted(folder.glob("*.jsonl"))
               for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [e for e in entries if e.get("action") == "query"]


def test_a_steward_reads_open_quarantined_records_and_is_audited(
        lakehouse: Lakehouse, airflow: Airflow) -> None:
    """A steward (Airflow op) reads the records of one batch and rule, as delivered, at most
    the limit; the reading is in the audit log with who, feed, filters and count. The counts
    page links a steward to them."""
    rows = DeltaTable(f"{lakehouse.root}/quarantine/{FEED.name}").to_pyarrow_table(
        columns=["_batch_id", "_rule_ids"]).to_pylist()
    batch, rule = rows[0]["_batch_id"], rows[0]["_rule_ids"][0]
    wanted = sum(1 for r in rows if r["_batch_id"] == batch and rule in r["_rule_ids"])
    counts = airflow.get(QUARANTINE, "op")
    assert f'href="{QUARANTINE}/records?batch={quote(batch)}&amp;rule={quote(rule)}"' in (
        counts.text)
    before = len(_audit_queries(lakehouse.root))
    page = airflow.get(f"{QUARANTINE}/records", "op", params={"batch": batch, "rule": rule,
                                                              "limit": 500})
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    shown = re.findall(r"<tr><td>(.*?)</td><td>(\d+)</td><td>(.*?)</td>", page.text)
    assert len(shown) == min(wanted, 200) and {b for b, _, _ in shown} == {batch}
    assert all(rule in rules for _, _, rules in shown)
    assert "Personal data as delivered: for stewards only" in page.text
    queries = _audit_queries(lakehouse.root)
    assert len(queries) == before + 1
    assert queries[-1]["actor"] == "airflow:op-user"
    details = queries[-1]["details"]
    assert {k: details[k] for k in ("feed", "zone", "batch_id", "rule", "rows")} == {  # type: ignore[index]
        "feed": FEED.name, "zone": "quarantine", "batch_id": batch, "rule": rule,
        "rows": len(shown)}


@pytest.mark.parametrize("role", ["user", "viewer"])
def test_only_stewards_read_quarantined_records(lakehouse: Lakehouse, airflow: Airflow,
                                                role: str) -> None:
    """An auditor or an analyst is refused, with nothing audited; their counts page offers
    no records link."""
    before = len(_audit_queries(lakehouse.root))
    refused = airflow.get(f"{QUARANTINE}/records", role)
    assert refused.status_code == 403 and "may not read quarantined records" in refused.text
    assert len(_audit_queries(lakehouse.root)) == before
    assert "/records" not in airflow.get(QUARANTINE, role).text
