"""The map canvas on the small sample city (offscreen): pixels, navigation, tools."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QWheelEvent
from PySide6.QtWidgets import QApplication

from gui.canvas import TOOL_NAMES, MapCanvas
from gui.canvas.renderer import Canceled, RenderJob, render
from layers.selection import Selection
from layers.style import SingleStyle, parse_color
from layers.workspace import Workspace
from sample_data.catalogue import sample_path
from spatial.errors import CRSError

pytestmark = pytest.mark.gui

W, H = 800, 500


@pytest.fixture
def ws():
    return Workspace.open(sample_path("small"), read_only=True)


@pytest.fixture
def canvas(qtbot, ws):
    c = MapCanvas()
    c.resize(W, H)
    qtbot.addWidget(c)
    c.show()
    qtbot.waitExposed(c)
    c.set_workspace(ws, Selection())
    assert c.wait_until_rendered(20000), c.last_error
    yield c
    c.shutdown()


def only(ws, *names):
    for layer in ws.registry:
        layer.visible = layer.name in names


def image(c):
    assert c.wait_until_rendered(20000), c.last_error
    return c.grab().toImage()


def rgb(img, x, y):
    col = img.pixelColor(int(x), int(y))
    return col.red(), col.green(), col.blue()


def screen(c, x, y):
    px, py = c.view.to_screen(x, y)
    return float(px), float(py)


def big_buildings_in_view(c, ws, n=12):
    """Rows of the largest buildings whose centre is well inside the view."""
    gdf = ws.layer("buildings").data
    minx, miny, maxx, maxy = c.extent()
    pad = 0.1 * (maxx - minx)
    pts = gdf.geometry.representative_point()
    inside = ((pts.x > minx + pad) & (pts.x < maxx - pad)
              & (pts.y > miny + pad) & (pts.y < maxy - pad))
    rows = np.flatnonzero(inside.to_numpy())
    order = np.argsort(-gdf.geometry.area.to_numpy()[rows])
    return rows[order[:n]], pts


def click(qtbot, c, x, y, modifiers=Qt.KeyboardModifier.NoModifier,
          button=Qt.MouseButton.LeftButton):
    qtbot.mouseClick(c, button, modifiers, QPoint(int(round(x)), int(round(y))))


def drag(qtbot, c, a, b, modifiers=Qt.KeyboardModifier.NoModifier):
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, modifiers, QPoint(*map(int, a)))
    qtbot.mouseMove(c, QPoint(int((a[0] + b[0]) / 2), int((a[1] + b[1]) / 2)))
    qtbot.mouseMove(c, QPoint(*map(int, b)))
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, modifiers, QPoint(*map(int, b)))


# ----------------------------------------------------------------------------- drawing
def test_buildings_drawn_in_their_style_colours_toggle_and_restyle(canvas, ws):
    only(ws, "buildings")
    canvas.zoom_to_layer("buildings")
    canvas.zoom_by(2.0)
    img = image(canvas)
    layer = ws.layer("buildings")
    rows, pts = big_buildings_in_view(canvas, ws)
    assert len(rows) >= 8
    hits = 0
    for r in rows:
        expected = parse_color(layer.style.symbol_for(layer.data["use"].iloc[r]).fill)[:3]
        hits += rgb(img, *screen(canvas, pts.iloc[r].x, pts.iloc[r].y)) == expected
    assert hits >= len(rows) - 1
    bg = canvas.background
    layer.visible = False
    img = image(canvas)
    for r in rows:
        assert rgb(img, *screen(canvas, pts.iloc[r].x, pts.iloc[r].y)) == (bg.red(), bg.green(),
                                                                          bg.blue())
    layer.visible = True
    layer.style = SingleStyle(fill="#ff0000", stroke="#ff0000")
    img = image(canvas)
    reds = sum(rgb(img, *screen(canvas, pts.iloc[r].x, pts.iloc[r].y)) == (255, 0, 0) for r in rows)
    assert reds >= len(rows) - 1
    # a style edited in place re-renders too
    layer.style.fill = "#0000ff"
    img = image(canvas)
    r = rows[0]
    assert rgb(img, *screen(canvas, pts.iloc[r].x, pts.iloc[r].y)) == (0, 0, 255)


def test_whole_city_draws_small_buildings_as_pixels(canvas, ws):
    only(ws, "buildings")
    canvas.zoom_by(1 / 8)  # buildings well under 2 px
    img = image(canvas)
    assert canvas.last_render_stats.get("pixels", 0) > 1000
    colours = {parse_color(s.fill)[:3] for s in ws.layer("buildings").style.categories.values()}
    x0, y0 = screen(canvas, *ws.layer("buildings").bounds[:2])
    x1, y1 = screen(canvas, *ws.layer("buildings").bounds[2:])
    found = {rgb(img, x, y) for x in range(int(x0), int(x1)) for y in range(int(y1), int(y0))}
    assert len(colours & found) >= 3


def test_selection_drawn_yellow_and_highlight_overlay(canvas, ws):
    only(ws, "buildings")
    canvas.zoom_by(2.0)
    rows, pts = big_buildings_in_view(canvas, ws, 2)
    r = int(rows[0])
    p = screen(canvas, pts.iloc[r].x, pts.iloc[r].y)
    before = rgb(image(canvas), *p)
    canvas.selection.select("buildings", [r])
    red, green, blue = rgb(image(canvas), *p)
    assert red > 200 and green > 200 and blue < 150 and (red, green, blue) != before
    canvas.selection.clear()
    assert rgb(image(canvas), *p) == before
    # a highlight overlay in its own colour; None removes it
    import geopandas as gpd

    x, y = canvas.view.to_map(W / 2, H / 2)
    zone = gpd.GeoSeries([shapely.Point(x, y).buffer(40 * canvas.view.scale)], crs=ws.layer(
        "buildings").crs)
    base = rgb(image(canvas), W / 2, H / 2)
    canvas.set_highlight("drill", zone)
    assert canvas.highlights() == ["drill"]
    assert rgb(image(canvas), W / 2, H / 2) != base
    canvas.set_highlight("drill", None)
    assert rgb(image(canvas), W / 2, H / 2) == base


def test_raster_labels_scale_bar_and_north_arrow(canvas, ws):
    only(ws, "flood_depth")
    img = image(canvas)
    bg = canvas.background
    background = (bg.red(), bg.green(), bg.blue())
    coloured = sum(rgb(img, x, y) != background for x in range(100, W - 100, 20)
                   for y in range(100, H - 100, 20))
    assert coloured > 50
    # scale bar (bottom left) and north arrow (top right) are painted over the map
    def dark(x0, y0, x1, y1):
        return sum(sum(rgb(img, x, y)) < 200 for x in range(x0, x1) for y in range(y0, y1))

    assert dark(5, H - 40, 150, H) > 20
    assert dark(W - 50, 0, W, 50) > 20
    only(ws, "roads")
    canvas.zoom_by(4.0)
    image(canvas)
    assert canvas.last_render_stats["labels"] > 0
    canvas.zoom_by(1 / 64)
    image(canvas)
    assert canvas.last_render_stats["labels"] == 0


# ----------------------------------------------------------------------------- navigation
def test_wheel_zoom_keeps_the_point_under_the_cursor(canvas):
    anchor = QPointF(210.0, 130.0)
    before = canvas.view.to_map(anchor.x(), anchor.y())
    scale = canvas.view.scale
    ev = QWheelEvent(anchor, canvas.mapToGlobal(anchor), QPoint(0, 0), QPoint(0, 120),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                     Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(canvas, ev)
    assert canvas.view.scale == pytest.approx(scale / MapCanvas.WHEEL_STEP)
    assert canvas.view.to_map(anchor.x(), anchor.y()) == pytest.approx(before, abs=1e-6)
    ev = QWheelEvent(anchor, canvas.mapToGlobal(anchor), QPoint(0, 0), QPoint(0, -240),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                     Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(canvas, ev)
    assert canvas.view.scale == pytest.approx(scale * MapCanvas.WHEEL_STEP)
    assert canvas.view.to_map(anchor.x(), anchor.y()) == pytest.approx(before, abs=1e-6)


def test_keys_pan_and_zoom_and_signals(qtbot, canvas):
    extents, scales = [], []
    canvas.extentChanged.connect(lambda: extents.append(canvas.extent()))
    canvas.scaleChanged.connect(scales.append)
    e0 = canvas.extent()
    s = canvas.view.scale
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    assert canvas.extent()[0] == pytest.approx(e0[0] + W / 4 * s)
    qtbot.keyClick(canvas, Qt.Key.Key_Up)
    assert canvas.extent()[1] == pytest.approx(e0[1] + H / 4 * s)
    qtbot.keyClick(canvas, Qt.Key.Key_Plus)
    assert canvas.view.scale == pytest.approx(s / 2)
    qtbot.keyClick(canvas, Qt.Key.Key_Minus)
    assert canvas.view.scale == pytest.approx(s)
    assert len(extents) == 4 and len(scales) == 2
    assert scales[-1] == pytest.approx(canvas.scale())
    dpi = canvas.logicalDpiX()
    assert canvas.scale() == pytest.approx(canvas.metres_per_pixel() / (0.0254 / dpi))
    moved = []
    canvas.cursorMoved.connect(lambda x, y: moved.append((x, y)))
    qtbot.mouseMove(canvas, QPoint(100, 50))
    assert moved and moved[-1] == pytest.approx(canvas.view.to_map(100, 50))


def test_drag_pans_the_map(qtbot, canvas):
    canvas.set_tool("pan")
    grabbed = canvas.view.to_map(100, 100)
    drag(qtbot, canvas, (100, 100), (160, 130))
    assert canvas.view.to_map(160, 130) == pytest.approx(grabbed, abs=1e-6)
    # while the new frame renders, the last image is shown shifted; then it is current
    assert canvas.wait_until_rendered(20000) and canvas.is_current()


def test_zoom_to_layer_selection_and_full_extent(canvas, ws):
    def contains(outer, inner):
        return (outer[0] <= inner[0] + 1e-6 and outer[1] <= inner[1] + 1e-6
                and outer[2] >= inner[2] - 1e-6 and outer[3] >= inner[3] - 1e-6)

    canvas.zoom_to_layer("hospitals")
    assert contains(canvas.extent(), ws.layer("hospitals").bounds)
    full = canvas.full_extent()
    assert canvas.view.scale < View_scale_for(full)
    canvas.selection.select("schools", [3])
    canvas.zoom_to_selection()
    pt = ws.layer("schools").data.geometry.iloc[3]
    e = canvas.extent()
    assert e[0] < pt.x < e[2] and e[1] < pt.y < e[3]
    canvas.zoom_full()
    assert contains(canvas.extent(), full)
    with pytest.raises(KeyError):
        canvas.zoom_to_layer("no_such_layer")


def View_scale_for(bounds):
    return max((bounds[2] - bounds[0]) / W, (bounds[3] - bounds[1]) / H) * 1.1 * 0.999


def test_map_crs_switch_keeps_the_area_and_draws_reprojected(canvas, ws):
    assert canvas.map_crs.to_epsg() == 4547
    only(ws, "buildings", "flood_depth")
    centre = canvas.view.to_map(W / 2, H / 2)
    canvas.set_map_crs("EPSG:4326")
    assert canvas.map_crs.to_epsg() == 4326
    lon, lat = pyproj.Transformer.from_crs(4547, 4326, always_xy=True).transform(*centre)
    assert canvas.view.to_map(W / 2, H / 2) == pytest.approx((lon, lat), abs=2e-4)
    img = image(canvas)
    assert canvas.last_render_stats.get("paths", 0) + canvas.last_render_stats.get("pixels", 0) > 0
    bg = canvas.background
    assert sum(rgb(img, x, y) != (bg.red(), bg.green(), bg.blue())
               for x in range(100, W - 100, 25) for y in range(100, H - 100, 25)) > 50
    with pytest.raises(CRSError):
        canvas.set_map_crs("EPSG:999999")


# ----------------------------------------------------------------------------- tools
def test_select_rect_matches_brute_force_and_modifiers(qtbot, canvas, ws):
    ws.registry.active = "buildings"
    gdf = ws.layer("buildings").data
    a, b = (150, 100), (400, 300)
    (x0, y1), (x1, y0) = canvas.view.to_map(*a), canvas.view.to_map(*b)
    rows = canvas.select_rect((x0, y0, x1, y1))["buildings"]
    truth = np.flatnonzero(shapely.intersects(gdf.geometry.values, shapely.box(x0, y0, x1, y1)))
    assert len(truth) > 20 and rows.tolist() == truth.tolist()
    assert canvas.selection.rows("buildings").tolist() == truth.tolist()
    # the tool: a drag replaces, shift-drag adds, ctrl-drag removes
    canvas.set_tool("select_rect")
    drag(qtbot, canvas, (500, 300), (600, 400))
    (u0, v1), (u1, v0) = canvas.view.to_map(500, 300), canvas.view.to_map(600, 400)
    second = set(np.flatnonzero(shapely.intersects(gdf.geometry.values,
                                                   shapely.box(u0, v0, u1, v1))).tolist())
    assert set(canvas.selection.rows("buildings").tolist()) == second
    drag(qtbot, canvas, a, b, Qt.KeyboardModifier.ShiftModifier)
    assert set(canvas.selection.rows("buildings").tolist()) == second | set(truth.tolist())
    drag(qtbot, canvas, (500, 300), (600, 400), Qt.KeyboardModifier.ControlModifier)
    assert set(canvas.selection.rows("buildings").tolist()) == set(truth.tolist()) - second


def test_select_polygon_and_click_select(qtbot, canvas, ws):
    ws.registry.active = "buildings"
    gdf = ws.layer("buildings").data
    canvas.set_tool("select_polygon")
    pts = [(200, 100), (500, 150), (350, 380)]
    for p in pts:
        click(qtbot, canvas, *p)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    poly = shapely.Polygon([canvas.view.to_map(*p) for p in pts])
    truth = np.flatnonzero(shapely.intersects(gdf.geometry.values, poly))
    assert len(truth) > 10 and canvas.selection.rows("buildings").tolist() == truth.tolist()
    # click-select picks the building under the cursor
    canvas.set_tool("select")
    canvas.zoom_by(2.0)
    rows, rp = big_buildings_in_view(canvas, ws, 1)
    r = int(rows[0])
    click(qtbot, canvas, *screen(canvas, rp.iloc[r].x, rp.iloc[r].y))
    assert canvas.selection.rows("buildings").tolist() == [r]
    # empty space with "replace" clears
    empty = canvas.view.to_map(2, 2)
    if not shapely.intersects(gdf.geometry.values, shapely.Point(empty).buffer(
            5 * canvas.view.scale)).any():
        click(qtbot, canvas, 2, 2)
        assert canvas.selection.count("buildings") == 0


def test_identify_returns_the_feature_under_the_cursor(qtbot, canvas, ws):
    only(ws, "buildings", "schools")
    canvas.zoom_by(2.0)
    rows, pts = big_buildings_in_view(canvas, ws, 1)
    r = int(rows[0])
    canvas.set_tool("identify")
    with qtbot.waitSignal(canvas.featuresIdentified, timeout=2000) as sig:
        click(qtbot, canvas, *screen(canvas, pts.iloc[r].x, pts.iloc[r].y))
    found = sig.args[0]
    hit = [f for f in found if f["layer"] == "buildings"]
    assert hit and hit[0]["row"] == r
    assert hit[0]["attributes"]["building_id"] == ws.layer("buildings").data["building_id"].iloc[r]
    assert "geometry" not in hit[0]["attributes"]
    # every visible layer is asked: a school point under the cursor is reported too
    school = ws.layer("schools").data.geometry.iloc[0]
    canvas.center_on(school.x, school.y)
    results = canvas.identify(school.x, school.y)
    assert any(f["layer"] == "schools" and f["row"] == 0 for f in results)


def test_measure_tools_return_metres(qtbot, canvas):
    got = []
    canvas.measured.connect(lambda v, kind: got.append((v, kind)))
    canvas.set_tool("measure_line")
    pts = [(100, 100), (400, 120), (420, 400)]
    for p in pts:
        click(qtbot, canvas, *p)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    xy = [canvas.view.to_map(*p) for p in pts]
    assert got[-1][1] == "distance"
    assert got[-1][0] == pytest.approx(shapely.LineString(xy).length)  # EPSG:4547: planar metres
    geod = pyproj.Geod(ellps="GRS80")
    lon, lat = pyproj.Transformer.from_crs(4547, 4490, always_xy=True).transform(
        *np.array(xy).T)
    assert got[-1][0] == pytest.approx(geod.line_length(lon, lat), rel=1e-3)
    canvas.set_tool("measure_area")
    for p in pts:
        click(qtbot, canvas, *p)
    qtbot.mouseDClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                      QPoint(*pts[-1]))
    assert got[-1][1] == "area"
    assert got[-1][0] == pytest.approx(shapely.Polygon(xy).area, rel=1e-9)
    area = abs(geod.polygon_area_perimeter(lon, lat)[0])
    assert got[-1][0] == pytest.approx(area, rel=1e-3)
    # in a geographic map CRS the same clicks measure geodesically
    canvas.set_map_crs("EPSG:4326")
    canvas.set_tool("measure_line")
    for p in pts[:2]:
        click(qtbot, canvas, *p)
    click(qtbot, canvas, *pts[1], button=Qt.MouseButton.RightButton)
    ll = [canvas.view.to_map(*p) for p in pts[:2]]
    wgs = pyproj.Geod(ellps="WGS84")
    assert got[-1] == (pytest.approx(wgs.line_length(*np.array(ll).T), rel=1e-9), "distance")


def test_draw_tools_emit_map_geometries(qtbot, canvas):
    drawn = []
    canvas.geometryDrawn.connect(drawn.append)
    canvas.set_tool("draw_point")
    click(qtbot, canvas, 300, 200)
    assert drawn[-1].geom_type == "Point"
    assert (drawn[-1].x, drawn[-1].y) == pytest.approx(canvas.view.to_map(300, 200))
    canvas.set_tool("draw_line")
    click(qtbot, canvas, 100, 100)
    click(qtbot, canvas, 200, 150)
    click(qtbot, canvas, 200, 150, button=Qt.MouseButton.RightButton)
    assert drawn[-1].geom_type == "LineString" and len(drawn[-1].coords) == 2
    canvas.set_tool("draw_polygon")
    for p in [(100, 100), (300, 100), (300, 300)]:
        click(qtbot, canvas, *p)
    qtbot.keyClick(canvas, Qt.Key.Key_Backspace)  # drop the last vertex
    click(qtbot, canvas, 200, 300)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    poly = drawn[-1]
    assert poly.geom_type == "Polygon" and poly.is_valid
    assert poly.area == pytest.approx(0.5 * 200 * 200 * canvas.view.scale ** 2)
    n = len(drawn)
    click(qtbot, canvas, 100, 100)
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)  # cancel: nothing drawn
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert len(drawn) == n
    assert set(TOOL_NAMES) == {"pan", "identify", "select", "select_rect", "select_polygon",
                               "measure_line", "measure_area", "draw_point", "draw_line",
                               "draw_polygon"}
    with pytest.raises(ValueError, match="unknown map tool"):
        canvas.set_tool("lasso")


# ----------------------------------------------------------------------------- responsiveness
def test_ui_thread_answers_during_a_long_render_and_cancel_works(qtbot):
    ws = Workspace.open(sample_path("district"), read_only=True)
    c = MapCanvas()
    c.resize(W, H)
    qtbot.addWidget(c)
    c.show()
    ticks = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    try:
        with qtbot.waitSignal(c.renderFinished, timeout=60000):
            c.set_workspace(ws)  # first frame: 50,000 buildings prepared and drawn
        during = len(ticks)
        assert during >= 3, "the UI thread kept running slots while the map rendered"
        # a render that is canceled never reaches the screen
        finished = []
        c.renderFinished.connect(finished.append)
        c.zoom_by(1.5)
        c.refresh()
        c.cancel_render()
        qtbot.wait(300)
        assert finished == [] and not c.is_current()
        assert c.wait_until_rendered(30000)  # and a new request renders again
    finally:
        timer.stop()
        c.shutdown()
    job = c._job()
    job.cancel()
    with pytest.raises(Canceled):
        render(job)


def test_set_workspace_none_and_model_events(qtbot, canvas, ws):
    frames = []
    canvas.renderFinished.connect(frames.append)
    with qtbot.waitSignal(canvas.renderFinished, timeout=10000):
        ws.registry.move("buildings", 0)  # reordering re-renders
    with qtbot.waitSignal(canvas.renderFinished, timeout=10000):
        ws.layer("parks").opacity = 0.3
    assert all(isinstance(ms, float) for ms in frames)
    canvas.set_workspace(None)
    assert canvas.extent() is None and canvas.map_crs is None
    img = canvas.grab().toImage()
    assert img.pixelColor(W // 2, H // 4) == QColor(canvas.background)
    assert isinstance(RenderJob, type) and QEvent.Type.Paint  # imported API is public
