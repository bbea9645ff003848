"""Add layers from a file: options, then :func:`layers.ingest.import_into` in a worker.

``ImportDialog(workspace)`` asks for the file and the options (layer name,
department, classification, a CRS for files without one, x/y columns for CSV,
replace an existing layer) and runs the import on a pool thread with a progress
dialog and Cancel.

Nothing is half-imported: the worker runs ``import_into`` against a *staging*
stand-in of the workspace (its layer names and folder, read on the UI thread
before starting; its extent, read from the layers by the worker) that only records the layers to add and remove and the
audit entry.  When the worker finishes — and only if the user did not cancel —
the recorded changes are replayed on the real workspace on the UI thread, after
checking they still apply, so registry events (and every widget listening to
them) stay on the UI thread.  On cancel or error the workspace is untouched.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from layers.importer import SUPPORTED_EXTENSIONS, sanitize_name
from layers.ingest import import_into
from spatial.schema import CLASSIFICATIONS, DEPARTMENTS

from .layer_tree import department_title
from .workers import start_worker

__all__ = ["ImportDialog", "StagedImport"]



_EXTENT_CACHE: dict[tuple, object] = {}


class _Names:
    """The workspace's layer names, for ``name in staging.registry``."""

    def __init__(self, names) -> None:
        self._names = list(names)

    def __contains__(self, name) -> bool:
        return name in self._names

    def names(self) -> list[str]:
        return list(self._names)


class StagedImport:
    """A stand-in workspace for :func:`import_into` on a worker thread.

    It answers what ``import_into`` reads (layer names, path and folder from a
    snapshot; the extent from the workspace's layers, read-only) and records what it would change; :meth:`apply` replays the
    changes on the real workspace (UI thread), all or nothing.
    """

    def __init__(self, workspace) -> None:
        self.registry = _Names(workspace.registry.names())
        self.path = workspace.path
        self.folder = workspace.folder
        self._workspace = workspace
        # the extent depends only on each layer's bounds and CRS
        self._extent_key = tuple((layer.name, layer.bounds, getattr(layer.crs, "srs", None))
                                 for layer in workspace.registry)
        self.ops: list[tuple] = []
        self.logs: list[tuple] = []

    def extent_lonlat(self):
        """The real workspace's extent, computed on the worker thread (it reads the
        layers' bounds and builds one transformer per layer: seconds on a big
        workspace) and remembered for the same layers, bounds and CRSs."""
        key = self._extent_key
        if key not in _EXTENT_CACHE:
            extent = self._workspace.extent_lonlat()
            if len(_EXTENT_CACHE) >= 8:
                _EXTENT_CACHE.pop(next(iter(_EXTENT_CACHE)))
            _EXTENT_CACHE[key] = extent
        return _EXTENT_CACHE[key]

    def add_layer(self, layer, index=None):
        self.ops.append(("add", layer, index))
        return layer

    def remove_layer(self, name: str):
        self.ops.append(("remove", name, None))

    def log(self, action: str, detail=None) -> dict:
        self.logs.append((action, detail))
        return {"action": action, "detail": detail}

    def added(self) -> list:
        """The layers that would be added."""
        return [layer for op, layer, _ in self.ops if op == "add"]

    def check(self, workspace) -> None:
        """``ValueError`` if replaying on ``workspace`` would fail half-way."""
        names = {n.lower(): n for n in workspace.registry.names()}
        for op, what, _ in self.ops:
            if op == "remove":
                if what not in workspace.registry:
                    raise ValueError(QCoreApplication.translate("ImportDialog", "The layer '{0}' is no longer in the workspace.")
                                     .replace("{0}", what))
                names.pop(what.lower(), None)
            else:
                if what.name.lower() in names:
                    raise ValueError(QCoreApplication.translate("ImportDialog", "A layer named '{0}' was added meanwhile; import "
                                         "again with another name.")
                                     .replace("{0}", names[what.name.lower()]))
                names[what.name.lower()] = what.name

    def apply(self, workspace) -> list[str]:
        """Replay the recorded changes on ``workspace``; return the added names."""
        self.check(workspace)
        for op, what, index in self.ops:
            if op == "remove":
                workspace.remove_layer(what)
            else:
                workspace.add_layer(what, index)
        for action, detail in self.logs:
            workspace.log(action, detail)
        return [layer.name for layer in self.added()]

    def discard(self, source: Path | None = None) -> None:
        """Forget the staged layers, deleting raster copies the import made."""
        for layer in self.added():
            path = getattr(layer, "path", None)
            if path is None:
                continue
            close = getattr(layer, "close", None)
            if close is not None:
                close()
            if self.folder is not None and source is not None and \
                    Path(path).resolve() != Path(source).resolve() and \
                    Path(self.folder) in Path(path).parents:
                Path(path).unlink(missing_ok=True)
        self.ops.clear()


def _stage_and_import(staging: StagedImport, path: str, *, feedback, **options) -> StagedImport:
    import_into(staging, path, feedback=feedback, **options)
    return staging


class ImportDialog(QDialog):
    """Import a file into a workspace.

    Parameters
    ----------
    workspace : layers.workspace.Workspace
    parent : QWidget, optional
    lang : str

    Signals
    -------
    imported(list)
        Names of the layers added (after the worker finished, on the UI thread).
    failed(str)
        The full error message (also shown in a message box).
    canceled()
        The user canceled; the workspace is unchanged.
    """

    imported = Signal(list)
    failed = Signal(str)
    canceled = Signal()

    def __init__(self, workspace, parent=None, lang: str = "en") -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.lang = lang
        self.worker = None
        self.progress: QProgressDialog | None = None
        self.error_box: QMessageBox | None = None
        self.last_error: str | None = None
        self._staging: StagedImport | None = None
        self._user_canceled = False
        self.setWindowTitle(self.tr("Add layer from file"))

        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("pathEdit")
        self.path_edit.textChanged.connect(self._on_path)
        browse = QPushButton(self.tr("Browse…"))
        browse.clicked.connect(self.browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path_edit, 1)
        file_row.addWidget(browse)
        file_box = QWidget()
        file_box.setLayout(file_row)
        file_row.setContentsMargins(0, 0, 0, 0)

        self.name_edit = QLineEdit()
        self.name_edit.setToolTip(self.tr("Leave empty to name the layer after the file "
                                          "(files with several layers keep their names)."))
        self.source_layer = QLineEdit()
        self.source_layer.setPlaceholderText(self.tr("all layers"))
        self.source_layer.setToolTip(self.tr("For a GeoPackage or zip with several layers: "
                                             "import only this one."))
        self.department = QComboBox()
        for code in DEPARTMENTS:
            self.department.addItem(f"{department_title(code, lang)} ({code})", code)
        self.department.setCurrentIndex(self.department.findData("imported"))
        self.classification = QComboBox()
        labels = {"public": self.tr("Public"), "internal": self.tr("Internal"),
                  "restricted": self.tr("Restricted")}
        for c in CLASSIFICATIONS:
            self.classification.addItem(labels.get(c, c), c)
        self.classification.setCurrentIndex(self.classification.findData("internal"))
        self.crs_edit = QLineEdit()
        self.crs_edit.setPlaceholderText(self.tr("e.g. EPSG:4547"))
        self.crs_edit.setToolTip(self.tr(
            "The CRS of the coordinates, for files that declare none (a shapefile without "
            ".prj) or CSV not in longitude/latitude. If the file declares another CRS, this "
            "one wins and the import notes it."))
        self.x_column = QComboBox()
        self.y_column = QComboBox()
        for combo in (self.x_column, self.y_column):
            combo.setEditable(True)
            combo.setToolTip(self.tr("CSV only: the coordinate columns; leave empty to "
                                     "detect lon/lat or x/y."))
        self.replace_box = QCheckBox(self.tr("Replace a layer of the same name"))

        form = QFormLayout()
        form.addRow(self.tr("File:"), file_box)
        form.addRow(self.tr("Layer name:"), self.name_edit)
        form.addRow(self.tr("Source layer:"), self.source_layer)
        form.addRow(self.tr("Department:"), self.department)
        form.addRow(self.tr("Classification:"), self.classification)
        form.addRow(self.tr("CRS if missing:"), self.crs_edit)
        form.addRow(self.tr("X / longitude column:"), self.x_column)
        form.addRow(self.tr("Y / latitude column:"), self.y_column)
        form.addRow(self.replace_box)

        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020;")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Import"))
        self.buttons.accepted.connect(self.start_import)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._on_path("")

    # ------------------------------------------------------------------ options
    def browse(self) -> None:
        exts = " ".join(f"*{e}" for e in SUPPORTED_EXTENSIONS)
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Choose a data file"), "",
            self.tr("Data files ({0});;All files (*)").replace("{0}", exts))
        if path:
            self.path_edit.setText(path)

    def set_path(self, path) -> None:
        self.path_edit.setText(str(path))

    def _on_path(self, text: str) -> None:
        path = Path(text.strip()) if text.strip() else None
        is_csv = path is not None and path.suffix.lower() in (".csv", ".txt")
        self.name_edit.setPlaceholderText(sanitize_name(path.stem) if path else "")
        for combo in (self.x_column, self.y_column):
            combo.setEnabled(is_csv)
            combo.clear()
        if is_csv and path.is_file():
            columns = self._csv_header(path)
            for combo in (self.x_column, self.y_column):
                combo.addItem("")
                combo.addItems(columns)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(path is not None)

    @staticmethod
    def _csv_header(path: Path) -> list[str]:
        import csv

        try:
            with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
                first = f.readline()
            dialect = csv.Sniffer().sniff(first, delimiters=",;\t|") if first else csv.excel
            return [c.strip() for c in next(csv.reader([first], dialect))]
        except (OSError, csv.Error, StopIteration):
            return []

    def options(self) -> dict:
        """The keyword arguments for :func:`import_into` chosen in the form."""
        opts = {"department": self.department.currentData(),
                "classification": self.classification.currentData(),
                "replace": self.replace_box.isChecked()}
        if self.name_edit.text().strip():
            opts["name"] = self.name_edit.text().strip()
        if self.source_layer.text().strip():
            opts["layer"] = self.source_layer.text().strip()
        if self.crs_edit.text().strip():
            opts["crs"] = self.crs_edit.text().strip()
        x, y = self.x_column.currentText().strip(), self.y_column.currentText().strip()
        if self.x_column.isEnabled() and (x or y):
            opts["x"], opts["y"] = x, y
        return opts

    # ------------------------------------------------------------------ run
    def start_import(self) -> bool:
        """Check the form and start the worker (with a progress dialog); return
        whether it started."""
        if self.worker is not None and not self.worker.done:
            return False
        path = self.path_edit.text().strip()
        if not path:
            self.message.setText(self.tr("Choose a file first."))
            return False
        if not Path(path).is_file():
            self.message.setText(self.tr("The file {0} does not exist.").replace("{0}", path))
            return False
        opts = self.options()
        if ("x" in opts) and not (opts["x"] and opts["y"]):
            self.message.setText(self.tr("Give both the X and the Y column, or neither."))
            return False
        self.message.setText("")
        self._user_canceled = False
        self.last_error = None
        self._source = Path(path)
        self._staging = StagedImport(self.workspace)
        self.progress = QProgressDialog(self.tr("Importing {0}…").replace("{0}", Path(path).name),
                                        self.tr("Cancel"), 0, 100, self)
        self.progress.setWindowTitle(self.tr("Add layer"))
        self.progress.setWindowModality(Qt.WindowModality.WindowModal)
        self.progress.setMinimumDuration(0)
        self.progress.setAutoClose(False)
        self.progress.setAutoReset(False)
        self.progress.canceled.connect(self.cancel)
        self.progress.setValue(0)
        self.buttons.setEnabled(False)
        self.worker = start_worker(_stage_and_import, self._staging, path,
                                   on_finished=self._on_finished, on_error=self._on_error,
                                   on_progress=self._on_progress,
                                   on_canceled=self._on_canceled, **opts)
        return True

    def cancel(self) -> None:
        """Ask the worker to stop; nothing is added even if it finishes anyway."""
        self._user_canceled = True
        if self.worker is not None:
            self.worker.cancel()
        if self.progress is not None:
            self.progress.setLabelText(self.tr("Canceling…"))

    def is_running(self) -> bool:
        return self.worker is not None and not self.worker.done

    def _on_progress(self, percent: float) -> None:
        if self.progress is not None and not self._user_canceled:
            self.progress.setValue(int(percent))

    def _close_progress(self) -> None:
        self.buttons.setEnabled(True)
        if self.progress is not None:
            self.progress.canceled.disconnect(self.cancel)
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None

    def _on_finished(self, staging: StagedImport) -> None:
        self._close_progress()
        if self._user_canceled:
            staging.discard(self._source)
            self.canceled.emit()
            return
        try:
            names = staging.apply(self.workspace)
        except ValueError as exc:
            staging.discard(self._source)
            self._on_error(str(exc))
            return
        self.imported.emit(names)
        self.accept()

    def _on_canceled(self) -> None:
        self._close_progress()
        if self._staging is not None:
            self._staging.discard(self._source)
        self.canceled.emit()

    def _on_error(self, message: str) -> None:
        self._close_progress()
        if self._staging is not None:
            self._staging.discard(self._source)
        self.last_error = message
        self.message.setText(message.split("\n\n", 1)[0])
        summary, _, details = message.partition("\n\n")
        box = QMessageBox(QMessageBox.Icon.Critical, self.tr("Import failed"), summary,
                          QMessageBox.StandardButton.Ok, self)
        if details:
            box.setDetailedText(message)
        self.error_box = box
        box.open()
        self.failed.emit(message)

    def reject(self) -> None:
        if self.is_running():
            self.cancel()
            return
        super().reject()
