"""The main window: welcome screen, docks, status bar, settings, language, screenshot."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from gui.app import WindowController, make_app
from gui.main_window import MainWindow
from gui.settings import Settings
from layers.workspace import Workspace
from sample_data.catalogue import sample_path

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def settings(tmp_path):
    return Settings(QSettings(str(tmp_path / "cf.ini"), QSettings.Format.IniFormat))


@pytest.fixture()
def window(qtbot, settings):
    w = MainWindow(None, lang="en", settings=settings)
    qtbot.addWidget(w)
    yield w
    w.workspace = None
    w.canvas.cancel_render()


def test_welcome_first_then_one_click_opens_a_sample(window, qtbot):
    assert window.stack.currentWidget() is window.welcome_scroll
    assert not window.act_save.isEnabled()
    window.welcome.openSample.emit("small")
    assert window.stack.currentWidget() is window.canvas
    assert window.workspace.layer("buildings").feature_count == 5000
    assert {"Layers", "Attributes", "Query", "Results", "Drills"} <= set(window.docks)
    assert window.windowTitle().endswith("small.gpkg")
    assert window.canvas.wait_until_rendered(30000)


def test_status_bar_shows_map_and_wgs84_coordinates_and_scale(window):
    window.open_sample("small")
    x0, y0, x1, y1 = window.canvas.extent()
    window.canvas.cursorMoved.emit((x0 + x1) / 2, (y0 + y1) / 2)
    assert window.status_lonlat.text().startswith("WGS-84 114.")
    assert "30." in window.status_lonlat.text()
    assert "4547" in window.status_crs.text()
    window.canvas.scaleChanged.emit(25000.0)
    assert window.status_scale.text() == "Scale 1:25,000"


def test_recent_workspaces_and_layout_persist(window, settings, tmp_path):
    path = tmp_path / "copy.gpkg"
    ws = Workspace.open(sample_path("shanghai"), read_only=True)
    ws.save_as(path)
    ws.close()
    window.open_path(str(path))
    assert settings.recent()[0] == str(path)
    window.close()
    geometry, state = settings.window()
    assert state is not None and len(bytes(state)) > 0


def test_language_switch_rebuilds_the_window_in_chinese(qtbot, settings):
    app = make_app("en")
    controller = WindowController(app, Workspace.open(sample_path("small"), read_only=True), "en",
                                  settings)
    qtbot.addWidget(controller.window)
    first = controller.window
    first.act_lang["zh"].trigger()
    second = controller.window
    qtbot.addWidget(second)
    assert second is not first and second.lang == "zh"
    assert second.workspace is not None and second.workspace.layer("buildings")
    assert settings.language == "zh"
    second.workspace = None
    second.canvas.cancel_render()


def test_about_box_names_the_osm_attribution(window):
    assert "OpenStreetMap" in window.about_text()


def test_screenshot_option_writes_png(tmp_path):
    out = tmp_path / "window.png"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--sample", "shanghai", "--screenshot", str(out),
         "--size", "1200x800"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert (image.width(), image.height()) == (1200, 800)


def test_run_query_option_answers_the_newcomer_question(qtbot, settings):
    """Issue 4's 'done when': schools within 1 km of a hazardous-chemical enterprise,
    answered with the builder, shown on the map, in the table and in the history."""
    app = make_app("en")
    ws = Workspace.open(sample_path("small"), read_only=True)
    controller = WindowController(app, ws, "en", settings)
    window = controller.window
    qtbot.addWidget(window)
    window.query_builder.load_document(ROOT / "sample_data/queries/small/schools_near_hazardous_chemicals.json")
    with qtbot.waitSignal(window.query_builder.resultReady, timeout=30000) as blocker:
        window.query_builder.run()
    query, result = blocker.args[0]
    import json

    expected = json.loads((ROOT / "sample_data/queries/expected/small.json").read_text("utf-8"))
    ids = expected["answers"]["schools_near_hazardous_chemicals"]["ids"]
    assert sorted(result.data["school_id"]) == sorted(ids)
    assert "query" in window.canvas.highlights()
    window.workspace = None
    window.canvas.cancel_render()


def test_first_show_gives_the_map_the_height(qtbot, window):
    window.open_sample("small")
    window.resize(1600, 1000)
    window.show()
    results = window.docks["Results"]
    qtbot.waitUntil(lambda: results.height() <= 1000 // 4, timeout=5000)
    assert window.canvas.height() > 2 * results.height()
