"""Small Delta tables read into Python by ``deltalake`` (delta-rs): no Spark job, no JVM.

The run records (``system/*``: a few rows per batch) are read so by the stages, which only look
rows up (the latest delivery of a feed, the batches still to do); a Spark job per lookup cost
half a second to a second each, dozens of them per feed run. The reports and pages read them
the same way. The URI is the table's as ``deltalake`` opens it
(:meth:`kernel.layout.Layout.delta_uri`): a local path, or ``s3a://…`` with the ``AWS_*``
settings of the environment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deltalake import DeltaTable


def open_table(uri: str) -> DeltaTable | None:
    """The Delta table at ``uri`` as ``deltalake`` reads it, or ``None`` when there is none."""
    from deltalake import DeltaTable

    if not DeltaTable.is_deltatable(uri):
        return None
    return DeltaTable(uri)


def read_rows(uri: str, columns: Sequence[str] | None = None, *,
              naive_utc: bool = False) -> list[dict[str, Any]]:
    """The rows of the Delta table at ``uri`` as dicts (only ``columns`` when given), ``[]``
    when there is no table, in the order they were written: file by file, by each file's
    modification time in the log (appends to one table are serialised by its lock, so that is
    commit order; delta-rs itself lists the newest first, Spark in no stated order).
    Timestamps are UTC: aware ones, or with ``naive_utc`` naive ones (as the stages'
    ``ctx.now``, and as Spark's session in UTC returns them)."""
    import pyarrow as pa

    table = open_table(uri)
    if table is None:
        return []
    written = pa.table(table.get_add_actions(flatten=True))
    order = dict(zip(written.column("path").to_pylist(),
                     written.column("modification_time").to_pylist(), strict=True))
    dataset = table.to_pyarrow_dataset()
    names = list(columns) if columns else dataset.schema.names
    files = sorted(dataset.get_fragments(), key=lambda f: (order.get(f.path, 0), f.path))
    data = pa.concat_tables([f.to_table(schema=dataset.schema, columns=names) for f in files]) \
        if files else dataset.schema.empty_table().select(names)
    if naive_utc:
        data = data.cast(pa.schema([
            f.with_type(pa.timestamp(f.type.unit))
            if pa.types.is_timestamp(f.type) and f.type.tz is not None else f
            for f in data.schema
        ]))
    return list(data.to_pylist())
