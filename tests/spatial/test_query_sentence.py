"""The query sentences, asserted exactly in English and Simplified Chinese.

These strings are the specification the query builder (GUI) and the reports
show; change them only on purpose."""

from __future__ import annotations

import pytest

from spatial.query.model import Query, Relation, parse_query
from spatial.query.sentence import format_distance, sentence, singular

# Layer titles as layer metadata gives them.
TITLES = {
    "schools": {"en": "Schools", "zh": "学校"},
    "legal_entities": {"en": "Legal entities", "zh": "法人单位"},
    "communities": {"en": "Communities", "zh": "社区"},
    "hospitals": {"en": "Hospitals", "zh": "医院"},
    "police_stations": {"en": "Police stations", "zh": "派出所"},
    "shelters": {"en": "Shelters", "zh": "应急避难场所"},
    "buildings": {"en": "Buildings", "zh": "建筑"},
    "flood_zones": {"en": "Flood zones", "zh": "洪水淹没区"},
    "elderly_care": {"en": "Elderly care homes", "zh": "养老机构"},
    "bus_stops": {"en": "Bus stops", "zh": "公交站"},
    "cameras": {"en": "CCTV cameras", "zh": "视频监控点"},
    "query:schools_near_hazards": {"en": "Schools near hazards", "zh": "危化企业周边学校"},
}


def C(column, op, value=None):
    if op in ("is_null", "not_null"):
        return {"column": column, "op": op}
    return {"column": column, "op": op, "value": value}


BY_COMMUNITY = {"layer": "communities", "key": "community_id"}

CASES = [
    (
        "design example",
        {"version": 1, "target": "schools", "where": [C("level", "in", ["primary", "middle"])],
         "relation": {"kind": "within_distance", "distance_m": 1000, "layer": "legal_entities",
                      "where": [C("hazard_class", "=", "hazardous_chemicals")]},
         "group_by": BY_COMMUNITY,
         "aggregate": [{"fn": "count", "as": "schools"},
                       {"fn": "sum", "column": "pupils", "as": "pupils"}]},
        "Schools whose level is primary or middle, within 1,000 m of a legal entity whose hazard "
        "class is hazardous chemicals, counted by community, with the sum of pupils",
        "危险化学品法人单位1,000米范围内、学段为小学或初中的学校，按社区统计，并计算在校学生数总和",
    ),
    (
        "schools near hazardous chemicals by community",
        {"version": 1, "target": "schools",
         "relation": {"kind": "within_distance", "distance_m": 1000, "layer": "legal_entities",
                      "where": [C("hazard_class", "=", "hazardous_chemicals")]},
         "group_by": BY_COMMUNITY},
        "Schools within 1,000 m of a legal entity whose hazard class is hazardous chemicals, "
        "counted by community",
        "危险化学品法人单位1,000米范围内的学校，按社区统计",
    ),
    (
        "nearest k with max distance",
        {"version": 1, "target": "hospitals",
         "relation": {"kind": "nearest", "k": 2, "max_distance_m": 3000,
                      "layer": "police_stations"}},
        "Each hospital with its 2 nearest police stations within 3 km",
        "每个医院及其3公里范围内最近的2个派出所",
    ),
    (
        "nearest one, conditions on both sides",
        {"version": 1, "target": "elderly_care", "where": [C("beds", ">=", 100)],
         "relation": {"kind": "nearest", "k": 1, "layer": "hospitals",
                      "where": [C("grade", "=", "3A")]}},
        "Each elderly care home whose number of beds is at least 100, with its nearest hospital "
        "whose grade is 3A",
        "每个床位数不小于100的养老机构及其最近的等级为3A的医院",
    ),
    (
        "beyond distance",
        {"version": 1, "target": "buildings",
         "relation": {"kind": "beyond_distance", "distance_m": 1500, "layer": "shelters"}},
        "Buildings more than 1,500 m from any shelter",
        "距所有应急避难场所均超过1,500米的建筑",
    ),
    (
        "beyond distance, value modifiers in Chinese",
        {"version": 1, "target": "buildings",
         "where": [C("use", "in", ["residential", "mixed"]), C("age_65_plus", ">=", 20)],
         "relation": {"kind": "beyond_distance", "distance_m": 1500, "layer": "shelters"}},
        "Buildings whose use is residential or mixed and number of residents aged 65 and over is "
        "at least 20, more than 1,500 m from any shelter",
        "距所有应急避难场所均超过1,500米、65岁及以上人口不小于20的住宅或混合用途建筑",
    ),
    (
        "intersects, grouped, sum",
        {"version": 1, "target": "buildings",
         "relation": {"kind": "intersects", "layer": "flood_zones",
                      "where": [C("depth_class", ">=", 2)]},
         "group_by": BY_COMMUNITY,
         "aggregate": [{"fn": "count", "as": "buildings"},
                       {"fn": "sum", "column": "residents", "as": "residents"}]},
        "Buildings intersecting a flood zone whose depth class is at least 2, counted by "
        "community, with the sum of residents",
        "与水深等级不小于2的洪水淹没区相交的建筑，按社区统计，并计算常住人口总和",
    ),
    (
        "within",
        {"version": 1, "target": "schools", "where": [C("pupils", "<=", 300)],
         "relation": {"kind": "within", "layer": "communities",
                      "where": [C("district", "=", "Jiang'an")]}},
        "Schools whose number of pupils is at most 300, inside a community whose district is "
        "Jiang'an",
        "位于所属区为Jiang'an的社区内、在校学生数不大于300的学校",
    ),
    (
        "contains",
        {"version": 1, "target": "communities",
         "relation": {"kind": "contains", "layer": "schools",
                      "where": [C("level", "in", ["primary", "middle", "high"])]}},
        "Communities containing a school whose level is primary, middle or high",
        "包含学段为小学、初中或高中的学校的社区",
    ),
    (
        "OR group, between with unit",
        {"version": 1, "target": "buildings",
         "where": [C("year_built", "<", 1990),
                   {"any": [C("use", "=", "residential"), C("floors", ">", 10)]},
                   C("height_m", "between", [10, 30])]},
        "Buildings whose year built is less than 1990, height is between 10 and 30 m and either "
        "use is residential or number of floors is more than 10",
        "建成年份小于1990且（用途为住宅或层数大于10）且高度在10至30米之间的建筑",
    ),
    (
        "only an OR group",
        {"version": 1, "target": "legal_entities",
         "where": [{"any": [C("employees", ">", 500),
                            {"any": [C("hazard_class", "=", "hazardous_chemicals"),
                                     C("industry", "=", "C26")]}]}]},
        "Legal entities where either number of employees is more than 500, hazard class is "
        "hazardous chemicals or industry is C26",
        "从业人数大于500或危险类别为危险化学品或行业为C26的法人单位",
    ),
    (
        "chained saved query as target",
        {"version": 1, "target": "query:schools_near_hazards", "where": [C("pupils", ">", 500)],
         "relation": {"kind": "within_distance", "distance_m": 500, "layer": "bus_stops"}},
        "Features in the result of saved query 'Schools near hazards' whose number of pupils is "
        "more than 500, within 500 m of a bus stop",
        "公交站500米范围内、在校学生数大于500的已保存查询“危化企业周边学校”的结果",
    ),
    (
        "chained saved query as reference, km",
        {"version": 1, "target": "buildings", "where": [C("use", "=", "residential")],
         "relation": {"kind": "within_distance", "distance_m": 2500,
                      "layer": "query:pupils_by_c"}},
        "Buildings whose use is residential, within 2.5 km of a feature in the result of saved "
        "query 'pupils_by_c'",
        "已保存查询“pupils_by_c”的结果2.5公里范围内的住宅建筑",
    ),
    (
        "totals without grouping, every other op",
        {"version": 1, "target": "legal_entities",
         "where": [C("name", "contains", "化工"), C("employees", "between", [10, 500]),
                   C("industry", "not_in", ["C26", "C27"]), C("hazard_class", "not_null")],
         "aggregate": [{"fn": "count", "as": "n"},
                       {"fn": "mean", "column": "employees", "as": "e"}]},
        "Legal entities whose name contains \"化工\", number of employees is between 10 and 500, "
        "industry is not C26 or C27 and hazard class is not empty, counted in total, with the "
        "average of employees",
        "名称包含“化工”且从业人数在10至500之间且行业不属于C26、C27且危险类别不为空的法人单位，"
        "统计总数，并计算从业人数平均值",
    ),
    (
        "booleans, dates, !=, is_null, a sum without a count",
        {"version": 1, "target": "shelters",
         "where": [C("indoor", "=", True), C("opened", "<", "2010-01-01"),
                   C("kind", "!=", "school"), C("capacity", "is_null")],
         "aggregate": [{"fn": "sum", "column": "capacity", "as": "capacity"}]},
        "Shelters whose indoor is true, opened is before 2010-01-01, kind is not school and "
        "capacity is empty, with the sum of capacity",
        "indoor为是且opened早于2010-01-01且类型不为school且容纳人数为空的应急避难场所，计算容纳人数总和",
    ),
    (
        "acronym title, an, k > 1 within metres",
        {"version": 1, "target": "cameras",
         "relation": {"kind": "nearest", "k": 3, "max_distance_m": 250, "layer": "elderly_care"},
         "group_by": BY_COMMUNITY,
         "aggregate": [{"fn": "max", "column": "distance_m", "as": "farthest"}]},
        "Each CCTV camera with its 3 nearest elderly care homes within 250 m, by community, with "
        "the maximum of distances",
        "每个视频监控点及其250米范围内最近的3个养老机构，按社区汇总，并计算距离最大值",
    ),
]


@pytest.mark.parametrize("doc, en, zh", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_sentences(doc, en, zh):
    q = parse_query(doc)
    assert sentence(q, "en", TITLES) == en
    assert sentence(q, "zh", TITLES) == zh


def test_without_titles_the_layer_names_read_plainly():
    q = parse_query({
        "version": 1, "target": "police_stations", "where": [C("officers", ">", 12.5)],
        "relation": {"kind": "beyond_distance", "distance_m": 12.5, "layer": "fire_stations"},
        "group_by": {"layer": "police_precincts", "key": "precinct_id"},
        "aggregate": [{"fn": "min", "column": "officers", "as": "mn"},
                      {"fn": "max", "column": "officers", "as": "mx"}]})
    assert sentence(q) == (
        "Police stations whose number of officers is more than 12.5, more than 12.5 m from any "
        "fire station, by police precinct, with the minimum of officers and the maximum of "
        "officers")
    assert sentence(q, "zh") == (
        "距所有fire stations均超过12.5米、警员数大于12.5的police stations，按police precincts汇总，"
        "并计算警员数最小值、警员数最大值")


def test_framework_layers_have_chinese_titles_built_in():
    q = parse_query({"version": 1, "target": "buildings",
                     "where": [C("use", "=", "residential"), C("road_id", "=", "R1")],
                     "relation": {"kind": "within", "layer": "communities"},
                     "group_by": {"layer": "communities", "key": "community_id"}})
    assert sentence(q, "zh") == "位于社区内、道路编号为R1的住宅建筑，按社区统计"
    assert sentence(q, "en") == ("Buildings whose use is residential and road ID is R1, inside a "
                                 "community, counted by community")


def test_unknown_columns_and_values_read_plainly():
    q = parse_query({"version": 1, "target": "sites",
                     "where": [C("major_hazard_level", "in", ["level_1", "level_2"]),
                               C("depth_m", "=", 2), C("site_id", "not_in", ["X"])]})
    assert sentence(q) == ("Sites whose major hazard level is level 1 or level 2, depth is 2 m "
                           "and site ID is not X")
    assert sentence(q, "zh") == "major_hazard_level为level_1或level_2且depth_m为2米且site_id不为X的sites"


def test_a_bare_target():
    q = parse_query({"version": 1, "target": "schools"})
    assert (sentence(q, titles=TITLES), sentence(q, "zh", TITLES)) == ("Schools", "学校")


def test_language_codes_dicts_and_bad_input():
    doc = {"version": 1, "target": "schools"}
    assert sentence(doc, "zh_CN", TITLES) == "学校"
    assert sentence(doc, "en-GB", TITLES) == "Schools"
    with pytest.raises(ValueError, match="lang must be one of en, zh"):
        sentence(doc, "fr")
    with pytest.raises(TypeError, match="needs a Query"):
        sentence("schools")


def test_dataclass_made_in_code():
    q = Query("schools", relation=Relation("nearest", "shelters", k=1, max_distance_m=2000.0))
    assert sentence(q, titles=TITLES) == "Each school with its nearest shelter within 2 km"
    assert sentence(q, "zh", TITLES) == "每个学校及其2公里范围内最近的应急避难场所"


@pytest.mark.parametrize("metres, en, zh", [
    (0, "0 m", "0米"), (500, "500 m", "500米"), (999.5, "999.5 m", "999.5米"),
    (1000, "1,000 m", "1,000米"), (1500, "1,500 m", "1,500米"), (1999, "1,999 m", "1,999米"),
    (2000, "2 km", "2公里"), (2500.0, "2.5 km", "2.5公里"), (2550, "2,550 m", "2,550米"),
    (3000, "3 km", "3公里"), (12_300, "12.3 km", "12.3公里"), (1234.567, "1,234.57 m", "1,234.57米"),
])
def test_distance_rule(metres, en, zh):
    assert format_distance(metres) == en
    assert format_distance(metres, "zh") == zh


@pytest.mark.parametrize("plural, one", [
    ("Legal entities", "Legal entity"), ("communities", "community"), ("bus stops", "bus stop"),
    ("churches", "church"), ("boxes", "box"), ("addresses", "address"),
    ("flood zones", "flood zone"), ("rain gauges", "rain gauge"), ("land use", "land use"),
    ("elderly care", "elderly care"), ("river", "river"), ("campus", "campus"),
    ("CCTV cameras", "CCTV camera"), ("pollution sources", "pollution source"),
])
def test_singular(plural, one):
    assert singular(plural) == one
