"""The contact and payment recognizers: phone numbers (:class:`TwPhoneRecognizer`), e-mail
addresses (:class:`EmailRecognizer`), bank and postal accounts
(:class:`TwBankAccountRecognizer`).

Contract: phones and accounts are both digit runs, told apart by the nearest cue before them
(:func:`~masking.recognizers.base.nearest_cue`): a number is an account only after an account
cue, or without a cue in the postal shape ``0001234-5678901``; after an account cue a phone is
reported only as a mobile number written with separators (the engine keeps the higher score of
overlapping findings), and no landline after an account or case-number cue (after a business
cue only one with its area code in brackets or listed right after another phone). E-mail
addresses need no cue (ASCII only, also full-width or glued to Chinese).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from masking.recognizers.base import (
    EMAIL_ADDRESS,
    NOT_AFTER,
    NOT_BEFORE,
    NOT_QUANTITY,
    TW_BANK_ACCOUNT,
    TW_PHONE,
    TaiwanRecognizer,
    nearest_cue,
)

# --------------------------------------------------------------------------------------------
# Phone numbers.

_MOBILE_RE: Final = re.compile(
    NOT_BEFORE
    + r"(?:(?:\+|00)886[ \-.]?(?:\(0\)[ \-]?)?0?|886[ \-.](?:\(0\)[ \-]?)?0?"
    + r"|\(\+?886\)[ \-.]?0?|\(0(?=9\d\d\)))"
    + r"9(?:[ \-.)]{0,2}[0-9]){8}"
    + NOT_AFTER
    + r"|"
    + NOT_BEFORE
    + r"09(?:[ \-.]?[0-9]){8}"
    + NOT_AFTER
    # Glued to a Latin word (``Panay Mulu0939-975-463``): only in its written groups.
    + r"|(?<=[A-Za-z])09[0-9]{2}([ \-.])[0-9]{3}\1[0-9]{3}"
    + NOT_AFTER
)
# An extension after a landline: ``#6216``, ``轉69``, ``分機12``, ``ext. 4487``, ``x12``, or a
# hyphen and up to five digits after a complete number (``039452731-435``).
_EXT: Final = (
    r"(?P<ext>\s?(?:[#＃]|轉|分機|[Ee][Xx][Tt][.:]?|[Xx])\s?[0-9]{1,5}|-[0-9]{1,5})?"
)
# The area code after a country code, with or without its trunk 0 and parentheses.
_AREA_AFTER_CC: Final = r"\(?0?[2-8][0-9]{0,2}\)?[ \-.]?"
_LANDLINE_RE: Final = re.compile(
    NOT_BEFORE
    + r"(?:\(0[2-8][0-9]{0,2}\)[ \-.]?|0[2-8][0-9]{0,2}[ \-.]"
    + r"|(?:\+|00)886[ \-.]?" + _AREA_AFTER_CC
    + r"|886[ \-.]" + _AREA_AFTER_CC
    + r"|\(\+?886\)[ \-.]?" + _AREA_AFTER_CC + ")"
    + r"[0-9]{2,4}[ \-.]?[0-9]{3,4}"
    + _EXT
    + NOT_AFTER
)
# Without separators: a trunk 0, or a country code (``886223456789``, ``+886912345678``).
_LANDLINE_BARE_RE: Final = re.compile(
    NOT_BEFORE + r"(?:0[2-8][0-9]{7,8}|(?:\+|00)?8860?[2-9][0-9]{7,8})" + _EXT + NOT_AFTER
)


_LISTED: Final = 10
"""Characters between two phones of one list (``轉007 公司``)."""


def _digits(s: str) -> str:
    return "".join(c for c in s if "0" <= c <= "9")


def _main(m: re.Match[str]) -> str:
    """The number of a landline match without its extension."""
    return m.string[m.start() : m.start("ext")] if m.group("ext") else m.group()


def _national(text: str) -> str:
    """The digits of a landline after its country code (``+886``, ``00886`` or ``886``
    written with a separator) or its trunk ``0``."""
    digits = _digits(text)
    head = text.lstrip("(+")
    if head.startswith("00886"):
        national = digits[5:]
    elif head.startswith("886"):
        national = digits[3:]
    else:
        return digits[1:]
    return national[1:] if national.startswith("0") else national


class TwPhoneRecognizer(TaiwanRecognizer):
    """Mobile (``0912-345-678``, ``+886 912 345 678``, ``(0912)345-678``) and landline numbers
    (``(02)2345-6789``, ``02-23456789``, ``07-1234567``, ``049-2345678``, ``+886-2-2345-6789``);
    the country code also as ``00886``, ``(886)`` or, followed by a separator, as a bare ``886``,
    the area code after it with or without its trunk ``0`` (``886-02-2345-6789``); dots as
    separators too (``02.2345.6789``); an extension after a landline (``#6216``, ``轉69``,
    ``ext. 4487``, ``-435`` after a complete number) is part of the finding; a mobile number
    glued to a Latin word counts when written in its groups (``Mulu0939-975-463``).

    A landline without separator (``0223456789``, ``886223456789``) or with seven digits after
    its area code (``05-777000``) counts only after a phone cue; a mobile number
    without separator preceded by an account cue is left to the account recognizer.
    """

    ENTITY = TW_PHONE

    def find(self, folded: str) -> Iterator[tuple[int, int, float]]:
        last = -_LISTED - 1  # where the last phone found ended
        for m in _MOBILE_RE.finditer(folded):
            text = m.group()
            cue = nearest_cue(folded, m.start())
            if cue == "bank" and text.isdigit():
                continue
            last = m.end()
            yield m.start(), m.end(), 0.9 if cue == "phone" else 0.75
        for m in _LANDLINE_RE.finditer(folded):
            national = _national(_main(m))
            cue = nearest_cue(folded, m.start())
            # Seven digits after the area code (an old or mistyped local number, ``05-777000``)
            # only after a phone cue.
            if not (8 if cue != "phone" else 7) <= len(national) <= 9:
                continue
            # After a business cue (an employer's number, or a business ID) only a landline
            # written with its area code in brackets (``公司(02)2508-1234``) or listed right
            # after another phone (``家07 295 5732轉007 公司07 342 0083``).
            if cue in ("bank", "negative") or (cue == "business" and "(" not in m.group()
                                               and m.start() - last > _LISTED):  # fmt: skip
                continue
            last = m.end()
            yield m.start(), m.end(), 0.85 if cue == "phone" else 0.6
        for m in _LANDLINE_BARE_RE.finditer(folded):
            if 8 <= len(_national(_main(m))) <= 9 and nearest_cue(folded, m.start()) == "phone":
                yield m.start(), m.end(), 0.6


# --------------------------------------------------------------------------------------------
# E-mail addresses.

_EMAIL_RE: Final = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9](?:[A-Za-z0-9._%+\-]*[A-Za-z0-9_])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)


class EmailRecognizer(TaiwanRecognizer):
    """E-mail addresses, also full-width (``ｗａｎｇ＠ｇｍａｉｌ．ｃｏｍ``) and glued to Chinese.

    Presidio's own ``EmailRecognizer`` starts its pattern with ``\\b`` and lets ``\\w`` (which
    includes Chinese characters) into the local part, so ``信箱abc@x.tw`` would become one
    finding including ``信箱``; this pattern accepts ASCII only.
    """

    ENTITY = EMAIL_ADDRESS

    def find(self, folded: str) -> Iterator[tuple[int, int, float]]:
        for m in _EMAIL_RE.finditer(folded):
            yield m.start(), m.end(), 0.95


# --------------------------------------------------------------------------------------------
# Bank and postal accounts.

_ACCOUNT_RE: Final = re.compile(
    NOT_BEFORE + r"[0-9](?:-?[0-9]){9,17}" + NOT_AFTER + NOT_QUANTITY
    + r"|" + NOT_BEFORE + r"[0-9]{3,7}(?: [0-9]{3,8}){1,4}" + NOT_AFTER + NOT_QUANTITY
)
# What may join two accounts of one sentence (``由539-18-844951-7改為822-710-010682-317``,
# ``誤植為…，正確為…``, ``原…→新807 814-91-2413697``): the second is an account too, however
# far its cue.
_CHAIN_RE: Final = re.compile(
    r"(?:\s?(?:改為|改成|改匯|更正為|更改為|變更為|換成|換為|轉為|正確為|正確是|正確應為|應為|應是|實為"
    r"|及|與|和|或|、|,|，|;|；|/|→|->|=>)){1,2}"
    r"\s?(?:新|舊|原)?\s?(?:[(（]?[0-9]{3}[)）]?\s?)?"  # a bank code before the account
)
_POSTAL_RE: Final = re.compile(r"[0-9]{6,7}-[0-9]{7}")


# A postal account written as its two labelled halves: ``局號0012345帳號1234567``.
_POSTAL_PARTS_RE: Final = re.compile(
    r"局號\s?[:：]?\s?(?P<office>[0-9]{7})\s?[,，、;；]?\s?帳號\s?[:：]?\s?(?P<acct>[0-9]{7})(?![0-9])"
)


class TwBankAccountRecognizer(TaiwanRecognizer):
    """Bank and postal account numbers: 10 to 18 digits with optional hyphens
    (``0001234-5678901``, ``012-345-678901``, ``123456789012``, with the bank code
    ``700-0081234-0567890``), or in groups separated by spaces (``1234 5678 9012``,
    ``7017117 9219029``).

    Reported when the nearest cue before the number is an account cue (帳號, 郵局, 銀行, 匯款,
    戶頭, ...), or without a cue in the postal shape ``0001234-5678901``, or, with no cue in
    reach, when a word of change or enumeration joins it to an account just before
    (``帳戶由539-18-844951-7改為8358 8180 7136``); spaced groups hold 10 to 18 digits
    (``7017117 9219029``); a number after a phone,
    ID or case-number cue is not an account. A postal account in two labelled halves
    (``局號0012345帳號1234567``) is one finding.
    """

    ENTITY = TW_BANK_ACCOUNT

    def find(self, folded: str) -> Iterator[tuple[int, int, float]]:
        last = -1  # where the last account ended
        for m in _ACCOUNT_RE.finditer(folded):
            if " " in m.group() and not 10 <= len(_digits(m.group())) <= 18:
                continue  # groups of too few digits: ``123 4567``
            cue = nearest_cue(folded, m.start())
            if cue == "bank" or (cue is None and last >= 0
                                 and _CHAIN_RE.fullmatch(folded, last, m.start())):  # fmt: skip
                last = m.end()
                yield m.start(), m.end(), 0.85
            elif cue is None and " " not in m.group() and _POSTAL_RE.fullmatch(m.group()):
                last = m.end()
                yield m.start(), m.end(), 0.6
        for m in _POSTAL_PARTS_RE.finditer(folded):
            yield m.start("office"), m.end("acct"), 0.85
