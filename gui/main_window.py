"""The main window: layer tree by department, workspace summary, menus, About box.

A plain window for the foundation (issue 2); the map canvas, attribute table and
query builder arrive with issue 4.  Thin: it reads the Workspace model and
never computes geometry.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTreeWidget,
    QTreeWidgetItem,
)

from spatial.schema import DEPARTMENTS

ATTRIBUTION = (
    "Shanghai sample: © OpenStreetMap contributors (ODbL); vector tiles by Nextzen/Tilezen."
)


class MainWindow(QMainWindow):
    """CityFrame's main window over one workspace (or none)."""

    def __init__(self, workspace=None, lang: str = "en", parent=None):
        super().__init__(parent)
        self.lang = lang
        self.workspace = workspace
        self.setWindowTitle(self.tr("CityFrame"))
        self.resize(1280, 800)

        self.layer_tree = QTreeWidget()
        self.layer_tree.setHeaderLabels([self.tr("Layer"), self.tr("Features"), self.tr("Classification")])
        self.layer_tree.setColumnWidth(0, 260)
        self.layer_tree.itemChanged.connect(self._on_item_changed)
        dock = QDockWidget(self.tr("Layers"), self)
        dock.setObjectName("LayersDock")
        dock.setWidget(self.layer_tree)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.resizeDocks([dock], [460], Qt.Orientation.Horizontal)

        self.summary = QLabel()
        self.summary.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.setCentralWidget(self.summary)

        self._build_menus()
        self.set_workspace(workspace)

    # ------------------------------------------------------------ menus
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        open_action = QAction(self.tr("&Open workspace…"), self)
        open_action.setShortcut(QKeySequence.StandardKey.Open)
        open_action.triggered.connect(self.open_workspace_dialog)
        file_menu.addAction(open_action)
        quit_action = QAction(self.tr("&Quit"), self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        about = QAction(self.tr("&About CityFrame"), self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)

    # ------------------------------------------------------------ model binding
    def set_workspace(self, workspace) -> None:
        self.workspace = workspace
        self.layer_tree.blockSignals(True)
        self.layer_tree.clear()
        if workspace is None:
            self.summary.setText(self.tr("<h2>CityFrame</h2><p>Open a workspace or a sample city.</p>"))
            self.layer_tree.blockSignals(False)
            return
        for dept, layers in workspace.registry.by_department().items():
            names = DEPARTMENTS.get(dept)
            title = (names["zh"] if self.lang == "zh" else names["en"]) if names else dept
            group = QTreeWidgetItem(self.layer_tree, [title])
            group.setFirstColumnSpanned(False)
            for layer in layers:
                count = getattr(layer, "feature_count", None)
                item = QTreeWidgetItem(group, [
                    layer.metadata.title(self.lang) or layer.name,
                    "" if count is None else f"{count:,}",
                    layer.metadata.classification,
                ])
                item.setData(0, Qt.ItemDataRole.UserRole, layer.name)
                item.setToolTip(0, layer.name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(0, Qt.CheckState.Checked if layer.visible else Qt.CheckState.Unchecked)
            group.setExpanded(True)
        self.layer_tree.blockSignals(False)
        name = workspace.path.name if workspace.path else self.tr("Unsaved workspace")
        self.setWindowTitle(self.tr("CityFrame — {0}").replace("{0}", str(name)))
        n = len(workspace.registry)
        depts = len(workspace.registry.by_department())
        self.summary.setText(
            self.tr("<h2>{0}</h2><p>{1} layers from {2} departments.</p>"
                    "<p>The map canvas arrives with the next release.</p>")
            .replace("{0}", str(name)).replace("{1}", str(n)).replace("{2}", str(depts))
        )

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        name = item.data(0, Qt.ItemDataRole.UserRole)
        if name and column == 0 and self.workspace is not None:
            self.workspace.registry[name].visible = item.checkState(0) == Qt.CheckState.Checked

    # ------------------------------------------------------------ actions
    def open_workspace_dialog(self) -> None:
        from layers.workspace import Workspace

        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open workspace"), "", self.tr("GeoPackage workspaces (*.gpkg)"))
        if not path:
            return
        try:
            self.set_workspace(Workspace.open(path))
        except Exception as exc:  # noqa: BLE001 - shown to the user, not swallowed
            QMessageBox.critical(self, self.tr("Cannot open workspace"), str(exc))

    def show_about(self) -> None:
        QMessageBox.about(self, self.tr("About CityFrame"), self.about_text())

    def about_text(self) -> str:
        import main

        return self.tr(
            "<h3>CityFrame {0}</h3><p>Offline desktop GIS for cross-agency decision support.</p>"
            "<p>Sample data: synthetic cities made by CityFrame's generator; {1}</p>"
        ).replace("{0}", main.__version__).replace("{1}", ATTRIBUTION)
