"""``lakehouse generate`` and ``lakehouse demo``: synthetic deliveries and the demo run.

Both are development tools from the sandbox: :mod:`sandbox.generate` writes realistic
deliveries of the six feeds (with the known data issues at configurable rates), and
:func:`sandbox.demo.run_demo` runs the main job end to end through Airflow (``make demo``).
This module only declares their arguments and calls them.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cli.common import REFUSED, done, fail, iso_date, out
from sandbox.demo import DEMO_PERSONS  # light: the runner imports Spark and Airflow when run


def cmd_generate(args: argparse.Namespace) -> int:
    """Write realistic deliveries into the inbox."""
    from kernel.config import Settings
    from sandbox.demo import default_start
    from sandbox.generate import WRITERS, IssueRates, generate

    settings = Settings.from_env()
    if not settings.is_local:
        fail("generate writes to a local storage root only (LAKEHOUSE_ROOT is a URI)")
        return REFUSED
    unknown = [f for f in args.feed or [] if f not in WRITERS]
    if unknown:
        fail(f"--feed: unknown feed(s) {', '.join(unknown)}; known feeds: {', '.join(WRITERS)}")
        return REFUSED
    try:
        rates = IssueRates.parse(args.rate or [])
    except ValueError as exc:
        fail(f"--rate: {exc}")
        return REFUSED
    start = args.start or default_start(args.days)
    with out().status(f"generating deliveries for {args.persons:,} persons…"):
        report = generate(Path(settings.root), persons=args.persons, seed=args.seed,
                          days=args.days, start=start, rates=rates, feeds=args.feed)
    done(str(report))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate deliveries, run every feed DAG and publishing DAG through Airflow, summarise."""
    from sandbox.demo import run_demo

    return run_demo(persons=args.persons, seed=args.seed, executor=args.executor)


def add_parsers(sub: Any) -> None:
    """Add ``generate`` and ``demo`` to the ``lakehouse`` sub-commands."""
    g = sub.add_parser("generate", help="write realistic deliveries into the inbox")
    g.add_argument("--persons", type=int, default=2000)
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--days", type=int, default=3, help="daily deliveries to write")
    g.add_argument("--start", type=iso_date, default=None, metavar="YYYY-MM-DD",
                   help="the first delivery day (default: so that the last one is today in "
                        "Taiwan)")
    g.add_argument("--feed", action="append", help="only this feed (repeatable; default all)")
    g.add_argument("--rate", action="append", metavar="ISSUE=RATE",
                   help="rate of a known data issue, e.g. fullwidth_id=0.05 (repeatable)")
    g.set_defaults(func=cmd_generate)

    d = sub.add_parser("demo", help="generate, run every DAG through Airflow, summarise")
    d.add_argument("--persons", type=int, default=DEMO_PERSONS)
    d.add_argument("--seed", type=int, default=42)
    d.add_argument("--executor", choices=("embedded", "celery"), default="embedded",
                   help="embedded: dag.test() in one process (default); celery: trigger the DAGs "
                        "on the cluster profile's Airflow (make cluster-up; docs/cluster.md)")
    d.set_defaults(func=cmd_demo)
