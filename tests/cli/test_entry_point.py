"""Every ``lakehouse`` command as a user runs it: the installed console script, in a new
process, on one small lakehouse built once for the module.

The lakehouse: ``lakehouse generate`` (40 persons, one day of the household registry, with wrong
check digits planted) and ``lakehouse run`` as processes, then one publish of
``gold.person_coverage`` from that one feed in this process (the ``publish`` command needs all
six feeds; :mod:`jobs.residents_coverage` is the one-feed contract the other publish tests use).
Each test asserts exit statuses and output lines, with the values recomputed from the delivered
file, the Delta tables (read with ``deltalake``) and the audit log's JSON lines; the outputs for
people other than stewards hold no national ID and no name of the delivery.

``run``, ``publish``, ``reidentify``, ``audit verify`` and ``accept-change`` have their own
process tests (tests/cli/test_audit.py, test_pii.py, test_publish.py); ``demo`` runs every DAG
through Airflow for minutes (tests/test_end_to_end.py), so only its refusals run here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

FEED = "moi.household_registry"
ENTITY = "moi.residents"
DATASET = "gold.person_coverage"
CHECK_DIGIT = "national_id.check_digit"
KEY = "entry-point-test-key-0123456789-abcdef"
USER = "steward-entry-point"
RUN_ID = "entry-point-run"
NATIONAL_ID = re.compile(r"[A-Z][1289]\d{8}")
EXE = Path(sys.executable).with_name("lakehouse")
UNSET = ("LAKEHOUSE_ROLE", "LAKEHOUSE_DEBUG", "LAKEHOUSE_PSEUDONYM_KEY_ID", "AIRFLOW_CTX_DAG_ID",
         "LAKEHOUSE_PSEUDONYM_KEY_CONN", "AIRFLOW_CONN_LAKEHOUSE_PSEUDONYM_KEY")


@dataclass(frozen=True)
class Done:
    """A finished ``lakehouse`` process."""

    code: int
    out: str
    err: str

    @property
    def problems(self) -> list[str]:
        """The ``✗`` lines of standard error (Spark's JVM writes its own lines there too)."""
        return [line for line in self.err.splitlines() if line.startswith("✗")]

    @property
    def lines(self) -> list[str]:
        """Standard output, line by line."""
        return self.out.splitlines()


@dataclass
class Lake:
    """The module's storage root, the environment of its processes, and what built it."""

    root: Path
    env: dict[str, str]
    built: dict[str, Done] = field(default_factory=dict)

    def start(self, *args: str, role: str | None = None) -> subprocess.Popen[str]:
        """Start ``lakehouse ARGS`` as ``role`` (none: a new user's default, analyst)."""
        env = {**self.env, **({"LAKEHOUSE_ROLE": role} if role else {})}
        return subprocess.Popen([str(EXE), *args], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, encoding="utf-8")

    def __call__(self, *args: str, role: str | None = None) -> Done:
        """Run ``lakehouse ARGS`` to its end."""
        return finish(self.start(*args, role=role))

    def table(self, zone: str, name: str) -> list[dict[str, Any]]:
        """The rows of a Delta table of the lakehouse, read without Spark."""
        return list(DeltaTable(str(self.root / zone / name)).to_pyarrow_table().to_pylist())

    def audit(self) -> list[dict[str, Any]]:
        """The audit log's entries, as written (JSON lines, one file a day)."""
        folder = self.root / "system" / "audit"
        return [json.loads(line) for f in sorted(folder.glob("audit-*.jsonl"))
                for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]

    def delivered(self) -> list[dict[str, str]]:
        """The delivered CSV's records, decoded as the agency wrote them (CP950)."""
        from sandbox.generate.household import decode_cp950

        path = self.root / "landing" / FEED
        (data,) = [p for p in path.rglob("MOI_HHR_*.csv") if "_rejected" not in p.parts]
        return list(csv.DictReader(io.StringIO(decode_cp950(data.read_bytes()))))

    def check_private(self, text: str, what: str) -> None:
        """No national ID and no delivered name in ``text`` (nothing is quoted on failure)."""
        assert not NATIONAL_ID.search(text), f"{what} holds what looks like a national ID"
        names = {r["姓名"].strip() for r in self.delivered() if len(r["姓名"].strip()) >= 2}
        assert names and not [n for n in names if n in text], f"{what} holds a delivered name"


def finish(proc: subprocess.Popen[str]) -> Done:
    """Wait for a started process; its exit status and outputs."""
    out, err = proc.communicate(timeout=300)
    return Done(proc.returncode, out, err)


def many(lake: Lake, *calls: tuple[tuple[str, ...], str | None]) -> list[Done]:
    """Run several ``(args, role)`` at once (the machine has two cores), in order of calls."""
    return [finish(p) for p in [lake.start(*args, role=role) for args, role in calls]]


def rows(text: str) -> list[list[str]]:
    """The body rows of the rich tables in ``text``, as stripped cells."""
    return [[c.strip() for c in line.strip().strip("│").split("│")]
            for line in text.splitlines() if line.startswith("│")]


def one_line(done: Done, code: int = 2) -> str:
    """The one standard error line of a refusal before Spark (nothing on standard output)."""
    assert (done.code, done.out) == (code, ""), done
    assert done.err.count("\n") == 1, done.err
    return done.err.rstrip("\n")


def _environment(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update({"LAKEHOUSE_ROOT": str(root), "LAKEHOUSE_PSEUDONYM_KEY": KEY,
                "LAKEHOUSE_USER": USER, "COLUMNS": "400", "PYTHONIOENCODING": "utf-8",
                "SPARK_MASTER": "local[1]", "LAKEHOUSE_SHUFFLE_PARTITIONS": "1"})
    return env


def _publish(spark: Any, root: Path) -> None:
    """Publish gold.person_coverage version 0 from the household registry alone."""
    from jobs import residents_coverage
    from kernel.config import Settings
    from kernel.context import Context
    from kernel.records import Records
    from kernel.storage import Storage
    from stages.publish import publish

    storage = Storage(spark, str(root))
    ctx = Context(settings=Settings.from_env({**os.environ, "LAKEHOUSE_ROOT": str(root)}),
                  storage=storage, records=Records(storage), run_id="entry-point-publish",
                  now=dt.datetime.now(dt.UTC).replace(tzinfo=None), actor=USER)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAKEHOUSE_PSEUDONYM_KEY", KEY)
        res = publish(ctx, residents_coverage.contract(), dt.date(2024, 12, 1))
    assert (res.status, res.version) == ("published", 0), res.as_dict()


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Lake:
    """A lakehouse with one quarantining delivery run through and one dataset published."""
    root = tmp_path_factory.mktemp("entry-point") / "lakehouse"
    root.mkdir()
    lake = Lake(root, _environment(root))
    lake.built["generate"] = lake("generate", "--persons", "40", "--days", "1", "--start",
                                  "2024-11-01", "--feed", FEED, "--rate",
                                  "invalid_check_digit=0.1")
    assert lake.built["generate"].code == 0, lake.built["generate"]
    running = lake.start("run", FEED, "--run-id", RUN_ID)
    spark = request.getfixturevalue("spark")  # this process's session starts meanwhile
    lake.built["run"] = finish(running)
    assert lake.built["run"].code == 0, lake.built["run"]
    _publish(spark, root)
    return lake


def _quarantined(lake: Lake, batch: str | None = None) -> list[dict[str, Any]]:
    return sorted((r for r in lake.table("quarantine", FEED)
                   if batch is None or r["_batch_id"] == batch),
                  key=lambda r: (r["_batch_id"], r["_source_row"]))


def _batch(lake: Lake) -> str:
    """The batch id of the delivered file."""
    (batch,) = {r["batch_id"] for r in lake.table("system", "deliveries")
                if r["file_name"] == "MOI_HHR_20241101.csv"}
    return str(batch)


# ----------------------------------------------------------------------------- generate, run
def test_generate_reports_what_it_wrote(lake: Lake) -> None:
    """``generate`` exits 0 with one summary line (persons, days, start, seed, inbox) and one
    line per feed whose row count is the delivered file's (read back once ``run`` landed it)."""
    done = lake.built["generate"]
    assert done.err == ""
    first, feed_line = done.lines
    assert first == f"✓ 40 persons, 1 day(s) from 2024-11-01, seed 42, under {lake.root}/inbox"
    records = lake.delivered()
    assert feed_line.startswith(f"  {FEED}: 1 files, {len(records)} rows; issues: ")
    planted = dict(re.findall(r"(\w+) (\d+)", feed_line.split("issues: ", 1)[1]))
    assert int(planted["invalid_check_digit"]) >= 2


def test_run_reports_each_stage_and_what_was_quarantined(lake: Lake) -> None:
    """``run`` exits 0 with one line per stage whose counts are the Delta tables', and one note
    naming every quarantined record by rule; the run's quality report is written."""
    done, batch = lake.built["run"], _batch(lake)
    delivered = len(lake.delivered())
    quarantined = _quarantined(lake, batch)
    silver = sum(r["_batch_id"] == batch for r in lake.table("silver", FEED))
    assert "duplicate" not in lake.built["generate"].out  # none planted: every row is counted
    assert silver + len(quarantined) == delivered
    page = lake.root / "system" / "reports" / "quality" / f"{RUN_ID}.html"
    note, report = done.lines[3:]
    assert done.lines[:3] == [
        f"✓ {FEED} land: 1 batch(es), 0 rows; landed_files 1",
        f"✓ {FEED} bronze: 1 batch(es), {delivered} rows",
        f"✓ {FEED} silver: 1 batch(es), {delivered} rows; duplicates 0, duplicates_in_batch 0, "
        f"quarantined {len(quarantined)}, silver_rows {silver}, warnings 0"]
    head, _, listed = note.partition(" quarantined: ")
    assert head == f"! {FEED}: MOI_HHR_20241101.csv: {len(quarantined)} record(s)"
    by_rule: dict[str, list[int]] = {}
    for r in quarantined:
        for rule in r["_rule_ids"]:
            by_rule.setdefault(rule, []).append(r["_source_row"])
    told = {rule: [int(n) for n in numbers.split(", ")]
            for rule, numbers in re.findall(r"([\w.]+) \(records? ([\d, ]+)\)", listed)}
    assert told == by_rule and len(by_rule[CHECK_DIGIT]) >= 2
    assert report == f"quality report: {page}" and page.is_file()
    assert done.problems == []
    lake.check_private(done.out, "run")
    unknown = lake("run", "no.such")
    assert one_line(unknown).startswith("✗ unknown feed 'no.such'; known feeds: ")


def test_generate_and_demo_refuse_what_they_cannot_do(lake: Lake) -> None:
    """Refusals as processes: an unknown feed to ``generate``, a bad argument to ``demo`` (a
    usage error: exit 2 and the usage line) and a demo on an unreachable object store (exit 2,
    before anything is generated); none of them writes to the lakehouse."""
    before = sorted(p.relative_to(lake.root) for p in lake.root.rglob("*"))
    feed, persons = many(lake, (("generate", "--feed", "no.such"), None),
                         (("demo", "--persons", "many"), None))
    assert one_line(feed).startswith(f"✗ --feed: unknown feed(s) no.such; known feeds: {FEED}")
    assert (persons.code, persons.out) == (2, "")
    assert persons.err.splitlines() == [
        "usage: lakehouse demo [-h] [--persons PERSONS] [--seed SEED] [--executor "
        "{embedded,celery}]",
        "lakehouse demo: error: argument --persons: invalid int value: 'many'"]
    env = {**lake.env, "LAKEHOUSE_ROOT": "s3a://bucket/lakehouse", "AWS_ACCESS_KEY_ID": "k",
           "AWS_SECRET_ACCESS_KEY": "s", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}  # closed
    assert one_line(Lake(lake.root, env)("demo")).startswith(
        "✗ the storage root s3a://bucket/lakehouse cannot be reached (")
    assert sorted(p.relative_to(lake.root) for p in lake.root.rglob("*")) == before


# ----------------------------------------------------------------------------- quarantine
def test_quarantine_is_refused_to_other_roles_before_spark(lake: Lake) -> None:
    """Analysts and auditors may not list, show or release quarantined records (exit 2, one
    line naming the role); a steward's unknown feed and empty release are refused too; none of
    the refusals writes an audit entry."""
    entries = len(lake.audit())
    release = ("quarantine", "release", FEED, "--batch", _batch(lake), "--reason", "checked")
    done = many(lake, (("quarantine", "list", FEED), None),
                (("quarantine", "show", FEED), "auditor"),
                ((*release, "--rows", "1"), "analyst"),
                (("quarantine", "list", "no.such"), "steward"),
                (release, "steward"))
    assert [one_line(d) for d in done[:3]] == [
        f'✗ refused: role analyst may not read quarantine."{FEED}": zone quarantine is read by '
        "stewards only",
        f'✗ refused: role auditor may not read quarantine."{FEED}": zone quarantine is read by '
        "stewards only",
        f"✗ refused: role analyst may not release quarantined records of {FEED}: a release is a "
        "steward's action (LAKEHOUSE_ROLE=steward)"]
    assert one_line(done[3]).startswith("✗ unknown feed 'no.such'; known feeds: ")
    assert one_line(done[4]) == (f"✗ {FEED}: name the rows to release (--rows) or give "
                                 "corrections (--corrections)")
    assert len(lake.audit()) == entries


def test_a_steward_sees_the_quarantined_records_and_is_audited(lake: Lake) -> None:
    """``quarantine show`` as a steward exits 0 with the open records failing the rule, as
    delivered (the national IDs of the quarantine table), and appends one audit entry naming
    the steward, the feed, the rule and the number of rows shown, never a value."""
    entries = len(lake.audit())
    done = lake("quarantine", "show", FEED, "--rule", CHECK_DIGIT, role="steward")
    assert done.code == 0 and done.problems == [], done
    assert done.lines[0].strip() == (f"open quarantined rows of {FEED} (personal data: "
                                     "stewards only)")
    expected = [r for r in _quarantined(lake) if CHECK_DIGIT in r["_rule_ids"]]
    shown = rows(done.out)
    assert [(c[0], int(c[1]), c[2], c[3]) for c in shown] == [
        (r["_batch_id"], r["_source_row"], ", ".join(r["_rule_ids"]), r["national_id"])
        for r in expected]
    new = lake.audit()[entries:]
    assert [(e["action"], e["actor"]) for e in new] == [("query", USER)]
    details = new[0]["details"]
    assert {k: details[k] for k in ("feed", "zone", "rule", "batch_id", "rows")} == {
        "feed": FEED, "zone": "quarantine", "rule": CHECK_DIGIT, "batch_id": None,
        "rows": len(expected)}
    assert not NATIONAL_ID.search(json.dumps(new, ensure_ascii=False))


def _corrections(lake: Lake, tmp_path: Path, row: int) -> tuple[Path, str]:
    """A corrections file giving ``row`` a valid national ID no resident has yet."""
    import random

    from kernel.twid import make_person_id

    taken = {r["national_id"] for r in lake.table("silver", ENTITY)}
    rng = random.Random(5)
    fixed = make_person_id(rng)
    while fixed in taken:
        fixed = make_person_id(rng)
    path = tmp_path / "fixes.csv"
    path.write_text(f"_source_row,national_id\n{row},{fixed}\n", encoding="utf-8")
    return path, fixed


def _released(lake: Lake, done: Done, batch: str, fixed: str, rows_: list[int]) -> str:
    """Check the release's two lines and where its rows went; the release id."""
    assert done.code == 0 and done.problems == [], done
    first, second = done.lines
    match = re.fullmatch(rf"✓ released 2 row\(s\) of {batch} as (release-[0-9a-f]{{12}}) "
                         r"\(corrected: national_id\); validating them now…", first)
    assert match, first
    release_id = match.group(1)
    assert second == "✓ 1 row(s) reached silver, 1 quarantined again, 0 duplicate(s)"
    residents = [r for r in lake.table("silver", ENTITY) if r["national_id"] == fixed]
    assert len(residents) == 1
    assert [r["_source_row"] for r in _quarantined(lake, release_id)] == [rows_[1]]
    (record,) = lake.table("system", "releases")
    assert (record["release_id"], record["batch_id"], list(record["source_rows"]),
            record["released_by"], record["reason"]) == (
        release_id, batch, sorted(rows_), USER, "checked with the household office")
    (entry,) = [e for e in lake.audit() if e["action"] == "quarantine_release"]
    assert entry["actor"] == USER and entry["details"]["rows"] == 2
    assert fixed not in json.dumps(entry, ensure_ascii=False)
    return release_id


def _listed(lake: Lake) -> list[list[str]]:
    """The summary ``quarantine list`` should print, from the quarantine and releases tables."""
    released = {(r["batch_id"], n) for r in lake.table("system", "releases")
                for n in r["source_rows"]}
    counts: Counter[tuple[str, str, bool]] = Counter(
        (r["_batch_id"], rule, (r["_batch_id"], r["_source_row"]) in released)
        for r in _quarantined(lake) for rule in r["_rule_ids"])
    keys = sorted({(b, rule) for b, rule, _ in counts})
    return [[b, rule, str(counts[b, rule, False]), str(counts[b, rule, True])]
            for b, rule in keys]


def test_a_release_reaches_silver_and_the_list_counts_it(lake: Lake, tmp_path: Path) -> None:
    """``quarantine release`` of two rows (one corrected) exits 0 with two lines; the corrected
    row is in silver, the other quarantined again under the release batch, the release is
    recorded and audited. ``list`` then counts open and released rows per batch and rule, no
    value. Releasing rows a batch does not have exits 1 with one line."""
    batch = _batch(lake)
    checked = [r["_source_row"] for r in _quarantined(lake, batch) if CHECK_DIGIT in r["_rule_ids"]]
    first, second = checked[:2]
    fixes, fixed = _corrections(lake, tmp_path, first)
    done, unknown = many(  # the second is refused before it writes anything
        lake, (("quarantine", "release", FEED, "--batch", batch, "--rows", str(second),
                "--corrections", str(fixes), "--reason", "checked with the household office"),
               "steward"),
        (("quarantine", "release", FEED, "--batch", "MOI_HHR_19990101-000000000000",
          "--rows", str(first), "--reason", "checked"), "steward"))
    release_id = _released(lake, done, batch, fixed, [first, second])
    listed = lake("quarantine", "list", FEED, role="steward")
    assert listed.code == 0 and listed.problems == [], listed
    assert listed.lines[0].strip() == f"quarantine of {FEED}"
    assert rows(listed.out) == _listed(lake)
    assert [release_id, CHECK_DIGIT, "1", "0"] in rows(listed.out)
    assert [batch, CHECK_DIGIT, str(len(checked) - 2), "2"] in rows(listed.out)
    lake.check_private(listed.out, "quarantine list")
    assert (unknown.code, unknown.out, unknown.problems) == (1, "", [
        f"✗ {FEED}: batch MOI_HHR_19990101-000000000000 has no open quarantined row(s) {first}"])


# ----------------------------------------------------------------------------- reports
def _run_ids(lake: Lake) -> set[str]:
    """Every run id of the system tables the quality report reads."""
    names = ("deliveries", "batches", "quality_results", "reconciliation", "publishes")
    return {str(r["run_id"]) for n in names if (lake.root / "system" / n).is_dir()
            for r in lake.table("system", n) if r.get("run_id")}


def test_quality_report_of_every_run_and_of_one(lake: Lake) -> None:
    """``quality report`` exits 0 with one line counting a page per run of the system tables;
    ``--run`` writes that run's page and the index (two lines). No page holds a national ID or
    a delivered name."""
    folder = lake.root / "system" / "reports" / "quality"
    every = lake("quality", "report")  # one after the other: both write the index
    one = lake("quality", "report", "--run", RUN_ID)
    runs = _run_ids(lake)
    assert RUN_ID in runs and len(runs) >= 2
    assert (every.code, every.out, every.err) == (
        0, f"{len(runs)} run report(s); index: {folder / 'index.html'}\n", "")
    assert (one.code, one.out, one.err) == (
        0, f"quality report: {folder / f'{RUN_ID}.html'}\nindex: {folder / 'index.html'}\n", "")
    assert {p.name for p in folder.glob("*.html")} == {f"{r}.html" for r in runs | {"index"}}
    page = (folder / f"{RUN_ID}.html").read_text(encoding="utf-8")
    assert RUN_ID in page and CHECK_DIGIT in page and "MOI_HHR_20241101.csv" in page
    for p in folder.glob("*.html"):
        lake.check_private(p.read_text(encoding="utf-8"), p.name)


def test_quality_report_of_an_unknown_run_is_refused(lake: Lake) -> None:
    """A run id no system table holds (a typo) is told, not reported as a quiet run."""
    done = lake("quality", "report", "--run", "no-such-run")
    assert one_line(done, 1) == (f"✗ quality report: no run 'no-such-run' in the system tables "
                                 f"under {lake.root}")
    assert not (lake.root / "system" / "reports" / "quality" / "no-such-run.html").exists()


def test_lineage_report_of_the_published_version(lake: Lake, tmp_path: Path) -> None:
    """``lineage report`` exits 0 printing the page's path; the page names the version, the
    delivered file and its digest, and holds no personal value. An unknown dataset is a usage
    error (2), a version the table does not have a failure (1), one line each; ``--out`` is
    required (2, usage line)."""
    out = tmp_path / "lineage.html"
    done, unknown, version, no_out = many(
        lake, (("lineage", "report", DATASET, "--out", str(out)), None),
        (("lineage", "report", "gold.no_such", "--out", str(out)), None),
        (("lineage", "report", DATASET, "--version", "9", "--out", str(tmp_path / "x")), None),
        (("lineage", "report", DATASET), None))
    assert (done.code, done.out, done.err) == (0, f"{out}\n", "")
    page = out.read_text(encoding="utf-8")
    (delivery,) = [r for r in lake.table("system", "deliveries")
                   if r["file_name"] == "MOI_HHR_20241101.csv"]
    assert f"{DATASET} version 0" in page and str(delivery["sha256"]) in page
    assert "MOI_HHR_20241101.csv" in page and KEY not in page
    lake.check_private(page, "the lineage report")
    assert one_line(unknown).startswith(
        "✗ lineage report: unknown dataset 'gold.no_such'; known datasets: ")
    assert one_line(version, 1) == (f"✗ lineage report: {lake.root}/gold/person_coverage has "
                                    "no version 9 (versions 0..0)")
    assert not (tmp_path / "x").exists()
    assert no_out.code == 2 and no_out.err.splitlines()[-1] == (
        "lakehouse lineage report: error: the following arguments are required: --out")


# ----------------------------------------------------------------------------- personal data
def test_scan_pii_finds_planted_identifiers_and_passes_the_published_dataset(
        lake: Lake, tmp_path: Path) -> None:
    """``scan-pii`` of a CSV with national IDs and a pseudonym column holding one non-key
    exits 1 with one tab-separated line per finding (counts, no value); the published dataset
    is clean (exit 0, said on standard error); a missing path is refused (2)."""
    ids = sorted({r["national_id"] for r in lake.table("silver", ENTITY)
                  if NATIONAL_ID.fullmatch(r["national_id"])})[:5]
    sample = tmp_path / "sample.csv"
    body = "".join(f"{i},{'ab' * 32 if n else 'not-a-key'},ok\n" for n, i in enumerate(ids))
    sample.write_text(f"national_id,person_key,status\n{body}", encoding="utf-8")
    missing = tmp_path / "nothing-here"
    found, clean, absent = many(lake, (("scan-pii", str(sample)), None),
                                (("scan-pii", DATASET), None),
                                (("scan-pii", str(missing)), None))
    assert (found.code, found.problems) == (1, []), found
    assert found.lines == [f"{sample}\tnational_id\tTW_PERSON_ID\t{len(ids)}",
                           f"{sample}\tperson_key\tNOT_A_PSEUDONYM\t1"]
    assert (clean.code, clean.out, clean.problems) == (0, "", []), clean
    assert f"{DATASET}: no personal data found" in clean.err.splitlines()
    assert one_line(absent) == f"✗ scan-pii: {missing}: no such table, file or folder"
    lake.check_private(found.out + found.err + clean.out + clean.err, "scan-pii")


def test_eval_pii_scores_the_labelled_set(lake: Lake, tmp_path: Path) -> None:
    """``eval-pii`` on the original set exits 0: a table for the whole set and the holdout part
    whose tp + fn per entity are the set's labels, a timing line and ``all targets met``; a
    missing file is one line (exit 1); without a PATH both sets are scored, the independent one
    first."""
    from masking.evaluate import DEFAULT_PATH

    records = [json.loads(line) for line in DEFAULT_PATH.read_text(encoding="utf-8")
               .splitlines() if line.strip()]
    missing = tmp_path / "none.jsonl"
    done, absent, both = many(lake, (("eval-pii", str(DEFAULT_PATH)), None),
                              (("eval-pii", str(missing)), None), (("eval-pii",), None))
    assert (done.code, done.err) == (0, ""), done
    # no PATH: both sets, the independent one first; its fresh holdout misses targets (#20)
    titles = [t.split(" (")[0] for t in both.lines if re.match(r"\S+l: (all|holdout) \(", t)]
    assert titles == [f"{n}: {p}" for n in ("independent.jsonl", DEFAULT_PATH.name)
                      for p in ("all", "holdout")]
    assert both.code == 1 and "independent.jsonl: targets missed (holdout)" in both.out, both
    holdout = [r for r in records if r["split"] == "holdout"]
    titles = [line.strip() for line in done.lines if line.strip().startswith(DEFAULT_PATH.name)]
    assert titles == [f"{DEFAULT_PATH.name}: all ({len(records)} texts)",
                      f"{DEFAULT_PATH.name}: holdout ({len(holdout)} texts)"]
    table = rows(done.out)
    for part, chosen in ((table[:len(table) // 2], records), (table[len(table) // 2:], holdout)):
        labels = Counter(s["entity"] for r in chosen for s in r["spans"])
        assert {c[0]: int(c[3]) + int(c[5]) for c in part} == dict(labels)  # tp + fn
        assert all(c[7] == "yes" for c in part)
    assert re.fullmatch(rf"analyzed {len(records)} texts in \d+\.\d\d s \(\d+ texts/s\)",
                        done.lines[-2])
    assert done.lines[-1] == "all targets met"
    assert one_line(absent, 1) == ("✗ eval-pii failed: FileNotFoundError: [Errno 2] No such "
                                   f"file or directory: '{missing}'")


# ----------------------------------------------------------------------------- analysts
def test_tables_lists_what_each_role_may_read(lake: Lake) -> None:
    """``tables`` exits 0 with the tables of the caller's role: for an analyst the published
    datasets with their version and row count (not the stewards' silver, nor a dataset whose
    audience is not theirs); for a steward the silver zone; an unknown role is refused (2)."""
    analyst, steward, admin = many(lake, (("tables",), None),
                                   (("tables", "--zone", "silver"), "steward"),
                                   (("tables",), "admin"))
    assert analyst.code == 0 and analyst.err == "", analyst
    assert analyst.lines[0].strip() == f"tables role analyst may read ({lake.root})"
    by_name = {r[0]: r for r in rows(analyst.out)}
    gold = lake.table("gold", "person_coverage")
    assert by_name[DATASET][1:3] == ["dataset", "0"]
    assert by_name[DATASET][4:6] == [f"{len(gold):,}", "analyst, steward, auditor"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", by_name[DATASET][3])
    assert all(name.split(".")[0] in ("gold", "opendata") for name in by_name)
    assert "gold.deceased_with_active_payments" not in by_name
    lake.check_private(analyst.out, "tables")
    assert steward.code == 0, steward
    silver = {r[0]: r for r in rows(steward.out)}
    assert set(silver) and all(n.startswith("silver.") for n in silver)
    assert silver[f'silver."{ENTITY}"'][4] == f"{len(lake.table('silver', ENTITY)):,}"
    assert one_line(admin) == ("✗ refused: LAKEHOUSE_ROLE='admin' is not a role of the "
                               "lakehouse (one of analyst, steward, auditor)")


def test_describe_a_published_dataset_and_its_refusals(lake: Lake) -> None:
    """``describe`` exits 0 with the dataset's facts (version 0, its row count) and columns,
    no value; an unknown table and a zone the role may not read are refused (2), a version
    the table does not have is a failure (1)."""
    done, unknown, silver, version = many(
        lake, (("describe", DATASET), None), (("describe", "gold.no_such"), None),
        (("describe", f'silver."{ENTITY}"'), None),
        (("describe", DATASET, "--version", "9"), None))
    assert done.code == 0 and done.err == "", done
    assert done.lines[0].startswith(f"{DATASET} — ")
    facts = dict(line.strip().split(": ", 1) for line in done.lines
                 if re.match(r"\s*[a-z_ ()]+: ", line) and not line.startswith("│"))
    assert (facts["kind"], facts["zone"], facts["version"]) == ("dataset", "gold", "0")
    (commit,) = DeltaTable(str(lake.root / "gold" / "person_coverage")).history()
    meta = json.loads(commit["userMetadata"])
    assert (facts["commit run_id"], facts["commit key_id"], facts["commit snapshot_date"]) == (
        meta["run_id"], meta["key_id"], "2024-12-01")
    assert facts["rows"] == f"{len(lake.table('gold', 'person_coverage')):,}"
    columns = [r[0] for r in rows(done.out)]
    assert "person_key" in columns and "national_id" not in columns
    assert done.lines[-1] == f"query it: lakehouse query 'SELECT * FROM {DATASET} LIMIT 10'"
    lake.check_private(done.out, "describe")
    assert one_line(unknown).startswith("✗ no table gold.no_such in the catalog")
    assert one_line(silver) == (f'✗ refused: role analyst may not read silver."{ENTITY}": zone '
                                "silver is read by stewards only")
    assert one_line(version, 1) == f"✗ {DATASET} has no version 9 (versions 0 to 0)"


def _audited_query(lake: Lake, done: Done, role: str, table: str) -> None:
    """The query's status line and the audit entry it names."""
    line = done.err.splitlines()[-1]
    match = re.fullmatch(rf"1 row\(s\) · {re.escape(table)} v(\d+) · \d+\.\d\d s · role {role} "
                         r"· audit entry (\d+)", line)
    assert match, line
    (entry,) = [e for e in lake.audit() if e["seq"] == int(match.group(2))]
    assert (entry["action"], entry["actor"], entry["details"]["role"]) == ("query", USER, role)
    assert entry["details"]["rows"] == 1 and entry["details"]["tables"] == [table]


def test_query_counts_as_the_delta_tables_and_refuses_what_it_must(lake: Lake) -> None:
    """``query`` exits 0 with the result (CSV, JSON) and one audited status line: the counts
    are the Delta tables'; an unknown table, a zone the role may not read and a raw identifier
    in an analyst's SQL are refused (2, the identifier never repeated)."""
    gold, residents = lake.table("gold", "person_coverage"), lake.table("silver", ENTITY)
    some_id = next(r["national_id"] for r in residents if NATIONAL_ID.fullmatch(r["national_id"]))
    count, steward, unknown, zone, personal = many(
        lake, (("query", f"SELECT count(*) AS n FROM {DATASET}", "--format", "csv"), None),
        (("query", f'SELECT count(*) AS n FROM silver."{ENTITY}"', "--format", "json"),
         "steward"),
        (("query", "SELECT * FROM gold.no_such"), None),
        (("query", f'SELECT count(*) FROM silver."{ENTITY}"'), None),
        (("query", f"SELECT * FROM {DATASET} WHERE person_key = '{some_id}'"), None))
    assert (count.code, count.out) == (0, f"n\n{len(gold)}\n"), count
    _audited_query(lake, count, "analyst", DATASET)
    assert (steward.code, json.loads(steward.out)) == (0, [{"n": len(residents)}]), steward
    _audited_query(lake, steward, "steward", f'silver."{ENTITY}"')
    assert one_line(unknown) == ("✗ refused: unknown table gold.no_such (lakehouse tables lists "
                                 "the tables you may read)")
    assert one_line(zone) == (f'✗ refused: role analyst may not read silver."{ENTITY}": zone '
                              "silver is read by stewards only")
    line = one_line(personal)
    assert line.startswith("✗ refused: the SQL holds what looks like") and some_id not in line
    assert some_id not in json.dumps(lake.audit(), ensure_ascii=False)


def test_a_failing_query_is_one_line(lake: Lake) -> None:
    """SQL that DuckDB cannot run exits 1 with one ``✗ query failed:`` line (the contract of
    cli.common: one line per problem, never wrapped) naming the missing column."""
    done = lake("query", f"SELECT no_such_column FROM {DATASET}")
    assert one_line(done, 1).startswith("✗ query failed: BinderException: ")
    assert "no_such_column" in done.err
