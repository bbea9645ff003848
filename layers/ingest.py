"""Import files into a workspace: read with :mod:`layers.importer`, then add the
layers all at once, or none.

Examples
--------
>>> import geopandas as gpd, shapely, tempfile, pathlib
>>> from layers.workspace import Workspace
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> gpd.GeoDataFrame({"stop_id": ["S1"]}, geometry=[shapely.Point(114.3, 30.6)],
...                  crs=4326).to_file(d / "stops.geojson")
>>> ws = Workspace()
>>> import_into(ws, d / "stops.geojson", department="transport")
['stops']
>>> ws.layer("stops").metadata.department
'transport'
"""

from __future__ import annotations

import datetime as _dt
import shutil
from pathlib import Path

from spatial.errors import DataImportError
from spatial.feedback import Feedback
from spatial.schema import FRAMEWORK

from .importer import ImportedData, read_file
from .metadata import LayerMetadata
from .raster import RasterLayer
from .style import default_style
from .workspace import Workspace, layer_from_frame

__all__ = ["import_into"]


def import_into(
    workspace: Workspace,
    path: str | Path,
    *,
    layer: str | None = None,
    name: str | None = None,
    department: str | None = None,
    classification: str | None = None,
    crs=None,
    x: str | None = None,
    y: str | None = None,
    replace: bool = False,
    feedback: Feedback | None = None,
) -> list[str]:
    """Read ``path`` and add its layers to ``workspace``; return the new names.

    Nothing is added unless every layer read and every name is free: an
    existing layer is replaced only with ``replace=True``.  The workspace is
    changed in memory only; saving is the caller's choice (and is atomic).

    Raises
    ------
    DataImportError
        The file cannot be read (the message names file, layer and row), a
        layer of that name exists already, or ``name`` is given for a file
        holding several layers.
    """
    path = Path(path)
    results = read_file(path, layer=layer, crs=crs, x=x, y=y,
                        extent_lonlat=workspace.extent_lonlat(), feedback=feedback)
    if name is not None:
        if len(results) != 1:
            raise DataImportError(f"{path}: --name needs a file with one layer; it has "
                                  f"{len(results)} ({', '.join(r.name for r in results)})")
        results[0].name = name
    taken = [r.name for r in results if r.name in workspace.registry]
    if taken and not replace:
        raise DataImportError(
            f"{path}: layer {taken[0]!r} already exists in the workspace; "
            "use --replace to replace it")
    new_layers = [_make_layer(r, workspace, department, classification) for r in results]
    for r, lyr in zip(results, new_layers):  # all read: now change the workspace
        if r.name in workspace.registry:
            workspace.remove_layer(r.name)
        workspace.add_layer(lyr)
    workspace.log("import", {"file": str(path), "layers": [r.name for r in results],
                             "replace": replace,
                             "warnings": [w for r in results for w in r.warnings]})
    return [r.name for r in results]


def _make_layer(r: ImportedData, ws: Workspace, department, classification):
    dept = department or ("framework" if r.name in FRAMEWORK else "imported")
    meta = LayerMetadata(
        department=dept,
        title_en=r.name.replace("_", " ").capitalize(),
        title_zh=r.name,
        classification=classification or "internal",
        source=r.source,
        updated=_dt.date.today().isoformat(),
        crs=r.crs.to_string() if r.crs is not None else "",
        extra={"import_warnings": r.warnings, "encoding": r.encoding} if r.warnings or r.encoding
        else {},
    )
    if r.kind == "raster":
        raster = r.raster_path
        needs_crs = r.crs is not None and RasterLayer("probe", raster).crs is None
        if needs_crs or (ws.folder is not None and ws.folder not in raster.parents):
            # Keep rasters inside the workspace's folder (and give a CRS-less one its CRS).
            folder = ws.folder or raster.parent
            stem = ws.path.stem if ws.path is not None else "workspace"
            copy = folder / f"{stem}_{r.name}.tif"
            if copy.exists() and copy.resolve() != raster.resolve():
                raise DataImportError(f"{raster}: {copy} exists already; rename the layer")
            shutil.copyfile(raster, copy)
            if needs_crs:
                import rasterio

                with rasterio.open(copy, "r+") as ds:
                    ds.crs = r.crs
            raster = copy
        return RasterLayer(r.name, raster, meta)
    return layer_from_frame(r.name, r.data, meta, style=default_style(r.name, r.data, dept)
                            if r.kind == "vector" else None)
