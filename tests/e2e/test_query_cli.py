"""End-to-end: ``main.py query`` — outputs, saved queries, errors, audit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from layers.workspace import Workspace
from sample_data.catalogue import sample_path
from tests.e2e.test_cli import run, sha

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "sample_data" / "queries" / "small"
EXPECTED = json.loads((ROOT / "sample_data" / "queries" / "expected" / "small.json")
                      .read_text("utf-8"))["answers"]


@pytest.fixture()
def city(tmp_path):
    shutil.copy(sample_path("small"), tmp_path / "small.gpkg")
    shutil.copy(sample_path("small").with_name("small_flood_depth.tif"), tmp_path)
    return tmp_path / "small.gpkg"


def test_query_to_csv_geojson_and_gpkg(city, tmp_path):
    q = EXAMPLES / "schools_near_hazardous_chemicals.json"
    ids = EXPECTED["schools_near_hazardous_chemicals"]["ids"]
    proc = run("query", str(city), str(q), "--out", str(tmp_path / "r.csv"), check=0)
    assert "within 1,000 m" in proc.stderr and "matched" in proc.stderr
    assert sorted(pd.read_csv(tmp_path / "r.csv")["school_id"]) == sorted(ids)
    run("query", str(city), str(q), "--out", str(tmp_path / "r.geojson"), check=0)
    gj = gpd.read_file(tmp_path / "r.geojson")
    assert gj.crs.to_epsg() == 4326 and sorted(gj["school_id"]) == sorted(ids)
    run("query", str(city), str(q), "--out", str(tmp_path / "r.gpkg"), check=0)
    assert sorted(pyogrio.read_dataframe(tmp_path / "r.gpkg")["school_id"]) == sorted(ids)
    zh = run("query", str(city), str(q), "--format", "table", lang="zh", check=0)
    assert "学校" in zh.stderr and ids[0] in zh.stdout


def test_grouped_query_suppresses_small_people_counts(city, tmp_path):
    q = EXAMPLES / "elderly_near_pollution_by_community.json"
    run("query", str(city), str(q), "--out", str(tmp_path / "g.csv"), check=0)
    table = pd.read_csv(tmp_path / "g.csv")
    people = [c for c in table.columns if c.startswith("age_") or c.startswith("residents")
              or c in ("elderly", "over_65")]
    assert people, table.columns
    values = pd.concat([table[c] for c in people]).dropna()
    assert not ((values > 0) & (values < 5)).any(), "counts of 1-4 people must be suppressed"


@pytest.mark.parametrize(
    "doc, key",
    [
        ({"version": 1, "target": "schoolz"}, "target"),
        ({"version": 1, "target": "schools", "relation": {"kind": "within_distance", "layer": "shelters",
                                                          "distance_m": -5}}, "relation.distance_m"),
        ({"version": 1, "target": "schools", "where": [{"column": "level", "op": "~", "value": 1}]},
         "where[0].op"),
        ({"version": 1, "target": "schools", "relation": {"kind": "within_distance", "layer": "shelters",
                                                          "distance_m": "500"}}, "relation.distance_m"),
    ],
)
def test_bad_query_exits_2_naming_the_key_and_writes_nothing(city, tmp_path, doc, key):
    q = tmp_path / "bad.json"
    q.write_text(json.dumps(doc), encoding="utf-8")
    before = sha(city)
    out = tmp_path / "out.csv"
    proc = run("query", str(city), str(q), "--out", str(out), check=2)
    assert key in proc.stderr and "bad.json" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()
    assert sha(city) == before


def test_saved_queries_run_by_name_and_save(city, tmp_path):
    proc = run("query", str(city), "--saved", "schools_near_hazards", "--format", "table", check=0)
    assert "matched" in proc.stderr
    missing = run("query", str(city), "--saved", "nope", check=2)
    assert "schools_near_hazards" in missing.stderr  # lists what exists
    q = EXAMPLES / "kindergartens_far_from_hospitals.json"
    run("query", str(city), str(q), "--save", "far_kindergartens", "--format", "table", check=0)
    ws = Workspace.open(city)
    try:
        assert "far_kindergartens" in ws.saved_queries
        actions = [e["action"] for e in ws.audit_log()]
        assert actions.count("query") >= 2
    finally:
        ws.close()
    again = run("query", str(city), "--saved", "far_kindergartens", "--out", str(tmp_path / "k.csv"), check=0)
    assert "matched" in again.stderr
    assert sorted(pd.read_csv(tmp_path / "k.csv")["kindergarten_id"]) == sorted(
        EXPECTED["kindergartens_far_from_hospitals"]["ids"])


def test_usage_errors():
    assert run("query", "small", check=2).stderr
    assert "--out" in run("query", "small", str(EXAMPLES / "residents_by_community.json"),
                          "--format", "csv", check=2).stderr
