"""The stage shells on generated deliveries: verification, resends, refusals, gates."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs import residents_coverage
from kernel import contracts
from kernel.layout import Layout
from quality.ids import CHECK_BRONZE, CHECK_LANDED, CHECK_SILVER, RULE_MALFORMED
from sandbox.generate import generate
from sandbox.generate.household import IssueRates
from stages.feed import run_feed, run_stage
from stages.gates import freshness_problem, volume_problem
from stages.publish import publish
from tests.lineage.spec import openlineage_spec

FEED = contracts.feed("moi.household_registry")
KEY = "pipeline-test-key-0123456789-abcdefghijkl"


def _inbox(root: str) -> Path:
    return Path(root) / "inbox" / FEED.delivery.inbox


def test_land_verifies_and_keeps_the_file_unchanged(ctx, root):
    generate(Path(root), feeds=["moi.household_registry"], persons=30, seed=1, days=1)
    original = (_inbox(root) / "MOI_HHR_20241101.csv").read_bytes()
    res = run_stage(ctx, FEED, "land")
    assert res.counts == {"landed_files": 1} and not res.problems
    assert list(_inbox(root).iterdir()) == []
    (folder,) = (Path(root) / "landing" / FEED.name).iterdir()
    assert (folder / "MOI_HHR_20241101.csv").read_bytes() == original
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["batch_id"] == folder.name and manifest["bytes"] == len(original)
    assert (folder / "MOI_HHR_20241101.csv.sha256").read_text().split()[0] == manifest["sha256"]

    # The same file resent: recorded as a duplicate delivery, not landed again.
    generate(Path(root), feeds=["moi.household_registry"], persons=30, seed=1, days=1)
    again = run_stage(ctx, FEED, "land")
    assert again.counts == {"duplicate_files": 1} and again.batches == 0
    landing = Path(root) / "landing" / FEED.name
    assert sorted(p.name for p in landing.iterdir()) == sorted([folder.name, "_duplicates"])
    (note,) = (landing / "_duplicates" / ctx.run_id).iterdir()  # what recovery would record
    assert note.name == "MOI_HHR_20241101.csv.duplicate.json"
    assert json.loads(note.read_text(encoding="utf-8"))["batch_id"] == folder.name


def test_corrupted_and_unverifiable_deliveries_are_refused(ctx, root):
    generate(Path(root), feeds=["moi.household_registry"], persons=30, seed=2, days=2)
    inbox = _inbox(root)
    damaged = inbox / "MOI_HHR_20241101.csv"
    damaged.write_bytes(damaged.read_bytes()[:-40])  # truncated in transfer
    (inbox / "MOI_HHR_20241102.csv.sha256").unlink()
    (inbox / "notes.txt").write_text("hello")
    res = run_stage(ctx, FEED, "land")
    reasons = {p.file: p.reason for p in res.problems}
    assert "SHA-256 mismatch" in reasons["MOI_HHR_20241101.csv"]
    assert "missing .sha256 companion" in reasons["MOI_HHR_20241102.csv"]
    assert "file name does not match" in reasons["notes.txt"]
    assert all(str(p).startswith("moi.household_registry: ") for p in res.problems)
    assert res.counts == {"refused": 3}
    rejected = Path(root) / "landing" / FEED.name / "_rejected" / "test-run"
    assert sorted(p.name for p in rejected.iterdir()) == [
        "MOI_HHR_20241101.csv", "MOI_HHR_20241101.csv.refusal.json",
        "MOI_HHR_20241101.csv.sha256", "MOI_HHR_20241102.csv",
        "MOI_HHR_20241102.csv.refusal.json", "notes.txt", "notes.txt.refusal.json"]
    assert not run_stage(ctx, FEED, "bronze").batches


def test_a_failed_gate_leaves_silver_unchanged(ctx, root):
    generate(Path(root), feeds=["moi.household_registry"], persons=60, seed=3, days=1)
    run_feed(ctx, FEED)
    version = ctx.storage.version("silver", FEED.entity)
    events = ctx.storage.read("silver", FEED.name).count()
    # Half the identifiers of the next delivery carry a wrong check digit: more than the
    # contract's maximum quarantined share, so the whole batch fails.
    generate(Path(root), feeds=["moi.household_registry"], persons=60, seed=4, days=1,
             start=dt.date(2024, 12, 1), rates=IssueRates.parse(["invalid_check_digit=0.6"]))
    stages = run_feed(ctx, FEED)
    (problem,) = stages[2].problems
    assert problem.file == "MOI_HHR_20241201.csv"
    assert "quality gate failed" in problem.reason and "quarantined" in problem.reason
    assert ctx.storage.version("silver", FEED.entity) == version
    assert ctx.storage.read("silver", FEED.name).count() == events
    assert not ctx.storage.contains("quarantine", FEED.name, "_batch_id",
                                    stages[0].counts and _batch_of(ctx, "MOI_HHR_20241201.csv"))
    failed = ctx.records.read("batches").where(F.col("status") == "failed").collect()
    assert len(failed) == 1 and "national_id.check_digit" in failed[0]["reason"]


def _batch_of(ctx, file_name: str) -> str:
    row = ctx.records.read("deliveries").where(F.col("file_name") == file_name).first()
    return str(row["batch_id"])


def test_publish_refuses_without_a_key(ctx, root, monkeypatch):
    generate(Path(root), feeds=["moi.household_registry"], persons=20, seed=5, days=1)
    run_feed(ctx, FEED)
    monkeypatch.delenv("LAKEHOUSE_PSEUDONYM_KEY", raising=False)
    res = publish(ctx, residents_coverage.contract(), dt.date(2024, 12, 1))
    assert res.status == "refused" and "no pseudonymisation key" in res.problems[0].reason
    assert not ctx.storage.exists("gold", "person_coverage")
    monkeypatch.setenv("LAKEHOUSE_PSEUDONYM_KEY", "too-short")
    res = publish(ctx, residents_coverage.contract(), dt.date(2024, 12, 1))
    assert res.status == "refused" and "too short" in res.problems[0].reason
    assert "too-short" not in str(res.as_dict())
    from audit.log import entries

    refusals = [e for e in entries(Layout(root).audit_dir, action="gate_failure")]
    assert len(refusals) == 2 and "too-short" not in str([e.to_dict() for e in refusals])


def _results_reference(ctx) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The reference to the household feed's quality results, computed here from the table."""
    import hashlib

    ids = sorted({r["result_id"] for r in ctx.records.read("quality_results")
                  .where(F.col("feed") == FEED.name).collect()})
    assert ids
    return {"count": len(ids), "sha256": hashlib.sha256("\n".join(ids).encode()).hexdigest()}


def test_publish_records_key_id_and_inputs_and_is_not_repeated(ctx, root, monkeypatch):
    generate(Path(root), feeds=["moi.household_registry"], persons=25, seed=6, days=2)
    run_feed(ctx, FEED)
    monkeypatch.setenv("LAKEHOUSE_PSEUDONYM_KEY", KEY)
    dc = residents_coverage.contract()
    res = publish(ctx, dc, dt.date(2024, 12, 1))
    assert res.status == "published" and res.version == 0
    meta = ctx.storage.commit_metadata("gold", "person_coverage")
    assert meta["key_id"] == res.key_id and meta["run_id"] == "test-run"
    assert meta["inputs"][FEED.name]["contract_version"] == FEED.version
    assert meta["inputs"][FEED.name]["silver_version"] == ctx.storage.version("silver", FEED.entity)
    assert meta["quality_results"] == _results_reference(ctx) and KEY not in json.dumps(meta)
    again = publish(ctx, dc, dt.date(2024, 12, 1))
    assert again.status == "up_to_date" and ctx.storage.version("gold", "person_coverage") == 0
    from audit.log import entries, verify

    audited = [(e.action, e.details.get("status")) for e in entries(Layout(root).audit_dir)
               if e.details.get("dataset") == dc.name]
    assert audited == [("publish", "published"), ("run", "up_to_date")]
    folder = Layout(root).audit_dir
    assert verify(folder).ok and KEY not in json.dumps([e.to_dict() for e in entries(folder)])
    # A third day: more quality results, the same bounded reference (a count and a digest).
    generate(Path(root), feeds=["moi.household_registry"], persons=25, seed=6, days=3)
    run_feed(ctx, FEED)
    third = publish(ctx, dc, dt.date(2024, 12, 2))
    later = ctx.storage.commit_metadata("gold", "person_coverage")["quality_results"]
    assert third.version == 1 and later == _results_reference(ctx)
    assert later["count"] > meta["quality_results"]["count"] and set(later) == {"count", "sha256"}


def test_cli_run_prints_one_line_per_problem_and_fails(root, monkeypatch, capsys, spark):
    from cli.main import main

    generate(Path(root), feeds=["moi.household_registry"], persons=10, seed=7, days=1)
    src = _inbox(root) / "MOI_HHR_20241101.csv"
    digest = src.with_suffix(".csv.sha256").read_text().split()[0]
    (_inbox(root) / "MOI_HHR_20241102.csv.sha256").write_text(f"{digest}  MOI_HHR_20241102.csv\n")
    (_inbox(root) / "MOI_HHR_20241102.csv").write_bytes(src.read_bytes() + b"x")
    monkeypatch.setenv("LAKEHOUSE_ROOT", root)
    assert main(["run", FEED.name]) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("✗")]
    assert lines == [f"✗ {FEED.name}: MOI_HHR_20241102.csv: refused: SHA-256 mismatch: the "
                     f"companion declares {_declared(root)}…, the file has "
                     f"{_actual(root)}… (corrupted or incomplete transfer)"]
    assert "Traceback" not in err


def _declared(root: str) -> str:
    rejected = Path(root) / "landing" / FEED.name / "_rejected"
    (companion,) = rejected.glob("*/MOI_HHR_20241102.csv.sha256")
    return companion.read_text().split()[0][:16]


def _actual(root: str) -> str:
    import hashlib

    rejected = Path(root) / "landing" / FEED.name / "_rejected"
    (data,) = rejected.glob("*/MOI_HHR_20241102.csv")
    return hashlib.sha256(data.read_bytes()).hexdigest()[:16]


def test_malformed_records_are_quarantined_not_lost(ctx, root):
    import hashlib

    generate(Path(root), feeds=["moi.household_registry"], persons=20, seed=8, days=1)
    path = _inbox(root) / "MOI_HHR_20241101.csv"
    data = path.read_bytes() + "A123456789,王小明,1,0780315\r\n".encode("cp950")
    path.write_bytes(data)
    Path(f"{path}.sha256").write_text(f"{hashlib.sha256(data).hexdigest()}  {path.name}\n")
    run_feed(ctx, FEED)
    q = ctx.storage.read("quarantine", FEED.name).where(
        F.array_contains("_rule_ids", RULE_MALFORMED)).collect()
    assert len(q) == 1
    assert q[0]["_raw_record"] == "A123456789,王小明,1,0780315"
    assert q[0]["_source_row"] == data.count(b"\r\n") - 1
    (batch,) = ctx.records.read("batches").where(F.col("stage") == "silver").collect()
    assert batch["status"] == "ok" and batch["quarantined"] >= 1
    assert batch["rows_in"] == batch["rows_out"] + batch["duplicates"] + batch["quarantined"]


def test_reconciliation_is_recorded_for_every_batch(ctx, root):
    generate(Path(root), feeds=["moi.household_registry"], persons=25, seed=9, days=2)
    run_feed(ctx, FEED)
    checks = ctx.records.read("reconciliation").collect()
    by_batch: dict[str, set[str]] = {}
    for c in checks:
        by_batch.setdefault(c["batch_id"], set()).add(c["check"])
        assert c["holds"] and c["expected"] == c["actual"]
    assert len(by_batch) == 2
    for checks_of_batch in by_batch.values():
        assert checks_of_batch == {
            CHECK_LANDED, CHECK_BRONZE, CHECK_SILVER}


def test_volume_gate(ctx):
    history = [{"feed": FEED.name, "batch_id": f"b{i}", "stage": "silver", "status": "ok",
                "rows_in": n, "at": dt.datetime(2024, 11, i + 1)}
               for i, n in enumerate([100, 120, 80])]
    assert volume_problem(ctx, FEED, "new", 5000) is None  # too little history yet
    ctx.records.append("batches", history)
    assert volume_problem(ctx, FEED, "new", 150) is None
    assert volume_problem(ctx, FEED, "new", 11) is None
    high = volume_problem(ctx, FEED, "new", 5000)
    assert high == ("5,000 records, 50x the median 100 of the last 3 accepted "
                    "batches (allowed 1/10x to 10x)")
    assert "0.05x" in (volume_problem(ctx, FEED, "new", 5) or "")


def test_freshness_gate(ctx, root):
    assert "no delivery has ever landed" in str(freshness_problem(ctx, FEED))
    generate(Path(root), feeds=["moi.household_registry"], persons=5, seed=10, days=1)
    run_stage(ctx, FEED, "land")
    assert freshness_problem(ctx, FEED) is None
    later = dataclasses.replace(ctx, now=ctx.now + dt.timedelta(hours=40))
    problem = freshness_problem(later, FEED)
    assert problem is not None
    assert problem.reason == "gate.freshness: the last landed 40h ago (limit 36h for a daily feed)"
    results = ctx.records.read("quality_results").where(F.col("rule_id") == "gate.freshness")
    assert sorted(r["success"] for r in results.collect()) == [False, False, True, True]


def test_every_job_run_leaves_valid_lineage_without_personal_data(ctx, root, monkeypatch):
    from lineage.validate import validate_event
    from sandbox.generate.household import decode_cp950

    generate(Path(root), feeds=["moi.household_registry"], persons=30, seed=12, days=1)
    text = decode_cp950((_inbox(root) / "MOI_HHR_20241101.csv").read_bytes())
    ids = {line.split(",")[0].strip() for line in text.splitlines()[1:] if line}
    run_feed(ctx, FEED)
    monkeypatch.setenv("LAKEHOUSE_PSEUDONYM_KEY", KEY)
    publish(ctx, residents_coverage.contract(), dt.date(2024, 12, 1))
    lines = [line for p in sorted((Path(root) / "system" / "lineage").glob("*.jsonl"))
             for line in p.read_text(encoding="utf-8").splitlines()]
    events = [json.loads(line) for line in lines]
    runs = [(e["job"]["name"], e["eventType"]) for e in events]
    for job in ("land", "bronze", "silver"):
        assert (f"{FEED.name}.{job}", "START") in runs
        assert (f"{FEED.name}.{job}", "COMPLETE") in runs
    assert ("publish.gold.person_coverage", "COMPLETE") in runs
    (gold,) = [e for e in events if e["eventType"] == "COMPLETE"
               and e["job"]["name"] == "publish.gold.person_coverage"]
    fields = gold["outputs"][0]["facets"]["columnLineage"]["fields"]
    (src,) = fields["person_key"]["inputFields"]
    assert src["field"] == "national_id" and src["transformations"][0]["masking"] is True
    (silver,) = [e for e in events if e["eventType"] == "COMPLETE"
                 and e["job"]["name"] == f"{FEED.name}.silver"]
    assertions = silver["outputs"][0]["facets"]["dataQualityAssertions"]["assertions"]
    assert {a["assertion"] for a in assertions} >= {"national_id.check_digit", "sex.code"}
    blob = "\n".join(lines)
    assert not [i for i in ids if i and i in blob] and KEY not in blob
    spec = openlineage_spec()  # the schemas beside the checkout; else a clear skip, here
    for e in events:
        assert validate_event(e, spec) == [], e["job"]["name"]


@pytest.mark.parametrize("form", ["{d}  {n}\n", "{d} *{n}\n", "{D}\n", "SHA256 ({n}) = {d}\n"])
def test_companion_forms(ctx, root, form):
    import hashlib

    generate(Path(root), feeds=["moi.household_registry"], persons=5, seed=13, days=1)
    path = _inbox(root) / "MOI_HHR_20241101.csv"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    Path(f"{path}.sha256").write_text(form.format(d=digest, D=digest.upper(), n=path.name))
    assert run_stage(ctx, FEED, "land").counts == {"landed_files": 1}


def test_key_rotation_republishes_whole_under_the_new_key(ctx, root, monkeypatch):
    generate(Path(root), feeds=["moi.household_registry"], persons=20, seed=14, days=1)
    run_feed(ctx, FEED)
    dc = residents_coverage.contract()
    monkeypatch.setenv("LAKEHOUSE_PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("LAKEHOUSE_PSEUDONYM_KEY_ID", "2026-q3")
    first = publish(ctx, dc, dt.date(2024, 12, 1))
    monkeypatch.setenv("LAKEHOUSE_PSEUDONYM_KEY", KEY[::-1])
    monkeypatch.setenv("LAKEHOUSE_PSEUDONYM_KEY_ID", "2026-q4")
    second = publish(ctx, dc, dt.date(2024, 12, 1))
    assert (first.version, second.version) == (0, 1) and second.key_id == "2026-q4"
    old = {r[0] for r in ctx.storage.read("gold", "person_coverage", version=0)
           .select("person_key").collect()}
    new = {r[0] for r in ctx.storage.read("gold", "person_coverage").select("person_key").collect()}
    assert len(old) == len(new) == first.rows and not old & new  # every key changed, none mixed
    assert ctx.storage.commit_metadata("gold", "person_coverage", version=0)["key_id"] == "2026-q3"


def test_a_candidate_with_personal_data_is_refused(ctx, root, monkeypatch):
    """A defect that leaks an identifier, a phone or a name into a text column blocks the
    publish: the leak gate names dataset, column, entity and count, never the value."""
    from jobs import residents_coverage as job

    generate(Path(root), feeds=["moi.household_registry"], persons=20, seed=15, days=1)
    run_feed(ctx, FEED)
    monkeypatch.setenv("LAKEHOUSE_PSEUDONYM_KEY", KEY)
    original = job.residents_coverage
    one = ctx.storage.read("silver", FEED.entity).first()

    def leaky(inputs, snapshot_date, contract):
        out = original(inputs, snapshot_date, contract)
        planted = F.when(F.col("sex") == "1", F.lit(f"聯絡 0912-345-678 受款人{one['name']}"))
        return out.withColumn("sex", F.coalesce(planted, F.col("sex")))  # a kept text column

    monkeypatch.setattr(job, "residents_coverage", leaky)
    res = publish(ctx, residents_coverage.contract(), dt.date(2024, 12, 1))
    assert res.status == "refused"
    reasons = " ".join(p.reason for p in res.problems)
    assert "gold.person_coverage.sex" in reasons and "TW_PHONE" in reasons
    assert "PERSON" in reasons
    assert one["name"] not in reasons and "0912" not in reasons
    assert not ctx.storage.exists("gold", "person_coverage")
