"""The source of bli.benefit_payments: the benefits system's table in the real PostgreSQL,
filled from the shared population and roles; deterministic, idempotent, with the feed's known
issues (later updates, personal data in remarks) at their rates."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from kernel.twid import is_valid_person_id, roc_month
from pull import jdbc
from sandbox.generate import WRITERS, generate, writer
from sandbox.generate.benefits import MONTHS, last_payment_month, write_benefit_source
from sandbox.generate.household import IssueRates
from sandbox.generate.population import Population
from sandbox.generate.roles import roles
from tests import pg as pg_helper
from tests.pg import PgSchema

pg = pg_helper.pg

SEED, START, DAYS = 5, dt.date(2024, 11, 1), 3
TPE = dt.timezone(dt.timedelta(hours=8))
SECRET = "not-the-real-password-7f3a9c"


def _population(n: int = 1000) -> Population:
    return Population(n=n, seed=SEED, as_of=START - dt.timedelta(days=1))


def _table(pg: PgSchema) -> list[tuple[object, ...]]:
    return pg.rows("SELECT * FROM benefit_payments ORDER BY payment_id")


def _month(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def test_the_writer_is_registered():
    assert WRITERS["bli.benefit_payments"] == (
        "sandbox.generate.benefits:write_benefit_source")
    assert writer("bli.benefit_payments") is write_benefit_source


def test_payments_follow_the_roles_and_stop_at_death(pg: PgSchema):
    report = write_benefit_source(Path("/nonexistent"), _population(), SEED, START, DAYS,
                                  IssueRates())
    rows = _table(pg)
    assert len(rows) == report.events["payments"] > 0 and report.files == []
    persons = {p.national_id: p for p in _population()}
    last = last_payment_month(START)
    assert last == _month(dt.date(2024, 10, 1))  # the run of the 25th came before Nov 1
    by_person: dict[str, list[tuple[object, ...]]] = {}
    for row in rows:
        by_person.setdefault(str(row[1]), []).append(row)
    recipients = {p.national_id: roles(p, SEED, START - dt.timedelta(days=1))
                  for p in persons.values()}
    assert set(by_person) == {n for n, r in recipients.items() if r.benefit}
    after_death = 0
    for nid, payments in by_person.items():
        p, r = persons[nid], recipients[nid]
        assert is_valid_person_id(nid)
        assert {row[2] for row in payments} == {r.benefit}
        months = sorted(int(str(row[3])[:3]) * 12 + 1911 * 12 + int(str(row[3])[3:]) - 1
                        for row in payments)
        assert months == list(range(months[0], months[-1] + 1)) and months[-1] <= last
        if p.death_date is None:
            assert months == list(range(last - MONTHS + 1, last + 1))
            continue
        death = _month(p.death_date)
        late = [m for m in months if m > death]
        after_death += len(late)
        if r.paid_after_death:  # 1-4 months after the death month (none after the last run)
            assert 1 <= len(late) <= 4 or (death == last and not late)
            assert months[-1] == last or len(late) == months[-1] - death
        else:
            assert not late
    assert after_death == report.events["paid_after_death"] > 0
    for row in rows:  # the payment id: the ROC month, then the person
        assert str(row[0]).startswith(str(row[3])) and len(str(row[0])) == 12
        assert row[5] is not None and str(row[6]).isdigit()


def test_the_known_issues_come_at_their_rates(pg: PgSchema):
    rates = IssueRates(payment_update=0.1, remark_pii=0.3)
    report = write_benefit_source(Path("/x"), _population(), SEED, START, DAYS, rates)
    rows = _table(pg)
    n = len(rows)
    assert report.eligible == Counter(payment_update=n, remark_pii=n)
    run = [r for r in rows if r[8].astimezone(TPE).day == 25]  # type: ignore[attr-defined]
    updated = [r for r in rows if r not in run]
    assert len(updated) == report.issues["payment_update"]
    assert abs(len(updated) / n - 0.1) < 0.04
    first, end = (dt.datetime.combine(START + dt.timedelta(days=d), dt.time(), TPE)
                  for d in (0, DAYS))
    assert all(first <= r[8] < end for r in updated)  # type: ignore[operator]
    cancelled = [r for r in rows if r[4] == 0]
    assert len(cancelled) == report.events["cancelled"] and set(cancelled) <= set(updated)
    assert report.events["corrected"] + report.events["cancelled"] == len(updated)
    names = {p.national_id: p for p in _population()}
    personal = [r for r in rows if r[7] and names[str(r[1])].name in str(r[7])]
    assert len(personal) == report.issues["remark_pii"] and abs(len(personal) / n - 0.3) < 0.06
    for r in personal:
        p = names[str(r[1])]
        assert any(x in str(r[7]) for x in ("09", p.national_id, p.address, "帳號"))


def test_clean_rates_and_the_same_arguments_give_the_same_table(pg: PgSchema):
    write_benefit_source(Path("/x"), _population(300), SEED, START, DAYS, IssueRates.none())
    clean = _table(pg)
    assert all(r[8].astimezone(TPE).day == 25 for r in clean)  # type: ignore[attr-defined]
    persons = {p.national_id: p for p in _population(300)}
    assert not any(r[7] and persons[str(r[1])].name in str(r[7]) for r in clean)
    # Idempotent: the same arguments twice, through the generator's entry point, leave the
    # same content (the table is replaced, never appended to).
    once = generate(Path("/x"), persons=300, seed=SEED, days=DAYS, start=START,
                    feeds=["bli.benefit_payments"])
    content = _table(pg)
    twice = generate(Path("/x"), persons=300, seed=SEED, days=DAYS, start=START,
                     feeds=["bli.benefit_payments"])
    assert _table(pg) == content and len(content) == len(clean)
    assert once.feeds["bli.benefit_payments"] == twice.feeds["bli.benefit_payments"]
    assert {str(r[3]) for r in content} >= {roc_month(dt.date(2024, 10, 1))}


def test_an_unreachable_database_fails_with_a_clear_message(monkeypatch):
    monkeypatch.setenv(jdbc.URL_ENV, "postgresql://localhost:1/benefits")
    monkeypatch.setenv(jdbc.PASSWORD_ENV, SECRET)
    with pytest.raises(RuntimeError) as err:
        write_benefit_source(Path("/x"), _population(10), SEED, START, DAYS, IssueRates())
    assert str(err.value) == (
        "benefits database unreachable at jdbc:postgresql://localhost:1/benefits as the "
        "configured user: run infra/benefits_db.sh (or set LAKEHOUSE_BENEFITS_DB_URL, _USER, "
        "_PASSWORD)")
