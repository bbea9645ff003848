"""The Drills panel: set up a hazard, preview its footprint, run the drill in a
worker, read the impact, export lists and reports, save and compare scenarios.

The form writes a version-1 scenario document (DESIGN.md, "The scenario
file") and checks it with :func:`spatial.drill.scenario.parse_scenario` on
every change: an invalid one shows the model's message (JSON key and reason)
and disables Run.  A point is placed by clicking the map (the canvas's
``draw_point`` tool), taken from a hazardous-chemical site, or kept from a
loaded scenario; a ``drawn`` hazard is drawn with ``draw_polygon``.

The footprint is previewed on the map (highlight ``drill_footprint``): for
point and drawn kinds :func:`spatial.drill.hazard.footprint` is cheap and runs
on a short debounce timer; zones and rasters compute it in a worker.  Run
calls :func:`spatial.drill.impact.run_drill` in a worker (progress bar,
Cancel); the UI thread never runs it.  The result shows as tables and a bar
chart; affected buildings, enterprises, facilities and shelter routes are
highlighted on the map.  Reports (HTML, PDF) and the interactive map are
written by ``spatial.drill.report`` / ``webmap`` and ``gui.report_pdf``, in a
worker too.  People counts the summary suppressed (``None``) read ``<5``.

Gui is thin here: no geometry is computed in this module beyond reading a
site's coordinates; everything else is ``spatial.drill``'s.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
import weakref
from pathlib import Path

import numpy as np
import pandas as pd
from PySide6.QtCore import QCoreApplication, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDial,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from layers.export import export_frame
from layers.raster import RasterLayer
from layers.vector import VectorLayer
from spatial.drill.report import compass
from spatial.privacy import SUPPRESSION_THRESHOLD

from .chart import BarChart
from .results_panel import FrameTableModel
from .workers import CancellableRun, start_worker

__all__ = [
    "COMPASS",
    "KINDS",
    "CompareDialog",
    "DrillsPanel",
    "compass_point",
    "key_numbers",
    "session_runs",
]

#: Hazard kinds in the order the form offers them.
KINDS = ("plume", "buffer", "zones", "raster", "drawn")
POINT_KINDS = ("plume", "buffer")
#: Kinds whose footprint is cheap enough to preview on the UI thread.
CHEAP_KINDS = ("plume", "buffer", "drawn")
SHAPES = ("sector", "gaussian")
COMPASS = ("N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE",
           "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW")
#: Facility layers listed in the summary, in this order (whichever exist).
FACILITY_LAYERS = ("schools", "kindergartens", "hospitals", "clinics", "elderly_care")
#: Layers offered as "around every feature of" sources of a buffer hazard (when present).
BUFFER_LAYERS = ("hazardous_sites", "gas_stations", "pollution_sources")
LAYER_SOURCE = "@layer:"  # site-combo data of such a source
MAX_SITES = 2000
MAX_RUNS = 10
PREVIEW_DELAY_MS = 150

FOOTPRINT_KEY = "drill_footprint"
BUILDINGS_KEY = "drill_buildings"
ENTITIES_KEY = "drill_entities"
FACILITIES_KEY = "drill_facilities"
ROUTES_KEY = "drill_routes"
RESULT_KEYS = (BUILDINGS_KEY, ENTITIES_KEY, FACILITIES_KEY, ROUTES_KEY)

_SUPPRESSED = f"<{SUPPRESSION_THRESHOLD}"



def _lang(lang: str) -> str:
    return "zh" if str(lang).lower().startswith("zh") else "en"


def compass_point(deg: float) -> str:
    """The 16-point compass name of a bearing in degrees (``45`` -> ``"NE"``)."""
    return COMPASS[int((float(deg) % 360.0) / 22.5 + 0.5) % 16]


def kind_label(kind: str) -> str:
    labels = {
        "plume": QCoreApplication.translate("DrillsPanel", "Gas plume (wind)"),
        "buffer": QCoreApplication.translate("DrillsPanel", "Rings around a point"),
        "zones": QCoreApplication.translate("DrillsPanel", "Zones of a polygon layer"),
        "raster": QCoreApplication.translate("DrillsPanel", "Raster above a threshold"),
        "drawn": QCoreApplication.translate("DrillsPanel", "Area drawn on the map"),
    }
    return labels.get(kind, kind)


def shape_label(shape: str) -> str:
    return {"sector": QCoreApplication.translate("DrillsPanel", "Sector"), "gaussian": QCoreApplication.translate("DrillsPanel", "Gaussian teardrop")}.get(shape, shape)


def _number(v: float) -> int | float:
    """A spin box value as it reads in JSON: whole numbers without ``.0``."""
    v = float(v)
    return int(v) if v.is_integer() and abs(v) < 2**53 else v


def _compact(combo: QComboBox, chars: int = 10) -> QComboBox:
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(chars)
    return combo


def _people(value) -> str:
    """A people count as shown: ``<5`` when suppressed (``None``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _SUPPRESSED
    return f"{round(float(value)):,}"


def _count(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    v = float(value)
    return f"{int(v):,}" if v.is_integer() else f"{v:,.1f}"


def _slug(text: str, default: str = "drill") -> str:
    return re.sub(r"[^0-9a-zA-Z]+", "_", text or "").strip("_").lower()[:40] or default


def _title_of(summary_or_scenario, lang: str) -> str:
    title = summary_or_scenario.get("title") if isinstance(summary_or_scenario, dict) \
        else getattr(summary_or_scenario, "title", None)
    if isinstance(title, dict):
        return title.get(lang) or title.get("en") or title.get("zh") or ""
    return str(title or "")


def _first_line(message: str) -> str:
    message = (message or "").strip()
    return message.splitlines()[0] if message else message


# =========================================================================== session runs

_RUNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def session_runs(workspace) -> list[dict]:
    """This session's drill runs on ``workspace`` (newest last): dicts with
    ``label``, ``time`` and ``result`` (a DrillResult).  Kept per workspace, so a
    panel rebuilt after a language switch still offers them for comparison."""
    return _RUNS.setdefault(workspace, [])


# =========================================================================== key numbers

def _facility(summary: dict, layer: str) -> dict:
    return (summary.get("facilities") or {}).get(layer) or {}


def _is_hazardous(entity: dict) -> bool:
    return bool(entity.get("hazardous") or entity.get("hazard_class"))


def facility_label(layer: str) -> str:
    labels = {"schools": QCoreApplication.translate("DrillsPanel", "Schools"), "kindergartens": QCoreApplication.translate("DrillsPanel", "Kindergartens"),
              "hospitals": QCoreApplication.translate("DrillsPanel", "Hospitals"), "clinics": QCoreApplication.translate("DrillsPanel", "Clinics"),
              "elderly_care": QCoreApplication.translate("DrillsPanel", "Elderly-care homes")}
    return labels.get(layer, layer)


def _extra_label(extra: str) -> str:
    return {"pupils": QCoreApplication.translate("DrillsPanel", "pupils"), "beds": QCoreApplication.translate("DrillsPanel", "beds"), "capacity": QCoreApplication.translate("DrillsPanel", "places")}.get(extra,
                                                                                        extra)


def key_numbers(summary: dict, titles: dict | None = None) -> list[tuple[str, str, object, bool]]:
    """The headline numbers of a drill summary as ``(key, label, value, people)``
    rows (``people``: a people count, shown ``<5`` when ``None``).  Used by the
    summary table and the comparison.  ``titles`` maps facility layers to labels."""
    titles = titles or {}
    entities = summary.get("legal_entities") or []
    hazardous = sum(1 for e in entities if _is_hazardous(e))
    shelters = summary.get("shelters") or {}
    roads = summary.get("roads_cut") or {}
    rows = [
        ("residents", QCoreApplication.translate("DrillsPanel", "Residents"), summary.get("residents"), True),
        ("age_0_14", QCoreApplication.translate("DrillsPanel", "Aged 0–14"), summary.get("age_0_14"), True),
        ("age_15_64", QCoreApplication.translate("DrillsPanel", "Aged 15–64"), summary.get("age_15_64"), True),
        ("age_65_plus", QCoreApplication.translate("DrillsPanel", "Aged 65 and over"), summary.get("age_65_plus"), True),
        ("buildings", QCoreApplication.translate("DrillsPanel", "Buildings"), summary.get("buildings"), False),
        ("legal_entities", QCoreApplication.translate("DrillsPanel", "Enterprises to notify"), len(entities), False),
        ("hazardous", QCoreApplication.translate("DrillsPanel", "Hazardous-chemical enterprises"), hazardous, False),
        ("employees", QCoreApplication.translate("DrillsPanel", "Employees of these enterprises"), summary.get("employees"), True),
    ]
    facilities = summary.get("facilities") or {}
    order = [n for n in FACILITY_LAYERS if n in facilities] + \
        [n for n in facilities if n not in FACILITY_LAYERS]
    for layer in order:
        fac = facilities.get(layer) or {}
        label = titles.get(layer) or facility_label(layer)
        rows.append((layer, label, fac.get("count", 0), False))
        for extra in ("pupils", "beds", "capacity"):
            if extra in fac:
                rows.append((f"{layer}.{extra}", f"{label}: {_extra_label(extra)}",
                             fac.get(extra), extra == "pupils"))
    if roads.get("count"):
        rows.append(("roads_cut", QCoreApplication.translate("DrillsPanel", "Roads cut"), roads.get("count"), False))
        rows.append(("roads_cut.length_m", QCoreApplication.translate("DrillsPanel", "Length of roads cut (m)"),
                     None if roads.get("length_m") is None else round(roads["length_m"]),
                     False))
    if shelters and shelters.get("method") == "none":  # no assignment asked for: no capacity
        rows.append(("shelters.displaced", QCoreApplication.translate(
            "DrillsPanel", "Displaced residents"), shelters.get("displaced"), True))
    elif shelters:
        rows += [
            ("shelters.displaced", QCoreApplication.translate("DrillsPanel", "Displaced residents"), shelters.get("displaced"), True),
            ("shelters.capacity", QCoreApplication.translate("DrillsPanel", "Shelter capacity"), shelters.get("capacity"), False),
            ("shelters.unsheltered", QCoreApplication.translate("DrillsPanel", "Unsheltered"), shelters.get("unsheltered"), True),
            ("shelters.longest_walk_m", QCoreApplication.translate("DrillsPanel", "Longest walk (m)"),
             None if shelters.get("longest_walk_m") is None
             else round(shelters["longest_walk_m"]), False),
        ]
    return rows


def _format_value(value, people: bool) -> str:
    return _people(value) if people else _count(value)


def _difference(a, b, people: bool) -> str:
    if a is None or b is None:
        return "—" if not people else QCoreApplication.translate("DrillsPanel", "n/a")
    try:
        d = float(b) - float(a)
    except (TypeError, ValueError):
        return "—"
    text = f"{int(d):+,}" if d.is_integer() else f"{d:+,.1f}"
    return "±0" if d == 0 else text


# =========================================================================== panel

class DrillsPanel(CancellableRun, QWidget):
    """The Drills dock: scenario form, live preview, run, results, reports.

    Parameters
    ----------
    workspace : layers.workspace.Workspace
    canvas : gui.canvas.MapCanvas, optional
        For placing points, drawing areas and the map highlights.
    lang : "en" or "zh"

    Signals
    -------
    resultReady(object)
        The DrillResult of a finished run.
    runStateChanged(bool)
        A run started (True) or ended (False).
    previewChanged()
        The footprint preview was updated (or cleared).
    scenarioSaved(str)
        The name a scenario was saved under in the workspace.
    fileWritten(str)
        A list, report or map written by the panel.
    """

    resultReady = Signal(object)
    runStateChanged = Signal(bool)
    previewChanged = Signal()
    scenarioSaved = Signal(str)
    fileWritten = Signal(str)

    def __init__(self, workspace, canvas=None, lang: str = "en", parent=None):
        super().__init__(parent)
        if workspace is None:
            raise TypeError("DrillsPanel needs a workspace")
        self.workspace = workspace
        self.canvas = canvas
        self.lang = _lang(lang)
        self.scenario = None          # the parsed Scenario of the form, or None
        self.error: str | None = None  # the form's problem ("key: reason"), or None
        self.result = None            # the DrillResult shown
        self.preview = None           # the footprint GeoDataFrame shown, or None
        self.worker = None            # the running drill
        self.preview_worker = None
        self.file_worker = None
        self._cancel_requested = False
        self._preview_generation = 0
        self._awaiting: str | None = None   # "point" or "polygon" while the map tool is ours
        self._tool_before: str | None = None
        self._point: tuple[float, float, str] | None = None  # x, y, crs
        self._source_layer: str | None = None  # buffer around every feature of this layer
        self._drawn: dict | None = None     # GeoJSON geometry
        self._drawn_crs: str | None = None
        self._title_other: dict = {}
        self._hazard_extra: dict = {}       # keys of a loaded hazard the form does not edit
        self._doc_extra: dict = {}          # "needs", "population" of a loaded scenario
        self._loaded_name: str | None = None
        self._loading = 0
        self._zoom_next = False  # show the next preview whole (after loading or picking a site)

        self._build_ui()
        self._loading += 1
        self._set_defaults()
        self._loading -= 1
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self.update_preview)
        self._populate()
        if canvas is not None:
            canvas.geometryDrawn.connect(self._on_drawn)
        ev = workspace.registry.events
        for signal in (ev.added, ev.removed):
            signal.connect(self._on_registry)
        app = QCoreApplication.instance()
        if app is not None:  # a drill still running must not hold up the exit
            app.aboutToQuit.connect(self.cancel)
        self._changed()

    # ------------------------------------------------------------------ UI
    def _build_ui(self) -> None:
        self.setMinimumWidth(300)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._build_setup(), self.tr("Scenario"))
        results = QScrollArea()  # the dock may be short: scroll rather than grow the window
        results.setWidgetResizable(True)
        results.setFrameShape(QFrame.Shape.NoFrame)
        results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        results.setWidget(self._build_results())
        self.tabs.addTab(results, self.tr("Impact"))
        self.tabs.setTabEnabled(1, False)

        self.run_button = QPushButton(self.tr("Run drill"))
        self.run_button.setDefault(True)
        self.run_button.setToolTip(self.tr("Compute the impact of the hazard (in the background)"))
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setStyleSheet(
            "QLabel { color: #a61b1b; background: #fdecec; border: 1px solid #f2b8b8;"
            " border-radius: 3px; padding: 4px; }")
        self.error_label.hide()
        self.hint_label = QLabel("")
        self.hint_label.setWordWrap(True)
        self.hint_label.setStyleSheet("QLabel { color: #555555; }")

        run_row = QHBoxLayout()
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.cancel_button)
        run_row.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.hint_label)
        layout.addLayout(run_row)
        layout.addWidget(self.status_label)

    def _build_setup(self) -> QWidget:
        # ---- scenario
        self.scenario_combo = _compact(QComboBox(), 14)
        self.scenario_combo.setToolTip(self.tr("A scenario saved in the workspace, or a new one"))
        self.scenario_combo.activated.connect(self._scenario_picked)
        self.title_edit = QLineEdit()
        self.title_edit.setPlaceholderText(self.tr("e.g. Chlorine leak drill"))
        self.title_edit.textChanged.connect(self._changed)
        self.save_button = QPushButton(self.tr("Save scenario…"))
        self.save_button.setToolTip(self.tr("Keep the scenario in the workspace"))
        self.save_button.clicked.connect(lambda: self.save_scenario())
        self.compare_button = QPushButton(self.tr("Compare…"))
        self.compare_button.setToolTip(self.tr("Two scenarios or runs side by side"))
        self.compare_button.clicked.connect(lambda: self.open_compare())
        scen_box = QGroupBox(self.tr("Scenario"))
        form = QFormLayout(scen_box)
        form.addRow(self.tr("Saved:"), self.scenario_combo)
        form.addRow(self.tr("Title:"), self.title_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.compare_button)
        buttons.addStretch(1)
        form.addRow(buttons)

        # ---- hazard kind and where
        self.kind_combo = _compact(QComboBox(), 14)
        for kind in KINDS:
            self.kind_combo.addItem(kind_label(kind), kind)
        self.kind_combo.currentIndexChanged.connect(self._kind_changed)
        hazard_box = QGroupBox(self.tr("Hazard"))
        hform = QFormLayout(hazard_box)
        hform.addRow(self.tr("Kind:"), self.kind_combo)
        self.where_stack = QStackedWidget()
        self.where_stack.addWidget(self._build_point_page())
        self.where_stack.addWidget(self._build_zones_page())
        self.where_stack.addWidget(self._build_raster_page())
        self.where_stack.addWidget(self._build_drawn_page())
        hform.addRow(self.where_stack)

        # ---- parameters of point kinds
        self.params_box = QGroupBox(self.tr("Parameters"))
        self.wind_dial = QDial()
        self.wind_dial.setRange(0, 360)
        self.wind_dial.setWrapping(True)
        self.wind_dial.setNotchesVisible(True)
        self.wind_dial.setNotchTarget(22.5)
        self.wind_dial.setFixedSize(72, 72)
        self.wind_dial.setToolTip(self.tr("Where the wind blows from (north at the top)"))
        self.wind_dial.valueChanged.connect(self._dial_moved)
        self.wind_spin = QSpinBox()
        self.wind_spin.setRange(0, 359)
        self.wind_spin.setWrapping(True)
        self.wind_spin.setSuffix("°")
        self.wind_spin.setToolTip(self.tr("Wind direction: where it blows FROM, clockwise from "
                                          "north (0 = N, 45 = NE, 90 = E …)"))
        self.wind_spin.valueChanged.connect(self._wind_changed)
        self.wind_hint = QLabel("")
        self.wind_hint.setStyleSheet("QLabel { color: #555555; }")
        self.wind_hint.setWordWrap(True)
        self.length_spin = QSpinBox()
        self.length_spin.setRange(10, 100000)
        self.length_spin.setSingleStep(250)
        self.length_spin.setSuffix(self.tr(" m"))
        self.length_spin.setToolTip(self.tr("How far downwind the plume reaches"))
        self.length_spin.valueChanged.connect(self._changed)
        self.spread_spin = QSpinBox()
        self.spread_spin.setRange(1, 179)
        self.spread_spin.setSuffix("°")
        self.spread_spin.setToolTip(self.tr("Full opening angle of the plume"))
        self.spread_spin.valueChanged.connect(self._changed)
        self.shape_combo = QComboBox()
        for shape in SHAPES:
            self.shape_combo.addItem(shape_label(shape), shape)
        self.shape_combo.currentIndexChanged.connect(self._changed)
        self.rings_edit = QLineEdit()
        self.rings_edit.setPlaceholderText("500, 1000")
        self.rings_edit.setToolTip(self.tr("Distances in metres that split the area into bands, "
                                           "ascending, separated by commas"))
        self.rings_edit.textChanged.connect(self._changed)

        wind_row = QHBoxLayout()
        wind_col = QVBoxLayout()
        wind_col.addWidget(self.wind_spin)
        wind_col.addWidget(self.wind_hint)
        wind_col.addStretch(1)
        wind_row.addWidget(self.wind_dial)
        wind_row.addLayout(wind_col, 1)
        self.wind_widget = QWidget()
        self.wind_widget.setLayout(wind_row)
        wind_row.setContentsMargins(0, 0, 0, 0)
        pform = QFormLayout(self.params_box)
        pform.addRow(self.tr("Wind from:"), self.wind_widget)
        pform.addRow(self.tr("Length:"), self.length_spin)
        pform.addRow(self.tr("Spread:"), self.spread_spin)
        pform.addRow(self.tr("Shape:"), self.shape_combo)
        pform.addRow(self.tr("Rings (m):"), self.rings_edit)
        self._params_form = pform

        # ---- shelters
        self.shelter_layer_combo = _compact(QComboBox(), 12)
        self.shelter_layer_combo.currentIndexChanged.connect(self._shelter_layer_changed)
        self.capacity_combo = _compact(QComboBox(), 10)
        self.capacity_combo.currentIndexChanged.connect(self._changed)
        shelter_box = QGroupBox(self.tr("Shelters"))
        sform = QFormLayout(shelter_box)
        sform.addRow(self.tr("Layer:"), self.shelter_layer_combo)
        sform.addRow(self.tr("Capacity:"), self.capacity_combo)
        self.needs_button = QPushButton(self.tr("Needs profile…"))
        self.needs_button.setToolTip(self.tr("Minimum needs per displaced person per day "
                                             "(water, food, toilets …): edit the rates"))
        self.needs_button.clicked.connect(self.edit_needs)
        sform.addRow(self.tr("Needs:"), self.needs_button)

        page = QWidget()
        v = QVBoxLayout(page)
        v.setContentsMargins(2, 2, 2, 2)
        for box in (scen_box, hazard_box, self.params_box, shelter_box):
            v.addWidget(box)
        v.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(page)
        return scroll

    def _build_point_page(self) -> QWidget:
        self.place_button = QPushButton(self.tr("Place on map"))
        self.place_button.setCheckable(True)
        self.place_button.setToolTip(self.tr("Click the map where the hazard starts"))
        self.place_button.clicked.connect(self._place_clicked)
        self.site_combo = _compact(QComboBox(), 14)
        self.site_combo.setEditable(True)
        self.site_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.site_combo.lineEdit().setPlaceholderText(self.tr("or pick a hazardous site…"))
        completer = self.site_combo.completer()
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.site_combo.setToolTip(self.tr("Hazardous-chemical sites and enterprises with a "
                                           "hazard class; type to search"))
        self.site_combo.activated.connect(self._site_picked)
        self.point_label = QLabel(self.tr("No point yet"))
        self.point_label.setWordWrap(True)
        self.point_label.setStyleSheet("QLabel { color: #555555; }")
        page = QWidget()
        grid = QGridLayout(page)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(QLabel(self.tr("Source:")), 0, 0)
        grid.addWidget(self.site_combo, 0, 1)
        grid.addWidget(self.place_button, 1, 0)
        grid.addWidget(self.point_label, 1, 1)
        grid.setColumnStretch(1, 1)
        return page

    def _build_zones_page(self) -> QWidget:
        self.zones_layer_combo = _compact(QComboBox(), 12)
        self.zones_layer_combo.currentIndexChanged.connect(self._zones_layer_changed)
        self.class_combo = _compact(QComboBox(), 10)
        self.class_combo.currentIndexChanged.connect(self._changed)
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.tr("Layer:"), self.zones_layer_combo)
        form.addRow(self.tr("Class column:"), self.class_combo)
        return page

    def _build_raster_page(self) -> QWidget:
        self.raster_combo = _compact(QComboBox(), 12)
        self.raster_combo.currentIndexChanged.connect(self._changed)
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setRange(-1e9, 1e9)
        self.threshold_spin.setDecimals(2)
        self.threshold_spin.setSingleStep(0.1)
        self.threshold_spin.setValue(0.3)
        self.threshold_spin.setToolTip(self.tr("Cells at or above this value are the hazard "
                                               "(e.g. flood depth 0.3 m)"))
        self.threshold_spin.valueChanged.connect(self._changed)
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.tr("Raster:"), self.raster_combo)
        form.addRow(self.tr("At least:"), self.threshold_spin)
        return page

    def _build_drawn_page(self) -> QWidget:
        self.draw_button = QPushButton(self.tr("Draw on map"))
        self.draw_button.setCheckable(True)
        self.draw_button.setToolTip(self.tr("Click the corners; double-click or Enter finishes"))
        self.draw_button.clicked.connect(self._draw_clicked)
        self.drawn_label = QLabel(self.tr("No area drawn yet"))
        self.drawn_label.setWordWrap(True)
        self.drawn_label.setStyleSheet("QLabel { color: #555555; }")
        page = QWidget()
        row = QHBoxLayout(page)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.draw_button)
        row.addWidget(self.drawn_label, 1)
        return page

    def _table_view(self, model) -> QTableView:
        view = QTableView()
        view.setModel(model)
        # keep the summary's order (hazardous first …) until a header is clicked
        view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        view.setSortingEnabled(True)
        view.setAlternatingRowColors(True)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.verticalHeader().setDefaultSectionSize(22)
        view.verticalHeader().hide()
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        view.horizontalHeader().setStretchLastSection(True)
        return view

    def _small_table(self, headers: list[str]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(22)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for i in range(1, len(headers)):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        return table

    def _build_results(self) -> QWidget:
        self.headline = QLabel(self.tr("Run a drill to see its impact here."))
        self.headline.setWordWrap(True)
        self.headline.setTextFormat(Qt.TextFormat.RichText)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # summary: key numbers
        self.summary_table = self._small_table([self.tr("Impact"), self.tr("Count")])
        # per band
        self.bands_table = self._small_table([self.tr("Band"), self.tr("Residents"),
                                              self.tr("0–14"), self.tr("15–64"), self.tr("65+"),
                                              self.tr("Buildings"), self.tr("Enterprises")])
        self.bands_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents)
        # chart
        self.chart = BarChart()
        self.chart.canvas.setMinimumHeight(120)
        self.chart_combo = QComboBox()
        self.chart_combo.addItem(self.tr("Residents by age group"), "age")
        self.chart_combo.addItem(self.tr("Residents per band"), "band_residents")
        self.chart_combo.addItem(self.tr("Buildings per band"), "band_buildings")
        self.chart_combo.currentIndexChanged.connect(self._draw_chart)
        people_page = QWidget()
        pv = QVBoxLayout(people_page)
        pv.setContentsMargins(0, 0, 0, 0)
        pv.addWidget(self.summary_table)

        chart_page = QWidget()
        cv = QVBoxLayout(chart_page)
        cv.setContentsMargins(0, 0, 0, 0)
        pick = QHBoxLayout()
        pick.addWidget(QLabel(self.tr("Show:")))
        pick.addWidget(self.chart_combo, 1)
        cv.addLayout(pick)
        cv.addWidget(self.chart, 3)
        cv.addWidget(QLabel(self.tr("Per band (most severe first):")))
        cv.addWidget(self.bands_table, 2)

        # enterprises to notify
        self.entities_model = FrameTableModel(parent=self)
        self.entities_view = self._table_view(self.entities_model)
        self.export_entities_button = QPushButton(self.tr("Export CSV…"))
        self.export_entities_button.setToolTip(self.tr("The enterprises to notify, as a CSV file"))
        self.export_entities_button.clicked.connect(lambda: self.export_list("entities"))
        ent_page = QWidget()
        ev = QVBoxLayout(ent_page)
        ev.setContentsMargins(0, 0, 0, 0)
        self.entities_label = QLabel("")
        self.entities_label.setWordWrap(True)
        ev.addWidget(self.entities_label)
        ev.addWidget(self.entities_view, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.export_entities_button)
        ev.addLayout(row)

        # facilities
        self.facilities_model = FrameTableModel(parent=self)
        self.facilities_view = self._table_view(self.facilities_model)
        self.export_facilities_button = QPushButton(self.tr("Export CSV…"))
        self.export_facilities_button.setToolTip(
            self.tr("Schools, hospitals and care homes in the area, as a CSV file"))
        self.export_facilities_button.clicked.connect(lambda: self.export_list("facilities"))
        fac_page = QWidget()
        fv = QVBoxLayout(fac_page)
        fv.setContentsMargins(0, 0, 0, 0)
        fv.addWidget(self.facilities_view, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.export_facilities_button)
        fv.addLayout(row)

        # shelters and needs
        self.shelter_label = QLabel("")
        self.shelter_label.setWordWrap(True)
        self.shelter_label.setTextFormat(Qt.TextFormat.RichText)
        self.shelters_model = FrameTableModel(parent=self)
        self.shelters_view = self._table_view(self.shelters_model)
        self.needs_table = self._small_table([self.tr("Need"), self.tr("Per day"),
                                              self.tr("Unit")])
        shel_page = QWidget()
        sv = QVBoxLayout(shel_page)
        sv.setContentsMargins(0, 0, 0, 0)
        sv.addWidget(self.shelter_label)
        self.routes_check = QCheckBox(self.tr("Show the walks to the shelters on the map"))
        self.routes_check.setToolTip(self.tr("A line from each affected building to its shelter"))
        self.routes_check.toggled.connect(self._show_routes)
        sv.addWidget(self.routes_check)
        sv.addWidget(self.shelters_view, 3)
        self.needs_label = QLabel(self.tr("Needs of the displaced per day:"))
        self.needs_label.setWordWrap(True)
        sv.addWidget(self.needs_label)
        sv.addWidget(self.needs_table, 2)

        self.result_tabs = QTabWidget()
        self.result_tabs.addTab(people_page, self.tr("Summary"))
        self.result_tabs.addTab(chart_page, self.tr("Chart"))
        self.result_tabs.addTab(ent_page, self.tr("Notify"))
        self.result_tabs.addTab(fac_page, self.tr("Facilities"))
        self.result_tabs.addTab(shel_page, self.tr("Shelters"))

        self.report_button = QPushButton(self.tr("Report (HTML)…"))
        self.report_button.setToolTip(self.tr("One self-contained HTML drill report"))
        self.report_button.clicked.connect(lambda: self.write_output("html"))
        self.pdf_button = QPushButton(self.tr("PDF…"))
        self.pdf_button.setToolTip(self.tr("The drill report as PDF"))
        self.pdf_button.clicked.connect(lambda: self.write_output("pdf"))
        self.map_button = QPushButton(self.tr("Interactive map…"))
        self.map_button.setToolTip(self.tr("An HTML map that opens offline in any browser"))
        self.map_button.clicked.connect(lambda: self.write_output("map"))
        out_box = QWidget()
        orow = QHBoxLayout(out_box)
        orow.setContentsMargins(0, 2, 0, 0)
        orow.setSpacing(4)
        orow.addWidget(self.report_button)
        orow.addWidget(self.pdf_button)
        orow.addWidget(self.map_button)
        orow.addStretch(1)

        page = QWidget()
        v = QVBoxLayout(page)
        v.setContentsMargins(2, 2, 2, 2)
        v.addWidget(self.headline)
        v.addWidget(self.result_tabs, 1)
        v.addWidget(out_box)
        return page

    def sizeHint(self) -> QSize:
        return QSize(380, super().sizeHint().height())

    # ------------------------------------------------------------------ populate
    def _layer_title(self, name: str) -> str:
        try:
            title = self.workspace.layer(name).metadata.title(self.lang)
        except KeyError:
            return name
        return f"{title} ({name})" if title and title != name else name

    def _vector_layers(self, kinds: tuple[str, ...]) -> list[str]:
        out = []
        for layer in self.workspace.registry:
            if not isinstance(layer, VectorLayer):
                continue
            geom_type = str(layer.geometry_type or "")
            if any(k in geom_type for k in kinds):
                out.append(layer.name)
        return out

    def _populate(self) -> None:
        self._loading += 1
        try:
            self._fill_scenarios()
            self._fill_sites()
            self._fill_combo(self.zones_layer_combo, self._vector_layers(("Polygon",)),
                             prefer=("flood_zones",))
            self._zones_layer_changed()
            self.raster_combo.clear()
            for layer in self.workspace.registry:
                if isinstance(layer, RasterLayer):
                    self.raster_combo.addItem(self._layer_title(layer.name),
                                              self._raster_rel(layer))
            self._fill_combo(self.shelter_layer_combo,
                             self._vector_layers(("Point", "Polygon")), prefer=("shelters",))
            self.shelter_layer_combo.addItem(self.tr("(no shelters)"), "")
            self._shelter_layer_changed()
            if self.kind_combo.currentIndex() < 0:
                self.kind_combo.setCurrentIndex(0)
        finally:
            self._loading -= 1
        self._kind_changed()

    def _set_defaults(self) -> None:
        self.wind_spin.setValue(45)
        self._sync_dial(45)
        self.length_spin.setValue(3000)
        self.spread_spin.setValue(30)
        self.shape_combo.setCurrentIndex(0)
        self.rings_edit.setText("500, 1000")

    def _fill_combo(self, combo: QComboBox, names: list[str], prefer=()) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        for name in names:
            combo.addItem(self._layer_title(name), name)
        pick = current if current in names else next((p for p in prefer if p in names), None)
        if pick is not None:
            combo.setCurrentIndex(names.index(pick))
        combo.blockSignals(False)

    def _fill_scenarios(self) -> None:
        current = self._loaded_name
        self.scenario_combo.blockSignals(True)
        self.scenario_combo.clear()
        self.scenario_combo.addItem(self.tr("New scenario"), None)
        for name in sorted(self.workspace.scenarios):
            doc = self.workspace.scenarios[name]
            title = _title_of(doc, self.lang)
            self.scenario_combo.addItem(f"{name} — {title}" if title else name, name)
        i = self.scenario_combo.findData(current) if current else 0
        self.scenario_combo.setCurrentIndex(max(i, 0))
        self.scenario_combo.blockSignals(False)

    def _fill_sites(self) -> None:
        """Hazardous-chemical sites, then enterprises with a hazard class (not listed yet)."""
        self.site_combo.blockSignals(True)
        self.site_combo.clear()
        self.site_combo.addItem(self.tr("Point on the map"), None)
        frames = self.workspace.frames()
        for name in BUFFER_LAYERS:
            if name in frames and isinstance(self.workspace.layer(name), VectorLayer):
                self.site_combo.addItem(
                    self.tr("Around every feature of: {0}").replace(
                        "{0}", self.workspace.layer(name).metadata.title(self.lang) or name),
                    LAYER_SOURCE + name)
        seen: set = set()
        count = 0
        sites = frames.get("hazardous_sites")
        if sites is not None and "geometry" in getattr(sites, "columns", ()) and len(sites):
            chem = sites["chemical_en" if self.lang == "en" and "chemical_en" in sites
                         else "chemical"] if ("chemical" in sites or "chemical_en" in sites) \
                else None
            names = sites["name"] if "name" in sites else sites.index.astype(str)
            for pos in range(min(len(sites), MAX_SITES)):
                label = str(names.iloc[pos])
                if chem is not None and pd.notna(chem.iloc[pos]):
                    label += f" — {chem.iloc[pos]}"
                self.site_combo.addItem(label, ("hazardous_sites", pos))
                if "uscc" in sites:
                    seen.add(sites["uscc"].iloc[pos])
                count += 1
        ent = frames.get("legal_entities")
        if ent is not None and "hazard_class" in getattr(ent, "columns", ()) and count < MAX_SITES:
            cls = ent["hazard_class"]
            mask = cls.notna() & (cls.astype(str).str.strip() != "")
            if "uscc" in ent and seen:
                mask &= ~ent["uscc"].isin(list(seen))
            positions = mask.to_numpy().nonzero()[0][: MAX_SITES - count]
            names = ent["name"] if "name" in ent else ent.index.astype(str)
            for pos in positions:
                self.site_combo.addItem(f"{names.iloc[pos]} — {cls.iloc[pos]}",
                                        ("legal_entities", int(pos)))
        self.site_combo.setCurrentIndex(max(self.site_combo.findData(
            LAYER_SOURCE + self._source_layer), 0)
                                        if self._source_layer else 0)
        self.site_combo.blockSignals(False)

    def _raster_rel(self, layer) -> str:
        path = Path(str(layer.path))
        folder = self.workspace.folder
        if folder is not None:
            try:
                return Path(os.path.relpath(path, folder)).as_posix()
            except ValueError:  # another drive
                pass
        return path.as_posix()

    def _on_registry(self, *args) -> None:
        import shiboken6

        if not shiboken6.isValid(self):  # the window was closed: this panel is gone
            self.workspace.registry.events.added.disconnect(self._on_registry)
            self.workspace.registry.events.removed.disconnect(self._on_registry)
            return
        self._populate()

    def _zones_layer_changed(self, *args) -> None:
        name = self.zones_layer_combo.currentData()
        self.class_combo.blockSignals(True)
        current = self.class_combo.currentData()
        self.class_combo.clear()
        if name:
            data = self.workspace.layer(name).data
            cols = [c for c in data.columns if c != data.geometry.name]
            for c in cols:
                self.class_combo.addItem(c, c)
            pick = current if current in cols else next(
                (c for c in cols if "class" in c.lower()), cols[0] if cols else None)
            if pick is not None:
                self.class_combo.setCurrentIndex(cols.index(pick))
        self.class_combo.blockSignals(False)
        self._changed()

    def _shelter_layer_changed(self, *args) -> None:
        name = self.shelter_layer_combo.currentData()
        self.capacity_combo.blockSignals(True)
        current = self.capacity_combo.currentData()
        self.capacity_combo.clear()
        if name:
            data = self.workspace.layer(name).data
            cols = [c for c in data.columns if c != data.geometry.name
                    and pd.api.types.is_numeric_dtype(data[c].dtype)]
            for c in cols:
                self.capacity_combo.addItem(c, c)
            pick = current if current in cols else next(
                (c for c in cols if "capacity" in c.lower()), cols[0] if cols else None)
            if pick is not None:
                self.capacity_combo.setCurrentIndex(cols.index(pick))
        self.capacity_combo.blockSignals(False)
        self._changed()

    # ------------------------------------------------------------------ form state
    @property
    def kind(self) -> str:
        return self.kind_combo.currentData() or KINDS[0]

    def set_kind(self, kind: str) -> None:
        i = self.kind_combo.findData(kind)
        if i < 0:
            raise ValueError(f"unknown hazard kind {kind!r}")
        self.kind_combo.setCurrentIndex(i)

    def _kind_changed(self, *args) -> None:
        kind = self.kind
        page = {"plume": 0, "buffer": 0, "zones": 1, "raster": 2, "drawn": 3}[kind]
        self.where_stack.setCurrentIndex(page)
        plume = kind == "plume"
        self.params_box.setVisible(kind in POINT_KINDS)
        for widget in (self.wind_widget, self.length_spin, self.spread_spin, self.shape_combo):
            self._params_form.setRowVisible(widget, plume)
        self._stop_awaiting()
        self._changed()

    def _dial_moved(self, value: int) -> None:
        # QDial with wrapping puts its minimum at the bottom: turn it so north is at the top.
        deg = (value + 180) % 360
        if self.wind_spin.value() != deg:
            self.wind_spin.setValue(deg)

    def _sync_dial(self, deg: int) -> None:
        value = (deg + 180) % 360
        if self.wind_dial.value() % 360 != value:
            self.wind_dial.blockSignals(True)
            self.wind_dial.setValue(value)
            self.wind_dial.blockSignals(False)

    def _wind_changed(self, deg: int) -> None:
        self._sync_dial(deg)
        self.wind_hint.setText(self.tr("from {0}, towards {1}")
                               .replace("{0}", compass(deg, self.lang))
                               .replace("{1}", compass(deg + 180, self.lang)))
        self._changed()

    def set_wind(self, deg: float) -> None:
        """Set the wind direction (degrees the wind blows from)."""
        self.wind_spin.setValue(round(deg) % 360)

    def rings(self) -> list[int | float]:
        """The rings typed, as numbers (``ValueError`` naming the bad part)."""
        text = self.rings_edit.text().strip()
        if not text:
            return []
        out = []
        for part in re.split(r"[,，;\s]+", text):
            if not part:
                continue
            try:
                out.append(_number(float(part)))
            except ValueError:
                raise ValueError(part) from None
        return out

    # ------------------------------------------------------------------ map interaction
    def _place_clicked(self, checked: bool) -> None:
        if checked:
            self._await("point")
        else:
            self._stop_awaiting()

    def _draw_clicked(self, checked: bool) -> None:
        if checked:
            self._await("polygon")
        else:
            self._stop_awaiting()

    def _await(self, what: str) -> None:
        if self.canvas is None:
            self.place_button.setChecked(False)
            self.draw_button.setChecked(False)
            return
        self._stop_awaiting()
        self._awaiting = what
        (self.place_button if what == "point" else self.draw_button).setChecked(True)
        self._tool_before = self.canvas.tool()
        self.canvas.set_tool("draw_point" if what == "point" else "draw_polygon")
        self.hint_label.setText(self.tr("Click the map where the hazard starts.") if what == "point"
                                else self.tr("Click the corners of the area; double-click or "
                                             "press Enter to finish, Esc to cancel."))

    def _stop_awaiting(self) -> None:
        if self._awaiting is None:
            return
        self._awaiting = None
        self.place_button.setChecked(False)
        self.draw_button.setChecked(False)
        if self.canvas is not None and self._tool_before and \
                self.canvas.tool() in ("draw_point", "draw_polygon"):
            self.canvas.set_tool(self._tool_before)
        self._tool_before = None

    def _map_crs_text(self) -> tuple[str, object]:
        """The map CRS as scenario text (``AUTH:CODE``) and as a CRS object."""
        crs = self.canvas.map_crs if self.canvas is not None else None
        auth = crs.to_authority() if crs is not None and hasattr(crs, "to_authority") else None
        return (f"{auth[0]}:{auth[1]}" if auth else ""), crs

    def _on_drawn(self, geom) -> None:
        if self._awaiting is None or geom is None:
            return
        what = self._awaiting
        self._stop_awaiting()
        crs_text, crs = self._map_crs_text()
        if what == "point" and geom.geom_type == "Point":
            x, y = float(geom.x), float(geom.y)
            if not crs_text and crs is not None:  # a map CRS without a code: store lon/lat
                from spatial.crs import transform_xy

                x, y = (float(v) for v in transform_xy(x, y, crs, "EPSG:4326"))
                crs_text = "EPSG:4326"
            self.set_point(x, y, crs_text)
        elif what == "polygon" and geom.geom_type in ("Polygon", "MultiPolygon"):
            import shapely

            if not crs_text and crs is not None:
                from spatial.crs import transform_geometries

                geom = transform_geometries([geom], crs, "EPSG:4326")[0]
                crs_text = "EPSG:4326"
            self.set_drawn(json.loads(shapely.to_geojson(geom)), crs_text)

    def set_point(self, x: float, y: float, crs: str, label: str | None = None) -> None:
        """Use the point ``(x, y)`` in ``crs`` as the hazard's source."""
        self._point = (float(x), float(y), str(crs))
        self._source_layer = None
        if label is None:
            self.site_combo.blockSignals(True)
            self.site_combo.setCurrentIndex(0)
            self.site_combo.blockSignals(False)
        digits = 6 if "4326" in str(crs) else 1
        self.point_label.setText(f"{x:,.{digits}f}, {y:,.{digits}f} ({crs})")
        self._changed()

    def set_drawn(self, geometry: dict, crs: str) -> None:
        """Use a GeoJSON geometry in ``crs`` as the drawn hazard."""
        self._drawn = dict(geometry)
        self._drawn_crs = crs
        rings = geometry.get("coordinates") or []
        corners = max(len(rings[0]) - 1, 0) if geometry.get("type") == "Polygon" and rings else 0
        self.drawn_label.setText(self.tr("Area with {0} corners").replace("{0}", str(corners))
                                 if corners else self.tr("Area drawn"))
        self._changed()

    def set_source_layer(self, name: str) -> None:
        """A buffer around every feature of layer ``name`` (instead of one point)."""
        self._source_layer = name
        self._point = None
        i = self.site_combo.findData(LAYER_SOURCE + name)
        if i < 0:
            self.site_combo.addItem(self.tr("Around every feature of: {0}").replace("{0}", name),
                                    LAYER_SOURCE + name)
            i = self.site_combo.count() - 1
        self.site_combo.blockSignals(True)
        self.site_combo.setCurrentIndex(i)
        self.site_combo.blockSignals(False)
        self.point_label.setText(self.tr("Rings around each of its features"))
        self._zoom_next = True
        self._changed()

    def _site_picked(self, index: int) -> None:
        data = self.site_combo.itemData(index)
        if not data:
            return
        if isinstance(data, str) and data.startswith(LAYER_SOURCE):
            self.set_source_layer(data.removeprefix(LAYER_SOURCE))
            return
        layer_name, pos = data
        layer = self.workspace.layer(layer_name)
        geom = layer.data.geometry.iloc[pos]
        if geom is None or geom.is_empty:
            self._show_error(self.tr("{0} has no location.").replace("{0}",
                                                                      self.site_combo.itemText(index)))
            return
        point = geom if geom.geom_type == "Point" else geom.representative_point()
        auth = layer.crs.to_authority() if layer.crs is not None else None
        crs = f"{auth[0]}:{auth[1]}" if auth else layer.crs.to_wkt()
        self._zoom_next = True
        self.set_point(point.x, point.y, crs, label=self.site_combo.itemText(index))

    # ------------------------------------------------------------------ scenario documents
    def scenario_doc(self) -> dict:
        """The form as a scenario document (not validated; see :attr:`scenario`)."""
        kind = self.kind
        hazard: dict = {"kind": kind}
        if kind in POINT_KINDS:
            if kind == "buffer" and self._source_layer:
                hazard["layer"] = self._source_layer
            elif self._point is not None:
                hazard["point"] = [_number(self._point[0]), _number(self._point[1])]
                hazard["crs"] = self._point[2]
            if kind == "plume":
                hazard["wind_from_deg"] = self.wind_spin.value()
                hazard["length_m"] = self.length_spin.value()
                hazard["spread_deg"] = self.spread_spin.value()
                if self.shape_combo.currentData() != "sector":
                    hazard["shape"] = self.shape_combo.currentData()
            try:
                rings = self.rings()
            except ValueError:
                rings = self.rings_edit.text()  # the parser names the key
            if rings or kind == "buffer":
                hazard["rings_m"] = rings
        elif kind == "zones":
            hazard["layer"] = self.zones_layer_combo.currentData()
            hazard["class_column"] = self.class_combo.currentData()
        elif kind == "raster":
            hazard["path"] = self.raster_combo.currentData()
            hazard["threshold"] = _number(self.threshold_spin.value())
        elif kind == "drawn" and self._drawn is not None:
            hazard["geometry"] = self._drawn
            if self._drawn_crs:
                hazard["crs"] = self._drawn_crs
        for key, value in self._hazard_extra.get(kind, {}).items():
            if key == "where" and "layer" not in hazard:
                continue  # a filter of a layer's features; a point has none
            hazard.setdefault(key, value)
        title = dict(self._title_other)
        text = self.title_edit.text().strip() or kind_label(kind)
        title[self.lang] = text
        for other in ("en", "zh"):
            title.setdefault(other, text)
        doc = {"version": 1, "title": title, "hazard": hazard}
        if self.shelter_layer_combo.currentData():
            doc["shelters"] = {"layer": self.shelter_layer_combo.currentData(),
                               "capacity": self.capacity_combo.currentData() or "capacity"}
        else:
            doc["shelters"] = None
        doc.update(self._doc_extra)
        return doc

    def _missing(self) -> str | None:
        """What the form still lacks before it can be a scenario (a hint, not an error)."""
        kind = self.kind
        if kind == "plume" and self._source_layer:
            return self.tr("A plume starts at one point: place it on the map or pick a site.")
        if kind in POINT_KINDS and self._point is None and not self._source_layer:
            return self.tr("Place the source on the map or pick a hazardous site.")
        if kind == "drawn" and self._drawn is None:
            return self.tr("Draw the area on the map.")
        if kind == "zones" and not self.zones_layer_combo.currentData():
            return self.tr("The workspace has no polygon layer for zones.")
        if kind == "raster" and not self.raster_combo.currentData():
            return self.tr("The workspace has no raster layer.")
        return None

    def edit_needs(self) -> bool:
        """Edit the scenario's minimum-needs rates in a dialog; True when changed."""
        from .needs_dialog import NeedsDialog

        dialog = NeedsDialog(self._doc_extra.get("needs"), self.lang, self)
        self._needs_dialog = dialog  # for tests
        if dialog.exec() != NeedsDialog.DialogCode.Accepted:
            return False
        doc = dialog.needs_doc()
        if doc is None:
            self._doc_extra.pop("needs", None)
        else:
            self._doc_extra["needs"] = doc
        self._changed()
        return True

    def _changed(self, *args) -> None:
        if self._loading:
            return
        from spatial.drill.scenario import ScenarioError, parse_scenario

        self._clear_result_highlights()
        missing = self._missing()
        self.scenario, self.error = None, None
        if missing is None:
            try:
                if self.kind in POINT_KINDS:
                    self.rings()
            except ValueError as exc:
                self.error = self.tr("hazard.rings_m: {0} is not a number").replace(
                    "{0}", repr(str(exc)))
            else:
                try:
                    self.scenario = parse_scenario(self.scenario_doc(),
                                                   base_dir=self.workspace.folder)
                except ScenarioError as exc:
                    self.error = str(exc)
        self.hint_label.setText(missing or "")
        self.hint_label.setVisible(bool(missing) or self._awaiting is not None)
        if self.error:
            self._show_error(self.error)
        else:
            self._hide_error()
        self.run_button.setEnabled(self.scenario is not None and self.worker is None)
        self.save_button.setEnabled(self.scenario is not None)
        self._preview_timer.start()

    def _show_error(self, message: str) -> None:
        self.error_label.setText(_first_line(message))
        self.error_label.setToolTip(message)
        self.error_label.show()

    def _hide_error(self) -> None:
        self.error_label.hide()
        self.error_label.setText("")
        self.error_label.setToolTip("")

    def _scenario_picked(self, index: int) -> None:
        name = self.scenario_combo.itemData(index)
        if name is None:
            self.new_scenario()
        else:
            self.load_scenario(name)

    def new_scenario(self) -> None:
        """Reset the form to a new scenario (the hazard kind is kept)."""
        self._loading += 1
        try:
            self._loaded_name = None
            self._point = None
            self._source_layer = None
            self._drawn = None
            self._drawn_crs = None
            self._title_other = {}
            self._hazard_extra = {}
            self._doc_extra = {}
            self.title_edit.clear()
            self.point_label.setText(self.tr("No point yet"))
            self.drawn_label.setText(self.tr("No area drawn yet"))
            self.site_combo.setCurrentIndex(0)
            self._set_defaults()
            self.scenario_combo.setCurrentIndex(0)
        finally:
            self._loading -= 1
        self._changed()

    def load_scenario(self, name_or_doc) -> None:
        """Fill the form from a saved scenario's name or a scenario document."""
        if isinstance(name_or_doc, str):
            doc = self.workspace.scenarios[name_or_doc]
            self._loaded_name = name_or_doc
        else:
            doc = dict(name_or_doc)
            self._loaded_name = None
        doc = json.loads(json.dumps(doc))
        hazard = dict(doc.get("hazard") or {})
        kind = hazard.get("kind", "plume")
        self._zoom_next = True
        self._loading += 1
        try:
            i = self.kind_combo.findData(kind)
            if i >= 0:
                self.kind_combo.setCurrentIndex(i)
            title = doc.get("title") if isinstance(doc.get("title"), dict) else {}
            self._title_other = {k: v for k, v in title.items() if k != self.lang}
            self.title_edit.setText(title.get(self.lang, "") or _title_of(doc, self.lang))
            handled = {"kind", "point", "crs", "wind_from_deg", "length_m", "spread_deg", "shape",
                       "rings_m", "layer", "class_column", "path", "threshold", "geometry"}
            self._hazard_extra = {kind: {k: v for k, v in hazard.items() if k not in handled}}
            self._doc_extra = {k: v for k, v in doc.items()
                               if k not in ("version", "title", "hazard", "shelters")}
            self._point, self._drawn, self._drawn_crs = None, None, None
            self._source_layer = None
            self.point_label.setText(self.tr("No point yet"))
            self.drawn_label.setText(self.tr("No area drawn yet"))
            self.site_combo.setCurrentIndex(0)
            self._set_defaults()
            if "point" in hazard and isinstance(hazard["point"], (list, tuple)) \
                    and len(hazard["point"]) == 2:
                x, y = hazard["point"]
                self.set_point(float(x), float(y), str(hazard.get("crs", "EPSG:4326")))
            if kind == "buffer" and isinstance(hazard.get("layer"), str):
                self.set_source_layer(hazard["layer"])
            if isinstance(hazard.get("wind_from_deg"), (int, float)):
                self.wind_spin.setValue(round(hazard["wind_from_deg"]) % 360)
                self._sync_dial(self.wind_spin.value())
            if isinstance(hazard.get("length_m"), (int, float)):
                self.length_spin.setValue(round(hazard["length_m"]))
            if isinstance(hazard.get("spread_deg"), (int, float)):
                self.spread_spin.setValue(round(hazard["spread_deg"]))
            if hazard.get("shape") in SHAPES:
                self.shape_combo.setCurrentIndex(SHAPES.index(hazard["shape"]))
            if "rings_m" in hazard:
                rings = hazard["rings_m"]
                self.rings_edit.setText(", ".join(str(r) for r in rings)
                                        if isinstance(rings, list) else str(rings))
            else:
                self.rings_edit.clear()
            if kind == "zones":
                self._select_data(self.zones_layer_combo, hazard.get("layer"))
                self._zones_layer_changed()
                self._select_data(self.class_combo, hazard.get("class_column"))
            if kind == "raster":
                path = hazard.get("path")
                if path is not None and self.raster_combo.findData(path) < 0:
                    self.raster_combo.addItem(str(path), path)
                self._select_data(self.raster_combo, path)
                if isinstance(hazard.get("threshold"), (int, float)):
                    self.threshold_spin.setValue(float(hazard["threshold"]))
            if kind == "drawn" and isinstance(hazard.get("geometry"), dict):
                self.set_drawn(hazard["geometry"], str(hazard.get("crs", "")))
            shelters = doc.get("shelters", {}) if "shelters" in doc else {"layer": "shelters"}
            if shelters is None:
                self._select_data(self.shelter_layer_combo, "")
            elif shelters.get("layer"):
                self._select_data(self.shelter_layer_combo, shelters["layer"])
                self._shelter_layer_changed()
                self._select_data(self.capacity_combo, shelters.get("capacity"))
            self._fill_scenarios()
        finally:
            self._loading -= 1
        self._kind_changed()

    @staticmethod
    def _select_data(combo: QComboBox, value) -> None:
        i = combo.findData(value)
        if i >= 0:
            combo.setCurrentIndex(i)

    def save_scenario(self, name: str | None = None) -> str | None:
        """Save the form's scenario in the workspace (asks for a name when none is
        given); marks the workspace changed.  Returns the name, or None."""
        if self.scenario is None:
            return None
        from spatial.drill.scenario import scenario_to_dict

        if name is None:
            default = self._loaded_name or _slug(_title_of(self.scenario_doc(), "en"), "drill")
            name, ok = QInputDialog.getText(self, self.tr("Save scenario"),
                                            self.tr("Name of the scenario in the workspace:"),
                                            QLineEdit.EchoMode.Normal, default)
            if not ok:
                return None
            name = name.strip()
            if not name:
                return None
            if name in self.workspace.scenarios and name != self._loaded_name:
                answer = QMessageBox.question(
                    self, self.tr("Save scenario"),
                    self.tr("A scenario called {0} exists. Replace it?").replace("{0}", name))
                if answer != QMessageBox.StandardButton.Yes:
                    return None
        self.workspace.scenarios[name] = scenario_to_dict(self.scenario)
        self._loaded_name = name
        self._fill_scenarios()
        self.status_label.setText(self.tr("Scenario saved as {0} (save the workspace to keep "
                                          "it)").replace("{0}", name))
        self.scenarioSaved.emit(name)
        return name

    # ------------------------------------------------------------------ preview
    def update_preview(self) -> None:
        """Show the footprint of the form's hazard on the map (cheap kinds here,
        zones and rasters in a worker)."""
        self._preview_generation += 1
        generation = self._preview_generation
        if self.preview_worker is not None:
            self.preview_worker.cancel()
            self.preview_worker = None
        if self.scenario is None:
            self._set_preview(None)
            return
        from spatial.drill.hazard import drill_crs, footprint

        frames = self.workspace.frames()
        hazard = self.scenario.hazard
        base_dir = self.workspace.folder
        if hazard.kind in CHEAP_KINDS:
            try:
                fp = footprint(hazard, frames, metric_crs=drill_crs(frames), base_dir=base_dir)
            except Exception as exc:  # noqa: BLE001 - shown, not swallowed
                self._set_preview(None)
                self._show_error(self.tr("Preview failed: {0}").replace("{0}", str(exc)))
                return
            self._set_preview(fp)
            return

        def compute(feedback):
            return footprint(hazard, frames, metric_crs=drill_crs(frames), base_dir=base_dir,
                             feedback=feedback)

        def done(fp) -> None:
            if generation == self._preview_generation:
                self.preview_worker = None
                self._set_preview(fp)

        def failed(message: str) -> None:
            if generation == self._preview_generation:
                self.preview_worker = None
                self._set_preview(None)
                self._show_error(self.tr("Preview failed: {0}").replace("{0}", message))

        self.preview_worker = start_worker(compute, on_finished=done, on_error=failed)

    def _set_preview(self, fp) -> None:
        self.preview = fp if fp is not None and len(fp) else None
        if self.canvas is not None:
            self.canvas.set_highlight(FOOTPRINT_KEY, self.preview)
            if self._zoom_next and self.preview is not None:
                self.canvas.zoom_to_bounds(tuple(self.preview.total_bounds),
                                           crs=self.preview.crs, margin=0.15)
        if self.preview is not None:
            self._zoom_next = False
        self.previewChanged.emit()

    def _clear_result_highlights(self) -> None:
        if self.canvas is None:
            return
        present = set(self.canvas.highlights())
        for key in RESULT_KEYS:
            if key in present:
                self.canvas.set_highlight(key, None)

    # ------------------------------------------------------------------ run
    @property
    def running(self) -> bool:
        return self.worker is not None

    def run(self) -> bool:
        """Run the drill in a worker; False when the form is invalid or a run is on."""
        if self.scenario is None or self.worker is not None:
            return False
        from spatial.drill.impact import run_drill

        self._stop_awaiting()
        self._cancel_requested = False
        self._running_scenario = self.scenario
        self.progress.setValue(0)
        self.status_label.setText(self.tr("Running the drill…"))
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.worker = start_worker(run_drill, self.scenario, self.workspace.frames(),
                                   base_dir=self.workspace.folder,
                                   on_finished=self._finished, on_error=self._failed,
                                   on_progress=self._progress, on_canceled=self._canceled)
        self.worker.signals.info.connect(self._info)
        self.runStateChanged.emit(True)
        return True

    def _info(self, message: str) -> None:
        if self.worker is not None:
            self.status_label.setText(message)

    def _end(self) -> None:
        self.worker = None
        self.cancel_button.setEnabled(False)
        self.run_button.setEnabled(self.scenario is not None)
        self.runStateChanged.emit(False)

    def _finished(self, result) -> None:
        if self._cancel_requested:  # it finished before seeing the cancel: drop it
            self._canceled()
            return
        self.progress.setValue(100)
        self._end()
        self.status_label.setText(self.tr("Drill computed in {0} s")
                                  .replace("{0}", f"{result.elapsed_s:,.1f}"))
        runs = session_runs(self.workspace)
        title = _title_of(result.summary, self.lang) or _title_of(result.scenario, self.lang)
        runs.append({"label": f"{time.strftime('%H:%M:%S')} {title}", "time": time.time(),
                     "result": result})
        del runs[:-MAX_RUNS]
        from spatial.drill.scenario import scenario_to_dict

        self.workspace.log("drill", {"scenario": scenario_to_dict(result.scenario),
                                     "residents": result.summary.get("residents"),
                                     "buildings": result.summary.get("buildings"),
                                     "seconds": round(float(result.elapsed_s), 2),
                                     "source": "drills panel"})
        self.show_result(result)
        self.resultReady.emit(result)

    def _failed(self, message: str) -> None:
        self._show_error(self.tr("The drill failed: {0}").replace("{0}", _first_line(message)))
        self.error_label.setToolTip(message)
        self.status_label.setText(self.tr("Failed"))
        self.progress.setValue(0)
        self._end()

    def _canceled(self) -> None:
        self.status_label.setText(self.tr("Cancelled"))
        self.progress.setValue(0)
        self._end()

    # ------------------------------------------------------------------ results
    def show_result(self, result) -> None:
        """Show a DrillResult: tables, chart, map highlights."""
        self.result = result
        s = result.summary
        self.tabs.setTabEnabled(1, True)
        self.tabs.setCurrentIndex(1)
        shelters = s.get("shelters") or {}
        entities = s.get("legal_entities") or []
        hazardous = sum(1 for e in entities if _is_hazardous(e))
        title = _title_of(s, self.lang) or _title_of(result.scenario, self.lang)
        parts = [
            self.tr("<b>{0}</b> residents").replace("{0}", _people(s.get("residents"))),
            self.tr("<b>{0}</b> buildings").replace("{0}", _count(s.get("buildings"))),
            self.tr("<b>{0}</b> enterprises to notify ({1} hazardous)")
            .replace("{0}", f"{len(entities):,}").replace("{1}", f"{hazardous:,}"),
        ]
        if shelters and shelters.get("method") != "none":
            parts.append(self.tr("<b>{0}</b> unsheltered")
                         .replace("{0}", _people(shelters.get("unsheltered"))))
        run_at = str(s.get("run_at") or getattr(result, "run_at", ""))
        run_at = self.tr("Run at {0} UTC").replace(
            "{0}", run_at.replace("T", " ").removesuffix("Z")) if run_at else ""
        self.headline.setText(f"<b>{_html(title)}</b><br>" + " · ".join(parts)
                              + f"<br><span style='color:#666'>{_html(run_at)}</span>")

        # key numbers
        rows = key_numbers(s, self._facility_titles())
        self.summary_table.setRowCount(len(rows))
        for r, (_key, label, value, people) in enumerate(rows):
            self.summary_table.setItem(r, 0, QTableWidgetItem(label))
            item = QTableWidgetItem(_format_value(value, people))
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.summary_table.setItem(r, 1, item)

        # bands
        bands = sorted(s.get("bands") or [], key=lambda b: b.get("order", 0))
        self.bands_table.setRowCount(len(bands))
        for r, band in enumerate(bands):
            ents = band.get("legal_entities")
            values = [str(band.get("band", "")), _people(band.get("residents")),
                      _people(band.get("age_0_14")), _people(band.get("age_15_64")),
                      _people(band.get("age_65_plus")), _count(band.get("buildings")),
                      _count(len(ents) if isinstance(ents, list) else ents)]
            for c, text in enumerate(values):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.bands_table.setItem(r, c, item)

        # lists
        self.entities_model.set_frame(*self.entities_display())
        self.entities_view.resizeColumnsToContents()
        self.entities_label.setText(
            self.tr("{0} enterprises to notify, hazardous-chemical ones first.")
            .replace("{0}", f"{len(entities):,}"))
        self.facilities_model.set_frame(*self.facilities_display())
        self.facilities_view.resizeColumnsToContents()
        self.export_entities_button.setEnabled(bool(entities))
        self.export_facilities_button.setEnabled(len(self.facilities_frame()) > 0)

        # shelters and needs
        if shelters and shelters.get("method") != "none":
            method = shelters.get("method")
            note = shelters.get("note")
            method_text = (note.get(self.lang) or note.get("en", "")) if isinstance(note, dict) \
                else (self.tr("Assigned by road-network distance.") if method == "road" else
                      self.tr("Assigned by straight-line distance: no usable road network.")
                      if method == "straight_line" else str(method or ""))
            walk = shelters.get("longest_walk_m")
            self.shelter_label.setText(
                self.tr("Displaced <b>{0}</b> · capacity <b>{1}</b> · unsheltered <b>{2}</b>"
                        " · longest walk <b>{3} m</b>")
                .replace("{0}", _people(shelters.get("displaced")))
                .replace("{1}", _count(shelters.get("capacity")))
                .replace("{2}", _people(shelters.get("unsheltered")))
                .replace("{3}", _count(None if walk is None else round(float(walk))))
                + f"<br><span style='color:#555'>{_html(method_text)}</span>"
                + self._safe_places_text(shelters.get("safe_places")))
        else:
            self.shelter_label.setText(self.tr("No shelter layer in this scenario."))
        self.shelters_model.set_frame(self.shelters_display())
        self.shelters_view.resizeColumnsToContents()
        needs = s.get("needs") or []
        needs_error = needs.get("error") if isinstance(needs, dict) else None
        if isinstance(needs, dict):
            needs = needs.get("items") or []
        self.needs_label.setText(
            self.tr("Needs of the displaced per day:") if not needs_error
            else self.tr("Needs of the displaced: {0}").replace("{0}", str(needs_error)))
        self.needs_table.setRowCount(len(needs))
        for r, item in enumerate(needs):
            name = item.get(f"name_{self.lang}") or item.get("name_en") or item.get("key", "")
            qty = item.get("quantity", item.get("per_day", item.get("total")))
            unit = item.get(f"unit_{self.lang}") or item.get("unit_en") or item.get("unit", "")
            cells = [str(name), _count(qty), str(unit)]
            for c, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if c == 1:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.needs_table.setItem(r, c, cell)

        self._draw_chart()
        self._highlight_result(result)
        for button in (self.report_button, self.pdf_button, self.map_button):
            button.setEnabled(True)

    def entities_frame(self) -> pd.DataFrame:
        """The enterprises to notify as a table (hazardous first, as in the summary)."""
        entities = (self.result.summary.get("legal_entities") or []) if self.result else []
        cols = ["uscc", "name", "hazardous", "hazard_class", "employees", "industry", "band"]
        frame = pd.DataFrame(entities)
        if frame.empty:
            return pd.DataFrame(columns=cols)
        return frame[[c for c in cols if c in frame] + [c for c in frame if c not in cols]]

    def facilities_frame(self) -> pd.DataFrame:
        """Schools, hospitals, care homes … in the area, one row each, with their layer."""
        facilities = (self.result.summary.get("facilities") or {}) if self.result else {}
        parts = []
        order = [n for n in FACILITY_LAYERS if n in facilities] + \
            [n for n in facilities if n not in FACILITY_LAYERS]
        for layer in order:
            items = (facilities.get(layer) or {}).get("items") or []
            if items:
                frame = pd.DataFrame(items)
                frame.insert(0, "layer", layer)
                parts.append(frame)
        if not parts:
            return pd.DataFrame(columns=["layer", "id", "name", "band"])
        return pd.concat(parts, ignore_index=True)

    def _safe_places_text(self, safe) -> str:
        """One line on the safe places left outside the hazard (shelters, schools)."""
        if not isinstance(safe, dict) or not safe:
            return ""
        titles = self._facility_titles()
        parts = []
        for layer, entry in safe.items():
            if not isinstance(entry, dict) or not entry.get("count"):
                continue
            text = f"{titles.get(layer) or facility_label(layer)} {_count(entry['count'])}"
            if entry.get("capacity") is not None:
                text += " " + self.tr("(capacity {0})").replace("{0}", _count(entry["capacity"]))
            parts.append(_html(text))
        if not parts:
            return ""
        return "<br>" + self.tr("Safe places outside the hazard: {0}").replace(
            "{0}", ", ".join(parts))

    def _suppressed(self) -> set:
        return set((self.result.summary.get("suppressed") or []) if self.result else [])

    def _hazard_text(self, entity: dict) -> str:
        cls = entity.get("hazard_class")
        if cls == "hazardous_chemicals":
            return self.tr("hazardous chemicals")
        if cls:
            return str(cls).replace("_", " ")
        return self.tr("hazardous site") if entity.get("hazardous") else ""

    def entities_display(self) -> tuple[pd.DataFrame, dict]:
        """The enterprises to notify as shown: translated headers, suppressed masks."""
        entities = (self.result.summary.get("legal_entities") or []) if self.result else []
        suppressed = self._suppressed()
        frame = pd.DataFrame({
            self.tr("Name"): [e.get("name") for e in entities],
            self.tr("Hazard"): [self._hazard_text(e) for e in entities],
            self.tr("Employees"): pd.array([e.get("employees") for e in entities],
                                           dtype="Float64"),
            self.tr("Band"): [e.get("band") for e in entities],
            self.tr("USCC"): [e.get("uscc") for e in entities],
            self.tr("Industry"): [e.get("industry") for e in entities],
        })
        mask = np.array([f"legal_entities[{i}].employees" in suppressed
                         for i in range(len(entities))], dtype=bool)
        return frame, {self.tr("Employees"): mask}

    def facilities_display(self) -> tuple[pd.DataFrame, dict]:
        """Facilities as shown: kind (layer title), name, band, size, id."""
        facilities = (self.result.summary.get("facilities") or {}) if self.result else {}
        titles = self._facility_titles()
        suppressed = self._suppressed()
        rows, masks = [], []
        order = [n for n in FACILITY_LAYERS if n in facilities] + \
            [n for n in facilities if n not in FACILITY_LAYERS]
        for layer in order:
            for j, item in enumerate((facilities.get(layer) or {}).get("items") or []):
                extra = next((k for k in ("pupils", "beds", "capacity") if k in item), None)
                rows.append((titles.get(layer) or facility_label(layer), item.get("name"),
                             item.get("band"), None if extra is None else item.get(extra),
                             _extra_label(extra) if extra else "", item.get("id")))
                masks.append(extra is not None and
                             f"facilities.{layer}.items[{j}].{extra}" in suppressed)
        cols = [self.tr("Kind"), self.tr("Name"), self.tr("Band"), self.tr("Size"),
                self.tr("Of"), self.tr("ID")]
        frame = pd.DataFrame(rows, columns=cols)
        frame[self.tr("Size")] = pd.array(frame[self.tr("Size")].tolist(), dtype="Float64")
        return frame, {self.tr("Size"): np.array(masks, dtype=bool)}

    def shelters_display(self) -> pd.DataFrame | None:
        shelters = (self.result.summary.get("shelters") or {}) if self.result else {}
        assignment = shelters.get("assignment") or []
        if not assignment:
            return None
        # the shelters in use first, the busiest at the top
        assignment = sorted(assignment, key=lambda a: -(a.get("assigned") or 0))
        status = {"ok": self.tr("ok"), "in_hazard": self.tr("in the hazard: not used"),
                  "no_location": self.tr("no location")}
        return pd.DataFrame({
            self.tr("Shelter"): [a.get("name") for a in assignment],
            self.tr("Assigned"): pd.array([a.get("assigned") for a in assignment],
                                          dtype="Float64"),
            self.tr("Capacity"): pd.array([a.get("capacity") for a in assignment],
                                          dtype="Float64"),
            self.tr("Longest walk (m)"): pd.array([a.get("max_distance_m") for a in assignment],
                                                 dtype="Float64"),
            self.tr("Status"): [status.get(a.get("status"), a.get("status") or "")
                                for a in assignment],
            self.tr("ID"): [a.get("shelter_id") for a in assignment],
        })

    def chart_data(self) -> tuple[list[str], list]:
        """Labels and values of the chart shown."""
        s = self.result.summary if self.result else {}
        which = self.chart_combo.currentData()
        if which == "age":
            return ([self.tr("0–14"), self.tr("15–64"), self.tr("65+")],
                    [s.get("age_0_14"), s.get("age_15_64"), s.get("age_65_plus")])
        bands = sorted(s.get("bands") or [], key=lambda b: b.get("order", 0))
        key = "residents" if which == "band_residents" else "buildings"
        return [str(b.get("band", "")) for b in bands], [b.get(key) for b in bands]

    def _draw_chart(self, *args) -> None:
        if self.result is None:
            self.chart.clear()
            return
        labels, values = self.chart_data()
        if not labels:
            self.chart.clear(self.tr("Nothing to chart"))
            return
        which = self.chart_combo.currentData()
        ylabel = self.tr("Buildings") if which == "band_buildings" else self.tr("Residents")
        self.chart.set_bars(labels, values, title=self.chart_combo.currentText(), ylabel=ylabel,
                            missing_text=_SUPPRESSED,
                            color="#c0504d" if which != "age" else "#3b75af")

    def _facility_titles(self) -> dict:
        out = {}
        for layer in self.workspace.registry:
            title = layer.metadata.title(self.lang)
            if title:
                out[layer.name] = title
        return out

    def _highlight_result(self, result) -> None:
        if self.canvas is None:
            return
        self.canvas.set_highlight(FOOTPRINT_KEY, result.footprint if len(result.footprint)
                                  else None)
        affected = result.affected or {}
        buildings = affected.get("buildings")
        self.canvas.set_highlight(BUILDINGS_KEY, buildings.geometry
                                  if buildings is not None and len(buildings) else None)
        entities = affected.get("legal_entities")
        self.canvas.set_highlight(ENTITIES_KEY, entities.geometry
                                  if entities is not None and len(entities) else None)
        facilities = [affected[n].geometry for n in affected
                      if n not in ("buildings", "legal_entities", "roads")
                      and affected[n] is not None and len(affected[n])]
        if facilities:
            import geopandas as gpd

            crs = facilities[0].crs
            merged = gpd.GeoSeries(pd.concat([f.to_crs(crs) if f.crs != crs else f
                                              for f in facilities], ignore_index=True), crs=crs)
            self.canvas.set_highlight(FACILITIES_KEY, merged)
        else:
            self.canvas.set_highlight(FACILITIES_KEY, None)
        self._show_routes()

    def _show_routes(self, *args) -> None:
        """The walks to the shelters on the map, when asked for (thousands of lines
        would hide the affected buildings otherwise)."""
        if self.canvas is None:
            return
        lines = self.result.assignment if self.result is not None else None
        on = self.routes_check.isChecked() and lines is not None and len(lines) > 0
        self.canvas.set_highlight(ROUTES_KEY, lines.geometry if on else None)

    # ------------------------------------------------------------------ files
    def _ask_path(self, title: str, name: str, filters: str, suffix: str) -> str | None:
        folder = self.workspace.folder
        start = str(folder / name) if folder is not None else name
        path, _chosen = QFileDialog.getSaveFileName(self, title, start, filters)
        if not path:
            return None
        if not Path(path).suffix:
            path += suffix
        return path

    def _file_name(self, suffix: str, what: str = "") -> str:
        title = _title_of(self.result.summary, "en") if self.result else ""
        stamp = time.strftime("%Y%m%d_%H%M")
        return f"{_slug(title)}{('_' + what) if what else ''}_{stamp}{suffix}"

    def export_list(self, which: str, path: str | None = None):
        """Write the enterprises to notify (``"entities"``) or the facilities
        (``"facilities"``) to CSV (asks for the file when ``path`` is None)."""
        if self.result is None:
            return None
        frame = self.entities_frame() if which == "entities" else self.facilities_frame()
        if path is None:
            title = self.tr("Export enterprises to notify") if which == "entities" \
                else self.tr("Export facilities")
            path = self._ask_path(title, self._file_name(".csv", which), self.tr("CSV (*.csv)"),
                                  ".csv")
            if path is None:
                return None
        return self._write_in_worker(lambda feedback: export_frame(frame, path),
                                     {"list": which, "rows": len(frame)}, path)

    def _used_layers(self, result) -> list[str]:
        """The workspace layers the drill read (as the command line reports them)."""
        from layers.drill import drill_layers

        return drill_layers(self.workspace, result.scenario)

    def _sources(self, result) -> list[dict]:
        from layers.drill import drill_sources

        return drill_sources(self.workspace, self._used_layers(result), lang=self.lang)

    def _classification(self, result) -> str:
        """The strictest classification among the layers the drill read."""
        from layers.drill import drill_classification

        return drill_classification(self.workspace, self._used_layers(result))

    def write_output(self, kind: str, path: str | None = None):
        """Write the report (``"html"``, ``"pdf"``) or the interactive map (``"map"``)
        of the shown result in a worker (asks for the file when ``path`` is None)."""
        if self.result is None:
            return None
        titles = {"html": self.tr("Save drill report"), "pdf": self.tr("Save drill report as PDF"),
                  "map": self.tr("Save interactive map")}
        filters = {"html": self.tr("HTML files (*.html)"), "pdf": self.tr("PDF files (*.pdf)"),
                   "map": self.tr("HTML files (*.html)")}
        suffix = ".pdf" if kind == "pdf" else ".html"
        if path is None:
            path = self._ask_path(titles[kind], self._file_name(suffix, "map" if kind == "map"
                                                                 else "report"),
                                  filters[kind], suffix)
            if path is None:
                return None
        result, frames, lang = self.result, self.workspace.frames(), self.lang
        sources, classification = self._sources(result), self._classification(result)

        def make(feedback):
            if kind == "map":
                from spatial.drill.webmap import export_webmap

                export_webmap(result, frames, path, lang=lang)
                return path
            from spatial.drill import report

            html = report.report_html(result, frames, lang=lang, sources=sources,
                                      classification=classification)
            feedback.check()
            if kind == "pdf":
                from .report_pdf import html_to_pdf

                html_to_pdf(html, path)
            else:
                report.write_report(path, html)
            return path

        return self._write_in_worker(make, {"output": kind}, path)

    def _write_in_worker(self, fn, detail: dict, path: str):
        if self.file_worker is not None:
            QMessageBox.information(self, self.tr("Busy"),
                                    self.tr("Another file is being written; try again shortly."))
            return None
        self.status_label.setText(self.tr("Writing {0}…").replace("{0}", str(path)))
        buttons = (self.report_button, self.pdf_button, self.map_button,
                   self.export_entities_button, self.export_facilities_button)
        for b in buttons:
            b.setEnabled(False)

        def restore() -> None:
            self.file_worker = None
            for b in buttons:
                b.setEnabled(self.result is not None)

        def done(written) -> None:
            restore()
            self.status_label.setText(self.tr("Written: {0}").replace("{0}", str(written)))
            self.workspace.log("export", {**detail, "file": str(written),
                                          "source": "drills panel"})
            self.fileWritten.emit(str(written))

        def failed(message: str) -> None:
            restore()
            self.status_label.setText(self.tr("Writing failed"))
            self._show_error(self.tr("Could not write {0}: {1}").replace("{0}", str(path))
                             .replace("{1}", _first_line(message)))
            self.error_label.setToolTip(message)

        self.file_worker = start_worker(fn, on_finished=done, on_error=failed,
                                        on_canceled=restore)
        return self.file_worker

    # ------------------------------------------------------------------ compare
    def open_compare(self) -> CompareDialog:
        """The comparison dialog (not modal), with the last two runs or the first
        two saved scenarios chosen."""
        dlg = CompareDialog(self)
        dlg.show()
        if all(str(c.currentData()).startswith("run:") for c in (dlg.combo_a, dlg.combo_b)):
            dlg.compare()  # two runs: their numbers are at hand
        return dlg

    def shutdown(self) -> None:
        """Stop what runs and give the map its tool back (the panel is being replaced)."""
        self._stop_awaiting()
        self.cancel()
        if self.preview_worker is not None:
            self.preview_worker.cancel()
        self._preview_timer.stop()
        if self.canvas is not None:
            try:
                self.canvas.geometryDrawn.disconnect(self._on_drawn)
            except (RuntimeError, TypeError):
                pass
        ev = self.workspace.registry.events
        for signal in (ev.added, ev.removed):
            try:
                signal.disconnect(self._on_registry)
            except (RuntimeError, TypeError, ValueError):
                pass
        if self.canvas is not None:
            for key in (FOOTPRINT_KEY, *RESULT_KEYS):
                self.canvas.set_highlight(key, None)


# =========================================================================== compare

class CompareDialog(QDialog):
    """Two scenarios or runs side by side: key numbers, and B − A.

    Choices are this session's runs (``run:INDEX``) and the workspace's saved
    scenarios (``scenario:NAME``); saved scenarios not yet run are run in a
    worker first.
    """

    compared = Signal()

    def __init__(self, panel: DrillsPanel):
        super().__init__(panel)
        self.setWindowTitle(self.tr("Compare drills"))
        self.setModal(False)
        self.resize(560, 520)
        self.panel = panel
        self.worker = None
        self.summaries: list[tuple[str, dict]] = []
        self.combo_a = QComboBox()
        self.combo_b = QComboBox()
        for combo in (self.combo_a, self.combo_b):
            _compact(combo, 20)
        self._fill()
        self.compare_button = QPushButton(self.tr("Compare"))
        self.compare_button.clicked.connect(self.compare)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for i in (1, 2, 3):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setHorizontalHeaderLabels([self.tr("Impact"), "A", "B", self.tr("Difference")])
        form = QFormLayout()
        form.addRow("A:", self.combo_a)
        form.addRow("B:", self.combo_b)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.compare_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(close)

    def _fill(self) -> None:
        runs = session_runs(self.panel.workspace)
        items = [(self.tr("Run {0}").replace("{0}", r["label"]), f"run:{i}")
                 for i, r in enumerate(runs)]
        items.reverse()  # newest first
        for name in sorted(self.panel.workspace.scenarios):
            doc = self.panel.workspace.scenarios[name]
            title = _title_of(doc, self.panel.lang)
            items.append((self.tr("Scenario {0}").replace("{0}", f"{name} — {title}"
                                                            if title else name),
                          f"scenario:{name}"))
        for combo in (self.combo_a, self.combo_b):
            combo.clear()
            for text, data in items:
                combo.addItem(text, data)
        if len(runs) >= 2:  # the last two runs: A the older, B the newer
            self.combo_a.setCurrentIndex(1)
            self.combo_b.setCurrentIndex(0)
        elif len(items) >= 2:
            self.combo_a.setCurrentIndex(0)
            self.combo_b.setCurrentIndex(1)

    def choose(self, a: str, b: str) -> None:
        """Pick the two sides by data (``run:INDEX`` or ``scenario:NAME``)."""
        for combo, value in ((self.combo_a, a), (self.combo_b, b)):
            i = combo.findData(value)
            if i < 0:
                raise KeyError(value)
            combo.setCurrentIndex(i)

    def compare(self) -> bool:
        """Fill the table (running saved scenarios in a worker when needed)."""
        if self.worker is not None:
            return False
        choices = [(c.currentText(), c.currentData()) for c in (self.combo_a, self.combo_b)]
        if any(d is None for _t, d in choices):
            return False
        runs = session_runs(self.panel.workspace)
        ws = self.panel.workspace
        jobs = []
        for label, data in choices:
            kind, _, key = data.partition(":")
            if kind == "run":
                jobs.append((label, runs[int(key)]["result"].summary))
            else:
                jobs.append((label, ws.scenarios[key]))
        if all(isinstance(v, dict) and "residents" in v for _l, v in jobs):
            self.show_summaries(jobs)
            return True
        frames, base_dir = ws.frames(), ws.folder

        def run_both(feedback):
            from spatial.drill.impact import run_drill
            from spatial.drill.scenario import parse_scenario

            out = []
            for i, (label, value) in enumerate(jobs):
                if isinstance(value, dict) and "residents" in value:
                    out.append((label, value))
                    continue
                scenario = parse_scenario(value, base_dir=base_dir, source=label)
                result = run_drill(scenario, frames, base_dir=base_dir)
                out.append((label, result.summary))
                feedback.step(i + 1, len(jobs))
            return out

        self.status.setText(self.tr("Running the scenarios…"))
        self.compare_button.setEnabled(False)

        def done(summaries) -> None:
            self.worker = None
            self.compare_button.setEnabled(True)
            self.show_summaries(summaries)

        def failed(message: str) -> None:
            self.worker = None
            self.compare_button.setEnabled(True)
            self.status.setText(self.tr("Could not compare: {0}")
                                .replace("{0}", _first_line(message)))
            self.status.setStyleSheet("QLabel { color: #a61b1b; }")
            self.status.setToolTip(message)

        self.worker = start_worker(run_both, on_finished=done, on_error=failed,
                                   on_canceled=lambda: done([]))
        return True

    def show_summaries(self, summaries) -> None:
        """Fill the table from two ``(label, summary)`` pairs."""
        self.summaries = list(summaries)
        if len(self.summaries) != 2:
            self.table.setRowCount(0)
            return
        (la, sa), (lb, sb) = self.summaries
        self.status.setStyleSheet("")
        self.status.setText(self.tr("B − A: positive means B affects more."))
        self.table.setHorizontalHeaderLabels([self.tr("Impact"), _short(la), _short(lb),
                                              self.tr("Difference")])
        self.table.horizontalHeaderItem(1).setToolTip(la)
        self.table.horizontalHeaderItem(2).setToolTip(lb)
        titles = self.panel._facility_titles()
        rows_a = {k: (label, v, p) for k, label, v, p in key_numbers(sa, titles)}
        rows_b = {k: (label, v, p) for k, label, v, p in key_numbers(sb, titles)}
        keys = list(rows_a) + [k for k in rows_b if k not in rows_a]
        self.table.setRowCount(len(keys))
        for r, key in enumerate(keys):
            label, va, people = rows_a.get(key) or (rows_b[key][0], None, rows_b[key][2])
            vb = rows_b.get(key, (None, None, people))[1]
            missing_a, missing_b = key not in rows_a, key not in rows_b
            cells = [label,
                     "—" if missing_a else _format_value(va, people),
                     "—" if missing_b else _format_value(vb, people),
                     "—" if missing_a or missing_b else _difference(va, vb, people)]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.compared.emit()

    def column_texts(self, column: int) -> list[str]:
        return [self.table.item(r, column).text() for r in range(self.table.rowCount())]


def _short(text: str, n: int = 28) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _html(text: str) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
