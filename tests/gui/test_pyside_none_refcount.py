"""Regression test for the PySide6 6.12.0 / Python 3.11 crash (DESIGN.md, practical notes).

PySide6 6.12.0 drops one reference to ``None`` on every Qt method that returns
nothing; on Python 3.11, where ``None`` is not immortal, a long session ends in
"Fatal Python error: none_dealloc".  pyproject.toml pins around it; this test
makes tens of thousands of void calls and checks the refcount of ``None`` holds.
"""

import sys

import pytest

pytestmark = pytest.mark.gui

from PySide6 import QtCore, QtGui  # noqa: E402


def test_void_qt_calls_do_not_leak_none(qapp):
    image = QtGui.QImage(64, 64, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    painter = QtGui.QPainter(image)
    brush = QtGui.QBrush(QtGui.QColor(200, 30, 30))
    pen = QtGui.QPen(QtGui.QColor(0, 0, 0))
    rect = QtCore.QRectF(1, 1, 10, 10)
    try:
        before = sys.getrefcount(None)
        for _ in range(10_000):
            painter.setBrush(brush)  # void
            painter.setPen(pen)  # void
            painter.drawRect(rect)  # void
        image.fill(0)  # void, on the image itself
        after = sys.getrefcount(None)
    finally:
        painter.end()
    # 30,000 void calls; a leaking binding loses ~24,000 references.
    assert before - after < 100, f"None lost {before - after} references in 30,000 void Qt calls"


def test_installed_pyside_is_not_the_leaking_release():
    import PySide6

    version = tuple(int(p) for p in PySide6.__version__.split(".")[:2])
    if sys.version_info < (3, 12):
        assert version < (6, 12), (
            f"PySide6 {PySide6.__version__} on Python {sys.version.split()[0]} leaks None; "
            "pyproject.toml must keep it below 6.12"
        )
