"""Opening a workspace into the window: read on a worker while the window is built,
and the canvas prepares the visible layers before the first frame is asked for."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QSettings

from gui.app import open_in_window
from gui.canvas import MapCanvas
from gui.settings import Settings
from layers.vector import VectorLayer
from layers.workspace import Workspace
from sample_data.catalogue import sample_path
from spatial.errors import WorkspaceError

pytestmark = pytest.mark.gui


@pytest.fixture()
def settings(tmp_path):
    return Settings(QSettings(str(tmp_path / "cf.ini"), QSettings.Format.IniFormat))


def test_open_in_window_reads_on_a_worker_and_shows_the_map(qtbot, settings):
    from PySide6.QtWidgets import QApplication

    readers = []

    def opener():
        readers.append(threading.current_thread())
        return Workspace.open(sample_path("small"), read_only=True)

    controller = open_in_window(QApplication.instance(), opener, "en", settings)
    window = controller.window
    try:
        assert readers and readers[0] is not threading.main_thread()
        assert window.workspace is not None and "buildings" in window.workspace.registry
        assert window.stack.currentWidget() is window.canvas
        window.resize(900, 600)
        window.show()
        assert window.canvas.wait_until_rendered(30000)
    finally:
        window.workspace = None
        window.canvas.shutdown()
        window.close()


def test_open_in_window_raises_the_openers_error(qtbot, settings, tmp_path):
    from PySide6.QtWidgets import QApplication

    missing = tmp_path / "nope.gpkg"
    with pytest.raises(WorkspaceError, match="nope.gpkg"):
        open_in_window(QApplication.instance(), lambda: Workspace.open(missing), "en",
                       settings)


def test_canvas_prepares_visible_layers_before_the_first_frame(qtbot):
    ws = Workspace.open(sample_path("small"), read_only=True)
    canvas = MapCanvas()
    qtbot.addWidget(canvas)
    try:
        canvas.set_workspace(ws)  # not shown: no frame can be drawn yet
        layers = [lay for lay in ws.registry if isinstance(lay, VectorLayer) and lay.visible]
        entries = [canvas._entry(lay) for lay in layers]
        qtbot.waitUntil(lambda: all(e.ready for e in entries), timeout=20000)
        qtbot.waitUntil(lambda: all(e._styled is not None for e in entries), timeout=20000)
        hidden = [lay for lay in ws.registry if isinstance(lay, VectorLayer) and not lay.visible]
        assert hidden and not canvas._entry(hidden[0]).ready  # only what the map shows
    finally:
        canvas.shutdown()
        ws.close()
