"""Drill impact: who and what the hazard reaches, per band and in total.

:func:`run_drill` builds the hazard's footprint (:func:`spatial.drill.hazard.footprint`),
intersects it with the framework and overlay layers and returns a
:class:`DrillResult` whose ``summary`` has the fixed keys of DESIGN.md ("The
scenario file") and the drill contract.

Rules
-----
* **Which band.**  A feature belongs to the most severe band (smallest
  ``order``) it reaches.  Everything is measured in the drill's metric CRS
  (:func:`spatial.drill.hazard.drill_crs`).
* **Polygons share ground.**  A building (or any polygon) is affected by a
  band when its footprint and the band *share area*: the pairs the spatial
  index (an STRtree over the layer, queried with each band piece, prepared)
  reports as intersecting are kept only when the intersection has a positive
  area.  A building that only touches a band's edge — e.g. the edge of a
  flooded pixel, or a ring's circle — is not in that band.
* **Raster hazards** use the raster's own pixel grid as the index
  (:func:`grid_orders`): DESIGN.md's rule "the raster reaches the threshold
  anywhere under its footprint" — a pixel is under the footprint when they
  overlap by a positive area, however small (a 1 cm sliver counts; sharing a
  pixel edge or corner does not); the building takes the highest class of
  those pixels.
* **Points and lines** (legal entities, facilities, roads) use closed
  intersection: a point on a band's edge is in it.  A road is cut when a
  positive length of it lies in the hazard; ``length_m`` is that length.
* **People.**  Residents and age groups come from the ``population`` table
  joined on ``building_id`` (a building without a row has 0 residents), or,
  when the scenario gives ``"population": {"raster": …}``, from zonal sums of
  that raster over each band with fractional pixel coverage (exactextract);
  the age groups are then unknown (null).  Displaced residents are the
  residents of the affected buildings (or, with a raster, of the affected
  pixels).
* **Legal entities to notify**: those inside the hazard, hazardous first
  (``hazard_class`` not empty, or their ``uscc`` listed in
  ``hazardous_sites``), each group by band (most severe first); within a band
  hazardous ones by distance from a point hazard's source (the leaking plant
  first), the others by employees (descending); then by ``uscc``.
* **Facilities**: schools (``pupils``), kindergartens (``capacity``),
  hospitals (``beds``), clinics, elderly_care (``beds``) — whichever layers
  exist.
* **Roads cut**: for ``raster`` and ``zones`` hazards (floods).  A road is
  counted in the most severe band it crosses (so per-band counts add up to
  the total); ``roads_cut_length_m`` of a band is the length of road inside
  that band.
* **Privacy** (DESIGN.md "Security and privacy"): in the summary, people
  counts (residents, age groups, employees, pupils, displaced …) from 1 to
  ``SUPPRESSION_THRESHOLD - 1`` become null and their key paths are listed in
  ``summary["suppressed"]``; ``result.affected`` keeps the exact numbers.

Examples
--------
>>> import geopandas as gpd, pandas as pd, shapely
>>> b = gpd.GeoDataFrame({"building_id": ["B1", "B2"], "use": ["residential", "public"],
...                       "floors": [5, 2]},
...                      geometry=[shapely.box(100, 0, 110, 10), shapely.box(700, 0, 710, 10)],
...                      crs="EPSG:4547")
>>> pop = pd.DataFrame({"building_id": ["B1", "B2"], "residents": [40, 3], "age_0_14": [5, 0],
...                     "age_15_64": [30, 3], "age_65_plus": [5, 0]})
>>> r = run_drill({"version": 1, "hazard": {"kind": "buffer", "point": [0, 0],
...                "crs": "EPSG:4547", "rings_m": [500, 1000]}, "shelters": None},
...               {"buildings": b, "population": pop})
>>> r.summary["residents"], r.summary["buildings"], [x["residents"] for x in r.summary["bands"]]
(43, 2, [40, None])
>>> r.summary["suppressed"]
['bands[1].residents', 'bands[1].age_15_64']
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from spatial.crs import crs_label, parse_crs, transform_geometries
from spatial.errors import CRSError, SchemaError
from spatial.feedback import Feedback, ensure_feedback
from spatial.privacy import PEOPLE_COLUMNS, SUPPRESSION_THRESHOLD
from spatial.schema import key_column

from .hazard import _bands, _frame_from_bands, drill_crs
from .scenario import Scenario, ScenarioError, parse_scenario, resolve_inside, scenario_to_dict

__all__ = [
    "FACILITY_COUNTS",
    "FLOOR_BINS",
    "PEOPLE_KEYS",
    "DrillResult",
    "affected_orders",
    "grid_orders",
    "run_drill",
]

#: Facility layers and the column summed for each (None: count only).
FACILITY_COUNTS = {"schools": "pupils", "kindergartens": "capacity", "hospitals": "beds",
                   "clinics": None, "elderly_care": "beds"}
#: Building floor classes of ``buildings_by_floors``: label -> (lowest, highest) floors.
FLOOR_BINS = {"1-3": (1, 3), "4-6": (4, 6), "7-11": (7, 11), "12+": (12, math.inf)}
#: Summary keys that count people; 1 … threshold-1 is suppressed.
PEOPLE_KEYS = frozenset((*PEOPLE_COLUMNS, "employees", "pupils", "people", "displaced"))
#: Hazard kinds for which roads cut are reported (floods).
ROAD_KINDS = ("raster", "zones")
_NOT_HIT = np.iinfo(np.int64).max


@dataclass
class DrillResult:
    """The outcome of :func:`run_drill`.

    Attributes
    ----------
    scenario : Scenario
    summary : dict
        JSON-ready, the fixed keys (see :func:`run_drill`).
    footprint : geopandas.GeoDataFrame
        ``band``, ``order``, ``geometry`` in ``metric_crs``.
    affected : dict
        Layer -> affected rows with ``band`` and ``order`` columns, in
        ``metric_crs``: ``"buildings"`` (with the population columns, exact),
        ``"legal_entities"`` (notification order), each facility layer, and
        ``"roads"`` (the cut parts, with ``length_m``) for flood kinds.
    assignment : geopandas.GeoDataFrame or None
        Lines demand -> shelter (``from_id``, ``shelter_id``, ``people``,
        ``distance_m``) for maps; None without a shelter assignment.
    metric_crs : pyproj.CRS
    run_at : str
        ISO 8601 UTC time the drill was run.
    elapsed_s : float
    """

    scenario: Scenario
    summary: dict
    footprint: gpd.GeoDataFrame
    affected: dict
    assignment: gpd.GeoDataFrame | None
    metric_crs: pyproj.CRS
    run_at: str
    elapsed_s: float


# --------------------------------------------------------------------------- helpers

class _Stage:
    """Feedback for one stage: its 0–100 % mapped onto ``lo``–``hi`` of the parent."""

    def __init__(self, parent: Feedback, lo: float, hi: float):
        self.parent, self.lo, self.hi = parent, lo, hi

    def set_progress(self, percent: float) -> None:
        p = min(100.0, max(0.0, float(percent)))
        self.parent.set_progress(self.lo + (self.hi - self.lo) * p / 100.0)

    def push_info(self, message: str) -> None:
        self.parent.push_info(message)

    def is_canceled(self) -> bool:
        return self.parent.is_canceled()

    def check(self) -> None:
        self.parent.check()

    def cancel(self) -> None:
        self.parent.cancel()

    def step(self, done: int, total: int) -> None:
        self.set_progress(100.0 * done / total if total else 100.0)
        self.check()


def _json(v: Any) -> Any:
    """A JSON-ready scalar: numpy -> Python, NaN/NA -> None, whole floats kept as floats."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def _int(v) -> int:
    return round(float(v)) if v is not None else 0


def _geoms(frame: gpd.GeoDataFrame) -> np.ndarray:
    return np.asarray(frame.geometry.values, dtype=object)


def _metric_frame(frames: Mapping[str, Any], name: str, metric_crs: pyproj.CRS
                  ) -> gpd.GeoDataFrame | None:
    """Layer ``name`` in the metric CRS (index reset, invalid polygons repaired), or None."""
    f = frames.get(name)
    if not isinstance(f, gpd.GeoDataFrame) or f.active_geometry_name is None:
        return None
    if f.crs is None:
        raise CRSError(f"layer '{name}' has no CRS; set it before running a drill")
    out = f.reset_index(drop=True)
    if parse_crs(f.crs) != metric_crs:
        out = out.to_crs(metric_crs)
    elif out is f:
        out = out.copy()
    geoms = _geoms(out)
    bad = ~(shapely.is_missing(geoms) | shapely.is_valid(geoms))
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad])
        out = out.set_geometry(gpd.GeoSeries(geoms, crs=metric_crs, index=out.index))
    return out


def affected_orders(geoms: np.ndarray, parts: np.ndarray, part_order: np.ndarray, *,
                    shared_area: bool = True, tree=None) -> np.ndarray:
    """For each geometry, the smallest band ``order`` of the parts it reaches.

    Vectorised: one STRtree query of the parts against the geometries
    (``intersects``, the part prepared).  With ``shared_area``, a polygon
    counts only when its intersection with the part has a positive area
    (touching an edge is not enough); points and lines use plain intersection.

    Parameters
    ----------
    geoms : array of shapely geometries
    parts : array of shapely geometries
        Band pieces; ``part_order[i]`` is the band order of ``parts[i]``.
    shared_area : bool
        Apply the positive-area rule to polygons.
    tree : shapely.STRtree or geopandas sindex, optional
        An index over ``geoms`` (positions as in ``geoms``), e.g. the
        layer's cached ``GeoDataFrame.sindex``; built when not given.

    Returns
    -------
    numpy.ndarray of int64
        The band order, or ``numpy.iinfo(int64).max`` where nothing is reached.

    Examples
    --------
    >>> parts = np.array([shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)])
    >>> g = np.array([shapely.box(12, 2, 14, 4), shapely.box(20, 0, 21, 1), shapely.Point(10, 5),
    ...               shapely.box(9, 0, 11, 1)])
    >>> out = affected_orders(g, parts, np.array([0, 1]))
    >>> out[[0, 2, 3]].tolist(), bool(out[1] == np.iinfo(np.int64).max)
    ([1, 0, 0], True)
    """
    out = np.full(len(geoms), _NOT_HIT, dtype=np.int64)
    pairs = _pairs(geoms, parts, shared_area=shared_area, tree=tree)
    if pairs is not None:
        pi, gi = pairs
        np.minimum.at(out, gi, np.asarray(part_order, dtype=np.int64)[pi])
    return out


def _pairs(geoms: np.ndarray, parts: np.ndarray, *, shared_area: bool = True, tree=None):
    """``(part_index, geom_index)`` pairs that reach each other (see :func:`affected_orders`)."""
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms) or not len(parts):
        return None
    if tree is None:
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        rows = np.flatnonzero(present)
        if not len(rows):
            return None
        pi, ti = shapely.STRtree(geoms[rows]).query(parts, predicate="intersects")
        gi = rows[ti]
    else:
        pi, gi = tree.query(parts, predicate="intersects")
    if shared_area and len(pi):
        poly = np.isin(shapely.get_type_id(geoms[gi]), (3, 6))
        check = np.flatnonzero(poly)
        if len(check):
            shapely.prepare(parts)
            inside = shapely.contains_properly(parts[pi[check]], geoms[gi[check]])
            edge = check[~inside]
            keep = np.ones(len(pi), dtype=bool)
            if len(edge):
                g = geoms[gi[edge]]
                bad = ~shapely.is_valid(g)
                if bad.any():
                    g = g.copy()
                    g[bad] = shapely.make_valid(g[bad])
                area = shapely.area(shapely.intersection(parts[pi[edge]], g))
                keep[edge] = area > 0.0
            pi, gi = pi[keep], gi[keep]
    return pi, gi


def grid_orders(geoms: np.ndarray, grid, *, shared_area: bool = True) -> np.ndarray:
    """Band orders of geometries against a classified raster (:class:`RasterGrid`).

    The raster's own pixel grid is the spatial index: each geometry is moved
    to pixel coordinates and the pixels of its bounding box are read.  A
    polygon takes the highest class among the pixels it overlaps by a
    *positive area* (a pixel whose edge or corner it only touches does not
    count); where its box holds pixels of one class only the answer is
    immediate, otherwise the overlap with each candidate pixel is computed
    exactly.  A point (or line) takes the highest class among the pixels
    whose closed square it touches.

    Returns
    -------
    numpy.ndarray of int64
        ``len(grid.edges) - class``: 0 for the highest class;
        ``numpy.iinfo(int64).max`` where no pixel of any class is reached.

    Examples
    --------
    >>> from affine import Affine
    >>> from spatial.drill.hazard import RasterGrid
    >>> grid = RasterGrid(np.array([[0, 1, 2]], dtype=np.uint8), Affine(10, 0, 0, 0, -10, 10),
    ...                   None, None, (0.3, 1.0), np.empty(0), np.empty(0), np.empty(0))
    >>> g = np.array([shapely.box(2, 2, 10, 8), shapely.box(2, 2, 10.5, 8),
    ...               shapely.box(15, 2, 25, 8), shapely.Point(10, 5)])
    >>> orders = grid_orders(g, grid)
    >>> [int(o) if o < 9 else None for o in orders]
    [None, 1, 0, 1]
    """
    geoms = np.asarray(geoms, dtype=object)
    n_geoms = len(geoms)
    out = np.full(n_geoms, _NOT_HIT, dtype=np.int64)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    rows = np.flatnonzero(present)
    if not len(rows) or not grid.cls.any():
        return out
    height, width = grid.cls.shape
    t = grid.transform
    if grid.crs == grid.metric_crs and t.b == 0 and t.d == 0:
        # north-up grid in the metric CRS: pixel boxes straight from the bounds
        mb = shapely.bounds(geoms[rows])
        u0, u1 = (mb[:, 0] - t.c) / t.a, (mb[:, 2] - t.c) / t.a
        v0, v1 = (mb[:, 1] - t.f) / t.e, (mb[:, 3] - t.f) / t.e
        b = np.column_stack([np.minimum(u0, u1), np.minimum(v0, v1), np.maximum(u0, u1),
                             np.maximum(v0, v1)])
        px = None
    else:
        px = grid.to_pixels(geoms[rows])
        b = shapely.bounds(px)
    poly = np.isin(shapely.get_type_id(geoms[rows]), (3, 6)) & shared_area
    with np.errstate(invalid="ignore"):
        # open rule (polygons): pixels whose open square meets the open box
        c0 = np.where(poly, np.floor(b[:, 0]), np.ceil(b[:, 0]) - 1)
        r0 = np.where(poly, np.floor(b[:, 1]), np.ceil(b[:, 1]) - 1)
        c1 = np.where(poly, np.ceil(b[:, 2]), np.floor(b[:, 2]) + 1)
        r1 = np.where(poly, np.ceil(b[:, 3]), np.floor(b[:, 3]) + 1)
    finite = np.isfinite(b).all(axis=1)
    clipped = (c0 < 0) | (r0 < 0) | (c1 > width) | (r1 > height)
    c0 = np.clip(np.nan_to_num(c0), 0, width).astype(np.int64)
    c1 = np.clip(np.nan_to_num(c1), 0, width).astype(np.int64)
    r0 = np.clip(np.nan_to_num(r0), 0, height).astype(np.int64)
    r1 = np.clip(np.nan_to_num(r1), 0, height).astype(np.int64)
    w = np.where(finite, np.maximum(c1 - c0, 0), 0)
    h = np.where(finite, np.maximum(r1 - r0, 0), 0)
    count = w * h
    total = int(count.sum())
    if not total:
        return out
    gi = np.repeat(np.arange(len(rows)), count)  # sorted: one run of pixels per geometry
    starts = np.cumsum(count) - count
    k = np.arange(total) - np.repeat(starts, count)
    wg = w[gi]
    rr = r0[gi] + k // wg
    cc = c0[gi] + k % wg
    v = grid.cls[rr, cc].astype(np.int64)
    vmax = np.zeros(len(rows), dtype=np.int64)
    vmin = np.full(len(rows), 255, dtype=np.int64)
    some = np.flatnonzero(count > 0)
    vmax[some] = np.maximum.reduceat(v, starts[some])
    vmin[some] = np.minimum.reduceat(v, starts[some])
    klass = np.where(~poly, vmax, 0)  # points/lines: any touched pixel
    sure = poly & (vmin == vmax) & ~clipped & (b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1])
    klass = np.where(sure, vmax, klass)
    unsure = poly & ~sure & (vmax > 0)
    sel = np.flatnonzero(unsure[gi] & (v > 0))
    if len(sel):
        if px is None:
            todo = np.flatnonzero(unsure)
            px = np.empty(len(rows), dtype=object)
            px[todo] = grid.to_pixels(geoms[rows][todo])
        positive = _overlaps_pixels(px, gi[sel], rr[sel], cc[sel], width * height, width)
        np.maximum.at(klass, gi[sel][positive], v[sel][positive])
    n = len(grid.edges)
    out[rows] = np.where(klass > 0, n - klass, _NOT_HIT)
    return out


def _overlaps_pixels(px: np.ndarray, gi: np.ndarray, rr: np.ndarray, cc: np.ndarray,
                     n_pixels: int, width: int) -> np.ndarray:
    """Whether polygon ``px[gi[i]]`` (pixel coordinates) overlaps pixel (``rr[i]``,
    ``cc[i]``) by a positive area.

    Two cheap sufficient tests first — a vertex of the polygon strictly inside
    the pixel, or the pixel's centre inside the polygon — then the exact
    intersection area for the pairs left.
    """
    out = np.zeros(len(gi), dtype=bool)
    used = np.unique(gi)
    xy, owner = shapely.get_coordinates(px[used], return_index=True)
    x, y = xy[:, 0], xy[:, 1]
    strict = (x != np.floor(x)) & (y != np.floor(y))
    vkey = used[owner[strict]] * n_pixels + np.floor(y[strict]).astype(np.int64) * width + \
        np.floor(x[strict]).astype(np.int64)
    out |= np.isin(gi * n_pixels + rr * width + cc, vkey)
    rest = np.flatnonzero(~out)
    if len(rest):
        out[rest] = shapely.contains_xy(px[gi[rest]], cc[rest] + 0.5, rr[rest] + 0.5)
    rest = np.flatnonzero(~out)
    if len(rest):
        g = px[gi[rest]]
        bad = ~shapely.is_valid(g)
        if bad.any():
            g = g.copy()
            g[bad] = shapely.make_valid(g[bad])
        boxes = shapely.box(cc[rest], rr[rest], cc[rest] + 1, rr[rest] + 1)
        out[rest] = shapely.area(shapely.intersection(g, boxes)) > 0.0
    return out


@dataclass
class _Layer:
    """A layer in the drill's metric CRS: the frame, its geometries, an index."""

    name: str
    frame: gpd.GeoDataFrame
    geoms: np.ndarray  # metric CRS
    tree: Any  # geopandas sindex (cached on the frame) when no reprojection was needed

    def rows(self, rows: np.ndarray, metric_crs) -> gpd.GeoDataFrame:
        """These rows (positions), geometry in the metric CRS, index reset.

        Columns named ``band`` or ``order`` are left out: the drill's own take
        their place."""
        sub = self.frame.iloc[rows]
        gcol = self.frame.active_geometry_name
        drop = [gcol, *(c for c in ("band", "order") if c in sub.columns and c != gcol)]
        data = pd.DataFrame(sub.drop(columns=drop)).reset_index(drop=True)
        return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(self.geoms[rows], crs=metric_crs,
                                                             name=gcol), crs=metric_crs)


def _layer(frames: Mapping[str, Any], name: str, metric_crs: pyproj.CRS) -> _Layer | None:
    f = frames.get(name)
    if not isinstance(f, gpd.GeoDataFrame) or f.active_geometry_name is None:
        return None
    if f.crs is None:
        raise CRSError(f"layer '{name}' has no CRS; set it before running a drill")
    geoms = np.asarray(f.geometry.values, dtype=object)
    if parse_crs(f.crs) == metric_crs:
        return _Layer(name, f, geoms, f.sindex)
    return _Layer(name, f, transform_geometries(geoms, f.crs, metric_crs), None)


class _Hazard:
    """The footprint as the impact sees it: band pieces, or the raster grid."""

    def __init__(self, fp: gpd.GeoDataFrame, grid):
        self.grid = grid
        band_geoms = _geoms(fp)
        parts, idx = shapely.get_parts(band_geoms, return_index=True)
        self.parts = np.asarray(parts, dtype=object)
        self.part_order = fp["order"].to_numpy(dtype=np.int64)[idx]

    def orders(self, layer: _Layer) -> np.ndarray:
        if self.grid is not None:
            return grid_orders(layer.geoms, self.grid)
        return affected_orders(layer.geoms, self.parts, self.part_order, tree=layer.tree)

    def line_parts(self) -> tuple[np.ndarray, np.ndarray]:
        if self.grid is not None:
            parts, klass = self.grid.parts()
            return parts, len(self.grid.edges) - klass
        return self.parts, self.part_order


def _join_population(buildings: gpd.GeoDataFrame, frames: Mapping[str, Any]
                     ) -> tuple[gpd.GeoDataFrame, bool]:
    """Add residents/age columns from the population table (missing row -> 0)."""
    pop = frames.get("population")
    out = buildings.copy()
    have = isinstance(pop, pd.DataFrame) and "building_id" in getattr(pop, "columns", ()) and \
        "building_id" in buildings.columns
    cols = [c for c in PEOPLE_COLUMNS if have and c in pop.columns]
    for c in PEOPLE_COLUMNS:
        if c in out.columns and c not in cols:
            continue  # the buildings carry their own
        out[c] = np.zeros(len(out), dtype=np.int64)
    if cols:
        pop = pop[_isin(pop["building_id"], out["building_id"])]
        table = pd.DataFrame({c: pd.to_numeric(pop[c], errors="coerce") for c in cols})
        table["building_id"] = pop["building_id"].to_numpy()
        table = table[table["building_id"].notna()].groupby("building_id", sort=False)[cols].sum()
        idx = table.index.get_indexer(out["building_id"])
        hit = idx >= 0
        for c in cols:
            values = table[c].to_numpy(dtype=float)
            col = np.where(hit, values[np.where(hit, idx, 0)] if len(values) else 0.0, 0.0)
            col = np.nan_to_num(col)
            out[c] = col.astype(np.int64) if np.all(col == np.round(col)) else col
    return out, bool(cols)


def _isin(values: pd.Series, allowed: pd.Series) -> np.ndarray:
    """``values.isin(allowed)`` as a numpy mask, hashed by Arrow (fast on big text columns)."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        mask = pc.is_in(pa.array(values.astype(object) if values.dtype == object else values,
                                 from_pandas=True),
                        value_set=pa.array(allowed.astype(object) if allowed.dtype == object
                                           else allowed, from_pandas=True))
        return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)
    except (ImportError, pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return values.isin(allowed).to_numpy(dtype=bool)


def _number_sum(frame: pd.DataFrame, column: str):
    if column not in frame.columns:
        return None
    v = pd.to_numeric(frame[column], errors="coerce").fillna(0).sum()
    v = _json(v)
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _floors_bin(floors: pd.Series) -> pd.Series:
    f = pd.to_numeric(floors, errors="coerce")
    out = pd.Series("unknown", index=floors.index, dtype=object)
    for label, (lo, hi) in FLOOR_BINS.items():
        out[(f >= lo) & (f <= hi)] = label
    return out


def _counts_by(values: pd.Series, labels=None) -> dict:
    counts = values.fillna("unknown").astype(str).value_counts()
    if labels is not None:
        out = {k: int(counts.get(k, 0)) for k in labels}
        if counts.get("unknown", 0):
            out["unknown"] = int(counts["unknown"])
        return out
    return {str(k): int(v) for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))}


def _not_empty_text(s: pd.Series) -> np.ndarray:
    text = s.astype("string")
    return (text.notna() & (text.str.strip() != "")).to_numpy(dtype=bool, na_value=False)


# --------------------------------------------------------------------------- privacy

def _suppress(obj: Any, path: str, threshold: int, found: list[str], skip=()) -> None:
    """Null people counts 1 … threshold-1 in place; record their key paths."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in skip:
                continue
            p = f"{path}.{k}" if path else str(k)
            if k in PEOPLE_KEYS and isinstance(v, (int, float)) and not isinstance(v, bool):
                if 0 < v < threshold:
                    obj[k] = None
                    found.append(p)
            elif isinstance(v, (dict, list)):
                _suppress(v, p, threshold, found)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            if isinstance(v, (dict, list)):
                _suppress(v, f"{path}[{i}]", threshold, found)


def _suppress_entities(items: list[dict], threshold: int) -> list[str]:
    """Null employee counts 1 … threshold-1 in the notification list; their key paths."""
    emp = np.array([(it.get("employees") if it.get("employees") is not None else 0)
                    for it in items], dtype=float)
    small = np.flatnonzero((emp > 0) & (emp < threshold))
    for i in small.tolist():
        items[i]["employees"] = None
    return [f"legal_entities[{i}].employees" for i in small.tolist()]


# --------------------------------------------------------------------------- population raster

def _raster_population(path, fp: gpd.GeoDataFrame, metric_crs, key: str = "population.raster"):
    """Residents per band from a population raster (fractional coverage), and the
    affected pixels as demand points (people = value × covered fraction)."""
    import rasterio
    from exactextract import exact_extract

    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as e:
        raise ScenarioError(key, f"cannot read the raster {str(path)!r}: {e}") from None
    with src:
        if src.crs is None:
            raise ScenarioError(key, f"the raster {str(path)!r} has no CRS")
        rcrs = parse_crs(src.crs)
        zones = fp[["order", "geometry"]].to_crs(rcrs) if rcrs != metric_crs else fp[
            ["order", "geometry"]]
        zones = zones.reset_index(drop=True)
        if not len(zones):
            return np.zeros(0), gpd.GeoDataFrame({"people": []}, geometry=[], crs=metric_crs)
        table = exact_extract(src, zones, ["sum", "values", "coverage", "center_x", "center_y"],
                              output="pandas")
    sums = table["sum"].to_numpy(dtype=float)
    lens = table["values"].map(len).to_numpy()
    vals = np.concatenate([np.asarray(v, float) for v in table["values"]]) if lens.sum() else \
        np.zeros(0)
    cov = np.concatenate([np.asarray(v, float) for v in table["coverage"]]) if lens.sum() else \
        np.zeros(0)
    cx = np.concatenate([np.asarray(v, float) for v in table["center_x"]]) if lens.sum() else \
        np.zeros(0)
    cy = np.concatenate([np.asarray(v, float) for v in table["center_y"]]) if lens.sum() else \
        np.zeros(0)
    people = np.nan_to_num(vals * cov)
    band = np.repeat(zones["order"].to_numpy(), lens)
    pts = shapely.points(cx, cy)
    demand = gpd.GeoDataFrame({"cell_id": [f"cell_{i}" for i in range(len(pts))],
                               "residents": people, "order": band},
                              geometry=gpd.GeoSeries(pts, crs=rcrs), crs=rcrs)
    if rcrs != metric_crs:
        demand = demand.to_crs(metric_crs)
    demand = demand[demand["residents"] > 0].reset_index(drop=True)
    return np.nan_to_num(sums), demand


# --------------------------------------------------------------------------- the drill

def _source_point(hazard, metric: pyproj.CRS):
    """The hazard's source point in the metric CRS (buffer or plume at a point), else None."""
    if hazard.point is None or hazard.kind not in ("plume", "buffer"):
        return None
    from .hazard import _point_metric

    x, y = _point_metric(hazard, metric)
    return shapely.Point(x, y)


def run_drill(scenario: Scenario | Mapping | str | os.PathLike, frames: Mapping[str, Any], *,
              base_dir=None, needs=None, feedback: Feedback | None = None) -> DrillResult:
    """Run a drill: the scenario's hazard against the workspace's layers.

    Parameters
    ----------
    scenario : Scenario, dict, JSON text or path
        Parsed with :func:`~spatial.drill.scenario.parse_scenario` if needed.
    frames : mapping
        Layer name -> GeoDataFrame (``population``: a plain DataFrame), as
        ``Workspace.frames()`` gives.  Not changed.
    base_dir : path, optional
        The workspace folder (raster paths are relative to it).
    needs : NeedsProfile, optional
        The minimum-needs profile; default: the scenario's ``needs`` or
        :data:`spatial.drill.needs.DEFAULT_NEEDS`.
    feedback : Feedback, optional
        Progress (per stage) and cancellation (raises
        :class:`~spatial.errors.Canceled` between stages and chunks).

    Returns
    -------
    DrillResult
        ``summary`` keys: ``title``, ``hazard``, ``run_at``, ``crs``,
        ``population_source``, ``residents``, ``age_0_14``, ``age_15_64``,
        ``age_65_plus``, ``buildings``, ``buildings_by_use``,
        ``buildings_by_floors``, ``legal_entities`` [{uscc, name, industry,
        employees, hazard_class, hazardous, band}], ``employees``,
        ``facilities`` {layer: {count, pupils|beds|capacity, items}},
        ``roads_cut`` {count, length_m, items}, ``shelters``, ``needs``,
        ``bands`` [{band, order, area_m2, residents, age_*, buildings,
        buildings_by_use, legal_entities, employees, facilities, roads_cut,
        roads_cut_length_m}], ``suppressed``.

    Raises
    ------
    ScenarioError
        For a scenario mistake, or a layer/column/file the hazard names that
        is missing (naming the scenario key).
    spatial.errors.Canceled
        When the feedback was canceled.
    """
    t0 = time.perf_counter()
    run_at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    fb = ensure_feedback(feedback)
    if not isinstance(scenario, Scenario):
        scenario = parse_scenario(scenario, base_dir=base_dir)
    hazard = scenario.hazard
    fb.check()
    metric = drill_crs(frames)

    # 1. footprint ------------------------------------------------------------------
    fb.push_info("hazard footprint")
    labels, geoms, grid = _bands(hazard, frames, metric, base_dir, _Stage(fb, 0, 30))
    fp = _frame_from_bands(labels, geoms, metric)
    hz = _Hazard(fp, grid)
    band_geoms = _geoms(fp)
    # the whole hazard for "is it inside" tests; bands are disjoint, so no union is needed
    hazard_union = band_geoms[0] if len(band_geoms) == 1 else \
        shapely.geometrycollections(list(band_geoms)) if len(band_geoms) else shapely.Polygon()
    label_of = dict(zip(fp["order"], fp["band"]))
    fb.set_progress(30)
    fb.check()

    # 2. buildings and people ---------------------------------------------------------
    fb.push_info("buildings and residents")
    affected: dict[str, gpd.GeoDataFrame] = {}
    buildings = _layer(frames, "buildings", metric)
    if buildings is not None:
        b_order = hz.orders(buildings)
        hit = np.flatnonzero(b_order != _NOT_HIT)
        sel = buildings.rows(hit, metric)
    else:
        hit = np.zeros(0, dtype=np.int64)
        b_order = np.zeros(0, dtype=np.int64)
        sel = gpd.GeoDataFrame({"building_id": pd.Series([], dtype=object)},
                               geometry=gpd.GeoSeries([], crs=metric), crs=metric)
    sel, has_table = _join_population(sel, frames)
    sel = sel.assign(order=b_order[hit])
    sel.insert(0, "band", sel["order"].map(label_of).astype(object))
    affected["buildings"] = sel.sort_values(["order"], kind="stable").reset_index(drop=True)
    fb.set_progress(45)
    fb.check()

    pop_raster = None
    if scenario.population and scenario.population.get("raster"):
        rpath = resolve_inside(scenario.population["raster"], base_dir, "population.raster")
        band_sums, pop_raster = _raster_population(rpath, fp, metric)
        pop_by_order = dict(zip(fp["order"], band_sums))
    fb.set_progress(55)
    fb.check()

    # 3. legal entities, facilities, roads ---------------------------------------------
    fb.push_info("legal entities, facilities and roads")
    ents_layer = _layer(frames, "legal_entities", metric)
    if ents_layer is not None:
        e_order = hz.orders(ents_layer)
        hit = np.flatnonzero(e_order != _NOT_HIT)
        e = ents_layer.rows(hit, metric).assign(order=e_order[hit])
        haz = _not_empty_text(e["hazard_class"]) if "hazard_class" in e.columns else \
            np.zeros(len(e), dtype=bool)
        sites = frames.get("hazardous_sites")
        if sites is not None and "uscc" in sites.columns and "uscc" in e.columns:
            haz |= e["uscc"].isin(set(sites["uscc"].dropna())).to_numpy()
        e = e.assign(hazardous=haz)
        emp = pd.to_numeric(e["employees"], errors="coerce") if "employees" in e.columns else \
            pd.Series(np.nan, index=e.index)
        # Hazardous enterprises first, the most exposed first: by band, then (for a point
        # hazard) by distance from the source, so the leaking plant itself heads the list.
        # The others by band, then by employees.
        key2 = -emp.fillna(-1).to_numpy(dtype=float)
        src = _source_point(scenario.hazard, metric)
        if src is not None and len(e):
            dist = shapely.distance(e.geometry.values, src)
            key2 = np.where(haz, dist, key2)
        e = e.assign(_k2=key2)
        sort_cols = ["hazardous", "order", "_k2"] + (["uscc"] if "uscc" in e.columns else [])
        e = e.sort_values(sort_cols, ascending=[False] + [True] * (len(sort_cols) - 1),
                          kind="stable").drop(columns="_k2")
        e.insert(0, "band", e["order"].map(label_of).astype(object))
        affected["legal_entities"] = e.reset_index(drop=True)
    facilities = {}
    for layer, count_col in FACILITY_COUNTS.items():
        f = _layer(frames, layer, metric)
        if f is None:
            continue
        fb.check()
        f_order = hz.orders(f)
        hit = np.flatnonzero(f_order != _NOT_HIT)
        sub = f.rows(hit, metric).assign(order=f_order[hit])
        sub.insert(0, "band", sub["order"].map(label_of).astype(object))
        affected[layer] = sub.sort_values("order", kind="stable").reset_index(drop=True)
        facilities[layer] = count_col
    roads_cut = None
    if hazard.kind in ROAD_KINDS:
        roads = _layer(frames, "roads", metric)
        if roads is not None:
            parts, part_order = hz.line_parts()
            roads_cut = _roads_cut(roads, parts, part_order, label_of, metric)
            affected["roads"] = roads_cut
    fb.set_progress(70)
    fb.check()

    # 4. shelters and needs ------------------------------------------------------------
    b = affected["buildings"]
    if pop_raster is not None:
        displaced = round(float(sum(pop_by_order.values())))
    else:
        displaced = int(pd.to_numeric(b["residents"], errors="coerce").fillna(0).sum())
    shelters_summary, lines = _shelters(scenario, frames, metric, b, pop_raster, hazard_union,
                                        displaced, _Stage(fb, 70, 95))
    needs_summary = _needs(scenario, needs, displaced)
    fb.set_progress(95)
    fb.check()

    # 5. summary -------------------------------------------------------------------------
    summary = _summary(scenario, run_at, metric, fp, affected, facilities, roads_cut,
                       pop_by_order if pop_raster is not None else None, has_table,
                       shelters_summary, needs_summary)
    found: list[str] = []
    shelter_hidden = summary["shelters"].pop("suppressed", None) if isinstance(
        summary.get("shelters"), dict) else None
    _suppress(summary, "", SUPPRESSION_THRESHOLD, found,
              skip=("shelters", "needs", "hazard", "legal_entities"))
    found.extend(_suppress_entities(summary["legal_entities"], SUPPRESSION_THRESHOLD))
    if shelter_hidden is not None:
        found.extend(f"shelters.{p}" for p in shelter_hidden)
    elif isinstance(summary.get("shelters"), dict):
        _suppress(summary["shelters"], "shelters", SUPPRESSION_THRESHOLD, found)
    summary["suppressed"] = found
    fb.set_progress(100)
    return DrillResult(scenario=scenario, summary=summary, footprint=fp, affected=affected,
                       assignment=lines, metric_crs=metric, run_at=run_at,
                       elapsed_s=time.perf_counter() - t0)


def _roads_cut(roads: _Layer, parts, part_order, label_of, metric) -> gpd.GeoDataFrame:
    """Roads with a positive length inside the hazard: the cut part, ``length_m``, band."""
    geoms = roads.geoms
    pairs = _pairs(geoms, parts, shared_area=False, tree=roads.tree)
    if pairs is None or not len(pairs[0]):
        out = roads.rows(np.zeros(0, dtype=np.int64), metric)
        out.insert(0, "band", pd.Series([], dtype=object))
        return out.assign(order=pd.Series([], dtype=np.int64), length_m=pd.Series([], dtype=float))
    pi, gi = pairs
    pieces = shapely.intersection(geoms[gi], parts[pi])
    sub, sidx = shapely.get_parts(pieces, return_index=True)
    lines = np.isin(shapely.get_type_id(sub), (1, 2))
    sub, sidx = sub[lines], sidx[lines]
    lengths = shapely.length(sub)
    road_of_piece = gi[sidx]
    order_of_piece = np.asarray(part_order)[pi[sidx]]
    n = len(geoms)
    total = np.bincount(road_of_piece, weights=lengths, minlength=n)
    positive = lengths > 0
    best = np.full(n, _NOT_HIT, dtype=np.int64)
    np.minimum.at(best, road_of_piece[positive], order_of_piece[positive])
    cut = np.flatnonzero(total > 0)
    keep = np.flatnonzero(np.isin(road_of_piece, cut) & positive)
    keep = keep[np.argsort(road_of_piece[keep], kind="stable")]
    # one MultiLineString per cut road from its pieces (vectorised)
    rank = np.searchsorted(cut, road_of_piece[keep])
    simple = shapely.get_parts(sub[keep], return_index=True)
    multi = shapely.multilinestrings(simple[0], indices=rank[simple[1]])
    merged = shapely.line_merge(multi)
    out = roads.rows(cut, metric)
    out = out.set_geometry(gpd.GeoSeries(merged, crs=metric, index=out.index))
    out = out.assign(order=best[cut], length_m=total[cut])
    by_order = pd.Series(lengths).groupby(order_of_piece).sum()
    out.attrs["length_by_order"] = {int(k): float(v) for k, v in by_order.items()}
    out.insert(0, "band", out["order"].map(label_of).astype(object))
    return out.sort_values(["order", "length_m"], ascending=[True, False],
                           kind="stable").reset_index(drop=True)


def _shelters(scenario: Scenario, frames, metric, buildings: gpd.GeoDataFrame, pop_raster,
              hazard_union, displaced: int, fb) -> tuple[dict, gpd.GeoDataFrame | None]:
    spec = scenario.shelters
    base = {"method": "none", "displaced": displaced, "capacity": 0, "capacity_used": 0,
            "unsheltered": displaced, "unreachable": 0, "longest_walk_m": None,
            "assignment": [], "flows": []}
    if spec is None:
        return {**base, "error": "the scenario asks for no shelter assignment "
                                 "(\"shelters\": null)"}, None
    shelters = _metric_frame(frames, spec.layer, metric)
    if shelters is None:
        return {**base, "error": f"no shelter layer '{spec.layer}' in the workspace "
                                 "(scenario key shelters.layer)"}, None
    if spec.capacity not in shelters.columns:
        return {**base, "error": f"shelter layer '{spec.layer}' has no capacity column "
                                 f"'{spec.capacity}' (scenario key shelters.capacity)"}, None
    from spatial.drill.shelters import assign_shelters, safe_places

    if pop_raster is not None:
        demand = pop_raster
    else:
        people = pd.to_numeric(buildings["residents"], errors="coerce").fillna(0)
        cols = [c for c in ("building_id", "residents", "community_id")
                if c in buildings.columns]  # community_id: grouping of a city-wide drill
        demand = buildings.loc[people.to_numpy() > 0, [*cols, buildings.geometry.name]]
    roads = _metric_frame(frames, "roads", metric)
    try:
        result = assign_shelters(demand, "residents", shelters, spec.capacity, roads,
                                 exclude=hazard_union, feedback=fb)
    except (SchemaError, CRSError) as e:
        return {**base, "error": f"shelter assignment failed: {e}"}, None
    out = result.to_summary(suppress_below=SUPPRESSION_THRESHOLD)
    renamed = {**frames, "shelters": shelters} if spec.layer != "shelters" else dict(frames)
    metric_frames = {k: _metric_frame(renamed, k, metric) for k in ("shelters", "schools")
                     if isinstance(renamed.get(k), gpd.GeoDataFrame)}
    out["safe_places"] = _jsonable(safe_places(metric_frames, hazard_union,
                                               shelter_capacity=spec.capacity))
    return out, result.lines


def _needs(scenario: Scenario, profile, displaced: int) -> dict:
    from spatial.drill import needs as needs_mod

    if profile is None:
        profile = needs_mod.profile_from_dict(scenario.needs) if scenario.needs else \
            needs_mod.DEFAULT_NEEDS
    items = needs_mod.needs_for(displaced, profile)
    return {"source": getattr(profile, "source", None),
            "source_zh": getattr(profile, "source_zh", None) or None,
            "days": 1, "displaced": displaced, "items": _jsonable(items)}


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return _json(obj)


def _summary(scenario, run_at, metric, fp, affected, facilities, roads_cut, pop_by_order,
             has_table, shelters_summary, needs_summary) -> dict:
    b = affected["buildings"]
    people_cols = list(PEOPLE_COLUMNS)
    use = b["use"] if "use" in b.columns else pd.Series("unknown", index=b.index)
    floors = _floors_bin(b["floors"]) if "floors" in b.columns else \
        pd.Series("unknown", index=b.index)
    ents = affected.get("legal_entities")

    def people(frame) -> dict:
        return {c: _json(pd.to_numeric(frame[c], errors="coerce").fillna(0).sum()) if c in
                frame.columns else 0 for c in people_cols}

    totals = people(b)
    for c in people_cols:
        totals[c] = _int(totals[c]) if float(totals[c]).is_integer() else totals[c]
    if pop_by_order is not None:
        totals = {"residents": _json(round(float(sum(pop_by_order.values())), 1)),
                  "age_0_14": None, "age_15_64": None, "age_65_plus": None}
        source = f"raster: {scenario.population['raster']}"
    else:
        source = "population table" if has_table else "none (no population table)"

    def entity_items(e) -> list:
        """The notification list, built column-wise (it may hold many thousands)."""
        if e is None or not len(e):
            return []
        cols = {}
        for c in ("uscc", "name", "industry", "employees", "hazard_class"):
            if c in e.columns:
                col = e[c]
                if c == "employees":
                    col = pd.to_numeric(col, errors="coerce")
                    col = col.astype("Int64") if (col.dropna() % 1 == 0).all() else col
                elif c == "hazard_class":
                    col = col.where(_not_empty_text(col), None)
                cols[c] = col.astype(object).where(col.notna(), None).to_numpy(dtype=object)
            else:
                cols[c] = np.full(len(e), None, dtype=object)
        cols["hazardous"] = e["hazardous"].to_numpy(dtype=bool).tolist()
        cols["band"] = e["band"].to_numpy(dtype=object)
        keys = list(cols)
        values = [v.tolist() if isinstance(v, np.ndarray) else v for v in cols.values()]
        return [dict(zip(keys, row)) for row in zip(*values)]

    fac_summary = {}
    for layer, count_col in facilities.items():
        f = affected[layer]
        key = key_column(layer, list(f.columns))
        entry: dict[str, Any] = {"count": len(f)}
        if count_col is not None and count_col in f.columns:
            entry[count_col] = _number_sum(f, count_col)
        ids = f[key].to_numpy(dtype=object) if key in f.columns else f.index.to_numpy()
        names = f["name"].to_numpy(dtype=object) if "name" in f.columns else [None] * len(f)
        counts = f[count_col].to_numpy(dtype=object) if count_col in f.columns else None
        items = []
        for i in range(len(f)):
            item = {"id": _json(ids[i]), "name": _json(names[i]), "band": f["band"].iat[i]}
            if counts is not None:
                item[count_col] = _json(counts[i])
            items.append(item)
        entry["items"] = items
        fac_summary[layer] = entry

    if roads_cut is not None:
        rkey = "road_id" if "road_id" in roads_cut.columns else None
        roads_summary = {"count": len(roads_cut),
                         "length_m": round(float(roads_cut["length_m"].sum()), 1),
                         "items": [_json(v) for v in (roads_cut[rkey] if rkey else
                                                      roads_cut.index)]}
    else:
        roads_summary = {"count": 0, "length_m": 0.0, "items": []}

    bands = []
    for order, label, geom in zip(fp["order"], fp["band"], fp.geometry.values):
        bb = b[b["order"] == order]
        row: dict[str, Any] = {"band": label, "order": int(order),
                               "area_m2": round(float(shapely.area(geom)), 1)}
        if pop_by_order is not None:
            row.update({"residents": _json(round(float(pop_by_order.get(order, 0.0)), 1)),
                        "age_0_14": None, "age_15_64": None, "age_65_plus": None})
        else:
            row.update({c: _int(v) if float(v).is_integer() else v
                        for c, v in people(bb).items()})
        row["buildings"] = len(bb)
        row["buildings_by_use"] = _counts_by(use[bb.index]) if len(bb) else {}
        eb = ents[ents["order"] == order] if ents is not None else None
        row["legal_entities"] = len(eb) if eb is not None else 0
        row["employees"] = _number_sum(eb, "employees") if eb is not None and \
            "employees" in eb.columns else 0
        row["facilities"] = {layer: int((affected[layer]["order"] == order).sum())
                             for layer in facilities}
        if roads_cut is not None:
            rb = roads_cut[roads_cut["order"] == order]
            row["roads_cut"] = len(rb)
            row["roads_cut_length_m"] = round(
                roads_cut.attrs.get("length_by_order", {}).get(int(order), 0.0), 1)
        else:
            row["roads_cut"] = 0
            row["roads_cut_length_m"] = 0.0
        bands.append(row)

    summary = {
        "title": dict(scenario.title),
        "hazard": scenario_to_dict(scenario)["hazard"],
        "run_at": run_at,
        "crs": crs_label(metric),
        "population_source": source,
        **totals,
        "buildings": len(b),
        "buildings_by_use": _counts_by(use),
        "buildings_by_floors": _counts_by(floors, list(FLOOR_BINS)),
        "legal_entities": entity_items(ents),
        "employees": (_number_sum(ents, "employees") if ents is not None and
                      "employees" in ents.columns else 0),
        "facilities": fac_summary,
        "roads_cut": roads_summary,
        "shelters": _jsonable(shelters_summary),
        "needs": needs_summary,
        "bands": bands,
    }
    return summary
