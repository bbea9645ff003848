"""Opening a workspace: the canvas prepares the visible layers before the first
frame is asked for (while the window builds its panels)."""

from __future__ import annotations

import pytest

from gui.canvas import MapCanvas
from layers.vector import VectorLayer
from layers.workspace import Workspace
from sample_data.catalogue import sample_path

pytestmark = pytest.mark.gui


def test_canvas_prepares_visible_layers_before_the_first_frame(qtbot):
    ws = Workspace.open(sample_path("small"), read_only=True)
    canvas = MapCanvas()
    qtbot.addWidget(canvas)
    try:
        canvas.set_workspace(ws)  # not shown: no frame can be drawn yet
        layers = [lay for lay in ws.registry if isinstance(lay, VectorLayer) and lay.visible]
        entries = [canvas._entry(lay) for lay in layers]
        qtbot.waitUntil(lambda: all(e.ready for e in entries), timeout=20000)
        qtbot.waitUntil(lambda: all(e._styled is not None for e in entries), timeout=20000)
        hidden = [lay for lay in ws.registry if isinstance(lay, VectorLayer) and not lay.visible]
        assert hidden and not canvas._entry(hidden[0]).ready  # only what the map shows
    finally:
        canvas.shutdown()
        ws.close()


def test_arrow_text_categories_match_the_pandas_lookup():
    import numpy as np
    import pandas as pd

    from gui.canvas.symbols import _arrow_categories
    from spatial.render_prep import classify_categories

    keys = ["residential", "public", "mixed"]
    values = pd.Series(["mixed", None, "industrial", "residential", "public", "mixed"] * 1000,
                       dtype="string[pyarrow]")
    fast = _arrow_categories(values, keys)
    assert fast is not None and fast.dtype == np.int32
    assert np.array_equal(fast, classify_categories(values, keys))
    assert fast[:6].tolist() == [2, 3, 3, 0, 1, 2]  # nulls and unlisted values: the default
    assert _arrow_categories(values.astype(object), keys) is None  # not Arrow: pandas path
    assert _arrow_categories(pd.Series([1, 2]), [1]) is None
