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
