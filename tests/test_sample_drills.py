"""Every bundled sample city ships two or more drill scenarios, and their summaries are
checked: recomputed here by a second, plainer method, and compared with the summaries kept in
``sample_data/drills/<sample>/<scenario>.json`` (key numbers only; a change there is a change
of answer and shows up in review).

Regenerate those files after an intended change with::

    CITYFRAME_UPDATE_DRILLS=1 python -m pytest tests/test_sample_drills.py
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely

from layers.drill import run_workspace_drill
from layers.workspace import Workspace
from sample_data.catalogue import SAMPLES, sample_path
from spatial.drill import parse_scenario

EXPECTED = Path(__file__).resolve().parents[1] / "sample_data" / "drills"
UPDATE = os.environ.get("CITYFRAME_UPDATE_DRILLS") == "1"


@pytest.fixture(scope="module", params=[s.id for s in SAMPLES])
def sample(request):
    ws = Workspace.open(sample_path(request.param), read_only=True)
    yield request.param, ws
    ws.close()


def key_numbers(summary: dict) -> dict:
    """The part of a summary that is kept in sample_data/drills (stable across runs)."""
    sh = summary["shelters"]
    return {
        "residents": summary["residents"],
        "age_0_14": summary["age_0_14"],
        "age_15_64": summary["age_15_64"],
        "age_65_plus": summary["age_65_plus"],
        "buildings": summary["buildings"],
        "buildings_by_use": summary["buildings_by_use"],
        "legal_entities": len(summary["legal_entities"]),
        "first_to_notify": [e["uscc"] for e in summary["legal_entities"][:5]],
        "employees": summary["employees"],
        "facilities": {k: v["count"] for k, v in summary["facilities"].items()},
        "roads_cut": summary["roads_cut"]["count"],
        "shelters": {k: sh.get(k) for k in ("method", "displaced", "capacity_used", "unsheltered",
                                            "unreachable")},
        "longest_walk_m": (None if sh.get("longest_walk_m") is None
                           else round(sh["longest_walk_m"])),
        "bands": [(b["band"], b["buildings"], b["residents"]) for b in summary["bands"]],
    }


def test_each_sample_ships_two_or_more_scenarios(sample):
    name, ws = sample
    assert len(ws.scenarios) >= 2, name
    for doc in ws.scenarios.values():
        parse_scenario(dict(doc), base_dir=ws.folder)  # every stored scenario is valid


def _hit_by_raster(buildings, path, threshold) -> np.ndarray:
    """Buildings whose footprint overlaps (with area) a pixel at or above ``threshold``:
    one box per such pixel, no polygonising — a different route from spatial.drill."""
    with rasterio.open(path) as src:
        band = src.read(1, masked=True)
        rows, cols = np.nonzero(np.ma.filled(band >= threshold, False))
        t = src.transform
        x0, y0 = t.c + cols * t.a + rows * t.b, t.f + cols * t.d + rows * t.e
        x1, y1 = x0 + t.a + t.b, y0 + t.d + t.e
        crs = src.crs
    boxes = shapely.box(np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1),
                        np.maximum(y0, y1))
    geoms = buildings.to_crs(crs).geometry.values
    tree = shapely.STRtree(boxes)
    bi, pi = tree.query(geoms, predicate="intersects")
    area = shapely.area(shapely.intersection(geoms[bi], boxes[pi]))
    hit = np.zeros(len(buildings), bool)
    hit[bi[area > 0]] = True
    return hit


def test_sample_drill_summaries_are_checked(sample):
    name, ws = sample
    frames = ws.frames()
    pop = frames["population"].set_index("building_id")
    for sc_name, doc in ws.scenarios.items():
        sc = parse_scenario(dict(doc), base_dir=ws.folder)
        result = run_workspace_drill(ws, sc)
        s = result.summary
        fp = result.footprint
        b = frames["buildings"].to_crs(result.metric_crs)
        # 1. Affected buildings by a second route: area of overlap with the footprint
        #    (raster hazards: pixel boxes straight from the GeoTIFF).
        if sc.hazard.kind == "raster":
            hit = _hit_by_raster(frames["buildings"], ws.folder / sc.hazard.path,
                                 sc.hazard.threshold)
        else:
            union = shapely.union_all(fp.geometry.values)
            inter = shapely.intersection(b.geometry.values, union)
            hit = shapely.area(inter) > 0
            # points and lines touching the hazard count too
            hit |= shapely.intersects(b.geometry.values, union) & (shapely.area(b.geometry.values) == 0)
        ids = set(b.loc[hit, "building_id"])
        assert set(result.affected["buildings"]["building_id"]) == ids, (name, sc_name)
        assert s["buildings"] == len(ids)
        # 2. People: the population table summed over those buildings.
        people = pop.reindex(sorted(ids))[["residents", "age_0_14", "age_15_64",
                                           "age_65_plus"]].fillna(0).sum()
        for col in people.index:
            if s[col] is not None:
                assert s[col] == int(people[col]), (name, sc_name, col)
        assert s["age_0_14"] + s["age_15_64"] + s["age_65_plus"] == s["residents"]
        # 3. Bands add up to the totals.
        assert sum(band["buildings"] for band in s["bands"]) == s["buildings"]
        # 4. Every legal entity to notify lies in the footprint; hazardous ones come first.
        ents = frames["legal_entities"].to_crs(result.metric_crs).set_index("uscc")
        union = shapely.union_all(fp.geometry.values)
        listed = [e["uscc"] for e in s["legal_entities"]]
        assert shapely.intersects(ents.loc[listed].geometry.values, union).all()
        inside = ents.index[shapely.intersects(ents.geometry.values, union)]
        assert set(listed) == set(inside)
        haz = [bool(e["hazard_class"]) for e in s["legal_entities"]]
        assert haz == sorted(haz, reverse=True)
        # 5. Shelters: nobody placed beyond capacity, everyone placed or counted unsheltered.
        sh = s["shelters"]
        if sh["method"] != "none":
            assert sh["capacity_used"] + sh["unsheltered"] == sh["displaced"] == s["residents"]
            for row in sh["assignment"]:
                assert row["assigned"] <= row["capacity"]
        # 6. The plume is a sector of the right size pointing downwind.
        if sc.hazard.kind == "plume":
            ring_area = fp.geometry.area.sum()
            expect = math.pi * sc.hazard.length_m ** 2 * sc.hazard.spread_deg / 360
            assert ring_area == pytest.approx(expect, rel=0.02)
        # 7. The kept summary.
        got = json.loads(json.dumps(key_numbers(s)))
        path = EXPECTED / name / f"{sc_name}.json"
        if UPDATE:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        assert path.exists(), f"{path} missing: run with CITYFRAME_UPDATE_DRILLS=1"
        assert got == json.loads(path.read_text(encoding="utf-8")), (name, sc_name)


def test_drill_is_logged_not_saved(sample, tmp_path):
    name, ws = sample
    before = len(ws.audit_log())
    sc = next(iter(ws.scenarios))
    run_workspace_drill(ws, dict(ws.scenarios[sc]))
    assert len(ws.audit_log()) == before + 1
    assert ws.audit_log()[-1]["action"] == "drill"

