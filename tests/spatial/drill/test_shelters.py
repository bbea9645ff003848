"""Shelter assignment on small cities whose answer is known by hand (issue 5, items 3 and 9)."""

from __future__ import annotations

import json

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString, MultiLineString, Point, box

from spatial.drill.shelters import (
    ShelterResult,
    assign_shelters,
    road_graph,
    road_network,
    safe_places,
)
from spatial.errors import Canceled, CRSError, SchemaError
from spatial.feedback import Feedback

CRS = "EPSG:32650"


def roads(*lines):
    return gpd.GeoDataFrame({"road_id": [f"R{i}" for i in range(len(lines))]},
                            geometry=list(lines), crs=CRS)


def homes(*rows):
    """rows: (id, people, geometry)."""
    return gpd.GeoDataFrame({"building_id": [r[0] for r in rows], "residents": [r[1] for r in rows]},
                            geometry=[r[2] for r in rows], crs=CRS)


def shelters(*rows):
    """rows: (id, capacity, geometry)."""
    return gpd.GeoDataFrame({"shelter_id": [r[0] for r in rows],
                             "name": [f"Shelter {r[0]}" for r in rows],
                             "capacity": [r[1] for r in rows]},
                            geometry=[r[2] for r in rows], crs=CRS)


def flows_of(result: ShelterResult):
    f = result.flows
    return sorted((r.from_id, r.shelter_id, int(r.people), round(float(r.distance_m), 6))
                  for r in f[f.status == "sheltered"].itertuples())


STREET = roads(LineString([(0, 0), (1000, 0)]))


def test_road_distance_not_straight_line():
    # A U-shaped street: S1 is 100 m away across the block but 2,100 m by road;
    # S2 is 600 m along the street.
    u = roads(LineString([(0, 0), (1000, 0)]), LineString([(1000, 0), (1000, 100)]),
              LineString([(1000, 100), (0, 100)]))
    b = homes(("B1", 10, Point(0, 0)))
    s = shelters(("S1", 100, Point(0, 100)), ("S2", 100, Point(600, 0)))
    by_road = assign_shelters(b, "residents", s, "capacity", u)
    assert by_road.method == "road"
    assert flows_of(by_road) == [("B1", "S2", 10, 600.0)]
    straight = assign_shelters(b, "residents", s, "capacity", None)
    assert straight.method == "straight_line"
    assert flows_of(straight) == [("B1", "S1", 10, 100.0)]


def test_road_distance_matches_networkx():
    u = roads(LineString([(0, 0), (1000, 0)]), LineString([(1000, 0), (1000, 100)]),
              LineString([(1000, 100), (0, 100)]))
    g = road_graph(u)
    net = road_network(u)
    assert (g.number_of_nodes(), g.number_of_edges()) == (net.nodes, net.edges)
    ends = {(round(d["x"]), round(d["y"])): n for n, d in g.nodes(data=True)}
    assert nx.dijkstra_path_length(g, ends[(0, 0)], ends[(0, 100)]) == pytest.approx(2100)


def test_shelter_filled_to_capacity_overflow_to_next_nearest():
    b = homes(("B1", 50, Point(0, 0)))
    s = shelters(("S1", 30, Point(100, 0)), ("S2", 100, Point(400, 0)))
    r = assign_shelters(b, "residents", s, "capacity", STREET)
    assert flows_of(r) == [("B1", "S1", 30, 100.0), ("B1", "S2", 20, 400.0)]
    assert r.assignment.set_index("shelter_id")["assigned"].to_dict() == {"S1": 30, "S2": 20}
    assert (r.displaced, r.capacity, r.capacity_used, r.unsheltered, r.unreachable) == \
        (50, 130, 50, 0, 0)
    assert r.longest_walk_m == 400.0


def test_capacity_goes_to_whoever_saves_most_walking():
    # S1 (30 places) sits between B1 and B2; giving it to B1 costs 30*100 + 30*800,
    # giving it to B2 costs 30*100 + 30*1000: B1 gets it, B2 walks to S2.
    b = homes(("B1", 30, Point(0, 0)), ("B2", 30, Point(200, 0)))
    s = shelters(("S1", 30, Point(100, 0)), ("S2", 100, Point(1000, 0)))
    r = assign_shelters(b, "residents", s, "capacity", STREET)
    assert flows_of(r) == [("B1", "S1", 30, 100.0), ("B2", "S2", 30, 800.0)]
    assert r.longest_walk_m == 800.0
    assert r.assignment["max_distance_m"].tolist() == [100.0, 800.0]


def test_capacity_short_leaves_the_difference_unsheltered():
    b = homes(("B1", 50, Point(0, 0)))
    s = shelters(("S1", 20, Point(100, 0)), ("S2", 10, Point(300, 0)))
    r = assign_shelters(b, "residents", s, "capacity", STREET)
    assert (r.capacity, r.capacity_used, r.unsheltered, r.unreachable) == (30, 30, 20, 0)
    left = r.flows[r.flows.status == "unsheltered"]
    assert left["people"].tolist() == [20] and left["shelter_id"].isna().all()


def test_unsheltered_are_the_farthest():
    b = homes(("near", 10, Point(100, 0)), ("far", 10, Point(900, 0)))
    s = shelters(("S1", 10, Point(0, 0)))
    r = assign_shelters(b, "residents", s, "capacity", STREET)
    assert flows_of(r) == [("near", "S1", 10, 100.0)]
    assert r.flows.set_index("from_id").loc["far", "status"] == "unsheltered"


def test_unreachable_building_on_a_disconnected_road():
    net = roads(LineString([(0, 0), (1000, 0)]), LineString([(0, 500), (200, 500)]))
    b = homes(("main", 8, Point(0, 0)), ("island", 12, Point(100, 500)))
    s = shelters(("S1", 100, Point(500, 0)))
    r = assign_shelters(b, "residents", s, "capacity", net)
    assert (r.displaced, r.capacity_used, r.unsheltered, r.unreachable) == (20, 8, 12, 12)
    assert r.flows.set_index("from_id").loc["island", "status"] == "unreachable"
    assert flows_of(r) == [("main", "S1", 8, 500.0)]


def test_crossing_without_shared_vertex_is_a_bridge():
    # The north-south line crosses the street without a vertex there: no junction.
    net = roads(LineString([(0, 0), (1000, 0)]), LineString([(550, -300), (550, 300)]))
    b = homes(("B1", 5, Point(550, 300)))
    s = shelters(("S1", 10, Point(0, 0)))
    r = assign_shelters(b, "residents", s, "capacity", net)
    assert r.unreachable == 5


def test_touching_lines_connect_within_a_centimetre():
    net = roads(MultiLineString([[(0, 0), (100, 0)], [(100.004, 0), (100.004, 80)]]))
    b = homes(("B1", 5, Point(100, 80)))
    s = shelters(("S1", 10, Point(0, 0)))
    r = assign_shelters(b, "residents", s, "capacity", net)
    assert r.unreachable == 0
    assert r.longest_walk_m == pytest.approx(180, abs=0.01)


def test_shelter_inside_the_hazard_is_not_used():
    b = homes(("B1", 10, Point(0, 0)))
    s = shelters(("S1", 100, Point(100, 0)), ("S2", 100, Point(900, 0)))
    hazard = Point(100, 0).buffer(50)
    r = assign_shelters(b, "residents", s, "capacity", STREET, exclude=hazard)
    assert flows_of(r) == [("B1", "S2", 10, 900.0)]
    a = r.assignment.set_index("shelter_id")
    assert a.loc["S1", "status"] == "in_hazard" and a.loc["S1", "assigned"] == 0
    assert (r.capacity, r.shelters_in_hazard, r.capacity_in_hazard) == (100, 1, 100)
    # A GeoDataFrame footprint works too.
    fp = gpd.GeoDataFrame(geometry=[hazard], crs=CRS)
    r2 = assign_shelters(b, "residents", s, "capacity", STREET, exclude=fp)
    assert flows_of(r2) == flows_of(r)


def test_snap_distance_is_added_and_polygon_uses_its_representative_point():
    b = homes(("B1", 4, box(-10, 20, 10, 40)))  # centre (0, 30): 30 m off the street
    s = shelters(("S1", 10, Point(300, -20)))   # 20 m off the street
    r = assign_shelters(b, "residents", s, "capacity", STREET)
    assert r.longest_walk_m == pytest.approx(30 + 300 + 20)


def test_straight_line_fallback_said_plainly():
    b = homes(("B1", 7, Point(0, 0)))
    s = shelters(("S1", 10, Point(300, 400)))
    for no_roads in (None, roads()):
        r = assign_shelters(b, "residents", s, "capacity", no_roads)
        assert r.method == "straight_line"
        assert flows_of(r) == [("B1", "S1", 7, 500.0)]
        summary = r.to_summary()
        assert summary["method"] == "straight_line"
        assert "straight" in summary["note"]["en"] and "直线" in summary["note"]["zh"]


def test_summary_is_json_and_aggregated_per_shelter():
    b = homes(("B1", 30, Point(0, 0)), ("B2", 3, Point(50, 0)), ("B3", 40, Point(900, 0)))
    s = shelters(("S1", 40, Point(100, 0)), ("S2", 30, Point(1000, 0)))
    r = assign_shelters(b, "residents", s, "capacity", STREET)
    summary = json.loads(json.dumps(r.to_summary()))
    assert set(summary) >= {"method", "note", "displaced", "capacity", "capacity_used",
                            "unsheltered", "unreachable", "longest_walk_m", "assignment", "flows"}
    assert summary["displaced"] == 73 and summary["unsheltered"] == 3
    assert [f["shelter_id"] for f in summary["flows"]] == ["S1", "S2"]
    assert all(set(f) == {"shelter_id", "buildings", "people", "mean_distance_m",
                          "max_distance_m"} for f in summary["flows"])
    assert sum(f["people"] for f in summary["flows"]) == summary["capacity_used"] == 70
    hidden = r.to_summary(suppress_below=5)
    assert hidden["unsheltered"] is None and "unsheltered" in hidden["suppressed"]


def test_lines_for_the_map():
    b = homes(("B1", 50, Point(0, 0)))
    s = shelters(("S1", 30, Point(100, 0)), ("S2", 100, Point(400, 0)))
    r = assign_shelters(b, "residents", s, "capacity", STREET)
    assert r.lines.crs == b.crs
    assert sorted(r.lines.geometry.length.round(6).tolist()) == [100.0, 400.0]
    assert sorted(r.lines["people"].tolist()) == [20, 30]


def test_fractional_people_keep_their_total():
    b = homes(("B1", 0.4, Point(0, 0)), ("B2", 0.5, Point(10, 0)), ("B3", 1.7, Point(20, 0)))
    s = shelters(("S1", 10, Point(100, 0)))
    r = assign_shelters(b, "residents", s, "capacity", STREET)
    assert r.displaced == 3 == r.capacity_used


def test_nobody_and_no_shelter():
    empty = homes()
    s = shelters(("S1", 10, Point(100, 0)))
    r = assign_shelters(empty, "residents", s, "capacity", STREET)
    assert (r.displaced, r.unsheltered, r.longest_walk_m) == (0, 0, None)
    none = assign_shelters(homes(("B1", 6, Point(0, 0))), "residents", shelters(),
                           "capacity", STREET)
    assert (none.displaced, none.unsheltered, none.unreachable) == (6, 6, 6)
    assert none.to_summary()["assignment"] == []


def test_bad_input_is_named():
    b = homes(("B1", 5, Point(0, 0)))
    s = shelters(("S1", 10, Point(100, 0)))
    with pytest.raises(SchemaError, match="'people'"):
        assign_shelters(b, "people", s, "capacity", STREET)
    with pytest.raises(SchemaError, match="'places'"):
        assign_shelters(b, "residents", s, "places", STREET)
    with pytest.raises(SchemaError, match="negative"):
        assign_shelters(homes(("B1", -1, Point(0, 0))), "residents", s, "capacity", STREET)
    with pytest.raises(CRSError, match="geographic"):
        assign_shelters(b.set_crs(4326, allow_override=True), "residents",
                        s.set_crs(4326, allow_override=True), "capacity", None)
    with pytest.raises(CRSError, match="share one CRS"):
        assign_shelters(b, "residents", s.set_crs(3857, allow_override=True), "capacity", None)
    with pytest.raises(TypeError):
        assign_shelters(b.drop(columns="geometry"), "residents", s, "capacity", None)


def test_feedback_progress_and_cancel():
    b = homes(("B1", 5, Point(0, 0)))
    s = shelters(("S1", 10, Point(100, 0)))
    seen = []
    assign_shelters(b, "residents", s, "capacity", STREET, feedback=Feedback(seen.append))
    assert seen[-1] == 100 and seen == sorted(seen)
    fb = Feedback()
    fb.cancel()
    with pytest.raises(Canceled):
        assign_shelters(b, "residents", s, "capacity", STREET, feedback=fb)


# ---------------------------------------------------------------- optimality


def networkx_optimum(cost_cm, supply, cap):
    """People placed and their total cost (cm) by networkx.min_cost_flow."""
    n_s, n_d = cost_cm.shape
    big = int((n_s + 1) * (cost_cm[np.isfinite(cost_cm)].max(initial=0) + 1))
    g = nx.DiGraph()
    total = int(supply.sum())
    g.add_node("sink", demand=total)
    g.add_node("over")
    g.add_edge("over", "sink", weight=0)
    for d in range(n_d):
        g.add_node(("d", d), demand=-int(supply[d]))
        g.add_edge(("d", d), "over", weight=big)
        for s in range(n_s):
            if np.isfinite(cost_cm[s, d]):
                g.add_edge(("d", d), ("s", s), weight=int(cost_cm[s, d]))
    for s in range(n_s):
        g.add_edge(("s", s), "sink", weight=0, capacity=int(cap[s]))
    flow = nx.min_cost_flow(g)
    placed = sum(flow[("s", s)]["sink"] for s in range(n_s))
    cost = sum(flow[("d", d)][("s", s)] * int(cost_cm[s, d])
               for d in range(n_d) for s in range(n_s) if ("s", s) in flow[("d", d)])
    return placed, cost


def our_cost_cm(result):
    f = result.flows[result.flows.status == "sheltered"]
    return result.capacity_used, int((f["people"] * np.rint(f["distance_m"] * 100)).sum())


@pytest.mark.parametrize("seed", range(8))
def test_straight_line_optimum_equals_networkx(seed):
    rng = np.random.default_rng(seed)
    n_d, n_s = int(rng.integers(5, 30)), int(rng.integers(2, 25))
    dxy = rng.integers(0, 40, size=(n_d, 2)) * 25.0  # a lattice: plenty of ties
    sxy = rng.integers(0, 40, size=(n_s, 2)) * 25.0
    people = rng.integers(1, 40, size=n_d)
    cap = rng.integers(0, 60, size=n_s)
    b = homes(*[(f"B{i}", int(people[i]), Point(*dxy[i])) for i in range(n_d)])
    s = shelters(*[(f"S{j}", int(cap[j]), Point(*sxy[j])) for j in range(n_s)])
    r = assign_shelters(b, "residents", s, "capacity", None)
    cost = np.rint(np.hypot(sxy[:, None, 0] - dxy[None, :, 0],
                            sxy[:, None, 1] - dxy[None, :, 1]) * 100)
    assert our_cost_cm(r) == networkx_optimum(cost, people, cap)
    assert r.unsheltered == max(0, int(people.sum()) - int(cap.sum())) or r.capacity_used == \
        min(int(people.sum()), int(cap.sum()))


@pytest.mark.parametrize("seed", range(4))
def test_road_optimum_equals_networkx(seed):
    """Distances from networkx Dijkstra on the same graph, snapping by brute force."""
    rng = np.random.default_rng(100 + seed)
    n = 7
    xy = np.stack(np.meshgrid(np.arange(n) * 80.0, np.arange(n) * 80.0), -1)
    xy += rng.uniform(-20, 20, xy.shape)
    lines = [LineString(xy[i]) for i in range(n)] + [LineString(xy[:, j]) for j in range(n)]
    net = roads(*lines[: n + n - int(rng.integers(0, 3))])  # sometimes a street is missing
    n_d, n_s = int(rng.integers(10, 25)), int(rng.integers(3, 12))
    dxy = rng.uniform(0, 480, size=(n_d, 2))
    sxy = rng.uniform(0, 480, size=(n_s, 2))
    people = rng.integers(1, 30, size=n_d)
    cap = rng.integers(5, 60, size=n_s)
    b = homes(*[(f"B{i}", int(people[i]), Point(*dxy[i])) for i in range(n_d)])
    s = shelters(*[(f"S{j}", int(cap[j]), Point(*sxy[j])) for j in range(n_s)])
    r = assign_shelters(b, "residents", s, "capacity", net)

    g = road_graph(net)
    nodes = np.array([[d["x"], d["y"]] for _, d in sorted(g.nodes(data=True))])

    def snap(p):
        dd = np.hypot(*(nodes - p).T)
        return int(dd.argmin()), float(dd.min())

    cost = np.full((n_s, n_d), np.inf)
    for j in range(n_s):
        sn, sd = snap(sxy[j])
        lengths = nx.single_source_dijkstra_path_length(g, sn)
        for i in range(n_d):
            dn, dd = snap(dxy[i])
            if dn in lengths:
                cost[j, i] = np.rint((dd + lengths[dn] + sd) * 100)
    reach = np.isfinite(cost).any(axis=0)
    placed, total = networkx_optimum(cost[:, reach], people[reach], cap)
    ours_placed, ours_total = our_cost_cm(r)
    assert ours_placed == placed
    # Our costs round shelter and network parts separately from the building's snap.
    assert abs(ours_total - total) <= int(people.sum())
    assert r.unreachable == int(people[~reach].sum())


# ---------------------------------------------------------------- safe places


def test_safe_places_lists_unaffected_shelters_and_schools():
    s = shelters(("S1", 100, Point(0, 0)), ("S2", 250, Point(500, 0)),
                 ("S3", 80, box(140, -10, 160, 10)))
    schools = gpd.GeoDataFrame({"school_id": ["E1", "E2"], "name": ["North", "South"],
                                "pupils": [300, 450]},
                               geometry=[Point(50, 0), Point(0, 900)], crs=CRS)
    hazard = Point(0, 0).buffer(150)  # touches S3's polygon
    safe = safe_places({"shelters": s, "schools": schools}, hazard)
    assert safe["shelters"] == {"count": 1, "capacity": 250, "missing": False,
                                "items": [{"id": "S2", "name": "Shelter S2", "capacity": 250}]}
    assert safe["schools"]["count"] == 1 and safe["schools"]["pupils"] == 450
    assert safe["schools"]["items"] == [{"id": "E2", "name": "South", "pupils": 450}]
    everything = safe_places({"shelters": s}, None)
    assert everything["shelters"]["count"] == 3 and everything["schools"]["missing"]
    json.dumps(safe)


def test_when_places_run_short_the_building_nearest_the_road_gets_one():
    # Both buildings snap to the street's end (0, 0); only 10 places.
    b = homes(("far", 10, Point(0, 80)), ("near", 10, Point(0, 5)))
    s = shelters(("S1", 10, Point(100, 0)))
    r = assign_shelters(b, "residents", s, "capacity", STREET)
    assert flows_of(r) == [("near", "S1", 10, 105.0)]
    assert r.stats.get("solved_per_building")


# --------------------------------------------------------------------------- grouped demand
# Above ``max_units`` buildings with people the demand is grouped (road node, then
# community or grid cell) and solved on sparse arcs; forced here with a low threshold.


def grid_city(seed, *, n=16, spacing=50.0, buildings=300,
              shelter_caps=(400, 300, 250, 500, 350), people=(1, 8)):
    """An ``n`` × ``n`` street grid, buildings set back from the streets, and shelters
    on it.  Communities are 200 m blocks."""
    rng = np.random.default_rng(seed)
    t = np.arange(n + 1) * spacing
    lines = [LineString([(x, y) for x in t]) for y in t] + \
            [LineString([(x, y) for y in t]) for x in t]  # a vertex at every crossing
    r = gpd.GeoDataFrame({"road_id": [f"R{i}" for i in range(len(lines))]}, geometry=lines,
                         crs=CRS)
    cell = rng.integers(0, n, size=(buildings, 2))
    xy = cell * spacing + spacing / 2 + rng.uniform(-15, 15, size=(buildings, 2))
    b = gpd.GeoDataFrame({"building_id": [f"B{i}" for i in range(buildings)],
                          "residents": rng.integers(*people, size=buildings),
                          "community_id": [f"C{int(x // 200)}-{int(y // 200)}" for x, y in xy]},
                         geometry=[box(x - 5, y - 5, x + 5, y + 5) for x, y in xy], crs=CRS)
    sxy = rng.integers(0, n + 1, size=(len(shelter_caps), 2)) * spacing
    s = shelters(*[(f"S{i}", c, Point(*p)) for i, (c, p) in enumerate(zip(shelter_caps, sxy))])
    return b, s, r


def person_metres(result):
    f = result.flows[result.flows.status == "sheltered"]
    return float((f.people * f.distance_m).sum())


def check_capacity(result):
    a = result.assignment
    assert (a["assigned"] <= a["capacity"]).all()
    f = result.flows
    assert int(f["people"].sum()) == result.displaced
    per = f[f.status == "sheltered"].groupby("shelter_id")["people"].sum()
    assert per.to_dict() == {k: v for k, v in zip(a.shelter_id, a.assigned) if v}


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("k", [12, 1])
def test_road_nodes_as_units_give_the_exact_optimum_when_places_suffice(seed, k):
    # Everyone gets a place: grouping by road node is exact (each building walks its
    # own snap distance whatever the assignment).  k=1 starts with one shelter per
    # unit, so the price oracle must add the others (column generation).
    b, s, r = grid_city(seed)
    exact = assign_shelters(b, "residents", s, "capacity", r)
    grouped = assign_shelters(b, "residents", s, "capacity", r, max_units=250, k_nearest=k)
    assert exact.demand_unit == "building" and grouped.demand_unit == "road_node"
    assert grouped.stats["lp_method"] == "highs_sparse"
    assert grouped.unsheltered == exact.unsheltered == 0
    assert grouped.capacity_used == exact.capacity_used == exact.displaced
    assert person_metres(grouped) == pytest.approx(person_metres(exact),
                                                   abs=0.01 * exact.displaced)
    check_capacity(grouped)
    summary = grouped.to_summary()
    assert summary["demand_unit"] == "road_node"
    assert summary["demand_units"] == grouped.stats["demand_units"] < len(b)
    assert "road node" in summary["demand_note"]["en"] and summary["demand_note"]["zh"]
    assert exact.to_summary()["demand_unit"] == "building"
    json.dumps(summary)


@pytest.mark.parametrize("seed", range(3))
def test_road_nodes_as_units_when_places_run_short(seed):
    # Short of places: the same number sheltered; only who within a node stays
    # differs, so the walk is at most one snap distance a person longer.
    b, s, r = grid_city(seed, shelter_caps=(200, 150, 100, 250, 120))
    exact = assign_shelters(b, "residents", s, "capacity", r)
    grouped = assign_shelters(b, "residents", s, "capacity", r, max_units=250)
    assert grouped.demand_unit == "road_node"
    assert grouped.unsheltered == exact.unsheltered > 0
    assert grouped.capacity_used == exact.capacity_used == int(s.capacity.sum())
    check_capacity(grouped)
    max_snap = 15 * 2 ** 0.5 + 5 * 2 ** 0.5  # a building's point to its road node
    assert person_metres(exact) - 0.01 * exact.capacity_used <= person_metres(grouped) \
        <= person_metres(exact) + exact.capacity_used * 2 * max_snap


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("short", [False, True])
def test_communities_and_grid_cells_as_units(seed, short):
    caps = (200, 150, 100, 250, 120) if short else (400, 300, 250, 500, 350)
    b, s, r = grid_city(seed, shelter_caps=caps)
    exact = assign_shelters(b, "residents", s, "capacity", r)
    by_comm = assign_shelters(b, "residents", s, "capacity", r, max_units=40)
    by_grid = assign_shelters(b, "residents", s, "capacity", r, max_units=40,
                              group_column=None)
    assert by_comm.demand_unit == "community"
    assert by_comm.demand_units == b.community_id.nunique() <= 16
    assert by_grid.demand_unit.startswith("grid_") and by_grid.demand_units <= 40
    # A unit's buildings are within one 200 m block (or a cell of at most 500 m):
    # moving everyone to the unit's node changes a walk by at most the walk between
    # two points of the block along the grid (Manhattan) plus the straight access leg.
    for res, size in ((by_comm, 200.0), (by_grid, float(by_grid.demand_unit[5:-1]))):
        assert res.capacity_used == exact.capacity_used
        assert res.unsheltered == exact.unsheltered
        check_capacity(res)
        reach = 2 * size + 2 * 50.0 + size * 2 ** 0.5 + 50.0
        assert abs(person_metres(res) - person_metres(exact)) <= exact.capacity_used * reach
        assert res.longest_walk_m == pytest.approx(
            res.flows.loc[res.flows.status == "sheltered", "distance_m"].max())
        summary = res.to_summary()
        assert summary["demand_unit"] == res.demand_unit
        assert summary["demand_note"]["en"] and summary["demand_note"]["zh"]


def test_grouped_straight_line_fallback():
    b, s, _ = grid_city(1)
    exact = assign_shelters(b, "residents", s, "capacity", None)
    grouped = assign_shelters(b, "residents", s, "capacity", None, max_units=40, k_nearest=1)
    assert grouped.method == "straight_line" and grouped.demand_unit == "community"
    assert grouped.capacity_used == exact.capacity_used
    check_capacity(grouped)
    # straight lines: the detour through the unit's centre is at most twice its reach
    assert person_metres(grouped) <= person_metres(exact) + exact.capacity_used * 2 * 200 * 2 ** 0.5


def test_grouped_unreachable_units():
    # Buildings on a road piece with no shelter are unreachable, grouped or not.
    b, s, r = grid_city(2)
    island = gpd.GeoDataFrame({"road_id": ["X"]},
                              geometry=[LineString([(5000, 0), (5000, 500)])], crs=CRS)
    far = gpd.GeoDataFrame({"building_id": [f"F{i}" for i in range(30)],
                            "residents": np.full(30, 3), "community_id": "CF"},
                           geometry=[Point(5010, 10 * i) for i in range(30)], crs=CRS)
    b2 = gpd.GeoDataFrame(gpd.pd.concat([b, far], ignore_index=True), crs=CRS)
    r2 = gpd.GeoDataFrame(gpd.pd.concat([r, island], ignore_index=True), crs=CRS)
    exact = assign_shelters(b2, "residents", s, "capacity", r2)
    grouped = assign_shelters(b2, "residents", s, "capacity", r2, max_units=100)
    assert exact.unreachable == grouped.unreachable == 90
    assert grouped.capacity_used == exact.capacity_used
    check_capacity(grouped)
