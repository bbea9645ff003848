"""Styles: validation, events, JSON round trips, mapclassify breaks, defaults."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from layers.style import (
    CLASSIFICATION_METHODS,
    DEPARTMENT_COLORS,
    CategorizedStyle,
    GraduatedStyle,
    RasterStyle,
    SingleStyle,
    default_style,
    parse_color,
    ramp_colors,
    style_from_dict,
)
from spatial.schema import BUILDING_USES


def _styles():
    return [
        SingleStyle(fill="#FF000080", stroke="#000000", stroke_width=2, point_size=9),
        CategorizedStyle(
            "use",
            {"residential": SingleStyle(fill="#f4d58d"), 3: SingleStyle(fill="#123456"),
             2.5: SingleStyle(), True: SingleStyle(stroke="#00ff00")},
            SingleStyle(fill="#bdbdbd"),
        ),
        GraduatedStyle("depth", [0.5, 1.0, 3.0], ["#eff3ff", "#6baed6", "#08519c"],
                       "natural_breaks", null_color="#ff00ff40"),
        RasterStyle("blues", 0, 4.5),
        RasterStyle(["#000000", "#ffffff80"]),
    ]


@pytest.mark.parametrize("style", _styles(), ids=lambda s: type(s).__name__)
def test_json_round_trip(style):
    text = json.dumps(style.to_dict())
    again = style_from_dict(json.loads(text))
    assert type(again) is type(style)
    assert again == style
    assert again.to_dict() == style.to_dict()


def test_categorized_round_trip_keeps_value_types():
    style = _styles()[1]
    again = style_from_dict(json.loads(json.dumps(style.to_dict())))
    assert list(again.categories) == ["residential", 3, 2.5, True]
    assert again.symbol_for(3).fill == "#123456"
    assert again.symbol_for(np.int64(3)).fill == "#123456"
    assert again.symbol_for("other") is again.default
    assert again.symbol_for(None) is again.default


def test_style_from_dict_none_and_unknown_kind():
    assert style_from_dict(None) is None
    with pytest.raises(ValueError, match="unknown style kind 'heatmap'"):
        style_from_dict({"kind": "heatmap"})
    with pytest.raises(ValueError, match="unknown single style field.*colour"):
        style_from_dict({"kind": "single", "colour": "#000000"})


@pytest.mark.parametrize("bad", ["red", "#fff", "#12345", "#1234567", "#gg0000", None, 3])
def test_bad_colours_are_refused_with_the_field_named(bad):
    with pytest.raises(ValueError, match=r"fill must be a colour '#rrggbb' or '#rrggbbaa'"):
        SingleStyle(fill=bad)
    style = SingleStyle()
    with pytest.raises(ValueError, match="stroke must be a colour"):
        style.stroke = bad


def test_colours_are_normalised_and_parsed():
    assert SingleStyle(fill="#AbCdEf").fill == "#abcdef"
    assert parse_color("#ff000080") == (255, 0, 0, 128)
    assert parse_color("#00ff00") == (0, 255, 0, 255)
    assert ramp_colors("blues", 5)[0] == "#eff3ff"
    assert len(ramp_colors("viridis", 7)) == 7


@pytest.mark.parametrize(
    "field, value, error, match",
    [
        ("stroke_width", -1, ValueError, "stroke_width must be >= 0"),
        ("point_size", 0, ValueError, "point_size must be > 0"),
        ("stroke_width", "2", TypeError, "stroke_width must be a number"),
        ("stroke_width", float("nan"), ValueError, "stroke_width must be >= 0"),
    ],
)
def test_bad_sizes(field, value, error, match):
    with pytest.raises(error, match=match):
        SingleStyle(**{field: value})


def test_unknown_attribute_is_refused():
    with pytest.raises(AttributeError, match="no field 'colour'"):
        SingleStyle().colour = "#000000"


def test_changed_event_once_per_change_and_not_for_same_value():
    style = SingleStyle()
    seen = []
    style.events.changed.connect(lambda field, value: seen.append((field, value)))
    style.fill = "#000000"
    style.fill = "#000000"
    style.stroke_width = 3
    assert seen == [("fill", "#000000"), ("stroke_width", 3.0)]


def test_editing_a_category_symbol_emits_on_the_categorized_style():
    sym = SingleStyle()
    style = CategorizedStyle("use", {"a": sym})
    seen = []
    style.events.changed.connect(lambda field, value: seen.append(field))
    sym.fill = "#010203"
    style.default.stroke = "#010203"
    assert seen == ["categories", "categories"]
    style.categories = {"b": SingleStyle()}
    seen.clear()
    sym.fill = "#ffffff"  # no longer part of the style
    assert seen == []


def test_graduated_validation():
    with pytest.raises(ValueError, match="one colour per class: 2 breaks but 1 colours"):
        GraduatedStyle("d", [1, 2], ["#000000"])
    with pytest.raises(ValueError, match="strictly ascending"):
        GraduatedStyle("d", [2, 1], ["#000000", "#ffffff"])
    with pytest.raises(ValueError, match="unknown classification method 'kmeans'"):
        GraduatedStyle("d", [1], ["#000000"], method="kmeans")
    with pytest.raises(ValueError, match="column must be a non-empty column name"):
        GraduatedStyle("", [1], ["#000000"])
    g = GraduatedStyle("d", [1], ["#000000"], method="NaturalBreaks")
    assert g.method == "natural_breaks"
    g.update(breaks=[1, 2], colors=["#000000", "#ffffff"])
    assert g.breaks == [1.0, 2.0]
    with pytest.raises(ValueError, match="one colour per class"):
        g.update(breaks=[1, 2, 3])
    assert g.breaks == [1.0, 2.0]  # a refused update changes nothing


@pytest.mark.parametrize("method", ["quantiles", "equal_interval", "natural_breaks",
                                    "fisher_jenks"])
def test_graduated_from_data_uses_mapclassify(method):
    import mapclassify

    rng = np.random.default_rng(1)
    values = pd.Series(rng.gamma(2.0, 2.0, 500), name="depth_m")
    style = GraduatedStyle.from_data(values, k=4, method=method, ramp="blues")
    assert style.column == "depth_m"
    assert style.method == method
    assert len(style.breaks) == len(style.colors) == 4
    assert style.breaks[-1] == pytest.approx(values.max())
    if method in ("quantiles", "equal_interval"):
        ref = mapclassify.classify(values.to_numpy(), method.replace("_", ""), k=4)
        np.testing.assert_allclose(style.breaks, ref.bins)
    classes = style.classify(values)
    assert classes.min() == 0 and classes.max() == 3


def test_graduated_from_data_edge_cases():
    few = GraduatedStyle.from_data(pd.Series([1, 2, 2, 3, None], name="depth_class"), k=5)
    assert few.breaks == [1.0, 2.0, 3.0]
    assert few.classify([1, 2, 3, None]).tolist() == [0, 1, 2, -1]
    assert few.color_for(None) == few.null_color
    big = pd.Series(np.random.default_rng(2).normal(size=60_000), name="x")
    assert len(GraduatedStyle.from_data(big, k=5, method="natural_breaks").breaks) == 5
    with pytest.raises(ValueError, match="holds no numeric values"):
        GraduatedStyle.from_data(pd.Series([None, "a"], name="x"))
    with pytest.raises(ValueError, match="k must be a positive whole number"):
        GraduatedStyle.from_data(pd.Series([1.0], name="x"), k=0)


def test_raster_style_validation_and_colouring():
    with pytest.raises(ValueError, match="vmin must be below vmax"):
        RasterStyle("blues", 3, 1)
    with pytest.raises(ValueError, match="unknown colour ramp 'rainbow'"):
        RasterStyle("rainbow")
    style = RasterStyle(["#000000", "#ffffff"], 0, 10)
    arr = np.ma.masked_array([[0.0, 5.0, 10.0, 20.0]], mask=[[False, False, False, True]])
    rgba = style.to_rgba(arr)
    assert rgba.shape == (1, 4, 4)
    assert rgba[0, 0].tolist() == [0, 0, 0, 255]
    assert rgba[0, 2].tolist() == [255, 255, 255, 255]
    assert rgba[0, 3, 3] == 0  # masked -> transparent


# ------------------------------------------------------------------ defaults
def _gdf(geoms, **columns):
    return gpd.GeoDataFrame(columns, geometry=list(geoms), crs="EPSG:4547")


def test_default_style_buildings_roads_communities():
    boxes = [shapely.box(i, 0, i + 1, 1) for i in range(2)]
    buildings = default_style("buildings", _gdf(boxes, use=["residential", "public"]))
    assert isinstance(buildings, CategorizedStyle) and buildings.column == "use"
    assert set(buildings.categories) == set(BUILDING_USES)

    lines = [shapely.LineString([(0, 0), (1, 1)])] * 3
    roads = default_style("roads", _gdf(lines, **{"class": ["primary", "residential", "lane"]}))
    assert isinstance(roads, CategorizedStyle) and roads.column == "class"
    assert list(roads.categories) == ["primary", "residential", "lane"]
    assert roads.categories["primary"].stroke_width > roads.categories["residential"].stroke_width

    communities = default_style("communities", _gdf(boxes, community_id=["C1", "C2"]))
    assert isinstance(communities, SingleStyle)
    assert parse_color(communities.fill)[3] == 0  # outline only


def test_default_style_flood_zones_graduated_or_categorized():
    boxes = [shapely.box(i, 0, i + 1, 1) for i in range(4)]
    numeric = default_style("flood_zones", _gdf(boxes, depth_class=[1, 2, 3, 3]))
    assert isinstance(numeric, GraduatedStyle) and numeric.column == "depth_class"
    assert numeric.breaks == [1.0, 2.0, 3.0]
    text = default_style("flood_zones", _gdf(boxes, depth_class=["0.5-1m", "<0.5m", ">3m",
                                                                 "1-3m"]))
    assert isinstance(text, CategorizedStyle) and text.column == "depth_class"


def test_default_style_points_per_department():
    pts = [shapely.Point(0, 0)]
    schools = default_style("schools", _gdf(pts, school_id=["S1"]))
    hospitals = default_style("hospitals", _gdf(pts, hospital_id=["H1"]))
    assert schools.fill == DEPARTMENT_COLORS["education"]
    assert hospitals.fill == DEPARTMENT_COLORS["health"]
    assert default_style("cameras", _gdf(pts, camera_id=["1"]), department="police").fill == \
        DEPARTMENT_COLORS["police"]
    hazards = default_style("legal_entities", _gdf(pts, hazard_class=["hazardous_chemicals"]))
    assert hazards.symbol_for("hazardous_chemicals").fill == "#d7191c"


def test_default_style_tables_and_missing_columns():
    assert default_style("population", pd.DataFrame({"building_id": ["B1"]})) is None
    plain = default_style("buildings", _gdf([shapely.box(0, 0, 1, 1)], height=[3.0]))
    assert isinstance(plain, SingleStyle)


@pytest.mark.parametrize("method", [m for m in CLASSIFICATION_METHODS if m != "user_defined"])
def test_every_method_name_is_a_working_mapclassify_scheme(method):
    values = pd.Series(np.random.default_rng(3).uniform(0, 100, 60), name="v")
    style = GraduatedStyle.from_data(values, k=3, method=method)
    assert style.method == method
    assert style.breaks[-1] >= values.max()  # every value falls in a class
    assert (style.classify(values) >= 0).all()
