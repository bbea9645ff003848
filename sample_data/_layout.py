"""City layout for the synthetic sample: extent, rivers, road network, blocks and zones.

All coordinates here are local metres around the city centre (x east, y north);
:mod:`sample_data.generator` shifts them to EPSG:4547 at the very end.  Every
step is vectorised over roads, blocks and points; the only Python loops run
over a few dozen grid lines, rivers or zone centres.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from . import names as N

__all__ = ["ZONES", "ZoneField", "Layout", "build_layout"]

#: Land-use zone codes (index = zone number used throughout the generator).
ZONES = ("residential", "commercial", "industrial", "public", "mixed", "green")
RES, COM, IND, PUB, MIX, GREEN = range(6)

ROAD_CLASSES = ("primary", "secondary", "tertiary", "residential")

EMBANKMENT_OFFSET = 30.0  # road centre line this far from the river bank
ART_SPACING = 1000.0


# --------------------------------------------------------------------------- zone field
@dataclass
class ZoneField:
    """Smooth land-use preference field: scores per zone at any point."""

    R: float
    core_sigma: float
    sub_xy: np.ndarray
    sub_sigma: float
    ind_xy: np.ndarray
    ind_sigma: np.ndarray
    park_xy: np.ndarray
    park_sigma: np.ndarray

    @staticmethod
    def _kernel(x, y, centres, sigma, chunk=4096):
        """max over centres of exp(-d^2 / 2 sigma^2), in chunks of points."""
        out = np.zeros(len(x))
        if len(centres) == 0:
            return out
        sig = np.broadcast_to(np.asarray(sigma, float), (len(centres),))
        for s in range(0, len(x), chunk):
            dx = x[s:s + chunk, None] - centres[None, :, 0]
            dy = y[s:s + chunk, None] - centres[None, :, 1]
            out[s:s + chunk] = np.exp(-(dx * dx + dy * dy) / (2 * sig * sig)).max(axis=1)
        return out

    def scores(self, x, y) -> np.ndarray:
        """(n, 6) zone scores (higher = more likely) at points ``x``, ``y``."""
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        r = np.hypot(x, y) / self.R
        core = np.exp(-(x * x + y * y) / (2 * self.core_sigma ** 2))
        sub = self._kernel(x, y, self.sub_xy, self.sub_sigma)
        ind = self._kernel(x, y, self.ind_xy, self.ind_sigma)
        park = self._kernel(x, y, self.park_xy, self.park_sigma)
        s = np.empty((len(x), 6))
        s[:, RES] = 1.0
        s[:, COM] = 3.4 * core + 2.2 * sub
        s[:, IND] = 3.2 * ind * (1 - core) * (1 - 0.7 * sub)
        s[:, PUB] = 0.36
        s[:, MIX] = 1.25 * np.exp(-(((r - 0.22) / 0.16) ** 2)) + 0.8 * sub
        s[:, GREEN] = 3.0 * park
        return s

    def zone(self, x, y) -> np.ndarray:
        """Most likely zone (no noise) at points."""
        return self.scores(x, y).argmax(axis=1)


def _make_field(rng, W, H, river_lines, river_widths) -> ZoneField:
    area = W * H
    R = 0.5 * np.sqrt(area)

    def inside(n, rmin, rmax):
        """n random points with radius in [rmin, rmax] * R, kept inside the box."""
        pts = np.empty((0, 2))
        while len(pts) < n:
            a = rng.uniform(0, 2 * np.pi, 4 * n)
            rr = R * np.sqrt(rng.uniform(rmin ** 2, rmax ** 2, 4 * n))
            p = np.c_[rr * np.cos(a) * W / (2 * R), rr * np.sin(a) * H / (2 * R)]
            p = p[(np.abs(p[:, 0]) < 0.48 * W) & (np.abs(p[:, 1]) < 0.48 * H)]
            pts = np.vstack([pts, p])
        return pts[:n]

    n_sub = int(np.clip(round(area / 80e6), 0, 10))
    sub_xy = inside(n_sub, 0.4, 0.8)
    # industrial clusters: about 15 % of the city in total
    sig = float(np.clip(0.045 * np.sqrt(area), 250.0, 900.0))
    n_ind = int(np.clip(round(0.15 * area / (6.6 * sig * sig)), 2, 80))
    n_edge = n_ind - n_ind // 3
    ind_xy = inside(n_edge, 0.62, 1.15)
    # a third of the industrial clusters sit by the river (ports, chemical plants)
    n_riv = n_ind - n_edge
    main = river_lines[0]
    t = rng.uniform(0.08, 0.92, n_riv)
    t = np.where(np.abs(t - 0.5) < 0.18, t + np.sign(t - 0.5 + 1e-9) * 0.18, t)
    p = shapely.get_coordinates(shapely.line_interpolate_point(main, t, normalized=True))
    side = rng.choice([-1.0, 1.0], n_riv)
    off = side * (river_widths[0] / 2 + rng.uniform(250, 700, n_riv))
    ind_xy = np.vstack([ind_xy, p + np.c_[np.zeros(n_riv), off]])
    ind_sigma = sig * rng.uniform(0.8, 1.4, n_ind)
    n_park = int(np.clip(round(area / 3e6), 2, 500))
    park_xy = inside(n_park, 0.12, 1.1)
    park_sigma = rng.uniform(140, 320, n_park)
    return ZoneField(R=R, core_sigma=max(380.0, 0.13 * R), sub_xy=sub_xy,
                     sub_sigma=max(260.0, 0.05 * R), ind_xy=ind_xy, ind_sigma=ind_sigma,
                     park_xy=park_xy, park_sigma=park_sigma)


# --------------------------------------------------------------------------- rivers
@dataclass
class River:
    name: str
    name_en: str
    width: float
    centreline: shapely.LineString
    polygon: shapely.Geometry  # unclipped (extends past the city box)


def _make_rivers(rng, W, H, with_tributary: bool) -> list[River]:
    width = float(np.clip(0.05 * np.sqrt(W * H), 80.0, 1000.0))
    ext = 0.1 * W + 2 * width
    step = float(np.clip(width / 3, 25.0, 120.0))
    x = np.arange(-W / 2 - ext, W / 2 + ext + step, step)
    u = (x + W / 2) / W
    y0 = rng.choice([-1.0, 1.0]) * rng.uniform(0.07, 0.15) * H
    slope = rng.uniform(-0.22, 0.22) * H / W
    amp = 0.11 * H - 0.5 * abs(y0)
    freqs = np.array([rng.uniform(0.6, 0.9), rng.uniform(1.4, 1.9), rng.uniform(2.6, 3.4)])
    amps = amp * np.array([0.55, 0.3, 0.15]) * rng.uniform(0.7, 1.0, 3)
    phases = rng.uniform(0, 2 * np.pi, 3)
    y = y0 + slope * (x) + (amps[None, :] * np.sin(2 * np.pi * freqs[None, :] * u[:, None]
                                                     + phases[None, :])).sum(axis=1)
    # keep the centre itself on dry land next to the water
    y = y - (np.interp(0.0, x, y) - y0)
    line = shapely.LineString(np.c_[x, y])
    poly = shapely.buffer(line, width / 2, quad_segs=4, cap_style="flat")
    zh, en = N.RIVER_NAMES[int(rng.integers(len(N.RIVER_NAMES)))]
    rivers = [River(zh, en, width, line, poly)]
    if with_tributary:
        tw = max(60.0, 0.4 * width)
        xj = rng.uniform(-0.3, -0.05) * W
        yj = float(np.interp(xj, x, y))
        xt = xj - rng.uniform(0.05, 0.15) * W
        top = H / 2 + ext
        yy = np.arange(yj, top + step, step)
        v = (yy - yj) / (top - yj)
        xx = xj + (xt - xj) * v + 0.05 * W * np.sin(np.pi * v) * np.sin(
            2 * np.pi * rng.uniform(1.2, 2.0) * v + rng.uniform(0, 2 * np.pi))
        tline = shapely.LineString(np.c_[xx, yy])
        tpoly = shapely.buffer(tline, tw / 2, quad_segs=4, cap_style="round")
        zh, en = N.TRIBUTARY_NAMES[int(rng.integers(len(N.TRIBUTARY_NAMES)))]
        rivers.append(River(zh, en, tw, tline, tpoly))
    return rivers


# --------------------------------------------------------------------------- grid
def _positions(rng, lo, hi):
    """Grid line positions in [lo, hi] and their class (0 primary, 1 secondary, 2 local)."""
    ks = np.arange(np.floor(lo / ART_SPACING) - 1, np.ceil(hi / ART_SPACING) + 2)
    art = ks * ART_SPACING + rng.uniform(-90, 90, len(ks))
    sec = (art[:-1] + art[1:]) / 2 + rng.uniform(-50, 50, len(art) - 1)
    major = np.sort(np.r_[art, sec])
    major_cls = np.where(np.isin(major, art), 0, 1)
    pos = [major]
    cls = [major_cls]
    for a, b in zip(major[:-1], major[1:]):
        g = b - a
        parts = max(1, int(round(g / rng.uniform(170, 245))))
        if parts > 1:
            k = np.arange(1, parts)
            pos.append(a + g * k / parts + rng.uniform(-12, 12, parts - 1))
            cls.append(np.full(parts - 1, 2))
    pos = np.concatenate(pos)
    cls = np.concatenate(cls)
    order = np.argsort(pos)
    pos, cls = pos[order], cls[order]
    keep = (pos > lo) & (pos < hi)
    return pos[keep], cls[keep]


def _name_pool(kind: str):
    """Road name candidates (zh, pinyin) for a class, in a fixed order."""
    words = N.ROAD_WORDS
    if kind == "primary":
        suffixes = (("大道", "Dadao"), ("大街", "Dajie"))
    elif kind == "secondary":
        suffixes = (("路", "Lu"), ("东路", "Donglu"), ("西路", "Xilu"), ("南路", "Nanlu"),
                    ("北路", "Beilu"), ("街", "Jie"))
    else:
        ords = ("一", "二", "三", "四", "五", "六", "七", "八", "九")
        ords_py = ("Yi", "Er", "San", "Si", "Wu", "Liu", "Qi", "Ba", "Jiu")
        suffixes = tuple((o + "路", p + "lu") for o, p in zip(ords, ords_py))
    zh = [w + s for s, _ in suffixes for w, _ in words]
    py = [p + " " + sp for _, sp in suffixes for _, p in words]
    return np.array(zh, dtype=object), np.array(py, dtype=object)


@dataclass
class Roads:
    geometry: np.ndarray
    name: np.ndarray
    name_en: np.ndarray
    cls: np.ndarray  # str
    bridge: np.ndarray  # bool
    key: np.ndarray  # index into key_lines (named line, for house numbers)
    key_lines: np.ndarray  # long un-noded named lines
    n_grid_keys: int  # key_lines[n_grid_keys:] are the embankment roads


@dataclass
class Layout:
    width: float
    height: float
    box: shapely.Polygon
    rivers: list[River]
    river_ext: shapely.Geometry  # union of river polygons, unclipped
    river: shapely.Geometry  # clipped to the box
    field: ZoneField
    roads: Roads
    faces: np.ndarray  # land faces (blocks between road centre lines)
    face_comp: np.ndarray  # land component (bank) id per face
    face_riverside: np.ndarray  # bool: strip between bank and embankment road
    land_parts: np.ndarray  # land polygons (box minus river)
    grid_angle: float
    extra: dict = field(default_factory=dict)


def _segment_tree_match(pieces, sources):
    """Index of the source line on which each piece lies (-1 if none)."""
    parts, part_src = shapely.get_parts(sources, return_index=True)
    coords, cidx = shapely.get_coordinates(parts, return_index=True)
    ok = cidx[:-1] == cidx[1:]
    a = coords[:-1][ok]
    b = coords[1:][ok]
    seg_src = part_src[cidx[:-1][ok]]
    segs = shapely.linestrings(np.stack([a, b], axis=1))
    tree = shapely.STRtree(segs)
    mid = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    qi, ti = tree.query(mid, predicate="dwithin", distance=1e-6)
    out = np.full(len(pieces), -1)
    # first match per piece (query output is sorted by input index)
    first = np.r_[True, qi[1:] != qi[:-1]] if len(qi) else np.zeros(0, bool)
    out[qi[first]] = seg_src[ti[first]]
    return out, mid


def build_layout(rng: np.random.Generator, W: float, H: float, feedback=None) -> Layout:
    """Rivers, roads (noded at intersections), blocks and the zone field."""
    box = shapely.box(-W / 2, -H / 2, W / 2, H / 2)
    box_out = shapely.box(-W / 2 - 1, -H / 2 - 1, W / 2 + 1, H / 2 + 1)
    area = W * H
    rivers = _make_rivers(rng, W, H, with_tributary=area > 25e6)
    river_ext = shapely.union_all([r.polygon for r in rivers])
    river = shapely.intersection(river_ext, box)
    field_ = _make_field(rng, W, H, [r.centreline for r in rivers], [r.width for r in rivers])

    # ---- grid in rotated/warped "grid space"
    theta = np.deg2rad(rng.uniform(-18, 18))
    c, s = np.cos(theta), np.sin(theta)
    corners = np.array([[-W, -H], [W, -H], [W, H], [-W, H]]) / 2
    gc = corners @ np.array([[c, -s], [s, c]])  # rotate by -theta
    lo = gc.min(axis=0) - 150
    hi = gc.max(axis=0) + 150
    xs, xcls = _positions(rng, lo[0], hi[0])
    ys, ycls = _positions(rng, lo[1], hi[1])
    xs_all = np.r_[lo[0] - 300, xs, hi[0] + 300]
    ys_all = np.r_[lo[1] - 300, ys, hi[1] + 300]
    GX, GY = np.meshgrid(xs_all, ys_all, indexing="ij")
    amp = min(160.0, 0.035 * max(W, H)) * rng.uniform(0.6, 1.0, 4)
    lam = rng.uniform(3000, 7000, 4)
    ph = rng.uniform(0, 2 * np.pi, 4)
    DX = amp[0] * np.sin(2 * np.pi * GY / lam[0] + ph[0]) + \
        0.5 * amp[1] * np.sin(2 * np.pi * (GX + GY) / lam[1] + ph[1])
    DY = amp[2] * np.sin(2 * np.pi * GX / lam[2] + ph[2]) + \
        0.5 * amp[3] * np.sin(2 * np.pi * (GX - GY) / lam[3] + ph[3])
    WX, WY = GX + DX, GY + DY
    V = np.stack([WX * c - WY * s, WX * s + WY * c], axis=-1)  # (nx_all, ny_all, 2), local

    # ---- edges: vertical lines (index i in xs) then horizontal lines (j in ys)
    nxa, nya = len(xs_all), len(ys_all)
    ev_i, ev_j = np.meshgrid(np.arange(1, nxa - 1), np.arange(nya - 1), indexing="ij")
    eh_i, eh_j = np.meshgrid(np.arange(nxa - 1), np.arange(1, nya - 1), indexing="ij")
    ev_i, ev_j, eh_i, eh_j = ev_i.ravel(), ev_j.ravel(), eh_i.ravel(), eh_j.ravel()
    p0 = np.r_[V[ev_i, ev_j], V[eh_i, eh_j]]
    p1 = np.r_[V[ev_i, ev_j + 1], V[eh_i + 1, eh_j]]
    n_v = len(ev_i)
    orient = np.r_[np.zeros(n_v, int), np.ones(len(eh_i), int)]
    line = np.r_[ev_i - 1, eh_j - 1]  # index into xs (orient 0) or ys (orient 1)
    along = np.r_[ev_j, eh_i]  # edge position along its line
    lcls = np.where(orient == 0, xcls[np.clip(line, 0, len(xs) - 1)],
                    ycls[np.clip(line, 0, len(ys) - 1)])
    mid = (p0 + p1) / 2
    mz = field_.zone(mid[:, 0], mid[:, 1])
    p_drop = np.array([0.16, 0.05, 0.5, 0.28, 0.08, 0.55])[mz]
    keep = ~((lcls == 2) & (rng.random(len(p0)) < p_drop))
    edge_cls = np.where(lcls == 0, "primary", np.where(lcls == 1, "secondary", np.where(
        (mz == RES) | (mz == GREEN), "residential", "tertiary"))).astype(object)

    # ---- names: one per (orientation, line, chunk of perpendicular arterials)
    perp_art_x = np.cumsum(np.r_[0, xcls == 0, 0])  # arterials passed, per x node
    perp_art_y = np.cumsum(np.r_[0, ycls == 0, 0])
    passed = np.r_[perp_art_y[ev_j], perp_art_x[eh_i]]
    chunk_len = np.array([10 ** 6, 4, 2])[lcls]
    chunk = passed // chunk_len
    key_tuple = np.c_[orient, line, chunk]
    keys, key_of_edge = np.unique(key_tuple, axis=0, return_inverse=True)
    key_of_edge = key_of_edge.ravel()
    key_cls = lcls[np.unique(key_of_edge, return_index=True)[1]]
    key_name = np.empty(len(keys), dtype=object)
    key_name_en = np.empty(len(keys), dtype=object)
    for k, kind in enumerate(("primary", "secondary", "local")):
        sel = np.flatnonzero(key_cls == k)
        zh, py = _name_pool(kind)
        if kind == "local":
            # consecutive parallel streets share a word: 建设一路, 建设二路, ...
            n_words = len(N.ROAD_WORDS)
            word = rng.permutation(n_words)
            base = word[(np.arange(len(sel)) // 4) % n_words]
            ordinal = np.arange(len(sel)) % 4 + 4 * ((np.arange(len(sel)) // (4 * n_words)) % 2)
            pick = ordinal * n_words + base
        else:
            perm = rng.permutation(len(zh))
            pick = perm[np.arange(len(sel)) % len(zh)]
        key_name[sel] = zh[pick]
        key_name_en[sel] = py[pick]
    # the named lines themselves (all edges, also dropped ones) for house numbers
    order = np.lexsort((along, key_of_edge))
    ko = key_of_edge[order]
    last = np.r_[np.flatnonzero(ko[1:] != ko[:-1]), len(ko) - 1]
    pts = np.concatenate([p0[order], p1[order][last]])
    pk = np.concatenate([ko, ko[last]])
    pos = np.concatenate([along[order], along[order][last] + 1])
    o2 = np.lexsort((pos, pk))
    key_lines = shapely.linestrings(pts[o2], indices=pk[o2])

    # ---- bridges: every k-th primary line crossing a river (k by river width); only
    # short crossings qualify, so a road never runs along the water
    edges = shapely.linestrings(np.stack([p0, p1], axis=1))
    line_uid = np.where(orient == 0, line, len(xs) + line)
    cut_poly = shapely.buffer(river_ext, EMBANKMENT_OFFSET - 1.0, quad_segs=4)
    shapely.prepare(cut_poly)
    uid_cls = np.r_[xcls, ycls]

    def grid_line(uid):
        return shapely.LineString(V[uid + 1, :] if uid < len(xs) else V[:, uid - len(xs) + 1])

    corridors = {}
    for r in rivers:
        rcut = shapely.buffer(r.polygon, EMBANKMENT_OFFSET - 1.0, quad_segs=4)
        cand = np.unique(line_uid[(uid_cls[line_uid] <= (0 if r.width >= 250 else 1))
                                  & shapely.intersects(edges, r.polygon)
                                  & shapely.intersects(edges, box)])
        ok = {}
        for uid in cand:
            parts = shapely.get_parts(shapely.intersection(grid_line(uid), rcut))
            parts = parts[(shapely.length(parts) <= 2.2 * r.width + 2 * EMBANKMENT_OFFSET + 40)
                          & shapely.intersects(parts, r.polygon) & shapely.intersects(parts, box)]
            if len(parts):
                ok[int(uid)] = parts
        prim = np.array([u for u in ok if uid_cls[u] == 0], dtype=int)
        sec = np.array([u for u in ok if uid_cls[u] == 1], dtype=int)
        k = max(1, int(round(2.5 * r.width / 1000)))
        chosen = list(prim[int(rng.integers(k)) % max(1, len(prim))::k]) if len(prim) else []
        chosen += list(sec[rng.random(len(sec)) < 0.7])
        if not chosen and ok:  # every river gets at least one bridge
            chosen = [min(ok, key=lambda u: float(shapely.length(ok[u]).sum()))]
        for uid in chosen:
            corridors.setdefault(int(uid), []).extend(ok[int(uid)])
    corridor_polys = {u: shapely.union_all(shapely.buffer(np.array(p), 2.0, cap_style="square"))
                      for u, p in corridors.items()}
    corridor_all = shapely.union_all(list(corridor_polys.values())) if corridor_polys \
        else shapely.Polygon()
    shapely.prepare(corridor_all)

    # ---- cut edges at the embankment (bridges pass through), clip to the box
    work = np.flatnonzero(keep)
    geoms = edges[work]
    wuid = line_uid[work]
    inter = shapely.intersects(cut_poly, geoms)
    plain = inter & ~np.isin(wuid, list(corridor_polys))
    geoms[plain] = shapely.difference(geoms[plain], cut_poly)
    for uid, cp in corridor_polys.items():
        sel_u = inter & (wuid == uid)
        geoms[sel_u] = shapely.difference(geoms[sel_u], shapely.difference(cut_poly, cp))
    shapely.prepare(box_out)
    inside = shapely.contains(box_out, geoms)
    cross = ~inside & shapely.intersects(box_out, geoms)
    geoms[cross] = shapely.intersection(geoms[cross], box_out)
    sel = (inside | cross) & ~shapely.is_empty(geoms)
    road_geoms = geoms[sel]

    # embankment roads and river banks
    emb = shapely.intersection(shapely.boundary(shapely.buffer(river_ext, EMBANKMENT_OFFSET,
                                                               quad_segs=4)), box_out)
    emb_parts = shapely.get_parts(shapely.line_merge(emb))
    emb_parts = emb_parts[shapely.length(emb_parts) > 50]
    bank = shapely.intersection(shapely.boundary(river_ext), box_out)
    bank_parts = shapely.get_parts(bank)
    box_line = shapely.boundary(box)

    # ---- node everything together
    all_lines = np.concatenate([shapely.get_parts(road_geoms), emb_parts, bank_parts, [box_line]])
    pieces = shapely.get_parts(shapely.node(shapely.multilinestrings(all_lines)))
    n_e = len(edges)
    sources = np.concatenate([edges, emb_parts, bank_parts, [box_line]])
    src, mid_pt = _segment_tree_match(pieces, sources)
    shapely.prepare(box)
    in_box = shapely.intersects(mid_pt, box)
    is_edge = (src >= 0) & (src < n_e)
    is_emb = (src >= n_e) & (src < n_e + len(emb_parts))
    is_bank = (src >= n_e + len(emb_parts)) & (src < n_e + len(emb_parts) + len(bank_parts))
    is_box = src == len(sources) - 1
    emb_zone = shapely.buffer(river_ext, EMBANKMENT_OFFSET - 0.2, quad_segs=4)
    shapely.prepare(emb_zone)
    in_emb_zone = shapely.within(mid_pt, emb_zone)
    in_corr = shapely.intersects(mid_pt, corridor_all)
    road_ok = in_box & (is_emb | (is_edge & (in_corr | ~in_emb_zone)))

    # ---- keep the largest connected component
    ridx = np.flatnonzero(road_ok)
    rp = pieces[ridx]
    a = shapely.get_coordinates(shapely.get_point(rp, 0))
    b = shapely.get_coordinates(shapely.get_point(rp, -1))
    ends = np.r_[a, b]
    _, node = np.unique(ends, axis=0, return_inverse=True)
    node = node.ravel()
    nn = node.max() + 1
    g = coo_matrix((np.ones(len(rp)), (node[:len(rp)], node[len(rp):])), shape=(nn, nn))
    _, lab = connected_components(g, directed=False)
    comp = lab[node[:len(rp)]]
    big = np.bincount(comp, weights=shapely.length(rp)).argmax()
    ridx = ridx[comp == big]
    rp = pieces[ridx]
    rsrc = src[ridx]
    redge = is_edge[ridx]
    emb_names = np.array([z for z, _ in N.EMBANKMENT_NAMES], dtype=object)
    emb_names_en = np.array([p for _, p in N.EMBANKMENT_NAMES], dtype=object)
    emb_i = np.clip(rsrc - n_e, 0, None) % len(emb_names)
    name = np.where(redge, key_name[key_of_edge[np.clip(rsrc, 0, n_e - 1)]], emb_names[emb_i])
    name_en = np.where(redge, key_name_en[key_of_edge[np.clip(rsrc, 0, n_e - 1)]],
                       emb_names_en[emb_i])
    cls = np.where(redge, edge_cls[np.clip(rsrc, 0, n_e - 1)], "secondary").astype(object)
    shapely.prepare(river_ext)
    bridge = shapely.within(mid_pt[ridx], river_ext)
    key = np.where(redge, key_of_edge[np.clip(rsrc, 0, n_e - 1)],
                   len(key_lines) + np.clip(rsrc - n_e, 0, None))
    all_key_lines = np.concatenate([key_lines, emb_parts])
    roads = Roads(rp, name.astype(object), name_en.astype(object), cls, bridge, key,
                  all_key_lines, len(key_lines))

    # ---- blocks: faces of roads + banks + city edge
    face_lines = np.concatenate([rp, pieces[(is_bank | is_box) & in_box]])
    faces = shapely.get_parts(shapely.polygonize(face_lines))
    rep = shapely.point_on_surface(faces)
    wet = shapely.within(rep, river_ext)
    faces, rep = faces[~wet], rep[~wet]
    land_parts = shapely.get_parts(shapely.difference(box, river_ext))
    land_parts = land_parts[np.argsort(-shapely.area(land_parts), kind="stable")]
    t = shapely.STRtree(land_parts)
    qi, ti = t.query(rep, predicate="within")
    face_comp = np.full(len(faces), -1)
    face_comp[qi] = ti
    near = shapely.dwithin(rep, river_ext, EMBANKMENT_OFFSET)
    return Layout(W, H, box, rivers, river_ext, river, field_, roads, faces, face_comp, near,
                  land_parts, float(theta))
