"""The :class:`Layer` base: evented, validated properties shared by every layer kind.

Public attributes are properties.  A setter checks the value (``TypeError`` for a
wrong type, ``ValueError`` for a bad value), stores it, and emits the event of the
same name on ``layer.events`` — only when the value actually changed, so one
change is one event.  Events are plain-Python psygnal signals (never Qt):

==========  ================  ===================================================
event       argument          emitted when
==========  ================  ===================================================
name        new name (str)    the layer is renamed
visible     bool              shown or hidden
opacity     float in [0, 1]   opacity changes
style       the style         a new style is set *or* the current one is edited
metadata    LayerMetadata     the metadata is replaced
data        (none)            the data (or a raster's file) is replaced
==========  ================  ===================================================

``layer.events.all`` fires for each of them (psygnal ``EmissionInfo``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from psygnal import Signal, SignalGroup

from spatial.schema import FRAMEWORK, OVERLAY_SCHEMAS

from .metadata import LayerMetadata
from .style import Style, style_from_dict

__all__ = ["Layer", "LayerEvents", "default_metadata", "check_layer_name", "RESERVED_PREFIXES"]

#: Table-name prefixes a layer name may not use (GeoPackage and CityFrame tables).
RESERVED_PREFIXES = ("gpkg_", "rtree_", "sqlite_", "cityframe_")

# Bilingual titles of the framework layers and the bundled overlays.
_TITLES: dict[str, tuple[str, str]] = {
    "buildings": ("Buildings", "建筑"),
    "population": ("Population", "人口"),
    "legal_entities": ("Legal entities", "法人单位"),
    "communities": ("Communities", "社区"),
    "roads": ("Roads", "道路"),
    "districts": ("Districts", "行政区"),
    "land_use": ("Land use", "土地利用"),
    "river": ("River", "河流"),
    "schools": ("Schools", "学校"),
    "hospitals": ("Hospitals", "医院"),
    "elderly_care": ("Elderly care", "养老机构"),
    "police_stations": ("Police stations", "派出所"),
    "police_precincts": ("Police precincts", "警务辖区"),
    "fire_stations": ("Fire stations", "消防站"),
    "shelters": ("Shelters", "应急避难场所"),
    "pollution_sources": ("Pollution sources", "污染源"),
    "bus_stops": ("Bus stops", "公交站"),
    "flood_zones": ("Flood zones", "洪水淹没区"),
}


def default_metadata(name: str, crs=None) -> LayerMetadata:
    """Metadata for a layer that came without any (e.g. from a plain GeoPackage).

    Framework layer names get department ``"framework"``, the bundled overlay
    names their department, anything else ``"other"``.  ``population`` is
    ``restricted`` (it describes people); everything else ``internal``.

    Examples
    --------
    >>> m = default_metadata("schools")
    >>> m.department, m.title_zh
    ('education', '学校')
    """
    if name in FRAMEWORK:
        department = "framework"
    else:
        department = OVERLAY_SCHEMAS.get(name, {}).get("department", "other")
    en, zh = _TITLES.get(name, (name.replace("_", " ").capitalize(), ""))
    return LayerMetadata(
        department=department,
        title_en=en,
        title_zh=zh,
        classification="restricted" if name == "population" else "internal",
        crs=_crs_string(crs),
    )


def _crs_string(crs) -> str:
    if crs is None:
        return ""
    try:
        auth = crs.to_authority()
        if auth:
            return ":".join(auth)
        return crs.to_wkt()
    except AttributeError:
        return str(crs)


def check_layer_name(name: Any) -> str:
    """Check a layer name: non-empty text, no surrounding spaces, no reserved prefix.

    Raises
    ------
    TypeError, ValueError

    Examples
    --------
    >>> check_layer_name("gpkg_contents")
    Traceback (most recent call last):
    ...
    ValueError: layer name 'gpkg_contents' starts with a reserved prefix (gpkg_, rtree_, sqlite_, cityframe_)
    """
    if not isinstance(name, str):
        raise TypeError(f"layer name must be text, got {type(name).__name__}")
    if not name or name != name.strip():
        raise ValueError(f"layer name must be non-empty without surrounding spaces, got {name!r}")
    if name.lower().startswith(RESERVED_PREFIXES):
        raise ValueError(
            f"layer name {name!r} starts with a reserved prefix ({', '.join(RESERVED_PREFIXES)})"
        )
    return name


class LayerEvents(SignalGroup):
    """The events of a :class:`Layer` (see the module docstring)."""

    name = Signal(str)
    visible = Signal(bool)
    opacity = Signal(float)
    style = Signal(object)
    metadata = Signal(object)
    data = Signal()


class Layer:
    """Base class of every layer: name, visibility, opacity, style, metadata.

    Subclasses set :attr:`kind` and implement ``_check_style``, :attr:`crs`,
    :attr:`bounds` and :attr:`feature_count`.
    """

    kind: ClassVar[str] = "layer"

    def __init__(
        self,
        name: str,
        *,
        metadata: LayerMetadata | None = None,
        style: Style | None = None,
        visible: bool = True,
        opacity: float = 1.0,
    ) -> None:
        self.events = LayerEvents(self)
        # Callables (layer, new_name) that may veto a rename (the registry's check).
        self._name_guards: list[Callable[[Layer, str], None]] = []
        self._name = check_layer_name(name)
        self._visible = self._check_visible(visible)
        self._opacity = self._check_opacity(opacity)
        self._metadata = self._check_metadata(metadata)
        self._style: Style | None = None
        self._set_style(self._check_style(style))

    # -- name
    @property
    def name(self) -> str:
        """Unique name in its workspace; also the GeoPackage table name."""
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        value = check_layer_name(value)
        if value == self._name:
            return
        for guard in list(self._name_guards):
            guard(self, value)
        self._name = value
        self.events.name.emit(value)

    # -- visible
    @staticmethod
    def _check_visible(value: Any) -> bool:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"visible must be True or False, got {value!r}")
        return bool(value)

    @property
    def visible(self) -> bool:
        """Whether the layer is drawn."""
        return self._visible

    @visible.setter
    def visible(self, value: bool) -> None:
        value = self._check_visible(value)
        if value != self._visible:
            self._visible = value
            self.events.visible.emit(value)

    # -- opacity
    @staticmethod
    def _check_opacity(value: Any) -> float:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"opacity must be a number between 0 and 1, got {value!r}")
        value = float(value)
        if math.isnan(value) or not 0.0 <= value <= 1.0:
            raise ValueError(f"opacity must be between 0 and 1, got {value}")
        return value

    @property
    def opacity(self) -> float:
        """Opacity from 0 (invisible) to 1 (opaque); ``ValueError`` outside."""
        return self._opacity

    @opacity.setter
    def opacity(self, value: float) -> None:
        value = self._check_opacity(value)
        if value != self._opacity:
            self._opacity = value
            self.events.opacity.emit(value)

    # -- metadata
    def _check_metadata(self, value: Any) -> LayerMetadata:
        crs = self._crs_for_metadata()
        if value is None:
            return default_metadata(self._name, crs)
        if not isinstance(value, LayerMetadata):
            raise TypeError(f"metadata must be a LayerMetadata, got {type(value).__name__}")
        if not value.crs and crs is not None:
            value = value.with_(crs=_crs_string(crs))
        return value

    def _crs_for_metadata(self):
        return self.crs

    @property
    def metadata(self) -> LayerMetadata:
        """What the owning department says about the layer (immutable; replace it)."""
        return self._metadata

    @metadata.setter
    def metadata(self, value: LayerMetadata) -> None:
        value = self._check_metadata(value)
        if value != self._metadata:
            self._metadata = value
            self.events.metadata.emit(value)

    @property
    def department(self) -> str:
        """Shortcut for ``metadata.department``."""
        return self._metadata.department

    # -- style
    def _check_style(self, value: Any) -> Style | None:
        raise NotImplementedError

    def _set_style(self, style: Style | None) -> None:
        if self._style is not None:
            self._style.events.changed.disconnect(self._style_edited, missing_ok=True)
        self._style = style
        if style is not None:
            style.events.changed.connect(self._style_edited)

    def _style_edited(self, field: str, value: Any) -> None:
        self.events.style.emit(self._style)

    @property
    def style(self) -> Style | None:
        """How the layer is drawn; editing the style in place also emits ``events.style``."""
        return self._style

    @style.setter
    def style(self, value: Style | None) -> None:
        value = self._check_style(value)
        if value is self._style:
            return
        self._set_style(value)
        self.events.style.emit(value)

    # -- geography (overridden)
    @property
    def crs(self):
        """The layer's pyproj CRS, or ``None``."""
        return None

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:
        """``(minx, miny, maxx, maxy)`` in the layer's CRS, or ``None`` when empty."""
        return None

    @property
    def feature_count(self) -> int:
        """Number of features (rows)."""
        return 0

    @property
    def missing(self) -> bool:
        """Whether the layer's data could not be found (only rasters can be missing)."""
        return False

    # -- serialisation
    def to_dict(self) -> dict:
        """The non-data parts as a JSON-ready dict."""
        return {
            "kind": self.kind,
            "name": self.name,
            "visible": self.visible,
            "opacity": self.opacity,
            "metadata": self.metadata.to_dict(),
            "style": None if self.style is None else self.style.to_dict(),
        }

    @staticmethod
    def _common_kwargs(d: dict) -> dict:
        return {
            "metadata": LayerMetadata.from_dict(d["metadata"]) if d.get("metadata") else None,
            "style": style_from_dict(d.get("style")),
            "visible": bool(d.get("visible", True)),
            "opacity": float(d.get("opacity", 1.0)),
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, department={self.department!r})"
