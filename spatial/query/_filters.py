"""Attribute filters of a query (``where``) as vectorised boolean masks.

Private helper of :mod:`spatial.query.engine`.  SQL null semantics: a null
value satisfies no comparison (``=``, ``!=``, ``<`` … ``in``, ``not_in``,
``between``, ``contains``), only ``is_null``.  ``contains`` is a literal,
case-sensitive substring test (as SQL ``LIKE '%text%'``); ``between`` is
inclusive at both ends.  Type mismatches (a number compared with a text
column, …) raise :class:`~spatial.query.model.QueryError` naming the key,
instead of silently matching nothing.
"""

from __future__ import annotations

import datetime as _dt
import numbers
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from pandas.api import types as pdt

from .model import AnyOf, Condition, QueryError

__all__ = ["column_kind", "where_mask"]

ColumnGetter = Callable[[str], "pd.Series | None"]


def column_kind(series: pd.Series) -> str:
    """``"bool"``, ``"number"``, ``"datetime"``, ``"str"`` or ``"other"``.

    Examples
    --------
    >>> column_kind(pd.Series([1, 2])), column_kind(pd.Series(["a", None]))
    ('number', 'str')
    """
    dtype = series.dtype
    if pdt.is_bool_dtype(dtype):
        return "bool"
    if pdt.is_numeric_dtype(dtype):
        return "number"
    if pdt.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.StringDtype) or pdt.is_string_dtype(series):
        return "str"
    return "other"


def where_mask(
    where: Sequence, n: int, get_column: ColumnGetter, key: str, layer: str
) -> np.ndarray:
    """Boolean mask of the rows that satisfy every item of ``where`` (AND).

    Parameters
    ----------
    where : sequence of Condition or AnyOf
        The parsed ``where`` list; an :class:`AnyOf` is an OR group.  A plain
        list or tuple inside an OR group is an AND group.
    n : int
        Number of rows.
    get_column : callable
        ``name -> pandas.Series`` (positionally aligned) or ``None`` when the
        layer has no such column.
    key : str
        JSON key of the list, for messages (``"where"`` or ``"relation.where"``).
    layer : str
        Layer name, for messages.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, None, 3]})
    >>> where_mask([Condition("a", "!=", 1)], 3, df.get, "where", "t").tolist()
    [False, False, True]
    """
    mask = np.ones(n, dtype=bool)
    for i, item in enumerate(where):
        mask &= _item_mask(item, n, get_column, f"{key}[{i}]", layer)
    return mask


def _item_mask(item, n: int, get_column: ColumnGetter, key: str, layer: str) -> np.ndarray:
    if isinstance(item, Condition):
        return _condition_mask(item, n, get_column, key, layer)
    if isinstance(item, AnyOf):
        out = np.zeros(n, dtype=bool)
        for j, member in enumerate(item.conditions):
            out |= _item_mask(member, n, get_column, f"{key}.any[{j}]", layer)
        return out
    if isinstance(item, (list, tuple)):  # an AND group inside an OR group
        return where_mask(item, n, get_column, key, layer)
    raise QueryError(key, f"expected a condition or an 'any' group, got {type(item).__name__}")


def _is_number(value) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, complex)


def _check_value(kind: str, value, key: str, column: str):
    """Return ``value`` converted for comparison with a column of ``kind``."""
    if value is None:
        return None
    if kind == "str":
        if not isinstance(value, str):
            raise QueryError(key, f"column {column!r} holds text; compare it with text, "
                                  f"not {value!r}")
        return value
    if kind in ("number", "bool"):
        if not _is_number(value):
            raise QueryError(key, f"column {column!r} holds numbers; compare it with a number, "
                                  f"not {value!r}")
        return value
    if kind == "datetime":
        if isinstance(value, (str, _dt.date, pd.Timestamp)):
            try:
                return pd.Timestamp(value)
            except (ValueError, TypeError):
                pass
        raise QueryError(key, f"column {column!r} holds dates; {value!r} is not a date")
    return value


def _as_bool(result) -> np.ndarray:
    if isinstance(result, (pd.Series, pd.Index)):
        return result.to_numpy(dtype=bool, na_value=False)
    return np.asarray(result, dtype=bool)


def _condition_mask(cond: Condition, n: int, get_column: ColumnGetter, key: str,
                    layer: str) -> np.ndarray:
    col = get_column(cond.column)
    if col is None:
        raise QueryError(f"{key}.column", f"layer {layer!r} has no column {cond.column!r}")
    op = cond.op
    notna = col.notna().to_numpy(dtype=bool)
    if op == "is_null":
        return ~notna
    if op == "not_null":
        return notna
    kind = column_kind(col)
    vkey = f"{key}.value"
    value = cond.value
    try:
        if op in ("=", "!=", "<", "<=", ">", ">="):
            if isinstance(value, (list, tuple, dict)):
                raise QueryError(vkey, f"{op!r} takes one value, not {type(value).__name__}")
            v = _check_value(kind, value, vkey, cond.column)
            if v is None:  # comparing with null: true for no row, as in SQL
                return np.zeros(n, dtype=bool)
            result = {
                "=": col.__eq__, "!=": col.__ne__, "<": col.__lt__, "<=": col.__le__,
                ">": col.__gt__, ">=": col.__ge__,
            }[op](v)
            return _as_bool(result) & notna
        if op in ("in", "not_in"):
            if not isinstance(value, (list, tuple, set, frozenset)):
                raise QueryError(vkey, f"{op!r} takes a list of values")
            values = [_check_value(kind, v, vkey, cond.column) for v in value]
            values = [v for v in values if v is not None]
            hit = _as_bool(col.isin(values)) if values else np.zeros(n, dtype=bool)
            return (hit if op == "in" else ~hit) & notna
        if op == "between":
            if not isinstance(value, (list, tuple)) or len(value) != 2:
                raise QueryError(vkey, "'between' takes two values [low, high]")
            lo = _check_value(kind, value[0], vkey, cond.column)
            hi = _check_value(kind, value[1], vkey, cond.column)
            if lo is None or hi is None:
                return np.zeros(n, dtype=bool)
            return _as_bool(col >= lo) & _as_bool(col <= hi) & notna
        if op == "contains":
            if not isinstance(value, str):
                raise QueryError(vkey, f"'contains' takes text, not {value!r}")
            if kind not in ("str", "other"):
                raise QueryError(f"{key}.column",
                                 f"'contains' needs a text column; {cond.column!r} is not text")
            try:
                result = col.str.contains(value, regex=False, na=False)
            except AttributeError:
                raise QueryError(f"{key}.column",
                                 f"'contains' needs a text column; {cond.column!r} is not text"
                                 ) from None
            return _as_bool(result) & notna
    except QueryError:
        raise
    except (TypeError, ValueError) as exc:
        raise QueryError(vkey, f"cannot compare column {cond.column!r} ({kind}) with "
                               f"{value!r}: {exc}") from None
    raise QueryError(f"{key}.op", f"unknown operator {op!r}")
