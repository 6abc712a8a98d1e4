"""The address recognizer (:class:`TwAddressRecognizer`): 縣市 + 鄉鎮市區 + 村里/鄰 or 路街
(+段 巷 弄) + 號 (+樓), the county optional.

Contract: an address ends with its number (號, then floor and room), or, in the country, with
its village (村/里) and neighbourhood (鄰) after a district (with a county, a neighbourhood, or
names of plain place-name characters: ``玉里鎮港墘里``); a post-office box
(``臺北郵政第12-345號信箱``) and a road after a county and a district, without its number, are
addresses too. It needs no cue and scores higher when it starts
with a county or city (:data:`COUNTIES`: those of
:data:`kernel.twid.COUNTIES` and the five merged in 2010, written with 台 or 臺); without a
county its first name must not start with a verb or particle (``遷入``, ``住``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from kernel.twid import COUNTIES as TW_COUNTIES
from masking.recognizers.base import CJK, TW_ADDRESS, TaiwanRecognizer, cjk_class_without

# --------------------------------------------------------------------------------------------
# Addresses.

FORMER_COUNTIES: Final = ("臺北縣", "桃園縣", "臺中縣", "臺南縣", "高雄縣")
"""The counties merged into cities in 2010 (still written in old addresses)."""
COUNTIES: Final = tuple(dict.fromkeys(
    name for c in (*TW_COUNTIES, *FORMER_COUNTIES) for name in (c, c.replace("臺", "台"))))
"""The 22 counties and cities and the counties merged in 2010, written with 台 or 臺."""

# Characters that do not belong to a place or road name: verbs and particles before an address.
_ADDRESS_STOP: Final = "住址居於在至到往寄送改為遷入搬設籍原現及與和或的請經由向已將即其該係"
_PLACE: Final = cjk_class_without(_ADDRESS_STOP)  # first character of a name without county
_NUM: Final = r"(?:[0-9]+|[一二三四五六七八九十百零〇]+)"
_COUNTY: Final = "(?:" + "|".join(COUNTIES) + ")"


def _names(first: str, longest: int, ends: str) -> str:
    """A place name: ``first`` character class, up to ``longest`` characters, then ``ends``."""
    return rf"(?:{first}[{CJK}]{{0,{longest - 1}}}?{ends})"


_DISTRICT: Final = _names(f"[{CJK}]", 3, "[鄉鎮市區]")
_DISTRICT_FREE: Final = _names(_PLACE, 3, "[鄉鎮市區]")
_NEIGHBOURHOOD: Final = r"(?:(?:[0-9]+|[一二三四五六七八九十]+)鄰)"
_VILLAGE: Final = rf"(?:{_names(f'[{CJK}]', 5, '[村里]')}{_NEIGHBOURHOOD}?|{_NEIGHBOURHOOD})"
_VILLAGE_FREE: Final = rf"(?:{_names(_PLACE, 3, '[村里]')}{_NEIGHBOURHOOD}?)"
_SECTION: Final = rf"(?:[東西南北]?{_NUM}段)?"
_ROAD: Final = "(?:" + _names(f"[{CJK}]", 6, "(?:路|街|大道)") + _SECTION + ")"
_ROAD_FREE: Final = "(?:" + _names(_PLACE, 6, "(?:路|街|大道)") + _SECTION + ")"
_NUMBER: Final = (
    rf"(?:{_NUM}巷)?(?:{_NUM}弄)?{_NUM}(?:[-之]{_NUM})?號(?:之{_NUM})?"
    rf"(?:(?:{_NUM}|地下[0-9]*|B[0-9])樓(?:之[0-9]+)?|[0-9]+F)?(?:[0-9]+室)?"
)
# Led by a county, the names that follow may start with any character; without a county the
# first name must not start with a verb or particle (``遷入``, ``改寄至``, ``住``).
# After a village the number may follow a named lane or locality without a road (``發祥村瑞岩巷
# 9號``, ``港口村2鄰石梯坪52號``).
_LOCALITY: Final = rf"(?:{_ROAD}|[{CJK}]{{1,4}}?)?"
_ADDRESS_RE: Final = re.compile(
    rf"(?:{_COUNTY}{_DISTRICT}?(?:{_VILLAGE}{_LOCALITY}|{_ROAD})"
    rf"|{_DISTRICT_FREE}(?:{_VILLAGE}{_LOCALITY}|{_ROAD})"
    rf"|{_VILLAGE_FREE}{_ROAD}?"
    rf"|{_ROAD_FREE})"
    rf"{_NUMBER}"
)
# A village without a number (rural addresses end there; aboriginal village names run to five
# characters: ``達卡努瓦里``): led by a county and a district, or
# by a district with the neighbourhood (``秀林鄉富世村3鄰``), or by a district alone.
# Without county or neighbourhood, a district and a village of plain place-name characters
# (``住玉里鎮港墘里``, ``新址平鎮區港墘里``): neither holds another division's word (not
# ``各鄉鎮市區村里``), the village is no distance (``公里``) and no office or official (``里長``,
# ``村民``, ``里辦公處``).
_PLAIN: Final = cjk_class_without(_ADDRESS_STOP + "洽鄉鎮市區縣各每全本該")
_PLAIN_VILLAGE: Final = cjk_class_without(_ADDRESS_STOP + "洽鄉鎮市區縣村里")
_VILLAGE_ONLY_RE: Final = re.compile(
    rf"{_COUNTY}{_DISTRICT}{_names(f'[{CJK}]', 5, '[村里]')}{_NEIGHBOURHOOD}?"
    rf"|{_DISTRICT_FREE}{_names(f'[{CJK}]', 3, '[村里]')}{_NEIGHBOURHOOD}"
    rf"|{_PLAIN}{{1,3}}(?:[鄉鎮市]區|[鄉鎮市區]){_PLAIN_VILLAGE}{{1,4}}(?<![公英海千萬])[村里]"
    r"(?![長民辦幹內外村里])"
)
# A road without its number, led by a county and a district (``高雄市三民區建工路``): an address
# too, if a vaguer one (a county or a district alone is a place name, no address).
_ROAD_ONLY_RE: Final = re.compile(rf"{_COUNTY}{_DISTRICT}{_ROAD}")
# A post-office box: ``臺北郵政第12-345號信箱``, ``台北郵政74之14號信箱``, ``板橋郵局第25-7號信箱``,
# ``郵政信箱12-345號``, ``郵政第118號信箱``: the post office (郵政 or 郵局, after a place name
# of two characters, no verb: not ``請寄``), 第 or not, the box number (``12``, ``12-345``,
# ``74之14``), 號 and 信箱.
_BOX_NUMBER: Final = r"[0-9]+(?:\s?[-之]\s?[0-9]+)?"
_PO_BOX_RE: Final = re.compile(
    rf"(?:{_PLAIN}{{2}})?(?:郵政|郵局)(?:第?\s?{_BOX_NUMBER}\s?號\s?信箱"
    rf"|信箱\s?第?\s?{_BOX_NUMBER}\s?號?)"
)


class TwAddressRecognizer(TaiwanRecognizer):
    """Addresses: 縣市 + 鄉鎮市區 + 村里/鄰 or 路街 (+段 巷 弄) + 號 (+樓); 台 and 臺, full-width
    digits; the county may be missing (``中正區忠孝東路一段12號``); a village without number
    (``花蓮縣秀林鄉富世村3鄰``); a post-office box (``臺北郵政第12-345號信箱``,
    ``板橋郵局第25-7號信箱``, ``台北郵政74之14號信箱``)."""

    ENTITY = TW_ADDRESS

    def find(self, folded: str) -> Iterator[tuple[int, int, float]]:
        ends: list[tuple[int, int]] = []
        for m in _ADDRESS_RE.finditer(folded):
            score = 0.85 if m.group().startswith(COUNTIES) else 0.7
            ends.append((m.start(), m.end()))
            yield m.start(), m.end(), score
        # The rarer forms, each behind a cheap test of the character it needs.
        rural = ("村" in folded or "里" in folded) and _VILLAGE_ONLY_RE.finditer(folded)
        roads = ("路" in folded or "街" in folded) and _ROAD_ONLY_RE.finditer(folded)
        for m in [*(rural or ()), *(roads or ())]:
            if all(m.end() <= s or e <= m.start() for s, e in ends):
                yield m.start(), m.end(), 0.65 if m.group()[-1] in "村里鄰" else 0.6
        if "郵政" in folded or "郵局" in folded:
            for m in _PO_BOX_RE.finditer(folded):
                yield m.start(), m.end(), 0.8
