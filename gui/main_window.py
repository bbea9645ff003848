"""The main window: welcome screen or map, dockable panels, menus, toolbar and
status bar.  Thin: it wires the widgets to one Workspace, one Selection and
the settings; every analysis runs in spatial/ through workers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QWidget,
)

from layers.selection import Selection
from spatial.crs import crs_label, get_transformer, parse_crs

from .icons import icon
from .settings import Settings
from .welcome import WelcomeScreen

ATTRIBUTION = (
    "Shanghai sample: © OpenStreetMap contributors (ODbL); vector tiles by Nextzen/Tilezen."
)

#: (object name, tool name for MapCanvas.set_tool, shortcut)
TOOLS = (
    ("pan", "P"), ("identify", "I"), ("select", "S"), ("select_rect", "R"),
    ("select_polygon", "G"), ("measure_line", "M"), ("measure_area", "Shift+M"),
    ("draw_point", ""), ("draw_line", ""), ("draw_polygon", ""),
)


class MainWindow(QMainWindow):
    """CityFrame's main window over one workspace (or the welcome screen)."""

    languageChanged = Signal(str)

    def __init__(self, workspace=None, lang: str = "en", settings: Settings | None = None,
                 parent=None):
        super().__init__(parent)
        self.setObjectName("CityFrameMainWindow")
        self.lang = lang
        self.settings = settings or Settings()
        self.workspace = None
        self.selection = Selection()
        self.resize(1600, 1000)

        from .canvas import MapCanvas

        self.canvas = MapCanvas()
        self.welcome = WelcomeScreen(self.settings.recent(), lang)
        self.welcome.openSample.connect(self.open_sample)
        self.welcome.openPath.connect(self.open_path)
        self.welcome.openFileRequested.connect(self.open_workspace_dialog)
        self.welcome.newWorkspace.connect(self.new_workspace)
        self.stack = QStackedWidget()
        self.welcome_scroll = QScrollArea()  # the cards must not set the window's minimum size
        self.welcome_scroll.setWidgetResizable(True)
        self.welcome_scroll.setWidget(self.welcome)
        self.stack.addWidget(self.welcome_scroll)
        self.stack.addWidget(self.canvas)
        self.setCentralWidget(self.stack)

        self.docks: dict[str, QDockWidget] = {}
        #: One undo stack for the window: layer remove/add/reorder, visibility,
        #: opacity, style and properties (Edit ▸ Undo / Redo).
        self.undo_stack = QUndoStack(self)
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self._wire_canvas()
        geometry, state = self.settings.window()
        if geometry is not None:
            self.restoreGeometry(geometry)
        self._saved_state = state
        self._layout_restored = False
        self._sized_docks = False  # the first show sizes the bottom panels (showEvent)
        self.set_workspace(workspace)

    # ------------------------------------------------------------------ docks
    def _dock(self, key: str, title: str, widget: QWidget, area) -> QDockWidget:
        old = self.docks.get(key)
        if old is not None:
            old.setWidget(widget)
            return old
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{key}Dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[key] = dock
        self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def _build_docks(self, ws) -> None:
        from .attribute_table import AttributeTable
        from .layer_tree import LayerTreeWidget
        from .query_builder import QueryBuilder
        from .results_panel import ResultsPanel

        left = Qt.DockWidgetArea.LeftDockWidgetArea
        right = Qt.DockWidgetArea.RightDockWidgetArea
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.layer_tree = LayerTreeWidget(ws, lang=self.lang, undo_stack=self.undo_stack)
        self.layer_tree.zoomToLayer.connect(self.canvas.zoom_to_layer)
        self.layer_tree.openAttributes.connect(self.show_attributes)
        self._dock("Layers", self.tr("Layers"), self.layer_tree, left)
        self.attributes_holder = QLabel(self.tr("Open a layer's attribute table from the Layers panel."))
        self.attributes_holder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._dock("Attributes", self.tr("Attributes"), self.attributes_holder, bottom)
        self.query_builder = QueryBuilder(ws, lang=self.lang)
        self._dock("Query", self.tr("Query"), self.query_builder, right)
        self.results = ResultsPanel(ws, lang=self.lang)
        self.results.setMinimumHeight(120)  # the map gets the height; the panel scrolls
        self.query_builder.resultReady.connect(self._on_query_result)
        self._dock("Results", self.tr("Results"), self.results, bottom)
        from .drills_panel import DrillsPanel

        if getattr(self, "drills", None) is not None:
            self.drills.shutdown()  # the previous workspace's panel: stop it, free the map tool
        self.drills = DrillsPanel(ws, canvas=self.canvas, lang=self.lang)
        self._dock("Drills", self.tr("Drills"), self.drills, right)
        self.tabifyDockWidget(self.docks["Query"], self.docks["Drills"])
        self.tabifyDockWidget(self.docks["Attributes"], self.docks["Results"])
        self.docks["Query"].raise_()
        if not self._layout_restored:
            self.resizeDocks([self.docks["Layers"], self.docks["Query"]], [330, 400],
                             Qt.Orientation.Horizontal)
            self.resizeDocks([self.docks["Results"]], [230], Qt.Orientation.Vertical)
        self.AttributeTable = AttributeTable

    def show_attributes(self, name: str) -> None:
        layer = self.workspace.layer(name)
        table = self.AttributeTable(layer, self.selection)
        table.zoomToRows.connect(lambda layer_name, rows: self.canvas.zoom_to_selection())
        self._dock("Attributes", self.tr("Attributes"), table, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.docks["Attributes"].setWindowTitle(
            self.tr("Attributes — {0}").replace("{0}", layer.metadata.title(self.lang) or name))
        self.docks["Attributes"].show()
        self.docks["Attributes"].raise_()

    def _on_query_result(self, payload) -> None:
        query, result = payload
        self.results.show_result(query, result)
        self.docks["Results"].show()
        self.docks["Results"].raise_()
        self.canvas.set_highlight("query", self._result_geometries(query, result))

    def _result_geometries(self, query, result):
        """What to highlight: the matched target features (also for grouped results,
        whose rows are zones), else the result's own geometry, else nothing."""
        positions = getattr(result, "positions", None)
        if (query.group_by is not None or query.aggregate) and positions is not None \
                and query.target in self.workspace.registry:
            data = self.workspace.layer(query.target).data
            return data.geometry.iloc[np.unique(np.asarray(positions, dtype=np.int64))]
        if query.group_by is None and "geometry" in getattr(result.data, "columns", ()):
            return result.data.geometry
        return None

    # ------------------------------------------------------------------ actions
    def _action(self, text: str, slot=None, shortcut=None, checkable=False, name=None,
                icon_name: str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        if slot is not None:
            action.triggered.connect(slot)
        if name:
            action.setObjectName(name)
        if icon_name:
            action.setIcon(icon(icon_name))
        self._set_tooltip(action)
        return action

    def showEvent(self, event) -> None:
        """On the first show without a saved layout, give the map the height: the bottom
        panels get about a quarter of the window (sizes set before the window had its size
        grow with it)."""
        super().showEvent(event)
        if not self._sized_docks and "Results" in self.docks and not self._layout_restored:
            self._sized_docks = True
            QTimer.singleShot(0, self._size_bottom_docks)

    def _size_bottom_docks(self) -> None:
        if "Results" in self.docks:
            self.resizeDocks([self.docks["Results"]], [max(220, self.height() // 4)],
                             Qt.Orientation.Vertical)

    def _on_tool_changed(self, name: str) -> None:
        """Keep the toolbar's checked tool in step when a panel switches the map tool."""
        act = self.tool_actions.get(name)
        if act is not None and not act.isChecked():
            act.setChecked(True)

    @staticmethod
    def _set_tooltip(action: QAction) -> None:
        """Tooltip = the action's text (without the & accelerator) and its shortcut."""
        text = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{text} ({keys})" if keys else text)

    def _build_actions(self) -> None:
        std = QKeySequence.StandardKey
        self.act_new = self._action(self.tr("&New workspace"), self.new_workspace, std.New,
                                    icon_name="new")
        self.act_open = self._action(self.tr("&Open workspace…"), self.open_workspace_dialog,
                                     std.Open, icon_name="open")
        self.act_save = self._action(self.tr("&Save"), self.save, std.Save, icon_name="save")
        self.act_save_as = self._action(self.tr("Save &as…"), self.save_as, std.SaveAs)
        self.act_import = self._action(self.tr("&Add layer from file…"), self.import_layer,
                                       "Ctrl+Shift+A", icon_name="add_layer")
        self.act_quit = self._action(self.tr("&Quit"), self.close, std.Quit)
        self.act_undo = self.undo_stack.createUndoAction(self, self.tr("&Undo"))
        self.act_redo = self.undo_stack.createRedoAction(self, self.tr("&Redo"))
        for act, name, keys in ((self.act_undo, "undo", ["Ctrl+Z"]),
                                (self.act_redo, "redo", ["Ctrl+Shift+Z", "Ctrl+Y"])):
            act.setObjectName(f"act_{name}")
            act.setIcon(icon(name))
            act.setShortcuts([QKeySequence(k) for k in keys])
            self._set_tooltip(act)
        self.undo_stack.undoTextChanged.connect(self._retip_undo)
        self.undo_stack.redoTextChanged.connect(self._retip_undo)
        self.act_zoom_in = self._action(self.tr("Zoom &in"), lambda: self.canvas.zoom_in(), "+",
                                        icon_name="zoom_in")
        self.act_zoom_out = self._action(self.tr("Zoom &out"), lambda: self.canvas.zoom_out(),
                                         "-", icon_name="zoom_out")
        self.act_zoom_full = self._action(self.tr("&Full extent"),
                                          lambda: self.canvas.zoom_full(), "Ctrl+0",
                                          icon_name="zoom_full")
        self.act_zoom_layer = self._action(self.tr("Zoom to &layer"), self.zoom_to_active_layer,
                                           "Ctrl+L", icon_name="zoom_layer")
        self.act_zoom_sel = self._action(self.tr("Zoom to &selection"),
                                         lambda: self.canvas.zoom_to_selection(), "Ctrl+J",
                                         icon_name="zoom_selection")
        self.act_query = self._action(self.tr("&Query builder"), lambda: self._raise_dock("Query"),
                                      "Ctrl+Shift+Q", icon_name="query")
        self.act_drills = self._action(self.tr("&Drills"), lambda: self._raise_dock("Drills"),
                                       "Ctrl+Shift+D", icon_name="drill")
        self.act_crs = self._action(self.tr("Map &CRS…"), self.choose_crs)
        self.act_about = self._action(self.tr("&About CityFrame"), self.show_about)
        labels = {
            "pan": self.tr("Pan"), "identify": self.tr("Identify"), "select": self.tr("Select"),
            "select_rect": self.tr("Select by rectangle"), "select_polygon": self.tr("Select by polygon"),
            "measure_line": self.tr("Measure distance"), "measure_area": self.tr("Measure area"),
            "draw_point": self.tr("Draw point"), "draw_line": self.tr("Draw line"),
            "draw_polygon": self.tr("Draw polygon"),
        }
        self.tool_group = QActionGroup(self)
        self.tool_actions: dict[str, QAction] = {}
        for name, key in TOOLS:
            act = self._action(labels[name], None, key or None, checkable=True,
                               name=f"tool_{name}", icon_name=name)
            act.triggered.connect(lambda _c=False, n=name: self.canvas.set_tool(n))
            self.tool_group.addAction(act)
            self.tool_actions[name] = act
        self.tool_actions["pan"].setChecked(True)
        self.lang_group = QActionGroup(self)
        self.act_lang = {}
        for code, label in (("en", "English"), ("zh", "简体中文")):
            act = self._action(label, None, checkable=True, name=f"lang_{code}")
            act.setChecked(code == self.lang)
            act.triggered.connect(lambda _c=False, c=code: self.switch_language(c))
            self.lang_group.addAction(act)
            self.act_lang[code] = act

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu(self.tr("&File"))
        for act in (self.act_new, self.act_open):
            file_menu.addAction(act)
        samples = file_menu.addMenu(self.tr("Open &sample city"))
        from sample_data.catalogue import SAMPLES

        for s in SAMPLES:
            act = samples.addAction(s.name_zh if self.lang == "zh" else s.name_en)
            act.triggered.connect(lambda _c=False, sid=s.id: self.open_sample(sid))
        self.recent_menu = file_menu.addMenu(self.tr("Open &recent"))
        self._fill_recent_menu()
        file_menu.addSeparator()
        for act in (self.act_save, self.act_save_as, self.act_import):
            file_menu.addAction(act)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        edit_menu = bar.addMenu(self.tr("&Edit"))
        edit_menu.addAction(self.act_undo)
        edit_menu.addAction(self.act_redo)
        self.view_menu = bar.addMenu(self.tr("&View"))
        for act in (self.act_zoom_in, self.act_zoom_out, self.act_zoom_full, self.act_zoom_layer,
                    self.act_zoom_sel):
            self.view_menu.addAction(act)
        self.view_menu.addSeparator()
        for act in (self.act_query, self.act_drills):
            self.view_menu.addAction(act)
        self.view_menu.addSeparator()
        tools = bar.addMenu(self.tr("&Tools"))
        for act in self.tool_actions.values():
            tools.addAction(act)
        settings = bar.addMenu(self.tr("&Settings"))
        settings.addAction(self.act_crs)
        lang_menu = settings.addMenu(self.tr("&Language"))
        for act in self.act_lang.values():
            lang_menu.addAction(act)
        help_menu = bar.addMenu(self.tr("&Help"))
        help_menu.addAction(self.act_about)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.recent():
            act = self.recent_menu.addAction(Path(path).name)
            act.setToolTip(path)
            act.triggered.connect(lambda _c=False, p=path: self.open_path(p))
        self.recent_menu.setEnabled(bool(self.settings.recent()))

    def _build_toolbar(self) -> None:
        tb = self.addToolBar(self.tr("Map tools"))
        tb.setObjectName("MapToolbar")
        tb.setIconSize(QSize(24, 24))
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)  # names in the tooltips
        self.toolbar = tb
        groups = (
            (self.act_open, self.act_save, self.act_import),
            (self.act_undo, self.act_redo),
            (self.act_zoom_in, self.act_zoom_out, self.act_zoom_full, self.act_zoom_layer,
             self.act_zoom_sel),
            tuple(self.tool_actions.values()),
            (self.act_query, self.act_drills),
        )
        for i, group in enumerate(groups):
            if i:
                tb.addSeparator()
            for act in group:
                tb.addAction(act)

    def _retip_undo(self, *_args) -> None:
        """Undo/Redo change their text with the command on top: follow in the tooltips."""
        for act in (self.act_undo, self.act_redo):
            self._set_tooltip(act)

    def _raise_dock(self, key: str) -> None:
        dock = self.docks.get(key)
        if dock is not None:
            dock.show()
            dock.raise_()

    def zoom_to_active_layer(self) -> None:
        """Zoom to the layer chosen in the Layers panel."""
        ws = self.workspace
        layer = ws.registry.active if ws is not None else None
        if layer is None or layer.kind == "table" or layer.bounds is None:
            self.statusBar().showMessage(
                self.tr("Choose a layer with features in the Layers panel first."), 4000)
            return
        self.canvas.zoom_to_layer(layer.name)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.status_xy = QLabel()
        self.status_lonlat = QLabel()
        self.status_scale = QLabel()
        self.status_crs = QPushButton()
        self.status_crs.setFlat(True)
        self.status_crs.setToolTip(self.tr("Change the map CRS"))
        self.status_crs.clicked.connect(self.choose_crs)
        for w in (self.status_xy, self.status_lonlat, self.status_scale):
            sb.addPermanentWidget(w)
        sb.addPermanentWidget(self.status_crs)

    def _wire_canvas(self) -> None:
        self.canvas.cursorMoved.connect(self._on_cursor)
        self.canvas.scaleChanged.connect(
            lambda s: self.status_scale.setText(self.tr("Scale 1:{0}").replace("{0}", f"{s:,.0f}")))
        self.canvas.measured.connect(self._on_measured)
        self.canvas.toolChanged.connect(self._on_tool_changed)
        self.canvas.featuresIdentified.connect(self._on_identified)

    def _on_cursor(self, x: float, y: float) -> None:
        crs = self.canvas.map_crs
        if crs is None:
            return
        self.status_xy.setText(f"{x:,.2f}, {y:,.2f}")
        lon, lat = get_transformer(crs, "EPSG:4326").transform(x, y)
        self.status_lonlat.setText(f"WGS-84 {lon:.6f}°, {lat:.6f}°")

    def _on_measured(self, value: float, kind: str) -> None:
        if kind == "area":
            text = self.tr("Area: {0} m² ({1} ha)").replace("{0}", f"{value:,.1f}").replace(
                "{1}", f"{value / 1e4:,.2f}")
        else:
            text = self.tr("Distance: {0} m").replace("{0}", f"{value:,.1f}")
        self.statusBar().showMessage(text)

    def _on_identified(self, features) -> None:
        if not features:
            self.statusBar().showMessage(self.tr("Nothing here."), 3000)
            return
        from .identify_panel import IdentifyPanel

        panel = IdentifyPanel(features, self.workspace, lang=self.lang)
        self._dock("Identify", self.tr("Identify results"), panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.docks["Identify"].show()
        self.docks["Identify"].raise_()

    # ------------------------------------------------------------------ workspace
    def set_workspace(self, workspace) -> None:
        self.workspace = workspace
        self.selection.clear()
        self.undo_stack.clear()  # its commands hold the previous workspace's layers
        has = workspace is not None
        for act in (self.act_save, self.act_save_as, self.act_import, self.act_zoom_in,
                    self.act_zoom_out, self.act_zoom_full, self.act_zoom_layer,
                    self.act_zoom_sel, self.act_query, self.act_drills,
                    *self.tool_actions.values()):
            act.setEnabled(has)
        if not has:
            self.stack.setCurrentWidget(self.welcome_scroll)
            for dock in self.docks.values():
                dock.hide()
            self.setWindowTitle(self.tr("CityFrame"))
            self.status_crs.setText("")
            return
        # the canvas first: it starts preparing the visible layers on its render
        # thread while the panels are built (a sooner first map on big cities)
        self.canvas.set_workspace(workspace, self.selection)
        self._build_docks(workspace)
        for key, dock in self.docks.items():
            dock.setVisible(key not in ("Identify",))
        if self._saved_state is not None and not self._layout_restored:
            self._layout_restored = self.restoreState(self._saved_state)
        if self.settings.map_crs and workspace.path is None:
            pass
        self.stack.setCurrentWidget(self.canvas)
        self.canvas.zoom_full()
        self._update_title()
        self.status_crs.setText(crs_label(self.canvas.map_crs) if self.canvas.map_crs else "")
        workspace.events.saved.connect(lambda _p: self._update_title())

    def _update_title(self) -> None:
        ws = self.workspace
        name = ws.path.name if ws is not None and ws.path else self.tr("Unsaved workspace")
        self.setWindowTitle(self.tr("CityFrame — {0}").replace("{0}", str(name)))

    def open_sample(self, sample_id: str) -> None:
        from layers.workspace import Workspace
        from sample_data.catalogue import sample_path

        self._open(lambda: Workspace.open(sample_path(sample_id), read_only=True), remember=None)

    def open_path(self, path: str) -> None:
        from layers.workspace import Workspace
        from sample_data.catalogue import is_bundled

        self._open(lambda: Workspace.open(path, read_only=is_bundled(path)), remember=path)

    def _open(self, opener, remember) -> None:
        if not self._maybe_save():
            return
        try:
            ws = opener()
        except Exception as exc:  # noqa: BLE001 - shown to the user, not swallowed
            QMessageBox.critical(self, self.tr("Cannot open workspace"), str(exc))
            return
        if remember:
            self.settings.add_recent(remember)
            self._fill_recent_menu()
        self.set_workspace(ws)

    def new_workspace(self) -> None:
        from layers.workspace import Workspace

        if self._maybe_save():
            self.set_workspace(Workspace())

    def open_workspace_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open workspace"), "", self.tr("GeoPackage workspaces (*.gpkg)"))
        if path:
            self.open_path(path)

    def save(self) -> bool:
        ws = self.workspace
        if ws is None:
            return False
        if ws.path is None or ws.read_only:
            return self.save_as()
        try:
            ws.save()
        except Exception as exc:  # noqa: BLE001
            QMessageBox.critical(self, self.tr("Cannot save workspace"), str(exc))
            return False
        return True

    def save_as(self) -> bool:
        if self.workspace is None:
            return False
        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("Save workspace as"), "", self.tr("GeoPackage workspaces (*.gpkg)"))
        if not path:
            return False
        if not path.lower().endswith(".gpkg"):
            path += ".gpkg"
        try:
            self.workspace.save_as(path)
        except Exception as exc:  # noqa: BLE001
            QMessageBox.critical(self, self.tr("Cannot save workspace"), str(exc))
            return False
        self.settings.add_recent(path)
        self._fill_recent_menu()
        return True

    def _maybe_save(self) -> bool:
        ws = self.workspace
        if ws is None or not ws.dirty:
            return True
        answer = QMessageBox.question(
            self, self.tr("Unsaved changes"),
            self.tr("The workspace has unsaved changes. Save them first?"),
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Cancel:
            return False
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return True

    def import_layer(self) -> None:
        if self.workspace is None:
            return
        from . import undo
        from .import_dialog import ImportDialog

        dlg = ImportDialog(self.workspace, self)
        dlg.imported.connect(lambda names: undo.add_layers(self.undo_stack, self.workspace,
                                                           names, self.lang))
        dlg.exec()

    def choose_crs(self) -> None:
        if self.workspace is None:
            return
        from .crs_dialog import CrsDialog

        current = self.canvas.map_crs
        dlg = CrsDialog(current=crs_label(current) if current else None, parent=self)
        if dlg.exec() and dlg.selected_code():
            self.canvas.set_map_crs(parse_crs(dlg.selected_code()))
            self.settings.map_crs = dlg.selected_code()
            self.status_crs.setText(dlg.selected_code())

    def switch_language(self, lang: str) -> None:
        """Install the translation and rebuild the window in ``lang``, keeping the workspace."""
        if lang == self.lang:
            return
        self.settings.language = lang
        self.languageChanged.emit(lang)

    # ------------------------------------------------------------------ about / close
    def show_about(self) -> None:
        QMessageBox.about(self, self.tr("About CityFrame"), self.about_text())

    def about_text(self) -> str:
        import main

        return self.tr(
            "<h3>CityFrame {0}</h3><p>Offline desktop GIS for cross-agency decision support.</p>"
            "<p>Sample data: synthetic cities made by CityFrame's generator; {1}</p>"
        ).replace("{0}", main.__version__).replace("{1}", ATTRIBUTION)

    def closeEvent(self, event):  # noqa: N802 - Qt override
        if not self._maybe_save():
            event.ignore()
            return
        self.settings.save_window(self.saveGeometry(), self.saveState())
        if hasattr(self.canvas, "shutdown"):
            self.canvas.shutdown()
        super().closeEvent(event)
