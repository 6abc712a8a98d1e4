"""The person-name recognizers: Chinese names next to a cue (:class:`TwPersonRecognizer`) and
the names known from the same record, anywhere (:class:`KnownNamesRecognizer`).

Contract: a name is one of the common surnames (:data:`SURNAMES`, :data:`COMPOUND_SURNAMES`)
and one or two more characters, directly after a cue of :data:`CUES_BEFORE` (``受款人``) or
directly before one of :data:`CUES_AFTER` (``先生``); a surname followed by a title (``黃專員``)
or a common word starting with a surname character (``高雄``) is no name. A known name is found
wherever it occurs, longest first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Final

from masking.recognizers.base import CJK, LANGUAGE, PERSON, TaiwanRecognizer, fold

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
