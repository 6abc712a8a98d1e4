"""Who is what in which agency: one deterministic answer per person, shared by every writer.

The same person is labor-insured in the BLI extract, contributes to the labor pension, is
insured in national health insurance, may be a farmer in the MOA registry and may receive a
BLI pension paid from the benefits database. Each writer asks :func:`roles` instead of
drawing its own membership, so the feeds agree with one another (and disagree only where
the spec's anomalies say: farmers who are also labor-insured, payments after death).

Decisions are hashes of (seed, purpose, person index): independent of the order in which
writers walk the population, and reproducible.
"""

from __future__ import annotations

import contextvars
import datetime
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from kernel.twid import make_business_id
from sandbox.generate.population import Person, unit_hash

__all__ = ["EMPLOYERS", "RoleShares", "Roles", "employer", "roles", "shares_in_effect"]

EMPLOYERS = 5000
"""Size of the employer pool (insurance units): employer ``k`` is the same firm in every feed."""

SALARY_GRADES = (27470, 28800, 30300, 31800, 33300, 34800, 36300, 38200, 40100, 42000, 43900,
                 45800)  # fmt: skip
"""Labor-insurance insured-salary grades (NT$; the highest grade is 45,800)."""

BENEFIT_TYPES = ("OLD_AGE", "DISABILITY", "SURVIVOR")


@dataclass(frozen=True)
class RoleShares:
    """Shares of the population in each role (probabilities)."""

    labor: float = 0.62
    """Of persons aged 15-65 and alive: enrolled in labor insurance."""
    farmer: float = 0.03
    """Of persons aged 15+ (0.12 of those 55+): eligible in farmers' health insurance."""
    dual: float = 0.05
    """Of farmers aged 15-65: also enrolled in ordinary labor insurance (the anomaly of
    ``gold.dual_enrollment``; mutually exclusive by law)."""
    nhi: float = 0.99
    """Of living persons: insured in national health insurance."""
    self_contribution: float = 0.15
    """Of labor-insured persons: also contribute a personal pension rate (1-6 %)."""
    benefit: float = 0.45
    """Of persons aged 62+: receive an old-age pension (others: disability, survivor)."""
    disability: float = 0.01
    """Of persons aged 25-61: receive a disability pension."""
    paid_after_death: float = 0.35
    """Of deceased benefit recipients: payments continue after the month of death."""


@dataclass(frozen=True)
class Roles:
    """One person's memberships as of the population date."""

    labor: bool
    farmer: bool
    nhi: bool
    benefit: str | None
    """``OLD_AGE``, ``DISABILITY``, ``SURVIVOR`` or ``None``."""
    paid_after_death: bool
    employer: int
    """Index into the employer pool (meaningful when ``labor``)."""
    salary: int
    """Insured monthly salary (NT$), a grade of :data:`SALARY_GRADES`."""
    wage: int
    """Actual monthly wage for the pension (NT$, at least the insured salary)."""
    self_rate: float
    """Personal pension contribution rate (percent, 0-6)."""
    association_code: str
    """Farmers' association code (7 digits)."""
    enrolled_on: datetime.date
    """Start of the current labor-insurance enrolment / farmer eligibility."""


_SHARES: contextvars.ContextVar[RoleShares | None] = contextvars.ContextVar("role_shares",
                                                                          default=None)


@contextmanager
def shares_in_effect(shares: RoleShares) -> Iterator[None]:
    """Every :func:`roles` call in the block (every writer of one generation) uses ``shares``,
    so that the feeds keep agreeing when a share is configured (``generate`` sets it from the
    issue rates: dual enrolment, payments after death)."""
    token = _SHARES.set(shares)
    try:
        yield
    finally:
        _SHARES.reset(token)


def _age(p: Person, on: datetime.date) -> int:
    b = p.birth_date
    return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


def roles(p: Person, seed: int, as_of: datetime.date, shares: RoleShares | None = None) -> Roles:
    """The roles of person ``p`` as of ``as_of`` (deterministic in ``seed`` and ``p.index``)."""
    s = shares or _SHARES.get() or RoleShares()
    h = lambda salt: unit_hash(seed, salt, p.index)  # noqa: E731
    alive_on = p.death_date or as_of
    age = _age(p, alive_on)
    farmer_share = 0.12 if age >= 55 else s.farmer
    farmer = age >= 15 and h("farmer") < farmer_share
    working = 15 <= age <= 65 and p.death_date is None
    labor = working and (h("dual") < s.dual if farmer else h("labor") < s.labor)
    benefit: str | None = None
    if age >= 62 and h("benefit") < s.benefit:
        benefit = "OLD_AGE" if h("benefit_kind") < 0.9 else "SURVIVOR"
    elif 25 <= age < 62 and h("benefit") < s.disability:
        benefit = "DISABILITY"
    grade = min(len(SALARY_GRADES) - 1, int(h("salary") ** 0.7 * len(SALARY_GRADES)))
    salary = SALARY_GRADES[grade]
    start_years = max(0, min(age - 15, 30))
    enrolled_on = as_of - datetime.timedelta(days=int(h("since") * 365 * start_years) + 30)
    return Roles(
        labor=labor,
        farmer=farmer,
        nhi=p.death_date is None and h("nhi") < s.nhi,
        benefit=benefit,
        paid_after_death=benefit is not None and p.death_date is not None
        and h("after_death") < s.paid_after_death,
        employer=int(h("employer") * EMPLOYERS),
        salary=salary,
        wage=salary + int(h("wage") * 20) * 500 if grade == len(SALARY_GRADES) - 1 else salary,
        self_rate=round(int(h("self_rate") * 7), 2) if h("self") < s.self_contribution else 0.0,
        association_code=f"60{int(h('association') * 100000):05d}",
        enrolled_on=max(enrolled_on, p.birth_date + datetime.timedelta(days=15 * 365)),
    )


def employer(k: int, seed: int) -> tuple[str, str]:
    """Employer ``k`` of the pool: (insurance unit number, 8 digits; business ID)."""
    rng = random.Random(seed * 7_919 + k)
    unit = f"{(seed * 104_729 + k * 7_907) % 100_000_000:08d}"
    return unit, make_business_id(rng)
