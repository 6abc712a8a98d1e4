"""``lakehouse audit verify``: one line, exit 0 when the chain holds, 1 when it does not reach
an anchor (a truncated log)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from audit.log import AuditLog, head
from cli.main import main
from kernel.layout import Layout

DAY = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def test_verify_prints_one_line(root: str, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LAKEHOUSE_ROOT", root)
    folder = Layout(root).audit_dir
    log = AuditLog(folder)
    for i in range(3):
        log.append("run", "steward:alice", {"i": i}, at=DAY + timedelta(minutes=i))
    seq, digest = head(folder)
    assert main(["audit", "verify", "--expect-head", f"{seq}:{digest}"]) == 0
    assert capsys.readouterr().out == "audit log ok: 3 entries\n"
    path = Path(folder) / "audit-2026-11-27.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("".join(line + "\n" for line in lines[:-1]), encoding="utf-8")
    assert main(["audit", "verify", "--expect-head", f"{seq}:{digest}"]) == 1
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("audit log NOT ok: log ends at seq 2")
    assert main(["audit", "verify"]) == 0  # a cut tail is a valid shorter chain
    assert main(["audit", "verify", "--expect-head", "3:nothex"]) == 2


def _lakehouse(root: str, *args: str) -> tuple[int, str]:
    """``lakehouse ARGS`` as a new process on ``root``: exit status and standard output."""
    import os
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("lakehouse")
    done = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "LAKEHOUSE_ROOT": root})
    return done.returncode, done.stdout


def test_verify_from_the_command_line_against_a_published_anchor(
        ctx, root: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real publish keeps the audit head in its commit; a log cut short before that head, or
    an entry rewritten, is NOT ok (exit 1, one line naming where it breaks)."""
    import datetime as dt
    import json

    from jobs import residents_coverage
    from kernel import contracts
    from sandbox.generate import generate
    from stages.feed import run_feed
    from stages.publish import publish

    monkeypatch.setenv("LAKEHOUSE_PSEUDONYM_KEY", "audit-cli-test-key-0123456789-abcdefghij")
    generate(Path(root), feeds=["moi.household_registry"], persons=15, seed=3, days=1)
    run_feed(ctx, contracts.feed("moi.household_registry"))
    res = publish(ctx, residents_coverage.contract(), dt.date(2024, 12, 1))
    assert res.status == "published"
    anchor = ctx.storage.commit_metadata("gold", "person_coverage")["audit_anchor"]
    seq = int(anchor.split(":")[0])
    files = sorted(Path(Layout(root).audit_dir).glob("audit-*.jsonl"))  # one a day (UTC)
    kept = {f: f.read_text(encoding="utf-8") for f in files}
    lines = [(f, n, line) for f in files
             for n, line in enumerate(kept[f].splitlines(), start=1)]

    assert _lakehouse(root, "audit", "verify") == (
        0, f"audit log ok: {len(lines)} entries\nanchors checked: 1 (the audit head each "
           "published version recorded in its commit)\n")

    where, number, second = lines[1]  # seq 2, rewritten without its hashes
    rewritten = json.loads(second)
    rewritten["details"]["run_id"] = "another-run"
    body = kept[where].splitlines()
    body[number - 1] = json.dumps(rewritten, ensure_ascii=False)
    where.write_text("\n".join(body) + "\n", encoding="utf-8")
    assert _lakehouse(root, "audit", "verify") == (
        1, f"audit log NOT ok: {where.name} line {number} (seq 2): hash does not match its "
           f"content (1 entries verified before it); it does not reach the anchor of "
           f"{res.dataset} version 0\n")

    for f in files:  # cut short before the anchored head: the first seq - 1 entries kept
        f.write_text("".join(line + "\n" for g, _, line in lines[:seq - 1] if g == f),
                     encoding="utf-8")
    assert _lakehouse(root, "audit", "verify") == (
        1, f"audit log NOT ok: log ends at seq {seq - 1}, before the anchored head seq {seq} "
           f"(truncated) ({seq - 1} entries verified before it); it does not reach the anchor "
           f"of {res.dataset} version 0\n")
