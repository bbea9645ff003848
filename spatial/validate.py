"""Validation of the unified framework and the overlays laid over it.

:func:`validate_framework` checks the five framework layers of
:data:`spatial.schema.FRAMEWORK` (``buildings``, ``population``,
``legal_entities``, ``communities``, ``roads``) and any department overlay it
is given, and returns a :class:`ValidationReport`: one :class:`Issue` per fault
found, and copies of the layers with invalid geometries repaired.

Every check is vectorised (pandas, numpy and shapely 2 array functions); the
only Python loops run over the faulty rows that the masks found, to build the
issues.  Rows are numbered from 1 in the order of the layer, which is the
GeoPackage ``fid`` of a freshly written layer.

Issue codes (stable, used by ``main.py validate --json``):

=========================  ========  =============================================
code                       severity  meaning
=========================  ========  =============================================
``missing_layer``          error     a framework layer is not in the workspace
``empty_layer``            error     a framework layer has no rows (overlays: warning)
``missing_column``         error     a required column (or the geometry) is absent
``wrong_type``             error     a column holds the wrong kind of values
``null_id``                error     the key column is empty on a row
``duplicate_id``           error     the key value already appears on an earlier row
``orphan_building_id``     error     ``population.building_id`` has no building
``orphan_entity_building`` warning   ``legal_entities.building_id`` has no building
``invalid_uscc``           error     a malformed code or wrong check character
``invalid_geometry``       repaired  fixed with ``shapely.make_valid`` (error when
                                     ``repair=False``)
``unrepairable_geometry``  error     ``make_valid`` left nothing of the right family
``empty_geometry``         error     the geometry is null or empty
``wrong_geometry_type``    error     e.g. a point in ``buildings``
``unknown_use``            error     ``buildings.use`` not in ``BUILDING_USES``
``negative_value``         error     negative floors, height, residents, age group
                                     or employees
``age_sum_mismatch``       warning   age groups do not add up to ``residents``
=========================  ========  =============================================

Examples
--------
>>> import geopandas, shapely
>>> from spatial.uscc import make_uscc
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> layers = {
...     "buildings": geopandas.GeoDataFrame(
...         {"building_id": ["B1"], "use": ["residential"], "floors": [3],
...          "height_m": [9.0], "year_built": [1998], "address": ["1 Main St"],
...          "community_id": ["C1"]},
...         geometry=[shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])]),
...     "population": pandas.DataFrame(
...         {"building_id": ["B1", "B9"], "residents": [10, 4], "age_0_14": [2, 1],
...          "age_15_64": [6, 2], "age_65_plus": [2, 1]}),
... }
>>> report = validate_framework(layers)
>>> report.ok
False
>>> report.repaired["buildings"]
1
>>> report.layers["buildings"].geometry.iloc[0].geom_type
'MultiPolygon'
>>> for issue in report.issues:
...     print(issue.severity, "|", issue.text())
repaired | buildings row 1 (building_id=B1), column geometry: invalid geometry (Self-intersection[0.5 0.5]) was repaired into a valid MultiPolygon
error | population row 2 (building_id=B9), column building_id: building_id B9 has no building in buildings
error | legal_entities: the framework layer is missing
error | communities: the framework layer is missing
error | roads: the framework layer is missing
>>> report.counts_by_code()
{'invalid_geometry': 1, 'orphan_building_id': 1, 'missing_layer': 3}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import geopandas
import numpy as np
import pandas
import shapely

from .feedback import ensure_feedback
from .schema import BUILDING_USES, FRAMEWORK, Column, LayerSchema, key_column
from .uscc import uscc_problem, uscc_valid_mask

__all__ = [
    "CODES",
    "SEVERITIES",
    "Issue",
    "ValidationReport",
    "validate_framework",
]

SEVERITIES = ("error", "warning", "repaired")

#: Every issue code with its default severity.
CODES: dict[str, str] = {
    "missing_layer": "error",
    "empty_layer": "error",
    "missing_column": "error",
    "wrong_type": "error",
    "null_id": "error",
    "duplicate_id": "error",
    "orphan_building_id": "error",
    "orphan_entity_building": "warning",
    "invalid_uscc": "error",
    "invalid_geometry": "repaired",
    "unrepairable_geometry": "error",
    "empty_geometry": "error",
    "wrong_geometry_type": "error",
    "unknown_use": "error",
    "negative_value": "error",
    "age_sum_mismatch": "warning",
}

_LANGS = ("en", "zh")

# Columns whose values can never be negative.
_NON_NEGATIVE = {
    "buildings": ("floors", "height_m"),
    "population": ("residents", "age_0_14", "age_15_64", "age_65_plus"),
    "legal_entities": ("employees",),
}
_AGE_GROUPS = ("age_0_14", "age_15_64", "age_65_plus")

# shapely type ids: 0 Point, 1 LineString, 2 LinearRing, 3 Polygon, 4 MultiPoint,
# 5 MultiLineString, 6 MultiPolygon, 7 GeometryCollection.
_TYPE_NAMES = np.array(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint",
                        "MultiLineString", "MultiPolygon", "GeometryCollection"])
_ALLOWED_TYPES = {"Polygon": (3, 6), "LineString": (1, 5), "Point": (0, 4)}
_FAMILY_EN = {"Polygon": "Polygon or MultiPolygon", "LineString": "LineString or MultiLineString",
              "Point": "Point or MultiPoint"}
_FAMILY_ZH = {"Polygon": "面（Polygon/MultiPolygon）", "LineString": "线（LineString/MultiLineString）",
              "Point": "点（Point/MultiPoint）"}

_SEVERITY_ZH = {"error": "错误", "warning": "警告", "repaired": "已修复"}
_KIND_EN = {"str": "text", "int": "whole numbers", "float": "decimal numbers", "number": "numbers",
            "bool": "true/false values", "mixed": "mixed values", "other": "other values"}
_KIND_ZH = {"str": "文本", "int": "整数", "float": "小数", "number": "数值",
            "bool": "布尔值", "mixed": "混合类型的值", "other": "其他类型的值"}


# --------------------------------------------------------------------------- issues


def _plain(value: object) -> object:
    """A JSON-able version of one cell value (``None`` for nulls)."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if value is pandas.NA or value is pandas.NaT:
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


_PLAIN_TYPES = frozenset((str, int, float, bool, type(None)))


def _plain_list(values: np.ndarray) -> list:
    """:func:`_plain` over an array, vectorised where the dtype allows."""
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        out = arr.astype(object)
        out[np.isnan(arr)] = None
        return out.tolist()
    if arr.dtype.kind in "iubU":
        return arr.tolist()
    items = arr.tolist()
    for i in np.flatnonzero(pandas.isna(arr)).tolist():
        items[i] = None
    return [v if type(v) in _PLAIN_TYPES else _plain(v) for v in items]


def _fmt(value: object) -> str:
    """Show a value in a message: integral floats without ``.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_USCC_ZH = (
    (re.compile(r"^missing$"), "缺失"),
    (re.compile(r"^not text \((.+)\)$"), r"不是文本（\1）"),
    (re.compile(r"^has (\d+) characters, expected 18$"), r"有 \1 个字符，应为 18 个"),
    (re.compile(r"^character '(.+)' is not allowed .*$"),
     r"字符 '\1' 不允许（GB 32100-2015 只使用 0-9 和除 I、O、S、V、Z 以外的大写字母）"),
    (re.compile(r"^check character is (.), expected (.)$"), r"校验位为 \1，应为 \2"),
)


def _uscc_text(problem: str, lang: str) -> str:
    if lang == "en":
        return problem if "GB 32100-2015" in problem else f"{problem} (GB 32100-2015)"
    for pattern, repl in _USCC_ZH:
        if pattern.match(problem):
            text = pattern.sub(repl, problem)
            return text if "GB 32100-2015" in text else f"{text}（GB 32100-2015）"
    return f"{problem}（GB 32100-2015）"


def _detail(issue: Issue, lang: str) -> str:
    """The part of the message after the layer/row/column prefix."""
    p = issue.params
    col = issue.column
    v = _fmt(issue.value)
    en = lang == "en"
    code = issue.code
    if code == "missing_layer":
        return "the framework layer is missing" if en else "缺少该基础框架图层"
    if code == "empty_layer":
        return "the layer has no rows" if en else "图层中没有任何记录"
    if code == "missing_column":
        if col == "geometry":
            fam = p.get("expected")
            return (f"the layer has no geometry column (expected {_FAMILY_EN.get(fam, fam)})" if en
                    else f"图层没有几何字段（应为{_FAMILY_ZH.get(fam, fam)}）")
        return f"required column {col} is missing" if en else f"缺少必需字段 {col}"
    if code == "wrong_type":
        actual, expected = p["actual"], p["expected"]
        ex_row = p.get("example_row")
        if en:
            text = (f"values are stored as {_KIND_EN.get(actual, actual)}, "
                    f"expected {_KIND_EN[expected]}")
            return text + (f" (e.g. row {ex_row}: {v!r})" if ex_row is not None else "")
        text = f"值存储为{_KIND_ZH.get(actual, actual)}，应为{_KIND_ZH[expected]}"
        return text + (f"（例如第 {ex_row} 行：{v}）" if ex_row is not None else "")
    if code == "null_id":
        return f"{col} is empty" if en else f"{col} 为空"
    if code == "duplicate_id":
        first = p["first_row"]
        return (f"{col} {v} is a duplicate of row {first}" if en
                else f"{col} 值 {v} 与第 {first} 行重复")
    if code in ("orphan_building_id", "orphan_entity_building"):
        return (f"{col} {v} has no building in buildings" if en
                else f"{col} 值 {v} 在 buildings 图层中没有对应建筑")
    if code == "invalid_uscc":
        return _uscc_text(p["problem"], lang)
    if code == "invalid_geometry":
        if issue.severity == "repaired":
            return (f"invalid geometry ({v}) was repaired into a valid {p['repaired_type']}" if en
                    else f"无效几何（{v}）已修复为有效的 {p['repaired_type']}")
        return f"invalid geometry ({v})" if en else f"几何无效（{v}）"
    if code == "unrepairable_geometry":
        fam = p["family"]
        return (f"invalid geometry ({v}) could not be repaired into a valid "
                f"{_FAMILY_EN.get(fam, fam)}" if en else f"无效几何（{v}）无法修复为有效的{_FAMILY_ZH.get(fam, fam)}")
    if code == "empty_geometry":
        if p.get("null"):
            return "the geometry is missing" if en else "缺少几何"
        return "the geometry is empty" if en else "几何为空"
    if code == "wrong_geometry_type":
        fam = p["expected"]
        return (f"the geometry is a {v}, expected {_FAMILY_EN[fam]}" if en
                else f"几何类型为 {v}，应为{_FAMILY_ZH[fam]}")
    if code == "unknown_use":
        allowed = ", ".join(BUILDING_USES)
        return (f"use {v!r} is not one of {allowed}" if en
                else f"用途 “{v}” 不是 {allowed} 之一")
    if code == "negative_value":
        return f"{col} is negative ({v})" if en else f"{col} 为负值（{v}）"
    if code == "age_sum_mismatch":
        total = _fmt(p["age_sum"])
        return (f"the age groups add up to {total}, but residents is {v}" if en
                else f"各年龄段人数合计为 {total}，与常住人口 {v} 不符")
    return code  # pragma: no cover - every code is handled above


@dataclass(frozen=True)
class Issue:
    """One fault found by :func:`validate_framework`.

    Attributes
    ----------
    layer : str
        Layer name.
    row : int or None
        1-based position of the row in the layer (the GeoPackage ``fid`` of a
        freshly written layer); ``None`` for layer- and column-level issues.
    column : str or None
        Column concerned (``"geometry"`` for geometry issues), or ``None``.
    code : str
        Stable snake_case code, one of :data:`CODES`.
    key_value : object
        The row's key (id) value, if the layer has a key column and it is set.
    severity : str
        ``"error"``, ``"warning"`` or ``"repaired"``.
    value : object
        The offending value (an id, a code, a geometry type, a validity
        reason …), JSON-able, or ``None``.
    params : dict
        Further details used to build the message (JSON-able).

    Examples
    --------
    >>> issue = Issue("legal_entities", 17, "uscc", "invalid_uscc",
    ...               key_value="91350100M000100Y44", value="91350100M000100Y44",
    ...               params={"key": "uscc", "problem": "check character is 4, expected 3"})
    >>> issue.text()
    'legal_entities row 17 (uscc=91350100M000100Y44), column uscc: check character is 4, expected 3 (GB 32100-2015)'
    >>> issue.text("zh")
    '图层 legal_entities 第 17 行（uscc=91350100M000100Y44），字段 uscc：校验位为 4，应为 3（GB 32100-2015）'
    """

    layer: str
    row: int | None
    column: str | None
    code: str
    key_value: object = None
    severity: str = ""
    value: object = None
    params: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.code in CODES and self.severity in SEVERITIES:
            return  # the common case, kept cheap for large reports
        if self.code not in CODES:
            raise ValueError(f"unknown issue code {self.code!r}; known: {', '.join(CODES)}")
        if not self.severity:
            object.__setattr__(self, "severity", CODES[self.code])
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, "
                             f"got {self.severity!r}")

    def text(self, lang: str = "en") -> str:
        """The issue as one sentence naming layer, row, column and value.

        Parameters
        ----------
        lang : {"en", "zh"}
            English or Simplified Chinese.
        """
        _check_lang(lang)
        key = self.params.get("key")
        if lang == "en":
            head = self.layer
            if self.row is not None:
                head += f" row {self.row}"
                if key and self.key_value is not None:
                    head += f" ({key}={_fmt(self.key_value)})"
            if self.column is not None and self.code != "missing_column":
                head += f", column {self.column}"
            return f"{head}: {_detail(self, lang)}"
        head = f"图层 {self.layer}"
        if self.row is not None:
            head += f" 第 {self.row} 行"
            if key and self.key_value is not None:
                head += f"（{key}={_fmt(self.key_value)}）"
        if self.column is not None and self.code != "missing_column":
            head += f"，字段 {self.column}"
        return f"{head}：{_detail(self, lang)}"

    def to_dict(self, lang: str = "en") -> dict:
        """A JSON-able dict of the issue, with its message in ``lang``."""
        return {
            "layer": self.layer,
            "row": self.row,
            "column": self.column,
            "code": self.code,
            "severity": self.severity,
            "key_value": self.key_value,
            "value": self.value,
            "message": self.text(lang),
        }


def _check_lang(lang: str) -> None:
    if lang not in _LANGS:
        raise ValueError(f"lang must be one of {', '.join(_LANGS)}, got {lang!r}")


# --------------------------------------------------------------------------- report


@dataclass
class ValidationReport:
    """The result of :func:`validate_framework`.

    Attributes
    ----------
    issues : list of Issue
        Every fault, layer by layer (framework layers first), then by row.
    repaired : dict of str to int
        Number of geometries repaired in each layer given.
    layers : dict of str to DataFrame
        Copies of the layers given, with invalid geometries repaired.  The
        inputs themselves are never modified.
    """

    issues: list[Issue] = field(default_factory=list)
    repaired: dict[str, int] = field(default_factory=dict)
    layers: dict[str, pandas.DataFrame] = field(default_factory=dict)

    @property
    def errors(self) -> list[Issue]:
        """Issues of severity ``"error"``."""
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        """Issues of severity ``"warning"``."""
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        """Whether no error was found (warnings and repairs allowed)."""
        return not any(i.severity == "error" for i in self.issues)

    def counts_by_code(self) -> dict[str, int]:
        """Number of issues per code, in order of first appearance."""
        counts: dict[str, int] = {}
        for i in self.issues:
            counts[i.code] = counts.get(i.code, 0) + 1
        return counts

    def _table(self) -> dict[tuple[str, str, str], int]:
        table: dict[tuple[str, str, str], int] = {}
        for i in self.issues:
            k = (i.layer, i.code, i.severity)
            table[k] = table.get(k, 0) + 1
        return table

    def to_text(self, lang: str = "en", limit: int | None = 50) -> str:
        """A summary table (layer × code) followed by the first issues.

        Parameters
        ----------
        lang : {"en", "zh"}
            Language of the text.
        limit : int or None
            How many issue sentences to list after the table (``None``: all).
        """
        _check_lang(lang)
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)
                                  or limit < 0):
            raise ValueError(f"limit must be a non-negative int or None, got {limit!r}")
        en = lang == "en"
        n_err, n_warn = len(self.errors), len(self.warnings)
        n_rep = sum(self.repaired.values())
        if en:
            lines = [f"Validation: {n_err} error(s), {n_warn} warning(s), "
                     f"{n_rep} geometr{'y' if n_rep == 1 else 'ies'} repaired — "
                     + ("OK" if self.ok else "FAULTS FOUND")]
            header = ("layer", "code", "severity", "count")
        else:
            lines = [f"校验结果：错误 {n_err} 个，警告 {n_warn} 个，已修复几何 {n_rep} 个 —— "
                     + ("通过" if self.ok else "发现问题")]
            header = ("图层", "问题", "级别", "数量")
        table = self._table()
        if table:
            rows = [(layer, code, sev if en else _SEVERITY_ZH[sev], str(n))
                    for (layer, code, sev), n in table.items()]
            widths = [max(_width(r[c]) for r in [header, *rows]) for c in range(4)]
            for r in [header, *rows]:
                lines.append("  ".join(_pad(cell, w) for cell, w in zip(r, widths)).rstrip())
            shown = self.issues if limit is None else self.issues[:limit]
            lines.append("")
            for i in shown:
                sev = i.severity if en else _SEVERITY_ZH[i.severity]
                lines.append(f"[{sev}] {i.text(lang)}")
            rest = len(self.issues) - len(shown)
            if rest:
                lines.append(f"… and {rest} more" if en else f"…… 另有 {rest} 个")
        return "\n".join(lines)

    def to_dict(self, lang: str = "en") -> dict:
        """A JSON-able summary (for ``main.py validate --json``).

        Keys: ``ok``, ``errors``, ``warnings`` (counts), ``repaired`` (per
        layer), ``counts`` (per code) and ``issues`` (see :meth:`Issue.to_dict`).
        """
        _check_lang(lang)
        return {
            "ok": self.ok,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "repaired": dict(self.repaired),
            "counts": self.counts_by_code(),
            "issues": [i.to_dict(lang) for i in self.issues],
        }


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


# --------------------------------------------------------------------------- column kinds


def _blank(values: pandas.Series) -> np.ndarray:
    """Null or whitespace-only text, as a bool array."""
    null = values.isna().to_numpy()
    if _kind(values) == "str":
        text = values if isinstance(values.dtype, pandas.StringDtype) else values.astype("str")
        null = null | text.str.strip().eq("").to_numpy(dtype=bool, na_value=False)
    return null


def _isin(values: pandas.Series, known: pandas.Series) -> np.ndarray:
    """``values.isin(known)`` via one joint factorisation (fast for 1M strings)."""
    codes, _ = pandas.factorize(pandas.concat([known, values], ignore_index=True))
    return np.isin(codes[len(known):], codes[:len(known)])


def _kind(values: pandas.Series) -> str:
    """What a column holds: str, int, float, bool, mixed, other or empty."""
    dtype = values.dtype
    if isinstance(dtype, pandas.CategoricalDtype):
        return _kind(pandas.Series(dtype.categories)) if len(dtype.categories) else "empty"
    if not values.notna().any():
        return "empty"
    if pandas.api.types.is_bool_dtype(dtype):
        return "bool"
    if pandas.api.types.is_integer_dtype(dtype):
        return "int"
    if pandas.api.types.is_float_dtype(dtype):
        return "float"
    if isinstance(dtype, pandas.StringDtype):
        return "str"
    if dtype == object:
        inferred = pandas.api.types.infer_dtype(values, skipna=True)
        return {"string": "str", "integer": "int", "floating": "float",
                "mixed-integer-float": "float", "decimal": "float",
                "boolean": "bool", "empty": "empty"}.get(inferred, "mixed")
    return "other"


def _as_float(values: pandas.Series) -> np.ndarray:
    """Numeric values as a float array, NaN for nulls."""
    return pandas.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _type_issue(layer: str, col: Column, values: pandas.Series) -> Issue | None:
    """A ``wrong_type`` issue if ``values`` do not fit ``col.kind``, else None."""
    actual = _kind(values)
    if actual == "empty" or actual == col.kind:
        return None
    numeric = actual in ("int", "float")
    if col.kind == "number" and numeric:
        return None
    if col.kind == "float" and actual == "int":
        return None
    example: int | None = None
    if col.kind == "int" and actual == "float":
        nums = _as_float(values)
        frac = np.isfinite(nums) & (nums != np.floor(nums)) | np.isinf(nums)
        if not frac.any():
            return None  # an int column stored as float with integral values is fine
        example = int(np.flatnonzero(frac)[0])
    else:
        present = values.notna().to_numpy()
        if actual == "mixed":
            # text and other values together: point at the first value of the wrong kind
            is_text = present & values.astype(object).str.len().notna().to_numpy()
            if col.kind == "str":
                bad = present & ~is_text
            else:
                bad = is_text | (present & np.isnan(_as_float(values)))
        else:
            bad = present  # every value has the wrong kind
        hits = np.flatnonzero(bad)
        example = int(hits[0]) if hits.size else None
    value = _plain(values.iloc[example]) if example is not None else None
    return Issue(layer, None, col.name, "wrong_type", value=value,
                 params={"actual": actual, "expected": col.kind,
                         "example_row": None if example is None else example + 1})


# --------------------------------------------------------------------------- helpers


def _geometry_column(frame: pandas.DataFrame) -> str | None:
    """Name of the frame's geometry column, or None for a plain table."""
    if isinstance(frame, geopandas.GeoDataFrame):
        name = frame.active_geometry_name
        if name is not None and name in frame.columns:
            return name
    for name in frame.columns:
        if isinstance(frame[name].dtype, geopandas.array.GeometryDtype):
            return name
    return None


class _Rows:
    """Builds row issues for one layer, with its key values."""

    def __init__(self, layer: str, frame: pandas.DataFrame, key: str | None) -> None:
        self.layer = layer
        self.key = key if key is not None and key in frame.columns else None
        self.frame = frame
        self._keys: np.ndarray | None = None

    @property
    def keys(self) -> np.ndarray | None:
        """Key values as an object array (converted on first use)."""
        if self._keys is None and self.key is not None:
            self._keys = self.frame[self.key].to_numpy(dtype=object)
        return self._keys

    def add(self, out: list[Issue], mask: np.ndarray, column: str | None, code: str,
            values=None, severity: str = "", params: Callable[[int], dict] | None = None) -> None:
        """Append one issue per True position of ``mask``.

        ``values`` (an array or Series) gives each row's offending value.
        """
        hits = np.flatnonzero(mask)
        if not hits.size:
            return
        n = hits.size
        keys = _plain_list(self.keys[hits]) if self.keys is not None else [None] * n
        if isinstance(values, pandas.Series):
            values = values.to_numpy(dtype=object)
        vals = _plain_list(values[hits]) if values is not None else [None] * n
        severity = severity or CODES[code]
        layer, key = self.layer, self.key
        for pos, key_value, value in zip(hits.tolist(), keys, vals):
            extra = params(pos) if params is not None else {}
            out.append(Issue(layer, pos + 1, column, code, key_value, severity, value,
                             {"key": key, **extra}))


def _id_issues(rows: _Rows, frame: pandas.DataFrame, key: str, out: list[Issue], *,
               nulls: bool = True) -> None:
    """``null_id`` and ``duplicate_id`` on the key column."""
    values = frame[key]
    blank = _blank(values)
    if nulls:
        rows.add(out, blank, key, "null_id")
    dup = values.duplicated(keep="first").to_numpy() & ~blank
    if not dup.any():
        return
    codes, _ = pandas.factorize(values, use_na_sentinel=True)
    codes = np.where(blank, -1, codes)
    valid = codes >= 0
    first = np.full(codes.max() + 1, -1, dtype=np.int64)
    uniq, first_idx = np.unique(codes[valid], return_index=True)
    first[uniq] = np.flatnonzero(valid)[first_idx]
    rows.add(out, dup, key, "duplicate_id", values=values,
             params=lambda pos: {"first_row": int(first[codes[pos]]) + 1})


def _repair(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Repair invalid geometries, keeping each one's family.

    Polygons stay polygonal, lines linear, points punctual: ``make_valid``
    output is split into parts and stray parts of other dimensions (e.g. a
    collapsed spike turned into a line) are dropped.  A single part stays a
    single geometry unless the input was a multi-geometry.  Returns the
    repaired geometries and a mask of those that could be repaired.
    """
    n = len(geoms)
    tid = shapely.get_type_id(geoms)
    family = np.select([np.isin(tid, (3, 6)), np.isin(tid, (1, 2, 5)), np.isin(tid, (0, 4))],
                       [0, 1, 2], 3)
    was_multi = np.isin(tid, (4, 5, 6))
    # "structure" unions overlapping parts (a MultiPolygon of two overlapping
    # squares keeps its full area) and drops collapsed polygons.
    fixed = shapely.make_valid(geoms, method="structure", keep_collapsed=False)
    out = np.empty(n, dtype=object)
    ok = np.zeros(n, dtype=bool)
    builders = ((3, shapely.multipolygons), (1, shapely.multilinestrings), (0, shapely.multipoints))
    for fam, (single_id, build) in enumerate(builders):  # loop over 3 families, not features
        sel = np.flatnonzero(family == fam)
        if not sel.size:
            continue
        parts, idx = shapely.get_parts(fixed[sel], return_index=True)
        parts, idx2 = shapely.get_parts(parts, return_index=True)  # nested collections
        idx = idx[idx2]
        keep = (shapely.get_type_id(parts) == single_id) & ~shapely.is_empty(parts)
        parts, idx = parts[keep], idx[keep]
        counts = np.bincount(idx, minlength=sel.size)
        result = np.empty(sel.size, dtype=object)
        if parts.size:
            build(parts, indices=idx, out=result)
        single = (counts == 1) & ~was_multi[sel]
        first = np.searchsorted(idx, np.arange(sel.size))
        result[single] = parts[first[single]]
        out[sel] = result
        ok[sel] = counts > 0
    other = family == 3
    out[other] = fixed[other]
    ok[other] = ~shapely.is_empty(fixed[other])
    ok &= shapely.is_valid(out)
    return out, ok


def _geometry_issues(rows: _Rows, frame: pandas.DataFrame, gcol: str, expected: str | None,
                     repair: bool, out: list[Issue]) -> tuple[pandas.DataFrame, int]:
    """Null/empty, wrong-type and invalid geometries; returns the repaired frame and count."""
    geoms = frame[gcol].to_numpy()
    if expected is not None:
        missing = shapely.is_missing(geoms)
        empty = shapely.is_empty(geoms)
        present = ~missing & ~empty
        rows.add(out, missing | empty, gcol, "empty_geometry",
                 params=lambda pos: {"null": bool(missing[pos])})
        tid = shapely.get_type_id(geoms)
        wrong = present & ~np.isin(tid, _ALLOWED_TYPES[expected])
        names = np.full(len(geoms), None, dtype=object)
        names[wrong] = _TYPE_NAMES[tid[wrong]]
        rows.add(out, wrong, gcol, "wrong_geometry_type", values=names,
                 params=lambda pos: {"expected": expected})
        check = present & ~wrong
    else:
        check = ~shapely.is_missing(geoms)
    invalid = check & ~shapely.is_valid(geoms)
    if not invalid.any():
        return frame, 0
    pos = np.flatnonzero(invalid)
    reasons = np.full(len(geoms), None, dtype=object)
    reasons[pos] = shapely.is_valid_reason(geoms[pos])
    if not repair:
        rows.add(out, invalid, gcol, "invalid_geometry", values=reasons, severity="error")
        return frame, 0
    fixed, fixed_ok = _repair(geoms[pos])
    new_types = np.full(len(geoms), None, dtype=object)
    new_types[pos] = shapely.get_type_id(fixed)
    ok = np.zeros(len(geoms), dtype=bool)
    ok[pos] = fixed_ok
    rows.add(out, invalid & ok, gcol, "invalid_geometry", values=reasons,
             params=lambda p: {"repaired_type": str(_TYPE_NAMES[new_types[p]])})
    family = np.full(len(geoms), "GeometryCollection", dtype=object)
    tid = shapely.get_type_id(geoms[pos])
    family[pos] = np.select([np.isin(tid, (3, 6)), np.isin(tid, (1, 2, 5)), np.isin(tid, (0, 4))],
                            ["Polygon", "LineString", "Point"], "GeometryCollection")
    rows.add(out, invalid & ~ok, gcol, "unrepairable_geometry", values=reasons,
             params=lambda p: {"family": expected or str(family[p])})
    new_geoms = geoms.copy()
    good = pos[fixed_ok]
    new_geoms[good] = fixed[fixed_ok]
    repaired = frame.copy(deep=False)
    crs = getattr(frame[gcol], "crs", None)
    repaired[gcol] = geopandas.GeoSeries(new_geoms, index=frame.index, crs=crs, name=gcol)
    return repaired, int(fixed_ok.sum())


# --------------------------------------------------------------------------- layer checks


def _check_framework_layer(name: str, frame: pandas.DataFrame, schema: LayerSchema,
                           layers: Mapping[str, pandas.DataFrame], repair: bool,
                           progress: Callable[[float], None],
                           ) -> tuple[list[Issue], pandas.DataFrame, int]:
    out: list[Issue] = []
    layer_issues: list[Issue] = []
    if len(frame) == 0:
        layer_issues.append(Issue(name, None, None, "empty_layer"))
    gcol = _geometry_column(frame) if schema.geometry else None
    if schema.geometry and gcol is None:
        layer_issues.append(Issue(name, None, "geometry", "missing_column",
                                  params={"expected": schema.geometry}))
    good: set[str] = set()  # present columns of the right kind
    for col in schema.columns:
        if col.name not in frame.columns:
            layer_issues.append(Issue(name, None, col.name, "missing_column"))
            continue
        problem = _type_issue(name, col, frame[col.name])
        if problem is not None:
            layer_issues.append(problem)
        else:
            good.add(col.name)
    progress(0.1)
    if len(frame) == 0:
        return layer_issues, frame.copy(deep=False), 0

    rows = _Rows(name, frame, schema.key)
    if schema.key in frame.columns:
        _id_issues(rows, frame, schema.key, out)
    progress(0.3)

    for col in _NON_NEGATIVE.get(name, ()):
        if col in good:
            values = _as_float(frame[col])
            rows.add(out, values < 0, col, "negative_value", values=values)

    if name == "buildings" and "use" in good:
        use = frame["use"]
        unknown = ~_blank(use) & ~use.isin(BUILDING_USES).to_numpy()
        rows.add(out, unknown, "use", "unknown_use", values=use)

    if name == "population":
        if all(c in good for c in ("residents", *_AGE_GROUPS)):
            residents = _as_float(frame["residents"])
            ages = np.column_stack([_as_float(frame[c]) for c in _AGE_GROUPS])
            total = ages.sum(axis=1)
            mismatch = (np.isfinite(residents) & np.isfinite(total)
                        & (np.abs(total - residents) > 1e-9))
            rows.add(out, mismatch, "residents", "age_sum_mismatch", values=residents,
                     params=lambda pos: {"age_sum": float(total[pos])})
        _orphans(rows, frame, "building_id", layers, "orphan_building_id", good, out)

    if name == "legal_entities":
        if "uscc" in good:
            codes = frame["uscc"]
            arr = codes.to_numpy(dtype=object)
            bad = ~_blank(codes) & ~uscc_valid_mask(arr)
            rows.add(out, bad, "uscc", "invalid_uscc", values=arr,
                     params=lambda pos: {"problem": uscc_problem(arr[pos])})
        _orphans(rows, frame, "building_id", layers, "orphan_entity_building", good, out)
    progress(0.5)

    result, n_repaired = frame.copy(deep=False), 0
    if gcol is not None:
        result, n_repaired = _geometry_issues(rows, frame, gcol, schema.geometry, repair, out)
        if result is frame:
            result = frame.copy(deep=False)
    out.sort(key=lambda i: i.row)  # stable: check order within a row
    return layer_issues + out, result, n_repaired


def _orphans(rows: _Rows, frame: pandas.DataFrame, col: str,
             layers: Mapping[str, pandas.DataFrame], code: str, good: set[str],
             out: list[Issue]) -> None:
    """Rows whose (non-blank) ``col`` value is no building's ``building_id``."""
    buildings = layers.get("buildings")
    if col not in good or buildings is None or "building_id" not in buildings.columns:
        return
    known = buildings["building_id"]
    if _kind(known) not in ("str", "empty"):
        return  # reported as wrong_type on buildings; comparing would flag every row
    values = frame[col]
    orphan = ~_blank(values) & ~_isin(values, known)
    rows.add(out, orphan, col, code, values=values)


def _check_overlay(name: str, frame: pandas.DataFrame, repair: bool,
                   progress: Callable[[float], None]) -> tuple[list[Issue], pandas.DataFrame, int]:
    if len(frame) == 0:
        empty = Issue(name, None, None, "empty_layer", severity="warning")
        return [empty], frame.copy(deep=False), 0
    out: list[Issue] = []
    key = key_column(name, frame.columns)
    rows = _Rows(name, frame, key)
    if key is not None:
        _id_issues(rows, frame, key, out, nulls=False)
    progress(0.3)
    result, n_repaired = frame.copy(deep=False), 0
    gcol = _geometry_column(frame)
    if gcol is not None:
        result, n_repaired = _geometry_issues(rows, frame, gcol, None, repair, out)
        if result is frame:
            result = frame.copy(deep=False)
    out.sort(key=lambda i: i.row)
    return out, result, n_repaired


# --------------------------------------------------------------------------- entry point


def validate_framework(layers: Mapping[str, pandas.DataFrame], *, repair: bool = True,
                       feedback=None) -> ValidationReport:
    """Check the framework layers and overlays; repair invalid geometries.

    Parameters
    ----------
    layers : mapping of str to DataFrame or GeoDataFrame
        Layers by name.  The five framework layers of
        :data:`spatial.schema.FRAMEWORK` are checked against the schema; every
        other layer is an overlay, checked for emptiness, invalid geometries
        and duplicate ids on its key column (:func:`spatial.schema.key_column`).
        Never modified.
    repair : bool, default True
        Repair invalid geometries with :func:`shapely.make_valid`, keeping the
        geometry family (a bow-tie polygon becomes a MultiPolygon; stray lines
        and points are dropped).  Repaired geometries are reported with
        severity ``"repaired"``; with ``repair=False`` they are errors.
    feedback : spatial.feedback.Feedback, optional
        Receives progress between checks; cancelling raises
        :class:`spatial.errors.Canceled`.

    Returns
    -------
    ValidationReport
        The issues, the number of geometries repaired per layer and copies of
        the layers (repaired where needed).

    Raises
    ------
    TypeError
        If ``layers`` is not a mapping of str to DataFrame, ``repair`` is not a
        bool or ``feedback`` lacks ``set_progress``/``check``.
    spatial.errors.Canceled
        If ``feedback`` was cancelled.

    Examples
    --------
    >>> report = validate_framework({})
    >>> report.ok, report.counts_by_code()
    (False, {'missing_layer': 5})
    >>> print(report.issues[0].text())
    buildings: the framework layer is missing
    """
    if not isinstance(layers, Mapping):
        raise TypeError("layers must be a mapping of layer name to DataFrame, "
                        f"got {type(layers).__name__}")
    for name, frame in layers.items():
        if not isinstance(name, str):
            raise TypeError(f"layer names must be str, got {name!r}")
        if not isinstance(frame, pandas.DataFrame):
            raise TypeError(f"layer {name!r} must be a DataFrame or GeoDataFrame, "
                            f"got {type(frame).__name__}")
    if not isinstance(repair, bool):
        raise TypeError(f"repair must be a bool, got {type(repair).__name__}")
    if feedback is not None and not (callable(getattr(feedback, "set_progress", None))
                                     and callable(getattr(feedback, "check", None))):
        raise TypeError("feedback must have set_progress() and check() "
                        "(see spatial.feedback.Feedback)")
    fb = ensure_feedback(feedback)

    names = list(FRAMEWORK) + [n for n in layers if n not in FRAMEWORK]
    report = ValidationReport()
    for i, name in enumerate(names):
        fb.set_progress(100.0 * i / len(names))
        fb.check()

        def progress(frac: float, i: int = i) -> None:
            fb.set_progress(100.0 * (i + frac) / len(names))
            fb.check()

        schema = FRAMEWORK.get(name)
        if name not in layers:
            report.issues.append(Issue(name, None, None, "missing_layer"))
            continue
        if schema is not None:
            issues, frame, n_repaired = _check_framework_layer(
                name, layers[name], schema, layers, repair, progress)
        else:
            issues, frame, n_repaired = _check_overlay(name, layers[name], repair, progress)
        report.issues.extend(issues)
        report.layers[name] = frame
        report.repaired[name] = n_repaired
    fb.set_progress(100.0)
    return report
