"""The plain main window over a bundled sample city."""

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from gui.main_window import MainWindow
from layers.workspace import Workspace
from sample_data.catalogue import sample_path
from spatial.schema import DEPARTMENTS

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def small():
    ws = Workspace.open(sample_path("small"), read_only=True)
    yield ws
    ws.close()


def _groups(window):
    tree = window.layer_tree
    return {tree.topLevelItem(i).text(0): tree.topLevelItem(i) for i in range(tree.topLevelItemCount())}


def test_layers_are_grouped_by_department(qtbot, small):
    window = MainWindow(small, lang="en")
    qtbot.addWidget(window)
    groups = _groups(window)
    assert set(groups) == {DEPARTMENTS[d]["en"] for d in small.registry.by_department()}
    framework = groups[DEPARTMENTS["framework"]["en"]]
    names = {framework.child(i).data(0, Qt.ItemDataRole.UserRole) for i in range(framework.childCount())}
    assert {"buildings", "population", "legal_entities", "communities", "roads"} <= names


def test_checkbox_toggles_layer_visibility(qtbot, small):
    window = MainWindow(small, lang="en")
    qtbot.addWidget(window)
    framework = _groups(window)[DEPARTMENTS["framework"]["en"]]
    item = next(framework.child(i) for i in range(framework.childCount())
                if framework.child(i).data(0, Qt.ItemDataRole.UserRole) == "buildings")
    seen = []
    small.layer("buildings").events.visible.connect(seen.append)
    was = small.layer("buildings").visible
    item.setCheckState(0, Qt.CheckState.Unchecked if was else Qt.CheckState.Checked)
    assert small.layer("buildings").visible is (not was)
    assert seen == [not was]


def test_chinese_titles_and_about_box_attribution(qtbot, small):
    window = MainWindow(small, lang="zh")
    qtbot.addWidget(window)
    assert DEPARTMENTS["framework"]["zh"] in _groups(window)
    assert "OpenStreetMap" in window.about_text()


def test_screenshot_option_writes_png(tmp_path):
    out = tmp_path / "window.png"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--sample", "shanghai", "--screenshot", str(out),
         "--size", "800x600"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert (image.width(), image.height()) == (800, 600)
