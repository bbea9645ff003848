"""Zone and total aggregates of a query (``count``, ``sum``, ``mean``, ``min``, ``max``).

Private helper of :mod:`spatial.query.engine`.  Vectorised with
:func:`numpy.bincount` and :meth:`numpy.ufunc.at`.  Nulls are skipped (as in
SQL); an empty group has count 0 and sum 0, and a null mean, min and max.
Sums of integer columns stay integers; min/max of integer columns are
nullable integers (``Int64``); min/max of text or dates use the values'
natural order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from pandas.api import types as pdt

from ._filters import column_kind
from .model import Aggregate, QueryError

__all__ = ["aggregate"]


def aggregate(
    aggs: Sequence[Aggregate],
    group: np.ndarray,
    n_groups: int,
    get_column: Callable[[str], pd.Series | None],
    layer: str,
) -> dict[str, object]:
    """Aggregate rows into ``n_groups`` groups.

    Parameters
    ----------
    aggs : sequence of Aggregate
    group : numpy.ndarray of int
        The group (0 … n_groups-1) of each row to aggregate.
    n_groups : int
    get_column : callable
        ``name -> pandas.Series`` of the rows (positionally aligned with
        ``group``) or ``None`` when there is no such column.
    layer : str
        Name of the aggregated layer, for messages.

    Returns
    -------
    dict
        ``as`` name -> array of length ``n_groups``, in ``aggs`` order.

    Examples
    --------
    >>> s = pd.Series([1, 2, None])
    >>> out = aggregate([Aggregate("count", "n"), Aggregate("sum", "s", "v"),
    ...                  Aggregate("mean", "m", "v")], np.array([0, 0, 1]), 3,
    ...                 {"v": s}.get, "t")
    >>> out["n"].tolist(), out["s"].tolist(), out["m"].tolist()
    ([2, 1, 0], [3.0, 0.0, 0.0], [1.5, nan, nan])
    """
    group = np.asarray(group, dtype=np.intp)
    out: dict[str, object] = {}
    for i, agg in enumerate(aggs):
        key = f"aggregate[{i}]"
        if agg.fn == "count":
            if agg.column is None:
                out[agg.as_] = np.bincount(group, minlength=n_groups).astype(np.int64)
                continue
            col = _column(get_column, agg, key, layer)
            ok = col.notna().to_numpy(dtype=bool)
            out[agg.as_] = np.bincount(group[ok], minlength=n_groups).astype(np.int64)
            continue
        if agg.fn not in ("sum", "mean", "min", "max"):
            raise QueryError(f"{key}.fn", f"unknown aggregate {agg.fn!r}")
        if agg.column is None:
            raise QueryError(f"{key}.column", f"{agg.fn!r} needs a column")
        col = _column(get_column, agg, key, layer)
        out[agg.as_] = _aggregate_column(agg.fn, col, group, n_groups, key, agg.column)
    return out


def _column(get_column, agg: Aggregate, key: str, layer: str) -> pd.Series:
    col = get_column(agg.column)
    if col is None:
        raise QueryError(f"{key}.column", f"layer {layer!r} has no column {agg.column!r}")
    return col


def _aggregate_column(fn: str, col: pd.Series, group: np.ndarray, n: int, key: str,
                      name: str):
    kind = column_kind(col)
    if kind in ("number", "bool"):
        integer = kind == "bool" or pdt.is_integer_dtype(col.dtype)
        values = col.to_numpy(dtype=float, na_value=np.nan)
        ok = ~np.isnan(values)
        g, v = group[ok], values[ok]
        counts = np.bincount(g, minlength=n)
        if fn == "sum":
            total = np.bincount(g, weights=v, minlength=n)
            return np.rint(total).astype(np.int64) if integer else total
        if fn == "mean":
            total = np.bincount(g, weights=v, minlength=n)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)
        ufunc = np.minimum if fn == "min" else np.maximum
        acc = np.full(n, np.inf if fn == "min" else -np.inf)
        ufunc.at(acc, g, v)
        empty = counts == 0
        if integer:
            arr = pd.array(np.where(empty, 0, acc).astype(np.int64), dtype="Int64")
            arr[empty] = pd.NA
            return arr
        acc[empty] = np.nan
        return acc
    if fn in ("sum", "mean"):
        raise QueryError(f"{key}.column", f"{fn!r} needs a numeric column; {name!r} is {kind}")
    # min / max of text, dates …: the natural order through sorted codes
    codes, uniques = pd.factorize(col, sort=True)
    ok = codes >= 0
    g, c = group[ok], codes[ok]
    if fn == "min":
        acc = np.full(n, len(uniques), dtype=np.int64)
        np.minimum.at(acc, g, c)
        acc[acc == len(uniques)] = -1
    else:
        acc = np.full(n, -1, dtype=np.int64)
        np.maximum.at(acc, g, c)
    values = np.asarray(uniques, dtype=object)
    result = values[np.maximum(acc, 0)] if len(values) else np.full(n, None, dtype=object)
    result[acc < 0] = None
    return result
