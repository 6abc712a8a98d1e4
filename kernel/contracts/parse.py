"""Parsing and validating contract documents: a YAML mapping to a feed or dataset contract.

Every problem raises :class:`~kernel.contracts.model.ContractError` naming the file, the place
(``field national_id rule ...``) and what is wrong.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from kernel.contracts.model import (
    ACTIONS,
    CADENCES,
    CHECKS,
    COLUMN_RE,
    DATE_STEPS,
    DELIVERY_KINDS,
    FIELD_TYPES,
    FORMATS,
    MASKING_POLICIES,
    NAME_RE,
    PARSE_STEPS,
    PII_CLASSES,
    VERSION_RE,
    ContractError,
    DatasetColumn,
    DatasetContract,
    Delivery,
    FeedContract,
    Field,
    Gates,
    Rule,
)


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
    if not COLUMN_RE.match(name):
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


def load_yaml(path: Path) -> dict[str, Any]:
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
    if not NAME_RE.match(name):
        raise ContractError(path, "name", f"{name!r} is not of the form <agency|zone>.<table>")
    version = str(_require(doc, "version", path, "contract"))
    if not VERSION_RE.match(version):
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
    if not NAME_RE.match(entity) or entity == doc.get("name"):
        raise ContractError(
            path, "entity", f"{entity!r} is not <agency>.<entity>, distinct from the feed"
        )
    return entity


def _delivery(draw: Any, path: Path) -> Delivery:
    """The ``delivery`` section of a feed contract: kind, format, file pattern, options."""
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
    return delivery


def _fields_and_rules(doc: dict[str, Any], path: Path) -> tuple[tuple[Field, ...],
                                                                 tuple[Rule, ...]]:
    """The fields and row rules of a feed contract, with names, keys and rule ids checked."""
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
    return fields, row_rules


def parse_feed(doc: dict[str, Any], path: Path) -> FeedContract:
    """Validate a parsed feed contract document and build its :class:`FeedContract`."""
    name, version = _common(doc, path)
    cadence = str(_require(doc, "cadence", path, "contract"))
    if cadence not in CADENCES:
        raise ContractError(path, "cadence", f"unknown cadence {cadence!r} ({sorted(CADENCES)})")
    delivery = _delivery(_require(doc, "delivery", path, "contract"), path)
    fields, row_rules = _fields_and_rules(doc, path)
    if delivery.format == "fixed_width":
        _check_spans(fields, int(delivery.options.get("record_length", 0)), path)
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
        event_key=tuple(doc.get("event_key") or (f.name for f in fields)),
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


