"""Drill impact (scaffold; being filled in)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .scenario import Scenario

__all__ = ["DrillResult", "run_drill"]


@dataclass
class DrillResult:
    """The result of :func:`run_drill`."""

    scenario: Scenario
    summary: dict
    footprint: Any
    affected: dict
    assignment: Any
    metric_crs: Any
    run_at: str
    elapsed_s: float


def run_drill(scenario, frames, *, base_dir=None, needs=None, feedback=None) -> DrillResult:
    """Run a drill scenario against the workspace's frames."""
    raise NotImplementedError
