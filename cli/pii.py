"""``lakehouse scan-pii``, ``lakehouse eval-pii`` and ``lakehouse reidentify``: personal data.

- ``scan-pii TABLE_OR_PATH`` runs the leak gate's scan (:func:`masking.scan.scan_path`) on a
  table or a Delta/CSV/Parquet path: one tab-separated line per finding on standard output
  (dataset, column, entity, rows; never a value); exit status 1 when anything is found, 0 when
  clean, 2 when the input cannot be read.
- ``eval-pii [PATH] [--errors]`` scores the recognizers per entity on the labelled sets
  (:func:`masking.evaluate.run`): the independent set first (the headline), then the original
  one, or ``PATH`` alone; each whole and its holdout part; exit status 1 when a target is missed
  on any of them.
- ``reidentify PERSON_KEY --reason WHY`` is a steward's audited action
  (:func:`masking.reidentify.reidentify`). Refused, before Spark starts, in this order: a role
  that is not a steward's (whatever the key), a malformed person_key or reason, then a missing
  key (``refusing to re-identify: no pseudonymisation key …``); exit status 2.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from cli.common import REFUSED, RUN_ID_HELP, caller, fail, out

if TYPE_CHECKING:
    from pathlib import Path

    from rich.table import Table

    from masking.evaluate import Scores


# ----------------------------------------------------------------------------- scan-pii
def cmd_scan_pii(args: argparse.Namespace) -> int:
    """Scan a table or file for personal data (dataset, column, entity, count; no values)."""
    import sys

    from kernel.config import Settings
    from kernel.spark import session
    from masking.scan import ScanInputError, resolve, scan_path

    settings = Settings.from_env()
    root = args.root or settings.root
    notes: list[str] = []
    try:
        resolve(args.target, root)  # a missing input is told before Spark starts
        findings = scan_path(session(settings, app_name="scan-pii"), args.target, root, notes)
    except ScanInputError as exc:
        fail(f"scan-pii: {exc}")
        return REFUSED
    for line in notes:
        print(f"note: {line}", file=sys.stderr)
    for f in findings:  # plain tab-separated lines: for people and for scripts
        print(f"{f.dataset}\t{f.column}\t{f.entity}\t{f.count}")
    if not findings:
        print(f"{args.target}: no personal data found", file=sys.stderr)
    return 1 if findings else 0


# ----------------------------------------------------------------------------- eval-pii
def cmd_eval_pii(args: argparse.Namespace) -> int:
    """Precision and recall of the Taiwan PII recognizers on the labelled evaluation sets: the
    independent set (the headline) and the original one, or ``args.path`` alone; 1 when a target
    is missed on any set or split."""
    from pathlib import Path

    from masking.evaluate import shipped_sets

    paths = [Path(args.path)] if args.path else shipped_sets()
    missed = [_eval_one(path, args.errors) for path in paths]
    if any(missed):
        return 1
    out().print("all targets met")
    return 0


def _eval_one(path: Path, errors: bool) -> bool:
    """Print the tables of one labelled set (whole and holdout); True when a target is missed."""
    from masking.evaluate import SPLITS, missed_targets, run

    con = out()
    result = run(path)
    scores = {split: result.scores(split) for split in SPLITS}
    for split in SPLITS:
        con.print(_scores_table(f"{result.path.name}: {split} ({result.texts(split)} texts)",
                                scores[split]))
    rate = len(result.records) / result.seconds if result.seconds else float("inf")
    con.print(f"analyzed {len(result.records)} texts in {result.seconds:.2f} s ({rate:.0f} "
              "texts/s)")
    if errors:
        for kind, record, span in result.errors():
            con.print(f"{kind} #{record.id} {span.entity} "
                      f"{record.text[span.start:span.end]!r} in {record.text!r}", markup=False)
    missed = {split: missed_targets(s) for split, s in scores.items()}
    for split, entities in missed.items():
        if entities:
            con.print(f"[red]{result.path.name}: targets missed ({split}): "
                      f"{', '.join(entities)}[/red]")
    return any(missed.values())


def _scores_table(title: str, scores: dict[str, Scores]) -> Table:
    from rich.table import Table

    from masking.evaluate import TARGETS

    table = Table(title=title)
    for col in ("entity", "precision", "recall", "tp", "fp", "fn", "target P/R", "ok"):
        table.add_column(col, justify="left" if col == "entity" else "right")
    for entity, s in scores.items():
        target = TARGETS.get(entity)
        ok = "—" if target is None else ("yes" if s.meets(target) else "[red]NO[/red]")
        table.add_row(entity, f"{s.precision:.3f}", f"{s.recall:.3f}", str(s.tp), str(s.fp),
                      str(s.fn), f"{target[0]:.2f}/{target[1]:.2f}" if target else "", ok)
    return table


# ----------------------------------------------------------------------------- reidentify
def cmd_reidentify(args: argparse.Namespace) -> int:
    """A steward's re-identification of a person_key (audited: who, when, why, key id)."""
    from masking.keys import REIDENTIFY, MissingKeyError, PseudonymKey
    from masking.reidentify import ReidentificationRefused, check_request, reidentify

    who = caller()
    if who is None:
        return REFUSED
    try:
        check_request(args.person_key, args.reason, who.role)
        key = PseudonymKey.from_env(action=REIDENTIFY)
    except ReidentificationRefused as exc:
        fail(f"refused: {exc}")
        return REFUSED
    except MissingKeyError as exc:
        fail(str(exc))
        return REFUSED
    with out().status("searching the silver zone…"):
        from kernel.context import Context

        ctx = Context.create(args.run_id)
        matches = reidentify(ctx, args.person_key, args.reason, key, who.role)
    if not matches:
        fail(f"no person has this person_key under key id {key.key_id} (recorded in the "
             "audit log)")
        return 1
    for m in matches:
        print(f"{m.national_id}\t{', '.join(m.tables)}")
    return 0


# ----------------------------------------------------------------------------- wiring
def add_parsers(sub: Any) -> None:
    """Add ``scan-pii``, ``eval-pii`` and ``reidentify`` to the ``lakehouse`` sub-commands."""
    sp = sub.add_parser("scan-pii", help="scan a table or file for personal data (no values)")
    sp.add_argument("target", help="a table (gold.person_coverage) or a Delta/CSV/Parquet path")
    sp.add_argument("--root", help="storage root (default: $LAKEHOUSE_ROOT)")
    sp.set_defaults(func=cmd_scan_pii)

    ev = sub.add_parser("eval-pii", help="precision/recall of the PII recognizers per entity")
    ev.add_argument("path", nargs="?",
                    help="a labelled JSONL set (default: the independent and the original set)")
    ev.add_argument("--errors", action="store_true", help="also list the misses (stewards)")
    ev.set_defaults(func=cmd_eval_pii)

    ri = sub.add_parser("reidentify", help="a person_key back to the person (stewards; audited)")
    ri.add_argument("person_key", help="64 hexadecimal digits, as published")
    ri.add_argument("--reason", required=True, help="why (kept in the audit log; no personal data)")
    ri.add_argument("--run-id", default=None, help=RUN_ID_HELP)
    ri.set_defaults(func=cmd_reidentify)
