"""k nearest reference features of each target feature, vectorised on shapely 2.

Private helper of :mod:`spatial.query.engine`.  Distances are edge to edge
(:func:`shapely.distance`) in the query's metric CRS.  The result is one
pair per (target, neighbour), up to ``k`` per target, nearest first, ties
broken by the smaller reference key; ``max_distance`` is inclusive.

For ``k == 1`` (not on the same layer) GEOS's nearest-neighbour search
(:meth:`shapely.STRtree.query_nearest`) answers directly.  Otherwise a radius
search (``dwithin``) is repeated with a doubling radius for the targets that
have fewer than ``k`` neighbours within it: when ``k`` reference features lie
within ``r`` of a target, its ``k`` nearest (with all ties) lie within ``r``.
The loop runs over rounds (at most ~log2 of the extent), never over features.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import shapely

__all__ = ["k_nearest", "k_nearest_points"]

CHUNK = 100_000


def _chunks(idx: np.ndarray, size: int = CHUNK):
    for start in range(0, len(idx), size):
        yield idx[start:start + size]


def k_nearest(
    tree: shapely.STRtree,
    tree_pos: np.ndarray,
    ref_geoms: np.ndarray,
    target_geoms: np.ndarray,
    target_pos: np.ndarray,
    k: int,
    *,
    max_distance: float | None,
    same_layer: bool,
    key_rank: np.ndarray,
    ref_bounds: tuple[float, float, float, float],
    diagonal: float,
    check: Callable[[], None] = lambda: None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` nearest reference features of each target.

    Parameters
    ----------
    tree : shapely.STRtree
        Tree over ``ref_geoms[tree_pos]`` (the filtered reference).
    tree_pos : numpy.ndarray of int
        Reference row of each tree item.
    ref_geoms, target_geoms : numpy.ndarray of geometries
        Whole layers, in the same metric CRS.
    target_pos : numpy.ndarray of int
        Target rows to search for (non-empty geometries).
    k : int
        Neighbours per target (>= 1).
    max_distance : float or None
        Inclusive limit in metres.
    same_layer : bool
        Target and reference are the same layer: a row is not its own neighbour.
    key_rank : numpy.ndarray of int
        Rank of each reference row's key (ties go to the smaller rank).
    ref_bounds : tuple
        Bounds of the filtered reference, to estimate a first radius.
    diagonal : float
        An upper bound of any target–reference distance.
    check : callable
        Called between rounds and chunks; raises to cancel.

    Returns
    -------
    (target_rows, ref_rows, distances)
        Sorted by target row, then distance, then reference key.
    """
    empty = (np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0, float))
    n_ref = len(tree_pos)
    if n_ref == 0 or len(target_pos) == 0:
        return empty
    cap = diagonal if max_distance is None else min(float(max_distance), diagonal)

    if k == 1 and not same_layer and (max_distance is None or max_distance > 0):
        tps, rps, ds = [], [], []
        limit = None if max_distance is None else float(max_distance) * (1 + 1e-9) + 1e-9
        for chunk in _chunks(target_pos):
            check()
            (q, h), d = tree.query_nearest(target_geoms[chunk], max_distance=limit,
                                           return_distance=True, all_matches=True)
            tps.append(chunk[q])
            rps.append(tree_pos[h])
            ds.append(d)
        tp, rp, dist = np.concatenate(tps), np.concatenate(rps), np.concatenate(ds)
    else:
        need = k + (1 if same_layer else 0)
        minx, miny, maxx, maxy = ref_bounds
        area = max((maxx - minx) * (maxy - miny), 1.0)
        radius = 1.5 * math.sqrt(area * need / (math.pi * n_ref)) if n_ref > need else cap
        radius = min(max(radius, 1.0), cap)
        remaining = np.asarray(target_pos, dtype=np.intp)
        tps, rps = [], []
        while remaining.size:
            check()
            qs, hs = [], []
            offset = 0
            for chunk in _chunks(remaining):
                check()
                q, h = tree.query(target_geoms[chunk], predicate="dwithin", distance=radius)
                qs.append(q + offset)
                hs.append(h)
                offset += len(chunk)
            q = np.concatenate(qs)
            tp = remaining[q]
            rp = tree_pos[np.concatenate(hs)]
            if same_layer:
                keep = tp != rp
                q, tp, rp = q[keep], tp[keep], rp[keep]
            counts = np.bincount(q, minlength=len(remaining))
            final = radius >= cap
            done = np.ones(len(remaining), bool) if final else counts >= k
            sel = done[q]
            tps.append(tp[sel])
            rps.append(rp[sel])
            remaining = remaining[~done]
            if final:
                break
            radius = min(radius * 2.0, cap)
        tp, rp = np.concatenate(tps), np.concatenate(rps)
        dist = shapely.distance(target_geoms[tp], ref_geoms[rp])
    if max_distance is not None:
        keep = dist <= max_distance
        tp, rp, dist = tp[keep], rp[keep], dist[keep]
    if len(tp) == 0:
        return empty
    order = np.lexsort((key_rank[rp], dist, tp))
    tp, rp, dist = tp[order], rp[order], dist[order]
    starts = np.flatnonzero(np.r_[True, tp[1:] != tp[:-1]])
    rank = np.arange(len(tp)) - np.repeat(starts, np.diff(np.r_[starts, len(tp)]))
    keep = rank < k
    return tp[keep], rp[keep], dist[keep]


def k_nearest_points(
    kd,
    tree_pos: np.ndarray,
    ref_geoms: np.ndarray,
    target_geoms: np.ndarray,
    target_pos: np.ndarray,
    target_xy: np.ndarray,
    target_radius: np.ndarray,
    k: int,
    *,
    max_distance: float | None,
    same_layer: bool,
    key_rank: np.ndarray,
    check: Callable[[], None] = lambda: None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`k_nearest` for a reference of points, through a k-d tree.

    Each target is represented by a point on it (``target_xy``) and the
    distance ``target_radius`` from that point to the farthest corner of its
    envelope.  The true distance to a reference point lies in
    ``[d - radius, d]`` (``d`` from the target's point), so with ``dk`` the
    ``k``-th smallest ``d``, every one of the ``k`` nearest has ``d <= dk +
    radius``: those candidates are measured exactly (:func:`shapely.distance`).
    A target whose k-d query did not reach past that bound is asked again with
    twice as many neighbours.

    Parameters
    ----------
    kd : scipy.spatial.cKDTree
        Over the coordinates of ``ref_geoms[tree_pos]``.
    target_xy, target_radius : numpy.ndarray
        Point on each target row and its envelope radius (whole layer).
    Other parameters
        As for :func:`k_nearest`.
    """
    empty = (np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0, float))
    n_ref = len(tree_pos)
    if n_ref == 0 or len(target_pos) == 0:
        return empty
    need = k + (1 if same_layer else 0)
    width = min(n_ref, need + 2)
    tps, rps, ds = [], [], []
    remaining = np.asarray(target_pos, dtype=np.intp)
    big = np.iinfo(np.int64).max
    while remaining.size:
        again = []
        for chunk in _chunks(remaining):
            check()
            rad = target_radius[chunk]
            ub = np.inf if max_distance is None else (max_distance + rad.max()) * (1 + 1e-9) + 1e-9
            d, i = kd.query(target_xy[chunk], k=width, distance_upper_bound=ub, workers=-1)
            d = np.asarray(d, float).reshape(len(chunk), width)
            i = np.asarray(i).reshape(len(chunk), width)
            valid = i < n_ref
            rrow = np.where(valid, tree_pos[np.minimum(i, n_ref - 1)], -1)
            if same_layer:
                valid &= rrow != chunk[:, None]
            dv = np.where(valid, d, np.inf)
            dk = np.sort(dv, axis=1)[:, k - 1] if k <= width else np.full(len(chunk), np.inf)
            bound = dk + rad
            if max_distance is not None:
                bound = np.minimum(bound, max_distance + rad)
            bound = bound + 1e-9 * np.maximum(1.0, np.where(np.isfinite(bound), bound, 0.0))
            enough = (d[:, -1] > bound) | (i[:, -1] >= n_ref) | (width >= n_ref)
            cand = valid & (d <= bound[:, None]) & enough[:, None]
            rr, cc = np.nonzero(cand)
            t, r = chunk[rr], rrow[rr, cc]
            exact = np.full((len(chunk), width), np.inf)
            exact[rr, cc] = shapely.distance(target_geoms[t], ref_geoms[r])
            rank = np.full((len(chunk), width), big)
            rank[rr, cc] = key_rank[r]
            order = np.lexsort((rank, exact), axis=1)[:, :k]
            top_d = np.take_along_axis(exact, order, axis=1)
            top_r = np.take_along_axis(rrow, order, axis=1)
            keep = np.isfinite(top_d) & enough[:, None]
            if max_distance is not None:
                keep &= top_d <= max_distance
            tps.append(np.broadcast_to(chunk[:, None], keep.shape)[keep])
            rps.append(top_r[keep])
            ds.append(top_d[keep])
            again.append(chunk[~enough])
        remaining = np.concatenate(again)
        width = min(n_ref, width * 2)
    tp, rp, dist = np.concatenate(tps), np.concatenate(rps), np.concatenate(ds)
    order = np.argsort(tp, kind="stable")
    return tp[order], rp[order], dist[order]
