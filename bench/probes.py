"""Timing probes around the pipeline's own functions, installed from outside.

The benchmark calls the pipeline's stage functions (:func:`stages.land.land`, ``bronze``,
``silver``, ``publish``) as the command line does. To say where the time of a stage goes without
editing the pipeline, :class:`Probes` wraps a few functions the stages look up at call time
(the quality gate, the leak gate, the lineage emitters, the audit log, the run records, the Delta
writes) with a timer while a measurement runs, and restores them afterwards.

A call made inside another timed call counts for the outer one only, so that the parts of a
stage add up to at most the stage's wall time (the rest is the stage's own work: conforming,
counting, deduplicating, building the candidate). Spark jobs are counted per stage with a job
group (:meth:`Probes.stage`).
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import SparkSession

PART_QUALITY = "quality gate (Great Expectations)"
PART_GATES = "freshness, volume, reconciliation gates"
PART_DIGEST = "SHA-256 of the delivery"
PART_CHECKS = "delivery checks (charset, header)"
PART_COPY = "landing copy"
PART_WRITES = "Delta writes of the data (append, merge, overwrite)"
PART_LEAK = "masking + leak gate"
PART_LINEAGE = "lineage events"
PART_AUDIT = "audit log"
PART_RECORDS = "run records (system tables: find pending work, append)"

_TARGETS: tuple[tuple[str, str, str], ...] = (
    ("quality.gate", "validate", PART_QUALITY),
    ("stages.land", "add_freshness", PART_GATES),
    ("stages.silver", "volume_problem", PART_GATES),
    ("stages.publish", "reconciliation_problems", PART_GATES),
    ("stages.land", "file_digest", PART_DIGEST),
    ("stages.recovery", "file_digest", PART_DIGEST),
    ("jobs.readers.csv", "check", PART_CHECKS),
    ("kernel.storage", "Storage.copy", PART_COPY),
    ("kernel.storage", "Storage.append", PART_WRITES),
    ("kernel.storage", "Storage.upsert", PART_WRITES),
    ("kernel.storage", "Storage.overwrite", PART_WRITES),
    ("kernel.storage", "Storage.insert_new", PART_WRITES),
    ("masking.leak", "scan", PART_LEAK),
    ("lineage.pipeline", "emit", PART_LINEAGE),
    ("lineage.pipeline", "stage_datasets", PART_LINEAGE),
    ("lineage.pipeline", "publish_datasets", PART_LINEAGE),
    ("kernel.context", "Context.audit", PART_AUDIT),
    ("stages.publish", "_audit_anchor", PART_AUDIT),
    *((f"stages.{s}", "audit_stage", PART_AUDIT) for s in ("land", "bronze", "silver")),
    ("kernel.records", "Records.append", PART_RECORDS),
    *((f"stages.{s}", "pending", PART_RECORDS) for s in ("bronze", "silver")),
    ("stages.publish", "_record_publish", PART_RECORDS),
)
"""(module, attribute, part): the functions timed, in the module that calls them by that name
(a stage module imports its helpers by name; the silver stage imports the quality gate inside
the function, so the gate is timed where it is defined); a dotted attribute is a method. A call
made inside another timed call counts for the outer one (a run record's Delta append is a run
record, not a data write)."""


@dataclass
class StageTiming:
    """One stage run: wall time, the time of each probed part inside it, Spark jobs."""

    stage: str
    seconds: float = 0.0
    parts: dict[str, float] = field(default_factory=dict)
    jobs: int = 0
    part_jobs: dict[str, int] = field(default_factory=dict)
    """Spark jobs run inside each part (included in ``jobs``)."""

    @property
    def own(self) -> float:
        """The stage's own work: wall time minus every probed part."""
        return max(0.0, self.seconds - sum(self.parts.values()))


class Probes:
    """Timers around the pipeline's functions, and per-stage Spark job counts."""

    _ids = itertools.count()

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self._depth = 0  # timed calls open (only the outermost one is counted)
        self._current: StageTiming | None = None
        self._group = ""
        self._part_jobs = 0
        self._saved: list[tuple[Any, str, Any]] = []

    # ------------------------------------------------------------------ wrapping
    def _wrap(self, fn: Callable[..., Any], part: str) -> Callable[..., Any]:
        probes = self

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if probes._current is None or probes._depth:
                return fn(*args, **kwargs)
            sc = probes.spark.sparkContext
            group = f"{probes._group}/{next(probes._ids)}"
            sc.setJobGroup(group, f"benchmark: {part}")
            probes._depth += 1
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                probes._depth -= 1
                sc.setJobGroup(probes._group, "benchmark")
                current = probes._current
                if current is not None:
                    current.parts[part] = current.parts.get(part, 0.0) + elapsed
                    jobs = len(sc.statusTracker().getJobIdsForGroup(group))
                    current.part_jobs[part] = current.part_jobs.get(part, 0) + jobs
                    probes._part_jobs += jobs

        return timed

    def install(self) -> None:
        """Wrap every function of :data:`_TARGETS` (idempotent)."""
        import importlib

        if self._saved:
            return
        for module_name, attr, part in _TARGETS:
            owner: Any = importlib.import_module(module_name)
            name = attr
            if "." in attr:
                cls, name = attr.split(".", 1)
                owner = getattr(owner, cls)
            original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
            self._saved.append((owner, name, original))
            setattr(owner, name, self._wrap(original, part))

    def uninstall(self) -> None:
        """Put the original functions back."""
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        self._saved.clear()

    # ------------------------------------------------------------------ measuring
    @contextmanager
    def stage(self, name: str) -> Iterator[StageTiming]:
        """Time one stage: wall time, probed parts, Spark jobs run meanwhile."""
        timing = StageTiming(name)
        sc = self.spark.sparkContext
        self._group = f"bench-{next(self._ids)}-{name}"
        sc.setJobGroup(self._group, "benchmark")
        self._current, self._depth, self._part_jobs = timing, 0, 0
        start = time.perf_counter()
        try:
            yield timing
        finally:
            timing.seconds = time.perf_counter() - start
            self._current = None
            own = len(sc.statusTracker().getJobIdsForGroup(self._group))
            timing.jobs = own + self._part_jobs
            sc.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]
            sc.setLocalProperty("spark.job.description", None)  # type: ignore[arg-type]


@contextmanager
def installed(probes: Probes) -> Iterator[Probes]:
    """``probes`` installed for the duration of the block."""
    probes.install()
    try:
        yield probes
    finally:
        probes.uninstall()


def timed(fn: Callable[[], Any]) -> float:
    """Seconds ``fn()`` takes (wall clock)."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
