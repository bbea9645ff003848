"""Layer tree, style editor and layer properties on the small sample city."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor, QUndoStack

from gui.layer_properties import LayerProperties
from gui.layer_tree import KIND_ROLE, NAME_ROLE, LayerTreeWidget, legend_entries
from gui.style_editor import QUALITATIVE, StyleEditor
from layers.style import CategorizedStyle, GraduatedStyle, SingleStyle, parse_color
from layers.workspace import Workspace
from sample_data.catalogue import sample_path
from spatial.schema import DEPARTMENTS

pytestmark = pytest.mark.gui

CHECK = Qt.ItemDataRole.CheckStateRole


@pytest.fixture
def ws():
    workspace = Workspace.open(sample_path("small"), read_only=True)
    yield workspace
    workspace.close()


@pytest.fixture
def tree(qtbot, ws):
    widget = LayerTreeWidget(ws, lang="en", undo_stack=QUndoStack())
    qtbot.addWidget(widget)
    return widget

_NO_PARENT = QModelIndex()


def _children(model, parent=_NO_PARENT):
    return [model.index(r, 0, parent) for r in range(model.rowCount(parent))]


def _center(icon, size=16) -> tuple[int, int, int, int]:
    c = icon.pixmap(size, size).toImage().pixelColor(size // 2, size // 2)
    return c.red(), c.green(), c.blue(), c.alpha()


def _same_colour(got, want, tol=2) -> bool:
    """Equal up to premultiplied-alpha rounding of translucent colours."""
    return all(abs(a - b) <= tol for a, b in zip(got, want))


def test_tree_groups_layers_by_department_with_bilingual_titles(qtbot, ws, tree):
    model = tree.model
    groups = _children(model)
    reg = ws.registry
    assert [g.data(NAME_ROLE) for g in groups] == list(reg.by_department())
    for g in groups:
        dept = g.data(NAME_ROLE)
        assert g.data(KIND_ROLE) == "group"
        assert g.data() == DEPARTMENTS[dept]["en"]
        layers = _children(model, g)
        assert [i.data(NAME_ROLE) for i in layers] == [lay.name for lay in reg.by_department()[dept]]
        for i in layers:
            assert i.data() == reg[i.data(NAME_ROLE)].metadata.title_en
    assert sum(model.rowCount(g) for g in groups) == len(reg)

    tree.set_language("zh")
    g = model.group_index("framework")
    assert g.data() == DEPARTMENTS["framework"]["zh"]
    assert model.layer_index("buildings").data() == reg["buildings"].metadata.title_zh


def test_checkbox_hides_layer_and_registry_event_updates_checkbox(qtbot, ws, tree):
    model, reg = tree.model, ws.registry
    events = []
    reg.events.visibility.connect(lambda layer, v: events.append((layer.name, v)))
    idx = model.layer_index("schools")
    assert idx.data(CHECK) == Qt.CheckState.Checked or not reg["schools"].visible
    reg["schools"].visible = True
    events.clear()

    with qtbot.waitSignal(model.dataChanged):
        assert model.setData(idx, Qt.CheckState.Unchecked, CHECK)
    assert reg["schools"].visible is False
    assert events == [("schools", False)]  # one change, no echo
    assert model.layer_index("schools").data(CHECK) == Qt.CheckState.Unchecked

    # model -> widget: a change made elsewhere (the canvas, a script) shows in the tree
    with qtbot.waitSignal(model.dataChanged) as blocker:
        reg["schools"].visible = True
    assert blocker.args[0] == model.layer_index("schools")
    assert model.layer_index("schools").data(CHECK) == Qt.CheckState.Checked

    # the view passes plain ints
    assert model.setData(model.layer_index("schools"), 0, CHECK)
    assert reg["schools"].visible is False
    assert model.setData(model.layer_index("schools"), 2, CHECK)
    assert reg["schools"].visible is True

    # groups are tri-state and toggle all their layers
    group = model.group_index("education")
    reg["kindergartens"].visible = False
    assert group.data(CHECK) == Qt.CheckState.PartiallyChecked
    model.setData(group, Qt.CheckState.Checked, CHECK)
    assert reg["kindergartens"].visible and reg["schools"].visible
    assert group.data(CHECK) == Qt.CheckState.Checked
    model.setData(group, Qt.CheckState.Unchecked, CHECK)
    assert not reg["kindergartens"].visible and not reg["schools"].visible


def test_drag_and_drop_reorders_registry(qtbot, ws, tree):
    model, reg = tree.model, ws.registry
    framework = model.layers_in("framework")
    assert framework[:3] == ["legal_entities", "roads", "buildings"]
    before = reg.names()
    reordered = []
    reg.events.reordered.connect(lambda: reordered.append(1))

    # drop buildings at the top of its group: it moves just above legal_entities
    data = model.mimeData([model.layer_index("buildings")])
    group = model.group_index("framework")
    assert model.canDropMimeData(data, Qt.DropAction.MoveAction, 0, 0, group)
    assert model.dropMimeData(data, Qt.DropAction.MoveAction, 0, 0, group)
    expected = [n for n in before if n != "buildings"]
    expected.insert(expected.index("legal_entities"), "buildings")
    assert reg.names() == expected
    assert reordered
    assert model.layers_in("framework")[:3] == ["buildings", "legal_entities", "roads"]

    # into another department's group: refused, nothing moves
    data = model.mimeData([model.layer_index("roads")])
    assert not model.canDropMimeData(data, Qt.DropAction.MoveAction, 0, 0,
                                     model.group_index("water"))
    assert not model.dropMimeData(data, Qt.DropAction.MoveAction, 0, 0,
                                  model.group_index("water"))
    assert reg.names() == expected

    # to the end of the group: just below its last layer
    assert model.move_layer("buildings", len(model.layers_in("framework")))
    fw = [n for n in reg.names() if reg[n].department == "framework"]
    assert fw[-1] == "buildings" and model.layers_in("framework") == fw

    # a whole department to the top: its layers as one block, others keep their order
    planning = [n for n in reg.names() if reg[n].department == "planning"]
    rest = [n for n in reg.names() if reg[n].department != "planning"]
    data = model.mimeData([model.group_index("planning")])
    assert model.dropMimeData(data, Qt.DropAction.MoveAction, 0, 0, QModelIndex())
    assert reg.names() == planning + rest
    assert model.groups()[0] == "planning"

    # the registry moved by someone else: the tree follows
    reg.move("river", 0)
    assert model.groups()[0] == "water"
    assert model.layers_in("water")[0] == "river"


def test_add_and_remove_layers_follow_registry(qtbot, ws, tree, monkeypatch):
    model = tree.model
    monkeypatch.setattr(tree, "confirm_remove", lambda name: False)
    assert not tree.remove_layer("parks")
    assert "parks" in model.layers_in("planning")
    monkeypatch.setattr(tree, "confirm_remove", lambda name: True)
    assert tree.remove_layer("parks")
    assert "parks" not in ws.registry and "parks" not in model.layers_in("planning")
    assert not model.layer_index("parks").isValid()

    removed = ws.remove_layer("markets")
    assert "market" not in model.groups()  # its only layer
    ws.add_layer(removed)
    assert model.groups()[0] == "market"
    assert model.layer_index("markets").data() == "Wet markets"


def test_legend_swatches_match_the_style(qtbot, ws, tree):
    model, reg = tree.model, ws.registry
    b = model.layer_index("buildings")
    style = reg["buildings"].style
    assert isinstance(style, CategorizedStyle)
    rows = _children(model, b)
    entries = legend_entries(style)
    assert [r.data() for r in rows] == [e.label for e in entries]
    assert [r.data() for r in rows][:-1] == [str(v) for v in style.categories]
    for r, e in zip(rows, entries):
        assert r.data(KIND_ROLE) == "legend"
        assert _same_colour(_center(r.data(Qt.ItemDataRole.DecorationRole)),
                            parse_color(e.symbol.fill))

    # a single point symbol: the layer row's swatch
    schools = reg["schools"].style
    icon = model.layer_index("schools").data(Qt.ItemDataRole.DecorationRole)
    assert _same_colour(_center(icon), parse_color(schools.fill))

    # graduated: one row per class
    flood = reg["flood_zones"].style
    assert isinstance(flood, GraduatedStyle)
    rows = _children(model, model.layer_index("flood_zones"))
    assert len(rows) == len(flood.breaks)
    for r, color in zip(rows, flood.colors):
        assert _same_colour(_center(r.data(Qt.ItemDataRole.DecorationRole)), parse_color(color))

    # a raster: a ramp
    raster = model.layer_index("flood_depth")
    assert model.rowCount(raster) == 1
    assert raster.data(Qt.ItemDataRole.DecorationRole) is not None

    # the style changes: the legend follows
    with qtbot.waitSignal(model.rowsRemoved):
        reg["buildings"].style = SingleStyle(fill="#123456", stroke="#000000")
    assert model.rowCount(model.layer_index("buildings")) == 0
    icon = model.layer_index("buildings").data(Qt.ItemDataRole.DecorationRole)
    assert _center(icon) == (0x12, 0x34, 0x56, 255)
    # and an in-place edit of the symbol too
    reg["buildings"].style.fill = "#ff0000"
    icon = model.layer_index("buildings").data(Qt.ItemDataRole.DecorationRole)
    assert _center(icon) == (255, 0, 0, 255)


def test_opacity_slider_and_active_layer_follow_both_ways(qtbot, ws, tree):
    reg = ws.registry
    tree.select_layer("roads")
    assert reg.active is reg["roads"]
    assert tree.opacity_slider.isEnabled()
    assert tree.opacity_slider.value() == round(reg["roads"].opacity * 100)
    tree.opacity_slider.setValue(40)
    assert reg["roads"].opacity == pytest.approx(0.4)
    reg["roads"].opacity = 0.7
    assert tree.opacity_slider.value() == 70

    reg.active = "schools"
    assert tree.current_layer() is reg["schools"]
    assert tree.opacity_slider.value() == round(reg["schools"].opacity * 100)


def test_context_menu_actions_emit_signals(qtbot, ws, tree):
    menu = tree.build_menu(tree.model.layer_index("schools"))
    actions = {a.text(): a for a in menu.actions() if a.text()}
    assert {"Zoom to layer", "Open attribute table", "Style…", "Properties…",
            "Remove layer…", "Add layer…"} <= set(actions)
    with qtbot.waitSignal(tree.zoomToLayer) as blocker:
        actions["Zoom to layer"].trigger()
    assert blocker.args == ["schools"]
    with qtbot.waitSignal(tree.openAttributes) as blocker:
        actions["Open attribute table"].trigger()
    assert blocker.args == ["schools"]
    actions["Style…"].trigger()
    assert isinstance(tree._dialogs[-1], StyleEditor)
    tree._dialogs[-1].reject()
    actions["Properties…"].trigger()
    assert isinstance(tree._dialogs[-1], LayerProperties)
    tree._dialogs[-1].reject()
    raster_menu = tree.build_menu(tree.model.layer_index("flood_depth"))
    attrs = next(a for a in raster_menu.actions() if a.text() == "Open attribute table")
    assert not attrs.isEnabled()


def test_style_editor_categorised_by_use_then_undo(qtbot, ws, tree):
    layer = ws.layer("buildings")
    single = SingleStyle(fill="#cccccc", stroke="#333333")
    layer.style = single
    stack = QUndoStack()
    editor = StyleEditor(layer, undo_stack=stack)
    qtbot.addWidget(editor)
    assert editor.kind() == "single"
    editor.set_kind("categorized")
    editor.cat_column.setCurrentText("use")
    editor._set_combo(editor.cat_ramp, "qualitative")
    uses = sorted(layer.data["use"].dropna().unique().tolist())
    qtbot.waitUntil(lambda: not editor.classifying)  # categories come from a worker
    assert editor.preview.count() == len(uses) + 1  # + "Other"
    editor.accept()

    style = layer.style
    assert isinstance(style, CategorizedStyle) and style.column == "use"
    assert list(style.categories) == uses
    assert [s.fill for s in style.categories.values()] == list(QUALITATIVE[:len(uses)])
    rows = _children(tree.model, tree.model.layer_index("buildings"))
    assert [r.data() for r in rows][:-1] == uses  # the tree's legend follows
    stack.undo()
    assert layer.style is single


def test_style_editor_graduated_apply_then_cancel_restores(qtbot, ws):
    layer = ws.layer("buildings")
    original = layer.style
    editor = StyleEditor(layer)
    qtbot.addWidget(editor)
    assert editor.kind() == "categorized"
    editor.set_kind("graduated")
    editor.grad_column.setCurrentText("height_m")
    editor._set_combo(editor.grad_method, "equal_interval")
    editor.grad_classes.setValue(4)
    assert editor.apply()
    style = layer.style
    assert isinstance(style, GraduatedStyle)
    assert (style.column, style.method, len(style.breaks)) == ("height_m", "equal_interval", 4)
    assert style.breaks[-1] >= layer.data["height_m"].max()
    editor.set_kind("single")
    assert editor.apply()
    editor.reject()
    assert layer.style is original


def test_raster_style_editor(qtbot, ws):
    layer = ws.layer("flood_depth")
    editor = StyleEditor(layer)
    qtbot.addWidget(editor)
    assert editor.kind() == "raster"
    editor._set_combo(editor.raster_ramp, "magma")
    editor.raster_auto.setChecked(False)
    editor.raster_min.setValue(0.0)
    editor.raster_max.setValue(2.0)
    editor.accept()
    assert (layer.style.ramp, layer.style.vmin, layer.style.vmax) == ("magma", 0.0, 2.0)


def test_properties_edit_metadata_and_tree_regroups(qtbot, ws, tree):
    layer = ws.layer("schools")
    before = layer.metadata
    dlg = LayerProperties(layer)
    qtbot.addWidget(dlg)
    assert dlg.title_en.text() == before.title_en
    assert dlg.department_code() == "education"
    dlg.title_en.setText("Primary and middle schools")
    dlg.title_zh.setText("中小学")
    dlg.set_department("emergency")
    dlg.set_classification("restricted")
    seen = []
    ws.registry.events.changed.connect(lambda lay, what: seen.append((lay.name, what)))
    dlg.accept()
    m = layer.metadata
    assert (m.title_en, m.title_zh, m.department, m.classification) == (
        "Primary and middle schools", "中小学", "emergency", "restricted")
    assert (m.source, m.updated, m.crs) == (before.source, before.updated, before.crs)
    assert seen == [("schools", "metadata")]
    assert "schools" in tree.model.layers_in("emergency")
    assert tree.model.layer_index("schools").data() == "Primary and middle schools"

    # a free-text department is allowed
    dlg = LayerProperties(layer)
    qtbot.addWidget(dlg)
    dlg.set_department("school_board")
    dlg.accept()
    assert layer.metadata.department == "school_board"
    assert tree.model.group_index("school_board").data() == "school_board"


def test_swatch_colour_of_translucent_fill(qtbot):
    from gui.layer_tree import symbol_image

    img = symbol_image(SingleStyle(fill="#ff000080", stroke="#000000"), "polygon")
    c = QColor(img.pixelColor(8, 8))
    assert (c.red(), c.green(), c.blue()) == (255, 0, 0)
    assert abs(c.alpha() - 128) <= 1
    line = symbol_image(SingleStyle(fill="#00000000", stroke="#00ff00", stroke_width=2), "line")
    c = line.pixelColor(8, 8)
    assert (c.red(), c.green(), c.blue(), c.alpha()) == (0, 255, 0, 255)
