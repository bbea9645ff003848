"""Layer styles → drawing symbols: one :class:`Symbol` per style class, the class
of every feature (vectorised) and the order in which classes are drawn.

A table keyed by style class (napari's ``layer_to_visual`` habit): adding a
style kind means one function here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QPen

from layers.style import CategorizedStyle, GraduatedStyle, SingleStyle, parse_color
from spatial.render_prep import classify_categories, premultiplied_argb

__all__ = ["Symbol", "StyleClasses", "style_classes", "SELECTION_SYMBOL", "HIGHLIGHT_COLORS"]


@dataclass(frozen=True)
class Symbol:
    """One style class, ready for QPainter and for the numpy pixel path."""

    fill: tuple[int, int, int, int]
    stroke: tuple[int, int, int, int]
    stroke_width: float
    point_size: float

    @classmethod
    def from_single(cls, s: SingleStyle) -> Symbol:
        return cls(parse_color(s.fill), parse_color(s.stroke), float(s.stroke_width),
                   float(s.point_size))

    @property
    def has_fill(self) -> bool:
        return self.fill[3] > 0

    @property
    def has_stroke(self) -> bool:
        return self.stroke[3] > 0 and self.stroke_width > 0

    def pixel_color(self, family: str) -> np.uint32:
        """Premultiplied ARGB of a feature drawn as one pixel (fill, else outline)."""
        rgba = self.fill if (family == "polygon" and self.has_fill) or family == "point" \
            else self.stroke
        if family == "point" and not self.has_fill:
            rgba = self.stroke
        return premultiplied_argb([rgba])[0]

    def brush(self) -> QBrush:
        return QBrush(QColor(*self.fill)) if self.has_fill else QBrush(Qt.BrushStyle.NoBrush)

    def pen(self, width: float | None = None) -> QPen:
        if not self.has_stroke:
            return QPen(Qt.PenStyle.NoPen)
        pen = QPen(QColor(*self.stroke))
        pen.setWidthF(self.stroke_width if width is None else width)
        pen.setCosmetic(True)  # widths in pixels whatever the map transform
        return pen


#: How selected features are drawn (yellow, as in most desktop GIS).
SELECTION_SYMBOL = Symbol((255, 255, 0, 200), (255, 200, 0, 255), 1.5, 9.0)
#: Colours of ``set_highlight`` overlays, in the order keys are first used.
HIGHLIGHT_COLORS = ("#ff00ff", "#ff7f00", "#00bfff", "#00c853", "#ff1744", "#7c4dff")


@dataclass(frozen=True)
class StyleClasses:
    """``classes[i]`` is the symbol index of row ``i`` (-1: not drawn);
    ``draw_order`` lists symbol indices bottom to top."""

    symbols: tuple[Symbol, ...]
    classes: np.ndarray
    draw_order: tuple[int, ...]


def _column(frame, name: str):
    return frame[name] if name in frame.columns else None


def _single(style: SingleStyle, frame) -> StyleClasses:
    return StyleClasses((Symbol.from_single(style),), np.zeros(len(frame), dtype=np.int32), (0,))


def _arrow_categories(values, keys: list) -> np.ndarray | None:
    """:func:`~spatial.render_prep.classify_categories` for an Arrow-backed text
    column and text keys through ``pyarrow.compute.index_in`` (one C call that
    releases the GIL: ~20 ms for a million buildings instead of ~200 ms of pandas
    hashing, which matters for the first frame); ``None`` for other columns."""
    if not keys or not all(isinstance(k, str) for k in keys):
        return None
    array = getattr(values, "array", None)
    if not hasattr(array, "__arrow_array__"):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    data = array.__arrow_array__()
    if not (pa.types.is_string(data.type) or pa.types.is_large_string(data.type)):
        return None
    idx = pc.index_in(data, value_set=pa.array(keys, type=data.type))
    return np.asarray(idx.fill_null(len(keys)).to_numpy(zero_copy_only=False), dtype=np.int32)


def _categorized(style: CategorizedStyle, frame) -> StyleClasses:
    keys = list(style.categories)
    symbols = tuple(Symbol.from_single(s) for s in [*style.categories.values(), style.default])
    values = _column(frame, style.column)
    if values is None:
        classes = np.full(len(frame), len(keys), dtype=np.int32)
    else:
        classes = _arrow_categories(values, keys)
        if classes is None:
            classes = classify_categories(values, keys)
    # the first category is drawn on top (motorways above local roads), the default lowest
    order = (len(keys), *range(len(keys) - 1, -1, -1))
    return StyleClasses(symbols, classes, order)


def _graduated(style: GraduatedStyle, frame) -> StyleClasses:
    n = len(style.breaks)
    symbols = tuple(
        Symbol(parse_color(c), parse_color(style.stroke), float(style.stroke_width),
               float(style.point_size))
        for c in [*style.colors, style.null_color]
    )
    values = _column(frame, style.column)
    if values is None:
        classes = np.full(len(frame), n, dtype=np.int32)
    else:
        classes = np.empty(len(values), dtype=np.int32)
        for i in range(0, len(values), 100_000):  # pandas holds the GIL: keep calls short
            classes[i:i + 100_000] = style.classify(values.iloc[i:i + 100_000])
        classes[classes < 0] = n
    return StyleClasses(symbols, classes, (n, *range(n)))


_CLASSIFIERS = {SingleStyle: _single, CategorizedStyle: _categorized, GraduatedStyle: _graduated}


def style_classes(style, frame) -> StyleClasses:
    """Symbols, per-row classes and drawing order of a vector style."""
    fn = _CLASSIFIERS.get(type(style))
    if fn is None:
        return _single(SingleStyle(), frame)
    return fn(style, frame)
