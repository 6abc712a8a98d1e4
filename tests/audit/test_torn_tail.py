"""A torn audit line: an append killed half-way (``LAKEHOUSE_FAULT=audit.torn``, a real
``SIGKILL``) leaves half an entry at the end of the log. ``verify`` tells it from tampering,
readers skip it, the next append seals it (an ``audit_sealed`` entry naming the torn bytes), and
any later change to the sealed bytes, or their removal, is damage again."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from audit.log import AuditLog, canonical_json, entries, head, verify
from kernel.config import REPO_ROOT

DAY = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
FILE = "audit-2026-11-27.jsonl"
KILLED = -9
_APPEND = (
    "import sys; from datetime import datetime, UTC; from audit.log import AuditLog; "
    "AuditLog(sys.argv[1]).append('publish', 'steward:alice', {'dataset': 'gold.x'}, "
    "at=datetime(2026, 11, 27, 10, 0, tzinfo=UTC))"
)


def _torn(folder: Path, entries_before: int = 3) -> bytes:
    """A log of ``entries_before`` entries whose next append was killed half-way by the
    fault point in a new process; the torn bytes it left."""
    log = AuditLog(folder)
    for i in range(entries_before):
        log.append("run", "airflow", {"i": i}, at=DAY + timedelta(minutes=i))
    before = (folder / FILE).read_bytes()
    done = subprocess.run([sys.executable, "-c", _APPEND, str(folder)], cwd=REPO_ROOT,
                          env={**os.environ, "LAKEHOUSE_FAULT": "audit.torn"},
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == KILLED, done.stderr
    after = (folder / FILE).read_bytes()
    assert after.startswith(before) and len(after) > len(before)
    torn = after[len(before):]
    assert not torn.endswith(b"\n") and torn.startswith(b'{"action":"publish"')
    return torn


def _cli_verify(root: Path) -> tuple[int, str]:
    exe = Path(sys.executable).with_name("lakehouse")
    done = subprocess.run([str(exe), "audit", "verify"], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "LAKEHOUSE_ROOT": str(root)})
    return done.returncode, done.stdout


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "lakehouse"


@pytest.fixture
def folder(root: Path) -> Path:
    return root / "system" / "audit"


def test_a_torn_tail_is_told_from_tampering_and_skipped_by_readers(root: Path,
                                                                  folder: Path) -> None:
    torn = _torn(folder)
    result = verify(folder)
    why = (f"{FILE} line 4: an append cut short by a crash ({len(torn)} bytes, not an entry); "
           "the next append seals it")
    assert (result.ok, result.entries, result.torn, result.sealed) == (True, 3, why, 0)
    assert [e.seq for e in entries(folder)] == [1, 2, 3]
    assert head(folder)[0] == 3
    assert _cli_verify(root) == (0, f"audit log ok: 3 entries; torn tail, not tampering: {why}\n")


def test_the_next_append_seals_the_torn_line_and_keeps_its_bytes(root: Path,
                                                                folder: Path) -> None:
    torn = _torn(folder)
    (_, last_hash) = head(folder)
    entry = AuditLog(folder).append("run", "airflow", {"after": "crash"},
                                    at=DAY + timedelta(hours=2))
    text = (folder / FILE).read_bytes()
    lines = text.split(b"\n")
    assert text.endswith(b"\n") and lines[3] == torn  # the torn bytes stay, on their own line
    seal = json.loads(lines[4])
    assert (seal["seq"], seal["action"], seal["actor"], seal["prev_hash"]) == (
        4, "audit_sealed", "airflow", last_hash)
    assert seal["details"]["fragments"] == [{
        "file": FILE, "line": 4, "bytes": len(torn),
        "sha256": hashlib.sha256(torn.decode("utf-8", errors="replace").encode()).hexdigest()}]
    assert (entry.seq, entry.prev_hash) == (5, seal["hash"])
    assert [e.action for e in entries(folder)] == ["run"] * 3 + ["audit_sealed", "run"]
    assert (verify(folder).ok, verify(folder).entries, verify(folder).sealed) == (True, 5, 1)
    assert verify(folder, expected_head=head(folder)).ok
    assert _cli_verify(root) == (
        0, "audit log ok: 5 entries (1 torn line(s) of crashed appends sealed)\n")


def test_sealed_bytes_changed_or_removed_are_tampering(folder: Path) -> None:
    _torn(folder)
    AuditLog(folder).append("run", "airflow", {"after": "crash"}, at=DAY + timedelta(hours=2))
    path = folder / FILE
    lines = path.read_text(encoding="utf-8").splitlines()
    changed = [*lines[:3], lines[3].replace("publish", "publisx"), *lines[4:]]
    path.write_text("".join(f"{line}\n" for line in changed), encoding="utf-8")
    result = verify(folder)
    assert (result.ok, result.first_bad, result.reason) == (
        False, 4, f"{FILE} line 4 (seq ?): not valid JSON (truncated or corrupted line)")
    removed = [*lines[:3], *lines[4:]]
    path.write_text("".join(f"{line}\n" for line in removed), encoding="utf-8")
    result = verify(folder)
    assert (result.ok, result.first_bad, result.reason) == (
        False, 4, f"{FILE} line 4 (seq 4): a seal with no torn line before it (sealed lines "
        "removed)")


def test_a_complete_entry_without_its_newline_is_ended_not_sealed(folder: Path) -> None:
    log = AuditLog(folder)
    log.append("run", "airflow", {"i": 1}, at=DAY)
    path = folder / FILE
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # torn exactly before the newline
    assert verify(folder).ok and verify(folder).torn is None
    log.append("run", "airflow", {"i": 2}, at=DAY)
    assert [json.loads(line)["seq"] for line in path.read_text().splitlines()] == [1, 2]
    assert verify(folder).sealed == 0 and verify(folder).entries == 2


def test_a_crash_while_sealing_is_sealed_by_the_append_after_it(folder: Path) -> None:
    """Two torn lines in a row (the seal itself cut short): one seal names both."""
    first = _torn(folder)
    path = folder / FILE
    path.write_bytes(path.read_bytes() + b"\n" + b'{"action":"audit_sea')  # the seal, torn
    AuditLog(folder).append("run", "airflow", {"i": 9}, at=DAY + timedelta(hours=3))
    (seal,) = [e for e in entries(folder) if e.action == "audit_sealed"]
    assert [(f["line"], f["bytes"]) for f in seal.details["fragments"]] == [
        (4, len(first)), (5, len('{"action":"audit_sea'))]
    assert (verify(folder).ok, verify(folder).sealed, verify(folder).entries) == (True, 2, 5)
    assert canonical_json(seal.details["reason"]).startswith('"an append cut short')
