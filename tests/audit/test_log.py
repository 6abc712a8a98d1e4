"""The hash-chained audit log: building the chain, verification and tamper detection."""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from audit.log import (
    GENESIS_HASH,
    AuditLog,
    AuditLogCorrupted,
    canonical_json,
    entries,
    entry_hash,
    head,
    verify,
)

DAY = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


@pytest.fixture
def folder(tmp_path: Path) -> str:
    """The audit log's folder (the lakehouse keeps it in ``<root>/system/audit``)."""
    return str(tmp_path / "system" / "audit")


def _folder(folder: str) -> Path:
    return Path(folder)


def _file(folder: str, day: str = "2026-11-27") -> Path:
    return _folder(folder) / f"audit-{day}.jsonl"


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _fill(folder: str, n: int = 5) -> AuditLog:
    log = AuditLog(folder)
    for i in range(n):
        log.append("run", "steward:alice", {"feed": "moi.household_registry", "i": i},
                   at=DAY + timedelta(minutes=i))
    return log


def test_chain_links_entries(folder: str) -> None:
    log = AuditLog(folder)
    first = log.append("run", "airflow", {"run_id": "run-1", "rows": 10}, at=DAY)
    second = log.append("publish", "steward:alice", {"dataset": "gold.person_coverage",
                                                     "note": "每月發布"}, at=DAY)
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert first.at == "2026-11-27T09:30:00.000000Z"
    assert first.hash == entry_hash(first.body())
    stored = _lines(_file(folder))
    assert stored == [canonical_json(first.to_dict()), canonical_json(second.to_dict())]
    assert "每月發布" in stored[1]  # ensure_ascii=False: stored as UTF-8
    assert json.loads(stored[1])["hash"] == second.hash
    assert head(folder) == (2, second.hash)


def test_verify_ok_and_entries_filter(folder: str) -> None:
    _fill(folder, 4)
    AuditLog(folder).append("gate_failure", "airflow", {"gate": "leak", "column": "county",
                                                      "count": 3}, at=DAY + timedelta(hours=1))
    result = verify(folder)
    assert result.ok and result.entries == 5 and result.first_bad is None
    assert [e.seq for e in entries(folder)] == [1, 2, 3, 4, 5]
    assert [e.details["gate"] for e in entries(folder, action="gate_failure")] == ["leak"]


def test_empty_log_verifies(folder: str) -> None:
    assert verify(folder).ok
    assert head(folder) == (0, GENESIS_HASH)
    assert verify(folder, expected_head=(0, GENESIS_HASH)).ok


def test_unknown_action_and_bad_details_refused(folder: str) -> None:
    log = AuditLog(folder)
    with pytest.raises(ValueError, match="unknown audit action"):
        log.append("delete_everything", "x", {})
    with pytest.raises(ValueError, match="actor"):
        log.append("run", " ", {})
    with pytest.raises(ValueError, match="JSON"):
        log.append("run", "x", {"when": datetime.now()})
    with pytest.raises(ValueError, match="JSON"):
        log.append("run", "x", {"ratio": float("nan")})


def test_time_never_goes_back(folder: str) -> None:
    log = AuditLog(folder)
    log.append("run", "x", {}, at=DAY)
    with pytest.raises(ValueError, match="earlier"):
        log.append("run", "x", {}, at=DAY - timedelta(days=1))


def test_edit_detected(folder: str) -> None:
    _fill(folder)
    path = _file(folder)
    lines = _lines(path)
    obj = json.loads(lines[2])
    obj["details"]["i"] = 99
    lines[2] = canonical_json(obj)
    _write(path, lines)
    result = verify(folder)
    assert not result.ok
    assert result.first_bad == 3 and result.entries == 2
    assert result.reason == "audit-2026-11-27.jsonl line 3 (seq 3): hash does not match its content"


def test_removal_detected(folder: str) -> None:
    _fill(folder)
    path = _file(folder)
    lines = _lines(path)
    del lines[2]
    _write(path, lines)
    result = verify(folder)
    assert not result.ok and result.first_bad == 3
    assert result.reason is not None
    assert result.reason.startswith("audit-2026-11-27.jsonl line 3 (seq 4): seq 4 where 3")


def test_forged_insertion_detected(folder: str) -> None:
    _fill(folder)
    path = _file(folder)
    lines = _lines(path)
    before = json.loads(lines[1])  # seq 2
    forged = {"seq": 3, "at": "2026-11-27T09:31:30.000000Z", "actor": "steward:mallory",
              "action": "reidentification", "details": {"reason": "curiosity"},
              "prev_hash": before["hash"]}
    forged["hash"] = entry_hash(forged)
    lines.insert(2, canonical_json(forged))
    _write(path, lines)
    result = verify(folder)
    assert not result.ok
    # The forged entry itself is consistent; the original seq 3 that follows it is not.
    assert result.entries == 3 and result.first_bad == 4
    assert result.reason is not None and result.reason.startswith(
        "audit-2026-11-27.jsonl line 4 (seq 3): seq 3 where 4")


def test_reorder_detected(folder: str) -> None:
    _fill(folder)
    path = _file(folder)
    lines = _lines(path)
    lines[1], lines[2] = lines[2], lines[1]
    _write(path, lines)
    result = verify(folder)
    assert not result.ok and result.first_bad == 2
    assert result.reason is not None and "line 2 (seq 3)" in result.reason


def test_truncation_detected_with_anchor(folder: str) -> None:
    _fill(folder)
    anchor = head(folder)
    assert anchor[0] == 5
    assert verify(folder, expected_head=anchor).ok
    path = _file(folder)
    _write(path, _lines(path)[:-2])
    assert verify(folder).ok  # a cut tail is a valid shorter chain ...
    result = verify(folder, expected_head=anchor)  # ... but not against the anchor
    assert not result.ok and result.entries == 3 and result.first_bad == 4
    assert result.reason == "log ends at seq 3, before the anchored head seq 5 (truncated)"


def test_rewritten_tail_detected_with_anchor(folder: str) -> None:
    _fill(folder, 3)
    anchor = head(folder)
    path = _file(folder)
    lines = _lines(path)
    obj = json.loads(lines[2])
    obj["details"]["i"] = 42
    obj.pop("hash")
    obj["hash"] = entry_hash(obj)  # a consistent rewrite of the last entry
    lines[2] = canonical_json(obj)
    _write(path, lines)
    assert verify(folder).ok
    result = verify(folder, expected_head=anchor)
    assert not result.ok and result.first_bad == 3
    assert result.reason is not None and "differs from the anchored head" in result.reason


def test_unparseable_line_detected(folder: str) -> None:
    """A line cut short inside the log (not its torn tail, tests/audit/test_torn_tail.py) and
    sealed by no entry after it is damage: verify and readers refuse it."""
    _fill(folder, 4)
    path = _file(folder)
    lines = _lines(path)
    lines[2] = lines[2][:-20]
    _write(path, lines)
    result = verify(folder)
    assert not result.ok and result.first_bad == 3
    assert result.reason == ("audit-2026-11-27.jsonl line 3 (seq ?): not valid JSON (truncated "
                             "or corrupted line)")
    with pytest.raises(AuditLogCorrupted, match="line 3"):
        list(entries(folder))
    _write(path, lines[:3])  # the damaged line now ends the log: a torn tail, sealed by appends
    assert verify(folder).torn is not None


def test_chain_continues_across_days(folder: str) -> None:
    log = AuditLog(folder)
    a = log.append("run", "airflow", {"n": 1}, at=datetime(2026, 11, 27, 23, 59, 59))
    b = log.append("run", "airflow", {"n": 2}, at=datetime(2026, 11, 28, 0, 0, 1))
    c = log.append("key_rotation", "steward:bob", {"key_id": "k2"},
                   at=datetime(2026, 11, 30, 8, tzinfo=UTC))
    assert sorted(p.name for p in _folder(folder).glob("*.jsonl")) == [
        "audit-2026-11-27.jsonl", "audit-2026-11-28.jsonl", "audit-2026-11-30.jsonl"]
    assert b.prev_hash == a.hash and c.prev_hash == b.hash and c.seq == 3
    assert verify(folder).ok
    # Removing a whole day's file breaks the chain at the next file.
    _file(folder, "2026-11-28").unlink()
    result = verify(folder)
    assert not result.ok
    assert result.reason is not None
    assert result.reason.startswith("audit-2026-11-30.jsonl line 1 (seq 3): seq 3 where 2")


def test_moving_an_entry_to_another_day_detected(folder: str) -> None:
    log = AuditLog(folder)
    log.append("run", "airflow", {}, at=datetime(2026, 11, 27, 10))
    log.append("run", "airflow", {}, at=datetime(2026, 11, 28, 10))
    moved = _lines(_file(folder, "2026-11-28"))
    _file(folder, "2026-11-28").unlink()
    with _file(folder).open("a", encoding="utf-8") as f:
        f.write(moved[0] + "\n")
    result = verify(folder)
    assert not result.ok and result.reason is not None
    assert "does not belong in this file" in result.reason


@pytest.mark.parametrize(
    "details",
    [
        {"note": "A123456789"},
        {"note": "id: a223456789."},
        {"ids": ["ok", "Ｆ８１２３４５６７８"]},  # full-width resident certificate number
        {"nested": {"phone": "0912345678"}},
        {"0912345678": "a key"},
    ],
)
def test_personal_values_refused_without_echo(folder: str, details: dict[str, object]) -> None:
    with pytest.raises(ValueError) as err:
        AuditLog(folder).append("query", "steward:alice", details)
    message = str(err.value)
    assert "personal" in message
    for value in ("123456789", "12345678", "0912345678"):
        assert value not in message
    assert not _folder(folder).exists() or not list(_folder(folder).glob("*.jsonl"))


def test_digests_and_batch_ids_are_not_personal(folder: str) -> None:
    digest = "a0912345678" + "0" * 53
    AuditLog(folder).append("run", "airflow", {
        "sha256": digest,
        "batch_id": "MOI_HHR_20241101-0912345678ab",
        "other_batch": "MOI_HHR_20241101-a123456789bc",
        "run_id": "run-a1b2c3d4e5f6",
        "rows": 912345678,
    })
    assert verify(folder).ok


def _append_many(folder: str, worker: int, n: int) -> None:
    log = AuditLog(folder)
    for i in range(n):
        log.append("run", f"worker-{worker}", {"i": i})


def test_concurrent_appends_from_two_processes(folder: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(folder, w, 50)) for w in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0]
    result = verify(folder)
    assert result.ok, result.reason
    assert result.entries == 100
    got = list(entries(folder))
    assert [e.seq for e in got] == list(range(1, 101))
    assert {e.actor for e in got} == {"worker-1", "worker-2"}
    assert sorted(e.details["i"] for e in got if e.actor == "worker-1") == list(range(50))


def test_a_group_commit_appends_in_order_after_the_tail(folder: str) -> None:
    log = _fill(folder, 2)
    batch = log.append_many([("exchange", "client:a", {"n": 1}), ("exchange", "client:b", {"n": 2}),
                             ("query", "analyst:c", {"n": 3})], at=DAY + timedelta(hours=1))
    assert [(e.seq, e.actor, e.details["n"]) for e in batch] == [
        (3, "client:a", 1), (4, "client:b", 2), (5, "analyst:c", 3)]
    assert batch[0].prev_hash == head_before(folder, 2) and batch[2].hash == head(folder)[1]
    assert [json.loads(line)["seq"] for line in _lines(_file(folder))] == [1, 2, 3, 4, 5]
    assert verify(folder).ok and verify(folder).entries == 5


def test_one_bad_item_writes_none_of_the_batch(folder: str) -> None:
    log = _fill(folder, 1)
    with pytest.raises(ValueError, match=r"details\.who holds what looks like"):
        log.append_many([("exchange", "client:a", {"n": 1}),
                         ("exchange", "client:a", {"who": "A123456789"})])
    assert len(_lines(_file(folder))) == 1
    assert log.append_many([]) == []


def head_before(folder: str, seq: int) -> str:
    """The hash of entry ``seq``."""
    return next(e.hash for e in entries(folder) if e.seq == seq)


def test_an_append_losing_races_backs_off_and_then_gives_up_clearly(
        folder: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lost race (another writer stored entries after the tail first: object stores) is
    retried after a random pause that grows; past the attempts and the patience, the append
    fails with one clear line and writes nothing."""
    import audit.log as audit_log

    log = AuditLog(folder)
    real = AuditLog._append_after_tail
    losses = iter([True] * 4)
    pauses: list[float] = []

    def racing(self: AuditLog, frozen: list, at: datetime | None) -> object:  # type: ignore[type-arg]
        return None if next(losses, False) else real(self, frozen, at)

    monkeypatch.setattr(AuditLog, "_append_after_tail", racing)
    monkeypatch.setattr(audit_log.time, "sleep", pauses.append)
    (entry,) = log.append_many([("run", "steward", {"n": 1})], DAY)
    assert entry.seq == 1 and len(pauses) == 4
    assert all(0 <= p <= min(1.0, 0.01 * 2 ** (k + 1)) for k, p in enumerate(pauses))

    monkeypatch.setattr(AuditLog, "_append_after_tail", lambda *a: None)
    monkeypatch.setattr(audit_log, "APPEND_ATTEMPTS", 3)
    monkeypatch.setattr(audit_log, "APPEND_PATIENCE_SECONDS", 0.0)
    with pytest.raises(AuditLogCorrupted, match=r"3 appends lost to other writers in a row over "
                                                r"0 s; nothing was written"):
        log.append("run", "steward", {"n": 2}, DAY)
    assert [e.seq for e in entries(folder)] == [1]
