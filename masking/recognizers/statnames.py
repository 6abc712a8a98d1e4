"""The statistical signal for person names: jieba's segmentation (with its HMM for words not in
the dictionary) and its part-of-speech dictionary, offline (the dictionary ships in the wheel).

Contract: :func:`statistical_names` returns the spans of the text that jieba segments as a
name-like word: a word tagged ``nr``/``nrt``/``nrfg`` in jieba's dictionary, or a word unknown
to the dictionary (the HMM's new words, which in remarks are mostly names), or a one-character
word followed by a word of one or two characters tagged as a name, noun or adjective, or unknown
(``陳`` + ``美玲``), or a two-character name-like word followed by a one-character word (``尤佳`` +
``玲``). :func:`open_names` returns the three-character spans starting at given positions (the
surnames no rule explained) that jieba's segmentation does not contradict: no dictionary word
(other than a name) crosses their edges or starts with their surname (``電溫美鳳告知``: 溫美鳳,
but not ``提高效率``, ``金額``). The caller decides which of them are names (a
surname must start them, see :mod:`.names`). jieba and its dictionary (about a second) are loaded
on first use, once per process, under a lock; nothing is downloaded or written outside jieba's
cache file in the temporary directory.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Final

NAME_TAGS: Final = frozenset({"nr", "nrt", "nrfg"})
"""jieba's part-of-speech tags of person names (Chinese, transliterated, full names)."""

_GIVEN_TAGS: Final = ("nr", "n", "a")
"""Tags a given name can carry in jieba's dictionary (names, nouns, adjectives: ``志豪`` is
``n``); a word unknown to the dictionary counts as a noun."""
_NOT_GIVEN: Final = frozenset("vdpcurmqft")
"""First letters of the tags of words that are no given name (verbs, adverbs, prepositions,
conjunctions, particles, pronouns, numerals, measure words, locations, times: ``告知``)."""
_LOCK = threading.Lock()
_STATE: dict[str, Any] = {}


def _load() -> tuple[Callable[..., Any], dict[str, str]]:
    """jieba's tokenizer and its word → tag dictionary (loaded once per process)."""
    with _LOCK:
        if "tokenize" not in _STATE:
            import jieba
            import jieba.posseg

            jieba.setLogLevel(logging.WARNING)
            jieba.dt.initialize()
            _STATE["tab"] = jieba.posseg.dt.word_tag_tab
            _STATE["tokenize"] = jieba.dt.tokenize
        return _STATE["tokenize"], _STATE["tab"]


def word_tags() -> dict[str, str]:
    """jieba's dictionary: word → part-of-speech tag (loads jieba on first use)."""
    return _load()[1]


def is_loaded() -> bool:
    """True once jieba has been loaded in this process."""
    return "tokenize" in _STATE


def _name_like(word: str, tab: dict[str, str]) -> bool:
    """True when ``word`` is unknown to jieba's dictionary or tagged as a name there."""
    tag = tab.get(word)
    return tag is None or tag in NAME_TAGS


def statistical_names(text: str, starts: Sequence[int] = ()) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of ``text`` that jieba segments as name-like words of two to four
    characters, and the spans of :func:`open_names` at ``starts`` (see the module docstring)."""
    tokenize, tab = _load()
    tokens = list(tokenize(text, HMM=True))
    spans = _open_spans(tokens, tab, starts, len(text))
    for i, (word, start, end) in enumerate(tokens):
        if 2 <= len(word) <= 4 and _name_like(word, tab):
            spans.append((start, end))
        elif len(word) == 1 and i + 1 < len(tokens):
            nxt, _, nxt_end = tokens[i + 1]
            if 1 <= len(nxt) <= 2 and tab.get(nxt, "n").startswith(_GIVEN_TAGS):
                spans.append((start, nxt_end))
        if len(word) == 2 and _name_like(word, tab) and i + 1 < len(tokens):
            nxt, _, nxt_end = tokens[i + 1]
            if len(nxt) == 1:
                spans.append((start, nxt_end))  # 尤佳 + 玲
    return spans


def _known(word: str, tab: dict[str, str]) -> bool:
    """True when ``word`` is a dictionary word of two characters or more, not a name."""
    tag = tab.get(word)
    return len(word) >= 2 and tag is not None and tag not in NAME_TAGS


def open_names(text: str, starts: Sequence[int]) -> list[tuple[int, int]]:
    """Spans ``(i, i + 3)`` for the positions ``i`` of ``starts`` where jieba's segmentation of
    ``text`` leaves room for a three-character name: no dictionary word (but a name) crosses
    ``i`` or ``i + 3`` or starts at ``i``, no name crosses ``i``, and the two characters after ``i``
    are no verb or function word of the dictionary (``鳳告知``)."""
    tokenize, tab = _load()
    return _open_spans(list(tokenize(text, HMM=True)), tab, starts, len(text))


def _open_spans(tokens: list[tuple[str, int, int]], tab: dict[str, str], starts: Sequence[int],
                length: int) -> list[tuple[int, int]]:  # fmt: skip
    """:func:`open_names` on the tokens of a text of ``length`` characters."""
    out: list[tuple[int, int]] = []
    for i in starts:
        end = i + 3
        if end > length:
            continue
        if not any((_known(w, tab) and (s < i < e or s < end < e or s == i))
                   or (s < i < e and tab.get(w) in NAME_TAGS)
                   or (s == i + 1 and e == end and tab.get(w, "n")[:1] in _NOT_GIVEN)
                   for w, s, e in tokens if s < end and e > i):  # fmt: skip
            out.append((i, end))
    return out
