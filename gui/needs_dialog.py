"""The minimum-needs profile editor of the Drills panel.

Shows every item of the default profile (:data:`spatial.drill.needs.DEFAULT_NEEDS`, whose
source is cited) with its rate per displaced person per day; the coordinator changes rates and
the dialog returns the scenario's ``"needs"`` entry (``{"overrides": {key: rate}}``), checked by
:func:`spatial.drill.needs.profile_from_dict`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from spatial.drill.needs import DEFAULT_NEEDS, NeedsError, profile_from_dict

__all__ = ["NeedsDialog"]


class NeedsDialog(QDialog):
    """Edit the rates of the minimum-needs profile.

    Parameters
    ----------
    needs : dict or None
        The scenario's current ``"needs"`` entry (``None``: the default profile).
    lang : {"en", "zh"}
    """

    def __init__(self, needs: dict | None = None, lang: str = "en", parent=None):
        super().__init__(parent)
        self.lang = "zh" if str(lang).startswith("zh") else "en"
        self.setWindowTitle(self.tr("Minimum needs per displaced person"))
        try:
            current = profile_from_dict(needs) if needs else DEFAULT_NEEDS
        except NeedsError:
            current = DEFAULT_NEEDS
        self._items = list(DEFAULT_NEEDS.items)
        rates = {it.key: it.per_person_per_day for it in current.items}

        self.table = QTableWidget(len(self._items), 3, self)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Need"), self.tr("Per person"), self.tr("Default")])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.spins: dict[str, QDoubleSpinBox] = {}
        for row, it in enumerate(self._items):
            name = it.name_zh if self.lang == "zh" else it.name_en
            unit = it.unit_zh if self.lang == "zh" else it.unit_en
            cell = QTableWidgetItem(name)
            cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
            cell.setToolTip(it.source or "")
            self.table.setItem(row, 0, cell)
            spin = QDoubleSpinBox()
            spin.setDecimals(3)
            spin.setRange(0.001, 100000.0)
            spin.setSuffix(f" {unit}")
            spin.setValue(float(rates.get(it.key, it.per_person_per_day)))
            self.table.setCellWidget(row, 1, spin)
            self.spins[it.key] = spin
            default = QTableWidgetItem(f"{it.per_person_per_day:g} {unit}")
            default.setFlags(default.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(row, 2, default)
        self.table.resizeColumnsToContents()

        source = DEFAULT_NEEDS.source_zh if self.lang == "zh" and DEFAULT_NEEDS.source_zh \
            else DEFAULT_NEEDS.source
        self.source_label = QLabel(self.tr("Default profile: {0}").replace("{0}", source))
        self.source_label.setWordWrap(True)
        reset = QPushButton(self.tr("Reset to defaults"))
        reset.clicked.connect(self.reset)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton(reset, QDialogButtonBox.ButtonRole.ResetRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.source_label)
        layout.addWidget(buttons)
        self.resize(620, 500)

    def reset(self) -> None:
        """Every rate back to the default profile's."""
        for it in self._items:
            self.spins[it.key].setValue(it.per_person_per_day)

    def overrides(self) -> dict[str, float]:
        """The rates that differ from the default profile."""
        out = {}
        for it in self._items:
            value = round(self.spins[it.key].value(), 6)
            if abs(value - it.per_person_per_day) > 1e-9:
                out[it.key] = value
        return out

    def needs_doc(self) -> dict | None:
        """The scenario's ``"needs"`` entry, or ``None`` for the default profile."""
        over = self.overrides()
        if not over:
            return None
        doc = {"overrides": over}
        profile_from_dict(doc)  # the spin boxes keep rates positive; check anyway
        return doc
