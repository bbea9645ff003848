"""The synthetic sample-city generator and the bundled sample cities."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from sample_data import catalogue
from sample_data.generator import (CENTRE_LONLAT, CRS, LAYER_INFO, UPDATED, build_sample,
                                   generate_city, main, write_city)
from spatial.errors import Canceled
from spatial.feedback import Feedback
from spatial.schema import BUILDING_USES, DEPARTMENTS, FRAMEWORK, OVERLAY_SCHEMAS
from spatial.uscc import uscc_valid_mask

N_BUILDINGS = 3000
SEED = 5


@pytest.fixture(scope="module")
def city():
    return generate_city(N_BUILDINGS, SEED)


def _frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    for col in a.columns:
        if hasattr(a[col], "geom_type"):
            if not shapely.equals_exact(a[col].values, b[col].values, tolerance=0).all():
                return False
        elif not a[col].equals(b[col]):
            return False
    return True


# ------------------------------------------------------------------ determinism
def test_same_seed_gives_identical_city(city):
    again = generate_city(N_BUILDINGS, SEED)
    assert list(again.layers) == list(city.layers)
    for name, frame in city.layers.items():
        assert _frames_equal(frame, again.layers[name]), name
    assert np.array_equal(city.rasters["flood_depth"][0], again.rasters["flood_depth"][0])
    assert city.rasters["flood_depth"][1] == again.rasters["flood_depth"][1]
    assert city.metadata == again.metadata


def test_other_seed_gives_other_city(city):
    other = generate_city(N_BUILDINGS, SEED + 1)
    assert len(other.layers["buildings"]) == N_BUILDINGS
    assert not _frames_equal(other.layers["buildings"], city.layers["buildings"])
    assert not _frames_equal(other.layers["roads"], city.layers["roads"])


# ------------------------------------------------------------------ framework
_KIND = {
    "str": pd.api.types.is_string_dtype,
    "int": pd.api.types.is_integer_dtype,
    "float": pd.api.types.is_float_dtype,
    "number": lambda s: pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s),
}


@pytest.mark.parametrize("layer", sorted(FRAMEWORK))
def test_framework_columns_and_kinds(city, layer):
    schema = FRAMEWORK[layer]
    frame = city.layers[layer]
    for col in schema.columns:
        assert col.name in frame.columns, f"{layer}.{col.name} missing"
        assert _KIND[col.kind](frame[col.name]), f"{layer}.{col.name} is {frame[col.name].dtype}"
        if not col.nullable:
            assert frame[col.name].notna().all()
    if schema.key:
        assert frame[schema.key].is_unique, f"{layer}.{schema.key} not unique"
    if schema.geometry is None:
        assert "geometry" not in frame.columns
    else:
        types = set(frame.geom_type)
        assert types <= {schema.geometry, "Multi" + schema.geometry}, types
        assert frame.crs == CRS
        assert shapely.is_valid(frame.geometry.values).all(), layer
    # no column is a plain object column: text is pandas' str dtype
    assert not any(frame[c].dtype == object for c in frame.columns if c != "geometry")


def test_buildings_attributes(city):
    b = city.layers["buildings"]
    assert len(b) == N_BUILDINGS
    assert set(b["use"]) == set(BUILDING_USES)
    assert (b["floors"] >= 1).all()
    per_floor = b["height_m"] / b["floors"]
    assert per_floor.between(2.5, 6.5).all()
    assert per_floor[b["use"] == "residential"].between(2.7, 3.3).all()
    assert b["year_built"].between(1950, 2024).all()
    assert b["address"].str.contains("号").all()
    # industrial buildings are low, the commercial core is the tallest
    assert b.loc[b["use"] == "industrial", "floors"].max() <= 4
    assert b.loc[b["use"] == "commercial", "floors"].max() >= 8


def test_buildings_clear_of_river_roads_and_each_other(city):
    geoms = city.layers["buildings"].geometry.values
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    assert (a == b).all(), f"{int((a != b).sum() // 2)} overlapping building pairs"
    river = shapely.union_all(city.layers["river"].geometry.values)
    assert not shapely.intersects(geoms, river).any()
    roads = city.layers["roads"].geometry.values
    qi, _ = tree.query(roads, predicate="intersects")
    assert len(qi) == 0, "a road runs through a building"


def test_every_building_is_near_a_road(city):
    roads = shapely.STRtree(city.layers["roads"].geometry.values)
    b = city.layers["buildings"].geometry.values
    found, _ = roads.query_nearest(b, max_distance=300)
    assert len(np.unique(found)) == len(b)


def test_buildings_sit_in_their_community(city):
    b = city.layers["buildings"]
    c = city.layers["communities"]
    tree = shapely.STRtree(c.geometry.values)
    bi, ci = tree.query(b.geometry.values, predicate="within")
    assert np.array_equal(np.sort(bi), np.arange(len(b))), "building outside every community"
    assert np.array_equal(c["community_id"].to_numpy()[ci], b["community_id"].to_numpy()[bi])
    # about 500 buildings a community, communities tile the dry land without overlap
    assert len(c) == round(N_BUILDINGS / 500)
    x, y = shapely.get_coordinates(shapely.point_on_surface(c.geometry.values)).T
    qi, ti = tree.query(shapely.points(x, y), predicate="intersects")
    assert np.array_equal(qi, ti)
    assert set(c["district"]) == set(city.layers["districts"]["name"])


def test_population_sums(city):
    p = city.layers["population"]
    b = city.layers["buildings"]
    ages = p["age_0_14"] + p["age_15_64"] + p["age_65_plus"]
    assert (ages == p["residents"]).all()
    assert (p[["age_0_14", "age_15_64", "age_65_plus"]] >= 0).all().all()
    assert (p["residents"] > 0).all()
    uses = b.set_index("building_id").loc[p["building_id"], "use"]
    assert set(uses) <= {"residential", "mixed"}
    # ~30-40 m2 of floor area per resident
    fb = b.set_index("building_id").loc[p["building_id"]]
    share = np.where(fb["use"] == "mixed", 0.5, 1.0)
    m2 = (fb.geometry.area * fb["floors"] * share).sum() / p["residents"].sum()
    assert 30 <= m2 <= 50


def test_legal_entities(city):
    e = city.layers["legal_entities"]
    b = city.layers["buildings"].set_index("building_id")
    assert abs(len(e) - 0.3 * N_BUILDINGS) <= 1
    assert uscc_valid_mask(e["uscc"].to_numpy()).all()
    assert e["uscc"].is_unique
    assert e["uscc"].str[:2].isin(["91", "92"]).all()
    assert e["uscc"].str[2:6].eq("4201").all()
    assert e["industry"].str.fullmatch(r"[A-T]\d\d").all()
    assert (e["employees"] >= 1).all()
    assert set(b.loc[e["building_id"], "use"]) <= {"commercial", "industrial", "mixed"}
    # each point lies in its building
    inside = shapely.within(e.geometry.values, b.loc[e["building_id"]].geometry.values)
    assert inside.all()
    assert set(e["hazard_class"]) <= {"", "hazardous_chemicals"}


def test_hazardous_chemical_entities(city):
    e = city.layers["legal_entities"]
    haz = e[e["hazard_class"] == "hazardous_chemicals"]
    assert 5 <= len(haz) <= 0.03 * len(e)
    assert haz["industry"].isin(["C25", "C26", "F51"]).mean() >= 0.5
    sites = city.layers["hazardous_sites"]
    assert set(sites["uscc"]) == set(haz["uscc"])
    assert (sites["chemical"] == "液氯").any()


def test_roads_form_one_network(city):
    r = city.layers["roads"]
    assert r["road_id"].is_unique
    assert set(r["class"]) == {"primary", "secondary", "tertiary", "residential"}
    assert r["bridge"].any()
    assert r["name"].str.contains("[路道街]$").all()
    assert r["name_en"].str.fullmatch(r"[A-Za-z' ]+").all()
    g = nx.Graph()
    start = shapely.get_coordinates(shapely.get_point(r.geometry.values, 0))
    end = shapely.get_coordinates(shapely.get_point(r.geometry.values, -1))
    g.add_edges_from(zip(map(tuple, start), map(tuple, end)))
    assert nx.is_connected(g)
    # split at intersections: no road crosses another in its interior
    parts = shapely.get_parts(shapely.node(shapely.multilinestrings(r.geometry.values)))
    assert len(parts) == len(r)


def test_district_and_location(city):
    d = city.layers["districts"]
    assert 4 <= len(d) <= 12
    assert d["district_id"].str.fullmatch(r"4201\d\d").all()
    assert d["name"].str.endswith("区").all()
    x0, y0, x1, y1 = city.extent
    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(
        (x0 + x1) / 2, (y0 + y1) / 2)
    assert abs(lon - CENTRE_LONLAT[0]) < 0.02 and abs(lat - CENTRE_LONLAT[1]) < 0.02
    area = (x1 - x0) * (y1 - y0)
    assert area == pytest.approx(1500 * N_BUILDINGS, rel=0.01)


# ------------------------------------------------------------------ overlays
def test_overlays(city):
    overlays = [n for n in city.layers if n not in FRAMEWORK]
    assert len(overlays) >= 10
    for name, spec in OVERLAY_SCHEMAS.items():
        frame = city.layers[name]
        assert len(frame) >= 1, name
        assert set(spec["columns"]) <= set(frame.columns), name
        assert set(frame.geom_type) <= {spec["geometry"], "Multi" + spec["geometry"]}, name
        key = spec["columns"][0]
        assert frame[key].is_unique, name
        assert LAYER_INFO[name][0] == spec["department"], name
    for name in ("schools", "hospitals", "elderly_care", "police_stations", "fire_stations",
                 "shelters", "pollution_sources", "bus_stops", "flood_zones"):
        assert len(city.layers[name]) >= 3, name
    assert (city.layers["schools"]["pupils"] > 0).all()
    assert set(city.layers["schools"]["level"]) == {"primary", "middle", "high"}
    assert (city.layers["hospitals"]["beds"] > 0).all()
    assert (city.layers["elderly_care"]["beds"] > 0).all()
    assert (city.layers["shelters"]["capacity"] > 0).all()
    assert set(city.layers["shelters"]["kind"]) == {"park", "school", "stadium"}
    fz = city.layers["flood_zones"]
    assert set(fz["depth_class"]) <= {1, 2, 3}
    assert (fz["depth_min_m"] < fz["depth_max_m"]).all()
    # facilities sit in real buildings
    ids = set(city.layers["buildings"]["building_id"])
    for name in ("schools", "hospitals", "elderly_care"):
        assert set(city.layers[name]["building_id"]) <= ids
    # pollution sources are registered entities
    assert set(city.layers["pollution_sources"]["uscc"]) <= set(
        city.layers["legal_entities"]["uscc"])


def test_police_precincts_cover_their_stations(city):
    st = city.layers["police_stations"]
    pr = city.layers["police_precincts"].set_index("station_id").loc[st["station_id"]]
    assert shapely.within(st.geometry.values, pr.geometry.values).all()
    total = shapely.area(pr.geometry.values).sum()
    comm = shapely.area(city.layers["communities"].geometry.values).sum()
    assert total == pytest.approx(comm, rel=1e-6)


def test_flood_raster(city):
    arr, transform, crs, nodata = city.rasters["flood_depth"]
    assert arr.dtype == np.float32 and crs == CRS and nodata == -9999.0
    assert 20 <= transform.a <= 50 and transform.e == -transform.a
    valid = arr != nodata
    assert valid.mean() > 0.9
    assert (arr[valid] >= 0).all()
    rows, cols = np.nonzero(valid)
    x, y = transform @ (cols + 0.5, rows + 0.5)
    river = shapely.union_all(city.layers["river"].geometry.values)
    d = shapely.distance(shapely.points(x, y), river)
    near = arr[rows, cols][d < 200].mean()
    far = arr[rows, cols][d > 1000].mean()
    assert near > 1.0 and near > 3 * far


def test_metadata(city):
    for name in list(city.layers) + list(city.rasters):
        m = city.metadata[name]
        assert m.department in DEPARTMENTS, name
        assert m.title_en and m.title_zh
        assert m.source == f"CityFrame synthetic sample (seed {SEED})"
        assert m.updated == UPDATED and m.crs == CRS
    cls = {n: m.classification for n, m in city.metadata.items()}
    assert cls["population"] == "restricted"
    assert cls["legal_entities"] == cls["police_stations"] == cls["police_precincts"] == "internal"
    assert cls["buildings"] == cls["schools"] == cls["roads"] == "public"


# ------------------------------------------------------------------ arguments, feedback
def test_bad_arguments():
    with pytest.raises(ValueError, match="between"):
        generate_city(10)
    with pytest.raises(TypeError, match="integer"):
        generate_city(2000.5)
    with pytest.raises(ValueError, match="seed"):
        generate_city(2000, seed=-1)


def test_feedback_progress_and_cancel():
    seen = []
    fb = Feedback(on_progress=seen.append)
    generate_city(1000, 1, feedback=fb)
    assert seen[-1] == 100 and seen == sorted(seen)
    fb = Feedback()
    fb.cancel()
    with pytest.raises(Canceled):
        generate_city(1000, 1, feedback=fb)


# ------------------------------------------------------------------ writing
def test_write_city_opens_as_workspace(tmp_path):
    from layers.workspace import Workspace

    city = generate_city(1500, 3)
    out = write_city(city, tmp_path / "t.gpkg")
    tif = tmp_path / "t_flood_depth.tif"
    assert out.is_file() and tif.is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    ws = Workspace.open(out)
    assert set(ws.registry.names()) == set(city.layers) | {"flood_depth"}
    assert len(ws.layer("buildings").data) == 1500
    assert ws.layer("population").metadata.classification == "restricted"
    assert ws.layer("flood_depth").path == tif
    assert "chlorine_leak" in ws.scenarios and "schools_near_hazards" in ws.saved_queries
    ws.close()


def test_write_failure_leaves_nothing(tmp_path):
    city = generate_city(1000, 4)
    fb = Feedback()
    fb.cancel()
    with pytest.raises(Canceled):
        write_city(city, tmp_path / "c.gpkg", feedback=fb)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match=r"\.gpkg"):
        write_city(city, tmp_path / "c.sqlite")


def test_command_line(tmp_path, capsys):
    assert main(["--buildings", "800", "--seed", "2", "--out", str(tmp_path / "m.gpkg"),
                 "--quiet"]) == 0
    assert (tmp_path / "m.gpkg").is_file() and (tmp_path / "m_flood_depth.tif").is_file()
    assert main(["--buildings", "800", "--out", str(tmp_path / "m.txt")]) == 2
    assert "gpkg" in capsys.readouterr().err
    assert main(["--buildings", "800", "--out", str(tmp_path / "nope" / "m.gpkg")]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["--buildings", "many", "--out", "x.gpkg"])
    assert exc.value.code == 2


def test_build_sample_returns_city(tmp_path):
    city = build_sample(700, 9, tmp_path / "s.gpkg", name_en="Test", name_zh="测试",
                        city_zh="测城")
    assert city.name_en == "Test" and len(city.layers["buildings"]) == 700
    assert city.layers["schools"]["name"].str.contains("测城").any()


# ------------------------------------------------------------------ bundled samples
@pytest.mark.parametrize("sample", [s for s in catalogue.SAMPLES if s.seed is not None],
                         ids=lambda s: s.id)
def test_bundled_sample_opens(sample):
    import pyogrio

    from layers.workspace import Workspace

    assert sample.exists, f"{sample.bundle} missing: run catalogue.rebuild({sample.id!r})"
    assert sample.bundle.stat().st_size < 8e6, "bundled samples stay a few MB"
    path = catalogue.sample_path(sample.id)
    assert path.with_name(f"{path.stem}_flood_depth.tif").is_file()
    listed = {str(n) for n in pyogrio.list_layers(path)[:, 0]}
    assert set(FRAMEWORK) | set(OVERLAY_SCHEMAS) <= listed
    ws = Workspace.open(path, read_only=True)
    try:
        assert len(ws.layer("buildings").data) == sample.buildings
        assert not ws.layer("flood_depth").missing
        assert ws.warnings == []
    finally:
        ws.close()


def test_catalogue():
    ids = [s.id for s in catalogue.SAMPLES]
    assert ids[:2] == ["small", "district"] and len(set(ids)) == len(ids)
    for s in catalogue.SAMPLES:
        assert s.name_en and s.name_zh and s.description_en and s.description_zh and s.licence
    with pytest.raises(KeyError, match="small"):
        catalogue.sample_path("nowhere")
