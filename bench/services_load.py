"""The pieces :mod:`bench.services` runs in order (it alone decides what is reported).

- **Tables**: ``N`` valid IDs (:func:`person_id`), their ``person_key`` with the bench key,
  random scheme flags (a fixed seed), published with ``deltalake`` and a publish's commit
  metadata (:func:`publish`) as ``gold.person_coverage`` and ``gold.coverage_periods``.
- **The service**: :class:`Server` runs ``lakehouse serve`` as a subprocess; its memory (RSS)
  and CPU are those of its whole process tree, read with ``psutil``.
- **Loads**: :func:`run_loads` runs bombardier processes at once (one fixed body each) and keeps
  each one's counts and percentiles as it measured them (never merged across processes), with
  the server's CPU and peak RSS and bombardier's own CPU (it shares the cores).
- **Streaming**: :func:`download` streams one version with ``httpx``, the server's RSS sampled
  every 50 ms in a thread.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil
import pyarrow as pa

from kernel.twid import person_id_check_digit
from masking.keys import PseudonymKey

REPO = Path(__file__).resolve().parent.parent
BENCH_KEY = "bench-services-key-NOT-FOR-PRODUCTION-0123456789"
PSEUDONYM = PseudonymKey.from_env({"LAKEHOUSE_PSEUDONYM_KEY": BENCH_KEY})
CLIENT_ID = "bench"
SECRET = "bench-client-secret-NOT-FOR-PRODUCTION"
PURPOSE = "BENCHMARK"
CONSENT = "MYDATA-2026-000123"
SCHEMES = ("labor", "nhi", "farmer", "pension")
FLAG_COLUMNS = ("in_labor_insurance", "in_nhi", "is_farmer", "pension_contrib_last_12m")
EPOCH = date(1970, 1, 1)
CLOSED = (date(2015, 1, 1), date(2016, 1, 1))
"""The period of a person who was insured in a scheme and is no longer."""
MB = 1_000_000
"""Megabytes are decimal (10^6 bytes) throughout, as are the targets."""
PACE_KEPT = 0.98
"""A paced load counts only if it reached this share of its offered rate."""


# ---------------------------------------------------------------------------------- tables
def person_id(n: int, sex: int = 1) -> str:
    """A valid national ID numbered ``n`` (0 to 259,999,999): letter ``A`` + n // 10^7, the
    ``sex`` digit, seven digits and the check digit. The population is all ``sex`` 1, so a
    ``sex`` 2 ID is valid and in no table."""
    letter = "ABCDEFGHJKLMNPQRSTUVXYWZIO"[n // 10_000_000]
    prefix = f"{letter}{sex}{n % 10_000_000:07d}"
    return prefix + person_id_check_digit(prefix)


@dataclass
class Population:
    """People: their keys, their ``(persons, 4)`` flags in :data:`SCHEMES` order, a person in
    the tables insured in ``labor`` and a valid ID in no table (two IDs to ask about)."""

    keys: list[str] = field(repr=False)
    flags: np.ndarray = field(repr=False)
    found_id: str = ""
    not_found_id: str = ""

    @property
    def persons(self) -> int:
        """How many persons."""
        return len(self.keys)


def population(persons: int, seed: int) -> Population:
    """``persons`` persons numbered from 1 with :func:`person_id`, their ``person_key`` with the
    bench key, their flags drawn with ``seed``; the found ID is a labor-insured person from the
    middle of the table."""
    rng = np.random.default_rng(seed)
    flags = np.column_stack([rng.random(persons) < p for p in (0.45, 0.97, 0.05, 0.40)])
    keys = [PSEUDONYM.person_key(person_id(n)) for n in range(1, persons + 1)]
    labor = np.flatnonzero(flags[:, 0])
    pick = int(labor[np.searchsorted(labor, persons // 2) % len(labor)]) if len(labor) else 0
    return Population(keys, flags, person_id(pick + 1), person_id(persons // 2 + 1, sex=2))


def coverage_rows(pop: Population, snapshot: date, seed: int) -> pa.Table:
    """``gold.person_coverage`` of the population: :func:`synthetic_coverage` with the
    population's keys and flags."""
    table = synthetic_coverage(pop.persons, snapshot, seed).set_column(
        0, "person_key", pa.array(pop.keys, pa.string()))
    for i, name in enumerate(FLAG_COLUMNS):
        table = table.set_column(table.schema.get_field_index(name), name,
                                 pa.array(pop.flags[:, i]))
    return table


def synthetic_coverage(rows: int, snapshot: date, seed: int) -> pa.Table:
    """``rows`` rows with ``gold.person_coverage``'s columns and random keys
    (:func:`bench.query.person_coverage`), dated ``snapshot``."""
    from bench.query import person_coverage

    table = person_coverage(rows, seed)
    index = table.schema.get_field_index("snapshot_date")
    return table.set_column(index, "snapshot_date", pa.array([snapshot] * rows, pa.date32()))


def period_rows(pop: Population, snapshot: date) -> pa.Table:
    """``gold.coverage_periods`` of the population: per person and scheme one period, open
    since a day of 2020 (month = the scheme's rank, day = n % 28 + 1) when the flag is set,
    else :data:`CLOSED`."""
    n = np.arange(1, pop.persons + 1)
    keys = pa.array(pop.keys, pa.string())
    closed = [(d - EPOCH).days for d in CLOSED]
    parts = []
    for i, scheme in enumerate(SCHEMES):
        on = pop.flags[:, i]
        since = (date(2020, 1 + i, 1) - EPOCH).days + n % 28
        start = np.where(on, since, closed[0]).astype(np.int32)
        end = pa.array(np.full(pop.persons, closed[1], np.int32), mask=on).cast(pa.date32())
        parts.append(pa.table({
            "person_key": keys, "scheme": pa.array([scheme] * pop.persons, pa.string()),
            "start_date": pa.array(start).cast(pa.date32()), "end_date": end,
            "snapshot_date": pa.array([snapshot] * pop.persons, pa.date32())}))
    return pa.concat_tables(parts)


def publish(root: Path, table: str, rows: pa.Table, snapshot: date) -> int:
    """Write ``rows`` as a new version of ``gold.<table>`` (overwrite) with a publish's commit
    metadata; the version written."""
    from deltalake import CommitProperties, DeltaTable, write_deltalake

    from analytics.catalog import table_uri

    uri = table_uri(str(root), "gold", table)
    meta = {"dataset": f"gold.{table}", "key_id": PSEUDONYM.key_id,
            "snapshot_date": snapshot.isoformat(), "run_id": "bench-services"}
    write_deltalake(uri, rows, mode="overwrite", commit_properties=CommitProperties(
        custom_metadata={"userMetadata": json.dumps(meta)}))
    return int(DeltaTable(uri).version())


def parquet_bytes_per_row(rows: pa.Table) -> float:
    """Bytes per row of ``rows`` in a download: a version published as :func:`publish` writes
    it is spliced from its own files (:mod:`services.parquet_splice`), so its download weighs
    what those files weigh; measured by publishing ``rows`` to a scratch table."""
    import tempfile

    from deltalake import write_deltalake

    with tempfile.TemporaryDirectory(prefix="bench-size-") as scratch:
        write_deltalake(scratch, rows)
        size = sum(p.stat().st_size for p in Path(scratch).glob("*.parquet"))
    return size / max(1, rows.num_rows)


# ---------------------------------------------------------------------------------- the service
def service_env(work: Path, root: Path) -> dict[str, str]:
    """The service's environment: the storage root, a registry with the ``bench`` client
    (every verification scope, ``gold.person_coverage``, a rate limit the load cannot reach),
    a fresh signing key and the bench pseudonymisation key (written under ``work``)."""
    import yaml

    from services.clients import hash_secret
    from services.tokens import SigningKey

    registry = work / "clients.yaml"
    registry.write_text(yaml.safe_dump({"clients": [{
        "client_id": CLIENT_ID, "agency": "benchmark", "secret_hash": hash_secret(SECRET),
        "scopes": [f"verify:{s}" for s in SCHEMES] + ["datasets:gold.person_coverage"],
        "purposes": [PURPOSE], "rate_limit": 10_000_000, "burst": 10_000_000}]}),
        encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")}
    env.update({"LAKEHOUSE_ROOT": str(root), "LAKEHOUSE_SERVICE_CLIENTS": str(registry),
                "LAKEHOUSE_SERVICE_SIGNING_KEY": SigningKey.generate().to_pem().decode("ascii"),
                "LAKEHOUSE_PSEUDONYM_KEY": BENCH_KEY})
    return env


class Server:
    """``lakehouse serve --port P --workers W`` as a subprocess (logs in ``work``)."""

    def __init__(self, work: Path, env: dict[str, str], workers: int) -> None:
        with socket.socket() as s:  # a port free now
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self._log = (work / "serve.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(self.port),
             "--workers", str(workers)], cwd=REPO, env=env, stdout=self._log,
            stderr=subprocess.STDOUT)
        self.log_path = work / "serve.log"

    def processes(self) -> list[psutil.Process]:
        """The supervisor and every descendant (workers, their helpers)."""
        try:
            top = psutil.Process(self.proc.pid)
            return [top, *top.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def rss(self) -> dict[int, int]:
        """Resident bytes per process of the tree."""
        return {pid: int(v) for pid, v in self._each(lambda p: p.memory_info().rss).items()}

    def cpu_by_pid(self) -> dict[int, float]:
        """User + system CPU seconds so far of each live process of the tree."""
        return self._each(lambda p: sum(p.cpu_times()[:2]))

    def _each(self, read: Any) -> dict[int, float]:
        out = {}
        for p in self.processes():
            with contextlib.suppress(psutil.Error):
                out[p.pid] = float(read(p))
        return out

    def worker_pids(self) -> set[int]:
        """The processes that answer: the supervisor itself with one worker (``lakehouse
        serve`` then runs the application in process), else its ``workers`` children holding
        the most memory (each holds the index; a multiprocessing helper holds little)."""
        if self.workers == 1:
            return {self.proc.pid}
        children = {pid: rss for pid, rss in self.rss().items() if pid != self.proc.pid}
        return set(sorted(children, key=lambda pid: -children[pid])[: self.workers])

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the tree's live processes so far."""
        return sum(self.cpu_by_pid().values())

    def wait_ready(self, timeout: float) -> int:
        """Wait until ``/healthz`` names the coverage version served; that version. Raises
        ``RuntimeError`` (with the log's tail) if the process ends or time runs out."""
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, timeout=5) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    version = client.get("/healthz").json().get("coverage_version")
                    if version is not None:
                        return int(version)
                except (httpx.HTTPError, ValueError):
                    pass
                time.sleep(0.25)
        tail = self.log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise RuntimeError(f"the service did not become ready (log: {tail})")

    def stop(self) -> None:
        """SIGTERM to the supervisor (a graceful shutdown), then SIGKILL to what is left of
        the tree it started, by process id."""
        tree = self.processes()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=20)
        for p in tree:
            try:
                if p.is_running():
                    p.kill()
            except psutil.Error:
                continue
        if self.proc.poll() is None:
            self.proc.wait(timeout=10)
        self._log.close()


def token(url: str, scope: str) -> str:
    """An access token for the bench client (client credentials; not measured)."""
    r = httpx.post(f"{url}/oauth/token", data={"grant_type": "client_credentials",
                                               "scope": scope},
                   auth=(CLIENT_ID, SECRET), timeout=30)
    r.raise_for_status()
    return str(r.json()["access_token"])


def ask(url: str, bearer: str, body: dict[str, str], fresh: bool = False) -> dict[str, Any]:
    """One verification; the signed claims (decoded, not verified: the tests verify them) and
    the exchange id. ``fresh``: a new connection (the kernel picks the worker). Raises
    ``RuntimeError`` on a status other than 200."""
    import base64

    headers = {"Authorization": f"Bearer {bearer}"}
    if fresh:
        headers["Connection"] = "close"
    r = httpx.post(f"{url}/v1/verifications", json=body, headers=headers, timeout=30)
    if r.status_code != 200:
        raise RuntimeError(f"verification answered {r.status_code}: {r.text[:300]}")
    out = r.json()
    payload = out["jws"].split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=="))
    return {**claims, "exchange_id": out["exchange_id"]}


def workers_answering(url: str, bearer: str, body: dict[str, str], want: int,
                      timeout: float) -> int:
    """How many worker processes answer (an exchange id starts with its process's 20 random
    hex digits), asking on new connections until ``want`` are seen or ``timeout`` passes."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < want and time.monotonic() < deadline:
        seen.add(ask(url, bearer, body, fresh=True)["exchange_id"][:20])
        if len(seen) < want:
            time.sleep(0.05)
    return len(seen)


# ---------------------------------------------------------------------------------- sampling
class RssSampler:
    """The server tree's RSS every ``interval`` seconds in a thread: the peak of the sum, and
    each process's peak."""

    def __init__(self, server: Server, interval: float) -> None:
        self.server = server
        self.interval = interval
        self.before = server.rss()
        self.peak_total = sum(self.before.values())
        self.peak: dict[int, int] = dict(self.before)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="rss-sampler")

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._take()

    def _take(self) -> None:
        now = self.server.rss()
        self.peak_total = max(self.peak_total, sum(now.values()))
        for pid, rss in now.items():
            self.peak[pid] = max(self.peak.get(pid, 0), rss)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._take()

    def growth(self) -> tuple[int, int]:
        """(peak of the tree's sum − its sum before, the largest growth of one process)."""
        one = max((v - self.before.get(pid, 0) for pid, v in self.peak.items()), default=0)
        return self.peak_total - sum(self.before.values()), one


# ---------------------------------------------------------------------------------- loads
@dataclass
class LoadRun:
    """One bombardier process's result (latencies in milliseconds, as it measured them)."""

    label: str
    connections: int
    seconds: float
    requests: int
    status: dict[str, int]
    errors: list[dict[str, Any]]
    rate: float
    """Requests completed (all of them) per second."""
    latency_ms: dict[str, float]
    """``mean``, ``max``, ``p50``, ``p75``, ``p90``, ``p95``, ``p99``."""
    offered: float | None = None
    """The rate bombardier was limited to (``-r``); ``None``: as fast as it goes."""

    @property
    def ok(self) -> bool:
        """Every response a 2xx (the endpoint's only one is 200), no error (timeouts...)."""
        bad = sum(v for k, v in self.status.items() if k != "2xx")
        return self.requests > 0 and bad == 0 and not self.errors

    @property
    def kept_pace(self) -> bool:
        """For a paced load, whether the rate reached :data:`PACE_KEPT` of the offered one
        (bombardier delays a request the server is not ready for, and times it from when it
        is sent: a server that falls behind shows a lower rate, not a higher latency)."""
        return self.offered is None or self.rate >= PACE_KEPT * self.offered

    def as_dict(self) -> dict[str, Any]:
        """JSON form, ``ok`` and ``kept_pace`` included."""
        return {**asdict(self), "ok": self.ok, "kept_pace": self.kept_pace}


def parse_bombardier(label: str, connections: int, text: str,
                     offered: float | None = None) -> LoadRun:
    """A :class:`LoadRun` from bombardier's ``-o json`` output (latencies in microseconds)."""
    doc = json.loads(text)["result"]
    status = {k[3:]: int(doc.get(k, 0)) for k in ("req1xx", "req2xx", "req3xx", "req4xx",
                                                    "req5xx")}
    status["others"] = int(doc.get("others", 0))
    requests = sum(status.values())
    seconds = float(doc["timeTakenSeconds"])
    lat = doc["latency"]
    ms: dict[str, float] = {"mean": lat["mean"] / 1000, "max": lat["max"] / 1000}
    ms.update({f"p{k}": v / 1000 for k, v in lat.get("percentiles", {}).items()})
    errors = [{"description": str(e.get("description")), "count": int(e.get("count", 0))}
              for e in doc.get("errors") or []]
    return LoadRun(label, connections, seconds, requests, status, errors,
                   requests / seconds if seconds else 0.0, ms, offered)


@dataclass
class LoadSet:
    """Bombardier processes run at the same time, and the server over the same window."""

    runs: list[LoadRun]
    wall_seconds: float
    server_cpu_seconds: float
    load_generator_cpu_seconds: float
    server_rss_before_mb: float
    server_rss_peak_mb: float

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {**{k: v for k, v in asdict(self).items() if k != "runs"},
                "runs": [r.as_dict() for r in self.runs]}


@dataclass(frozen=True)
class Load:
    """One bombardier process: what it asks (a fixed body), how many connections, and the
    rate it is limited to (``None``: as fast as the connections go)."""

    label: str
    body: Path
    connections: int
    rate: float | None = None


def bombardier_command(binary: Path, url: str, bearer: str, load: Load,
                       seconds: float) -> list[str]:
    """``bombardier -c C -d D -l -m POST -H … -f body -o json -p r`` against the endpoint
    (``-r R`` for a paced load; a 10 s timeout)."""
    rate = [] if load.rate is None else ["-r", f"{load.rate:g}"]
    return [str(binary), "-c", str(load.connections), "-d", f"{seconds:g}s", *rate, "-l",
            "-m", "POST", "-t", "10s", "-H", "Content-Type: application/json",
            "-H", f"Authorization: Bearer {bearer}", "-f", str(load.body), "-o", "json",
            "-p", "r", f"{url}/v1/verifications"]


def run_loads(binary: Path, server: Server, bearer: str, loads: list[Load],
              seconds: float) -> LoadSet:
    """Run one bombardier per :class:`Load` at once for ``seconds``."""
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = server.cpu_seconds()
    start = time.monotonic()
    with RssSampler(server, 0.25) as rss:
        procs = [(load, subprocess.Popen(
            bombardier_command(binary, server.url, bearer, load, seconds),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)) for load in loads]
        outputs = [(load, *p.communicate(timeout=seconds + 120), p.returncode)
                   for load, p in procs]
    wall = time.monotonic() - start
    cpu = server.cpu_seconds() - cpu_before
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    generator = (children.ru_utime - children_before.ru_utime
                 + children.ru_stime - children_before.ru_stime)
    runs = []
    for load, out, err, code in outputs:
        if code != 0:
            raise RuntimeError(f"bombardier failed ({code}): {err.decode(errors='replace')}")
        runs.append(parse_bombardier(load.label, load.connections, out.decode("utf-8"),
                                     load.rate))
    return LoadSet(runs, wall, cpu, generator, sum(rss.before.values()) / MB,
                   rss.peak_total / MB)


# ---------------------------------------------------------------------------------- streaming
@dataclass
class StreamRun:
    """One download of a version: its size and speed, and the server's memory meanwhile."""

    version: int
    rows: int
    bytes: int
    seconds: float
    first_byte_seconds: float
    mb_per_s: float
    server_cpu_seconds: float
    server_rss_before_mb: float
    server_rss_peak_mb: float
    server_rss_after_mb: float
    growth_mb: float
    """Peak of the tree's RSS minus its RSS before the request."""
    worker_growth_mb: float
    """The largest growth of one process (the worker that streamed)."""
    rows_in_file: int


def download(server: Server, bearer: str, version: int, rows: int, dest: Path) -> StreamRun:
    """Stream ``gold.person_coverage`` version ``version`` as Parquet to ``dest``, timed from
    the request to the last byte; then check the file holds ``rows`` rows and remove it."""
    import pyarrow.parquet as pq

    url = f"{server.url}/v1/datasets/gold.person_coverage/versions/{version}?format=parquet"
    cpu_before = server.cpu_seconds()
    received, first = 0, 0.0
    with RssSampler(server, 0.05) as rss, httpx.Client(timeout=120) as client:
        start = time.perf_counter()
        with client.stream("GET", url, headers={"Authorization": f"Bearer {bearer}"}) as r, \
                dest.open("wb") as out:
            if r.status_code != 200:
                raise RuntimeError(f"download answered {r.status_code}: {r.read()[:300]!r}")
            for chunk in r.iter_raw(1 << 20):
                if not received:
                    first = time.perf_counter() - start
                received += len(chunk)
                out.write(chunk)
        seconds = time.perf_counter() - start
    cpu = server.cpu_seconds() - cpu_before
    after = sum(server.rss().values())
    in_file = pq.ParquetFile(dest).metadata.num_rows
    dest.unlink()
    growth, one = rss.growth()
    return StreamRun(version, rows, received, seconds, first, received / MB / seconds, cpu,
                     sum(rss.before.values()) / MB, rss.peak_total / MB, after / MB,
                     growth / MB, one / MB, in_file)


class MachineShare:
    """The machine's busy CPU during the run against that of this process and every
    descendant it reaped (``os.times``; unlike :class:`bench.machine.CpuShare`, which counts a
    reaped child twice): the rest is other processes'. The load average every ``interval``
    seconds. Read :meth:`stop` once the service has stopped (its CPU counts when reaped)."""

    def __init__(self, interval: float = 2.0) -> None:
        from bench.machine import _busy_seconds

        self._busy = _busy_seconds
        self.interval = interval
        self.loads: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="load-average")
        self._start = time.monotonic()
        self._busy0 = self._busy()
        self._ours0 = self._ours()
        self._thread.start()

    @staticmethod
    def _ours() -> float:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def _loop(self) -> None:
        self.loads.append(os.getloadavg()[0])
        while not self._stop.wait(self.interval):
            self.loads.append(os.getloadavg()[0])

    def stop(self) -> dict[str, Any]:
        """Wall seconds, CPU seconds of the machine, of this run and of the others, the others'
        share of the machine, the load average's mean and max over the run."""
        self._stop.set()
        self._thread.join()
        wall = time.monotonic() - self._start
        end = self._busy()
        ours = self._ours() - self._ours0
        busy = None if end is None or self._busy0 is None else end - self._busy0
        others = None if busy is None else max(0.0, busy - ours)
        return {"wall_seconds": round(wall, 1),
                "machine_busy_cpu_seconds": None if busy is None else round(busy, 1),
                "benchmark_cpu_seconds": round(ours, 1),
                "other_processes_cpu_seconds": None if others is None else round(others, 1),
                "other_processes_share_of_machine": None if others is None or wall <= 0
                else round(others / (wall * (os.cpu_count() or 1)), 3),
                "load_average_mean": round(sum(self.loads) / len(self.loads), 2),
                "load_average_max": round(max(self.loads), 2)}


def warm_streams(server: Server, bearer: str, version: int, rows: int, dest: Path,
                 tries: int) -> int:
    """Download ``version`` (not measured) until every worker has served one, at most
    ``tries`` times; the downloads made. A worker's first download pays once for what a
    measurement must not see: the memory the index build freed is handed back to the system
    by pyarrow's allocator only at its next allocation, and first-use costs."""
    served: set[int] = set()
    workers = server.worker_pids()
    made = 0
    while made < tries and not workers <= served:
        before = server.cpu_by_pid()
        download(server, bearer, version, rows, dest)
        after = server.cpu_by_pid()
        busy = max(workers, key=lambda pid: after.get(pid, 0.0) - before.get(pid, 0.0))
        served.add(busy)
        made += 1
    return made
