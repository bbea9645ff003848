"""Quick timing of the query engine on the metro workspace (cold and warm runs).

Usage::

    python benchmarks/generate_metro.py            # once: benchmarks/out/metro.gpkg
    python benchmarks/query_engine_quick.py [WORKSPACE] [--repeat 5] [--queries DIR]

Runs every ``*.json`` query in ``benchmarks/queries/`` (or the five built-in
cross-agency queries below when that folder is missing), each once cold (on a
fresh engine: every cache built then) and ``--repeat`` times warm (median),
and prints one table.  The DESIGN target is under 200 ms warm for a query with
a distance relation and community grouping on 1,000,000 buildings.
"""

from __future__ import annotations

import argparse
import copy
import json
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from layers.workspace import Workspace
from spatial.query.engine import QueryEngine

BUILT_IN = {
    "hazard_500m_residents": {
        "version": 1, "target": "buildings",
        "relation": {"kind": "within_distance", "distance_m": 500, "layer": "legal_entities",
                     "where": [{"column": "hazard_class", "op": "=",
                                "value": "hazardous_chemicals"}]},
        "group_by": {"layer": "communities", "key": "community_id"},
        "aggregate": [{"fn": "count", "as": "buildings"},
                      {"fn": "sum", "column": "residents", "as": "residents"}]},
    "flood_depth2_by_community": {
        "version": 1, "target": "buildings",
        "relation": {"kind": "intersects", "layer": "flood_zones",
                     "where": [{"column": "depth_class", "op": ">=", "value": 2}]},
        "group_by": {"layer": "communities", "key": "community_id"},
        "aggregate": [{"fn": "count", "as": "buildings"},
                      {"fn": "sum", "column": "residents", "as": "residents"}]},
    "schools_near_hazard": {
        "version": 1, "target": "schools",
        "relation": {"kind": "within_distance", "distance_m": 1000, "layer": "legal_entities",
                     "where": [{"column": "hazard_class", "op": "=",
                                "value": "hazardous_chemicals"}]},
        "group_by": {"layer": "communities", "key": "community_id"},
        "aggregate": [{"fn": "count", "as": "schools"},
                      {"fn": "sum", "column": "pupils", "as": "pupils"}]},
    "residential_beyond_shelters": {
        "version": 1, "target": "buildings",
        "where": [{"column": "use", "op": "=", "value": "residential"}],
        "relation": {"kind": "beyond_distance", "distance_m": 1500, "layer": "shelters"},
        "group_by": {"layer": "communities", "key": "community_id"},
        "aggregate": [{"fn": "count", "as": "buildings"},
                      {"fn": "sum", "column": "residents", "as": "residents"}]},
    "hospital_nearest_police": {
        "version": 1, "target": "hospitals",
        "relation": {"kind": "nearest", "k": 2, "layer": "police_stations"}},
}


def _variant(doc: dict, **changes) -> dict:
    out = copy.deepcopy(doc)
    for path, value in changes.items():
        node = out
        *parents, last = path.split("__")
        for p in parents:
            node = node[p]
        node[last] = value
    return out


_Q1 = BUILT_IN["hazard_500m_residents"]
_HAZ = {"column": "hazard_class", "op": "=", "value": "hazardous_chemicals"}
VARIATIONS = {
    # DESIGN.md's reference query: ~100 hazardous-chemical sites (108 with >= 400 employees)
    "DESIGN: 500 m of 108 large hazard sites, by community": _variant(
        _Q1, relation__where=[_HAZ, {"column": "employees", "op": ">=", "value": 400}]),
    "q1 with 800 m instead of 500 m": _variant(_Q1, relation__distance_m=800),
    "q1, residential buildings only": _variant(
        _Q1, where=[{"column": "use", "op": "=", "value": "residential"}]),
    "q1 as beyond_distance": _variant(_Q1, relation__kind="beyond_distance"),
    "flood depth class >= 3 (new reference filter)": _variant(
        BUILT_IN["flood_depth2_by_community"],
        relation__where=[{"column": "depth_class", "op": ">=", "value": 3}]),
    "buildings: 3 nearest hospitals within 3 km (1M targets)": {
        "version": 1, "target": "buildings",
        "where": [{"column": "use", "op": "=", "value": "residential"}],
        "relation": {"kind": "nearest", "k": 3, "layer": "hospitals", "max_distance_m": 3000},
        "group_by": {"layer": "communities", "key": "community_id"},
        "aggregate": [{"fn": "count", "as": "buildings"},
                      {"fn": "mean", "column": "distance_m", "as": "mean_m"}]},
}


def _queries(folder: Path | None) -> dict[str, dict]:
    if folder is not None and folder.is_dir():
        files = sorted(folder.glob("*.json"))
        if files:
            return {f.stem: json.loads(f.read_text(encoding="utf-8")) for f in files}
    return dict(BUILT_IN)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workspace", nargs="?", default=str(ROOT / "benchmarks/out/metro.gpkg"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--queries", default=str(ROOT / "benchmarks/queries"),
                    help="folder of query files ('' for the built-in five)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    ws = Workspace.open(args.workspace, read_only=True)
    frames = ws.frames()
    print(f"open {args.workspace}: {time.perf_counter() - t0:.2f} s, "
          f"{len(frames.get('buildings', ()))} buildings", flush=True)
    queries = _queries(Path(args.queries) if args.queries else None)

    rows = []
    shared = QueryEngine(frames, saved=dict(ws.saved_queries))
    for name, doc in queries.items():
        # cold: a fresh engine, so this query pays for every cache it needs
        engine = QueryEngine(frames, saved=dict(ws.saved_queries))
        t = time.perf_counter()
        result = engine.run(doc)
        cold = time.perf_counter() - t
        warm = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            again = engine.run(doc)
            warm.append(time.perf_counter() - t)
        assert again.data.shape == result.data.shape
        shared.run(doc)
        rows.append((name, cold, statistics.median(warm), min(warm), result.matched,
                     len(result.data), dict(engine.stats)))
        print(f"{name:36s} cold {cold * 1000:8.0f} ms   warm median {statistics.median(warm) * 1000:7.1f} ms"
              f" (min {min(warm) * 1000:6.1f})   matched {result.matched:>8}   rows {len(result.data):>6}",
              flush=True)
    print()
    print("| query | cold (s) | warm median (ms) | matched | rows |")
    print("|---|---:|---:|---:|---:|")
    for name, cold, med, _mn, matched, n, _stats in rows:
        print(f"| {name} | {cold:.2f} | {med * 1000:.1f} | {matched} | {n} |")
    print(f"\nshared engine after all queries: {dict(shared.stats)}")

    # Variations on the warm shared engine: what a planner does next.  The first run of
    # each pays only for what its change makes new (a reference filter -> a new distance
    # field; a distance or a target filter -> nothing new).
    print("\nvariations on the warm engine (first run, then warm median):")
    print("| variation | first (ms) | warm (ms) | matched |")
    print("|---|---:|---:|---:|")
    for name, doc in VARIATIONS.items():
        t = time.perf_counter()
        result = shared.run(doc)
        first = time.perf_counter() - t
        warm = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            shared.run(doc)
            warm.append(time.perf_counter() - t)
        print(f"| {name} | {first * 1000:.0f} | {statistics.median(warm) * 1000:.1f} | "
              f"{result.matched} |", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory (RSS): {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
