"""Row-level quality predicates derived from a feed contract, in Spark built-ins only.

The input of every function here is the *conformed* DataFrame of a feed: one column per contract
field (named ``field.name``, typed per ``field.type``; ``date`` fields are ``DateType`` and null
when the wire text was empty or an impossible date) plus, for every date field, the trimmed wire
text in ``_raw_<field>`` so that an impossible date can be told apart from an absent one.

:func:`rule_predicate` turns one :class:`~kernel.contracts.Rule` into a boolean Column that is
TRUE when the row passes (never NULL). Only ``not_null`` and ``expression`` rules reject NULLs;
every other check lets a NULL pass (absence is the business of ``not_null``).

The predicates are pure Catalyst expressions (no Python UDF), safe under ANSI mode (no cast of
unchecked text), so that Spark evaluates them in the JVM and Great Expectations can reuse them
(:mod:`quality.expectations`). The Taiwan identifier checks are built from the rules of
:mod:`kernel.twid` (letter codes, weights, shapes), whose plain-Python functions are their twins
for the Pandas engine and for cross-checking.

Reasons attached to quarantined rows name the rule, the columns and the check, never a value.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from kernel import twid
from kernel.contracts import FeedContract, Rule

RAW_PREFIX = "_raw_"
RAW_CHECKS = ("valid_date", "valid_value")
"""Checks that compare the wire text with its typed value (present text, no value: invalid)."""
RULE_IDS_COLUMN = "_rule_ids"
REASON_COLUMN = "_reason"

# Letters in the order of their codes: A=10, B=11, ..., H=17, J=18, ..., Z=33, I=34, O=35.
_LETTERS_BY_CODE = "".join(sorted(twid.LETTER_CODES, key=twid.LETTER_CODES.__getitem__))
# Weights of positions 2..10; the letter's tens and units digits weigh 1 and 9.
_PERSON_ID_WEIGHTS = twid.PERSON_ID_WEIGHTS[2:]
_BUSINESS_ID_WEIGHTS = twid.BUSINESS_ID_WEIGHTS
_PERSON_ID_FORMAT = f"^{twid.PERSON_ID_PATTERN}$"
_BUSINESS_ID_FORMAT = f"^{twid.BUSINESS_ID_PATTERN}$"


def raw_column(field_name: str) -> str:
    """The conformed column holding the normalised wire text of the typed (non-string) field
    ``field_name``."""
    return f"{RAW_PREFIX}{field_name}"


def expected_columns(contract: FeedContract) -> list[str]:
    """The columns of a conformed batch: the fields, then a raw column per date field."""
    names = [f.name for f in contract.fields]
    return names + [raw_column(f.name) for f in contract.fields if f.type != "string"]


# --- building blocks --------------------------------------------------------------------------


def _char(column: Column, position: int) -> Column:
    """The character at 1-based ``position`` (empty string past the end)."""
    return F.substring(column, position, 1)


def _digit(column: Column, position: int) -> Column:
    """The numeric value of an ASCII digit at ``position`` (meaningless if it is no digit).

    ``ascii() - 48`` instead of a cast: a cast of a non-digit raises under ANSI mode, and the
    format check that guards the result is not guaranteed to be evaluated first.
    """
    return F.ascii(_char(column, position)) - F.lit(48)


def _letter_code(letter: Column) -> Column:
    """The two-digit code (10..35) of an upper-case letter; 9 for anything else."""
    return F.instr(F.lit(_LETTERS_BY_CODE), letter) + F.lit(9)


def _weighted_sum(terms: Sequence[Column]) -> Column:
    return reduce(lambda a, b: a + b, terms)


def _null_passes(column: Column, check: Column) -> Column:
    """``check`` for a non-null value, TRUE for NULL, never NULL itself."""
    return F.when(column.isNull(), F.lit(True)).otherwise(F.coalesce(check, F.lit(False)))


# --- Taiwan identifiers -----------------------------------------------------------------------


def tw_person_id_ok(column: Column) -> Column:
    """TRUE when ``column`` is a valid Taiwan personal identifier, or NULL.

    National ID ``[A-Z][12]\\d{8}``, new resident certificate ``[A-Z][89]\\d{8}`` and old resident
    certificate ``[A-Z][A-D]\\d{8}``, check digit included: the letter's code (A10 ... O35) gives
    two digits, weighted 1 and 9, the nine following characters are weighted 8..1, 1 (a second
    letter, in the old format, counts as the units digit of its code); the sum is a multiple of 10.
    """
    code = _letter_code(_char(column, 1))
    second = _char(column, 2)
    second_value = F.when(
        second.isin("A", "B", "C", "D"), _letter_code(second) % F.lit(10)
    ).otherwise(_digit(column, 2))
    values = [second_value] + [_digit(column, p) for p in range(3, 11)]
    total = _weighted_sum(
        [F.floor(code / F.lit(10)).cast("int"), (code % F.lit(10)) * F.lit(9)]
        + [v * F.lit(w) for v, w in zip(values, _PERSON_ID_WEIGHTS, strict=True)]
    )
    well_formed = (F.length(column) == F.lit(10)) & column.rlike(_PERSON_ID_FORMAT)
    return _null_passes(column, well_formed & (total % F.lit(10) == F.lit(0)))


def tw_business_id_ok(column: Column) -> Column:
    """TRUE when ``column`` is a valid Taiwan business ID (統一編號), or NULL.

    Eight digits weighted 1,2,1,2,1,2,4,1; the digits of each product are added up. The sum is a
    multiple of 5, or, when the 7th digit is 7 (4 x 7 = 28 counts as 1 or 0), sum + 1 is.
    """
    products = [_digit(column, p) * F.lit(w) for p, w in enumerate(_BUSINESS_ID_WEIGHTS, start=1)]
    total = _weighted_sum(
        [F.floor(p / F.lit(10)).cast("int") + p % F.lit(10) for p in products]
    )
    checksum_ok = (total % F.lit(5) == F.lit(0)) | (
        (_char(column, 7) == F.lit("7")) & ((total + F.lit(1)) % F.lit(5) == F.lit(0))
    )
    well_formed = (F.length(column) == F.lit(8)) & column.rlike(_BUSINESS_ID_FORMAT)
    return _null_passes(column, well_formed & checksum_ok)


# --- the other checks -------------------------------------------------------------------------


def present_ok(column: Column) -> Column:
    """TRUE when ``column`` is neither NULL nor the empty string (the ``not_null`` check)."""
    return F.coalesce(column.isNotNull() & (column.cast("string") != F.lit("")), F.lit(False))


def valid_date_ok(raw: Column, parsed: Column) -> Column:
    """TRUE unless the wire text ``raw`` is non-empty and ``parsed`` (the date) is NULL."""
    return F.coalesce(raw.isNull() | (raw == F.lit("")) | parsed.isNotNull(), F.lit(False))


def expression_ok(expression: str) -> Column:
    """TRUE when the Spark SQL ``expression`` is TRUE; NULL counts as failing."""
    return F.coalesce(F.expr(expression).cast("boolean"), F.lit(False))


def rule_predicate(rule: Rule, contract: FeedContract) -> Column:
    """A boolean Column, TRUE when a row of the conformed batch passes ``rule`` (never NULL)."""
    if rule.check == "expression":
        if not rule.expression:
            raise ValueError(f"{contract.name}: rule {rule.id} has no expression")
        return expression_ok(rule.expression)
    if rule.column is None:
        raise ValueError(f"{contract.name}: rule {rule.id} ({rule.check}) names no column")
    column = F.col(rule.column)
    params = rule.params
    if rule.check == "not_null":
        return present_ok(column)
    if rule.check == "in_set":
        return _null_passes(column, column.isin(list(params["values"])))
    if rule.check == "regex":
        return _null_passes(column, column.rlike(str(params["pattern"])))
    if rule.check == "length_between":
        length = F.length(column)
        return _null_passes(
            column, _bounded(length, params.get("min"), params.get("max"))
        )
    if rule.check == "between":
        return _null_passes(column, _bounded(column, params.get("min"), params.get("max")))
    if rule.check in RAW_CHECKS:
        field = contract.field(rule.column)
        if field.type == "string" or (rule.check == "valid_date" and field.type != "date"):
            raise ValueError(
                f"{contract.name}: rule {rule.id}: {rule.check} on a {field.type} field")
        return valid_date_ok(F.col(raw_column(rule.column)), column)
    if rule.check == "tw_person_id":
        return tw_person_id_ok(column)
    if rule.check == "tw_business_id":
        return tw_business_id_ok(column)
    raise ValueError(f"{contract.name}: rule {rule.id}: unknown check {rule.check!r}")


def _bounded(value: Column, low: object, high: object) -> Column:
    condition = F.lit(True)
    if low is not None:
        condition = condition & (value >= F.lit(low))
    if high is not None:
        condition = condition & (value <= F.lit(high))
    return condition


# --- rule sets --------------------------------------------------------------------------------


def rule_columns(rule: Rule) -> tuple[str, ...]:
    """The columns a rule reads, as named in its contract."""
    return rule.columns or ((rule.column,) if rule.column else ())


def rule_reason(rule: Rule) -> str:
    """The quarantine reason of ``rule``: its id, columns and check, never a value."""
    return f"{rule.id}: {', '.join(rule_columns(rule))} fails {rule.check}"


def rules_with_action(contract: FeedContract, action: str) -> tuple[Rule, ...]:
    """The contract's rules (field rules, then row rules) whose action is ``action``."""
    return tuple(r for r in contract.rules if r.action == action)


def _failed(contract: FeedContract, action: str) -> Column:
    """array<struct<id, reason>> of the rules with ``action`` that the row fails."""
    rules = rules_with_action(contract, action)
    if not rules:
        return F.array().cast("array<struct<id:string,reason:string>>")
    entries = [
        F.when(
            ~rule_predicate(r, contract),
            F.struct(F.lit(r.id).alias("id"), F.lit(rule_reason(r)).alias("reason")),
        )
        for r in rules
    ]
    return F.filter(F.array(*entries), lambda x: x.isNotNull())


def failed_rules_column(contract: FeedContract, action: str) -> Column:
    """array<string>: the ids of the rules with ``action`` that the row fails (empty if none)."""
    rules = rules_with_action(contract, action)
    if not rules:
        return F.array().cast("array<string>")
    ids = [F.when(~rule_predicate(r, contract), F.lit(r.id)) for r in rules]
    return F.filter(F.array(*ids), lambda x: x.isNotNull())


def split_by_rules(df: DataFrame, contract: FeedContract) -> tuple[DataFrame, DataFrame]:
    """Split a conformed batch on the contract's ``quarantine`` rules.

    Returns ``(passing, quarantined)``: the rows that pass every quarantine rule (columns as in
    ``df``), and the others with ``_rule_ids`` (array<string>, the failed rules in contract order)
    and ``_reason`` (``"<rule id>: <columns> fails <check>"`` joined by ``"; "``). Both frames
    derive from ``df``; persist ``df`` first if both are computed.
    """
    tagged = df.withColumn("__failed", _failed(contract, "quarantine"))
    passing = tagged.where(F.size("__failed") == 0).drop("__failed")
    quarantined = (
        tagged.where(F.size("__failed") > 0)
        .withColumn(RULE_IDS_COLUMN, F.transform("__failed", lambda x: x["id"]))
        .withColumn(
            REASON_COLUMN, F.array_join(F.transform("__failed", lambda x: x["reason"]), "; ")
        )
        .drop("__failed")
    )
    return passing, quarantined


def quarantine_summary(quarantined: DataFrame, total: int | None = None, limit: int = 5) -> str:
    """One line for the steward: how many records a batch sent to quarantine, per rule with
    the first record numbers (``_source_row``), e.g. ``3 record(s) quarantined:
    national_id.check_digit (record 3); record.malformed (records 9, 11)``.

    ``quarantined`` holds ``_rule_ids`` and ``_source_row`` (the quarantine rows of one batch);
    ``total`` is their number when the caller knows it (else counted). Rule ids and record
    numbers only: never a value. Empty when nothing was quarantined."""
    rows = (quarantined.select(F.explode(RULE_IDS_COLUMN).alias("rule"), "_source_row")
            .groupBy("rule")
            .agg(F.count(F.lit(1)).alias("n"),
                 F.slice(F.array_sort(F.collect_list("_source_row")), 1, limit).alias("first"),
                 F.min("_source_row").alias("at"))
            .orderBy("at", "rule").collect())
    if not rows:
        return ""
    n = quarantined.count() if total is None else total
    parts = []
    for r in rows:
        shown = ", ".join(str(x) for x in r["first"])
        more = f" and {r['n'] - limit} more" if r["n"] > limit else ""
        parts.append(f"{r['rule']} ({'record' if r['n'] == 1 else 'records'} {shown}{more})")
    return f"{n} record(s) quarantined: " + "; ".join(parts)
