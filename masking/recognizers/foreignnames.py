"""Names written with a middle dot or a space (transliterated and aboriginal names: ``麥可‧強森``,
``瓦歷斯·諾幹``, ``巴奈 庫穗``) and misspelt names quoted after a correction, for
:mod:`.names`; also the cue patterns both modules share.

Contract: every function returns a name (or the spans of names) of the folded text, or nothing.
A part of a name holds at most four Chinese characters and ends at a particle
(:data:`~masking.recognizers.namecues.NAME_STOP`) or where a word that follows names begins
(:data:`~masking.recognizers.namecues.NAME_ENDS`: ``太太``, ``老婆``, ``提出``, ``代辦``), so
that ``尤瑪·達陸老婆約翰‧布朗來代辦`` holds two names, ``尤瑪·達陸`` and ``約翰‧布朗``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Final

from masking.recognizers.base import (
    BANK_CUES,
    BUSINESS_CUES,
    CJK,
    ID_CUES,
    NEGATIVE_CUES,
    PHONE_CUES,
)
from masking.recognizers.namecues import CUES_AFTER, CUES_BEFORE, KIN_AFTER, NAME_ENDS
from masking.recognizers.namecues import NAME_STOP as _NAME_STOP
from masking.recognizers.namecues import PREPOSITIONS as _PREPOSITIONS
from masking.recognizers.namecues import TITLES as _TITLES
from masking.recognizers.namecues import VERBS_AFTER as _VERBS_AFTER
from masking.recognizers.statnames import NAME_TAGS, word_tags
from masking.recognizers.words import NOT_NAMES as _NOT_NAMES


def alternation(words: Iterable[str]) -> str:
    """A pattern matching any of ``words``, longest first, behind a look-ahead on their first
    characters (a character class is tested much faster than a long alternation)."""
    unique = sorted(set(words), key=len, reverse=True)
    first = "".join(sorted({re.escape(w[0]) for w in unique}))
    return f"(?=[{first}])(?:" + "|".join(re.escape(w) for w in unique) + ")"


LOOSE_BEFORE: Final = r"(?:[:：]|\s|為|是|即|係|改為|更正為|乃)?\s?[(（「『〔]?\s?"
CUE_BEFORE_RE: Final = re.compile(alternation(CUES_BEFORE + _PREPOSITIONS) + LOOSE_BEFORE)
"""A cue before a name, with what may stand between them (``戶名：``)."""
AFTER_RE: Final = re.compile(
    alternation(set(CUES_AFTER) | set(_TITLES[:35]) | set(_VERBS_AFTER) | set(KIN_AFTER))
)
"""A word after a name (an honorific, a title, a relation, a verb of speech)."""
NAME_END_RE: Final = re.compile(alternation(NAME_ENDS))
"""A word that ends a name where it begins."""
DOT: Final = "‧·・•.．"
ENCLOSING: Final = frozenset("，、,：:；;（）()「」『』 \u3000")
CJK_CHAR: Final = re.compile(f"[{CJK}]")
_DOT_RE: Final = re.compile(f"(?<=[{CJK}])[{re.escape(DOT)}](?=[{CJK}])")
LONGEST_PART: Final = 4


def name_part(text: str, pos: int, longest: int = LONGEST_PART) -> int:
    """The length of the part of a name starting ``text`` at ``pos``: Chinese characters up to a
    particle or, after the first character, a word of :data:`NAME_ENDS`; at most ``longest``."""
    i = pos
    while (i < len(text) and i - pos < longest and CJK_CHAR.match(text, i)
           and text[i] not in _NAME_STOP and not (i > pos and NAME_END_RE.match(text, i))):
        i += 1  # fmt: skip
    return i - pos


def dotted_name(text: str, pos: int) -> str | None:
    """A transliterated or aboriginal name with a middle dot starting ``text`` at ``pos`` (a first
    part of one to four characters, then parts cut by :func:`name_part`), or ``None``."""
    first = name_part(text, pos)
    dot = pos + first
    if first == 0 or dot >= len(text) or text[dot] not in DOT:
        return None
    end = dot
    while end < len(text) and text[end] in DOT:
        size = name_part(text, end + 1)
        if size == 0:
            break
        end += 1 + size
    return text[pos:end] if end > dot else None


def dotted_names(folded: str) -> Iterator[tuple[int, int]]:
    """Transliterated names with a middle dot, anywhere (``麥可‧強森``); the first part starts
    after the last cue, particle or word that ends a name before the dot, with at most three
    characters (four when the part stands after a boundary)."""
    if not any(d in folded for d in DOT):
        return
    covered = -1
    for m in _DOT_RE.finditer(folded):
        dot = m.start()
        if dot < covered:
            continue
        start = dot
        while start > 0 and dot - start < 8 and CJK_CHAR.match(folded, start - 1):
            start -= 1
        whole = True  # the part starts after a boundary or a cue
        for cue in CUE_BEFORE_RE.finditer(folded, start, dot - 1):
            start = cue.end()  # 外籍員工頌猜‧汪薩: after the cue 員工
        for end_word in NAME_END_RE.finditer(folded, start, dot - 1):
            start = end_word.end()  # 尤瑪·達陸老婆約翰‧布朗: after 老婆
        cut = max((folded.rfind(c, start, dot) for c in _NAME_STOP), default=-1)
        if cut >= 0:
            start, whole = cut + 1, False
        if dot - start > (4 if whole else 3):
            start = dot - 3
        name = dotted_name(folded, start) if start < dot else None
        if name:
            covered = start + len(name)
            yield start, covered


_SPACED_RE: Final = re.compile(rf"([{CJK}]{{2,3}})[ \u3000]([{CJK}]{{2,4}})")
# Labels that start the next item of a remark, no second part of a name (``劉瑩 身分證…``).
_LABELS_AFTER: Final = tuple(c for c in (*ID_CUES, *PHONE_CUES, *BANK_CUES, *BUSINESS_CUES,
                                         *NEGATIVE_CUES, "地址", "住址", "戶籍", "通訊")
                             if not c.isascii() and len(c) >= 2)  # fmt: skip


def spaced_name(text: str, pos: int) -> str | None:
    """An aboriginal name written with a space (``巴奈 庫穗``): two parts of two or three
    characters (the second cut by :func:`name_part`), neither a word of jieba's dictionary or a
    common word, neither holding a particle, the second no label of the next item (``身分證``,
    ``電話``, ``帳號``, ``地址``)."""
    m = _SPACED_RE.match(text, pos)
    if m is None:
        return None
    first = m.group(1)
    if m.group(2).startswith(_LABELS_AFTER):
        return None
    second = text[m.start(2) : m.start(2) + name_part(text, m.start(2), 3)]
    if len(second) < 2 or any(c in _NAME_STOP for c in first):
        return None
    tab = word_tags()
    if any(tab.get(p, "nr") not in NAME_TAGS or p in _NOT_NAMES for p in (first, second)):
        return None
    return text[pos : m.start(2) + len(second)]


_SPACED_END: Final = frozenset("，、,。：:；;請(（")


def spaced_names(folded: str) -> Iterator[tuple[int, int]]:
    """Aboriginal names written with a space standing on their own: at the start of the text or
    after punctuation, before a cue, a verb, a particle or a word that ends a name
    (``巴奈 庫穗來電``, ``，吉娃斯 巴萬請人代打``, ``莎韻 阿布姐姐``)."""
    if " " not in folded:
        return
    for m in _SPACED_RE.finditer(folded):
        start = m.start()
        if start > 0 and folded[start - 1] not in ENCLOSING and folded[start - 1] not in "。！？":
            continue  # only at the start or after punctuation (not after ``1,254,857``)
        name = spaced_name(folded, start)
        if name is None:
            continue
        end = start + len(name)
        if any(t in name for t in ("先生", "小姐", "女士", "太太")):
            continue  # 林小姐 補存摺
        if (end == len(folded) or AFTER_RE.match(folded, end) or folded[end] in _SPACED_END
                or folded[end] in _NAME_STOP or NAME_END_RE.match(folded, end)):  # fmt: skip
            yield start, end


# Misspelt names quoted after a correction: ``姓名打錯成「洗淑惠」``, ``誤植為『王小民』``.
_MISSPELT_RE: Final = re.compile(
    r"(?:錯成|誤植為|誤植成|誤繕為|誤寫為|誤寫成|寫成|打成|登錄為|登記為|誤為)"
    rf"\s?[「『\"'(（]([{CJK}]{{2,4}})[」』\"')）]"
)


def misspelt_names(folded: str) -> Iterator[tuple[int, int]]:
    """A name quoted after a correction (``錯成「洗淑惠」``): its first character need not be a
    surname (the typo may hit it)."""
    for m in _MISSPELT_RE.finditer(folded):
        word = m.group(1)
        if word not in _NOT_NAMES and word not in word_tags() and len(word) >= 3:
            yield m.start(1), m.end(1)
