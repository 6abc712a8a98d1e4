"""The known data issues of the agencies' deliveries: their rates, and how writers inject them.

:class:`IssueRates` holds the chance of each issue. Every writer draws and counts its issues with
one :class:`IssueCounter` (the counts go to the :class:`~sandbox.generate.household.
DeliveryReport`), repeats rows later in the same file with :class:`Repeats`, and the writers of
daily files inject duplicate rows (within a file, and across files) with :class:`Duplicator`.
Every draw comes from the writer's seeded ``random.Random`` streams, in a fixed order, so that
the same seed gives byte-identical files.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, ClassVar, Generic, Protocol, TypeVar

from sandbox.generate.population import PopulationParams

if TYPE_CHECKING:
    from sandbox.generate.roles import RoleShares

__all__ = ["Duplicator", "IssueCounter", "IssueRates", "Repeats"]

RESERVOIR = 1000
"""Rows of earlier files kept (a reservoir sample) as candidates for duplicates across files."""
REPEAT_WITHIN = 50
"""A row repeated within its file comes again after 1 to this many fresh rows."""

Row = TypeVar("Row", str, bytes)
_Row_contra = TypeVar("_Row_contra", str, bytes, contravariant=True)


@dataclass(frozen=True)
class IssueRates:
    """Rates of the known data issues; each the chance that an eligible row gets the issue."""

    fullwidth_id: float = 0.02
    """IDs typed with full-width letters and digits (``Ａ１２３４５６７８９``)."""
    padded_spaces: float = 0.02
    """Leading or trailing spaces (ASCII or ideographic) on one field of the row."""
    six_digit_date: float = 0.02
    """Dates before 2011 (ROC year < 100) written with 6 digits (``780315``)."""
    impossible_date: float = 0.01
    """One date of the row impossible (``1080230``, month 13, day 32, …)."""
    duplicate_within: float = 0.01
    """The row repeated later in the same file."""
    duplicate_across: float = 0.01
    """(Files after the first) a row of an earlier file repeated, byte for byte."""
    tai_variant: float = 0.03
    """Addresses with 臺 written 台."""
    invalid_check_digit: float = 0.002
    """An ID with a wrong check digit."""
    eudc_name: float = 0.005
    """Names with a rare character (EUDC); a property of the person, see below."""
    comma_in_address: float = 0.005
    """Persons whose address a clerk typed with an ASCII comma (the field is then quoted)."""
    # Feed 2 (fixed-width mainframe extract)
    truncated_file: float = 0.0
    """(Per file) the writing job was killed: a short last record and no trailer. Such a file
    is refused whole, so the default is 0; tests and drills raise it."""
    # Feed 3 (labor pension CSV)
    thousands_separator: float = 0.05
    """Numbers written with thousands separators (``"45,800"``)."""
    percent_sign: float = 0.05
    """Rates written with a percent sign (``6%``)."""
    repeated_header: float = 0.5
    """(Per file) two extracts concatenated: the header repeated in the middle of the file."""
    # Feed 4 (NHI API; applied by the simulator)
    api_throttle: float = 0.05
    """Requests answered ``429 Too Many Requests`` with ``Retry-After``."""
    api_unavailable: float = 0.03
    """Requests answered ``503 Service Unavailable``."""
    # Feed 5 (farmers XML)
    empty_element: float = 0.3
    """Absent values written as an empty element (``<資格喪失日期></資格喪失日期>`` or ``<x/>``)."""
    missing_element: float = 0.3
    """Absent values whose element is omitted entirely."""
    fullwidth_decimal: float = 0.05
    """Land area written with full-width digits and decimal point (``０．３５``)."""
    # Feed 6 (benefits database)
    payment_update: float = 0.02
    """Payment rows updated after their first version (amount corrected, or cancelled: 0)."""
    remark_pii: float = 0.3
    """Payment rows whose clerk's remark holds personal data in free form."""
    # Cross-agency anomalies (shares of the population's roles: every writer agrees)
    payment_after_death: float = 0.35
    """Of deceased pension recipients: payments that go on 1-4 months after the month of
    death (the case list of gold.deceased_with_active_payments)."""
    dual_enrollment: float = 0.05
    """Of working-age farmers: also enrolled in ordinary labor insurance (gold.dual_enrollment;
    the two are mutually exclusive by law)."""

    HOUSEHOLD_ISSUES: ClassVar[tuple[str, ...]] = (
        "fullwidth_id", "padded_spaces", "six_digit_date", "impossible_date", "duplicate_within",
        "duplicate_across", "tai_variant", "invalid_check_digit", "eudc_name", "comma_in_address")
    """The issues of feed 1 (the household registry writer injects exactly these)."""
    POPULATION_ISSUES: ClassVar[frozenset[str]] = frozenset({"eudc_name"})
    """Issues that belong to the person, not the row: applied when the population is built,
    only counted by the writer."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"issue rate {f.name}={value} is not between 0 and 1")

    @classmethod
    def kinds(cls) -> tuple[str, ...]:
        """The names of the issues, in declaration order."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def none(cls) -> IssueRates:
        """Clean deliveries: every rate 0."""
        return cls(**dict.fromkeys(cls.kinds(), 0.0))

    @classmethod
    def parse(cls, items: Iterable[str], base: IssueRates | None = None) -> IssueRates:
        """Rates from ``name=value`` strings (a CLI's arguments) over ``base`` (the defaults).

        >>> IssueRates.parse(["fullwidth_id=0.05"]).fullwidth_id
        0.05
        """
        values = {k: getattr(base or cls(), k) for k in cls.kinds()}
        for item in items:
            key, sep, raw = item.partition("=")
            key = key.strip()
            if not sep or key not in values:
                kinds = ", ".join(cls.kinds())
                raise ValueError(f"expected <issue>=<rate>, issue one of {kinds}: {item!r}")
            try:
                values[key] = float(raw)
            except ValueError:
                raise ValueError(f"rate of {key} is not a number: {raw!r}") from None
        return cls(**values)

    def role_shares(self) -> RoleShares:
        """The role shares the cross-agency anomaly rates set (see :mod:`.roles`)."""
        from sandbox.generate.roles import RoleShares

        return RoleShares(dual=self.dual_enrollment, paid_after_death=self.payment_after_death)

    def population_params(self, base: PopulationParams | None = None) -> PopulationParams:
        """``base`` (the defaults) with the person-level issue rates of these rates."""
        return replace(base or PopulationParams(), eudc_name=self.eudc_name)


class Counts(Protocol):
    """Where issue counts go (a :class:`~sandbox.generate.household.DeliveryReport`)."""

    issues: Counter[str]
    eligible: Counter[str]


class IssueCounter:
    """Draws which rows get which issue at the rates of :class:`IssueRates`, and counts them:
    ``eligible[kind]`` the rows that could get the issue, ``issues[kind]`` those that did (a
    kind no row got has no entry). With ``into`` (a report), the counts go straight to it."""

    def __init__(self, rates: IssueRates, into: Counts | None = None) -> None:
        self.rates = rates
        self.issues: Counter[str] = Counter() if into is None else into.issues
        self.eligible: Counter[str] = Counter() if into is None else into.eligible

    def hit(self, kind: str, rng: random.Random, eligible: bool = True) -> bool:
        """Draw whether an (``eligible``) row gets issue ``kind`` at its rate; count it."""
        roll = rng.random()  # drawn whether eligible or not: a stable stream
        if not eligible:
            return False
        return self.count(kind, roll < getattr(self.rates, kind))

    def count(self, kind: str, happened: bool) -> bool:
        """Count an eligible row and whether it got issue ``kind`` (decided elsewhere: a property
        of the person, a field too long, …); return ``happened``."""
        self.eligible[kind] += 1
        if happened:
            self.issues[kind] += 1
        return happened


class Repeats(Generic[Row]):
    """Rows to repeat a little later in the same file, each after a number of fresh rows."""

    def __init__(self) -> None:
        self.fresh = 0
        self._pending: list[tuple[int, int, Row]] = []  # (after fresh row, order, row)

    def fresh_row(self) -> None:
        """Note that one fresh (not repeated) row was written."""
        self.fresh += 1

    def repeat(self, row: Row, after: int) -> None:
        """Repeat ``row`` once ``after`` more fresh rows are written."""
        heapq.heappush(self._pending, (self.fresh + after, self.fresh, row))

    def due(self) -> Iterator[Row]:
        """The rows whose turn has come (in order), removed from the queue."""
        while self._pending and self._pending[0][0] <= self.fresh:
            yield heapq.heappop(self._pending)[2]

    def rest(self) -> Iterator[Row]:
        """Every row still waiting (in order), at the end of the file."""
        while self._pending:
            yield heapq.heappop(self._pending)[2]


class RowWriter(Protocol[_Row_contra]):
    """A delivery file being written, one row (a line or a record) at a time."""

    def write(self, row: _Row_contra, /) -> None:
        """Write one row."""
        ...


class Duplicator(Generic[Row]):
    """Duplicate rows, as the agencies' extracts have them: a row repeated 1 to
    :data:`REPEAT_WITHIN` fresh rows later in the same file (``duplicate_within``) and, in the
    files after the first, a row of an earlier file repeated byte for byte
    (``duplicate_across``, drawn from a reservoir sample of :data:`RESERVOIR` earlier rows)."""

    def __init__(self, counter: IssueCounter) -> None:
        self.counter = counter
        self.earlier: list[Row] = []  # rows of earlier files (a reservoir sample)
        self.sample: list[Row] = []
        self.seen = 0
        self.later: Repeats[Row] = Repeats()

    def start_file(self) -> None:
        """A new file begins: nothing pending, every row of the earlier files a candidate."""
        self.later = Repeats()
        self.earlier = list(self.sample)

    def emit(self, out: RowWriter[Row], row: Row, rng: random.Random) -> None:
        """Write a fresh row, with the duplicates it draws and the repeats now due."""
        out.write(row)
        self.later.fresh_row()
        if self.counter.hit("duplicate_within", rng):
            self.later.repeat(row, rng.randint(1, REPEAT_WITHIN))
        if self.counter.hit("duplicate_across", rng, bool(self.earlier)):
            out.write(rng.choice(self.earlier))
        _write_all(out, self.later.due())
        self.seen += 1
        if len(self.sample) < RESERVOIR:
            self.sample.append(row)
        else:
            j = rng.randrange(self.seen)
            if j < RESERVOIR:
                self.sample[j] = row

    def end_file(self, out: RowWriter[Row]) -> None:
        """The file ends: the repeats still pending are written."""
        _write_all(out, self.later.rest())


def _write_all(out: RowWriter[Row], rows: Iterable[Row]) -> None:
    for row in rows:
        out.write(row)
