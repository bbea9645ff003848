"""One plain sentence per query, in English or Simplified Chinese.

The query builder shows it under the form, reports print it above the
result table, and the tests pin it down (``tests/spatial/test_query_sentence.py``
is the specification).  The output is deterministic: the same query and titles
always give the same sentence.

Rules
-----
- Layer names read as their title from the layer metadata (``titles``:
  layer name -> ``{"en": ..., "zh": ...}``), else as a readable form of the
  name (``police_stations`` -> "police stations"; in Chinese, the framework
  layers have built-in titles).  English titles are taken to be plural;
  :func:`singular` makes the singular ("Legal entities" -> "legal entity").
  A saved query ``query:NAME`` reads "the result of saved query 'NAME'" (or
  its title, when ``titles`` has a ``"query:NAME"`` entry).
- Distances: from 2,000 m up, a whole number of hundreds of metres reads in
  kilometres ("2 km", "2.5 km", "3公里"); every other distance reads in metres
  with a thousands separator ("500 m", "1,000 m", "1,500 m", "1,250米").
- Values from the data: in English an underscore reads as a space
  (``hazardous_chemicals`` -> "hazardous chemicals"); in Chinese, a few
  framework values have built-in words (``hazardous_chemicals`` -> 危险化学品,
  ``residential`` -> 住宅), others read as they are.  Columns ending in ``_m``
  add the unit to their values ("20 m", "20米").
- Conditions on the same layer join with "and"/"且"; an OR group reads
  "either A or B" / "A或B".
- No full stop at the end.

Examples
--------
>>> from spatial.query.model import parse_query
>>> q = parse_query({"version": 1, "target": "hospitals", "relation": {
...     "kind": "nearest", "layer": "police_stations", "k": 2, "max_distance_m": 3000}})
>>> sentence(q)
'Each hospital with its 2 nearest police stations within 3 km'
>>> sentence(q, "zh", {"hospitals": {"zh": "医院"}, "police_stations": {"zh": "派出所"}})
'每个医院及其3公里范围内最近的2个派出所'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .model import QUERY_PREFIX, AnyOf, Condition, Query, parse_query

__all__ = ["sentence", "singular", "format_distance"]

LANGS = ("en", "zh")

# Columns of the framework and the bundled overlays:
# name -> (English in a condition, English after "the sum of", Chinese).
_COLUMN_WORDS: dict[str, tuple[str, str, str]] = {
    "building_id": ("building ID", "building ID", "建筑编号"),
    "use": ("use", "use", "用途"),
    "floors": ("number of floors", "floors", "层数"),
    "height_m": ("height", "height", "高度"),
    "year_built": ("year built", "year built", "建成年份"),
    "address": ("address", "address", "地址"),
    "community_id": ("community ID", "community ID", "社区编号"),
    "residents": ("number of residents", "residents", "常住人口"),
    "age_0_14": ("number of residents aged 0–14", "residents aged 0–14", "0–14岁人口"),
    "age_15_64": ("number of residents aged 15–64", "residents aged 15–64", "15–64岁人口"),
    "age_65_plus": ("number of residents aged 65 and over", "residents aged 65 and over",
                    "65岁及以上人口"),
    "uscc": ("unified social credit code", "unified social credit code", "统一社会信用代码"),
    "name": ("name", "name", "名称"),
    "industry": ("industry", "industry", "行业"),
    "employees": ("number of employees", "employees", "从业人数"),
    "hazard_class": ("hazard class", "hazard class", "危险类别"),
    "district": ("district", "district", "所属区"),
    "road_id": ("road ID", "road ID", "道路编号"),
    "class": ("class", "class", "等级"),
    "level": ("level", "level", "学段"),
    "pupils": ("number of pupils", "pupils", "在校学生数"),
    "beds": ("number of beds", "beds", "床位数"),
    "grade": ("grade", "grade", "等级"),
    "officers": ("number of officers", "officers", "警员数"),
    "engines": ("number of fire engines", "fire engines", "消防车数"),
    "capacity": ("capacity", "capacity", "容纳人数"),
    "kind": ("kind", "kind", "类型"),
    "pollutant": ("pollutant", "pollutant", "污染物"),
    "depth_class": ("depth class", "depth class", "水深等级"),
    "depth_min_m": ("minimum depth", "minimum depth", "最小水深"),
    "depth_max_m": ("maximum depth", "maximum depth", "最大水深"),
    "distance_m": ("distance", "distances", "距离"),
    "nearest_id": ("nearest feature's ID", "nearest feature's ID", "最近要素编号"),
}

# Values with a Chinese word, by column.
_ZH_VALUES: dict[str, dict[str, str]] = {
    "use": {"residential": "住宅", "commercial": "商业", "industrial": "工业", "public": "公共",
            "mixed": "混合用途"},
    "hazard_class": {"hazardous_chemicals": "危险化学品"},
    "level": {"primary": "小学", "middle": "初中", "high": "高中", "kindergarten": "幼儿园"},
}
# Columns whose Chinese value can stand before the noun: use = residential -> 住宅建筑.
_ZH_PREFIX_COLUMNS = ("hazard_class", "use")

# Chinese titles of the framework layers (their names are fixed by the schema).
_ZH_FRAMEWORK = {"buildings": "建筑", "population": "人口", "legal_entities": "法人单位",
                 "communities": "社区", "roads": "道路"}

_UNCOUNTABLE = {"use", "care", "police", "data", "gas", "news", "series", "species",
                "equipment", "traffic", "housing", "infrastructure", "population", "land"}
_EN_ORDER = {"<": ("less than", "before"), "<=": ("at most", "on or before"),
             ">": ("more than", "after"), ">=": ("at least", "on or after")}
_ZH_ORDER = {"<": ("小于", "早于"), "<=": ("不大于", "不晚于"), ">": ("大于", "晚于"),
             ">=": ("不小于", "不早于")}
_EN_FN = {"sum": "sum", "mean": "average", "min": "minimum", "max": "maximum"}
_ZH_FN = {"sum": "总和", "mean": "平均值", "min": "最小值", "max": "最大值"}


# --------------------------------------------------------------------------- small helpers

def singular(phrase: str) -> str:
    """The singular of an English plural noun phrase (its last word only).

    A small helper, not an inflector: ``-ies`` -> ``-y``; ``-ches``, ``-shes``,
    ``-sses``, ``-xes`` lose ``-es``; other words in ``-s`` (but not ``-ss``,
    ``-us``, ``-is``) lose the ``s``; uncountable words ("use", "care") stay.

    Examples
    --------
    >>> [singular(p) for p in ("Legal entities", "bus stops", "addresses", "land use",
    ...                        "flood zones", "CCTV cameras")]
    ['Legal entity', 'bus stop', 'address', 'land use', 'flood zone', 'CCTV camera']
    """
    head, _, word = phrase.rpartition(" ")
    low = word.lower()
    if len(word) < 3 or low in _UNCOUNTABLE:
        one = word
    elif low.endswith("ies"):
        one = word[:-3] + "y"
    elif low.endswith(("ches", "shes", "sses", "xes", "zzes")):
        one = word[:-2]
    elif low.endswith(("ss", "us", "is")):
        one = word
    elif low.endswith("s"):
        one = word[:-1]
    else:
        one = word
    return f"{head} {one}" if head else one


def _article(phrase: str) -> str:
    low = phrase.lower()
    if low.startswith(("uni", "use", "usu", "eu", "one", "ure")):
        return "a"
    if low.startswith(("hour", "honest", "heir")) or (low[:1] in "aeiou" and low):
        return "an"
    return "a"


def _lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is an acronym ("CCTV")."""
    word = text.split(" ", 1)[0]
    if word[:1].isupper() and word[1:] == word[1:].lower():
        return text[:1].lower() + text[1:]
    return text


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _number(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def format_distance(d: float, lang: str = "en") -> str:
    """A distance in metres as the sentences write it.

    From 2,000 m up, a whole number of hundreds of metres reads in kilometres;
    anything else in metres with a thousands separator.

    Examples
    --------
    >>> [format_distance(d) for d in (0, 500, 1000, 1500, 2000, 2500, 2550, 12.5, 3000.0)]
    ['0 m', '500 m', '1,000 m', '1,500 m', '2 km', '2.5 km', '2,550 m', '12.5 m', '3 km']
    >>> format_distance(1000, "zh"), format_distance(3000, "zh")
    ('1,000米', '3公里')
    """
    if d >= 2000 and math.isclose(d % 100, 0.0, abs_tol=1e-9):
        km = d / 1000
        text = str(int(km)) if float(km).is_integer() else f"{km:g}"
        return f"{text} km" if lang == "en" else f"{text}公里"
    if float(d).is_integer():
        text = f"{int(d):,}"
    else:
        text = f"{d:,.2f}".rstrip("0").rstrip(".")
    return f"{text} m" if lang == "en" else f"{text}米"


def _flatten(group: AnyOf) -> list[Condition]:
    out: list[Condition] = []
    for c in group.conditions:
        out.extend(_flatten(c) if isinstance(c, AnyOf) else [c])
    return out


def _en_list(items: list[str], word: str) -> str:
    if len(items) <= 2:
        return f" {word} ".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


# --------------------------------------------------------------------------- English

class _English:
    def __init__(self, titles: Mapping[str, dict]):
        self.titles = titles

    def saved_name(self, layer: str) -> str:
        name = layer[len(QUERY_PREFIX):]
        title = (self.titles.get(layer) or {}).get("en") or name
        return f"the result of saved query '{title}'"

    def plural(self, layer: str) -> str:
        if layer.startswith(QUERY_PREFIX):
            return f"features in {self.saved_name(layer)}"
        title = (self.titles.get(layer) or {}).get("en") or layer.replace("_", " ")
        return _lower_first(title)

    def single(self, layer: str) -> str:
        if layer.startswith(QUERY_PREFIX):
            return f"feature in {self.saved_name(layer)}"
        return singular(self.plural(layer))

    @staticmethod
    def column(name: str, for_aggregate: bool = False) -> str:
        words = _COLUMN_WORDS.get(name)
        if words:
            return words[1] if for_aggregate else words[0]
        base = name[:-2] if name.endswith("_m") and len(name) > 2 else name
        if base.endswith("_id"):
            base = base[:-3] + " ID"
        return base.replace("_", " ")

    @staticmethod
    def value(column: str, v: Any) -> str:
        if isinstance(v, str):
            return v.replace("_", " ")
        text = _number(v)
        if column.endswith("_m") and not isinstance(v, bool):
            text += " m"
        return text

    def condition(self, c: Condition) -> str:
        col, op = self.column(c.column), c.op
        if op == "=":
            return f"{col} is {self.value(c.column, c.value)}"
        if op == "!=":
            return f"{col} is not {self.value(c.column, c.value)}"
        if op in _EN_ORDER:
            word = _EN_ORDER[op][isinstance(c.value, str)]
            return f"{col} is {word} {self.value(c.column, c.value)}"
        if op in ("in", "not_in"):
            values = _en_list([self.value(c.column, v) for v in c.value], "or")
            return f"{col} is {values}" if op == "in" else f"{col} is not {values}"
        if op == "between":
            low, high = c.value
            low_text = self.value(c.column, low)
            if low_text.endswith(" m"):
                low_text = low_text[:-2]
            return f"{col} is between {low_text} and {self.value(c.column, high)}"
        if op == "contains":
            return f"{col} contains \"{c.value}\""
        if op == "is_null":
            return f"{col} is empty"
        return f"{col} is not empty"  # not_null

    def conditions(self, where) -> str:
        """``whose A and B`` (or ``where either A or B`` when only OR groups)."""
        plain = [self.condition(c) for c in where if isinstance(c, Condition)]
        groups = []
        for g in where:
            if isinstance(g, AnyOf):
                members = [self.condition(c) for c in _flatten(g)]
                groups.append(members[0] if len(members) == 1
                              else "either " + _en_list(members, "or"))
        lead = "whose" if plain else "where"
        return f"{lead} {_en_list(plain + groups, 'and')}"

    def phrase(self, noun: str, where) -> str:
        return f"{noun} {self.conditions(where)}" if where else noun

    def with_article(self, layer: str, where) -> str:
        noun = self.single(layer)
        return f"{_article(noun)} {self.phrase(noun, where)}"

    def sentence(self, q: Query) -> str:
        rel = q.relation
        if rel is not None and rel.kind == "nearest":
            head = "each " + self.phrase(self.single(q.target), q.where)
            if rel.k == 1:
                near = f"its nearest {self.single(rel.layer)}"
            else:
                near = f"its {rel.k} nearest {self.plural(rel.layer)}"
            if rel.max_distance_m is not None:
                near += f" within {format_distance(rel.max_distance_m)}"
            if rel.where:
                near += " " + self.conditions(rel.where)
            text = f"{head}{',' if q.where else ''} with {near}"
        else:
            text = self.phrase(self.plural(q.target), q.where)
            if rel is not None:
                text += (", " if q.where else " ") + self.relation(rel)
        return _upper_first(text + self.tail(q))

    def relation(self, rel) -> str:
        if rel.kind == "beyond_distance":
            return (f"more than {format_distance(rel.distance_m)} from any "
                    f"{self.phrase(self.single(rel.layer), rel.where)}")
        ref = self.with_article(rel.layer, rel.where)
        if rel.kind == "within_distance":
            return f"within {format_distance(rel.distance_m)} of {ref}"
        return {"intersects": "intersecting", "within": "inside",
                "contains": "containing"}[rel.kind] + " " + ref

    def tail(self, q: Query) -> str:
        counted = any(a.fn == "count" for a in q.aggregate)
        others = [f"the {_EN_FN[a.fn]} of {self.column(a.column, True)}"
                  for a in q.aggregate if a.fn != "count"]
        text = ""
        if q.group_by is not None:
            zone = self.single(q.group_by.layer)
            text = f", counted by {zone}" if counted or not others else f", by {zone}"
        elif counted:
            text = ", counted in total"
        if others:
            text += ", with " + _en_list(others, "and")
        return text


# --------------------------------------------------------------------------- Chinese

class _Chinese:
    def __init__(self, titles: Mapping[str, dict]):
        self.titles = titles

    def noun(self, layer: str) -> str:
        if layer.startswith(QUERY_PREFIX):
            name = layer[len(QUERY_PREFIX):]
            title = (self.titles.get(layer) or {}).get("zh") or name
            return f"已保存查询“{title}”的结果"
        t = self.titles.get(layer) or {}
        return (t.get("zh") or _ZH_FRAMEWORK.get(layer) or t.get("en")
                or layer.replace("_", " "))

    @staticmethod
    def column(name: str) -> str:
        words = _COLUMN_WORDS.get(name)
        return words[2] if words else name

    @staticmethod
    def value(column: str, v: Any) -> str:
        if isinstance(v, bool):
            return "是" if v else "否"
        if isinstance(v, str):
            return _ZH_VALUES.get(column, {}).get(v, v)
        text = _number(v)
        return text + "米" if column.endswith("_m") else text

    def condition(self, c: Condition) -> str:
        col, op = self.column(c.column), c.op
        if op == "=":
            return f"{col}为{self.value(c.column, c.value)}"
        if op == "!=":
            return f"{col}不为{self.value(c.column, c.value)}"
        if op in _ZH_ORDER:
            word = _ZH_ORDER[op][isinstance(c.value, str)]
            return f"{col}{word}{self.value(c.column, c.value)}"
        values = None
        if op in ("in", "not_in"):
            values = [self.value(c.column, v) for v in c.value]
        if op == "in":
            return f"{col}为{self._or(values)}"
        if op == "not_in":
            if len(values) == 1:
                return f"{col}不为{values[0]}"
            return f"{col}不属于{'、'.join(values)}"
        if op == "between":
            low, high = c.value
            low_text = self.value(c.column, low)
            if low_text.endswith("米") and not isinstance(low, str):
                low_text = low_text[:-1]
            return f"{col}在{low_text}至{self.value(c.column, high)}之间"
        if op == "contains":
            return f"{col}包含“{c.value}”"
        if op == "is_null":
            return f"{col}为空"
        return f"{col}不为空"  # not_null

    @staticmethod
    def _or(values: list[str]) -> str:
        if len(values) <= 2:
            return "或".join(values)
        return "、".join(values[:-1]) + "或" + values[-1]

    def prefix(self, c) -> str | None:
        """The value as a modifier before the noun (危险化学品法人单位), if it reads so."""
        if not isinstance(c, Condition) or c.column not in _ZH_PREFIX_COLUMNS:
            return None
        words = _ZH_VALUES[c.column]
        if c.op == "=" and isinstance(c.value, str) and c.value in words:
            return words[c.value]
        if c.op == "in" and all(isinstance(v, str) and v in words for v in c.value):
            return self._or([words[v] for v in c.value])
        return None

    def split(self, where) -> tuple[str, str]:
        """(modifiers before the noun, the other conditions as one clause).

        An OR group is bracketed when other conditions stand beside it.
        """
        prefixes: list[str] = []
        clauses: list[tuple[str, bool]] = []  # (text, is an OR of several)
        for c in where:
            p = self.prefix(c)
            if p is not None:
                prefixes.append(p)
            elif isinstance(c, AnyOf):
                members = [self.condition(m) for m in _flatten(c)]
                clauses.append(("或".join(members), len(members) > 1))
            else:
                clauses.append((self.condition(c), False))
        if len(clauses) > 1:
            texts = [f"（{t}）" if is_or else t for t, is_or in clauses]
        else:
            texts = [t for t, _ in clauses]
        return "".join(prefixes), "且".join(texts)

    def phrase(self, layer: str, where, attributes: tuple[str, ...] = ()) -> str:
        prefix, clause = self.split(where)
        attrs = [a for a in (*attributes, clause) if a]
        noun = prefix + self.noun(layer)
        return f"{'、'.join(attrs)}的{noun}" if attrs else noun

    def sentence(self, q: Query) -> str:
        rel = q.relation
        if rel is not None and rel.kind == "nearest":
            head = "每个" + self.phrase(q.target, q.where)
            near = ""
            if rel.max_distance_m is not None:
                near += f"{format_distance(rel.max_distance_m, 'zh')}范围内"
            near += "最近的" + (f"{rel.k}个" if rel.k != 1 else "")
            text = f"{head}及其{near}{self.phrase(rel.layer, rel.where)}"
        else:
            attributes = (self.relation(rel),) if rel is not None else ()
            text = self.phrase(q.target, q.where, attributes)
        return text + self.tail(q)

    def relation(self, rel) -> str:
        ref = self.phrase(rel.layer, rel.where)
        if rel.kind == "within_distance":
            return f"{ref}{format_distance(rel.distance_m, 'zh')}范围内"
        if rel.kind == "beyond_distance":
            return f"距所有{ref}均超过{format_distance(rel.distance_m, 'zh')}"
        if rel.kind == "intersects":
            return f"与{ref}相交"
        if rel.kind == "within":
            return f"位于{ref}内"
        return f"包含{ref}"  # contains

    def tail(self, q: Query) -> str:
        counted = any(a.fn == "count" for a in q.aggregate)
        others = [f"{self.column(a.column)}{_ZH_FN[a.fn]}"
                  for a in q.aggregate if a.fn != "count"]
        text = ""
        if q.group_by is not None:
            zone = self.noun(q.group_by.layer)
            text = f"，按{zone}统计" if counted or not others else f"，按{zone}汇总"
        elif counted:
            text = "，统计总数"
        if others:
            text += ("，并计算" if text else "，计算") + "、".join(others)
        return text


# --------------------------------------------------------------------------- public

def sentence(q: Query | Mapping, lang: str = "en",
             titles: Mapping[str, dict] | None = None) -> str:
    """The query as one plain sentence in English or Simplified Chinese.

    Parameters
    ----------
    q : Query or dict
        A parsed query (a dict is parsed without a catalog first).
    lang : {"en", "zh"}
        The language; ``"zh_CN"``, ``"zh-Hans"`` … count as ``"zh"``.
    titles : mapping, optional
        Layer name -> ``{"en": "Schools", "zh": "学校"}`` from the layer
        metadata; a ``"query:NAME"`` entry titles a saved query.

    Examples
    --------
    >>> q = parse_query({"version": 1, "target": "buildings", "relation": {
    ...     "kind": "beyond_distance", "distance_m": 1500, "layer": "shelters"}})
    >>> sentence(q, titles={"buildings": {"en": "Buildings"}})
    'Buildings more than 1,500 m from any shelter'
    >>> sentence(q, "zh", {"shelters": {"zh": "应急避难场所"}})
    '距所有应急避难场所均超过1,500米的建筑'
    """
    if isinstance(lang, str) and lang.lower().startswith("zh"):
        lang = "zh"
    elif isinstance(lang, str) and lang.lower().startswith("en"):
        lang = "en"
    else:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    if isinstance(q, Mapping):
        q = parse_query(q)
    if not isinstance(q, Query):
        raise TypeError(f"sentence() needs a Query, not {type(q).__name__}")
    titles = titles or {}
    return (_English(titles) if lang == "en" else _Chinese(titles)).sentence(q)
