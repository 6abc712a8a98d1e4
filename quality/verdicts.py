"""The gate decisions in plain Python: what a batch's rule results, counts and history decide.

:mod:`quality.gate` runs the suite on Spark with Great Expectations and :mod:`stages.gates` and
:mod:`stages.silver` read the run records; the verdicts themselves are here, without Spark or
Great Expectations, so that they are tested, and mutation-tested (``make mutation``), on plain
values:

- :class:`GateResult` and :func:`gate_success`: the batch gate (a ``fail`` rule broken, columns
  missing, too large a quarantined share, too few rows), and :meth:`GateResult.failures`, its
  messages;
- :func:`sanitize` and :func:`error_class`: only counts and an error class are read back from an
  expectation's result, never a value;
- :func:`release_passes`: a steward's release passes on its ``fail`` rules alone;
- :func:`freshness_verdict` and :func:`volume_verdict`: the gates that look beyond one batch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from numbers import Real
from typing import Any

from quality.ids import COLUMNS_RULE, GATE_QUARANTINE_SHARE, ROW_COUNT_RULE

# SUMMARY without partial values: other formats copy failing values (personal data) into results.
RESULT_FORMAT: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 0}
# The only result keys read back from Great Expectations (all numeric).
_NUMERIC_RESULT_KEYS = (
    "element_count",
    "unexpected_count",
    "unexpected_percent",
    "unexpected_percent_total",
    "unexpected_percent_nonmissing",
    "missing_count",
    "missing_percent",
    "observed_value",
)
_ERROR_CLASS = re.compile(r"^\s*\[([A-Z][A-Z0-9_.]*)\]")


@dataclass(frozen=True)
class RuleResult:
    """The outcome of one rule (or table rule) on a batch: counts only, never values."""

    rule_id: str
    column: str | None
    check: str
    action: str
    expectation: str
    element_count: int | None
    unexpected_count: int | None
    success: bool
    error: str | None = None  # the error class when the expectation raised, never its message


@dataclass(frozen=True)
class GateResult:
    """The gate's verdict on one batch of a feed."""

    suite: str
    success: bool
    rows: int
    quarantined_rows: int
    rules: list[RuleResult]
    max_quarantine_share: float = 0.2
    min_rows: int = 1
    missing_columns: list[str] = field(default_factory=list)

    @property
    def quarantine_share(self) -> float:
        """The share of rows failing at least one quarantine rule (0 for an empty batch)."""
        return self.quarantined_rows / self.rows if self.rows else 0.0

    def rule(self, rule_id: str) -> RuleResult:
        """The result of the rule ``rule_id``."""
        for r in self.rules:
            if r.rule_id == rule_id:
                return r
        raise KeyError(f"no rule {rule_id!r} in {self.suite}")

    def failures(self) -> list[str]:
        """Human-readable messages for every failed rule and gate, without any data value."""
        messages: list[str] = []
        for r in self.rules:
            if r.success:
                continue
            head = f"rule {r.rule_id} ({r.action})"
            if r.error:
                messages.append(f"{head}: could not be evaluated ({r.error})")
            elif r.rule_id == ROW_COUNT_RULE:
                messages.append(f"{head}: {self.rows} rows, fewer than {self.min_rows}")
            elif r.rule_id == COLUMNS_RULE:
                missing = ", ".join(self.missing_columns) or "?"
                messages.append(f"{head}: columns missing from the batch: {missing}")
            else:
                total = r.element_count if r.element_count is not None else self.rows
                messages.append(f"{head}: {r.unexpected_count} of {total} rows fail")
        if self.quarantine_share > self.max_quarantine_share:
            messages.append(
                f"{GATE_QUARANTINE_SHARE}: {self.quarantined_rows} of {self.rows} rows "
                f"quarantined ({self.quarantine_share:.1%} > {self.max_quarantine_share:.1%})"
            )
        return messages

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form (for run logs and the audit trail)."""
        out = asdict(self)
        out["quarantine_share"] = self.quarantine_share
        out["failures"] = self.failures()
        return out


def sanitize(result: Mapping[str, Any]) -> dict[str, Any]:
    """The numeric part of one expectation's ``result`` dict; lists, details and text dropped."""
    return {
        k: result[k]
        for k in _NUMERIC_RESULT_KEYS
        if isinstance(result.get(k), Real) and not isinstance(result.get(k), bool)
    }


def error_class(exception_info: Mapping[str, Any]) -> str | None:
    """The Spark error class of a raised expectation (e.g. ``UNRESOLVED_COLUMN``), or "error"."""
    infos = [exception_info]
    if "raised_exception" not in exception_info:  # keyed by metric id when several raised
        infos = [v for v in exception_info.values() if isinstance(v, Mapping)]
    for info in infos:
        if info.get("raised_exception"):
            match = _ERROR_CLASS.match(str(info.get("exception_message") or ""))
            return match.group(1) if match else "error"
    return None


def count(value: Any) -> int | None:
    """``value`` as an int when it is a number (not a bool), else ``None``."""
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def gate_success(
    rules: Sequence[RuleResult], missing: Sequence[str], rows: int, quarantined: int,
    max_quarantine_share: float, min_rows: int,
) -> bool:
    """The batch gate: no ``fail`` rule broken, no expected column missing, the quarantined
    share at most ``max_quarantine_share`` (0 for an empty batch) and ``min_rows`` rows."""
    failed_fail_rule = any(not r.success for r in rules if r.action == "fail")
    share = quarantined / rows if rows else 0.0
    return (not failed_fail_rule and not missing and share <= max_quarantine_share
            and rows >= min_rows)


def release_passes(gate: GateResult, released: bool) -> bool:
    """Whether a batch passes: the gate's verdict, or, for a steward's release (small by
    nature), every ``fail`` rule held whatever the share and row count."""
    return gate.success or (released and all(r.success for r in gate.rules if r.action == "fail"))


def freshness_verdict(age_hours: float | None, limit_hours: float, cadence: str
                      ) -> tuple[bool, str]:
    """The freshness gate on the age of a feed's latest landed delivery (``None``: never):
    (passed, what was observed in the words of the reports)."""
    ok = age_hours is not None and age_hours <= limit_hours
    since = ("no delivery has ever landed" if age_hours is None
             else f"the last landed {age_hours:.0f}h ago")
    return ok, f"{since} (limit {limit_hours:g}h for a {cadence} feed)"


def median(values: Sequence[float]) -> float:
    """The median of non-empty ``values`` (the mean of the middle two for an even count)."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def volume_verdict(recent: Sequence[int], rows: int, max_ratio: float, min_history: int
                   ) -> str | None:
    """The volume gate: what was observed when ``rows`` is outside 1/``max_ratio`` to
    ``max_ratio`` times the median of ``recent`` accepted batch sizes; ``None`` when within,
    or when fewer than ``min_history`` batches are known."""
    if len(recent) < min_history:
        return None
    mid = median(recent)
    ratio = rows / mid if mid else float("inf")
    if 1 / max_ratio <= ratio <= max_ratio:
        return None
    return (f"{rows:,} records, {ratio:.2g}x the median {mid:,.0f} of the "
            f"last {len(recent)} accepted batches (allowed 1/{max_ratio:g}x to "
            f"{max_ratio:g}x)")
