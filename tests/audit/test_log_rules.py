"""The audit log's rules to the letter: exact results, exact messages, exact bytes.

``test_log.py`` shows that tampering is detected and ``test_torn_tail.py`` that a crashed append
is told from tampering; this module pins down *what exactly* each outcome is, with every stored
line and hash computed here independently (``hashlib`` over canonical JSON):

- every :class:`VerifyResult` is compared whole (``ok``, ``entries``, ``first_bad``, ``reason``,
  ``sealed``, ``torn``), for the anchor rules, a broken first line, lines that are JSON but not
  entries, consistent forgeries and a truncated log that also has sealed and torn lines;
- refusals name the place (``details.a.b[0].c``, ``a key of details``, ``actor``) and the kind of
  value, never the value, and every other refusal of :meth:`AuditLog.append` has its exact text;
- the tail is found from the end of the newest file: past an empty newest file, through an entry
  longer than the read-back chunk, and a damaged last line is refused with its file named;
- a crash in the first appends, a stray blank last line and a cut inside a multi-byte character
  are sealed in place, with the exact seal written; only an ``audit_sealed`` entry seals;
- times are UTC whatever the machine's zone, and time never goes back when the clock does;
- reading a log that does not exist creates nothing; the fault point tears only lines of two
  bytes or more, at half their length.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from audit.log import (
    AuditLog,
    AuditLogCorrupted,
    LocalFiles,
    VerifyResult,
    entries,
    head,
    verify,
)
from kernel.config import REPO_ROOT

FILE = "audit-2026-11-27.jsonl"
NEXT_DAY = "audit-2026-11-28.jsonl"
GENESIS = "0" * 64
DAY = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
LATER = "2026-11-27T10:30:00.000000Z"  # DAY + 1 hour, as stored
SEAL_REASON = "an append cut short by a crash: its bytes kept, not an entry"
NOT_SHOWN = "; audit entries must not hold personal values (the value is not shown)"
NOT_JSON = "not valid JSON (truncated or corrupted line)"


def _canonical(obj: object) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _entry(
    seq: int,
    prev: str,
    *,
    at: str = "2026-11-27T09:30:00.000000Z",
    action: str = "run",
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A stored entry, its hash computed here: SHA-256 of the canonical JSON without ``hash``."""
    body = {
        "seq": seq,
        "at": at,
        "actor": "airflow",
        "action": action,
        "details": {} if details is None else details,
        "prev_hash": prev,
    }
    return {**body, "hash": hashlib.sha256(_canonical(body).encode("utf-8")).hexdigest()}


def _chain(n: int, note: str | None = None) -> list[dict[str, Any]]:
    """``n`` linked entries one minute apart from 09:30 on 2026-11-27."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        details: dict[str, Any] = {"i": i} if note is None else {"i": i, "note": note}
        prev = out[-1]["hash"] if out else GENESIS
        out.append(_entry(i + 1, prev, at=f"2026-11-27T09:3{i}:00.000000Z", details=details))
    return out


def _raw(*objs: object) -> bytes:
    return b"".join((_canonical(obj) + "\n").encode("utf-8") for obj in objs)


def _half(obj: object) -> bytes:
    """What an append killed half-way leaves: the first half of the line's bytes."""
    data = _raw(obj)
    return data[: len(data) // 2]


def _store(folder: Path, data: bytes, name: str = FILE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder / name


def _fragment(line: int, raw: bytes) -> dict[str, Any]:
    """How a seal names a torn line (its text as read: a cut UTF-8 sequence replaced)."""
    text = raw.decode("utf-8", errors="replace").encode("utf-8")
    return {
        "file": FILE,
        "line": line,
        "bytes": len(text),
        "sha256": hashlib.sha256(text).hexdigest(),
    }


def _torn(line: int, size: int) -> str:
    return (
        f"{FILE} line {line}: an append cut short by a crash ({size} bytes, not an entry); "
        "the next append seals it"
    )


def _seal(seq: int, prev: str, *fragments: dict[str, Any]) -> dict[str, Any]:
    details = {"fragments": list(fragments), "reason": SEAL_REASON}
    return _entry(seq, prev, at=LATER, action="audit_sealed", details=details)


def test_an_anchor_at_seq_zero_must_carry_the_genesis_hash(tmp_path: Path) -> None:
    """The empty log's anchor is ``(0, GENESIS)``; any other hash at seq 0 is refused."""
    _store(tmp_path, _raw(*_chain(2)))
    assert verify(tmp_path, expected_head=(0, "f" * 64)) == VerifyResult(
        False, 0, 1, "an anchor at seq 0 must carry the genesis hash"
    )
    assert verify(tmp_path, expected_head=(0, GENESIS)) == VerifyResult(True, 2)


def test_reading_a_missing_log_creates_nothing(tmp_path: Path) -> None:
    """Readers of a log that does not exist see it empty and create no folder or lock file."""
    folder = tmp_path / "system" / "audit"
    assert list(entries(folder)) == []
    assert head(folder) == (0, GENESIS)
    assert verify(folder) == VerifyResult(True, 0)
    assert verify(folder, expected_head=(3, "a" * 64)) == VerifyResult(
        False, 0, 1, "log ends at seq 0, before the anchored head seq 3 (truncated)"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_truncated_log_still_counts_its_sealed_and_torn_lines(tmp_path: Path) -> None:
    """The truncation result keeps ``sealed`` and ``torn``: both describe the log as read."""
    log = AuditLog(tmp_path)
    for i in range(2):
        log.append("run", "airflow", {"i": i}, at=DAY + timedelta(minutes=i))
    first_torn = _half(_entry(3, GENESIS, action="publish"))
    with (tmp_path / FILE).open("ab") as f:
        f.write(first_torn)
    log.append("run", "airflow", {"i": 2}, at=DAY + timedelta(hours=1))  # seal 3, entry 4
    second_torn = _half(_entry(5, GENESIS, action="publish"))
    with (tmp_path / FILE).open("ab") as f:
        f.write(second_torn)
    assert verify(tmp_path, expected_head=(6, "b" * 64)) == VerifyResult(
        False,
        4,
        5,
        "log ends at seq 4, before the anchored head seq 6 (truncated)",
        1,
        _torn(6, len(second_torn)),
    )


@pytest.mark.parametrize("before", [0, 1])
def test_a_crash_in_the_first_appends_is_sealed_in_place(tmp_path: Path, before: int) -> None:
    """A torn line after zero or one entries: the seal follows the last entry (or genesis)."""
    chain = _chain(before)
    torn = _half(_entry(before + 1, GENESIS, action="publish", details={"dataset": "gold.x"}))
    path = _store(tmp_path, _raw(*chain) + torn)
    tail = chain[-1]["hash"] if chain else GENESIS
    assert verify(tmp_path) == VerifyResult(True, before, torn=_torn(before + 1, len(torn)))
    assert head(tmp_path) == (before, tail)
    entry = AuditLog(tmp_path).append(
        "run", "airflow", {"after": "crash"}, at=DAY + timedelta(hours=1)
    )
    seal = _seal(before + 1, tail, _fragment(before + 1, torn))
    after = _entry(before + 2, seal["hash"], at=LATER, details={"after": "crash"})
    assert entry.to_dict() == after
    assert path.read_bytes() == _raw(*chain) + torn + b"\n" + _raw(seal, after)
    assert verify(tmp_path) == VerifyResult(True, before + 2, sealed=1)


def test_removing_the_torn_first_line_breaks_the_seal_after_it(tmp_path: Path) -> None:
    """A seal on line 1 has nothing before it to seal: the torn first line was removed."""
    seal = _seal(1, GENESIS, _fragment(1, b'{"action":"run"'))
    _store(tmp_path, _raw(seal, _entry(2, seal["hash"], at=LATER)))
    assert verify(tmp_path) == VerifyResult(
        False,
        0,
        1,
        f"{FILE} line 1 (seq 1): a seal with no torn line before it (sealed lines removed)",
    )


def test_a_broken_first_line_is_damage_at_position_one(tmp_path: Path) -> None:
    """Half an entry followed by an entry that is not its seal: damage, at seq 1, none good."""
    first = _entry(1, GENESIS)
    _store(tmp_path, _half(first) + b"\n" + _raw(first))
    assert verify(tmp_path) == VerifyResult(False, 0, 1, f"{FILE} line 1 (seq ?): {NOT_JSON}")
    with pytest.raises(AuditLogCorrupted) as err:
        list(entries(tmp_path))
    assert str(err.value) == f"{FILE} line 1: {NOT_JSON}"


def _not_entries() -> list[tuple[object, str]]:
    entry = _entry(2, "1" * 64)
    string_seq = {**entry, "seq": "2"}
    list_details = {**entry, "details": []}
    return [
        ({"x": 1}, "not an audit entry (wrong fields)"),
        ([1, 2], "not an audit entry (wrong fields)"),
        ({k: v for k, v in entry.items() if k != "hash"}, "not an audit entry (wrong fields)"),
        (string_seq, "not an audit entry (wrong field types)"),
        (list_details, "not an audit entry (wrong field types)"),
    ]


@pytest.mark.parametrize(("line", "problem"), _not_entries())
def test_a_json_line_that_is_not_an_entry(tmp_path: Path, line: object, problem: str) -> None:
    """JSON of the wrong shape or types: verify and readers name its file, line and problem."""
    _store(tmp_path, _raw(_entry(1, GENESIS), line))
    assert verify(tmp_path) == VerifyResult(False, 1, 2, f"{FILE} line 2 (seq ?): {problem}")
    with pytest.raises(AuditLogCorrupted) as err:
        list(entries(tmp_path))
    assert str(err.value) == f"{FILE} line 2: {problem}"


@pytest.mark.parametrize(
    ("end", "empty_next_day"),
    [(b"\n", False), (b"", False), (b"\n", True)],
    ids=["terminated", "unterminated", "empty-newer-file"],
)
def test_a_damaged_last_line_is_refused_by_append(
    tmp_path: Path, end: bytes, empty_next_day: bool
) -> None:
    """The last line read back is JSON but no entry: append and head refuse, naming the file."""
    path = _store(tmp_path, _raw(*_chain(3)) + b'{"x":1}' + end)
    if empty_next_day:
        _store(tmp_path, b"", NEXT_DAY)
    before = path.read_bytes()
    message = f"{FILE}: last line unreadable: not an audit entry (wrong fields)"
    with pytest.raises(AuditLogCorrupted) as err:
        AuditLog(tmp_path).append("run", "airflow", {}, at=DAY + timedelta(hours=1))
    assert str(err.value) == message
    with pytest.raises(AuditLogCorrupted) as err:
        head(tmp_path)
    assert str(err.value) == message
    assert path.read_bytes() == before


def test_a_damaged_entry_before_a_torn_tail_is_refused(tmp_path: Path) -> None:
    """Under a torn tail the entry to continue from must be readable; its line is named."""
    _store(tmp_path, _raw(*_chain(2)) + b'{"x":1}\n' + _half(_entry(4, GENESIS)))
    with pytest.raises(AuditLogCorrupted) as err:
        AuditLog(tmp_path).append("run", "airflow", {}, at=DAY + timedelta(hours=1))
    assert str(err.value) == f"{FILE} line 3: unreadable: not an audit entry (wrong fields)"


def test_an_empty_newest_file_is_passed_over(tmp_path: Path) -> None:
    """A day file created but never written (a crash before the write): the tail is in the
    file before it, and the next entry goes into the empty file with nothing before it."""
    chain = _chain(2)
    _store(tmp_path, _raw(*chain))
    newer = _store(tmp_path, b"", NEXT_DAY)
    assert head(tmp_path) == (2, chain[-1]["hash"])
    entry = AuditLog(tmp_path).append(
        "run", "airflow", {}, at=datetime(2026, 11, 28, 10, tzinfo=UTC)
    )
    expected = _entry(3, chain[-1]["hash"], at="2026-11-28T10:00:00.000000Z")
    assert entry.to_dict() == expected
    assert newer.read_bytes() == _raw(expected)
    assert verify(tmp_path) == VerifyResult(True, 3)


def test_a_stray_blank_last_line_is_sealed_not_dropped(tmp_path: Path) -> None:
    """An empty last line is not an entry: a torn tail of 0 bytes, sealed by the next append."""
    chain = _chain(2)
    path = _store(tmp_path, _raw(*chain) + b"\n")
    assert verify(tmp_path) == VerifyResult(True, 2, torn=_torn(3, 0))
    AuditLog(tmp_path).append("run", "airflow", {}, at=DAY + timedelta(hours=1))
    empty = {"file": FILE, "line": 3, "bytes": 0, "sha256": hashlib.sha256(b"").hexdigest()}
    seal = _seal(3, chain[-1]["hash"], empty)
    assert path.read_bytes() == _raw(*chain) + b"\n" + _raw(seal, _entry(4, seal["hash"], at=LATER))
    assert verify(tmp_path) == VerifyResult(True, 4, sealed=1)


def test_an_entry_longer_than_the_read_back_chunk_is_the_tail(tmp_path: Path) -> None:
    """The last line is read from the end in growing chunks: a 10 kB entry is still found."""
    log = AuditLog(tmp_path)
    first = log.append("run", "airflow", {}, at=DAY)
    log.append("query", "airflow", {"sql": "x" * 10_000}, at=DAY)
    long = _entry(2, first.hash, action="query", details={"sql": "x" * 10_000})
    assert len(_raw(long)) > 10_000
    assert head(tmp_path) == (2, long["hash"])
    third = log.append("run", "airflow", {}, at=DAY)
    assert (third.seq, third.prev_hash) == (3, long["hash"])


def test_a_cut_inside_a_multibyte_character_is_sealed(tmp_path: Path) -> None:
    """A torn line ending inside a UTF-8 sequence is read with it replaced, the same way by
    every reader, and sealed; its raw bytes stay in the file."""
    chain = _chain(2, note="每月 發布")
    nxt = _raw(_entry(3, chain[-1]["hash"], details={"note": "每月 發布"}))
    torn = nxt[: nxt.index("發".encode()) + 2]
    path = _store(tmp_path, _raw(*chain) + torn)
    fragment = _fragment(3, torn)
    assert fragment["bytes"] == len(torn) + 1  # two bytes of three became U+FFFD (three bytes)
    assert verify(tmp_path) == VerifyResult(True, 2, torn=_torn(3, fragment["bytes"]))
    assert [e.details for e in entries(tmp_path)] == [c["details"] for c in chain]
    entry = AuditLog(tmp_path).append("run", "airflow", {}, at=DAY + timedelta(hours=1))
    seal = _seal(3, chain[-1]["hash"], fragment)
    assert entry.to_dict() == _entry(4, seal["hash"], at=LATER)
    assert path.read_bytes() == _raw(*chain) + torn + b"\n" + _raw(seal, entry.to_dict())
    assert verify(tmp_path) == VerifyResult(True, 4, sealed=1)


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("audit_sealed", VerifyResult(True, 2, sealed=1)),
        ("run", VerifyResult(False, 1, 2, f"{FILE} line 2 (seq ?): {NOT_JSON}")),
    ],
)
def test_only_a_seal_entry_seals(tmp_path: Path, action: str, expected: VerifyResult) -> None:
    """Torn bytes are sealed by an ``audit_sealed`` entry naming them, not by any entry whose
    details happen to hold the same ``fragments``."""
    first = _entry(1, GENESIS)
    torn = _half(_entry(2, first["hash"]))
    details = {"fragments": [_fragment(2, torn)], "reason": SEAL_REASON}
    after = _entry(2, first["hash"], at=LATER, action=action, details=details)
    _store(tmp_path, _raw(first) + torn + b"\n" + _raw(after))
    assert verify(tmp_path) == expected


def _forgeries() -> list[tuple[list[dict[str, Any]], str]]:
    first = _entry(1, GENESIS)
    return [
        ([first, _entry(2, "1" * 64)], "prev_hash does not match the previous entry's hash"),
        (
            [first, _entry(2, first["hash"], at="2026-11-27T09:29:59.999999Z")],
            "time is earlier than the previous entry's",
        ),
        ([first, _entry(2, first["hash"], action="delete")], "unknown action 'delete'"),
    ]


@pytest.mark.parametrize(("chain", "problem"), _forgeries())
def test_consistent_forgeries_are_named(
    tmp_path: Path, chain: list[dict[str, Any]], problem: str
) -> None:
    """An entry whose own hash is right but which does not follow its predecessor."""
    _store(tmp_path, _raw(*chain))
    assert verify(tmp_path) == VerifyResult(False, 1, 2, f"{FILE} line 2 (seq 2): {problem}")


def test_a_different_hash_at_the_anchored_seq(tmp_path: Path) -> None:
    """The log reaches the anchored seq with another hash: named at that entry."""
    _store(tmp_path, _raw(*_chain(3)))
    assert verify(tmp_path, expected_head=(2, "c" * 64)) == VerifyResult(
        False, 1, 2, f"{FILE} line 2 (seq 2): hash differs from the anchored head"
    )


@pytest.mark.parametrize(
    ("details", "where", "kind"),
    [
        ({"note": "A123456789"}, "details.note", "a national ID"),
        ({"ids": ["ok", "0912345678"]}, "details.ids[1]", "a mobile number"),
        ({"0912345678": 1}, "a key of details", "a mobile number"),
        ({"a": {"b": [{"c": "B223456789"}]}}, "details.a.b[0].c", "a national ID"),
    ],
)
def test_a_personal_value_is_refused_by_its_place(
    tmp_path: Path, details: dict[str, Any], where: str, kind: str
) -> None:
    """The refusal names the key path and the kind of value, and writes nothing."""
    with pytest.raises(ValueError) as err:
        AuditLog(tmp_path).append("query", "steward:alice", details)
    assert str(err.value) == f"{where} holds what looks like {kind}{NOT_SHOWN}"
    assert list(tmp_path.iterdir()) == []


def test_a_personal_value_as_actor_is_refused(tmp_path: Path) -> None:
    """The actor is checked too, and named as ``actor``."""
    with pytest.raises(ValueError) as err:
        AuditLog(tmp_path).append("query", "A123456789", {})
    assert str(err.value) == f"actor holds what looks like a national ID{NOT_SHOWN}"


@pytest.mark.parametrize(
    ("actor", "details", "message"),
    [
        (" ", {}, "actor must be a non-empty string"),
        ("airflow", [("k", 1)], "details must be a mapping (a JSON object)"),
        ("airflow", {"when": DAY}, "details are not JSON-serialisable: TypeError"),
        ("airflow", {"ratio": math.nan}, "details are not JSON-serialisable: ValueError"),
    ],
)
def test_refusals_have_exact_messages(
    tmp_path: Path, actor: str, details: Any, message: str
) -> None:
    """Each refusal of a bad actor or bad details says exactly what is wrong."""
    with pytest.raises(ValueError) as err:
        AuditLog(tmp_path).append("run", actor, details)
    assert str(err.value) == message


def test_time_never_goes_back_when_the_clock_does(tmp_path: Path) -> None:
    """An explicit earlier ``at`` is refused; a clock behind the last entry takes its time."""
    log = AuditLog(tmp_path)
    assert log.folder == tmp_path
    future = log.append("run", "airflow", {}, at=datetime(2099, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError) as err:
        log.append("run", "airflow", {}, at=datetime(2098, 12, 31, tzinfo=UTC))
    assert str(err.value) == "at is earlier than the last audit entry's time"
    now = log.append("run", "airflow", {})
    assert now.to_dict() == _entry(2, future.hash, at="2099-01-01T00:00:00.000000Z")
    assert (tmp_path / "audit-2099-01-01.jsonl").read_bytes() == _raw(
        future.to_dict(), now.to_dict()
    )


@pytest.fixture
def taipei_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's local zone set to UTC+8 (a POSIX TZ rule: no zone database needed)."""
    monkeypatch.setenv("TZ", "CST-8")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("taipei_clock")
def test_times_are_utc_whatever_the_local_zone(tmp_path: Path) -> None:
    """Naive times are UTC (not local), aware ones are converted, and ``now`` is UTC now."""
    log = AuditLog(tmp_path / "given")
    naive = log.append("run", "airflow", {}, at=datetime(2026, 11, 27, 9, 30))
    plus8 = timezone(timedelta(hours=8))
    aware = log.append("run", "airflow", {}, at=datetime(2026, 11, 28, 1, 30, tzinfo=plus8))
    assert (naive.at, aware.at) == ("2026-11-27T09:30:00.000000Z", "2026-11-27T17:30:00.000000Z")
    assert sorted(p.name for p in (tmp_path / "given").glob("*.jsonl")) == [FILE]
    low = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    now = AuditLog(tmp_path / "now").append("run", "airflow", {})
    high = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert low <= now.at <= high


_FAULT = (
    "import sys; from audit.log import LocalFiles; files = LocalFiles(sys.argv[1]); "
    "files.append('x.jsonl', '\\n'); files.append('x.jsonl', '}\\n')"
)


def test_local_files_append_creates_the_folder(tmp_path: Path) -> None:
    """The file layer creates missing parent folders itself and appends the exact bytes."""
    files = LocalFiles(str(tmp_path / "a" / "b"))
    files.append(FILE, "one\n")
    files.append(FILE, "二\n")
    assert (tmp_path / "a" / "b" / FILE).read_bytes() == "one\n二\n".encode()


def test_the_fault_point_tears_lines_of_two_bytes_or_more_at_half(tmp_path: Path) -> None:
    """With ``LAKEHOUSE_FAULT=audit.torn`` a one-byte line (ending a torn line) is written whole
    and a two-byte line is cut to one byte before the process is killed; without it, in this
    process, an unterminated line is written whole."""
    LocalFiles(str(tmp_path)).append("x.jsonl", "{}")
    done = subprocess.run(
        [sys.executable, "-c", _FAULT, str(tmp_path)],
        cwd=REPO_ROOT,
        env={**os.environ, "LAKEHOUSE_FAULT": "audit.torn"},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, (tmp_path / "x.jsonl").read_bytes()) == (-9, b"{}\n}")


def test_a_checked_entry_is_appended_without_a_second_check(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A service checks an entry when the request comes and appends it later: the
    :class:`Checked` it holds is not checked again; a plain tuple is."""
    from audit import log as audit_log

    ready = audit_log.checked("exchange", "svc", {"client": "c-1"})
    calls: list[str] = []
    real = audit_log.checked
    monkeypatch.setattr(audit_log, "checked", lambda *a: calls.append(a[0]) or real(*a))
    log = audit_log.AuditLog(tmp_path)
    log.append_many([ready, ("exchange", "svc", {"client": "c-2"})])
    assert calls == ["exchange"]  # the plain tuple only
    assert [e.details["client"] for e in audit_log.entries(tmp_path)] == ["c-1", "c-2"]
