"""The ids under which the pipeline records its gates, record rules and reconciliation checks.

Contract rules carry their own ids (``national_id.check_digit``); these are the lakehouse's own,
the same for every feed. The stages record them (``system/quality_results``,
``system/reconciliation``), the reports and tests read them: this module is their one home.
"""

from __future__ import annotations

# Record rules: a record quarantined before any contract rule could run.
RULE_MALFORMED = "record.malformed"
"""The record does not split into the contract's fields, or holds a control character."""
RULE_REPEATED_HEADER = "record.repeated_header"
"""A CSV header repeated inside the file (extracts concatenated): not a record."""
RULE_DRIFT = "schema.drift"
"""A delivery brought a field the contract does not know, or lacks an optional one (a warning)."""

# Table rules of every feed's suite (quality.suite), beside the contract's own rules.
ROW_COUNT_RULE = "table.row_count"
"""The batch has at least ``gates.min_rows`` rows."""
COLUMNS_RULE = "table.columns"
"""The batch has every conformed column of the contract."""
TABLE_RULE_ACTION = "fail"
"""What a broken table rule does: it fails the batch."""

# Batch gates (one quality result per batch, or per run for freshness).
GATE_MIN_ROWS = "gate.min_rows"
"""A batch has fewer records than the contract's minimum."""
GATE_QUARANTINE_SHARE = "gate.max_quarantine_share"
"""A batch's share of quarantined records exceeds the contract's maximum."""
GATE_VOLUME = "gate.volume"
"""A batch far above or below the median of the feed's recent accepted batches."""
GATE_FRESHNESS = "gate.freshness"
"""Nothing landed for the feed within its freshness limit."""
BATCH_GATES = (GATE_MIN_ROWS, GATE_QUARANTINE_SHARE, GATE_VOLUME, GATE_FRESHNESS)

RECORD_RULES = {
    RULE_MALFORMED: "the record splits into the contract's fields",
    RULE_REPEATED_HEADER: "the record is not the header repeated",
}
"""What each record rule expects, in the words of the reports."""

# Reconciliation checks (``system/reconciliation``: expected and actual counts per batch).
CHECK_LANDED = "landed bytes = delivered bytes"
CHECK_BRONZE = "bronze rows = delivered records"
CHECK_DECLARED = "bronze rows = records the delivery declares"
CHECK_SILVER = "bronze rows = silver + quarantined + duplicates"
