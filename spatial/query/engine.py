"""The query executor: runs a version-1 query on a set of layers, vectorised.

:class:`QueryEngine` holds the layers of a workspace (``name -> GeoDataFrame``,
or a plain DataFrame for the ``population`` table) and runs parsed
:class:`~spatial.query.model.Query` objects (or query documents) on them.  It
never changes the frames it is given.  Semantics follow DESIGN.md ("The query
file"):

* ``where`` is an AND list, ``{"any": [...]}`` an OR group; a null value
  satisfies no comparison, only ``is_null`` (SQL).
* Relations: ``intersects``, ``within`` (target inside reference),
  ``contains`` (target contains reference), ``within_distance`` (edge to edge,
  ``<= distance_m``), ``beyond_distance`` (farther than ``distance_m`` from
  every reference feature; an empty reference matches every target feature
  that has a geometry) and ``nearest`` (``k`` neighbours, optional inclusive
  ``max_distance_m``; one row per (target, neighbour) pair, nearest first,
  ties to the smaller reference key; adds ``nearest_id`` and ``distance_m``).
  ``relation.where`` filters the reference first.  On the same layer a feature
  is never related to itself (not its own neighbour, not "within 1 km of a
  school" because of itself).  Features without a geometry match no relation.
* Target ``buildings`` carries the ``population`` columns joined on
  ``building_id``; a building without a population row has 0 residents and 0
  in every age group.
* ``group_by``: a target feature belongs to the first zone (in the zone
  layer's order) that contains or touches its point-on-surface; the result has
  every zone (key, geometry in the target's CRS, aggregates): count 0, sum 0
  and null mean/min/max for zones without matches.  With ``nearest``, each
  matched target counts once (``distance_m``/``nearest_id`` are those of its
  nearest neighbour).
* Distances are metres on the ground: one metric CRS per query, chosen from the
  target layer by :func:`spatial.crs.metric_crs_for`; every other layer is
  brought into it.  Results stay in the target's CRS.

Caching (what does not change between queries is computed once, then reused by
every query whatever its filters, distances or grouping):

* per (layer, metric CRS): the metric geometries (invalid ones repaired once
  with :func:`shapely.make_valid`, counted), their STRtree (and, for filters
  keeping at most half a layer, one per filter), k-d trees of point layers,
  points-on-surface with the radius of each feature's envelope around it;
* per (target layer, zone layer, metric CRS): the zone of every feature;
* per (target layer, reference layer, predicate, metric CRS) for
  ``intersects``/``within``/``contains``: every related pair of the whole
  layers (a spatial join index; filters are masks over it);
* per (target layer, filtered point reference, metric CRS) for the distance
  relations: each target's distance bounds to the nearest reference point
  (a k-d tree query from its point-on-surface), exact GEOS distances only
  for the features whose bounds straddle the distance asked (kept too);
* the population join, attribute masks, and the results of saved queries
  used through ``query:NAME``.

Which side queries which tree is chosen by size (the small side queries the big
side's tree).  :meth:`QueryEngine.invalidate` drops the caches of a layer and of
every saved query that depends on it.
"""

from __future__ import annotations

import json
import math
import threading
import time
import warnings
from collections import Counter, OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from pandas.api import types as pdt

from spatial.crs import is_metric_projected, local_tm, metric_crs_for, transform_geometries
from spatial.errors import Canceled
from spatial.schema import key_column

from . import model as _model
from ._aggregate import aggregate
from ._filters import where_mask
from ._nearest import k_nearest, k_nearest_points
from .model import QUERY_PREFIX, Aggregate, Query, QueryError

__all__ = ["BUILDINGS", "POPULATION", "QueryEngine", "QueryResult"]

BUILDINGS = "buildings"
POPULATION = "population"
#: Query-side geometries per STRtree call (progress and cancel between chunks).
CHUNK = 100_000
#: A filter that keeps more than this share of a layer queries the whole-layer
#: tree and drops the other hits, instead of building a tree for the subset.
SUBSET_TREE_SHARE = 0.5
#: Filtered-subset trees kept per layer and metric CRS (least recently used go).
MAX_SUBSET_TREES = 8
MAX_MASKS = 128
#: Distance fields (target layer x filtered point reference) kept, least recently built go.
MAX_FIELDS = 8
#: Relation pairs kept per (target, reference, predicate); above this, no pair index.
MAX_PAIRS = 20_000_000
PAIR_CHUNK = 10_000
_NEAREST_COLUMNS = ("nearest_id", "distance_m")


@dataclass
class QueryResult:
    """What :meth:`QueryEngine.run` returns.

    Attributes
    ----------
    data : pandas.DataFrame
        Without ``group_by``: the matching target rows, all columns (plus
        ``nearest_id`` and ``distance_m`` for ``nearest``), a GeoDataFrame in
        the target's CRS, index labels those of the target layer.  With
        ``group_by``: one row per zone (zone key, aggregates, zone geometry in
        the target's CRS).  With ``aggregate`` but no ``group_by``: a one-row
        DataFrame of totals.
    query : Query
    metric_crs : pyproj.CRS or None
        The CRS distances were measured in (None when the target has no geometry).
    matched : int
        Number of target features that matched.
    elapsed_s : float
        Wall time of :meth:`QueryEngine.run`.
    positions : numpy.ndarray or None
        Without ``group_by``/``aggregate``: the target row (position) of each row
        of ``data``, e.g. to select the features on the map.  With them: the
        distinct target rows that matched (what the zones and totals count).
    key : str or None
        The key column of the rows of ``data`` (for chaining and ``nearest_id``).
    repaired : dict
        Layer name -> number of invalid geometries repaired with ``make_valid``.
    """

    data: pd.DataFrame
    query: Query
    metric_crs: pyproj.CRS | None
    matched: int
    elapsed_s: float = 0.0
    positions: np.ndarray | None = None
    key: str | None = None
    repaired: dict = field(default_factory=dict)


# --------------------------------------------------------------------------
# Internal records
# --------------------------------------------------------------------------


class _Progress:
    """Maps 0–1 progress of a stage onto a range of the caller's feedback."""

    def __init__(self, feedback, lo: float = 0.0, hi: float = 100.0) -> None:
        self.feedback = feedback
        self.lo, self.hi = lo, hi

    def set(self, fraction: float) -> None:
        if self.feedback is not None:
            f = min(1.0, max(0.0, fraction))
            self.feedback.set_progress(self.lo + (self.hi - self.lo) * f)

    def check(self) -> None:
        if self.feedback is not None and self.feedback.is_canceled():
            raise Canceled("canceled by the user")

    def info(self, message: str) -> None:
        if self.feedback is not None:
            self.feedback.push_info(message)

    def sub(self, a: float, b: float) -> _Progress:
        span = self.hi - self.lo
        return _Progress(self.feedback, self.lo + span * a, self.lo + span * b)


@dataclass
class _Source:
    """A layer or a saved query's result, as the engine reads it."""

    name: str
    frame: pd.DataFrame
    extra: dict  # joined columns (the population of buildings): name -> ndarray
    key: str | None
    crs: Any
    has_geometry: bool
    tags: tuple  # cache tags: names whose change invalidates this source's masks

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def geometry_name(self) -> str | None:
        return self.frame.geometry.name if self.has_geometry else None

    def column(self, name: str) -> pd.Series | None:
        if name in self.extra:
            return pd.Series(self.extra[name], name=name)
        if name in self.frame.columns and name != self.geometry_name:
            col = self.frame[name]
            return col if isinstance(col, pd.Series) else None
        return None


class _Geo:
    """The metric geometry of one source in one metric CRS, and what is derived from it."""

    def __init__(self, geoms: np.ndarray, repaired: int) -> None:
        self.geoms = geoms
        self.repaired = repaired
        self.present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        self.bounds = _total_bounds(geoms)
        self.types = shapely.get_type_id(geoms)
        self.all_points = bool(np.all(self.types[self.present] == 0))
        self.pos_xy: np.ndarray | None = None  # point-on-surface (n x 2, NaN when missing)
        self.radius: np.ndarray | None = None  # farthest envelope corner from pos
        self.trees: OrderedDict = OrderedDict()  # filter key -> (tree, rows, bounds)
        self.kds: OrderedDict = OrderedDict()  # filter key -> k-d tree (point layers)


@dataclass
class _Ctx:
    """What one run used: layers and saved queries (name -> fingerprint)."""

    layers: set = field(default_factory=set)
    saved: dict = field(default_factory=dict)
    repaired: dict = field(default_factory=dict)


@dataclass
class _SavedEntry:
    result: QueryResult
    layers: set
    saved: dict


def _fingerprint(doc) -> str:
    if isinstance(doc, Query):
        return repr(doc)
    try:
        return json.dumps(doc, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(doc)


def _has_geometry(frame) -> bool:
    if not isinstance(frame, gpd.GeoDataFrame):
        return False
    try:
        frame.geometry  # noqa: B018 - raises when there is no active geometry column
    except AttributeError:
        return False
    return True


def _total_bounds(geoms: np.ndarray) -> tuple[float, float, float, float]:
    """``(minx, miny, maxx, maxy)``; NaN when there are no coordinates."""
    if len(geoms) == 0:
        return (math.nan,) * 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
        return tuple(float(v) for v in shapely.total_bounds(geoms))


def _chunks(idx: np.ndarray, size: int = CHUNK):
    for start in range(0, len(idx), size):
        yield idx[start:start + size]


_PRED_TARGET_SIDE = {"intersects": "intersects", "within": "within", "contains": "contains",
                     "within_distance": "dwithin"}
_PRED_REFERENCE_SIDE = {"intersects": "intersects", "within": "contains", "contains": "within",
                        "within_distance": "dwithin"}


# --------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------


class QueryEngine:
    """Runs queries on a set of layers, caching indexes between runs.

    Parameters
    ----------
    frames : mapping of str to DataFrame
        Layer name -> GeoDataFrame (or DataFrame for ``population`` and other
        tables).  Not changed; the mapping is copied (use :meth:`set_frame`).
    saved : mapping of str to dict, optional
        Saved queries (name -> query document or :class:`Query`) for
        ``query:NAME``.  Kept by reference, so edits to it are seen; a saved
        query whose document changed is run again.

    Attributes
    ----------
    stats : collections.Counter
        How often each cache was (re)built: ``geometry_builds``, ``tree_builds``,
        ``kd_builds``, ``pos_builds``, ``zone_index_builds``, ``pair_index_builds``,
        ``distance_field_builds``, ``population_joins``, ``saved_runs``; also
        ``repaired`` (geometries) and ``runs``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> from spatial.query.model import GroupBy, Query, Relation
    >>> schools = gpd.GeoDataFrame({"school_id": ["S1", "S2"], "pupils": [300, 500]},
    ...     geometry=[Point(500_100, 3_400_100), Point(502_000, 3_400_100)], crs=4547)
    >>> sites = gpd.GeoDataFrame({"site_id": ["H1"]},
    ...     geometry=[Point(500_600, 3_400_100)], crs=4547)
    >>> zones = gpd.GeoDataFrame({"community_id": ["C1", "C2"]},
    ...     geometry=[box(500_000, 3_400_000, 501_000, 3_401_000),
    ...               box(501_000, 3_400_000, 503_000, 3_401_000)], crs=4547)
    >>> engine = QueryEngine({"schools": schools, "sites": sites, "communities": zones})
    >>> q = Query("schools", relation=Relation("within_distance", "sites", distance_m=500))
    >>> engine.run(q).data["school_id"].tolist()
    ['S1']
    >>> q = Query("schools", relation=Relation("nearest", "sites", k=1))
    >>> engine.run(q).data[["school_id", "nearest_id", "distance_m"]].values.tolist()
    [['S1', 'H1', 500.0], ['S2', 'H1', 1400.0]]
    >>> q = Query("schools", group_by=GroupBy("communities", "community_id"),
    ...           aggregate=(Aggregate("sum", "pupils", "pupils"),))
    >>> engine.run(q).data[["community_id", "pupils"]].values.tolist()
    [['C1', 300], ['C2', 500]]
    """

    def __init__(self, frames: Mapping[str, pd.DataFrame], *,
                 saved: Mapping[str, Any] | None = None) -> None:
        if not isinstance(frames, Mapping):
            raise TypeError(f"frames must be a mapping of layer name to DataFrame, "
                            f"got {type(frames).__name__}")
        for name, frame in frames.items():
            self._check_frame(name, frame)
        self._frames: dict[str, pd.DataFrame] = dict(frames)
        self.saved: Mapping[str, Any] = saved if saved is not None else {}
        self._lock = threading.RLock()
        self._catalog: dict | None = None
        self._cache: dict = {}
        self._masks: OrderedDict = OrderedDict()
        self._saved_results: dict[str, _SavedEntry] = {}
        self.stats: Counter = Counter()

    # ---------------------------------------------------------------- data

    @staticmethod
    def _check_frame(name, frame) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"layer names must be non-empty text, got {name!r}")
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"layer {name!r} must be a DataFrame or GeoDataFrame, "
                            f"got {type(frame).__name__}")

    @property
    def frames(self) -> Mapping[str, pd.DataFrame]:
        """The layers (read-only view; change them with :meth:`set_frame`)."""
        return MappingProxyType(self._frames)

    @property
    def catalog(self) -> dict:
        """Layer name -> ``LayerInfo`` (columns, geometry, key), for :func:`parse_query`."""
        with self._lock:
            if self._catalog is None:
                self._catalog = _model.catalog_from_frames(self._frames)
            return self._catalog

    def set_frame(self, name: str, frame: pd.DataFrame | None) -> None:
        """Replace (or add) layer ``name``; ``None`` removes it.  Drops its caches."""
        with self._lock:
            if frame is None:
                self._frames.pop(name, None)
            else:
                self._check_frame(name, frame)
                self._frames[name] = frame
            self._catalog = None
            self.invalidate(name)

    def invalidate(self, name: str | None = None) -> None:
        """Drop cached indexes and results after layer ``name`` changed.

        Drops the caches of that layer, of saved queries that depend on it
        (directly or through other saved queries), and of layers derived from
        them.  ``name`` may also be a saved query (``NAME`` or ``query:NAME``)
        whose document changed.  ``None`` drops everything.
        """
        with self._lock:
            if name is None:
                self._cache.clear()
                self._masks.clear()
                self._saved_results.clear()
                self._catalog = None
                return
            qname = name.removeprefix(QUERY_PREFIX)
            names = {name, QUERY_PREFIX + qname}
            for other, entry in list(self._saved_results.items()):
                if other == qname or name in entry.layers or qname in entry.saved:
                    del self._saved_results[other]
                    names.add(QUERY_PREFIX + other)
            for store in (self._cache, self._masks):
                for key in [k for k in store if names.intersection(k[1])]:
                    del store[key]
            self._catalog = None  # its columns may have changed too

    # ----------------------------------------------------------------- run

    def run(self, query: Query | Mapping, feedback=None) -> QueryResult:
        """Run ``query`` and return a :class:`QueryResult`.

        Parameters
        ----------
        query : Query or dict
            A parsed query, or a document (dict, JSON text or path) that is
            parsed with :func:`~spatial.query.model.parse_query` against
            :attr:`catalog` and :attr:`saved`.
        feedback : spatial.feedback.Feedback, optional
            Receives progress; cancelling it raises :class:`~spatial.errors.Canceled`
            at the next stage or chunk.

        Raises
        ------
        QueryError
            For problems only visible at run time (a layer without geometry or
            CRS for a spatial relation, a missing column, a type mismatch …);
            the message names the JSON key.
        spatial.errors.Canceled
            When ``feedback`` was cancelled.
        """
        start = time.perf_counter()
        progress = _Progress(feedback)
        with self._lock:
            if not isinstance(query, Query):
                query = self._parse(query)
            ctx = _Ctx()
            result = self._run(query, progress, (), ctx)
            self.stats["runs"] += 1
        result.repaired = dict(ctx.repaired)
        result.elapsed_s = time.perf_counter() - start
        progress.set(1.0)
        return result

    def _parse(self, doc, source: str | None = None) -> Query:
        return _model.parse_query(doc, catalog=self.catalog, saved=self.saved, source=source)

    def _run(self, q: Query, prog: _Progress, stack: tuple, ctx: _Ctx) -> QueryResult:
        prog.check()
        rel = q.relation
        target = self._source(q.target, "target", prog.sub(0.0, 0.3), stack, ctx)
        spatial_needed = rel is not None or q.group_by is not None
        if spatial_needed:
            self._require_spatial(target, "target", "a spatial relation or a grouping by zone")
        tmask = self._mask(target, q.where, "where")
        prog.set(0.32)
        prog.check()

        metric = mkey = None
        tgeo = None
        if target.has_geometry and target.crs is not None:
            metric = self._metric_crs(target)
            mkey = metric.to_wkt()
        if spatial_needed:
            tgeo = self._geo(target, metric, mkey, prog, ctx)
        prog.set(0.45)

        rows = np.flatnonzero(tmask)
        pairs = None
        if rel is not None:
            rows, pairs = self._relate(q, target, tgeo, tmask, metric, mkey,
                                       prog.sub(0.45, 0.85), stack, ctx)
        prog.set(0.85)
        prog.check()
        matched = _distinct_sorted(rows) if pairs is not None else len(rows)

        if q.group_by is not None:
            data = self._group(q, target, tgeo, rows, pairs, metric, mkey,
                               prog.sub(0.85, 0.98), stack, ctx)
            return QueryResult(data, q, metric, matched, positions=np.unique(rows),
                               key=q.group_by.key)
        if q.aggregate:
            first = self._first_pairs(rows, pairs)
            getter = self._row_getter(target, first, pairs)
            values = aggregate(q.aggregate, np.zeros(len(first[0]), np.intp), 1, getter,
                               target.name)
            data = pd.DataFrame({name: pd.array(v) if isinstance(v, np.ndarray) and
                                 v.dtype == object else v for name, v in values.items()})
            return QueryResult(data, q, metric, matched, positions=np.unique(rows), key=None)
        data = self._rows_frame(target, rows)
        if pairs is not None:
            ref_ids, dist = pairs["nearest_id"], pairs["distance_m"]
            data["nearest_id"] = ref_ids
            data["distance_m"] = dist
        return QueryResult(data, q, metric, matched, positions=rows, key=target.key)

    # ------------------------------------------------------------ sources

    def _source(self, name: str, key: str, prog: _Progress, stack: tuple,
                ctx: _Ctx) -> _Source:
        if not isinstance(name, str) or not name:
            raise QueryError(key, f"expected a layer name, got {name!r}")
        if name.startswith(QUERY_PREFIX):
            result = self._saved_result(name[len(QUERY_PREFIX):], key, prog, stack, ctx)
            data = result.data
            geo = _has_geometry(data)
            return _Source(name, data, {}, result.key if result.key in data.columns else None,
                           data.crs if geo else None, geo, (name,))
        frame = self._frames.get(name)
        if frame is None:
            known = ", ".join(sorted(self._frames)) or "none"
            raise QueryError(key, f"no layer named {name!r} (layers: {known})")
        ctx.layers.add(name)
        extra: dict = {}
        tags: tuple = (name,)
        if name == BUILDINGS:
            ctx.layers.add(POPULATION)
            tags = (name, POPULATION)
            extra = self._population(frame, prog)
        geo = _has_geometry(frame)
        k = key_column(name, [str(c) for c in frame.columns])
        return _Source(name, frame, extra, k if k in frame.columns else None,
                       frame.crs if geo else None, geo, tags)

    def _saved_result(self, qname: str, key: str, prog: _Progress, stack: tuple,
                      ctx: _Ctx) -> QueryResult:
        if qname in stack:
            chain = " -> ".join(QUERY_PREFIX + n for n in (*stack, qname))
            raise QueryError(key, f"saved query {qname!r} refers to itself ({chain})")
        if qname not in self.saved:
            known = ", ".join(sorted(self.saved)) or "none"
            raise QueryError(key, f"no saved query named {qname!r} (saved queries: {known})")
        entry = self._saved_results.get(qname)
        if entry is not None and not all(
            n in self.saved and _fingerprint(self.saved[n]) == fp for n, fp in entry.saved.items()
        ):
            self.invalidate(QUERY_PREFIX + qname)
            entry = None
        if entry is None:
            doc = self.saved[qname]
            sub = _Ctx()
            sub.saved[qname] = _fingerprint(doc)
            q = doc if isinstance(doc, Query) else self._parse(
                doc, source=f"saved query {qname!r}")
            result = self._run(q, prog, (*stack, qname), sub)
            result.repaired = dict(sub.repaired)
            self.stats["saved_runs"] += 1
            entry = _SavedEntry(result, sub.layers, sub.saved)
            self._saved_results[qname] = entry
        ctx.layers |= entry.layers
        ctx.saved.update(entry.saved)
        ctx.repaired.update(entry.result.repaired)
        return entry.result

    def _population(self, buildings: pd.DataFrame, prog: _Progress) -> dict:
        """Population columns aligned with the buildings (missing row -> 0)."""
        ckey = ("pop", (BUILDINGS, POPULATION))
        hit = self._cache.get(ckey)
        if hit is not None:
            return hit
        pop = self._frames.get(POPULATION)
        out: dict = {}
        if (isinstance(pop, pd.DataFrame) and not _has_geometry(pop)
                and "building_id" in pop.columns and "building_id" in buildings.columns):
            prog.check()
            cols = [c for c in pop.columns
                    if c != "building_id" and c not in buildings.columns
                    and not isinstance(pop[c].dtype, gpd.array.GeometryDtype)]
            table = pop[["building_id", *cols]]
            table = table[table["building_id"].notna()]
            if not table["building_id"].is_unique:  # several rows per building: add them up
                numeric = [c for c in cols if pdt.is_numeric_dtype(table[c].dtype)]
                table = table.groupby("building_id", sort=False, as_index=False).agg(
                    {c: ("sum" if c in numeric else "first") for c in cols})
            idx = _lookup(table["building_id"], buildings["building_id"])
            has = idx >= 0
            take = np.where(has, idx, 0)
            for c in cols:
                col = table[c]
                if pdt.is_numeric_dtype(col.dtype) and not pdt.is_bool_dtype(col.dtype):
                    if col.isna().any() or not pdt.is_integer_dtype(col.dtype):
                        values = col.to_numpy(dtype=float, na_value=np.nan)
                        arr = np.where(has, values[take] if len(values) else 0.0, 0.0)
                    else:
                        values = col.to_numpy(dtype=np.int64)
                        arr = np.where(has, values[take] if len(values) else 0, 0)
                else:
                    values = col.to_numpy(dtype=object)
                    arr = np.where(has, values[take] if len(values) else None, None)
                out[c] = arr
            self.stats["population_joins"] += 1
        self._cache[ckey] = out
        return out

    def _require_spatial(self, src: _Source, key: str, what: str) -> None:
        if not src.has_geometry:
            raise QueryError(key, f"layer {src.name!r} has no geometry; {what} needs one")
        if src.crs is None:
            raise QueryError(key, f"layer {src.name!r} has no CRS, so distances cannot be "
                                  "measured in metres; set its CRS (e.g. EPSG:4326) first")

    # ------------------------------------------------------------ filters

    def _mask(self, src: _Source, where, key: str) -> np.ndarray:
        if not where:
            return np.ones(len(src), dtype=bool)
        mkey = ("mask", src.tags, repr(where), key)
        hit = self._masks.get(mkey)
        if hit is not None:
            self._masks.move_to_end(mkey)
            return hit
        mask = where_mask(where, len(src), src.column, key, src.name)
        mask.setflags(write=False)
        self._masks[mkey] = mask
        while len(self._masks) > MAX_MASKS:
            self._masks.popitem(last=False)
        return mask

    # ---------------------------------------------------------- geometry

    def _metric_crs(self, src: _Source) -> pyproj.CRS:
        ckey = ("metric", (src.name,))
        hit = self._cache.get(ckey)
        if hit is None:
            bounds = np.asarray(_total_bounds(np.asarray(src.frame.geometry.array)))
            if np.all(np.isfinite(bounds)):
                hit = metric_crs_for(src.crs, bounds)
            elif is_metric_projected(src.crs):  # no coordinates at all
                hit = src.crs
            else:  # no coordinates: a TM on the centre of the CRS's area of use
                area = src.crs.area_of_use
                lon, lat = ((area.west + area.east) / 2, (area.south + area.north) / 2) \
                    if area is not None else (0.0, 0.0)
                hit = local_tm(round(lon, 6), round(lat, 6), datum=src.crs)
            self._cache[ckey] = hit
        return hit

    def _geo(self, src: _Source, metric: pyproj.CRS, mkey: str, prog: _Progress,
             ctx: _Ctx) -> _Geo:
        ckey = ("geo", (src.name,), mkey)
        geo = self._cache.get(ckey)
        if geo is None:
            prog.check()
            arr = np.asarray(src.frame.geometry.array)
            if src.crs != metric:
                parts = []
                for chunk in _chunks(np.arange(len(arr))):
                    prog.check()
                    parts.append(transform_geometries(arr[chunk], src.crs, metric))
                arr = np.concatenate(parts) if parts else arr[:0].copy()
            present = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
            invalid = present & ~shapely.is_valid(arr)
            repaired = int(invalid.sum())
            if repaired:
                arr = arr.copy()
                arr[invalid] = shapely.make_valid(arr[invalid])
                self.stats["repaired"] += repaired
                prog.info(f"{src.name}: repaired {repaired} invalid geometr"
                          f"{'y' if repaired == 1 else 'ies'} (make_valid) for this query")
            arr.setflags(write=False)
            geo = _Geo(arr, repaired)
            self.stats["geometry_builds"] += 1
            self._cache[ckey] = geo
        if geo.repaired:
            ctx.repaired[src.name] = geo.repaired
        return geo

    def _tree(self, geo: _Geo, mask: np.ndarray | None, filter_key: str | None,
              exact: bool = False):
        """An STRtree for the rows of ``mask`` (all rows when None).

        Returns ``(tree, rows, bounds, post_filter)``: ``rows[i]`` is the layer
        row of tree item ``i``; when ``post_filter`` is True the tree holds the
        whole layer and hits must be filtered with ``mask``.
        """
        if mask is not None and not exact:
            kept = np.count_nonzero(mask & geo.present)
            if kept > SUBSET_TREE_SHARE * np.count_nonzero(geo.present):
                tree, rows, bounds, _ = self._tree(geo, None, None)
                return tree, rows, bounds, True
        key = None if mask is None else filter_key
        entry = geo.trees.get(key)
        if entry is None:
            rows = np.flatnonzero(geo.present if mask is None else (mask & geo.present))
            items = geo.geoms[rows]
            entry = (shapely.STRtree(items), rows,
                     _total_bounds(items))
            self.stats["tree_builds"] += 1
            geo.trees[key] = entry
            subsets = [k for k in geo.trees if k is not None]
            while len(subsets) > MAX_SUBSET_TREES:
                del geo.trees[subsets.pop(0)]
        else:
            geo.trees.move_to_end(key)
        return (*entry, False)

    def _points_on_surface(self, geo: _Geo) -> None:
        """Set ``geo.pos_xy`` (a point on every row: point-on-surface, the point
        itself for points) and ``geo.radius`` (from it to the farthest corner of
        the row's envelope; infinite when the row has no such point)."""
        if geo.pos_xy is None:
            pos = geo.geoms if geo.all_points else shapely.point_on_surface(geo.geoms)
            xy = np.column_stack([shapely.get_x(pos), shapely.get_y(pos)])
            if geo.all_points:
                radius = np.zeros(len(pos))
            else:
                env = shapely.bounds(geo.geoms)
                dx = np.maximum(xy[:, 0] - env[:, 0], env[:, 2] - xy[:, 0])
                dy = np.maximum(xy[:, 1] - env[:, 1], env[:, 3] - xy[:, 1])
                radius = np.hypot(dx, dy)
            radius[~np.isfinite(radius)] = np.inf
            geo.pos_xy, geo.radius = xy, radius
            self.stats["pos_builds"] += 1

    def _kd(self, geo: _Geo, rows: np.ndarray, filter_key: str | None):
        """A k-d tree over the points ``geo.geoms[rows]`` (a point layer), cached per filter."""
        from scipy.spatial import cKDTree

        hit = geo.kds.get(filter_key)
        if hit is None:
            hit = cKDTree(shapely.get_coordinates(geo.geoms[rows]))
            self.stats["kd_builds"] += 1
            geo.kds[filter_key] = hit
            while len(geo.kds) > MAX_SUBSET_TREES:
                geo.kds.popitem(last=False)
        else:
            geo.kds.move_to_end(filter_key)
        return hit

    def _key_info(self, src: _Source) -> tuple[np.ndarray, np.ndarray]:
        """``(rank, ids)``: each row's key rank (ties go to the smaller) and key value."""
        ckey = ("key", (src.name,), src.key)
        hit = self._cache.get(ckey)
        if hit is None:
            if src.key is not None:
                col = src.column(src.key)
                codes, uniques = pd.factorize(col, sort=True)
                codes = np.where(codes < 0, len(uniques), codes)
                ids = col.to_numpy()
            else:  # no key column: the row order and the index labels
                codes = np.arange(len(src))
                ids = src.frame.index.to_numpy()
            hit = (codes, ids)
            self._cache[ckey] = hit
        return hit

    # ---------------------------------------------------------- relation

    def _relate(self, q: Query, target: _Source, tgeo: _Geo, tmask: np.ndarray,
                metric, mkey, prog: _Progress, stack: tuple, ctx: _Ctx):
        rel = q.relation
        kind = rel.kind
        if kind not in _model.RELATION_KINDS:
            raise QueryError("relation.kind", f"unknown relation {kind!r}; use one of "
                             + ", ".join(_model.RELATION_KINDS))
        ref = self._source(rel.layer, "relation.layer", prog.sub(0.0, 0.3), stack, ctx)
        self._require_spatial(ref, "relation.layer", f"the relation {kind!r}")
        rmask = self._mask(ref, rel.where, "relation.where")
        rgeo = self._geo(ref, metric, mkey, prog, ctx)
        same = ref.name == target.name
        prog.set(0.35)
        if kind == "nearest":
            return self._nearest(rel, target, tgeo, tmask, ref, rgeo, rmask, same, prog)
        distance = None
        if kind in ("within_distance", "beyond_distance"):
            distance = _number(rel.distance_m, "relation.distance_m", kind)
        tsub, rsub = _subset(tmask, q.where), _subset(rmask, rel.where)
        if distance is not None:
            if rgeo.all_points and not same:
                hit = self._distance_field(target, tgeo, tmask, ref, rgeo, rsub, distance,
                                           mkey, prog.sub(0.35, 1.0))
            else:
                hit = self._predicate("within_distance", tgeo, tsub, rgeo, rsub, distance,
                                      same, prog.sub(0.35, 1.0))
        else:
            pairs = self._pairs(target, tgeo, ref, rgeo, kind, mkey, prog.sub(0.35, 0.95))
            if pairs is None:  # too many pairs to keep: answer this query directly
                hit = self._predicate(kind, tgeo, tsub, rgeo, rsub, None, same,
                                      prog.sub(0.35, 1.0))
            else:
                t, r = pairs
                keep = np.ones(len(t), bool) if tsub[1] is None else tmask[t]
                if rsub[1] is not None:
                    keep &= rmask[r]
                if same:
                    keep &= t != r
                hit = np.zeros(len(tgeo.geoms), dtype=bool)
                hit[t[keep]] = True
        candidates = tmask & tgeo.present
        matched = candidates & ~hit if kind == "beyond_distance" else candidates & hit
        return np.flatnonzero(matched), None

    def _predicate(self, kind: str, tgeo: _Geo, tsub: tuple, rgeo: _Geo, rsub: tuple,
                   distance, same: bool, prog: _Progress) -> np.ndarray:
        """Mask of the target rows related (``kind``) to at least one reference row.

        ``tsub``/``rsub`` are ``(mask, filter_key)`` from :func:`_subset`.
        """
        tmask, twkey = tsub
        rmask, rwkey = rsub
        hit = np.zeros(len(tgeo.geoms), dtype=bool)
        t_rows = np.flatnonzero(tmask & tgeo.present)
        r_rows = np.flatnonzero(rmask & rgeo.present)
        if len(t_rows) == 0 or len(r_rows) == 0:
            return hit
        kw = {"distance": distance} if kind == "within_distance" else {}
        if len(t_rows) <= len(r_rows):  # query the reference's tree with the targets
            tree, rows, _, post = self._tree(rgeo, None if rwkey is None else rmask, rwkey)
            n = max(1, -(-len(t_rows) // CHUNK))
            for i, chunk in enumerate(_chunks(t_rows)):
                prog.check()
                q, h = tree.query(tgeo.geoms[chunk], predicate=_PRED_TARGET_SIDE[kind], **kw)
                t, r = chunk[q], rows[h]
                keep = np.ones(len(t), bool)
                if post:
                    keep &= rmask[r]
                if same:
                    keep &= t != r
                hit[t[keep]] = True
                prog.set((i + 1) / n)
        else:  # query the target's tree with the reference features
            tree, rows, _, post = self._tree(tgeo, None if twkey is None else tmask, twkey)
            n = max(1, -(-len(r_rows) // CHUNK))
            for i, chunk in enumerate(_chunks(r_rows)):
                prog.check()
                q, h = tree.query(rgeo.geoms[chunk], predicate=_PRED_REFERENCE_SIDE[kind], **kw)
                t, r = rows[h], chunk[q]
                keep = np.ones(len(t), bool)
                if post:
                    keep &= tmask[t]
                if same:
                    keep &= t != r
                hit[t[keep]] = True
                prog.set((i + 1) / n)
        return hit

    def _pairs(self, target: _Source, tgeo: _Geo, ref: _Source, rgeo: _Geo, kind: str, mkey,
               prog: _Progress):
        """``(target_rows, ref_rows)`` of every pair of the two whole layers that
        satisfies ``kind`` (intersects, within, contains), or None when there are
        more than :data:`MAX_PAIRS`.  Cached: filters are masks over the pairs."""
        ckey = ("pairs", (target.name, ref.name), mkey, kind)
        if ckey in self._cache:
            return self._cache[ckey]
        t_all = np.flatnonzero(tgeo.present)
        r_all = np.flatnonzero(rgeo.present)
        ts: list = []
        rs: list = []
        total = 0
        result = None
        if len(t_all) and len(r_all):
            if len(t_all) <= len(r_all):  # the small layer queries the big layer's tree
                tree, rows, _, _ = self._tree(rgeo, None, None)
                query_rows, geoms, pred, swap = t_all, tgeo.geoms, _PRED_TARGET_SIDE[kind], False
            else:
                tree, rows, _, _ = self._tree(tgeo, None, None)
                query_rows, geoms, pred, swap = r_all, rgeo.geoms, _PRED_REFERENCE_SIDE[kind], True
            parts = list(_chunks(query_rows, PAIR_CHUNK))
            for i, chunk in enumerate(parts):
                prog.check()
                q, h = tree.query(geoms[chunk], predicate=pred)
                a, b = chunk[q], rows[h]
                ts.append(b if swap else a)
                rs.append(a if swap else b)
                total += len(q)
                if total > MAX_PAIRS:
                    break
                prog.set((i + 1) / len(parts))
            else:
                result = (np.concatenate(ts), np.concatenate(rs))
        else:
            result = (np.empty(0, np.intp), np.empty(0, np.intp))
        if result is not None:
            for a in result:
                a.setflags(write=False)
            self.stats["pair_index_builds"] += 1
        self._cache[ckey] = result
        return result

    def _distance_field(self, target: _Source, tgeo: _Geo, tmask, ref: _Source, rgeo: _Geo,
                        rsub: tuple, distance: float, mkey, prog: _Progress) -> np.ndarray:
        """Target rows within ``distance`` of a (filtered) point reference.

        Per (target, reference, filter, CRS) it keeps, for every target row,
        the distance ``hi`` from its point-on-surface to the nearest reference
        point (a k-d tree query; an upper bound of the row's distance) and
        ``hi - radius`` (a lower bound, ``radius`` reaching the farthest
        corner of the row's envelope).  Rows between the bounds are measured
        exactly (GEOS nearest distance) once.  All of it is independent of the
        distance asked, so later queries with any distance are masks.
        """
        rmask, rkey = rsub
        ckey = ("field", (target.name, ref.name), mkey, rkey)
        field_ = self._cache.get(ckey)
        if field_ is None:
            r_rows = np.flatnonzero(rgeo.present if rkey is None else rmask & rgeo.present)
            n = len(tgeo.geoms)
            kd = self._kd(rgeo, r_rows, rkey) if len(r_rows) else None
            field_ = {"kd": kd, "hi": np.full(n, np.nan), "exact": np.full(n, np.nan)}
            self.stats["distance_field_builds"] += 1
            self._cache[ckey] = field_
            fields = [k for k in self._cache if k[0] == "field"]
            for old in fields[:-MAX_FIELDS]:
                del self._cache[old]
        self._points_on_surface(tgeo)
        hi, exact = field_["hi"], field_["exact"]
        rows = np.flatnonzero(tmask & tgeo.present)
        need = rows[np.isnan(hi[rows])]
        parts = list(_chunks(need))
        for i, chunk in enumerate(parts):
            prog.check()
            hi[chunk] = np.inf  # nothing to be near, or no point on the row
            if field_["kd"] is not None:
                xy = tgeo.pos_xy[chunk]
                ok = np.isfinite(xy).all(axis=1)
                hi[chunk[ok]], _ = field_["kd"].query(xy[ok], k=1, workers=-1)
            prog.set(0.8 * (i + 1) / len(parts))
        tol = 1e-9 * max(1.0, distance)
        known = ~np.isnan(exact[rows])
        upper = hi[rows]
        lower = upper - tgeo.radius[rows]
        lower[np.isnan(lower)] = -np.inf
        sure = ~known & (upper <= distance - tol)
        unsure = ~known & ~sure & (lower <= distance + tol)
        if unsure.any():  # measure these exactly, once
            amb = rows[unsure]
            tree, _rows, _, _ = self._tree(rgeo, None if rkey is None else rmask, rkey,
                                               exact=True)
            for chunk in _chunks(amb):
                prog.check()
                (q, _h), d = tree.query_nearest(tgeo.geoms[chunk], return_distance=True)
                exact[chunk[q]] = d
            known = ~np.isnan(exact[rows])
        with np.errstate(invalid="ignore"):
            inside = sure | (known & (exact[rows] <= distance))
        hit = np.zeros(len(tgeo.geoms), dtype=bool)
        hit[rows[inside]] = True
        return hit

    def _nearest(self, rel, target: _Source, tgeo: _Geo, tmask, ref: _Source, rgeo: _Geo,
                 rmask, same: bool, prog: _Progress):
        k = rel.k
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise QueryError("relation.k", f"'nearest' needs k, a whole number >= 1, got {k!r}")
        max_d = None
        if rel.max_distance_m is not None:
            max_d = _number(rel.max_distance_m, "relation.max_distance_m", "nearest")
        t_rows = np.flatnonzero(tmask & tgeo.present)
        rmask_or_all, rkey = _subset(rmask, rel.where)
        tree, rows, rbounds, _ = self._tree(rgeo, None if rkey is None else rmask_or_all, rkey,
                                            exact=True)
        rank, ids = self._key_info(ref)
        if len(rows) and len(t_rows):
            bx = (min(tgeo.bounds[0], rbounds[0]), min(tgeo.bounds[1], rbounds[1]),
                  max(tgeo.bounds[2], rbounds[2]), max(tgeo.bounds[3], rbounds[3]))
            diagonal = float(np.hypot(bx[2] - bx[0], bx[3] - bx[1])) * (1 + 1e-9) + 1.0
        else:
            diagonal = 1.0
        if rgeo.all_points and len(rows):  # a k-d tree over the reference points
            self._points_on_surface(tgeo)
            kd = self._kd(rgeo, rows, rkey)
            tp, rp, dist = k_nearest_points(
                kd, rows, rgeo.geoms, tgeo.geoms, t_rows, tgeo.pos_xy, tgeo.radius, int(k),
                max_distance=max_d, same_layer=same, key_rank=rank, check=prog.check)
        else:
            tp, rp, dist = k_nearest(tree, rows, rgeo.geoms, tgeo.geoms, t_rows, int(k),
                                     max_distance=max_d, same_layer=same, key_rank=rank,
                                     ref_bounds=rbounds, diagonal=diagonal, check=prog.check)
        return tp, {"nearest_id": ids[rp], "distance_m": dist.astype(float), "ref_rows": rp}

    # ------------------------------------------------------------ results

    @staticmethod
    def _first_pairs(rows: np.ndarray, pairs):
        """Rows to aggregate: each matched target once (its nearest pair for nearest)."""
        if pairs is None:
            return rows, None
        first = np.r_[True, rows[1:] != rows[:-1]] if len(rows) else np.zeros(0, bool)
        return rows[first], first

    def _row_getter(self, src: _Source, first, pairs):
        rows, sel = first

        def get(name: str):
            if pairs is not None and name in _NEAREST_COLUMNS:
                return pd.Series(pairs[name][sel])
            col = src.column(name)
            return None if col is None else col.iloc[rows]

        return get

    def _rows_frame(self, src: _Source, rows: np.ndarray) -> pd.DataFrame:
        out = src.frame.iloc[rows]
        if src.extra:
            out = out.copy()
            at = len(out.columns)
            if src.has_geometry and out.columns[-1] == src.geometry_name:
                at -= 1
            for i, (name, values) in enumerate(src.extra.items()):
                out.insert(at + i, name, values[rows])
        return out

    def _group(self, q: Query, target: _Source, tgeo: _Geo, rows, pairs, metric, mkey,
               prog: _Progress, stack: tuple, ctx: _Ctx) -> gpd.GeoDataFrame:
        gb = q.group_by
        zones = self._source(gb.layer, "group_by.layer", prog.sub(0.0, 0.3), stack, ctx)
        self._require_spatial(zones, "group_by.layer", "grouping by zone")
        zkey = zones.column(gb.key)
        if zkey is None:
            raise QueryError("group_by.key", f"layer {zones.name!r} has no column {gb.key!r}")
        zgeo = self._geo(zones, metric, mkey, prog, ctx)
        zone_of = self._zone_index(target, tgeo, zones, zgeo, mkey, prog.sub(0.3, 0.9))
        first = self._first_pairs(rows, pairs)
        z = zone_of[first[0]]
        inside = z >= 0
        rows_in = first[0][inside]
        sel = None if first[1] is None else np.flatnonzero(first[1])[inside]
        aggs = q.aggregate or (Aggregate("count", "count"),)
        values = aggregate(aggs, z[inside], len(zones), self._row_getter(
            target, (rows_in, sel), pairs), target.name)
        data = {gb.key: zkey.to_numpy()}
        for name, v in values.items():
            data[name] = pd.array(v) if isinstance(v, np.ndarray) and v.dtype == object else v
        geometry = self._zone_geometry(zones, target.crs)
        return gpd.GeoDataFrame(data, geometry=geometry, crs=target.crs)

    def _zone_index(self, target: _Source, tgeo: _Geo, zones: _Source, zgeo: _Geo, mkey,
                    prog: _Progress) -> np.ndarray:
        """Zone (row of the zone layer, first one on ties) of every target row, or -1."""
        ckey = ("zone", (target.name, zones.name), mkey)
        hit = self._cache.get(ckey)
        if hit is not None:
            return hit
        if not tgeo.all_points:
            self._points_on_surface(tgeo)
        n = len(tgeo.geoms)
        none = np.iinfo(np.int64).max
        zone_of = np.full(n, none, dtype=np.int64)
        tree, zrows, _, _ = self._tree(zgeo, None, None)
        parts = list(_chunks(np.flatnonzero(tgeo.present)))
        for i, chunk in enumerate(parts):  # points on the targets against the tree of zones
            prog.check()
            points = tgeo.geoms[chunk] if tgeo.all_points else shapely.points(tgeo.pos_xy[chunk])
            q, h = tree.query(points, predicate="intersects")
            np.minimum.at(zone_of, chunk[q], zrows[h])
            prog.set((i + 1) / len(parts))
        zone_of[zone_of == none] = -1
        zone_of.setflags(write=False)
        self.stats["zone_index_builds"] += 1
        self._cache[ckey] = zone_of
        return zone_of

    def _zone_geometry(self, zones: _Source, crs) -> np.ndarray:
        ckey = ("zone_out", (zones.name,), crs.to_wkt())
        hit = self._cache.get(ckey)
        if hit is None:
            arr = np.asarray(zones.frame.geometry.array)
            hit = arr if zones.crs == crs else transform_geometries(arr, zones.crs, crs)
            self._cache[ckey] = hit
        return hit

    def __repr__(self) -> str:
        return (f"<QueryEngine {len(self._frames)} layers, {len(self.saved)} saved queries, "
                f"{len(self._cache)} cached items>")


def _distinct_sorted(rows: np.ndarray) -> int:
    """Number of distinct values in the sorted array ``rows``."""
    return int(len(rows) and np.count_nonzero(rows[1:] != rows[:-1]) + 1)


def _lookup(keys: pd.Series, values: pd.Series) -> np.ndarray:
    """Position of each of ``values`` in the unique ``keys`` (-1 when absent)."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        found = pc.index_in(pa.array(values, from_pandas=True),
                            value_set=pa.array(keys, from_pandas=True))
        return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    except (ImportError, pa.ArrowException, TypeError, ValueError):  # pragma: no cover
        return pd.Index(keys).get_indexer(values)


def _subset(mask: np.ndarray, where) -> tuple[np.ndarray, str | None]:
    """``(mask, filter_key)``; the key is None when the filter keeps every row."""
    if not where or mask.all():
        return mask, None
    return mask, repr(where)


def _number(value, key: str, kind: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise QueryError(key, f"{kind!r} needs a distance in metres, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise QueryError(key, f"distances must be finite and >= 0 metres, got {value!r}")
    return value
