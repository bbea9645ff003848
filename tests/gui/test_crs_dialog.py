import pytest

from gui.crs_dialog import CrsDialog

pytestmark = pytest.mark.gui


def test_search_finds_gauss_kruger_and_selects(qtbot):
    dlg = CrsDialog(current="EPSG:4326")
    qtbot.addWidget(dlg)
    assert dlg.selected_code() == "EPSG:4326"
    dlg.search.setText("4547")
    dlg.refresh()
    dlg.results.setCurrentRow(0)
    assert dlg.selected_code() == "EPSG:4547"
    assert "Gauss-Kruger CM 114E" in dlg.results.item(0).text()
    dlg.search.setText("no such crs anywhere")
    dlg.refresh()
    assert dlg.results.count() == 0 and not dlg.ok_button.isEnabled()
