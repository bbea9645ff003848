"""layers.commands: Qt-free undoable edits of a registry's layers."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from layers.commands import AddLayers, Batch, RemoveLayer, Reorder, SetProperty, apply_order
from layers.registry import LayerRegistry
from layers.style import SingleStyle
from layers.table import TableLayer
from layers.vector import VectorLayer


def point_layer(name):
    gdf = gpd.GeoDataFrame({f"{name}_id": ["1"]}, geometry=[shapely.Point(0, 0)],
                           crs="EPSG:4326")
    return VectorLayer(name, gdf)


@pytest.fixture
def reg():
    r = LayerRegistry()
    r.add(TableLayer("population", pd.DataFrame({"building_id": ["B1"]})))
    r.add(point_layer("schools"))
    r.add(point_layer("hospitals"))
    return r  # hospitals, schools, population


def test_remove_and_undo_restore_position_style_and_active(reg):
    schools = reg["schools"]
    style = SingleStyle(fill="#ff0000")
    schools.style = style
    reg.active = schools
    cmd = RemoveLayer(reg, "schools")
    cmd.redo()
    assert reg.names() == ["hospitals", "population"] and reg.active is None
    cmd.undo()
    assert reg.names() == ["hospitals", "schools", "population"]
    assert reg["schools"] is schools and schools.style is style and reg.active is schools


def test_set_property_merges_quick_opacity_steps_only(reg):
    layer = reg["schools"]
    a = SetProperty(layer, "opacity", 0.8)
    a.redo()
    b = SetProperty(layer, "opacity", 0.5)
    b.redo()
    assert a.merge_key() == b.merge_key() and a.merge(b)
    a.undo()
    assert layer.opacity == 1.0
    a.redo()
    assert layer.opacity == 0.5
    late = SetProperty(layer, "opacity", 0.2)
    late.when = a.when + 10
    assert not a.merge(late)
    assert SetProperty(layer, "visible", False).merge_key() is None
    with pytest.raises(ValueError, match="cannot set 'data'"):
        SetProperty(layer, "data", None)


def test_batch_reorder_and_add(reg):
    hide = Batch([SetProperty(reg[n], "visible", False) for n in ("schools", "hospitals")])
    hide.redo()
    assert not reg["schools"].visible and not reg["hospitals"].visible
    hide.undo()
    assert reg["schools"].visible and reg["hospitals"].visible

    order = Reorder(reg, ["population", "hospitals", "schools"])
    order.redo()
    assert reg.names() == ["population", "hospitals", "schools"]
    order.undo()
    assert reg.names() == ["hospitals", "schools", "population"]
    with pytest.raises(ValueError, match="exactly once"):
        apply_order(reg, ["schools"])

    reg.add(point_layer("wells"), 1)
    added = AddLayers(reg, ["wells"])
    added.redo()  # already there: nothing happens
    assert reg.names().count("wells") == 1
    added.undo()
    assert "wells" not in reg
    added.redo()
    assert reg.index("wells") == 1
