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

from masking.recognizers.base import fold
from masking.recognizers.names import CUES_AFTER, CUES_BEFORE

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
