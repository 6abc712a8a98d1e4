"""Deterministic generator of realistic agency deliveries (synthetic data, no real persons).

One :class:`~sandbox.generate.population.Population` is shared by the per-feed writers
(:data:`WRITERS`), so that the same persons appear in several feeds, joined by their national
ID as in the real deliveries. Each writer drops its files under ``<root>/inbox/`` as the agency
would, injecting the feed's known data issues, and reports what it wrote.

>>> report = generate(Path("/tmp/lakehouse"), persons=1000)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime
import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kernel.layout import Layout
from sandbox.generate.household import DeliveryReport
from sandbox.generate.issues import IssueRates
from sandbox.generate.population import Person, Population

__all__ = ["WRITERS", "GenerationReport", "IssueRates", "generate", "main"]

Writer = Callable[[Path, Iterable[Person], int, datetime.date, int, IssueRates], DeliveryReport]
"""A per-feed writer: ``(inbox, population, seed, start, days, rates) -> DeliveryReport``."""

WRITERS: dict[str, str] = {
    "moi.household_registry": "sandbox.generate.household:write_household_deliveries",
    "bli.labor_insurance_enrollment": "sandbox.generate.labor:write_labor_deliveries",
    "bli.labor_pension_contributions": "sandbox.generate.pension:write_pension_deliveries",
    "nhia.insured_status": "sandbox.generate.nhi:write_nhi_source",
    "moa.farmer_registry": "sandbox.generate.farmers:write_farmer_deliveries",
    "bli.benefit_payments": "sandbox.generate.benefits:write_benefit_source",
}
"""The feeds the generator can deliver, by contract name: ``module:function`` of a
:data:`Writer`. File-drop feeds fill ``<root>/inbox/``; the API feed fills the simulator's data
under ``<root>/sources/``; the database feed fills the PostgreSQL table."""


def writer(feed: str) -> Writer:
    """The writer of ``feed`` (imported on first use)."""
    module, _, func = WRITERS[feed].partition(":")
    fn: Writer = getattr(importlib.import_module(module), func)
    return fn


@dataclass
class GenerationReport:
    """What :func:`generate` wrote: the inbox, the population and one report per feed."""

    inbox: Path
    persons: int
    seed: int
    start: datetime.date
    days: int
    feeds: dict[str, DeliveryReport] = field(default_factory=dict)

    @property
    def files(self) -> list[Path]:
        """Every data file written (without the ``.sha256`` companions)."""
        return [f.path for r in self.feeds.values() for f in r.files]

    def __str__(self) -> str:
        lines = [f"{self.persons:,} persons, {self.days} day(s) from {self.start}, seed "
                 f"{self.seed}, under {self.inbox}"]  # fmt: skip
        for name, r in self.feeds.items():
            issues = ", ".join(f"{k} {v}" for k, v in sorted(r.issues.items()) if v)
            lines.append(f"  {name}: {len(r.files)} files, {r.rows:,} rows; issues: {issues}")
        return "\n".join(lines)


def generate(
    root: Path,
    persons: int = 2000,
    seed: int = 42,
    days: int = 3,
    start: datetime.date = datetime.date(2024, 11, 1),
    rates: IssueRates | None = None,
    feeds: Sequence[str] | None = None,
) -> GenerationReport:
    """Write ``days`` days of deliveries from ``start`` for ``persons`` persons under
    ``<root>/inbox/``.

    The population is as of the day before ``start``; ``feeds`` selects writers of
    :data:`WRITERS` (default: all). The same arguments give byte-identical files.
    """
    rates = rates or IssueRates()
    unknown = sorted(set(feeds or ()) - WRITERS.keys())
    if unknown:
        raise KeyError(f"no writer for {unknown}; known feeds: {', '.join(WRITERS)}")
    inbox = Layout(str(root)).inbox_dir
    population = Population(
        n=persons,
        seed=seed,
        as_of=start - datetime.timedelta(days=1),
        params=rates.population_params(),
    )
    report = GenerationReport(inbox=inbox, persons=persons, seed=seed, start=start, days=days)
    from sandbox.generate.roles import shares_in_effect

    with shares_in_effect(rates.role_shares()):
        for name in feeds or WRITERS:
            report.feeds[name] = writer(name)(inbox, population, seed, start, days, rates)
    return report
