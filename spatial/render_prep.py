"""Qt-free preparation of vector and raster data for drawing a map.

The map canvas (``gui/canvas``) draws a million buildings in tens of
milliseconds by never looping over features in Python.  Everything it needs
is computed here, vectorised with numpy and shapely 2, and cached per layer:

- :class:`View` — the map view (centre, map units per pixel, size in pixels)
  and its world → screen affine transform, with pan and zoom arithmetic.
- :class:`PreparedVector` — a layer's geometries (already in the map CRS)
  flattened to one coordinate array with per-feature offsets, per-feature
  bounding boxes, sizes and centres, a grid of tiles (about 500 m) and
  *size buckets* for the level of detail:

  * features smaller than :data:`PIXEL_LOD_PX` on screen are drawn as single
    pixels straight into the image buffer (:func:`plot_pixels`);
  * larger ones are drawn as paths grouped per tile, style class and size
    bucket (:meth:`PreparedVector.groups`); at coarse zooms tiles merge into
    super-tiles (*levels*) so the number of draw calls stays small;
  * :meth:`PreparedVector.path_stream` turns any set of features into the
    byte layout of a serialised ``QPainterPath`` (Qt's ``QDataStream``
    format: big-endian element count, then ``(type, x, y)`` per element,
    then the fill rule), so the GUI builds a path with one call and no
    per-feature loop.  Polygon rings are oriented (exteriors counter-clockwise,
    holes clockwise) so the non-zero winding rule fills overlapping features
    and keeps holes.
- style classes, mapped vectorised (:func:`classify_categories`), label
  anchors (:func:`label_anchors`), scale-bar arithmetic
  (:func:`ground_resolution`, :func:`nice_scale_bar`) and raster windows and
  reprojection onto the view (:func:`raster_window`, :func:`warp_to_view`).

Examples
--------
>>> import shapely
>>> view = View(cx=50.0, cy=50.0, scale=0.5, width=200, height=100)
>>> view.extent
(0.0, 25.0, 100.0, 75.0)
>>> view.to_screen(np.array([0.0, 100.0]), np.array([75.0, 25.0]))
(array([  0., 200.]), array([  0., 100.]))
>>> prep = PreparedVector(shapely.box([0, 10], [0, 10], [1, 11], [1, 11]))
>>> prep.family, prep.n, prep.size.tolist()
('polygon', 2, [1.0, 1.0])
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import shapely

__all__ = [
    "View",
    "PreparedVector",
    "Groups",
    "PIXEL_LOD_PX",
    "BLOCK_LOD_PX",
    "TILE_METRES",
    "BUCKET_RATIO",
    "N_BUCKETS",
    "classify_categories",
    "ragged_indices",
    "encode_path",
    "coordinates",
    "plot_pixels",
    "plot_discs",
    "stamp_sprite",
    "disc_offsets",
    "premultiplied_argb",
    "metres_per_unit",
    "ground_resolution",
    "nice_scale_bar",
    "label_anchors",
    "transform_bounds",
    "union_bounds",
    "rows_bounds",
    "raster_window",
    "warp_to_view",
]

#: Features smaller than this many pixels on screen are drawn as single pixels.
PIXEL_LOD_PX = 2.0
#: Polygons from PIXEL_LOD_PX up to this size are drawn as pixel blocks (their box).
BLOCK_LOD_PX = 4.0
#: Target tile edge on the ground (the brief's "~500 m tile").
TILE_METRES = 500.0
#: Size buckets grow by this factor (feature size in map units, log scale).
BUCKET_RATIO = 2.0
#: Number of size buckets; bucket 0 holds everything below ``2 * tile/256``.
N_BUCKETS = 9
#: Tiles never get smaller than this on screen: coarser zooms use super-tiles.
MIN_TILE_PX = 64.0
#: At most this many tiles per layer (the tile size doubles until it fits).
MAX_TILES = 1 << 20

_FAMILIES = {0: "point", 4: "point", 1: "line", 2: "line", 5: "line", 3: "polygon", 6: "polygon"}


# --------------------------------------------------------------------------- view
@dataclass(frozen=True)
class View:
    """A map view: centre ``(cx, cy)`` in map units, ``scale`` in map units per
    pixel, and the size of the image in pixels.

    Screen y grows downwards; map y grows upwards.

    Examples
    --------
    >>> v = View.fit((0, 0, 100, 50), 200, 100, margin=0)
    >>> v.scale, v.extent
    (0.5, (0.0, 0.0, 100.0, 50.0))
    >>> z = v.zoomed(2.0, anchor=(0, 0))     # zoom in, keep the top-left corner
    >>> z.to_map(0, 0) == v.to_map(0, 0), z.scale
    (True, 0.25)
    """

    cx: float
    cy: float
    scale: float
    width: int
    height: int

    def __post_init__(self) -> None:
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"scale must be a positive number of map units per pixel, got "
                             f"{self.scale!r}")
        if not (math.isfinite(self.cx) and math.isfinite(self.cy)):
            raise ValueError(f"the view centre must be finite, got ({self.cx}, {self.cy})")

    @classmethod
    def fit(cls, bounds, width: int, height: int, margin: float = 0.05) -> View:
        """The view that shows ``bounds`` (minx, miny, maxx, maxy) whole, centred,
        with ``margin`` (a fraction of the size) around it."""
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
            raise ValueError(f"bounds must be finite, got {bounds!r}")
        w, h = max(int(width), 1), max(int(height), 1)
        dx, dy = max(maxx - minx, 0.0), max(maxy - miny, 0.0)
        if dx == 0 and dy == 0:
            dx = dy = 1.0  # a single point: show one unit around it
        scale = max(dx / w, dy / h) * (1.0 + 2.0 * margin)
        return cls((minx + maxx) / 2.0, (miny + maxy) / 2.0, scale, w, h)

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """``(minx, miny, maxx, maxy)`` shown, in map units."""
        hw, hh = self.width * self.scale / 2.0, self.height * self.scale / 2.0
        return (self.cx - hw, self.cy - hh, self.cx + hw, self.cy + hh)

    def affine(self) -> tuple[float, float, float, float, float, float]:
        """``(m11, m12, m21, m22, dx, dy)`` of the map → screen transform
        (``QTransform``'s argument order)."""
        minx, _, _, maxy = self.extent
        inv = 1.0 / self.scale
        return (inv, 0.0, 0.0, -inv, -minx * inv, maxy * inv)

    def to_screen(self, x, y):
        """Map coordinates → pixel coordinates (floats; arrays or scalars)."""
        minx, _, _, maxy = self.extent
        inv = 1.0 / self.scale
        return (np.asarray(x, dtype=float) - minx) * inv, (maxy - np.asarray(y, dtype=float)) * inv

    def to_map(self, px, py):
        """Pixel coordinates → map coordinates."""
        minx, _, _, maxy = self.extent
        if np.ndim(px) == 0 and np.ndim(py) == 0:
            return minx + float(px) * self.scale, maxy - float(py) * self.scale
        return (minx + np.asarray(px, dtype=float) * self.scale,
                maxy - np.asarray(py, dtype=float) * self.scale)

    def zoomed(self, factor: float, anchor: tuple[float, float] | None = None) -> View:
        """Zoom in by ``factor`` (> 1 zooms in) keeping the map point under the pixel
        ``anchor`` fixed (the centre by default)."""
        if not (math.isfinite(factor) and factor > 0):
            raise ValueError(f"zoom factor must be positive, got {factor!r}")
        if anchor is None:
            return replace(self, scale=self.scale / factor)
        ax, ay = anchor
        wx, wy = self.to_map(ax, ay)
        new_scale = self.scale / factor
        # keep (wx, wy) at pixel (ax, ay): wx = cx' + (ax - w/2) * s'
        cx = wx - (ax - self.width / 2.0) * new_scale
        cy = wy + (ay - self.height / 2.0) * new_scale
        return View(cx, cy, new_scale, self.width, self.height)

    def panned(self, dx_px: float, dy_px: float) -> View:
        """Move the map content by ``(dx_px, dy_px)`` pixels (as a mouse drag does)."""
        return replace(self, cx=self.cx - dx_px * self.scale, cy=self.cy + dy_px * self.scale)

    def resized(self, width: int, height: int) -> View:
        """Same centre and scale, another image size."""
        return replace(self, width=max(int(width), 1), height=max(int(height), 1))

    def scaled_to_device(self, ratio: float) -> View:
        """The view in device pixels for a device-pixel ratio (HiDPI screens)."""
        if ratio == 1:
            return self
        return View(self.cx, self.cy, self.scale / ratio,
                    max(int(round(self.width * ratio)), 1), max(int(round(self.height * ratio)), 1))


# --------------------------------------------------------------------------- helpers
def ragged_indices(starts, ends) -> np.ndarray:
    """Concatenate ``arange(s, e)`` for each pair, without a Python loop.

    Examples
    --------
    >>> ragged_indices([0, 5, 9], [2, 5, 11]).tolist()
    [0, 1, 9, 10]
    """
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    lengths = np.maximum(ends - starts, 0)
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    keep = lengths > 0
    starts, lengths = starts[keep], lengths[keep]
    # offset of each run's first element in the output
    first = np.cumsum(lengths) - lengths
    out = np.ones(total, dtype=np.int64)
    out[0] = starts[0]
    if len(starts) > 1:
        # at each run boundary jump from the previous run's last value to the next start
        out[first[1:]] = starts[1:] - (starts[:-1] + lengths[:-1] - 1)
    return np.cumsum(out)


def classify_categories(values, keys) -> np.ndarray:
    """The index of each value in ``keys``; ``len(keys)`` (the default class)
    for values not listed and for nulls.  Vectorised (a hash look-up).

    Numbers match numbers of another type (``1`` matches ``1.0``), as in the
    style's own :meth:`symbol_for`.

    Examples
    --------
    >>> classify_categories(["a", "b", None, "z", "a"], ["b", "a"]).tolist()
    [1, 0, 2, 2, 1]
    >>> classify_categories(np.array([1, 2, 3]), [2.0]).tolist()
    [1, 0, 1]
    """
    import pandas as pd

    keys = list(keys)
    n_keys = len(keys)
    if n_keys == 0:
        return np.zeros(len(values), dtype=np.int32)
    index = pd.Index(keys)
    if index.has_duplicates:
        index = index.drop_duplicates()
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    # in chunks: pandas holds the GIL while it hashes (and converts Arrow strings)
    idx = np.empty(len(series), dtype=np.int32)
    for i in range(0, len(series), CLASSIFY_CHUNK):
        part = series.iloc[i:i + CLASSIFY_CHUNK]
        try:
            idx[i:i + CLASSIFY_CHUNK] = index.get_indexer(part)
        except (TypeError, ValueError):  # mixed, unhashable or odd types: compare as objects
            idx[i:i + CLASSIFY_CHUNK] = pd.Index(keys, dtype=object).get_indexer(
                part.astype(object))
    idx[idx < 0] = n_keys
    if index.size != n_keys:  # duplicates were dropped: map back to the first key
        first = {k: i for i, k in reversed(list(enumerate(keys)))}
        remap = np.array([first[k] for k in index] + [n_keys], dtype=np.int32)
        idx = remap[np.where(idx == n_keys, len(index), idx)]
    return idx


_PATH_DTYPE = np.dtype([("t", ">i4"), ("x", ">f8"), ("y", ">f8")])


def encode_path(xy: np.ndarray, move: np.ndarray, winding: bool = True) -> bytes:
    """Serialise a path in the layout ``QDataStream >> QPainterPath`` reads.

    ``xy`` holds the vertices (k, 2); ``move[i]`` is True where a new subpath
    (ring or line) starts (a *MoveTo*), otherwise the vertex continues it
    (*LineTo*).  The fill rule is non-zero winding (or odd-even).

    Examples
    --------
    >>> data = encode_path(np.array([[0., 0.], [1., 0.], [1., 1.]]), np.array([1, 0, 0], bool))
    >>> len(data), struct.unpack(">i", data[:4])[0]
    (72, 3)
    """
    k = len(xy)
    arr = np.empty(k, dtype=_PATH_DTYPE)
    arr["t"] = np.where(move, 0, 1)
    if k:
        arr["x"] = xy[:, 0]
        arr["y"] = xy[:, 1]
    # element count; elements; cStart (index of the last subpath's start); fill rule
    c_start = int(np.flatnonzero(move)[-1]) if k and np.any(move) else 0
    return b"".join((struct.pack(">i", k), arr.tobytes(),
                     struct.pack(">ii", c_start, 1 if winding else 0)))


def premultiplied_argb(rgba) -> np.ndarray:
    """``(r, g, b, a)`` rows (0–255) → premultiplied ``0xAARRGGBB`` as uint32
    (the pixel layout of ``QImage.Format_ARGB32_Premultiplied``).

    Examples
    --------
    >>> hex(int(premultiplied_argb([(255, 0, 0, 128)])[0]))
    '0x80800000'
    """
    c = np.asarray(rgba, dtype=np.float64).reshape(-1, 4)
    a = c[:, 3:4] / 255.0
    rgb = np.round(c[:, :3] * a).astype(np.uint32)
    alpha = np.round(c[:, 3]).astype(np.uint32)
    return (alpha << 24) | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]


def plot_pixels(buffer: np.ndarray, px, py, colors, opacity: float = 1.0) -> int:
    """Draw single pixels into an image buffer (``(rows, cols)`` uint32,
    premultiplied ARGB) at screen positions ``px, py`` (floats, pixels).

    ``colors`` is one premultiplied uint32 or one per pixel.  Pixels outside
    the buffer are skipped.  Opaque colours at full opacity overwrite; others
    are blended (source-over).  Returns the number of pixels drawn.

    Examples
    --------
    >>> buf = np.zeros((2, 3), dtype=np.uint32)
    >>> plot_pixels(buf, [0.5, 2.9, 7.0], [0.2, 1.0, 0.0], np.uint32(0xFF112233))
    2
    >>> [hex(v) for v in buf.ravel()]
    ['0xff112233', '0x0', '0x0', '0x0', '0x0', '0xff112233']
    """
    rows, cols = buffer.shape
    ix = np.floor(np.asarray(px, dtype=np.float64)).astype(np.int64, copy=False)
    iy = np.floor(np.asarray(py, dtype=np.float64)).astype(np.int64, copy=False)
    inside = (ix >= 0) & (ix < cols) & (iy >= 0) & (iy < rows)
    colors = np.asarray(colors, dtype=np.uint32)
    if not inside.all():
        ix, iy = ix[inside], iy[inside]
        if colors.ndim:
            colors = colors[inside]
    if ix.size == 0:
        return 0
    flat = buffer.reshape(-1)
    pos = iy * cols + ix
    alpha = (colors >> 24) & 0xFF
    if opacity >= 1.0 and (np.all(alpha == 255)):
        flat[pos] = colors
        return int(ix.size)
    # source-over with premultiplied colours: dst = src*o + dst*(1 - a*o)
    src = colors.astype(np.uint32)
    if colors.ndim == 0:
        src = np.full(ix.size, colors, dtype=np.uint32)
    dst = flat[pos]
    o = float(min(max(opacity, 0.0), 1.0))
    a = ((src >> 24) & 0xFF).astype(np.float32) * o / 255.0
    out = np.zeros(ix.size, dtype=np.uint32)
    for shift in (0, 8, 16, 24):
        s = ((src >> shift) & 0xFF).astype(np.float32) * o
        d = ((dst >> shift) & 0xFF).astype(np.float32)
        v = np.clip(np.round(s + d * (1.0 - a)), 0, 255).astype(np.uint32)
        out |= v << shift
    flat[pos] = out
    return int(ix.size)


def disc_offsets(diameter: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixel offsets ``(dx, dy)`` of a filled disc of ``diameter`` pixels
    (a square for 2 px and less).

    Examples
    --------
    >>> len(disc_offsets(2)[0]), len(disc_offsets(5)[0])
    (4, 21)
    """
    d = max(1, int(round(diameter)))
    r = d / 2.0
    c = np.arange(d) - (d - 1) / 2.0
    dx, dy = np.meshgrid(c, c)
    keep = (dx * dx + dy * dy <= r * r + 0.25) if d > 2 else np.ones_like(dx, dtype=bool)
    return (np.floor(dx[keep] + 0.5).astype(np.int64), np.floor(dy[keep] + 0.5).astype(np.int64))


def plot_discs(buffer: np.ndarray, px, py, colors, diameter: float) -> int:
    """Stamp opaque discs of ``diameter`` pixels centred at ``px, py`` into
    ``buffer`` ((rows, cols) uint32): one scatter per disc pixel, so thousands
    of point symbols cost well under a millisecond.  Returns the discs drawn.

    Examples
    --------
    >>> buf = np.zeros((5, 5), dtype=np.uint32)
    >>> plot_discs(buf, [2.5], [2.5], np.uint32(7), 3)
    1
    >>> int((buf == 7).sum())
    9
    """
    rows, cols = buffer.shape
    cx = np.floor(np.asarray(px, dtype=np.float64)).astype(np.int64)
    cy = np.floor(np.asarray(py, dtype=np.float64)).astype(np.int64)
    colors = np.broadcast_to(np.asarray(colors, dtype=np.uint32), cx.shape)
    dxs, dys = disc_offsets(diameter)
    r = int(max(abs(dxs).max(initial=0), abs(dys).max(initial=0)))
    near = (cx >= -r) & (cx < cols + r) & (cy >= -r) & (cy < rows + r)
    if not near.all():
        cx, cy, colors = cx[near], cy[near], colors[near]
    inner = (cx >= r) & (cx < cols - r) & (cy >= r) & (cy < rows - r)
    ix, iy, ic = cx[inner], cy[inner], colors[inner]
    ex, ey, ec = cx[~inner], cy[~inner], colors[~inner]
    for dx, dy in zip(dxs.tolist(), dys.tolist(), strict=True):
        if ix.size:
            buffer[iy + dy, ix + dx] = ic
        if ex.size:  # near the edges: clip each stamp
            x, y = ex + dx, ey + dy
            ok = (x >= 0) & (x < cols) & (y >= 0) & (y < rows)
            buffer[y[ok], x[ok]] = ec[ok]
    return int(cx.size)


def _blend_over(dst: np.ndarray, src: np.uint32, inv_alpha: int) -> np.ndarray:
    """Premultiplied source-over of one colour onto uint32 pixels (two lanes at a time)."""
    inv = np.uint32(inv_alpha)
    rb = (dst & np.uint32(0x00FF00FF)) * inv + np.uint32(0x00800080)
    rb = ((rb + ((rb >> np.uint32(8)) & np.uint32(0x00FF00FF))) >> np.uint32(8)) \
        & np.uint32(0x00FF00FF)
    ag = ((dst >> np.uint32(8)) & np.uint32(0x00FF00FF)) * inv + np.uint32(0x00800080)
    ag = (ag + ((ag >> np.uint32(8)) & np.uint32(0x00FF00FF))) & np.uint32(0xFF00FF00)
    return (rb | ag) + src


def stamp_sprite(buffer: np.ndarray, px, py, sprite: np.ndarray) -> int:
    """Blend a small premultiplied ARGB image (``sprite``, (h, w) uint32) centred
    at each ``(px, py)`` into ``buffer`` — point symbols for thousands of points
    at the cost of one vectorised pass per sprite pixel.  Returns points drawn.

    Examples
    --------
    >>> buf = np.full((5, 5), 0xFFFFFFFF, dtype=np.uint32)
    >>> dot = np.array([[0, 0x80800000, 0], [0x80800000, 0xFF0000FF, 0x80800000],
    ...                 [0, 0x80800000, 0]], dtype=np.uint32)
    >>> stamp_sprite(buf, [2.5], [2.5], dot)
    1
    >>> hex(int(buf[2, 2])), hex(int(buf[1, 2]))
    ('0xff0000ff', '0xffff7f7f')
    """
    rows, cols = buffer.shape
    sh, sw = sprite.shape
    x0 = np.floor(np.asarray(px, dtype=np.float64)).astype(np.int64) - sw // 2
    y0 = np.floor(np.asarray(py, dtype=np.float64)).astype(np.int64) - sh // 2
    near = (x0 > -sw) & (x0 < cols) & (y0 > -sh) & (y0 < rows)
    if not near.all():
        x0, y0 = x0[near], y0[near]
    if x0.size == 0:
        return 0
    inner = (x0 >= 0) & (x0 <= cols - sw) & (y0 >= 0) & (y0 <= rows - sh)
    parts = [(x0[inner], y0[inner], False), (x0[~inner], y0[~inner], True)]
    alpha = sprite >> np.uint32(24)
    for dy, dx in zip(*np.nonzero(alpha), strict=True):
        s = sprite[dy, dx]
        a = int(alpha[dy, dx])
        for xs, ys, clip in parts:
            if xs.size == 0:
                continue
            x, y = xs + dx, ys + dy
            if clip:
                ok = (x >= 0) & (x < cols) & (y >= 0) & (y < rows)
                x, y = x[ok], y[ok]
            if a == 255:
                buffer[y, x] = s
            else:
                buffer[y, x] = _blend_over(buffer[y, x], s, 255 - a)
    return int(x0.size)


# --------------------------------------------------------------------------- CRS units
def metres_per_unit(crs: Any, y: float | None = None) -> float:
    """Approximate ground metres per map unit of ``crs`` (for tile sizes and the
    scale bar): the axis unit factor for projected CRSs, about 111 km per
    degree for geographic ones (times cos(latitude) when ``y`` is given).

    Examples
    --------
    >>> metres_per_unit("EPSG:4547")
    1.0
    >>> round(metres_per_unit("EPSG:4326"))
    111320
    """
    if crs is None:
        return 1.0
    from .crs import resolve_crs

    c = resolve_crs(crs)
    if isinstance(c, str) or c.is_geographic:
        f = 111_320.0
        if y is not None and math.isfinite(y):
            f *= max(math.cos(math.radians(float(y))), 0.01)
        return f
    try:
        factor = c.axis_info[0].unit_conversion_factor
        return float(factor) if factor else 1.0
    except (IndexError, AttributeError):
        return 1.0


def ground_resolution(crs: Any, view: View) -> float:
    """Metres on the ground per pixel along the view's horizontal centre line.

    Projected CRSs in metres (not Web Mercator) give ``scale`` times the unit
    factor; anything else is measured geodesically on its ellipsoid, so the
    scale bar is right in degrees and in Web Mercator.

    Examples
    --------
    >>> ground_resolution("EPSG:4547", View(500000, 3400000, 2.0, 100, 100))
    2.0
    >>> round(ground_resolution("EPSG:4326", View(0.0, 0.0, 0.001, 100, 100)), 1)
    111.3
    """
    if crs is None:
        return view.scale
    import pyproj

    from .crs import WGS84, is_metric_projected, resolve_crs, transform_xy

    c = resolve_crs(crs)
    if not isinstance(c, str) and is_metric_projected(c):
        return view.scale * metres_per_unit(c)
    geodetic = WGS84 if isinstance(c, str) else (c.geodetic_crs or WGS84)
    half = min(view.width, 200) * view.scale / 2.0
    try:
        lon, lat = transform_xy([view.cx - half, view.cx + half], [view.cy, view.cy], c,
                                geodetic)
    except Exception:
        lon = lat = np.array([np.nan, np.nan])
    if not np.all(np.isfinite(lon)) or not np.all(np.isfinite(lat)):
        return view.scale * metres_per_unit(c, view.cy)
    geod = geodetic.get_geod() or pyproj.Geod(ellps="WGS84")
    _, _, dist = geod.inv(lon[0], lat[0], lon[1], lat[1])
    return float(dist) / (2.0 * half / view.scale)


def nice_scale_bar(metres_per_pixel: float, max_px: float = 120.0) -> tuple[float, float, str]:
    """A round scale-bar length (1, 2 or 5 × 10^k metres) no longer than
    ``max_px`` pixels: ``(metres, pixels, label)``.

    Examples
    --------
    >>> nice_scale_bar(3.0, 120)
    (200.0, 66.66666666666667, '200 m')
    >>> nice_scale_bar(40.0, 120)[2]
    '2 km'
    """
    if not (math.isfinite(metres_per_pixel) and metres_per_pixel > 0):
        return (0.0, 0.0, "")
    limit = metres_per_pixel * max_px
    exp = math.floor(math.log10(limit))
    best = 10.0 ** exp
    for m in (5.0, 2.0, 1.0):
        if m * 10.0 ** exp <= limit:
            best = m * 10.0 ** exp
            break
    label = f"{best / 1000:g} km" if best >= 1000 else f"{best:g} m"
    return (best, best / metres_per_pixel, label)


# --------------------------------------------------------------------------- vectors
@dataclass
class Groups:
    """Features grouped for drawing at one tile level.

    ``keys`` are sorted group keys ``((class * N_BUCKETS + bucket) * ny + row) * nx + col``
    (``nx``, ``ny`` the number of (super-)tiles at the level); the features of
    group ``g`` are ``rows[offsets[g]:offsets[g + 1]]`` (original row numbers,
    in spatial order).
    """

    level: int
    nx: int
    ny: int
    keys: np.ndarray
    offsets: np.ndarray
    rows: np.ndarray

    def decode(self, g) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(class, bucket, row, col)`` of group indices ``g``."""
        k = self.keys[g]
        col = k % self.nx
        k = k // self.nx
        row = k % self.ny
        cb = k // self.ny
        return cb // N_BUCKETS, cb % N_BUCKETS, row, col

    def members(self, g: int) -> np.ndarray:
        """Row numbers of the features of group ``g``."""
        return self.rows[self.offsets[g]:self.offsets[g + 1]]

    def visible(self, col0: int, col1: int, row0: int, row1: int,
                class_buckets) -> np.ndarray:
        """Indices of the groups in tile columns ``col0..col1`` and rows
        ``row0..row1`` (inclusive) for each ``(class, bucket)`` pair, in the order
        given, then row, then column."""
        cbs = np.asarray(class_buckets, dtype=np.int64).reshape(-1, 2)
        if cbs.size == 0 or col1 < col0 or row1 < row0:
            return np.empty(0, dtype=np.int64)
        cb = cbs[:, 0] * N_BUCKETS + cbs[:, 1]
        rows = np.arange(row0, row1 + 1, dtype=np.int64)
        base = (cb[:, None] * self.ny + rows[None, :]) * self.nx
        lo = np.searchsorted(self.keys, (base + col0).ravel(), side="left")
        hi = np.searchsorted(self.keys, (base + col1).ravel(), side="right")
        return ragged_indices(lo, hi)


class PreparedVector:
    """A layer's geometries ready to draw: flat coordinates, boxes, tiles, buckets.

    Parameters
    ----------
    geoms : array_like of shapely geometries
        In the map CRS, in the layer's row order (``None`` and empty allowed).
    tile_size : float, optional
        Tile edge in map units (default: :data:`TILE_METRES` converted with
        ``units_per_metre``).
    units_per_metre : float
        Map units per metre (1 for metric CRSs, ~1/111320 for degrees).
    family : {"point", "line", "polygon"}, optional
        Defaults to the highest dimension present.

    Attributes
    ----------
    bounds : (n, 4) float array
        Per-feature boxes (NaN for missing/empty geometries).
    cx, cy, size : (n,) float arrays
        Box centres and the larger box side (feature size for the LOD).
    coords : (m, 2) float array
        All vertices, feature after feature (points: all point parts).
    offsets : (n + 1,) int array
        Feature ``i`` owns ``coords[offsets[i]:offsets[i + 1]]``.
    starts : (m,) bool array
        True where a ring (polygons) or part (lines) begins.
    tile_ix, tile_iy : (n,) int arrays
        The level-0 tile of each feature's centre.
    bucket : (n,) int8 array
        Size bucket (``size < base * 4**(b+1)``, ``base = tile_size / 256``).
    oversize : (k,) int array
        Rows larger than a tile: kept out of the tile groups, drawn by box test.
    """

    def __init__(self, geoms, tile_size: float | None = None, *, units_per_metre: float = 1.0,
                 family: str | None = None) -> None:
        g = np.asarray(geoms, dtype=object)
        if g.ndim == 0:
            g = g.reshape(1)
        self.geoms = g
        self.n = n = len(g)
        types = shapely.get_type_id(g)
        if family is None:
            present = {_FAMILIES.get(int(t)) for t in np.unique(types) if int(t) in _FAMILIES}
            family = next((f for f in ("polygon", "line", "point") if f in present), "polygon")
        if family not in ("point", "line", "polygon"):
            raise ValueError(f"family must be point, line or polygon, got {family!r}")
        self.family = family

        b = shapely.bounds(g) if n else np.empty((0, 4))
        empty = shapely.is_empty(g) | shapely.is_missing(g) if n else np.empty(0, bool)
        b[empty] = np.nan
        self.bounds = b
        self.valid = ~np.isnan(b[:, 0]) if n else np.empty(0, bool)
        self.cx = (b[:, 0] + b[:, 2]) * 0.5
        self.cy = (b[:, 1] + b[:, 3]) * 0.5
        self.size = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
        if np.any(self.valid):
            vb = b[self.valid]
            self.total_bounds = (float(vb[:, 0].min()), float(vb[:, 1].min()),
                                 float(vb[:, 2].max()), float(vb[:, 3].max()))
        else:
            self.total_bounds = None

        self._types = types
        self._flat: tuple | None = None
        self._tile(tile_size if tile_size is not None else TILE_METRES * units_per_metre)
        self._groups: dict[tuple, Groups] = {}
        self._spatial_classes: tuple[Any, np.ndarray] | None = None

    # Flat coordinates are built on first use: the whole-city view draws pixels
    # from the boxes alone, so a first map needs no vertex at all.
    @property
    def flattened(self) -> bool:
        """Whether the flat coordinates are built."""
        return self._flat is not None

    def _flat_arrays(self) -> tuple:
        if self._flat is None:
            self._flatten(self.geoms, self._types)
        return self._flat

    @property
    def coords(self) -> np.ndarray:
        return self._flat_arrays()[0]

    @property
    def offsets(self) -> np.ndarray:
        return self._flat_arrays()[1]

    @property
    def starts(self) -> np.ndarray:
        return self._flat_arrays()[2]

    @property
    def coord_feature(self) -> np.ndarray | None:
        return self._flat_arrays()[3]

    # -- flat coordinates
    def _flatten(self, g: np.ndarray, types: np.ndarray) -> None:
        n = self.n
        counts = _chunked(shapely.get_num_coordinates, g, 4 * GIL_CHUNK).astype(np.int64)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        coords = coordinates(g, offsets)
        # which row each vertex belongs to (kept for points, whose vertices are drawn)
        coord_feature = np.repeat(np.arange(n), counts) if self.family == "point" else None
        m = len(coords)
        starts = np.zeros(m, dtype=bool)
        if self.family == "point" or m == 0:
            starts[:] = True
            self._flat = (coords, offsets, starts, coord_feature)
            return
        # Every feature starts a run; a simple feature (a Polygon without holes, a
        # LineString) is exactly one run, so only the others need their parts.
        starts[offsets[:-1][counts > 0]] = True
        exterior = starts.copy()  # ring starts that begin a polygon (part)
        if self.family == "polygon":
            simple = (types == 3) & (shapely.get_num_interior_rings(g) == 0)
        else:
            simple = np.isin(types, (1, 2))
        complex_rows = np.flatnonzero(~simple & (counts > 0))
        if complex_rows.size:
            parts, part_row = shapely.get_parts(g[complex_rows], return_index=True)
            part_row = complex_rows[part_row]
            part_len = shapely.get_num_coordinates(parts).astype(np.int64)
            part_pos = _positions(offsets[part_row], part_len, part_row)
            ok = part_len > 0
            starts[part_pos[ok]] = True
            is_poly = shapely.get_type_id(parts) == 3
            exterior[offsets[:-1][complex_rows]] = False
            exterior[part_pos[ok & is_poly]] = True
            if self.family == "polygon" and np.any(is_poly):
                poly_idx = np.flatnonzero(is_poly & ok)
                rings, ring_part = shapely.get_rings(parts[poly_idx], return_index=True)
                ring_part = poly_idx[ring_part]
                ring_len = shapely.get_num_coordinates(rings).astype(np.int64)
                ring_pos = _positions(part_pos[ring_part], ring_len, ring_part)
                starts[ring_pos[ring_len > 0]] = True
        if self.family == "polygon":
            _orient_rings(coords, starts, exterior, self.total_bounds)
        self._flat = (coords, offsets, starts, coord_feature)

    # -- tiles and buckets
    def _tile(self, tile_size: float) -> None:
        if not (math.isfinite(tile_size) and tile_size > 0):
            raise ValueError(f"tile_size must be positive, got {tile_size!r}")
        tb = self.total_bounds or (0.0, 0.0, 1.0, 1.0)
        width, height = max(tb[2] - tb[0], 1e-12), max(tb[3] - tb[1], 1e-12)
        while math.ceil(width / tile_size) * math.ceil(height / tile_size) > MAX_TILES:
            tile_size *= 2.0
        self.tile_size = tile_size
        self.origin = (tb[0], tb[1])
        self.nx = max(1, math.ceil(width / tile_size))
        self.ny = max(1, math.ceil(height / tile_size))
        valid = self.valid
        cx = np.where(valid, self.cx, tb[0])
        cy = np.where(valid, self.cy, tb[1])
        self.tile_ix = np.clip(((cx - tb[0]) // tile_size).astype(np.int64), 0, self.nx - 1)
        self.tile_iy = np.clip(((cy - tb[1]) // tile_size).astype(np.int64), 0, self.ny - 1)
        self.bucket_base = tile_size / 256.0
        size = np.where(valid, self.size, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            b = np.floor(np.log(np.maximum(size, 1e-300) / self.bucket_base)
                         / math.log(BUCKET_RATIO))
        self.bucket = np.clip(np.nan_to_num(b, nan=0.0, neginf=0.0), 0,
                              N_BUCKETS - 1).astype(np.int8)
        self.oversize_mask = valid & (size > tile_size)
        self.oversize = np.flatnonzero(self.oversize_mask)
        self.tiled = np.flatnonzero(valid & ~self.oversize_mask)
        # spatial order of the tiled features: by tile, then Morton order inside it
        key = self.tile_iy[self.tiled] * self.nx + self.tile_ix[self.tiled]
        morton = _morton(cx[self.tiled], cy[self.tiled], tb, tile_size)
        order = np.lexsort((morton, key))
        self.spatial = self.tiled[order]
        skey = key[order]
        self.tile_offsets = np.searchsorted(skey, np.arange(self.nx * self.ny + 1))
        # centres (relative to the origin) and sizes in spatial order, float32: the
        # per-frame pixel pass reads them as contiguous slices
        sp = self.spatial
        self.s_x = (self.cx[sp] - tb[0]).astype(np.float32)
        self.s_y = (self.cy[sp] - tb[1]).astype(np.float32)
        self.s_size = self.size[sp].astype(np.float32)

    def bucket_range(self, b: int) -> tuple[float, float]:
        """``(low, high)`` feature sizes (map units) of bucket ``b`` (the last bucket
        reaches up to the tile size)."""
        lo = 0.0 if b == 0 else self.bucket_base * BUCKET_RATIO ** b
        hi = self.bucket_base * BUCKET_RATIO ** (b + 1)
        return lo, (max(hi, self.tile_size) if b == N_BUCKETS - 1 else hi)

    def min_bucket(self, level: int) -> int:
        """The smallest bucket drawn as paths at ``level``.

        Level ``L >= 1`` serves scales above ``tile * 2**L / 128`` map units per
        pixel, where features under :data:`BLOCK_LOD_PX` pixels at that scale are
        always drawn as pixels; their buckets are left out of the level's groups.
        """
        if level <= 0:
            return 0
        smallest_scale = self.tile_size * (1 << level) / 128.0
        limit = BLOCK_LOD_PX * smallest_scale
        for b in range(N_BUCKETS):
            if self.bucket_range(b)[1] > limit:
                return b
        return N_BUCKETS - 1

    def level_for(self, scale: float) -> int:
        """The tile level for ``scale`` map units per pixel: level ``L`` tiles are
        ``2**L`` level-0 tiles wide and at least :data:`MIN_TILE_PX` pixels."""
        tile_px = self.tile_size / scale
        if tile_px >= MIN_TILE_PX:
            return 0
        level = int(math.ceil(math.log2(MIN_TILE_PX / tile_px)))
        return min(level, max(int(math.ceil(math.log2(max(self.nx, self.ny)))), 0))

    def tile_range(self, extent, level: int = 0) -> tuple[int, int, int, int] | None:
        """``(col0, col1, row0, row1)`` of the (super-)tiles whose features may
        reach into ``extent``; ``None`` when none can."""
        if self.total_bounds is None:
            return None
        minx, miny, maxx, maxy = extent
        half = self.tile_size / 2.0  # a tiled feature reaches at most this far out of its tile
        ox, oy = self.origin
        c0 = math.floor((minx - half - ox) / self.tile_size)
        c1 = math.floor((maxx + half - ox) / self.tile_size)
        r0 = math.floor((miny - half - oy) / self.tile_size)
        r1 = math.floor((maxy + half - oy) / self.tile_size)
        if c1 < 0 or r1 < 0 or c0 >= self.nx or r0 >= self.ny:
            return None
        c0, r0 = max(c0, 0), max(r0, 0)
        c1, r1 = min(c1, self.nx - 1), min(r1, self.ny - 1)
        return c0 >> level, c1 >> level, r0 >> level, r1 >> level

    def spatial_ranges(self, extent) -> tuple[np.ndarray, np.ndarray]:
        """``(starts, ends)`` of the runs of :attr:`spatial` order (positions) in
        the level-0 tiles that may reach ``extent`` (one run per tile row, or a
        single run when whole rows are in view)."""
        rng = self.tile_range(extent, 0)
        if rng is None:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        c0, c1, r0, r1 = rng
        off = self.tile_offsets
        if c0 == 0 and c1 == self.nx - 1:
            return np.array([off[r0 * self.nx]]), np.array([off[(r1 + 1) * self.nx]])
        rows = np.arange(r0, r1 + 1, dtype=np.int64) * self.nx
        return off[rows + c0], off[rows + c1 + 1]

    def spatial_classes(self, classes, version: Any = None) -> np.ndarray:
        """``classes`` reordered to :attr:`spatial` order (int32; cached per ``version``)."""
        cached = self._spatial_classes
        if cached is not None and version is not None and cached[0] == version:
            return cached[1]
        out = np.asarray(classes)[self.spatial].astype(np.int32)
        self._spatial_classes = (version, out)
        return out

    def plot_small(self, buffer: np.ndarray, view: View, classes, colors, max_px: float,
                   *, blocks: bool = False, opacity: float = 1.0, version: Any = None,
                   dot: int = 1) -> int:
        """Draw every tiled feature smaller than ``max_px`` pixels straight into
        ``buffer`` ((rows, cols) uint32, premultiplied ARGB): one pixel at its
        centre, or with ``blocks`` a 2×2 / 3×3 block for features of 2–3 / 3+
        pixels.  ``colors[c]`` is the colour of class ``c`` (classes < 0 are
        skipped).  ``dot=2`` draws every feature as a 2×2 square instead (dense
        points).  Returns the number of features drawn.

        One vectorised pass over contiguous float32 slices: ~1M features in a few
        tens of milliseconds.
        """
        if self.total_bounds is None:
            return 0
        height, width = buffer.shape
        scale = view.scale
        minx, _, _, maxy = view.extent
        ox, oy = self.origin
        inv = np.float32(1.0 / scale)
        x0 = np.float32(minx - ox)
        y1 = np.float32(maxy - oy)
        limit = np.float32(max_px * scale)
        scls = self.spatial_classes(classes, version)
        starts, ends = self.spatial_ranges(view.extent)
        if starts.size == 0:
            return 0
        if starts.size == 1:
            a, b = int(starts[0]), int(ends[0])
            sz, fx, fy, cl = self.s_size[a:b], self.s_x[a:b], self.s_y[a:b], scls[a:b]
        else:
            pos = ragged_indices(starts, ends)
            sz, fx, fy, cl = self.s_size[pos], self.s_x[pos], self.s_y[pos], scls[pos]
        m = sz < limit
        if not m.all():
            sz, fx, fy, cl = sz[m], fx[m], fy[m], cl[m]
        else:
            fx, fy = fx.copy(), fy.copy()
        fx -= x0
        fx *= inv
        np.subtract(y1, fy, out=fy)
        fy *= inv
        ok = (cl >= 0) & (fx >= 0) & (fx < width) & (fy >= 0) & (fy < height)
        if not ok.all():
            sz, fx, fy, cl = sz[ok], fx[ok], fy[ok], cl[ok]
        if fx.size == 0:
            return 0
        colors = np.asarray(colors, dtype=np.uint32)
        col = colors[cl]
        opaque = opacity >= 1.0 and bool(np.all((colors >> 24) == 255))
        if not opaque:
            return plot_pixels(buffer, fx, fy, col, opacity)
        ix = fx.astype(np.int32)
        iy = fy.astype(np.int32)
        if dot > 1:
            ix = np.minimum(ix, width - dot)
            iy = np.minimum(iy, height - dot)
            for dy in range(dot):
                for dx in range(dot):
                    buffer[iy + dy, ix + dx] = col
            return int(ix.size)
        if not blocks:
            buffer[iy, ix] = col
            return int(ix.size)
        single = sz < np.float32(PIXEL_LOD_PX * scale)
        if single.all():
            buffer[iy, ix] = col
            return int(ix.size)
        buffer[iy[single], ix[single]] = col[single]
        rest = ~single
        three = sz[rest] >= np.float32(3.0 * scale)
        for k, sel in ((2, ~three), (3, three)):
            if not sel.any():
                continue
            bx = np.clip((fx[rest][sel] - (k - 1) / 2.0).astype(np.int32), 0, width - k)
            by = np.clip((fy[rest][sel] - (k - 1) / 2.0).astype(np.int32), 0, height - k)
            c = col[rest][sel]
            for dy in range(k):
                for dx in range(k):
                    buffer[by + dy, bx + dx] = c
        return int(ix.size)

    def rows_in_tiles(self, extent) -> np.ndarray:
        """Tiled rows (spatial order) in the level-0 tiles that may reach ``extent``."""
        rng = self.tile_range(extent, 0)
        if rng is None:
            return np.empty(0, dtype=np.int64)
        c0, c1, r0, r1 = rng
        off = self.tile_offsets
        if c0 == 0 and c1 == self.nx - 1:
            return self.spatial[off[r0 * self.nx]:off[(r1 + 1) * self.nx]]
        rows = np.arange(r0, r1 + 1, dtype=np.int64) * self.nx
        return self.spatial[ragged_indices(off[rows + c0], off[rows + c1 + 1])]

    def oversize_in(self, extent) -> np.ndarray:
        """Oversize rows whose boxes intersect ``extent``."""
        if self.oversize.size == 0:
            return self.oversize
        b = self.bounds[self.oversize]
        minx, miny, maxx, maxy = extent
        hit = (b[:, 0] <= maxx) & (b[:, 2] >= minx) & (b[:, 1] <= maxy) & (b[:, 3] >= miny)
        return self.oversize[hit]

    def in_extent(self, rows: np.ndarray, extent) -> np.ndarray:
        """The rows among ``rows`` whose boxes intersect ``extent``."""
        rows = np.asarray(rows, dtype=np.int64)
        rows = rows[(rows >= 0) & (rows < self.n)]
        b = self.bounds[rows]
        minx, miny, maxx, maxy = extent
        hit = (b[:, 0] <= maxx) & (b[:, 2] >= minx) & (b[:, 1] <= maxy) & (b[:, 3] >= miny)
        return rows[hit]

    def groups(self, level: int, classes: np.ndarray, n_classes: int,
               version: Any = None) -> Groups:
        """Tiled features grouped by (class, size bucket, super-tile) at ``level``.

        ``classes`` gives the style class (0 … ``n_classes - 1``) of every row;
        negative classes are not drawn.  Only buckets from
        :meth:`min_bucket` up are grouped.  Cached per ``(level, version)``:
        pass a new ``version`` when the classes change.
        """
        key = (level, version)
        cached = self._groups.get(key)
        if cached is not None:
            return cached
        nx = max(1, -(-self.nx // (1 << level)))
        ny = max(1, -(-self.ny // (1 << level)))
        rows = self.spatial
        cls = np.asarray(classes)[rows].astype(np.int64)
        keep = (cls >= 0) & (cls < n_classes) & (self.bucket[rows] >= self.min_bucket(level))
        if not keep.all():
            rows, cls = rows[keep], cls[keep]
        cb = cls * N_BUCKETS + self.bucket[rows]
        k = (cb * ny + (self.tile_iy[rows] >> level)) * nx + (self.tile_ix[rows] >> level)
        order = np.argsort(k, kind="stable")  # stable: keeps the spatial order inside
        k = k[order]
        if len(k):
            first = np.r_[True, k[1:] != k[:-1]]
            starts = np.flatnonzero(first)
            keys = k[starts]
        else:
            starts = keys = np.empty(0, dtype=np.int64)
        offsets = np.r_[starts, len(k)].astype(np.int64)
        groups = Groups(level, nx, ny, keys, offsets, rows[order])
        self._groups[key] = groups
        return groups

    def forget_groups(self) -> None:
        """Drop cached groups (after a style change)."""
        self._groups.clear()

    # -- paths
    def path_elements(self, rows) -> tuple[np.ndarray, np.ndarray]:
        """``(xy, move)`` of the given rows, in order (see :func:`encode_path`)."""
        rows = np.asarray(rows, dtype=np.int64)
        idx = ragged_indices(self.offsets[rows], self.offsets[rows + 1])
        return self.coords[idx], self.starts[idx]

    def path_stream(self, rows) -> bytes:
        """The rows as one serialised ``QPainterPath`` (see :func:`encode_path`)."""
        xy, move = self.path_elements(rows)
        return encode_path(xy, move, winding=True)

    def point_xy(self, rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(x, y, row)`` of every vertex (point part) of ``rows``."""
        rows = np.asarray(rows, dtype=np.int64)
        idx = ragged_indices(self.offsets[rows], self.offsets[rows + 1])
        return self.coords[idx, 0], self.coords[idx, 1], self.coord_feature[idx]

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays (bytes), not counting the geometries."""
        arrays = [self.bounds, self.cx, self.cy, self.size, self.tile_ix, self.tile_iy,
                  self.bucket, self.spatial, self.tile_offsets, self.s_x, self.s_y, self.s_size]
        if self._flat is not None:  # counted when built, never built by counting
            arrays.extend(a for a in self._flat if a is not None)
        total = sum(a.nbytes for a in arrays)
        for g in self._groups.values():
            total += g.keys.nbytes + g.offsets.nbytes + g.rows.nbytes
        return int(total)


#: Rows per pandas look-up in :func:`classify_categories` (~5 ms each).
CLASSIFY_CHUNK = 50_000
#: Geometries per call of the shapely functions that hold the GIL (get_coordinates,
#: STRtree): ~20 ms each, so a UI thread waiting for the GIL is never stalled long.
GIL_CHUNK = 50_000


def coordinates(geoms, offsets: np.ndarray | None = None, chunk: int = GIL_CHUNK) -> np.ndarray:
    """All vertices of ``geoms`` as an (m, 2) array, like ``shapely.get_coordinates``
    but in chunks (shapely holds the GIL for the whole call).

    ``offsets`` (cumulative vertex counts, length n + 1) is computed when not given.

    Examples
    --------
    >>> coordinates([shapely.Point(1, 2), None, shapely.LineString([(0, 0), (3, 4)])]).tolist()
    [[1.0, 2.0], [0.0, 0.0], [3.0, 4.0]]
    """
    g = np.asarray(geoms, dtype=object)
    if offsets is None:
        offsets = np.r_[0, np.cumsum(_chunked(shapely.get_num_coordinates, g))].astype(np.int64)
    out = np.empty((int(offsets[-1]), 2), dtype=np.float64)
    for i in range(0, len(g), chunk):
        j = min(i + chunk, len(g))
        out[offsets[i]:offsets[j]] = shapely.get_coordinates(g[i:j])
    return out


def _orient_rings(coords: np.ndarray, starts: np.ndarray, exterior: np.ndarray,
                  total_bounds) -> None:
    """Exterior rings counter-clockwise, holes clockwise (for the winding rule), in place."""
    m = len(coords)
    ring_start = np.flatnonzero(starts)
    ring_end = np.r_[ring_start[1:], m]
    # shoelace per ring; shapely rings are closed (last vertex = first), so the
    # edges are consecutive vertex pairs, and the pair that straddles two rings
    # is zeroed.  Coordinates are taken relative to the data's corner.
    ox, oy = total_bounds[0], total_bounds[1]
    x = coords[:, 0] - ox
    y = coords[:, 1] - oy
    cross = np.empty(m)
    np.subtract(x[:-1] * y[1:], x[1:] * y[:-1], out=cross[:-1])
    cross[ring_end - 1] = 0.0
    area2 = np.add.reduceat(cross, ring_start)
    del x, y, cross
    flip = np.where(exterior[ring_start], area2 < 0, area2 > 0)
    if not np.any(flip):
        return
    # reverse the flipped rings: vertex i of ring [s, e) goes to s + e - 1 - i
    fs, fe = ring_start[flip], ring_end[flip]
    src = ragged_indices(fs, fe)
    dst = np.repeat(fs + fe - 1, fe - fs) - src
    coords[dst] = coords[src]


def _chunked(fn, geoms, chunk: int = GIL_CHUNK, *args, **kwargs) -> np.ndarray:
    """``fn(geoms, *args)`` of a shapely array function, ``chunk`` geometries a call."""
    g = np.asarray(geoms, dtype=object)
    if len(g) <= chunk:
        return np.asarray(fn(g, *args, **kwargs))
    return np.concatenate([np.asarray(fn(g[i:i + chunk], *args, **kwargs))
                           for i in range(0, len(g), chunk)])


def _positions(base: np.ndarray, lengths: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Start position of consecutive items packed after ``base[i]`` within each
    run of equal ``group`` values (items in order)."""
    if len(lengths) == 0:
        return np.empty(0, dtype=np.int64)
    cum = np.cumsum(lengths) - lengths
    new = np.r_[True, group[1:] != group[:-1]]
    first = np.maximum.accumulate(np.where(new, np.arange(len(lengths)), 0))
    return base + (cum - cum[first])


def _morton(x, y, tb, tile_size) -> np.ndarray:
    """Morton (Z-order) code of points on a grid of tile_size/256 cells."""
    cell = tile_size / 256.0
    xi = np.clip((np.asarray(x) - tb[0]) / cell, 0, 2**20 - 1).astype(np.uint64)
    yi = np.clip((np.asarray(y) - tb[1]) / cell, 0, 2**20 - 1).astype(np.uint64)
    return _spread(xi) | (_spread(yi) << np.uint64(1))


def _spread(v: np.ndarray) -> np.ndarray:
    v = v & np.uint64(0xFFFFF)
    v = (v | (v << np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    v = (v | (v << np.uint64(2))) & np.uint64(0x3333333333333333)
    v = (v | (v << np.uint64(1))) & np.uint64(0x5555555555555555)
    return v


def transform_bounds(bounds, src: Any, dst: Any, densify: int = 21):
    """Bounds ``(minx, miny, maxx, maxy)`` in ``src`` → the bounds of that box in
    ``dst`` (edges densified, so curved edges are covered); ``None`` when
    nothing finite remains.  Accepts the GCJ-02/BD-09 pseudo-CRSs.

    Examples
    --------
    >>> b = transform_bounds((114.0, 30.0, 114.1, 30.1), "EPSG:4326", "EPSG:4547")
    >>> [round(v) for v in b]
    [500000, 3320113, 509649, 3331203]
    """
    if bounds is None:
        return None
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    if src is None or dst is None:
        return (minx, miny, maxx, maxy)
    from .crs import parse_crs, resolve_crs, transform_xy

    rs, rd = resolve_crs(src), resolve_crs(dst)
    if not isinstance(rs, str) and not isinstance(rd, str) and parse_crs(rs) == parse_crs(rd):
        return (minx, miny, maxx, maxy)
    t = np.linspace(0.0, 1.0, densify)
    xs = np.concatenate([minx + (maxx - minx) * t, np.full(densify, maxx),
                         maxx - (maxx - minx) * t, np.full(densify, minx)])
    ys = np.concatenate([np.full(densify, miny), miny + (maxy - miny) * t,
                         np.full(densify, maxy), maxy - (maxy - miny) * t])
    x, y = transform_xy(xs, ys, src, dst)
    ok = np.isfinite(x) & np.isfinite(y)
    if not np.any(ok):
        return None
    return (float(x[ok].min()), float(y[ok].min()), float(x[ok].max()), float(y[ok].max()))


def union_bounds(boxes):
    """The union of bounds (``None`` entries skipped); ``None`` when empty.

    Examples
    --------
    >>> union_bounds([(0, 0, 1, 1), None, (2, -1, 3, 0)])
    (0.0, -1.0, 3.0, 1.0)
    """
    arr = [b for b in boxes if b is not None and all(math.isfinite(v) for v in b)]
    if not arr:
        return None
    a = np.asarray(arr, dtype=float)
    return (float(a[:, 0].min()), float(a[:, 1].min()), float(a[:, 2].max()), float(a[:, 3].max()))


def rows_bounds(geoms, rows):
    """Bounds of the geometries at ``rows`` (``None`` when they have none).

    Examples
    --------
    >>> rows_bounds([shapely.Point(0, 0), shapely.Point(5, 2), shapely.Point(9, 9)], [0, 1])
    (0.0, 0.0, 5.0, 2.0)
    """
    g = np.asarray(geoms, dtype=object)
    rows = np.asarray(rows, dtype=np.int64)
    rows = rows[(rows >= 0) & (rows < len(g))]
    if rows.size == 0:
        return None
    b = shapely.bounds(g[rows])
    b = b[~np.isnan(b[:, 0])]
    if b.size == 0:
        return None
    return (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))


# --------------------------------------------------------------------------- labels
#: Features per chunk in :func:`label_anchors`.
LABEL_CHUNK = 5_000


def label_anchors(geoms, family: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where to put each feature's label: ``(x, y, angle_degrees)``.

    Polygons: a point inside (``point_on_surface``), angle 0.  Lines: the
    middle of the line, with the angle of the line there (screen degrees,
    counter-clockwise from east, kept within (-90, 90] so text stays upright).
    Points: the point.  Missing geometries give NaN.

    Examples
    --------
    >>> x, y, a = label_anchors([shapely.LineString([(0, 0), (10, 10)])], "line")
    >>> float(x[0]), float(y[0]), round(float(a[0]))
    (5.0, 5.0, 45)
    """
    g = np.asarray(geoms, dtype=object)
    n = len(g)
    if n > LABEL_CHUNK:  # line interpolation holds the GIL: ~20 ms a chunk
        parts = [label_anchors(g[i:i + LABEL_CHUNK], family) for i in range(0, n, LABEL_CHUNK)]
        return tuple(np.concatenate([p[k] for p in parts]) for k in range(3))
    angle = np.zeros(n)
    if n == 0:
        return np.empty(0), np.empty(0), angle
    ok = ~(shapely.is_missing(g) | shapely.is_empty(g))
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    if not ok.any():
        return x, y, angle
    if family == "line":
        lines = g[ok]
        # multilines: label the longest part
        parts, part_row = shapely.get_parts(lines, return_index=True)
        lengths = shapely.length(parts)
        best = np.full(len(lines), -1, dtype=np.int64)
        order = np.lexsort((lengths, part_row))
        best[part_row[order]] = order  # last write wins: the longest part per row
        main = parts[best]
        mid = shapely.line_interpolate_point(main, 0.5, normalized=True)
        length = shapely.length(main)
        d = np.maximum(length * 0.05, 1e-9)
        a = shapely.line_interpolate_point(main, np.clip(length / 2 - d, 0, None))
        b = shapely.line_interpolate_point(main, np.minimum(length / 2 + d, length))
        ax, ay = shapely.get_x(a), shapely.get_y(a)
        bx, by = shapely.get_x(b), shapely.get_y(b)
        ang = np.degrees(np.arctan2(by - ay, bx - ax))
        ang = np.where(ang > 90, ang - 180, np.where(ang <= -90, ang + 180, ang))
        x[ok], y[ok], angle[ok] = shapely.get_x(mid), shapely.get_y(mid), ang
    elif family == "polygon":
        pts = shapely.point_on_surface(g[ok])
        x[ok], y[ok] = shapely.get_x(pts), shapely.get_y(pts)
    else:
        pts = shapely.centroid(g[ok])
        x[ok], y[ok] = shapely.get_x(pts), shapely.get_y(pts)
    return x, y, angle


# --------------------------------------------------------------------------- rasters
def raster_window(transform, shape, extent):
    """The part of a north-up raster that covers ``extent``.

    Parameters
    ----------
    transform : affine.Affine
        The raster's pixel → CRS transform (no rotation).
    shape : (rows, cols)
    extent : (minx, miny, maxx, maxy) in the raster's CRS

    Returns
    -------
    ((row0, row1), (col0, col1)), (minx, miny, maxx, maxy) or None
        The pixel window (end exclusive) and its bounds, or ``None`` when the
        raster and the extent do not overlap.

    Examples
    --------
    >>> from affine import Affine
    >>> raster_window(Affine(10, 0, 0, 0, -10, 100), (10, 10), (15, 15, 35, 55))
    (((4, 9), (1, 4)), (10.0, 10.0, 40.0, 60.0))
    """
    rows, cols = shape
    a, e = transform.a, transform.e
    if transform.b != 0 or transform.d != 0 or a <= 0 or e >= 0:
        raise ValueError("raster_window needs a north-up raster (no rotation)")
    x0, y0 = transform.c, transform.f
    minx, miny, maxx, maxy = extent
    c0 = max(int(math.floor((minx - x0) / a)), 0)
    c1 = min(int(math.ceil((maxx - x0) / a)), cols)
    r0 = max(int(math.floor((maxy - y0) / e)), 0)
    r1 = min(int(math.ceil((miny - y0) / e)), rows)
    if c1 <= c0 or r1 <= r0:
        return None
    bounds = (x0 + c0 * a, y0 + r1 * e, x0 + c1 * a, y0 + r0 * e)
    return ((r0, r1), (c0, c1)), tuple(float(v) for v in bounds)


def warp_to_view(values, src_transform, src_crs, view: View, dst_crs,
                 resampling: str = "nearest") -> np.ndarray:
    """Reproject a 2-D (masked) array onto the pixel grid of ``view`` in ``dst_crs``.

    Returns a float32 array of shape ``(view.height, view.width)`` with NaN
    where there is no data.
    """
    from affine import Affine
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    arr = np.ma.masked_invalid(np.ma.asarray(values, dtype=np.float32))
    src = arr.filled(np.nan).astype(np.float32)
    dst = np.full((view.height, view.width), np.nan, dtype=np.float32)
    minx, _, _, maxy = view.extent
    dst_transform = Affine(view.scale, 0, minx, 0, -view.scale, maxy)
    reproject(src, dst, src_transform=src_transform, src_crs=src_crs, src_nodata=np.nan,
              dst_transform=dst_transform, dst_crs=dst_crs, dst_nodata=np.nan,
              resampling=Resampling[resampling])
    return dst
