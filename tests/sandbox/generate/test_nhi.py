"""The source data of nhia.insured_status: who is insured (as the roles say), the records as the
API serves them, change dates for incremental pulls, injected issues, determinism."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from kernel.twid import is_valid_person_id
from sandbox.generate import generate
from sandbox.generate.household import IssueRates
from sandbox.generate.nhi import CONFIG_FILE, RECORDS_FILE, employer_name, source_dir
from sandbox.generate.population import Population
from sandbox.generate.roles import employer, roles

START = dt.date(2024, 11, 1)
DAYS = 4
PERSONS = 3000
RATES = IssueRates.parse(["fullwidth_id=0.05", "invalid_check_digit=0.01",
                          "api_throttle=0.07", "api_unavailable=0.02"])
WIRE = ["idNo", "name", "insuredCategory", "unitName", "startDate", "endDate", "premiumSalary"]


def _generate(root: Path, **kwargs: object):
    args: dict[str, object] = {"persons": PERSONS, "seed": 9, "days": DAYS, "start": START,
                               "rates": RATES, "feeds": ["nhia.insured_status"]}
    args.update(kwargs)
    return generate(root, **args)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("nhi")
    report = _generate(root)
    lines = [json.loads(x) for x in
             (source_dir(root) / RECORDS_FILE).read_text("utf-8").splitlines()]
    return root, report.feeds["nhia.insured_status"], lines


def _id(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw).upper()


def test_records_are_the_insured_persons_as_the_roles_say(generated):
    _, report, lines = generated
    as_of = START - dt.timedelta(days=1)
    population = Population(PERSONS, 9, as_of, RATES.population_params())
    by_id = {_id(x["record"]["idNo"])[:9]: x["record"] for x in lines}
    assert len(by_id) == len(lines)  # one record per person
    insured = 0
    for p in population:
        rec = by_id.get(p.national_id[:9])
        alive_roles = roles(p, 9, as_of) if p.alive else None
        if p.alive:
            assert (rec is not None) == alive_roles.nhi
        if rec is None:
            continue
        insured += 1
        assert list(rec) == WIRE and rec["name"] == p.name
        start = dt.date.fromisoformat(rec["startDate"])
        assert max(p.birth_date, dt.date(1995, 3, 1)) <= start <= as_of
        if p.alive:
            assert rec["endDate"] is None
            if alive_roles.labor:
                assert rec["insuredCategory"] == "1"
                assert rec["unitName"] == employer_name(alive_roles.employer, 9)
                assert rec["premiumSalary"] == alive_roles.salary
                assert start == max(alive_roles.enrolled_on, dt.date(1995, 3, 1))
            else:
                assert rec["insuredCategory"] in {"2", "3", "4", "5", "6"}
        else:  # deceased: the coverage ended at death
            assert rec["endDate"] == p.death_date.isoformat() and start <= p.death_date
        if rec["insuredCategory"] in {"5", "6"}:
            assert rec["unitName"] == f"{p.county}{p.district}公所" and rec["premiumSalary"] == 0
    assert insured == len(lines) == report.files[0].rows
    categories = Counter(x["record"]["insuredCategory"] for x in lines)
    assert set(categories) <= set("123456") and categories["1"] > len(lines) / 4
    assert report.events["ended"] == sum(1 for x in lines if x["record"]["endDate"])
    assert report.events["ended"] > 0


def test_employer_names_come_from_the_shared_employer_pool():
    assert employer_name(17, 9) == employer_name(17, 9)
    assert employer_name(17, 9).endswith(("有限公司", "企業社"))
    # The name is a function of the employer's business ID: the same firm in every feed.
    assert employer(17, 9) == employer(17, 9)
    assert len({employer_name(k, 9) for k in range(200)}) > 150


def test_change_dates_spread_over_the_generated_days(generated):
    _, _, lines = generated
    changed = Counter(x["changed"] for x in lines)
    days = [(START + dt.timedelta(days=d)).isoformat() for d in range(DAYS)]
    for day in days:
        assert 0.01 * len(lines) < changed[day] < 0.04 * len(lines), day
    later = [c for c in changed if c > days[-1]]
    assert later == []
    for x in lines:
        if x["changed"] < days[0]:  # untouched: changed when the status last changed
            rec = x["record"]
            assert x["changed"] == (rec["endDate"] or rec["startDate"])
    assert all(list(x) == ["changed", "record"] for x in lines)


def test_injected_issues_are_counted_and_visible(generated):
    root, report, lines = generated
    ids = [x["record"]["idNo"] for x in lines]
    fullwidth = [i for i in ids if i != _id(i)]
    wrong = [i for i in ids if not is_valid_person_id(_id(i))]
    assert report.issues["fullwidth_id"] == len(fullwidth) > 0
    assert report.issues["invalid_check_digit"] == len(wrong) > 0
    assert report.eligible["fullwidth_id"] == len(lines)
    assert 0.03 < len(fullwidth) / len(lines) < 0.07
    cfg = json.loads((source_dir(root) / CONFIG_FILE).read_text("utf-8"))
    assert cfg["api_throttle"] == 0.07 and cfg["api_unavailable"] == 0.02
    assert cfg["seed"] == 9 and cfg["client_id"] and len(cfg["client_secret"]) >= 32


def test_deterministic_and_reported(generated, tmp_path):
    root, report, _ = generated
    again = _generate(tmp_path).feeds["nhia.insured_status"]
    (f,) = report.files
    (g,) = again.files
    assert f.path == source_dir(root) / RECORDS_FILE and f.file_date == START + dt.timedelta(3)
    assert f.path.read_bytes() == g.path.read_bytes()
    assert hashlib.sha256(f.path.read_bytes()).hexdigest() == f.sha256 == g.sha256
    assert (source_dir(root) / CONFIG_FILE).read_bytes() == \
        (source_dir(tmp_path) / CONFIG_FILE).read_bytes()
    assert not (tmp_path / "inbox" / "nhia").exists()  # an API feed: nothing in the inbox
    clean = _generate(tmp_path / "clean", rates=IssueRates.none()).feeds["nhia.insured_status"]
    assert clean.issues["fullwidth_id"] == clean.issues["invalid_check_digit"] == 0
