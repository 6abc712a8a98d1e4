"""A contract as the Airflow UI shows it: the ``doc_md``, tags and owner of its DAG.

The DAG files only wire (``dags/``): what a feed's or a dataset's DAG says about itself is
derived here from its contract, never restated. A feed's documentation names its owner and
steward, cadence and schedule, delivery (kind, format, encoding, file pattern or source), each
field with its type, personal-data class and masking policy, each rule with its check and
action, and the batch gates; a dataset's its audience, inputs, gates and columns with their
sources and masking. Contracts hold no data values, so neither does the documentation.

Tags: ``feed`` or ``publish``, the agency (``agency:moi``), the zone the DAG writes
(``zone:silver``, ``zone:gold``, ``zone:opendata``) and a feed's cadence.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kernel.contracts.model import DatasetContract, FeedContract, Rule

ACTIONS_NOTE = ("*warn*: counted, the row goes on; *quarantine*: the row is held back with the "
                "rule and reason; *fail*: nothing of the batch reaches silver.")
"""What each rule action does, in the documentation's words."""


def _cell(value: object) -> str:
    """A Markdown table cell: pipes escaped, newlines folded."""
    return " ".join(str(value).split()).replace("|", "\\|")


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (header, rule, rows)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _path(path: str) -> str:
    """A contract's file as ``<folder>/<file>`` (``moi/household_registry.yaml``)."""
    return "/".join(Path(path).parts[-2:])


def _rule_params(rule: Rule) -> str:
    """A rule's parameters (or expression) as ``k=v`` pairs."""
    if rule.expression:
        return f"`{rule.expression}`"
    return ", ".join(f"{k}={v}" for k, v in sorted(rule.params.items()))


def _delivery(fc: FeedContract) -> str:
    """One line: how the feed arrives."""
    d = fc.delivery
    if d.is_pull:
        source = d.options.get("endpoint") or d.options.get("table") or d.kind
        return f"pulled ({d.kind}) from `{source}`, format {d.format}"
    return (f"file drop in `inbox/{d.inbox}`, files `{d.file_pattern}` ({d.format}, "
            f"{d.encoding}) with a {d.digest} companion")


def feed_doc_md(fc: FeedContract) -> str:
    """The ``doc_md`` of feed ``fc``'s DAG (module docstring)."""
    g = fc.gates
    fields = _table(["field", "agency name", "type", "personal data", "masking"],
                    [(f"`{f.name}`", f.wire, f.type, f.pii, f.masking) for f in fc.fields])
    rules = _table(["rule", "field", "check", "parameters", "action"],
                   [(f"`{r.id}`", r.column or ", ".join(r.columns) or "row", r.check,
                     _rule_params(r), r.action) for r in fc.rules])
    gates = _table(["gate", "limit"], [
        ("quarantined share of a batch", f"at most {g.max_quarantine_share:.0%}"),
        ("records in a batch", f"at least {g.min_rows:,}"),
        ("volume", f"within {g.volume_max_ratio:g}× the median of the last "
                   f"{g.volume_history} accepted batches (from {g.volume_min_history})"),
        ("freshness", f"a delivery landed within {g.freshness_hours:g} h")])
    return "\n\n".join([
        f"## {fc.title}", " ".join(fc.description.split()),
        f"- **Owner:** {fc.owner.get('agency', '')}; steward `{fc.owner.get('steward', '')}`\n"
        f"- **Cadence:** {fc.cadence} (`{fc.schedule}`)\n"
        f"- **Delivery:** {_delivery(fc)}\n"
        f"- **Silver entity:** `{fc.entity}` (key {', '.join(fc.primary_key)})\n"
        f"- **Contract:** `{_path(fc.path)}` version {fc.version} (suite `{fc.suite_name}`)",
        "### Fields", fields, "### Rules and actions", rules, ACTIONS_NOTE,
        "### Batch gates", gates,
        "A refused delivery or a failed gate fails the `check` task with one line per problem "
        "(feed, file, reason). The Lakehouse page, the run's *Quality report* and the DAG's "
        "*Quarantine* tell the rest: counts and rule ids, never a value."])


def dataset_doc_md(dc: DatasetContract) -> str:
    """The ``doc_md`` of dataset ``dc``'s publishing DAG (module docstring)."""
    columns = _table(["column", "type", "from", "masking"],
                     [(f"`{c.name}`", c.type, ", ".join(c.source) or "derived", c.masking)
                      for c in dc.columns])
    return "\n\n".join([
        f"## {dc.title}", " ".join(dc.description.split()),
        f"- **Owner:** {dc.owner.get('agency', '')}; steward `{dc.owner.get('steward', '')}`\n"
        f"- **Audience:** {', '.join(dc.audience)}\n"
        f"- **Inputs:** {', '.join(f'`{i}`' for i in dc.inputs)} (triggered by their silver "
        "entities)\n"
        f"- **Gates:** {', '.join(dc.gates)} (every gate passes before one Delta commit)\n"
        f"- **Key:** {', '.join(dc.key)}; transform `{dc.transform}`\n"
        f"- **Contract:** `{_path(dc.path)}` version {dc.version}",
        "### Columns", columns,
        "A refused gate fails the `publish` task with its reason. The run's *Lineage report* "
        "shows the version it published."])


def feed_tags(fc: FeedContract) -> list[str]:
    """The tags of a feed's DAG: ``feed``, its agency, ``zone:silver`` and its cadence."""
    return ["feed", f"agency:{fc.agency}", "zone:silver", fc.cadence]


def dataset_tags(dc: DatasetContract, agencies: Sequence[str]) -> list[str]:
    """The tags of a publishing DAG: ``publish``, its zone and its inputs' ``agencies``."""
    return ["publish", f"zone:{dc.zone}", *(f"agency:{a}" for a in sorted(set(agencies)))]
