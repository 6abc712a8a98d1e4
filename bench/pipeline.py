"""The governed pipeline against a bare conversion, on the deliveries the generator writes.

Deliveries: the generator's ``moi.household_registry`` files (CP950 CSV, CRLF, the feed's
known issues at their default rates) for ``N`` persons and two days: day 1 is one event per
person (the full load), day 2 the changes of about 1 % of the living persons (the incremental
day).

- :func:`bare_conversion`: Spark reads the day-1 CSV (header, CP950 as ``MS950``, every column a
  string) and writes it as a Delta table. Nothing else.
- :func:`full_load`: the pipeline's own stage functions, as ``lakehouse run`` and
  ``lakehouse publish`` call them, on a fresh storage root: land (digest check, landing copy,
  manifest), bronze, silver (conform, quality gate, quarantine, deduplication, merge), publish of
  the residents' person coverage (:mod:`jobs.residents_coverage`: pseudonymisation,
  generalisation, leak gate, one Delta commit), with the lineage events, audit log and run
  records each stage writes.
- :func:`incremental_day`: the same four stages for the day-2 delivery, after a full load.
- :func:`validation_vs_scan`: the quality gate (:func:`quality.gate.validate`) as the full
  load's silver stage ran it on the conformed day-1 batch, against one full scan of the same
  rows.
"""

from __future__ import annotations

import datetime
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from bench.probes import PART_QUALITY, Probes, StageTiming, timed
from jobs import residents_coverage
from kernel import contracts
from kernel.context import Context
from kernel.contracts import FeedContract
from kernel.layout import Layout

FEED = residents_coverage.FEED
STAGES = ("land", "bronze", "silver", "publish")


@dataclass(frozen=True)
class Deliveries:
    """The generated files of one population size: day 1 (full) and day 2 (incremental)."""

    persons: int
    folder: Path
    full: Path
    incremental: Path
    full_rows: int
    incremental_rows: int
    start: datetime.date

    @property
    def full_bytes(self) -> int:
        """Size of the day-1 file."""
        return self.full.stat().st_size


def generate(folder: Path, persons: int, seed: int, start: datetime.date) -> Deliveries:
    """Write two days of household-registry deliveries for ``persons`` under ``folder``."""
    from sandbox.generate import generate as write

    report = write(folder, persons=persons, seed=seed, days=2, start=start, feeds=[FEED])
    files = report.feeds[FEED].files
    return Deliveries(persons=persons, folder=folder, full=files[0].path,
                      incremental=files[1].path, full_rows=files[0].rows,
                      incremental_rows=files[1].rows, start=start)


def _deliver(path: Path, root: Path, contract: FeedContract) -> None:
    """Drop a file and its ``.sha256`` companion into the feed's inbox under ``root``."""
    inbox = Path(Layout(str(root)).inbox(contract.delivery.inbox))
    inbox.mkdir(parents=True, exist_ok=True)
    for src in (path, path.with_name(path.name + ".sha256")):
        shutil.copyfile(src, inbox / src.name)


def context(spark: SparkSession, root: Path) -> Context:
    """A job run of the pipeline on ``spark`` writing under ``root`` (a fresh run id)."""
    from kernel.config import Settings
    from kernel.records import Records
    from kernel.storage import Storage

    storage = Storage(spark, str(root))
    return Context(
        settings=Settings.from_env({**os.environ, "LAKEHOUSE_ROOT": str(root)}),
        storage=storage, records=Records(storage), run_id=f"bench-{uuid.uuid4().hex[:12]}",
        now=datetime.datetime.now(datetime.UTC).replace(tzinfo=None), actor="bench")


# --------------------------------------------------------------------------------------------
def read_delivery(spark: SparkSession, csv: Path) -> DataFrame:
    """The delivery as the bare conversion reads it: header, the contract's charset, strings."""
    charset = contracts.feed(FEED).delivery.java_charset
    return spark.read.option("header", "true").option("encoding", charset).csv(str(csv))


def bare_conversion(spark: SparkSession, csv: Path, target: Path) -> float:
    """Seconds to convert ``csv`` to a Delta table at ``target``: read
    (:func:`read_delivery`) and write, nothing else."""

    def run() -> None:
        read_delivery(spark, csv).write.format("delta").mode("overwrite").save(str(target))

    return timed(run)


@dataclass
class PipelineRun:
    """One run of the four stages: per-stage timings, rows published."""

    stages: list[StageTiming] = field(default_factory=list)
    published_rows: int = 0

    @property
    def seconds(self) -> float:
        """Wall time of the four stages together."""
        return sum(s.seconds for s in self.stages)


class PipelineFailed(RuntimeError):
    """A stage reported a problem: the run is no valid measurement."""


def _stages(probes: Probes, ctx: Context, snapshot: datetime.date) -> PipelineRun:
    from stages.feed import run_stage
    from stages.publish import publish

    fc = contracts.feed(FEED)
    dc = residents_coverage.contract()
    run = PipelineRun()
    for name in STAGES:
        with probes.stage(name) as timing:
            if name == "publish":
                res = publish(ctx, dc, snapshot)
                problems = [str(p) for p in res.problems]
                run.published_rows = res.rows
                if res.status != "published":
                    problems.append(f"publish status {res.status}")
            else:
                stage = run_stage(ctx, fc, name)
                problems = [str(p) for p in stage.problems]
        if problems:
            raise PipelineFailed(f"{FEED} {name}: " + "; ".join(problems))
        run.stages.append(timing)
    return run


def full_load(spark: SparkSession, probes: Probes, d: Deliveries, root: Path) -> PipelineRun:
    """The day-1 delivery through land, bronze, silver and publish on a fresh root."""
    shutil.rmtree(root, ignore_errors=True)
    _deliver(d.full, root, contracts.feed(FEED))
    return _stages(probes, context(spark, root), d.start)


def incremental_day(spark: SparkSession, probes: Probes, d: Deliveries, root: Path) -> PipelineRun:
    """The day-2 delivery (about 1 % of the records changed) on a root holding the full load."""
    _deliver(d.incremental, root, contracts.feed(FEED))
    return _stages(probes, context(spark, root), d.start + datetime.timedelta(days=1))


# --------------------------------------------------------------------------------------------
@dataclass
class Validation:
    """The quality gate on the conformed day-1 batch against one full scan of the same frame."""

    validate: float
    scan: float
    rows: int
    jobs_validate: int
    jobs_scan: int


def _full_scan(df: DataFrame) -> int:
    """One pass over every column: the row count and the non-null count of each column."""
    row = df.agg(F.count(F.lit(1)), *[F.count(F.col(f"`{c}`")) for c in df.columns]).first()
    return int(row[0]) if row else 0


def validation_vs_scan(spark: SparkSession, probes: Probes, root: Path,
                       full: PipelineRun) -> Validation:
    """The quality gate as the silver stage of the full load ``full`` ran it (the contract's
    Great Expectations suite, :func:`quality.gate.validate`, on the well-formed rows of the
    persisted conformed batch), against one scan of every column of the same rows, conformed
    again from the bronze table under ``root`` and persisted the same way."""
    from jobs import conform as conform_job
    from jobs.bronze import CORRUPT
    from kernel.storage import Storage

    silver = next(s for s in full.stages if s.stage == "silver")
    fc = contracts.feed(FEED)
    raw = Storage(spark, str(root)).read("bronze", FEED)
    flagged = raw.withColumn("_malformed", F.col(CORRUPT).isNotNull())
    conformed = conform_job.conform(flagged, fc, keep=["_malformed", CORRUPT]).persist()
    try:
        conformed.count()
        wellformed = conformed.where("NOT _malformed").drop("_malformed", CORRUPT)
        with probes.stage("scan") as s:
            rows = _full_scan(wellformed)
    finally:
        conformed.unpersist()
    return Validation(validate=silver.parts.get(PART_QUALITY, 0.0), scan=s.seconds, rows=rows,
                      jobs_validate=silver.part_jobs.get(PART_QUALITY, 0), jobs_scan=s.jobs)
