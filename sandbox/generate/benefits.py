"""The source of ``bli.benefit_payments`` (年金給付付款明細): the benefits system's table.

Unlike the file-drop writers, this one fills the agency's database, which the lakehouse then
pulls over JDBC (:mod:`pull.jdbc`); nothing is written under ``inbox``. The
table is the interface specification's ``benefit_payments`` (created by
``infra/benefits_db.sh``); the connection comes from the environment as for the puller
(``LAKEHOUSE_BENEFITS_DB_URL``, ``LAKEHOUSE_BENEFITS_DB_USER``,
``LAKEHOUSE_BENEFITS_DB_PASSWORD``, or the Airflow connection ``benefits_db``).

Who is paid: the persons with a benefit in :func:`sandbox.generate.roles.roles` (the roles
every feed agrees on). A living recipient has a payment for each of the last
:data:`MONTHS` payment months up to ``start`` (the monthly run writes the month's rows on day
:data:`RUN_DAY`, Taipei time). A deceased recipient's payments stop at the month of death,
except for those with ``paid_after_death``: their payments go on for 1-4 months after the
death month (the cases of ``gold.deceased_with_active_payments``).

Known issues of the feed, at the rates of :class:`IssueRates`:

``payment_update``  a row updated after its first version, with a later ``updated_at`` inside
                    the generated days (``start`` … ``start + days - 1``): its amount corrected,
                    or the payment cancelled (amount 0);
``remark_pii``      a clerk's remark with the recipient's personal data in free form (name,
                    national ID, mobile number ``0912-345-678``, address, post-office or bank
                    account); the other remarks are empty, NULL or harmless.

The table holds each payment's current version only (as the agency's table does): the
history appears in the lakehouse when a row changes between two pulls. Writing is one
transaction (``TRUNCATE``, then ``COPY`` in batches), so running the writer again with the
same arguments leaves exactly the same table content.
"""

from __future__ import annotations

import datetime
import os
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kernel.twid import roc_month
from sandbox.generate.household import DeliveryReport
from sandbox.generate.issues import IssueCounter, IssueRates
from sandbox.generate.population import Person, unit_hash
from sandbox.generate.roles import roles

__all__ = ["COLUMNS", "MONTHS", "RUN_DAY", "write_benefit_source"]

FEED = "bli.benefit_payments"
TABLE = "benefit_payments"
COLUMNS = ("payment_id", "national_id", "benefit_type", "payment_month", "amount", "bank_code",
           "account_no", "remark", "updated_at")  # fmt: skip
MONTHS = 6
"""Payment months per recipient: the last six up to ``start`` (up to the death month)."""
RUN_DAY = 25
"""Day of the month on which the monthly payment run writes its rows."""
TAIPEI = datetime.timezone(datetime.timedelta(hours=8))
POST_OFFICE = "700"
BANKS = ("004", "005", "006", "007", "008", "009", "011", "012", "013", "017", "808", "812",
         "822")  # fmt: skip
AMOUNTS = {"OLD_AGE": (8000, 28000), "DISABILITY": (4000, 20000), "SURVIVOR": (3000, 15000)}
"""Monthly amount ranges (NT$) per benefit type."""
BATCH_ROWS = 20000
"""Rows per ``COPY`` write."""

_HARMLESS = ("按月撥付", "年度查核完成", "補發上月差額", "依規定核定", "已完成身分查驗",
             "給付標準調整")  # fmt: skip
_PII_TEMPLATES = (
    "受款人{name}({nid})來電{phone}，改匯郵局帳號{post}",
    "{name}君來電{phone}詢問入帳日期",
    "家屬來電：{name}已遷居{address}，通知書改寄新址",
    "退匯重撥：{name} 身分證{nid} 郵局局號{office}帳號{account7}",
    "{name}（{nid}）通訊地址{address}，電話{phone}",
    "受款人{name}申請改匯{bank}銀行帳號{bank_account}",
)


@dataclass(frozen=True)
class _Month:
    """A payment month: its index (year * 12 + month - 1) and the run's date."""

    index: int

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.index // 12, self.index % 12 + 1, 1)

    @property
    def run_day(self) -> datetime.date:
        return self.first_day.replace(day=RUN_DAY)


def _month_index(d: datetime.date) -> int:
    return d.year * 12 + d.month - 1


def last_payment_month(start: datetime.date) -> int:
    """The index of the latest month whose payment run came before ``start``."""
    index = _month_index(start)
    return index if start.day > RUN_DAY else index - 1


def _copy_text(value: str | None) -> str:
    """A value in PostgreSQL's COPY text format (``\\N`` for NULL)."""
    if value is None:
        return "\\N"
    return (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def _at(day: datetime.date, rng: random.Random) -> datetime.datetime:
    """A moment of office hours (08:00-18:00 Taipei) on ``day``, to the microsecond."""
    seconds = rng.randrange(10 * 3600)
    return datetime.datetime(day.year, day.month, day.day, 8, tzinfo=TAIPEI) + datetime.timedelta(
        seconds=seconds, microseconds=rng.randrange(1_000_000))


def _timestamptz(ts: datetime.datetime) -> str:
    return ts.isoformat(sep=" ", timespec="microseconds")


@dataclass(frozen=True)
class _Account:
    bank: str
    number: str


def _account(p: Person, rng: random.Random) -> _Account:
    """The recipient's account: Chunghwa Post (7-digit office + 7-digit account) or a bank."""
    if rng.random() < 0.45:
        return _Account(POST_OFFICE, f"{rng.randrange(10**7):07d}{rng.randrange(10**7):07d}")
    digits = rng.choice((12, 13, 14))
    return _Account(rng.choice(BANKS), "".join(str(rng.randrange(10)) for _ in range(digits)))


def _phone(rng: random.Random) -> str:
    return f"09{rng.randrange(100):02d}-{rng.randrange(1000):03d}-{rng.randrange(1000):03d}"


def _pii_remark(p: Person, account: _Account, rng: random.Random) -> str:
    """A clerk's note with the recipient's own personal data in free form."""
    office, acct = f"{rng.randrange(10**7):07d}", f"{rng.randrange(10**7):07d}"
    if account.bank == POST_OFFICE:
        office, acct = account.number[:7], account.number[7:]
    template = rng.choice(_PII_TEMPLATES)
    return template.format(
        name=p.name, nid=p.national_id, phone=_phone(rng), address=p.address,
        post=f"{office}-{acct}", office=office, account7=acct,
        bank=rng.choice(BANKS), bank_account="".join(str(rng.randrange(10)) for _ in range(12)),
    )


def _months_of(p: Person, paid_after_death: bool, last: int, h: float) -> list[int]:
    """The payment months of a recipient (indices), oldest first."""
    if p.death_date is None:
        end = last
    else:
        end = _month_index(p.death_date) + (1 + int(h * 4) if paid_after_death else 0)
        end = min(end, last)
    top = last if p.death_date is None else min(_month_index(p.death_date), last)
    return list(range(top - MONTHS + 1, end + 1))


class _Rows:
    """Payment rows of the recipients, as COPY text lines, with the report's counts."""

    def __init__(self, seed: int, start: datetime.date, days: int, rates: IssueRates) -> None:
        self.seed, self.start, self.days, self.rates = seed, start, days, rates
        self.as_of = start - datetime.timedelta(days=1)
        self.last = last_payment_month(start)
        self.report = DeliveryReport(feed=FEED)
        self._hit = IssueCounter(rates, self.report).hit

    def of(self, p: Person) -> Iterator[str]:
        r = roles(p, self.seed, self.as_of)
        if r.benefit is None:
            return
        rng = random.Random(f"{self.seed}:{FEED}:{p.index}")
        h = lambda salt: unit_hash(self.seed, salt, p.index)  # noqa: E731
        low, high = AMOUNTS[r.benefit]
        monthly = low + int(h("benefit_amount") * (high - low))
        account = _account(p, rng)
        death = None if p.death_date is None else _month_index(p.death_date)
        months = _months_of(p, r.paid_after_death, self.last, h("benefit_after_months"))
        ev = self.report.events
        ev["recipients"] += 1
        ev["deceased_recipients"] += death is not None
        for m in map(_Month, months):
            amount = monthly
            updated = _at(m.run_day, rng)
            remark: str | None = rng.choice((None, "", "", *_HARMLESS))
            if self._hit("remark_pii", rng):
                remark = _pii_remark(p, account, rng)
            if self._hit("payment_update", rng):
                updated = _at(self.start + datetime.timedelta(days=rng.randrange(self.days)), rng)
                if rng.random() < 0.3:
                    amount = 0
                    ev["cancelled"] += 1
                    remark = remark or "註銷給付"
                else:
                    amount = max(0, monthly + rng.choice((-1, 1)) * rng.randrange(1, 201) * 10)
                    ev["corrected"] += 1
                    remark = remark or "更正給付金額"
            ev[r.benefit] += 1
            ev["payments"] += 1
            if death is not None and m.index > death:
                ev["paid_after_death"] += 1
            month_code = roc_month(m.first_day)
            values = (str(int(month_code) * 10_000_000 + p.index), p.national_id, r.benefit,
                      month_code, str(amount), account.bank, account.number, remark,
                      _timestamptz(updated))  # fmt: skip
            yield "\t".join(_copy_text(v) for v in values) + "\n"


def _batches(lines: Iterable[str], size: int) -> Iterator[bytes]:
    buffer: list[str] = []
    for line in lines:
        buffer.append(line)
        if len(buffer) >= size:
            yield "".join(buffer).encode("utf-8")
            buffer.clear()
    if buffer:
        yield "".join(buffer).encode("utf-8")


def write_benefit_source(
    inbox: Path,
    population: Iterable[Person],
    seed: int,
    start: datetime.date,
    days: int,
    rates: IssueRates | None = None,
) -> DeliveryReport:
    """Replace the content of the benefits database's ``benefit_payments`` table with the
    payments of ``population`` (see the module docstring) and report what was written.

    ``inbox`` is not used (the source is the database). ``report.files`` stays empty;
    ``report.events`` counts ``payments``, ``recipients``, ``deceased_recipients``,
    ``paid_after_death`` (rows paid for a month after the death month), ``corrected``,
    ``cancelled`` and the rows per benefit type; ``report.issues`` and ``report.eligible``
    count ``payment_update`` and ``remark_pii``.
    """
    import psycopg

    from pull.jdbc import target

    if days < 1:
        raise ValueError("days must be at least 1")
    rows = _Rows(seed, start, days, rates or IssueRates())
    db = target(os.environ)
    try:
        with psycopg.connect(db.conninfo()) as conn, conn.cursor() as cur:
            cur.execute(f"TRUNCATE {TABLE}")
            with cur.copy(f"COPY {TABLE} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                lines = (line for p in population for line in rows.of(p))
                for chunk in _batches(lines, BATCH_ROWS):
                    copy.write(chunk)
    except psycopg.OperationalError:
        raise RuntimeError(
            f"benefits database unreachable at {db.where} as the configured user: run "
            "infra/benefits_db.sh (or set LAKEHOUSE_BENEFITS_DB_URL, _USER, _PASSWORD)") from None
    except psycopg.errors.UndefinedTable:
        raise RuntimeError(f"no table {TABLE} in {db.where}: run infra/benefits_db.sh") from None
    return rows.report
