"""Write query results and tables to CSV, GeoJSON or GeoPackage, atomically.

The format follows the file's extension.  A failed export leaves no partial
file: everything is written to a temporary file beside the target and moved
into place only when complete.  GeoJSON is written in EPSG:4326 (RFC 7946);
CSV carries the geometry as WKT in a ``geometry`` column.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from spatial.errors import CityFrameError

__all__ = ["EXPORT_FORMATS", "export_frame", "ExportError"]

EXPORT_FORMATS = {".csv": "csv", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg"}


class ExportError(CityFrameError, ValueError):
    """The result could not be written; the message names the file."""


def export_frame(frame: pd.DataFrame, path: str | os.PathLike, *, layer: str = "result") -> Path:
    """Write ``frame`` to ``path`` (format by extension); return the path.

    Examples
    --------
    >>> import tempfile, pathlib, shapely
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> gdf = gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.Point(1, 2)], crs=4547)
    >>> export_frame(gdf, d / "r.csv").read_text().splitlines()[0]
    'id,geometry'
    """
    path = Path(path)
    fmt = EXPORT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ExportError(f"{path}: unknown output format {path.suffix!r}; use "
                          f"{', '.join(sorted(EXPORT_FORMATS))}")
    if not path.parent.is_dir():
        raise ExportError(f"{path}: folder {path.parent} does not exist")
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        _write(frame, tmp, fmt, layer)
        os.replace(tmp, path)
    except CityFrameError:
        raise
    except Exception as exc:  # noqa: BLE001 - any writer failure names the file
        raise ExportError(f"{path}: could not write the result: {exc}") from exc
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
            leftover.unlink(missing_ok=True)
    return path


def _write(frame: pd.DataFrame, tmp: Path, fmt: str, layer: str) -> None:
    is_geo = isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns
    if fmt == "csv":
        out = pd.DataFrame(frame.drop(columns=frame.geometry.name) if is_geo else frame)
        if is_geo:
            out["geometry"] = frame.geometry.to_wkt().to_numpy()
        out.to_csv(tmp, index=False, encoding="utf-8")
        return
    if not is_geo:
        if fmt == "geojson":
            raise ExportError(f"{tmp.name}: a table without geometry cannot be GeoJSON; use .csv")
        pyogrio.write_dataframe(pd.DataFrame(frame), tmp, layer=layer, driver="GPKG")
        return
    if fmt == "geojson":
        data = frame.to_crs(4326) if frame.crs is not None else frame
        pyogrio.write_dataframe(data, tmp, driver="GeoJSON")
    else:
        pyogrio.write_dataframe(frame, tmp, layer=layer, driver="GPKG")
