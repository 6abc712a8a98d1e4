"""Source data of ``nhia.insured_status`` (健保投保狀態): what the NHIA API serves.

The lakehouse pulls this feed from an API, so the generator writes no inbox file: it writes the
data of the bundled API simulator (:mod:`sandbox.simulator.nhia`) under
``<root>/sources/nhia/insured_status/``:

``records.jsonl``
    One line per insured person, in population order:
    ``{"changed":"YYYY-MM-DD","record":{"idNo":…,"name":…,"insuredCategory":"1",
    "unitName":…,"startDate":"YYYY-MM-DD","endDate":null,"premiumSalary":27470}}``.
    ``record`` is served as is; ``changed`` is the source's internal change date (never served)
    that answers ``changed_since``.
``simulator.json``
    The simulator's settings: seed, client credentials, the throttling and outage rates
    (``IssueRates.api_throttle`` / ``api_unavailable``), token lifetime.

Who is insured, and how, comes from :func:`sandbox.generate.roles.roles` (as of the day
before ``start``, the population's date): every person whose roles say ``nhi``; a deceased
person who was insured (the roles of the person as if alive) has ``endDate`` = the date of death.
Labor-insured persons are insured through their employer (category 1, ``unitName`` the
employer's name, :func:`employer_name`), farmers through their district's farmers' association
(3), some of working age through an occupational union (2), a few as military (4) or low-income
households (5), everyone else as regional population (6) through the district office.

Change dates: a record's change date is when its status last changed (its start, or its end),
except that ``change_rate`` of the records per generated day were touched on that day (a
re-verification by the agency; the content is the current state): an incremental pull
(``changed_since``) returns that subset. Known issues injected and counted: ``fullwidth_id``
and ``invalid_check_digit``. Deterministic (same arguments, same bytes) and streaming.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import os
import random
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from kernel.layout import Layout
from kernel.twid import fullwidth
from sandbox.generate.household import DeliveredFile, DeliveryReport
from sandbox.generate.issues import IssueCounter, IssueRates
from sandbox.generate.population import Person, unit_hash
from sandbox.generate.roles import SALARY_GRADES, employer, roles

FEED = "nhia.insured_status"
RECORDS_FILE = "records.jsonl"
CONFIG_FILE = "simulator.json"
NHI_START = datetime.date(1995, 3, 1)
"""National health insurance began on 1995-03-01: no coverage starts earlier."""
CLIENT_ID = "lakehouse-convergence"
TOKEN_REQUESTS = 500
"""Data requests a simulator token is good for (a long pull renews its token)."""
RETRY_AFTER_SECONDS = 1

_ISSUES = ("invalid_check_digit", "fullwidth_id")
_BRANDS = ("大同", "聯華", "國泰", "台光", "長興", "永豐", "新光", "華新", "東元", "統達",
           "宏泰", "建興", "福懋", "中興", "大亞", "正隆", "興農", "南亞", "全家", "佳和",
           "美利", "信昌", "順益", "立德", "遠東", "亞洲", "環球", "金鼎", "光華", "和成")
_TRADES = ("電子", "紡織", "食品", "營造", "機械", "貿易", "科技", "物流", "餐飲", "塑膠",
           "精密", "生技", "資訊", "建設", "運輸", "化學", "鋼鐵", "印刷")  # fmt: skip
_FORMS = ("股份有限公司", "股份有限公司", "有限公司", "企業社")
_UNIONS = ("汽車駕駛員", "美容美髮", "水電工程", "建築業", "餐飲業", "室內裝修", "攝影業",
           "服裝業", "機車修理業", "理貨業")  # fmt: skip
_UNION_GRADES = SALARY_GRADES[:4]


def source_dir(root: Path) -> Path:
    """The simulator's data folder under lakehouse ``root``
    (:meth:`kernel.layout.Layout.source_dir`: ``<root>/sources/nhia/insured_status``)."""
    return Layout(str(root)).source_dir(FEED)


@functools.cache
def employer_name(k: int, seed: int) -> str:
    """The registered name of employer ``k`` of the pool (the same firm in every feed).

    Derived from :func:`~sandbox.generate.roles.employer` (its business ID seeds the name):
    ``<brand><trade><form>``, e.g. ``聯華精密股份有限公司``.
    """
    _unit, ubn = employer(k, seed)
    rng = random.Random(f"{seed}:employer_name:{ubn}")
    return rng.choice(_BRANDS) + rng.choice(_TRADES) + rng.choice(_FORMS)


def _age(birth: datetime.date, on: datetime.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


class _Maker:
    """Builds each insured person's record, injecting the feed's issues and counting them."""

    def __init__(self, seed: int, as_of: datetime.date, start: datetime.date, days: int,
                 rates: IssueRates, change_rate: float) -> None:
        self.seed = seed
        self.as_of = as_of
        self.start = start
        self.days = days
        self.rates = rates
        self.change_rate = change_rate
        self.rng = random.Random(f"{seed}:{FEED}:rows")
        self.report = DeliveryReport(feed=FEED)
        self.counter = IssueCounter(rates, self.report)

    def hit(self, kind: str) -> bool:
        """Draw whether the record gets issue ``kind`` (every record is eligible); count it."""
        return self.counter.hit(kind, self.rng)

    def record(self, p: Person) -> tuple[datetime.date, dict[str, Any]] | None:
        """(change date, served record) of ``p``, or None when ``p`` is not insured."""
        r = roles(replace(p, death_date=None) if p.death_date else p, self.seed, self.as_of)
        if not r.nhi:
            return None
        h = functools.partial(unit_hash, self.seed, index=p.index)
        age = _age(p.birth_date, p.death_date or self.as_of)
        office = f"{p.county}{p.district}公所"
        start = None
        if r.labor:
            category, unit, salary = "1", employer_name(r.employer, self.seed), r.salary
            start = r.enrolled_on
        elif r.farmer:
            category, unit, salary = "3", f"{p.county}{p.district}農會", SALARY_GRADES[0]
            start = r.enrolled_on
        elif 15 <= age <= 65 and h("nhi_union") < 0.25:
            trade = _UNIONS[int(h("nhi_trade") * len(_UNIONS))]
            grade = _UNION_GRADES[int(h("nhi_grade") * len(_UNION_GRADES))]
            category, unit, salary = "2", f"{p.county}{trade}職業工會", grade
        elif 20 <= age <= 45 and h("nhi_military") < 0.02:
            category, unit = "4", "國防部"
            salary = SALARY_GRADES[int(h("nhi_grade") * len(SALARY_GRADES))]
        elif h("nhi_low_income") < 0.015:
            category, unit, salary = "5", office, 0
        else:
            category, unit, salary = "6", office, 0
        if start is None:  # insured from birth, or since a change of category
            years = min(_age(p.birth_date, self.as_of), 30)
            since = self.as_of - datetime.timedelta(days=int(h("nhi_since") * 365 * years))
            start = since if years else p.birth_date
        start = max(start, p.birth_date, NHI_START)
        if p.death_date is not None:
            start = min(start, p.death_date)
        end = p.death_date
        touched = h("nhi_touched")
        if touched < self.change_rate * self.days:
            changed = self.start + datetime.timedelta(days=int(touched / self.change_rate))
        else:
            changed = end or start
        national_id = p.national_id
        if self.hit("invalid_check_digit"):
            wrong = (int(national_id[-1]) + self.rng.randint(1, 9)) % 10
            national_id = national_id[:-1] + str(wrong)
        if self.hit("fullwidth_id"):
            national_id = fullwidth(national_id)
        self.report.events[f"category_{category}"] += 1
        if end is not None:
            self.report.events["ended"] += 1
        return changed, {
            "idNo": national_id, "name": p.name, "insuredCategory": category, "unitName": unit,
            "startDate": start.isoformat(), "endDate": end.isoformat() if end else None,
            "premiumSalary": salary,
        }


def write_nhi_source(
    inbox: Path,
    population: Iterable[Person],
    seed: int,
    start: datetime.date,
    days: int,
    rates: IssueRates | None = None,
    *,
    change_rate: float = 0.02,
) -> DeliveryReport:
    """Write the simulator's data under ``<inbox>/../sources/nhia/insured_status/``.

    ``population`` is walked once (as of the day before ``start``). ``change_rate``: the share
    of records touched on each of the ``days`` days from ``start`` (their change date). The
    report lists ``records.jsonl`` (dated the last generated day) and counts the injected
    issues and the records per insured category (``events``).
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    if not 0.0 <= change_rate * days <= 1.0:
        raise ValueError("change_rate × days must be between 0 and 1")
    rates = rates or IssueRates()
    out_dir = source_dir(Path(inbox).parent)
    out_dir.mkdir(parents=True, exist_ok=True)
    maker = _Maker(seed, start - datetime.timedelta(days=1), start, days, rates, change_rate)
    path = out_dir / RECORDS_FILE
    tmp = path.with_name(path.name + ".part")
    digest = hashlib.sha256()
    rows = 0
    buffer: list[bytes] = []
    with tmp.open("wb") as fh:
        for p in population:
            made = maker.record(p)
            if made is None:
                continue
            changed, record = made
            line = json.dumps({"changed": changed.isoformat(), "record": record},
                              ensure_ascii=False, separators=(",", ":")) + "\n"
            buffer.append(line.encode("utf-8"))
            rows += 1
            if len(buffer) >= 4096:
                data = b"".join(buffer)
                digest.update(data)
                fh.write(data)
                buffer.clear()
        data = b"".join(buffer)
        digest.update(data)
        fh.write(data)
    os.replace(tmp, path)
    config = {
        "records": RECORDS_FILE,
        "seed": seed,
        "client_id": CLIENT_ID,
        "client_secret": "sim-" + hashlib.sha256(f"{seed}:{FEED}:secret".encode()).hexdigest()[:32],
        "api_throttle": rates.api_throttle,
        "api_unavailable": rates.api_unavailable,
        "retry_after_seconds": RETRY_AFTER_SECONDS,
        "token_requests": TOKEN_REQUESTS,
        "expires_in": 3600,
    }
    cfg = out_dir / CONFIG_FILE
    cfg.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    report = maker.report
    report.files.append(DeliveredFile(path, start + datetime.timedelta(days=days - 1), rows,
                                      digest.hexdigest()))
    for kind in _ISSUES:
        report.issues.setdefault(kind, 0)
    return report
