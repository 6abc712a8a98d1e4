"""The view model of the quality report: what each page shows, as plain data (no HTML).

:func:`run_page` turns the records of one run (:class:`~quality.report.data.RunRecords`) into a
:class:`RunPage` (summary cards, what needs attention, per feed its deliveries and batches, per
batch its stages, gates, reconciliation checks, quality rules and quarantine counts);
:func:`index_page` lists every run as a :class:`RunSummary`. The words come from the records
and the feed contracts, never from a record of the data: counts, rule ids, file names, digests.

The batch gates are read from their own quality results (``gate.min_rows``,
``gate.max_quarantine_share``, ``gate.volume``; ids in :mod:`quality.ids`): a gate a batch has
no result for is shown as *not evaluated*, never inferred from a failure message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from kernel import contracts
from kernel.contracts import FeedContract
from quality.report import fmt
from quality.report.badges import Badge, gate_badge
from quality.report.batch import BatchView, batch_view, failed_gates, headline
from quality.report.data import BatchRecords, FeedRecords, RunRecords, SystemTables, timestamp

__all__ = [
    "AttentionItem",
    "Badge",
    "BatchView",
    "Card",
    "DeliveryLine",
    "FeedView",
    "IndexLine",
    "IndexPage",
    "PublishLine",
    "RunPage",
    "RunSummary",
    "index_page",
    "run_file_name",
    "run_page",
    "summaries",
]


def run_file_name(run_id: str) -> str:
    """The page file name of a run: ``<run id>.html``, unsafe characters as ``_``."""
    return fmt.safe_name(run_id) + ".html"


# --------------------------------------------------------------------------- the run page


@dataclass(frozen=True)
class Card:
    """A summary tile: a big number and its label (``tone``: ok, quar, fail or none)."""

    value: int
    label: str
    tone: str = ""


@dataclass(frozen=True)
class AttentionItem:
    """One thing a steward must act on, worded ``subject: what [code] verdict — detail``."""

    subject: str
    what: str
    verdict: str
    detail: str
    code: str | None = None
    anchor: str | None = None
    """The in-page anchor of the batch section with the details, if any."""


@dataclass(frozen=True)
class DeliveryLine:
    """One delivery of a feed in a run: landed, duplicate or refused."""

    file_name: str | None
    status: Badge
    bytes: int | None
    digest: str | None
    """The first 12 hex digits of the file's SHA-256, with an ellipsis."""
    file_date: str | None
    reason: str
    refused: bool


@dataclass(frozen=True)
class FeedView:
    """What one run did for one feed."""

    name: str
    title: str
    facts: list[str]
    """Contract version, cadence, steward and agency, when the contract is known."""
    freshness: Badge | None
    """The freshness gate's outcome, when the run evaluated it."""
    freshness_text: str
    deliveries: list[DeliveryLine]
    batches: list[BatchView]


@dataclass(frozen=True)
class PublishLine:
    """One publish of a run: dataset, status, version, rows, key id and reason."""

    dataset: str | None
    status: Badge
    version: int | None
    rows: int | None
    key_id: str | None
    reason: str


@dataclass(frozen=True)
class RunPage:
    """The page of one run."""

    run_id: str
    at: dt.datetime | None
    cards: list[Card]
    attention: list[AttentionItem]
    feeds: list[FeedView]
    publishes: list[PublishLine]

    @property
    def recorded(self) -> bool:
        """True when the system tables hold any record of the run."""
        return bool(self.feeds or self.publishes)


# --------------------------------------------------------------------------- the index


@dataclass(frozen=True)
class RunSummary:
    """One line of the index: what a run did, in counts."""

    run_id: str
    at: dt.datetime | None
    feeds: tuple[str, ...]
    batches: int
    rows: int
    quarantined: int
    failed_gates: int
    refused: int
    duplicates: int
    published: int


@dataclass(frozen=True)
class IndexLine:
    """A run on the index: its summary, its page's link and its overall status."""

    summary: RunSummary
    link: str
    status: Badge

    @property
    def bad(self) -> bool:
        """True when a gate failed or a delivery was refused in the run."""
        return bool(self.summary.failed_gates or self.summary.refused)


@dataclass(frozen=True)
class IndexPage:
    """The index across runs, newest first."""

    lines: list[IndexLine]


# --------------------------------------------------------------------------- building


def _contract(feed: str) -> FeedContract | None:
    """The feed's contract, or ``None`` when no contract of that name exists (any more)."""
    try:
        return contracts.feed(feed)
    except (KeyError, contracts.ContractError):
        return None


def _freshness_failed(f: FeedRecords) -> bool:
    """True when the run's freshness gate of the feed failed."""
    return f.freshness is not None and f.freshness.get("success") is False


def summary(run: RunRecords) -> RunSummary:
    """The run in counts; its failed gates are every batch's failed gates and checks
    (:func:`~quality.report.batch.failed_gates`) plus the failed freshness gates."""
    batches = [b for f in run.feeds for b in f.batches]
    deliveries = [d for f in run.feeds for d in f.deliveries]
    failed = sum(len(failed_gates(b)) for b in batches) + sum(
        _freshness_failed(f) for f in run.feeds)
    return RunSummary(
        run_id=run.run_id,
        at=run.at,
        feeds=tuple(f.name for f in run.feeds),
        batches=len(batches),
        rows=sum(b.rows_in or 0 for b in batches),
        quarantined=sum(int((b.silver or {}).get("quarantined") or 0) for b in batches),
        failed_gates=failed,
        refused=sum(d.get("status") == "refused" for d in deliveries),
        duplicates=sum(d.get("status") == "duplicate" for d in deliveries),
        published=sum(p.get("status") == "published" for p in run.publishes),
    )


def _cards(s: RunSummary) -> list[Card]:
    """The summary tiles of a run page."""
    return [
        Card(len(s.feeds), "feeds"),
        Card(s.batches, "batches"),
        Card(s.rows, "rows delivered"),
        Card(s.quarantined, "quarantined", "quar" if s.quarantined else "ok"),
        Card(s.failed_gates, "failed gates", "fail" if s.failed_gates else "ok"),
        Card(s.refused, "refused deliveries", "fail" if s.refused else "ok"),
        Card(s.duplicates, "resent duplicates"),
    ]


def _freshness_text(f: FeedRecords, contract: FeedContract | None) -> str:
    """The freshness gate of a feed in words: the age of its last landed delivery (the
    result's ``element_count``, in hours) against the contract's limit."""
    limit = contract.gates.freshness_hours if contract else None
    age = (f.freshness or {}).get("element_count")
    lim = f"limit {limit:g} h" if limit is not None else "limit unknown"
    if age is None:
        return f"no delivery has ever landed ({lim})"
    return f"last landed delivery {int(age):,} h before the run ({lim})"


def _attention(run: RunRecords, contracts_: Mapping[str, FeedContract | None]
               ) -> list[AttentionItem]:
    """What a steward must act on: refused deliveries, failed batches, failed freshness gates
    and refused publishes (empty: nothing needs attention)."""
    items: list[AttentionItem] = []
    for f in run.feeds:
        items += [AttentionItem(f.name, "delivery", "refused", str(d.get("reason")),
                                code=str(d.get("file_name")))
                  for d in f.deliveries if d.get("status") == "refused"]
        items += [AttentionItem(f.name, "batch", "FAILED", headline(b),
                                code=str((b.delivery or {}).get("file_name") or b.batch_id),
                                anchor=_anchor(b))
                  for b in f.batches if b.failed]
        if _freshness_failed(f):
            items.append(AttentionItem(f.name, "freshness gate", "FAILED",
                                       _freshness_text(f, contracts_[f.name])))
    items += [AttentionItem(str(p.get("dataset")), "publish", "refused", str(p.get("reason")))
              for p in run.publishes if p.get("status") == "refused"]
    return items


def _anchor(b: BatchRecords) -> str:
    """The in-page anchor of a batch's section."""
    return "batch-" + fmt.safe_name(b.batch_id)


def _deliveries(f: FeedRecords) -> list[DeliveryLine]:
    """Every delivery of the feed in the run, by file name."""
    tones = {"landed": "ok", "duplicate": "info", "refused": "fail"}
    lines: list[DeliveryLine] = []
    for d in sorted(f.deliveries, key=lambda d: str(d.get("file_name"))):
        status, digest = str(d.get("status")), d.get("sha256")
        lines.append(DeliveryLine(
            file_name=d.get("file_name"), status=Badge(status, tones.get(status, "muted")),
            bytes=d.get("bytes"), digest=str(digest)[:12] + "…" if digest else None,
            file_date=d.get("file_date"), reason=str(d.get("reason") or ""),
            refused=status == "refused",
        ))
    return lines


def _feed_facts(c: FeedContract | None) -> list[str]:
    """The contract's version, cadence, steward and agency (empty without a contract)."""
    if c is None:
        return []
    facts = [f"contract {c.version}", f"cadence {c.cadence}"]
    if c.owner.get("steward"):
        facts.append(f"steward {c.owner['steward']}")
    if c.owner.get("agency"):
        facts.append(str(c.owner["agency"]))
    return facts


def _feed_view(f: FeedRecords, c: FeedContract | None, tables: SystemTables) -> FeedView:
    """One feed of a run page, with every batch the run touched."""
    quarantine = tables.quarantine_counts(f.name)
    return FeedView(
        name=f.name,
        title=c.title if c else f.name,
        facts=_feed_facts(c),
        freshness=None if f.freshness is None else gate_badge(f.freshness.get("success")),
        freshness_text=_freshness_text(f, c),
        deliveries=_deliveries(f),
        batches=[batch_view(b, c, quarantine.get(b.batch_id), _anchor(b)) for b in f.batches],
    )


def _publishes(run: RunRecords) -> list[PublishLine]:
    """The publishes of a run, as recorded."""
    tones = {"published": "ok", "up_to_date": "info", "refused": "fail"}
    return [PublishLine(dataset=p.get("dataset"),
                        status=Badge(str(p.get("status")), tones.get(str(p.get("status")),
                                                                     "muted")),
                        version=p.get("version"), rows=p.get("rows"), key_id=p.get("key_id"),
                        reason=str(p.get("reason") or ""))
            for p in run.publishes]


def run_page(tables: SystemTables, run_id: str) -> RunPage:
    """The view of run ``run_id``'s page (an empty page when the run left no record)."""
    run = tables.run(run_id)
    by_feed = {f.name: _contract(f.name) for f in run.feeds}
    return RunPage(
        run_id=run_id, at=run.at, cards=_cards(summary(run)),
        attention=_attention(run, by_feed),
        feeds=[_feed_view(f, by_feed[f.name], tables) for f in run.feeds],
        publishes=_publishes(run),
    )


def summaries(tables: SystemTables) -> list[RunSummary]:
    """Every run of the system tables in counts, newest first."""
    out = [summary(tables.run(rid)) for rid in tables.run_ids()]
    out.sort(key=lambda s: (timestamp(s.at), s.run_id), reverse=True)
    return out


def index_page(tables: SystemTables) -> IndexPage:
    """The view of the index: one line per run, newest first, linking to its page."""
    lines: list[IndexLine] = []
    for s in summaries(tables):
        status = (Badge("needs attention", "fail") if s.failed_gates or s.refused else
                  Badge("quarantined rows", "quar") if s.quarantined else Badge("ok", "ok"))
        lines.append(IndexLine(summary=s, link=quote(run_file_name(s.run_id)), status=status))
    return IndexPage(lines=lines)
