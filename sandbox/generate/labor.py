"""Deliveries of ``bli.labor_insurance_enrollment`` (勞工保險加退保異動), as the mainframe writes.

One file a day, ``inbox/bli/labor_insurance_enrollment/BLI_LIE_<YYYYMMDD>.dat`` with its
``.sha256`` companion: fixed-width records of 80 **bytes** in CP950 (EUDC area included), CRLF
after each; a header record (``HDR`` + file date + spaces), the detail records, a trailer record
(``TRL`` + the detail count, 10 digits + spaces). Field offsets are the contract's ``bytes``.

Who is insured comes from :func:`sandbox.generate.roles.roles` (as of the day before
``start``, the population's date), so that the feeds agree:

- Day 1 carries an enrolment (action ``1``, dated ``roles.enrolled_on``) of every person with
  ``roles.labor`` at their employer (:func:`~sandbox.generate.roles.employer`), insured
  salary ``roles.salary``, category ``1`` (a small share of non-farmers: ``2``, occupational
  accident only); and, for every deceased person who was labor-insured when they died (their
  roles as of the death date), the enrolment and the withdrawal (action ``2``) dated the death.
- Later days carry the changes of about ``change_rate`` of the living persons aged 15-65, dated
  the day before the file date: of an insured person, an insured-salary change (``3``), a
  withdrawal (``2``) or a move to another employer (withdrawal and enrolment); of a person not
  insured (farmers excepted: their dual enrolment is the roles' business), a new enrolment.

Names are cut at 12 bytes, never inside a two-byte character (then padded with a space), and
padded with ASCII spaces. The known data issues are injected at the rates of
:class:`~sandbox.generate.issues.IssueRates` (:data:`LABOR_ISSUES`) and counted in the
:class:`~sandbox.generate.household.DeliveryReport`. In a byte-counted field a full-width
ID (two bytes a character) keeps only its first five characters, as the mainframe's 10-byte
field holds them; a six-digit date is right-aligned (a space first). A truncated file (the
writing job was killed) ends inside its last record and has no trailer.

Streaming: the population is walked once; day-1 records go straight to the file, and only the
persons selected for later changes are kept. Files are byte-identical for the same arguments,
and a day's file does not depend on ``days``.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import random
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from kernel.contracts import FeedContract, feed
from kernel.twid import fullwidth, roc_date
from sandbox.generate.household import DeliveredFile, DeliveryReport, encode_cp950, write_digest
from sandbox.generate.issues import Duplicator, IssueCounter, IssueRates
from sandbox.generate.population import Person, unit_hash
from sandbox.generate.roles import EMPLOYERS, SALARY_GRADES, Roles, employer, roles

__all__ = [
    "ENROL",
    "FEED",
    "FILE_PREFIX",
    "LABOR_ISSUES",
    "RECORD_LENGTH",
    "SALARY_CHANGE",
    "WITHDRAW",
    "fit",
    "write_labor_deliveries",
]

FEED = "bli.labor_insurance_enrollment"
FILE_PREFIX = "BLI_LIE_"
RECORD_LENGTH = 80
CRLF = b"\r\n"
ENROL, WITHDRAW, SALARY_CHANGE = "1", "2", "3"
ORDINARY, OCCUPATIONAL_ONLY = "1", "2"
OCCUPATIONAL_ONLY_SHARE = 0.02
"""Of the insured persons who are not farmers: insured for occupational accidents only."""
LABOR_ISSUES = ("fullwidth_id", "padded_spaces", "six_digit_date", "impossible_date",
                "duplicate_within", "duplicate_across", "invalid_check_digit", "truncated_file",
                "eudc_name")  # fmt: skip
"""The issues this writer injects or counts (``report.issues`` / ``report.eligible`` keys);
``report.issues`` also counts ``name_cut``, the names longer than their 12 bytes."""
_LATER_MIX = ((SALARY_CHANGE, 0.6), (WITHDRAW, 0.85), ("move", 1.0))
_PADS = (" ", "  ", "\u3000")
_FLUSH = 4096


def fit(text: str, width: int) -> tuple[bytes, bool]:
    """``text`` in CP950 in ``width`` bytes: cut after the last whole character that fits
    (never inside a two-byte character), padded with ASCII spaces; and whether it was cut."""
    whole = encode_cp950(text)
    if len(whole) <= width:
        return whole.ljust(width, b" "), False
    out = bytearray()
    for ch in text:
        b = encode_cp950(ch)
        if len(out) + len(b) > width:
            return bytes(out).ljust(width, b" "), True
        out += b
    return bytes(out).ljust(width, b" "), False


@dataclass(frozen=True)
class Enrolment:
    """A person's enrolment at an insurance unit: what the records of it carry."""

    unit_no: str
    ubn: str
    salary: int
    category: str


@dataclass(frozen=True)
class _Record:
    """One detail record before encoding."""

    person: Person
    enrolment: Enrolment
    action: str
    action_date: datetime.date


def _impossible(d: datetime.date, rng: random.Random) -> str:
    year = f"{d.year - 1911:03d}"
    month, day = f"{d.month:02d}", f"{d.day:02d}"
    return rng.choice(
        (f"{year}0230", f"{year}13{day}", f"{year}00{day}", f"{year}{month}32", f"{year}0431",
         f"{year}{month}00")
    )  # fmt: skip


class _RecordMaker:
    """Turns records into 80 bytes + CRLF, injecting issues and counting them.

    Each field goes to the byte span its contract declares; the bytes between (the filler)
    are spaces."""

    DATE_FIELDS = ("birth_date", "action_date")

    def __init__(self, counter: IssueCounter, contract: FeedContract) -> None:
        self.counter = counter
        self.hit = counter.hit
        self.spans: dict[str, tuple[int, int]] = {}
        for f in contract.fields:
            if f.bytes is None:
                raise ValueError(f"{contract.name}: field {f.name} has no byte span")
            self.spans[f.name] = f.bytes

    def encode(self, rec: _Record, rng: random.Random) -> bytes:
        p, e = rec.person, rec.enrolment
        national_id = p.national_id
        if self.hit("invalid_check_digit", rng):
            wrong = (int(national_id[-1]) + rng.randint(1, 9)) % 10
            national_id = national_id[:-1] + str(wrong)
        if self.hit("fullwidth_id", rng):
            national_id = fullwidth(national_id)  # 20 bytes: the field keeps the first 10
        dates = {"birth_date": p.birth_date, "action_date": rec.action_date}
        impossible = rng.choice(self.DATE_FIELDS) if self.hit("impossible_date", rng) else None
        old = any(k != impossible and d.year < 2011 for k, d in dates.items())
        six = self.hit("six_digit_date", rng, old)
        texts: dict[str, str] = {}
        for key, d in dates.items():
            if key == impossible:
                texts[key] = _impossible(d, rng)
            else:
                texts[key] = roc_date(d, six_digit=six).rjust(7)
        name, salary = p.name, f"{e.salary:06d}"
        if self.hit("padded_spaces", rng):
            pad = rng.choice(_PADS)
            name_fits = len(encode_cp950(pad + name)) <= self.width("name")
            if name_fits and rng.random() < 0.5:
                name = pad + name
            else:
                salary = f"{e.salary:6d}"
        name_bytes, cut = fit(name, self.width("name"))
        self.counter.count("name_cut", cut)
        self.counter.count("eudc_name", p.has_eudc_name)
        values = {
            "insurance_unit_no": e.unit_no.encode("ascii"), "employer_ubn": e.ubn.encode("ascii"),
            "national_id": fit(national_id, self.width("national_id"))[0], "name": name_bytes,
            "birth_date": texts["birth_date"].encode("ascii"),
            "action": rec.action.encode("ascii"),
            "action_date": texts["action_date"].encode("ascii"),
            "insured_salary": salary.encode("ascii"), "category": e.category.encode("ascii"),
        }  # fmt: skip
        record = bytearray(b" " * RECORD_LENGTH)
        for key, value in values.items():
            first, last = self.spans[key]
            if len(value) != last - first + 1:  # a bug of this writer, never of the data
                raise AssertionError(f"{key}: {len(value)} bytes for bytes {first}-{last}")
            record[first - 1 : last] = value
        return bytes(record) + CRLF

    def width(self, key: str) -> int:
        """The width in bytes of field ``key``."""
        first, last = self.spans[key]
        return last - first + 1


class _FixedWidthFile:
    """A delivery file being written: header first, the last detail record held back so that
    a killed job can be simulated, then the trailer; hashed and renamed into place."""

    def __init__(self, path: Path, file_date: datetime.date) -> None:
        self.path = path
        self.file_date = file_date
        self.tmp = path.with_name(path.name + ".part")
        self.handle: BinaryIO = self.tmp.open("wb")
        self.digest = hashlib.sha256()
        self.buffer: list[bytes] = []
        self.held: bytes | None = None
        self.rows = 0
        self._put(f"HDR{file_date:%Y%m%d}".ljust(RECORD_LENGTH).encode("ascii") + CRLF)

    def _put(self, data: bytes) -> None:
        self.buffer.append(data)
        if len(self.buffer) >= _FLUSH:
            self._flush()

    def _flush(self) -> None:
        data = b"".join(self.buffer)
        self.buffer.clear()
        self.digest.update(data)
        self.handle.write(data)

    def write(self, record: bytes) -> None:
        if self.held is not None:
            self._put(self.held)
        self.held = record
        self.rows += 1

    def close(self, cut_at: int | None = None) -> DeliveredFile:
        """Finish the file: the held record and the trailer, or (``cut_at`` bytes) only the
        first ``cut_at`` bytes of the held record and no trailer. ``rows`` counts the
        complete detail records."""
        if self.held is not None and cut_at is not None:
            self._put(self.held[:cut_at])
            self.rows -= 1
        else:
            if self.held is not None:
                self._put(self.held)
            trailer = f"TRL{self.rows:010d}".ljust(RECORD_LENGTH)
            self._put(trailer.encode("ascii") + CRLF)
        self._flush()
        self.handle.close()
        os.replace(self.tmp, self.path)
        hexdigest = self.digest.hexdigest()
        write_digest(self.path, hexdigest)
        return DeliveredFile(self.path, self.file_date, self.rows, hexdigest)


def _rng(seed: int, purpose: str, day: int) -> random.Random:
    return random.Random(f"{seed}:{FEED}:{purpose}:{day}")


def _age(p: Person, on: datetime.date) -> int:
    b = p.birth_date
    return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


class _Employers:
    """The employer pool's (unit number, business ID), computed once per employer."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.cache: dict[int, tuple[str, str]] = {}

    def enrolment(self, k: int, salary: int, category: str) -> Enrolment:
        if k not in self.cache:
            self.cache[k] = employer(k, self.seed)
        unit, ubn = self.cache[k]
        return Enrolment(unit, ubn, salary, category)


def _snapshot(
    p: Person, r: Roles, seed: int, employers: _Employers
) -> list[_Record]:
    """Day 1: the enrolment of an insured person; enrolment and withdrawal of a person who
    was insured when they died."""
    if r.labor:
        category = ORDINARY
        if not r.farmer and unit_hash(seed, "labor_category", p.index) < OCCUPATIONAL_ONLY_SHARE:
            category = OCCUPATIONAL_ONLY
        e = employers.enrolment(r.employer, r.salary, category)
        return [_Record(p, e, ENROL, r.enrolled_on)]
    if p.death_date is None:
        return []
    at_death = roles(replace(p, death_date=None), seed, p.death_date)
    if not at_death.labor:
        return []
    e = employers.enrolment(at_death.employer, at_death.salary, ORDINARY)
    return [_Record(p, e, ENROL, at_death.enrolled_on), _Record(p, e, WITHDRAW, p.death_date)]


class _Changes:
    """Later days: the changes of the selected persons, keeping their enrolment across days."""

    def __init__(self, employers: _Employers) -> None:
        self.employers = employers
        self.state: dict[int, Enrolment | None] = {}

    def records(
        self, p: Person, initial: Enrolment | None, file_date: datetime.date,
        rng: random.Random,
    ) -> list[_Record]:
        when = file_date - datetime.timedelta(days=1)
        cur = self.state.get(p.index, initial)
        roll = rng.random()
        if cur is None:
            k = rng.randrange(EMPLOYERS)
            new = self.employers.enrolment(k, rng.choice(SALARY_GRADES), ORDINARY)
            self.state[p.index] = new
            return [_Record(p, new, ENROL, when)]
        kind = next(k for k, upper in _LATER_MIX if roll < upper)
        if kind == SALARY_CHANGE:
            grade = rng.choice([g for g in SALARY_GRADES if g != cur.salary])
            new = replace(cur, salary=grade)
            self.state[p.index] = new
            return [_Record(p, new, SALARY_CHANGE, when)]
        if kind == WITHDRAW:
            self.state[p.index] = None
            return [_Record(p, cur, WITHDRAW, when)]
        k = rng.randrange(EMPLOYERS)
        moved = self.employers.enrolment(k, rng.choice(SALARY_GRADES), cur.category)
        if moved.unit_no == cur.unit_no:
            return [_Record(p, replace(cur, salary=moved.salary), SALARY_CHANGE, when)]
        self.state[p.index] = moved
        return [_Record(p, cur, WITHDRAW, when), _Record(p, moved, ENROL, when)]


def write_labor_deliveries(
    inbox: Path,
    population: Iterable[Person],
    seed: int,
    start: datetime.date,
    days: int,
    rates: IssueRates | None = None,
    *,
    change_rate: float = 0.01,
) -> DeliveryReport:
    """Write ``days`` daily files from ``start`` under ``inbox`` and report what was written.

    ``population`` (as of the day before ``start``) is walked once; see the module docstring
    for what each day carries. ``rates.truncated_file`` applies per file (one with at least one
    detail record): its last record is cut short and the trailer is missing.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    rates = rates or IssueRates()
    contract = feed(FEED)
    if contract.delivery.options.get("record_length") != RECORD_LENGTH:
        raise ValueError(f"{FEED}: the contract's record length is not {RECORD_LENGTH} bytes")
    out_dir = inbox / contract.delivery.inbox
    out_dir.mkdir(parents=True, exist_ok=True)
    as_of = start - datetime.timedelta(days=1)
    file_dates = [start + datetime.timedelta(days=d) for d in range(days)]
    report = DeliveryReport(feed=FEED)
    counter = IssueCounter(rates, report)
    maker = _RecordMaker(counter, contract)
    dup: Duplicator[bytes] = Duplicator(counter)
    employers = _Employers(seed)
    select = [_rng(seed, "select", d) for d in range(days)]
    selected: list[list[tuple[Person, Enrolment | None]]] = [[] for _ in range(days)]

    def finish(out: _FixedWidthFile, day: int) -> None:
        dup.end_file(out)
        frng = _rng(seed, "file", day)
        truncated = maker.hit("truncated_file", frng, out.held is not None)
        cut = frng.randint(1, RECORD_LENGTH - 1)
        report.files.append(out.close(cut if truncated else None))

    out = _FixedWidthFile(out_dir / f"{FILE_PREFIX}{start:%Y%m%d}.dat", start)
    rng = _rng(seed, "rows", 0)
    dup.start_file()
    for p in population:
        r = roles(p, seed, as_of)
        snapshot = _snapshot(p, r, seed, employers)
        for rec in snapshot:
            report.events[rec.action] += 1
            dup.emit(out, maker.encode(rec, rng), rng)
        working = p.alive and 15 <= _age(p, as_of) <= 65 and (r.labor or not r.farmer)
        for d in range(1, days):
            if select[d].random() < change_rate and working:
                initial = snapshot[0].enrolment if r.labor else None
                selected[d].append((p, initial))
    finish(out, 0)

    changes = _Changes(employers)
    for d in range(1, days):
        out = _FixedWidthFile(out_dir / f"{FILE_PREFIX}{file_dates[d]:%Y%m%d}.dat", file_dates[d])
        rng = _rng(seed, "rows", d)
        dup.start_file()
        for p, initial in selected[d]:
            for rec in changes.records(p, initial, file_dates[d], rng):
                report.events[rec.action] += 1
                dup.emit(out, maker.encode(rec, rng), rng)
        finish(out, d)
    return report
