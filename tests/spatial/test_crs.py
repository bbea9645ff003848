"""Tests for spatial.crs: CRS parsing, the metric-CRS rule and GCJ-02/BD-09 offsets.

Reference vectors for the Chinese web-map offsets are copied from the tests or
documentation of published implementations; each is cited next to it with
the tolerance used and why.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import LineString, MultiPolygon, Point, Polygon

from spatial import crs as C
from spatial.crs import (
    BD09,
    CGCS2000,
    GCJ02,
    WEB_MERCATOR,
    WGS84,
    bd09_to_gcj02,
    bd09_to_wgs84,
    cgcs2000_gk_epsg,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    get_transformer,
    local_tm,
    metric_crs_for,
    parse_crs,
    require_metric,
    roundtrip_error_m,
    to_metric,
    transform_geometries,
    transform_xy,
    utm_epsg,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from spatial.errors import CityFrameError, CRSError

GEOD = pyproj.Geod(ellps="WGS84")


def geodesic_m(lon1, lat1, lon2, lat2) -> float:
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


# ---------------------------------------------------------------------------
# parse_crs and classification
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [4547, np.int64(4547), "EPSG:4547", "epsg:4547", "4547", pyproj.CRS.from_epsg(4547),
     pyproj.CRS.from_epsg(4547).to_wkt()],
)
def test_parse_crs_accepts_common_forms(value):
    assert parse_crs(value) == pyproj.CRS.from_epsg(4547)


def test_parse_crs_returns_crs_objects_unchanged():
    crs = pyproj.CRS.from_epsg(4490)
    assert parse_crs(crs) is crs


def test_named_constants():
    assert WGS84.to_epsg() == 4326
    assert CGCS2000.to_epsg() == 4490
    assert WEB_MERCATOR.to_epsg() == 3857


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (None, r"no CRS given \(None\)"),
        ("", r"no CRS given \(empty text\)"),
        ("EPSG:999999", r"unknown CRS 'EPSG:999999'"),
        (999999, r"unknown CRS 999999"),
        ("not a crs at all", r"unknown CRS 'not a crs at all'"),
        (True, r"not a CRS: True \(bool\)"),
        (4.5, r"not a CRS: 4\.5 \(float\)"),
        ("GCJ-02", r"'GCJ-02' is not a CRS but the GCJ-02 offset"),
        ("bd09", r"'bd09' is not a CRS but the BD-09 offset"),
    ],
)
def test_parse_crs_errors_name_the_value(value, match):
    with pytest.raises(CRSError, match=match):
        parse_crs(value)


def test_crs_error_is_a_cityframe_value_error():
    with pytest.raises(CityFrameError):
        parse_crs(None)
    with pytest.raises(ValueError):
        parse_crs("EPSG:999999")


@pytest.mark.parametrize(
    ("value", "geographic", "web_mercator", "metric"),
    [
        (4326, True, False, False),
        (4490, True, False, False),
        (4547, False, False, True),
        (32650, False, False, True),
        (3857, False, True, False),
        ("ESRI:102100", False, True, False),
        ("+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m "
         "+nadgrids=@null +wktext +no_defs", False, True, False),
        (2263, False, False, False),  # NAD83 / New York Long Island, US survey feet
        ("GCJ-02", True, False, False),
        ("BD-09", True, False, False),
    ],
)
def test_classification(value, geographic, web_mercator, metric):
    assert C.is_geographic(value) is geographic
    assert C.is_web_mercator(value) is web_mercator
    assert C.is_metric_projected(value) is metric


def test_resolve_crs_and_labels():
    assert C.resolve_crs("gcj_02") == GCJ02
    assert C.resolve_crs("Baidu") == BD09
    assert C.resolve_crs("EPSG:4547").to_epsg() == 4547
    assert C.crs_label(4547) == "EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E)"
    assert C.crs_label("BD-09") == "BD-09"


# ---------------------------------------------------------------------------
# CGCS2000 Gauss–Krüger, UTM, local TM
# ---------------------------------------------------------------------------


def test_cgcs2000_4547_is_cm_114e():
    assert cgcs2000_gk_epsg(114.3) == 4547
    assert pyproj.CRS.from_epsg(4547).name == "CGCS2000 / 3-degree Gauss-Kruger CM 114E"


def _gk_expectation(code: int):
    """(zone_width, prefixed, central meridian) from PROJ's database entry of ``code``."""
    crs = pyproj.CRS.from_epsg(code)
    params = {p.name: p.value for p in crs.coordinate_operation.params}
    cm = params["Longitude of natural origin"]
    name = crs.name
    width = 3 if "3-degree" in name else 6
    prefixed = " zone " in name
    return crs, name, width, prefixed, cm


@pytest.mark.parametrize("code", range(4491, 4555))
def test_cgcs2000_gk_epsg_matches_pyproj_database(code):
    crs, name, width, prefixed, cm = _gk_expectation(code)
    assert name.startswith("CGCS2000 / ")
    assert "Gauss-Kruger" in name
    assert crs.geodetic_crs.to_epsg() == 4490
    if prefixed:  # "... zone N": false easting N * 1e6 + 500 km
        zone = int(name.rsplit(" ", 1)[1])
        expected_zone = cm / 3 if width == 3 else (cm + 3) / 6
        assert zone == expected_zone
    else:
        assert name.endswith(f"CM {int(cm)}E")
    # the central meridian itself and points just inside both edges of the zone
    half = width / 2
    for lon in (cm, cm - half + 1e-6, cm + half - 1e-6):
        assert cgcs2000_gk_epsg(lon, zone_width=width, with_zone_prefix=prefixed) == code


def test_cgcs2000_gk_epsg_vectorised_and_boundaries():
    codes = cgcs2000_gk_epsg(np.array([75.0, 114.3, 116.4, 121.4, 121.5, 135.0]))
    assert codes.tolist() == [4534, 4547, 4548, 4549, 4550, 4554]
    assert isinstance(cgcs2000_gk_epsg(114.3), int)
    assert cgcs2000_gk_epsg(114.3, zone_width=6) == 4509  # CM 117E covers 114–120
    assert pyproj.CRS.from_epsg(4509).name == "CGCS2000 / Gauss-Kruger CM 117E"


@pytest.mark.parametrize(
    ("lon", "width"), [(73.4, 3), (136.5, 3), (71.9, 6), (138.0, 6), (-3.0, 3)]
)
def test_cgcs2000_gk_epsg_outside_zones(lon, width):
    with pytest.raises(CRSError, match=rf"longitude {lon} is outside the CGCS2000 {width}-degree"):
        cgcs2000_gk_epsg(lon, zone_width=width)


def test_cgcs2000_gk_epsg_bad_zone_width():
    with pytest.raises(ValueError, match="zone_width must be 3 or 6, got 4"):
        cgcs2000_gk_epsg(114.3, zone_width=4)


@pytest.mark.parametrize(
    ("lon", "lat", "code"),
    [
        (114.3, 30.6, 32650),
        (116.4, 39.9, 32650),
        (-58.4, -34.6, 32721),
        (-180.0, 0.0, 32601),
        (179.99, -10.0, 32760),
        (5.3, 60.4, 32632),  # Norway exception (32V)
        (15.6, 78.2, 32633),  # Svalbard exception (33X)
        (25.0, 78.0, 32635),
    ],
)
def test_utm_epsg(lon, lat, code):
    assert utm_epsg(lon, lat) == code
    name = pyproj.CRS.from_epsg(code).name
    assert name.startswith("WGS 84 / UTM zone ")


def test_utm_epsg_vectorised_and_range():
    assert utm_epsg([114.3, -58.4], [30.6, -34.6]).tolist() == [32650, 32721]
    with pytest.raises(CRSError, match=r"outside UTM's range"):
        utm_epsg(10.0, 85.0)


def test_local_tm_is_centred_scale_one_in_metres():
    crs = local_tm(117.2, 39.13)
    params = {p.name: p.value for p in crs.coordinate_operation.params}
    assert params["Scale factor at natural origin"] == 1.0
    assert params["Longitude of natural origin"] == 117.2
    assert params["Latitude of natural origin"] == 39.13
    assert [a.unit_name for a in crs.axis_info] == ["metre", "metre"]
    assert crs.geodetic_crs == WGS84
    x, y = get_transformer(WGS84, crs).transform(117.2, 39.13)
    assert abs(x) < 1e-9 and abs(y) < 1e-9
    assert C.is_metric_projected(crs)
    assert local_tm(117.2, 39.13, datum="CGCS2000").geodetic_crs == CGCS2000
    with pytest.raises(CRSError, match="cannot centre"):
        local_tm(float("nan"), 39.0)


# ---------------------------------------------------------------------------
# metric_crs_for, to_metric, require_metric
# ---------------------------------------------------------------------------

CENTRE = (114.3, 30.6)  # Wuhan, inside CGCS2000 zone CM 114E (EPSG:4547)


def _bounds_in(crs, lon, lat, half_deg=0.05):
    t = get_transformer(WGS84, crs)
    xs, ys = t.transform([lon - half_deg, lon + half_deg], [lat - half_deg, lat + half_deg])
    return (min(xs), min(ys), max(xs), max(ys))


def test_metric_crs_for_keeps_metric_projected_data():
    b = _bounds_in(4547, *CENTRE)
    assert metric_crs_for(4547, b).to_epsg() == 4547
    assert metric_crs_for("EPSG:32650", _bounds_in(32650, *CENTRE)).to_epsg() == 32650


@pytest.mark.parametrize("src", [4326, 4490, 3857, 2263, "GCJ-02"])
def test_metric_crs_for_uses_local_tm_centred_on_the_data(src):
    if src == 2263:  # feet: any CRS not in metres is measured in a local TM too
        lon, lat = -73.9, 40.7
    else:
        lon, lat = CENTRE
    if src == "GCJ-02":  # bounds given in GCJ-02 degrees
        bounds = (lon - 0.05, lat - 0.05, lon + 0.05, lat + 0.05)
    else:
        bounds = _bounds_in(src, lon, lat)
    crs = metric_crs_for(src, bounds)
    assert crs.to_epsg() is None
    assert crs.name.startswith("CityFrame local TM")
    params = {p.name: p.value for p in crs.coordinate_operation.params}
    assert params["Scale factor at natural origin"] == 1.0
    assert [a.unit_name for a in crs.axis_info] == ["metre", "metre"]
    if src == "GCJ-02":  # centre converted to WGS 84: moved by the offset (< 0.01°)
        wlon, wlat = gcj02_to_wgs84(lon, lat)
        assert 1e-4 < abs(params["Longitude of natural origin"] - lon) < 0.01
        assert params["Longitude of natural origin"] == pytest.approx(wlon, abs=1e-6)
        assert params["Latitude of natural origin"] == pytest.approx(wlat, abs=1e-6)
    else:  # the projected bounds' centre is within ~0.0005° of the lon/lat box's centre
        assert params["Longitude of natural origin"] == pytest.approx(lon, abs=1e-3)
        assert params["Latitude of natural origin"] == pytest.approx(lat, abs=1e-3)
    # measured on the data's own datum, so no datum shift enters the measurement
    expected_datum = {4490: 4490, 2263: 4269}.get(src, 4326)
    assert crs.geodetic_crs == pyproj.CRS.from_epsg(expected_datum)


def test_metric_crs_for_bad_bounds():
    with pytest.raises(ValueError, match="not finite"):
        metric_crs_for(4326, (np.nan, np.nan, np.nan, np.nan))
    with pytest.raises(ValueError, match=r"bounds must be \(minx, miny, maxx, maxy\)"):
        metric_crs_for(4326, (1, 2, 3))


@pytest.mark.parametrize("src", [4547, 4326, 4490, 3857])
@pytest.mark.parametrize("azimuth", [0.0, 45.0, 90.0, 137.0])
def test_1000_m_measures_1000_m_in_the_chosen_crs(src, azimuth):
    # Two points 1000 m apart on the ellipsoid, 20 km from the data's centre.
    lon0, lat0 = CENTRE
    lon_a, lat_a, _ = GEOD.fwd(lon0, lat0, 60.0, 20000.0)
    lon_b, lat_b, _ = GEOD.fwd(lon_a, lat_a, azimuth, 1000.0)
    assert geodesic_m(lon_a, lat_a, lon_b, lat_b) == pytest.approx(1000.0, abs=1e-6)
    t = get_transformer(WGS84, src)
    xs, ys = t.transform([lon_a, lon_b], [lat_a, lat_b])
    data = gpd.GeoSeries([Point(xs[0], ys[0]), Point(xs[1], ys[1])], crs=src)
    data_bounds = _bounds_in(src, lon0, lat0, half_deg=0.3)
    chosen = metric_crs_for(src, data_bounds)
    metric, used = to_metric(data, target=chosen)
    assert used == chosen
    d = metric.iloc[0].distance(metric.iloc[1])
    assert d == pytest.approx(1000.0, abs=0.5)
    if src in (4326, 3857):  # the naive measurement would be badly wrong
        assert abs(data.iloc[0].distance(data.iloc[1]) - 1000.0) > 100


def test_to_metric_geodataframe_copy_and_crs_used():
    gdf = gpd.GeoDataFrame(
        {"name": ["a", "b"], "geometry": [Point(117.2, 39.1), Point(117.21, 39.1)]}, crs=4326
    )
    before = gdf.copy()
    out, used = to_metric(gdf)
    assert used.name == "CityFrame local TM 117.205000E 39.100000N (WGS 84)"
    assert out.crs == used
    assert list(out.columns) == ["name", "geometry"]
    assert out["name"].tolist() == ["a", "b"]
    assert out.index.equals(gdf.index)
    assert_geodataframe_equal(gdf, before)  # input untouched
    expected = geodesic_m(117.2, 39.1, 117.21, 39.1)
    assert out.geometry.iloc[0].distance(out.geometry.iloc[1]) == pytest.approx(expected, abs=0.01)


def test_to_metric_keeps_metric_data_and_copies():
    s = gpd.GeoSeries([Point(500000, 3400000)], crs=4547, name="pt")
    out, used = to_metric(s)
    assert used.to_epsg() == 4547
    assert out.name == "pt"
    assert out.iloc[0].equals(s.iloc[0])
    assert out.values is not s.values


def test_to_metric_with_target_and_errors():
    s = gpd.GeoSeries([Point(114.3, 30.6)], crs=4326)
    out, used = to_metric(s, target="EPSG:4547")
    assert used.to_epsg() == 4547
    x, y = transform_xy(114.3, 30.6, 4326, 4547)
    assert out.iloc[0].x == pytest.approx(x) and out.iloc[0].y == pytest.approx(y)
    with pytest.raises(CRSError, match="cannot measure in degrees"):
        to_metric(s, target=4326)
    with pytest.raises(CRSError, match="without a CRS"):
        to_metric(gpd.GeoSeries([Point(1, 2)]))
    with pytest.raises(TypeError, match="GeoDataFrame or GeoSeries, got list"):
        to_metric([Point(1, 2)])


def test_to_metric_empty_layer():
    empty = gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=4326)
    out, used = to_metric(empty)
    assert len(out) == 0
    assert C.is_metric_projected(used)


@pytest.mark.parametrize(
    ("crs", "what", "match"),
    [
        (4326, "buffer", r"cannot buffer in degrees: EPSG:4326 \(WGS 84\) is geographic"),
        (4490, "measure", r"cannot measure in degrees: EPSG:4490"),
        ("GCJ-02", "buffer", r"cannot buffer in degrees: GCJ-02 is geographic"),
        (3857, "buffer", r"cannot buffer in degrees or Web Mercator units: EPSG:3857"),
        (2263, "measure", r"cannot measure in US survey foot: EPSG:2263"),
        (None, "buffer", r"cannot buffer: the data has no CRS"),
    ],
)
def test_require_metric_raises_clearly(crs, what, match):
    with pytest.raises(CRSError, match=match):
        require_metric(crs, what)


def test_require_metric_message_suggests_fix():
    with pytest.raises(CRSError, match=r"reproject to a projected CRS in metres first"):
        require_metric(4326)
    assert require_metric("EPSG:4547").to_epsg() == 4547
    assert require_metric(local_tm(114, 30)).is_projected


def test_transformers_are_cached_and_always_xy():
    t1 = get_transformer(4326, 4547)
    assert get_transformer("EPSG:4326", pyproj.CRS.from_epsg(4547)) is t1
    x, y = t1.transform(114.0, 30.0)  # lon, lat order; on the central meridian
    assert x == pytest.approx(500000.0, abs=1e-6)
    assert 3.3e6 < y < 3.4e6


# ---------------------------------------------------------------------------
# GCJ-02 / BD-09 against published reference coordinates
# ---------------------------------------------------------------------------

# googollee/eviltransform, python/test.py (same values in go/transform_test.go,
# php/EvilTransformTest.php): (wgsLat, wgsLng, gcjLat, gcjLng).  Their test
# checks wgs2gcj to 6 decimals and the exact inverse to < 0.5 m; we check the
# forward to 1e-9 degrees and the exact inverse to < 0.01 m.
EVILTRANSFORM_WGS_GCJ = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # beijing
]


@pytest.mark.parametrize(("wlat", "wlng", "glat", "glng"), EVILTRANSFORM_WGS_GCJ)
def test_eviltransform_vectors(wlat, wlng, glat, glng):
    lon, lat = wgs84_to_gcj02(wlng, wlat)
    assert lon == pytest.approx(glng, abs=1e-9)
    assert lat == pytest.approx(glat, abs=1e-9)
    lon, lat = gcj02_to_wgs84(glng, glat)
    assert geodesic_m(lon, lat, wlng, wlat) < 0.01


# wandergis/coordtransform, README.md ("Example&Usage"), all four called on
# (116.404, 39.915); results given as [lng, lat].
WANDERGIS_IN = (116.404, 39.915)


def test_wandergis_forward_vectors():
    # wgs84togcj02 and gcj02tobd09 are the same closed forms: match to 1e-9 degrees.
    assert wgs84_to_gcj02(*WANDERGIS_IN) == pytest.approx(
        (116.41024449916938, 39.91640428150164), abs=1e-9
    )
    assert gcj02_to_bd09(*WANDERGIS_IN) == pytest.approx(
        (116.41036949371029, 39.92133699351021), abs=1e-9
    )


def test_wandergis_inverse_vectors():
    # wandergis's bd09togcj02 and gcj02towgs84 are one-step approximations; ours
    # are exact, so they agree only to the approximations' error: 1e-6 degrees
    # (about 0.1 m) here.  Ours must also be the better inverse.
    ref_bd = (116.39762729119315, 39.90865673957631)
    ref_gcj = (116.39775550083061, 39.91359571849836)
    got_bd = bd09_to_gcj02(*WANDERGIS_IN)
    got_gcj = gcj02_to_wgs84(*WANDERGIS_IN)
    assert got_bd == pytest.approx(ref_bd, abs=1e-6)
    assert got_gcj == pytest.approx(ref_gcj, abs=1e-6)
    for forward, got, ref in [(gcj02_to_bd09, got_bd, ref_bd), (wgs84_to_gcj02, got_gcj, ref_gcj)]:
        ours = geodesic_m(*forward(*got), *WANDERGIS_IN)
        theirs = geodesic_m(*forward(*ref), *WANDERGIS_IN)
        assert ours < 1e-5 < theirs


# hujiulong/gcoord, test/unit/crs/{WGS84,GCJ02,BD09}.spec.ts, all from [123, 45]
# ([lng, lat]); gcoord checks with toBeCloseTo(value, 5), i.e. |diff| < 5e-6
# degrees, and so do we (its inverses are approximate too).
GCOORD_VECTORS = [
    (wgs84_to_gcj02, (123.00607541, 45.00197815)),
    (wgs84_to_bd09, (123.0124491, 45.0083293)),
    (gcj02_to_wgs84, (122.99395597, 44.99804071)),
    (gcj02_to_bd09, (123.00636499, 45.00636899)),
    (bd09_to_gcj02, (122.99363304, 44.99365430)),
    (bd09_to_wgs84, (122.98762210, 44.99171540)),
]


@pytest.mark.parametrize(
    ("func", "expected"), GCOORD_VECTORS, ids=lambda v: getattr(v, "__name__", "")
)
def test_gcoord_vectors(func, expected):
    lon, lat = func(123.0, 45.0)
    assert lon == pytest.approx(expected[0], abs=5e-6)
    assert lat == pytest.approx(expected[1], abs=5e-6)


ALL_OFFSET_FUNCS = [wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02,
                    wgs84_to_bd09, bd09_to_wgs84]


@pytest.mark.parametrize("func", ALL_OFFSET_FUNCS, ids=lambda f: f.__name__)
def test_outside_china_passes_through(func):
    # gcoord's tests use [183, 45] as "not in China"; add Paris, Tokyo, Sydney, New York.
    assert func(183.0, 45.0) == (183.0, 45.0)
    lon = np.array([2.35, 139.69, 151.21, -74.0, 116.404])
    lat = np.array([48.86, 35.69, -33.87, 40.71, 39.915])
    out_lon, out_lat = func(lon, lat)
    np.testing.assert_array_equal(out_lon[:4], lon[:4])
    np.testing.assert_array_equal(out_lat[:4], lat[:4])
    assert out_lon[4] != lon[4] and out_lat[4] != lat[4]  # Beijing moves
    assert lon[4] == 116.404  # inputs untouched


@pytest.mark.parametrize("func", ALL_OFFSET_FUNCS, ids=lambda f: f.__name__)
def test_offsets_scalars_arrays_and_nan(func):
    lon, lat = func(116.404, 39.915)
    assert type(lon) is float and type(lat) is float
    grid_lon, grid_lat = np.meshgrid(np.linspace(100, 120, 4), np.linspace(20, 45, 3))
    out_lon, out_lat = func(grid_lon, grid_lat)
    assert out_lon.shape == grid_lon.shape == out_lat.shape
    single = func(float(grid_lon[1, 2]), float(grid_lat[1, 2]))
    assert single == pytest.approx((out_lon[1, 2], out_lat[1, 2]), abs=1e-12)
    n_lon, n_lat = func(np.array([np.nan, 116.4]), np.array([39.9, np.nan]))
    assert np.isnan(n_lon[0]) and np.isnan(n_lat[1])
    e_lon, e_lat = func(np.array([]), np.array([]))
    assert e_lon.shape == (0,) and e_lat.shape == (0,)


def test_in_china_box():
    assert C.in_china(116.4, 39.9) is True
    assert C.in_china(72.0, 30.0) is False  # just west of the box
    assert C.in_china([72.004, 137.8347], [0.8293, 55.8271]).tolist() == [True, True]


# ---------------------------------------------------------------------------
# Round trips (hypothesis) and exactness of the inverses
# ---------------------------------------------------------------------------

# China's extent (73.5–135.1°E, 3.8–53.6°N) inside the rough box CHINA_BOX.  Near
# the box's edges (open sea, neighbouring countries) a forward offset can leave
# the box, so its inverse passes the point through: those are not round trips.
china_lon = st.floats(73.0, 135.5, allow_nan=False)
china_lat = st.floats(3.0, 54.0, allow_nan=False)
EXACT_M = 0.01  # brief: exact inverse within 1 cm (actual error ~1e-6 m)


@settings(max_examples=150, deadline=None)
@given(china_lon, china_lat)
def test_roundtrip_wgs_gcj(lon, lat):
    assert roundtrip_error_m(lon, lat, wgs84_to_gcj02, gcj02_to_wgs84) < EXACT_M
    # and the other way: gcj -> wgs -> gcj
    assert roundtrip_error_m(lon, lat, gcj02_to_wgs84, wgs84_to_gcj02) < EXACT_M


@settings(max_examples=150, deadline=None)
@given(china_lon, china_lat)
def test_roundtrip_gcj_bd_and_wgs_bd(lon, lat):
    assert roundtrip_error_m(lon, lat, gcj02_to_bd09, bd09_to_gcj02) < EXACT_M
    assert roundtrip_error_m(lon, lat, wgs84_to_bd09, bd09_to_wgs84) < EXACT_M
    assert roundtrip_error_m(lon, lat, bd09_to_wgs84, wgs84_to_bd09) < EXACT_M


def test_exact_inverses_on_a_dense_grid():
    rng = np.random.default_rng(20240601)
    lon = rng.uniform(73.0, 135.5, 20000)
    lat = rng.uniform(3.0, 54.0, 20000)
    for forward, inverse in [(wgs84_to_gcj02, gcj02_to_wgs84), (gcj02_to_bd09, bd09_to_gcj02)]:
        back_lon, back_lat = forward(*inverse(lon, lat))
        assert np.max(np.abs(back_lon - lon)) < 1e-9
        assert np.max(np.abs(back_lat - lat)) < 1e-9
    err = roundtrip_error_m(lon, lat, wgs84_to_bd09, bd09_to_wgs84)
    assert err.shape == lon.shape and err.max() < 1e-3
    # The GCJ-02 offset itself is hundreds of metres.
    off = roundtrip_error_m(lon, lat, wgs84_to_gcj02, lambda x, y: (x, y))
    assert off.min() > 10 and off.max() < 1500


def test_roundtrip_error_of_one_step_inverse_is_metres():
    def one_step(lon, lat):  # the common approximation: subtract the offset at the GCJ point
        glon, glat = wgs84_to_gcj02(lon, lat)
        return 2 * np.asarray(lon) - glon, 2 * np.asarray(lat) - glat

    lon = np.linspace(100, 125, 50)
    lat = np.linspace(20, 45, 50)
    approx = roundtrip_error_m(lon, lat, wgs84_to_gcj02, one_step)
    exact = roundtrip_error_m(lon, lat, wgs84_to_gcj02, gcj02_to_wgs84)
    assert approx.max() > 0.5
    assert exact.max() < 1e-4
    assert roundtrip_error_m(114.3, 30.6, lambda x, y: (x, y), lambda x, y: (x, y)) == 0.0


# ---------------------------------------------------------------------------
# transform_xy and transform_geometries
# ---------------------------------------------------------------------------


def test_transform_xy_gcj_to_gauss_kruger_goes_via_wgs84():
    glon, glat = 114.31, 30.59
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    x, y = transform_xy(glon, glat, "GCJ-02", "EPSG:4547")
    ex, ey = get_transformer(4326, 4547).transform(wlon, wlat)
    assert (x, y) == pytest.approx((ex, ey), abs=1e-6)
    # and back
    back = transform_xy(x, y, 4547, "gcj02")
    assert back == pytest.approx((glon, glat), abs=1e-9)


def test_transform_xy_between_offsets_and_identity():
    assert transform_xy(116.404, 39.915, "GCJ-02", "BD-09") == gcj02_to_bd09(116.404, 39.915)
    assert transform_xy(116.404, 39.915, "BD-09", "GCJ-02") == bd09_to_gcj02(116.404, 39.915)
    assert transform_xy(116.404, 39.915, "BD-09", 4326) == bd09_to_wgs84(116.404, 39.915)
    assert transform_xy(116.404, 39.915, 4326, "BD-09") == wgs84_to_bd09(116.404, 39.915)
    assert transform_xy(1.0, 2.0, "GCJ-02", "GCJ-02") == (1.0, 2.0)
    assert transform_xy(1.0, 2.0, 4547, "EPSG:4547") == (1.0, 2.0)


def test_transform_xy_web_mercator_to_bd09_matches_gcoord_chain():
    # gcoord publishes WGS84 [123, 45] -> EPSG3857 (13692297.367572648, 5621521.486192066)
    # (hujiulong/gcoord test/unit/crs/WGS84.spec.ts); go back from there to BD-09.
    lon, lat = transform_xy(13692297.367572648, 5621521.486192066, 3857, "BD-09")
    assert (lon, lat) == pytest.approx((123.0124491, 45.0083293), abs=5e-6)


def test_transform_xy_arrays_and_errors():
    x, y = transform_xy([114.3, 114.31], [30.6, 30.6], "EPSG:4326", 4547)
    assert isinstance(x, np.ndarray) and x.shape == (2,)
    assert x[1] - x[0] == pytest.approx(geodesic_m(114.3, 30.6, 114.31, 30.6), rel=1e-3)
    with pytest.raises(CRSError, match="unknown CRS 'EPSG:0'"):
        transform_xy(1, 2, "EPSG:0", 4326)


def test_transform_geometries_all_types_and_pseudo_crs():
    shell = [(116.40, 39.90), (116.42, 39.90), (116.42, 39.92), (116.40, 39.92)]
    hole = [(116.405, 39.905), (116.41, 39.905), (116.41, 39.91)]
    geoms = np.array(
        [
            Point(116.404, 39.915),
            LineString([(116.40, 39.90), (116.41, 39.91)]),
            Polygon(shell, [hole]),
            MultiPolygon([Polygon(shell)]),
            Point(),
            None,
            Point(2.35, 48.86),  # outside China
        ],
        dtype=object,
    )
    before = shapely.to_wkb(geoms[:5])
    out = transform_geometries(geoms, "EPSG:4326", "GCJ-02")
    assert out.shape == geoms.shape
    assert out[5] is None and out[4].is_empty
    assert [shapely.get_type_id(g) for g in out[:4]] == [0, 1, 3, 6]
    coords = shapely.get_coordinates(out[:4])
    expected = np.column_stack(wgs84_to_gcj02(*shapely.get_coordinates(geoms[:4]).T))
    np.testing.assert_allclose(coords, expected, rtol=0, atol=1e-12)
    assert len(out[2].interiors) == 1
    assert out[6].equals(geoms[6])
    assert (shapely.to_wkb(geoms[:5]) == before).all()  # inputs untouched
    back = transform_geometries(out, "GCJ-02", 4326)
    np.testing.assert_allclose(
        shapely.get_coordinates(back[:4]), shapely.get_coordinates(geoms[:4]), atol=1e-9
    )


def test_transform_geometries_keeps_z_and_accepts_geoseries():
    s = gpd.GeoSeries([Point(114.3, 30.6, 25.0), Point(114.0, 30.0)], crs=4326)
    out = transform_geometries(s.values, 4326, 4547)
    assert out[0].has_z and out[0].z == 25.0
    assert not out[1].has_z
    assert out[1].x == pytest.approx(500000.0, abs=1e-6)
    out2 = transform_geometries(s, "BD-09", 4547)
    expected = transform_xy(114.3, 30.6, "BD-09", 4547)
    assert (out2[0].x, out2[0].y) == pytest.approx(expected, abs=1e-6)
    assert out2[0].z == 25.0


def test_module_is_qt_free_and_exports():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys, spatial.crs; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'layers', 'gui')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert all(hasattr(C, name) for name in C.__all__)
    assert math.isclose(C.CHINA_BOX[0], 72.004)


def test_to_metric_other_geometry_column_and_duplicate_index():
    gdf = gpd.GeoDataFrame(
        {"a": [1, 2, 3], "geom": [Point(117.2, 39.1), Point(117.3, 39.1), None]},
        geometry="geom", index=[5, 5, 7], crs=4326,
    )
    out, used = to_metric(gdf)
    assert out.geometry.name == "geom" and out.crs == used
    assert out.index.tolist() == [5, 5, 7]
    assert out.geometry.iloc[2] is None
    assert out.geometry.iloc[0].x == pytest.approx(-out.geometry.iloc[1].x)


@settings(max_examples=100, deadline=None)
@given(st.floats(112.6, 115.4), st.floats(22.0, 42.0))
def test_reprojection_roundtrip_via_gauss_kruger(lon, lat):
    # GCJ-02 -> CGCS2000 zone CM 114E -> GCJ-02 comes back within a millimetre.
    x, y = transform_xy(lon, lat, "GCJ-02", cgcs2000_gk_epsg(lon))
    back = transform_xy(x, y, cgcs2000_gk_epsg(lon), "GCJ-02")
    assert geodesic_m(lon, lat, *back) < 1e-3
