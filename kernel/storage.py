"""The one module that owns Delta reads, writes and MERGEs, and file I/O under the root.

Where things live is :mod:`kernel.layout`'s (``<root>/<zone>/<name>``, the inbox, landing, the
system zone). The root is a local directory by default, or any URI Hadoop understands
(``s3a://bucket/path``): files are handled through Hadoop's FileSystem API, so the same code
runs on object storage.

Each write is one Delta commit carrying ``userMetadata`` (JSON: run id, contract versions, ...),
so readers see the previous version or the new one, never a mixture.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from audit.objects import folder, is_object_uri
from kernel import faults
from kernel.layout import Layout

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

_USER_METADATA = "spark.databricks.delta.commitInfo.userMetadata"
ATOMIC_RENAME_SCHEMES = frozenset({"file", "hdfs", "viewfs"})
"""File systems whose rename replaces a file atomically; elsewhere a PUT replaces an object."""
CHECKPOINT_INTERVAL = 10
"""Versions between the checkpoints of a table :meth:`Storage.append_rows` writes (Spark's
default; delta-rs's own is 100, which would leave Spark's readers 100 log entries to replay)."""


@dataclass(frozen=True)
class FileInfo:
    """A file in the storage root (inbox or landing)."""

    path: str
    name: str
    size: int


@dataclass(frozen=True)
class Commit:
    """One version of a Delta table as its log records it: the operation (``WRITE``,
    ``MERGE``, ``DELETE``, ...), the writer's ``userMetadata`` (parsed; empty when the writer
    left none) and the operation's metrics (row counts, as Delta writes them: text)."""

    version: int
    operation: str
    metadata: dict[str, Any]
    metrics: dict[str, str]


def _parsed(user_metadata: str | None) -> dict[str, Any]:
    """``userMetadata`` as a dict (empty when absent or not a JSON object)."""
    if not user_metadata:
        return {}
    try:
        parsed = json.loads(user_metadata)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _text(metrics: Mapping[str, Any] | None) -> dict[str, str]:
    """A commit's operation metrics as text (Spark writes them so; delta-rs as numbers)."""
    return {str(k): str(v) for k, v in (metrics or {}).items()}


class Storage:
    """Delta tables and files under one storage root."""

    def __init__(self, spark: SparkSession, root: str) -> None:
        self.spark = spark
        self.layout = Layout(root)
        self.root = self.layout.root

    def path(self, zone: str, name: str) -> str:
        """The location of table ``name`` in ``zone`` (:meth:`kernel.layout.Layout.table`)."""
        return self.layout.table(zone, name)

    # ----------------------------------------------------------------- tables
    def exists(self, zone: str, name: str) -> bool:
        """True if a Delta table exists at the location (its log read by ``deltalake``: no
        Spark job)."""
        from deltalake import DeltaTable

        return bool(DeltaTable.is_deltatable(self.layout.delta_uri(zone, name)))

    def read(self, zone: str, name: str, version: int | None = None) -> DataFrame:
        """Read a Delta table, optionally at an older version (time travel)."""
        reader = self.spark.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        return reader.load(self.path(zone, name))

    def _log(self, zone: str, name: str) -> Any:
        """The table's log as ``deltalake`` (delta-rs) reads it, or
        ``None`` when there is no table: versions and commits without a Spark job."""
        from kernel.delta_rows import open_table

        return open_table(self.layout.delta_uri(zone, name))

    def rows(self, zone: str, name: str,
             columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Every row of a small table (the run records), read by ``deltalake`` in this process
        (no Spark job); timestamps naive UTC, as ``ctx.now``. None when there is no table."""
        from kernel.delta_rows import read_rows

        return read_rows(self.layout.delta_uri(zone, name), columns, naive_utc=True)

    def version(self, zone: str, name: str) -> int | None:
        """The current version of a table, or None when it does not exist."""
        log = self._log(zone, name)
        return None if log is None else int(log.version())

    def commit_metadata(self, zone: str, name: str, version: int | None = None) -> dict[str, Any]:
        """The ``userMetadata`` of a version (default: the current one), parsed as JSON."""
        log = self._log(zone, name)
        if log is None:
            return {}
        wanted = int(log.version()) if version is None else version
        found = [c for c in log.history(1 if version is None else None)
                 if c.get("version") == wanted]
        return _parsed(found[0].get("userMetadata")) if found else {}

    def history(self, zone: str, name: str, after: int = -1) -> list[Commit]:
        """The commits of a table still in its log, newer than version ``after``, oldest
        first (none when the table does not exist)."""
        log = self._log(zone, name)
        if log is None:
            return []
        commits = [c for c in log.history() if int(c.get("version", -1)) > after]
        return sorted((Commit(int(c["version"]), str(c.get("operation") or ""),
                              _parsed(c.get("userMetadata")),
                              _text(c.get("operationMetrics")))
                       for c in commits), key=lambda c: c.version)

    @contextmanager
    def _metadata(self, metadata: Mapping[str, Any] | None) -> Iterator[None]:
        """Attach ``metadata`` to the Delta commits made inside the block (MERGE included)."""
        conf = self.spark.conf
        previous = conf.get(_USER_METADATA, None)
        if metadata:
            conf.set(_USER_METADATA, json.dumps(metadata, ensure_ascii=False, sort_keys=True))
        try:
            yield
        finally:
            if previous is None:
                conf.unset(_USER_METADATA)
            else:
                conf.set(_USER_METADATA, previous)

    def append(
        self, df: DataFrame, zone: str, name: str, metadata: Mapping[str, Any] | None = None
    ) -> None:
        """Append ``df`` to a table (created on first write) in one commit.

        A column the table does not have yet is added (``mergeSchema``): a new optional column
        of a system table, or a new column an agency starts delivering (kept in bronze)."""
        path = self.path(zone, name)
        with self._metadata(metadata), faults.writing(zone, name, path):
            held = faults.held(faults.lossy(df, zone, name), zone, name)
            held.write.format("delta").mode("append").option("mergeSchema", "true").save(path)

    def append_rows(self, rows: pa.Table, zone: str, name: str) -> None:
        """Append a small Arrow table (run records) in one commit, written by ``deltalake``
        (delta-rs) from this process: no Spark job, a few milliseconds instead of a second or
        two. The table is created on first write; a column it lacks is added. Every
        :data:`CHECKPOINT_INTERVAL` versions a checkpoint is written, as Spark would. On an
        object store the commit is a conditional put (``AWS_CONDITIONAL_PUT=etag``,
        docs/cluster.md); the caller holds the table's lock (:mod:`kernel.records`), as for any
        other writer."""
        from deltalake import DeltaTable, write_deltalake

        uri = self.layout.delta_uri(zone, name)
        write_deltalake(uri, rows, mode="append", schema_mode="merge")
        table = DeltaTable(uri)
        if table.version() and table.version() % CHECKPOINT_INTERVAL == 0:
            table.create_checkpoint()  # as Spark would: its reads replay at most 10 log entries

    def overwrite(
        self, df: DataFrame, zone: str, name: str, metadata: Mapping[str, Any] | None = None
    ) -> None:
        """Replace a table's content (and schema) in one commit; older versions stay readable."""
        path = self.path(zone, name)
        with self._metadata(metadata), faults.writing(zone, name, path):
            held = faults.held(faults.lossy(df, zone, name), zone, name)
            held.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(
                path
            )

    def insert_new(
        self,
        df: DataFrame,
        zone: str,
        name: str,
        keys: Sequence[str],
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """Insert the rows of ``df`` whose ``keys`` are not in the table yet (idempotent)."""
        if not self.exists(zone, name):
            self.append(df, zone, name, metadata)
            return
        from delta.tables import DeltaTable

        cond = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in keys)
        path = self.path(zone, name)
        with self._metadata(metadata), faults.writing(zone, name, path):
            (
                DeltaTable.forPath(self.spark, path)
                .alias("t")
                .merge(df.alias("s"), cond)
                .whenNotMatchedInsertAll()
                .execute()
            )

    def upsert(
        self,
        df: DataFrame,
        zone: str,
        name: str,
        keys: Sequence[str],
        newer: str,
        update: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """MERGE ``df`` into a table on ``keys``: update where ``newer`` holds, insert new keys.

        ``newer`` is a SQL condition over ``s`` (source) and ``t`` (target); ``update`` maps
        columns to SQL expressions (default: every column from the source).
        """
        if not self.exists(zone, name):
            self.append(df, zone, name, metadata)
            return
        from delta.tables import DeltaTable

        cond = " AND ".join(f"t.`{k}` = s.`{k}`" for k in keys)
        assignments = dict(update) if update else {f"`{c}`": f"s.`{c}`" for c in df.columns}
        path = self.path(zone, name)
        with self._metadata(metadata), faults.writing(zone, name, path):
            (
                DeltaTable.forPath(self.spark, path)
                .alias("t")
                .merge(df.alias("s"), cond)
                .whenMatchedUpdate(condition=newer, set=cast(dict[str, Any], assignments))
                .whenNotMatchedInsertAll()
                .execute()
            )

    def contains(self, zone: str, name: str, column: str, value: str) -> bool:
        """True if the table exists and some row has ``column = value`` (a write guard)."""
        if not self.exists(zone, name):
            return False
        from pyspark.sql import functions as F

        return bool(self.read(zone, name).where(F.col(column) == value).limit(1).count())

    # ------------------------------------------------------------------ files
    @property
    def _jvm(self) -> Any:
        return cast(Any, self.spark)._jvm

    @property
    def _hadoop_conf(self) -> Any:
        return cast(Any, self.spark)._jsc.hadoopConfiguration()

    def _fs(self, path: str) -> tuple[Any, Any]:
        jvm = self._jvm
        hpath = jvm.org.apache.hadoop.fs.Path(path)
        fs = hpath.getFileSystem(self._hadoop_conf)
        if fs.getUri().getScheme() == "file":
            # The raw local file system: no .crc side files next to the agencies' files.
            fs = jvm.org.apache.hadoop.fs.FileSystem.getLocal(self._hadoop_conf).getRaw()
        return fs, hpath

    def list_files(self, folder: str) -> list[FileInfo]:
        """The files directly in ``folder`` (none if it does not exist), sorted by name."""
        fs, hpath = self._fs(folder)
        if not fs.exists(hpath):
            return []
        out = [
            FileInfo(path=str(st.getPath().toString()), name=st.getPath().getName(),
                     size=int(st.getLen()))
            for st in fs.listStatus(hpath)
            if st.isFile()
        ]
        return sorted(out, key=lambda f: f.name)

    def list_dirs(self, folder: str) -> list[str]:
        """The names of the folders directly in ``folder`` (none if it does not exist), sorted."""
        fs, hpath = self._fs(folder)
        if not fs.exists(hpath):
            return []
        return sorted(
            str(st.getPath().getName()) for st in fs.listStatus(hpath) if st.isDirectory()
        )

    def file_size(self, path: str) -> int:
        """The size of a file in bytes."""
        fs, hpath = self._fs(path)
        return int(fs.getFileStatus(hpath).getLen())

    def file_exists(self, path: str) -> bool:
        """True if a file or folder exists at ``path``."""
        fs, hpath = self._fs(path)
        return bool(fs.exists(hpath))

    def read_bytes(self, path: str, limit: int | None = None) -> bytes:
        """The content of a (small) file, or its first ``limit`` bytes."""
        fs, hpath = self._fs(path)
        stream = fs.open(hpath)
        try:
            size = fs.getFileStatus(hpath).getLen()
            n = size if limit is None else min(size, limit)
            jvm = self._jvm
            return bytes(jvm.org.apache.commons.io.IOUtils.toByteArray(stream, int(n)))
        finally:
            stream.close()

    def iter_bytes(self, path: str, chunk: int = 1 << 20) -> Iterator[bytes]:
        """The content of a (large) file, ``chunk`` bytes at a time."""
        fs, hpath = self._fs(path)
        stream = fs.open(hpath)
        try:
            left = int(fs.getFileStatus(hpath).getLen())
            copy = self._jvm.org.apache.commons.io.IOUtils
            while left > 0:
                n = min(chunk, left)
                yield bytes(copy.toByteArray(stream, n))
                left -= n
        finally:
            stream.close()

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write a small file (overwriting), creating parent folders."""
        fs, hpath = self._fs(path)
        out = fs.create(hpath, True)
        try:
            out.write(bytearray(data))
        finally:
            out.close()

    def copy(self, src: str, dst: str) -> None:
        """Copy a file byte for byte (across file systems if needed)."""
        jvm = self._jvm
        sfs, spath = self._fs(src)
        dfs, dpath = self._fs(dst)
        conf = self._hadoop_conf
        ok = jvm.org.apache.hadoop.fs.FileUtil.copy(sfs, spath, dfs, dpath, False, True, conf)
        if not ok:
            raise OSError(f"could not copy {src} to {dst}")

    def copy_after(self, head: bytes, src: str, dst: str) -> None:
        """Write ``dst`` as ``head`` followed by the bytes of ``src`` (a byte-order mark before a
        Spark-written CSV), streamed in the JVM (across file systems if needed)."""
        sfs, spath = self._fs(src)
        dfs, dpath = self._fs(dst)
        stream = sfs.open(spath)
        try:
            out = dfs.create(dpath, True)
            try:
                out.write(bytearray(head))
                self._jvm.org.apache.hadoop.io.IOUtils.copyBytes(stream, out, 65536, False)
            finally:
                out.close()
        finally:
            stream.close()

    def sha256(self, path: str) -> str:
        """The SHA-256 of a file (hex), streamed in the JVM."""
        fs, hpath = self._fs(path)
        stream = fs.open(hpath)
        try:
            return str(self._jvm.org.apache.commons.codec.digest.DigestUtils.sha256Hex(stream))
        finally:
            stream.close()

    def delete(self, path: str) -> None:
        """Delete a file (no error if it is already gone)."""
        fs, hpath = self._fs(path)
        fs.delete(hpath, False)

    def create_exclusive(self, path: str, data: bytes) -> bool:
        """Create a small file only if none exists, atomically: of two callers racing on one
        path, on one host or on two, exactly one gets True. Local and HDFS roots use the file
        system's exclusive create; an object store (``s3a://``) a conditional PUT
        (``If-None-Match: *``, :meth:`audit.objects.Folder.create`), since Hadoop's S3A
        connector only checks for the object before writing it."""
        if is_object_uri(path):
            parent, _, name = path.rstrip("/").rpartition("/")
            return folder(parent).create(name, data)
        fs, hpath = self._fs(path)
        fs.mkdirs(hpath.getParent())
        try:
            out = fs.create(hpath, False)
        except Exception as exc:  # FileAlreadyExistsException from the JVM
            if "AlreadyExists" in str(exc) or "already exists" in str(exc):
                return False
            raise
        try:
            out.write(bytearray(data))
        finally:
            out.close()
        return True

    def delete_tree(self, path: str) -> None:
        """Delete a folder and everything in it (no error if it is already gone)."""
        fs, hpath = self._fs(path)
        fs.delete(hpath, True)

    def replace(self, path: str, data: bytes, scratch: str) -> None:
        """Write a small file so that readers see its old or its new content, never a part:
        where a rename replaces a file atomically (:data:`ATOMIC_RENAME_SCHEMES`), a temporary
        file under ``scratch`` renamed over ``path``; on an object store one PUT (an object is
        replaced whole)."""
        fs, dst = self._fs(path)
        if str(fs.getUri().getScheme()) not in ATOMIC_RENAME_SCHEMES:
            self.write_bytes(path, data)
            return
        tmp = f"{scratch.rstrip('/')}/{dst.getName()}.{uuid.uuid4().hex}"
        self.write_bytes(tmp, data)
        _, src = self._fs(tmp)
        jvm = self._jvm
        context = jvm.org.apache.hadoop.fs.FileContext.getFileContext(dst.toUri(),
                                                                      self._hadoop_conf)
        rename = jvm.org.apache.hadoop.fs.Options.Rename
        options = cast(Any, self.spark).sparkContext._gateway.new_array(rename, 1)
        options[0] = rename.OVERWRITE
        context.rename(src, dst, options)
