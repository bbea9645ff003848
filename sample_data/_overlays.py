"""Department overlays and the flood-depth raster of the synthetic city.

Each ``make_*`` returns plain columns plus a ``geometry`` array in local metres
(see :mod:`._layout`); :mod:`sample_data.generator` turns them into frames.
Facilities sit in real buildings of the framework (``building_id``), spread
over the communities in proportion to their residents.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from rasterio import features
from rasterio.transform import Affine
from scipy import ndimage
from scipy.spatial import cKDTree

from . import names as N
from ._framework import U_COM, U_IND, U_MIX, U_PUB, U_RES, Admin, Blocks, Buildings, _brands
from ._layout import GREEN, ZONES, Layout

__all__ = ["OverlayContext", "make_overlays", "make_flood_raster", "FLOOD_CLASSES"]

#: depth classes of the flood zones: (class, min m, max m)
FLOOD_CLASSES = ((1, 0.15, 0.5), (2, 0.5, 1.5), (3, 1.5, None))

LAND_USE_CODES = {  # GB 50137-2011 major classes
    "residential": ("R", "居住用地"), "commercial": ("B", "商业服务业设施用地"),
    "industrial": ("M", "工业用地"), "public": ("A", "公共管理与公共服务设施用地"),
    "mixed": ("RB", "商住混合用地"), "green": ("G", "绿地与广场用地"),
}


def _ids(prefix: str, n: int, width: int = 5) -> np.ndarray:
    return (prefix + pd.Series(np.arange(1, n + 1)).astype("str").str.zfill(width)).to_numpy(object)


class OverlayContext:
    """Shared inputs and helpers for the overlays."""

    def __init__(self, rng, layout: Layout, blocks: Blocks, bld: Buildings, admin: Admin,
                 building_id, residents, entities: pd.DataFrame, city_zh: str) -> None:
        self.rng = rng
        self.layout = layout
        self.blocks = blocks
        self.bld = bld
        self.admin = admin
        self.building_id = np.asarray(building_id, dtype=object)
        self.residents = residents  # per building (0 for none)
        self.entities = entities
        self.city = city_zh
        self.total_residents = int(residents.sum())
        self.area = layout.width * layout.height
        self.taken = np.zeros(len(bld.use), bool)
        n_comm = len(admin.comm_id)
        self.comm_res = np.bincount(admin.bld_comm, weights=residents, minlength=n_comm)
        self.comm_root = pd.Series(admin.comm_name, dtype="str").str.removesuffix("社区") \
            .to_numpy(object)

    def pick(self, k: int, uses, by: str = "residents") -> np.ndarray:
        """``k`` distinct buildings of the given uses, spread over communities by
        their residents (or area), never one already used by another facility."""
        bld, adm = self.bld, self.admin
        pool = np.isin(bld.use, uses) & ~self.taken
        if pool.sum() < k:
            pool = (bld.use != U_IND) & ~self.taken
        if pool.sum() < k:
            pool = ~self.taken
        cand = np.flatnonzero(pool)
        comm = adm.bld_comm[cand]
        per_comm = np.bincount(comm, minlength=len(adm.comm_id)).astype(float)
        if by == "residents":
            cw = self.comm_res + 0.02 * self.comm_res.mean() + 1e-9
        else:
            cw = np.bincount(adm.bld_comm, minlength=len(adm.comm_id)).astype(float) + 1.0
        w = cw[comm] / np.maximum(per_comm[comm], 1)
        keys = np.log(w) + self.rng.gumbel(size=len(cand))
        k = min(k, len(cand))
        top = cand[np.argsort(-keys, kind="stable")[:k]]
        self.taken[top] = True
        return top

    def pick_per_community(self, comms, uses) -> np.ndarray:
        """One building in each of ``comms`` (preferring ``uses``)."""
        bld, adm = self.bld, self.admin
        comms = np.asarray(comms)
        pref = np.isin(bld.use, uses) & ~self.taken
        key = self.rng.random(len(bld.use)) + np.where(pref, 2.0, 0.0) - 5.0 * self.taken
        order = np.lexsort((-key, adm.bld_comm))
        sc = adm.bld_comm[order]
        first = order[np.r_[True, sc[1:] != sc[:-1]]]
        best = np.full(len(adm.comm_id), -1)
        best[adm.bld_comm[first]] = first
        out = best[comms]
        out = out[out >= 0]
        self.taken[out] = True
        return out

    def unique_names(self, n: int) -> np.ndarray:
        """``n`` fresh two-character names (never handed out twice in one city)."""
        if not hasattr(self, "_names"):
            zh, _ = N.combo_names(len(N.FIRST_CHARS) * len(N.SECOND_CHARS), N.FIRST_CHARS,
                                  N.SECOND_CHARS, self.rng)
            self._names, self._next = zh, 0
        out = self._names[(self._next + np.arange(n)) % len(self._names)]
        self._next += n
        return out

    def point(self, b) -> np.ndarray:
        """A point inside each building (at its entrance side, roughly its centre)."""
        return shapely.points(self.bld.s_centre[b])

    def community_of(self, b) -> np.ndarray:
        return self.admin.bld_comm[b]


def _numbered(prefix: str, n: int, suffix: str) -> np.ndarray:
    return (prefix + "第" + pd.Series(N.zh_numerals(np.arange(1, n + 1)), dtype="str")
            + suffix).to_numpy(object)


def _dedupe(names) -> np.ndarray:
    """Append 二/三... to repeated names (分校 style)."""
    s = pd.Series(names, dtype="str")
    k = s.groupby(s, sort=False).cumcount().to_numpy()
    if (k > 0).any():
        i = np.flatnonzero(k > 0)
        s.iloc[i] = s.iloc[i].to_numpy(object) + "(" + N.zh_numerals(k[i] + 1) + ")"
    return s.to_numpy(object)


# --------------------------------------------------------------------------- facilities
def _schools(ctx: OverlayContext):
    R = ctx.total_residents
    n_p = max(3, round(R / 12000))
    n_m = max(2, round(R / 25000))
    n_h = max(2, round(R / 50000))
    rng = ctx.rng
    b_p = ctx.pick(n_p, (U_PUB,))
    b_m = ctx.pick(n_m, (U_PUB,))
    b_h = ctx.pick(n_h, (U_PUB,))
    b = np.r_[b_p, b_m, b_h]
    level = np.r_[["primary"] * len(b_p), ["middle"] * len(b_m), ["high"] * len(b_h)]
    name = np.r_[ctx.unique_names(len(b_p)) + "小学",
                 _numbered(ctx.city + "市", len(b_m), "中学"),
                 _numbered(ctx.city + "市", len(b_h), "高级中学")]
    pupils = np.r_[rng.integers(600, 2400, len(b_p)), rng.integers(800, 2000, len(b_m)),
                   rng.integers(1000, 3000, len(b_h))]
    return {"school_id": _ids("SCH", len(b), 4), "name": _dedupe(name), "level": level,
            "pupils": pupils.astype(np.int64), "building_id": ctx.building_id[b],
            "geometry": ctx.point(b)}


def _kindergartens(ctx: OverlayContext):
    n = max(3, round(ctx.total_residents / 6000))
    b = ctx.pick(n, (U_RES, U_PUB, U_MIX))
    name = _dedupe(ctx.unique_names(len(b)) + "幼儿园")
    return {"kindergarten_id": _ids("KG", len(b), 4), "name": name,
            "capacity": ctx.rng.integers(150, 450, len(b)).astype(np.int64),
            "building_id": ctx.building_id[b], "geometry": ctx.point(b)}


_GRADES = (("三级甲等", "Tertiary A", 0.12, (800, 3000)), ("三级乙等", "Tertiary B", 0.10, (500, 1000)),
           ("二级甲等", "Secondary A", 0.28, (200, 600)), ("二级乙等", "Secondary B", 0.20, (100, 300)),
           ("一级", "Primary", 0.30, (20, 100)))


def _hospitals(ctx: OverlayContext):
    rng = ctx.rng
    n = max(3, round(ctx.total_residents / 40000))
    b = ctx.pick(n, (U_PUB, U_COM))
    g = rng.choice(len(_GRADES), n, p=[x[2] for x in _GRADES])
    g[0] = 0  # at least one big general hospital
    g = np.sort(g)
    lo = np.array([x[3][0] for x in _GRADES])[g]
    hi = np.array([x[3][1] for x in _GRADES])[g]
    beds = np.round(rng.uniform(lo, hi)).astype(np.int64)
    dist = ctx.admin.dist_name[ctx.admin.comm_district[ctx.community_of(b)]]
    kind = rng.choice(np.array(["人民医院", "中医医院", "中心医院", "妇幼保健院"], dtype=object), n,
                      p=[0.55, 0.2, 0.15, 0.1])
    name = np.where(g <= 1, _numbered(ctx.city + "市", n, "人民医院"),
                    np.where(g <= 3, dist + kind,
                             ctx.unique_names(n) + "社区卫生服务中心"))
    return {"hospital_id": _ids("HOS", n, 4), "name": _dedupe(name),
            "grade": np.array([x[0] for x in _GRADES], dtype=object)[g],
            "grade_en": np.array([x[1] for x in _GRADES], dtype=object)[g],
            "beds": beds, "building_id": ctx.building_id[b], "geometry": ctx.point(b)}


def _clinics(ctx: OverlayContext):
    comms = np.arange(len(ctx.admin.comm_id))
    b = ctx.pick_per_community(comms, (U_RES, U_MIX, U_COM))
    name = _dedupe(ctx.comm_root[ctx.community_of(b)] + "社区卫生服务站")
    return {"clinic_id": _ids("CLI", len(b), 5), "name": name,
            "doctors": ctx.rng.integers(2, 12, len(b)).astype(np.int64),
            "building_id": ctx.building_id[b], "geometry": ctx.point(b)}


def _elderly(ctx: OverlayContext):
    rng = ctx.rng
    n = max(3, round(ctx.total_residents / 15000))
    b = ctx.pick(n, (U_PUB, U_RES, U_MIX))
    kind = rng.random(n)
    brand = _brands(rng, n)
    dist = ctx.admin.dist_name[ctx.admin.comm_district[ctx.community_of(b)]]
    name = np.where(kind < 0.5, ctx.unique_names(n) + "养老服务中心",
                    np.where(kind < 0.85, ctx.city + "市" + brand + "养老院", dist + "社会福利院"))
    beds = np.where(kind < 0.5, rng.integers(20, 80, n), rng.integers(80, 500, n))
    return {"home_id": _ids("EC", n, 4), "name": _dedupe(name), "beds": beds.astype(np.int64),
            "building_id": ctx.building_id[b], "geometry": ctx.point(b)}


def _police(ctx: OverlayContext):
    rng, adm = ctx.rng, ctx.admin
    n = max(4, round(ctx.total_residents / 60000))
    n = min(n, len(adm.comm_id))
    # stations in distinct communities, spread by residents
    keys = np.log(ctx.comm_res + 1.0) + rng.gumbel(size=len(adm.comm_id))
    comms = np.argsort(-keys, kind="stable")[:n]
    b = ctx.pick_per_community(comms, (U_PUB, U_COM))
    comms = ctx.community_of(b)
    n = len(b)
    xy = ctx.bld.s_centre[b]
    station_id = _ids("PS", n, 3)
    name = _dedupe(ctx.comm_root[comms] + "派出所")
    stations = {"station_id": station_id, "name": name,
                "officers": rng.integers(30, 150, n).astype(np.int64),
                "phone": np.full(n, "110", dtype=object), "geometry": shapely.points(xy)}
    # precincts: each community goes to the nearest station (its own if it has one)
    comm_station = cKDTree(xy).query(adm.comm_xy)[1]
    comm_station[comms] = np.arange(n)
    geoms = np.empty(n, dtype=object)
    order = np.argsort(comm_station, kind="stable")
    cs = comm_station[order]
    bounds = np.r_[0, np.flatnonzero(cs[1:] != cs[:-1]) + 1, len(cs)]
    for s, e in zip(bounds[:-1], bounds[1:]):  # one union per station
        geoms[cs[s]] = shapely.coverage_union_all(adm.comm_geom[order[s:e]])
    precincts = {"precinct_id": _ids("PP", n, 3), "name": name + "辖区", "station_id": station_id,
                 "communities": np.bincount(comm_station, minlength=n).astype(np.int64),
                 "geometry": geoms}
    return stations, precincts


def _fire(ctx: OverlayContext):
    n = max(3, round(ctx.area / 7e6))
    b = ctx.pick(n, (U_PUB, U_COM, U_IND), by="area")
    name = _dedupe(ctx.unique_names(len(b)) + "消防救援站")
    return {"station_id": _ids("FS", n, 3), "name": name,
            "engines": ctx.rng.integers(2, 9, n).astype(np.int64),
            "building_id": ctx.building_id[b], "geometry": ctx.point(b)}


def _parks(ctx: OverlayContext):
    bl = ctx.blocks
    sel = np.flatnonzero((bl.zone == GREEN) & (bl.area >= 5000))
    zh, en = N.combo_names(len(sel), N.FIRST_CHARS, N.SECOND_CHARS, ctx.rng)
    riverside = ctx.layout.face_riverside[sel]
    name = np.where(riverside, zh + "江滩公园", zh + "公园")
    geom = shapely.buffer(bl.faces[sel], -5.0, quad_segs=2)
    ok = ~shapely.is_empty(geom)
    return {"park_id": _ids("PK", int(ok.sum()), 4), "name": name[ok],
            "name_en": (en + np.where(riverside, " Riverside Park", " Park"))[ok],
            "kind": np.where(riverside, "riverside", "city")[ok].astype(object),
            "area_m2": np.round(shapely.area(geom[ok])).astype(np.int64),
            "geometry": geom[ok]}


def _shelters(ctx: OverlayContext, parks: dict, schools: dict):
    rng = ctx.rng
    R = ctx.total_residents
    # parks: the largest ones, effective area 60 %, 2 m2 per person
    n_park = max(3, round(R / 20000))
    order = np.argsort(-parks["area_m2"], kind="stable")[:n_park]
    p_cap = np.round(parks["area_m2"][order] * 0.6 / 2.0).astype(np.int64)
    p_geom = shapely.point_on_surface(parks["geometry"][order])
    p_name = parks["name"][order] + "应急避难场所"
    # schools: middle and high schools plus some primary schools (playgrounds)
    lv = schools["level"]
    s_sel = np.flatnonzero((lv != "primary") | (rng.random(len(lv)) < 0.3))
    s_cap = np.round(schools["pupils"][s_sel] * rng.uniform(0.8, 1.5, len(s_sel))).astype(np.int64)
    s_geom = schools["geometry"][s_sel]
    s_name = schools["name"][s_sel] + "应急避难场所"
    # stadiums
    n_st = max(1, round(R / 400000))
    b = ctx.pick(n_st, (U_PUB,), by="area")
    st_cap = rng.integers(5000, 40000, len(b)).astype(np.int64)
    dist = ctx.admin.dist_name[ctx.admin.comm_district[ctx.community_of(b)]]
    st_name = np.where(np.arange(len(b)) == 0, ctx.city + "市体育中心", dist + "体育馆")
    n = len(order) + len(s_sel) + len(b)
    return {"shelter_id": _ids("SH", n, 4),
            "name": _dedupe(np.r_[p_name, s_name, st_name]),
            "capacity": np.r_[p_cap, s_cap, st_cap],
            "kind": np.r_[["park"] * len(order), ["school"] * len(s_sel), ["stadium"] * len(b)]
            .astype(object),
            "geometry": np.r_[p_geom, s_geom, ctx.point(b)]}


def _hazard_and_pollution(ctx: OverlayContext):
    rng = ctx.rng
    ent = ctx.entities
    haz = np.flatnonzero((ent["hazard_class"] == "hazardous_chemicals").to_numpy())
    ind = ent["industry"].to_numpy(object)
    in_ind = ctx.bld.use[ent["building_idx"].to_numpy()] == U_IND
    manuf = pd.Series(ind, dtype="str").str.startswith("C").to_numpy() & in_ind
    src = np.flatnonzero(manuf & (rng.random(len(ent)) < 0.2))
    src = np.union1d(src, haz[np.isin(ind[haz], ["C25", "C26", "C27", "C29", "C31"])])
    pol = np.full(len(src), "VOCs", dtype=object)
    for code, options in N.POLLUTANTS.items():
        sel = np.flatnonzero(ind[src] == code)
        pol[sel] = np.array(options, dtype=object)[rng.integers(len(options), size=len(sel))]
    xy = ent[["x", "y"]].to_numpy()
    pollution = {"source_id": _ids("PS", len(src), 5),
                 "name": ent["name"].to_numpy(object)[src], "pollutant": pol,
                 "uscc": ent["uscc"].to_numpy(object)[src], "industry": ind[src],
                 "emission_t": np.round(np.exp(rng.normal(2.5, 1.2, len(src))), 2),
                 "geometry": shapely.points(xy[src])}
    chems = np.array(["液氯", "液氨", "甲醇", "苯", "硫酸", "盐酸", "液化石油气", "汽油", "环氧乙烷",
                      "氢氟酸"], dtype=object)
    chems_en = np.array(["chlorine", "ammonia", "methanol", "benzene", "sulphuric acid",
                         "hydrochloric acid", "LPG", "petrol", "ethylene oxide",
                         "hydrofluoric acid"], dtype=object)
    c = rng.integers(len(chems), size=len(haz))
    c[:1] = 0  # a chlorine site for the classic leak drill
    sites = {"site_id": _ids("HZ", len(haz), 4), "name": ent["name"].to_numpy(object)[haz],
             "uscc": ent["uscc"].to_numpy(object)[haz], "chemical": chems[c],
             "chemical_en": chems_en[c],
             "max_storage_t": np.round(np.exp(rng.normal(3.5, 1.0, len(haz))), 1),
             "major_hazard_level": rng.choice(np.arange(0, 5), len(haz),
                                              p=[0.55, 0.1, 0.15, 0.1, 0.1]).astype(np.int64),
             "geometry": shapely.points(xy[haz])}
    return pollution, sites


def _side_points(lines, frac, offset):
    """Points at ``frac`` along ``lines``, ``offset`` metres to their left."""
    p = shapely.line_interpolate_point(lines, frac, normalized=True)
    a = shapely.get_coordinates(shapely.get_point(lines, 0))
    b = shapely.get_coordinates(shapely.get_point(lines, -1))
    d = b - a
    d /= np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None]
    return shapely.get_coordinates(p) + offset[:, None] * np.c_[-d[:, 1], d[:, 0]]


def _cross_names(roads, idx, end: int):
    """Name of another road meeting road ``idx`` at its start (0) or end (-1)."""
    pts = shapely.get_point(roads.geometry[idx], end)
    tree = shapely.STRtree(roads.geometry)
    qi, ti = tree.query(pts, predicate="intersects")
    other = roads.name[ti] != roads.name[idx[qi]]
    qi, ti = qi[other], ti[other]
    out = np.full(len(idx), "", dtype=object)
    first = np.r_[True, qi[1:] != qi[:-1]] if len(qi) else np.zeros(0, bool)
    out[qi[first]] = roads.name[ti[first]]
    return out


def _bus_stops(ctx: OverlayContext):
    rng = ctx.rng
    roads = ctx.layout.roads
    length = shapely.length(roads.geometry)
    cand = np.flatnonzero(np.isin(roads.cls, ["primary", "secondary"]) & ~roads.bridge
                          & (length >= 120))
    cand = cand[rng.random(len(cand)) < np.clip(length[cand] / 480.0, 0, 1)]
    side = rng.choice([-1.0, 1.0], len(cand))
    xy = _side_points(roads.geometry[cand], rng.uniform(0.35, 0.65, len(cand)), 14.0 * side)
    cross = _cross_names(roads, cand, -1)
    name = np.where(cross != "", roads.name[cand] + cross + "站", roads.name[cand] + "站")
    n_lines = np.clip(rng.poisson(np.where(roads.cls[cand] == "primary", 4.0, 2.0)) + 1, 1, 9)
    routes = rng.integers(1, 800, size=(len(cand), 9))
    lines = pd.Series(routes[:, 0]).astype("str") + "路"
    for k in range(1, 9):  # route columns, not stops
        more = n_lines > k
        lines = lines.where(~more, lines + ";" + pd.Series(routes[:, k]).astype("str") + "路")
    return {"stop_id": _ids("BS", len(cand), 5), "name": _dedupe(name),
            "lines": lines.to_numpy(object), "n_lines": n_lines.astype(np.int64),
            "geometry": shapely.points(xy)}


def _intersections(roads):
    """Road junctions (3+ pieces) with the classes that meet there."""
    ends = np.r_[shapely.get_coordinates(shapely.get_point(roads.geometry, 0)),
                 shapely.get_coordinates(shapely.get_point(roads.geometry, -1))]
    cls = np.r_[roads.cls, roads.cls]
    uniq, inv, cnt = np.unique(ends, axis=0, return_inverse=True, return_counts=True)
    inv = inv.ravel()
    major = np.bincount(inv, weights=np.isin(cls, ["primary", "secondary"]), minlength=len(uniq))
    return uniq, cnt, major


def _cameras_signals(ctx: OverlayContext):
    rng = ctx.rng
    xy, cnt, major = _intersections(ctx.layout.roads)
    junction = cnt >= 3
    cam = np.flatnonzero(junction & (rng.random(len(xy)) < np.where(major > 0, 0.8, 0.35)))
    kind = np.where(major[cam] > 0, "traffic", "public_security").astype(object)
    off = rng.uniform(-8, 8, (len(cam), 2))
    cameras = {"camera_id": _ids("CAM", len(cam), 6), "kind": kind,
               "geometry": shapely.points(xy[cam] + off)}
    sig = np.flatnonzero(junction & (major >= 2))
    signals = {"signal_id": _ids("TS", len(sig), 5),
               "phases": rng.choice([2, 3, 4], len(sig), p=[0.3, 0.3, 0.4]).astype(np.int64),
               "geometry": shapely.points(xy[sig])}
    return cameras, signals


def _hydrants(ctx: OverlayContext):
    rng = ctx.rng
    roads = ctx.layout.roads
    sel = np.flatnonzero(~roads.bridge & (roads.cls != "residential"))
    length = shapely.length(roads.geometry[sel])
    k = np.floor(length / 120.0).astype(np.int64)
    owner = np.repeat(sel, k)
    frac = (np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k) + 0.5) / np.repeat(
        np.maximum(k, 1), k)
    side = rng.choice([-1.0, 1.0], len(owner))
    xy = _side_points(roads.geometry[owner], frac, 9.0 * side)
    return {"hydrant_id": _ids("FH", len(owner), 6),
            "kind": rng.choice(np.array(["underground", "above_ground"], dtype=object), len(owner),
                               p=[0.4, 0.6]),
            "geometry": shapely.points(xy)}


def _gas_stations(ctx: OverlayContext):
    rng = ctx.rng
    roads = ctx.layout.roads
    n = max(3, round(ctx.area / 4e6))
    cand = np.flatnonzero((roads.cls == "primary") & ~roads.bridge
                          & (shapely.length(roads.geometry) > 150))
    pick = cand[rng.choice(len(cand), min(n, len(cand)), replace=False)]
    xy = _side_points(roads.geometry[pick], rng.uniform(0.3, 0.7, len(pick)),
                      30.0 * rng.choice([-1.0, 1.0], len(pick)))
    brand = rng.choice(np.array(["中石化", "中石油", "民营"], dtype=object), len(pick),
                       p=[0.45, 0.4, 0.15])
    name = np.where(brand == "民营", ctx.city + roads.name[pick] + "加油站",
                    brand + ctx.city + roads.name[pick] + "加油站")
    return {"station_id": _ids("GS", len(pick), 4), "name": _dedupe(name),
            "tanks_m3": rng.choice([60, 90, 120, 150], len(pick)).astype(np.int64),
            "geometry": shapely.points(xy)}


def _metro(ctx: OverlayContext):
    lay = ctx.layout
    roads = lay.roads
    W, H = lay.width, lay.height
    n_lines = int(np.clip(round(np.sqrt(W * H) / 6000) + 1, 1, 8))
    prim_keys = np.unique(roads.key[roads.cls == "primary"])
    prim_keys = prim_keys[prim_keys < roads.n_grid_keys]
    kl = roads.key_lines[prim_keys]
    inner = shapely.box(-0.42 * W, -0.42 * H, 0.42 * W, 0.42 * H)
    a = shapely.get_coordinates(shapely.get_point(kl, 0))
    b = shapely.get_coordinates(shapely.get_point(kl, -1))
    vertical = np.abs(b[:, 1] - a[:, 1]) > np.abs(b[:, 0] - a[:, 0])
    dist = shapely.distance(kl, shapely.Point(0, 0))
    chosen = []
    for v in (True, False):
        cand = np.flatnonzero(vertical == v)
        cand = cand[np.argsort(dist[cand], kind="stable")]
        picked = []
        for i in cand:  # a few dozen arterials at most
            if all(shapely.distance(kl[i], kl[j]) > 2500 for j in picked):
                picked.append(i)
        chosen.append(picked)
    order = [x for pair in zip(chosen[0], chosen[1]) for x in pair]
    order += chosen[0][len(chosen[1]):] + chosen[1][len(chosen[0]):]
    sel = order[:n_lines]
    geoms = shapely.intersection(kl[sel], inner)
    geoms = np.array([shapely.get_parts(g)[np.argmax(shapely.length(shapely.get_parts(g)))]
                      for g in geoms], dtype=object)
    colours = np.array(["#E4002B", "#F0A500", "#00A3E0", "#7A2182", "#009A44", "#E56DB1",
                        "#8E5D2A", "#4C5FA9"], dtype=object)
    k = len(sel)
    lines = {"line_id": np.array([f"M{i + 1}" for i in range(k)], dtype=object),
             "name": np.array([f"{i + 1}号线" for i in range(k)], dtype=object),
             "name_en": np.array([f"Line {i + 1}" for i in range(k)], dtype=object),
             "colour": colours[:k], "geometry": geoms}
    # stations every ~1.1 km, named after the nearest cross street
    L = shapely.length(geoms)
    m = np.maximum(2, np.round(L / 1100).astype(np.int64) + 1)
    owner = np.repeat(np.arange(k), m)
    frac = (np.arange(m.sum()) - np.repeat(np.cumsum(m) - m, m)) / np.repeat(m - 1, m)
    pts = shapely.line_interpolate_point(geoms[owner], frac, normalized=True)
    tree = shapely.STRtree(roads.geometry)
    qi, ti = tree.query(pts, predicate="dwithin", distance=250)
    line_road = np.array([roads.name[roads.key == prim_keys[s]][0] for s in sel], dtype=object)
    ok = roads.name[ti] != line_road[owner[qi]]
    d = shapely.distance(pts[qi], roads.geometry[ti])
    d = np.where(ok, d, np.inf)
    best = np.full(len(pts), -1)
    o = np.lexsort((d, qi))
    qs = qi[o]
    first = o[np.r_[True, qs[1:] != qs[:-1]]] if len(o) else o
    good = np.isfinite(d[first])
    best[qi[first][good]] = ti[first][good]
    name = np.where(best >= 0, roads.name[np.maximum(best, 0)], line_road[owner])
    name = _dedupe(name + "站")
    stations = {"station_id": _ids("MS", len(pts), 4), "name": name,
                "line_id": lines["line_id"][owner], "geometry": pts}
    return lines, stations


def _renewal(ctx: OverlayContext):
    rng = ctx.rng
    bl, bld = ctx.blocks, ctx.bld
    nf = len(bl.faces)
    cnt = np.bincount(bld.face, minlength=nf)
    old = np.bincount(bld.face, weights=(bld.year < 1995), minlength=nf)
    sel = np.flatnonzero((cnt >= 8) & (old / np.maximum(cnt, 1) > 0.6))
    sel = sel[rng.random(len(sel)) < 0.5]
    geom = shapely.buffer(bl.faces[sel], -5.0, quad_segs=2)
    ok = ~shapely.is_empty(geom)
    sel, geom = sel[ok], geom[ok]
    return {"renewal_id": _ids("UR", len(sel), 4),
            "name": _dedupe(ctx.unique_names(len(sel)) + "片区城市更新单元"),
            "status": rng.choice(np.array(["planned", "approved", "under_construction"],
                                          dtype=object), len(sel), p=[0.5, 0.3, 0.2]),
            "plan_year": rng.integers(2024, 2031, len(sel)).astype(np.int64),
            "buildings": cnt[sel].astype(np.int64), "geometry": geom}


def _pumping(ctx: OverlayContext):
    """Drainage pumping stations every ~2 km along the embankment roads."""
    rng = ctx.rng
    roads = ctx.layout.roads
    keys = np.unique(roads.key)
    emb_lines = roads.key_lines[keys[keys >= roads.n_grid_keys]]
    L = shapely.length(emb_lines)
    m = np.maximum(1, (L // 2000).astype(np.int64))
    owner = np.repeat(np.arange(len(emb_lines)), m)
    frac = (np.arange(m.sum()) - np.repeat(np.cumsum(m) - m, m) + 0.5) / np.repeat(m, m)
    pts = shapely.line_interpolate_point(emb_lines[owner], frac, normalized=True)
    n = len(pts)
    return {"station_id": _ids("PU", n, 3), "name": ctx.unique_names(n) + "泵站",
            "capacity_m3s": np.round(rng.uniform(5, 60, n), 1), "geometry": pts}


def _simple_points(ctx: OverlayContext, prefix, id_col, n, uses, suffix, extra, by="residents"):
    b = ctx.pick(n, uses, by=by)
    name = _dedupe(ctx.unique_names(len(b)) + suffix)
    out = {id_col: _ids(prefix, len(b), 4), "name": name}
    out.update({k: f(len(b)) for k, f in extra.items()})
    out["building_id"] = ctx.building_id[b]
    out["geometry"] = ctx.point(b)
    return out


def _land_use(ctx: OverlayContext):
    bl = ctx.blocks
    geom = shapely.buffer(bl.faces, -5.0, quad_segs=2)
    ok = ~shapely.is_empty(geom) & (shapely.area(geom) > 50)
    idx = np.flatnonzero(ok)
    zone = np.array(ZONES, dtype=object)[bl.zone[idx]]
    code = pd.Series(zone).map({k: v[0] for k, v in LAND_USE_CODES.items()}).to_numpy(object)
    zh = pd.Series(zone).map({k: v[1] for k, v in LAND_USE_CODES.items()}).to_numpy(object)
    return {"zone_id": _ids("LU", len(idx), 6), "zone": zone, "block_id": _ids("BLK", len(bl.faces),
                                                                              6)[idx],
            "code": code, "zone_zh": zh, "geometry": geom[idx]}


# --------------------------------------------------------------------------- raster
def make_flood_raster(rng, layout: Layout):
    """Flood depth (m, float32) decreasing away from the rivers, with low-lying ponds.

    Returns ``(array, transform_local, pixel)``; the transform is in local metres.
    """
    W, H = layout.width, layout.height
    area = W * H
    px = float(np.clip(5 * round(max(W, H) / 400 / 5), 20, 50))
    ncol = int(np.ceil(W / px))
    nrow = int(np.ceil(H / px))
    x0, y1 = -W / 2, -H / 2 + nrow * px
    transform = Affine(px, 0.0, x0, 0.0, -px, y1)
    river = features.rasterize([layout.river], out_shape=(nrow, ncol), transform=transform,
                               fill=0, default_value=1, dtype="uint8").astype(bool)
    dist = ndimage.distance_transform_edt(~river) * px
    L = float(np.clip(0.025 * np.sqrt(area), 150.0, 1200.0))
    noise = ndimage.gaussian_filter(rng.standard_normal((nrow, ncol)), sigma=max(2.0, 400 / px))
    noise /= noise.std() or 1.0
    depth = 2.8 * np.exp(-dist / L) + 0.3 * noise - 0.5
    # low-lying basins (waterlogging)
    n_b = int(np.clip(round(area / 20e6), 1, 60))
    bx = rng.uniform(-0.45 * W, 0.45 * W, n_b)
    by = rng.uniform(-0.45 * H, 0.45 * H, n_b)
    bs = rng.uniform(200, 700, n_b) * np.clip(np.sqrt(area) / 8000, 0.6, 1.6)
    bd = rng.uniform(0.7, 1.6, n_b)
    yy = y1 - (np.arange(nrow) + 0.5) * px
    xx = x0 + (np.arange(ncol) + 0.5) * px
    for i in range(n_b):  # a few dozen basins
        gx = np.exp(-((xx - bx[i]) ** 2) / (2 * bs[i] ** 2))
        gy = np.exp(-((yy - by[i]) ** 2) / (2 * bs[i] ** 2))
        depth += bd[i] * np.outer(gy, gx)
    depth = np.where(river, np.maximum(depth, 4.0 + 0.5 * noise), depth)
    depth = np.where(depth < 0.05, 0.0, np.round(depth, 2)).astype(np.float32)
    # outside the city box: nodata
    inside_x = xx < W / 2
    inside_y = yy > -H / 2
    out = ~(inside_y[:, None] & inside_x[None, :])
    depth[out] = -9999.0
    return depth, transform, px


def flood_zones(depth, transform, layout: Layout, px: float):
    """Polygons of flood depth classes 1-3 (river channel excluded)."""
    cls = np.zeros(depth.shape, np.uint8)
    for c, lo, hi in FLOOD_CLASSES:
        sel = depth >= lo
        if hi is not None:
            sel &= depth < hi
        cls[sel] = c
    cls = features.sieve(cls, size=6)
    geoms, classes = [], []
    for geom, value in features.shapes(cls, mask=cls > 0, transform=transform):
        geoms.append(shapely.geometry.shape(geom))  # one per zone polygon, not per building
        classes.append(int(value))
    geoms = np.array(geoms, dtype=object)
    classes = np.array(classes, dtype=np.int64)
    geoms = shapely.simplify(geoms, px * 0.5)
    geoms = shapely.difference(geoms, layout.river)
    geoms = shapely.intersection(geoms, layout.box)
    parts, idx = shapely.get_parts(geoms, return_index=True)
    keep = shapely.area(parts) >= 4 * px * px
    parts, idx = parts[keep], idx[keep]
    c = classes[idx]
    order = np.argsort(c, kind="stable")
    parts, c = parts[order], c[order]
    valid = depth[depth != -9999.0]
    dmax = float(np.ceil(valid.max())) if valid.size else 3.0
    lo = np.array([x[1] for x in FLOOD_CLASSES])[c - 1]
    hi = np.array([x[2] if x[2] is not None else dmax for x in FLOOD_CLASSES])[c - 1]
    return {"zone_id": _ids("FZ", len(parts), 5), "depth_class": c, "depth_min_m": lo,
            "depth_max_m": hi, "geometry": parts}


# --------------------------------------------------------------------------- all
def make_overlays(ctx: OverlayContext, depth, transform, px) -> dict[str, dict]:
    """Every department overlay, by layer name (columns + local geometry)."""
    lay, adm, rng = ctx.layout, ctx.admin, ctx.rng
    out: dict[str, dict] = {}
    out["districts"] = {"district_id": adm.dist_code, "name": adm.dist_name,
                        "name_en": adm.dist_name_en, "geometry": adm.dist_geom}
    out["subdistricts"] = {"subdistrict_id": adm.street_code, "name": adm.street_name,
                           "name_en": adm.street_name_en,
                           "district_id": adm.dist_code[adm.street_district],
                           "geometry": adm.street_geom}
    out["land_use"] = _land_use(ctx)
    rivers = lay.rivers
    rg = [shapely.intersection(rivers[0].polygon, lay.box)]
    for r in rivers[1:]:
        rg.append(shapely.intersection(shapely.difference(r.polygon, rivers[0].polygon), lay.box))
    out["river"] = {"river_id": _ids("RV", len(rivers), 2),
                    "name": np.array([r.name for r in rivers], dtype=object),
                    "name_en": np.array([r.name_en for r in rivers], dtype=object),
                    "width_m": np.array([round(r.width) for r in rivers], dtype=np.int64),
                    "geometry": np.array(rg, dtype=object)}
    out["flood_zones"] = flood_zones(depth, transform, lay, px)
    out["schools"] = _schools(ctx)
    out["kindergartens"] = _kindergartens(ctx)
    out["hospitals"] = _hospitals(ctx)
    out["clinics"] = _clinics(ctx)
    out["elderly_care"] = _elderly(ctx)
    out["police_stations"], out["police_precincts"] = _police(ctx)
    out["fire_stations"] = _fire(ctx)
    out["parks"] = _parks(ctx)
    out["shelters"] = _shelters(ctx, out["parks"], out["schools"])
    out["pollution_sources"], out["hazardous_sites"] = _hazard_and_pollution(ctx)
    out["bus_stops"] = _bus_stops(ctx)
    out["metro_lines"], out["metro_stations"] = _metro(ctx)
    out["cameras"], out["traffic_signals"] = _cameras_signals(ctx)
    out["fire_hydrants"] = _hydrants(ctx)
    out["gas_stations"] = _gas_stations(ctx)
    out["renewal_zones"] = _renewal(ctx)
    out["pumping_stations"] = _pumping(ctx)
    R = ctx.total_residents
    out["emergency_depots"] = _simple_points(
        ctx, "ED", "depot_id", max(2, len(adm.dist_code)), (U_IND, U_PUB), "应急物资储备库",
        {"tents": lambda n: rng.integers(200, 3000, n).astype(np.int64)}, by="area")
    out["markets"] = _simple_points(
        ctx, "MK", "market_id", max(3, round(R / 25000)), (U_COM, U_MIX), "农贸市场",
        {"stalls": lambda n: rng.integers(40, 400, n).astype(np.int64)})
    out["air_quality_stations"] = _simple_points(
        ctx, "AQ", "station_id", max(2, round(ctx.area / 40e6)), (U_PUB,), "空气质量监测站",
        {"level": lambda n: rng.choice(np.array(["national", "provincial", "municipal"],
                                                dtype=object), n, p=[0.3, 0.3, 0.4])},
        by="area")
    out["rain_gauges"] = _simple_points(
        ctx, "RG", "gauge_id", max(3, round(ctx.area / 10e6)), (U_PUB, U_COM, U_RES), "雨量站",
        {"elevation_m": lambda n: np.round(rng.uniform(18, 35, n), 1)}, by="area")
    return out
