"""The window answers while the map renders the 1,000,000-building metro city (issue 4,
item 10).  The city is generated in memory (about 30 s, 2.5 GB), not read from disk; speed
itself is measured by benchmarks/render.py, this test only checks that the UI thread keeps
running its slots during the first render and during a re-render after a zoom."""

from __future__ import annotations

import geopandas as gpd
import pytest
from PySide6.QtCore import QTimer

from gui.canvas import MapCanvas
from layers.vector import VectorLayer
from layers.workspace import Workspace
from sample_data.generator import LAYER_INFO, generate_city

pytestmark = pytest.mark.gui

METRO_BUILDINGS = 1_000_000


@pytest.fixture(scope="module")
def metro():
    city = generate_city(METRO_BUILDINGS, seed=1)
    ws = Workspace()
    for name in reversed(list(LAYER_INFO)):  # bottom first, as write_city does
        frame = city.layers.get(name)
        if isinstance(frame, gpd.GeoDataFrame):
            ws.add_layer(VectorLayer(name, frame, city.metadata.get(name),
                                     visible=LAYER_INFO[name][4]))
    yield ws
    ws.close()


def test_window_answers_while_the_metro_city_renders(qtbot, metro):
    assert len(metro.layer("buildings").data) == METRO_BUILDINGS
    c = MapCanvas()
    c.resize(1600, 1000)
    qtbot.addWidget(c)
    c.show()
    ticks = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    try:
        with qtbot.waitSignal(c.renderFinished, timeout=120000):
            c.set_workspace(metro)  # first frame: a million buildings prepared and drawn
        assert len(ticks) >= 3, "the UI thread kept running slots while the city rendered"
        for factor in (4.0, 8.0):  # a district, then streets: other levels of detail
            before = len(ticks)
            with qtbot.waitSignal(c.renderFinished, timeout=60000):
                c.zoom_by(factor)
                c.refresh()
            qtbot.wait(20)
            assert len(ticks) > before
    finally:
        timer.stop()
        c.set_workspace(None)
        c.shutdown()
