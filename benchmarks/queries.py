"""Cross-agency queries side by side: CityFrame against geopandas, DuckDB spatial and PostGIS.

Usage::

    python benchmarks/generate_metro.py                  # once: benchmarks/out/metro.gpkg
    pip install -e '.[bench]'                            # duckdb, its spatial extension, psycopg
    apt-get install -y postgresql-15-postgis-3           # for the PostGIS peer (optional)
    python benchmarks/queries.py [WORKSPACE] [--only cityframe,duckdb] [--queries 1,3]
                                 [--repeat 5] [--markdown]

Every query is a version-1 query file in ``benchmarks/queries/`` (``qN_*.json``).  CityFrame
runs the file itself; each peer runs a hand-written equivalent with the same semantics
(DESIGN.md "The query file"): distances edge to edge and inclusive, a building belongs to the
first community (in layer order) that contains its point-on-surface, every community is
listed (0 when nothing matched), a building without a population row has 0 residents,
``nearest`` ties go to the smaller key.

The engines run one after another in this process (PostGIS in a throwaway server), each:
load the GeoPackage, then per query one cold (first) run and ``--repeat`` warm runs (median).
All answers are compared with CityFrame's (or, without it, the first engine's) and one table
is printed: load time per engine, per query each engine's time, the ratios peer / CityFrame
(warm and cold; above 1: CityFrame is faster) and whether the answers are identical.

This script installs nothing.  PostGIS: it needs the Debian ``postgresql-15-postgis-3``
binaries, runs ``initdb`` in a temporary folder (as the ``postgres`` user when run as root),
listens on 127.0.0.1 only on a free port, and always stops the server and removes the folder.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gc
import io
import json
import os
import platform
import pwd
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

QUERY_DIR = Path(__file__).resolve().parent / "queries"
DEFAULT_WS = ROOT / "benchmarks" / "out" / "metro.gpkg"
ENGINES = ("cityframe", "geopandas", "duckdb", "postgis")
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_APT = "apt-get update && apt-get install -y postgresql-15-postgis-3"
# Layers the peers load (CityFrame opens the whole workspace, as the application does).
PEER_LAYERS = ("buildings", "population", "legal_entities", "communities", "schools",
               "shelters", "flood_zones", "hospitals", "police_stations")
KEYS = {"buildings": "building_id", "legal_entities": "uscc", "communities": "community_id",
        "roads": "road_id", "schools": "school_id", "hospitals": "hospital_id",
        "police_stations": "station_id", "shelters": "shelter_id", "flood_zones": "zone_id"}
REL_TOL = 1e-6


class Unavailable(Exception):
    """An engine cannot run here (missing package, binary or module)."""


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------------------------------
# Query files and canonical answers
# ---------------------------------------------------------------------------------------------
@dataclass
class QueryFile:
    qid: str            # "q1"
    path: Path
    doc: dict

    @property
    def number(self) -> int:
        return int(self.qid[1:])

    @property
    def kind(self) -> str:
        if self.doc.get("group_by"):
            return "zones"
        if (self.doc.get("relation") or {}).get("kind") == "nearest":
            return "pairs"
        return "ids"

    @property
    def title(self) -> str:
        return self.doc.get("title", {}).get("en", self.path.stem)

    @property
    def aggregates(self) -> list[str]:
        return [a["as"] for a in self.doc.get("aggregate", [])]


def load_queries(numbers: set[int] | None) -> list[QueryFile]:
    out = []
    for p in sorted(QUERY_DIR.glob("q*_*.json"), key=lambda p: int(p.stem[1:].split("_")[0])):
        qid = p.stem.split("_")[0]
        q = QueryFile(qid, p, json.loads(p.read_text(encoding="utf-8")))
        if numbers is None or q.number in numbers:
            out.append(q)
    return out


def zones_answer(df: pd.DataFrame, q: QueryFile) -> pd.DataFrame:
    """One row per zone, indexed by the zone key, the aggregate columns as numbers."""
    key = q.doc["group_by"]["key"]
    out = pd.DataFrame(df)[[key, *q.aggregates]].copy()
    out[key] = out[key].astype(str)
    out = out.set_index(key).sort_index()
    for c in out.columns:
        out[c] = pd.to_numeric(out[c])
    return out


def ids_answer(values) -> tuple[str, ...]:
    return tuple(sorted(str(v) for v in values))


def pairs_answer(df: pd.DataFrame, tkey: str) -> pd.DataFrame:
    """(target, rank, nearest_id, distance_m); rank follows the engine's own order."""
    d = pd.DataFrame({"target": df[tkey].astype(str).to_numpy(),
                      "nearest_id": df["nearest_id"].astype(str).to_numpy(),
                      "distance_m": df["distance_m"].astype(float).to_numpy()})
    d = d.sort_values("target", kind="stable").reset_index(drop=True)
    d.insert(1, "rank", d.groupby("target").cumcount() + 1)
    return d


def compare(q: QueryFile, ref, other) -> tuple[bool, str]:
    """Whether two canonical answers agree, and a short summary of the difference."""
    if q.kind == "ids":
        a, b = set(ref), set(other)
        if a == b and len(ref) == len(other):
            return True, ""
        return False, (f"{len(b)} vs {len(a)} ids; {len(b - a)} extra "
                       f"{sorted(b - a)[:3]}, {len(a - b)} missing {sorted(a - b)[:3]}")
    if q.kind == "zones":
        if list(ref.index) != list(other.index):
            ia, ib = set(ref.index), set(other.index)
            return False, (f"{len(other)} vs {len(ref)} zones; extra {sorted(ib - ia)[:3]}, "
                           f"missing {sorted(ia - ib)[:3]}")
        notes = []
        for col in ref.columns:
            if col not in other.columns:
                notes.append(f"no column {col}")
                continue
            x, y = ref[col].to_numpy(float), other[col].to_numpy(float)
            bad = ~np.isclose(x, y, rtol=REL_TOL, atol=0)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                notes.append(f"{col}: {int(bad.sum())} zones differ (total {y.sum():,.0f} vs "
                             f"{x.sum():,.0f}; e.g. {ref.index[i]} {y[i]:g} vs {x[i]:g})")
        return not notes, "; ".join(notes)
    # pairs
    if len(ref) != len(other):
        return False, f"{len(other)} vs {len(ref)} pairs"
    ka = list(zip(ref["target"], ref["rank"], ref["nearest_id"]))
    kb = list(zip(other["target"], other["rank"], other["nearest_id"]))
    if ka != kb:
        n = sum(x != y for x, y in zip(ka, kb))
        first = next(i for i, (x, y) in enumerate(zip(ka, kb)) if x != y)
        return False, f"{n} pairs differ (e.g. {kb[first]} vs {ka[first]})"
    x, y = ref["distance_m"].to_numpy(), other["distance_m"].to_numpy()
    bad = ~np.isclose(x, y, rtol=REL_TOL, atol=0)
    if bad.any():
        return False, f"{int(bad.sum())} distances differ by more than {REL_TOL:g} relative"
    return True, ""


# ---------------------------------------------------------------------------------------------
# Engines
# ---------------------------------------------------------------------------------------------
class Engine:
    name = "?"
    note = ""

    def load(self, path: Path) -> None:
        raise NotImplementedError

    def supports(self, q: QueryFile) -> bool:
        return True

    def fresh(self) -> None:
        """Before a query's cold run: drop whatever the engine cached from other queries."""

    def run(self, q: QueryFile):
        """Run the query; return the canonical answer (see ``compare``)."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class CityFrameEngine(Engine):
    name = "cityframe"
    note = "Workspace.open (all 36 layers) + QueryEngine; runs the query files themselves"

    def load(self, path):
        try:
            from layers.workspace import Workspace
            from spatial.query.engine import QueryEngine
        except ImportError as exc:  # the engine may not exist yet in this checkout
            raise Unavailable(f"not available ({exc})") from exc
        self._make = QueryEngine
        self.ws = Workspace.open(path, read_only=True)
        self.engine = QueryEngine(self.ws.frames())

    def fresh(self):
        # A new engine per query: its cold run builds every index and cache it needs itself
        # (metric geometry, trees, points-on-surface, zone membership, pairs), not helped by
        # an earlier query; the warm runs then reuse them.
        self.engine = self._make(self.ws.frames())

    def run(self, q):
        res = self.engine.run(q.doc)
        data = res.data
        if q.kind == "zones":
            return zones_answer(data, q)
        tkey = KEYS.get(q.doc["target"]) or next(c for c in data.columns if str(c).endswith("_id"))
        if q.kind == "pairs":
            return pairs_answer(data, tkey)
        return ids_answer(data[tkey])

    def close(self):
        with contextlib.suppress(Exception):
            self.ws.close()
        self.ws = self.engine = None


# --- geopandas: what a user would write ------------------------------------------------------
def _d(q: QueryFile) -> float:
    return float(q.doc["relation"]["distance_m"])


def _gpd_by_community(sel, pop, comm, aggs):
    """Zone membership by point-on-surface, first community in layer order, zeros kept."""
    import geopandas as gpd

    sel = sel[["building_id", "geometry"]].merge(pop[["building_id", "residents"]],
                                                 on="building_id", how="left")
    sel["residents"] = sel["residents"].fillna(0)
    pts = gpd.GeoDataFrame(sel.drop(columns="geometry"),
                           geometry=sel.geometry.representative_point(), crs=comm.crs)
    j = gpd.sjoin(pts, comm[["community_id", "geometry"]], predicate="intersects")
    j = j.sort_values("index_right", kind="stable")
    j = j[~j.index.duplicated(keep="first")]
    agg = j.groupby("community_id").agg(buildings=("building_id", "size"),
                                        residents=("residents", "sum"))
    out = comm[["community_id"]].merge(agg, on="community_id", how="left").fillna(0)
    return out[["community_id", *aggs]]


class GeoPandasEngine(Engine):
    name = "geopandas"
    note = "read_file per layer; sjoin (dwithin / intersects), representative_point"

    def load(self, path):
        import geopandas as gpd

        self.f = {n: gpd.read_file(path, layer=n) for n in PEER_LAYERS}

    def supports(self, q):
        return hasattr(self, f"q{q.number}")

    def run(self, q):
        return getattr(self, f"q{q.number}")(q, self.f)

    def close(self):
        self.f = None

    @staticmethod
    def q1(q, f):
        import geopandas as gpd

        b, le = f["buildings"], f["legal_entities"]
        haz = le[le["hazard_class"] == "hazardous_chemicals"]
        near = gpd.sjoin(b, haz[["geometry"]], predicate="dwithin", distance=_d(q))
        sel = b.loc[near.index.unique()]
        return zones_answer(_gpd_by_community(sel, f["population"], f["communities"],
                                              q.aggregates), q)

    @staticmethod
    def q2(q, f):
        import geopandas as gpd

        b, fz = f["buildings"], f["flood_zones"]
        deep = fz[fz["depth_class"] >= 2]
        hit = gpd.sjoin(b, deep[["geometry"]], predicate="intersects")
        sel = b.loc[hit.index.unique()]
        return zones_answer(_gpd_by_community(sel, f["population"], f["communities"],
                                              q.aggregates), q)

    @staticmethod
    def q3(q, f):
        import geopandas as gpd

        le = f["legal_entities"]
        haz = le[le["hazard_class"] == "hazardous_chemicals"]
        hit = gpd.sjoin(f["schools"], haz[["geometry"]], predicate="dwithin", distance=_d(q))
        return ids_answer(hit["school_id"].unique())

    @staticmethod
    def q4(q, f):
        import geopandas as gpd

        b = f["buildings"]
        res = b[b["use"] == "residential"]
        near = gpd.sjoin(res, f["shelters"][["geometry"]], predicate="dwithin", distance=_d(q))
        sel = res.drop(index=near.index.unique())
        return zones_answer(_gpd_by_community(sel, f["population"], f["communities"],
                                              q.aggregates), q)

    @staticmethod
    def q5(q, f):
        h, p = f["hospitals"], f["police_stations"]
        dist = h.geometry.apply(lambda g: p.distance(g))       # hospitals x stations
        dist.index, dist.columns = h["hospital_id"], p["station_id"]
        long = dist.stack().rename("distance_m").reset_index()
        long.columns = ["hospital_id", "nearest_id", "distance_m"]
        long = long.sort_values(["hospital_id", "distance_m", "nearest_id"])
        return pairs_answer(long.groupby("hospital_id").head(q.doc["relation"]["k"]),
                            "hospital_id")

    @staticmethod
    def q6(q, f):
        import geopandas as gpd

        le = f["legal_entities"]
        food = le[le["industry"].str.contains("H62", regex=False)]
        hit = gpd.sjoin(food, f["schools"][["geometry"]], predicate="dwithin", distance=_d(q))
        return ids_answer(hit["uscc"].unique())


# --- SQL peers ----------------------------------------------------------------------------------
# Each SQL query returns either (zone key, aggregates...) per zone, (id) per row, or
# (target id, nearest id, distance) pairs in nearest-first order.

DUCKDB_ZONES = """
WITH sel AS ({sel}),
zone AS (
  SELECT s.building_id, arg_min(c.community_id, c.fid) AS community_id
  FROM (SELECT building_id, ST_PointOnSurface(geom) AS p FROM sel) s
  JOIN communities c ON ST_Intersects(c.geom, s.p)
  GROUP BY s.building_id),
agg AS (
  SELECT z.community_id, count(*) AS buildings, sum(coalesce(pop.residents, 0)) AS residents
  FROM zone z LEFT JOIN population pop ON pop.building_id = z.building_id
  GROUP BY z.community_id)
SELECT c.community_id, coalesce(a.buildings, 0) AS buildings,
       coalesce(a.residents, 0) AS residents
FROM communities c LEFT JOIN agg a ON a.community_id = c.community_id
ORDER BY c.fid
"""

POSTGIS_ZONES = """
WITH sel AS MATERIALIZED ({sel}),  -- select first, then find zones of those only
zone AS (
  SELECT s.building_id, z.community_id
  FROM (SELECT building_id, ST_PointOnSurface(geom) AS p FROM sel) s
  CROSS JOIN LATERAL (SELECT c.community_id FROM communities c
                      WHERE ST_Intersects(c.geom, s.p) ORDER BY c.fid LIMIT 1) z),
agg AS (
  SELECT z.community_id, count(*) AS buildings, sum(coalesce(pop.residents, 0)) AS residents
  FROM zone z LEFT JOIN population pop ON pop.building_id = z.building_id
  GROUP BY z.community_id)
SELECT c.community_id, coalesce(a.buildings, 0) AS buildings,
       coalesce(a.residents, 0) AS residents
FROM communities c LEFT JOIN agg a ON a.community_id = c.community_id
ORDER BY c.fid
"""

# {d} and {k} are filled from the query file (relation.distance_m, relation.k).
SEL_Q1 = """SELECT b.building_id, b.geom FROM buildings b WHERE b.building_id IN (
    SELECT b2.building_id FROM legal_entities le JOIN buildings b2
      ON ST_DWithin(b2.geom, le.geom, {d})
    WHERE le.hazard_class = 'hazardous_chemicals')"""
SEL_Q2 = """SELECT b.building_id, b.geom FROM buildings b WHERE b.building_id IN (
    SELECT b2.building_id FROM flood_zones fz JOIN buildings b2
      ON ST_Intersects(b2.geom, fz.geom)
    WHERE fz.depth_class >= 2)"""
# beyond d of every shelter: the residential buildings minus those within d of one
SEL_Q4 = """SELECT b.building_id, b.geom FROM buildings b
  WHERE b.use = 'residential' AND b.building_id NOT IN (
    SELECT b2.building_id FROM shelters s JOIN buildings b2 ON ST_DWithin(b2.geom, s.geom, {d})
    WHERE b2.use = 'residential')"""
SEL_Q4_PG = """SELECT b.building_id, b.geom FROM buildings b
  WHERE b.use = 'residential' AND NOT EXISTS (
    SELECT 1 FROM shelters s WHERE ST_DWithin(b.geom, s.geom, {d}))"""
SQL_Q3 = """SELECT DISTINCT sc.school_id FROM schools sc
  JOIN legal_entities le ON ST_DWithin(sc.geom, le.geom, {d})
  WHERE le.hazard_class = 'hazardous_chemicals'"""
SQL_Q6 = """SELECT DISTINCT le.uscc FROM legal_entities le
  JOIN schools sc ON ST_DWithin(le.geom, sc.geom, {d})
  WHERE le.industry LIKE '%H62%'"""

DUCKDB_SQL = {
    1: DUCKDB_ZONES.replace("{sel}", SEL_Q1),
    2: DUCKDB_ZONES.replace("{sel}", SEL_Q2),
    3: SQL_Q3,
    4: DUCKDB_ZONES.replace("{sel}", SEL_Q4),
    5: """SELECT h.hospital_id, s.station_id AS nearest_id,
                 ST_Distance(h.geom, s.geom) AS distance_m
          FROM hospitals h, police_stations s
          QUALIFY row_number() OVER (PARTITION BY h.hospital_id
                                     ORDER BY ST_Distance(h.geom, s.geom), s.station_id) <= {k}
          ORDER BY h.hospital_id, distance_m, nearest_id""",
    6: SQL_Q6,
}

POSTGIS_SQL = {
    1: POSTGIS_ZONES.replace("{sel}", SEL_Q1),
    2: POSTGIS_ZONES.replace("{sel}", SEL_Q2),
    3: SQL_Q3,
    4: POSTGIS_ZONES.replace("{sel}", SEL_Q4_PG),
    5: """SELECT h.hospital_id, n.station_id AS nearest_id, n.distance_m
          FROM hospitals h CROSS JOIN LATERAL (
            SELECT s.station_id, ST_Distance(h.geom, s.geom) AS distance_m
            FROM police_stations s ORDER BY h.geom <-> s.geom, s.station_id LIMIT {k}) n
          ORDER BY h.hospital_id, n.distance_m, n.station_id""",
    6: SQL_Q6,
}


def sql_for(table: dict, q: QueryFile) -> str:
    """The peer's SQL for a query, with the distance and k of the query file."""
    rel = q.doc.get("relation") or {}
    return table[q.number].replace("{d}", repr(float(rel.get("distance_m", 0)))).replace(
        "{k}", str(int(rel.get("k", 1))))


def _sql_answer(q: QueryFile, cols: list[str], rows: list[tuple]):
    df = pd.DataFrame(rows, columns=cols)
    if q.kind == "zones":
        return zones_answer(df, q)
    if q.kind == "pairs":
        return pairs_answer(df, cols[0])
    return ids_answer(df[cols[0]])


def duckdb_spatial_path() -> Path:
    """The signed extension file inside the ``duckdb-extension-spatial`` wheel."""
    try:
        import duckdb
        import duckdb_extension_spatial
    except ImportError as exc:
        raise Unavailable(f"not available ({exc}; pip install -e '.[bench]')") from exc
    base = Path(duckdb_extension_spatial.__file__).parent / "extensions"
    exact = base / f"v{duckdb.__version__}" / "spatial.duckdb_extension"
    if exact.exists():
        return exact
    found = sorted(base.glob("*/spatial.duckdb_extension"))
    if not found:
        raise Unavailable("duckdb-extension-spatial ships no spatial.duckdb_extension")
    raise Unavailable(f"duckdb {duckdb.__version__} but the spatial wheel is for "
                      f"{found[0].parent.name}: pin both to the same version")


class DuckDBEngine(Engine):
    name = "duckdb"
    note = "ST_Read from the GeoPackage into tables, RTREE indexes, SPATIAL_JOIN"

    def load(self, path):
        ext = duckdb_spatial_path()
        import duckdb

        self.con = duckdb.connect()          # in memory
        self.con.execute(f"LOAD '{ext}'")    # offline: never INSTALL
        for name in PEER_LAYERS:
            self.con.execute(f"CREATE TABLE {name} AS SELECT * FROM ST_Read(?, layer=?)",
                             [str(path), name])
            cols = [r[0] for r in self.con.execute(f"DESCRIBE {name}").fetchall()]
            if "geom" in cols:
                self.con.execute(f"CREATE INDEX {name}_rtree ON {name} USING RTREE (geom)")

    def supports(self, q):
        return q.number in DUCKDB_SQL

    def run(self, q):
        cur = self.con.execute(sql_for(DUCKDB_SQL, q))
        cols = [d[0] for d in cur.description]
        return _sql_answer(q, cols, cur.fetchall())

    def close(self):
        with contextlib.suppress(Exception):
            self.con.close()
        self.con = None


class PostGISEngine(Engine):
    name = "postgis"
    note = "throwaway PostgreSQL 15 + PostGIS 3; COPY of EWKB, GIST indexes, ANALYZE"
    SETTINGS: ClassVar[dict[str, str]] = {
        # a throwaway server: no durability, generous memory for one client
        "listen_addresses": "127.0.0.1", "fsync": "off", "synchronous_commit": "off",
        "full_page_writes": "off", "wal_level": "minimal", "max_wal_senders": "0",
        "max_wal_size": "8GB", "checkpoint_timeout": "30min", "shared_buffers": "1GB",
        "work_mem": "256MB", "maintenance_work_mem": "1GB", "effective_cache_size": "4GB",
        "random_page_cost": "1.1", "jit": "off",
    }

    def __init__(self):
        self.tmp: Path | None = None
        self.conn = None

    # -- server ---------------------------------------------------------------------------------
    def _as_postgres(self, cmd: list[str], **kw):
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)

    def _start(self) -> int:
        missing = [b for b in ("initdb", "pg_ctl", "postgres") if not (PG_BIN / b).exists()]
        ext = Path("/usr/share/postgresql/15/extension/postgis.control")
        if missing or not ext.exists():
            raise Unavailable(f"not available: PostgreSQL 15 / PostGIS 3 not installed; "
                              f"run as root: {PG_APT}")
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:
            raise Unavailable(f"not available ({exc}; pip install -e '.[bench]')") from exc
        self.tmp = Path(tempfile.mkdtemp(prefix="cityframe-postgis-"))
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
        os.chmod(self.tmp, 0o700)
        data = self.tmp / "data"
        self._as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U",
                           "postgres", "-E", "UTF8", "--locale=C", "--no-sync"])
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        opts = " ".join(f"-c {k}={v}" for k, v in self.SETTINGS.items())
        opts += f" -c port={port} -c unix_socket_directories='{self.tmp}'"
        # own session: a Ctrl-C in the terminal reaches us, not the server; we stop it ourselves
        cmd = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(self.tmp / "server.log"),
               "-w", "-t", "120", "-o", opts, "start"]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, text=True, start_new_session=True)
        self.data = data
        return port

    def _stop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
            self.conn = None
        if self.tmp is None:
            return
        data = self.tmp / "data"
        if (data / "postmaster.pid").exists():
            try:
                self._as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast",
                                   "-w", "-t", "60", "stop"])
            except Exception:  # noqa: BLE001 - last resort: the postmaster's own pid
                with contextlib.suppress(Exception):
                    pid = int((data / "postmaster.pid").read_text().split()[0])
                    os.kill(pid, signal.SIGQUIT)
                    time.sleep(2)
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp = None

    # -- engine ---------------------------------------------------------------------------------
    def load(self, path):
        import psycopg

        try:
            port = self._start()
        except subprocess.CalledProcessError as exc:
            log = ""
            if self.tmp and (self.tmp / "server.log").exists():
                log = (self.tmp / "server.log").read_text()[-800:]
            self._stop()
            raise Unavailable(f"server did not start: {exc.stderr or exc} {log}") from exc
        except BaseException:
            self._stop()
            raise
        self.conn = psycopg.connect(host="127.0.0.1", port=port, user="postgres",
                                    dbname="postgres", autocommit=True)
        self.conn.execute("CREATE EXTENSION postgis")
        for name in PEER_LAYERS:
            self._load_layer(path, name)
        self.conn.execute("ANALYZE")

    def _load_layer(self, path, name):
        import pyogrio
        import shapely

        df = pyogrio.read_dataframe(path, layer=name, use_arrow=True)
        has_geom = "geometry" in df.columns
        cols, defs = ["fid"], ["fid bigint"]
        for c, dt in df.dtypes.items():
            if c == "geometry":
                continue
            kind = ("bigint" if pd.api.types.is_integer_dtype(dt) else
                    "double precision" if pd.api.types.is_float_dtype(dt) else
                    "boolean" if pd.api.types.is_bool_dtype(dt) else "text")
            cols.append(c)
            defs.append(f'"{c}" {kind}')
        out = pd.DataFrame({"fid": np.arange(len(df))})
        for c in cols[1:]:
            out[c] = df[c].to_numpy()
        if has_geom:
            srid = df.crs.to_epsg() if df.crs is not None else 0
            geoms = shapely.set_srid(df.geometry.to_numpy(), srid)
            out["geom"] = shapely.to_wkb(geoms, hex=True, include_srid=True)
            cols.append("geom")
            defs.append(f"geom geometry(Geometry, {srid})")
        del df
        collist = ", ".join(f'"{c}"' for c in cols)
        with self.conn.transaction():  # CREATE + COPY in one transaction: no WAL (minimal)
            self.conn.execute(f"CREATE TABLE {name} ({', '.join(defs)})")
            with self.conn.cursor().copy(
                    f"COPY {name} ({collist}) FROM STDIN (FORMAT csv)") as cp:
                for start in range(0, len(out), 100_000):
                    buf = io.StringIO()
                    out.iloc[start:start + 100_000].to_csv(
                        buf, header=False, index=False, quoting=csv.QUOTE_NONNUMERIC)
                    cp.write(buf.getvalue())
        if has_geom:
            self.conn.execute(f"CREATE INDEX ON {name} USING gist (geom)")
        key = KEYS.get(name) or ("building_id" if name == "population" else None)
        if key and key in cols:
            self.conn.execute(f'CREATE INDEX ON {name} ("{key}")')

    def supports(self, q):
        return q.number in POSTGIS_SQL

    def run(self, q):
        cur = self.conn.execute(sql_for(POSTGIS_SQL, q))
        cols = [d.name for d in cur.description]
        return _sql_answer(q, cols, cur.fetchall())

    def close(self):
        self._stop()


ENGINE_CLASSES = {"cityframe": CityFrameEngine, "geopandas": GeoPandasEngine,
                  "duckdb": DuckDBEngine, "postgis": PostGISEngine}


# ---------------------------------------------------------------------------------------------
# Running and reporting
# ---------------------------------------------------------------------------------------------
@dataclass
class EngineRun:
    name: str
    status: str = "ok"           # "ok" or why it did not run
    load_s: float | None = None
    peak_mb: float | None = None
    cold: dict = field(default_factory=dict)     # qid -> seconds
    warm: dict = field(default_factory=dict)     # qid -> median seconds
    answers: dict = field(default_factory=dict)  # qid -> canonical answer
    errors: dict = field(default_factory=dict)   # qid -> message


def run_engine(name: str, path: Path, queries: list[QueryFile], repeat: int) -> EngineRun:
    run = EngineRun(name)
    eng = ENGINE_CLASSES[name]()
    print(f"[{name}] loading {path.name} …", file=sys.stderr, flush=True)
    try:  # close() always runs: it stops the PostGIS server, also on Ctrl-C during loading
        try:
            t = time.perf_counter()
            eng.load(path)
            run.load_s = time.perf_counter() - t
        except Unavailable as exc:
            run.status = str(exc)
            print(f"[{name}] {exc}", file=sys.stderr)
            return run
        print(f"[{name}] loaded in {run.load_s:.2f} s", file=sys.stderr, flush=True)
        for q in queries:
            if not eng.supports(q):
                run.errors[q.qid] = "no equivalent written"
                continue
            try:
                eng.fresh()
                t = time.perf_counter()
                ans = eng.run(q)
                run.cold[q.qid] = time.perf_counter() - t
                times = []
                for _ in range(repeat):
                    t = time.perf_counter()
                    eng.run(q)
                    times.append(time.perf_counter() - t)
                run.warm[q.qid] = statistics.median(times) if times else run.cold[q.qid]
                run.answers[q.qid] = ans
                print(f"[{name}] {q.qid}: cold {run.cold[q.qid]:.3f} s, warm "
                      f"{run.warm[q.qid]:.3f} s", file=sys.stderr, flush=True)
            except Exception as exc:  # noqa: BLE001 - report and go on with the next query
                run.errors[q.qid] = f"{type(exc).__name__}: {exc}"
                print(f"[{name}] {q.qid}: {run.errors[q.qid]}", file=sys.stderr)
    finally:
        eng.close()
        del eng
        gc.collect()
    run.peak_mb = _peak_mb()
    return run


def _fmt_s(s: float | None) -> str:
    if s is None:
        return "–"
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def _table(header: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |",
                 "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header), fmt.format(*("-" * w for w in widths)),
                      *(fmt.format(*r) for r in rows)])


def report(runs: list[EngineRun], queries: list[QueryFile], path: Path, repeat: int,
           markdown: bool) -> str:
    out = []
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    out.append(f"Workspace {path.name}; {os.cpu_count()} cores, {mem:.0f} GB RAM, "
               f"{platform.python_implementation()} {platform.python_version()}; "
               f"warm = median of {repeat} runs after the first (cold) run.")
    out.append("")
    load_rows = []
    for r in runs:
        note = ENGINE_CLASSES[r.name].note if r.status == "ok" else r.status
        load_rows.append([r.name, _fmt_s(r.load_s), note])
    out.append(_table(["engine", "load", "what it does"], load_rows, markdown))
    out.append("")
    ok = [r for r in runs if r.status == "ok"]
    cf = next((r for r in ok if r.name == "cityframe"), None)
    peers = [r for r in ok if r.name != "cityframe"]
    header = ["query"]
    if cf:
        header += ["cityframe cold", "cityframe warm"]
    header += [f"{p.name} warm (cold)" for p in peers]
    if cf:
        header += [f"{p.name} / CF warm (cold)" for p in peers]
    header.append("answers identical")
    rows, diffs = [], []
    for q in queries:
        row = [f"{q.qid} {q.title}"]
        if cf:
            row += [_fmt_s(cf.cold.get(q.qid)), _fmt_s(cf.warm.get(q.qid))]
        for p in peers:
            row.append(f"{_fmt_s(p.warm.get(q.qid))} ({_fmt_s(p.cold.get(q.qid))})"
                       if q.qid in p.warm else "–")
        if cf:
            for p in peers:
                a, b = cf.warm.get(q.qid), p.warm.get(q.qid)
                ac, bc = cf.cold.get(q.qid), p.cold.get(q.qid)
                row.append(f"{b / a:.1f}× ({bc / ac:.2g}×)" if a and b and ac and bc else "–")
        have = [r for r in ok if q.qid in r.answers]
        if len(have) < 2:
            row.append("n/a (fewer than 2 engines)")
        else:
            ref = have[0]
            bad = []
            for r in have[1:]:
                same, why = compare(q, ref.answers[q.qid], r.answers[q.qid])
                if not same:
                    bad.append(r.name)
                    diffs.append(f"{q.qid}: {r.name} vs {ref.name}: {why}")
            row.append("yes" if not bad else f"no ({', '.join(bad)} differ from {ref.name})")
        for r in ok:
            if q.qid in r.errors:
                diffs.append(f"{q.qid}: {r.name}: {r.errors[q.qid]}")
        rows.append(row)
    out.append(_table(header, rows, markdown))
    out.append("")
    if cf:
        out.append("peer / CF: the peer's warm time divided by CityFrame's warm time (cold by "
                   "cold in brackets); above 1: CityFrame is faster.")
    out.append(f"Peak memory of this process: {_peak_mb() / 1024:.1f} GB (a PostGIS server's "
               "own memory not included).")
    if diffs:
        out.append("")
        out.extend(("- " if markdown else "  ") + d for d in diffs)
    return "\n".join(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("workspace", nargs="?", default=str(DEFAULT_WS))
    p.add_argument("--only", default=",".join(ENGINES),
                   help=f"engines, comma-separated, from {','.join(ENGINES)}")
    p.add_argument("--queries", default=None, help="query numbers, e.g. 1,3")
    p.add_argument("--repeat", type=int, default=5, help="warm runs per query (median)")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = p.parse_args(argv)
    path = Path(args.workspace)
    if not path.exists():
        print(f"{path} not found: run benchmarks/generate_metro.py first", file=sys.stderr)
        return 2
    engines = [e.strip() for e in args.only.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown or not engines:
        print(f"--only: unknown engine {unknown}; choose from {','.join(ENGINES)}",
              file=sys.stderr)
        return 2
    try:
        numbers = ({int(x) for x in args.queries.split(",") if x.strip()}
                   if args.queries else None)
    except ValueError:
        print(f"--queries: expected numbers like 1,3, got {args.queries!r}", file=sys.stderr)
        return 2
    queries = load_queries(numbers)
    if not queries:
        print(f"no query files match in {QUERY_DIR}", file=sys.stderr)
        return 2
    if args.repeat < 0:
        print("--repeat: must be 0 or more", file=sys.stderr)
        return 2

    # SIGTERM behaves like Ctrl-C so that every `finally` (server stop, temp dir) runs.
    def _term(signum, frame):
        raise KeyboardInterrupt
    old = signal.signal(signal.SIGTERM, _term)
    try:
        runs = [run_engine(e, path, queries, args.repeat) for e in engines]
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, old)
    print(report(runs, queries, path, args.repeat, args.markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
