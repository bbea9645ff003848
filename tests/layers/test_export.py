import json

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from layers.export import ExportError, export_frame


@pytest.fixture()
def gdf():
    return gpd.GeoDataFrame({"school_id": ["S1", "S2"], "名称": ["一中", "二中"]},
                            geometry=[shapely.Point(500000, 3385000), shapely.Point(500100, 3385000)],
                            crs=4547)


def test_csv_has_wkt_and_chinese(gdf, tmp_path):
    out = export_frame(gdf, tmp_path / "r.csv")
    back = pd.read_csv(out)
    assert list(back.columns) == ["school_id", "名称", "geometry"]
    assert back["geometry"][0].startswith("POINT (500000")


def test_geojson_is_wgs84(gdf, tmp_path):
    out = export_frame(gdf, tmp_path / "r.geojson")
    doc = json.loads(out.read_text(encoding="utf-8"))
    lon, lat = doc["features"][0]["geometry"]["coordinates"]
    assert 113 < lon < 116 and 29 < lat < 32


def test_gpkg_layer_name_and_table(gdf, tmp_path):
    export_frame(gdf, tmp_path / "r.gpkg", layer="schools_near")
    assert pyogrio.list_layers(tmp_path / "r.gpkg")[0][0] == "schools_near"
    export_frame(pd.DataFrame({"community_id": ["C1"], "n": [3]}), tmp_path / "t.gpkg")
    assert len(pyogrio.read_dataframe(tmp_path / "t.gpkg")) == 1


def test_bad_target_names_file_and_leaves_nothing(gdf, tmp_path):
    with pytest.raises(ExportError, match=r"r\.xlsx.*unknown output format"):
        export_frame(gdf, tmp_path / "r.xlsx")
    with pytest.raises(ExportError, match="does not exist"):
        export_frame(gdf, tmp_path / "nope" / "r.csv")
    with pytest.raises(ExportError, match="cannot be GeoJSON"):
        export_frame(pd.DataFrame({"a": [1]}), tmp_path / "t.geojson")
    assert list(tmp_path.iterdir()) == []
