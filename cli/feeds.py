"""``lakehouse run`` and ``lakehouse quarantine list|show|release``: a feed's deliveries.

``run`` calls the same function as the Airflow tasks (:func:`stages.feed.run_stage`): a refused
delivery or a failed gate is one line naming feed, file and reason, and the exit status is 1.
``quarantine`` is a steward's work (quarantined records are personal data as delivered): any
other role is refused before anything starts, then the feed is looked up, then Spark starts.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.common import (
    REFUSED,
    RUN_ID_HELP,
    caller,
    done,
    fail,
    note,
    out,
    problems,
    report_problems,
)

if TYPE_CHECKING:
    from kernel.context import Context
    from kernel.contracts import FeedContract

QUARANTINE_ROLES = ("steward",)
"""Who may list, show and release quarantined records (the readers of the quarantine zone)."""


# ----------------------------------------------------------------------------- run
def cmd_run(args: argparse.Namespace) -> int:
    """Run every pending delivery of one feed (or all) through land, bronze and silver."""
    from kernel import contracts

    if bool(args.feed) == bool(args.all):
        fail("name a feed or give --all, not both" if args.all else "name a feed or give --all")
        return REFUSED
    try:
        feeds = contracts.feeds() if args.all else [contracts.feed(args.feed)]
    except KeyError as exc:
        fail(str(exc.args[0]))
        return REFUSED
    summaries: list[dict[str, Any]] = []
    with out().status("starting Spark…") as status:
        from kernel.context import Context
        from stages.feed import STAGES, run_stage

        ctx = Context.create(args.run_id)
        for fc in feeds:
            for stage in STAGES:
                status.update(f"{fc.name}: {stage}…")
                res = run_stage(ctx, fc, stage)
                summaries.append(res.as_dict())
                counts = ", ".join(f"{k} {v:,}" for k, v in sorted(res.counts.items()))
                done(f"{fc.name} {stage}: {res.batches} batch(es), {res.rows:,} rows"
                     f"{'; ' + counts if counts else ''}")
                for line in res.notes:
                    note(str(line))
    _quality_report(ctx.run_id)
    return report_problems(problems(summaries))


def _quality_report(run_id: str) -> None:
    """The steward's HTML quality report of the run and the index (as the Airflow task)."""
    from stages.tasks import write_quality_report

    page = write_quality_report(run_id)
    if page:
        out().print(f"quality report: {page}")


# ----------------------------------------------------------------------------- quarantine
def _steward(args: argparse.Namespace) -> bool:
    """True when the caller may do ``args.action`` on the feed's quarantine; else one
    ``refused:`` line naming the role (the first check: before the feed or Spark)."""
    from analytics.catalog import sql_name
    from analytics.roles import refusal

    who = caller()
    if who is None:
        return False
    if who.role in QUARANTINE_ROLES:
        return True
    if args.action == "release":
        fail(f"refused: role {who.role} may not release quarantined records of {args.feed}: "
             f"a release is a steward's action (LAKEHOUSE_ROLE=steward)")
    else:
        fail(f"refused: {refusal(who.role, sql_name('quarantine', args.feed), 'quarantine')}")
    return False


def cmd_quarantine(args: argparse.Namespace) -> int:
    """List, show or release quarantined records of a feed (stewards). Refused in this order,
    before Spark starts: the caller's role, the request (rows to release, the corrections
    file), an unknown feed."""
    from kernel import contracts

    if not _steward(args):
        return REFUSED
    if args.action == "release" and (problem := _release_request(args)):
        fail(f"{args.feed}: {problem}")
        return REFUSED
    try:
        fc = contracts.feed(args.feed)
    except KeyError as exc:
        fail(str(exc.args[0]))
        return REFUSED
    with out().status("starting Spark…"):
        from kernel.context import Context

        ctx = Context.create(args.run_id)
    if args.action == "list":
        return _list(ctx, fc)
    if args.action == "show":
        return _show(ctx, fc, args.batch, args.rule, args.limit)
    return _release(ctx, fc, args.batch, args.rows or [], args.reason, args.corrections)


def _release_request(args: argparse.Namespace) -> str | None:
    """What is missing from a release request, found without Spark (``None``: nothing)."""
    if not args.rows and args.corrections is None:
        return "name the rows to release (--rows) or give corrections (--corrections)"
    if args.corrections is not None and not args.corrections.is_file():
        return f"no corrections file {args.corrections}"
    return None


def row_numbers(text: str) -> list[int]:
    """``--rows 17,42``: source row numbers (an argument type: a usage error otherwise)."""
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of row numbers (e.g. 17,42)") from None


def _list(ctx: Context, fc: FeedContract) -> int:
    from rich.table import Table

    from stages import quarantine

    table = Table(title=f"quarantine of {fc.name}")
    for col in ("batch", "rule", "open", "released"):
        table.add_column(col, justify="right" if col in ("open", "released") else "left")
    rows = quarantine.summary(ctx, fc)
    for batch, rule, n_open, n_released in rows:
        table.add_row(batch, rule, f"{n_open:,}", f"{n_released:,}")
    out().print(table if rows else f"nothing quarantined in {fc.name}")
    return 0


def _show(ctx: Context, fc: FeedContract, batch: str | None, rule: str | None,
          limit: int) -> int:
    from rich.table import Table

    from stages import quarantine

    shown = quarantine.show(ctx, fc, batch, rule, limit)
    cols = ["_batch_id", "_source_row", "_rule_ids", *[f.name for f in fc.fields], "_raw_record"]
    table = Table(title=f"open quarantined rows of {fc.name} (personal data: stewards only)")
    for c in cols:
        table.add_column(c)
    for r in shown:
        table.add_row(*[", ".join(v) if isinstance(v, list) else ("" if v is None else str(v))
                        for v in (r.get(c) for c in cols)])
    out().print(table)
    return 0


def _release(ctx: Context, fc: FeedContract, batch: str, rows: list[int], reason: str,
             corrections: Path | None) -> int:
    """Release the rows, then validate them at once (the silver stage of the feed)."""
    from stages import quarantine
    from stages.feed import run_stage

    try:
        with out().status("releasing…"):
            res = quarantine.release(ctx, fc, batch, rows, reason, corrections)
    except quarantine.ReleaseError as exc:
        fail(f"{fc.name}: {exc}")
        return 1
    done(f"released {res.rows} row(s) of {res.batch_id} as {res.release_id} (corrected: "
         f"{', '.join(res.corrected_columns) or 'none'}); validating them now…")
    result = run_stage(ctx, fc, "silver")
    counts = result.counts
    done(f"{counts.get('silver_rows', 0)} row(s) reached silver, "
         f"{counts.get('quarantined', 0)} quarantined again, "
         f"{counts.get('duplicates', 0)} duplicate(s)")
    return report_problems([str(p) for p in result.problems])


# ----------------------------------------------------------------------------- wiring
def add_parsers(sub: Any) -> None:
    """Add ``run`` and ``quarantine list|show|release`` to the ``lakehouse`` sub-commands."""
    r = sub.add_parser("run", help="ingest every pending delivery of a feed (or --all)")
    r.add_argument("feed", nargs="?", help="e.g. moi.household_registry")
    r.add_argument("--all", action="store_true", help="every feed")
    r.add_argument("--run-id", default=None, help=RUN_ID_HELP)
    r.set_defaults(func=cmd_run)

    q = sub.add_parser("quarantine", help="list, show or release quarantined records (stewards)")
    actions = q.add_subparsers(dest="action", required=True, metavar="{list,show,release}")
    parsers = {}
    for action, text in (
            ("list", "counts per batch and rule"),
            ("show", "open quarantined records as delivered (personal data; audited)"),
            ("release", "send rows back through the pipeline, validated at once (audited)")):
        p = parsers[action] = actions.add_parser(action, help=text)
        p.add_argument("feed", help="e.g. moi.household_registry")
        p.add_argument("--run-id", default=None, help=RUN_ID_HELP)
        p.set_defaults(func=cmd_quarantine)
    parsers["show"].add_argument("--batch", help="only this batch id")
    parsers["show"].add_argument("--rule", help="only rows failing this rule id")
    parsers["show"].add_argument("--limit", type=int, default=20, help="rows shown (20)")
    rl = parsers["release"]
    rl.add_argument("--batch", required=True, help="the batch id of the rows")
    rl.add_argument("--rows", type=row_numbers, help="source row numbers, comma separated")
    rl.add_argument("--corrections", type=Path,
                    help="a UTF-8 CSV with _source_row and the fields to correct")
    rl.add_argument("--reason", required=True, help="why (recorded with who and when)")
