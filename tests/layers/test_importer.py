"""Tests for layers.importer: every fixture is written into tmp_path at run time."""

from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from layers import importer
from layers.importer import ImportedData, read_file, sanitize_name
from spatial.errors import Canceled, CRSError, DataImportError
from spatial.feedback import Feedback

NAMES_ZH = ["武汉市洪山区", "北京", "珞喻路小学", "abc"]


def _points(n: int = 4, crs: str | None = "EPSG:4326", **columns) -> gpd.GeoDataFrame:
    data = {"name": NAMES_ZH[:n], "v": list(range(n))}
    data.update(columns)
    return gpd.GeoDataFrame(
        data, geometry=[shapely.Point(114.3 + i / 100, 30.6) for i in range(n)], crs=crs
    )


def _write_shp(folder, stem: str, gdf: gpd.GeoDataFrame, encoding: str = "UTF-8",
               drop=()) -> object:
    path = folder / f"{stem}.shp"
    pyogrio.write_dataframe(gdf, path, encoding=encoding)
    for ext in drop:
        (folder / f"{stem}{ext}").unlink(missing_ok=True)
    return path


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Schools 2024", "schools_2024"),
        ("危化企业-名录", "危化企业_名录"),
        ("Café Été", "cafe_ete"),
        ("2024", "layer_2024"),
        ("  --  ", "layer"),
        ("ＲＯＡＤＳ", "roads"),
    ],
)
def test_sanitize_name(raw, expected):
    assert sanitize_name(raw) == expected


# --------------------------------------------------------------------------- GeoPackage


@pytest.fixture
def gpkg(tmp_path):
    path = tmp_path / "city.gpkg"
    _points().to_file(path, layer="Schools 2024")
    roads = gpd.GeoDataFrame(
        {"road_id": [1, 2]},
        geometry=[shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(0, 0), (0, 50)])],
        crs="EPSG:4547",
    )
    roads.to_file(path, layer="roads", mode="a")
    pyogrio.write_dataframe(pd.DataFrame({"building_id": [1, 2], "residents": [3, 4]}), path,
                            layer="population")
    return path


def test_gpkg_all_layers(gpkg):
    items = read_file(gpkg)
    assert [i.name for i in items] == ["schools_2024", "roads", "population"]
    schools, roads, population = items
    assert schools.kind == "vector" and len(schools.data) == 4
    assert list(schools.data["name"]) == NAMES_ZH
    assert schools.crs.to_epsg() == 4326 and roads.crs.to_epsg() == 4547
    assert roads.data.crs.to_epsg() == 4547
    assert population.kind == "table" and population.crs is None
    assert not isinstance(population.data, gpd.GeoDataFrame)
    assert schools.source == f"{gpkg}|layername=Schools 2024"
    assert schools.source_layer == "Schools 2024" and schools.warnings == []


def test_gpkg_one_layer(gpkg):
    [item] = read_file(gpkg, layer="roads")
    assert item.name == "roads" and len(item.data) == 2


def test_gpkg_unknown_layer_lists_available(gpkg):
    with pytest.raises(DataImportError, match=r"city\.gpkg has no layer 'rivers'.*"
                                              r"Schools 2024, roads, population"):
        read_file(gpkg, layer="rivers")


def test_gpkg_empty_layer_refused_nothing_returned(tmp_path):
    path = tmp_path / "e.gpkg"
    _points().to_file(path, layer="full")
    _points().iloc[:0].to_file(path, layer="hollow", mode="a")
    with pytest.raises(DataImportError, match=r"e\.gpkg \(layer 'hollow'\) has no features"):
        read_file(path)


# --------------------------------------------------------------------------- Shapefile


def test_shapefile_with_cpg_utf8(tmp_path):
    path = _write_shp(tmp_path, "Schools", _points(), encoding="UTF-8")
    assert (tmp_path / "Schools.cpg").exists()
    [item] = read_file(path)
    assert item.name == "schools" and item.encoding == "UTF-8"
    assert list(item.data["name"]) == NAMES_ZH
    assert item.crs.to_epsg() == 4326
    assert item.warnings == []


def test_shapefile_gbk_without_cpg_is_detected(tmp_path):
    gdf = _points(**{"地址": ["洪山区珞喻路1号", "海淀区", "", "路"]})
    path = _write_shp(tmp_path, "学校", gdf, encoding="GBK", drop=[".cpg"])
    raw = (tmp_path / "学校.dbf").read_bytes()
    assert "武汉市".encode("gbk") in raw and not (tmp_path / "学校.cpg").exists()
    [item] = read_file(path)
    assert item.name == "学校"
    assert item.encoding == "GB18030"
    assert list(item.data["name"]) == NAMES_ZH
    assert "地址" in item.data.columns  # Chinese field names decoded too
    assert item.data["地址"].iloc[0] == "洪山区珞喻路1号"
    assert any("detected GB18030" in w for w in item.warnings)
    [given] = read_file(path, encoding="GBK")
    assert list(given.data["name"]) == NAMES_ZH and given.warnings == []


def test_shapefile_utf8_without_cpg_is_detected(tmp_path):
    path = _write_shp(tmp_path, "u", _points(), encoding="UTF-8", drop=[".cpg"])
    [item] = read_file(path)
    assert item.encoding == "UTF-8" and list(item.data["name"]) == NAMES_ZH


def test_shapefile_wrong_cpg_is_corrected(tmp_path):
    path = _write_shp(tmp_path, "w", _points(), encoding="GBK")
    (tmp_path / "w.cpg").write_text("UTF-8")
    [item] = read_file(path)
    assert list(item.data["name"]) == NAMES_ZH
    assert any("the .cpg says UTF-8" in w for w in item.warnings)


def test_shapefile_value_cut_mid_character(tmp_path):
    path = _write_shp(tmp_path, "cut", _points(), encoding="UTF-8", drop=[".cpg"])
    dbf = bytearray((tmp_path / "cut.dbf").read_bytes())
    header_len = int.from_bytes(dbf[8:10], "little")
    first = dbf.index("武汉市洪山区".encode(), header_len)
    dbf[first + 17] = 0x20  # chop the last byte of 区
    (tmp_path / "cut.dbf").write_bytes(bytes(dbf))
    [item] = read_file(path)
    assert item.data["name"].iloc[0] == "武汉市洪山"
    assert any("cut mid-character" in w for w in item.warnings)


def test_shapefile_without_prj_refused_then_accepted_with_crs(tmp_path):
    path = _write_shp(tmp_path, "noprj", _points(), drop=[".prj"])
    with pytest.raises(DataImportError, match=r"noprj\.shp has no \.prj; give the CRS with --crs"):
        read_file(path)
    [item] = read_file(path, crs="EPSG:4490")
    assert item.crs.to_epsg() == 4490 and item.data.crs.to_epsg() == 4490


def test_crs_overrides_declared_with_warning(tmp_path):
    path = _write_shp(tmp_path, "p", _points())
    [item] = read_file(path, crs=4490)
    assert item.crs.to_epsg() == 4490
    assert any("declares EPSG:4326" in w and "EPSG:4490" in w for w in item.warnings)


def test_bad_crs_argument(tmp_path):
    path = _write_shp(tmp_path, "p", _points())
    with pytest.raises(CRSError, match="unknown CRS"):
        read_file(path, crs="EPSG:999999")


@pytest.mark.parametrize("ext", [".dbf", ".shx"])
def test_shapefile_missing_sidecar(tmp_path, ext):
    path = _write_shp(tmp_path, "part", _points(), drop=[ext])
    pattern = rf"part\.shp: the shapefile's \{ext} file is missing"
    with pytest.raises(DataImportError, match=pattern):
        read_file(path)


def test_zipped_shapefile(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    _write_shp(folder, "shelters", _points(), encoding="GBK", drop=[".cpg"])
    archive = tmp_path / "shelters.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f"data/{f.name}")
    [item] = read_file(archive)
    assert item.name == "shelters" and item.source_layer == "shelters"
    assert list(item.data["name"]) == NAMES_ZH and item.encoding == "GB18030"
    with pytest.raises(DataImportError, match="has no layer 'x'; its layers are: shelters"):
        read_file(archive, layer="x")


# --------------------------------------------------------------------------- GeoJSON


def _feature(geometry, **props):
    return {"type": "Feature", "properties": props, "geometry": geometry}


def test_geojson_defaults_to_wgs84(tmp_path):
    path = tmp_path / "Hospitals.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _feature({"type": "Point", "coordinates": [114.3, 30.6]}, name="协和医院"),
        _feature({"type": "Point", "coordinates": [114.2, 30.5]}, name="同济医院"),
    ]}, ensure_ascii=False), encoding="utf-8")
    [item] = read_file(path)
    assert item.name == "hospitals" and item.crs.to_epsg() == 4326
    assert list(item.data["name"]) == ["协和医院", "同济医院"]


def test_geojson_crs_member_is_honoured(tmp_path):
    path = tmp_path / "zones.json"
    path.write_text(json.dumps({
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4547"}},
        "features": [_feature({"type": "Point", "coordinates": [500000.0, 3400000.0]}, id=1)],
    }), encoding="utf-8")
    [item] = read_file(path)
    assert item.crs.to_epsg() == 4547


def test_invalid_and_null_geometries_repaired_and_reported(tmp_path):
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    feats = [_feature(square, k=1), _feature(bowtie, k=2), _feature(None, k=3),
             _feature(square, k=4), _feature(bowtie, k=5)]
    path = tmp_path / "zones.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    [item] = read_file(path)
    assert "repaired 2 invalid geometries (rows 2, 5)" in item.warnings
    assert "1 feature has no geometry (rows 3)" in item.warnings
    geoms = item.data.geometry
    assert geoms.dropna().is_valid.all() and len(item.data) == 5
    assert geoms.iloc[1].area == pytest.approx(0.5)
    assert set(geoms.dropna().geom_type) <= {"Polygon", "MultiPolygon"}


def test_geojson_without_features(tmp_path):
    path = tmp_path / "none.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(DataImportError, match=r"none\.geojson has no features"):
        read_file(path)


# --------------------------------------------------------------------------- CSV


def test_csv_lon_lat(tmp_path):
    path = tmp_path / "Shelters.csv"
    path.write_text("shelter_id,Name,Lon,LAT,capacity,code\n"
                    "S1,Park,114.30,30.60,500,0101\nS2,School,114.31,30.61,,0102\n",
                    encoding="utf-8")
    [item] = read_file(path)
    assert item.name == "shelters" and item.crs.to_epsg() == 4326
    assert item.metadata["x"] == "Lon" and item.metadata["y"] == "LAT"
    gdf = item.data
    assert gdf.geometry.iloc[1].equals(shapely.Point(114.31, 30.61))
    assert gdf["capacity"].dtype.kind == "f" and np.isnan(gdf["capacity"].iloc[1])
    assert list(gdf["code"]) == ["0101", "0102"]  # leading zeros kept
    assert item.encoding == "UTF-8" and item.warnings == []


def test_csv_utf8_bom_and_semicolons(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("名称;lng;lat\n武汉;114.3;30.6\n".encode("utf-8-sig"))
    [item] = read_file(path)
    assert list(item.data.columns[:3]) == ["名称", "lng", "lat"]
    assert item.data["名称"].iloc[0] == "武汉"


def test_csv_chinese_headers_gb18030(tmp_path):
    path = tmp_path / "企业.csv"
    path.write_bytes("名称,经度,纬度\n武汉钢铁,114.45,30.62\n东湖高新,114.40,30.48\n"
                     .encode("gb18030"))
    [item] = read_file(path)
    assert item.name == "企业" and item.encoding == "GB18030"
    assert item.metadata["x"] == "经度" and item.metadata["y"] == "纬度"
    assert list(item.data["名称"]) == ["武汉钢铁", "东湖高新"]
    assert any("detected GB18030" in w for w in item.warnings)


def test_tab_separated_txt_with_xy_assumes_wgs84(tmp_path):
    path = tmp_path / "stops.txt"
    path.write_text("名称\tX\tY\n甲站\t114.3\t30.6\n", encoding="utf-8")
    [item] = read_file(path)
    assert item.metadata["delimiter"] == "\t" and item.crs.to_epsg() == 4326
    assert item.data["名称"].iloc[0] == "甲站"
    assert any("assumed EPSG:4326" in w for w in item.warnings)


def test_csv_swapped_by_range_refused(tmp_path):
    path = tmp_path / "swapped.csv"
    path.write_text("name,lat,lon\nA,114.3,30.6\nB,114.4,30.7\n")
    with pytest.raises(DataImportError, match=r"swapped\.csv: the columns 'lat' and 'lon' look "
                                              r"swapped.*--x lat --y lon"):
        read_file(path)
    [item] = read_file(path, x="lat", y="lon")  # explicit columns are trusted
    assert item.data.geometry.iloc[0].equals(shapely.Point(114.3, 30.6))


def test_csv_swapped_only_by_extent(tmp_path):
    # lon 40 / lat 45 and lon 45 / lat 40 are both valid coordinates.
    path = tmp_path / "near.csv"
    path.write_text("lon,lat\n45.1,40.1\n45.2,40.2\n45.0,39.9\n")
    extent = (39.5, 44.5, 40.5, 45.5)
    assert len(read_file(path)[0].data) == 3  # without an extent nothing looks wrong
    with pytest.raises(DataImportError, match=r"look swapped: 0 of 3 points lie inside the "
                                              r"workspace extent.*--x lat --y lon"):
        read_file(path, extent_lonlat=extent)
    [item] = read_file(path, x="lon", y="lat", extent_lonlat=extent)
    assert len(item.data) == 3


def test_csv_swapped_projected_by_extent(tmp_path):
    # Surveyors' "X" is the northing: a CGCS2000 3° zone (EPSG:4547, 114°E) pair swapped.
    path = tmp_path / "survey.csv"
    path.write_text("id,x,y\n1,3386000,530000\n2,3387000,531000\n")
    with pytest.raises(DataImportError, match="look swapped"):
        read_file(path, crs="EPSG:4547", extent_lonlat=(114.0, 30.0, 115.0, 31.0))


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        ("A,114.3,30.6\nB,114.3,abc\n",
         r"bad\.csv, row 2 \(line 3\), column 'lat': 'abc' is not a"),
        ("A,114.3,30.6\n\nB,,30.6\n", r"bad\.csv, row 2 \(line 4\), column 'lon': the coordinate "
                                      r"is empty"),
    ],
)
def test_csv_bad_coordinate_names_row_and_column(tmp_path, body, pattern):
    path = tmp_path / "bad.csv"
    path.write_text("name,lon,lat\n" + body)
    with pytest.raises(DataImportError, match=pattern):
        read_file(path)


def test_csv_bad_row_found_in_a_later_chunk(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "CSV_CHUNK_ROWS", 10)
    rows = [f"{i},114.3,30.6" for i in range(25)]
    rows[21] = "21,114.3,x"
    path = tmp_path / "big.csv"
    path.write_text("id,lon,lat\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataImportError, match=r"row 22 \(line 23\), column 'lat'"):
        read_file(path)


def test_csv_out_of_range_not_swappable(tmp_path):
    path = tmp_path / "far.csv"
    path.write_text("lon,lat\n500,30\n")
    with pytest.raises(DataImportError, match=r"row 1 \(line 2\), column 'lon': 500 is outside "
                                              r"\[-180, 180\]"):
        read_file(path)


def test_csv_projected_xy_needs_crs(tmp_path):
    path = tmp_path / "xy.csv"
    path.write_text("X,Y\n530000,3386000\n")
    with pytest.raises(DataImportError, match="give the CRS with --crs"):
        read_file(path)
    [item] = read_file(path, crs="EPSG:4547")
    assert item.crs.to_epsg() == 4547


def test_csv_without_coordinates_is_a_table(tmp_path):
    path = tmp_path / "population.csv"
    path.write_text("building_id,residents\n1,30\n2,12\n")
    [item] = read_file(path)
    assert item.kind == "table" and item.crs is None
    assert item.data["residents"].tolist() == [30, 12]
    assert any("without geometry" in w for w in item.warnings)


def test_csv_missing_explicit_column(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(DataImportError, match=r"p\.csv has no column 'east'; its columns are"):
        read_file(path, x="east", y="b")


def test_csv_header_only(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("lon,lat\n")
    with pytest.raises(DataImportError, match=r"h\.csv has no features"):
        read_file(path)


# --------------------------------------------------------------------------- GeoTIFF


def _write_tif(path, crs="EPSG:4547"):
    import rasterio
    from affine import Affine

    profile = {"driver": "GTiff", "width": 4, "height": 3, "count": 2, "dtype": "float32",
               "nodata": -9999.0, "transform": Affine(10, 0, 530000, 0, -10, 3387000)}
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(np.ones((2, 3, 4), dtype="float32"))
    return path


def test_geotiff_with_crs(tmp_path):
    path = _write_tif(tmp_path / "Flood Depth.tif")
    [item] = read_file(path)
    assert item.kind == "raster" and item.data is None
    assert item.name == "flood_depth" and item.raster_path == path.resolve()
    assert item.crs.to_epsg() == 4547
    assert item.metadata["count"] == 2 and item.metadata["dtypes"] == ["float32", "float32"]
    assert item.metadata["nodata"] == -9999.0 and item.warnings == []


def test_geotiff_without_crs(tmp_path):
    path = _write_tif(tmp_path / "nocrs.tiff", crs=None)
    with pytest.raises(DataImportError, match=r"nocrs\.tiff has no CRS; give the CRS with --crs"):
        read_file(path)
    [item] = read_file(path, crs="EPSG:4547")
    assert item.crs.to_epsg() == 4547


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize("name", ["broken.gpkg", "broken.shp", "broken.geojson", "broken.tif",
                                  "broken.zip"])
def test_corrupt_file_named(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"\x00\x01 this is not a real file \xff" * 10)
    if name.endswith(".shp"):
        for ext in (".shx", ".dbf", ".prj"):
            (tmp_path / f"broken{ext}").write_bytes(b"junk")
    with pytest.raises(DataImportError, match=rf"{name}"):
        read_file(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataImportError, match=r"nowhere\.gpkg: file not found"):
        read_file(tmp_path / "nowhere.gpkg")


def test_unsupported_extension(tmp_path):
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(DataImportError, match=r"sheet\.xlsx: unsupported file type '\.xlsx'"):
        read_file(path)


def test_nothing_half_imported(tmp_path):
    path = tmp_path / "mixed.gpkg"
    _points().to_file(path, layer="good")
    with pytest.warns(UserWarning, match="crs"):
        _points(crs=None).to_file(path, layer="nocrs", mode="a")
    with pytest.raises(DataImportError, match=r"\(layer 'nocrs'\) has no CRS"):
        read_file(path)


# --------------------------------------------------------------------------- progress, cancel


def test_progress_reaches_100(gpkg):
    seen: list[float] = []
    read_file(gpkg, feedback=Feedback(on_progress=seen.append))
    assert seen[-1] == 100 and seen == sorted(seen)


def test_csv_progress_per_chunk_and_cancel(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "CSV_CHUNK_ROWS", 50)
    path = tmp_path / "many.csv"
    path.write_text("id,lon,lat\n" + "".join(f"{i},114.3,30.6\n" for i in range(500)))
    seen: list[float] = []
    items = read_file(path, feedback=Feedback(on_progress=seen.append))
    assert len(items[0].data) == 500 and seen[-1] == 100 and len(seen) >= 10

    calls = []

    def cancel_midway(percent):
        calls.append(percent)
        if len(calls) == 4:
            fb.cancel()

    fb = Feedback(on_progress=cancel_midway)
    with pytest.raises(Canceled):
        read_file(path, feedback=fb)
    assert max(calls) < 100


def test_cancel_before_start(gpkg):
    fb = Feedback()
    fb.cancel()
    with pytest.raises(Canceled):
        read_file(gpkg, feedback=fb)


def test_result_is_plain_data(gpkg):
    items = read_file(gpkg, layer="roads")
    assert all(isinstance(i, ImportedData) for i in items)
    assert "roads" in repr(items[0]) and "EPSG:4547" in repr(items[0])
