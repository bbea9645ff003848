"""The query file, version 1 (DESIGN.md, "The query file"): its parsed form.

A query is data, not code.  :func:`parse_query` turns the JSON document into
these frozen dataclasses, checking every key against the layers it names and
raising :class:`QueryError` with the JSON key and the reason;
:func:`query_to_dict` gives the JSON back.  The executor
(:mod:`spatial.query.engine`) and the sentence renderer
(:mod:`spatial.query.sentence`) work on the dataclasses.

The layers a query may name are described by a *catalog*: layer name ->
:class:`LayerInfo` (column kinds, geometry family, key column, title), built
from the data with :func:`catalog_from_frames`.  Without a catalog only the
structure of the document is checked.

Examples
--------
>>> q = parse_query({"version": 1, "target": "schools",
...                  "where": [{"column": "level", "op": "=", "value": "primary"}]})
>>> q.target, q.where[0].op
('schools', '=')
>>> query_to_dict(q)["where"]
[{'column': 'level', 'op': '=', 'value': 'primary'}]
>>> try:
...     parse_query({"version": 1, "target": "schools", "relation": {
...         "kind": "within_distance", "layer": "shelters", "distance_m": "500"}})
... except QueryError as e:
...     print(e.key, "|", e.reason)
relation.distance_m | lengths are numbers in metres, never strings: write 500 without quotes
"""

from __future__ import annotations

import difflib
import json
import math
import numbers
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Union

from spatial.errors import CityFrameError
from spatial.schema import FRAMEWORK, key_column

__all__ = [
    "QueryError",
    "Condition",
    "AnyOf",
    "Relation",
    "GroupBy",
    "Aggregate",
    "Query",
    "LayerInfo",
    "OPS",
    "RELATION_KINDS",
    "AGGREGATE_FNS",
    "COLUMN_KINDS",
    "QUERY_PREFIX",
    "catalog_from_frames",
    "parse_query",
    "query_to_dict",
    "resolve_saved",
]

OPS = ("=", "!=", "<", "<=", ">", ">=", "in", "not_in", "between", "contains",
       "is_null", "not_null")
RELATION_KINDS = ("intersects", "within", "contains", "within_distance", "beyond_distance",
                  "nearest")
AGGREGATE_FNS = ("count", "sum", "mean", "min", "max")
QUERY_PREFIX = "query:"
#: Kinds of column values in a :class:`LayerInfo`.
COLUMN_KINDS = ("int", "float", "str", "bool", "datetime", "other")


class QueryError(CityFrameError, ValueError):
    """A query file is wrong.  ``key`` is the JSON path (e.g. ``relation.distance_m``
    or ``where[1].op``), ``reason`` says what is wrong in plain words."""

    def __init__(self, key: str, reason: str, *, source: str | None = None):
        self.key = key
        self.reason = reason
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key}: {reason}" if key else f"{where}{reason}")


@dataclass(frozen=True)
class Condition:
    """``column op value``; ``value`` is a list for ``in``/``not_in``, a pair for
    ``between`` and ``None`` for ``is_null``/``not_null``."""

    column: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class AnyOf:
    """An OR group: ``{"any": [...]}``; its members may be conditions or groups."""

    conditions: tuple[Union["Condition", "AnyOf"], ...]


Where = tuple[Union[Condition, AnyOf], ...]  # joined by AND


@dataclass(frozen=True)
class Relation:
    """The spatial relation of the target to a reference layer (or ``query:NAME``)."""

    kind: str
    layer: str
    where: Where = ()
    distance_m: float | None = None  # within_distance, beyond_distance
    k: int | None = None  # nearest
    max_distance_m: float | None = None  # nearest (optional)


@dataclass(frozen=True)
class GroupBy:
    """Count or aggregate matches per zone of ``layer`` (key column ``key``)."""

    layer: str
    key: str


@dataclass(frozen=True)
class Aggregate:
    """``fn`` over ``column`` (``None`` for count), named ``as_`` in the result."""

    fn: str
    as_: str
    column: str | None = None


@dataclass(frozen=True)
class Query:
    """A parsed, checked version-1 query."""

    target: str
    where: Where = ()
    relation: Relation | None = None
    group_by: GroupBy | None = None
    aggregate: tuple[Aggregate, ...] = ()
    title: dict = field(default_factory=dict, compare=False, hash=False)
    version: int = 1


@dataclass(frozen=True)
class LayerInfo:
    """What a query may say about one layer (or one saved query's result).

    Parameters
    ----------
    columns : dict
        Column name -> kind, one of :data:`COLUMN_KINDS` (``"int"``,
        ``"float"``, ``"str"``, ``"bool"``, ``"datetime"``, ``"other"``).  The
        geometry column is not listed.
    geometry : str or None
        ``"Point"``, ``"LineString"``, ``"Polygon"`` (multi-part included) or
        ``None`` for a plain table.
    key : str or None
        The key (id) column.
    title : dict
        ``{"en": ..., "zh": ...}`` (either may be missing).
    """

    columns: dict = field(hash=False)
    geometry: str | None
    key: str | None
    title: dict = field(default_factory=dict, compare=False, hash=False)


# --------------------------------------------------------------------------- catalog

_GEOMETRY_FAMILY = {0: "Point", 4: "Point", 1: "LineString", 2: "LineString", 5: "LineString",
                    3: "Polygon", 6: "Polygon"}


def _column_kind(series) -> str:
    import pandas
    from pandas.api import types as pdt

    dtype = series.dtype
    if isinstance(dtype, pandas.CategoricalDtype):
        return _column_kind(series.cat.categories.to_series())
    if pdt.is_bool_dtype(dtype):
        return "bool"
    if pdt.is_integer_dtype(dtype):
        return "int"
    if pdt.is_float_dtype(dtype):
        return "float"
    if pdt.is_datetime64_any_dtype(dtype):
        return "datetime"
    if dtype == object or pdt.is_string_dtype(dtype):
        if dtype != object:
            return "str"
        inferred = pdt.infer_dtype(series, skipna=True)
        return {"string": "str", "integer": "int", "floating": "float",
                "mixed-integer-float": "float", "boolean": "bool", "datetime": "datetime",
                "datetime64": "datetime", "date": "datetime"}.get(inferred, "other")
    return "other"


def _geometry_family(frame) -> str | None:
    import numpy as np
    import shapely

    geom = getattr(frame, "geometry", None)
    if geom is None or not hasattr(frame, "active_geometry_name") or \
            frame.active_geometry_name is None:
        return None
    ids = shapely.get_type_id(np.asarray(geom.values))
    ids = ids[ids >= 0]
    if not len(ids):
        return None
    values, counts = np.unique(ids, return_counts=True)
    order = sorted(zip(counts.tolist(), values.tolist()), key=lambda t: (-t[0], t[1]))
    for _, type_id in order:
        if type_id in _GEOMETRY_FAMILY:
            return _GEOMETRY_FAMILY[type_id]
    return None


def catalog_from_frames(frames: Mapping[str, Any],
                        titles: Mapping[str, dict] | None = None) -> dict[str, LayerInfo]:
    """Describe the layers of a workspace for :func:`parse_query`.

    Parameters
    ----------
    frames : mapping
        Layer name -> GeoDataFrame (or DataFrame for a plain table such as
        ``population``).  Not changed.
    titles : mapping, optional
        Layer name -> ``{"en": ..., "zh": ...}`` from the layer metadata.

    Returns
    -------
    dict
        Layer name -> :class:`LayerInfo`, sorted by name.  ``buildings`` also
        lists the columns of ``population`` (other than ``building_id`` and
        columns it already has) when a ``population`` table is present, because
        a ``buildings`` target carries them.

    Examples
    --------
    >>> import geopandas, pandas, shapely
    >>> b = geopandas.GeoDataFrame({"building_id": ["B1"], "floors": [3]},
    ...                            geometry=[shapely.box(0, 0, 1, 1)])
    >>> p = pandas.DataFrame({"building_id": ["B1"], "residents": [12]})
    >>> cat = catalog_from_frames({"buildings": b, "population": p})
    >>> cat["buildings"].columns
    {'building_id': 'str', 'floors': 'int', 'residents': 'int'}
    >>> cat["buildings"].geometry, cat["buildings"].key, cat["population"].geometry
    ('Polygon', 'building_id', None)
    """
    import pandas

    titles = titles or {}
    out: dict[str, LayerInfo] = {}
    for name in sorted(frames):
        frame = frames[name]
        geom_name = getattr(frame, "active_geometry_name", None) if hasattr(
            frame, "geometry") else None
        columns = {}
        for col in frame.columns:
            series = frame[col]
            if col == geom_name or str(series.dtype) == "geometry":
                continue
            if not isinstance(series, pandas.Series):  # duplicate names
                continue
            columns[str(col)] = _column_kind(series)
        geometry = _geometry_family(frame)
        if geometry is None and geom_name is not None:  # no rows: fall back on the schema
            schema = FRAMEWORK.get(name)
            geometry = schema.geometry if schema is not None else None
        title = dict(titles.get(name) or {})
        key = key_column(name, list(columns))
        out[name] = LayerInfo(columns, geometry, key if key in columns else None, title)
    if "buildings" in out and "population" in out:
        b, p = out["buildings"], out["population"]
        extra = {c: k for c, k in p.columns.items() if c != "building_id" and c not in b.columns}
        out["buildings"] = LayerInfo({**b.columns, **extra}, b.geometry, b.key, b.title)
    return out


# --------------------------------------------------------------------------- helpers

_TOP_KEYS = ("version", "title", "target", "where", "relation", "group_by", "aggregate")
_TITLE_KEYS = ("en", "zh")
_CONDITION_KEYS = ("column", "op", "value", "any")
_RELATION_KEYS = ("kind", "layer", "where", "distance_m", "k", "max_distance_m")
_GROUP_BY_KEYS = ("layer", "key")
_AGGREGATE_KEYS = ("fn", "column", "as")

_OP_ALIASES = {"==": "=", "eq": "=", "<>": "!=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">",
               "ge": ">=", "not in": "not_in", "notin": "not_in", "nin": "not_in",
               "is null": "is_null", "isnull": "is_null", "null": "is_null",
               "is not null": "not_null", "not null": "not_null", "notnull": "not_null",
               "like": "contains", "≤": "<=", "≥": ">=", "≠": "!="}
_KIND_ALIASES = {"dwithin": "within_distance", "distance": "within_distance",
                 "buffer": "within_distance",
                 "intersect": "intersects", "overlaps": "intersects", "inside": "within",
                 "knn": "nearest", "farther_than": "beyond_distance", "outside": "beyond_distance"}
_FN_ALIASES = {"avg": "mean", "average": "mean", "total": "sum", "minimum": "min",
               "maximum": "max", "n": "count", "number": "count"}
_DISTANCE_KINDS = ("within_distance", "beyond_distance")
_ORDER_OPS = ("<", "<=", ">", ">=")
_NUMERIC = ("int", "float")
_KIND_WORDS = {"int": "whole numbers", "float": "numbers", "str": "text",
               "bool": "true/false values", "datetime": "dates", "other": "mixed values"}


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _did_you_mean(word: Any, options, cutoff: float = 0.6) -> str:
    match = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=cutoff)
    return f"; did you mean '{match[0]}'?" if match else ""


def _few(names, n: int = 8) -> str:
    names = sorted(names)
    text = ", ".join(names[:n])
    if len(names) > n:
        text += f", … ({len(names)} in all)"
    return text


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not _is_bool(v)


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool) or type(v).__name__ == "bool_"


def _plain(v: Any) -> Any:
    """numpy scalars -> Python scalars; everything else unchanged."""
    if _is_bool(v):
        return bool(v)
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        return float(v)
    if isinstance(v, str):
        return str(v)
    return v


def _type_word(v: Any) -> str:
    if v is None:
        return "null"
    if _is_bool(v):
        return "true/false"
    if _is_number(v):
        return "a number"
    if isinstance(v, str):
        return "text"
    if isinstance(v, (list, tuple)):
        return "a list"
    if isinstance(v, Mapping):
        return "an object"
    return type(v).__name__


def _q(v: Any) -> str:
    """A value as it reads in a message: text in single quotes, anything else as JSON."""
    return f"'{v}'" if isinstance(v, str) else _show(_plain(v))


def _show(v: Any) -> str:
    try:
        return json.dumps(v, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError):
        return repr(v)


def _looks_numeric(text: str) -> bool:
    try:
        float(text.strip())
    except ValueError:
        return False
    return bool(text.strip())


def _check_keys(obj: Mapping, allowed, path: str) -> None:
    for key in obj:
        if key not in allowed:
            hint = _did_you_mean(key, allowed)
            if not hint:
                hint = "; allowed keys: " + ", ".join(allowed)
            raise QueryError(_join(path, str(key)), f"unknown key '{key}'{hint}")


def _length(v: Any, path: str) -> int | float:
    """A length in metres: a finite, non-negative number (never text or a boolean)."""
    if isinstance(v, str):
        if _looks_numeric(v):
            return _raise(path, "lengths are numbers in metres, never strings: "
                                f"write {v.strip()} without quotes")
        return _raise(path, f"lengths are numbers in metres, never strings (got {_show(v)})")
    if not _is_number(v):
        return _raise(path, f"must be a number of metres, not {_type_word(v)}")
    v = _plain(v)
    if math.isnan(v):
        return _raise(path, "must be a number of metres, not NaN")
    if math.isinf(v):
        return _raise(path, "must be a finite number of metres, not infinity")
    if v < 0:
        return _raise(path, f"must not be negative (got {_show(v)})")
    return v


def _raise(key: str, reason: str):
    raise QueryError(key, reason)


def _iso_date(text: str) -> bool:
    try:
        datetime.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- parser

class _Cycle(QueryError):
    """Saved queries that refer to each other; reported once, at the outermost level."""


@dataclass
class _Layer:
    """A layer (or saved result) as the parser sees it: a name for messages and its info."""

    name: str
    info: LayerInfo | None  # None: not known (structural checks only)

    @property
    def describe(self) -> str:
        if self.name.startswith(QUERY_PREFIX):
            return f"the result of saved query '{self.name[len(QUERY_PREFIX):]}'"
        return f"layer '{self.name}'"


class _Parser:
    def __init__(self, catalog, saved, stack: tuple[str, ...] = ()):
        self.catalog = catalog
        self.saved = saved
        self.stack = stack

    # ---- the document
    def parse(self, doc: Any) -> tuple[Query, LayerInfo | None]:
        if not isinstance(doc, Mapping):
            raise QueryError("", f"a query must be a JSON object {{...}}, not {_type_word(doc)}")
        if "version" not in doc:
            raise QueryError("version", "missing; this program reads query files of version 1 "
                                        "(add \"version\": 1)")
        version = doc["version"]
        if _is_bool(version) or not _is_number(version):
            raise QueryError("version", f"must be the number 1, not {_type_word(version)}")
        if version != 1:
            raise QueryError("version", f"version {_show(_plain(version))} is not supported; "
                                        "this program reads version 1")
        _check_keys(doc, _TOP_KEYS, "")
        title = self.title(doc.get("title"))
        if "target" not in doc:
            raise QueryError("target", "missing; name the layer to search, e.g. "
                                       "\"target\": \"schools\"")
        target = self.layer(doc["target"], "target")
        where = self.where(doc.get("where", []), "where", target)
        relation = None
        if doc.get("relation") is not None:
            relation = self.relation(doc["relation"], target)
        group_by = None
        if doc.get("group_by") is not None:
            group_by = self.group_by(doc["group_by"], target)
        aggregate = self.aggregates(doc.get("aggregate", []), target, relation, group_by)
        query = Query(target=target.name, where=where, relation=relation, group_by=group_by,
                      aggregate=aggregate, title=title, version=1)
        return query, self.result_info(query, target, title)

    def title(self, title: Any) -> dict:
        if title is None:
            return {}
        if not isinstance(title, Mapping):
            raise QueryError("title", "must be an object like {\"en\": \"…\", \"zh\": \"…\"}, "
                                      f"not {_type_word(title)}")
        _check_keys(title, _TITLE_KEYS, "title")
        for lang, text in title.items():
            if not isinstance(text, str):
                raise QueryError(f"title.{lang}", f"must be text, not {_type_word(text)}")
        return {lang: str(title[lang]) for lang in _TITLE_KEYS if lang in title}

    # ---- layers and saved queries
    def layer(self, name: Any, path: str) -> _Layer:
        if not isinstance(name, str) or not name.strip():
            raise QueryError(path, f"must be a layer name or \"query:NAME\", not {_show(name)}")
        if name.startswith(QUERY_PREFIX):
            return _Layer(name, self.saved_info(name[len(QUERY_PREFIX):], path))
        if self.catalog is None:
            return _Layer(name, None)
        info = self.catalog.get(name)
        if info is None:
            known = list(self.catalog)
            hint = _did_you_mean(name, known)
            listing = f"known layers: {_few(known)}" if known else "the workspace has no layers"
            raise QueryError(path, f"unknown layer '{name}'{hint} ({listing})")
        return _Layer(name, info)

    def saved_info(self, name: str, path: str) -> LayerInfo | None:
        if not name:
            raise QueryError(path, "\"query:\" must be followed by the name of a saved query")
        saved = self.saved
        if saved is None:
            if self.catalog is None:
                return None  # structural checks only
            saved = {}
        if name in self.stack:
            chain = self.stack[self.stack.index(name):] + (name,)
            text = " → ".join(QUERY_PREFIX + n for n in chain)
            if len(chain) == 2:
                raise _Cycle(path, f"saved query '{name}' refers to itself: {text}")
            raise _Cycle(path, f"saved queries refer to each other in a cycle: {text}")
        if name not in saved:
            names = list(saved)
            if not names:
                raise QueryError(path, f"no saved query named '{name}'; there are no saved queries")
            raise QueryError(path, f"no saved query named '{name}'{_did_you_mean(name, names)}"
                                   f" (saved queries: {_few(names)})")
        inner = _Parser(self.catalog, saved, self.stack + (name,))
        try:
            _, info = inner.parse(saved[name])
        except _Cycle as e:
            raise _Cycle(path, e.reason) from None
        except QueryError as e:
            inner_where = f"{e.key}: " if e.key else ""
            raise QueryError(path, f"saved query '{name}' is not valid: {inner_where}{e.reason}") \
                from None
        return info

    def result_info(self, q: Query, target: _Layer, title: dict) -> LayerInfo | None:
        """The columns of this query's result (for ``query:NAME`` references)."""
        if self.catalog is None:
            return None
        t = target.info
        if q.group_by is not None:
            zone = self.layer(q.group_by.layer, "group_by.layer").info
            columns = {q.group_by.key: zone.columns.get(q.group_by.key, "other")}
            for a in q.aggregate:
                columns[a.as_] = self.aggregate_kind(a, t)
            return LayerInfo(columns, zone.geometry, q.group_by.key, dict(title))
        if q.aggregate:
            return LayerInfo({a.as_: self.aggregate_kind(a, t) for a in q.aggregate}, None, None,
                             dict(title))
        columns = dict(t.columns)
        if q.relation is not None and q.relation.kind == "nearest":
            ref = self.layer(q.relation.layer, "relation.layer").info
            columns["nearest_id"] = ref.columns.get(ref.key, "other") if ref.key else "other"
            columns["distance_m"] = "float"
        return LayerInfo(columns, t.geometry, t.key, dict(title))

    @staticmethod
    def aggregate_kind(a: Aggregate, target: LayerInfo) -> str:
        if a.fn == "count":
            return "int"
        if a.fn == "mean":
            return "float"
        return target.columns.get(a.column, "float") if target is not None else "float"

    # ---- conditions
    def where(self, items: Any, path: str, layer: _Layer) -> Where:
        if items is None:
            return ()
        if not isinstance(items, list):
            raise QueryError(path, "must be a list of conditions, e.g. [{\"column\": "
                                   "\"level\", \"op\": \"=\", \"value\": \"primary\"}]")
        return tuple(self.condition(item, f"{path}[{i}]", layer) for i, item in enumerate(items))

    def condition(self, item: Any, path: str, layer: _Layer) -> Condition | AnyOf:
        if not isinstance(item, Mapping):
            raise QueryError(path, "a condition must be an object like {\"column\": …, "
                                   f"\"op\": …, \"value\": …}}, not {_type_word(item)}")
        _check_keys(item, _CONDITION_KEYS, path)
        if "any" in item:
            others = [k for k in item if k != "any"]
            if others:
                raise QueryError(_join(path, str(others[0])),
                                 "a group {\"any\": [...]} has no other keys; put each "
                                 "condition inside its list")
            members = item["any"]
            if not isinstance(members, list) or not members:
                raise QueryError(_join(path, "any"), "must be a non-empty list of conditions, "
                                                     "any of which may hold")
            return AnyOf(tuple(self.condition(m, f"{path}.any[{i}]", layer)
                               for i, m in enumerate(members)))
        for key in ("column", "op"):
            if key not in item:
                raise QueryError(_join(path, key), "missing; a condition needs \"column\" and "
                                                   "\"op\" (and usually \"value\")")
        column = self.column(item["column"], _join(path, "column"), layer)
        op = self.op(item["op"], _join(path, "op"))
        kind = layer.info.columns[column] if layer.info is not None else None
        value = self.value(op, item, _join(path, "value"), column, kind, layer)
        return Condition(column, op, value)

    def column(self, name: Any, path: str, layer: _Layer) -> str:
        if not isinstance(name, str) or not name:
            raise QueryError(path, f"must be a column name, not {_show(name)}")
        if layer.info is not None and name not in layer.info.columns:
            cols = list(layer.info.columns)
            hint = _did_you_mean(name, cols)
            if not hint:
                hint = f"; its columns: {_few(cols, 12)}" if cols else "; it has no columns"
            raise QueryError(path, f"{layer.describe} has no column '{name}'{hint}")
        return name

    @staticmethod
    def op(op: Any, path: str) -> str:
        if isinstance(op, str) and op in OPS:
            return op
        valid = ", ".join(OPS)
        if isinstance(op, str):
            alias = _OP_ALIASES.get(op.strip().lower())
            hint = f"; did you mean '{alias}'?" if alias else _did_you_mean(op, OPS)
            raise QueryError(path, f"unknown operator '{op}'{hint} Use one of: {valid}"
                             if hint else f"unknown operator '{op}'; use one of: {valid}")
        raise QueryError(path, f"must be an operator ({valid}), not {_type_word(op)}")

    def value(self, op: str, item: Mapping, path: str, column: str, kind: str | None,
              layer: _Layer) -> Any:
        about = f"column '{column}' of {layer.describe}"
        if op in ("is_null", "not_null"):
            if item.get("value") is not None:
                raise QueryError(path, f"'{op}' takes no value; remove \"value\"")
            return None
        if "value" not in item:
            need = {"in": "a list of values", "not_in": "a list of values",
                    "between": "[low, high]", "contains": "the text to look for"}.get(op, "a value")
            raise QueryError(path, f"missing; '{op}' needs {need}")
        v = item["value"]
        if op in ("in", "not_in"):
            if not isinstance(v, (list, tuple)) or not v:
                hint = f"; write [{_show(v)}] for a single value" if not isinstance(
                    v, (list, tuple, Mapping)) and v is not None else ""
                raise QueryError(path, f"'{op}' needs a non-empty list of values{hint}")
            return tuple(self.scalar(x, f"{path}[{i}]", op, kind, about) for i, x in enumerate(v))
        if op == "between":
            if not isinstance(v, (list, tuple)) or len(v) != 2:
                raise QueryError(path, "'between' needs [low, high], a list of two values")
            low = self.scalar(v[0], f"{path}[0]", op, kind, about)
            high = self.scalar(v[1], f"{path}[1]", op, kind, about)
            if _is_number(low) != _is_number(high):
                raise QueryError(path, "low and high must both be numbers or both be text")
            if _is_bool(low) or _is_bool(high):
                raise QueryError(path, "'between' needs numbers, dates or text, not true/false")
            if low > high:
                raise QueryError(path, f"low ({_show(low)}) is greater than high ({_show(high)});"
                                       f" write [{_show(high)}, {_show(low)}]")
            return (low, high)
        if op == "contains":
            if kind is not None and kind not in ("str", "other"):
                raise QueryError(path, f"'contains' searches text, but {about} holds "
                                       f"{_KIND_WORDS[kind]}")
            if not isinstance(v, str) or not v:
                raise QueryError(path, f"'contains' needs the text to look for, not {_show(v)}")
            return str(v)
        value = self.scalar(v, path, op, kind, about)
        if op in _ORDER_OPS and (_is_bool(value) or kind == "bool"):
            raise QueryError(path, f"'{op}' compares numbers, dates or text; true/false values "
                                   "have no order (use = or !=)")
        return value

    @staticmethod
    def scalar(v: Any, path: str, op: str, kind: str | None, about: str) -> Any:
        if v is None:
            raise QueryError(path, "null matches nothing; use the op 'is_null' (or 'not_null') "
                                   "to find empty values")
        if isinstance(v, (list, tuple, Mapping)):
            raise QueryError(path, f"'{op}' needs a single value here, not {_type_word(v)}")
        if not (isinstance(v, str) or _is_number(v) or _is_bool(v)):
            raise QueryError(path, f"must be a number, text or true/false, not {_type_word(v)}")
        v = _plain(v)
        if _is_number(v) and not math.isfinite(v):
            raise QueryError(path, "must be a finite number, not NaN or infinity")
        if kind in _NUMERIC:
            if _is_bool(v):
                raise QueryError(path, f"{about} holds numbers; true/false is not a number")
            if isinstance(v, str):
                if _looks_numeric(v):
                    raise QueryError(path, f"{about} holds numbers; write {v.strip()} "
                                           "without quotes")
                raise QueryError(path, f"{about} holds numbers, not text ({_show(v)})")
        elif kind == "str":
            if not isinstance(v, str):
                raise QueryError(path, f"{about} holds text; write the value in quotes, "
                                       f"e.g. \"{_show(v)}\"")
        elif kind == "bool":
            if not _is_bool(v):
                raise QueryError(path, f"{about} holds true/false values; write true or false, "
                                       f"not {_show(v)}")
        elif kind == "datetime":
            if not isinstance(v, str) or not _iso_date(v):
                raise QueryError(path, f"{about} holds dates; write the date as text like "
                                       f"\"2024-05-31\", not {_show(v)}")
        return v

    # ---- relation
    def relation(self, rel: Any, target: _Layer) -> Relation:
        path = "relation"
        if not isinstance(rel, Mapping):
            raise QueryError(path, "must be an object like {\"kind\": \"intersects\", "
                                   f"\"layer\": \"flood_zones\"}}, not {_type_word(rel)}")
        _check_keys(rel, _RELATION_KEYS, path)
        if "kind" not in rel:
            raise QueryError("relation.kind", f"missing; use one of: {', '.join(RELATION_KINDS)}")
        kind = rel["kind"]
        if not isinstance(kind, str) or kind not in RELATION_KINDS:
            valid = ", ".join(RELATION_KINDS)
            alias = _KIND_ALIASES.get(kind.strip().lower()) if isinstance(kind, str) else None
            hint = f"; did you mean '{alias}'?" if alias else _did_you_mean(kind, RELATION_KINDS)
            raise QueryError("relation.kind", f"unknown relation kind {_q(kind)}{hint}"
                                              f"{' Use' if hint else '; use'} one of: {valid}")
        if "layer" not in rel:
            raise QueryError("relation.layer", "missing; name the layer to relate to, e.g. "
                                               "\"layer\": \"legal_entities\"")
        ref = self.layer(rel["layer"], "relation.layer")
        if target.info is not None and target.info.geometry is None:
            raise QueryError("relation", f"{target.describe} has no geometry, so it cannot take "
                                         "part in a spatial relation")
        if ref.info is not None and ref.info.geometry is None:
            raise QueryError("relation.layer", f"{ref.describe} has no geometry, so it cannot "
                                               "take part in a spatial relation")
        where = self.where(rel.get("where", []), "relation.where", ref)
        distance = k = max_distance = None
        if kind in _DISTANCE_KINDS:
            if rel.get("distance_m") is None:
                raise QueryError("relation.distance_m", f"missing; '{kind}' needs a distance "
                                                        "in metres, e.g. \"distance_m\": 500")
            distance = _length(rel["distance_m"], "relation.distance_m")
        elif "distance_m" in rel:
            hint = " (use max_distance_m to limit how far neighbours may be)" \
                if kind == "nearest" else ""
            raise QueryError("relation.distance_m", f"'{kind}' uses no distance{hint}")
        if kind == "nearest":
            if rel.get("k") is None:
                raise QueryError("relation.k", "missing; say how many nearest features to find, "
                                               "e.g. \"k\": 1")
            k = rel["k"]
            if isinstance(k, str) and k.strip().isdigit():
                raise QueryError("relation.k", f"must be a number; write {k.strip()} without "
                                               "quotes")
            if not isinstance(k, numbers.Integral) or _is_bool(k) or k < 1:
                raise QueryError("relation.k", "must be a whole number, 1 or more "
                                               f"(got {_show(_plain(k))})")
            k = int(k)
            if rel.get("max_distance_m") is not None:
                max_distance = _length(rel["max_distance_m"], "relation.max_distance_m")
        else:
            for key in ("k", "max_distance_m"):
                if key in rel:
                    raise QueryError(f"relation.{key}", f"only 'nearest' uses {key}, "
                                                        f"not '{kind}'")
        return Relation(kind, ref.name, where, distance, k, max_distance)

    # ---- grouping and aggregates
    def group_by(self, g: Any, target: _Layer) -> GroupBy:
        if not isinstance(g, Mapping):
            raise QueryError("group_by", "must be an object like {\"layer\": \"communities\", "
                                         f"\"key\": \"community_id\"}}, not {_type_word(g)}")
        _check_keys(g, _GROUP_BY_KEYS, "group_by")
        if "layer" not in g:
            raise QueryError("group_by.layer", "missing; name the zone layer, e.g. "
                                               "\"layer\": \"communities\"")
        zone = self.layer(g["layer"], "group_by.layer")
        if zone.info is not None and zone.info.geometry != "Polygon":
            holds = {"Point": "points", "LineString": "lines", None: "no geometry"}[
                zone.info.geometry]
            raise QueryError("group_by.layer", f"{zone.describe} holds {holds}; grouping needs "
                                               "a layer of zones (polygons)")
        if target.info is not None and target.info.geometry is None:
            raise QueryError("group_by", f"{target.describe} has no geometry, so it cannot be "
                                         "grouped by zone")
        if "key" not in g:
            hint = f", e.g. \"key\": \"{zone.info.key}\"" if zone.info and zone.info.key else ""
            raise QueryError("group_by.key", f"missing; name the zone's id column{hint}")
        key = self.column(g["key"], "group_by.key", zone)
        return GroupBy(zone.name, key)

    def aggregates(self, items: Any, target: _Layer, relation: Relation | None,
                   group_by: GroupBy | None) -> tuple[Aggregate, ...]:
        if items is None:
            items = []
        if not isinstance(items, list):
            raise QueryError("aggregate", "must be a list like [{\"fn\": \"count\", "
                                          "\"as\": \"schools\"}]")
        columns = None
        if target.info is not None:
            columns = dict(target.info.columns)
            if relation is not None and relation.kind == "nearest":
                columns["distance_m"] = "float"
        out, seen = [], {}
        for i, a in enumerate(items):
            path = f"aggregate[{i}]"
            if not isinstance(a, Mapping):
                raise QueryError(path, "must be an object like {\"fn\": \"sum\", "
                                       "\"column\": \"pupils\", \"as\": \"pupils\"}")
            _check_keys(a, _AGGREGATE_KEYS, path)
            if "fn" not in a:
                raise QueryError(f"{path}.fn", f"missing; use one of: {', '.join(AGGREGATE_FNS)}")
            fn = a["fn"]
            if not isinstance(fn, str) or fn not in AGGREGATE_FNS:
                alias = _FN_ALIASES.get(fn.strip().lower()) if isinstance(fn, str) else None
                hint = f"; did you mean '{alias}'?" if alias else _did_you_mean(fn, AGGREGATE_FNS)
                raise QueryError(f"{path}.fn", f"unknown function {_q(fn)}{hint}"
                                               f"{' Use' if hint else '; use'} one of: "
                                               f"{', '.join(AGGREGATE_FNS)}")
            column = None
            if fn == "count":
                if a.get("column") is not None:
                    raise QueryError(f"{path}.column", "'count' counts features and takes no "
                                                       "column; use sum, mean, min or max for "
                                                       "a column")
            else:
                if a.get("column") is None:
                    raise QueryError(f"{path}.column", f"missing; '{fn}' needs a numeric column")
                column = a["column"]
                if not isinstance(column, str) or not column:
                    raise QueryError(f"{path}.column", f"must be a column name, not "
                                                       f"{_show(column)}")
                if columns is not None:
                    if column not in columns:
                        hint = _did_you_mean(column, columns)
                        raise QueryError(f"{path}.column",
                                         f"{target.describe} has no column '{column}'{hint}")
                    if columns[column] not in _NUMERIC:
                        raise QueryError(f"{path}.column",
                                         f"'{fn}' needs a numeric column, but column '{column}' "
                                         f"of {target.describe} holds "
                                         f"{_KIND_WORDS[columns[column]]}")
            if "as" not in a or a["as"] is None:
                raise QueryError(f"{path}.as", "missing; name the result column, e.g. "
                                               f"\"as\": \"{column or 'count'}\"")
            name = a["as"]
            if not isinstance(name, str) or not name.strip():
                raise QueryError(f"{path}.as", f"must be a non-empty name, not {_show(name)}")
            if name in seen:
                raise QueryError(f"{path}.as", f"duplicate name '{name}' (already used by "
                                               f"aggregate[{seen[name]}]); each result column "
                                               "needs its own name")
            if group_by is not None and name == group_by.key:
                raise QueryError(f"{path}.as", f"'{name}' is the zone key column; pick another "
                                               "name")
            if name == "geometry":
                raise QueryError(f"{path}.as", "'geometry' is the geometry column; pick another "
                                               "name")
            seen[name] = i
            out.append(Aggregate(fn, name, column))
        if group_by is not None and not out:
            out.append(Aggregate("count", "count"))
        return tuple(out)


# --------------------------------------------------------------------------- public API

def _load(doc: Any, source: str | None) -> tuple[Any, str | None]:
    if isinstance(doc, os.PathLike) or (
            isinstance(doc, str) and not doc.lstrip().startswith(("{", "["))
            and (doc.strip().lower().endswith(".json") or os.path.isfile(doc))):
        path = Path(doc)
        source = source or str(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise QueryError("", "file not found", source=source) from None
        except (OSError, UnicodeDecodeError) as e:
            raise QueryError("", f"cannot read the file: {e}", source=source) from None
        doc = text
    if isinstance(doc, (str, bytes, bytearray)):
        try:
            doc = json.loads(doc)
        except json.JSONDecodeError as e:
            raise QueryError("", f"not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}",
                             source=source) from None
        except UnicodeDecodeError as e:
            raise QueryError("", f"not valid JSON text: {e}", source=source) from None
    return doc, source


def parse_query(doc: Any, *, catalog: Mapping[str, LayerInfo] | None = None,
                saved: Mapping[str, dict] | None = None, source: str | None = None) -> Query:
    """Read and check a version-1 query.

    Parameters
    ----------
    doc : dict, str or os.PathLike
        The query document, its JSON text, or the path of a ``.json`` file.
    catalog : mapping, optional
        Layer name -> :class:`LayerInfo` (:func:`catalog_from_frames`).  With
        it, layer and column names, value types, zone geometry and aggregate
        columns are checked; without it (``None``), only the structure.
    saved : mapping, optional
        Saved query name -> query document, for ``query:NAME`` references.
        ``None`` with a catalog means "no saved queries"; with neither,
        ``query:NAME`` names are not looked up.
    source : str, optional
        The file name to put in error messages (defaults to the path read).

    Returns
    -------
    Query

    Raises
    ------
    QueryError
        With ``key`` the JSON path of the first mistake (``""`` for the
        document as a whole) and ``reason`` in plain words.

    Notes
    -----
    A ``group_by`` without ``aggregate`` counts: the query gets
    ``aggregate = (Aggregate("count", "count"),)``.

    Examples
    --------
    >>> cat = {"schools": LayerInfo({"school_id": "str", "pupils": "int"}, "Point",
    ...                             "school_id")}
    >>> try:
    ...     parse_query('{"version": 1, "target": "schools", "where": '
    ...                 '[{"column": "pupils", "op": ">", "value": "500"}]}', catalog=cat)
    ... except QueryError as e:
    ...     print(e.key, "|", e.reason)
    where[0].value | column 'pupils' of layer 'schools' holds numbers; write 500 without quotes
    """
    doc, source = _load(doc, source)
    try:
        query, _ = _Parser(catalog, saved).parse(doc)
    except QueryError as e:
        if e.source is None and source:
            raise QueryError(e.key, e.reason, source=source) from None
        raise QueryError(e.key, e.reason, source=e.source) from None
    return query


def resolve_saved(name: str, saved: Mapping[str, dict] | None,
                  catalog: Mapping[str, LayerInfo]) -> LayerInfo:
    """The columns, geometry and key of a saved query's result.

    A saved query without ``group_by`` and ``aggregate`` gives its target's
    columns (plus ``nearest_id`` and ``distance_m`` for ``nearest``); a grouped
    one gives the zone key column and the aggregate names, with the zones'
    geometry; one with aggregates but no grouping gives a one-row table of the
    aggregate names (no geometry).

    Parameters
    ----------
    name : str
        The saved query's name, with or without the ``query:`` prefix.
    saved : mapping
        Saved query name -> query document.
    catalog : mapping
        Layer name -> :class:`LayerInfo`.

    Examples
    --------
    >>> cat = {"schools": LayerInfo({"school_id": "str", "pupils": "int"}, "Point", "school_id"),
    ...        "communities": LayerInfo({"community_id": "str"}, "Polygon", "community_id")}
    >>> saved = {"by_c": {"version": 1, "target": "schools",
    ...                   "group_by": {"layer": "communities", "key": "community_id"},
    ...                   "aggregate": [{"fn": "sum", "column": "pupils", "as": "pupils"}]}}
    >>> info = resolve_saved("query:by_c", saved, cat)
    >>> info.columns, info.geometry, info.key
    ({'community_id': 'str', 'pupils': 'int'}, 'Polygon', 'community_id')
    """
    if catalog is None:
        raise TypeError("resolve_saved needs a catalog (layer name -> LayerInfo)")
    if name.startswith(QUERY_PREFIX):
        name = name[len(QUERY_PREFIX):]
    try:
        return _Parser(catalog, saved or {}).saved_info(name, "")
    except QueryError as e:
        raise QueryError(e.key, e.reason, source=e.source) from None


def _value_to_json(v: Any) -> Any:
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return _plain(v)


def _where_to_json(where) -> list:
    out = []
    for c in where:
        if isinstance(c, AnyOf):
            out.append({"any": _where_to_json(c.conditions)})
        else:
            d = {"column": c.column, "op": c.op}
            if c.op not in ("is_null", "not_null"):
                d["value"] = _value_to_json(c.value)
            out.append(d)
    return out


def query_to_dict(q: Query) -> dict:
    """The JSON document of a query (``parse_query(query_to_dict(q)) == q``).

    Keys come in the order of DESIGN.md's example; empty parts are left out.

    Examples
    --------
    >>> q = Query("schools", relation=Relation("nearest", "shelters", k=2))
    >>> query_to_dict(q)["relation"]
    {'kind': 'nearest', 'k': 2, 'layer': 'shelters'}
    """
    d: dict[str, Any] = {"version": q.version}
    if q.title:
        d["title"] = dict(q.title)
    d["target"] = q.target
    if q.where:
        d["where"] = _where_to_json(q.where)
    if q.relation is not None:
        r = q.relation
        rel: dict[str, Any] = {"kind": r.kind}
        if r.distance_m is not None:
            rel["distance_m"] = _plain(r.distance_m)
        if r.k is not None:
            rel["k"] = int(r.k)
        if r.max_distance_m is not None:
            rel["max_distance_m"] = _plain(r.max_distance_m)
        rel["layer"] = r.layer
        if r.where:
            rel["where"] = _where_to_json(r.where)
        d["relation"] = rel
    if q.group_by is not None:
        d["group_by"] = {"layer": q.group_by.layer, "key": q.group_by.key}
    if q.aggregate:
        aggs = []
        for a in q.aggregate:
            item: dict[str, Any] = {"fn": a.fn}
            if a.column is not None:
                item["column"] = a.column
            item["as"] = a.as_
            aggs.append(item)
        d["aggregate"] = aggs
    return d
