"""``python -m bench.floor``: the least any landing → bronze → silver → gold layout can cost.

The benchmark's target (a) compares the governed pipeline with a bare CSV→Delta conversion: one
read of the delivery, one Delta write. The lakehouse's shape persists the data at least three
times (bronze: every delivered record with its lineage; silver: the conformed events; gold: the
published dataset), so before any governance runs there is a floor under that ratio. This module
measures it on the same delivery, in the same Spark session, with nothing else in the way:

- **bare**: :func:`bench.pipeline.bare_conversion` (the baseline of ``make bench``);
- **read only**: the same read into Spark's ``noop`` sink (what the bare conversion's read costs);
- **floor**: the delivery read **once** and cached, then written three times as Delta: bronze
  (every column as text, plus a batch id and a row number), silver (the same rows again: no
  conforming, no rules) and gold (a keyed hash and four columns). No quality gate, masking,
  lineage, audit, run records, deduplication or merge.

Anything the pipeline adds (conforming, the quality gate, the split into quarantine, the entity
table, the leak gate, the system tables) comes on top of the floor. Every figure is the median of
``--repeat`` rounds after one unmeasured warm-up round; the results go to
``<out>/<name>-floor.json`` and ``.md`` with the machine and how busy it was.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from bench import machine
from bench import pipeline as bp
from bench.probes import timed
from bench.report import median

console = Console(highlight=False)
START = datetime.date(2024, 11, 1)
TARGET = 2.0
"""Issue #16's target (a): the governed pipeline at most 2× the bare conversion."""


@dataclass
class FloorRounds:
    """Seconds per round of each measurement."""

    bare: list[float] = field(default_factory=list)
    read_only: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)

    def medians(self) -> dict[str, float]:
        """The median of each measurement."""
        return {k: median(v) for k, v in asdict(self).items()}


def read_only(spark: Any, csv: Path) -> float:
    """Seconds to read ``csv`` whole into the ``noop`` sink (the bare conversion's read)."""
    return timed(lambda: bp.read_delivery(spark, csv).write.format("noop").mode("overwrite").save())


def layout_floor(spark: Any, csv: Path, target: Path) -> float:
    """Seconds to read ``csv`` once and write it as the three Delta tables under ``target``
    (``bronze``, ``silver``, ``gold``), with no governance at all (see the module docstring)."""
    from pyspark.sql import functions as F

    def run() -> None:
        bronze = bp.read_delivery(spark, csv).select(
            "*", F.lit("batch").alias("_batch_id"),
            F.monotonically_increasing_id().alias("_source_row")).cache()
        try:
            for name in ("bronze", "silver"):
                bronze.write.format("delta").mode("overwrite").save(str(target / name))
            first, *rest = bronze.columns
            gold = bronze.select(F.sha2(F.col(f"`{first}`"), 256).alias("person_key"),
                                 *[F.col(f"`{c}`") for c in rest[1:5]])
            gold.write.format("delta").mode("overwrite").save(str(target / "gold"))
        finally:
            bronze.unpersist()

    return timed(run)


def measure(spark: Any, csv: Path, work: Path, repeat: int,
            advance: Callable[[str], None] = lambda _: None) -> FloorRounds:
    """One warm-up round, then ``repeat`` rounds of bare, read-only and floor on ``csv``."""
    rounds = FloorRounds()
    for i in range(repeat + 1):
        shutil.rmtree(work / "tables", ignore_errors=True)
        bare = bp.bare_conversion(spark, csv, work / "tables" / "bare")
        read = read_only(spark, csv)
        floor = layout_floor(spark, csv, work / "tables")
        if i:  # round 0 warms the JVM up
            rounds.bare.append(bare)
            rounds.read_only.append(read)
            rounds.floor.append(floor)
        advance(f"round {i}/{repeat}: bare {bare:.2f} s, floor {floor:.2f} s")
    shutil.rmtree(work / "tables", ignore_errors=True)
    return rounds


def markdown(result: dict[str, Any]) -> str:
    """The results as a page: the figures, the ratio against the target, the machine."""
    m, r, load = result["medians"], result["ratios"], result["machine_load"]
    hw = result["machine"]
    lines = [
        f"# Layout floor {result['name']}: three Delta writes against one bare conversion",
        "",
        f"{result['persons']:,} persons ({result['records']:,} records, "
        f"{result['bytes'] / 1e6:,.1f} MB), median of {result['repeat']} round(s) after a "
        f"warm-up; {hw['cpus']} CPUs ({hw['cpu_model']}), {hw['memory_gib']} GiB; "
        f"pyspark {hw['versions'].get('pyspark')}, "
        f"delta-spark {hw['versions'].get('delta-spark')}.",
        "",
        f"Other processes used {load.get('other_processes_cpu_seconds')} CPU-seconds meanwhile "
        f"({load.get('other_processes_share_of_machine')} of the machine; load average mean "
        f"{load.get('load_average_mean')}).",
        "",
        "| measurement | seconds (median) | × bare |",
        "|---|---:|---:|",
        f"| bare CSV→Delta conversion | {m['bare']:.2f} | 1.00 |",
        f"| the same read into the noop sink | {m['read_only']:.2f} | {r['read_only']:.2f} |",
        f"| floor: read once, write bronze, silver, gold (no governance) | {m['floor']:.2f} | "
        f"{r['floor']:.2f} |",
        "",
        f"Target (a) of issue #16 is ≤ {TARGET:g}× bare for the governed pipeline; the layout "
        f"alone costs {r['floor']:.2f}×, so the target is "
        f"{'within reach of the layout' if r['floor'] <= TARGET else 'below the floor'}.",
        "",
        "Runs (s): " + json.dumps(result["runs"]),
        "",
    ]
    return "\n".join(lines)


def run(persons: int, repeat: int, out: Path, name: str, work: Path | None = None,
        spark: Any = None, seed: int = 42) -> tuple[Path, Path, dict[str, Any]]:
    """Generate the delivery, measure, write ``<name>-floor.json`` and ``.md``; their paths and
    the result."""
    from kernel import spark as kspark

    scratch = work or Path(tempfile.mkdtemp(prefix="lakehouse-floor-"))
    share = machine.CpuShare()
    share.start()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("starting Spark…", total=repeat + 2)
            session = spark or kspark.session()
            progress.update(task, description=f"generating {persons:,} persons…")
            d = bp.generate(scratch / "src", persons, seed, START)
            records, size = d.full_rows, d.full_bytes
            progress.advance(task)

            def advance(text: str) -> None:
                console.print(text)
                progress.update(task, description=text)
                progress.advance(task)

            rounds = measure(session, d.full, scratch, repeat, advance)
    finally:
        load = share.stop()
        if work is None:
            shutil.rmtree(scratch, ignore_errors=True)
    m = rounds.medians()
    result = {
        "name": name, "persons": persons, "records": records, "bytes": size,
        "repeat": repeat, "medians": m, "runs": asdict(rounds),
        "ratios": {k: (v / m["bare"] if m["bare"] else float("inf")) for k, v in m.items()},
        "target": TARGET, "machine": machine.describe(), "machine_load": load,
    }
    out.mkdir(parents=True, exist_ok=True)
    js, md = out / f"{name}-floor.json", out / f"{name}-floor.md"
    js.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md.write_text(markdown(result), encoding="utf-8")
    return js, md, result


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m bench.floor [--persons N] [--repeat R] [--out DIR]``."""
    p = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__.split("\n")[0])
    p.add_argument("--persons", type=int, default=1_000_000, help="persons in the delivery")
    p.add_argument("--repeat", type=int, default=3, help="measured rounds (median)")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    p.add_argument("--name", default=datetime.date.today().isoformat())
    p.add_argument("--work", type=Path, default=None, help="scratch folder (kept if given)")
    a = p.parse_args(argv)
    if a.persons < 10 or a.repeat < 1:
        p.error("--persons must be at least 10 and --repeat at least 1")
    js, md, result = run(a.persons, a.repeat, a.out, a.name, a.work)
    r = result["ratios"]
    console.print(f"bare {result['medians']['bare']:.2f} s; floor {r['floor']:.2f}× bare "
                  f"(read only {r['read_only']:.2f}×); written {js} and {md}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
