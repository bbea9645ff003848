"""The attribute table on a synthetic 1,000,000-row frame: lazy model, sort and
filter against pandas, selection shared both ways, export of the selection."""

from __future__ import annotations

import tracemalloc

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt

from gui.attribute_table import AttributeTable, FilterError, FrameTableModel
from layers.selection import Selection
from layers.table import TableLayer
from layers.vector import VectorLayer

pytestmark = pytest.mark.gui

N = 1_000_000


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    names = np.array(["Alpha road", "beta lane", "Gamma street", "delta", None], dtype=object)
    value = rng.random(N)
    value[rng.integers(0, N, 5000)] = np.nan
    frame = pd.DataFrame({
        "row_id": np.arange(N, dtype=np.int64),
        "name": pd.Series(names[rng.integers(0, len(names), N)]).astype("str"),
        "value": value,
        "floors": rng.integers(1, 30, N),
        "residents": rng.integers(0, 40, N),
    })
    return frame


def _col(model, name):
    return model.columns.index(name)


def _suppressed(series, threshold=5):
    return series.mask((series > 0) & (series < threshold))


def test_model_builds_without_per_row_objects(qtbot, big):
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        model = FrameTableModel(big)
        grown = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    # a per-row Python list (or a copy of one column) would be ≥ 8 MB
    assert grown < 1_000_000, f"building the model allocated {grown:,} bytes"
    assert model._arrays == {} and model._order is None  # nothing fetched yet
    assert model.rowCount() == N and model.columnCount() == 5

    c = _col(model, "row_id")
    assert model.index(N - 1, c).data() == str(N - 1)
    # a numeric column is the frame's own array (no copy)
    assert np.shares_memory(model.column_values(c), big["row_id"].to_numpy())
    assert set(model._arrays) == {c}  # only the column shown was touched
    name = _col(model, "name")
    v = big["name"].iat[123_456]
    assert model.index(123_456, name).data() == ("NULL" if pd.isna(v) else v)
    value = _col(model, "value")
    assert model.index(5, value).data() == f"{big['value'].iat[5]:.10g}"
    assert model.headerData(9, Qt.Orientation.Vertical) == "10"


def test_people_counts_are_suppressed(qtbot, big):
    model = FrameTableModel(big)
    assert model.is_people_column(_col(model, "residents"))
    r = _col(model, "residents")
    residents = big["residents"].to_numpy()
    for value, text in ((0, "0"), (3, "<5"), (4, "<5"), (5, "5"), (12, "12")):
        row = int(np.flatnonzero(residents == value)[0])
        assert model.index(row, r).data() == text
    # filtering cannot single out the suppressed counts
    model.set_filter("residents < 5")
    assert set(residents[model.display_order()]) == {0}


@pytest.mark.parametrize("column", ["value", "name", "floors", "residents"])
@pytest.mark.parametrize("ascending", [True, False])
def test_sort_gives_the_pandas_order(qtbot, big, column, ascending):
    model = FrameTableModel(big)
    order = Qt.SortOrder.AscendingOrder if ascending else Qt.SortOrder.DescendingOrder
    model.sort(_col(model, column), order)
    ref = big.copy() if column != "residents" else big.assign(
        residents=_suppressed(big["residents"]))
    expected = ref.sort_values(column, ascending=ascending, kind="stable",
                               na_position="last").index.to_numpy()
    assert np.array_equal(model.display_order(), expected)
    first = expected[0]
    assert model.index(0, _col(model, "row_id")).data() == str(first)
    model.sort(-1)
    assert model._order is None


@pytest.mark.parametrize("expression, reference", [
    ("value >= 0.5", lambda f: f["value"] >= 0.5),
    ("floors = 7", lambda f: f["floors"] == 7),
    ("floors <> 7", lambda f: f["floors"] != 7),
    ("name == 'beta lane'", lambda f: f["name"] == "beta lane"),
    ("name != delta", lambda f: (f["name"] != "delta") & f["name"].notna()),
    ("name contains STREET", lambda f: f["name"].str.contains("street", case=False,
                                                               na=False)),
    ("name < c", lambda f: (f["name"] < "c") & f["name"].notna()),
    ("value is null", lambda f: f["value"].isna()),
    ("name is not null", lambda f: f["name"].notna()),
    ("ALPHA", lambda f: f["name"].str.contains("alpha", case=False, na=False)),
    ("residents >= 5", lambda f: _suppressed(f["residents"]) >= 5),
])
def test_filter_gives_the_pandas_rows(qtbot, big, expression, reference):
    model = FrameTableModel(big)
    model.set_filter(expression)
    expected = np.flatnonzero(reference(big).fillna(False).to_numpy(dtype=bool))
    assert np.array_equal(model.display_order(), expected)
    assert model.rowCount() == len(expected)


def test_filter_and_sort_combine_and_bad_filters_are_reported(qtbot, big):
    model = FrameTableModel(big)
    model.sort(_col(model, "value"), Qt.SortOrder.DescendingOrder)
    model.set_filter("floors > 25")
    ref = big[big["floors"] > 25].sort_values("value", ascending=False, kind="stable")
    assert np.array_equal(model.display_order(), ref.index.to_numpy())
    with pytest.raises(FilterError, match="unknown column 'nosuch'"):
        model.set_filter("nosuch > 3")
    with pytest.raises(FilterError, match="holds numbers"):
        model.set_filter("floors > many")
    assert np.array_equal(model.display_order(), ref.index.to_numpy())  # kept
    model.set_filter("")
    assert model.rowCount() == N


def _view_rows(table):
    return table.selected_rows().tolist()


def test_selection_sync_both_ways(qtbot, big):
    layer = TableLayer("synthetic", big)
    sel = Selection()
    events = []
    sel.events.changed.connect(events.append)
    table = AttributeTable(layer, sel)
    qtbot.addWidget(table)
    table.sort_by("value", ascending=False)

    # view -> Selection: display rows 10..12 of the sorted table
    model = table.model
    qsel = QItemSelection(model.index(10, 0), model.index(12, model.columnCount() - 1))
    table.view.selectionModel().select(qsel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    expected = sorted(model.source_rows([10, 11, 12]).tolist())
    assert sel.rows("synthetic").tolist() == expected
    assert events == ["synthetic"]  # one change, no echo

    # Selection -> view (the map selected something)
    events.clear()
    sel.select("synthetic", [5, 42, N - 1])
    assert events == ["synthetic"]
    assert _view_rows(table) == [5, 42, N - 1]
    assert sel.rows("synthetic").tolist() == [5, 42, N - 1]
    assert "3 selected" in table.status.text()

    # a filter hides a selected row: the shared selection keeps it
    assert table.set_filter("row_id != 42")
    assert sel.rows("synthetic").tolist() == [5, 42, N - 1]
    assert _view_rows(table) == [5, N - 1]
    assert not table.set_filter("row_id >")  # a bad filter shows its message
    assert "missing" in table.message.text()

    # selected only
    table.set_filter("")
    table.selected_only.setChecked(True)
    assert model.rowCount() == 3
    sel.select("synthetic", [7], mode="add")
    assert model.rowCount() == 4 and _view_rows(table) == [5, 7, 42, N - 1]
    table.selected_only.setChecked(False)

    # select all in the view
    table.view.selectAll()
    assert sel.count("synthetic") == N
    sel.clear("synthetic")
    assert _view_rows(table) == []


def test_zoom_to_selected_and_export_selection(qtbot, big, tmp_path):
    layer = TableLayer("synthetic", big)
    sel = Selection()
    table = AttributeTable(layer, sel)
    qtbot.addWidget(table)
    residents = big["residents"].to_numpy()
    rows = [int(np.flatnonzero(residents == 3)[0]), int(np.flatnonzero(residents == 0)[0]),
            int(np.flatnonzero(residents == 30)[0])]
    sel.select("synthetic", rows)
    want = sorted(rows)

    with qtbot.waitSignal(table.zoomToRows) as blocker:
        table.zoom_to_selected()
    assert blocker.args[0] == "synthetic" and blocker.args[1].tolist() == want

    out = table.export_selection(tmp_path / "picked.csv")
    back = pd.read_csv(out)
    assert back["row_id"].tolist() == want
    by_id = dict(zip(back["row_id"], back["residents"]))
    assert pd.isna(by_id[rows[0]]) and by_id[rows[1]] == 0 and by_id[rows[2]] == 30
    sel.clear("synthetic")
    with pytest.raises(ValueError):
        table.export_selection(tmp_path / "nothing.csv")
    assert not (tmp_path / "nothing.csv").exists()


def test_export_vector_selection_to_geopackage_is_logged(qtbot, tmp_path):
    from layers.workspace import Workspace
    from sample_data.catalogue import sample_path

    ws = Workspace.open(sample_path("small"), read_only=True)
    layer = ws.layer("schools")
    assert isinstance(layer, VectorLayer)
    sel = Selection()
    table = AttributeTable(layer, sel, workspace=ws)
    qtbot.addWidget(table)
    sel.select("schools", [0, 3])
    out = table.export_selection(tmp_path / "schools.gpkg")
    back = gpd.read_file(out)
    assert len(back) == 2 and back.crs == layer.crs
    assert back.iloc[:, 0].tolist() == layer.data.iloc[[0, 3], 0].tolist()
    entry = ws.audit_log()[-1]
    assert entry["action"] == "export" and entry["detail"]["rows"] == 2
    ws.close()
