"""The steward-facing quality report: one self-contained HTML page per run, and an index.

The report is built from the system-zone tables only (``system/deliveries``, ``system/batches``,
``system/quality_results``, ``system/reconciliation`` and, when present, ``system/publishes``),
read with ``deltalake`` (no JVM, no Spark). From a feed's quarantine table it reads only the
columns ``_batch_id`` and ``_rule_ids`` and shows counts per rule: never a record, never a
value. Every string that reaches the page goes through :func:`html.escape`.

The pages are plain HTML with inline CSS (no JavaScript, no external resource), so they open
offline in any browser::

    write_all("/path/to/lakehouse")   # every run page and index.html
    write_run_report(root, "cli-0123456789ab")
    write_index(root)

By default the pages go to ``<root>/system/reports/quality/`` as ``<run id>.html`` and
``index.html``.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kernel import contracts
from kernel.contracts import FeedContract, Rule

__all__ = [
    "RunSummary",
    "SystemTables",
    "assert_no_personal_values",
    "main",
    "render_index",
    "render_run",
    "run_file_name",
    "write_all",
    "write_index",
    "write_run_report",
]

Row = dict[str, Any]

REPORT_DIR = "system/reports/quality"
SYSTEM_TABLES = ("deliveries", "batches", "quality_results", "reconciliation", "publishes")
GATE_VOLUME = "gate.volume"  # the ids the pipeline records its batch gates under
GATE_FRESHNESS = "gate.freshness"
RULE_MALFORMED = "record.malformed"
_QUARANTINE_SHARE = re.compile(r"gate max_quarantine_share: (\d+) of (\d+) rows")
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]")

# --------------------------------------------------------------------------- reading


def _local(root: str) -> str:
    """The storage root as ``deltalake`` expects it (``file:`` URIs as plain paths)."""
    return root[len("file://"):] if root.startswith("file://") else root.rstrip("/")


def _read_table(path: str, columns: Sequence[str] | None = None) -> list[Row]:
    """The rows of the Delta table at ``path`` (only ``columns``), or ``[]`` if there is none."""
    from deltalake import DeltaTable

    if not DeltaTable.is_deltatable(path):
        return []
    table = DeltaTable(path).to_pyarrow_table(columns=list(columns) if columns else None)
    return list(table.to_pylist())


@dataclass
class SystemTables:
    """The system-zone tables of one storage root, as lists of rows."""

    root: str
    deliveries: list[Row] = field(default_factory=list)
    batches: list[Row] = field(default_factory=list)
    quality_results: list[Row] = field(default_factory=list)
    reconciliation: list[Row] = field(default_factory=list)
    publishes: list[Row] = field(default_factory=list)
    _quarantine: dict[str, dict[str, Counter[str]]] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, root: str) -> SystemTables:
        """Read every system table under ``<root>/system/`` (missing tables are empty)."""
        base = _local(root)
        read = {name: _read_table(f"{base}/system/{name}") for name in SYSTEM_TABLES}
        return cls(root=base, deliveries=read["deliveries"], batches=read["batches"],
                   quality_results=read["quality_results"],
                   reconciliation=read["reconciliation"], publishes=read["publishes"])

    def run_ids(self) -> list[str]:
        """Every run id found in the system tables."""
        ids = {
            str(r["run_id"])
            for name in SYSTEM_TABLES
            for r in getattr(self, name)
            if r.get("run_id")
        }
        return sorted(ids)

    def of_run(self, table: str, run_id: str) -> list[Row]:
        """The rows of ``table`` written by run ``run_id``."""
        rows: list[Row] = getattr(self, table)
        return [r for r in rows if r.get("run_id") == run_id]

    def landed_delivery(self, batch_id: str) -> Row | None:
        """The delivery that landed batch ``batch_id`` (in whichever run)."""
        for r in self.deliveries:
            if r.get("batch_id") == batch_id and r.get("status") == "landed":
                return r
        return None

    def quarantine_counts(self, feed: str) -> dict[str, Counter[str]]:
        """Quarantined rows per batch and rule id of ``feed`` (counts only, never values).

        Only ``_batch_id`` and ``_rule_ids`` are read from the quarantine table; the key
        ``""`` of each batch's counter holds its number of quarantined rows.
        """
        if feed not in self._quarantine:
            rows = _read_table(f"{self.root}/quarantine/{feed}", ["_batch_id", "_rule_ids"])
            counts: dict[str, Counter[str]] = defaultdict(Counter)
            for r in rows:
                c = counts[str(r.get("_batch_id"))]
                c[""] += 1
                for rule_id in r.get("_rule_ids") or ():
                    c[str(rule_id)] += 1
            self._quarantine[feed] = dict(counts)
        return self._quarantine[feed]


def _contract(feed: str) -> FeedContract | None:
    """The feed's contract, or ``None`` when no contract of that name exists (any more)."""
    try:
        return contracts.feed(feed)
    except (KeyError, contracts.ContractError):
        return None


def _latest(rows: Iterable[Row], *keys: str) -> dict[tuple[Any, ...], Row]:
    """The latest row (by ``at``) per ``keys``."""
    out: dict[tuple[Any, ...], Row] = {}
    for r in rows:
        k = tuple(r.get(key) for key in keys)
        if k not in out or _ts(r.get("at")) >= _ts(out[k].get("at")):
            out[k] = r
    return out


def _ts(value: Any) -> float:
    """A sortable number for a timestamp (``None`` first)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.timestamp()
    return float("-inf")


# --------------------------------------------------------------------------- formatting


def _e(value: Any) -> str:
    """``value`` escaped for HTML; ``None`` as an em dash."""
    return "—" if value is None else html.escape(str(value), quote=True)


def _n(value: Any) -> str:
    """A count with thousands separators; ``None`` as an em dash."""
    if value is None:
        return "—"
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return _e(value)


def _pct(part: Any, whole: Any) -> str:
    """``part`` as a percentage of ``whole``."""
    if part is None or not whole:
        return "—"
    share = 100.0 * float(part) / float(whole)
    if share == 0:
        return "0%"
    return f"{share:.2f}%" if share < 10 else f"{share:.1f}%"


def _time(value: Any) -> str:
    """A timestamp as ``YYYY-MM-DD HH:MM:SS UTC``."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return _e(value)


def _badge(label: str, tone: str, title: str | None = None) -> str:
    """A coloured status label (``tone``: ok, warn, quar, fail, info, muted)."""
    tip = f' title="{_e(title)}"' if title else ""
    return f'<span class="badge {tone}"{tip}>{_e(label)}</span>'


def _holds(ok: bool | None) -> str:
    """✓ / ✗ for a check that holds or not."""
    if ok is None:
        return _badge("not evaluated", "muted")
    return _badge("✓ holds", "ok") if ok else _badge("✗ does not hold", "fail")


def run_file_name(run_id: str) -> str:
    """The page file name of a run: ``<run id>.html`` (unsafe characters as ``_``)."""
    return _UNSAFE_FILE_CHARS.sub("_", run_id) + ".html"


def _feed_title(feed: str, contract: FeedContract | None) -> str:
    """The feed's title from its contract (Chinese name with the English gloss)."""
    return contract.title if contract else feed


def _rule_text(rule: Rule | None) -> str:
    """What a rule expects, in a few words, from the contract (never from the data)."""
    if rule is None:
        return ""
    if rule.description:
        return rule.description
    p = rule.params
    texts = {
        "not_null": "a value is present",
        "in_set": "one of " + ", ".join(str(v) for v in p.get("values", ())),
        "regex": f"matches {p.get('pattern')}",
        "length_between": f"length {p.get('min')}–{p.get('max')}",
        "between": f"between {p.get('min')} and {p.get('max')}",
        "valid_date": "a valid date",
        "valid_value": "a valid value of the field's type",
        "tw_person_id": "a valid Taiwan person id (check digit)",
        "tw_business_id": "a valid Taiwan business id (check digit)",
    }
    return texts.get(rule.check, rule.check)


_TABLE_RULE_TEXT = {
    "table.row_count": "the batch has at least the contract's minimum of rows",
    "table.columns": "the batch carries every column of the contract",
    RULE_MALFORMED: "the record splits into the contract's fields",
}


# --------------------------------------------------------------------------- the run model


@dataclass
class _Batch:
    """What one run did to one batch of a feed."""

    feed: str
    batch_id: str
    delivery: Row | None
    stages: dict[str, Row]
    rules: list[Row]
    checks: list[Row]

    @property
    def silver(self) -> Row | None:
        """The batch's silver record of the run."""
        return self.stages.get("silver")

    @property
    def failed(self) -> bool:
        """A stage failed or a reconciliation check does not hold."""
        return any(s.get("status") == "failed" for s in self.stages.values()) or any(
            c.get("holds") is False for c in self.checks
        )

    @property
    def rows_in(self) -> int | None:
        """Records delivered (bronze rows in, else silver rows in)."""
        for stage in ("bronze", "silver"):
            if stage in self.stages and self.stages[stage].get("rows_in") is not None:
                return int(self.stages[stage]["rows_in"])
        return None

    @property
    def reason(self) -> str | None:
        """The failure reasons of the batch's stages, if any."""
        reasons = [str(s["reason"]) for s in self.stages.values() if s.get("reason")]
        return "; ".join(reasons) or None


def _status(batch: _Batch) -> tuple[str, str]:
    """The batch's overall status label and tone."""
    if batch.failed:
        return "FAILED", "fail"
    silver = batch.silver
    if silver is None:
        return ("in bronze", "info") if "bronze" in batch.stages else ("landed", "info")
    if silver.get("quarantined"):
        return f"ok · {int(silver['quarantined']):,} quarantined", "quar"
    if any(r.get("action") == "warn" and r.get("success") is False for r in batch.rules):
        return "ok · warnings", "warn"
    return "ok", "ok"


def _outcome(rule: Row, batch_failed: bool) -> tuple[str, str]:
    """A rule's outcome on its batch: pass, warn, quarantined or FAILED."""
    success = rule.get("success")
    if success is None:
        return "not evaluated", "muted"
    if success:
        return "pass", "ok"
    action = rule.get("action")
    if action == "warn":
        return "warn", "warn"
    if action == "quarantine":
        if batch_failed:
            return "held · batch failed", "quar"
        return "quarantined", "quar"
    return "FAILED", "fail"


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


@dataclass
class _Feed:
    """What one run did for one feed."""

    name: str
    contract: FeedContract | None
    deliveries: list[Row]
    batches: list[_Batch]
    freshness: Row | None


@dataclass
class _Run:
    """What one run did, per feed."""

    run_id: str
    feeds: list[_Feed]
    publishes: list[Row]
    at: dt.datetime | None

    def summary(self) -> RunSummary:
        """The run in counts."""
        batches = [b for f in self.feeds for b in f.batches]
        deliveries = [d for f in self.feeds for d in f.deliveries]
        failed = sum(len(_failed_gates(b, f)) for f in self.feeds for b in f.batches) + sum(
            1 for f in self.feeds if f.freshness and f.freshness.get("success") is False
        )
        return RunSummary(
            run_id=self.run_id,
            at=self.at,
            feeds=tuple(f.name for f in self.feeds),
            batches=len(batches),
            rows=sum(b.rows_in or 0 for b in batches),
            quarantined=sum(int((b.silver or {}).get("quarantined") or 0) for b in batches),
            failed_gates=failed,
            refused=sum(d.get("status") == "refused" for d in deliveries),
            duplicates=sum(d.get("status") == "duplicate" for d in deliveries),
            published=sum(p.get("status") == "published" for p in self.publishes),
        )


def _failed_gates(b: _Batch, f: _Feed) -> list[str]:
    """The gates a batch failed: quarantine share, volume, ``fail`` rules, minimum rows,
    reconciliation checks (by name)."""
    failed = [str(r.get("rule_id")) for r in b.rules
              if r.get("action") == "fail" and r.get("success") is False]
    if _quarantine_share(b, f)[2] is False:
        failed.append("gate.max_quarantine_share")
    if "gate.min_rows" in str(b.reason or "") and "gate.min_rows" not in failed:
        failed.append("gate.min_rows")
    failed += [f"reconciliation: {c.get('check')}" for c in b.checks if c.get("holds") is False]
    if b.failed and not failed:
        failed.append("stage failed")
    return failed


def _build_run(tables: SystemTables, run_id: str) -> _Run:
    """Gather the records of one run, per feed and batch."""
    deliveries = tables.of_run("deliveries", run_id)
    stages = _latest(tables.of_run("batches", run_id), "feed", "batch_id", "stage")
    results = tables.of_run("quality_results", run_id)
    checks = tables.of_run("reconciliation", run_id)
    publishes = tables.of_run("publishes", run_id)

    feed_names = sorted(
        {str(r["feed"]) for rows in (deliveries, results, checks) for r in rows if r.get("feed")}
        | {str(k[0]) for k in stages}
    )
    feeds: list[_Feed] = []
    for name in feed_names:
        # Batches the run touched: landed, processed by a stage, checked or reconciled.
        touched = [
            *(d.get("batch_id") for d in deliveries
              if d.get("feed") == name and d.get("status") == "landed"),
            *(k[1] for k in stages if k[0] == name),
            *(r.get("batch_id") for r in results + checks if r.get("feed") == name),
        ]
        batch_ids = [str(b) for b in dict.fromkeys(touched) if b]
        batches: list[_Batch] = []
        for bid in batch_ids:
            rules = [
                r for r in results
                if r.get("feed") == name and r.get("batch_id") == bid
            ]
            batches.append(_Batch(
                feed=name,
                batch_id=bid,
                delivery=tables.landed_delivery(bid),
                stages={k[2]: v for k, v in stages.items() if k[0] == name and k[1] == bid},
                rules=list(_latest(rules, "rule_id").values()),
                checks=list(_latest(
                    [c for c in checks if c.get("feed") == name and c.get("batch_id") == bid],
                    "check").values()),
            ))
        batches.sort(key=lambda b: (str((b.delivery or {}).get("file_date") or ""), b.batch_id))
        fresh = [
            r for r in results
            if r.get("feed") == name and r.get("rule_id") == GATE_FRESHNESS
        ]
        feeds.append(_Feed(
            name=name,
            contract=_contract(name),
            deliveries=[d for d in deliveries if d.get("feed") == name],
            batches=batches,
            freshness=max(fresh, key=lambda r: _ts(r.get("at"))) if fresh else None,
        ))
    stamps = [
        r["at"]
        for name in SYSTEM_TABLES
        for r in tables.of_run(name, run_id)
        if isinstance(r.get("at"), dt.datetime)
    ]
    return _Run(run_id=run_id, feeds=feeds, publishes=publishes,
                at=max(stamps, key=_ts) if stamps else None)


# --------------------------------------------------------------------------- rendering

_CSS = """
:root { --ink:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#f6f8fa; --card:#fff;
  --ok:#1a7f37; --ok-bg:#dafbe1; --warn:#7d4e00; --warn-bg:#fff8c5; --quar:#953800;
  --quar-bg:#fff1e5; --fail:#b3261e; --fail-bg:#ffebe9; --info:#0550ae; --info-bg:#ddf4ff; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink); line-height:1.45;
  font:14px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans CJK TC",
  "Microsoft JhengHei",sans-serif; }
main { max-width:1200px; margin:0 auto; padding:24px 28px 48px; }
header.page { background:#24292f; color:#fff; padding:18px 28px; }
header.page .inner { max-width:1200px; margin:0 auto; padding:0 28px; }
header.page h1 { margin:0 0 4px; font-size:22px; font-weight:600; }
header.page .sub { color:#d0d7de; font-size:13px; }
header.page a { color:#9cd1ff; }
h2 { font-size:19px; margin:28px 0 6px; }
h3 { font-size:15px; margin:0; }
h4 { font-size:13px; margin:16px 0 6px; color:var(--muted); text-transform:uppercase;
  letter-spacing:.04em; }
code, .mono { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12.5px; }
.muted { color:var(--muted); }
.small { font-size:12px; }
.cards { display:flex; flex-wrap:wrap; gap:12px; margin:4px 0 20px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px;
  padding:10px 16px; min-width:130px; }
.card .v { font-size:24px; font-weight:650; }
.card .k { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.card.fail { border-color:#ff8182; background:var(--fail-bg); }
.card.fail .v { color:var(--fail); }
.card.quar { border-color:#ffb77c; background:var(--quar-bg); }
.card.quar .v { color:var(--quar); }
.card.ok .v { color:var(--ok); }
.attention { border:1px solid #ff8182; background:var(--fail-bg); border-radius:8px;
  padding:10px 16px; margin:0 0 18px; }
.attention.clear { border-color:#4ac26b; background:var(--ok-bg); }
.attention ul { margin:6px 0 2px; padding-left:20px; }
.attention li { margin:3px 0; }
section.feed { margin-top:8px; }
.feedhead { border-bottom:2px solid var(--line); padding-bottom:6px; margin-bottom:12px; }
.batch { background:var(--card); border:1px solid var(--line); border-left:6px solid var(--line);
  border-radius:8px; padding:14px 18px; margin:14px 0; }
.batch.ok { border-left-color:var(--ok); }
.batch.warn { border-left-color:#d4a72c; }
.batch.quar { border-left-color:#fb8f44; }
.batch.fail { border-left-color:var(--fail); }
.batch.info { border-left-color:var(--info); }
.bhead { display:flex; flex-wrap:wrap; align-items:center; gap:10px; }
.bhead .file { font-size:16px; font-weight:600; }
.reason { margin:10px 0 0; padding:8px 12px; border-radius:6px; background:var(--fail-bg);
  color:var(--fail); border:1px solid #ffcecb; }
.reason ul { margin:4px 0 0; padding-left:20px; }
.grid { display:grid; grid-template-columns:1.15fr 1fr; gap:0 24px; }
table.runs td { white-space:nowrap; }
table.runs th { white-space:normal; }
@media (max-width:900px) { .grid { grid-template-columns:1fr; } }
table { border-collapse:collapse; width:100%; background:var(--card); }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid #eaeef2; vertical-align:top; }
th { background:#f0f3f6; font-size:12px; color:var(--muted); font-weight:600;
  text-transform:uppercase; letter-spacing:.03em; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
tr.hit td { background:#fffdf5; }
tr.bad td { background:#fff8f7; }
.badge { display:inline-block; padding:1px 8px; border-radius:999px; font-size:12px;
  font-weight:600; white-space:nowrap; border:1px solid transparent; }
.badge.ok { color:var(--ok); background:var(--ok-bg); border-color:#aceebb; }
.badge.warn { color:var(--warn); background:var(--warn-bg); border-color:#f2d675; }
.badge.quar { color:var(--quar); background:var(--quar-bg); border-color:#ffc68a; }
.badge.fail { color:#fff; background:var(--fail); }
.badge.info { color:var(--info); background:var(--info-bg); border-color:#a5d6ff; }
.badge.muted { color:var(--muted); background:#eff2f5; border-color:var(--line); }
.act { font-size:12px; color:var(--muted); }
.act.fail { color:var(--fail); font-weight:600; }
.act.quarantine { color:var(--quar); }
.act.warn { color:var(--warn); }
.bar { display:inline-block; height:8px; border-radius:4px; background:#fb8f44;
  vertical-align:middle; margin-left:6px; }
details.rules > summary { cursor:pointer; list-style-position:outside; margin-left:14px; }
details.rules > summary h4 { display:inline-block; }
details.rules:not([open]) > summary h4::after { content:" — click to show";
  text-transform:none; letter-spacing:0; font-weight:400; }
td.gate { white-space:nowrap; font-weight:600; }
footer { margin-top:32px; color:var(--muted); font-size:12px; border-top:1px solid var(--line);
  padding-top:10px; }
a { color:#0969da; }
"""


def _page(title: str, heading: str, sub: str, body: str) -> str:
    """A complete HTML document with the report's inline style."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<header class="page"><div class="inner"><h1>{heading}</h1>'
        f'<div class="sub">{sub}</div></div></header>\n'
        f"<main>\n{body}\n<footer>Convergence Lakehouse · 匯流資料湖倉 — generated "
        f"{_e(_time(dt.datetime.now(dt.UTC)))} from the system-zone tables. The report shows "
        "file names, digests, rule ids, reasons and counts only: quarantined records stay in "
        "<code>quarantine/&lt;feed&gt;</code> and are never displayed here.</footer>\n"
        "</main>\n</body>\n</html>\n"
    )


def _card(value: Any, label: str, tone: str = "") -> str:
    """A summary tile: a big number and its label."""
    return (f'<div class="card {tone}"><div class="v">{_n(value)}</div>'
            f'<div class="k">{_e(label)}</div></div>')


def _table(head: Sequence[tuple[str, bool]], rows: Iterable[str], css: str = "") -> str:
    """A table: ``head`` as (label, numeric) pairs, ``rows`` as rendered ``<tr>`` elements."""
    cls = f' class="{css}"' if css else ""
    ths = "".join(f'<th class="num">{_e(h)}</th>' if num else f"<th>{_e(h)}</th>"
                  for h, num in head)
    return f"<table{cls}><thead><tr>{ths}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _attention(run: _Run) -> str:
    """The list of what a steward must act on, or a green all-clear."""
    items: list[str] = []
    for f in run.feeds:
        for d in f.deliveries:
            if d.get("status") == "refused":
                items.append(f"<b>{_e(f.name)}</b>: delivery <code>{_e(d.get('file_name'))}</code> "
                             f"refused — {_e(d.get('reason'))}")
        for b in f.batches:
            if b.failed:
                file = (b.delivery or {}).get("file_name") or b.batch_id
                items.append(f"<b>{_e(f.name)}</b>: batch <code>{_e(file)}</code> FAILED — "
                             f"{_e(_headline(b.reason))} "
                             f'<a href="#{_e(_anchor(b.batch_id))}">details</a>')
        if f.freshness and f.freshness.get("success") is False:
            items.append(f"<b>{_e(f.name)}</b>: freshness gate FAILED — "
                         f"{_e(_freshness_text(f))}")
    for p in run.publishes:
        if p.get("status") == "refused":
            items.append(f"<b>{_e(p.get('dataset'))}</b>: publish refused — "
                         f"{_e(p.get('reason'))}")
    if not items:
        return ('<div class="attention clear"><b>Nothing needs attention:</b> every delivery '
                "landed, every gate passed and every reconciliation check holds.</div>")
    lis = "".join(f"<li>{i}</li>" for i in items)
    return (f'<div class="attention"><b>Needs attention ({len(items)})</b>'
            f"<ul>{lis}</ul></div>")


def _reasons(reason: str | None) -> list[str]:
    """A stage reason split into its parts (the pipeline joins them with ``; ``)."""
    text = str(reason or "")
    head, sep, rest = text.partition(": ")
    if sep and head == "quality gate failed":
        return [part.strip() for part in rest.split("; ") if part.strip()]
    return [part.strip() for part in text.split("; ") if part.strip()]


def _headline(reason: str | None) -> str:
    """The gate-level part of a failure reason (rule by rule details stay in the batch)."""
    parts = _reasons(reason)
    if not parts:
        return "a reconciliation check does not hold"
    gates = [p for p in parts if p.startswith("gate") or "(fail)" in p]
    shown = gates or parts[:1]
    more = len(parts) - len(shown)
    return "; ".join(shown) + (f" (+{more} more)" if more else "")


def _anchor(batch_id: str) -> str:
    """The in-page anchor of a batch section."""
    return "batch-" + _UNSAFE_FILE_CHARS.sub("_", batch_id)


def _freshness_text(f: _Feed) -> str:
    """The freshness gate of a feed in words."""
    row = f.freshness or {}
    limit = f.contract.gates.freshness_hours if f.contract else None
    age = row.get("element_count")
    lim = f"limit {limit:g} h" if limit is not None else "limit unknown"
    if age is None:
        return f"no delivery has ever landed ({lim})"
    return f"last landed delivery {int(age):,} h before the run ({lim})"


def _deliveries_table(f: _Feed) -> str:
    """Every delivery of the feed in this run: landed, duplicate or refused, with reasons."""
    rows: list[str] = []
    tones = {"landed": "ok", "duplicate": "info", "refused": "fail"}
    for d in sorted(f.deliveries, key=lambda d: str(d.get("file_name"))):
        status = str(d.get("status"))
        digest = d.get("sha256")
        rows.append(
            f'<tr class="{"bad" if status == "refused" else ""}">'
            f"<td><code>{_e(d.get('file_name'))}</code></td>"
            f"<td>{_badge(status, tones.get(status, 'muted'))}</td>"
            f'<td class="num">{_n(d.get("bytes"))}</td>'
            f"<td><code>{_e(str(digest)[:12] + '…' if digest else None)}</code></td>"
            f"<td>{_e(d.get('file_date'))}</td>"
            f"<td>{_e(d.get('reason') or '')}</td></tr>"
        )
    return _table([("file", False), ("delivery", False), ("bytes", True),
                   ("sha-256", False), ("file date", False), ("reason", False)], rows)


def _quarantine_share(b: _Batch, f: _Feed) -> tuple[str, str, bool | None]:
    """The quarantine-share gate of a batch: (share text, limit text, passed)."""
    limit = f.contract.gates.max_quarantine_share if f.contract else None
    lim = f"≤ {limit:.1%}" if limit is not None else "—"
    silver = b.silver
    if silver is None:
        return "—", lim, None
    rows_in = silver.get("rows_in")
    q = silver.get("quarantined")
    if q is None:
        m = _QUARANTINE_SHARE.search(str(silver.get("reason") or ""))
        if m:
            share = int(m[1]) / int(m[2]) if int(m[2]) else 0.0
            return f"{int(m[1]):,} of {int(m[2]):,} rows ({share:.1%})", lim, False
        return "not reached (batch failed)", lim, None
    share = int(q) / int(rows_in) if rows_in else 0.0
    passed = None if limit is None else share <= limit
    return f"{int(q):,} of {_n(rows_in)} rows ({share:.1%})", lim, passed


def _gates_table(b: _Batch, f: _Feed) -> str:
    """The batch gates: quarantine share vs the contract's maximum, volume."""
    share, lim, ok = _quarantine_share(b, f)
    rows = [f"<tr><td class=\"gate\">quarantine share</td><td>{_e(share)}</td><td>{_e(lim)}</td>"
            f"<td>{_gate_badge(ok)}</td></tr>"]
    volume = next((r for r in b.rules if r.get("rule_id") == GATE_VOLUME), None)
    if volume is not None:
        g = f.contract.gates if f.contract else None
        allowed = (f"1/{g.volume_max_ratio:g}× to {g.volume_max_ratio:g}× the median of the last "
                   f"{g.volume_history} accepted batches" if g else "—")
        detail = f"{_n(volume.get('element_count'))} records"
        if volume.get("success") is False:
            why = [p.strip() for p in str(b.reason or "").split(";")
                   if GATE_VOLUME in p]
            detail = why[0].split(":", 1)[-1].strip() if why else detail
        rows.append(f"<tr><td class=\"gate\">volume</td><td>{_e(detail)}</td><td>{_e(allowed)}</td>"
                    f"<td>{_gate_badge(volume.get('success'))}</td></tr>")
    return _table([("gate", False), ("observed", False), ("allowed", False),
                   ("outcome", False)], rows)


def _gate_badge(ok: bool | None) -> str:
    """pass / FAILED / not evaluated for a gate."""
    if ok is None:
        return _badge("not evaluated", "muted")
    return _badge("pass", "ok") if ok else _badge("FAILED", "fail")


def _reconciliation_table(b: _Batch) -> str:
    """The batch's reconciliation checks: expected, actual, holds ✓/✗."""
    if not b.checks:
        return '<p class="muted small">No reconciliation check recorded in this run.</p>'
    order = {"landed": 0, "bronze rows = delivered": 1, "bronze rows = silver": 2}

    def rank(c: Row) -> int:
        return next((v for k, v in order.items() if str(c.get("check")).startswith(k)), 9)

    rows = [
        f'<tr class="{"" if c.get("holds") else "bad"}"><td>{_e(c.get("check"))}</td>'
        f'<td class="num">{_n(c.get("expected"))}</td><td class="num">{_n(c.get("actual"))}</td>'
        f"<td>{_holds(c.get('holds'))}</td></tr>"
        for c in sorted(b.checks, key=rank)
    ]
    return _table([("check", False), ("expected", True), ("actual", True), ("holds", False)],
                  rows)


def _rules_table(b: _Batch, f: _Feed) -> str:
    """Every rule of the batch's suite: id, column, check, action, counts and outcome."""
    rules = [r for r in b.rules if r.get("rule_id") not in (GATE_VOLUME, GATE_FRESHNESS)]
    if not rules:
        return '<p class="muted small">The quality suite did not run on this batch in this run.</p>'
    by_id = {r.id: r for r in f.contract.rules} if f.contract else {}
    order = {rid: i for i, rid in enumerate(by_id)}
    rules.sort(key=lambda r: (order.get(str(r.get("rule_id")), len(order)), str(r.get("rule_id"))))
    rows: list[str] = []
    for r in rules:
        rid = str(r.get("rule_id"))
        label, tone = _outcome(r, b.failed)
        expects = _rule_text(by_id.get(rid)) or _TABLE_RULE_TEXT.get(rid, "")
        unexpected, total = r.get("unexpected_count"), r.get("element_count")
        pct = _pct(unexpected, total)
        bar = ""
        if unexpected and total:
            width = max(2, min(60, round(60 * int(unexpected) / int(total))))
            bar = f'<span class="bar" style="width:{width}px"></span>'
        cls = "bad" if tone == "fail" else ("hit" if tone in ("warn", "quar") else "")
        action = str(r.get("action") or "")
        note = f'<div class="muted small">{_e(expects)}</div>' if expects else ""
        rows.append(
            f'<tr class="{cls}"><td><code>{_e(rid)}</code>{note}</td>'
            f"<td><code>{_e(r.get('column') or '(table)')}</code></td>"
            f"<td>{_e(r.get('check'))}</td>"
            f'<td><span class="act {_e(action)}">{_e(action)}</span></td>'
            f'<td class="num">{_n(total)}</td><td class="num">{_n(unexpected)}</td>'
            f'<td class="num">{_e(pct)}{bar}</td><td>{_badge(label, tone)}</td></tr>'
        )
    table = _table([("rule", False), ("column", False), ("check", False), ("action", False),
                    ("rows checked", True), ("unexpected", True), ("%", True),
                    ("outcome", False)], rows)
    tally = Counter(_outcome(r, b.failed)[0] for r in rules)
    summary = " · ".join(f"{n} {label}" for label, n in sorted(
        tally.items(), key=lambda kv: (kv[0] != "pass", kv[0])))
    # All passed: folded (one click away) so the batches that need a look stand out.
    state = "" if set(tally) == {"pass"} else " open"
    return (f"<details class=\"rules\"{state}><summary><h4>Quality rules "
            f"({len(rules)}: {_e(summary)})</h4></summary>{table}</details>")


def _quarantine_table(b: _Batch, counts: Counter[str] | None) -> str:
    """Quarantined rows of the batch, counted per rule (never a value)."""
    if not counts:
        if b.silver is not None and b.silver.get("quarantined"):
            return ('<p class="muted small">The quarantine table holds no row of this batch.'
                    "</p>")
        return ""
    total = counts[""]
    rows = [
        f"<tr><td><code>{_e(rid)}</code></td><td class=\"num\">{_n(n)}</td>"
        f'<td class="num">{_pct(n, total)}</td></tr>'
        for rid, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if rid
    ]
    head = (f"<h4>Quarantined rows by rule ({_n(total)} rows; a row may fail several rules)"
            "</h4>")
    return head + _table([("rule", False), ("rows", True), ("% of quarantined", True)], rows)


def _batch_section(b: _Batch, f: _Feed, quarantine: Mapping[str, Counter[str]]) -> str:
    """One batch: file, status, stages, gates, reconciliation, rules, quarantine counts."""
    label, tone = _status(b)
    d = b.delivery or {}
    file = d.get("file_name") or b.batch_id
    stage_bits: list[str] = []
    for name in ("bronze", "silver"):
        s = b.stages.get(name)
        if s is None:
            continue
        parts = [f"{_n(s.get('rows_in'))} in"]
        if s.get("rows_out") is not None:
            parts.append(f"{_n(s.get('rows_out'))} out")
        if name == "silver" and s.get("status") != "failed":
            parts += [f"{_n(s.get('duplicates'))} duplicates",
                      f"{_n(s.get('quarantined'))} quarantined"]
        st = str(s.get("status"))
        stage_bits.append(
            f"<b>{_e(name)}</b> {_badge(st, 'ok' if st == 'ok' else 'fail')} "
            f"{_e(', '.join(parts))}"
        )
    version = next((s.get("contract_version") for s in b.stages.values()
                    if s.get("contract_version")), None)
    meta = [f"batch <code>{_e(b.batch_id)}</code>"]
    if d.get("file_date"):
        meta.append(f"file date {_e(d.get('file_date'))}")
    if d.get("bytes") is not None:
        meta.append(f"{_n(d.get('bytes'))} bytes")
    if version:
        meta.append(f"contract {_e(version)}")
    reason = ""
    if b.failed and b.reason:
        parts = _reasons(b.reason)
        head = "quality gate failed" if str(b.reason).startswith("quality gate") else "failed"
        items = "".join(f"<li>{_e(p)}</li>" for p in parts)
        reason = f'<div class="reason"><b>Why it failed</b> ({_e(head)}):<ul>{items}</ul></div>'
    failed_note = ""
    if b.failed and b.silver is not None and b.silver.get("status") == "failed":
        failed_note = ('<p class="small muted">The batch failed whole: nothing of it was '
                       "quarantined or merged into silver.</p>")
    return (
        f'<div class="batch {tone}" id="{_e(_anchor(b.batch_id))}">'
        f'<div class="bhead"><span class="file">{_e(file)}</span>'
        f"{_badge(label, tone)}</div>"
        f'<div class="small muted">{" · ".join(meta)}</div>'
        f'<div class="small" style="margin-top:6px">{" &nbsp;│&nbsp; ".join(stage_bits)}</div>'
        f"{reason}{failed_note}"
        f'<div class="grid"><div><h4>Gates</h4>{_gates_table(b, f)}</div>'
        f"<div><h4>Reconciliation</h4>{_reconciliation_table(b)}</div></div>"
        f"{_rules_table(b, f)}"
        f"{_quarantine_table(b, quarantine.get(b.batch_id))}"
        "</div>"
    )


def _feed_section(f: _Feed, tables: SystemTables) -> str:
    """One feed: title, freshness gate, deliveries and every batch of the run."""
    c = f.contract
    owner = ""
    if c:
        bits = [f"contract {_e(c.version)}", f"cadence {_e(c.cadence)}"]
        if c.owner.get("steward"):
            bits.append(f"steward {_e(c.owner['steward'])}")
        if c.owner.get("agency"):
            bits.append(_e(c.owner["agency"]))
        owner = " · ".join(bits)
    fresh = ""
    if f.freshness is not None:
        ok = f.freshness.get("success")
        fresh = (f'<p class="small"><b>Freshness gate</b> {_gate_badge(ok)} '
                 f"{_e(_freshness_text(f))}</p>")
    deliveries = (f"<h4>Deliveries ({len(f.deliveries)})</h4>{_deliveries_table(f)}"
                  if f.deliveries else "")
    quarantine = tables.quarantine_counts(f.name)
    batches = "".join(_batch_section(b, f, quarantine) for b in f.batches)
    if not f.batches:
        batches = '<p class="muted">No batch was processed for this feed in this run.</p>'
    return (
        f'<section class="feed" id="{_e(f.name)}"><div class="feedhead">'
        f"<h2>{_e(_feed_title(f.name, c))}</h2>"
        f'<div class="small muted"><code>{_e(f.name)}</code>'
        f"{' · ' + owner if owner else ''}</div></div>"
        f"{fresh}{deliveries}{batches}</section>"
    )


def _publishes_section(run: _Run) -> str:
    """Publishes of the run (dataset, version, status, rows, reason)."""
    if not run.publishes:
        return ""
    tones = {"published": "ok", "up_to_date": "info", "refused": "fail"}
    rows = [
        f"<tr><td><code>{_e(p.get('dataset'))}</code></td>"
        f"<td>{_badge(str(p.get('status')), tones.get(str(p.get('status')), 'muted'))}</td>"
        f'<td class="num">{_n(p.get("version"))}</td><td class="num">{_n(p.get("rows"))}</td>'
        f"<td><code>{_e(p.get('key_id'))}</code></td><td>{_e(p.get('reason') or '')}</td></tr>"
        for p in run.publishes
    ]
    return "<h2>Publishes</h2>" + _table(
        [("dataset", False), ("status", False), ("version", True), ("rows", True),
         ("key id", False), ("reason", False)], rows)


def render_run(tables: SystemTables, run_id: str) -> str:
    """The HTML page of run ``run_id``."""
    run = _build_run(tables, run_id)
    s = run.summary()
    cards = "".join([
        _card(len(s.feeds), "feeds"),
        _card(s.batches, "batches"),
        _card(s.rows, "rows delivered"),
        _card(s.quarantined, "quarantined", "quar" if s.quarantined else "ok"),
        _card(s.failed_gates, "failed gates", "fail" if s.failed_gates else "ok"),
        _card(s.refused, "refused deliveries", "fail" if s.refused else "ok"),
        _card(s.duplicates, "resent duplicates"),
    ])
    feeds = "".join(_feed_section(f, tables) for f in run.feeds)
    if not run.feeds and not run.publishes:
        feeds = '<p class="muted">No record of this run in the system tables.</p>'
    body = (f'<div class="cards">{cards}</div>{_attention(run)}{feeds}'
            f"{_publishes_section(run)}")
    sub = (f"{_e(_time(run.at))} · <a href=\"index.html\">all runs</a>")
    return _page(f"Quality report — run {run_id}",
                 f"Data quality report — run <code>{_e(run_id)}</code>", sub, body)


def _summaries(tables: SystemTables) -> list[RunSummary]:
    """Every run in counts, newest first."""
    out = [_build_run(tables, rid).summary() for rid in tables.run_ids()]
    out.sort(key=lambda s: (_ts(s.at), s.run_id), reverse=True)
    return out


def render_index(tables: SystemTables) -> str:
    """The HTML index: one row per run, newest first, each linking to its page."""
    rows: list[str] = []
    for s in _summaries(tables):
        bad = s.failed_gates or s.refused
        status = (_badge("needs attention", "fail") if bad else
                  _badge("quarantined rows", "quar") if s.quarantined else _badge("ok", "ok"))
        link = quote(run_file_name(s.run_id))
        rows.append(
            f'<tr class="{"bad" if bad else ""}">'
            f'<td><a href="{_e(link)}" title="open the run\'s report">'
            f"<code>{_e(s.run_id)}</code> →</a></td>"
            f"<td>{_e(_time(s.at))}</td><td>{status}</td>"
            f"<td>{'<br>'.join(f'<code>{_e(f)}</code>' for f in s.feeds) or '—'}</td>"
            f'<td class="num">{_n(s.batches)}</td><td class="num">{_n(s.rows)}</td>'
            f'<td class="num">{_n(s.quarantined)}</td>'
            f'<td class="num">{_badge(str(s.failed_gates), "fail") if s.failed_gates else "0"}'
            f'</td><td class="num">{_badge(str(s.refused), "fail") if s.refused else "0"}</td>'
            "</tr>"
        )
    table = _table([("run", False), ("time", False), ("status", False), ("feeds", False),
                    ("batches", True), ("rows", True), ("quarantined", True),
                    ("failed gates", True), ("refused deliveries", True)], rows,
                   "runs")
    if not rows:
        table = '<p class="muted">No run has left records in the system tables yet.</p>'
    note = ('<p class="small muted">Failed gates: batch gates that failed (quarantine share, '
            "volume, minimum rows, rules with action <i>fail</i>), reconciliation checks that "
            "do not hold, and failed freshness gates. Rows: records delivered in the run's "
            "batches.</p>")
    return _page("Quality reports — all runs", "Data quality reports — all runs",
                 f"{len(rows)} run(s), newest first", table + note)


# --------------------------------------------------------------------------- writing


def _out_dir(root: str, out_dir: str | None) -> Path:
    """The folder the pages go to (created)."""
    path = Path(out_dir) if out_dir else Path(_local(root)) / REPORT_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write(path: Path, text: str) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically (a temporary file, then a rename)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def write_run_report(root: str, run_id: str, out_dir: str | None = None) -> Path:
    """Write the page of run ``run_id`` as ``<out_dir>/<run id>.html`` and return its path.

    ``out_dir`` defaults to ``<root>/system/reports/quality/``.
    """
    tables = SystemTables.load(root)
    return _write(_out_dir(root, out_dir) / run_file_name(run_id), render_run(tables, run_id))


def write_index(root: str, out_dir: str | None = None) -> Path:
    """Write ``<out_dir>/index.html`` (one row per run, newest first) and return its path."""
    tables = SystemTables.load(root)
    return _write(_out_dir(root, out_dir) / "index.html", render_index(tables))


def write_all(root: str, out_dir: str | None = None) -> list[Path]:
    """Regenerate every run page and the index; the index is the last path returned."""
    tables = SystemTables.load(root)
    target = _out_dir(root, out_dir)
    paths = [_write(target / run_file_name(rid), render_run(tables, rid))
             for rid in tables.run_ids()]
    paths.append(_write(target / "index.html", render_index(tables)))
    return paths


# --------------------------------------------------------------------------- PII check


def assert_no_personal_values(html_text: str, values: Iterable[str], min_length: int = 2) -> None:
    """Fail when any of ``values`` (personal data) appears in the page.

    Each value is looked for as delivered, trimmed, NFKC-normalised and upper-cased, in the
    page text and in its unescaped form. Values shorter than ``min_length`` are skipped (a
    one-character code says nothing). The error names how many values leaked and their
    positions in ``values``, never the values themselves.
    """
    haystacks = (html_text, html.unescape(html_text))
    leaked: list[int] = []
    for i, value in enumerate(values):
        forms = {value, value.strip(), unicodedata.normalize("NFKC", value).strip()}
        forms |= {f.upper() for f in forms}
        forms |= {html.escape(f, quote=True) for f in forms}
        if any(len(f) >= min_length and f in h for f in forms for h in haystacks):
            leaked.append(i)
    if leaked:
        shown = ", ".join(str(i) for i in leaked[:20])
        raise AssertionError(
            f"{len(leaked)} personal value(s) appear in the report (positions {shown})")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m quality.report <root> [out dir]``: regenerate every page and the index."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m quality.report <lakehouse root> [out dir]", file=sys.stderr)
        return 2
    paths = write_all(args[0], args[1] if len(args) > 1 else None)
    print(f"✓ {len(paths) - 1} run page(s) and {paths[-1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
