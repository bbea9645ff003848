"""The style editor: single symbol, categorised, graduated (mapclassify) or raster ramp.

``StyleEditor(layer)`` edits a *candidate* style built from its controls and
previews its legend.  Apply and OK set ``layer.style`` to a new style through a
:class:`SetStyleCommand` on an undo stack (the main window's when given, so
Edit ▸ Undo restores the previous style); Cancel undoes whatever this dialog
applied, leaving ``layer.style`` the very object it was before.

Classes come from :meth:`layers.style.GraduatedStyle.from_data` (mapclassify,
sampled for slow methods); categories from the column's distinct values (the
:data:`MAX_CATEGORIES` most frequent ones, the rest drawn with the default symbol).
Both read the whole column, so they run in a worker (:mod:`gui.workers`) while
the dialog shows a busy bar; a result that arrives after the controls changed
again is dropped, and Apply/OK wait for the newest one.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import pandas as pd
from PySide6.QtCore import QEventLoop, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from layers.commands import SetProperty
from layers.style import (
    CLASSIFICATION_METHODS,
    RAMPS,
    CategorizedStyle,
    GraduatedStyle,
    RasterStyle,
    SingleStyle,
    parse_color,
    ramp_colors,
)

from .layer_tree import entry_icon, layer_family, legend_entries, ramp_icon
from .undo import ModelCommand
from .workers import start_worker

__all__ = ["MAX_CATEGORIES", "QUALITATIVE", "SetStyleCommand", "StyleEditor",
           "build_data_style"]

#: At most this many categories are listed; rarer values use the default symbol.
MAX_CATEGORIES = 64
#: A qualitative palette for categories (Tableau 10), offered as the ramp "qualitative".
QUALITATIVE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
               "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")


class SetStyleCommand(ModelCommand):
    """Undoable ``layer.style = new`` (undo puts the old style object back)."""

    def __init__(self, layer, old, new, text: str = "") -> None:
        super().__init__(SetProperty(layer, "style", new, old), text)
        self.layer, self.old, self.new = layer, old, new


@dataclass(frozen=True)
class DataStyleRequest:
    """What a categorised or graduated style is built from (read on the UI thread)."""

    kind: str  # "categorized" | "graduated"
    column: str
    family: str | None
    base: SingleStyle
    ramp: str
    k: int = 5
    method: str = "quantiles"


@dataclass
class DataStyleResult:
    style: object
    more_values: int = 0  # categories beyond MAX_CATEGORIES
    notes: tuple = ()  # warnings (e.g. mapclassify: fewer distinct values than classes)


def build_data_style(request: DataStyleRequest, series: pd.Series, *, feedback=None):
    """Build a categorised or graduated style from one column (runs in a worker;
    Qt-free).  ``ValueError`` names what is wrong with the column."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if request.kind == "graduated":
            base = request.base
            style = GraduatedStyle.from_data(
                series, k=request.k, method=request.method, ramp=request.ramp,
                stroke=base.stroke, stroke_width=base.stroke_width, point_size=base.point_size)
            more = 0
        else:
            style, more = _categorized_style(request, series)
    if feedback is not None:
        feedback.check()
    notes = tuple(str(w.message) for w in caught if "Numba" not in str(w.message))
    return DataStyleResult(style, more, notes)


def _categorized_style(request: DataStyleRequest, series: pd.Series):
    counts = series.value_counts(dropna=True, sort=True)
    values = list(counts.index[:MAX_CATEGORIES])
    try:
        values.sort()
    except TypeError:
        values.sort(key=str)
    n = len(values)
    if request.ramp == "qualitative":
        colors = [QUALITATIVE[i % len(QUALITATIVE)] for i in range(n)]
    else:
        colors = ramp_colors(request.ramp, n)
    base, line = request.base, request.family == "line"
    cats = {v: SingleStyle(fill=c if not line else base.fill,
                           stroke=c if line else base.stroke,
                           stroke_width=base.stroke_width, point_size=base.point_size)
            for v, c in zip(values, colors)}
    default = SingleStyle(fill="#bdbdbdb3" if not line else "#00000000",
                          stroke="#969696", stroke_width=base.stroke_width,
                          point_size=base.point_size)
    return CategorizedStyle(request.column, cats, default), max(0, len(counts) - MAX_CATEGORIES)


class _ColorButton(QPushButton):
    """A button showing a colour; clicking opens a colour dialog (with alpha)."""

    colorChanged = Signal(str)

    def __init__(self, color: str, parent=None) -> None:
        super().__init__(parent)
        self._color = color
        self.clicked.connect(self._pick)
        self._paint()

    def color(self) -> str:
        return self._color

    def set_color(self, color: str) -> None:
        if color != self._color:
            self._color = color
            self._paint()
            self.colorChanged.emit(color)

    def _paint(self) -> None:
        r, g, b, a = parse_color(self._color)
        self.setText(self._color)
        text = "#000000" if (r * 299 + g * 587 + b * 114) / 1000 > 128 or a < 128 else "#ffffff"
        self.setStyleSheet(f"background-color: rgba({r},{g},{b},{a}); color: {text};")

    def _pick(self) -> None:
        r, g, b, a = parse_color(self._color)
        c = QColorDialog.getColor(QColor(r, g, b, a), self, self.tr("Choose a colour"),
                                  QColorDialog.ColorDialogOption.ShowAlphaChannel)
        if c.isValid():
            hexa = f"#{c.red():02x}{c.green():02x}{c.blue():02x}"
            self.set_color(hexa if c.alpha() == 255 else f"{hexa}{c.alpha():02x}")


class StyleEditor(QDialog):
    """Edit a layer's style.

    Parameters
    ----------
    layer : VectorLayer or RasterLayer
    parent : QWidget, optional
    undo_stack : QUndoStack, optional
        Where Apply/OK push their :class:`SetStyleCommand` (a private stack if omitted).
    lang : str

    Signals
    -------
    styleApplied(object)
        After a new style was set on the layer (the style).
    classified()
        A categorised or graduated candidate built in the worker was shown
        (or its error).
    """

    styleApplied = Signal(object)
    classified = Signal()

    #: Longest wait of Apply/OK for a running classification (ms).
    WAIT_MS = 120_000

    KINDS = ("single", "categorized", "graduated", "raster")

    def __init__(self, layer, parent=None, undo_stack: QUndoStack | None = None,
                 lang: str = "en") -> None:
        super().__init__(parent)
        self.layer = layer
        self.lang = lang
        self.undo_stack = undo_stack if undo_stack is not None else QUndoStack(self)
        self._start = self.undo_stack.index()
        self._original = layer.style
        self._pushed: list[SetStyleCommand] = []
        self._generation = 0  # bumped per control change; older worker results are stale
        self._worker = None
        self._loading = True
        self.candidate = layer.style.copy() if layer.style is not None else None
        title = layer.metadata.title(lang) or layer.name
        self.setWindowTitle(self.tr("Style — {0}").replace("{0}", title))
        self.family = layer_family(layer)

        self.kind_combo = QComboBox()
        labels = {"single": self.tr("Single symbol"), "categorized": self.tr("Categorised"),
                  "graduated": self.tr("Graduated"), "raster": self.tr("Colour ramp")}
        kinds = ("raster",) if layer.kind == "raster" else ("single", "categorized", "graduated")
        for k in kinds:
            self.kind_combo.addItem(labels[k], k)
        self.pages = QStackedWidget()
        self._page_index = {}
        for k in kinds:
            self._page_index[k] = self.pages.addWidget(getattr(self, f"_build_{k}")())

        self.preview = QListWidget()
        self.preview.setObjectName("legendPreview")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020;")
        self.busy = QProgressBar()
        self.busy.setObjectName("classifyingBar")
        self.busy.setRange(0, 0)  # indeterminate: mapclassify reports no progress
        self.busy.setTextVisible(True)
        self.busy.setFormat(self.tr("Classifying…"))
        self.busy.setMaximumHeight(16)
        self.busy.hide()

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Apply
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.buttons = buttons
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Apply).clicked.connect(self.apply)

        top = QFormLayout()
        top.addRow(self.tr("Style:"), self.kind_combo)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        body = QHBoxLayout()
        body.addWidget(self.pages, 3)
        right = QVBoxLayout()
        right.addWidget(QLabel(self.tr("Legend preview")))
        right.addWidget(self.preview)
        right.addWidget(self.busy)
        body.addLayout(right, 2)
        layout.addLayout(body)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

        self._load_from(layer.style)
        self.kind_combo.currentIndexChanged.connect(self._on_kind)
        self._loading = False
        self._refresh_preview()
        self.resize(640, 420)

    # ------------------------------------------------------------------ pages
    def _columns(self, numeric: bool = False) -> list[str]:
        data = getattr(self.layer, "data", None)
        if data is None:
            return []
        geom = getattr(data, "_geometry_column_name", None)
        out = []
        for c in data.columns:
            if c == geom or str(data[c].dtype) == "geometry":
                continue
            if numeric and not (pd.api.types.is_numeric_dtype(data[c])
                                and not pd.api.types.is_bool_dtype(data[c])):
                continue
            out.append(str(c))
        return out

    def _ramp_combo(self, qualitative: bool = False) -> QComboBox:
        combo = QComboBox()
        if qualitative:
            combo.addItem(ramp_icon(list(QUALITATIVE), 48, 14), self.tr("qualitative"),
                          "qualitative")
        for name, stops in RAMPS.items():
            combo.addItem(ramp_icon(list(stops), 48, 14), name, name)
        return combo

    def _build_single(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        base = self.layer.style if isinstance(self.layer.style, SingleStyle) else SingleStyle()
        self.fill_button = _ColorButton(base.fill)
        self.stroke_button = _ColorButton(base.stroke)
        self.stroke_width = QDoubleSpinBox()
        self.stroke_width.setRange(0.0, 20.0)
        self.stroke_width.setSingleStep(0.1)
        self.point_size = QDoubleSpinBox()
        self.point_size.setRange(0.5, 64.0)
        for wdg in (self.fill_button, self.stroke_button):
            wdg.colorChanged.connect(self._changed)
        for wdg in (self.stroke_width, self.point_size):
            wdg.valueChanged.connect(self._changed)
        form.addRow(self.tr("Fill:"), self.fill_button)
        form.addRow(self.tr("Outline:"), self.stroke_button)
        form.addRow(self.tr("Outline width (px):"), self.stroke_width)
        form.addRow(self.tr("Point size (px):"), self.point_size)
        return w

    def _build_categorized(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.cat_column = QComboBox()
        self.cat_column.addItems(self._columns())
        self.cat_ramp = self._ramp_combo(qualitative=True)
        self.cat_column.currentIndexChanged.connect(self._changed)
        self.cat_ramp.currentIndexChanged.connect(self._changed)
        form.addRow(self.tr("Column:"), self.cat_column)
        form.addRow(self.tr("Colours:"), self.cat_ramp)
        return w

    def _build_graduated(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.grad_column = QComboBox()
        self.grad_column.addItems(self._columns(numeric=True))
        self.grad_method = QComboBox()
        for m in CLASSIFICATION_METHODS:
            if m != "user_defined":
                self.grad_method.addItem(m.replace("_", " "), m)
        self.grad_classes = QSpinBox()
        self.grad_classes.setRange(1, 20)
        self.grad_classes.setValue(5)
        self.grad_ramp = self._ramp_combo()
        for wdg in (self.grad_column, self.grad_method, self.grad_ramp):
            wdg.currentIndexChanged.connect(self._changed)
        self.grad_classes.valueChanged.connect(self._changed)
        form.addRow(self.tr("Column:"), self.grad_column)
        form.addRow(self.tr("Method:"), self.grad_method)
        form.addRow(self.tr("Classes:"), self.grad_classes)
        form.addRow(self.tr("Colour ramp:"), self.grad_ramp)
        return w

    def _build_raster(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.raster_ramp = self._ramp_combo()
        self.raster_auto = QCheckBox(self.tr("Stretch to the band's minimum and maximum"))
        self.raster_min = QDoubleSpinBox()
        self.raster_max = QDoubleSpinBox()
        for spin in (self.raster_min, self.raster_max):
            spin.setRange(-1e12, 1e12)
            spin.setDecimals(3)
            spin.valueChanged.connect(self._changed)
        self.raster_ramp.currentIndexChanged.connect(self._changed)
        self.raster_auto.toggled.connect(self._changed)
        self.raster_auto.toggled.connect(lambda on: (self.raster_min.setEnabled(not on),
                                                     self.raster_max.setEnabled(not on)))
        form.addRow(self.tr("Colour ramp:"), self.raster_ramp)
        form.addRow(self.raster_auto)
        form.addRow(self.tr("Minimum:"), self.raster_min)
        form.addRow(self.tr("Maximum:"), self.raster_max)
        return w

    # ------------------------------------------------------------------ state
    def _load_from(self, style) -> None:
        """Set the controls from an existing style (no candidate rebuild)."""
        kind = style.kind if style is not None else "single"
        self._set_combo(self.kind_combo, kind)
        self.pages.setCurrentIndex(self._page_index.get(kind, 0))
        if isinstance(style, SingleStyle):
            self.fill_button.set_color(style.fill)
            self.stroke_button.set_color(style.stroke)
            self.stroke_width.setValue(style.stroke_width)
            self.point_size.setValue(style.point_size)
        elif hasattr(self, "stroke_width"):
            self.stroke_width.setValue(0.8)
            self.point_size.setValue(6.0)
        if isinstance(style, CategorizedStyle):
            self._set_combo(self.cat_column, style.column, by_text=True)
        if isinstance(style, GraduatedStyle):
            self._set_combo(self.grad_column, style.column, by_text=True)
            self._set_combo(self.grad_method, style.method)
            self.grad_classes.setValue(len(style.breaks))
        if isinstance(style, RasterStyle):
            if isinstance(style.ramp, str):
                self._set_combo(self.raster_ramp, style.ramp)
            auto = style.vmin is None or style.vmax is None
            self.raster_auto.setChecked(auto)
            self.raster_min.setValue(style.vmin or 0.0)
            self.raster_max.setValue(style.vmax if style.vmax is not None else 1.0)
            self.raster_min.setEnabled(not auto)
            self.raster_max.setEnabled(not auto)

    @staticmethod
    def _set_combo(combo: QComboBox, value, by_text: bool = False) -> None:
        i = combo.findText(value) if by_text else combo.findData(value)
        if i >= 0:
            combo.setCurrentIndex(i)

    def kind(self) -> str:
        """The style kind chosen: ``single``, ``categorized``, ``graduated`` or ``raster``."""
        return self.kind_combo.currentData()

    def set_kind(self, kind: str) -> None:
        """Choose the style kind (as the combo box would)."""
        self._set_combo(self.kind_combo, kind)

    def _on_kind(self) -> None:
        self.pages.setCurrentIndex(self._page_index[self.kind()])
        self._changed()

    def _changed(self, *args) -> None:
        if self._loading:
            return
        self.message.setText("")
        self._generation += 1
        if self._worker is not None:
            self._worker.cancel()  # its result will be stale anyway
            self._worker = None
        kind = self.kind()
        if kind in ("categorized", "graduated"):
            try:
                request = self._data_request(kind)
            except ValueError as exc:
                self.candidate = None
                self.message.setText(str(exc))
                self._set_busy(False)
                self._refresh_preview()
                return
            self.candidate = None
            self._set_busy(True)
            self._refresh_preview()
            gen = self._generation
            self._worker = start_worker(
                _tagged, gen, build_data_style, request, self.layer.data[request.column],
                on_finished=self._on_built, on_error=self._on_build_error,
                on_canceled=self._on_build_canceled)
            return
        try:
            self.candidate = self.build_style()
        except (ValueError, TypeError) as exc:
            self.candidate = None
            self.message.setText(str(exc))
        self._set_busy(False)
        self._refresh_preview()

    # -- the worker's answers (on the UI thread)
    @property
    def classifying(self) -> bool:
        """Whether a categorised/graduated candidate is being built in the worker."""
        return self._worker is not None

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)

    def _on_built(self, tagged) -> None:
        gen, result = tagged
        if gen != self._generation:
            return  # the controls changed since: a newer job is on its way
        if isinstance(result, Exception):
            self._finish_failed(str(result))
            return
        self._worker = None
        self._set_busy(False)
        self.candidate = result.style
        lines = []
        if result.more_values:
            lines.append(self.tr("{0} more values are drawn with the default symbol.")
                         .replace("{0}", f"{result.more_values:,}"))
        lines.extend(result.notes)
        self.message.setText("\n".join(lines))
        self._refresh_preview()
        self.classified.emit()

    def _on_build_error(self, message: str) -> None:
        # an unexpected failure (a bug, not a bad column): show it whole
        self._finish_failed(message)

    def _on_build_canceled(self) -> None:
        pass  # only canceled when superseded; the newer job answers

    def _finish_failed(self, text: str) -> None:
        self._worker = None
        self._set_busy(False)
        self.candidate = None
        self.message.setText(text)
        self._refresh_preview()
        self.classified.emit()

    def wait_for_classification(self, timeout_ms: int | None = None) -> bool:
        """Process events until no classification runs (False on timeout)."""
        if self._worker is None:
            return True
        loop = QEventLoop()
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        done = self.classified.connect(loop.quit)
        QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        try:
            timer.start(self.WAIT_MS if timeout_ms is None else timeout_ms)
            while self._worker is not None and timer.isActive():
                loop.exec()
        finally:
            QApplication.restoreOverrideCursor()
            timer.stop()
            self.classified.disconnect(done)
        return self._worker is None

    def _data_request(self, kind: str) -> DataStyleRequest:
        base = self._base_symbol()
        if kind == "graduated":
            column = self.grad_column.currentText()
            if not column:
                raise ValueError(self.tr("The layer has no numeric column to classify."))
            return DataStyleRequest("graduated", column, self.family, base,
                                    self.grad_ramp.currentData(), k=self.grad_classes.value(),
                                    method=self.grad_method.currentData())
        column = self.cat_column.currentText()
        if not column:
            raise ValueError(self.tr("The layer has no column to categorise by."))
        return DataStyleRequest("categorized", column, self.family, base,
                                self.cat_ramp.currentData())

    def _base_symbol(self) -> SingleStyle:
        style = self.layer.style
        if isinstance(style, SingleStyle):
            return style
        if isinstance(style, CategorizedStyle):
            return style.default
        if isinstance(style, GraduatedStyle):
            return SingleStyle(stroke=style.stroke, stroke_width=style.stroke_width,
                               point_size=style.point_size)
        return SingleStyle()

    def build_style(self):
        """A new style from the controls, built here on the calling thread
        (``ValueError`` naming the problem).  The dialog itself builds categorised
        and graduated styles in a worker (:func:`build_data_style`)."""
        kind = self.kind()
        if kind == "single":
            return SingleStyle(fill=self.fill_button.color(), stroke=self.stroke_button.color(),
                               stroke_width=self.stroke_width.value(),
                               point_size=self.point_size.value())
        if kind in ("categorized", "graduated"):
            request = self._data_request(kind)
            return build_data_style(request, self.layer.data[request.column]).style
        auto = self.raster_auto.isChecked()
        return RasterStyle(self.raster_ramp.currentData(),
                           None if auto else self.raster_min.value(),
                           None if auto else self.raster_max.value())

    def _refresh_preview(self) -> None:
        self.preview.clear()
        for entry in legend_entries(self.candidate):
            label = entry.label or (self.layer.metadata.title(self.lang) or self.layer.name)
            self.preview.addItem(QListWidgetItem(entry_icon(entry, self.family), label))
        ready = self.candidate is not None or self.classifying  # OK waits for the worker
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ready)
        self.buttons.button(QDialogButtonBox.StandardButton.Apply).setEnabled(ready)

    # ------------------------------------------------------------------ apply / cancel
    def apply(self) -> bool:
        """Set the candidate style on the layer (undoable); return whether it changed.
        Waits for a running classification first (the window stays live)."""
        if not self.wait_for_classification():
            self.message.setText(self.tr("The classification is taking too long; "
                                         "try another method or fewer classes."))
            return False
        if self.candidate is None:
            return False
        if self.candidate == self.layer.style:
            return False
        new = self.candidate
        self.candidate = new.copy()  # further edits build on a fresh object
        title = self.layer.metadata.title(self.lang) or self.layer.name
        cmd = SetStyleCommand(self.layer, self.layer.style, new,
                              self.tr("Style of {0}").replace("{0}", title))
        self._pushed.append(cmd)
        self.undo_stack.push(cmd)
        self.styleApplied.emit(new)
        return True

    def accept(self) -> None:
        self.apply()
        self._stop_worker()
        super().accept()

    def reject(self) -> None:
        """Cancel: undo what this dialog applied (and drop it from the stack, so
        Redo does not bring it back); the layer keeps its original style."""
        self._stop_worker()
        for cmd in self._pushed:
            cmd.cancelled = True
        while self.undo_stack.index() > self._start and self.undo_stack.canUndo():
            self.undo_stack.undo()
        if self.layer.style is not self._original:
            self.layer.style = self._original
        super().reject()

    def _stop_worker(self) -> None:
        self._generation += 1
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
        self._set_busy(False)


def _tagged(generation: int, fn, *args, feedback=None):
    """``(generation, fn(*args) or the ValueError/TypeError it raised)``: the answer
    tells which request it belongs to, so stale answers (errors too) are dropped."""
    try:
        return generation, fn(*args, feedback=feedback)
    except (ValueError, TypeError) as exc:
        return generation, exc
