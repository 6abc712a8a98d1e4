"""The zone layout of a storage root: where every table, file and record lives.

This is the one place that knows the layout; everything else asks it. It is pure (no Spark, no
I/O), so the commands and services that read without a JVM use it as the jobs do.

- tables: ``<root>/<zone>/<name>`` (bronze and quarantine by feed name,
  ``bronze/moi.household_registry``; silver by feed and entity name; gold and open data by
  table name, ``gold/person_coverage``);
- deliveries: ``<root>/inbox/<agency>/<feed>/``; landed batches ``<root>/landing/<feed>/<batch>``,
  refused files under ``_rejected/<run>``, pulls in progress under ``_pulling/<run>``;
- the system zone: run records (Delta tables), ``locks/``, ``audit/``, ``lineage/`` and
  ``reports/quality/``;
- open-data files: ``<root>/opendata/files/<table>/``;
- the sandbox's agency sources (simulator data): ``<root>/sources/<agency>/<table>/``.

The root is a local directory (``/data/lakehouse``, ``file:/data/lakehouse``) or any URI Hadoop
understands (``s3a://bucket/path``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ZONES = frozenset({"landing", "bronze", "quarantine", "silver", "gold", "opendata", "system"})
"""The zones of the lakehouse, from the agencies' files (landing) to the run records (system)."""


def local_path(uri: str) -> Path | None:
    """The local file-system path of a storage path (``/x``, ``file:/x``, ``file:///x``), or
    ``None`` for a remote one (``s3a://bucket/x``)."""
    if uri.startswith("file:"):
        return Path("/" + uri[len("file:"):].lstrip("/"))
    return None if "://" in uri else Path(uri)


def split_table(name: str) -> tuple[str, str] | None:
    """``(zone, table)`` of a table named ``<zone>.<table>`` with a known zone
    (``gold.person_coverage``; ``silver.moi.residents``: the table is everything after the
    first dot), else ``None`` (a path, or a name without a zone)."""
    zone, _, table = name.partition(".")
    if zone not in ZONES or not table or "/" in name:
        return None
    return zone, table


@dataclass(frozen=True)
class Layout:
    """The layout of one storage root."""

    root: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", self.root.rstrip("/") or "/")

    # ---------------------------------------------------------------- the root
    @property
    def local(self) -> Path | None:
        """The root as a local path, or ``None`` on a remote file system."""
        return local_path(self.root)

    @property
    def is_local(self) -> bool:
        """True when the root is a local directory."""
        return self.local is not None

    @property
    def uri(self) -> str:
        """The root as a URI (``file:///data/lakehouse``, ``s3a://bucket/path``): the namespace
        of its datasets in the lineage."""
        local = self.local
        return f"file://{local}" if local is not None else self.root

    def _on_disk(self, *parts: str) -> Path:
        local = self.local
        if local is None:
            raise ValueError(f"{'/'.join(parts)} needs a local storage root, not {self.root}")
        return local.joinpath(*parts)

    # ---------------------------------------------------------------- tables
    def table(self, zone: str, name: str) -> str:
        """The location of table ``name`` in ``zone`` (as Spark and Hadoop address it)."""
        if zone not in ZONES:
            raise ValueError(f"unknown zone {zone!r} (one of {sorted(ZONES)})")
        return f"{self.root}/{zone}/{name}"

    def delta_uri(self, zone: str, name: str) -> str:
        """The location of a table as ``deltalake`` (delta-rs) opens it: a plain local path,
        or the root's URI."""
        local = self.local
        return str(local / zone / name) if local is not None else self.table(zone, name)

    def zone_dir(self, zone: str) -> Path:
        """The local folder of a zone (local roots only)."""
        if zone not in ZONES:
            raise ValueError(f"unknown zone {zone!r} (one of {sorted(ZONES)})")
        return self._on_disk(zone)

    # ---------------------------------------------------------------- deliveries
    def inbox(self, inbox: str) -> str:
        """The drop folder ``<root>/inbox/<agency>/<feed>``."""
        return f"{self.root}/inbox/{inbox}"

    @property
    def inbox_dir(self) -> Path:
        """The local folder of every drop folder, ``<root>/inbox`` (local roots)."""
        return self._on_disk("inbox")

    def landing(self, feed: str) -> str:
        """The landing folder of a feed (one sub-folder per landed batch)."""
        return f"{self.root}/landing/{feed}"

    def landed_batch(self, feed: str, batch_id: str) -> str:
        """The folder of one landed batch."""
        return f"{self.landing(feed)}/{batch_id}"

    def rejected(self, feed: str, run_id: str | None = None) -> str:
        """Where refused files of a feed are kept (per run)."""
        base = f"{self.landing(feed)}/_rejected"
        return base if run_id is None else f"{base}/{run_id}"

    def duplicates(self, feed: str, run_id: str | None = None) -> str:
        """Where the notes of resent files of a feed are kept (per run)."""
        base = f"{self.landing(feed)}/_duplicates"
        return base if run_id is None else f"{base}/{run_id}"

    def pulling(self, feed: str, run_id: str | None = None) -> str:
        """Where a pull writes before it is landed (per run)."""
        base = f"{self.landing(feed)}/_pulling"
        return base if run_id is None else f"{base}/{run_id}"

    # ---------------------------------------------------------------- the system zone
    def lock(self, name: str) -> str:
        """The lock file of a feed or dataset."""
        return f"{self.root}/system/locks/{name}.lock"

    @property
    def audit_dir(self) -> Path | str:
        """The hash-chained audit log's folder: a local path, or on an object store its URI
        (``s3a://bucket/root/system/audit``; :mod:`audit.files` keeps it as objects)."""
        local = self.local
        return local / "system" / "audit" if local is not None else f"{self.root}/system/audit"

    @property
    def lineage_dir(self) -> Path:
        """The OpenLineage event files' folder (local roots)."""
        return self._on_disk("system", "lineage")

    @property
    def lineage_uri(self) -> str:
        """The OpenLineage events' folder as a URI: on an object store they are objects there
        (:class:`lineage.emit.FileEmitter`), on a local root it is :attr:`lineage_dir`."""
        local = self.local
        return str(local / "system" / "lineage") if local is not None else \
            f"{self.root}/system/lineage"

    @property
    def reports_dir(self) -> Path:
        """The steward's HTML quality reports' folder (local roots)."""
        return self._on_disk("system", "reports", "quality")

    @property
    def reports_uri(self) -> str:
        """The quality reports' folder as a URI (on an object store, the pages are objects
        there); on a local root it is :attr:`reports_dir`."""
        local = self.local
        return str(local / "system" / "reports" / "quality") if local is not None else \
            f"{self.root}/system/reports/quality"

    # ---------------------------------------------------------------- published files
    def opendata_files(self, table: str) -> str:
        """Where the files of an open-data table are exported, one folder per version."""
        return f"{self.root}/opendata/files/{table}"

    @property
    def sources_dir(self) -> Path:
        """The sandbox's agency sources (the API simulator's data; local roots)."""
        return self._on_disk("sources")

    def source_dir(self, feed: str) -> Path:
        """The sandbox's data of the agency source of ``feed`` (``nhia.insured_status``):
        ``<root>/sources/<agency>/<table>`` (local roots)."""
        agency, _, table = feed.partition(".")
        if not agency or not table:
            raise ValueError(f"a feed is named <agency>.<table>, not {feed!r}")
        return self.sources_dir / agency / table
