"""System-zone tables: the run records stewards and auditors read.

``system/deliveries`` (one row per delivered file or pull: landed, duplicate or refused; a
pull records its source, record count and the watermark the next pull starts from),
``system/batches`` (one row per batch and stage, with the reconciliation counts),
``system/quality_results`` (one row per rule and batch), ``system/reconciliation`` (one row
per batch and reconciliation check: expected and actual counts), ``system/publishes`` and
``system/acceptances`` (a steward's acceptance of a change made to a silver table outside the
pipeline, :mod:`stages.provenance`).
They hold counts, digests and rule ids: never a value from a personal-data column.

Every run appends to these tables, whatever its feed: each append holds the table's lock
(``system/locks/system.<table>.lock``, :func:`kernel.exclusive.held`) for its one commit, so that
two drivers never commit to one table at once, which Delta on ``s3a://`` does not survive.
An append is a few rows: it is written by ``deltalake`` from the driver's Python
(:meth:`kernel.storage.Storage.append_rows`), not by a Spark job, which cost one to two seconds
per append (a run makes a dozen per feed). The stages look rows up the same way
(:meth:`Records.rows`, :mod:`kernel.delta_rows`): a Spark read of a table of a few hundred rows
cost a job of half a second or more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pyspark.sql import DataFrame

from kernel.exclusive import held
from kernel.storage import Storage

if TYPE_CHECKING:
    import pyarrow as pa

APPEND_WAIT_SECONDS = 900.0
"""How long an append waits for another run's append to the same table (seconds)."""
APPEND_STALE_HOURS = 0.25
"""An append lock older than this is a crashed run's (an append is one small commit)."""

SCHEMAS: dict[str, str] = {
    "deliveries": (
        "feed string, batch_id string, file_name string, file_date date, sha256 string, "
        "bytes long, status string, reason string, landing_path string, run_id string, "
        "at timestamp, records long, watermark string, source string"
    ),
    "batches": (
        "feed string, batch_id string, stage string, status string, rows_in long, "
        "rows_out long, duplicates long, quarantined long, reason string, "
        "contract_version string, run_id string, at timestamp"
    ),
    "quality_results": (
        "result_id string, feed string, batch_id string, suite string, rule_id string, "
        "column string, check string, action string, element_count long, "
        "unexpected_count long, success boolean, run_id string, at timestamp"
    ),
    "reconciliation": (
        "feed string, batch_id string, check string, expected long, actual long, "
        "holds boolean, run_id string, at timestamp"
    ),
    "releases": (
        "release_id string, feed string, batch_id string, source_rows array<long>, "
        "corrected_columns array<string>, released_by string, reason string, run_id string, "
        "at timestamp"
    ),
    "acceptances": (
        "zone string, table string, version long, operation string, feed string, "
        "rows_changed string, accepted_by string, reason string, run_id string, at timestamp"
    ),
    "publishes": (
        "dataset string, version long, status string, reason string, rows long, key_id string, "
        "inputs string, contract_version string, run_id string, at timestamp"
    ),
}


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of a system table, from its Spark DDL (:data:`SCHEMAS`): Spark and
    delta-rs then write the same Delta types (a naive ``at`` is taken as UTC, as ``ctx.now``
    is)."""
    import pyarrow as pa

    simple = {"string": pa.string(), "long": pa.int64(), "boolean": pa.bool_(),
              "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC")}
    fields = []
    for column in SCHEMAS[table].split(", "):
        name, kind = column.split(" ", 1)
        inner = kind.removeprefix("array<").removesuffix(">")
        fields.append(pa.field(name, pa.list_(simple[inner]) if inner != kind else simple[kind]))
    return pa.schema(fields)


class Records:
    """Append-only access to the system tables."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def frame(self, table: str, rows: Sequence[Mapping[str, Any]]) -> DataFrame:
        """Rows as a DataFrame with the table's schema (missing keys are null)."""
        spark = self.storage.spark
        schema = spark.createDataFrame([], SCHEMAS[table]).schema
        names = schema.fieldNames()
        data = [tuple(r.get(n) for n in names) for r in rows]
        return spark.createDataFrame(data, schema)

    def arrow(self, table: str, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
        """Rows as an Arrow table with the table's schema (missing keys are null)."""
        import pyarrow as pa

        schema = arrow_schema(table)
        return pa.Table.from_pylist([{n: r.get(n) for n in schema.names} for r in rows],
                                    schema=schema)

    def append(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Append rows to a system table (one commit, under the table's lock)."""
        if rows:
            data = self.arrow(table, rows)
            path = self.storage.layout.lock(f"system.{table}")
            with held(self.storage, path, f"system.{table}", "records",
                      wait=APPEND_WAIT_SECONDS, stale_hours=APPEND_STALE_HOURS):
                self.storage.append_rows(data, "system", table)

    def read(self, table: str) -> DataFrame:
        """A system table, empty (with its schema) before the first write."""
        if self.storage.exists("system", table):
            return self.storage.read("system", table)
        return self.frame(table, [])

    def rows(self, table: str, **equal: Any) -> list[dict[str, Any]]:
        """The rows of a system table whose columns equal ``equal`` (all rows without), read
        by ``deltalake`` in this process: a lookup, no Spark job (:meth:`Storage.rows`;
        timestamps naive UTC). No rows before the first write."""
        return [r for r in self.storage.rows("system", table)
                if all(r.get(k) == v for k, v in equal.items())]

    def latest_rows(self, table: str, keys: Sequence[str], **equal: Any) -> list[dict[str, Any]]:
        """:meth:`rows`, the latest one (by ``at``; of equal times, the one written last) per
        ``keys``, in the order the keys first appear."""
        out: dict[tuple[Any, ...], dict[str, Any]] = {}
        for r in self.rows(table, **equal):
            k = tuple(r.get(key) for key in keys)
            if k not in out or r["at"] >= out[k]["at"]:
                out[k] = r
        return list(out.values())
