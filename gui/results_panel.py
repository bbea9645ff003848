"""The Results panel: a query result as a table, its sentence and counts, a bar
chart of grouped aggregates, "Add as layer" and "Export…".

People counts (the population columns and aggregates of them) are suppressed
with :mod:`spatial.privacy` in the table, the chart, the added layer and the
export.  The table is a :class:`FrameTableModel` over column arrays (no
per-row Python objects), so big results stay fast.
"""

from __future__ import annotations

import math
import re

import geopandas as gpd
import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from layers.export import export_frame
from layers.metadata import LayerMetadata
from layers.style import GraduatedStyle
from layers.vector import VectorLayer
from spatial.privacy import PEOPLE_COLUMNS, SUPPRESSION_THRESHOLD, suppress_small_counts
from spatial.query.model import QUERY_PREFIX, query_to_dict
from spatial.query.sentence import sentence
from spatial.schema import CLASSIFICATIONS

from .chart import BarChart

__all__ = [
    "MAX_BARS",
    "RESULTS_DEPARTMENT",
    "FrameTableModel",
    "ResultsPanel",
    "people_result_columns",
]

RESULTS_DEPARTMENT = "results"
#: At most this many bars (the largest values) in the chart of a grouped result.
MAX_BARS = 40
_PEOPLE_FNS = ("sum", "min", "max")


def people_result_columns(query, frame: pd.DataFrame) -> list[str]:
    """Columns of a result that count people: population columns, and aggregates
    (sum, min, max) of a population column."""
    extra = {a.as_ for a in query.aggregate if a.fn in _PEOPLE_FNS and a.column in PEOPLE_COLUMNS}
    if query.aggregate:  # aggregated: only the aggregate outputs are people counts
        return [c for c in frame.columns if c in extra]
    return [c for c in frame.columns if c in PEOPLE_COLUMNS or c in extra]


class FrameTableModel(QAbstractTableModel):
    """A read-only table over a DataFrame, without its geometry column.

    Cells are formatted on demand, only for the rows on screen: numeric columns
    are read from numpy arrays, others from the frame's own column arrays (no
    conversion up front, no per-row objects).  ``suppressed`` maps a column to a
    boolean mask of cells that read ``<5`` (suppressed people counts).  Sorting
    keeps a row permutation only.
    """

    def __init__(self, frame: pd.DataFrame | None = None, suppressed: dict | None = None,
                 parent=None):
        super().__init__(parent)
        self._names: list[str] = []
        self._arrays: list = []
        self._masks: list[np.ndarray | None] = []
        self._numeric: list[bool] = []
        self._order: np.ndarray | None = None
        self._frame = None
        self._n = 0
        self.set_frame(frame, suppressed)

    def set_frame(self, frame: pd.DataFrame | None, suppressed: dict | None = None) -> None:
        self.beginResetModel()
        suppressed = suppressed or {}
        self._frame = frame
        self._names, self._arrays, self._masks, self._numeric = [], [], [], []
        self._order = None
        self._n = 0 if frame is None else len(frame)
        if frame is not None:
            for col in frame.columns:
                series = frame[col]
                if not isinstance(series, pd.Series) or \
                        isinstance(series.dtype, gpd.array.GeometryDtype):
                    continue
                self._names.append(str(col))
                numeric = pd.api.types.is_numeric_dtype(series.dtype) and \
                    not pd.api.types.is_bool_dtype(series.dtype)
                self._numeric.append(numeric)
                if numeric:
                    self._arrays.append(series.to_numpy(dtype=float, na_value=np.nan))
                else:
                    self._arrays.append(series.array)  # indexed per visible cell
                self._masks.append(suppressed.get(col))
        self.endResetModel()

    @property
    def columns(self) -> list[str]:
        return list(self._names)

    def rowCount(self, parent=None) -> int:  # Qt override
        return 0 if parent is not None and parent.isValid() else self._n

    def columnCount(self, parent=None) -> int:  # Qt override
        return 0 if parent is not None and parent.isValid() else len(self._names)

    def row_of(self, view_row: int) -> int:
        """Position in the frame of a row of the (possibly sorted) view."""
        return int(self._order[view_row]) if self._order is not None else view_row

    def text(self, row: int, col: int) -> str:
        """The display text of a cell (view coordinates)."""
        r = self.row_of(row)
        value = self._arrays[col][r]
        mask = self._masks[col]
        if mask is not None and mask[r]:
            return f"<{SUPPRESSION_THRESHOLD}"
        return _format(value)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(index.row(), index.column())
        if role == Qt.ItemDataRole.TextAlignmentRole and self._numeric[index.column()]:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._names[section] if 0 <= section < len(self._names) else None
        return str(section + 1)

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self._names) or self._n == 0:
            return
        self.layoutAboutToBeChanged.emit()
        values = pd.Series(self._arrays[column])
        ascending = order == Qt.SortOrder.AscendingOrder
        try:
            ranked = values.sort_values(ascending=ascending, kind="stable", na_position="last")
        except TypeError:  # mixed types: sort their text
            text = values.map(lambda v: None if _missing(v) else str(v))
            ranked = text.sort_values(ascending=ascending, kind="stable", na_position="last")
        self._order = ranked.index.to_numpy()
        self.layoutChanged.emit()


def _missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (
        isinstance(value, float | np.floating) and math.isnan(value))


def _format(value) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        if float(value).is_integer() and abs(value) < 1e15:
            return f"{int(value)}"
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return str(value)


class ResultsPanel(QWidget):
    """Shows one query result at a time (:meth:`show_result`).

    Signals
    -------
    layerAdded(str)
        The name of a layer added to the workspace by "Add as layer".
    exported(str)
        The path of a file written by "Export…".
    """

    layerAdded = Signal(str)
    exported = Signal(str)

    def __init__(self, workspace, lang: str = "en", parent=None):
        super().__init__(parent)
        self.workspace = workspace
        self.lang = "zh" if str(lang).lower().startswith("zh") else "en"
        self.query = None
        self.result = None
        self._frame: pd.DataFrame | None = None
        self.people: list[str] = []
        self.export_worker = None

        self.sentence_label = QLabel(self.tr("Run a query in the Query panel to see its result here."))
        self.sentence_label.setWordWrap(True)
        self.sentence_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.counts_label = QLabel("")
        self.add_layer_button = QPushButton(self.tr("Add as layer"))
        self.add_layer_button.setToolTip(self.tr("Add the result to the map as a new layer"))
        self.add_layer_button.clicked.connect(self.add_as_layer)
        self.export_button = QPushButton(self.tr("Export…"))
        self.export_button.setToolTip(self.tr("Write the result to GeoPackage, GeoJSON or CSV"))
        self.export_button.clicked.connect(self.export)

        self.model = FrameTableModel(parent=self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setResizeContentsPrecision(100)

        self.chart = BarChart()
        self.chart_column = QComboBox()
        self.chart_column.setToolTip(self.tr("The aggregate shown in the chart"))
        self.chart_column.currentIndexChanged.connect(self._draw_chart)
        chart_page = QWidget()
        chart_layout = QVBoxLayout(chart_page)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        pick = QHBoxLayout()
        pick.addWidget(QLabel(self.tr("Show:")))
        pick.addWidget(self.chart_column, 1)
        chart_layout.addLayout(pick)
        chart_layout.addWidget(self.chart, 1)

        self.tabs = QTabWidget()
        self.tabs.addTab(self.table, self.tr("Table"))
        self.tabs.addTab(chart_page, self.tr("Chart"))

        buttons = QHBoxLayout()
        buttons.addWidget(self.counts_label, 1)
        buttons.addWidget(self.add_layer_button)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.sentence_label)
        layout.addLayout(buttons)
        layout.addWidget(self.tabs, 1)
        self._set_enabled(False)

    # ------------------------------------------------------------------ showing
    @property
    def frame(self) -> pd.DataFrame | None:
        """The shown result with people counts suppressed (what Add as layer and
        Export write); made on first use."""
        if self._frame is None and self.result is not None:
            data = self.result.data
            self._frame = suppress_small_counts(data, self.people) if self.people else data
        return self._frame

    def _set_enabled(self, on: bool) -> None:
        data = self.result.data if on and self.result is not None else None
        has_geometry = isinstance(data, gpd.GeoDataFrame) and \
            data.geometry.name in data.columns
        self.add_layer_button.setEnabled(bool(has_geometry))
        self.export_button.setEnabled(on)
        grouped = on and self.query is not None and self.query.group_by is not None
        self.tabs.setTabEnabled(1, bool(grouped))

    def titles(self) -> dict:
        """Layer name -> {"en", "zh"} titles (and ``query:NAME`` titles of saved queries)."""
        return self.workspace.titles()

    def show_result(self, query, result) -> None:
        """Show ``result`` (a QueryResult) of ``query`` (a parsed Query)."""
        self.query, self.result = query, result
        data = result.data
        self.people = people_result_columns(query, data)
        self._frame = None
        masks = {}
        for c in self.people:  # the cells that suppress_small_counts hides
            values = pd.to_numeric(data[c], errors="coerce")
            masks[c] = ((values > 0) & (values < SUPPRESSION_THRESHOLD)).to_numpy(
                dtype=bool, na_value=False)
        self.model.set_frame(data, masks)
        self.table.horizontalHeader().resizeSections(QHeaderView.ResizeMode.ResizeToContents)
        try:
            text = sentence(query, self.lang, self.titles())
        except (ValueError, TypeError):
            text = query.target
        title = (query.title or {}).get(self.lang)
        self.sentence_label.setText(f"<b>{_html(title)}</b><br>{_html(text)}" if title
                                    else _html(text))
        ms = f"{result.elapsed_s * 1000:,.0f}"
        if query.group_by is not None:
            counts = self.tr("{0} matched · {1} zones · {2} ms")
        else:
            counts = self.tr("{0} matched · {1} rows · {2} ms")
        self.counts_label.setText(counts.replace("{0}", f"{result.matched:,}")
                                  .replace("{1}", f"{len(data):,}").replace("{2}", ms))
        self._set_enabled(True)
        self.chart_column.blockSignals(True)
        self.chart_column.clear()
        if query.group_by is not None:
            for a in query.aggregate:
                if a.as_ in data.columns:
                    self.chart_column.addItem(a.as_, a.as_)
        self.chart_column.blockSignals(False)
        self._draw_chart()
        if query.group_by is None and self.tabs.currentIndex() == 1:
            self.tabs.setCurrentIndex(0)

    def clear(self) -> None:
        self.query = self.result = self._frame = None
        self.people = []
        self.model.set_frame(None)
        self.sentence_label.setText(self.tr("Run a query in the Query panel to see its result here."))
        self.counts_label.setText("")
        self.chart_column.clear()
        self.chart.clear()
        self._set_enabled(False)

    # ------------------------------------------------------------------ chart
    def zone_labels(self, keys: pd.Series) -> list[str]:
        """Readable zone names for the chart: the zone layer's ``name`` (``name_en``
        in English when present), else the key."""
        q = self.query
        layer = self.workspace.registry.get(q.group_by.layer)
        data = getattr(layer, "data", None)
        key = q.group_by.key
        if data is None or key not in data.columns:
            return [str(k) for k in keys]
        name_col = None
        for candidate in (("name_en", "name") if self.lang == "en" else ("name", "name_en")):
            if candidate in data.columns:
                name_col = candidate
                break
        if name_col is None:
            return [str(k) for k in keys]
        lookup = data.drop_duplicates(key).set_index(key)[name_col]
        names = keys.map(lookup)
        return [str(n) if isinstance(n, str) and n else str(k) for k, n in zip(keys, names)]

    def _chart_rows(self, column: str) -> pd.Series:
        """Which zones had matches: by a count aggregate when there is one, else by
        the chosen aggregate (non-zero sum, or a value for mean/min/max)."""
        data = self.result.data
        counts = [a.as_ for a in self.query.aggregate if a.fn == "count" and a.as_ in data]
        if counts:
            return pd.to_numeric(data[counts[0]], errors="coerce").fillna(0) > 0
        agg = next(a for a in self.query.aggregate if a.as_ == column)
        values = pd.to_numeric(data[column], errors="coerce")
        return values.fillna(0) != 0 if agg.fn == "sum" else values.notna()

    def _draw_chart(self, *_args) -> None:
        q = self.query
        if q is None or q.group_by is None or self.chart_column.count() == 0:
            self.chart.clear(self.tr("A chart appears for queries grouped by zone."))
            return
        column = self.chart_column.currentData()
        rows = np.flatnonzero(self._chart_rows(column).to_numpy())
        if not len(rows):
            self.chart.clear(self.tr("No zone has a match."))
            return
        values = pd.to_numeric(self.frame[column], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan)[rows]
        title = column
        if len(rows) > MAX_BARS:
            keep = np.argsort(np.nan_to_num(-values, nan=np.inf), kind="stable")[:MAX_BARS]
            title = self.tr("{0} (the {1} largest of {2} zones)").replace("{0}", column) \
                .replace("{1}", str(MAX_BARS)).replace("{2}", f"{len(rows):,}")
            rows, values = rows[keep], values[keep]
        labels = self.zone_labels(self.frame[q.group_by.key].iloc[rows])
        self.chart.set_bars(labels, values.tolist(), title=title, ylabel=column,
                            missing_text=f"<{SUPPRESSION_THRESHOLD}")

    # ------------------------------------------------------------------ actions
    def layer_name(self) -> str:
        """A unique layer name after the query (its English title, else its target)."""
        q = self.query
        base = (q.title or {}).get("en") or q.target.removeprefix(QUERY_PREFIX)
        if q.relation is not None and not (q.title or {}).get("en"):
            base += f"_{q.relation.kind}_{q.relation.layer.removeprefix(QUERY_PREFIX)}"
        if q.group_by is not None and not (q.title or {}).get("en"):
            base += f"_by_{q.group_by.layer}"
        slug = re.sub(r"[^0-9a-zA-Z]+", "_", base).strip("_").lower()[:48] or "query"
        base = f"result_{slug}"
        taken = {n.lower() for n in self.workspace.registry.names()}
        name, i = base, 2
        while name.lower() in taken:
            name, i = f"{base}_{i}", i + 1
        return name

    def _classification(self) -> str:
        """The strictest classification among the layers the query read."""
        q = self.query
        names = {q.target}
        if q.relation is not None:
            names.add(q.relation.layer)
        if q.group_by is not None:
            names.add(q.group_by.layer)
        if q.target == "buildings":
            names.add("population")
        levels = [CLASSIFICATIONS.index(layer.metadata.classification)
                  for layer in self.workspace.registry if layer.name in names]
        return CLASSIFICATIONS[max(levels)] if levels else "internal"

    def add_as_layer(self, name: str | None = None):
        """Add the shown result to the workspace as a VectorLayer (department
        "results"); grouped results are the zones styled by their first aggregate."""
        if self.frame is None or not isinstance(self.frame, gpd.GeoDataFrame):
            return None
        q = self.query
        name = name or self.layer_name()
        data = self.frame.reset_index(drop=True)
        sentence_en = sentence(q, "en", self.titles())
        sentence_zh = sentence(q, "zh", self.titles())
        title = q.title or {}
        metadata = LayerMetadata(
            department=RESULTS_DEPARTMENT,
            title_en=title.get("en") or sentence_en,
            title_zh=title.get("zh") or sentence_zh,
            classification=self._classification(),
            source=f"CityFrame query: {sentence_en}",
            crs=data.crs.to_string() if data.crs is not None else "",
            extra={"query": query_to_dict(q), "matched": int(self.result.matched),
                   "suppressed_columns": list(self.people)},
        )
        style = None
        if q.group_by is not None and q.aggregate:
            column = q.aggregate[0].as_
            values = pd.to_numeric(data[column], errors="coerce").astype(float).rename(column)
            if values.notna().any():
                try:
                    style = GraduatedStyle.from_data(values, k=5, method="quantiles",
                                                     ramp="blues")
                except ValueError:
                    style = None
        layer = VectorLayer(name, data, metadata, style)
        self.workspace.add_layer(layer)
        self.workspace.log("add_result_layer", {"layer": name, "query": query_to_dict(q),
                                                "rows": len(data)})
        self.layerAdded.emit(name)
        return layer

    def export_to(self, path):
        """Write the shown result (people counts suppressed) to ``path``."""
        from pathlib import Path

        path = Path(path)
        written = export_frame(self.frame, path, layer=self.layer_name())
        self.workspace.log("export", {"file": str(written), "query": query_to_dict(self.query),
                                      "rows": len(self.frame)})
        self.exported.emit(str(written))
        return written

    def export(self) -> None:
        """Ask for a file and export the result to it."""
        if self.frame is None:
            return
        geo = isinstance(self.frame, gpd.GeoDataFrame)
        filters = [self.tr("GeoPackage (*.gpkg)"), self.tr("GeoJSON (*.geojson)"),
                   self.tr("CSV (*.csv)")] if geo else [self.tr("CSV (*.csv)"),
                                                        self.tr("GeoPackage (*.gpkg)")]
        suffix = ".gpkg" if geo else ".csv"
        folder = self.workspace.folder
        start = str(folder / (self.layer_name() + suffix)) if folder else self.layer_name() + suffix
        path, chosen = QFileDialog.getSaveFileName(self, self.tr("Export result"), start,
                                                   ";;".join(filters))
        if not path:
            return
        if "." not in path.rsplit("/", 1)[-1]:
            path += re.search(r"\*(\.\w+)", chosen).group(1) if chosen else suffix
        self.export_in_background(path)

    def export_in_background(self, path):
        """Export in a worker (big results take seconds); errors are shown."""
        from .workers import start_worker

        frame, query, name = self.frame, self.query, self.layer_name()
        self.export_button.setEnabled(False)
        self.counts_label.setText(self.tr("Exporting to {0}…").replace("{0}", str(path)))

        def done(written) -> None:
            self.export_button.setEnabled(self.result is not None)
            self.counts_label.setText(self.tr("Exported to {0}").replace("{0}", str(written)))
            self.workspace.log("export", {"file": str(written), "query": query_to_dict(query),
                                          "rows": len(frame)})
            self.exported.emit(str(written))

        def failed(message: str) -> None:
            self.export_button.setEnabled(self.result is not None)
            self.counts_label.setText(self.tr("Export failed"))
            QMessageBox.warning(self, self.tr("Export failed"), message)

        self.export_worker = start_worker(
            lambda feedback: export_frame(frame, path, layer=name),
            on_finished=done, on_error=failed)
        return self.export_worker


def _html(text: str) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
