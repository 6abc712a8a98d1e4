"""RunEvents with every facet the pipeline uses validate against the copied OpenLineage spec."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from lineage.events import (
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

NS = "file:///srv/lakehouse"
AT = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
AIRFLOW_RUN = "0193a3b2-7c1e-7d4e-9a55-0a1b2c3d4e5f"


def _inputs() -> list[Dataset]:
    return [
        dataset(
            NS, "silver/moi.residents",
            schema=[("national_id", "string", "restricted"), ("birth_date", "date", "")],
            version="12",
            owners=["team:moi-data-stewards"],
            quality=[Assertion("not_null", True, "national_id"),
                     ("row_count_between", True),
                     ("tw_national_id_checksum", False, "national_id")],
            input_stats=(2000, 81920),
        )
    ]


def _outputs() -> list[Dataset]:
    return [
        dataset(
            NS, "gold/person_coverage",
            schema=[("person_key", "string", "HMAC-SHA256 pseudonym"),
                    ("age_band", "string", "5-year band"), ("county", "string", "縣市")],
            version="3",
            owners=["team:analytics-stewards", "application:convergence-lakehouse"],
            column_lineage={
                "person_key": [ColumnSource(NS, "silver/moi.residents", "national_id",
                                            "keyed HMAC-SHA256 (key id k-2026-01)", masking=True)],
                "age_band": [(NS, "silver/moi.residents", "birth_date", "5-year band", True)],
                "county": [ColumnSource(NS, "silver/moi.residents", "address",
                                        "county of the household address", True),
                           ColumnSource(NS, "silver/moi.residents", "county_code", "",
                                        subtype="IDENTITY")],
            },
            quality=[("no_leaked_personal_data", True)],
            output_stats=(1990, 40960),
            documentation="One row per person known to any feed (analysts).",
        )
    ]


def _event(event_type: str, **extra: Any) -> dict[str, Any]:
    return run_event(
        event_type,  # type: ignore[arg-type]
        run_id="run-3f2a9c81d0b4",
        job_namespace="convergence-lakehouse",
        job_name="publish.gold.person_coverage",
        event_time=AT,
        inputs=_inputs(),
        outputs=_outputs(),
        parent=ParentRef("airflow", "gold_person_coverage.publish", AIRFLOW_RUN),
        integration="SPARK",
        job_type="JOB",
        job_owners=["team:analytics-stewards"],
        engine_version="4.0.1",
        nominal_start=datetime(2026, 11, 27),
        nominal_end=datetime(2026, 11, 28),
        source_code=SourceLocation("https://git.example.org/bli/lakehouse/blob/abc/jobs/gold.py",
                                   repo_url="https://git.example.org/bli/lakehouse.git",
                                   path="jobs/gold.py", version="abc"),
        **extra,
    )


@pytest.mark.usefixtures("spec")
@pytest.mark.parametrize("event_type", ["START", "COMPLETE"])
def test_start_and_complete_validate(event_type: str) -> None:
    event = _event(event_type)
    assert validate_event(event) == []
    json.dumps(event)  # JSON-able
    assert event["eventType"] == event_type
    assert event["eventTime"] == "2026-11-27T02:00:00.000Z"
    assert "errorMessage" not in event["run"]["facets"]


@pytest.mark.usefixtures("spec")
def test_fail_carries_error_message_and_validates() -> None:
    event = _event("FAIL", error="gate 'leak' failed on column county: 3 values")
    assert validate_event(event) == []
    facet = event["run"]["facets"]["errorMessage"]
    assert facet["programmingLanguage"] == "python"
    assert facet["message"].startswith("gate 'leak' failed")


def test_error_only_on_fail() -> None:
    with pytest.raises(ValueError, match="FAIL"):
        _event("COMPLETE", error="boom")
    with pytest.raises(ValueError, match="event_type"):
        _event("RUNNING")


def test_every_facet_is_present() -> None:
    event = _event("COMPLETE")
    assert set(event["run"]["facets"]) == {"parent", "processing_engine", "nominalTime"}
    assert set(event["job"]["facets"]) == {"jobType", "ownership", "sourceCodeLocation"}
    assert event["job"]["facets"]["jobType"] | {"_producer": "", "_schemaURL": ""} == {
        "_producer": "", "_schemaURL": "", "processingType": "BATCH", "integration": "SPARK",
        "jobType": "JOB"}
    source = event["inputs"][0]
    assert set(source["facets"]) == {"schema", "version", "ownership"}
    assert set(source["inputFacets"]) == {"inputStatistics", "dataQualityAssertions"}
    assert source["inputFacets"]["inputStatistics"]["rowCount"] == 2000
    target = event["outputs"][0]
    assert set(target["facets"]) == {"schema", "version", "ownership", "columnLineage",
                                     "documentation", "dataQualityAssertions"}
    assert target["outputFacets"]["outputStatistics"] == {
        **target["outputFacets"]["outputStatistics"], "rowCount": 1990, "size": 40960}
    assert event["run"]["facets"]["processing_engine"]["version"] == "4.0.1"
    assert event["run"]["facets"]["nominalTime"]["nominalEndTime"] == "2026-11-28T00:00:00.000Z"


def test_column_lineage_marks_masked_columns() -> None:
    fields = _event("COMPLETE")["outputs"][0]["facets"]["columnLineage"]["fields"]
    key = fields["person_key"]["inputFields"][0]
    assert (key["name"], key["field"]) == ("silver/moi.residents", "national_id")
    assert key["transformations"] == [{"type": "DIRECT", "subtype": "TRANSFORMATION",
                                       "description": "keyed HMAC-SHA256 (key id k-2026-01)",
                                       "masking": True}]
    assert fields["age_band"]["inputFields"][0]["transformations"][0]["masking"] is True
    county = fields["county"]["inputFields"]
    assert [t["masking"] for f in county for t in f["transformations"]] == [True, False]
    assert county[1]["transformations"][0] == {"type": "DIRECT", "subtype": "IDENTITY",
                                               "masking": False}


def test_run_ids() -> None:
    event = _event("START")
    run_id = event["run"]["runId"]
    assert uuid.UUID(run_id).version == 5
    assert _event("COMPLETE")["run"]["runId"] == run_id  # one job run, one runId
    other = lineage_run_id("run-3f2a9c81d0b4", "convergence-lakehouse", "bronze.moi")
    assert other != run_id  # another job of the same pipeline run
    assert event["run"]["facets"]["parent"]["run"]["runId"] == AIRFLOW_RUN  # a UUID: as given
    assert event["run"]["facets"]["parent"]["job"] == {
        "namespace": "airflow", "name": "gold_person_coverage.publish"}


@pytest.mark.usefixtures("spec")
def test_minimal_event_validates() -> None:
    event = run_event("START", run_id=str(uuid.uuid4()), job_namespace="ns", job_name="job",
                      event_time=datetime(2026, 1, 1, 8))
    assert validate_event(event) == []
    assert event["inputs"] == [] and event["outputs"] == []


@pytest.mark.usefixtures("spec")
def test_invalid_events_are_reported() -> None:
    event = _event("COMPLETE")
    del event["eventTime"]
    assert validate_event(event) == ["$: 'eventTime' is a required property"]

    broken = copy.deepcopy(_event("FAIL", error="x"))
    broken["run"]["runId"] = "run-1"
    broken["eventType"] = "DONE"
    broken["run"]["facets"]["errorMessage"].pop("programmingLanguage")
    broken["run"]["facets"]["nominalTime"]["nominalStartTime"] = "27/11/2026"
    broken["outputs"][0]["facets"]["columnLineage"]["fields"]["person_key"]["inputFields"][0][
        "transformations"][0]["masking"] = "yes"
    broken["job"]["facets"]["type"] = broken["job"]["facets"].pop("jobType")
    errors = validate_event(broken)
    assert "$.run.runId: 'run-1' is not a 'uuid'" in errors
    assert any(e.startswith("$.eventType: 'DONE' is not one of") for e in errors)
    assert "$.run.facets.errorMessage: 'programmingLanguage' is a required property" in errors
    assert ("$.run.facets.nominalTime.nominalStartTime: '27/11/2026' is not a 'date-time'"
            in errors)
    assert ("$.outputs[0].facets.columnLineage.fields.person_key.inputFields[0]"
            ".transformations[0].masking: 'yes' is not of type 'boolean'") in errors
    assert "$.job.facets.type: facet key 'type' where its schema declares ['jobType']" in errors


@pytest.mark.usefixtures("spec")
def test_unknown_facet_schema_is_reported() -> None:
    event = _event("START")
    event["run"]["facets"]["custom"] = {"_producer": "urn:x", "_schemaURL":
                                        "https://example.org/spec/Custom.json#/$defs/Custom"}
    assert validate_event(event) == [
        "$.run.facets.custom: no local schema for _schemaURL "
        "https://example.org/spec/Custom.json#/$defs/Custom"]
