"""The query builder: a form generated from the query model and the workspace catalog.

The form writes a version-1 query document (DESIGN.md, "The query file"):
target layer (or ``query:NAME``), attribute filters (an AND list with OR
groups; each value editor follows the column kind and the operator), a
spatial relation (kind, layer, distance in metres, ``k`` and maximum distance
for ``nearest``, reference filters), grouping by a zone layer and aggregates.
Every change is checked with :func:`~spatial.query.model.parse_query` against
the catalog: a valid query is previewed as one plain sentence in the UI
language, an invalid one shows the model's message (JSON key and reason) and
disables Run.  Run executes :meth:`QueryEngine.run` in a
:class:`~gui.workers.Worker` (progress bar, Cancel really stops it) and emits
``resultReady((query, result))``.

One :class:`EngineHolder` per workspace keeps one ``QueryEngine`` (its caches
are what make repeated queries fast) and the catalog, and follows the layer
registry's events.  The session's history lives there too, so a builder made
again (e.g. after a language switch) shows it.
"""

from __future__ import annotations

import json
import os
import re
import time
import weakref
from pathlib import Path

import shiboken6
from PySide6.QtCore import QCoreApplication, QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from spatial.query.engine import QueryEngine
from spatial.query.model import (
    AGGREGATE_FNS,
    OPS,
    QUERY_PREFIX,
    RELATION_KINDS,
    QueryError,
    catalog_from_frames,
    parse_query,
    query_to_dict,
    resolve_saved,
)
from spatial.query.sentence import sentence

from .workers import CancellableRun, start_worker

__all__ = ["MAX_CHOICES", "EngineHolder", "QueryBuilder", "engine_holder", "ops_for_kind",
]

#: Text columns with at most this many distinct values get a value picker.
MAX_CHOICES = 50
NULL_OPS = ("is_null", "not_null")
LIST_OPS = ("in", "not_in")
DISTANCE_KINDS = ("within_distance", "beyond_distance")
NUMERIC = ("int", "float")
_ORDER = ("<", "<=", ">", ">=")
_MAX_DISTANCE_ROW = 4  # row of the relation form that holds the maximum distance


def ops_for_kind(kind: str | None) -> tuple[str, ...]:
    """The operators the form offers for a column kind (all are valid in the model)."""
    if kind in NUMERIC:
        return ("=", "!=", *_ORDER, "between", "in", "not_in", *NULL_OPS)
    if kind == "str":
        return ("=", "!=", "in", "not_in", "contains", *_ORDER, "between", *NULL_OPS)
    if kind == "bool":
        return ("=", "!=", *NULL_OPS)
    if kind == "datetime":
        return ("=", "!=", *_ORDER, "between", *NULL_OPS)
    return OPS


def op_label(op: str) -> str:
    labels = {
        "=": QCoreApplication.translate("QueryBuilder", "is"),
        "!=": QCoreApplication.translate("QueryBuilder", "is not"),
        "<": QCoreApplication.translate("QueryBuilder", "less than"),
        "<=": QCoreApplication.translate("QueryBuilder", "at most"),
        ">": QCoreApplication.translate("QueryBuilder", "more than"),
        ">=": QCoreApplication.translate("QueryBuilder", "at least"),
        "in": QCoreApplication.translate("QueryBuilder", "is one of"),
        "not_in": QCoreApplication.translate("QueryBuilder", "is none of"),
        "between": QCoreApplication.translate("QueryBuilder", "between"),
        "contains": QCoreApplication.translate("QueryBuilder", "contains"),
        "is_null": QCoreApplication.translate("QueryBuilder", "is empty"),
        "not_null": QCoreApplication.translate("QueryBuilder", "is not empty"),
    }
    return labels.get(op, op)


def relation_label(kind: str) -> str:
    labels = {
        "intersects": QCoreApplication.translate("QueryBuilder", "intersects"),
        "within": QCoreApplication.translate("QueryBuilder", "lies within"),
        "contains": QCoreApplication.translate("QueryBuilder", "contains"),
        "within_distance": QCoreApplication.translate("QueryBuilder", "within a distance of"),
        "beyond_distance": QCoreApplication.translate("QueryBuilder",
                                                      "farther than a distance from every"),
        "nearest": QCoreApplication.translate("QueryBuilder", "nearest"),
    }
    return labels.get(kind, kind)


def aggregate_label(fn: str) -> str:
    labels = {
        "count": QCoreApplication.translate("QueryBuilder", "count"),
        "sum": QCoreApplication.translate("QueryBuilder", "sum"),
        "mean": QCoreApplication.translate("QueryBuilder", "mean"),
        "min": QCoreApplication.translate("QueryBuilder", "minimum"),
        "max": QCoreApplication.translate("QueryBuilder", "maximum"),
    }
    return labels.get(fn, fn)


def _number(v: float) -> int | float:
    """A spin box value as it reads in JSON: whole numbers without ``.0``."""
    v = float(v)
    return int(v) if v.is_integer() and abs(v) < 2**53 else v


def _compact(combo: QComboBox, chars: int = 8) -> QComboBox:
    """Let a combo box shrink to a few characters (the dock may be narrow)."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(chars)
    return combo


def _lang(lang: str) -> str:
    return "zh" if str(lang).lower().startswith("zh") else "en"


# =========================================================================== engine

def default_engine(workspace) -> QueryEngine:
    """A QueryEngine over the workspace's layers and saved queries (by reference)."""
    return QueryEngine(workspace.frames(), saved=workspace.saved_queries)


class EngineHolder:
    """One query engine per workspace, with the catalog the form is built from.

    Registry events (``added``, ``removed``, ``changed``) mark layers stale; the
    engine is brought in step (``set_frame``, which drops that layer's caches)
    the next time :meth:`engine` is asked for, on the UI thread before a run,
    so a running query never waits for it.  ``factory(workspace)`` makes the
    engine (default :func:`default_engine`).
    """

    def __init__(self, workspace, factory=None):
        self._ws = weakref.ref(workspace)
        self.factory = factory or default_engine
        self._engine = None
        self._catalog: dict | None = None
        self._distinct: dict = {}
        self._stale: set[str] = set()
        self._structure = False
        ev = workspace.registry.events
        ev.added.connect(self._on_added)
        ev.removed.connect(self._on_removed)
        ev.changed.connect(self._on_changed)

    @property
    def workspace(self):
        return self._ws()

    # ---- registry events
    def _on_added(self, layer, index) -> None:
        self._structure = True
        self._catalog = None
        self._drop_distinct(layer.name)

    def _on_removed(self, layer, index) -> None:
        self._on_added(layer, index)

    def _on_changed(self, layer, what: str) -> None:
        if what == "data":
            self._stale.add(layer.name)
            self._catalog = None
            self._drop_distinct(layer.name)
        elif what == "name":
            self._structure = True
            self._catalog = None
            self._distinct.clear()
        elif what == "metadata":
            self._catalog = None  # titles

    def _drop_distinct(self, name: str) -> None:
        for key in [k for k in self._distinct if k[0] == name]:
            del self._distinct[key]

    # ---- the engine
    def engine(self):
        """The workspace's engine, in step with its layers."""
        ws = self._ws()
        if self._engine is None:
            self._engine = self.factory(ws)
            self._stale.clear()
            self._structure = False
        elif self._stale or self._structure:
            self._sync(ws)
        return self._engine

    def _sync(self, ws) -> None:
        engine = self._engine
        have = getattr(engine, "frames", None)
        if have is None or not hasattr(engine, "set_frame"):
            self._engine = self.factory(ws)
        else:
            frames = ws.frames()
            for name in [n for n in have if n not in frames]:
                engine.set_frame(name, None)
            for name, frame in frames.items():
                if have.get(name) is not frame or name in self._stale:
                    engine.set_frame(name, frame)
        self._stale.clear()
        self._structure = False

    def invalidate_saved(self, name: str) -> None:
        """A saved query's document changed: drop results that depend on it."""
        self._catalog = None
        if self._engine is not None and hasattr(self._engine, "invalidate"):
            self._engine.invalidate(QUERY_PREFIX + name)

    # ---- what the form is built from
    def titles(self) -> dict:
        return self._ws().titles()

    def catalog(self) -> dict:
        """Layer name -> LayerInfo (with titles), rebuilt after layer changes."""
        if self._catalog is None:
            self._catalog = catalog_from_frames(self._ws().frames(), self.titles())
        return self._catalog

    def saved_info(self, name: str):
        """LayerInfo of a saved query's result, or None when it is not valid."""
        ws = self._ws()
        try:
            return resolve_saved(name, dict(ws.saved_queries), self.catalog())
        except (QueryError, RecursionError):
            return None

    def info(self, layer: str | None):
        if not layer:
            return None
        if layer.startswith(QUERY_PREFIX):
            return self.saved_info(layer)
        return self.catalog().get(layer)

    def distinct(self, layer: str, column: str) -> list | None:
        """Sorted distinct values of a low-cardinality text column, else None."""
        key = (layer, column)
        if key in self._distinct:
            return self._distinct[key]
        values = None
        info = self.catalog().get(layer)
        frame = self._ws().frames().get(layer)
        if info is not None and info.columns.get(column) == "str" and frame is not None \
                and column in frame.columns:
            series = frame[column]
            head = series.iloc[:5000].dropna().unique()
            if len(head) <= MAX_CHOICES:
                found = series.dropna().unique()
                if len(found) <= MAX_CHOICES:
                    values = sorted(str(v) for v in found)
        self._distinct[key] = values
        return values


_HOLDERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_HISTORY: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def engine_holder(workspace) -> EngineHolder:
    """The shared :class:`EngineHolder` of a workspace (made on first use)."""
    holder = _HOLDERS.get(workspace)
    if holder is None:
        holder = _HOLDERS[workspace] = EngineHolder(workspace)
    return holder


def session_history(workspace) -> list[dict]:
    """The queries run on this workspace in this session, newest last."""
    return _HISTORY.setdefault(workspace, [])


# =========================================================================== value editors

class ScalarEditor(QWidget):
    """One value, its editor chosen by the column kind: a number spin box, a
    true/false choice, a date, a picker of distinct values, or free text."""

    changed = Signal()

    def __init__(self, kind: str | None, choices=None, parent=None):
        super().__init__(parent)
        self.kind = kind
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if kind in NUMERIC:
            w = QDoubleSpinBox()
            w.setRange(-1e12, 1e12)
            w.setDecimals(0 if kind == "int" else 4)
            w.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
            w.valueChanged.connect(self.changed)
        elif kind == "bool":
            w = QComboBox()
            w.addItem(self.tr("true"), True)
            w.addItem(self.tr("false"), False)
            w.currentIndexChanged.connect(self.changed)
        elif kind == "datetime":
            w = QDateEdit(QDate.currentDate())
            w.setDisplayFormat("yyyy-MM-dd")
            w.setCalendarPopup(True)
            w.dateChanged.connect(self.changed)
        elif choices:
            w = _compact(QComboBox())
            w.setEditable(True)
            w.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            for value in choices:
                w.addItem(value if value != "" else self.tr("(empty text)"), value)
            w.currentTextChanged.connect(self.changed)
        else:
            w = QLineEdit()
            w.setPlaceholderText(self.tr("value"))
            w.textChanged.connect(self.changed)
        w.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.editor = w
        layout.addWidget(w)

    def value(self):
        w = self.editor
        if isinstance(w, QDoubleSpinBox):
            return round(w.value()) if self.kind == "int" else _number(w.value())
        if isinstance(w, QDateEdit):
            return w.date().toString("yyyy-MM-dd")
        if isinstance(w, QComboBox):
            if not w.isEditable():
                return w.currentData()
            i = w.findText(w.currentText(), Qt.MatchFlag.MatchExactly)
            return w.itemData(i) if i >= 0 else w.currentText()
        return w.text()

    def set_value(self, v) -> None:
        w = self.editor
        if isinstance(w, QDoubleSpinBox):
            try:
                w.setValue(float(v))
            except (TypeError, ValueError):
                pass
        elif isinstance(w, QDateEdit):
            d = QDate.fromString(str(v)[:10], "yyyy-MM-dd")
            if d.isValid():
                w.setDate(d)
        elif isinstance(w, QComboBox):
            i = w.findData(v)
            if i < 0 and w.isEditable():
                w.setEditText("" if v is None else str(v))
            elif i >= 0:
                w.setCurrentIndex(i)
            if w.isEditable():
                w.lineEdit().setCursorPosition(0)
        else:
            w.setText("" if v is None else str(v))


class ListEditor(QWidget):
    """A list of values for ``in``/``not_in``: tick boxes over the distinct values
    (in the order ticked), or a free list with Add and Remove."""

    changed = Signal()

    def __init__(self, kind: str | None, choices=None, parent=None):
        super().__init__(parent)
        self.kind = kind
        self.choices = list(choices or [])
        self._order: list = []
        self.list = QListWidget()
        self.list.setMaximumHeight(96)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        if self.choices:
            for value in self.choices:
                self._add_choice(value)
            self.list.itemChanged.connect(self._ticked)
            self.entry = None
        else:
            self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
            row = QHBoxLayout()
            self.entry = ScalarEditor(kind if kind in NUMERIC or kind == "datetime" else "str")
            self.add_button = QPushButton(self.tr("Add"))
            self.add_button.clicked.connect(self.add_entry)
            if isinstance(self.entry.editor, QLineEdit):
                self.entry.editor.returnPressed.connect(self.add_entry)
            self.remove_button = QPushButton(self.tr("Remove"))
            self.remove_button.clicked.connect(self.remove_selected)
            row.addWidget(self.entry, 1)
            row.addWidget(self.add_button)
            row.addWidget(self.remove_button)
            layout.addLayout(row)

    def _add_choice(self, value) -> QListWidgetItem:
        item = QListWidgetItem(str(value) if value != "" else self.tr("(empty text)"))
        item.setData(Qt.ItemDataRole.UserRole, value)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Unchecked)
        self.list.addItem(item)
        return item

    def _ticked(self, item: QListWidgetItem) -> None:
        value = item.data(Qt.ItemDataRole.UserRole)
        if item.checkState() == Qt.CheckState.Checked:
            if value not in self._order:
                self._order.append(value)
        elif value in self._order:
            self._order.remove(value)
        self.changed.emit()

    def item_for(self, value) -> QListWidgetItem | None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == value:
                return self.list.item(i)
        return None

    def add_entry(self) -> None:
        value = self.entry.value()
        if value == "" or value is None:
            return
        self.add_value(value)
        if isinstance(self.entry.editor, QLineEdit):
            self.entry.editor.clear()

    def add_value(self, value) -> None:
        if self.choices:
            item = self.item_for(value) or self._add_choice(value)
            item.setCheckState(Qt.CheckState.Checked)
            return
        item = QListWidgetItem(str(value))
        item.setData(Qt.ItemDataRole.UserRole, value)
        self.list.addItem(item)
        self.changed.emit()

    def remove_selected(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))
        self.changed.emit()

    def value(self) -> list:
        if self.choices:
            return list(self._order)
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def set_value(self, values) -> None:
        if not isinstance(values, (list, tuple)):
            values = [] if values is None or values == "" else [values]
        blocker = self.blockSignals(True)
        try:
            if self.choices:
                self._order = []
                for i in range(self.list.count()):
                    self.list.item(i).setCheckState(Qt.CheckState.Unchecked)
                for v in values:
                    self.add_value(v)
            else:
                self.list.clear()
                for v in values:
                    self.add_value(v)
        finally:
            self.blockSignals(blocker)
        self.changed.emit()


class ValueEditor(QWidget):
    """The value part of a condition; its editor follows (column kind, operator)."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.kind = self.op = None
        self.choices = None
        self.parts: list = []

    def configure(self, kind, op, choices=None, *, keep: bool = True) -> None:
        """Rebuild the editor for ``kind`` and ``op``; with ``keep`` the value is
        carried over when it fits (an operator change), else it starts afresh."""
        if (kind, op, choices) == (self.kind, self.op, self.choices) and self.parts:
            return
        old = self.value() if self.parts and keep else None
        old_op = self.op
        for part in self.parts:
            part.setParent(None)
            part.deleteLater()
        while self._layout.count():
            item = self._layout.takeAt(0)
            if item.widget() is not None:
                item.widget().setParent(None)
        self.kind, self.op, self.choices = kind, op, choices
        self.parts = []
        if op in NULL_OPS:
            label = QLabel("")
            self.parts = [label]
        elif op in LIST_OPS:
            self.parts = [ListEditor(kind, choices)]
        elif op == "between":
            low, high = ScalarEditor(kind), ScalarEditor(kind)
            self.parts = [low, QLabel(self.tr("and")), high]
        elif op == "contains":
            self.parts = [ScalarEditor("str")]
        else:
            self.parts = [ScalarEditor(kind, choices if op in ("=", "!=") else None)]
        for part in self.parts:
            self._layout.addWidget(part, 0 if isinstance(part, QLabel) else 1)
            if hasattr(part, "changed"):
                part.changed.connect(self.changed)
        carried = _convert(old, old_op, op) if old_op is not None else None
        if carried is not None:
            self.set_value(carried)

    def value(self):
        if self.op in NULL_OPS or not self.parts:
            return None
        if self.op == "between":
            return [self.parts[0].value(), self.parts[2].value()]
        return self.parts[0].value()

    def set_value(self, v) -> None:
        if self.op in NULL_OPS or not self.parts:
            return
        if self.op == "between":
            if isinstance(v, (list, tuple)) and len(v) == 2:
                self.parts[0].set_value(v[0])
                self.parts[2].set_value(v[1])
        else:
            self.parts[0].set_value(v)


def _convert(value, old_op, new_op):
    """Carry a value over an operator change of the same shape (scalar to
    scalar, list to list, pair to pair); other changes start afresh."""
    def shape(op):
        return "list" if op in LIST_OPS else "pair" if op == "between" else "scalar"

    if value is None or shape(old_op) != shape(new_op):
        return None
    return value


# =========================================================================== conditions

class ConditionRow(QFrame):
    """``column  operator  value  [×]``."""

    changed = Signal()
    removeRequested = Signal(object)

    def __init__(self, columns: dict, choices_fn=None, parent=None):
        super().__init__(parent)
        self.columns = dict(columns)
        self.choices_fn = choices_fn
        self.column_combo = _compact(QComboBox())
        self.column_combo.setToolTip(self.tr("Column"))
        self.op_combo = _compact(QComboBox(), 6)
        self.op_combo.setToolTip(self.tr("Operator"))
        self.value_editor = ValueEditor()
        self.remove_button = QToolButton()
        self.remove_button.setText("×")
        self.remove_button.setToolTip(self.tr("Remove this condition"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.column_combo)
        layout.addWidget(self.op_combo)
        layout.addWidget(self.value_editor, 1)
        layout.addWidget(self.remove_button)
        self._fill_columns()
        self.column_combo.currentIndexChanged.connect(self._column_changed)
        self.op_combo.currentIndexChanged.connect(self._op_changed)
        self.value_editor.changed.connect(self.changed)
        self.remove_button.clicked.connect(lambda: self.removeRequested.emit(self))
        self._column_changed()

    def _fill_columns(self) -> None:
        self.column_combo.blockSignals(True)
        self.column_combo.clear()
        for name, kind in self.columns.items():
            self.column_combo.addItem(name, name)
            self.column_combo.setItemData(self.column_combo.count() - 1, kind,
                                          Qt.ItemDataRole.ToolTipRole)
        self.column_combo.blockSignals(False)

    @property
    def column(self) -> str | None:
        return self.column_combo.currentData()

    @property
    def op(self) -> str | None:
        return self.op_combo.currentData()

    @property
    def kind(self) -> str | None:
        return self.columns.get(self.column)

    def _choices(self):
        if self.choices_fn is None or self.column is None or self.kind != "str":
            return None
        return self.choices_fn(self.column)

    def _column_changed(self, *_args) -> None:
        op = self.op
        ops = ops_for_kind(self.kind)
        self.op_combo.blockSignals(True)
        self.op_combo.clear()
        for o in ops:
            self.op_combo.addItem(op_label(o), o)
            self.op_combo.setItemData(self.op_combo.count() - 1, o, Qt.ItemDataRole.ToolTipRole)
        i = self.op_combo.findData(op if op in ops else ops[0])
        self.op_combo.setCurrentIndex(max(i, 0))
        self.op_combo.blockSignals(False)
        self.value_editor.configure(self.kind, self.op, self._choices(), keep=False)
        self.changed.emit()

    def _op_changed(self, *_args) -> None:
        self.value_editor.configure(self.kind, self.op, self._choices())
        self.changed.emit()

    def set_columns(self, columns: dict, choices_fn=None) -> bool:
        """New columns (the layer changed); False when this row's column is gone."""
        column = self.column
        self.columns = dict(columns)
        self.choices_fn = choices_fn
        if column not in self.columns:
            return False
        self._fill_columns()
        self.column_combo.blockSignals(True)
        self.column_combo.setCurrentIndex(self.column_combo.findData(column))
        self.column_combo.blockSignals(False)
        value, op = self.value_editor.value(), self.op
        self.value_editor.kind = None  # force a rebuild (kind or choices may differ)
        self._column_changed()
        if self.op == op:
            self.value_editor.set_value(value)
        return True

    def to_doc(self) -> dict:
        d = {"column": self.column, "op": self.op}
        if self.op not in NULL_OPS:
            d["value"] = self.value_editor.value()
        return d

    def set_doc(self, d: dict) -> None:
        column, op = d.get("column"), d.get("op")
        i = self.column_combo.findData(column)
        if i < 0:  # not in this layer: keep it so the form shows the model's message
            self.column_combo.addItem(column, column)
            i = self.column_combo.count() - 1
        self.column_combo.setCurrentIndex(i)
        j = self.op_combo.findData(op)
        if j < 0:
            self.op_combo.addItem(op_label(op), op)
            j = self.op_combo.count() - 1
        self.op_combo.setCurrentIndex(j)
        self.value_editor.configure(self.kind, self.op, self._choices())
        self.value_editor.set_value(d.get("value"))


class ConditionGroup(QFrame):
    """An OR group: ``{"any": [...]}`` shown as "any of these"."""

    changed = Signal()
    removeRequested = Signal(object)

    def __init__(self, columns: dict, choices_fn=None, parent=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        header = QHBoxLayout()
        header.addWidget(QLabel(self.tr("Any of these (OR):")), 1)
        self.remove_button = QToolButton()
        self.remove_button.setText("×")
        self.remove_button.setToolTip(self.tr("Remove this group"))
        self.remove_button.clicked.connect(lambda: self.removeRequested.emit(self))
        header.addWidget(self.remove_button)
        self.members = ConditionList(columns, choices_fn, mode="any")
        self.members.changed.connect(self.changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(self.members)

    def set_columns(self, columns: dict, choices_fn=None) -> bool:
        self.members.set_columns(columns, choices_fn)
        return len(self.members.rows) > 0

    def to_doc(self) -> dict:
        return {"any": self.members.to_doc()}

    def set_doc(self, d: dict) -> None:
        self.members.set_doc(d.get("any", []))


class ConditionList(QWidget):
    """Conditions joined by AND (``mode="all"``, with OR groups) or by OR
    (``mode="any"``, the members of a group)."""

    changed = Signal()

    def __init__(self, columns: dict | None = None, choices_fn=None, mode: str = "all",
                 parent=None):
        super().__init__(parent)
        self.mode = mode
        self.columns = dict(columns or {})
        self.choices_fn = choices_fn
        self.rows: list = []
        self._rows_layout = QVBoxLayout()
        self._rows_layout.setContentsMargins(0, 0, 0, 0)
        self.empty_label = QLabel(self.tr("No conditions: every feature.") if mode == "all"
                                  else "")
        self.empty_label.setEnabled(False)
        self.add_button = QPushButton(self.tr("+ Condition") if mode == "all"
                                      else self.tr("+ Alternative"))
        self.add_button.clicked.connect(lambda: self.add_condition())
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        self.add_group_button = None
        if mode == "all":
            self.add_group_button = QPushButton(self.tr("+ Either/or group"))
            self.add_group_button.setToolTip(self.tr("Conditions of which any one may hold"))
            self.add_group_button.clicked.connect(lambda: self.add_group())
            buttons.addWidget(self.add_group_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.empty_label)
        layout.addLayout(self._rows_layout)
        layout.addLayout(buttons)
        self._update_state()

    def _update_state(self) -> None:
        self.empty_label.setVisible(not self.rows and self.mode == "all")
        for button in (self.add_button, self.add_group_button):
            if button is not None:
                button.setEnabled(bool(self.columns))

    def _insert(self, widget) -> None:
        self.rows.append(widget)
        self._rows_layout.addWidget(widget)
        widget.changed.connect(self.changed)
        widget.removeRequested.connect(self.remove)
        self._update_state()

    def add_condition(self, doc: dict | None = None) -> ConditionRow | None:
        if not self.columns and doc is None:
            return None
        row = ConditionRow(self.columns, self.choices_fn)
        self._insert(row)
        if doc is not None:
            row.set_doc(doc)
        self.changed.emit()
        return row

    def add_group(self, doc: dict | None = None) -> ConditionGroup | None:
        if not self.columns and doc is None:
            return None
        group = ConditionGroup(self.columns, self.choices_fn)
        self._insert(group)
        if doc is not None:
            group.set_doc(doc)
        else:
            group.members.add_condition()
            group.members.add_condition()
        self.changed.emit()
        return group

    def remove(self, widget) -> None:
        if widget in self.rows:
            self.rows.remove(widget)
            self._rows_layout.removeWidget(widget)
            widget.setParent(None)
            widget.deleteLater()
            self._update_state()
            self.changed.emit()

    def clear(self) -> None:
        for widget in list(self.rows):
            self.rows.remove(widget)
            self._rows_layout.removeWidget(widget)
            widget.setParent(None)
            widget.deleteLater()
        self._update_state()

    def set_columns(self, columns: dict, choices_fn=None) -> None:
        """The layer changed: new columns; rows on columns it lacks are dropped."""
        self.columns = dict(columns or {})
        self.choices_fn = choices_fn
        for widget in list(self.rows):
            if not widget.set_columns(self.columns, choices_fn):
                self.rows.remove(widget)
                self._rows_layout.removeWidget(widget)
                widget.setParent(None)
                widget.deleteLater()
        self._update_state()

    def to_doc(self) -> list:
        return [w.to_doc() for w in self.rows]

    def set_doc(self, items) -> None:
        self.clear()
        for item in items or []:
            if isinstance(item, dict) and "any" in item:
                if self.mode == "any":  # OR inside OR is one OR
                    for member in item["any"]:
                        self.set_doc_append(member)
                else:
                    self.add_group(item)
            else:
                self.add_condition(item)
        self._update_state()

    def set_doc_append(self, item) -> None:
        if isinstance(item, dict) and "any" in item:
            for member in item["any"]:
                self.set_doc_append(member)
        else:
            self.add_condition(item)


# =========================================================================== aggregates

class AggregateRow(QFrame):
    """``function  column  as name  [×]``."""

    changed = Signal()
    removeRequested = Signal(object)

    def __init__(self, columns: list[str], parent=None):
        super().__init__(parent)
        self.fn_combo = _compact(QComboBox(), 6)
        for fn in AGGREGATE_FNS:
            self.fn_combo.addItem(aggregate_label(fn), fn)
        self.column_combo = _compact(QComboBox())
        self.column_combo.setToolTip(self.tr("A numeric column of the target"))
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText(self.tr("result column name"))
        self.name_edit.setToolTip(self.tr("The name of the result column"))
        self._auto_name = True
        self.remove_button = QToolButton()
        self.remove_button.setText("×")
        self.remove_button.setToolTip(self.tr("Remove this aggregate"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.fn_combo)
        layout.addWidget(self.column_combo, 1)
        layout.addWidget(QLabel(self.tr("as")))
        layout.addWidget(self.name_edit, 1)
        layout.addWidget(self.remove_button)
        self.set_columns(columns)
        self.fn_combo.currentIndexChanged.connect(self._fn_changed)
        self.column_combo.currentIndexChanged.connect(self._auto)
        self.name_edit.textEdited.connect(self._edited)
        self.name_edit.textChanged.connect(self.changed)
        self.remove_button.clicked.connect(lambda: self.removeRequested.emit(self))
        self._fn_changed()

    @property
    def fn(self) -> str:
        return self.fn_combo.currentData()

    @property
    def column(self) -> str | None:
        return None if self.fn == "count" else self.column_combo.currentData()

    def set_columns(self, columns: list[str]) -> None:
        current = self.column_combo.currentData()
        self.column_combo.blockSignals(True)
        self.column_combo.clear()
        for c in columns:
            self.column_combo.addItem(c, c)
        i = self.column_combo.findData(current)
        self.column_combo.setCurrentIndex(max(i, 0))
        self.column_combo.blockSignals(False)
        self._auto()

    def _fn_changed(self, *_args) -> None:
        self.column_combo.setEnabled(self.fn != "count")
        self._auto()

    def _edited(self, text: str) -> None:
        self._auto_name = not text

    def _auto(self, *_args) -> None:
        if self._auto_name:
            name = self.column or "count"
            if self.fn in ("mean", "min", "max") and self.column:
                name = f"{self.fn}_{self.column}"
            self.name_edit.blockSignals(True)
            self.name_edit.setText(name)
            self.name_edit.blockSignals(False)
        self.changed.emit()

    def to_doc(self) -> dict:
        d = {"fn": self.fn}
        if self.fn != "count":
            d["column"] = self.column_combo.currentData()
        d["as"] = self.name_edit.text().strip()
        return d

    def set_doc(self, d: dict) -> None:
        self.fn_combo.setCurrentIndex(max(self.fn_combo.findData(d.get("fn")), 0))
        column = d.get("column")
        if column is not None:
            i = self.column_combo.findData(column)
            if i < 0:
                self.column_combo.addItem(column, column)
                i = self.column_combo.count() - 1
            self.column_combo.setCurrentIndex(i)
        self._auto_name = False
        self.name_edit.setText(str(d.get("as", "")))


class AggregateList(QWidget):
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.columns: list[str] = []
        self.rows: list[AggregateRow] = []
        self._rows_layout = QVBoxLayout()
        self._rows_layout.setContentsMargins(0, 0, 0, 0)
        self.hint = QLabel(self.tr("None: grouped queries count the features."))
        self.hint.setEnabled(False)
        self.add_button = QPushButton(self.tr("+ Aggregate"))
        self.add_button.clicked.connect(lambda: self.add())
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.hint)
        layout.addLayout(self._rows_layout)
        layout.addLayout(buttons)

    def add(self, doc: dict | None = None) -> AggregateRow:
        row = AggregateRow(self.columns)
        self.rows.append(row)
        self._rows_layout.addWidget(row)
        row.changed.connect(self.changed)
        row.removeRequested.connect(self.remove)
        if doc is not None:
            row.set_doc(doc)
        self.hint.setVisible(False)
        self.changed.emit()
        return row

    def remove(self, row) -> None:
        if row in self.rows:
            self.rows.remove(row)
            self._rows_layout.removeWidget(row)
            row.setParent(None)
            row.deleteLater()
            self.hint.setVisible(not self.rows)
            self.changed.emit()

    def clear(self) -> None:
        for row in list(self.rows):
            self.rows.remove(row)
            self._rows_layout.removeWidget(row)
            row.setParent(None)
            row.deleteLater()
        self.hint.setVisible(True)

    def set_columns(self, columns: list[str]) -> None:
        self.columns = list(columns)
        for row in self.rows:
            row.set_columns(self.columns)

    def to_doc(self) -> list:
        return [row.to_doc() for row in self.rows]

    def set_doc(self, items) -> None:
        self.clear()
        for item in items or []:
            self.add(item)


# =========================================================================== the builder

class QueryBuilder(CancellableRun, QWidget):
    """The query form, its live sentence, Run/Cancel, save/load and the history.

    Parameters
    ----------
    workspace : layers.workspace.Workspace
    engine_factory : callable, optional
        ``engine_factory(workspace) -> engine`` (anything with
        ``run(query, feedback=)``); by default the workspace's shared
        :class:`~spatial.query.engine.QueryEngine`.
    lang : {"en", "zh"}
        The language of the previewed sentence and of layer titles.

    Signals
    -------
    resultReady(object)
        ``(query, result)``: the parsed Query and its QueryResult, after a run.
    queryChanged()
        The form changed (the preview is up to date).
    runStateChanged(bool)
        A run started (True) or ended (False: finished, failed or cancelled).
    """

    resultReady = Signal(object)
    queryChanged = Signal()
    runStateChanged = Signal(bool)

    def __init__(self, workspace, engine_factory=None, lang: str = "en", parent=None):
        super().__init__(parent)
        if workspace is None:
            raise TypeError("QueryBuilder needs a workspace")
        self.workspace = workspace
        self.lang = _lang(lang)
        self.holder = engine_holder(workspace) if engine_factory is None \
            else EngineHolder(workspace, engine_factory)
        self.history = session_history(workspace)
        self.worker = None
        self._cancel_requested = False
        self._running_query = None
        self._running_entry = None
        self._loading = 0
        self._query = None
        self._error: QueryError | None = None
        self._titles: dict = {}
        self._saved_name: str | None = None
        self._title_other: dict = {}
        self._build_ui()
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self.refresh)
        self._populate()
        default = next((n for n in ("schools", "buildings") if n in self.holder.catalog()), None)
        if default is not None:
            self._set_combo(self.target_combo, default)
        self._target_changed()
        self._fill_history()
        ev = workspace.registry.events
        for signal in (ev.added, ev.removed, ev.changed):
            signal.connect(self._on_registry)
        app = QCoreApplication.instance()
        if app is not None:  # a query still running must not hold up the exit
            app.aboutToQuit.connect(self.cancel)

    # ------------------------------------------------------------------ UI
    def _build_ui(self) -> None:
        self.title_edit = QLineEdit()
        self.title_edit.setPlaceholderText(self.tr("optional title of the query"))
        self.title_edit.textChanged.connect(self._changed)

        self.target_combo = _compact(QComboBox(), 12)
        self.target_combo.setToolTip(self.tr("The layer (or saved query) whose features to find"))
        self.target_combo.currentIndexChanged.connect(self._target_changed)
        self.where_list = ConditionList()
        self.where_list.changed.connect(self._changed)

        self.relation_box = QGroupBox(self.tr("Spatial relation"))
        self.relation_box.setCheckable(True)
        self.relation_box.setChecked(False)
        self.relation_box.toggled.connect(self._relation_toggled)
        self.kind_combo = _compact(QComboBox(), 12)
        for kind in RELATION_KINDS:
            self.kind_combo.addItem(relation_label(kind), kind)
        self.kind_combo.currentIndexChanged.connect(self._kind_changed)
        self.relation_layer_combo = _compact(QComboBox(), 12)
        self.relation_layer_combo.currentIndexChanged.connect(self._relation_layer_changed)
        self.distance_spin = QDoubleSpinBox()
        # Negative values are allowed here so that the model's own message explains them.
        self.distance_spin.setRange(-1_000_000.0, 100_000_000.0)
        self.distance_spin.setDecimals(1)
        self.distance_spin.setSingleStep(100.0)
        self.distance_spin.setValue(500.0)
        self.distance_spin.setSuffix(self.tr(" m"))
        self.distance_spin.setToolTip(self.tr("Distance on the ground, in metres"))
        self.distance_spin.valueChanged.connect(self._changed)
        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, 10_000)
        self.k_spin.setValue(1)
        self.k_spin.valueChanged.connect(self._changed)
        self.max_distance_check = QCheckBox(self.tr("at most"))
        self.max_distance_check.toggled.connect(self._max_toggled)
        self.max_distance_spin = QDoubleSpinBox()
        self.max_distance_spin.setRange(-1_000_000.0, 100_000_000.0)
        self.max_distance_spin.setDecimals(1)
        self.max_distance_spin.setSingleStep(100.0)
        self.max_distance_spin.setValue(1000.0)
        self.max_distance_spin.setSuffix(self.tr(" m"))
        self.max_distance_spin.setEnabled(False)
        self.max_distance_spin.valueChanged.connect(self._changed)
        max_row = QHBoxLayout()
        max_row.addWidget(self.max_distance_check)
        max_row.addWidget(self.max_distance_spin, 1)
        self.reference_where = ConditionList()
        self.reference_where.changed.connect(self._changed)
        self.relation_form = QFormLayout(self.relation_box)
        self.relation_form.addRow(self.tr("Relation:"), self.kind_combo)
        self.relation_form.addRow(self.tr("Layer:"), self.relation_layer_combo)
        self.relation_form.addRow(self.tr("Distance:"), self.distance_spin)
        self.relation_form.addRow(self.tr("Neighbours (k):"), self.k_spin)
        self.relation_form.addRow(self.tr("Max. distance:"), max_row)
        self.relation_form.addRow(QLabel(self.tr("Reference filters:")))
        self.relation_form.addRow(self.reference_where)

        self.group_box = QGroupBox(self.tr("Group by zone"))
        self.group_box.setCheckable(True)
        self.group_box.setChecked(False)
        self.group_box.toggled.connect(self._group_toggled)
        self.zone_combo = _compact(QComboBox(), 12)
        self.zone_combo.setToolTip(self.tr("A layer of zones (polygons)"))
        self.zone_combo.currentIndexChanged.connect(self._zone_changed)
        self.key_combo = _compact(QComboBox(), 12)
        self.key_combo.setToolTip(self.tr("The zone's id column"))
        self.key_combo.currentIndexChanged.connect(self._changed)
        group_form = QFormLayout(self.group_box)
        group_form.addRow(self.tr("Zones:"), self.zone_combo)
        group_form.addRow(self.tr("Key column:"), self.key_combo)

        self.aggregate_box = QGroupBox(self.tr("Aggregates"))
        self.aggregate_list = AggregateList()
        self.aggregate_list.changed.connect(self._changed)
        QVBoxLayout(self.aggregate_box).addWidget(self.aggregate_list)

        target_box = QGroupBox(self.tr("Find"))
        target_form = QFormLayout(target_box)
        target_form.addRow(self.tr("Title:"), self.title_edit)
        target_form.addRow(self.tr("Layer:"), self.target_combo)
        target_form.addRow(QLabel(self.tr("Where:")))
        target_form.addRow(self.where_list)

        form = QWidget()
        form_layout = QVBoxLayout(form)
        form_layout.addWidget(target_box)
        form_layout.addWidget(self.relation_box)
        form_layout.addWidget(self.group_box)
        form_layout.addWidget(self.aggregate_box)
        form_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(form)
        scroll.setFrameShape(QFrame.Shape.NoFrame)

        self.sentence_label = QLabel()
        self.sentence_label.setWordWrap(True)
        self.sentence_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.sentence_label.setFrameShape(QFrame.Shape.StyledPanel)
        self.sentence_label.setMargin(6)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()

        self.run_button = QPushButton(self.tr("Run"))
        self.run_button.setDefault(True)
        self.run_button.setShortcut("Ctrl+Return")
        self.run_button.setToolTip(self.tr("Run the query (Ctrl+Enter)"))
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.status_label = QLabel()
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.cancel_button)
        run_row.addWidget(self.progress, 1)

        self.save_button = QPushButton(self.tr("Save…"))
        self.save_button.setToolTip(self.tr("Save the query in the workspace"))
        self.save_button.clicked.connect(lambda: self.save_to_workspace())
        self.saved_combo = _compact(QComboBox(), 12)
        self.saved_combo.setToolTip(self.tr("Queries saved in the workspace"))
        self.load_button = QPushButton(self.tr("Load"))
        self.load_button.clicked.connect(lambda: self.load_saved(self.saved_combo.currentData()))
        self.open_file_button = QPushButton(self.tr("Open file…"))
        self.open_file_button.clicked.connect(lambda: self.open_file())
        self.save_file_button = QPushButton(self.tr("Save file…"))
        self.save_file_button.clicked.connect(lambda: self.save_file())
        saved_row = QHBoxLayout()
        saved_row.addWidget(self.saved_combo, 1)
        saved_row.addWidget(self.load_button)
        saved_row.addWidget(self.save_button)
        file_row = QHBoxLayout()
        file_row.addStretch(1)
        file_row.addWidget(self.open_file_button)
        file_row.addWidget(self.save_file_button)

        self.history_list = QListWidget()
        self.history_list.setMaximumHeight(110)
        self.history_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.history_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.history_list.setToolTip(self.tr("Click a query to load it into the form"))
        self.history_list.itemClicked.connect(self._history_clicked)

        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.sentence_label)
        layout.addWidget(self.error_label)
        layout.addLayout(run_row)
        layout.addWidget(self.status_label)
        layout.addLayout(saved_row)
        layout.addLayout(file_row)
        layout.addWidget(QLabel(self.tr("History (this session):")))
        layout.addWidget(self.history_list)
        self._kind_changed()

    # ------------------------------------------------------------------ combos
    def _item_text(self, name: str) -> str:
        if name.startswith(QUERY_PREFIX):
            qname = name[len(QUERY_PREFIX):]
            title = (self._titles.get(name) or {}).get(self.lang)
            text = self.tr("Saved query: {0}").replace("{0}", qname)
            return f"{text} ({title})" if title else text
        title = (self._titles.get(name) or {})
        title = title.get(self.lang) or title.get("en" if self.lang == "zh" else "zh")
        return f"{title} ({name})" if title and title != name else name

    def _fill(self, combo: QComboBox, names) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        for name in names:
            combo.addItem(self._item_text(name), name)
        i = combo.findData(current)
        combo.setCurrentIndex(i if i >= 0 else (0 if combo.count() else -1))
        combo.blockSignals(False)

    @staticmethod
    def _set_combo(combo: QComboBox, value) -> None:
        i = combo.findData(value)
        if i < 0 and value not in (None, ""):
            combo.addItem(str(value) + " " + QCoreApplication.translate(
                "QueryBuilder", "(not in this workspace)"), value)
            i = combo.count() - 1
        if i >= 0:
            combo.setCurrentIndex(i)

    def _populate(self) -> None:
        """Fill the layer combos from the catalog and the saved queries."""
        catalog = self.holder.catalog()
        self._titles = self.holder.titles()
        order = sorted(catalog, key=lambda n: (self._item_text(n).lower(), n))
        saved = [QUERY_PREFIX + n for n in sorted(self.workspace.saved_queries)]
        infos = {n: self.holder.info(n) for n in saved}
        self._fill(self.target_combo, order + saved)
        spatial = [n for n in order if catalog[n].geometry is not None]
        spatial += [n for n in saved if infos[n] is not None and infos[n].geometry is not None]
        self._fill(self.relation_layer_combo, spatial)
        zones = [n for n in order if catalog[n].geometry == "Polygon"]
        zones += [n for n in saved if infos[n] is not None and infos[n].geometry == "Polygon"]
        self._fill(self.zone_combo, zones)
        current = self.saved_combo.currentData()
        self.saved_combo.clear()
        for name in sorted(self.workspace.saved_queries):
            self.saved_combo.addItem(name, name)
        i = self.saved_combo.findData(current)
        if i >= 0:
            self.saved_combo.setCurrentIndex(i)
        self.load_button.setEnabled(self.saved_combo.count() > 0)

    def _choices_for(self, layer: str | None):
        if not layer or layer.startswith(QUERY_PREFIX):
            return None
        return lambda column: self.holder.distinct(layer, column)

    # ------------------------------------------------------------------ form events
    def _changed(self, *_args) -> None:
        if not self._loading:
            self._update()

    def _target_changed(self, *_args) -> None:
        target = self.target_combo.currentData()
        info = self.holder.info(target)
        self.where_list.set_columns(info.columns if info else {}, self._choices_for(target))
        self._aggregate_columns()
        self._changed()

    def _aggregate_columns(self) -> None:
        info = self.holder.info(self.target_combo.currentData())
        columns = [c for c, k in (info.columns.items() if info else ()) if k in NUMERIC]
        if self.relation_box.isChecked() and self.kind_combo.currentData() == "nearest" and \
                "distance_m" not in columns:
            columns.append("distance_m")
        self.aggregate_list.set_columns(columns)

    def _relation_toggled(self, on: bool) -> None:
        if on and not self.reference_where.columns:
            self._relation_layer_changed()
        self._aggregate_columns()
        self._changed()

    def _kind_changed(self, *_args) -> None:
        kind = self.kind_combo.currentData()
        distance = kind in DISTANCE_KINDS
        nearest = kind == "nearest"
        self.relation_form.setRowVisible(self.distance_spin, distance)
        self.relation_form.setRowVisible(self.k_spin, nearest)
        self.relation_form.setRowVisible(_MAX_DISTANCE_ROW, nearest)
        if hasattr(self, "aggregate_list"):
            self._aggregate_columns()
        self._changed()

    def _max_toggled(self, on: bool) -> None:
        self.max_distance_spin.setEnabled(on)
        self._changed()

    def _relation_layer_changed(self, *_args) -> None:
        layer = self.relation_layer_combo.currentData()
        info = self.holder.info(layer)
        self.reference_where.set_columns(info.columns if info else {}, self._choices_for(layer))
        self._changed()

    def _group_toggled(self, on: bool) -> None:
        if on and self.key_combo.count() == 0:
            self._zone_changed()
        self._changed()

    def _zone_changed(self, *_args) -> None:
        zone = self.zone_combo.currentData()
        info = self.holder.info(zone)
        current = self.key_combo.currentData()
        self.key_combo.blockSignals(True)
        self.key_combo.clear()
        for column in (info.columns if info else {}):
            self.key_combo.addItem(column, column)
        default = current if self.key_combo.findData(current) >= 0 else (info.key if info else None)
        i = self.key_combo.findData(default)
        self.key_combo.setCurrentIndex(max(i, 0))
        self.key_combo.blockSignals(False)
        self._changed()

    # ------------------------------------------------------------------ the document
    def document(self) -> dict:
        """The query document the form describes (it may be invalid)."""
        d: dict = {"version": 1}
        title = dict(self._title_other)
        text = self.title_edit.text().strip()
        if text:
            title[self.lang] = text
        else:
            title.pop(self.lang, None)
        if title:
            d["title"] = title
        d["target"] = self.target_combo.currentData() or ""
        where = self.where_list.to_doc()
        if where:
            d["where"] = where
        if self.relation_box.isChecked():
            kind = self.kind_combo.currentData()
            rel: dict = {"kind": kind}
            if kind in DISTANCE_KINDS:
                rel["distance_m"] = _number(self.distance_spin.value())
            if kind == "nearest":
                rel["k"] = self.k_spin.value()
                if self.max_distance_check.isChecked():
                    rel["max_distance_m"] = _number(self.max_distance_spin.value())
            rel["layer"] = self.relation_layer_combo.currentData() or ""
            ref = self.reference_where.to_doc()
            if ref:
                rel["where"] = ref
            d["relation"] = rel
        if self.group_box.isChecked():
            d["group_by"] = {"layer": self.zone_combo.currentData() or "",
                             "key": self.key_combo.currentData() or ""}
        aggregates = self.aggregate_list.to_doc()
        if aggregates:
            d["aggregate"] = aggregates
        return d

    def query(self):
        """The parsed Query, or None while the form is invalid (see :meth:`error`)."""
        return self._query

    def error(self) -> QueryError | None:
        return self._error

    def _update(self) -> None:
        doc = self.document()
        try:
            q = parse_query(doc, catalog=self.holder.catalog(),
                            saved=dict(self.workspace.saved_queries))
        except QueryError as e:
            self._query, self._error = None, e
            self.error_label.setText(f"{e.key}: {e.reason}" if e.key else e.reason)
            self.error_label.show()
            self.sentence_label.setText(self.tr("(the query is not complete yet)"))
            self.sentence_label.setEnabled(False)
        else:
            self._query, self._error = q, None
            self.error_label.hide()
            self.error_label.setText("")
            try:
                text = sentence(q, self.lang, self._titles)
            except (ValueError, TypeError) as exc:
                text = str(exc)
            self.sentence_label.setText(text)
            self.sentence_label.setEnabled(True)
        self.run_button.setEnabled(self._query is not None and self.worker is None)
        self.save_button.setEnabled(self._query is not None)
        self.save_file_button.setEnabled(self._query is not None)
        self.queryChanged.emit()

    def sentence_text(self) -> str:
        return self.sentence_label.text() if self._query is not None else ""

    def _apply(self, d: dict) -> None:
        """Set the widgets from a (structurally valid) document."""
        self._loading += 1
        try:
            title = dict(d.get("title") or {})
            self._title_other = {k: v for k, v in title.items() if k != self.lang}
            self.title_edit.setText(title.get(self.lang, ""))
            self._set_combo(self.target_combo, d.get("target"))
            self._target_changed()
            self.where_list.set_doc(d.get("where", []))
            rel = d.get("relation")
            self.relation_box.setChecked(rel is not None)
            if rel is not None:
                self.kind_combo.setCurrentIndex(max(self.kind_combo.findData(rel["kind"]), 0))
                self._set_combo(self.relation_layer_combo, rel.get("layer"))
                self._relation_layer_changed()
                if rel.get("distance_m") is not None:
                    self.distance_spin.setValue(float(rel["distance_m"]))
                if rel.get("k") is not None:
                    self.k_spin.setValue(int(rel["k"]))
                has_max = rel.get("max_distance_m") is not None
                self.max_distance_check.setChecked(has_max)
                if has_max:
                    self.max_distance_spin.setValue(float(rel["max_distance_m"]))
                self.reference_where.set_doc(rel.get("where", []))
            else:
                self.reference_where.clear()
            group = d.get("group_by")
            self.group_box.setChecked(group is not None)
            if group is not None:
                self._set_combo(self.zone_combo, group.get("layer"))
                self._zone_changed()
                i = self.key_combo.findData(group.get("key"))
                if i < 0:
                    self.key_combo.addItem(str(group.get("key")), group.get("key"))
                    i = self.key_combo.count() - 1
                self.key_combo.setCurrentIndex(i)
            self._aggregate_columns()
            self.aggregate_list.set_doc(d.get("aggregate", []))
        finally:
            self._loading -= 1
        self._update()

    def load_document(self, doc, source: str | None = None, *, quiet: bool = False) -> bool:
        """Load a query document (dict, JSON text or path) into the form.

        Only its structure must be valid; names the workspace lacks are kept and
        the form shows the model's message.  Returns False (after telling the
        user, unless ``quiet``) when the document cannot be read at all.
        """
        try:
            q = parse_query(doc, source=source)
        except QueryError as e:
            if not quiet:
                QMessageBox.warning(self, self.tr("Cannot load the query"), str(e))
            return False
        self._apply(query_to_dict(q))
        return True

    # ------------------------------------------------------------------ registry
    def _on_registry(self, *args) -> None:
        if not shiboken6.isValid(self):  # the widget is gone: stop listening
            ev = self.workspace.registry.events
            for signal in (ev.added, ev.removed, ev.changed):
                signal.disconnect(self._on_registry, missing_ok=True)
            return
        if len(args) == 2 and isinstance(args[1], str) and args[1] in ("opacity",):
            return
        self._refresh_timer.start()

    def refresh(self) -> None:
        """Rebuild the layer lists (layers or saved queries changed), keeping the form."""
        doc = self.document()
        self._populate()
        self._apply(doc)

    def set_language(self, lang: str) -> None:
        """Preview the sentence and layer titles in ``lang`` (static labels follow
        the installed translator when the window is rebuilt)."""
        doc = self.document()
        self.lang = _lang(lang)
        self._populate()
        self._apply(doc)

    # ------------------------------------------------------------------ run
    @property
    def running(self) -> bool:
        return self.worker is not None

    def run(self) -> bool:
        """Run the form's query in a worker; False when it is invalid or a run is on."""
        if self._query is None or self.worker is not None:
            return False
        q = self._query
        engine = self.holder.engine()
        self._cancel_requested = False
        self._running_query = q
        self._running_entry = self._add_history(q)
        self.progress.setValue(0)
        self.status_label.setText(self.tr("Running…"))
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.worker = start_worker(engine.run, q, on_finished=self._finished,
                                    on_error=self._failed, on_progress=self._progress,
                                    on_canceled=self._canceled)
        self.runStateChanged.emit(True)
        return True

    def _end(self, status: str) -> None:
        self.worker = None
        self.cancel_button.setEnabled(False)
        self.run_button.setEnabled(self._query is not None)
        if self._running_entry is not None:
            self._running_entry["status"] = status
        self._fill_history()
        self.runStateChanged.emit(False)

    def _finished(self, result) -> None:
        q = self._running_query
        if self._cancel_requested:  # it finished before seeing the cancel: drop it
            self._canceled()
            return
        self.progress.setValue(100)
        ms = result.elapsed_s * 1000
        self.status_label.setText(self.tr("{0} matched in {1} ms")
                                  .replace("{0}", f"{result.matched:,}")
                                  .replace("{1}", f"{ms:,.0f}"))
        self._end("done")
        self.workspace.log("query", {"query": query_to_dict(q), "matched": int(result.matched),
                                     "rows": len(result.data), "ms": round(ms, 1),
                                     "source": "query builder"})
        self.resultReady.emit((q, result))

    def _failed(self, message: str) -> None:
        first = message.strip().splitlines()[0] if message.strip() else message
        self.error_label.setText(self.tr("The query failed: {0}").replace("{0}", first))
        self.error_label.setToolTip(message)
        self.error_label.show()
        self.status_label.setText(self.tr("Failed"))
        self.progress.setValue(0)
        self._end("failed")

    def _canceled(self) -> None:
        self.status_label.setText(self.tr("Cancelled"))
        self.progress.setValue(0)
        self._end("cancelled")

    # ------------------------------------------------------------------ history
    def _add_history(self, q) -> dict:
        entry = {"doc": query_to_dict(q), "time": time.strftime("%H:%M:%S"),
                 "sentence": {lang: sentence(q, lang, self._titles) for lang in ("en", "zh")},
                 "status": "running"}
        self.history.append(entry)
        self._fill_history()
        return entry

    def _fill_history(self) -> None:
        status_words = {"running": self.tr("running"), "done": self.tr("done"),
                        "failed": self.tr("failed"), "cancelled": self.tr("cancelled")}
        self.history_list.clear()
        for entry in reversed(self.history):
            text = f"{entry['time']}  {entry['sentence'][self.lang]}  " \
                   f"[{status_words.get(entry['status'], entry['status'])}]"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, entry["doc"])
            item.setToolTip(json.dumps(entry["doc"], ensure_ascii=False, indent=1))
            self.history_list.addItem(item)

    def _history_clicked(self, item: QListWidgetItem) -> None:
        self.load_document(item.data(Qt.ItemDataRole.UserRole))

    # ------------------------------------------------------------------ saving and loading
    def _suggest_name(self) -> str:
        if self._saved_name:
            return self._saved_name
        title = (self._query.title or {}).get("en") if self._query is not None else None
        base = title or (self._query.target if self._query is not None else "query")
        return re.sub(r"[^0-9a-zA-Z]+", "_", base.removeprefix(QUERY_PREFIX)).strip("_").lower() \
            or "query"

    def _ask_name(self) -> str | None:
        name, ok = QInputDialog.getText(self, self.tr("Save query"),
                                        self.tr("Name of the saved query:"),
                                        QLineEdit.EchoMode.Normal, self._suggest_name())
        return name if ok else None

    def _confirm_overwrite(self, name: str) -> bool:
        answer = QMessageBox.question(
            self, self.tr("Replace saved query?"),
            self.tr("A saved query called “{0}” already exists. Replace it?").replace("{0}", name),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def save_to_workspace(self, name: str | None = None) -> str | None:
        """Save the form's query in ``workspace.saved_queries`` (asks for a name
        when none is given, and before replacing one); returns the name used."""
        if self._query is None:
            return None
        if name is None:
            name = self._ask_name()
            if name is None:
                return None
        name = name.strip().removeprefix(QUERY_PREFIX)
        if not name:
            return None
        if name in self.workspace.saved_queries and not self._confirm_overwrite(name):
            return None
        self.workspace.saved_queries[name] = query_to_dict(self._query)
        self.holder.invalidate_saved(name)
        self._saved_name = name
        self.refresh()
        self.saved_combo.setCurrentIndex(self.saved_combo.findData(name))
        self.status_label.setText(self.tr("Saved as “{0}”").replace("{0}", name))
        return name

    def load_saved(self, name: str | None) -> bool:
        """Load the saved query ``name`` into the form."""
        if not name or name not in self.workspace.saved_queries:
            return False
        if self.load_document(self.workspace.saved_queries[name], source=QUERY_PREFIX + name):
            self._saved_name = name
            self.saved_combo.setCurrentIndex(self.saved_combo.findData(name))
            return True
        return False

    def open_file(self, path=None) -> bool:
        """Load a query file (asks for one when ``path`` is None)."""
        if path is None:
            folder = str(self.workspace.folder or "")
            path, _ = QFileDialog.getOpenFileName(self, self.tr("Open query file"), folder,
                                                  self.tr("Query files (*.json)"))
            if not path:
                return False
        ok = self.load_document(Path(path))
        if ok:
            self._saved_name = None
        return ok

    def save_file(self, path=None):
        """Write the form's query to a .json file (asks when ``path`` is None)."""
        if self._query is None:
            return None
        if path is None:
            folder = self.workspace.folder
            start = str(folder / f"{self._suggest_name()}.json") if folder \
                else f"{self._suggest_name()}.json"
            path, _ = QFileDialog.getSaveFileName(self, self.tr("Save query file"), start,
                                                  self.tr("Query files (*.json)"))
            if not path:
                return None
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(".json")
        text = json.dumps(query_to_dict(self._query), ensure_ascii=False, indent=2) + "\n"
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            QMessageBox.warning(self, self.tr("Cannot save the query"), f"{path}: {exc}")
            return None
        self.status_label.setText(self.tr("Written to {0}").replace("{0}", str(path)))
        return path
