"""Fixtures of the quality tests: the household-registry contract and conformed frames."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from kernel.contracts import FeedContract, feed, parse_feed
from tests.quality.samples import CONFORMED_SCHEMA, HOUSEHOLD, HOUSEHOLD_YAML

# assertDataFrameEqual imports pyspark.pandas, which warns unless this is set.
os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")


@pytest.fixture(scope="session")
def household() -> FeedContract:
    """The real household-registry contract."""
    return feed(HOUSEHOLD)


@pytest.fixture(scope="session")
def household_doc() -> dict[str, Any]:
    """The household-registry contract as a YAML document, to derive variants from."""
    doc: dict[str, Any] = yaml.safe_load(HOUSEHOLD_YAML.read_text(encoding="utf-8"))
    return doc


@pytest.fixture
def contract_variant(
    household_doc: dict[str, Any],
) -> Callable[[Callable[[dict[str, Any]], None]], FeedContract]:
    """Build a contract from a modified copy of the household document."""

    def build(change: Callable[[dict[str, Any]], None]) -> FeedContract:
        doc = copy.deepcopy(household_doc)
        change(doc)
        return parse_feed(doc, Path("variant.yaml"))

    return build


@pytest.fixture
def conformed(spark: Any) -> Callable[[Sequence[tuple[Any, ...]]], Any]:
    """Build a conformed household DataFrame from rows made by :func:`conformed_row`."""

    def build(rows: Sequence[tuple[Any, ...]]) -> Any:
        return spark.createDataFrame(list(rows), CONFORMED_SCHEMA)

    return build
