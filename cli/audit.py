"""``lakehouse audit verify [--expect-head SEQ:HASH]``: the auditors' check of the audit log;
``lakehouse audit exchanges``: what other agencies asked of the data services.

It verifies the hash chain of ``<root>/system/audit/`` and that the log still reaches, unchanged,
every anchor a published version keeps in its commit metadata (``audit_anchor``), and the one
given with ``--expect-head`` (published elsewhere): a truncated or rewritten log is caught even
when its chain is consistent. One line: ``audit log ok: N entries`` (exit status 0; it also
counts the torn lines of crashed appends the log has sealed, and names a torn tail not sealed
yet: neither is tampering) or ``audit log NOT ok: …`` naming the first entry at fault (exit
status 1); a malformed ``--expect-head`` is a usage error (2). Read without a JVM (``deltalake``).

``audit exchanges [--agency A] [--client C] [--person-key K] [--since D] [--until D] [--json]``
lists the recorded exchanges of the data services (:mod:`services.exchanges`): when, which
client and agency, the endpoint, scope, purpose, consent, the ``person_key`` or dataset and
version asked about, the outcome; for an auditor or a steward (``LAKEHOUSE_ROLE``), refused for
any other role before the log is read.
"""

from __future__ import annotations

import argparse
import json
import re
from typing import TYPE_CHECKING, Any

from cli.common import REFUSED, fail, out

if TYPE_CHECKING:
    from kernel.config import Settings

ANCHOR = re.compile(r"[0-9]+:[0-9a-f]{64}")


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Verify the hash chain of the audit log, and that it reaches every anchor."""
    from audit.log import present, verify
    from kernel.config import Settings
    from kernel.layout import Layout

    if args.expect_head is not None and not ANCHOR.fullmatch(args.expect_head):
        fail("audit verify: --expect-head must be SEQ:HASH (hex SHA-256)")
        return REFUSED
    settings = Settings.from_env()
    folder = Layout(settings.root).audit_dir
    published = anchors(settings)
    expected = [("--expect-head", args.expect_head)] if args.expect_head else []
    for where, anchor in expected + published:
        seq, _, digest = anchor.partition(":")
        result = verify(folder, expected_head=(int(seq), digest))
        if not result.ok:
            print(f"audit log NOT ok: {result.reason} ({result.entries} entries verified "
                  f"before it); it does not reach the anchor of {where}")
            return 1
    result = verify(folder)
    if not result.ok:
        print(f"audit log NOT ok: {result.reason} ({result.entries} entries verified before it)")
        return 1
    missing = "" if present(folder) else f" (no audit log under {settings.root})"
    sealed = f" ({result.sealed} torn line(s) of crashed appends sealed)" if result.sealed else ""
    torn = f"; torn tail, not tampering: {result.torn}" if result.torn else ""
    print(f"audit log ok: {result.entries} entries{missing}{sealed}{torn}")
    if published:
        out().print(f"anchors checked: {len(published)} (the audit head each published "
                    "version recorded in its commit)")
    return 0


def anchors(settings: Settings) -> list[tuple[str, str]]:
    """(``dataset version N``, ``SEQ:HASH``) of every published version, read from the Delta
    logs without a JVM; the highest anchor first."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    from kernel import contracts
    from kernel.layout import Layout

    found: list[tuple[int, str, str]] = []
    layout = Layout(settings.root)
    for dc in contracts.datasets():
        try:
            history = DeltaTable(layout.delta_uri(dc.zone, dc.table)).history()
        except TableNotFoundError:
            continue
        for commit in history:
            raw = commit.get("userMetadata")
            try:
                anchor = json.loads(raw).get("audit_anchor") if raw else None
            except ValueError:
                anchor = None
            if anchor:
                found.append((int(anchor.split(":")[0]),
                              f"{dc.name} version {commit.get('version')}", anchor))
    return [(w, a) for _, w, a in sorted(found, reverse=True)]


EXCHANGE_ROLES = ("auditor", "steward")
PERSON_KEY = re.compile(r"[0-9a-f]{64}")


def cmd_audit_exchanges(args: argparse.Namespace) -> int:
    """List the data services' exchanges matching the filters."""
    from cli.common import caller
    from kernel.config import Settings
    from kernel.layout import Layout
    from services.exchanges import exchanges

    who = caller()
    if who is None:
        return REFUSED
    if who.role not in EXCHANGE_ROLES:
        fail(f"refused: role {who.role} may not list the exchanges (roles: "
             f"{', '.join(EXCHANGE_ROLES)})")
        return REFUSED
    if args.person_key is not None and not PERSON_KEY.fullmatch(args.person_key):
        fail("audit exchanges: --person-key must be 64 lowercase hex digits (a person_key, "
             "never an identifier)")
        return REFUSED
    folder = Layout(Settings.from_env().root).audit_dir
    found = list(exchanges(folder, agency=args.agency, client=args.client,
                           person_key=args.person_key, since=args.since, until=args.until))
    if args.json:
        print(json.dumps([{"at": e.at, "seq": e.seq, **e.details} for e in found],
                         ensure_ascii=False, indent=1))
        return 0
    _exchange_table(found)
    return 0


def _exchange_table(found: list[Any]) -> None:
    """One line per exchange, in log order: when (UTC), client, what (scope, else endpoint),
    why (purpose and consent), about whom or what (the person_key's first 12 digits, or dataset
    and version), outcome and status, a refusal's reason; then the count."""
    for e in found:
        d = e.details
        about = (f"person_key {d['person_key'][:12]}…" if "person_key" in d
                 else f"{d['dataset']} v{d.get('version', '?')}" if "dataset" in d else "-")
        why = "/".join(x for x in (d.get("purpose"), d.get("consent")) if x) or "-"
        print(f"{e.at[:19].replace('T', ' ')}  {d.get('client', '?')}  "
              f"{d.get('scope') or d.get('endpoint', '?')}  {why}  {about}  "
              f"{d.get('outcome', '?')} {d.get('status', '')}"
              + (f" ({d['reason']})" if d.get("reason") else ""))
    out().print(f"{len(found)} exchange(s)")


def add_parsers(sub: Any) -> None:
    """Add ``audit verify`` and ``audit exchanges`` to the ``lakehouse`` sub-commands."""
    from cli.common import iso_date

    a = sub.add_parser("audit", help="verify the hash-chained audit log; list exchanges")
    actions = a.add_subparsers(dest="action", required=True, metavar="{verify,exchanges}")
    x = actions.add_parser("exchanges", help="the data services' exchanges (auditor, steward)")
    x.add_argument("--agency", help="only this agency (as registered)")
    x.add_argument("--client", help="only this client id")
    x.add_argument("--person-key", help="only exchanges about this person_key")
    x.add_argument("--since", type=iso_date, metavar="YYYY-MM-DD", help="from this UTC day")
    x.add_argument("--until", type=iso_date, metavar="YYYY-MM-DD", help="to this UTC day")
    x.add_argument("--json", action="store_true", help="JSON instead of a table")
    x.set_defaults(func=cmd_audit_exchanges)
    v = actions.add_parser("verify", help="the chain, and every published version's anchor")
    v.add_argument("--expect-head", metavar="SEQ:HASH", default=None,
                   help="an anchor published elsewhere: the log must reach it unchanged")
    v.set_defaults(func=cmd_audit_verify)
