"""Undoable edits of a workspace's layers, as plain-Python commands (no Qt).

A command does its edit in :meth:`Command.redo` and takes it back in
:meth:`Command.undo`; both go through the models' public setters, so every
listener (layer tree, map canvas, query engine) hears of the change as usual.
``gui/undo.py`` puts them on a ``QUndoStack`` (the pattern of glue's
``core/command.py``; STYLE.md §3).

=====================  ====================================================
command                edit
=====================  ====================================================
:class:`SetProperty`   ``layer.<attr> = value`` (visible, opacity, style,
                       metadata, name); opacity steps in quick succession
                       merge into one
:class:`Batch`         several commands as one (e.g. "show all")
:class:`RemoveLayer`   remove a layer; undo puts it back at its position,
                       with its style and data (the same layer object)
:class:`AddLayers`     layers added (e.g. by an import); undo removes them
:class:`Reorder`       a new drawing order; undo restores the old one
=====================  ====================================================

Examples
--------
>>> import pandas as pd
>>> from layers.registry import LayerRegistry
>>> from layers.table import TableLayer
>>> reg = LayerRegistry()
>>> for name in ("population", "households"):
...     reg.add(TableLayer(name, pd.DataFrame({"building_id": []})))
>>> cmd = RemoveLayer(reg, "population")
>>> cmd.redo(); reg.names()
['households']
>>> cmd.undo(); reg.names()
['households', 'population']
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .base import Layer

__all__ = ["AddLayers", "Batch", "Command", "RemoveLayer", "Reorder", "SetProperty",
           "apply_order"]

_MISSING = object()


class Command:
    """An undoable edit.  ``text`` describes it (English; the GUI shows its own,
    translated text)."""

    text = ""

    def redo(self) -> None:
        raise NotImplementedError

    def undo(self) -> None:
        raise NotImplementedError

    def merge_key(self) -> Any:
        """Commands with the same non-``None`` key may merge (see :meth:`merge`)."""
        return None

    def merge(self, other: Command) -> bool:
        """Absorb ``other`` (done right after this one); return whether it did."""
        return False


class SetProperty(Command):
    """``setattr(layer, attr, new)``; undo sets the old value (the very object).

    Parameters
    ----------
    layer : Layer
    attr : {"visible", "opacity", "style", "metadata", "name"}
    new : Any
    old : Any, optional
        The value before the edit (default: the layer's current value).  Pass it
        when the edit has already happened (a slider that wrote as it moved).

    Opacity commands of the same layer within :attr:`MERGE_SECONDS` of each
    other merge, so dragging a slider is one undo step.
    """

    ATTRS = ("visible", "opacity", "style", "metadata", "name")
    MERGEABLE = ("opacity",)
    MERGE_SECONDS = 1.5

    def __init__(self, layer: Layer, attr: str, new: Any, old: Any = _MISSING) -> None:
        if attr not in self.ATTRS:
            raise ValueError(f"cannot set {attr!r} by command; one of {', '.join(self.ATTRS)}")
        self.layer, self.attr, self.new = layer, attr, new
        self.old = getattr(layer, attr) if old is _MISSING else old
        self.when = time.monotonic()
        self.text = f"set {attr} of {layer.name}"

    def redo(self) -> None:
        setattr(self.layer, self.attr, self.new)

    def undo(self) -> None:
        setattr(self.layer, self.attr, self.old)

    def merge_key(self) -> Any:
        return ("set", id(self.layer), self.attr) if self.attr in self.MERGEABLE else None

    def merge(self, other: Command) -> bool:
        if (not isinstance(other, SetProperty) or other.layer is not self.layer
                or other.attr != self.attr or self.attr not in self.MERGEABLE
                or other.when - self.when > self.MERGE_SECONDS):
            return False
        self.new, self.when = other.new, other.when
        return True


class Batch(Command):
    """Several commands as one: redo in order, undo in reverse order."""

    def __init__(self, commands: Iterable[Command], text: str = "") -> None:
        self.commands = list(commands)
        self.text = text or "; ".join(c.text for c in self.commands)

    def redo(self) -> None:
        for c in self.commands:
            c.redo()

    def undo(self) -> None:
        for c in reversed(self.commands):
            c.undo()


def _registry(owner):
    return getattr(owner, "registry", owner)


class RemoveLayer(Command):
    """Remove a layer from a Workspace (``remove_layer``) or a LayerRegistry.

    Undo inserts the same layer object at the position it had, so its style,
    opacity, visibility and data come back with it, and makes it the active
    layer again if it was.
    """

    def __init__(self, owner, name: str) -> None:
        self.owner = owner
        self.layer = _registry(owner)[name]
        self.index = _registry(owner).index(self.layer)
        self.was_active = False
        self.text = f"remove {name}"

    def redo(self) -> None:
        reg = _registry(self.owner)
        self.index = reg.index(self.layer)
        self.was_active = reg.active is self.layer
        if hasattr(self.owner, "remove_layer"):
            self.owner.remove_layer(self.layer.name)
        else:
            reg.remove(self.layer)

    def undo(self) -> None:
        reg = _registry(self.owner)
        reg.add(self.layer, min(self.index, len(reg)))
        if self.was_active:
            reg.active = self.layer


class AddLayers(Command):
    """Layers that were added (by an import, say): undo removes them, redo puts
    them back where they were.

    The layers are in the registry when the command is made (``done=True``, the
    default); the first :meth:`redo` then does nothing.
    """

    def __init__(self, owner, names: Sequence[str], done: bool = True) -> None:
        reg = _registry(owner)
        self.owner = owner
        self.layers = [reg[n] for n in names]
        self.indexes = [reg.index(layer) for layer in self.layers]
        self._skip = done
        self.text = "add " + ", ".join(names)

    def redo(self) -> None:
        if self._skip:
            self._skip = False
            return
        reg = _registry(self.owner)
        for layer, index in sorted(zip(self.layers, self.indexes), key=lambda t: t[1]):
            reg.add(layer, min(index, len(reg)))

    def undo(self) -> None:
        reg = _registry(self.owner)
        self.indexes = [reg.index(layer) for layer in self.layers]
        for layer in self.layers:
            if hasattr(self.owner, "remove_layer"):
                self.owner.remove_layer(layer.name)
            else:
                reg.remove(layer)


def apply_order(registry, order: Sequence[str]) -> None:
    """Move the registry's layers into ``order`` (every name exactly once)."""
    if sorted(order) != sorted(registry.names()):
        raise ValueError("a new layer order needs every layer name exactly once")
    for i, name in enumerate(order):
        if registry.index(name) != i:
            registry.move(name, i)


class Reorder(Command):
    """A new drawing order (top first).

    ``apply(order)`` does the moving (default :func:`apply_order` on the
    registry; the layer tree passes its own, which rebuilds the tree once).
    """

    def __init__(self, registry, new_order: Sequence[str],
                 apply: Callable[[list[str]], None] | None = None,
                 old_order: Sequence[str] | None = None) -> None:
        self.registry = registry
        self.old = list(old_order) if old_order is not None else registry.names()
        self.new = list(new_order)
        self._apply = apply
        self.text = "reorder layers"

    def _set(self, order: list[str]) -> None:
        if self._apply is not None:
            self._apply(list(order))
        else:
            apply_order(self.registry, order)

    def redo(self) -> None:
        self._set(self.new)

    def undo(self) -> None:
        self._set(self.old)
