"""``lakehouse audit verify [--expect-head SEQ:HASH]``: the auditors' check of the audit log.

It verifies the hash chain of ``<root>/system/audit/`` and that the log still reaches, unchanged,
every anchor a published version keeps in its commit metadata (``audit_anchor``), and the one
given with ``--expect-head`` (published elsewhere): a truncated or rewritten log is caught even
when its chain is consistent. One line: ``audit log ok: N entries`` (exit status 0; it also
counts the torn lines of crashed appends the log has sealed, and names a torn tail not sealed
yet: neither is tampering) or ``audit log NOT ok: …`` naming the first entry at fault (exit
status 1); a malformed ``--expect-head`` is a usage error (2). Read without a JVM (``deltalake``).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.common import REFUSED, fail, out

if TYPE_CHECKING:
    from kernel.config import Settings

ANCHOR = re.compile(r"[0-9]+:[0-9a-f]{64}")


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Verify the hash chain of the audit log, and that it reaches every anchor."""
    from audit.log import verify
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
    missing = "" if folder.is_dir() else f" (no audit log under {settings.root})"
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

    from kernel import contracts

    found: list[tuple[int, str, str]] = []
    for dc in contracts.datasets():
        path = Path(settings.root) / dc.zone / dc.table
        if not (path / "_delta_log").is_dir():
            continue
        for commit in DeltaTable(str(path)).history():
            raw = commit.get("userMetadata")
            try:
                anchor = json.loads(raw).get("audit_anchor") if raw else None
            except ValueError:
                anchor = None
            if anchor:
                found.append((int(anchor.split(":")[0]),
                              f"{dc.name} version {commit.get('version')}", anchor))
    return [(w, a) for _, w, a in sorted(found, reverse=True)]


def add_parsers(sub: Any) -> None:
    """Add ``audit verify`` to the ``lakehouse`` sub-commands."""
    a = sub.add_parser("audit", help="verify the hash-chained audit log")
    actions = a.add_subparsers(dest="action", required=True, metavar="{verify}")
    v = actions.add_parser("verify", help="the chain, and every published version's anchor")
    v.add_argument("--expect-head", metavar="SEQ:HASH", default=None,
                   help="an anchor published elsewhere: the log must reach it unchanged")
    v.set_defaults(func=cmd_audit_verify)
