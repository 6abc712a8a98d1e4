"""The Taiwanese Presidio recognizers: each entity on positive and negative examples."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kernel.twid import fullwidth, person_id_check_digit
from masking import recognizers as rec
from masking.recognizers import (
    EMAIL_ADDRESS,
    PERSON,
    PREFILTER,
    TW_ADDRESS,
    TW_BANK_ACCOUNT,
    TW_BUSINESS_ID,
    TW_NATIONAL_ID,
    TW_PHONE,
    analyze,
    fold,
    needs_analysis,
    redact,
)

VALID_ID = "A123456789"
INVALID_ID = "A123456788"
RESIDENT_NEW = "A8" + "0000001" + person_id_check_digit("A80000001")
RESIDENT_OLD = "AC" + "0000001" + person_id_check_digit("AC0000001")


def found(text: str, known_names: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(entity, matched text) of every finding."""
    return [(r.entity_type, text[r.start : r.end]) for r in analyze(text, known_names)]


def entities(text: str) -> set[str]:
    """The entity types found in ``text``."""
    return {e for e, _ in found(text)}


def test_spec_example_is_redacted() -> None:
    text = "受款人王小明(A123456789)來電0912-345-678，改匯郵局帳號0001234-5678901"
    assert redact(text, analyze(text)) == (
        "受款人<PERSON>(<TW_NATIONAL_ID>)來電<TW_PHONE>，改匯郵局帳號<TW_BANK_ACCOUNT>"
    )


def test_module_sets_tldextract_cache_without_network() -> None:
    assert Path(os.environ["TLDEXTRACT_CACHE"]).is_dir()


def test_engine_has_only_our_recognizers() -> None:
    engine = rec.get_analyzer()
    names = {r.name for r in engine.get_recognizers(language="zh")}
    assert names == {make().name for make in rec.RECOGNIZERS}
    assert set(engine.get_supported_entities(language="zh")) == set(rec.ENTITIES)
    assert rec.get_analyzer() is engine  # one engine per process


def test_build_analyzer_refuses_missing_model(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        rec.build_analyzer(str(tmp_path / "nope"))


# --- national ID -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        VALID_ID,
        VALID_ID.lower(),
        fullwidth(VALID_ID),
        "A123-456-789",
        "A 123456789",
        "Ａ１２３ ４５６ ７８９",
        RESIDENT_NEW,
        RESIDENT_OLD,
    ],
)
def test_national_id_forms(value: str) -> None:
    text = f"身分證{value}申請"
    assert found(text) == [(TW_NATIONAL_ID, value)]


def test_national_id_glued_to_chinese() -> None:
    # The name standing before the number is a name too (it stands on its own).
    assert found(f"王小明{VALID_ID}本人親至") == [(PERSON, "王小明"), (TW_NATIONAL_ID, VALID_ID)]


@pytest.mark.parametrize(
    "text",
    [
        f"居留證號碼{RESIDENT_NEW}已更新",  # ``證號碼`` ends an identifier cue here
        f"外籍配偶統一證號{RESIDENT_NEW}辦理",
        f"其新式居留證{RESIDENT_NEW}號",
        f"來電確認為華僑，ID{VALID_ID}。",  # glued to its Latin label
        f"居留證號碼{fullwidth(RESIDENT_NEW)}已更新",
    ],
)
def test_resident_certificate_glued_on_both_sides(text: str) -> None:
    assert TW_NATIONAL_ID in entities(text)


@pytest.mark.parametrize(
    "text",
    [
        f"序號X{VALID_ID}",  # part of a longer code
        f"{VALID_ID}1",  # followed by a digit
        f"受理編號{VALID_ID}",  # a case number of the same shape
    ],
)
def test_national_id_negatives(text: str) -> None:
    assert TW_NATIONAL_ID not in entities(text)


@pytest.mark.parametrize(
    "text", [f"身分證{INVALID_ID}", "配偶黃俊傑（身分證Ｋ１２１２３４５６７）"]
)
def test_a_mistyped_identifier_is_still_personal_data(text: str) -> None:
    """A wrong check digit is most often a typing error: the leak gate must still catch it."""
    assert TW_NATIONAL_ID in entities(text)


def test_a_name_before_a_verb_cue() -> None:
    assert PERSON in entities("王大明來電詢問給付進度")


# --- phone -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "0912-345-678",
        "0912345678",
        "0912 345 678",
        "+886-912-345-678",
        "+886912345678",
        "+886 912 345 678",
        "(0912)345-678",
        fullwidth("0912-345-678"),
        "(02)2345-6789",
        "02-23456789",
        "07-1234567",
        "049-2345678",
        "+886-2-2345-6789",
        fullwidth("(02)2345-6789"),
        "00886-2-2345-6789",
        "00886 2 2345 6789",
        "886-2-2345-6789",
        "886-912-345-678",
        "00886-912-345-678",
    ],
)
def test_phone_forms(value: str) -> None:
    assert found(f"請回電{value}謝謝") == [(TW_PHONE, value)]


def test_a_country_code_is_not_counted_as_the_number() -> None:
    """``00886`` is five digits, ``+886``/``886`` three: what is left must be a landline's eight
    or nine digits, so a number cut short is not a phone."""
    assert TW_PHONE not in entities("請回電00886-2-23-456")
    assert TW_PHONE not in entities("請回電886-2-23-456")
    assert TW_PHONE not in entities("金額886元")


def test_phone_without_cue_and_bare_landline() -> None:
    assert found("0912345678") == [(TW_PHONE, "0912345678")]
    assert found("住家電話0223456789") == [(TW_PHONE, "0223456789")]
    assert TW_PHONE not in entities("收文號0223456789")


# --- e-mail ------------------------------------------------------------------------------


def test_email_glued_and_fullwidth() -> None:
    assert found("信箱wang.xm@gmail.com請回覆") == [(EMAIL_ADDRESS, "wang.xm@gmail.com")]
    fw = fullwidth("lin@ms1.hinet.net")
    assert found(f"電子郵件{fw}") == [(EMAIL_ADDRESS, fw)]
    assert EMAIL_ADDRESS not in entities("請寄至@後面空白")


# --- bank account ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("改匯郵局帳號0001234-5678901", "0001234-5678901"),
        ("0001234-5678901", "0001234-5678901"),  # postal shape, no cue
        ("匯入臺灣銀行帳號012-345-678901", "012-345-678901"),
        ("戶頭123456789012已結清", "123456789012"),
        ("匯款帳號：" + fullwidth("12345678901234"), fullwidth("12345678901234")),
        ("局號0012345帳號1234567", "0012345帳號1234567"),
    ],
)
def test_bank_account_positives(text: str, value: str) -> None:
    assert (TW_BANK_ACCOUNT, value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "案號1130501001234補發",
        "收文號1130012345",
        "手機0912345678",
        "總計1234567890元",
        "123456789012",  # a bare digit run without account cue
    ],
)
def test_bank_account_negatives(text: str) -> None:
    assert TW_BANK_ACCOUNT not in entities(text)


def test_account_and_phone_told_apart() -> None:
    text = "來電0912-345-678，改匯郵局帳號0001234-5678901，電話02-2345-6789"
    assert found(text) == [
        (TW_PHONE, "0912-345-678"),
        (TW_BANK_ACCOUNT, "0001234-5678901"),
        (TW_PHONE, "02-2345-6789"),
    ]


# --- business ID -------------------------------------------------------------------------


def test_business_id() -> None:
    assert found("公司統編04595257") == [(TW_BUSINESS_ID, "04595257")]
    assert found("統一編號22099131之雇主") == [(TW_BUSINESS_ID, "22099131")]
    assert TW_BUSINESS_ID not in entities("雇主04595258")  # wrong check digit, business cue
    assert TW_BUSINESS_ID not in entities("04595257")  # no cue
    assert TW_BUSINESS_ID not in entities("公司負擔04595257元")  # an amount


# --- address -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "臺北市中正區忠孝東路一段12號3樓",
        "台北市中正區忠孝東路一段12號3樓",
        "新北市板橋區文化路二段100巷5弄3號",
        "高雄市前鎮區永和街３２０號十樓",
        "南投縣埔里鎮大城里3鄰15號",
        "新竹縣竹北市光明六路東一段100號",
        "中正區自由路5號之1",
    ],
)
def test_address_forms(value: str) -> None:
    assert found(f"改寄{value}，謝謝") == [(TW_ADDRESS, value)]


@pytest.mark.parametrize(
    "text",
    [
        "臺北市政府113年5月1日府社字第1130123456號函",
        "勞保2字第1130012345號",
        "住臺北市",
        "中山路郵局窗口",
    ],
)
def test_address_negatives(text: str) -> None:
    assert TW_ADDRESS not in entities(text)


# --- person ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("受款人王小明來電", "王小明"),
        ("申請人：林美玲", "林美玲"),
        ("王小明先生來電", "王小明"),
        ("請陳怡君小姐補件", "陳怡君"),
        ("配偶歐陽娜娜", "歐陽娜娜"),
        ("家屬張簡志明表示", "張簡志明"),
        ("陳大文之子陳小文", "陳大文"),
        ("匯入其子王小華之帳戶", "王小華"),
        ("代理人李明於今日", "李明"),
    ],
)
def test_person_with_cues(text: str, name: str) -> None:
    assert (PERSON, name) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "王先生來電詢問",
        "請林小姐補件",
        "申請人本人親至",
        "申請人高齡85歲",
        "承辦人：黃專員",
        "家屬表示將補件",
        "受款人金額有誤",
    ],
)
def test_person_negatives(text: str) -> None:
    assert PERSON not in entities(text)


def test_known_names_found_without_cue() -> None:
    text = "阿土於113年5月1日死亡，停止給付"  # no surname: no rule finds it
    assert PERSON not in entities(text)
    assert found(text, ("阿土",)) == [(PERSON, "阿土")]
    assert needs_analysis("通知王小明補件", ("王小明",))


# --- not personal data -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "113年5月1日核付老年年金12,345元",
        "1130501核定，11305月份給付暫停",
        "案號1130501001234補發差額3,456元",
        "核定日期2024-05-01，給付金額NT$1,234,567元",
        "出生日期0780315，加保日期1080301",
        "保險證號01234567投保薪資45,800元",
        "總計25,834,578元，計算至111/8/30",
        "本案已結案",
    ],
)
def test_dates_amounts_case_numbers_not_flagged(text: str) -> None:
    assert analyze(text) == []


def test_redact_resolves_overlaps_and_keeps_text() -> None:
    text = "配偶林美玲小姐住臺北市中正區忠孝東路一段１２號３樓，電話(02)2345-6789"
    assert redact(text, analyze(text)) == "配偶<PERSON>小姐住<TW_ADDRESS>，電話<TW_PHONE>"
    assert redact("沒有個資", []) == "沒有個資"


def test_fold_keeps_length() -> None:
    s = "Ａ１２３　４５６－７８９＠"
    assert len(fold(s)) == len(s)
    assert fold(s) == "A123 456-789@"


def test_prefilter_skips_plain_text() -> None:
    assert not PREFILTER.search("本案已結案，請查照")
    assert PREFILTER.search("請回電(0912)345-678")
    assert PREFILTER.search("信箱ａ＠ｂ．ｃｏｍ")
