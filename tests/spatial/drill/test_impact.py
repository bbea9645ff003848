"""Drill impact on small constructed cities whose answers are known by hand,
and internal consistency on the bundled sample's stored scenarios."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import rasterio
import shapely
from affine import Affine

from spatial.drill import run_drill
from spatial.drill.impact import DrillResult, affected_orders
from spatial.drill.scenario import ScenarioError
from spatial.errors import Canceled
from spatial.feedback import Feedback

GK = pyproj.CRS.from_epsg(4547)
X0, Y0 = 500000.0, 3400000.0


def box_at(dx, dy, half=5.0):
    return shapely.box(X0 + dx - half, Y0 + dy - half, X0 + dx + half, Y0 + dy + half)


def pt(dx, dy):
    return shapely.Point(X0 + dx, Y0 + dy)


def gdf(data, geoms):
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs="EPSG:4547")


@pytest.fixture
def city():
    """Buildings east of the origin at known distances, people, entities, facilities."""
    buildings = gdf({"building_id": ["B300", "B700", "B1500", "B500", "BNE"],
                     "use": ["residential", "residential", "residential", "commercial", "public"],
                     "floors": [5, 2, 12, 8, 3]},
                    [box_at(300, 0), box_at(700, 0), box_at(1500, 0),
                     shapely.box(X0 + 495, Y0 - 5, X0 + 505, Y0 + 5),  # straddles 500 m
                     box_at(700, 700)])
    population = pd.DataFrame({
        "building_id": ["B300", "B700", "B1500", "B500", "BNE"],
        "residents": [40, 3, 100, 12, 20], "age_0_14": [5, 0, 10, 2, 4],
        "age_15_64": [30, 3, 80, 8, 12], "age_65_plus": [5, 0, 10, 2, 4]})
    entities = gdf({"uscc": ["E1", "E2", "E3", "E4", "E5"],
                    "name": ["chem", "big", "site", "tiny", "far"],
                    "industry": ["C26", "C31", "C26", "F51", "C26"],
                    "employees": [10, 500, 50, 3, 900],
                    "hazard_class": ["hazardous_chemicals", "", None, None,
                                     "hazardous_chemicals"]},
                   [pt(100, 0), pt(200, 0), pt(250, 0), pt(600, 0), pt(5000, 0)])
    sites = gdf({"site_id": ["HS1"], "uscc": ["E3"]}, [pt(250, 0)])
    schools = gdf({"school_id": ["S1", "S2"], "name": ["North", "Far"], "pupils": [800, 300]},
                  [pt(400, 10), pt(3000, 0)])
    hospitals = gdf({"hospital_id": ["H1"], "name": ["General"], "beds": [300]}, [pt(800, 0)])
    elderly = gdf({"home_id": ["EC1"], "name": ["Home"], "beds": [60]}, [pt(100, 50)])
    shelters = gdf({"shelter_id": ["SH_out", "SH_in"], "name": ["Stadium", "Gym"],
                    "capacity": [100, 500]}, [pt(2000, 0), pt(200, 20)])
    roads = gdf({"road_id": ["R1", "R2"], "name": ["East road", "North road"]},
                [shapely.LineString([(X0 - 3000, Y0), (X0 + 3000, Y0)]),
                 shapely.LineString([(X0 + 2000, Y0), (X0 + 2000, Y0 + 3000)])])
    return {"buildings": buildings, "population": population, "legal_entities": entities,
            "hazardous_sites": sites, "schools": schools, "hospitals": hospitals,
            "elderly_care": elderly, "shelters": shelters, "roads": roads}


def rings(**kw):
    d = {"version": 1, "title": {"en": "Rings"},
         "hazard": {"kind": "buffer", "point": [X0, Y0], "crs": "EPSG:4547",
                    "rings_m": [500, 1000]}}
    d.update(kw)
    return d


def band_of(result: DrillResult, layer: str, key: str) -> dict:
    a = result.affected[layer]
    return dict(zip(a[key], a["band"]))


# --------------------------------------------------------------------------- rings

def test_rings_put_buildings_in_the_right_band(city):
    r = run_drill(rings(), city)
    assert band_of(r, "buildings", "building_id") == {
        "B300": "0–500 m", "B500": "0–500 m", "B700": "500–1000 m", "BNE": "500–1000 m"}
    s = r.summary
    assert s["buildings"] == 4
    assert s["residents"] == 40 + 3 + 12 + 20
    assert [b["band"] for b in s["bands"]] == ["0–500 m", "500–1000 m"]
    assert [b["buildings"] for b in s["bands"]] == [2, 2]
    assert s["bands"][0]["residents"] == 52 and s["bands"][1]["residents"] == 23
    assert s["buildings_by_use"] == {"residential": 2, "commercial": 1, "public": 1}
    assert s["buildings_by_floors"] == {"1-3": 2, "4-6": 1, "7-11": 1, "12+": 0}
    assert (s["age_0_14"], s["age_15_64"], s["age_65_plus"]) == (11, 53, 11)
    assert s["residents"] == sum(b["residents"] for b in s["bands"])
    assert s["residents"] == s["age_0_14"] + s["age_15_64"] + s["age_65_plus"]
    assert s["crs"].startswith("EPSG:4547")
    assert s["hazard"]["kind"] == "buffer" and s["title"] == {"en": "Rings"}
    assert r.footprint.crs == GK and r.metric_crs == GK
    json.dumps(s)  # JSON-ready


def test_summary_has_the_fixed_keys(city):
    s = run_drill(rings(), city).summary
    for key in ("title", "hazard", "run_at", "crs", "residents", "age_0_14", "age_15_64",
                "age_65_plus", "buildings", "buildings_by_use", "buildings_by_floors",
                "legal_entities", "employees", "facilities", "roads_cut", "shelters", "needs",
                "bands", "suppressed"):
        assert key in s
    for key in ("band", "order", "residents", "age_0_14", "age_15_64", "age_65_plus",
                "buildings", "buildings_by_use", "legal_entities", "facilities", "roads_cut"):
        assert key in s["bands"][0]


def test_small_counts_suppressed_in_summary_not_in_affected(city):
    r = run_drill(rings(), city)
    s = r.summary
    # the 500–1000 m band: B700 (3 residents, 0/3/0) and BNE (20; 4/12/4) -> 23, 4, 15, 4
    assert s["bands"][1]["age_0_14"] is None and s["bands"][1]["age_65_plus"] is None
    assert s["bands"][1]["age_15_64"] == 15
    assert "bands[1].age_0_14" in s["suppressed"] and "bands[1].age_65_plus" in s["suppressed"]
    # the entity with 3 employees
    tiny = next(e for e in s["legal_entities"] if e["uscc"] == "E4")
    assert tiny["employees"] is None
    i = s["legal_entities"].index(tiny)
    assert f"legal_entities[{i}].employees" in s["suppressed"]
    # exact numbers kept for checks
    b = r.affected["buildings"].set_index("building_id")
    assert b.loc["B700", "residents"] == 3 and b.loc["BNE", "age_0_14"] == 4
    assert r.affected["legal_entities"].set_index("uscc").loc["E4", "employees"] == 3
    # zero stays zero (reveals nobody)
    assert s["bands"][0]["age_0_14"] == 7


def test_legal_entities_hazardous_first_nearest_the_source_first(city):
    # Hazardous E1 (100 m from the source) before hazardous E3 (250 m, more employees);
    # then the others by band and employees: E2 (500) in the inner ring, E4 in the outer.
    s = run_drill(rings(), city).summary
    assert [e["uscc"] for e in s["legal_entities"]] == ["E1", "E3", "E2", "E4"]
    assert s["legal_entities"][0]["hazard_class"] == "hazardous_chemicals"
    second = s["legal_entities"][1]
    assert second["hazardous"] and second["hazard_class"] is None  # listed in hazardous_sites
    assert s["legal_entities"][2]["hazard_class"] is None  # empty text is not a class
    assert {e["uscc"]: e["band"] for e in s["legal_entities"]}["E4"] == "500–1000 m"
    assert s["employees"] == 10 + 500 + 50 + 3
    assert [b["legal_entities"] for b in s["bands"]] == [3, 1]


def test_facilities_by_layer(city):
    s = run_drill(rings(), city).summary
    f = s["facilities"]
    assert set(f) == {"schools", "hospitals", "elderly_care"}  # whichever layers exist
    assert f["schools"]["count"] == 1 and f["schools"]["pupils"] == 800
    assert f["schools"]["items"] == [{"id": "S1", "name": "North", "band": "0–500 m",
                                      "pupils": 800}]
    assert f["hospitals"]["beds"] == 300 and f["hospitals"]["items"][0]["band"] == "500–1000 m"
    assert f["elderly_care"]["beds"] == 60
    assert s["bands"][0]["facilities"] == {"schools": 1, "hospitals": 0, "elderly_care": 1}
    assert s["roads_cut"] == {"count": 0, "length_m": 0.0, "items": []}  # not a flood


# --------------------------------------------------------------------------- plume

def test_plume_hits_downwind_buildings_only():
    b = gdf({"building_id": ["SW", "NE", "SW_wide", "SW_far"]},
            [box_at(-700, -700), box_at(700, 700),
             box_at(1000 * math.sin(math.radians(225 + 25)),
                    1000 * math.cos(math.radians(225 + 25))),
             box_at(-2500, -2500)])
    r = run_drill({"version": 1, "hazard": {
        "kind": "plume", "point": [X0, Y0], "crs": "EPSG:4547", "wind_from_deg": 45,
        "length_m": 3000, "spread_deg": 30, "rings_m": [500, 1000]}, "shelters": None},
        {"buildings": b})
    assert band_of(r, "buildings", "building_id") == {"SW": "500–1000 m"}  # 990 m away
    assert r.summary["shelters"]["method"] == "none"


# --------------------------------------------------------------------------- raster

def write_tif(path, arr, x0, y0, res=10.0, nodata=99.0, crs="EPSG:4547"):
    arr = np.asarray(arr, dtype="float32")
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0],
                       count=1, dtype="float32", crs=crs, nodata=nodata,
                       transform=Affine(res, 0, x0, 0, -res, y0)) as dst:
        dst.write(arr, 1)


def test_raster_threshold_at_pixel_edges(tmp_path):
    # 10 m pixels; top row y in [Y0+20, Y0+30]: A=0.29 (x 0–10), B=0.3 (x 10–20), C=0
    write_tif(tmp_path / "depth.tif", [[0.29, 0.3, 0.0],
                                       [0.0, 0.0, 99.0],  # 99 = nodata (not water)
                                       [0.0, 0.0, 0.0]], X0, Y0 + 30)
    b = gdf({"building_id": ["in_029", "sliver", "touch_edge", "touch_top", "touch_corner",
                             "nodata", "inside_03"]},
            [shapely.box(X0 + 2, Y0 + 22, X0 + 8, Y0 + 28),  # inside the 0.29 pixel
             shapely.box(X0 + 2, Y0 + 22, X0 + 10.01, Y0 + 28),  # 1 cm into the 0.3 pixel
             shapely.box(X0 + 2, Y0 + 22, X0 + 10, Y0 + 28),  # shares B's left edge only
             shapely.box(X0 + 11, Y0 + 30, X0 + 19, Y0 + 35),  # on B's top edge, outside
             shapely.box(X0 + 20, Y0 + 30, X0 + 25, Y0 + 35),  # B's corner only
             shapely.box(X0 + 22, Y0 + 12, X0 + 28, Y0 + 18),  # inside the nodata pixel
             shapely.box(X0 + 12, Y0 + 22, X0 + 18, Y0 + 28)])
    ents = gdf({"uscc": ["ON_EDGE", "OFF"], "employees": [20, 20]},
               [shapely.Point(X0 + 10, Y0 + 25), shapely.Point(X0 + 5, Y0 + 25)])
    r = run_drill({"version": 1, "hazard": {"kind": "raster", "path": "depth.tif",
                                            "threshold": 0.3}, "shelters": None},
                  {"buildings": b, "legal_entities": ents}, base_dir=tmp_path)
    assert sorted(r.affected["buildings"]["building_id"]) == ["inside_03", "sliver"]
    assert r.summary["buildings"] == 2
    assert r.summary["bands"][0]["band"] == "≥ 0.3 m"
    assert r.footprint.area.sum() == pytest.approx(100.0)
    # points use closed pixels: a point on the flooded pixel's edge is in it
    assert r.affected["legal_entities"]["uscc"].tolist() == ["ON_EDGE"]


def test_raster_classes_give_depth_bands(tmp_path):
    write_tif(tmp_path / "d.tif", [[0.5, 1.5, 2.5]], X0, Y0 + 10)
    b = gdf({"building_id": ["shallow", "mid", "deep", "spans"]},
            [shapely.box(X0 + 2, Y0 + 2, X0 + 8, Y0 + 8),
             shapely.box(X0 + 12, Y0 + 2, X0 + 18, Y0 + 8),
             shapely.box(X0 + 22, Y0 + 2, X0 + 28, Y0 + 8),
             shapely.box(X0 + 5, Y0 + 5, X0 + 25, Y0 + 6)])
    pop = pd.DataFrame({"building_id": ["shallow", "mid", "deep", "spans"],
                        "residents": [10, 20, 30, 40], "age_0_14": [0, 0, 0, 0],
                        "age_15_64": [10, 20, 30, 40], "age_65_plus": [0, 0, 0, 0]})
    r = run_drill({"version": 1, "hazard": {"kind": "raster", "path": "d.tif", "threshold": 0.3,
                                            "classes": [1, 2]}, "shelters": None},
                  {"buildings": b, "population": pop}, base_dir=tmp_path)
    assert band_of(r, "buildings", "building_id") == {
        "shallow": "0.3–1 m", "mid": "1–2 m", "deep": "≥ 2 m", "spans": "≥ 2 m"}
    assert [x["residents"] for x in r.summary["bands"]] == [70, 20, 10]


def test_zones_and_roads_cut(city):
    zones = gdf({"zone_id": ["Z1", "Z2"], "depth_class": [2, 1]},
                [shapely.box(X0, Y0 - 50, X0 + 400, Y0 + 50),
                 shapely.box(X0 + 400, Y0 - 50, X0 + 1000, Y0 + 50)])
    frames = {**city, "flood_zones": zones}
    r = run_drill({"version": 1, "hazard": {"kind": "zones", "layer": "flood_zones",
                                            "class_column": "depth_class"}}, frames)
    assert [b["band"] for b in r.summary["bands"]] == ["2", "1"]
    assert band_of(r, "buildings", "building_id") == {"B300": "2", "B700": "1", "B500": "1"}
    rc = r.summary["roads_cut"]
    assert rc["count"] == 1 and rc["items"] == ["R1"] and rc["length_m"] == pytest.approx(1000)
    assert [b["roads_cut"] for b in r.summary["bands"]] == [1, 0]
    assert [b["roads_cut_length_m"] for b in r.summary["bands"]] == pytest.approx([400, 600])
    cut = r.affected["roads"]
    assert cut.length.iloc[0] == pytest.approx(1000)  # the cut part, not the whole road
    assert cut["length_m"].iloc[0] == pytest.approx(1000)


def test_drawn_polygon_impact(city):
    geom = {"type": "Polygon", "coordinates": [[[X0 + 250, Y0 - 100], [X0 + 750, Y0 - 100],
                                                [X0 + 750, Y0 + 100], [X0 + 250, Y0 + 100],
                                                [X0 + 250, Y0 - 100]]]}
    r = run_drill({"version": 1, "hazard": {"kind": "drawn", "crs": "EPSG:4547",
                                            "geometry": geom}}, city)
    assert sorted(r.affected["buildings"]["building_id"]) == ["B300", "B500", "B700"]
    assert r.summary["bands"][0]["band"] == "drawn area"


# --------------------------------------------------------------------------- shelters & needs

def test_shelters_outside_the_hazard_take_the_displaced(city):
    r = run_drill(rings(), city)
    sh = r.summary["shelters"]
    assert sh["method"] in ("road", "straight_line")
    assert sh["displaced"] == 75
    assert sh["capacity"] == 100  # the gym inside the hazard is not used
    assert sh["capacity_used"] == 75 and sh["unsheltered"] == 0
    assert sh["shelters_in_hazard"] == 1
    assert sh["safe_places"]["shelters"]["count"] == 1
    assert sh["safe_places"]["schools"]["count"] == 1  # S2, far away
    assert r.assignment is not None and set(r.assignment["shelter_id"]) == {"SH_out"}
    assert r.assignment.crs == GK


def test_missing_shelter_layer_is_reported_not_raised(city):
    r = run_drill(rings(shelters={"layer": "refuges", "capacity": "capacity"}), city)
    sh = r.summary["shelters"]
    assert sh["method"] == "none" and "refuges" in sh["error"]
    assert sh["displaced"] == 75 and sh["unsheltered"] == 75
    assert r.assignment is None
    r = run_drill(rings(shelters={"layer": "shelters", "capacity": "places"}), city)
    assert "places" in r.summary["shelters"]["error"]


def test_needs_scale_with_the_displaced(city):
    from spatial.drill.needs import DEFAULT_NEEDS, needs_for, profile_from_dict

    s = run_drill(rings(), city).summary
    assert s["needs"]["items"] == json.loads(json.dumps(needs_for(75, DEFAULT_NEEDS)))
    assert s["needs"]["displaced"] == 75 and s["needs"]["source"] == DEFAULT_NEEDS.source
    edited = {"overrides": {"water_drinking": 4}}
    s = run_drill(rings(needs=edited), city).summary  # the scenario's own profile
    assert s["needs"]["items"][0]["quantity"] == 300.0
    assert s["needs"]["items"] == needs_for(75, profile_from_dict(edited))
    profile = profile_from_dict({"overrides": {"water_drinking": 5}})
    s = run_drill(rings(needs=edited), city, needs=profile).summary  # the caller's wins
    assert s["needs"]["items"][0]["quantity"] == 375.0


# --------------------------------------------------------------------------- population raster

def test_population_raster_fractional_coverage(tmp_path, city):
    # 100 m pixels of 10 and 20 people; a drawn square covers half of the first, all the second
    write_tif(tmp_path / "pop.tif", [[10.0, 20.0]], X0, Y0 + 100, res=100.0, nodata=-1)
    geom = {"type": "Polygon", "coordinates": [[[X0 + 50, Y0], [X0 + 200, Y0], [X0 + 200, Y0 + 100],
                                                [X0 + 50, Y0 + 100], [X0 + 50, Y0]]]}
    r = run_drill({"version": 1, "hazard": {"kind": "drawn", "crs": "EPSG:4547",
                                            "geometry": geom},
                   "population": {"raster": "pop.tif"}}, city, base_dir=tmp_path)
    s = r.summary
    assert s["residents"] == pytest.approx(25.0)
    assert s["bands"][0]["residents"] == pytest.approx(25.0)
    assert s["age_0_14"] is None and s["population_source"] == "raster: pop.tif"
    assert s["shelters"]["displaced"] == 25


# --------------------------------------------------------------------------- feedback & errors

def test_progress_and_cancel(city):
    seen = []
    fb = Feedback(on_progress=seen.append)
    run_drill(rings(), city, feedback=fb)
    assert seen[-1] == 100 and seen == sorted(seen)
    fb = Feedback()
    fb.cancel()
    with pytest.raises(Canceled):
        run_drill(rings(), city, feedback=fb)


def test_missing_layer_names_the_key(city):
    with pytest.raises(ScenarioError) as e:
        run_drill({"version": 1, "hazard": {"kind": "zones", "layer": "floods",
                                            "class_column": "c"}}, city)
    assert e.value.key == "hazard.layer"
    with pytest.raises(ScenarioError) as e:
        run_drill({"version": 1, "hazard": {"kind": "raster", "path": "../x.tif",
                                            "threshold": 1}}, city, base_dir="/tmp")
    assert e.value.key == "hazard.path"


def test_inputs_not_changed(city):
    before = {k: v.copy() for k, v in city.items()}
    run_drill(rings(), city)
    for k, v in city.items():
        pd.testing.assert_frame_equal(pd.DataFrame(v), pd.DataFrame(before[k]))


def test_affected_orders_shared_area_rule():
    parts = np.array([shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)], dtype=object)
    geoms = np.array([shapely.box(10, 2, 12, 4),  # in part 1, touching part 0's edge
                      shapely.box(9.999, 2, 12, 4),  # a sliver in part 0
                      shapely.box(20, 0, 30, 10),  # touches part 1 only
                      shapely.Point(10, 5), None], dtype=object)
    out = affected_orders(geoms, parts, np.array([0, 1]))
    none = np.iinfo(np.int64).max
    assert out.tolist() == [1, 0, none, 0, none]


# --------------------------------------------------------------------------- samples

@pytest.fixture(scope="module")
def small():
    from layers.workspace import Workspace
    from sample_data.catalogue import sample_path

    ws = Workspace.open(sample_path("small"))
    return ws, ws.frames()


def test_sample_scenarios_are_consistent(small):
    ws, frames = small
    assert len(ws.scenarios) >= 2
    for name, doc in ws.scenarios.items():
        r = run_drill(doc, frames, base_dir=ws.folder)
        s = r.summary
        b = r.affected["buildings"]
        # exact totals (affected keeps the unsuppressed numbers)
        for c in ("residents", "age_0_14", "age_15_64", "age_65_plus"):
            assert int(b[c].sum()) == sum(int(b.loc[b["order"] == o, c].sum())
                                          for o in r.footprint["order"]), name
            if s[c] is not None:
                assert s[c] == int(b[c].sum())
        assert (b["residents"] == b["age_0_14"] + b["age_15_64"] + b["age_65_plus"]).all()
        assert s["buildings"] == sum(x["buildings"] for x in s["bands"]) == len(b)
        assert sum(s["buildings_by_use"].values()) == s["buildings"]
        assert sum(s["buildings_by_floors"].values()) == s["buildings"]
        assert len(s["legal_entities"]) == sum(x["legal_entities"] for x in s["bands"])
        for layer, f in s["facilities"].items():
            assert f["count"] == sum(x["facilities"][layer] for x in s["bands"]) == \
                len(f["items"])
        # every listed legal entity lies in the footprint (independently: geopandas sjoin)
        ents = frames["legal_entities"].to_crs(r.metric_crs)
        joined = gpd.sjoin(ents, r.footprint, predicate="intersects")
        inside = set(joined["uscc"])
        listed = [e["uscc"] for e in s["legal_entities"]]
        assert set(listed) == inside, name
        # hazardous first
        flags = [e["hazardous"] for e in s["legal_entities"]]
        assert flags == sorted(flags, reverse=True)
        # every affected building shares ground with the footprint
        fp = r.footprint.union_all()
        assert (shapely.area(shapely.intersection(b.geometry.values, fp)) > 0).all()
        # displaced = residents of affected buildings
        if s["shelters"].get("displaced") is not None:
            assert s["shelters"]["displaced"] == int(b["residents"].sum())
        if doc["hazard"]["kind"] == "plume":  # the leaking enterprise is told first
            src = shapely.Point(doc["hazard"]["point"])
            near = ents[ents.distance(src) < 1.0]
            assert len(near) and listed[0] in set(near["uscc"])
        json.dumps(s, ensure_ascii=False)


def test_sample_flood_hits_the_river_side(small):
    ws, frames = small
    r = run_drill(ws.scenarios["river_flood"], frames, base_dir=ws.folder)
    s = r.summary
    assert s["buildings"] > 0 and s["residents"] > 0
    assert s["roads_cut"]["count"] > 0 and s["roads_cut"]["length_m"] > 0
    assert s["shelters"]["method"] == "road"


# --------------------------------------------------------------------------- more raster cases

def test_raster_in_another_crs(tmp_path):
    # a lon/lat raster: each pixel ~96 m × 111 m; buildings well inside or outside pixels
    from spatial.crs import transform_xy

    lon0, lat0 = transform_xy(X0, Y0, GK, 4326)
    write_tif(tmp_path / "d.tif", [[1.0, 0.0], [0.0, 2.0]], lon0, lat0 + 0.002, res=0.001,
              crs="EPSG:4326", nodata=-1)

    def at_lonlat(lon, lat):
        x, y = transform_xy(lon, lat, 4326, GK)
        return shapely.box(x - 5, y - 5, x + 5, y + 5)

    b = gdf({"building_id": ["wet1", "dry", "wet2", "outside"]},
            [at_lonlat(lon0 + 0.0005, lat0 + 0.0015), at_lonlat(lon0 + 0.0015, lat0 + 0.0015),
             at_lonlat(lon0 + 0.0015, lat0 + 0.0005), at_lonlat(lon0 + 0.005, lat0)])
    r = run_drill({"version": 1, "hazard": {"kind": "raster", "path": "d.tif", "threshold": 0.3,
                                            "classes": [2]}, "shelters": None},
                  {"buildings": b}, base_dir=tmp_path)
    assert band_of(r, "buildings", "building_id") == {"wet1": "0.3–2 m", "wet2": "≥ 2 m"}
    assert r.footprint.crs == GK


def test_layer_columns_named_band_or_order_are_replaced(city):
    city = dict(city)
    city["schools"] = city["schools"].assign(band="A", order=7)
    r = run_drill(rings(), city)
    assert r.affected["schools"]["band"].tolist() == ["0–500 m"]
    assert r.affected["schools"]["order"].tolist() == [0]


def test_gcj02_drawn_polygon(city):
    from spatial.crs import transform_xy, wgs84_to_gcj02

    corners = [wgs84_to_gcj02(*transform_xy(X0 + dx, Y0 + dy, GK, 4326))
               for dx, dy in ((250, -100), (750, -100), (750, 100), (250, 100), (250, -100))]
    geom = {"type": "Polygon", "coordinates": [[list(c) for c in corners]]}
    r = run_drill({"version": 1, "hazard": {"kind": "drawn", "crs": "GCJ-02", "geometry": geom},
                   "shelters": None}, city)
    assert sorted(r.affected["buildings"]["building_id"]) == ["B300", "B500", "B700"]
    assert r.footprint.area.iloc[0] == pytest.approx(500 * 200, rel=1e-5)


def test_empty_footprint(tmp_path, city):
    write_tif(tmp_path / "dry.tif", [[0.0, 0.1]], X0, Y0 + 10)
    r = run_drill({"version": 1, "hazard": {"kind": "raster", "path": "dry.tif",
                                            "threshold": 0.3}}, city, base_dir=tmp_path)
    s = r.summary
    assert len(r.footprint) == 0 and s["bands"] == [] and s["buildings"] == 0
    assert s["residents"] == 0 and s["legal_entities"] == [] and s["suppressed"] == []
    assert s["shelters"]["displaced"] == 0
