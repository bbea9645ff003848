"""End-to-end: ``main.py impact`` — summary, report, PDF, offline map; errors leave nothing."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from layers.workspace import Workspace
from sample_data.catalogue import sample_path
from tests.e2e.test_cli import run, sha


@pytest.fixture()
def city(tmp_path):
    shutil.copy(sample_path("small"), tmp_path / "small.gpkg")
    shutil.copy(sample_path("small").with_name("small_flood_depth.tif"), tmp_path)
    return tmp_path / "small.gpkg"


def test_impact_writes_summary_report_pdf_and_map(city, tmp_path):
    ws = Workspace.open(city, read_only=True)
    doc = dict(ws.scenarios["chlorine_leak"])
    ws.close()
    scenario = tmp_path / "leak.json"
    scenario.write_text(json.dumps(doc), encoding="utf-8")
    out = {k: tmp_path / f"out.{k}" for k in ("json", "html", "pdf")}
    web = tmp_path / "map.html"
    proc = run("impact", str(city), str(scenario), "--summary", str(out["json"]),
               "--report", str(out["html"]), "--pdf", str(out["pdf"]), "--map", str(web), check=0)
    s = json.loads(out["json"].read_text("utf-8"))
    for key in ("residents", "age_0_14", "age_15_64", "age_65_plus", "buildings",
                "buildings_by_use", "legal_entities", "facilities", "shelters", "bands"):
        assert key in s
    assert s["residents"] > 0 and f"{s['residents']:,}" in proc.stdout
    html = out["html"].read_text("utf-8")
    assert "Chlorine leak drill" in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?https?://""", html, re.I)
    assert out["pdf"].read_bytes()[:5] == b"%PDF-"
    page = web.read_text("utf-8")
    assert not re.search(r"""<(?:script|link)[^>]+(?:src|href)\s*=\s*["']?(?:https?:)?//""", page, re.I)
    assert "L.map" in page
    assert not list(tmp_path.glob(".*part*")), "temporary files left behind"


def test_impact_saved_scenario_in_chinese(city, tmp_path):
    proc = run("impact", str(city), "--saved", "river_flood", "--report", str(tmp_path / "r.html"),
               lang="zh", check=0)
    assert "受影响居民" in proc.stdout
    html = (tmp_path / "r.html").read_text("utf-8")
    assert "江河洪水演练" in html


@pytest.mark.parametrize(
    "hazard, key",
    [
        ({"kind": "plume", "point": [527241.1, 3387692.0], "crs": "EPSG:4547",
          "wind_from_deg": 360, "length_m": 3000, "spread_deg": 30}, "hazard.wind_from_deg"),
        ({"kind": "buffer", "point": [527241.1, 3387692.0], "crs": "EPSG:4547",
          "rings_m": [500, 200]}, "hazard.rings_m"),
        ({"kind": "raster", "path": "../elsewhere.tif", "threshold": 0.3}, "hazard.path"),
        ({"kind": "zones", "layer": "nowhere", "class_column": "depth_class"}, "nowhere"),
    ],
)
def test_bad_scenario_exits_2_names_key_and_leaves_nothing(city, tmp_path, hazard, key):
    scenario = tmp_path / "bad.json"
    scenario.write_text(json.dumps({"version": 1, "hazard": hazard}), encoding="utf-8")
    before = sha(city)
    proc = run("impact", str(city), str(scenario), "--summary", str(tmp_path / "s.json"),
               "--report", str(tmp_path / "r.html"))
    assert proc.returncode == 2, proc.stderr
    assert key in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "s.json").exists() and not (tmp_path / "r.html").exists()
    assert not list(tmp_path.glob(".*part*"))
    assert sha(city) == before


def test_impact_usage_errors(city, tmp_path):
    assert run("impact", str(city)).returncode == 2  # neither file nor --saved
    proc = run("impact", str(city), "--saved", "nope")
    assert proc.returncode == 2 and "chlorine_leak" in proc.stderr  # lists what exists
    proc = run("impact", str(city), "--saved", "chlorine_leak", "--report", str(tmp_path / "r.txt"))
    assert proc.returncode == 2 and ".html" in proc.stderr


def test_impact_on_bundled_sample_leaves_it_unchanged(tmp_path):
    path = sample_path("shanghai")
    before = sha(path)
    proc = run("impact", "shanghai", "--saved", "gas_explosion_lujiazui", "--summary",
               str(tmp_path / "s.json"), check=0)
    assert "no shelter assignment" in proc.stdout
    assert sha(path) == before


def test_info_names_the_scenarios():
    proc = run("info", "small", check=0)
    assert "scenarios: chlorine_leak, flood_zones, river_flood" in proc.stdout
    assert "演练情景：" in run("info", "shanghai", lang="zh", check=0).stdout


def test_gui_runs_a_saved_drill_for_a_screenshot(tmp_path):
    out = tmp_path / "drill.png"
    run("--sample", "small", "--run-drill", "chlorine_leak", "--screenshot", str(out),
        "--size", "1200x800", lang=None, check=0)
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert image.width() == 1200 and image.height() == 800
