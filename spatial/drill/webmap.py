"""Interactive drill map: one folium/Leaflet HTML file that opens with the network off.

:func:`export_webmap` writes the result of a drill as a Leaflet map whose
basemap is the city's own layers (communities, roads, buildings near the
hazard), with the hazard bands, affected buildings, legal entities to notify
(hazardous-chemical enterprises apart, in red), critical facilities, roads cut,
shelters and assignment lines as layers in a layer control, with bilingual
popups and tooltips.  Coordinates are written in EPSG:4326, rounded to about a
metre, geometry simplified, and context buildings capped, to keep the file small.

Offline by construction: the map has no tile layer (``tiles=None``), folium's
CDN links (Leaflet, jQuery, Bootstrap, Font Awesome, awesome-markers) are not
emitted, and Leaflet's own ``leaflet.js`` and ``leaflet.css`` — vendored in
``resources/leaflet/`` (BSD-2-Clause, see ``SOURCE.md`` there) — are inlined,
with the CSS's images as ``data:`` URIs.  No folium element that needs jQuery
(``folium.Popup``) or icon fonts (``folium.Icon``) is used: popups are built by
a few lines of plain JavaScript with ``textContent``, so data is never parsed
as HTML.  :func:`webmap_html` checks the page before returning it and raises if
any ``<script src>``, ``<link href>`` or tile URL points at the network.

People counts of 1–4 per building or per assignment line show as ``<5``.

Examples
--------
>>> sorted(leaflet_assets())
['css', 'js', 'version']
>>> leaflet_assets()["version"]
'1.9.3'
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from branca.element import Element, MacroElement
from folium.map import Layer
from folium.template import Template

from spatial.drill.report import (
    ASSIGN_COLOR,
    CLASSIFICATION_STAMPS,
    ENTITY_COLOR,
    FACILITY_COLOR,
    HAZARDOUS_COLOR,
    SHELTER_COLOR,
    _bounds_to,
    _geo,
    _hazardous_mask,
    _lang,
    _source_point,
    _subset,
    _title,
    atomic_write_text,
    band_colors,
    text,
)
from spatial.privacy import SUPPRESSION_THRESHOLD
from spatial.schema import key_column

__all__ = [
    "LEAFLET_DIR",
    "MAX_CONTEXT_BUILDINGS",
    "MAX_FEATURES",
    "export_webmap",
    "external_references",
    "leaflet_assets",
    "webmap_html",
]

#: The vendored Leaflet files (``leaflet.js``, ``leaflet.css``, ``images/``).
LEAFLET_DIR = Path(__file__).resolve().parents[2] / "resources" / "leaflet"

#: At most this many context buildings (nearest the hazard first) go into the file.
MAX_CONTEXT_BUILDINGS = 10_000
#: Assignment lines are shown when the map opens up to this many (else switched off).
ASSIGNMENT_SHOWN = 2_000
#: At most this many features per drill layer (affected buildings, other legal entities,
#: assignment lines): the most severe band, the notification order or the most people
#: first; the title panel says how many of how many are shown.
MAX_FEATURES = 20_000

_WGS84 = pyproj.CRS.from_epsg(4326)
_FACILITIES = ("schools", "kindergartens", "hospitals", "clinics", "elderly_care")

_LABELS: dict[str, dict[str, str]] = {
    "communities": {"en": "Communities", "zh": "社区"},
    "roads": {"en": "Roads", "zh": "道路"},
    "buildings": {"en": "Buildings", "zh": "建筑"},
    "bands": {"en": "Hazard bands", "zh": "危害分区"},
    "affected": {"en": "Affected buildings", "zh": "受影响建筑"},
    "roads_cut": {"en": "Roads cut", "zh": "受阻道路"},
    "hazardous": {"en": "Hazardous-chemical enterprises", "zh": "危化企业"},
    "entities": {"en": "Other legal entities to notify", "zh": "其他需通知的法人单位"},
    "facilities": {"en": "Critical facilities in the hazard", "zh": "危害范围内的重要设施"},
    "shelters": {"en": "Shelters", "zh": "避难场所"},
    "assignment": {"en": "Assignment to shelters", "zh": "避难场所分配"},
    "source": {"en": "Hazard source", "zh": "危险源"},
    # popup fields
    "band": {"en": "Band", "zh": "分区"},
    "id": {"en": "ID", "zh": "编号"},
    "name": {"en": "Name", "zh": "名称"},
    "use": {"en": "Use", "zh": "用途"},
    "floors": {"en": "Floors", "zh": "层数"},
    "residents": {"en": "Residents", "zh": "居民"},
    "uscc": {"en": "USCC", "zh": "统一社会信用代码"},
    "industry": {"en": "Industry", "zh": "行业"},
    "employees": {"en": "Employees", "zh": "从业人员"},
    "hazard_class": {"en": "Hazard class", "zh": "危险类别"},
    "layer": {"en": "Kind", "zh": "类别"},
    "pupils": {"en": "Pupils", "zh": "学生数"},
    "beds": {"en": "Beds", "zh": "床位"},
    "capacity": {"en": "Capacity", "zh": "容量"},
    "assigned": {"en": "Assigned", "zh": "分配人数"},
    "from": {"en": "From building", "zh": "出发建筑"},
    "to": {"en": "To shelter", "zh": "目标避难场所"},
    "people": {"en": "People", "zh": "人数"},
    "distance": {"en": "Distance (m)", "zh": "距离(米)"},
    "length": {"en": "Length (m)", "zh": "长度(米)"},
    "class": {"en": "Class", "zh": "等级"},
    "run_at": {"en": "Run at (UTC)", "zh": "运行时间(UTC)"},
    "shown": {"en": "Shown", "zh": "显示"},
    "method_straight": {"en": "Shelter routes: straight-line distance (no road network)",
                        "zh": "避难路线:直线距离(无道路网络)"},
    "schools": {"en": "School", "zh": "学校"},
    "kindergartens": {"en": "Kindergarten", "zh": "幼儿园"},
    "hospitals": {"en": "Hospital", "zh": "医院"},
    "clinics": {"en": "Clinic", "zh": "社区卫生服务站"},
    "elderly_care": {"en": "Elderly care home", "zh": "养老机构"},
}


def _label(key: str, lang: str) -> str:
    """``"English · 中文"`` with ``lang`` first: the map is shared across agencies."""
    entry = _LABELS[key]
    other = "zh" if lang == "en" else "en"
    return f"{entry[lang]} · {entry[other]}"


# --------------------------------------------------------------------------- assets
@functools.lru_cache(maxsize=1)
def _read_assets(folder: str) -> tuple[str, str, str]:
    root = Path(folder)
    js_path, css_path = root / "leaflet.js", root / "leaflet.css"
    for p in (js_path, css_path):
        if not p.is_file():
            raise FileNotFoundError(f"{p}: the vendored Leaflet file is missing "
                                    "(see resources/leaflet/SOURCE.md)")
    js = js_path.read_text(encoding="utf-8")
    js = re.sub(r"\n//# sourceMappingURL=\S+\s*$", "\n", js)
    m = re.search(r"Leaflet (\d+\.\d+\.\d+)", js[:400])
    version = m.group(1) if m else "unknown"
    css = css_path.read_text(encoding="utf-8")

    def inline(match: re.Match) -> str:
        name = match.group(1)
        img = root / name
        if not img.is_file():
            return "none"
        data = base64.b64encode(img.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    css = re.sub(r"url\((images/[\w.\-]+\.png)\)", inline, css)
    for what, content in (("script", js), ("style", css)):
        if re.search(rf"</{what}", content, re.IGNORECASE):
            raise ValueError(f"the vendored Leaflet {what} contains '</{what}' and cannot be "
                             "inlined")
    return js, css, version


def leaflet_assets() -> dict[str, str]:
    """The vendored Leaflet: ``{"js", "css", "version"}``; the CSS's images are inlined."""
    js, css, version = _read_assets(str(LEAFLET_DIR))
    return {"js": js, "css": css, "version": version}


class _Raw(Element):
    """A fixed piece of HTML, written as is (not a Jinja template: Leaflet's source
    must not be parsed as one)."""

    def __init__(self, content: str, name: str) -> None:
        super().__init__()
        self._name = name
        self._content = content

    def render(self, **kwargs) -> str:
        return self._content


class _Script(MacroElement):
    """A line of JavaScript run after its parent (the map) exists."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "CityFrameScript"
        self.code = code


class _OfflineMap(folium.Map):
    """A folium Map that adds no CDN ``<script>``/``<link>`` (its own lists are empty)."""

    default_js: ClassVar[list] = []
    default_css: ClassVar[list] = []


_HELPERS_JS = """
function cfTable(p, fields) {
  var t = document.createElement('table');
  t.className = 'cf-popup';
  for (var i = 0; i < fields.length; i++) {
    var v = p[fields[i][0]];
    if (v === null || v === undefined || v === '') continue;
    var tr = t.insertRow();
    var th = document.createElement('th');
    th.textContent = fields[i][1];
    tr.appendChild(th);
    tr.insertCell().textContent = String(v);
  }
  return t;
}
function cfBind(layer, feature, fields, tip) {
  var p = feature.properties || {};
  if (fields.length) layer.bindPopup(function () { return cfTable(p, fields); });
  if (tip && p[tip] !== null && p[tip] !== undefined && p[tip] !== '') {
    layer.bindTooltip(function () {
      var s = document.createElement('span'); s.textContent = String(p[tip]); return s;
    }, {sticky: true});
  }
}
"""

_PAGE_CSS = """
.cf-popup { border-collapse: collapse; font-size: 12px; }
.cf-popup th { text-align: left; padding: 1px 8px 1px 0; color: #444; font-weight: 600;
               white-space: nowrap; vertical-align: top; }
.cf-popup td { padding: 1px 0; }
.cf-panel { position: absolute; left: 10px; bottom: 64px; z-index: 1000; background: #fff;
            padding: 8px 10px; border-radius: 4px; box-shadow: 0 1px 5px rgba(0,0,0,0.4);
            font: 12px/1.4 "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", Arial,
            sans-serif; max-width: 340px; }
.cf-panel h1 { font-size: 14px; margin: 0 0 2px 0; }
.cf-stamp { color: #b10026; font-weight: bold; border: 1.5px solid #b10026; display: inline-block;
            padding: 0 6px; margin-bottom: 4px; letter-spacing: 1px; }
.cf-key { display: inline-block; width: 12px; height: 12px; margin-right: 5px;
          vertical-align: -2px; border: 1px solid rgba(0,0,0,0.3); }
.cf-dot { border-radius: 50%; }
.cf-warn { color: #b10026; font-weight: bold; }
.leaflet-container { background: #f4f3ef; }
"""


def _js(value: Any) -> str:
    """JSON for a ``<script>``: UTF-8 kept (smaller than \\u escapes), ``<``, ``>``, ``&``
    and ``'`` escaped so no data can close the script or open a tag."""
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("'", "\\u0027"))


class _GeoLayer(Layer):
    """One GeoJSON overlay drawn by plain Leaflet: a fixed style (or one per value of a
    ``_k`` property), circle markers for points, a popup table and a tooltip."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJson({{ this.js["data"] }}, {
            style: function (f) {
                var s = {{ this.js["styles"] }}[f.properties._k];
                return s || {{ this.js["style"] }};
            },
            pointToLayer: function (f, latlng) { return L.circleMarker(latlng); },
            onEachFeature: function (f, layer) {
                cfBind(layer, f, {{ this.js["fields"] }}, {{ this.js["tooltip"] }});
            }
        });
        {% endmacro %}
        """
    )

    def __init__(self, data: dict, name: str, *, style: dict, styles: dict | None = None,
                 fields: list | None = None, tooltip: str | None = None,
                 show: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "CityFrameGeoJson"
        self.data = data
        self.js = {k: _js(v) for k, v in (("data", data), ("style", style),
                                          ("styles", styles or {}), ("fields", fields or []),
                                          ("tooltip", tooltip))}

    def _get_self_bounds(self):
        return None


# --------------------------------------------------------------------------- geometry
def _to_wgs84(frame: gpd.GeoDataFrame, tolerance: float, metric_crs: pyproj.CRS) -> np.ndarray:
    """Geometry simplified by ``tolerance`` metres (in ``metric_crs``) and in EPSG:4326."""
    geoms = frame.geometry
    if tolerance > 0:
        if geoms.crs != metric_crs:
            geoms = geoms.to_crs(metric_crs)
        geoms = geoms.simplify(tolerance, preserve_topology=True)
    return geoms.to_crs(_WGS84).values


def _features(frame: gpd.GeoDataFrame | None, props: pd.DataFrame | None, metric_crs, *,
              tolerance: float = 0.0, decimals: int = 5, merge: bool = False) -> dict:
    """A GeoJSON FeatureCollection dict; ``props`` rows align with ``frame``'s.

    ``merge``: all polygons as one MultiPolygon feature (no properties) — a third
    smaller for context buildings, and one canvas layer for Leaflet to draw."""
    if frame is None or not len(frame):
        return {"type": "FeatureCollection", "features": []}
    geoms = _to_wgs84(frame, tolerance, metric_crs)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, decimals))
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if merge:
        parts = shapely.get_parts(geoms[keep])
        parts = parts[shapely.get_type_id(parts) == 3]
        if not len(parts):
            return {"type": "FeatureCollection", "features": []}
        merged = shapely.to_geojson(shapely.multipolygons(parts))
        return {"type": "FeatureCollection",
                "features": [{"type": "Feature", "geometry": json.loads(merged),
                              "properties": {}}]}
    texts = shapely.to_geojson(geoms[keep])
    if props is None or props.shape[1] == 0:
        records = [{}] * int(keep.sum())
    else:
        p = props.iloc[np.flatnonzero(keep)]
        p = p.astype(object).where(p.notna(), None)
        records = p.to_dict("records")
    features = [{"type": "Feature", "geometry": json.loads(g), "properties": r}
                for g, r in zip(texts, records)]
    return {"type": "FeatureCollection", "features": features}


def _people(values: pd.Series) -> pd.Series:
    """People counts for a popup: ``<5`` for 1–4 (privacy rule), integers otherwise."""
    v = pd.to_numeric(values, errors="coerce")
    small = (v > 0) & (v < SUPPRESSION_THRESHOLD)
    out = v.round().astype("Int64").astype(object).where(v.notna(), None)
    out[small.to_numpy()] = f"<{SUPPRESSION_THRESHOLD}"
    return out


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series([None] * len(frame), index=frame.index)


def _text_col(frame: pd.DataFrame, name: str) -> pd.Series:
    s = _col(frame, name)
    return s.astype(object).where(s.notna(), None).map(lambda v: None if v is None else str(v))


# --------------------------------------------------------------------------- the page
def _hazard_extent(result: Any, metric_crs: pyproj.CRS):
    boxes = []
    fp = _geo(getattr(result, "footprint", None))
    if fp is not None:
        boxes.append(fp.to_crs(metric_crs).total_bounds if fp.crs != metric_crs
                     else fp.total_bounds)
    ab = _geo((getattr(result, "affected", None) or {}).get("buildings"))
    if ab is not None:
        boxes.append(ab.to_crs(metric_crs).total_bounds if ab.crs != metric_crs
                     else ab.total_bounds)
    src = _source_point(result, metric_crs)
    if src is not None:
        boxes.append((*src, *src))
    boxes = [b for b in boxes if np.all(np.isfinite(b))]
    if not boxes:
        return None
    b = np.array(boxes, dtype=float)
    x0, y0, x1, y1 = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    margin = max(250.0, 0.1 * max(x1 - x0, y1 - y0))
    return (x0 - margin, y0 - margin, x1 + margin, y1 + margin)


def _cap(frame: gpd.GeoDataFrame, key: str, lang: str, notes: list[str], *,
         by: str | None = None, ascending: bool = True) -> gpd.GeoDataFrame:
    """``frame`` cut to :data:`MAX_FEATURES` rows (sorted by ``by`` first), noting the cut."""
    if len(frame) <= MAX_FEATURES:
        return frame
    if by is not None and by in frame:
        frame = frame.sort_values(by, ascending=ascending, kind="stable")
    notes.append(f"{_label(key, lang)}: {MAX_FEATURES:,} / {len(frame):,}")
    return frame.iloc[:MAX_FEATURES]


def _panel(result: Any, lang: str, classification: str, colors: list[str], bands: list[str],
           straight_line: bool, notes: list[str]) -> str:
    import html as _html

    summary = getattr(result, "summary", None) or {}
    title = _title(summary.get("title") or getattr(getattr(result, "scenario", None), "title",
                                                    None), lang) or text("report", lang)
    run_at = getattr(result, "run_at", None) or summary.get("run_at") or ""
    e = _html.escape
    keys = "".join(
        f'<div><span class="cf-key" style="background:{c};opacity:0.75"></span>{e(b)}</div>'
        for c, b in zip(colors, bands))
    if keys:
        keys = f"<div><b>{e(_label('bands', lang))}</b></div>{keys}"
    dots = "".join(
        f'<div><span class="cf-key cf-dot" style="background:{c}"></span>{e(_label(k, lang))}</div>'
        for k, c in (("hazardous", HAZARDOUS_COLOR), ("entities", ENTITY_COLOR),
                     ("facilities", FACILITY_COLOR), ("shelters", SHELTER_COLOR)))
    warn = (f'<div class="cf-warn">{e(_label("method_straight", lang))}</div>'
            if straight_line else "")
    if notes:
        warn += f"<div>{e(_label('shown', lang))}: {e('; '.join(notes))}</div>"
    return (f'<div class="cf-panel"><div class="cf-stamp">'
            f"{e(CLASSIFICATION_STAMPS[classification])}</div>"
            f"<h1>{e(title)}</h1><div>{e(_label('run_at', lang))}: {e(run_at)}</div>"
            f"{warn}{keys}{dots}</div>")


def webmap_html(result: Any, frames: Mapping[str, Any], *, lang: str = "en",
                classification: str = "internal") -> str:
    """The interactive map of a drill result as one offline HTML page (see the module).

    Parameters
    ----------
    result : DrillResult
    frames : mapping of str to DataFrame
        The workspace's layers: ``communities``, ``roads``, ``buildings`` and
        ``shelters`` are drawn near the hazard when present.
    lang : {"en", "zh"}
        The language shown first in the bilingual labels.
    classification : {"public", "internal", "restricted"}
        Shown as a stamp in the title panel.

    Returns
    -------
    str
    """
    lang = _lang(lang)
    if classification not in CLASSIFICATION_STAMPS:
        raise ValueError(f"classification must be one of {', '.join(CLASSIFICATION_STAMPS)}, "
                         f"got {classification!r}")
    if not hasattr(result, "metric_crs"):
        raise TypeError("result must be a DrillResult (it has no metric_crs)")
    frames = frames or {}
    crs = pyproj.CRS.from_user_input(result.metric_crs)
    affected = {k: (v if v.crs == crs else v.to_crs(crs))
                for k, v in (getattr(result, "affected", None) or {}).items()
                if _geo(v) is not None}
    summary = getattr(result, "summary", None) or {}
    extent = _hazard_extent(result, crs)
    if extent is None:  # nothing to centre on: the city
        for layer in ("communities", "buildings", "roads"):
            f = _geo(frames.get(layer))
            if f is not None:
                extent = _bounds_to(f.total_bounds, f.crs, crs)
                break
    if extent is None:
        raise ValueError("nothing to map: the result has no geometry and the workspace no "
                         "communities, buildings or roads")
    w, s, e, n = _bounds_to(extent, crs, _WGS84)
    assets = leaflet_assets()

    m = _OfflineMap(location=[(s + n) / 2, (w + e) / 2], zoom_start=14, tiles=None,
                    control_scale=False, prefer_canvas=True, max_zoom=20, font_size="13px",
                    zoom_snap=0.25, zoom_delta=0.5)
    root = m.get_root()
    root.title = _title(summary.get("title"), lang) or "CityFrame"
    root.header.add_child(_Raw(f"<style>{assets['css']}</style>", "leaflet_css"), name="leaflet_css")
    root.header.add_child(_Raw(f"<script>{assets['js']}</script>", "leaflet_js"), name="leaflet_js")
    root.header.add_child(_Raw(f"<style>{_PAGE_CSS}</style><script>{_HELPERS_JS}</script>",
                               "cityframe"), name="cityframe_helpers")

    # ---- basemap from the city's own layers
    communities = _subset(frames.get("communities"), extent, crs)
    if communities is not None:
        props = pd.DataFrame({"name": _text_col(communities, "name")}, index=communities.index)
        m.add_child(_GeoLayer(
            _features(communities, props, crs, tolerance=2.0), _label("communities", lang),
            style={"color": "#666666", "weight": 1.2, "dashArray": "5 4", "fill": False},
            tooltip="name"))
    roads = _subset(frames.get("roads"), extent, crs)
    if roads is not None:
        props = pd.DataFrame({"name": _text_col(roads, "name")}, index=roads.index)
        m.add_child(_GeoLayer(
            _features(roads, props, crs, tolerance=2.0), _label("roads", lang),
            style={"color": "#ffffff", "weight": 3, "opacity": 1.0}, tooltip="name"))
    buildings = _subset(frames.get("buildings"), extent, crs, limit=MAX_CONTEXT_BUILDINGS,
                        nearest=True)
    if buildings is not None:
        m.add_child(_GeoLayer(
            _features(buildings, None, crs, tolerance=1.0, merge=True), _label("buildings", lang),
            style={"stroke": False, "fillColor": "#b9b9b9", "fillOpacity": 0.9}))

    # ---- hazard bands
    fp = _geo(getattr(result, "footprint", None))
    colors: list[str] = []
    band_names: list[str] = []
    if fp is not None:
        fp = fp.to_crs(crs) if fp.crs != crs else fp
        fp = fp.sort_values("order", kind="stable") if "order" in fp else fp
        band_names = fp["band"].astype(str).tolist() if "band" in fp else [""] * len(fp)
        colors = band_colors(len(fp))
        keys = [str(i) for i in range(len(fp))]
        props = pd.DataFrame({"_k": keys, "band": band_names}, index=fp.index)
        styles = {k: {"color": c, "weight": 1.5, "fillColor": c, "fillOpacity": 0.3}
                  for k, c in zip(keys, colors)}
        m.add_child(_GeoLayer(
            _features(fp, props, crs, decimals=6), _label("bands", lang), style=styles.get("0", {}),
            styles=styles, fields=[["band", _label("band", lang)]], tooltip="band"))

    # ---- affected buildings, by band
    notes: list[str] = []
    ab = affected.get("buildings")
    if ab is not None:
        if "order" not in ab and "band" in ab:  # run_drill adds it; a hand-made result may not
            ab = ab.assign(order=ab["band"].astype(str).map(
                {b: i for i, b in enumerate(band_names)}).fillna(len(band_names)))
        ab = _cap(ab, "affected", lang, notes, by="order")
        band = _text_col(ab, "band")
        k = band.map({b: str(i) for i, b in enumerate(band_names)}).fillna("0")
        props = pd.DataFrame({
            "_k": k, "id": _text_col(ab, "building_id"), "use": _text_col(ab, "use"),
            "floors": _col(ab, "floors"), "band": band, "residents": _people(_col(ab, "residents")),
        }, index=ab.index)
        styles = {str(i): {"color": "#333333", "weight": 0.5, "fillColor": c, "fillOpacity": 0.9}
                  for i, c in enumerate(colors or ["#e31a1c"])}
        fields = [[c, _label(c, lang)] for c in ("id", "use", "floors", "band", "residents")]
        m.add_child(_GeoLayer(_features(ab, props, crs, tolerance=0.5), _label("affected", lang),
                              style=styles["0"], styles=styles, fields=fields, tooltip="id"))

    # ---- roads cut
    rc = affected.get("roads")
    if rc is not None:
        props = pd.DataFrame({"id": _text_col(rc, "road_id"), "name": _text_col(rc, "name"),
                              "class": _text_col(rc, "class"), "band": _text_col(rc, "band"),
                              "length": np.round(rc.geometry.length.to_numpy())},
                             index=rc.index)
        fields = [[c, _label(c, lang)] for c in ("id", "name", "class", "band", "length")]
        m.add_child(_GeoLayer(_features(rc, props, crs, tolerance=1.0), _label("roads_cut", lang),
                              style={"color": "#6a3d9a", "weight": 4, "opacity": 0.9},
                              fields=fields, tooltip="name"))

    # ---- assignment lines (under the points)
    asg = _geo(getattr(result, "assignment", None))
    if asg is not None:
        asg = asg.to_crs(crs) if asg.crs != crs else asg
        asg = _cap(asg, "assignment", lang, notes, by="people", ascending=False)
        props = pd.DataFrame({"from": _text_col(asg, "from_id"),
                              "to": _text_col(asg, "shelter_id"),
                              "people": _people(_col(asg, "people")),
                              "distance": pd.to_numeric(_col(asg, "distance_m"),
                                                        errors="coerce").round()},
                             index=asg.index)
        fields = [[c, _label(c, lang)] for c in ("from", "to", "people", "distance")]
        # thousands of lines hide the map: then the layer starts switched off
        m.add_child(_GeoLayer(_features(asg, props, crs), _label("assignment", lang),
                              style={"color": ASSIGN_COLOR, "weight": 0.7, "opacity": 0.35},
                              fields=fields, show=len(asg) <= ASSIGNMENT_SHOWN))

    # ---- shelters (those near the hazard and those used)
    shelters_all = _geo(frames.get("shelters"))
    if shelters_all is not None:
        near = _subset(shelters_all, extent, crs)
        used_ids = set()
        if asg is not None and "shelter_id" in asg:
            used_ids = set(asg["shelter_id"].astype(str))
        sid_col = key_column("shelters", shelters_all.columns) or "shelter_id"
        if used_ids and sid_col in shelters_all:
            used = shelters_all[shelters_all[sid_col].astype(str).isin(used_ids)]
            used = used.to_crs(crs) if used.crs != crs else used
            near = used if near is None else pd.concat([near, used[~used.index.isin(near.index)]])
        if near is not None and len(near):
            assigned = {}
            sh = summary.get("shelters")
            if isinstance(sh, Mapping) and isinstance(sh.get("assignment"), list):
                assigned = {str(a.get("shelter_id")): a.get("assigned")
                            for a in sh["assignment"] if isinstance(a, Mapping)}
            ids = _text_col(near, sid_col)
            props = pd.DataFrame({"id": ids, "name": _text_col(near, "name"),
                                  "capacity": _col(near, "capacity"),
                                  "assigned": _people(ids.map(assigned))}, index=near.index)
            fields = [[c, _label(c, lang)] for c in ("id", "name", "capacity", "assigned")]
            m.add_child(_GeoLayer(
                _features(near, props, crs), _label("shelters", lang),
                style={"radius": 6, "color": "#ffffff", "weight": 1.5, "fillColor": SHELTER_COLOR,
                       "fillOpacity": 1.0}, fields=fields, tooltip="name"))

    # ---- critical facilities in the hazard
    fac = [(k, v) for k, v in affected.items() if k in _FACILITIES or k in summary.get(
        "facilities", {})]
    fac = [(k, v) for k, v in fac if k not in ("buildings", "legal_entities", "roads")]
    if fac:
        pieces, props = [], []
        for layer, f in fac:  # one loop per layer (a handful), never per feature
            idc = key_column(layer, f.columns)
            measure = {c: _col(f, c) for c in ("pupils", "beds", "capacity")}
            measure["pupils"] = _people(measure["pupils"])  # a people count (privacy rule)
            props.append(pd.DataFrame({
                "layer": _label(layer, lang) if layer in _LABELS else layer,
                "id": _text_col(f, idc) if idc else None, "name": _text_col(f, "name"),
                "band": _text_col(f, "band"), **measure}, index=f.index))
            pieces.append(f[[f.geometry.name]].rename_geometry("geometry")
                          if f.geometry.name != "geometry" else f[["geometry"]])
        geo = gpd.GeoDataFrame(pd.concat(pieces, ignore_index=True), geometry="geometry", crs=crs)
        pts = geo.copy()
        pts["geometry"] = shapely.point_on_surface(geo.geometry.values)
        props_df = pd.concat(props, ignore_index=True)
        fields = [[c, _label(c, lang)] for c in ("layer", "id", "name", "band", "pupils", "beds",
                                                 "capacity")]
        m.add_child(_GeoLayer(
            _features(pts, props_df, crs), _label("facilities", lang),
            style={"radius": 6, "color": "#ffffff", "weight": 1.5, "fillColor": FACILITY_COLOR,
                   "fillOpacity": 1.0}, fields=fields, tooltip="name"))

    # ---- legal entities to notify: other ones, then hazardous ones on top
    le = affected.get("legal_entities")
    if le is not None:
        hz = _hazardous_mask(le)
        fields = [[c, _label(c, lang)] for c in ("uscc", "name", "industry", "employees",
                                                 "hazard_class", "band")]
        for key, mask, style in (
            ("entities", ~hz, {"radius": 3.5, "color": "#ffffff", "weight": 0.8,
                               "fillColor": ENTITY_COLOR, "fillOpacity": 0.95}),
            ("hazardous", hz, {"radius": 7, "color": "#000000", "weight": 1.5,
                               "fillColor": HAZARDOUS_COLOR, "fillOpacity": 1.0}),
        ):
            part = le[mask]
            if not len(part):
                continue
            part = _cap(part, key, lang, notes)  # already in notification order
            pts = part[[part.geometry.name]].copy()
            pts[part.geometry.name] = shapely.point_on_surface(part.geometry.values)
            props = pd.DataFrame({c: _text_col(part, c) for c in ("uscc", "name", "industry",
                                                                   "hazard_class", "band")},
                                 index=part.index)
            props["employees"] = _people(_col(part, "employees"))
            m.add_child(_GeoLayer(_features(gpd.GeoDataFrame(pts, crs=crs), props, crs),
                                  _label(key, lang), style=style, fields=fields, tooltip="name"))

    # ---- the hazard source
    src = _source_point(result, crs)
    if src is not None:
        pt = gpd.GeoDataFrame({"name": [_title(summary.get("title"), lang)]},
                              geometry=[shapely.Point(src)], crs=crs)
        m.add_child(_GeoLayer(
            _features(pt, pt[["name"]], crs, decimals=6), _label("source", lang),
            style={"radius": 9, "color": "#ffffff", "weight": 2, "fillColor": "#000000",
                   "fillOpacity": 1.0}, fields=[["name", _label("source", lang)]],
            tooltip="name"))

    folium.LayerControl(collapsed=False).add_to(m)
    straight = isinstance(summary.get("shelters"), Mapping) and \
        summary["shelters"].get("method") == "straight_line"
    root.html.add_child(_Raw(_panel(result, lang, classification, colors, band_names, straight,
                                    notes),
                             "cityframe_panel"), name="cityframe_panel")
    m.fit_bounds([[s, w], [n, e]])
    m.add_child(_Script(f"L.control.scale({{imperial: false}}).addTo({m.get_name()});"),
                name="cityframe_scale")
    # Leaflet's default attribution prefix links to its web site: plain text instead.
    m.add_child(_Script(f"{m.get_name()}.attributionControl.setPrefix("
                        f"{_js('Leaflet ' + assets['version'] + ' · CityFrame')});"),
                name="cityframe_prefix")

    page = root.render()
    bad = external_references(page)
    if bad:
        raise RuntimeError("the map page would load from the network: " + "; ".join(bad[:5]))
    return page


_EXTERNAL = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)


def external_references(page: str) -> list[str]:
    """What in ``page`` would be fetched from the network: ``<script src>``, ``<link href>``,
    ``<img src>``, CSS ``url()`` and ``@import``, and tile URL templates (``L.tileLayer``)."""
    import html.parser

    found: list[str] = []

    class _P(html.parser.HTMLParser):
        def handle_starttag(self, tag, attrs):
            for name, value in attrs:
                if name in ("src", "href", "data", "srcset", "poster") and value and \
                        _EXTERNAL.search(value) and tag in ("script", "link", "img", "iframe",
                                                             "embed", "object", "source",
                                                             "video", "audio", "image"):
                    found.append(f"<{tag} {name}={value}>")

    _P().feed(page)
    for m in re.finditer(r"url\(\s*['\"]?\s*((https?:)?//[^)'\"]*)", page, re.IGNORECASE):
        found.append(f"url({m.group(1)})")
    for m in re.finditer(r"@import\s+[^;]*?(https?:)?//[^;]*", page, re.IGNORECASE):
        found.append(m.group(0))
    for m in re.finditer(r"L\.tileLayer\(\s*(['\"])(.*?)\1", page, re.DOTALL):
        found.append(f"tile layer {m.group(2)}")
    return found


def export_webmap(result: Any, frames: Mapping[str, Any], path: str | os.PathLike, *,
                  lang: str = "en", classification: str = "internal") -> Path:
    """Write :func:`webmap_html` to ``path`` (UTF-8) atomically and return the path."""
    page = webmap_html(result, frames, lang=lang, classification=classification)
    return atomic_write_text(path, page)
