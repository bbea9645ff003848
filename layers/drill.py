"""Drills on a workspace: run a scenario against a workspace's layers and gather what a
drill report states about its data (sources, dates, classification).

The analysis itself lives in :mod:`spatial.drill`; this module only binds it to a
:class:`~layers.workspace.Workspace` so the command line and the Drills panel share one path.
"""

from __future__ import annotations

from typing import Any, Mapping

from layers.raster import RasterLayer
from layers.workspace import Workspace
from spatial.feedback import Feedback
from spatial.schema import CLASSIFICATIONS

__all__ = [
    "EXPOSURE_LAYERS",
    "drill_layers",
    "drill_sources",
    "drill_classification",
    "run_workspace_drill",
]

#: Layers a drill reads when they exist (the exposure side), besides the hazard's own layer,
#: the shelter layer and the roads.
EXPOSURE_LAYERS = ("buildings", "population", "legal_entities", "hazardous_sites", "schools",
                   "kindergartens", "hospitals", "clinics", "elderly_care", "roads")


def drill_layers(ws: Workspace, scenario: Any) -> list[str]:
    """Names of the workspace layers a drill on ``scenario`` reads, in workspace order.

    ``scenario`` is a :class:`spatial.drill.Scenario` (or a scenario dict, parsed here).
    A raster hazard's file is matched to the raster layer that points at it.
    """
    sc = _parse(scenario, ws)
    wanted = set(EXPOSURE_LAYERS)
    if sc.hazard.layer:
        wanted.add(sc.hazard.layer)
    if sc.shelters is not None:
        wanted.add(sc.shelters.layer)
    raster_path = None
    if sc.hazard.path:
        from spatial.drill.scenario import resolve_inside

        raster_path = resolve_inside(sc.hazard.path, ws.folder, "hazard.path").resolve()
    out = []
    for layer in ws.registry:
        if layer.name in wanted:
            out.append(layer.name)
        elif (raster_path is not None and isinstance(layer, RasterLayer)
              and layer.path.resolve() == raster_path):
            out.append(layer.name)
    return out


def drill_sources(ws: Workspace, names: list[str], lang: str = "en") -> list[dict]:
    """One row per layer: ``layer``, ``title``, ``source``, ``updated``, ``classification``,
    ``department`` — for the report's "data sources and dates" section."""
    rows = []
    for name in names:
        meta = ws.layer(name).metadata
        rows.append({"layer": name, "title": meta.title(lang) or name,
                     "source": meta.source, "updated": meta.updated,
                     "classification": meta.classification, "department": meta.department})
    return rows


def drill_classification(ws: Workspace, names: list[str]) -> str:
    """The highest classification among ``names`` (a report is as sensitive as its most
    sensitive input); ``"internal"`` when there are none.

    Examples
    --------
    >>> from layers.workspace import Workspace
    >>> drill_classification(Workspace(), [])
    'internal'
    """
    levels = [CLASSIFICATIONS.index(ws.layer(n).metadata.classification) for n in names]
    return CLASSIFICATIONS[max(levels)] if levels else "internal"


def run_workspace_drill(ws: Workspace, scenario: Any, *, needs=None,
                        feedback: Feedback | None = None, source: str | None = None):
    """Run ``scenario`` (a Scenario, a dict or a path to a JSON file) on ``ws``'s layers.

    Raster paths resolve against the workspace's folder.  Returns the
    :class:`spatial.drill.DrillResult`; the run is written to the audit log (not saved).
    """
    from spatial.drill import run_drill, scenario_to_dict

    sc = _parse(scenario, ws, source)
    result = run_drill(sc, ws.frames(), base_dir=ws.folder, needs=needs, feedback=feedback)
    s = result.summary
    ws.log("drill", {"scenario": scenario_to_dict(sc), "residents": s.get("residents"),
                     "buildings": s.get("buildings"), "ms": round(result.elapsed_s * 1000, 1)})
    return result


def _parse(scenario: Any, ws: Workspace, source: str | None = None):
    from spatial.drill import Scenario, parse_scenario

    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, Mapping):
        scenario = dict(scenario)
    return parse_scenario(scenario, base_dir=ws.folder, source=source)
