"""The social-handle recognizer (:class:`SocialHandleRecognizer`): LINE IDs, Instagram, WeChat,
Telegram, Facebook and similar account names written after the name of the service.

Contract: a handle is reported only after a cue of :data:`HANDLE_CUES` (``LINE``, ``Line ID``,
``賴``, ``IG``, ``微信``, ``WeChat``, ``Telegram``, ...; Latin cues in any case, not inside a
longer Latin word; a Chinese cue may be glued to the handle: ``賴lulu.tw2``), optionally
followed by a label (``ID``, ``帳號``, ``號``) and ``:``; the span
is the handle alone: ASCII letters, digits, ``. _ -``, optionally led by ``@``, 2 to 40
characters, at least one letter or a run of 6 digits. The names of the services' own products
(``LINE Pay``, ``LINE Bank``) and the cue words themselves are no handle. Also: a handle after
an account label a few characters after the service (``Dcard發文，帳號kong_lj``; there a page
name in Chinese too, up to the next punctuation: ``粉專留言，帳號名稱阿嬌的日常``), and an
a handle-like word (a digit, ``_`` or ``.``, or lower case throughout) one to four Chinese
characters after the service (``用Telegram傳mei_0824``, ``在Dcard以dragonfly7發文``), an
``@name`` that is not part of an e-mail address, and the path of a profile address
(``facebook.com/lin.mei``, ``line.me/ti/p/~abc``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from masking.recognizers.base import CJK, SOCIAL_HANDLE, TaiwanRecognizer

HANDLE_CUES: Final = (
    "LINE", "Line", "line", "賴", "IG", "Ig", "ig", "Instagram", "instagram", "INSTAGRAM",
    "微信", "WeChat", "Wechat", "wechat", "WECHAT", "Telegram", "telegram", "TELEGRAM", "TG",
    "臉書", "FB", "Facebook", "facebook", "推特", "Twitter", "twitter", "Threads", "抖音",
    "TikTok", "tiktok", "Skype", "skype", "KakaoTalk", "Kakao", "WhatsApp", "Whatsapp",
    "whatsapp", "Dcard", "DCARD", "dcard", "PTT", "ptt", "Plurk", "噗浪", "YouTube", "Youtube",
    "youtube", "小紅書", "粉專", "粉絲專頁", "THREADS", "threads", "Discord", "discord",
    "DISCORD", "Snapchat", "snapchat", "Zalo", "zalo", "ZALO", "Viber", "viber", "VIBER",
    "Messenger", "messenger", "Signal", "signal", "WhatsApp", "Weibo", "weibo", "微博", "QQ",
    "LinkedIn", "Linkedin", "linkedin", "Twitch", "twitch", "Bluesky", "Pinterest", "Mastodon",
    "Shopee", "蝦皮", "痞客邦", "巴哈", "哀居", "fb", "Fb", "Google", "google", "GOOGLE",
    "臉書粉專", "Youtuber", "YT",
)  # fmt: skip
"""The service names a handle follows (spelled out in their usual cases: the prefilter runs in
the JVM too, without a case-insensitive flag): messaging apps (also those migrant workers use:
Zalo, Viber, Messenger), social networks, forums and shops."""

# The label between the service and the handle: ``LINE ID:``, ``IG帳號：``, ``微信號``.
_LABEL: Final = (
    r"(?:[\s]?(?:ID|Id|id|帳號|账号|帳戶|號|号|名稱|用戶名|username|user ?name))?"
    r"(?:[\s]?(?:是|為|为))?[\s]?[:：=]?[\s]?[「『\"'(（]?"
)
# Latin cues must not sit inside a Latin word (``online``, ``BIG``); a cue in capitals may be
# glued to a word before it (``Dewi SusantiLINE：dewi_s0815``); a Chinese cue may be glued to
# the handle after it (``賴lulu.tw2``).
_LATIN_CUES: Final = tuple(c for c in HANDLE_CUES if c.isascii())
_CHINESE_CUES: Final = tuple(c for c in HANDLE_CUES if not c.isascii())


def _cue(cues: tuple[str, ...], glued_ok: bool) -> str:
    """A pattern of ``cues`` (longest first); unless ``glued_ok``, not followed by a lower-case
    letter (``Linear``)."""
    return ("(?:" + "|".join(sorted((re.escape(c) for c in cues), key=len, reverse=True))
            + ")" + ("" if glued_ok else "(?![a-z])"))  # fmt: skip


_CUE: Final = (
    r"(?:(?:(?<![A-Za-z])|(?<=[a-z])(?=[A-Z]{2}))" + _cue(_LATIN_CUES, False)
    + "|" + _cue(_CHINESE_CUES, True) + ")"
)
# After a handle: no more of a handle, no e-mail address, no path (``bear1133/電話`` ends it).
_HANDLE_END: Final = r"(?![A-Za-z0-9@]|/[A-Za-z0-9])"
_HANDLE_RE: Final = re.compile(
    _CUE + _LABEL + r"(?P<handle>@?[A-Za-z0-9](?:[A-Za-z0-9._\-]{0,38}[A-Za-z0-9_])?)"
    + _HANDLE_END
)
# A verb or preposition of a few Chinese characters between the service and the handle
# (``用Telegram傳mei_0824``, ``在Dcard以dragonfly7發文``, ``Threads發文yuki.tw4``, ``IG私訊
# @abc``): only a handle-like word (see :func:`_handle_like`); not after ``賴``, a surname too.
_VERBED_RE: Final = re.compile(
    r"(?:(?<![A-Za-z])|(?<=[a-z])(?=[A-Z]{2}))(?:" + _cue(_LATIN_CUES, False) + "|"
    + _cue(tuple(c for c in _CHINESE_CUES if len(c) >= 2), True) + r")"
    + r"(?:\s?(?:ID|Id|id|帳號|號))?" + rf"\s?[{CJK}]{{1,4}}?\s?[:：]?\s?"
    r"(?P<handle>@?[A-Za-z0-9](?:[A-Za-z0-9._\-]{0,38}[A-Za-z0-9_])?)" + _HANDLE_END
)
# The service named a little earlier, then the label: ``Dcard發文，帳號kong_lj``.
_LABELLED_RE: Final = re.compile(
    _CUE + r"[^。\n]{0,16}?(?:帳號|ID|id|名稱|暱稱|用戶名|使用者名稱)(?:名稱)?(?:是|為)?[\s:：]?"
    r"(?P<handle>@?[A-Za-z0-9](?:[A-Za-z0-9._\-]{0,38}[A-Za-z0-9_])?|"
    rf"[{CJK}][^\s，。,;；、)）」]{{1,11}})" + _HANDLE_END
)
# ``@name`` outside an e-mail address (nothing before the ``@`` that an address could hold).
_AT_RE: Final = re.compile(
    r"(?<![A-Za-z0-9._%+\-])(?P<handle>@[A-Za-z0-9_](?:[A-Za-z0-9._]{1,38}[A-Za-z0-9_]))"
    r"(?![A-Za-z0-9@\-])(?!\.[A-Za-z])"
)
_LOWER_CUES: Final = tuple(sorted({c.lower() for c in HANDLE_CUES} | {"line.me", "t.me"}))
"""The cues in lower case, for the cheap test of :meth:`SocialHandleRecognizer.find`."""
# A profile address: the handle is its path (``facebook.com/lin.mei``, ``line.me/ti/p/~abc``).
_URL_RE: Final = re.compile(
    r"(?:facebook|fb|instagram|threads|twitter|x|tiktok|youtube)\.(?:com|net)/(?:@|profile/)?"
    r"(?P<handle>[A-Za-z0-9](?:[A-Za-z0-9._\-]{0,48}[A-Za-z0-9_])?)"
    r"|(?:line\.me/(?:ti/p/|R/ti/p/)?~?|t\.me/)(?P<handle2>@?[A-Za-z0-9._\-]{2,40})",
    re.IGNORECASE,
)
# A display name (``FB搜尋Sunny Hung``, ``臉書「阿芬的店」``, ``帳號名稱黃家豪Howard``): after
# the service, a search or a name label, or a quotation mark right after the service or its
# label; Chinese or Latin, Latin words separated by single spaces.
_NAME_LABEL: Final = r"(?:搜尋|搜索|搜|顯示名稱|帳號名稱|名稱|暱稱|名字叫|名字是|叫做|叫)"
_DISPLAY_RE: Final = re.compile(
    _CUE + r"(?:"
    + r"[^。\n「『]{0,16}?" + _NAME_LABEL + r"(?:是|為)?[\s:：]?"
    + rf"(?P<plain>[A-Za-z0-9{CJK}][A-Za-z0-9._\-{CJK}]{{0,19}}"
    + r"(?: [A-Za-z][A-Za-z0-9._\-]{0,19}){0,3})"
    + r"|(?:\s?(?:ID|id|帳號|粉專|粉絲專頁)?" + _NAME_LABEL + r"?)(?:是|為)?[\s:：]?[「『\"]"
    + r"(?P<quoted>[^」』\"\n]{1,30})[」』\"])"
)
# Where a display name written without quotation marks ends: the words after it.
_DISPLAY_END: Final = re.compile(
    r"就|即|可以|才|找到|加好友|私訊|留言|發文|按讚|標註|已|並|那個|的人|的帳號|的粉專|上面"
)
_NAMED: Final = ("名稱", "暱稱")
"""Labels after which a page or account name may be written in Chinese."""
_NOT_HANDLES: Final = frozenset(
    (
        "pay", "bank", "money", "points", "point", "id", "official", "account", "app", "group",
        "call", "message", "msg", "chat", "line", "ig", "fb", "tg", "wechat", "telegram",
        "instagram", "facebook", "twitter", "threads", "skype", "tiktok", "kakaotalk",
        "whatsapp", "ok", "no", "none", "null", "n/a", "na", "and", "or", "to", "the", "of",
        "http", "https", "www",
    )
)  # fmt: skip
"""Words after a service name that are no handle (``LINE Pay``, ``LINE ID``, ``IG and FB``)."""


def _is_handle(handle: str) -> bool:
    """True when ``handle`` (as matched) can be an account name."""
    bare = handle.lstrip("@")
    if bare.lower() in _NOT_HANDLES:
        return False
    if any(c.isalpha() for c in bare):
        return len(bare) >= 2
    return len(bare) >= 6  # a number as a handle (often the phone number)


_NOT_VERBED: Final = frozenset(
    ("pdf", "jpg", "jpeg", "png", "doc", "docx", "xls", "zip", "email", "mail", "qr", "code",
     "link", "url", "photo", "video", "file", "web", "online", "offline", "hi", "hello", "sorry",
     "thanks", "please", "yes", "live", "post", "story", "reels", "sticker", "voice", "ok")
)  # fmt: skip
"""Words sent over a service that are no handle (``用LINE傳PDF``)."""


def _handle_like(handle: str) -> bool:
    """True when ``handle``, found a few words after its service, looks like an account name:
    a letter, and either a digit, ``_`` or ``.``, or lower case throughout (not ``PDF``, not a
    capitalised given name ``Maria``), and no word of :data:`_NOT_VERBED`."""
    bare = handle.lstrip("@")
    if not _is_handle(handle) or bare.lower() in _NOT_VERBED:
        return False
    if not any(c.isalpha() for c in bare):
        return False
    return handle.startswith("@") or any(c.isdigit() or c in "._" for c in bare) or (
        bare.islower() and len(bare) >= 4)


def _display_names(folded: str) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of the display names of :data:`_DISPLAY_RE` in ``folded``: a quoted one
    whole; an unquoted one up to the first word of :data:`_DISPLAY_END`, of two characters at
    least, not a word of :data:`_NOT_HANDLES`, not what one searches the web for with Google."""
    for m in _DISPLAY_RE.finditer(folded):
        if m.group("quoted"):
            yield m.start("quoted"), m.end("quoted")
            continue
        name, at = m.group("plain"), m.start("plain")
        if m.group().lower().startswith("google") and "搜" in folded[m.start() : at]:
            continue  # a web search (``Google搜尋勞保局官網``), no account
        stop = _DISPLAY_END.search(name, 1)
        name = (name[: stop.start()] if stop else name).rstrip(" ._-")
        if len(name) >= 2 and name.lower() not in _NOT_HANDLES:
            yield at, at + len(name)


class SocialHandleRecognizer(TaiwanRecognizer):
    """Handles after the name of a messaging or social service: ``LINE ID：wang.xm88``,
    ``加賴 @abc123``, ``IG帳號lin_mei``, ``微信號 wxid_abc123``, ``Telegram @chen_tw``."""

    ENTITY = SOCIAL_HANDLE

    def find(self, folded: str) -> Iterator[tuple[int, int, float]]:
        lower = folded.lower()
        if "@" not in folded and not any(c in lower for c in _LOWER_CUES):
            return  # no service named, no @: nothing to look for (cheap test first)
        seen: set[int] = set()
        for at, end in _display_names(folded):
            seen.add(at)
            yield at, end, 0.8
        for m in _URL_RE.finditer(folded):
            group = "handle" if m.group("handle") else "handle2"
            seen.add(m.start(group))
            yield m.start(group), m.end(group), 0.85
        for pattern, score in ((_HANDLE_RE, 0.8), (_LABELLED_RE, 0.7), (_VERBED_RE, 0.7),
                               (_AT_RE, 0.65)):  # fmt: skip
            for m in pattern.finditer(folded):
                handle, at = m.group("handle"), m.start("handle")
                label = folded[max(0, at - 4) : at]
                if pattern is _VERBED_RE:
                    ok = _handle_like(handle)
                else:
                    ok = _is_handle(handle) if handle.isascii() else any(w in label for w in _NAMED)
                if at not in seen and ok:
                    seen.add(at)
                    yield at, m.end("handle"), score
