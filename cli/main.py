"""The ``lakehouse`` command line: generate, run, publish, demo.

``run`` and ``publish`` call the same functions as the Airflow tasks. A refused delivery, a
failed gate or a refused publish prints one line naming feed, file and reason (no traceback)
and makes the command exit non-zero.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from kernel.config import REPO_ROOT, Settings

console = Console(stderr=False, highlight=False, soft_wrap=True)  # logs: no wrapping
err = Console(stderr=True, highlight=False, soft_wrap=True)  # one line per problem

DEMO_KEY = "demo-key-NOT-FOR-PRODUCTION-0123456789abcdef"
DEMO_PERSONS = 3000


def _problems(summaries: Sequence[dict[str, Any]]) -> list[str]:
    return [p for s in summaries for p in s.get("problems", [])]


def _report_problems(problems: list[str]) -> int:
    for p in problems:
        err.print(f"[red]✗[/red] {p}", markup=True, soft_wrap=True)
    return 1 if problems else 0


# ----------------------------------------------------------------------------- generate
def cmd_generate(args: argparse.Namespace) -> int:
    """Write realistic deliveries into the inbox."""
    from sandbox.generate import IssueRates, generate

    settings = Settings.from_env()
    if not settings.is_local:
        err.print("generate writes to a local storage root only (LAKEHOUSE_ROOT is a URI)")
        return 2
    rates = IssueRates.parse(args.rate or [])
    start = args.start or default_start(args.days)
    with console.status(f"generating deliveries for {args.persons:,} persons…"):
        report = generate(Path(settings.root), persons=args.persons, seed=args.seed,
                          days=args.days, start=start, rates=rates, feeds=args.feed)
    console.print(f"[green]✓[/green] {report}")
    return 0


def default_start(days: int) -> date:
    """The first delivery day such that the last of ``days`` daily deliveries is today (in
    Taiwan): the snapshot of a publish today then describes fresh data."""
    from datetime import timedelta

    from stages.tasks import today

    return today() - timedelta(days=days - 1)


# ----------------------------------------------------------------------------- run
def cmd_run(args: argparse.Namespace) -> int:
    """Run every pending delivery of one feed (or all) through land, bronze and silver."""
    from kernel import contracts
    from stages.feed import run_stage

    names = [c.name for c in contracts.feeds()] if args.all else [args.feed]
    if not names or names == [None]:
        err.print("name a feed or give --all")
        return 2
    try:
        feeds = [contracts.feed(n) for n in names]
    except KeyError as exc:
        err.print(str(exc.args[0]))
        return 2
    summaries: list[dict[str, Any]] = []
    with console.status("starting Spark…") as status:
        from kernel.context import Context

        ctx = Context.create(args.run_id)
        for fc in feeds:
            for stage in ("land", "bronze", "silver"):
                status.update(f"{fc.name}: {stage}…")
                res = run_stage(ctx, fc, stage)
                summaries.append(res.as_dict())
                counts = ", ".join(f"{k} {v:,}" for k, v in sorted(res.counts.items()))
                console.print(f"[green]✓[/green] {fc.name} {stage}: {res.batches} batch(es), "
                              f"{res.rows:,} rows{'; ' + counts if counts else ''}")
                for note in res.notes:
                    console.print(f"[yellow]![/yellow] {note}", soft_wrap=True)
    _write_quality_report(ctx.settings, ctx.run_id)
    return _report_problems(_problems(summaries))


def _write_quality_report(settings: Settings, run_id: str) -> None:
    """The steward's HTML quality report of the run, and the index across runs."""
    if not settings.is_local:
        return
    from quality.report import write_index, write_run_report

    page = write_run_report(settings.root, run_id)
    write_index(settings.root)
    console.print(f"quality report: {page}")


def cmd_quality(args: argparse.Namespace) -> int:
    """Write the quality report of one run (or of every run) and the index."""
    from quality.report import write_all, write_index, write_run_report

    settings = Settings.from_env()
    if args.run:
        console.print(f"quality report: {write_run_report(settings.root, args.run)}")
        console.print(f"index: {write_index(settings.root)}")
    else:
        paths = write_all(settings.root)
        console.print(f"{len(paths) - 1} run report(s); index: {paths[-1]}")
    return 0


# ----------------------------------------------------------------------------- publish
def cmd_publish(args: argparse.Namespace) -> int:
    """Publish one dataset (or all) after every gate passes."""
    from kernel import contracts
    from stages.publish import publish

    names = [d.name for d in contracts.datasets()] if args.all else [args.dataset]
    if not names or names == [None]:
        err.print("name a dataset or give --all")
        return 2
    snapshot = date.fromisoformat(args.snapshot_date) if args.snapshot_date else None
    from stages.tasks import today

    summaries = []
    with console.status("starting Spark…") as status:
        from kernel.context import Context

        ctx = Context.create(args.run_id)
        for name in names:
            try:
                dc = contracts.dataset(name)
            except KeyError as exc:
                err.print(str(exc.args[0]))
                return 2
            status.update(f"{name}: building the candidate and passing the gates…")
            res = publish(ctx, dc, snapshot or today())
            summaries.append(res.as_dict())
            mark = "[green]✓[/green]" if res.status != "refused" else "[red]✗[/red]"
            console.print(f"{mark} {name}: {res.status}, version {res.version}, "
                          f"{res.rows:,} rows, key id {res.key_id}")
    return _report_problems(_problems(summaries))


# ----------------------------------------------------------------------------- quarantine
def cmd_quarantine(args: argparse.Namespace) -> int:
    """List, show or release quarantined records of a feed (stewards)."""
    from kernel import contracts
    from stages import quarantine
    from stages.feed import run_stage

    try:
        fc = contracts.feed(args.feed)
    except KeyError as exc:
        err.print(str(exc.args[0]))
        return 2
    with console.status("starting Spark…"):
        from kernel.context import Context

        ctx = Context.create(args.run_id)
    if args.action == "list":
        table = Table(title=f"quarantine of {fc.name}")
        for col in ("batch", "rule", "open", "released"):
            table.add_column(col, justify="right" if col in ("open", "released") else "left")
        rows = quarantine.summary(ctx, fc)
        for batch, rule, n_open, n_released in rows:
            table.add_row(batch, rule, f"{n_open:,}", f"{n_released:,}")
        console.print(table if rows else f"nothing quarantined in {fc.name}")
        return 0
    if args.action == "show":
        shown = quarantine.show(ctx, fc, args.batch, args.rule, args.limit)
        cols = ["_batch_id", "_source_row", "_rule_ids", *[f.name for f in fc.fields],
                "_raw_record"]
        table = Table(title=f"open quarantined rows of {fc.name} (personal data: stewards only)")
        for c in cols:
            table.add_column(c)
        for r in shown:
            table.add_row(*[", ".join(v) if isinstance(v, list) else ("" if v is None else str(v))
                            for v in (r.get(c) for c in cols)])
        console.print(table)
        return 0
    wanted = [int(x) for x in (args.rows or "").split(",") if x.strip()]
    try:
        with console.status("releasing…"):
            res = quarantine.release(ctx, fc, args.batch or "", wanted, args.reason or "",
                                     Path(args.corrections) if args.corrections else None)
    except quarantine.ReleaseError as exc:
        err.print(f"[red]✗[/red] {fc.name}: {exc}")
        return 1
    console.print(f"[green]✓[/green] released {res.rows} row(s) of {res.batch_id} as "
                  f"{res.release_id} (corrected: {', '.join(res.corrected_columns) or 'none'}); "
                  "validating them now…")
    result = run_stage(ctx, fc, "silver")
    q = result.counts.get("quarantined", 0)
    console.print(f"[green]✓[/green] {result.counts.get('silver_rows', 0)} row(s) reached silver, "
                  f"{q} quarantined again, {result.counts.get('duplicates', 0)} duplicate(s)")
    return _report_problems([str(p) for p in result.problems])


def cmd_scan_pii(args: argparse.Namespace) -> int:
    """Scan a table or file for personal data (dataset, column, entity, count; no values)."""
    from masking.scan import main as scan_main

    return scan_main([args.target, *(["--root", args.root] if args.root else [])])


def cmd_eval_pii(args: argparse.Namespace) -> int:
    """Precision and recall of the Taiwan PII recognizers on the labelled evaluation set."""
    from masking.evaluate import main as evaluate_main

    return evaluate_main([*([args.path] if args.path else []),
                          *(["--errors"] if args.errors else [])])


def cmd_reidentify(args: argparse.Namespace) -> int:
    """A steward's re-identification of a person_key (audited: who, when, why, key id)."""
    from masking.keys import MissingKeyError, PseudonymKey
    from masking.reidentify import ReidentificationRefused, reidentify

    role = os.environ.get("LAKEHOUSE_ROLE", "analyst")
    try:
        key = PseudonymKey.from_env()
    except MissingKeyError as exc:
        err.print(f"[red]✗[/red] {exc}")
        return 2
    with console.status("searching the silver zone…"):
        from kernel.context import Context

        ctx = Context.create(args.run_id)
        try:
            matches = reidentify(ctx, args.person_key, args.reason or "", key, role)
        except ReidentificationRefused as exc:
            err.print(f"[red]✗[/red] refused: {exc}")
            return 2
    if not matches:
        err.print(f"no person has this person_key under key id {key.key_id} (recorded in the "
                  "audit log)")
        return 1
    for m in matches:
        console.print(f"{m.national_id}\t{', '.join(m.tables)}")
    return 0


def cmd_lineage(args: argparse.Namespace) -> int:
    """The auditor's lineage report of a published dataset version (one HTML page)."""
    from lineage.report import main as report_main

    return report_main([args.dataset, "--out", args.out,
                        *(["--version", str(args.version)] if args.version is not None else [])])


def cmd_audit(args: argparse.Namespace) -> int:
    """Verify the hash chain of the audit log, and that it reaches every anchor a published
    version keeps in its commit metadata (a truncated or rewritten log is caught)."""
    from audit.log import verify
    from kernel.layout import Layout

    settings = Settings.from_env()
    layout = Layout(settings.root)
    folder = layout.audit_dir
    published = _audit_anchors(settings)
    anchors = list(published)
    if args.expect_head:
        seq, _, digest = args.expect_head.partition(":")
        if not seq.isdigit() or not re.fullmatch(r"[0-9a-f]{64}", digest):
            err.print("audit verify: --expect-head must be SEQ:HASH (hex SHA-256)")
            return 2
        anchors.insert(0, ("--expect-head", args.expect_head))
    for where, anchor in anchors:
        seq, _, digest = anchor.partition(":")
        result = verify(folder, expected_head=(int(seq), digest))
        if not result.ok:
            print(f"audit log NOT ok: {result.reason} ({result.entries} entries verified "
                  f"before it); it does not reach the anchor of {where}")
            return 1
    result = verify(folder)
    if not result.ok:
        print(f"audit log NOT ok: {result.reason} ({result.entries} entries verified before it)")
        return 1
    note = "" if folder.is_dir() else f" (no audit log under {settings.root})"
    print(f"audit log ok: {result.entries} entries{note}")
    if published:
        console.print(f"anchors checked: {len(published)} (the audit head each published "
                      "version recorded in its commit)")
    return 0


def _audit_anchors(settings: Settings) -> list[tuple[str, str]]:
    """(``dataset version N``, ``SEQ:HASH``) of every published version, read from the Delta
    logs without a JVM; the highest anchor first."""
    import json

    from deltalake import DeltaTable

    from kernel import contracts

    found: list[tuple[int, str, str]] = []
    for dc in contracts.datasets():
        path = Path(settings.root) / dc.zone / dc.table
        if not (path / "_delta_log").is_dir():
            continue
        for commit in DeltaTable(str(path)).history():
            raw = commit.get("userMetadata")
            try:
                anchor = json.loads(raw).get("audit_anchor") if raw else None
            except ValueError:
                anchor = None
            if anchor:
                found.append((int(anchor.split(":")[0]),
                              f"{dc.name} version {commit.get('version')}", anchor))
    return [(w, a) for _, w, a in sorted(found, reverse=True)]


# ----------------------------------------------------------------------------- demo
def airflow_env(settings: Settings) -> dict[str, str]:
    """The environment of the embedded Airflow: SQLite metadata DB, the project's DAGs."""
    env = dict(os.environ)
    home = Path(env.get("AIRFLOW_HOME", str(REPO_ROOT / ".airflow")))
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": env.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"),
        "LAKEHOUSE_ROOT": settings.root,
    })
    if settings.is_local and "AIRFLOW__OPENLINEAGE__TRANSPORT" not in env \
            and not env.get("OPENLINEAGE_URL"):
        # The OpenLineage provider's own events (DAG runs, tasks) next to the jobs' events.
        import json

        folder = Path(settings.root) / "system" / "lineage" / "airflow"
        folder.mkdir(parents=True, exist_ok=True)
        env["AIRFLOW__OPENLINEAGE__TRANSPORT"] = json.dumps(
            {"type": "file", "log_file_path": str(folder / "events.jsonl"), "append": True})
    env.setdefault("AIRFLOW__OPENLINEAGE__NAMESPACE", "airflow")
    return env


def _airflow(args: list[str], env: dict[str, str], log: Path) -> tuple[int, list[str]]:
    """Run an Airflow command, its output appended to ``log``; returns the exit code and the
    problems the lakehouse's tasks reported (their AirflowFailException lines)."""
    airflow = str(Path(sys.executable).parent / "airflow")
    start = log.stat().st_size if log.exists() else 0
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ airflow {' '.join(args)}\n")
        out.flush()
        rc = subprocess.call([airflow, *args], env=env, stdout=out, stderr=subprocess.STDOUT)
    with log.open(encoding="utf-8", errors="replace") as f:
        f.seek(start)
        marker = "AirflowFailException: "
        problems = [line.split(marker, 1)[1].strip() for line in f if marker in line]
    return rc, list(dict.fromkeys(problems))


def run_dags(dag_ids: Sequence[str], env: dict[str, str], log: Path,
             progress: Any = None) -> dict[str, tuple[str, list[str]]]:
    """Run DAGs through Airflow in one process (``sandbox.dagrun``: ``dag.test()`` each,
    one Spark session shared), output appended to ``log``; per DAG its final state and the
    problems its tasks reported (their AirflowFailException lines)."""
    marker = "AirflowFailException: "
    out: dict[str, tuple[str, list[str]]] = {d: ("not run", []) for d in dag_ids}
    current: str | None = None
    problems: list[str] = []
    with log.open("a", encoding="utf-8") as sink:
        sink.write(f"\n$ python -m sandbox.dagrun {' '.join(dag_ids)}\n")
        proc = subprocess.Popen([sys.executable, "-m", "sandbox.dagrun", *dag_ids],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, encoding="utf-8", errors="replace")
        assert proc.stdout is not None
        for line in proc.stdout:
            sink.write(line)
            if line.startswith("DAGRUN "):
                current, problems = line.split()[1], []
                if progress:
                    progress(current)
            elif line.startswith("DAGRUN-END ") and current:
                out[current] = (line.split()[2], list(dict.fromkeys(problems)))
                current = None
            elif marker in line:
                problems.append(line.split(marker, 1)[1].strip())
        proc.wait()
    return out


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate deliveries, run every feed DAG and publishing DAG through Airflow, summarise."""
    from kernel import contracts
    from sandbox.generate import generate

    if not os.environ.get("LAKEHOUSE_PSEUDONYM_KEY"):
        os.environ["LAKEHOUSE_PSEUDONYM_KEY"] = DEMO_KEY
        console.print("[yellow]![/yellow] LAKEHOUSE_PSEUDONYM_KEY is not set: using the demo key "
                      "(for this demo only; never in production)")
    settings = Settings.from_env()
    env = airflow_env(settings)
    log = Path(env["AIRFLOW_HOME"]) / "demo.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    console.print(f"storage root: {settings.root}; Airflow home: {env['AIRFLOW_HOME']} "
                  f"(output in {log})")
    with console.status(f"generating deliveries for {args.persons:,} persons…"):
        report = generate(Path(settings.root), persons=args.persons, seed=args.seed,
                          start=default_start(3))
    console.print(f"[green]✓[/green] generated: {report}")
    with console.status("preparing the Airflow metadata database (SQLite)…"):
        if _airflow(["db", "migrate"], env, log)[0] != 0:
            err.print(f"airflow db migrate failed: see {log}")
            return 1
    dag_ids = [c.name for c in contracts.feeds()]
    dag_ids += [f"publish.{d.table}" for d in contracts.datasets()]
    with console.status("running the DAGs through Airflow…") as status:
        results = run_dags(dag_ids, env, log,
                           lambda d: status.update(f"Airflow: DAG {d} (dag.test)…"))
    failed = []
    for dag_id, (state, problems) in results.items():
        ok = state == "success"
        console.print(f"{'[green]✓[/green]' if ok else '[red]✗[/red]'} DAG {dag_id}: {state}")
        for p in problems:
            err.print(f"  [red]✗[/red] {p}", soft_wrap=True)
        if not ok:
            failed.append(dag_id)
    _summary(settings)
    if failed:
        err.print(f"[red]✗[/red] DAG runs failed: {', '.join(failed)} (details in {log})")
        return 1
    return 0


def _summary(settings: Settings) -> None:
    """Rows received, quarantined and published, and where to look."""
    from pyspark.sql import functions as F

    from kernel import contracts
    from kernel.records import Records
    from kernel.spark import session
    from kernel.storage import Storage

    st = Storage(session(settings), settings.root)
    rec = Records(st)
    table = Table(title="Convergence Lakehouse: what the demo did")
    table.add_column("")
    feeds = contracts.feeds()
    for fc in feeds:
        table.add_column(fc.name, justify="right")
    deliveries = rec.read("deliveries")
    batches = rec.latest("batches", ["batch_id", "stage"])
    rows: dict[str, list[str]] = {k: [] for k in (
        "files landed", "files resent (not ingested again)", "files refused", "records received",
        "quarantined", "duplicates removed", "silver events", "silver entity rows")}
    for fc in feeds:
        d = deliveries.where(F.col("feed") == fc.name).groupBy("status").count().collect()
        dc = {r["status"]: r["count"] for r in d}
        s = batches.where((F.col("feed") == fc.name) & (F.col("stage") == "silver")).agg(
            F.sum("rows_in"), F.sum("quarantined"), F.sum("duplicates"), F.sum("rows_out")).first()
        assert s is not None
        n_entity = st.read("silver", fc.entity).count() if st.exists("silver", fc.entity) else 0
        for key, value in zip(rows, (dc.get("landed", 0), dc.get("duplicate", 0),
                                     dc.get("refused", 0), s[0] or 0, s[1] or 0, s[2] or 0,
                                     s[3] or 0, n_entity), strict=True):
            rows[key].append(f"{value:,}")
    for key, values in rows.items():
        table.add_row(key, *values)
    console.print(table)
    for dc_ in contracts.datasets():
        if st.exists(dc_.zone, dc_.table):
            n = st.read(dc_.zone, dc_.table).count()
            meta = st.commit_metadata(dc_.zone, dc_.table)
            console.print(f"published {dc_.name}: {n:,} rows, version "
                          f"{st.version(dc_.zone, dc_.table)}, key id {meta.get('key_id')} → "
                          f"{st.path(dc_.zone, dc_.table)}")
        else:
            console.print(f"[red]✗[/red] {dc_.name} is not published")
    console.print(f"quality reports: {settings.root}/system/reports/quality/index.html · "
                  f"quarantine: lakehouse quarantine list FEED · audit: lakehouse audit verify · "
                  f"lineage: {settings.root}/system/lineage/ · Airflow UI: make airflow")


# ----------------------------------------------------------------------------- main
def parser() -> argparse.ArgumentParser:
    """The argument parser of ``lakehouse``."""
    p = argparse.ArgumentParser(prog="lakehouse", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write realistic deliveries into the inbox")
    g.add_argument("--persons", type=int, default=2000)
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--days", type=int, default=3, help="daily deliveries to write")
    g.add_argument("--start", type=date.fromisoformat, default=None,
                   help="YYYY-MM-DD of the first delivery (default: so that the last one is "
                        "today in Taiwan)")
    g.add_argument("--feed", action="append", help="only this feed (repeatable; default all)")
    g.add_argument("--rate", action="append", metavar="ISSUE=RATE",
                   help="rate of a known data issue, e.g. fullwidth_id=0.05 (repeatable)")
    g.set_defaults(func=cmd_generate)

    r = sub.add_parser("run", help="ingest every pending delivery of a feed (or --all)")
    r.add_argument("feed", nargs="?")
    r.add_argument("--all", action="store_true")
    r.add_argument("--run-id", default=None)
    r.set_defaults(func=cmd_run)

    pb = sub.add_parser("publish", help="publish a dataset (or --all) after its gates")
    pb.add_argument("dataset", nargs="?")
    pb.add_argument("--all", action="store_true")
    pb.add_argument("--snapshot-date", help="YYYY-MM-DD (default: today in Taiwan)")
    pb.add_argument("--run-id", default=None)
    pb.set_defaults(func=cmd_publish)

    q = sub.add_parser("quarantine", help="list, show or release quarantined records (stewards)")
    q.add_argument("action", choices=["list", "show", "release"])
    q.add_argument("feed")
    q.add_argument("--batch", help="batch id (show: filter; release: required)")
    q.add_argument("--rule", help="show: only rows failing this rule id")
    q.add_argument("--limit", type=int, default=20)
    q.add_argument("--rows", help="release: source row numbers, comma separated")
    q.add_argument("--corrections", help="release: UTF-8 CSV with _source_row and fields")
    q.add_argument("--reason", help="release: why (recorded with who and when)")
    q.add_argument("--run-id", default=None)
    q.set_defaults(func=cmd_quarantine)

    qr = sub.add_parser("quality", help="write the HTML quality reports (per run, and an index)")
    qr.add_argument("action", choices=["report"])
    qr.add_argument("--run", help="one run id (default: every run)")
    qr.set_defaults(func=cmd_quality)

    sp = sub.add_parser("scan-pii", help="scan a table or file for personal data (no values)")
    sp.add_argument("target", help="a table (gold.person_coverage) or a Delta/CSV/Parquet path")
    sp.add_argument("--root", help="storage root (default: $LAKEHOUSE_ROOT)")
    sp.set_defaults(func=cmd_scan_pii)

    ev = sub.add_parser("eval-pii", help="precision/recall of the PII recognizers per entity")
    ev.add_argument("path", nargs="?", help="a labelled JSONL set (default: the bundled one)")
    ev.add_argument("--errors", action="store_true", help="also list the misses (stewards)")
    ev.set_defaults(func=cmd_eval_pii)

    ri = sub.add_parser("reidentify", help="a person_key back to the person (stewards; audited)")
    ri.add_argument("person_key")
    ri.add_argument("--reason", required=True, help="why (kept in the audit log; no personal data)")
    ri.add_argument("--run-id", default=None)
    ri.set_defaults(func=cmd_reidentify)

    ln = sub.add_parser("lineage", help="the lineage report of a published dataset version")
    ln.add_argument("action", choices=["report"])
    ln.add_argument("dataset", help="e.g. gold.person_coverage")
    ln.add_argument("--version", type=int, default=None, help="a Delta version (default: latest)")
    ln.add_argument("--out", required=True, help="the HTML file to write")
    ln.set_defaults(func=cmd_lineage)

    a = sub.add_parser("audit", help="verify the hash-chained audit log")
    a.add_argument("action", choices=["verify"])
    a.add_argument("--expect-head", metavar="SEQ:HASH", default=None,
                   help="an anchor published elsewhere: the log must reach it unchanged")
    a.set_defaults(func=cmd_audit)

    d = sub.add_parser("demo", help="generate, run every DAG through Airflow, summarise")
    d.add_argument("--persons", type=int, default=DEMO_PERSONS)
    d.add_argument("--seed", type=int, default=42)
    d.set_defaults(func=cmd_demo)

    from cli.analytics import add_parsers as add_analytics_parsers

    add_analytics_parsers(sub)  # tables, describe, query (#7): imports no pyspark or Airflow
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lakehouse`` console script."""
    args = parser().parse_args(argv)
    if getattr(args, "run_id", "x") is None:
        args.run_id = f"cli-{uuid.uuid4().hex[:12]}"
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except Exception as exc:  # one clear line, never a bare stack trace
        from kernel.spark import SetupError

        if isinstance(exc, SetupError):
            err.print(f"[red]✗[/red] {exc}")
            return 2
        err.print(f"[red]✗[/red] {args.command} failed: {type(exc).__name__}: "
                  f"{str(exc).splitlines()[0] if str(exc) else ''}")
        if os.environ.get("LAKEHOUSE_DEBUG"):
            raise
        return 1


def entry() -> None:
    """The ``lakehouse`` console script: :func:`main`, then exit without the interpreter's
    teardown. pyarrow's C++ thread pools can abort a finished process while Python unloads
    them (``terminate called without an active exception``, exit status -6: apache/arrow#34314);
    every write is committed and every file closed by then, so the process leaves at once with
    main's status."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    entry()
