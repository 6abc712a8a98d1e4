"""Taiwan identifiers and ROC dates (kernel.twid): published examples and round trips."""

from __future__ import annotations

import datetime
import itertools
import random
import unicodedata

import pytest

from kernel.twid import (
    AGE_BANDS,
    COUNTIES,
    FULL_WIDTH,
    HALF_WIDTH,
    LETTER_CODES,
    PERSON_ID_KINDS,
    PERSON_ID_PATTERN,
    PERSON_ID_SECOND,
    age_band_of,
    fullwidth,
    is_valid_business_id,
    is_valid_person_id,
    make_business_id,
    make_person_id,
    parse_roc_date,
    person_id_check_digit,
    person_id_kind,
    roc_date,
    roc_month,
)

# Examples published with public validators (e.g. the README of the npm package
# taiwan-id-validator and of the Go package guanting112/taiwan-id-validator).
VALID_PERSON_IDS = {
    "A123456789": "national",
    "A223456781": "national",
    "B123456780": "national",
    "A800000014": "resident_new",
    "AA00000009": "resident_old",
    "AC01234567": "resident_old",
}
INVALID_PERSON_IDS = [
    "A123456788",  # wrong check digit
    "A123456700",
    "A800000015",
    "AA00000008",
    "a123456789",  # lower case (normalising is the reader's job)
    "Ａ１２３４５６７８９",  # full width (idem)
    " A123456789",
    "A323456789",  # second character 3: no such kind
    "AE00000000",  # old resident letters are A-D only
    "A12345678",
    "A1234567890",
    "1123456789",
    "",
]


def test_letter_table_is_the_published_one() -> None:
    table = ("A10 B11 C12 D13 E14 F15 G16 H17 I34 J18 K19 L20 M21 N22 O35 P23 Q24 R25 S26 T27 "
             "U28 V29 W32 X30 Y31 Z33")  # fmt: skip
    assert dict(LETTER_CODES) == {e[0]: int(e[1:]) for e in table.split()}


@pytest.mark.parametrize(("pid", "kind"), VALID_PERSON_IDS.items())
def test_published_valid_person_ids(pid: str, kind: str) -> None:
    assert is_valid_person_id(pid)
    assert person_id_kind(pid) == kind
    assert person_id_check_digit(pid[:9]) == pid[9]


@pytest.mark.parametrize("pid", INVALID_PERSON_IDS)
def test_invalid_person_ids(pid: str) -> None:
    assert not is_valid_person_id(pid)


def test_full_width_id_is_valid_after_nfkc() -> None:
    assert is_valid_person_id(unicodedata.normalize("NFKC", "Ａ１２３４５６７８９"))


def test_check_digit_rejects_a_bad_prefix() -> None:
    for bad in ("A1234567", "A3234567", "a12345678", "AE1234567", "A1234567x"):
        with pytest.raises(ValueError):
            person_id_check_digit(bad)


@pytest.mark.parametrize("kind", PERSON_ID_KINDS)
def test_generated_person_ids_round_trip(kind: str) -> None:
    rng = random.Random(7)
    second = {"national": {1: "1", 2: "2"}, "resident_new": {1: "8", 2: "9"},
              "resident_old": {1: "AC", 2: "BD"}}[kind]  # fmt: skip
    for letter, sex in itertools.product(LETTER_CODES, (1, 2)):
        for _ in range(20):
            pid = make_person_id(rng, kind, letter=letter, sex=sex)
            assert is_valid_person_id(pid), pid
            assert person_id_kind(pid) == kind
            assert pid[0] == letter and pid[1] in second[sex]
            # exactly one check digit completes a prefix
            assert [d for d in "0123456789" if is_valid_person_id(pid[:9] + d)] == [pid[9]]


def test_make_person_id_defaults_and_errors() -> None:
    rng = random.Random(1)
    ids = {make_person_id(rng) for _ in range(500)}
    assert all(person_id_kind(i) == "national" and is_valid_person_id(i) for i in ids)
    assert {i[1] for i in ids} == {"1", "2"}
    assert len({i[0] for i in ids}) > 20
    with pytest.raises(ValueError):
        make_person_id(rng, "passport")
    with pytest.raises(ValueError):
        make_person_id(rng, letter="a")
    with pytest.raises(ValueError):
        make_person_id(rng, sex=3)


@pytest.mark.parametrize("ubn", ["12345675", "04595257", "10458575", "22099131", "84149961"])
def test_valid_business_ids(ubn: str) -> None:
    assert is_valid_business_id(ubn)


def test_business_id_seventh_digit_seven() -> None:
    # 1,0,4,5,8,5,7,4: product digits 1+0+4+1+8+1+(2+8)+4 = 29; only 29 + 1 divides by 5
    assert is_valid_business_id("10458574")
    # 7th digit 8: 8 x 4 = 32 counts 5, sum 24; sum + 1 is not accepted without the 7
    assert not is_valid_business_id("10458584")


@pytest.mark.parametrize("ubn", ["12345678", "04595258", "1234567", "123456789", "1234567a", ""])
def test_invalid_business_ids(ubn: str) -> None:
    assert not is_valid_business_id(ubn)


def test_generated_business_ids() -> None:
    rng = random.Random(3)
    ids = [make_business_id(rng) for _ in range(2000)]
    assert all(is_valid_business_id(i) for i in ids)
    assert len(set(ids)) > 1990
    assert {i[7] for i in ids} == set("0123456789")


def test_roc_dates() -> None:
    assert roc_date(datetime.date(1989, 3, 15)) == "0780315"
    assert roc_date(datetime.date(1989, 3, 15), six_digit=True) == "780315"
    assert roc_date(datetime.date(2024, 1, 5)) == "1130105"
    assert roc_date(datetime.date(2024, 1, 5), six_digit=True) == "1130105"
    assert roc_date(datetime.date(2010, 12, 31), six_digit=True) == "991231"
    assert roc_date(datetime.date(2011, 1, 1), six_digit=True) == "1000101"
    assert roc_date(datetime.date(1912, 1, 1)) == "0010101"
    with pytest.raises(ValueError):
        roc_date(datetime.date(1911, 12, 31))
    assert roc_month(datetime.date(2024, 5, 31)) == "11305"
    assert roc_month(datetime.date(1989, 3, 1)) == "07803"


def test_parse_roc_dates() -> None:
    assert parse_roc_date("0780315") == datetime.date(1989, 3, 15)
    assert parse_roc_date("780315") == datetime.date(1989, 3, 15)
    assert parse_roc_date("1130105") == datetime.date(2024, 1, 5)
    bad_dates = ("1080230", "1131301", "1130100", "", "113010", "11301055", "１１３０１０５", "abc")
    for bad in bad_dates:
        assert parse_roc_date(bad) is None, bad
    day = datetime.date(1930, 1, 1)
    while day < datetime.date(2030, 1, 1):
        assert parse_roc_date(roc_date(day)) == day
        assert parse_roc_date(roc_date(day, six_digit=True)) == day
        day += datetime.timedelta(days=97)


def test_fullwidth() -> None:
    assert fullwidth("A123456789") == "Ａ１２３４５６７８９"
    assert fullwidth("臺北市12號") == "臺北市１２號"
    text = "".join(chr(c) for c in range(0x21, 0x7F))
    assert unicodedata.normalize("NFKC", fullwidth(text)) == text


@pytest.mark.parametrize(
    ("age", "band"),
    [(0, "0-4"), (4, "0-4"), (5, "5-9"), (37, "35-39"), (99, "95-99"), (100, "100+"),
     (117, "100+"), (-1, None)],
)  # fmt: skip
def test_age_band_of(age: int, band: str | None) -> None:
    """Bands are 5 years wide from 0, open from 100; a negative age has none."""
    assert age_band_of(age) == band


def test_age_bands_cover_every_age_once() -> None:
    """AGE_BANDS lists exactly the bands age_band_of returns, youngest first."""
    assert AGE_BANDS[:3] == ("0-4", "5-9", "10-14") and AGE_BANDS[-2:] == ("95-99", "100+")
    assert len(AGE_BANDS) == 21
    assert [age_band_of(a) for a in range(0, 105, 5)] == list(AGE_BANDS)


def test_identifier_shape_constants() -> None:
    """The shared shape is the one the Java and Python rules both read."""
    assert sorted(PERSON_ID_SECOND) == sorted("1289ACBD")
    assert PERSON_ID_PATTERN == "[A-Z][1289ABCD][0-9]{8}"
    assert person_id_kind("A123456789") == "national"
    assert person_id_kind("A823456789") == "resident_new"
    assert person_id_kind("AC23456789") == "resident_old"
    assert person_id_kind("A323456789") is None


def test_refusals_name_the_value_and_the_rule() -> None:
    """Each refusal says what was wrong, with the offending value (test data, never a person)."""
    with pytest.raises(ValueError, match=r"^not the first nine characters of a personal "
                       r"identifier: 'A1234567'$"):  # fmt: skip
        person_id_check_digit("A1234567")
    rng = random.Random(0)
    with pytest.raises(ValueError, match=r"^unknown kind 'passport' \(one of national, "
                       r"resident_new, resident_old\)$"):  # fmt: skip
        make_person_id(rng, "passport")
    with pytest.raises(ValueError, match=r"^first letter must be A-Z, not 'a'$"):
        make_person_id(rng, letter="a")
    with pytest.raises(ValueError, match=r"^sex must be 1 \(male\) or 2 \(female\), not 3$"):
        make_person_id(rng, sex=3)
    with pytest.raises(ValueError, match=r"^1911-12-31 is before the ROC era \(1912\)$"):
        roc_date(datetime.date(1911, 12, 31))
    with pytest.raises(ValueError, match=r"^1911-12-31 is before the ROC era \(1912\)$"):
        roc_month(datetime.date(1911, 12, 31))
    assert roc_month(datetime.date(1912, 1, 31)) == "00101"


def test_explicit_letter_and_sex_are_kept() -> None:
    """A given letter and sex are used as given; the old resident kind picks from both letters."""
    rng = random.Random(5)
    assert {make_person_id(rng, "national", letter="Z", sex=2)[:2] for _ in range(20)} == {"Z2"}
    olds = {make_person_id(rng, "resident_old", letter="B", sex=1)[:2] for _ in range(50)}
    assert olds == {"BA", "BC"}


def test_width_tables_pair_position_by_position() -> None:
    """FULL_WIDTH and HALF_WIDTH are the 95 NFKC pairs, the ideographic space last."""
    assert len(FULL_WIDTH) == len(HALF_WIDTH) == 95
    assert FULL_WIDTH[0] == "！" and FULL_WIDTH[-1] == "\u3000" and HALF_WIDTH[-1] == " "
    pairs = zip(FULL_WIDTH, HALF_WIDTH, strict=True)
    assert all(unicodedata.normalize("NFKC", f) == h for f, h in pairs)
    assert fullwidth("a b~") == "ａ ｂ～"


def test_counties_are_the_22_official_names() -> None:
    """22 distinct counties and cities, written with 臺."""
    assert len(set(COUNTIES)) == 22
    assert all(c[-1] in "市縣" and "台" not in c for c in COUNTIES)
