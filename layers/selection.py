"""Which features are selected, per layer: a Qt-free evented model shared by the
map canvas, the attribute table and the tools, so a selection made in one shows
in the others.

Rows are positional indices (0-based) into the layer's data, kept as sorted,
unique ``int64`` numpy arrays: a million selected rows cost 8 MB, not a million
Python objects.

Examples
--------
>>> sel = Selection()
>>> seen = []
>>> _ = sel.events.changed.connect(seen.append)
>>> sel.select("schools", [3, 1, 3])
>>> sel.rows("schools").tolist()
[1, 3]
>>> sel.select("schools", [3, 7], mode="toggle")
>>> sel.rows("schools").tolist(), seen
([1, 7], ['schools', 'schools'])
"""

from __future__ import annotations

import numpy as np
from psygnal import Signal, SignalGroup

__all__ = ["Selection", "SELECTION_MODES"]

SELECTION_MODES = ("replace", "add", "remove", "toggle")
_EMPTY = np.empty(0, dtype=np.int64)


class SelectionEvents(SignalGroup):
    changed = Signal(str)  # layer name


class Selection:
    """Selected rows per layer.

    Events
    ------
    changed(layer_name)
        After the selection of ``layer_name`` changed (never for a no-op).
    """

    def __init__(self) -> None:
        self.events = SelectionEvents()
        self._rows: dict[str, np.ndarray] = {}

    def rows(self, layer: str) -> np.ndarray:
        """The selected rows of ``layer`` (sorted, unique; empty if none)."""
        return self._rows.get(layer, _EMPTY)

    def count(self, layer: str) -> int:
        return len(self.rows(layer))

    def layers(self) -> list[str]:
        """Layers with at least one selected feature."""
        return [name for name, rows in self._rows.items() if len(rows)]

    def select(self, layer: str, rows, mode: str = "replace") -> None:
        """Change the selection of ``layer`` by ``rows`` with ``mode``
        (``replace``, ``add`` — shift-click, ``remove`` — ctrl-click, ``toggle``)."""
        if mode not in SELECTION_MODES:
            raise ValueError(f"mode must be one of {', '.join(SELECTION_MODES)}, got {mode!r}")
        new = np.unique(np.asarray(rows, dtype=np.int64).ravel())
        if len(new) and new[0] < 0:
            raise ValueError(f"row indices must be >= 0, got {int(new[0])}")
        old = self.rows(layer)
        if mode == "add":
            new = np.union1d(old, new)
        elif mode == "remove":
            new = np.setdiff1d(old, new, assume_unique=True)
        elif mode == "toggle":
            new = np.setxor1d(old, new, assume_unique=True)
        if np.array_equal(new, old):
            return
        self._rows[layer] = new
        self.events.changed.emit(layer)

    def clear(self, layer: str | None = None) -> None:
        """Clear one layer's selection, or every layer's."""
        names = [layer] if layer is not None else self.layers()
        for name in names:
            if len(self.rows(name)):
                self._rows[name] = _EMPTY
                self.events.changed.emit(name)

    def forget(self, layer: str) -> None:
        """Drop ``layer`` (it was removed or its data replaced)."""
        if self._rows.pop(layer, None) is not None:
            self.events.changed.emit(layer)
