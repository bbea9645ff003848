"""Shelter assignment for 50,000 displaced residents on a synthetic grid city.

Usage::

    .venv/bin/python benchmarks/drill_shelters.py [--grid 200] [--buildings 8000]
        [--people 50000] [--shelters 100] [--repeat 3] [--seed 1] [--check]

The city needs no file: a ``grid`` × ``grid`` street grid at 50 m spacing (every
crossing a shared vertex), ``buildings`` 20 m × 20 m buildings placed in the
blocks with ``people`` residents in all, and ``shelters`` shelters with random
capacities.  Three cases:

* ``spread`` — every building displaced, shelters anywhere, total capacity
  about equal to the demand (the capacity constraints bind everywhere);
* ``irregular`` — as ``spread`` on a grid whose crossings are moved up to 15 m
  (distances rarely tie, as on real roads; the harder case for the solver);
* ``flood`` — the buildings inside a 3 km flood disc are displaced (the people
  are concentrated there), shelters inside the disc are excluded;
* ``straight`` — the ``spread`` case without roads (straight-line fallback).

Each case runs ``--repeat`` times; the table shows the median of each stage
(graph build, snapping, Dijkstra distances, the transport solve) from
``ShelterResult.stats``, the wall time and the process CPU time (the machine may
be shared; the CPU time is the steadier figure).
``--check`` also solves each case as one HiGHS linear programme over every
shelter–node pair (slow: tens of seconds) and checks the people placed and the
person-metres are the same.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import Point

from spatial.drill import shelters as sh

CRS = "EPSG:32650"
SPACING = 50.0


def grid_roads(n: int, jitter: float = 0.0, rng=None) -> gpd.GeoDataFrame:
    """``n`` × ``n`` blocks: ``n + 1`` east–west and north–south streets with a vertex
    at every crossing; ``jitter`` moves each crossing up to that many metres (so
    that walking distances rarely tie, as in a real city)."""
    t = np.arange(n + 1) * SPACING
    xx, yy = np.meshgrid(t, t)
    if jitter:
        xx = xx + rng.uniform(-jitter, jitter, xx.shape)
        yy = yy + rng.uniform(-jitter, jitter, yy.shape)
    nodes = np.stack([xx, yy], axis=-1)  # [row (y), column (x), xy]
    lines = shapely.linestrings(np.concatenate([nodes, nodes.transpose(1, 0, 2)]))
    return gpd.GeoDataFrame({"road_id": [f"R{i}" for i in range(len(lines))]},
                            geometry=lines, crs=CRS)


def buildings(n_grid: int, count: int, rng, centre=None, radius=None) -> np.ndarray:
    """Centres of ``count`` buildings, each inside a block, optionally within a disc."""
    size = n_grid * SPACING
    out = np.empty((0, 2))
    while len(out) < count:
        block = rng.integers(0, n_grid, size=(count, 2))
        xy = block * SPACING + SPACING / 2 + rng.uniform(-10, 10, size=(count, 2))
        if centre is not None:
            xy = xy[np.hypot(*(xy - centre).T) <= radius]
        out = np.vstack([out, xy])
    return out[:count].clip(0, size)


def city(args, rng, case: str):
    size = args.grid * SPACING
    centre = np.array([size / 2, size / 2])
    radius = 3000.0
    if case == "flood":
        xy = buildings(args.grid, args.buildings, rng, centre, radius)
    else:
        xy = buildings(args.grid, args.buildings, rng)
    people = rng.multinomial(args.people, np.full(len(xy), 1 / len(xy)))
    squares = shapely.box(xy[:, 0] - 10, xy[:, 1] - 10, xy[:, 0] + 10, xy[:, 1] + 10)
    demand = gpd.GeoDataFrame({"building_id": [f"B{i}" for i in range(len(xy))],
                               "residents": people}, geometry=squares, crs=CRS)
    sxy = rng.uniform(0, size, size=(args.shelters, 2))
    cap = rng.integers(150, 851, size=args.shelters)
    shelters = gpd.GeoDataFrame({"shelter_id": [f"S{i}" for i in range(args.shelters)],
                                 "name": [f"Shelter {i}" for i in range(args.shelters)],
                                 "capacity": cap},
                                geometry=shapely.points(sxy), crs=CRS)
    exclude = Point(*centre).buffer(radius) if case == "flood" else None
    return demand, shelters, exclude


def person_metres(result) -> float:
    f = result.flows[result.flows["status"] == "sheltered"]
    return float((f["people"] * f["distance_m"]).sum())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", type=int, default=200)
    ap.add_argument("--buildings", type=int, default=8000)
    ap.add_argument("--people", type=int, default=50000)
    ap.add_argument("--shelters", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--max-units", type=int, default=sh.MAX_UNITS,
                    help="group the demand above this many buildings (default %(default)s; "
                         "lower it to time the grouped, sparse path)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    roads = grid_roads(args.grid)
    print(f"grid {args.grid}x{args.grid} at {SPACING:g} m: {len(roads)} streets "
          f"({time.perf_counter() - t0:.2f} s to make)", file=sys.stderr)
    header = ("case", "bldgs", "people", "shelt", "nodes", "edges", "d-nodes", "graph s",
              "snap s", "dist s", "lp s", "phases", "total s", "cpu s", "unshelt", "unreach",
              "longest m", "unit")
    rows = []
    irregular = grid_roads(args.grid, 15.0, np.random.default_rng(args.seed + 1))
    for case in ("spread", "irregular", "flood", "straight"):
        rng = np.random.default_rng(args.seed)
        demand, shelters, exclude = city(args, rng, case)
        r_roads = {"straight": None, "irregular": irregular}.get(case, roads)
        runs = []
        for _ in range(args.repeat):
            t, c = time.perf_counter(), time.process_time()
            res = sh.assign_shelters(demand, "residents", shelters, "capacity", r_roads,
                                     exclude=exclude, max_units=args.max_units)
            res.stats["wall_s"] = time.perf_counter() - t
            res.stats["cpu_s"] = time.process_time() - c
            runs.append(res)
        med = {k: statistics.median(r.stats.get(k, 0.0) for r in runs)
               for k in ("graph_s", "snap_s", "distances_s", "lp_s", "wall_s", "cpu_s")}
        res = runs[-1]
        st = res.stats
        rows.append((case, f"{len(demand):,}", f"{res.displaced:,}", str(len(shelters)),
                     f"{st.get('nodes', 0):,}", f"{st.get('edges', 0):,}",
                     f"{st['demand_nodes']:,}", f"{med['graph_s']:.3f}", f"{med['snap_s']:.3f}",
                     f"{med['distances_s']:.3f}", f"{med['lp_s']:.3f}", str(st.get("lp_phases", 0)),
                     f"{med['wall_s']:.3f}", f"{med['cpu_s']:.3f}", f"{res.unsheltered:,}",
                     f"{res.unreachable:,}", f"{res.longest_walk_m:,.0f}",
                     f"{res.demand_unit} ({res.demand_units:,})"))
        if args.check:
            certified = sh._certified
            sh._certified = lambda *a: False  # force the HiGHS LP over all pairs
            try:
                t = time.perf_counter()
                full = sh.assign_shelters(demand, "residents", shelters, "capacity", r_roads,
                                          exclude=exclude)
                dt = time.perf_counter() - t
            finally:
                sh._certified = certified
            a, b = person_metres(res), person_metres(full)
            # Both are exact for costs in whole centimetres: equal within 1 cm a person.
            same = (abs(a - b) <= 0.01 * res.capacity_used + 1e-6
                    and full.capacity_used == res.capacity_used)
            print(f"{case}: HiGHS LP over all pairs {full.stats['lp_s']:.3f} s "
                  f"(total {dt:.3f} s); person-metres: shortest paths {a:,.1f}, "
                  f"HiGHS {b:,.1f}: {'same' if same else 'DIFFERENT'}",
                  file=sys.stderr)
            if not same:
                return 1

    t = time.perf_counter()
    sh.road_graph(roads)
    print(f"(networkx.Graph of the same network, for comparison: "
          f"{time.perf_counter() - t:.3f} s)", file=sys.stderr)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    for r in rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
