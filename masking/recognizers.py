"""Presidio recognizers for Taiwanese personal data in Chinese free text.

Clerks' remarks (``bli.benefit_payments.remark``, household-registry notes) hold personal data in
free form, e.g. ``受款人王小明(A123456789)來電0912-345-678，改匯郵局帳號0001234-5678901``. This
module finds it with Presidio and replaces it by entity tags:

>>> redact(text, analyze(text))  # doctest: +SKIP
'受款人<PERSON>(<TW_NATIONAL_ID>)來電<TW_PHONE>，改匯郵局帳號<TW_BANK_ACCOUNT>'

Design notes:

- Every recognizer works on a *folded* copy of the text: full-width ASCII (``Ａ１２＠``), the
  ideographic space and the dash variants map to their ASCII forms one character for one
  character, so offsets in the folded text are offsets in the original. (NFKC is not used
  because it can change the length of a string.)
- ``\\b`` does not separate Chinese characters from letters and digits (both are ``\\w``), so
  the patterns use look-arounds such as ``(?<![A-Za-z0-9])`` and ``(?![0-9])``.
- Context is evaluated by the recognizers themselves on the raw text: the blank Chinese spaCy
  pipeline segments into single characters and has no lemmas, so Presidio's lemma based
  context enhancer cannot match multi-character cues like ``帳號``. For digit runs the *nearest
  preceding cue* decides what a number is (``來電`` → phone, ``帳號`` → account, ``案號`` →
  not personal data).
- :data:`PREFILTER` is a cheap regular expression that matches every text that could contain
  a finding; :func:`analyze` skips the engine for other texts.
"""

from __future__ import annotations

import datetime
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import ClassVar, Final

_REPO = Path(__file__).resolve().parents[1]
_TLD_CACHE = _REPO / ".cache" / "tldextract"
if _TLD_CACHE.is_dir():
    # Presidio's e-mail recognizer imports tldextract, which fetches the public suffix list from
    # the internet unless a cache is configured: never reach the internet on import.
    os.environ.setdefault("TLDEXTRACT_CACHE", str(_TLD_CACHE))

from presidio_analyzer import (  # noqa: E402
    AnalyzerEngine,
    EntityRecognizer,
    LocalRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngineProvider  # noqa: E402
from presidio_anonymizer import AnonymizerEngine  # noqa: E402
from presidio_anonymizer.entities import ConflictResolutionStrategy, OperatorConfig  # noqa: E402

from kernel.twid import COUNTIES as TW_COUNTIES  # noqa: E402
from kernel.twid import PERSON_ID_SECOND, is_valid_business_id, is_valid_person_id  # noqa: E402

LANGUAGE: Final = "zh"

TW_NATIONAL_ID: Final = "TW_NATIONAL_ID"
TW_PHONE: Final = "TW_PHONE"
EMAIL_ADDRESS: Final = "EMAIL_ADDRESS"
TW_BANK_ACCOUNT: Final = "TW_BANK_ACCOUNT"
TW_BUSINESS_ID: Final = "TW_BUSINESS_ID"
TW_ADDRESS: Final = "TW_ADDRESS"
PERSON: Final = "PERSON"
ENTITIES: Final[tuple[str, ...]] = (
    TW_NATIONAL_ID,
    TW_PHONE,
    EMAIL_ADDRESS,
    TW_BANK_ACCOUNT,
    TW_BUSINESS_ID,
    TW_ADDRESS,
    PERSON,
)
"""The entity types this module finds, as Presidio entity names."""

SCORE_THRESHOLD: Final = 0.4
"""Findings scoring below this are dropped (e.g. a bare digit run without an account cue)."""

SPACY_MODEL_ENV: Final = "LAKEHOUSE_SPACY_MODEL"
DEFAULT_SPACY_MODEL: Final = _REPO / ".cache" / "spacy" / "zh_blank"

# --------------------------------------------------------------------------------------------
# Folding: full-width forms to ASCII, one character for one character.

_FOLD: Final[dict[int, int]] = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FOLD.update({0x3000: 0x20, 0xFE6B: 0x40, 0xFE63: 0x2D, 0x2212: 0x2D})
_FOLD.update({c: 0x2D for c in range(0x2010, 0x2016)})


@lru_cache(maxsize=64)
def fold(text: str) -> str:
    """``text`` with full-width ASCII, the ideographic space and dashes as ASCII.

    The result has the same length as ``text``: offsets carry over unchanged.
    """
    return text.translate(_FOLD)


_CJK_RANGES: Final = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
CJK: Final = "".join(f"{chr(a)}-{chr(b)}" for a, b in _CJK_RANGES)
"""Body of a character class of CJK ideographs."""


def _cjk_class_without(excluded: str) -> str:
    """A character class of the CJK ideographs except ``excluded`` (no class subtraction in re)."""
    parts: list[str] = []
    points = sorted({ord(c) for c in excluded})
    for lo, hi in _CJK_RANGES:
        start = lo
        for p in points:
            if lo <= p <= hi:
                if start <= p - 1:
                    parts.append(f"{chr(start)}-{chr(p - 1)}")
                start = p + 1
        if start <= hi:
            parts.append(f"{chr(start)}-{chr(hi)}")
    return "[" + "".join(parts) + "]"


# --------------------------------------------------------------------------------------------
# Cues: the nearest cue before a digit run tells what the number is.

BANK_CUES: Final = (
    "帳號", "帳戶", "賬號", "賬戶", "戶頭", "郵局", "郵政", "銀行", "匯款", "匯入", "改匯", "匯至",
    "存簿", "存摺", "局號", "農會", "信用合作社", "分行", "轉帳", "入帳", "撥入", "電匯", "ACCOUNT",
)  # fmt: skip
PHONE_CUES: Final = (
    "電話", "手機", "來電", "致電", "回電", "去電", "撥打", "聯絡", "連絡", "聯繫", "連繫", "市話",
    "室話", "住家", "行動", "傳真", "分機", "TEL", "PHONE", "MOBILE", "FAX", "電",
)  # fmt: skip
ID_CUES: Final = ("身分證", "身份證", "統一證號", "居留證", "證號", "字號", "ID")
BUSINESS_CUES: Final = (
    "統編", "統一編號", "公司", "營利事業", "扣繳單位", "投保單位", "雇主", "行號", "商號", "廠商",
    "事業單位",
)  # fmt: skip
NEGATIVE_CUES: Final = (
    "案號", "文號", "字第", "受理", "編號", "單號", "序號", "收文", "發文", "流水號", "批號",
    "保險證號", "證號碼", "函", "金額", "日期", "期間", "年月", "代號", "代碼", "條碼", "件數",
    "NO.", "NO",
)  # fmt: skip

_CUE_CLASS: Final[dict[str, str]] = {}
for _kind, _cues in (
    ("negative", NEGATIVE_CUES),
    ("id", ID_CUES),
    ("business", BUSINESS_CUES),
    ("phone", PHONE_CUES),
    ("bank", BANK_CUES),  # a cue listed under two kinds keeps the first (negative first)
):
    for _cue in _cues:
        _CUE_CLASS.setdefault(_cue, _kind)
_CUE_RE: Final = re.compile(
    "|".join(re.escape(c) for c in sorted(_CUE_CLASS, key=len, reverse=True)), re.IGNORECASE
)
_CUE_WINDOW: Final = 16


def nearest_cue(folded: str, start: int, window: int = _CUE_WINDOW) -> str | None:
    """The kind (``bank``, ``phone``, ``id``, ``business``, ``negative``) of the cue ending
    nearest before ``start`` within ``window`` characters, or ``None``.

    Another digit run between the cue and ``start`` does not break the cue: in
    ``帳號0001234-5678901及0009876-5432109`` both numbers are accounts.
    """
    lo = max(0, start - window)
    best: tuple[int, int, str] | None = None
    for m in _CUE_RE.finditer(folded, lo, start):
        key = (m.end(), m.end() - m.start())
        if best is None or key >= best[:2]:
            kind = _CUE_CLASS.get(m.group()) or _CUE_CLASS.get(m.group().upper(), "")
            best = (key[0], key[1], kind)
    return best[2] if best else None


# --------------------------------------------------------------------------------------------
# Base class.


class TaiwanRecognizer(LocalRecognizer):
    """A recognizer of one entity over the folded text, with precompiled patterns.

    Subclasses implement :meth:`find`, yielding ``(start, end, score)`` over the folded text.
    """

    ENTITY: ClassVar[str] = ""
    name: str

    def __init__(self, supported_language: str = LANGUAGE) -> None:
        super().__init__(
            supported_entities=[self.ENTITY],
            name=type(self).__name__,
            supported_language=supported_language,
        )

    def load(self) -> None:
        """Nothing to load: the patterns are compiled at import."""

    def find(self, folded: str) -> Iterator[tuple[int, int, float]]:
        """Yield ``(start, end, score)`` of the findings in ``folded``."""
        raise NotImplementedError

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Presidio entry point: the findings of :meth:`find` as recognizer results."""
        if entities and self.ENTITY not in entities:
            return []
        metadata = {
            RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
        }
        return [
            RecognizerResult(self.ENTITY, s, e, score, recognition_metadata=dict(metadata))
            for s, e, score in self.find(fold(text))
        ]


# --------------------------------------------------------------------------------------------
# National ID and resident certificate numbers.

_SECOND_CHARS: Final = PERSON_ID_SECOND + PERSON_ID_SECOND.lower()
_ID_RE: Final = re.compile(
    rf"(?<![A-Za-z0-9])[A-Za-z][ \-]?[{''.join(sorted(set(_SECOND_CHARS)))}](?:[ \-]?[0-9]){{8}}"
    r"(?![0-9])"
)
_SEPARATORS: Final = str.maketrans("", "", " -")


class TwNationalIdRecognizer(TaiwanRecognizer):
    """National ID ``[A-Z][12]\\d{8}`` and resident certificate numbers (``[A-Z][89]\\d{8}``,
    ``[A-Z][A-D]\\d{8}``), any case, full-width, with spaces or hyphens inside; check digit
    validated with :func:`kernel.twid.is_valid_person_id`. A number directly after a
    case-number cue (``受理編號``, ``案號``) is a case number of the same shape.
    """

    ENTITY = TW_NATIONAL_ID

    def find(self, folded: str) -> Iterator[tuple[int, int, float]]:
        for m in _ID_RE.finditer(folded):
            # ``受理編號B113050123``: a case number of the same shape, after a case-number cue.
            if nearest_cue(folded, m.start(), window=4) == "negative":
                continue
            # A wrong check digit is most often a mistyped identifier: still personal data.
            valid = is_valid_person_id(m.group().translate(_SEPARATORS).upper())
            yield m.start(), m.end(), 0.95 if valid else 0.6


# --------------------------------------------------------------------------------------------
# Phone numbers.

_NOT_BEFORE: Final = r"(?<![0-9A-Za-z+])(?<![0-9]-)"
_NOT_AFTER: Final = r"(?![0-9])(?!-[0-9])"
# A number followed by a unit is a quantity, not an identifier: ``12345678元``.
_NOT_QUANTITY: Final = r"(?![.][0-9]|\s?(?:元|萬|千|百|%|個|筆|人|歲|年|月|日|次|件|股|公))"
_MOBILE_RE: Final = re.compile(
    _NOT_BEFORE
    + r"(?:(?:\+|00)886[ \-]?(?:\(0\)[ \-]?)?0?|\(0(?=9\d\d\)))"
    + r"9(?:[ \-.)]{0,2}[0-9]){8}"
    + _NOT_AFTER
    + r"|"
    + _NOT_BEFORE
    + r"09(?:[ \-.]?[0-9]){8}"
    + _NOT_AFTER
)
_LANDLINE_RE: Final = re.compile(
    _NOT_BEFORE
    + r"(?:\(0[2-8][0-9]{0,2}\)[ \-]?|0[2-8][0-9]{0,2}[ \-]"
    + r"|(?:\+|00)886[ \-]?\(?[2-8][0-9]{0,2}\)?[ \-]?)"
    + r"[0-9]{2,4}[ \-]?[0-9]{3,4}"
    + _NOT_AFTER
)
_LANDLINE_BARE_RE: Final = re.compile(_NOT_BEFORE + r"0[2-8][0-9]{7,8}" + _NOT_AFTER)


def _digits(s: str) -> str:
    return "".join(c for c in s if "0" <= c <= "9")


class TwPhoneRecognizer(TaiwanRecognizer):
    """Mobile (``0912-345-678``, ``+886 912 345 678``, ``(0912)345-678``) and landline numbers
    (``(02)2345-6789``, ``02-23456789``, ``07-1234567``, ``049-2345678``, ``+886-2-2345-6789``).

    A landline without separator (``0223456789``) counts only after a phone cue; a mobile number
    without separator preceded by an account cue is left to the account recognizer.
    """

    ENTITY = TW_PHONE

    def find(self, folded: str) -> Iterator[tuple[int, int, float]]:
        for m in _MOBILE_RE.finditer(folded):
            text = m.group()
            cue = nearest_cue(folded, m.start())
            if cue == "bank" and text.isdigit():
                continue
            yield m.start(), m.end(), 0.9 if cue == "phone" else 0.75
        for m in _LANDLINE_RE.finditer(folded):
            digits = _digits(m.group())
            national = digits[3:] if m.group().lstrip("(").startswith(("+", "00")) else digits[1:]
            if not 8 <= len(national) <= 9:
                continue
            cue = nearest_cue(folded, m.start())
            if cue in ("bank", "negative", "business"):
                continue
            yield m.start(), m.end(), 0.85 if cue == "phone" else 0.6
        for m in _LANDLINE_BARE_RE.finditer(folded):
            if nearest_cue(folded, m.start()) == "phone":
                yield m.start(), m.end(), 0.6


# --------------------------------------------------------------------------------------------
# E-mail addresses.

_EMAIL_RE: Final = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9](?:[A-Za-z0-9._%+\-]*[A-Za-z0-9_])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)


class EmailRecognizer(TaiwanRecognizer):
    """E-mail addresses, also full-width (``ｗａｎｇ＠ｇｍａｉｌ．ｃｏｍ``) and glued to Chinese.

    Presidio's own ``EmailRecognizer`` starts its pattern with ``\\b`` and lets ``\\w`` (which
    includes Chinese characters) into the local part, so ``信箱abc@x.tw`` would become one
    finding including ``信箱``; this pattern accepts ASCII only.
    """

    ENTITY = EMAIL_ADDRESS

    def find(self, folded: str) -> Iterator[tuple[int, int, float]]:
        for m in _EMAIL_RE.finditer(folded):
            yield m.start(), m.end(), 0.95


# --------------------------------------------------------------------------------------------
# Bank and postal accounts.

_ACCOUNT_RE: Final = re.compile(
    _NOT_BEFORE + r"[0-9](?:-?[0-9]){9,15}" + _NOT_AFTER + _NOT_QUANTITY
)
_POSTAL_RE: Final = re.compile(r"[0-9]{6,7}-[0-9]{7}")


# A postal account written as its two labelled halves: ``局號0012345帳號1234567``.
_POSTAL_PARTS_RE: Final = re.compile(
    r"局號\s?[:：]?\s?(?P<office>[0-9]{7})\s?[,，、;；]?\s?帳號\s?[:：]?\s?(?P<acct>[0-9]{7})(?![0-9])"
)


class TwBankAccountRecognizer(TaiwanRecognizer):
    """Bank and postal account numbers: 10 to 16 digits with optional hyphens
    (``0001234-5678901``, ``012-345-678901``, ``123456789012``).

    Reported when the nearest cue before the number is an account cue (帳號, 郵局, 銀行, 匯款,
    戶頭, ...), or without a cue in the postal shape ``0001234-5678901``; a number after a phone,
    ID or case-number cue is not an account. A postal account in two labelled halves
    (``局號0012345帳號1234567``) is one finding.
    """

    ENTITY = TW_BANK_ACCOUNT

    def find(self, folded: str) -> Iterator[tuple[int, int, float]]:
        for m in _ACCOUNT_RE.finditer(folded):
            cue = nearest_cue(folded, m.start())
            if cue == "bank":
                yield m.start(), m.end(), 0.85
            elif cue is None and _POSTAL_RE.fullmatch(m.group()):
                yield m.start(), m.end(), 0.6
        for m in _POSTAL_PARTS_RE.finditer(folded):
            yield m.start("office"), m.end("acct"), 0.85


# --------------------------------------------------------------------------------------------
# Business ID (統一編號).

_BUSINESS_RE: Final = re.compile(_NOT_BEFORE + r"[0-9]{8}" + _NOT_AFTER + _NOT_QUANTITY)


def _is_date(s: str) -> bool:
    """True when the 8 digits ``s`` are a plausible Gregorian date ``YYYYMMDD``."""
    try:
        d = datetime.date(int(s[:4]), int(s[4:6]), int(s[6:]))
    except ValueError:
        return False
    return 1900 <= d.year <= 2100


class TwBusinessIdRecognizer(TaiwanRecognizer):
    """Business IDs (統一編號): 8 digits with a valid check digit after a business cue
    (統編, 統一編號, 公司, 投保單位, ...)."""

    ENTITY = TW_BUSINESS_ID

    def find(self, folded: str) -> Iterator[tuple[int, int, float]]:
        for m in _BUSINESS_RE.finditer(folded):
            s = m.group()
            if not is_valid_business_id(s) or _is_date(s):
                continue
            if nearest_cue(folded, m.start()) == "business":
                yield m.start(), m.end(), 0.8


# --------------------------------------------------------------------------------------------
# Addresses.

FORMER_COUNTIES: Final = ("臺北縣", "桃園縣", "臺中縣", "臺南縣", "高雄縣")
"""The counties merged into cities in 2010 (still written in old addresses)."""
COUNTIES: Final = tuple(dict.fromkeys(
    name for c in (*TW_COUNTIES, *FORMER_COUNTIES) for name in (c, c.replace("臺", "台"))))
"""The 22 counties and cities and the counties merged in 2010, written with 台 or 臺."""

# Characters that do not belong to a place or road name: verbs and particles before an address.
_ADDRESS_STOP: Final = "住址居於在至到往寄送改為遷入搬設籍原現及與和或的請經由向已將即其該係"
_PLACE: Final = _cjk_class_without(_ADDRESS_STOP)  # first character of a name without county
_NUM: Final = r"(?:[0-9]+|[一二三四五六七八九十百零〇]+)"
_COUNTY: Final = "(?:" + "|".join(COUNTIES) + ")"


def _names(first: str, longest: int, ends: str) -> str:
    """A place name: ``first`` character class, up to ``longest`` characters, then ``ends``."""
    return rf"(?:{first}[{CJK}]{{0,{longest - 1}}}?{ends})"


_DISTRICT: Final = _names(f"[{CJK}]", 3, "[鄉鎮市區]")
_DISTRICT_FREE: Final = _names(_PLACE, 3, "[鄉鎮市區]")
_NEIGHBOURHOOD: Final = r"(?:[0-9]+|[一二三四五六七八九十]+)鄰"
_VILLAGE: Final = rf"(?:{_names(f'[{CJK}]', 3, '[村里]')}{_NEIGHBOURHOOD}?|{_NEIGHBOURHOOD})"
_VILLAGE_FREE: Final = rf"(?:{_names(_PLACE, 3, '[村里]')}{_NEIGHBOURHOOD}?)"
_SECTION: Final = rf"(?:[東西南北]?{_NUM}段)?"
_ROAD: Final = "(?:" + _names(f"[{CJK}]", 6, "(?:路|街|大道)") + _SECTION + ")"
_ROAD_FREE: Final = "(?:" + _names(_PLACE, 6, "(?:路|街|大道)") + _SECTION + ")"
_NUMBER: Final = (
    rf"(?:{_NUM}巷)?(?:{_NUM}弄)?[0-9]+(?:[-之][0-9]+)?號(?:之[0-9]+)?"
    rf"(?:(?:{_NUM}|地下[0-9]*|B[0-9])樓(?:之[0-9]+)?|[0-9]+F)?(?:[0-9]+室)?"
)
# Led by a county, the names that follow may start with any character; without a county the
# first name must not start with a verb or particle (``遷入``, ``改寄至``, ``住``).
_ADDRESS_RE: Final = re.compile(
    rf"(?:{_COUNTY}{_DISTRICT}?(?:{_VILLAGE}{_ROAD}?|{_ROAD})"
    rf"|{_DISTRICT_FREE}(?:{_VILLAGE}{_ROAD}?|{_ROAD})"
    rf"|{_VILLAGE_FREE}{_ROAD}?"
    rf"|{_ROAD_FREE})"
    rf"{_NUMBER}"
)


class TwAddressRecognizer(TaiwanRecognizer):
    """Addresses: 縣市 + 鄉鎮市區 + 村里/鄰 or 路街 (+段 巷 弄) + 號 (+樓); 台 and 臺, full-width
    digits; the county may be missing (``中正區忠孝東路一段12號``)."""

    ENTITY = TW_ADDRESS

    def find(self, folded: str) -> Iterator[tuple[int, int, float]]:
        for m in _ADDRESS_RE.finditer(folded):
            score = 0.85 if m.group().startswith(COUNTIES) else 0.7
            yield m.start(), m.end(), score


# --------------------------------------------------------------------------------------------
# Person names.

COMPOUND_SURNAMES: Final = ("歐陽", "司馬", "張簡", "范姜", "諸葛", "上官", "司徒", "東方", "端木")
SURNAMES: Final = tuple(
    "陳林黃張李王吳劉蔡楊許鄭謝洪郭邱曾廖賴徐周葉蘇莊呂江何蕭羅高潘簡朱鍾游彭詹胡施沈余盧梁趙"
    "顏柯翁魏孫戴范方宋鄧杜傅侯曹薛丁卓阮馬董温溫唐藍石蔣古紀姚連馮歐程湯黄田康姜白汪鄒尤巫鐘"
    "黎涂凃龔嚴韓袁金童陸夏柳邵錢伍倪于譚駱熊任甘秦顧毛章史官萬俞雷粘饒"
)
"""About 120 of the most common Taiwanese surnames (single characters)."""

CUES_BEFORE: Final = (
    "受款人", "申請人", "被保險人", "經辦人員", "經辦人", "承辦人員", "經辦", "辦理人",
    "受益人", "領款人", "請領人", "聯絡人", "連絡人", "代理人",
    "法定代理人", "監護人", "繼承人", "遺屬", "家屬", "配偶", "本人", "戶長", "案主", "當事人",
    "承辦人", "簽收人", "收件人", "父親", "母親", "兒子", "女兒", "長子", "次子", "長女", "次女",
    "養子", "養女", "胞兄", "胞弟", "胞姊", "胞妹", "姓名", "受託人", "委託人", "負責人", "祖父",
    "祖母", "孫子", "孫女", "同居人", "前配偶", "其子", "其女", "其妻", "其夫", "其父", "其母",
    "夫", "妻", "父", "母",
)  # fmt: skip
"""Words directly before a name (``受款人王小明``, ``配偶：林美玲``)."""
CUES_AFTER: Final = (
    "先生", "小姐", "女士", "君", "太太", "之子", "之女", "之妻", "之夫", "之父", "之母",
    "之配偶", "之遺屬", "之繼承人", "之代理人", "本人", "來電", "來函", "來信", "表示", "詢問",
    "反映", "親自",
)  # fmt: skip
"""Words directly after a name (``王小明先生``, ``陳大文之配偶``)."""
_TITLES: Final = (
    "先生", "小姐", "女士", "太太", "媽媽", "阿姨", "伯伯", "老師", "經理", "主任", "專員",
    "科員", "科長", "組長", "課長", "股長", "襄理", "處長", "局長", "站長", "辦事員", "書記",
    "技士", "醫師", "律師", "護理師", "社工", "里長", "村長", "議員", "代表", "同學", "老闆",
    "董事長", "總經理",
)  # fmt: skip
"""Words after a surname that make it a form of address, not a name (``黃專員``)."""
# Characters that end a given name: particles and verbs that follow a name in remarks.
_NAME_STOP: Final = frozenset(
    "來電於在已未的是為和與及等因稱表申請領之到至住說要改欲需將係即也了有無不並再又今另自親本"
    "持簽或、，。：:；;（）()［］「」"
)
# Common words that start with a surname character: never names.
_NOT_NAMES: Final = frozenset(
    (
        "金額", "方便", "方式", "方面", "高齡", "何時", "何處", "曾經", "連同", "連絡", "任何",
        "任職", "成為", "成功", "簡易", "簡單", "陸續", "尤其", "顧客", "馬上", "高雄", "金門",
        "連江", "萬元", "周一", "周末", "黃金", "許可", "程序", "溫度", "施行", "包括", "童年",
        "嚴重", "石頭", "白天", "田地", "古蹟", "康復", "余額", "游泳", "宋朝", "林口", "江湖",
        "史料", "官方", "毛利", "章程", "秦朝", "萬一", "雷同", "于是", "俞允", "姚明", "夏天",
        "柳丁", "金融", "錢款", "伍佰", "任意", "甘願", "杜絕", "傅達", "丁未", "方能", "曹操",
    )
)  # fmt: skip
_SURNAME: Final = (
    "(?:" + "|".join(sorted(COMPOUND_SURNAMES + SURNAMES, key=len, reverse=True)) + ")"
)
_NAME_BEFORE_RE: Final = re.compile(
    "(?:"
    + "|".join(sorted(CUES_BEFORE, key=len, reverse=True))
    + rf")(?:[:：]|\s|為|是|改為|更正為|係)?\s?(?P<name>{_SURNAME}[{CJK}]{{1,2}})"
)
_NAME_AFTER_RE: Final = re.compile(
    rf"(?P<name>{_SURNAME}[{CJK}]{{1,2}})(?:"
    + "|".join(sorted(CUES_AFTER, key=len, reverse=True))
    + ")"
)
_SURNAME_AT: Final = re.compile(_SURNAME)


def _trim_name(name: str) -> str | None:
    """The name without a trailing particle, or ``None`` when ``name`` is no name."""
    m = _SURNAME_AT.match(name)
    if m is None:
        return None
    surname, given = name[: m.end()], name[m.end() :]
    if not given or given.startswith(_TITLES) or given[0] in _NAME_STOP:
        return None
    if len(given) == 2 and given[1] in _NAME_STOP:
        given = given[:1]
    full = surname + given
    if full in _NOT_NAMES or full[:2] in _NOT_NAMES:
        return None
    return full


class TwPersonRecognizer(TaiwanRecognizer):
    """Chinese names (a common surname + 1 or 2 characters) next to a cue: 受款人, 申請人,
    配偶, 家屬, ... before the name, 先生, 小姐, 女士, 君, 之子, ... after it."""

    ENTITY = PERSON

    def find(self, folded: str) -> Iterator[tuple[int, int, float]]:
        for m in _NAME_BEFORE_RE.finditer(folded):
            name = _trim_name(m.group("name"))
            if name:
                yield m.start("name"), m.start("name") + len(name), 0.75
        for m in _NAME_AFTER_RE.finditer(folded):
            name = _trim_name(m.group("name"))
            if name == m.group("name"):
                yield m.start("name"), m.end("name"), 0.75


class KnownNamesRecognizer(TaiwanRecognizer):
    """The names known from the same record (e.g. the payee's registered name), anywhere."""

    ENTITY = PERSON

    def __init__(self, names: Iterable[str], supported_language: str = LANGUAGE) -> None:
        cleaned = sorted({fold(n).strip() for n in names if n and len(n.strip()) >= 2}, key=len)
        self._pattern = (
            re.compile("|".join(re.escape(n) for n in reversed(cleaned))) if cleaned else None
        )
        super().__init__(supported_language)

    def find(self, folded: str) -> Iterator[tuple[int, int, float]]:
        if self._pattern is not None:
            for m in self._pattern.finditer(folded):
                yield m.start(), m.end(), 0.95


RECOGNIZERS: Final[tuple[Callable[[], TaiwanRecognizer], ...]] = (
    TwNationalIdRecognizer,
    TwPhoneRecognizer,
    EmailRecognizer,
    TwBankAccountRecognizer,
    TwBusinessIdRecognizer,
    TwAddressRecognizer,
    TwPersonRecognizer,
)
"""The recognizers :func:`build_analyzer` registers."""

# --------------------------------------------------------------------------------------------
# Prefilter.

PREFILTER: Final[re.Pattern[str]] = re.compile(
    r"[0-9０-９](?:[\s\-－().（）．]{0,2}[0-9０-９]){6,}"
    r"|[@＠﹫]"
    r"|[號号]"
    r"|" + "|".join(sorted(set(CUES_BEFORE + CUES_AFTER), key=len, reverse=True))
)
"""Matches every text that could hold a finding: 7+ digits (with separators), ``@``, ``號``
(every address has one), or a name cue. Texts it does not match need no analysis (unless names
are known for the record: see :func:`needs_analysis`)."""


def needs_analysis(text: str, known_names: Sequence[str] = ()) -> bool:
    """True when ``text`` could hold personal data: it matches :data:`PREFILTER` or contains one
    of ``known_names``."""
    if PREFILTER.search(text):
        return True
    folded = fold(text)
    return any(n and fold(n).strip() in folded for n in known_names)


# --------------------------------------------------------------------------------------------
# Engine.


def _model_path(spacy_model_path: str | None) -> Path:
    path = Path(spacy_model_path or os.environ.get(SPACY_MODEL_ENV) or DEFAULT_SPACY_MODEL)
    if not path.exists():
        # Presidio would try to download a model of that name: refuse instead (offline).
        raise FileNotFoundError(
            f"spaCy pipeline not found at {path} (set {SPACY_MODEL_ENV}, or run `make` to "
            "prepare .cache/spacy/zh_blank)"
        )
    return path


def build_analyzer(spacy_model_path: str | None = None) -> AnalyzerEngine:
    """A Presidio analyzer for Chinese with only this module's recognizers.

    The NLP engine is spaCy on the blank Chinese pipeline at ``spacy_model_path`` (else
    ``$LAKEHOUSE_SPACY_MODEL``, else ``<repo>/.cache/spacy/zh_blank``); nothing is downloaded.
    Presidio's default (English) recognizers are not registered.
    """
    path = _model_path(spacy_model_path)
    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": LANGUAGE, "model_name": str(path)}],
        }
    )
    registry = RecognizerRegistry(
        recognizers=[make() for make in RECOGNIZERS], supported_languages=[LANGUAGE]
    )
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=provider.create_engine(),
        supported_languages=[LANGUAGE],
        default_score_threshold=SCORE_THRESHOLD,
    )


_LOCK = threading.Lock()
_ENGINES: dict[str, AnalyzerEngine] = {}
_ANONYMIZER: list[AnonymizerEngine] = []


def get_analyzer() -> AnalyzerEngine:
    """The process's analyzer (built on first use, then reused)."""
    with _LOCK:
        engine = _ENGINES.get("default")
        if engine is None:
            engine = _ENGINES["default"] = build_analyzer()
        return engine


def resolve_overlaps(results: Iterable[RecognizerResult]) -> list[RecognizerResult]:
    """Non-overlapping findings, sorted by start: of two overlapping findings the higher score
    wins, then the longer one."""
    kept: list[RecognizerResult] = []
    for r in sorted(results, key=lambda r: (-r.score, -(r.end - r.start), r.start)):
        if all(r.end <= k.start or k.end <= r.start for k in kept):
            kept.append(r)
    return sorted(kept, key=lambda r: (r.start, r.end))


def analyze(text: str, known_names: Sequence[str] = ()) -> list[RecognizerResult]:
    """The personal data in ``text``: non-overlapping findings sorted by start.

    ``known_names`` are names known from the same record (found anywhere in the text). Texts that
    :func:`needs_analysis` rules out are not analysed at all.
    """
    if not text or not needs_analysis(text, known_names):
        return []
    ad_hoc: list[EntityRecognizer] | None = (
        [KnownNamesRecognizer(known_names)] if known_names else None
    )
    results = get_analyzer().analyze(text=text, language=LANGUAGE, ad_hoc_recognizers=ad_hoc)
    return resolve_overlaps(results)


def _anonymizer() -> AnonymizerEngine:
    with _LOCK:
        if not _ANONYMIZER:
            _ANONYMIZER.append(AnonymizerEngine())
        return _ANONYMIZER[0]


_OPERATORS: Final = {
    entity: OperatorConfig("replace", {"new_value": f"<{entity}>"}) for entity in ENTITIES
}
_OPERATORS["DEFAULT"] = OperatorConfig("replace", {"new_value": "<PII>"})


def redact(text: str, results: Sequence[RecognizerResult]) -> str:
    """``text`` with every finding replaced by its entity tag (``<TW_NATIONAL_ID>``)."""
    if not results:
        return text
    return (
        _anonymizer()
        .anonymize(
            text=text,
            analyzer_results=resolve_overlaps(results),  # type: ignore[arg-type]
            operators=_OPERATORS,
            conflict_resolution=ConflictResolutionStrategy.REMOVE_INTERSECTIONS,
        )
        .text
    )
