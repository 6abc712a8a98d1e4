"""The generator of bli.labor_pension_contributions deliveries: format, contents, determinism
and injected issues (thousands separators, percent signs, the repeated header, the generic ones).

The expected rows are recomputed here from the shared roles (``roles``, ``employer``) and the
contribution formula written out with :class:`~decimal.Decimal`, not with the writer's helpers.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import math
import re
import unicodedata
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from kernel.contracts import feed
from kernel.twid import is_valid_business_id, is_valid_person_id
from sandbox.generate import WRITERS, GenerationReport, generate
from sandbox.generate.household import DeliveryReport, IssueRates
from sandbox.generate.pension import PENSION_ISSUES, contribution_months
from sandbox.generate.population import Population, build_population
from sandbox.generate.roles import EMPLOYERS, employer, roles

FEED = "bli.labor_pension_contributions"
CONTRACT = feed(FEED)
WIRE = [f.wire for f in CONTRACT.fields]
COLUMNS = [f.name for f in CONTRACT.fields]
BOM = b"\xef\xbb\xbf"
HEADER = ",".join(WIRE).encode("utf-8") + b"\n"
START = datetime.date(2024, 10, 1)
DAYS = 32  # 2024-10-01 .. 2024-11-01: the contributions of September and October
PERSONS = 5000
SEED = 11
RATES = IssueRates(
    thousands_separator=0.1, percent_sign=0.1, repeated_header=1.0, fullwidth_id=0.05,
    padded_spaces=0.05, invalid_check_digit=0.02, duplicate_within=0.03,
)  # fmt: skip
SPACES = " \u3000"


def _generate(root: Path, **kwargs: object) -> GenerationReport:
    args: dict[str, object] = {"persons": PERSONS, "seed": SEED, "days": DAYS, "start": START,
                               "rates": RATES, "feeds": [FEED]}  # fmt: skip
    args.update(kwargs)
    return generate(root, **args)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> GenerationReport:
    return _generate(tmp_path_factory.mktemp("pension"))


@pytest.fixture(scope="module")
def report(delivery: GenerationReport) -> DeliveryReport:
    return delivery.feeds[FEED]


@pytest.fixture(scope="module")
def files(delivery: GenerationReport) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in delivery.files]


def _lines(data: bytes) -> list[bytes]:
    """The lines after the first header (the BOM and the header dropped), without ``\\n``."""
    assert data.startswith(BOM + HEADER)
    return data[len(BOM + HEADER) :].split(b"\n")[:-1]


def _record(line: bytes) -> dict[str, str]:
    return dict(zip(COLUMNS, next(csv.reader([line.decode("utf-8")])), strict=True))


def _n(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip(SPACES)


def _expected_rows(month: str) -> set[tuple[str, str, str, int, Decimal, Decimal, int]]:
    """Every labor-insured person's contribution of ``month``, from the shared roles."""
    as_of = START - datetime.timedelta(days=1)
    out = set()
    for p in build_population(PERSONS, SEED, as_of, RATES.population_params()):
        r = roles(p, SEED, as_of)
        if not r.labor:
            continue
        self_rate = Decimal(str(r.self_rate)).quantize(Decimal("0.01"))
        amount = (Decimal(r.wage) * (Decimal(6) + self_rate) / 100).quantize(
            Decimal(1), ROUND_HALF_UP)
        out.add((month, employer(r.employer, SEED)[1], p.national_id, r.wage, Decimal("6.00"),
                 self_rate, int(amount)))  # fmt: skip
    return out


def _normalised(rec: dict[str, str]) -> tuple[str, str, str, int, Decimal, Decimal, int]:
    def rate(v: str) -> Decimal:
        return Decimal(_n(v).removesuffix("%")).quantize(Decimal("0.01"))

    return (_n(rec["contribution_month"]), _n(rec["employer_ubn"]),
            _n(rec["national_id"]).upper(), int(_n(rec["wage"]).replace(",", "")),
            rate(rec["employer_rate"]), rate(rec["self_rate"]),
            int(_n(rec["amount"]).replace(",", "")))  # fmt: skip


# --- files ---------------------------------------------------------------------------------------


def test_contribution_months() -> None:
    assert contribution_months(datetime.date(2024, 11, 1), 3) == [datetime.date(2024, 10, 1)]
    assert contribution_months(datetime.date(2024, 1, 15), 40) == [
        datetime.date(2023, 12, 1), datetime.date(2024, 1, 1)]
    assert len(contribution_months(datetime.date(2024, 1, 1), 366)) == 12
    with pytest.raises(ValueError):
        contribution_months(START, 0)


def test_one_file_per_contribution_month(
    delivery: GenerationReport, report: DeliveryReport
) -> None:
    folder = delivery.inbox / CONTRACT.delivery.inbox
    expected = ["BLI_LPC_11309.csv", "BLI_LPC_11310.csv"]
    assert sorted(p.name for p in folder.glob("*.csv")) == expected
    assert [f.path.name for f in report.files] == expected
    assert [f.file_date for f in report.files] == [datetime.date(2024, 9, 1),
                                                   datetime.date(2024, 10, 1)]
    assert all(re.fullmatch(CONTRACT.delivery.file_pattern, name) for name in expected)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*expected, *(n + ".sha256" for n in expected)])  # no .part or spool left
    assert WRITERS[FEED] == "sandbox.generate.pension:write_pension_deliveries"


def test_sha256_companions_match(files: list[tuple[Path, bytes]], report: DeliveryReport) -> None:
    reported = {f.path: f.sha256 for f in report.files}
    for path, data in files:
        digest = hashlib.sha256(data).hexdigest()
        assert path.with_name(path.name + ".sha256").read_bytes() == (
            f"{digest}  {path.name}\n".encode("ascii"))
        assert reported[path] == digest


def test_utf8_with_one_bom_and_lf_line_ends(files: list[tuple[Path, bytes]]) -> None:
    for _, data in files:
        assert data.startswith(BOM + HEADER)
        assert data.count(BOM) == 1
        assert b"\r" not in data and data.endswith(b"\n")
        data.decode("utf-8")


def test_rows_parse_back_with_seven_fields(
    files: list[tuple[Path, bytes]], report: DeliveryReport
) -> None:
    for (_, data), delivered in zip(files, report.files, strict=True):
        records = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        assert records[0] == WIRE
        body = [r for r in records[1:] if r != WIRE]
        assert len(body) == delivered.rows and len(records) == delivered.rows + 2
        assert all(len(r) == len(WIRE) for r in body)


# --- contents ------------------------------------------------------------------------------------


def test_every_labor_insured_person_once_a_month(files: list[tuple[Path, bytes]]) -> None:
    for path, data in files:
        # Keyed by the first nine characters of the ID: unique, and kept by a wrong check digit.
        expected = {e[2][:-1]: e for e in _expected_rows(path.stem[-5:])}
        rows = [_normalised(_record(line)) for line in set(_lines(data)) if line != HEADER[:-1]]
        got = {r[2][:-1]: r for r in rows}
        assert len(got) == len(rows) == len(expected) > 0.3 * PERSONS
        assert got.keys() == expected.keys()
        broken = 0
        for key, row in got.items():
            if is_valid_person_id(row[2]) and is_valid_business_id(row[1]):
                assert row == expected[key]
            else:  # one of the two IDs carries a wrong check digit, nothing else differs
                broken += 1
                e = expected[key]
                assert (row[1] == e[1]) != (row[2] == e[2])
                assert row[1][:-1] == e[1][:-1] and row[3:] == e[3:] and row[0] == e[0]
        assert broken > 0


def test_amount_is_wage_times_rates() -> None:
    for row in _expected_rows("11310"):
        _, _, _, wage, employer_rate, self_rate, amount = row
        assert abs(Decimal(amount) - wage * (employer_rate + self_rate) / 100) <= Decimal("0.5")
        assert Decimal(0) <= self_rate <= Decimal(6)


def test_same_arguments_give_byte_identical_files(
    tmp_path: Path, files: list[tuple[Path, bytes]]
) -> None:
    again = _generate(tmp_path)
    assert [p.read_bytes() for p in again.files] == [data for _, data in files]


def test_other_seed_gives_other_files(tmp_path: Path, files: list[tuple[Path, bytes]]) -> None:
    assert _generate(tmp_path, seed=12, persons=500).files[0].read_bytes() != files[0][1]


def test_a_month_does_not_depend_on_the_days_generated(
    tmp_path: Path, files: list[tuple[Path, bytes]]
) -> None:
    shorter = _generate(tmp_path, days=1)
    assert [p.read_bytes() for p in shorter.files] == [files[0][1]]


def test_the_population_is_walked_once(tmp_path: Path, report: DeliveryReport) -> None:
    population = Population(PERSONS, SEED, START - datetime.timedelta(days=1),
                            RATES.population_params())  # fmt: skip
    one_shot = iter(population)  # an iterator: a second walk would see nothing
    from sandbox.generate.pension import write_pension_deliveries

    again = write_pension_deliveries(tmp_path, one_shot, SEED, START, DAYS, RATES)
    assert [f.sha256 for f in again.files] == [f.sha256 for f in report.files]


# --- issues --------------------------------------------------------------------------------------


def _detect(rec: dict[str, str]) -> set[str]:
    """The issues visible in one record."""
    found = set()
    if any("\uff10" <= c <= "\uff5a" for c in rec["national_id"]):
        found.add("fullwidth_id")
    if not is_valid_person_id(_n(rec["national_id"]).upper()) or not is_valid_business_id(
            _n(rec["employer_ubn"])):
        found.add("invalid_check_digit")
    if any(v != v.strip(SPACES) for v in rec.values()):
        found.add("padded_spaces")
    if "," in rec["wage"] or "," in rec["amount"]:
        found.add("thousands_separator")
    if "%" in rec["employer_rate"] or "%" in rec["self_rate"]:
        found.add("percent_sign")
    return found


def test_issues_in_the_files_are_the_reported_ones(
    files: list[tuple[Path, bytes]], report: DeliveryReport
) -> None:
    found: Counter[str] = Counter()
    repeats = headers = 0
    for _, data in files:
        seen: set[bytes] = set()
        for line in _lines(data):
            if line == HEADER[:-1]:
                headers += 1
            elif line in seen:
                repeats += 1
            else:
                seen.add(line)
                found.update(_detect(_record(line)))
    assert repeats == report.issues["duplicate_within"] > 0
    assert headers == report.issues["repeated_header"] == len(files)
    for kind in PENSION_ISSUES:
        if kind not in {"duplicate_within", "repeated_header"}:
            assert found[kind] == report.issues[kind] > 0, kind
    assert set(report.issues) <= set(PENSION_ISSUES)


def test_separators_and_percent_signs_look_as_the_agency_writes_them(
    files: list[tuple[Path, bytes]]
) -> None:
    text = files[0][1].decode("utf-8-sig")
    assert re.search(r'(^|,)"[0-9]{2},[0-9]{3}"(,|$)', text, re.M)  # "45,800": quoted
    assert re.search(r"(^|,)6%(,|$)", text, re.M)
    for line in text.splitlines()[1:]:
        rec = next(csv.reader([line]))
        if rec == WIRE:
            continue
        for value in (rec[3], rec[6]):
            assert re.fullmatch(r"[ \u3000]*([0-9]{1,3}(,[0-9]{3})+|[0-9]+)[ \u3000]*", value)
        for value in (rec[4], rec[5]):
            assert re.fullmatch(r"[ \u3000]*([0-9]%|[0-9]\.[0-9]{2})[ \u3000]*", value)


@pytest.mark.parametrize("kind", [k for k in PENSION_ISSUES if k != "repeated_header"])
def test_each_issue_at_its_rate(report: DeliveryReport, kind: str) -> None:
    n, hits, rate = report.eligible[kind], report.issues[kind], getattr(RATES, kind)
    assert n == report.events["contribution"] > 0
    assert abs(hits - n * rate) <= 5 * math.sqrt(n * rate * (1 - rate)) + 2


def test_repeated_header_is_per_file_at_its_rate(tmp_path: Path) -> None:
    rates = IssueRates(repeated_header=0.5)
    rep = _generate(tmp_path, persons=40, days=730, rates=rates).feeds[FEED]
    assert rep.eligible["repeated_header"] == len(rep.files) == 24
    assert 6 <= rep.issues["repeated_header"] <= 18
    with_header = sum(HEADER in f.path.read_bytes()[len(BOM + HEADER):] for f in rep.files)
    assert with_header == rep.issues["repeated_header"]


def test_the_header_repeats_in_the_middle_between_two_extracts(
    files: list[tuple[Path, bytes]]
) -> None:
    as_of = START - datetime.timedelta(days=1)
    employer_of = {}
    for p in build_population(PERSONS, SEED, as_of, RATES.population_params()):
        r = roles(p, SEED, as_of)
        if r.labor:
            employer_of[p.national_id[:-1]] = r.employer  # the check digit may be broken
    for _, data in files:
        lines = _lines(data)
        (middle,) = [i for i, line in enumerate(lines) if line == HEADER[:-1]]
        assert 0.35 < middle / len(lines) < 0.65
        for i, line in enumerate(lines):
            if i != middle:
                first = employer_of[_n(_record(line)["national_id"]).upper()[:-1]] < EMPLOYERS // 2
                assert first == (i < middle)
        # A repeated row stays in its extract, a little after the row it repeats.
        for part in (lines[:middle], lines[middle + 1 :]):
            where: dict[bytes, int] = {}
            for i, line in enumerate(part):
                if line in where:
                    assert 0 < i - where[line] <= 50 + 50
                where.setdefault(line, i)


def test_no_issues_when_rates_are_zero(tmp_path: Path) -> None:
    rep = _generate(tmp_path, persons=800, rates=IssueRates.none())
    assert sum(rep.feeds[FEED].issues.values()) == 0
    for path in rep.files:
        lines = _lines(path.read_bytes())
        assert len(set(lines)) == len(lines) and HEADER[:-1] not in lines
        assert b'"' not in b"".join(lines) and b"%" not in b"".join(lines)
        assert not any(_detect(_record(line)) for line in lines)
