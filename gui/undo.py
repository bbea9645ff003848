"""The window's undo stack: :mod:`layers.commands` wrapped as ``QUndoCommand``.

One ``QUndoStack`` per main window (Edit ▸ Undo / Redo, the toolbar buttons).
Widgets push edits with :func:`push` — or run them directly when they have no
stack (a panel used on its own).  The command logic itself is Qt-free and lives
in ``layers/commands.py``; here it only gets a translated text, Qt's merge ids
and the "cancelled" handling the style editor needs.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QUndoCommand, QUndoStack

from layers.commands import (
    AddLayers,
    Batch,
    Command,
    RemoveLayer,
    Reorder,
    SetProperty,
)

__all__ = [
    "ModelCommand",
    "add_layers",
    "layer_title",
    "push",
    "remove_layer",
    "reorder",
    "set_property",
    "set_visible",
]

_merge_ids: dict = {}
_MISSING = object()


def layer_title(layer, lang: str = "en") -> str:
    """The layer's title in ``lang`` (its name when it has none)."""
    meta = getattr(layer, "metadata", None)
    return (meta.title(lang) if meta is not None else "") or layer.name


class ModelCommand(QUndoCommand):
    """A :class:`layers.commands.Command` on a ``QUndoStack``.

    Set :attr:`cancelled` before undoing it to have the stack drop it (the
    style editor's Cancel: the edit should not come back with Redo).
    """

    def __init__(self, command: Command, text: str = "") -> None:
        super().__init__(text or command.text)
        self.command = command
        self.cancelled = False

    def redo(self) -> None:
        self.command.redo()

    def undo(self) -> None:
        self.command.undo()
        if self.cancelled:
            self.setObsolete(True)

    def id(self) -> int:
        key = self.command.merge_key()
        if key is None:
            return -1
        return _merge_ids.setdefault(key, len(_merge_ids) + 1)

    def mergeWith(self, other) -> bool:
        return isinstance(other, ModelCommand) and self.command.merge(other.command)


def push(stack: QUndoStack | None, command: Command, text: str = "") -> ModelCommand | None:
    """Do ``command`` through ``stack`` (undoable), or directly without a stack."""
    if stack is None:
        command.redo()
        return None
    wrapped = ModelCommand(command, text)
    stack.push(wrapped)
    return wrapped


# ---------------------------------------------------------------- the usual edits
def set_property(stack, layer, attr: str, value, lang: str = "en",
                 old=_MISSING) -> ModelCommand | None:
    """``layer.<attr> = value`` as an undo step with a readable, translated text
    (``old``: the value before, when the layer already shows the new one)."""
    title = layer_title(layer, lang)
    texts = {
        "visible": (QCoreApplication.translate("Undo", "Show {0}") if value
                    else QCoreApplication.translate("Undo", "Hide {0}")),
        "opacity": QCoreApplication.translate("Undo", "Opacity of {0}"),
        "style": QCoreApplication.translate("Undo", "Style of {0}"),
        "metadata": QCoreApplication.translate("Undo", "Properties of {0}"),
        "name": QCoreApplication.translate("Undo", "Rename {0}"),
    }
    cmd = SetProperty(layer, attr, value) if old is _MISSING else SetProperty(layer, attr, value, old)
    return push(stack, cmd, texts[attr].replace("{0}", title))


def set_visible(stack, layers, visible: bool, lang: str = "en",
                group_title: str = "") -> ModelCommand | None:
    """Show or hide several layers as one step (a department's checkbox)."""
    layers = [lay for lay in layers if lay.visible != visible]
    if not layers:
        return None
    if len(layers) == 1 and not group_title:
        return set_property(stack, layers[0], "visible", visible, lang)
    title = group_title or ", ".join(layer_title(lay, lang) for lay in layers)
    text = (QCoreApplication.translate("Undo", "Show {0}") if visible
            else QCoreApplication.translate("Undo", "Hide {0}")).replace("{0}", title)
    return push(stack, Batch(SetProperty(lay, "visible", visible) for lay in layers), text)


def remove_layer(stack, owner, name: str, lang: str = "en") -> ModelCommand | None:
    """Remove layer ``name`` from a Workspace or registry as an undo step."""
    reg = getattr(owner, "registry", owner)
    title = layer_title(reg[name], lang)
    return push(stack, RemoveLayer(owner, name),
                QCoreApplication.translate("Undo", "Remove {0}").replace("{0}", title))


def add_layers(stack, owner, names, lang: str = "en") -> ModelCommand | None:
    """Record layers just added (an import) as an undo step; undo removes them."""
    names = list(names)
    if not names or stack is None:
        return None
    reg = getattr(owner, "registry", owner)
    title = ", ".join(layer_title(reg[n], lang) for n in names)
    return push(stack, AddLayers(owner, names, done=True),
                QCoreApplication.translate("Undo", "Add {0}").replace("{0}", title))


def reorder(stack, registry, new_order, apply=None) -> ModelCommand | None:
    """A new drawing order as an undo step (``apply(order)`` does the moving)."""
    if list(new_order) == registry.names():
        return None
    return push(stack, Reorder(registry, new_order, apply),
                QCoreApplication.translate("Undo", "Reorder layers"))
