"""The interactive drill map: folium with Leaflet inlined, the city as basemap, no network.

Built on the hand-made DrillResult of ``test_report.py``; one test renders the
small sample's stored chlorine-leak scenario, and one opens the map in headless
Chromium when it is installed (never a CI requirement).
"""

from __future__ import annotations

import html.parser
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from spatial.drill import webmap
from spatial.drill.webmap import LEAFLET_DIR, export_webmap, external_references, webmap_html
from tests.spatial.drill.test_report import make_frames, make_result


@pytest.fixture(scope="module")
def frames():
    f = make_frames()
    # one building with 3 residents: its popup must say <5
    f["population"].loc[f["population"]["building_id"] == "B0210", "residents"] = 3
    return f


@pytest.fixture(scope="module")
def result(frames):
    return make_result(frames)


@pytest.fixture(scope="module")
def page(result, frames):
    return webmap_html(result, frames, lang="en")


class _Refs(html.parser.HTMLParser):
    """<script src>, <link href> and every inline script's text."""

    def __init__(self):
        super().__init__()
        self.script_src: list[str] = []
        self.link_href: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self._in_script = True
            self.scripts.append("")
            if a.get("src"):
                self.script_src.append(a["src"])
        elif tag == "link" and a.get("href"):
            self.link_href.append(a["href"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def _layers(page: str) -> dict[str, dict]:
    """Layer name (as in the layer control) -> its GeoJSON FeatureCollection."""
    data = {}
    for m in re.finditer(r"var (city_frame_geo_json_\w+) = L\.geoJson\((\{.*?\}), \{\n", page,
                         re.DOTALL):
        data[m.group(1)] = json.loads(m.group(2))
    names = {}
    control = re.search(r"overlays\s*:\s*\{(.*?)\}", page, re.DOTALL).group(1)
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"\s*:\s*(city_frame_geo_json_\w+)', control):
        names[json.loads(f'"{m.group(1)}"')] = data[m.group(2)]
    return names


def test_no_network_references(page):
    refs = _Refs()
    refs.feed(page)
    assert refs.script_src == [] and refs.link_href == []  # everything is inline
    for url in refs.script_src + refs.link_href:
        assert not re.match(r"\s*(https?:)?//", url)
    assert not re.search(r"""<(script|link|img|iframe)\b[^>]*(src|href)\s*=\s*["']?\s*(https?:)?//""",
                         page, re.IGNORECASE)
    assert "L.tileLayer" not in page  # no tile layer at all (tiles=None)
    for host in ("cdn.jsdelivr.net", "code.jquery.com", "bootstrapcdn", "cdnjs.cloudflare.com",
                 "openstreetmap", "fontawesome", "awesome-markers"):
        assert host not in page, host
    assert external_references(page) == []


def test_leaflet_is_inlined(page):
    version = webmap.leaflet_assets()["version"]
    assert version == "1.9.3"
    assert f"Leaflet {version}, a JS library for interactive maps" in page  # the banner
    assert "L.map(" in page and "L.geoJson(" in page
    assert ".leaflet-container" in page  # the CSS
    assert "url(images/" not in page and "url(data:image/png;base64," in page
    assert "sourceMappingURL" not in page
    assert "$(document)" not in page and "$(`" not in page  # nothing needs jQuery


def test_layers_and_features(page, result):
    layers = _layers(page)
    names = list(layers)
    for expected in ("Communities", "Roads", "Buildings", "Hazard bands", "Affected buildings",
                     "Hazardous-chemical enterprises", "Other legal entities to notify",
                     "Critical facilities in the hazard", "Shelters", "Assignment to shelters",
                     "Hazard source"):
        assert any(n.startswith(expected + " · ") for n in names), (expected, names)
    bands = next(v for k, v in layers.items() if k.startswith("Hazard bands"))
    assert [f["properties"]["band"] for f in bands["features"]] == ["0–300 m", "300–600 m"]
    affected = next(v for k, v in layers.items() if k.startswith("Affected buildings"))
    assert len(affected["features"]) == result.summary["buildings"]
    hazardous = next(v for k, v in layers.items() if k.startswith("Hazardous-chemical"))
    assert sorted(f["properties"]["uscc"] for f in hazardous["features"]) == sorted(
        r["uscc"] for r in result.summary["legal_entities"] if r["hazard_class"])
    # coordinates in EPSG:4326 (lon ~114.28, lat ~30.6), rounded
    xy = np.array([c for f in bands["features"] for c in f["geometry"]["coordinates"][0]])
    assert (np.abs(xy[:, 0] - 114.28) < 0.1).all() and (np.abs(xy[:, 1] - 30.6) < 0.1).all()
    assert not re.search(r"\[5\d{5}(\.\d+)?,3\d{6}", page)  # no projected coordinates
    # a people count of 1-4 shows as <5 (escaped inside the script)
    b210 = [f for f in affected["features"] if f["properties"]["id"] == "B0210"]
    assert b210 and b210[0]["properties"]["residents"] == "<5"
    assert '"residents":"\\u003c5"' in page


def test_data_cannot_break_out_of_the_script(page):
    assert "<script>alert(1)</script>" not in page
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e Ltd" in page


def test_bilingual_labels_and_panel(result, frames):
    zh = webmap_html(result, frames, lang="zh", classification="restricted")
    assert "受影响建筑 · Affected buildings" in _layers(zh)  # the layer control
    assert "危化企业 · Hazardous-chemical enterprises" in zh  # the panel
    assert "RESTRICTED / 限制" in zh and "氯气泄漏演练" in zh
    straight = make_result(frames, method="straight_line")
    assert "straight-line distance" in webmap_html(straight, frames)


def test_context_buildings_are_capped(result, frames, monkeypatch):
    monkeypatch.setattr(webmap, "MAX_CONTEXT_BUILDINGS", 25)
    layers = _layers(webmap_html(result, frames))
    context = next(v for k, v in layers.items() if k.startswith("Buildings"))
    assert len(context["features"]) == 1  # one MultiPolygon
    assert len(context["features"][0]["geometry"]["coordinates"]) == 25


def test_export_is_atomic(tmp_path, result, frames, monkeypatch):
    out = tmp_path / "map.html"
    assert export_webmap(result, frames, out, lang="zh") == out
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "L.map(" in text
    with pytest.raises(ValueError, match="lang must be one of"):
        export_webmap(result, frames, tmp_path / "bad.html", lang="fr")

    def boom(*args, **kwargs):
        raise RuntimeError("render failed")

    monkeypatch.setattr(webmap, "webmap_html", boom)
    with pytest.raises(RuntimeError):
        export_webmap(result, frames, tmp_path / "bad2.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.html"]


def test_missing_leaflet_files_are_named(tmp_path, result, frames, monkeypatch):
    monkeypatch.setattr(webmap, "LEAFLET_DIR", tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="leaflet.js: the vendored Leaflet file"):
        webmap_html(result, frames)


def test_external_references_finds_cdn_links():
    bad = ('<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"></script>'
           '<link rel="stylesheet" href="//example.com/a.css">'
           '<style>@import url("http://x/y.css"); .a{background:url(https://x/i.png)}</style>'
           '<script>L.tileLayer("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png").addTo(m)'
           "</script>")
    found = external_references(bad)
    assert len(found) >= 5


def test_vendored_leaflet_has_licence_and_source():
    licence = (LEAFLET_DIR / "LICENSE").read_text(encoding="utf-8")
    assert "BSD 2-Clause" in licence and "Vladimir Agafonkin" in licence
    source = (LEAFLET_DIR / "SOURCE.md").read_text(encoding="utf-8")
    version = webmap.leaflet_assets()["version"]
    assert f"Leaflet {version}" in source and "XStatic-Leaflet" in source
    for name in ("leaflet.js", "leaflet.css", "images/layers.png", "images/layers-2x.png"):
        assert (LEAFLET_DIR / name).is_file(), name


def test_sample_city_scenario(tmp_path):
    """The small sample's stored chlorine-leak scenario, end to end: map and report."""
    from layers.workspace import Workspace
    from sample_data.catalogue import sample_path
    from spatial.drill import run_drill
    from spatial.drill.report import report_html, write_report

    ws = Workspace.open(sample_path("small"))
    frames = ws.frames()
    res = run_drill(ws.scenarios["chlorine_leak"], frames, base_dir=ws.folder)
    out = export_webmap(res, frames, tmp_path / "map.html", lang="zh")
    page = out.read_text(encoding="utf-8")
    assert external_references(page) == []
    layers = _layers(page)
    bands = next(v for k, v in layers.items() if k.startswith("危害分区"))
    assert [f["properties"]["band"] for f in bands["features"]] == res.footprint["band"].tolist()
    assert out.stat().st_size < 4_000_000
    sources = [{"layer": layer.name, "title": {"en": layer.metadata.title_en,
                                               "zh": layer.metadata.title_zh},
                "source": layer.metadata.source, "updated": layer.metadata.updated}
               for layer in ws.registry if layer.name in ("buildings", "legal_entities")]
    doc = report_html(res, frames, lang="en", sources=sources)
    report = write_report(tmp_path / "report.html", doc)
    assert "Chlorine leak drill" in doc and "CityFrame synthetic sample" in doc
    usccs = [r["uscc"] for r in res.summary["legal_entities"]][:50]
    positions = [doc.index(u) for u in usccs]
    assert positions == sorted(positions)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", doc)
    assert report.stat().st_size < 3_000_000


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="headless Chromium is not installed (optional: apt-get install chromium)")
def test_renders_in_headless_chromium(tmp_path, result, frames):
    """The page runs in a real browser with the network disabled: Leaflet builds the map,
    the layer control and the canvas, and no script error is logged."""
    out = export_webmap(result, frames, tmp_path / "map.html")
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", "--disable-extensions", "--disable-default-apps",
           f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
           "--proxy-server=127.0.0.1:9", "--virtual-time-budget=5000", "--dump-dom",
           out.as_uri()]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120)
    dom = proc.stdout
    assert "leaflet-container" in dom, proc.stderr[-2000:]
    assert "leaflet-control-layers" in dom and "<canvas" in dom
    assert "Affected buildings" in dom and "Leaflet 1.9.3 · CityFrame" in dom
    assert "Uncaught" not in proc.stderr, proc.stderr[-2000:]
    png = tmp_path / "map.png"
    subprocess.run(cmd[:-2] + [f"--screenshot={png}", "--window-size=1000,700", out.as_uri()],
                   check=False, capture_output=True, timeout=120)
    if png.exists():  # the screenshot is for people; the DOM checks above are the test
        assert png.stat().st_size > 10_000


def test_drill_layers_are_capped_and_said_so(result, frames, monkeypatch):
    monkeypatch.setattr(webmap, "MAX_FEATURES", 7)
    page = webmap_html(result, frames)
    layers = _layers(page)
    affected = next(v for k, v in layers.items() if k.startswith("Affected buildings"))
    assert len(affected["features"]) == 7
    assert {f["properties"]["band"] for f in affected["features"]} == {"0–300 m"}  # most severe
    n = result.summary["buildings"]
    assert f"Affected buildings · 受影响建筑: 7 / {n:,}" in page


def test_empty_result_maps_the_city(result, frames):
    import copy

    empty = copy.copy(result)
    empty.footprint = result.footprint.iloc[0:0]
    empty.affected = {}
    empty.assignment = None
    empty.summary = dict(result.summary, hazard={"kind": "drawn"})
    page = webmap_html(empty, frames)
    assert external_references(page) == [] and "Communities" in page
    with pytest.raises(ValueError, match="nothing to map"):
        webmap_html(empty, {})
