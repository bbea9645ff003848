"""The workspace: one GeoPackage file holding layers, styles, queries, scenarios
and the audit log.

File format
-----------
The file is a plain OGC GeoPackage, so it opens in QGIS and ArcGIS too:

- every :class:`~layers.vector.VectorLayer` is a feature table (spatial index
  on) and every :class:`~layers.table.TableLayer` an attribute table, named
  after the layer;
- CityFrame's own tables are GeoPackage *attribute* tables (registered in
  ``gpkg_contents``):

  =====================  =======================================================
  table                  columns
  =====================  =======================================================
  cityframe_layers       name, kind (vector|table|raster), position (0 = top),
                         metadata (JSON), style (JSON), visible, opacity,
                         raster_path (relative, POSIX), storage (JSON: column
                         order, dtypes, index and geometry column names, used to
                         give the data back exactly as saved)
  cityframe_queries      name, json, updated (UTC ISO)
  cityframe_scenarios    name, json, updated (UTC ISO)
  cityframe_audit        timestamp (UTC ISO), user, action, detail (JSON)
  cityframe_workspace    key, value (``format_version``, ``saved``, ``software``)
  =====================  =======================================================

- rasters stay GeoTIFF files in the workspace's folder, referenced by a path
  relative to it that must resolve inside it.  ``save_as`` into another folder
  copies them (with ``.ovr``/``.aux.xml``/``.msk`` side files).

Saving is atomic: everything is written to a temporary file in the target's
folder, checked (``PRAGMA integrity_check``, ``pyogrio.list_layers``, feature
counts), flushed to disk and then moved over the target with ``os.replace``.
On any error the temporary file (and any raster copied for it) is removed and
the previous file is untouched.

The audit log is durable as soon as possible: :meth:`Workspace.log` appends the
entry straight to the saved file's ``cityframe_audit`` table (a small SQLite
transaction, no rewrite of the layers) when the workspace has a writable file
that has one; otherwise the entry waits for the next save.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import getpass
import json
import math
import os
import secrets
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from psygnal import Signal, SignalGroup

from spatial.errors import Canceled, CityFrameError, WorkspaceError
from spatial.feedback import Feedback, ensure_feedback

from .base import Layer
from .metadata import LayerMetadata
from .raster import RasterLayer
from .registry import LayerRegistry
from .style import style_from_dict
from .table import TableLayer
from .vector import VectorLayer, geometry_type_of

__all__ = ["Workspace", "WorkspaceReadOnlyError", "layer_from_frame", "FORMAT_VERSION",
           "CITYFRAME_TABLES"]

#: Version of the CityFrame tables' layout.
FORMAT_VERSION = 1
LAYERS_TABLE = "cityframe_layers"
QUERIES_TABLE = "cityframe_queries"
SCENARIOS_TABLE = "cityframe_scenarios"
AUDIT_TABLE = "cityframe_audit"
INFO_TABLE = "cityframe_workspace"
CITYFRAME_TABLES = (LAYERS_TABLE, QUERIES_TABLE, SCENARIOS_TABLE, AUDIT_TABLE, INFO_TABLE)

_SQLITE_MAGIC = b"SQLite format 3\x00"
_GPKG_APP_IDS = {0x47504B47, 0x47503130, 0x47503131}  # "GPKG", "GP10", "GP11"
_RASTER_SIDECARS = (".ovr", ".aux.xml", ".msk")


class WorkspaceReadOnlyError(WorkspaceError):
    """The workspace's file cannot be overwritten (a bundled sample or a read-only
    location); save it under another name with :meth:`Workspace.save_as`."""


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers and services
        return "unknown"


def _to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (Path, _dt.date, _dt.datetime)):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def layer_from_frame(
    name: str,
    frame: pd.DataFrame,
    metadata: LayerMetadata | None = None,
    **kwargs: Any,
) -> VectorLayer | TableLayer:
    """A :class:`VectorLayer` for a GeoDataFrame, a :class:`TableLayer` for a plain
    DataFrame; ``kwargs`` (``style``, ``visible``, ``opacity``) go to the layer.

    Examples
    --------
    >>> type(layer_from_frame("population", pd.DataFrame({"building_id": ["B1"]}))).__name__
    'TableLayer'
    """
    if isinstance(frame, gpd.GeoDataFrame):
        return VectorLayer(name, frame, metadata, **kwargs)
    return TableLayer(name, frame, metadata, **kwargs)


class DocumentStore(dict):
    """A ``dict[str, dict]`` of JSON documents (saved queries, scenarios) that
    tells its workspace when it changes and remembers when each entry changed.

    Values are stored as JSON-normalised copies, so what you read back equals
    what a save and reopen gives.  Editing a stored document in place is not
    tracked: assign it again.
    """

    def __init__(self, on_change: Callable[[], None], what: str) -> None:
        super().__init__()
        self._on_change = on_change
        self._what = what
        self.updated: dict[str, str] = {}

    def _check(self, key: Any, value: Any) -> dict:
        if not isinstance(key, str) or not key:
            raise TypeError(f"{self._what} names must be non-empty text, got {key!r}")
        if not isinstance(value, Mapping):
            raise TypeError(f"{self._what} {key!r} must be a dict, got {type(value).__name__}")
        try:
            return json.loads(_to_json(dict(value)))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{self._what} {key!r} is not JSON-serialisable: {exc}") from None

    def __setitem__(self, key: str, value: Mapping) -> None:
        value = self._check(key, value)
        super().__setitem__(key, value)
        self.updated[key] = _now()
        self._on_change()

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self.updated.pop(key, None)
        self._on_change()

    def update(self, *args, **kwargs) -> None:  # noqa: D102 - dict.update
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other):
        self.update(other)
        return self

    def setdefault(self, key: str, default: Mapping | None = None):  # noqa: D102
        if key not in self:
            self[key] = {} if default is None else default
        return self[key]

    def pop(self, key: str, *default):  # noqa: D102
        if key not in self:
            if default:
                return default[0]
            raise KeyError(key)
        value = self[key]
        del self[key]
        return value

    def popitem(self):  # noqa: D102
        key = next(reversed(self))
        return key, self.pop(key)

    def clear(self) -> None:  # noqa: D102
        if self:
            super().clear()
            self.updated.clear()
            self._on_change()

    def _load(self, rows: Iterable[tuple[str, dict, str]]) -> None:
        for key, value, updated in rows:
            dict.__setitem__(self, key, value)
            self.updated[key] = updated or ""


class WorkspaceEvents(SignalGroup):
    """``dirty(bool)`` when the unsaved-changes flag flips; ``saved(path)`` after a save."""

    dirty = Signal(bool)
    saved = Signal(object)


class Workspace:
    """Layers, saved queries, drill scenarios and an audit log, kept in one GeoPackage.

    ``Workspace()`` is a new, unsaved workspace; :meth:`open` reads one.

    Attributes
    ----------
    registry : LayerRegistry
        The layers in drawing order (index 0 on top).
    saved_queries, scenarios : dict[str, dict]
        Query and scenario documents by name (see DESIGN.md for their format).
    warnings : list[str]
        Problems met while opening that did not stop it (e.g. a missing raster).
    events : WorkspaceEvents
        ``events.dirty(bool)``, ``events.saved(path)``.

    Examples
    --------
    >>> import geopandas as gpd, shapely, tempfile, pathlib
    >>> ws = Workspace()
    >>> gdf = gpd.GeoDataFrame({"school_id": ["S1"]}, geometry=[shapely.Point(117.2, 39.1)],
    ...                        crs="EPSG:4326")
    >>> _ = ws.add_layer(VectorLayer("schools", gdf))
    >>> ws.saved_queries["near"] = {"version": 1, "target": "schools"}
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(folder.name) / "city.gpkg"
    >>> ws.save_as(path)
    >>> again = Workspace.open(path)
    >>> again.registry.names(), again.saved_queries["near"]["target"], again.dirty
    (['schools'], 'schools', False)
    >>> folder.cleanup()
    """

    def __init__(self) -> None:
        self.events = WorkspaceEvents(self)
        self.registry = LayerRegistry()
        self._path: Path | None = None
        self._read_only = False
        self._dirty = False
        self._saved_queries = DocumentStore(self._touch, "saved query")
        self._scenarios = DocumentStore(self._touch, "scenario")
        self._audit: list[dict] = []
        self._audit_saved = 0  # how many entries of _audit the file already holds
        self.warnings: list[str] = []
        ev = self.registry.events
        for signal in (ev.added, ev.removed, ev.reordered, ev.visibility, ev.style, ev.changed):
            signal.connect(self._touch)

    def __repr__(self) -> str:
        return f"Workspace({str(self._path) if self._path else 'unsaved'!r}, {self.registry.names()})"

    # ------------------------------------------------------------------ state
    @property
    def path(self) -> Path | None:
        """The GeoPackage file, or ``None`` until first saved."""
        return self._path

    @property
    def folder(self) -> Path | None:
        """The folder that holds the file (and its rasters)."""
        return None if self._path is None else self._path.parent

    @property
    def dirty(self) -> bool:
        """Whether there are unsaved changes (layers, styles, queries, scenarios)."""
        return self._dirty

    def _set_dirty(self, value: bool) -> None:
        if value != self._dirty:
            self._dirty = value
            self.events.dirty.emit(value)

    def _touch(self, *args: Any) -> None:
        self._set_dirty(True)

    @property
    def read_only(self) -> bool:
        """Whether :meth:`save` would refuse (opened read-only or file not writable)."""
        if self._path is None:
            return False
        return self._read_only or not _writable(self._path)

    @property
    def saved_queries(self) -> DocumentStore:
        """Saved query documents by name."""
        return self._saved_queries

    @saved_queries.setter
    def saved_queries(self, value: Mapping[str, Mapping]) -> None:
        self._saved_queries.clear()
        self._saved_queries.update(value)

    @property
    def scenarios(self) -> DocumentStore:
        """Drill scenario documents by name."""
        return self._scenarios

    @scenarios.setter
    def scenarios(self, value: Mapping[str, Mapping]) -> None:
        self._scenarios.clear()
        self._scenarios.update(value)

    # ------------------------------------------------------------------ layers
    def add_layer(self, layer: Layer, index: int | None = None) -> Layer:
        """Add a layer (on top by default); ``ValueError`` if the name is taken."""
        self.registry.add(layer, index)
        return layer

    def remove_layer(self, name: str) -> Layer:
        """Remove a layer by name and return it."""
        layer = self.registry.remove(name)
        if isinstance(layer, RasterLayer):
            layer.close()
        return layer

    def layer(self, name: str) -> Layer:
        """The layer called ``name`` (``KeyError`` naming the layers present)."""
        return self.registry[name]

    def frames(self) -> dict[str, pd.DataFrame]:
        """Vector and table data by layer name (the layers' own frames, not copies)."""
        return {
            layer.name: layer.data
            for layer in self.registry
            if isinstance(layer, (VectorLayer, TableLayer))
        }

    def titles(self) -> dict[str, dict[str, str]]:
        """Layer name -> ``{"en", "zh"}`` titles, plus ``query:NAME`` -> the title of
        each saved query that has one (for query sentences and forms)."""
        from spatial.query.model import QUERY_PREFIX

        out = {layer.name: {"en": layer.metadata.title_en, "zh": layer.metadata.title_zh}
               for layer in self.registry}
        for name, doc in self.saved_queries.items():
            if isinstance(doc.get("title"), dict):
                out[QUERY_PREFIX + name] = dict(doc["title"])
        return out

    def extent_lonlat(self) -> tuple[float, float, float, float] | None:
        """Union of the layers' bounds in EPSG:4326 ``(min_lon, min_lat, max_lon, max_lat)``.

        Layers without a CRS or without geometry are skipped; ``None`` when nothing is left.
        """
        from spatial.crs import get_transformer, parse_crs

        wgs84 = parse_crs(4326)
        boxes = []
        for layer in self.registry:
            bounds, crs = layer.bounds, layer.crs
            if bounds is None or crs is None:
                continue
            crs = parse_crs(crs)
            if crs != wgs84:  # one cached transformer per CRS, not one per layer
                bounds = get_transformer(crs, wgs84).transform_bounds(*bounds, densify_pts=21)
            if all(math.isfinite(v) for v in bounds):
                boxes.append(bounds)
        if not boxes:
            return None
        arr = np.asarray(boxes, dtype=float)
        return (float(arr[:, 0].min()), float(arr[:, 1].min()),
                float(arr[:, 2].max()), float(arr[:, 3].max()))

    def close(self) -> None:
        """Release open raster files."""
        for layer in self.registry:
            if isinstance(layer, RasterLayer):
                layer.close()

    # ------------------------------------------------------------------ audit log
    def log(self, action: str, detail: Mapping | None = None) -> dict:
        """Append an entry to the audit log and return it.

        The entry holds ``timestamp`` (UTC ISO 8601), ``user`` (the login name),
        ``action`` and ``detail`` (JSON; numpy scalars and paths are converted).
        It is written to the file at once when possible (see the module notes).
        """
        if not isinstance(action, str) or not action:
            raise ValueError(f"audit action must be non-empty text, got {action!r}")
        try:
            detail = json.loads(_to_json(dict(detail or {})))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"audit detail for {action!r} is not JSON-serialisable: {exc}") \
                from None
        entry = {"timestamp": _now(), "user": _user(), "action": action, "detail": detail}
        self._audit.append(entry)
        self._flush_audit()
        return dict(entry)

    def audit_log(self) -> list[dict]:
        """All audit entries, oldest first (copies)."""
        return [dict(e) for e in self._audit]

    def _flush_audit(self) -> None:
        pending = self._audit[self._audit_saved:]
        if not pending or self._path is None or self._read_only:
            return
        try:
            con = sqlite3.connect(_sqlite_uri(self._path, "rw"), uri=True, timeout=5)
        except sqlite3.Error:
            return
        try:
            with con:  # one transaction
                has_table = con.execute(
                    "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (AUDIT_TABLE,)
                ).fetchone()
                if not has_table:
                    return  # a plain GeoPackage: the entries wait for the next save
                con.executemany(
                    f'INSERT INTO "{AUDIT_TABLE}" (timestamp, user, action, detail) '
                    "VALUES (?, ?, ?, ?)",
                    [(e["timestamp"], e["user"], e["action"], _to_json(e["detail"]))
                     for e in pending],
                )
            self._audit_saved = len(self._audit)
        except sqlite3.Error:
            pass  # kept in memory; written by the next save
        finally:
            con.close()

    # ------------------------------------------------------------------ open
    @classmethod
    def open(
        cls,
        path: str | os.PathLike,
        feedback: Feedback | None = None,
        *,
        read_only: bool = False,
    ) -> "Workspace":
        """Read a workspace (or any GeoPackage) into memory.

        Parameters
        ----------
        path : str or Path
        feedback : Feedback, optional
            Progress per layer; cancelling raises :class:`~spatial.errors.Canceled`.
        read_only : bool
            Refuse :meth:`save` (use for bundled samples); :meth:`save_as` still works.

        Raises
        ------
        WorkspaceError
            Naming the file: not found, not a GeoPackage, corrupt, or a layer
            that cannot be read.  A missing raster file does not raise: the
            layer is kept with ``missing=True`` and a message in :attr:`warnings`.
        """
        fb = ensure_feedback(feedback)
        path = Path(path).expanduser().absolute()
        _check_is_geopackage(path)
        try:
            catalog = _read_catalog(path)
        except CityFrameError:
            raise
        except (sqlite3.Error, ValueError, KeyError, TypeError) as exc:
            raise WorkspaceError(f"workspace file {path} is corrupt or unreadable: {exc}") \
                from exc
        ws = cls()
        ws._path = path
        ws._read_only = read_only
        ws._load(catalog, fb)
        ws._set_dirty(False)
        return ws

    def _load(self, catalog: dict, fb: Feedback) -> None:
        path = self._path
        folder = path.parent
        entries = catalog["entries"]
        self.warnings.extend(catalog["warnings"])

        # Sequential on purpose: Arrow reads and WKB parsing of one big layer do not
        # speed up with threads here (measured), and memory stays lower.
        data_entries = [e for e in entries if e["kind"] in ("vector", "table")]
        frames: dict[str, pd.DataFrame] = {}
        fb.set_progress(0)
        for done, e in enumerate(data_entries, 1):
            fb.check()
            frames[e["name"]] = _read_table(path, e)
            fb.step(done, len(data_entries))

        for e in entries:
            layer = self._make_layer(e, frames, folder)
            if layer is not None:
                self.registry.add(layer, len(self.registry))

        self._saved_queries._load(catalog["queries"])
        self._scenarios._load(catalog["scenarios"])
        self._audit = catalog["audit"]
        self._audit_saved = len(self._audit)
        version = catalog["info"].get("format_version")
        if version and version.isdigit() and int(version) > FORMAT_VERSION:
            self.warnings.append(
                f"{path} was written by a newer CityFrame (format {version}); "
                "some settings may be ignored"
            )
        for message in self.warnings:
            fb.push_info(message)

    def _make_layer(self, e: dict, frames: dict, folder: Path) -> Layer | None:
        name = e["name"]
        try:
            metadata = (LayerMetadata.from_dict(e["metadata"]) if e.get("metadata")
                        else None)
            style = style_from_dict(e["style"]) if e.get("style") else None
            common = {"visible": e["visible"], "opacity": e["opacity"]}
            if e["kind"] == "vector":
                frame = frames[name]
                if not isinstance(frame, gpd.GeoDataFrame):
                    raise ValueError("the table has no geometry")
                return VectorLayer(name, frame, metadata, style, **common)
            if e["kind"] == "table":
                frame = frames[name]
                if isinstance(frame, gpd.GeoDataFrame):  # a features table with no geometry column
                    frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
                return TableLayer(name, frame, metadata, **common)
            return self._make_raster(e, metadata, style, common, folder)
        except (TypeError, ValueError, KeyError) as exc:
            raise WorkspaceError(
                f"layer {name!r} in workspace file {self._path} has invalid settings: {exc}"
            ) from exc

    def _make_raster(self, e, metadata, style, common, folder: Path) -> RasterLayer | None:
        name, rel = e["name"], e.get("raster_path") or ""
        target = _resolve_inside(folder, rel)
        if target is None:
            self.warnings.append(
                f"raster layer {name!r}: path {rel!r} does not lie inside the workspace "
                f"folder {folder}; the layer was not loaded"
            )
            return None
        layer = RasterLayer(name, target, metadata, style, band=e.get("band", 1), **common)
        if layer.missing:
            self.warnings.append(
                f"raster layer {name!r}: file {target} is missing; the layer is kept "
                "but shows nothing until the file is restored"
            )
        return layer

    # ------------------------------------------------------------------ save
    def save(self, feedback: Feedback | None = None) -> None:
        """Write the workspace over its file, atomically.

        Raises
        ------
        WorkspaceError
            If it was never saved (use :meth:`save_as`) or the write fails; the
            file on disk is then unchanged.
        WorkspaceReadOnlyError
            If the workspace was opened read-only or its file or folder is not
            writable; ask the user for another place and call :meth:`save_as`.
        """
        if self._path is None:
            raise WorkspaceError("this workspace has not been saved yet; use save_as(path)")
        if self._read_only:
            raise WorkspaceReadOnlyError(
                f"workspace {self._path} is read-only (opened as a sample or read-only); "
                "save it under a new name with save_as"
            )
        self._write(self._path, feedback)

    def save_as(self, path: str | os.PathLike, feedback: Feedback | None = None) -> None:
        """Write the workspace to ``path`` (a ``.gpkg`` file) atomically and keep
        working on that file; rasters outside its folder are copied into it."""
        path = Path(path).expanduser().absolute()
        if path.suffix.lower() != ".gpkg":
            raise WorkspaceError(f"a workspace file name must end in .gpkg: {path}")
        self._write(path, feedback)
        self._read_only = False

    def _write(self, target: Path, feedback: Feedback | None) -> None:
        fb = ensure_feedback(feedback)
        folder = target.parent
        if not folder.is_dir():
            raise WorkspaceError(f"cannot save workspace {target}: folder {folder} does not exist")
        if target.exists() and not target.is_file():
            raise WorkspaceError(f"cannot save workspace {target}: it is a folder")
        if not _writable(target):
            raise WorkspaceReadOnlyError(
                f"cannot save workspace {target}: the file or its folder is read-only; "
                "save it under a new name with save_as"
            )
        layers = list(self.registry)
        tmp = folder / f".{target.name}.{secrets.token_hex(4)}.tmp.gpkg"
        created: list[Path] = []  # raster copies made for this save
        try:
            fb.set_progress(0)
            rasters = self._plan_rasters(folder)
            rows = []
            steps = len(layers) + 3
            for position, layer in enumerate(layers):
                fb.check()
                row = {**_layer_row(layer), "position": position}
                if isinstance(layer, (VectorLayer, TableLayer)):
                    try:
                        row["storage"] = _write_data(tmp, layer)
                    except CityFrameError:
                        raise
                    except Exception as exc:
                        raise WorkspaceError(
                            f"could not save layer {layer.name!r} to {target}: {exc}"
                        ) from exc
                else:
                    src, dest, rel = rasters[id(layer)]
                    if src != dest and not layer.missing:
                        created.extend(_copy_raster(src, dest))
                    row["raster_path"] = rel
                rows.append(row)
                fb.step(position + 1, steps)
            audit = self._audit_to_save(target)
            self._write_cityframe_tables(tmp, rows, audit)
            if self._path is not None and self._path.is_file():
                _carry_over_foreign_tables(self._path, tmp)
            fb.step(len(layers) + 1, steps)
            _verify(tmp, layers)
            fb.step(len(layers) + 2, steps)
            _fsync(tmp)
            os.replace(tmp, target)
            _fsync_dir(folder)
        except BaseException as exc:
            _remove_quietly([tmp, *(Path(f"{tmp}{s}") for s in ("-journal", "-wal", "-shm"))])
            _remove_quietly(reversed(created))
            if isinstance(exc, (CityFrameError, KeyboardInterrupt, SystemExit)):
                raise
            if isinstance(exc, Exception):
                raise WorkspaceError(f"could not save workspace {target}: {exc}") from exc
            raise
        for layer in layers:
            if isinstance(layer, RasterLayer):
                with self.registry.events.changed.blocked():
                    layer.path = rasters[id(layer)][1]
        self._path = target
        self._audit = audit
        self._audit_saved = len(audit)
        fb.set_progress(100)
        self._set_dirty(False)
        self.events.saved.emit(target)

    def _plan_rasters(self, folder: Path) -> dict[int, tuple[Path, Path, str]]:
        """Per raster layer: (current file, file in ``folder``, relative POSIX path)."""
        plan: dict[int, tuple[Path, Path, str]] = {}
        here = folder.resolve()
        before = self._path.parent.resolve() if self._path is not None else None
        taken: set[Path] = set()
        for layer in self.registry:
            if not isinstance(layer, RasterLayer):
                continue
            src = layer.path
            real = src.resolve()
            if real.is_relative_to(here):
                dest = src
                rel = real.relative_to(here)
            else:
                rel = (real.relative_to(before) if before is not None and real.is_relative_to(before)
                       else Path(src.name))
                dest = folder / rel
                if not layer.missing:
                    n = 1
                    while dest in taken or (dest.exists() and not dest.samefile(src)):
                        dest = dest.with_name(f"{Path(rel).stem}_{n}{Path(rel).suffix}")
                        n += 1
                    rel = dest.relative_to(folder)
            taken.add(dest)
            plan[id(layer)] = (src, dest, PurePosixPath(*Path(rel).parts).as_posix())
        return plan

    def _audit_to_save(self, target: Path) -> list[dict]:
        """The audit log to write: ours, plus entries another program (e.g. a
        ``main.py query`` run) appended to our own file since we opened it."""
        if target != self._path or not target.exists():
            return self._audit
        try:
            con = sqlite3.connect(_sqlite_uri(target, "ro"), uri=True)
            try:
                theirs = _audit_entries(con, target)
            finally:
                con.close()
        except (sqlite3.Error, WorkspaceError):
            return self._audit
        key = lambda e: (e["timestamp"], e["user"], e["action"], _to_json(e["detail"]))  # noqa: E731
        ours = {key(e) for e in self._audit}
        extra = [e for e in theirs if key(e) not in ours]
        if not extra:
            return self._audit
        return sorted(self._audit + extra, key=lambda e: e["timestamp"])

    def _write_cityframe_tables(self, tmp: Path, layer_rows: list[dict],
                                audit_entries: list[dict]) -> None:
        def docs(store: DocumentStore) -> pd.DataFrame:
            return _frame({
                "name": list(store),
                "json": [_to_json(v) for v in store.values()],
                "updated": [store.updated.get(k, "") for k in store],
            }, {"name": "str", "json": "str", "updated": "str"})

        layers = _frame(
            {k: [r.get(k) for r in layer_rows] for k in
             ("name", "kind", "position", "metadata", "style", "visible", "opacity",
              "raster_path", "storage")},
            {"name": "str", "kind": "str", "position": "int64", "metadata": "str",
             "style": "str", "visible": "bool", "opacity": "float64", "raster_path": "str",
             "storage": "str"},
        )
        audit = _frame({
            "timestamp": [e["timestamp"] for e in audit_entries],
            "user": [e["user"] for e in audit_entries],
            "action": [e["action"] for e in audit_entries],
            "detail": [_to_json(e["detail"]) for e in audit_entries],
        }, dict.fromkeys(("timestamp", "user", "action", "detail"), "str"))
        info = _frame({
            "key": ["format_version", "saved", "software"],
            "value": [str(FORMAT_VERSION), _now(), "CityFrame"],
        }, {"key": "str", "value": "str"})
        for table, frame in ((LAYERS_TABLE, layers), (QUERIES_TABLE, docs(self._saved_queries)),
                             (SCENARIOS_TABLE, docs(self._scenarios)), (AUDIT_TABLE, audit),
                             (INFO_TABLE, info)):
            _write_layer(tmp, table, frame, use_arrow=False)


# ====================================================================== helpers: files
def _carry_over_foreign_tables(source: Path, tmp: Path) -> list[str]:
    """Copy tables CityFrame does not manage (not registered in ``gpkg_contents``,
    e.g. a ``qgis_projects`` table QGIS keeps in the file) from ``source`` into
    the file being written, so saving never drops another tool's data."""
    con = sqlite3.connect(tmp)
    try:
        con.execute("ATTACH DATABASE ? AS old", (str(source),))
        registered = {r[0].lower() for r in con.execute("SELECT table_name FROM old.gpkg_contents")}
        present = {r[0].lower() for r in con.execute(
            "SELECT name FROM main.sqlite_master WHERE type = 'table'")}
        foreign = [
            (name, sql) for name, sql in con.execute(
                "SELECT name, sql FROM old.sqlite_master WHERE type = 'table' AND sql IS NOT NULL")
            if not name.lower().startswith(("gpkg_", "rtree_", "sqlite_", "cityframe_"))
            and name.lower() not in registered and name.lower() not in present
        ]
        with con:
            for name, sql in foreign:
                con.execute(sql)
                con.execute(f'INSERT INTO main."{name}" SELECT * FROM old."{name}"')
        con.execute("DETACH DATABASE old")
        return [name for name, _ in foreign]
    finally:
        con.close()


def _sqlite_uri(path: Path, mode: str) -> str:
    return f"{path.absolute().as_uri()}?mode={mode}"


def _writable(path: Path) -> bool:
    """Whether ``path`` can be replaced: folder writable, file (if any) writable, and
    the file system not mounted read-only (which ``os.access`` misses for root)."""
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    if path.exists() and not os.access(path, os.W_OK):
        return False
    with contextlib.suppress(OSError, AttributeError):
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return False
    return True


def _resolve_inside(folder: Path, rel: str) -> Path | None:
    """``folder/rel`` if it resolves inside ``folder`` (no ``..`` escapes, no absolute
    paths, no symlinks leading out), else ``None``."""
    if not rel:
        return None
    candidate = folder / Path(*PurePosixPath(rel).parts)
    try:
        if not candidate.resolve().is_relative_to(folder.resolve()):
            return None
    except (OSError, RuntimeError):
        return None
    return candidate


def _check_is_geopackage(path: Path) -> None:
    if not path.exists():
        raise WorkspaceError(f"workspace file not found: {path}")
    if not path.is_file():
        raise WorkspaceError(f"not a workspace file (it is a folder): {path}")
    try:
        with open(path, "rb") as f:
            head = f.read(100)
    except OSError as exc:
        raise WorkspaceError(f"cannot read workspace file {path}: {exc.strerror or exc}") \
            from exc
    if not head:
        raise WorkspaceError(f"{path} is not a GeoPackage: the file is empty")
    if len(head) < 100 or not head.startswith(_SQLITE_MAGIC):
        raise WorkspaceError(f"{path} is not a GeoPackage (it is not an SQLite database)")


def _copy_raster(src: Path, dest: Path) -> list[Path]:
    """Copy a raster and its side files; return the files created."""
    made = []
    dest.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", *_RASTER_SIDECARS):
        s = Path(f"{src}{suffix}")
        if suffix and not s.exists():
            continue
        d = Path(f"{dest}{suffix}")
        made.append(d)
        shutil.copy2(s, d)
    return made


def _remove_quietly(paths: Iterable[Path]) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            os.remove(p)


def _fsync(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _verify(tmp: Path, layers: list[Layer]) -> None:
    """Check the freshly written file before it replaces anything."""
    con = sqlite3.connect(_sqlite_uri(tmp, "ro"), uri=True)
    try:
        result = [r[0] for r in con.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise WorkspaceError(f"the written file failed its integrity check: {result[:3]}")
        counts = dict(con.execute("SELECT table_name, feature_count FROM gpkg_ogr_contents"))
    finally:
        con.close()
    listed = {str(n) for n in pyogrio.list_layers(tmp)[:, 0]}
    expected = {layer.name for layer in layers if not isinstance(layer, RasterLayer)}
    missing = (expected | set(CITYFRAME_TABLES)) - listed
    if missing:
        raise WorkspaceError(f"the written file lacks layer(s) {', '.join(sorted(missing))}")
    for layer in layers:
        if isinstance(layer, RasterLayer):
            continue
        count = counts.get(layer.name)
        if count is not None and count != layer.feature_count:
            raise WorkspaceError(
                f"layer {layer.name!r} was written with {count} of {layer.feature_count} rows"
            )


# ====================================================================== helpers: tables
def _frame(columns: dict[str, list], dtypes: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({k: pd.Series(v, dtype=dtypes[k]) for k, v in columns.items()})


def _layer_row(layer: Layer) -> dict:
    d = layer.to_dict()
    return {
        "name": layer.name,
        "kind": layer.kind,
        "metadata": _to_json(d["metadata"]),
        "style": None if d["style"] is None else _to_json(d["style"]),
        "visible": layer.visible,
        "opacity": layer.opacity,
        "raster_path": None,
        "storage": _to_json({"band": layer.band}) if isinstance(layer, RasterLayer) else None,
    }


def _write_layer(path: Path, name: str, frame: pd.DataFrame, **kwargs: Any) -> None:
    """Write one table into the GeoPackage at ``path`` (the single place that writes data)."""
    pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", **kwargs)


def _unique_name(base: str, taken: set[str]) -> str:
    name, n = base, 1
    while name.lower() in taken:
        name, n = f"{base}_{n}", n + 1
    return name


def _write_data(tmp: Path, layer: VectorLayer | TableLayer) -> str:
    """Write a layer's data; return the ``storage`` JSON needed to read it back exactly."""
    data = layer.data
    is_vector = isinstance(layer, VectorLayer)
    geom_col = data.geometry.name if is_vector else None
    storage: dict[str, Any] = {
        "columns": [str(c) for c in data.columns],
        "dtypes": {str(c): str(t) for c, t in data.dtypes.items() if c != geom_col},
    }
    frame = data
    if not (isinstance(data.index, pd.RangeIndex) and data.index.start == 0
            and data.index.step == 1):
        taken = {str(c).lower() for c in data.columns}
        index_cols = []
        for i, n in enumerate(data.index.names):
            col = _unique_name(str(n) if n is not None else f"cf_index_{i}", taken)
            taken.add(col.lower())
            index_cols.append(col)
        frame = data.reset_index(names=index_cols)
        storage["index"] = {"columns": index_cols,
                            "names": [None if n is None else str(n) for n in data.index.names],
                            "dtypes": [str(t) for t in data.index.to_frame().dtypes]}
    if any(not isinstance(c, str) for c in frame.columns):
        frame = frame.rename(columns=str)
    taken = {str(c).lower() for c in frame.columns}
    options = {"FID": _unique_name("fid", taken)}
    kwargs: dict[str, Any] = {"layer_options": options}
    if is_vector:
        storage["geometry_column"] = geom_col
        options["GEOMETRY_NAME"] = _unique_name("geom", taken - {str(geom_col).lower()})
        options["SPATIAL_INDEX"] = "YES"
        # Mixed single and multi parts are declared GEOMETRY: conformant, and each
        # feature keeps its own type (promoting to multi would change the data).
        gtype = geometry_type_of(frame.geometry.values, exact=True)
        gtype = "Unknown" if gtype in (None, "Geometry") else gtype
        if gtype != "Unknown" and len(frame) and bool(shapely.has_z(frame.geometry.values).any()):
            gtype += " Z"
        kwargs.update(geometry_type=gtype, promote_to_multi=False)
    # Arrow writes are several times faster; object columns may hold mixed types
    # that only the row-by-row path accepts.
    kwargs["use_arrow"] = not any(t == object for t in frame.dtypes)
    _write_layer(tmp, layer.name, frame, **kwargs)
    return _to_json(storage)


def _read_table(path: Path, entry: dict) -> pd.DataFrame:
    """Read one layer's data (Arrow) and give it back its saved shape."""
    name = entry["name"]
    try:
        frame = pyogrio.read_dataframe(path, layer=name, use_arrow=True)
    except Exception as exc:
        raise WorkspaceError(f"cannot read layer {name!r} from workspace file {path}: {exc}") \
            from exc
    storage = entry.get("storage") or {}
    if not storage:
        return frame
    try:
        return _restore(frame, storage)
    except (KeyError, ValueError, TypeError) as exc:
        raise WorkspaceError(f"layer {name!r} in {path} does not match its saved layout: {exc}") \
            from exc


def _restore(frame: pd.DataFrame, storage: dict) -> pd.DataFrame:
    geom_col = storage.get("geometry_column")
    if geom_col and isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name != geom_col:
        frame = frame.rename_geometry(geom_col)
    for col, dtype in storage.get("dtypes", {}).items():
        if col in frame.columns and str(frame[col].dtype) != dtype:
            with contextlib.suppress(TypeError, ValueError):
                frame[col] = frame[col].astype(dtype)
    index = storage.get("index")
    if index:
        for col, dtype in zip(index["columns"], index["dtypes"]):
            if str(frame[col].dtype) != dtype:
                with contextlib.suppress(TypeError, ValueError):
                    frame[col] = frame[col].astype(dtype)
        frame = frame.set_index(index["columns"])
        frame.index.names = index["names"]
    columns = storage.get("columns")
    if columns and list(frame.columns) != columns and set(columns) == set(frame.columns):
        frame = frame[columns]
    return frame


def _json_field(value: Any, what: str, path: Path) -> Any:
    if value in (None, ""):
        return None
    try:
        return json.loads(value)
    except (TypeError, ValueError) as exc:
        raise WorkspaceError(f"{what} in workspace file {path} is not valid JSON: {exc}") \
            from exc


def _audit_entries(con: sqlite3.Connection, path: Path) -> list[dict]:
    rows = con.execute(
        f'SELECT timestamp, user, action, detail FROM "{AUDIT_TABLE}" ORDER BY fid').fetchall()
    return [{"timestamp": t, "user": u, "action": a,
             "detail": _json_field(d, "an audit entry", path) or {}} for t, u, a, d in rows]


_FAMILY_ORDER = {"POINT": 0, "MULTIPOINT": 0, "LINESTRING": 1, "MULTILINESTRING": 1,
                 "POLYGON": 2, "MULTIPOLYGON": 2}


def _read_catalog(path: Path) -> dict:
    """Everything but the layer data: which tables, in which order, with which settings."""
    con = sqlite3.connect(_sqlite_uri(path, "ro"), uri=True)
    try:
        tables = {r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        if "gpkg_contents" not in tables:
            raise WorkspaceError(f"{path} is not a GeoPackage (it has no gpkg_contents table)")
        contents = con.execute(
            "SELECT table_name, data_type FROM gpkg_contents ORDER BY rowid").fetchall()
        geometry_types = {}
        if "gpkg_geometry_columns" in tables:
            geometry_types = dict(con.execute(
                "SELECT table_name, upper(geometry_type_name) FROM gpkg_geometry_columns"))

        def rows(sql: str, table: str) -> list[tuple]:
            return con.execute(sql).fetchall() if table in tables else []

        layer_rows = rows(
            f"SELECT name, kind, metadata, style, visible, opacity, raster_path, storage "
            f'FROM "{LAYERS_TABLE}" ORDER BY position, fid', LAYERS_TABLE)
        queries = rows(f'SELECT name, json, updated FROM "{QUERIES_TABLE}" ORDER BY fid',
                       QUERIES_TABLE)
        scenarios = rows(f'SELECT name, json, updated FROM "{SCENARIOS_TABLE}" ORDER BY fid',
                         SCENARIOS_TABLE)
        audit = _audit_entries(con, path) if AUDIT_TABLE in tables else []
        info = dict(rows(f'SELECT key, value FROM "{INFO_TABLE}"', INFO_TABLE))
    finally:
        con.close()

    warnings: list[str] = []
    data_tables = {}
    for table, data_type in contents:
        if table.lower().startswith("cityframe_"):
            continue
        if data_type in ("features", "attributes"):
            data_tables[table] = "vector" if data_type == "features" else "table"
        else:
            warnings.append(f"table {table!r} ({data_type}) in {path} is not supported and "
                            "was skipped")

    entries = []
    for name, kind, meta, style, visible, opacity, raster_path, storage in layer_rows:
        if kind in ("vector", "table") and name not in data_tables:
            warnings.append(f"layer {name!r} is listed in {path} but its table is missing; "
                            "it was skipped")
            continue
        if kind not in ("vector", "table", "raster"):
            warnings.append(f"layer {name!r} in {path} has unknown kind {kind!r}; skipped")
            continue
        storage = _json_field(storage, f"storage of layer {name!r}", path) or {}
        entries.append({
            "name": name,
            "kind": data_tables.get(name, kind),
            "metadata": _json_field(meta, f"metadata of layer {name!r}", path),
            "style": _json_field(style, f"style of layer {name!r}", path),
            "visible": bool(visible) if visible is not None else True,
            "opacity": float(opacity) if opacity is not None else 1.0,
            "raster_path": raster_path,
            "storage": storage if kind != "raster" else {},
            "band": int(storage.get("band", 1)) if kind == "raster" else 1,
        })

    # Tables the CityFrame list does not know (a plain GeoPackage, or a layer added
    # in QGIS): default settings, points above lines above polygons, tables last.
    known = {e["name"] for e in entries}
    extra = [t for t in data_tables if t not in known]
    extra.sort(key=lambda t: 4 if data_tables[t] == "table"
               else _FAMILY_ORDER.get(geometry_types.get(t, ""), 3))
    for table in extra:
        entries.append({
            "name": table, "kind": data_tables[table], "metadata": None, "style": None,
            "visible": True, "opacity": 1.0, "raster_path": None, "storage": {}, "band": 1,
        })

    return {
        "entries": entries,
        "warnings": warnings,
        "queries": [(n, _json_field(j, f"saved query {n!r}", path), u) for n, j, u in queries],
        "scenarios": [(n, _json_field(j, f"scenario {n!r}", path), u) for n, j, u in scenarios],
        "audit": audit,
        "info": info,
    }
