"""An independent, brute-force evaluator of version-1 query files — for tests only.

This module re-implements the semantics of DESIGN.md ("Queries", "The query file
(version 1)") with plain pandas / shapely / pyproj and *none* of CityFrame's
``spatial.query`` code, so that the answers stored in
``sample_data/queries/expected/<sample>.json`` are checked against a second,
deliberately simple implementation rather than against whatever the engine says.

It favours obviousness over speed:

* attribute filters are evaluated row by row in plain Python (a value that is
  ``None``/NaN/NA satisfies no comparison, only ``is_null``);
* spatial relations use a spatial index only to find *bounding-box* candidates;
  every candidate pair is then decided by an exact shapely predicate or by the
  exact distance ``shapely.distance(a, b) <= d`` (limits inclusive);
* ``nearest`` computes the full distance matrix target x reference and sorts
  each row by (distance, reference key);
* zone membership uses each feature's ``point_on_surface`` and the first zone,
  in the zone layer's order, that *covers* it (a point on a shared boundary goes
  to the first zone);
* ``buildings`` as a target carries the population columns, 0 for a building
  without a population row.

Distances are measured in the target layer's CRS when it is projected in metres
(and not Web Mercator); otherwise both layers go to a local transverse Mercator
(scale factor 1) centred on the target data. (All bundled samples are projected.)

The compact answers (:func:`answer`) are what the expected files store:

* rows:    ``{"kind": "rows", "key": K, "count": n, "ids": [sorted keys]}``
* nearest: ``{"kind": "nearest", "key": K, "count": n, "pairs": [[target, nearest_id, d], ...]}``
  (sorted by target key, then nearest first; ``d`` rounded to 0.01 m)
* grouped: ``{"kind": "grouped", "key": Z, "matched": n, "in_zones": m,
  "zones": {zone: {agg: value}}}``
  (every zone of the zone layer, in its order; ``matched`` target features matched the filters
  and relation, ``in_zones`` of them lie in some zone; sum of nothing is 0, mean/min/max None)
* totals:  ``{"kind": "totals", "matched": n, "totals": {agg: value}}``
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyproj
import shapely

POPULATION_COLUMNS = ("residents", "age_0_14", "age_15_64", "age_65_plus")
PREFIX = "query:"
FRAMEWORK_KEYS = {
    "buildings": "building_id",
    "legal_entities": "uscc",
    "communities": "community_id",
    "roads": "road_id",
    "population": "building_id",
}
QUERIES_DIR = Path(__file__).resolve().parents[1] / "sample_data" / "queries"


# --------------------------------------------------------------------------- helpers


def is_null(value: Any) -> bool:
    """SQL-style null: None, NaN, pd.NA, NaT."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def layer_key(name: str, frame: pd.DataFrame) -> str:
    """The key column of a layer (DESIGN.md: framework ids, else the first ``*_id``)."""
    if name in FRAMEWORK_KEYS and FRAMEWORK_KEYS[name] in frame.columns:
        return FRAMEWORK_KEYS[name]
    for col in frame.columns:
        if str(col).endswith("_id"):
            return col
    raise KeyError(f"layer {name!r} has no key column")


def _plain(value: Any) -> Any:
    """A JSON-friendly Python scalar."""
    if is_null(value):
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        f = float(value)
        return int(f) if f.is_integer() and abs(f) < 2**53 else round(f, 6)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


# --------------------------------------------------------------------------- where


def _cond_row(value: Any, op: str, arg: Any) -> bool:
    if op == "is_null":
        return is_null(value)
    if op == "not_null":
        return not is_null(value)
    if is_null(value):
        return False  # a null satisfies no comparison
    if op == "=":
        return value == arg
    if op == "!=":
        return value != arg
    if op == "<":
        return value < arg
    if op == "<=":
        return value <= arg
    if op == ">":
        return value > arg
    if op == ">=":
        return value >= arg
    if op == "in":
        return any(value == a for a in arg)
    if op == "not_in":
        return all(value != a for a in arg)
    if op == "between":
        lo, hi = arg
        return lo <= value <= hi
    if op == "contains":
        return str(arg) in str(value)
    raise ValueError(f"unknown op {op!r}")


def _clause_rows(frame: pd.DataFrame, clause: Mapping) -> list[bool]:
    if "any" in clause:
        parts = [_clause_rows(frame, c) for c in clause["any"]]
        return [any(p[i] for p in parts) for i in range(len(frame))]
    values = frame[clause["column"]].tolist()
    op, arg = clause["op"], clause.get("value")
    return [_cond_row(v, op, arg) for v in values]


def where_mask(frame: pd.DataFrame, where: list | None) -> np.ndarray:
    """Boolean mask of the rows satisfying every clause (AND; ``any`` = OR)."""
    mask = np.ones(len(frame), dtype=bool)
    for clause in where or []:
        mask &= np.array(_clause_rows(frame, clause), dtype=bool)
    return mask


# --------------------------------------------------------------------------- layers


class Resolved:
    """A layer (or saved query result) ready for evaluation."""

    def __init__(self, frame: pd.DataFrame, key: str, base: str):
        self.frame = frame.reset_index(drop=True)
        self.key = key
        self.base = base  # underlying layer name (for self-neighbour exclusion)


def with_population(buildings: pd.DataFrame, population: pd.DataFrame | None) -> pd.DataFrame:
    """Buildings with the population columns joined; 0 when a building has no row."""
    out = buildings.copy()
    if population is None:
        return out
    pop = population.set_index("building_id")
    for col in POPULATION_COLUMNS:
        if col not in pop.columns:
            continue
        lookup = pop[col].to_dict()
        out[col] = [int(lookup.get(b, 0)) if not is_null(lookup.get(b, 0)) else 0
                    for b in out["building_id"].tolist()]
    return out


def resolve(name: str, frames: Mapping[str, pd.DataFrame], saved: Mapping[str, dict],
            as_target: bool, depth: int = 0) -> Resolved:
    if name.startswith(PREFIX):
        if depth > 10:
            raise RecursionError(f"saved query chain too deep at {name}")
        qname = name[len(PREFIX):]
        doc = saved[qname]
        if doc.get("group_by") or doc.get("aggregate"):
            raise ValueError(f"{name}: only row results can be chained here")
        res = evaluate(doc, frames, saved, _depth=depth + 1)
        return Resolved(res["frame"], res["key"], res["base"])
    frame = frames[name]
    if name == "buildings" and as_target:
        frame = with_population(frame, frames.get("population"))
    return Resolved(frame, layer_key(name, frame), name)


# --------------------------------------------------------------------------- CRS


def _metric_projected(crs: pyproj.CRS) -> bool:
    if not crs.is_projected:
        return False
    if crs.to_epsg() in (3857, 900913, 3785, 102100):
        return False
    if crs.coordinate_operation is not None and "Pseudo-Mercator" in crs.coordinate_operation.name:
        return False
    return all(a.unit_name in ("metre", "meter") for a in crs.axis_info[:2])


def metric_crs(frame) -> pyproj.CRS:
    crs = pyproj.CRS.from_user_input(frame.crs)
    if _metric_projected(crs):
        return crs
    lonlat = frame.to_crs(4326).total_bounds
    lon0 = (lonlat[0] + lonlat[2]) / 2
    lat0 = (lonlat[1] + lonlat[3]) / 2
    return pyproj.CRS.from_proj4(
        f"+proj=tmerc +lat_0={lat0:.6f} +lon_0={lon0:.6f} +k=1 +x_0=0 +y_0=0 +datum=WGS84 +units=m")


def metric_geoms(frame, crs: pyproj.CRS) -> np.ndarray:
    src = pyproj.CRS.from_user_input(frame.crs)
    g = frame.geometry if src == crs else frame.geometry.to_crs(crs)
    return np.asarray(g.array, dtype=object)


# --------------------------------------------------------------------------- relations


def _bbox_candidates(targets: np.ndarray, refs: np.ndarray, expand: float = 0.0):
    """All (i, j) whose bounding boxes (targets' grown by ``expand``) overlap."""
    tree = shapely.STRtree(refs)
    b = shapely.bounds(targets)
    boxes = shapely.box(b[:, 0] - expand, b[:, 1] - expand, b[:, 2] + expand, b[:, 3] + expand)
    ti, rj = tree.query(boxes)
    return ti, rj


def relation_mask(tg: np.ndarray, rg: np.ndarray, kind: str, distance: float | None) -> np.ndarray:
    n = len(tg)
    if len(rg) == 0:
        return np.ones(n, bool) if kind == "beyond_distance" else np.zeros(n, bool)
    expand = float(distance) if kind in ("within_distance", "beyond_distance") else 0.0
    ti, rj = _bbox_candidates(tg, rg, expand)
    if kind == "intersects":
        ok = shapely.intersects(tg[ti], rg[rj])
    elif kind == "within":
        ok = shapely.within(tg[ti], rg[rj])
    elif kind == "contains":
        ok = shapely.contains(tg[ti], rg[rj])
    elif kind in ("within_distance", "beyond_distance"):
        ok = shapely.distance(tg[ti], rg[rj]) <= float(distance)
    else:
        raise ValueError(kind)
    hit = np.zeros(n, bool)
    hit[ti[ok]] = True
    return ~hit if kind == "beyond_distance" else hit


def nearest_pairs(tg, rg, t_keys, r_keys, k, max_d, same_layer):
    """[(target_index, ref_key, distance)] — nearest first, ties by smaller ref key."""
    out = []
    r_keys = list(r_keys)
    for i, g in enumerate(tg):
        d = shapely.distance(g, rg)
        cand = []
        for j in range(len(rg)):
            if same_layer and r_keys[j] == t_keys[i]:
                continue  # a feature is not its own neighbour
            dj = float(d[j])
            if max_d is not None and not dj <= float(max_d):
                continue
            cand.append((dj, r_keys[j]))
        cand.sort()
        out.extend((i, rk, dj) for dj, rk in cand[: int(k)])
    return out


# --------------------------------------------------------------------------- evaluate


def evaluate(doc: Mapping, frames: Mapping[str, pd.DataFrame],
             saved: Mapping[str, dict] | None = None, _depth: int = 0) -> dict:
    """Evaluate a query document. Returns a dict with ``frame`` (matching target rows,
    or pairs for ``nearest``), ``key``, ``base``, ``kind`` and, for grouped/total
    queries, ``zones`` / ``totals``."""
    saved = saved or {}
    target = resolve(doc["target"], frames, saved, as_target=True, depth=_depth)
    t = target.frame
    t = t[where_mask(t, doc.get("where"))].reset_index(drop=True)
    rel = doc.get("relation")
    kind = "rows"
    if rel:
        ref = resolve(rel["layer"], frames, saved, as_target=False, depth=_depth)
        r = ref.frame
        r = r[where_mask(r, rel.get("where"))].reset_index(drop=True)
        crs = metric_crs(t)
        tg, rg = metric_geoms(t, crs), metric_geoms(r, crs)
        if rel["kind"] == "nearest":
            kind = "nearest"
            same = (ref.base == target.base) and ref.key == target.key
            t_keys = t[target.key].tolist()
            pairs = nearest_pairs(tg, rg, t_keys, r[ref.key].tolist(), rel["k"],
                                  rel.get("max_distance_m"), same)
            idx = [p[0] for p in pairs]
            t = t.iloc[idx].reset_index(drop=True).copy()
            t["nearest_id"] = [p[1] for p in pairs]
            t["distance_m"] = [p[2] for p in pairs]
        else:
            t = t[relation_mask(tg, rg, rel["kind"], rel.get("distance_m"))].reset_index(drop=True)
    result = {"frame": t, "key": target.key, "base": target.base, "kind": kind}
    aggs = doc.get("aggregate") or []
    gb = doc.get("group_by")
    if gb:
        zones = frames[gb["layer"]]
        crs = metric_crs(zones) if len(t) == 0 else metric_crs(t)
        zg = metric_geoms(zones, crs)
        pts = shapely.point_on_surface(metric_geoms(t, crs)) if len(t) else np.array([], object)
        member = np.full(len(t), -1)
        if len(t):
            tree = shapely.STRtree(zg)
            pi, zj = tree.query(pts)
            ok = shapely.covers(zg[zj], pts[pi])
            for i, j in zip(pi[ok], zj[ok], strict=True):
                if member[i] == -1 or j < member[i]:
                    member[i] = j  # first zone in the zone layer's order
        keys = zones[gb["key"]].tolist()
        out = {}
        for j, zk in enumerate(keys):
            rows = t[member == j]
            out[zk] = {a["as"]: _aggregate(rows, a) for a in aggs}
        result.update(kind="grouped", zones=out, zone_key=gb["key"], matched=len(t),
                      in_zones=int((member >= 0).sum()), member=member)
    elif aggs:
        result.update(kind="totals", totals={a["as"]: _aggregate(t, a) for a in aggs},
                      matched=len(t))
    return result


def _aggregate(rows: pd.DataFrame, agg: Mapping) -> Any:
    fn = agg["fn"]
    if fn == "count":
        return len(rows)
    vals = [v for v in rows[agg["column"]].tolist() if not is_null(v)]
    if fn == "sum":
        return _plain(sum(vals)) if vals else 0
    if not vals:
        return None
    if fn == "mean":
        return round(math.fsum(float(v) for v in vals) / len(vals), 6)
    if fn == "min":
        return _plain(min(vals))
    if fn == "max":
        return _plain(max(vals))
    raise ValueError(fn)


def answer(doc: Mapping, frames: Mapping[str, pd.DataFrame],
           saved: Mapping[str, dict] | None = None) -> dict:
    """The compact, human-readable answer stored in the expected files."""
    res = evaluate(doc, frames, saved)
    if res["kind"] == "grouped":
        return {"kind": "grouped", "key": res["zone_key"], "matched": res["matched"],
                "in_zones": res["in_zones"], "zones": {str(k): v for k, v in res["zones"].items()}}
    if res["kind"] == "totals":
        return {"kind": "totals", "matched": res["matched"], "totals": res["totals"]}
    t = res["frame"]
    if res["kind"] == "nearest":
        order = sorted(range(len(t)), key=lambda i: (str(t[res["key"]].iloc[i]), i))
        pairs = [[t[res["key"]].iloc[i], t["nearest_id"].iloc[i],
                  round(float(t["distance_m"].iloc[i]), 2)] for i in order]
        return {"kind": "nearest", "key": res["key"], "count": len(pairs), "pairs": pairs}
    ids = sorted(str(v) for v in t[res["key"]].tolist())
    return {"kind": "rows", "key": res["key"], "count": len(ids), "ids": ids}


# --------------------------------------------------------------------------- files


def load_folder(folder: str | Path) -> dict[str, dict]:
    """Every ``*.json`` query file in ``folder``, by file stem (the saved-query name)."""
    folder = Path(folder)
    return {p.stem: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(folder.glob("*.json"))}


def answers_for(sample_id: str, frames: Mapping[str, pd.DataFrame]) -> dict[str, dict]:
    docs = load_folder(QUERIES_DIR / sample_id)
    return {name: answer(doc, frames, saved=docs) for name, doc in docs.items()}


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - maintenance tool
    """Regenerate ``sample_data/queries/expected/<id>.json``:
    ``python -m tests.reference_queries small district shanghai``."""
    import sys

    from layers.workspace import Workspace
    from sample_data.catalogue import sample_path

    ids = (argv if argv is not None else sys.argv[1:]) or ["small", "district", "shanghai"]
    for sid in ids:
        ws = Workspace.open(sample_path(sid), read_only=True)
        ans = answers_for(sid, ws.frames())
        out = QUERIES_DIR / "expected" / f"{sid}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        doc = {"sample": sid, "generated_by": "tests/reference_queries.py", "answers": ans}
        out.write_text(dumps(doc), encoding="utf-8")
        for name, a in ans.items():
            size = a.get("count", a.get("matched"))
            print(f"{sid:9s} {name:45s} {a['kind']:8s} {size}")
    return 0


def dumps(doc: Any) -> str:
    """JSON with one id / pair / zone per line: readable and diff-friendly."""
    def enc(v, indent):
        pad = "  " * indent
        flat = json.dumps(v, ensure_ascii=False)
        if len(flat) <= 80 and not (isinstance(v, list) and len(v) > 8):
            return flat
        if isinstance(v, dict):
            items = [f'{pad}  {json.dumps(k, ensure_ascii=False)}: {enc(x, indent + 1)}'
                     for k, x in v.items()]
            return "{\n" + ",\n".join(items) + f"\n{pad}}}"
        if isinstance(v, list):
            if not v:
                return "[]"
            if all(not isinstance(x, (dict, list)) for x in v):  # ids: several a line
                lines, line = [], []
                for x in v:
                    cand = line + [json.dumps(x, ensure_ascii=False)]
                    if line and len(pad) + 2 + len(", ".join(cand)) > 100:
                        lines.append(", ".join(line))
                        cand = cand[-1:]
                    line = cand
                lines.append(", ".join(line))
                return "[\n" + ",\n".join(f"{pad}  {s}" for s in lines) + f"\n{pad}]"
            items = [f"{pad}  {enc(x, indent + 1)}" for x in v]
            return "[\n" + ",\n".join(items) + f"\n{pad}]"
        return json.dumps(v, ensure_ascii=False)
    return enc(doc, 0) + "\n"


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
