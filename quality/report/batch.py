"""The view of one batch on a run page: status, stages, gates, checks, rules, quarantine.

Everything is read from the batch's records (:class:`~quality.report.data.BatchRecords`) and
its feed contract. The batch gates come from their own quality results: ``gate.min_rows``
(always), ``gate.max_quarantine_share`` and ``gate.volume`` (whenever the quality suite ran). A
gate without a result is *not evaluated*: the report never reconstructs one from a failure
message.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from kernel.contracts import FeedContract, Rule
from quality.ids import (
    BATCH_GATES,
    GATE_MIN_ROWS,
    GATE_QUARANTINE_SHARE,
    GATE_VOLUME,
    RECORD_RULES,
)
from quality.report import fmt
from quality.report.badges import NOT_EVALUATED, Badge, gate_badge, holds_badge, outcome
from quality.report.data import BatchRecords, Row

TABLE_RULES = {
    "table.row_count": "the batch has at least the contract's minimum of rows",
    "table.columns": "the batch carries every column of the contract",
}
"""What the quality suite's table rules expect, in the words of the report (their ids are
``quality.suite.ROW_COUNT_RULE`` and ``COLUMNS_RULE``)."""

_CHECK_TEXTS = {
    "not_null": "a value is present",
    "valid_date": "a valid date",
    "valid_value": "a valid value of the field's type",
    "tw_person_id": "a valid Taiwan person id (check digit)",
    "tw_business_id": "a valid Taiwan business id (check digit)",
}
_CHECK_ORDER = ("landed", "bronze rows = delivered", "bronze rows = silver")
"""Reconciliation checks in pipeline order (by the start of their text)."""
_SHOWN_IN_HEADLINE = 3


@dataclass(frozen=True)
class StageLine:
    """A stage's outcome on the batch: status and counts in words."""

    name: str
    status: Badge
    counts: str


@dataclass(frozen=True)
class GateLine:
    """A batch gate: what was observed, what the contract allows, and the outcome."""

    gate_id: str
    label: str
    observed: str
    allowed: str
    outcome: Badge


@dataclass(frozen=True)
class CheckLine:
    """A reconciliation check: expected and actual counts, and whether it holds."""

    check: str
    expected: int | None
    actual: int | None
    holds: Badge
    ok: bool


@dataclass(frozen=True)
class RuleLine:
    """A quality rule of the batch's suite, with its counts and outcome."""

    rule_id: str
    expects: str
    """What the rule expects, from the contract (never from the data); may be empty."""
    column: str
    check: str
    action: str
    rows: int | None
    unexpected: int | None
    share: str
    bar: int
    """The width (px) of the share's bar, 0 for none."""
    outcome: Badge

    @property
    def row_class(self) -> str:
        """``bad`` for a failed rule, ``hit`` for a warning or quarantine, else empty."""
        tone = self.outcome.tone
        return "bad" if tone == "fail" else ("hit" if tone in ("warn", "quar") else "")


@dataclass(frozen=True)
class RulesBlock:
    """The batch's quality rules, with a tally of their outcomes."""

    lines: list[RuleLine]
    tally: str
    """``3 pass · 1 quarantined``: passing first."""
    open: bool
    """Shown unfolded: some rule did not pass."""


@dataclass(frozen=True)
class QuarantineLine:
    """Quarantined rows of the batch that fail one rule."""

    rule_id: str
    rows: int
    share: str


@dataclass(frozen=True)
class QuarantineBlock:
    """Quarantined rows of the batch counted per rule (never a value)."""

    total: int
    lines: list[QuarantineLine]

    @property
    def missing(self) -> bool:
        """The run quarantined rows of the batch, but the quarantine table holds none."""
        return self.total == 0


@dataclass(frozen=True)
class BatchView:
    """What one run did to one batch of a feed."""

    batch_id: str
    anchor: str
    file: str
    status: Badge
    meta: list[str]
    """File date, size and contract version, in words."""
    stages: list[StageLine]
    failure_head: str | None
    """``quality gate failed`` or ``failed`` when the batch failed with a recorded reason."""
    failure_parts: list[str]
    """The recorded reason's parts, as the pipeline joined them with ``; ``."""
    failed_whole: bool
    """The silver stage failed: nothing of the batch was quarantined or merged."""
    gates: list[GateLine]
    checks: list[CheckLine]
    rules: RulesBlock | None
    quarantine: QuarantineBlock | None


# --------------------------------------------------------------------------- facts


def failed_gates(b: BatchRecords) -> list[str]:
    """What a batch failed, by name: the gates and ``fail`` rules whose result did not
    succeed, the reconciliation checks that do not hold, else ``stage failed`` for a failed
    batch with neither."""
    failed = [rid for rid, r in b.results.items() if r.get("success") is False
              and (rid in BATCH_GATES or r.get("action") == "fail")]
    failed += [f"reconciliation: {c.get('check')}" for c in b.checks if c.get("holds") is False]
    if b.failed and not failed:
        failed.append("stage failed")
    return failed


def _observed(result: Row) -> str:
    """What a gate observed, as it recorded it in its ``check``."""
    return str(result.get("check") or "").removeprefix(f"{GATE_VOLUME}: ")


def reasons(reason: str | None) -> list[str]:
    """A recorded stage reason in its parts: the pipeline joins them with ``; `` after
    ``quality gate failed: ``."""
    text = str(reason or "")
    head, sep, rest = text.partition(": ")
    if sep and head == "quality gate failed":
        text = rest
    return [part.strip() for part in text.split("; ") if part.strip()]


def headline(b: BatchRecords) -> str:
    """Why a failed batch failed, in one line: its failed gates (what they observed), ``fail``
    rules and reconciliation checks (the first few, ``(+N more)``); for a batch recorded
    before the gates had results, the first part of its recorded reason."""
    items = [f"{rid}: {_observed(r)}" if rid in BATCH_GATES else
             f"{rid}: {fmt.count(r.get('unexpected_count'))} of "
             f"{fmt.count(r.get('element_count'))} rows fail"
             for rid, r in b.results.items() if r.get("success") is False
             and (rid in BATCH_GATES or r.get("action") == "fail")]
    items += [f"reconciliation: {c.get('check')} does not hold"
              for c in b.checks if c.get("holds") is False]
    items = items or reasons(b.reason)[:1] or ["the batch failed (no reason recorded)"]
    more = len(items) - _SHOWN_IN_HEADLINE
    return "; ".join(items[:_SHOWN_IN_HEADLINE]) + (f" (+{more} more)" if more > 0 else "")


def status(b: BatchRecords) -> Badge:
    """The batch's overall status: FAILED, in bronze / landed (not in silver yet), ok with
    quarantined rows, ok with warnings, or ok."""
    if b.failed:
        return Badge("FAILED", "fail")
    silver = b.silver
    if silver is None:
        return Badge("in bronze", "info") if "bronze" in b.stages else Badge("landed", "info")
    if silver.get("quarantined"):
        return Badge(f"ok · {int(silver['quarantined']):,} quarantined", "quar")
    if any(r.get("action") == "warn" and r.get("success") is False for r in b.results.values()):
        return Badge("ok · warnings", "warn")
    return Badge("ok", "ok")


# --------------------------------------------------------------------------- gates


def _gate(b: BatchRecords, gate_id: str, label: str, allowed: str, observed: str) -> GateLine:
    """A gate's line: ``observed`` when the batch has its result, else *not evaluated*."""
    result = b.results.get(gate_id)
    if result is None:
        return GateLine(gate_id, label, "not reached (batch failed)" if b.failed else fmt.DASH,
                        allowed, NOT_EVALUATED)
    return GateLine(gate_id, label, observed, allowed, gate_badge(result.get("success")))


def gates(b: BatchRecords, c: FeedContract | None) -> list[GateLine]:
    """The batch gates from their results: minimum rows (when recorded), quarantine share and
    volume, each against the contract's limit."""
    g = c.gates if c else None
    lines: list[GateLine] = []
    if GATE_MIN_ROWS in b.results:
        n = b.results[GATE_MIN_ROWS].get("element_count")
        lines.append(_gate(b, GATE_MIN_ROWS, "minimum rows",
                           f"≥ {g.min_rows:,} records" if g else fmt.DASH,
                           f"{fmt.count(n)} records"))
    share = b.results.get(GATE_QUARANTINE_SHARE) or {}
    rows, quarantined = share.get("element_count"), share.get("unexpected_count")
    ratio = int(quarantined or 0) / int(rows) if rows else 0.0
    lines.append(_gate(b, GATE_QUARANTINE_SHARE, "quarantine share",
                       f"≤ {g.max_quarantine_share:.1%}" if g else fmt.DASH,
                       f"{fmt.count(quarantined)} of {fmt.count(rows)} rows ({ratio:.1%})"))
    volume = b.results.get(GATE_VOLUME) or {}
    observed = _observed(volume)
    if observed in ("", "volume"):  # recorded before the gate recorded what it observed
        observed = f"{fmt.count(volume.get('element_count'))} records"
    lines.append(_gate(b, GATE_VOLUME, "volume",
                       f"1/{g.volume_max_ratio:g}× to {g.volume_max_ratio:g}× the median of the "
                       f"last {g.volume_history} accepted batches" if g else fmt.DASH, observed))
    return lines


# --------------------------------------------------------------------------- checks and rules


def checks(b: BatchRecords) -> list[CheckLine]:
    """The batch's reconciliation checks, in pipeline order."""
    def rank(c: Row) -> int:
        return next((i for i, k in enumerate(_CHECK_ORDER) if str(c.get("check")).startswith(k)),
                    len(_CHECK_ORDER))

    return [CheckLine(check=str(c.get("check")), expected=c.get("expected"),
                      actual=c.get("actual"), holds=holds_badge(c.get("holds")),
                      ok=bool(c.get("holds")))
            for c in sorted(b.checks, key=rank)]


def rule_text(rule: Rule | None) -> str:
    """What a contract rule expects, in a few words (its description, else worded from its
    check and parameters); empty for no rule."""
    if rule is None:
        return ""
    if rule.description:
        return rule.description
    p = rule.params
    worded = {
        "in_set": lambda: "one of " + ", ".join(str(v) for v in p.get("values", ())),
        "regex": lambda: f"matches {p.get('pattern')}",
        "length_between": lambda: f"length {p.get('min')}–{p.get('max')}",
        "between": lambda: f"between {p.get('min')} and {p.get('max')}",
    }
    if rule.check in worded:
        return worded[rule.check]()
    return _CHECK_TEXTS.get(rule.check, rule.check)


def _rule_line(r: Row, expects: str, batch_failed: bool) -> RuleLine:
    """One rule's line from its quality result."""
    unexpected, rows = r.get("unexpected_count"), r.get("element_count")
    bar = max(2, min(60, round(60 * int(unexpected) / int(rows)))) if unexpected and rows else 0
    return RuleLine(rule_id=str(r.get("rule_id")), expects=expects,
                    column=str(r.get("column") or "(table)"), check=str(r.get("check")),
                    action=str(r.get("action") or ""), rows=rows, unexpected=unexpected,
                    share=fmt.pct(unexpected, rows), bar=bar,
                    outcome=outcome(r, batch_failed))


def rules(b: BatchRecords, c: FeedContract | None) -> RulesBlock | None:
    """The batch's quality rules (the batch gates aside) in contract order, or ``None`` when
    the suite did not run on the batch in the run."""
    by_id = {r.id: r for r in c.rules} if c else {}
    order = {rid: i for i, rid in enumerate(by_id)}
    results = sorted((r for rid, r in b.results.items() if rid not in BATCH_GATES),
                     key=lambda r: (order.get(str(r.get("rule_id")), len(order)),
                                    str(r.get("rule_id"))))
    if not results:
        return None
    lines = []
    for r in results:
        rid = str(r.get("rule_id"))
        expects = rule_text(by_id.get(rid)) or TABLE_RULES.get(rid) or RECORD_RULES.get(rid, "")
        lines.append(_rule_line(r, expects, b.failed))
    tally = Counter(line.outcome.label for line in lines)
    worded = " · ".join(f"{n} {label}" for label, n in sorted(
        tally.items(), key=lambda kv: (kv[0] != "pass", kv[0])))
    return RulesBlock(lines=lines, tally=worded, open=set(tally) != {"pass"})


def quarantine(b: BatchRecords, counts: Counter[str] | None) -> QuarantineBlock | None:
    """Quarantined rows of the batch per rule, most first (the key ``""`` of ``counts`` is
    the total); an empty block when the run quarantined rows the table does not hold; ``None``
    when there is nothing to show."""
    if not counts:
        quarantined = b.silver is not None and bool(b.silver.get("quarantined"))
        return QuarantineBlock(0, []) if quarantined else None
    total = counts[""]
    return QuarantineBlock(total, [
        QuarantineLine(rid, n, fmt.pct(n, total))
        for rid, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if rid])


# --------------------------------------------------------------------------- the batch


def _stages(b: BatchRecords) -> list[StageLine]:
    """The bronze and silver stages' outcomes and counts."""
    lines: list[StageLine] = []
    for name in ("bronze", "silver"):
        s = b.stages.get(name)
        if s is None:
            continue
        parts = [f"{fmt.count(s.get('rows_in'))} in"]
        if s.get("rows_out") is not None:
            parts.append(f"{fmt.count(s.get('rows_out'))} out")
        if name == "silver" and s.get("status") != "failed":
            parts += [f"{fmt.count(s.get('duplicates'))} duplicates",
                      f"{fmt.count(s.get('quarantined'))} quarantined"]
        st = str(s.get("status"))
        lines.append(StageLine(name, Badge(st, "ok" if st == "ok" else "fail"), ", ".join(parts)))
    return lines


def _meta(b: BatchRecords) -> list[str]:
    """The batch's file date, size and contract version, in words."""
    d = b.delivery or {}
    meta: list[str] = []
    if d.get("file_date"):
        meta.append(f"file date {d['file_date']}")
    if d.get("bytes") is not None:
        meta.append(f"{fmt.count(d['bytes'])} bytes")
    version = next((s.get("contract_version") for s in b.stages.values()
                    if s.get("contract_version")), None)
    if version:
        meta.append(f"contract {version}")
    return meta


def batch_view(b: BatchRecords, c: FeedContract | None, counts: Counter[str] | None,
               anchor: str) -> BatchView:
    """The view of one batch: ``c`` is its feed's contract (if known), ``counts`` its
    quarantined rows per rule, ``anchor`` its section's in-page anchor."""
    explained = b.failed and bool(b.reason)
    head = None
    if explained:
        head = "quality gate failed" if str(b.reason).startswith("quality gate") else "failed"
    return BatchView(
        batch_id=b.batch_id, anchor=anchor,
        file=str((b.delivery or {}).get("file_name") or b.batch_id),
        status=status(b), meta=_meta(b), stages=_stages(b),
        failure_head=head, failure_parts=reasons(b.reason) if explained else [],
        failed_whole=b.failed and (b.silver or {}).get("status") == "failed",
        gates=gates(b, c), checks=checks(b), rules=rules(b, c),
        quarantine=quarantine(b, counts),
    )
