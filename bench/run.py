"""``make bench`` / ``python -m bench``: what governance costs, measured side by side.

One process, one Spark session (as :func:`kernel.spark.session` builds it). For ``N``
persons (``--persons``) and ``4N`` it generates the household-registry deliveries, then, for
each of ``--repeat`` rounds, measures:

(a) the bare CSV→Delta conversion of the day-1 file (N and 4N);
(b) the pipeline on the same file, stage by stage (land, bronze, silver with its quality gate,
    publish with masking and the leak gate; lineage, audit log and run records inside each);
(c) free-text masking, ours against the naive per-row Presidio UDF, on the same texts;
(d) the quality gate against one full scan of the same conformed batch;
(e) the incremental day (1 % of the records changed) after the full load;
(f) the full load of 4N against that of N.

Every figure is the median of the rounds. It writes ``<out>/<date>.json`` and ``<out>/<date>.md``
and prints each ratio against its target. Nothing is tuned by hand: the figures are what the
run measured, on whatever else the machine was doing (recorded under ``machine_load``).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import io
import os
import pstats
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from bench import freetext, machine
from bench import pipeline as bp
from bench.probes import Probes, StageTiming, installed
from bench.report import Figure, median, speedup_figure, time_figure, write

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

REPO = Path(__file__).resolve().parent.parent
BENCH_KEY = "bench-key-NOT-FOR-PRODUCTION-0123456789abcdef"
START = datetime.date(2024, 11, 1)

TARGET_PIPELINE = 1.5
TARGET_FREETEXT = 20.0
TARGET_INCREMENTAL = 0.10
TARGET_SCALING = 4.4

console = Console(highlight=False)


@dataclass
class Config:
    """What to measure and where."""

    persons: int = 1_000_000
    repeat: int = 3
    texts: int = 50_000
    seed: int = 42
    out: Path = REPO / "bench" / "results"
    work: Path | None = None
    name: str | None = None
    warmup: bool = True
    profile: bool = False
    keep_work: bool = False


@dataclass
class Rounds:
    """Everything measured, per round."""

    bare: list[float] = field(default_factory=list)
    bare_4n: list[float] = field(default_factory=list)
    full: list[bp.PipelineRun] = field(default_factory=list)
    incremental: list[bp.PipelineRun] = field(default_factory=list)
    full_4n: list[bp.PipelineRun] = field(default_factory=list)
    validation: list[bp.Validation] = field(default_factory=list)
    text_sample: list[freetext.Run] = field(default_factory=list)
    text_eval: list[freetext.Run] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
def _breakdown(runs: Sequence[bp.PipelineRun]) -> list[dict[str, Any]]:
    """Per stage (median wall time, Spark jobs) and per part inside it (median seconds)."""
    rows: list[dict[str, Any]] = []
    for i, stage in enumerate(bp.STAGES):
        timings: list[StageTiming] = [r.stages[i] for r in runs]
        rows.append({"name": stage, "kind": "stage",
                     "seconds": median([t.seconds for t in timings]),
                     "jobs": int(median([t.jobs for t in timings]))})
        parts = sorted({p for t in timings for p in t.parts})
        rows.append({"name": f"{stage}: own work", "kind": "part",
                     "seconds": median([t.own for t in timings]),
                     "jobs": int(median([t.jobs - sum(t.part_jobs.values()) for t in timings]))})
        for p in parts:
            rows.append({"name": f"{stage}: {p}", "kind": "part",
                         "seconds": median([t.parts.get(p, 0.0) for t in timings]),
                         "jobs": int(median([t.part_jobs.get(p, 0) for t in timings]))})
    return rows


def _parts_total(runs: Sequence[bp.PipelineRun]) -> dict[str, float]:
    """Median seconds of each probed part summed over the four stages (governance pieces)."""
    names = sorted({p for r in runs for s in r.stages for p in s.parts})
    return {p: round(median([sum(s.parts.get(p, 0.0) for s in r.stages) for r in runs]), 3)
            for p in names}


def figures(r: Rounds) -> list[Figure]:
    """The side-by-side figures with their targets."""
    full = [x.seconds for x in r.full]
    figs = [
        time_figure("pipeline_vs_bare", "(a/b) full pipeline vs bare CSV→Delta, N", full, r.bare,
                    TARGET_PIPELINE),
        speedup_figure("freetext_speedup", "(c) free-text masking vs naive Presidio UDF",
                       [x.ours for x in r.text_sample], [x.naive for x in r.text_sample],
                       TARGET_FREETEXT, note="generator's remarks of bli.benefit_payments"),
    ]
    agree = [x.agree / x.texts if x.texts else 1.0 for x in r.text_sample]
    figs.append(Figure("freetext_same_output", "(c) same masked output as the naive UDF "
                       "(share of texts)", median(agree), 1.0, median(agree), unit="share",
                       target=1.0, direction="min", ratio_label="ours / baseline",
                       runs_ours=agree, runs_baseline=[1.0] * len(agree)))
    figs.append(speedup_figure(
        "freetext_speedup_evalset", "(c) free-text masking vs naive, evaluation set",
        [x.ours for x in r.text_eval], [x.naive for x in r.text_eval], None,
        note="600 labelled remarks, nearly all with personal data: the prefilter skips few"))
    figs.append(time_figure(
        "validation_vs_scan", "(d) quality gate vs one full scan, N",
        [v.validate for v in r.validation], [v.scan for v in r.validation], None,
        note="the contract's Great Expectations suite as the full load's silver stage runs it "
             "on the conformed day-1 batch, against one aggregate reading every column of the "
             "same rows (persisted the same way)"))
    figs.append(time_figure(
        "incremental_vs_full", "(e) incremental day (1 % changed) vs full load, N",
        [x.seconds for x in r.incremental], full, TARGET_INCREMENTAL))
    figs.append(time_figure("scaling_4n", "(f) full pipeline, 4N vs N",
                            [x.seconds for x in r.full_4n], full, TARGET_SCALING))
    figs.append(time_figure("scaling_4n_bare", "(f) bare conversion, 4N vs N (reference)",
                            r.bare_4n, r.bare, None))
    return figs


# --------------------------------------------------------------------------------------------
def _session() -> Any:
    from kernel.spark import session

    return session()


def _print_figures(figs: Sequence[Figure]) -> None:
    table = Table(title="ratios against targets")
    for col in ("figure", "ours", "baseline", "ratio", "target", "met?"):
        table.add_column(col, justify="left" if col == "figure" else "right")
    for f in figs:
        fmt = (lambda v: f"{v:.3f}") if f.unit == "share" else (lambda v: f"{v:,.2f} s")
        met = {None: "—", True: "[green]yes[/green]", False: "[red]no[/red]"}[f.met]
        table.add_row(f.label, fmt(f.ours), fmt(f.baseline), f"{f.ratio:.3f}",
                      f.target_text(), met)
    console.print(table)


def run(cfg: Config, spark: Any = None) -> tuple[Path, Path, list[Figure]]:
    """Run the benchmark; the JSON and Markdown written, and the figures."""
    # A benchmark key unless one is configured (publishing refuses without a key); only for
    # the run: the caller's environment is left as it was.
    defaults = {"LAKEHOUSE_PSEUDONYM_KEY": BENCH_KEY, "LAKEHOUSE_PSEUDONYM_KEY_ID": "bench",
                "LAKEHOUSE_USER": "bench"}
    added = [k for k in defaults if k not in os.environ]
    os.environ.update({k: defaults[k] for k in added})
    work = cfg.work or Path(tempfile.mkdtemp(prefix="lakehouse-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    share = machine.CpuShare()
    share.start()
    started = datetime.datetime.now(datetime.UTC)
    try:
        return _run(cfg, spark, work, share, started)
    finally:
        for k in added:
            os.environ.pop(k, None)
        if not cfg.keep_work:
            shutil.rmtree(work, ignore_errors=True)


@dataclass
class _Step:
    """The run's progress bar: each step advances it by one (and, off a terminal, logs a line)."""

    progress: Progress
    task: TaskID

    def __call__(self, text: str, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` as the step ``text``; its result."""
        self.progress.update(self.task, description=text)
        if not console.is_terminal:  # a log: one line per step instead of a live bar
            console.print(f"{datetime.datetime.now():%H:%M:%S} {text}")
        out = fn()
        self.progress.advance(self.task)
        return out

    def skip(self) -> None:
        """Count a step that has nothing to do."""
        self.progress.advance(self.task)


@dataclass
class _Inputs:
    """What every round measures on: the deliveries for N and 4N, the free-text sample and the
    evaluation set (both as cached frames)."""

    d: bp.Deliveries
    d4: bp.Deliveries
    texts: list[str | None]
    sample: DataFrame
    ev_texts: list[str | None]
    evalset: DataFrame


@dataclass
class _Once:
    """What is measured once, not per round: recall (deterministic), the per-text costs in one
    process, the share of texts the prefilter lets through, and the optional profile."""

    recall_ours: freetext.Recall
    recall_naive: freetext.Recall
    costs: freetext.PerText
    profile_text: str | None
    prefiltered: float = 0.0


def _total_steps(cfg: Config) -> int:
    """The steps of a run: Spark, the three inputs, recall and the per-text costs; the warm-up;
    six per round; the profile."""
    return 6 + (1 if cfg.warmup else 0) + 6 * cfg.repeat + (1 if cfg.profile else 0)


def _prepare(cfg: Config, spark: Any, work: Path, step: _Step) -> _Inputs:
    """Generate the deliveries for N and 4N persons and the free-text remarks under ``work``."""
    n, n4 = cfg.persons, 4 * cfg.persons
    d = step(f"generating deliveries for {n:,} persons…",
             lambda: bp.generate(work / "src-n", n, cfg.seed, START))
    d4 = step(f"generating deliveries for {n4:,} persons (4N)…",
              lambda: bp.generate(work / "src-4n", n4, cfg.seed, START))
    texts = step(f"generating {cfg.texts:,} free-text remarks…",
                 lambda: freetext.remarks(n, cfg.seed, START, cfg.texts))
    sample = freetext.frame(spark, texts)
    ev_texts, ev_names = freetext.eval_texts()
    evalset = freetext.frame(spark, ev_texts, ev_names)
    return _Inputs(d, d4, texts, sample, ev_texts, evalset)


def _warm_up(cfg: Config, spark: Any, probes: Probes, work: Path, inputs: _Inputs) -> None:
    """One unmeasured pass of every measurement on at most 1,000 persons and 500 texts."""
    small = bp.generate(work / "src-warm", min(cfg.persons, 1000), cfg.seed, START)
    bp.bare_conversion(spark, small.full, work / "bare-warm")
    bp.full_load(spark, probes, small, work / "run-warm")
    bp.incremental_day(spark, probes, small, work / "run-warm")
    freetext.measure(freetext.frame(spark, inputs.texts[:500]))
    freetext.measure(inputs.evalset, "names")
    shutil.rmtree(work / "run-warm", ignore_errors=True)


def _round(i: int, cfg: Config, spark: Any, probes: Probes, work: Path, inputs: _Inputs,
           rounds: Rounds, step: _Step) -> None:
    """Round ``i``: (a) to (f) once each, appended to ``rounds``; the tables removed after."""
    d, d4 = inputs.d, inputs.d4
    tag = f"round {i}/{cfg.repeat}:"
    root, bare = work / f"run-n-{i}", work / f"bare-n-{i}"
    rounds.bare.append(step(f"{tag} bare conversion, N…",
                            partial(bp.bare_conversion, spark, d.full, bare)))
    rounds.full.append(step(f"{tag} pipeline full load, N…",
                            partial(bp.full_load, spark, probes, d, root)))
    rounds.validation.append(step(f"{tag} full scan of the conformed batch…",
                                  partial(bp.validation_vs_scan, spark, probes, root,
                                          rounds.full[-1])))
    rounds.incremental.append(step(f"{tag} incremental day, N…",
                                   partial(bp.incremental_day, spark, probes, d, root)))
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(bare, ignore_errors=True)

    def four() -> None:
        rounds.bare_4n.append(bp.bare_conversion(spark, d4.full, work / f"bare-4n-{i}"))
        root4 = work / f"run-4n-{i}"
        rounds.full_4n.append(bp.full_load(spark, probes, d4, root4))
        shutil.rmtree(root4, ignore_errors=True)
        shutil.rmtree(work / f"bare-4n-{i}", ignore_errors=True)

    step(f"{tag} bare conversion and pipeline, 4N…", four)

    def texts_round() -> None:
        rounds.text_sample.append(freetext.measure(inputs.sample))
        rounds.text_eval.append(freetext.measure(inputs.evalset, "names"))

    step(f"{tag} free-text masking, ours and naive…", texts_round)


def _once(cfg: Config, spark: Any, probes: Probes, work: Path, inputs: _Inputs,
          step: _Step) -> _Once:
    """Recall on the evaluation set, the per-text costs and (with ``--profile``) the profile."""
    recall_ours, recall_naive = step("recall on the evaluation set…", freetext.recall)
    costs = step("free text: costs per text in one process…",
                 partial(freetext.per_text, inputs.texts))
    profile_text = None
    if cfg.profile:
        profile_text = step("profiling one full load (cProfile)…",
                            lambda: _profile(spark, probes, inputs.d, work / "run-profile"))
    return _Once(recall_ours, recall_naive, costs, profile_text)


def _measure(cfg: Config, spark: Any, work: Path) -> tuple[Any, Rounds, _Inputs, _Once]:
    """Every measurement under a progress bar: the session used (``spark`` or a new one), the
    rounds, their inputs and what is measured once."""
    rounds = Rounds()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        step = _Step(progress, progress.add_task("starting Spark…", total=_total_steps(cfg)))
        if spark is None:
            spark = step("starting Spark…", _session)
        else:
            step.skip()
        probes = Probes(spark)
        inputs = _prepare(cfg, spark, work, step)
        with installed(probes):
            if cfg.warmup:
                step("warming up (not measured)…",
                     partial(_warm_up, cfg, spark, probes, work, inputs))
            for i in range(1, cfg.repeat + 1):
                _round(i, cfg, spark, probes, work, inputs, rounds, step)
            once = _once(cfg, spark, probes, work, inputs, step)
        once.prefiltered = freetext.prefiltered_share(inputs.sample)
        inputs.sample.unpersist()
        inputs.evalset.unpersist()
    return spark, rounds, inputs, once


def _recall_figure(once: _Once) -> Figure:
    """(c) recall on the evaluation set, ours against the naive UDF's (computed once)."""
    ours, naive = once.recall_ours, once.recall_naive
    ratio = ours.recall / naive.recall if naive.recall else float("inf")
    return Figure("freetext_recall", "(c) recall on the evaluation set", ours.recall,
                  naive.recall, ratio, unit="share", target=1.0, direction="min",
                  ratio_label="ours / baseline", runs_ours=[ours.recall],
                  runs_baseline=[naive.recall],
                  note=f"{ours.labels} labelled spans; deterministic: computed once")


def _result(cfg: Config, spark: Any, started: datetime.datetime, load: dict[str, Any],
            rounds: Rounds, inputs: _Inputs, once: _Once) -> dict[str, Any]:
    """The JSON document of the run (without its figures, which :func:`write` adds)."""
    d, d4 = inputs.d, inputs.d4
    spark_conf = spark.sparkContext.getConf()
    return {
        "date": started.date().isoformat(),
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine.describe(),
        "machine_load": load,
        "config": {
            "persons": cfg.persons, "repeat": cfg.repeat, "texts": len(inputs.texts),
            "seed": cfg.seed, "warmup": cfg.warmup,
            "spark_master": spark_conf.get("spark.master"),
            "shuffle_partitions": int(spark_conf.get("spark.sql.shuffle.partitions", "0")),
            "driver_memory": spark_conf.get("spark.driver.memory"),
            "feed": bp.FEED, "dataset": "gold.person_coverage (household registry only: "
                                       "jobs/residents_coverage.py)",
        },
        "deliveries": {
            "full_rows": d.full_rows, "full_bytes": d.full_bytes,
            "incremental_rows": d.incremental_rows, "full_rows_4n": d4.full_rows,
            "full_bytes_4n": d4.full_bytes, "published_rows": rounds.full[0].published_rows,
            "published_rows_4n": rounds.full_4n[0].published_rows,
        },
        "stages": {
            "full load N": _breakdown(rounds.full),
            "incremental N": _breakdown(rounds.incremental),
            "full load 4N": _breakdown(rounds.full_4n),
        },
        "governance_parts_total": {
            "full load N": _parts_total(rounds.full),
            "incremental N": _parts_total(rounds.incremental),
            "full load 4N": _parts_total(rounds.full_4n),
        },
        "validation": {"rows": rounds.validation[0].rows,
                       "spark_jobs_validate": int(median([v.jobs_validate
                                                          for v in rounds.validation])),
                       "spark_jobs_scan": int(median([v.jobs_scan for v in rounds.validation]))},
        "freetext": {
            "sample": {"texts": len(inputs.texts), "prefiltered_share": round(once.prefiltered, 4),
                       "agree": [x.agree for x in rounds.text_sample]},
            "evalset": {"texts": len(inputs.ev_texts),
                        "agree": [x.agree for x in rounds.text_eval]},
            "recall_ours": vars(once.recall_ours), "recall_naive": vars(once.recall_naive),
            "per_text_ms": {k: round(v, 4) for k, v in vars(once.costs).items()},
        },
    }


def _run(cfg: Config, spark: Any, work: Path, share: machine.CpuShare,
         started: datetime.datetime) -> tuple[Path, Path, list[Figure]]:
    """Measure, then write the JSON and Markdown results (and the profile) and print the
    figures."""
    spark, rounds, inputs, once = _measure(cfg, spark, work)
    figs = figures(rounds)
    figs.append(_recall_figure(once))
    load = share.stop()
    result = _result(cfg, spark, started, load, rounds, inputs, once)
    name = cfg.name or result["date"]
    if once.profile_text is not None:
        cfg.out.mkdir(parents=True, exist_ok=True)
        (cfg.out / f"{name}-profile.txt").write_text(once.profile_text, encoding="utf-8")
        result["profile"] = f"{name}-profile.txt"
    js, md = write(cfg.out, name, result, figs)
    _print_figures(figs)
    console.print(f"results: {js} and {md}")
    return js, md, figs


def _profile(spark: Any, probes: Probes, d: bp.Deliveries, root: Path) -> str:
    """cProfile of the driver over one full load: the functions it spends its time in (most of
    it waiting for the JVM), by cumulative and by own time."""
    prof = cProfile.Profile()
    prof.enable()
    try:
        bp.full_load(spark, probes, d, root)
    finally:
        prof.disable()
        shutil.rmtree(root, ignore_errors=True)
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(r"(convergence|jobs|quality|masking|lineage|audit)"
                                               r"/.*\.py", 40)
    stats.sort_stats("tottime").print_stats(25)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
def parse(argv: Sequence[str] | None = None) -> Config:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--persons", type=int, default=1_000_000,
                   help="N: persons of the generated deliveries (4N is measured too)")
    p.add_argument("--repeat", type=int, default=3, help="rounds; every figure is the median")
    p.add_argument("--texts", type=int, default=50_000,
                   help="free-text remarks in the masking sample")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results",
                   help="where <date>.json and <date>.md go")
    p.add_argument("--name", help="file name of the results (default: today's date)")
    p.add_argument("--work", type=Path,
                   help="scratch folder for the deliveries and tables (default: a temporary one)")
    p.add_argument("--keep-work", action="store_true", help="keep the scratch folder")
    p.add_argument("--no-warmup", action="store_true", help="skip the unmeasured warm-up round")
    p.add_argument("--profile", action="store_true",
                   help="also cProfile one full load and write <date>-profile.txt")
    a = p.parse_args(argv)
    if a.persons < 10 or a.repeat < 1 or a.texts < 1:
        p.error("--persons must be at least 10, --repeat and --texts at least 1")
    return Config(persons=a.persons, repeat=a.repeat, texts=a.texts, seed=a.seed, out=a.out,
                  work=a.work, name=a.name, warmup=not a.no_warmup, profile=a.profile,
                  keep_work=a.keep_work)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark from the command line; 0 when it ran (targets missed included)."""
    cfg = parse(argv)
    run(cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
