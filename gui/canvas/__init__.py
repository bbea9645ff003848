"""The map canvas package: :class:`MapCanvas` (widget), its background renderer,
per-layer render caches, style symbols and mouse tools."""

from .map_canvas import TOOL_NAMES, MapCanvas

__all__ = ["MapCanvas", "TOOL_NAMES"]
