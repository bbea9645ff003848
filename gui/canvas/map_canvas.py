"""The map canvas: a QWidget that shows a workspace's layers and never blocks.

Rendering runs on a background thread (:mod:`.renderer`) into a ``QImage``.
The UI thread only paints the last finished image — shifted and scaled while
the user pans and zooms — plus cheap overlays (the tool's rubber band, the
scale bar and the north arrow).  A fresh render starts once the view has been
still for :attr:`MapCanvas.SETTLE_MS` (model changes — visibility, style,
selection — render at once); a newer render cancels the running one.

The canvas is thin: it binds to ``layers`` models (the workspace's registry
and a :class:`~layers.selection.Selection`) and calls ``spatial`` for every
computation (``render_prep``, ``pick``, ``measure``).

Public API (the GUI contract, ``notes/gui_api.md``)
---------------------------------------------------
``set_workspace(ws, selection)``, ``map_crs``, ``set_map_crs(crs)``,
``extent()``, ``scale()``, ``zoom_full()``, ``zoom_to_layer(name)``,
``zoom_to_selection()``, ``zoom_to_bounds(b)``, ``zoom_in()``, ``zoom_out()``,
``set_tool(name)``, ``set_highlight(key, geoseries_or_None)``.

Signals: ``cursorMoved(x, y)`` (map CRS), ``extentChanged()``,
``scaleChanged(denominator)``, ``renderFinished(ms)``,
``featuresIdentified(list of {"layer", "row", "attributes"})``,
``measured(value, "distance" | "area")`` (metres, m²),
``geometryDrawn(shapely geometry in the map CRS)``; and, beyond the contract,
``renderFailed(message)`` and ``toolChanged(name)``.
"""

from __future__ import annotations

import gc
import math
import sys
from collections import Counter, OrderedDict
from typing import Any

import numpy as np
from PySide6.QtCore import QEventLoop, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from layers.raster import RasterLayer
from layers.selection import Selection
from layers.style import SingleStyle
from layers.vector import VectorLayer
from spatial.crs import crs_label, parse_crs
from spatial.measure import geometry_from_vertices, measure
from spatial.pick import pick_in_crs, select_in_crs, to_crs
from spatial.render_prep import (
    View,
    ground_resolution,
    nice_scale_bar,
    rows_bounds,
    transform_bounds,
    union_bounds,
)

from .layer_cache import LABEL_COLUMNS, PickEntry, RasterEntry, VectorEntry
from .renderer import LayerSpec, RenderJob, RenderThread
from .symbols import HIGHLIGHT_COLORS
from .tools import TOOLS, MapTool

__all__ = ["MapCanvas", "TOOL_NAMES"]

#: Tool names accepted by :meth:`MapCanvas.set_tool`.
TOOL_NAMES = tuple(TOOLS)

_INCH_M = 0.0254
#: Python hands the GIL between threads every this many seconds at most; the
#: default 5 ms lets a busy render thread delay each UI-thread slot by 5 ms.
GIL_SWITCH_INTERVAL_S = 0.001


class MapCanvas(QWidget):
    """Shows a workspace's visible layers; pan, zoom, identify, select, measure, draw."""

    cursorMoved = Signal(float, float)
    extentChanged = Signal()
    scaleChanged = Signal(float)
    renderFinished = Signal(float)
    featuresIdentified = Signal(object)
    measured = Signal(float, str)
    geometryDrawn = Signal(object)
    renderFailed = Signal(str)
    toolChanged = Signal(str)

    #: Quiet time after a pan or zoom before a fresh render starts.
    SETTLE_MS = 100
    #: Pixel tolerance of identify and click-select.
    PICK_TOLERANCE_PX = 4.0
    #: Zoom factor of zoom_in/zoom_out and of one wheel notch.
    ZOOM_STEP = 2.0
    WHEEL_STEP = 1.25
    #: Features listed per layer by identify.
    IDENTIFY_LIMIT = 25
    #: Keep the prepared layers of this many map CRSs.
    CRS_CACHE = 2

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if sys.getswitchinterval() > GIL_SWITCH_INTERVAL_S:
            sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 90)
        self.background = QColor(245, 243, 238)

        self._workspace = None
        self._selection: Selection | None = None
        self._map_crs = None
        self._view: View | None = None
        self._fit_pending: tuple | None = None
        self._entries: OrderedDict[str, dict[int, Any]] = OrderedDict()  # crs key -> entries
        self._picks: dict[int, PickEntry] = {}
        self._highlights: OrderedDict[str, VectorEntry] = OrderedDict()
        self._highlight_colors: dict[str, str] = {}
        self._connections: list[tuple[Any, Any]] = []

        self._image = None
        self._image_view: View | None = None
        self._shown_job = 0
        self._warmed = False
        self.last_render_ms: float | None = None
        self.last_render_stats: dict = {}
        self.last_error: str | None = None

        self._render_box: dict[str, RenderThread | None] = {"thread": None}
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(self.SETTLE_MS)
        self._settle.timeout.connect(self.refresh)
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(0)
        self._soon.timeout.connect(self.refresh)

        self._pan_anchor: QPointF | None = None  # middle-button pan in any tool
        self._tool: MapTool = TOOLS["pan"](self)
        self._tool.activate()
        box = self._render_box
        self.destroyed.connect(lambda *_: _stop_box(box))

    # ------------------------------------------------------------------ model binding
    def set_workspace(self, workspace, selection: Selection | None = None) -> None:
        """Show ``workspace`` (``None`` clears the map); ``selection`` is the shared
        selection model (a new one when ``None``)."""
        self._disconnect()
        if self._renderer is not None:
            self._renderer.cancel()
            self._renderer.clear_idle()
        self._workspace = workspace
        self._selection = selection if selection is not None else Selection()
        self._entries.clear()
        self._picks.clear()
        self._image = None
        self._image_view = None
        self._warmed = False
        if workspace is None:
            self._map_crs = None
            self._view = None
            self.update()
            return
        self._map_crs = self._choose_map_crs(workspace)
        # The loaded data lives as long as the workspace: keep it out of the cyclic
        # garbage collector, whose full passes over a million-geometry object array
        # hold the GIL for >100 ms (a visible freeze) and find nothing to free.
        # (No gc.collect() first: on the metro city it costs ~60 ms before the first
        # frame, and reading leaves almost no cyclic garbage to freeze.)
        gc.freeze()
        ev = workspace.registry.events
        self._connect(ev.added, self._on_added)
        self._connect(ev.removed, self._on_removed)
        self._connect(ev.reordered, self._on_model_changed)
        self._connect(ev.visibility, self._on_visibility)
        self._connect(ev.style, self._on_style)
        self._connect(ev.changed, self._on_changed)
        self._connect(self._selection.events.changed, self._on_selection)
        self._view = None
        self._prepare_visible()
        self.zoom_full()

    def _prepare_visible(self) -> None:
        """Start preparing the visible vector layers (geometry in the map CRS, boxes,
        tiles, style classes) on the render thread now, biggest first, before the
        first frame is asked for: the window builds its panels and shows itself
        meanwhile, and the first frame finds the work done.  (An idle task: a
        render job that arrives waits at most for the step in progress.)"""
        layers = [lay for lay in self._workspace.registry
                  if isinstance(lay, VectorLayer) and lay.visible]
        if not layers:
            return
        layers.sort(key=lambda lay: -lay.feature_count)
        entries = [self._entry(lay) for lay in layers]
        if self._renderer is None:
            self._renderer = RenderThread()
            self._renderer.done.connect(self._on_rendered)
        self._renderer.add_idle(_prepare_steps(entries))

    @property
    def workspace(self):
        return self._workspace

    @property
    def selection(self) -> Selection | None:
        return self._selection

    def _connect(self, signal, slot) -> None:
        signal.connect(slot)
        self._connections.append((signal, slot))

    def _disconnect(self) -> None:
        for signal, slot in self._connections:
            signal.disconnect(slot, missing_ok=True)
        self._connections.clear()

    @staticmethod
    def _choose_map_crs(workspace):
        """The CRS most layers use (the buildings' CRS on a tie), or ``None``."""
        counts: Counter = Counter()
        first: dict[str, Any] = {}
        for layer in workspace.registry:
            if not isinstance(layer, (VectorLayer, RasterLayer)):
                continue
            crs = layer.crs
            if crs is None:
                continue
            key = parse_crs(crs).to_wkt()
            counts[key] += 2 if layer.name == "buildings" else 1
            first.setdefault(key, crs)
        if not counts:
            return None
        return parse_crs(first[counts.most_common(1)[0][0]])

    def _on_added(self, layer, index) -> None:
        self._schedule(now=True)

    def _on_removed(self, layer, index) -> None:
        for entries in self._entries.values():
            entries.pop(id(layer), None)
        self._picks.pop(id(layer), None)
        self._schedule(now=True)

    def _on_visibility(self, layer, visible) -> None:
        self._schedule(now=True)

    def _on_style(self, layer) -> None:
        entry = self._current_entries().get(id(layer))
        if entry is not None and layer.style is not None:
            entry.set_style(layer.style)
        current = self._current_entries()
        for entries in list(self._entries.values()):
            if entries is not current:
                entries.pop(id(layer), None)
        self._schedule(now=True)

    def _on_changed(self, layer, what) -> None:
        if what == "data":
            for entries in self._entries.values():
                entries.pop(id(layer), None)
            self._picks.pop(id(layer), None)
            if self._selection is not None:
                self._selection.forget(layer.name)
        elif what == "name":
            for entries in self._entries.values():
                entries.pop(id(layer), None)
        self._schedule(now=True)

    def _on_model_changed(self, *args) -> None:
        self._schedule(now=True)

    def _on_selection(self, layer_name) -> None:
        self._schedule(now=True)

    def _current_entries(self) -> dict[int, Any]:
        key = self._crs_key(self._map_crs)
        entries = self._entries.get(key)
        if entries is None:
            entries = {}
            self._entries[key] = entries
            while len(self._entries) > self.CRS_CACHE:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        return entries

    @staticmethod
    def _crs_key(crs) -> str:
        return "" if crs is None else crs.to_wkt()

    def _entry(self, layer):
        entries = self._current_entries()
        entry = entries.get(id(layer))
        if entry is not None and getattr(entry, "frame", None) is not None \
                and entry.frame is not getattr(layer, "data", None):
            entry = None  # data replaced without an event (defensive)
        if entry is None:
            if isinstance(layer, VectorLayer):
                entry = VectorEntry(layer.name, layer.data, layer.crs, layer.style, self._map_crs,
                                    label_column=LABEL_COLUMNS.get(layer.name),
                                    family=_family(layer.geometry_type))
            elif isinstance(layer, RasterLayer):
                entry = RasterEntry(layer, self._map_crs)
            else:
                return None
            entries[id(layer)] = entry
        return entry

    # ------------------------------------------------------------------ CRS and view
    @property
    def map_crs(self):
        """The CRS the map is drawn in (a pyproj CRS, or ``None`` without data)."""
        return self._map_crs

    def set_map_crs(self, crs) -> None:
        """Draw in ``crs`` (anything :func:`spatial.crs.parse_crs` accepts), keeping
        the area in view; layers are reprojected on the fly (cached per CRS)."""
        new = parse_crs(crs)
        if self._map_crs is not None and new == self._map_crs:
            return
        old, old_view = self._map_crs, self._view
        self._map_crs = new
        self._image = None
        self._image_view = None
        if self._renderer is not None:
            self._renderer.clear_idle()
        self._warmed = False
        if old_view is not None:
            b = transform_bounds(old_view.extent, old, new)
            if b is not None:
                self._set_view(View.fit(b, *self._size(), margin=0.0), now=True)
                return
        self.zoom_full()

    @property
    def view(self) -> View:
        """The current view (logical pixels); a default one before any data."""
        if self._view is None:
            w, h = self._size()
            return View(0.0, 0.0, 1.0, w, h)
        return self._view

    def _size(self) -> tuple[int, int]:
        return max(self.width(), 1), max(self.height(), 1)

    def extent(self) -> tuple[float, float, float, float] | None:
        """``(minx, miny, maxx, maxy)`` in view, in the map CRS."""
        return None if self._view is None else self._view.extent

    def map_units_per_pixel(self) -> float | None:
        return None if self._view is None else self._view.scale

    def metres_per_pixel(self) -> float | None:
        """Ground metres per (logical) pixel at the centre of the view."""
        if self._view is None:
            return None
        return ground_resolution(self._map_crs, self._view)

    def scale(self) -> float:
        """The map scale denominator (1 : N) at the screen's logical DPI; 0 without data."""
        mpp = self.metres_per_pixel()
        if not mpp:
            return 0.0
        dpi = self.logicalDpiX() or 96
        return mpp / (_INCH_M / dpi)

    def _set_view(self, view: View, now: bool = False) -> None:
        old = self._view
        self._view = view
        self.update()
        if old != view:
            self.extentChanged.emit()
            if old is None or not math.isclose(old.scale, view.scale, rel_tol=1e-12):
                self.scaleChanged.emit(self.scale())
        self._schedule(now=now)

    def zoom_to_bounds(self, bounds, crs=None, margin: float = 0.05) -> None:
        """Show ``bounds`` (minx, miny, maxx, maxy), in the map CRS unless ``crs``."""
        if bounds is None:
            return
        if crs is not None and self._map_crs is not None:
            bounds = transform_bounds(bounds, crs, self._map_crs)
            if bounds is None:
                return
        w, h = self._size()
        if not self.isVisible() and (w, h) == (1, 1):
            self._fit_pending = (tuple(bounds), margin)
        self._set_view(View.fit(bounds, w, h, margin=margin), now=True)

    def _layer_bounds(self, layer):
        b = layer.bounds
        if b is None:
            return None
        return transform_bounds(b, layer.crs, self._map_crs)

    def full_extent(self):
        """Bounds of every layer with geometry, in the map CRS."""
        if self._workspace is None:
            return None
        return union_bounds(self._layer_bounds(layer) for layer in self._workspace.registry
                            if isinstance(layer, (VectorLayer, RasterLayer)))

    def zoom_full(self) -> None:
        """Show every layer."""
        b = self.full_extent()
        if b is not None:
            self.zoom_to_bounds(b)
        elif self._workspace is not None:
            self._set_view(View(0.0, 0.0, 1.0, *self._size()), now=True)

    def zoom_to_layer(self, name: str) -> None:
        """Show the layer called ``name`` whole (``KeyError`` if absent)."""
        if self._workspace is None:
            raise KeyError(f"no layer named {name!r}: no workspace")
        layer = self._workspace.registry[name]
        self.zoom_to_bounds(self._layer_bounds(layer))

    def selection_bounds(self):
        """Bounds of the selected features of every layer, in the map CRS."""
        if self._workspace is None or self._selection is None:
            return None
        boxes = []
        for name in self._selection.layers():
            layer = self._workspace.registry.get(name)
            if not isinstance(layer, VectorLayer):
                continue
            b = rows_bounds(layer.data.geometry.values, self._selection.rows(name))
            boxes.append(transform_bounds(b, layer.crs, self._map_crs) if b else None)
        return union_bounds(boxes)

    def zoom_to_selection(self) -> None:
        """Show the selected features (nothing happens without a selection)."""
        b = self.selection_bounds()
        if b is None:
            return
        if b[2] - b[0] == 0 and b[3] - b[1] == 0 and self._view is not None:
            # one point: centre on it, keep a street-level scale
            w, h = self._size()
            self._set_view(View(b[0], b[1], min(self._view.scale, 1.0), w, h), now=True)
            return
        self.zoom_to_bounds(b, margin=0.15)

    def zoom_in(self) -> None:
        self.zoom_by(self.ZOOM_STEP)

    def zoom_out(self) -> None:
        self.zoom_by(1.0 / self.ZOOM_STEP)

    def zoom_by(self, factor: float, anchor: tuple[float, float] | None = None) -> None:
        """Zoom in by ``factor`` (< 1 zooms out) keeping the map point under the
        pixel ``anchor`` (logical pixels; the centre by default) in place."""
        if self._view is None:
            return
        self._set_view(self._view.zoomed(factor, anchor))

    def pan_by(self, dx_px: float, dy_px: float) -> None:
        """Move the map content by ``(dx, dy)`` logical pixels."""
        if self._view is None:
            return
        self._set_view(self._view.panned(dx_px, dy_px))

    def center_on(self, x: float, y: float) -> None:
        if self._view is not None:
            self._set_view(View(x, y, self._view.scale, self._view.width, self._view.height),
                           now=True)

    # ------------------------------------------------------------------ highlights
    def set_highlight(self, key: str, geoms) -> None:
        """Draw ``geoms`` (a GeoSeries or GeoDataFrame; ``None`` removes) over the map,
        in a colour of its own per ``key``.  Features are reprojected from their CRS."""
        if geoms is None:
            if self._highlights.pop(key, None) is not None:
                self._schedule(now=True)
            return
        import geopandas as gpd

        if isinstance(geoms, gpd.GeoDataFrame):
            frame = gpd.GeoDataFrame(geometry=geoms.geometry.values, crs=geoms.crs)
        elif isinstance(geoms, gpd.GeoSeries):
            frame = gpd.GeoDataFrame(geometry=geoms.values, crs=geoms.crs)
        else:
            frame = gpd.GeoDataFrame(geometry=list(np.atleast_1d(np.asarray(geoms, dtype=object))),
                                     crs=self._map_crs)
        color = self._highlight_colors.setdefault(
            key, HIGHLIGHT_COLORS[len(self._highlight_colors) % len(HIGHLIGHT_COLORS)])
        style = SingleStyle(fill=color + "40", stroke=color, stroke_width=2.0, point_size=11.0)
        crs = frame.crs if frame.crs is not None else self._map_crs
        self._highlights[key] = VectorEntry(f"highlight:{key}", frame, crs, style, self._map_crs)
        self._schedule(now=True)

    def highlights(self) -> list[str]:
        return list(self._highlights)

    # ------------------------------------------------------------------ rendering
    def _schedule(self, now: bool = False) -> None:
        if now:
            self._settle.stop()
            self._soon.start()
        elif not self._soon.isActive():
            self._settle.start()

    def _job(self) -> RenderJob | None:
        if self._workspace is None or self._view is None:
            return None
        dpr = self.devicePixelRatioF() or 1.0
        specs = []
        sel = self._selection
        for layer in reversed(list(self._workspace.registry)):  # bottom first
            if not layer.visible or not isinstance(layer, (VectorLayer, RasterLayer)):
                continue
            entry = self._entry(layer)
            if entry is None:
                continue
            rows = sel.rows(layer.name) if sel is not None else None
            specs.append(LayerSpec(entry, layer.opacity, rows if rows is not None and len(rows)
                                   else None))
        highlights = []
        for key, entry in self._highlights.items():
            if entry.map_crs is not self._map_crs and entry.map_crs != self._map_crs:
                entry = VectorEntry(entry.name, entry.frame, entry.crs, entry._style_state[1],
                                    self._map_crs)
                self._highlights[key] = entry
            highlights.append(LayerSpec(entry, 1.0, None, labels=False))
        bg = self.background
        return RenderJob(self._view.scaled_to_device(dpr), specs, highlights,
                         (bg.red(), bg.green(), bg.blue(), 255), dpr, self._map_crs)

    def refresh(self) -> None:
        """Render the current view now (in the background)."""
        self._settle.stop()
        self._soon.stop()
        job = self._job()
        if job is None:
            return
        job.logical_view = self._view  # type: ignore[attr-defined]
        if self._renderer is None:
            self._renderer = RenderThread()
            self._renderer.done.connect(self._on_rendered)
        self._renderer.submit(job)

    @property
    def rendering(self) -> bool:
        """Whether a render is scheduled or running."""
        return (self._settle.isActive() or self._soon.isActive()
                or (self._renderer is not None and self._renderer.busy))

    def cancel_render(self) -> None:
        """Cancel the running render (the last image stays)."""
        self._settle.stop()
        self._soon.stop()
        if self._renderer is not None:
            self._renderer.cancel()

    def wait_until_rendered(self, timeout_ms: int = 30000) -> bool:
        """Process events until the image of the current view is on screen (for
        screenshots and scripts); False on timeout."""
        loop = QEventLoop()
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        poll = QTimer()  # belt and braces: re-check the state now and then
        poll.setInterval(50)
        poll.timeout.connect(lambda: self.is_current() and loop.quit())
        done = self.renderFinished.connect(lambda *_: loop.quit())
        failed = self.renderFailed.connect(lambda *_: loop.quit())
        try:
            poll.start()
            timer.start(timeout_ms)
            while not self.is_current():
                if self._workspace is None or self._view is None:
                    return False
                if not self.rendering:
                    self.refresh()
                loop.exec()
                if not timer.isActive():
                    return self.is_current()
            return True
        finally:
            timer.stop()
            poll.stop()
            self.renderFinished.disconnect(done)
            self.renderFailed.disconnect(failed)

    def is_current(self) -> bool:
        """Whether the shown image was rendered for the current view and model."""
        return (self._image is not None and self._image_view == self._view
                and not self.rendering)

    def _on_rendered(self, result) -> None:
        job = result.job
        if job.id < self._shown_job:
            return  # an older frame finished after a newer one
        self._shown_job = job.id
        if result.error is not None:
            self.last_error = result.error
            print(f"CityFrame map render failed: {result.error}", file=sys.stderr)
            self.renderFailed.emit(result.error.splitlines()[0])
            return
        self._image = result.image
        self._image_view = getattr(job, "logical_view", None)
        self.last_render_ms = result.elapsed_ms
        self.last_render_stats = result.stats
        self.update()
        self.renderFinished.emit(result.elapsed_ms)
        if not self._warmed:
            self._warmed = True
            self._queue_warmup()

    def _queue_warmup(self) -> None:
        """Idle work: tile paths of big visible layers, then pick indexes."""
        if self._renderer is None or self._workspace is None:
            return
        layers = [lay for lay in self._workspace.registry if isinstance(lay, VectorLayer)]
        layers.sort(key=lambda lay: (not lay.visible, -lay.feature_count))
        for layer in layers:
            entry = self._entry(layer)
            if layer.visible and isinstance(entry, VectorEntry) and (
                    layer.feature_count > 2000 or entry.label_column is not None):
                self._renderer.add_idle(entry.prewarm())
        for layer in layers:
            if layer.visible:
                self._renderer.add_idle(self._pick_entry(layer).build_steps())

    # ------------------------------------------------------------------ picking
    def _pick_entry(self, layer) -> PickEntry:
        pe = self._picks.get(id(layer))
        if pe is None or pe.frame is not layer.data:
            pe = PickEntry(layer.data)
            self._picks[id(layer)] = pe
        return pe

    def _tolerance(self, tolerance_px: float | None) -> float:
        px = self.PICK_TOLERANCE_PX if tolerance_px is None else tolerance_px
        return px * (self._view.scale if self._view is not None else 1.0)

    def _visible_vector_layers(self) -> list:
        if self._workspace is None:
            return []
        return [lay for lay in self._workspace.registry
                if isinstance(lay, VectorLayer) and lay.visible]

    def _selectable_layers(self) -> list:
        """The active layer when it is a visible vector layer, else every visible one."""
        if self._workspace is None:
            return []
        active = self._workspace.registry.active
        if isinstance(active, VectorLayer) and active.visible:
            return [active]
        return self._visible_vector_layers()

    def features_at(self, x: float, y: float, tolerance_px: float | None = None,
                    layers=None) -> list[tuple[Any, np.ndarray]]:
        """``[(layer, rows)]`` of features within the pick tolerance of the map point,
        top layer first, nearest first; layers without hits are left out."""
        tol = self._tolerance(tolerance_px)
        out = []
        for layer in (self._visible_vector_layers() if layers is None else layers):
            rows = pick_in_crs(self._pick_entry(layer).index, x, y, tol, self._map_crs,
                               layer.crs)
            if rows.size:
                out.append((layer, rows))
        return out

    def identify(self, x: float, y: float, tolerance_px: float | None = None) -> list[dict]:
        """The features under the map point ``(x, y)`` in every visible layer (top
        first): ``[{"layer", "row", "attributes"}]``; emits ``featuresIdentified``."""
        results = []
        for layer, rows in self.features_at(x, y, tolerance_px):
            frame = layer.data
            geom_col = frame.geometry.name
            for row in rows[: self.IDENTIFY_LIMIT]:
                record = frame.iloc[int(row)]
                attrs = {str(k): _plain(v) for k, v in record.items() if k != geom_col}
                results.append({"layer": layer.name, "row": int(row), "attributes": attrs})
        self.featuresIdentified.emit(results)
        return results

    def select_at(self, x: float, y: float, mode: str = "replace",
                  tolerance_px: float | None = None) -> dict[str, np.ndarray]:
        """Click-select: the nearest feature under the point in the top selectable
        layer that has one (mode ``replace`` with nothing there clears)."""
        if self._selection is None:
            return {}
        layers = self._selectable_layers()
        hits = self.features_at(x, y, tolerance_px, layers)
        if not hits:
            if mode == "replace":
                for layer in layers:
                    self._selection.select(layer.name, [], "replace")
            return {}
        layer, rows = hits[0]
        picked = rows[:1]
        if mode == "replace":
            for other in layers:
                if other is not layer:
                    self._selection.select(other.name, [], "replace")
        self._selection.select(layer.name, picked, mode)
        return {layer.name: picked}

    def select_geometry(self, geom, mode: str = "replace",
                        predicate: str = "intersects") -> dict[str, np.ndarray]:
        """Select the features of the selectable layers that ``geom`` (map CRS) hits."""
        if self._selection is None:
            return {}
        out = {}
        for layer in self._selectable_layers():
            rows = select_in_crs(self._pick_entry(layer).index, geom, self._map_crs, layer.crs,
                                 predicate)
            self._selection.select(layer.name, rows, mode)
            out[layer.name] = rows
        return out

    def select_rect(self, bounds, mode: str = "replace") -> dict[str, np.ndarray]:
        """Select what the rectangle ``(minx, miny, maxx, maxy)`` (map CRS) touches."""
        import shapely

        return self.select_geometry(shapely.box(*bounds), mode)

    def select_polygon(self, polygon, mode: str = "replace") -> dict[str, np.ndarray]:
        """Select what the polygon (a shapely geometry or its vertices, map CRS) touches."""
        if not hasattr(polygon, "geom_type"):
            polygon = geometry_from_vertices("polygon", polygon)
        return self.select_geometry(polygon, mode)

    # ------------------------------------------------------------------ measuring and drawing
    def measure_geometry(self, geom):
        """Length (lines) or area (polygons) in metres of a map-CRS geometry
        (:class:`spatial.measure.Measurement`)."""
        return measure(geom, self._map_crs)

    def geometry_from_vertices(self, kind: str, vertices):
        return geometry_from_vertices(kind, vertices)

    def emit_drawn(self, geom) -> None:
        self.geometryDrawn.emit(geom)

    def to_map_crs(self, geom, crs):
        """A geometry from ``crs`` into the map CRS (for callers with other CRSs)."""
        return to_crs(geom, crs, self._map_crs)

    # ------------------------------------------------------------------ tools
    def set_tool(self, name: str) -> None:
        """Switch the mouse tool; one of :data:`TOOL_NAMES`."""
        if name not in TOOLS:
            raise ValueError(f"unknown map tool {name!r}; expected one of {', '.join(TOOLS)}")
        if self._tool.name == name:
            return
        self._tool.deactivate()
        self._tool = TOOLS[name](self)
        self._tool.activate()
        self.update()
        self.toolChanged.emit(name)

    def tool(self) -> str:
        return self._tool.name

    @property
    def current_tool(self) -> MapTool:
        return self._tool

    # ------------------------------------------------------------------ Qt events
    def sizeHint(self) -> QSize:
        return QSize(800, 600)

    def resizeEvent(self, event) -> None:
        w, h = self._size()
        if self._fit_pending is not None and self.isVisible():
            bounds, margin = self._fit_pending
            self._fit_pending = None
            self._set_view(View.fit(bounds, w, h, margin=margin), now=True)
        elif self._view is not None:
            self._set_view(self._view.resized(w, h))
        super().resizeEvent(event)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._fit_pending is not None:
            bounds, margin = self._fit_pending
            self._fit_pending = None
            self._set_view(View.fit(bounds, *self._size(), margin=margin), now=True)

    def _map_xy(self, pos) -> tuple[float, float]:
        return self.view.to_map(pos.x(), pos.y())

    def mousePressEvent(self, event) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_anchor = event.position()
            return
        if self._view is not None:
            self._tool.press(event, self._map_xy(event.position()))

    def mouseMoveEvent(self, event) -> None:
        if self._view is None:
            return
        xy = self._map_xy(event.position())
        self.cursorMoved.emit(float(xy[0]), float(xy[1]))
        if self._pan_anchor is not None:
            pos = event.position()
            self.pan_by(pos.x() - self._pan_anchor.x(), pos.y() - self._pan_anchor.y())
            self._pan_anchor = pos
            return
        self._tool.move(event, xy)

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_anchor = None
            return
        if self._view is not None:
            self._tool.release(event, self._map_xy(event.position()))

    def mouseDoubleClickEvent(self, event) -> None:
        if self._view is not None:
            self._tool.double_click(event, self._map_xy(event.position()))

    def wheelEvent(self, event) -> None:
        if self._view is None:
            return
        steps = event.angleDelta().y() / 120.0
        if steps == 0:
            steps = event.pixelDelta().y() / 120.0
        if steps:
            pos = event.position()
            self.zoom_by(self.WHEEL_STEP ** steps, (pos.x(), pos.y()))
        event.accept()

    def keyPressEvent(self, event) -> None:
        if self._tool.key(event):
            return
        k = event.key()
        w, h = self._size()
        moves = {Qt.Key.Key_Left: (w / 4, 0), Qt.Key.Key_Right: (-w / 4, 0),
                 Qt.Key.Key_Up: (0, h / 4), Qt.Key.Key_Down: (0, -h / 4)}
        if k in moves:
            self.pan_by(*moves[k])
        elif k in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif k in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom_out()
        elif k == Qt.Key.Key_Escape:
            self.cancel_render()
        else:
            super().keyPressEvent(event)

    def leaveEvent(self, event) -> None:
        hover = getattr(self._tool, "hover", None)
        if hover is not None:
            self._tool.hover = None
            self.update()
        super().leaveEvent(event)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        try:
            rect = self.rect()
            image, iv, view = self._image, self._image_view, self._view
            if image is None or iv is None or view is None:
                p.fillRect(rect, self.background)
                if self._workspace is None:
                    p.setPen(QColor(120, 120, 120))
                    p.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.tr("No map loaded"))
            elif iv == view:
                p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
                p.drawImage(QPointF(0, 0), image)
                p.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
            else:
                # the last frame moved/scaled to the current view until a new one arrives
                p.fillRect(rect, self.background)
                minx, miny, maxx, maxy = iv.extent
                x0, y0 = view.to_screen(minx, maxy)
                x1, y1 = view.to_screen(maxx, miny)
                p.drawImage(QRectF(float(x0), float(y0), float(x1 - x0), float(y1 - y0)), image)
            if view is not None:
                self._tool.paint(p)
                p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
                self._paint_scale_bar(p)
                self._paint_north_arrow(p)
        finally:
            p.end()

    def _paint_scale_bar(self, p: QPainter) -> None:
        mpp = self.metres_per_pixel()
        if not mpp:
            return
        _, px, label = nice_scale_bar(mpp, min(160.0, self.width() / 4))
        if px <= 0:
            return
        font = QFont()
        font.setPixelSize(11)
        p.setFont(font)
        x0, y0 = 12.0, self.height() - 14.0
        box = QRectF(x0 - 6, y0 - 22, px + 12 + 4 * len(label), 30)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(255, 255, 255, 200))
        p.drawRoundedRect(box, 3, 3)
        pen = QPen(QColor(30, 30, 30), 2.0)
        p.setPen(pen)
        p.drawLine(QPointF(x0, y0), QPointF(x0 + px, y0))
        for x in (x0, x0 + px / 2, x0 + px):
            p.drawLine(QPointF(x, y0), QPointF(x, y0 - (6 if x != x0 + px / 2 else 4)))
        p.drawText(QRectF(x0, y0 - 22, px + 4 * len(label) + 6, 14),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)

    def _paint_north_arrow(self, p: QPainter) -> None:
        cx, top = self.width() - 26.0, 12.0
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(255, 255, 255, 200))
        p.drawEllipse(QPointF(cx, top + 20), 16, 16)
        left = QPolygonF([QPointF(cx, top + 6), QPointF(cx - 7, top + 30), QPointF(cx, top + 25)])
        right = QPolygonF([QPointF(cx, top + 6), QPointF(cx + 7, top + 30), QPointF(cx, top + 25)])
        p.setBrush(QColor(30, 30, 30))
        p.drawPolygon(left)
        p.setBrush(QColor(255, 255, 255))
        p.setPen(QPen(QColor(30, 30, 30), 1.0))
        p.drawPolygon(right)
        font = QFont()
        font.setPixelSize(10)
        font.setBold(True)
        p.setFont(font)
        p.setPen(QColor(30, 30, 30))
        p.drawText(QRectF(cx - 8, top + 28, 16, 12), Qt.AlignmentFlag.AlignCenter, "N")

    def crs_label(self) -> str:
        return crs_label(self._map_crs) if self._map_crs is not None else ""

    @property
    def _renderer(self) -> RenderThread | None:
        return self._render_box["thread"]

    @_renderer.setter
    def _renderer(self, value: RenderThread | None) -> None:
        self._render_box["thread"] = value

    def shutdown(self) -> None:
        """Stop the render thread (also done when the widget is destroyed)."""
        _stop_box(self._render_box)


def _family(geometry_type: str | None) -> str | None:
    """The drawing family of a layer's (cached) geometry type; ``None`` when it mixes
    families or is unknown (the entry then looks at the geometries itself)."""
    if not geometry_type or geometry_type in ("Geometry", "GeometryCollection"):
        return None
    if "Polygon" in geometry_type:
        return "polygon"
    if "LineString" in geometry_type:
        return "line"
    return "point" if "Point" in geometry_type else None


def _prepare_steps(entries):
    """Idle task: prepare each entry and build its style classes (render thread)."""
    for entry in entries:
        entry.prepared()
        yield
        entry.styled()
        yield


def _stop_box(box: dict) -> None:
    thread = box.get("thread")
    box["thread"] = None
    if thread is not None:
        thread.stop(timeout=2.0)


def _plain(value):
    """numpy/pandas scalars → plain Python values for the identify panel."""
    if isinstance(value, np.generic):
        return value.item()
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
