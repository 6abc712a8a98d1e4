"""Deliveries of ``bli.labor_pension_contributions`` (勞退新制 提繳明細), as the agency sends them.

One CSV file a month, ``inbox/bli/labor_pension_contributions/BLI_LPC_<YYYMM>.csv`` with its
``.sha256`` companion, where ``YYYMM`` is the ROC **contribution month**: the file delivered in
a month covers the month before (``start`` 2024-11-01 delivers ``BLI_LPC_11310.csv``, October
2024). UTF-8 with a byte-order mark, LF line ends, comma separated, a header row of the
contract's wire names, fields quoted only when they hold a comma, quote or line break.

Every person labor-insured by :func:`sandbox.generate.roles.roles` (the same persons and
employers as the labor-insurance feed) has one row a month: the wage of their role, the
employer's 6.00 %, their own voluntary rate, and the amount
``round(wage x (6 + self_rate) / 100)``.

Known data issues, injected at the rates of :class:`IssueRates` and counted in the
:class:`DeliveryReport`: thousands separators (``"45,800"``), rates with a percent sign (``6%``),
the header repeated in the middle of a file (two extracts concatenated; per file), and the
generic full-width IDs, padded spaces, wrong check digits and rows repeated within a file.

Streaming: the population is walked once; rows go straight to the files (the second extract of
a file with a repeated header is spooled to disk and appended at the end). Files are
byte-identical for the same arguments, and a month's file does not depend on ``days``.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

from kernel.contracts import feed
from kernel.twid import fullwidth, is_valid_business_id, roc_month
from sandbox.generate.household import DeliveredFile, DeliveryReport, csv_field, write_digest
from sandbox.generate.issues import REPEAT_WITHIN, IssueCounter, IssueRates, Repeats
from sandbox.generate.population import Person
from sandbox.generate.roles import EMPLOYERS, employer, roles

__all__ = [
    "EMPLOYER_RATE",
    "FEED",
    "FILE_PREFIX",
    "PENSION_ISSUES",
    "contribution_amount",
    "contribution_months",
    "write_pension_deliveries",
]

FEED = "bli.labor_pension_contributions"
FILE_PREFIX = "BLI_LPC_"
BOM = b"\xef\xbb\xbf"
EMPLOYER_RATE = 6.0
"""The employer's rate (percent): the legal minimum, which every generated employer pays."""
PENSION_ISSUES = ("thousands_separator", "percent_sign", "repeated_header", "fullwidth_id",
                  "padded_spaces", "invalid_check_digit", "duplicate_within")  # fmt: skip
"""The issues this writer injects (``report.issues`` / ``report.eligible`` keys)."""
NATIONAL_ID_SHARE = 0.75
"""Of the wrong check digits: the share in the national ID (the rest in the employer's ID)."""
_PADS = (" ", "  ", "\u3000")
_FLUSH_LINES = 4096


def contribution_months(start: datetime.date, days: int) -> list[datetime.date]:
    """The contribution months (first days) delivered over ``days`` days from ``start``: for
    each calendar month the days touch, the month before it, in order."""
    if days < 1:
        raise ValueError("days must be at least 1")
    months: list[datetime.date] = []
    for d in range(days):
        day = start + datetime.timedelta(days=d)
        prev = (day.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
        if not months or months[-1] != prev:
            months.append(prev)
    return months


def contribution_amount(wage: int, self_rate: float) -> int:
    """``wage x (6 + self_rate) / 100`` rounded half up to whole NT$ (exact, in hundredths)."""
    rate = round(EMPLOYER_RATE * 100) + round(self_rate * 100)
    return (wage * rate + 5000) // 10000


def _number(n: int, separators: bool) -> str:
    return f"{n:,}" if separators else str(n)


def _rate(rate: float, sign: bool) -> str:
    return f"{rate:g}%" if sign else f"{rate:.2f}"


def _line(values: Sequence[str]) -> bytes:
    return (",".join(csv_field(v) for v in values) + "\n").encode("utf-8")


class _Sink:
    """A byte stream written in blocks (a delivery file or a spool of its second extract)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: BinaryIO = path.open("wb")
        self.digest = hashlib.sha256()
        self.buffer: list[bytes] = []

    def put(self, data: bytes) -> None:
        self.buffer.append(data)
        if len(self.buffer) >= _FLUSH_LINES:
            self.flush()

    def flush(self) -> None:
        data = b"".join(self.buffer)
        self.buffer.clear()
        self.digest.update(data)
        self.handle.write(data)

    def close(self) -> None:
        self.flush()
        self.handle.close()


class _Extract:
    """One extract of a file: its rows in order, with rows repeated a little later."""

    def __init__(self, sink: _Sink) -> None:
        self.sink = sink
        self.rows = 0
        self.later: Repeats[bytes] = Repeats()

    def write(self, line: bytes) -> None:
        self.sink.put(line)
        self.rows += 1

    def emit(self, line: bytes, repeat_after: int | None) -> None:
        self.write(line)
        self.later.fresh_row()
        if repeat_after is not None:
            self.later.repeat(line, repeat_after)
        for again in self.later.due():
            self.write(again)

    def finish(self) -> None:
        for again in self.later.rest():
            self.write(again)


class _MonthFile:
    """The delivery of one contribution month: BOM, header, rows; with a repeated header, the
    second extract (employers of the upper half of the pool) follows the header again."""

    def __init__(self, out_dir: Path, month: datetime.date, header: bytes, seed: int,
                 rates: IssueRates) -> None:  # fmt: skip
        self.month = month
        self.roc = roc_month(month)
        self.path = out_dir / f"{FILE_PREFIX}{self.roc}.csv"
        self.header = header
        self.rng = random.Random(f"{seed}:{FEED}:rows:{self.roc}")
        split = random.Random(f"{seed}:{FEED}:file:{self.roc}").random()
        self.repeated_header = split < rates.repeated_header
        self.main = _Sink(self.path.with_name(self.path.name + ".part"))
        self.main.put(BOM + header)
        self.first = _Extract(self.main)
        self.second = (_Extract(_Sink(self.path.with_name(self.path.name + ".part2")))
                       if self.repeated_header else None)  # fmt: skip

    def extract(self, employer_index: int) -> _Extract:
        """The extract holding the rows of employer ``employer_index``."""
        if self.second is not None and employer_index >= EMPLOYERS // 2:
            return self.second
        return self.first

    def close(self) -> DeliveredFile:
        self.first.finish()
        rows = self.first.rows
        if self.second is not None:
            self.second.finish()
            self.second.sink.close()
            self.main.put(self.header)
            self.main.flush()
            spool = self.second.sink.path
            with spool.open("rb") as handle:
                while block := handle.read(1 << 20):
                    self.main.digest.update(block)
                    self.main.handle.write(block)
            spool.unlink()
            rows += self.second.rows
        self.main.close()
        os.replace(self.main.path, self.path)
        hexdigest = self.main.digest.hexdigest()
        write_digest(self.path, hexdigest)
        return DeliveredFile(self.path, self.month, rows, hexdigest)


class _RowMaker:
    """Turns a contribution into a CSV line, injecting issues and counting them."""

    def __init__(self, columns: Sequence[str], counter: IssueCounter) -> None:
        self.columns = tuple(columns)
        self.hit = counter.hit

    def line(self, month: str, ubn: str, national_id: str, wage: int, self_rate: float,
             rng: random.Random) -> bytes:  # fmt: skip
        amount = contribution_amount(wage, self_rate)
        if self.hit("invalid_check_digit", rng):
            if rng.random() < NATIONAL_ID_SHARE:
                wrong = (int(national_id[-1]) + rng.randint(1, 9)) % 10
                national_id = national_id[:-1] + str(wrong)
            else:
                digits = [d for d in "0123456789" if not is_valid_business_id(ubn[:-1] + d)]
                ubn = ubn[:-1] + rng.choice(digits)
        if self.hit("fullwidth_id", rng):
            national_id = fullwidth(national_id)
        numbers = rng.choice((("wage",), ("amount",), ("wage", "amount")))
        large = {k for k, n in (("wage", wage), ("amount", amount)) if n >= 1000}
        grouped: set[str] = set()
        if self.hit("thousands_separator", rng, bool(large)):
            grouped = (large & set(numbers)) or large
        rates = rng.choice((("employer_rate",), ("self_rate",), ("employer_rate", "self_rate")))
        signed = set(rates) if self.hit("percent_sign", rng) else set()
        values = {
            "contribution_month": month,
            "employer_ubn": ubn,
            "national_id": national_id,
            "wage": _number(wage, "wage" in grouped),
            "employer_rate": _rate(EMPLOYER_RATE, "employer_rate" in signed),
            "self_rate": _rate(self_rate, "self_rate" in signed),
            "amount": _number(amount, "amount" in grouped),
        }
        if self.hit("padded_spaces", rng):
            key = rng.choice(self.columns)
            pad = rng.choice(_PADS)
            where = rng.randrange(3)
            values[key] = (pad if where != 1 else "") + values[key] + (pad if where != 0 else "")
        return _line([values[c] for c in self.columns])


def write_pension_deliveries(
    inbox: Path,
    population: Iterable[Person],
    seed: int,
    start: datetime.date,
    days: int,
    rates: IssueRates | None = None,
) -> DeliveryReport:
    """Write one file per contribution month delivered over ``days`` days from ``start`` under
    ``inbox`` and report what was written.

    ``population`` is walked once; the roles are taken as of the day before ``start`` (the
    population's date), so the contributors are the labor-insured persons of the
    labor-insurance feed, with the same employers. ``report.files[i].file_date`` is the first
    day of the contribution month (the date the file name carries); ``rows`` counts data rows
    (repeats included, the repeated header line not). ``report.events["contribution"]`` counts
    fresh (not repeated) rows.
    """
    months = contribution_months(start, days)
    rates = rates or IssueRates()
    contract = feed(FEED)
    columns = [f.name for f in contract.fields]
    header = _line([f.wire for f in contract.fields])
    out_dir = inbox / contract.delivery.inbox
    out_dir.mkdir(parents=True, exist_ok=True)
    as_of = start - datetime.timedelta(days=1)
    report = DeliveryReport(feed=FEED)
    counter = IssueCounter(rates, report)
    maker = _RowMaker(columns, counter)
    files = [_MonthFile(out_dir, m, header, seed, rates) for m in months]
    for f in files:
        counter.count("repeated_header", f.repeated_header)
    ubns: dict[int, str] = {}
    for p in population:
        r = roles(p, seed, as_of)
        if not r.labor:
            continue
        if r.employer not in ubns:
            ubns[r.employer] = employer(r.employer, seed)[1]
        for f in files:
            line = maker.line(f.roc, ubns[r.employer], p.national_id, r.wage, r.self_rate, f.rng)
            repeat = maker.hit("duplicate_within", f.rng)
            after = f.rng.randint(1, REPEAT_WITHIN)
            f.extract(r.employer).emit(line, after if repeat else None)
            report.events["contribution"] += 1
    for f in files:
        report.files.append(f.close())
    return report
