"""Displaced residents to shelters: walking distance along the roads, capacity honoured.

DESIGN.md ("Drills") and issue 5, item 3.  :func:`assign_shelters` sends the
residents of the affected buildings to the shelters outside the hazard so that

1. as many people as possible get a place (no shelter takes more than its
   capacity), and among those assignments
2. the total walk, in person-metres, is the smallest possible.

It is a transportation problem, solved exactly (costs in whole centimetres) as
a min-cost flow by successive shortest paths over the shelters; the answer is
checked against the linear programme's optimality conditions before it is
returned (SciPy's HiGHS solves the LP instead should that check ever fail).

City-wide hazards: above :data:`MAX_UNITS` buildings with people (a flood over
the whole metro city displaces some 4 million people from 120,000 buildings) the
buildings are grouped before solving — by the road node they are joined to, and
when those are still too many by community (``community_id``) or grid cell — and
the summary says so (``demand_unit``, ``demand_note``).  The groups are solved
without a dense shelters × groups matrix: each keeps its :data:`K_NEAREST`
shelters by walk, HiGHS solves that sparse transport problem, and one Dijkstra
from a virtual source joined to every shelter at its price checks that no group
could do better with any other shelter; groups that could get those shelters
and it is solved again (column generation) until the check passes.  The result
is the exact optimum for the groups.

Distances are shortest paths along the road network: the roads' vertices are
the graph's nodes (rounded to 1 cm, so lines that touch connect; segments longer
than :data:`DENSIFY_M` get extra nodes), each segment an edge weighted by its
length in metres; a building or shelter is snapped to the nearest node and the
snap distance is added to its walk.  Without roads the distances are straight
lines and the result says so (``method="straight_line"``).

People in a building whose road piece leads to no usable shelter are
*unreachable*; they are counted in ``unsheltered`` too, like the people for whom
no capacity is left.  Shelters that intersect the hazard (``exclude``) are not
used.

All frames must be in one projected (metric) CRS.

Examples
--------
Two buildings, one shelter with room for 30 of their 50 residents:

>>> import geopandas as gpd
>>> from shapely.geometry import LineString, Point
>>> roads = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1000, 0)])])
>>> homes = gpd.GeoDataFrame({"building_id": ["B1", "B2"], "residents": [20, 30]},
...                          geometry=[Point(0, 0), Point(1000, 0)])
>>> shelter = gpd.GeoDataFrame({"shelter_id": ["S1"], "name": ["Park"], "capacity": [30]},
...                            geometry=[Point(900, 0)])
>>> r = assign_shelters(homes, "residents", shelter, "capacity", roads)
>>> r.method, r.displaced, r.capacity_used, r.unsheltered
('road', 50, 30, 20)
>>> r.flows[["from_id", "shelter_id", "people", "status"]].to_dict("records")
[{'from_id': 'B1', 'shelter_id': None, 'people': 20, 'status': 'unsheltered'}, {'from_id': 'B2', 'shelter_id': 'S1', 'people': 30, 'status': 'sheltered'}]
>>> r.longest_walk_m
100.0
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from ..errors import CityFrameError, CRSError, SchemaError
from ..feedback import ensure_feedback
from ..schema import key_column

__all__ = [
    "NODE_TOLERANCE_M",
    "RoadNetwork",
    "ShelterResult",
    "assign_shelters",
    "road_graph",
    "road_network",
    "safe_places",
]

#: Road vertices closer than this (after rounding to this grid) are one graph node.
NODE_TOLERANCE_M = 0.01
#: Long road segments are split so no point of a road lies farther than half of
#: this from a graph node (bounds the snapping detour).
DENSIFY_M = 100.0
#: Dijkstra sources per chunk (memory: chunk × nodes distances at once).
_DIJKSTRA_CHUNK = 32
#: Above this many buildings with people the demand is grouped before solving:
#: by road node, then (still too many) by community or by grid cell.
MAX_UNITS = 20_000
#: Grid cell sizes tried, in metres, when road nodes are still too many and the
#: buildings carry no community id.
GRID_SIZES_M = (250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0)
#: Nearest shelters (by walk) kept per demand unit on the grouped path; more are
#: added wherever the optimality certificate asks for them.
K_NEAREST = 12
#: Shelters added per failing unit and round (the most promising by walk + price).
_COLUMNS_PER_ROUND = 16

_NOTES = {
    "road": {
        "en": "Walking distances along the road network; each building and shelter is "
              "joined to the nearest road node (one at least every 100 m of road) and that "
              "straight piece is included.",
        "zh": "步行距离沿道路网络计算；每栋建筑和每个避难场所连接到最近的道路节点"
              "（道路上至少每 100 米一个节点），该段直线距离已计入。",
    },
    "straight_line": {
        "en": "No road network was available: distances are straight lines (as the crow "
              "flies) and underestimate the real walk.",
        "zh": "没有可用的道路网络：距离按直线计算，会低估实际步行距离。",
    },
}

_UNIT_NOTES = {
    "building": {
        "en": "Each building's residents were assigned on their own (exact optimum).",
        "zh": "按单栋建筑分配居民（精确最优解）。",
    },
    "road_node": {
        "en": "Too many buildings to assign one by one: the buildings joined to the same "
              "road node were assigned together (optimal for these groups; exact except "
              "for which of a node's buildings stay without a place when places run short). "
              "A walk is the building's own piece to its road node plus the road distance "
              "from that node to the shelter.",
        "zh": "受影响建筑过多，无法逐栋分配：连接到同一道路节点的建筑合并分配（对这些分组为最优；"
              "仅在名额不足时，同一节点内由谁留下未精确区分）。步行距离为建筑到其道路节点的一段"
              "加上该节点到避难场所的道路距离。",
    },
    "community": {
        "en": "Too many buildings and road nodes to assign one by one: each community's "
              "residents were assigned together from one road node near the community's "
              "population centre (optimal for these groups). A walk is the straight line "
              "from the building to that node plus the road distance to the shelter, so "
              "the longest walk is approximate.",
        "zh": "受影响建筑和道路节点过多：每个社区的居民从靠近社区人口中心的一个道路节点合并分配"
              "（对这些分组为最优）。步行距离为建筑到该节点的直线距离加上到避难场所的道路距离，"
              "最长步行距离为近似值。",
    },
    "grid": {
        "en": "Too many buildings and road nodes to assign one by one: the residents of "
              "each {size} m grid cell were assigned together from one point near the "
              "cell's population centre (optimal for these groups). A walk is the straight "
              "line from the building to that point plus the distance to the shelter, so "
              "the longest walk is approximate.",
        "zh": "受影响建筑和道路节点过多：每个 {size} 米网格内的居民从靠近其人口中心的一点合并分配"
              "（对这些分组为最优）。步行距离为建筑到该点的直线距离加上到避难场所的距离，"
              "最长步行距离为近似值。",
    },
}


def _unit_note(unit: str) -> dict:
    if unit.startswith("grid_"):
        size = unit[len("grid_"):-1]
        return {k: v.format(size=size) for k, v in _UNIT_NOTES["grid"].items()}
    return dict(_UNIT_NOTES[unit])


# --------------------------------------------------------------------------- results


@dataclass
class ShelterResult:
    """The outcome of :func:`assign_shelters`.

    Attributes
    ----------
    method : {"road", "straight_line"}
        How distances were measured.
    assignment : pandas.DataFrame
        One row per input shelter, in input order: ``shelter_id``, ``name``,
        ``capacity``, ``assigned`` (people), ``max_distance_m`` (NaN when nobody
        is assigned) and ``status`` (``"ok"``, ``"in_hazard"`` — not used — or
        ``"no_location"`` for an empty geometry).
    flows : pandas.DataFrame
        Who goes where: ``demand_index`` (the demand frame's index label),
        ``from_id``, ``shelter_id`` (missing when not sheltered), ``people``,
        ``distance_m`` (NaN when not sheltered) and ``status`` (``"sheltered"``,
        ``"unsheltered"`` — no capacity left — or ``"unreachable"``).  A building
        may appear in several rows when a shelter filled up.
    displaced, capacity, capacity_used, unsheltered, unreachable : int
        People displaced; total capacity of the usable shelters (outside the
        hazard); people placed; people without a place (including the
        unreachable); people who cannot reach any usable shelter.
    longest_walk_m : float or None
        The longest distance anyone is sent, None when nobody is sheltered.
    lines : geopandas.GeoDataFrame
        A straight line from each building to its shelter (sheltered flows only)
        with ``from_id``, ``shelter_id``, ``people``, ``distance_m``, for maps.
    stats : dict
        Sizes and timings in seconds (``graph_s``, ``snap_s``, ``distances_s``,
        ``lp_s``, ``total_s``, ``nodes``, ``edges``, ``demand_nodes``,
        ``lp_phases`` (augmenting paths), ``lp_price_rounds`` (warm start),
        ``lp_method``).
    """

    method: str
    assignment: pd.DataFrame
    flows: pd.DataFrame
    displaced: int
    capacity: int
    capacity_used: int
    unsheltered: int
    unreachable: int
    longest_walk_m: float | None
    lines: gpd.GeoDataFrame
    shelters_in_hazard: int = 0
    capacity_in_hazard: int = 0
    stats: dict = field(default_factory=dict)
    demand_unit: str = "building"
    demand_units: int = 0

    @property
    def note(self) -> dict:
        """How distances were measured, ``{"en": ..., "zh": ...}``."""
        return dict(_NOTES[self.method])

    @property
    def demand_note(self) -> dict:
        """How the demand was grouped, ``{"en": ..., "zh": ...}``."""
        return _unit_note(self.demand_unit)

    def to_summary(self, *, suppress_below: int | None = None) -> dict:
        """The summary's ``"shelters"`` entry, JSON-ready.

        Per-shelter aggregates only, never per building.

        Parameters
        ----------
        suppress_below : int, optional
            When given, people counts from 1 to ``suppress_below - 1`` become
            ``None`` (DESIGN.md "Security and privacy") and their key paths,
            relative to this dict (e.g. ``"assignment[2].assigned"``), are listed
            under ``"suppressed"``.

        Returns
        -------
        dict
            ``method``, ``note`` (en/zh), ``demand_unit`` (``"building"``,
            ``"road_node"``, ``"community"`` or ``"grid_<size>m"``: what was
            assigned as one), ``demand_units`` (how many), ``demand_note`` (en/zh),
            ``displaced``, ``capacity``,
            ``capacity_used``, ``unsheltered``, ``unreachable``,
            ``longest_walk_m``, ``shelters_in_hazard``, ``capacity_in_hazard``,
            ``assignment`` [{shelter_id, name, capacity, assigned,
            max_distance_m, status}], ``flows`` [{shelter_id, buildings, people,
            mean_distance_m, max_distance_m}] (shelters with people only).
        """
        out = {
            "method": self.method,
            "note": self.note,
            "demand_unit": self.demand_unit,
            "demand_units": int(self.demand_units),
            "demand_note": self.demand_note,
            "displaced": int(self.displaced),
            "capacity": int(self.capacity),
            "capacity_used": int(self.capacity_used),
            "unsheltered": int(self.unsheltered),
            "unreachable": int(self.unreachable),
            "longest_walk_m": _round_m(self.longest_walk_m),
            "shelters_in_hazard": int(self.shelters_in_hazard),
            "capacity_in_hazard": int(self.capacity_in_hazard),
            "assignment": [
                {"shelter_id": _plain(r.shelter_id), "name": _plain(r.name),
                 "capacity": int(r.capacity), "assigned": int(r.assigned),
                 "max_distance_m": _round_m(r.max_distance_m), "status": r.status}
                for r in self.assignment.itertuples(index=False)
            ],
            "flows": [],
        }
        sheltered = self.flows[self.flows["status"] == "sheltered"]
        if len(sheltered):
            people = sheltered["people"].to_numpy(np.int64)
            g = (sheltered.assign(_pm=people * sheltered["distance_m"].to_numpy(float))
                 .groupby("shelter_id", sort=False)
                 .agg(buildings=("from_id", "nunique"), people=("people", "sum"),
                      person_m=("_pm", "sum"), max_distance_m=("distance_m", "max")))
            order = {sid: i for i, sid in enumerate(self.assignment["shelter_id"])}
            g = g.loc[sorted(g.index, key=lambda s: order.get(s, len(order)))]
            out["flows"] = [
                {"shelter_id": _plain(sid), "buildings": int(r.buildings),
                 "people": int(r.people), "mean_distance_m": _round_m(r.person_m / r.people),
                 "max_distance_m": _round_m(r.max_distance_m)}
                for sid, r in g.iterrows()
            ]
        if suppress_below is not None:
            out["suppressed"] = _suppress(out, int(suppress_below))
        return out


def _suppress(out: dict, threshold: int) -> list[str]:
    paths = []

    def hide(container, key, path):
        v = container[key]
        if v is not None and 0 < v < threshold:
            container[key] = None
            paths.append(path)

    for k in ("displaced", "capacity_used", "unsheltered", "unreachable"):
        hide(out, k, k)
    for i, row in enumerate(out["assignment"]):
        hide(row, "assigned", f"assignment[{i}].assigned")
    for i, row in enumerate(out["flows"]):
        hide(row, "people", f"flows[{i}].people")
    return paths


def _round_m(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return round(float(v), 1)


def _plain(v):
    """A JSON-ready scalar (numpy scalars to Python, missing to None)."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    return v.item() if isinstance(v, np.generic) else v


# --------------------------------------------------------------------------- road network


@dataclass(frozen=True)
class RoadNetwork:
    """A road graph as arrays: node coordinates and a symmetric CSR adjacency.

    Attributes
    ----------
    xy : numpy.ndarray
        ``(n, 2)`` node coordinates.
    adjacency : scipy.sparse.csr_array
        ``(n, n)`` edge lengths in metres (one entry per direction).
    edges : int
        Number of undirected edges.
    """

    xy: np.ndarray
    adjacency: sparse.csr_array
    edges: int

    @property
    def nodes(self) -> int:
        """Number of nodes."""
        return len(self.xy)


def _edge_arrays(roads, densify_m: float | None):
    """Node coordinates and the undirected edges (u < v, shortest of parallels)."""
    geoms = _geometry_array(roads)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    parts = shapely.get_parts(geoms)
    parts = parts[np.isin(shapely.get_type_id(parts), (1, 2))]  # LineString, LinearRing
    if densify_m:
        parts = shapely.segmentize(parts, densify_m)
    coords, line = shapely.get_coordinates(parts, return_index=True)
    if len(coords) == 0:
        return np.empty((0, 2)), np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    keys = np.round(coords / NODE_TOLERANCE_M).astype(np.int64)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    xy = coords[first]
    same = line[:-1] == line[1:]
    a, b = inverse[:-1][same], inverse[1:][same]
    w = np.hypot(*(coords[1:][same] - coords[:-1][same]).T)
    keep = a != b
    a, b, w = a[keep], b[keep], w[keep]
    u, v = np.minimum(a, b), np.maximum(a, b)
    order = np.argsort(w, kind="stable")
    _, pick = np.unique(u[order] * len(xy) + v[order], return_index=True)
    pick = order[pick]
    return xy, u[pick], v[pick], w[pick]


def road_network(roads, *, densify_m: float | None = DENSIFY_M) -> RoadNetwork:
    """Build the routable graph of a roads layer.

    Parameters
    ----------
    roads : geopandas.GeoDataFrame or GeoSeries
        Lines (multi-parts are exploded; other geometry types are ignored) in a
        metric CRS.  Lines connect where they share a vertex (within 1 cm); lines
        that cross without a shared vertex (bridges) do not.
    densify_m : float or None
        Split longer segments, so snapping to a node never detours more than
        ``densify_m / 2``.  None keeps the vertices as they are.

    Returns
    -------
    RoadNetwork

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> net = road_network(gpd.GeoSeries([LineString([(0, 0), (100, 0)]),
    ...                                   LineString([(100, 0), (100, 30)])]), densify_m=None)
    >>> net.nodes, net.edges
    (3, 2)
    """
    xy, u, v, w = _edge_arrays(roads, densify_m)
    n = len(xy)
    adj = sparse.csr_array((np.concatenate([w, w]), (np.concatenate([u, v]),
                                                      np.concatenate([v, u]))), shape=(n, n))
    return RoadNetwork(xy=xy, adjacency=adj, edges=len(w))


def road_graph(roads, *, densify_m: float | None = DENSIFY_M) -> nx.Graph:
    """The same graph as :func:`road_network`, as a :class:`networkx.Graph`.

    Nodes are integers with ``x`` and ``y`` attributes; edges carry ``weight``
    (metres).  Handy for other analyses; :func:`assign_shelters` works on the
    array form, which is faster to build and to search.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> g = road_graph(gpd.GeoSeries([LineString([(0, 0), (30, 40)])]), densify_m=None)
    >>> g.edges[0, 1]["weight"]
    50.0
    """
    xy, u, v, w = _edge_arrays(roads, densify_m)
    g = nx.Graph()
    g.add_nodes_from((i, {"x": float(x), "y": float(y)}) for i, (x, y) in enumerate(xy))
    g.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist()))
    return g


# --------------------------------------------------------------------------- helpers


def _geometry_array(obj) -> np.ndarray:
    if isinstance(obj, (gpd.GeoDataFrame, gpd.GeoSeries)):
        return np.asarray(obj.geometry.values, dtype=object)
    return np.asarray(obj, dtype=object)


def _exclude_geometry(exclude):
    if exclude is None:
        return None
    if isinstance(exclude, (gpd.GeoDataFrame, gpd.GeoSeries)):
        geom = exclude.geometry.union_all() if len(exclude) else None
    elif isinstance(exclude, shapely.Geometry):
        geom = exclude
    else:
        raise TypeError(f"exclude must be a shapely geometry, GeoSeries or GeoDataFrame, "
                        f"not {type(exclude).__name__}")
    if geom is None or geom.is_empty:
        return None
    return geom


def _id_column(frame: pd.DataFrame, preferred: tuple[str, ...]) -> str | None:
    for c in preferred:
        if c in frame.columns:
            return c
    return key_column("", [c for c in frame.columns if c != frame.geometry.name])


def _ids(frame: pd.DataFrame, preferred: tuple[str, ...]) -> np.ndarray:
    col = _id_column(frame, preferred)
    return frame[col].to_numpy(object) if col is not None else frame.index.to_numpy(object)


def _counts(frame: pd.DataFrame, column: str, what: str, *, fractional: str) -> np.ndarray:
    """Non-negative integer counts; NaN is 0.  Fractions: ``round`` (cumulative,
    keeps the total) or ``floor`` (capacities)."""
    try:
        v = pd.to_numeric(frame[column], errors="raise").to_numpy(float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{what} column {column!r} must be numeric: {exc}") from None
    v = np.nan_to_num(v, nan=0.0, posinf=np.nan)
    if np.isnan(v).any():
        raise SchemaError(f"{what} column {column!r} has an infinite value")
    if (v < 0).any():
        row = frame.index[int(np.argmax(v < 0))]
        raise SchemaError(f"{what} column {column!r} is negative at row {row!r}")
    if np.allclose(v, np.rint(v)):
        return np.rint(v).astype(np.int64)
    if fractional == "floor":
        return np.floor(v + 1e-9).astype(np.int64)
    c = np.rint(np.cumsum(v))
    return np.diff(c, prepend=0.0).astype(np.int64)


def _check_inputs(demand, people_column, shelters, capacity_column, roads):
    for name, frame in (("demand", demand), ("shelters", shelters)):
        if not isinstance(frame, gpd.GeoDataFrame):
            raise TypeError(f"{name} must be a GeoDataFrame, not {type(frame).__name__}")
    if roads is not None and not isinstance(roads, (gpd.GeoDataFrame, gpd.GeoSeries)):
        raise TypeError(f"roads must be a GeoDataFrame, GeoSeries or None, "
                        f"not {type(roads).__name__}")
    if people_column not in demand.columns:
        raise SchemaError(f"demand has no column {people_column!r} (people)")
    if capacity_column not in shelters.columns:
        raise SchemaError(f"shelters have no column {capacity_column!r} (capacity)")
    crss = {name: f.crs for name, f in (("demand", demand), ("shelters", shelters),
                                         ("roads", roads)) if f is not None and f.crs is not None}
    if len({c.to_string() for c in crss.values()}) > 1:
        listing = ", ".join(f"{k} {v.to_string()}" for k, v in crss.items())
        raise CRSError(f"demand, shelters and roads must share one CRS, got {listing}")
    for name, crs in crss.items():
        if crs.is_geographic:
            raise CRSError(f"{name} is in a geographic CRS ({crs.to_string()}); "
                           "reproject to a metric CRS to measure walking distances")


# --------------------------------------------------------------------------- transport problem


def _solve_units(cost, supply, cap, feedback, stats):
    """:func:`_solve_transport` for the units with people, zero flows elsewhere."""
    flows = np.zeros(cost.shape, np.int64)
    over = supply.astype(np.int64).copy()
    live = supply > 0
    if cost.shape[0] and live.any():
        flows[:, live], over[live] = _solve_transport(cost[:, live], supply[live], cap,
                                                      feedback, stats)
    return flows, over
#
# Shelters s (capacity b_s) plus an overflow sink O (room for everyone, cost BIG),
# demand nodes d (supply a_d), cost c_sd in whole centimetres.  Solved exactly by
# successive shortest paths on the shelters (a min-cost flow algorithm): prices
# p_s >= 0 with every demand node sent only to its cheapest shelters by c + p
# (I1), a priced shelter at least full (I2); while a shelter is over capacity,
# move people along a shortest path of exchanges "one node from s to s'" (cost
# c_s'd - c_sd) to a shelter with room, raising prices by the path distances.
# There are few shelters, so the exchange graph is small and dense.  The end
# state is checked against the LP optimality conditions (a certificate); the
# HiGHS LP is the fallback should that check ever fail.


def _solve_transport(cost: np.ndarray, supply: np.ndarray, cap: np.ndarray, feedback, stats):
    """Max people placed, then min person-metres.  ``cost`` is (shelters, nodes) in
    metres with ``inf`` where unreachable.  Returns integer flows and per-node overflow."""
    n_s, n_d = cost.shape
    c = np.rint(cost * 100.0)  # centimetres: integer-valued floats, sums stay exact
    finite = np.isfinite(c)
    big = (n_s + 1) * (float(c[finite].max()) + 1.0)
    cx = np.vstack([c, np.full((1, n_d), big)])
    capx = np.concatenate([cap, [int(supply.sum()) + 1]]).astype(np.int64)
    t0 = time.perf_counter()
    p, cur, rounds = _initial_prices(cx, supply, capx)
    stats["lp_price_rounds"] = rounds
    x, p, phases = _shortest_paths(cx, supply, capx, p, cur, feedback)
    stats["lp_phases"] = phases
    stats["lp_method"] = "successive_shortest_paths"
    if not _certified(cx, supply, capx, x, p):  # pragma: no cover - safety net
        x = _lp_fallback(cx, supply, capx, big)
        stats["lp_method"] = "highs"
    stats["lp_solve_s"] = time.perf_counter() - t0
    return x[:n_s], x[n_s]


def _initial_prices(cx, supply, capx, max_rounds: int = 40):
    """Raise the prices of over-full shelters all at once, each only as far as keeps
    it full (so I1 and I2 hold); stops when a round gains little.  A warm start."""
    n1, n = cx.shape
    n_s = n1 - 1
    cols = np.arange(n)
    p = np.zeros(n1)
    cur = np.argmin(cx, axis=0)
    before = None
    rounds = 0
    for rounds in range(1, max_rounds + 1):
        load = np.bincount(cur, weights=supply, minlength=n1)
        excess = load[:n_s] - capx[:n_s]
        total = excess[excess > 0].sum()
        if total == 0 or (before is not None and total > 0.98 * before):
            break
        before = total
        red = cx + p[:, None]
        mine = red[cur, cols]
        red[cur, cols] = np.inf
        margin = red.min(axis=0) - mine
        over = np.concatenate([excess > 0, [False]])
        sel = np.flatnonzero(over[cur])
        s_of = cur[sel]
        order = np.lexsort((margin[sel], s_of))
        sel, s_of = sel[order], s_of[order]
        cs = np.cumsum(supply[sel])
        start = np.searchsorted(s_of, s_of, side="left")
        within = cs - np.concatenate([[0], cs])[start]
        ok = within <= excess[s_of]
        first_bad = ~ok & np.concatenate([[True], (s_of[1:] != s_of[:-1]) | ok[:-1]])
        delta = np.zeros(n1)
        fb = np.flatnonzero(first_bad)
        delta[s_of[fb]] = np.maximum(0.0, margin[sel][fb] - 1.0)
        if not (delta > 0).any():
            break
        p += delta
        red = cx + p[:, None]
        best = red.argmin(axis=0)
        cur = np.where(red[cur, cols] <= red[best, cols], cur, best)
    load = np.bincount(cur, weights=supply, minlength=n1)
    if not np.all((p[:n_s] == 0) | (load[:n_s] >= capx[:n_s])):  # pragma: no cover
        return np.zeros(n1), np.argmin(cx, axis=0), rounds
    return p, cur, rounds


def _shortest_paths(cx, supply, capx, p, cur, feedback):
    n1, n = cx.shape
    n_s = n1 - 1
    x = np.zeros((n1, n), np.int64)
    x[cur, np.arange(n)] = supply
    member = x > 0
    load = x.sum(axis=1)
    p = p.astype(float)
    exch = np.full((n1, n1), np.inf)  # min over s's nodes of c_s'd - c_sd
    graph = sparse.csr_matrix((np.ones(n1 * n1), np.tile(np.arange(n1, dtype=np.int32), n1),
                               np.arange(0, n1 * n1 + 1, n1, dtype=np.int32)), shape=(n1, n1))
    hops_k = float(n1 + 1)  # weight * k + 1: among shortest paths, the fewest exchanges

    def recompute(s):
        ds = np.flatnonzero(member[s])
        exch[s] = (cx[:, ds] - cx[s, ds]).min(axis=1) if len(ds) else np.inf
        exch[s, s] = np.inf

    for s in range(n_s):
        recompute(s)
    phases = 0
    while True:
        excess = load[:n_s] - capx[:n_s]
        starts = np.flatnonzero(excess > 0)
        if len(starts) == 0:
            return x, p, phases
        phases += 1
        if phases % 64 == 0:
            feedback.check()
        graph.data[:] = ((exch + p[None, :] - p[:, None]) * hops_k + 1.0).ravel()
        dist, pred, _ = dijkstra(graph, directed=True, indices=starts, min_only=True,
                                 return_predecessors=True)
        dist = np.floor(dist / hops_k)
        room = np.where(load < capx, dist, np.inf)
        t = int(room.argmin())
        p += np.maximum(0.0, room[t] - dist)
        path = [t]
        while pred[path[-1]] >= 0:
            path.append(int(pred[path[-1]]))
        path.reverse()
        amount = min(excess[path[0]], capx[t] - load[t])
        # Every node of u that is tight with v can move (several when costs tie).
        us, vs = np.array(path[:-1]), np.array(path[1:])
        hop, ds = np.nonzero(member[us])
        u_of, v_of = us[hop], vs[hop]
        tight = cx[v_of, ds] - cx[u_of, ds] == exch[u_of, v_of]
        hop, ds, u_of, v_of = hop[tight], ds[tight], u_of[tight], v_of[tight]
        xs = x[u_of, ds]
        amount = min(amount, int(np.bincount(hop, weights=xs, minlength=len(us)).min()))
        # Fill each hop's amount from its nodes in order.
        before = np.cumsum(xs) - xs
        first = np.concatenate([[0], np.cumsum(np.bincount(hop, minlength=len(us)))[:-1]])
        before -= before[first][hop]
        take = np.minimum(xs, np.maximum(0, amount - before))
        moved = take > 0
        hop, ds, u_of, v_of, take = hop[moved], ds[moved], u_of[moved], v_of[moved], take[moved]
        np.subtract.at(x, (u_of, ds), take)
        np.add.at(x, (v_of, ds), take)
        member[v_of, ds] = True
        gone = x[u_of, ds] == 0
        member[u_of[gone], ds[gone]] = False
        for u in np.unique(u_of[gone]):
            recompute(u)
        into = v_of < n_s
        if into.any():
            v_in, d_in = v_of[into], ds[into]
            np.minimum.at(exch, v_in, (cx[:, d_in] - cx[v_in, d_in]).T)
            exch[v_in, v_in] = np.inf
        load[path[0]] -= amount
        load[t] += amount


def _certified(cx, supply, capx, x, p) -> bool:
    """LP optimality: every flow on a cheapest arc by cost + price, loads within
    capacity, a priced shelter full, all supply sent."""
    red = cx + p[:, None]
    cheapest = red.min(axis=0)
    pos = x > 0
    load = x.sum(axis=1)
    return bool((x >= 0).all() and np.array_equal(x.sum(axis=0), supply)
                and (red[pos] == np.broadcast_to(cheapest, x.shape)[pos]).all()
                and (load <= capx).all() and (p >= 0).all()
                and ((p == 0) | (load == capx)).all())


def _lp_matrices(s_idx, d_idx, n_s, n_d):
    m = len(s_idx)
    a_eq = sparse.csr_array((np.ones(m), (d_idx, np.arange(m))), shape=(n_d, m))
    a_ub = sparse.csr_array((np.ones(m), (s_idx, np.arange(m))), shape=(n_s, m))
    return a_eq, a_ub


def _lp_fallback(cx, supply, capx, big):  # pragma: no cover - safety net
    """The same problem as one HiGHS LP (integral: a transportation problem with
    integer data), rounded and checked; an integer programme if rounding fails."""
    n1, n = cx.shape
    s_idx, d_idx = np.nonzero(np.isfinite(cx))
    a_eq, a_ub = _lp_matrices(s_idx, d_idx, n1, n)
    c = cx[s_idx, d_idx]
    res = linprog(c, A_ub=a_ub, b_ub=capx.astype(float), A_eq=a_eq, b_eq=supply.astype(float),
                  bounds=(0, None), method="highs-ds")
    xi = None
    if res.status == 0:
        xi = np.rint(res.x).astype(np.int64)
        if np.abs(res.x - xi).max(initial=0) > 1e-6:
            xi = None
    if xi is None:
        res = milp(c, integrality=np.ones(len(c)), bounds=Bounds(0, np.inf),
                   constraints=[LinearConstraint(a_eq, supply, supply),
                                LinearConstraint(a_ub, -np.inf, capx)])
        if res.status != 0:
            raise CityFrameError(f"shelter assignment: the solver failed ({res.message})")
        xi = np.rint(res.x).astype(np.int64)
    x = np.zeros((n1, n), np.int64)
    x[s_idx, d_idx] = xi
    return x


# --------------------------------------------------------------------------- grouped demand
#
# Above MAX_UNITS buildings with people, the buildings are grouped (road node, then
# community or grid cell) and each group is one demand unit at a representative road
# node.  The transport problem is then solved over sparse arcs: for each unit only its
# nearest shelters by walk (K_NEAREST, all within the search radius), with a lower
# bound on the walk to every shelter left out.  The HiGHS dual simplex gives integral
# flows and the shelters' prices; the answer is certified optimal for the grouped
# problem with *every* shelter by the LP conditions on the kept arcs plus, for each
# unit, "its cheapest priced option is no dearer than the bound on the arcs left
# out" (prices are >= 0).  Units that fail get more shelters and it is solved again.


def _coarse_groups(xy, people, community, max_units, grid_sizes):
    """Community (when the buildings say) or grid cell of each building, and a label."""
    if community is not None:
        codes, _ = pd.factorize(pd.Series(community, dtype=object))
        codes = codes.astype(np.int64)
        missing = codes < 0
        if missing.any():  # buildings without a community: 500 m cells of their own
            cell = np.floor(xy[missing] / 500.0).astype(np.int64)
            _, cells = np.unique(cell, axis=0, return_inverse=True)
            codes[missing] = codes.max(initial=-1) + 1 + cells.ravel()
        _, unit = np.unique(codes, return_inverse=True)
        if unit.max(initial=-1) + 1 <= max_units:
            return unit.ravel(), "community"
    for size in grid_sizes:
        cell = np.floor(xy / size).astype(np.int64)
        _, unit = np.unique(cell, axis=0, return_inverse=True)
        if unit.max(initial=-1) + 1 <= max_units or size == grid_sizes[-1]:
            return unit.ravel(), f"grid_{int(size)}m"
    raise AssertionError("unreachable")  # pragma: no cover


def _first_of_group(group, key):
    """Index of the smallest ``key`` in each group 0..n-1."""
    order = np.lexsort((key, group))
    g = group[order]
    first = np.concatenate([[True], g[1:] != g[:-1]])
    return order[first]


def _dijkstra_window(net, sources, targets, limit):
    """Walks from ``sources`` to ``targets`` up to ``limit`` (``inf`` beyond), searching
    only the nodes within ``limit`` of the sources' bounding box as the crow flies
    (a walk no longer than ``limit`` cannot leave it, so the result is exact)."""
    if math.isfinite(limit):
        lo = net.xy[sources].min(axis=0) - limit
        hi = net.xy[sources].max(axis=0) + limit
        inside = np.all((net.xy >= lo) & (net.xy <= hi), axis=1)
        if inside.sum() < 0.6 * net.nodes:
            idx = np.flatnonzero(inside)
            pos = np.full(net.nodes, -1, np.int64)
            pos[idx] = np.arange(len(idx))
            sub = net.adjacency[idx][:, idx]
            d = dijkstra(sub, directed=True, indices=pos[sources], limit=limit)
            out = np.full((len(sources), len(targets)), np.inf)
            tp = pos[targets]
            ok = tp >= 0
            out[:, ok] = d[:, tp[ok]]
            return out
    return dijkstra(net.adjacency, directed=True, indices=sources, limit=limit)[:, targets]


def _road_arcs(net, unit_node, units, s_node, s_snap, limit, fb):
    """All (unit, shelter, walk) with road distance <= ``limit`` for ``units``."""
    if len(units) == 0 or len(s_node) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    un, un_inv = np.unique(unit_node[units], return_inverse=True)
    sn, sn_inv = np.unique(s_node, return_inverse=True)
    if math.isfinite(limit):  # shelters farther than the limit as the crow flies cannot be found
        near, _ = cKDTree(net.xy[un]).query(net.xy[sn], k=1, distance_upper_bound=limit)
        sn_rel = np.flatnonzero(np.isfinite(near))
    else:
        sn_rel = np.arange(len(sn))
    from_units = len(un) < len(sn_rel)
    src = un if from_units else sn[sn_rel]
    dst = sn if from_units else un
    parts_a, parts_b, parts_d = [], [], []
    # Sources in spatial blocks, so that a chunk's search stays in a small window.
    cell = np.floor(net.xy[src] / 4000.0).astype(np.int64)
    src_order = np.lexsort((cell[:, 1], cell[:, 0]))
    chunk_n = 4 * _DIJKSTRA_CHUNK if math.isfinite(limit) else _DIJKSTRA_CHUNK
    for start in range(0, len(src), chunk_n):
        pick = src_order[start:start + chunk_n]
        chunk = src[pick]
        dist = _dijkstra_window(net, chunk, dst, limit)
        i, j = np.nonzero(np.isfinite(dist))
        parts_a.append(pick[i])
        parts_b.append(j)
        parts_d.append(dist[i, j])
        fb.check()
    a, b, d = (np.concatenate(v) for v in (parts_a, parts_b, parts_d))
    if from_units:   # a: unique unit node, b: unique shelter node
        u_node, s_un = a, b
    else:            # a: relevant shelter node, b: unique unit node
        u_node, s_un = b, sn_rel[a]
    # expand unique nodes back to units and shelters
    uo = np.argsort(un_inv, kind="stable")
    ustart = np.searchsorted(un_inv[uo], np.arange(len(un) + 1))
    so = np.argsort(sn_inv, kind="stable")
    sstart = np.searchsorted(sn_inv[so], np.arange(len(sn) + 1))
    nu = ustart[u_node + 1] - ustart[u_node]
    ns = sstart[s_un + 1] - sstart[s_un]
    reps = nu * ns
    pair = np.repeat(np.arange(len(reps)), reps)
    within = np.arange(len(pair)) - np.repeat(np.cumsum(reps) - reps, reps)
    iu = uo[ustart[u_node[pair]] + within // ns[pair]]
    js = so[sstart[s_un[pair]] + within % ns[pair]]
    return units[iu], js, d[pair] + s_snap[js]


def _line_arcs(rep_xy, units, s_xy, k):
    """The ``k`` nearest shelters as the crow flies, and the (k+1)-th distance."""
    kk = min(k + 1, len(s_xy))
    dist, idx = cKDTree(s_xy).query(rep_xy[units], k=kk)
    dist, idx = dist.reshape(len(units), kk), idx.reshape(len(units), kk)
    if kk > k:
        bound, dist, idx = dist[:, k], dist[:, :k], idx[:, :k]
    else:
        bound = np.full(len(units), np.inf)
    return np.repeat(units, dist.shape[1]), idx.ravel(), dist.ravel(), bound


def _keep_nearest(au, js, cost, k):
    """The ``k`` cheapest arcs of each unit, and per arc-owning unit the cheapest dropped."""
    order = np.lexsort((cost, au))
    au, js, cost = au[order], js[order], cost[order]
    start = np.concatenate([[True], au[1:] != au[:-1]]) if len(au) else np.zeros(0, bool)
    first = np.flatnonzero(start)
    rank = np.arange(len(au)) - np.repeat(first, np.diff(np.append(first, len(au))))
    dropped = rank == k
    keep = rank < k
    return au[keep], js[keep], cost[keep], au[dropped], cost[dropped]


def _solve_sparse(au, js, cost_m, supply, cap, stats):
    """Max people placed, then min person-metres over the given arcs (HiGHS dual
    simplex).  Returns arc flows, overflow per unit, shelter prices, costs in cm, big."""
    n_u, n_s, m = len(supply), len(cap), len(au)
    c = np.rint(cost_m * 100.0)
    big = (n_s + 1) * (float(c.max(initial=0.0)) + 1.0)
    cost = np.concatenate([c, np.full(n_u, big)])
    cols = np.arange(m + n_u)
    a_eq = sparse.csr_array((np.ones(m + n_u), (np.concatenate([au, np.arange(n_u)]), cols)),
                            shape=(n_u, m + n_u))
    a_ub = sparse.csr_array((np.ones(m), (js, np.arange(m))), shape=(n_s, m + n_u))
    res = linprog(cost, A_ub=a_ub, b_ub=cap.astype(float), A_eq=a_eq,
                  b_eq=supply.astype(float), bounds=(0, None), method="highs-ds",
                  options={"presolve": False, "simplex_dual_edge_weight_strategy": "devex"})
    if res.status != 0:  # pragma: no cover - always feasible (overflow)
        raise CityFrameError(f"shelter assignment: the solver failed ({res.message})")
    x = np.rint(res.x).astype(np.int64)
    p = np.maximum(0.0, np.rint(-np.asarray(res.ineqlin.marginals, float)))
    if np.abs(res.x - x).max(initial=0) > 1e-6:  # pragma: no cover - a vertex is integral
        x = None
    return x, p, c, big


def _sparse_certificate(au, js, c, big, supply, cap, x, p, bound_cm):
    """LP optimality on the kept arcs (as :func:`_certified`) and, per unit, whether
    the arcs left out might be cheaper (``fail``)."""
    n_u, m = len(supply), len(au)
    xa, xo = x[:m], x[m:]
    red = c + p[js]
    u = np.full(n_u, big)
    np.minimum.at(u, au, red)
    load = np.bincount(js, weights=xa, minlength=len(cap))
    pos = xa > 0
    ok = bool((x >= 0).all()
              and np.array_equal(np.bincount(au, weights=xa, minlength=n_u) + xo, supply)
              and (load <= cap).all() and (p >= 0).all() and ((p == 0) | (load == cap)).all()
              and (red[pos] == u[au[pos]]).all() and (u[xo > 0] == big).all())
    return ok, u > bound_cm, u


def _price_oracle(net, s_node, s_snap, p_cm):
    """For every graph node, the cheapest shelter by walk + price, over *all* shelters.

    One Dijkstra from a virtual source joined to each shelter's node by its snap
    distance plus its price.  Returns (value in metres, shelter position, walk in
    metres to that shelter) per node; ``inf``/-1 where no shelter is reachable."""
    n = net.nodes
    offset = s_snap + p_cm / 100.0
    order = np.lexsort((offset, s_node))
    first = order[np.concatenate([[True], s_node[order][1:] != s_node[order][:-1]])]
    nodes, best = s_node[first], first  # the cheapest shelter at each shelter node
    eps = 1e-6  # explicit zero weights are no edges
    adj = net.adjacency
    src_row = sparse.csr_array((offset[best] + eps, (np.zeros(len(nodes), np.int64), nodes)),
                               shape=(1, n + 1))
    aug = sparse.vstack([sparse.hstack([adj, sparse.csr_array((n, 1))]), src_row],
                        format="csr")
    dist, pred = dijkstra(aug, directed=True, indices=n, return_predecessors=True)
    dist = dist[:n]
    root = pred[:n].astype(np.int64)
    from_source = root == n
    root[from_source] = np.flatnonzero(from_source)
    root[root < 0] = -1
    at = np.full(n, -1, np.int64)
    at[nodes] = best
    for _ in range(64):  # pointer jumping to the shelter node each path starts from
        ok = root >= 0
        nxt = root.copy()
        nxt[ok] = root[root[ok]]
        if np.array_equal(nxt, root):
            break
        root = nxt
    shelter = np.where(root >= 0, at[np.maximum(root, 0)], -1)
    walk = np.where(shelter >= 0, dist - p_cm[np.maximum(shelter, 0)] / 100.0 - eps, np.inf)
    return dist, shelter, walk


def _search_radius(unit_xy, s_xy, s_snap, p_cm, u_cm, chunk: int = 512):
    """How far to search from each unit for shelters that may be cheaper by walk +
    price than ``u_cm``: a detour allowance around the straight-line distance to the
    most promising ones (lower bound: straight line + snap + price)."""
    out = np.empty(len(unit_xy))
    for i in range(0, len(unit_xy), chunk):
        xy, u = unit_xy[i:i + chunk], u_cm[i:i + chunk]
        eu = np.hypot(xy[:, None, 0] - s_xy[None, :, 0], xy[:, None, 1] - s_xy[None, :, 1])
        lb = (eu + s_snap[None, :]) * 100.0 + p_cm[None, :]
        lb = np.where(lb < u[:, None], lb, np.inf)
        m = min(_COLUMNS_PER_ROUND, lb.shape[1])
        best = np.argpartition(lb, m - 1, axis=1)[:, :m]
        near = np.take_along_axis(eu, best, axis=1)
        near = np.where(np.isfinite(np.take_along_axis(lb, best, axis=1)), near, 0.0)
        out[i:i + chunk] = np.minimum(1.5 * near.max(axis=1) + 2 * DENSIFY_M, u / 100.0)
    return out


def _grouped(method, net, a_people, a_node, a_snap, a_xy, a_comm, s_node, s_snap, s_xy,
             cap, *, max_units, grid_sizes, k, fb, stats):
    """Group the buildings, solve the transport problem for the groups, certify it.

    Returns ``(b_unit, access, e_unit, e_shel, e_people, e_cost, label, n_units)``:
    the unit of each building (-1: unreachable), each building's access leg (to its
    unit's node), and the unit-level entries (shelter position in ``s_*``, or -1
    without a place)."""
    t0 = time.perf_counter()
    if method == "road":
        unit_node, b_unit = np.unique(a_node, return_inverse=True)
        b_unit = b_unit.ravel()
        label, access = "road_node", a_snap
    if method != "road" or len(unit_node) > max_units:
        b_unit, label = _coarse_groups(a_xy, a_people, a_comm, max_units, grid_sizes)
        n_u = int(b_unit.max(initial=-1)) + 1
        w = np.bincount(b_unit, weights=a_people, minlength=n_u)
        centre = np.stack([np.bincount(b_unit, weights=a_people * a_xy[:, i], minlength=n_u)
                           for i in (0, 1)], axis=1) / w[:, None]
        if method == "road":  # the unit's own road node nearest its population centre
            near = np.hypot(*(net.xy[a_node] - centre[b_unit]).T)
            unit_node = a_node[_first_of_group(b_unit, near)]
            rep_xy = net.xy[unit_node]
        else:
            rep_xy = centre
        access = np.hypot(*(a_xy - rep_xy[b_unit]).T)
    elif method == "road":
        rep_xy = net.xy[unit_node]
    n_u = int(b_unit.max(initial=-1)) + 1
    supply = np.bincount(b_unit, weights=a_people, minlength=n_u).astype(np.int64)
    stats["group_s"] = time.perf_counter() - t0
    stats["demand_units"] = n_u

    # Candidate arcs: the k nearest shelters of each unit (and a bound on the others).
    t0 = time.perf_counter()
    kk = min(k, len(s_xy))
    everyone = np.arange(n_u)
    if method == "road":
        reach_k, _ = cKDTree(s_xy).query(rep_xy, k=kk)
        reach_k = reach_k.reshape(n_u, -1)[:, -1]
        limit = 1.2 * float(np.quantile(reach_k, 0.75)) + DENSIFY_M
        au, js, cost = _road_arcs(net, unit_node, everyone, s_node, s_snap, limit, fb)
        au, js, cost = _keep_nearest(au, js, cost, kk)[:3]
        # Every unit gets at least its nearest shelter (exact, over the whole network).
        _, o_s, o_walk = _price_oracle(net, s_node, s_snap, np.zeros(len(s_node)))
        lone = np.flatnonzero((np.bincount(au, minlength=n_u) == 0)
                              & (o_s[unit_node] >= 0))
        au, js, cost = (np.concatenate([au, lone]), np.concatenate([js, o_s[unit_node[lone]]]),
                        np.concatenate([cost, o_walk[unit_node[lone]]]))
        bound = None
        stats["search_limit_m"] = round(limit, 1)
    else:
        au, js, cost, bound = _line_arcs(rep_xy, everyone, s_xy, kk)
    stats["distances_s"] = time.perf_counter() - t0

    # Units that reach no shelter are unreachable; the others are solved.
    t0 = time.perf_counter()
    has = np.bincount(au, minlength=n_u) > 0
    renum = np.full(n_u, -1, np.int64)
    renum[has] = np.arange(int(has.sum()))
    au = renum[au]
    sup = supply[has]
    reps, node_of = rep_xy[has], (unit_node[has] if method == "road" else None)
    bnd = bound[has] if bound is not None else None
    rounds = 0
    oracle_s = 0.0
    lp_times: list = []
    while True:
        rounds += 1
        used, js_c = np.unique(js, return_inverse=True)
        js_c = js_c.ravel()
        tl = time.perf_counter()
        x, p, c, big = _solve_sparse(au, js_c, cost, sup, cap[used], stats)
        lp_times.append(round(time.perf_counter() - tl, 2))
        if x is None:  # pragma: no cover
            raise CityFrameError("shelter assignment: the solver gave fractional flows")
        bound_cm = np.full(len(sup), np.inf) if bnd is None \
            else np.floor(np.minimum(bnd, 1e15) * 100.0)
        ok, fail, u = _sparse_certificate(au, js_c, c, big, sup, cap[used], x, p, bound_cm)
        if not ok:  # pragma: no cover - HiGHS's prices did not prove it
            raise CityFrameError("shelter assignment: the solution could not be certified")
        if method == "road":
            # Exact check over every shelter: the cheapest walk + price from each unit.
            to = time.perf_counter()
            p_all = np.zeros(len(s_node))
            p_all[used] = p
            _, o_s, o_walk = _price_oracle(net, s_node, s_snap, p_all)
            o_s, o_walk = o_s[node_of], o_walk[node_of]
            o_cm = np.rint(o_walk * 100.0) + p_all[np.maximum(o_s, 0)]
            fail = (o_s >= 0) & (o_cm < u)
            oracle_s += time.perf_counter() - to
        if not fail.any():
            break
        bad = np.flatnonzero(fail)
        if method == "road":
            # Columns: the oracle's shelter, and every shelter cheaper by walk + price
            # than the unit's current option (searched up to that walk), unless
            # the unit overflows (then the oracle's shelter only).
            nau, njs, ncost = [bad], [o_s[bad]], [o_walk[bad]]
            radius = _search_radius(net.xy[node_of[bad]], net.xy[s_node], s_snap, p_all,
                                    u[bad])
            cell = np.floor(net.xy[node_of[bad]] / 4000.0).astype(np.int64)
            order = np.lexsort((radius, cell[:, 1], cell[:, 0]))
            for start in range(0, len(order), 128):
                part = order[start:start + 128]
                a, b, d = _road_arcs(net, node_of, bad[part], s_node, s_snap,
                                     float(radius[part].max()), fb)
                red = np.rint(d * 100.0) + p_all[b]
                sel = red < u[a]  # cheaper by walk + price: keep the best few per unit
                a, b, d, red = a[sel], b[sel], d[sel], red[sel]
                o = np.lexsort((red, a))
                a, b, d = a[o], b[o], d[o]
                first = np.flatnonzero(np.concatenate([[True], a[1:] != a[:-1]])) \
                    if len(a) else np.zeros(0, np.int64)
                rank = np.arange(len(a)) - np.repeat(first, np.diff(np.append(first, len(a))))
                sel = rank < _COLUMNS_PER_ROUND
                nau.append(a[sel])
                njs.append(b[sel])
                ncost.append(d[sel])
            nau, njs, ncost = (np.concatenate(v) for v in (nau, njs, ncost))
            keyn = nau * len(s_node) + njs
            keyn, first = np.unique(keyn, return_index=True)
            fresh = ~np.isin(keyn, au * len(s_node) + js)
            pick = first[fresh]
            au, js, cost = (np.concatenate([au, nau[pick]]), np.concatenate([js, njs[pick]]),
                            np.concatenate([cost, ncost[pick]]))
        else:
            lim = np.inf if (u[bad].max() >= big or rounds >= 4) else 0.0
            nk = len(s_xy) if not math.isfinite(lim) else min(len(s_xy), 4 * kk * rounds)
            keep = ~fail[au]
            nau, njs, ncost, nb = _line_arcs(reps, bad, s_xy, nk)
            bnd[bad] = nb
            au, js, cost = (np.concatenate([a[keep], b]) for a, b in
                            ((au, nau), (js, njs), (cost, ncost)))
        fb.check()
    stats["oracle_s"] = oracle_s
    stats["lp_solve_s"] = float(sum(lp_times))
    stats["lp_solve_rounds_s"] = lp_times
    stats.update(lp_method="highs_sparse", lp_rounds=rounds, arcs=len(au),
                 lp_s=time.perf_counter() - t0)
    m = len(au)
    xa, xo = x[:m], x[m:]
    pos = np.flatnonzero(xa > 0)
    live = np.flatnonzero(has)
    e_unit = np.concatenate([live[au[pos]], live[np.flatnonzero(xo > 0)]])
    e_shel = np.concatenate([used[js_c.ravel()[pos]], np.full(int((xo > 0).sum()), -1)])
    e_people = np.concatenate([xa[pos], xo[xo > 0]])
    e_cost = np.concatenate([cost[pos], np.full(int((xo > 0).sum()), np.inf)])
    b_out = np.where(has[b_unit], b_unit, -1)
    return b_out, access, e_unit, e_shel, e_people, e_cost, label, n_u


# --------------------------------------------------------------------------- main entry


def assign_shelters(demand: gpd.GeoDataFrame, people_column: str, shelters: gpd.GeoDataFrame,
                    capacity_column: str, roads: gpd.GeoDataFrame | None, *, exclude=None,
                    feedback=None, max_units: int = MAX_UNITS,
                    group_column: str | None = "community_id",
                    k_nearest: int = K_NEAREST) -> ShelterResult:
    """Send the displaced residents to shelters by the shortest walk, within capacity.

    Parameters
    ----------
    demand : geopandas.GeoDataFrame
        Affected buildings (or communities); any geometry, its representative
        point is used.  Id: ``building_id``/``community_id`` or the first
        ``*_id`` column, else the index.  Rows without geometry are unreachable.
    people_column : str
        People per row (NaN counts 0; fractional counts, e.g. from a population
        raster, are rounded keeping the total).
    shelters : geopandas.GeoDataFrame
        Shelter points (or polygons); id ``shelter_id`` (or first ``*_id``),
        ``name`` when present.
    capacity_column : str
        Places per shelter (NaN counts 0, fractions are floored).
    roads : geopandas.GeoDataFrame or None
        Road lines.  None or no lines: straight-line distances.
    exclude : shapely geometry, GeoSeries or GeoDataFrame, optional
        The hazard: shelters that intersect it are not used.
    feedback : spatial.feedback.Feedback, optional
        Progress and cancellation.
    max_units : int
        Above this many buildings with people the demand is grouped: by road
        node (``demand_unit="road_node"``), and when there are still more nodes
        than this, by ``group_column`` (``"community"``) or by grid cells of
        250 m, 500 m, … (``"grid_500m"``).
    group_column : str or None
        The demand column naming each building's community (None: grid cells).
    k_nearest : int
        Shelters kept per group at first on the grouped path (more are added
        wherever the optimality check asks for them).

    Returns
    -------
    ShelterResult

    Raises
    ------
    TypeError
        When a frame is not a GeoDataFrame.
    spatial.errors.SchemaError
        When a column is missing, not numeric or negative.
    spatial.errors.CRSError
        When the frames' CRSs differ or are geographic.

    Notes
    -----
    The optimum maximises the people placed, then minimises the person-metres
    walked: an unplaced person costs more than any chain of reassignments could
    save.  Every shelter–building pair is considered (no pruning).  Buildings
    snapped to the same road node are solved as one while everyone gets a place
    (their own snap distances are walked whatever the assignment); when places
    run short the problem is solved again building by building, so those
    nearest the road are placed first.  Costs are rounded to whole centimetres,
    and the optimum is exact for them.  Within a node, the buildings farthest
    from the road get the nearest shelters (same total, shorter longest walk).

    Grouped demand (more than ``max_units`` buildings): a group's people start
    from one road node — their own for ``road_node`` (exact while everyone gets
    a place), else the group's road node nearest its population centre.  A
    building's walk is then its access leg (the snap distance to its road node,
    or the straight line to the group's node) plus the group's road distance;
    ``longest_walk_m`` is the largest such walk (at most the group's distance
    plus its longest access leg).  Flows are still listed per building.  The
    optimum is exact (in whole centimetres) for the groups, certified over every
    shelter.  On the metro city's river flood (~17,000 road nodes, 2,600 usable
    shelters) this takes about 8 s and 0.6 GB instead of 300 s and 2.9 GB.

    Time: a Dijkstra from each shelter over the road graph, then a few thousand
    augmenting paths on the small graph of shelters for 50,000 people in
    8,000 buildings and 100 shelters (``benchmarks/drill_shelters.py``).
    """
    _check_inputs(demand, people_column, shelters, capacity_column, roads)
    fb = ensure_feedback(feedback)
    t_start = time.perf_counter()
    stats: dict = {}

    people = _counts(demand, people_column, "demand", fractional="round")
    capacity = _counts(shelters, capacity_column, "shelters", fractional="floor")
    demand_ids = _ids(demand, ("building_id", "community_id"))
    shelter_ids = _ids(shelters, ("shelter_id",))
    names = shelters["name"].to_numpy(object) if "name" in shelters.columns \
        else np.full(len(shelters), None, object)

    d_geom = _geometry_array(demand)
    d_ok = ~(shapely.is_missing(d_geom) | shapely.is_empty(d_geom))
    d_pt = np.full(len(demand), None, object)
    d_pt[d_ok] = shapely.point_on_surface(d_geom[d_ok])
    s_geom = _geometry_array(shelters)
    s_ok = ~(shapely.is_missing(s_geom) | shapely.is_empty(s_geom))
    s_pt = np.full(len(shelters), None, object)
    s_pt[s_ok] = shapely.point_on_surface(s_geom[s_ok])

    hazard = _exclude_geometry(exclude)
    in_hazard = np.zeros(len(shelters), bool)
    if hazard is not None:
        shapely.prepare(hazard)
        in_hazard[s_ok] = shapely.intersects(hazard, s_geom[s_ok])
    status = np.where(~s_ok, "no_location", np.where(in_hazard, "in_hazard", "ok"))
    usable = s_ok & ~in_hazard
    fb.set_progress(5)

    # Demand nodes: graph nodes (road) or the buildings themselves (straight line).
    active = d_ok & (people > 0)
    t0 = time.perf_counter()
    net = road_network(roads) if roads is not None and len(roads) else None
    method = "road" if net is not None and net.edges > 0 else "straight_line"
    stats["graph_s"] = time.perf_counter() - t0
    fb.set_progress(15)
    fb.check()

    t0 = time.perf_counter()
    b_snap = np.zeros(len(demand))
    s_snap = np.zeros(len(shelters))
    use_idx = np.nonzero(usable & (capacity > 0))[0]  # shelters that can take anyone
    if method == "road":
        tree = shapely.STRtree(shapely.points(net.xy))
        b_node = np.full(len(demand), -1, np.int64)
        if active.any():
            (qi, ti), dist = tree.query_nearest(d_pt[active], return_distance=True,
                                                all_matches=False)
            rows = np.nonzero(active)[0][qi]
            b_node[rows], b_snap[rows] = ti, dist
        s_node = np.full(len(shelters), -1, np.int64)
        if len(use_idx):
            (qi, ti), dist = tree.query_nearest(s_pt[use_idx], return_distance=True,
                                                all_matches=False)
            s_node[use_idx[qi]], s_snap[use_idx[qi]] = ti, dist
        d_nodes, b_dn = np.unique(b_node[active], return_inverse=True)
        stats.update(nodes=net.nodes, edges=net.edges)
    else:
        d_nodes = np.nonzero(active)[0]
        b_dn = np.arange(len(d_nodes))
    b_demand_node = np.full(len(demand), -1, np.int64)
    b_demand_node[active] = b_dn
    supply = np.bincount(b_dn, weights=people[active], minlength=len(d_nodes)).astype(np.int64)
    stats["snap_s"] = time.perf_counter() - t0
    stats["demand_nodes"] = len(d_nodes)
    fb.set_progress(25)

    act = np.nonzero(active)[0]
    if len(act) > max_units and len(use_idx):
        # Too many buildings: group them (road node, then community or grid cell).
        comm = demand[group_column].to_numpy(object)[act] \
            if group_column and group_column in demand.columns else None
        s_xy = net.xy[s_node[use_idx]] if method == "road" \
            else shapely.get_coordinates(s_pt[use_idx])
        b_unit, u_snap, e_node, e_pos, e_people, e_cost, demand_unit, n_units = _grouped(
            method, net, people[act], b_node[act] if method == "road" else None, b_snap[act],
            shapely.get_coordinates(d_pt[act]), comm, s_node[use_idx] if method == "road"
            else None, s_snap[use_idx], s_xy, capacity[use_idx], max_units=max_units,
            grid_sizes=GRID_SIZES_M, k=k_nearest, fb=fb, stats=stats)
        a_people = people[act]
        e_shel = np.where(e_pos >= 0, use_idx[np.maximum(e_pos, 0)], -1)
        lost_units = b_unit < 0
        b_unit = b_unit.copy()
        b_unit[lost_units] = n_units + np.arange(int(lost_units.sum()))
        e_node = np.concatenate([e_node, b_unit[lost_units]])
        e_shel = np.concatenate([e_shel, np.full(int(lost_units.sum()), -2)])
        e_people = np.concatenate([e_people, a_people[lost_units]])
        e_cost = np.concatenate([e_cost, np.full(int(lost_units.sum()), np.inf)])
        fb.set_progress(85)
    else:
        demand_unit, n_units = "building", len(act)
        # Cost matrix: shelters (that can take people) × demand nodes, metres.
        t0 = time.perf_counter()
        cost = np.full((len(use_idx), len(d_nodes)), np.inf)
        if len(use_idx) and len(d_nodes):
            if method == "road":
                src, src_inv = np.unique(s_node[use_idx], return_inverse=True)
                for start in range(0, len(src), _DIJKSTRA_CHUNK):
                    chunk = src[start:start + _DIJKSTRA_CHUNK]
                    dist = dijkstra(net.adjacency, directed=True, indices=chunk)
                    sel = (src_inv >= start) & (src_inv < start + len(chunk))
                    cost[sel] = dist[src_inv[sel] - start][:, d_nodes]
                    fb.set_progress(25 + 35 * (start + len(chunk)) / len(src))
                    fb.check()
                cost += s_snap[use_idx][:, None]
            else:
                sxy = shapely.get_coordinates(s_pt[use_idx])
                dxy = shapely.get_coordinates(d_pt[d_nodes])
                cost = np.hypot(sxy[:, None, 0] - dxy[None, :, 0], sxy[:, None, 1] - dxy[None, :, 1])
        stats["distances_s"] = time.perf_counter() - t0
        fb.set_progress(60)

        # The transport problem over the demand nodes that reach some shelter.  When
        # everyone gets a place, each building's own snap distance is walked whatever
        # the assignment, so nodes can stand for their buildings.  When some must stay
        # without a place, who stays matters (the one farthest from the road saves the
        # most walking): then it is solved again with each building on its own.
        t0 = time.perf_counter()
        reach = np.isfinite(cost).any(axis=0) if len(use_idx) else np.zeros(len(d_nodes), bool)
        act = np.nonzero(active)[0]
        a_people, a_snap = people[act], b_snap[act]
        units_cost, units_supply = cost[:, reach], supply[reach]
        unit_of = np.full(len(d_nodes), -1, np.int64)
        unit_of[reach] = np.arange(int(reach.sum()))
        b_unit, u_snap = unit_of[b_dn], a_snap  # unit of each active building (-1 unreachable)
        short = int(capacity[use_idx].sum()) < int(units_supply.sum())  # places run short
        if not (short and method == "road"):
            flows_su, over = _solve_units(units_cost, units_supply, capacity[use_idx], fb, stats)
        if method == "road" and (short or over.any()):
            ok = reach[b_dn]
            units_cost = cost[:, b_dn[ok]] + a_snap[ok][None, :]
            units_supply = a_people[ok]
            b_unit = np.full(len(act), -1, np.int64)
            b_unit[ok] = np.arange(int(ok.sum()))
            u_snap = np.zeros(len(act))
            flows_su, over = _solve_units(units_cost, units_supply, capacity[use_idx], fb, stats)
            stats["solved_per_building"] = True
        stats["lp_s"] = time.perf_counter() - t0
        fb.set_progress(85)

        # Unit-level entries: (unit, shelter row or -1 unsheltered / -2 unreachable, people, cost).
        n_units = len(units_supply)
        lost_units = b_unit < 0
        b_unit = b_unit.copy()
        b_unit[lost_units] = n_units + np.arange(int(lost_units.sum()))  # each on its own
        fs, fu = np.nonzero(flows_su)
        e_node = np.concatenate([fu, np.arange(n_units), b_unit[lost_units]])
        e_shel = np.concatenate([use_idx[fs], np.full(n_units, -1),
                                 np.full(int(lost_units.sum()), -2)])
        e_people = np.concatenate([flows_su[fs, fu], over, a_people[lost_units]])
        e_cost = np.concatenate([units_cost[fs, fu], np.full(len(e_node) - len(fs), np.inf)])
    keep = e_people > 0
    flows = _building_flows(act, b_unit, a_people, u_snap, e_node[keep], e_shel[keep],
                            e_people[keep], e_cost[keep])
    # People without a location are unreachable too.
    lost = np.nonzero(~d_ok & (people > 0))[0]
    f_row = np.concatenate([flows[0], lost])
    f_shel = np.concatenate([flows[1], np.full(len(lost), -2)])
    f_people = np.concatenate([flows[2], people[lost]])
    f_dist = np.concatenate([flows[3], np.full(len(lost), np.nan)])
    order = np.lexsort((f_shel < 0, f_row))
    f_row, f_shel, f_people, f_dist = f_row[order], f_shel[order], f_people[order], f_dist[order]

    sheltered = f_shel >= 0
    f_sid = np.full(len(f_shel), None, object)
    f_sid[sheltered] = shelter_ids[f_shel[sheltered]]
    flow_df = pd.DataFrame({
        "demand_index": demand.index.to_numpy(object)[f_row],
        "from_id": demand_ids[f_row],
        "shelter_id": pd.Series(f_sid, dtype=object),
        "people": f_people.astype(np.int64),
        "distance_m": np.where(sheltered, f_dist, np.nan),
        "status": np.select([sheltered, f_shel == -1], ["sheltered", "unsheltered"],
                            "unreachable"),
    })
    assigned = np.bincount(f_shel[sheltered], weights=f_people[sheltered],
                           minlength=len(shelters)).astype(np.int64)
    max_d = np.full(len(shelters), -np.inf)
    np.maximum.at(max_d, f_shel[sheltered], f_dist[sheltered])
    max_d[np.isneginf(max_d)] = np.nan
    assignment = pd.DataFrame({
        "shelter_id": shelter_ids, "name": names, "capacity": capacity,
        "assigned": assigned, "max_distance_m": max_d, "status": status,
    })

    a, b = d_pt[f_row[sheltered]], s_pt[f_shel[sheltered]]
    line_xy = np.stack([shapely.get_coordinates(a), shapely.get_coordinates(b)], axis=1) \
        if sheltered.any() else np.empty((0, 2, 2))
    lines = gpd.GeoDataFrame(
        {"from_id": flow_df["from_id"][sheltered].to_numpy(object),
         "shelter_id": flow_df["shelter_id"][sheltered].to_numpy(object),
         "people": f_people[sheltered], "distance_m": f_dist[sheltered]},
        geometry=shapely.linestrings(line_xy) if len(line_xy) else [], crs=demand.crs)

    displaced = int(people.sum())
    used = int(assigned.sum())
    unreachable = int(f_people[f_shel == -2].sum())
    stats["total_s"] = time.perf_counter() - t_start
    fb.set_progress(100)
    return ShelterResult(
        method=method,
        assignment=assignment,
        flows=flow_df,
        displaced=displaced,
        capacity=int(capacity[usable].sum()),
        capacity_used=used,
        unsheltered=displaced - used,
        unreachable=unreachable,
        longest_walk_m=float(f_dist[sheltered].max()) if sheltered.any() else None,
        lines=lines,
        shelters_in_hazard=int(in_hazard.sum()),
        capacity_in_hazard=int(capacity[in_hazard].sum()),
        stats=stats,
        demand_unit=demand_unit,
        demand_units=int(len(act) if demand_unit == "building" else n_units),
    )


def _building_flows(rows, b_node, b_people, b_snap, e_node, e_shel, e_people, e_cost):
    """Split node-level entries among the node's buildings.

    Within a node the total walk does not depend on who goes where (the snap
    distance is each building's own), so buildings farthest from the road get
    the nearest shelters first, which keeps the longest walk short.  Both sides
    are laid end to end on one axis of people and cut at every boundary.
    """
    if len(rows) == 0:
        return (np.empty(0, np.int64),) * 3 + (np.empty(0),)
    bo = np.lexsort((-b_snap, b_node))
    eo = np.lexsort((e_cost, e_node))
    b_end = np.cumsum(b_people[bo])
    e_end = np.cumsum(e_people[eo])
    cuts = np.union1d(b_end, e_end)
    starts = np.concatenate([[0], cuts[:-1]])
    bi = bo[np.searchsorted(b_end, starts, side="right")]
    ei = eo[np.searchsorted(e_end, starts, side="right")]
    n = cuts - starts
    dist = b_snap[bi] + e_cost[ei]
    return rows[bi], e_shel[ei], n, dist


# --------------------------------------------------------------------------- safe places


def safe_places(frames: Mapping[str, pd.DataFrame], hazard_geometry, *,
                shelter_capacity: str = "capacity", school_pupils: str = "pupils") -> dict:
    """Shelters and schools outside the hazard.

    A facility is unaffected when its geometry does not intersect
    ``hazard_geometry`` (same CRS as the frames).

    Parameters
    ----------
    frames : Mapping[str, DataFrame]
        Layers by name; ``shelters`` and ``schools`` are used when present.
    hazard_geometry : shapely geometry, GeoSeries, GeoDataFrame or None
        The hazard footprint (None or empty: everything is unaffected).
    shelter_capacity, school_pupils : str
        The columns summed (absent columns give ``None``).

    Returns
    -------
    dict
        ``{"shelters": {"count", "capacity", "items": [{"id", "name",
        "capacity"}], "missing"}, "schools": {"count", "pupils", "items":
        [{"id", "name", "pupils"}], "missing"}}``; ``missing`` is True when the
        layer is not in ``frames``.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> shelters = gpd.GeoDataFrame({"shelter_id": ["S1", "S2"], "name": ["A", "B"],
    ...                              "capacity": [100, 250]},
    ...                             geometry=[Point(0, 0), Point(500, 0)])
    >>> safe = safe_places({"shelters": shelters}, Point(0, 0).buffer(100))
    >>> safe["shelters"]["count"], safe["shelters"]["capacity"], safe["schools"]["missing"]
    (1, 250, True)
    """
    hazard = _exclude_geometry(hazard_geometry)
    out = {}
    for layer, column, what in (("shelters", shelter_capacity, "capacity"),
                                ("schools", school_pupils, "pupils")):
        frame = frames.get(layer)
        if frame is None:
            out[layer] = {"count": 0, what: 0, "items": [], "missing": True}
            continue
        if not isinstance(frame, gpd.GeoDataFrame):
            raise TypeError(f"frames[{layer!r}] must be a GeoDataFrame, "
                            f"not {type(frame).__name__}")
        geoms = _geometry_array(frame)
        ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        safe = ok.copy()
        if hazard is not None:
            shapely.prepare(hazard)
            safe[ok] = ~shapely.intersects(hazard, geoms[ok])
        sub = frame[safe]
        ids = _ids(sub, (key_column(layer, list(frame.columns)) or "",))
        name = sub["name"].to_numpy(object) if "name" in sub.columns else [None] * len(sub)
        values = pd.to_numeric(sub[column], errors="coerce") if column in sub.columns else None
        items = []
        for i in range(len(sub)):
            item = {"id": _plain(ids[i]), "name": _plain(name[i])}
            item[what] = None if values is None or pd.isna(values.iloc[i]) \
                else _plain(values.iloc[i])
            items.append(item)
        total = None if values is None else _plain(values.fillna(0).sum())
        if isinstance(total, float) and total.is_integer():
            total = int(total)
        out[layer] = {"count": len(sub), what: total, "items": items, "missing": False}
    return out
