"""Layer styles: evented, validated, and serialisable to plain JSON.

Four kinds, each a small mutable model whose attributes are checked on every
assignment and announced on ``style.events.changed(field, value)``:

- :class:`SingleStyle` — one symbol for every feature (also the symbol type used
  inside the other styles);
- :class:`CategorizedStyle` — one symbol per value of a column;
- :class:`GraduatedStyle` — colour classes over a numeric column, with class
  breaks computed by mapclassify (:meth:`GraduatedStyle.from_data`);
- :class:`RasterStyle` — a colour ramp stretched between ``vmin`` and ``vmax``.

Colours are strings ``"#rrggbb"`` or ``"#rrggbbaa"`` (alpha last, ``00`` is fully
transparent); they are stored lower-case.  Sizes and widths are in screen pixels.

``style.to_dict()`` gives a JSON-ready dict with a ``"kind"`` key and
:func:`style_from_dict` turns it back into an equal style.  :func:`default_style`
picks a sensible style for a layer by name and data (framework layers, flood
zones, department overlays).

Examples
--------
>>> s = SingleStyle(fill="#FF000080")
>>> s.fill
'#ff000080'
>>> style_from_dict(s.to_dict()) == s
True
>>> seen = []
>>> _ = s.events.changed.connect(lambda field, value: seen.append(field))
>>> s.stroke_width = 2
>>> seen
['stroke_width']
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from psygnal import Signal, SignalGroup

from spatial.schema import DEPARTMENTS, FRAMEWORK, OVERLAY_SCHEMAS

__all__ = [
    "Style",
    "SingleStyle",
    "CategorizedStyle",
    "GraduatedStyle",
    "RasterStyle",
    "RAMPS",
    "CLASSIFICATION_METHODS",
    "DEPARTMENT_COLORS",
    "parse_color",
    "normalize_color",
    "ramp_colors",
    "style_from_dict",
    "default_style",
]

_COLOR_RE = re.compile(r"^#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")

#: Named colour ramps (ColorBrewer and matplotlib stops), low to high.
RAMPS: dict[str, tuple[str, ...]] = {
    "blues": ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"),
    "greens": ("#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c"),
    "reds": ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"),
    "oranges": ("#feedde", "#fdbe85", "#fd8d3c", "#e6550d", "#a63603"),
    "purples": ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f"),
    "greys": ("#f7f7f7", "#cccccc", "#969696", "#636363", "#252525"),
    "ylorrd": ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"),
    "viridis": ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"),
    "magma": ("#000004", "#51127c", "#b73779", "#fc8961", "#fcfdbf"),
    "spectral": ("#d7191c", "#fdae61", "#ffffbf", "#abdda4", "#2b83ba"),
}

# Canonical snake_case method name -> mapclassify's scheme key.
_METHODS: dict[str, str] = {
    "quantiles": "quantiles",
    "equal_interval": "equalinterval",
    "natural_breaks": "naturalbreaks",
    "fisher_jenks": "fisherjenks",
    "fisher_jenks_sampled": "fisherjenkssampled",
    "jenks_caspall": "jenkscaspall",
    "jenks_caspall_sampled": "jenkscaspallsampled",
    "jenks_caspall_forced": "jenkscaspallforced",
    "head_tail_breaks": "headtailbreaks",
    "maximum_breaks": "maximumbreaks",
    "max_p": "maxp",
    "percentiles": "percentiles",
    "pretty_breaks": "prettybreaks",
    "std_mean": "stdmean",
    "box_plot": "boxplot",
    "user_defined": "userdefined",
}
#: Classification method names accepted by :class:`GraduatedStyle` (mapclassify's).
CLASSIFICATION_METHODS: tuple[str, ...] = tuple(_METHODS)
_METHOD_ALIASES = {v: k for k, v in _METHODS.items()}
# Methods whose cost grows faster than n log n classify a random sample of big
# inputs (measured without numba: Fisher-Jenks takes ~1 s on 1,000 values and
# ~8 min on 20,000; max-p ~20 s on 2,000).
_SAMPLE_SIZES = {"fisher_jenks": 1_000, "max_p": 500, "natural_breaks": 20_000,
                 "jenks_caspall": 20_000, "jenks_caspall_forced": 20_000,
                 "fisher_jenks_sampled": 1_000, "jenks_caspall_sampled": 1_000}
# The "sampled" variants draw their sample with our seeded generator and run the
# plain scheme: mapclassify's own draw is unseeded, and JenksCaspallSampled can
# then iterate for ever (seen in CI: a test hung for minutes).
_SCHEMES = {**_METHODS, "fisher_jenks_sampled": "fisherjenks",
            "jenks_caspall_sampled": "jenkscaspall"}

#: One colour per department (used for overlay points, lines and polygons).
DEPARTMENT_COLORS: dict[str, str] = {
    "framework": "#636363",
    "planning": "#8c6d31",
    "police": "#1f4e9c",
    "education": "#e6a100",
    "health": "#d62728",
    "civil_affairs": "#9467bd",
    "environment": "#2ca02c",
    "emergency": "#ff7f0e",
    "fire": "#b2182b",
    "transport": "#17becf",
    "water": "#2171b5",
    "market": "#8c564b",
}
_OTHER_COLOR = "#7f7f7f"


# --------------------------------------------------------------------------- colours
def normalize_color(value: Any, what: str = "colour") -> str:
    """Check a colour string and return it lower-case.

    Raises
    ------
    ValueError
        Naming ``what`` and the accepted forms, when ``value`` is not
        ``"#rrggbb"`` or ``"#rrggbbaa"``.

    Examples
    --------
    >>> normalize_color("#AABBCC")
    '#aabbcc'
    """
    if not isinstance(value, str) or not _COLOR_RE.match(value):
        raise ValueError(
            f"{what} must be a colour '#rrggbb' or '#rrggbbaa' (alpha last), got {value!r}"
        )
    return value.lower()


def parse_color(value: str) -> tuple[int, int, int, int]:
    """``"#rrggbb[aa]"`` -> ``(r, g, b, a)`` in 0–255 (alpha 255 when absent).

    Examples
    --------
    >>> parse_color("#ff000080")
    (255, 0, 0, 128)
    """
    value = normalize_color(value)
    r, g, b = (int(value[i:i + 2], 16) for i in (1, 3, 5))
    a = int(value[7:9], 16) if len(value) == 9 else 255
    return r, g, b, a


def _hex(rgba: Iterable[float]) -> str:
    r, g, b, a = (int(round(min(255.0, max(0.0, float(c))))) for c in rgba)
    return f"#{r:02x}{g:02x}{b:02x}" + ("" if a == 255 else f"{a:02x}")


def _with_alpha(color: str, alpha: int) -> str:
    r, g, b, _ = parse_color(color)
    return _hex((r, g, b, alpha))


def _ramp_stops(ramp: str | Iterable[str]) -> tuple[str, ...]:
    if isinstance(ramp, str):
        try:
            return RAMPS[ramp.lower()]
        except KeyError:
            raise ValueError(
                f"unknown colour ramp {ramp!r}; expected one of {', '.join(RAMPS)} "
                "or a list of colours"
            ) from None
    stops = tuple(normalize_color(c, "ramp colour") for c in ramp)
    if len(stops) < 2:
        raise ValueError("a colour ramp needs at least two colours")
    return stops


def ramp_colors(ramp: str | Iterable[str], n: int) -> list[str]:
    """``n`` colours evenly spaced along a ramp (a name from :data:`RAMPS` or a list).

    Examples
    --------
    >>> ramp_colors(["#000000", "#ffffff"], 3)
    ['#000000', '#808080', '#ffffff']
    """
    stops = np.array([parse_color(c) for c in _ramp_stops(ramp)], dtype=float)
    if n <= 0:
        return []
    if n == 1:
        return [_hex(stops[len(stops) // 2])]
    pos = np.linspace(0.0, 1.0, n) * (len(stops) - 1)
    xs = np.arange(len(stops))
    out = np.column_stack([np.interp(pos, xs, stops[:, c]) for c in range(4)])
    return [_hex(row) for row in out]


def _to_json_scalar(value: Any) -> Any:
    """numpy scalars -> Python scalars, so category values survive JSON."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def _is_null(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, pd.NA raises -> not null
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------- base
class StyleEvents(SignalGroup):
    """Events of a :class:`Style`: ``changed(field, value)``."""

    changed = Signal(str, object)


class Style:
    """Base of the style models: validated assignment plus a ``changed`` event.

    Subclasses are dataclasses.  Each field is checked by ``_check_<field>``
    (returning the normalised value) whenever it is assigned, including in
    ``__init__``; checks that involve several fields live in ``_validate``,
    which runs after ``__init__``, in :meth:`update` and in :meth:`to_dict`.
    """

    kind: ClassVar[str] = ""

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        if name not in _field_names(type(self)):
            raise AttributeError(f"{type(self).__name__} has no field {name!r}")
        check = getattr(self, f"_check_{name}", None)
        if check is not None:
            value = check(value)
        initialised = "_events" in self.__dict__
        if initialised and _same(self.__dict__.get(name, _MISSING), value):
            return
        object.__setattr__(self, name, value)
        if initialised:
            self._after_set(name, value)
            self._events.changed.emit(name, value)

    def __post_init__(self) -> None:
        self._validate()
        object.__setattr__(self, "_events", StyleEvents(self))
        for f in dataclasses.fields(self):
            self._after_set(f.name, getattr(self, f.name))

    @property
    def events(self) -> StyleEvents:
        """The style's events (``events.changed(field, value)``)."""
        return self._events

    def _after_set(self, name: str, value: Any) -> None:
        """Hook: called after a field changed (used to forward nested symbols)."""

    def _validate(self) -> None:
        """Checks across several fields; raise ValueError."""

    def update(self, **changes: Any) -> None:
        """Change several fields at once (checked together, one event per field).

        Examples
        --------
        >>> g = GraduatedStyle("depth", [1.0, 2.0], ["#eeeeee", "#000000"])
        >>> g.update(breaks=[1.0, 2.0, 3.0], colors=["#eeeeee", "#888888", "#000000"])
        >>> len(g.colors)
        3
        """
        trial = type(self)(**{**self._fields(), **changes})  # raises on bad values
        for name in changes:
            setattr(self, name, getattr(trial, name))

    def _fields(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def to_dict(self) -> dict:
        """A JSON-ready dict with a ``"kind"`` key (see :func:`style_from_dict`)."""
        self._validate()
        return {"kind": self.kind, **self._fields_to_json()}

    def _fields_to_json(self) -> dict:
        return self._fields()

    @classmethod
    def from_dict(cls, d: Mapping) -> "Style":
        """The style described by ``d`` (as written by :meth:`to_dict`)."""
        d = dict(d)
        kind = d.pop("kind", cls.kind)
        if kind != cls.kind:
            raise ValueError(f"expected a {cls.kind!r} style, got kind {kind!r}")
        unknown = set(d) - set(_field_names(cls))
        if unknown:
            raise ValueError(f"unknown {cls.kind} style field(s): {', '.join(sorted(unknown))}")
        return cls(**cls._fields_from_json(d))

    @classmethod
    def _fields_from_json(cls, d: dict) -> dict:
        return d

    def copy(self) -> "Style":
        """An independent equal copy (no event connections)."""
        return style_from_dict(self.to_dict())


_MISSING = object()


def _field_names(cls: type) -> tuple[str, ...]:
    names = cls.__dict__.get("_field_names_cache")
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(cls))
        cls._field_names_cache = names
    return names


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return False


def _check_width(value: Any, what: str, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"{what} must be {'> 0' if positive else '>= 0'}, got {value!r}")
    return value


def _check_column(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"column must be a non-empty column name, got {value!r}")
    return value


# --------------------------------------------------------------------------- single
@dataclass(eq=True, repr=True)
class SingleStyle(Style):
    """One symbol: fill and outline colours, outline width, point size.

    Polygons use ``fill`` and ``stroke``; lines draw with ``stroke`` at
    ``stroke_width``; points are circles of diameter ``point_size`` filled
    with ``fill`` and outlined with ``stroke``.
    """

    kind: ClassVar[str] = "single"

    fill: str = "#a6cee3b3"
    stroke: str = "#1f78b4"
    stroke_width: float = 0.8
    point_size: float = 6.0

    def _check_fill(self, v: Any) -> str:
        return normalize_color(v, "fill")

    def _check_stroke(self, v: Any) -> str:
        return normalize_color(v, "stroke")

    def _check_stroke_width(self, v: Any) -> float:
        return _check_width(v, "stroke_width")

    def _check_point_size(self, v: Any) -> float:
        return _check_width(v, "point_size", positive=True)


def _check_symbol(value: Any, what: str) -> SingleStyle:
    if isinstance(value, Mapping):
        value = SingleStyle.from_dict(value)
    if not isinstance(value, SingleStyle):
        raise TypeError(f"{what} must be a SingleStyle, got {type(value).__name__}")
    return value


# --------------------------------------------------------------------------- categorized
@dataclass(eq=True, repr=True)
class CategorizedStyle(Style):
    """One symbol per value of ``column``; other values (and nulls) use ``default``.

    ``categories`` maps a value (str, int, float or bool, as in the data) to a
    :class:`SingleStyle`; its order is the legend order.  Editing a category's
    symbol in place emits ``changed("categories", ...)`` on this style.
    """

    kind: ClassVar[str] = "categorized"

    column: str
    categories: dict = field(default_factory=dict)
    default: SingleStyle = field(default_factory=lambda: SingleStyle(fill="#bdbdbdb3",
                                                                     stroke="#969696"))

    def _check_column(self, v: Any) -> str:
        return _check_column(v)

    def _check_categories(self, v: Any) -> dict:
        if not isinstance(v, Mapping):
            raise TypeError(f"categories must be a mapping value -> SingleStyle, got {v!r}")
        out = {}
        for key, sym in v.items():
            key = _to_json_scalar(key)
            if not isinstance(key, (str, int, float, bool)) or _is_null(key):
                raise ValueError(
                    f"category values must be text, numbers or booleans, got {key!r}"
                )
            out[key] = _check_symbol(sym, f"the symbol of category {key!r}")
        return out

    def _check_default(self, v: Any) -> SingleStyle:
        return _check_symbol(v, "default")

    def _after_set(self, name: str, value: Any) -> None:
        # Forward in-place edits of the current symbols (and only those).
        if name not in ("categories", "default"):
            return
        for sym in self.__dict__.get("_symbols", ()):
            sym.events.changed.disconnect(self._symbol_changed, missing_ok=True)
        symbols = [*self.categories.values(), self.default]
        for sym in symbols:
            sym.events.changed.connect(self._symbol_changed, unique=True)
        self._symbols = symbols

    def _symbol_changed(self, field_name: str, value: Any) -> None:
        self._events.changed.emit("categories", self.categories)

    def symbol_for(self, value: Any) -> SingleStyle:
        """The symbol drawn for one value (``default`` when not listed).

        Examples
        --------
        >>> red = SingleStyle(fill="#ff0000")
        >>> CategorizedStyle("use", {"industrial": red}).symbol_for("industrial") is red
        True
        """
        if _is_null(value):
            return self.default
        return self.categories.get(_to_json_scalar(value), self.default)

    def _fields_to_json(self) -> dict:
        return {
            "column": self.column,
            "categories": [
                {"value": k, "symbol": s.to_dict()} for k, s in self.categories.items()
            ],
            "default": self.default.to_dict(),
        }

    @classmethod
    def _fields_from_json(cls, d: dict) -> dict:
        d = dict(d)
        cats = d.get("categories", [])
        if isinstance(cats, list):
            try:
                d["categories"] = {c["value"]: c["symbol"] for c in cats}
            except (TypeError, KeyError):
                raise ValueError(
                    "categories must be a list of {'value': ..., 'symbol': {...}}"
                ) from None
        return d


# --------------------------------------------------------------------------- graduated
@dataclass(eq=True, repr=True)
class GraduatedStyle(Style):
    """Colour classes over a numeric column.

    ``breaks`` are the ascending upper bounds of the classes (mapclassify's
    ``bins``): a value ``v`` falls in the first class ``i`` with
    ``v <= breaks[i]``; values above the last break fall in the last class.
    ``colors[i]`` fills class ``i``; nulls use ``null_color``.  ``method`` names
    the mapclassify scheme that produced the breaks (``"user_defined"`` when
    set by hand), one of :data:`CLASSIFICATION_METHODS`.
    """

    kind: ClassVar[str] = "graduated"

    column: str
    breaks: list = field(default_factory=list)
    colors: list = field(default_factory=list)
    method: str = "user_defined"
    stroke: str = "#00000066"
    stroke_width: float = 0.5
    point_size: float = 6.0
    null_color: str = "#00000000"

    def _check_column(self, v: Any) -> str:
        return _check_column(v)

    def _check_breaks(self, v: Any) -> list:
        try:
            values = [float(b) for b in v]
        except (TypeError, ValueError):
            raise ValueError(f"breaks must be a list of numbers, got {v!r}") from None
        if not values:
            raise ValueError("breaks must hold at least one class bound")
        if any(not math.isfinite(b) for b in values):
            raise ValueError(f"breaks must be finite numbers, got {values}")
        if any(a >= b for a, b in zip(values, values[1:])):
            raise ValueError(f"breaks must be strictly ascending, got {values}")
        return values

    def _check_colors(self, v: Any) -> list:
        if isinstance(v, str) or not isinstance(v, Iterable):
            raise TypeError(f"colors must be a list of colours, got {v!r}")
        return [normalize_color(c, f"colors[{i}]") for i, c in enumerate(v)]

    @staticmethod
    def _check_method(v: Any) -> str:
        key = str(v).lower().replace("_", "").replace(" ", "").replace("-", "")
        if key not in _METHOD_ALIASES:
            raise ValueError(
                f"unknown classification method {v!r}; expected one of "
                f"{', '.join(CLASSIFICATION_METHODS)}"
            )
        return _METHOD_ALIASES[key]

    def _check_stroke(self, v: Any) -> str:
        return normalize_color(v, "stroke")

    def _check_null_color(self, v: Any) -> str:
        return normalize_color(v, "null_color")

    def _check_stroke_width(self, v: Any) -> float:
        return _check_width(v, "stroke_width")

    def _check_point_size(self, v: Any) -> float:
        return _check_width(v, "point_size", positive=True)

    def _validate(self) -> None:
        if len(self.breaks) != len(self.colors):
            raise ValueError(
                f"a graduated style needs one colour per class: {len(self.breaks)} breaks "
                f"but {len(self.colors)} colours"
            )

    @classmethod
    def from_data(
        cls,
        series,
        k: int = 5,
        method: str = "quantiles",
        ramp: str | Iterable[str] = "blues",
        **symbol: Any,
    ) -> "GraduatedStyle":
        """Classify a numeric column with mapclassify.

        Parameters
        ----------
        series : pandas.Series
            The values; its name becomes the style's ``column``.  Nulls are ignored.
        k : int
            The number of classes.  When the column has at most ``k`` distinct
            values, each value is its own class.
        method : str
            A mapclassify scheme (:data:`CLASSIFICATION_METHODS`).  Slow schemes
            classify a fixed random sample of large inputs (natural breaks and
            Jenks–Caspall 20,000 values, Fisher–Jenks 1,000, max-p 500), so a
            million-row column classifies in about a second; the last break is
            always at least the maximum.
        ramp : str or list of str
            A ramp name from :data:`RAMPS` or a list of colours.
        **symbol
            ``stroke``, ``stroke_width``, ``point_size``, ``null_color``.

        Examples
        --------
        >>> import pandas as pd
        >>> s = GraduatedStyle.from_data(pd.Series(range(100), name="floors"), k=4)
        >>> s.column, s.method, s.breaks
        ('floors', 'quantiles', [24.75, 49.5, 74.25, 99.0])
        """
        import mapclassify
        import pandas as pd

        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive whole number of classes, got {k!r}")
        name = getattr(series, "name", None)
        if name is None:
            raise ValueError("from_data needs a named Series (the name is the column)")
        method = cls._check_method(method)
        values = pd.to_numeric(pd.Series(series), errors="coerce").to_numpy(dtype=float,
                                                                             na_value=np.nan)
        values = values[np.isfinite(values)]
        if values.size == 0:
            raise ValueError(f"column {name!r} holds no numeric values to classify")
        unique = np.unique(values)
        if unique.size <= k:
            breaks = unique.tolist()
        else:
            if method == "user_defined":
                raise ValueError("method 'user_defined' needs explicit breaks, not from_data")
            sample, size = values, _SAMPLE_SIZES.get(method, values.size)
            if values.size > size:
                sample = np.random.default_rng(0).choice(values, size, replace=False)
            options = {"initial": 10} if method == "natural_breaks" else {}
            with warnings.catch_warnings():  # "Numba not installed": pure Python is fine here
                warnings.filterwarnings("ignore", message="Numba not installed")
                classifier = mapclassify.classify(sample, _SCHEMES[method], k=k, **options)
            breaks = sorted(set(float(b) for b in np.asarray(classifier.bins)))
            breaks[-1] = max(breaks[-1], float(unique[-1]))
        return cls(str(name), breaks, ramp_colors(ramp, len(breaks)), method, **symbol)

    def classify(self, values) -> np.ndarray:
        """The class index of each value (``-1`` for nulls).

        Examples
        --------
        >>> g = GraduatedStyle("d", [1.0, 2.0], ["#eeeeee", "#000000"])
        >>> g.classify([0.5, 1.0, 1.5, 9.0, None]).tolist()
        [0, 0, 1, 1, -1]
        """
        import pandas as pd

        v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float,
                                                                        na_value=np.nan)
        idx = np.searchsorted(np.asarray(self.breaks, dtype=float), v, side="left")
        idx = np.minimum(idx, len(self.breaks) - 1)
        idx[~np.isfinite(v)] = -1
        return idx

    def color_for(self, value: Any) -> str:
        """The fill colour of one value."""
        i = int(self.classify([value])[0])
        return self.null_color if i < 0 else self.colors[i]


# --------------------------------------------------------------------------- raster
@dataclass(eq=True, repr=True)
class RasterStyle(Style):
    """A colour ramp stretched from ``vmin`` to ``vmax`` (``None``: the band's min/max).

    Nodata pixels are transparent.
    """

    kind: ClassVar[str] = "raster"

    ramp: Any = "viridis"
    vmin: float | None = None
    vmax: float | None = None

    def _check_ramp(self, v: Any) -> Any:
        stops = _ramp_stops(v)  # raises on a bad ramp
        return v.lower() if isinstance(v, str) else list(stops)

    def _check_vmin(self, v: Any) -> float | None:
        return self._check_bound(v, "vmin")

    def _check_vmax(self, v: Any) -> float | None:
        return self._check_bound(v, "vmax")

    @staticmethod
    def _check_bound(v: Any, what: str) -> float | None:
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"{what} must be a number or None, got {v!r}")
        if not math.isfinite(float(v)):
            raise ValueError(f"{what} must be finite, got {v!r}")
        return float(v)

    def _validate(self) -> None:
        if self.vmin is not None and self.vmax is not None and not self.vmin < self.vmax:
            raise ValueError(f"vmin must be below vmax, got vmin={self.vmin}, vmax={self.vmax}")

    def to_rgba(self, values, vmin: float | None = None, vmax: float | None = None) -> np.ndarray:
        """Colour a (masked) 2-D array: ``uint8`` array of shape ``(rows, cols, 4)``.

        ``vmin``/``vmax`` arguments stand in for the style's own when those are
        ``None`` (pass the band statistics); masked and NaN pixels are transparent.

        Examples
        --------
        >>> RasterStyle(["#000000", "#ffffff"], 0, 1).to_rgba(np.array([[0.0, 1.0]]))[0, :, 0]
        array([  0, 255], dtype=uint8)
        """
        arr = np.ma.masked_invalid(np.ma.asarray(values, dtype=float))
        lo = self.vmin if self.vmin is not None else vmin
        hi = self.vmax if self.vmax is not None else vmax
        data = arr.filled(np.nan)
        if lo is None:
            lo = float(np.nanmin(data)) if arr.count() else 0.0
        if hi is None:
            hi = float(np.nanmax(data)) if arr.count() else 1.0
        span = hi - lo if hi > lo else 1.0
        lut = np.array([parse_color(c) for c in ramp_colors(self.ramp, 256)], dtype=np.uint8)
        scaled = np.clip((np.nan_to_num(data, nan=lo) - lo) / span, 0.0, 1.0)
        out = lut[(scaled * 255).round().astype(np.intp)]
        out[np.ma.getmaskarray(arr)] = 0
        return out


_KINDS: dict[str, type[Style]] = {
    c.kind: c for c in (SingleStyle, CategorizedStyle, GraduatedStyle, RasterStyle)
}


def style_from_dict(d: Mapping | None) -> Style | None:
    """The style a :meth:`Style.to_dict` dict describes (``None`` stays ``None``).

    Raises
    ------
    ValueError
        For an unknown ``kind`` or a bad field, naming it.

    Examples
    --------
    >>> style_from_dict({"kind": "raster", "ramp": "blues", "vmin": 0, "vmax": 3})
    RasterStyle(ramp='blues', vmin=0.0, vmax=3.0)
    """
    if d is None:
        return None
    if not isinstance(d, Mapping):
        raise TypeError(f"a style must be a dict with a 'kind', got {type(d).__name__}")
    kind = d.get("kind")
    if kind not in _KINDS:
        raise ValueError(f"unknown style kind {kind!r}; expected one of {', '.join(_KINDS)}")
    return _KINDS[kind].from_dict(d)


# --------------------------------------------------------------------------- defaults
_USE_COLORS = {
    "residential": "#f4d58d",
    "commercial": "#e07a5f",
    "industrial": "#8d99ae",
    "public": "#81b29a",
    "mixed": "#c8a2c8",
}
# Road classes: colour and width, most important first (OSM and Chinese usage).
_ROAD_CLASSES = {
    "motorway": ("#e15759", 3.0), "expressway": ("#e15759", 3.0),
    "trunk": ("#f28e2b", 2.6), "arterial": ("#f28e2b", 2.4), "major": ("#f28e2b", 2.4),
    "primary": ("#edc948", 2.2), "secondary": ("#f1ce63", 1.8),
    "collector": ("#f1ce63", 1.6), "tertiary": ("#bab0ac", 1.4),
    "minor": ("#9d9d9d", 1.0), "local": ("#9d9d9d", 1.0), "residential": ("#9d9d9d", 1.0),
    "branch": ("#9d9d9d", 1.0), "service": ("#c7c7c7", 0.7), "path": ("#c7c7c7", 0.5),
    "footway": ("#c7c7c7", 0.5),
}


def _department_of(layer_name: str, department: str | None) -> str:
    if department:
        return department
    if layer_name in FRAMEWORK:
        return "framework"
    return OVERLAY_SCHEMAS.get(layer_name, {}).get("department", "other")


def default_style(layer_name: str, data, department: str | None = None) -> Style | None:
    """A sensible first style for a layer.

    - ``buildings``: categorised by ``use``; ``roads``: by ``class`` (colour and
      width per class); ``communities``: outline only; ``legal_entities``:
      hazardous-chemical sites in red;
    - ``flood_zones``: graduated blues by ``depth_class`` (categorised blues
      when the classes are text);
    - any other layer: one symbol in its department's colour
      (:data:`DEPARTMENT_COLORS`), drawn as points, lines or translucent polygons.

    Tables (no geometry) get ``None``; a missing column falls back to a single symbol.

    Parameters
    ----------
    layer_name : str
    data : GeoDataFrame or DataFrame
    department : str, optional
        Overrides the department known for ``layer_name``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> gdf = gpd.GeoDataFrame({"use": ["residential"]}, geometry=[shapely.box(0, 0, 1, 1)])
    >>> default_style("buildings", gdf).column
    'use'
    """
    from .vector import geometry_family  # vector imports this module

    family = geometry_family(data)
    if family is None:
        return None
    columns = set(map(str, data.columns))
    dept = _department_of(layer_name, department)
    color = DEPARTMENT_COLORS.get(dept, _OTHER_COLOR)

    if layer_name == "buildings" and "use" in columns:
        return CategorizedStyle(
            "use",
            {u: SingleStyle(fill=c, stroke="#7f7f7f", stroke_width=0.3)
             for u, c in _USE_COLORS.items()},
            SingleStyle(fill="#d9d9d9", stroke="#7f7f7f", stroke_width=0.3),
        )
    if layer_name == "roads" and "class" in columns:
        present = [v for v in data["class"].dropna().unique().tolist()]
        known = [c for c in _ROAD_CLASSES if c in present]
        others = sorted((v for v in present if v not in _ROAD_CLASSES), key=str)
        cats = {c: SingleStyle(stroke=_ROAD_CLASSES[c][0], stroke_width=_ROAD_CLASSES[c][1])
                for c in known}
        cats.update({v: SingleStyle(stroke="#9d9d9d", stroke_width=1.0) for v in others})
        return CategorizedStyle("class", cats, SingleStyle(stroke="#9d9d9d", stroke_width=1.0))
    if layer_name == "communities":
        return SingleStyle(fill="#00000000", stroke="#6a3d9a", stroke_width=1.2)
    if layer_name == "legal_entities" and "hazard_class" in columns:
        base = SingleStyle(fill=DEPARTMENT_COLORS["market"], stroke="#ffffff",
                           stroke_width=0.5, point_size=5.0)
        hazard = SingleStyle(fill="#d7191c", stroke="#ffffff", stroke_width=0.8,
                             point_size=8.0)
        return CategorizedStyle("hazard_class", {"hazardous_chemicals": hazard}, base)
    if layer_name == "flood_zones" and "depth_class" in columns:
        return _flood_style(data["depth_class"])

    if family == "point":
        return SingleStyle(fill=color, stroke="#ffffff", stroke_width=0.8, point_size=7.0)
    if family == "line":
        return SingleStyle(fill="#00000000", stroke=color, stroke_width=1.5)
    return SingleStyle(fill=_with_alpha(color, 0x59), stroke=color, stroke_width=0.8)


def _flood_style(series) -> Style:
    import pandas as pd

    values = series.dropna()
    if values.empty:
        return SingleStyle(fill="#6baed680", stroke="#2171b5")
    symbol = {"stroke": "#2171b5", "stroke_width": 0.6}
    if pd.api.types.is_numeric_dtype(values):
        style = GraduatedStyle.from_data(values, k=5, method="quantiles", ramp="blues", **symbol)
        style.colors = [_with_alpha(c, 0xb3) for c in style.colors]
        return style
    classes = sorted(values.astype(str).unique().tolist(), key=_natural_key)
    colors = ramp_colors("blues", len(classes) + 1)[1:]  # skip the near-white end
    return CategorizedStyle(
        str(series.name),
        {c: SingleStyle(fill=_with_alpha(col, 0xb3), **symbol)
         for c, col in zip(classes, colors)},
        SingleStyle(fill="#bdbdbd80", **symbol),
    )


def _natural_key(text: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]
