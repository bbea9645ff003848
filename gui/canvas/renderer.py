"""Render the map into a ``QImage`` off the UI thread.

A :class:`RenderJob` is a snapshot taken on the UI thread (view, layers bottom
to top with opacity and selected rows, highlight overlays).  The
:class:`RenderThread` renders the newest job into an image; a newer job
cancels the running one, which stops at its next check (between layers and
every few dozen paths).  In idle time the thread runs *idle tasks* — building
the tile paths of big layers and the pick indexes — in slices of ~15 ms.

Level of detail, per feature size on screen (``size / scale``):

- under :data:`~spatial.render_prep.PIXEL_LOD_PX` (2 px): one pixel, written
  with numpy straight into the image buffer;
- polygons up to :data:`~spatial.render_prep.BLOCK_LOD_PX` (4 px): their box
  as a block of pixels (numpy);
- larger: ``QPainterPath`` groups per tile × style class × size bucket,
  built once and cached, drawn without antialiasing; once a tile spans
  :data:`AA_TILE_PX` pixels (street views) the groups are drawn as small
  antialiased paths of a few dozen features each;
- points: the symbol (antialiased circle and outline) rendered once into a
  small image and stamped with numpy at every point — ``QPainter.drawPointsNp``
  with round pens costs ~5 µs a point, the stamp well under 1 µs — or 2-px
  squares through the pixel pass when tens of thousands are in view.

Every QPainter call holds Python's lock, so each is kept short: paths hold at
most a tile's features.
"""

from __future__ import annotations

import atexit
import itertools
import math
import threading
import time
import traceback
import weakref
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from affine import Affine
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QTransform,
)

from spatial.render_prep import (
    BLOCK_LOD_PX,
    N_BUCKETS,
    PIXEL_LOD_PX,
    View,
    plot_pixels,
    premultiplied_argb,
    raster_window,
    stamp_sprite,
    warp_to_view,
)

from .layer_cache import RasterEntry, VectorEntry, same_crs
from .symbols import SELECTION_SYMBOL, Symbol

__all__ = ["RenderJob", "LayerSpec", "RenderResult", "RenderThread", "render", "Canceled"]

#: Tiles at least this wide on screen are drawn antialiased, as small paths.
AA_TILE_PX = 256.0
#: Outlines of filled polygons are drawn once features reach this size on screen.
OUTLINE_MIN_PX = 6.0
#: Points in view (per layer, scaled to a 1600×1000 view) up to which each is drawn
#: as its full symbol (an antialiased sprite with outline); above, as a compact
#: disc of COMPACT_POINT_PX; above DENSE_POINTS as 2-px squares.
FULL_SYMBOL_POINTS = 3000
COMPACT_POINT_PX = 4.0
DENSE_POINTS = 30000
#: Paths drawn between cancellation checks.
CHECK_EVERY = 48
#: At most this many selected features are drawn as paths (the rest as pixels).
MAX_SELECTED_PATHS = 20000
#: Labels: minimum feature size on screen, maximum count.
LABEL_MIN_PX = {"polygon": 80.0, "line": 90.0, "point": 0.0}
MAX_LABELS = 250

_job_ids = itertools.count(1)


class Canceled(Exception):
    """The job was superseded or canceled."""


@dataclass
class LayerSpec:
    """One layer to draw: its cache entry, opacity, selected rows, labels on/off."""

    entry: Any
    opacity: float = 1.0
    selected: np.ndarray | None = None
    labels: bool = True


@dataclass
class RenderJob:
    """Everything one frame needs, snapshot on the UI thread."""

    view: View  # in device pixels
    layers: list[LayerSpec]
    highlights: list[LayerSpec] = field(default_factory=list)
    background: tuple[int, int, int, int] = (245, 243, 238, 255)
    device_pixel_ratio: float = 1.0
    map_crs: Any = None
    id: int = field(default_factory=lambda: next(_job_ids))
    cancel_event: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def canceled(self) -> bool:
        return self.cancel_event.is_set()

    def check(self) -> None:
        if self.cancel_event.is_set():
            raise Canceled()


@dataclass
class RenderResult:
    job: RenderJob
    image: QImage | None
    elapsed_ms: float
    error: str | None = None
    stats: dict = field(default_factory=dict)


class _Target:
    """The image being drawn, with a painter that is ended while numpy writes pixels."""

    def __init__(self, image: QImage) -> None:
        self.image = image
        self._painter: QPainter | None = None

    def painter(self) -> QPainter:
        if self._painter is None:
            self._painter = QPainter(self.image)
        return self._painter

    def pixels(self) -> np.ndarray:
        """The image as a (rows, cols) uint32 array (premultiplied ARGB), painter ended."""
        self.end()
        img = self.image
        buf = np.frombuffer(img.bits(), dtype=np.uint32)
        return buf.reshape(img.height(), img.bytesPerLine() // 4)[:, :img.width()]

    def end(self) -> None:
        if self._painter is not None:
            self._painter.end()
            self._painter = None

    def scratch(self) -> QImage:
        """A cleared, transparent image of the same size (reused between frames)."""
        key = (self.image.width(), self.image.height())
        img = _SCRATCH.get(key)
        if img is None:
            _SCRATCH.clear()
            img = _SCRATCH[key] = QImage(key[0], key[1],
                                         QImage.Format.Format_ARGB32_Premultiplied)
        img.fill(Qt.GlobalColor.transparent)
        return img


_SCRATCH: dict[tuple[int, int], QImage] = {}  # render thread only


# --------------------------------------------------------------------------- vectors
def _symbol_cache(cache: dict, sym: Symbol, family: str) -> dict:
    """QPen/QBrush objects of a symbol (reused between frames)."""
    key = (sym, family)
    c = cache.get(key)
    if c is None:
        c = {"brush": sym.brush(), "pen": sym.pen(), "hairline": sym.pen(1.0),
             "opaque_brush": QBrush(QColor(*sym.fill[:3], 255)),
             "nopen": QPen(Qt.PenStyle.NoPen), "nobrush": QBrush(Qt.BrushStyle.NoBrush),
             "pixel": sym.pixel_color(family)}
        cache[key] = c
    return c


def _draw_pixels(target: _Target, prep, rows: np.ndarray, colors: np.ndarray, view: View,
                 opacity: float, blocks: bool) -> int:
    """Pixels (and, with ``blocks``, box-sized pixel blocks) of ``rows``."""
    if rows.size == 0:
        return 0
    buf = target.pixels()
    px, py = view.to_screen(prep.cx[rows], prep.cy[rows])
    if not blocks:
        return plot_pixels(buf, px, py, colors, opacity)
    size_px = prep.size[rows] / view.scale
    single = size_px < PIXEL_LOD_PX
    n = plot_pixels(buf, px[single], py[single], colors[single], opacity)
    big = ~single
    if np.any(big):
        b = prep.bounds[rows[big]]
        x0, y1 = view.to_screen(b[:, 0], b[:, 1])
        x1, y0 = view.to_screen(b[:, 2], b[:, 3])
        x0, y0 = np.floor(x0), np.floor(y0)
        x1, y1 = np.floor(x1), np.floor(y1)
        col = colors[big]
        span = int(math.ceil(BLOCK_LOD_PX))
        for dy in range(span):
            for dx in range(span):
                m = (x0 + dx <= x1) & (y0 + dy <= y1)
                if np.any(m):
                    n += plot_pixels(buf, x0[m] + dx, y0[m] + dy, col[m], opacity)
    return n


def _draw_vector(target: _Target, spec: LayerSpec, view: View, job: RenderJob,
                 stats: dict) -> None:
    entry: VectorEntry = spec.entry
    prep = entry.prepared()
    job.check()
    version, sc, cache = entry.styled()
    ext = view.extent
    tb = prep.total_bounds
    if tb is None or tb[0] > ext[2] or tb[2] < ext[0] or tb[1] > ext[3] or tb[3] < ext[1]:
        return
    symbols, classes, order = sc.symbols, sc.classes, sc.draw_order
    family = prep.family
    info = [_symbol_cache(cache, s, family) for s in symbols]
    opacity = spec.opacity

    if family == "point":
        _draw_points(target, prep, classes, symbols, order, view, opacity, None, stats,
                     dpr=job.device_pixel_ratio, version=version)
    else:
        scale = view.scale
        thr = (BLOCK_LOD_PX if family == "polygon" else PIXEL_LOD_PX) * scale
        # 1. small features: pixels straight into the buffer
        ov = prep.oversize_in(ext)
        lut = np.array([i["pixel"] for i in info], dtype=np.uint32)
        stats["pixels"] = stats.get("pixels", 0) + prep.plot_small(
            target.pixels(), view, classes, lut, thr / scale, blocks=family == "polygon",
            opacity=opacity, version=version)
        job.check()
        # 2. bigger features: cached tile paths (3. and the ones larger than a tile)
        level = prep.level_for(scale)
        groups = prep.groups(level, classes, len(symbols), version)
        aa = level == 0 and prep.tile_size / scale >= AA_TILE_PX
        args = (entry, prep, groups, prep.tile_range(ext, level), order, symbols, info, family,
                scale, thr, level, aa, ov, classes, version, view, job)
        alphas = {s.fill[3] for s in symbols if s.has_fill}
        if family == "polygon" and len(alphas) == 1 and (min(alphas) < 255 or opacity < 1):
            # Translucent fills cost Qt ~3x opaque ones: fill opaque into a scratch
            # image, lay it over once with the fill's alpha (which is also the right
            # layer opacity: overlaps are not blended twice), then the outlines.
            scratch = target.scratch()
            sp = QPainter(scratch)
            drawn = _draw_paths(sp, *args, mode="fill")
            sp.end()
            p = target.painter()
            p.resetTransform()
            p.setOpacity(opacity * min(alphas) / 255.0)
            p.drawImage(QPointF(0, 0), scratch)
            p.setOpacity(opacity)
            drawn += _draw_paths(p, *args, mode="stroke")
        else:
            p = target.painter()
            p.setOpacity(opacity)
            drawn = _draw_paths(p, *args, mode="all")
        stats["paths"] = stats.get("paths", 0) + drawn
    if spec.selected is not None and len(spec.selected):
        _draw_selection(target, entry, prep, spec.selected, view, stats, job.device_pixel_ratio)


def _draw_paths(p: QPainter, entry, prep, groups, rng, order, symbols, info, family: str,
                scale: float, thr: float, level: int, aa: bool, ov: np.ndarray, classes,
                version, view: View, job: RenderJob, mode: str = "all") -> int:
    """Draw the cached group paths (and oversize chunks) in view; return the count.

    ``mode``: ``"all"`` fills and outlines; ``"fill"`` fills only, with opaque
    colours; ``"stroke"`` outlines only."""
    p.setTransform(QTransform(*view.affine()))
    p.setRenderHint(QPainter.RenderHint.Antialiasing, aa)
    drawn = 0
    for c in order:
        sym, si = symbols[c], info[c]
        if not (sym.has_stroke or (family == "polygon" and sym.has_fill)):
            continue
        if rng is None:
            break
        c0, c1, r0, r1 = rng
        for b in range(prep.min_bucket(level), N_BUCKETS):
            lo, hi = prep.bucket_range(b)
            if hi < thr:
                continue
            if not _set_pen_brush(p, sym, si, family, lo / scale, level, mode):
                continue
            gids = groups.visible(c0, c1, r0, r1, [(c, b)])
            for g in gids.tolist():
                if aa:
                    for path in entry.chunk_paths(groups, g, version):
                        p.drawPath(path)
                else:
                    p.drawPath(entry.group_path(groups, g, version))
                drawn += 1
                if drawn % CHECK_EVERY == 0:
                    job.check()
    if ov.size:  # features larger than a tile: cached paths of a few neighbours each
        p.setRenderHint(QPainter.RenderHint.Antialiasing, scale * 64 < prep.tile_size)
        chunks = entry.oversize_chunks(classes, version)
        minx, miny, maxx, maxy = view.extent
        for c in order:
            if c not in chunks:
                continue
            boxes, paths = chunks[c]
            hit = np.flatnonzero((boxes[:, 0] <= maxx) & (boxes[:, 2] >= minx)
                                 & (boxes[:, 1] <= maxy) & (boxes[:, 3] >= miny))
            if hit.size == 0 or not _set_pen_brush(p, symbols[c], info[c], family,
                                                   float("inf"), level, mode):
                continue
            for i in hit.tolist():
                p.drawPath(paths[i])
                drawn += 1
                if drawn % CHECK_EVERY == 0:
                    job.check()
    return drawn


def _set_pen_brush(p: QPainter, sym: Symbol, si: dict, family: str, lo_px: float,
                   level: int, mode: str = "all") -> bool:
    """Set the pen and brush of a symbol; False when nothing is to be drawn."""
    if family == "line":
        if mode == "fill":
            return False
        p.setBrush(si["nobrush"])
        # zoomed out (super-tiles), wide pens cost twice as much and blur: 1 px
        p.setPen(si["pen"] if level == 0 or sym.stroke_width <= 1 else si["hairline"])
        return True
    outline = sym.has_stroke and (not sym.has_fill or lo_px >= OUTLINE_MIN_PX)
    if mode == "fill":
        if not sym.has_fill:
            return False
        p.setBrush(si["opaque_brush"])
        p.setPen(si["nopen"])
        return True
    if mode == "stroke":
        if not outline:
            return False
        p.setBrush(si["nobrush"])
    else:
        p.setBrush(si["brush"] if sym.has_fill else si["nobrush"])
    if outline:
        p.setPen(si["pen"] if sym.stroke_width >= 1 and level == 0 else si["hairline"])
    elif sym.has_fill:
        p.setPen(si["nopen"])
    else:
        p.setPen(si["hairline"])
    return True


def _draw_points(target: _Target, prep, classes, symbols, order, view: View, opacity: float,
                 rows: np.ndarray | None, stats: dict, enlarge: float = 0.0,
                 dpr: float = 1.0, version: Any = None) -> None:
    """Point symbols: pre-rendered antialiased sprites stamped with numpy; when tens
    of thousands are in view, 2-px squares through the pixel pass."""
    ext = view.extent
    if rows is None:
        b = prep.bounds
        vis = np.flatnonzero((b[:, 0] <= ext[2]) & (b[:, 2] >= ext[0])
                             & (b[:, 1] <= ext[3]) & (b[:, 3] >= ext[1]))
    else:
        vis = prep.in_extent(rows, ext)
    if vis.size == 0:
        return
    n = len(vis) if rows is not None else _total_points(len(vis), view)
    colors = np.array([premultiplied_argb([s.fill if s.has_fill else s.stroke])[0]
                       for s in symbols], dtype=np.uint32)
    if rows is None and n > DENSE_POINTS and opacity >= 1.0 \
            and bool(np.all((colors >> 24) == 255)) \
            and len(prep.coord_feature) == prep.n:  # single points: the tiled pixel pass
        stats["points"] = stats.get("points", 0) + prep.plot_small(
            target.pixels(), view, classes, colors, float("inf"), version=version, dot=2)
        return
    x, y, r = prep.point_xy(vis)
    sx, sy = view.to_screen(x, y)
    cls = np.asarray(classes)[r]
    buf = target.pixels()
    compact = n > FULL_SYMBOL_POINTS
    for c in order:
        m = cls == c
        if not np.any(m):
            continue
        sprite = _point_sprite(symbols[c], enlarge, dpr, opacity, compact)
        stamp_sprite(buf, sx[m], sy[m], sprite)
    stats["points"] = stats.get("points", 0) + int(len(sx))


_SPRITES: dict[tuple, np.ndarray] = {}


def _point_sprite(sym: Symbol, enlarge: float, dpr: float, opacity: float,
                  compact: bool = False) -> np.ndarray:
    """The symbol of a point (antialiased circle, outline) as premultiplied uint32
    pixels; ``compact``: a small disc without outline (crowded views)."""
    key = (sym, enlarge, dpr, opacity, compact)
    sprite = _SPRITES.get(key)
    if sprite is not None:
        return sprite
    size = (sym.point_size + enlarge) * dpr
    stroke = sym.stroke_width * dpr if sym.has_stroke else 0.0
    if compact:
        size, stroke = min(size, COMPACT_POINT_PX * dpr), 0.0
        if not sym.has_fill:
            sym = Symbol(sym.stroke, sym.stroke, 0.0, sym.point_size)
    side = int(math.ceil(size + 2 * stroke + 2))
    side += 1 - side % 2  # odd: a centre pixel
    img = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    # compact dots stay opaque (plain writes, no blending): they are crowded anyway
    p.setRenderHint(QPainter.RenderHint.Antialiasing, not compact)
    p.setOpacity(opacity)
    if stroke:
        pen = QPen(QColor(*sym.stroke))
        pen.setWidthF(stroke)
        p.setPen(pen)
    else:
        p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(*sym.fill) if sym.has_fill else Qt.BrushStyle.NoBrush)
    c = side / 2.0
    p.drawEllipse(QPointF(c, c), size / 2.0, size / 2.0)
    p.end()
    sprite = np.frombuffer(img.bits(), dtype=np.uint32).reshape(
        side, img.bytesPerLine() // 4)[:, :side].copy()
    if len(_SPRITES) > 512:
        _SPRITES.clear()
    _SPRITES[key] = sprite
    return sprite


def _total_points(n: int, view: View) -> int:
    """Point count used for the point LOD (per layer; scaled to a 1600×1000 view)."""
    return int(n * (1600 * 1000) / max(view.width * view.height, 1))


def _draw_selection(target: _Target, entry, prep, selected: np.ndarray, view: View,
                    stats: dict, dpr: float = 1.0) -> None:
    sym = SELECTION_SYMBOL
    if prep.family == "point":
        _draw_points(target, prep, np.zeros(prep.n, dtype=np.int32), (sym,), (0,), view, 1.0,
                     selected, stats, enlarge=3.0, dpr=dpr)
        return
    vis = prep.in_extent(selected, view.extent)
    if vis.size == 0:
        return
    thr = PIXEL_LOD_PX * view.scale
    big = vis[prep.size[vis] >= thr]
    small = vis[prep.size[vis] < thr]
    if big.size > MAX_SELECTED_PATHS:
        small = np.concatenate([small, big[MAX_SELECTED_PATHS:]])
        big = big[:MAX_SELECTED_PATHS]
    color = premultiplied_argb([sym.fill[:3] + (255,)])[0]
    if small.size:
        _draw_pixels(target, prep, small, np.full(small.size, color, dtype=np.uint32), view,
                     1.0, prep.family == "polygon")
    if big.size:
        p = target.painter()
        p.setTransform(QTransform(*view.affine()))
        p.setOpacity(1.0)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, big.size < 3000)
        if prep.family == "polygon":
            p.setBrush(QColor(*sym.fill))
        else:
            p.setBrush(Qt.BrushStyle.NoBrush)
        pen = QPen(QColor(*sym.stroke))
        pen.setCosmetic(True)
        pen.setWidthF(sym.stroke_width if prep.family == "polygon" else 3.0)
        p.setPen(pen)
        from .layer_cache import qpath

        for i in range(0, big.size, 500):
            p.drawPath(qpath(prep.path_stream(big[i:i + 500])))
    stats["selected"] = stats.get("selected", 0) + int(vis.size)


# --------------------------------------------------------------------------- rasters
def _draw_raster(target: _Target, spec: LayerSpec, view: View, job: RenderJob) -> None:
    entry: RasterEntry = spec.entry
    layer = entry.layer
    if layer.missing:
        return
    style = entry.style
    stats = entry.stats()
    crs, transform, shape = layer.crs, layer.transform, layer.shape
    p = target.painter()
    p.resetTransform()
    p.setOpacity(spec.opacity)
    p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
    if same_crs(crs, job.map_crs):
        ov_img, _, ov_bounds = entry.overview()
        xres = (ov_bounds[2] - ov_bounds[0]) / ov_img.width()
        full_res = ov_img.width() >= shape[1] and ov_img.height() >= shape[0]
        if full_res or view.scale >= xres * 0.9:
            # zoomed out: the cached overview image, cut to the view
            minx, miny, maxx, maxy = view.extent
            x0, y0 = max(minx, ov_bounds[0]), max(miny, ov_bounds[1])
            x1, y1 = min(maxx, ov_bounds[2]), min(maxy, ov_bounds[3])
            if x1 <= x0 or y1 <= y0:
                return
            sx0, sy0 = view.to_screen(x0, y1)
            sx1, sy1 = view.to_screen(x1, y0)
            yres = (ov_bounds[3] - ov_bounds[1]) / ov_img.height()
            src = QRectF((x0 - ov_bounds[0]) / xres, (ov_bounds[3] - y1) / yres,
                         (x1 - x0) / xres, (y1 - y0) / yres)
            p.drawImage(QRectF(float(sx0), float(sy0), float(sx1 - sx0), float(sy1 - sy0)),
                        ov_img, src)
            return
        found = raster_window(transform, shape, view.extent)
        if found is None:
            return
        (r0, r1), (c0, c1) = found[0]
        b = found[1]
        sx0, sy0 = view.to_screen(b[0], b[3])
        sx1, sy1 = view.to_screen(b[2], b[1])
        out_rows = int(min(max(math.ceil(float(sy1 - sy0)), 1), r1 - r0))
        out_cols = int(min(max(math.ceil(float(sx1 - sx0)), 1), c1 - c0))
        arr = layer.read(out_shape=(out_rows, out_cols), window=((r0, r1), (c0, c1)))
        job.check()
        rgba = np.ascontiguousarray(style.to_rgba(arr, vmin=stats.get("min"),
                                                   vmax=stats.get("max")))
        img = QImage(rgba.data, out_cols, out_rows, out_cols * 4,
                     QImage.Format.Format_RGBA8888).copy()
        p.drawImage(QRectF(float(sx0), float(sy0), float(sx1 - sx0), float(sy1 - sy0)), img)
    else:
        _, values, _ = entry.overview()
        rows, cols = shape
        src_transform = transform @ Affine.scale(cols / values.shape[1], rows / values.shape[0])
        job.check()
        warped = warp_to_view(values, src_transform, crs, view, job.map_crs)
        rgba = np.ascontiguousarray(style.to_rgba(warped, vmin=stats.get("min"),
                                                   vmax=stats.get("max")))
        img = QImage(rgba.data, view.width, view.height, view.width * 4,
                     QImage.Format.Format_RGBA8888).copy()
        p.drawImage(QPointF(0, 0), img)


# --------------------------------------------------------------------------- labels
class _LabelSprites:
    """Label images (text with a white halo), rendered once and reused between
    frames: stroking a halo costs ~0.4 ms a label, blitting a sprite ~20 µs."""

    MAX = 4000

    def __init__(self) -> None:
        self._cache: OrderedDict[tuple, tuple[QImage, float, float]] = OrderedDict()

    def get(self, text: str, px: int, color: tuple, dpr: float) -> tuple[QImage, float, float]:
        key = (text, px, color, dpr)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        font = QFont()
        font.setPixelSize(px)
        fm = QFontMetricsF(font)
        pad = 3.0 * dpr
        w, h = fm.horizontalAdvance(text), fm.height()
        img = QImage(max(1, int(math.ceil(w + 2 * pad))), max(1, int(math.ceil(h + 2 * pad))),
                     QImage.Format.Format_ARGB32_Premultiplied)
        img.fill(Qt.GlobalColor.transparent)
        p = QPainter(img)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        path = QPainterPath()
        path.addText(QPointF(pad, pad + fm.ascent()), font, text)
        halo = QPen(QColor(255, 255, 255, 225))
        halo.setWidthF(3.0 * dpr)
        halo.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        p.strokePath(path, halo)
        p.fillPath(path, QColor(*color))
        p.end()
        hit = (img, w, h)
        self._cache[key] = hit
        if len(self._cache) > self.MAX:
            self._cache.popitem(last=False)
        return hit


_sprites = _LabelSprites()
_LABEL_COLORS = {"polygon": (70, 40, 110), "line": (40, 40, 40), "point": (40, 40, 40)}


def _draw_labels(target: _Target, specs: list[LayerSpec], view: View, job: RenderJob,
                 dpr: float) -> int:
    """Names of communities and roads (LABEL_COLUMNS), greedy without overlaps."""
    placed: list[QRectF] = []
    grid: dict[tuple[int, int], list[int]] = {}
    cell = 64.0
    px = max(9, int(round(11 * dpr)))
    p = None
    count = 0
    by_name: dict[str, list[tuple[float, float]]] = {}
    for spec in reversed(specs):  # top layer first
        entry = spec.entry
        if not spec.labels or getattr(entry, "label_column", None) is None:
            continue
        prep = entry.prepared()
        min_px = LABEL_MIN_PX.get(prep.family, 80.0) * dpr
        ext = view.extent
        rows = np.concatenate([prep.rows_in_tiles(ext), prep.oversize_in(ext)])
        if rows.size == 0:
            continue
        rows = rows[prep.size[rows] >= min_px * view.scale]
        if rows.size == 0:
            continue
        x, y, ang, text = entry.labels()
        sx, sy = view.to_screen(x[rows], y[rows])
        inside = (sx >= 0) & (sx < view.width) & (sy >= 0) & (sy < view.height)
        rows, sx, sy = rows[inside], sx[inside], sy[inside]
        order = np.argsort(-prep.size[rows], kind="stable")[:4 * MAX_LABELS]
        spacing = 250.0 * dpr
        color = _LABEL_COLORS.get(prep.family, (40, 40, 40))
        for i in order:
            if count >= MAX_LABELS:
                break
            label = text[rows[i]]
            if label is None or (isinstance(label, float) and math.isnan(label)):
                continue
            label = str(label)
            if not label:
                continue
            cx, cy = float(sx[i]), float(sy[i])
            seen = by_name.setdefault(label, [])
            if any(abs(cx - a) < spacing and abs(cy - b) < spacing for a, b in seen):
                continue
            sprite, w, h = _sprites.get(label, px, color, dpr)
            a = float(ang[rows[i]])
            rad = math.radians(a)
            bw = abs(w * math.cos(rad)) + abs(h * math.sin(rad))
            bh = abs(w * math.sin(rad)) + abs(h * math.cos(rad))
            box = QRectF(cx - bw / 2 - 2, cy - bh / 2 - 2, bw + 4, bh + 4)
            cells = [(gx, gy) for gx in range(int(box.left() // cell), int(box.right() // cell) + 1)
                     for gy in range(int(box.top() // cell), int(box.bottom() // cell) + 1)]
            if any(placed[k].intersects(box) for c in cells for k in grid.get(c, ())):
                continue
            placed.append(box)
            for c in cells:
                grid.setdefault(c, []).append(len(placed) - 1)
            seen.append((cx, cy))
            if p is None:
                p = target.painter()
                p.setOpacity(1.0)
                p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            t = QTransform()
            t.translate(cx, cy)
            if a:
                t.rotate(-a)  # map angles are counter-clockwise; screen y points down
            p.setTransform(t)
            p.drawImage(QPointF(-sprite.width() / 2.0, -sprite.height() / 2.0), sprite)
            count += 1
        job.check()
    return count


# --------------------------------------------------------------------------- frame
def render(job: RenderJob) -> RenderResult:
    """Draw one frame (raises :class:`Canceled` when the job is canceled)."""
    t0 = time.perf_counter()
    c0 = time.thread_time()
    view = job.view
    image = QImage(view.width, view.height, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor(*job.background))
    target = _Target(image)
    stats: dict = {}
    try:
        layer_ms = stats["layer_ms"] = {}
        for spec in [*job.layers, *job.highlights]:
            job.check()
            t = time.perf_counter()
            if isinstance(spec.entry, RasterEntry):
                _draw_raster(target, spec, view, job)
            else:
                _draw_vector(target, spec, view, job, stats)
            layer_ms[spec.entry.name] = round((time.perf_counter() - t) * 1000.0, 1)
        job.check()
        t = time.perf_counter()
        stats["labels"] = _draw_labels(target, job.layers, view, job, job.device_pixel_ratio)
        layer_ms["(labels)"] = round((time.perf_counter() - t) * 1000.0, 1)
    finally:
        target.end()
    image.setDevicePixelRatio(job.device_pixel_ratio)
    stats["cpu_ms"] = round((time.thread_time() - c0) * 1000.0, 1)
    return RenderResult(job, image, (time.perf_counter() - t0) * 1000.0, stats=stats)


# --------------------------------------------------------------------------- thread
class _Bridge(QObject):
    """Lives on the UI thread; signals emitted from the render thread are queued to it."""

    done = Signal(object)


_threads: weakref.WeakSet = weakref.WeakSet()
_primed = False


def prime_qt_types() -> None:
    """Create every QtCore and QtGui type now, on the calling (UI) thread.

    PySide6 6.11 creates Qt types lazily, on first use, and that creation is not
    safe against another thread using the same type half-made (seen: the render
    thread's ``QBrush(QColor)`` raising "QGradient has no attribute 'Preset'"
    while the UI thread created ``QGradient``).  Creating them all before the
    render thread starts (~90 ms, once) removes the race; setting
    ``PYSIDE6_OPTION_LAZY=0`` before PySide6 is first imported does the same.
    """
    global _primed
    if _primed:
        return
    import re
    from pathlib import Path

    import PySide6
    from PySide6 import QtCore, QtGui

    for module in (QtCore, QtGui):
        stub = Path(PySide6.__file__).parent / (module.__name__.rsplit(".", 1)[-1] + ".pyi")
        try:
            names = re.findall(r"^class (\w+)", stub.read_text(encoding="utf-8"), re.MULTILINE)
        except OSError:
            names = [n for n in dir(module) if n.startswith("Q")]
        for name in names:
            getattr(module, name, None)
    _primed = True


@atexit.register
def _stop_all() -> None:  # pragma: no cover - interpreter shutdown
    for t in list(_threads):
        t.stop()


class RenderThread:
    """One background thread that renders the newest job and runs idle tasks.

    ``done`` (a Qt signal on the UI thread) receives a :class:`RenderResult`
    for every job that finished or failed (canceled jobs are dropped).
    """

    IDLE_SLICE_S = 0.015

    def __init__(self) -> None:
        prime_qt_types()
        self.bridge = _Bridge()
        self.done = self.bridge.done
        self._cond = threading.Condition()
        self._pending: RenderJob | None = None
        self._current: RenderJob | None = None
        self._idle: deque[Iterator] = deque()
        self._stopping = False
        self._busy = False
        self._thread = threading.Thread(target=self._run, name="cityframe-render", daemon=True)
        self._thread.start()
        _threads.add(self)

    @property
    def busy(self) -> bool:
        """Whether a job is queued or rendering."""
        return self._busy or self._pending is not None

    def submit(self, job: RenderJob) -> None:
        """Render ``job`` next; cancel the running and any queued older job."""
        with self._cond:
            if self._pending is not None:
                self._pending.cancel()
            if self._current is not None:
                self._current.cancel()
            self._pending = job
            self._busy = True
            self._cond.notify()

    def cancel(self) -> None:
        """Cancel the running and queued jobs."""
        with self._cond:
            if self._pending is not None:
                self._pending.cancel()
                self._pending = None
            if self._current is not None:
                self._current.cancel()

    def add_idle(self, task: Iterator) -> None:
        """Run ``task`` (a generator) in idle time, a slice at a time."""
        with self._cond:
            self._idle.append(task)
            self._cond.notify()

    def clear_idle(self) -> None:
        with self._cond:
            self._idle.clear()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            if self._current is not None:
                self._current.cancel()
            self._cond.notify()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and self._pending is None and not self._idle:
                    self._busy = False
                    self._cond.wait()
                if self._stopping:
                    return
                job, self._pending = self._pending, None
                self._current = job
                self._busy = job is not None
            if job is not None:
                self._render(job)
                with self._cond:
                    self._current = None
            else:
                self._idle_slice()

    def _render(self, job: RenderJob) -> None:
        try:
            result = render(job)
        except Canceled:
            return
        except Exception as exc:
            result = RenderResult(job, None, 0.0,
                                  error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        with self._cond:  # not busy any more *before* the canvas hears of the result
            self._current = None
            self._busy = self._pending is not None
        if not job.canceled and not self._stopping:
            try:
                self.done.emit(result)
            except RuntimeError:  # the bridge was deleted (application shutting down)
                pass

    def _idle_slice(self) -> None:
        deadline = time.perf_counter() + self.IDLE_SLICE_S
        while time.perf_counter() < deadline:
            with self._cond:
                if self._pending is not None or self._stopping or not self._idle:
                    return
                task = self._idle[0]
            try:
                next(task)
            except StopIteration:
                with self._cond:
                    if self._idle and self._idle[0] is task:
                        self._idle.popleft()
            except Exception:
                traceback.print_exc()
                with self._cond:
                    if self._idle and self._idle[0] is task:
                        self._idle.popleft()
