"""Turn the real OpenStreetMap extract of the Bund / Lujiazui (``shared/data/shanghai``)
into a CityFrame workspace that follows the framework schema.

Real: building footprints and heights, names, addresses, roads, POIs, schools,
hospitals, police and fire stations, bus stops, water and land use.
Derived or modelled (said so in each layer's metadata and in the README):

- ``use`` from OSM tags where they say it, else ``mixed`` with ``use_source = assumed``;
- ``floors`` from the OSM height (3.2 m a floor) where there is one;
- ``population``: a modelled estimate from residential floor area (35 m² a person),
  not census data;
- ``communities``: Voronoi cells of the six OSM/Who's-On-First place points,
  clipped to the extract, with their district from the Huangpu river's side;
- ``legal_entities``: named POIs, with *synthetic* USCCs (valid check digits,
  flagged ``uscc_synthetic = 1``) since OSM holds no registration numbers.

Run ``python -m sample_data.shanghai [SOURCE.gpkg] [OUT.gpkg]`` to rebuild the
bundled ``sample_data/cities/shanghai.gpkg``.
"""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from layers.metadata import LayerMetadata
from spatial.uscc import make_uscc

__all__ = ["SOURCE", "ATTRIBUTION", "convert_shanghai", "build_shanghai"]

SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "shanghai" / "shanghai.gpkg"
ATTRIBUTION = "© OpenStreetMap contributors (ODbL 1.0); vector tiles by Nextzen/Tilezen"
CRS = "EPSG:32651"  # UTM 51N: the extract straddles two CGCS2000 3-degree zones
UPDATED = "2022-04-07"  # the source commit; OSM's own date is not recorded

_USE_FROM_DETAIL = {
    "residential": "residential", "apartments": "residential", "house": "residential",
    "commercial": "commercial", "retail": "commercial", "hotel": "commercial",
    "bank": "commercial", "office": "commercial", "tower": "commercial",
    "attraction": "public", "school": "public", "hospital": "public",
    "place_of_worship": "public", "government": "public", "museum": "public",
    "industrial": "industrial", "warehouse": "industrial",
}
_USE_FROM_LANDUSE = {
    "residential": "residential", "retail": "commercial", "commercial": "commercial",
    "hospital": "public", "school": "public", "place_of_worship": "public",
    "attraction": "public", "park": "public", "garden": "public", "protected_area": "public",
}
# GB/T 4754-2017 section letter + division for the POI kinds in the extract.
_INDUSTRY = {
    "restaurant": "H62", "cafe": "H62", "fast_food": "H62", "ice_cream": "H62", "bar": "H62",
    "pub": "H62", "hotel": "H61", "hostel": "H61", "bank": "J66", "atm": "J66",
    "convenience": "F52", "supermarket": "F52", "jewelry": "F52", "shop": "F52", "clothes": "F52",
    "mall": "F52", "computer": "F52", "mobile_phone": "F52", "electronics": "F52", "books": "F52",
    "bicycle": "F52", "school": "P83", "kindergarten": "P83", "hospital": "Q84",
    "museum": "R88", "attraction": "R88", "monument": "R88", "library": "R88", "cinema": "R87",
    "police": "S92", "government": "S92", "embassy": "T97", "post_office": "G60",
    "ferry_terminal": "G55", "station": "G53", "bus_station": "G54", "tram_stop": "G54",
    "communications_tower": "I63", "place_of_worship": "S95", "fire_station": "S92",
    "company": "L72",
}
# Which side of the Huangpu each place point lies on (known geography of the extract).
_DISTRICT = {
    "Lan Ni Du": ("浦东新区", "Pudong"), "Lu Jia Du": ("浦东新区", "Pudong"),
    "Yang Jia Du": ("浦东新区", "Pudong"), "Hongkou": ("虹口区", "Hongkou"),
    "十六铺": ("黄浦区", "Huangpu"), "城隍庙": ("黄浦区", "Huangpu"),
}


def _meta(department, en, zh, classification="public", note=""):
    source = f"OpenStreetMap via Nextzen/Tilezen tiles (shared/data/shanghai). {ATTRIBUTION}."
    return LayerMetadata(department=department, title_en=en, title_zh=zh,
                         classification=classification, source=(source + " " + note).strip(),
                         updated=UPDATED, crs=CRS)


def _text(series):
    return series.astype(object).where(series.notna(), None)


def convert_shanghai(source: Path | str = SOURCE):
    """Read the OSM extract; return ``(frames, metadata)`` dicts in EPSG:32651."""
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"{source}: the Shanghai OSM extract is not there")

    def read(layer):
        return gpd.read_file(source, layer=layer).to_crs(CRS)

    frames: dict[str, pd.DataFrame] = {}
    meta: dict[str, LayerMetadata] = {}

    # --- communities and districts -----------------------------------------
    places = read("places")
    b = read("buildings")
    extent = shapely.box(*b.total_bounds).buffer(200, join_style="mitre")
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(places.geometry.values),
                                                       extend_to=extent))
    cells = shapely.intersection(cells, extent)
    order = shapely.STRtree(cells).query(places.geometry.values, predicate="within")
    cell_of = dict(zip(order[0], order[1]))
    names_en = places["name:en"].fillna(places["name"]).tolist()
    communities = gpd.GeoDataFrame({
        "community_id": [f"SH{i + 1:02d}" for i in range(len(places))],
        "name": places["name"].tolist(),
        "name_en": names_en,
        "district": [_DISTRICT.get(n, ("", ""))[0] for n in places["name"]],
        "district_en": [_DISTRICT.get(n, ("", ""))[1] for n in places["name"]],
    }, geometry=[cells[cell_of[i]] for i in range(len(places))], crs=CRS)
    frames["communities"] = communities
    meta["communities"] = _meta("framework", "Neighbourhoods (Voronoi of OSM places)", "社区（由地名点泰森多边形生成）",
                                note="Derived: Voronoi cells of place points, not official boundaries.")

    # --- buildings -----------------------------------------------------------
    b["geometry"] = shapely.make_valid(b.geometry.values)
    use = b["kind_detail"].map(_USE_FROM_DETAIL)
    use = use.fillna(b["landuse_kind"].map(_USE_FROM_LANDUSE))
    use_source = np.where(use.notna(), "osm", "assumed")
    use = use.fillna("mixed")
    height = pd.to_numeric(b["height"], errors="coerce")
    floors = np.round(height / 3.2).clip(lower=1).astype("Int64")
    street = b["addr_street"].fillna("").astype(str)
    number = b["addr_housenumber"].fillna("").astype(str)
    address = (street + np.where(number != "", number + "号", "")).where(street != "", None)
    pos = shapely.point_on_surface(b.geometry.values)
    hit = shapely.STRtree(communities.geometry.values).query(pos, predicate="within")
    community = np.full(len(b), None, dtype=object)
    community[hit[0][::-1]] = communities["community_id"].to_numpy()[hit[1][::-1]]  # first zone wins
    buildings = gpd.GeoDataFrame({
        "building_id": "osm" + b["id"].astype("int64").astype(str),
        "use": use.astype(str).to_numpy(),
        "use_source": use_source,
        "floors": floors,
        "height_m": height.round(1),
        "year_built": pd.array([pd.NA] * len(b), dtype="Int64"),
        "address": _text(address),
        "community_id": community,
        "name": _text(b["name"]),
        "osm_id": b["id"].astype("int64"),
    }, geometry=b.geometry.values, crs=CRS)
    frames["buildings"] = buildings
    meta["buildings"] = _meta("framework", "Buildings (OSM)", "建筑（OSM）",
                              note="use/floors derived from OSM tags where present.")

    # --- population: modelled ----------------------------------------------
    area = shapely.area(buildings.geometry.values)
    f = buildings["floors"].fillna(6).to_numpy(dtype=float)
    share = np.select([buildings["use"] == "residential", buildings["use"] == "mixed"], [1.0, 0.3], 0.0)
    residents = np.floor(area * f * share / 35.0).astype(np.int64)
    rng = np.random.default_rng(20220407)
    young = rng.binomial(residents, 0.10)
    old = rng.binomial(residents - young, 0.26)  # Huangpu/Pudong centre: an old population
    keep = residents > 0
    frames["population"] = pd.DataFrame({
        "building_id": buildings["building_id"].to_numpy()[keep],
        "residents": residents[keep],
        "age_0_14": young[keep],
        "age_15_64": (residents - young - old)[keep],
        "age_65_plus": old[keep],
    })
    meta["population"] = _meta("framework", "Population (modelled estimate)", "人口（模型估算）",
                               classification="restricted",
                               note="Modelled from residential floor area (35 m² a person); not census data.")

    # --- legal entities --------------------------------------------------------
    e = read("legal_entities")
    seeds = np.array([zlib.crc32(str(i).encode()) for i in e["id"]], dtype=np.uint64)
    rng = np.random.default_rng(seeds)
    uscc = make_uscc(rng, len(e), division_codes=["310101", "310109", "310115"])
    near, dist = buildings.sindex.nearest(e.geometry.values, max_distance=30, return_distance=True)
    bid = np.full(len(e), None, dtype=object)
    first = pd.Series(near[1], index=near[0]).groupby(level=0).first()
    bid[first.index.to_numpy()] = buildings["building_id"].to_numpy()[first.to_numpy()]
    frames["legal_entities"] = gpd.GeoDataFrame({
        "uscc": uscc,
        "name": e["name"].astype(str).to_numpy(),
        "name_en": _text(e["name:en"]),
        "industry": e["kind"].map(_INDUSTRY).fillna("L72").to_numpy(),
        "employees": pd.array([pd.NA] * len(e), dtype="Int64"),
        "building_id": bid,
        "hazard_class": np.full(len(e), "", dtype=object),
        "uscc_synthetic": np.ones(len(e), dtype=np.int8),
        "osm_kind": e["kind"].astype(str).to_numpy(),
        "osm_id": e["id"].astype("int64"),
    }, geometry=e.geometry.values, crs=CRS)
    meta["legal_entities"] = _meta("market", "Named places of business (OSM)", "法人及机构（OSM 命名兴趣点）",
                                   classification="internal",
                                   note="USCCs are synthetic (valid check digits) — OSM holds no registrations.")

    # --- roads ------------------------------------------------------------------
    r = read("roads")
    r = r[r["kind"].isin(["major_road", "minor_road", "highway", "path"])]
    r = r.explode(index_parts=False)
    r = r[~r.geometry.is_empty]
    rid = "osm" + r["id"].astype("int64").astype(str)
    rid = rid + "_" + rid.groupby(rid).cumcount().astype(str)
    frames["roads"] = gpd.GeoDataFrame({
        "road_id": rid.to_numpy(),
        "name": _text(r["name"]).to_numpy(),
        "name_en": _text(r["name:en"]).to_numpy(),
        "class": r["kind_detail"].fillna(r["kind"]).astype(str).to_numpy(),
        "is_bridge": r["is_bridge"].astype(object).eq(True).to_numpy(),
    }, geometry=r.geometry.values, crs=CRS)
    meta["roads"] = _meta("transport", "Roads and paths (OSM)", "道路（OSM）")

    # --- department overlays ------------------------------------------------------
    def points(layer, id_col, prefix, department, en, zh, extra=None, classification="public"):
        g = read(layer)
        df = {id_col: [f"{prefix}{i + 1:03d}" for i in range(len(g))],
              "name": g["name"].astype(str).to_numpy(),
              "osm_kind": g["kind"].astype(str).to_numpy()}
        df.update(extra(g) if extra else {})
        return gpd.GeoDataFrame(df, geometry=g.geometry.values, crs=CRS), _meta(department, en, zh, classification)

    frames["schools"], meta["schools"] = points(
        "schools", "school_id", "SCH", "education", "Schools and kindergartens (OSM)", "学校和幼儿园（OSM）",
        lambda g: {"level": np.where(g["kind"] == "kindergarten", "kindergarten", "primary")})
    frames["hospitals"], meta["hospitals"] = points(
        "hospitals", "hospital_id", "HOS", "health", "Hospitals (OSM)", "医院（OSM）")
    frames["police_stations"], meta["police_stations"] = points(
        "police", "station_id", "POL", "police", "Police (OSM)", "公安机构（OSM）", classification="internal")
    frames["fire_stations"], meta["fire_stations"] = points(
        "fire_stations", "station_id", "FIR", "fire", "Fire stations (OSM)", "消防站（OSM）")
    pois = read("pois")
    stops = pois[pois["kind"] == "bus_stop"]
    frames["bus_stops"] = gpd.GeoDataFrame({
        "stop_id": [f"BUS{i + 1:03d}" for i in range(len(stops))],
        "name": _text(stops["name"]).to_numpy(),
    }, geometry=stops.geometry.values, crs=CRS)
    meta["bus_stops"] = _meta("transport", "Bus stops (OSM)", "公交站点（OSM）")

    water = read("water")
    water = water[water.geom_type.isin(["Polygon", "MultiPolygon"]) & (water["kind"] != "swimming_pool")]
    frames["water"] = gpd.GeoDataFrame({
        "water_id": [f"W{i + 1:02d}" for i in range(len(water))],
        "name": _text(water["name"]).to_numpy(), "kind": water["kind"].astype(str).to_numpy(),
    }, geometry=shapely.make_valid(water.geometry.values), crs=CRS)
    meta["water"] = _meta("water", "Rivers and water (OSM)", "河流水域（OSM）")

    lu = read("landuse")
    lu = lu[lu.geom_type.isin(["Polygon", "MultiPolygon"])]
    frames["land_use"] = gpd.GeoDataFrame({
        "zone_id": [f"LU{i + 1:03d}" for i in range(len(lu))],
        "zone": lu["kind"].astype(str).to_numpy(), "name": _text(lu["name"]).to_numpy(),
    }, geometry=shapely.make_valid(lu.geometry.values), crs=CRS)
    meta["land_use"] = _meta("planning", "Land use (OSM)", "土地利用（OSM）")

    adm = read("admin_boundaries")
    frames["district_boundaries"] = gpd.GeoDataFrame({
        "boundary_id": [f"ADM{i + 1}" for i in range(len(adm))], "name": adm["name"].astype(str).to_numpy(),
    }, geometry=adm.geometry.values, crs=CRS)
    meta["district_boundaries"] = _meta("planning", "District boundaries (lines, OSM)", "区界（线，OSM）")

    transit = read("transit")
    transit = transit[transit.geom_type.isin(["LineString", "MultiLineString"])]
    transit = transit.explode(index_parts=False)  # one geometry type: LineString
    frames["metro_lines"] = gpd.GeoDataFrame({
        "line_id": [f"M{i + 1:02d}" for i in range(len(transit))],
        "name": _text(transit["name"]).to_numpy(), "kind": transit["kind"].astype(str).to_numpy(),
    }, geometry=shapely.force_2d(transit.geometry.values), crs=CRS)
    meta["metro_lines"] = _meta("transport", "Metro lines (OSM)", "地铁线路（OSM）")
    return frames, meta


#: Drill scenarios for trainers.  The extract has no shelter layer, so these drills report
#: people, buildings, enterprises and facilities; the synthetic cities also show shelters.
SCENARIOS = {
    "gas_explosion_lujiazui": {
        "version": 1,
        "title": {"en": "Gas main explosion, Lujiazui (point read off a GCJ-02 web map)",
                  "zh": "陆家嘴燃气管道爆炸（坐标取自 GCJ-02 网络地图）"},
        "hazard": {"kind": "buffer", "point": [121.50909, 31.2392], "crs": "GCJ-02",
                   "rings_m": [100, 250, 500]},
        "shelters": None,
    },
    "chemical_plume_bund": {
        "version": 1,
        "title": {"en": "Chemical leak on the Huangpu, wind from the east",
                  "zh": "黄浦江化学品泄漏（东风）"},
        "hazard": {"kind": "plume", "point": [121.49338, 31.23836], "crs": "EPSG:4326",
                   "wind_from_deg": 90, "length_m": 1500, "spread_deg": 40,
                   "rings_m": [300, 800]},
        "shelters": None,
    },
}


def build_shanghai(out: Path | str, source: Path | str = SOURCE) -> Path:
    """Convert the extract and save it as a CityFrame workspace at ``out``."""
    from layers.workspace import Workspace, layer_from_frame

    frames, meta = convert_shanghai(source)
    ws = Workspace()
    order = ["communities", "water", "land_use", "roads", "buildings", "population",
             "legal_entities", "schools", "hospitals", "police_stations", "fire_stations",
             "bus_stops", "metro_lines", "district_boundaries"]
    for name in order:
        ws.add_layer(layer_from_frame(name, frames[name], meta[name]))
    ws.scenarios.update(SCENARIOS)
    out = Path(out)
    ws.save_as(out)
    return out


if __name__ == "__main__":  # pragma: no cover - a maintenance script
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE
    dst = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).parent / "cities" / "shanghai.gpkg"
    print(build_shanghai(dst, src), pyogrio.list_layers(dst))
