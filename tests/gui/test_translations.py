"""The Simplified Chinese catalogue is complete, consistent and compiled.

If a test here fails after you added or changed a tr() string, run
``.venv/bin/python resources/translations/build.py``, translate the unfinished
messages in resources/translations/cityframe_zh_CN.ts, and run it again.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

TRANSLATIONS = Path(__file__).resolve().parents[2] / "resources" / "translations"
HINT = ("run `.venv/bin/python resources/translations/build.py`, translate the "
        "unfinished messages in cityframe_zh_CN.ts, then run build.py again")


def _load_build():
    spec = importlib.util.spec_from_file_location("cityframe_tr_build",
                                                  TRANSLATIONS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()


def _catalogue(ts: Path) -> dict[tuple[str, str], list[str]]:
    """(context, source) -> translation text(s) of every message."""
    out = {}
    for context, msg in build.messages(ts):
        tr = msg.find("translation")
        forms = tr.findall("numerusform") if tr is not None else []
        texts = [f.text or "" for f in forms] if forms else [tr.text or "" if tr is not None else ""]
        out[(context, msg.findtext("source", ""))] = texts
    return out


def test_every_tr_string_is_translated(tmp_path):
    ts = tmp_path / build.TS.name
    shutil.copy(build.TS, ts)
    build.lupdate(ts)
    new = sorted(set(_catalogue(ts)) - set(_catalogue(build.TS)))
    assert not new, f"tr() strings missing from the catalogue ({HINT}): {new}"
    missing = build.unfinished(ts)
    assert not missing, f"untranslated messages ({HINT}): {missing}"


PLACEHOLDER = re.compile(r"\{\d*\}|%n|%L?\d+")
ACCELERATOR = re.compile(r"&(?!&)(\w)")
TAG = re.compile(r"</?\w+>")


def test_translations_keep_placeholders():
    """Placeholders, HTML tags, the & accelerator and a trailing … survive translation."""
    problems = []
    for (context, source), texts in _catalogue(build.TS).items():
        accel = ACCELERATOR.search(source)
        for text in texts:
            if (sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(source))
                    or sorted(TAG.findall(text)) != sorted(TAG.findall(source))
                    or (accel and f"&{accel.group(1).upper()}" not in text.upper())
                    or (source.endswith("…") and not text.endswith("…"))):
                problems.append((context, source, text))
    assert not problems, problems


def test_qm_translates_to_chinese():
    from PySide6.QtCore import QTranslator

    translator = QTranslator()
    assert translator.load(str(build.QM))
    assert translator.translate("MainWindow", "&File") == "文件(&F)"
    assert translator.translate("ImportDialog", "Restricted") == "受限"


def test_qm_is_up_to_date(tmp_path):
    fresh = tmp_path / build.QM.name
    build.lrelease(build.TS, fresh)
    assert fresh.read_bytes() == build.QM.read_bytes(), f"cityframe_zh_CN.qm is stale: {HINT}"
