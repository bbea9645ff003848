"""The drill report: self-contained HTML, bilingual, suppressed counts, atomic writes.

The tests build a DrillResult-shaped object by hand (``make_result``): a small
city in EPSG:4547 with a source point, two distance bands, affected buildings,
legal entities (two hazardous), schools, a hospital, shelters and assignment
lines, and a summary with the contract's keys.  ``test_webmap.py`` reuses it.
"""

from __future__ import annotations

import base64
import html.parser
import re
from dataclasses import dataclass, field
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from spatial.drill import report
from spatial.drill.report import report_html, write_report
from spatial.uscc import complete_uscc

CRS = "EPSG:4547"
X0, Y0 = 527_000.0, 3_387_000.0  # the source point (Wuhan area, CGCS2000 GK zone 38)


@dataclass
class FakeResult:
    """What spatial.drill.impact.DrillResult carries (the shared contract)."""

    scenario: object
    summary: dict
    footprint: gpd.GeoDataFrame
    affected: dict
    assignment: gpd.GeoDataFrame | None
    metric_crs: pyproj.CRS
    run_at: str = "2024-07-01T08:30:00Z"
    elapsed_s: float = 0.42
    extra: dict = field(default_factory=dict)


def _usccs(n: int) -> list[str]:
    first17 = [f"91420100MA4K{i:04d}X" for i in range(n)]
    return complete_uscc(np.array(first17)).tolist()


def make_frames() -> dict:
    """A 2 km x 2 km city: 2 communities, a road grid, 400 buildings, 3 shelters, 2 schools,
    1 hospital, 6 legal entities and a population table."""
    communities = gpd.GeoDataFrame(
        {"community_id": ["C1", "C2"], "name": ["东湖社区", "西湖社区"]},
        geometry=[shapely.box(X0 - 1000, Y0 - 1000, X0, Y0 + 1000),
                  shapely.box(X0, Y0 - 1000, X0 + 1000, Y0 + 1000)], crs=CRS)
    lines = [shapely.LineString([(X0 - 1000, Y0 + d), (X0 + 1000, Y0 + d)])
             for d in range(-950, 1000, 200)]
    lines += [shapely.LineString([(X0 + d, Y0 - 1000), (X0 + d, Y0 + 1000)])
              for d in range(-950, 1000, 200)]
    roads = gpd.GeoDataFrame({"road_id": [f"R{i:03d}" for i in range(len(lines))],
                              "name": [f"Road {i}" for i in range(len(lines))],
                              "class": "secondary"}, geometry=lines, crs=CRS)
    xs, ys = np.meshgrid(np.arange(-975, 1000, 100.0), np.arange(-975, 1000, 100.0))
    xs, ys = xs.ravel() + X0, ys.ravel() + Y0
    n = len(xs)
    uses = np.array(["residential", "commercial", "industrial", "public", "mixed"])
    buildings = gpd.GeoDataFrame(
        {"building_id": [f"B{i:04d}" for i in range(n)], "use": uses[np.arange(n) % 5],
         "floors": (np.arange(n) % 14) + 1, "community_id": np.where(xs < X0, "C1", "C2")},
        geometry=shapely.box(xs - 15, ys - 15, xs + 15, ys + 15), crs=CRS)
    population = pd.DataFrame({"building_id": buildings["building_id"],
                               "residents": 30, "age_0_14": 5, "age_15_64": 20,
                               "age_65_plus": 5})
    shelters = gpd.GeoDataFrame(
        {"shelter_id": ["SH1", "SH2", "SH3"], "name": ["第一中学操场", "Park shelter", "体育馆"],
         "capacity": [500, 300, 1000]},
        geometry=shapely.points([(X0 - 800, Y0 + 800), (X0 + 850, Y0 - 850), (X0 + 800, Y0 + 700)]),
        crs=CRS)
    schools = gpd.GeoDataFrame(
        {"school_id": ["S1", "S2"], "name": ["实验小学", "No. 2 Middle School"],
         "pupils": [820, 1130]},
        geometry=shapely.points([(X0 + 120, Y0 - 80), (X0 - 700, Y0 + 600)]), crs=CRS)
    hospitals = gpd.GeoDataFrame({"hospital_id": ["H1"], "name": ["中心医院"], "beds": [450]},
                                 geometry=[shapely.Point(X0 + 350, Y0 + 100)], crs=CRS)
    entities = gpd.GeoDataFrame(
        {"uscc": _usccs(6),
         "name": ["大江化工有限公司", "Riverside Chlorine Co.", "Big Mall", "Small Shop",
                  "<script>alert(1)</script> Ltd", "Far Away Co."],
         "industry": ["C2614", "C2611", "F5211", "F5219", "M7320", "C3311"],
         "employees": [120, 45, 300, 3, 80, 10],
         "hazard_class": ["hazardous_chemicals", "hazardous_chemicals", "", "", "", ""]},
        geometry=shapely.points([(X0 + 10, Y0 + 10), (X0 - 200, Y0 + 150), (X0 + 100, Y0 - 250),
                                 (X0 - 50, Y0 - 350), (X0 + 420, Y0 + 200), (X0 + 900, Y0 + 900)]),
        crs=CRS)
    return {"communities": communities, "roads": roads, "buildings": buildings,
            "population": population, "shelters": shelters, "schools": schools,
            "hospitals": hospitals, "legal_entities": entities}


def make_result(frames: dict | None = None, *, method: str = "road") -> FakeResult:
    frames = frames or make_frames()
    src = shapely.Point(X0, Y0)
    inner = src.buffer(300, 64)
    outer = src.buffer(600, 64).difference(inner)
    footprint = gpd.GeoDataFrame({"band": ["0–300 m", "300–600 m"], "order": [0, 1]},
                                 geometry=[inner, outer], crs=CRS)
    b = frames["buildings"].merge(frames["population"], on="building_id", how="left")
    b = gpd.GeoDataFrame(b, geometry="geometry", crs=CRS)
    hit_inner = b.intersects(inner).to_numpy()
    hit_outer = b.intersects(outer).to_numpy() & ~hit_inner
    affected_b = b[hit_inner | hit_outer].copy()
    affected_b["band"] = np.where(hit_inner[hit_inner | hit_outer], "0–300 m", "300–600 m")

    def tag(frame):
        g = frame.geometry
        inside_inner = g.intersects(inner).to_numpy()
        inside = inside_inner | g.intersects(outer).to_numpy()
        out = frame[inside].copy()
        out["band"] = np.where(inside_inner[inside], "0–300 m", "300–600 m")
        return out

    le = tag(frames["legal_entities"])
    le["_hz"] = le["hazard_class"] != ""
    le = le.sort_values(["_hz", "employees"], ascending=[False, False]).drop(columns="_hz")
    schools, hospitals = tag(frames["schools"]), tag(frames["hospitals"])
    shelters = frames["shelters"]
    pts = affected_b.geometry.centroid.to_numpy()
    targets = np.where(shapely.get_x(pts) < X0, 0, 2)
    lines = shapely.linestrings(
        np.stack([np.c_[shapely.get_x(pts), shapely.get_y(pts)],
                  np.c_[shelters.geometry.x.to_numpy()[targets],
                        shelters.geometry.y.to_numpy()[targets]]], axis=1))
    assignment = gpd.GeoDataFrame(
        {"from_id": affected_b["building_id"].to_numpy(),
         "shelter_id": shelters["shelter_id"].to_numpy()[targets], "people": 30,
         "distance_m": shapely.length(lines)}, geometry=lines, crs=CRS)
    n_b = len(affected_b)
    residents = int(affected_b["residents"].sum())
    hazard = {"kind": "plume", "point": [X0, Y0], "crs": CRS, "wind_from_deg": 45,
              "length_m": 600, "spread_deg": 30, "rings_m": [300]}
    title = {"en": "Chlorine leak drill", "zh": "氯气泄漏演练"}
    by_use = affected_b["use"].value_counts().to_dict()
    floors = pd.cut(affected_b["floors"], [0, 3, 6, 11, 1000], labels=["1-3", "4-6", "7-11", "12+"])
    by_floors = {str(k): int(v) for k, v in floors.value_counts(sort=False).items()}
    entity_rows = [{"uscc": r.uscc, "name": r.name, "industry": r.industry,
                    "employees": int(r.employees), "hazard_class": r.hazard_class, "band": r.band}
                   for r in le.itertuples()]
    summary = {
        "title": title, "hazard": hazard, "run_at": "2024-07-01T08:30:00Z",
        "crs": "CGCS2000 / 3-degree Gauss-Kruger CM 114E (EPSG:4547)",
        "residents": residents, "age_0_14": int(affected_b["age_0_14"].sum()),
        "age_15_64": int(affected_b["age_15_64"].sum()),
        "age_65_plus": None,  # suppressed (pretend 1-4)
        "buildings": n_b, "buildings_by_use": {str(k): int(v) for k, v in by_use.items()},
        "buildings_by_floors": by_floors,
        "legal_entities": entity_rows, "employees": int(le["employees"].sum()),
        "facilities": {
            "schools": {"count": len(schools), "pupils": int(schools["pupils"].sum()),
                        "items": [{"id": r.school_id, "name": r.name, "band": r.band,
                                   "pupils": int(r.pupils)} for r in schools.itertuples()]},
            "hospitals": {"count": len(hospitals), "beds": int(hospitals["beds"].sum()),
                          "items": [{"id": r.hospital_id, "name": r.name, "band": r.band,
                                     "beds": int(r.beds)} for r in hospitals.itertuples()]},
        },
        "roads_cut": {"count": 0, "length_m": 0.0, "items": []},
        "shelters": {
            "method": method, "displaced": residents, "capacity": 1800,
            "capacity_used": residents, "unsheltered": 0, "unreachable": 0,
            "longest_walk_m": float(assignment["distance_m"].max()),
            "assignment": [{"shelter_id": "SH1", "name": "第一中学操场", "capacity": 500,
                            "assigned": int((targets == 0).sum() * 30),
                            "max_distance_m": 1100.0},
                           {"shelter_id": "SH3", "name": "体育馆", "capacity": 1000,
                            "assigned": int((targets == 2).sum() * 30),
                            "max_distance_m": 1200.0}],
            "safe_places": {"schools": {"count": 1, "pupils": 1130},
                            "shelters": {"count": 3, "capacity": 1800}},
        },
        "needs": {"days": 1, "displaced": residents,
                  "source": "Sphere Handbook 2018, minimum standards",
                  "items": [{"key": "water", "name_en": "Drinking water", "name_zh": "饮用水",
                             "unit_en": "litre", "unit_zh": "升", "per_person_per_day": 15.0,
                             "quantity": residents * 15.0}]},
        "bands": [
            {"band": "0–300 m", "order": 0, "residents": int(affected_b.loc[affected_b.band == "0–300 m", "residents"].sum()),
             "age_0_14": None, "age_15_64": 100, "age_65_plus": 20, "buildings": int(hit_inner.sum()),
             "buildings_by_use": {}, "legal_entities": 3, "facilities": {"schools": 1},
             "roads_cut": 0},
            {"band": "300–600 m", "order": 1, "residents": 500, "age_0_14": 80,
             "age_15_64": 300, "age_65_plus": 120, "buildings": int(hit_outer.sum()),
             "buildings_by_use": {}, "legal_entities": 2, "facilities": {"hospitals": 1},
             "roads_cut": 0},
        ],
        "suppressed": ["age_65_plus", "bands[0].age_0_14"],
    }
    scenario = SimpleNamespace(hazard=SimpleNamespace(**hazard), title=title, version=1,
                               shelters=SimpleNamespace(layer="shelters", capacity="capacity"),
                               needs=None, population=None)
    affected = {"buildings": gpd.GeoDataFrame(affected_b, geometry="geometry", crs=CRS),
                "legal_entities": le, "schools": schools, "hospitals": hospitals}
    return FakeResult(scenario=scenario, summary=summary, footprint=footprint, affected=affected,
                      assignment=assignment, metric_crs=pyproj.CRS(CRS))


SOURCES = [
    {"layer": "buildings", "title": {"en": "Buildings", "zh": "建筑"},
     "source": "Planning bureau survey", "updated": "2024-06-30"},
    {"layer": "legal_entities", "title": {"en": "Legal entities", "zh": "法人单位"},
     "source": "Market regulation register", "updated": "2024-05-31"},
]


@pytest.fixture(scope="module")
def frames():
    return make_frames()


@pytest.fixture(scope="module")
def result(frames):
    return make_result(frames)


@pytest.fixture(scope="module")
def html_en(result, frames):
    return report_html(result, frames, lang="en", sources=SOURCES)


@pytest.fixture(scope="module")
def html_zh(result, frames):
    return report_html(result, frames, lang="zh", sources=SOURCES, classification="restricted")


class _Collector(html.parser.HTMLParser):
    """Every (tag, attribute, value) with a URL-ish attribute, and the text."""

    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "data", "poster", "action", "srcset", "background"):
                self.urls.append((tag, name, value or ""))


def test_report_has_no_external_reference(html_en, html_zh):
    for doc in (html_en, html_zh):
        assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", doc, re.IGNORECASE)
        assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", doc, re.IGNORECASE)
        assert "@import" not in doc
        parser = _Collector()
        parser.feed(doc)
        assert parser.urls, "expected the map images"
        for tag, attr, value in parser.urls:
            assert value.startswith("data:image/png;base64,"), (tag, attr, value[:60])
        assert "script" not in parser.tags and "link" not in parser.tags


def test_images_are_embedded_pngs(html_en):
    uris = re.findall(r'<img[^>]+src="([^"]+)"', html_en)
    assert len(uris) >= 3  # overview, hazard map, age chart
    for uri in uris:
        assert uri.startswith("data:image/png;base64,")
        png = base64.b64decode(uri.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_content_en(html_en, result):
    assert "Chlorine leak drill" in html_en
    assert "INTERNAL / 内部" in html_en
    assert html_en.count("INTERNAL / 内部") >= 2  # top and bottom
    assert "2024-07-01T08:30:00Z" in html_en
    assert "Planning bureau survey" in html_en and "2024-05-31" in html_en
    assert "45° (NE); the plume extends towards SW" in html_en
    assert "Sphere Handbook 2018" in html_en
    assert "第一中学操场" in html_en and "实验小学" in html_en and "中心医院" in html_en
    assert "Walking distance along the road network" in html_en
    # suppressed people count
    assert re.search(r"Aged 65 and over</td><td class=num>&lt;5</td>", html_en)
    # all data is escaped
    assert "<script>alert(1)</script>" not in html_en
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ltd" in html_en


def test_legal_entities_hazardous_first(html_en, result):
    usccs = [r["uscc"] for r in result.summary["legal_entities"]]
    assert len(usccs) >= 4
    hazardous = [r["uscc"] for r in result.summary["legal_entities"] if r["hazard_class"]]
    assert usccs[:len(hazardous)] == hazardous and len(hazardous) == 2
    positions = [html_en.index(u) for u in usccs]
    assert positions == sorted(positions)
    far = make_frames()["legal_entities"]["uscc"].iloc[-1]
    assert far not in html_en  # outside the hazard


def test_report_zh_has_chinese_headings(html_zh):
    for heading in ("情景参数", "受影响人口", "需通知的法人单位", "重要设施", "避难安置",
                    "基本生活物资需求", "数据来源", "影响区域详图", "总览图"):
        assert f">{heading}</h2>" in html_zh, heading
    assert "氯气泄漏演练" in html_zh
    assert html_zh.count("RESTRICTED / 限制") >= 2
    assert '<html lang="zh-CN">' in html_zh
    assert "Chlorine leak drill" not in html_zh.split("<body>", 1)[1]


def test_straight_line_fallback_said_plainly(frames):
    doc = report_html(make_result(frames, method="straight_line"), frames, lang="en")
    assert "STRAIGHT-LINE DISTANCE" in doc
    doc_zh = report_html(make_result(frames, method="straight_line"), frames, lang="zh")
    assert "直线距离" in doc_zh


def test_no_shelter_assignment_is_not_reported_as_everyone_unsheltered(frames):
    r = make_result(frames)
    r.summary["shelters"] = {"method": "none", "displaced": 63, "capacity": 0,
                             "unsheltered": 63, "assignment": [], "error": "no layer"}
    doc = report_html(r, frames, lang="en")
    section = doc[doc.index("Shelters and evacuation"):]
    section = section[:section.index("</section>")] if "</section>" in section else section
    assert "No shelter assignment" in section and "63" in section
    assert "Unsheltered" not in section and "Walking distance" not in section


def test_long_lists_are_capped(frames, result, monkeypatch):
    monkeypatch.setattr(report, "MAX_ROWS", 3)
    doc = report_html(result, frames)
    n = len(result.summary["legal_entities"])
    assert f"… and {n - 3} more" in doc


def test_bad_arguments(result, frames):
    with pytest.raises(ValueError, match="lang must be one of en, zh"):
        report_html(result, frames, lang="fr")
    with pytest.raises(ValueError, match="classification must be one of"):
        report_html(result, frames, classification="secret")
    with pytest.raises(TypeError, match="summary"):
        report_html(SimpleNamespace(summary=None), frames)


def test_report_without_geometry_or_context():
    """An empty footprint and no city layers still make a report (no maps)."""
    res = make_result()
    res.footprint = res.footprint.iloc[0:0]
    res.affected = {}
    res.assignment = None
    res.summary = dict(res.summary, hazard={"kind": "drawn"}, legal_entities=[], facilities={},
                       shelters={}, needs=None, bands=[])
    doc = report_html(res, {}, lang="zh")
    assert "无地图" in doc and "<img" in doc  # the age chart is still there


def test_write_report_atomic(tmp_path, html_en):
    out = tmp_path / "report.html"
    assert write_report(out, html_en) == out
    assert out.read_text(encoding="utf-8") == html_en
    with pytest.raises(TypeError, match="html must be str"):
        write_report(tmp_path / "bad.html", b"<html></html>")
    with pytest.raises(TypeError):
        write_report(out, None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
    assert out.read_text(encoding="utf-8") == html_en  # the old file survives


def test_write_report_failure_leaves_no_partial_file(tmp_path, monkeypatch):
    out = tmp_path / "r.html"

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(report.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_report(out, "<html></html>")
    assert list(tmp_path.iterdir()) == []


def test_polygons_draw_as_one_path_with_holes():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    polys = shapely.buffer(shapely.points(np.arange(5) * 10.0, np.zeros(5)), 2)
    # a clockwise shell with a counter-clockwise hole: orientation is normalised
    polys[2] = shapely.Polygon([(0, 0), (0, 10), (10, 10), (10, 0)],
                               [[(2, 2), (8, 2), (8, 8), (2, 8)]])
    path = report._path_from(np.r_[polys, [None]], closed=True)
    assert (path.codes == path.MOVETO).sum() == 6  # 5 exteriors + 1 hole, one path
    fig = Figure(figsize=(1, 1), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    assert report._draw_polys(ax, polys[2:3], facecolor="black", edgecolor="none")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    assert rgba[50, 50, 0] == 255  # the hole stays empty
    assert rgba[95, 5, 0] == 0  # the shell is filled


def test_sources_show_their_classification(result, frames):
    sources = [dict(SOURCES[0], classification="public"),
               dict(SOURCES[1], classification="restricted")]
    doc = report_html(result, frames, sources=sources)
    section = doc.split(">Data sources</h2>", 1)[1]
    assert "<th>Classification</th>" in section and "RESTRICTED / 限制" in section
    assert "<th>Classification</th>" not in report_html(result, frames, sources=SOURCES)
