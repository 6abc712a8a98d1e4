"""The identifier recognizers: national ID and resident certificate numbers
(:class:`TwNationalIdRecognizer`) and business IDs, 統一編號 (:class:`TwBusinessIdRecognizer`).

Contract: both validate the check digit with :mod:`kernel.twid` and decide by the nearest cue
(:func:`~masking.recognizers.base.nearest_cue`); a person ID with a wrong check digit is still
reported (a mistyped identifier is personal data), with a lower score; a business ID only with a
valid check digit, after a business cue, and when it is not a date.
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


def _is_date(s: str) -> bool:
    """True when the 8 digits ``s`` are a plausible Gregorian date ``YYYYMMDD``."""
    try:
        d = datetime.date(int(s[:4]), int(s[4:6]), int(s[6:]))
    except ValueError:
        return False
    return 1900 <= d.year <= 2100


class TwBusinessIdRecognizer(TaiwanRecognizer):
    """Business IDs (統一編號): 8 digits with a valid check digit after a business cue
    (統編, 統一編號, 公司, 投保單位, 單位, ...) or directly before ``公司``."""

    ENTITY = TW_BUSINESS_ID

    def find(self, folded: str) -> Iterator[tuple[int, int, float]]:
        for m in _BUSINESS_RE.finditer(folded):
            s = m.group()
            if not is_valid_business_id(s) or _is_date(s):
                continue
            if nearest_cue(folded, m.start()) == "business" or _BUSINESS_AFTER.match(
                folded, m.end()
            ):
                yield m.start(), m.end(), 0.8
