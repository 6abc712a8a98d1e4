"""Stewards list, inspect and release quarantined rows; every release is recorded."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from audit.log import entries, verify
from kernel import contracts
from kernel.layout import Layout
from kernel.twid import make_person_id
from sandbox.generate import generate
from sandbox.generate.household import IssueRates
from stages import quarantine
from stages.feed import run_feed, run_stage

FEED = contracts.feed("moi.household_registry")


@pytest.fixture
def quarantined(ctx, root):
    generate(Path(root), feeds=["moi.household_registry"], persons=80, seed=21, days=1,
             rates=IssueRates.parse(["invalid_check_digit=0.08"]))
    run_feed(ctx, FEED)
    return ctx


def test_list_and_show(quarantined, root):
    ctx = quarantined
    summary = quarantine.summary(ctx, FEED)
    by_rule = {rule: n for _, rule, n, _ in summary}
    assert by_rule["national_id.check_digit"] >= 2
    rows = quarantine.show(ctx, FEED, rule="national_id.check_digit", limit=100)
    assert len(rows) == by_rule["national_id.check_digit"]
    assert all("national_id.check_digit" in r["_rule_ids"] for r in rows)
    assert all("national_id fails tw_person_id" in r["_reason"] for r in rows)
    (query,) = list(entries(Layout(root).audit_dir, action="query"))
    assert query.details["rows"] == len(rows) and query.actor == "steward:test"


def test_release_with_corrections_reaches_silver(quarantined, root, tmp_path):
    import random

    ctx = quarantined
    rows = quarantine.show(ctx, FEED, rule="national_id.check_digit", limit=100)
    first, second = rows[0], rows[1]
    fixed_id = make_person_id(random.Random(5))
    corrections = tmp_path / "fix.csv"
    with corrections.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["_source_row", "national_id"])
        w.writerow([first["_source_row"], fixed_id])
    res = quarantine.release(ctx, FEED, first["_batch_id"], [second["_source_row"]],
                             "ID corrected after a call to the household office", corrections)
    assert res.rows == 2 and res.corrected_columns == ("national_id",)
    result = run_stage(ctx, FEED, "silver")
    assert not result.problems, result.as_dict()
    assert result.counts["silver_rows"] == 1  # the corrected row
    assert result.counts["quarantined"] == 1  # released as is: still a bad check digit
    residents = ctx.storage.read("silver", FEED.entity)
    assert residents.where(F.col("national_id") == fixed_id).count() == 1
    # Both are released now; the one that failed again is open under the release batch.
    open_rows = quarantine.open_rows(ctx, FEED)
    assert open_rows.where(F.col("_batch_id") == first["_batch_id"]).where(
        F.col("_source_row").isin(first["_source_row"], second["_source_row"])).count() == 0
    assert open_rows.where(F.col("_batch_id") == res.release_id).count() == 1
    (rec,) = ctx.records.read("releases").collect()
    assert rec["released_by"] == "steward:test" and rec["reason"].startswith("ID corrected")
    (audit,) = list(entries(Layout(root).audit_dir, action="quarantine_release"))
    assert audit.details["rows"] == 2 and fixed_id not in str(audit.to_dict())
    assert verify(Layout(root).audit_dir).ok
    batches = ctx.records.read("batches").where(F.col("batch_id") == res.release_id)
    silver = batches.where(F.col("stage") == "silver").first()
    assert silver["rows_in"] == silver["rows_out"] + silver["duplicates"] + silver["quarantined"]


def test_release_refuses_unknown_or_released_rows(quarantined):
    ctx = quarantined
    (row,) = quarantine.show(ctx, FEED, rule="national_id.check_digit", limit=1)
    with pytest.raises(quarantine.ReleaseError, match="needs a reason"):
        quarantine.release(ctx, FEED, row["_batch_id"], [row["_source_row"]], " ")
    with pytest.raises(quarantine.ReleaseError, match="no open quarantined row"):
        quarantine.release(ctx, FEED, row["_batch_id"], [999999], "typo")
    with pytest.raises(quarantine.ReleaseError, match="without personal data") as info:
        quarantine.release(ctx, FEED, row["_batch_id"], [row["_source_row"]],
                           "ID is A123456789 per phone call")
    assert "A123456789" not in str(info.value)
    assert ctx.records.read("releases").count() == 0  # refused before anything was written
    res = quarantine.release(ctx, FEED, row["_batch_id"], [row["_source_row"]],
                             "checked by phone")
    # A release record left without its bronze record (a crash in between) is not mistaken for
    # a landed file by the bronze stage, which has no file to read for it.
    ctx.records.append("deliveries", [{"feed": FEED.name, "batch_id": "release-orphan",
                                       "file_name": "release of x", "status": "landed",
                                       "run_id": "r", "at": ctx.now}])
    assert run_stage(ctx, FEED, "bronze").batches == 0
    assert ctx.storage.contains("bronze", FEED.name, "_batch_id", res.release_id)
    with pytest.raises(quarantine.ReleaseError, match="no open quarantined row"):
        quarantine.release(ctx, FEED, row["_batch_id"], [row["_source_row"]], "again")
