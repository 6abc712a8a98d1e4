"""OpenLineage events for the pipeline's job runs (land, bronze, silver, publish).

Each stage of a feed and each publish is one job: a START event when it begins and a COMPLETE
(or FAIL) event when it ends, written under ``<root>/system/lineage/`` (or sent to
``OPENLINEAGE_URL``). Datasets are named ``<zone>/<table>`` in the namespace of the storage
root (its URI, :attr:`kernel.layout.Layout.uri`); the published dataset carries its schema,
ownership, Delta version and the column lineage from each agency field to the published column,
masked columns flagged ``masking: true``.
Silver outputs carry the batch's data-quality assertions (rule ids and outcomes: no values).
Events carry names, counts and rule ids only: never a value from the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kernel.contracts import DatasetContract, FeedContract
from lineage.events import Assertion, ColumnSource, Dataset, ParentRef, dataset, run_event

if TYPE_CHECKING:
    from kernel.context import Context

JOB_NAMESPACE = "convergence-lakehouse"


def feed_schema(contract: FeedContract, typed: bool) -> list[tuple[str, str, str]]:
    """(name, type, description) of a feed's columns: strings in bronze, typed in silver."""
    return [
        (f.name, f.type if typed else "string", f"{f.wire} ({f.pii}; masking {f.masking})")
        for f in contract.fields
    ]


def source_dataset(ctx: Context, contract: FeedContract, owners: list[str]) -> Dataset:
    """Where a feed comes from: its inbox (file drops), or the agency's API or database
    (pulls; named by the contract's endpoint or table, without credentials)."""
    d = contract.delivery
    if d.kind == "file_drop":
        return dataset(ctx.layout.uri, f"inbox/{d.inbox}", owners=owners,
                       documentation=contract.title)
    scheme = "https" if d.kind == "api_pull" else "postgres"
    name = str(d.options.get("endpoint") or d.options.get("table") or contract.name)
    return dataset(f"{scheme}://{contract.agency}", name, owners=owners,
                   documentation=contract.title)


def stage_datasets(
    ctx: Context, contract: FeedContract, stage: str, quality: Sequence[Assertion] = (),
    versions: bool = True,
) -> tuple[list[Dataset], list[Dataset]]:
    """The inputs and outputs of one stage of a feed (with their Delta versions if asked)."""
    ns, st, feed = ctx.layout.uri, ctx.storage, contract.name
    owners = [f"agency:{contract.owner.get('agency', '')}",
              f"steward:{contract.owner.get('steward', '')}"]

    def table(zone: str, name: str, typed: bool, **kw: Any) -> Dataset:
        version = st.version(zone, name) if versions else None
        return dataset(ns, f"{zone}/{name}", schema=feed_schema(contract, typed),
                       version=None if version is None else str(version), owners=owners, **kw)

    inbox = source_dataset(ctx, contract, owners)
    landing = dataset(ns, f"landing/{feed}", owners=owners)
    if stage == "land":
        return [inbox], [landing]
    if stage == "bronze":
        return [landing], [table("bronze", feed, typed=False)]
    return [table("bronze", feed, typed=False)], [
        table("silver", feed, typed=True, quality=list(quality) or None),
        table("silver", contract.entity, typed=True),
        table("quarantine", feed, typed=False),
    ]


def publish_datasets(ctx: Context, dc: DatasetContract) -> tuple[list[Dataset], list[Dataset]]:
    """The inputs (silver entities) and the output (the published dataset, with column
    lineage from agency fields) of a publish."""
    from kernel import contracts

    ns, st = ctx.layout.uri, ctx.storage
    inputs = []
    for name in dc.inputs:
        fc = contracts.feed(name)
        v = st.version("silver", fc.entity)
        inputs.append(dataset(ns, f"silver/{fc.entity}", schema=feed_schema(fc, True),
                              version=None if v is None else str(v)))
    lineage: dict[str, list[ColumnSource]] = {}
    for col in dc.columns:
        sources = []
        for src in col.source:
            parts = src.split(".")
            if len(parts) != 3 or ".".join(parts[:2]) not in dc.inputs:
                continue  # a whole feed, or a feed this version is not built from
            fc = contracts.feed(".".join(parts[:2]))
            sources.append(ColumnSource(
                ns, f"silver/{fc.entity}", parts[2],
                f"{col.masking}: {col.description}"[:200], masking=col.masking != "keep"))
        if sources:
            lineage[col.name] = sources
    v = st.version(dc.zone, dc.table)
    output = dataset(
        ns, f"{dc.zone}/{dc.table}",
        schema=[(c.name, c.type, c.description) for c in dc.columns],
        version=None if v is None else str(v),
        owners=[f"steward:{dc.owner.get('steward', '')}"],
        column_lineage=lineage or None, documentation=dc.description or None,
    )
    return inputs, [output]


def emit(
    ctx: Context,
    event_type: str,
    job_name: str,
    inputs: Sequence[Dataset],
    outputs: Sequence[Dataset],
    error: str | None = None,
) -> None:
    """Write one RunEvent for a job run of the pipeline."""
    import pyspark

    from lineage.emit import emitter_from_env

    parent = ctx.parent if isinstance(ctx.parent, ParentRef) else None
    event = run_event(
        event_type,  # type: ignore[arg-type]
        run_id=ctx.run_id, job_namespace=JOB_NAMESPACE, job_name=job_name,
        event_time=datetime.now(UTC), inputs=inputs, outputs=outputs, parent=parent,
        error=error, engine_version=pyspark.__version__, job_owners=[ctx.actor],
    )
    emitter_from_env(ctx.settings.root).emit(event)
