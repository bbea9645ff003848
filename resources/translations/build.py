"""Update the Chinese translation catalogue and compile it.

    .venv/bin/python resources/translations/build.py           # lupdate + lrelease
    .venv/bin/python resources/translations/build.py --check   # also exit 1 if unfinished

Runs ``pyside6-lupdate`` over every ``gui/**/*.py`` into ``cityframe_zh_CN.ts``
(existing translations are kept, vanished strings dropped, no source locations so
line moves do not churn the file), then ``pyside6-lrelease`` into
``cityframe_zh_CN.qm`` (what gui/app.py loads).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TS = HERE / "cityframe_zh_CN.ts"
QM = HERE / "cityframe_zh_CN.qm"
BIN = Path(sys.executable).parent


def gui_sources(root: Path = ROOT) -> list[Path]:
    """Every Python file under gui/, sorted (deterministic lupdate input)."""
    return sorted(p for p in (root / "gui").rglob("*.py") if "__pycache__" not in p.parts)


def lupdate(ts: Path, sources: list[Path] | None = None) -> None:
    """Merge the tr() strings of ``sources`` (default: gui/**/*.py) into ``ts``."""
    files = [str(p) for p in (sources if sources is not None else gui_sources())]
    cmd = [str(BIN / "pyside6-lupdate"), "-silent", "-locations", "none", "-no-obsolete",
           "-source-language", "en", "-target-language", "zh_CN", *files, "-ts", str(ts)]
    subprocess.run(cmd, check=True)


def lrelease(ts: Path, qm: Path) -> None:
    """Compile ``ts`` into the binary catalogue ``qm``."""
    subprocess.run([str(BIN / "pyside6-lrelease"), "-silent", str(ts), "-qm", str(qm)],
                   check=True)


def messages(ts: Path) -> list[tuple[str, ET.Element]]:
    """(context name, <message> element) for every message of ``ts``."""
    return [(ctx.findtext("name", ""), msg)
            for ctx in ET.parse(ts).getroot().iter("context")
            for msg in ctx.iter("message")]


def unfinished(ts: Path) -> list[tuple[str, str]]:
    """(context, source) of every message without a finished translation."""
    out = []
    for context, msg in messages(ts):
        tr = msg.find("translation")
        numerus = tr is not None and tr.findall("numerusform")
        empty = tr is None or (not (tr.text or "").strip() if not numerus
                               else any(not (n.text or "").strip() for n in numerus))
        if tr is None or tr.get("type") == "unfinished" or empty:
            out.append((context, msg.findtext("source", "")))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if any message lacks a translation")
    args = parser.parse_args(argv)
    lupdate(TS)
    lrelease(TS, QM)
    total = len(messages(TS))
    missing = unfinished(TS)
    print(f"{TS.name}: {total} messages, {len(missing)} unfinished")
    for ctx, src in missing:
        print(f"  unfinished  {ctx}: {src!r}")
    if args.check and missing:
        print("Translate them (pyside6-linguist or edit the .ts), then re-run build.py.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
