import numpy as np
import pytest

from layers.selection import Selection


def test_modes_and_events():
    sel, seen = Selection(), []
    sel.events.changed.connect(seen.append)
    sel.select("b", [5, 2, 2])
    sel.select("b", [7], mode="add")
    sel.select("b", [2], mode="remove")
    sel.select("b", [5, 9], mode="toggle")
    assert sel.rows("b").tolist() == [7, 9] and sel.rows("b").dtype == np.int64
    sel.select("b", [9, 7])  # same set: no event
    assert seen == ["b"] * 4
    sel.clear()
    assert sel.count("b") == 0 and sel.layers() == [] and seen[-1] == "b"


def test_large_selection_is_an_array_and_bad_input_raises():
    sel = Selection()
    sel.select("buildings", np.arange(1_000_000))
    assert sel.count("buildings") == 1_000_000
    with pytest.raises(ValueError, match="mode must be one of"):
        sel.select("b", [1], mode="xor")
    with pytest.raises(ValueError, match=">= 0"):
        sel.select("b", [-1])
