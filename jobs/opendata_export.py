"""Open-data files of a published version: UTF-8 CSV with a byte-order mark, Parquet, and a data
dictionary generated from the dataset contract, published atomically for readers.

Layout of a target folder (any Hadoop URI: a local path, ``hdfs://``, ``s3a://``)::

    <target>/latest.json                     the pointer: {"version": ..., "folder": ..., ...}
    <target>/versions/<version>/<table>.csv      UTF-8 + BOM, comma separated, header row
    <target>/versions/<version>/<table>.parquet  one Parquet file
    <target>/versions/<version>/data_dictionary.md    (and .json) from the contract
    <target>/versions/<version>/manifest.json    files with size and SHA-256, rows, metadata
    <target>/_staging/...                        Spark's work folders, never read

Atomicity: readers open ``latest.json`` and then the folder it names. An export writes every
file straight into ``versions/<version>`` (Spark's part files go to a work folder under
``_staging`` first and are copied to their final names: nothing is renamed, which an object
store could only do as a copy and a delete), and only then replaces the pointer: on local and
HDFS roots by writing a temporary file and renaming it over the pointer (atomic replace), on
object stores by one PUT of the small object (an object is replaced whole). No reader looks at
a version folder until the pointer names it, so a reader sees the previous version or the new
one, never a mixture, and a failed export leaves the pointer (and the previous version) as they
were. Published versions are immutable: exporting the version the pointer names again is
refused; a version folder the pointer does not name (left by an interrupted export) is
replaced. Older versions stay in place for readers who pinned them; retention is a steward's
decision. Exports of one dataset must not run concurrently (the
publish of a dataset is one task at a time).

The CSV is meant for Excel: UTF-8 with a byte-order mark, comma separated, fields quoted when
needed with doubled quotes inside (RFC 4180), an empty field for a missing value (a suppressed
count), dates as ``YYYY-MM-DD``, booleans as ``true``/``false``. Spark writes the rows (no data
row passes through Python); the byte-order mark is prepended by a stream copy in the JVM. Rows
are ordered by the contract's key.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, cast

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.person_coverage import option
from kernel.contracts import DatasetContract
from kernel.storage import Storage
from masking.dataset_plan import to_contract

BOM = b"\xef\xbb\xbf"
POINTER = "latest.json"
VERSIONS = "versions"
STAGING = "_staging"
DICTIONARY = "data_dictionary"
MANIFEST = "manifest.json"
FORMATS = ("csv", "parquet")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_TYPE_NOTES = {"date": "date, YYYY-MM-DD", "boolean": "boolean, true/false"}


@dataclass(frozen=True)
class ExportedFile:
    """One file of an exported version."""

    name: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class OpenDataExport:
    """The outcome of :func:`export_open_data`."""

    dataset: str
    version: str
    folder: str
    rows: int
    files: tuple[ExportedFile, ...]


@dataclass(frozen=True)
class Disclosure:
    """The small-cell rule of an open-data contract (``options.disclosure``): the arguments of
    :func:`masking.disclosure.check_disclosure` for the disclosure gate, and of
    :func:`masking.disclosure.suppress_small_cells` for the transform."""

    dimensions: tuple[str, ...]
    count_column: str
    low: int = 1
    high: int = 2


def disclosure_settings(contract: DatasetContract) -> Disclosure | None:
    """The contract's ``options.disclosure`` (``dimensions`` and ``count_column`` required;
    ``low`` and ``high`` default to 1 and 2), or None when the contract has none."""
    raw = option(contract, "disclosure", None)
    if not raw:
        return None
    dims = tuple(str(d) for d in raw.get("dimensions") or ())
    count = str(raw.get("count_column") or "")
    names = {c.name for c in contract.columns}
    if not dims or not count or not {*dims, count} <= names:
        raise ValueError(f"{contract.name}: options.disclosure needs dimensions and a "
                         "count_column among the contract's columns")
    return Disclosure(dims, count, int(raw.get("low", 1)), int(raw.get("high", 2)))


# ------------------------------------------------------------------------------ file system
def _single_part(st: Storage, folder: str, suffix: str) -> str:
    """The one data file Spark wrote into ``folder``."""
    parts = [f.path for f in st.list_files(folder)
             if f.name.startswith("part-") and f.name.endswith(suffix)]
    if len(parts) != 1:
        raise OSError(f"expected one {suffix} part file in a staging folder, found {len(parts)}")
    return parts[0]


def _describe(st: Storage, folder: str, name: str) -> ExportedFile:
    """Size and SHA-256 (streamed in the JVM) of ``folder/name``."""
    path = f"{folder}/{name}"
    return ExportedFile(name, st.file_size(path), st.sha256(path))


# ------------------------------------------------------------------------- data dictionary
def formats(contract: DatasetContract) -> tuple[str, ...]:
    """The export formats of the contract (``options.export.formats``; default CSV and
    Parquet)."""
    chosen = tuple((option(contract, "export", {}) or {}).get("formats", FORMATS))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise ValueError(f"{contract.name}: options.export.formats must be among {list(FORMATS)}")
    return chosen


def dictionary(contract: DatasetContract, version: str, files: list[str]) -> dict[str, Any]:
    """The data dictionary of a version (JSON-serialisable), from the contract."""
    rule = disclosure_settings(contract)
    doc: dict[str, Any] = {
        "dataset": contract.name,
        "title": contract.title,
        "description": contract.description,
        "contract_version": contract.version,
        "version": version,
        "audience": list(contract.audience),
        "owner": dict(contract.owner),
        "key": list(contract.key),
        "files": files,
        "csv": "UTF-8 with byte-order mark, comma separated, header row, empty field = no value",
        "columns": [{"name": c.name, "type": c.type, "description": c.description}
                    for c in contract.columns],
    }
    if rule is not None:
        doc["small_cells"] = (
            f"a {rule.count_column} count from {rule.low} to {rule.high} is not published "
            "(empty, suppressed = true); other cells are withheld where needed so that no "
            "withheld count can be derived from totals"
        )
    return doc


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def dictionary_markdown(doc: Mapping[str, Any]) -> str:
    """The data dictionary as Markdown (UTF-8)."""
    lines = [
        f"# {doc['title']}",
        "",
        f"`{doc['dataset']}` · version {doc['version']} · contract version "
        f"{doc['contract_version']}",
        "",
        str(doc["description"]),
        "",
        f"- Owner: {doc['owner'].get('agency', '')}",
        f"- Audience: {', '.join(doc['audience'])}",
        f"- Key: {', '.join(doc['key'])}",
        f"- Files: {', '.join(doc['files'])}",
        f"- CSV: {doc['csv']}",
    ]
    if "small_cells" in doc:
        lines.append(f"- Small cells: {doc['small_cells']}")
    lines += ["", "| column | type | description |", "|---|---|---|"]
    for c in doc["columns"]:
        kind = _TYPE_NOTES.get(c["type"], c["type"])
        lines.append(f"| {c['name']} | {kind} | {_cell(c['description'])} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------- export
def version_folder(target: str, version: str) -> str:
    """Where version ``version`` of an export lives under ``target``."""
    return f"{target.rstrip('/')}/{VERSIONS}/{version}"


def current(spark: SparkSession, target: str) -> dict[str, Any] | None:
    """The pointer of ``target`` (``version``, ``folder``, ``files``, …), or None before the first
    export. Readers open this first, then the files of ``folder``."""
    st = Storage(spark, target)
    path = f"{st.root}/{POINTER}"
    if not st.file_exists(path):
        return None
    return cast(dict[str, Any], json.loads(st.read_bytes(path).decode("utf-8")))


def export_open_data(
    df: DataFrame,
    contract: DatasetContract,
    target: str,
    version: str,
    metadata: Mapping[str, Any] | None = None,
) -> OpenDataExport:
    """Write version ``version`` of ``df`` (shaped by ``contract``) under ``target`` as CSV
    and/or Parquet (``options.export.formats``) with a data dictionary (Markdown and JSON) and a
    manifest, then point ``latest.json`` at it (see the module docstring for the atomicity).

    ``metadata`` (JSON-serialisable: snapshot date, key id, Delta version, publish time, …) is
    recorded in the manifest and the pointer. No clock is read here.
    """
    if not _VERSION.match(version):
        raise ValueError(f"{contract.name}: invalid export version label {version!r}")
    spark = df.sparkSession
    st = Storage(spark, target)
    root = target.rstrip("/")
    final = version_folder(root, version)
    pointed = current(spark, root)
    if pointed is not None and pointed.get("version") == version:
        raise FileExistsError(f"{contract.name}: version {version} is already the published "
                              "open-data version (published versions are immutable)")
    chosen = formats(contract)
    work = f"{root}/{STAGING}/{version}.{uuid.uuid4().hex}"
    table = contract.table
    frame = to_contract(df, contract).repartition(1)
    if contract.key:
        frame = frame.sortWithinPartitions(*[F.col(k).asc_nulls_first() for k in contract.key])
    frame = frame.persist()
    try:
        rows = frame.count()
        if st.file_exists(final):  # not pointed at: left by an interrupted export
            st.delete_tree(final)
        names: list[str] = []
        if "csv" in chosen:
            frame.write.option("header", True).option("encoding", "UTF-8").option(
                "quote", '"').option("escape", '"').option("nullValue", "").option(
                "dateFormat", "yyyy-MM-dd").csv(f"{work}/csv")
            st.copy_after(BOM, _single_part(st, f"{work}/csv", ".csv"), f"{final}/{table}.csv")
            names.append(f"{table}.csv")
        if "parquet" in chosen:
            frame.write.parquet(f"{work}/parquet")
            st.copy(_single_part(st, f"{work}/parquet", ".parquet"), f"{final}/{table}.parquet")
            names.append(f"{table}.parquet")
        names += [f"{DICTIONARY}.md", f"{DICTIONARY}.json"]
        doc = dictionary(contract, version, names)
        st.write_bytes(f"{final}/{DICTIONARY}.md", dictionary_markdown(doc).encode("utf-8"))
        st.write_bytes(f"{final}/{DICTIONARY}.json",
               json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8"))
        files = tuple(_describe(st, final, n) for n in names)
        extra = dict(metadata or {})
        manifest = {"dataset": contract.name, "contract_version": contract.version,
                    "version": version, "rows": rows, "files": [asdict(f) for f in files],
                    "metadata": extra}
        st.write_bytes(f"{final}/{MANIFEST}",
               json.dumps(manifest, ensure_ascii=False, indent=2, default=str).encode("utf-8"))
        pointer = {"dataset": contract.name, "version": version,
                   "folder": f"{VERSIONS}/{version}", "files": [*names, MANIFEST],
                   "rows": rows, "metadata": extra}
        st.replace(f"{root}/{POINTER}",
                   json.dumps(pointer, ensure_ascii=False, indent=2, default=str).encode("utf-8"),
                   f"{root}/{STAGING}")
    finally:
        frame.unpersist()
        st.delete_tree(work)
    return OpenDataExport(contract.name, version, final, rows, files)
