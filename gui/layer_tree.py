"""The layer tree: the workspace's layers grouped by department, with legends.

:class:`LayerTreeModel` is a ``QAbstractItemModel`` over a
:class:`~layers.registry.LayerRegistry`; :class:`LayerTreeWidget` shows it in a
``QTreeView`` with an opacity slider and a context menu.

Tree shape
----------
- top level: one row per department (title from :data:`spatial.schema.DEPARTMENTS` in
  the UI language), tri-state checkbox (show/hide all its layers);
- under it: the department's layers in drawing order (title from the layer's
  metadata), a checkbox bound to ``layer.visible`` and a legend swatch;
- under a categorised/graduated layer: one legend row per category/class; under a
  raster: one row with its colour ramp.

Order
-----
The registry keeps one flat drawing order (index 0 on top).  A department group
is listed at the position of its *topmost* layer (the order of
:meth:`LayerRegistry.by_department`), layers inside a group in drawing order.
Dragging a layer within its group moves it in the flat order to just above the
layer it is dropped on (or just below the group's last layer when dropped at the
end); a layer cannot be dropped into another department's group (change its
department in Properties).  Dragging a group moves all of its layers as one block
above the first layer of the group it is dropped on (or to the bottom).  Group
order always follows the flat order, so moving a department's topmost layer
down can move the group down.

The model follows the registry's events (added, removed, reordered, visibility,
style, changed) and writes visibility back to the layers; its own writes are
guarded so they are not echoed back (STYLE.md §4).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractItemModel,
    QByteArray,
    QCoreApplication,
    QMimeData,
    QModelIndex,
    QPointF,
    QRectF,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QLinearGradient, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QSlider,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from layers.style import (
    CategorizedStyle,
    GraduatedStyle,
    RasterStyle,
    SingleStyle,
    parse_color,
    ramp_colors,
)
from spatial.schema import DEPARTMENTS

from .icons import icon

_NO_PARENT = QModelIndex()  # the default "parent" argument of the model API

__all__ = [
    "KIND_ROLE",
    "MIME_TYPE",
    "NAME_ROLE",
    "LayerTreeModel",
    "LayerTreeWidget",
    "LegendEntry",
    "department_title",
    "layer_family",
    "legend_entries",
    "ramp_icon",
    "symbol_icon",
]

#: Item data role holding the layer name (layer and legend rows) or department code (groups).
NAME_ROLE = Qt.ItemDataRole.UserRole + 1
#: Item data role holding the row kind: ``"group"``, ``"layer"`` or ``"legend"``.
KIND_ROLE = Qt.ItemDataRole.UserRole + 2
#: Drag-and-drop payload type (JSON ``{"kind": "layer"|"group", "key": name}``).
MIME_TYPE = "application/x-cityframe-layer-tree"

SWATCH = 16


def department_title(code: str, lang: str = "en") -> str:
    """A department's name in ``lang`` (``"zh"``/``"en"``), the code when unknown."""
    names = DEPARTMENTS.get(code)
    if not names:
        return code
    return names["zh"] if lang.startswith("zh") else names["en"]


# ----------------------------------------------------------------------------- legend
@dataclass
class LegendEntry:
    """One legend line: a label and either a symbol or a colour ramp."""

    label: str
    symbol: SingleStyle | None = None
    ramp: list[str] | None = None


def layer_family(layer) -> str | None:
    """``"point"``, ``"line"`` or ``"polygon"`` for a vector layer (from its cached
    geometry type), ``"raster"`` for a raster, ``None`` for a table."""
    if layer.kind == "raster":
        return "raster"
    gtype = getattr(layer, "geometry_type", None)
    if gtype is None:
        return None
    if "Point" in gtype:
        return "point"
    if "LineString" in gtype:
        return "line"
    return "polygon"


def _number(v: float) -> str:
    return f"{v:,.6g}" if abs(v) < 1e15 else f"{v:.3g}"


def legend_entries(style) -> list[LegendEntry]:
    """The legend lines of a style (one for a single symbol, one per category plus
    "Other" for a categorised style, one per class for a graduated style, one ramp
    for a raster style); ``[]`` for ``None``."""
    if style is None:
        return []
    if isinstance(style, SingleStyle):
        return [LegendEntry("", style)]
    if isinstance(style, CategorizedStyle):
        out = [LegendEntry(str(value), sym) for value, sym in style.categories.items()]
        out.append(LegendEntry(QCoreApplication.translate("LayerTree", "Other"), style.default))
        return out
    if isinstance(style, GraduatedStyle):
        out = []
        for i, (brk, color) in enumerate(zip(style.breaks, style.colors)):
            label = (QCoreApplication.translate("LayerTree", "≤ {0}").replace("{0}", _number(brk))
                     if i == 0 else
                     f"{_number(style.breaks[i - 1])} – {_number(brk)}")
            out.append(LegendEntry(label, SingleStyle(fill=color, stroke=style.stroke,
                                                      stroke_width=style.stroke_width,
                                                      point_size=style.point_size)))
        return out
    if isinstance(style, RasterStyle):
        if style.vmin is not None and style.vmax is not None:
            label = f"{_number(style.vmin)} – {_number(style.vmax)}"
        else:
            label = QCoreApplication.translate("LayerTree", "low – high")
        return [LegendEntry(label, ramp=ramp_colors(style.ramp, 16))]
    return []


def _qcolor(color: str) -> QColor:
    r, g, b, a = parse_color(color)
    return QColor(r, g, b, a)


def symbol_image(symbol: SingleStyle, family: str | None = "polygon", size: int = SWATCH) -> QImage:
    """A ``size``×``size`` swatch of one symbol: a filled square with its outline
    (polygons), a horizontal stroke (lines) or a circle (points).  The centre pixel
    is the fill colour (the stroke colour for lines)."""
    img = QImage(size, size, QImage.Format.Format_ARGB32)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, family == "point")
        stroke = _qcolor(symbol.stroke)
        if family == "line":
            pen = QPen(stroke, max(1.0, min(symbol.stroke_width, size / 3)))
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            p.setPen(pen)
            p.drawLine(QPointF(1, size / 2), QPointF(size - 1, size / 2))
        elif family == "point":
            d = max(6.0, min(symbol.point_size, size - 2.0))
            p.setPen(QPen(stroke, max(0.0, min(symbol.stroke_width, 2.0))) if symbol.stroke_width
                     else Qt.PenStyle.NoPen)
            p.setBrush(QBrush(_qcolor(symbol.fill)))
            p.drawEllipse(QRectF((size - d) / 2, (size - d) / 2, d, d))
        else:
            p.fillRect(QRectF(1, 1, size - 2, size - 2), _qcolor(symbol.fill))
            if symbol.stroke_width > 0:
                pen = QPen(stroke, 1.0)
                pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
                p.setPen(pen)
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(QRectF(1.5, 1.5, size - 3, size - 3))
    finally:
        p.end()
    return img


def symbol_icon(symbol: SingleStyle, family: str | None = "polygon", size: int = SWATCH) -> QIcon:
    """:func:`symbol_image` as an icon."""
    return QIcon(QPixmap.fromImage(symbol_image(symbol, family, size)))


def ramp_image(colors: list[str], width: int = SWATCH, height: int = SWATCH) -> QImage:
    """A left-to-right gradient through ``colors``."""
    img = QImage(width, height, QImage.Format.Format_ARGB32)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    try:
        grad = QLinearGradient(QPointF(1, 0), QPointF(width - 1, 0))
        n = max(1, len(colors) - 1)
        for i, c in enumerate(colors):
            grad.setColorAt(i / n, _qcolor(c))
        p.fillRect(QRectF(1, 2, width - 2, height - 4), QBrush(grad))
    finally:
        p.end()
    return img


def ramp_icon(colors: list[str], width: int = SWATCH, height: int = SWATCH) -> QIcon:
    """:func:`ramp_image` as an icon."""
    return QIcon(QPixmap.fromImage(ramp_image(colors, width, height)))


def _multi_icon(symbols: list[SingleStyle]) -> QIcon:
    """A 2×2 mosaic of the first four class colours (the row of a classified layer)."""
    img = QImage(SWATCH, SWATCH, QImage.Format.Format_ARGB32)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    try:
        half = SWATCH // 2
        for i, sym in enumerate(symbols[:4]):
            x, y = (i % 2) * half, (i // 2) * half
            fill = sym.fill if parse_color(sym.fill)[3] else sym.stroke
            p.fillRect(QRectF(x + 1, y + 1, half - 1, half - 1), _qcolor(fill))
    finally:
        p.end()
    return QIcon(QPixmap.fromImage(img))


def entry_icon(entry: LegendEntry, family: str | None) -> QIcon:
    """The swatch of one legend line."""
    if entry.ramp is not None:
        return ramp_icon(entry.ramp)
    return symbol_icon(entry.symbol, family)


# ----------------------------------------------------------------------------- model
class _Node:
    __slots__ = ("__weakref__", "children", "icon", "key", "kind", "label", "parent", "row")

    def __init__(self, kind: str, key, parent: _Node | None) -> None:
        self.kind = kind
        self.key = key
        self.parent = parent
        self.children: list[_Node] = []
        self.row = 0
        self.label = ""
        self.icon: QIcon | None = None
        if parent is not None:
            self.row = len(parent.children)
            parent.children.append(self)


class LayerTreeModel(QAbstractItemModel):
    """Departments → layers → legend rows over a :class:`LayerRegistry`.

    Parameters
    ----------
    registry : LayerRegistry or None
    lang : {"en", "zh"}
        Language of the department and layer titles.

    Roles: ``DisplayRole`` (title), ``CheckStateRole`` (visibility; groups are
    tri-state), ``DecorationRole`` (legend swatch), ``ToolTipRole``,
    :data:`NAME_ROLE` (layer name or department code), :data:`KIND_ROLE`.
    """

    def __init__(self, registry=None, lang: str = "en", parent=None) -> None:
        super().__init__(parent)
        self._registry = None
        self._lang = lang
        self._root = _Node("root", None, None)
        self._retired: list[_Node] = []  # keep old nodes alive until the view lets go
        self._layer_nodes: dict[str, _Node] = {}
        self._group_nodes: dict[str, _Node] = {}
        self._writing = False  # our own write to a layer is in progress (no echo)
        self._batch = False  # several registry moves in a row: rebuild once
        #: Visibility and order edits go through this QUndoStack when set.
        self.undo_stack = None
        self.set_registry(registry)

    # -- binding
    @property
    def registry(self):
        return self._registry

    def set_registry(self, registry) -> None:
        """Follow ``registry`` (or nothing with ``None``), dropping the previous one."""
        if self._registry is not None:
            ev = self._registry.events
            for signal, slot in self._slots():
                getattr(ev, signal).disconnect(slot, missing_ok=True)
        self._registry = registry
        if registry is not None:
            ev = registry.events
            for signal, slot in self._slots():
                getattr(ev, signal).connect(slot)
        self.rebuild()

    def _slots(self):
        return (("added", self._on_structure), ("removed", self._on_structure),
                ("reordered", self._on_structure), ("visibility", self._on_visibility),
                ("style", self._on_style), ("changed", self._on_changed))

    @property
    def lang(self) -> str:
        return self._lang

    def set_language(self, lang: str) -> None:
        """Show titles in ``lang`` (``"en"`` or ``"zh"``)."""
        if lang != self._lang:
            self._lang = lang
            self.rebuild()

    # -- building
    def rebuild(self) -> None:
        """Rebuild the whole tree from the registry (a model reset)."""
        self.beginResetModel()
        self._retired = [self._root]
        self._root = _Node("root", None, None)
        self._layer_nodes.clear()
        self._group_nodes.clear()
        if self._registry is not None:
            for dept, layers in self._registry.by_department().items():
                g = _Node("group", dept, self._root)
                g.label = department_title(dept, self._lang)
                self._group_nodes[dept] = g
                for layer in layers:
                    node = _Node("layer", layer.name, g)
                    self._layer_nodes[layer.name] = node
                    self._fill_layer(node, layer)
        self.endResetModel()

    def _fill_layer(self, node: _Node, layer) -> None:
        node.label = layer.metadata.title(self._lang) or layer.name
        node.children = []
        family = layer_family(layer)
        entries = legend_entries(layer.style)
        node.icon = None
        if isinstance(layer.style, SingleStyle):
            node.icon = symbol_icon(layer.style, family)
        elif isinstance(layer.style, RasterStyle):
            node.icon = ramp_icon(entries[0].ramp)
            leaf = _Node("legend", (layer.name, 0), node)
            leaf.label, leaf.icon = entries[0].label, entry_icon(entries[0], family)
        elif entries:
            node.icon = _multi_icon([e.symbol for e in entries])
            for i, e in enumerate(entries):
                leaf = _Node("legend", (layer.name, i), node)
                leaf.label, leaf.icon = e.label, entry_icon(e, family)

    # -- lookups
    def _node(self, index: QModelIndex) -> _Node:
        if index.isValid():
            node = index.internalPointer()
            if isinstance(node, _Node):
                return node
        return self._root

    def _index_of(self, node: _Node, column: int = 0) -> QModelIndex:
        if node is None or node is self._root or node.parent is None:
            return QModelIndex()
        return self.createIndex(node.row, column, node)

    def layer_index(self, name: str) -> QModelIndex:
        """The index of layer ``name`` (invalid if absent)."""
        node = self._layer_nodes.get(name)
        return self._index_of(node) if node is not None else QModelIndex()

    def group_index(self, department: str) -> QModelIndex:
        """The index of a department's group (invalid if absent)."""
        node = self._group_nodes.get(department)
        return self._index_of(node) if node is not None else QModelIndex()

    def layer_name(self, index: QModelIndex) -> str | None:
        """The layer of a layer or legend row, ``None`` for a group or nothing."""
        node = self._node(index)
        if node.kind == "layer":
            return node.key
        if node.kind == "legend":
            return node.key[0]
        return None

    def groups(self) -> list[str]:
        """Department codes in the order shown."""
        return [g.key for g in self._root.children]

    def layers_in(self, department: str) -> list[str]:
        """Layer names of a group in the order shown."""
        g = self._group_nodes.get(department)
        return [c.key for c in g.children] if g is not None else []

    # -- Qt model API
    def index(self, row: int, column: int = 0, parent: QModelIndex = _NO_PARENT) -> QModelIndex:
        node = self._node(parent)
        if column != 0 or not 0 <= row < len(node.children):
            return QModelIndex()
        return self.createIndex(row, column, node.children[row])

    def parent(self, index: QModelIndex | None = None):
        if index is None:
            return super().parent()
        if not index.isValid():
            return QModelIndex()
        return self._index_of(self._node(index).parent)

    def rowCount(self, parent: QModelIndex = _NO_PARENT) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent: QModelIndex = _NO_PARENT) -> int:
        return 1

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        node = self._node(index)
        F = Qt.ItemFlag
        if node.kind == "group":
            return (F.ItemIsEnabled | F.ItemIsSelectable | F.ItemIsUserCheckable
                    | F.ItemIsDragEnabled | F.ItemIsDropEnabled)
        if node.kind == "layer":
            return (F.ItemIsEnabled | F.ItemIsSelectable | F.ItemIsUserCheckable
                    | F.ItemIsDragEnabled | F.ItemIsDropEnabled)
        if node.kind == "legend":
            return F.ItemIsEnabled | F.ItemIsSelectable
        return F.ItemIsDropEnabled

    def _group_state(self, node: _Node) -> Qt.CheckState:
        vis = [self._registry[c.key].visible for c in node.children if c.key in self._registry]
        if vis and all(vis):
            return Qt.CheckState.Checked
        if any(vis):
            return Qt.CheckState.PartiallyChecked
        return Qt.CheckState.Unchecked

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        node = self._node(index)
        R = Qt.ItemDataRole
        if role == R.DisplayRole:
            return node.label
        if role == NAME_ROLE:
            return node.key if node.kind != "legend" else node.key[0]
        if role == KIND_ROLE:
            return node.kind
        if role == R.DecorationRole:
            return node.icon
        if node.kind == "group":
            if role == R.CheckStateRole:
                return self._group_state(node)
            if role == R.ToolTipRole:
                return f"{node.label} ({node.key})"
            return None
        if node.kind == "layer":
            layer = self._registry.get(node.key)
            if layer is None:
                return None
            if role == R.CheckStateRole:
                return Qt.CheckState.Checked if layer.visible else Qt.CheckState.Unchecked
            if role == R.ToolTipRole:
                return self._tooltip(layer)
            if role == R.ForegroundRole and not layer.visible:
                return QBrush(QColor("#808080"))
        return None

    def _tooltip(self, layer) -> str:
        m = layer.metadata
        lines = [f"<b>{m.title(self._lang) or layer.name}</b> ({layer.name})",
                 self.tr("Department: {0}").replace("{0}", department_title(m.department,
                                                                             self._lang)),
                 self.tr("Classification: {0}").replace("{0}", m.classification)]
        if layer.kind in ("vector", "table"):
            lines.append(self.tr("Features: {0}").replace("{0}", f"{layer.feature_count:,}"))
        lines.append(self.tr("Opacity: {0}%").replace("{0}", str(round(layer.opacity * 100))))
        if layer.missing:
            lines.append(self.tr("The data file is missing."))
        return "<br>".join(lines)

    def setData(self, index: QModelIndex, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid():
            return False
        node = self._node(index)
        checked = Qt.CheckState(value) != Qt.CheckState.Unchecked
        if node.kind == "layer":
            names = [node.key]
        elif node.kind == "group":
            names = [c.key for c in node.children]
        else:
            return False
        from . import undo

        layers = [self._registry[name] for name in names if name in self._registry]
        with self._writing_guard():
            undo.set_visible(self.undo_stack, layers, checked, self._lang,
                             group_title=node.label if node.kind == "group" else "")
        for name in names:
            self._visibility_changed(name)
        return True

    @contextmanager
    def _writing_guard(self):
        old, self._writing = self._writing, True
        try:
            yield
        finally:
            self._writing = old

    # -- registry events
    def _on_structure(self, *args) -> None:
        if not self._batch:
            self.rebuild()

    def _on_changed(self, layer, what: str) -> None:
        if what in ("name", "metadata"):
            if not self._batch:
                self.rebuild()
            return
        idx = self.layer_index(layer.name)
        if idx.isValid():
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.ToolTipRole])

    def _on_visibility(self, layer, visible: bool) -> None:
        if not self._writing:
            self._visibility_changed(layer.name)

    def _visibility_changed(self, name: str) -> None:
        node = self._layer_nodes.get(name)
        if node is None:
            return
        roles = [Qt.ItemDataRole.CheckStateRole, Qt.ItemDataRole.ForegroundRole]
        idx = self._index_of(node)
        self.dataChanged.emit(idx, idx, roles)
        gidx = self._index_of(node.parent)
        self.dataChanged.emit(gidx, gidx, roles)

    def _on_style(self, layer) -> None:
        node = self._layer_nodes.get(layer.name)
        if node is None:
            return
        idx = self._index_of(node)
        if node.children:
            self.beginRemoveRows(idx, 0, len(node.children) - 1)
            self._retired.append(node.children)
            node.children = []
            self.endRemoveRows()
        holder = _Node("root", None, None)  # build aside, then insert
        self._fill_layer(holder, layer)
        node.icon = holder.icon
        if holder.children:
            self.beginInsertRows(idx, 0, len(holder.children) - 1)
            for child in holder.children:
                child.parent = node
            node.children = holder.children
            self.endInsertRows()
        self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])

    # -- drag and drop
    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [MIME_TYPE]

    def mimeData(self, indexes) -> QMimeData:
        for index in indexes:
            node = self._node(index)
            if node.kind in ("group", "layer"):
                data = QMimeData()
                payload = json.dumps({"kind": node.kind, "key": node.key}).encode("utf-8")
                data.setData(MIME_TYPE, QByteArray(payload))
                return data
        return QMimeData()

    @staticmethod
    def _payload(data: QMimeData) -> dict | None:
        if data is None or not data.hasFormat(MIME_TYPE):
            return None
        try:
            payload = json.loads(bytes(data.data(MIME_TYPE).data()).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(payload, dict) or payload.get("kind") not in ("layer", "group"):
            return None
        return payload

    def canDropMimeData(self, data, action, row, column, parent) -> bool:
        payload = self._payload(data)
        return payload is not None and self._plan_drop(payload, row, parent) is not None

    def dropMimeData(self, data, action, row, column, parent) -> bool:
        if action == Qt.DropAction.IgnoreAction:
            return True
        payload = self._payload(data)
        if payload is None:
            return False
        order = self._plan_drop(payload, row, parent)
        if order is None:
            return False
        self.apply_order(order)
        return True

    def apply_order(self, order: list[str]) -> None:
        """Reorder the registry to ``order`` (all its names) as one undo step
        (through :attr:`undo_stack` when set), rebuilding the tree once."""
        from . import undo

        reg = self._registry
        if sorted(order) != sorted(reg.names()):
            raise ValueError("apply_order needs every layer name exactly once")
        undo.reorder(self.undo_stack, reg, list(order), self._apply_order_now)

    def _apply_order_now(self, order: list[str]) -> None:
        reg = self._registry
        if reg is None or order == reg.names():
            return
        self._batch = True
        try:
            for i, name in enumerate(order):
                if reg.index(name) != i:
                    reg.move(name, i)
        finally:
            self._batch = False
        self.rebuild()

    def _plan_drop(self, payload: dict, row: int, parent: QModelIndex) -> list[str] | None:
        """The new flat order for a drop, or ``None`` when the drop is not allowed."""
        reg = self._registry
        if reg is None:
            return None
        key = payload.get("key")
        target = self._node(parent)
        names = reg.names()
        if payload["kind"] == "layer":
            if key not in reg:
                return None
            if target.kind == "layer":  # dropped onto a layer: just above it
                row, target = target.row, target.parent
            if target.kind != "group" or target.key != reg[key].department:
                return None
            siblings = [c.key for c in target.children]
            if key not in siblings:
                return None
            if row < 0 or row > len(siblings):
                row = len(siblings)
            old = siblings.index(key)
            remaining = [s for s in siblings if s != key]
            if not remaining:
                return None
            p = row - 1 if row > old else row
            flat = [n for n in names if n != key]
            pos = (flat.index(remaining[p]) if p < len(remaining)
                   else flat.index(remaining[-1]) + 1)
            flat.insert(pos, key)
            return flat
        # a whole department
        groups = self.groups()
        if key not in groups:
            return None
        if target.kind == "group":  # dropped onto a group: just above it
            row, target = target.row, target.parent
        if target is not self._root:
            return None
        if row < 0 or row > len(groups):
            row = len(groups)
        old = groups.index(key)
        remaining = [g for g in groups if g != key]
        p = row - 1 if row > old else row
        block = [n for n in names if reg[n].department == key]
        flat = [n for n in names if reg[n].department != key]
        if p < len(remaining):
            first = next(n for n in flat if reg[n].department == remaining[p])
            pos = flat.index(first)
        else:
            pos = len(flat)
        flat[pos:pos] = block
        return flat

    def move_layer(self, name: str, row: int) -> bool:
        """Move layer ``name`` to ``row`` within its group (as a drop there would)."""
        dept = self._registry[name].department
        data = self.mimeData([self.layer_index(name)])
        return self.dropMimeData(data, Qt.DropAction.MoveAction, row, 0, self.group_index(dept))

    def can_move(self, name: str, step: int) -> bool:
        """Whether layer ``name`` can move ``step`` (-1 up, +1 down) within its group."""
        siblings = self.layers_in(self._registry[name].department) if self._registry else []
        if name not in siblings:
            return False
        row = siblings.index(name) + step
        return 0 <= row < len(siblings)

    def move_by(self, name: str, step: int) -> bool:
        """Move layer ``name`` one place up (``-1``) or down (``+1``) in its group."""
        if not self.can_move(name, step):
            return False
        row = self.layers_in(self._registry[name].department).index(name)
        return self.move_layer(name, row - 1 if step < 0 else row + 2)


# ----------------------------------------------------------------------------- widget
class LayerTreeWidget(QWidget):
    """The Layers panel: department tree, opacity slider and context menu.

    Parameters
    ----------
    workspace_registry : Workspace or LayerRegistry
        With a Workspace, "Remove layer" goes through ``workspace.remove_layer`` and
        "Add layer…" opens the :class:`~gui.import_dialog.ImportDialog`; with a bare
        registry "Add layer…" emits :attr:`addLayerRequested`.
    lang : {"en", "zh"}
    undo_stack : QUndoStack, optional
        Style changes are pushed here (the main window's Edit ▸ Undo).

    Signals
    -------
    zoomToLayer(str)
        "Zoom to layer" on a layer (its name).
    openAttributes(str)
        "Open attribute table" on a vector or table layer (its name).
    addLayerRequested()
        "Add layer…" when the widget has no workspace.
    layersImported(list)
        Names of layers added through the import dialog.

    The tree's current layer is kept in step with ``registry.active`` both ways.
    """

    zoomToLayer = Signal(str)
    openAttributes = Signal(str)
    addLayerRequested = Signal()
    layersImported = Signal(list)

    def __init__(self, workspace_registry=None, lang: str = "en", undo_stack=None,
                 parent=None) -> None:
        super().__init__(parent)
        self.workspace = None
        self.registry = None
        self._syncing = False
        self._collapsed: set = set()
        self._dialogs: list = []

        self.model = LayerTreeModel(None, lang, self)
        self.undo_stack = undo_stack
        self.view = QTreeView(self)
        self.view.setObjectName("layerTreeView")
        self.view.setHeaderHidden(True)
        self.view.setModel(self.model)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.view.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.view.setDragEnabled(True)
        self.view.setAcceptDrops(True)
        self.view.setDropIndicatorShown(True)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._show_menu)
        self.view.doubleClicked.connect(self._on_double_click)
        self.view.collapsed.connect(lambda i: self._collapsed.add(self._key(i)))
        self.view.expanded.connect(lambda i: self._collapsed.discard(self._key(i)))
        self.view.selectionModel().currentChanged.connect(self._on_current_changed)
        self.model.modelReset.connect(self._after_reset)
        self.model.rowsInserted.connect(self._after_rows_inserted)

        self.opacity_label = QLabel(self.tr("Opacity"))
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setObjectName("opacitySlider")
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setToolTip(self.tr("Opacity of the selected layer"))
        self.opacity_value = QLabel("")
        self.opacity_value.setMinimumWidth(40)
        self.opacity_slider.valueChanged.connect(self._on_slider)
        row = QHBoxLayout()
        row.setContentsMargins(4, 0, 4, 0)
        row.addWidget(self.opacity_label)
        row.addWidget(self.opacity_slider, 1)
        row.addWidget(self.opacity_value)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.view, 1)
        layout.addLayout(row)

        self.set_workspace(workspace_registry)

    @property
    def undo_stack(self):
        """The ``QUndoStack`` edits go to (visibility, order, opacity, style,
        properties, remove, add); ``None`` makes them directly, not undoable."""
        return self.model.undo_stack

    @undo_stack.setter
    def undo_stack(self, stack) -> None:
        self.model.undo_stack = stack

    # -- binding
    def set_workspace(self, workspace_registry) -> None:
        """Show another Workspace or LayerRegistry (``None`` for nothing)."""
        if self.registry is not None:
            self.registry.events.active.disconnect(self._on_active, missing_ok=True)
            self.registry.events.changed.disconnect(self._on_layer_changed, missing_ok=True)
        registry = getattr(workspace_registry, "registry", workspace_registry)
        self.workspace = workspace_registry if registry is not workspace_registry else None
        self.registry = registry
        self._collapsed.clear()
        self.model.set_registry(registry)
        if registry is not None:
            registry.events.active.connect(self._on_active)
            registry.events.changed.connect(self._on_layer_changed)
            if registry.active is not None:
                self._on_active(registry.active)
        self._update_opacity_controls()

    def set_language(self, lang: str) -> None:
        """Retitle departments and layers in ``lang``."""
        self.model.set_language(lang)

    @property
    def lang(self) -> str:
        return self.model.lang

    def current_layer(self):
        """The layer of the current row (a legend row counts as its layer), or ``None``."""
        name = self.model.layer_name(self.view.currentIndex())
        return self.registry.get(name) if name and self.registry is not None else None

    def select_layer(self, name: str) -> None:
        """Make layer ``name`` the current row (and the registry's active layer)."""
        idx = self.model.layer_index(name)
        if idx.isValid():
            self.view.setCurrentIndex(idx)

    # -- view state across model resets
    def _key(self, index: QModelIndex):
        kind = index.data(KIND_ROLE)
        return (kind, index.data(NAME_ROLE))

    def _after_reset(self) -> None:
        self._expand_all()
        active = self.registry.active if self.registry is not None else None
        if active is not None:
            self._on_active(active)
        self._update_opacity_controls()

    def _expand_all(self) -> None:
        m = self.model
        for g in range(m.rowCount()):
            gidx = m.index(g, 0)
            if ("group", gidx.data(NAME_ROLE)) not in self._collapsed:
                self.view.expand(gidx)
            for r in range(m.rowCount(gidx)):
                lidx = m.index(r, 0, gidx)
                key = ("layer", lidx.data(NAME_ROLE))
                if key not in self._collapsed and m.rowCount(lidx) <= 12:
                    self.view.expand(lidx)

    def _after_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        if parent.data(KIND_ROLE) == "layer":
            key = ("layer", parent.data(NAME_ROLE))
            if key not in self._collapsed and self.model.rowCount(parent) <= 12:
                self.view.expand(parent)

    # -- current layer <-> registry.active
    def _on_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        self._update_opacity_controls()
        if self._syncing or self.registry is None:
            return
        name = self.model.layer_name(current)
        if name is not None and name in self.registry:
            self._syncing = True
            try:
                self.registry.active = name
            finally:
                self._syncing = False

    def _on_active(self, layer) -> None:
        if self._syncing or layer is None:
            return
        idx = self.model.layer_index(layer.name)
        if idx.isValid() and self.model.layer_name(self.view.currentIndex()) != layer.name:
            self._syncing = True
            try:
                self.view.setCurrentIndex(idx)
            finally:
                self._syncing = False

    # -- opacity
    def _update_opacity_controls(self) -> None:
        layer = self.current_layer()
        enabled = layer is not None and layer.kind != "table"
        for w in (self.opacity_slider, self.opacity_label, self.opacity_value):
            w.setEnabled(enabled)
        value = round(layer.opacity * 100) if layer is not None else 100
        self.opacity_slider.blockSignals(True)  # model -> widget: no echo back
        self.opacity_slider.setValue(value)
        self.opacity_slider.blockSignals(False)
        self.opacity_value.setText(f"{value}%" if layer is not None else "")

    def _on_slider(self, value: int) -> None:
        from . import undo

        layer = self.current_layer()
        self.opacity_value.setText(f"{value}%")
        if layer is None or abs(layer.opacity - value / 100.0) < 1e-9:
            return
        self._syncing = True
        try:  # one undo step per drag: quick successive steps merge
            undo.set_property(self.undo_stack, layer, "opacity", value / 100.0, self.lang)
        finally:
            self._syncing = False

    def _on_layer_changed(self, layer, what: str) -> None:
        if what == "opacity" and not self._syncing and layer is self.current_layer():
            self._update_opacity_controls()

    # -- actions
    def _on_double_click(self, index: QModelIndex) -> None:
        name = self.model.layer_name(index)
        if name is not None and index.data(KIND_ROLE) == "layer":
            self.open_properties(name)

    def _show_menu(self, pos) -> None:
        menu = self.build_menu(self.view.indexAt(pos))
        menu.exec(self.view.viewport().mapToGlobal(pos))

    def build_menu(self, index: QModelIndex) -> QMenu:
        """The context menu for ``index`` (a layer, a group or empty space)."""
        menu = QMenu(self)
        kind = index.data(KIND_ROLE) if index.isValid() else None
        name = self.model.layer_name(index)
        if name is not None and self.registry is not None and name in self.registry:
            layer = self.registry[name]
            a = menu.addAction(icon("zoom_layer"), self.tr("Zoom to layer"),
                               lambda: self.zoomToLayer.emit(name))
            a.setEnabled(layer.kind != "table" and layer.bounds is not None)
            a = menu.addAction(icon("table"), self.tr("Open attribute table"),
                               lambda: self.openAttributes.emit(name))
            a.setEnabled(layer.kind in ("vector", "table"))
            a = menu.addAction(icon("style"), self.tr("Style…"),
                               lambda: self.open_style_editor(name))
            a.setEnabled(layer.style is not None)
            menu.addAction(self.tr("Properties…"), lambda: self.open_properties(name))
            menu.addSeparator()
            a = menu.addAction(icon("move_up"), self.tr("Move up"),
                               lambda: self.model.move_by(name, -1))
            a.setEnabled(self.model.can_move(name, -1))
            a = menu.addAction(icon("move_down"), self.tr("Move down"),
                               lambda: self.model.move_by(name, +1))
            a.setEnabled(self.model.can_move(name, +1))
            menu.addSeparator()
            menu.addAction(icon("remove_layer"), self.tr("Remove layer…"),
                           lambda: self.remove_layer(name))
        elif kind == "group":
            dept = index.data(NAME_ROLE)
            menu.addAction(self.tr("Show all"), lambda: self._set_group_visible(dept, True))
            menu.addAction(self.tr("Hide all"), lambda: self._set_group_visible(dept, False))
        menu.addSeparator()
        menu.addAction(icon("add_layer"), self.tr("Add layer…"), self.add_layer)
        return menu

    def _set_group_visible(self, dept: str, visible: bool) -> None:
        idx = self.model.group_index(dept)
        state = Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked
        self.model.setData(idx, state, Qt.ItemDataRole.CheckStateRole)

    def open_style_editor(self, name: str):
        """Open the style editor of layer ``name`` (window-modal); return the dialog."""
        from .style_editor import StyleEditor

        dlg = StyleEditor(self.registry[name], self, undo_stack=self.undo_stack,
                          lang=self.lang)
        return self._open(dlg)

    def open_properties(self, name: str):
        """Open the properties dialog of layer ``name`` (window-modal); return it."""
        from .layer_properties import LayerProperties

        return self._open(LayerProperties(self.registry[name], self, lang=self.lang,
                                          undo_stack=self.undo_stack))

    def _open(self, dlg):
        self._dialogs.append(dlg)
        dlg.finished.connect(lambda _r, d=dlg: self._dialogs.remove(d)
                             if d in self._dialogs else None)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dlg.open()
        return dlg

    def add_layer(self):
        """"Add layer…": the import dialog (with a workspace), else :attr:`addLayerRequested`."""
        if self.workspace is None:
            self.addLayerRequested.emit()
            return None
        from .import_dialog import ImportDialog

        dlg = ImportDialog(self.workspace, self, lang=self.lang)
        dlg.imported.connect(self._on_imported)
        return self._open(dlg)

    def _on_imported(self, names: list) -> None:
        """Layers added by the import dialog: one undo step (undo removes them)."""
        from . import undo

        undo.add_layers(self.undo_stack, self.workspace, names, self.lang)
        self.layersImported.emit(list(names))

    def confirm_remove(self, name: str) -> bool:
        """Ask before removing a layer (tests replace this)."""
        layer = self.registry[name]
        title = layer.metadata.title(self.lang) or name
        answer = QMessageBox.question(
            self, self.tr("Remove layer"),
            self.tr("Remove the layer “{0}” from the workspace? The change is saved only "
                    "when you save the workspace.").replace("{0}", title))
        return answer == QMessageBox.StandardButton.Yes

    def remove_layer(self, name: str, confirm: bool = True) -> bool:
        """Remove layer ``name`` (asking first when ``confirm``); return whether it was."""
        if self.registry is None or name not in self.registry:
            return False
        if confirm and not self.confirm_remove(name):
            return False
        from . import undo

        owner = self.workspace if self.workspace is not None else self.registry
        undo.remove_layer(self.undo_stack, owner, name, self.lang)
        return True
