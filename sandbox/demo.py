"""The demo runner (``make demo``, ``lakehouse demo``): the main job end to end, on a laptop.

It generates the six feeds' deliveries for a synthetic population (on an object-store root:
locally, then uploaded to the root's inbox; :mod:`sandbox.remote`), prepares Airflow's metadata
database (SQLite under ``AIRFLOW_HOME``), runs every feed DAG and then every publishing DAG
through Airflow's own runner in one process (``python -m sandbox.dagrun``: ``dag.test()``
each, one Spark session shared), and summarises what arrived, what was quarantined and what was
published. Progress shows as it goes: a spinner naming the running DAG and one ``✓``/``✗``
line per DAG as it finishes (one line per step when the output is not a terminal). Airflow's
own output goes to ``AIRFLOW_HOME/demo.log``.

On the cluster profile, ``executor="celery"`` (``lakehouse demo --executor celery``,
``make cluster-demo``) triggers the DAGs on the profile's Airflow instead, where the Celery
worker runs their tasks (:mod:`sandbox.celeryrun`); the rest is the same.

Without ``LAKEHOUSE_PSEUDONYM_KEY`` the demo publishes with :data:`DEMO_KEY`, and says so:
development only, never in production.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from kernel.config import REPO_ROOT, Settings
from kernel.layout import Layout
from sandbox.celeryrun import FAIL_MARKER  # light: the standard library only
from stages.tasks import PROGRESS_MARKER, PROGRESS_STDOUT_ENV

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

DEMO_KEY = "demo-key-NOT-FOR-PRODUCTION-0123456789abcdef"
DEMO_PERSONS = 3000

DagResults = dict[str, tuple[str, list[str]]]
"""Per DAG id: its final state (``success``, ``failed``, ``not run``…) and its problems."""


@functools.cache
def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


@functools.cache
def _err() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def default_start(days: int) -> date:
    """The first delivery day such that the last of ``days`` daily deliveries is today (in
    Taiwan): the snapshot of a publish today then describes fresh data."""
    from stages.tasks import today

    return today() - timedelta(days=days - 1)


# ----------------------------------------------------------------------------- Airflow
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
        PROGRESS_STDOUT_ENV: "1",  # the tasks' progress lines, read by run_dags
    })
    if settings.is_local and "AIRFLOW__OPENLINEAGE__TRANSPORT" not in env \
            and not env.get("OPENLINEAGE_URL"):
        # The OpenLineage provider's own events (DAG runs, tasks) next to the jobs' events.
        import json

        folder = Layout(settings.root).lineage_dir / "airflow"
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
        problems = [line.split(FAIL_MARKER, 1)[1].strip() for line in f if FAIL_MARKER in line]
    return rc, list(dict.fromkeys(problems))


def progress_text(line: str) -> str | None:
    """The text of a task's progress line (:data:`stages.tasks.PROGRESS_MARKER`) in the
    runner's output, without the log's decoration; ``None`` for any other line."""
    if PROGRESS_MARKER not in line:
        return None
    text = line.split(PROGRESS_MARKER, 1)[1]
    return re.sub(r"\s+\[lakehouse\].*$", "", text).strip()


def run_dags(dag_ids: Sequence[str], env: dict[str, str], log: Path,
             progress: Callable[[str], object] | None = None,
             finished: Callable[[str, str, list[str]], object] | None = None,
             step: Callable[[str], object] | None = None) -> DagResults:
    """Run DAGs through Airflow in one process (``sandbox.dagrun``: ``dag.test()`` each,
    one Spark session shared), output appended to ``log``; per DAG its final state and the
    problems its tasks reported (their AirflowFailException lines). ``progress(dag_id)`` is
    called as a DAG starts, ``step(text)`` at each progress line of its tasks (feed or
    dataset, stage, rows so far), ``finished(dag_id, state, problems)`` as it ends."""
    out: DagResults = {d: ("not run", []) for d in dag_ids}
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
                if finished:
                    finished(current, *out[current])
                current = None
            elif FAIL_MARKER in line:
                problems.append(line.split(FAIL_MARKER, 1)[1].strip())
            elif step and current and (text := progress_text(line)):
                step(text)
        proc.wait()
    return out


# ----------------------------------------------------------------------------- the demo
@contextmanager
def _progress(text: str) -> Iterator[Callable[[str], None]]:
    """A spinner with ``text`` on a terminal, a line per step otherwise (a log, CI); yields
    the function that names the next step."""
    con = _console()
    if not con.is_terminal:
        con.print(f"… {text}", style="dim")
        yield lambda step: con.print(f"… {step}", style="dim")
        return
    with con.status(text) as status:
        yield lambda step: status.update(step)


def _dag_reporter(total: int, update: Callable[[str], None], how: str = "dag.test") -> tuple[
        Callable[[str], None], Callable[[str, str, list[str]], None], Callable[[str], None]]:
    """``(started, finished, step)`` callbacks of :func:`run_dags`: the spinner names the
    running DAG and its tasks' latest progress (feed or dataset, stage, rows so far), and each
    DAG's ``✓``/``✗`` line is printed as it finishes, with its time."""
    started_at: dict[str, float] = {}

    def started(dag_id: str) -> None:
        """The spinner names the DAG now running."""
        started_at[dag_id] = time.monotonic()
        update(f"Airflow: DAG {dag_id} ({how}, {len(started_at)}/{total})…")

    def step(text: str) -> None:
        """The spinner (a line, off a terminal) names the running task's progress."""
        update(f"Airflow {len(started_at)}/{total}: {text}")

    def finished(dag_id: str, state: str, problems: list[str]) -> None:
        """The DAG's line, its time and its problems, now."""
        seconds = time.monotonic() - started_at.get(dag_id, time.monotonic())
        mark = "[green]✓[/green]" if state == "success" else "[red]✗[/red]"
        _console().print(f"{mark} DAG {dag_id}: {state} ({seconds:.0f} s)")
        for p in problems:  # a reason is never read as markup (it may hold brackets)
            from rich.text import Text

            _err().print(Text("  ✗ ", style="red").append(p))

    return started, finished, step


def _generate(settings: Settings, persons: int, seed: int, staging: Path | None) -> None:
    """Generate the deliveries into the root, or into ``staging`` and upload them to the
    object-store root's inbox (:mod:`sandbox.remote`)."""
    from sandbox.generate import generate
    from sandbox.remote import upload_inbox

    with _progress(f"generating deliveries for {persons:,} persons…"):
        report = generate(staging or Path(settings.root), persons=persons, seed=seed,
                          start=default_start(3))
    _console().print(f"[green]✓[/green] generated: {report}")
    if staging is not None:
        with _progress(f"uploading the deliveries to {settings.root}/inbox…"):
            n = upload_inbox(staging, settings.root)
        _console().print(f"[green]✓[/green] uploaded {n} files to {settings.root}/inbox")


def _dag_ids() -> list[str]:
    """Every feed DAG, then every publishing DAG."""
    from kernel import contracts

    return [c.name for c in contracts.feeds()] + [f"publish.{d.table}"
                                                  for d in contracts.datasets()]


def _celery_env(settings: Settings) -> dict[str, str]:
    """The environment of the cluster profile's Airflow (its Celery worker runs the tasks with
    the pseudonymisation key the profile started it with: this run's key, when set, must be
    that one)."""
    from sandbox.celeryrun import cluster_airflow_env

    env = cluster_airflow_env(airflow_env(settings))
    worker_key = env.get("LAKEHOUSE_PSEUDONYM_KEY", "")
    if os.environ.setdefault("LAKEHOUSE_PSEUDONYM_KEY", worker_key) != worker_key:
        raise RuntimeError("LAKEHOUSE_PSEUDONYM_KEY differs from the key the cluster's Airflow "
                           "was started with: run 'make cluster-down cluster-up' with it set")
    return env


def run_demo(persons: int = DEMO_PERSONS, seed: int = 42, executor: str = "embedded") -> int:
    """Generate deliveries, run every feed DAG and publishing DAG through Airflow, summarise;
    the exit status: 0 when every DAG run succeeded. ``executor``: ``embedded`` (``dag.test()``
    in one process) or ``celery`` (the cluster profile's Airflow, :mod:`sandbox.celeryrun`)."""
    con, err = _console(), _err()
    celery = executor == "celery"
    try:
        celery_env = _celery_env(Settings.from_env()) if celery else None
    except RuntimeError as exc:
        err.print(f"✗ {exc}")
        return 2
    staging = None
    if not Settings.from_env().is_local:  # an object store: the agencies' side stays local
        from sandbox.remote import sources_env, staging_dir, unreachable

        problem = unreachable(Settings.from_env().root)
        if problem:  # refused before anything is said or written
            err.print(f"✗ {problem}")
            return 2
        staging = staging_dir(Settings.from_env())
        os.environ.update(sources_env(staging))
    if not os.environ.get("LAKEHOUSE_PSEUDONYM_KEY"):
        os.environ["LAKEHOUSE_PSEUDONYM_KEY"] = DEMO_KEY
        con.print("[yellow]![/yellow] LAKEHOUSE_PSEUDONYM_KEY is not set: using the demo key "
                  "(for this demo only; never in production)")
    settings = Settings.from_env()
    env = celery_env or airflow_env(settings)
    log = Path(env["AIRFLOW_HOME"]) / "demo.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    con.print(f"storage root: {settings.root}; Airflow home: {env['AIRFLOW_HOME']} "
              f"(output in {log})")
    _generate(settings, persons, seed, staging)
    if not celery:  # the cluster's Airflow has its database (infra/cluster.sh up)
        with _progress("preparing the Airflow metadata database (SQLite)…"):
            if _airflow(["db", "migrate"], env, log)[0] != 0:
                err.print(f"[red]✗[/red] airflow db migrate failed: see {log}")
                return 1
    dag_ids = _dag_ids()
    with _progress("running the DAGs through Airflow…") as update:
        if celery:
            from sandbox.celeryrun import run_dags_celery

            try:
                results = run_dags_celery(dag_ids, env, log, *_dag_reporter(
                    len(dag_ids), update, "Celery executor"))
            except RuntimeError as exc:
                err.print(f"[red]✗[/red] {exc}")
                return 2
        else:
            results = run_dags(dag_ids, env, log, *_dag_reporter(len(dag_ids), update))
    for dag_id, (state, _) in results.items():
        if state == "not run":  # the runner stopped before it: no line was printed for it
            con.print(f"[red]✗[/red] DAG {dag_id}: not run")
    _summary(settings, env.get("AIRFLOW__API__BASE_URL", "") if celery else "make airflow")
    failed = [d for d, (state, _) in results.items() if state != "success"]
    if failed:
        err.print(f"[red]✗[/red] DAG runs failed: {', '.join(failed)} (details in {log})")
        return 1
    return 0


@dataclass(frozen=True)
class FeedSummary:
    """What the demo did for one feed: its files and its records."""

    feed: str
    landed: int
    resent: int
    refused: int
    received: int
    quarantined: int
    duplicates: int
    entity_rows: int


SUMMARY_COLUMNS = ("files", "records", "quarant.", "dupl.", "entity")
"""The summary's count columns: files landed, records received, quarantined, duplicates removed,
rows of the silver entity (explained by :data:`SUMMARY_LEGEND`)."""
SUMMARY_LEGEND = "quarant. = quarantined records, dupl. = duplicates removed, entity = rows now"
"""The line under the summary table (within 80 columns)."""


def summary_table(rows: Sequence[FeedSummary]) -> Table:
    """The demo's summary, one row per feed, narrow enough for an 80-column terminal (the
    longest feed name and counts in the millions take 78 columns)."""
    from rich import box
    from rich.table import Table

    table = Table(title="What the demo did, per feed", box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0),
                  show_edge=False, title_justify="left")
    table.add_column("feed", no_wrap=True)
    for header in SUMMARY_COLUMNS:
        table.add_column(header, justify="right", no_wrap=True)
    for r in rows:
        counts = (r.landed, r.received, r.quarantined, r.duplicates, r.entity_rows)
        table.add_row(r.feed, *(f"{n:,}" for n in counts))
    return table


def file_notes(rows: Sequence[FeedSummary]) -> list[str]:
    """One line per feed that had files resent or refused (none when every file landed once)."""
    notes = []
    for r in rows:
        parts = ([f"{r.resent:,} file(s) resent, not ingested again"] if r.resent else []) + (
            [f"{r.refused:,} file(s) refused"] if r.refused else [])
        if parts:
            notes.append(f"{r.feed}: {'; '.join(parts)}")
    return notes


def _summary(settings: Settings, airflow_ui: str = "make airflow") -> None:
    """Rows received, quarantined and published, and where to look."""
    from collections import Counter

    from kernel import contracts
    from kernel.records import Records
    from kernel.spark import session
    from kernel.storage import Storage

    con = _console()
    st = Storage(session(settings), settings.root)
    rec = Records(st)
    rows: list[FeedSummary] = []
    for fc in contracts.feeds():
        dc = Counter(str(r["status"]) for r in rec.rows("deliveries", feed=fc.name))
        silver = rec.latest_rows("batches", ["batch_id", "stage"], feed=fc.name, stage="silver")
        rows_in, quarantined, duplicates = (sum(r[c] or 0 for r in silver)
                                            for c in ("rows_in", "quarantined", "duplicates"))
        n_entity = st.read("silver", fc.entity).count() if st.exists("silver", fc.entity) else 0
        rows.append(FeedSummary(fc.name, dc.get("landed", 0), dc.get("duplicate", 0),
                                dc.get("refused", 0), rows_in, quarantined, duplicates,
                                n_entity))
    con.print(summary_table(rows))
    con.print(SUMMARY_LEGEND)
    for line in file_notes(rows):
        con.print(f"! {line}")
    for dc_ in contracts.datasets():
        if st.exists(dc_.zone, dc_.table):
            n = st.read(dc_.zone, dc_.table).count()
            meta = st.commit_metadata(dc_.zone, dc_.table)
            con.print(f"published {dc_.name}: {n:,} rows, version "
                      f"{st.version(dc_.zone, dc_.table)}, key id {meta.get('key_id')} → "
                      f"{st.path(dc_.zone, dc_.table)}")
        else:
            con.print(f"[red]✗[/red] {dc_.name} is not published")
    layout = Layout(settings.root)
    con.print(f"quality reports: {layout.reports_uri}/index.html · "
              "quarantine: LAKEHOUSE_ROLE=steward lakehouse quarantine list FEED · "
              f"audit: lakehouse audit verify · lineage: {layout.lineage_uri}/ · "
              f"Airflow UI: {airflow_ui}")
