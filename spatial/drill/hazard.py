"""Hazard footprints: the ground a hazard covers, in severity bands.

:func:`footprint` turns a parsed :class:`~spatial.drill.scenario.Hazard` into
a GeoDataFrame with one row per band — ``band`` (a label such as
``"0–500 m"``, ``"≥ 0.3 m"`` or a zone class), ``order`` (0 = most severe)
and ``geometry`` in the drill's metric CRS.  Bands are disjoint: a more severe
band is cut out of the less severe ones.  Empty bands are left out.

Rules, per kind:

* ``buffer`` — rings around a point (built in the metric CRS with 1024
  segments per circle, within 1.5 cm of the true circle at 3 km) or around
  a layer's features (optionally filtered by ``where``): band *i* is the
  ground within ``rings_m[i]`` and farther than ``rings_m[i-1]``.
* ``plume`` — apex at the source, axis pointing downwind: the wind blows
  *from* ``wind_from_deg`` (clockwise from true north), so the plume goes to
  ``wind_from_deg + 180``.  The grid convergence of the metric CRS at the
  source is corrected, so the axis follows true north.  ``"sector"`` is a
  circular sector of full opening ``spread_deg`` and radius ``length_m``;
  ``"gaussian"`` is the ground-level iso-concentration contour of a Gaussian
  plume with ``sigma_y = sigma_z = x·tan(spread/2)`` that reaches
  ``length_m``: half-width ``2·x·tan(spread/2)·sqrt(ln(length/x))``, a
  teardrop widest at ``0.61·length``.  A small disc around the source
  (:func:`source_radius`: 1 % of the length, 10–50 m) is always included, so
  the release site itself is in the hazard.  ``rings_m`` cut it by distance
  from the source (0–r1, r1–r2, …, r_last–length_m).
* ``zones`` — the layer's polygons dissolved per class; numeric classes
  descending (the highest is the most severe), text classes in the order of
  ``classes`` (classes not listed follow, sorted) or sorted.
* ``raster`` — the pixels whose value is ``>= threshold`` (nodata and NaN
  excluded), polygonised with :func:`rasterio.features.shapes` in exact
  pixel coordinates, placed on the earth and reprojected to the metric CRS
  when the raster is in another CRS;
  ``classes`` (ascending thresholds) give bands ``"0.3–1 m"``, ``"≥ 1 m"``.
* ``drawn`` — the GeoJSON geometry; with ``rings_m`` buffered like ``buffer``.

Examples
--------
>>> import geopandas, shapely
>>> from spatial.drill.scenario import Hazard
>>> b = geopandas.GeoDataFrame({"building_id": ["B1"]}, geometry=[shapely.box(0, 0, 10, 10)],
...                            crs="EPSG:4547")
>>> fp = footprint(Hazard("buffer", point=(500000, 3400000), crs="EPSG:4547",
...                       rings_m=(500, 1000)), {"buildings": b}, metric_crs=drill_crs({"buildings": b}))
>>> fp["band"].tolist(), fp["order"].tolist()
(['0–500 m', '500–1000 m'], [0, 1])
>>> round(float(fp.area.iloc[1]) / 1e6, 3)   # pi * (1000² - 500²) / 1e6 = 2.356
2.356
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import shapely.geometry

from spatial.crs import (
    WGS84,
    is_metric_projected,
    metric_crs_for,
    parse_crs,
    transform_geometries,
    transform_xy,
)
from spatial.errors import CRSError
from spatial.feedback import Feedback, ensure_feedback

from .scenario import Hazard, ScenarioError, resolve_inside

__all__ = [
    "RasterGrid",
    "band_label",
    "drill_crs",
    "footprint",
    "plume_polygon",
    "raster_mask_polygons",
    "source_radius",
]

#: Segments per quarter circle of ring buffers: the polygon is within
#: r·(1 - cos(π/1024)) ≈ 4.7e-6·r of the true circle (1.4 cm at 3 km).
QUAD_SEGS = 256
#: Rows of a raster read at a time.
RASTER_TILE = 512
#: When a raster region has more than :data:`SPLIT_VERTICES` vertices, the raster
#: is also polygonised in tiles of this many pixels, whose small pieces keep the
#: building test's intersections cheap.
SPLIT_CELL = 64
SPLIT_VERTICES = 256


# --------------------------------------------------------------------------- helpers

def _fmt(v: float) -> str:
    v = float(v)
    return str(int(v)) if v == int(v) else f"{v:g}"


def band_label(lo: float | None, hi: float | None, unit: str = "m") -> str:
    """A band label: ``"0–500 m"``, ``"≥ 0.3 m"``.

    Examples
    --------
    >>> band_label(0, 500), band_label(0.3, None), band_label(0.3, 1)
    ('0–500 m', '≥ 0.3 m', '0.3–1 m')
    """
    if hi is None:
        return f"≥ {_fmt(lo)} {unit}"
    return f"{_fmt(lo)}–{_fmt(hi)} {unit}"


def _frame(frames: Mapping[str, Any], name: str, key: str) -> gpd.GeoDataFrame:
    frame = frames.get(name)
    if frame is None:
        known = sorted(k for k, f in frames.items() if isinstance(f, gpd.GeoDataFrame))
        raise ScenarioError(key, f"no layer named '{name}' in the workspace (layers: "
                                 f"{', '.join(known[:12])}{', …' if len(known) > 12 else ''})")
    if not isinstance(frame, gpd.GeoDataFrame) or frame.active_geometry_name is None:
        raise ScenarioError(key, f"layer '{name}' has no geometry")
    if frame.crs is None:
        raise ScenarioError(key, f"layer '{name}' has no CRS; set it before running a drill")
    return frame


def _where(frame: pd.DataFrame, where, layer: str) -> np.ndarray:
    if not where:
        return np.ones(len(frame), dtype=bool)
    from spatial.query._filters import where_mask
    from spatial.query.model import QueryError

    def column(name: str):
        return frame[name].reset_index(drop=True) if name in frame.columns else None

    try:
        return where_mask(where, len(frame), column, "hazard.where", layer)
    except QueryError as e:
        raise ScenarioError(e.key, e.reason) from None


def _to_metric(geoms: np.ndarray, crs: Any, metric_crs: pyproj.CRS) -> np.ndarray:
    geoms = np.asarray(geoms, dtype=object)
    if crs is None:
        return geoms
    if not isinstance(crs, str) and parse_crs(crs) == metric_crs:
        return geoms
    return transform_geometries(geoms, crs, metric_crs)


def _valid(geoms: np.ndarray) -> np.ndarray:
    geoms = np.asarray(geoms, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms = geoms[present]
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad])
    return geoms


def _disjoint(geoms: list) -> list:
    """Cut each band by the union of the more severe (earlier) ones."""
    out, seen = [], None
    for g in geoms:
        cut = g if seen is None else shapely.difference(g, seen)
        out.append(_polygonal(cut))
        seen = g if seen is None else shapely.union(seen, g)
    return out


def _polygonal(g):
    """Only the polygonal parts of ``g`` (overlay slivers of lower dimension dropped)."""
    if g is None or g.is_empty:
        return shapely.Polygon()
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = shapely.get_parts(g)
    parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
    return shapely.union_all(parts) if len(parts) else shapely.Polygon()


def _rings(base, rings_m) -> tuple[list[str], list]:
    """Ring bands around ``base`` (a geometry in metres)."""
    discs = [shapely.buffer(base, r, quad_segs=QUAD_SEGS) for r in rings_m]
    labels = [band_label(lo, hi) for lo, hi in zip((0, *rings_m[:-1]), rings_m)]
    return labels, _disjoint(discs)


def _point_metric(hazard: Hazard, metric_crs: pyproj.CRS) -> tuple[float, float]:
    x, y = transform_xy(hazard.point[0], hazard.point[1], hazard.crs, metric_crs)
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ScenarioError("hazard.point", "cannot be placed in the drill's CRS")
    return float(x), float(y)


def _grid_convergence(hazard: Hazard, metric_crs: pyproj.CRS) -> float:
    """Grid bearing (degrees, clockwise) of true north at the hazard's point."""
    lon, lat = transform_xy(hazard.point[0], hazard.point[1], hazard.crs, WGS84)
    dlat = 1e-4 if lat < 89.9 else -1e-4
    x0, y0 = transform_xy(lon, lat, WGS84, metric_crs)
    x1, y1 = transform_xy(lon, lat + dlat, WGS84, metric_crs)
    if dlat < 0:
        x1, y1 = 2 * x0 - x1, 2 * y0 - y1
    return math.degrees(math.atan2(x1 - x0, y1 - y0))


# --------------------------------------------------------------------------- plume

def plume_polygon(x0: float, y0: float, bearing_deg: float, length_m: float, spread_deg: float,
                  shape: str = "sector") -> shapely.Polygon:
    """The plume polygon with its apex at ``(x0, y0)`` pointing to ``bearing_deg``.

    Parameters
    ----------
    x0, y0 : float
        The source, in a metric CRS.
    bearing_deg : float
        Grid bearing of the axis (downwind), clockwise from the y axis.
    length_m, spread_deg : float
        Reach and full opening angle.
    shape : {"sector", "gaussian"}
        A circular sector, or the Gaussian-plume teardrop (see the module notes).

    Examples
    --------
    >>> p = plume_polygon(0, 0, 225, 1000, 30)     # to the south-west
    >>> c = p.centroid
    >>> c.x < 0 and c.y < 0, round(p.area / (math.pi * 1000**2 * 30 / 360), 4)
    (True, 1.0)
    """
    b = math.radians(bearing_deg)
    ux, uy = math.sin(b), math.cos(b)  # along the axis
    vx, vy = math.cos(b), -math.sin(b)  # to its right
    half = math.radians(spread_deg) / 2.0
    if shape == "sector":
        n = max(32, math.ceil(spread_deg * 4))  # chords of 0.25°: within 1 cm at 3 km
        t = np.linspace(b - half, b + half, n + 1)
        arc = np.column_stack([x0 + length_m * np.sin(t), y0 + length_m * np.cos(t)])
        ring = np.concatenate([[[x0, y0]], arc, [[x0, y0]]])
        return shapely.Polygon(ring)
    if shape != "gaussian":
        raise ValueError(f"shape must be 'sector' or 'gaussian', not {shape!r}")
    k = math.tan(half)
    s = (1.0 - np.cos(np.linspace(0.0, math.pi, 257))) / 2.0  # dense near both ends
    x = length_m * s[1:-1]
    w = 2.0 * k * x * np.sqrt(np.log(length_m / x))
    right = np.column_stack([x0 + x * ux + w * vx, y0 + x * uy + w * vy])
    left = np.column_stack([x0 + x * ux - w * vx, y0 + x * uy - w * vy])[::-1]
    tip = [[x0 + length_m * ux, y0 + length_m * uy]]
    ring = np.concatenate([[[x0, y0]], right, tip, left, [[x0, y0]]])
    return shapely.Polygon(ring)


def source_radius(length_m: float) -> float:
    """Radius of the disc around a plume's source that is always in the hazard.

    A plume's apex is a point, but the release site itself (and whatever
    stands on it) is affected whichever way the wind turns: 1 % of the
    plume's length, at least 10 m and at most 50 m.

    Examples
    --------
    >>> source_radius(3000), source_radius(200), source_radius(20000)
    (30.0, 10.0, 50.0)
    """
    return float(min(50.0, max(10.0, 0.01 * length_m)))


def _plume(hazard: Hazard, metric_crs: pyproj.CRS) -> tuple[list[str], list]:
    x0, y0 = _point_metric(hazard, metric_crs)
    bearing = (hazard.wind_from_deg + 180.0 + _grid_convergence(hazard, metric_crs)) % 360.0
    shape = plume_polygon(x0, y0, bearing, hazard.length_m, hazard.spread_deg,
                          hazard.shape or "sector")
    src = shapely.Point(x0, y0)
    shape = shapely.union(shape, shapely.buffer(src, source_radius(hazard.length_m),
                                                quad_segs=QUAD_SEGS // 4))
    if not shape.is_valid:
        shape = shapely.make_valid(shape)
    rings = tuple(hazard.rings_m or ())
    edges = (0, *rings, hazard.length_m)
    labels = [band_label(lo, hi) for lo, hi in itertools.pairwise(edges)]
    if not rings:
        return labels, [shape]
    discs = [shapely.intersection(shape, shapely.buffer(src, r, quad_segs=QUAD_SEGS))
             for r in rings] + [shape]
    return labels, _disjoint(discs)


# --------------------------------------------------------------------------- raster

def _shapes_to_polygons(shapes) -> tuple[np.ndarray, np.ndarray]:
    """rasterio ``shapes`` output -> (polygons, values), built as one ragged array."""
    rings, counts, values = [], [], []
    for geom, value in shapes:
        coords = geom["coordinates"]
        rings.extend(coords)
        counts.append(len(coords))
        values.append(value)
    if not counts:
        return np.empty(0, dtype=object), np.empty(0, dtype=np.int64)
    lens = np.fromiter((len(r) for r in rings), dtype=np.int64, count=len(rings))
    xy = np.array(list(itertools.chain.from_iterable(rings)), dtype=float)
    offsets = (np.concatenate([[0], np.cumsum(lens)]), np.concatenate([[0], np.cumsum(counts)]))
    polys = shapely.from_ragged_array(shapely.GeometryType.POLYGON, xy, offsets)
    return np.asarray(polys, dtype=object), np.asarray(values, dtype=np.int64)


def _tile_polygons(cls: np.ndarray, cell: int) -> tuple[np.ndarray, np.ndarray]:
    """Polygonise ``cls`` tile by tile (``cell`` pixels a side), in pixel coordinates."""
    import rasterio.features
    from affine import Affine

    polys, values = [], []
    rows = np.flatnonzero(np.add.reduceat(cls.any(axis=1), np.arange(0, cls.shape[0], cell)))
    for r in rows * cell:
        band = cls[r:r + cell]
        cols = np.flatnonzero(np.add.reduceat(band.any(axis=0), np.arange(0, cls.shape[1], cell)))
        for c in cols * cell:
            tile = band[:, c:c + cell]
            p, v = _shapes_to_polygons(rasterio.features.shapes(
                tile, mask=tile > 0, connectivity=4, transform=Affine.translation(c, r)))
            polys.append(p)
            values.append(v)
    if not polys:
        return np.empty(0, dtype=object), np.empty(0, dtype=np.int64)
    return np.concatenate(polys), np.concatenate(values)


@dataclass
class RasterGrid:
    """A raster hazard classified per pixel, and its polygons.

    ``cls[row, col]`` is the class of each pixel (0: below the threshold,
    nodata or NaN; ``k``: value >= ``edges[k-1]`` and < ``edges[k]``).
    ``transform`` maps (col, row) to ``crs``; ``dissolved[k-1]`` is the area
    of class ``k`` in ``metric_crs``.
    """

    cls: np.ndarray
    transform: Any
    crs: pyproj.CRS
    metric_crs: pyproj.CRS
    edges: tuple
    dissolved: np.ndarray
    regions: np.ndarray  # connected regions, pixel coordinates
    region_class: np.ndarray
    _parts: tuple | None = None

    def to_metric(self, geoms: np.ndarray) -> np.ndarray:
        """Pixel-coordinate geometries placed on the earth, in the metric CRS."""
        same = self.crs == self.metric_crs
        if not len(geoms):
            return np.asarray(geoms, dtype=object)
        if not same:  # curved edges after reprojection: a vertex at least every pixel
            geoms = shapely.segmentize(geoms, 1.0)
        t = self.transform

        def place(xy: np.ndarray) -> np.ndarray:
            return np.column_stack([t.a * xy[:, 0] + t.b * xy[:, 1] + t.c,
                                    t.d * xy[:, 0] + t.e * xy[:, 1] + t.f])

        out = shapely.transform(np.asarray(geoms, dtype=object), place)
        if not same:
            out = transform_geometries(out, self.crs, self.metric_crs)
            bad = ~shapely.is_valid(out)
            if bad.any():
                out[bad] = shapely.make_valid(out[bad])
        return out

    def to_pixels(self, geoms: np.ndarray) -> np.ndarray:
        """Metric-CRS geometries in pixel coordinates (col, row) of the grid."""
        geoms = np.asarray(geoms, dtype=object)
        if not len(geoms):
            return geoms
        if self.crs != self.metric_crs:
            geoms = transform_geometries(geoms, self.metric_crs, self.crs)
        inv = ~self.transform

        def px(xy: np.ndarray) -> np.ndarray:
            return np.column_stack([inv.a * xy[:, 0] + inv.b * xy[:, 1] + inv.c,
                                    inv.d * xy[:, 0] + inv.e * xy[:, 1] + inv.f])

        return shapely.transform(geoms, px)

    def parts(self) -> tuple[np.ndarray, np.ndarray]:
        """``(polygons, class)`` covering the classes in the metric CRS, in small pieces:
        the connected regions, or tiles of :data:`SPLIT_CELL` pixels when a region has
        more than :data:`SPLIT_VERTICES` vertices (cheap intersections with lines)."""
        if self._parts is None:
            polys, klass = self.regions, self.region_class
            if len(polys) and shapely.get_num_coordinates(polys).max() > SPLIT_VERTICES:
                polys, klass = _tile_polygons(self.cls, SPLIT_CELL)
            self._parts = (self.to_metric(polys), klass)
        return self._parts


def _raster_grid(path, edges, metric_crs: pyproj.CRS, feedback: Feedback | None = None,
                 key: str = "hazard.path") -> RasterGrid:
    """Read, classify and polygonise a raster hazard.

    The raster is read in strips of :data:`RASTER_TILE` rows and classified
    to one byte per pixel, then polygonised once in pixel coordinates (exact
    integers): regions of one class never share an edge, so their
    MultiPolygon needs no union.  The pixel grid is then placed on the earth
    (and reprojected when the raster is in another CRS).
    """
    import rasterio
    import rasterio.features
    from rasterio.windows import Window

    fb = ensure_feedback(feedback)
    edges = tuple(float(e) for e in edges)
    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as e:
        raise ScenarioError(key, f"cannot read the raster {str(path)!r}: {e}") from None
    with src:
        if src.crs is None:
            raise ScenarioError(key, f"the raster {str(path)!r} has no CRS; give it one "
                                     "(e.g. with gdal_edit.py -a_srs EPSG:4547)")
        raster_crs = parse_crs(src.crs)
        height, width = src.height, src.width
        cls = np.zeros((height, width), dtype=np.uint8)
        strips = list(range(0, height, RASTER_TILE))
        for i, r in enumerate(strips):
            fb.check()
            win = Window(0, r, width, min(RASTER_TILE, height - r))
            data = src.read(1, window=win, masked=True)
            values = np.ma.filled(data.astype("float64"), np.nan)
            out = cls[r:r + values.shape[0]]
            with np.errstate(invalid="ignore"):
                for k, e in enumerate(edges):
                    out[values >= e] = k + 1  # NaN (nodata) compares False: class 0
            fb.set_progress(40.0 * (i + 1) / len(strips))
        transform = src.transform
    fb.check()
    if cls.any():
        polys, klass = _shapes_to_polygons(
            rasterio.features.shapes(cls, mask=cls > 0, connectivity=4))
    else:
        polys, klass = np.empty(0, dtype=object), np.empty(0, dtype=np.int64)
    fb.set_progress(80)
    fb.check()
    dissolved = []
    for k in range(len(edges)):
        sel = polys[klass == k + 1]
        dissolved.append(sel[0] if len(sel) == 1 else shapely.multipolygons(sel) if len(sel)
                         else shapely.Polygon())
    grid = RasterGrid(cls, transform, raster_crs, metric_crs, edges,
                      np.empty(0, dtype=object), polys, klass)
    grid.dissolved = grid.to_metric(np.asarray(dissolved, dtype=object))
    fb.set_progress(100)
    return grid


def raster_mask_polygons(path, threshold: float, metric_crs) -> gpd.GeoDataFrame:
    """The pixels ``>= threshold`` (nodata excluded) as polygons in ``metric_crs``.

    One row per connected region (4-connectivity).  Pixel polygons are exact:
    their edges lie on the pixel grid.

    Examples
    --------
    >>> import tempfile, os, rasterio, numpy
    >>> from affine import Affine
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "f.tif")
    >>> arr = numpy.array([[0.5, 0.1], [0.3, -9]], dtype="float32")
    >>> with rasterio.open(p, "w", driver="GTiff", width=2, height=2, count=1, dtype="float32",
    ...                    crs="EPSG:4547", transform=Affine(10, 0, 500000, 0, -10, 3400020),
    ...                    nodata=-9) as dst:
    ...     dst.write(arr, 1)
    >>> m = raster_mask_polygons(p, 0.3, parse_crs(4547))
    >>> len(m), float(m.area.sum())
    (1, 200.0)
    """
    metric_crs = parse_crs(metric_crs)
    dissolved = _raster_grid(path, [threshold], metric_crs).dissolved
    geoms = shapely.get_parts(dissolved[0]) if not dissolved[0].is_empty else []
    return gpd.GeoDataFrame(geometry=gpd.GeoSeries(list(geoms), crs=metric_crs), crs=metric_crs)


def _raster_edges(hazard: Hazard) -> list[float]:
    edges = [hazard.threshold]
    for c in hazard.classes or ():
        if c > edges[-1]:
            edges.append(c)
    return edges


def _raster_labels(edges: list[float]) -> list[str]:
    return [band_label(lo, hi) for lo, hi in zip(edges, [*edges[1:], None])]


# --------------------------------------------------------------------------- zones

def _zone_order(values: pd.Series, classes: tuple | None) -> list:
    present = list(pd.unique(values.dropna()))
    numeric = pd.api.types.is_numeric_dtype(values.dtype) and not \
        pd.api.types.is_bool_dtype(values.dtype)
    if classes:
        listed = [c for c in classes if c in present]
        rest = [c for c in present if c not in classes]
        try:
            rest = sorted(rest, reverse=numeric)
        except TypeError:
            rest = sorted(rest, key=str)
        return listed + rest
    if numeric:
        return sorted(present, reverse=True)
    return sorted(present, key=str)


def _zones(hazard: Hazard, frames, metric_crs, fb: Feedback) -> tuple[list[str], list]:
    frame = _frame(frames, hazard.layer, "hazard.layer")
    col = hazard.class_column
    if col not in frame.columns or col == frame.active_geometry_name:
        cols = [c for c in frame.columns if c != frame.active_geometry_name]
        raise ScenarioError("hazard.class_column", f"layer '{hazard.layer}' has no column "
                                                   f"'{col}' (its columns: {', '.join(cols)})")
    mask = _where(frame, hazard.where, hazard.layer)
    values = frame[col].reset_index(drop=True)
    numeric = pd.api.types.is_numeric_dtype(values.dtype)
    for i, c in enumerate(hazard.classes or ()):
        if numeric and isinstance(c, str):
            raise ScenarioError(f"hazard.classes[{i}]", f"column '{col}' holds numbers; write "
                                                        f"{c} without quotes")
    geoms = np.asarray(frame.geometry.values, dtype=object)
    keep = mask & values.notna().to_numpy() & ~(shapely.is_missing(geoms) |
                                                  shapely.is_empty(geoms))
    if not keep.any():
        raise ScenarioError("hazard.where" if hazard.where else "hazard.layer",
                            f"no zones of layer '{hazard.layer}' with a value in '{col}'"
                            f"{' match the filter' if hazard.where else ''}")
    geoms = _to_metric(geoms[keep], frame.crs, metric_crs)
    values = values[keep].reset_index(drop=True)
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        geoms[bad] = shapely.make_valid(geoms[bad])
        fb.push_info(f"{hazard.layer}: repaired {int(bad.sum())} invalid zone geometries")
    order = _zone_order(values, hazard.classes)
    fam = np.isin(shapely.get_type_id(geoms), (3, 6, 7))
    dissolved = []
    for c in order:
        fb.check()
        sel = (values == c).to_numpy() & fam
        dissolved.append(_polygonal(shapely.union_all(geoms[sel])))
    labels = [_fmt(c) if isinstance(c, (int, float, np.number)) and not isinstance(c, bool)
              else str(c) for c in order]
    return labels, _disjoint(dissolved)


# --------------------------------------------------------------------------- public

def drill_crs(frames: Mapping[str, Any]) -> pyproj.CRS:
    """The metric CRS a drill measures in.

    The buildings' CRS when it is projected in metres (and not Web Mercator);
    otherwise :func:`spatial.crs.metric_crs_for` on their bounds (a local
    transverse Mercator).  Without buildings, the first layer with a CRS.

    Raises
    ------
    CRSError
        When no layer has a CRS.

    Examples
    --------
    >>> import geopandas, shapely
    >>> b = geopandas.GeoDataFrame(geometry=[shapely.box(117.1, 39.0, 117.3, 39.2)],
    ...                            crs="EPSG:4326")
    >>> drill_crs({"buildings": b}).name
    'CityFrame local TM 117.200000E 39.100000N (WGS 84)'
    """
    names = ["buildings", *[k for k in frames if k != "buildings"]]
    for name in names:
        f = frames.get(name)
        if isinstance(f, gpd.GeoDataFrame) and f.active_geometry_name is not None and \
                f.crs is not None:
            if is_metric_projected(f.crs):
                return parse_crs(f.crs)
            bounds = f.total_bounds
            if np.all(np.isfinite(bounds)):
                return metric_crs_for(f.crs, bounds)
    raise CRSError("no layer with a CRS and features: cannot choose the CRS to measure in")


def _bands(hazard: Hazard, frames, metric_crs, base_dir, fb: Feedback):
    """``(labels, geoms, grid)``: band labels and geometries, most severe first; ``grid``
    is the :class:`RasterGrid` of a raster hazard (None for other kinds)."""
    kind = hazard.kind
    grid = None
    if kind == "buffer":
        if hazard.point is not None:
            base = shapely.Point(*_point_metric(hazard, metric_crs))
        else:
            frame = _frame(frames, hazard.layer, "hazard.layer")
            mask = _where(frame, hazard.where, hazard.layer)
            geoms = np.asarray(frame.geometry.values, dtype=object)[mask]
            geoms = _valid(_to_metric(geoms, frame.crs, metric_crs))
            if not len(geoms):
                raise ScenarioError("hazard.where" if hazard.where else "hazard.layer",
                                    f"no features of layer '{hazard.layer}'"
                                    f"{' match the filter' if hazard.where else ''}")
            base = shapely.union_all(geoms)
        labels, geoms = _rings(base, hazard.rings_m)
    elif kind == "plume":
        labels, geoms = _plume(hazard, metric_crs)
    elif kind == "zones":
        labels, geoms = _zones(hazard, frames, metric_crs, fb)
    elif kind == "raster":
        path = resolve_inside(hazard.path, base_dir, "hazard.path")
        if base_dir is not None and not path.is_file():
            raise ScenarioError("hazard.path", f"file not found: {hazard.path!r} in the "
                                               f"workspace folder {base_dir}")
        edges = _raster_edges(hazard)
        grid = _raster_grid(path, edges, metric_crs, fb)
        labels = _raster_labels(edges)[::-1]
        geoms = list(grid.dissolved[::-1])
    elif kind == "drawn":
        geom = shapely.geometry.shape(hazard.geometry)
        geom = _to_metric(np.asarray([geom], dtype=object), hazard.crs, metric_crs)[0]
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        if hazard.rings_m:
            labels, geoms = _rings(geom, hazard.rings_m)
        else:
            labels, geoms = ["drawn area"], [_polygonal(geom)]
    else:  # pragma: no cover - parse_scenario refuses other kinds
        raise ScenarioError("hazard.kind", f"unknown hazard kind {kind!r}")
    return labels, geoms, grid


def _frame_from_bands(labels, geoms, metric_crs) -> gpd.GeoDataFrame:
    geoms = np.asarray(geoms, dtype=object)
    order = np.arange(len(labels), dtype=np.int64)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if len(geoms) else \
        np.zeros(0, dtype=bool)
    return gpd.GeoDataFrame({"band": pd.Series(np.asarray(labels, dtype=object)[keep],
                                               dtype=object),
                             "order": order[keep]},
                            geometry=gpd.GeoSeries(geoms[keep], crs=metric_crs),
                            crs=metric_crs).reset_index(drop=True)


def footprint(hazard: Hazard, frames: Mapping[str, Any], *, metric_crs, base_dir=None,
              feedback: Feedback | None = None) -> gpd.GeoDataFrame:
    """The hazard's footprint in severity bands.

    Parameters
    ----------
    hazard : Hazard
        From :func:`~spatial.drill.scenario.parse_scenario`.
    frames : mapping
        Layer name -> GeoDataFrame (the layers ``buffer``/``zones`` name).
    metric_crs : CRS-like
        The CRS to build and return the footprint in (:func:`drill_crs`).
    base_dir : path, optional
        The workspace folder, against which a raster ``path`` is resolved.
    feedback : Feedback, optional
        Progress and cancellation (rasters are polygonised tile by tile).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``band`` (str), ``order`` (int, 0 = most severe) and
        ``geometry`` (in ``metric_crs``); bands disjoint, empty ones left out.

    Raises
    ------
    ScenarioError
        Naming the hazard key whose layer, column or file is missing.

    Examples
    --------
    >>> import geopandas, shapely
    >>> b = geopandas.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4547")
    >>> h = Hazard("plume", point=(500000, 3400000), crs="EPSG:4547", wind_from_deg=0,
    ...            length_m=1000, spread_deg=20, shape="sector", rings_m=(300,))
    >>> fp = footprint(h, {"buildings": b}, metric_crs=4547)
    >>> fp["band"].tolist(), [round(c.y - 3400000) < 0 for c in fp.centroid]  # wind from north
    (['0–300 m', '300–1000 m'], [True, True])
    """
    fb = ensure_feedback(feedback)
    metric_crs = parse_crs(metric_crs)
    labels, geoms, _ = _bands(hazard, frames, metric_crs, base_dir, fb)
    return _frame_from_bands(labels, geoms, metric_crs)
