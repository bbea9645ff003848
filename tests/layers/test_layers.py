"""Layers: evented properties, vector/table/raster specifics, dict round trips."""

from __future__ import annotations

import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine

from layers.base import default_metadata
from layers.metadata import LayerMetadata
from layers.raster import RasterLayer
from layers.style import CategorizedStyle, GraduatedStyle, RasterStyle, SingleStyle
from layers.table import TableLayer
from layers.vector import VectorLayer, geometry_type_of
from spatial.errors import WorkspaceError


@pytest.fixture
def schools():
    gdf = gpd.GeoDataFrame(
        {"name": ["一中", "二小"], "school_id": ["S1", "S2"], "pupils": [900, 450]},
        geometry=[shapely.Point(500_000, 3_400_000), shapely.Point(500_100, 3_400_200)],
        crs="EPSG:4547",
    )
    return VectorLayer("schools", gdf)


def make_raster(path, rows=60, cols=80, nodata=-9999.0, overviews=(2, 4)):
    data = np.linspace(0, 5, rows * cols, dtype="float32").reshape(rows, cols)
    data[:10, :10] = nodata
    profile = dict(driver="GTiff", width=cols, height=rows, count=1, dtype="float32",
                   crs="EPSG:4547", transform=Affine(10, 0, 500_000, 0, -10, 3_401_000),
                   nodata=nodata)
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data, 1)
        if overviews:
            ds.build_overviews(list(overviews))
    return data


# ------------------------------------------------------------------ evented properties
@pytest.mark.parametrize(
    "prop, value",
    [
        ("name", "schools_2024"),
        ("visible", False),
        ("opacity", 0.25),
        ("metadata", LayerMetadata(department="education", title_en="Schools 2024")),
        ("style", SingleStyle(fill="#ff0000")),
    ],
)
def test_each_property_emits_exactly_once_per_change(schools, prop, value):
    seen = []
    getattr(schools.events, prop).connect(lambda *args: seen.append(args))
    setattr(schools, prop, value)
    setattr(schools, prop, value if prop != "style" else schools.style)  # same value again
    assert len(seen) == 1
    got = getattr(schools, prop)
    if prop == "metadata":
        assert got.title_en == "Schools 2024" and got.crs == "EPSG:4547"  # crs filled in
    else:
        assert got == value


def test_all_event_and_no_event_for_unchanged_values(schools):
    seen = []
    schools.events.all.connect(lambda info: seen.append(info.signal.name))
    schools.visible = True
    schools.opacity = 1
    schools.name = "schools"
    assert seen == []
    schools.opacity = 0.5
    schools.visible = False
    assert seen == ["opacity", "visible"]


@pytest.mark.parametrize("bad", [-0.01, 1.01, 2, float("nan"), float("inf")])
def test_opacity_out_of_range_raises_value_error(schools, bad):
    with pytest.raises(ValueError, match="opacity must be between 0 and 1"):
        schools.opacity = bad
    assert schools.opacity == 1.0


@pytest.mark.parametrize("bad", ["0.5", None, True])
def test_opacity_wrong_type_raises_type_error(schools, bad):
    with pytest.raises(TypeError, match="opacity must be a number"):
        schools.opacity = bad


def test_opacity_bounds_and_numpy_values_accepted(schools):
    schools.opacity = 0
    schools.opacity = np.float32(1.0)
    assert schools.opacity == 1.0 and isinstance(schools.opacity, float)


def test_visible_and_name_validation(schools):
    with pytest.raises(TypeError, match="visible must be True or False"):
        schools.visible = "yes"
    schools.visible = np.bool_(False)
    assert schools.visible is False
    with pytest.raises(ValueError, match="reserved prefix"):
        schools.name = "gpkg_contents"
    with pytest.raises(ValueError, match="non-empty"):
        schools.name = " schools"
    with pytest.raises(TypeError, match="layer name must be text"):
        schools.name = 3
    with pytest.raises(TypeError, match="metadata must be a LayerMetadata"):
        schools.metadata = {"department": "education"}


def test_editing_the_style_in_place_emits_layer_style_once(schools):
    seen = []
    schools.events.style.connect(seen.append)
    schools.style.fill = "#00ff00"
    assert seen == [schools.style]
    old = schools.style
    schools.style = SingleStyle()
    seen.clear()
    old.fill = "#0000ff"  # the replaced style is no longer listened to
    assert seen == []


# ------------------------------------------------------------------ vector
def test_vector_layer_properties(schools):
    assert schools.crs.to_epsg() == 4547
    assert schools.geometry_type == "Point"
    assert schools.bounds == (500_000.0, 3_400_000.0, 500_100.0, 3_400_200.0)
    assert schools.feature_count == 2
    assert schools.key == "school_id"
    assert schools.columns == ["name", "school_id", "pupils"]
    assert schools.metadata.department == "education"
    assert schools.metadata.title_zh == "学校"
    assert schools.metadata.crs == "EPSG:4547"


def test_vector_layer_framework_key_and_default_style():
    gdf = gpd.GeoDataFrame(
        {"name": ["x"], "uscc": ["91350100M000100Y43"], "hazard_class": [""]},
        geometry=[shapely.Point(0, 0)], crs="EPSG:4326")
    layer = VectorLayer("legal_entities", gdf)
    assert layer.key == "uscc"
    assert layer.department == "framework"
    assert isinstance(layer.style, CategorizedStyle)
    layer.style = SingleStyle()
    layer.style = None  # back to the default
    assert isinstance(layer.style, CategorizedStyle)


def test_vector_data_replacement_emits_and_refreshes_caches(schools):
    seen = []
    schools.events.data.connect(lambda: seen.append(1))
    assert schools.bounds[0] == 500_000
    moved = schools.data.copy()
    moved.geometry = shapely.points([(1, 2), (3, 4)])
    schools.data = moved
    assert seen == [1]
    assert schools.bounds == (1.0, 2.0, 3.0, 4.0)
    with pytest.raises(TypeError, match="must be a GeoDataFrame"):
        schools.data = pd.DataFrame({"a": [1]})


@pytest.mark.parametrize(
    "geoms, expected",
    [
        ([shapely.box(0, 0, 1, 1)], "Polygon"),
        ([shapely.box(0, 0, 1, 1), shapely.MultiPolygon([shapely.box(2, 2, 3, 3)])],
         "MultiPolygon"),
        ([shapely.LineString([(0, 0), (1, 1)]), shapely.MultiLineString([[(0, 0), (1, 0)]])],
         "MultiLineString"),
        ([shapely.Point(0, 0), shapely.box(0, 0, 1, 1)], "Geometry"),
        ([None, None], None),
        ([], None),
    ],
)
def test_geometry_type_of(geoms, expected):
    assert geometry_type_of(gpd.GeoSeries(geoms).values) == expected


def test_empty_vector_layer_has_no_bounds():
    layer = VectorLayer("cameras", gpd.GeoDataFrame({"camera_id": []}, geometry=[],
                                                    crs="EPSG:4326"))
    assert layer.bounds is None and layer.feature_count == 0 and layer.key == "camera_id"
    assert layer.department == "other"


def test_vector_layer_rejects_bad_data_and_style():
    with pytest.raises(TypeError, match="data of layer 'x' must be a GeoDataFrame"):
        VectorLayer("x", pd.DataFrame({"a": [1]}))
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)])
    with pytest.raises(TypeError, match="vector layer's style must be"):
        VectorLayer("x", gdf, style=RasterStyle())


def test_vector_dict_round_trip(schools):
    schools.opacity = 0.4
    schools.visible = False
    schools.style = GraduatedStyle.from_data(schools.data["pupils"], k=2)
    d = schools.to_dict()
    again = VectorLayer.from_dict(d, schools.data)
    assert again.to_dict() == d
    assert again.style == schools.style and again.metadata == schools.metadata
    assert d["kind"] == "vector" and "data" not in d


# ------------------------------------------------------------------ table
def test_table_layer():
    pop = pd.DataFrame({"building_id": ["B1", "B2"], "residents": [3, 5]})
    t = TableLayer("population", pop)
    assert t.key == "building_id" and t.feature_count == 2 and t.style is None
    assert t.crs is None and t.bounds is None
    assert t.metadata.classification == "restricted"
    with pytest.raises(TypeError, match="takes no style"):
        t.style = SingleStyle()
    with pytest.raises(TypeError, match="has geometry; use a VectorLayer"):
        TableLayer("population", gpd.GeoDataFrame(pop, geometry=[None, None]))
    again = TableLayer.from_dict(t.to_dict(), pop)
    assert again.to_dict() == t.to_dict()
    seen = []
    t.events.data.connect(lambda: seen.append(1))
    t.data = pop.head(1)
    assert seen == [1] and t.feature_count == 1


# ------------------------------------------------------------------ raster
def test_raster_layer_is_lazy_and_reads_masked(tmp_path):
    path = tmp_path / "flood_depth.tif"
    data = make_raster(path)
    layer = RasterLayer("flood_depth", path)
    assert layer._ds is None  # nothing opened yet
    assert isinstance(layer.style, RasterStyle) and layer.style.ramp == "blues"
    assert layer.shape == (60, 80)
    assert layer.crs.to_epsg() == 4547
    assert layer.bounds == (500_000.0, 3_400_400.0, 500_800.0, 3_401_000.0)
    assert layer.transform.a == 10
    assert layer.nodata == -9999.0
    assert layer.overviews == [2, 4]
    full = layer.read()
    assert isinstance(full, np.ma.MaskedArray) and full.shape == (60, 80)
    assert full.mask[:10, :10].all() and not full.mask[10:, 10:].any()
    np.testing.assert_allclose(full[20:, 20:], data[20:, 20:])
    small = layer.read(out_shape=(15, 20))
    assert small.shape == (15, 20)
    part = layer.read(window=((10, 20), (30, 50)))
    np.testing.assert_allclose(part, data[10:20, 30:50])
    by_bounds = layer.read(bounds=(500_300, 3_400_800, 500_500, 3_400_900))
    np.testing.assert_allclose(by_bounds, data[10:20, 30:50])


def test_raster_stats_exact_and_approximate(tmp_path):
    path = tmp_path / "depth.tif"
    data = make_raster(path)
    layer = RasterLayer("depth", path)
    valid = data[data != -9999.0]
    stats = layer.stats()
    assert stats["approximate"] is False
    assert stats["count"] == valid.size and stats["nodata_count"] == 100
    assert stats["min"] == pytest.approx(valid.min())
    assert stats["max"] == pytest.approx(5.0)
    assert stats["mean"] == pytest.approx(valid.mean(), rel=1e-6)
    import layers.raster as raster_mod

    old = raster_mod._APPROX_PIXELS
    raster_mod._APPROX_PIXELS = 1000
    try:
        approx = layer.stats(approx=True)
    finally:
        raster_mod._APPROX_PIXELS = old
    assert approx["approximate"] is True and approx["count"] < stats["count"]
    assert approx["mean"] == pytest.approx(stats["mean"], rel=0.1)


def test_missing_raster(tmp_path):
    layer = RasterLayer("flood_depth", tmp_path / "gone.tif")
    assert layer.missing
    assert layer.crs is None and layer.bounds is None and layer.shape is None
    with pytest.raises(WorkspaceError, match=r"raster file of layer 'flood_depth' not found: .*gone\.tif"):
        layer.read()


def test_raster_not_a_raster(tmp_path):
    path = tmp_path / "notes.tif"
    path.write_text("not a raster")
    with pytest.raises(WorkspaceError, match=r"cannot read raster file .*notes\.tif"):
        RasterLayer("notes", path).read()


def test_raster_dict_round_trip_and_path_change(tmp_path):
    make_raster(tmp_path / "a.tif")
    make_raster(tmp_path / "b.tif", rows=30, cols=30, overviews=())
    layer = RasterLayer("depth", tmp_path / "a.tif", style=RasterStyle("reds", 0, 2),
                        opacity=0.7)
    again = RasterLayer.from_dict(layer.to_dict())
    assert again.to_dict() == layer.to_dict()
    rel = {**layer.to_dict(), "path": "a.tif"}
    assert RasterLayer.from_dict(rel, base_dir=tmp_path).path == tmp_path / "a.tif"
    seen = []
    layer.events.data.connect(lambda: seen.append(1))
    assert layer.shape == (60, 80)
    layer.path = tmp_path / "b.tif"
    assert seen == [1] and layer.shape == (30, 30)
    layer.close()


def test_default_metadata():
    assert default_metadata("buildings").department == "framework"
    assert default_metadata("flood_zones").department == "water"
    m = default_metadata("parks_2024")
    assert m.department == "other" and m.title_en == "Parks 2024"
    assert m.updated == datetime.date.today().isoformat()


@pytest.mark.parametrize("module", ["layers.base", "layers.style", "layers.vector",
                                    "layers.table", "layers.raster", "layers.registry",
                                    "layers.workspace"])
def test_docstring_examples_run(module, tmp_path, monkeypatch):
    import doctest
    import importlib

    monkeypatch.chdir(tmp_path)
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
