"""Data contracts: one YAML file per feed and per dataset, validated on load.

A feed contract (``kind: feed``) describes a delivery as the agency sends it (wire names,
encoding, file pattern), how each field is parsed, its personal-data class and masking policy,
and the quality rules with their actions. A dataset contract (``kind: dataset``) describes a
published dataset: its inputs, audience, columns and gates.

Everything else (reader options, bronze and silver schemas, Great Expectations suites, masking
plans, DAGs) is derived from these objects; nothing restates them by hand. A broken contract
raises :class:`ContractError` naming the file, the field and the problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CONTRACTS_DIR = Path(__file__).resolve().parent.parent / "schemas"

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
_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_COLUMN = re.compile(r"^[a-z][a-z0-9_]*$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


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


def _require(doc: dict[str, Any], key: str, path: Path, where: str) -> Any:
    if key not in doc or doc[key] in (None, ""):
        raise ContractError(path, where, f"missing required key {key!r}")
    return doc[key]


def _rule(raw: Any, path: Path, where: str, column: str | None) -> Rule:
    if not isinstance(raw, dict):
        raise ContractError(path, where, "a rule must be a mapping")
    rid = str(_require(raw, "id", path, where))
    where = f"{where} rule {rid}"
    action = str(_require(raw, "action", path, where))
    if action not in ACTIONS:
        raise ContractError(path, where, f"unknown action {action!r} (one of {sorted(ACTIONS)})")
    if "expression" in raw:
        cols = tuple(raw.get("columns") or ())
        if not cols:
            raise ContractError(path, where, "a row rule needs 'columns' (the fields it reads)")
        return Rule(
            id=rid,
            check="expression",
            action=action,
            expression=str(raw["expression"]),
            columns=cols,
            description=str(raw.get("description", "")),
        )
    check = str(_require(raw, "check", path, where))
    if check not in CHECKS:
        raise ContractError(path, where, f"unknown check {check!r} (one of {sorted(CHECKS)})")
    params = {k: v for k, v in raw.items() if k not in {"id", "check", "action", "description"}}
    missing = CHECKS[check] - params.keys()
    if missing:
        raise ContractError(path, where, f"check {check!r} needs {sorted(missing)}")
    if check == "regex":
        try:
            re.compile(str(params["pattern"]))
        except re.error as exc:
            raise ContractError(path, where, f"invalid regex: {exc}") from None
    return Rule(
        id=rid,
        check=check,
        action=action,
        column=column,
        params=params,
        columns=(column,) if column else (),
        description=str(raw.get("description", "")),
    )


def _field(raw: Any, path: Path, index: int) -> Field:
    where = f"fields[{index}]"
    if not isinstance(raw, dict):
        raise ContractError(path, where, "a field must be a mapping")
    name = str(_require(raw, "name", path, where))
    where = f"field {name}"
    if not _COLUMN.match(name):
        raise ContractError(path, where, "column names are lower-case snake_case")
    ftype = str(raw.get("type", "string"))
    if ftype not in FIELD_TYPES:
        raise ContractError(path, where, f"unknown type {ftype!r} (one of {sorted(FIELD_TYPES)})")
    parse = tuple(raw.get("parse") or ())
    for step in parse:
        if step not in PARSE_STEPS:
            raise ContractError(path, where, f"unknown parse step {step!r}")
    date_steps = [p for p in parse if p in DATE_STEPS]
    if ftype == "date" and len(date_steps) != 1:
        raise ContractError(path, where, f"a date field needs one date parse step {DATE_STEPS}")
    if ftype != "date" and date_steps:
        raise ContractError(path, where, f"{date_steps[0]} is a date parse step: type date")
    span = raw.get("bytes")
    if span is not None and (
            not isinstance(span, list) or len(span) != 2
            or not all(isinstance(b, int) and b >= 1 for b in span) or span[0] > span[1]):
        raise ContractError(path, where, "bytes is [first, last] (1-based, inclusive)")
    pii = str(_require(raw, "pii", path, where))
    if pii not in PII_CLASSES:
        raise ContractError(path, where, f"unknown pii class {pii!r} ({sorted(PII_CLASSES)})")
    masking = str(_require(raw, "masking", path, where))
    if masking not in MASKING_POLICIES:
        raise ContractError(path, where, f"unknown masking policy {masking!r}")
    if pii == "direct_identifier" and masking == "keep":
        raise ContractError(path, where, "a direct identifier cannot be published as is (keep)")
    required = bool(raw.get("required", False))
    rules = [_rule(r, path, where, name) for r in raw.get("rules") or ()]
    if required:
        rules.insert(0, Rule(id=f"{name}.required", check="not_null", action="quarantine",
                             column=name, columns=(name,), description=f"{name} is required"))
    return Field(
        name=name,
        wire=str(_require(raw, "wire", path, where)),
        type=ftype,
        required=required,
        parse=parse,
        pii=pii,
        masking=masking,
        rules=tuple(rules),
        description=str(raw.get("description", "")),
        bytes=(int(span[0]), int(span[1])) if span is not None else None,
        entity=_entity_of(raw, name, pii),
    )


DEFAULT_ENTITIES = {"national_id": "TW_PERSON_ID", "name": "PERSON_NAME", "address": "ADDRESS",
                    "account_no": "BANK_ACCOUNT"}
"""The entity of a direct identifier named as the specs name it, unless the field says."""


def _entity_of(raw: dict[str, Any], name: str, pii: str) -> str | None:
    if raw.get("entity"):
        return str(raw["entity"])
    return DEFAULT_ENTITIES.get(name) if pii == "direct_identifier" else None


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: fast
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except FileNotFoundError:
        raise ContractError(path, "file", "no such contract file") from None
    except yaml.YAMLError as exc:
        raise ContractError(path, "yaml", f"not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise ContractError(path, "file", "a contract is a YAML mapping")
    return doc


def _common(doc: dict[str, Any], path: Path) -> tuple[str, str]:
    name = str(_require(doc, "name", path, "contract"))
    if not _NAME.match(name):
        raise ContractError(path, "name", f"{name!r} is not of the form <agency|zone>.<table>")
    version = str(_require(doc, "version", path, "contract"))
    if not _VERSION.match(version):
        raise ContractError(path, "version", f"{version!r} is not a semantic version X.Y.Z")
    return name, version


CADENCE_HOURS = {"hourly": 1.0, "daily": 24.0, "weekly": 168.0, "monthly": 744.0}


def _gates(raw: dict[str, Any], share: float, cadence: str, path: Path) -> Gates:
    volume = raw.get("volume") or {}
    gates = Gates(
        max_quarantine_share=share,
        min_rows=int(raw.get("min_rows", 1)),
        freshness_hours=float(raw.get("freshness_hours", CADENCE_HOURS[cadence] * 1.5)),
        volume_history=int(volume.get("history", 7)),
        volume_min_history=int(volume.get("min_history", 3)),
        volume_max_ratio=float(volume.get("max_ratio", 10.0)),
    )
    if gates.volume_max_ratio <= 1 or gates.volume_min_history < 1:
        raise ContractError(path, "gates.volume", "max_ratio must be > 1 and min_history >= 1")
    if gates.freshness_hours <= 0:
        raise ContractError(path, "gates.freshness_hours", "must be positive")
    return gates


def _entity(doc: dict[str, Any], path: Path) -> str:
    entity = str(_require(doc, "entity", path, "contract"))
    if not _NAME.match(entity) or entity == doc.get("name"):
        raise ContractError(
            path, "entity", f"{entity!r} is not <agency>.<entity>, distinct from the feed"
        )
    return entity


def parse_feed(doc: dict[str, Any], path: Path) -> FeedContract:
    """Validate a parsed feed contract document and build its :class:`FeedContract`."""
    name, version = _common(doc, path)
    cadence = str(_require(doc, "cadence", path, "contract"))
    if cadence not in CADENCES:
        raise ContractError(path, "cadence", f"unknown cadence {cadence!r} ({sorted(CADENCES)})")
    draw = _require(doc, "delivery", path, "contract")
    if not isinstance(draw, dict):
        raise ContractError(path, "delivery", "must be a mapping")
    kind = str(_require(draw, "kind", path, "delivery"))
    if kind not in DELIVERY_KINDS:
        raise ContractError(path, "delivery.kind", f"unknown kind {kind!r} "
                            f"(one of {sorted(DELIVERY_KINDS)})")
    fmt = str(_require(draw, "format", path, "delivery"))
    if fmt not in FORMATS[kind]:
        raise ContractError(path, "delivery.format", f"a {kind} delivery has format "
                            f"{' or '.join(sorted(FORMATS[kind]))}, not {fmt!r}")
    pattern = str(draw.get("file_pattern") or "")
    if kind == "file_drop" and not pattern:
        raise ContractError(path, "delivery", "missing required key 'file_pattern'")
    try:
        if pattern and "file_date" not in re.compile(pattern).groupindex:
            raise ContractError(path, "delivery.file_pattern", "needs a (?P<file_date>...) group")
    except re.error as exc:
        raise ContractError(path, "delivery.file_pattern", f"invalid regex: {exc}") from None
    options = draw.get("options") or {}
    if not isinstance(options, dict):
        raise ContractError(path, "delivery.options", "must be a mapping")
    delivery = Delivery(
        kind=kind,
        inbox=str(draw.get("inbox") or ""),
        file_pattern=pattern,
        file_date_format=str(draw.get("file_date_format", "yyyyMMdd")),
        digest=str(draw.get("digest", "sha256")),
        format=fmt,
        encoding=str(draw.get("encoding", "utf-8")),
        delimiter=str(draw.get("delimiter", ",")),
        quote=str(draw.get("quote", '"')),
        header=bool(draw.get("header", True)),
        options=dict(options),
    )
    if kind == "file_drop" and not delivery.inbox:
        raise ContractError(path, "delivery", "missing required key 'inbox'")
    raw_fields = _require(doc, "fields", path, "contract")
    if not isinstance(raw_fields, list):
        raise ContractError(path, "fields", "must be a list")
    fields = tuple(_field(f, path, i) for i, f in enumerate(raw_fields))
    names = [f.name for f in fields]
    for label, values in (("field names", names), ("wire names", [f.wire for f in fields])):
        dupes = sorted({v for v in values if values.count(v) > 1})
        if dupes:
            raise ContractError(path, "fields", f"duplicate {label}: {dupes}")
    known = set(names) | {"_file_date", "_source_row"}
    for key in ("primary_key", "event_key", "order_by", "sticky"):
        for col in doc.get(key) or ():
            if col not in known:
                raise ContractError(path, key, f"unknown column {col!r}")
    if not doc.get("primary_key"):
        raise ContractError(path, "primary_key", "missing required key 'primary_key'")
    row_rules = tuple(_rule(r, path, "row_rules", None) for r in doc.get("row_rules") or ())
    for rule in row_rules:
        for col in rule.columns:
            if col not in known:
                raise ContractError(path, f"row_rules rule {rule.id}", f"unknown column {col!r}")
    rule_ids = [r.id for f in fields for r in f.rules] + [r.id for r in row_rules]
    dupes = sorted({r for r in rule_ids if rule_ids.count(r) > 1})
    if dupes:
        raise ContractError(path, "rules", f"duplicate rule ids: {dupes}")
    if fmt == "fixed_width":
        _check_spans(fields, int(options.get("record_length", 0)), path)
    graw = doc.get("gates") or {}
    share = float(graw.get("max_quarantine_share", 0.2))
    if not 0 <= share <= 1:
        raise ContractError(path, "gates.max_quarantine_share", "must be between 0 and 1")
    return FeedContract(
        path=str(path),
        name=name,
        version=version,
        title=str(doc.get("title", name)),
        description=str(doc.get("description", "")).strip(),
        owner={k: str(v) for k, v in (doc.get("owner") or {}).items()},
        cadence=cadence,
        delivery=delivery,
        entity=_entity(doc, path),
        primary_key=tuple(doc["primary_key"]),
        sticky=tuple(doc.get("sticky") or ()),
        event_key=tuple(doc.get("event_key") or names),
        order_by=tuple(doc.get("order_by") or ()),
        fields=fields,
        row_rules=row_rules,
        gates=_gates(graw, share, cadence, path),
    )


def _check_spans(fields: tuple[Field, ...], length: int, path: Path) -> None:
    """Fixed-width fields: each has its bytes, inside the record, without overlaps."""
    if length <= 0:
        raise ContractError(path, "delivery.options", "a fixed_width delivery needs record_length")
    taken: dict[int, str] = {}
    for f in fields:
        if f.bytes is None:
            raise ContractError(path, f"field {f.name}", "a fixed_width field needs bytes")
        first, last = f.bytes
        if last > length:
            raise ContractError(path, f"field {f.name}", f"bytes {first}-{last} run past the "
                                f"{length}-byte record")
        for b in range(first, last + 1):
            if b in taken:
                raise ContractError(path, f"field {f.name}", f"byte {b} is also in {taken[b]}")
            taken[b] = f.name


def parse_dataset(doc: dict[str, Any], path: Path) -> DatasetContract:
    """Validate a parsed dataset contract document and build its :class:`DatasetContract`."""
    name, version = _common(doc, path)
    zone = name.split(".", 1)[0]
    if zone not in {"gold", "opendata"}:
        raise ContractError(path, "name", "a published dataset lives in gold or opendata")
    cols = []
    for i, raw in enumerate(_require(doc, "columns", path, "contract")):
        where = f"columns[{i}]"
        cname = str(_require(raw, "name", path, where))
        masking = str(raw.get("masking", "keep"))
        if masking not in MASKING_POLICIES:
            raise ContractError(path, f"column {cname}", f"unknown masking policy {masking!r}")
        ctype = str(_require(raw, "type", path, f"column {cname}"))
        cols.append(
            DatasetColumn(
                name=cname,
                type=ctype,
                description=str(raw.get("description", "")),
                source=tuple(raw.get("source") or ()),
                masking=masking,
            )
        )
    return DatasetContract(
        path=str(path),
        name=name,
        version=version,
        title=str(doc.get("title", name)),
        description=str(doc.get("description", "")).strip(),
        zone=zone,
        audience=tuple(_require(doc, "audience", path, "contract")),
        owner={k: str(v) for k, v in (doc.get("owner") or {}).items()},
        inputs=tuple(_require(doc, "inputs", path, "contract")),
        key=tuple(doc.get("key") or ()),
        columns=tuple(cols),
        gates=tuple(doc.get("gates") or ()),
        transform=_transform(doc, path),
        options=dict(doc.get("options") or {}),
    )


def _transform(doc: dict[str, Any], path: Path) -> str:
    value = str(doc.get("transform") or "")
    if value and not re.fullmatch(r"[a-z_][a-z0-9_.]*:[a-z_][a-z0-9_]*", value):
        raise ContractError(path, "transform", f"{value!r} is not module:function")
    return value


def load(path: Path | str) -> FeedContract | DatasetContract:
    """Load and validate one contract file."""
    path = Path(path)
    doc = _load_yaml(path)
    kind = doc.get("kind")
    if kind == "feed":
        return parse_feed(doc, path)
    if kind == "dataset":
        return parse_dataset(doc, path)
    raise ContractError(path, "kind", f"must be 'feed' or 'dataset', not {kind!r}")


@cache
def _all(root: Path) -> tuple[tuple[FeedContract, ...], tuple[DatasetContract, ...]]:
    feeds: list[FeedContract] = []
    datasets: list[DatasetContract] = []
    for path in sorted(root.rglob("*.yaml")):
        contract = load(path)
        (feeds if isinstance(contract, FeedContract) else datasets).append(contract)  # type: ignore[arg-type]
    return tuple(feeds), tuple(datasets)


def contracts_dir() -> Path:
    """Where the contracts live: ``LAKEHOUSE_CONTRACTS_DIR``, else the repository's
    ``schemas/`` (a deployment can onboard feeds from YAML kept outside the code)."""
    import os

    configured = os.environ.get("LAKEHOUSE_CONTRACTS_DIR", "").strip()
    return Path(configured) if configured else CONTRACTS_DIR


def feeds(root: Path | None = None) -> tuple[FeedContract, ...]:
    """Every feed contract under ``root`` (default: :func:`contracts_dir`)."""
    return _all((root or contracts_dir()).resolve())[0]


def datasets(root: Path | None = None) -> tuple[DatasetContract, ...]:
    """Every dataset contract under ``root`` (default: :func:`contracts_dir`)."""
    return _all((root or contracts_dir()).resolve())[1]


def feed(name: str, root: Path | None = None) -> FeedContract:
    """The feed contract called ``name``; ``KeyError`` lists the known feeds."""
    for c in feeds(root):
        if c.name == name:
            return c
    raise KeyError(f"unknown feed {name!r}; known feeds: {', '.join(c.name for c in feeds(root))}")


def dataset(name: str, root: Path | None = None) -> DatasetContract:
    """The dataset contract called ``name``; ``KeyError`` lists the known datasets."""
    for c in datasets(root):
        if c.name == name:
            return c
    known = ", ".join(c.name for c in datasets(root))
    raise KeyError(f"unknown dataset {name!r}; known datasets: {known}")
