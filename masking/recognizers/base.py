"""The shared ground of the Taiwan recognizers: entity names, text folding, CJK character
classes, context cues, the boundaries of digit runs, and :class:`TaiwanRecognizer`.

Contract: :func:`fold` keeps the length of its text (offsets in the folded text are offsets in
the original); :func:`nearest_cue` reads cues on the folded text; a :class:`TaiwanRecognizer`
yields its findings from :meth:`~TaiwanRecognizer.find` over the folded text and reports them
to Presidio as results of its one entity. No Presidio engine, no spaCy: only the recognizer base
class is imported from Presidio.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import ClassVar, Final

from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

LANGUAGE: Final = "zh"

TW_NATIONAL_ID: Final = "TW_NATIONAL_ID"
TW_PHONE: Final = "TW_PHONE"
EMAIL_ADDRESS: Final = "EMAIL_ADDRESS"
TW_BANK_ACCOUNT: Final = "TW_BANK_ACCOUNT"
TW_BUSINESS_ID: Final = "TW_BUSINESS_ID"
TW_ADDRESS: Final = "TW_ADDRESS"
PERSON: Final = "PERSON"
SOCIAL_HANDLE: Final = "SOCIAL_HANDLE"
ENTITIES: Final[tuple[str, ...]] = (
    TW_NATIONAL_ID,
    TW_PHONE,
    EMAIL_ADDRESS,
    TW_BANK_ACCOUNT,
    TW_BUSINESS_ID,
    TW_ADDRESS,
    PERSON,
    SOCIAL_HANDLE,
)
"""The entity types the recognizers find, as Presidio entity names."""

SCORE_THRESHOLD: Final = 0.4
"""Findings scoring below this are dropped (e.g. a bare digit run without an account cue)."""


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


def cjk_class_without(excluded: str) -> str:
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
    "室話", "住家", "行動", "傳真", "分機", "TEL", "PHONE", "MOBILE", "FAX", "電", "撥", "打給",
    "專線", "總機", "CALL", "CONTACT", "WHATSAPP",
)  # fmt: skip
ID_CUES: Final = (
    "身分證", "身份證", "統一證號", "居留證", "證號", "字號", "ID", "ARC", "ARC NO.", "ARC NO",
    "ID NO.", "ID NO", "UI NO.", "UI NO", "RESIDENT",
)  # fmt: skip
BUSINESS_CUES: Final = (
    "統編", "統一編號", "公司", "營利事業", "扣繳單位", "投保單位", "雇主", "行號", "商號", "廠商",
    "事業單位", "單位",
)  # fmt: skip
NEGATIVE_CUES: Final = (
    "案號", "文號", "字第", "受理", "編號", "單號", "序號", "收文", "發文", "流水號", "批號",
    "保險證號", "證號碼", "函", "金額", "日期", "期間", "年月", "代號", "代碼", "條碼", "件數",
    "NO.", "NO", "掛號", "郵件號碼", "追蹤碼", "追蹤號", "包裹", "託運",
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
# Digit runs: where an identifier may start and end (``\b`` does not separate Chinese from
# digits: both are ``\w``).

NOT_BEFORE: Final = r"(?<![0-9A-Za-z+])(?<![0-9]-)"
NOT_AFTER: Final = r"(?![0-9])(?!-[0-9])"
# A number followed by a unit is a quantity, not an identifier: ``12345678元`` (``公斤``, but
# not ``公司``).
NOT_QUANTITY: Final = r"(?![.][0-9]|\s?(?:元|萬|千|百|%|個|筆|人|歲|年|月|日|次|件|股|公(?!司)))"


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
