"""The drill report printed to PDF with Qt (QTextDocument + QPdfWriter), offscreen."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from gui.report_pdf import PdfError, html_to_pdf
from spatial.drill.report import report_html
from tests.spatial.drill.test_report import SOURCES, make_frames, make_result

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def frames():
    return make_frames()


@pytest.fixture(scope="module")
def result(frames):
    return make_result(frames)


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def _text(pdf_path) -> str | None:
    """The PDF's text through poppler's pdftotext, when installed."""
    exe = shutil.which("pdftotext")
    if exe is None:
        return None
    return subprocess.run([exe, "-layout", str(pdf_path), "-"], check=False,
                          capture_output=True, text=True, timeout=60).stdout


def test_report_prints_to_pdf(qapp, tmp_path, result, frames):
    html = report_html(result, frames, lang="en", sources=SOURCES)
    out = html_to_pdf(html, tmp_path / "report.pdf")
    assert out == tmp_path / "report.pdf"
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF")
    assert _pages(pdf) > 1
    assert b"/Image" in pdf or b"/XObject" in pdf  # the maps and the chart
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf"]  # no temp file left
    text = _text(out)
    if text is not None:
        assert "Chlorine leak drill" in text
        assert text.count("INTERNAL / 内部") >= _pages(pdf)  # stamped on every page
        assert re.search(rf"1\s*/\s*{_pages(pdf)}", text)  # page numbers
        first_uscc = result.summary["legal_entities"][0]["uscc"]
        assert first_uscc in text


def test_chinese_report(qapp, tmp_path, result, frames):
    html = report_html(result, frames, lang="zh", sources=SOURCES, classification="restricted")
    out = html_to_pdf(html, tmp_path / "报告.pdf")
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF") and _pages(pdf) > 1
    text = _text(out)
    if text is not None:
        # Qt's PDF text layer maps some CJK glyphs to their Kangxi-radical twins
        # (人 -> U+2F08): check words without such characters.
        assert "泄漏演练" in text and "通知的法" in text
        assert "RESTRICTED / 限制" in text
        assert "2024-07-01T08:30:00Z" in text  # Latin and digits stay searchable


def test_long_report_has_many_pages(qapp, tmp_path, result, frames, monkeypatch):
    many = dict(result.summary)
    rows = result.summary["legal_entities"]
    many["legal_entities"] = [dict(rows[i % len(rows)], name=f"Company {i}") for i in range(180)]
    monkeypatch.setattr(result, "summary", many)
    html = report_html(result, frames, lang="en")
    short_pages = _pages(html_to_pdf(report_html(make_result(frames), frames),
                                     tmp_path / "short.pdf").read_bytes())
    pdf = html_to_pdf(html, tmp_path / "long.pdf").read_bytes()
    assert _pages(pdf) >= short_pages + 2


def test_images_are_embedded_not_linked(qapp, tmp_path, result, frames):
    out = html_to_pdf(report_html(result, frames), tmp_path / "r.pdf")
    pdf = out.read_bytes()
    # image XObjects with a width that matches the map PNGs (1110 px at 150 dpi)
    assert re.search(rb"/Subtype\s*/Image", pdf)
    widths = [int(w) for w in re.findall(rb"/Width\s+(\d+)", pdf)]
    assert max(widths) >= 1000
    assert b"data:image" not in pdf


def test_bad_input_leaves_no_file(qapp, tmp_path):
    with pytest.raises(TypeError, match="html must be str"):
        html_to_pdf(b"<html></html>", tmp_path / "x.pdf")
    assert list(tmp_path.iterdir()) == []


def test_failure_leaves_no_partial_file(qapp, tmp_path, monkeypatch):
    import gui.report_pdf as mod

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(mod.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        html_to_pdf("<html><body><p>x</p></body></html>", tmp_path / "x.pdf")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder_raises(qapp, tmp_path):
    with pytest.raises((PdfError, OSError)):
        html_to_pdf("<p>x</p>", tmp_path / "missing" / "x.pdf")


def test_plain_html_without_stamp_or_images(qapp, tmp_path):
    out = html_to_pdf("<html><body><h1>Hello 你好</h1></body></html>", tmp_path / "p.pdf")
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF") and _pages(pdf) == 1
    text = _text(out)
    if text is not None:
        assert "Hello 你好" in text and "INTERNAL" not in text  # no stamp in, none out
