"""The bad-input corpus (``tests/reliability/corpus/``, written by ``make_corpus.py``): every
broken delivery ends in a refusal naming feed, file and reason (and the line where there is
one), in a failed quality gate, in quarantine with the rule and the record number, or is read
correctly; never in a stack trace, a hang, or a record lost.

The deliveries of one file-drop feed go through ONE pipeline run (each file is its own
delivery and batch, checked by its file name); a pulled feed runs once per case, against a
small HTTP server that answers what the case's files hold (the NHIA API) or a closed port
(the benefits database). The command line is tried on a handful of cases, in-process, on the
shared Spark session.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.server
import os
import re
import shutil
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from pyspark.sql import Row, SparkSession
from pyspark.sql import functions as F

from kernel import contracts
from kernel.config import Settings
from kernel.context import Context
from kernel.contracts import FeedContract
from kernel.records import Records
from kernel.storage import Storage
from quality.checks import quarantine_summary
from quality.ids import GATE_FRESHNESS, RULE_DRIFT
from stages.feed import run_feed, run_stage
from stages.results import Problem, StageResult
from tests.reliability import make_corpus

CORPUS = make_corpus.CORPUS
NOW = dt.datetime(2024, 11, 5, 8, 0)
SYSTEM = ("deliveries", "batches", "quality_results", "reconciliation")


@dataclass(frozen=True)
class Case:
    """A case of the corpus: its folder and ``case.yaml``."""

    feed: str
    name: str
    folder: Path
    doc: dict[str, Any]

    @property
    def file(self) -> str:
        return str(self.doc["file"])

    @property
    def expect(self) -> dict[str, Any]:
        return dict(self.doc["expect"])

    @property
    def id(self) -> str:
        return f"{self.feed}/{self.name}"


def load_cases() -> list[Case]:
    out = []
    for path in sorted(CORPUS.glob("*/*/case.yaml")):
        doc = yaml.safe_load(path.read_text("utf-8"))
        out.append(Case(doc["feed"], path.parent.name, path.parent, doc))
    return out


CASES = load_cases()
PULLED = {"nhia.insured_status", "bli.benefit_payments"}


@dataclass
class Run:
    """What one pipeline run of a feed did, collected once (the cases are checked on it)."""

    ctx: Context
    contract: FeedContract
    stages: list[StageResult]
    system: dict[str, list[Row]]
    bronze: list[Row] = field(default_factory=list)
    silver: list[Row] = field(default_factory=list)
    quarantine: list[Row] = field(default_factory=list)
    inbox_left: list[str] = field(default_factory=list)

    def problems(self, file: str) -> list[Problem]:
        """The problems of a delivered file; of a pull (``pull``): all but the freshness gate's
        (a run of a pulled feed is one case)."""
        if file == "pull":
            return [p for s in self.stages for p in s.problems
                    if not p.reason.startswith(GATE_FRESHNESS)]
        return [p for s in self.stages for p in s.problems if p.file == file]

    def delivery(self, file: str) -> Row | None:
        rows = [r for r in self.system["deliveries"]
                if r["file_name"] == file or (file == "pull" and r["run_id"] == self.ctx.run_id)]
        assert len(rows) <= 1, rows
        return rows[0] if rows else None

    def batches(self, batch_id: str, stage: str) -> list[Row]:
        return [r for r in self.system["batches"]
                if r["batch_id"] == batch_id and r["stage"] == stage]


def _ctx(spark: SparkSession, root: Path, run_id: str, **env: str) -> Context:
    storage = Storage(spark, str(root))
    settings = Settings.from_env({**os.environ, "LAKEHOUSE_ROOT": str(root), **env})
    return Context(settings=settings, storage=storage, records=Records(storage),
                            run_id=run_id, now=NOW, actor="steward:test")


def _collect(ctx: Context, contract: FeedContract,
             stages: list[StageResult]) -> Run:
    st, feed = ctx.storage, contract.name
    system = {t: ctx.records.read(t).where(F.col("feed") == feed).collect() for t in SYSTEM}
    run = Run(ctx, contract, stages, system)
    if st.exists("bronze", feed):
        run.bronze = st.read("bronze", feed).collect()
    if st.exists("silver", feed):
        run.silver = st.read("silver", feed).select("_batch_id", "_source_row").collect()
    if st.exists("quarantine", feed):
        run.quarantine = st.read("quarantine", feed).select(
            "_batch_id", "_source_file", "_source_row", "_rule_ids", "_reason").collect()
    if not contract.delivery.is_pull:
        inbox = st.layout.inbox(contract.delivery.inbox)
        run.inbox_left = sorted(f.name for f in st.list_files(inbox))
    return run


def _drop(case: Case, inbox: Path) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    for name in case.doc["files"]:
        shutil.copyfile(case.folder / name, inbox / name)


# --------------------------------------------------------------------------- the NHIA API
class _Api(http.server.ThreadingHTTPServer):
    """The agency's API answering what the current case's files hold."""

    daemon_threads = True
    case: Case | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a timeout) closed the connection: nothing to report."""


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Api

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._send(200, b'{"access_token": "t0k3n", "token_type": "Bearer", "expires_in": 3600}',
                   "application/json")

    def do_GET(self) -> None:
        case = self.server.case
        assert case is not None
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        page = case.folder / f"page-{int(query.get('page', ['1'])[0]):05d}.json"
        serve = case.doc.get("serve", {})
        time.sleep(float(serve.get("delay_seconds", 0)))
        if not page.is_file():
            self._send(404, b'{"error": "no such page"}', "application/json")
            return
        self._send(200, page.read_bytes(), str(serve["content_type"]))


@pytest.fixture(scope="module")
def api() -> Iterator[_Api]:
    server = _Api(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _api_env(server: _Api) -> dict[str, str]:
    host, port = server.server_address[:2]
    return {"LAKEHOUSE_NHIA_BASE_URL": f"http://{host!s}:{port}",
            "LAKEHOUSE_NHIA_CLIENT_ID": "lakehouse", "LAKEHOUSE_NHIA_CLIENT_SECRET": "secret"}


def _with_options(contract: FeedContract, options: dict[str, Any] | None) -> FeedContract:
    if not options:
        return contract
    delivery = dataclasses.replace(contract.delivery,
                                   options={**contract.delivery.options, **options})
    return dataclasses.replace(contract, delivery=delivery)


# --------------------------------------------------------------------------- the runs
class Runs:
    """The pipeline runs, done on first use: one per file-drop feed, one per pulled case."""

    def __init__(self, spark: SparkSession, base: Path, server: _Api) -> None:
        self.spark, self.base, self.server = spark, base, server
        self.done: dict[str, Run] = {}
        self.seconds: dict[str, float] = {}

    def feed(self, feed: str) -> Run:
        if feed not in self.done:
            started = time.monotonic()
            contract = contracts.feed(feed)
            root = self.base  # one storage root for every feed: system tables made once
            for case in CASES:
                if case.feed == feed:
                    _drop(case, root / "inbox" / contract.delivery.inbox)
            ctx = _ctx(self.spark, root, f"corpus-{feed}")
            self.done[feed] = _collect(ctx, contract, run_feed(ctx, contract))
            self.seconds[feed] = time.monotonic() - started
        return self.done[feed]

    def pulled(self, case: Case) -> Run:
        if case.id not in self.done:
            started = time.monotonic()
            contract = _with_options(contracts.feed(case.feed), case.doc.get("options"))
            env = dict(case.doc.get("env") or {})
            if case.feed == "nhia.insured_status":
                self.server.case = case
                env.update(_api_env(self.server))
            ctx = _ctx(self.spark, self.base, f"corpus-{case.feed}-{case.name}", **env)
            if case.expect.get("stage") == "pull":
                # Nothing lands: bronze and silver have nothing to do (the command line tests
                # run every stage of such a pull).
                stages = [run_stage(ctx, contract, "land")]
            else:
                stages = run_feed(ctx, contract)
            self.done[case.id] = _collect(ctx, contract, stages)
            self.seconds[case.id] = time.monotonic() - started
        return self.done[case.id]

    def of(self, case: Case) -> Run:
        return self.pulled(case) if case.feed in PULLED else self.feed(case.feed)


@pytest.fixture(scope="module")
def runs(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory, api: _Api
         ) -> Iterator[Runs]:
    # The cases run in the order of CASES: for the API, a landed pull (bad_records) first.
    yield Runs(spark, tmp_path_factory.mktemp("corpus"), api)


# --------------------------------------------------------------------------- the checks
def _names_line(reason: str, line: int) -> bool:
    return re.search(rf"\bline {line}\b", reason) is not None


def _check_refused(case: Case, run: Run) -> None:
    e = case.expect
    (problem,) = run.problems(case.file)
    delivery = run.delivery(case.file)
    named = delivery["file_name"] if case.file == "pull" and delivery is not None \
        and delivery["status"] == "landed" else case.file  # a landed pull: its batch id
    assert str(problem) == f"{case.feed}: {named}: {problem.reason}"
    assert problem.reason.startswith("refused: "), problem.reason
    reason = problem.reason.removeprefix("refused: ")
    assert e["message"] in reason, reason
    if "line" in e:
        assert _names_line(reason, e["line"]), reason
    assert "\n" not in reason and "Traceback" not in reason
    if e["stage"] in ("land", "pull"):
        assert delivery is not None
        assert (delivery["status"], delivery["reason"]) == ("refused", reason)
        if e["stage"] == "land":  # kept, unchanged, among the rejected files
            kept = Path(run.ctx.storage.root) / "landing" / case.feed / "_rejected" / \
                run.ctx.run_id / case.file
            assert kept.read_bytes() == (case.folder / case.file).read_bytes()
        return
    assert delivery is not None and delivery["status"] == "landed"
    batch = delivery["batch_id"]
    (row,) = run.batches(batch, "bronze")
    assert (row["status"], row["reason"]) == ("refused", reason)
    assert not run.batches(batch, "silver")
    assert not [r for r in run.bronze if r["_batch_id"] == batch]
    landed = Path(str(delivery["landing_path"]).removeprefix("file:"))
    if case.file == "pull":  # every page landed as the API answered it
        for name in case.doc["files"]:
            assert (landed / name).read_bytes() == (case.folder / name).read_bytes()
    else:
        assert landed.read_bytes() == (case.folder / case.file).read_bytes()


def _check_held(case: Case, run: Run) -> None:
    """A companion without its file waits in the inbox (its file may be on its way)."""
    (problem,) = run.problems(case.file)
    assert case.expect["message"] in problem.reason
    assert run.delivery(case.file) is None and run.inbox_left == [case.file]


def _check_failed(case: Case, run: Run) -> None:
    e = case.expect
    (problem,) = run.problems(case.file)
    assert problem.reason.startswith("quality gate failed: "), problem.reason
    assert e["message"] in problem.reason, problem.reason
    delivery = run.delivery(case.file)
    assert delivery is not None and delivery["status"] == "landed"
    batch = delivery["batch_id"]
    (row,) = run.batches(batch, "silver")
    assert (row["status"], row["reason"]) == ("failed", problem.reason)
    assert not [r for r in run.silver if r["_batch_id"] == batch]
    assert not [r for r in run.quarantine if r["_batch_id"] == batch]


def _check_ingested(case: Case, run: Run) -> None:
    e = case.expect
    assert run.problems(case.file) == []
    delivery = run.delivery(case.file)
    assert delivery is not None and delivery["status"] == "landed"
    batch = delivery["batch_id"]
    (bronze,) = run.batches(batch, "bronze")
    (silver,) = run.batches(batch, "silver")
    bronze_rows = [r for r in run.bronze if r["_batch_id"] == batch]
    assert bronze["status"] == "ok" and bronze["rows_in"] == len(bronze_rows) == e["records"]
    quarantined = {r["_source_row"]: r for r in run.quarantine if r["_batch_id"] == batch}
    expected: dict[int, set[str]] = {}
    for rule, rows in (e.get("quarantined") or {}).items():
        for n in rows:
            expected.setdefault(n, set()).add(rule)
    assert {n: set(r["_rule_ids"]) for n, r in quarantined.items()} == expected
    for n, r in quarantined.items():
        assert r["_source_file"] == delivery["file_name"]
        assert all(rule in r["_reason"] for rule in expected[n]), r["_reason"]
    if expected and case.name == "broken_records" and case.feed == "moi.household_registry":
        # the steward's one line about the batch (rule ids and record numbers)
        frame = run.ctx.storage.spark.createDataFrame(
            [(list(r["_rule_ids"]), r["_source_row"]) for r in quarantined.values()],
            "_rule_ids array<string>, _source_row long")
        assert quarantine_summary(frame) == _summary(e["quarantined"])
    in_silver = [r for r in run.silver if r["_batch_id"] == batch]
    assert silver["status"] == "ok", silver["reason"]
    assert (silver["rows_in"], silver["rows_out"], silver["quarantined"], silver["duplicates"]) \
        == (e["records"], e["silver"], len(expected), 0)
    assert len(in_silver) == e["silver"]
    # Nothing lost: every delivered record is in silver or in quarantine, exactly once (the
    # fixed-width reader numbers records by their line: the header is line 1).
    first = 2 if case.feed == "bli.labor_insurance_enrollment" else 1
    assert sorted([r["_source_row"] for r in in_silver] + list(quarantined)) == \
        list(range(first, first + e["records"]))
    checks = [r for r in run.system["reconciliation"] if r["batch_id"] == batch]
    assert checks and all(r["holds"] for r in checks), [(r["check"], r["expected"],
                                                         r["actual"]) for r in checks]
    for r in bronze_rows:  # a new column is kept in bronze, by its name
        got = r.asDict().get("_extra")
        assert (sorted(got) if got else None) == e.get("extra")


def _summary(rules: dict[str, list[int]]) -> str:
    """What :func:`quality.checks.quarantine_summary` says of a batch quarantining ``rules``."""
    parts = []
    for rule, rows in sorted(rules.items(), key=lambda kv: (min(kv[1]), kv[0])):
        shown = ", ".join(str(n) for n in sorted(rows)[:5])
        more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
        parts.append(f"{rule} ({'record' if len(rows) == 1 else 'records'} {shown}{more})")
    total = len({n for rows in rules.values() for n in rows})
    return f"{total} record(s) quarantined: " + "; ".join(parts)


def _check_drift(case: Case, run: Run) -> None:
    delivery = run.delivery(case.file)
    batch = delivery["batch_id"] if delivery is not None else None
    lines = [r["check"] for r in run.system["quality_results"]
             if r["batch_id"] == batch and r["rule_id"] == RULE_DRIFT]
    wanted = case.expect.get("drift") or []
    assert len(lines) == len(wanted), lines
    for fragment in wanted:
        assert any(fragment in line for line in lines), (fragment, lines)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_bad_delivery_ends_as_expected(case: Case, runs: Runs) -> None:
    run = runs.of(case)
    outcome = case.expect["outcome"]
    {"refused": _check_refused, "held": _check_held, "failed": _check_failed,
     "quarantined": _check_ingested, "ok": _check_ingested}[outcome](case, run)
    _check_drift(case, run)
    if "within_seconds" in case.expect:  # no hang: a silent source is given up in time
        assert runs.seconds[case.id] < case.expect["within_seconds"]


def test_the_corpus_covers_the_issue_list_and_is_pinned() -> None:
    issues = {i for c in CASES for i in
              (c.doc["issue"] if isinstance(c.doc["issue"], list) else [c.doc["issue"]])}
    wanted = {
        "wrong encoding", "truncated file", "missing .sha256", "wrong .sha256", "empty file",
        "header only", "unknown columns", "missing columns", "extra delimiter",
        "unbalanced quotes", "embedded line breaks", "BOM where none is expected",
        "CRLF and LF mixed", "fixed-width record of the wrong length", "trailer count wrong",
        "XML not well formed", "API returning HTML instead of JSON", "API timing out",
        "database unreachable", "identifiers with invalid check digits", "impossible dates",
        "very long fields", "control characters", "private-use characters"}
    assert wanted <= issues, wanted - issues
    # The corpus pinned: which outcome each feed's cases expect, 48 broken deliveries of 50
    # (make_corpus writes exactly these files: the next test).
    outcomes = Counter((c.feed, c.expect["outcome"]) for c in CASES)
    assert outcomes == Counter({
        ("bli.benefit_payments", "refused"): 1,
        ("bli.labor_insurance_enrollment", "ok"): 1,
        ("bli.labor_insurance_enrollment", "quarantined"): 1,
        ("bli.labor_insurance_enrollment", "refused"): 7,
        ("bli.labor_pension_contributions", "failed"): 1,
        ("bli.labor_pension_contributions", "quarantined"): 1,
        ("bli.labor_pension_contributions", "refused"): 3,
        ("moa.farmer_registry", "failed"): 2,
        ("moa.farmer_registry", "quarantined"): 1,
        ("moa.farmer_registry", "refused"): 5,
        ("moi.household_registry", "held"): 1,
        ("moi.household_registry", "ok"): 1,
        ("moi.household_registry", "quarantined"): 1,
        ("moi.household_registry", "refused"): 18,
        ("nhia.insured_status", "quarantined"): 1,
        ("nhia.insured_status", "refused"): 5,
    })
    assert (len(CASES), sum(n for (_, o), n in outcomes.items() if o != "ok")) == (50, 48)


def test_the_corpus_is_what_make_corpus_writes() -> None:
    assert make_corpus.differences() == []


@pytest.mark.parametrize("feed", sorted({c.feed for c in CASES} - PULLED))
def test_one_run_accounts_for_every_delivery_of_a_feed(feed: str, runs: Runs) -> None:
    """No problem without its case, no delivery left behind or unrecorded."""
    run = runs.feed(feed)
    cases = [c for c in CASES if c.feed == feed]
    troubled = {c.file for c in cases if c.expect["outcome"] in ("refused", "failed", "held")}
    assert {p.file for s in run.stages for p in s.problems} == troubled
    recorded = {r["file_name"] for r in run.system["deliveries"]}
    assert recorded == {c.file for c in cases if not c.file.endswith(".sha256")}
    assert all(name.endswith(".sha256") for name in run.inbox_left)


# --------------------------------------------------------------------------- the command line
def _case(feed: str, name: str) -> Case:
    (found,) = [c for c in CASES if c.feed == feed and c.name == name]
    return found


CLI = [
    ("moi.household_registry", ["broken_records"]),
    ("bli.labor_insurance_enrollment", ["trailer_count_wrong", "header_and_trailer_only"]),
    ("moa.farmer_registry", ["not_well_formed"]),
    ("nhia.insured_status", ["html_instead_of_json"]),
    ("bli.benefit_payments", ["database_unreachable"]),
]


@pytest.fixture(scope="module")
def cli_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One storage root for the command-line runs (each of another feed)."""
    return tmp_path_factory.mktemp("cli") / "lakehouse"


@pytest.mark.parametrize(("feed", "names"), CLI, ids=[f for f, _ in CLI])
def test_lakehouse_run_prints_one_clear_line_per_bad_delivery(
        feed: str, names: list[str], spark: SparkSession, cli_root: Path, api: _Api,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from cli.main import main

    contract = contracts.feed(feed)
    root = cli_root
    cases = [_case(feed, n) for n in names]
    env: dict[str, str] = {"LAKEHOUSE_ROOT": str(root), "LAKEHOUSE_SHUFFLE_PARTITIONS": "1",
                           "LAKEHOUSE_USER": "steward:test"}
    for case in cases:
        if feed == "nhia.insured_status":
            api.case = case
            env.update(_api_env(api))
        elif feed not in PULLED:
            _drop(case, root / "inbox" / contract.delivery.inbox)
        env.update(case.doc.get("env") or {})
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    capsys.readouterr()
    code = main(["run", feed])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.strip()]
    troubled = [c for c in cases if c.expect["outcome"] in ("refused", "failed")]
    assert code == (1 if troubled else 0)
    for case in troubled:
        mine = [line for line in lines if line.startswith(f"✗ {feed}: {case.file}: ")]
        assert len(mine) == 1, lines
        assert case.expect["message"] in mine[0]
        if "line" in case.expect:
            assert _names_line(mine[0], case.expect["line"])
    others = [line for line in lines
              if not any(line.startswith(f"✗ {feed}: {c.file}: ") for c in troubled)]
    # Nothing ever landed for a feed whose only pull was refused: the freshness gate says so.
    assert all(line.startswith(f"✗ {feed}: -: gate.freshness: no delivery has ever landed")
               for line in others), others
    if any(c.expect["outcome"] == "quarantined" for c in cases):
        n = sum(len({row for rows in (c.expect.get("quarantined") or {}).values() for row in rows})
                for c in cases)
        assert f"quarantined {n}" in out
    # The steward is told, one "!" line each, of every batch's quarantined records (rules and
    # record numbers) and of every schema drift line (column names).
    notes = [line for line in out.splitlines() if line.startswith("! ")]
    wanted = []
    for case in cases:
        if case.expect.get("quarantined"):
            wanted.append(f"! {feed}: {case.file}: {_summary(case.expect['quarantined'])}")
    assert [n for n in notes if "quarantined" in n] == wanted, notes
    drift = [n for n in notes if "schema drift" in n]
    assert len(drift) == sum(len(c.expect.get("drift") or []) for c in cases), notes
    for case in cases:
        for fragment in case.expect.get("drift") or []:
            assert any(n.startswith(f"! {feed}: {case.file}: schema drift: ") and fragment in n
                       for n in drift), (fragment, notes)


def test_lakehouse_run_in_a_new_process_prints_no_stack_trace(tmp_path: Path) -> None:
    """As a new user runs it: its own process and JVM, on broken deliveries of the registry.
    Stack traces the JVM logs (a Spark task failing) would show here, not in ``capsys``."""
    import subprocess
    import sys

    feed = "moi.household_registry"
    contract = contracts.feed(feed)
    root = tmp_path / "lakehouse"
    cases = [_case(feed, n) for n in ("wrong_sha256", "compressed_file", "unbalanced_quotes",
                                      "missing_required_column", "header_only")]
    for case in cases:
        _drop(case, root / "inbox" / contract.delivery.inbox)
    env = {**os.environ, "LAKEHOUSE_ROOT": str(root), "SPARK_MASTER": "local[1]",
           "LAKEHOUSE_SHUFFLE_PARTITIONS": "1", "LAKEHOUSE_DRIVER_MEMORY": "1g",
           "LAKEHOUSE_USER": "steward:test"}
    done = subprocess.run([sys.executable, "-m", "cli.main", "run", feed], env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 1, done.stderr
    output = done.stdout + done.stderr
    assert not re.search(r"Traceback|Exception|^\s+at |\bERROR\b", output, re.MULTILINE), output
    problems = [line for line in done.stderr.splitlines() if line.startswith("✗")]
    troubled = [c for c in cases if c.expect["outcome"] == "refused"]
    assert len(problems) == len(troubled), problems
    for case in troubled:
        (line,) = [x for x in problems if x.startswith(f"✗ {feed}: {case.file}: refused: ")]
        assert case.expect["message"] in line
        if "line" in case.expect:
            assert _names_line(line, case.expect["line"]), line
    assert f"✓ {feed} silver: 1 batch(es), 0 rows" in done.stdout  # the header-only day
