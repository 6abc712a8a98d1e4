"""Performance check of ``lakehouse query``: an aggregate over a 1,000,000-person table.

Builds a synthetic table shaped like ``gold.person_coverage`` (the contract's columns and
types, plausible values; no Spark: ``deltalake.write_deltalake``) under a temporary storage
root, then times the command ``lakehouse query "SELECT county, age_band, count(*) …"`` run as a
subprocess — wall time, process start included — several times, and reports the median. The
command's CSV output is checked against the same aggregate computed with pyarrow.

    .venv/bin/python -m bench.query                 # 1,000,000 persons, median of 5
    .venv/bin/python -m bench.query --rows 200000 --repeat 3 --budget 2

Exit code 1 when the median exceeds ``--budget`` seconds or the result is wrong.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from kernel.layout import Layout
from kernel.twid import COUNTIES, age_band_of

if TYPE_CHECKING:
    import pyarrow as pa

REPO_ROOT = Path(__file__).resolve().parent.parent
COMMAND = [sys.executable, "-m", "cli.main", "query"]
"""``lakehouse query``, as the console script runs it (:func:`cli.main.entry`)."""
SALARY_BANDS = ("<30000", "30000-39999", "40000-45799", "45800+")
SNAPSHOT = date(2024, 11, 30)
SQL = ("SELECT county, age_band, count(*) AS persons, "
       "count(*) FILTER (WHERE in_labor_insurance) AS labor_insured "
       "FROM gold.person_coverage GROUP BY county, age_band ORDER BY county, age_band")


def person_coverage(rows: int, seed: int = 7) -> pa.Table:
    """A synthetic table with ``gold.person_coverage``'s columns and types."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    keys = rng.bytes(32 * rows).hex()
    birth_year = rng.integers(SNAPSHOT.year - 104, SNAPSHOT.year + 1, rows).astype("int32")
    bands = np.array([age_band_of(a) for a in range(0, 105)], dtype=object)
    county_idx = rng.integers(0, len(COUNTIES) + 1, rows)  # the last index: unknown (null)
    counties = np.array([*COUNTIES, None], dtype=object)[county_idx]
    sex = np.array(["1", "2"], dtype=object)[rng.integers(0, 2, rows)]
    sex[county_idx == len(COUNTIES)] = None  # the registry does not know them: no sex
    labor = rng.random(rows) < 0.45
    salary = np.array(SALARY_BANDS, dtype=object)[rng.integers(0, 4, rows)]
    salary[~labor] = None
    return pa.table({
        "person_key": pa.array([keys[i * 64:(i + 1) * 64] for i in range(rows)], pa.string()),
        "sex": pa.array(sex, pa.string()),
        "birth_year": pa.array(birth_year, pa.int32()),
        "age_band": pa.array(bands[SNAPSHOT.year - birth_year], pa.string()),
        "county": pa.array(counties, pa.string()),
        "in_labor_insurance": pa.array(labor),
        "insured_salary_band": pa.array(salary, pa.string()),
        "in_nhi": pa.array(rng.random(rows) < 0.97),
        "is_farmer": pa.array(rng.random(rows) < 0.05),
        "pension_contrib_last_12m": pa.array(labor & (rng.random(rows) < 0.9)),
        "receives_benefit": pa.array(rng.random(rows) < 0.1),
        "is_deceased": pa.array(rng.random(rows) < 0.01),
        "snapshot_date": pa.array([SNAPSHOT] * rows, pa.date32()),
    })


def write_table(root: Path, table: pa.Table) -> Path:
    """Write ``table`` as ``gold/person_coverage`` (one Delta commit) under ``root``."""
    from deltalake import write_deltalake

    path = Path(Layout(str(root)).delta_uri("gold", "person_coverage"))
    write_deltalake(str(path), table, mode="overwrite")
    return path


def parquet_files(path: Path) -> tuple[int, int]:
    """Number and total bytes of the Parquet files of the table's current version."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    adds = pa.table(DeltaTable(str(path)).get_add_actions(flatten=True))
    return adds.num_rows, int(pc.sum(adds["size_bytes"]).as_py() or 0)


def expected(table: pa.Table) -> list[tuple[str, str, int, int]]:
    """The aggregate of :data:`SQL`, computed with pyarrow (``county`` null as ``""``)."""
    grouped = table.group_by(["county", "age_band"]).aggregate(
        [("person_key", "count"), ("in_labor_insurance", "sum")])
    rows = [("" if r["county"] is None else r["county"], r["age_band"], r["person_key_count"],
             r["in_labor_insurance_sum"] or 0) for r in grouped.to_pylist()]
    return sorted(rows)


def timed_run(root: Path, sql: str) -> tuple[float, str]:
    """Run the query command once as a subprocess; wall seconds and its CSV output."""
    env = {**os.environ, "LAKEHOUSE_ROOT": str(root), "LAKEHOUSE_ROLE": "analyst",
           "LAKEHOUSE_USER": "perf-check"}
    start = time.perf_counter()
    proc = subprocess.run([*COMMAND, sql, "--format", "csv"], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, encoding="utf-8")
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"the query command failed ({proc.returncode}): {proc.stderr.strip()}")
    return seconds, proc.stdout


def parse_csv(text: str) -> list[tuple[str, str, int, int]]:
    """The command's CSV output as sorted ``(county, age_band, persons, labor_insured)``."""
    reader = csv.reader(io.StringIO(text))
    next(reader)
    return sorted((c, a, int(p), int(li)) for c, a, p, li in reader)


def main(argv: Sequence[str] | None = None) -> int:
    """Build, time, check and report (see the module docstring)."""
    ap = argparse.ArgumentParser(prog="python -m bench.query", description=__doc__.split(
        "\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--budget", type=float, default=2.0, help="seconds allowed for the median")
    ap.add_argument("--root", help="build under this folder (default: a temporary one)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lakehouse-perf-") as tmp:
        root = Path(args.root or tmp)
        t0 = time.perf_counter()
        table = person_coverage(args.rows)
        path = write_table(root, table)
        files, size = parquet_files(path)
        print(f"built gold.person_coverage: {args.rows:,} rows, {files} Parquet file(s), "
              f"{size / 1e6:.1f} MB, in {time.perf_counter() - t0:.1f} s ({path})")
        print(f"command: {' '.join(COMMAND[1:])} \"{SQL}\" --format csv")
        times = []
        output = ""
        for i in range(args.repeat):
            seconds, output = timed_run(root, SQL)
            times.append(seconds)
            print(f"  run {i + 1}: {seconds:.3f} s")
        ok = parse_csv(output) == expected(table)
        median = statistics.median(times)
        print(f"median {median:.3f} s (min {min(times):.3f}, max {max(times):.3f}) over "
              f"{args.repeat} runs, process start included; budget {args.budget:.1f} s; "
              f"result {'matches' if ok else 'DIFFERS FROM'} the pyarrow aggregate")
    return 0 if ok and median <= args.budget else 1


if __name__ == "__main__":
    sys.exit(main())
