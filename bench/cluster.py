"""The nightly full load on the cluster profile against the embedded default, on one machine
(``make bench-cluster``; issue 19, docs/deployment.md's sizing).

The same generated deliveries of ``moi.household_registry`` (``--persons`` N, one day: the full
load, the feed's known issues at their default rates) go to two roots:

- **local**: a folder, Spark ``local[*]`` (the embedded default);
- **cluster**: a fresh prefix of the cluster profile's bucket (``s3a://``, versitygw), Spark on
  its standalone master (the settings of ``.cluster/env``: ``make cluster-up`` first).

On each, as a steward runs them, each in a new process: ``lakehouse run moi.household_registry``
(land, bronze, silver) then ``lakehouse publish gold.person_coverage`` (the one-feed person
coverage of :mod:`sandbox.contracts`: pseudonymisation, generalisation, leak gate, gold). Each
command is timed (wall clock, process start included), and the two golds are compared: the same
rows and the same ``person_key``s (one key for both). The upload of the deliveries into the
bucket (the agencies' side) is timed apart and not counted.

The results go to ``bench/results/<name>-cluster.{json,md}``, with the machine, the cluster's
sizes (worker cores and memory, executor memory) and the load average meanwhile.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.machine import CpuShare, describe

REPO = Path(__file__).resolve().parents[1]
FEED = "moi.household_registry"
DATASET = "gold.person_coverage"
KEY = "bench-cluster-key-0123456789abcdef0123"
START = datetime.date(2024, 11, 1)
CLUSTER_SIZES = ("CLUSTER_WORKER_CORES", "CLUSTER_WORKER_MEMORY", "CLUSTER_EXECUTOR_MEMORY")


def cluster_env(env_file: Path) -> dict[str, str]:
    """The cluster profile's settings (``.cluster/env``); a clear error when it is not up."""
    from sandbox.celeryrun import read_env_file

    if not env_file.is_file():
        raise SystemExit(f"{env_file} not found: start the cluster profile first "
                         "(make cluster-up; docs/cluster.md)")
    return read_env_file(env_file)


def _timed(label: str, args: list[str], env: dict[str, str], log: Path) -> float:
    """Run ``lakehouse <args>`` in a new process; its wall seconds. Fails loudly with the
    command's last output lines (in ``log``)."""
    began = time.monotonic()
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ lakehouse {' '.join(args)}  ({label})\n")
        out.flush()
        code = subprocess.call([sys.executable, "-m", "cli.main", *args], cwd=REPO, env=env,
                               stdout=out, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - began
    if code != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        raise SystemExit(f"{label}: lakehouse {' '.join(args)} exited {code}:\n"
                         + "\n".join(tail))
    return seconds


@contextmanager
def _store_settings(env: dict[str, str]) -> Iterator[None]:
    """The store's ``AWS_*`` settings of ``env`` in this process's environment for the block
    (``deltalake`` and :mod:`audit.objects` read them there), the environment restored after."""
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _gold(root: str, env: dict[str, str]) -> tuple[int, str]:
    """The published person coverage's row count and a digest of its sorted rows."""
    import hashlib

    from deltalake import DeltaTable

    from kernel.layout import Layout

    with _store_settings(env):
        table = DeltaTable(Layout(root).delta_uri("gold", "person_coverage")).to_pyarrow_table()
    rows = sorted(json.dumps(r, sort_keys=True, default=str) for r in table.to_pylist())
    return len(rows), hashlib.sha256("\n".join(rows).encode("utf-8")).hexdigest()


def _side(label: str, root: str, env: dict[str, str], log: Path,
          step: Callable[[str], object]) -> dict[str, Any]:
    """Run and publish on one root; the seconds of each and the gold's rows and digest."""
    snapshot = (START + datetime.timedelta(days=1)).isoformat()
    step(f"{label}: lakehouse run {FEED}")
    run = _timed(label, ["run", FEED], env, log)
    step(f"{label}: lakehouse publish {DATASET}")
    publish = _timed(label, ["publish", DATASET, "--snapshot-date", snapshot], env, log)
    rows, digest = _gold(root, env)
    return {"root": root, "run_seconds": round(run, 1), "publish_seconds": round(publish, 1),
            "total_seconds": round(run + publish, 1), "gold_rows": rows, "gold_digest": digest}


def measure(persons: int, work: Path, env_file: Path, seed: int,
            step: Callable[[str], object]) -> dict[str, Any]:
    """Generate, run both sides one after the other, compare; the result (JSON-able)."""
    from sandbox.contracts import residents_only
    from sandbox.generate import generate

    step(f"generating {persons:,} persons' household registry (day 1)")
    source = work / "source"
    report = generate(source, persons=persons, seed=seed, days=1, start=START, feeds=[FEED])
    records = sum(f.rows for f in report.feeds[FEED].files)
    contracts = residents_only(work / "contracts")
    cluster = cluster_env(env_file)
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("LAKEHOUSE_", "AWS_", "SPARK_"))}
    base.update({"LAKEHOUSE_CONTRACTS_DIR": str(contracts), "LAKEHOUSE_PSEUDONYM_KEY": KEY,
                 "LAKEHOUSE_ROLE": "steward", "PYTHONPATH": str(REPO)})
    for k in ("LAKEHOUSE_SPACY_MODEL", "LAKEHOUSE_JARS_DIR", "LAKEHOUSE_CACHE_DIR"):
        if k in os.environ:
            base[k] = os.environ[k]
    log = work / "commands.log"

    local = work / "local"
    shutil.copytree(source / "inbox", local / "inbox")
    cpu = CpuShare()
    cpu.start()
    local_side = _side("local", str(local), {**base, "LAKEHOUSE_ROOT": str(local)}, log, step)

    s3root = f"{cluster['LAKEHOUSE_ROOT'].rstrip('/')}-bench-{uuid.uuid4().hex[:8]}"
    # The profile's settings (master, store, jars), this run's own on top (contracts, key).
    on_cluster = {**cluster, **base, "LAKEHOUSE_ROOT": s3root}
    step(f"cluster: uploading the delivery to {s3root}/inbox")
    began = time.monotonic()
    _upload(source, s3root, on_cluster)
    upload = time.monotonic() - began
    cluster_side = _side("cluster", s3root, on_cluster, log, step)
    cluster_side["upload_seconds"] = round(upload, 1)
    return {
        "persons": persons, "records": records, "seed": seed,
        "delivery_bytes": sum(p.stat().st_size for p in (source / "inbox").rglob("*.csv")),
        "local": {**local_side, "spark_master": "local[*]"},
        "cluster": {**cluster_side, "spark_master": cluster.get("SPARK_MASTER"),
                    **{k.lower(): cluster.get(k) for k in CLUSTER_SIZES}},
        "same_gold": (local_side["gold_rows"], local_side["gold_digest"])
        == (cluster_side["gold_rows"], cluster_side["gold_digest"]),
        "cluster_over_local": round(cluster_side["total_seconds"] / local_side["total_seconds"],
                                    2),
        "machine": describe(), "cpu": cpu.stop(),
    }


def _upload(source: Path, root: str, env: dict[str, str]) -> None:
    """Put the generated inbox into the bucket (``sandbox.remote.upload_inbox``)."""
    from sandbox.remote import upload_inbox

    with _store_settings(env):
        upload_inbox(source, root)


def markdown(result: dict[str, Any]) -> str:
    """The results as a Markdown page."""
    loc, clu, m, cpu = result["local"], result["cluster"], result["machine"], result["cpu"]
    lines = [
        f"# The nightly full load: cluster profile against local ({result['persons']:,} persons)",
        "",
        f"{result['records']:,} records ({result['delivery_bytes'] / 1e6:.1f} MB of CP950 CSV) of "
        f"`{FEED}`, then `{DATASET}` (the one-feed person coverage). `python -m bench.cluster`.",
        "",
        "| | local (`local[*]`, a folder) | cluster profile (standalone, `s3a://`) |",
        "|---|---|---|",
        f"| `lakehouse run` | {loc['run_seconds']} s | {clu['run_seconds']} s |",
        f"| `lakehouse publish` | {loc['publish_seconds']} s | {clu['publish_seconds']} s |",
        f"| total | {loc['total_seconds']} s | {clu['total_seconds']} s |",
        f"| per record | {1000 * loc['total_seconds'] / result['records']:.3f} ms | "
        f"{1000 * clu['total_seconds'] / result['records']:.3f} ms |",
        f"| gold rows | {loc['gold_rows']:,} | {clu['gold_rows']:,} |",
        "",
        f"Cluster over local: **{result['cluster_over_local']}×**. Same gold (rows and person "
        f"keys): **{'yes' if result['same_gold'] else 'NO'}**. Upload of the delivery into the "
        f"bucket (not counted): {clu['upload_seconds']} s.",
        "",
        f"Cluster: `{clu['spark_master']}`, worker cores {clu['cluster_worker_cores']}, worker "
        f"memory {clu['cluster_worker_memory']}, executor memory "
        f"{clu['cluster_executor_memory']}; the driver on this machine as for local.",
        f"Machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, {m['os']}; "
        f"load average meanwhile {cpu.get('load_average_mean')} (max "
        f"{cpu.get('load_average_max')}; the cluster's executors run outside this process "
        "tree, so the JSON's CPU split counts them as other processes).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.cluster``: measure, write the JSON and the Markdown, print the page."""
    from rich.console import Console

    p = argparse.ArgumentParser(prog="python -m bench.cluster",
                                description="the nightly full load: cluster profile vs local")
    p.add_argument("--persons", type=int, default=1_000_000, help="persons in the delivery")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--env-file", type=Path, default=REPO / ".cluster" / "env",
                   help="the cluster profile's settings (make cluster-up writes it)")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    p.add_argument("--name", default=datetime.date.today().isoformat())
    p.add_argument("--work", type=Path, default=None, help="scratch folder (kept if given)")
    args = p.parse_args(argv)
    console = Console(stderr=True)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        with console.status("bench.cluster") as status:
            def step(text: str) -> None:
                console.log(text)
                status.update(text)

            result = measure(args.persons, work, args.env_file, args.seed, step)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}-cluster.json").write_text(json.dumps(result, indent=2) + "\n",
                                                       encoding="utf-8")
    page = markdown(result)
    (args.out / f"{args.name}-cluster.md").write_text(page, encoding="utf-8")
    print(page)
    return 0 if result["same_gold"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
