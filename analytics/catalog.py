"""The lakehouse catalog: every queryable table, from the contracts and the Delta logs.

A table is named in SQL as ``<zone>.<table>`` (``gold.person_coverage``); a table whose
storage name holds a dot (feeds and silver entities: ``<root>/silver/moi.residents``) is
named with that name quoted as one identifier: ``silver."moi.residents"``,
``bronze."moi.household_registry"``. The SQL name is the storage path, ``/`` read as ``.``.

Where tables come from:

- ``gold`` and ``opendata``: the dataset contracts (description, owner, audience, columns
  with their masking and the personal-data class of their sources);
- ``bronze``, ``quarantine`` and ``silver``: the feed contracts (each feed's delivered records,
  quarantined records and change events, and its silver entity), columns with their
  personal-data class and masking policy;
- ``system``: the run records (every Delta table under ``<root>/system``).

The Delta log adds the current version, the time of the last commit, its commit metadata (run
id, key id, contract version) and the row count (from the log's file statistics, else the
Parquet footers). Nothing here reads a data value: statistics such as minima and maxima are
never shown. Only :mod:`deltalake` is used (no JVM).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analytics import roles
from kernel import contracts
from kernel.layout import Layout

if TYPE_CHECKING:
    from deltalake import DeltaTable

PII_ORDER = ("direct_identifier", "indirect_identifier", "free_text", "quasi_identifier", "none")
SIMPLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
SYSTEM_TABLES = {
    "deliveries": "one row per delivered file or pull: landed, duplicate or refused, with its "
                  "digest, size, record count and watermark",
    "batches": "one row per batch and stage, with the reconciliation counts",
    "quality_results": "one row per quality rule and batch: elements, unexpected count, success",
    "reconciliation": "one row per batch and reconciliation check: expected and actual counts",
    "releases": "quarantine releases: who released which rows of which batch, when and why",
    "publishes": "one row per publish attempt of a dataset: status, version, rows, key id",
}
LINEAGE_COLUMNS = {
    "_batch_id": ("none", "the batch (delivery) the record came in"),
    "_source_file": ("none", "the delivered file's name"),
    "_source_digest": ("none", "SHA-256 of the delivered file"),
    "_source_row": ("none", "the record's number in its delivery"),
    "_file_date": ("none", "the delivery's file date"),
    "_event_id": ("none", "SHA-256 of the event key fields: the change event's identity"),
    "_corrupt_record": ("free_text", "the record's text when it did not split into fields"),
    "_raw_record": ("free_text", "the record as delivered"),
    "_rule_ids": ("none", "the quality rules the record failed"),
    "_reason": ("none", "why the record was quarantined"),
}
METADATA_KEYS = ("run_id", "batch_id", "contract_version", "key_id", "snapshot_date",
                 "published_at")


@dataclass(frozen=True)
class Column:
    """A column: type, description, personal-data class and masking policy."""

    name: str
    type: str
    description: str = ""
    pii: str = "none"
    """The personal-data class (of the column's sources for a published column)."""
    masking: str = ""
    """The masking policy (applied when publishing; silver and bronze hold raw values)."""


@dataclass(frozen=True)
class Table:
    """A queryable table: where it lives and what its contract says about it."""

    zone: str
    table: str
    kind: str
    """``dataset``, ``bronze``, ``quarantine``, ``events``, ``entity`` or ``system``."""
    title: str
    description: str
    owner: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    audience: tuple[str, ...] | None = None
    """The contract audience of a published dataset; ``None`` for the other tables."""
    contract: str = ""
    """``name version`` of the contract the table is derived from."""
    columns: tuple[Column, ...] = ()

    @property
    def name(self) -> str:
        """The SQL name: ``gold.person_coverage``, ``silver."moi.residents"``."""
        return sql_name(self.zone, self.table)

    @property
    def readers(self) -> tuple[str, ...]:
        """The roles that may read the table."""
        return tuple(r for r in roles.ROLES
                     if roles.refusal(r, self.name, self.zone, self.audience) is None)

    def refusal(self, role: str) -> str | None:
        """Why ``role`` may not read the table (``None`` if it may)."""
        return roles.refusal(role, self.name, self.zone, self.audience)


@dataclass(frozen=True)
class Snapshot:
    """A version of a Delta table as its log describes it (no data value)."""

    version: int
    committed_at: str
    """UTC time of the version's commit, ISO-8601."""
    operation: str
    rows: int
    schema: tuple[tuple[str, str], ...]
    metadata: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    """Selected commit metadata: run id, batch id, contract version, key id, snapshot date."""


class UnknownTable(KeyError):
    """No table of the catalog has this name; the message says how tables are named."""

    def __str__(self) -> str:
        return str(self.args[0])


def sql_name(zone: str, table: str) -> str:
    """The SQL name of ``<zone>/<table>``: ``zone.table``, the table quoted when it needs it."""
    if SIMPLE_NAME.match(table):
        return f"{zone}.{table}"
    return f'{zone}."{table.replace(chr(34), chr(34) * 2)}"'


def split_name(name: str) -> tuple[str, str]:
    """``(zone, table)`` of a name as a user writes it: ``gold.person_coverage``,
    ``silver."moi.residents"`` or ``silver.moi.residents`` (the zone is the first part)."""
    zone, sep, rest = name.strip().partition(".")
    if not sep or not zone or not rest:
        raise UnknownTable(f"{name!r} is not a table name: write <zone>.<table>, e.g. "
                           'gold.person_coverage or silver."moi.residents"')
    rest = rest.strip()
    if len(rest) >= 2 and rest[0] == rest[-1] == '"':
        rest = rest[1:-1].replace('""', '"')
    return zone.strip().strip('"').lower(), rest.lower()


def table_uri(root: str, zone: str, table: str) -> str:
    """Where ``deltalake`` finds the table: a local path, or the root's URI
    (:meth:`kernel.layout.Layout.delta_uri`)."""
    return Layout(root).delta_uri(zone, table)


def _pii_rank(pii: str) -> int:
    return PII_ORDER.index(pii) if pii in PII_ORDER else 0


def _source_pii(sources: Sequence[str], fields: dict[str, dict[str, str]]) -> str:
    """The most sensitive personal-data class among a published column's sources."""
    found = ["none"]
    for src in sources:
        feed, _, fname = src.rpartition(".")
        found.append(fields.get(feed, {}).get(fname, "none"))
    return min(found, key=_pii_rank)


def _feed_columns(fc: contracts.FeedContract, lineage: Sequence[str]) -> tuple[Column, ...]:
    cols = [Column(f.name, f.type, f.description or f.wire, f.pii, f.masking) for f in fc.fields]
    cols += [Column(c, "", LINEAGE_COLUMNS[c][1], LINEAGE_COLUMNS[c][0]) for c in lineage]
    return tuple(cols)


def tables(root: str, contracts_dir: Path | None = None) -> list[Table]:
    """Every table of the catalog (whatever the role), in zone order."""
    feeds = contracts.feeds(contracts_dir)
    pii = {fc.name: {f.name: f.pii for f in fc.fields} for fc in feeds}
    out: list[Table] = []
    for dc in contracts.datasets(contracts_dir):
        cols = tuple(Column(c.name, c.type, c.description, _source_pii(c.source, pii), c.masking)
                     for c in dc.columns)
        out.append(Table(dc.zone, dc.table, "dataset", dc.title, dc.description, dict(dc.owner),
                         tuple(dc.audience), f"{dc.name} {dc.version}", cols))
    base = ("_batch_id", "_source_file", "_source_digest", "_source_row", "_file_date")
    for fc in feeds:
        contract = f"{fc.name} {fc.version}"
        owner = dict(fc.owner)
        out += [
            Table("bronze", fc.name, "bronze", f"{fc.title}: delivered records",
                  f"Every record delivered by {fc.name}, as strings, with where it came from. "
                  f"{fc.description}", owner, None, contract,
                  _feed_columns(fc, (*base, "_corrupt_record"))),
            Table("quarantine", fc.name, "quarantine", f"{fc.title}: quarantined records",
                  f"Records of {fc.name} that failed a quarantine rule, as delivered, with the "
                  "rule ids and the reason.", owner, None, contract,
                  _feed_columns(fc, (*base, "_raw_record", "_rule_ids", "_reason"))),
            Table("silver", fc.name, "events", f"{fc.title}: change events",
                  f"Typed, conformed, deduplicated change events of {fc.name}. "
                  f"{fc.description}", owner, None, contract,
                  _feed_columns(fc, (*base, "_event_id"))),
            Table("silver", fc.entity, "entity", f"{fc.title}: current state",
                  f"The current state of {fc.entity}: one row per "
                  f"{', '.join(fc.primary_key)}, the latest change event of {fc.name} by "
                  f"{', '.join(fc.order_by) or 'arrival'}.", owner, None, contract,
                  _feed_columns(fc, (*base, "_event_id"))),
        ]
    out += [Table("system", name, "system", f"run records: {name}", text,
                  {"steward": "convergence-platform"})
            for name, text in _system_tables(root).items()]
    order = list(roles.ZONE_READERS)
    return sorted(out, key=lambda t: (order.index(t.zone) if t.zone in order else 99,
                                      t.kind != "dataset", t.table))


def _system_tables(root: str) -> dict[str, str]:
    """The run-record tables: the known ones, and any other Delta table under ``system/``."""
    found = dict(SYSTEM_TABLES)
    layout = Layout(root)
    folder = layout.zone_dir("system") if layout.is_local else None
    if folder is not None and folder.is_dir():
        for child in sorted(folder.iterdir()):
            if (child / "_delta_log").is_dir() and child.name not in found:
                found[child.name] = "a run-record table of the system zone"
    return found


def readable(root: str, role: str, contracts_dir: Path | None = None) -> list[Table]:
    """The tables ``role`` may read."""
    return [t for t in tables(root, contracts_dir) if t.refusal(role) is None]


def find(root: str, zone: str, table: str, contracts_dir: Path | None = None) -> Table:
    """The table ``<zone>/<table>`` (case-insensitive); :class:`UnknownTable` if none."""
    key = (zone.lower(), table.lower())
    for t in tables(root, contracts_dir):
        if (t.zone, t.table.lower()) == key:
            return t
    raise UnknownTable(f"no table {sql_name(zone, table)} in the catalog (lakehouse tables "
                       "lists them; a name holding a dot is quoted: silver.\"moi.residents\")")


def lookup(root: str, name: str, contracts_dir: Path | None = None) -> Table:
    """The table of a name as a user writes it (see :func:`split_name`)."""
    return find(root, *split_name(name), contracts_dir=contracts_dir)


def open_delta(root: str, t: Table, version: int | None = None) -> DeltaTable | None:
    """The table's Delta log at ``version`` (default: current); ``None`` if never written.

    A version that does not exist raises ``ValueError`` naming the table and its versions.
    """
    from deltalake import DeltaTable

    uri = table_uri(root, t.zone, t.table)
    if not DeltaTable.is_deltatable(uri):
        return None
    if version is None:
        return DeltaTable(uri)
    current = DeltaTable(uri).version()
    if not 0 <= version <= current:
        raise ValueError(f"{t.name} has no version {version} (versions 0 to {current})")
    try:
        return DeltaTable(uri, version=version)
    except Exception as exc:  # a version whose log was cleaned up (VACUUM, log retention)
        raise ValueError(f"{t.name} version {version} cannot be read: {type(exc).__name__}") \
            from None


def _type_name(dtype: Any) -> str:
    """A Delta type as text: ``long``, ``decimal(10,2)``, ``array<string>``, ``struct<…>``."""
    kind = type(dtype).__name__
    if kind == "PrimitiveType":
        return str(dtype.type)
    if kind == "ArrayType":
        return f"array<{_type_name(dtype.element_type)}>"
    if kind == "MapType":
        return f"map<{_type_name(dtype.key_type)},{_type_name(dtype.value_type)}>"
    if kind == "StructType":
        return "struct<" + ",".join(f"{f.name}:{_type_name(f.type)}" for f in dtype.fields) + ">"
    return str(getattr(dtype, "type", dtype))


def row_count(dt: DeltaTable) -> int:
    """Rows of the version: the log's per-file statistics, else the Parquet footers."""
    import pyarrow as pa
    import pyarrow.compute as pc

    adds = pa.table(dt.get_add_actions(flatten=True))
    if adds.num_rows == 0:
        return 0
    if "num_records" in adds.column_names and adds["num_records"].null_count == 0:
        return int(pc.sum(adds["num_records"]).as_py() or 0)
    return int(dt.to_pyarrow_dataset().count_rows())


def snapshot(root: str, t: Table, version: int | None = None) -> Snapshot | None:
    """The table's version (default: current) from its Delta log; ``None`` if never written."""
    import json

    dt = open_delta(root, t, version)
    if dt is None:
        return None
    v = dt.version()
    commit = _commit(root, t, v)
    stamp = commit.get("timestamp")
    at = (datetime.fromtimestamp(stamp / 1000, UTC).isoformat(timespec="seconds")
          .replace("+00:00", "Z") if isinstance(stamp, int | float) else "")
    meta: dict[str, Any] = {}
    raw = commit.get("userMetadata")
    if raw:
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = {}
        if isinstance(parsed, dict):
            meta = {k: parsed[k] for k in METADATA_KEYS if isinstance(parsed.get(k), str | int)}
    schema = tuple((f.name, _type_name(f.type)) for f in dt.schema().fields)
    return Snapshot(v, at, str(commit.get("operation", "")), row_count(dt), schema, meta)


def _commit(root: str, t: Table, version: int) -> dict[str, Any]:
    """The commit info of ``version``, read from the latest log: ``history()`` of a table loaded
    at an older version numbers the commits wrongly (delta-rs 1.6)."""
    from deltalake import DeltaTable

    latest = DeltaTable(table_uri(root, t.zone, t.table))
    depth = latest.version() - version + 1
    return next((c for c in latest.history(depth) if c.get("version") == version), {})


def columns(t: Table, snap: Snapshot | None) -> list[Column]:
    """The table's columns: the Delta schema's (types as stored) described by the contract;
    contract columns the table does not have (yet) are listed after them."""
    described = {c.name: c for c in t.columns}
    if snap is None:
        return list(t.columns)
    out = []
    for name, dtype in snap.schema:
        c = described.pop(name, None)
        if c is None:
            pii, text = LINEAGE_COLUMNS.get(name, ("unclassified" if t.zone != "system"
                                                    else "none", ""))
            c = Column(name, dtype, text, pii)
        out.append(Column(c.name, dtype, c.description, c.pii, c.masking))
    return out + list(described.values())
