"""The scenario file: every rule of DESIGN.md, each error naming its JSON key."""

from __future__ import annotations

import json
import os

import pytest

from spatial.drill.scenario import (
    Hazard,
    Scenario,
    ScenarioError,
    ShelterSpec,
    parse_scenario,
    resolve_inside,
    scenario_to_dict,
)

PLUME = {"version": 1, "title": {"en": "Chlorine leak drill", "zh": "氯气泄漏演练"},
         "hazard": {"kind": "plume", "point": [117.20, 39.13], "crs": "EPSG:4326",
                    "wind_from_deg": 45, "length_m": 3000, "spread_deg": 30,
                    "rings_m": [500, 1000]},
         "shelters": {"layer": "shelters", "capacity": "capacity"}}


def doc(**hazard):
    """A scenario document with the plume hazard changed by ``hazard`` (None deletes)."""
    d = json.loads(json.dumps(PLUME))
    for k, v in hazard.items():
        if v is None:
            d["hazard"].pop(k, None)
        else:
            d["hazard"][k] = v
    return d


def test_design_example_parses():
    s = parse_scenario(PLUME)
    assert s == Scenario(
        hazard=Hazard("plume", point=(117.2, 39.13), crs="EPSG:4326", wind_from_deg=45,
                      length_m=3000, spread_deg=30, shape="sector", rings_m=(500, 1000)),
        shelters=ShelterSpec("shelters", "capacity"),
        title={"en": "Chlorine leak drill", "zh": "氯气泄漏演练"})
    assert s.needs is None and s.population is None


@pytest.mark.parametrize("d", [
    PLUME,
    {"version": 1, "hazard": {"kind": "buffer", "point": [116.41, 39.92], "crs": "GCJ-02",
                              "rings_m": [300, 600, 900]}},
    {"version": 1, "hazard": {"kind": "buffer", "layer": "legal_entities", "rings_m": [1000],
                              "where": [{"column": "hazard_class", "op": "=",
                                         "value": "hazardous_chemicals"}]}},
    {"version": 1, "hazard": {"kind": "plume", "point": [500000, 3400000], "crs": "EPSG:4547",
                              "wind_from_deg": 0, "length_m": 2000, "spread_deg": 40,
                              "shape": "gaussian"}, "shelters": None},
    {"version": 1, "hazard": {"kind": "zones", "layer": "flood_zones",
                              "class_column": "risk", "classes": ["high", "medium", "low"]}},
    {"version": 1, "hazard": {"kind": "raster", "path": "flood.tif", "threshold": 0.3,
                              "classes": [1, 2]}, "population": {"raster": "pop.tif"},
     "needs": {"overrides": {"water_drinking": 4}}},
    {"version": 1, "hazard": {"kind": "drawn", "crs": "EPSG:4326", "geometry": {
        "type": "Polygon", "coordinates": [[[117.2, 39.1], [117.21, 39.1], [117.21, 39.11],
                                            [117.2, 39.1]]]}}},
    {"version": 1, "hazard": {"kind": "drawn", "geometry": {
        "type": "LineString", "coordinates": [[117.2, 39.1], [117.21, 39.1]]},
        "rings_m": [100]}},
])
def test_round_trip(d):
    s = parse_scenario(d)
    assert parse_scenario(scenario_to_dict(s)) == s
    assert parse_scenario(json.dumps(scenario_to_dict(s))) == s


def test_defaults():
    s = parse_scenario({"version": 1, "hazard": {"kind": "buffer", "point": [117.2, 39.1],
                                                 "rings_m": [500]}})
    assert s.hazard.crs == "EPSG:4326"
    assert s.shelters == ShelterSpec("shelters", "capacity")
    assert s.title == {}
    assert parse_scenario(doc(shape=None)).hazard.shape == "sector"
    assert parse_scenario({**PLUME, "shelters": None}).shelters is None


def test_accepts_json_text_and_path(tmp_path):
    p = tmp_path / "s.json"
    p.write_text(json.dumps(PLUME, ensure_ascii=False), encoding="utf-8")
    assert parse_scenario(p) == parse_scenario(str(p)) == parse_scenario(json.dumps(PLUME))


def test_file_errors_name_the_file(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("{\"version\": 1,", encoding="utf-8")
    with pytest.raises(ScenarioError, match="bad.json: not valid JSON"):
        parse_scenario(p)
    with pytest.raises(ScenarioError, match="file not found"):
        parse_scenario(tmp_path / "missing.json")


# (document change, key, message fragment)
BAD = [
    ({"version": None}, "version", "must be the number 1"),
    ({"version": 2}, "version", "not supported"),
    ({"extra": 1}, "extra", "unknown key 'extra'"),
    ({"title": "Drill"}, "title", "must be an object"),
    ({"title": {"fr": "x"}}, "title.fr", "unknown key"),
    ({"hazard": None}, "hazard", "missing"),
    ({"shelters": {"layer": "shelters", "capacty": "capacity"}}, "shelters.capacty",
     "did you mean 'capacity'"),
    ({"shelters": {"layer": ""}}, "shelters.layer", "layer name"),
    ({"needs": [1]}, "needs", "must be an object"),
    ({"needs": {"overrides": {"water_drinking": "4"}}}, "needs.overrides.water_drinking",
     "must be a number"),
    ({"needs": {"overrides": {"wine": 1}}}, "needs.overrides.wine", "unknown item"),
    ({"population": {"raster": "/tmp/pop.tif"}}, "population.raster", "absolute"),
    ({"population": {}}, "population.raster", "missing"),
]


@pytest.mark.parametrize("change,key,fragment", BAD)
def test_document_errors_name_the_key(change, key, fragment):
    d = json.loads(json.dumps(PLUME))
    for k, v in change.items():
        if v is None and k == "version":
            d.pop("version")
        else:
            d[k] = v
    if key == "version" and change.get("version") is None:
        fragment = "missing"
    with pytest.raises(ScenarioError, match=fragment) as e:
        parse_scenario(d)
    assert e.value.key == key
    assert str(e.value).startswith(f"{key}: ")


BAD_HAZARD = [
    ({"kind": "bufer"}, "hazard.kind", "did you mean 'buffer'"),
    ({"kind": 3}, "hazard.kind", "unknown hazard kind"),
    ({"wind_from_deg": 360}, "hazard.wind_from_deg", r"\[0, 360\)"),
    ({"wind_from_deg": -1}, "hazard.wind_from_deg", r"\[0, 360\)"),
    ({"wind_from_deg": "45"}, "hazard.wind_from_deg", "write 45 without quotes"),
    ({"wind_from_deg": True}, "hazard.wind_from_deg", "not true/false"),
    ({"wind_from_deg": None}, "hazard.wind_from_deg", "missing"),
    ({"length_m": "3000"}, "hazard.length_m", "never strings"),
    ({"length_m": 0}, "hazard.length_m", "positive"),
    ({"length_m": float("inf")}, "hazard.length_m", "finite"),
    ({"spread_deg": 0}, "hazard.spread_deg", "more than 0"),
    ({"spread_deg": 180}, "hazard.spread_deg", "less than 180"),
    ({"shape": "cone"}, "hazard.shape", "sector, gaussian"),
    ({"rings_m": [500, 500]}, "hazard.rings_m[1]", "must be larger than 500"),
    ({"rings_m": [1000, 500]}, "hazard.rings_m[1]", "must be larger than 1000"),
    ({"rings_m": [-5]}, "hazard.rings_m[0]", "positive"),
    ({"rings_m": [500, "1000"]}, "hazard.rings_m[1]", "write 1000 without quotes"),
    ({"rings_m": [500, False]}, "hazard.rings_m[1]", "true/false"),
    ({"rings_m": 500}, "hazard.rings_m", r"write \[500\]"),
    ({"rings_m": []}, "hazard.rings_m", "at least one"),
    ({"rings_m": [500, 3000]}, "hazard.rings_m[1]", "shorter than length_m"),
    ({"point": [117.2]}, "hazard.point", r"must be \[x, y\]"),
    ({"point": ["117.2", 39.1]}, "hazard.point[0]", "without quotes"),
    ({"point": [39.1, 117.2]}, "hazard.point[1]", "swapped"),
    ({"point": [527241.1, 3387692.0]}, "hazard.point[0]", "projected metres"),
    ({"crs": "EPSG:999999"}, "hazard.crs", "unknown CRS"),
    ({"crs": 4326.5}, "hazard.crs", "must be a CRS"),
    ({"foo": 1}, "hazard.foo", "unknown key 'foo'"),
    ({"threshold": 0.3}, "hazard.threshold", "unknown key 'threshold'"),
]


@pytest.mark.parametrize("change,key,fragment", BAD_HAZARD)
def test_plume_errors_name_the_key(change, key, fragment):
    with pytest.raises(ScenarioError, match=fragment) as e:
        parse_scenario(doc(**{k: v for k, v in change.items() if v is not None},
                           **{k: None for k, v in change.items() if v is None}))
    assert e.value.key == key


def h(**hazard):
    return {"version": 1, "hazard": hazard}


OTHER_KINDS = [
    (h(kind="buffer", rings_m=[5]), "hazard.point", r"a point \[x, y\] or a layer"),
    (h(kind="buffer", point=[117, 39], layer="x", rings_m=[5]), "hazard.layer", "not both"),
    (h(kind="buffer", point=[117, 39]), "hazard.rings_m", "missing"),
    (h(kind="buffer", point=[117, 39], rings_m=[5], where=[]), "hazard.where", "a point"),
    (h(kind="buffer", layer="x", crs="EPSG:4326", rings_m=[5]), "hazard.crs", "layer's CRS"),
    (h(kind="buffer", layer="x", rings_m=[5], where=[{"column": "a", "op": "~", "value": 1}]),
     "hazard.where[0].op", "unknown operator"),
    (h(kind="buffer", layer="x", rings_m=[5], where={"column": "a"}), "hazard.where",
     "list of conditions"),
    (h(kind="zones", class_column="c"), "hazard.layer", "missing"),
    (h(kind="zones", layer="z"), "hazard.class_column", "missing"),
    (h(kind="zones", layer="z", class_column="c", classes=[]), "hazard.classes", "non-empty"),
    (h(kind="zones", layer="z", class_column="c", classes=["a", "a"]), "hazard.classes[1]",
     "duplicate"),
    (h(kind="zones", layer="z", class_column="c", rings_m=[5]), "hazard.rings_m", "unknown key"),
    (h(kind="raster", threshold=0.3), "hazard.path", "missing"),
    (h(kind="raster", path="f.tif"), "hazard.threshold", "missing"),
    (h(kind="raster", path="f.tif", threshold="0.3"), "hazard.threshold", "without quotes"),
    (h(kind="raster", path="f.tif", threshold=0.3, classes=[1, 0.5]), "hazard.classes[1]",
     "ascending"),
    (h(kind="raster", path="f.tif", threshold=0.3, classes=[0.1, 1]), "hazard.classes[0]",
     "below the threshold"),
    (h(kind="raster", path="../f.tif", threshold=0.3), "hazard.path", "outside"),
    (h(kind="raster", path="a/../../f.tif", threshold=0.3), "hazard.path", "outside"),
    (h(kind="raster", path="/etc/f.tif", threshold=0.3), "hazard.path", "absolute"),
    (h(kind="raster", path="C:\\f.tif", threshold=0.3), "hazard.path", "absolute"),
    (h(kind="drawn"), "hazard.geometry", "missing"),
    (h(kind="drawn", geometry={"type": "Circle", "coordinates": [0, 0]}), "hazard.geometry.type",
     "must be one of"),
    (h(kind="drawn", geometry={"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0],
                                                                    [0, 1], [0, 0]]]}),
     "hazard.geometry", "not valid"),
    (h(kind="drawn", geometry={"type": "Point", "coordinates": [117, 39]}), "hazard.rings_m",
     "covers no area"),
    (h(kind="drawn", geometry={"type": "Polygon", "coordinates": [[[500000, 3400000],
                                                                   [500100, 3400000],
                                                                   [500100, 3400100],
                                                                   [500000, 3400000]]]}),
     "hazard.geometry.coordinates", "give the \"crs\""),
]


@pytest.mark.parametrize("d,key,fragment", OTHER_KINDS)
def test_other_kind_errors_name_the_key(d, key, fragment):
    with pytest.raises(ScenarioError, match=fragment) as e:
        parse_scenario(d)
    assert e.value.key == key


def test_raster_path_checked_against_base_dir(tmp_path):
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "flood.tif").write_bytes(b"")
    (tmp_path / "secret.tif").write_bytes(b"")
    base = tmp_path / "ws"
    ok = parse_scenario(h(kind="raster", path="flood.tif", threshold=0.3), base_dir=base)
    assert ok.hazard.path == "flood.tif"
    with pytest.raises(ScenarioError, match="file not found") as e:
        parse_scenario(h(kind="raster", path="nope.tif", threshold=0.3), base_dir=base)
    assert e.value.key == "hazard.path"
    with pytest.raises(ScenarioError, match="outside"):
        parse_scenario(h(kind="raster", path="../secret.tif", threshold=0.3), base_dir=base)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_symlink_out_of_base_dir_refused(tmp_path):
    base = tmp_path / "ws"
    base.mkdir()
    (tmp_path / "secret.tif").write_bytes(b"")
    (base / "link.tif").symlink_to(tmp_path / "secret.tif")
    with pytest.raises(ScenarioError, match="outside"):
        resolve_inside("link.tif", base, "hazard.path")


def test_gcj02_and_bd09_accepted():
    for crs in ("GCJ-02", "gcj02", "BD-09"):
        assert parse_scenario(doc(crs=crs)).hazard.crs == crs


def test_where_is_parsed_like_a_query():
    s = parse_scenario(h(kind="buffer", layer="legal_entities", rings_m=[1000], where=[
        {"column": "hazard_class", "op": "=", "value": "hazardous_chemicals"},
        {"any": [{"column": "employees", "op": ">", "value": 100},
                 {"column": "name", "op": "contains", "value": "化工"}]}]))
    assert s.hazard.where[0].column == "hazard_class"
    assert scenario_to_dict(s)["hazard"]["where"][1]["any"][0]["value"] == 100
