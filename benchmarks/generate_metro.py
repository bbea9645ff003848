"""Time the synthetic metro city: generation and writing, separately, with peak memory.

Usage::

    python benchmarks/generate_metro.py [--buildings 1000000] [--seed 1] [--out FILE.gpkg]

The target (issue item 6) is generation plus writing of the 1,000,000-building
city in under 3 minutes on a 2-core machine.  The workspace goes to
``benchmarks/out/metro.gpkg`` by default (git-ignored).
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

from sample_data.generator import generate_city, write_city  # noqa: E402

TARGET_S = 180.0


def _peak_mb() -> float:
    """Peak resident memory of this process so far (MB; Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--buildings", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "metro.gpkg"))
    args = p.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    city = generate_city(args.buildings, args.seed, name_en="Jiangcheng Metro",
                         name_zh="江城市", city_zh="江城")
    t_gen = time.perf_counter() - t0
    mem_gen = _peak_mb()
    t1 = time.perf_counter()
    write_city(city, out)
    t_write = time.perf_counter() - t1
    mem_all = _peak_mb()
    total = t_gen + t_write
    tif = out.with_name(f"{out.stem}_flood_depth.tif")
    s = city.summary()

    rows = [
        ("buildings", f"{s['buildings']:,}"),
        ("legal entities", f"{s['legal_entities']:,}"),
        ("communities", f"{s['communities']:,}"),
        ("residents", f"{s['residents']:,}"),
        ("layers (+ raster)", f"{len(city.layers)} + {len(city.rasters)}"),
        ("generate", f"{t_gen:7.1f} s   peak {mem_gen:7.0f} MB"),
        ("write", f"{t_write:7.1f} s   peak {mem_all:7.0f} MB"),
        ("total", f"{total:7.1f} s   target < {TARGET_S:.0f} s: "
                  f"{'OK' if total < TARGET_S else 'MISSED'}"),
        ("workspace", f"{out} ({out.stat().st_size / 1e6:.0f} MB)"),
        ("flood raster", f"{tif.name} ({tif.stat().st_size / 1e6:.1f} MB)"),
        ("machine", f"{os.cpu_count()} cores, load average {load:.2f} at start"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"Synthetic metro city (seed {args.seed})")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    return 0 if total < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
