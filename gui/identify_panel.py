"""Attributes of the features under the cursor, in every visible layer."""

from __future__ import annotations

from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from spatial.privacy import PEOPLE_COLUMNS, format_suppressed, suppress_small_counts

__all__ = ["IdentifyPanel"]


class IdentifyPanel(QWidget):
    """``features``: list of dicts with ``layer``, ``row`` and ``attributes`` (as
    MapCanvas.featuresIdentified gives them).  People counts are suppressed."""

    def __init__(self, features, workspace=None, lang: str = "en", parent=None):
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels([self.tr("Field"), self.tr("Value")])
        self.tree.setColumnWidth(0, 180)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        for feature in features:
            name = feature["layer"]
            title = name
            if workspace is not None and name in workspace.registry:
                title = workspace.layer(name).metadata.title(lang) or name
            attrs = dict(feature.get("attributes", {}))
            people = [k for k in attrs if k in PEOPLE_COLUMNS]
            if people:
                import pandas as pd

                masked = suppress_small_counts(pd.DataFrame([{k: attrs[k] for k in people}]))
                attrs.update({k: format_suppressed(masked[k].iloc[0]) for k in people})
            top = QTreeWidgetItem(self.tree, [title, self.tr("row {0}").replace("{0}", str(feature["row"] + 1))])
            for key, value in attrs.items():
                if key == "geometry":
                    continue
                QTreeWidgetItem(top, [str(key), "" if value is None else str(value)])
            top.setExpanded(True)
