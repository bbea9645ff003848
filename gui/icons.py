"""Toolbar and menu icons: CityFrame's own line drawings in ``resources/icons/*.svg``.

``icon(name)`` gives a ``QIcon`` for ``resources/icons/<name>.svg`` (cached).
On a light palette the SVG file is used as is (Qt's SVG icon engine draws it
crisply at every size); on a dark palette the dark line colour is swapped for
the palette's text colour and the icon is rendered through ``QtSvg``.

The drawings are simple 24×24 line icons made for CityFrame (no third-party
artwork, same licence as the project); ``resources/icons/README.md`` lists them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QImage, QPainter, QPalette, QPixmap

__all__ = ["ICON_DIR", "LINE_COLOR", "icon", "icon_names", "icon_path"]

ICON_DIR = Path(__file__).resolve().parents[1] / "resources" / "icons"
#: The line colour the SVG files are drawn in (swapped on dark palettes).
LINE_COLOR = "#263238"
#: Pixel sizes rendered for recoloured icons.
_SIZES = (16, 20, 24, 32, 48, 64)

_cache: dict[tuple[str, str | None], QIcon] = {}


def icon_path(name: str) -> Path:
    """The SVG file of icon ``name`` (``FileNotFoundError`` naming the folder if absent)."""
    path = ICON_DIR / f"{name}.svg"
    if not path.is_file():
        raise FileNotFoundError(f"no icon named {name!r}: {path} does not exist")
    return path


def icon_names() -> list[str]:
    """Names of the bundled icons."""
    return sorted(p.stem for p in ICON_DIR.glob("*.svg"))


def _dark_palette() -> str | None:
    """The palette's text colour when the window background is dark, else ``None``."""
    app = QGuiApplication.instance()
    if app is None:
        return None
    pal = app.palette()
    if pal.color(QPalette.ColorRole.Window).lightness() >= 128:
        return None
    return pal.color(QPalette.ColorRole.WindowText).name()


def _recoloured(path: Path, color: str) -> QIcon:
    from PySide6.QtSvg import QSvgRenderer

    data = path.read_text(encoding="utf-8").replace(LINE_COLOR, color)
    renderer = QSvgRenderer(QByteArray(data.encode("utf-8")))
    out = QIcon()
    for size in _SIZES:
        img = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        img.fill(Qt.GlobalColor.transparent)
        p = QPainter(img)
        try:
            renderer.render(p, QRectF(0, 0, size, size))
        finally:
            p.end()
        out.addPixmap(QPixmap.fromImage(img))
    return out


def icon(name: str) -> QIcon:
    """The icon ``name`` (see :func:`icon_names`), following the palette's lightness."""
    color = _dark_palette()
    key = (name, color)
    cached = _cache.get(key)
    if cached is None:
        path = icon_path(name)
        cached = QIcon(str(path)) if color is None else _recoloured(path, color)
        _cache[key] = cached
    return cached
