"""Where the OpenLineage JSON Schemas are found, and what validating says without them."""

from __future__ import annotations

import shutil
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from lineage.events import run_event
from lineage.validate import (
    LEGACY_SCHEMA_DIR_ENV,
    SCHEMA_DIR_ENV,
    SpecMissing,
    spec_dir,
    spec_problem,
    validate_event,
)

REPO = Path(__file__).resolve().parents[2]


def _event() -> dict[str, object]:
    return run_event("START", run_id=str(uuid.uuid4()), job_namespace="ns", job_name="job",
                     event_time=datetime(2026, 1, 1, 8))


@pytest.fixture
def unset(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No schema folder configured."""
    monkeypatch.delenv(SCHEMA_DIR_ENV, raising=False)
    monkeypatch.delenv(LEGACY_SCHEMA_DIR_ENV, raising=False)
    return monkeypatch


def test_by_default_the_copy_kept_in_the_repository(unset: pytest.MonkeyPatch) -> None:
    assert spec_dir() == REPO / "lineage" / "spec" / "openlineage"
    assert spec_problem() is None  # a clone validates lineage with nothing beside it


def test_the_folder_is_configurable(unset: pytest.MonkeyPatch, tmp_path: Path) -> None:
    unset.setenv(LEGACY_SCHEMA_DIR_ENV, str(tmp_path / "old"))
    assert spec_dir() == tmp_path / "old"  # the former setting is still read
    unset.setenv(SCHEMA_DIR_ENV, str(tmp_path))
    assert spec_dir() == tmp_path  # and the new one wins


def test_without_the_schemas_validating_says_what_is_missing(
    unset: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    unset.setenv(SCHEMA_DIR_ENV, str(tmp_path))
    problem = spec_problem()
    assert problem is not None and str(tmp_path) in problem
    assert "OpenLineage.json" in problem and SCHEMA_DIR_ENV in problem
    with pytest.raises(SpecMissing) as err:
        validate_event(_event())
    assert str(err.value) == problem
    assert isinstance(err.value, FileNotFoundError)


def test_a_configured_copy_of_the_schemas_is_used(
    spec: Path, unset: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    copy = tmp_path / "openlineage"
    shutil.copytree(spec, copy)
    unset.setenv(SCHEMA_DIR_ENV, str(copy))
    assert spec_problem() is None
    assert validate_event(_event()) == []
