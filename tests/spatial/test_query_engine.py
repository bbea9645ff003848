"""QueryEngine: every relation against a brute-force reference, CRSs, caches, edge cases.

The brute-force reference is plain shapely in pairwise Python loops over small random
layers (loops are fine here); the engine must give exactly the same answer.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from spatial.errors import Canceled
from spatial.feedback import Feedback
from spatial.query.engine import QueryEngine, QueryResult
from spatial.query.model import (
    Aggregate,
    AnyOf,
    Condition,
    GroupBy,
    Query,
    QueryError,
    Relation,
)

X0, Y0 = 500_000.0, 3_400_000.0  # EPSG:4547 (CGCS2000 / 3-degree GK CM 114E), metres
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CACHE_STATS = ("tree_builds", "geometry_builds", "pos_builds", "zone_index_builds",
               "population_joins", "distance_field_builds", "pair_index_builds", "saved_runs",
               "kd_builds")


# --------------------------------------------------------------------------- helpers


def layer(geoms, crs=4547, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=list(geoms), crs=crs)


def P(x, y):
    return Point(X0 + x, Y0 + y)


def B(x0, y0, x1, y1):
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def repaired(geoms):
    out = []
    for g in geoms:
        if g is None or g.is_empty:
            out.append(None)
        else:
            out.append(g if g.is_valid else shapely.make_valid(g))
    return out


def bf_relation(kind, targets, refs, tmask, rmask, distance=None, same=False) -> list[int]:
    """Target rows in relation ``kind`` with the reference, by pairwise loops."""
    T, R = repaired(targets), repaired(refs)
    out = []
    for i, t in enumerate(T):
        if t is None or not tmask[i]:
            continue
        related = False
        for j, r in enumerate(R):
            if r is None or not rmask[j] or (same and i == j):
                continue
            if kind == "intersects":
                ok = t.intersects(r)
            elif kind == "within":
                ok = t.within(r)
            elif kind == "contains":
                ok = t.contains(r)
            else:
                ok = t.distance(r) <= distance
            related = related or ok
        if related != (kind == "beyond_distance"):
            out.append(i)
    return out


def bf_nearest(targets, refs, keys, k, max_d, tmask, rmask, same=False):
    T, R = repaired(targets), repaired(refs)
    out = []
    for i, t in enumerate(T):
        if t is None or not tmask[i]:
            continue
        cands = [(t.distance(r), keys[j]) for j, r in enumerate(R)
                 if r is not None and rmask[j] and not (same and i == j)]
        if max_d is not None:
            cands = [c for c in cands if c[0] <= max_d]
        for d, key in sorted(cands)[:k]:
            out.append((i, key, d))
    return out


def bf_zone(target, zones) -> int:
    (t,) = repaired([target])
    if t is None:
        return -1
    p = t.point_on_surface()
    for zi, z in enumerate(repaired(zones)):
        if z is not None and z.intersects(p):
            return zi
    return -1


# --------------------------------------------------------------------------- strategies

coord = st.integers(0, 120)
size = st.integers(1, 40)


@st.composite
def geometries(draw):
    kind = draw(st.sampled_from(["point", "point", "line", "box", "multi", "bowtie", "none"]))
    x, y = draw(coord), draw(coord)
    if kind == "point":
        return P(x, y)
    if kind == "line":
        return LineString([(X0 + x, Y0 + y), (X0 + x + draw(size), Y0 + y + draw(size) - 20),
                           (X0 + x + draw(size), Y0 + y + draw(size))])
    w, h = draw(size), draw(size)
    if kind == "box":
        return B(x, y, x + w, y + h)
    if kind == "multi":  # a polygon with a hole and a second part
        outer = [(X0 + x, Y0 + y), (X0 + x + w + 4, Y0 + y), (X0 + x + w + 4, Y0 + y + h + 4),
                 (X0 + x, Y0 + y + h + 4)]
        hole = [(X0 + x + 1, Y0 + y + 1), (X0 + x + 1, Y0 + y + h + 3),
                (X0 + x + w + 3, Y0 + y + h + 3), (X0 + x + w + 3, Y0 + y + 1)]
        return MultiPolygon([Polygon(outer, [hole]), B(x + w + 10, y, x + w + 20, y + 10)])
    if kind == "bowtie":  # invalid: repaired with make_valid
        return Polygon([(X0 + x, Y0 + y), (X0 + x + w, Y0 + y + h), (X0 + x + w, Y0 + y),
                        (X0 + x, Y0 + y + h)])
    return None


@st.composite
def layers(draw, min_size=0, max_size=8):
    geoms = draw(st.lists(geometries(), min_size=min_size, max_size=max_size))
    n = len(geoms)
    cls = draw(st.lists(st.sampled_from(["a", "b", None]), min_size=n, max_size=n))
    keys = draw(st.permutations([f"K{i:02d}" for i in range(n)]))
    return geoms, cls, list(keys)


def _frame(spec, key="ref_id"):
    geoms, cls, keys = spec
    return layer(geoms, **{key: keys, "cls": pd.Series(cls, dtype="str")})


def _filter_mask(cls, allowed):
    return [c is not None and c in allowed for c in cls]


FILTERS = st.sampled_from([None, ("a",), ("a", "b"), ("b",)])


# --------------------------------------------------------------------------- brute force


@pytest.mark.parametrize("kind", ["intersects", "within", "contains", "within_distance",
                                  "beyond_distance"])
@SETTINGS
@given(tspec=layers(), rspec=layers(), tfilter=FILTERS, rfilter=FILTERS,
       distance=st.sampled_from([0, 3, 10, 17.5, 40]))
def test_relation_matches_brute_force(kind, tspec, rspec, tfilter, rfilter, distance):
    frames = {"t": _frame(tspec, "tgt_id"), "r": _frame(rspec)}
    twhere = () if tfilter is None else (Condition("cls", "in", list(tfilter)),)
    rwhere = () if rfilter is None else (Condition("cls", "in", list(rfilter)),)
    dist = distance if kind.endswith("distance") else None
    q = Query("t", where=twhere, relation=Relation(kind, "r", where=rwhere, distance_m=dist))
    result = QueryEngine(frames).run(q)
    tmask = [True] * len(tspec[0]) if tfilter is None else _filter_mask(tspec[1], tfilter)
    rmask = [True] * len(rspec[0]) if rfilter is None else _filter_mask(rspec[1], rfilter)
    want = bf_relation(kind, tspec[0], rspec[0], tmask, rmask, dist)
    assert result.positions.tolist() == want
    assert result.data["tgt_id"].tolist() == [tspec[2][i] for i in want]
    assert result.matched == len(want)


@pytest.mark.parametrize("kind", ["intersects", "within_distance", "beyond_distance"])
@SETTINGS
@given(spec=layers(), rfilter=FILTERS, distance=st.sampled_from([0, 5, 25]))
def test_same_layer_relation_excludes_the_feature_itself(kind, spec, rfilter, distance):
    frames = {"t": _frame(spec)}
    rwhere = () if rfilter is None else (Condition("cls", "in", list(rfilter)),)
    dist = distance if kind.endswith("distance") else None
    q = Query("t", relation=Relation(kind, "t", where=rwhere, distance_m=dist))
    result = QueryEngine(frames).run(q)
    rmask = [True] * len(spec[0]) if rfilter is None else _filter_mask(spec[1], rfilter)
    want = bf_relation(kind, spec[0], spec[0], [True] * len(spec[0]), rmask, dist, same=True)
    assert result.positions.tolist() == want


@SETTINGS
@given(tspec=layers(), rspec=layers(), k=st.integers(1, 3),
       max_d=st.sampled_from([None, 0, 10, 30.0]), rfilter=FILTERS, same=st.booleans())
def test_nearest_matches_brute_force(tspec, rspec, k, max_d, rfilter, same):
    frames = {"t": _frame(tspec, "tgt_id"), "r": _frame(rspec)}
    ref = "t" if same else "r"
    refspec = tspec if same else rspec
    rwhere = () if rfilter is None else (Condition("cls", "in", list(rfilter)),)
    q = Query("t", relation=Relation("nearest", ref, where=rwhere, k=k, max_distance_m=max_d))
    result = QueryEngine(frames).run(q)
    rmask = [True] * len(refspec[0]) if rfilter is None else _filter_mask(refspec[1], rfilter)
    want = bf_nearest(tspec[0], refspec[0], refspec[2], k, max_d, [True] * len(tspec[0]),
                      rmask, same=same)
    got = list(zip(result.positions.tolist(), result.data["nearest_id"].tolist(),
                   result.data["distance_m"].tolist()))
    assert [(i, key) for i, key, _ in got] == [(i, key) for i, key, _ in want]
    assert np.allclose([d for *_, d in got], [d for *_, d in want], rtol=0, atol=1e-9)
    assert result.data["tgt_id"].tolist() == [tspec[2][i] for i, *_ in want]


@st.composite
def point_layers(draw, max_size=10):
    n = draw(st.integers(0, max_size))
    geoms = [draw(st.one_of(st.builds(P, coord, coord), st.none())) if draw(st.booleans())
             else draw(st.builds(P, st.integers(0, 10), st.integers(0, 10))) for _ in range(n)]
    cls = draw(st.lists(st.sampled_from(["a", "b", None]), min_size=n, max_size=n))
    return geoms, cls, list(draw(st.permutations([f"K{i:02d}" for i in range(n)])))


@SETTINGS
@given(tspec=layers(max_size=10), rspec=point_layers(), k=st.integers(1, 4),
       max_d=st.sampled_from([None, 0, 8, 25.0]), rfilter=FILTERS, same=st.booleans())
def test_nearest_to_points_matches_brute_force(tspec, rspec, k, max_d, rfilter, same):
    """Point references go through a k-d tree: ties, radii and widening must still agree."""
    if same:
        tspec = rspec
    frames = {"t": _frame(tspec, "tgt_id"), "r": _frame(rspec)}
    ref = "t" if same else "r"
    rwhere = () if rfilter is None else (Condition("cls", "in", list(rfilter)),)
    q = Query("t", relation=Relation("nearest", ref, where=rwhere, k=k, max_distance_m=max_d))
    result = QueryEngine(frames).run(q)
    rmask = [True] * len(rspec[0]) if rfilter is None else _filter_mask(rspec[1], rfilter)
    want = bf_nearest(tspec[0], rspec[0], rspec[2], k, max_d, [True] * len(tspec[0]), rmask,
                      same=same)
    got = list(zip(result.positions.tolist(), result.data["nearest_id"].tolist(),
                   result.data["distance_m"].tolist()))
    assert [(i, key) for i, key, _ in got] == [(i, key) for i, key, _ in want]
    assert np.allclose([d for *_, d in got], [d for *_, d in want], rtol=0, atol=1e-9)


@st.composite
def zone_layers(draw):
    n = draw(st.integers(0, 6))
    zones = []
    for _ in range(n):
        x, y, w, h = draw(coord), draw(coord), draw(st.integers(5, 80)), draw(st.integers(5, 80))
        zones.append(B(x, y, x + w, y + h))  # overlapping, sharing edges, or empty of targets
    return zones


@SETTINGS
@given(tspec=layers(max_size=10), zones=zone_layers(),
       values=st.lists(st.one_of(st.none(), st.integers(0, 50)), min_size=10, max_size=10))
def test_group_by_matches_brute_force(tspec, zones, values):
    geoms = tspec[0]
    vals = pd.array(values[:len(geoms)], dtype="Int64")
    frames = {"t": layer(geoms, tgt_id=tspec[2], v=vals),
              "z": layer(zones, zone_id=[f"Z{i}" for i in range(len(zones))])}
    aggs = (Aggregate("count", "n"), Aggregate("sum", "total", "v"), Aggregate("mean", "avg", "v"),
            Aggregate("min", "lo", "v"), Aggregate("max", "hi", "v"))
    q = Query("t", group_by=GroupBy("z", "zone_id"), aggregate=aggs)
    data = QueryEngine(frames).run(q).data
    assert data["zone_id"].tolist() == [f"Z{i}" for i in range(len(zones))]
    members: dict[int, list] = {i: [] for i in range(len(zones))}
    for i, g in enumerate(geoms):
        zi = bf_zone(g, zones)
        if zi >= 0:
            members[zi].append(values[i])
    for zi, vs in members.items():
        row = data.iloc[zi]
        present = [v for v in vs if v is not None]
        assert row["n"] == len(vs)
        assert row["total"] == sum(present)
        if present:
            assert row["avg"] == pytest.approx(sum(present) / len(present))
            assert row["lo"] == min(present) and row["hi"] == max(present)
        else:
            assert pd.isna(row["avg"]) and pd.isna(row["lo"]) and pd.isna(row["hi"])
    assert data.crs == frames["t"].crs
    assert [g.equals(z) for g, z in zip(data.geometry, zones)] == [True] * len(zones)


# --------------------------------------------------------------------------- CRSs


def test_mixed_crs_distances_are_ground_metres():
    """Target in EPSG:4326, reference in EPSG:4547: distances agree with the ellipsoid."""
    geod = pyproj.Geod(ellps="WGS84")
    lon0, lat0 = 114.3, 30.6
    ref_lonlat = [(lon0, lat0), (lon0 + 0.05, lat0 + 0.03)]
    to_gk = pyproj.Transformer.from_crs(4326, 4547, always_xy=True)
    refs = layer([Point(*to_gk.transform(*p)) for p in ref_lonlat], crs=4547,
                 site_id=["H1", "H2"])
    targets, expect = [], []
    for i, (az, dist) in enumerate([(0, 1000.0), (45, 998.0), (90, 1002.0), (200, 1500.0),
                                    (300, 600.0)]):
        base = ref_lonlat[i % 2]
        lon, lat, _ = geod.fwd(base[0], base[1], az, dist)
        targets.append(Point(lon, lat))
        expect.append(dist)
    tl = layer(targets, crs=4326, school_id=[f"S{i}" for i in range(5)])
    engine = QueryEngine({"schools": tl, "sites": refs})
    result = engine.run(Query("schools", relation=Relation("nearest", "sites", k=1)))
    assert result.data.crs == tl.crs  # results stay in the target's CRS
    assert "local TM" in result.metric_crs.name and result.metric_crs.is_projected
    for (_, row), dist in zip(result.data.iterrows(), expect):
        ref = ref_lonlat[int(row["nearest_id"][1]) - 1]
        _, _, true = geod.inv(ref[0], ref[1], row.geometry.x, row.geometry.y)
        assert true == pytest.approx(dist, abs=1e-6)
        assert row["distance_m"] == pytest.approx(true, abs=0.5)
    near = engine.run(Query("schools", relation=Relation("within_distance", "sites",
                                                         distance_m=1000.5)))
    assert near.data["school_id"].tolist() == ["S0", "S1", "S4"]
    far = engine.run(Query("schools", relation=Relation("beyond_distance", "sites",
                                                        distance_m=1001)))
    assert far.data["school_id"].tolist() == ["S2", "S3"]


def test_projected_target_measures_in_its_own_crs():
    engine = QueryEngine({"t": layer([P(0, 0)]), "r": layer([P(3, 4)], crs=4547)})
    result = engine.run(Query("t", relation=Relation("nearest", "r", k=1)))
    assert result.metric_crs.to_epsg() == 4547
    assert result.data["distance_m"].tolist() == [5.0]


def test_web_mercator_target_is_not_measured_in_mercator_metres():
    merc = pyproj.Transformer.from_crs(4326, 3857, always_xy=True)
    geod = pyproj.Geod(ellps="WGS84")
    lon, lat, _ = geod.fwd(114.3, 30.6, 90, 1000)
    t = layer([Point(*merc.transform(114.3, 30.6))], crs=3857, a_id=["A"])
    r = layer([Point(lon, lat)], crs=4326, b_id=["B"])
    result = QueryEngine({"t": t, "r": r}).run(Query("t", relation=Relation("nearest", "r", k=1)))
    assert result.data["distance_m"].iloc[0] == pytest.approx(1000, abs=0.5)  # not 1162


# --------------------------------------------------------------------------- edge cases


def test_empty_target_and_empty_reference():
    empty = layer([], tgt_id=pd.Series([], dtype="str"))
    refs = layer([P(0, 0)], ref_id=["R1"])
    zones = layer([B(-10, -10, 10, 10), B(50, 50, 60, 60)], zone_id=["Z1", "Z2"])
    targets = layer([P(1, 1), P(100, 100), None], tgt_id=["T1", "T2", "T3"])
    engine = QueryEngine({"empty": empty, "r": refs, "z": zones, "t": targets})
    for kind in ("intersects", "within_distance", "beyond_distance", "nearest"):
        rel = Relation(kind, "r", distance_m=5, k=1 if kind == "nearest" else None)
        assert len(engine.run(Query("empty", relation=rel)).data) == 0
    grouped = engine.run(Query("empty", relation=Relation("within_distance", "r", distance_m=5),
                               group_by=GroupBy("z", "zone_id"),
                               aggregate=(Aggregate("count", "n"),)))
    assert grouped.data["n"].tolist() == [0, 0] and grouped.matched == 0
    # an empty reference: nothing is within, every target with a geometry is beyond
    for kind, want in [("within_distance", []), ("beyond_distance", ["T1", "T2"]),
                       ("intersects", []), ("nearest", [])]:
        rel = Relation(kind, "empty", distance_m=5, k=1 if kind == "nearest" else None)
        assert engine.run(Query("t", relation=rel)).data["tgt_id"].tolist() == want, kind
    # a filter that keeps no reference feature behaves the same
    rel = Relation("beyond_distance", "r", where=(Condition("ref_id", "=", "nope"),), distance_m=5)
    assert engine.run(Query("t", relation=rel)).data["tgt_id"].tolist() == ["T1", "T2"]


def test_touching_edges_and_points_on_boundaries():
    square = B(0, 0, 10, 10)
    targets = layer([B(10, 0, 20, 10), P(10, 5), P(5, 5), B(2, 2, 4, 4), LineString(
        [(X0 + 10, Y0), (X0 + 10, Y0 + 10)])], tgt_id=["touch", "edge", "in", "inner", "side"])
    engine = QueryEngine({"t": targets, "r": layer([square], ref_id=["R"])})

    def run(kind):
        return engine.run(Query("t", relation=Relation(kind, "r"))).data["tgt_id"].tolist()

    assert run("intersects") == ["touch", "edge", "in", "inner", "side"]
    assert run("within") == ["in", "inner"]  # boundary points are not within
    engine2 = QueryEngine({"r": layer([square], ref_id=["R"]), "t": targets})
    got = engine2.run(Query("r", relation=Relation("contains", "t"))).data["ref_id"].tolist()
    assert got == ["R"]


@pytest.mark.parametrize("ref_geom", ["point", "polygon", "line"])
def test_limits_are_inclusive(ref_geom):
    """At exactly distance_m: within; at distance_m + 1e-6: not."""
    make = {"point": lambda x: P(x, 0), "polygon": lambda x: B(x, -5, x + 10, 5),
            "line": lambda x: LineString([(X0 + x, Y0 - 5), (X0 + x, Y0 + 5)])}[ref_geom]
    targets = layer([P(0, 0), B(-5, 100, 0, 105)], tgt_id=["pt", "box"])
    for d_extra, want in [(0.0, ["pt", "box"]), (1e-6, [])]:
        refs = layer([make(100 + d_extra), make(100 + d_extra)], ref_id=["R1", "R2"])
        refs.loc[1, "geometry"] = shapely.affinity.translate(refs.geometry.iloc[1], 0, 100)
        engine = QueryEngine({"t": targets, "r": refs})
        within = engine.run(Query("t", relation=Relation("within_distance", "r",
                                                         distance_m=100)))
        assert within.data["tgt_id"].tolist() == want, (ref_geom, d_extra)
        beyond = engine.run(Query("t", relation=Relation("beyond_distance", "r",
                                                         distance_m=100)))
        assert beyond.data["tgt_id"].tolist() == [t for t in ["pt", "box"] if t not in want]
        nearest = engine.run(Query("t", relation=Relation("nearest", "r", k=1,
                                                          max_distance_m=100)))
        assert nearest.data["tgt_id"].tolist() == want


def test_invalid_geometries_are_repaired_once_and_counted():
    bowtie = Polygon([(X0, Y0), (X0 + 10, Y0 + 10), (X0 + 10, Y0), (X0, Y0 + 10)])
    assert not bowtie.is_valid
    engine = QueryEngine({"t": layer([bowtie, B(50, 50, 60, 60)], tgt_id=["bow", "ok"]),
                          "r": layer([P(9, 5), P(5, 9)], ref_id=["right", "top"])})
    result = engine.run(Query("t", relation=Relation("intersects", "r")))
    assert result.data["tgt_id"].tolist() == ["bow"]  # the right lobe holds P(9, 5)
    assert result.repaired == {"t": 1}
    engine.run(Query("t", relation=Relation("within_distance", "r", distance_m=1)))
    assert engine.stats["repaired"] == 1  # repaired once, reused


def test_nearest_ties_go_to_the_smaller_key_and_self_is_not_a_neighbour():
    refs = layer([P(10, 0), P(-10, 0), P(0, 10), P(0, 30)], ref_id=["C", "A", "B", "D"])
    engine = QueryEngine({"t": layer([P(0, 0)], tgt_id=["T"]), "r": refs})
    one = engine.run(Query("t", relation=Relation("nearest", "r", k=1))).data
    assert one["nearest_id"].tolist() == ["A"]
    three = engine.run(Query("t", relation=Relation("nearest", "r", k=3))).data
    assert three["nearest_id"].tolist() == ["A", "B", "C"]
    assert three["distance_m"].tolist() == [10.0, 10.0, 10.0]
    # same layer: no feature is its own neighbour, but a twin at the same place is
    pts = layer([P(0, 0), P(0, 0), P(5, 0)], s_id=["S1", "S2", "S3"])
    same = QueryEngine({"s": pts}).run(Query("s", relation=Relation("nearest", "s", k=1))).data
    assert list(zip(same["s_id"], same["nearest_id"], same["distance_m"])) == [
        ("S1", "S2", 0.0), ("S2", "S1", 0.0), ("S3", "S1", 5.0)]


def test_nulls_satisfy_no_comparison_and_or_groups():
    t = layer([P(i, 0) for i in range(5)], tgt_id=["a", "b", "c", "d", "e"],
              n=[1.0, None, 3.0, None, 5.0], s=pd.Series(["x", None, "y", "x", None], dtype="str"))
    engine = QueryEngine({"t": t})

    def ids(*where):
        return engine.run(Query("t", where=tuple(where))).data["tgt_id"].tolist()

    assert ids(Condition("n", "!=", 1)) == ["c", "e"]
    assert ids(Condition("n", "<", 4)) == ["a", "c"]
    assert ids(Condition("s", "not_in", ["x"])) == ["c"]
    assert ids(Condition("s", "!=", "x")) == ["c"]
    assert ids(Condition("s", "=", None)) == []
    assert ids(Condition("n", "is_null")) == ["b", "d"]
    assert ids(Condition("s", "not_null")) == ["a", "c", "d"]
    assert ids(Condition("n", "between", [1, 3])) == ["a", "c"]
    assert ids(Condition("s", "contains", "x")) == ["a", "d"]
    assert ids(AnyOf((Condition("n", ">", 4), Condition("s", "=", "y")))) == ["c", "e"]
    assert ids(AnyOf((Condition("n", "is_null"), Condition("s", "is_null"))),
               Condition("tgt_id", "!=", "d")) == ["b", "e"]
    with pytest.raises(QueryError, match=r"where\[0\]\.value: .*text"):
        ids(Condition("s", "=", 3))
    with pytest.raises(QueryError, match=r"where\[0\]\.column: .*no column 'zz'"):
        ids(Condition("zz", "=", 3))


def test_group_by_first_zone_wins_on_overlaps_and_boundaries_and_empty_zones_are_listed():
    zones = layer([B(0, 0, 10, 10), B(10, 0, 20, 10), B(0, 0, 20, 10), B(100, 100, 110, 110)],
                  zone_id=["west", "east", "all", "empty"])
    t = layer([P(10, 5), P(15, 5), P(5, 5), P(500, 500), B(11, 1, 13, 3)],
              tgt_id=["edge", "e", "w", "out", "box"], pupils=[1, 2, 4, 8, 16])
    engine = QueryEngine({"z": zones, "t": t})
    data = engine.run(Query("t", group_by=GroupBy("z", "zone_id"),
                            aggregate=(Aggregate("count", "n"),
                                       Aggregate("sum", "p", "pupils"),
                                       Aggregate("mean", "m", "pupils")))).data
    assert data["zone_id"].tolist() == ["west", "east", "all", "empty"]
    assert data["n"].tolist() == [2, 2, 0, 0]  # the boundary point goes to the first zone
    assert data["p"].tolist() == [5, 18, 0, 0]
    assert data["m"].tolist()[:2] == [2.5, 9.0] and data["m"].isna().tolist()[2:] == [True] * 2
    default = engine.run(Query("t", group_by=GroupBy("z", "zone_id"))).data
    assert default["count"].tolist() == [2, 2, 0, 0]


def test_population_join_and_totals_without_group_by():
    b = layer([B(0, 0, 5, 5), B(10, 0, 15, 5), B(20, 0, 25, 5)],
              building_id=["B1", "B2", "B3"], use=["residential", "commercial", "residential"])
    pop = pd.DataFrame({"building_id": ["B1", "B3", "B3", "B9"], "residents": [10, 4, 3, 99],
                        "age_0_14": [2, 1, 0, 9], "age_15_64": [6, 2, 2, 80],
                        "age_65_plus": [2, 1, 1, 10]})
    engine = QueryEngine({"buildings": b, "population": pop})
    data = engine.run(Query("buildings")).data
    assert data["residents"].tolist() == [10, 0, 7]  # no row: 0; two rows: added up
    assert data["age_0_14"].tolist() == [2, 0, 1]
    assert list(data.columns) == ["building_id", "use", "residents", "age_0_14", "age_15_64",
                                  "age_65_plus", "geometry"]
    assert "residents" not in b.columns  # the input frame is not changed
    rich = engine.run(Query("buildings", where=(Condition("residents", ">=", 7),))).data
    assert rich["building_id"].tolist() == ["B1", "B3"]
    totals = engine.run(Query("buildings", where=(Condition("use", "=", "residential"),),
                              aggregate=(Aggregate("count", "n"),
                                         Aggregate("sum", "people", "residents"),
                                         Aggregate("max", "top", "age_65_plus")))).data
    assert len(totals) == 1 and totals.iloc[0].tolist() == [2, 17, 2]
    no_pop = QueryEngine({"buildings": b}).run(Query("buildings")).data
    assert "residents" not in no_pop.columns


def test_nearest_with_group_by_counts_each_target_once():
    zones = layer([B(-50, -50, 50, 50)], zone_id=["Z"])
    t = layer([P(0, 0), P(20, 0)], tgt_id=["a", "b"], v=[1, 2])
    r = layer([P(1, 0), P(2, 0), P(25, 0)], ref_id=["R1", "R2", "R3"])
    engine = QueryEngine({"z": zones, "t": t, "r": r})
    data = engine.run(Query("t", relation=Relation("nearest", "r", k=2),
                            group_by=GroupBy("z", "zone_id"),
                            aggregate=(Aggregate("count", "n"), Aggregate("sum", "s", "v"),
                                       Aggregate("max", "far", "distance_m")))).data
    assert data[["n", "s", "far"]].iloc[0].tolist() == [2, 3, 5.0]


def test_chained_saved_queries_and_their_invalidation():
    schools = layer([P(0, 0), P(100, 0), P(300, 0)], school_id=["S1", "S2", "S3"],
                    level=["primary", "middle", "primary"])
    sites = layer([P(10, 0)], site_id=["H1"])
    zones = layer([B(-50, -50, 150, 50), B(150, -50, 400, 50)], zone_id=["Z1", "Z2"])
    saved = {
        "near": {"version": 1, "target": "schools",
                 "relation": {"kind": "within_distance", "distance_m": 150, "layer": "sites"}},
        "primary_near": {"version": 1, "target": "query:near",
                         "where": [{"column": "level", "op": "=", "value": "primary"}]},
        "loop": {"version": 1, "target": "query:loop"},
    }
    engine = QueryEngine({"schools": schools, "sites": sites, "zones": zones}, saved=saved)
    assert engine.run({"version": 1, "target": "query:primary_near"}).data[
        "school_id"].tolist() == ["S1"]
    by_zone = engine.run(Query("query:near", group_by=GroupBy("zones", "zone_id")))
    assert by_zone.data["count"].tolist() == [2, 0]
    # a saved query as the reference
    ref = engine.run(Query("schools", relation=Relation("beyond_distance", "query:near",
                                                         distance_m=150)))
    assert ref.data["school_id"].tolist() == ["S3"]
    assert engine.stats["saved_runs"] == 2  # "near" ran once, reused three times
    # the reference layer changes: the saved results are dropped and run again
    engine.set_frame("sites", layer([P(300, 10)], site_id=["H2"]))
    assert engine.run(Query("query:near")).data["school_id"].tolist() == ["S3"]
    assert engine.stats["saved_runs"] == 3
    # the saved document changes: run again too
    saved["near"]["relation"]["distance_m"] = 1000
    assert engine.run(Query("query:near")).data["school_id"].tolist() == ["S1", "S2", "S3"]
    with pytest.raises(QueryError, match="refers to itself"):
        engine.run(Query("query:loop"))
    with pytest.raises(QueryError, match=r"target: no saved query named 'nope'"):
        engine.run(Query("query:nope"))


def test_second_run_reuses_every_cache():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 1000, (200, 2))
    b = layer([B(x, y, x + 8, y + 8) for x, y in xy], building_id=[f"B{i:03d}" for i in
                                                                   range(200)])
    pop = pd.DataFrame({"building_id": [f"B{i:03d}" for i in range(0, 200, 2)],
                        "residents": np.arange(100)})
    sites = layer([P(*p) for p in rng.uniform(0, 1000, (10, 2))], site_id=[f"H{i}" for i in
                                                                          range(10)],
                  kind=["chem", "oil"] * 5)
    flood = layer([B(0, 0, 400, 300), B(500, 500, 900, 700)], zone_id=["F1", "F2"], depth=[1, 3])
    zones = layer([B(0, 0, 500, 1000), B(500, 0, 1008, 1008)], community_id=["C1", "C2"])
    engine = QueryEngine({"buildings": b, "population": pop, "sites": sites, "flood": flood,
                          "communities": zones})
    queries = [
        Query("buildings", relation=Relation("within_distance", "sites", distance_m=100,
                                             where=(Condition("kind", "=", "chem"),)),
              group_by=GroupBy("communities", "community_id"),
              aggregate=(Aggregate("count", "n"), Aggregate("sum", "r", "residents"))),
        Query("buildings", relation=Relation("intersects", "flood",
                                             where=(Condition("depth", ">=", 2),)),
              group_by=GroupBy("communities", "community_id")),
        Query("buildings", relation=Relation("nearest", "sites", k=2)),
        Query("sites", relation=Relation("contains", "buildings")),
    ]
    first = [engine.run(q) for q in queries]
    before = {k: engine.stats[k] for k in CACHE_STATS}
    assert before["tree_builds"] > 0 and before["zone_index_builds"] == 1
    again = [engine.run(q) for q in queries]
    assert {k: engine.stats[k] for k in CACHE_STATS} == before
    for a, b2 in zip(first, again):
        pd.testing.assert_frame_equal(pd.DataFrame(a.data), pd.DataFrame(b2.data))
    # another distance on the same filtered reference reuses the distance field
    engine.run(Query("buildings", relation=Relation("within_distance", "sites", distance_m=60,
                                                    where=(Condition("kind", "=", "chem"),))))
    assert engine.stats["distance_field_builds"] == before["distance_field_builds"]


def test_set_frame_invalidates_the_layer_caches():
    t = layer([P(0, 0), P(50, 0)], tgt_id=["a", "b"])
    engine = QueryEngine({"t": t, "r": layer([B(-1, -1, 1, 1)], ref_id=["R"])})
    q = Query("t", relation=Relation("intersects", "r"))
    assert engine.run(q).data["tgt_id"].tolist() == ["a"]
    builds = engine.stats["geometry_builds"]
    engine.set_frame("r", layer([B(49, -1, 51, 1)], ref_id=["R"]))
    assert engine.run(q).data["tgt_id"].tolist() == ["b"]
    assert engine.stats["geometry_builds"] == builds + 1  # only "r" was rebuilt
    engine.invalidate()
    assert engine.run(q).data["tgt_id"].tolist() == ["b"]
    assert engine.stats["geometry_builds"] == builds + 3


def test_results_keep_the_target_crs_index_and_leave_inputs_alone():
    t = layer([P(0, 0), P(10, 0), P(20, 0)], tgt_id=["a", "b", "c"]).set_index(
        pd.Index([7, 8, 9]))
    r = layer([P(10, 1)], ref_id=["R"])
    before = t.copy()
    engine = QueryEngine({"t": t, "r": r})
    result = engine.run(Query("t", relation=Relation("within_distance", "r", distance_m=2)))
    assert isinstance(result, QueryResult)
    assert result.data.index.tolist() == [8] and result.data.crs == t.crs
    pd.testing.assert_frame_equal(pd.DataFrame(t), pd.DataFrame(before))
    assert result.elapsed_s >= 0 and result.key == "tgt_id"


def test_runtime_errors_name_the_key():
    frames = {"t": layer([P(0, 0)], tgt_id=["a"]), "population": pd.DataFrame({"x": [1]}),
              "nocrs": layer([P(0, 0)], crs=None, nid=["n"]),
              "z": layer([B(0, 0, 1, 1)], zone_id=["Z"])}
    engine = QueryEngine(frames)
    cases = [
        (Query("t", relation=Relation("intersects", "population")),
         r"relation\.layer: layer 'population' has no geometry"),
        (Query("population", relation=Relation("intersects", "t")), r"target: .*no geometry"),
        (Query("t", relation=Relation("intersects", "nocrs")), r"relation\.layer: .*no CRS"),
        (Query("t", relation=Relation("intersects", "roads")), r"relation\.layer: no layer"),
        (Query("t", relation=Relation("nearest", "t", k=0)), r"relation\.k"),
        (Query("t", relation=Relation("within_distance", "t")), r"relation\.distance_m"),
        (Query("t", group_by=GroupBy("z", "district")), r"group_by\.key: .*'district'"),
        (Query("t", group_by=GroupBy("population", "x")), r"group_by\.layer: .*no geometry"),
        (Query("t", aggregate=(Aggregate("sum", "s", "tgt_id"),)), r"aggregate\[0\]\.column"),
    ]
    for q, pattern in cases:
        with pytest.raises(QueryError, match=pattern):
            engine.run(q)
    # attribute-only queries work on tables
    assert engine.run(Query("population", where=(Condition("x", "=", 1),))).matched == 1


def test_feedback_reports_progress_and_cancels():
    seen = []
    fb = Feedback(on_progress=seen.append)
    engine = QueryEngine({"t": layer([P(0, 0)], tgt_id=["a"]), "r": layer([P(1, 0)], ref_id=["R"])})
    engine.run(Query("t", relation=Relation("nearest", "r", k=1)), feedback=fb)
    assert seen and seen[-1] == 100.0 and seen == sorted(seen)
    fb.cancel()
    with pytest.raises(Canceled):
        engine.run(Query("t", relation=Relation("nearest", "r", k=1)), feedback=fb)


def test_cancel_in_the_middle_leaves_no_half_built_cache():
    rng = np.random.default_rng(5)
    t = layer([P(*p) for p in rng.uniform(0, 500, (300, 2))], tgt_id=np.arange(300))
    z = layer([B(0, 0, 250, 500), B(250, 0, 500, 500)], zone_id=["W", "E"])
    r = layer([B(100, 100, 150, 150)], ref_id=["R"])
    q = Query("t", relation=Relation("within_distance", "r", distance_m=30),
              group_by=GroupBy("z", "zone_id"))
    want = QueryEngine({"t": t, "z": z, "r": r}).run(q).data["count"].tolist()
    total = []
    QueryEngine({"t": t, "z": z, "r": r}).run(q, feedback=Feedback(on_progress=total.append))
    canceled = 0
    for stop_at in range(1, len(total)):
        engine = QueryEngine({"t": t, "z": z, "r": r})
        fb = Feedback()
        calls = []

        def set_progress(p, fb=fb, calls=calls, stop_at=stop_at):
            calls.append(p)
            if len(calls) >= stop_at:
                fb.cancel()

        fb.set_progress = set_progress
        try:
            engine.run(q, feedback=fb)
        except Canceled:
            canceled += 1
        assert engine.run(q).data["count"].tolist() == want
    assert canceled >= 3


def test_run_parses_query_documents():
    engine = QueryEngine({"schools": layer([P(0, 0), P(900, 0)], school_id=["S1", "S2"],
                                           pupils=[100, 200]),
                          "sites": layer([P(0, 500)], site_id=["H1"])})
    doc = {"version": 1, "target": "schools",
           "relation": {"kind": "within_distance", "distance_m": 500, "layer": "sites"},
           "aggregate": [{"fn": "sum", "column": "pupils", "as": "pupils"}]}
    result = engine.run(doc)
    assert result.data["pupils"].tolist() == [100] and result.matched == 1
    assert engine.catalog["schools"].key == "school_id"
    with pytest.raises(QueryError, match="target"):
        engine.run({"version": 1, "target": "nope"})


def test_large_layers_stay_vectorised():
    """Many features, k > 1 and a far-away cluster: the radius search widens as needed."""
    rng = np.random.default_rng(7)
    pts = rng.uniform(0, 5000, (3000, 2))
    refs = np.vstack([rng.uniform(0, 200, (40, 2)), [[20000, 20000]]])
    t = layer([P(*p) for p in pts], tgt_id=np.arange(3000))
    r = layer([P(*p) for p in refs], ref_id=[f"R{i:03d}" for i in range(len(refs))])
    result = QueryEngine({"t": t, "r": r}).run(Query("t", relation=Relation("nearest", "r",
                                                                            k=3)))
    assert len(result.data) == 9000
    tree = shapely.STRtree(np.asarray(r.geometry.array))
    sample = rng.choice(3000, 50, replace=False)
    d = shapely.distance(np.asarray(t.geometry.array)[sample][:, None],
                         np.asarray(r.geometry.array)[None, :])
    want = np.sort(d, axis=1)[:, :3]
    got = result.data["distance_m"].to_numpy().reshape(3000, 3)[sample]
    assert np.allclose(got, want) and tree is not None
    assert math.isfinite(result.elapsed_s)


def test_grouped_and_total_results_list_the_matched_target_rows():
    import geopandas as gpd
    import shapely

    from spatial.query.engine import QueryEngine

    pts = gpd.GeoDataFrame({"pt_id": ["a", "b", "c"]},
                           geometry=[shapely.Point(1, 1), shapely.Point(5, 5), shapely.Point(50, 50)],
                           crs=4547)
    zones = gpd.GeoDataFrame({"zone_id": ["z"]}, geometry=[shapely.box(0, 0, 10, 10)], crs=4547)
    engine = QueryEngine({"pts": pts, "zones": zones})
    grouped = engine.run({"version": 1, "target": "pts",
                          "relation": {"kind": "within", "layer": "zones"},
                          "group_by": {"layer": "zones", "key": "zone_id"}})
    assert grouped.positions.tolist() == [0, 1]
    total = engine.run({"version": 1, "target": "pts", "aggregate": [{"fn": "count", "as": "n"}],
                        "relation": {"kind": "within", "layer": "zones"}})
    assert total.positions.tolist() == [0, 1] and total.data["n"].tolist() == [2]
