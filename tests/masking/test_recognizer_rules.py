"""The decision rules of the Taiwan recognizers, one recognizer at a time, with exact results.

``tests/masking/test_recognizers.py`` checks what the whole engine finds; the engine keeps only
the best of overlapping findings and never shows a score. These tests call each recognizer
directly and compare its exact ``(entity, start, end, score)`` findings, so they prove:

- the scores, which tell a cue-backed finding from a bare one (the engine keeps the higher score
  of two overlapping findings, so they decide between a phone and an account);
- which cue silences which finding (a phone after an account cue, an ID after a case number)
  and how far the case-number cue of an ID reaches (4 characters);
- that a skipped number does not stop the search for the next one in the same text;
- the date rule of business IDs at its edges (valid check digits, computed by
  :func:`kernel.twid.is_valid_business_id`, on numbers that read as dates ``YYYYMMDD``);
- the helpers that build the patterns (:func:`cjk_class_without`, the place-name pattern of the
  address recognizer), the cue lookup on Latin cues in any case, the known-names recognizer on
  short and empty names, and the prefilter on known names.

All names and numbers are invented.
"""

from __future__ import annotations

import re

import pytest
from presidio_analyzer import RecognizerResult

from kernel.twid import is_valid_business_id, person_id_check_digit
from masking.recognizers import (
    EMAIL_ADDRESS,
    PERSON,
    RECOGNIZERS,
    SOCIAL_HANDLE,
    TW_ADDRESS,
    TW_BANK_ACCOUNT,
    TW_BUSINESS_ID,
    TW_NATIONAL_ID,
    TW_PHONE,
    EmailRecognizer,
    KnownNamesRecognizer,
    SocialHandleRecognizer,
    TaiwanRecognizer,
    TwAddressRecognizer,
    TwBankAccountRecognizer,
    TwBusinessIdRecognizer,
    TwNationalIdRecognizer,
    TwPersonRecognizer,
    TwPhoneRecognizer,
    analyze,
    nearest_cue,
    needs_analysis,
    redact,
)
from masking.recognizers.addresses import _names
from masking.recognizers.base import cjk_class_without

Finding = tuple[str, int, int, float]

VALID_ID = "A12345678" + person_id_check_digit("A12345678")  # A123456789
WRONG_ID = VALID_ID[:-1] + str((int(VALID_ID[-1]) + 9) % 10)  # A123456788


def findings(recognizer: TaiwanRecognizer, text: str) -> list[Finding]:
    """``(entity, start, end, score)`` of every finding of ``recognizer`` alone in ``text``."""
    return [(r.entity_type, r.start, r.end, r.score) for r in recognizer.analyze(text, [])]


def span(lo: int, hi: int) -> str:
    """The character-class range from code point ``lo`` to ``hi``."""
    return f"{chr(lo)}-{chr(hi)}"


# --- the base class ----------------------------------------------------------------------


@pytest.mark.parametrize("make", RECOGNIZERS)
def test_recognizer_declares_its_one_entity_and_name(make: type[TaiwanRecognizer]) -> None:
    """Each recognizer supports exactly its entity, in Chinese, under its class name."""
    recognizer = make()
    assert recognizer.supported_entities == [make.ENTITY]
    assert recognizer.name == make.__name__
    assert recognizer.supported_language == "zh"


def test_results_carry_the_recognizer_metadata() -> None:
    """Every result names the recognizer that found it (Presidio's decision process reads it)."""
    recognizer = EmailRecognizer()
    results = recognizer.analyze("寄a@b.tw或c@d.tw", [])
    assert [(r.start, r.end) for r in results] == [(1, 7), (8, 14)]
    for r in results:
        assert r.recognition_metadata == {
            RecognizerResult.RECOGNIZER_NAME_KEY: "EmailRecognizer",
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
        }


# --- character classes and cues ----------------------------------------------------------

_EXT_A, _UNIFIED, _COMPAT = span(0x3400, 0x4DBF), span(0x4E00, 0x9FFF), span(0xF900, 0xFAFF)


@pytest.mark.parametrize(
    ("excluded", "expected"),
    [
        ("", [_EXT_A, _UNIFIED, _COMPAT]),
        ("A", [_EXT_A, _UNIFIED, _COMPAT]),  # not an ideograph: nothing to cut out
        (chr(0x3400), [span(0x3401, 0x4DBF), _UNIFIED, _COMPAT]),  # first of a range
        (chr(0x4DBF), [span(0x3400, 0x4DBE), _UNIFIED, _COMPAT]),  # last of a range
        (chr(0x3401), [span(0x3400, 0x3400), span(0x3402, 0x4DBF), _UNIFIED, _COMPAT]),
        (chr(0x4DBE), [span(0x3400, 0x4DBD), span(0x4DBF, 0x4DBF), _UNIFIED, _COMPAT]),
        ("丁一一", [_EXT_A, span(0x4E02, 0x9FFF), _COMPAT]),  # adjacent and repeated
        (
            "址住",
            [_EXT_A, span(0x4E00, 0x4F4E), span(0x4F50, 0x573F), span(0x5741, 0x9FFF), _COMPAT],
        ),
    ],
)
def test_cjk_class_without(excluded: str, expected: list[str]) -> None:
    """The class is the three CJK ranges with each excluded ideograph cut out, no empty range."""
    assert cjk_class_without(excluded) == "[" + "".join(expected) + "]"


def test_cjk_class_without_matches_all_but_the_excluded() -> None:
    """The class built for the address stop characters rejects them and accepts the others."""
    cls = re.compile(cjk_class_without("住於"))
    assert "".join(c for c in "住於王㐀豈A" if cls.fullmatch(c)) == "王㐀豈"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("tel:", "phone"),  # Latin cues are listed in upper case, found in any case
        ("Mobile ", "phone"),
        ("account ", "bank"),
        ("ıd ", "id"),  # dotless ı upper-cases to the listed ID
        ("İD ", ""),  # matched ignoring case, upper case not listed: a cue of no kind
        ("本案 ", None),
    ],
)
def test_nearest_cue_in_any_case(text: str, kind: str | None) -> None:
    """The kind of a cue does not depend on how its Latin letters are written."""
    assert nearest_cue(text, len(text)) == kind


# --- national ID -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"身分證{VALID_ID}", [(TW_NATIONAL_ID, 3, 13, 0.95)]),
        (f"身分證{VALID_ID.lower()}", [(TW_NATIONAL_ID, 3, 13, 0.95)]),
        (f"身分證{WRONG_ID}", [(TW_NATIONAL_ID, 3, 13, 0.6)]),  # mistyped: lower score
        (f"案號所附{VALID_ID}", []),  # case-number cue 4 characters before: a case number
        (f"案號所附之{VALID_ID}", [(TW_NATIONAL_ID, 5, 15, 0.95)]),  # 5 characters: too far
        ("案號B113050123，身分證" + VALID_ID, [(TW_NATIONAL_ID, 16, 26, 0.95)]),
    ],
)
def test_national_id_scores_and_case_number_cue(text: str, expected: list[Finding]) -> None:
    """A valid ID scores 0.95, a wrong check digit 0.6; a case-number cue reaches 4 characters,
    and a skipped case number does not hide the ID after it."""
    assert findings(TwNationalIdRecognizer(), text) == expected


# --- business ID -------------------------------------------------------------------------

# Numbers with a valid business-ID check digit that read as dates YYYYMMDD (or almost).
_DATED_IDS = [
    ("19000103", False),  # 1900-01-03: a date, first year counted
    ("21000104", False),  # 2100-01-04: a date, last year counted
    ("18990102", True),  # 1899: too early to be a date
    ("21010102", True),  # 2101: too late to be a date
    ("20151005", False),  # month 10
    ("20150110", False),  # day 10
]


@pytest.mark.parametrize(("number", "reported"), _DATED_IDS)
def test_business_id_that_reads_as_a_date(number: str, reported: bool) -> None:
    """A valid business ID that is also a date between 1900 and 2100 is taken for a date after
    a business cue; right after a cue naming the business ID (``統編``) it is one all the same."""
    assert is_valid_business_id(number)
    expected = [(TW_BUSINESS_ID, 2, 10, 0.8)] if reported else []
    assert findings(TwBusinessIdRecognizer(), f"雇主{number}") == expected
    assert findings(TwBusinessIdRecognizer(), f"公司統編{number}") == [(TW_BUSINESS_ID, 4, 12, 0.8)]


def test_business_id_after_a_rejected_number() -> None:
    """After a business cue a number with a wrong check digit is skipped, the corrected one
    after it found; right after ``統編`` the mistyped one is reported too, with a lower score."""
    text = "雇主04595258更正為04595257"
    assert findings(TwBusinessIdRecognizer(), text) == [(TW_BUSINESS_ID, 13, 21, 0.8)]
    text = "公司統編04595258更正為04595257"
    assert findings(TwBusinessIdRecognizer(), text) == [
        (TW_BUSINESS_ID, 4, 12, 0.6), (TW_BUSINESS_ID, 15, 23, 0.8)]


# --- phone -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("手機0912-345-678", [(TW_PHONE, 2, 14, 0.9)]),
        ("0912-345-678", [(TW_PHONE, 0, 12, 0.75)]),
        ("電話02-2345-6789", [(TW_PHONE, 2, 14, 0.85)]),
        ("02-2345-6789", [(TW_PHONE, 0, 12, 0.6)]),
        ("電話0223456789", [(TW_PHONE, 2, 12, 0.6)]),
        ("tel:0223456789", [(TW_PHONE, 4, 14, 0.6)]),  # a lower-case Latin cue
        ("Tel 0223456789", [(TW_PHONE, 4, 14, 0.6)]),
    ],
)
def test_phone_scores(text: str, expected: list[Finding]) -> None:
    """A phone cue raises the score of mobile (0.9 / 0.75) and landline (0.85 / 0.6) numbers;
    a landline without separators is found only after a phone cue, at 0.6."""
    assert findings(TwPhoneRecognizer(), text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("匯款帳號0912345678", []),  # a bare mobile shape after an account cue
        ("帳號0912345678，手機0923456789", [(TW_PHONE, 15, 25, 0.9)]),
        ("匯款帳號02-2345-6789", []),  # a landline shape after an account cue
        ("文號02-2345-6789", []),  # ... after a case-number cue
        ("投保單位02-2345-6789", []),  # ... after a business cue
        ("帳號02-2345-6789，電話03-456-7890", [(TW_PHONE, 17, 28, 0.85)]),
        ("電話(049)2345-6789", []),  # 10 digits after the area code: too long
        ("電話(049)2345-6789，市話02-2345-6789", [(TW_PHONE, 19, 31, 0.85)]),
    ],
)
def test_phone_silenced_by_cue_or_length(text: str, expected: list[Finding]) -> None:
    """After an account, case-number or business cue a digit run is no phone, nor is a
    landline of the wrong length; the numbers after a skipped one are still found."""
    assert findings(TwPhoneRecognizer(), text) == expected


def test_account_cue_wins_over_landline_shape_in_redaction() -> None:
    """End to end, a landline-shaped number after 帳號 is masked as an account."""
    text = "退匯帳號02-2345-6789，電話03-456-7890"
    assert redact(text, analyze(text)) == "退匯帳號<TW_BANK_ACCOUNT>，電話<TW_PHONE>"


# --- e-mail and account ------------------------------------------------------------------


def test_email_score() -> None:
    """An e-mail address needs no cue and scores 0.95."""
    text = "信箱lin.mei@example.com.tw"
    assert findings(EmailRecognizer(), text) == [(EMAIL_ADDRESS, 2, 24, 0.95)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("帳號0001234-5678901", [(TW_BANK_ACCOUNT, 2, 17, 0.85)]),
        ("0001234-5678901", [(TW_BANK_ACCOUNT, 0, 15, 0.6)]),  # postal shape, no cue
        ("局號0012345帳號1234567", [(TW_BANK_ACCOUNT, 2, 18, 0.85)]),  # two halves, one
        ("ıd 0001234-5678901", []),  # postal shape after an ID cue
        ("İD 0001234-5678901", []),  # ... after a cue of no kind: still not "no cue"
    ],
)
def test_account_scores(text: str, expected: list[Finding]) -> None:
    """An account after an account cue scores 0.85, the postal shape without cue 0.6; any
    other cue before the postal shape silences it."""
    assert findings(TwBankAccountRecognizer(), text) == expected


# --- address -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("臺北市中正區忠孝東路一段12號", [(TW_ADDRESS, 0, 15, 0.85)]),
        ("台北市中正區忠孝東路一段12號", [(TW_ADDRESS, 0, 15, 0.85)]),
        ("臺北縣板橋市文化路100號", [(TW_ADDRESS, 0, 13, 0.85)]),  # a county merged in 2010
        ("中正區忠孝東路一段12號", [(TW_ADDRESS, 0, 12, 0.7)]),
        ("大城里3鄰15號", [(TW_ADDRESS, 0, 8, 0.7)]),
    ],
)
def test_address_scores(text: str, expected: list[Finding]) -> None:
    """An address led by a county or city scores 0.85, one without 0.7."""
    assert findings(TwAddressRecognizer(), text) == expected


@pytest.mark.parametrize(
    ("name", "matches"),
    [("中區", True), ("中正區", True), ("中正正區", True), ("中正正正區", False), ("正區", False)],
)
def test_place_name_pattern_length(name: str, matches: bool) -> None:
    """A place name is its first character and at most ``longest - 1`` more, then its ending."""
    pattern = _names("[中]", 3, "[區]")
    assert bool(re.fullmatch(pattern, name)) is matches


# --- person ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("受款人王小明，", [(PERSON, 3, 6, 0.75)]),  # cue before the name
        ("王小明先生", [(PERSON, 0, 3, 0.75)]),  # cue after the name
        ("聯絡人高雄市社會局", []),  # 高雄 starts a common word, not a name
        ("家屬金門縣政府", []),
    ],
)
def test_person_scores_and_common_words(text: str, expected: list[Finding]) -> None:
    """A cued name scores 0.75; three characters starting with a common word are no name."""
    assert findings(TwPersonRecognizer(), text) == expected


@pytest.mark.parametrize(
    ("names", "text", "expected"),
    [
        (("王", "王小明"), "王先生與王小明", [(PERSON, 4, 7, 0.95)]),  # one character: ignored
        (("李明",), "通知李明補件", [(PERSON, 2, 4, 0.95)]),  # two characters: enough
        (("王小明", "林美玲"), "王小明與林美玲", [(PERSON, 0, 3, 0.95), (PERSON, 4, 7, 0.95)]),
        (("", "  "), "通知李明補件", []),  # no usable name: no finding at all
    ],
)
def test_known_names(names: tuple[str, ...], text: str, expected: list[Finding]) -> None:
    """Known names of two or more characters are found anywhere, each at 0.95."""
    assert findings(KnownNamesRecognizer(names), text) == expected


def test_known_name_absent_needs_no_analysis() -> None:
    """A known name that is not in the text does not make the text worth analysing."""
    assert not needs_analysis("本案已結案", ("王小明",))
    assert not needs_analysis("本案已結案", ("", "林美玲"))
    assert needs_analysis("本案王小明已結案", ("", "王小明"))


# --- social handles --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("LINE ID：wang.xm88", [(SOCIAL_HANDLE, 8, 17, 0.8)]),  # right after the service
        ("Dcard發文，帳號kong_lj", [(SOCIAL_HANDLE, 10, 17, 0.7)]),  # its label a little after
        ("他的帳號是@huangfu.wen", [(SOCIAL_HANDLE, 5, 17, 0.65)]),  # an @name anywhere
        ("FB：facebook.com/lin.mei88", [(SOCIAL_HANDLE, 16, 25, 0.85)]),  # a profile address
        ("LINE Pay", []),
        ("wang@mail.bli.gov.tw", []),  # an e-mail address holds no @name
    ],
)
def test_social_handle_scores(text: str, expected: list[Finding]) -> None:
    """A handle after its service scores 0.8, after a later label 0.7, an @name 0.65, the path
    of a profile address 0.85; the span is the handle alone."""
    assert findings(SocialHandleRecognizer(), text) == expected


def test_social_handle_without_service_or_at_is_not_searched() -> None:
    """The cheap test: no service named and no ``@``, no finding (and no pattern run)."""
    assert findings(SocialHandleRecognizer(), "帳號kong_lj") == []


# --- surnames and the statistical signal -------------------------------------------------------


def test_the_surname_file_and_its_tiers() -> None:
    from masking.recognizers import surnames as sn

    assert len(sn.SURNAMES) >= 550 and len(sn.COMPOUND_SURNAMES) >= 60
    compound = {"張簡", "范姜", "張廖", "歐陽", "司馬", "諸葛", "上官", "周黃"}
    assert compound <= set(sn.COMPOUND_SURNAMES)
    assert set("仉亓鄢逄欒佘冼酆蒯鈄笪粘") <= set(sn.SURNAMES)
    assert sn.COMMON_SURNAMES <= sn.STRONG_SURNAMES  # a common surname is never weak
    assert "於" in sn.WEAK_SURNAMES and "於" not in sn.STRONG_SURNAMES
    assert sn.surname_at("歐陽娜娜") == "歐陽" and sn.surname_at("王小明") == "王"
    assert sn.surname_at("的確") is None


def test_a_malformed_surname_file_is_refused(tmp_path) -> None:
    from masking.recognizers import surnames as sn

    bad = tmp_path / "surnames.txt"
    bad.write_text("王 林 # fine\n三個字\n", encoding="utf-8")
    with pytest.raises(ValueError, match="one or two characters"):
        sn._read(bad)


def test_jieba_is_loaded_lazily_and_only_when_a_surname_is_left_open() -> None:
    """jieba (about a second to load) is not loaded by importing or by texts whose surnames the
    rules explained; it is loaded on the first text with a surname no rule explained."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "from masking.recognizers import analyze, statnames\n"
        "analyze('本案已結案'); analyze('受款人王小明來電0912-345-678')\n"
        "print(statnames.is_loaded())\n"
        "analyze('今天蔡宗翰到場辦理，電話0912345678'); print(statnames.is_loaded())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parents[2])
    assert result.stdout.split() == ["False", "True"]
