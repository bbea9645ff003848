"""Hazard footprints in severity bands (scaffold; being filled in)."""

from __future__ import annotations

__all__ = ["footprint", "raster_mask_polygons", "drill_crs"]


def drill_crs(frames):
    """The metric CRS of a drill: the buildings' CRS when projected, else a local TM."""
    raise NotImplementedError


def footprint(hazard, frames, *, metric_crs, base_dir=None, feedback=None):
    """The hazard's footprint: GeoDataFrame with ``band``, ``order``, ``geometry``."""
    raise NotImplementedError


def raster_mask_polygons(path, threshold, metric_crs):
    """The pixels >= threshold as polygons in ``metric_crs``."""
    raise NotImplementedError
