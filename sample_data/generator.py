"""Synthetic sample cities: a believable, fictional Chinese city of any size.

:func:`generate_city` builds every framework layer (buildings, population,
legal entities, communities, roads), about thirty department overlays and a
flood-depth raster, deterministically from a seed; :func:`write_city` saves
them as a CityFrame workspace (one GeoPackage, the raster as a GeoTIFF beside
it).  The city sits near lon 114.3, lat 30.6 in EPSG:4547 (CGCS2000 /
3-degree Gauss-Kruger CM 114E) and covers about 1,500 m² per building.

Command line::

    python -m sample_data.generator --buildings 50000 --seed 2 --out district.gpkg

Everything is vectorised with numpy and shapely 2; the only Python loops run
over a few dozen grid lines, districts or zone centres, so a 1,000,000-building
city takes about a minute.

Examples
--------
>>> city = generate_city(2000, seed=3)
>>> len(city.layers["buildings"])
2000
>>> city.crs
'EPSG:4547'
>>> sorted(city.rasters)
['flood_depth']
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from rasterio.transform import Affine

from layers.metadata import LayerMetadata
from spatial.errors import Canceled, CityFrameError
from spatial.feedback import Feedback, ensure_feedback
from spatial.schema import BUILDING_USES

from . import _framework as F
from ._layout import build_layout
from ._overlays import OverlayContext, make_flood_raster, make_overlays

__all__ = ["SampleCity", "generate_city", "write_city", "build_sample", "main", "LAYER_INFO",
           "CRS", "UPDATED", "CENTRE_LONLAT", "M2_PER_BUILDING"]

CRS = "EPSG:4547"
UPDATED = "2024-06-30"  # fixed, so the same seed always gives the same data
CENTRE_LONLAT = (114.3, 30.6)
M2_PER_BUILDING = 1500.0
ASPECT = 1.3  # width / height of the city box
MIN_BUILDINGS = 100
MAX_BUILDINGS = 5_000_000

# layer name: (department, title_en, title_zh, classification, visible by default)
# in drawing order, top first
LAYER_INFO: dict[str, tuple[str, str, str, str, bool]] = {
    "metro_stations": ("transport", "Metro stations", "地铁站点", "public", True),
    "bus_stops": ("transport", "Bus stops", "公交站点", "public", False),
    "schools": ("education", "Schools", "中小学校", "public", True),
    "kindergartens": ("education", "Kindergartens", "幼儿园", "public", False),
    "hospitals": ("health", "Hospitals", "医院", "public", True),
    "clinics": ("health", "Community health stations", "社区卫生服务站", "public", False),
    "elderly_care": ("civil_affairs", "Elderly care homes", "养老机构", "public", False),
    "police_stations": ("police", "Police stations", "派出所", "internal", False),
    "fire_stations": ("fire", "Fire stations", "消防救援站", "public", False),
    "shelters": ("emergency", "Emergency shelters", "应急避难场所", "public", True),
    "hazardous_sites": ("emergency", "Hazardous chemical sites", "危险化学品单位", "internal", True),
    "pollution_sources": ("environment", "Pollution sources", "重点污染源", "public", False),
    "legal_entities": ("framework", "Legal entities", "法人单位", "internal", False),
    "gas_stations": ("emergency", "Filling stations", "加油站", "public", False),
    "markets": ("market", "Wet markets", "农贸市场", "public", False),
    "emergency_depots": ("emergency", "Emergency supply depots", "应急物资储备库", "public", False),
    "pumping_stations": ("water", "Drainage pumping stations", "排涝泵站", "public", False),
    "air_quality_stations": ("environment", "Air quality stations", "空气质量监测站", "public",
                             False),
    "rain_gauges": ("water", "Rain gauges", "雨量站", "public", False),
    "cameras": ("police", "Surveillance cameras", "视频监控点", "internal", False),
    "traffic_signals": ("transport", "Traffic signals", "交通信号灯", "public", False),
    "fire_hydrants": ("fire", "Fire hydrants", "消火栓", "public", False),
    "metro_lines": ("transport", "Metro lines", "地铁线路", "public", True),
    "roads": ("framework", "Roads", "道路", "public", True),
    "buildings": ("framework", "Buildings", "建筑物", "public", True),
    "communities": ("framework", "Communities", "社区", "public", False),
    "subdistricts": ("civil_affairs", "Subdistricts", "街道", "public", False),
    "police_precincts": ("police", "Police precincts", "派出所辖区", "internal", False),
    "districts": ("planning", "Districts", "行政区", "public", False),
    "renewal_zones": ("planning", "Urban renewal units", "城市更新单元", "public", False),
    "parks": ("planning", "Parks", "公园", "public", True),
    "flood_zones": ("water", "Flood risk zones", "洪涝风险区", "public", False),
    "river": ("water", "Rivers", "河流水系", "public", True),
    "land_use": ("planning", "Land use", "用地规划", "public", False),
    "flood_depth": ("water", "Flood depth (1-in-100-year)", "洪水淹没水深(百年一遇)", "public",
                    False),
    "population": ("framework", "Population by building", "分栋人口", "restricted", True),
}


@dataclass
class SampleCity:
    """A generated city: frames by layer name, their metadata and rasters.

    Attributes
    ----------
    layers : dict[str, GeoDataFrame | DataFrame]
        Framework layers and department overlays (``population`` is a table).
    metadata : dict[str, LayerMetadata]
        One entry per layer and per raster.
    rasters : dict[str, tuple]
        ``name -> (array float32, affine transform, crs, nodata)``.
    """

    name_en: str
    name_zh: str
    seed: int
    n_buildings: int
    crs: str
    centre: tuple[float, float]
    extent: tuple[float, float, float, float]
    layers: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    rasters: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """Feature counts per layer, residents and raster sizes."""
        out = {name: len(frame) for name, frame in self.layers.items()}
        out["residents"] = int(self.layers["population"]["residents"].sum())
        for name, (arr, *_rest) in self.rasters.items():
            out[name] = f"{arr.shape[1]}x{arr.shape[0]} px"
        return out


class _SubFeedback(Feedback):
    """Maps 0-100 % of a sub-task onto [start, end] % of a parent feedback."""

    def __init__(self, parent: Feedback, start: float, end: float) -> None:
        super().__init__()
        self._parent, self._start, self._end = parent, start, end

    def set_progress(self, percent: float) -> None:
        super().set_progress(percent)
        self._parent.set_progress(self._start + (self._end - self._start) * self.progress / 100)

    def push_info(self, message: str) -> None:
        super().push_info(message)
        self._parent.push_info(message)

    def is_canceled(self) -> bool:
        return self._parent.is_canceled() or super().is_canceled()

    def check(self) -> None:
        self._parent.check()
        super().check()


# --------------------------------------------------------------------------- helpers
def _column(values) -> pd.Series | np.ndarray:
    """Text as pandas ``str`` dtype (never object), numbers as int64/float64."""
    arr = np.asarray(values)
    if arr.dtype.kind in "OUS":
        return pd.Series(arr, dtype="str")
    if arr.dtype.kind == "b":
        return arr
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    return arr.astype(np.float64)


def _shift(geoms, offset) -> np.ndarray:
    off = np.asarray(offset, float)
    return shapely.transform(np.asarray(geoms, dtype=object), lambda c: c + off)


def _table(columns: dict) -> pd.DataFrame:
    return pd.DataFrame({k: _column(v) for k, v in columns.items()})


def _gdf(columns: dict, offset) -> gpd.GeoDataFrame:
    cols = dict(columns)
    geom = _shift(cols.pop("geometry"), offset)
    return gpd.GeoDataFrame(_table(cols), geometry=gpd.GeoSeries(geom, crs=CRS), crs=CRS)


def _centre_xy() -> tuple[float, float]:
    t = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    x, y = t.transform(*CENTRE_LONLAT)
    return round(x, 0), round(y, 0)


def _check_args(n_buildings, seed) -> tuple[int, int]:
    if isinstance(n_buildings, bool) or not isinstance(n_buildings, (int, np.integer)):
        raise TypeError(f"n_buildings must be an integer, got {type(n_buildings).__name__}")
    if not MIN_BUILDINGS <= n_buildings <= MAX_BUILDINGS:
        raise ValueError(f"n_buildings must be between {MIN_BUILDINGS} and {MAX_BUILDINGS}, "
                         f"got {n_buildings}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(n_buildings), int(seed)


# --------------------------------------------------------------------------- generate
def generate_city(n_buildings: int, seed: int = 1, *, name_en: str = "Jiangcheng",
                  name_zh: str = "江城", city_zh: str | None = None,
                  feedback: Feedback | None = None) -> SampleCity:
    """Generate a synthetic city with ``n_buildings`` buildings, deterministically.

    Parameters
    ----------
    n_buildings : int
        Exact number of buildings (500 to 5,000,000); the city covers about
        1,500 m² per building.
    seed : int
        Same seed, same city (to the last coordinate and name).
    name_en, name_zh : str
        The sample's name (layer titles, workspace log).
    city_zh : str, optional
        The city's own short Chinese name that prefixes school, hospital and
        company names (``江城`` gives 江城市第一中学); defaults to ``name_zh``.
    feedback : spatial.feedback.Feedback, optional
        Progress, info messages and cancellation (raises
        :class:`~spatial.errors.Canceled`).

    Returns
    -------
    SampleCity
    """
    n, seed = _check_args(n_buildings, seed)
    fb = ensure_feedback(feedback)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)]
    area = M2_PER_BUILDING * n
    W = float(np.sqrt(area * ASPECT))
    H = area / W
    cx, cy = _centre_xy()
    off = (cx, cy)
    city_zh = (city_zh or name_zh).removesuffix("市")

    def stage(pct, msg):
        fb.check()
        fb.set_progress(pct)
        fb.push_info(msg)

    stage(0, f"laying out {name_en} ({W / 1000:.1f} x {H / 1000:.1f} km): river and roads")
    layout = build_layout(streams[0], W, H, fb)
    stage(12, "zoning blocks and placing buildings")
    blocks = F.assign_blocks(streams[1], layout)
    bld = F.make_buildings(streams[1], layout, blocks, n, fb)
    stage(40, "communities, subdistricts and districts")
    admin = F.make_admin(streams[2], layout, blocks, bld, n, city_zh)
    stage(48, "addresses, population and legal entities")
    address = F.make_addresses(layout, bld)
    width = max(7, len(str(n)))
    building_id = ("B" + pd.Series(np.arange(1, n + 1)).astype("str").str.zfill(width)) \
        .to_numpy(object)
    pop = F.make_population(streams[3], bld)
    residents = np.zeros(n, np.int64)
    residents[pop["building_idx"].to_numpy()] = pop["residents"].to_numpy()
    ent = F.make_entities(streams[3], bld, admin, city_zh, n)
    stage(62, "flood-depth raster")
    depth, tr_local, px = make_flood_raster(streams[5], layout)
    stage(68, "department overlays")
    ctx = OverlayContext(streams[4], layout, blocks, bld, admin, building_id, residents, ent,
                         city_zh)
    overlays = make_overlays(ctx, depth, tr_local, px)
    stage(85, "assembling layers")

    layers: dict[str, pd.DataFrame] = {}
    comm_dist = admin.comm_district
    layers["buildings"] = _gdf({
        "building_id": building_id,
        "use": np.array(BUILDING_USES, dtype=object)[bld.use],
        "floors": bld.floors,
        "height_m": bld.height,
        "year_built": bld.year,
        "address": address,
        "community_id": admin.comm_id[admin.bld_comm],
        "geometry": bld.geometry,
    }, off)
    layers["population"] = _table({
        "building_id": building_id[pop["building_idx"].to_numpy()],
        "residents": pop["residents"].to_numpy(),
        "age_0_14": pop["age_0_14"].to_numpy(),
        "age_15_64": pop["age_15_64"].to_numpy(),
        "age_65_plus": pop["age_65_plus"].to_numpy(),
    })
    layers["legal_entities"] = _gdf({
        "uscc": ent["uscc"].to_numpy(object),
        "name": ent["name"].to_numpy(object),
        "industry": ent["industry"].to_numpy(object),
        "employees": ent["employees"].to_numpy(),
        "building_id": building_id[ent["building_idx"].to_numpy()],
        "hazard_class": ent["hazard_class"].to_numpy(object),
        "founded": ent["founded"].to_numpy(),
        "geometry": shapely.points(ent[["x", "y"]].to_numpy()),
    }, off)
    layers["communities"] = _gdf({
        "community_id": admin.comm_id,
        "name": admin.comm_name,
        "name_en": admin.comm_name_en,
        "district": admin.dist_name[comm_dist],
        "district_id": admin.dist_code[comm_dist],
        "subdistrict": admin.street_name[admin.comm_street],
        "geometry": admin.comm_geom,
    }, off)
    roads = layout.roads
    layers["roads"] = _gdf({
        "road_id": ("R" + pd.Series(np.arange(1, len(roads.geometry) + 1)).astype("str")
                    .str.zfill(6)).to_numpy(object),
        "name": roads.name,
        "name_en": roads.name_en,
        "class": roads.cls,
        "bridge": roads.bridge.astype(bool),
        "geometry": roads.geometry,
    }, off)
    for name, cols in overlays.items():
        layers[name] = _gdf(cols, off)

    source = f"CityFrame synthetic sample (seed {seed})"
    metadata = {}
    for name in list(layers) + ["flood_depth"]:
        dept, en, zh, cls, _visible = LAYER_INFO[name]
        metadata[name] = LayerMetadata(
            department=dept, title_en=en, title_zh=zh,
            classification=cls, source=source, updated=UPDATED, crs=CRS,
            extra={"sample_city": name_en, "seed": seed},
        )
    tr = Affine.translation(cx, cy) @ tr_local
    rasters = {"flood_depth": (depth, tr, CRS, -9999.0)}
    ordered = {k: layers[k] for k in LAYER_INFO if k in layers}
    city = SampleCity(name_en=name_en, name_zh=name_zh, seed=seed, n_buildings=n, crs=CRS,
                      centre=(cx, cy), extent=(cx - W / 2, cy - H / 2, cx + W / 2, cy + H / 2),
                      layers=ordered, metadata=metadata, rasters=rasters)
    stage(100, f"generated {n} buildings, {len(ent)} legal entities, "
               f"{int(pop['residents'].sum())} residents, {len(ordered)} layers")
    return city


# --------------------------------------------------------------------------- write
def _write_tif(path: Path, arr, transform, crs, nodata) -> None:
    import rasterio

    profile = dict(driver="GTiff", height=arr.shape[0], width=arr.shape[1], count=1,
                   dtype="float32", crs=crs, transform=transform, nodata=nodata,
                   compress="deflate", predictor=3)
    if min(arr.shape) >= 512:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(arr.astype(np.float32), 1)
        dst.update_tags(source="CityFrame synthetic sample", units="m")


def _queries_and_scenarios(city: SampleCity, raster_rel: str) -> tuple[dict, dict]:
    """Example saved queries and drill scenarios for trainers."""
    queries = {
        "schools_near_hazards": {
            "version": 1,
            "title": {"en": "Schools near hazardous-chemical enterprises", "zh": "危化企业周边学校"},
            "target": "schools",
            "where": [{"column": "level", "op": "in", "value": ["primary", "middle"]}],
            "relation": {"kind": "within_distance", "distance_m": 1000, "layer": "legal_entities",
                         "where": [{"column": "hazard_class", "op": "=",
                                    "value": "hazardous_chemicals"}]},
            "group_by": {"layer": "communities", "key": "community_id"},
            "aggregate": [{"fn": "count", "as": "schools"},
                          {"fn": "sum", "column": "pupils", "as": "pupils"}],
        },
        "flooded_buildings_by_community": {
            "version": 1,
            "title": {"en": "Buildings in deep flood zones by community",
                      "zh": "深水区建筑(按社区)"},
            "target": "buildings",
            "relation": {"kind": "intersects", "layer": "flood_zones",
                         "where": [{"column": "depth_class", "op": ">=", "value": 2}]},
            "group_by": {"layer": "communities", "key": "community_id"},
            "aggregate": [{"fn": "count", "as": "buildings"},
                          {"fn": "sum", "column": "residents", "as": "residents"}],
        },
    }
    sites = city.layers["hazardous_sites"]
    scenarios = {}
    chlorine = sites[sites["chemical"] == "液氯"]
    if len(chlorine):
        p = chlorine.geometry.iloc[0]
        # The wind blows from the plant towards the city centre (to the nearest of the eight
        # compass points), so the trainers' plume crosses the town instead of leaving it.
        cx, cy = city.layers["buildings"].geometry.union_all().envelope.centroid.coords[0]
        toward = math.degrees(math.atan2(cx - p.x, cy - p.y)) % 360
        wind_from = int(round(((toward + 180) % 360) / 45) * 45) % 360
        scenarios["chlorine_leak"] = {
            "version": 1,
            "title": {"en": "Chlorine leak drill", "zh": "氯气泄漏演练"},
            "hazard": {"kind": "plume", "point": [round(p.x, 1), round(p.y, 1)], "crs": CRS,
                       "wind_from_deg": wind_from, "length_m": 3000, "spread_deg": 30,
                       "rings_m": [500, 1000]},
            "shelters": {"layer": "shelters", "capacity": "capacity"},
        }
    scenarios["flood_zones"] = {
        "version": 1,
        "title": {"en": "Flood zones by depth class", "zh": "洪水淹没区(按水深等级)"},
        "hazard": {"kind": "zones", "layer": "flood_zones", "class_column": "depth_class"},
        "shelters": {"layer": "shelters", "capacity": "capacity"},
    }
    scenarios["river_flood"] = {
        "version": 1,
        "title": {"en": "River flood drill (depth >= 0.3 m)", "zh": "江河洪水演练(水深≥0.3米)"},
        "hazard": {"kind": "raster", "path": raster_rel, "threshold": 0.3},
        "shelters": {"layer": "shelters", "capacity": "capacity"},
    }
    return queries, scenarios


def write_city(city: SampleCity, out_path, feedback: Feedback | None = None) -> Path:
    """Save ``city`` as a workspace GeoPackage (rasters as ``<stem>_<name>.tif`` beside it).

    The write is all-or-nothing: on any error no new file is left behind and an
    earlier GeoTIFF of the same name is restored.

    Returns
    -------
    pathlib.Path
        The absolute path of the workspace file.
    """
    from layers.raster import RasterLayer
    from layers.table import TableLayer
    from layers.vector import VectorLayer
    from layers.workspace import Workspace

    fb = ensure_feedback(feedback)
    out = Path(out_path).absolute()
    if out.suffix.lower() != ".gpkg":
        raise ValueError(f"the output file name must end in .gpkg: {out}")
    if not out.parent.is_dir():
        raise FileNotFoundError(f"folder {out.parent} does not exist (for {out.name})")
    tifs = {name: out.with_name(f"{out.stem}_{name}.tif") for name in city.rasters}
    backups: dict[Path, Path] = {}
    written: list[Path] = []
    try:
        fb.set_progress(0)
        for name, (arr, transform, crs, nodata) in city.rasters.items():
            fb.check()
            path = tifs[name]
            if path.exists():
                bak = path.with_name(f".{path.name}.{secrets.token_hex(4)}.bak")
                os.replace(path, bak)
                backups[path] = bak
            written.append(path)
            _write_tif(path, arr, transform, crs, nodata)
        fb.set_progress(5)
        ws = Workspace()
        for name in reversed(list(LAYER_INFO)):  # bottom first: index 0 is drawn on top
            meta = city.metadata.get(name)
            visible = LAYER_INFO[name][4]
            if name in city.rasters:
                ws.add_layer(RasterLayer(name, tifs[name], meta, visible=visible))
            elif name in city.layers:
                frame = city.layers[name]
                if isinstance(frame, gpd.GeoDataFrame):
                    ws.add_layer(VectorLayer(name, frame, meta, visible=visible))
                else:
                    ws.add_layer(TableLayer(name, frame, meta))
        for name, frame in city.layers.items():  # any extra layer, on top
            if name not in LAYER_INFO:
                meta = city.metadata.get(name)
                layer = (VectorLayer(name, frame, meta) if isinstance(frame, gpd.GeoDataFrame)
                         else TableLayer(name, frame, meta))
                ws.add_layer(layer)
        rel = tifs["flood_depth"].name if "flood_depth" in tifs else ""
        queries, scenarios = _queries_and_scenarios(city, rel)
        ws.saved_queries.update(queries)
        ws.scenarios.update(scenarios)
        ws.log("sample_generated", {"city": city.name_en, "seed": city.seed,
                                    "buildings": city.n_buildings})
        ws.save_as(out, feedback=_SubFeedback(fb, 5, 100))
        ws.close()
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        for path, bak in backups.items():
            os.replace(bak, path)
        raise
    for bak in backups.values():
        bak.unlink(missing_ok=True)
    fb.set_progress(100)
    return out


def build_sample(n_buildings: int, seed: int, out, feedback: Feedback | None = None, *,
                 name_en: str = "Jiangcheng", name_zh: str = "江城",
                 city_zh: str | None = None) -> SampleCity:
    """Generate a city and write it to ``out`` (a ``.gpkg``); returns the city."""
    fb = ensure_feedback(feedback)
    out = Path(out)
    if out.suffix.lower() != ".gpkg":
        raise ValueError(f"the output file name must end in .gpkg: {out}")
    if not out.absolute().parent.is_dir():
        raise FileNotFoundError(f"folder {out.absolute().parent} does not exist")
    city = generate_city(n_buildings, seed, name_en=name_en, name_zh=name_zh, city_zh=city_zh,
                         feedback=_SubFeedback(fb, 0, 70))
    fb.push_info(f"writing {out}")
    write_city(city, out, feedback=_SubFeedback(fb, 70, 100))
    return city


# --------------------------------------------------------------------------- CLI
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m sample_data.generator",
        description="Generate a synthetic CityFrame sample city (workspace GeoPackage).")
    p.add_argument("--buildings", type=int, default=5000,
                   help=f"number of buildings ({MIN_BUILDINGS}-{MAX_BUILDINGS}, default 5000)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--out", required=True, help="output workspace file (.gpkg)")
    p.add_argument("--name-en", default="Jiangcheng", help="city name in English")
    p.add_argument("--name-zh", default="江城", help="sample name in Chinese")
    p.add_argument("--city-zh", default=None,
                   help="short Chinese city name used in facility and company names "
                        "(default: --name-zh)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return p


def main(argv=None) -> int:
    """Command-line entry point; returns the exit status (0 ok, 2 bad input)."""
    args = _parser().parse_args(argv)
    t0 = time.perf_counter()
    last = [-10.0]

    def progress(p):
        if not args.quiet and (p >= last[0] + 10 or p >= 100) and p != last[0]:
            last[0] = p
            print(f"[{p:5.1f}%] {time.perf_counter() - t0:6.1f}s", file=sys.stderr, flush=True)

    def info(msg):
        if not args.quiet:
            print(f"         {msg}", file=sys.stderr, flush=True)

    fb = Feedback(on_progress=progress, on_info=info)
    try:
        city = build_sample(args.buildings, args.seed, args.out, fb, name_en=args.name_en,
                            name_zh=args.name_zh, city_zh=args.city_zh)
    except (ValueError, TypeError, FileNotFoundError, CityFrameError, OSError) as exc:
        print(f"{args.out}: {exc}", file=sys.stderr)
        return 2
    except Canceled:
        print(f"{args.out}: canceled", file=sys.stderr)
        return 2
    if not args.quiet:
        out = Path(args.out)
        size = out.stat().st_size / 1e6
        tif = out.with_name(f"{out.stem}_flood_depth.tif")
        print(f"wrote {out} ({size:.1f} MB) and {tif.name} "
              f"({tif.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f}s",
              file=sys.stderr)
        for name, count in city.summary().items():
            print(f"  {name:22s} {count}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
