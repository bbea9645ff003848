"""Describe a workspace without loading its data (``main.py info``).

Reads the CityFrame tables and GDAL's layer information only, so a
1,000,000-building workspace is described in well under a second.  Never
writes to the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyogrio

from spatial.errors import WorkspaceError
from spatial.schema import DEPARTMENTS

from .workspace import _check_is_geopackage, _read_catalog

__all__ = ["describe_workspace", "format_description"]


def describe_workspace(path: str | os.PathLike) -> dict:
    """Layers of the workspace at ``path`` with counts, departments and classifications.

    Returns a JSON-able dict: ``path``, ``layers`` (list of dicts with
    ``name``, ``kind``, ``geometry``, ``features``, ``department``,
    ``classification``, ``title_en``, ``title_zh``, ``crs``, ``source``,
    ``updated``), ``saved_queries``, ``scenarios``, ``audit_entries`` and
    ``warnings``.
    """
    path = Path(path).absolute()
    _check_is_geopackage(path)
    try:
        catalog = _read_catalog(path)
    except WorkspaceError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is a corrupt file
        raise WorkspaceError(f"workspace file {path} is corrupt or unreadable: {exc}") from exc
    layers = []
    warnings = list(catalog["warnings"])
    for e in catalog["entries"]:
        meta = e.get("metadata") or {}
        row = {
            "name": e["name"], "kind": e["kind"], "geometry": None, "features": None,
            "department": meta.get("department", ""),
            "classification": meta.get("classification", ""),
            "title_en": meta.get("title_en", ""), "title_zh": meta.get("title_zh", ""),
            "crs": meta.get("crs", ""), "source": meta.get("source", ""),
            "updated": meta.get("updated", ""),
        }
        if e["kind"] in ("vector", "table"):
            info = pyogrio.read_info(path, layer=e["name"], force_feature_count=True)
            row["features"] = int(info["features"])
            row["geometry"] = info.get("geometry_type") if e["kind"] == "vector" else None
            row["crs"] = info.get("crs") or row["crs"]
        else:
            raster = _raster_info(path.parent, e.get("raster_path"))
            if raster is None:
                warnings.append(f"raster layer {e['name']!r}: file {e.get('raster_path')!r} "
                                "is missing")
            else:
                row.update(raster)
        layers.append(row)
    return {
        "path": str(path),
        "layers": layers,
        "saved_queries": [q[0] for q in catalog.get("queries", [])],
        "scenarios": [s[0] for s in catalog.get("scenarios", [])],
        "audit_entries": len(catalog.get("audit", [])),
        "warnings": warnings,
    }


def _raster_info(folder: Path, rel: str | None) -> dict | None:
    if not rel:
        return None
    target = (folder / rel).resolve()
    if folder.resolve() not in target.parents or not target.is_file():
        return None
    import rasterio

    with rasterio.open(target) as ds:
        return {"geometry": "raster", "features": None,
                "size": f"{ds.width}×{ds.height}",
                "crs": ds.crs.to_string() if ds.crs else ""}


def format_description(desc: dict, lang: str = "en") -> str:
    """A plain-text table of :func:`describe_workspace`'s result."""
    zh = lang == "zh"
    heads = (["图层", "类型", "要素数", "部门", "密级", "坐标系", "标题"] if zh else
             ["layer", "kind", "features", "department", "classification", "CRS", "title"])
    rows = []
    for lyr in desc["layers"]:
        dept = DEPARTMENTS.get(lyr["department"], {}).get("zh" if zh else "en", lyr["department"])
        title = (lyr["title_zh"] or lyr["title_en"]) if zh else (lyr["title_en"] or lyr["title_zh"])
        kind = lyr["geometry"] or lyr["kind"]
        count = lyr.get("size") if lyr["features"] is None else f"{lyr['features']:,}"
        rows.append([lyr["name"], str(kind), count or "", dept, lyr["classification"],
                     lyr["crs"], title])
    widths = [max(_width(r[i]) for r in [heads, *rows]) for i in range(len(heads))]
    lines = [("工作空间：" if zh else "workspace: ") + desc["path"], ""]
    for r in [heads, ["-" * w for w in widths], *rows]:
        lines.append("  ".join(_pad(c, w) for c, w in zip(r, widths)).rstrip())
    n = len(desc["layers"])
    lines.append("")
    if zh:
        lines.append(f"{n} 个图层；已存查询 {len(desc['saved_queries'])} 个；演练情景 "
                     f"{len(desc['scenarios'])} 个；审计记录 {desc['audit_entries']} 条")
    else:
        lines.append(f"{n} layers; {len(desc['saved_queries'])} saved queries; "
                     f"{len(desc['scenarios'])} scenarios; {desc['audit_entries']} audit entries")
    if desc["saved_queries"]:
        lines.append(("已存查询：" if zh else "saved queries: ") + ", ".join(desc["saved_queries"]))
    if desc["scenarios"]:
        lines.append(("演练情景：" if zh else "scenarios: ") + ", ".join(desc["scenarios"]))
    lines.extend(("警告：" if zh else "warning: ") + w for w in desc["warnings"])
    return "\n".join(lines)


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(c) > 0x2E7F else 1 for c in str(text))


def _pad(text: str, width: int) -> str:
    return str(text) + " " * (width - _width(text))
