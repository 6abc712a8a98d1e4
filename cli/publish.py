"""``lakehouse publish DATASET | --all``: build the candidate, pass every gate, publish.

It calls the same function as the publishing DAGs (:func:`stages.publish.publish`), so a refusal
(no key, an input not reconciled, the leak or disclosure gate) is decided, recorded in the
audit log and worded there: ``✗ DATASET: -: refusing to publish: …``, exit status 1. Names are
checked before Spark starts: an unknown dataset is refused at once (exit status 2).
"""

from __future__ import annotations

import argparse
from typing import Any

from cli.common import (
    REFUSED,
    RUN_ID_HELP,
    done,
    fail,
    iso_date,
    out,
    problems,
    report_problems,
)


def cmd_publish(args: argparse.Namespace) -> int:
    """Publish one dataset (or all) after every gate passes."""
    from kernel import contracts

    if bool(args.dataset) == bool(args.all):
        fail("name a dataset or give --all, not both" if args.all else
             "name a dataset or give --all")
        return REFUSED
    try:
        datasets = contracts.datasets() if args.all else [contracts.dataset(args.dataset)]
    except KeyError as exc:
        fail(str(exc.args[0]))
        return REFUSED
    from stages.tasks import today

    snapshot = args.snapshot_date or today()
    summaries: list[dict[str, Any]] = []
    with out().status("starting Spark…") as status:
        from kernel.context import Context
        from stages.publish import publish

        ctx = Context.create(args.run_id)
        for dc in datasets:
            status.update(f"{dc.name}: building the candidate and passing the gates…")
            res = publish(ctx, dc, snapshot)
            summaries.append(res.as_dict())
            if res.status == "refused":  # the reasons follow, one line each
                done(f"{dc.name}: refused", ok=False)
            else:
                done(f"{dc.name}: {res.status}, version {res.version}, {res.rows:,} rows, "
                     f"key id {res.key_id}")
    return report_problems(problems(summaries))


def add_parsers(sub: Any) -> None:
    """Add ``publish`` to the ``lakehouse`` sub-commands."""
    p = sub.add_parser("publish", help="publish a dataset (or --all) after its gates")
    p.add_argument("dataset", nargs="?", help="e.g. gold.person_coverage")
    p.add_argument("--all", action="store_true", help="every dataset")
    p.add_argument("--snapshot-date", type=iso_date, default=None, metavar="YYYY-MM-DD",
                   help="the date the dataset describes (default: today in Taiwan)")
    p.add_argument("--run-id", default=None, help=RUN_ID_HELP)
    p.set_defaults(func=cmd_publish)
