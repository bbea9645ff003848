"""LayerRegistry: order, unique names, events, departments, active layer."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from layers.metadata import LayerMetadata
from layers.registry import LayerRegistry
from layers.style import SingleStyle
from layers.table import TableLayer
from layers.vector import VectorLayer


def point_layer(name, department=None):
    gdf = gpd.GeoDataFrame({f"{name}_id": ["1"]}, geometry=[shapely.Point(0, 0)],
                           crs="EPSG:4326")
    meta = LayerMetadata(department=department) if department else None
    return VectorLayer(name, gdf, meta)


@pytest.fixture
def reg():
    r = LayerRegistry()
    r.add(TableLayer("population", pd.DataFrame({"building_id": ["B1"]})))
    r.add(point_layer("schools"))
    r.add(point_layer("hospitals"))
    return r  # top first: hospitals, schools, population


@pytest.fixture
def events(reg):
    seen = []
    reg.events.all.connect(lambda info: seen.append((info.signal.name, *info.args)))
    return seen


def test_order_lookup_and_container_protocol(reg):
    assert reg.names() == ["hospitals", "schools", "population"]
    assert len(reg) == 3
    assert [layer.name for layer in reg] == reg.names()
    assert "schools" in reg and reg["schools"] in reg and "roads" not in reg
    assert reg[0].name == "hospitals" and reg[-1].name == "population"
    assert reg.index("population") == 2
    assert reg.get("roads") is None
    with pytest.raises(KeyError, match="no layer named 'roads'; layers: hospitals, schools"):
        reg["roads"]


def test_added_event_and_explicit_index(reg, events):
    roads = point_layer("bus_stops")
    reg.add(roads, index=1)
    reg.add(point_layer("shelters"), index=-1)  # bottom
    assert reg.names() == ["hospitals", "bus_stops", "schools", "population", "shelters"]
    assert events == [("added", roads, 1), ("added", reg["shelters"], 4)]
    with pytest.raises(IndexError, match="out of range"):
        reg.add(point_layer("fire_stations"), index=9)


def test_unique_names_ignoring_case(reg, events):
    with pytest.raises(ValueError, match="a layer named 'schools' already exists"):
        reg.add(point_layer("schools"))
    with pytest.raises(ValueError, match="a layer named 'schools' already exists"):
        reg.add(point_layer("Schools"))
    with pytest.raises(ValueError, match="already in the registry"):
        reg.add(reg["schools"])
    with pytest.raises(TypeError, match="expected a Layer"):
        reg.add("schools")
    with pytest.raises(ValueError, match="a layer named 'schools' already exists"):
        reg["hospitals"].name = "SCHOOLS"
    assert reg.names() == ["hospitals", "schools", "population"]
    reg["hospitals"].name = "clinics"
    assert reg.names() == ["clinics", "schools", "population"]
    assert events == [("changed", reg["clinics"], "name")]


def test_removed_event(reg, events):
    schools = reg["schools"]
    assert reg.remove("schools") is schools
    assert events == [("removed", schools, 1)]
    schools.visible = False  # no longer forwarded
    schools.name = "hospitals"  # and no longer guarded
    assert events == [("removed", schools, 1)]
    with pytest.raises(KeyError, match="no layer named 'schools'"):
        reg.remove("schools")


def test_reordered_event_once_per_move(reg, events):
    reg.move("population", 0)
    assert reg.names() == ["population", "hospitals", "schools"]
    reg.move("population", 0)  # no change, no event
    reg.move("hospitals", -1)
    assert reg.names() == ["population", "schools", "hospitals"]
    assert events == [("reordered",), ("reordered",)]
    with pytest.raises(IndexError, match="new_index 3 out of range"):
        reg.move("schools", 3)


def test_visibility_style_and_changed_are_forwarded(reg, events):
    schools = reg["schools"]
    schools.visible = False
    schools.style = SingleStyle(fill="#ff0000")
    schools.style.stroke = "#00ff00"
    schools.opacity = 0.5
    schools.metadata = schools.metadata.with_(source="education bureau")
    schools.refresh()
    assert events == [
        ("visibility", schools, False),
        ("style", schools),
        ("style", schools),
        ("changed", schools, "opacity"),
        ("changed", schools, "metadata"),
        ("changed", schools, "data"),
    ]


def test_by_department_in_first_appearance_order():
    reg = LayerRegistry()
    for name, dept in [("roads", None), ("cameras", "police"), ("schools", None),
                       ("police_stations", None), ("buildings", None)]:
        reg.add(point_layer(name, dept), index=len(reg))
    groups = reg.by_department()
    assert list(groups) == ["framework", "police", "education"]
    assert [layer.name for layer in groups["framework"]] == ["roads", "buildings"]
    assert [layer.name for layer in groups["police"]] == ["cameras", "police_stations"]


def test_active_layer(reg, events):
    assert reg.active is None
    reg.active = "schools"
    assert reg.active is reg["schools"]
    reg.active = reg["schools"]  # unchanged, no event
    with pytest.raises(ValueError, match="not in the registry"):
        reg.active = point_layer("elsewhere")
    with pytest.raises(KeyError):
        reg.active = "nothing"
    reg.remove("schools")
    assert reg.active is None
    names = [e[0] for e in events]
    assert names == ["active", "active", "removed"]


def test_clear(reg, events):
    reg.clear()
    assert len(reg) == 0
    assert [e[0] for e in events] == ["removed"] * 3
