"""The data contracts as objects: feeds, fields, rules, gates, datasets (no parsing here).

The vocabulary a contract may use (types, parse steps, delivery kinds and formats, personal-data
classes, masking policies, checks, actions, cadences) and the frozen dataclasses the YAML files
become (:mod:`kernel.contracts.parse` validates and builds them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONTRACTS_DIR = Path(__file__).resolve().parent.parent.parent / "schemas"

FIELD_TYPES = {"string", "date", "int", "long", "decimal", "boolean", "timestamp"}
PARSE_STEPS = {
    "nfkc",  # Unicode NFKC: full-width letters and digits to ASCII
    "trim",  # leading and trailing white space (ASCII and ideographic)
    "upper",  # upper case
    "roc_date",  # ROC (Minguo) YYYMMDD or YYMMDD to a date; impossible dates become null
    "tai_to_tai",  # 台 written for 臺 (the official form) in place names
    "empty_to_null",  # an empty string means no value
    "digits",  # thousands separators (``45,800``) and inner spaces removed from a number
    "percent",  # a trailing percent sign removed (``6%`` -> ``6``)
    "roc_month",  # ROC (Minguo) YYYMM to the first day of that month
    "iso_date",  # ISO YYYY-MM-DD (Gregorian) to a date
}
DATE_STEPS = ("roc_date", "roc_month", "iso_date")
DELIVERY_KINDS = {"file_drop", "api_pull", "jdbc_pull"}
FORMATS = {
    "file_drop": {"csv", "fixed_width", "xml"},
    "api_pull": {"json_pages"},
    "jdbc_pull": {"jdbc"},
}
PII_CLASSES = {"direct_identifier", "indirect_identifier", "quasi_identifier", "free_text", "none"}
MASKING_POLICIES = {
    "keep",
    "pseudonymize",
    "drop",
    "mask_partial",
    "generalize_year",
    "generalize_month",
    "generalize_county",
    "generalize_band",
    "scan_free_text",
}
CHECKS = {
    "not_null": set(),
    "in_set": {"values"},
    "regex": {"pattern"},
    "length_between": {"min", "max"},
    "between": {"min", "max"},
    "valid_date": set(),
    "valid_value": set(),  # the wire text parses as the field's type (int, decimal, …)
    "tw_person_id": set(),
    "tw_business_id": set(),
}
ACTIONS = {"warn", "quarantine", "fail"}
CADENCES = {"hourly": "@hourly", "daily": "@daily", "weekly": "@weekly", "monthly": "@monthly"}
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
COLUMN_RE = re.compile(r"^[a-z][a-z0-9_]*$")
VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")


class ContractError(ValueError):
    """A contract file is missing, malformed or inconsistent."""

    def __init__(self, path: Path | str, where: str, problem: str) -> None:
        super().__init__(f"{path}: {where}: {problem}")
        self.path = str(path)
        self.where = where
        self.problem = problem


@dataclass(frozen=True)
class Rule:
    """A quality rule on one field (``column`` set) or across fields (``expression`` set)."""

    id: str
    check: str
    action: str
    column: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    expression: str | None = None
    columns: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Field:
    """One field of a feed: its wire name, type, parsing, personal-data class and masking."""

    name: str
    wire: str
    type: str
    required: bool
    parse: tuple[str, ...]
    pii: str
    masking: str
    rules: tuple[Rule, ...]
    description: str = ""
    bytes: tuple[int, int] | None = None
    """Fixed-width records: the field's first and last byte (1-based, inclusive)."""
    entity: str | None = None
    """The personal-data entity its values are (``PERSON_NAME``, ``TW_PERSON_ID``,
    ``ADDRESS``, ``BANK_ACCOUNT``, …): the leak gate searches published data for them."""

    @property
    def is_personal(self) -> bool:
        """True for every class of personal data (identifiers, quasi-identifiers, free text)."""
        return self.pii != "none"


@dataclass(frozen=True)
class Delivery:
    """How a feed arrives: file drops (with digest companions), API pulls or JDBC pulls.

    ``options`` holds the format's own settings (``record_length`` of fixed-width records,
    ``row_tag`` of XML, the API's ``endpoint``, the JDBC ``table`` and ``watermark``, …);
    each reader and puller documents the keys it reads.
    """

    kind: str
    inbox: str
    file_pattern: str
    file_date_format: str
    digest: str
    format: str
    encoding: str
    delimiter: str = ","
    quote: str = '"'
    header: bool = True
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def is_pull(self) -> bool:
        """True when the lakehouse pulls the feed (API, JDBC) rather than receiving files."""
        return self.kind != "file_drop"

    @property
    def java_charset(self) -> str:
        """The JVM charset name for ``encoding`` (CP950 is Microsoft's Big5, EUDC included)."""
        return {"cp950": "MS950", "big5": "MS950", "utf-8": "UTF-8", "utf-8-sig": "UTF-8"}.get(
            self.encoding.lower(), self.encoding
        )


@dataclass(frozen=True)
class Gates:
    """Batch-level gates of a feed.

    ``freshness_hours``: a run fails its freshness gate when the feed's latest delivery landed
    longer ago than this (default: the cadence plus a grace of half a cadence).
    ``volume_*``: a batch whose record count is more than ``volume_max_ratio`` times above or
    below the median of the feed's last ``volume_history`` accepted batches fails (checked once
    ``volume_min_history`` batches exist).
    """

    max_quarantine_share: float = 0.2
    min_rows: int = 1
    freshness_hours: float = 36.0
    volume_history: int = 7
    volume_min_history: int = 3
    volume_max_ratio: float = 10.0


@dataclass(frozen=True)
class FeedContract:
    """A feed's contract: everything the pipeline needs to ingest it."""

    path: str
    name: str
    version: str
    title: str
    description: str
    owner: dict[str, str]
    cadence: str
    delivery: Delivery
    entity: str
    primary_key: tuple[str, ...]
    sticky: tuple[str, ...]
    event_key: tuple[str, ...]
    order_by: tuple[str, ...]
    fields: tuple[Field, ...]
    row_rules: tuple[Rule, ...]
    gates: Gates

    @property
    def agency(self) -> str:
        """The agency prefix of the feed name (``moi`` of ``moi.household_registry``)."""
        return self.name.split(".", 1)[0]

    @property
    def schedule(self) -> str:
        """The Airflow schedule for the feed's cadence."""
        return CADENCES[self.cadence]

    @property
    def suite_name(self) -> str:
        """The Great Expectations suite name: ``<feed>.<contract version>``."""
        return f"{self.name}.{self.version}"

    def field(self, name: str) -> Field:
        """The field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every rule of the contract: field rules in field order, then row rules."""
        return tuple(r for f in self.fields for r in f.rules) + self.row_rules

    @property
    def wire_to_column(self) -> dict[str, str]:
        """Map from the wire (agency) name to the lakehouse column name."""
        return {f.wire: f.name for f in self.fields}


@dataclass(frozen=True)
class DatasetColumn:
    """One published column: its type, description and how it is derived or masked."""

    name: str
    type: str
    description: str
    source: tuple[str, ...]
    masking: str


@dataclass(frozen=True)
class DatasetContract:
    """A published dataset's contract."""

    path: str
    name: str
    version: str
    title: str
    description: str
    zone: str
    audience: tuple[str, ...]
    owner: dict[str, str]
    inputs: tuple[str, ...]
    key: tuple[str, ...]
    columns: tuple[DatasetColumn, ...]
    gates: tuple[str, ...]
    transform: str = ""
    """``module:function`` of the pure transform building the candidate from the inputs'
    silver tables (see :mod:`jobs`)."""
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    """Dataset-specific settings (suppression threshold, export formats, …)."""

    @property
    def table(self) -> str:
        """The table name inside its zone (``person_coverage`` of ``gold.person_coverage``)."""
        return self.name.split(".", 1)[1]


