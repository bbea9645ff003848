"""End-to-end: the ``main.py`` commands as a user runs them (subprocesses)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from layers.workspace import Workspace
from sample_data.catalogue import SAMPLES, sample_path

ROOT = Path(__file__).resolve().parents[2]


def run(*args, lang="en", check=None):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "LANG": "C.UTF-8"}
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), *args, *(["--lang", lang] if lang else [])],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    if check is not None:
        assert proc.returncode == check, proc.stdout + proc.stderr
    return proc


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_help_lists_subcommands():
    proc = run("--help", lang=None, check=0)
    for command in ("sample", "validate", "info", "import", "gui"):
        assert command in proc.stdout


@pytest.mark.parametrize("args", [["info"], ["sample", "--out", "x.txt"], ["frobnicate", "x"],
                                  ["info", "/nowhere/none.gpkg"]])
def test_bad_usage_exits_2_without_traceback(args):
    proc = run(*args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.strip()


def test_info_on_missing_file_names_it():
    proc = run("info", "/nowhere/none.gpkg", check=2)
    assert "/nowhere/none.gpkg" in proc.stderr


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_info_lists_every_layer_with_counts_departments_and_classification(sample):
    path = sample_path(sample.id)
    proc = run("info", str(path), "--json", check=0)
    desc = json.loads(proc.stdout)
    ws = Workspace.open(path, read_only=True)
    try:
        assert [row["name"] for row in desc["layers"]] == ws.registry.names()
        for row in desc["layers"]:
            layer = ws.layer(row["name"])
            assert row["department"] == layer.metadata.department
            assert row["classification"] == layer.metadata.classification
            if row["kind"] in ("vector", "table"):
                assert row["features"] == len(layer.data)
    finally:
        ws.close()
    assert desc["layers"][0]["department"]
    table = run("info", str(path), check=0).stdout
    assert "buildings" in table and f"{sample.buildings:,}" in table
    zh = run("info", str(path), lang="zh", check=0).stdout
    assert "基础框架" in zh and "图层" in zh


def test_info_and_validate_never_write(tmp_path):
    ws = tmp_path / "small.gpkg"
    shutil.copy(sample_path("small"), ws)
    shutil.copy(sample_path("small").with_name("small_flood_depth.tif"), tmp_path)
    before = sha(ws)
    run("info", str(ws), check=0)
    run("validate", str(ws), check=0)
    assert sha(ws) == before


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """A copy of the small city with one planted fault of each kind."""
    folder = tmp_path_factory.mktemp("broken")
    ws = Workspace.open(sample_path("small"), read_only=True)
    b = ws.layer("buildings").data.copy()
    b.loc[b.index[4], "geometry"] = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])  # bow tie
    # a duplicate id on a building nobody lives in (else its residents become orphans too)
    housed = set(ws.layer("population").data["building_id"])
    dup = next(i for i in range(20, len(b)) if b["building_id"].iloc[i] not in housed)
    b.loc[b.index[dup], "building_id"] = b["building_id"].iloc[dup - 1]
    b.loc[b.index[11], "use"] = "spaceport"
    ws.layer("buildings").data = b
    p = ws.layer("population").data.copy()
    p.loc[p.index[2], "building_id"] = "NO-SUCH-BUILDING"
    ws.layer("population").data = p
    e = ws.layer("legal_entities").data.copy()
    code = e["uscc"].iloc[6]
    e.loc[e.index[6], "uscc"] = code[:17] + ("0" if code[17] != "0" else "1")
    e = e.drop(columns=["industry"])
    ws.layer("legal_entities").data = e
    r = ws.layer("roads").data
    ws.layer("roads").data = r.iloc[0:0].copy()
    out = folder / "broken.gpkg"
    ws.save_as(out)
    ws.close()
    planted = {
        ("buildings", 5, None, "invalid_geometry"),
        ("buildings", dup + 1, "building_id", "duplicate_id"),
        ("buildings", 12, "use", "unknown_use"),
        ("population", 3, "building_id", "orphan_building_id"),
        ("legal_entities", 7, "uscc", "invalid_uscc"),
        ("legal_entities", None, "industry", "missing_column"),
        ("roads", None, None, "empty_layer"),
    }
    return out, planted


def test_validate_finds_every_planted_fault(broken, tmp_path):
    path, planted = broken
    before = sha(path)
    report = tmp_path / "report.json"
    proc = run("validate", str(path), "--json", str(report), check=1)
    found = json.loads(report.read_text(encoding="utf-8"))
    got = {(i["layer"], i["row"], i["column"], i["code"]) for i in found["issues"]}
    # the bow tie is reported on the geometry column, whatever its name
    got = {(lyr, row, None if code == "invalid_geometry" else col, code) for lyr, row, col, code in got}
    assert planted <= got, planted - got
    assert got - planted == set(), f"unexpected issues: {got - planted}"
    assert found["repaired"]["buildings"] == 1
    assert "legal_entities row 7" in proc.stdout and "uscc" in proc.stdout
    assert sha(path) == before


def test_validate_speaks_chinese(broken):
    path, _ = broken
    proc = run("validate", str(path), lang="zh", check=1)
    assert "legal_entities" in proc.stdout and "行" in proc.stdout


def test_sample_command_makes_a_valid_city(tmp_path):
    out = tmp_path / "tiny.gpkg"
    run("sample", "--buildings", "400", "--seed", "5", "--out", str(out), "--quiet", check=0)
    assert out.is_file() and (tmp_path / "tiny_flood_depth.tif").is_file()
    run("validate", str(out), check=0)
    names = set(pyogrio.list_layers(out)[:, 0])
    assert {"buildings", "population", "legal_entities", "communities", "roads"} <= names


def test_sample_refuses_bad_output(tmp_path):
    proc = run("sample", "--buildings", "400", "--out", str(tmp_path / "x.shp"), check=2)
    assert "x.shp" in proc.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.fixture()
def small_copy(tmp_path):
    shutil.copy(sample_path("small"), tmp_path / "city.gpkg")
    shutil.copy(sample_path("small").with_name("small_flood_depth.tif"),
                tmp_path / "city_flood_depth.tif")
    # the raster path inside the workspace is relative to it: keep the same name
    shutil.copy(sample_path("small").with_name("small_flood_depth.tif"), tmp_path)
    return tmp_path / "city.gpkg"


def test_import_adds_a_layer_and_audits_it(small_copy, tmp_path):
    csv = tmp_path / "wells.csv"
    pd.DataFrame({"well_id": ["W1", "W2"], "lon": [114.30, 114.31], "lat": [30.60, 30.61],
                  "名称": ["一号井", "二号井"]}).to_csv(csv, index=False)
    proc = run("import", str(small_copy), str(csv), "--department", "water", check=0)
    assert "wells" in proc.stdout
    ws = Workspace.open(small_copy)
    try:
        wells = ws.layer("wells")
        assert wells.metadata.department == "water"
        assert list(wells.data["名称"]) == ["一号井", "二号井"]
        assert ws.audit_log()[-1]["action"] == "import"
    finally:
        ws.close()


def test_failed_import_leaves_workspace_unchanged(small_copy, tmp_path):
    before = sha(small_copy)
    bad = tmp_path / "bad.csv"
    bad.write_text("id,lon,lat\n1,114.3,30.6\n2,abc,30.6\n", encoding="utf-8")
    proc = run("import", str(small_copy), str(bad), check=2)
    assert "bad.csv" in proc.stderr and "row 2" in proc.stderr
    assert sha(small_copy) == before

    schools = tmp_path / "schools.geojson"
    gpd.GeoDataFrame({"school_id": ["X"]}, geometry=[shapely.Point(114.3, 30.6)],
                     crs=4326).to_file(schools)
    proc = run("import", str(small_copy), str(schools), check=2)
    assert "already exists" in proc.stderr and "--replace" in proc.stderr
    assert sha(small_copy) == before
    run("import", str(small_copy), str(schools), "--replace", check=0)
    ws = Workspace.open(small_copy)
    try:
        assert len(ws.layer("schools").data) == 1
    finally:
        ws.close()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temp files left"
