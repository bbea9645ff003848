"""Tests for spatial.validate: a clean framework, a deliberately broken copy,
geometry repair, overlays, messages and argument checks."""

from __future__ import annotations

import json
import re

import geopandas
import numpy as np
import pandas
import pytest
import shapely

from spatial.errors import Canceled
from spatial.feedback import Feedback
from spatial.schema import FRAMEWORK
from spatial.uscc import make_uscc, uscc_is_valid
from spatial.validate import CODES, Issue, ValidationReport, validate_framework

CRS = "EPSG:4547"
BOWTIE = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _framework() -> dict[str, pandas.DataFrame]:
    """A small, valid framework built by hand."""
    rng = np.random.default_rng(7)
    buildings = geopandas.GeoDataFrame(
        {
            "building_id": ["B001", "B002", "B003", "B004", "B005"],
            "use": ["residential", "commercial", "industrial", "public", "mixed"],
            "floors": [3, 12, 2, 4, 6],
            "height_m": [9.0, 38.5, 8.0, 14.0, 19.5],
            "year_built": [1998, 2010, 1985, 2001, 2019],
            "address": ["1 Zhongshan Rd", "2 Zhongshan Rd", "5 Harbour St", "8 Park Ave", "9 Park Ave"],
            "community_id": ["C01", "C01", "C02", "C02", "C02"],
        },
        geometry=[shapely.box(i * 20, 0, i * 20 + 10, 12) for i in range(5)],
        crs=CRS,
    )
    population = pandas.DataFrame(
        {
            "building_id": ["B001", "B002", "B003", "B004"],
            "residents": [30, 120, 0, 44],
            "age_0_14": [5, 20, 0, 4],
            "age_15_64": [20, 80, 0, 30],
            "age_65_plus": [5, 20, 0, 10],
        }
    )
    legal_entities = geopandas.GeoDataFrame(
        {
            "uscc": make_uscc(rng, 3),
            "name": ["Harbour Chemicals", "Zhongshan Bakery", "City No. 3 School"],
            "industry": ["C26", "H62", "P83"],
            "employees": [85, 6, 40],
            "building_id": ["B003", "B002", None],
            "hazard_class": ["hazardous_chemicals", None, None],
        },
        geometry=shapely.points([45.0, 25.0, 200.0], [5.0, 5.0, 50.0]),
        crs=CRS,
    )
    communities = geopandas.GeoDataFrame(
        {"community_id": ["C01", "C02"], "name": ["Zhongshan", "Harbour"], "district": ["Gulou", "Gulou"]},
        geometry=[shapely.box(-5, -5, 35, 20), shapely.box(35, -5, 100, 20)],
        crs=CRS,
    )
    roads = geopandas.GeoDataFrame(
        {"road_id": ["R1", "R2"], "name": ["Zhongshan Rd", "Park Ave"], "class": ["primary", "secondary"]},
        geometry=[shapely.LineString([(0, -3), (100, -3)]),
                  shapely.MultiLineString([[(0, 15), (50, 15)], [(50, 15), (100, 16)]])],
        crs=CRS,
    )
    return {"buildings": buildings, "population": population, "legal_entities": legal_entities,
            "communities": communities, "roads": roads}


def _broken() -> tuple[dict[str, pandas.DataFrame], list[tuple]]:
    """A deliberately broken copy of the framework and the faults planted in it."""
    layers = {name: frame.copy() for name, frame in _framework().items()}
    b = layers["buildings"]
    b["floors"] = ["3", "12", "2", "4", "6"]                  # numbers stored as text
    b.loc[4, "building_id"] = "B002"                          # duplicate id on row 5
    b.loc[1, "geometry"] = BOWTIE                             # bow-tie on row 2
    b.loc[2, "geometry"] = shapely.Polygon()                  # empty geometry on row 3
    p = layers["population"].drop(columns="age_65_plus")      # missing column
    p.loc[2, "building_id"] = "B999"                          # orphan on row 3
    layers["population"] = p
    le = layers["legal_entities"]
    good = le.loc[0, "uscc"]
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    le.loc[0, "uscc"] = wrong_check                           # bad check character, row 1
    le.loc[1, "uscc"] = le.loc[1, "uscc"][:17]                # 17 characters, row 2
    le.loc[2, "geometry"] = shapely.box(0, 0, 1, 1)           # polygon for a point layer, row 3
    layers["communities"] = layers["communities"].iloc[0:0]   # empty layer
    del layers["roads"]                                       # missing layer
    expected = [
        ("buildings", None, "floors", "wrong_type"),
        ("buildings", 2, "geometry", "invalid_geometry"),
        ("buildings", 3, "geometry", "empty_geometry"),
        ("buildings", 5, "building_id", "duplicate_id"),
        ("population", None, "age_65_plus", "missing_column"),
        ("population", 3, "building_id", "orphan_building_id"),
        ("legal_entities", 1, "uscc", "invalid_uscc"),
        ("legal_entities", 2, "uscc", "invalid_uscc"),
        ("legal_entities", 3, "geometry", "wrong_geometry_type"),
        ("communities", None, None, "empty_layer"),
        ("roads", None, None, "missing_layer"),
    ]
    return layers, expected


def _snapshot(layers: dict[str, pandas.DataFrame]) -> dict[str, pandas.DataFrame]:
    return {n: (f.to_wkb() if isinstance(f, geopandas.GeoDataFrame) else f.copy()) for n, f in layers.items()}


def _found(report: ValidationReport) -> list[tuple]:
    return [(i.layer, i.row, i.column, i.code) for i in report.issues]


def _key(t: tuple) -> tuple:
    return tuple("" if v is None else str(v) for v in t)


def _objects(layers: dict[str, pandas.DataFrame]) -> dict[str, pandas.DataFrame]:
    """The same layers with text stored as object columns (as older readers give)."""
    out = {}
    for name, frame in layers.items():
        frame = frame.copy()
        for col in frame.columns:
            if isinstance(frame[col].dtype, pandas.StringDtype):
                frame[col] = frame[col].astype(object)
        out[name] = frame
    return out


# --------------------------------------------------------------------------- clean framework


@pytest.mark.parametrize("storage", ["str", "object"])
def test_clean_framework_has_no_issues(storage):
    layers = _framework() if storage == "str" else _objects(_framework())
    assert all(uscc_is_valid(c) for c in layers["legal_entities"]["uscc"])
    report = validate_framework(layers)
    assert report.issues == []
    assert report.ok and report.errors == [] and report.warnings == []
    assert report.repaired == {name: 0 for name in FRAMEWORK}
    assert set(report.layers) == set(FRAMEWORK)
    for name, frame in layers.items():
        assert report.layers[name] is not frame
        assert report.layers[name].equals(frame)
    assert report.counts_by_code() == {}
    assert "OK" in report.to_text() and "通过" in report.to_text("zh")
    assert report.to_dict()["ok"] is True


# --------------------------------------------------------------------------- broken copy


@pytest.mark.parametrize("storage", ["str", "object"])
def test_every_planted_fault_is_found_and_nothing_else(storage):
    layers, expected = _broken()
    if storage == "object":
        layers = _objects(layers)
    report = validate_framework(layers)
    assert sorted(_found(report), key=_key) == sorted(expected, key=_key)
    sev = {(i.layer, i.row, i.code): i.severity for i in report.issues}
    assert sev[("buildings", 2, "invalid_geometry")] == "repaired"
    assert {i.code for i in report.errors} == {c for (_, _, _, c) in expected} - {"invalid_geometry"}
    assert report.warnings == []
    assert not report.ok


def test_broken_copy_details_and_messages():
    layers, _ = _broken()
    report = validate_framework(layers)
    by = {(i.layer, i.row, i.code): i for i in report.issues}

    dup = by[("buildings", 5, "duplicate_id")]
    assert dup.key_value == "B002" and dup.value == "B002"
    assert dup.text() == "buildings row 5 (building_id=B002), column building_id: building_id B002 is a duplicate of row 2"

    orphan = by[("population", 3, "orphan_building_id")]
    assert orphan.key_value == "B999" and orphan.severity == "error"

    check = by[("legal_entities", 1, "invalid_uscc")]
    code = layers["legal_entities"]["uscc"].iloc[0]
    assert check.key_value == code
    assert check.text().startswith(f"legal_entities row 1 (uscc={code}), column uscc: check character is {code[17]}, expected ")
    assert check.text().endswith("(GB 32100-2015)")
    assert "校验位" in check.text("zh")

    short = by[("legal_entities", 2, "invalid_uscc")]
    assert "has 17 characters, expected 18" in short.text()
    assert "17 个字符" in short.text("zh")

    wrong = by[("buildings", None, "wrong_type")]
    assert wrong.text() == "buildings, column floors: values are stored as text, expected whole numbers (e.g. row 1: '3')"

    geom = by[("legal_entities", 3, "wrong_geometry_type")]
    assert geom.value == "Polygon" and "expected Point or MultiPoint" in geom.text()

    assert by[("roads", None, "missing_layer")].text() == "roads: the framework layer is missing"
    assert by[("population", None, "missing_column")].text() == \
        "population: required column age_65_plus is missing"
    assert "Self-intersection" in by[("buildings", 2, "invalid_geometry")].text()

    for issue in report.issues:
        zh = issue.text("zh")
        assert CHINESE.search(zh), zh
        assert issue.layer in zh and issue.layer in issue.text()
        if issue.row is not None:
            assert f"row {issue.row}" in issue.text() and f"第 {issue.row} 行" in zh
        if issue.column is not None:
            assert issue.column in issue.text() and issue.column in zh


def test_inputs_are_unchanged_and_geometry_repaired():
    layers, _ = _broken()
    before = _snapshot(layers)
    ids = {n: id(f) for n, f in layers.items()}
    report = validate_framework(layers)
    assert {n: id(f) for n, f in layers.items()} == ids
    for name, snap in before.items():
        now = layers[name].to_wkb() if isinstance(layers[name], geopandas.GeoDataFrame) else layers[name]
        pandas.testing.assert_frame_equal(now, snap)
    assert not layers["buildings"].geometry.iloc[1].is_valid  # input still broken

    assert report.repaired["buildings"] == 1
    assert sum(report.repaired.values()) == 1
    fixed = report.layers["buildings"]
    assert isinstance(fixed, geopandas.GeoDataFrame) and fixed.crs == layers["buildings"].crs
    g = fixed.geometry.iloc[1]
    assert g.is_valid and g.geom_type == "MultiPolygon" and len(g.geoms) == 2
    assert g.area == pytest.approx(50.0)
    # other rows are left as they were (the empty geometry is reported, not dropped)
    assert fixed.geometry.iloc[2].is_empty
    assert shapely.equals(fixed.geometry.iloc[0], layers["buildings"].geometry.iloc[0])
    assert fixed.index.equals(layers["buildings"].index)
    assert list(fixed.columns) == list(layers["buildings"].columns)


def test_repair_false_reports_invalid_geometry_as_error():
    layers, _ = _broken()
    report = validate_framework(layers, repair=False)
    issue = next(i for i in report.issues if i.code == "invalid_geometry")
    assert (issue.layer, issue.row, issue.severity) == ("buildings", 2, "error")
    assert report.repaired["buildings"] == 0
    assert not report.layers["buildings"].geometry.iloc[1].is_valid


# --------------------------------------------------------------------------- single checks


def test_ids_uses_and_negative_values():
    layers = _framework()
    b = layers["buildings"]
    b.loc[0, "building_id"] = None
    b.loc[1, "building_id"] = "  "
    b.loc[2, "use"] = "Residential"
    b.loc[3, "use"] = None          # nullable: fine
    b.loc[4, "floors"] = -2
    p = layers["population"]
    p.loc[0, "building_id"] = "B005"  # B001 no longer exists (null id)
    p.loc[1, "residents"] = -1
    p.loc[3, "residents"] = 45       # 4 + 30 + 10 = 44
    le = layers["legal_entities"]
    le.loc[1, "building_id"] = "B777"
    le.loc[2, "employees"] = -3
    report = validate_framework(layers)
    assert sorted(_found(report), key=_key) == sorted([
        ("buildings", 1, "building_id", "null_id"),
        ("buildings", 2, "building_id", "null_id"),
        ("buildings", 3, "use", "unknown_use"),
        ("buildings", 5, "floors", "negative_value"),
        ("population", 2, "building_id", "orphan_building_id"),   # B002 is now blank in buildings
        ("population", 2, "residents", "negative_value"),
        ("population", 2, "residents", "age_sum_mismatch"),
        ("population", 4, "residents", "age_sum_mismatch"),
        ("legal_entities", 2, "building_id", "orphan_entity_building"),
        ("legal_entities", 3, "employees", "negative_value"),
    ], key=_key)
    codes = report.counts_by_code()
    assert codes["null_id"] == 2 and codes["unknown_use"] == 1
    by = {(i.layer, i.row, i.column, i.code): i for i in report.issues}
    assert by[("buildings", 3, "use", "unknown_use")].value == "Residential"
    assert by[("buildings", 5, "floors", "negative_value")].value == -2
    assert by[("buildings", 5, "floors", "negative_value")].text() == \
        "buildings row 5 (building_id=B005), column floors: floors is negative (-2)"
    mismatch = by[("population", 4, "residents", "age_sum_mismatch")]
    assert mismatch.severity == "warning"
    assert mismatch.text() == ("population row 4 (building_id=B004), column residents: "
                               "the age groups add up to 44, but residents is 45")
    entity = by[("legal_entities", 2, "building_id", "orphan_entity_building")]
    assert entity.severity == "warning" and entity.value == "B777"
    assert by[("legal_entities", 3, "employees", "negative_value")].value == -3
    assert {i.code for i in report.warnings} == {"age_sum_mismatch", "orphan_entity_building"}


def test_column_types():
    layers = _framework()
    b = layers["buildings"]
    b["floors"] = b["floors"].astype(float)              # integral floats: fine
    b["height_m"] = [9, 38, 8, 14, 19]                   # int for a number column: fine
    layers["population"]["residents"] = pandas.array([30, 120, 0, 44], dtype="Int64")
    assert validate_framework(layers).issues == []

    b["year_built"] = [1998.5, 2010, 1985, 2001, 2019]   # fractional in an int column
    b["community_id"] = [1, 1, 2, 2, 2]                  # numbers in a text column
    layers["roads"]["name"] = pandas.Series([None, None], dtype=float)  # all null: fine
    layers["legal_entities"]["employees"] = pandas.Series([85, "6", 40], dtype=object)
    layers["communities"]["name"] = pandas.Series(["Zhongshan", 7], dtype=object)
    report = validate_framework(layers)
    assert sorted(_found(report), key=_key) == sorted([
        ("buildings", None, "year_built", "wrong_type"),
        ("buildings", None, "community_id", "wrong_type"),
        ("legal_entities", None, "employees", "wrong_type"),
        ("communities", None, "name", "wrong_type"),
    ], key=_key)
    by = {i.column: i for i in report.issues}
    assert by["employees"].text() == ("legal_entities, column employees: values are stored as mixed values, "
                                      "expected whole numbers (e.g. row 2: '6')")
    assert (by["name"].params["example_row"], by["name"].value) == (2, 7)
    assert by["year_built"].params["example_row"] == 1 and by["year_built"].value == 1998.5
    assert "decimal numbers" in by["year_built"].text()
    assert "stored as whole numbers, expected text" in by["community_id"].text()
    assert "整数" in by["community_id"].text("zh")


def test_geometry_checks_and_repairs():
    layers = _framework()
    b = layers["buildings"]
    b.loc[0, "geometry"] = None
    b.loc[1, "geometry"] = shapely.Polygon([(0, 0), (1, 0), (2, 0), (0, 0)])     # collapses to a line
    b.loc[2, "geometry"] = shapely.MultiPolygon([shapely.box(0, 0, 2, 2), shapely.box(1, 1, 3, 3)])
    b.loc[3, "geometry"] = shapely.LineString([(0, 0), (1, 1)])
    report = validate_framework(layers)
    assert sorted(_found(report), key=_key) == sorted([
        ("buildings", 1, "geometry", "empty_geometry"),
        ("buildings", 2, "geometry", "unrepairable_geometry"),
        ("buildings", 3, "geometry", "invalid_geometry"),
        ("buildings", 4, "geometry", "wrong_geometry_type"),
    ], key=_key)
    by = {i.row: i for i in report.issues}
    assert by[1].text() == "buildings row 1 (building_id=B001), column geometry: the geometry is missing"
    assert by[2].severity == "error"
    assert report.repaired["buildings"] == 1
    merged = report.layers["buildings"].geometry.iloc[2]
    assert merged.geom_type == "MultiPolygon" and merged.is_valid and len(merged.geoms) == 1
    assert merged.area == pytest.approx(7.0)
    # the unrepairable geometry is left as it was
    assert report.layers["buildings"].geometry.iloc[1].equals(b.geometry.iloc[1])


def test_geometry_layer_without_geometry():
    layers = _framework()
    layers["communities"] = pandas.DataFrame(layers["communities"].drop(columns="geometry"))
    report = validate_framework(layers)
    assert _found(report) == [("communities", None, "geometry", "missing_column")]
    assert "no geometry column" in report.issues[0].text()


def test_positional_rows_with_custom_index():
    layers, expected = _broken()
    layers["buildings"].index = [101, 55, 7, 9, 3]
    report = validate_framework(layers)
    assert sorted(_found(report), key=_key) == sorted(expected, key=_key)


def test_overlays():
    layers = _framework()
    layers["schools"] = geopandas.GeoDataFrame(
        {"name": ["No. 1", "No. 2", "No. 3"], "school_id": ["S1", "S2", "S1"], "pupils": [300, 200, 150]},
        geometry=[shapely.Point(1, 1), BOWTIE, shapely.Point(3, 3)], crs=CRS)
    layers["flood_zones"] = geopandas.GeoDataFrame({"zone_id": []}, geometry=[], crs=CRS)
    layers["notes"] = pandas.DataFrame({"text": ["a", "a"]})  # no key, no geometry
    report = validate_framework(layers)
    assert sorted(_found(report), key=_key) == sorted([
        ("schools", 2, "geometry", "invalid_geometry"),
        ("schools", 3, "school_id", "duplicate_id"),
        ("flood_zones", None, None, "empty_layer"),
    ], key=_key)
    # an empty overlay is a warning, a repair is not an error, a duplicate id is
    assert [i.code for i in report.warnings] == ["empty_layer"]
    assert [i.code for i in report.errors] == ["duplicate_id"]
    assert report.issues[1].text() == "schools row 3 (school_id=S1), column school_id: school_id S1 is a duplicate of row 1"
    assert report.repaired["schools"] == 1
    assert report.layers["schools"].geometry.iloc[1].is_valid
    assert set(report.layers) == set(layers)


# --------------------------------------------------------------------------- report, feedback, arguments


def test_report_outputs():
    layers, expected = _broken()
    report = validate_framework(layers)
    counts = report.counts_by_code()
    assert sum(counts.values()) == len(expected) and counts["invalid_uscc"] == 2
    assert set(counts) <= set(CODES)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is False and data["errors"] == len(expected) - 1 and data["warnings"] == 0
    assert data["repaired"]["buildings"] == 1 and data["counts"] == counts
    assert [(i["layer"], i["row"], i["column"], i["code"]) for i in data["issues"]] == _found(report)
    assert CHINESE.search(report.to_dict("zh")["issues"][0]["message"])

    text = report.to_text()
    assert "FAULTS FOUND" in text and "invalid_uscc" in text and "layer" in text
    assert report.issues[0].text() in text
    zh = report.to_text("zh", limit=2)
    assert "图层" in zh and "另有" in zh
    assert report.to_text(limit=None).count("\n[") == len(report.issues)


def test_feedback_progress_and_cancel():
    seen = []
    validate_framework(_framework(), feedback=Feedback(on_progress=seen.append))
    assert seen[-1] == 100.0 and seen == sorted(seen) and len(seen) > 5

    fb = Feedback()
    fb.cancel()
    with pytest.raises(Canceled):
        validate_framework(_framework(), feedback=fb)


def test_bad_arguments():
    with pytest.raises(TypeError, match="mapping"):
        validate_framework([("buildings", _framework()["buildings"])])
    with pytest.raises(TypeError, match="'roads' must be a DataFrame"):
        validate_framework({"roads": [1, 2]})
    with pytest.raises(TypeError, match="layer names must be str"):
        validate_framework({1: pandas.DataFrame()})
    with pytest.raises(TypeError, match="repair must be a bool"):
        validate_framework({}, repair="yes")
    with pytest.raises(TypeError, match="feedback must have"):
        validate_framework({}, feedback=object())
    report = validate_framework({})
    with pytest.raises(ValueError, match="lang must be one of en, zh"):
        report.to_text("fr")
    with pytest.raises(ValueError, match="lang must be one of"):
        report.issues[0].text("de")
    with pytest.raises(ValueError, match="limit"):
        report.to_text(limit=-1)
    with pytest.raises(ValueError, match="unknown issue code"):
        Issue("buildings", 1, None, "bad_code")
    with pytest.raises(ValueError, match="severity must be one of"):
        Issue("buildings", 1, None, "null_id", severity="fatal")
