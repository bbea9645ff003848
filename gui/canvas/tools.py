"""Map tools: what a click, drag or key does on the canvas.

Each tool turns mouse and key events into calls of the canvas's public API
(``pan_by``, ``identify``, ``select_at``, ``select_rect``, ``select_polygon``,
``measure_geometry``, ``emit_drawn``) and paints its own rubber band on the
UI thread (a handful of vertices: cheap).  Tools are picked from
:data:`TOOLS` by name (``MapCanvas.set_tool``).

Keys while drawing: Enter finishes, Backspace removes the last vertex, Escape
cancels.  Double-click or right-click also finishes a line or polygon.
Selection modifiers: Shift adds, Ctrl removes, Ctrl+Shift toggles.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen, QPolygonF

__all__ = ["MapTool", "TOOLS", "selection_mode", "format_length", "format_area"]

_BAND = QColor(220, 30, 90)
_BAND_FILL = QColor(220, 30, 90, 45)
_SELECT = QColor(30, 110, 220)
_SELECT_FILL = QColor(30, 110, 220, 40)
CLICK_SLOP_PX = 4.0


def selection_mode(modifiers) -> str:
    """Selection mode for keyboard modifiers: Shift add, Ctrl remove, both toggle."""
    shift = bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
    ctrl = bool(modifiers & (Qt.KeyboardModifier.ControlModifier
                             | Qt.KeyboardModifier.MetaModifier))
    if shift and ctrl:
        return "toggle"
    if shift:
        return "add"
    if ctrl:
        return "remove"
    return "replace"


def format_length(metres: float) -> str:
    """``"850 m"``, ``"1.25 km"``."""
    return f"{metres / 1000:.2f} km" if metres >= 1000 else f"{metres:.1f} m"


def format_area(m2: float) -> str:
    """``"950 m²"``, ``"1.20 ha"``, ``"3.40 km²"``."""
    if m2 >= 1e6:
        return f"{m2 / 1e6:.2f} km²"
    if m2 >= 1e4:
        return f"{m2 / 1e4:.2f} ha"
    return f"{m2:.0f} m²"


class MapTool:
    """Base tool: ignores everything.  Positions are in map units."""

    name = ""
    cursor = Qt.CursorShape.ArrowCursor

    def __init__(self, canvas) -> None:
        self.canvas = canvas

    def activate(self) -> None:
        self.canvas.setCursor(self.cursor)

    def deactivate(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget any half-drawn state."""

    def press(self, event, xy) -> bool:
        return False

    def move(self, event, xy) -> None:
        pass

    def release(self, event, xy) -> None:
        pass

    def double_click(self, event, xy) -> None:
        pass

    def key(self, event) -> bool:
        return False

    def paint(self, p: QPainter) -> None:
        pass

    # helpers
    def _screen(self, xy) -> QPointF:
        px, py = self.canvas.view.to_screen(xy[0], xy[1])
        return QPointF(float(px), float(py))


class PanTool(MapTool):
    name = "pan"
    cursor = Qt.CursorShape.OpenHandCursor

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self._last: QPointF | None = None

    def reset(self) -> None:
        self._last = None

    def press(self, event, xy) -> bool:
        if event.button() == Qt.MouseButton.LeftButton:
            self._last = event.position()
            self.canvas.setCursor(Qt.CursorShape.ClosedHandCursor)
            return True
        return False

    def move(self, event, xy) -> None:
        if self._last is not None:
            pos = event.position()
            self.canvas.pan_by(pos.x() - self._last.x(), pos.y() - self._last.y())
            self._last = pos

    def release(self, event, xy) -> None:
        if self._last is not None:
            self._last = None
            self.canvas.setCursor(self.cursor)


class _ClickTool(MapTool):
    """Acts on a click (press and release without moving)."""

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self._down: QPointF | None = None

    def reset(self) -> None:
        self._down = None

    def press(self, event, xy) -> bool:
        if event.button() == Qt.MouseButton.LeftButton:
            self._down = event.position()
            return True
        return False

    def release(self, event, xy) -> None:
        down, self._down = self._down, None
        if down is None or event.button() != Qt.MouseButton.LeftButton:
            return
        d = event.position() - down
        if abs(d.x()) <= CLICK_SLOP_PX and abs(d.y()) <= CLICK_SLOP_PX:
            self.clicked(event, xy)

    def clicked(self, event, xy) -> None:
        raise NotImplementedError


class IdentifyTool(_ClickTool):
    name = "identify"
    cursor = Qt.CursorShape.WhatsThisCursor

    def clicked(self, event, xy) -> None:
        self.canvas.identify(xy[0], xy[1])


class SelectTool(_ClickTool):
    name = "select"
    cursor = Qt.CursorShape.PointingHandCursor

    def clicked(self, event, xy) -> None:
        self.canvas.select_at(xy[0], xy[1], selection_mode(event.modifiers()))


class SelectRectTool(MapTool):
    name = "select_rect"
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self._start = None
        self._end = None

    def reset(self) -> None:
        self._start = self._end = None
        self.canvas.update()

    def press(self, event, xy) -> bool:
        if event.button() == Qt.MouseButton.LeftButton:
            self._start = self._end = xy
            return True
        return False

    def move(self, event, xy) -> None:
        if self._start is not None:
            self._end = xy
            self.canvas.update()

    def release(self, event, xy) -> None:
        if self._start is None or event.button() != Qt.MouseButton.LeftButton:
            return
        start, self._end = self._start, xy
        a, b = self._screen(start), self._screen(xy)
        mode = selection_mode(event.modifiers())
        self._start = self._end = None
        self.canvas.update()
        if abs(a.x() - b.x()) <= CLICK_SLOP_PX and abs(a.y() - b.y()) <= CLICK_SLOP_PX:
            self.canvas.select_at(xy[0], xy[1], mode)
        else:
            self.canvas.select_rect((min(start[0], xy[0]), min(start[1], xy[1]),
                                     max(start[0], xy[0]), max(start[1], xy[1])), mode)

    def key(self, event) -> bool:
        if event.key() == Qt.Key.Key_Escape and self._start is not None:
            self.reset()
            return True
        return False

    def paint(self, p: QPainter) -> None:
        if self._start is None or self._end is None:
            return
        p.setPen(QPen(_SELECT, 1.5, Qt.PenStyle.DashLine))
        p.setBrush(QBrush(_SELECT_FILL))
        p.drawRect(QRectF(self._screen(self._start), self._screen(self._end)).normalized())


class _VertexTool(MapTool):
    """Clicks add vertices; Enter, double-click or right-click finish."""

    kind = "line"  # "line" or "polygon"
    cursor = Qt.CursorShape.CrossCursor
    color, fill = _BAND, _BAND_FILL

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self.vertices: list[tuple[float, float]] = []
        self.hover = None
        self.finished_geometry = None  # shown until the next drawing starts

    def reset(self) -> None:
        self.vertices = []
        self.hover = None
        self.finished_geometry = None
        self.canvas.update()

    def press(self, event, xy) -> bool:
        if event.button() == Qt.MouseButton.RightButton:
            self.finish(event)
            return True
        if event.button() == Qt.MouseButton.LeftButton:
            if self.finished_geometry is not None:
                self.finished_geometry = None
            self.vertices.append(xy)
            self.canvas.update()
            return True
        return False

    def move(self, event, xy) -> None:
        self.hover = xy
        if self.vertices:
            self.canvas.update()

    def double_click(self, event, xy) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.finish(event)

    def key(self, event) -> bool:
        k = event.key()
        if k in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.finish(event)
            return True
        if k == Qt.Key.Key_Backspace and self.vertices:
            self.vertices.pop()
            self.canvas.update()
            return True
        if k == Qt.Key.Key_Escape and (self.vertices or self.finished_geometry is not None):
            self.reset()
            return True
        return False

    def finish(self, event=None) -> None:
        vertices, self.vertices = self.vertices, []
        self.canvas.update()
        try:
            geom = self.canvas.geometry_from_vertices(self.kind, vertices)
        except ValueError:
            return  # too few vertices: nothing drawn
        self.finished_geometry = vertices
        self.completed(geom, event)

    def completed(self, geom, event) -> None:
        raise NotImplementedError

    def live_text(self) -> str:
        return ""

    def paint(self, p: QPainter) -> None:
        pts = self.vertices or self.finished_geometry or []
        if not pts:
            return
        live = bool(self.vertices) and self.hover is not None
        poly = QPolygonF([self._screen(v) for v in pts])
        if live:
            poly.append(self._screen(self.hover))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = QPen(self.color, 2.0)
        p.setPen(pen)
        if self.kind == "polygon" and poly.size() >= 3:
            p.setBrush(QBrush(self.fill))
            p.drawPolygon(poly)
        else:
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPolyline(poly)
        p.setBrush(QBrush(QColor("white")))
        for i in range(poly.size()):
            p.drawEllipse(poly.at(i), 3.0, 3.0)
        text = self.live_text()
        if text:
            font = QFont()
            font.setPixelSize(12)
            font.setBold(True)
            p.setFont(font)
            fm = QFontMetricsF(font)
            anchor = poly.at(poly.size() - 1) + QPointF(10, -10)
            box = QRectF(anchor, fm.size(0, text)).adjusted(-4, -2, 4, 2)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(255, 255, 255, 230))
            p.drawRoundedRect(box, 3, 3)
            p.setPen(QColor(30, 30, 30))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


class MeasureLineTool(_VertexTool):
    name = "measure_line"
    kind = "line"

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self.last_value: float | None = None

    def _current(self):
        pts = list(self.vertices or self.finished_geometry or [])
        if self.vertices and self.hover is not None:
            pts.append(self.hover)
        return pts

    def live_text(self) -> str:
        pts = self._current()
        if len(pts) < 2:
            return ""
        try:
            value = self.canvas.measure_geometry(
                self.canvas.geometry_from_vertices("line", pts)).value
        except (ValueError, Exception):
            return ""
        return format_length(value)

    def completed(self, geom, event) -> None:
        m = self.canvas.measure_geometry(geom)
        self.last_value = m.value
        self.canvas.measured.emit(m.value, "distance")


class MeasureAreaTool(_VertexTool):
    name = "measure_area"
    kind = "polygon"

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self.last_value: float | None = None

    def live_text(self) -> str:
        pts = list(self.vertices or self.finished_geometry or [])
        if self.vertices and self.hover is not None:
            pts.append(self.hover)
        if len(pts) < 3:
            return ""
        try:
            value = self.canvas.measure_geometry(
                self.canvas.geometry_from_vertices("polygon", pts)).value
        except (ValueError, Exception):
            return ""
        return format_area(value)

    def completed(self, geom, event) -> None:
        m = self.canvas.measure_geometry(geom)
        self.last_value = m.value
        self.canvas.measured.emit(m.value, "area")


class SelectPolygonTool(_VertexTool):
    name = "select_polygon"
    kind = "polygon"
    color, fill = _SELECT, _SELECT_FILL

    def completed(self, geom, event) -> None:
        mods = event.modifiers() if event is not None else Qt.KeyboardModifier.NoModifier
        self.finished_geometry = None
        self.canvas.select_polygon(geom, selection_mode(mods))


class DrawPointTool(_ClickTool):
    name = "draw_point"
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self.point = None

    def reset(self) -> None:
        super().reset()
        self.point = None
        self.canvas.update()

    def clicked(self, event, xy) -> None:
        self.point = xy
        self.canvas.update()
        self.canvas.emit_drawn(self.canvas.geometry_from_vertices("point", [xy]))

    def key(self, event) -> bool:
        if event.key() == Qt.Key.Key_Escape and self.point is not None:
            self.reset()
            return True
        return False

    def paint(self, p: QPainter) -> None:
        if self.point is None:
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(_BAND, 2.0))
        p.setBrush(QBrush(_BAND_FILL))
        p.drawEllipse(self._screen(self.point), 6.0, 6.0)


class DrawLineTool(_VertexTool):
    name = "draw_line"
    kind = "line"

    def completed(self, geom, event) -> None:
        self.canvas.emit_drawn(geom)


class DrawPolygonTool(_VertexTool):
    name = "draw_polygon"
    kind = "polygon"

    def completed(self, geom, event) -> None:
        self.canvas.emit_drawn(geom)


#: Tool classes by the names ``MapCanvas.set_tool`` accepts.
TOOLS: dict[str, type[MapTool]] = {
    cls.name: cls
    for cls in (PanTool, IdentifyTool, SelectTool, SelectRectTool, SelectPolygonTool,
                MeasureLineTool, MeasureAreaTool, DrawPointTool, DrawLineTool, DrawPolygonTool)
}
