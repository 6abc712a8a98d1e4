"""OpenLineage RunEvents for the pipeline's job runs, their validation and their emission."""

from lineage.emit import (
    Emitter,
    FileEmitter,
    HttpEmitter,
    LineageEmitError,
    emitter_from_env,
)
from lineage.events import (
    PRODUCER,
    Assertion,
    ColumnSource,
    Dataset,
    ParentRef,
    SourceLocation,
    dataset,
    lineage_run_id,
    run_event,
)
from lineage.validate import validate_event

__all__ = [
    "PRODUCER",
    "Assertion",
    "ColumnSource",
    "Dataset",
    "Emitter",
    "FileEmitter",
    "HttpEmitter",
    "LineageEmitError",
    "ParentRef",
    "SourceLocation",
    "dataset",
    "emitter_from_env",
    "lineage_run_id",
    "run_event",
    "validate_event",
]
