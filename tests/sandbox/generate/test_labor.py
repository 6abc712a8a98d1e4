"""The generator of bli.labor_insurance_enrollment deliveries: the fixed-width structure, the
agreement with the shared roles, determinism, the injected issues and the truncated file."""

from __future__ import annotations

import datetime
import hashlib
import math
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from kernel.contracts import feed
from kernel.twid import is_valid_person_id, parse_roc_date
from sandbox.generate import generate
from sandbox.generate.household import DeliveryReport, IssueRates, decode_cp950
from sandbox.generate.labor import (
    ENROL,
    LABOR_ISSUES,
    SALARY_CHANGE,
    WITHDRAW,
    fit,
    write_labor_deliveries,
)
from sandbox.generate.population import Population, PopulationParams
from sandbox.generate.roles import SALARY_GRADES, employer, roles

CONTRACT = feed("bli.labor_insurance_enrollment")
SPANS = {f.name: f.bytes for f in CONTRACT.fields}
START = datetime.date(2024, 11, 1)
AS_OF = START - datetime.timedelta(days=1)
SEED = 5
PERSONS = 3000
DAYS = 3
RATES = IssueRates(
    fullwidth_id=0.04, padded_spaces=0.05, six_digit_date=0.05, impossible_date=0.03,
    duplicate_within=0.03, duplicate_across=0.05, invalid_check_digit=0.02,
)  # fmt: skip
NO_DUPLICATES = IssueRates(fullwidth_id=0.04, padded_spaces=0.05, six_digit_date=0.05,
                           impossible_date=0.03, duplicate_within=0.0, duplicate_across=0.0,
                           invalid_check_digit=0.02)  # fmt: skip
FEED = "bli.labor_insurance_enrollment"
Record = dict[str, str]


def _write(root: Path, rates: IssueRates, persons: int = PERSONS, days: int = DAYS,
           params: PopulationParams | None = None) -> DeliveryReport:
    population = Population(persons, SEED, AS_OF, params or rates.population_params())
    return write_labor_deliveries(root / "inbox", population, SEED, START, days, rates)


def _lines(data: bytes) -> list[bytes]:
    """The records of a file (without their CRLF)."""
    parts = data.split(b"\r\n")
    assert parts[-1] == b"", "the file ends with CRLF"
    return parts[:-1]


def _fields(line: bytes) -> Record:
    """A detail record cut by the contract's byte spans, decoded as CP950 (EUDC included)."""
    out = {}
    for name, span in SPANS.items():
        assert span is not None
        out[name] = decode_cp950(line[span[0] - 1 : span[1]])
    return out


def _details(path: Path) -> list[Record]:
    return [_fields(line) for line in _lines(path.read_bytes())[1:-1]]


@pytest.fixture(scope="module")
def issues(tmp_path_factory: pytest.TempPathFactory) -> DeliveryReport:
    return _write(tmp_path_factory.mktemp("labor"), RATES)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> DeliveryReport:
    return _write(tmp_path_factory.mktemp("clean"), IssueRates.none())


# --- files ---------------------------------------------------------------------------------------


def test_one_file_a_day_with_its_companion(issues: DeliveryReport) -> None:
    expected = [f"BLI_LIE_{START + datetime.timedelta(days=d):%Y%m%d}.dat" for d in range(DAYS)]
    assert [f.path.name for f in issues.files] == expected
    assert all(re.fullmatch(CONTRACT.delivery.file_pattern, n) for n in expected)
    folder = issues.files[0].path.parent
    assert folder.relative_to(folder.parents[1]) == Path(CONTRACT.delivery.inbox)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*expected, *(f"{n}.sha256" for n in expected)])
    for f in issues.files:
        data = f.path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        assert f.sha256 == digest
        assert Path(f"{f.path}.sha256").read_bytes() == f"{digest}  {f.path.name}\n".encode()


def test_records_are_80_bytes_with_header_and_trailer(issues: DeliveryReport) -> None:
    for f in issues.files:
        data = f.path.read_bytes()
        assert data.count(b"\n") == data.count(b"\r\n") == data.count(b"\r")
        lines = _lines(data)
        assert all(len(line) == 80 for line in lines)
        assert lines[0] == f"HDR{f.file_date:%Y%m%d}".ljust(80).encode()
        assert lines[-1] == f"TRL{len(lines) - 2:010d}".ljust(80).encode()
        assert len(lines) - 2 == f.rows
        assert all(line[60:] == b" " * 20 for line in lines[1:-1])  # the filler
        for line in lines[1:-1]:
            decode_cp950(line)  # strict: every record is CP950 text
    assert issues.rows == sum(f.rows for f in issues.files)


def test_day_1_enrols_every_insured_person_of_the_roles(clean: DeliveryReport) -> None:
    population = Population(PERSONS, SEED, AS_OF, IssueRates.none().population_params())
    expected: dict[tuple[str, str], tuple[str, str, str, str]] = {}
    withdrawn: dict[str, str] = {}
    farmers: set[str] = set()
    for p in population:
        r = roles(p, SEED, AS_OF)
        if r.farmer:
            farmers.add(p.national_id)
        if r.labor:
            unit, ubn = employer(r.employer, SEED)
            expected[(p.national_id, ENROL)] = (unit, ubn, f"{r.salary:06d}",
                                                f"{r.enrolled_on.year - 1911:03d}"
                                                f"{r.enrolled_on:%m%d}")
        assert not (r.labor and p.death_date)
        if p.death_date is not None:
            withdrawn[p.national_id] = p.death_date.isoformat()
    day1 = _details(clean.files[0].path)
    enrolled = {(r["national_id"], r["action"]): (r["insurance_unit_no"], r["employer_ubn"],
                                                  r["insured_salary"], r["action_date"])
                for r in day1 if r["national_id"] not in withdrawn}  # fmt: skip
    assert enrolled == expected
    assert len(expected) > 0.3 * PERSONS
    # The deceased who were insured when they died: enrolled, then withdrawn at death.
    dead = [r for r in day1 if r["national_id"] in withdrawn]
    by_person = Counter(r["national_id"] for r in dead)
    assert dead and set(by_person.values()) == {2}
    for r in dead:
        if r["action"] == WITHDRAW:
            assert parse_roc_date(r["action_date"]).isoformat() == withdrawn[r["national_id"]]
    assert {r["action"] for r in day1} == {ENROL, WITHDRAW}
    assert Counter(r["category"] for r in day1).keys() == {"1", "2"}
    # Occupational accident only: never a farmer (their dual enrolment is an ordinary one).
    assert not {r["national_id"] for r in day1 if r["category"] == "2"} & farmers


def test_later_days_carry_changes_of_enrolments(clean: DeliveryReport) -> None:
    enrolled: dict[tuple[str, str], str] = {}  # (person, unit) -> salary, while enrolled
    for r in _details(clean.files[0].path):
        key = (r["national_id"], r["insurance_unit_no"])
        if r["action"] == ENROL:
            enrolled[key] = r["insured_salary"]
        else:
            del enrolled[key]
    actions: Counter[str] = Counter()
    for f in clean.files[1:]:
        records = _details(f.path)
        assert 0 < len(records) < 0.03 * PERSONS
        day_before = f.file_date - datetime.timedelta(days=1)
        for r in records:
            assert parse_roc_date(r["action_date"]) == day_before
            key = (r["national_id"], r["insurance_unit_no"])
            actions[r["action"]] += 1
            if r["action"] == ENROL:
                assert key not in enrolled
                enrolled[key] = r["insured_salary"]
            elif r["action"] == SALARY_CHANGE:
                assert enrolled[key] != r["insured_salary"]
                enrolled[key] = r["insured_salary"]
            else:
                assert enrolled.pop(key) == r["insured_salary"]
            assert int(r["insured_salary"]) in SALARY_GRADES
    assert set(actions) == {ENROL, WITHDRAW, SALARY_CHANGE}
    assert sum(clean.events.values()) == clean.rows


def test_same_arguments_same_bytes_and_first_days_independent_of_days(
    tmp_path: Path, issues: DeliveryReport
) -> None:
    again = _write(tmp_path / "a", RATES)
    assert [f.path.read_bytes() for f in again.files] == [
        f.path.read_bytes() for f in issues.files]
    fewer = _write(tmp_path / "b", RATES, days=2)
    assert [f.sha256 for f in fewer.files] == [f.sha256 for f in issues.files[:2]]
    other = write_labor_deliveries(tmp_path / "c", Population(PERSONS, SEED + 1, AS_OF),
                                   SEED + 1, START, 1, RATES)
    assert other.files[0].sha256 != issues.files[0].sha256


def test_the_population_is_walked_once(tmp_path: Path) -> None:
    walks = iter(Population(200, SEED, AS_OF))  # a one-shot iterator: a second walk is empty
    report = write_labor_deliveries(tmp_path, walks, SEED, START, 2, IssueRates.none())
    assert report.files[0].rows > 0 and report.files[1].rows > 0


# --- issues --------------------------------------------------------------------------------------


def test_issue_rates_are_met(issues: DeliveryReport) -> None:
    assert set(issues.issues) <= {*LABOR_ISSUES, "name_cut"}
    for kind in ("fullwidth_id", "padded_spaces", "six_digit_date", "impossible_date",
                 "duplicate_within", "duplicate_across", "invalid_check_digit"):
        n, hits = issues.eligible[kind], issues.issues[kind]
        rate = getattr(RATES, kind)
        assert n > 0 and hits > 0, kind
        assert abs(hits - n * rate) <= 4 * math.sqrt(n * rate * (1 - rate)) + 1, kind
    assert issues.eligible["truncated_file"] == DAYS and issues.issues["truncated_file"] == 0


def _fullwidth(text: str) -> bool:
    return any("\uff01" <= c <= "\uff5e" for c in text)


def test_each_injected_issue_is_in_the_files(tmp_path: Path) -> None:
    report = _write(tmp_path, NO_DUPLICATES)
    found: Counter[str] = Counter()
    for f in report.files:
        for r in _details(f.path):
            nid = r["national_id"]
            if _fullwidth(nid):
                # Two bytes a character: the 10-byte field holds the first five of them.
                found["fullwidth_id"] += 1
                assert len(nid) == 5 and all(_fullwidth(c) for c in nid)
                assert not is_valid_person_id(unicodedata.normalize("NFKC", nid))
            dates = [r["birth_date"], r["action_date"]]
            if any(re.fullmatch(r" \d{6}", d) for d in dates):
                found["six_digit_date"] += 1
            if any(re.fullmatch(r"\d{7}", d) and parse_roc_date(d) is None for d in dates):
                found["impossible_date"] += 1
            if r["name"][0] in " \u3000" or r["insured_salary"].startswith(" "):
                found["padded_spaces"] += 1
                assert r["name"].strip(" \u3000") and r["insured_salary"].strip().isdigit()
    for kind in ("fullwidth_id", "six_digit_date", "impossible_date", "padded_spaces"):
        assert found[kind] == report.issues[kind] > 0, kind


def test_duplicates_repeat_records_byte_for_byte(issues: DeliveryReport) -> None:
    files = [_lines(f.path.read_bytes())[1:-1] for f in issues.files]
    within = sum(len(lines) - len(set(lines)) for lines in files)
    assert within >= issues.issues["duplicate_within"] > 0
    earlier = set(files[0])
    across = 0
    for lines in files[1:]:
        across += sum(1 for line in set(lines) if line in earlier)
        earlier |= set(lines)
    assert across == issues.issues["duplicate_across"] > 0


def test_names_are_cut_at_12_bytes_on_a_character_boundary(tmp_path: Path) -> None:
    assert fit("王小明", 12) == ("王小明".encode("cp950") + b" " * 6, False)
    assert fit("A歐陽娜娜娜娜", 12) == ("A歐陽娜娜娜".encode("cp950") + b" ", True)
    assert fit("歐陽娜娜娜娜", 12) == ("歐陽娜娜娜娜".encode("cp950"), False)
    assert fit("NGUYEN VAN THANH", 12) == (b"NGUYEN VAN T", True)
    assert fit("Ａ１２３４５６", 10) == ("Ａ１２３４".encode("cp950"), True)
    # Many foreign residents: Latin names longer than 12 bytes are cut.
    params = PopulationParams(resident=0.4, compound_surname=0.2, eudc_name=0.05)
    report = _write(tmp_path, IssueRates.none(), persons=1500, days=1, params=params)
    names = {p.national_id: p.name for p in Population(1500, SEED, AS_OF, params)}
    cut = 0
    for r in _details(report.files[0].path):
        expected, was_cut = fit(names[r["national_id"]], 12)
        assert r["name"] == decode_cp950(expected)
        cut += was_cut
    assert cut == report.issues["name_cut"] > 0
    assert report.issues["eudc_name"] > 0


def test_a_truncated_file_ends_inside_its_last_record_without_trailer(tmp_path: Path) -> None:
    report = _write(tmp_path, IssueRates.parse(["truncated_file=1"], IssueRates.none()),
                    persons=1000)
    assert report.issues["truncated_file"] == report.eligible["truncated_file"] == DAYS
    for f in report.files:
        data = f.path.read_bytes()
        *complete, tail = data.split(b"\r\n")
        assert 0 < len(tail) < 80 and not tail.startswith(b"TRL")
        assert all(len(line) == 80 for line in complete)
        assert complete[0].startswith(b"HDR") and not complete[-1].startswith(b"TRL")
        assert f.rows == len(complete) - 1  # the complete detail records
        assert hashlib.sha256(data).hexdigest() == f.sha256


def test_the_generate_entry_point_writes_this_feed(tmp_path: Path) -> None:
    report = generate(tmp_path, persons=100, seed=SEED, days=1, start=START, feeds=[FEED])
    (f,) = report.feeds[FEED].files
    assert f.path == tmp_path / "inbox" / CONTRACT.delivery.inbox / "BLI_LIE_20241101.dat"
