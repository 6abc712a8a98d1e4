"""OpenLineage RunEvents (spec 2-0-2) for the job runs of the pipeline.

Facet bodies are built with the ``openlineage-python`` client classes (so their ``_schemaURL``
and field names follow the spec) and serialised to plain dicts; the event around them is a plain
dict, so that a facet can be placed where the lakehouse needs it (see :meth:`Dataset.as_output`).
Nothing here reads data: names, types, counts and versions only, never personal values.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import Any, Literal, NamedTuple

from openlineage.client.facet_v2 import (
    BaseFacet,
    column_lineage_dataset,
    data_quality_assertions_dataset,
    dataset_version_dataset,
    documentation_dataset,
    error_message_run,
    input_statistics_input_dataset,
    job_type_job,
    nominal_time_run,
    output_statistics_output_dataset,
    ownership_dataset,
    ownership_job,
    parent_run,
    processing_engine_run,
    schema_dataset,
    source_code_location_job,
)
from openlineage.client.serde import Serde

SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
# A URN: a valid URI that names the producer without pretending to be a web location.
PRODUCER = "urn:convergence-lakehouse:lineage:0.1.0"
# uuid5 namespace for run ids that are not UUIDs (fixed: the same run always maps to one UUID).
RUN_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:convergence-lakehouse:run")

EventType = Literal["START", "COMPLETE", "FAIL"]
EVENT_TYPES: frozenset[str] = frozenset({"START", "COMPLETE", "FAIL"})


class ColumnSource(NamedTuple):
    """One input field an output column is computed from.

    ``type``/``subtype`` follow the OpenLineage column-lineage vocabulary (``DIRECT``:
    ``IDENTITY``, ``TRANSFORMATION``, ``AGGREGATION``; ``INDIRECT``: ``JOIN``, ``FILTER``, ...).
    ``masking`` is true when the output does not reveal the input (pseudonym, band, ...).
    """

    namespace: str
    name: str
    field: str
    description: str
    masking: bool = False
    type: str = "DIRECT"
    subtype: str = "TRANSFORMATION"


class Assertion(NamedTuple):
    """A quality assertion and its outcome (``column`` ``None``: the whole dataset)."""

    assertion: str
    success: bool
    column: str | None = None


class ParentRef(NamedTuple):
    """The run that started this one (Airflow: namespace, ``dag_id.task_id``, run UUID)."""

    namespace: str
    name: str
    run_id: str


class SourceLocation(NamedTuple):
    """Where the job's code lives (SourceCodeLocationJobFacet)."""

    url: str
    type: str = "git"
    repo_url: str | None = None
    path: str | None = None
    version: str | None = None


def lineage_run_id(run_id: str, job_namespace: str, job_name: str) -> str:
    """The OpenLineage ``runId`` of a job run.

    A UUID is used as given; any other run id (``run-3f2a...``) becomes a deterministic uuid5 of
    namespace, job and run id, so that START and COMPLETE of one job run share a ``runId`` and
    two jobs of one pipeline run get different ones.
    """
    try:
        return str(uuid.UUID(run_id))
    except ValueError:
        return str(uuid.uuid5(RUN_ID_NAMESPACE, f"{job_namespace}/{job_name}/{run_id}"))


def iso(at: datetime) -> str:
    """UTC ISO-8601 with milliseconds and ``Z`` (a naive datetime is taken as UTC)."""
    aware = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _facet(facet: BaseFacet) -> dict[str, Any]:
    return Serde.to_dict(facet)


@dataclass(frozen=True)
class Dataset:
    """A dataset with its facets, placed by the event as an input or an output."""

    namespace: str
    name: str
    facets: dict[str, dict[str, Any]] = field(default_factory=dict)
    input_facets: dict[str, dict[str, Any]] = field(default_factory=dict)
    output_facets: dict[str, dict[str, Any]] = field(default_factory=dict)
    quality: dict[str, Any] | None = None

    def as_input(self) -> dict[str, Any]:
        """The dataset as an ``InputDataset`` (quality assertions in ``inputFacets``)."""
        extra = {"dataQualityAssertions": self.quality} if self.quality else {}
        return self._with("inputFacets", {**self.input_facets, **extra}, self.facets)

    def as_output(self) -> dict[str, Any]:
        """The dataset as an ``OutputDataset``.

        The spec defines DataQualityAssertionsDatasetFacet as an *input* dataset facet; for an
        output (a gate run on the candidate before publishing) it goes into the dataset's
        ``facets``, which its schema also satisfies.
        """
        extra = {"dataQualityAssertions": self.quality} if self.quality else {}
        return self._with("outputFacets", self.output_facets, {**self.facets, **extra})

    def _with(
        self, key: str, role_facets: dict[str, Any], facets: dict[str, Any]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"namespace": self.namespace, "name": self.name}
        if facets:
            out["facets"] = facets
        if role_facets:
            out[key] = role_facets
        return out


def dataset(
    namespace: str,
    name: str,
    *,
    schema: Sequence[tuple[str, str, str]] | None = None,
    version: str | None = None,
    owners: Sequence[str] = (),
    column_lineage: Mapping[str, Sequence[ColumnSource | tuple[Any, ...]]] | None = None,
    quality: Sequence[Assertion | tuple[Any, ...]] | None = None,
    input_stats: tuple[int, int | None] | None = None,
    output_stats: tuple[int, int | None] | None = None,
    documentation: str | None = None,
    producer: str = PRODUCER,
) -> Dataset:
    """Describe a dataset: ``schema`` is ``(name, type, description)`` per column,
    ``column_lineage`` maps an output column to its sources, the stats are
    ``(row_count, size in bytes)``."""
    facets: dict[str, dict[str, Any]] = {}
    if schema is not None:
        cols = [
            schema_dataset.SchemaDatasetFacetFields(
                name=n, type=t or None, description=d or None, fields=None
            )
            for n, t, d in schema
        ]
        facets["schema"] = _facet(schema_dataset.SchemaDatasetFacet(fields=cols, producer=producer))
    if version is not None:
        facets["version"] = _facet(
            dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=version,
                                                               producer=producer))
    if owners:
        facets["ownership"] = _facet(ownership_dataset.OwnershipDatasetFacet(
            owners=[ownership_dataset.Owner(name=o) for o in owners], producer=producer))
    if column_lineage is not None:
        facets["columnLineage"] = _column_lineage(column_lineage, producer)
    if documentation is not None:
        facets["documentation"] = _facet(
            documentation_dataset.DocumentationDatasetFacet(description=documentation,
                                                            producer=producer))
    inputs: dict[str, dict[str, Any]] = {}
    if input_stats is not None:
        inputs["inputStatistics"] = _facet(
            input_statistics_input_dataset.InputStatisticsInputDatasetFacet(
                rowCount=input_stats[0], size=input_stats[1], producer=producer))
    outputs: dict[str, dict[str, Any]] = {}
    if output_stats is not None:
        outputs["outputStatistics"] = _facet(
            output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                rowCount=output_stats[0], size=output_stats[1], producer=producer))
    dq = None
    if quality is not None:
        dq = _facet(data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(
            assertions=[_assertion(Assertion(*a)) for a in quality], producer=producer))
    return Dataset(namespace, name, facets, inputs, outputs, dq)


def _assertion(a: Assertion) -> data_quality_assertions_dataset.Assertion:
    return data_quality_assertions_dataset.Assertion(
        assertion=a.assertion, success=bool(a.success), column=a.column, params=None)


def _column_lineage(
    lineage: Mapping[str, Sequence[ColumnSource | tuple[Any, ...]]], producer: str
) -> dict[str, Any]:
    cl = column_lineage_dataset
    fields = {
        column: cl.Fields(inputFields=[
            cl.InputField(
                namespace=s.namespace, name=s.name, field=s.field,
                transformations=[cl.Transformation(
                    type=s.type, subtype=s.subtype, description=s.description or None,
                    masking=bool(s.masking))],
            )
            for s in (ColumnSource(*src) for src in sources)
        ])
        for column, sources in lineage.items()
    }
    return _facet(cl.ColumnLineageDatasetFacet(fields=fields, dataset=None, producer=producer))


def run_event(
    event_type: EventType,
    *,
    run_id: str,
    job_namespace: str,
    job_name: str,
    event_time: datetime,
    inputs: Sequence[Dataset] = (),
    outputs: Sequence[Dataset] = (),
    parent: ParentRef | None = None,
    error: str | None = None,
    integration: str = "SPARK",
    job_type: str = "JOB",
    job_owners: Sequence[str] = (),
    engine_name: str = "spark",
    engine_version: str | None = None,
    nominal_start: datetime | None = None,
    nominal_end: datetime | None = None,
    source_code: SourceLocation | None = None,
    producer: str = PRODUCER,
) -> dict[str, Any]:
    """A JSON-able OpenLineage RunEvent for one job run.

    ``run_id`` is a UUID or any run id (mapped by :func:`lineage_run_id`). ``error`` (FAIL
    only) becomes an ErrorMessageRunFacet: it must hold no personal data (the caller's duty).
    ``integration`` is ``SPARK`` or ``AIRFLOW``, ``job_type`` ``JOB`` or ``TASK`` (processing
    type is always ``BATCH``).
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"event_type must be one of {sorted(EVENT_TYPES)}, not {event_type!r}")
    if error is not None and event_type != "FAIL":
        raise ValueError("an error message belongs to a FAIL event")
    return {
        "eventType": event_type,
        "eventTime": iso(event_time),
        "producer": producer,
        "schemaURL": SCHEMA_URL,
        "run": {
            "runId": lineage_run_id(run_id, job_namespace, job_name),
            "facets": _run_facets(parent, error, engine_name, engine_version, nominal_start,
                                  nominal_end, producer),
        },
        "job": {
            "namespace": job_namespace,
            "name": job_name,
            "facets": _job_facets(integration, job_type, job_owners, source_code, producer),
        },
        "inputs": [d.as_input() for d in inputs],
        "outputs": [d.as_output() for d in outputs],
    }


def _run_facets(
    parent: ParentRef | None,
    error: str | None,
    engine_name: str,
    engine_version: str | None,
    nominal_start: datetime | None,
    nominal_end: datetime | None,
    producer: str,
) -> dict[str, Any]:
    facets: dict[str, Any] = {}
    if parent is not None:
        facets["parent"] = _facet(parent_run.ParentRunFacet(
            run=parent_run.Run(runId=lineage_run_id(parent.run_id, parent.namespace,
                                                     parent.name), facets=None),
            job=parent_run.Job(namespace=parent.namespace, name=parent.name, facets=None),
            producer=producer,
        ))
    if error is not None:
        facets["errorMessage"] = _facet(error_message_run.ErrorMessageRunFacet(
            message=error, programmingLanguage="python", producer=producer))
    if engine_version is not None:
        facets["processing_engine"] = _facet(processing_engine_run.ProcessingEngineRunFacet(
            version=engine_version, name=engine_name,
            openlineageAdapterVersion=metadata.version("openlineage-python"),
            producer=producer))
    if nominal_start is not None:
        facets["nominalTime"] = _facet(nominal_time_run.NominalTimeRunFacet(
            nominalStartTime=iso(nominal_start),
            nominalEndTime=iso(nominal_end) if nominal_end else None, producer=producer))
    return facets


def _job_facets(
    integration: str,
    job_type: str,
    owners: Sequence[str],
    source_code: SourceLocation | None,
    producer: str,
) -> dict[str, Any]:
    facets: dict[str, Any] = {
        "jobType": _facet(job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration=integration, jobType=job_type,
            producer=producer)),
    }
    if owners:
        facets["ownership"] = _facet(ownership_job.OwnershipJobFacet(
            owners=[ownership_job.Owner(name=o) for o in owners], producer=producer))
    if source_code is not None:
        facets["sourceCodeLocation"] = _facet(source_code_location_job.SourceCodeLocationJobFacet(
            type=source_code.type, url=source_code.url, repoUrl=source_code.repo_url,
            path=source_code.path, version=source_code.version, producer=producer))
    return facets
