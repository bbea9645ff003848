"""Personal data rules: people are shown only as aggregates, small counts suppressed.

DESIGN.md ("Security and privacy"): aggregates of people below a threshold
(default 5) are suppressed in tables, maps and exports.  A suppressed value
becomes missing (shown as ``<5`` by :func:`format_suppressed`); zero stays zero
(it reveals nobody).

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"community_id": ["C1", "C2", "C3"], "residents": [0, 3, 120]})
>>> suppress_small_counts(df)["residents"].tolist()
[0, <NA>, 120]
"""

from __future__ import annotations

import pandas as pd

__all__ = ["PEOPLE_COLUMNS", "SUPPRESSION_THRESHOLD", "people_columns", "suppress_small_counts",
           "format_suppressed"]

#: Columns that count people (the population table's, joined onto buildings).
PEOPLE_COLUMNS = ("residents", "age_0_14", "age_15_64", "age_65_plus")
SUPPRESSION_THRESHOLD = 5


def people_columns(frame: pd.DataFrame, extra=()) -> list[str]:
    """Columns of ``frame`` that count people: the population columns, plus any
    ``extra`` names (e.g. aggregate outputs summing a population column)."""
    wanted = set(PEOPLE_COLUMNS) | set(extra)
    return [c for c in frame.columns if c in wanted]


def suppress_small_counts(frame: pd.DataFrame, columns=None, threshold: int = SUPPRESSION_THRESHOLD,
                          ) -> pd.DataFrame:
    """A copy of ``frame`` with people counts in ``1 … threshold-1`` set to missing.

    ``columns`` defaults to :func:`people_columns`.  Values are kept as nullable
    integers where they were integers.
    """
    if threshold < 1:
        raise ValueError(f"threshold must be at least 1, got {threshold}")
    columns = people_columns(frame) if columns is None else list(columns)
    out = frame.copy()
    for c in columns:
        values = pd.to_numeric(out[c], errors="coerce")
        small = (values > 0) & (values < threshold)
        if pd.api.types.is_integer_dtype(values.dtype) or (
                values.dropna() == values.dropna().round()).all():
            values = values.astype("Int64")
        out[c] = values.mask(small)
    return out


def format_suppressed(value, threshold: int = SUPPRESSION_THRESHOLD) -> str:
    """Text for a table cell: ``<5`` for a suppressed (missing) people count."""
    return f"<{threshold}" if value is None or value is pd.NA or value != value else f"{value:,}"
