"""The identifier recognizers: national ID and resident certificate numbers
(:class:`TwNationalIdRecognizer`) and business IDs, 統一編號 (:class:`TwBusinessIdRecognizer`).

Contract: both validate the check digit with :mod:`kernel.twid` and decide by the nearest cue
(:func:`~masking.recognizers.base.nearest_cue`); a person ID with a wrong check digit is still
reported (a mistyped identifier is personal data), with a lower score; so is a business ID right
after a cue naming it (``統編``); else a business ID needs a valid check digit, a business cue
or an owner before it, and not the shape of a date.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import Final

from kernel.twid import PERSON_ID_SECOND, is_valid_business_id, is_valid_person_id
from masking.recognizers.base import (
    NOT_AFTER,
    NOT_BEFORE,
    NOT_QUANTITY,
    TW_BUSINESS_ID,
    TW_NATIONAL_ID,
    TaiwanRecognizer,
    nearest_cue,
)

# --------------------------------------------------------------------------------------------
# National ID and resident certificate numbers.

_SECOND_CHARS: Final = PERSON_ID_SECOND + PERSON_ID_SECOND.lower()
_ID_RE: Final = re.compile(
    r"(?:(?<![A-Za-z0-9])|(?<=ID)|(?<=Id)|(?<=id))"  # ``IDC225123518``: glued to its label
    rf"[A-Za-z][ \-]?[{''.join(sorted(set(_SECOND_CHARS)))}](?:[ \-]?[0-9]){{8}}"
    r"(?![0-9])"
)
_SEPARATORS: Final = str.maketrans("", "", " -")


class TwNationalIdRecognizer(TaiwanRecognizer):
    """National ID ``[A-Z][12]\\d{8}`` and resident certificate numbers (``[A-Z][89]\\d{8}``,
    ``[A-Z][A-D]\\d{8}``), also glued to Chinese or to a preceding ``ID``, any case, full-width,
    with spaces or hyphens inside; check digit validated with
    :func:`kernel.twid.is_valid_person_id`. A number directly after a case-number cue
    (``受理編號``, ``案號``) is a case number of the same shape, unless that cue ends an
    identifier cue (``居留證號碼``).
    """

    ENTITY = TW_NATIONAL_ID

    def find(self, folded: str) -> Iterator[tuple[int, int, float]]:
        for m in _ID_RE.finditer(folded):
            # ``受理編號B113050123``: a case number of the same shape, after a case-number cue
            # (not when that cue is the tail of an identifier cue: ``居留證號碼``).
            if (nearest_cue(folded, m.start(), window=4) == "negative"
                    and nearest_cue(folded, m.start()) == "negative"):
                continue
            # A wrong check digit is most often a mistyped identifier: still personal data.
            valid = is_valid_person_id(m.group().translate(_SEPARATORS).upper())
            yield m.start(), m.end(), 0.95 if valid else 0.6


# --------------------------------------------------------------------------------------------
# Business ID (統一編號).

_BUSINESS_RE: Final = re.compile(NOT_BEFORE + r"[0-9]{8}" + NOT_AFTER + NOT_QUANTITY)
# A business word right after the number: ``58155298公司``.
_BUSINESS_AFTER: Final = re.compile(r"\s?[)）]?\s?(?:公司|行號|商號|企業社|工作室|有限公司)")
# A cue that names the business ID itself, directly before the number (``統編``, ``統一編號：``,
# ``營利事業統一編號``, ``扣繳單位統編``, ``公司統編為``, ``投保單位``), or right after it
# (``12345678（統編）``): there any 8 digits are the business ID, a wrong check digit or a
# date-like number included (a mistyped business ID).
_STRONG_CUE: Final = (
    r"(?:統一編號|統編|統一編|營利事業編號|扣繳編號|扣繳單位|投保單位)(?:號碼|號)?"
)
_STRONG_BEFORE: Final = re.compile(
    _STRONG_CUE + r"(?:\s?(?:是|為|:|=|#|No\.?|NO\.?)){0,2}\s?[(\[【「]?\s?$"
)
_STRONG_AFTER: Final = re.compile(r"\s?[(（\[【]\s?(?:統一編號|統編)")
# A bare number in brackets after a business or its owner: ``美髮店負責人紀韻如（98870987）``,
# ``大同有限公司(12345676)``.
_BRACKETED: Final = re.compile(r"[(（]\s?$")
_BRACKET_CLOSE: Final = re.compile(r"\s?[)）]")
_BUSINESS_WORDS: Final = re.compile(
    r"公司|行號|商號|企業|工作室|事務所|工廠|農場|牧場|診所|商行|[店行社廠]|負責人|老闆|老板|雇主|資方"
)
_STRONG_WINDOW: Final = 16
_OWNER_WINDOW: Final = 14


def _is_date(s: str) -> bool:
    """True when the 8 digits ``s`` are a plausible Gregorian date ``YYYYMMDD``."""
    try:
        d = datetime.date(int(s[:4]), int(s[4:6]), int(s[6:]))
    except ValueError:
        return False
    return 1900 <= d.year <= 2100


def _strongly_cued(folded: str, start: int, end: int) -> bool:
    """True when a cue naming the business ID stands directly before ``start`` or after
    ``end`` (separators, ``是``/``為`` and an opening bracket between)."""
    head = folded[max(0, start - _STRONG_WINDOW) : start]
    return bool(_STRONG_BEFORE.search(head) or _STRONG_AFTER.match(folded, end))


def _owned(folded: str, start: int, end: int) -> bool:
    """True when the number stands alone in brackets after a word of business or of its owner
    (``負責人``, ``店``, ``公司``) within a few characters."""
    head = folded[max(0, start - _OWNER_WINDOW) : start]
    bracket = _BRACKETED.search(head)
    if not bracket or not _BRACKET_CLOSE.match(folded, end):
        return False
    return bool(_BUSINESS_WORDS.search(head, 0, bracket.start()))


class TwBusinessIdRecognizer(TaiwanRecognizer):
    """Business IDs (統一編號), 8 digits:

    - right after (or before, in brackets) a cue that names the business ID (``統編``,
      ``統一編號``, ``營利事業統一編號``, ``扣繳單位``, ``投保單位``): any 8 digits, also with a
      wrong check digit or the shape of a date (score 0.8 with a valid check digit, else 0.6);
    - with a valid check digit and not a date: after a business cue (``公司``, ``雇主``,
      ``單位``, ...), directly before ``公司``, or alone in brackets a few characters after a
      business or its owner (``美髮店負責人紀韻如（98870987）``).
    """

    ENTITY = TW_BUSINESS_ID

    def find(self, folded: str) -> Iterator[tuple[int, int, float]]:
        for m in _BUSINESS_RE.finditer(folded):
            s = m.group()
            valid = is_valid_business_id(s)
            if _strongly_cued(folded, m.start(), m.end()):
                yield m.start(), m.end(), 0.8 if valid else 0.6
            elif not valid or _is_date(s):
                continue
            elif (nearest_cue(folded, m.start()) == "business"
                  or _BUSINESS_AFTER.match(folded, m.end())
                  or _owned(folded, m.start(), m.end())):  # fmt: skip
                yield m.start(), m.end(), 0.8
