"""The generator of moi.household_registry deliveries: format, determinism and injected issues."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import math
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from kernel.contracts import feed
from kernel.twid import is_valid_person_id, parse_roc_date
from sandbox.generate import GenerationReport, generate
from sandbox.generate import names as name_lists
from sandbox.generate.household import (
    CHANGE_TYPES,
    IssueRates,
    csv_field,
    csv_line,
    decode_cp950,
    encode_cp950,
    eudc_bytes,
    eudc_char,
)
from sandbox.generate.population import (
    EUDC_COUNT,
    EUDC_FIRST,
    Population,
    PopulationParams,
    build_population,
    permute_serial,
)

CONTRACT = feed("moi.household_registry")
WIRE = [f.wire for f in CONTRACT.fields]
COLUMNS = [f.name for f in CONTRACT.fields]
START = datetime.date(2024, 11, 1)
PERSONS = 4000
DAYS = 4
# High rates, so that every issue shows up often enough to measure it.
RATES = IssueRates(
    fullwidth_id=0.05, padded_spaces=0.05, six_digit_date=0.05, impossible_date=0.03,
    duplicate_within=0.03, duplicate_across=0.05, tai_variant=0.1, invalid_check_digit=0.01,
    eudc_name=0.02, comma_in_address=0.01,
)  # fmt: skip
SPACES = " \u3000"
PUA = re.compile("[\ue000-\uf8ff]")


def _generate(root: Path, **kwargs: object) -> GenerationReport:
    args: dict[str, object] = {"persons": PERSONS, "seed": 7, "days": DAYS, "start": START,
                               "rates": RATES, "feeds": ["moi.household_registry"]}  # fmt: skip
    args.update(kwargs)
    return generate(root, **args)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> GenerationReport:
    return _generate(tmp_path_factory.mktemp("gen"))


@pytest.fixture(scope="module")
def files(delivery: GenerationReport) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in delivery.files]


def _records(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(decode_cp950(data), newline="")))


# --- files ---------------------------------------------------------------------------------------


def test_one_file_a_day_with_the_contract_name(delivery: GenerationReport) -> None:
    report = delivery.feeds["moi.household_registry"]
    folder = delivery.inbox / CONTRACT.delivery.inbox
    expected = [f"MOI_HHR_{START + datetime.timedelta(days=d):%Y%m%d}.csv" for d in range(DAYS)]
    assert sorted(p.name for p in folder.glob("*.csv")) == expected
    assert [f.path.name for f in report.files] == expected
    assert all(re.fullmatch(CONTRACT.delivery.file_pattern, name) for name in expected)
    assert not list(folder.glob("*.part"))


def test_sha256_companions_match(
    files: list[tuple[Path, bytes]], delivery: GenerationReport
) -> None:
    reported = {f.path: f.sha256 for f in delivery.feeds["moi.household_registry"].files}
    for path, data in files:
        digest = hashlib.sha256(data).hexdigest()
        companion = path.with_name(path.name + ".sha256").read_bytes()
        assert companion == f"{digest}  {path.name}\n".encode("ascii")
        assert reported[path] == digest


def test_crlf_line_ends(files: list[tuple[Path, bytes]]) -> None:
    for _, data in files:
        assert data.endswith(b"\r\n")
        assert data.count(b"\n") == data.count(b"\r\n")
        assert b"\r" not in data.replace(b"\r\n", b"")


def test_header_is_the_contract_wire_names(files: list[tuple[Path, bytes]]) -> None:
    for _, data in files:
        assert decode_cp950(data.split(b"\r\n", 1)[0]) == ",".join(WIRE)
        assert _records(data)[0] == WIRE


def test_rows_parse_back_with_nine_fields(
    files: list[tuple[Path, bytes]], delivery: GenerationReport
) -> None:
    counts = [f.rows for f in delivery.feeds["moi.household_registry"].files]
    for (_, data), rows in zip(files, counts, strict=True):
        records = _records(data)[1:]
        assert len(records) == rows
        assert all(len(r) == len(WIRE) for r in records)


def test_fields_with_a_comma_are_quoted(files: list[tuple[Path, bytes]]) -> None:
    text = decode_cp950(files[0][1])
    with_comma = [r for r in _records(files[0][1])[1:] if "," in r[COLUMNS.index("address")]]
    assert with_comma
    for record in with_comma:
        address = record[COLUMNS.index("address")]
        assert f'"{address}"' in text
        assert "," not in address[: address.index(",")]  # the one comma, after the district
    assert csv_field('say "hi"') == '"say ""hi"""'
    assert csv_field("a\nb") == '"a\nb"'
    assert csv_field("a\rb") == '"a\rb"'
    assert csv_field("a b") == "a b"
    line = csv_line(["x,y", 'q"', "plain", ""])
    assert line == '"x,y","q""",plain,\r\n'
    assert next(csv.reader(io.StringIO(line, newline=""))) == ["x,y", 'q"', "plain", ""]


# --- encoding ------------------------------------------------------------------------------------


def test_eudc_mapping_is_ms950() -> None:
    assert eudc_bytes("\ue000") == b"\xfa\x40"
    assert eudc_bytes("\ue03e") == b"\xfa\x7e"
    assert eudc_bytes("\ue03f") == b"\xfa\xa1"
    assert eudc_bytes("\ue09c") == b"\xfa\xfe"
    assert eudc_bytes("\ue09d") == b"\xfb\x40"
    assert eudc_bytes("\ue310") == b"\xfe\xfe"
    seen = set()
    for i in range(EUDC_COUNT):
        ch = chr(EUDC_FIRST + i)
        raw = eudc_bytes(ch)
        assert eudc_char(raw[0], raw[1]) == ch
        seen.add(raw)
    assert len(seen) == EUDC_COUNT
    with pytest.raises(ValueError):
        eudc_bytes("\ue311")
    assert eudc_char(0xF9, 0x40) is None and eudc_char(0xFA, 0x7F) is None


def test_cp950_codec_round_trip() -> None:
    text = "王\ue000明,臺北市１２號\u3000\ue310"
    data = encode_cp950(text)
    middle = "明,臺北市１２號\u3000".encode("cp950")
    assert data == "王".encode("cp950") + b"\xfa\x40" + middle + b"\xfe\xfe"
    assert decode_cp950(data) == text
    with pytest.raises(UnicodeDecodeError):
        decode_cp950(b"\xfa\x7f")
    with pytest.raises(UnicodeEncodeError):
        encode_cp950("\U0001f600")


def test_files_are_cp950_with_eudc_names(files: list[tuple[Path, bytes]]) -> None:
    data = files[0][1]
    with pytest.raises(UnicodeDecodeError):
        data.decode("cp950")  # Python's codec lacks the EUDC area: hence decode_cp950
    names = [r[COLUMNS.index("name")] for r in _records(data)[1:]]
    rare = [n for n in names if PUA.search(n)]
    assert rare
    for name in rare:
        assert encode_cp950(name) in data
        assert all(0xE000 <= ord(c) <= 0xE310 for c in PUA.findall(name))
    assert encode_cp950(decode_cp950(data)) == data


def test_data_lists_encode_in_cp950() -> None:
    texts = [s for s, _ in name_lists.SURNAMES]
    texts += [*name_lists.COMPOUND_SURNAMES, name_lists.GIVEN_MALE, name_lists.GIVEN_FEMALE]
    texts += [name_lists.VIETNAMESE_SURNAMES, *name_lists.LATIN_SURNAMES, *name_lists.LATIN_GIVEN]
    texts += [*name_lists.ROADS, *name_lists.ROAD_SECTIONS]
    for county, (_, _, districts) in name_lists.COUNTIES.items():
        texts += [county, *districts]
    for text in texts:
        text.encode("cp950")
    assert len(name_lists.COUNTIES) == 22
    assert len({v[0] for v in name_lists.COUNTIES.values()}) == 22


# --- determinism ---------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(
    tmp_path: Path, files: list[tuple[Path, bytes]]
) -> None:
    again = _generate(tmp_path)
    assert [p.read_bytes() for p in again.files] == [data for _, data in files]


def test_other_seed_gives_other_files(tmp_path: Path, files: list[tuple[Path, bytes]]) -> None:
    other = _generate(tmp_path, seed=8)
    assert other.files[0].read_bytes() != files[0][1]


def test_fewer_days_give_the_same_first_files(
    tmp_path: Path, files: list[tuple[Path, bytes]]
) -> None:
    shorter = _generate(tmp_path, days=2)
    assert [p.read_bytes() for p in shorter.files] == [data for _, data in files[:2]]


# --- contents ------------------------------------------------------------------------------------


def _clean(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip(SPACES).upper()


def test_day_one_has_one_event_per_person(files: list[tuple[Path, bytes]]) -> None:
    records = _records(files[0][1])[1:]
    ids = {_clean(r[0]) for r in records}
    assert len(ids) >= PERSONS  # invalid check digits add a few variants
    types = Counter(r[COLUMNS.index("change_type")].strip(SPACES) for r in records)
    assert set(types) == {"01", "02", "04"}
    assert types["04"] / PERSONS == pytest.approx(0.03, abs=0.015)
    assert types["02"] > 0.9 * PERSONS


def test_later_days_carry_changes(
    delivery: GenerationReport, files: list[tuple[Path, bytes]]
) -> None:
    report = delivery.feeds["moi.household_registry"]
    fresh_later = sum(report.events.values()) - PERSONS
    assert fresh_later / ((DAYS - 1) * PERSONS) == pytest.approx(0.01, rel=0.3)
    assert set(report.events) <= set(CHANGE_TYPES)
    earlier = set(files[0][1].split(b"\r\n"))
    types: Counter[str] = Counter()
    for path, data in files[1:]:
        file_date = datetime.datetime.strptime(path.stem[-8:], "%Y%m%d").date()
        lines = data.split(b"\r\n")[1:-1]
        for line in lines:
            if line in earlier:  # a duplicate across files
                continue
            r = next(csv.reader([decode_cp950(line)]))
            types[r[COLUMNS.index("change_type")].strip(SPACES)] += 1
            change = parse_roc_date(r[COLUMNS.index("change_date")].strip(SPACES))
            assert change is None or change == file_date - datetime.timedelta(days=1)
        earlier.update(lines)
    assert set(types) == {"02", "03", "04", "05"}


def test_death_date_only_on_deaths(files: list[tuple[Path, bytes]]) -> None:
    for _, data in files:
        for r in _records(data)[1:]:
            is_death = r[COLUMNS.index("change_type")].strip(SPACES) == "04"
            assert bool(r[COLUMNS.index("death_date")].strip(SPACES)) == is_death


def test_addresses_are_realistic(files: list[tuple[Path, bytes]]) -> None:
    counties = tuple(name_lists.COUNTIES)
    for r in _records(files[0][1])[1:200]:
        address = r[COLUMNS.index("address")].strip(SPACES).replace("台", "臺")
        assert address.startswith(counties)
        assert "號" in address
        assert not re.search(r"[0-9]", address)  # digits are full width
        assert re.search(r"[０-９]+號", address)
        assert re.fullmatch(r"[A-Z][0-9]{7}", r[COLUMNS.index("household_no")].strip(SPACES))


# --- issues --------------------------------------------------------------------------------------


def _detect(record: list[str]) -> set[str]:
    """The issues visible in one parsed record."""
    row = dict(zip(COLUMNS, record, strict=True))
    found = set()
    pid = row["national_id"]
    if any("\uff10" <= c <= "\uff5a" for c in pid):
        found.add("fullwidth_id")
    if not is_valid_person_id(_clean(pid)):
        found.add("invalid_check_digit")
    if any(v != v.strip(SPACES) for v in record):
        found.add("padded_spaces")
    dates = [row[k].strip(SPACES) for k in ("birth_date", "change_date", "death_date")]
    if any(len(d) == 6 for d in dates):
        found.add("six_digit_date")
    if any(len(d) == 7 and parse_roc_date(d) is None for d in dates):
        found.add("impossible_date")
    if "台" in row["address"]:
        found.add("tai_variant")
    if "," in row["address"]:
        found.add("comma_in_address")
    if PUA.search(row["name"]):
        found.add("eudc_name")
    return found


def test_issues_in_the_files_are_the_reported_ones(
    delivery: GenerationReport, files: list[tuple[Path, bytes]]
) -> None:
    report = delivery.feeds["moi.household_registry"]
    seen: set[bytes] = set()
    found: Counter[str] = Counter()
    within = across = 0
    for _, data in files:
        in_file: set[bytes] = set()
        for line in data.split(b"\r\n")[1:-1]:
            if line in in_file:
                within += 1
            elif line in seen:
                across += 1
            else:
                found.update(_detect(next(csv.reader([decode_cp950(line)]))))
            in_file.add(line)
            seen.add(line)
    assert within == report.issues["duplicate_within"] > 0
    assert across == report.issues["duplicate_across"] > 0
    for kind in IssueRates.HOUSEHOLD_ISSUES:
        if not kind.startswith("duplicate"):
            assert found[kind] == report.issues[kind], kind


@pytest.mark.parametrize("kind", IssueRates.HOUSEHOLD_ISSUES)
def test_each_issue_at_its_rate(delivery: GenerationReport, kind: str) -> None:
    report = delivery.feeds["moi.household_registry"]
    n, hits = report.eligible[kind], report.issues[kind]
    rate = getattr(RATES, kind)
    assert n > 0 and hits > 0
    if kind in {"eudc_name", "comma_in_address"}:  # per person, not per row: more spread
        assert hits / n == pytest.approx(rate, rel=0.5)
    else:
        assert abs(hits - n * rate) <= 5 * math.sqrt(n * rate * (1 - rate)) + 2


def test_no_issues_when_rates_are_zero(tmp_path: Path) -> None:
    report = _generate(tmp_path, persons=500, rates=IssueRates.none())
    feed_report = report.feeds["moi.household_registry"]
    assert sum(feed_report.issues.values()) == 0
    for path in report.files:
        for record in _records(path.read_bytes())[1:]:
            assert not _detect(record)
            assert len(record[COLUMNS.index("birth_date")]) == 7


def test_six_digit_dates_only_before_2011(files: list[tuple[Path, bytes]]) -> None:
    for _, data in files:
        for r in _records(data)[1:]:
            for key in ("birth_date", "change_date", "death_date"):
                value = r[COLUMNS.index(key)].strip(SPACES)
                if len(value) == 6:
                    parsed = parse_roc_date(value)
                    assert parsed is not None and parsed.year < 2011


# --- population ----------------------------------------------------------------------------------


def test_population_is_realistic() -> None:
    people = build_population(20_000, 1, datetime.date(2024, 10, 31))
    assert len({p.national_id for p in people}) == len(people)
    assert all(is_valid_person_id(p.national_id) for p in people)
    kinds = Counter(p.id_kind for p in people)
    assert kinds["resident_new"] > 0 and kinds["resident_old"] > 0
    residents = kinds["resident_new"] + kinds["resident_old"]
    assert residents / len(people) == pytest.approx(0.02, rel=0.3)
    assert sum(not p.alive for p in people) / len(people) == pytest.approx(0.03, rel=0.3)
    assert all(p.death_date is None or p.birth_date <= p.death_date for p in people)
    assert min(p.birth_date for p in people).year == 1930
    assert max(p.birth_date for p in people) <= datetime.date(2024, 10, 31)
    assert {p.sex for p in people} == {"1", "2"}
    compound = [p for p in people if p.surname in name_lists.COMPOUND_SURNAMES]
    assert compound and all(len(p.name) in (3, 4) for p in compound)
    assert {p.county for p in people} == set(name_lists.COUNTIES)
    assert sum(p.has_eudc_name for p in people) / len(people) == pytest.approx(0.005, rel=0.5)
    assert all(1 <= len(p.name) <= 20 for p in people)
    assert all(p.address.startswith(p.county + p.district) for p in people)


def test_population_is_deterministic_and_reiterable() -> None:
    as_of = datetime.date(2024, 10, 31)
    params = PopulationParams(eudc_name=0.1)
    population = Population(3000, 5, as_of, params)
    first = list(population)
    assert first == list(population) == build_population(3000, 5, as_of, params)
    assert len(population) == 3000
    assert first != build_population(3000, 6, as_of)


def test_permute_serial_is_a_permutation() -> None:
    values = [permute_serial(i, 12345) for i in range(50_000)]
    assert len(set(values)) == len(values)
    assert all(0 <= v < 10_000_000 for v in values)
    with pytest.raises(ValueError):
        permute_serial(10_000_000, 1)
