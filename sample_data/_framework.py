"""Framework layers of the synthetic city: buildings, communities, districts,
population and legal entities (all in local metres; see :mod:`._layout`).

Everything is vectorised over buildings and entities; loops run over at most a
few land components, districts or typologies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from spatial.schema import BUILDING_USES
from spatial.uscc import make_uscc

from . import names as N
from ._layout import COM, GREEN, IND, MIX, PUB, RES, Layout

__all__ = ["TYPOLOGIES", "Blocks", "Buildings", "Admin", "assign_blocks", "make_buildings",
           "make_admin", "make_addresses", "make_population", "make_entities"]

U_RES, U_COM, U_IND, U_PUB, U_MIX = range(5)  # index into BUILDING_USES
assert BUILDING_USES == ("residential", "commercial", "industrial", "public", "mixed")

# name, zone, cell_u, cell_v, w_frac, h_frac, floors, floor beta (a, b), L-shape share,
# year range, use probabilities (res, com, ind, pub, mix)
_TYP = [
    ("res_high", RES, 62, 46, (0.62, 0.80), (0.26, 0.34), (16, 33), (1.6, 1.6), 0.0,
     (2003, 2023), (0.94, 0.02, 0.0, 0.02, 0.02)),
    ("res_mid", RES, 52, 34, (0.60, 0.80), (0.33, 0.42), (5, 11), (1.2, 1.4), 0.0,
     (1985, 2012), (0.93, 0.03, 0.0, 0.02, 0.02)),
    ("res_low", RES, 18, 19, (0.55, 0.78), (0.55, 0.78), (2, 6), (1.5, 2.2), 0.0,
     (1960, 2008), (0.84, 0.06, 0.0, 0.02, 0.08)),
    ("com_core", COM, 58, 58, (0.55, 0.80), (0.50, 0.80), (8, 52), (1.1, 2.0), 0.25,
     (1995, 2023), (0.04, 0.78, 0.0, 0.04, 0.14)),
    ("com_street", COM, 24, 26, (0.60, 0.80), (0.55, 0.80), (2, 6), (1.5, 1.5), 0.0,
     (1985, 2020), (0.08, 0.60, 0.0, 0.02, 0.30)),
    ("ind_large", IND, 86, 60, (0.50, 0.80), (0.50, 0.78), (1, 3), (1.0, 3.0), 0.15,
     (1975, 2020), (0.0, 0.05, 0.93, 0.02, 0.0)),
    ("ind_small", IND, 40, 34, (0.55, 0.80), (0.55, 0.80), (1, 4), (1.0, 2.0), 0.0,
     (1980, 2020), (0.0, 0.05, 0.93, 0.02, 0.0)),
    ("public", PUB, 54, 48, (0.45, 0.75), (0.35, 0.65), (3, 8), (1.5, 2.0), 0.35,
     (1980, 2022), (0.10, 0.08, 0.0, 0.82, 0.0)),
    ("mixed", MIX, 40, 36, (0.55, 0.80), (0.45, 0.75), (6, 24), (1.3, 1.8), 0.2,
     (1995, 2023), (0.20, 0.20, 0.0, 0.0, 0.60)),
]
TYPOLOGIES = tuple(t[0] for t in _TYP)
T_RES_HIGH, T_RES_MID, T_RES_LOW, T_COM_CORE, T_COM_STREET, T_IND_L, T_IND_S, T_PUB, T_MIX = \
    range(len(_TYP))
_CELL = np.array([[t[2], t[3]] for t in _TYP], float)
_WF = np.array([t[4] for t in _TYP], float)
_HF = np.array([t[5] for t in _TYP], float)
_FLOORS = np.array([t[6] for t in _TYP], float)
_FBETA = np.array([t[7] for t in _TYP], float)
_LSHARE = np.array([t[8] for t in _TYP], float)
_YEARS = np.array([t[9] for t in _TYP], float)
_USEP = np.cumsum(np.array([t[10] for t in _TYP], float), axis=1)
_USEP /= _USEP[:, -1:]
# storey height (m) by use: res, com, ind, pub, mix
_STOREY = np.array([(2.8, 3.2), (3.0, 3.6), (4.0, 6.0), (3.0, 3.6), (2.9, 3.3)])

INNER_SETBACK = 8.0  # building line from a local street centre line
ROAD_SETBACK = {"primary": 26.0, "secondary": 19.0}


# --------------------------------------------------------------------------- blocks
@dataclass
class Blocks:
    faces: np.ndarray
    zone: np.ndarray
    typ: np.ndarray  # -1 for no buildings
    comp: np.ndarray
    area: np.ndarray
    xy: np.ndarray  # representative point
    r: np.ndarray  # normalised distance from the centre


def assign_blocks(rng, layout: Layout) -> Blocks:
    """Zone and building typology of each land block."""
    faces = layout.faces
    area = shapely.area(faces)
    xy = shapely.get_coordinates(shapely.point_on_surface(faces))
    r = np.hypot(xy[:, 0], xy[:, 1]) / layout.field.R
    s = layout.field.scores(xy[:, 0], xy[:, 1]) + 0.45 * rng.gumbel(size=(len(faces), 6))
    zone = s.argmax(axis=1)
    zone[layout.face_riverside | (area < 1500)] = GREEN
    u = rng.random(len(faces))
    p_high = np.clip(0.14 + 0.16 * (1 - r), 0.08, 0.32)
    typ = np.full(len(faces), -1)
    typ = np.where(zone == RES, np.where(u < p_high, T_RES_HIGH,
                                         np.where(u < p_high + 0.32, T_RES_MID, T_RES_LOW)), typ)
    p_core = np.where(r < 0.3, 0.75, 0.3)
    typ = np.where(zone == COM, np.where(u < p_core, T_COM_CORE, T_COM_STREET), typ)
    typ = np.where(zone == IND, np.where(u < 0.55, T_IND_L, T_IND_S), typ)
    typ = np.where(zone == PUB, T_PUB, typ)
    typ = np.where(zone == MIX, T_MIX, typ)
    comp = np.where(layout.face_comp >= 0, layout.face_comp, 0)
    return Blocks(faces, zone, typ, comp, area, xy, r)


# --------------------------------------------------------------------------- buildings
@dataclass
class Buildings:
    geometry: np.ndarray
    face: np.ndarray
    typ: np.ndarray
    use: np.ndarray  # index into BUILDING_USES
    floors: np.ndarray
    height: np.ndarray
    year: np.ndarray
    area: np.ndarray
    centre: np.ndarray  # (n, 2)
    # sampling rectangle for points inside the footprint: centre (n, 2), half sizes, angle
    s_centre: np.ndarray
    s_half: np.ndarray
    angle: np.ndarray


def _block_frames(faces):
    """Orientation angle (-45..45 deg), centre and (u, v) extents of each face's envelope."""
    env = shapely.oriented_envelope(faces)
    ok = (shapely.get_type_id(env) == 3) & (shapely.get_num_coordinates(env) == 5)
    ec = np.zeros((len(faces), 5, 2))
    ec[ok] = shapely.get_coordinates(env[ok]).reshape(-1, 5, 2)
    e = ec[:, 1] - ec[:, 0]
    th = np.arctan2(e[:, 1], e[:, 0])
    th = (th + np.pi / 4) % (np.pi / 2) - np.pi / 4
    ctr = ec[:, :4].mean(axis=1)
    d = ec[:, :4] - ctr[:, None, :]
    c, s = np.cos(th)[:, None], np.sin(th)[:, None]
    u = d[..., 0] * c + d[..., 1] * s
    v = -d[..., 0] * s + d[..., 1] * c
    ext = np.c_[u.min(1), u.max(1), v.min(1), v.max(1)]
    return ok, th, ctr, ext


def _candidates(rng, typ, th, ctr, ext, f):
    """Lattice cells of every block and a footprint in each (vectorised)."""
    cw = _CELL[typ, 0] * f
    ch = _CELL[typ, 1] * f
    nu = np.floor((ext[:, 1] - ext[:, 0]) / cw).astype(np.int64)
    nv = np.floor((ext[:, 3] - ext[:, 2]) / ch).astype(np.int64)
    nu = np.maximum(nu, 0)
    nv = np.maximum(nv, 0)
    cnt = nu * nv
    tot = int(cnt.sum())
    bi = np.repeat(np.arange(len(typ)), cnt)
    k = np.arange(tot) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    iu = k % np.maximum(nu[bi], 1)
    iv = k // np.maximum(nu[bi], 1)
    t = typ[bi]
    cwb, chb = cw[bi], ch[bi]
    uc = ext[bi, 0] + (ext[bi, 1] - ext[bi, 0] - nu[bi] * cwb) / 2 + (iu + 0.5) * cwb
    vc = ext[bi, 2] + (ext[bi, 3] - ext[bi, 2] - nv[bi] * chb) / 2 + (iv + 0.5) * chb
    w = cwb * rng.uniform(_WF[t, 0], _WF[t, 1])
    h = chb * rng.uniform(_HF[t, 0], _HF[t, 1])
    uc = uc + rng.uniform(-0.5, 0.5, tot) * (cwb - w) * 0.6
    vc = vc + rng.uniform(-0.5, 0.5, tot) * (chb - h) * 0.6
    ang = th[bi] + np.deg2rad(rng.uniform(-0.6, 0.6, tot))
    c0, s0 = np.cos(th[bi]), np.sin(th[bi])
    cx = ctr[bi, 0] + uc * c0 - vc * s0
    cy = ctr[bi, 1] + uc * s0 + vc * c0
    is_l = rng.random(tot) < _LSHARE[t]
    arm_a = h * rng.uniform(0.35, 0.5, tot)  # depth of the long arm
    arm_b = w * rng.uniform(0.3, 0.5, tot)  # width of the short arm
    sx = rng.choice([-1.0, 1.0], tot)
    sy = rng.choice([-1.0, 1.0], tot)
    return dict(bi=bi, t=t, w=w, h=h, cx=cx, cy=cy, ang=ang, is_l=is_l, a=arm_a, b=arm_b,
                sx=sx, sy=sy, n_cells=cnt)


def _polygons(c, idx):
    """Footprint polygons of candidates ``idx`` (rectangles and L-shapes)."""
    w, h = c["w"][idx], c["h"][idx]
    ang = c["ang"][idx]
    cs, sn = np.cos(ang), np.sin(ang)
    is_l = c["is_l"][idx]
    out = np.empty(len(idx), dtype=object)

    def place(lx, ly, sel):
        X = c["cx"][idx][sel, None] + lx * cs[sel, None] - ly * sn[sel, None]
        Y = c["cy"][idx][sel, None] + lx * sn[sel, None] + ly * cs[sel, None]
        return np.stack([X, Y], axis=-1)

    r = ~is_l
    hw, hh = w[r, None] / 2, h[r, None] / 2
    lx = np.array([-1, 1, 1, -1, -1.0]) * hw
    ly = np.array([-1, -1, 1, 1, -1.0]) * hh
    out[r] = shapely.polygons(place(lx, ly, r))
    if is_l.any():
        L = is_l
        hw, hh = w[L, None] / 2, h[L, None] / 2
        a, b = c["a"][idx][L, None], c["b"][idx][L, None]
        lx = np.hstack([-hw, hw, hw, -hw + b, -hw + b, -hw, -hw])
        ly = np.hstack([-hh, -hh, -hh + a, -hh + a, hh, hh, -hh])
        lx = lx * c["sx"][idx][L, None]
        ly = ly * c["sy"][idx][L, None]
        out[L] = shapely.orient_polygons(shapely.polygons(place(lx, ly, L)))
    return out


def make_buildings(rng, layout: Layout, blocks: Blocks, n_target: int, feedback=None) -> Buildings:
    """Exactly ``n_target`` footprints inside the blocks, never on roads, water or each other."""
    bsel = np.flatnonzero((blocks.typ >= 0) & (blocks.area >= 800))
    ok, th, ctr, ext = _block_frames(blocks.faces[bsel])
    bsel, th, ctr, ext = bsel[ok], th[ok], ctr[ok], ext[ok]
    typ = blocks.typ[bsel]
    inner = shapely.buffer(blocks.faces[bsel], -INNER_SETBACK, quad_segs=2)
    shapely.prepare(inner)
    roads = layout.roads
    trees = {k: shapely.STRtree(roads.geometry[roads.cls == k]) for k in ROAD_SETBACK}
    # dead-end streets can poke into a block: keep off those too
    ends = np.r_[shapely.get_coordinates(shapely.get_point(roads.geometry, 0)),
                 shapely.get_coordinates(shapely.get_point(roads.geometry, -1))]
    _, inv, cnt = np.unique(ends, axis=0, return_inverse=True, return_counts=True)
    deg = cnt[inv.ravel()]
    m = len(roads.geometry)
    dangling = (deg[:m] == 1) | (deg[m:] == 1)
    dangle_tree = shapely.STRtree(roads.geometry[dangling])

    def cells(f):
        cw = _CELL[typ, 0] * f
        ch = _CELL[typ, 1] * f
        return (np.floor((ext[:, 1] - ext[:, 0]) / cw).clip(0)
                * np.floor((ext[:, 3] - ext[:, 2]) / ch).clip(0)).sum()

    def f_for(goal):
        lo, hi = 0.35, 3.0
        for _ in range(40):
            mid = np.sqrt(lo * hi)
            if cells(mid) > goal:
                lo = mid
            else:
                hi = mid
        return lo

    accept = 0.6
    for attempt in range(6):
        f = f_for(1.1 * n_target / accept)
        c = _candidates(rng, typ, th, ctr, ext, f)
        n_c = len(c["bi"])
        geoms = _polygons(c, np.arange(n_c))
        good = shapely.contains(inner[c["bi"]], geoms)
        idx = np.flatnonzero(good)
        for k, d in ROAD_SETBACK.items():
            qi, _ = trees[k].query(geoms[idx], predicate="dwithin", distance=d)
            good[idx[np.unique(qi)]] = False
            idx = np.flatnonzero(good)
        qi, _ = dangle_tree.query(geoms[idx], predicate="dwithin", distance=INNER_SETBACK)
        good[idx[np.unique(qi)]] = False
        idx = np.flatnonzero(good)
        # safety net: no two footprints may touch
        tree = shapely.STRtree(geoms[idx])
        a, b = tree.query(geoms[idx], predicate="intersects")
        clash = np.unique(np.maximum(a, b)[a != b])
        good[idx[clash]] = False
        idx = np.flatnonzero(good)
        if feedback is not None:
            feedback.check()
        if feedback is not None:
            feedback.push_info(f"buildings: {len(idx)} of {n_c} lattice cells usable (f={f:.2f})")
        if len(idx) >= n_target:
            break
        accept = max(0.05, 0.9 * len(idx) / max(n_c, 1))
    else:
        raise RuntimeError(f"could not place {n_target} buildings (got {len(idx)})")
    keep = np.sort(rng.choice(idx, n_target, replace=False))
    geoms = geoms[keep]
    bi = c["bi"][keep]
    t = c["t"][keep]
    n = n_target
    face = bsel[bi]
    # use, floors, height, year
    u = rng.random(n)
    use = (u[:, None] > _USEP[t]).sum(axis=1)
    r = blocks.r[face]
    beta = rng.beta(_FBETA[t, 0], _FBETA[t, 1])
    flo, fhi = _FLOORS[t, 0], _FLOORS[t, 1]
    fhi = np.where(t == T_COM_CORE, flo + (fhi - flo) * np.exp(-np.clip(r - 0.05, 0, None) / 0.35),
                   fhi)
    floors = np.round(flo + (fhi - flo) * beta).astype(np.int64)
    floors = np.where((use == U_IND) & (t != T_IND_L) & (t != T_IND_S), np.minimum(floors, 4),
                      floors)
    storey = rng.uniform(_STOREY[use, 0], _STOREY[use, 1])
    height = np.round(floors * storey, 1)
    ylo, yhi = _YEARS[t, 0], _YEARS[t, 1]
    yb = np.clip(rng.beta(2, 2, n) + 0.3 * (r - 0.5), 0, 1)
    year = np.round(ylo + (yhi - ylo) * yb).astype(np.int64)
    area = shapely.area(geoms)
    centre = np.c_[c["cx"][keep], c["cy"][keep]]
    # sampling rectangle (the long arm of an L)
    is_l = c["is_l"][keep]
    ang = c["ang"][keep]
    w, h, a_ = c["w"][keep], c["h"][keep], c["a"][keep]
    voff = np.where(is_l, (-h / 2 + a_ / 2) * c["sy"][keep], 0.0)
    s_centre = centre + np.c_[-voff * np.sin(ang), voff * np.cos(ang)]
    s_half = np.c_[w / 2, np.where(is_l, a_ / 2, h / 2)]
    return Buildings(geoms, face, t, use, floors, height, year, area, centre, s_centre, s_half,
                     ang)


def points_in_buildings(rng, bld: Buildings, idx, spread=0.8):
    """Random points inside the footprints of buildings ``idx`` (vectorised)."""
    idx = np.asarray(idx)
    u = rng.uniform(-spread, spread, len(idx)) * bld.s_half[idx, 0]
    v = rng.uniform(-spread, spread, len(idx)) * bld.s_half[idx, 1]
    a = bld.angle[idx]
    x = bld.s_centre[idx, 0] + u * np.cos(a) - v * np.sin(a)
    y = bld.s_centre[idx, 1] + u * np.sin(a) + v * np.cos(a)
    return np.c_[x, y]


# --------------------------------------------------------------------------- admin units
@dataclass
class Admin:
    face_comm: np.ndarray  # community index per block
    comm_geom: np.ndarray
    comm_id: np.ndarray
    comm_name: np.ndarray
    comm_name_en: np.ndarray
    comm_district: np.ndarray  # district index
    comm_street: np.ndarray  # street (subdistrict) index, global
    comm_xy: np.ndarray
    comm_buildings: np.ndarray
    dist_geom: np.ndarray
    dist_code: np.ndarray
    dist_name: np.ndarray
    dist_name_en: np.ndarray
    street_geom: np.ndarray
    street_code: np.ndarray
    street_name: np.ndarray
    street_name_en: np.ndarray
    street_district: np.ndarray
    bld_comm: np.ndarray


def _lloyd(rng, xy, w, k, iters=5):
    """Weighted k-means-like partition of points ``xy`` into exactly ``k`` non-empty
    groups (fewer only when there are fewer points): labels and centres."""
    k = int(max(1, min(k, len(xy))))
    p = w / w.sum() if (w > 0).sum() >= k else None
    start = rng.choice(len(xy), k, replace=False, p=p)
    centres = xy[start].astype(float)
    for _ in range(iters):
        lab = cKDTree(centres).query(xy)[1]
        sw = np.bincount(lab, weights=w, minlength=k)
        cx = np.bincount(lab, weights=w * xy[:, 0], minlength=k)
        cy = np.bincount(lab, weights=w * xy[:, 1], minlength=k)
        has = sw > 0
        centres[has] = np.c_[cx[has] / sw[has], cy[has] / sw[has]]
    dist, lab = cKDTree(centres).query(xy)
    for _ in range(k):  # re-seed empty groups at the worst-served points (rare)
        size = np.bincount(lab, minlength=k)
        empty = np.flatnonzero(size == 0)
        if not len(empty):
            break
        movable = size[lab] > 1
        far = np.argsort(-np.where(movable, dist, -1.0), kind="stable")[:len(empty)]
        centres[empty] = xy[far]
        lab[far] = empty
        dist, lab2 = cKDTree(centres).query(xy)
        lab2[far] = empty
        lab = lab2
    return lab, centres


def _partition(rng, xy, w, comp, k_total):
    """Partition items into ``k_total`` groups that never straddle land components
    (components too small for a group join the nearest group)."""
    labels = np.full(len(xy), -1)
    comps = np.unique(comp)
    tot = w.sum() if w.sum() > 0 else 1.0
    share = np.array([w[comp == c].sum() / tot for c in comps])
    quota = share * k_total
    k = np.floor(quota).astype(int)
    rest = k_total - k.sum()
    if rest > 0:  # largest remainders
        k[np.argsort(-(quota - k), kind="stable")[:rest]] += 1
    n_groups = 0
    for c, kc in zip(comps, k):
        if kc == 0:
            continue
        sel = np.flatnonzero(comp == c)
        lab, _ = _lloyd(rng, xy[sel], w[sel], kc)
        labels[sel] = lab + n_groups
        n_groups += lab.max() + 1
    orphan = labels < 0
    if orphan.any():
        cnt = np.bincount(labels[~orphan])
        cen = np.c_[np.bincount(labels[~orphan], weights=xy[~orphan, 0]) / cnt,
                    np.bincount(labels[~orphan], weights=xy[~orphan, 1]) / cnt]
        labels[orphan] = cKDTree(cen).query(xy[orphan])[1]
    return labels


def _dissolve(geoms, labels, n):
    """Coverage union of ``geoms`` grouped by ``labels`` (0..n-1)."""
    order = np.argsort(labels, kind="stable")
    lab = labels[order]
    bounds = np.r_[0, np.flatnonzero(lab[1:] != lab[:-1]) + 1, len(lab)]
    out = np.empty(n, dtype=object)
    for s, e in zip(bounds[:-1], bounds[1:]):  # one call per group (communities, not buildings)
        out[lab[s]] = shapely.coverage_union_all(geoms[order[s:e]])
    return out


def make_admin(rng, layout: Layout, blocks: Blocks, bld: Buildings, n_buildings: int,
               city_zh: str) -> Admin:
    """Communities (~500 buildings), streets (~9 communities) and 4-12 districts."""
    nf = len(blocks.faces)
    fb = np.bincount(bld.face, minlength=nf).astype(float)
    w = fb + 0.05 * blocks.area / 1500.0
    k_comm = max(4, int(round(n_buildings / 500)))
    face_comm = _partition(rng, blocks.xy, w, blocks.comp, k_comm)
    n_comm = face_comm.max() + 1
    comm_b = np.bincount(face_comm, weights=fb, minlength=n_comm)
    comm_w = np.bincount(face_comm, weights=w, minlength=n_comm)
    comm_xy = np.c_[np.bincount(face_comm, weights=w * blocks.xy[:, 0], minlength=n_comm),
                    np.bincount(face_comm, weights=w * blocks.xy[:, 1], minlength=n_comm)] \
        / comm_w[:, None]
    # component of a community = component of its first block
    first = np.unique(face_comm, return_index=True)[1]
    comm_comp = blocks.comp[first]
    k_dist = int(np.clip(round(4 + 8 * np.log10(max(n_buildings, 5000) / 5000)
                               / np.log10(200)), 4, 12))
    comm_dist = _partition(rng, comm_xy, comm_b + 1e-3, comm_comp, k_dist)
    n_dist = comm_dist.max() + 1
    # streets: ~9 communities each, inside a district
    comm_street = np.zeros(n_comm, int)
    n_street = 0
    for d in range(n_dist):
        sel = np.flatnonzero(comm_dist == d)
        k = max(1, int(round(len(sel) / 9)))
        lab, _ = _lloyd(rng, comm_xy[sel], comm_b[sel] + 1e-3, k)
        comm_street[sel] = lab + n_street
        n_street += lab.max() + 1
    # order: district, street, north to south, west to east
    order = np.lexsort((comm_xy[:, 0], -comm_xy[:, 1], comm_street, comm_dist))
    rank = np.empty(n_comm, int)
    rank[order] = np.arange(n_comm)
    face_comm = rank[face_comm]
    comm_dist, comm_street = comm_dist[order], comm_street[order]
    comm_xy, comm_b = comm_xy[order], comm_b[order]
    # renumber streets in the new order
    _, first_pos = np.unique(comm_street, return_index=True)
    street_rank = np.empty(n_street, int)
    street_rank[np.argsort(first_pos)] = np.arange(n_street)
    comm_street = street_rank[comm_street]
    # codes: 4201dd + street (3) + community (3)
    dist_code = np.array([f"4201{2 + i:02d}" for i in range(n_dist)], dtype=object)
    street_no = comm_street - pd.Series(comm_street).groupby(comm_dist).transform("min") \
        .to_numpy() + 1
    comm_no = pd.Series(comm_street).groupby(comm_street).cumcount().to_numpy() + 1
    comm_id = (dist_code[comm_dist] + pd.Series(street_no).map("{:03d}".format).to_numpy(object)
               + pd.Series(comm_no).map("{:03d}".format).to_numpy(object))
    zh, en = N.combo_names(n_comm + n_street, N.FIRST_CHARS, N.SECOND_CHARS, rng)
    comm_name = zh[:n_comm] + "社区"
    comm_name_en = en[:n_comm] + " Community"
    street_code = np.array([comm_id[np.flatnonzero(comm_street == s)[0]][:9]
                            for s in range(n_street)], dtype=object)
    street_name = zh[n_comm:] + "街道"
    street_name_en = en[n_comm:] + " Subdistrict"
    street_district = np.array([comm_dist[np.flatnonzero(comm_street == s)[0]]
                                for s in range(n_street)])
    dn = rng.permutation(len(N.DISTRICT_NAMES))[:n_dist]
    dist_name = np.array([N.DISTRICT_NAMES[i][0] for i in dn], dtype=object)
    dist_name_en = np.array([N.DISTRICT_NAMES[i][1] for i in dn], dtype=object)
    comm_geom = _dissolve(blocks.faces, face_comm, n_comm)
    street_geom = _dissolve(comm_geom, comm_street, n_street)
    dist_geom = _dissolve(comm_geom, comm_dist, n_dist)
    return Admin(face_comm, comm_geom, comm_id, comm_name, comm_name_en, comm_dist, comm_street,
                 comm_xy, comm_b, dist_geom, dist_code, dist_name, dist_name_en, street_geom,
                 street_code, street_name, street_name_en, street_district,
                 face_comm[bld.face])


# --------------------------------------------------------------------------- addresses
def make_addresses(layout: Layout, bld: Buildings) -> np.ndarray:
    """Chinese addresses: nearest road's name + house number (+ 栋 within a compound)."""
    roads = layout.roads
    pts = shapely.points(bld.centre)
    # nearest road: a k-d tree over points every ~10 m along the roads (fast, +-5 m)
    length = shapely.length(roads.geometry)
    k = np.maximum(2, np.ceil(length / 10.0).astype(np.int64) + 1)
    owner = np.repeat(np.arange(len(length)), k)
    pos = (np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)) / np.repeat(k - 1, k)
    samples = shapely.get_coordinates(
        shapely.line_interpolate_point(roads.geometry[owner], pos, normalized=True))
    ri = owner[cKDTree(samples).query(bld.centre)[1]]
    # chainage along the named road (the long line the piece belongs to)
    kl = roads.key_lines[roads.key]
    ea = shapely.get_point(roads.geometry, 0)
    eb = shapely.get_point(roads.geometry, -1)
    s0 = shapely.line_locate_point(kl, ea)
    s1 = shapely.line_locate_point(kl, eb)
    frac = shapely.line_locate_point(roads.geometry[ri], pts, normalized=True)
    ch = s0[ri] + (s1[ri] - s0[ri]) * frac
    a = shapely.get_coordinates(ea)[ri]
    b = shapely.get_coordinates(eb)[ri]
    d = b - a
    side = np.sign(d[:, 0] * (bld.centre[:, 1] - a[:, 1]) - d[:, 1] * (bld.centre[:, 0] - a[:, 0]))
    side = np.where(s1[ri] >= s0[ri], side, -side)
    k = np.floor(np.maximum(ch, 0) / 12.0).astype(np.int64)
    number = 2 * k + np.where(side >= 0, 1, 2)
    name = pd.Series(roads.name[ri], dtype="str")
    num = pd.Series(number).astype("str")
    df = pd.DataFrame({"name": name, "num": num})
    grp = df.groupby(["name", "num"], sort=False)
    rank = grp.cumcount().to_numpy() + 1
    size = grp["num"].transform("size").to_numpy()
    addr = name + num + "号"
    dong = pd.Series(rank).astype("str") + "栋"
    addr = addr.where(size <= 1, addr + dong)
    return addr.to_numpy(object)


# --------------------------------------------------------------------------- population
def make_population(rng, bld: Buildings) -> pd.DataFrame:
    """Residents by building from floor area (~30-40 m2 per person); ages sum exactly."""
    share = np.select([bld.use == U_RES, bld.use == U_MIX], [1.0, 0.5], 0.0)
    floor_area = bld.area * bld.floors * share
    per_person = rng.uniform(30, 40, len(share))
    occupancy = rng.uniform(0.80, 0.98, len(share))
    residents = np.round(floor_area * occupancy / per_person).astype(np.int64)
    old_build = bld.year < 1995
    p_child = np.clip(rng.normal(0.14, 0.025, len(share)) + 0.03 * (bld.year >= 2010), 0.04, 0.3)
    p_old = np.clip(rng.normal(0.15, 0.04, len(share)) + 0.08 * old_build, 0.03, 0.45)
    c = rng.binomial(residents, p_child)
    o = rng.binomial(residents - c, np.clip(p_old / (1 - p_child), 0, 1))
    sel = residents > 0
    return pd.DataFrame({
        "building_idx": np.flatnonzero(sel),
        "residents": residents[sel],
        "age_0_14": c[sel],
        "age_15_64": (residents - c - o)[sel],
        "age_65_plus": o[sel],
    })


# --------------------------------------------------------------------------- legal entities
_SMALL_SHOP = {
    "H62": ("餐馆", "面馆", "小吃店", "饭店"), "F52": ("便利店", "超市", "商店", "烟酒店"),
    "O80": ("理发店", "洗衣店", "美容院"), "O81": ("维修部", "汽车修理厂"), "Q84": ("诊所",),
}
_EMPLOYEES = {  # section letter: (median, sigma)
    "C": (60, 1.0), "D": (80, 0.8), "E": (40, 1.0), "F": (8, 1.0), "G": (25, 0.9),
    "H": (10, 0.8), "I": (25, 1.1), "J": (30, 1.0), "K": (20, 1.0), "L": (12, 1.1),
    "M": (20, 1.0), "N": (15, 0.9), "O": (5, 0.7), "P": (12, 0.9), "Q": (10, 0.9), "R": (10, 1.0),
}
_HAZARD_P = {"C25": 0.55, "C26": 0.45, "F51": 0.12, "C27": 0.12, "G59": 0.08, "C29": 0.04,
             "C31": 0.05}


def _usccs(rng, prefix: np.ndarray, division: np.ndarray) -> np.ndarray:
    """Valid, distinct USCCs starting with ``prefix`` ("91"/"92") in ``division``,
    so companies read 91... and individual businesses 92...
    """
    n = len(prefix)
    out = np.empty(n, dtype=object)
    todo = np.arange(n)
    for _ in range(10):
        for div in np.unique(division[todo]):  # a dozen districts at most
            sel = todo[division[todo] == div]
            out[sel] = make_uscc(rng, len(sel), [div], prefixes=prefix[sel])
        dup = pd.Series(out).duplicated().to_numpy()
        todo = np.flatnonzero(dup)
        if not len(todo):
            return out
    raise RuntimeError("could not draw enough distinct USCC codes")


def _brands(rng, n: int) -> np.ndarray:
    """Two-character company brand names (字号), never the same character twice."""
    c1 = np.array(N.BRAND_CHARS_1, dtype=object)[rng.integers(len(N.BRAND_CHARS_1), size=n)]
    i2 = rng.integers(len(N.BRAND_CHARS_2), size=n)
    c2 = np.array(N.BRAND_CHARS_2, dtype=object)
    i2 = np.where(c2[i2] == c1, (i2 + 1) % len(c2), i2)
    return c1 + c2[i2]


def make_entities(rng, bld: Buildings, admin: Admin, city_zh: str,
                  n_buildings: int) -> pd.DataFrame:
    """~0.3 legal entities per building, in commercial, industrial and mixed buildings."""
    use = bld.use
    elig = np.flatnonzero(np.isin(use, (U_COM, U_IND, U_MIX)))
    total = int(round(0.3 * n_buildings))
    fa = bld.area[elig] * bld.floors[elig] * np.where(use[elig] == U_MIX, 0.5, 1.0)
    wts = fa ** 0.8
    counts = rng.multinomial(total, wts / wts.sum())
    b = np.repeat(elig, counts)
    n = len(b)
    buse = use[b]
    # industry
    ind = np.empty(n, dtype=object)
    for u_code, key in ((U_IND, "industrial"), (U_COM, "commercial"), (U_MIX, "mixed")):
        sel = np.flatnonzero(buse == u_code)
        codes = np.array([c for c, _ in N.INDUSTRY_MIX[key]], dtype=object)
        p = np.array([w for _, w in N.INDUSTRY_MIX[key]], float)
        ind[sel] = codes[rng.choice(len(codes), len(sel), p=p / p.sum())]
    ind_s = pd.Series(ind, dtype="str")
    section = ind_s.str[0].to_numpy(object)
    # individual businesses (个体工商户) among small shops
    small = ind_s.isin(list(_SMALL_SHOP)).to_numpy() & (buse != U_IND) & (rng.random(n) < 0.45)
    # hazardous chemicals: mainly C25/C26/F51 in industrial buildings (~1.5 %)
    p_h = ind_s.map(_HAZARD_P).fillna(0.0).to_numpy(float) * (buse == U_IND)
    target = 0.015 * n
    if p_h.sum() > 0:
        p_h = np.clip(p_h * target / p_h.sum(), 0, 0.9)
    hazard = rng.random(n) < p_h
    need = max(5, int(0.01 * n)) - hazard.sum()
    if need > 0:  # top up with the most likely candidates
        cand = np.flatnonzero(~hazard & (p_h > 0))
        cand = cand[np.argsort(-p_h[cand] + 1e-9 * rng.random(len(cand)), kind="stable")][:need]
        hazard[cand] = True
    # employees
    med = pd.Series(section).map({k: v[0] for k, v in _EMPLOYEES.items()}).to_numpy(float)
    sig = pd.Series(section).map({k: v[1] for k, v in _EMPLOYEES.items()}).to_numpy(float)
    emp = np.round(med * np.exp(sig * rng.standard_normal(n))).astype(np.int64)
    emp = np.where(hazard, np.maximum(emp, 30), emp)
    emp = np.where(small, 1 + rng.poisson(2.0, n), emp)
    emp = np.clip(emp, 1, 8000)
    # names
    dist = admin.comm_district[admin.bld_comm[b]]
    dname = pd.Series(admin.dist_name[dist], dtype="str")
    brand = pd.Series(_brands(rng, n), dtype="str")
    word = np.empty(n, dtype=object)
    for code in pd.unique(ind):
        sel = np.flatnonzero(ind == code)
        words = np.array(N.INDUSTRIES[code][2], dtype=object)
        word[sel] = words[rng.integers(len(words), size=len(sel))]
    word = np.where(hazard & (ind == "F51"), "化工贸易", word)
    shop = np.empty(n, dtype=object)
    for code, words in _SMALL_SHOP.items():
        sel = np.flatnonzero(ind == code)
        shop[sel] = np.array(words, dtype=object)[rng.integers(len(words), size=len(sel))]
    pref_kind = rng.random(n)
    prefix = np.where(pref_kind < 0.55, city_zh, np.where(
        pref_kind < 0.85, (city_zh + "市" + dname).to_numpy(object), "湖北"))
    form = np.array(["有限公司", "有限责任公司", "股份有限公司", "集团有限公司"], dtype=object)[
        rng.choice(4, n, p=[0.72, 0.18, 0.06, 0.04])]
    company = (pd.Series(prefix, dtype="str") + brand + pd.Series(word, dtype="str")
               + pd.Series(form, dtype="str"))
    person = (city_zh + "市" + dname + brand + pd.Series(shop, dtype="str"))
    name = company.where(~pd.Series(small), person)
    dup = name.groupby(name, sort=False).cumcount().to_numpy()
    if (dup > 0).any():
        k = np.flatnonzero(dup > 0)
        branch = np.where(small[k], "分店", "分公司")
        num = N.zh_numerals(dup[k] + 1)
        name.iloc[k] = (name.iloc[k].to_numpy(object) + dname.iloc[k].to_numpy(object)
                        + "第" + num + branch)
    # codes
    division = admin.dist_code[dist]
    prefix_code = np.where(small, "92", "91").astype(object)
    uscc = _usccs(rng, prefix_code, division)
    xy = points_in_buildings(rng, bld, b, spread=0.8)
    founded = np.clip(bld.year[b] + rng.integers(-5, 20, n), 1984, 2024)
    return pd.DataFrame({
        "uscc": uscc,
        "name": name.to_numpy(object),
        "industry": ind,
        "employees": emp,
        "building_idx": b,
        "hazard_class": np.where(hazard, "hazardous_chemicals", ""),
        "founded": founded,
        "x": xy[:, 0],
        "y": xy[:, 1],
    })
