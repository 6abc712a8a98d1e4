"""Fixtures for the pipeline tests: a job-run context on a temporary storage root."""

from __future__ import annotations

import datetime as dt

import pytest

from convergence import pipeline
from convergence.config import Settings
from convergence.records import Records
from convergence.storage import Storage


@pytest.fixture
def ctx(spark, root) -> pipeline.Context:
    """A job run on the shared Spark session, writing under a temporary root."""
    storage = Storage(spark, root)
    return pipeline.Context(
        settings=Settings.from_env({"LAKEHOUSE_ROOT": root}), storage=storage,
        records=Records(storage), run_id="test-run", now=dt.datetime(2024, 11, 5, 8, 0),
        actor="steward:test",
    )
