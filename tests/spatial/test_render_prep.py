"""Qt-free render preparation: view transforms, flattening, tiles, LOD buckets, pixels."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial.render_prep import (
    BLOCK_LOD_PX,
    N_BUCKETS,
    PIXEL_LOD_PX,
    PreparedVector,
    View,
    classify_categories,
    coordinates,
    disc_offsets,
    encode_path,
    ground_resolution,
    label_anchors,
    nice_scale_bar,
    plot_discs,
    plot_pixels,
    premultiplied_argb,
    ragged_indices,
    raster_window,
    rows_bounds,
    transform_bounds,
    union_bounds,
    warp_to_view,
)


# ----------------------------------------------------------------------------- view
def test_view_round_trip_and_affine():
    v = View(cx=500_100.0, cy=3_400_050.0, scale=0.25, width=640, height=480)
    px, py = np.array([0.0, 320.0, 639.5]), np.array([0.0, 240.0, 10.0])
    x, y = v.to_map(px, py)
    bx, by = v.to_screen(x, y)
    np.testing.assert_allclose(bx, px, atol=1e-6)
    np.testing.assert_allclose(by, py, atol=1e-6)
    m11, m12, m21, m22, dx, dy = v.affine()
    np.testing.assert_allclose(m11 * x + m21 * y + dx, px, atol=1e-6)
    np.testing.assert_allclose(m12 * x + m22 * y + dy, py, atol=1e-6)
    # centre pixel is the centre point; y grows downwards on screen
    assert v.to_map(320, 240) == pytest.approx((v.cx, v.cy))
    assert v.to_map(320, 0)[1] > v.to_map(320, 100)[1]


@given(st.floats(0.1, 10.0), st.floats(0, 640), st.floats(0, 480))
def test_zoom_keeps_anchor_fixed(factor, ax, ay):
    v = View(1000.0, 2000.0, 2.0, 640, 480)
    z = v.zoomed(factor, anchor=(ax, ay))
    assert z.to_map(ax, ay) == pytest.approx(v.to_map(ax, ay), abs=1e-6)
    assert z.scale == pytest.approx(v.scale / factor)


def test_pan_fit_resize_and_device_ratio():
    v = View(0.0, 0.0, 1.0, 100, 50)
    p = v.panned(10, -5)  # content moves right and up: the centre moves left and down
    assert (p.cx, p.cy) == (-10.0, -5.0)
    f = View.fit((0, 0, 200, 50), 100, 100, margin=0)
    assert f.scale == 2.0 and f.extent == (0.0, -75.0, 200.0, 125.0)
    assert View.fit((3, 4, 3, 4), 10, 10).extent[0] < 3  # a single point still gets a view
    r = v.resized(200, 100)
    assert (r.cx, r.cy, r.scale) == (v.cx, v.cy, v.scale) and r.width == 200
    d = v.scaled_to_device(2.0)
    assert (d.width, d.height, d.scale) == (200, 100, 0.5) and d.extent == v.extent
    with pytest.raises(ValueError, match="scale"):
        View(0, 0, 0.0, 10, 10)
    with pytest.raises(ValueError, match="zoom factor"):
        v.zoomed(-1)


# ----------------------------------------------------------------------------- helpers
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 8)), max_size=20))
def test_ragged_indices_matches_concatenated_aranges(pairs):
    starts = [s for s, _ in pairs]
    ends = [s + n for s, n in pairs]
    expected = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)] or [[]])
    assert ragged_indices(starts, ends).tolist() == expected.astype(int).tolist()


def test_classify_categories_defaults_nulls_and_numbers():
    import pandas as pd

    values = pd.Series(["a", "b", None, "c", "a"], dtype="string[pyarrow]")
    assert classify_categories(values, ["a", "b"]).tolist() == [0, 1, 2, 2, 0]
    assert classify_categories([1, 2, 3], [3, 1]).tolist() == [1, 2, 0]
    assert classify_categories(["x"], []).tolist() == [0]
    big = pd.Series(["residential", "public"] * 60_000)  # crosses the chunk size
    out = classify_categories(big, ["public", "residential"])
    assert out[:4].tolist() == [1, 0, 1, 0] and len(out) == 120_000


def test_encode_path_layout():
    xy = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    move = np.array([True, False, True, False])
    data = encode_path(xy, move)
    assert struct.unpack(">i", data[:4])[0] == 4
    body = np.frombuffer(data[4:4 + 4 * 20], dtype=[("t", ">i4"), ("x", ">f8"), ("y", ">f8")])
    assert body["t"].tolist() == [0, 1, 0, 1]
    assert body["x"].tolist() == [1.0, 3.0, 5.0, 7.0]
    c_start, fill = struct.unpack(">ii", data[-8:])
    assert (c_start, fill) == (2, 1)  # last subpath starts at element 2; winding fill
    assert struct.unpack(">ii", encode_path(xy, move, winding=False)[-8:])[1] == 0


def test_premultiplied_and_plot_pixels_blend():
    buf = np.full((2, 2), 0xFFFFFFFF, dtype=np.uint32)  # opaque white
    half_red = premultiplied_argb([(255, 0, 0, 128)])[0]
    plot_pixels(buf, [0.5], [0.5], half_red)
    r, g, b, a = [(int(buf[0, 0]) >> s) & 0xFF for s in (16, 8, 0, 24)]
    assert a == 255 and r == 255 and 120 <= g <= 130 and 120 <= b <= 130
    plot_pixels(buf, [1.5], [1.5], np.uint32(0xFF0000FF), opacity=0.5)
    assert (int(buf[1, 1]) & 0xFF) == 255 and ((int(buf[1, 1]) >> 16) & 0xFF) in (127, 128)
    assert buf[0, 1] == 0xFFFFFFFF  # untouched


def test_plot_discs_clips_at_edges():
    buf = np.zeros((10, 10), dtype=np.uint32)
    n = plot_discs(buf, [0.2, 5.5, 50.0], [0.2, 5.5, 50.0], np.uint32(9), 5)
    assert n == 2  # the far point is skipped
    assert int((buf == 9).sum()) == len(disc_offsets(5)[0]) + 8  # full disc + clipped quarter
    assert buf[5, 5] == 9 and buf[0, 0] == 9


def test_scale_bar_and_ground_resolution():
    metres, px, label = nice_scale_bar(7.3, 120)
    assert metres in (500.0, 200.0) and px <= 120 and label.endswith("m")
    assert nice_scale_bar(0.0)[0] == 0.0
    assert nice_scale_bar(100.0, 150)[2] == "10 km"
    v = View(117.2, 39.1, 1e-4, 400, 300)
    expected = 1e-4 * 111_320 * math.cos(math.radians(39.1))
    assert ground_resolution("EPSG:4326", v) == pytest.approx(expected, rel=0.01)
    assert ground_resolution("EPSG:4547", View(5e5, 3.4e6, 3.0, 10, 10)) == 3.0
    merc = View(13_046_000.0, 4_737_000.0, 10.0, 400, 300)  # ~117.2E 39.1N
    assert ground_resolution("EPSG:3857", merc) == pytest.approx(
        10 * math.cos(math.radians(39.1)), rel=0.01)


def test_transform_union_and_rows_bounds():
    b = transform_bounds((114.0, 30.0, 114.1, 30.1), "EPSG:4326", "EPSG:4547")
    assert b[0] == pytest.approx(500_000, abs=1) and b[2] > b[0] and b[3] > b[1]
    assert transform_bounds((1, 2, 3, 4), "EPSG:4547", "EPSG:4547") == (1, 2, 3, 4)
    assert transform_bounds(None, 4326, 4547) is None
    assert union_bounds([None]) is None
    geoms = [shapely.box(0, 0, 1, 1), None, shapely.Point(5, 5)]
    assert rows_bounds(geoms, [1]) is None
    assert rows_bounds(geoms, [0, 2, 99]) == (0.0, 0.0, 5.0, 5.0)


def test_label_anchors_inside_polygons_and_upright_on_lines():
    poly = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(1, 1), (9, 1), (9, 9), (1, 9)]])
    x, y, a = label_anchors([poly, None], "polygon")
    assert poly.contains(shapely.Point(x[0], y[0])) and np.isnan(x[1])
    line = shapely.LineString([(10, 0), (0, 0)])  # drawn right to left
    x, y, a = label_anchors([line], "line")
    assert (x[0], y[0]) == (5.0, 0.0) and a[0] == pytest.approx(0.0)  # text not upside down
    many = [shapely.LineString([(i, 0), (i, 1)]) for i in range(6000)]  # crosses the chunk
    assert len(label_anchors(many, "line")[0]) == 6000


def test_raster_window_and_warp():
    from affine import Affine

    t = Affine(10, 0, 100, 0, -10, 200)
    (rows, cols), b = raster_window(t, (10, 10), (120, 150, 500, 500))
    assert rows == (0, 5) and cols == (2, 10) and b == (120.0, 150.0, 200.0, 200.0)
    assert raster_window(t, (10, 10), (0, 0, 50, 50)) is None
    data = np.arange(100, dtype=float).reshape(10, 10)
    view = View(100.0, 150.0, 10.0, 10, 10)  # x 50..150: the raster fills the right half
    out = warp_to_view(data, t, "EPSG:4547", view, "EPSG:4547")
    assert out.shape == (10, 10)
    np.testing.assert_allclose(out[:, 5:], data[:, :5])  # the raster starts mid-view
    assert np.isnan(out[:, :5]).all()


# ----------------------------------------------------------------------------- prepared vectors
def _polys(n=400, seed=0, size=(5.0, 60.0), extent=4000.0):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, extent, n), rng.uniform(0, extent, n)
    w = rng.uniform(*size, n)
    return shapely.box(x, y, x + w, y + w * rng.uniform(0.3, 1.0, n))


def test_flatten_holes_multiparts_and_orientation():
    hole = shapely.Polygon([(0, 0), (0, 10), (10, 10), (10, 0)],  # clockwise exterior
                           [[(2, 2), (4, 2), (4, 4), (2, 4)]])  # counter-clockwise hole
    multi = shapely.MultiPolygon([shapely.box(20, 0, 25, 5), shapely.box(30, 0, 35, 5, ccw=False)])
    p = PreparedVector([hole, None, multi, shapely.Polygon()])
    assert p.valid.tolist() == [True, False, True, False]
    assert p.offsets.tolist() == [0, 10, 10, 20, 20]
    for row, expected in ((0, [True, False]), (2, [True, True])):
        xy, move = p.path_elements([row])
        starts = np.flatnonzero(move).tolist() + [len(xy)]
        ccw = [shapely.is_ccw(shapely.LinearRing(xy[a:b]))
               for a, b in zip(starts[:-1], starts[1:], strict=True)]
        assert ccw == expected  # exteriors counter-clockwise, holes clockwise
    # the flipped vertices are still the same rings
    xy, move = p.path_elements([0])
    assert shapely.Polygon(xy[:5], [xy[5:]]).equals(hole)


def test_lines_and_points_flatten():
    lines = PreparedVector([shapely.LineString([(0, 0), (1, 1)]),
                            shapely.MultiLineString([[(5, 5), (6, 6)], [(7, 7), (8, 8), (9, 9)]])])
    assert lines.family == "line" and lines.starts.tolist() == [1, 0, 1, 0, 1, 0, 0]
    pts = PreparedVector([shapely.Point(1, 2), shapely.MultiPoint([(3, 4), (5, 6)])])
    x, _, row = pts.point_xy([1, 0])
    assert x.tolist() == [3.0, 5.0, 1.0] and row.tolist() == [1, 1, 0]
    assert coordinates([shapely.Point(1, 2), None], chunk=1).tolist() == [[1.0, 2.0]]


def test_tiles_cover_every_feature_once_and_groups_partition_rows():
    geoms = _polys(2000)
    p = PreparedVector(geoms, tile_size=500.0)
    assert p.nx == p.ny == 9
    assert np.array_equal(np.sort(p.spatial), p.tiled)  # each tiled row once
    classes = np.arange(p.n) % 3
    for level in range(4):
        g = p.groups(level, classes, 3, version="v")
        members = np.concatenate([g.members(i) for i in range(len(g.keys))] + [[]]).astype(int)
        kept = p.tiled[p.bucket[p.tiled] >= p.min_bucket(level)]
        assert np.array_equal(np.sort(members), np.sort(kept))
        cls, bucket, row, col = g.decode(np.arange(len(g.keys)))
        for i in range(len(g.keys)):  # every member sits in its group's tile, class, bucket
            m = g.members(i)
            assert (classes[m] == cls[i]).all() and (p.bucket[m] == bucket[i]).all()
            assert ((p.tile_ix[m] >> level) == col[i]).all()
            assert ((p.tile_iy[m] >> level) == row[i]).all()
    assert p.groups(0, classes, 3, version="v") is p.groups(0, classes, 3, version="v")


@settings(max_examples=30, deadline=None)
@given(st.floats(0, 4000), st.floats(0, 4000), st.floats(10, 3000), st.floats(10, 3000))
def test_visible_rows_are_a_superset_of_the_brute_force(x0, y0, w, h):
    p = _PREP
    extent = (x0, y0, x0 + w, y0 + h)
    b = p.bounds
    truth = np.flatnonzero((b[:, 0] <= extent[2]) & (b[:, 2] >= extent[0])
                           & (b[:, 1] <= extent[3]) & (b[:, 3] >= extent[1]))
    found = set(p.rows_in_tiles(extent).tolist()) | set(p.oversize_in(extent).tolist())
    assert set(truth.tolist()) <= found
    c0, c1, r0, r1 = p.tile_range(extent, 0)
    g = p.groups(0, np.zeros(p.n, int), 1, version=0)
    vis = g.visible(c0, c1, r0, r1, [(0, b_) for b_ in range(N_BUCKETS)])
    in_groups = set(np.concatenate([g.members(i) for i in vis]).tolist()) if vis.size else set()
    tiled_truth = set(truth.tolist()) - set(p.oversize.tolist())
    assert tiled_truth <= in_groups


_PREP = PreparedVector(np.concatenate([_polys(1500, seed=1), [shapely.box(100, 100, 2600, 900)]]),
                       tile_size=500.0)


def test_oversize_features_stay_out_of_tiles():
    assert _PREP.oversize.tolist() == [1500]
    assert 1500 not in _PREP.spatial
    assert _PREP.oversize_in((0, 0, 50, 50)).size == 0
    assert _PREP.oversize_in((2500, 800, 2700, 1000)).tolist() == [1500]


def test_lod_buckets_levels_and_min_bucket():
    p = PreparedVector(_polys(500, size=(1.0, 400.0)), tile_size=512.0)
    for b in range(N_BUCKETS):
        lo, hi = p.bucket_range(b)
        m = p.bucket == b
        assert (p.size[m] >= lo - 1e-9).all() and (p.size[m] < hi + 1e-9).all()
    assert p.level_for(1.0) == 0  # 512-px tiles
    assert p.level_for(512.0 / 40) == 1  # 40-px tiles merge in pairs
    assert p.level_for(512.0 / 10) == 3
    # at level L, every bucket left out is below BLOCK_LOD_PX at the finest scale of L
    for level in (1, 2, 3):
        finest = p.tile_size * (1 << level) / 128.0
        for b in range(p.min_bucket(level)):
            assert p.bucket_range(b)[1] <= BLOCK_LOD_PX * finest


def test_plot_small_matches_a_brute_force_pixel_pass():
    p = PreparedVector(_polys(3000, size=(1.0, 6.0)), tile_size=500.0)
    view = View(2000.0, 2000.0, 4.0, 800, 600)  # features are 0.25-1.5 px: all pixels
    classes = (np.arange(p.n) % 2).astype(np.int32)
    colors = np.array([0xFF0000FF, 0xFF00FF00], dtype=np.uint32)
    buf = np.zeros((600, 800), dtype=np.uint32)
    drawn = p.plot_small(buf, view, classes, colors, PIXEL_LOD_PX)
    sx, sy = view.to_screen(p.cx, p.cy)
    inside = (sx >= 0) & (sx < 800) & (sy >= 0) & (sy < 600)
    assert drawn == int(inside.sum())
    hit = np.zeros((600, 800), dtype=bool)
    hit[np.floor(sy[inside]).astype(int), np.floor(sx[inside]).astype(int)] = True
    assert np.array_equal(buf != 0, hit)
    assert set(np.unique(buf[hit]).tolist()) <= set(colors.tolist())
    # blocks: features of 2-4 px cover 2x2 or 3x3 pixels
    big = PreparedVector([shapely.box(100, 100, 112, 112)], tile_size=500.0)
    buf = np.zeros((50, 50), dtype=np.uint32)
    v = View(106.0, 106.0, 4.0, 50, 50)  # 12 m = 3 px
    big.plot_small(buf, v, np.zeros(1, np.int32), colors[:1], BLOCK_LOD_PX, blocks=True)
    assert int((buf != 0).sum()) == 9
    buf[:] = 0  # negative classes are not drawn
    big.plot_small(buf, v, np.full(1, -1, np.int32), colors[:1], BLOCK_LOD_PX, blocks=True)
    assert not buf.any()
