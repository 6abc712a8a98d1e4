"""``lakehouse publish DATASET | --all``: build the candidate, pass every gate, publish; and
``lakehouse accept-change ZONE/TABLE VERSION --reason TEXT``: a steward's acceptance of a
change made to an input outside the pipeline, which the provenance gate otherwise refuses.

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
    caller,
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


ACCEPT_ROLES = ("steward",)
"""Who may accept a change made outside the pipeline (it lets the next publish through)."""


def cmd_accept_change(args: argparse.Namespace) -> int:
    """Accept one version of a feed's bronze or silver table written outside the pipeline
    (stewards). Refused before Spark starts for another role or a table of another zone."""
    who = caller()
    if who is None:
        return REFUSED
    if who.role not in ACCEPT_ROLES:
        fail(f"refused: role {who.role} may not accept changes to {args.table}: accepting a "
             "change is a steward's action (LAKEHOUSE_ROLE=steward)")
        return REFUSED
    zone, _, table = args.table.partition("/")
    if zone not in ("bronze", "silver") or not table:
        fail(f"{args.table}: name a feed's table as bronze/<feed> or silver/<table>, e.g. "
             "silver/moi.residents")
        return REFUSED
    if not args.reason.strip():
        fail("give the reason the change is accepted (--reason)")
        return REFUSED
    with out().status("starting Spark…"):
        from kernel.context import Context
        from stages.provenance import AcceptError, accept_change, rows_changed

        ctx = Context.create(args.run_id)
    try:
        commit = accept_change(ctx, zone, table, args.version, args.reason)
    except (AcceptError, ValueError) as exc:
        fail(f"{args.table}: {exc}")
        return REFUSED
    done(f"{args.table} version {commit.version} ({commit.operation}, {rows_changed(commit)}) "
         f"accepted by {ctx.actor}; recorded in system/acceptances and the audit log")
    return 0


def add_parsers(sub: Any) -> None:
    """Add ``publish`` and ``accept-change`` to the ``lakehouse`` sub-commands."""
    p = sub.add_parser("publish", help="publish a dataset (or --all) after its gates")
    p.add_argument("dataset", nargs="?", help="e.g. gold.person_coverage")
    p.add_argument("--all", action="store_true", help="every dataset")
    p.add_argument("--snapshot-date", type=iso_date, default=None, metavar="YYYY-MM-DD",
                   help="the date the dataset describes (default: today in Taiwan)")
    p.add_argument("--run-id", default=None, help=RUN_ID_HELP)
    p.set_defaults(func=cmd_publish)

    a = sub.add_parser("accept-change", help="accept a change made to a feed's table outside "
                       "the pipeline (stewards), so that the provenance gate lets it through")
    a.add_argument("table", help="bronze/<feed> or silver/<table>, e.g. silver/moi.residents")
    a.add_argument("version", type=int, help="the Delta version the publish refused")
    a.add_argument("--reason", required=True, help="why the change is accepted (audited)")
    a.add_argument("--run-id", default=None, help=RUN_ID_HELP)
    a.set_defaults(func=cmd_accept_change)
