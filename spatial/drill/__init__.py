"""Drills: hazard × exposure → impact (DESIGN.md, "Drills"; issue 5).

* :mod:`spatial.drill.scenario` — the scenario file (:func:`parse_scenario`).
* :mod:`spatial.drill.hazard` — the hazard's footprint in bands (:func:`footprint`).
* :mod:`spatial.drill.impact` — people, buildings, enterprises, facilities, roads
  and shelters affected (:func:`run_drill`).

Qt-free; never imports ``layers`` or ``gui``.
"""

from .hazard import drill_crs, footprint, raster_mask_polygons
from .impact import DrillResult, run_drill
from .scenario import (
    HAZARD_KINDS,
    Hazard,
    Scenario,
    ScenarioError,
    ShelterSpec,
    parse_scenario,
    scenario_to_dict,
)

__all__ = [
    "HAZARD_KINDS",
    "Hazard",
    "Scenario",
    "ScenarioError",
    "ShelterSpec",
    "parse_scenario",
    "scenario_to_dict",
    "footprint",
    "raster_mask_polygons",
    "drill_crs",
    "DrillResult",
    "run_drill",
]
