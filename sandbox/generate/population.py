"""A synthetic population of Taiwan, shared by the per-feed delivery writers.

Persons are generated household by household from one seeded random stream, lazily, so that a
population of a million persons can be streamed with modest memory (:class:`Population` is a
re-iterable view; :func:`build_population` materialises a list for small runs). The same
arguments always give the same persons.

Identifiers are unique by construction: the serial digits of a personal ID and of a household
number come from a keyed permutation of the person's (household's) index, not from random
draws that could collide.
"""

from __future__ import annotations

import bisect
import datetime
import functools
import itertools
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from kernel.twid import fullwidth, person_id_check_digit
from sandbox.generate import names

EUDC_FIRST: Final = 0xE000
"""First private-use code point of the CP950 EUDC area (byte 0xFA40, as MS950 maps it)."""
EUDC_COUNT: Final = 5 * 157
"""Code points U+E000 … U+E310: lead bytes 0xFA–0xFE, 157 trail bytes each."""

_EUDC_RE: Final = re.compile(f"[{chr(EUDC_FIRST)}-{chr(EUDC_FIRST + EUDC_COUNT - 1)}]")

SERIAL_SPACE: Final = 10_000_000
"""Seven-digit serial numbers: at most this many persons and households."""
MOVER_HOUSEHOLD_BASE: Final = 5_000_000
"""Household indices from here on are left to the writers (new households of movers)."""

# Persons alive in 2024 per year of birth (thousands, rough): the age pyramid of Taiwan.
_BIRTH_YEARS: Final = tuple(range(1930, 2025))
_COHORT: Final = ((1935, 30), (1945, 100), (1950, 180), (1960, 300), (1970, 370), (1980, 380),
                  (1990, 360), (2000, 300), (2010, 240), (2020, 190), (2025, 150))  # fmt: skip


def _cohort_weight(year: int) -> float:
    for upper, weight in _COHORT:
        if year < upper:
            return float(weight)
    return float(_COHORT[-1][1])


_YEAR_CUM: Final = tuple(itertools.accumulate(_cohort_weight(y) for y in _BIRTH_YEARS))
_COUNTY_NAMES: Final = tuple(names.COUNTIES)
_COUNTY_CUM: Final = tuple(itertools.accumulate(float(v[1]) for v in names.COUNTIES.values()))
_SURNAME_CHARS: Final = tuple(s for s, _ in names.SURNAMES)
_SURNAME_CUM: Final = tuple(itertools.accumulate(w for _, w in names.SURNAMES))
_HOUSEHOLD_SIZES: Final = (1, 2, 3, 4, 5, 6)
_HOUSEHOLD_CUM: Final = tuple(itertools.accumulate((30, 25, 20, 15, 7, 3)))


def _death_weight(age: int) -> float:
    """Relative chance of having died, by age: the old die more often."""
    if age >= 85:
        return 25.0
    if age >= 70:
        return 10.0
    if age >= 50:
        return 3.0
    return 1.0


@dataclass(frozen=True)
class PopulationParams:
    """Shares of the population's traits (each a probability between 0 and 1)."""

    resident: float = 0.02
    """Persons with a resident certificate number instead of a national ID."""
    resident_old: float = 0.3
    """Of those, the share still holding an old-format number (``[A-Z][A-D]\\d{8}``)."""
    deceased: float = 0.03
    """Persons deceased by ``as_of`` (with a death date)."""
    eudc_name: float = 0.005
    """Names with a rare character, written as a private-use code point (EUDC)."""
    compound_surname: float = 0.003
    """Two-character surnames (歐陽, 司馬, …): four-character names."""
    single_given_name: float = 0.1
    """Given names of one character (three-character names become two)."""
    former_county_letter: float = 0.4
    """Of persons born before 2011 in 臺中市, 臺南市 or 高雄市: ID letter of the former county."""

    def __post_init__(self) -> None:
        for key, value in vars(self).items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"population share {key}={value} is not between 0 and 1")


@dataclass(frozen=True, slots=True)
class Person:
    """One person of the population, as of the population's ``as_of`` date."""

    index: int
    national_id: str
    id_kind: str
    """``national``, ``resident_new`` or ``resident_old``."""
    surname: str
    name: str
    sex: str
    """``1`` male, ``2`` female."""
    birth_date: datetime.date
    county: str
    district: str
    address: str
    """Full address, ``臺北市中正區忠孝東路一段１２號３樓`` (full-width digits)."""
    household_no: str
    death_date: datetime.date | None = None

    @property
    def alive(self) -> bool:
        """True when the person has no death date."""
        return self.death_date is None

    @property
    def has_eudc_name(self) -> bool:
        """True when the name holds a private-use (EUDC) character."""
        return _EUDC_RE.search(self.name) is not None


def _mix(x: int) -> int:
    """SplitMix64 finaliser: a well-spread 64-bit hash of ``x``."""
    x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


def permute_serial(index: int, key: int) -> int:
    """A keyed permutation of ``0 … SERIAL_SPACE - 1`` (Feistel network with cycle walking).

    Distinct indices give distinct serials, which look random; the same key gives the same
    permutation.
    """
    if not 0 <= index < SERIAL_SPACE:
        raise ValueError(f"index {index} outside 0 … {SERIAL_SPACE - 1}")
    x = index
    while True:
        left, right = x >> 12, x & 0xFFF
        for rnd in range(4):
            left, right = right, left ^ (_mix(key * 8 + rnd * 0x1000_0000 + right) & 0xFFF)
        x = (left << 12) | right
        if x < SERIAL_SPACE:
            return x


def unit_hash(seed: int, salt: str, index: int) -> float:
    """A deterministic number in [0, 1) for (``seed``, ``salt``, ``index``).

    For per-person decisions that must not depend on the order of draws from a stream.
    """
    return _mix(_salt_key(seed, salt) ^ _mix(index)) / 2.0**64


@functools.cache
def _salt_key(seed: int, salt: str) -> int:
    return _mix(seed) ^ _mix(sum(ord(c) << (8 * (i % 7)) for i, c in enumerate(salt)))


def _seed_key(seed: int, purpose: str) -> int:
    return _mix(seed * 1_000_003 + sum(ord(c) for c in purpose) * 7919)


def household_no(letter: str, index: int, seed: int) -> str:
    """The 8-character household number (戶號) of household ``index``: letter + 7 digits."""
    return f"{letter}{permute_serial(index, _seed_key(seed, 'household')):07d}"


def person_id(kind: str, letter: str, sex: str, index: int, seed: int, rng: random.Random) -> str:
    """The personal identifier of person ``index``, unique within the population."""
    serial = f"{permute_serial(index, _seed_key(seed, 'person')):07d}"
    if kind == "national":
        second = sex
    elif kind == "resident_new":
        second = "8" if sex == "1" else "9"
    else:
        second = rng.choice("AC" if sex == "1" else "BD")
    prefix = letter + second + serial
    return prefix + person_id_check_digit(prefix)


def pick_county(rng: random.Random) -> str:
    """A county (縣市) chosen by population."""
    return _COUNTY_NAMES[bisect.bisect(_COUNTY_CUM, rng.random() * _COUNTY_CUM[-1])]


def make_address(rng: random.Random, county: str | None = None) -> tuple[str, str, str]:
    """A random address ``(county, district, full address)``, in ``county`` when given.

    The full address uses full-width digits: ``臺北市中正區忠孝東路一段１２巷３號４樓``.
    """
    if county is None:
        county = pick_county(rng)
    district = rng.choice(names.COUNTIES[county][2])
    road = rng.choice(names.ROADS)
    parts = [county, district, road]
    if road.endswith("路") and rng.random() < 0.3:
        parts.append(rng.choice(names.ROAD_SECTIONS))
    if rng.random() < 0.35:
        parts.append(fullwidth(str(rng.randint(1, 300))) + "巷")
        if rng.random() < 0.25:
            parts.append(fullwidth(str(rng.randint(1, 30))) + "弄")
    parts.append(fullwidth(str(rng.randint(1, 400))) + "號")
    if rng.random() < 0.05:
        parts.append("之" + fullwidth(str(rng.randint(1, 9))))
    if rng.random() < 0.6:
        parts.append(fullwidth(str(rng.randint(2, 15))) + "樓")
    return county, district, "".join(parts)


def make_given_name(rng: random.Random, sex: str, params: PopulationParams) -> str:
    """A given name of one or two characters, for ``sex`` (``1`` male, ``2`` female)."""
    pool = names.GIVEN_MALE if sex == "1" else names.GIVEN_FEMALE
    if rng.random() < params.single_given_name:
        return rng.choice(pool)
    return rng.choice(pool) + rng.choice(pool)


def pick_surname(rng: random.Random, params: PopulationParams) -> str:
    """A surname, weighted by frequency; a small share of two-character surnames."""
    if rng.random() < params.compound_surname:
        return rng.choice(names.COMPOUND_SURNAMES)
    return _SURNAME_CHARS[bisect.bisect(_SURNAME_CUM, rng.random() * _SURNAME_CUM[-1])]


def with_eudc(rng: random.Random, name: str, keep: int) -> str:
    """``name`` with one character after the first ``keep`` replaced by an EUDC code point."""
    pos = rng.randrange(keep, len(name)) if len(name) > keep else len(name) - 1
    return name[:pos] + chr(EUDC_FIRST + rng.randrange(EUDC_COUNT)) + name[pos + 1 :]


def _foreign_name(rng: random.Random, sex: str) -> tuple[str, str]:
    """``(surname, name)`` of a foreign resident: Vietnamese in characters or Latin letters."""
    if rng.random() < 0.5:
        surname = rng.choice(names.VIETNAMESE_SURNAMES)
        middle = "文" if sex == "1" else "氏"
        pool = names.GIVEN_MALE if sex == "1" else names.GIVEN_FEMALE
        return surname, surname + middle + rng.choice(pool)
    surname = rng.choice(names.LATIN_SURNAMES)
    return surname, f"{surname} {rng.choice(names.LATIN_GIVEN)}"[:20]


def _birth_date(rng: random.Random, as_of: datetime.date) -> datetime.date:
    year = _BIRTH_YEARS[bisect.bisect(_YEAR_CUM, rng.random() * _YEAR_CUM[-1])]
    first = datetime.date(year, 1, 1)
    last = min(datetime.date(year, 12, 31), as_of)
    if last < first:
        last = first = as_of
    return first + datetime.timedelta(days=rng.randrange((last - first).days + 1))


def _mean_death_weight(as_of: datetime.date) -> float:
    total = sum(_cohort_weight(y) * _death_weight(as_of.year - y) for y in _BIRTH_YEARS)
    return total / _YEAR_CUM[-1]


def _id_letter(rng: random.Random, county: str, birth: datetime.date, p: PopulationParams) -> str:
    """The ID letter: mostly the county of the address, sometimes a former or another county."""
    roll = rng.random()
    if roll < 0.15:
        return names.COUNTIES[pick_county(rng)][0]
    former = names.FORMER_COUNTY_LETTERS.get(county)
    if former and birth.year < 2011 and rng.random() < p.former_county_letter:
        return former
    return names.COUNTIES[county][0]


def iter_population(
    n: int,
    seed: int,
    as_of: datetime.date,
    params: PopulationParams | None = None,
) -> Iterator[Person]:
    """Yield ``n`` persons, household by household, deterministically for ``seed``.

    Birth dates fall in 1930 … ``as_of``; a share ``params.deceased`` has a death date on or
    before ``as_of``. Members of a household share its address and household number and mostly
    its surname.
    """
    if not 0 <= n <= MOVER_HOUSEHOLD_BASE:
        raise ValueError(f"population size {n} outside 0 … {MOVER_HOUSEHOLD_BASE}")
    p = params or PopulationParams()
    rng = random.Random(f"{seed}:population")
    death_scale = p.deceased / _mean_death_weight(as_of)
    index = 0
    household = 0
    while index < n:
        size = _HOUSEHOLD_SIZES[bisect.bisect(_HOUSEHOLD_CUM, rng.random() * _HOUSEHOLD_CUM[-1])]
        county, district, address = make_address(rng)
        hh_no = household_no(names.COUNTIES[county][0], household, seed)
        family = pick_surname(rng, p)
        for _ in range(min(size, n - index)):
            yield _person(rng, p, seed, index, as_of, death_scale, family,
                          county, district, address, hh_no)  # fmt: skip
            index += 1
        household += 1


def _person(
    rng: random.Random,
    p: PopulationParams,
    seed: int,
    index: int,
    as_of: datetime.date,
    death_scale: float,
    family: str,
    county: str,
    district: str,
    address: str,
    hh_no: str,
) -> Person:
    sex = "1" if rng.random() < 0.5 else "2"
    birth = _birth_date(rng, as_of)
    kind = "national"
    if rng.random() < p.resident:
        kind = "resident_old" if rng.random() < p.resident_old else "resident_new"
    surname = family if rng.random() < 0.8 else pick_surname(rng, p)
    if kind != "national" and rng.random() < 0.5:
        surname, name = _foreign_name(rng, sex)
    else:
        name = surname + make_given_name(rng, sex, p)
        if rng.random() < p.eudc_name:
            name = with_eudc(rng, name, len(surname))
    letter = names.COUNTIES[county][0] if kind != "national" else _id_letter(rng, county, birth, p)
    death = None
    if rng.random() < death_scale * _death_weight(as_of.year - birth.year):
        lower = max(birth, as_of - datetime.timedelta(days=15 * 365))
        death = lower + datetime.timedelta(days=rng.randrange((as_of - lower).days + 1))
    return Person(
        index=index,
        national_id=person_id(kind, letter, sex, index, seed, rng),
        id_kind=kind,
        surname=surname,
        name=name,
        sex=sex,
        birth_date=birth,
        county=county,
        district=district,
        address=address,
        household_no=hh_no,
        death_date=death,
    )


def build_population(
    n: int,
    seed: int,
    as_of: datetime.date,
    params: PopulationParams | None = None,
) -> list[Person]:
    """The ``n`` persons of :func:`iter_population` as a list (for small populations)."""
    return list(iter_population(n, seed, as_of, params))


@dataclass(frozen=True)
class Population:
    """A re-iterable population: each iteration regenerates the same persons lazily.

    Writers of several feeds can each walk the population without holding it in memory.
    """

    n: int
    seed: int
    as_of: datetime.date
    params: PopulationParams = PopulationParams()

    def __iter__(self) -> Iterator[Person]:
        return iter_population(self.n, self.seed, self.as_of, self.params)

    def __len__(self) -> int:
        return self.n

