"""Which features lie under a click, inside a rectangle or a drawn polygon.

:class:`PickIndex` wraps shapely STRtrees over a layer's geometries.  It is
built in chunks of :data:`~spatial.render_prep.GIL_CHUNK` geometries (one tree
each): shapely holds Python's lock while it builds a tree, and a million
geometries in one call would freeze the map's UI thread for a third of a
second.  Each chunk can be built separately (:meth:`PickIndex.build_step`),
so the canvas builds them in idle time; queries build what is missing.

Results are *positional* row numbers (0-based) in the order of the geometries
given, sorted ascending (``select``) or nearest first (``pick``), ready for
:meth:`layers.selection.Selection.select`.

Examples
--------
>>> import shapely
>>> idx = PickIndex([shapely.Point(0, 0), shapely.box(5, 5, 8, 8), None])
>>> idx.pick(0.5, 0.0, tolerance=1.0).tolist()
[0]
>>> idx.pick(6, 6, tolerance=0.1).tolist()
[1]
>>> idx.select(shapely.box(-1, -1, 5, 5)).tolist()
[0, 1]
"""

from __future__ import annotations

import numpy as np
import shapely

from .render_prep import GIL_CHUNK

__all__ = ["PickIndex", "PREDICATES", "to_crs", "pick_in_crs", "select_in_crs"]

#: Predicates :meth:`PickIndex.select` accepts (the tree's binary predicates).
PREDICATES = ("intersects", "within", "contains", "covers", "covered_by", "touches",
              "overlaps", "crosses", "contains_properly")


class PickIndex:
    """Spatial index of one geometry array for picking and selection.

    Parameters
    ----------
    geoms : array_like of shapely geometries
        ``None`` and empty geometries are never returned.
    chunk : int
        Geometries per STRtree.
    """

    def __init__(self, geoms, chunk: int = GIL_CHUNK) -> None:
        g = np.asarray(geoms, dtype=object)
        if g.ndim == 0:
            g = g.reshape(1)
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk!r}")
        self.geoms = g
        self._chunk = int(chunk)
        self._trees: list[shapely.STRtree | None] = [None] * max(1, -(-len(g) // self._chunk))

    def __len__(self) -> int:
        return len(self.geoms)

    @property
    def ready(self) -> bool:
        """Whether every chunk's tree is built."""
        return all(t is not None for t in self._trees)

    def build_step(self) -> bool:
        """Build the next missing tree; return True when all are built."""
        for i, tree in enumerate(self._trees):
            if tree is None:
                self._build(i)
                return all(t is not None for t in self._trees[i + 1:])
        return True

    def _build(self, i: int) -> shapely.STRtree:
        start = i * self._chunk
        tree = shapely.STRtree(self.geoms[start:start + self._chunk])
        self._trees[i] = tree
        return tree

    def candidates(self, geom, predicate: str | None = None) -> np.ndarray:
        """Rows whose features satisfy ``predicate(geom, feature)`` (a box test
        when ``None``), sorted ascending."""
        if predicate is not None and predicate not in PREDICATES:
            raise ValueError(f"predicate must be one of {', '.join(PREDICATES)}, "
                             f"got {predicate!r}")
        if geom is None or shapely.is_empty(geom):
            return np.empty(0, dtype=np.int64)
        out = []
        for i, tree in enumerate(self._trees):
            if tree is None:
                tree = self._build(i)
            hits = tree.query(geom, predicate=predicate)
            if hits.size:
                out.append(hits.astype(np.int64) + i * self._chunk)
        if not out:
            return np.empty(0, dtype=np.int64)
        return np.sort(np.concatenate(out))

    def select(self, geom, predicate: str = "intersects") -> np.ndarray:
        """Rows whose features satisfy ``predicate(geom, feature)`` (the order of
        shapely's ``STRtree.query``): ``"intersects"`` is everything a selection
        rectangle or polygon touches, ``"contains"`` what lies wholly inside it.

        Examples
        --------
        >>> idx = PickIndex([shapely.box(0, 0, 1, 1), shapely.box(3, 3, 4, 4)])
        >>> idx.select(shapely.box(0.5, 0.5, 3.5, 3.5)).tolist()
        [0, 1]
        >>> idx.select(shapely.box(-1, -1, 2, 2), "contains").tolist()
        [0]
        """
        return self.candidates(geom, predicate)

    def pick(self, x: float, y: float, tolerance: float = 0.0, limit: int | None = None,
             ) -> np.ndarray:
        """Rows within ``tolerance`` (map units) of the point ``(x, y)``, nearest
        first (a polygon that contains the point is at distance 0), ties by row.

        Examples
        --------
        >>> idx = PickIndex([shapely.box(0, 0, 10, 10), shapely.Point(5, 5.5)])
        >>> idx.pick(5, 5, tolerance=1).tolist()
        [0, 1]
        >>> idx.pick(5, 5.4, tolerance=1).tolist()
        [0, 1]
        >>> idx.pick(50, 50, tolerance=1).tolist()
        []
        """
        if tolerance < 0:
            raise ValueError(f"tolerance must be >= 0, got {tolerance!r}")
        point = shapely.Point(float(x), float(y))
        # The square around the tolerance circle holds every candidate (a polygon
        # inscribed in the circle would miss features just inside the tolerance);
        # the exact distance below then keeps only those within it.
        probe = (shapely.box(x - tolerance, y - tolerance, x + tolerance, y + tolerance)
                 if tolerance > 0 else point)
        rows = self.candidates(probe, "intersects")
        if rows.size == 0:
            return rows
        dist = shapely.distance(self.geoms[rows], point)
        keep = dist <= tolerance + 1e-12 * max(1.0, abs(float(x)), abs(float(y)))
        rows, dist = rows[keep], dist[keep]
        order = np.lexsort((rows, dist))
        rows = rows[order]
        return rows if limit is None else rows[:limit]


def to_crs(geom, src, dst, max_segment: float | None = None):
    """A query geometry from the map CRS ``src`` to a layer's CRS ``dst``.

    Straight edges are first cut into pieces no longer than ``max_segment``
    (in ``src`` units; default: a 64th of the geometry's extent) so that a
    rectangle drawn on the map stays the same area after reprojection.
    ``None`` CRSs, or equal ones, return the geometry unchanged.
    """
    from .crs import parse_crs, resolve_crs, transform_geometries

    if src is None or dst is None:
        return geom
    rs, rd = resolve_crs(src), resolve_crs(dst)
    if not isinstance(rs, str) and not isinstance(rd, str) and parse_crs(rs) == parse_crs(rd):
        return geom
    if max_segment is None:
        minx, miny, maxx, maxy = geom.bounds
        max_segment = max(maxx - minx, maxy - miny) / 64.0
    if max_segment > 0 and shapely.get_dimensions(geom) > 0:
        geom = shapely.segmentize(geom, max_segment)
    return transform_geometries([geom], src, dst)[0]


def pick_in_crs(index: PickIndex, x: float, y: float, tolerance: float, map_crs, layer_crs,
                limit: int | None = None) -> np.ndarray:
    """:meth:`PickIndex.pick` for an index whose geometries are in ``layer_crs``
    while the click ``(x, y)`` and ``tolerance`` are in ``map_crs`` units.

    Examples
    --------
    >>> idx = PickIndex([shapely.Point(114.0, 30.0)])
    >>> x, y = 500010.0, 3320100.0   # 16 m from it in EPSG:4547
    >>> pick_in_crs(idx, x, y, 50.0, "EPSG:4547", "EPSG:4326").tolist()
    [0]
    """
    probe_point = shapely.Point(float(x), float(y))
    same = to_crs(probe_point, map_crs, layer_crs) is probe_point
    if same:
        return index.pick(x, y, tolerance, limit)
    probe = probe_point.buffer(max(tolerance, 0.0), quad_segs=4) if tolerance > 0 else probe_point
    probe_l = to_crs(probe, map_crs, layer_crs)
    point_l = to_crs(probe_point, map_crs, layer_crs)
    rows = index.candidates(probe_l, "intersects")
    if rows.size == 0:
        return rows
    dist = shapely.distance(index.geoms[rows], point_l)
    rows = rows[np.lexsort((rows, dist))]
    return rows if limit is None else rows[:limit]


def select_in_crs(index: PickIndex, geom, map_crs, layer_crs,
                  predicate: str = "intersects") -> np.ndarray:
    """:meth:`PickIndex.select` with ``geom`` in ``map_crs`` and the index in ``layer_crs``."""
    return index.select(to_crs(geom, map_crs, layer_crs), predicate)
