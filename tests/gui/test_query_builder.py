"""The query builder and the Results panel, driven through their widgets (offscreen).

The form is filled the way a user fills it (pick in combo boxes, tick values,
type a distance), then checked against the model: the previewed sentence, the
query document, the engine's own answer, the workspace (saved queries,
registry, audit log).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLabel, QMessageBox

from gui import query_builder as qb_module
from gui.query_builder import ListEditor, QueryBuilder, ScalarEditor, engine_holder
from gui.results_panel import ResultsPanel
from layers.style import GraduatedStyle
from layers.workspace import Workspace
from sample_data.catalogue import sample_path
from spatial.errors import Canceled
from spatial.query.engine import QueryEngine
from spatial.query.model import catalog_from_frames, parse_query, query_to_dict

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "sample_data" / "queries" / "small" / "schools_near_hazardous_chemicals.json"
SENTENCES = {
    "en": "Schools whose level is primary or middle, within 1,000 m of a legal entity whose "
          "hazard class is hazardous chemicals",
    "zh": "危险化学品法人单位1,000米范围内、学段为小学或初中的中小学校",
}


@pytest.fixture
def ws():
    workspace = Workspace.open(sample_path("small"), read_only=True)
    yield workspace
    workspace.close()


@pytest.fixture
def builder(qtbot, ws):
    widget = QueryBuilder(ws, lang="en")
    qtbot.addWidget(widget)
    return widget


def pick(combo: QComboBox, value) -> None:
    """Choose the item whose data is ``value``, as a user would."""
    i = combo.findData(value)
    assert i >= 0, f"{value!r} is not offered in {[combo.itemData(j) for j in range(combo.count())]}"
    combo.setCurrentIndex(i)


def build_schools_near_hazards(b: QueryBuilder) -> None:
    """Primary and middle schools within 1 km of a hazardous-chemical legal entity."""
    pick(b.target_combo, "schools")
    b.where_list.add_button.click()
    row = b.where_list.rows[-1]
    pick(row.column_combo, "level")
    pick(row.op_combo, "in")
    values = row.value_editor.parts[0]
    assert isinstance(values, ListEditor) and values.choices == ["high", "middle", "primary"]
    values.item_for("primary").setCheckState(Qt.CheckState.Checked)
    values.item_for("middle").setCheckState(Qt.CheckState.Checked)
    b.relation_box.setChecked(True)
    pick(b.kind_combo, "within_distance")
    pick(b.relation_layer_combo, "legal_entities")
    b.distance_spin.setValue(1000)
    b.reference_where.add_button.click()
    ref = b.reference_where.rows[-1]
    pick(ref.column_combo, "hazard_class")
    pick(ref.op_combo, "=")
    picker = ref.value_editor.parts[0].editor
    assert isinstance(picker, QComboBox)  # a value picker: few distinct values
    pick(picker, "hazardous_chemicals")


def without_title(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "title"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_form_builds_the_example_query_with_a_live_sentence(qtbot, ws, lang):
    b = QueryBuilder(ws, lang=lang)
    qtbot.addWidget(b)
    seen = []
    b.queryChanged.connect(lambda: seen.append(b.sentence_label.text()))
    build_schools_near_hazards(b)
    assert b.error() is None and not b.error_label.isVisibleTo(b)
    assert b.sentence_label.text() == SENTENCES[lang]
    assert len(set(seen)) > 3, "the sentence follows the form as it changes"
    catalog = catalog_from_frames(ws.frames())
    expected = parse_query(EXAMPLE, catalog=catalog)
    assert b.query() == expected  # titles aside, the same query
    assert without_title(query_to_dict(b.query())) == without_title(query_to_dict(expected))
    assert b.document()["relation"]["distance_m"] == 1000  # a number, never text
    assert isinstance(b.distance_spin, QDoubleSpinBox)
    assert b.run_button.isEnabled()


def test_value_editors_follow_the_column_kind_and_operator(builder):
    b = builder
    b.where_list.add_button.click()
    row = b.where_list.rows[-1]
    pick(row.column_combo, "pupils")  # int
    assert [row.op_combo.itemData(i) for i in range(row.op_combo.count())][:2] == ["=", "!="]
    assert "contains" not in [row.op_combo.itemData(i) for i in range(row.op_combo.count())]
    editor = row.value_editor.parts[0]
    assert isinstance(editor, ScalarEditor) and isinstance(editor.editor, QDoubleSpinBox)
    editor.editor.setValue(500)
    assert row.to_doc() == {"column": "pupils", "op": "=", "value": 500}
    pick(row.op_combo, "between")
    low, _and, high = row.value_editor.parts
    low.editor.setValue(300)
    high.editor.setValue(800)
    assert row.to_doc() == {"column": "pupils", "op": "between", "value": [300, 800]}
    pick(row.op_combo, "is_null")
    assert row.to_doc() == {"column": "pupils", "op": "is_null"}
    assert isinstance(row.value_editor.parts[0], QLabel)  # no value to enter
    pick(row.column_combo, "name")  # many distinct texts: free text
    pick(row.op_combo, "contains")
    row.value_editor.parts[0].editor.setText("小学")
    assert row.to_doc() == {"column": "name", "op": "contains", "value": "小学"}
    # an OR group
    b.where_list.add_group_button.click()
    group = b.where_list.rows[-1]
    first, second = group.members.rows
    pick(first.column_combo, "level")
    pick(first.value_editor.parts[0].editor, "high")
    pick(second.column_combo, "pupils")
    pick(second.op_combo, ">")
    second.value_editor.parts[0].editor.setValue(1000)
    assert b.document()["where"][-1] == {"any": [
        {"column": "level", "op": "=", "value": "high"},
        {"column": "pupils", "op": ">", "value": 1000}]}
    assert b.error() is None
    assert "either" in b.sentence_label.text()


def test_negative_distance_shows_the_model_error_and_disables_run(builder):
    b = builder
    build_schools_near_hazards(b)
    assert b.run_button.isEnabled()
    b.distance_spin.setValue(-5)
    assert b.error() is not None and b.error().key == "relation.distance_m"
    assert b.error_label.isVisibleTo(b)
    assert "relation.distance_m" in b.error_label.text() and "negative" in b.error_label.text()
    assert not b.run_button.isEnabled() and not b.save_button.isEnabled()
    assert b.run() is False
    b.distance_spin.setValue(750)
    assert b.error() is None and b.run_button.isEnabled()
    assert "750 m" in b.sentence_label.text()


def test_run_emits_the_engines_answer_and_logs_it(qtbot, ws, builder):
    b = builder
    build_schools_near_hazards(b)
    with qtbot.waitSignal(b.resultReady, timeout=20000) as blocker:
        b.run_button.click()
        assert b.running and b.cancel_button.isEnabled() and not b.run_button.isEnabled()
    query, result = blocker.args[0]
    assert query == b.query()
    engine = QueryEngine(ws.frames(), saved=dict(ws.saved_queries))
    expected = engine.run(parse_query(EXAMPLE, catalog=engine.catalog))
    assert result.data["school_id"].tolist() == expected.data["school_id"].tolist()
    assert result.matched == expected.matched > 0
    assert not b.running and b.run_button.isEnabled() and not b.cancel_button.isEnabled()
    assert b.progress.value() == 100
    entry = ws.audit_log()[-1]
    assert entry["action"] == "query"
    assert entry["detail"]["query"] == query_to_dict(query)
    assert entry["detail"]["matched"] == result.matched
    assert b.history[-1]["status"] == "done" and b.history_list.count() == 1


def test_results_panel_table_layer_and_export(qtbot, ws, builder, tmp_path):
    b = builder
    build_schools_near_hazards(b)
    with qtbot.waitSignal(b.resultReady, timeout=20000) as blocker:
        b.run()
    query, result = blocker.args[0]
    panel = ResultsPanel(ws, lang="en")
    qtbot.addWidget(panel)
    panel.show_result(query, result)
    model = panel.model
    assert model.rowCount() == len(result.data)
    assert "geometry" not in model.columns and "school_id" in model.columns
    col = model.columns.index("school_id")
    assert [model.text(r, col) for r in range(model.rowCount())] == \
        result.data["school_id"].tolist()
    assert panel.sentence_label.text() == SENTENCES["en"]
    assert f"{result.matched} matched" in panel.counts_label.text()
    assert panel.add_layer_button.isEnabled() and not panel.tabs.isTabEnabled(1)

    with qtbot.waitSignal(panel.layerAdded, timeout=5000) as added:
        panel.add_layer_button.click()
    name = added.args[0]
    layer = ws.layer(name)
    assert layer.metadata.department == "results"
    assert layer.metadata.extra["query"] == query_to_dict(query)
    assert layer.feature_count == result.matched
    assert layer.data["school_id"].tolist() == result.data["school_id"].tolist()
    # the builder hears of the new layer and offers it (e.g. as a target)
    qtbot.waitUntil(lambda: b.target_combo.findData(name) >= 0, timeout=5000)
    assert b.document()["relation"]["layer"] == "legal_entities"  # the form is kept

    out = panel.export_to(tmp_path / "schools.gpkg")
    assert out.exists()
    assert ws.audit_log()[-1]["action"] == "export"


def test_grouped_query_charts_one_bar_per_zone_with_matches(qtbot, ws, builder):
    b = builder
    assert b.load_saved("schools_near_hazards")  # grouped by community, count + sum
    assert b.group_box.isChecked() and b.zone_combo.currentData() == "communities"
    assert b.document() == ws.saved_queries["schools_near_hazards"]
    with qtbot.waitSignal(b.resultReady, timeout=20000) as blocker:
        b.run()
    query, result = blocker.args[0]
    panel = ResultsPanel(ws, lang="zh")
    qtbot.addWidget(panel)
    panel.show_result(query, result)
    assert panel.tabs.isTabEnabled(1)
    with_matches = result.data[result.data["schools"] > 0]
    assert 0 < len(with_matches) < len(result.data)
    assert panel.chart.bar_count() == len(with_matches)
    assert panel.chart.values() == [float(v) for v in with_matches["schools"]]
    names = ws.layer("communities").data.set_index("community_id")["name"]
    assert panel.chart.labels() == [names[k] for k in with_matches["community_id"]]
    pick(panel.chart_column, "pupils")
    assert panel.chart.values() == [float(v) for v in with_matches["pupils"]]
    layer = panel.add_as_layer()
    assert layer.feature_count == len(result.data)  # every zone
    assert isinstance(layer.style, GraduatedStyle) and layer.style.column == "schools"
    assert layer.geometry_type in ("Polygon", "MultiPolygon")


def test_people_counts_are_suppressed_in_table_layer_and_export(qtbot, ws, builder, tmp_path):
    b = builder
    pick(b.target_combo, "buildings")
    b.where_list.add_button.click()
    row = b.where_list.rows[-1]
    pick(row.column_combo, "residents")
    pick(row.op_combo, "between")
    row.value_editor.parts[0].editor.setValue(1)
    row.value_editor.parts[2].editor.setValue(4)
    with qtbot.waitSignal(b.resultReady, timeout=20000) as blocker:
        b.run()
    query, result = blocker.args[0]
    assert result.matched > 0 and result.data["residents"].between(1, 4).all()
    panel = ResultsPanel(ws)
    qtbot.addWidget(panel)
    panel.show_result(query, result)
    col = panel.model.columns.index("residents")
    assert {panel.model.text(r, col) for r in range(panel.model.rowCount())} == {"<5"}
    assert panel.frame["residents"].isna().all()  # what Add as layer and Export write
    assert panel.add_as_layer().data["residents"].isna().all()
    with qtbot.waitSignal(panel.exported, timeout=20000) as written:
        panel.export_in_background(tmp_path / "small_homes.csv")
    exported = pd.read_csv(written.args[0])
    assert len(exported) == result.matched and exported["residents"].isna().all()
    # sorting the table keeps the suppression with its row
    col_id = panel.model.columns.index("building_id")
    panel.model.sort(col_id, Qt.SortOrder.DescendingOrder)
    ids = [panel.model.text(r, col_id) for r in range(panel.model.rowCount())]
    assert ids == sorted(result.data["building_id"], reverse=True)
    assert panel.model.text(0, col) == "<5"


class SlowEngine:
    """Runs "forever" unless cancelled; checks its feedback between steps."""

    def __init__(self):
        self.started = threading.Event()
        self.stopped = threading.Event()

    def run(self, query, feedback=None):
        self.started.set()
        try:
            for i in range(3000):
                feedback.set_progress(i / 30)
                feedback.check()
                time.sleep(0.005)
        except Canceled:
            self.stopped.set()
            raise


def test_cancel_stops_a_long_query_and_the_ui_stays_usable(qtbot, ws):
    engine = SlowEngine()
    b = QueryBuilder(ws, engine_factory=lambda _ws: engine)
    qtbot.addWidget(b)
    results = []
    b.resultReady.connect(results.append)
    build_schools_near_hazards(b)
    b.run_button.click()
    assert engine.started.wait(5)
    qtbot.waitUntil(lambda: b.progress.value() > 0, timeout=5000)
    with qtbot.waitSignal(b.runStateChanged, timeout=5000) as ended:
        b.cancel_button.click()
        assert not b.cancel_button.isEnabled()
    assert ended.args == [False]
    assert engine.stopped.is_set(), "the engine itself stopped"
    qtbot.wait(50)
    assert results == []
    assert not b.running and b.run_button.isEnabled() and not b.cancel_button.isEnabled()
    assert b.history[-1]["status"] == "cancelled"
    assert not [e for e in ws.audit_log() if e["action"] == "query"]
    b.distance_spin.setValue(300)  # still editable
    assert "300 m" in b.sentence_label.text()


def test_save_and_load_through_the_workspace_and_files(qtbot, ws, builder, monkeypatch,
                                                       tmp_path):
    b = builder
    build_schools_near_hazards(b)
    b.title_edit.setText("Schools near chemicals")
    doc = b.document()
    monkeypatch.setattr(qb_module.QInputDialog, "getText",
                        lambda *a, **k: ("near_chemicals", True))
    assert b.save_to_workspace() == "near_chemicals"
    assert ws.saved_queries["near_chemicals"] == query_to_dict(b.query())
    assert ws.saved_queries["near_chemicals"]["title"] == {"en": "Schools near chemicals"}
    assert b.target_combo.findData("query:near_chemicals") >= 0  # chaining
    assert b.saved_combo.currentData() == "near_chemicals"

    # saving again under the same name asks first
    b.distance_spin.setValue(500)
    monkeypatch.setattr(qb_module.QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.No)
    assert b.save_to_workspace("near_chemicals") is None
    assert ws.saved_queries["near_chemicals"]["relation"]["distance_m"] == 1000
    monkeypatch.setattr(qb_module.QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert b.save_to_workspace("near_chemicals") == "near_chemicals"
    assert ws.saved_queries["near_chemicals"]["relation"]["distance_m"] == 500

    # load it back into a changed form
    b.relation_box.setChecked(False)
    b.where_list.clear()
    pick(b.target_combo, "hospitals")
    assert b.load_saved("near_chemicals")
    assert b.document() == {**doc, "relation": {**doc["relation"], "distance_m": 500}}

    # a chained query on the saved one
    pick(b.target_combo, "query:near_chemicals")
    b.where_list.clear()
    b.relation_box.setChecked(False)
    assert b.error() is None
    assert b.sentence_label.text() == "Features in the result of saved query 'Schools near chemicals'"

    # files
    assert b.load_saved("near_chemicals")
    path = b.save_file(tmp_path / "near.json")
    assert json.loads(path.read_text(encoding="utf-8")) == ws.saved_queries["near_chemicals"]
    pick(b.target_combo, "hospitals")
    assert b.open_file(EXAMPLE)
    assert without_title(b.document()) == without_title(json.loads(EXAMPLE.read_text("utf-8")))
    assert b.document()["title"]["en"] == json.loads(EXAMPLE.read_text("utf-8"))["title"]["en"]


def test_history_click_reloads_a_query(qtbot, ws, builder):
    b = builder
    build_schools_near_hazards(b)
    first = b.document()
    with qtbot.waitSignal(b.resultReady, timeout=20000):
        b.run()
    b.distance_spin.setValue(250)
    b.relation_box.setChecked(False)
    pick(b.target_combo, "hospitals")
    with qtbot.waitSignal(b.resultReady, timeout=20000):
        b.run()
    assert b.history_list.count() == 2  # newest first
    item = b.history_list.item(1)
    assert SENTENCES["en"] in item.text()
    b.show()
    rect = b.history_list.visualItemRect(item)
    qtbot.mouseClick(b.history_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert b.document() == first
    # a builder made again (e.g. after a language switch) shares the session's history
    again = QueryBuilder(ws, lang="zh")
    qtbot.addWidget(again)
    assert again.history_list.count() == 2
    assert SENTENCES["zh"] in again.history_list.item(1).text()


def test_one_engine_per_workspace_invalidated_when_layer_data_changes(qtbot, ws, builder):
    b = builder
    other = QueryBuilder(ws)
    qtbot.addWidget(other)
    assert other.holder is b.holder is engine_holder(ws)
    build_schools_near_hazards(b)
    with qtbot.waitSignal(b.resultReady, timeout=20000) as first:
        b.run()
    engine = b.holder.engine()
    ids = first.args[0][1].data["school_id"].tolist()
    schools = ws.layer("schools")
    schools.data = schools.data[schools.data["school_id"] != ids[0]]  # registry "changed"
    with qtbot.waitSignal(b.resultReady, timeout=20000) as second:
        b.run()
    assert b.holder.engine() is engine, "the same engine, its caches kept for other layers"
    assert second.args[0][1].data["school_id"].tolist() == ids[1:]



