"""Append-only, hash-chained audit log in one folder (the lakehouse keeps it in
``<root>/system/audit/``: :attr:`kernel.layout.Layout.audit_dir`).

Every entry is one JSON line, in ``audit-YYYY-MM-DD.jsonl`` (one file per UTC day of the
entry's ``at``) on a local disk, or in immutable objects ``audit-<seq>.jsonl`` (one per append)
on an object store (:mod:`audit.files`); the chain continues across files in file-name order.
Each entry records ``seq`` (1-based, consecutive), ``at`` (UTC, ISO-8601 with ``Z``),
``actor``, ``action``, ``details``, ``prev_hash`` (the previous entry's ``hash``, 64 zeros for
the first) and ``hash``: the hex SHA-256 of the canonical JSON of the entry without ``hash``.
Editing, removing, inserting or reordering entries breaks the chain and :func:`verify` names
the first bad entry. Rewriting the whole tail consistently is only detectable against an anchor
published elsewhere: :func:`head` gives ``(seq, hash)`` to publish (e.g. in Delta commit
metadata) and ``verify(folder, expected_head=...)`` checks the log still reaches it.

An append cut short by a crash leaves a torn last line (a strict prefix of an entry is never
valid JSON). Readers skip it, :func:`verify` reports it as a torn tail (not as tampering), and
the next append seals it: it ends the torn line and first appends an ``audit_sealed`` entry
naming each torn line's file, line, length and SHA-256, so the bytes stay where they were and
any later change to them, or their removal, breaks the log. ``LAKEHOUSE_FAULT=audit.torn``
makes an append write half its line and kill the process (the crash-safety tests).

The chain never forks: on a local disk appends from several processes are serialised by a lock
file and the tail entry is re-read under it; on an object store the object of an append is
created only if absent, so of two writers that read the same tail one wins and the other
re-reads the tail and tries again. All I/O is in :mod:`audit.files`.

Details never hold personal values (the caller's duty); as a last defence, :meth:`AuditLog.append`
refuses strings that look like a Taiwanese national ID / resident certificate number or a mobile
number, without echoing the value.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from audit.files import (
    DAY_FILE_RE,
    FAULT_ENV,
    LOCK_NAME,
    TORN_POINT,
    Files,
    LocalFiles,
    ObjectFiles,
    files_for,
)

__all__ = ["FAULT_ENV", "LOCK_NAME", "TORN_POINT", "LocalFiles", "ObjectFiles"]  # re-exported

ACTIONS = frozenset(
    {
        "run",
        "publish",
        "gate_failure",
        "quarantine_release",
        "reidentification",
        "key_rotation",
        "query",
        "delivery_refused",
        "lock_takeover",
        "recovered",
        "accept_change",
        "audit_sealed",
        "exchange",
    }
)
SEAL_ACTION = "audit_sealed"
GENESIS_HASH = "0" * 64
APPEND_ATTEMPTS = 20
"""How often at least an append on an object store re-reads the tail after losing a race."""
APPEND_PATIENCE_SECONDS = 120.0
"""How long at least an append keeps trying while other writers keep storing entries first."""
APPEND_BACKOFF_SECONDS = (0.01, 1.0)
"""The first and the longest pause after a lost race: each pause is random, up to twice the
previous cap, so that two writers racing in step fall out of step (without it, one writer
appending in a loop could win every race of another for twenty attempts in a row)."""

_KEYS = frozenset({"seq", "at", "actor", "action", "details", "prev_hash", "hash"})
_AT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
# Bounded by non-alphanumerics so that digests and batch ids do not trigger them.
_PERSONAL = (
    ("a national ID", re.compile(r"(?<![0-9A-Za-z])[A-Za-z][12ABCD89abcd89]\d{8}(?![0-9A-Za-z])")),
    ("a mobile number", re.compile(r"(?<![0-9A-Za-z])09\d{8}(?![0-9A-Za-z])")),
)


class AuditLogCorrupted(ValueError):
    """The audit log cannot be read or extended because an entry is damaged."""


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the audit log."""

    seq: int
    at: str
    actor: str
    action: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def body(self) -> dict[str, Any]:
        """The entry without ``hash``: what ``hash`` is computed over."""
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "details": self.details,
            "prev_hash": self.prev_hash,
        }

    def to_dict(self) -> dict[str, Any]:
        """The entry as stored."""
        return {**self.body(), "hash": self.hash}

    def to_line(self) -> str:
        """The stored JSON line (canonical JSON, newline-terminated)."""
        return canonical_json(self.to_dict()) + "\n"


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of :func:`verify`.

    ``entries`` counts the entries verified good (all of them when ``ok``); ``first_bad`` is the
    1-based position in the chain of the first bad entry (the seq it should have had);
    ``reason`` names its file, line and seq and the problem. ``sealed`` counts the torn lines
    the log has sealed (each named by the ``audit_sealed`` entry after it); ``torn`` describes
    a torn tail not sealed yet (an append cut short by a crash: no entry of the chain is
    damaged, the next append seals it).
    """

    ok: bool
    entries: int
    first_bad: int | None = None
    reason: str | None = None
    sealed: int = 0
    torn: str | None = None


@dataclass(frozen=True)
class _Stored:
    """One stored line: its file, 1-based line number and text (a torn UTF-8 sequence is
    replaced, the same way on every read)."""

    name: str
    number: int
    text: str

    def fragment(self) -> dict[str, Any]:
        """How a seal names this line: file, line, length in bytes and SHA-256."""
        data = self.text.encode("utf-8")
        return {"file": self.name, "line": self.number, "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest()}


def canonical_json(obj: Any) -> str:
    """The canonical JSON text that hashes are computed over."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def entry_hash(body: Mapping[str, Any]) -> str:
    """Hex SHA-256 over the canonical UTF-8 JSON of an entry without ``hash``."""
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def format_at(at: datetime) -> str:
    """``at`` as UTC ISO-8601 with microseconds and ``Z`` (a naive datetime is taken as UTC)."""
    aware = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_no_personal_values(value: Any, where: str = "details") -> None:
    """Raise ``ValueError`` if a key or string in ``value`` looks like an ID or mobile number.

    The message names the location (key path), never the value.
    """
    if isinstance(value, Mapping):
        for key, item in value.items():
            _check_string(str(key), f"a key of {where}")
            check_no_personal_values(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_no_personal_values(item, f"{where}[{i}]")
    elif isinstance(value, str):
        _check_string(value, where)


def _check_string(text: str, where: str) -> None:
    normalised = unicodedata.normalize("NFKC", text)
    for label, pattern in _PERSONAL:
        if pattern.search(normalised):
            raise ValueError(
                f"{where} holds what looks like {label}; audit entries must not hold personal "
                "values (the value is not shown)"
            )


def _files(folder: str | Path) -> Files:
    return files_for(folder)


def _parse(line: str) -> AuditEntry:
    """An entry from its stored line; ``ValueError`` if it is not a well-formed entry."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise ValueError("not valid JSON (truncated or corrupted line)") from e
    if not isinstance(obj, dict) or set(obj) != _KEYS:
        raise ValueError("not an audit entry (wrong fields)")
    types_ok = (
        isinstance(obj["seq"], int)
        and not isinstance(obj["seq"], bool)
        and all(isinstance(obj[k], str) for k in ("at", "actor", "action", "prev_hash", "hash"))
        and isinstance(obj["details"], dict)
    )
    if not types_ok:
        raise ValueError("not an audit entry (wrong field types)")
    return AuditEntry(**obj)


class Checked(NamedTuple):
    """An entry's ``(action, actor, details)`` that :func:`checked` accepted (details frozen as
    JSON): :meth:`AuditLog.append_many` does not check it again. Make one with :func:`checked`
    only."""

    action: str
    actor: str
    details: dict[str, Any]


def checked(action: str, actor: str, details: Mapping[str, Any]) -> Checked:
    """``(action, actor, details)`` as an entry will hold them (details frozen as JSON), or
    ``ValueError`` for an unknown action, an empty actor, details that are not a JSON object or
    that hold what looks like personal values (the message never quotes the value). A service
    checks an entry when the request comes (to refuse it then) and appends it later in a batch:
    the :class:`Checked` it gets is appended as it is."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r} (one of {sorted(ACTIONS)})")
    if not isinstance(actor, str) or not actor.strip():
        raise ValueError("actor must be a non-empty string")
    check_no_personal_values(actor, "actor")
    if not isinstance(details, Mapping):
        raise ValueError("details must be a mapping (a JSON object)")
    try:
        frozen = json.loads(json.dumps(dict(details), ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError) as e:
        raise ValueError(f"details are not JSON-serialisable: {type(e).__name__}") from e
    check_no_personal_values(frozen)
    return Checked(action, actor, frozen)


def _next_entry(tail: AuditEntry | None, action: str, actor: str, details: dict[str, Any],
                stamp: str) -> AuditEntry:
    """The entry that follows ``tail`` in the chain."""
    seq, prev_hash = (tail.seq + 1, tail.hash) if tail else (1, GENESIS_HASH)
    draft = AuditEntry(seq, stamp, actor, action, details, prev_hash, "")
    return AuditEntry(seq, stamp, actor, action, details, prev_hash, entry_hash(draft.body()))


class AuditLog:
    """The audit log kept in ``folder``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = folder
        self._files = _files(folder)

    def append(
        self,
        action: str,
        actor: str,
        details: Mapping[str, Any],
        at: datetime | None = None,
    ) -> AuditEntry:
        """Append one entry and return it (after sealing a torn tail, if the log has one).

        ``at`` defaults to now; a naive datetime is taken as UTC. Raises ``ValueError`` for an
        unknown action, an empty actor, details that are not a JSON object or hold what looks
        like personal values, or an ``at`` earlier than the last entry's; raises
        :class:`AuditLogCorrupted` if the last stored entry cannot be read.
        """
        return self.append_many([(action, actor, details)], at)[0]

    def append_many(
        self,
        items: Sequence[tuple[str, str, Mapping[str, Any]]],
        at: datetime | None = None,
    ) -> list[AuditEntry]:
        """Append several entries ``(action, actor, details)`` in order, under one lock and
        with one flush to disk per file (a group commit: a service recording many exchanges a
        second pays one ``fsync`` for a batch, not one per entry). Every item is checked as
        :meth:`append` checks it before anything is written (a :class:`Checked` item was
        checked when it was made): one bad item writes none."""
        frozen = [item if isinstance(item, Checked) else checked(*item) for item in items]
        began, lost = time.monotonic(), 0
        first, longest = APPEND_BACKOFF_SECONDS
        while True:
            with self._files.locked():
                written = self._append_after_tail(frozen, at)
            if written is not None:
                return written
            lost += 1
            waited = time.monotonic() - began
            if lost >= APPEND_ATTEMPTS and waited >= APPEND_PATIENCE_SECONDS:
                raise AuditLogCorrupted(
                    f"{self.folder}: {lost} appends lost to other writers in a row over "
                    f"{waited:.0f} s; nothing was written")
            time.sleep(random.uniform(0, min(longest, first * 2 ** min(lost, 20))))

    def _append_after_tail(self, frozen: list[Checked], at: datetime | None
                           ) -> list[AuditEntry] | None:
        """One attempt of :meth:`append_many` (under the lock): the entries written, or ``None``
        when another writer stored entries after the tail first (object stores)."""
        tail, torn = self._tail()
        stamp = format_at(at if at is not None else datetime.now(UTC))
        if tail is not None and stamp < tail.at:
            if at is not None:
                raise ValueError("at is earlier than the last audit entry's time")
            stamp = tail.at  # the clock went back: time never goes back in the log
        names = self._files.names()
        if names and not self._files.ends_with_newline(names[-1]):
            self._files.append(names[-1], "\n")  # end a torn (or unterminated) line
        if torn:
            tail = self._write(tail, SEAL_ACTION, frozen[0][1] if frozen else "audit", {
                "fragments": [t.fragment() for t in torn],
                "reason": "an append cut short by a crash: its bytes kept, not an entry"},
                stamp)
        written: list[AuditEntry] = []
        for action, actor, details in frozen:
            tail = _next_entry(tail, action, actor, details, stamp)
            written.append(tail)
        if written and not self._files.add_entries(
                stamp[:10], written[0].seq, "".join(e.to_line() for e in written)):
            return None
        return written

    def _write(self, tail: AuditEntry | None, action: str, actor: str, details: dict[str, Any],
               stamp: str) -> AuditEntry:
        """Append the entry that follows ``tail`` (call under the lock)."""
        entry = _next_entry(tail, action, actor, details, stamp)
        self._files.add_entries(stamp[:10], entry.seq, entry.to_line())
        return entry

    def _tail(self) -> tuple[AuditEntry | None, list[_Stored]]:
        """The last stored entry and the torn lines after it, if any (call under the lock)."""
        for name in reversed(self._files.names()):
            line = self._files.last_line(name)
            if line is None:
                continue
            if not _is_json(line):
                return self._tail_after_torn()
            try:
                return _parse(line), []
            except ValueError as e:
                raise AuditLogCorrupted(f"{name}: last line unreadable: {e}") from e
        return None, []

    def _tail_after_torn(self) -> tuple[AuditEntry | None, list[_Stored]]:
        """The last entry before the torn lines that end the log, and those lines."""
        lines = _stored(self._files)
        k = len(lines)
        while k and not _is_json(lines[k - 1].text):
            k -= 1
        if k == 0:
            return None, lines
        last = lines[k - 1]
        try:
            return _parse(last.text), lines[k:]
        except ValueError as e:
            raise AuditLogCorrupted(f"{last.name} line {last.number}: unreadable: {e}") from e


def _is_json(text: str) -> bool:
    """Whether a stored line is JSON at all (a strict prefix of an entry never is)."""
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _stored(files: Files) -> list[_Stored]:
    """Every stored line in chain order (call under a lock)."""
    return [_Stored(name, number, text) for name in files.names()
            for number, text in enumerate(files.read_lines(name), start=1)]


def _sealed_by(line: _Stored) -> list[Any] | None:
    """The fragments a seal entry names, if ``line`` is a seal entry."""
    try:
        entry = _parse(line.text)
    except ValueError:
        return None
    fragments = entry.details.get("fragments")
    return fragments if entry.action == SEAL_ACTION and isinstance(fragments, list) else None


def _segments(lines: list[_Stored]) -> Iterator[tuple[str, list[_Stored]]]:
    """The stored lines as segments: ``entry`` (one line of JSON), ``sealed`` (torn lines the
    next line's seal names exactly), ``torn`` (torn lines that end the log, not sealed yet) and
    ``broken`` (lines that are not JSON and that no seal names: damage)."""
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and not _is_json(lines[j].text):
            j += 1
        if j == i:
            yield "entry", lines[i : i + 1]
            i += 1
            continue
        run = lines[i:j]
        if j == len(lines):
            yield "torn", run
        elif _sealed_by(lines[j]) == [t.fragment() for t in run]:
            yield "sealed", run
        else:
            yield "broken", run
        i = j


def _unreadable(line: _Stored) -> str:
    return f"{line.name} line {line.number}: not valid JSON (truncated or corrupted line)"


def entries(folder: str | Path, action: str | None = None) -> Iterator[AuditEntry]:
    """The entries in chain order (optionally of one action), torn lines skipped; raises
    :class:`AuditLogCorrupted` on a damaged line."""
    files = _files(folder)
    with files.locked(exclusive=False):
        lines = _stored(files)
    for kind, run in _segments(lines):
        if kind == "broken":
            raise AuditLogCorrupted(_unreadable(run[0]))
        if kind != "entry":
            continue
        try:
            entry = _parse(run[0].text)
        except ValueError as e:
            raise AuditLogCorrupted(f"{run[0].name} line {run[0].number}: {e}") from e
        if action is None or entry.action == action:
            yield entry


def present(folder: str | Path) -> bool:
    """Whether a log is kept in ``folder`` (it holds at least one file or object)."""
    return bool(_files(folder).names())


def head(folder: str | Path) -> tuple[int, str]:
    """``(seq, hash)`` of the last entry, or ``(0, GENESIS_HASH)`` for an empty log."""
    files = _files(folder)
    with files.locked(exclusive=False):
        tail, _ = AuditLog(folder)._tail()
    return (tail.seq, tail.hash) if tail else (0, GENESIS_HASH)


def verify(folder: str | Path, expected_head: tuple[int, str] | None = None) -> VerifyResult:
    """Check the whole chain; with ``expected_head`` also that the log reaches that anchor.
    Sealed torn lines are counted, a torn tail not sealed yet is described (neither is damage:
    see the module docstring); any other line that is not an entry is."""
    anchor = expected_head
    if anchor is not None and anchor[0] == 0:
        if anchor[1] != GENESIS_HASH:
            return VerifyResult(False, 0, 1, "an anchor at seq 0 must carry the genesis hash")
        anchor = None  # every log extends the empty one
    files = _files(folder)
    with files.locked(exclusive=False):
        lines = _stored(files)
    prev: AuditEntry | None = None
    anchor_seen, sealed, after_seal, torn = False, 0, False, None
    for kind, run in _segments(lines):
        first, position = run[0], (prev.seq if prev else 0) + 1
        if kind == "torn":
            size = sum(t.fragment()["bytes"] for t in run)
            torn = (f"{first.name} line {first.number}: an append cut short by a crash "
                    f"({size} bytes, not an entry); the next append seals it")
            break
        if kind == "sealed":
            sealed, after_seal = sealed + len(run), True
            continue
        if kind == "broken":
            return VerifyResult(False, position - 1, position,
                                _unreadable(first).replace(":", " (seq ?):", 1))
        day = DAY_FILE_RE.match(first.name)
        problem, entry = _check(first.text, prev, day.group(1) if day else None)
        where = f"{first.name} line {first.number} (seq {entry.seq if entry else '?'})"
        if problem is None and entry and entry.action == SEAL_ACTION and not after_seal:
            problem = "a seal with no torn line before it (sealed lines removed)"
        after_seal = False
        if problem is None and entry and anchor and entry.seq == anchor[0]:
            anchor_seen = True
            if entry.hash != anchor[1]:
                problem = "hash differs from the anchored head"
        if problem is not None or entry is None:
            return VerifyResult(False, position - 1, position, f"{where}: {problem}")
        prev = entry
    count = prev.seq if prev else 0
    if anchor and not anchor_seen:
        return VerifyResult(False, count, count + 1, f"log ends at seq {count}, before the "
                            f"anchored head seq {anchor[0]} (truncated)", sealed, torn)
    return VerifyResult(True, count, sealed=sealed, torn=torn)


def _check(line: str, prev: AuditEntry | None, day: str | None
           ) -> tuple[str | None, AuditEntry | None]:
    """The problem with one stored line given its predecessor (``None`` if it is good); ``day``
    is the UTC day of its daily file (``None`` for an object, named by seq)."""
    try:
        entry = _parse(line)
    except ValueError as e:
        return str(e), None
    if entry_hash(entry.body()) != entry.hash:
        return "hash does not match its content", entry
    expected_seq = (prev.seq if prev else 0) + 1
    if entry.seq != expected_seq:
        problem = f"seq {entry.seq} where {expected_seq} was expected"
        return f"{problem} (removed, inserted or reordered entry)", entry
    if entry.prev_hash != (prev.hash if prev else GENESIS_HASH):
        return "prev_hash does not match the previous entry's hash", entry
    if entry.action not in ACTIONS:
        return f"unknown action {entry.action!r}", entry
    if not _AT_RE.match(entry.at) or (day is not None and entry.at[:10] != day):
        return f"time {entry.at} does not belong in this file", entry
    if prev is not None and entry.at < prev.at:
        return "time is earlier than the previous entry's", entry
    return None, entry
