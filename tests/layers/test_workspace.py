"""Workspace: GeoPackage round trip, file validity, atomic saves, plain GeoPackages, errors."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from affine import Affine
from geopandas.testing import assert_geodataframe_equal

import layers.workspace as wsmod
from layers import (
    CategorizedStyle,
    GraduatedStyle,
    LayerMetadata,
    RasterLayer,
    RasterStyle,
    SingleStyle,
    TableLayer,
    VectorLayer,
    Workspace,
    WorkspaceReadOnlyError,
)
from spatial.errors import Canceled, WorkspaceError
from spatial.feedback import Feedback

X0, Y0 = 500_000.0, 3_400_000.0  # EPSG:4547 (CGCS2000 / 3-degree GK CM 114E)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def temp_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if ".tmp" in p.name or p.name.endswith("-journal"))


def buildings_frame() -> gpd.GeoDataFrame:
    geoms = [
        shapely.box(X0, Y0, X0 + 20, Y0 + 30),
        shapely.MultiPolygon([shapely.box(X0 + 50, Y0, X0 + 60, Y0 + 10),
                              shapely.box(X0 + 70, Y0, X0 + 80, Y0 + 10)]),
        shapely.box(X0 + 100, Y0 + 100, X0 + 140, Y0 + 130),
        None,
    ]
    return gpd.GeoDataFrame(
        {
            "building_id": ["B1", "B2", "B3", "B4"],
            "use": ["residential", "commercial", "industrial", None],
            "floors": pd.array([6, 2, None, 1], dtype="Int64"),
            "height_m": [18.5, 7.0, np.nan, 3.0],
            "year_built": np.array([1998, 2005, 2011, 1980], dtype="int32"),
            "address": ["人民路1号", "Main St 2", "工业园3", ""],
            "community_id": ["C1", "C1", "C2", "C2"],
            "listed": [False, True, False, False],
            "surveyed": pd.to_datetime(["2024-01-02 00:00:00", None, "2023-05-06 07:08:09",
                                        "2020-01-01 00:00:00"]),
        },
        geometry=geoms,
        crs="EPSG:4547",
    )


def make_raster(path: Path) -> None:
    data = np.arange(40 * 50, dtype="float32").reshape(40, 50) / 100
    with rasterio.open(path, "w", driver="GTiff", width=50, height=40, count=1, dtype="float32",
                       crs="EPSG:4547", transform=Affine(5, 0, X0, 0, -5, Y0 + 200),
                       nodata=-1.0) as ds:
        ds.write(data, 1)


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    ws = Workspace()
    buildings = VectorLayer(
        "buildings", buildings_frame(),
        LayerMetadata(department="framework", title_en="Buildings", title_zh="建筑",
                      classification="internal", source="城市测绘院", updated="2024-06-01",
                      extra={"licence": "internal use"}),
    )
    ws.add_layer(buildings)
    ws.add_layer(TableLayer("population", pd.DataFrame({
        "building_id": ["B1", "B2", "B3"],
        "residents": [40, 0, 12],
        "age_0_14": [5, 0, 2], "age_15_64": [30, 0, 8], "age_65_plus": [5, 0, 2],
    })), index=1)
    ents = gpd.GeoDataFrame(
        {"uscc": ["91350100M000100Y43", "91110000600037341L"], "name": ["甲化工", "乙商贸"],
         "hazard_class": ["hazardous_chemicals", ""], "employees": [120, 8]},
        geometry=shapely.points([(X0 + 10, Y0 + 10), (X0 + 110, Y0 + 110)]), crs="EPSG:4547",
        index=pd.Index([10, 20], name="entity_no"),
    )
    ws.add_layer(VectorLayer("legal_entities", ents))
    roads = gpd.GeoDataFrame(
        {"road_id": ["R1"], "name": ["人民路"], "class": ["primary"]},
        geometry=[shapely.LineString([(X0, Y0), (X0 + 200, Y0 + 200)])], crs="EPSG:4547",
    )
    ws.add_layer(VectorLayer("roads", roads, style=SingleStyle(stroke="#ff8800",
                                                               stroke_width=3)))
    ws.layer("roads").opacity = 0.6
    ws.layer("population").visible = False
    (tmp_path / "rasters").mkdir()
    make_raster(tmp_path / "rasters" / "flood_depth.tif")
    ws.add_layer(RasterLayer("flood_depth", tmp_path / "rasters" / "flood_depth.tif",
                             style=RasterStyle("blues", 0, 3)), index=0)
    ws.layer("buildings").style = GraduatedStyle.from_data(buildings.data["height_m"], k=3)
    ws.saved_queries["near"] = {
        "version": 1, "title": {"en": "Schools near hazards", "zh": "危化企业周边学校"},
        "target": "buildings", "where": [{"column": "use", "op": "=", "value": "residential"}],
    }
    ws.scenarios["leak"] = {"version": 1, "hazard": {"kind": "plume", "point": [117.2, 39.13],
                                                     "wind_from_deg": 45}}
    ws.log("query", {"name": "near", "rows": np.int64(3)})
    return ws


@pytest.fixture
def saved(workspace, tmp_path) -> Path:
    path = tmp_path / "city.gpkg"
    workspace.save_as(path)
    return path


# ------------------------------------------------------------------ round trip
def test_round_trip_preserves_everything(workspace, saved):
    ws = Workspace.open(saved)
    assert ws.path == saved and not ws.dirty and ws.warnings == []
    assert ws.registry.names() == workspace.registry.names() == [
        "flood_depth", "roads", "legal_entities", "buildings", "population"]
    for name in ("buildings", "legal_entities", "roads"):
        assert_geodataframe_equal(ws.layer(name).data, workspace.layer(name).data)
    pd.testing.assert_frame_equal(ws.layer("population").data,
                                  workspace.layer("population").data)
    for old in workspace.registry:
        new = ws.layer(old.name)
        assert type(new) is type(old)
        assert new.to_dict() == old.to_dict()
    assert ws.layer("buildings").metadata.extra == {"licence": "internal use"}
    assert ws.layer("buildings").data["address"].iloc[0] == "人民路1号"
    assert ws.saved_queries == workspace.saved_queries
    assert ws.saved_queries["near"]["title"]["zh"] == "危化企业周边学校"
    assert ws.scenarios == workspace.scenarios
    assert ws.audit_log() == workspace.audit_log()
    entry = ws.audit_log()[0]
    assert entry["action"] == "query" and entry["detail"] == {"name": "near", "rows": 3}
    assert entry["timestamp"].endswith("+00:00") and entry["user"]
    raster = ws.layer("flood_depth")
    assert raster.path == saved.parent / "rasters" / "flood_depth.tif"
    assert raster.read().shape == (40, 50)


def test_raster_is_stored_by_relative_path(saved):
    with sqlite3.connect(saved) as con:
        rows = dict(con.execute("SELECT name, raster_path FROM cityframe_layers"))
    assert rows["flood_depth"] == "rasters/flood_depth.tif"
    assert rows["buildings"] is None


def test_saved_file_is_a_valid_geopackage(saved):
    with sqlite3.connect(saved) as con:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        contents = {r[0]: r[1:] for r in con.execute(
            "SELECT table_name, data_type, srs_id FROM gpkg_contents")}
        geometry = dict(con.execute(
            "SELECT table_name, geometry_type_name FROM gpkg_geometry_columns"))
        rtrees = {r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE name LIKE 'rtree_%' AND type='table'")}
    for name in ("buildings", "legal_entities", "roads"):
        assert contents[name] == ("features", 4547)
        assert f"rtree_{name}_geom" in rtrees
    # buildings mixes Polygon and MultiPolygon: declared GEOMETRY, each feature kept as is
    assert geometry == {"buildings": "GEOMETRY", "legal_entities": "POINT",
                        "roads": "LINESTRING"}
    for name in ("population", "cityframe_layers", "cityframe_queries", "cityframe_scenarios",
                 "cityframe_audit", "cityframe_workspace"):
        assert contents[name][0] == "attributes"
    listed = dict(pyogrio.list_layers(saved))
    assert {"buildings", "legal_entities", "roads", "population", "cityframe_layers"} <= set(listed)
    assert listed["buildings"] == "Unknown" and listed["population"] is None
    info = pyogrio.read_info(saved, layer="buildings")
    assert info["crs"] == "EPSG:4547" and info["features"] == 4


def test_frames_and_extent(workspace):
    frames = workspace.frames()
    assert set(frames) == {"buildings", "population", "legal_entities", "roads"}
    assert frames["buildings"] is workspace.layer("buildings").data
    lon0, lat0, lon1, lat1 = workspace.extent_lonlat()
    assert 113.9 < lon0 < lon1 < 114.1 and 30.6 < lat0 < lat1 < 30.8
    assert Workspace().extent_lonlat() is None


def test_dirty_tracking(workspace, saved):
    assert not workspace.dirty
    flips = []
    workspace.events.dirty.connect(flips.append)
    workspace.layer("roads").style.stroke_width = 1
    assert workspace.dirty
    workspace.save()
    assert not workspace.dirty
    workspace.saved_queries["other"] = {"version": 1, "target": "roads"}
    assert workspace.dirty
    workspace.save()
    workspace.log("export", {"file": "out.csv"})  # the audit log alone is not "unsaved"
    assert not workspace.dirty
    workspace.registry.move("roads", 0)
    assert workspace.dirty
    assert flips == [True, False, True, False, True]


def test_log_is_written_through_without_a_full_save(workspace, saved):
    before = Workspace.open(saved)
    workspace.layer("roads").opacity = 0.1  # unsaved change
    workspace.log("export", {"file": Path("out.csv")})
    after = Workspace.open(saved)
    assert [e["action"] for e in after.audit_log()] == ["query", "export"]
    assert after.audit_log()[1]["detail"] == {"file": "out.csv"}
    assert after.layer("roads").opacity == before.layer("roads").opacity == 0.6
    assert not temp_files(saved.parent)
    with pytest.raises(TypeError, match="not JSON-serialisable"):
        workspace.log("export", {"x": object()})


def test_save_keeps_audit_entries_another_process_appended(workspace, saved):
    gui = Workspace.open(saved)
    cli = Workspace.open(saved)
    cli.log("query", {"name": "from the command line"})  # written through to the file
    gui.layer("roads").opacity = 0.3
    gui.save()
    actions = [e["detail"].get("name") for e in Workspace.open(saved).audit_log()]
    assert actions == ["near", "from the command line"]
    assert len(gui.audit_log()) == 2


def test_documents_must_be_json(workspace):
    with pytest.raises(TypeError, match="saved query 'bad' must be a dict"):
        workspace.saved_queries["bad"] = [1, 2]
    with pytest.raises(TypeError, match="scenario 'bad' is not JSON-serialisable"):
        workspace.scenarios["bad"] = {"when": object()}
    del workspace.saved_queries["near"]
    assert "near" not in workspace.saved_queries


def test_save_as_another_folder_copies_rasters(workspace, saved, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    original = saved.parent / "rasters" / "flood_depth.tif"
    digest = sha256(original)
    workspace.save_as(other / "copy.gpkg")
    copied = other / "rasters" / "flood_depth.tif"
    assert copied.is_file() and sha256(copied) == digest
    assert workspace.layer("flood_depth").path == copied
    assert workspace.path == other / "copy.gpkg"
    assert Workspace.open(other / "copy.gpkg").layer("flood_depth").read().shape == (40, 50)
    assert sha256(original) == digest


def test_raster_from_outside_is_copied_next_to_the_workspace(tmp_path):
    outside = tmp_path / "downloads"
    outside.mkdir()
    make_raster(outside / "depth.tif")
    folder = tmp_path / "ws"
    folder.mkdir()
    ws = Workspace()
    ws.add_layer(RasterLayer("depth", outside / "depth.tif"))
    ws.save_as(folder / "w.gpkg")
    assert (folder / "depth.tif").is_file()
    with sqlite3.connect(folder / "w.gpkg") as con:
        assert con.execute("SELECT raster_path FROM cityframe_layers").fetchone()[0] == \
            "depth.tif"


def test_empty_workspace_and_empty_layer_round_trip(tmp_path):
    ws = Workspace()
    ws.save_as(tmp_path / "empty.gpkg")
    assert Workspace.open(tmp_path / "empty.gpkg").registry.names() == []
    empty = gpd.GeoDataFrame({"camera_id": pd.Series([], dtype="str")},
                             geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    ws.add_layer(VectorLayer("cameras", empty, LayerMetadata(department="police")))
    ws.save()
    again = Workspace.open(tmp_path / "empty.gpkg")
    assert_geodataframe_equal(again.layer("cameras").data, empty)
    assert again.layer("cameras").department == "police"


def test_awkward_column_names_round_trip(tmp_path):
    gdf = gpd.GeoDataFrame({"fid": [7, 9], "geom": ["a", "b"], "FID_2": [1.5, 2.5]},
                           geometry=shapely.points([(1, 2), (3, 4)]), crs="EPSG:4326")
    gdf = gdf.rename_geometry("shape")
    ws = Workspace()
    ws.add_layer(VectorLayer("odd", gdf))
    ws.save_as(tmp_path / "odd.gpkg")
    assert_geodataframe_equal(Workspace.open(tmp_path / "odd.gpkg").layer("odd").data, gdf)


# ------------------------------------------------------------------ atomic saves
@pytest.fixture
def changed(workspace, saved):
    """The saved workspace with an unsaved change, and the file's digest."""
    workspace.layer("buildings").data = workspace.layer("buildings").data.iloc[:2]
    return workspace, saved, sha256(saved)


def test_interrupted_save_leaves_old_file_identical(changed, monkeypatch):
    ws, path, digest = changed
    real = wsmod._write_layer
    calls = []

    def flaky(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(wsmod, "_write_layer", flaky)
    with pytest.raises(WorkspaceError, match=r"could not save layer .* to .*city\.gpkg: disk full"):
        ws.save()
    assert len(calls) == 2
    assert sha256(path) == digest
    assert temp_files(path.parent) == []
    assert ws.dirty and ws.path == path
    assert Workspace.open(path).layer("buildings").feature_count == 4


@pytest.mark.parametrize("stage", ["_write_cityframe_tables", "_verify", "_fsync", "replace"])
def test_failure_at_any_stage_leaves_old_file_identical(changed, monkeypatch, stage):
    ws, path, digest = changed

    def boom(*args, **kwargs):
        raise OSError(f"failure in {stage}")

    if stage == "_write_cityframe_tables":
        monkeypatch.setattr(Workspace, stage, boom)
    elif stage == "replace":
        monkeypatch.setattr(wsmod.os, "replace", boom)
    else:
        monkeypatch.setattr(wsmod, stage, boom)
    with pytest.raises(WorkspaceError, match=rf"could not save workspace .*city\.gpkg: failure"):
        ws.save()
    assert sha256(path) == digest
    assert temp_files(path.parent) == []


def test_failed_save_as_removes_copied_rasters(workspace, saved, tmp_path, monkeypatch):
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setattr(wsmod, "_verify", lambda *a: (_ for _ in ()).throw(OSError("bad")))
    with pytest.raises(WorkspaceError, match="could not save workspace"):
        workspace.save_as(other / "copy.gpkg")
    assert list(other.rglob("*.*")) == []
    assert workspace.path == saved


def test_canceled_save_leaves_old_file_identical(changed):
    ws, path, digest = changed
    fb = Feedback(on_progress=lambda p: fb.cancel() if p > 0 else None)
    with pytest.raises(Canceled):
        ws.save(feedback=fb)
    assert sha256(path) == digest
    assert temp_files(path.parent) == []


def test_verification_checks_row_counts(workspace, tmp_path, monkeypatch):
    real = wsmod._write_layer

    def lossy(path, name, frame, **kw):
        return real(path, name, frame.iloc[:1] if name == "buildings" else frame, **kw)

    monkeypatch.setattr(wsmod, "_write_layer", lossy)
    with pytest.raises(WorkspaceError, match="'buildings' was written with 1 of 4 rows"):
        workspace.save_as(tmp_path / "lossy.gpkg")
    assert not (tmp_path / "lossy.gpkg").exists()


# ------------------------------------------------------------------ read-only
def test_read_only_workspace_refuses_save_but_allows_save_as(saved, tmp_path):
    digest = sha256(saved)
    ws = Workspace.open(saved, read_only=True)
    assert ws.read_only
    ws.log("query", {"name": "near"})  # kept in memory, not written to a read-only file
    with pytest.raises(WorkspaceReadOnlyError, match=r"city\.gpkg is read-only.*save_as"):
        ws.save()
    assert sha256(saved) == digest
    ws.save_as(tmp_path / "mine.gpkg")
    assert not ws.read_only
    assert len(Workspace.open(tmp_path / "mine.gpkg").audit_log()) == 2


def test_unwritable_location_raises_read_only_error(saved, monkeypatch):
    ws = Workspace.open(saved)
    monkeypatch.setattr(wsmod.os, "access", lambda *a, **k: False)
    assert ws.read_only
    with pytest.raises(WorkspaceReadOnlyError, match=r"city\.gpkg: the file or its folder is read-only"):
        ws.save()


def test_save_errors(tmp_path):
    ws = Workspace()
    with pytest.raises(WorkspaceError, match="not been saved yet; use save_as"):
        ws.save()
    with pytest.raises(WorkspaceError, match=r"must end in \.gpkg: .*city\.sqlite"):
        ws.save_as(tmp_path / "city.sqlite")
    with pytest.raises(WorkspaceError, match=r"folder .*missing does not exist"):
        ws.save_as(tmp_path / "missing" / "city.gpkg")


# ------------------------------------------------------------------ plain GeoPackages
@pytest.fixture
def plain_gpkg(tmp_path) -> Path:
    path = tmp_path / "from_qgis.gpkg"
    pyogrio.write_dataframe(buildings_frame(), path, layer="buildings", driver="GPKG")
    schools = gpd.GeoDataFrame({"school_id": ["S1"], "name": ["一中"]},
                               geometry=[shapely.Point(X0 + 5, Y0 + 5)], crs="EPSG:4547")
    pyogrio.write_dataframe(schools, path, layer="schools", driver="GPKG")
    pyogrio.write_dataframe(schools.assign(kind="cafe"), path, layer="pois", driver="GPKG")
    pyogrio.write_dataframe(pd.DataFrame({"building_id": ["B1"], "residents": [4]}), path,
                            layer="population", driver="GPKG")
    return path


def test_open_plain_geopackage_with_defaults(plain_gpkg):
    digest = sha256(plain_gpkg)
    ws = Workspace.open(plain_gpkg)
    assert ws.registry.names() == ["schools", "pois", "buildings", "population"]
    depts = {layer.name: layer.department for layer in ws.registry}
    assert depts == {"schools": "education", "pois": "other", "buildings": "framework",
                     "population": "framework"}
    assert isinstance(ws.layer("buildings").style, CategorizedStyle)
    assert isinstance(ws.layer("population"), TableLayer)
    assert ws.layer("buildings").feature_count == 4
    assert ws.layer("schools").data["name"].iloc[0] == "一中"
    assert not ws.dirty and ws.saved_queries == {} and ws.audit_log() == []
    ws.log("query", {"name": "x"})  # no audit table in a plain file: nothing written yet
    assert sha256(plain_gpkg) == digest
    ws.save()
    again = Workspace.open(plain_gpkg)
    assert again.registry.names() == ws.registry.names()
    assert [e["action"] for e in again.audit_log()] == ["query"]


def test_layer_added_by_another_program_is_picked_up(saved):
    extra = gpd.GeoDataFrame({"shelter_id": ["H1"], "capacity": [300]},
                             geometry=[shapely.Point(X0, Y0)], crs="EPSG:4547")
    pyogrio.write_dataframe(extra, saved, layer="shelters", driver="GPKG")
    ws = Workspace.open(saved)
    assert ws.registry.names()[-1] == "shelters"
    assert ws.layer("shelters").department == "emergency"


# ------------------------------------------------------------------ open errors
def test_open_missing_file(tmp_path):
    with pytest.raises(WorkspaceError, match=r"workspace file not found: .*nowhere\.gpkg"):
        Workspace.open(tmp_path / "nowhere.gpkg")
    with pytest.raises(WorkspaceError, match="it is a folder"):
        Workspace.open(tmp_path)


@pytest.mark.parametrize("content, match", [
    (b"", r"empty\.gpkg is not a GeoPackage: the file is empty"),
    (b"building_id,use\nB1,residential\n" * 10, r"empty\.gpkg is not a GeoPackage \(it is not an SQLite"),
])
def test_open_not_a_geopackage(tmp_path, content, match):
    path = tmp_path / "empty.gpkg"
    path.write_bytes(content)
    with pytest.raises(WorkspaceError, match=match):
        Workspace.open(path)


def test_open_sqlite_that_is_not_a_geopackage(tmp_path):
    path = tmp_path / "plain.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE t (a INTEGER)")
        con.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(WorkspaceError, match=r"plain\.sqlite is not a GeoPackage \(it has no gpkg_contents"):
        Workspace.open(path)


def test_open_corrupt_file(saved):
    data = bytearray(saved.read_bytes())
    data[100:4096] = b"\xa5" * (4096 - 100)  # wreck the schema page
    saved.write_bytes(bytes(data))
    with pytest.raises(WorkspaceError, match=r"workspace file .*city\.gpkg is corrupt or unreadable"):
        Workspace.open(saved)


def test_open_corrupt_settings_name_the_layer(saved):
    with sqlite3.connect(saved) as con:
        con.execute("UPDATE cityframe_layers SET style = '{broken' WHERE name = 'roads'")
    with pytest.raises(WorkspaceError, match=r"style of layer 'roads' in workspace file .*city\.gpkg is not valid JSON"):
        Workspace.open(saved)
    with sqlite3.connect(saved) as con:
        con.execute("""UPDATE cityframe_layers SET style = '{"kind": "single", "fill": "red"}'
                       WHERE name = 'roads'""")
    with pytest.raises(WorkspaceError, match=r"layer 'roads' in workspace file .*city\.gpkg has invalid settings: fill must be a colour"):
        Workspace.open(saved)


def test_missing_raster_loads_as_missing_with_a_warning(saved):
    (saved.parent / "rasters" / "flood_depth.tif").unlink()
    messages = []
    ws = Workspace.open(saved, feedback=Feedback(on_info=messages.append))
    layer = ws.layer("flood_depth")
    assert layer.missing
    assert len(ws.warnings) == 1 and "flood_depth.tif is missing" in ws.warnings[0]
    assert messages == ws.warnings
    assert ws.layer("buildings").feature_count == 4
    ws.save()  # keeps the reference
    with sqlite3.connect(saved) as con:
        assert con.execute("SELECT raster_path FROM cityframe_layers WHERE name='flood_depth'"
                           ).fetchone()[0] == "rasters/flood_depth.tif"


@pytest.mark.parametrize("rel", ["../outside.tif", "/etc/passwd", "rasters/../../x.tif"])
def test_raster_paths_must_stay_inside_the_folder(saved, rel):
    with sqlite3.connect(saved) as con:
        con.execute("UPDATE cityframe_layers SET raster_path = ? WHERE name = 'flood_depth'",
                    (rel,))
    ws = Workspace.open(saved)
    assert "flood_depth" not in ws.registry
    assert "does not lie inside the workspace folder" in ws.warnings[0]


def test_open_reports_progress_and_can_be_canceled(saved):
    progress = []
    Workspace.open(saved, feedback=Feedback(on_progress=progress.append))
    assert progress[0] == 0 and progress[-1] == 100
    fb = Feedback()
    fb.cancel()
    with pytest.raises(Canceled):
        Workspace.open(saved, feedback=fb)


def test_cityframe_tables_hold_json(saved):
    with sqlite3.connect(saved) as con:
        q = con.execute("SELECT name, json, updated FROM cityframe_queries").fetchall()
        info = dict(con.execute("SELECT key, value FROM cityframe_workspace"))
        layer = con.execute("SELECT kind, position, metadata, style, visible, opacity "
                            "FROM cityframe_layers WHERE name='roads'").fetchone()
    assert q[0][0] == "near" and json.loads(q[0][1])["target"] == "buildings" and q[0][2]
    assert info["format_version"] == "1"
    kind, position, meta, style, visible, opacity = layer
    assert (kind, position, visible, opacity) == ("vector", 1, 1, 0.6)
    assert json.loads(meta)["department"] == "framework"
    assert json.loads(style) == {"kind": "single", "fill": "#a6cee3b3", "stroke": "#ff8800",
                                 "stroke_width": 3.0, "point_size": 6.0}


def test_save_keeps_tables_of_other_tools(tmp_path):
    """A table QGIS (or another tool) keeps in the file survives save and save-as."""
    import sqlite3

    import geopandas as gpd
    import shapely

    from layers.vector import VectorLayer
    from layers.workspace import Workspace

    ws = Workspace()
    ws.add_layer(VectorLayer("schools", gpd.GeoDataFrame(
        {"school_id": ["S1"]}, geometry=[shapely.Point(1, 2)], crs=4547)))
    path = tmp_path / "w.gpkg"
    ws.save_as(path)
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE qgis_projects (name TEXT PRIMARY KEY, metadata BLOB, content BLOB)")
        con.execute("INSERT INTO qgis_projects VALUES ('plan', x'00', x'0102')")
    ws2 = Workspace.open(path)
    ws2.log("touch", {})
    ws2.save()
    ws2.save_as(tmp_path / "copy.gpkg")
    for p in (path, tmp_path / "copy.gpkg"):
        with sqlite3.connect(p) as con:
            assert con.execute("SELECT name, content FROM qgis_projects").fetchall() == [("plan", b"\x01\x02")]
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
