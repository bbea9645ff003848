"""What the renderer keeps per layer between frames.

An entry holds a snapshot of the layer's data reference and style (taken on
the UI thread), and the derived, expensive things the render thread builds
lazily and keeps: the geometry reprojected to the map CRS and prepared
(:class:`spatial.render_prep.PreparedVector`), the style classes, and the
``QPainterPath`` caches — one path per (tile level, tile, style class, size
bucket) group, small antialiased chunk paths for street views, one path per
oversize feature.  Only the render thread touches the derived state; the UI
thread replaces snapshots (atomic attribute writes) and bumps versions, and
the render thread drops what is stale.

Paths are built from numpy through ``QDataStream`` (one call per path, no
per-feature Python loop), see :func:`qpath`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from PySide6.QtCore import QByteArray, QDataStream
from PySide6.QtGui import QImage, QPainterPath

from layers.style import SingleStyle
from layers.vector import geometry_family
from spatial.crs import parse_crs, transform_geometries
from spatial.pick import PickIndex
from spatial.render_prep import GIL_CHUNK, Groups, PreparedVector, label_anchors, metres_per_unit

from .symbols import StyleClasses, style_classes

__all__ = ["VectorEntry", "RasterEntry", "qpath", "LABEL_COLUMNS", "same_crs"]

#: Layers whose features are labelled when zoomed in, and the label column.
LABEL_COLUMNS = {"communities": "name", "roads": "name"}
#: Features per antialiased chunk path (street views).
CHUNK_FEATURES = 24
#: Features larger than a tile per cached path.
OVERSIZE_CHUNK = 16


def qpath(data: bytes) -> QPainterPath:
    """A ``QPainterPath`` from :func:`spatial.render_prep.encode_path` bytes."""
    path = QPainterPath()
    stream = QDataStream(QByteArray(data))
    stream >> path
    return path


def same_crs(a, b) -> bool:
    """Whether two CRSs are the same (``None`` matches anything: no reprojection)."""
    if a is None or b is None:
        return True
    try:
        return parse_crs(a) == parse_crs(b)
    except Exception:
        return False


class VectorEntry:
    """Render cache of one vector layer (or highlight overlay) in one map CRS.

    Parameters
    ----------
    name : str
    frame : GeoDataFrame
        The layer's data (a reference; replaced data means a new entry).
    crs : CRS-like or None
        The data's CRS.
    style : Style
        Snapshot; later edits come through :meth:`set_style`.
    map_crs : CRS-like or None
    family : {"point", "line", "polygon"}, optional
        When the caller knows it (a layer caches its geometry type); else it is
        worked out from the geometries.
    """

    kind = "vector"

    def __init__(self, name: str, frame, crs, style, map_crs, *,
                 label_column: str | None = None, family: str | None = None) -> None:
        self.name = name
        self.frame = frame
        self.crs = crs
        self.map_crs = map_crs
        self.family = family or geometry_family(frame) or "polygon"
        self._style_state = (0, (style or SingleStyle()).copy())
        if label_column is not None and label_column not in frame.columns:
            label_column = None
        self.label_column = label_column
        # derived (render thread only)
        self._prep: PreparedVector | None = None
        self._styled: tuple[int, StyleClasses, dict] | None = None
        self._paths: dict[tuple, QPainterPath] = {}
        self._chunks: dict[tuple, list[QPainterPath]] = {}
        self._oversize: tuple[int, dict] | None = None
        self._labels: tuple | None = None
        self._lock = threading.RLock()
        self.prepare_seconds: float | None = None

    # -- UI thread
    def set_style(self, style) -> None:
        """Take a new style snapshot (cheap; the classes are rebuilt when drawn)."""
        version = self._style_state[0] + 1
        self._style_state = (version, (style or SingleStyle()).copy())

    @property
    def style_version(self) -> int:
        return self._style_state[0]

    @property
    def ready(self) -> bool:
        """Whether the geometry is prepared (drawing will not wait for it)."""
        return self._prep is not None

    # -- render thread
    def prepared(self) -> PreparedVector:
        """The geometry in the map CRS, flattened and tiled (built once)."""
        prep = self._prep
        if prep is not None:
            return prep
        with self._lock:
            if self._prep is None:
                t0 = time.perf_counter()
                geoms = np.asarray(self.frame.geometry.values, dtype=object)
                if not same_crs(self.crs, self.map_crs):
                    parts = [transform_geometries(geoms[i:i + GIL_CHUNK], self.crs, self.map_crs)
                             for i in range(0, len(geoms), GIL_CHUNK)]
                    geoms = np.concatenate(parts) if parts else geoms
                upm = 1.0
                if self.map_crs is not None:
                    upm = 1.0 / metres_per_unit(self.map_crs)
                self._prep = PreparedVector(geoms, units_per_metre=upm, family=self.family)
                self.prepare_seconds = time.perf_counter() - t0
            return self._prep

    def styled(self) -> tuple[int, StyleClasses, dict]:
        """``(style_version, classes, per-symbol colour cache)``; rebuilt after a
        style change (and the path caches dropped)."""
        version, style = self._style_state
        cached = self._styled
        if cached is not None and cached[0] == version:
            return cached
        sc = style_classes(style, self.frame)
        self._paths.clear()
        self._chunks.clear()
        self._oversize = None
        if self._prep is not None:
            self._prep.forget_groups()
        self._styled = (version, sc, {})
        return self._styled

    def group_path(self, groups: Groups, g: int, version: int) -> QPainterPath:
        """The path of group ``g`` (cached)."""
        key = (version, groups.level, int(groups.keys[g]))
        path = self._paths.get(key)
        if path is None:
            path = qpath(self._prep.path_stream(groups.members(g)))
            self._paths[key] = path
        return path

    def chunk_paths(self, groups: Groups, g: int, version: int) -> list[QPainterPath]:
        """Group ``g`` as small paths of :data:`CHUNK_FEATURES` features (cached)."""
        key = (version, groups.level, int(groups.keys[g]))
        paths = self._chunks.get(key)
        if paths is None:
            rows = groups.members(g)
            prep = self._prep
            paths = [qpath(prep.path_stream(rows[i:i + CHUNK_FEATURES]))
                     for i in range(0, len(rows), CHUNK_FEATURES)]
            self._chunks[key] = paths
        return paths

    def oversize_chunks(self, classes, version: int) -> dict[int, tuple[np.ndarray, list]]:
        """Features larger than a tile, per style class, as paths of
        :data:`OVERSIZE_CHUNK` neighbouring features each with the chunk's box:
        ``{class: (boxes (k, 4), [QPainterPath] * k)}`` (cached per style version)."""
        cached = self._oversize
        if cached is not None and cached[0] == version:
            return cached[1]
        prep = self._prep
        rows = prep.oversize
        out: dict[int, tuple[np.ndarray, list]] = {}
        if rows.size:
            cls = np.asarray(classes)[rows]
            # neighbours together: sort by a coarse grid of the boxes' centres
            cell = prep.tile_size * 4
            key = (np.floor((prep.cy[rows] - prep.origin[1]) / cell) * 1e6
                   + np.floor((prep.cx[rows] - prep.origin[0]) / cell))
            for c in np.unique(cls[cls >= 0]).tolist():
                members = rows[cls == c]
                members = members[np.argsort(key[cls == c], kind="stable")]
                starts = np.arange(0, len(members), OVERSIZE_CHUNK)
                b = prep.bounds[members]
                boxes = np.column_stack([np.minimum.reduceat(b[:, 0], starts),
                                         np.minimum.reduceat(b[:, 1], starts),
                                         np.maximum.reduceat(b[:, 2], starts),
                                         np.maximum.reduceat(b[:, 3], starts)])
                paths = [qpath(prep.path_stream(members[i:i + OVERSIZE_CHUNK])) for i in starts]
                out[int(c)] = (boxes, paths)
        self._oversize = (version, out)
        return out

    def labels(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """``(x, y, angle, text)`` per row in the map CRS, or ``None`` without labels."""
        if self.label_column is None:
            return None
        if self._labels is None:
            prep = self.prepared()
            x, y, angle = label_anchors(prep.geoms, self.family)
            column = self.frame[self.label_column]
            text = np.empty(len(column), dtype=object)
            for i in range(0, len(column), 50_000):  # Arrow strings -> objects, GIL-friendly
                text[i:i + 50_000] = column.iloc[i:i + 50_000].to_numpy(dtype=object)
            self._labels = (x, y, angle, text)
        return self._labels

    def prewarm(self, levels=(0, 1, 2, 3)) -> Iterator[None]:
        """Build the flat coordinates and every group path of ``levels`` (yielding
        after each path), so the first district view finds them ready ("built
        once at load").  Level 0 holds every feature; coarser levels only the
        features big enough to be drawn as paths there (a few percent)."""
        prep = self.prepared()
        yield
        if self.label_column is not None:
            self.labels()
            yield
        if prep.family != "point":
            _ = prep.coords  # flatten now (chunked), not in the first district frame
            yield
        version, sc, _ = self.styled()
        if prep.family == "point":
            return
        for level in levels:
            groups = prep.groups(level, sc.classes, len(sc.symbols), version)
            yield
            for g in range(len(groups.keys)):
                if self._styled is None or self._styled[0] != version:
                    return  # the style changed: these paths are stale
                self.group_path(groups, g, version)
                yield

    def memory_bytes(self) -> int:
        """Rough memory of the derived state (arrays and paths)."""
        total = self._prep.nbytes if self._prep is not None else 0
        for p in self._paths.values():
            total += 32 * p.elementCount()
        for ps in self._chunks.values():
            total += sum(32 * p.elementCount() for p in ps)
        if self._oversize is not None:
            for _, paths in self._oversize[1].values():
                total += sum(32 * p.elementCount() for p in paths)
        return int(total)


class RasterEntry:
    """Render cache of one raster layer: a style snapshot and the band statistics."""

    kind = "raster"

    def __init__(self, layer, map_crs) -> None:
        self.layer = layer
        self.name = layer.name
        self.map_crs = map_crs
        self._style_state = (0, layer.style.copy())
        self._stats: dict | None = None
        self._overview: tuple | None = None
        self.label_column = None

    def set_style(self, style) -> None:
        self._style_state = (self._style_state[0] + 1, style.copy())

    @property
    def style(self):
        return self._style_state[1]

    @property
    def ready(self) -> bool:
        return True

    def stats(self) -> dict:
        if self._stats is None:
            self._stats = self.layer.stats()
        return self._stats

    #: Largest side of the cached overview (pixels).
    OVERVIEW_PX = 2048

    def overview(self):
        """``(QImage, values, bounds)``: the whole raster decimated to at most
        :attr:`OVERVIEW_PX` a side (GDAL uses overviews), coloured with the style;
        drawn for every view coarser than it (cached per style version)."""
        version, style = self._style_state
        cached = self._overview
        if cached is not None and cached[0] == version:
            return cached[1]
        rows, cols = self.layer.shape
        f = max(1.0, max(rows, cols) / self.OVERVIEW_PX)
        out = (max(1, int(round(rows / f))), max(1, int(round(cols / f))))
        values = self.layer.read(out_shape=out)
        stats = self.stats()
        rgba = np.ascontiguousarray(style.to_rgba(values, vmin=stats.get("min"),
                                                   vmax=stats.get("max")))
        img = QImage(rgba.data, out[1], out[0], out[1] * 4,
                     QImage.Format.Format_RGBA8888).copy()
        result = (img, values, self.layer.bounds)
        self._overview = (version, result)
        return result


class PickEntry:
    """Lazily built :class:`~spatial.pick.PickIndex` of a layer in its own CRS."""

    def __init__(self, frame) -> None:
        self.frame = frame
        self.index = PickIndex(np.asarray(frame.geometry.values, dtype=object))

    def build_steps(self) -> Iterator[None]:
        while not self.index.build_step():
            yield


def describe(entry: Any) -> str:  # pragma: no cover - debugging aid
    return f"{type(entry).__name__}({entry.name!r})"
