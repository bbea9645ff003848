"""Coordinate reference systems: parsing, metric CRSs and Chinese web-map offsets.

CityFrame's data arrives in WGS 84 (EPSG:4326), CGCS2000 (EPSG:4490 and its
Gauss–Krüger zones such as EPSG:4547), Web Mercator (EPSG:3857), or the
GCJ-02 / BD-09 offsets used by Chinese web maps.  This module

* turns user input into a :class:`pyproj.CRS` (:func:`parse_crs`) and
  classifies it (:func:`is_geographic`, :func:`is_web_mercator`,
  :func:`is_metric_projected`);
* picks the CRS in which distances and areas are measured
  (:func:`metric_crs_for`, :func:`to_metric`, :func:`require_metric`), after
  the rule in DESIGN.md: data that is projected in metres (and not Web
  Mercator) is measured in its own CRS, anything else in a local transverse
  Mercator with scale factor 1 centred on the data;
* converts between WGS 84, GCJ-02 and BD-09 (:func:`wgs84_to_gcj02` and
  friends), vectorised over numpy arrays, with an exact iterative inverse;
* transforms coordinates and shapely 2 geometry arrays between any two of
  these (:func:`transform_xy`, :func:`transform_geometries`), accepting the
  pseudo-CRS names ``"GCJ-02"`` and ``"BD-09"`` besides real CRSs.

All coordinates are in x/y order (longitude, latitude for geographic CRSs):
every :class:`pyproj.Transformer` is built with ``always_xy=True`` and cached.

Examples
--------
>>> parse_crs("EPSG:4547").name
'CGCS2000 / 3-degree Gauss-Kruger CM 114E'
>>> cgcs2000_gk_epsg(114.3)
4547
>>> x, y = transform_xy(114.3, 30.6, "EPSG:4326", 4547)
>>> round(x), round(y)
(528770, 3386666)
>>> lon, lat = wgs84_to_gcj02(116.404, 39.915)
>>> round(lon, 6), round(lat, 6)
(116.410244, 39.916404)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pyproj
import shapely
from pyproj.crs import ProjectedCRS
from pyproj.crs.coordinate_operation import TransverseMercatorConversion
from pyproj.exceptions import CRSError as _PyprojCRSError

from .errors import CRSError

__all__ = [
    "search_crs",
    "WGS84",
    "CGCS2000",
    "WEB_MERCATOR",
    "GCJ02",
    "BD09",
    "CHINA_BOX",
    "parse_crs",
    "resolve_crs",
    "is_offset_crs",
    "crs_label",
    "is_geographic",
    "is_web_mercator",
    "is_metric_projected",
    "cgcs2000_gk_epsg",
    "utm_epsg",
    "local_tm",
    "metric_crs_for",
    "to_metric",
    "require_metric",
    "get_transformer",
    "in_china",
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "wgs84_to_bd09",
    "bd09_to_wgs84",
    "roundtrip_error_m",
    "transform_xy",
    "transform_geometries",
]

#: WGS 84 geographic, EPSG:4326 (longitude, latitude with ``always_xy``).
WGS84 = pyproj.CRS.from_epsg(4326)
#: CGCS2000 geographic (China Geodetic Coordinate System 2000), EPSG:4490.
CGCS2000 = pyproj.CRS.from_epsg(4490)
#: WGS 84 / Pseudo-Mercator, EPSG:3857, the Web Mercator of web tile maps.
WEB_MERCATOR = pyproj.CRS.from_epsg(3857)

#: Pseudo-CRS name of the GCJ-02 offset ("Mars coordinates") used by Amap,
#: Tencent and Google's China maps.  Not a real CRS: an obfuscating offset of WGS 84.
GCJ02 = "GCJ-02"
#: Pseudo-CRS name of Baidu's BD-09 offset (a further offset of GCJ-02).
BD09 = "BD-09"

#: The rough rectangle (min lon, min lat, max lon, max lat) that the
#: published GCJ-02 implementations (e.g. googollee/eviltransform) treat as
#: "inside China".  It is a box, not China's border: it also covers parts of
#: neighbouring countries and the sea.
CHINA_BOX = (72.004, 0.8293, 137.8347, 55.8271)

_OFFSET_ALIASES = {
    "GCJ02": GCJ02,
    "GCJ": GCJ02,
    "MARS": GCJ02,
    "BD09": BD09,
    "BD09LL": BD09,
    "BAIDU": BD09,
}


# --------------------------------------------------------------------------
# Parsing and classification
# --------------------------------------------------------------------------


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_offset_crs(value: Any) -> bool:
    """Whether ``value`` names the GCJ-02 or BD-09 pseudo-CRS.

    Names are matched without regard to case, hyphens, underscores or spaces,
    so ``"gcj02"``, ``"GCJ-02"`` and ``"BD-09"`` are all recognised.

    Examples
    --------
    >>> is_offset_crs("gcj02"), is_offset_crs("BD-09"), is_offset_crs("EPSG:4326")
    (True, True, False)
    """
    return _offset_name(value) is not None


def _offset_name(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    key = value.upper().replace("-", "").replace("_", "").replace(" ", "")
    return _OFFSET_ALIASES.get(key)


def parse_crs(value: Any) -> pyproj.CRS:
    """Return the :class:`pyproj.CRS` that ``value`` describes.

    Parameters
    ----------
    value : int, str or pyproj.CRS
        An EPSG code (``4547``), an authority string (``"EPSG:4547"``), WKT,
        a PROJ string, or a CRS object (returned as is).

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        When ``value`` is ``None``, empty, a pseudo-CRS such as ``"GCJ-02"``
        (use :func:`transform_xy` for those), or unknown to PROJ.  The
        message names the value.

    Examples
    --------
    >>> parse_crs(4326).name
    'WGS 84'
    >>> parse_crs("EPSG:3857") == WEB_MERCATOR
    True
    >>> parse_crs("EPSG:999999")
    Traceback (most recent call last):
    ...
    spatial.errors.CRSError: unknown CRS 'EPSG:999999': ...
    """
    if isinstance(value, pyproj.CRS):
        return value
    if value is None:
        raise CRSError("no CRS given (None): give an EPSG code such as 4326 or 4547, or WKT")
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, str, dict)):
        if hasattr(value, "to_wkt"):  # e.g. a rasterio or osgeo CRS object
            return parse_crs(value.to_wkt())
        raise CRSError(f"not a CRS: {_short(value)} ({type(value).__name__})")
    if isinstance(value, str):
        if not value.strip():
            raise CRSError("no CRS given (empty text): give an EPSG code such as 4326 or 4547")
        name = _offset_name(value)
        if name is not None:
            raise CRSError(
                f"{value!r} is not a CRS but the {name} offset of WGS 84 used by Chinese web maps; "
                "convert with transform_xy/transform_geometries (or gcj02_to_wgs84, bd09_to_wgs84)"
            )
        text = value.strip()
        if text.isdigit():
            text = f"EPSG:{text}"
    else:
        text = int(value) if not isinstance(value, dict) else value
    try:
        return pyproj.CRS.from_user_input(text)
    except _PyprojCRSError as exc:
        raise CRSError(f"unknown CRS {_short(value)}: {exc}") from None


def resolve_crs(value: Any) -> pyproj.CRS | str:
    """Like :func:`parse_crs`, but return ``"GCJ-02"``/``"BD-09"`` for the pseudo-CRSs.

    Scenario and import files may give ``"crs": "GCJ-02"``; this accepts
    that as well as anything :func:`parse_crs` accepts.

    Examples
    --------
    >>> resolve_crs("gcj02")
    'GCJ-02'
    >>> resolve_crs(4490).name
    'China Geodetic Coordinate System 2000'
    """
    name = _offset_name(value)
    return name if name is not None else parse_crs(value)


def crs_label(crs: Any) -> str:
    """A short human label for a CRS: ``"EPSG:4547 (CGCS2000 / ...)"`` or its name.

    Examples
    --------
    >>> crs_label(4326)
    'EPSG:4326 (WGS 84)'
    >>> crs_label("GCJ-02")
    'GCJ-02'
    """
    resolved = resolve_crs(crs)
    if isinstance(resolved, str):
        return resolved
    ident = resolved.to_json_dict().get("id")  # set for CRSs from the EPSG/ESRI database
    if isinstance(ident, dict) and "authority" in ident and "code" in ident:
        return f"{ident['authority']}:{ident['code']} ({resolved.name})"
    return resolved.name


def is_geographic(crs: Any) -> bool:
    """Whether the CRS has angular (degree) coordinates, e.g. EPSG:4326 or 4490.

    The pseudo-CRSs ``"GCJ-02"`` and ``"BD-09"`` count as geographic.

    Examples
    --------
    >>> is_geographic(4490), is_geographic(4547), is_geographic("GCJ-02")
    (True, False, True)
    """
    resolved = resolve_crs(crs)
    return True if isinstance(resolved, str) else bool(resolved.is_geographic)


def is_web_mercator(crs: Any) -> bool:
    """Whether the CRS is Web Mercator (EPSG:3857 and its aliases).

    Recognises EPSG:3857, ESRI:102100, the classic ``+proj=merc +a=6378137
    +b=6378137 +nadgrids=@null`` string and any spherical Mercator, whose
    "metres" are stretched by 1/cos(latitude) (×1.3 at 40°N).

    Examples
    --------
    >>> is_web_mercator(3857), is_web_mercator("ESRI:102100"), is_web_mercator(4547)
    (True, True, False)
    """
    resolved = resolve_crs(crs)
    if isinstance(resolved, str) or not resolved.is_projected:
        return False
    horizontal = _horizontal(resolved)
    op = horizontal.coordinate_operation
    method = (op.method_name if op is not None else "").lower()
    if "pseudo mercator" in method:
        return True
    ell = horizontal.ellipsoid
    return method.startswith("mercator") and ell is not None and (
        ell.semi_minor_metre == ell.semi_major_metre
    )


def _horizontal(crs: pyproj.CRS) -> pyproj.CRS:
    if crs.is_compound and crs.sub_crs_list:
        return crs.sub_crs_list[0]
    return crs


def _unit_is_metre(crs: pyproj.CRS) -> bool:
    axes = _horizontal(crs).axis_info[:2]
    return len(axes) == 2 and all(
        a.unit_name in ("metre", "meter", "m") and a.unit_conversion_factor == 1.0 for a in axes
    )


def is_metric_projected(crs: Any) -> bool:
    """Whether distances can be measured directly in the CRS.

    True for a projected CRS whose axes are in metres and which is not Web
    Mercator (e.g. CGCS2000 Gauss–Krüger EPSG:4547 or a UTM zone).

    Examples
    --------
    >>> is_metric_projected(4547), is_metric_projected(32650)
    (True, True)
    >>> is_metric_projected(4326), is_metric_projected(3857), is_metric_projected(2263)
    (False, False, False)
    """
    resolved = resolve_crs(crs)
    if isinstance(resolved, str) or not resolved.is_projected:
        return False
    return _unit_is_metre(resolved) and not is_web_mercator(resolved)


# --------------------------------------------------------------------------
# Projected CRSs for China and elsewhere
# --------------------------------------------------------------------------


def _scalar_or_array(values: np.ndarray, scalar: bool):
    return int(values) if scalar else values


def cgcs2000_gk_epsg(lon, zone_width: int = 3, with_zone_prefix: bool = False):
    """EPSG code of the CGCS2000 Gauss–Krüger zone that contains longitude ``lon``.

    Parameters
    ----------
    lon : float or array_like
        Longitude(s) in degrees east.
    zone_width : {3, 6}
        3-degree zones (central meridians 75°E, 78°E, …, 135°E; EPSG
        4534–4554, or 4513–4533 with the zone prefix) or 6-degree zones
        (central meridians 75°E, 81°E, …, 135°E; EPSG 4502–4512, or
        4491–4501 with the zone prefix).
    with_zone_prefix : bool
        If True, return the variant whose false easting carries the zone
        number ("CGCS2000 / 3-degree Gauss-Kruger zone 38", x ≈ 38 500 000);
        otherwise the one named by its central meridian ("… CM 114E", x ≈ 500 000).

    Returns
    -------
    int or numpy.ndarray of int

    Raises
    ------
    ValueError
        If ``zone_width`` is not 3 or 6.
    CRSError
        If a longitude lies outside the zones EPSG defines for CGCS2000
        (73.5°E–136.5°E for 3-degree zones, 72°E–138°E for 6-degree zones).

    Examples
    --------
    >>> cgcs2000_gk_epsg(114.3)
    4547
    >>> cgcs2000_gk_epsg(114.3, with_zone_prefix=True)
    4526
    >>> cgcs2000_gk_epsg(114.3, zone_width=6), cgcs2000_gk_epsg(114.3, 6, True)
    (4509, 4498)
    >>> cgcs2000_gk_epsg([116.4, 121.4]).tolist()
    [4548, 4549]
    """
    if zone_width not in (3, 6):
        raise ValueError(f"zone_width must be 3 or 6, got {zone_width!r}")
    scalar = np.ndim(lon) == 0
    lon_arr = np.asarray(lon, dtype=float)
    if zone_width == 3:
        zone = np.floor((lon_arr + 1.5) / 3.0)  # central meridian = 3 * zone
        first, last, base = 25, 45, (4513 if with_zone_prefix else 4534)
        west, east = 73.5, 136.5
    else:
        zone = np.floor(lon_arr / 6.0) + 1.0  # central meridian = 6 * zone - 3
        first, last, base = 13, 23, (4491 if with_zone_prefix else 4502)
        west, east = 72.0, 138.0
    bad = ~((zone >= first) & (zone <= last))
    if bad.any():
        example = float(lon_arr[bad].flat[0]) if lon_arr.ndim else float(lon_arr)
        raise CRSError(
            f"longitude {example} is outside the CGCS2000 {zone_width}-degree Gauss-Kruger zones "
            f"({west}°E to {east}°E)"
        )
    return _scalar_or_array((base + zone - first).astype(np.int64), scalar)


def utm_epsg(lon, lat):
    """EPSG code of the WGS 84 UTM zone for a point (326xx north, 327xx south).

    Includes the Norway (32V) and Svalbard (31X–37X) exceptions.

    Parameters
    ----------
    lon, lat : float or array_like
        Longitude and latitude in degrees.

    Returns
    -------
    int or numpy.ndarray of int

    Raises
    ------
    CRSError
        If a latitude is outside UTM's range (80°S to 84°N) or not finite.

    Examples
    --------
    >>> utm_epsg(114.3, 30.6), utm_epsg(-58.4, -34.6), utm_epsg(5.3, 60.4)
    (32650, 32721, 32632)
    """
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon_arr, lat_arr = np.broadcast_arrays(np.asarray(lon, float), np.asarray(lat, float))
    bad = ~((lat_arr >= -80.0) & (lat_arr <= 84.0) & np.isfinite(lon_arr))
    if bad.any():
        raise CRSError(
            f"point ({float(lon_arr[bad].flat[0])}, {float(lat_arr[bad].flat[0])}) is outside "
            "UTM's range (80°S to 84°N); use local_tm instead"
        )
    wrapped = (lon_arr + 180.0) % 360.0 - 180.0
    zone = np.clip(np.floor((wrapped + 180.0) / 6.0) + 1, 1, 60)
    zone = np.where((lat_arr >= 56) & (lat_arr < 64) & (wrapped >= 3) & (wrapped < 12), 32, zone)
    svalbard = (lat_arr >= 72) & (wrapped >= 0) & (wrapped < 42)
    sval_zone = np.select(
        [wrapped < 9, wrapped < 21, wrapped < 33], [31, 33, 35], default=37
    )
    zone = np.where(svalbard, sval_zone, zone)
    codes = np.where(lat_arr >= 0, 32600, 32700) + zone
    return _scalar_or_array(codes.astype(np.int64), scalar)


_DATUMS = {"WGS84": WGS84, "CGCS2000": CGCS2000}


def local_tm(lon0: float, lat0: float, datum: Any = "WGS84") -> pyproj.CRS:
    """A transverse Mercator CRS in metres, scale factor 1, centred on a point.

    Near its centre a distance measured in this CRS equals the distance on
    the ellipsoid (the scale error is about d²/(2R²): 1.2e-5 at 25 km,
    5e-5 at 50 km).  The origin (0, 0) is the point ``(lon0, lat0)``.

    Parameters
    ----------
    lon0, lat0 : float
        Centre in degrees, in the datum's geographic coordinates.
    datum : {"WGS84", "CGCS2000"} or CRS-like
        Geographic base: ``"WGS84"`` (EPSG:4326), ``"CGCS2000"``
        (EPSG:4490), or any CRS whose geodetic CRS is used.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        If the centre is not a finite longitude/latitude.

    Examples
    --------
    >>> crs = local_tm(117.2, 39.13)
    >>> crs.is_projected, crs.axis_info[0].unit_name
    (True, 'metre')
    >>> from pyproj import Transformer
    >>> t = Transformer.from_crs(4326, crs, always_xy=True)
    >>> [round(v, 6) for v in t.transform(117.2, 39.13)]
    [0.0, 0.0]
    """
    lon0 = float(lon0)
    lat0 = float(lat0)
    if not (math.isfinite(lon0) and math.isfinite(lat0) and -90.0 <= lat0 <= 90.0):
        raise CRSError(f"cannot centre a local transverse Mercator on ({lon0}, {lat0})")
    lon0 = (lon0 + 180.0) % 360.0 - 180.0
    if isinstance(datum, str) and datum.upper().replace(" ", "") in _DATUMS:
        base = _DATUMS[datum.upper().replace(" ", "")]
    else:
        base = parse_crs(datum).geodetic_crs
        if base is None:
            raise CRSError(f"CRS {crs_label(datum)} has no geodetic datum for a local TM")
    if not base.is_geographic:
        base = WGS84
    return _local_tm_cached(lon0, lat0, base.to_wkt())


@functools.lru_cache(maxsize=256)
def _local_tm_cached(lon0: float, lat0: float, base_wkt: str) -> pyproj.CRS:
    base = pyproj.CRS.from_wkt(base_wkt)
    conversion = TransverseMercatorConversion(
        latitude_natural_origin=lat0,
        longitude_natural_origin=lon0,
        false_easting=0.0,
        false_northing=0.0,
        scale_factor_natural_origin=1.0,
    )
    return ProjectedCRS(
        conversion=conversion,
        geodetic_crs=base,
        name=f"CityFrame local TM {lon0:.6f}E {lat0:.6f}N ({base.name})",
    )


# --------------------------------------------------------------------------
# Transformers and the metric rule
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _cached_transformer(src_wkt: str, dst_wkt: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(
        pyproj.CRS.from_wkt(src_wkt), pyproj.CRS.from_wkt(dst_wkt), always_xy=True
    )


def get_transformer(src: Any, dst: Any) -> pyproj.Transformer:
    """A cached ``always_xy`` :class:`pyproj.Transformer` from ``src`` to ``dst``.

    Transformers are cached on the CRSs' WKT, so asking again for the same
    pair is cheap.  pyproj transformers are thread-safe.

    Examples
    --------
    >>> get_transformer(4326, 3857) is get_transformer("EPSG:4326", WEB_MERCATOR)
    True
    """
    return _cached_transformer(parse_crs(src).to_wkt(), parse_crs(dst).to_wkt())


def _check_bounds(bounds) -> tuple[float, float, float, float]:
    try:
        values = tuple(float(v) for v in bounds)
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be (minx, miny, maxx, maxy), got {_short(bounds)}") from None
    if len(values) != 4:
        raise ValueError(f"bounds must be (minx, miny, maxx, maxy), got {len(values)} values")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"bounds {values} are not finite (is the layer empty?)")
    return values  # type: ignore[return-value]


def metric_crs_for(crs: Any, bounds) -> pyproj.CRS:
    """The CRS in which to measure distances and areas of data in ``crs``.

    The rule (DESIGN.md, "Queries"): when the data's CRS is projected in
    metres and not Web Mercator, distances are measured in it; for
    geographic or Web Mercator data (or other units such as feet) they are
    measured in a local transverse Mercator with scale factor 1
    (:func:`local_tm`) centred on the centre of ``bounds``, on the data's own
    datum.  The centre is rounded to 1e-6 degrees so that equal extents give
    equal (and cache-friendly) CRSs.

    Parameters
    ----------
    crs : CRS-like
        The data's CRS (anything :func:`parse_crs` accepts, or ``"GCJ-02"`` /
        ``"BD-09"``, whose data is measured on WGS 84).
    bounds : sequence of 4 floats
        ``(minx, miny, maxx, maxy)`` of the data, in ``crs`` (x = longitude).

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    ValueError
        If ``bounds`` are not four finite numbers.
    CRSError
        If ``crs`` is unknown.

    Examples
    --------
    >>> metric_crs_for(4547, (500000, 3400000, 510000, 3410000)).to_epsg()
    4547
    >>> tm = metric_crs_for(4326, (117.1, 39.0, 117.3, 39.2))
    >>> tm.name
    'CityFrame local TM 117.200000E 39.100000N (WGS 84)'
    """
    resolved = resolve_crs(crs)
    if not isinstance(resolved, str) and is_metric_projected(resolved):
        return resolved
    minx, miny, maxx, maxy = _check_bounds(bounds)
    cx, cy = (minx + maxx) / 2.0, (miny + maxy) / 2.0
    if isinstance(resolved, str):
        lon, lat = transform_xy(cx, cy, resolved, WGS84)
        base: Any = "WGS84"
    else:
        base = resolved.geodetic_crs if resolved.geodetic_crs is not None else WGS84
        if not base.is_geographic:
            base = WGS84
        lon, lat = get_transformer(resolved, base).transform(cx, cy)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise CRSError(
            f"the centre ({cx}, {cy}) of the data's bounds is not a valid position in "
            f"{crs_label(resolved)}"
        )
    return local_tm(round(lon, 6), round(lat, 6), datum=base)


def require_metric(crs: Any, what: str = "buffer") -> pyproj.CRS:
    """Check that ``crs`` is fit for measuring; return it parsed.

    Parameters
    ----------
    crs : CRS-like
        The CRS the operation would run in.
    what : str
        The operation, for the message ("buffer", "measure", "compute areas" …).

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        For ``None``, geographic CRSs (degrees), the GCJ-02/BD-09 offsets, Web
        Mercator (its metres are not ground metres) and units other than metres.

    Examples
    --------
    >>> require_metric(4547).to_epsg()
    4547
    >>> require_metric(4326, "buffer")
    Traceback (most recent call last):
    ...
    spatial.errors.CRSError: cannot buffer in degrees: EPSG:4326 (WGS 84) is geographic; ...
    """
    if crs is None:
        raise CRSError(f"cannot {what}: the data has no CRS; set one (e.g. EPSG:4326) first")
    resolved = resolve_crs(crs)
    hint = "reproject to a projected CRS in metres first (spatial.crs.to_metric)"
    if isinstance(resolved, str) or resolved.is_geographic or not resolved.is_projected:
        raise CRSError(f"cannot {what} in degrees: {crs_label(resolved)} is geographic; {hint}")
    if is_web_mercator(resolved):
        raise CRSError(
            f"cannot {what} in degrees or Web Mercator units: {crs_label(resolved)} stretches "
            f"distances by 1/cos(latitude) (x1.3 at 40°N); {hint}"
        )
    if not _unit_is_metre(resolved):
        unit = _horizontal(resolved).axis_info[0].unit_name
        raise CRSError(f"cannot {what} in {unit}: {crs_label(resolved)} is not in metres; {hint}")
    return resolved


def to_metric(data, target: Any = None):
    """Reproject a GeoDataFrame or GeoSeries to a CRS in metres.

    Parameters
    ----------
    data : geopandas.GeoDataFrame or geopandas.GeoSeries
        Data with a CRS.  It is not changed.
    target : CRS-like, optional
        The metric CRS to use, e.g. the one chosen for another layer of the
        same query.  By default :func:`metric_crs_for` chooses it from
        ``data.crs`` and ``data.total_bounds``.

    Returns
    -------
    (same type as data, pyproj.CRS)
        A reprojected copy (only the active geometry column is transformed)
        and the CRS used, to be recorded as provenance.

    Raises
    ------
    CRSError
        If ``data`` has no CRS or ``target`` is not a metric CRS.
    TypeError
        If ``data`` is not a GeoDataFrame or GeoSeries.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> pts = gpd.GeoSeries([Point(117.2, 39.1), Point(117.21, 39.1)], crs=4326)
    >>> metric, used = to_metric(pts)
    >>> used.name
    'CityFrame local TM 117.205000E 39.100000N (WGS 84)'
    >>> round(metric.iloc[0].distance(metric.iloc[1]), 1)
    865.0
    """
    import geopandas as gpd  # deferred: keeps `import spatial.crs` light

    if not isinstance(data, (gpd.GeoDataFrame, gpd.GeoSeries)):
        raise TypeError(f"to_metric needs a GeoDataFrame or GeoSeries, got {type(data).__name__}")
    if data.crs is None:
        raise CRSError("cannot measure data without a CRS; set one (e.g. EPSG:4326) first")
    src = parse_crs(data.crs)
    if target is None:
        bounds = data.total_bounds
        if not np.all(np.isfinite(bounds)):  # no coordinates: empty, None or empty geometries
            target_crs = _metric_crs_for_empty(src)
        else:
            target_crs = metric_crs_for(src, bounds)
    else:
        target_crs = require_metric(target, "measure")
    geoms = data.geometry.values if isinstance(data, gpd.GeoDataFrame) else data.values
    if src == target_crs:
        new = np.asarray(geoms, dtype=object).copy()
    else:
        new = transform_geometries(np.asarray(geoms, dtype=object), src, target_crs)
    if isinstance(data, gpd.GeoSeries):
        out = gpd.GeoSeries(new, index=data.index, crs=target_crs, name=data.name)
        return out, target_crs
    out = data.copy()
    col = data.geometry.name
    out[col] = gpd.GeoSeries(new, index=data.index, crs=target_crs)
    out = out.set_geometry(col, crs=target_crs)
    return out, target_crs


def _metric_crs_for_empty(src: pyproj.CRS) -> pyproj.CRS:
    """Metric CRS for an empty layer: its own if metric, else a TM on its area of use."""
    if is_metric_projected(src):
        return src
    area = src.area_of_use
    if area is not None:
        lon = (area.west + area.east) / 2.0
        lat = (area.south + area.north) / 2.0
    else:
        lon = lat = 0.0
    return local_tm(round(lon, 6), round(lat, 6), datum=src)


# --------------------------------------------------------------------------
# GCJ-02 and BD-09
# --------------------------------------------------------------------------

# Krasovsky 1940 semi-major axis and eccentricity squared, as in the GCJ-02
# algorithm's published implementations (e.g. wandergis/coordtransform).
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_BD_X_PI = math.pi * 3000.0 / 180.0
_INVERSE_TOL_DEG = 1e-10
_INVERSE_MAX_ITER = 30


def _prepare(lon, lat):
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return x, y, scalar


def _finish(x: np.ndarray, y: np.ndarray, scalar: bool):
    if scalar:
        return float(x), float(y)
    return x, y


def in_china(lon, lat):
    """Whether points fall in the rough China box :data:`CHINA_BOX`.

    This is the usual rectangle test of the published GCJ-02 implementations
    (72.004°E–137.8347°E, 0.8293°N–55.8271°N), not China's border: the
    offsets below apply inside it and pass everything else through.

    Examples
    --------
    >>> in_china(116.4, 39.9), in_china(2.35, 48.86)
    (True, False)
    >>> in_china([116.4, 139.7], [39.9, 35.7]).tolist()
    [True, False]
    """
    x, y, scalar = _prepare(lon, lat)
    west, south, east, north = CHINA_BOX
    inside = (x >= west) & (x <= east) & (y >= south) & (y <= north)
    return bool(inside) if scalar else inside


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 offset (dlon, dlat) in degrees at WGS 84 position (lon, lat)."""
    x = lon - 105.0
    y = lat - 35.0
    xpi = x * math.pi
    ypi = y * math.pi
    common = (20.0 * np.sin(6.0 * xpi) + 20.0 * np.sin(2.0 * xpi)) * 2.0 / 3.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    dlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
        + common
        + (20.0 * np.sin(ypi) + 40.0 * np.sin(ypi / 3.0)) * 2.0 / 3.0
        + (160.0 * np.sin(ypi / 12.0) + 320.0 * np.sin(ypi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
        + common
        + (20.0 * np.sin(xpi) + 40.0 * np.sin(xpi / 3.0)) * 2.0 / 3.0
        + (150.0 * np.sin(xpi / 12.0) + 300.0 * np.sin(xpi / 30.0)) * 2.0 / 3.0
    )
    radlat = np.radians(lat)
    magic = 1.0 - _KRASOVSKY_EE * np.sin(radlat) ** 2
    sqrt_magic = np.sqrt(magic)
    meridian_radius = (_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic)
    dlat = (dlat * 180.0) / (meridian_radius * math.pi)
    dlon = (dlon * 180.0) / (_KRASOVSKY_A / sqrt_magic * np.cos(radlat) * math.pi)
    return dlon, dlat


def _gcj_forward(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def _refine(x, y, target_x, target_y, forward):
    """Solve ``forward(x, y) == (target_x, target_y)`` by fixed-point iteration.

    ``x <- x - (forward(x) - target)`` converges because both offsets change
    by less than 1 % of a step per step.  Each element stops once its
    residual is below 1e-10 degrees, so a point's result does not depend on
    the other points in the batch.
    """
    active = np.isfinite(x) & np.isfinite(y)
    for _ in range(_INVERSE_MAX_ITER):
        if not active.any():
            break
        fx, fy = forward(x, y)
        err_x = fx - target_x
        err_y = fy - target_y
        x = np.where(active, x - err_x, x)
        y = np.where(active, y - err_y, y)
        active &= (np.abs(err_x) > _INVERSE_TOL_DEG) | (np.abs(err_y) > _INVERSE_TOL_DEG)
    return x, y


def wgs84_to_gcj02(lon, lat):
    """Convert WGS 84 longitude/latitude to GCJ-02 (Chinese web maps: Amap, Tencent).

    Vectorised over numpy arrays (scalars give floats).  Points outside the
    rough China box :data:`CHINA_BOX` (a rectangle, not the border) are
    returned unchanged, as in the published implementations.  The offset is
    typically 100–700 m.

    Parameters
    ----------
    lon, lat : float or array_like
        WGS 84 longitude and latitude in degrees.

    Returns
    -------
    (lon, lat) : floats or numpy.ndarray
        GCJ-02 coordinates (new arrays; inputs are not changed).

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(116.404, 39.915)
    >>> round(lon, 8), round(lat, 8)
    (116.4102445, 39.91640428)
    >>> wgs84_to_gcj02(2.35, 48.86)    # Paris: outside China, unchanged
    (2.35, 48.86)
    """
    x, y, scalar = _prepare(lon, lat)
    inside = in_china(x, y)
    dlon, dlat = _gcj_delta(x, y)
    out_x = np.where(inside, x + dlon, x)
    out_y = np.where(inside, y + dlat, y)
    return _finish(out_x, out_y, scalar)


def gcj02_to_wgs84(lon, lat):
    """Convert GCJ-02 longitude/latitude back to WGS 84, exactly.

    Unlike the common one-step approximation (subtracting the offset taken
    at the GCJ-02 position, which is off by up to a few metres), this
    iterates ``w <- w - (gcj(w) - g)`` until the forward conversion of the
    result reproduces the input to 1e-10 degrees (about 0.01 mm); it
    converges in 3–5 steps.  Points outside the rough China box
    :data:`CHINA_BOX` are returned unchanged.

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    (lon, lat) : floats or numpy.ndarray
        WGS 84 coordinates.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(116.41024449916938, 39.91640428150164)
    >>> round(lon, 9), round(lat, 9)
    (116.404, 39.915)
    """
    gx, gy, scalar = _prepare(lon, lat)
    inside = in_china(gx, gy)
    if not np.any(inside):
        return _finish(gx.copy(), gy.copy(), scalar)
    g_lon = gx[inside]
    g_lat = gy[inside]
    dlon, dlat = _gcj_delta(g_lon, g_lat)
    w_lon, w_lat = _refine(g_lon - dlon, g_lat - dlat, g_lon, g_lat, _gcj_forward)
    out_x = gx.copy()
    out_y = gy.copy()
    out_x[inside] = w_lon
    out_y[inside] = w_lat
    return _finish(out_x, out_y, scalar)


def _bd_forward(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def gcj02_to_bd09(lon, lat):
    """Convert GCJ-02 longitude/latitude to Baidu's BD-09.

    Vectorised; points outside the rough China box :data:`CHINA_BOX` pass
    through unchanged.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(116.404, 39.915)
    >>> round(lon, 8), round(lat, 8)
    (116.41036949, 39.92133699)
    """
    x, y, scalar = _prepare(lon, lat)
    inside = in_china(x, y)
    bx, by = _bd_forward(x, y)
    return _finish(np.where(inside, bx, x), np.where(inside, by, y), scalar)


def bd09_to_gcj02(lon, lat):
    """Convert Baidu BD-09 longitude/latitude to GCJ-02, exactly.

    Starts from the published closed-form inverse (which is off by up to
    2e-6 degrees, about 0.2 m) and refines it until :func:`gcj02_to_bd09`
    of the result reproduces the input to 1e-10 degrees.  Points outside the
    rough China box :data:`CHINA_BOX` pass through unchanged.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(116.404, 39.915)
    >>> round(lon, 7), round(lat, 7)
    (116.3976271, 39.9086563)
    """
    bx, by, scalar = _prepare(lon, lat)
    inside = in_china(bx, by)
    x = bx - 0.0065
    y = by - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    gx, gy = _refine(z * np.cos(theta), z * np.sin(theta), bx, by, _bd_forward)
    return _finish(np.where(inside, gx, bx), np.where(inside, gy, by), scalar)


def wgs84_to_bd09(lon, lat):
    """Convert WGS 84 longitude/latitude to BD-09 (via GCJ-02).

    Examples
    --------
    >>> lon, lat = wgs84_to_bd09(123.0, 45.0)
    >>> round(lon, 6), round(lat, 6)
    (123.012449, 45.008329)
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat):
    """Convert BD-09 longitude/latitude to WGS 84 (via GCJ-02, exact inverses).

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(*wgs84_to_bd09(114.3, 30.6))
    >>> round(lon, 9), round(lat, 9)
    (114.3, 30.6)
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_GEOD = pyproj.Geod(ellps="WGS84")


def roundtrip_error_m(lon, lat, forward: Callable, inverse: Callable):
    """Geodesic distance in metres between points and their round trip.

    Computes ``inverse(*forward(lon, lat))`` and measures how far it lands
    from ``(lon, lat)`` on the WGS 84 ellipsoid (:class:`pyproj.Geod`).

    Examples
    --------
    >>> err = roundtrip_error_m(116.4, 39.9, wgs84_to_gcj02, gcj02_to_wgs84)
    >>> err < 1e-6
    True
    """
    x, y, scalar = _prepare(lon, lat)
    bx, by = inverse(*forward(x, y))
    _, _, dist = _GEOD.inv(x, y, np.asarray(bx, float), np.asarray(by, float))
    dist = np.asarray(dist, dtype=float)
    return float(dist) if scalar else dist


# --------------------------------------------------------------------------
# Transforming coordinates and geometries
# --------------------------------------------------------------------------

_TO_WGS = {GCJ02: gcj02_to_wgs84, BD09: bd09_to_wgs84}
_FROM_WGS = {GCJ02: wgs84_to_gcj02, BD09: wgs84_to_bd09}
_BETWEEN_OFFSETS = {(GCJ02, BD09): gcj02_to_bd09, (BD09, GCJ02): bd09_to_gcj02}


def _xy_function(src: Any, dst: Any) -> Callable[[np.ndarray, np.ndarray], tuple]:
    """A vectorised ``f(x, y) -> (x, y)`` from ``src`` to ``dst`` (arrays in, arrays out)."""
    s = resolve_crs(src)
    d = resolve_crs(dst)
    s_offset = isinstance(s, str)
    d_offset = isinstance(d, str)
    if s_offset and d_offset:
        if s == d:
            return lambda x, y: (np.array(x, dtype=float), np.array(y, dtype=float))
        return _BETWEEN_OFFSETS[(s, d)]
    if not s_offset and not d_offset:
        if s == d:
            return lambda x, y: (np.array(x, dtype=float), np.array(y, dtype=float))
        transformer = get_transformer(s, d)
        return lambda x, y: transformer.transform(x, y)
    if s_offset:
        to_wgs = _TO_WGS[s]
        if d == WGS84:
            return to_wgs
        transformer = get_transformer(WGS84, d)
        return lambda x, y: transformer.transform(*to_wgs(x, y))
    from_wgs = _FROM_WGS[d]
    if s == WGS84:
        return from_wgs
    transformer = get_transformer(s, WGS84)
    return lambda x, y: from_wgs(*transformer.transform(x, y))


def transform_xy(x, y, src: Any, dst: Any):
    """Transform coordinates between CRSs, including the GCJ-02/BD-09 offsets.

    Parameters
    ----------
    x, y : float or array_like
        Coordinates in ``src`` (x = longitude for geographic CRSs).
    src, dst : CRS-like or {"GCJ-02", "BD-09"}
        Anything :func:`parse_crs` accepts, or a pseudo-CRS name.  GCJ-02 and
        BD-09 are offsets of WGS 84: a conversion such as GCJ-02 -> EPSG:4547
        goes GCJ-02 -> WGS 84 (exact inverse) -> EPSG:4547.

    Returns
    -------
    (x, y) : floats or numpy.ndarray

    Examples
    --------
    >>> x, y = transform_xy(116.41024449916938, 39.91640428150164, "GCJ-02", "EPSG:4326")
    >>> round(x, 9), round(y, 9)
    (116.404, 39.915)
    >>> x, y = transform_xy([114.3, 114.31], [30.6, 30.6], "GCJ-02", 4547)
    >>> x.round(1).tolist()
    [528248.6, 529206.4]
    """
    fx, fy, scalar = _prepare(x, y)
    out_x, out_y = _xy_function(src, dst)(fx, fy)
    out_x = np.asarray(out_x, dtype=float)
    out_y = np.asarray(out_y, dtype=float)
    return _finish(out_x, out_y, scalar)


def transform_geometries(geoms, src: Any, dst: Any) -> np.ndarray:
    """Transform an array of shapely 2 geometries between CRSs.

    Uses :func:`shapely.transform` with one vectorised call over all
    coordinates; Z values are kept unchanged, ``None`` and empty geometries
    pass through.  Accepts the same CRSs and pseudo-CRSs as
    :func:`transform_xy`.

    Parameters
    ----------
    geoms : array_like of shapely geometries
        E.g. ``GeoSeries.values`` or a numpy object array.  Not changed.
    src, dst : CRS-like or {"GCJ-02", "BD-09"}

    Returns
    -------
    numpy.ndarray of shapely geometries (object dtype)

    Examples
    --------
    >>> from shapely import Point, LineString
    >>> out = transform_geometries([Point(116.404, 39.915), None], "EPSG:4326", "GCJ-02")
    >>> [round(c, 6) for c in out[0].coords[0]], out[1]
    ([116.410244, 39.916404], None)
    >>> line = transform_geometries([LineString([(0, 0), (1, 1)])], 4326, 3857)[0]
    >>> round(line.length)
    157434
    """
    arr = np.asarray(geoms, dtype=object)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    func = _xy_function(src, dst)

    def apply(coords: np.ndarray) -> np.ndarray:
        if coords.shape[0] == 0:
            return coords
        out = np.array(coords, dtype=float, copy=True)
        nx, ny = func(coords[:, 0], coords[:, 1])
        out[:, 0] = nx
        out[:, 1] = ny
        return out

    return shapely.transform(arr, apply, include_z=None)


@functools.lru_cache(maxsize=1)
def _crs_catalogue() -> tuple[tuple[str, str, str, bool, tuple], ...]:
    import pyproj.database

    infos = pyproj.database.query_crs_info(
        pj_types=["GEOGRAPHIC_2D_CRS", "PROJECTED_CRS"], allow_deprecated=False)
    return tuple((f"{i.auth_name}:{i.code}", i.name, i.type.name, i.type.name == "PROJECTED_CRS",
                  tuple(i.area_of_use.bounds) if i.area_of_use else ()) for i in infos)


def search_crs(text: str = "", limit: int = 200, lonlat: tuple[float, float] | None = None
               ) -> list[dict]:
    """Search pyproj's CRS database by code or words, for the CRS picker.

    Every word of ``text`` must appear in the code or the name
    (case-insensitive).  With ``lonlat``, CRSs whose area of use contains the
    point come first.  Returns dicts with ``code``, ``name``, ``projected``.

    Examples
    --------
    >>> search_crs("4547")[0]["name"]
    'CGCS2000 / 3-degree Gauss-Kruger CM 114E'
    >>> any(r["code"] == "EPSG:32651" for r in search_crs("UTM 51N WGS 84"))
    True
    """
    words = [w for w in text.lower().replace(":", " ").split() if w]
    rows = []
    for code, name, _kind, projected, area in _crs_catalogue():
        hay = f"{code} {name}".lower().replace(":", " ")
        if all(w in hay for w in words):
            exact = any(code.split(":")[1] == w for w in words)
            inside = bool(lonlat and area and area[0] <= lonlat[0] <= area[2]
                          and area[1] <= lonlat[1] <= area[3])
            rows.append((not exact, not inside, code.split(":")[0] != "EPSG", name,
                         {"code": code, "name": name, "projected": projected}))
    rows.sort(key=lambda r: r[:4])
    return [r[-1] for r in rows[:limit]]
