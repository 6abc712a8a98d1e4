"""``lakehouse quality report`` and ``lakehouse lineage report``: HTML pages for people.

The quality reports are the stewards' (one page per run, and an index across runs); the lineage
report is the auditors' page about one published version (:mod:`lineage.report`). Both are
written without Spark, and hold ids, counts, digests and rule ids, never a value from the data.
"""

from __future__ import annotations

import argparse
from typing import Any

from cli.common import REFUSED, fail, first_line, out


def cmd_quality_report(args: argparse.Namespace) -> int:
    """Write the quality report of one run (or of every run) and the index."""
    from kernel.config import Settings
    from quality.report import write_all, write_index, write_run_report

    root = Settings.from_env().root
    if args.run:
        try:
            page = write_run_report(root, args.run, known_only=True)
        except LookupError as exc:
            fail(f"quality report: {first_line(exc)}")
            return 1
        out().print(f"quality report: {page}")
        out().print(f"index: {write_index(root)}")
    else:
        paths = write_all(root)
        out().print(f"{len(paths) - 1} run report(s); index: {paths[-1]}")
    return 0


def cmd_lineage_report(args: argparse.Namespace) -> int:
    """Write the lineage report of a published dataset version; print its path. An unknown
    dataset is a usage error (2); one not published, or without that version, a failure (1)."""
    from deltalake.exceptions import TableNotFoundError

    from kernel import contracts
    from kernel.config import Settings
    from lineage.report import write_lineage_report

    try:
        contracts.dataset(args.dataset)
    except KeyError as exc:
        fail(f"lineage report: {first_line(exc)}")
        return REFUSED
    root = Settings.from_env().root
    try:
        path = write_lineage_report(root, args.dataset, args.out, args.version)
    except TableNotFoundError:
        fail(f"lineage report: {args.dataset} is not published (no Delta table under {root})")
        return 1
    except (ValueError, KeyError, OSError) as exc:
        fail(f"lineage report: {first_line(exc)}")
        return 1
    print(path)
    return 0


def add_parsers(sub: Any) -> None:
    """Add ``quality report`` and ``lineage report`` to the ``lakehouse`` sub-commands."""
    q = sub.add_parser("quality", help="write the HTML quality reports (per run, and an index)")
    qa = q.add_subparsers(dest="action", required=True, metavar="{report}")
    qr = qa.add_parser("report", help="the report of one run (--run) or of every run")
    qr.add_argument("--run", help="one run id (default: every run)")
    qr.set_defaults(func=cmd_quality_report)

    ln = sub.add_parser("lineage", help="the lineage report of a published dataset version")
    la = ln.add_subparsers(dest="action", required=True, metavar="{report}")
    lr = la.add_parser("report", help="one self-contained HTML page (auditors)")
    lr.add_argument("dataset", help="a published dataset, e.g. gold.person_coverage")
    lr.add_argument("--version", type=int, default=None, help="a Delta version (default: latest)")
    lr.add_argument("--out", required=True, help="the HTML file to write")
    lr.set_defaults(func=cmd_lineage_report)
