"""Table layers: attribute tables without geometry (e.g. ``population``)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

from spatial.schema import key_column

from .base import Layer
from .metadata import LayerMetadata

__all__ = ["TableLayer"]


class TableLayer(Layer):
    """A plain table joined to other layers by key (never drawn on the map).

    Its style is always ``None``.  ``visible`` and ``opacity`` exist for a
    uniform layer tree but have no drawing effect.

    Examples
    --------
    >>> t = TableLayer("population", pd.DataFrame({"building_id": ["B1"], "residents": [3]}))
    >>> t.key, t.feature_count, t.metadata.classification
    ('building_id', 1, 'restricted')
    """

    kind = "table"

    def __init__(
        self,
        name: str,
        data: pd.DataFrame,
        metadata: LayerMetadata | None = None,
        *,
        visible: bool = True,
        opacity: float = 1.0,
    ) -> None:
        self._data = self._check_data(data, name)
        super().__init__(name, metadata=metadata, style=None, visible=visible, opacity=opacity)

    @staticmethod
    def _check_data(data: Any, name: str) -> pd.DataFrame:
        if isinstance(data, gpd.GeoDataFrame):
            raise TypeError(f"data of table {name!r} has geometry; use a VectorLayer")
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"data of table {name!r} must be a DataFrame, got "
                            f"{type(data).__name__}")
        if not data.columns.is_unique:
            raise ValueError(f"data of table {name!r} has duplicate column names")
        return data

    @property
    def data(self) -> pd.DataFrame:
        """The rows (a DataFrame; the layer does not copy it)."""
        return self._data

    @data.setter
    def data(self, value: pd.DataFrame) -> None:
        self._data = self._check_data(value, self.name)
        self.events.data.emit()

    def refresh(self) -> None:
        """Emit ``events.data`` after editing the DataFrame in place."""
        self.events.data.emit()

    @property
    def feature_count(self) -> int:
        """Number of rows."""
        return len(self._data)

    @property
    def columns(self) -> list[str]:
        """Column names."""
        return [str(c) for c in self._data.columns]

    @property
    def key(self) -> str | None:
        """The id column (see :func:`spatial.schema.key_column`)."""
        return key_column(self.name, self.columns)

    def _check_style(self, value: Any) -> None:
        if value is not None:
            raise TypeError(f"table {self.name!r} has no geometry and takes no style")
        return None

    @classmethod
    def from_dict(cls, d: dict, data: pd.DataFrame) -> "TableLayer":
        """Rebuild a table from :meth:`to_dict` output and its data."""
        kw = cls._common_kwargs(d)
        kw.pop("style")
        return cls(d["name"], data, **kw)
