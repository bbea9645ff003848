"""CityFrame: offline desktop GIS for cross-agency decision support.

``python main.py`` opens the desktop application; sub-commands do the same work
headless (see ``python main.py --help``).  Exit status: 0 success, 1 when
``validate`` finds faults, 2 for bad input or bad usage.  Errors are one clear
message on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import locale
import os
import sys
from pathlib import Path

__version__ = "0.1.0"

# PySide6 6.11 creates Qt types lazily on first use, which races with the map
# canvas's render thread; create them eagerly (must be set before PySide6 loads).
os.environ.setdefault("PYSIDE6_OPTION_LAZY", "0")

COMMANDS = ("sample", "validate", "info", "import", "query", "impact", "gui")

_TEXT = {
    "prog": ("CityFrame — offline GIS for cross-agency decision support",
             "CityFrame——跨部门决策支持离线 GIS"),
    "error": ("error", "错误"),
    "canceled": ("canceled", "已取消"),
    "no_faults": ("no faults found", "未发现问题"),
    "imported": ("imported {n} layer(s) into {ws}: {names}", "已导入 {n} 个图层到 {ws}：{names}"),
    "exists": ("layer {name!r} already exists in {ws}; use --replace to replace it",
               "图层 {name!r} 已存在于 {ws}；如需替换请加 --replace"),
    "written": ("wrote {path} ({buildings:,} buildings) in {secs:.1f} s",
                "已写入 {path}（{buildings:,} 栋建筑），用时 {secs:.1f} 秒"),
}


def system_lang() -> str:
    """``"zh"`` when the system locale is Chinese, else ``"en"``."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    loc = (locale.getlocale()[0] or "").lower()
    return "zh" if loc.startswith("zh") else "en"


def t(key: str, lang: str, **kw) -> str:
    en, zh = _TEXT[key]
    return (zh if lang == "zh" else en).format(**kw)


class UsageError(Exception):
    """Bad command-line usage (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would exit; we want our own exit path
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="main.py", description=_TEXT["prog"][0],
                epilog="Run without a command to open the desktop application.")
    p.add_argument("--version", action="version", version=f"CityFrame {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def common(sp):
        sp.add_argument("--lang", choices=("zh", "en"), default=None,
                        help="language of messages (default: from the system)")
        return sp

    g = sub.add_parser("gui", help="open the desktop application (the default)")
    _gui_args(g)

    s = common(sub.add_parser("sample", help="generate a synthetic sample city workspace"))
    s.add_argument("--buildings", type=int, default=5000, help="number of buildings (default 5000)")
    s.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    s.add_argument("--out", required=True, help="output workspace (.gpkg)")
    s.add_argument("--name-en", default=None, help="English city name")
    s.add_argument("--name-zh", default=None, help="Chinese city name")
    s.add_argument("--quiet", action="store_true", help="no progress output")

    v = common(sub.add_parser("validate", help="check a workspace against the framework schema"))
    v.add_argument("workspace", help="workspace file, or a sample id (small, district, shanghai)")
    v.add_argument("--json", dest="json_out", default=None, help="also write the report as JSON")
    v.add_argument("--limit", type=int, default=50, help="issues to print per code (default 50)")

    i = common(sub.add_parser("info", help="list a workspace's layers"))
    i.add_argument("workspace", help="workspace file, or a sample id (small, district, shanghai)")
    i.add_argument("--json", action="store_true", help="print JSON instead of a table")

    q = common(sub.add_parser("query", help="run a cross-agency query file on a workspace"))
    q.add_argument("workspace", help="workspace file, or a sample id (small, district, shanghai)")
    q.add_argument("query_file", nargs="?", default=None, metavar="QUERY.json",
                   help="the query (version-1 JSON); not needed with --saved")
    q.add_argument("--out", default=None, help="write the result: .csv, .geojson or .gpkg")
    q.add_argument("--format", choices=("table", "csv", "geojson", "gpkg"), default=None,
                   help="'table' prints the result on stdout (the default without --out)")
    q.add_argument("--saved", default=None, metavar="NAME", help="run the workspace's saved query NAME")
    q.add_argument("--save", default=None, metavar="NAME",
                   help="also save the query in the workspace under NAME")
    q.add_argument("--limit", type=int, default=50, help="rows to print with --format table")

    d = common(sub.add_parser("impact", help="run a drill scenario: who and what a hazard affects"))
    d.add_argument("workspace", help="workspace file, or a sample id (small, district, shanghai)")
    d.add_argument("scenario_file", nargs="?", default=None, metavar="SCENARIO.json",
                   help="the scenario (version-1 JSON); not needed with --saved")
    d.add_argument("--saved", default=None, metavar="NAME",
                   help="run the workspace's saved scenario NAME")
    d.add_argument("--summary", default=None, metavar="S.json", help="write the summary as JSON")
    d.add_argument("--report", default=None, metavar="R.html",
                   help="write the drill report (one self-contained HTML file)")
    d.add_argument("--pdf", default=None, metavar="R.pdf", help="also write the report as PDF")
    d.add_argument("--map", dest="map_out", default=None, metavar="M.html",
                   help="write an interactive map that opens offline")

    im = common(sub.add_parser("import", help="import a file as a layer into a workspace"))
    im.add_argument("workspace")
    im.add_argument("file")
    im.add_argument("--layer", default=None, help="layer to read (GeoPackage) / name to give")
    im.add_argument("--name", default=None, help="name of the new layer in the workspace")
    im.add_argument("--department", default=None, help="department code for the new layer")
    im.add_argument("--classification", default=None,
                    choices=("public", "internal", "restricted"))
    im.add_argument("--crs", default=None, help="CRS of the data when the file has none")
    im.add_argument("--x", default=None, help="CSV column holding x / longitude")
    im.add_argument("--y", default=None, help="CSV column holding y / latitude")
    im.add_argument("--replace", action="store_true", help="replace an existing layer")
    return p


def _gui_args(p):
    p.add_argument("workspace", nargs="?", default=None, help="workspace to open")
    p.add_argument("--sample", default=None, help="open a bundled sample city (small, district, shanghai)")
    p.add_argument("--screenshot", default=None, metavar="PNG",
                   help="render the main window to PNG and exit")
    p.add_argument("--size", default="1600x1000", help="window size for --screenshot, WxH")
    p.add_argument("--run-query", default=None, metavar="QUERY.json",
                   help="load this query into the query builder and run it (e.g. for a screenshot)")
    p.add_argument("--run-drill", default=None, metavar="NAME",
                   help="load the workspace's saved scenario NAME into the Drills panel and run it")
    p.add_argument("--lang", choices=("zh", "en"), default=None)


# ---------------------------------------------------------------- commands


def cmd_sample(args, lang) -> int:
    import time

    from sample_data.generator import build_sample
    from spatial.feedback import Feedback

    if args.buildings < 100:
        raise UsageError("--buildings must be at least 100")
    out = Path(args.out)
    if out.suffix.lower() != ".gpkg":
        raise UsageError(f"--out {out}: the workspace must be a .gpkg file")
    last = [-10.0]

    def progress(p):
        if not args.quiet and (p - last[0] >= 5 or p >= 100):
            last[0] = p
            print(f"\r{p:5.1f} %", end="", file=sys.stderr, flush=True)

    kw = {}
    if args.name_en:
        kw["name_en"] = args.name_en
    if args.name_zh:
        kw["name_zh"] = args.name_zh
    start = time.perf_counter()
    build_sample(args.buildings, args.seed, out, feedback=Feedback(on_progress=progress), **kw)
    if not args.quiet:
        print(file=sys.stderr)
    print(t("written", lang, path=out, buildings=args.buildings, secs=time.perf_counter() - start))
    return 0


def workspace_arg(value: str) -> Path:
    """A workspace path, or the id of a bundled sample city (``small``, ``district`` …)."""
    path = Path(value)
    if path.exists() or path.suffix:
        return path
    from sample_data.catalogue import SAMPLES, sample_path

    if value in {s.id for s in SAMPLES}:
        return sample_path(value)
    return path


def cmd_validate(args, lang) -> int:
    from layers.workspace import Workspace
    from spatial.validate import validate_framework

    ws = Workspace.open(workspace_arg(args.workspace), read_only=True)
    report = validate_framework(ws.frames())
    print(report.to_text(lang, limit=args.limit))
    if args.json_out:
        _write_atomic(Path(args.json_out), json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    # Repaired geometries are faults too: the file still holds them.
    return 0 if report.ok and not any(report.repaired.values()) else 1


def cmd_info(args, lang) -> int:
    from layers.inspect import describe_workspace, format_description

    desc = describe_workspace(workspace_arg(args.workspace))
    if args.json:
        print(json.dumps(desc, ensure_ascii=False, indent=2))
    else:
        print(format_description(desc, lang))
    return 0


def cmd_import(args, lang) -> int:
    from layers.ingest import import_into
    from layers.workspace import Workspace

    ws_path = Path(args.workspace)
    ws = Workspace.open(ws_path) if ws_path.exists() else Workspace()
    names = import_into(
        ws, args.file, layer=args.layer, name=args.name, department=args.department,
        classification=args.classification, crs=args.crs, x=args.x, y=args.y,
        replace=args.replace,
    )
    if ws.path is None:
        ws.save_as(ws_path)
    else:
        ws.save()
    print(t("imported", lang, n=len(names), ws=ws_path, names=", ".join(names)))
    return 0


def cmd_query(args, lang) -> int:
    import time

    from layers.export import export_frame
    from layers.workspace import Workspace
    from spatial.privacy import people_columns, suppress_small_counts
    from spatial.query.engine import QueryEngine
    from spatial.query.model import QueryError, parse_query, query_to_dict
    from spatial.query.sentence import sentence

    if (args.query_file is None) == (args.saved is None):
        raise UsageError("query: give either QUERY.json or --saved NAME")
    if args.out is None and args.format not in (None, "table"):
        raise UsageError(f"query: --format {args.format} needs --out FILE")
    if args.out is not None:
        ext = {"csv": ".csv", "geojson": ".geojson", "gpkg": ".gpkg"}.get(args.format or "")
        if ext and not args.out.lower().endswith(ext):
            raise UsageError(f"query: --out {args.out} does not end in {ext}")
    from sample_data.catalogue import is_bundled

    ws_path = workspace_arg(args.workspace)
    if args.save is not None and is_bundled(ws_path):
        raise UsageError(f"query: {ws_path} is a bundled sample (read-only); copy it to save queries")
    # Writable so the audit log records the query; bundled samples stay untouched.
    ws = Workspace.open(ws_path, read_only=is_bundled(ws_path))
    if args.saved is not None:
        if args.saved not in ws.saved_queries:
            known = ", ".join(sorted(ws.saved_queries)) or "none"
            raise QueryError("", f"no saved query called {args.saved!r} in {ws.path.name} "
                                 f"(saved queries: {known})")
        doc, source = ws.saved_queries[args.saved], f"{ws.path.name}:query:{args.saved}"
    else:
        doc, source = Path(args.query_file), args.query_file
    engine = QueryEngine(ws.frames(), saved=dict(ws.saved_queries))
    query = parse_query(doc, catalog=engine.catalog, saved=engine.saved, source=source)
    titles = ws.titles()
    start = time.perf_counter()
    result = engine.run(query)
    elapsed = time.perf_counter() - start
    people = [a.as_ for a in query.aggregate if a.fn == "sum" and a.column in
              ("residents", "age_0_14", "age_15_64", "age_65_plus")]
    people_cols = people_columns(result.data, people)
    data = suppress_small_counts(result.data, people_cols)
    print(sentence(query, lang, titles), file=sys.stderr)
    matched = ("{n:,} matched in {t:.0f} ms" if lang != "zh" else "匹配 {n:,} 个，用时 {t:.0f} 毫秒")
    print(matched.format(n=result.matched, t=elapsed * 1000), file=sys.stderr)
    if args.out is not None:
        export_frame(data, args.out, layer=args.save or args.saved or Path(source).stem)
    else:
        print(_table(data, args.limit, people_cols))
    ws.log("query", {"query": query_to_dict(query), "saved": args.saved, "out": args.out,
                     "matched": int(result.matched), "ms": round(elapsed * 1000, 1)})
    if args.save is not None:
        ws.saved_queries[args.save] = query_to_dict(query)
        ws.save()
    return 0


def cmd_impact(args, lang) -> int:
    from layers.drill import (drill_classification, drill_layers, drill_sources,
                              run_workspace_drill)
    from layers.workspace import Workspace
    from sample_data.catalogue import is_bundled
    from spatial.drill import ScenarioError, parse_scenario

    if (args.scenario_file is None) == (args.saved is None):
        raise UsageError("impact: give either SCENARIO.json or --saved NAME")
    outputs = {"--summary": (args.summary, ".json"), "--report": (args.report, ".html"),
               "--pdf": (args.pdf, ".pdf"), "--map": (args.map_out, ".html")}
    for flag, (value, ext) in outputs.items():
        if value is not None:
            if not value.lower().endswith(ext):
                raise UsageError(f"impact: {flag} {value} does not end in {ext}")
            if not Path(value).absolute().parent.is_dir():
                raise UsageError(f"impact: {flag} {value}: folder "
                                 f"{Path(value).absolute().parent} does not exist")
    given = [Path(v).absolute() for v, _ in outputs.values() if v is not None]
    if len(set(given)) != len(given):
        raise UsageError("impact: two outputs name the same file")
    ws_path = workspace_arg(args.workspace)
    ws = Workspace.open(ws_path, read_only=is_bundled(ws_path))
    if args.saved is not None:
        if args.saved not in ws.scenarios:
            known = ", ".join(sorted(ws.scenarios)) or "none"
            raise ScenarioError("", f"no saved scenario called {args.saved!r} in {ws.path.name} "
                                    f"(saved scenarios: {known})")
        doc, source = dict(ws.scenarios[args.saved]), f"{ws.path.name}:scenario:{args.saved}"
    else:
        doc, source = Path(args.scenario_file), args.scenario_file
    scenario = parse_scenario(doc, base_dir=ws.folder, source=source)
    result = run_workspace_drill(ws, scenario)
    names = drill_layers(ws, scenario)
    frames, classification = ws.frames(), drill_classification(ws, names)
    texts: dict[Path, bytes] = {}
    if args.summary:
        texts[Path(args.summary)] = json.dumps(result.summary, ensure_ascii=False,
                                               indent=2).encode("utf-8")
    html = None
    if args.report or args.pdf:
        from spatial.drill.report import report_html

        html = report_html(result, frames, lang=lang, sources=drill_sources(ws, names, lang),
                           classification=classification)
        if args.report:
            texts[Path(args.report)] = html.encode("utf-8")
    written: list[Path] = []
    try:
        for path, data in texts.items():
            tmp = path.with_name(f".{path.name}.part")
            tmp.write_bytes(data)
            written.append(tmp)
        staged = {path: path.with_name(f".{path.name}.part") for path in texts}
        if args.map_out:
            from spatial.drill.webmap import export_webmap

            path = Path(args.map_out)
            staged[path] = path.with_name(f".{path.name}.part.html")
            written.append(staged[path])
            export_webmap(result, frames, staged[path], lang=lang, classification=classification)
        if args.pdf:
            # The command line shows no window: Qt only lays out and prints the report.
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
            from gui.report_pdf import html_to_pdf

            path = Path(args.pdf)
            staged[path] = path.with_name(f".{path.name}.part.pdf")
            written.append(staged[path])
            html_to_pdf(html, staged[path])
        for path, tmp in staged.items():
            os.replace(tmp, path)
    finally:
        for tmp in written:
            tmp.unlink(missing_ok=True)
    ws.log("drill_export", {"scenario": source, "summary": args.summary, "report": args.report,
                            "pdf": args.pdf, "map": args.map_out})
    print(_impact_text(result.summary, lang))
    return 0


def _impact_text(s: dict, lang: str) -> str:
    from spatial.privacy import format_suppressed

    zh = lang == "zh"
    sh = s.get("shelters") or {}
    rows = [
        ("residents", "受影响居民", format_suppressed(s.get("residents"))),
        ("aged 0–14 / 15–64 / 65+", "0–14 / 15–64 / 65 岁以上",
         " / ".join(format_suppressed(s.get(k)) for k in ("age_0_14", "age_15_64", "age_65_plus"))),
        ("buildings", "受影响建筑", f"{s.get('buildings', 0):,}"),
        ("legal entities to notify", "需通知的法人单位", f"{len(s.get('legal_entities') or []):,}"),
        ("displaced / unsheltered", "需安置 / 无处安置",
         f"{format_suppressed(sh.get('displaced'))} / {format_suppressed(sh.get('unsheltered'))}"
         if sh.get("method") != "none" else ("no shelter assignment" if not zh else "未做避难安置")),
        ("longest walk to a shelter", "到避难场所最远步行",
         f"{sh['longest_walk_m']:,.0f} m" if sh.get("longest_walk_m") is not None else "–"),
    ]
    width = max(len(zh and b or a) for a, b, _ in rows)
    return "\n".join(f"{(b if zh else a):<{width}}  {v}" for a, b, v in rows)


def _table(frame, limit: int, people_cols) -> str:
    import pandas as pd

    from spatial.privacy import format_suppressed

    shown = pd.DataFrame(frame.drop(columns=[c for c in frame.columns
                                             if str(frame[c].dtype) == "geometry"]))
    for c in people_cols:
        shown[c] = shown[c].map(format_suppressed)
    text = shown.head(limit).to_string(index=False)
    if len(shown) > limit:
        text += f"\n… {len(shown) - limit:,} more rows (use --out to write them all)"
    return text


def cmd_gui(args, lang) -> int:
    from gui.app import run_gui

    return run_gui(args, lang)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


HANDLERS = {
    "sample": cmd_sample,
    "validate": cmd_validate,
    "info": cmd_info,
    "import": cmd_import,
    "query": cmd_query,
    "impact": cmd_impact,
    "gui": cmd_gui,
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    lang = system_lang()
    try:
        if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
            argv = ["gui", *argv]
        args = parser.parse_args(argv)
        if args.command is None:
            args = parser.parse_args(["gui"])
        lang = args.lang or lang
        return HANDLERS[args.command](args, lang)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(t("canceled", lang), file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the one place errors become messages
        from spatial.errors import CityFrameError

        if isinstance(exc, (CityFrameError, OSError, ValueError)):
            print(f"{t('error', lang)}: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    raise SystemExit(main())
