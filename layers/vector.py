"""Vector layers: a GeoDataFrame plus the evented :class:`~layers.base.Layer` properties."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from spatial.schema import key_column

from .base import Layer
from .metadata import LayerMetadata
from .style import CategorizedStyle, GraduatedStyle, SingleStyle, Style, default_style

__all__ = ["VectorLayer", "geometry_type_of", "geometry_family"]

_TYPE_NAMES = ("Point", "LineString", "LineString", "Polygon", "MultiPoint",
               "MultiLineString", "MultiPolygon", "GeometryCollection")
# shapely type ids per family (LinearRing counts as a line)
_FAMILIES = {"point": {0, 4}, "line": {1, 2, 5}, "polygon": {3, 6}}
_MULTI = {"point": "MultiPoint", "line": "MultiLineString", "polygon": "MultiPolygon"}


def _type_ids(geoms) -> set[int]:
    ids = shapely.get_type_id(np.asarray(geoms))
    counts = np.bincount(ids + 1, minlength=9)  # -1 (missing) -> 0
    return {i - 1 for i in np.flatnonzero(counts) if i > 0}


def geometry_type_of(geoms, exact: bool = False) -> str | None:
    """The one geometry type of a GeoSeries or geometry array.

    ``"Polygon"`` etc. when all features share a type, the multi type when
    single and multi parts mix (``"MultiPolygon"``; with ``exact=True``
    ``"Geometry"``), ``"Geometry"`` when families mix, ``None`` when there is no
    geometry at all.

    Examples
    --------
    >>> geometry_type_of([shapely.Point(0, 0), shapely.MultiPoint([(1, 1)]), None])
    'MultiPoint'
    """
    ids = _type_ids(geoms)
    if not ids:
        return None
    if len(ids) == 1:
        return _TYPE_NAMES[ids.pop()]
    if exact:
        return "Geometry"
    for family, members in _FAMILIES.items():
        if ids <= members:
            return _MULTI[family]
    return "Geometry"


def geometry_family(data) -> str | None:
    """``"point"``, ``"line"`` or ``"polygon"`` for drawing, or ``None`` for a table.

    For mixed layers the highest dimension present wins.
    """
    if not isinstance(data, gpd.GeoDataFrame) or data._geometry_column_name not in data:
        return None
    ids = _type_ids(data.geometry.values)
    for family in ("polygon", "line", "point"):
        if ids & _FAMILIES[family]:
            return family
    return "polygon" if 7 in ids else None


def check_geodataframe(data: Any, what: str = "data") -> gpd.GeoDataFrame:
    """TypeError/ValueError unless ``data`` is a GeoDataFrame with an active geometry."""
    if not isinstance(data, gpd.GeoDataFrame):
        raise TypeError(f"{what} must be a GeoDataFrame, got {type(data).__name__}")
    if data._geometry_column_name is None or data._geometry_column_name not in data:
        raise ValueError(f"{what} has no active geometry column")
    if not data.columns.is_unique:
        dupes = sorted(set(map(str, data.columns[data.columns.duplicated()])))
        raise ValueError(f"{what} has duplicate column names: {', '.join(dupes)}")
    return data


class VectorLayer(Layer):
    """Features with geometry, wrapping a GeoDataFrame (not copied).

    Parameters
    ----------
    name : str
        Unique name in the workspace (the GeoPackage table name).
    data : GeoDataFrame
    metadata : LayerMetadata, optional
        Defaults to :func:`~layers.base.default_metadata` for ``name``.
    style : SingleStyle, CategorizedStyle or GraduatedStyle, optional
        Defaults to :func:`~layers.style.default_style`; setting ``None`` later
        restores the default.

    Notes
    -----
    Replace ``layer.data`` to change the features (emits ``events.data``).  After
    editing the GeoDataFrame in place, call :meth:`refresh` so cached bounds and
    geometry type are recomputed and listeners hear of it.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> gdf = gpd.GeoDataFrame({"school_id": ["S1"]}, geometry=[shapely.Point(1, 2)],
    ...                        crs="EPSG:4326")
    >>> layer = VectorLayer("schools", gdf)
    >>> layer.geometry_type, layer.key, layer.bounds, layer.department
    ('Point', 'school_id', (1.0, 2.0, 1.0, 2.0), 'education')
    """

    kind = "vector"

    def __init__(
        self,
        name: str,
        data: gpd.GeoDataFrame,
        metadata: LayerMetadata | None = None,
        style: Style | None = None,
        *,
        visible: bool = True,
        opacity: float = 1.0,
    ) -> None:
        self._data = check_geodataframe(data, f"data of layer {name!r}")
        self._cache: dict[str, Any] = {}
        super().__init__(name, metadata=metadata, style=style, visible=visible, opacity=opacity)

    # -- data
    @property
    def data(self) -> gpd.GeoDataFrame:
        """The features (a GeoDataFrame; the layer does not copy it)."""
        return self._data

    @data.setter
    def data(self, value: gpd.GeoDataFrame) -> None:
        self._data = check_geodataframe(value, f"data of layer {self.name!r}")
        self.refresh()

    def refresh(self) -> None:
        """Forget cached derived values and emit ``events.data`` (after in-place edits)."""
        self._cache.clear()
        self.events.data.emit()

    def _cached(self, key: str, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    @property
    def crs(self):
        """The data's pyproj CRS (``None`` if unset)."""
        return self._data.crs

    @property
    def geometry_type(self) -> str | None:
        """See :func:`geometry_type_of`."""
        return self._cached("geometry_type", lambda: geometry_type_of(self._data.geometry.values))

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:
        """``(minx, miny, maxx, maxy)`` in the layer's CRS, ``None`` without geometry."""

        def compute():
            b = self._data.total_bounds
            return None if not np.all(np.isfinite(b)) else tuple(float(v) for v in b)

        return self._cached("bounds", compute)

    @property
    def feature_count(self) -> int:
        """Number of features."""
        return len(self._data)

    @property
    def columns(self) -> list[str]:
        """Attribute column names (without the geometry column)."""
        geom = self._data._geometry_column_name
        return [str(c) for c in self._data.columns if c != geom]

    @property
    def key(self) -> str | None:
        """The id column (see :func:`spatial.schema.key_column`)."""
        return key_column(self.name, self.columns)

    # -- style
    def _check_style(self, value: Any) -> Style:
        if value is None:
            department = getattr(self, "_metadata", None)
            value = default_style(self.name, self._data,
                                  department.department if department else None)
            return value if value is not None else SingleStyle()
        if not isinstance(value, (SingleStyle, CategorizedStyle, GraduatedStyle)):
            raise TypeError(
                "a vector layer's style must be a SingleStyle, CategorizedStyle or "
                f"GraduatedStyle, got {type(value).__name__}"
            )
        return value

    @classmethod
    def from_dict(cls, d: dict, data: gpd.GeoDataFrame) -> "VectorLayer":
        """Rebuild a layer from :meth:`to_dict` output and its data."""
        return cls(d["name"], data, **cls._common_kwargs(d))
