"""The Drills panel: scenario form, live footprint preview, run in a worker with
cancel, summary, save and compare scenarios, reports (issue 5, item 5)."""

import math
import threading

import numpy as np
import pandas as pd
import pytest
import shapely
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QInputDialog

from gui.drills_panel import (
    BUILDINGS_KEY,
    FOOTPRINT_KEY,
    ROUTES_KEY,
    CompareDialog,
    DrillsPanel,
    compass_point,
    key_numbers,
    session_runs,
)
from layers.workspace import Workspace
from sample_data.catalogue import sample_path

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def small_ws():
    ws = Workspace.open(sample_path("small"), read_only=True)
    yield ws
    ws.close()


@pytest.fixture()
def canvas(qtbot, small_ws):
    from gui.canvas import MapCanvas

    c = MapCanvas()
    qtbot.addWidget(c)
    c.resize(640, 480)
    c.set_workspace(small_ws)
    yield c
    c.cancel_render()
    c.set_workspace(None)  # the module's workspace outlives this canvas: let go of its events
    c.shutdown()


@pytest.fixture()
def panel(qtbot, small_ws, canvas):
    before = dict(small_ws.scenarios)
    p = DrillsPanel(small_ws, canvas=canvas, lang="en")
    qtbot.addWidget(p)
    yield p
    p.shutdown()
    if p.worker is not None:
        qtbot.waitUntil(lambda: p.worker is None, timeout=60000)
    small_ws.scenarios = before  # tests that save scenarios leave the sample as it was
    session_runs(small_ws).clear()


def _run(qtbot, panel, timeout=120000):
    with qtbot.waitSignal(panel.resultReady, timeout=timeout) as blocker:
        assert panel.run()
    return blocker.args[0]


def _bearing(origin, geom) -> float:
    c = geom.centroid
    return math.degrees(math.atan2(c.x - origin[0], c.y - origin[1])) % 360


def _angle_diff(a, b) -> float:
    return abs((a - b + 180) % 360 - 180)


def test_compass_points():
    assert [compass_point(d) for d in (0, 45, 90, 180, 225, 359)] == \
        ["N", "NE", "E", "S", "SW", "N"]


def test_new_panel_asks_for_a_point_and_cannot_run(panel):
    assert panel.kind == "plume"
    assert panel.scenario is None and not panel.run_button.isEnabled()
    assert "map" in panel.hint_label.text()
    assert panel.wind_spin.value() == 45 and "NE" in panel.wind_hint.text()
    assert {"chlorine_leak", "river_flood"} <= {
        panel.scenario_combo.itemData(i) for i in range(panel.scenario_combo.count())}


def test_place_point_on_map_previews_the_footprint(panel, canvas, qtbot):
    panel.place_button.click()
    assert canvas.tool() == "draw_point"
    x0, y0, x1, y1 = canvas.extent()
    origin = ((x0 + x1) / 2, (y0 + y1) / 2)
    canvas.geometryDrawn.emit(shapely.Point(*origin))
    assert canvas.tool() == "pan"  # the map tool is given back
    assert panel.scenario is not None and panel.error is None
    assert panel.scenario.hazard.point == pytest.approx(origin)
    assert panel.run_button.isEnabled()
    qtbot.waitUntil(lambda: panel.preview is not None, timeout=5000)
    assert FOOTPRINT_KEY in canvas.highlights()
    assert list(panel.preview["order"]) == [0, 1, 2]  # rings 500, 1000 and the rest to 3000 m


def test_changing_the_wind_moves_the_preview(panel, canvas, qtbot):
    x0, y0, x1, y1 = canvas.extent()
    origin = ((x0 + x1) / 2, (y0 + y1) / 2)
    panel.set_point(*origin, "EPSG:4547")
    qtbot.waitUntil(lambda: panel.preview is not None, timeout=5000)
    first = shapely.union_all(panel.preview.geometry.values)
    # wind from the north-east: the plume goes south-west (bearing 225)
    assert _angle_diff(_bearing(origin, first), 225) < 3
    panel.set_wind(270)  # from the west: the plume goes east
    assert "from W, towards E" in panel.wind_hint.text()
    assert panel.wind_dial.value() == 90  # the dial's bottom is its zero: turned, north up
    qtbot.waitUntil(lambda: panel.preview is not None and not shapely.union_all(
        panel.preview.geometry.values).equals(first), timeout=5000)
    moved = shapely.union_all(panel.preview.geometry.values)
    assert _angle_diff(_bearing(origin, moved), 90) < 3
    panel.wind_dial.setValue(0)  # dial at the bottom = wind from the south: plume goes north
    assert panel.wind_spin.value() == 180
    qtbot.waitUntil(lambda: _angle_diff(_bearing(origin, shapely.union_all(
        panel.preview.geometry.values)), 0) < 3, timeout=5000)


def test_site_combo_places_the_source_at_a_hazardous_site(panel, small_ws, qtbot):
    sites = small_ws.layer("hazardous_sites").data
    i = next(i for i in range(panel.site_combo.count())
             if panel.site_combo.itemData(i) == ("hazardous_sites", 0))
    assert "chlorine" in panel.site_combo.itemText(i)
    panel.site_combo.setCurrentIndex(i)
    panel.site_combo.activated.emit(i)
    geom = sites.geometry.iloc[0]
    assert panel.scenario.hazard.point == pytest.approx((geom.x, geom.y))
    assert panel.scenario.hazard.crs == "EPSG:4547"


def test_bad_rings_name_the_key_and_disable_run(panel):
    panel.set_point(527241.1, 3387692.0, "EPSG:4547")
    assert panel.run_button.isEnabled()
    panel.rings_edit.setText("500, abc")
    assert panel.scenario is None and "hazard.rings_m" in panel.error_label.text()
    assert panel.error_label.isVisibleTo(panel) and not panel.run_button.isEnabled()
    panel.rings_edit.setText("1000, 500")  # not ascending: the scenario model says where
    assert "hazard.rings_m[1]" in panel.error_label.text()
    panel.rings_edit.setText("500")
    assert panel.error is None and not panel.error_label.isVisibleTo(panel)


def test_drawn_polygon_and_zones_and_raster_preview(panel, canvas, qtbot):
    panel.set_kind("drawn")
    assert panel.scenario is None and "Draw" in panel.hint_label.text()
    panel.draw_button.click()
    assert canvas.tool() == "draw_polygon"
    x0, y0, x1, y1 = canvas.extent()
    box = shapely.box(x0 + (x1 - x0) * 0.4, y0 + (y1 - y0) * 0.4,
                      x0 + (x1 - x0) * 0.6, y0 + (y1 - y0) * 0.6)
    canvas.geometryDrawn.emit(box)
    assert panel.scenario is not None and panel.scenario.hazard.kind == "drawn"
    qtbot.waitUntil(lambda: panel.preview is not None, timeout=5000)
    assert panel.preview.geometry.iloc[0].area == pytest.approx(box.area, rel=1e-6)

    panel.set_kind("zones")  # computed in a worker
    assert panel.scenario.hazard.layer == "flood_zones"
    assert panel.scenario.hazard.class_column == "depth_class"
    qtbot.waitUntil(lambda: panel.preview is not None and len(panel.preview) > 1, timeout=30000)

    panel.set_kind("raster")
    assert panel.scenario.hazard.path == "small_flood_depth.tif"
    qtbot.waitUntil(lambda: panel.preview is not None and
                    list(panel.preview["band"]) == ["≥ 0.3 m"], timeout=30000)
    assert FOOTPRINT_KEY in canvas.highlights()


def test_saved_scenario_runs_in_the_worker_like_run_drill(panel, small_ws, canvas, qtbot,
                                                          monkeypatch):
    from spatial.drill import impact, parse_scenario, run_drill

    threads = []
    real = impact.run_drill

    def spy(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(impact, "run_drill", spy)
    panel.load_scenario("chlorine_leak")
    assert panel.title_edit.text() == "Chlorine leak drill"
    stored = small_ws.scenarios["chlorine_leak"]["hazard"]
    assert panel.kind == "plume" and panel.wind_spin.value() == stored["wind_from_deg"]
    assert panel.rings_edit.text() == ", ".join(str(r) for r in stored["rings_m"])
    assert panel.scenario.hazard.point == tuple(stored["point"])
    result = _run(qtbot, panel)
    assert threads and threads[0] is not threading.main_thread()
    expected = run_drill(parse_scenario(small_ws.scenarios["chlorine_leak"],
                                        base_dir=small_ws.folder),
                         small_ws.frames(), base_dir=small_ws.folder)
    assert result.summary["residents"] == expected.summary["residents"]
    residents = panel.summary_table.item(0, 1).text()
    want = expected.summary["residents"]
    assert residents == ("<5" if want is None else f"{want:,}")
    assert panel.tabs.currentIndex() == 1 and panel.result is result
    assert panel.chart.bar_count() == 3  # age groups
    assert panel.entities_model.rowCount() == len(expected.summary["legal_entities"])
    if expected.summary["buildings"]:
        assert BUILDINGS_KEY in canvas.highlights()
    assert session_runs(small_ws)[-1]["result"] is result
    assert small_ws.audit_log()[-1]["action"] == "drill"


def test_cancel_a_run(panel, qtbot):
    panel.load_scenario("river_flood")
    assert panel.run()
    assert not panel.run_button.isEnabled() and panel.cancel_button.isEnabled()
    panel.cancel()
    qtbot.waitUntil(lambda: not panel.running, timeout=60000)
    assert panel.status_label.text() == "Cancelled"
    assert panel.result is None and panel.progress.value() == 0
    assert panel.run_button.isEnabled()


def test_save_scenario_in_the_workspace(panel, small_ws, monkeypatch):
    panel.set_point(527500.0, 3387000.0, "EPSG:4547")
    panel.title_edit.setText("Test leak")
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("test_leak", True))
    dirty = small_ws.dirty
    assert panel.save_scenario() == "test_leak"
    doc = small_ws.scenarios["test_leak"]
    assert doc["hazard"]["point"] == [527500, 3387000]
    assert doc["title"]["en"] == "Test leak"
    assert small_ws.dirty and (dirty or small_ws.dirty)
    assert panel.scenario_combo.currentData() == "test_leak"
    panel.new_scenario()
    assert panel.scenario is None
    panel.load_scenario("test_leak")
    assert panel.scenario.hazard.point == (527500, 3387000)


def test_compare_two_scenarios(panel, qtbot):
    dlg = CompareDialog(panel)
    qtbot.addWidget(dlg)
    dlg.choose("scenario:chlorine_leak", "scenario:river_flood")
    with qtbot.waitSignal(dlg.compared, timeout=120000):
        assert dlg.compare()
    headers = [dlg.table.horizontalHeaderItem(i).text() for i in range(4)]
    assert "chlorine_leak" in headers[1] and "river_flood" in headers[2]
    assert headers[3] == "Difference"
    labels = dlg.column_texts(0)
    assert labels[0] == "Residents"
    a, b = dlg.summaries[0][1], dlg.summaries[1][1]
    rows = {k: (va, p) for k, _l, va, p in key_numbers(a)}
    assert dlg.table.item(0, 1).text() == ("<5" if a["residents"] is None
                                           else f"{a['residents']:,}")
    assert dlg.table.item(0, 2).text() == ("<5" if b["residents"] is None
                                           else f"{b['residents']:,}")
    if a["buildings"] is not None and b["buildings"] is not None:
        i = list(rows).index("buildings")
        d = b["buildings"] - a["buildings"]
        assert dlg.table.item(i, 3).text() == ("±0" if d == 0 else f"{d:+,}")


def test_compare_the_last_two_runs(panel, qtbot):
    panel.load_scenario("chlorine_leak")
    _run(qtbot, panel)
    panel.set_wind(225)
    _run(qtbot, panel)
    dlg = panel.open_compare()
    qtbot.addWidget(dlg)
    assert dlg.combo_a.currentData() == "run:0" and dlg.combo_b.currentData() == "run:1"
    assert dlg.table.rowCount() >= 8 and dlg.table.columnCount() == 4  # compared at once
    assert dlg.column_texts(0)[:2] == ["Residents", "Aged 0–14"]


def test_report_button_writes_html(panel, qtbot, tmp_path, monkeypatch):
    panel.load_scenario("chlorine_leak")
    _run(qtbot, panel)
    out = tmp_path / "drill.html"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(out), "HTML files (*.html)"))
    written = []
    panel.fileWritten.connect(written.append)
    panel.report_button.click()
    assert panel.file_worker is not None  # written in a worker
    qtbot.waitUntil(lambda: panel.file_worker is None, timeout=120000)
    assert not panel.error_label.text()
    assert written == [str(out)]
    text = out.read_text("utf-8")
    assert text.startswith("<!DOCTYPE html>") and "Chlorine leak drill" in text
    assert not list(tmp_path.glob(".*tmp"))


def test_flood_lists_export_to_csv(panel, canvas, qtbot, tmp_path, monkeypatch):
    panel.load_scenario("river_flood")
    result = _run(qtbot, panel)
    assert BUILDINGS_KEY in canvas.highlights() and ROUTES_KEY not in canvas.highlights()
    panel.routes_check.setChecked(True)  # the walks to the shelters, on request
    assert ROUTES_KEY in canvas.highlights()
    panel.routes_check.setChecked(False)
    assert ROUTES_KEY not in canvas.highlights()
    busiest = max(a["assigned"] for a in result.summary["shelters"]["assignment"])
    assert panel.shelters_model.text(0, 1) == f"{busiest}"  # the busiest shelter on top
    entities = result.summary["legal_entities"]
    assert entities and panel.entities_model.rowCount() == len(entities)
    hazardous = [e["hazardous"] for e in entities]
    assert hazardous == sorted(hazardous, reverse=True)  # hazardous ones first
    assert hazardous[0] and panel.entities_model.text(0, 1) == "hazardous chemicals"
    assert panel.entities_model.text(0, 0) == entities[0]["name"]  # the view keeps that order
    suppressed = [i for i, e in enumerate(entities)
                  if f"legal_entities[{i}].employees" in result.summary["suppressed"]]
    if suppressed:
        assert panel.entities_model.text(suppressed[0], 2) == "<5"
    out = tmp_path / "notify.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    panel.export_entities_button.click()
    qtbot.waitUntil(lambda: panel.file_worker is None, timeout=30000)
    assert not panel.error_label.text()
    frame = pd.read_csv(out, dtype=str)
    assert list(frame["uscc"]) == [e["uscc"] for e in result.summary["legal_entities"]]
    facilities = tmp_path / "facilities.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(facilities), ""))
    panel.export_facilities_button.click()
    qtbot.waitUntil(lambda: panel.file_worker is None, timeout=30000)
    frame = pd.read_csv(facilities, dtype=str)
    n = sum(f["count"] for f in result.summary["facilities"].values())
    assert len(frame) == n and "layer" in frame.columns


def test_main_window_has_the_drills_panel_wired_to_the_canvas(qtbot, tmp_path):
    from gui.main_window import MainWindow
    from gui.settings import Settings

    settings = Settings(QSettings(str(tmp_path / "cf.ini"), QSettings.Format.IniFormat))
    w = MainWindow(None, lang="en", settings=settings)
    qtbot.addWidget(w)
    w.open_sample("small")
    assert isinstance(w.docks["Drills"].widget(), DrillsPanel)
    assert w.drills.canvas is w.canvas
    w.drills.place_button.click()
    assert w.canvas.tool() == "draw_point"
    assert w.tool_actions["draw_point"].isChecked()  # the toolbar follows the panel's tool
    w.canvas.geometryDrawn.emit(shapely.Point(np.mean(w.canvas.extent()[::2]),
                                              np.mean(w.canvas.extent()[1::2])))
    qtbot.waitUntil(lambda: FOOTPRINT_KEY in w.canvas.highlights(), timeout=5000)
    w.workspace = None
    w.canvas.cancel_render()


def test_pdf_and_interactive_map_are_written_in_the_worker(panel, qtbot, tmp_path):
    panel.load_scenario("river_flood")
    _run(qtbot, panel)
    pdf, page = tmp_path / "drill.pdf", tmp_path / "drill_map.html"
    for kind, path in (("pdf", pdf), ("map", page)):
        assert panel.write_output(kind, str(path)) is not None
        assert not panel.pdf_button.isEnabled()  # one file at a time
        qtbot.waitUntil(lambda: panel.file_worker is None, timeout=120000)
        assert not panel.error_label.text(), panel.error_label.toolTip()
    assert pdf.read_bytes().startswith(b"%PDF")
    assert "leaflet" in page.read_text("utf-8").lower()
    assert [e["detail"].get("output") for e in panel.workspace.audit_log()[-2:]] == ["pdf", "map"]


def test_a_layer_added_keeps_the_form(panel, small_ws):
    from layers.vector import VectorLayer

    panel.set_point(527500.0, 3387000.0, "EPSG:4547")
    panel.set_wind(300)
    panel.length_spin.setValue(1500)
    sites = small_ws.layer("hazardous_sites")
    small_ws.add_layer(VectorLayer("sites_copy", sites.data.copy(), sites.metadata))
    try:
        assert panel.wind_spin.value() == 300 and panel.length_spin.value() == 1500
        assert panel.scenario is not None and panel.scenario.hazard.point == (527500, 3387000)
        assert panel.shelter_layer_combo.currentData() == "shelters"
    finally:
        small_ws.remove_layer("sites_copy")


def test_buffer_around_every_feature_of_a_layer(panel, qtbot):
    panel.set_kind("buffer")
    i = panel.site_combo.findData("@layer:hazardous_sites")
    assert i > 0
    panel.site_combo.setCurrentIndex(i)
    panel.site_combo.activated.emit(i)
    assert panel.scenario is not None and panel.scenario.hazard.layer == "hazardous_sites"
    assert panel.scenario.hazard.point is None
    qtbot.waitUntil(lambda: panel.preview is not None, timeout=5000)
    assert list(panel.preview["order"]) == [0, 1]
    panel.set_kind("plume")  # a plume needs one point
    assert panel.scenario is None and "one point" in panel.hint_label.text()
    panel.set_point(527500.0, 3387000.0, "EPSG:4547")
    assert panel.scenario is not None and panel.site_combo.currentIndex() == 0


def test_needs_profile_is_editable_and_reaches_the_drill(panel, small_ws, monkeypatch):
    from gui.needs_dialog import NeedsDialog
    from spatial.drill import run_drill

    panel.load_scenario("chlorine_leak")

    def accept_with_more_water(dialog):
        assert dialog.spins["water_drinking"].value() == 3.0  # the cited default
        dialog.spins["water_drinking"].setValue(5.0)
        return NeedsDialog.DialogCode.Accepted

    monkeypatch.setattr(NeedsDialog, "exec", accept_with_more_water)
    assert panel.edit_needs()
    doc = panel.scenario_doc()
    assert doc["needs"] == {"overrides": {"water_drinking": 5.0}}
    s = run_drill(doc, small_ws.frames(), base_dir=small_ws.folder).summary
    water = next(i for i in s["needs"]["items"] if i["key"] == "water_drinking")
    assert water["quantity"] == pytest.approx(5.0 * s["shelters"]["displaced"])

    def reset(dialog):
        dialog.reset()
        return NeedsDialog.DialogCode.Accepted

    monkeypatch.setattr(NeedsDialog, "exec", reset)
    assert panel.edit_needs()
    assert "needs" not in panel.scenario_doc()  # back to the default profile


def test_a_drill_without_shelters_does_not_claim_everyone_is_unsheltered():
    summary = {"residents": 40, "age_0_14": 5, "age_15_64": 30, "age_65_plus": 5,
               "buildings": 3, "legal_entities": [], "facilities": {},
               "shelters": {"method": "none", "displaced": 40, "capacity": 0,
                            "unsheltered": 40, "longest_walk_m": None}}
    keys = [k for k, *_ in key_numbers(summary)]
    assert "shelters.displaced" in keys
    assert "shelters.unsheltered" not in keys and "shelters.capacity" not in keys
    summary["shelters"]["method"] = "road"
    assert "shelters.unsheltered" in [k for k, *_ in key_numbers(summary)]
