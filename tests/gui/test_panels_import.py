"""The import dialog: a CSV through the worker; cancel and errors leave the workspace as it was."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtWidgets import QPushButton

from gui import import_dialog
from gui.import_dialog import ImportDialog
from gui.layer_tree import LayerTreeWidget
from layers.workspace import Workspace
from sample_data.catalogue import sample_path

pytestmark = pytest.mark.gui

CSV = "well_id,name,lon,lat,depth_m\nW1,North well,114.285,30.595,12\nW2,South well,114.290,30.590,8\n"


@pytest.fixture
def ws():
    workspace = Workspace.open(sample_path("small"), read_only=True)
    yield workspace
    workspace.close()


def _state(ws):
    return ws.registry.names(), len(ws.audit_log())


def test_import_csv_through_the_worker(qtbot, ws, tmp_path):
    path = tmp_path / "wells.csv"
    path.write_text(CSV, encoding="utf-8")
    tree = LayerTreeWidget(ws)
    qtbot.addWidget(tree)
    threads = []
    ws.registry.events.added.connect(lambda layer, i: threads.append(threading.get_ident()))

    dlg = ImportDialog(ws)
    qtbot.addWidget(dlg)
    dlg.set_path(path)
    assert dlg.name_edit.placeholderText() == "wells"
    assert dlg.x_column.isEnabled() and dlg.x_column.findText("lon") >= 0
    dlg.department.setCurrentIndex(dlg.department.findData("water"))
    dlg.classification.setCurrentIndex(dlg.classification.findData("public"))
    dlg.name_edit.setText("water_wells")
    with qtbot.waitSignal(dlg.imported, timeout=10_000) as blocker:
        assert dlg.start_import()
        assert dlg.progress is not None
    assert blocker.args == [["water_wells"]]
    assert threads == [threading.get_ident()]  # the registry changed on the UI thread
    layer = ws.layer("water_wells")
    assert layer.feature_count == 2 and layer.department == "water"
    assert layer.metadata.classification == "public"
    assert layer.crs.to_epsg() == 4326
    assert ws.audit_log()[-1]["action"] == "import"
    assert "water_wells" in tree.model.layers_in("water")
    assert dlg.progress is None and dlg.result() == dlg.DialogCode.Accepted


def test_explicit_xy_columns(qtbot, ws, tmp_path):
    path = tmp_path / "gauges.csv"
    path.write_text("gid,east,north\nG1,114.285,30.595\n", encoding="utf-8")
    dlg = ImportDialog(ws)
    qtbot.addWidget(dlg)
    dlg.set_path(path)
    dlg.x_column.setCurrentText("east")
    dlg.y_column.setCurrentText("north")
    assert dlg.options()["x"] == "east"
    with qtbot.waitSignal(dlg.imported, timeout=10_000):
        dlg.start_import()
    assert ws.layer("gauges").feature_count == 1


def test_cancel_leaves_the_workspace_unchanged(qtbot, ws, tmp_path, monkeypatch):
    path = tmp_path / "wells.csv"
    path.write_text(CSV, encoding="utf-8")
    gate, started = threading.Event(), threading.Event()
    real = import_dialog.import_into

    def slow_import(*args, **kwargs):
        started.set()
        gate.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(import_dialog, "import_into", slow_import)
    before = _state(ws)
    dlg = ImportDialog(ws)
    qtbot.addWidget(dlg)
    dlg.set_path(path)
    with qtbot.waitSignal(dlg.canceled, timeout=10_000):
        dlg.start_import()
        assert started.wait(5)
        dlg.progress.findChild(QPushButton).click()  # Cancel in the progress dialog
        gate.set()
    assert _state(ws) == before
    assert not dlg.is_running() and dlg.progress is None

    # the job that finishes despite the cancel is discarded too
    gate.clear()
    started.clear()
    monkeypatch.setattr(dlg, "cancel", lambda: None)  # no flag: the worker finishes

    def finishes(*args, **kwargs):
        started.set()
        gate.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(import_dialog, "import_into", finishes)
    with qtbot.waitSignal(dlg.canceled, timeout=10_000):
        dlg.start_import()
        assert started.wait(5)
        dlg._user_canceled = True  # pressed Cancel after the last progress check
        gate.set()
    assert _state(ws) == before


def test_errors_show_the_full_message_and_change_nothing(qtbot, ws, tmp_path):
    before = _state(ws)
    swapped = tmp_path / "swapped.csv"
    swapped.write_text("id,lon,lat\n1,30.595,114.285\n", encoding="utf-8")
    dlg = ImportDialog(ws)
    qtbot.addWidget(dlg)
    dlg.set_path(swapped)
    with qtbot.waitSignal(dlg.failed, timeout=10_000) as blocker:
        dlg.start_import()
    message = blocker.args[0]
    assert "swapped" in message and str(swapped) in message
    assert dlg.error_box is not None and dlg.error_box.text() == message
    assert _state(ws) == before

    # a name that is taken, without "replace"
    taken = tmp_path / "schools.csv"
    taken.write_text(CSV, encoding="utf-8")
    dlg.set_path(taken)
    with qtbot.waitSignal(dlg.failed, timeout=10_000) as blocker:
        dlg.start_import()
    assert "already exists" in blocker.args[0]
    assert _state(ws) == before

    # with "replace" it goes in, in place of the old one
    dlg.replace_box.setChecked(True)
    with qtbot.waitSignal(dlg.imported, timeout=10_000):
        dlg.start_import()
    assert ws.layer("schools").feature_count == 2
    assert sorted(ws.registry.names()) == sorted(before[0])
