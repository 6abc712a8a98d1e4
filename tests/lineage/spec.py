"""The OpenLineage JSON Schemas for the tests that validate events against them."""

from __future__ import annotations

from pathlib import Path

import pytest

from lineage.validate import spec_dir, spec_problem


def openlineage_spec() -> Path:
    """The folder of the OpenLineage JSON Schemas (:func:`lineage.validate.spec_dir`: the copy
    in the repository unless ``LAKEHOUSE_OPENLINEAGE_SCHEMA_DIR`` names another). When a
    configured folder lacks them, the calling test is skipped, saying what is missing and how to
    provide it: it neither fails nor passes unchecked."""
    problem = spec_problem()
    if problem is not None:
        pytest.skip(f"cannot validate lineage events: {problem}")
    return spec_dir()
