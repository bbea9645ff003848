"""A bar chart widget (matplotlib on its QtAgg backend) for grouped query results.

matplotlib must use the Qt binding the application already imported, so
``QT_API`` is set to ``pyside6`` before its Qt backend is imported.  Chinese
labels need a CJK font: the first installed one of :data:`CJK_FONTS` is used,
and without one the chart still draws (missing glyphs show as boxes, silently).
"""

from __future__ import annotations

import math
import os
import warnings

os.environ["QT_API"] = "pyside6"  # before matplotlib picks a Qt binding

import matplotlib
import pandas as pd
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

__all__ = ["CJK_FONTS", "BarChart", "cjk_font"]

#: CJK fonts tried in order (the README set-up installs Noto Sans CJK).
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Sans CJK KR",
             "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Micro Hei",
             "WenQuanYi Zen Hei", "Microsoft YaHei", "SimHei", "PingFang SC", "Hiragino Sans GB",
             "Noto Serif CJK SC", "Noto Serif CJK JP", "AR PL UMing CN")

# Without a CJK font matplotlib warns once per missing glyph; the chart must stay quiet.
warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)

_CJK: list = []


def cjk_font() -> str | None:
    """The family name of an installed CJK font, or ``None`` (looked up once)."""
    if not _CJK:
        installed = {f.name for f in fontManager.ttflist}
        _CJK.append(next((name for name in CJK_FONTS if name in installed), None))
    return _CJK[0]


def _font(size: float | None = None) -> FontProperties:
    families = [cjk_font()] if cjk_font() else []
    families += list(matplotlib.rcParams["font.sans-serif"][:1]) or ["DejaVu Sans"]
    return FontProperties(family=families, size=size)


class BarChart(QWidget):
    """Vertical bars with category labels; ``set_bars`` replaces the content.

    Values that are ``None``/NaN draw no bar but keep their label, annotated
    with ``missing_text`` (e.g. ``"<5"`` for a suppressed people count).
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.figure = Figure(figsize=(5, 3), dpi=100, layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.canvas.setMinimumHeight(160)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self.axes = self.figure.add_subplot(111)
        self._labels: list[str] = []
        self._values: list[float | None] = []
        self.clear()

    # ------------------------------------------------------------------ API
    def clear(self, message: str = "") -> None:
        """Remove the bars; show ``message`` in the middle instead."""
        self._labels, self._values = [], []
        ax = self.axes
        ax.clear()
        ax.set_axis_off()
        if message:
            ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes,
                    fontproperties=_font(10), color="#555555", wrap=True)
        self.canvas.draw_idle()

    def set_bars(self, labels, values, *, title: str = "", ylabel: str = "",
                 missing_text: str = "", color: str = "#3b75af") -> None:
        """Draw one bar per label (in the order given)."""
        labels = [str(v) for v in labels]
        values = [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
                  for v in (_scalar(v) for v in values)]
        if len(labels) != len(values):
            raise ValueError(f"{len(labels)} labels but {len(values)} values")
        self._labels, self._values = labels, values
        ax = self.axes
        ax.clear()
        ax.set_axis_on()
        x = list(range(len(labels)))
        heights = [0.0 if v is None else v for v in values]
        bars = ax.bar(x, heights, color=color, width=0.7)
        for bar, v in zip(bars, values):
            if v is None:
                bar.set_visible(False)
                if missing_text:
                    ax.annotate(missing_text, (bar.get_x() + bar.get_width() / 2, 0),
                                ha="center", va="bottom", fontsize=8, color="#555555")
        ax.set_xticks(x)
        small = 9 if len(labels) <= 12 else 7
        ax.set_xticklabels(labels, rotation=0 if len(labels) <= 6 else 45,
                           ha="center" if len(labels) <= 6 else "right",
                           fontproperties=_font(small))
        for tick in ax.get_yticklabels():
            tick.set_fontproperties(_font(small))
        if title:
            ax.set_title(title, fontproperties=_font(10))
        if ylabel:
            ax.set_ylabel(ylabel, fontproperties=_font(9))
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        self.canvas.draw_idle()

    def bar_count(self) -> int:
        """Number of bars (labels) drawn."""
        return len(self._labels)

    def labels(self) -> list[str]:
        return list(self._labels)

    def values(self) -> list[float | None]:
        return list(self._values)

    def render_png(self, path) -> None:
        """Save the chart as an image (for reports and screenshots)."""
        self.figure.savefig(path, dpi=100)


def _scalar(v):
    return None if v is pd.NA or v is pd.NaT else v
