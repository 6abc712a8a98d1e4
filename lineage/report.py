"""An auditor's lineage report: one self-contained HTML page about one published version.

The page (inline CSS and inline SVG, no script, no external resource) shows for one version of a
published dataset: its commit metadata (run id, key id, contract versions), a lineage graph from
the source deliveries to the dataset, the column lineage from agency fields with their masking,
the deliveries with their SHA-256 digests, the quality gate results and reconciliation checks of
the batches, the job runs with their durations, and how to read exactly this version.

Everything is read without Spark: Delta tables with ``deltalake``, lineage events from the JSON
lines under ``<root>/system/lineage/``. Only ids, counts, digests and rule ids are shown, never
a value from the data.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kernel import contracts
from kernel.digests import results_reference
from kernel.layout import Layout, split_table
from lineage.emit import event_lines

__all__ = ["render_lineage_report", "write_lineage_report"]

Row = dict[str, Any]


@dataclass
class _Run:
    """One job run from its lineage events."""

    job: str
    run_id: str
    start: datetime | None = None
    end: datetime | None = None
    state: str = "RUNNING"

    @property
    def duration(self) -> str:
        """COMPLETE (or FAIL) time minus START time, in seconds."""
        if self.start is None or self.end is None:
            return "–"
        return f"{(self.end - self.start).total_seconds():.3f} s"


@dataclass
class _Report:
    """Everything the page shows, gathered before rendering."""

    dataset: str
    path: str
    version: int
    latest: int
    committed: datetime
    operation: str
    meta: Row
    dc: contracts.DatasetContract
    feeds: list[contracts.FeedContract] = field(default_factory=list)
    deliveries: list[Row] = field(default_factory=list)
    batches: list[Row] = field(default_factory=list)
    quality: list[Row] = field(default_factory=list)
    reconciliation: list[Row] = field(default_factory=list)
    publishes: list[Row] = field(default_factory=list)
    runs: list[_Run] = field(default_factory=list)


def _zone_and_name(dataset: str) -> tuple[str, str]:
    """``(zone, name)`` of a dataset named ``<zone>.<name>``."""
    parts = split_table(dataset)
    if parts is None:
        raise ValueError(f"dataset must be <zone>.<name>, not {dataset!r}")
    return parts


def _history_entry(path: str, version: int | None) -> tuple[Row, int]:
    """The Delta history entry of ``version`` (default: the latest) and the latest version."""
    from deltalake import DeltaTable

    history = DeltaTable(path).history()
    latest = max(int(h["version"]) for h in history)
    wanted = latest if version is None else version
    for entry in history:
        if int(entry["version"]) == wanted:
            return entry, latest
    raise ValueError(f"{path} has no version {wanted} (versions 0..{latest})")


def _system(root: str, name: str) -> list[Row]:
    """The rows of ``<root>/system/<name>``, or none when the table does not exist."""
    from deltalake import DeltaTable

    path = Layout(root).delta_uri("system", name)
    try:
        rows: list[Row] = DeltaTable(path).to_pyarrow_table().to_pylist()
    except Exception:  # a missing system table is an empty one
        return []
    return rows


def _utc(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _before(row: Row, cutoff: datetime) -> bool:
    at = _utc(row.get("at"))
    return at is None or at <= cutoff


def _quality(root: str, meta: Row, feeds: set[str], cutoff: datetime) -> list[Row]:
    """The quality results a version was published on: those of its inputs recorded by its
    commit (a version of before the bounded reference lists their ids instead)."""
    listed = meta.get("quality_result_ids")
    rows = _system(root, "quality_results")
    if isinstance(listed, list):
        wanted = set(listed)
        return [r for r in rows if r.get("result_id") in wanted]
    return [r for r in rows if r.get("feed") in feeds and _before(r, cutoff)]


def _quality_note(meta: Row, quality: list[Row]) -> str | None:
    """The reference a version keeps to its quality results, and whether the results read now
    are exactly those (``None`` when the version keeps none)."""
    ref = meta.get("quality_results")
    if not isinstance(ref, dict):
        listed = meta.get("quality_result_ids")
        return f"{len(listed)} listed by id" if isinstance(listed, list) else None
    now = results_reference(str(r.get("result_id")) for r in quality)
    state = ("the results shown are exactly those" if now == ref else
             f"the results shown ({now['count']}) differ from those recorded at publish")
    return f"{ref.get('count')} (SHA-256 of their ids {str(ref.get('sha256'))[:16]}…): {state}"


def _runs(root: str, jobs: set[str], cutoff: datetime) -> list[_Run]:
    """The runs of ``jobs`` started by ``cutoff``, from the events kept under
    ``<root>/system/lineage/`` (:func:`lineage.emit.event_lines`; none when they went to an
    endpoint)."""
    runs: list[_Run] = []
    open_runs: dict[tuple[str, str], _Run] = {}
    for line in event_lines(root):
        if not line.strip():
            continue
        event = json.loads(line)
        job = str(event.get("job", {}).get("name", ""))
        if job not in jobs:
            continue
        run_id = str(event.get("run", {}).get("runId", ""))
        at, kind = _utc(event.get("eventTime")), str(event.get("eventType", ""))
        if kind == "START":  # a run id may be reused by a later run: a START opens a new one
            run = _Run(job, run_id, start=at)
            runs.append(run)
            open_runs[(job, run_id)] = run
        elif kind in {"COMPLETE", "FAIL", "ABORT"}:
            if (job, run_id) in open_runs:
                run = open_runs.pop((job, run_id))
            else:  # no START seen: the run is shown without a duration
                run = _Run(job, run_id)
                runs.append(run)
            run.end, run.state = at, kind
    chosen = [r for r in runs if r.start is None or r.start <= cutoff]
    return sorted(chosen, key=lambda r: (r.start or cutoff, r.job))


def _gather(root: str, dataset: str, version: int | None) -> _Report:
    zone, name = _zone_and_name(dataset)
    layout = Layout(root)
    path = layout.table(zone, name)
    entry, latest = _history_entry(layout.delta_uri(zone, name), version)
    raw = entry.get("userMetadata") or "{}"
    meta: Row = json.loads(raw) if isinstance(raw, str) else dict(raw)
    committed = datetime.fromtimestamp(int(entry["timestamp"]) / 1000, tz=UTC)
    dc = contracts.dataset(dataset)
    inputs = list((meta.get("inputs") or {}).keys()) or list(dc.inputs)
    known = {f.name for f in contracts.feeds()}
    feeds = [contracts.feed(n) for n in inputs if n in known]
    rep = _Report(dataset, path, int(entry["version"]), latest, committed,
                  str(entry.get("operation", "")), meta, dc, feeds)
    names = set(inputs)
    rep.deliveries = [r for r in _system(root, "deliveries")
                      if r.get("feed") in names and _before(r, committed)]
    rep.batches = [r for r in _system(root, "batches")
                   if r.get("feed") in names and _before(r, committed)]
    rep.quality = _quality(root, meta, names, committed)
    rep.reconciliation = [r for r in _system(root, "reconciliation")
                          if r.get("feed") in names | {dataset} and _before(r, committed)]
    rep.publishes = [r for r in _system(root, "publishes") if r.get("dataset") == dataset
                     and (r.get("version") == rep.version or r.get("version") is None)
                     and _before(r, committed)]
    jobs = {f"publish.{dataset}"} | {f"{n}.{stage}" for n in inputs
                                     for stage in ("land", "bronze", "silver")}
    rep.runs = _runs(root, jobs, committed)
    return rep


# --- Rendering ---------------------------------------------------------------------------------

_CSS = """
body{font-family:"Noto Sans TC","Microsoft JhengHei",system-ui,sans-serif;margin:2rem;
color:#1b1f24;background:#fff;max-width:1200px}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;
border-bottom:2px solid #d0d7de;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f7}code,.mono{font-family:ui-monospace,Consolas,monospace;font-size:.8rem}
.mono{word-break:break-all}.ok{color:#116329;font-weight:600}.bad{color:#a40e26;font-weight:600}.warn{color:#9a6700;font-weight:600}
.masked{background:#fff4d6;color:#7a4b00;font-weight:600;padding:0 .3rem;border-radius:3px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
dl.meta dt{font-weight:600}dl.meta dd{margin:0}
.box{border:2px solid #0969da;border-radius:6px;padding:.5rem 1rem;background:#f6f8fa}
pre{background:#fff;border:1px solid #d0d7de;padding:.5rem;overflow-x:auto}
.note{color:#57606a;font-size:.85rem}
"""


def _e(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return html.escape(str(value))


def _outcome(value: Any, action: Any = None) -> str:
    if value is None:
        return "–"
    if value:
        return '<span class="ok">pass</span>'
    if action == "quarantine":  # the rows went to quarantine; the batch itself passed
        return '<span class="warn">quarantined</span>'
    if action == "warn":
        return '<span class="warn">warned</span>'
    return '<span class="bad">FAIL</span>'


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> str:
    if not rows:
        return f'<p class="note">{html.escape(empty)}</p>'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _svg_box(x: int, y: int, w: int, lines: Sequence[str], fill: str) -> str:
    h = 14 + 16 * len(lines)
    styles = ['font-size="13" font-weight="600"', 'font-size="11" font-family="monospace"']
    text = "".join(
        f'<text x="{x + 8}" y="{y + 20 + 16 * i}" {styles[min(i, 1)]}>'
        f"{html.escape(line)}</text>"
        for i, line in enumerate(lines)
    )
    return (f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="{fill}" '
            f'stroke="#57606a"/>{text}')


def _arrow(x1: int, y1: int, x2: int, y2: int) -> str:
    return (f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#57606a" '
            f'stroke-width="1.5" marker-end="url(#arrow)"/>')


def _graph(rep: _Report) -> str:
    """The lineage graph: deliveries → bronze → silver (feed, entity) → gold, as inline SVG."""
    cols = [10, 285, 545, 825]
    width = [240, 230, 250, 200]
    parts: list[str] = []
    y = 70
    silver_right: list[tuple[int, int]] = []
    for fc in rep.feeds:
        files = [d for d in rep.deliveries if d.get("feed") == fc.name]
        top = y
        bronze_mid: list[int] = []
        for d in files or [{"file_name": "(no delivery recorded)", "sha256": ""}]:
            lines = [str(d.get("file_name")), f"sha256 {str(d.get('sha256') or '')[:12]}",
                     str(d.get("status") or "")]
            parts.append(_svg_box(cols[0], y, width[0], lines, "#ddf4ff"))
            bronze_mid.append(y + 31)
            y += 70
        block_mid = (top + y - 70) // 2 + 31
        parts.append(_svg_box(cols[1], block_mid - 23, width[1], [f"bronze/{fc.name}"], "#f6e7d3"))
        for mid in bronze_mid:
            parts.append(_arrow(cols[0] + width[0], mid, cols[1] - 2, block_mid))
        version = (rep.meta.get("inputs") or {}).get(fc.name, {}).get("silver_version")
        parts.append(_svg_box(cols[2], block_mid - 60, width[2], [f"silver/{fc.name}"],
                              "#e8e8e8"))
        parts.append(_svg_box(cols[2], block_mid + 10, width[2],
                              [f"silver/{fc.entity}", f"version {version}"], "#e8e8e8"))
        parts.append(_arrow(cols[1] + width[1], block_mid, cols[2] - 2, block_mid - 45))
        parts.append(_arrow(cols[1] + width[1], block_mid, cols[2] - 2, block_mid + 33))
        parts.append(_arrow(cols[2] + width[2] // 2, block_mid - 30, cols[2] + width[2] // 2,
                            block_mid + 8))
        silver_right.append((cols[2] + width[2], block_mid + 33))
        y = max(y, block_mid + 70) + 20
    gold_mid = max(20, (y - 20) // 2)
    parts.append(_svg_box(cols[3], gold_mid - 31, width[3],
                          [f"{rep.dc.zone}/{rep.dc.table}", f"version {rep.version}",
                           f"contract {rep.meta.get('contract_version', rep.dc.version)}"],
                          "#dafbe1"))
    for x, mid in silver_right:
        parts.append(_arrow(x, mid, cols[3] - 2, gold_mid))
    height = max(y, gold_mid + 60)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="1030" height="{height}" '
        f'viewBox="0 0 1030 {height}" aria-label="lineage graph of {_e(rep.dataset)}">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
        'fill="#57606a"/></marker></defs>' + "".join(parts) + "</svg>"
    )


def _column_rows(rep: _Report) -> list[list[str]]:
    known = {f.name: f for f in rep.feeds}
    rows = []
    for col in rep.dc.columns:
        sources = []
        for src in col.source or ("(derived)",):
            feed_name, _, fname = src.rpartition(".")
            fc = known.get(feed_name)
            if fc is not None and fname in {f.name for f in fc.fields}:
                sources.append((f"{fc.field(fname).wire} ({fname})", feed_name))
            elif src in {f.name for f in contracts.feeds()} or fc is None:
                sources.append((f"{src} (feed not onboarded)" if src != "(derived)"
                                else "(derived at publish)", src))
            else:
                sources.append((src, feed_name))
        masked = col.masking != "keep"
        flag = '<span class="masked">MASKED</span>' if masked else "not masked"
        for wire, origin in sources:
            rows.append([f"{_e(col.name)} ← {_e(wire)}", _e(origin), _e(col.masking), flag])
    return rows


def _how_to_read(rep: _Report) -> str:
    v, p, d = rep.version, rep.path, rep.dataset
    spark = (f'spark.read.format("delta").option("versionAsOf", {v}).load("{p}")')
    py = f'from deltalake import DeltaTable\nDeltaTable("{p}", version={v}).to_pyarrow_table()'
    cli = f"LAKEHOUSE_ROOT=... lakehouse lineage report {d} --version {v} --out report.html"
    return (
        '<div class="box"><h2 style="border:0;margin-top:.5rem">How to read exactly this version'
        f"</h2><p>Spark (Delta time travel):</p><pre>{_e(spark)}</pre>"
        f"<p>Python, without Spark (deltalake):</p><pre>{_e(py)}</pre>"
        f"<p>Command line (this report):</p><pre>{_e(cli)}</pre>"
        f'<p class="note">Spark SQL: <code>SELECT * FROM delta.`{_e(p)}` VERSION AS OF {v}'
        "</code></p></div>"
    )


def _render(rep: _Report) -> str:
    m = rep.meta
    inputs = m.get("inputs") or {}
    contract_versions = "; ".join(
        [f"{rep.dataset} {m.get('contract_version', rep.dc.version)}"]
        + [f"{n} {i.get('contract_version')} (silver/{i.get('entity', n)} "
           f"version {i.get('silver_version')})" for n, i in inputs.items()]
    )
    facts = [
        ("Dataset", f"{rep.dataset} — {rep.dc.title}"),
        ("Version", f"{rep.version} (latest: {rep.latest})"),
        ("Published at", m.get("published_at") or rep.committed),
        ("Committed at (Delta)", rep.committed),
        ("Snapshot date", m.get("snapshot_date")),
        ("Run id", m.get("run_id")),
        ("Key id", m.get("key_id")),
        ("Contract versions", contract_versions),
        ("Quality results", _quality_note(m, rep.quality)),
        ("Delta operation", rep.operation),
        ("Table path", rep.path),
    ]
    meta_html = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts)
    deliveries = [[_e(d.get("feed")), _e(d.get("file_name")), _e(d.get("batch_id")),
                   f'<span class="mono">{_e(d.get("sha256"))}</span>', _e(d.get("bytes")),
                   _e(d.get("status")), _e(d.get("at"))] for d in rep.deliveries]
    batches = [[_e(b.get("feed")), _e(b.get("batch_id")), _e(b.get("stage")), _e(b.get("status")),
                _e(b.get("rows_in")), _e(b.get("rows_out")), _e(b.get("duplicates")),
                _e(b.get("quarantined")), _e(b.get("contract_version"))] for b in rep.batches]
    quality = [[_e(q.get("result_id")), _e(q.get("batch_id")), _e(q.get("rule_id")),
                _e(q.get("check")), _e(q.get("action")), _e(q.get("element_count")),
                _e(q.get("unexpected_count")), _outcome(q.get("success"), q.get("action"))]
               for q in sorted(rep.quality, key=lambda q: (str(q.get("batch_id")),
                                                           str(q.get("rule_id"))))]
    recon = [[_e(r.get("feed")), _e(r.get("batch_id")), _e(r.get("check")), _e(r.get("expected")),
              _e(r.get("actual")), _outcome(r.get("holds"))] for r in rep.reconciliation]
    publishes = [[_e(p.get("version")), _e(p.get("status")), _e(p.get("rows")),
                  _e(p.get("key_id")), _e(p.get("contract_version")), _e(p.get("run_id")),
                  _e(p.get("reason")), _e(p.get("at"))] for p in rep.publishes]
    runs = [[_e(r.job), f'<span class="mono">{_e(r.run_id)}</span>', _e(r.start), _e(r.end),
             _e(r.duration), _e(r.state)] for r in rep.runs]
    return f"""<!DOCTYPE html>
<html lang="zh-Hant"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lineage report: {_e(rep.dataset)} version {rep.version}</title>
<style>{_CSS}</style></head><body>
<h1>Lineage report: {_e(rep.dataset)} version {rep.version}</h1>
<p class="note">Convergence Lakehouse, for auditors. Ids, counts, digests and rule ids only: no
value from the data and no key appears on this page.</p>
<h2>Published version</h2><dl class="meta">{meta_html}</dl>
<h2>Lineage graph</h2>{_graph(rep)}
<h2>Column lineage</h2>
{_table(["published column ← agency field (wire name)", "source", "masking", "masked"],
        _column_rows(rep), "no columns")}
<h2>Source deliveries</h2>
{_table(["feed", "file", "batch id", "SHA-256", "bytes", "status", "at"], deliveries,
        "no deliveries recorded")}
<h2>Batches</h2>
{_table(["feed", "batch id", "stage", "status", "rows in", "rows out", "duplicates",
         "quarantined", "contract"], batches, "no batches recorded")}
<h2>Quality gate results</h2>
{_table(["result id", "batch id", "rule", "check", "action", "elements", "unexpected",
         "outcome"], quality, "no quality results recorded for this version")}
<h2>Reconciliation checks</h2>
{_table(["feed", "batch id", "check", "expected", "actual", "outcome"], recon,
        "no reconciliation checks recorded")}
<h2>Publish records (system/publishes)</h2>
{_table(["version", "status", "rows", "key id", "contract", "run id", "reason", "at"], publishes,
        "no publish record")}
<h2>Runs (OpenLineage events)</h2>
{_table(["job", "run id", "start", "end", "duration", "state"], runs, "no lineage events found")}
{_how_to_read(rep)}
<p class="note">Generated {_e(datetime.now(UTC))} from {_e(rep.path)}.</p>
</body></html>
"""


def render_lineage_report(root: str, dataset: str, version: int | None = None) -> str:
    """The lineage report of ``dataset`` at ``version`` (default: the latest) under storage
    ``root``, as one HTML page (what :func:`write_lineage_report` writes; the stewards' console
    serves it). Raises as :func:`write_lineage_report` does."""
    return _render(_gather(root, dataset, version))


def write_lineage_report(root: str, dataset: str, out: str, version: int | None = None) -> Path:
    """Write the lineage report of ``dataset`` (``gold.person_coverage``) at ``version``
    (default: the latest) under storage ``root`` to the HTML file ``out``; return its path.

    Raises ``ValueError`` for a version the table does not have and ``KeyError`` for a dataset
    without a contract."""
    page = render_lineage_report(root, dataset, version)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
