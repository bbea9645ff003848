"""Hazard footprints on constructed data whose shapes are known by hand."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import rasterio
import shapely
from affine import Affine

from spatial.crs import transform_xy, wgs84_to_gcj02
from spatial.drill.hazard import drill_crs, footprint, plume_polygon, raster_mask_polygons
from spatial.drill.scenario import Hazard, ScenarioError, parse_scenario
from spatial.errors import Canceled, CRSError
from spatial.feedback import Feedback

GK = pyproj.CRS.from_epsg(4547)  # CGCS2000 GK, central meridian 114E (x = 500000 there)
X0, Y0 = 500000.0, 3400000.0


def frames_at(x=X0, y=Y0, crs="EPSG:4547"):
    b = gpd.GeoDataFrame({"building_id": ["B1"]}, geometry=[shapely.box(x, y, x + 10, y + 10)],
                         crs=crs)
    return {"buildings": b}


def hz(**kw) -> Hazard:
    return parse_scenario({"version": 1, "hazard": kw}).hazard


def at(bearing_deg, dist, x=X0, y=Y0):
    b = math.radians(bearing_deg)
    return shapely.Point(x + dist * math.sin(b), y + dist * math.cos(b))


# --------------------------------------------------------------------------- crs

def test_drill_crs_projected_and_geographic():
    assert drill_crs(frames_at()) == GK
    lonlat = frames_at(117.2, 39.1, "EPSG:4326")
    lonlat["buildings"] = lonlat["buildings"].set_geometry([shapely.box(117.1, 39.0, 117.3, 39.2)])
    assert drill_crs(lonlat).name.startswith("CityFrame local TM 117.2")
    assert drill_crs({"roads": frames_at()["buildings"]}) == GK  # no buildings: another layer
    with pytest.raises(CRSError):
        drill_crs({})


# --------------------------------------------------------------------------- buffer

def test_point_rings_are_disjoint_annuli():
    fp = footprint(hz(kind="buffer", point=[X0, Y0], crs="EPSG:4547", rings_m=[500, 1000, 2000]),
                   frames_at(), metric_crs=GK)
    assert fp["band"].tolist() == ["0–500 m", "500–1000 m", "1000–2000 m"]
    assert fp["order"].tolist() == [0, 1, 2]
    expected = [math.pi * 500**2, math.pi * (1000**2 - 500**2), math.pi * (2000**2 - 1000**2)]
    assert np.allclose(fp.area, expected, rtol=1e-4)
    g = fp.geometry.values
    assert not shapely.intersection(g[0], g[1]).area > 1e-6
    assert fp.geometry.iloc[1].contains(at(30, 750))
    assert not fp.geometry.iloc[1].contains(at(30, 499))
    assert fp.crs == GK


def test_point_in_lonlat_is_buffered_in_metres():
    lon, lat = transform_xy(X0, Y0, GK, 4326)
    fp = footprint(hz(kind="buffer", point=[lon, lat], rings_m=[1000]), frames_at(), metric_crs=GK)
    c = fp.geometry.iloc[0].centroid
    assert abs(c.x - X0) < 0.01 and abs(c.y - Y0) < 0.01
    assert fp.area.iloc[0] == pytest.approx(math.pi * 1e6, rel=1e-4)  # never degrees


def test_gcj02_point_lands_on_the_true_position():
    # a WGS 84 point, given as Chinese web maps show it (GCJ-02, ~500 m off)
    lon, lat = transform_xy(X0 + 1234.5, Y0 - 678.9, GK, 4326)
    glon, glat = wgs84_to_gcj02(lon, lat)
    fp = footprint(hz(kind="buffer", point=[glon, glat], crs="GCJ-02", rings_m=[100]),
                   frames_at(), metric_crs=GK)
    c = fp.geometry.iloc[0].centroid
    assert math.hypot(c.x - (X0 + 1234.5), c.y - (Y0 - 678.9)) < 1.0
    # read as WGS 84 it would be hundreds of metres away
    wrong = footprint(hz(kind="buffer", point=[glon, glat], crs="EPSG:4326", rings_m=[100]),
                      frames_at(), metric_crs=GK).geometry.iloc[0].centroid
    assert math.hypot(wrong.x - c.x, wrong.y - c.y) > 100


def test_layer_buffer_with_where_filter():
    sites = gpd.GeoDataFrame(
        {"uscc": ["A", "B", "C"], "hazard_class": ["hazardous_chemicals", None, "hazardous_chemicals"]},
        geometry=[shapely.Point(X0, Y0), shapely.Point(X0 + 5000, Y0),
                  shapely.Point(X0 + 10000, Y0)], crs="EPSG:4547")
    frames = {**frames_at(), "legal_entities": sites}
    h = hz(kind="buffer", layer="legal_entities", rings_m=[200, 400],
           where=[{"column": "hazard_class", "op": "=", "value": "hazardous_chemicals"}])
    fp = footprint(h, frames, metric_crs=GK)
    inner = fp.geometry.iloc[0]
    assert inner.contains(shapely.Point(X0 + 100, Y0))
    assert inner.contains(shapely.Point(X0 + 10100, Y0))
    assert not fp.union_all().contains(shapely.Point(X0 + 5000, Y0))  # filtered out
    assert fp.area.iloc[0] == pytest.approx(2 * math.pi * 200**2, rel=1e-4)
    with pytest.raises(ScenarioError, match="no layer named 'hazard_sites'") as e:
        footprint(hz(kind="buffer", layer="hazard_sites", rings_m=[200]), frames, metric_crs=GK)
    assert e.value.key == "hazard.layer"
    with pytest.raises(ScenarioError, match="no column 'klass'") as e:
        footprint(hz(kind="buffer", layer="legal_entities", rings_m=[200],
                     where=[{"column": "klass", "op": "=", "value": "x"}]), frames, metric_crs=GK)
    assert e.value.key == "hazard.where[0].column"
    with pytest.raises(ScenarioError, match="match the filter"):
        footprint(hz(kind="buffer", layer="legal_entities", rings_m=[200],
                     where=[{"column": "uscc", "op": "=", "value": "Z"}]), frames, metric_crs=GK)


# --------------------------------------------------------------------------- plume

def plume(**kw):
    base = {"kind": "plume", "point": [X0, Y0], "crs": "EPSG:4547", "wind_from_deg": 45, "length_m": 3000,
                "spread_deg": 30}
    base.update(kw)
    return footprint(hz(**base), frames_at(), metric_crs=GK)


def test_plume_goes_downwind():
    fp = plume()
    g = fp.union_all()
    assert g.contains(at(225, 1000))  # wind from the north-east: south-west is hit
    assert not g.contains(at(45, 1000))  # not upwind
    assert g.contains(at(225 + 14, 2000))  # inside the 30° opening
    assert not g.contains(at(225 + 16, 2000))  # outside it
    assert not g.contains(at(225 - 16, 2000))
    assert g.contains(at(225, 2990)) and not g.contains(at(225, 3010))
    disc = math.pi * 30**2 * (330 / 360)  # the source disc outside the sector (30 m radius)
    assert g.area == pytest.approx(math.pi * 3000**2 * 30 / 360 + disc, rel=1e-4)


@pytest.mark.parametrize("wind,bearing", [(0, 180), (90, 270), (180, 0), (270, 90), (359, 179)])
def test_plume_axis_for_each_wind(wind, bearing):
    g = plume(wind_from_deg=wind).union_all()
    assert g.contains(at(bearing, 1500))
    assert not g.contains(at((bearing + 180) % 360, 1500))


def test_plume_rings_cut_by_distance():
    fp = plume(rings_m=[500, 1000])
    assert fp["band"].tolist() == ["0–500 m", "500–1000 m", "1000–3000 m"]
    sector = math.pi * 30 / 360
    disc = math.pi * 30**2 * (330 / 360)
    assert np.allclose(fp.area, [sector * 500**2 + disc, sector * (1000**2 - 500**2),
                                 sector * (3000**2 - 1000**2)], rtol=1e-3)
    assert fp.geometry.iloc[1].contains(at(225, 750))
    assert fp.geometry.iloc[2].contains(at(225, 2000))


def test_plume_axis_follows_true_north_off_the_central_meridian():
    # 1.4° east of the central meridian the GK grid is turned ~0.7° from true north
    lon, lat = 115.4, 30.6
    x, y = transform_xy(lon, lat, 4326, GK)
    fp = footprint(hz(kind="plume", point=[lon, lat], wind_from_deg=0, length_m=3000,
                      spread_deg=2), frames_at(x, y), metric_crs=GK)
    tip = fp.union_all().centroid
    tlon, _ = transform_xy(tip.x, tip.y, GK, 4326)
    assert abs(tlon - lon) < 1e-5  # due south in true bearing (within ~1 m)
    assert abs(tip.x - x) > 10  # while the grid's "south" would be > 10 m away


def test_gaussian_plume_is_a_teardrop():
    fp = plume(shape="gaussian", wind_from_deg=0)  # goes south
    g = fp.union_all()
    k = math.tan(math.radians(15))
    xm = 3000 * math.exp(-0.5)  # widest point
    wmax = 2 * k * xm * math.sqrt(math.log(3000 / xm))
    assert g.contains(shapely.Point(X0 + 0.98 * wmax, Y0 - xm))
    assert not g.contains(shapely.Point(X0 + 1.02 * wmax, Y0 - xm))
    assert not g.contains(shapely.Point(X0, Y0 - 3005))
    assert g.contains(shapely.Point(X0, Y0 - 2990))
    minx, miny, maxx, maxy = g.bounds
    assert maxy == pytest.approx(Y0 + 30) and miny == pytest.approx(Y0 - 3000)  # source disc
    assert (maxx - minx) / 2 == pytest.approx(wmax, rel=1e-3)
    assert g.is_valid


def test_plume_includes_its_source_site():
    g = plume().union_all()  # 3 km: a 30 m disc around the source
    assert g.contains(at(45, 25)) and not g.contains(at(45, 35))  # upwind of the source
    assert g.contains(at(225 + 80, 25))
    small = plume(length_m=200).union_all()  # at least 10 m
    assert small.contains(at(45, 9)) and not small.contains(at(45, 11))


def test_plume_polygon_is_valid_for_wide_and_narrow_spreads():
    for spread in (1, 30, 120, 179):
        for shape in ("sector", "gaussian"):
            p = plume_polygon(0, 0, 123, 1000, spread, shape)
            assert p.is_valid and p.area > 0


# --------------------------------------------------------------------------- zones

def zones_frame():
    # three overlapping squares: class 3 (deepest) inside class 2 inside class 1
    return gpd.GeoDataFrame(
        {"depth_class": [1, 2, 3, 2], "risk": ["low", "medium", "high", "medium"]},
        geometry=[shapely.box(X0, Y0, X0 + 300, Y0 + 300), shapely.box(X0, Y0, X0 + 200, Y0 + 200),
                  shapely.box(X0, Y0, X0 + 100, Y0 + 100),
                  shapely.box(X0 + 1000, Y0, X0 + 1100, Y0 + 100)], crs="EPSG:4547")


def test_zones_numeric_classes_most_severe_first():
    fp = footprint(hz(kind="zones", layer="flood_zones", class_column="depth_class"),
                   {**frames_at(), "flood_zones": zones_frame()}, metric_crs=GK)
    assert fp["band"].tolist() == ["3", "2", "1"]
    assert fp["order"].tolist() == [0, 1, 2]
    # dissolved per class, and cut by the more severe classes
    assert fp.area.tolist() == pytest.approx([100**2, 200**2 - 100**2 + 100**2, 300**2 - 200**2])


def test_zones_text_classes_by_list_or_sorted():
    frames = {**frames_at(), "flood_zones": zones_frame()}
    fp = footprint(hz(kind="zones", layer="flood_zones", class_column="risk",
                      classes=["high", "medium", "low"]), frames, metric_crs=GK)
    assert fp["band"].tolist() == ["high", "medium", "low"]
    fp = footprint(hz(kind="zones", layer="flood_zones", class_column="risk"), frames,
                   metric_crs=GK)
    assert fp["band"].tolist() == ["high", "low", "medium"]  # sorted
    fp = footprint(hz(kind="zones", layer="flood_zones", class_column="risk", classes=["medium"]),
                   frames, metric_crs=GK)
    # unlisted classes follow, sorted; "high" lies inside a "medium" zone, so nothing is left
    assert fp["band"].tolist() == ["medium", "low"]
    fp = footprint(hz(kind="zones", layer="flood_zones", class_column="risk", classes=["low"]),
                   frames, metric_crs=GK)
    assert fp["band"].tolist() == ["low", "medium"]  # "low" covers "high"
    fp = footprint(hz(kind="zones", layer="flood_zones", class_column="depth_class",
                      where=[{"column": "depth_class", "op": ">=", "value": 2}]), frames,
                   metric_crs=GK)
    assert fp["band"].tolist() == ["3", "2"]


def test_zones_errors_name_the_key():
    frames = {**frames_at(), "flood_zones": zones_frame()}
    with pytest.raises(ScenarioError, match="no column 'depth'") as e:
        footprint(hz(kind="zones", layer="flood_zones", class_column="depth"), frames,
                  metric_crs=GK)
    assert e.value.key == "hazard.class_column"
    with pytest.raises(ScenarioError) as e:
        footprint(hz(kind="zones", layer="flood_zones", class_column="depth_class",
                     classes=["3"]), frames, metric_crs=GK)
    assert e.value.key == "hazard.classes[0]"


# --------------------------------------------------------------------------- drawn

def test_drawn_polygon_in_lonlat():
    corners = [transform_xy(X0 + dx, Y0 + dy, GK, 4326)
               for dx, dy in ((0, 0), (400, 0), (400, 300), (0, 300), (0, 0))]
    geom = {"type": "Polygon", "coordinates": [[list(c) for c in corners]]}
    fp = footprint(hz(kind="drawn", geometry=geom), frames_at(), metric_crs=GK)
    assert fp["band"].tolist() == ["drawn area"]
    assert fp.area.iloc[0] == pytest.approx(400 * 300, rel=1e-6)
    fp = footprint(hz(kind="drawn", geometry=geom, rings_m=[100]), frames_at(), metric_crs=GK)
    assert fp["band"].tolist() == ["0–100 m"]
    assert fp.area.iloc[0] == pytest.approx(400 * 300 + 2 * 100 * 700 + math.pi * 100**2,
                                            rel=1e-4)


def test_drawn_line_with_rings():
    geom = {"type": "LineString", "coordinates": [[X0, Y0], [X0 + 1000, Y0]]}
    fp = footprint(hz(kind="drawn", geometry=geom, crs="EPSG:4547", rings_m=[50, 100]),
                   frames_at(), metric_crs=GK)
    assert fp.area.tolist() == pytest.approx([2 * 50 * 1000 + math.pi * 50**2,
                                              2 * 50 * 1000 + math.pi * (100**2 - 50**2)],
                                             rel=1e-4)


# --------------------------------------------------------------------------- raster

def write_tif(path, arr, x0=X0, y0=Y0 + 30, res=10.0, crs="EPSG:4547", nodata=-9999.0):
    arr = np.asarray(arr, dtype="float32")
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0],
                       count=1, dtype="float32", crs=crs, nodata=nodata,
                       transform=Affine(res, 0, x0, 0, -res, y0)) as dst:
        dst.write(np.asarray(arr, dtype="float32"), 1)
    return path


def test_raster_threshold_and_nodata(tmp_path):
    arr = [[0.29, 0.3, 5.0],
           [-9999.0, 1.2, 0.0],
           [np.nan, 2.5, 0.31]]
    write_tif(tmp_path / "f.tif", arr)
    fp = footprint(hz(kind="raster", path="f.tif", threshold=0.3), frames_at(),
                   metric_crs=GK, base_dir=tmp_path)
    assert fp["band"].tolist() == ["≥ 0.3 m"]
    assert fp.area.iloc[0] == pytest.approx(5 * 100)  # 0.3, 5.0, 1.2, 2.5, 0.31; not nodata/NaN
    g = fp.geometry.iloc[0]
    assert not g.contains(shapely.Point(X0 + 5, Y0 + 25))  # the 0.29 pixel
    assert not g.contains(shapely.Point(X0 + 5, Y0 + 15))  # nodata
    assert g.contains(shapely.Point(X0 + 15, Y0 + 25))

    fp = footprint(hz(kind="raster", path="f.tif", threshold=0.3, classes=[1, 2]), frames_at(),
                   metric_crs=GK, base_dir=tmp_path)
    assert fp["band"].tolist() == ["≥ 2 m", "1–2 m", "0.3–1 m"]
    assert fp.area.tolist() == pytest.approx([200, 100, 200])


def test_raster_read_in_strips_and_large_regions_split(tmp_path, monkeypatch):
    import spatial.drill.hazard as hazard_mod

    monkeypatch.setattr(hazard_mod, "RASTER_TILE", 3)
    monkeypatch.setattr(hazard_mod, "SPLIT_CELL", 4)
    monkeypatch.setattr(hazard_mod, "SPLIT_VERTICES", 8)
    arr = np.ones((7, 8))
    arr[3, 4] = 0
    arr[0, ::2] = 0  # a jagged edge: many vertices
    write_tif(tmp_path / "f.tif", arr, y0=Y0 + 70)
    fp = footprint(hz(kind="raster", path="f.tif", threshold=0.3), frames_at(), metric_crs=GK,
                   base_dir=tmp_path)
    g = fp.geometry.iloc[0]
    assert g.area == pytest.approx((56 - 1 - 4) * 100)
    assert g.geom_type == "Polygon" and len(g.interiors) == 1 and g.is_valid
    grid = hazard_mod._raster_grid(tmp_path / "f.tif", [0.3], GK)
    assert grid.cls.sum() == 51 and grid.cls.shape == (7, 8)
    parts, klass = grid.parts()
    assert len(parts) > 1 and (klass == 1).all()
    assert shapely.area(parts).sum() == pytest.approx(g.area)
    assert shapely.union_all(parts).symmetric_difference(g).area == pytest.approx(0, abs=1e-6)
    b = shapely.bounds(parts)
    assert (b[:, 2] - b[:, 0] <= 40 + 1e-9).all() and (b[:, 3] - b[:, 1] <= 40 + 1e-9).all()


def test_raster_in_lonlat_is_reprojected(tmp_path):
    lon, lat = transform_xy(X0, Y0, GK, 4326)
    write_tif(tmp_path / "f.tif", [[1.0, 1.0], [1.0, 0.0]], x0=lon, y0=lat, res=0.001,
              crs="EPSG:4326")
    m = raster_mask_polygons(tmp_path / "f.tif", 0.5, GK)
    assert m.crs == GK
    # 3 pixels of 0.001° (~96 m × 111 m at 30.7°N)
    assert 3 * 90 * 105 < m.area.sum() < 3 * 100 * 115


def test_raster_path_must_stay_inside(tmp_path):
    base = tmp_path / "ws"
    base.mkdir()
    write_tif(tmp_path / "outside.tif", [[1.0]])
    h = Hazard("raster", path="../outside.tif", threshold=0.3)
    with pytest.raises(ScenarioError, match="outside the workspace folder") as e:
        footprint(h, frames_at(), metric_crs=GK, base_dir=base)
    assert e.value.key == "hazard.path"
    with pytest.raises(ScenarioError, match="file not found"):
        footprint(Hazard("raster", path="missing.tif", threshold=0.3), frames_at(),
                  metric_crs=GK, base_dir=base)


def test_raster_without_crs_refused(tmp_path):
    with rasterio.open(tmp_path / "f.tif", "w", driver="GTiff", width=1, height=1, count=1,
                       dtype="float32", transform=Affine(10, 0, X0, 0, -10, Y0)) as dst:
        dst.write(np.ones((1, 1), dtype="float32"), 1)
    with pytest.raises(ScenarioError, match="no CRS"):
        footprint(Hazard("raster", path="f.tif", threshold=0.3), frames_at(), metric_crs=GK,
                  base_dir=tmp_path)


def test_raster_cancel(tmp_path):
    write_tif(tmp_path / "f.tif", [[1.0]])
    fb = Feedback()
    fb.cancel()
    with pytest.raises(Canceled):
        footprint(Hazard("raster", path="f.tif", threshold=0.3), frames_at(), metric_crs=GK,
                  base_dir=tmp_path, feedback=fb)
