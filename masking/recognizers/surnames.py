"""The surnames the person-name recognizers know, read once from ``surnames.txt`` (next to this
module), in three tiers.

Contract: :data:`SURNAMES` holds every single surname of the file and :data:`COMPOUND_SURNAMES`
every compound one; :data:`COMMON_SURNAMES` the most frequent ones in Taiwan (about 120, they
cover the great majority of the population); :data:`WEAK_SURNAMES` the surnames that are far more
often function words or the first character of a common word (``於``, ``同``, ``申``): a name
starting with one of them is accepted only with a second signal (a known name, a name-tag from
the statistical tagger, or an honorific after it). :func:`surname_at` tells the surname that
starts a text, longest first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

SURNAMES_FILE: Final = Path(__file__).with_name("surnames.txt")


def _read(path: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The single and the compound surnames of ``path`` (white-space separated, ``#``
    comments), each once, in file order."""
    single: dict[str, None] = {}
    compound: dict[str, None] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        for entry in line.split("#", 1)[0].split():
            if len(entry) == 1:
                single[entry] = None
            elif len(entry) == 2:
                compound[entry] = None
            else:
                raise ValueError(f"{path}: a surname has one or two characters: {entry!r}")
    return tuple(single), tuple(compound)


SURNAMES, COMPOUND_SURNAMES = _read(SURNAMES_FILE)

COMMON_SURNAMES: Final = frozenset(
    "陳林黃張李王吳劉蔡楊許鄭謝洪郭邱曾廖賴徐周葉蘇莊呂江何蕭羅高潘簡朱鍾游彭詹胡施沈余盧梁趙"
    "顏柯翁魏孫戴范方宋鄧杜傅侯曹薛丁卓阮馬董温溫唐藍石蔣古紀姚連馮歐程湯黄田康姜白汪鄒尤巫鐘"
    "黎涂凃龔嚴韓袁金童陸夏柳邵錢伍倪于譚駱熊任甘秦顧毛章史官萬俞雷粘饒"
)
"""The most frequent single surnames in Taiwan (the recognizers' list before the full one)."""

WEAK_SURNAMES: Final = frozenset(
    "於和同向從將來有全通相查後應須能尚經都常居暨計申原文明國安平成容時信保修光南德敬智承念"
    "易東利越師冷辛空沙公法商年愛陽言福元家井山伊武燕浦別充終步滿弘廣益養相紅權蓋仰秋仲宮"
    "暴符景幸司印宿懷索咸籍屠池陰雙聞黨扶宰邊農慕艾魚衡匡寇祿闕殳沃蔚隆融那巢關後荊竺逯桓"
    "晉楚汝欽岳帥況有琴牟伯賞墨哈年言督但侍允冒冬初占台吾奉寧尉延彌恩斯洛玉端竹納義英蘭"
    "豆貫赫遲鐵靖風騰黑海渠付代仝刑堯崇戰回后庚乃員回及支谷車班米貝計伏談強路危經干解單包"
    "諸左吉家封富松井段烏焦巴弓牧山全秋仲伊宮甘厲戎祖武景束龍葉幸司白從能雙聞銀勞豐農健項"
)  # fmt: skip
"""Surnames that, right after a cue, more often start a word than a name (``申請``,
``同意``, ``經查``, ``全家``): they need a second signal. :data:`COMMON_SURNAMES` never are weak
(their common words are listed in ``names._NOT_NAMES``)."""

STRONG_SURNAMES: Final = (frozenset(SURNAMES) | COMMON_SURNAMES) - (WEAK_SURNAMES - COMMON_SURNAMES)
"""Single surnames that a cue alone admits: every surname but the weak ones."""


def surname_at(text: str, pos: int = 0) -> str | None:
    """The surname starting ``text`` at ``pos`` (a compound one first), or ``None``."""
    two = text[pos : pos + 2]
    if len(two) == 2 and two in _COMPOUND_SET:
        return two
    one = text[pos : pos + 1]
    return one if one in _SINGLE_SET else None


_COMPOUND_SET: Final = frozenset(COMPOUND_SURNAMES)
_SINGLE_SET: Final = frozenset(SURNAMES) | COMMON_SURNAMES
