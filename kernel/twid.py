"""Taiwan identifiers and dates: personal IDs, business IDs, ROC (Minguo) dates.

Pure Python, no dependencies. The algorithms are the public ones of the agency interface
specification (``shared/specs/agencies.md``, "Common conventions"):

- **Personal identifiers** (10 characters): national ID ``[A-Z][12]\\d{8}`` (身分證統一編號),
  new resident certificate number ``[A-Z][89]\\d{8}`` (統一證號, from 2021) and old resident
  certificate number ``[A-Z][A-D]\\d{8}``. The first letter becomes two digits through
  :data:`LETTER_CODES`; in the old resident format the second letter becomes one digit, the
  units digit of its code (A→0, B→1, C→2, D→3). The eleven digits, weighted
  1,9,8,7,6,5,4,3,2,1,1, sum to a multiple of 10.
- **Business ID** (統一編號, 8 digits): weights 1,2,1,2,1,2,4,1; the digits of each product
  summed; the total divisible by 5 (or, when the 7th digit is 7, the total + 1).
- **ROC dates**: ``YYYMMDD`` with year = Gregorian year - 1911, months ``YYYMM``.
"""

from __future__ import annotations

import datetime
import random
import re
from collections.abc import Mapping
from typing import Final
from zoneinfo import ZoneInfo

LETTER_CODES: Final[Mapping[str, int]] = {
    "A": 10, "B": 11, "C": 12, "D": 13, "E": 14, "F": 15, "G": 16, "H": 17, "I": 34,
    "J": 18, "K": 19, "L": 20, "M": 21, "N": 22, "O": 35, "P": 23, "Q": 24, "R": 25,
    "S": 26, "T": 27, "U": 28, "V": 29, "W": 32, "X": 30, "Y": 31, "Z": 33,
}  # fmt: skip
"""First letter of a personal identifier to its two-digit code (A10 … Z33)."""

PERSON_ID_WEIGHTS: Final = (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1)
BUSINESS_ID_WEIGHTS: Final = (1, 2, 1, 2, 1, 2, 4, 1)
ROC_OFFSET: Final = 1911

PERSON_ID_KINDS: Final = ("national", "resident_new", "resident_old")
"""Kinds of personal identifier, as :func:`person_id_kind` returns them."""

# Second character by kind and sex (1 male, 2 female). Old resident certificates: A/B for
# residents from the mainland, Hong Kong and Macau, C/D for foreigners (first male, then female).
_SECOND: Final[Mapping[str, Mapping[int, tuple[str, ...]]]] = {
    "national": {1: ("1",), 2: ("2",)},
    "resident_new": {1: ("8",), 2: ("9",)},
    "resident_old": {1: ("A", "C"), 2: ("B", "D")},
}

PERSON_ID_SECOND: Final = "".join(c for by_sex in _SECOND.values() for cs in by_sex.values()
                                  for c in cs)
"""Every second character a personal identifier can have (``12`` national, ``89`` new resident,
``A``-``D`` old resident): one set for validation, quality rules and recognizers."""
PERSON_ID_PATTERN: Final = f"[A-Z][{''.join(sorted(PERSON_ID_SECOND))}][0-9]{{8}}"
"""The shape of a personal identifier (no check digit), as a regular expression that Python and
Java (Spark's ``rlike``) read alike."""
BUSINESS_ID_PATTERN: Final = "[0-9]{8}"
"""The shape of a business ID (統一編號, no check digit)."""

_PERSON_ID = re.compile(PERSON_ID_PATTERN)
_PREFIX9 = re.compile(PERSON_ID_PATTERN.replace("{8}", "{7}"))
_BUSINESS_ID = re.compile(BUSINESS_ID_PATTERN)

FULL_WIDTH: Final = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
"""The compatibility forms clerks type with Chinese input methods: the full-width ASCII block
(U+FF01..U+FF5E) and the ideographic space (U+3000); NFKC maps exactly these to ASCII."""
HALF_WIDTH: Final = "".join(chr(c) for c in range(0x21, 0x7F)) + " "
"""The ASCII forms of :data:`FULL_WIDTH`, position by position."""
_FULLWIDTH = str.maketrans(HALF_WIDTH[:-1], FULL_WIDTH[:-1])
_TO_HALF_WIDTH = str.maketrans(FULL_WIDTH, HALF_WIDTH)
TRIMMED: Final = " \t\n\x0b\f\r\u3000"
"""The white space trimmed around values: Java's ``\\s`` and the ideographic space."""

COUNTIES: Final = (
    "臺北市", "新北市", "桃園市", "臺中市", "臺南市", "高雄市", "基隆市", "新竹市", "嘉義市",
    "新竹縣", "苗栗縣", "彰化縣", "南投縣", "雲林縣", "嘉義縣", "屏東縣", "宜蘭縣", "花蓮縣",
    "臺東縣", "澎湖縣", "金門縣", "連江縣",
)  # fmt: skip
"""The 22 counties and cities (縣市) of Taiwan, in their official forms (臺, not 台)."""

AGE_BANDS: Final = (*(f"{a}-{a + 4}" for a in range(0, 100, 5)), "100+")
"""The 5-year age bands of published data, youngest first (``0-4`` … ``95-99``, ``100+``)."""


TAIPEI: Final = ZoneInfo("Asia/Taipei")
"""The bureau's time zone: snapshot dates and "today" are days in Taiwan."""


def today() -> datetime.date:
    """Today's date in Taiwan (the default snapshot date; the latest date a verification may
    ask about)."""
    return datetime.datetime.now(TAIPEI).date()


def age_band_of(age: int) -> str | None:
    """The 5-year band of an age in whole years (``None`` for a negative age)."""
    if age < 0:
        return None
    return "100+" if age >= 100 else f"{age // 5 * 5}-{age // 5 * 5 + 4}"


def normalise_identifier_text(s: str) -> str:
    """The identifier as it is joined and hashed into ``person_key``: full-width forms to ASCII,
    white space around it trimmed, upper case. The Python twin of
    ``kernel.text.normalise_identifier`` (a Spark column): both must give the same string."""
    return s.translate(_TO_HALF_WIDTH).strip(TRIMMED).upper()


def _person_values(s: str) -> list[int]:
    """The (up to) 11 numbers the weights apply to, for a shape-checked identifier."""
    code = LETTER_CODES[s[0]]
    second = s[1]
    head = [code // 10, code % 10, LETTER_CODES[second] % 10 if second.isalpha() else int(second)]
    return head + [int(c) for c in s[2:]]


def _weighted(values: list[int]) -> int:
    return sum(w * v for w, v in zip(PERSON_ID_WEIGHTS, values, strict=False))


def person_id_kind(s: str) -> str | None:
    """``national``, ``resident_new`` or ``resident_old`` by the shape of ``s``; else ``None``.

    Only the shape is checked (not the check digit); see :func:`is_valid_person_id`.
    """
    if not _PERSON_ID.fullmatch(s):
        return None
    second = s[1]
    if second in "12":
        return "national"
    if second in "89":
        return "resident_new"
    return "resident_old"


def is_valid_person_id(s: str) -> bool:
    """True when ``s`` is a well-formed personal identifier with a correct check digit.

    ``s`` must already be normalised (ASCII, upper case, no spaces): ``A123456789`` is valid,
    ``a123456789`` and ``Ａ123456789`` are not.
    """
    if not _PERSON_ID.fullmatch(s):
        return False
    return _weighted(_person_values(s)) % 10 == 0


def person_id_check_digit(prefix9: str) -> str:
    """The check digit completing the first nine characters ``prefix9`` of a personal ID.

    >>> person_id_check_digit("A12345678")
    '9'
    """
    if not _PREFIX9.fullmatch(prefix9):
        raise ValueError(f"not the first nine characters of a personal identifier: {prefix9!r}")
    return str(-_weighted(_person_values(prefix9)) % 10)


def make_person_id(
    rng: random.Random,
    kind: str = "national",
    letter: str | None = None,
    sex: int | None = None,
) -> str:
    """A random valid personal identifier of ``kind`` (``national``, ``resident_new``,
    ``resident_old``), first ``letter`` (random when ``None``) and ``sex`` (1 male, 2 female,
    random when ``None``).
    """
    if kind not in _SECOND:
        raise ValueError(f"unknown kind {kind!r} (one of {', '.join(PERSON_ID_KINDS)})")
    if letter is None:
        letter = rng.choice(tuple(LETTER_CODES))
    elif letter not in LETTER_CODES:
        raise ValueError(f"first letter must be A-Z, not {letter!r}")
    if sex is None:
        sex = rng.choice((1, 2))
    elif sex not in (1, 2):
        raise ValueError(f"sex must be 1 (male) or 2 (female), not {sex!r}")
    prefix = letter + rng.choice(_SECOND[kind][sex]) + f"{rng.randrange(10_000_000):07d}"
    return prefix + person_id_check_digit(prefix)


def _business_sum(digits: str) -> int:
    total = 0
    for w, c in zip(BUSINESS_ID_WEIGHTS, digits, strict=False):
        p = w * int(c)
        total += p // 10 + p % 10
    return total


def is_valid_business_id(s: str) -> bool:
    """True when ``s`` is an 8-digit business ID (統一編號) with a correct check digit."""
    if not _BUSINESS_ID.fullmatch(s):
        return False
    total = _business_sum(s)
    return total % 5 == 0 or (s[6] == "7" and (total + 1) % 5 == 0)


def make_business_id(rng: random.Random) -> str:
    """A random valid business ID: seven random digits and a fitting last digit."""
    head = f"{rng.randrange(10_000_000):07d}"
    base = _business_sum(head + "0")
    return head + str(-base % 5 + 5 * rng.randrange(2))


def roc_date(d: datetime.date, six_digit: bool = False) -> str:
    """``d`` as ROC ``YYYMMDD`` (``date(1989, 3, 15)`` → ``0780315``).

    With ``six_digit`` a year below 100 loses its leading zero (``780315``), as older systems
    write it; years from 100 (2011) on keep 7 digits.
    """
    year = d.year - ROC_OFFSET
    if year < 1:
        raise ValueError(f"{d.isoformat()} is before the ROC era (1912)")
    text = f"{year:03d}{d.month:02d}{d.day:02d}"
    return text[1:] if six_digit and year < 100 else text


def roc_month(d: datetime.date) -> str:
    """The month of ``d`` as ROC ``YYYMM`` (``date(2024, 5, 1)`` → ``11305``)."""
    year = d.year - ROC_OFFSET
    if year < 1:
        raise ValueError(f"{d.isoformat()} is before the ROC era (1912)")
    return f"{year:03d}{d.month:02d}"


def parse_roc_date(s: str) -> datetime.date | None:
    """A ROC ``YYYMMDD`` or ``YYMMDD`` string as a date; ``None`` when malformed or impossible."""
    if not (len(s) in (6, 7) and s.isascii() and s.isdigit()):
        return None
    try:
        return datetime.date(int(s[:-4]) + ROC_OFFSET, int(s[-4:-2]), int(s[-2:]))
    except ValueError:
        return None


def fullwidth(s: str) -> str:
    """ASCII letters, digits and punctuation of ``s`` as full-width forms (``A1`` → ``Ａ１``).

    This is what clerks typing with a Chinese input method produce; NFKC undoes it.
    """
    return s.translate(_FULLWIDTH)
