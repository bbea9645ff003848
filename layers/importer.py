"""Read outside data files into plain, validated data ready to become layers.

:func:`read_file` is the one entry point.  It dispatches on the file's
extension and returns a list of :class:`ImportedData` (one per layer), or
raises :class:`~spatial.errors.DataImportError` with a message that names the
file and, where it applies, the layer, row and column.  It never returns half
an import: either every requested layer is read, checked and repaired, or it
raises.

=====================  ==================================================
extension              what is read
=====================  ==================================================
``.gpkg``              every vector layer and attribute table, or ``layer=``
``.shp``               one shapefile (``.shx``, ``.dbf`` and ``.prj`` beside it)
``.zip``               the shapefile(s) inside a zip archive
``.geojson``/``.json`` GeoJSON (RFC 7946: EPSG:4326 unless a ``crs`` member)
``.csv``/``.txt``      delimited text with lon/lat (or x/y) columns
``.tif``/``.tiff``     a GeoTIFF raster (checked, not loaded; see ``raster_path``)
=====================  ==================================================

What is detected, and how
-------------------------
* **Shapefile text encoding.**  A ``.cpg`` file is honoured.  Without one
  (or when the ``.cpg`` is unknown or plainly wrong) the raw bytes of the
  ``.dbf`` character fields are examined: valid UTF-8 gives UTF-8; otherwise
  a clean GB18030 decode whose characters are mostly in the GB2312 set gives
  GB18030; otherwise charset-normalizer guesses.  The attributes are then
  read losslessly (Latin-1 pass-through) and decoded in Python, so a value
  cut mid-character by a fixed-width ``.dbf`` field loses only its last
  character instead of failing the import.
* **CSV encoding.**  A UTF-8 BOM, else the whole file is checked as UTF-8,
  else GB18030 (same test as above), else charset-normalizer.
* **CSV coordinates.**  Columns named lon/lng/long/longitude/经度 and
  lat/latitude/纬度 (EPSG:4326 by default), else x/y; case-insensitive.
  Columns that look swapped (latitudes beyond ±90 while the longitudes fit,
  or points outside ``extent_lonlat`` that fall inside it once swapped) are
  refused with a message that says how to give them explicitly.
* **Geometry.**  Invalid geometries are repaired with
  :func:`shapely.make_valid` and null or empty ones are reported, in
  :attr:`ImportedData.warnings` with 1-based row numbers.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "Shelters 2024.csv").write_text(
...     "name,lon,lat\\nA,114.30,30.60\\nB,114.31,30.61\\n", encoding="utf-8")
>>> [item] = read_file(folder / "Shelters 2024.csv")
>>> item.name, len(item.data), item.crs.to_epsg()
('shelters_2024', 2, 4326)
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import unicodedata
import warnings as _warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from spatial.errors import CityFrameError, CRSError, DataImportError
from spatial.feedback import Feedback, ensure_feedback

__all__ = [
    "ImportedData",
    "read_file",
    "sanitize_name",
    "SUPPORTED_EXTENSIONS",
    "LON_NAMES",
    "LAT_NAMES",
]

#: Extensions :func:`read_file` understands (lowercase, with the dot).
SUPPORTED_EXTENSIONS = (
    ".gpkg", ".shp", ".zip", ".geojson", ".json", ".csv", ".txt", ".tif", ".tiff",
)

#: Column names taken as longitude / latitude (compared case-insensitively).
LON_NAMES = ("lon", "lng", "long", "longitude", "经度")
LAT_NAMES = ("lat", "latitude", "纬度")
_X_NAMES = ("x",)
_Y_NAMES = ("y",)

#: Rows per chunk when reading CSV (each chunk reports progress and may cancel).
CSV_CHUNK_ROWS = 100_000

_BLOCK = 1 << 20  # bytes per block when scanning files for their encoding
_MAX_TEXT_SAMPLES = 5_000  # non-ASCII DBF values examined for the encoding
_MAX_LISTED_ROWS = 10  # rows named in a warning before "…"
_CHINESE_CODECS = {"gb2312", "gbk", "gb18030", "cp936", "hz", "hz-gb-2312", "ms936", "936"}


# --------------------------------------------------------------------------- result


@dataclass(kw_only=True)
class ImportedData:
    """One layer read from a file, checked and ready to become a layer.

    Parameters
    ----------
    name : str
        Suggested layer name, sanitised from the file or layer name (see
        :func:`sanitize_name`); unique within one :func:`read_file` result.
    data : GeoDataFrame, DataFrame or None
        The features (GeoDataFrame), an attribute table without geometry
        (DataFrame), or None for a raster.
    crs : pyproj.CRS or None
        The data's CRS (None only for attribute tables).
    source : str
        Where it came from, as ``"path"`` or ``"path|layername=NAME"``.
    source_path : Path or None
        The file that was read.
    source_layer : str or None
        The layer inside that file (GeoPackage layer, zipped shapefile), if any.
    raster_path : Path or None
        For rasters: the absolute path of the GeoTIFF (it is not loaded).
    encoding : str or None
        The text encoding used (shapefiles and CSV), e.g. ``"UTF-8"``.
    warnings : list of str
        Things the user should know: repairs, detections, assumptions.
    metadata : dict
        Extra facts: for rasters ``width``, ``height``, ``count``,
        ``dtypes``, ``nodata``, ``bounds``, ``res``; for CSV the ``x`` and
        ``y`` columns and the ``delimiter``; for vectors ``geometry_type``.
    """

    name: str
    data: gpd.GeoDataFrame | pd.DataFrame | None = field(default=None, repr=False)
    crs: pyproj.CRS | None = None
    source: str = ""
    source_path: Path | None = None
    source_layer: str | None = None
    raster_path: Path | None = None
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        size = "raster" if self.raster_path is not None else (
            f"{len(self.data)} rows" if self.data is not None else "no data")
        crs = _crs_label(self.crs) if self.crs is not None else None
        return (f"ImportedData(name={self.name!r}, {size}, crs={crs}, source={self.source!r}, "
                f"encoding={self.encoding!r}, warnings={self.warnings!r})")

    @property
    def kind(self) -> str:
        """``"raster"``, ``"vector"`` (has geometry) or ``"table"``."""
        if self.raster_path is not None:
            return "raster"
        if isinstance(self.data, gpd.GeoDataFrame):
            return "vector"
        return "table"


# --------------------------------------------------------------------------- public API


def read_file(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: Any = None,
    x: str | None = None,
    y: str | None = None,
    encoding: str | None = None,
    extent_lonlat: Sequence[float] | None = None,
    feedback: Feedback | None = None,
) -> list[ImportedData]:
    """Read a data file into checked, repaired, plain data.

    Parameters
    ----------
    path : str or Path
        The file; its extension (see :data:`SUPPORTED_EXTENSIONS`) chooses
        the reader.
    layer : str, optional
        For multi-layer sources (GeoPackage, a zip with several shapefiles):
        read only this layer.  An unknown name raises an error listing the
        available ones.  Ignored for single-layer formats.
    crs : optional
        The CRS of the coordinates (anything :meth:`pyproj.CRS.from_user_input`
        takes, e.g. ``"EPSG:4547"`` or ``4490``).  Needed for a shapefile
        without ``.prj`` and for data that declares no CRS; when the file
        declares a different CRS, ``crs`` wins and a warning says so.  For CSV
        it replaces the EPSG:4326 default.
    x, y : str, optional
        CSV only: the coordinate columns, given together.  Given explicitly,
        they are trusted: no swap detection.
    encoding : str, optional
        Text encoding of a shapefile's ``.dbf`` or of a CSV, instead of the
        ``.cpg`` and detection.
    extent_lonlat : (minx, miny, maxx, maxy), optional
        The workspace's extent in longitude/latitude.  CSV points that fall
        outside it as given but inside it with x and y exchanged are refused
        as swapped.
    feedback : Feedback, optional
        Receives progress (per layer, per CSV chunk, ending at 100) and is
        checked for cancellation.

    Returns
    -------
    list of ImportedData
        One item per layer read, in the file's order.

    Raises
    ------
    DataImportError
        The file is missing, unsupported, unreadable or corrupt, has no
        features, lacks a CRS, has bad or swapped coordinates, or ``layer``
        does not exist.  The message names the file (and layer, row, column).
    CRSError
        ``crs`` is not a CRS.
    Canceled
        ``feedback`` was canceled.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "pts.csv"
    >>> _ = f.write_text("lat,lon\\n95.0,40.0\\n", encoding="utf-8")
    >>> read_file(f)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    spatial.errors.DataImportError: ...look swapped...
    """
    path = Path(path)
    fb = ensure_feedback(feedback)
    given_crs = _parse_crs(crs)
    extent = _parse_extent(extent_lonlat)
    if (x is None) != (y is None):
        raise DataImportError(f"{path}: give both the x and the y column (--x COL --y COL)")
    if encoding is not None:
        codec = _codec_name(encoding)
        if codec is None:
            raise DataImportError(f"{path}: unknown text encoding {encoding!r}")
        encoding = "gb18030" if codec in _CHINESE_CODECS else codec

    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise DataImportError(
            f"{path}: unsupported file type {path.suffix or '(no extension)'!r}; "
            f"CityFrame imports {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    if not path.exists():
        raise DataImportError(f"{path}: file not found")
    if not path.is_file():
        raise DataImportError(f"{path}: not a file")

    opts = _Options(
        layer=layer, crs=given_crs, x=x, y=y, encoding=encoding, extent=extent, feedback=fb
    )
    fb.set_progress(0)
    fb.check()
    reader = _READERS[ext]
    try:
        items = reader(path, opts)
    except CityFrameError:
        raise
    except Exception as exc:  # last resort: never let a library error escape unnamed
        raise DataImportError(f"{path}: cannot read the file: {_exc_text(exc)}") from exc
    _make_names_unique(items)
    fb.set_progress(100)
    return items


def sanitize_name(raw: str) -> str:
    """Turn a file or layer name into a layer name.

    Lowercase ASCII letters, digits and underscores; Chinese characters are
    kept; accents are dropped; anything else becomes ``_``.  A name that
    would start with a digit gets a ``layer_`` prefix, an empty one becomes
    ``layer``.  At most 63 characters.

    Examples
    --------
    >>> sanitize_name("Schools 2024 (final).shp")
    'schools_2024_final_shp'
    >>> sanitize_name("危化企业-名录")
    '危化企业_名录'
    >>> sanitize_name("Café")
    'cafe'
    >>> sanitize_name("2024")
    'layer_2024'
    """
    text = unicodedata.normalize("NFKC", str(raw))
    text = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
    text = unicodedata.normalize("NFC", text).lower()
    out = [ch if ("a" <= ch <= "z" or "0" <= ch <= "9" or ch == "_" or _is_cjk(ch)) else "_"
           for ch in text]
    name = re.sub(r"_+", "_", "".join(out)).strip("_")
    if not name:
        name = "layer"
    if name[0].isdigit():
        name = "layer_" + name
    return name[:63].rstrip("_")


# --------------------------------------------------------------------------- plumbing


@dataclass
class _Options:
    layer: str | None
    crs: pyproj.CRS | None
    x: str | None
    y: str | None
    encoding: str | None
    extent: tuple[float, float, float, float] | None
    feedback: Feedback


class _Progress:
    """Map a sub-task's 0–100 progress into [start, end] of the whole."""

    def __init__(self, feedback: Feedback, start: float, end: float) -> None:
        self.feedback, self.start, self.end = feedback, start, end

    def set(self, percent: float) -> None:
        self.feedback.set_progress(self.start + (self.end - self.start) * percent / 100.0)
        self.feedback.check()

    def check(self) -> None:
        self.feedback.check()


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x3134F
    )


def _exc_text(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if "not recognized as being in a supported file format" in text:
        return "the file is in an unknown format or is corrupt"
    return text.splitlines()[0] if len(text) > 300 else text


def _parse_crs(crs: Any) -> pyproj.CRS | None:
    if crs is None:
        return None
    try:
        return pyproj.CRS.from_user_input(crs)
    except Exception as exc:
        raise CRSError(f"unknown CRS {crs!r}: {_exc_text(exc)}") from exc


def _parse_extent(extent: Sequence[float] | None) -> tuple[float, float, float, float] | None:
    if extent is None:
        return None
    try:
        minx, miny, maxx, maxy = (float(v) for v in extent)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"extent_lonlat must be (minx, miny, maxx, maxy), got {extent!r}") from exc
    if not (minx <= maxx and miny <= maxy) or not all(
        math.isfinite(v) for v in (minx, miny, maxx, maxy)
    ):
        raise ValueError(f"extent_lonlat must be (minx, miny, maxx, maxy), got {extent!r}")
    return minx, miny, maxx, maxy


def _crs_label(crs: pyproj.CRS) -> str:
    code = crs.to_epsg(min_confidence=90)
    return f"EPSG:{code}" if code else (crs.name or "custom CRS")


def _codec_name(name: str) -> str | None:
    """The Python codec name for ``name``, or None if unknown."""
    try:
        return codecs.lookup(name.strip()).name
    except (LookupError, AttributeError):
        return None


def _display_encoding(codec: str) -> str:
    return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "gb18030": "GB18030",
            "iso8859-1": "ISO-8859-1", "latin-1": "ISO-8859-1"}.get(codec, codec.upper())


def _rows_text(rows: Sequence[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:_MAX_LISTED_ROWS])
    return shown + (", …" if len(rows) > _MAX_LISTED_ROWS else "")


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


@contextmanager
def _capture_warnings(sink: list[str]) -> Iterator[None]:
    """Turn library warnings raised while reading into user-facing warnings."""
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        yield
    for w in caught:
        text = str(w.message).strip()
        if text and text not in sink:
            sink.append(text)


@contextmanager
def _named(label: str, what: str = "cannot read") -> Iterator[None]:
    """Wrap any library error as a DataImportError naming ``label``."""
    try:
        yield
    except CityFrameError:
        raise
    except Exception as exc:
        raise DataImportError(f"{label}: {what}: {_exc_text(exc)}") from exc


def _make_names_unique(items: list[ImportedData]) -> None:
    seen: set[str] = set()
    for item in items:
        base, n = item.name, 1
        while item.name in seen:
            n += 1
            item.name = f"{base}_{n}"[:63]
        seen.add(item.name)


def _resolve_crs(
    declared: Any, given: pyproj.CRS | None, label: str, missing: str, warns: list[str]
) -> pyproj.CRS:
    """The CRS to use: ``given`` beats ``declared``; neither is an error."""
    declared_crs = None
    if declared is not None:
        try:
            declared_crs = pyproj.CRS.from_user_input(declared)
        except Exception:
            declared_crs = None
            if given is None:
                raise DataImportError(
                    f"{label}: cannot understand its CRS; give the CRS with --crs"
                ) from None
    if given is not None:
        if declared_crs is not None and not declared_crs.equals(given, ignore_axis_order=True):
            warns.append(
                f"the file declares {_crs_label(declared_crs)}; using the given "
                f"{_crs_label(given)} instead"
            )
        return given
    if declared_crs is None:
        raise DataImportError(f"{label} {missing}; give the CRS with --crs")
    return declared_crs


# --------------------------------------------------------------------------- vector checks


def _finish_vector(
    data: pd.DataFrame, label: str, warns: list[str], *, what: str = "features"
) -> pd.DataFrame:
    """Refuse empty data; report null geometries; repair invalid ones."""
    if len(data) == 0:
        raise DataImportError(f"{label} has no {what}")
    data = data.reset_index(drop=True)
    if not isinstance(data, gpd.GeoDataFrame):
        return data
    geoms = np.asarray(data.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(geoms)
    nogeom = np.flatnonzero(missing | empty)
    if nogeom.size:
        warns.append(
            f"{_plural(int(nogeom.size), 'feature')} "
            f"{'has' if nogeom.size == 1 else 'have'} no geometry "
            f"(rows {_rows_text((nogeom + 1).tolist())})"
        )
    present = ~(missing | empty)
    invalid = np.flatnonzero(present & ~shapely.is_valid(np.where(present, geoms, None)))
    if invalid.size:
        bad = geoms[invalid]
        polygonal = np.isin(shapely.get_type_id(bad), (3, 6))  # Polygon, MultiPolygon
        fixed = np.empty(bad.shape, dtype=object)
        if polygonal.any():
            fixed[polygonal] = shapely.make_valid(
                bad[polygonal], method="structure", keep_collapsed=False
            )
        if (~polygonal).any():
            fixed[~polygonal] = shapely.make_valid(bad[~polygonal])
        geoms = geoms.copy()
        geoms[invalid] = fixed
        data = data.copy()
        data[data.geometry.name] = gpd.GeoSeries(geoms, index=data.index, crs=data.crs)
        warns.append(
            f"repaired {_plural(int(invalid.size), 'invalid geometry', 'invalid geometries')} "
            f"(rows {_rows_text((invalid + 1).tolist())})"
        )
        emptied = invalid[shapely.is_empty(fixed)]
        if emptied.size:
            warns.append(
                f"{_plural(int(emptied.size), 'geometry', 'geometries')} collapsed to empty "
                f"when repaired (rows {_rows_text((emptied + 1).tolist())})"
            )
    return data


def _geometry_type(data: pd.DataFrame) -> str | None:
    if not isinstance(data, gpd.GeoDataFrame):
        return None
    types = {t.removeprefix("Multi") for t in data.geometry.dropna().geom_type.unique()}
    return types.pop() if len(types) == 1 else ("Mixed" if types else None)


def _vector_item(
    *,
    name: str,
    data: pd.DataFrame,
    crs: pyproj.CRS | None,
    path: Path,
    layer: str | None,
    warns: list[str],
    encoding: str | None = None,
    metadata: dict | None = None,
) -> ImportedData:
    if isinstance(data, gpd.GeoDataFrame) and crs is not None:
        if data.crs is None or not data.crs.equals(crs):
            data = data.set_crs(crs, allow_override=True)
    meta = {"geometry_type": _geometry_type(data)}
    meta.update(metadata or {})
    return ImportedData(
        name=sanitize_name(name),
        data=data,
        crs=crs,
        source=f"{path}|layername={layer}" if layer is not None else str(path),
        source_path=path,
        source_layer=layer,
        encoding=encoding,
        warnings=warns,
        metadata=meta,
    )


def _read_ogr(label: str, gdal_path: str, warns: list[str], what: str = "cannot read",
              **kwargs: Any) -> pd.DataFrame:
    import pyogrio

    with _named(label, what), _capture_warnings(warns):
        return pyogrio.read_dataframe(gdal_path, **kwargs)


def _use_arrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------- GeoPackage


def _read_gpkg(path: Path, opts: _Options) -> list[ImportedData]:
    import pyogrio

    with _named(str(path), "cannot open the GeoPackage"), _capture_warnings([]):
        listed = pyogrio.list_layers(str(path))
    names = [str(row[0]) for row in listed]
    if not names:
        raise DataImportError(f"{path} holds no vector layers or tables")
    if opts.layer is not None:
        if opts.layer in names:
            chosen = [opts.layer]
        else:
            folded = [n for n in names if n.casefold() == opts.layer.casefold()]
            if len(folded) != 1:
                raise DataImportError(
                    f"{path} has no layer {opts.layer!r}; its layers are: {', '.join(names)}"
                )
            chosen = folded
    else:
        chosen = names
    has_geometry = {str(row[0]): row[1] is not None for row in listed}

    items = []
    for i, name in enumerate(chosen):
        opts.feedback.check()
        label = f"{path} (layer {name!r})"
        warns: list[str] = []
        data = _read_ogr(label, str(path), warns, layer=name, use_arrow=_use_arrow())
        if has_geometry[name] and isinstance(data, gpd.GeoDataFrame):
            crs = _resolve_crs(data.crs, opts.crs, label, "has no CRS", warns)
            data = _finish_vector(data, label, warns)
        else:
            crs = None
            data = _finish_vector(pd.DataFrame(data), label, warns, what="rows")
        items.append(_vector_item(name=name, data=data, crs=crs, path=path, layer=name,
                                  warns=warns))
        opts.feedback.set_progress(100.0 * (i + 1) / len(chosen))
    return items


# --------------------------------------------------------------------------- GeoJSON


def _read_geojson(path: Path, opts: _Options) -> list[ImportedData]:
    opts.feedback.check()
    label = str(path)
    warns: list[str] = []
    data = _read_ogr(label, str(path), warns, "not a readable GeoJSON file",
                     use_arrow=_use_arrow())
    if not isinstance(data, gpd.GeoDataFrame):
        raise DataImportError(f"{path}: not a GeoJSON file with geometries")
    # RFC 7946: WGS 84 longitude/latitude unless a (legacy) crs member says otherwise.
    declared = data.crs if data.crs is not None else pyproj.CRS.from_epsg(4326)
    crs = _resolve_crs(declared, opts.crs, label, "has no CRS", warns)
    data = _finish_vector(data, label, warns)
    return [_vector_item(name=path.stem, data=data, crs=crs, path=path, layer=None, warns=warns)]


# --------------------------------------------------------------------------- text encodings


def _decodes(raw: bytes, codec: str) -> bool:
    """Whether ``raw`` decodes, allowing an incomplete character at the end."""
    try:
        codecs.getincrementaldecoder(codec)().decode(raw, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _gb2312_share(samples: Sequence[bytes]) -> float:
    """Share of the non-ASCII characters of a GB18030 decode that lie in GB2312."""
    total = common = 0
    for raw in samples:
        text = codecs.getincrementaldecoder("gb18030")().decode(raw, final=False)
        for ch in text:
            if ord(ch) < 128:
                continue
            total += 1
            try:
                ch.encode("gb2312")
            except UnicodeEncodeError:
                continue
            common += 1
    return common / total if total else 0.0


def _classify_encoding(samples: Sequence[bytes]) -> tuple[str, str]:
    """Guess the codec of non-ASCII byte strings.

    Returns ``(codec, how)``, ``how`` being ``"ascii"``, ``"utf-8"``,
    ``"gb18030"``, ``"guessed"`` or ``"fallback"``.
    """
    if not samples:
        return "utf-8", "ascii"
    if all(_decodes(s, "utf-8") for s in samples):
        return "utf-8", "utf-8"
    gb_clean = all(_decodes(s, "gb18030") for s in samples)
    if gb_clean and _gb2312_share(samples) >= 0.8:
        return "gb18030", "gb18030"
    guess = None
    try:
        import charset_normalizer

        best = charset_normalizer.from_bytes(b"\n".join(samples)).best()
        guess = _codec_name(best.encoding) if best is not None else None
    except Exception:  # detection is best effort
        guess = None
    if gb_clean and (guess is None or guess in _CHINESE_CODECS):
        return "gb18030", "gb18030"
    if guess is not None:
        if guess in _CHINESE_CODECS:
            return "gb18030", "guessed"
        return guess, "guessed"
    return "latin-1", "fallback"


def _encoding_warning(codec: str, how: str, what: str) -> str | None:
    if how == "gb18030":
        return f"detected GB18030 {what}"
    if how == "guessed":
        return f"guessed the {what} encoding as {_display_encoding(codec)}; check the text"
    if how == "fallback":
        return (f"could not detect the {what} encoding; read as ISO-8859-1 "
                f"(add a .cpg file or give the encoding)")
    return None


# --------------------------------------------------------------------------- Shapefile


class _ShapefileSource:
    """A shapefile in a folder or inside a zip: sidecar lookup and raw bytes."""

    def __init__(self, label: str, gdal_path: str, stem: str,
                 sidecars: dict[str, Callable[[], IO[bytes]]]) -> None:
        self.label = label
        self.gdal_path = gdal_path
        self.stem = stem
        self.sidecars = sidecars  # ".dbf" -> opener

    def has(self, ext: str) -> bool:
        return ext in self.sidecars

    def open(self, ext: str) -> IO[bytes]:
        return self.sidecars[ext]()


def _folder_shapefile(path: Path) -> _ShapefileSource:
    by_ext: dict[str, Callable[[], IO[bytes]]] = {}
    stem = path.stem
    for sibling in path.parent.iterdir():
        if sibling.stem == stem and sibling.is_file():
            ext = sibling.suffix.lower()
            if ext not in by_ext or sibling.suffix == ext:
                by_ext[ext] = (lambda p=sibling: open(p, "rb"))
    return _ShapefileSource(str(path), str(path), stem, by_ext)


def _read_shapefile(path: Path, opts: _Options) -> list[ImportedData]:
    src = _folder_shapefile(path)
    item = _read_shapefile_source(src, path, None, opts, _Progress(opts.feedback, 0, 100))
    return [item]


def _read_zip(path: Path, opts: _Options) -> list[ImportedData]:
    with _named(str(path), "not a readable zip archive"):
        with zipfile.ZipFile(path) as zf:
            members = [m for m in zf.namelist()
                       if not m.endswith("/") and "__MACOSX" not in m.split("/")]
    shp = [m for m in members if m.lower().endswith(".shp")]
    if not shp:
        raise DataImportError(f"{path}: the zip archive holds no shapefile (.shp)")
    layers = {m: m.rsplit("/", 1)[-1][:-4] for m in shp}
    if opts.layer is not None:
        chosen = [m for m, n in layers.items() if n == opts.layer] or [
            m for m, n in layers.items() if n.casefold() == opts.layer.casefold()
        ]
        if len(chosen) != 1:
            raise DataImportError(
                f"{path} has no layer {opts.layer!r}; its layers are: "
                f"{', '.join(layers.values())}"
            )
    else:
        chosen = shp

    items = []
    for i, member in enumerate(chosen):
        opts.feedback.check()
        folder, _, filename = member.rpartition("/")
        stem = filename[:-4]
        sidecars: dict[str, Callable[[], IO[bytes]]] = {}
        for m in members:
            mfolder, _, mname = m.rpartition("/")
            mstem, dot, mext = mname.rpartition(".")
            if mfolder == folder and dot and mstem == stem:
                ext = "." + mext.lower()
                sidecars.setdefault(ext, _zip_opener(path, m))
        src = _ShapefileSource(
            f"{path} (layer {stem!r})", f"/vsizip/{path.resolve()}/{member}", stem, sidecars
        )
        span = (100.0 * i / len(chosen), 100.0 * (i + 1) / len(chosen))
        items.append(_read_shapefile_source(src, path, stem, opts,
                                            _Progress(opts.feedback, *span)))
    return items


def _zip_opener(path: Path, member: str) -> Callable[[], IO[bytes]]:
    def opener() -> IO[bytes]:
        with zipfile.ZipFile(path) as zf:
            return io.BytesIO(zf.read(member))

    return opener


def _cpg_codec(text: str) -> str | None:
    """The Python codec for a .cpg file's content (ESRI / GDAL conventions)."""
    value = text.strip().strip("\x00").strip()
    if not value:
        return None
    upper = value.upper().replace("ANSI ", "").replace("CP", "").replace(" ", "")
    special = {"UTF8": "utf-8", "UTF-8": "utf-8", "65001": "utf-8", "88591": "latin-1",
               "936": "gb18030", "GBK": "gb18030", "GB2312": "gb18030", "GB18030": "gb18030",
               "54936": "gb18030", "950": "big5", "BIG5": "big5"}
    if upper in special:
        return special[upper]
    if upper.startswith("8859") and upper[4:].isdigit():
        return _codec_name(f"iso8859-{upper[4:]}")
    if upper.isdigit():
        return _codec_name(f"cp{upper}")
    codec = _codec_name(value)
    return "gb18030" if codec in _CHINESE_CODECS else codec


def _dbf_text_samples(fh: IO[bytes], check: Callable[[], None],
                      limit: int = _MAX_TEXT_SAMPLES) -> list[bytes]:
    """Non-ASCII raw values of a .dbf's character fields (and field names)."""
    head = fh.read(32)
    if len(head) < 32:
        raise ValueError("the .dbf header is truncated")
    header_len = int.from_bytes(head[8:10], "little")
    record_len = int.from_bytes(head[10:12], "little")
    if header_len < 33 or record_len < 1:
        raise ValueError("the .dbf header is corrupt")
    descriptors = fh.read(header_len - 32)
    samples: list[bytes] = []
    fields: list[tuple[int, int]] = []
    offset = 1  # the deletion flag
    for i in range(0, len(descriptors) - 31, 32):
        d = descriptors[i:i + 32]
        if d[0] == 0x0D:
            break
        fname = d[:11].split(b"\x00", 1)[0]
        if not fname.isascii():
            samples.append(fname)
        ftype = chr(d[11])
        width = d[16] + (d[17] << 8 if ftype == "C" else 0)
        if ftype == "C" and offset + width <= record_len:
            fields.append((offset, width))
        offset += d[16] + (d[17] << 8 if ftype == "C" else 0)
    if not fields:
        return samples
    per_block = max(1, _BLOCK // record_len)
    while len(samples) < limit:
        check()
        block = fh.read(per_block * record_len)
        usable = len(block) - len(block) % record_len
        if usable <= 0:
            break
        block = block[:usable]
        if block.isascii():
            continue
        records = np.frombuffer(block, dtype=np.uint8).reshape(-1, record_len)
        for start, width in fields:
            cells = records[:, start:start + width]
            for row in np.flatnonzero((cells >= 0x80).any(axis=1)):
                samples.append(cells[row].tobytes().rstrip(b" \x00"))
            if len(samples) >= limit:
                break
    return samples


def _read_shapefile_source(
    src: _ShapefileSource, path: Path, layer: str | None, opts: _Options, progress: _Progress
) -> ImportedData:
    label = src.label
    missing = [ext for ext in (".shx", ".dbf") if not src.has(ext)]
    if missing:
        raise DataImportError(
            f"{label}: the shapefile's {' and '.join(missing)} "
            f"{'file is' if len(missing) == 1 else 'files are'} missing "
            f"(a shapefile needs .shp, .shx and .dbf side by side)"
        )
    if not src.has(".prj") and opts.crs is None:
        raise DataImportError(f"{label} has no .prj; give the CRS with --crs")

    warns: list[str] = []
    # 1. The text encoding: explicit, then .cpg (checked), then detection.
    with _named(label, "cannot read the .dbf file"):
        with src.open(".dbf") as fh:
            samples = _dbf_text_samples(fh, progress.check)
    progress.set(20)
    if opts.encoding is not None:
        codec = opts.encoding
    else:
        cpg_codec = None
        if src.has(".cpg"):
            with _named(label, "cannot read the .cpg file"), src.open(".cpg") as fh:
                cpg_text = fh.read(200).decode("ascii", errors="replace")
            cpg_codec = _cpg_codec(cpg_text)
            if cpg_codec is None:
                warns.append(f"the .cpg names an unknown encoding {cpg_text.strip()!r}; "
                             f"detecting it instead")
        if cpg_codec is not None and all(_decodes(s, cpg_codec) for s in samples):
            codec = cpg_codec
        else:
            codec, how = _classify_encoding(samples)
            if cpg_codec is not None:
                if how in ("guessed", "fallback"):
                    codec = cpg_codec  # detection is no better than the .cpg: honour it
                else:
                    warns.append(
                        f"the .cpg says {_display_encoding(cpg_codec)} but the attributes "
                        f"are {_display_encoding(codec)}; read them as "
                        f"{_display_encoding(codec)}"
                    )
            else:
                note = _encoding_warning(codec, how, "attributes")
                if note:
                    warns.append(note)

    # 2. The features: strings come through Latin-1 untouched, decoded below.
    data = _read_ogr(label, src.gdal_path, warns, encoding="ISO-8859-1", use_arrow=_use_arrow())
    progress.set(70)
    data = _redecode(data, codec, warns)
    if not isinstance(data, gpd.GeoDataFrame):
        raise DataImportError(f"{label}: the shapefile has no geometry")
    crs = _resolve_crs(data.crs, opts.crs, label,
                       "has a .prj that cannot be read" if src.has(".prj") else "has no .prj",
                       warns)
    data = _finish_vector(data, label, warns)
    progress.set(100)
    return _vector_item(name=src.stem, data=data, crs=crs, path=path, layer=layer, warns=warns,
                        encoding=_display_encoding(codec))


def _redecode(data: pd.DataFrame, codec: str, warns: list[str]) -> pd.DataFrame:
    """Re-decode Latin-1 pass-through text (names and values) with ``codec``."""
    if codec in ("latin-1", "iso8859-1"):
        return data
    cut = broken = 0

    def fix(text: str) -> str:
        nonlocal cut, broken
        if text.isascii():
            return text
        value = text.encode("latin-1").decode(codec, errors="replace")
        if "\ufffd" in value:
            head = value.rstrip("\ufffd")
            if "\ufffd" not in head:
                cut += 1  # a fixed-width field cut the last character in half
                return head
            broken += 1
        return value

    geometry = data.geometry.name if isinstance(data, gpd.GeoDataFrame) else None
    renamed = {c: fix(c) for c in data.columns if isinstance(c, str) and c != geometry}
    out = data.copy()
    for column in out.columns:
        if column == geometry:
            continue
        s = out[column]
        if not pd.api.types.is_string_dtype(s.dtype):
            continue
        uniques = pd.unique(s.dropna().to_numpy(dtype=object))
        if not all(isinstance(v, str) for v in uniques):
            continue
        mapping = {v: fix(v) for v in uniques}
        if any(k != v for k, v in mapping.items()):
            out[column] = s.map(mapping)
    out = out.rename(columns=renamed)
    if cut:
        warns.append(f"{_plural(cut, 'text value')} cut mid-character by the .dbf field width; "
                     f"the broken last character was dropped")
    if broken:
        warns.append(f"{_plural(broken, 'text value')} could not be decoded as "
                     f"{_display_encoding(codec)}; undecodable bytes show as \ufffd")
    return out


# --------------------------------------------------------------------------- CSV


def _detect_csv_encoding(path: Path, check: Callable[[], None]) -> tuple[str, str]:
    """(codec, how) of a delimited text file, scanning it block by block."""
    with open(path, "rb") as fh:
        first = fh.read(_BLOCK)
        if first.startswith(codecs.BOM_UTF8):
            return "utf-8-sig", "utf-8"
        if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16", "utf-16"
        if b"\x00" in first:
            raise DataImportError(f"{path} is not a text (CSV) file")
        utf8 = codecs.getincrementaldecoder("utf-8")()
        gb = codecs.getincrementaldecoder("gb18030")()
        utf8_ok = gb_ok = True
        block, ascii_only, sample_block = first, True, b""
        while block:
            check()
            if not block.isascii():
                if ascii_only:
                    sample_block = block
                ascii_only = False
            if utf8_ok:
                try:
                    utf8.decode(block)
                except UnicodeDecodeError:
                    utf8_ok = False
            if gb_ok:
                try:
                    gb.decode(block)
                except UnicodeDecodeError:
                    gb_ok = False
            if not (utf8_ok or gb_ok):
                break
            block = fh.read(_BLOCK)
    if ascii_only:
        return "utf-8", "ascii"
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
            return "utf-8", "utf-8"
        except UnicodeDecodeError:
            pass
    sample = [line for line in sample_block.splitlines() if not line.isascii()][:2000]
    if gb_ok and _gb2312_share(sample) >= 0.8:
        return "gb18030", "gb18030"
    codec, how = _classify_encoding(sample)
    if codec == "utf-8":  # the sample was UTF-8 but the whole file is not
        return ("gb18030", "guessed") if gb_ok else ("latin-1", "fallback")
    return codec, how


def _sniff_delimiter(path: Path, codec: str, default: str) -> str:
    try:
        with open(path, encoding=codec, errors="replace", newline="") as fh:
            head = fh.read(65536)
    except OSError:
        return default
    lines = head.splitlines()
    sample = "\n".join(lines[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return default


def _find_column(columns: Sequence[str], names: Sequence[str]) -> str | None:
    folded = {}
    for c in columns:
        folded.setdefault(str(c).strip().lstrip("\ufeff").casefold(), c)
    for n in names:
        if n.casefold() in folded:
            return folded[n.casefold()]
    return None


def _line_of_row(path: Path, codec: str, sep: str, row: int) -> int | None:
    """The 1-based line in the file where data row ``row`` (1-based) starts."""
    try:
        with open(path, encoding=codec, newline="") as fh:
            reader = csv.reader(fh, delimiter=sep)
            prev_end, seen_header, count = 0, False, 0
            for record in reader:
                start = prev_end + 1
                prev_end = reader.line_num
                if not record or all(not f.strip() for f in record) and len(record) == 1:
                    continue
                if not seen_header:
                    seen_header = True
                    continue
                count += 1
                if count == row:
                    return start
    except (OSError, UnicodeError, csv.Error):
        return None
    return None


def _where(path: Path, codec: str, sep: str, row: int, column: str) -> str:
    line = _line_of_row(path, codec, sep, row)
    at = f"row {row}" + (f" (line {line})" if line is not None else "")
    return f"{path}, {at}, column {column!r}"


def _coordinates(
    chunk: pd.DataFrame, column: str, first_row: int, path: Path, codec: str, sep: str
) -> np.ndarray:
    """Parse one coordinate column of a chunk, or name the first bad cell."""
    stripped = chunk[column].astype("str").str.strip()
    stripped = stripped.mask(stripped == "")
    values = pd.to_numeric(stripped, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = int(bad[0])
        cell = stripped.iloc[i]
        row = first_row + i
        if pd.isna(cell):
            problem = "the coordinate is empty"
        else:
            problem = f"{cell!r} is not a number"
        more = f" ({bad.size - 1} more bad values in this part of the file)" if bad.size > 1 else ""
        raise DataImportError(f"{_where(path, codec, sep, row, column)}: {problem}{more}")
    return values


def _infer_numeric(df: pd.DataFrame, skip: set[str]) -> pd.DataFrame:
    """Turn all-numeric text columns into numbers, keeping codes with leading zeros."""
    for column in df.columns:
        if column in skip:
            continue
        if not pd.api.types.is_string_dtype(df[column].dtype):
            continue
        stripped = df[column].str.strip()
        present = stripped.notna()
        nonnull = stripped[present]
        if nonnull.empty or pd.to_numeric(nonnull.head(1000), errors="coerce").isna().any():
            continue  # text: decided on the first values, cheaply
        numbers = pd.to_numeric(stripped, errors="coerce")
        if numbers[present].isna().any():
            continue
        if nonnull.str.match(r"^[+-]?0\d").any():
            continue  # codes such as "0101" keep their zeros
        if nonnull.str.len().max() > 15 and nonnull.str.count(r"\d").max() > 15:
            continue  # long identifiers would lose digits as numbers
        df[column] = numbers
    return df


def _read_csv(path: Path, opts: _Options) -> list[ImportedData]:
    fb = opts.feedback
    label = str(path)
    warns: list[str] = []
    if opts.encoding is not None:
        codec, how = opts.encoding, "given"
        if codec == "utf-8":
            with open(path, "rb") as fh:
                if fh.read(3) == codecs.BOM_UTF8:
                    codec = "utf-8-sig"
    else:
        with _named(label):
            codec, how = _detect_csv_encoding(path, fb.check)
        note = _encoding_warning(codec, how, "text")
        if note:
            warns.append(note)
    fb.set_progress(5)
    sep = _sniff_delimiter(path, codec, "\t" if path.suffix.lower() == ".txt" else ",")

    size = max(1, path.stat().st_size)
    chunks: list[pd.DataFrame] = []
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    xcol = ycol = None
    lonlat_names = False
    rows_done = 0
    try:
        with open(path, "rb") as fh:
            reader = pd.read_csv(fh, sep=sep, encoding=codec, dtype=str, chunksize=CSV_CHUNK_ROWS,
                                 skip_blank_lines=True)
            with reader:
                for chunk in reader:
                    fb.check()
                    if xcol is None and not chunks:
                        xcol, ycol, lonlat_names = _csv_columns(list(chunk.columns), opts, path)
                    if xcol is not None:
                        xs.append(_coordinates(chunk, xcol, rows_done + 1, path, codec, sep))
                        ys.append(_coordinates(chunk, ycol, rows_done + 1, path, codec, sep))
                    rows_done += len(chunk)
                    chunks.append(chunk)
                    fb.set_progress(5 + 85 * min(1.0, fh.tell() / size))
    except CityFrameError:
        raise
    except pd.errors.EmptyDataError as exc:
        raise DataImportError(f"{path} is empty") from exc
    except UnicodeDecodeError as exc:
        raise DataImportError(
            f"{path}: the text is not valid {_display_encoding(codec)} ({exc.reason}); "
            f"save it as UTF-8 or give its encoding"
        ) from exc
    except Exception as exc:
        raise DataImportError(f"{path}: cannot read the CSV: {_exc_text(exc)}") from exc

    if not chunks:
        raise DataImportError(f"{path} is empty")
    df = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0].reset_index(
        drop=True)
    if xcol is None:
        warns.append("no longitude/latitude or x/y columns found; imported as a table "
                     "without geometry (give --x COL --y COL to make points)")
        df = _infer_numeric(df, set())
        df = _finish_vector(df, label, warns, what="rows")
        item = _vector_item(name=path.stem, data=df, crs=None, path=path, layer=None,
                            warns=warns, encoding=_display_encoding(codec),
                            metadata={"delimiter": sep})
        return [item]

    xv = np.concatenate(xs) if xs else np.empty(0)
    yv = np.concatenate(ys) if ys else np.empty(0)
    if len(df) == 0:
        raise DataImportError(f"{path} has no features (only a header)")
    crs = _csv_crs(xv, yv, xcol, ycol, lonlat_names, opts, path, warns)
    explicit = opts.x is not None
    if crs.is_geographic:
        _check_lonlat(xv, yv, xcol, ycol, explicit, path, codec, sep)
    if opts.extent is not None and not explicit:
        _check_extent(xv, yv, xcol, ycol, crs, opts.extent, path)
    fb.set_progress(95)
    df = _infer_numeric(df, {xcol, ycol})
    df[xcol] = xv
    df[ycol] = yv
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(xv, yv), crs=crs)
    gdf = _finish_vector(gdf, label, warns)
    return [_vector_item(name=path.stem, data=gdf, crs=crs, path=path, layer=None, warns=warns,
                         encoding=_display_encoding(codec),
                         metadata={"x": xcol, "y": ycol, "delimiter": sep})]


def _csv_columns(
    columns: list[str], opts: _Options, path: Path
) -> tuple[str | None, str | None, bool]:
    """(x column, y column, whether they are lon/lat names)."""
    shown = ", ".join(repr(c) for c in columns)
    if opts.x is not None:
        for given in (opts.x, opts.y):
            if given not in columns:
                raise DataImportError(f"{path} has no column {given!r}; its columns are: {shown}")
        return opts.x, opts.y, False
    lon, lat = _find_column(columns, LON_NAMES), _find_column(columns, LAT_NAMES)
    if lon is not None and lat is not None:
        return lon, lat, True
    xc, yc = _find_column(columns, _X_NAMES), _find_column(columns, _Y_NAMES)
    if xc is not None and yc is not None and lon is None and lat is None:
        return xc, yc, False
    found = [c for c in (lon, lat, xc, yc) if c is not None]
    if found:
        raise DataImportError(
            f"{path}: found the coordinate column {found[0]!r} but not its partner; "
            f"its columns are: {shown}; give them with --x COL --y COL"
        )
    return None, None, False


def _csv_crs(xv: np.ndarray, yv: np.ndarray, xcol: str, ycol: str, lonlat_names: bool,
             opts: _Options, path: Path, warns: list[str]) -> pyproj.CRS:
    if opts.crs is not None:
        return opts.crs
    if lonlat_names:
        return pyproj.CRS.from_epsg(4326)
    if (np.abs(xv) <= 180).all() and (np.abs(yv) <= 90).all():
        warns.append(f"the columns {xcol!r}/{ycol!r} hold longitude/latitude-like values; "
                     f"assumed EPSG:4326 (WGS 84) — give --crs if that is wrong")
        return pyproj.CRS.from_epsg(4326)
    raise DataImportError(
        f"{path}: the coordinates in {xcol!r}/{ycol!r} are not longitude/latitude and the "
        f"file has no CRS; give the CRS with --crs"
    )


def _check_lonlat(xv: np.ndarray, yv: np.ndarray, xcol: str, ycol: str, explicit: bool,
                  path: Path, codec: str, sep: str) -> None:
    """Refuse swapped or out-of-range geographic coordinates."""
    lat_bad = np.flatnonzero(np.abs(yv) > 90)
    lon_bad = np.flatnonzero(np.abs(xv) > 180)
    if (not explicit and lat_bad.size and (np.abs(xv) <= 90).all()
            and (np.abs(yv) <= 180).all()):
        i = int(lat_bad[0])
        raise DataImportError(
            f"{path}: the columns {ycol!r} and {xcol!r} look swapped: {ycol!r} (latitude) has "
            f"values outside [-90, 90] (e.g. {yv[i]:g} in row {i + 1}) while every value in "
            f"{xcol!r} is a valid latitude. If {ycol!r} holds the longitudes, give the columns "
            f"explicitly: --x {ycol} --y {xcol}"
        )
    for bad, values, column, limit in ((lon_bad, xv, xcol, 180), (lat_bad, yv, ycol, 90)):
        if bad.size:
            i = int(bad[0])
            raise DataImportError(
                f"{_where(path, codec, sep, i + 1, column)}: {values[i]:g} is outside "
                f"[-{limit}, {limit}] for longitude/latitude ({bad.size} such rows); if these "
                f"are projected coordinates give the CRS with --crs, or set the columns with "
                f"--x COL --y COL"
            )


def _check_extent(xv: np.ndarray, yv: np.ndarray, xcol: str, ycol: str, crs: pyproj.CRS,
                  extent: tuple[float, float, float, float], path: Path) -> None:
    """Refuse points that fit the workspace extent only when x and y are swapped."""
    n = len(xv)
    if n == 0:
        return
    step = max(1, n // 10_000)
    xs, ys = xv[::step], yv[::step]
    if crs.is_geographic:
        given, swapped = (xs, ys), (ys, xs)
    else:
        to_ll = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
        with np.errstate(all="ignore"):
            given = to_ll.transform(xs, ys, errcheck=False)
            swapped = to_ll.transform(ys, xs, errcheck=False)
    minx, miny, maxx, maxy = extent

    def inside(lon: np.ndarray, lat: np.ndarray) -> int:
        lon, lat = np.asarray(lon), np.asarray(lat)
        return int(((lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)).sum())

    m = len(xs)
    as_given, when_swapped = inside(*given), inside(*swapped)
    if when_swapped * 2 > m and as_given * 2 <= m:
        raise DataImportError(
            f"{path}: the columns {xcol!r} and {ycol!r} look swapped: {as_given} of {m} points "
            f"lie inside the workspace extent as given, {when_swapped} when {xcol!r} and "
            f"{ycol!r} are exchanged. Give the columns explicitly: --x {ycol} --y {xcol} "
            f"(or --x {xcol} --y {ycol} to keep them as they are)"
        )


# --------------------------------------------------------------------------- GeoTIFF


def _read_raster(path: Path, opts: _Options) -> list[ImportedData]:
    import rasterio
    from rasterio.windows import Window

    opts.feedback.check()
    label = str(path)
    warns: list[str] = []
    with _named(label, "not a readable GeoTIFF"), _capture_warnings([]):
        with rasterio.open(path) as ds:
            declared = ds.crs.to_wkt() if ds.crs is not None else None
            georeferenced = not ds.transform.is_identity
            meta = {
                "driver": ds.driver,
                "width": ds.width,
                "height": ds.height,
                "count": ds.count,
                "dtypes": list(ds.dtypes),
                "nodata": ds.nodata,
                "bounds": tuple(ds.bounds),
                "res": tuple(ds.res),
                "transform": tuple(ds.transform)[:6],
            }
            # Touch the first block so a truncated or corrupt file fails now.
            ds.read(1, window=Window(0, 0, min(ds.width, 256), min(ds.height, 256)))
    opts.feedback.set_progress(50)
    if not georeferenced:
        raise DataImportError(
            f"{path} has no georeferencing (no geotransform; ground control points alone "
            f"are not supported, warp the raster first)"
        )
    crs = _resolve_crs(declared, opts.crs, label, "has no CRS", warns)
    return [ImportedData(
        name=sanitize_name(path.stem),
        data=None,
        crs=crs,
        source=str(path),
        source_path=path,
        raster_path=path.resolve(),
        warnings=warns,
        metadata=meta,
    )]


_READERS: dict[str, Callable[[Path, _Options], list[ImportedData]]] = {
    ".gpkg": _read_gpkg,
    ".shp": _read_shapefile,
    ".zip": _read_zip,
    ".geojson": _read_geojson,
    ".json": _read_geojson,
    ".csv": _read_csv,
    ".txt": _read_csv,
    ".tif": _read_raster,
    ".tiff": _read_raster,
}
