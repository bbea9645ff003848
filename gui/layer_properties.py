"""Layer properties: department, classification, CRS, feature count, source, updated
and the bilingual titles.

``LayerProperties(layer)`` shows the layer's :class:`~layers.metadata.LayerMetadata`;
titles, department and classification are editable and OK replaces
``layer.metadata`` with a new one (``metadata.with_(...)``), which the registry
announces (``changed(layer, "metadata")``) so the layer tree regroups.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from spatial.schema import CLASSIFICATIONS, DEPARTMENTS

from .layer_tree import department_title

__all__ = ["LayerProperties"]


class LayerProperties(QDialog):
    """Show and edit one layer's metadata.

    Parameters
    ----------
    layer : Layer
    parent : QWidget, optional
    lang : str
        Language of the department names in the list.
    undo_stack : QUndoStack, optional
        OK pushes the metadata change here (Edit ▸ Undo restores the titles,
        department and classification); without it the change is made directly.

    Signals
    -------
    metadataApplied(object)
        After OK set a changed LayerMetadata on the layer.
    """

    metadataApplied = Signal(object)

    def __init__(self, layer, parent=None, lang: str = "en", undo_stack=None) -> None:
        super().__init__(parent)
        self.layer = layer
        self.lang = lang
        self.undo_stack = undo_stack
        m = layer.metadata
        self.setWindowTitle(self.tr("Properties — {0}").replace("{0}", m.title(lang) or
                                                                  layer.name))
        form = QFormLayout()
        form.addRow(self.tr("Name:"), self._label(layer.name))

        self.title_en = QLineEdit(m.title_en)
        self.title_zh = QLineEdit(m.title_zh)
        form.addRow(self.tr("Title (English):"), self.title_en)
        form.addRow(self.tr("Title (Chinese):"), self.title_zh)

        self.department = QComboBox()
        self.department.setEditable(True)  # free-text departments are allowed
        self.department.setToolTip(self.tr("A department code; pick one or type another."))
        for code in DEPARTMENTS:
            self.department.addItem(f"{department_title(code, lang)} ({code})", code)
        i = self.department.findData(m.department)
        if i < 0:
            self.department.addItem(m.department, m.department)
            i = self.department.count() - 1
        self.department.setCurrentIndex(i)
        form.addRow(self.tr("Department:"), self.department)

        self.classification = QComboBox()
        names = {"public": self.tr("Public"), "internal": self.tr("Internal"),
                 "restricted": self.tr("Restricted")}
        for c in CLASSIFICATIONS:
            self.classification.addItem(names.get(c, c), c)
        self.classification.setCurrentIndex(self.classification.findData(m.classification))
        form.addRow(self.tr("Classification:"), self.classification)

        form.addRow(self.tr("Kind:"), self._label({"vector": self.tr("Vector"),
                                                  "raster": self.tr("Raster"),
                                                  "table": self.tr("Table")}.get(layer.kind,
                                                                                 layer.kind)))
        gtype = getattr(layer, "geometry_type", None)
        if gtype:
            form.addRow(self.tr("Geometry:"), self._label(gtype))
        form.addRow(self.tr("CRS:"), self._label(self._crs_text()))
        if layer.kind == "raster":
            shape = layer.shape
            count = (self.tr("{0} × {1} pixels").replace("{0}", f"{shape[1]:,}")
                     .replace("{1}", f"{shape[0]:,}") if shape else self.tr("file missing"))
            form.addRow(self.tr("Size:"), self._label(count))
            form.addRow(self.tr("File:"), self._label(str(layer.path)))
        else:
            form.addRow(self.tr("Features:"), self._label(f"{layer.feature_count:,}"))
        form.addRow(self.tr("Source:"), self._label(m.source or "—"))
        form.addRow(self.tr("Updated:"), self._label(m.updated or "—"))

        self.message = QLabel("")
        self.message.setStyleSheet("color: #b00020;")
        self.message.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    @staticmethod
    def _label(text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def _crs_text(self) -> str:
        crs = self.layer.crs
        if crs is None:
            return self.layer.metadata.crs or self.tr("none")
        auth = crs.to_authority()
        code = ":".join(auth) if auth else ""
        return f"{crs.name} ({code})" if code else crs.name

    def department_code(self) -> str:
        """The department chosen (a code from the list, or the text typed)."""
        text = self.department.currentText().strip()
        i = self.department.currentIndex()
        if i >= 0 and self.department.itemText(i) == text:
            return self.department.itemData(i)
        return text

    def set_department(self, code: str) -> None:
        """Choose a department by code (as picking it in the list would)."""
        i = self.department.findData(code)
        if i >= 0:
            self.department.setCurrentIndex(i)
        else:
            self.department.setEditText(code)

    def set_classification(self, value: str) -> None:
        self.classification.setCurrentIndex(self.classification.findData(value))

    def new_metadata(self):
        """The edited metadata (``ValueError`` for an empty department)."""
        dept = self.department_code()
        if not dept:
            raise ValueError(self.tr("The department must not be empty."))
        return self.layer.metadata.with_(
            title_en=self.title_en.text().strip(),
            title_zh=self.title_zh.text().strip(),
            department=dept,
            classification=self.classification.currentData(),
        )

    def apply(self) -> bool:
        """Set the edited metadata on the layer; return whether it changed."""
        from . import undo

        new = self.new_metadata()
        if new == self.layer.metadata:
            return False
        undo.set_property(self.undo_stack, self.layer, "metadata", new, self.lang)
        self.metadataApplied.emit(new)
        return True

    def accept(self) -> None:
        try:
            self.apply()
        except ValueError as exc:
            self.message.setText(str(exc))
            return
        super().accept()
