"""The attribute table: a fast table model over a layer's frame, with sort, filter,
selection shared with the map, zoom to selection and export.

:class:`FrameTableModel` never builds per-row Python objects up front.  Creating
it reads only the frame's column names and dtypes; ``data()`` fetches one cell
from the column's own array (a numpy array for numpy dtypes, the pandas
extension array — e.g. Arrow strings — otherwise), taken lazily the first time
the column is shown.  Sorting and filtering never move the data: they compute
one ``int64`` *order* array (display row → source row) with
``ExtensionArray.argsort`` (numpy/Arrow, stable, nulls last — the same order as
``DataFrame.sort_values(kind="stable")``) and vectorised pandas masks.  Without
sort or filter the order is the identity and no array is allocated.

People counts (:data:`spatial.privacy.PEOPLE_COLUMNS`) are shown, sorted and
filtered with small counts suppressed: values 1…4 (and nulls) read ``<5`` and
behave as missing, so neither sorting nor filtering reveals them; exports go
through :func:`spatial.privacy.suppress_small_counts`.

Filter syntax
-------------
``column op value`` with ``op`` one of ``=``/``==``, ``!=``/``<>``, ``<``, ``<=``,
``>``, ``>=``, ``contains``/``~`` (text, case-insensitive), or ``column is null`` /
``column is not null``.  Text values may be quoted (``name = "No. 3 Middle School"``).
Anything else is a plain, case-insensitive search over the text columns.  As in
queries, a null satisfies no comparison.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from layers.export import export_frame
from spatial.privacy import SUPPRESSION_THRESHOLD, people_columns, suppress_small_counts

_NO_PARENT = QModelIndex()  # the default "parent" argument of the model API

__all__ = [
    "MAX_VIEW_RANGES",
    "SOURCE_ROW_ROLE",
    "AttributeTable",
    "FilterError",
    "FrameTableModel",
    "parse_filter",
]

#: Item data role: the source row (position in the frame) of a display row.
SOURCE_ROW_ROLE = Qt.ItemDataRole.UserRole + 10
#: Above this many separate runs of selected rows the view's own selection is not
#: rebuilt (Qt checks it range by range); selected rows stay highlighted by the model.
MAX_VIEW_RANGES = 5_000

_SELECTED_BRUSH = QBrush(QColor(255, 214, 0, 90))
_NULL_BRUSH = QBrush(QColor("#9a9a9a"))



class FilterError(ValueError):
    """A filter expression that cannot be applied (the message says why)."""


_OPS = {"=": "eq", "==": "eq", "!=": "ne", "<>": "ne", "<": "lt", "<=": "le", ">": "gt",
        ">=": "ge", "~": "contains", "contains": "contains", "is null": "isnull",
        "is not null": "notnull"}
_EXPR = re.compile(
    r"""^\s*(?P<col>"[^"]+"|`[^`]+`|[^\s=!<>~"'`]+)\s*
        (?P<op>==|!=|<>|<=|>=|=|<|>|~|(?i:contains)\b|(?i:is\s+not\s+null)\s*$|(?i:is\s+null)\s*$)
        \s*(?P<val>.*?)\s*$""",
    re.VERBOSE,
)


def parse_filter(text: str, columns) -> tuple | None:
    """``(column, op, value)`` for an expression over ``columns``; ``("", "search",
    text)`` for a plain search; ``None`` for empty text.

    Raises
    ------
    FilterError
        For an expression with a comparison operator whose column is unknown or
        whose value is missing.

    Examples
    --------
    >>> parse_filter('floors >= 10', ["floors"])
    ('floors', 'ge', 10)
    >>> parse_filter('name = "A B"', ["name"])
    ('name', 'eq', 'A B')
    >>> parse_filter('Main street', ["name"])
    ('', 'search', 'Main street')
    """
    text = text.strip()
    if not text:
        return None
    m = _EXPR.match(text)
    if m is None:
        return ("", "search", text)
    col = m.group("col")
    if col[0] in "\"`" and col[-1] == col[0]:
        col = col[1:-1]
    op = _OPS[re.sub(r"\s+", " ", m.group("op").strip().lower())]
    raw = m.group("val")
    if col not in columns:
        if op in ("contains", "isnull", "notnull"):  # words: just text to search for
            return ("", "search", text)
        raise FilterError(QCoreApplication.translate("FrameTableModel", "unknown column '{0}'; columns: {1}").replace("{0}", col)
                          .replace("{1}", ", ".join(map(str, columns))))
    if op in ("isnull", "notnull"):
        return (col, op, None)
    if raw == "":
        raise FilterError(QCoreApplication.translate("FrameTableModel", "a value is missing after '{0}'")
                          .replace("{0}", m.group("op").strip()))
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return (col, op, raw[1:-1])
    return (col, op, _number_or_text(raw))


def _number_or_text(raw: str):
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        v = float(raw)
        return v if math.isfinite(v) else raw
    except ValueError:
        return raw


def _is_null(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return bool(pd.isna(v))  # NaN, NaT; an array-like value is not null
    except (TypeError, ValueError):
        return False


class FrameTableModel(QAbstractTableModel):
    """A read-only table over a DataFrame/GeoDataFrame, fast at a million rows.

    Parameters
    ----------
    frame : DataFrame
        Not copied.  The geometry column(s) are not shown.
    people : iterable of str, optional
        Columns that count people (default :func:`spatial.privacy.people_columns`);
        shown with small counts suppressed.
    threshold : int
        The suppression threshold (default 5).

    Display rows map to source rows (positions in ``frame``) through
    :meth:`source_rows`/:meth:`positions_of`.
    """

    def __init__(self, frame: pd.DataFrame, people=None, threshold: int = SUPPRESSION_THRESHOLD,
                 parent=None) -> None:
        super().__init__(parent)
        self._threshold = threshold
        self._people_arg = people
        self._bind(frame)

    # ------------------------------------------------------------------ binding
    def _bind(self, frame: pd.DataFrame) -> None:
        self._frame = frame
        self._n = len(frame)
        geom = getattr(frame, "_geometry_column_name", None)
        self._columns = [c for c in frame.columns
                         if c != geom and str(frame.dtypes[c]) != "geometry"]
        dtypes = [frame.dtypes[c] for c in self._columns]
        self._numeric = [pd.api.types.is_numeric_dtype(d) and not pd.api.types.is_bool_dtype(d)
                         for d in dtypes]
        self._textual = [pd.api.types.is_string_dtype(d) or pd.api.types.is_object_dtype(d)
                         for d in dtypes]
        people = (people_columns(frame) if self._people_arg is None else list(self._people_arg))
        self._people = {i for i, c in enumerate(self._columns) if c in set(people)}
        self._arrays: dict[int, object] = {}  # column -> array, filled on demand
        self._sort: tuple[int, bool] | None = None
        self._sort_order: np.ndarray | None = None
        self._filter: tuple | None = None
        self._filter_mask: np.ndarray | None = None
        self._subset: np.ndarray | None = None  # bool mask of allowed source rows
        self._order: np.ndarray | None = None  # display row -> source row; None = identity
        self._inverse: np.ndarray | None = None
        self._selected: np.ndarray | None = None  # bool mask of selected source rows

    def set_frame(self, frame: pd.DataFrame) -> None:
        """Show another frame (sort and filter are dropped)."""
        self.beginResetModel()
        self._bind(frame)
        self.endResetModel()

    @property
    def frame(self) -> pd.DataFrame:
        return self._frame

    @property
    def columns(self) -> list:
        """The column names shown, in order."""
        return list(self._columns)

    def is_people_column(self, column: int) -> bool:
        return column in self._people

    def column_values(self, column: int):
        """The array behind a column (numpy for numpy dtypes, else the pandas
        extension array), fetched once on first use; no per-row objects."""
        arr = self._arrays.get(column)
        if arr is None:
            series = self._frame[self._columns[column]]
            values = series.array
            arr = values.to_numpy() if isinstance(values, pd.arrays.NumpyExtensionArray) \
                else values
            if isinstance(arr, np.ndarray) and arr.dtype.kind in "mM":
                arr = values  # keep Timestamp scalars for display
            self._arrays[column] = arr
        return arr

    def _series(self, column: int) -> pd.Series:
        """A column as the filter and sort see it (people counts suppressed)."""
        s = self._frame[self._columns[column]]
        if column in self._people:
            v = pd.to_numeric(s, errors="coerce")
            s = v.mask((v > 0) & (v < self._threshold))
        return s

    # ------------------------------------------------------------------ rows
    def rowCount(self, parent: QModelIndex = _NO_PARENT) -> int:
        if parent.isValid():
            return 0
        return self._n if self._order is None else len(self._order)

    def columnCount(self, parent: QModelIndex = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def source_row(self, row: int) -> int:
        """The frame position shown at display row ``row``."""
        return row if self._order is None else int(self._order[row])

    def source_rows(self, positions) -> np.ndarray:
        """Frame positions of display rows (an int64 array)."""
        pos = np.asarray(positions, dtype=np.int64)
        return pos.copy() if self._order is None else self._order[pos]

    def positions_of(self, rows) -> np.ndarray:
        """Sorted display rows showing the given frame positions (hidden ones dropped)."""
        rows = np.asarray(rows, dtype=np.int64).ravel()
        rows = rows[(rows >= 0) & (rows < self._n)]
        if self._order is None:
            return np.unique(rows)
        if self._inverse is None:
            inv = np.full(self._n, -1, dtype=np.int64)
            inv[self._order] = np.arange(len(self._order), dtype=np.int64)
            self._inverse = inv
        pos = self._inverse[rows]
        return np.unique(pos[pos >= 0])

    def display_order(self) -> np.ndarray:
        """Frame positions in display order (a copy; the identity when unsorted)."""
        return np.arange(self._n, dtype=np.int64) if self._order is None else self._order.copy()

    # ------------------------------------------------------------------ cells
    def value(self, row: int, column: int):
        """The raw value at display ``row`` (people counts unsuppressed: internal use)."""
        return self.column_values(column)[self.source_row(row)]

    def _text(self, column: int, v) -> str:
        if column in self._people:
            if _is_null(v):
                return f"<{self._threshold}"
            try:
                f = float(v)
            except (TypeError, ValueError):
                return str(v)
            if 0 < f < self._threshold:
                return f"<{self._threshold}"
            return f"{int(f):,}" if f.is_integer() else f"{f:,}"
        if _is_null(v):
            return "NULL"
        if isinstance(v, (float, np.floating)):
            return f"{v:.10g}"
        if isinstance(v, (bool, np.bool_)):
            return "true" if v else "false"
        return str(v)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        R = Qt.ItemDataRole
        row, col = index.row(), index.column()
        if role == R.DisplayRole or role == R.ToolTipRole:
            return self._text(col, self.value(row, col))
        if role == R.TextAlignmentRole:
            if self._numeric[col]:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == R.ForegroundRole:
            if col not in self._people and _is_null(self.value(row, col)):
                return _NULL_BRUSH
            return None
        if role == R.BackgroundRole:
            if self._selected is not None and self._selected[self.source_row(row)]:
                return _SELECTED_BRUSH
            return None
        if role == R.FontRole:
            if col not in self._people and _is_null(self.value(row, col)):
                f = QFont()
                f.setItalic(True)
                return f
            return None
        if role == SOURCE_ROW_ROLE:
            return self.source_row(row)
        return None

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole:
            if orientation == Qt.Orientation.Horizontal:
                return str(self._columns[section])
            return str(self.source_row(section) + 1)
        if role == Qt.ItemDataRole.ToolTipRole and orientation == Qt.Orientation.Horizontal:
            dtype = str(self._frame.dtypes[self._columns[section]])
            tip = f"{self._columns[section]} ({dtype})"
            if section in self._people:
                tip += "\n" + self.tr("People count: values below {0} are not shown.") \
                    .replace("{0}", str(self._threshold))
            return tip
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # ------------------------------------------------------------------ selection marks
    def set_selected(self, rows) -> None:
        """Mark frame positions as selected (drawn highlighted; ``None``/empty clears)."""
        rows = None if rows is None else np.asarray(rows, dtype=np.int64)
        if rows is None or len(rows) == 0:
            if self._selected is None:
                return
            self._selected = None
        else:
            mask = np.zeros(self._n, dtype=bool)
            mask[rows[(rows >= 0) & (rows < self._n)]] = True
            self._selected = mask
        if self.rowCount() and self.columnCount():
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self.rowCount() - 1, self.columnCount() - 1),
                                  [Qt.ItemDataRole.BackgroundRole])

    # ------------------------------------------------------------------ sort and filter
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by a column (stable, nulls last); ``column < 0`` restores frame order."""
        if column < 0 or column >= len(self._columns):
            self._sort, self._sort_order = None, None
        else:
            ascending = order == Qt.SortOrder.AscendingOrder
            self._sort = (column, ascending)
            self._sort_order = self._argsort(column, ascending)
        self._recompute()

    def _argsort(self, column: int, ascending: bool) -> np.ndarray:
        s = self._series(column)
        try:
            idx = s.array.argsort(ascending=ascending, kind="stable", na_position="last")
        except TypeError:  # mixed Python objects: order by their text
            text = s.astype(str).where(s.notna())
            idx = text.array.argsort(ascending=ascending, kind="stable", na_position="last")
        return np.asarray(idx, dtype=np.int64)

    @property
    def sort_column(self) -> tuple[int, bool] | None:
        """``(column, ascending)`` or ``None``."""
        return self._sort

    def set_filter(self, text: str) -> None:
        """Apply a filter expression (see the module docstring); ``""`` clears it.

        Raises
        ------
        FilterError
            The expression cannot be applied; the previous filter stays.
        """
        spec = parse_filter(text, self._columns)
        mask = None if spec is None else self._mask(*spec)
        self._filter, self._filter_mask = spec, mask
        self._recompute()

    def filter_mask(self, text: str) -> np.ndarray | None:
        """The boolean mask over frame rows a filter keeps (``None`` for no filter)."""
        spec = parse_filter(text, self._columns)
        return None if spec is None else self._mask(*spec)

    def set_row_subset(self, rows) -> None:
        """Show only these frame positions (``None`` shows all); combined with the filter."""
        if rows is None:
            self._subset = None
        else:
            mask = np.zeros(self._n, dtype=bool)
            rows = np.asarray(rows, dtype=np.int64)
            mask[rows[(rows >= 0) & (rows < self._n)]] = True
            self._subset = mask
        self._recompute()

    def _mask(self, col, op: str, value) -> np.ndarray:
        if op == "search":
            return self._search(str(value))
        i = self._columns.index(col)
        s = self._series(i)
        notna = s.notna().to_numpy(dtype=bool)
        if op == "isnull":
            return ~notna
        if op == "notnull":
            return notna
        numeric = self._numeric[i] or i in self._people
        try:
            if op == "contains":
                if not self._textual[i]:
                    s = s.astype(str).where(s.notna())
                out = s.str.contains(str(value), case=False, regex=False, na=False)
            elif numeric:
                if isinstance(value, str):
                    raise FilterError(QCoreApplication.translate("FrameTableModel", "column '{0}' holds numbers; '{1}' is not a number")
                                      .replace("{0}", str(col)).replace("{1}", value))
                out = getattr(s, op)(value)
            elif pd.api.types.is_bool_dtype(s.dtype):
                truth = {"true": True, "1": True, "yes": True, "false": False, "0": False,
                         "no": False}.get(str(value).lower())
                if truth is None:
                    raise FilterError(QCoreApplication.translate("FrameTableModel", "column '{0}' holds true/false; got '{1}'")
                                      .replace("{0}", str(col)).replace("{1}", str(value)))
                out = getattr(s, op)(truth)
            elif pd.api.types.is_datetime64_any_dtype(s.dtype):
                out = getattr(s, op)(pd.Timestamp(str(value)))
            else:
                out = getattr(s, op)(value if isinstance(value, str) else str(value))
        except FilterError:
            raise
        except (TypeError, ValueError) as exc:
            raise FilterError(QCoreApplication.translate("FrameTableModel", "cannot compare column '{0}' with '{1}': {2}")
                              .replace("{0}", str(col)).replace("{1}", str(value))
                              .replace("{2}", str(exc))) from None
        mask = pd.Series(out).fillna(False).to_numpy(dtype=bool)
        return mask & notna  # a null satisfies no comparison

    def _search(self, text: str) -> np.ndarray:
        mask = np.zeros(self._n, dtype=bool)
        for i, c in enumerate(self._columns):
            if self._textual[i] and i not in self._people:
                try:
                    hit = self._frame[c].str.contains(text, case=False, regex=False, na=False)
                except AttributeError:  # an object column holding no text
                    continue
                mask |= hit.fillna(False).to_numpy(dtype=bool)
        return mask

    def _recompute(self) -> None:
        self.beginResetModel()
        keep = self._filter_mask
        if self._subset is not None:
            keep = self._subset if keep is None else keep & self._subset
        base = self._sort_order
        if keep is None:
            order = base
        elif base is None:
            order = np.flatnonzero(keep).astype(np.int64)
        else:
            order = base[keep[base]]
        self._order, self._inverse = order, None
        self.endResetModel()


class AttributeTable(QWidget):
    """The attribute table of one layer, its selection shared with the map.

    Parameters
    ----------
    layer : VectorLayer or TableLayer
    selection : layers.selection.Selection
        Shared with the canvas: selecting rows here selects features there and back.
    parent : QWidget, optional
    workspace : Workspace, optional
        When given, exports are written to its audit log.
    people : iterable of str, optional
        Columns counting people (default: :func:`spatial.privacy.people_columns`;
        pass e.g. aggregate outputs of a query too); suppressed on screen and in exports.

    Signals
    -------
    zoomToRows(str, object)
        "Zoom to selected" (or a double-click on a row): the layer name and an
        int64 numpy array of frame positions.
    exported(str)
        The path of a finished export.
    """

    zoomToRows = Signal(str, object)
    exported = Signal(str)

    def __init__(self, layer, selection, parent=None, workspace=None, lang: str = "en",
                 people=None) -> None:
        super().__init__(parent)
        self.layer = layer
        self.selection = selection
        self.workspace = workspace
        self.lang = lang
        self._people = people
        self._syncing = False
        self.model = FrameTableModel(layer.data, people=people, parent=self)

        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("filterEdit")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setPlaceholderText(
            self.tr("Filter: column op value (e.g. floors >= 10), or text to search"))
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(400)
        self._filter_timer.timeout.connect(self._apply_filter_text)
        self.filter_edit.textChanged.connect(lambda _t: self._filter_timer.start())
        self.filter_edit.returnPressed.connect(self._apply_filter_text)
        self.selected_only = QCheckBox(self.tr("Selected only"))
        self.selected_only.toggled.connect(self._on_selected_only)
        self.zoom_button = QPushButton(self.tr("Zoom to selected"))
        self.zoom_button.clicked.connect(self.zoom_to_selected)
        self.zoom_button.setEnabled(layer.kind == "vector")
        self.clear_button = QPushButton(self.tr("Clear selection"))
        self.clear_button.clicked.connect(lambda: self.selection.clear(self.layer.name))
        self.export_button = QPushButton(self.tr("Export selection…"))
        self.export_button.clicked.connect(self._export_dialog)

        self.view = QTableView(self)
        self.view.setObjectName("attributeView")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setWordWrap(False)
        vh = self.view.verticalHeader()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(self.view.fontMetrics().height() + 6)
        hh = self.view.horizontalHeader()
        hh.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # no sort until asked
        hh.setSortIndicatorClearable(True)
        hh.setDefaultSectionSize(120)
        self.view.setSortingEnabled(True)
        self.view.selectionModel().selectionChanged.connect(self._on_view_selection)
        self.view.doubleClicked.connect(self._on_double_click)
        self.model.modelReset.connect(self._after_reset)

        self.status = QLabel("")
        self.message = QLabel("")
        self.message.setStyleSheet("color: #b00020;")
        self.message.setWordWrap(True)

        tools = QHBoxLayout()
        tools.addWidget(self.filter_edit, 1)
        tools.addWidget(self.selected_only)
        tools.addWidget(self.zoom_button)
        tools.addWidget(self.clear_button)
        tools.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(tools)
        layout.addWidget(self.message)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)

        sel_events, layer_events = selection.events.changed, layer.events.data
        on_sel, on_data = self._on_selection_changed, self._on_layer_data
        sel_events.connect(on_sel)
        layer_events.connect(on_data)
        self.destroyed.connect(lambda *_: (sel_events.disconnect(on_sel, missing_ok=True),
                                           layer_events.disconnect(on_data, missing_ok=True)))
        self._on_selection_changed(layer.name)

    # ------------------------------------------------------------------ filter and sort
    def set_filter(self, text: str) -> bool:
        """Filter the rows now (see :mod:`gui.attribute_table`); on a bad expression show
        the message, keep the previous filter and return ``False``."""
        self._filter_timer.stop()
        if self.filter_edit.text() != text:
            self.filter_edit.blockSignals(True)
            self.filter_edit.setText(text)
            self.filter_edit.blockSignals(False)
        try:
            self.model.set_filter(text)
        except FilterError as exc:
            self.message.setText(str(exc))
            return False
        self.message.setText("")
        return True

    def _apply_filter_text(self) -> None:
        self.set_filter(self.filter_edit.text())

    def sort_by(self, column: str, ascending: bool = True) -> None:
        """Sort by a column name (as clicking its header would)."""
        order = Qt.SortOrder.AscendingOrder if ascending else Qt.SortOrder.DescendingOrder
        self.view.sortByColumn(self.model.columns.index(column), order)

    def _on_selected_only(self, on: bool) -> None:
        self.model.set_row_subset(self.selection.rows(self.layer.name) if on else None)

    # ------------------------------------------------------------------ selection sync
    def selected_rows(self) -> np.ndarray:
        """Frame positions selected in the view (sorted, unique)."""
        sel = self.view.selectionModel().selection()
        parts = [np.arange(r.top(), r.bottom() + 1, dtype=np.int64) for r in sel]
        if not parts:
            return np.empty(0, dtype=np.int64)
        return np.unique(self.model.source_rows(np.concatenate(parts)))

    def select_rows(self, rows, mode: str = "replace") -> None:
        """Select frame positions in the shared Selection (the view follows)."""
        self.selection.select(self.layer.name, rows, mode=mode)

    def _on_view_selection(self, selected, deselected) -> None:
        if self._syncing:
            return
        rows = self.selected_rows()
        if self.selected_only.isChecked():
            # rows hidden by "selected only" stay selected unless deselected here
            shown = self.model.display_order()
            keep = np.setdiff1d(self.selection.rows(self.layer.name), shown)
            rows = np.union1d(rows, keep)
        self._syncing = True
        try:
            self.selection.select(self.layer.name, rows, mode="replace")
        finally:
            self._syncing = False
        self.model.set_selected(self.selection.rows(self.layer.name))
        self._update_status()

    def _on_selection_changed(self, name: str) -> None:
        if name != self.layer.name:
            return
        rows = self.selection.rows(name)
        self.model.set_selected(rows)
        if not self._syncing:
            if self.selected_only.isChecked():
                self.model.set_row_subset(rows)  # resets: _after_reset reselects
            else:
                self._apply_selection_to_view()
        self._update_status()

    def _apply_selection_to_view(self) -> None:
        sm = self.view.selectionModel()
        pos = self.model.positions_of(self.selection.rows(self.layer.name))
        self._syncing = True
        try:
            if len(pos) == 0:
                sm.clearSelection()
                return
            starts = np.flatnonzero(np.diff(pos, prepend=pos[0] - 2) != 1)
            ends = np.append(starts[1:], len(pos)) - 1
            if len(starts) > MAX_VIEW_RANGES:
                sm.clearSelection()  # highlighted through the model's BackgroundRole
                return
            last = self.model.columnCount() - 1
            qsel = QItemSelection()
            for a, b in zip(pos[starts].tolist(), pos[ends].tolist()):
                qsel.select(self.model.index(a, 0), self.model.index(b, last))
            sm.select(qsel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            sm.setCurrentIndex(self.model.index(int(pos[0]), 0),
                               QItemSelectionModel.SelectionFlag.NoUpdate)
        finally:
            self._syncing = False

    def _after_reset(self) -> None:
        self._apply_selection_to_view()
        self._update_status()

    def _on_layer_data(self) -> None:
        self.model.set_frame(self.layer.data)
        self.model.set_selected(self.selection.rows(self.layer.name))
        if self.filter_edit.text():
            self.set_filter(self.filter_edit.text())

    def _update_status(self) -> None:
        total, shown = self.model.frame.shape[0], self.model.rowCount()
        n = self.selection.count(self.layer.name)
        self.status.setText(
            self.tr("{0} of {1} rows shown, {2} selected").replace("{0}", f"{shown:,}")
            .replace("{1}", f"{total:,}").replace("{2}", f"{n:,}"))
        self.export_button.setEnabled(n > 0)
        self.zoom_button.setEnabled(n > 0 and self.layer.kind == "vector")
        self.clear_button.setEnabled(n > 0)

    # ------------------------------------------------------------------ actions
    def zoom_to_selected(self) -> None:
        """Emit :attr:`zoomToRows` with the selected frame positions (if any)."""
        rows = self.selection.rows(self.layer.name)
        if len(rows):
            self.zoomToRows.emit(self.layer.name, rows.copy())

    def _on_double_click(self, index: QModelIndex) -> None:
        if self.layer.kind == "vector":
            self.zoomToRows.emit(self.layer.name,
                                 np.array([self.model.source_row(index.row())], dtype=np.int64))

    def selection_frame(self) -> pd.DataFrame:
        """The selected rows, people counts suppressed (what an export writes)."""
        rows = self.selection.rows(self.layer.name)
        frame = self.layer.data.iloc[rows]
        return suppress_small_counts(frame, columns=None if self._people is None else
                                     [c for c in frame.columns if c in set(self._people)])

    def export_selection(self, path) -> Path:
        """Write the selected rows to ``path`` (.gpkg, .csv or .geojson), small people
        counts suppressed; log it in the workspace.  Raises ``ValueError`` when nothing
        is selected and :class:`layers.export.ExportError` when writing fails."""
        rows = self.selection.rows(self.layer.name)
        if not len(rows):
            raise ValueError(self.tr("Nothing is selected."))
        out = export_frame(self.selection_frame(), path, layer=self.layer.name)
        if self.workspace is not None:
            self.workspace.log("export", {"layer": self.layer.name, "rows": len(rows),
                                          "file": str(out), "suppressed": True})
        self.exported.emit(str(out))
        return out

    def _export_dialog(self) -> None:
        filters = [self.tr("GeoPackage (*.gpkg)"), self.tr("CSV (*.csv)")]
        if self.layer.kind == "vector":
            filters.append(self.tr("GeoJSON (*.geojson)"))
        path, chosen = QFileDialog.getSaveFileName(
            self, self.tr("Export selection"), f"{self.layer.name}_selection.gpkg",
            ";;".join(filters))
        if not path:
            return
        if not Path(path).suffix:
            ext = re.search(r"\*(\.\w+)", chosen or "")
            path += ext.group(1) if ext else ".gpkg"
        try:
            out = self.export_selection(path)
        except Exception as exc:  # noqa: BLE001 - shown to the user with its message
            box = QMessageBox(QMessageBox.Icon.Critical, self.tr("Export failed"), str(exc),
                              QMessageBox.StandardButton.Ok, self)
            box.open()
            return
        self.status.setText(self.tr("Exported {0} rows to {1}")
                            .replace("{0}", f"{self.selection.count(self.layer.name):,}")
                            .replace("{1}", str(out)))
