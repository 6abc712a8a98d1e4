"""Data contracts: one YAML file per feed and per dataset, validated on load.

A feed contract (``kind: feed``) describes a delivery as the agency sends it (wire names,
encoding, file pattern), how each field is parsed, its personal-data class and masking policy,
and the quality rules with their actions. A dataset contract (``kind: dataset``) describes a
published dataset: its inputs, audience, columns and gates.

Everything else (reader options, bronze and silver schemas, Great Expectations suites, masking
plans, DAGs) is derived from these objects; nothing restates them by hand. A broken contract
raises :class:`ContractError` naming the file, the field and the problem.

The objects are in :mod:`kernel.contracts.model`, their parsing in :mod:`kernel.contracts.parse`;
this module finds and loads the contract files (``schemas/``, or ``LAKEHOUSE_CONTRACTS_DIR``).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from kernel.contracts.model import (
    ACTIONS,
    CADENCES,
    CHECKS,
    CONTRACTS_DIR,
    DELIVERY_KINDS,
    FIELD_TYPES,
    FORMATS,
    MASKING_POLICIES,
    PARSE_STEPS,
    PII_CLASSES,
    ContractError,
    DatasetColumn,
    DatasetContract,
    Delivery,
    FeedContract,
    Field,
    Gates,
    Rule,
)
from kernel.contracts.parse import load_yaml, parse_dataset, parse_feed

__all__ = [
    "ACTIONS", "CADENCES", "CHECKS", "CONTRACTS_DIR", "DELIVERY_KINDS", "FIELD_TYPES",
    "FORMATS", "MASKING_POLICIES", "PARSE_STEPS", "PII_CLASSES", "ContractError",
    "DatasetColumn", "DatasetContract", "Delivery", "FeedContract", "Field", "Gates", "Rule",
    "contracts_dir", "dataset", "datasets", "feed", "feeds", "load", "parse_dataset",
    "parse_feed",
]


def load(path: Path | str) -> FeedContract | DatasetContract:
    """Load and validate one contract file."""
    path = Path(path)
    doc = load_yaml(path)
    kind = doc.get("kind")
    if kind == "feed":
        return parse_feed(doc, path)
    if kind == "dataset":
        return parse_dataset(doc, path)
    raise ContractError(path, "kind", f"must be 'feed' or 'dataset', not {kind!r}")


@cache
def _all(root: Path) -> tuple[tuple[FeedContract, ...], tuple[DatasetContract, ...]]:
    feeds: list[FeedContract] = []
    datasets: list[DatasetContract] = []
    for path in sorted(root.rglob("*.yaml")):
        contract = load(path)
        (feeds if isinstance(contract, FeedContract) else datasets).append(contract)  # type: ignore[arg-type]
    return tuple(feeds), tuple(datasets)


def contracts_dir() -> Path:
    """Where the contracts live: ``LAKEHOUSE_CONTRACTS_DIR``, else the repository's
    ``schemas/`` (a deployment can onboard feeds from YAML kept outside the code)."""
    configured = os.environ.get("LAKEHOUSE_CONTRACTS_DIR", "").strip()
    return Path(configured) if configured else CONTRACTS_DIR


def feeds(root: Path | None = None) -> tuple[FeedContract, ...]:
    """Every feed contract under ``root`` (default: :func:`contracts_dir`)."""
    return _all((root or contracts_dir()).resolve())[0]


def datasets(root: Path | None = None) -> tuple[DatasetContract, ...]:
    """Every dataset contract under ``root`` (default: :func:`contracts_dir`)."""
    return _all((root or contracts_dir()).resolve())[1]


def feed(name: str, root: Path | None = None) -> FeedContract:
    """The feed contract called ``name``; ``KeyError`` lists the known feeds."""
    for c in feeds(root):
        if c.name == name:
            return c
    raise KeyError(f"unknown feed {name!r}; known feeds: {', '.join(c.name for c in feeds(root))}")


def dataset(name: str, root: Path | None = None) -> DatasetContract:
    """The dataset contract called ``name``; ``KeyError`` lists the known datasets."""
    for c in datasets(root):
        if c.name == name:
            return c
    known = ", ".join(c.name for c in datasets(root))
    raise KeyError(f"unknown dataset {name!r}; known datasets: {known}")
