"""Measure distances and areas in metres, whatever the map's CRS.

The rule is DESIGN.md's: in a projected CRS in metres (not Web Mercator) —
the one :func:`spatial.crs.metric_crs_for` keeps — lengths and areas are
planar in that CRS; in geographic CRSs (degrees), Web Mercator, the GCJ-02 /
BD-09 offsets or CRSs in other units they are geodesic, on the ellipsoid of the
CRS's datum (pyproj ``Geod``), so a measurement never comes out in degrees or
stretched Mercator metres.  Every result records the method and the CRS.

Examples
--------
>>> import shapely
>>> m = measure_length(shapely.LineString([(500000, 3400000), (500300, 3400400)]), "EPSG:4547")
>>> m.value, m.unit, m.method
(500.0, 'm', 'planar')
>>> a = measure_area(shapely.box(117.0, 39.0, 117.01, 39.01), "EPSG:4326")
>>> a.unit, a.method, round(a.value / 1e6, 3)
('m²', 'geodesic', 0.962)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyproj
import shapely

from .crs import WGS84, crs_label, is_metric_projected, resolve_crs, transform_geometries
from .errors import CRSError

__all__ = ["Measurement", "measure_length", "measure_area", "measure", "geometry_from_vertices",
           "GEOMETRY_KINDS"]

#: Kinds of geometry the drawing tools make (:func:`geometry_from_vertices`).
GEOMETRY_KINDS = ("point", "line", "polygon")


@dataclass(frozen=True)
class Measurement:
    """A length (``unit="m"``) or area (``unit="m²"``) and how it was measured."""

    value: float
    unit: str
    method: str  # "planar" or "geodesic"
    crs: str


def _check_geometry(geom) -> Any:
    if not isinstance(geom, shapely.Geometry):
        raise TypeError(f"expected a shapely geometry, got {type(geom).__name__}")
    return geom


def _geodesic_setup(crs: Any) -> tuple[Any, pyproj.Geod]:
    """(geographic CRS to measure in, its Geod)."""
    resolved = resolve_crs(crs)
    if isinstance(resolved, str):  # GCJ-02 / BD-09: offsets of WGS 84
        return WGS84, WGS84.get_geod()
    geodetic = resolved.geodetic_crs if resolved.geodetic_crs is not None else WGS84
    geod = geodetic.get_geod() or pyproj.Geod(ellps="WGS84")
    return geodetic, geod


def _to_lonlat(geom, crs: Any):
    target, geod = _geodesic_setup(crs)
    resolved = resolve_crs(crs)
    if not isinstance(resolved, str) and resolved == target:
        return geom, geod
    return transform_geometries([geom], crs, target)[0], geod


def _require_crs(crs: Any):
    if crs is None:
        raise CRSError("cannot measure without a CRS; set the map's CRS first")
    return resolve_crs(crs)


def measure_length(geom, crs: Any) -> Measurement:
    """Length of a line (or the perimeter of a polygon) in metres.

    Parameters
    ----------
    geom : shapely geometry
        In ``crs``.
    crs : CRS-like
        The CRS of ``geom`` (anything :func:`spatial.crs.parse_crs` accepts).

    Examples
    --------
    >>> line = shapely.LineString([(116.0, 40.0), (116.0, 41.0)])
    >>> round(measure_length(line, 4326).value)
    111044
    """
    _check_geometry(geom)
    resolved = _require_crs(crs)
    if geom.is_empty:
        return Measurement(0.0, "m", "planar", crs_label(resolved))
    if is_metric_projected(resolved):
        return Measurement(float(shapely.length(geom)), "m", "planar", crs_label(resolved))
    lonlat, geod = _to_lonlat(geom, crs)
    return Measurement(float(geod.geometry_length(lonlat)), "m", "geodesic", crs_label(resolved))


def measure_area(geom, crs: Any) -> Measurement:
    """Area of a polygon in square metres (0 for points and lines).

    Examples
    --------
    >>> round(measure_area(shapely.box(0, 0, 100, 50), 4547).value)
    5000
    """
    _check_geometry(geom)
    resolved = _require_crs(crs)
    if geom.is_empty:
        return Measurement(0.0, "m²", "planar", crs_label(resolved))
    if is_metric_projected(resolved):
        return Measurement(float(shapely.area(geom)), "m²", "planar", crs_label(resolved))
    lonlat, geod = _to_lonlat(geom, crs)
    area, _ = geod.geometry_area_perimeter(lonlat)
    return Measurement(abs(float(area)), "m²", "geodesic", crs_label(resolved))


def measure(geom, crs: Any) -> Measurement:
    """Area for polygons, length for everything else."""
    _check_geometry(geom)
    if shapely.get_type_id(geom) in (3, 6):
        return measure_area(geom, crs)
    return measure_length(geom, crs)


def geometry_from_vertices(kind: str, vertices) -> Any:
    """The point, line or polygon a drawing tool's clicked vertices make.

    Raises
    ------
    ValueError
        For an unknown ``kind`` or too few distinct vertices (a point needs
        one, a line two, a polygon three).

    Examples
    --------
    >>> geometry_from_vertices("polygon", [(0, 0), (1, 0), (1, 1)]).area
    0.5
    >>> geometry_from_vertices("line", [(0, 0)])
    Traceback (most recent call last):
    ...
    ValueError: a line needs at least 2 distinct vertices, got 1
    """
    if kind not in GEOMETRY_KINDS:
        raise ValueError(f"kind must be one of {', '.join(GEOMETRY_KINDS)}, got {kind!r}")
    xy = np.asarray(vertices, dtype=float).reshape(-1, 2)
    if len(xy) and not np.all(np.isfinite(xy)):
        raise ValueError("vertices must be finite numbers")
    # drop consecutive duplicates (a double-click adds the last vertex twice)
    if len(xy) > 1:
        keep = np.r_[True, np.any(np.diff(xy, axis=0) != 0, axis=1)]
        xy = xy[keep]
    need = {"point": 1, "line": 2, "polygon": 3}[kind]
    distinct = len(np.unique(xy, axis=0)) if len(xy) else 0
    if distinct < need:
        raise ValueError(f"a {kind} needs at least {need} distinct vertices, got {distinct}")
    if kind == "point":
        return shapely.Point(xy[-1])
    if kind == "line":
        return shapely.LineString(xy)
    poly = shapely.Polygon(xy)
    if not poly.is_valid:
        poly = shapely.make_valid(poly)
    return poly
