"""A feed's stages in order: land, bronze, silver (the function the CLI and Airflow call)."""

from __future__ import annotations

from kernel.context import Context
from kernel.contracts import FeedContract
from stages.bronze import bronze
from stages.common import StageFn
from stages.land import land
from stages.results import StageResult
from stages.silver import silver

STAGES: dict[str, StageFn] = {"land": land, "bronze": bronze, "silver": silver}
"""The stages of a feed, in order."""


def run_stage(ctx: Context, contract: FeedContract, stage: str) -> StageResult:
    """Run one stage (``land``, ``bronze`` or ``silver``) of a feed."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r} (one of {', '.join(STAGES)})")
    return STAGES[stage](ctx, contract)


def run_feed(ctx: Context, contract: FeedContract) -> list[StageResult]:
    """Land, ingest to bronze and conform to silver every pending delivery of a feed."""
    return [run_stage(ctx, contract, stage) for stage in STAGES]
