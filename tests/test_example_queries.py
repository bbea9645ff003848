"""The example query files in ``sample_data/queries/<sample>/`` and their checked answers.

1. The independent reference evaluator (``tests/reference_queries.py``, plain
   pandas/shapely, no ``spatial.query`` code) reproduces the answers stored in
   ``sample_data/queries/expected/<sample>.json`` — so the stored answers are not
   just whatever the engine says.
2. ``QueryEngine(ws.frames(), saved=<the folder's queries>).run(doc)`` gives exactly
   the stored answer for every example file on every sample.
3. Every example parses with ``parse_query`` (against the sample's catalogue).

Plus hand-computed edge cases (inclusive distances, nulls, first-zone-wins on a
shared boundary, zones with 0, nearest ties, buildings without a population row)
checked against the reference and, when present, the engine.

Regenerate the expected files after changing an example:
``.venv/bin/python -m tests.reference_queries small district shanghai``.
"""

from __future__ import annotations

import json
import math

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from tests import reference_queries as R

SAMPLES = ("small", "district", "shanghai")
MINIMUM = {"small": 10, "district": 10, "shanghai": 5}
QUERIES = R.QUERIES_DIR
EXPECTED = QUERIES / "expected"


def _docs(sid: str) -> dict[str, dict]:
    return R.load_folder(QUERIES / sid)


def _expected(sid: str) -> dict[str, dict]:
    return json.loads((EXPECTED / f"{sid}.json").read_text(encoding="utf-8"))["answers"]


CASES = [pytest.param(sid, name, id=f"{sid}-{name}") for sid in SAMPLES for name in _docs(sid)]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def frames():
    """``frames(sid)``: the sample's layers, each sample opened once for the module."""
    from layers.workspace import Workspace
    from sample_data.catalogue import sample_path

    cache: dict[str, tuple] = {}

    def get(sid: str):
        if sid not in cache:
            ws = Workspace.open(sample_path(sid), read_only=True)
            cache[sid] = (ws, ws.frames())
        return cache[sid][1]

    yield get
    for ws, _ in cache.values():
        ws.close()


@pytest.fixture(scope="module")
def engines(frames):
    """``engines(sid)``: one QueryEngine per sample (its caches are reused)."""
    import spatial.query.engine as engine_mod

    cache = {}

    def get(sid: str):
        if sid not in cache:
            cache[sid] = engine_mod.QueryEngine(frames(sid), saved=_docs(sid))
        return cache[sid]

    return get


def _parse_query():
    import spatial.query.model as model

    return model


# --------------------------------------------------------------------------- comparison


def _same_value(got, want) -> bool:
    if want is None or R.is_null(want):
        return got is None or R.is_null(got)
    if got is None or R.is_null(got):
        return False
    if isinstance(want, str) or isinstance(got, str):
        return str(got) == str(want)
    return math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-6)


def _values_match(got: dict, want: dict) -> bool:
    return list(got) == list(want) and all(_same_value(got[k], want[k]) for k in want)


def engine_compact(result, expected: dict) -> dict:
    """The engine's QueryResult in the compact form of ``expected`` (same kind)."""
    data = result.data
    kind = expected["kind"]
    if kind == "rows":
        ids = sorted(str(v) for v in data[expected["key"]].tolist())
        return {"kind": "rows", "key": expected["key"], "count": len(ids), "ids": ids,
                "matched": result.matched}
    if kind == "nearest":
        keys = [str(v) for v in data[expected["key"]].tolist()]
        order = sorted(range(len(data)), key=lambda i: (keys[i], i))  # stable: keeps nearest-first
        near = data["nearest_id"].tolist()
        dist = data["distance_m"].tolist()
        pairs = [[keys[i], str(near[i]), float(dist[i])] for i in order]
        return {"kind": "nearest", "key": expected["key"], "count": len(pairs), "pairs": pairs}
    if kind == "grouped":
        aggs = list(next(iter(expected["zones"].values())))
        zkey = expected["key"]
        zones = {str(row[zkey]): {a: _py(row[a]) for a in aggs}
                 for row in data.to_dict("records")}
        return {"kind": "grouped", "key": zkey, "matched": result.matched, "zones": zones}
    aggs = list(expected["totals"])
    row = data.to_dict("records")[0] if len(data) else {}
    return {"kind": "totals", "matched": result.matched,
            "totals": {a: _py(row.get(a)) for a in aggs}}


def _py(v):
    return None if R.is_null(v) else (v.item() if hasattr(v, "item") else v)


def assert_matches(got: dict, want: dict, where: str) -> None:
    kind = want["kind"]
    assert got["kind"] == kind, where
    if kind == "rows":
        missing = sorted(set(want["ids"]) - set(got["ids"]))[:10]
        extra = sorted(set(got["ids"]) - set(want["ids"]))[:10]
        assert got["ids"] == want["ids"], f"{where}: missing {missing} extra {extra}"
        if got.get("matched") is not None:
            assert got["matched"] == want["count"], f"{where}: .matched"
    elif kind == "nearest":
        g = [(p[0], p[1]) for p in got["pairs"]]
        w = [(p[0], p[1]) for p in want["pairs"]]
        assert g == w, f"{where}: (target, nearest_id) pairs or their order differ"
        for gp, wp in zip(got["pairs"], want["pairs"], strict=True):
            assert abs(gp[2] - wp[2]) <= 0.005 + 1e-9, f"{where}: distance {gp} vs {wp}"
    elif kind == "grouped":
        assert list(got["zones"]) == list(want["zones"]), f"{where}: zones or their order"
        bad = {z: (got["zones"][z], v) for z, v in want["zones"].items()
               if not _values_match(got["zones"][z], v)}
        assert not bad, f"{where}: zone values differ (got, want): {dict(list(bad.items())[:5])}"
        if got.get("matched") is not None:
            assert got["matched"] == want["matched"], f"{where}: .matched"
    else:
        assert _values_match(got["totals"], want["totals"]), f"{where}: {got} vs {want}"
        if got.get("matched") is not None:
            assert got["matched"] == want["matched"], f"{where}: .matched"


# --------------------------------------------------------------------------- the files


def test_enough_examples_with_bilingual_titles_and_expected_answers():
    readme = (QUERIES / "README.md").read_text(encoding="utf-8")
    kinds, ops, chained = set(), set(), False
    for sid in SAMPLES:
        docs = _docs(sid)
        assert len(docs) >= MINIMUM[sid], sid
        assert set(_expected(sid)) == set(docs), f"{sid}: expected answers vs query files"
        for name, doc in docs.items():
            assert doc["version"] == 1
            assert doc["title"]["en"].strip() and doc["title"]["zh"].strip(), name
            rows = [line for line in readme.splitlines() if f"`{name}.json`" in line]
            assert rows and sid in rows[0], f"README.md does not list {name}.json for {sid}"
            for ref in (doc["target"], doc.get("relation", {}).get("layer", "")):
                if ref.startswith(R.PREFIX):
                    chained = True
                    assert ref[len(R.PREFIX):] in docs, f"{name}: saved query {ref} not in folder"
            kinds.add(doc.get("relation", {}).get("kind"))
            stack = list(doc.get("where", [])) + list(doc.get("relation", {}).get("where", []))
            while stack:
                c = stack.pop()
                if "any" in c:
                    ops.add("any")
                    stack.extend(c["any"])
                else:
                    ops.add(c["op"])
    assert chained
    assert {"intersects", "within", "contains", "within_distance", "beyond_distance",
            "nearest"} <= kinds
    assert {"any", "between", "in", "contains", "is_null", "!=", "not_in"} <= ops


@pytest.mark.parametrize("sid,name", CASES)
def test_reference_reproduces_expected(frames, sid, name):
    docs = _docs(sid)
    want = _expected(sid)[name]
    got = R.answer(docs[name], frames(sid), saved=docs)
    assert got == want, f"{sid}/{name}: the reference evaluator disagrees with the stored answer"
    # non-trivial: matches something, but not everything the target holds
    target = docs[name]["target"]
    if target.startswith(R.PREFIX):
        size = _expected(sid)[target[len(R.PREFIX):]]["count"]
    else:
        size = len(frames(sid)[target])
    if want["kind"] == "nearest":
        k = docs[name]["relation"]["k"]
        assert 0 < want["count"] < k * size
    elif want["kind"] == "grouped":
        assert 0 < want["in_zones"] and want["matched"] < size
    else:
        n = want.get("count", want.get("matched"))
        assert 0 < n < size, f"{sid}/{name}: {n} of {size}"


@pytest.mark.parametrize("sid,name", CASES)
def test_engine_gives_the_stored_answer(engines, sid, name):
    engine = engines(sid)
    doc = _docs(sid)[name]
    want = _expected(sid)[name]
    result = engine.run(doc)
    assert_matches(engine_compact(result, want), want, f"{sid}/{name}")


@pytest.mark.parametrize("sid,name", CASES)
def test_example_parses(frames, sid, name):
    model = _parse_query()
    docs = _docs(sid)
    catalog = model.catalog_from_frames(frames(sid)) if hasattr(model, "catalog_from_frames") \
        else None
    path = QUERIES / sid / f"{name}.json"
    q = model.parse_query(path, catalog=catalog, saved=docs)
    assert q.target == docs[name]["target"]
    assert q.title == docs[name]["title"]
    if hasattr(model, "query_to_dict"):
        assert model.parse_query(model.query_to_dict(q), catalog=catalog, saved=docs) == q


# --------------------------------------------------------------------------- edge cases

CRS = "EPSG:4547"
X0, Y0 = 500000.0, 3400000.0


def _pts(ids, xy, key, **cols):
    return gpd.GeoDataFrame({key: ids, **cols},
                            geometry=[Point(X0 + x, Y0 + y) for x, y in xy], crs=CRS)


def _edge_frames():
    """A tiny city whose answers are worked out by hand (see each case)."""
    zones = gpd.GeoDataFrame(
        {"community_id": ["C1", "C2", "C3"], "name": ["a", "b", "c"], "district": ["d", "d", "d"]},
        geometry=[box(X0, Y0, X0 + 100, Y0 + 100),        # C1
                  box(X0 + 100, Y0, X0 + 200, Y0 + 100),  # C2 shares the edge x = 100
                  box(X0 + 500, Y0, X0 + 600, Y0 + 100)],  # C3: nothing inside
        crs=CRS)
    buildings = gpd.GeoDataFrame(
        {"building_id": ["B1", "B2", "B3"], "use": ["residential", "residential", None],
         "floors": [3, None, 7], "height_m": [9.0, None, 21.0], "year_built": [1990, 2000, 2010],
         "address": ["x", "y", "z"], "community_id": ["C1", "C2", "C2"]},
        geometry=[box(X0 + 10, Y0 + 10, X0 + 20, Y0 + 20),    # inside C1
                  box(X0 + 90, Y0 + 40, X0 + 110, Y0 + 60),   # straddles C1|C2; its
                  # point-on-surface is on the shared edge x = 100 -> first zone C1
                  box(X0 + 150, Y0 + 10, X0 + 160, Y0 + 20)],  # inside C2
        crs=CRS)
    population = pd.DataFrame({"building_id": ["B1", "B3"], "residents": [10, 4],
                               "age_0_14": [1, 0], "age_15_64": [6, 4], "age_65_plus": [3, 0]})
    sites = _pts(["S1"], [(0, 0)], "site_id", level=[1])
    schools = _pts(["K1", "K2", "K3"], [(100, 0), (100.5, 0), (0, 300)], "school_id",
                   level=["primary", None, "middle"])
    # R2 is listed first but ties with R1 at 50 m from the school K3; R3 is 60 m away
    stations = _pts(["R2", "R1", "R3"], [(0, 350), (0, 250), (60, 300)], "station_id")
    return {"communities": zones, "buildings": buildings, "population": population,
            "hazardous_sites": sites, "schools": schools, "police_stations": stations}


EDGE_CASES = {
    # distances are inclusive: K1 is exactly 100 m from S1, K2 100.5 m
    "within_distance_inclusive": (
        {"target": "schools", "relation": {"kind": "within_distance", "distance_m": 100,
                                           "layer": "hazardous_sites"}},
        {"kind": "rows", "key": "school_id", "count": 1, "ids": ["K1"]}),
    "beyond_distance_strict": (
        {"target": "schools", "relation": {"kind": "beyond_distance", "distance_m": 100,
                                           "layer": "hazardous_sites"}},
        {"kind": "rows", "key": "school_id", "count": 2, "ids": ["K2", "K3"]}),
    # an empty (filtered) reference: every target is farther than d from every reference
    "beyond_distance_of_nothing": (
        {"target": "schools", "relation": {"kind": "beyond_distance", "distance_m": 100,
                                           "layer": "hazardous_sites",
                                           "where": [{"column": "level", "op": ">", "value": 5}]}},
        {"kind": "rows", "key": "school_id", "count": 3, "ids": ["K1", "K2", "K3"]}),
    # a null satisfies no comparison, not even != or not_in
    "null_not_equal": (
        {"target": "schools", "where": [{"column": "level", "op": "!=", "value": "primary"}]},
        {"kind": "rows", "key": "school_id", "count": 1, "ids": ["K3"]}),
    "null_not_in": (
        {"target": "schools", "where": [{"column": "level", "op": "not_in", "value": ["x"]}]},
        {"kind": "rows", "key": "school_id", "count": 2, "ids": ["K1", "K3"]}),
    "null_is_null_or": (
        {"target": "schools", "where": [{"any": [{"column": "level", "op": "is_null"},
                                                 {"column": "level", "op": "=",
                                                  "value": "middle"}]}]},
        {"kind": "rows", "key": "school_id", "count": 2, "ids": ["K2", "K3"]}),
    # a building without a population row has 0 residents
    "no_population_row_is_zero": (
        {"target": "buildings", "where": [{"column": "residents", "op": "=", "value": 0}]},
        {"kind": "rows", "key": "building_id", "count": 1, "ids": ["B2"]}),
    # B2's point-on-surface lies on the C1|C2 edge -> C1 (first zone); C3 listed with 0
    "first_zone_wins_and_empty_zones": (
        {"target": "buildings", "group_by": {"layer": "communities", "key": "community_id"},
         "aggregate": [{"fn": "count", "as": "n"},
                       {"fn": "sum", "column": "residents", "as": "res"},
                       {"fn": "max", "column": "floors", "as": "top"}]},
        {"kind": "grouped", "key": "community_id", "matched": 3, "in_zones": 3,
         "zones": {"C1": {"n": 2, "res": 10, "top": 3}, "C2": {"n": 1, "res": 4, "top": 7},
                   "C3": {"n": 0, "res": 0, "top": None}}}),
    # ties broken by the smaller reference key; max distance inclusive; K1/K2 have none in 50 m
    "nearest_ties_by_key": (
        {"target": "schools", "relation": {"kind": "nearest", "k": 2, "max_distance_m": 50,
                                           "layer": "police_stations"}},
        {"kind": "nearest", "key": "school_id", "count": 2,
         "pairs": [["K3", "R1", 50.0], ["K3", "R2", 50.0]]}),
    # on the same layer a feature is not its own neighbour (R1-R2 100 m, R1-R3 ~78.1 m)
    "nearest_same_layer": (
        {"target": "police_stations", "relation": {"kind": "nearest", "k": 1,
                                                   "layer": "police_stations"}},
        {"kind": "nearest", "key": "station_id", "count": 3,
         "pairs": [["R1", "R3", 78.1], ["R2", "R3", 78.1], ["R3", "R1", 78.1]]}),
}


def _edge_doc(doc):
    return {"version": 1, "title": {"en": "edge", "zh": "边界"}, **doc}


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_reference_edge_cases(case):
    doc, want = EDGE_CASES[case]
    assert R.answer(_edge_doc(doc), _edge_frames()) == want


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_engine_edge_cases(case):
    import spatial.query.engine as engine_mod

    doc, want = EDGE_CASES[case]
    result = engine_mod.QueryEngine(_edge_frames()).run(_edge_doc(doc))
    assert_matches(engine_compact(result, want), want, case)


def test_edge_frames_are_as_described():
    """The hand-made layout really has the properties the cases rely on."""
    import shapely

    f = _edge_frames()
    pos = shapely.point_on_surface(f["buildings"].geometry.values[1])
    assert pos.x == X0 + 100  # on the shared edge
    k3 = f["schools"].geometry.values[2]
    d = [k3.distance(g) for g in f["police_stations"].geometry]
    assert d[0] == d[1] == 50.0 and d[2] == 60.0
    assert f["schools"].geometry.values[0].distance(f["hazardous_sites"].geometry.values[0]) == 100
