"""Picking (STRtree, chunked) and measuring in metres."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial.errors import CRSError
from spatial.measure import (
    Measurement,
    geometry_from_vertices,
    measure,
    measure_area,
    measure_length,
)
from spatial.pick import PickIndex, pick_in_crs, select_in_crs, to_crs


def _mixed(n=300, seed=3):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, 1000, n), rng.uniform(0, 1000, n)
    geoms = np.empty(n, dtype=object)
    third = n // 3
    geoms[:third] = shapely.points(x[:third], y[:third])
    geoms[third:2 * third] = shapely.linestrings(
        np.stack([np.stack([x[third:2 * third], y[third:2 * third]], 1),
                  np.stack([x[third:2 * third] + 30, y[third:2 * third] + 10], 1)], 1))
    geoms[2 * third:] = shapely.box(x[2 * third:], y[2 * third:], x[2 * third:] + 25,
                                    y[2 * third:] + 15)
    geoms[5] = None
    geoms[7] = shapely.Point()
    return geoms


GEOMS = _mixed()


@settings(max_examples=40, deadline=None)
@given(st.floats(-50, 1000), st.floats(-50, 1000), st.floats(1, 400), st.floats(1, 400))
def test_select_rect_equals_brute_force(x0, y0, w, h):
    box = shapely.box(x0, y0, x0 + w, y0 + h)
    idx = PickIndex(GEOMS, chunk=37)  # several trees
    expected = np.flatnonzero(shapely.intersects(GEOMS, box))
    assert idx.select(box).tolist() == expected.tolist()
    inside = np.flatnonzero(shapely.contains(box, GEOMS))
    assert idx.select(box, "contains").tolist() == inside.tolist()


@settings(max_examples=80, deadline=None)
@given(st.floats(0, 1000), st.floats(0, 1000), st.floats(0, 20))
def test_pick_is_every_feature_within_tolerance_nearest_first(x, y, tol):
    idx = PickIndex(GEOMS, chunk=64)
    point = shapely.Point(x, y)
    rows = idx.pick(x, y, tol)
    dist = shapely.distance(GEOMS, point)
    expected = set(np.flatnonzero(np.nan_to_num(dist, nan=np.inf) <= tol).tolist())
    got = set(rows.tolist())
    assert got == expected
    d = dist[rows]
    assert (np.diff(d) >= -1e-12).all()


def test_pick_polygon_under_cursor_and_build_steps():
    idx = PickIndex([shapely.box(0, 0, 10, 10), shapely.Point(20, 20)], chunk=1)
    assert not idx.ready
    assert idx.build_step() is False and idx.build_step() is True and idx.ready
    assert idx.pick(5, 5).tolist() == [0]
    assert idx.pick(20.5, 20, tolerance=1).tolist() == [1]
    assert idx.pick(15, 15, tolerance=1).tolist() == []
    assert idx.pick(10, 10, tolerance=0, limit=1).tolist() == [0]
    assert idx.select(None).size == 0
    with pytest.raises(ValueError, match="predicate"):
        idx.select(shapely.box(0, 0, 1, 1), "nearby")
    with pytest.raises(ValueError, match="tolerance"):
        idx.pick(0, 0, -1)
    assert len(PickIndex([])) == 0 and PickIndex([]).select(shapely.box(0, 0, 1, 1)).size == 0


def test_pick_and_select_across_crs():
    lonlat = [shapely.Point(114.0, 30.0), shapely.box(114.01, 30.01, 114.02, 30.02)]
    idx = PickIndex(lonlat)
    t = pyproj.Transformer.from_crs(4326, 4547, always_xy=True)
    x, y = t.transform(114.0, 30.0)
    assert pick_in_crs(idx, x + 3, y, 5.0, "EPSG:4547", "EPSG:4326").tolist() == [0]
    assert pick_in_crs(idx, x + 30, y, 5.0, "EPSG:4547", "EPSG:4326").tolist() == []
    bx0, by0 = t.transform(114.005, 30.005)
    bx1, by1 = t.transform(114.03, 30.03)
    rect = shapely.box(bx0, by0, bx1, by1)
    assert select_in_crs(idx, rect, "EPSG:4547", "EPSG:4326").tolist() == [1]
    assert to_crs(rect, "EPSG:4547", "EPSG:4547") is rect
    assert to_crs(rect, None, "EPSG:4326") is rect


# ----------------------------------------------------------------------------- measure
GEOD = pyproj.Geod(ellps="WGS84")


def test_geographic_lengths_and_areas_are_geodesic_metres():
    line = shapely.LineString([(117.20, 39.10), (117.25, 39.12), (117.30, 39.10)])
    m = measure_length(line, "EPSG:4326")
    assert isinstance(m, Measurement) and m.unit == "m" and m.method == "geodesic"
    assert m.value == pytest.approx(GEOD.geometry_length(line), rel=1e-9)
    poly = shapely.Polygon([(117.2, 39.1), (117.25, 39.1), (117.25, 39.14), (117.2, 39.14)])
    a = measure_area(poly, 4326)
    assert a.unit == "m²" and a.value == pytest.approx(abs(GEOD.geometry_area_perimeter(poly)[0]),
                                                        rel=1e-9)
    assert measure(poly, 4326).unit == "m²" and measure(line, 4326).unit == "m"


def test_projected_metres_are_planar_and_agree_with_geod():
    t = pyproj.Transformer.from_crs(4326, 4547, always_xy=True)
    lon, lat = [114.10, 114.14, 114.16], [30.50, 30.53, 30.51]
    x, y = t.transform(lon, lat)
    line = shapely.LineString(np.c_[x, y])
    m = measure_length(line, "EPSG:4547")
    assert m.method == "planar" and m.value == pytest.approx(line.length)
    geodesic = GEOD.geometry_length(shapely.LineString(np.c_[lon, lat]))
    assert m.value == pytest.approx(geodesic, rel=2e-3)  # Gauss-Krüger scale error is tiny


def test_web_mercator_and_offsets_are_not_stretched():
    t = pyproj.Transformer.from_crs(4326, 3857, always_xy=True)
    a, b = t.transform([117.2, 117.3], [39.1, 39.1])
    merc = shapely.LineString([(a[0], b[0]), (a[1], b[1])])
    truth = GEOD.inv(117.2, 39.1, 117.3, 39.1)[2]
    assert merc.length / truth > 1.25  # raw Mercator metres are ~1.29x too long here
    assert measure_length(merc, "EPSG:3857").value == pytest.approx(truth, rel=1e-6)
    gcj = shapely.LineString([(117.2, 39.1), (117.3, 39.1)])
    assert measure_length(gcj, "GCJ-02").value == pytest.approx(truth, rel=1e-3)


def test_measure_errors_and_empty():
    with pytest.raises(CRSError, match="CRS"):
        measure_length(shapely.LineString([(0, 0), (1, 1)]), None)
    with pytest.raises(TypeError, match="shapely"):
        measure_area([(0, 0)], 4326)
    assert measure_length(shapely.LineString(), 4326).value == 0.0


def test_geometry_from_vertices():
    assert geometry_from_vertices("point", [(1, 2)]).equals(shapely.Point(1, 2))
    line = geometry_from_vertices("line", [(0, 0), (0, 0), (3, 4)])  # double-click duplicate
    assert line.length == 5.0 and len(line.coords) == 2
    bow = geometry_from_vertices("polygon", [(0, 0), (2, 2), (2, 0), (0, 2)])
    assert bow.is_valid and bow.area == pytest.approx(2.0)  # a bow-tie is repaired
    with pytest.raises(ValueError, match="at least 3 distinct"):
        geometry_from_vertices("polygon", [(0, 0), (1, 1), (0, 0)])
    with pytest.raises(ValueError, match="kind"):
        geometry_from_vertices("circle", [(0, 0)])
    with pytest.raises(ValueError, match="finite"):
        geometry_from_vertices("point", [(np.nan, 0)])
