"""Presidio recognizers for Taiwanese personal data in Chinese free text.

Clerks' remarks (``bli.benefit_payments.remark``, household-registry notes) hold personal data in
free form, e.g. ``受款人王小明(A123456789)來電0912-345-678，改匯郵局帳號0001234-5678901``. This
package finds it with Presidio and replaces it by entity tags:

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

The package: :mod:`.base` (entity names, folding, cues, the recognizer base class), one module
per kind of data (:mod:`.ids`, :mod:`.contact`, :mod:`.addresses`, :mod:`.names`,
:mod:`.handles`; the names read the surname list of :mod:`.surnames`, the common words of
:mod:`.words` and jieba's name tags through :mod:`.statnames`, the dotted and spaced names of
:mod:`.foreignnames`),
:mod:`.prefilter`, and :mod:`.engine` (the analyzer and anonymizer, built once per process).
This module re-exports their public names: import them from ``masking.recognizers``.
"""

from __future__ import annotations

import os
from pathlib import Path

_TLD_CACHE = Path(__file__).resolve().parents[2] / ".cache" / "tldextract"
if _TLD_CACHE.is_dir():
    # Presidio's e-mail recognizer imports tldextract, which fetches the public suffix list from
    # the internet unless a cache is configured: never reach the internet on import. (Set here,
    # before any submodule imports Presidio: importing one of them runs this module first.)
    os.environ.setdefault("TLDEXTRACT_CACHE", str(_TLD_CACHE))

from masking.recognizers.addresses import (  # noqa: E402
    COUNTIES,
    FORMER_COUNTIES,
    TwAddressRecognizer,
)
from masking.recognizers.base import (  # noqa: E402
    BANK_CUES,
    BUSINESS_CUES,
    CJK,
    EMAIL_ADDRESS,
    ENTITIES,
    ID_CUES,
    LANGUAGE,
    NEGATIVE_CUES,
    PERSON,
    PHONE_CUES,
    SCORE_THRESHOLD,
    SOCIAL_HANDLE,
    TW_ADDRESS,
    TW_BANK_ACCOUNT,
    TW_BUSINESS_ID,
    TW_NATIONAL_ID,
    TW_PHONE,
    TaiwanRecognizer,
    fold,
    nearest_cue,
)
from masking.recognizers.contact import (  # noqa: E402
    EmailRecognizer,
    TwBankAccountRecognizer,
    TwPhoneRecognizer,
)
from masking.recognizers.engine import (  # noqa: E402
    DEFAULT_SPACY_MODEL,
    RECOGNIZERS,
    SPACY_MODEL_ENV,
    analyze,
    build_analyzer,
    get_analyzer,
    redact,
    resolve_overlaps,
)
from masking.recognizers.handles import HANDLE_CUES, SocialHandleRecognizer  # noqa: E402
from masking.recognizers.ids import TwBusinessIdRecognizer, TwNationalIdRecognizer  # noqa: E402
from masking.recognizers.names import (  # noqa: E402
    COMPOUND_SURNAMES,
    CUES_AFTER,
    CUES_BEFORE,
    SURNAMES,
    KnownNamesRecognizer,
    TwPersonRecognizer,
)
from masking.recognizers.prefilter import PREFILTER, needs_analysis  # noqa: E402

__all__ = [
    "BANK_CUES",
    "BUSINESS_CUES",
    "CJK",
    "COMPOUND_SURNAMES",
    "COUNTIES",
    "CUES_AFTER",
    "CUES_BEFORE",
    "DEFAULT_SPACY_MODEL",
    "EMAIL_ADDRESS",
    "ENTITIES",
    "FORMER_COUNTIES",
    "HANDLE_CUES",
    "ID_CUES",
    "LANGUAGE",
    "NEGATIVE_CUES",
    "PERSON",
    "PHONE_CUES",
    "PREFILTER",
    "RECOGNIZERS",
    "SCORE_THRESHOLD",
    "SOCIAL_HANDLE",
    "SPACY_MODEL_ENV",
    "SURNAMES",
    "TW_ADDRESS",
    "TW_BANK_ACCOUNT",
    "TW_BUSINESS_ID",
    "TW_NATIONAL_ID",
    "TW_PHONE",
    "EmailRecognizer",
    "KnownNamesRecognizer",
    "SocialHandleRecognizer",
    "TaiwanRecognizer",
    "TwAddressRecognizer",
    "TwBankAccountRecognizer",
    "TwBusinessIdRecognizer",
    "TwNationalIdRecognizer",
    "TwPersonRecognizer",
    "TwPhoneRecognizer",
    "analyze",
    "build_analyzer",
    "fold",
    "get_analyzer",
    "nearest_cue",
    "needs_analysis",
    "redact",
    "resolve_overlaps",
]
