"""The ordered, evented list of a workspace's layers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from psygnal import Signal, SignalGroup

from .base import Layer

__all__ = ["LayerRegistry", "RegistryEvents"]


class RegistryEvents(SignalGroup):
    """Events of a :class:`LayerRegistry` (see its docstring)."""

    added = Signal(object, int)
    removed = Signal(object, int)
    reordered = Signal()
    visibility = Signal(object, bool)
    style = Signal(object)
    changed = Signal(object, str)
    active = Signal(object)


class LayerRegistry:
    """The layers of a workspace in drawing order, with unique names.

    Index 0 is the top of the drawing order (drawn last, listed first in the
    layer tree).  Names are unique ignoring case, because they are GeoPackage
    table names.  Renaming a layer to a name already in use raises ``ValueError``.

    Events (``registry.events.<name>``, plain-Python psygnal signals):

    ============  =================  ==============================================
    event         arguments          emitted when
    ============  =================  ==============================================
    added         (layer, index)     a layer was inserted at ``index``
    removed       (layer, index)     a layer was removed from ``index``
    reordered     ()                 :meth:`move` changed the order
    visibility    (layer, visible)   a layer was shown or hidden
    style         (layer,)           a layer's style was replaced or edited
    changed       (layer, what)      another layer property changed: ``"name"``,
                                     ``"opacity"``, ``"metadata"`` or ``"data"``
    active        (layer or None)    the active (selected) layer changed
    ============  =================  ==============================================

    Examples
    --------
    >>> import pandas as pd
    >>> from layers.table import TableLayer
    >>> reg = LayerRegistry()
    >>> seen = []
    >>> _ = reg.events.added.connect(lambda layer, i: seen.append((layer.name, i)))
    >>> reg.add(TableLayer("population", pd.DataFrame({"building_id": []})))
    >>> seen
    [('population', 0)]
    """

    def __init__(self) -> None:
        self.events = RegistryEvents(self)
        self._layers: list[Layer] = []
        self._forwarders: dict[int, Any] = {}
        self._active: Layer | None = None

    # -- container protocol
    def __len__(self) -> int:
        return len(self._layers)

    def __iter__(self) -> Iterator[Layer]:
        return iter(list(self._layers))

    def __contains__(self, item: str | Layer) -> bool:
        if isinstance(item, Layer):
            return any(layer is item for layer in self._layers)
        return any(layer.name == item for layer in self._layers)

    def __getitem__(self, key: str | int) -> Layer:
        """A layer by name, or by position (0 = top)."""
        if isinstance(key, int):
            return self._layers[key]
        for layer in self._layers:
            if layer.name == key:
                return layer
        raise KeyError(f"no layer named {key!r}; layers: {', '.join(self.names()) or '(none)'}")

    def get(self, name: str, default: Layer | None = None) -> Layer | None:
        """The layer called ``name``, or ``default``."""
        return self[name] if name in self else default

    def names(self) -> list[str]:
        """Layer names, top first."""
        return [layer.name for layer in self._layers]

    def index(self, name: str | Layer) -> int:
        """Position of a layer (by name or object); ``KeyError`` if absent."""
        for i, layer in enumerate(self._layers):
            if layer is name or layer.name == name:
                return i
        raise KeyError(f"no layer named {getattr(name, 'name', name)!r}")

    def __repr__(self) -> str:
        return f"LayerRegistry({self.names()!r})"

    # -- editing
    def _check_unique(self, name: str, ignore: Layer | None = None) -> None:
        lowered = name.lower()
        for layer in self._layers:
            if layer is not ignore and layer.name.lower() == lowered:
                raise ValueError(
                    f"a layer named {layer.name!r} already exists; layer names must be "
                    "unique (ignoring case)"
                )

    def add(self, layer: Layer, index: int | None = None) -> None:
        """Insert ``layer`` at ``index`` (default 0, the top); emits ``added``.

        Raises
        ------
        TypeError
            If ``layer`` is not a Layer.
        ValueError
            If a layer of the same name (ignoring case) is present, or the
            layer object is already in the registry.
        """
        if not isinstance(layer, Layer):
            raise TypeError(f"expected a Layer, got {type(layer).__name__}")
        if layer in self:
            raise ValueError(f"layer {layer.name!r} is already in the registry")
        self._check_unique(layer.name)
        n = len(self._layers)
        if index is None:
            index = 0
        elif not -n - 1 <= index <= n:
            raise IndexError(f"index {index} out of range for {n} layers")
        elif index < 0:
            index += n + 1
        self._layers.insert(index, layer)
        self._connect(layer)
        self.events.added.emit(layer, index)

    def remove(self, name: str | Layer) -> Layer:
        """Remove a layer (by name or object) and return it; emits ``removed``."""
        index = self.index(name)
        layer = self._layers.pop(index)
        self._disconnect(layer)
        if layer is self._active:
            self.active = None
        self.events.removed.emit(layer, index)
        return layer

    def move(self, name: str | Layer, new_index: int) -> None:
        """Move a layer to ``new_index`` (negative counts from the bottom); emits
        ``reordered`` when its position changes."""
        index = self.index(name)
        n = len(self._layers)
        if not -n <= new_index < n:
            raise IndexError(f"new_index {new_index} out of range for {n} layers")
        new_index %= n
        if new_index == index:
            return
        layer = self._layers.pop(index)
        self._layers.insert(new_index, layer)
        self.events.reordered.emit()

    def clear(self) -> None:
        """Remove every layer (one ``removed`` event each, bottom first)."""
        for layer in reversed(self._layers[:]):
            self.remove(layer)

    # -- grouping and selection
    def by_department(self) -> dict[str, list[Layer]]:
        """Layers grouped by ``metadata.department``, departments in order of first
        appearance (top first), layers in drawing order within each."""
        groups: dict[str, list[Layer]] = {}
        for layer in self._layers:
            groups.setdefault(layer.department, []).append(layer)
        return groups

    @property
    def active(self) -> Layer | None:
        """The active (selected) layer, or ``None``; set a Layer, a name or ``None``."""
        return self._active

    @active.setter
    def active(self, value: Layer | str | None) -> None:
        if value is not None:
            if isinstance(value, str):
                value = self[value]
            elif value not in self:
                raise ValueError(f"layer {value.name!r} is not in the registry")
        if value is not self._active:
            self._active = value
            self.events.active.emit(value)

    # -- forwarding layer events
    def _connect(self, layer: Layer) -> None:
        def guard(lay: Layer, new_name: str) -> None:
            self._check_unique(new_name, ignore=lay)

        def forward(info) -> None:
            what = info.signal.name
            if what == "visible":
                self.events.visibility.emit(layer, info.args[0])
            elif what == "style":
                self.events.style.emit(layer)
            else:
                self.events.changed.emit(layer, what)

        layer._name_guards.append(guard)
        layer.events.all.connect(forward)
        self._forwarders[id(layer)] = (guard, forward)

    def _disconnect(self, layer: Layer) -> None:
        guard, forward = self._forwarders.pop(id(layer))
        layer._name_guards.remove(guard)
        layer.events.all.disconnect(forward)
