"""Print a drill report (the HTML of :func:`spatial.drill.report.report_html`) to PDF with Qt.

:func:`html_to_pdf` lays the HTML out with :class:`QTextDocument` on A4 pages and
paints them into a :class:`QPdfWriter` (300 dpi by default).  Each page gets the
report's classification stamp at its top and bottom and a page number, taken
from the report's ``<div class="stamp">`` — a classified document is marked on
every sheet, not only on the first and last.

QTextDocument does not decode ``data:`` image URIs, so the embedded PNGs are
taken out of the HTML, registered with :meth:`QTextDocument.addResource` under
local names, and the ``src`` attributes rewritten to those names.

The layout uses CSS pixels (96 per inch) on a fixed-resolution image as its
paint device, so the result does not depend on the screen; the painter scales
to the writer's resolution.  The file is written atomically: a temporary file
in the same folder, then :func:`os.replace` — a failure leaves no partial PDF.

Qt needs a :class:`QGuiApplication`; one is created if none exists (then call
from the main thread).  With an application running, any thread will do.
"""

from __future__ import annotations

import base64
import html as _html
import os
import re
import tempfile
from pathlib import Path

from PySide6.QtCore import QByteArray, QMarginsF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)

__all__ = ["PdfError", "html_to_pdf"]

_CSS_DPI = 96.0  # the layout unit: a CSS pixel
_MM_PER_INCH = 25.4
_DATA_IMG = re.compile(r"""src=(["'])data:image/(png|jpeg|jpg|gif);base64,([A-Za-z0-9+/=\s]+)\1""")
_STAMP = re.compile(r'<div class="stamp">(.*?)</div>', re.DOTALL)
_TITLE = re.compile(r"<title>(.*?)</title>", re.DOTALL)
_LATIN_FONTS = ("Noto Sans", "Segoe UI", "Liberation Sans", "Arial", "DejaVu Sans")
_CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei",
              "PingFang SC")


class PdfError(RuntimeError):
    """The PDF could not be written (the message names the file)."""


def _app() -> QGuiApplication:
    return QGuiApplication.instance() or QGuiApplication([])


def _extract_images(html: str, doc: QTextDocument) -> str:
    """Register each ``data:`` image with ``doc`` and point its ``src`` at it."""
    count = 0

    def repl(m: re.Match) -> str:
        nonlocal count
        raw = base64.b64decode(re.sub(r"\s+", "", m.group(3)))
        image = QImage()
        if not image.loadFromData(QByteArray(raw)):
            return m.group(0)  # leave it; Qt shows a placeholder
        name = f"cityframe-image-{count}.png"
        count += 1
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
        return f'src="{name}"'

    return _DATA_IMG.sub(repl, html)


def _keep_headings_with_next(doc: QTextDocument, page_h: float, passes: int = 12) -> None:
    """Move a heading to the next page when what follows it starts there.

    Qt's HTML ignores ``page-break-after: avoid``; this sets "page break before"
    on each top-level heading (h1–h3) left alone at the foot of a page, one pass
    at a time (a move shifts what follows), until nothing moves."""
    layout = doc.documentLayout()
    moved: set[int] = set()
    for _ in range(passes):
        changed = False
        block = doc.begin()
        while block.isValid():
            fmt = block.blockFormat()
            if 1 <= fmt.headingLevel() <= 3 and block.blockNumber() not in moved \
                    and QTextCursor(block).currentTable() is None:
                top = layout.blockBoundingRect(block).top()
                nxt = block.next()
                while nxt.isValid() and layout.blockBoundingRect(nxt).height() <= 0:
                    nxt = nxt.next()
                if nxt.isValid():
                    page = int(top // page_h)
                    next_page = int(layout.blockBoundingRect(nxt).top() // page_h)
                    if next_page > page and top - page * page_h > 1.0:
                        fmt.setPageBreakPolicy(QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)
                        QTextCursor(block).setBlockFormat(fmt)
                        moved.add(block.blockNumber())
                        changed = True
                        break  # the layout below has changed: start over
            block = block.next()
        if not changed:
            return


def _default_font() -> QFont:
    """A Latin face first and a CJK face as fallback.  With a CJK face first, Qt's
    PDF text layer loses Latin letters and digits (copy and search fail)."""
    from PySide6.QtGui import QFontDatabase

    families = set(QFontDatabase.families())
    font = QFont()
    latin = next((f for f in _LATIN_FONTS if f in families), None)
    cjk = next((f for f in _CJK_FONTS if f in families), None)
    font.setFamilies([f for f in (latin, cjk) if f] or [font.family()])
    font.setPointSizeF(10.0)
    return font


def html_to_pdf(html: str, path: str | os.PathLike, *, dpi: int = 300,
                margins_mm: tuple[float, float, float, float] = (12.0, 16.0, 12.0, 16.0)) -> Path:
    """Write the report ``html`` as an A4 PDF at ``path`` and return the path.

    Parameters
    ----------
    html : str
        A drill report (self-contained HTML, images as ``data:`` URIs).
    path : path-like
        The PDF to write; replaced atomically.
    dpi : int
        The writer's resolution (images keep their own pixels).
    margins_mm : (left, top, right, bottom)
        Page margins; the stamps and page numbers are printed inside the top and
        bottom margins.

    Raises
    ------
    TypeError
        When ``html`` is not a string (nothing is written).
    PdfError
        When Qt cannot write the file.
    """
    if not isinstance(html, str):
        raise TypeError(f"html must be str, got {type(html).__name__}")
    path = Path(path)
    _app()

    left, top, right, bottom = margins_mm
    page_w_mm, page_h_mm = 210.0, 297.0
    px_per_mm = _CSS_DPI / _MM_PER_INCH
    body_w = (page_w_mm - left - right) * px_per_mm
    body_h = (page_h_mm - top - bottom) * px_per_mm

    doc = QTextDocument()
    # Layout in CSS pixels on a fixed 96-dpi device: independent of the screen.
    device = QImage(1, 1, QImage.Format.Format_RGB32)
    dpm = round(_CSS_DPI / 0.0254)
    device.setDotsPerMeterX(dpm)
    device.setDotsPerMeterY(dpm)
    doc.documentLayout().setPaintDevice(device)
    doc.setDefaultFont(_default_font())
    doc.setDocumentMargin(0)
    doc.setHtml(_extract_images(html, doc))
    doc.setPageSize(QSizeF(body_w, body_h))
    _keep_headings_with_next(doc, body_h)
    pages = max(1, doc.pageCount())

    stamp_m = _STAMP.search(html)
    stamp = _html.unescape(re.sub(r"<[^>]+>", "", stamp_m.group(1))).strip() if stamp_m else ""
    title_m = _TITLE.search(html)
    title = _html.unescape(title_m.group(1)).strip() if title_m else "CityFrame"

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        writer = QPdfWriter(tmp)
        writer.setResolution(dpi)
        writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4),
                                         QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0),
                                         QPageLayout.Unit.Millimeter))
        writer.setTitle(title)
        writer.setCreator("CityFrame")
        painter = QPainter()
        if not painter.begin(writer):
            raise PdfError(f"{path}: Qt could not open the PDF for writing")
        try:
            scale = dpi / _CSS_DPI
            mark_font = QFont(_default_font())
            mark_font.setPointSizeF(8.0)
            mark_font.setBold(True)
            for i in range(pages):
                if i:
                    writer.newPage()
                painter.save()
                painter.scale(scale, scale)
                painter.translate(left * px_per_mm, top * px_per_mm)
                clip = QRectF(0, i * body_h, body_w, body_h)
                painter.translate(0, -i * body_h)
                doc.drawContents(painter, clip)
                painter.restore()
                _marks(painter, dpi, margins_mm, stamp, i + 1, pages, mark_font)
        finally:
            ok = painter.end()
        if not ok:
            raise PdfError(f"{path}: Qt could not finish the PDF")
        del writer  # flush and close the file before it is moved
        if os.path.getsize(tmp) == 0:
            raise PdfError(f"{path}: Qt wrote an empty PDF")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def _marks(painter: QPainter, dpi: int, margins_mm, stamp: str, page: int, pages: int,
           font: QFont) -> None:
    """The classification stamp in the top and bottom margins, and "page / pages".

    Drawn in the writer's own pixels (no scaling): the font's point size is
    resolved against the writer's resolution."""
    left, top, right, bottom = margins_mm
    dev = dpi / _MM_PER_INCH  # device pixels per millimetre
    x, w = left * dev, (210.0 - left - right) * dev
    painter.save()
    painter.setFont(font)
    align_top = Qt.AlignmentFlag.AlignTop
    rows = (top * 0.4, 297.0 - bottom * 0.7)
    if stamp:
        painter.setPen(QPen(QColor("#b10026")))
        for y_mm in rows:
            painter.drawText(QRectF(x, y_mm * dev, w, 6 * dev),
                             int(Qt.AlignmentFlag.AlignHCenter | align_top), stamp)
    painter.setPen(QPen(QColor("#555555")))
    painter.drawText(QRectF(x, rows[1] * dev, w, 6 * dev),
                     int(Qt.AlignmentFlag.AlignRight | align_top), f"{page} / {pages}")
    painter.restore()
