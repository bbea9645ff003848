"""Tests for spatial.query.model: the catalog, parsing with its errors (one case
per mistake, each asserting the JSON key), saved-query resolution and the
dict round trip (examples and hypothesis)."""

from __future__ import annotations

import copy
import json
import math

import geopandas
import numpy as np
import pandas
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial.query.model import (
    AGGREGATE_FNS,
    RELATION_KINDS,
    Aggregate,
    AnyOf,
    Condition,
    GroupBy,
    LayerInfo,
    Query,
    QueryError,
    Relation,
    catalog_from_frames,
    parse_query,
    query_to_dict,
    resolve_saved,
)

CRS = "EPSG:4547"

# DESIGN.md, "The query file (version 1)", verbatim.
DESIGN_EXAMPLE = """
{
  "version": 1,
  "title": {"en": "Schools near hazardous-chemical enterprises", "zh": "危化企业周边学校"},
  "target": "schools",
  "where": [{"column": "level", "op": "in", "value": ["primary", "middle"]}],
  "relation": {
    "kind": "within_distance", "distance_m": 1000, "layer": "legal_entities",
    "where": [{"column": "hazard_class", "op": "=", "value": "hazardous_chemicals"}]
  },
  "group_by": {"layer": "communities", "key": "community_id"},
  "aggregate": [{"fn": "count", "as": "schools"}, {"fn": "sum", "column": "pupils", "as": "pupils"}]
}
"""


def _points(n):
    return shapely.points(np.arange(n) * 10.0, np.zeros(n))


def _frames() -> dict[str, pandas.DataFrame]:
    buildings = geopandas.GeoDataFrame(
        {"building_id": ["B1", "B2"], "use": ["residential", "mixed"], "floors": [3, 12],
         "height_m": [9.0, 38.5], "year_built": [1998, 2010], "address": ["1 Rd", "2 Rd"],
         "community_id": ["C1", "C2"]},
        geometry=[shapely.box(0, 0, 5, 5), shapely.box(10, 0, 15, 5)], crs=CRS)
    population = pandas.DataFrame(
        {"building_id": ["B1"], "residents": [30], "age_0_14": [5], "age_15_64": [20],
         "age_65_plus": [5]})
    legal_entities = geopandas.GeoDataFrame(
        {"uscc": ["91310000MA1FL0XXXX", "91310000MA1FL0YYYY"], "name": ["Harbour Chem", "Bakery"],
         "industry": ["C26", "H62"], "employees": [85, 6], "building_id": ["B1", None],
         "hazard_class": ["hazardous_chemicals", ""]},
        geometry=_points(2), crs=CRS)
    communities = geopandas.GeoDataFrame(
        {"community_id": ["C1", "C2"], "name": ["East", "West"], "district": ["D1", "D1"]},
        geometry=[shapely.box(0, 0, 9, 9), shapely.box(9, 0, 20, 9)], crs=CRS)
    roads = geopandas.GeoDataFrame(
        {"road_id": ["R1"], "name": ["Main"], "class": ["primary"]},
        geometry=[shapely.LineString([(0, 0), (20, 0)])], crs=CRS)
    schools = geopandas.GeoDataFrame(
        {"school_id": ["S1", "S2"], "name": ["No. 1", "No. 2"], "level": ["primary", "high"],
         "pupils": [400, 900], "building_id": ["B1", "B2"]},
        geometry=_points(2), crs=CRS)
    shelters = geopandas.GeoDataFrame(
        {"shelter_id": ["SH1"], "name": ["Park"], "capacity": [1200.0], "indoor": [True],
         "opened": pandas.to_datetime(["2015-06-01"])},
        geometry=_points(1), crs=CRS)
    hospitals = geopandas.GeoDataFrame(
        {"hospital_id": ["H1"], "name": ["City"], "grade": ["3A"], "beds": [500]},
        geometry=_points(1), crs=CRS)
    police_stations = geopandas.GeoDataFrame(
        {"station_id": ["P1"], "name": ["North"], "officers": [40]},
        geometry=_points(1), crs=CRS)
    flood_zones = geopandas.GeoDataFrame(
        {"zone_id": ["F1"], "depth_class": [2], "depth_min_m": [0.5], "depth_max_m": [1.0]},
        geometry=[shapely.MultiPolygon([shapely.box(0, 0, 3, 3)])], crs=CRS)
    return {"buildings": buildings, "population": population, "legal_entities": legal_entities,
            "communities": communities, "roads": roads, "schools": schools,
            "shelters": shelters, "hospitals": hospitals, "police_stations": police_stations,
            "flood_zones": flood_zones}


CATALOG = catalog_from_frames(_frames(), {"schools": {"en": "Schools", "zh": "学校"}})

SAVED = {
    "hazard_schools": {
        "version": 1, "title": {"en": "Schools near hazards"}, "target": "schools",
        "relation": {"kind": "within_distance", "distance_m": 1000, "layer": "legal_entities"},
    },
    "pupils_by_community": {
        "version": 1, "target": "schools",
        "group_by": {"layer": "communities", "key": "community_id"},
        "aggregate": [{"fn": "count", "as": "schools"},
                      {"fn": "sum", "column": "pupils", "as": "pupils"},
                      {"fn": "mean", "column": "pupils", "as": "mean_pupils"}],
    },
    "nearest_station": {
        "version": 1, "target": "hospitals",
        "relation": {"kind": "nearest", "k": 1, "layer": "police_stations"},
    },
    "total_pupils": {
        "version": 1, "target": "schools",
        "aggregate": [{"fn": "sum", "column": "pupils", "as": "pupils"}],
    },
    "chained": {"version": 1, "target": "query:hazard_schools",
                "where": [{"column": "pupils", "op": ">", "value": 100}]},
    "self": {"version": 1, "target": "query:self"},
    "loop_a": {"version": 1, "target": "query:loop_b"},
    "loop_b": {"version": 1, "target": "schools",
               "relation": {"kind": "intersects", "layer": "query:loop_a"}},
    "broken": {"version": 1, "target": "schools",
               "where": [{"column": "levle", "op": "=", "value": "primary"}]},
}


def parse(doc, **kw):
    kw.setdefault("catalog", CATALOG)
    kw.setdefault("saved", SAVED)
    return parse_query(doc, **kw)


def base(**parts) -> dict:
    doc = {"version": 1, "target": "schools"}
    doc.update(parts)
    return doc


def rel(**parts) -> dict:
    r = {"kind": "within_distance", "distance_m": 500, "layer": "legal_entities"}
    r.update(parts)
    return r


def cond(column="level", op="=", value="primary") -> dict:
    return {"column": column, "op": op, "value": value}


# --------------------------------------------------------------------------- catalog

def test_catalog_kinds_geometry_keys_and_population():
    b = CATALOG["buildings"]
    assert b.geometry == "Polygon" and b.key == "building_id"
    assert b.columns["floors"] == "int" and b.columns["height_m"] == "float"
    assert b.columns["use"] == "str"
    for col in ("residents", "age_0_14", "age_15_64", "age_65_plus"):
        assert b.columns[col] == "int"
    assert "geometry" not in b.columns
    assert CATALOG["population"].geometry is None
    assert CATALOG["legal_entities"].key == "uscc"
    assert CATALOG["roads"].geometry == "LineString"
    assert CATALOG["flood_zones"].geometry == "Polygon"  # MultiPolygon counts as Polygon
    s = CATALOG["shelters"]
    assert (s.geometry, s.key) == ("Point", "shelter_id")
    assert s.columns == {"shelter_id": "str", "name": "str", "capacity": "float",
                         "indoor": "bool", "opened": "datetime"}
    assert CATALOG["schools"].title == {"en": "Schools", "zh": "学校"}
    assert list(CATALOG) == sorted(CATALOG)


def test_catalog_without_population_and_unusual_dtypes():
    frames = _frames()
    del frames["population"]
    frames["misc"] = pandas.DataFrame({
        "misc_id": pandas.Series(["a", "b"], dtype=object),
        "n": pandas.Series([1, None], dtype=object),
        "x": pandas.Series([1.5, None], dtype=object),
        "flag": pandas.Series([True, None], dtype=object),
        "cat": pandas.Series(["p", "q"], dtype="category"),
        "nullable": pandas.array([1, None], dtype="Int64"),
        "blank": pandas.Series([None, None], dtype=object),
        "mixed": pandas.Series([1, "a"], dtype=object),
    })
    frames["empty"] = geopandas.GeoDataFrame({"thing_id": []}, geometry=[], crs=CRS)
    frames["roads"] = frames["roads"].iloc[:0]
    cat = catalog_from_frames(frames)
    assert "residents" not in cat["buildings"].columns
    assert cat["misc"].columns == {"misc_id": "str", "n": "int", "x": "float", "flag": "bool",
                                   "cat": "str", "nullable": "int", "blank": "other",
                                   "mixed": "other"}
    assert cat["misc"].geometry is None and cat["misc"].key == "misc_id"
    assert cat["empty"].geometry is None
    assert cat["roads"].geometry == "LineString"  # empty framework layer: from the schema
    assert cat["schools"].title == {}
    frames["communities"] = frames["communities"].drop(columns="community_id")
    assert catalog_from_frames(frames)["communities"].key is None  # key column absent


def test_catalog_does_not_change_frames():
    frames = _frames()
    before = {k: v.copy() for k, v in frames.items()}
    catalog_from_frames(frames)
    for k, v in frames.items():
        pandas.testing.assert_frame_equal(v, before[k])


# --------------------------------------------------------------------------- valid queries

VALID = [
    json.loads(DESIGN_EXAMPLE),
    base(),
    base(where=[cond("pupils", ">=", 100), cond("name", "contains", "No."),
                {"column": "building_id", "op": "not_null"}, cond("level", "!=", "high")]),
    base(where=[{"any": [cond("level", "=", "primary"),
                         {"any": [cond("pupils", "between", [10, 20.5])]}]}]),
    {"version": 1, "target": "buildings",
     "where": [cond("use", "not_in", ["industrial"]), cond("residents", "<", 50),
               cond("height_m", "<=", 30.5), cond("year_built", "between", [1980, 2000])],
     "relation": {"kind": "intersects", "layer": "flood_zones",
                  "where": [cond("depth_class", ">=", 2)]},
     "group_by": {"layer": "communities", "key": "community_id"},
     "aggregate": [{"fn": "count", "as": "buildings"},
                   {"fn": "sum", "column": "residents", "as": "residents"},
                   {"fn": "max", "column": "age_65_plus", "as": "old"}]},
    {"version": 1, "target": "hospitals",
     "relation": {"kind": "nearest", "k": 2, "max_distance_m": 3000, "layer": "police_stations"}},
    {"version": 1, "target": "hospitals",
     "relation": {"kind": "nearest", "k": 1, "layer": "hospitals"},
     "aggregate": [{"fn": "mean", "column": "distance_m", "as": "mean_distance"}]},
    {"version": 1, "target": "buildings",
     "relation": {"kind": "beyond_distance", "distance_m": 1500.5, "layer": "shelters",
                  "where": [cond("indoor", "=", True), cond("opened", ">", "2010-01-01"),
                            {"column": "capacity", "op": "is_null"}]}},
    {"version": 1, "target": "schools", "relation": {"kind": "within", "layer": "communities"}},
    {"version": 1, "target": "communities", "relation": {"kind": "contains", "layer": "schools"},
     "where": [cond("district", "in", ["D1", "D2"])]},
    {"version": 1, "target": "query:hazard_schools",
     "where": [cond("pupils", ">", 100)],
     "group_by": {"layer": "query:pupils_by_community", "key": "community_id"},
     "aggregate": [{"fn": "min", "column": "pupils", "as": "smallest"}]},
    {"version": 1, "target": "schools",
     "relation": {"kind": "within_distance", "distance_m": 0, "layer": "query:nearest_station",
                  "where": [cond("distance_m", "<", 800.0), cond("nearest_id", "=", "P1")]}},
    {"version": 1, "title": {"zh": "只有中文"}, "target": "population",
     "where": [cond("residents", ">", 0)]},
]


@pytest.mark.parametrize("doc", VALID, ids=range(len(VALID)))
def test_valid_queries_round_trip(doc):
    q = parse(copy.deepcopy(doc))
    assert query_to_dict(q) == doc
    assert parse(query_to_dict(q)) == q
    assert parse(json.loads(json.dumps(query_to_dict(q), ensure_ascii=False))) == q


def test_design_example_parses_to_the_dataclasses():
    q = parse(DESIGN_EXAMPLE)
    assert q == Query(
        target="schools",
        where=(Condition("level", "in", ("primary", "middle")),),
        relation=Relation("within_distance", "legal_entities",
                          (Condition("hazard_class", "=", "hazardous_chemicals"),),
                          distance_m=1000),
        group_by=GroupBy("communities", "community_id"),
        aggregate=(Aggregate("count", "schools"), Aggregate("sum", "pupils", "pupils")),
    )
    assert q.title == {"en": "Schools near hazardous-chemical enterprises", "zh": "危化企业周边学校"}
    assert hash(q) == hash(parse(DESIGN_EXAMPLE))
    # the key order of DESIGN.md
    assert list(query_to_dict(q)) == ["version", "title", "target", "where", "relation",
                                      "group_by", "aggregate"]
    assert list(query_to_dict(q)["relation"]) == ["kind", "distance_m", "layer", "where"]


def test_any_group_and_where_forms():
    q = parse(VALID[3])
    assert q.where == (AnyOf((Condition("level", "=", "primary"),
                              AnyOf((Condition("pupils", "between", (10, 20.5)),)))),)


def test_group_by_without_aggregate_counts():
    q = parse(base(group_by={"layer": "communities", "key": "community_id"}))
    assert q.aggregate == (Aggregate("count", "count"),)


def test_numpy_values_become_python_values():
    q = parse(base(where=[cond("pupils", "in", [np.int64(3), np.float64(2.5)])],
                   relation=rel(distance_m=np.float32(250.0))))
    assert q.where[0].value == (3, 2.5)
    assert type(q.where[0].value[0]) is int and type(q.relation.distance_m) is float
    json.dumps(query_to_dict(q))


def test_explicit_null_value_for_is_null_is_accepted():
    q = parse(base(where=[{"column": "name", "op": "is_null", "value": None}]))
    assert q.where[0] == Condition("name", "is_null", None)


def test_read_from_path_and_json_text(tmp_path):
    path = tmp_path / "q.json"
    path.write_text(DESIGN_EXAMPLE, encoding="utf-8")
    expected = parse(json.loads(DESIGN_EXAMPLE))
    assert parse(path) == expected
    assert parse(str(path)) == expected
    assert parse(DESIGN_EXAMPLE) == expected


def test_structural_checks_only_without_catalog():
    q = parse_query({"version": 1, "target": "anything",
                     "where": [cond("whatever", ">", 3)],
                     "relation": {"kind": "intersects", "layer": "query:not_known"},
                     "group_by": {"layer": "points", "key": "nope"},
                     "aggregate": [{"fn": "sum", "column": "text_col", "as": "s"}]})
    assert q.target == "anything" and q.relation.layer == "query:not_known"
    # structure is still checked
    with pytest.raises(QueryError, match="lengths are numbers") as e:
        parse_query(base(relation=rel(distance_m="500")))
    assert e.value.key == "relation.distance_m"
    with pytest.raises(QueryError, match="non-empty list") as e:
        parse_query(base(where=[cond("level", "in", [])]))
    assert e.value.key == "where[0].value"
    # saved queries are still looked up when given
    with pytest.raises(QueryError, match="no saved query named 'nope'") as e:
        parse_query(base(target="query:nope"), saved=SAVED)
    assert e.value.key == "target"


# --------------------------------------------------------------------------- resolve_saved

def test_resolve_saved_plain_query_gives_target_columns():
    info = resolve_saved("hazard_schools", SAVED, CATALOG)
    assert info.columns == CATALOG["schools"].columns
    assert (info.geometry, info.key) == ("Point", "school_id")
    assert info.title == {"en": "Schools near hazards"}
    assert resolve_saved("query:hazard_schools", SAVED, CATALOG) == info


def test_resolve_saved_nearest_adds_nearest_id_and_distance():
    info = resolve_saved("nearest_station", SAVED, CATALOG)
    assert info.columns == {**CATALOG["hospitals"].columns, "nearest_id": "str",
                            "distance_m": "float"}


def test_resolve_saved_grouped_gives_zone_key_and_aggregates():
    info = resolve_saved("pupils_by_community", SAVED, CATALOG)
    assert info.columns == {"community_id": "str", "schools": "int", "pupils": "int",
                            "mean_pupils": "float"}
    assert (info.geometry, info.key) == ("Polygon", "community_id")


def test_resolve_saved_totals_and_chains():
    totals = resolve_saved("total_pupils", SAVED, CATALOG)
    assert (totals.columns, totals.geometry, totals.key) == ({"pupils": "int"}, None, None)
    assert resolve_saved("chained", SAVED, CATALOG).columns == CATALOG["schools"].columns


def test_resolve_saved_errors():
    with pytest.raises(QueryError, match="no saved query named 'nope'"):
        resolve_saved("nope", SAVED, CATALOG)
    with pytest.raises(QueryError, match=r"query:self → query:self"):
        resolve_saved("self", SAVED, CATALOG)
    with pytest.raises(TypeError):
        resolve_saved("self", SAVED, None)


def test_saved_result_columns_are_checked():
    with pytest.raises(QueryError, match="the result of saved query 'pupils_by_community' has "
                                         "no column 'level'") as e:
        parse(base(target="query:pupils_by_community", where=[cond("level")]))
    assert e.value.key == "where[0].column"
    with pytest.raises(QueryError, match="has no geometry") as e:
        parse(base(relation={"kind": "intersects", "layer": "query:total_pupils"}))
    assert e.value.key == "relation.layer"


# --------------------------------------------------------------------------- errors

def _with(doc: dict, **changes) -> dict:
    out = copy.deepcopy(doc)
    out.update(changes)
    return out


ERRORS = [
    # (id, doc, key, message pattern)
    ("version missing", {"target": "schools"}, "version", "missing; this program reads"),
    ("version 2", base(version=2), "version", "version 2 is not supported"),
    ("version text", base(version="1"), "version", "must be the number 1"),
    ("version bool", base(version=True), "version", "must be the number 1, not true/false"),
    ("unknown top key", base(grup_by={}), "grup_by",
     "unknown key 'grup_by'; did you mean 'group_by'\\?"),
    ("unknown key no match", base(zzz=1), "zzz", "unknown key 'zzz'; allowed keys: version"),
    ("title not object", base(title="Schools"), "title", "must be an object"),
    ("title unknown lang", base(title={"fr": "Écoles"}), "title.fr", "unknown key 'fr'"),
    ("title not text", base(title={"en": 3}), "title.en", "must be text"),
    ("target missing", {"version": 1}, "target", "missing"),
    ("target not text", base(target=3), "target", "must be a layer name"),
    ("unknown layer", base(target="scools"), "target",
     "unknown layer 'scools'; did you mean 'schools'\\? \\(known layers: buildings, communities"),
    ("unknown layer many", base(target="zzz"), "target", r"… \(10 in all\)"),
    ("where not list", base(where=cond()), "where", "must be a list of conditions"),
    ("condition not object", base(where=["level = primary"]), "where[0]",
     "a condition must be an object"),
    ("unknown condition key", base(where=[{"column": "level", "op": "=", "valeu": "x"}]),
     "where[0].valeu", "unknown key 'valeu'; did you mean 'value'\\?"),
    ("column missing", base(where=[{"op": "=", "value": "x"}]), "where[0].column", "missing"),
    ("op missing", base(where=[{"column": "level", "value": "x"}]), "where[0].op", "missing"),
    ("unknown column", base(where=[cond("levl")]), "where[0].column",
     "layer 'schools' has no column 'levl'; did you mean 'level'\\?"),
    ("unknown column listing", base(where=[cond("qqqq")]), "where[0].column",
     "has no column 'qqqq'; its columns: building_id, level, name, pupils, school_id"),
    ("unknown column reference", base(relation=rel(where=[cond("hazard", "=", "x")])),
     "relation.where[0].column", "layer 'legal_entities' has no column 'hazard'; did you mean "
                                 "'hazard_class'\\?"),
    ("population column on schools", base(where=[cond("residents", ">", 1)]),
     "where[0].column", "layer 'schools' has no column 'residents'"),
    ("unknown op", base(where=[cond("level", "~", "x")]), "where[0].op",
     "unknown operator '~'; use one of: =, !=, <, <=, >, >=, in, not_in, between, contains, "
     "is_null, not_null"),
    ("op alias", base(where=[cond("level", "==", "x")]), "where[0].op",
     "unknown operator '=='; did you mean '='\\?"),
    ("op typo", base(where=[cond("pupils", "betwen", [1, 2])]), "where[0].op",
     "did you mean 'between'\\?"),
    ("op not text", base(where=[cond("level", 1, "x")]), "where[0].op", "must be an operator"),
    ("number for text column", base(where=[cond("level", "=", 3)]), "where[0].value",
     "column 'level' of layer 'schools' holds text; write the value in quotes"),
    ("text for number column", base(where=[cond("pupils", ">", "500")]), "where[0].value",
     "holds numbers; write 500 without quotes"),
    ("words for number column", base(where=[cond("pupils", ">", "many")]), "where[0].value",
     "holds numbers, not text"),
    ("bool for number column", base(where=[cond("pupils", "=", True)]), "where[0].value",
     "true/false is not a number"),
    ("number for bool column",
     base(target="shelters", where=[cond("indoor", "=", 1)]), "where[0].value",
     "holds true/false values; write true or false"),
    ("bad date", base(target="shelters", where=[cond("opened", ">", "June")]),
     "where[0].value", "holds dates"),
    ("bool for text column", base(where=[cond("level", "=", False)]), "where[0].value",
     "holds text"),
    ("value missing", base(where=[{"column": "level", "op": "="}]), "where[0].value",
     "missing; '=' needs a value"),
    ("null value", base(where=[cond("level", "=", None)]), "where[0].value",
     "null matches nothing; use the op 'is_null'"),
    ("list for =", base(where=[cond("level", "=", ["a"])]), "where[0].value",
     "needs a single value"),
    ("object value", base(where=[cond("level", "=", {"a": 1})]), "where[0].value",
     "needs a single value here, not an object"),
    ("NaN value", base(where=[cond("pupils", ">", float("nan"))]), "where[0].value",
     "finite number"),
    ("order on bool", base(target="shelters", where=[cond("indoor", "<", True)]),
     "where[0].value", "true/false values have no order"),
    ("in not list", base(where=[cond("level", "in", "primary")]), "where[0].value",
     "'in' needs a non-empty list of values; write \\[\"primary\"\\]"),
    ("in empty", base(where=[cond("level", "in", [])]), "where[0].value",
     "'in' needs a non-empty list"),
    ("not_in empty", base(where=[cond("level", "not_in", [])]), "where[0].value",
     "'not_in' needs a non-empty list"),
    ("in element type", base(where=[cond("level", "in", ["primary", 2])]), "where[0].value[1]",
     "holds text"),
    ("between not pair", base(where=[cond("pupils", "between", [1, 2, 3])]), "where[0].value",
     r"'between' needs \[low, high\]"),
    ("between scalar", base(where=[cond("pupils", "between", 5)]), "where[0].value",
     r"'between' needs \[low, high\]"),
    ("between reversed", base(where=[cond("pupils", "between", [20, 10])]), "where[0].value",
     r"low \(20\) is greater than high \(10\); write \[10, 20\]"),
    ("between mixed", base(where=[cond("name", "between", ["a", 2])]), "where[0].value[1]",
     "holds text"),
    ("between bool", {"version": 1, "target": "x", "where": [cond("c", "between", [True, 2])]},
     "where[0].value", "both be numbers or both be text"),
    ("between bools", {"version": 1, "target": "x",
                       "where": [cond("c", "between", [False, True])]},
     "where[0].value", "not true/false"),
    ("contains number column", base(where=[cond("pupils", "contains", "4")]), "where[0].value",
     "'contains' searches text, but column 'pupils' of layer 'schools' holds whole numbers"),
    ("contains non-text value", base(where=[cond("name", "contains", 4)]), "where[0].value",
     "'contains' needs the text to look for"),
    ("contains empty text", base(where=[cond("name", "contains", "")]), "where[0].value",
     "'contains' needs the text"),
    ("is_null with value", base(where=[cond("name", "is_null", "x")]), "where[0].value",
     "'is_null' takes no value"),
    ("not_null with value", base(where=[cond("name", "not_null", 0)]), "where[0].value",
     "'not_null' takes no value"),
    ("any empty", base(where=[{"any": []}]), "where[0].any", "must be a non-empty list"),
    ("any not list", base(where=[{"any": cond()}]), "where[0].any", "must be a non-empty list"),
    ("any with other keys", base(where=[{"any": [cond()], "column": "level"}]),
     "where[0].column", "has no other keys"),
    ("nested any op", base(where=[{"any": [cond(), cond("level", "like", "x")]}]),
     "where[0].any[1].op", "did you mean 'contains'\\?"),
    ("deep nested value",
     base(where=[cond(), {"any": [cond(), {"any": [cond("pupils", ">", "x")]}]}]),
     "where[1].any[1].any[0].value", "holds numbers"),
    ("relation not object", base(relation="intersects"), "relation", "must be an object"),
    ("relation unknown key", base(relation=rel(distnce_m=5)), "relation.distnce_m",
     "unknown key 'distnce_m'; did you mean 'distance_m'\\?"),
    ("relation kind missing", base(relation={"layer": "legal_entities"}), "relation.kind",
     "missing; use one of: intersects"),
    ("relation kind unknown", base(relation=rel(kind="touches")), "relation.kind",
     "unknown relation kind 'touches'; use one of: intersects, within, contains, "
     "within_distance, beyond_distance, nearest"),
    ("relation kind typo", base(relation=rel(kind="within_distanse")), "relation.kind",
     "did you mean 'within_distance'\\?"),
    ("relation kind alias", base(relation=rel(kind="dwithin")), "relation.kind",
     "did you mean 'within_distance'\\?"),
    ("relation layer missing", base(relation={"kind": "intersects"}), "relation.layer",
     "missing"),
    ("relation layer unknown", base(relation=rel(layer="legal_entity")), "relation.layer",
     "unknown layer 'legal_entity'; did you mean 'legal_entities'\\?"),
    ("relation layer without geometry", base(relation=rel(layer="population")),
     "relation.layer", "layer 'population' has no geometry"),
    ("relation from table", base(target="population", relation=rel()), "relation",
     "layer 'population' has no geometry"),
    ("distance missing", base(relation={"kind": "within_distance", "layer": "legal_entities"}),
     "relation.distance_m", "missing; 'within_distance' needs a distance in metres"),
    ("distance null", base(relation=rel(kind="beyond_distance", distance_m=None)),
     "relation.distance_m", "missing; 'beyond_distance' needs"),
    ("distance string", base(relation=rel(distance_m="500")), "relation.distance_m",
     "lengths are numbers in metres, never strings: write 500 without quotes"),
    ("distance string unit", base(relation=rel(distance_m="500 m")), "relation.distance_m",
     "lengths are numbers in metres, never strings"),
    ("distance bool", base(relation=rel(distance_m=True)), "relation.distance_m",
     "must be a number of metres, not true/false"),
    ("distance list", base(relation=rel(distance_m=[500])), "relation.distance_m",
     "must be a number of metres, not a list"),
    ("distance negative", base(relation=rel(distance_m=-1)), "relation.distance_m",
     r"must not be negative \(got -1\)"),
    ("distance NaN", base(relation=rel(distance_m=float("nan"))), "relation.distance_m",
     "not NaN"),
    ("distance infinite", base(relation=rel(distance_m=float("inf"))), "relation.distance_m",
     "not infinity"),
    ("distance for intersects", base(relation=rel(kind="intersects")), "relation.distance_m",
     "'intersects' uses no distance"),
    ("distance for nearest", base(relation=rel(kind="nearest", k=1)), "relation.distance_m",
     "'nearest' uses no distance \\(use max_distance_m"),
    ("k missing", base(relation={"kind": "nearest", "layer": "shelters"}), "relation.k",
     "missing; say how many"),
    ("k zero", base(relation={"kind": "nearest", "layer": "shelters", "k": 0}), "relation.k",
     r"must be a whole number, 1 or more \(got 0\)"),
    ("k float", base(relation={"kind": "nearest", "layer": "shelters", "k": 1.5}),
     "relation.k", "must be a whole number"),
    ("k bool", base(relation={"kind": "nearest", "layer": "shelters", "k": True}),
     "relation.k", "must be a whole number"),
    ("k text", base(relation={"kind": "nearest", "layer": "shelters", "k": "2"}),
     "relation.k", "write 2 without quotes"),
    ("k for within", base(relation={"kind": "within", "layer": "communities", "k": 1}),
     "relation.k", "only 'nearest' uses k, not 'within'"),
    ("max distance negative",
     base(relation={"kind": "nearest", "layer": "shelters", "k": 1, "max_distance_m": -5}),
     "relation.max_distance_m", "must not be negative"),
    ("max distance string",
     base(relation={"kind": "nearest", "layer": "shelters", "k": 1, "max_distance_m": "3000"}),
     "relation.max_distance_m", "never strings"),
    ("max distance for within_distance", base(relation=rel(max_distance_m=5)),
     "relation.max_distance_m", "only 'nearest' uses max_distance_m"),
    ("relation where wrong type", base(relation=rel(where=[cond("employees", "=", "x")])),
     "relation.where[0].value", "column 'employees' of layer 'legal_entities' holds numbers"),
    ("group_by not object", base(group_by="communities"), "group_by", "must be an object"),
    ("group_by unknown key", base(group_by={"layer": "communities", "kye": "community_id"}),
     "group_by.kye", "did you mean 'key'\\?"),
    ("group_by layer missing", base(group_by={"key": "community_id"}), "group_by.layer",
     "missing"),
    ("group_by layer unknown", base(group_by={"layer": "comunities", "key": "community_id"}),
     "group_by.layer", "unknown layer 'comunities'; did you mean 'communities'\\?"),
    ("group_by points", base(group_by={"layer": "schools", "key": "school_id"}),
     "group_by.layer", "layer 'schools' holds points; grouping needs a layer of zones"),
    ("group_by lines", base(group_by={"layer": "roads", "key": "road_id"}),
     "group_by.layer", "holds lines"),
    ("group_by table", base(group_by={"layer": "population", "key": "building_id"}),
     "group_by.layer", "holds no geometry"),
    ("group_by key missing", base(group_by={"layer": "communities"}), "group_by.key",
     "missing; name the zone's id column, e.g. \"key\": \"community_id\""),
    ("group_by key unknown", base(group_by={"layer": "communities", "key": "communty_id"}),
     "group_by.key", "layer 'communities' has no column 'communty_id'; did you mean "
                     "'community_id'\\?"),
    ("group_by of table", base(target="population",
                               group_by={"layer": "communities", "key": "community_id"}),
     "group_by", "layer 'population' has no geometry"),
    ("aggregate not list", base(aggregate={"fn": "count", "as": "n"}), "aggregate",
     "must be a list"),
    ("aggregate not object", base(aggregate=["count"]), "aggregate[0]", "must be an object"),
    ("aggregate unknown key", base(aggregate=[{"fn": "count", "name": "n"}]),
     "aggregate[0].name", "unknown key 'name'"),
    ("aggregate fn missing", base(aggregate=[{"as": "n"}]), "aggregate[0].fn", "missing"),
    ("aggregate fn unknown", base(aggregate=[{"fn": "product", "column": "pupils", "as": "m"}]),
     "aggregate[0].fn", "unknown function 'product'; use one of: count, sum, mean, min, max"),
    ("aggregate fn typo", base(aggregate=[{"fn": "median", "column": "pupils", "as": "m"}]),
     "aggregate[0].fn", "unknown function 'median'; did you mean 'mean'\\? Use one of"),
    ("aggregate fn alias", base(aggregate=[{"fn": "avg", "column": "pupils", "as": "m"}]),
     "aggregate[0].fn", "did you mean 'mean'\\?"),
    ("sum without column", base(aggregate=[{"fn": "count", "as": "n"}, {"fn": "sum", "as": "s"}]),
     "aggregate[1].column", "missing; 'sum' needs a numeric column"),
    ("mean of text", base(aggregate=[{"fn": "mean", "column": "level", "as": "m"}]),
     "aggregate[0].column", "'mean' needs a numeric column, but column 'level' of layer "
                            "'schools' holds text"),
    ("max of bool", base(target="shelters", aggregate=[{"fn": "max", "column": "indoor",
                                                        "as": "m"}]),
     "aggregate[0].column", "'max' needs a numeric column"),
    ("min unknown column", base(aggregate=[{"fn": "min", "column": "pupil", "as": "m"}]),
     "aggregate[0].column", "layer 'schools' has no column 'pupil'; did you mean 'pupils'\\?"),
    ("aggregate column not text", base(aggregate=[{"fn": "sum", "column": 3, "as": "m"}]),
     "aggregate[0].column", "must be a column name"),
    ("count with column", base(aggregate=[{"fn": "count", "column": "pupils", "as": "n"}]),
     "aggregate[0].column", "'count' counts features and takes no column"),
    ("as missing", base(aggregate=[{"fn": "count"}]), "aggregate[0].as",
     "missing; name the result column"),
    ("as empty", base(aggregate=[{"fn": "count", "as": " "}]), "aggregate[0].as",
     "must be a non-empty name"),
    ("as duplicate", base(aggregate=[{"fn": "count", "as": "n"},
                                     {"fn": "sum", "column": "pupils", "as": "n"}]),
     "aggregate[1].as", r"duplicate name 'n' \(already used by aggregate\[0\]\)"),
    ("as zone key", base(group_by={"layer": "communities", "key": "community_id"},
                         aggregate=[{"fn": "count", "as": "community_id"}]),
     "aggregate[0].as", "is the zone key column"),
    ("as geometry", base(aggregate=[{"fn": "count", "as": "geometry"}]), "aggregate[0].as",
     "'geometry' is the geometry column"),
    ("saved unknown", base(target="query:hazard_school"), "target",
     "no saved query named 'hazard_school'; did you mean 'hazard_schools'\\?"),
    ("saved empty name", base(target="query:"), "target", "must be followed by the name"),
    ("saved unknown as reference", base(relation=rel(layer="query:nope")), "relation.layer",
     "no saved query named 'nope'"),
    ("saved self", base(target="query:self"), "target",
     "saved query 'self' refers to itself: query:self → query:self"),
    ("saved cycle", base(target="query:loop_a"), "target",
     "saved queries refer to each other in a cycle: query:loop_a → query:loop_b → query:loop_a"),
    ("saved cycle via reference", base(relation=rel(layer="query:loop_b")), "relation.layer",
     "query:loop_b → query:loop_a → query:loop_b"),
    ("saved broken", base(target="query:broken"), "target",
     "saved query 'broken' is not valid: where\\[0\\].column: layer 'schools' has no column "
     "'levle'"),
]


@pytest.mark.parametrize("doc, key, pattern", [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_errors_name_the_key(doc, key, pattern):
    # target "x": structural checks only (no catalog)
    catalog = None if doc.get("target") == "x" else CATALOG
    with pytest.raises(QueryError, match=pattern) as e:
        parse(doc, catalog=catalog)
    assert e.value.key == key
    assert str(e.value).startswith(f"{key}: ")


def test_error_ids_are_unique():
    assert len({e[0] for e in ERRORS}) == len(ERRORS)


def test_no_saved_queries_at_all():
    with pytest.raises(QueryError, match="no saved query named 'x'; there are no saved queries") \
            as e:
        parse_query(base(target="query:x"), catalog=CATALOG)
    assert e.value.key == "target"


def test_workspace_without_layers():
    with pytest.raises(QueryError, match="the workspace has no layers") as e:
        parse_query(base(), catalog={})
    assert e.value.key == "target"


def test_not_json_names_the_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"version": 1,', encoding="utf-8")
    with pytest.raises(QueryError, match=r"bad\.json: not valid JSON: .* line 1, column 15") as e:
        parse(path)
    assert e.value.key == "" and e.value.source == str(path)
    with pytest.raises(QueryError, match=r"^q\.json: not valid JSON") as e:
        parse("{oops", source="q.json")
    assert e.value.key == ""


def test_not_an_object_names_the_file(tmp_path):
    path = tmp_path / "list.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(QueryError, match=r"list\.json: a query must be a JSON object \{\.\.\.\}, "
                                         "not a list") as e:
        parse(path)
    assert e.value.key == ""
    with pytest.raises(QueryError, match="not text") as e:
        parse('"schools"', source="s.json")
    assert e.value.key == "" and e.value.source == "s.json"


def test_missing_file(tmp_path):
    with pytest.raises(QueryError, match="nope.json: file not found") as e:
        parse(tmp_path / "nope.json")
    assert e.value.key == ""


def test_source_is_prefixed_to_key_errors():
    with pytest.raises(QueryError, match=r"^x\.json: relation\.distance_m: lengths") as e:
        parse(base(relation=rel(distance_m="1")), source="x.json")
    assert (e.value.key, e.value.source) == ("relation.distance_m", "x.json")


def test_query_error_is_a_value_error():
    from spatial.errors import CityFrameError

    assert issubclass(QueryError, ValueError) and issubclass(QueryError, CityFrameError)


def test_parse_does_not_change_the_document():
    doc = json.loads(DESIGN_EXAMPLE)
    before = copy.deepcopy(doc)
    parse(doc)
    assert doc == before


# --------------------------------------------------------------------------- hypothesis

_TEXT = st.text(alphabet="abcxyz_ 江河", min_size=1, max_size=6)
_INT = st.integers(-10_000, 10_000)
_FLOAT = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
_NUMBER = st.one_of(_INT, _FLOAT)
_LENGTH = st.one_of(st.integers(0, 50_000), st.floats(0, 5e4, allow_nan=False))
_SCALAR = {"int": _NUMBER, "float": _NUMBER, "str": _TEXT, "bool": st.booleans(),
           "datetime": st.dates().map(lambda d: d.isoformat()), "other": _TEXT}


@st.composite
def _condition(draw, layer):
    columns = CATALOG[layer].columns
    column = draw(st.sampled_from(sorted(columns)))
    kind = columns[column]
    ops = ["=", "!=", "in", "not_in", "is_null", "not_null"]
    if kind != "bool":
        ops += ["<", "<=", ">", ">=", "between"]
    if kind == "str":
        ops.append("contains")
    op = draw(st.sampled_from(ops))
    if op in ("is_null", "not_null"):
        return {"column": column, "op": op}
    values = _SCALAR[kind]
    if op in ("in", "not_in"):
        value = draw(st.lists(values, min_size=1, max_size=3))
    elif op == "between":
        value = sorted(draw(st.lists(values, min_size=2, max_size=2)))
    elif op == "contains":
        value = draw(_TEXT)
    else:
        value = draw(values)
    return {"column": column, "op": op, "value": value}


def _where(layer):
    item = st.one_of(
        _condition(layer),
        st.lists(_condition(layer), min_size=1, max_size=3).map(lambda cs: {"any": cs}),
    )
    return st.lists(item, max_size=3)


_POINTS = ("schools", "legal_entities", "shelters", "hospitals", "police_stations")
_LAYERS = _POINTS + ("buildings", "communities", "flood_zones", "roads")


@st.composite
def _query(draw):
    target = draw(st.sampled_from(_LAYERS))
    doc = {"version": 1, "target": target}
    title = draw(st.fixed_dictionaries({}, optional={"en": _TEXT, "zh": _TEXT}))
    if title:
        doc["title"] = title
    where = draw(_where(target))
    if where:
        doc["where"] = where
    relation = None
    if draw(st.booleans()):
        ref = draw(st.sampled_from(_LAYERS))
        kind = draw(st.sampled_from(RELATION_KINDS))
        relation = {"kind": kind}
        if kind in ("within_distance", "beyond_distance"):
            relation["distance_m"] = draw(_LENGTH)
        if kind == "nearest":
            relation["k"] = draw(st.integers(1, 10))
            if draw(st.booleans()):
                relation["max_distance_m"] = draw(_LENGTH)
        relation["layer"] = ref
        ref_where = draw(_where(ref))
        if ref_where:
            relation["where"] = ref_where
        doc["relation"] = relation
    numeric = sorted(c for c, k in CATALOG[target].columns.items() if k in ("int", "float"))
    if relation and relation["kind"] == "nearest":
        numeric.append("distance_m")
    grouped = draw(st.booleans())
    if grouped:
        zone = draw(st.sampled_from(["communities", "flood_zones", "buildings"]))
        doc["group_by"] = {"layer": zone, "key": draw(st.sampled_from(
            sorted(CATALOG[zone].columns)))}
    fns = draw(st.lists(st.sampled_from(AGGREGATE_FNS if numeric else ("count",)),
                        min_size=1 if grouped else 0, max_size=3))
    if fns:
        aggs = []
        for i, fn in enumerate(fns):
            a = {"fn": fn}
            if fn != "count":
                a["column"] = draw(st.sampled_from(numeric))
            a["as"] = f"agg_{i}"
            aggs.append(a)
        doc["aggregate"] = aggs
    return doc


@settings(max_examples=150, deadline=None)
@given(_query())
def test_generated_queries_round_trip(doc):
    q = parse(doc)
    d = query_to_dict(q)
    assert d == doc
    assert parse(d) == q
    assert parse(json.dumps(d, ensure_ascii=False)) == q
    assert parse_query(d) == q  # structural parse agrees


@settings(max_examples=60, deadline=None)
@given(_query(), st.sampled_from(["en", "zh"]))
def test_generated_queries_have_a_sentence(doc, lang):
    from spatial.query.sentence import sentence

    text = sentence(parse(doc), lang)
    assert text and text == sentence(parse(doc), lang)
    assert "\n" not in text and not text.endswith(".")


def test_finite_lengths_are_accepted_at_the_limits():
    q = parse(base(relation=rel(distance_m=0)))
    assert q.relation.distance_m == 0
    q = parse(base(relation=rel(distance_m=1e7)))
    assert math.isclose(q.relation.distance_m, 1e7)


def test_layerinfo_positional_fields():
    info = LayerInfo({"a_id": "str"}, "Point", "a_id", {"en": "As"})
    assert (info.columns, info.geometry, info.key, info.title) == (
        {"a_id": "str"}, "Point", "a_id", {"en": "As"})
