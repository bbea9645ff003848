"""The drill scenario file, version 1 (DESIGN.md, "The scenario file"): its parsed form.

:func:`parse_scenario` reads the JSON document (a dict, JSON text or a file
path), checks every key and value and returns frozen dataclasses;
:func:`scenario_to_dict` gives the JSON back (``parse_scenario(scenario_to_dict(s))
== s``).  Mistakes raise :class:`ScenarioError` whose ``key`` is the JSON path
(``hazard.rings_m[1]``) and whose ``reason`` says what is wrong in plain words.

Hazard kinds and their keys (``crs`` defaults to ``"EPSG:4326"`` where a
point or geometry is given; any CRS :func:`spatial.crs.resolve_crs` accepts,
including the ``"GCJ-02"`` and ``"BD-09"`` offsets):

========  ============================================================================
kind      keys
========  ============================================================================
buffer    ``point`` + ``crs``, or ``layer`` (+ optional ``where``, as in a query); ``rings_m``
plume     ``point``, ``crs``, ``wind_from_deg``, ``length_m``, ``spread_deg``, optional
          ``shape`` (``"sector"`` or ``"gaussian"``) and ``rings_m`` (each below ``length_m``)
zones     ``layer``, ``class_column``, optional ``classes`` (most severe first) and ``where``
raster    ``path`` (a GeoTIFF, relative to the workspace folder and inside it),
          ``threshold``, optional ``classes`` (ascending thresholds of depth bands)
drawn     ``geometry`` (GeoJSON) + ``crs``; optional ``rings_m`` (needed for points/lines)
========  ============================================================================

Examples
--------
>>> s = parse_scenario({"version": 1, "title": {"en": "Chlorine leak drill"},
...     "hazard": {"kind": "plume", "point": [117.2, 39.13], "wind_from_deg": 45,
...                "length_m": 3000, "spread_deg": 30, "rings_m": [500, 1000]}})
>>> s.hazard.kind, s.hazard.crs, s.hazard.rings_m, s.shelters.layer
('plume', 'EPSG:4326', (500, 1000), 'shelters')
>>> parse_scenario(scenario_to_dict(s)) == s
True
>>> try:
...     parse_scenario({"version": 1, "hazard": {"kind": "buffer", "point": [117.2, 39.1],
...                     "rings_m": [500, "1000"]}})
... except ScenarioError as e:
...     print(e)
hazard.rings_m[1]: lengths are numbers in metres, never strings: write 1000 without quotes
"""

from __future__ import annotations

import difflib
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spatial.errors import CityFrameError, CRSError
from spatial.query.model import _is_bool, _is_number, _looks_numeric, _plain, _type_word
from spatial.query.model import _show as _json_text

__all__ = [
    "DEFAULT_CRS",
    "HAZARD_KINDS",
    "PLUME_SHAPES",
    "Hazard",
    "Scenario",
    "ScenarioError",
    "ShelterSpec",
    "parse_scenario",
    "resolve_inside",
    "scenario_to_dict",
]

HAZARD_KINDS = ("buffer", "plume", "zones", "raster", "drawn")
PLUME_SHAPES = ("sector", "gaussian")
#: The CRS of ``point`` / ``geometry`` when the scenario gives none.
DEFAULT_CRS = "EPSG:4326"

_TOP_KEYS = ("version", "title", "hazard", "shelters", "needs", "population")
_TITLE_KEYS = ("en", "zh")
_SHELTER_KEYS = ("layer", "capacity")
_POPULATION_KEYS = ("raster",)
_KIND_KEYS = {
    "buffer": ("kind", "point", "crs", "layer", "where", "rings_m"),
    "plume": ("kind", "point", "crs", "wind_from_deg", "length_m", "spread_deg", "shape",
              "rings_m"),
    "zones": ("kind", "layer", "class_column", "classes", "where"),
    "raster": ("kind", "path", "threshold", "classes"),
    "drawn": ("kind", "geometry", "crs", "rings_m"),
}
_KIND_ALIASES = {"circle": "buffer", "radius": "buffer", "point": "buffer", "rings": "buffer",
                 "gas": "plume", "wind": "plume", "sector": "plume", "polygon": "drawn",
                 "draw": "drawn", "geometry": "drawn", "flood": "raster", "geotiff": "raster",
                 "tif": "raster", "zone": "zones", "layer": "zones", "classes": "zones"}


class ScenarioError(CityFrameError, ValueError):
    """A scenario file is wrong.

    ``key`` is the JSON path (``hazard.wind_from_deg``, ``hazard.rings_m[1]``,
    ``""`` for the document as a whole), ``reason`` says what is wrong;
    ``str(error)`` is ``"KEY: REASON"`` (prefixed by ``source`` when known).
    """

    def __init__(self, key: str, reason: str, *, source: str | None = None):
        self.key = key
        self.reason = reason
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key}: {reason}" if key else f"{where}{reason}")


@dataclass(frozen=True)
class Hazard:
    """The hazard of a scenario; fields a kind does not use are ``None``.

    ``point`` is in ``crs`` as given (x, y order; longitude first).  ``where``
    is a tuple of :class:`spatial.query.model.Condition` / ``AnyOf``.
    ``classes`` is a tuple (zones: class values, most severe first; raster:
    ascending thresholds).  ``geometry`` is the GeoJSON mapping of a drawn
    hazard.  ``rings_m`` is a tuple of ascending positive distances.
    """

    kind: str
    point: tuple[float, float] | None = None
    crs: Any = None
    layer: str | None = None
    where: tuple | None = None
    class_column: str | None = None
    path: str | None = None
    threshold: float | None = None
    classes: tuple | None = None
    geometry: dict | None = field(default=None, hash=False)
    wind_from_deg: float | None = None
    length_m: float | None = None
    spread_deg: float | None = None
    shape: str | None = None
    rings_m: tuple | None = None


@dataclass(frozen=True)
class ShelterSpec:
    """Which layer holds the shelters and which column their capacity (people)."""

    layer: str = "shelters"
    capacity: str = "capacity"


@dataclass(frozen=True)
class Scenario:
    """A parsed, checked version-1 scenario.

    ``shelters`` is ``None`` when the file says ``"shelters": null`` (no
    shelter assignment).  ``needs`` is the editable needs profile (a mapping
    read by :func:`spatial.drill.needs.profile_from_dict`) or ``None`` for the
    default; ``population`` is ``{"raster": PATH}`` or ``None`` (population
    from the ``population`` table).
    """

    hazard: Hazard
    shelters: ShelterSpec | None = field(default_factory=ShelterSpec)
    title: dict = field(default_factory=dict, hash=False)
    version: int = 1
    needs: dict | None = field(default=None, hash=False)
    population: dict | None = field(default=None, hash=False)


# --------------------------------------------------------------------------- helpers

def _err(key: str, reason: str):
    raise ScenarioError(key, reason)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(v: Any) -> str:
    return _json_text(_plain(v))


def _check_keys(obj: Mapping, allowed, path: str, what: str = "") -> None:
    unknown = [str(k) for k in obj if k not in allowed]
    if unknown:
        key = unknown[0]
        hint = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
        more = f" (and {', '.join(repr(k) for k in unknown[1:])})" if len(unknown) > 1 else ""
        tail = f"; did you mean '{hint[0]}'?" if hint else f"; allowed keys{what}: " + \
            ", ".join(allowed)
        _err(_join(path, key), f"unknown key '{key}'{more}{tail}")


def _number(v: Any, path: str, unit: str = "", *, metres: bool = False) -> float | int:
    """A finite number (never text, never true/false)."""
    what = "lengths are numbers in metres" if metres else "values are numbers"
    if isinstance(v, str):
        if _looks_numeric(v):
            _err(path, f"{what}, never strings: write {v.strip()} without quotes")
        _err(path, f"{what}, never strings (got {_show(v)})")
    if _is_bool(v):
        _err(path, f"must be a number{unit}, not true/false")
    if not _is_number(v):
        _err(path, f"must be a number{unit}, not {_type_word(v)}")
    v = _plain(v)
    if math.isnan(v):
        _err(path, f"must be a number{unit}, not NaN")
    if math.isinf(v):
        _err(path, f"must be a finite number{unit}, not infinity")
    return v


def _length(v: Any, path: str) -> float | int:
    v = _number(v, path, " of metres", metres=True)
    if v <= 0:
        _err(path, f"must be a positive number of metres (got {_show(v)})")
    return v


def _text(v: Any, path: str, what: str) -> str:
    if not isinstance(v, str) or not v.strip():
        _err(path, f"must be {what}, not {_show(v) if isinstance(v, str) else _type_word(v)}")
    return v


def _rings(v: Any, path: str, below: float | None = None) -> tuple:
    if not isinstance(v, (list, tuple)):
        hint = f"; write [{_show(v)}] for one ring" if _is_number(v) else ""
        _err(path, f"must be a list of distances in metres, e.g. [500, 1000]{hint}")
    if not v:
        _err(path, "must list at least one distance in metres, e.g. [500, 1000]")
    out = []
    for i, r in enumerate(v):
        r = _length(r, f"{path}[{i}]")
        if out and r <= out[-1]:
            _err(f"{path}[{i}]", f"must be larger than {_show(out[-1])} (rings are ascending)")
        if below is not None and r >= below:
            _err(f"{path}[{i}]", f"must be shorter than length_m ({_show(below)}); the last band "
                                 f"runs from the last ring to length_m")
        out.append(r)
    return tuple(out)


def _crs(v: Any, path: str) -> Any:
    from spatial.crs import resolve_crs

    if _is_bool(v) or not isinstance(v, (str, int)) or (isinstance(v, str) and not v.strip()):
        _err(path, f"must be a CRS such as \"EPSG:4326\", \"EPSG:4547\" or \"GCJ-02\", not "
                   f"{_show(v) if isinstance(v, str) else _type_word(v)}")
    try:
        resolve_crs(v)
    except CRSError as e:
        _err(path, str(e))
    return v


def _point(v: Any, path: str, crs: Any) -> tuple[float, float]:
    import pyproj

    from spatial.crs import WGS84, resolve_crs, transform_xy

    if isinstance(v, Mapping) and v.get("type") == "Point":
        v = v.get("coordinates")
    if not isinstance(v, (list, tuple)) or len(v) != 2:
        _err(path, "must be [x, y] (longitude, latitude for a geographic CRS), "
                   f"not {_show(v) if not isinstance(v, (list, tuple)) else _show(list(v))}")
    x = _number(v[0], f"{path}[0]")
    y = _number(v[1], f"{path}[1]")
    resolved = resolve_crs(crs)
    geographic = isinstance(resolved, str) or resolved.is_geographic
    if geographic:
        if not -180.0 <= x <= 180.0:
            _err(f"{path}[0]", f"longitude {_show(x)} is outside -180…180 (is the point in "
                               "projected metres? then give its \"crs\", e.g. \"EPSG:4547\")")
        if not -90.0 <= y <= 90.0:
            _err(f"{path}[1]", f"latitude {_show(y)} is outside -90…90 (are x and y swapped?)")
    else:
        try:
            lon, lat = transform_xy(x, y, resolved, WGS84)
        except (ValueError, CRSError, pyproj.exceptions.ProjError) as e:  # pragma: no cover
            _err(path, f"cannot be placed on the earth in the given crs: {e}")
        if not (math.isfinite(lon) and math.isfinite(lat)):
            _err(path, f"({_show(x)}, {_show(y)}) is not a valid position in the given crs")
    return (x, y)


def _geometry(v: Any, path: str) -> dict:
    import shapely
    import shapely.errors
    import shapely.geometry

    if not isinstance(v, Mapping):
        _err(path, "must be a GeoJSON geometry object like {\"type\": \"Polygon\", "
                   f"\"coordinates\": [...]}}, not {_type_word(v)}")
    if v.get("type") == "Feature":
        _err(path, "give the feature's \"geometry\" object, not the Feature")
    kinds = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
    if v.get("type") not in kinds:
        _err(f"{path}.type", f"must be one of {', '.join(kinds)}, not {_show(v.get('type'))}")
    _check_keys(v, ("type", "coordinates"), path)
    try:
        geom = shapely.geometry.shape(v)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError,
            shapely.errors.GEOSException) as e:
        _err(f"{path}.coordinates", f"not valid GeoJSON coordinates for a {v['type']}: {e}")
    if geom.is_empty:
        _err(f"{path}.coordinates", "the geometry is empty")
    coords = shapely.get_coordinates(geom)
    if not all(math.isfinite(c) for c in coords.ravel()):
        _err(f"{path}.coordinates", "coordinates must be finite numbers")
    if not shapely.is_valid(geom):
        reason = shapely.is_valid_reason(geom)
        _err(path, f"the {v['type']} is not valid ({reason}); redraw it without "
                   "self-intersections")
    return json.loads(json.dumps(v))


def _classes(v: Any, path: str, numeric: bool) -> tuple:
    if not isinstance(v, (list, tuple)) or not v:
        _err(path, "must be a non-empty list")
    out = []
    for i, c in enumerate(v):
        p = f"{path}[{i}]"
        if numeric:
            c = _number(c, p)
            if out and c <= out[-1]:
                _err(p, f"must be larger than {_show(out[-1])} (thresholds are ascending)")
        else:
            if _is_bool(c) or not (isinstance(c, str) or _is_number(c)):
                _err(p, f"must be a class value (text or number), not {_type_word(c)}")
            c = _plain(c)
            if _is_number(c) and not math.isfinite(c):
                _err(p, "must be a finite number")
            if c in out:
                _err(p, f"duplicate class {_show(c)}")
        out.append(c)
    return tuple(out)


def _where(v: Any, path: str, layer: str) -> tuple:
    from spatial.query.model import QueryError, _Layer, _Parser

    if v is None:
        return ()
    try:
        return _Parser(None, None).where(v, path, _Layer(layer, None))
    except QueryError as e:
        raise ScenarioError(e.key, e.reason) from None


def resolve_inside(path: Any, base_dir: Any, key: str) -> Path:
    """The absolute path of ``path`` (relative to ``base_dir``), refusing escapes.

    DESIGN.md: paths inside scenario files are relative to the workspace's
    folder and must stay inside it (symbolic links are followed before the
    check).  With ``base_dir=None`` only the form is checked (relative, no
    ``..`` leading out) and the path is returned as given.

    Raises
    ------
    ScenarioError
        Naming ``key``: an absolute path, or one that leads outside ``base_dir``.

    Examples
    --------
    >>> resolve_inside("flood.tif", None, "hazard.path").as_posix()
    'flood.tif'
    >>> resolve_inside("../secret.tif", "/data/ws", "hazard.path")
    Traceback (most recent call last):
    ...
    spatial.drill.scenario.ScenarioError: hazard.path: '../secret.tif' leads outside the \
workspace folder; put the file in the workspace folder and give its path relative to it
    """
    text = _text(path, key, "a file path relative to the workspace folder")
    p = Path(text)
    if p.is_absolute() or text.startswith(("/", "\\")) or (len(text) > 1 and text[1] == ":"):
        _err(key, f"{text!r} is an absolute path; give the path relative to the workspace folder "
                  "(files must stay inside it)")
    outside = (f"{text!r} leads outside the workspace folder; put the file in the workspace "
               "folder and give its path relative to it")
    norm = os.path.normpath(text.replace("\\", "/"))
    if norm == ".." or norm.startswith(("../", "..\\")):
        _err(key, outside)
    if base_dir is None:
        return p
    base = Path(base_dir).resolve()
    full = (base / p).resolve()
    try:
        full.relative_to(base)
    except ValueError:
        _err(key, outside)
    return full


# --------------------------------------------------------------------------- parser

def _hazard(h: Any, base_dir: Any) -> Hazard:
    path = "hazard"
    if not isinstance(h, Mapping):
        _err(path, "must be an object like {\"kind\": \"plume\", \"point\": [x, y], …}, "
                   f"not {_type_word(h)}")
    if "kind" not in h:
        _err("hazard.kind", f"missing; use one of: {', '.join(HAZARD_KINDS)}")
    kind = h["kind"]
    if not isinstance(kind, str) or kind not in HAZARD_KINDS:
        alias = _KIND_ALIASES.get(kind.strip().lower()) if isinstance(kind, str) else None
        if alias is None and isinstance(kind, str):
            m = difflib.get_close_matches(kind, HAZARD_KINDS, n=1, cutoff=0.6)
            alias = m[0] if m else None
        hint = f"; did you mean '{alias}'?" if alias else ""
        _err("hazard.kind", f"unknown hazard kind {_show(kind)}{hint} Use one of: "
                            f"{', '.join(HAZARD_KINDS)}" if hint else
             f"unknown hazard kind {_show(kind)}; use one of: {', '.join(HAZARD_KINDS)}")
    _check_keys(h, _KIND_KEYS[kind], path, f" for a {kind} hazard")
    f: dict[str, Any] = {"kind": kind}

    def need(key: str, example: str) -> Any:
        if h.get(key) is None:
            _err(f"hazard.{key}", f"missing; a {kind} hazard needs {key}, e.g. {example}")
        return h[key]

    if kind in ("buffer", "plume", "drawn"):
        f["crs"] = _crs(h["crs"], "hazard.crs") if h.get("crs") is not None else DEFAULT_CRS

    if kind == "buffer":
        has_point, has_layer = h.get("point") is not None, h.get("layer") is not None
        if has_point and has_layer:
            _err("hazard.layer", "give either a point or a layer, not both")
        if not has_point and not has_layer:
            _err("hazard.point", "missing; a buffer hazard needs a point [x, y] or a layer "
                                 "(e.g. \"layer\": \"hazardous_sites\")")
        if has_point:
            f["point"] = _point(h["point"], "hazard.point", f["crs"])
            if h.get("where") is not None:
                _err("hazard.where", "filters the features of a layer; a point has none")
        else:
            f["layer"] = _text(h["layer"], "hazard.layer", "a layer name")
            f["where"] = _where(h.get("where"), "hazard.where", f["layer"])
            if "crs" not in h or h.get("crs") is None:
                f["crs"] = None  # the layer's own CRS
            else:
                _err("hazard.crs", "a layer's features keep the layer's CRS; remove \"crs\"")
        f["rings_m"] = _rings(need("rings_m", "[500, 1000]"), "hazard.rings_m")
    elif kind == "plume":
        f["point"] = _point(need("point", "[117.20, 39.13]"), "hazard.point", f["crs"])
        wind = _number(need("wind_from_deg", "45 (from the north-east)"), "hazard.wind_from_deg",
                       " of degrees")
        if not 0 <= wind < 360:
            _err("hazard.wind_from_deg", f"must be in [0, 360) degrees clockwise from north, the "
                                         f"direction the wind blows from (got {_show(wind)})")
        f["wind_from_deg"] = wind
        f["length_m"] = _length(need("length_m", "3000"), "hazard.length_m")
        spread = _number(need("spread_deg", "30"), "hazard.spread_deg", " of degrees")
        if not 0 < spread < 180:
            _err("hazard.spread_deg", "must be more than 0 and less than 180 degrees (the full "
                                      f"opening angle of the plume; got {_show(spread)})")
        f["spread_deg"] = spread
        shape = h.get("shape", "sector")
        if shape is None:
            shape = "sector"
        if shape not in PLUME_SHAPES:
            _err("hazard.shape", f"must be one of {', '.join(PLUME_SHAPES)}, not {_show(shape)}")
        f["shape"] = shape
        if h.get("rings_m") is not None:
            f["rings_m"] = _rings(h["rings_m"], "hazard.rings_m", below=f["length_m"])
    elif kind == "zones":
        f["layer"] = _text(need("layer", "\"flood_zones\""), "hazard.layer", "a layer name")
        f["class_column"] = _text(need("class_column", "\"depth_class\""), "hazard.class_column",
                                  "a column name")
        if h.get("classes") is not None:
            f["classes"] = _classes(h["classes"], "hazard.classes", numeric=False)
        f["where"] = _where(h.get("where"), "hazard.where", f["layer"])
    elif kind == "raster":
        raw = need("path", "\"flood_depth.tif\"")
        full = resolve_inside(raw, base_dir, "hazard.path")
        if base_dir is not None and not full.is_file():
            _err("hazard.path", f"file not found: {raw!r} in the workspace folder {base_dir}")
        f["path"] = raw
        f["threshold"] = _number(need("threshold", "0.3"), "hazard.threshold")
        if h.get("classes") is not None:
            classes = _classes(h["classes"], "hazard.classes", numeric=True)
            for i, c in enumerate(classes):
                if c < f["threshold"]:
                    _err(f"hazard.classes[{i}]", f"must not be below the threshold "
                                                 f"({_show(f['threshold'])})")
            f["classes"] = classes
    else:  # drawn
        f["geometry"] = _geometry(need("geometry", "{\"type\": \"Polygon\", \"coordinates\": "
                                                   "[...]}"), "hazard.geometry")
        from spatial.crs import resolve_crs
        resolved = resolve_crs(f["crs"])
        if isinstance(resolved, str) or resolved.is_geographic:
            import shapely
            import shapely.geometry
            xy = shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))
            if (abs(xy[:, 0]) > 180).any() or (abs(xy[:, 1]) > 90).any():
                _err("hazard.geometry.coordinates", "coordinates are outside longitude -180…180 / "
                                                    "latitude -90…90; give the \"crs\" they are in")
        if h.get("rings_m") is not None:
            f["rings_m"] = _rings(h["rings_m"], "hazard.rings_m")
        elif f["geometry"]["type"] not in ("Polygon", "MultiPolygon"):
            _err("hazard.rings_m", f"missing; a drawn {f['geometry']['type']} covers no area, so "
                                   "it needs rings_m (distances around it), e.g. [200]")
    return Hazard(**f)


def _title(t: Any) -> dict:
    if t is None:
        return {}
    if not isinstance(t, Mapping):
        _err("title", f"must be an object like {{\"en\": \"…\", \"zh\": \"…\"}}, not "
                      f"{_type_word(t)}")
    _check_keys(t, _TITLE_KEYS, "title")
    for lang, text in t.items():
        if not isinstance(text, str):
            _err(f"title.{lang}", f"must be text, not {_type_word(text)}")
    return {lang: t[lang] for lang in _TITLE_KEYS if lang in t}


def _shelters(s: Any) -> ShelterSpec | None:
    if s is None:
        return None
    if not isinstance(s, Mapping):
        _err("shelters", "must be an object like {\"layer\": \"shelters\", \"capacity\": "
                         f"\"capacity\"}}, or null, not {_type_word(s)}")
    _check_keys(s, _SHELTER_KEYS, "shelters")
    layer = _text(s.get("layer", "shelters"), "shelters.layer", "a layer name")
    cap = _text(s.get("capacity", "capacity"), "shelters.capacity", "a column name")
    return ShelterSpec(layer, cap)


def _document(doc: Any, base_dir: Any) -> Scenario:
    if not isinstance(doc, Mapping):
        _err("", f"a scenario must be a JSON object {{...}}, not {_type_word(doc)}")
    if "version" not in doc:
        _err("version", "missing; this program reads scenario files of version 1 "
                        "(add \"version\": 1)")
    version = doc["version"]
    if not _is_number(version):
        _err("version", f"must be the number 1, not {_type_word(version)}")
    if version != 1:
        _err("version", f"version {_show(version)} is not supported; this program reads "
                        "version 1")
    _check_keys(doc, _TOP_KEYS, "")
    title = _title(doc.get("title"))
    if doc.get("hazard") is None:
        _err("hazard", "missing; describe the hazard, e.g. {\"kind\": \"buffer\", "
                       "\"point\": [x, y], \"rings_m\": [500]}")
    hazard = _hazard(doc["hazard"], base_dir)
    shelters = _shelters(doc["shelters"]) if "shelters" in doc else ShelterSpec()
    needs = doc.get("needs")
    if needs is not None:
        if not isinstance(needs, Mapping):
            _err("needs", f"must be an object (a needs profile), not {_type_word(needs)}")
        from spatial.drill.needs import NeedsError, profile_from_dict

        try:
            profile_from_dict(needs, key_prefix="needs")
        except NeedsError as e:
            raise ScenarioError(e.key, e.reason) from None
    population = doc.get("population")
    if population is not None:
        if not isinstance(population, Mapping):
            _err("population", "must be an object like {\"raster\": \"population.tif\"}, not "
                               f"{_type_word(population)}")
        _check_keys(population, _POPULATION_KEYS, "population")
        if population.get("raster") is None:
            _err("population.raster", "missing; give the population GeoTIFF's path relative to "
                                      "the workspace folder")
        full = resolve_inside(population["raster"], base_dir, "population.raster")
        if base_dir is not None and not full.is_file():
            _err("population.raster", f"file not found: {population['raster']!r} in the "
                                      f"workspace folder {base_dir}")
        population = {"raster": population["raster"]}
    return Scenario(hazard=hazard, shelters=shelters, title=title, version=1,
                    needs=json.loads(json.dumps(needs)) if needs is not None else None,
                    population=population)


def _load(doc: Any, source: str | None) -> tuple[Any, str | None]:
    if isinstance(doc, os.PathLike) or (
            isinstance(doc, str) and not doc.lstrip().startswith(("{", "["))
            and (doc.strip().lower().endswith(".json") or os.path.isfile(doc))):
        path = Path(doc)
        source = source or str(path)
        try:
            doc = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise ScenarioError("", "file not found", source=source) from None
        except (OSError, UnicodeDecodeError) as e:
            raise ScenarioError("", f"cannot read the file: {e}", source=source) from None
    if isinstance(doc, (str, bytes, bytearray)):
        try:
            doc = json.loads(doc)
        except json.JSONDecodeError as e:
            raise ScenarioError("", f"not valid JSON: {e.msg} at line {e.lineno}, column "
                                    f"{e.colno}", source=source) from None
        except UnicodeDecodeError as e:
            raise ScenarioError("", f"not valid JSON text: {e}", source=source) from None
    return doc, source


def parse_scenario(doc: Any, *, base_dir: Any = None, source: str | None = None) -> Scenario:
    """Read and check a version-1 scenario.

    Parameters
    ----------
    doc : dict, str or os.PathLike
        The scenario document, its JSON text, or the path of a ``.json`` file.
    base_dir : str or os.PathLike, optional
        The workspace folder.  Raster paths are resolved against it, must stay
        inside it and must exist.  Without it only their form is checked.
    source : str, optional
        File name for messages (defaults to the path read).

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        With ``key`` the JSON path of the first mistake and ``reason``.

    Examples
    --------
    >>> try:
    ...     parse_scenario({"version": 1, "hazard": {"kind": "plume", "point": [117.2, 39.1],
    ...         "wind_from_deg": 360, "length_m": 3000, "spread_deg": 30}})
    ... except ScenarioError as e:
    ...     print(e.key)
    hazard.wind_from_deg
    """
    doc, source = _load(doc, source)
    try:
        return _document(doc, base_dir)
    except ScenarioError as e:
        if e.source is None and source:
            raise ScenarioError(e.key, e.reason, source=source) from None
        raise


def _json_number(v: Any) -> Any:
    return _plain(v)


def scenario_to_dict(s: Scenario) -> dict:
    """The JSON document of a scenario (``parse_scenario(scenario_to_dict(s)) == s``).

    Examples
    --------
    >>> s = parse_scenario({"version": 1, "hazard": {"kind": "raster", "path": "f.tif",
    ...                     "threshold": 0.3}, "shelters": None})
    >>> scenario_to_dict(s)
    {'version': 1, 'hazard': {'kind': 'raster', 'path': 'f.tif', 'threshold': 0.3}, 'shelters': None}
    """
    from spatial.query.model import _where_to_json

    h = s.hazard
    hd: dict[str, Any] = {"kind": h.kind}
    order = ("point", "crs", "layer", "where", "class_column", "classes", "path", "threshold",
             "geometry", "wind_from_deg", "length_m", "spread_deg", "shape", "rings_m")
    for key in order:
        v = getattr(h, key)
        if v is None:
            continue
        if key == "where":
            if v:
                hd["where"] = _where_to_json(v)
        elif key in ("point", "rings_m", "classes"):
            hd[key] = [_json_number(x) for x in v]
        elif key == "geometry":
            hd[key] = json.loads(json.dumps(v))
        else:
            hd[key] = _json_number(v)
    d: dict[str, Any] = {"version": s.version}
    if s.title:
        d["title"] = dict(s.title)
    d["hazard"] = hd
    if s.shelters is None:
        d["shelters"] = None
    elif s.shelters != ShelterSpec():
        d["shelters"] = {"layer": s.shelters.layer, "capacity": s.shelters.capacity}
    else:
        d["shelters"] = {"layer": s.shelters.layer, "capacity": s.shelters.capacity}
    if s.needs is not None:
        d["needs"] = json.loads(json.dumps(s.needs))
    if s.population is not None:
        d["population"] = dict(s.population)
    return d
