"""The prefilter: a cheap regular expression (:data:`PREFILTER`) that matches every text that
could hold a finding, so that the engine runs only on those (:func:`needs_analysis`).

Contract: every text that could hold a finding of the recognizers matches (the evaluation set
checks it on every labelled text). :mod:`masking.freetext` runs the same pattern in the JVM
(``rlike``, :func:`masking.freetext.java_prefilter` translates it), so it must stay within what
that translation handles.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from kernel.twid import fullwidth
from masking.recognizers.base import CJK, fold
from masking.recognizers.handles import HANDLE_CUES
from masking.recognizers.names import CUES_AFTER, CUES_BEFORE
from masking.recognizers.surnames import COMMON_SURNAMES, COMPOUND_SURNAMES, STRONG_SURNAMES
from masking.recognizers.words import MORE_PREPOSITIONS

PREFILTER: Final[re.Pattern[str]] = re.compile(
    r"[0-9０-９](?:[\s\-－().（）．]{0,2}[0-9０-９]){6,}"
    r"|[@＠﹫]"
    r"|[號号鄰]|郵政|錯成|誤植|誤繕|誤寫|寫成|打成"
    r"|[鄉鎮市區][" + CJK + r"]{1,4}[村里]|[鄉鎮市區][" + CJK + r"]{1,6}(?:路|街|大道)"
    r"|" + "|".join(sorted(set(CUES_BEFORE + CUES_AFTER + MORE_PREPOSITIONS), key=len,
                           reverse=True))
    + r"|(?:" + "|".join(sorted(set(HANDLE_CUES) | {fullwidth(c) for c in HANDLE_CUES},
                                key=len, reverse=True))
    + r")[^\n]{0,12}(?:[A-Za-z0-9@Ａ-Ｚａ-ｚ０-９＠「『]|搜|名稱|暱稱)"
    + r"|[‧·・•]|[A-Z][a-z]+ [A-Z][a-z]+"
    + r"|(?:^|[，。；;：:])[" + CJK + r"]{2,3}[ 　][" + CJK + r"]{2}"
    + r"|" + "|".join(sorted(COMPOUND_SURNAMES))
    + r"|(?:^|[，、：:；;(（「『\s])[" + "".join(sorted(COMMON_SURNAMES)) + r"][" + CJK + r"]{1,2}"
    + r"(?:[，、,。；;)）」』\s]|$)"
    + r"|[" + "".join(sorted(STRONG_SURNAMES)) + r"][" + CJK + r"]{2}"
)
"""Matches every text that could hold a finding: 7+ digits (with separators), ``@``, ``號``
(every address has one), ``鄰``, ``郵政``, a village or a road after a district (addresses
without number), a name cue, a middle dot or two capitalised Latin words (names), two words
of Chinese characters separated by a space at the start or after punctuation (an aboriginal
name: ``莎韻 阿布要求``), a compound
surname, a common surname with one or two characters standing between punctuation, a surname
with two characters after a boundary (not a Chinese character, or ``和``, ``找``, ...), or a
service name (``LINE``, ``賴``, also in full width) with a letter, a digit, a quotation mark, a
search or a name label (``fb搜尋 阿芬的店``, ``臉書「阿芬的店」``) close after it.
Texts it does not match need no analysis (unless names are known for the record: see
:func:`needs_analysis`)."""


def needs_analysis(text: str, known_names: Sequence[str] = ()) -> bool:
    """True when ``text`` could hold personal data: it matches :data:`PREFILTER` or contains one
    of ``known_names``."""
    if PREFILTER.search(text):
        return True
    folded = fold(text)
    return any(n and fold(n).strip() in folded for n in known_names)
