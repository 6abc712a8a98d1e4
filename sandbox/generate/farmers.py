"""Deliveries of ``moa.farmer_registry`` (農民健康保險資格資料), as the agency sends them.

One XML file a month, ``inbox/moa/farmer_registry/MOA_FHI_<YYYMM>.xml`` with its ``.sha256``
companion, for every month the days from ``start`` cover. UTF-8, LF line ends, the root
``<農民資料 產製日期="YYYMMDD">`` (the production day: the first covered day of the month), one
``<農民>`` per farmer with one child element per contract field, in contract order.

Who is a farmer, since when and through which association comes from
:func:`sandbox.generate.roles.roles` as of the day before ``start`` (the population's
date), so that the feeds agree; some farmers are also labor-insured (the dual-enrolment anomaly
``roles`` builds in). Each file lists every eligible farmer; the first file, the initial
extract, also lists the farmers who lost eligibility before it: deceased farmers, whose
eligibility ended on the day of death. Later files add no such farmers (the population's deaths
all precede ``start``). The land area (hectares, two decimals) is a property of the farmer; the
elderly farmers' allowance (老農津貼) is ``Y`` for most farmers aged 65 or more on the day
before production.

An absent value (the loss date of an eligible farmer) is written by the book as
``<資格喪失日期 xsi:nil="true"/>`` (XML Schema's nil); the known issues of the interface
replace that with an empty element, ``<資格喪失日期></資格喪失日期>`` or ``<資格喪失日期/>``
(``empty_element``), or leave the element out (``missing_element``). Also injected:
``fullwidth_decimal`` (the land area in full-width forms, ``０．３５``), and the generic
``fullwidth_id``, ``padded_spaces``, ``invalid_check_digit``, ``six_digit_date`` and
``impossible_date``. Counts are in the :class:`DeliveryReport` (``issues`` and ``eligible``;
``events`` counts rows by eligibility and absent values by how they were written).

Files are written as the population streams by (one pass, every month's file open at once),
byte-identical for the same arguments; a month's file does not depend on how many months were
generated.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape, quoteattr

from kernel.contracts import feed
from kernel.twid import fullwidth, roc_date, roc_month
from sandbox.generate.household import DeliveredFile, DeliveryReport, write_digest
from sandbox.generate.issues import IssueCounter, IssueRates
from sandbox.generate.population import Person, unit_hash
from sandbox.generate.roles import roles

FEED = "moa.farmer_registry"
FILE_PREFIX = "MOA_FHI_"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
ELDERLY_AGE = 65
ELDERLY_SHARE = 0.9
"""Of farmers aged 65+: receive the elderly farmers' allowance."""
FEED_ISSUES = ("empty_element", "missing_element", "fullwidth_decimal", "fullwidth_id",
               "padded_spaces", "invalid_check_digit", "six_digit_date", "impossible_date")
"""The issues this writer injects (and counts)."""

_DATES = ("birth_date", "eligible_from", "eligible_until")
_PADS = (" ", "  ", "\u3000")
_BUFFER = 4096


@dataclass(frozen=True)
class Farmer:
    """One farmer's registry record (before any issue is injected)."""

    person: Person
    association_code: str
    eligible_from: datetime.date
    eligible_until: datetime.date | None
    land_hectares: str
    """Two decimals, ``0.35``."""

    def elderly_allowance(self, seed: int, on: datetime.date) -> str:
        """``Y`` or ``N``: most farmers aged 65+ on ``on`` (or at death) receive it."""
        p = self.person
        day = min(on, p.death_date) if p.death_date else on
        age = day.year - p.birth_date.year - ((day.month, day.day) <
                                              (p.birth_date.month, p.birth_date.day))
        old = age >= ELDERLY_AGE and unit_hash(seed, "elderly_allowance", p.index) < ELDERLY_SHARE
        return "Y" if old else "N"


def farmer(p: Person, seed: int, as_of: datetime.date) -> Farmer | None:
    """The registry record of ``p`` as of ``as_of``, or ``None`` if ``p`` is not a farmer.

    Eligibility starts on ``roles(...).enrolled_on``; a deceased farmer's ends on the day of
    death (and starts before it: an enrolment ``roles`` dates after the death is moved back).
    """
    r = roles(p, seed, as_of)
    if not r.farmer:
        return None
    since, until = r.enrolled_on, p.death_date
    if until is not None and since > until:
        back = datetime.timedelta(days=int(unit_hash(seed, "farmer_since", p.index) * 3650) + 30)
        adult = p.birth_date + datetime.timedelta(days=15 * 365)
        since = min(until, max(adult, until - back))
    cents = 10 + int(unit_hash(seed, "land", p.index) ** 3 * 490)  # 0.10 … 5.00 ha, mostly small
    return Farmer(p, r.association_code, since, until, f"{cents // 100}.{cents % 100:02d}")


def months_of(start: datetime.date, days: int) -> list[datetime.date]:
    """The production day of each month the ``days`` from ``start`` cover (its first day in
    the range)."""
    out: list[datetime.date] = []
    for d in range(days):
        day = start + datetime.timedelta(days=d)
        if not out or (day.year, day.month) != (out[-1].year, out[-1].month):
            out.append(day)
    return out


class _XmlFile:
    """One monthly file being written: buffered, hashed, renamed into place when closed."""

    def __init__(self, path: Path, root_tag: str, produced: datetime.date) -> None:
        self.path = path
        self.root_tag = root_tag
        self.tmp = path.with_name(path.name + ".part")
        self.handle: BinaryIO = self.tmp.open("wb")
        self.digest = hashlib.sha256()
        self.buffer: list[str] = []
        self.rows = 0
        day, xsi = quoteattr(roc_date(produced)), quoteattr(XSI)
        self._put(f"{DECLARATION}<{root_tag} 產製日期={day} xmlns:xsi={xsi}>\n")

    def _put(self, text: str) -> None:
        self.buffer.append(text)
        if len(self.buffer) >= _BUFFER:
            self._flush()

    def write(self, record: str) -> None:
        self._put(record)
        self.rows += 1

    def _flush(self) -> None:
        data = "".join(self.buffer).encode("utf-8")
        self.buffer.clear()
        self.digest.update(data)
        self.handle.write(data)

    def close(self, file_date: datetime.date) -> DeliveredFile:
        self._put(f"</{self.root_tag}>\n")
        self._flush()
        self.handle.close()
        os.replace(self.tmp, self.path)
        hexdigest = self.digest.hexdigest()
        write_digest(self.path, hexdigest)
        return DeliveredFile(self.path, file_date, self.rows, hexdigest)


def _impossible(d: datetime.date, rng: random.Random) -> str:
    """An impossible ROC date near ``d`` (30 February, month 13 or 00, day 32 or 00, 31 April)."""
    year, month, day = f"{d.year - 1911:03d}", f"{d.month:02d}", f"{d.day:02d}"
    return rng.choice((f"{year}0230", f"{year}13{day}", f"{year}00{day}", f"{year}{month}32",
                       f"{year}0431", f"{year}{month}00"))


class _RecordMaker:
    """Turns a farmer into a ``<農民>`` element, injecting issues and counting them."""

    def __init__(self, wires: dict[str, str], row_tag: str, counter: IssueCounter,
                 events: Counter[str]) -> None:
        self.wires = wires
        self.row_tag = row_tag
        self.counter = counter
        self.hit = counter.hit
        self.rates = counter.rates
        self.events = events

    def record(self, f: Farmer, allowance: str, rng: random.Random) -> str:
        p = f.person
        self.events["lost" if f.eligible_until else "eligible"] += 1
        values: dict[str, str | None] = {
            "national_id": p.national_id, "name": p.name, "association_code": f.association_code,
            "land_hectares": f.land_hectares, "elderly_allowance": allowance,
        }
        nid = p.national_id
        if self.hit("invalid_check_digit", rng):
            nid = nid[:-1] + str((int(nid[-1]) + rng.randint(1, 9)) % 10)
        if self.hit("fullwidth_id", rng):
            nid = fullwidth(nid)
        values["national_id"] = nid
        dates = {"birth_date": p.birth_date, "eligible_from": f.eligible_from,
                 "eligible_until": f.eligible_until}
        present = [k for k in _DATES if dates[k] is not None]
        impossible = rng.choice(present) if self.hit("impossible_date", rng) else None
        old = any(k != impossible and d is not None and d.year < 2011 for k, d in dates.items())
        six = self.hit("six_digit_date", rng, old)
        for key in _DATES:
            d = dates[key]
            if d is None:
                values[key] = None
            elif key == impossible:
                values[key] = _impossible(d, rng)
            else:
                values[key] = roc_date(d, six_digit=six)
        if self.hit("fullwidth_decimal", rng):
            values["land_hectares"] = fullwidth(f.land_hectares)
        if self.hit("padded_spaces", rng):
            key = rng.choice([k for k in self.wires if values.get(k) is not None])
            pad, where = rng.choice(_PADS), rng.randrange(3)
            values[key] = (pad if where != 1 else "") + str(values[key]) + (
                pad if where != 0 else "")
        lines = [f"  <{self.row_tag}>\n"]
        for key, wire in self.wires.items():
            value = values.get(key)
            if value is not None:
                lines.append(f"    <{wire}>{escape(value)}</{wire}>\n")
                continue
            absent = self._absent(rng)
            if absent == "omitted":
                continue
            lines.append({"nil": f'    <{wire} xsi:nil="true"/>\n',
                          "pair": f"    <{wire}></{wire}>\n",
                          "self_closing": f"    <{wire}/>\n"}[absent])
        lines.append(f"  </{self.row_tag}>\n")
        return "".join(lines)

    def _absent(self, rng: random.Random) -> str:
        """How an absent value is written: ``nil``, ``pair``, ``self_closing`` or ``omitted``."""
        roll, form = rng.random(), rng.random()
        missing, empty = self.rates.missing_element, self.rates.empty_element
        emptied = self.counter.count("empty_element", missing <= roll < missing + empty)
        if self.counter.count("missing_element", roll < missing):
            how = "omitted"
        elif emptied:
            how = "pair" if form < 0.5 else "self_closing"
        else:
            how = "nil"
        self.events[f"absent_{how}"] += 1
        return how


def write_farmer_deliveries(
    inbox: Path,
    population: Iterable[Person],
    seed: int,
    start: datetime.date,
    days: int,
    rates: IssueRates | None = None,
) -> DeliveryReport:
    """Write one file per month covered by ``days`` days from ``start`` under ``inbox`` and
    report what was written (see the module doc). ``population`` is walked once."""
    if days < 1:
        raise ValueError("days must be at least 1")
    rates = rates or IssueRates()
    if rates.empty_element + rates.missing_element > 1:
        raise ValueError("empty_element + missing_element exceed 1 (both are shares of the "
                         "absent values)")
    contract = feed(FEED)
    opts = contract.delivery.options
    out_dir = inbox / contract.delivery.inbox
    out_dir.mkdir(parents=True, exist_ok=True)
    as_of = start - datetime.timedelta(days=1)
    produced = months_of(start, days)
    files = [_XmlFile(out_dir / f"{FILE_PREFIX}{roc_month(day)}.xml", str(opts["root_tag"]), day)
             for day in produced]
    rngs = [random.Random(f"{seed}:{FEED}:rows:{roc_month(day)}") for day in produced]
    report = DeliveryReport(feed=FEED)
    maker = _RecordMaker({f.name: f.wire for f in contract.fields}, str(opts["row_tag"]),
                         IssueCounter(rates, report), report.events)
    for p in population:
        f = farmer(p, seed, as_of)
        if f is None:
            continue
        for k, (out, rng, day) in enumerate(zip(files, rngs, produced, strict=True)):
            if f.eligible_until is not None and k > 0:
                continue  # lost before the first file: listed there only
            allowance = f.elderly_allowance(seed, day - datetime.timedelta(days=1))
            out.write(maker.record(f, allowance, rng))
    for out, day in zip(files, produced, strict=True):
        report.files.append(out.close(day.replace(day=1)))
    return report
