"""``python -m bench.services`` (``make bench-services``): the data services under load.

Issue #18's targets, measured on the real service (``lakehouse serve --workers W``, a
subprocess) over HTTP on localhost: **e-verification at >= 1,000 requests/s with p99 <= 25 ms**
(token issue excluded) with ``N`` persons published (default 1,000,000), and **a ~100 MB
dataset version streamed at >= 100 MB/s with the service's memory bounded**.

In a work folder that is its ``LAKEHOUSE_ROOT``: publish ``gold.coverage_periods`` (what
verifications answer from) and ``gold.person_coverage`` for the same persons; start the service
and wait until ``/healthz`` names the version served and every worker answers; take tokens (not
measured); warm up. Then bombardier loads of ``--duration`` seconds with one fixed body each:
a person in the table (*found*), a valid ID in no table (*not found*: both must be answered in
the same time), and both at once (*mixed*: two processes, half the connections each, rates
summed, latencies per process; the worse p99 bounds the merged one). Each runs at *saturation*
(``--connections``, each sending again when answered: the throughput the service sustains;
latency there is queueing) and *paced* at ``--rate`` requests/s in all (the latency at the
target's rate; it counts only if that rate was reached). A load with any response other than
200 or any error is *failed*, never a rate. Then a version of ``gold.person_coverage`` sized to
download as about ``--stream-mb`` MB is written; after an unmeasured download on every worker,
version 0 and it are streamed three times each with ``httpx``, the server's RSS sampled every
50 ms.

Results: ``<out>/<name>-services.json`` and ``.md`` with the machine, the load average before
and after and the CPU other processes used meanwhile; every figure against its target, met or
not, as measured.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench import machine
from bench import services_load as sl

REPO = Path(__file__).resolve().parent.parent
BOMBARDIER = REPO / ".cache" / "go" / "bin" / "bombardier"
TARGET_RATE = 1000.0
TARGET_P99_MS = 25.0
TARGET_STREAM_MB_S = 100.0
BOUNDED_SHARE = 0.5
"""Memory counts as bounded when the server's RSS grew by less than this share of the bytes
of the version it streamed (a whole-table load would grow it by more than the version)."""
STREAM_REPEAT = 3
console = Console(highlight=False)
T = TypeVar("T")


@dataclass
class Config:
    """What to measure and where."""

    persons: int = 1_000_000
    duration: float = 20.0
    connections: int = 64
    workers: int = 2
    stream_mb: float = 100.0
    rate: float = TARGET_RATE
    out: Path = REPO / "bench" / "results"
    name: str | None = None
    work: Path | None = None
    seed: int = 42
    warmup: float = 5.0


@dataclass
class Figure:
    """One measured figure against its target (``direction`` ``min``: at least the target;
    ``max``: at most). ``value`` is ``None`` for a failed measurement (``met`` is then
    false)."""

    key: str
    label: str
    value: float | None
    unit: str
    target: float | None = None
    direction: str = "min"
    note: str = ""

    @property
    def met(self) -> bool | None:
        """Whether the target is met (None without a target)."""
        if self.target is None:
            return None
        if self.value is None:
            return False
        return self.value >= self.target if self.direction == "min" else self.value <= self.target

    def value_text(self) -> str:
        """The value with its unit, or ``failed``."""
        if self.value is None:
            return "failed"
        return f"{self.value:,.1f} {self.unit}" if self.unit else f"{self.value:,.2f}"

    def target_text(self) -> str:
        """``≥ 1000 req/s`` / ``≤ 25 ms`` / ``—``."""
        if self.target is None:
            return "—"
        return f"{'≥' if self.direction == 'min' else '≤'} {self.target:g} {self.unit}".strip()

    def as_dict(self) -> dict[str, Any]:
        """JSON form with ``met`` and the texts."""
        return {**asdict(self), "met": self.met, "target_text": self.target_text()}


@dataclass
class Measured:
    """What one run measured (the JSON holds all of it)."""

    data: dict[str, Any] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)
    loads: dict[str, sl.LoadSet] = field(default_factory=dict)
    streams: list[sl.StreamRun] = field(default_factory=list)


# ---------------------------------------------------------------------------------- figures
def _failure(s: sl.LoadSet) -> str | None:
    """Why a load does not count (responses other than 200, errors, a pace not kept)."""
    why = [f"{r.label}: {r.requests - r.status.get('2xx', 0):,} responses other than 200, "
           f"errors {r.errors}" for r in s.runs if not r.ok]
    why += [f"{r.label}: {r.rate:,.0f} req/s of the {r.offered:g} offered"
            for r in s.runs if r.ok and not r.kept_pace]
    return "failed: " + "; ".join(why) if why else None


def _verify_figures(key: str, name: str, loads: dict[str, sl.LoadSet]) -> list[Figure]:
    """The load ``key``'s throughput at saturation (target) and its p99 there (no target);
    the p99 of its paced twin ``<key>_paced`` at the offered rate (target, when that rate is
    at least the target rate)."""
    figs = []
    sat = loads.get(key)
    if sat is not None:
        failed = _failure(sat)
        conns = sum(r.connections for r in sat.runs)
        both = " (two processes: their rates summed, the worse p99)" if len(sat.runs) > 1 else ""
        figs.append(Figure(f"verify_{key}_rate", f"e-verification, {name}: throughput at "
                           f"saturation, {conns} connections", None if failed else
                           sum(r.rate for r in sat.runs), "req/s", TARGET_RATE, "min",
                           failed or both.strip(" ()")))
        figs.append(Figure(f"verify_{key}_p99_saturated", f"e-verification, {name}: p99 at "
                           "saturation", None if failed else
                           max(r.latency_ms["p99"] for r in sat.runs), "ms", None, "max",
                           failed or f"latency there is queueing: {conns} requests always in "
                                     "flight"))
    paced = loads.get(f"{key}_paced")
    if paced is not None:
        failed = _failure(paced)
        offered = sum(r.offered or 0.0 for r in paced.runs)
        slow = (f"offered below the target rate of {TARGET_RATE:g} req/s: cannot meet it"
                if offered < TARGET_RATE else None)
        figs.append(Figure(f"verify_{key}_p99", f"e-verification, {name}: p99 at {offered:,.0f} "
                           "req/s offered", None if failed or slow else
                           max(r.latency_ms["p99"] for r in paced.runs), "ms", TARGET_P99_MS,
                           "max", failed or slow or
                           f"achieved {sum(r.rate for r in paced.runs):,.1f} req/s"))
    return figs


def figures(m: Measured) -> list[Figure]:
    """Every figure with its target: per verification load the throughput at saturation and
    the p99 at the offered rate (and, without a target, the p99 at saturation), the found/not
    found p50 ratio, the stream's speed and the memory it took."""
    figs: list[Figure] = []
    for key, name in (("found", "person in the table"), ("not_found", "valid ID not in it"),
                      ("mixed", "both at once")):
        figs += _verify_figures(key, name, m.loads)
    mixed = m.loads.get("mixed_paced")
    if mixed is not None:
        failed = _failure(mixed)
        found, missing = (next(r for r in mixed.runs if r.label == k)
                          for k in ("found", "not found"))
        ratio = missing.latency_ms["p50"] / found.latency_ms["p50"]
        figs.append(Figure("verify_same_time", "e-verification: p50 not found / p50 found, "
                           "asked at once", None if failed else ratio, "", None,
                           note=failed or f"{found.latency_ms['p50']:.2f} ms and "
                           f"{missing.latency_ms['p50']:.2f} ms, the two paced processes of "
                           "the same load (the same conditions); 1.00 is the same time; no "
                           "target is set"))
    big = [s for s in m.streams if s.version == m.data.get("stream_version")]
    if big:
        rate = statistics.median(s.mb_per_s for s in big)
        size = statistics.median(s.bytes for s in big) / sl.MB
        figs.append(Figure("stream_rate", f"streaming a {size:,.0f} MB version (median of "
                           f"{len(big)})", rate, "MB/s", TARGET_STREAM_MB_S, "min"))
        small = [s for s in m.streams if s.version != m.data.get("stream_version")]
        other = (f"; {max(s.growth_mb for s in small):,.0f} MB for the "
                 f"{small[0].bytes / sl.MB:,.0f} MB version 0" if small else "")
        share = max(s.growth_mb / (s.bytes / sl.MB) for s in big)
        figs.append(Figure("stream_memory", "server RSS growth during the stream / version "
                           "size (worst)", share, "", BOUNDED_SHARE, "max",
                           note=f"peak growth {max(s.growth_mb for s in big):,.0f} MB for "
                                f"{size:,.0f} MB streamed{other}; a whole-table load would "
                                "be above 1"))
    return figs


# ---------------------------------------------------------------------------------- steps
@dataclass
class _Steps:
    """The run's progress bar; off a terminal, one log line per step."""

    progress: Progress
    total: int
    task: Any = None

    def __call__(self, text: str, fn: Callable[[], T]) -> T:
        if self.task is None:
            self.task = self.progress.add_task(text, total=self.total)
        self.progress.update(self.task, description=text)
        if not console.is_terminal:
            console.print(f"{datetime.datetime.now():%H:%M:%S} {text}")
        out = fn()
        self.progress.advance(self.task)
        return out


def snapshot_day() -> datetime.date:
    """The versions' snapshot date: a week ago (a date asked about must not be future)."""
    return datetime.date.today() - datetime.timedelta(days=7)


def verification_body(national_id: str, on: datetime.date) -> dict[str, str]:
    """A verification request about ``national_id``'s labor insurance on ``on``."""
    return {"id": national_id, "scheme": "labor", "date": on.isoformat(),
            "purpose": sl.PURPOSE, "consent": sl.CONSENT}


def _publish_tables(cfg: Config, root: Path, m: Measured) -> sl.Population:
    """The population, its two tables published, the timings in ``m.data``."""
    snap = snapshot_day()
    t0 = time.perf_counter()
    pop = sl.population(cfg.persons, cfg.seed)
    t1 = time.perf_counter()
    periods = sl.period_rows(pop, snap)
    v_periods = sl.publish(root, "coverage_periods", periods, snap)
    coverage = sl.coverage_rows(pop, snap, cfg.seed)
    v0 = sl.publish(root, "person_coverage", coverage, snap)
    m.data.update(persons=pop.persons, periods=periods.num_rows, snapshot_date=snap.isoformat(),
                  key_id=sl.PSEUDONYM.key_id, coverage_periods_version=v_periods,
                  person_coverage_v0=v0, person_coverage_v0_rows=coverage.num_rows,
                  keys_seconds=round(t1 - t0, 2),
                  publish_seconds=round(time.perf_counter() - t1, 2))
    return pop


def _start(cfg: Config, work: Path, root: Path, pop: sl.Population,
           m: Measured) -> tuple[sl.Server, dict[str, str]]:
    """The service started and answering from every worker; the two request bodies."""
    t0 = time.perf_counter()
    server = sl.Server(work, sl.service_env(work, root), cfg.workers)
    try:
        version = server.wait_ready(timeout=600)
        snap = datetime.date.fromisoformat(m.data["snapshot_date"])
        bearer = sl.token(server.url, "verify:labor")
        bodies = {"found": verification_body(pop.found_id, snap),
                  "not_found": verification_body(pop.not_found_id, snap)}
        answers = {k: sl.ask(server.url, bearer, b)["verification"] for k, b in bodies.items()}
        if not answers["found"]["insured"] or answers["not_found"]["insured"]:
            raise RuntimeError(f"unexpected answers {answers}")
        answering = sl.workers_answering(server.url, bearer, bodies["found"], cfg.workers, 120)
    except BaseException:
        server.stop()
        raise
    m.server.update(url=server.url, workers=cfg.workers, workers_answering=answering,
                    coverage_version=version, ready_seconds=round(time.perf_counter() - t0, 1),
                    rss_ready_mb={str(k): round(v / sl.MB, 1) for k, v in server.rss().items()},
                    answers=answers)
    return server, {k: json.dumps(b) for k, b in bodies.items()}


def _verify_loads(cfg: Config, work: Path, server: sl.Server, bodies: dict[str, str],
                  binary: Path, m: Measured, step: _Steps) -> None:
    """Warm-up; found, not found and mixed at saturation; the same three paced at
    ``cfg.rate`` in all (a fresh token before each)."""
    files = {}
    for k, text in bodies.items():
        files[k] = work / f"body-{k}.json"
        files[k].write_text(text, encoding="utf-8")
    c, half = cfg.connections, max(1, cfg.connections // 2)
    found, missing = files["found"], files["not_found"]
    plan: list[tuple[str, str, list[sl.Load], float]] = [
        ("warmup", "warming up (not counted)…", [sl.Load("found", found, c)], cfg.warmup),
        ("found", "saturation: person in the table…", [sl.Load("found", found, c)],
         cfg.duration),
        ("not_found", "saturation: valid ID not in the table…",
         [sl.Load("not found", missing, c)], cfg.duration),
        ("mixed", "saturation: both at once…",
         [sl.Load("found", found, half), sl.Load("not found", missing, half)], cfg.duration),
        ("found_paced", f"{cfg.rate:g} req/s: person in the table…",
         [sl.Load("found", found, c, cfg.rate)], cfg.duration),
        ("not_found_paced", f"{cfg.rate:g} req/s: valid ID not in the table…",
         [sl.Load("not found", missing, c, cfg.rate)], cfg.duration),
        ("mixed_paced", f"{cfg.rate:g} req/s: both at once, half each…",
         [sl.Load("found", found, half, cfg.rate / 2),
          sl.Load("not found", missing, half, cfg.rate / 2)], cfg.duration)]
    for key, text, loads, seconds in plan:
        bearer = sl.token(server.url, "verify:labor")
        m.loads[key] = step(f"{text} {len(loads)}×bombardier, {seconds:g} s",
                            partial(sl.run_loads, binary, server, bearer, loads, seconds))


def _streams(cfg: Config, root: Path, work: Path, server: sl.Server, m: Measured,
             step: _Steps) -> None:
    """Publish the stream version; a first download on every worker; then download version 0
    and the stream version three times each."""
    snap = datetime.date.fromisoformat(m.data["snapshot_date"])
    sample = sl.synthetic_coverage(min(200_000, max(1000, cfg.persons)), snap, cfg.seed + 1)
    per_row = sl.parquet_bytes_per_row(sample)
    rows = max(1000, int(cfg.stream_mb * sl.MB / per_row))

    def write() -> int:
        t0 = time.perf_counter()
        table = sl.synthetic_coverage(rows, snap, cfg.seed + 1)
        version = sl.publish(root, "person_coverage", table, snap)
        m.data.update(stream_version=version, stream_rows=rows,
                      stream_bytes_per_row_estimate=round(per_row, 2),
                      stream_arrow_mb=round(table.nbytes / sl.MB, 1),
                      stream_publish_seconds=round(time.perf_counter() - t0, 1))
        return version

    version = step(f"writing a version of {rows:,} rows (~{cfg.stream_mb:g} MB download)…",
                   write)
    bearer = sl.token(server.url, "datasets:gold.person_coverage")
    dest = work / "download.parquet"
    v0, rows0 = m.data["person_coverage_v0"], m.data["person_coverage_v0_rows"]
    m.data["stream_warmup_downloads"] = step(
        "streaming: a first download on every worker (not measured)…",
        partial(sl.warm_streams, server, bearer, v0, rows0, dest, 4 * cfg.workers))
    plan = [(v0, rows0)] * STREAM_REPEAT
    plan += [(version, rows)] * STREAM_REPEAT
    for i, (v, n) in enumerate(plan, 1):
        m.streams.append(step(f"streaming version {v} ({n:,} rows), {i}/{len(plan)}…",
                              partial(sl.download, server, bearer, v, n, dest)))


# ---------------------------------------------------------------------------------- run
def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def find_bombardier() -> Path:
    """The bombardier built at set-up (``.cache/go/bin``), else one on the PATH."""
    if BOMBARDIER.is_file():
        return BOMBARDIER
    found = shutil.which("bombardier")
    if found:
        return Path(found)
    raise FileNotFoundError(f"bombardier is not built: make {BOMBARDIER.relative_to(REPO)}")


def run(cfg: Config) -> tuple[Path, Path, list[Figure]]:
    """Run the benchmark (module docstring); the JSON and Markdown written, and the figures."""
    binary = find_bombardier()
    work = cfg.work or Path(tempfile.mkdtemp(prefix="lakehouse-bench-services-"))
    root = work / "lake"
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} is not empty: give a fresh --work folder")
    root.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now(datetime.UTC)
    load_before = os.getloadavg()
    share = sl.MachineShare()
    m = Measured()
    steps = 2 + 7 + 2 + 2 * STREAM_REPEAT + 1
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            step = _Steps(progress, steps)
            pop = step(f"{cfg.persons:,} persons: IDs, keys (HMAC), Delta tables…",
                       lambda: _publish_tables(cfg, root, m))
            server, bodies = step(f"starting lakehouse serve --workers {cfg.workers}…",
                                  lambda: _start(cfg, work, root, pop, m))
            try:
                _verify_loads(cfg, work, server, bodies, binary, m, step)
                _streams(cfg, root, work, server, m, step)
            finally:
                step("stopping the service…", server.stop)
            m.server["log_tail"] = server.log_path.read_text(errors="replace")[-1500:]
    finally:
        load = share.stop()
        if cfg.work is None:
            shutil.rmtree(work, ignore_errors=True)
    load.update(load_average_before=[round(x, 2) for x in load_before],
                load_average_after=[round(x, 2) for x in os.getloadavg()])
    figs = figures(m)
    result = _result(cfg, binary, started, load, m)
    js, md = write(cfg.out, f"{cfg.name or result['date']}-services", result, figs)
    _print(figs)
    console.print(f"results: {js} and {md}")
    return js, md, figs


def _result(cfg: Config, binary: Path, started: datetime.datetime, load: dict[str, Any],
            m: Measured) -> dict[str, Any]:
    """The JSON document (without the figures, which the writer adds)."""
    desc = machine.describe()
    desc["versions"] = {p: _version(p) for p in ("fastapi", "uvicorn", "starlette", "pyarrow",
                                                  "deltalake", "httpx", "cryptography", "pyjwt")}
    return {
        "date": started.date().isoformat(),
        "started_at": started.isoformat(timespec="seconds"),
        "machine": desc,
        "machine_load": load,
        "config": {"persons": cfg.persons, "duration_s": cfg.duration,
                   "connections": cfg.connections, "workers": cfg.workers,
                   "stream_mb": cfg.stream_mb, "rate": cfg.rate, "warmup_s": cfg.warmup,
                   "seed": cfg.seed,
                   "load_generator": f"bombardier ({binary.name}), fasthttp client, "
                                     "keep-alive, 10 s timeout",
                   "stream_repeat": STREAM_REPEAT, "bounded_share": BOUNDED_SHARE},
        "data": m.data,
        "server": m.server,
        "verification": {k: v.as_dict() for k, v in m.loads.items()},
        "streaming": [asdict(s) for s in m.streams],
    }


# ---------------------------------------------------------------------------------- results
def _ms(run: dict[str, Any], key: str) -> str:
    value = run["latency_ms"].get(key)
    return "—" if value is None else f"{value:,.1f}"


def _load_lines(verification: dict[str, Any]) -> list[str]:
    """One row per bombardier process of every load (the warm-up included, marked)."""
    lines = ["| load | asking about | conn. | offered req/s | requests | req/s | p50 ms | "
             "p90 ms | p99 ms | max ms | not 200 / errors | server CPU s | bombardier CPU s | "
             "server RSS peak MB |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key, s in verification.items():
        for r in s["runs"]:
            bad = r["requests"] - r["status"].get("2xx", 0)
            errors = sum(e["count"] for e in r["errors"])
            failed = "" if r["ok"] and r["kept_pace"] else " (**failed**)"
            offered = "max" if r["offered"] is None else f"{r['offered']:,.0f}"
            lines.append(
                f"| {key}{failed} | {r['label']} | {r['connections']} | {offered} | "
                f"{r['requests']:,} | {r['rate']:,.1f} | {_ms(r, 'p50')} | "
                f"{_ms(r, 'p90')} | {_ms(r, 'p99')} | {_ms(r, 'max')} | {bad} / {errors} | "
                f"{s['server_cpu_seconds']:,.1f} | {s['load_generator_cpu_seconds']:,.1f} | "
                f"{s['server_rss_peak_mb']:,.0f} |")
    return lines


def _stream_lines(streams: list[dict[str, Any]]) -> list[str]:
    """One row per download."""
    lines = ["| version | rows | MB | seconds | first byte s | MB/s | server RSS before → peak "
             "→ after MB | growth MB (one worker) | server CPU s |",
             "|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for d in streams:
        lines.append(
            f"| {d['version']} | {d['rows']:,} | {d['bytes'] / sl.MB:,.1f} | {d['seconds']:.2f} | "
            f"{d['first_byte_seconds']:.2f} | {d['mb_per_s']:,.1f} | "
            f"{d['server_rss_before_mb']:,.0f} → {d['server_rss_peak_mb']:,.0f} → "
            f"{d['server_rss_after_mb']:,.0f} | {d['growth_mb']:,.0f} "
            f"({d['worker_growth_mb']:,.0f}) | {d['server_cpu_seconds']:.2f} |")
    return lines


def markdown(result: dict[str, Any], figs: Sequence[Figure]) -> str:
    """The results page: machine and its load, figures against targets, every load and
    download."""
    m, c, load, d = result["machine"], result["config"], result["machine_load"], result["data"]
    v, srv = m["versions"], result["server"]
    before = ", ".join(f"{x:g}" for x in load["load_average_before"])
    after = ", ".join(f"{x:g}" for x in load["load_average_after"])
    out = [f"# Data services benchmark {result['date']} (issue #18)", "",
           f"{d['persons']:,} persons ({d['periods']:,} coverage periods); `lakehouse serve "
           f"--workers {c['workers']}`; bombardier, {c['connections']} connections, "
           f"{c['duration_s']:g} s per load after a {c['warmup_s']:g} s warm-up. {m['cpus']} CPUs "
           f"({m['cpu_model']}), {m['memory_gib']} GiB, Python {m['python']}, fastapi "
           f"{v['fastapi']}, uvicorn {v['uvicorn']}, pyarrow {v['pyarrow']}, deltalake "
           f"{v['deltalake']}. The load generator runs on the same machine as the service.", "",
           f"Load average (1, 5, 15 min) before: {before}; after: {after}; mean "
           f"{load['load_average_mean']}, max {load['load_average_max']} during the run. Other "
           f"processes used {load['other_processes_cpu_seconds']} CPU-seconds during the "
           f"{load['wall_seconds']:,.0f} s run ({load['other_processes_share_of_machine']:.0%} "
           "of the machine).", "",
           "## Figures", "", "| figure | measured | target | met? |", "|---|---:|---:|:---:|"]
    for f in figs:
        met = {None: "—", True: "yes", False: "**no**"}[f.met]
        out.append(f"| {f.label} | {f.value_text()} | {f.target_text()} | {met} |")
    out += ["", *[f"- *{f.label}*: {f.note}" for f in figs if f.note], "",
            "## Verification loads", "", *_load_lines(result["verification"]), "",
            "Latencies are bombardier's, per process (never merged across processes), from a "
            "request's sending to its response. *max*: each connection sends its next request "
            "as soon as it has an answer (the latency is then mostly queueing); a paced load is "
            f"limited to the offered rate and counts only if it reached {sl.PACE_KEPT:.0%} of "
            "it. Server CPU is the service's process tree over the load, bombardier's its "
            "own.", "",
            "## Streaming", "", *_stream_lines(result["streaming"]), "",
            f"Version {d.get('stream_version')}: {d.get('stream_rows', 0):,} rows of "
            f"gold.person_coverage's columns ({d.get('stream_arrow_mb')} MB in Arrow), sized "
            "from a sample published the same way (its download is the version's own files "
            "spliced, so it weighs what they weigh); version 0 is the "
            f"{d['person_coverage_v0_rows']:,}-person table. MB are 10^6 bytes. The "
            f"{d['stream_warmup_downloads']} unmeasured downloads before (one or more per worker) "
            "pay for what a measurement must not see: a worker hands the memory its index "
            "build freed back to the system only at pyarrow's next allocation.", "",
            "## Service", "",
            f"Ready (index built, every worker answering: {srv['workers_answering']} of "
            f"{srv['workers']}) {srv['ready_seconds']} s after start; RSS per process then "
            f"(MB): {', '.join(f'{x:,.0f}' for x in srv['rss_ready_mb'].values())}. Keys "
            f"(HMAC of {d['persons']:,} IDs) took {d['keys_seconds']} s, the two Delta "
            f"publishes {d['publish_seconds']} s.", ""]
    return "\n".join(out)


def write(out_dir: Path, name: str, result: dict[str, Any],
          figs: Sequence[Figure]) -> tuple[Path, Path]:
    """``<out>/<name>.json`` (the result and its figures) and ``<out>/<name>.md``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    js, md = out_dir / f"{name}.json", out_dir / f"{name}.md"
    doc = {**result, "figures": [f.as_dict() for f in figs]}
    js.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n",
                  encoding="utf-8")
    md.write_text(markdown(result, figs) + "\n", encoding="utf-8")
    return js, md


def _print(figs: Sequence[Figure]) -> None:
    table = Table(title="data services against issue #18's targets")
    for col in ("figure", "measured", "target", "met?"):
        table.add_column(col, justify="left" if col == "figure" else "right")
    for f in figs:
        met = {None: "—", True: "[green]yes[/green]", False: "[red]no[/red]"}[f.met]
        table.add_row(f.label, f.value_text(), f.target_text(), met)
    console.print(table)


# ---------------------------------------------------------------------------------- command line
def parse(argv: Sequence[str] | None = None) -> Config:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m bench.services",
                                description=(__doc__ or "").splitlines()[0])
    p.add_argument("--persons", type=int, default=1_000_000,
                   help="persons published in gold.coverage_periods and gold.person_coverage")
    p.add_argument("--duration", type=float, default=20.0, help="seconds per verification load")
    p.add_argument("--connections", type=int, default=64,
                   help="bombardier connections per load (the mixed load splits them)")
    p.add_argument("--workers", type=int, default=2, help="lakehouse serve --workers")
    p.add_argument("--rate", type=float, default=TARGET_RATE,
                   help="offered rate of the paced loads, requests/s (default: the target)")
    p.add_argument("--stream-mb", type=float, default=100.0,
                   help="size of the streamed version's download, in MB (10^6 bytes)")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    p.add_argument("--name", help="results are <name>-services.json/.md (default: today)")
    p.add_argument("--work", type=Path,
                   help="scratch folder, kept (default: a temporary one, removed)")
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args(argv)
    if a.persons < 10 or a.duration <= 0 or a.connections < 2 or a.workers < 1 \
            or a.stream_mb <= 0 or a.rate <= 0:
        p.error("--persons at least 10, --connections at least 2, --workers at least 1, "
                "--duration, --rate and --stream-mb above 0")
    return Config(persons=a.persons, duration=a.duration, connections=a.connections,
                  workers=a.workers, stream_mb=a.stream_mb, rate=a.rate, out=a.out, name=a.name,
                  work=a.work, seed=a.seed, warmup=min(5.0, a.duration))


def main(argv: Sequence[str] | None = None) -> int:
    """Run from the command line; 0 when it ran (targets missed included)."""
    run(parse(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
