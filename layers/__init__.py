"""CityFrame's data model: layers, metadata, styles, the registry and the workspace.

Nothing here imports Qt: events are plain-Python psygnal signals.
"""

from .base import Layer, LayerEvents, default_metadata
from .metadata import LayerMetadata
from .raster import RasterLayer
from .registry import LayerRegistry
from .style import (
    CategorizedStyle,
    GraduatedStyle,
    RasterStyle,
    SingleStyle,
    Style,
    default_style,
    style_from_dict,
)
from .table import TableLayer
from .vector import VectorLayer
from .workspace import Workspace, WorkspaceReadOnlyError, layer_from_frame

__all__ = [
    "Layer",
    "LayerEvents",
    "LayerMetadata",
    "VectorLayer",
    "TableLayer",
    "RasterLayer",
    "LayerRegistry",
    "Style",
    "SingleStyle",
    "CategorizedStyle",
    "GraduatedStyle",
    "RasterStyle",
    "style_from_dict",
    "default_style",
    "default_metadata",
    "Workspace",
    "WorkspaceReadOnlyError",
    "layer_from_frame",
]
