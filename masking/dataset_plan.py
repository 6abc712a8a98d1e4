"""The masking plan of a published dataset, derived from its contract, and its application.

A dataset contract names, for each published column, a masking policy and the feed fields the
column comes from (``source: [feed.field, ...]``). :func:`dataset_plan` derives from them, for
every column, its policy and its *input* (the candidate column the policy reads); nothing is
restated by hand:

- ``keep``: the input is the column itself. The transform computes it (a business column:
  a flag, an amount, a count) and hands it over under its published name.
- a transforming policy (``pseudonymize``, ``generalize_*``, ``mask_partial``,
  ``scan_free_text``): the input is the field name shared by all the column's sources
  (``person_key`` ← ``national_id``, ``birth_year`` and ``age_band`` ← ``birth_date``, ``county``
  ← ``address``, ``insured_salary_band`` ← ``insured_salary``, ``death_month`` ←
  ``death_date``, ``remark_masked`` ← ``remark``). Sources that share no field name
  (``gold.dual_enrollment``'s ``month``: ``eligible_from``, ``eligible_until``, ``action_date``)
  give no input.
- ``generalize_band``: a column whose name ends with ``<s>`` for a contract option
  ``<s>_edges`` (the longest such ``<s>``; ``insured_salary_band`` ← ``salary_band_edges``) bands
  a number at those edges (:func:`masking.generalize.edges_band`, labels
  :func:`masking.generalize.band_labels`). Any other ``generalize_band`` column is a 5-year age
  band (:data:`kernel.twid.AGE_BANDS`) of a date of birth, the age taken at the snapshot date
  (:func:`masking.generalize.age_band`).
- ``drop`` publishes nothing: a dataset column cannot name it.

:func:`apply_dataset_plan` then decides, per column, from what the transform hands over:

- **apply**: the candidate holds the input: the plan computes the published column with the
  policy's one implementation (:mod:`masking.pseudonymize`, :mod:`masking.generalize`,
  :mod:`masking.freetext`).
- **check**: the candidate holds the column in its published form, and not its input. That is
  the case of a column whose sources share no field name, and of a transform that must
  generalise before aggregating (the open-data counts by county, age band and month, generalised
  with the very same functions of :mod:`masking.generalize`). The plan checks that every value
  conforms to its policy (:func:`conforms`) and has the contract's type; a non-conforming column
  refuses the publish (:class:`PlanRefusal`) with the column and a count, never a value. What
  cannot be verified from a value is never checked: a keyed pseudonym looks like an unkeyed
  SHA-256, so a ``pseudonymize`` column with an input is always computed here, and
  ``mask_partial`` and ``scan_free_text`` always need their input.
- both the input and the published column, or neither: refused (a transform does not restate
  the masking).

Free text is scrubbed by Presidio (:func:`masking.freetext.scrub`, the one Python UDF), with the
record's known names: the candidate's columns that are personal name fields of the inputs' feed
contracts (``name`` of ``moi.household_registry``). A transform must hand at least one over when
the inputs have any. Every other policy runs on Spark built-ins.

The result has exactly the contract's columns, in order, cast to the contract's types
(:func:`to_contract`); every other candidate column (the raw inputs included) is dropped. A
generalised value that is unknown stays null, or is the contract option ``unknown_label``
(``不詳``) where the transform produced it; nulls always conform. Importing this module does not
import Presidio.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DataType, DateType, NumericType, StringType, TimestampType

from kernel import contracts
from kernel.contracts import DatasetColumn, DatasetContract
from kernel.text import normalise_identifier
from kernel.twid import AGE_BANDS, COUNTIES
from masking.generalize import (
    age_band,
    band_labels,
    county,
    edges_band,
    first_of_month,
    mask_partial,
)
from masking.keys import PseudonymKey
from masking.plan import is_account, known_name_fields
from masking.pseudonymize import IPAD_COLUMN, OPAD_COLUMN, hmac_hex, with_key

UNKNOWN_OPTION = "unknown_label"
"""Contract option: the label of an unknown generalised value (``不詳``), accepted by checks."""
EDGES_SUFFIX = "_edges"
CHECKABLE = frozenset(
    {"pseudonymize", "generalize_year", "generalize_month", "generalize_county",
     "generalize_band"}
)  # fmt: skip
"""The policies whose published form a value can be checked against."""
PSEUDONYM_PATTERN = "^[0-9a-f]{64}$"
_DATES = (DateType, TimestampType)
_TYPE_NAMES = {"long": "bigint", "integer": "int", "short": "smallint", "byte": "tinyint"}


class PlanRefusal(ValueError):
    """The candidate does not fit its dataset's masking plan: the publish is refused.

    ``problems`` holds ``(column, reason)`` pairs; a reason names counts, never values."""

    def __init__(self, dataset: str, problems: Sequence[tuple[str, str]]) -> None:
        self.dataset = dataset
        self.problems = tuple(problems)
        super().__init__(f"{dataset}: " + "; ".join(f"{c}: {r}" for c, r in self.problems))


@dataclass(frozen=True)
class ColumnPlan:
    """How one published column is masked."""

    name: str
    type: str
    policy: str
    input: str | None
    """The candidate column the policy reads (the column itself for ``keep``); ``None`` when the
    sources share no field name (the column is then handed over in published form)."""
    edges: tuple[int, ...] | None = None
    """``generalize_band`` of a number: the band edges (``None``: 5-year age bands)."""

    def bands(self) -> tuple[str, ...]:
        """The labels a ``generalize_band`` column may hold."""
        return tuple(band_labels(self.edges)) if self.edges else AGE_BANDS


def shared_field(sources: Sequence[str]) -> str | None:
    """The field name shared by every ``feed.field`` of ``sources`` (``None`` if none is)."""
    names = {s.rpartition(".")[2] for s in sources}
    return names.pop() if len(names) == 1 else None


def band_edges(contract: DatasetContract, column: str) -> tuple[int, ...] | None:
    """The edges of option ``<s>_edges`` for the longest ``<s>`` that ends ``column`` (at a
    ``_`` boundary), or ``None``."""
    found = [
        k[: -len(EDGES_SUFFIX)]
        for k in contract.options
        if k.endswith(EDGES_SUFFIX)
        and (column == k[: -len(EDGES_SUFFIX)] or column.endswith("_" + k[: -len(EDGES_SUFFIX)]))
    ]
    if not found:
        return None
    edges = tuple(int(e) for e in contract.options[max(found, key=len) + EDGES_SUFFIX])
    band_labels(edges)  # refuses edges that are not strictly increasing
    return edges


def _column_plan(contract: DatasetContract, c: DatasetColumn) -> ColumnPlan:
    if c.masking == "drop":
        raise PlanRefusal(contract.name, [(c.name, "a published column cannot be dropped")])
    if c.masking == "keep":
        return ColumnPlan(c.name, c.type, c.masking, c.name)
    source = shared_field(c.source)
    if source is None and c.masking not in CHECKABLE:
        raise PlanRefusal(contract.name, [(c.name, f"{c.masking} needs an input, but its "
                                           "sources share no field name")])
    edges = band_edges(contract, c.name) if c.masking == "generalize_band" else None
    return ColumnPlan(c.name, c.type, c.masking, source, edges)


def dataset_plan(contract: DatasetContract) -> tuple[ColumnPlan, ...]:
    """Every column's policy and input, in contract order (the rules of the module docstring).

    Raises :class:`PlanRefusal` for a column the rules cannot mask."""
    return tuple(_column_plan(contract, c) for c in contract.columns)


# -------------------------------------------------------------------------------- shaping
def to_contract(df: DataFrame, contract: DatasetContract) -> DataFrame:
    """``df`` reduced to the contract's columns, in order, cast to the contract's types (raises
    :class:`ValueError` naming the columns ``df`` lacks)."""
    missing = [c.name for c in contract.columns if c.name not in df.columns]
    if missing:
        raise ValueError(f"{contract.name}: the transform produced no column(s) {missing}")
    return df.select(*[F.col(c.name).cast(c.type).alias(c.name) for c in contract.columns])


def _has_type(dtype: DataType, contract_type: str) -> bool:
    """``dtype`` is the contract's type (``long`` is Spark's ``bigint``)."""
    want = _TYPE_NAMES.get(contract_type, contract_type)
    got = dtype.simpleString()
    return got == want or (want == "decimal" and got.startswith("decimal("))


# -------------------------------------------------------------------------------- checks
def conforms(plan: ColumnPlan, value: Column, unknown: str | None = None) -> Column:
    """True when ``value`` is in the published form of ``plan``'s policy: a pseudonym is 64
    lowercase hex digits, a year 1 to 9999, a month its first day, a county one of
    :data:`kernel.twid.COUNTIES` (臺 form), a band one of :meth:`ColumnPlan.bands`; a county or
    band may be ``unknown``. Null conforms (it discloses nothing)."""
    extra = (unknown,) if unknown is not None else ()
    policy = plan.policy
    if policy == "pseudonymize":
        ok = value.rlike(PSEUDONYM_PATTERN)
    elif policy == "generalize_year":
        ok = value.between(1, 9999)
    elif policy == "generalize_month":
        ok = F.dayofmonth(value) == 1
    elif policy == "generalize_county":
        ok = value.isin(*COUNTIES, *extra)
    elif policy == "generalize_band":
        ok = value.isin(*plan.bands(), *extra)
    else:
        raise ValueError(f"{plan.name}: {policy} has no published form to check")
    return value.isNull() | F.coalesce(ok, F.lit(False))


def _mode(plan: ColumnPlan, columns: set[str]) -> tuple[str | None, str | None]:
    """``(mode, problem)``: ``keep``, ``apply`` or ``check``, or why neither fits."""
    if plan.policy == "keep" or plan.input == plan.name:
        mode = "keep" if plan.policy == "keep" else "apply"
        return (mode, None) if plan.name in columns else (None, "the transform does not hand "
                                                                 "it over")
    has_input = plan.input is not None and plan.input in columns
    if has_input and plan.name in columns:
        return None, (f"handed over both as {plan.input} and in published form: the plan "
                      f"derives it ({plan.policy}), a transform does not restate it")
    if has_input:
        return "apply", None
    if plan.name not in columns:
        wanted = f"{plan.input} (its input) or " if plan.input else ""
        return None, f"the transform hands over neither {wanted}{plan.name}"
    if plan.policy == "pseudonymize" and plan.input is not None:
        return None, (f"handed over in published form: a keyed pseudonym cannot be verified "
                      f"from its value; hand over {plan.input}")
    if plan.policy not in CHECKABLE:
        return None, f"{plan.policy} cannot be checked; hand over {plan.input}"
    return "check", None


def _modes(plans: Sequence[ColumnPlan], candidate: DataFrame, dataset: str) -> dict[str, str]:
    """Each column's mode; refuses every column without one, and checked columns that do not
    have the contract's type."""
    columns = set(candidate.columns)
    modes, problems = {}, []
    for p in plans:
        mode, problem = _mode(p, columns)
        dtype = candidate.schema[p.name].dataType if p.name in columns else None
        if mode == "check" and dtype is not None and not _has_type(dtype, p.type):
            mode, problem = None, (f"handed over as {dtype.simpleString()}, its published type "
                                   f"is {p.type}")
        if mode is None:
            problems.append((p.name, str(problem)))
        else:
            modes[p.name] = mode
    if problems:
        raise PlanRefusal(dataset, problems)
    return modes


def check_published_form(
    candidate: DataFrame, plans: Sequence[ColumnPlan], contract: DatasetContract
) -> None:
    """Refuse (:class:`PlanRefusal`, counts only) when a value of ``plans``' columns of
    ``candidate`` does not conform to its policy (one aggregation over ``candidate``)."""
    if not plans:
        return
    unknown = contract.options.get(UNKNOWN_OPTION)
    label = None if unknown is None else str(unknown)
    bad = [
        F.sum((~conforms(p, F.col(p.name), label)).cast("long")).alias(p.name) for p in plans
    ]
    row = candidate.agg(*bad).first()
    counts = {p.name: int((row[p.name] if row else 0) or 0) for p in plans}
    problems = [
        (p.name, f"{counts[p.name]} row(s) not in the published form of {p.policy}")
        for p in plans
        if counts[p.name]
    ]
    if problems:
        raise PlanRefusal(contract.name, problems)


# -------------------------------------------------------------------------------- apply
def _input_problem(plan: ColumnPlan, dtype: DataType) -> str | None:
    """Why the input's type does not fit the policy (``None`` when it does)."""
    policy, kind = plan.policy, dtype.simpleString()
    if policy in ("generalize_year", "generalize_month") or (
        policy == "generalize_band" and plan.edges is None
    ):
        if not isinstance(dtype, _DATES):
            return f"{policy} reads a date; its input {plan.input} is {kind}"
    elif policy == "generalize_band" and not isinstance(dtype, NumericType):
        return f"banding at edges reads a number; its input {plan.input} is {kind}"
    elif policy in ("generalize_county", "scan_free_text") and not isinstance(dtype, StringType):
        return f"{policy} reads text; its input {plan.input} is {kind}"
    return None


def _applied(plan: ColumnPlan, value: Column, snapshot_date: date) -> Column:
    """The published value of ``plan``'s column from its input ``value``."""
    policy = plan.policy
    if policy == "pseudonymize":
        return hmac_hex(normalise_identifier(value.cast("string")))
    if policy == "mask_partial":
        return mask_partial(value, account=is_account(str(plan.input)))
    if policy == "generalize_year":
        return F.year(value)
    if policy == "generalize_month":
        return first_of_month(value)
    if policy == "generalize_county":
        return county(value)
    if policy == "generalize_band":
        if plan.edges is not None:
            return edges_band(value, plan.edges)
        return age_band(value, F.lit(snapshot_date).cast("date"))
    return value  # keep; scan_free_text (scrubbed before)


def _scrubbed(candidate: DataFrame, contract: DatasetContract,
              free_text: Sequence[ColumnPlan]) -> DataFrame:
    """``candidate`` with ``_scrubbed_<column>`` = the scrubbed input of each free-text column,
    the record's known names passed to the scrub."""
    if not free_text:
        return candidate
    from masking.freetext import KNOWN_NAMES_COLUMN, scrub

    fields = sorted({n for f in contract.inputs for n in known_name_fields(contracts.feed(f))})
    names = [n for n in fields if n in candidate.columns]
    if fields and not names:
        raise PlanRefusal(contract.name, [(p.name, f"free text is scrubbed with the record's "
                                           f"known names: hand over one of {fields}")
                                          for p in free_text])
    out = candidate
    if names:
        out = out.withColumn(KNOWN_NAMES_COLUMN, F.array(*[F.col(n).cast("string")
                                                          for n in names]))
    for p in free_text:
        out = out.withColumn(f"_scrubbed_{p.name}", F.col(str(p.input)))
        out = scrub(out, f"_scrubbed_{p.name}", KNOWN_NAMES_COLUMN if names else None)
    return out


def apply_dataset_plan(
    candidate: DataFrame, contract: DatasetContract, key: PseudonymKey, snapshot_date: date
) -> DataFrame:
    """The published rows of ``contract`` from ``candidate`` (the transform's business
    columns): every column masked by its policy, or checked in its published form (see the
    module docstring), exactly the contract's columns, in order, cast to the contract's types.

    ``snapshot_date`` is the date of the age in an age band. Raises :class:`PlanRefusal` (column
    and reason, counts, never values) when the candidate does not fit the plan; checking values
    runs one Spark job over ``candidate``, applying runs none."""
    plans = dataset_plan(contract)
    modes = _modes(plans, candidate, contract.name)
    applied = [p for p in plans if modes[p.name] == "apply"]
    problems = [(p.name, why) for p in applied
                if (why := _input_problem(p, candidate.schema[str(p.input)].dataType))]
    if problems:
        raise PlanRefusal(contract.name, problems)
    check_published_form(candidate, [p for p in plans if modes[p.name] == "check"], contract)

    free_text = [p for p in applied if p.policy == "scan_free_text"]
    out = _scrubbed(candidate, contract, free_text)
    if any(p.policy == "pseudonymize" for p in applied):
        out = with_key(out, key)
    cols: list[Column] = []
    for p in plans:
        if modes[p.name] != "apply":
            value = F.col(p.name)
        elif p.policy == "scan_free_text":
            value = F.col(f"_scrubbed_{p.name}")
        else:
            value = _applied(p, F.col(str(p.input)), snapshot_date)
        cols.append(value.alias(p.name))
    result = to_contract(out.select(*cols), contract)
    assert IPAD_COLUMN not in result.columns and OPAD_COLUMN not in result.columns
    return result
