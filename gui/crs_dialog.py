"""Pick the map CRS with a search over pyproj's CRS database."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
)

from spatial.crs import search_crs

__all__ = ["CrsDialog"]

#: Offered first: the CRSs a Chinese city's data usually comes in.
COMMON = ("EPSG:4547", "EPSG:4490", "EPSG:4326", "EPSG:3857", "EPSG:32650", "EPSG:32651")


class CrsDialog(QDialog):
    """Search by code or name; ``selected_code()`` after ``exec()``."""

    def __init__(self, current: str | None = None, lonlat=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Map coordinate reference system"))
        self._lonlat = lonlat
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("Search by EPSG code or name (e.g. 4547, CGCS2000, UTM 50N):")))
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search…"))
        self.search.setClearButtonEnabled(True)
        layout.addWidget(self.search)
        self.results = QListWidget()
        layout.addWidget(self.results)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout.addWidget(buttons)
        self._timer = QTimer(self, singleShot=True, interval=150)
        self._timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self.results.itemDoubleClicked.connect(lambda _i: self.accept())
        self.results.currentItemChanged.connect(
            lambda cur, _prev: self.ok_button.setEnabled(cur is not None))
        self.resize(560, 480)
        self.refresh()
        if current:
            for i in range(self.results.count()):
                if self.results.item(i).data(Qt.ItemDataRole.UserRole) == current:
                    self.results.setCurrentRow(i)

    def refresh(self) -> None:
        text = self.search.text().strip()
        rows = search_crs(text, limit=300, lonlat=self._lonlat)
        if not text:
            common = {r["code"]: r for r in search_crs("", limit=100000) if r["code"] in COMMON}
            rows = [common[c] for c in COMMON if c in common] + rows[:100]
        self.results.clear()
        for r in rows:
            item = QListWidgetItem(f"{r['code']}  {r['name']}")
            item.setData(Qt.ItemDataRole.UserRole, r["code"])
            self.results.addItem(item)
        self.ok_button.setEnabled(self.results.currentItem() is not None)

    def selected_code(self) -> str | None:
        item = self.results.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None
