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

    @property
    def note(self) -> dict:
        """How distances were measured, ``{"en": ..., "zh": ...}``."""
        return dict(_NOTES[self.method])

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
            ``method``, ``note`` (en/zh), ``displaced``, ``capacity``,
            ``capacity_used``, ``unsheltered``, ``unreachable``,
            ``longest_walk_m``, ``shelters_in_hazard``, ``capacity_in_hazard``,
            ``assignment`` [{shelter_id, name, capacity, assigned,
            max_distance_m, status}], ``flows`` [{shelter_id, buildings, people,
            mean_distance_m, max_distance_m}] (shelters with people only).
        """
        out = {
            "method": self.method,
            "note": self.note,
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


# --------------------------------------------------------------------------- main entry


def assign_shelters(demand: gpd.GeoDataFrame, people_column: str, shelters: gpd.GeoDataFrame,
                    capacity_column: str, roads: gpd.GeoDataFrame | None, *, exclude=None,
                    feedback=None) -> ShelterResult:
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
