"""Fixtures of the lineage tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lineage.spec import openlineage_spec


@pytest.fixture
def spec() -> Path:
    """The OpenLineage JSON Schemas' folder; the test is skipped, with the reason, without it."""
    return openlineage_spec()
