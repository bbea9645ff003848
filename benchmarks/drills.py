"""Time drills on the metro city: a city-wide flood raster and a chlorine plume.

Usage::

    python benchmarks/drills.py [--workspace benchmarks/out/metro.gpkg] [--repeat 3]

Make the metro city first (``python benchmarks/generate_metro.py``, about 40 s).  The
workspace stores the two scenarios (``river_flood``: depth >= 0.3 m over the whole city;
``chlorine_leak``: a 3 km plume with the wind from the north-east).  For each the
script reports the first run (it builds the buildings' spatial index) and the best of the
following runs, split into hazard footprint, impact and shelter assignment where the result
says so.  Target (issue 5, DESIGN.md): under 2 s each.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from layers.workspace import Workspace  # noqa: E402
from spatial.drill import drill_crs, footprint, parse_scenario, run_drill  # noqa: E402

TARGET_S = 2.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workspace", default=str(ROOT / "benchmarks" / "out" / "metro.gpkg"))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--scenario", action="append", default=None,
                   help="saved scenario(s) to run (default: river_flood and chlorine_leak)")
    args = p.parse_args(argv)
    path = Path(args.workspace)
    if not path.exists():
        print(f"{path} not found: run python benchmarks/generate_metro.py first", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    ws = Workspace.open(path, read_only=True)
    frames = ws.frames()
    print(f"opened {path.name}: {len(frames['buildings']):,} buildings in "
          f"{time.perf_counter() - t0:.1f} s (load {os.getloadavg()[0]:.1f})")
    names = args.scenario or ["river_flood", "chlorine_leak"]
    rows = []
    for name in names:
        sc = parse_scenario(dict(ws.scenarios[name]), base_dir=ws.folder)
        crs = drill_crs(frames)
        t = time.perf_counter()
        fp = footprint(sc.hazard, frames, metric_crs=crs, base_dir=ws.folder)
        t_fp = time.perf_counter() - t
        times = []
        result = None
        for _ in range(max(1, args.repeat)):
            t = time.perf_counter()
            result = run_drill(sc, frames, base_dir=ws.folder)
            times.append(time.perf_counter() - t)
        s = result.summary
        sh = s.get("shelters") or {}
        rows.append((name, sc.hazard.kind, t_fp, times[0], min(times[1:] or times),
                     s.get("buildings"), s.get("residents"), sh.get("displaced"),
                     sh.get("method"), sh.get("unsheltered")))
    print()
    print(f"{'scenario':<15}{'kind':<8}{'footprint':>10}{'first':>8}{'best':>8}"
          f"{'buildings':>11}{'residents':>11}{'displaced':>11}  shelters")
    for name, kind, fp, first, best, nb, nr, nd, method, uns in rows:
        ok = "ok" if best < TARGET_S else "MISSED"
        print(f"{name:<15}{kind:<8}{fp:>9.2f}s{first:>7.2f}s{best:>7.2f}s"
              f"{nb or 0:>11,}{nr or 0:>11,}{nd or 0:>11,}  {method}, unsheltered {uns}  [{ok}]")
    print(f"\ntarget: under {TARGET_S:.0f} s per drill; peak memory {_peak_mb():,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
