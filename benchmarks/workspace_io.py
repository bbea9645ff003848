"""Time opening, describing, validating and saving the metro workspace.

Usage::

    python benchmarks/generate_metro.py           # makes benchmarks/out/metro.gpkg
    python benchmarks/workspace_io.py [WORKSPACE]

Prints one line per step with seconds and the process's peak memory.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from layers.inspect import describe_workspace  # noqa: E402
from layers.workspace import Workspace  # noqa: E402
from spatial.validate import validate_framework  # noqa: E402


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else ROOT / "benchmarks" / "out" / "metro.gpkg"
    if not path.exists():
        print(f"{path} not found: run benchmarks/generate_metro.py first", file=sys.stderr)
        return 2
    rows = []

    def step(name, fn):
        t = time.perf_counter()
        out = fn()
        rows.append((name, time.perf_counter() - t, _peak_mb()))
        return out

    desc = step("describe (info)", lambda: describe_workspace(path))
    ws = step("open", lambda: Workspace.open(path, read_only=True))
    report = step("validate", lambda: validate_framework(ws.frames()))
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        step("save_as", lambda: ws.save_as(Path(tmp) / "copy.gpkg"))
    n = len(ws.layer("buildings").data)
    print(f"Workspace {path.name}: {n:,} buildings, {len(desc['layers'])} layers, "
          f"validation {'OK' if report.ok else 'FAULTS'}")
    for name, secs, mb in rows:
        print(f"  {name:<18} {secs:7.2f} s   peak {mb:7.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
