"""Deliveries of ``moi.household_registry`` (戶籍異動資料), as the agency sends them.

One CSV file a day, ``inbox/moi/household_registry/MOI_HHR_<YYYYMMDD>.csv`` with its
``.sha256`` companion: CP950 with the EUDC area (private-use characters of rare names), CRLF,
comma separated, a header row of the contract's wire names, fields quoted only when they hold a
comma, quote or line break. Day 1 carries one event for every person (a snapshot); later days
carry the changes of about ``change_rate`` of the living persons.

The known data issues of the interface are injected at the rates of :class:`IssueRates` and
counted in the :class:`DeliveryReport`, so that tests can check that the pipeline handles each.
Files are byte-identical for the same seed and arguments, and the first days do not depend on
the number of days generated.
"""

from __future__ import annotations

import codecs
import datetime
import hashlib
import os
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

from kernel.contracts import feed
from kernel.twid import fullwidth, roc_date
from sandbox.generate import names
from sandbox.generate.issues import Duplicator, IssueCounter, IssueRates
from sandbox.generate.population import (
    EUDC_COUNT,
    EUDC_FIRST,
    MOVER_HOUSEHOLD_BASE,
    Person,
    PopulationParams,
    household_no,
    make_address,
    make_given_name,
    unit_hash,
)

FEED = "moi.household_registry"
FILE_PREFIX = "MOI_HHR_"

BIRTH, MOVE_IN, MOVE_OUT, DEATH, CORRECTION = "01", "02", "03", "04", "05"
CHANGE_TYPES = (BIRTH, MOVE_IN, MOVE_OUT, DEATH, CORRECTION)
_LATER_MIX = ((MOVE_IN, 0.50), (MOVE_OUT, 0.65), (DEATH, 0.75), (CORRECTION, 1.0))
_RECENT_BIRTH = datetime.timedelta(days=365)
_NEEDS_QUOTES = re.compile(r'[,"\r\n]')

# --- CP950 with the EUDC area ------------------------------------------------------------------

_EUDC_HANDLER = "convergence.ms950_eudc"


def eudc_bytes(ch: str) -> bytes:
    """The two CP950 bytes of an EUDC code point (U+E000 → ``FA 40``), as MS950 maps them."""
    index = ord(ch) - EUDC_FIRST
    if not 0 <= index < EUDC_COUNT:
        raise ValueError(f"U+{ord(ch):04X} is outside the CP950 EUDC area U+E000…U+E310")
    lead, pos = divmod(index, 157)
    return bytes((0xFA + lead, 0x40 + pos if pos < 63 else 0xA1 + pos - 63))


def eudc_char(lead: int, trail: int) -> str | None:
    """The private-use character of an EUDC byte pair (``FA 40`` → U+E000), or ``None``."""
    if not 0xFA <= lead <= 0xFE:
        return None
    if 0x40 <= trail <= 0x7E:
        pos = trail - 0x40
    elif 0xA1 <= trail <= 0xFE:
        pos = trail - 0xA1 + 63
    else:
        return None
    return chr(EUDC_FIRST + (lead - 0xFA) * 157 + pos)


def _eudc_errors(exc: UnicodeError) -> tuple[str | bytes, int]:
    if isinstance(exc, UnicodeEncodeError):
        chars = exc.object[exc.start : exc.end]
        if all(0 <= ord(c) - EUDC_FIRST < EUDC_COUNT for c in chars):
            return b"".join(eudc_bytes(c) for c in chars), exc.end
    if isinstance(exc, UnicodeDecodeError):
        data = exc.object
        if exc.start + 1 < len(data):
            ch = eudc_char(data[exc.start], data[exc.start + 1])
            if ch is not None:
                return ch, exc.start + 2
    raise exc


codecs.register_error(_EUDC_HANDLER, _eudc_errors)


def encode_cp950(text: str) -> bytes:
    """``text`` in CP950 as Microsoft/Java ``MS950`` writes it, EUDC area included.

    Python's ``cp950`` codec leaves out the EUDC area (0xFA40–0xFEFE ↔ U+E000–U+E310).
    """
    return text.encode("cp950", _EUDC_HANDLER)


def decode_cp950(data: bytes) -> str:
    """CP950 bytes to text as ``MS950`` reads them, EUDC area included."""
    return data.decode("cp950", _EUDC_HANDLER)


# --- Report ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveredFile:
    """One delivered file: where, for which day, how many data rows, its SHA-256."""

    path: Path
    file_date: datetime.date
    rows: int
    sha256: str


@dataclass
class DeliveryReport:
    """What a writer delivered: files, injected issues (per kind) and events (per type)."""

    feed: str
    files: list[DeliveredFile] = field(default_factory=list)
    issues: Counter[str] = field(default_factory=Counter)
    """Rows that got each issue (duplicates counted as the extra rows they add)."""
    eligible: Counter[str] = field(default_factory=Counter)
    """Rows that could get each issue: ``issues[k] / eligible[k]`` approximates the rate."""
    events: Counter[str] = field(default_factory=Counter)
    """Fresh (not duplicated) rows per change type."""

    @property
    def rows(self) -> int:
        """Data rows over all files, duplicates included."""
        return sum(f.rows for f in self.files)


# --- Writing -----------------------------------------------------------------------------------


def csv_field(value: str) -> str:
    """``value`` as a CSV field: quoted (quotes doubled) only when it holds ``,`` ``"`` or a
    line break."""
    if _NEEDS_QUOTES.search(value):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_line(values: Sequence[str]) -> str:
    """One CSV record with its CRLF line end."""
    return ",".join(csv_field(v) for v in values) + "\r\n"


def write_digest(path: Path, digest: str) -> Path:
    """Write ``<path>.sha256`` in ``sha256sum`` format; return its path."""
    companion = path.with_name(path.name + ".sha256")
    _atomic_write(companion, f"{digest}  {path.name}\n".encode("ascii"))
    return companion


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class _DeliveryFile:
    """A file being written: buffered, hashed, renamed into place when closed."""

    def __init__(self, path: Path, header: str) -> None:
        self.path = path
        self.tmp = path.with_name(path.name + ".part")
        self.handle: BinaryIO = self.tmp.open("wb")
        self.digest = hashlib.sha256()
        self.buffer: list[bytes] = []
        self.rows = 0
        self._put(header)

    def _put(self, line: str) -> None:
        self.buffer.append(encode_cp950(line))
        if len(self.buffer) >= 4096:
            self._flush()

    def write(self, line: str) -> None:
        self._put(line)
        self.rows += 1

    def _flush(self) -> None:
        data = b"".join(self.buffer)
        self.buffer.clear()
        self.digest.update(data)
        self.handle.write(data)

    def close(self, file_date: datetime.date) -> DeliveredFile:
        self._flush()
        self.handle.close()
        os.replace(self.tmp, self.path)
        hexdigest = self.digest.hexdigest()
        write_digest(self.path, hexdigest)
        return DeliveredFile(self.path, file_date, self.rows, hexdigest)


@dataclass
class _Event:
    """A change event: the person's state after it, its type and dates."""

    person: Person
    change_type: str
    change_date: datetime.date


def _impossible(d: datetime.date, rng: random.Random) -> str:
    year = f"{d.year - 1911:03d}"
    month, day = f"{d.month:02d}", f"{d.day:02d}"
    return rng.choice(
        (f"{year}0230", f"{year}13{day}", f"{year}00{day}", f"{year}{month}32", f"{year}0431",
         f"{year}{month}00")
    )  # fmt: skip


class _RowMaker:
    """Turns events into CSV lines, injecting issues and counting them."""

    DATE_FIELDS = ("birth_date", "change_date", "death_date")

    def __init__(self, columns: Sequence[str], counter: IssueCounter, seed: int) -> None:
        self.columns = tuple(columns)
        self.counter = counter
        self.hit = counter.hit
        self.rates = counter.rates
        self.seed = seed

    def line(self, ev: _Event, rng: random.Random) -> str:
        p = ev.person
        values: dict[str, str] = {
            "national_id": p.national_id,
            "name": p.name,
            "sex": p.sex,
            "address": p.address,
            "household_no": p.household_no,
            "change_type": ev.change_type,
        }
        dates = {
            "birth_date": p.birth_date,
            "change_date": ev.change_date,
            "death_date": p.death_date if ev.change_type == DEATH else None,
        }
        if self.hit("invalid_check_digit", rng):
            wrong = (int(p.national_id[-1]) + rng.randint(1, 9)) % 10
            values["national_id"] = p.national_id[:-1] + str(wrong)
        if self.hit("fullwidth_id", rng):
            values["national_id"] = fullwidth(values["national_id"])
        present = [k for k in self.DATE_FIELDS if dates[k] is not None]
        impossible = rng.choice(present) if self.hit("impossible_date", rng) else None
        old = any(k != impossible and d is not None and d.year < 2011 for k, d in dates.items())
        six = self.hit("six_digit_date", rng, old)
        for key in self.DATE_FIELDS:
            d = dates[key]
            if d is None:
                values[key] = ""
            elif key == impossible:
                values[key] = _impossible(d, rng)
            else:
                values[key] = roc_date(d, six_digit=six)
        if self.hit("tai_variant", rng, "臺" in p.address):
            values["address"] = values["address"].replace("臺", "台")
        comma = unit_hash(self.seed, "comma_in_address", p.index) < self.rates.comma_in_address
        if self.counter.count("comma_in_address", comma):
            cut = len(p.county) + len(p.district)
            values["address"] = values["address"][:cut] + "," + values["address"][cut:]
        if self.hit("padded_spaces", rng):
            key = rng.choice(self.columns)
            pad = rng.choice((" ", "  ", "\u3000"))
            where = rng.randrange(3)
            values[key] = (pad if where != 1 else "") + values[key] + (pad if where != 0 else "")
        self.counter.count("eudc_name", p.has_eudc_name)
        return csv_line([values[c] for c in self.columns])


def _rng(seed: int, purpose: str, day: int) -> random.Random:
    return random.Random(f"{seed}:{FEED}:{purpose}:{day}")


def _snapshot_event(p: Person, start: datetime.date, rng: random.Random) -> _Event:
    """Day 1: the event that explains the person's state (birth, move-in or death)."""
    last = start - datetime.timedelta(days=1)
    if p.death_date is not None:
        when = min(p.death_date + datetime.timedelta(days=rng.randrange(15)), last)
        return _Event(p, DEATH, max(when, p.death_date))
    if start - p.birth_date <= _RECENT_BIRTH:
        when = min(p.birth_date + datetime.timedelta(days=rng.randrange(31)), last)
        return _Event(p, BIRTH, max(when, p.birth_date))
    lower = max(p.birth_date, start - datetime.timedelta(days=30 * 365))
    span = max((last - lower).days, 0)
    return _Event(p, MOVE_IN, lower + datetime.timedelta(days=rng.randrange(span + 1)))


class _Changes:
    """Later days: the change events of the selected persons, keeping their state across days."""

    def __init__(self, seed: int, params: PopulationParams) -> None:
        self.seed = seed
        self.params = params
        self.state: dict[int, Person] = {}
        self.next_household = MOVER_HOUSEHOLD_BASE

    def event(self, p: Person, file_date: datetime.date, rng: random.Random) -> _Event | None:
        changed_before = p.index in self.state
        cur = self.state.get(p.index, p)
        if not cur.alive:
            return None
        when = file_date - datetime.timedelta(days=1)
        roll = rng.random()
        kind = next(k for k, upper in _LATER_MIX if roll < upper)
        if kind == MOVE_IN:
            county = cur.county if rng.random() < 0.7 else None
            county, district, address = make_address(rng, county)
            hh = household_no(names.COUNTIES[county][0], self.next_household, self.seed)
            self.next_household += 1
            new = replace(cur, county=county, district=district, address=address, household_no=hh)
        elif kind == DEATH:
            lag = 0 if changed_before else rng.randrange(10)
            new = replace(cur, death_date=max(when - datetime.timedelta(days=lag), cur.birth_date))
        elif kind == CORRECTION and cur.id_kind == "national" and rng.random() < 0.5:
            given = make_given_name(rng, cur.sex, self.params)
            new = replace(cur, name=cur.surname + given)
        elif kind == CORRECTION:
            _, district, address = make_address(rng, cur.county)
            new = replace(cur, district=district, address=address)
        else:  # MOVE_OUT: the registration address stays the last one
            new = cur
        self.state[p.index] = new
        return _Event(new, kind, when)


def write_household_deliveries(
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

    ``population`` is walked once. Day 1 (file date ``start``) has one event per person, dated
    before ``start``; each later day has the changes (moves, deaths, corrections) of about
    ``change_rate`` of the living persons, dated the day before the file date.

    ``rates.eudc_name`` is only reported here: rare characters belong to the person and come
    with the population (:meth:`IssueRates.population_params`).
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    rates = rates or IssueRates()
    contract = feed(FEED)
    columns = [f.name for f in contract.fields]
    header = csv_line([f.wire for f in contract.fields])
    out_dir = inbox / contract.delivery.inbox
    out_dir.mkdir(parents=True, exist_ok=True)
    file_dates = [start + datetime.timedelta(days=d) for d in range(days)]
    report = DeliveryReport(feed=FEED)
    counter = IssueCounter(rates, report)
    maker = _RowMaker(columns, counter, seed)
    dup: Duplicator[str] = Duplicator(counter)
    select = [_rng(seed, "select", d) for d in range(days)]
    selected: list[list[Person]] = [[] for _ in range(days)]

    out = _DeliveryFile(out_dir / f"{FILE_PREFIX}{start:%Y%m%d}.csv", header)
    rng = _rng(seed, "rows", 0)
    dup.start_file()
    for p in population:
        ev = _snapshot_event(p, start, rng)
        report.events[ev.change_type] += 1
        dup.emit(out, maker.line(ev, rng), rng)
        for d in range(1, days):
            if select[d].random() < change_rate and p.alive:
                selected[d].append(p)
    dup.end_file(out)
    report.files.append(out.close(start))

    changes = _Changes(seed, rates.population_params())
    for d in range(1, days):
        file_date = file_dates[d]
        out = _DeliveryFile(out_dir / f"{FILE_PREFIX}{file_date:%Y%m%d}.csv", header)
        rng = _rng(seed, "rows", d)
        dup.start_file()
        for p in selected[d]:
            change = changes.event(p, file_date, rng)
            if change is None:
                continue
            report.events[change.change_type] += 1
            dup.emit(out, maker.line(change, rng), rng)
        dup.end_file(out)
        report.files.append(out.close(file_date))
    return report
