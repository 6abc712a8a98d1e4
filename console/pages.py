"""The console's own HTML pages: the Lakehouse overview, a feed's quarantine counts, and the
short pages that say why there is nothing to show (or who may see it).

Plain HTML with inline CSS, no script and no external resource (the pages open in the Airflow
UI's iframe, offline). Every text is escaped; links are absolute under the app's mount point
(``base``, e.g. ``/lakehouse``) or ``target="_top"`` into Airflow's own pages. The pages hold
names, ids, counts, times and recorded reasons: never a value from the data.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from urllib.parse import quote

from console.status import DatasetLine, FeedLine

CSS = """
body{font-family:"Noto Sans TC","Microsoft JhengHei",system-ui,sans-serif;margin:1.2rem;
color:#1b1f24;background:#fff}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.1rem;margin-top:1.6rem;
border-bottom:2px solid #d0d7de;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f7}td.n{text-align:right}code{font-family:ui-monospace,Consolas,monospace}
.ok{color:#116329;font-weight:600}.bad{color:#a40e26;font-weight:600}
.warn{color:#9a6700;font-weight:600}.note{color:#57606a;font-size:.85rem}
a{color:#0969da}
"""


def e(value: object) -> str:
    """``value`` as escaped HTML text (``None`` as an en dash)."""
    return "–" if value is None else html.escape(str(value), quote=True)


def q(value: str) -> str:
    """``value`` quoted as one URL path segment."""
    return quote(value, safe="")


def when(value: dt.datetime | None) -> str:
    """A time as ``YYYY-MM-DD HH:MM UTC`` (a naive one taken as UTC), or an en dash."""
    if value is None:
        return "–"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def page(title: str, body: str, who: str = "") -> str:
    """A whole page: ``title`` as its heading, ``body`` (HTML) below, ``who`` as a note."""
    signed = f'<p class="note">{e(who)}</p>' if who else ""
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}'
            f'</title><style>{CSS}</style></head><body><h1>{e(title)}</h1>{signed}{body}'
            "</body></html>")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> str:
    """A table of already-escaped cells, or a note ``empty`` when there are no rows."""
    if not rows:
        return f'<p class="note">{e(empty)}</p>'
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _outcome_class(outcome: str) -> str:
    if outcome.startswith(("refused", "gate failed")):
        return "bad"
    if outcome in ("no batch yet", "nothing new"):
        return "note"
    return "warn" if outcome.startswith("quarantined") else "ok"


def _feed_row(base: str, f: FeedLine) -> list[str]:
    fresh = {True: "ok", False: "bad", None: "warn"}[f.fresh]
    run = (f'<a href="{base}/runs/{q(f.name)}/{q(f.last_run)}/quality">{e(f.last_run)}</a>'
           if f.last_run else "–")
    outcome = f'<span class="{_outcome_class(f.outcome)}">{e(f.outcome)}</span>'
    if f.reason:
        outcome += f"<br><span class=\"note\">{e(f.reason)}</span>"
    return [f'<a href="/dags/{q(f.name)}" target="_top"><code>{e(f.name)}</code></a>'
            f"<br>{e(f.title)}", e(f.cadence), f"{e(f.last_delivery)}<br>{when(f.delivered_at)}",
            f'<span class="{fresh}">{e(f.freshness)}</span>', outcome,
            f'<a href="{base}/feeds/{q(f.name)}/quarantine">quarantine</a>', run]


def _dataset_row(base: str, d: DatasetLine) -> list[str]:
    status = {"published": "ok", "up_to_date": "ok", "never": "warn"}.get(d.last_status, "bad")
    outcome = f'<span class="{status}">{e(d.last_status)}</span>'
    if d.reason:
        outcome += f"<br><span class=\"note\">{e(d.reason)}</span>"
    lineage = (f'<a href="{base}/datasets/{q(d.name)}/lineage">lineage report</a>'
               if d.version is not None else "–")
    dag = f"publish.{d.name.split('.', 1)[1]}"
    return [f'<a href="/dags/{q(dag)}" target="_top"><code>{e(d.name)}</code></a>'
            f"<br>{e(d.title)}", e(d.version), e(d.snapshot_date or None), e(d.key_id or None),
            when(d.published_at), outcome, lineage]


def overview(base: str, feeds: Sequence[FeedLine], datasets: Sequence[DatasetLine],
             who: str) -> str:
    """The Lakehouse page: a table of feeds and a table of datasets, each row linking on."""
    feed_table = table(
        ["feed", "cadence", "last delivery", "freshness", "last batch", "quarantine",
         "last run (quality report)"], [_feed_row(base, f) for f in feeds], "no feed contract")
    data_table = table(
        ["dataset", "version", "snapshot date", "key id", "published", "last publish (gates)",
         "lineage"], [_dataset_row(base, d) for d in datasets], "no dataset contract")
    body = (f'<h2 id="feeds">Feeds</h2>{feed_table}<h2 id="datasets">Datasets</h2>{data_table}'
            '<p class="note">Counts, ids and recorded reasons only: never a value from the '
            f'data. <a href="{base}/quality/">Every run\'s quality report</a>.</p>')
    return page("Lakehouse", body, who)


def quarantine(feed: str, rows: Sequence[tuple[str, str, int]], released: dict[str, int],
               who: str, records: str | None = None) -> str:
    """A feed's quarantine: rows per batch and rule id (``""``: the batch's total), and the
    rows released per batch. Counts only; ``records`` (a steward's) is the address of the
    records page, linked from each batch and rule."""
    def link(batch: str, rule: str) -> str:
        if records is None:
            return ""
        query = f"?batch={quote(batch)}" + (f"&amp;rule={quote(rule)}" if rule else "")
        return f' <a href="{records}{query}">records</a>'

    cells = [[f"<code>{e(b)}</code>{link(b, r) if not r else ''}",
              "<b>all rules</b>" if not r else f"<code>{e(r)}</code>{link(b, r)}",
              f'<span class="n">{n:,}</span>',
              f"{released.get(b, 0):,}" if not r else ""] for b, r, n in rows]
    body = (table(["batch", "rule", "quarantined rows", "released rows"], cells,
                  f"nothing quarantined in {feed}")
            + '<p class="note">Counts only. Stewards inspect and release the records with '
            f"<code>lakehouse quarantine show|release {e(feed)}</code> (audited)"
            + (", or open them here (audited)" if records else "") + ".</p>")
    return page(f"Quarantine of {feed}", body, who)


def records(feed: str, columns: Sequence[str], rows: Sequence[dict[str, object]],
            who: str) -> str:
    """Open quarantined records as delivered: personal data, for stewards only (the caller
    audits the reading)."""
    def cell(value: object) -> str:
        if isinstance(value, list | tuple):
            return e(", ".join(str(v) for v in value))
        return e(value) if value is not None else ""

    body = ('<p class="bad">Personal data as delivered: for stewards only. This reading is '
            "recorded in the audit log.</p>"
            + table(list(columns), [[cell(r.get(c)) for c in columns] for r in rows],
                    "no open quarantined record matches"))
    return page(f"Open quarantined records of {feed}", body, who)


def message(title: str, text: str, link: tuple[str, str] | None = None) -> str:
    """A short page saying ``text`` (and offering ``link``: (href, label))."""
    more = f'<p><a href="{e(link[0])}" target="_top">{e(link[1])}</a></p>' if link else ""
    return page(title, f"<p>{e(text)}</p>{more}")
