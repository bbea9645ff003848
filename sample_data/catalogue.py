"""The bundled sample cities: what they are, where their files are, how to rebuild them.

Examples
--------
>>> [s.id for s in SAMPLES][:2]
['small', 'district']
>>> sample_path("small").name
'small.gpkg'
"""

from __future__ import annotations

import hashlib
import lzma
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Sample", "SAMPLES", "CITIES_DIR", "cache_dir", "is_bundled", "get_sample", "sample_path", "rebuild"]

CITIES_DIR = Path(__file__).resolve().parent / "cities"

_SYNTHETIC_LICENCE = (
    "Synthetic, fictional data made by CityFrame's sample generator "
    "(sample_data/generator.py, seed {seed}); no real persons, companies, addresses or "
    "codes. Free to use, copy and change: CC0 1.0 (public domain dedication)."
)


@dataclass(frozen=True)
class Sample:
    """One bundled sample workspace.

    ``seed``, ``city_zh`` and ``buildings`` are the generator arguments for the
    synthetic samples (``seed`` is ``None`` for real-data samples).
    """

    id: str
    name_en: str
    name_zh: str
    description_en: str
    description_zh: str
    path: Path
    buildings: int
    licence: str
    seed: int | None = None
    city_zh: str | None = None
    #: One line for the welcome screen, in English and Chinese.
    tagline_en: str = ""
    tagline_zh: str = ""
    #: The bundled file is ``<path>.xz`` (kept small in the repository); it is
    #: unpacked once into the user's cache by :func:`sample_path`.
    packed: bool = False

    @property
    def bundle(self) -> Path:
        """The file as shipped in the repository."""
        return self.path.with_name(self.path.name + ".xz") if self.packed else self.path

    @property
    def raster_files(self) -> list[Path]:
        """GeoTIFFs shipped beside the workspace (referenced relative to it)."""
        return sorted(self.path.parent.glob(f"{self.path.stem}_*.tif"))

    @property
    def exists(self) -> bool:
        """Whether the bundled file is present."""
        return self.bundle.is_file()


SAMPLES: list[Sample] = [
    Sample(
        id="small",
        name_en="Jiangcheng Riverside",
        name_zh="江城滨江",
        description_en=(
            "A small fictional riverside city (about 3 x 2.4 km, 5,000 buildings, "
            "about 90,000 residents) with every framework layer, some 30 department "
            "overlays and a flood-depth raster; quick to open, for classes and exercises."
        ),
        description_zh=(
            "虚构的小型滨江城市(约3×2.4公里,5000栋建筑,约9万居民),包含全部基础框架图层、"
            "约30个部门专题图层和洪水淹没水深栅格;打开迅速,适合课堂教学与练习。"
        ),
        path=CITIES_DIR / "small.gpkg",
        buildings=5000,
        licence=_SYNTHETIC_LICENCE.format(seed=1),
        seed=1,
        city_zh="江城",
        tagline_en="A small riverside city for classes: every framework layer, 30 overlays.",
        tagline_zh="小型滨江城市，适合课堂：全部基础框架图层和 30 个部门专题图层。",
    ),
    Sample(
        id="district",
        name_en="Qinghu New District",
        name_zh="青湖新区",
        description_en=(
            "A fictional city district on a river and its tributary (about 10 x 7.5 km, "
            "50,000 buildings, about a million residents, 7 administrative districts) "
            "for planning analyses and drills at realistic scale."
        ),
        description_zh=(
            "虚构的城市片区,一江一河穿城(约10×7.5公里,5万栋建筑,约百万居民,7个行政区),"
            "用于真实规模下的规划分析与应急演练。"
        ),
        path=CITIES_DIR / "district.gpkg",
        buildings=50000,
        licence=_SYNTHETIC_LICENCE.format(seed=2),
        seed=2,
        city_zh="青湖",
        packed=True,
        tagline_en="A district of a million residents for analyses and drills at scale.",
        tagline_zh="百万人口的城市片区，用于真实规模的分析与演练。",
    ),
    Sample(
        id="shanghai",
        name_en="Shanghai: the Bund and Lujiazui",
        name_zh="上海：外滩与陆家嘴",
        description_en=(
            "Real OpenStreetMap data of the Bund and Lujiazui (about 3.9 x 2.7 km, 1,321 "
            "buildings, roads, schools, hospitals, police, bus stops, water); population, "
            "communities and company codes are modelled. Data © OpenStreetMap contributors."
        ),
        description_zh=(
            "外滩与陆家嘴的真实 OpenStreetMap 数据(约3.9×2.7公里,1321栋建筑,以及道路、学校、医院、"
            "公安、公交站、水系);人口、社区和统一社会信用代码为模型估算或合成。"
            "数据 © OpenStreetMap 贡献者。"
        ),
        path=CITIES_DIR / "shanghai.gpkg",
        buildings=1321,
        licence=(
            "© OpenStreetMap contributors, Open Database License (ODbL) 1.0, "
            "https://www.openstreetmap.org/copyright; vector tiles by Nextzen/Tilezen. "
            "Built by sample_data/shanghai.py from shared/data/shanghai (see its SOURCE.md)."
        ),
        tagline_en="Real OpenStreetMap data of the Bund and Lujiazui.",
        tagline_zh="外滩与陆家嘴的真实 OpenStreetMap 数据。",
    ),
]


def get_sample(sample_id: str) -> Sample:
    """The catalogue entry ``sample_id`` (``KeyError`` naming the known ids)."""
    for s in SAMPLES:
        if s.id == sample_id:
            return s
    raise KeyError(f"no sample called {sample_id!r}; known samples: "
                   f"{', '.join(s.id for s in SAMPLES)}")


def cache_dir() -> Path:
    """Where packed samples are unpacked: ``$CITYFRAME_CACHE`` or ``~/.cache/cityframe``."""
    base = os.environ.get("CITYFRAME_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "cityframe")
    return Path(base) / "samples"


def is_bundled(path) -> bool:
    """Whether ``path`` is a bundled sample (or its unpacked copy): open those read-only."""
    p = Path(path).resolve()
    return any(root.resolve() in p.parents for root in (CITIES_DIR, cache_dir()))


def sample_path(sample_id: str) -> Path:
    """Path of a ready-to-open workspace file of sample ``sample_id``.

    A packed sample is unpacked (once, atomically) into :func:`cache_dir`, with
    its rasters copied beside it; a corrupt or stale copy is replaced.
    """
    s = get_sample(sample_id)
    if not s.packed:
        return s.path
    if not s.bundle.is_file():
        raise FileNotFoundError(f"{s.bundle}: the bundled sample {sample_id!r} is missing")
    digest = hashlib.sha256(s.bundle.read_bytes()).hexdigest()[:12]
    folder = cache_dir() / f"{s.id}-{digest}"
    target = folder / s.path.name
    if target.is_file() and all((folder / r.name).is_file() for r in s.raster_files):
        return target
    folder.mkdir(parents=True, exist_ok=True)
    for raster in s.raster_files:
        tmp = folder / f".{raster.name}.{os.getpid()}.tmp"
        shutil.copyfile(raster, tmp)
        os.replace(tmp, folder / raster.name)
    tmp = folder / f".{s.path.name}.{os.getpid()}.tmp"
    try:
        with lzma.open(s.bundle, "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def rebuild(sample_id: str, feedback=None) -> Path:
    """Regenerate a synthetic sample's files in place (GeoPackage and GeoTIFF)."""
    from .generator import build_sample

    s = get_sample(sample_id)
    if s.seed is None:
        raise ValueError(f"sample {sample_id!r} is real data and cannot be regenerated")
    s.path.parent.mkdir(parents=True, exist_ok=True)
    build_sample(s.buildings, s.seed, s.path, feedback, name_en=s.name_en, name_zh=s.name_zh,
                 city_zh=s.city_zh)
    if s.packed:
        with open(s.path, "rb") as src, lzma.open(s.bundle, "wb", preset=9) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        s.path.unlink()
    return s.bundle
