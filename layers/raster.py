"""Raster layers: a GeoTIFF (or any GDAL raster) opened lazily through rasterio.

Nothing is read until it is needed.  :meth:`RasterLayer.read` returns a masked
array; given ``out_shape`` it asks GDAL for a decimated read, which uses the
file's overviews when it has them, so drawing a whole city-wide flood raster
never loads it at full resolution.  The dataset handle is kept open and guarded
by a lock, so worker threads may read concurrently.
"""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.errors
from pyproj import CRS
from rasterio.enums import Resampling
from rasterio.windows import Window, from_bounds

from spatial.errors import WorkspaceError

from .base import Layer
from .metadata import LayerMetadata
from .style import RasterStyle, Style

__all__ = ["RasterLayer"]

#: Above this many pixels, :meth:`RasterLayer.stats` reads a decimated copy.
EXACT_STATS_MAX_PIXELS = 16_000_000
_APPROX_PIXELS = 4_000_000


def _default_raster_style(name: str) -> RasterStyle:
    lowered = name.lower()
    if any(w in lowered for w in ("flood", "depth", "water", "rain")):
        return RasterStyle("blues")
    if any(w in lowered for w in ("pop", "density", "heat")):
        return RasterStyle("ylorrd")
    return RasterStyle("viridis")


class RasterLayer(Layer):
    """A raster file shown as one band with a :class:`~layers.style.RasterStyle`.

    Parameters
    ----------
    name : str
    path : str or Path
        The raster file.  It may be missing (the layer then reports
        ``missing=True``, its geography is ``None`` and :meth:`read` raises
        :class:`~spatial.errors.WorkspaceError`).
    metadata : LayerMetadata, optional
    style : RasterStyle, optional
        Defaults to a ramp chosen from the name (blues for flood/depth).
    band : int
        The band drawn and summarised (1-based).
    """

    kind = "raster"

    def __init__(
        self,
        name: str,
        path: str | os.PathLike,
        metadata: LayerMetadata | None = None,
        style: Style | None = None,
        *,
        band: int = 1,
        visible: bool = True,
        opacity: float = 1.0,
    ) -> None:
        self._path = Path(path).absolute()
        self._band = int(band)
        self._lock = threading.RLock()
        self._ds = None
        self._info: dict[str, Any] | None = None
        self._stats: dict[tuple, dict] = {}
        super().__init__(name, metadata=metadata, style=style, visible=visible, opacity=opacity)

    # -- file
    @property
    def path(self) -> Path:
        """Absolute path of the raster file."""
        return self._path

    @path.setter
    def path(self, value: str | os.PathLike) -> None:
        value = Path(value).absolute()
        if value == self._path:
            return
        self.close()
        self._path = value
        self._info = None
        self._stats.clear()
        self.events.data.emit()

    @property
    def band(self) -> int:
        """The band drawn (1-based)."""
        return self._band

    @property
    def missing(self) -> bool:
        """Whether the raster file does not exist."""
        return not self._path.is_file()

    def close(self) -> None:
        """Close the dataset handle (it reopens on the next read)."""
        with self._lock:
            if self._ds is not None:
                self._ds.close()
                self._ds = None

    def _open(self):
        """The open dataset (call with the lock held)."""
        if self._ds is None or self._ds.closed:
            if self.missing:
                raise WorkspaceError(f"raster file of layer {self.name!r} not found: {self._path}")
            try:
                self._ds = rasterio.open(self._path)
            except rasterio.errors.RasterioError as exc:
                raise WorkspaceError(
                    f"cannot read raster file {self._path} (layer {self.name!r}): {exc}"
                ) from exc
            if not 1 <= self._band <= self._ds.count:
                raise WorkspaceError(f"raster file {self._path} has no band {self._band}")
        return self._ds

    def _meta(self) -> dict[str, Any] | None:
        if self._info is None:
            if self.missing:
                return None
            with self._lock:
                ds = self._open()
                self._info = {
                    "crs": None if ds.crs is None else CRS.from_user_input(ds.crs.to_wkt()),
                    "bounds": tuple(float(v) for v in ds.bounds),
                    "transform": ds.transform,
                    "shape": (ds.height, ds.width),
                    "nodata": ds.nodatavals[self._band - 1],
                    "dtype": ds.dtypes[self._band - 1],
                    "count": ds.count,
                    "overviews": ds.overviews(self._band),
                }
        return self._info

    def _get(self, key: str):
        meta = self._meta()
        return None if meta is None else meta[key]

    # -- geography
    @property
    def crs(self):
        """The raster's CRS as a pyproj CRS (``None`` if missing or unset)."""
        return self._get("crs")

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:
        """``(left, bottom, right, top)`` in the raster's CRS."""
        return self._get("bounds")

    @property
    def transform(self):
        """The affine pixel-to-CRS transform."""
        return self._get("transform")

    @property
    def shape(self) -> tuple[int, int] | None:
        """``(rows, cols)`` at full resolution."""
        return self._get("shape")

    @property
    def nodata(self):
        """The band's nodata value (``None`` if unset)."""
        return self._get("nodata")

    @property
    def dtype(self) -> str | None:
        """The band's data type name."""
        return self._get("dtype")

    @property
    def overviews(self) -> list[int]:
        """Overview decimation factors available for the band."""
        return list(self._get("overviews") or [])

    @property
    def feature_count(self) -> int:
        """Number of pixels."""
        shape = self.shape
        return 0 if shape is None else shape[0] * shape[1]

    # -- reading
    def read(
        self,
        out_shape: tuple[int, int] | None = None,
        window: Window | tuple | None = None,
        *,
        bounds: tuple[float, float, float, float] | None = None,
        resampling: str = "nearest",
    ) -> np.ma.MaskedArray:
        """Read the band as a masked array (nodata and NaN masked).

        Parameters
        ----------
        out_shape : (rows, cols), optional
            Read decimated to this shape; GDAL uses overviews when present.
        window : rasterio Window or ((row_start, row_stop), (col_start, col_stop)), optional
            Read only this part (clipped to the raster).
        bounds : (minx, miny, maxx, maxy), optional
            Read the part covering these bounds in the raster's CRS (instead of ``window``).
        resampling : str
            A :class:`rasterio.enums.Resampling` name used for decimated reads.
        """
        try:
            method = Resampling[resampling]
        except KeyError:
            raise ValueError(f"unknown resampling {resampling!r}") from None
        with self._lock:
            ds = self._open()
            full = Window(0, 0, ds.width, ds.height)
            if bounds is not None:
                window = from_bounds(*bounds, transform=ds.transform)
            if window is not None:
                if not isinstance(window, Window):
                    window = Window.from_slices(*window, height=ds.height, width=ds.width)
                window = window.round_offsets().round_lengths()
                try:
                    window = window.intersection(full)
                except rasterio.errors.WindowError:
                    rows, cols = out_shape or (0, 0)
                    return np.ma.masked_all((rows, cols), dtype=ds.dtypes[self._band - 1])
            try:
                arr = ds.read(self._band, out_shape=out_shape, window=window, masked=True,
                              resampling=method)
            except rasterio.errors.RasterioError as exc:
                raise WorkspaceError(f"cannot read raster file {self._path}: {exc}") from exc
        if arr.dtype.kind == "f":
            arr = np.ma.masked_invalid(arr, copy=False)
        return arr

    def stats(self, approx: bool | None = None) -> dict[str, Any]:
        """Band statistics: ``min``, ``max``, ``mean``, ``std``, ``count`` (valid pixels),
        ``nodata_count`` and ``approximate``.

        ``approx=None`` reads the full band up to 16 million pixels and a
        decimated copy (about 4 million pixels, via overviews) above that;
        ``True``/``False`` force either way.  Results are cached.
        """
        rows, cols = self.shape or (0, 0)
        total = rows * cols
        if approx is None:
            approx = total > EXACT_STATS_MAX_PIXELS
        key = (self._band, bool(approx))
        if key not in self._stats:
            out_shape = None
            if approx and total > _APPROX_PIXELS:
                f = math.sqrt(total / _APPROX_PIXELS)
                out_shape = (max(1, int(rows / f)), max(1, int(cols / f)))
            arr = self.read(out_shape=out_shape)
            valid = arr.compressed().astype(np.float64)
            n = int(valid.size)
            self._stats[key] = {
                "min": float(valid.min()) if n else None,
                "max": float(valid.max()) if n else None,
                "mean": float(valid.mean()) if n else None,
                "std": float(valid.std()) if n else None,
                "count": n,
                "nodata_count": int(arr.size - n),
                "approximate": bool(out_shape is not None),
            }
        return dict(self._stats[key])

    def _crs_for_metadata(self):
        return None  # do not open the file just to fill metadata.crs

    # -- style and serialisation
    def _check_style(self, value: Any) -> RasterStyle:
        if value is None:
            return _default_raster_style(self._name)
        if not isinstance(value, RasterStyle):
            raise TypeError(f"a raster layer's style must be a RasterStyle, got "
                            f"{type(value).__name__}")
        return value

    def to_dict(self) -> dict:
        """The non-data parts, plus the absolute ``path`` and ``band``."""
        return {**super().to_dict(), "path": str(self._path), "band": self._band}

    @classmethod
    def from_dict(cls, d: dict, base_dir: str | os.PathLike | None = None) -> "RasterLayer":
        """Rebuild from :meth:`to_dict` output; a relative ``path`` is taken from ``base_dir``."""
        path = Path(d["path"])
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        return cls(d["name"], path, band=int(d.get("band", 1)), **cls._common_kwargs(d))
