"""The person-name recognizers: names next to a cue (:class:`TwPersonRecognizer`) and the names
known from the same record, anywhere (:class:`KnownNamesRecognizer`).

Contract of :class:`TwPersonRecognizer`, each finding a name:

- after a cue of :data:`CUES_BEFORE` (``受款人``, ``戶名``, ``法定代理人``, ``配偶``) or a
  relational phrase (``申請人之子``, ``其女``, ``之母``), optionally followed by ``:``, ``為``,
  a bracket or a quote: a Chinese name (a surname of :mod:`.surnames`, compound or not, two of
  them for a married woman's name ``張李美玉``, ``氏`` for a Vietnamese name ``阮氏秋香``, then
  one or two characters), a transliterated or aboriginal name with a middle dot
  (``麥可‧強森``, ``瓦歷斯·諾幹``), or a name in Latin letters (``Maria Santos``);
  after a cue, also a word jieba's dictionary tags as a name, or an aboriginal name written
  with a space (``巴奈 庫穗``), a Japanese name (``日籍佐藤健一``), or a name of three
  characters with a weak surname whose given name is made of given-name characters
  (``母親谷秀蘭``); after a preposition (``和``, ``找``, ``叫``) a full Chinese name only; the
  cues (:mod:`.namecues`) include intermediaries, officials, relations and nationalities
  (``仲介``, ``社工``, ``里幹事``, ``越南籍``);
- before a word of :data:`CUES_AFTER` (``先生``, ``小姐``, ``阿嬤``, ``來電``) or a title
  (``科長``): a Chinese name with its given name (``王先生`` and ``黃專員`` are no name); before
  a verb of speech or a possessive (``說``, ``的先生``) a full name after a boundary;
- a Chinese name of three or four characters standing on its own (after the start, punctuation
  or another non-Chinese character, before punctuation or a particle: ``，陳依婷，``), a name
  with a compound surname anywhere, a transliterated name with a middle dot anywhere, two to
  five capitalised Latin words anywhere (``Nguyen Thi Lan``, not words of organisations);
- an aboriginal name with a space standing on its own before a cue or punctuation
  (``巴奈 庫穗來電``); a name quoted after a correction (``錯成「洗淑惠」``);
- a two-character name (a common surname and a given-name character, no common word) standing
  on its own before a particle or a word that follows names
  (:data:`~masking.recognizers.namecues.NAME_ENDS`: ``石豪申請``, ``黃偉 改帳號``); a name
  before a relation (``武氏芳老婆``, ``西門明德家屬``); after a relation listed after
  punctuation (``、子盧志``); a given name never ends with the first character of such a word
  (``黎豪帳戶``); dotted and spaced names are cut where such a word begins
  (:mod:`.foreignnames`);
- following any name found so, after ``、``, ``及``, ``與``, ``和`` or a comma;
- when :data:`USE_STATISTICAL` is true, the names jieba segments where a surname is left that no
  rule explained (:mod:`.statnames`), checked against the surname list and the common words;
  there also a surname followed by two given-name characters
  (:data:`~masking.recognizers.words.GIVEN_NAME_CHARS`) where jieba's segmentation leaves room
  for a name (``經查葛美華已於``), not among financial numerals, not with a verb as given name.

A surname of :data:`~masking.recognizers.surnames.WEAK_SURNAMES` (``於``, ``同``) counts only
before an honorific; a candidate that starts with a common word (``高雄``, ``金額``,
:data:`~masking.recognizers.words.NOT_NAMES`) is no name. Scores: 0.75 next to a cue, 0.7 Latin,
0.6 dotted or standing alone, 0.55 statistical. A known name is found wherever it occurs,
longest first (0.95).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Final

from masking.recognizers.base import (
    CJK,
    LANGUAGE,
    PERSON,
    TaiwanRecognizer,
    cjk_class_without,
    fold,
)
from masking.recognizers.foreignnames import AFTER_RE as _AFTER_RE
from masking.recognizers.foreignnames import CJK_CHAR as _CJK_CHAR
from masking.recognizers.foreignnames import CUE_BEFORE_RE as _CUE_BEFORE_RE
from masking.recognizers.foreignnames import DOT as _DOT
from masking.recognizers.foreignnames import NAME_END_RE as _NAME_END_RE
from masking.recognizers.foreignnames import alternation
from masking.recognizers.foreignnames import dotted_name as _dotted_name
from masking.recognizers.foreignnames import dotted_names as _dotted_names
from masking.recognizers.foreignnames import misspelt_names as _misspelt_names
from masking.recognizers.foreignnames import spaced_name as _spaced_name
from masking.recognizers.foreignnames import spaced_names as _spaced_names
from masking.recognizers.namecues import CUES_AFTER, CUES_BEFORE, HONORIFICS, KIN
from masking.recognizers.namecues import NAME_STOP as _NAME_STOP
from masking.recognizers.namecues import PREPOSITIONS as _PREPOSITIONS
from masking.recognizers.namecues import TITLES as _TITLES
from masking.recognizers.namecues import VERBS_AFTER as _VERBS_AFTER
from masking.recognizers.statnames import NAME_TAGS, statistical_names, word_tags
from masking.recognizers.surnames import (
    COMMON_SURNAMES,
    COMPOUND_SURNAMES,
    STRONG_SURNAMES,
    SURNAMES,
    surname_at,
)
from masking.recognizers.words import GIVEN_NAME_CHARS, JAPANESE_SURNAMES, NOT_LATIN_WORDS
from masking.recognizers.words import NOT_NAMES as _NOT_NAMES

__all__ = [
    "COMPOUND_SURNAMES",
    "CUES_AFTER",
    "CUES_BEFORE",
    "SURNAMES",
    "USE_STATISTICAL",
    "KnownNamesRecognizer",
    "TwPersonRecognizer",
    "name_in",
]

USE_STATISTICAL: Final = True
"""Whether :class:`TwPersonRecognizer` adds the names of the statistical tagger (see
``masking/README.md`` for the measurement that decided it)."""

_CJK_RUN: Final = re.compile(f"[{CJK}]+")
_LATIN_RE: Final = re.compile(
    r"[A-Z][A-Za-z'\-]*[A-Za-z](?:[ ,]{1,2}[A-Z][A-Za-z'\-]*[A-Za-z]){0,4}(?![A-Za-z0-9@])"
)
# Latin names anywhere: two to five capitalised words (particles such as ``dela``, ``van``,
# ``bin`` between them), or words joined by a middle dot (``Yapit·Tali``).
_LATIN_PARTICLES: Final = r"(?:de|del|dela|da|dos|van|von|der|bin|binti|al|le|la)"
_LATIN_WORD: Final = r"[A-Z](?:[a-zà-ÿ'\-]*[a-zà-ÿ]|[A-Z]+)(?:-[A-Za-zà-ÿ]+)?"
_LATIN_FREE_RE: Final = re.compile(
    rf"(?<![A-Za-z0-9@._\-]){_LATIN_WORD}(?:[{_DOT}]{_LATIN_WORD})+(?![A-Za-z0-9@])"
    rf"|(?<![A-Za-z0-9@._\-]){_LATIN_WORD}(?: (?:{_LATIN_PARTICLES} )?{_LATIN_WORD}){{1,4}}"
    r"(?:(?<=[a-z])(?=[A-Z]{2})|(?![A-Za-z0-9@.]?[A-Za-z0-9@]))"  # SusantiLINE: a cue glued
)

_NOT_LATIN_LOWER: Final = frozenset(w.lower() for w in NOT_LATIN_WORDS)
_NOT_LATIN_NAMES: Final = frozenset(
    ("ID", "LINE", "Line", "EMAIL", "Email", "E-mail", "FB", "IG", "OK", "NO", "No", "TEL",
     "Tel", "ATM", "APP", "App", "QR", "PDF", "NT", "USD", "TWD")
)  # fmt: skip
# What follows the name of an organisation, not of a person (``金寶有限公司``).
_ORGANISATION: Final = re.compile(
    "有限公司|股份|公司|企業|實業|商行|銀行|工廠|工業|商店|醫院|診所|事務所|協會|學校|國小|國中|"
    "行|社|號|廠|店|局|處|所(?![請述稱言說提有得需屬在以])|署|部|會|院|館|園|堂"
)
_THREE_ONLY: Final = frozenset(("伯", "嬸", "叔", "姨", *_VERBS_AFTER))
_HONORIFIC_SET: Final = frozenset(HONORIFICS) | frozenset(_TITLES)
_CUE_SET: Final = frozenset(CUES_BEFORE)
_LISTED_KIN_RE: Final = re.compile(r"(?<=[、，,；;])" + alternation(KIN) + r"(?=[" + CJK + "])")
_JOINERS: Final = re.compile(r"\s?(?:[、及與和跟暨,，/]|以及)\s?")


# --------------------------------------------------------------------------------------------
# Names at a position.


def _given_ok(given: str) -> bool:
    """True when ``given`` can be a given name (not a title, not a particle)."""
    return bool(given) and not given.startswith(_TITLES) and given[0] not in _NAME_STOP


def _trim(surname: str, rest: str) -> str | None:
    """The name ``surname`` + the start of ``rest`` (one or two characters, the second dropped
    when it is a particle or starts a word that follows names: ``黎豪帳戶``, ``熊貞填寫``), or
    ``None`` when there is no given name or it starts a common word."""
    given = rest[:2]
    if not _given_ok(given):
        return None
    if len(given) == 2 and (given[1] in _NAME_STOP or _NAME_END_RE.match(rest, 1)):
        given = given[:1]
    full = surname + given
    if full in _NOT_NAMES or full[:2] in _NOT_NAMES:
        return None
    return full


def _followed_by_cue(text: str, end: int) -> bool:
    """True when ``text`` continues at ``end`` with a word of :data:`CUES_AFTER`, a title, a
    particle that follows names (``之``, ``與``), or no Chinese character."""
    return (end >= len(text) or not _CJK_RUN.match(text, end) or bool(_AFTER_RE.match(text, end))
            or bool(_FOLLOW.match(text, end)))  # fmt: skip


def chinese_name(text: str, pos: int, strong_only: bool = True) -> str | None:
    """The Chinese name starting ``text`` at ``pos``, or ``None``.

    A surname (weak ones only when ``strong_only`` is false), then the given name; a married
    woman's two surnames (``張李美玉``) or a Vietnamese ``氏`` (``阮氏秋香``) when the four
    characters end the run of Chinese characters or precede a cue.
    """
    run = _CJK_RUN.match(text, pos)
    if run is None:
        return None
    word = run.group()[:6]
    surname = surname_at(word)
    if surname is None:
        return None
    rest = word[len(surname) :]
    if len(surname) == 1 and rest[:1] == "氏" and len(rest) >= 2:
        vietnamese = _trim(surname + "氏", rest[1:])  # 氏 is the second signal: 武氏玉蘭
        if vietnamese:
            return vietnamese
    if strong_only and len(surname) == 1 and surname not in STRONG_SURNAMES:
        return None
    if (len(surname) == 1 and len(rest) >= 3 and rest[0] in COMMON_SURNAMES
            and _given_ok(rest[1:3]) and not set(rest[1:3]) & _NAME_STOP
            and _followed_by_cue(text, pos + 4)):  # fmt: skip
        return word[:4]
    return _trim(surname, rest)


def _weak_name(text: str, pos: int) -> str | None:
    """A name of three characters with a weak surname (``谷秀蘭``, ``荊建豪``), used only next
    to a cue: its given name must be made of given-name characters and the surname with the
    next character no word of jieba's dictionary (``安心``)."""
    name = chinese_name(text, pos, strong_only=False)
    if (name is None or len(name) != 3 or not set(name[1:]) <= GIVEN_NAME_CHARS
            or word_tags().get(name[:2], "nr") not in NAME_TAGS):  # fmt: skip
        return None
    return name


def _latin_name(text: str, pos: int) -> str | None:
    """A name in Latin letters starting at ``pos`` (one capitalised word of three letters or
    more, or up to five words)."""
    m = _LATIN_RE.match(text, pos)
    if m is None:
        return None
    name = m.group().rstrip(" ,")
    words = name.replace(",", " ").split()
    if words[0] in _NOT_LATIN_NAMES or name.upper() in {w.upper() for w in _NOT_LATIN_NAMES}:
        return None
    if len(words) == 1 and (len(name) < 3 or name.isupper()):
        return None
    return name


def _latin_free_names(folded: str) -> Iterator[tuple[int, int]]:
    """Names in Latin letters anywhere: capitalised words joined by a middle dot, or two to
    five capitalised words, none of them a common word of organisations, places or services."""
    for m in _LATIN_FREE_RE.finditer(folded):
        words = re.split(rf"[ {_DOT}]", m.group())
        capitalised = [w for w in words if w[:1].isupper()]
        if not any(w.strip(".").lower() in _NOT_LATIN_LOWER for w in capitalised):
            yield m.start(), m.end()


def name_in(text: str, pos: int, strong_only: bool = True) -> str | None:
    """The name of any form (dotted, Chinese, Latin, spaced) starting ``text`` at ``pos``, or
    ``None``."""
    latin = _LATIN_FREE_RE.match(text, pos)
    if latin is not None:
        return latin.group()
    chinese = chinese_name(text, pos, strong_only)
    if chinese is not None and len(chinese) == 2 and text[pos + 2 : pos + 3] in (" ", "\u3000"):
        chinese = _spaced_name(text, pos) or chinese  # 蘇路 瑪勞: the first part of a spaced name
    return (_dotted_name(text, pos) or japanese_name(text, pos)
            or chinese or _latin_name(text, pos) or _spaced_name(text, pos))  # fmt: skip


def japanese_name(text: str, pos: int) -> str | None:
    """A Japanese name starting ``text`` at ``pos``: a surname of
    :data:`~masking.recognizers.words.JAPANESE_SURNAMES` and a given name of one or two
    characters, cut at a particle (``佐藤健一``), or ``None``."""
    for length in (3, 2):
        surname = text[pos : pos + length]
        if surname in JAPANESE_SURNAMES and len(surname) == length:
            given = text[pos + length : pos + length + 2]
            given = given[: next((i for i, c in enumerate(given) if c in _NAME_STOP
                                  or not _CJK_CHAR.match(c)), len(given))]  # fmt: skip
            return surname + given if given and not given.startswith(_TITLES) else None
    return None


# --------------------------------------------------------------------------------------------
# Recognizers.


def _cued_names(folded: str) -> Iterator[tuple[int, int]]:
    """Names after a cue of :data:`CUES_BEFORE` or a relation listed after punctuation
    (``配偶侯偉、子盧志``), and the names enumerated after them."""
    for m in chain(_CUE_BEFORE_RE.finditer(folded), _LISTED_KIN_RE.finditer(folded)):
        start = m.end()
        following = _CUE_BEFORE_RE.match(folded, start)
        if following is not None and len(following.group()) >= 2:
            continue  # another cue follows (由房東柴啟文): the name is found after it
        if m.group().rstrip() in _PREPOSITIONS:  # only a full Chinese name (和傅志豪講好)
            name = chinese_name(folded, start) or _weak_name(folded, start)
            if not name or len(name) < 3:
                continue
        else:
            name = name_in(folded, start) or _tagged_name(folded, start) or _weak_name(
                folded, start)
            if not name and folded[start - 1] in COMMON_SURNAMES and len(m.group()) >= 2:
                name = chinese_name(folded, start - 1)  # the cue's end is the surname: 代孫豪
                start -= 1 if name else 0
        while name:
            yield start, start + len(name)
            joiner = _JOINERS.match(folded, start + len(name))
            if joiner is None:
                break
            start = joiner.end()
            name = chinese_name(folded, start) or _dotted_name(folded, start)


def _names_before_cue(folded: str) -> Iterator[tuple[int, int]]:
    """Chinese names directly before a word of :data:`CUES_AFTER` or a title (before an
    honorific or a title, weak surnames too: ``於美玲女士``)."""
    for m in _AFTER_RE.finditer(folded):
        honorific = m.group() in _HONORIFIC_SET  # a verb (來電) is weaker evidence
        head = folded[: m.start()]
        for length in (4, 3, 2):
            start = m.start() - length
            if start < 0 or (m.group() in _THREE_ONLY and length != 3):
                continue  # 邱阿土伯, but not 陳大哥
            if (start > 0 and folded[start - 1] in _DOT) or head[start:] in _CUE_SET:
                break  # the last part of a dotted name (麥可‧杜蘭太太), a cue (韓籍配偶)
            if (m.group() in _VERBS_AFTER and start > 0 and _CJK_CHAR.match(folded, start - 1)
                    and folded[start - 1] not in _LEFT_BOUNDARY):  # fmt: skip
                continue  # 張簡文昌當場簽名: 昌當場 is no name
            # A weak surname (於美玲女士) only before an honorific, with a two-character name.
            name = chinese_name(head, start, strong_only=not (honorific and length == 3))
            if name is not None and start + len(name) == m.start():
                yield start, m.start()
                break
        else:
            if honorific and m.start() >= 2 and _tagged_name(folded[: m.start()], m.start() - 2):
                yield m.start() - 2, m.start()  # a given name the dictionary knows: 秀英阿嬤


def _tagged_name(folded: str, pos: int) -> str | None:
    """The word of two to four Chinese characters at ``pos`` when jieba's dictionary tags it as
    a person's name (``瑪莉亞``, ``秀英``), else ``None``; used only next to a cue."""
    run = _CJK_RUN.match(folded, pos)
    if run is None or len(run.group()) < 2:
        return None
    tab = word_tags()
    for length in (4, 3, 2):
        word = run.group()[:length]
        if len(word) == length and tab.get(word) in NAME_TAGS and word not in _NOT_NAMES:
            return word
    return None


# What may follow a name standing on its own (``，陳依婷，``, ``逄俊宏與``, ``黃氏雪的先生``).
_FOLLOW: Final = re.compile(r"[^" + CJK + r"]|$|[之的與和及稱說為已於在等當臨打來向跟對]")
_COMPOUND_FREE: Final = frozenset(COMPOUND_SURNAMES) - {"東門", "西門", "南門", "東郭", "百里",
                                                       "第五", "南宮", "長孫"}  # fmt: skip
_COMPOUND_RE: Final = re.compile("|".join(sorted(_COMPOUND_FREE)))
# A surname that a cue alone admits, or a compound one, followed by a Chinese character.
# A character that may be part of a given name: no particle, no part of an address.
_GIVEN_CHAR: Final = cjk_class_without("".join(_NAME_STOP) + "縣區鄉鎮路街村鄰巷弄號樓段")
_STRONG_RE: Final = re.compile(
    "[" + "".join(sorted(STRONG_SURNAMES)) + f"](?={_GIVEN_CHAR}{_GIVEN_CHAR})"
)
_LEFT_BOUNDARY: Final = frozenset("和跟與找給向由請讓幫替陪在是為及")


def _bounded_names(folded: str) -> Iterator[tuple[int, int]]:
    """Chinese names standing on their own: after the start of the text or a character that is
    not Chinese (not a short number: ``第1項規定``), and before punctuation, a particle or a
    word that follows names (:data:`~masking.recognizers.namecues.NAME_ENDS`: ``駱秋菊重複加保``);
    two-character names so only with a common surname and a given-name character (``石豪申請``,
    ``黃偉 改帳號``); and names with a compound surname (``張簡志偉``) anywhere."""
    for m in _CJK_RUN.finditer(folded):
        start = m.start()
        if folded[start] not in STRONG_SURNAMES or _after_count(folded, start):
            continue
        name = chinese_name(folded, start)
        if not name:
            continue
        end = start + len(name)
        if len(name) >= 3 and (_FOLLOW.match(folded, end) or _NAME_END_RE.match(folded, end)):
            yield start, end
        elif len(name) <= 3 and _short_name(folded, start):
            yield start, start + 2  # 石豪申請, 熊貞填寫
    for m in _COMPOUND_RE.finditer(folded):
        name = chinese_name(folded, m.start())
        if name and len(name) >= 3:
            yield m.start(), m.start() + len(name)


def _after_count(folded: str, start: int) -> bool:
    """True when a short number (up to five digits: ``第1項``, ``12月``) ends at ``start``; a
    longer one (an identifier glued to the name: ``L196284463駱秋菊``) is a boundary."""
    i = start
    while i > 0 and folded[i - 1].isdigit():
        i -= 1
    return 0 < start - i <= 5


def _short_name(folded: str, start: int) -> bool:
    """True when the two characters at ``start`` are a name of surname and one given-name
    character standing before punctuation, a particle or a word that follows names: a common
    surname, a character of :data:`~masking.recognizers.words.GIVEN_NAME_CHARS`, no common word
    (``黃金``, ``高中``, jieba's words but names), no organisation's name (``金寶有限公司``)."""
    pair, end = folded[start : start + 2], start + 2
    if (len(pair) < 2 or pair[0] not in COMMON_SURNAMES or pair[1] not in GIVEN_NAME_CHARS
            or pair in _NOT_NAMES or word_tags().get(pair, "nr") not in NAME_TAGS
            or _ORGANISATION.match(folded, end)):  # fmt: skip
        return False  # 金寶有限公司
    return (end == len(folded) or not _CJK_CHAR.match(folded, end) or folded[end] in _NAME_STOP
            or bool(_NAME_END_RE.match(folded, end)))  # fmt: skip


def _plausible_statistical(folded: str, start: int, end: int, tab: dict[str, str]) -> bool:
    """False for a statistical candidate whose surname ends the word before it (``年金少``:
    ``年金`` is a word), that follows a digit (``第1項規定``), or that ends like an organisation
    (``衛福部``, ``管理室``), that sits among financial numerals (``參仟肆佰伍拾陸元``) or whose
given name is a verb of the dictionary (``金計算``)."""
    if start > 0 and (folded[start - 1 : start + 1] in tab or _after_count(folded, start)):
        return False
    if not set(folded[start + 1 : end]) & GIVEN_NAME_CHARS:
        return False  # no character of a given name: 金計算
    around = folded[max(0, start - 1) : end + 1]
    if len(set(around) & _NUMERALS) >= 2 or tab.get(folded[start + 1 : end], "")[:1] == "v":
        return False  # 壹拾貳萬參仟, 陸元整; a verb as given name: 一次金計算
    return folded[end - 1] not in _ORG_ENDS and not _ORGANISATION.match(folded, end)


_NUMERALS: Final = frozenset("壹貳參肆伍陸柒捌玖拾佰仟萬億元整零")
_ORG_ENDS: Final = frozenset("部局處署會院所科室組課網站廳府館校系")


class TwPersonRecognizer(TaiwanRecognizer):
    """Person names: after a cue (受款人, 戶名, 配偶, 申請人之子, ...), before an honorific or
    title (先生, 女士, 阿嬤, 科長, ...), enumerated after one of those, transliterated with a
    middle dot anywhere, and (when :data:`USE_STATISTICAL`) the names jieba tags."""

    ENTITY = PERSON

    def __init__(self, supported_language: str = LANGUAGE,
                 statistical: bool | None = None) -> None:  # fmt: skip
        self.statistical = USE_STATISTICAL if statistical is None else statistical
        super().__init__(supported_language)

    def find(self, folded: str) -> Iterator[tuple[int, int, float]]:
        """The names of the rules (cue 0.75, Latin 0.7, dotted and standing alone 0.6), the
        names enumerated after them, then jieba's (0.55) where no rule explained a surname."""
        found: dict[tuple[int, int], float] = {}
        for spans, score in (
            (_cued_names(folded), 0.75),
            (_names_before_cue(folded), 0.75),
            (_dotted_names(folded), 0.6),
            (_latin_free_names(folded), 0.7),
            (_bounded_names(folded), 0.6),
            (_spaced_names(folded), 0.6),
            (_misspelt_names(folded), 0.6),
        ):
            for span in spans:
                found.setdefault(span, score)
        for (_, end), score in list(found.items()):
            for span in _enumerated(folded, end):
                found.setdefault(span, score)
        yield from ((s, e, score) for (s, e), score in found.items())
        if self.statistical:
            yield from ((s, e, 0.55) for s, e in _statistical(folded, list(found)))


def _enumerated(folded: str, end: int) -> Iterator[tuple[int, int]]:
    """The names enumerated after a name ending at ``end`` (``逄俊宏與逄陳美雲``)."""
    joiner = _JOINERS.match(folded, end)
    while joiner is not None:
        start = joiner.end()
        name = chinese_name(folded, start) or _dotted_name(folded, start)
        if not name:
            return
        yield start, start + len(name)
        joiner = _JOINERS.match(folded, start + len(name))


def _open_surnames(folded: str, covered: list[tuple[int, int]]) -> list[int]:
    """Positions of a surname (not a weak one; compound ones are found by the rules) followed
    by two characters that may be a given name, outside the names ``covered``
    already, not starting a common word nor ending the word before it: where the statistical
    signal can still find a name."""
    out = []
    for m in _STRONG_RE.finditer(folded):
        i = m.start()
        if folded[i : i + 2] in _NOT_NAMES or any(s <= i < e for s, e in covered):
            continue
        if i > 0 and folded[i - 1 : i + 1] in word_tags():
            continue  # the surname ends the word before it: 年金少
        out.append(i)
    return out


def _statistical(folded: str, covered: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Names of three or four characters that jieba segments as name-like words, checked
    against the surname list and the common words; jieba runs only on the runs of Chinese
    characters that hold a surname no other rule explained (see :func:`_open_surnames`)."""
    open_at = _open_surnames(folded, covered)
    if not open_at:
        return
    runs = [(m.start(), m.end()) for m in _CJK_RUN.finditer(folded)]
    tab = word_tags()
    seen: set[tuple[int, int]] = set()
    for lo, hi in runs:
        if not any(lo <= i < hi for i in open_at):
            continue
        # Where jieba has no name-like word, a name only with given-name characters.
        starts = [i - lo for i in open_at if lo <= i < hi
                  and set(folded[i + 1 : i + 3]) <= GIVEN_NAME_CHARS]  # fmt: skip
        for s, e in statistical_names(folded[lo:hi], starts):
            start, end = lo + s, lo + e
            if (end - start >= 3 and chinese_name(folded, start) == folded[start:end]
                    and _plausible_statistical(folded, start, end, tab)
                    and (start, end) not in seen):  # fmt: skip
                seen.add((start, end))
                yield start, end


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
