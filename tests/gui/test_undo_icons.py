"""The window's undo stack (remove, reorder, visibility, opacity, style, properties,
import), the toolbar icons, and the style editor's classification in a worker."""

from __future__ import annotations

import threading
import time

import geopandas as gpd
import pytest
import shapely
from PySide6.QtCore import QSettings, Qt

from gui import icons, style_editor
from gui.main_window import MainWindow
from gui.settings import Settings
from gui.style_editor import StyleEditor
from layers.style import GraduatedStyle, SingleStyle
from layers.vector import VectorLayer

pytestmark = pytest.mark.gui

CHECK = Qt.ItemDataRole.CheckStateRole


@pytest.fixture()
def window(qtbot, tmp_path):
    settings = Settings(QSettings(str(tmp_path / "cf.ini"), QSettings.Format.IniFormat))
    w = MainWindow(None, lang="en", settings=settings)
    w.open_sample("small")
    yield w
    w.workspace = None  # edited: closing must not ask to save
    w.canvas.cancel_render()
    w.close()
    w.deleteLater()


def test_remove_layer_undo_restores_position_and_style_redo_removes_again(window):
    reg = window.workspace.registry
    layer = reg["schools"]
    style = SingleStyle(fill="#123456", stroke="#654321", point_size=9.0)
    layer.style = style
    layer.opacity = 0.6
    index = reg.index("schools")
    window.undo_stack.clear()

    assert window.layer_tree.remove_layer("schools", confirm=False)
    assert "schools" not in reg
    assert window.act_undo.isEnabled() and "Schools" in window.act_undo.text()

    window.act_undo.trigger()
    assert reg.index("schools") == index
    assert reg["schools"] is layer and layer.style is style and layer.opacity == 0.6
    assert window.layer_tree.model.layer_index("schools").isValid()

    window.act_redo.trigger()
    assert "schools" not in reg
    window.undo_stack.undo()
    assert reg.index("schools") == index


def test_reorder_in_the_tree_is_one_undo_step(window):
    reg = window.workspace.registry
    model = window.layer_tree.model
    before = reg.names()
    group = model.layers_in(reg["schools"].department)
    assert len(group) >= 2
    first = group[0]
    assert model.move_by(first, +1)
    assert model.layers_in(reg[first].department)[1] == first
    assert reg.names() != before
    assert window.undo_stack.count() == 1
    window.act_undo.trigger()
    assert reg.names() == before
    window.act_redo.trigger()
    assert model.layers_in(reg[first].department)[1] == first
    assert not model.can_move(group[0] if group[0] != first else group[1], -1)


def test_opacity_drag_is_one_undo_step(window, qtbot):
    tree = window.layer_tree
    layer = window.workspace.layer("buildings")
    tree.select_layer("buildings")
    start = layer.opacity
    for value in (90, 70, 50, 35):
        tree.opacity_slider.setValue(value)
    assert layer.opacity == pytest.approx(0.35)
    assert window.undo_stack.count() == 1  # merged
    window.act_undo.trigger()
    assert layer.opacity == pytest.approx(start)
    assert tree.opacity_slider.value() == round(start * 100)
    window.act_redo.trigger()
    assert layer.opacity == pytest.approx(0.35)


def test_visibility_group_toggle_and_properties_undo(window):
    reg = window.workspace.registry
    model = window.layer_tree.model
    dept = reg["schools"].department
    names = model.layers_in(dept)
    before = {n: reg[n].visible for n in names}
    assert model.setData(model.group_index(dept), Qt.CheckState.Unchecked, CHECK)
    assert not any(reg[n].visible for n in names)
    window.undo_stack.undo()
    assert {n: reg[n].visible for n in names} == before

    layer = reg["schools"]
    old = layer.metadata
    dlg = window.layer_tree.open_properties("schools")
    dlg.title_en.setText("Schools (renamed)")
    dlg.accept()
    assert layer.metadata.title_en == "Schools (renamed)"
    assert "Schools" in window.undo_stack.undoText()
    window.undo_stack.undo()
    assert layer.metadata == old


def test_import_is_undoable(window):
    ws = window.workspace
    frame = gpd.GeoDataFrame({"well_id": ["W1"]}, geometry=[shapely.Point(114.3, 30.6)],
                             crs="EPSG:4326")
    ws.add_layer(VectorLayer("wells", frame), 0)
    window.layer_tree._on_imported(["wells"])  # what the import dialog reports
    assert window.undo_stack.count() == 1 and "wells" in ws.registry  # recorded, not re-added
    window.act_undo.trigger()
    assert "wells" not in ws.registry
    window.act_redo.trigger()
    assert ws.registry.index("wells") == 0


def test_style_editor_shares_the_window_stack_and_cancel_leaves_no_redo(window, qtbot):
    layer = window.workspace.layer("buildings")
    original = layer.style
    editor = StyleEditor(layer, window, undo_stack=window.undo_stack)
    qtbot.addWidget(editor)
    editor.set_kind("single")
    editor.fill_button.set_color("#ff0000")
    editor.accept()
    assert isinstance(layer.style, SingleStyle) and layer.style.fill == "#ff0000"
    window.act_undo.trigger()
    assert layer.style is original

    editor = StyleEditor(layer, window, undo_stack=window.undo_stack)
    qtbot.addWidget(editor)
    editor.set_kind("single")
    editor.fill_button.set_color("#00ff00")
    assert editor.apply()
    editor.reject()
    assert layer.style is original
    assert not window.undo_stack.canRedo()  # Redo never brings a cancelled edit back
    window.act_undo.trigger()  # nothing left of either dialog to undo
    assert layer.style is original


def test_every_toolbar_action_has_an_icon_and_a_tooltip_with_its_shortcut(window):
    actions = [a for a in window.toolbar.actions() if not a.isSeparator()]
    assert len(actions) >= 20
    for act in actions:
        assert not act.icon().isNull(), act.text()
        assert not act.icon().pixmap(24, 24).isNull(), act.text()
        keys = act.shortcut().toString()
        if keys:
            assert f"({act.shortcut().toString(act.shortcut().SequenceFormat.NativeText)})" \
                in act.toolTip(), act.toolTip()
    assert window.toolbar.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly
    assert window.act_undo.shortcut().toString() == "Ctrl+Z"
    assert window.act_redo.shortcut().toString() == "Ctrl+Shift+Z"
    for name in icons.icon_names():
        assert not icons.icon(name).pixmap(16, 16).toImage().isNull(), name
    with pytest.raises(FileNotFoundError, match="no icon named 'nope'"):
        icons.icon("nope")


def test_dark_palette_recolours_the_lines(qtbot):
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    old = app.palette()
    dark = QPalette(old)
    dark.setColor(QPalette.ColorRole.Window, QColor("#202124"))
    dark.setColor(QPalette.ColorRole.WindowText, QColor("#eeeeee"))
    app.setPalette(dark)
    try:
        img = icons.icon("pan").pixmap(24, 24).toImage()
        colours = {img.pixelColor(x, y).name() for x in range(24) for y in range(24)
                   if img.pixelColor(x, y).alpha() == 255}
        assert "#eeeeee" in colours and icons.LINE_COLOR not in colours
    finally:
        app.setPalette(old)


def test_classification_runs_in_a_worker_and_stale_results_are_dropped(qtbot, window,
                                                                       monkeypatch):
    layer = window.workspace.layer("buildings")
    threads = []
    real = style_editor.build_data_style

    def slow_for_three(request, series, *, feedback=None):
        threads.append(threading.current_thread())
        if request.k == 3:
            time.sleep(0.8)  # the stale job answers last
        return real(request, series, feedback=feedback)

    monkeypatch.setattr(style_editor, "build_data_style", slow_for_three)
    editor = StyleEditor(layer, window, undo_stack=window.undo_stack)
    qtbot.addWidget(editor)
    editor.set_kind("graduated")
    editor.grad_column.setCurrentText("height_m")
    qtbot.waitUntil(lambda: not editor.classifying, timeout=10000)
    editor.grad_classes.setValue(3)
    assert editor.classifying and editor.busy.isVisibleTo(editor)
    editor.grad_classes.setValue(4)
    qtbot.waitUntil(lambda: not editor.classifying, timeout=10000)
    assert not editor.busy.isVisibleTo(editor)
    assert isinstance(editor.candidate, GraduatedStyle) and len(editor.candidate.breaks) == 4
    assert editor.preview.count() == 4
    assert threads and all(t is not threading.main_thread() for t in threads)
    qtbot.wait(1000)  # the k=3 job finishes now: dropped
    assert len(editor.candidate.breaks) == 4
    editor.grad_classes.setValue(5)
    assert editor.apply()  # waits for the newest classification
    assert isinstance(layer.style, GraduatedStyle) and len(layer.style.breaks) == 5


def test_classification_error_is_shown(qtbot, window):
    layer = window.workspace.layer("buildings")
    editor = StyleEditor(layer, window)
    qtbot.addWidget(editor)
    layer.data["empty_col"] = float("nan")
    try:
        editor.grad_column.addItem("empty_col")
        editor.set_kind("graduated")
        editor.grad_column.setCurrentText("empty_col")
        qtbot.waitUntil(lambda: not editor.classifying, timeout=10000)
        assert editor.candidate is None
        assert "no numeric values" in editor.message.text()
        assert not editor.apply()
    finally:
        del layer.data["empty_col"]
