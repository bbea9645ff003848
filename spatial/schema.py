"""The unified framework schema (DESIGN.md, "The unified framework").

Column names here are fixed: queries, drills, tests and exercises rely on them.
Extra columns are always allowed.  ``kind`` is one of ``"int"``, ``"float"``,
``"str"`` (text) or ``"number"`` (int or float).

Department overlays are free-form, but the bundled sample cities and the
example queries use the columns in :data:`OVERLAY_SCHEMAS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Column",
    "LayerSchema",
    "FRAMEWORK",
    "OVERLAY_SCHEMAS",
    "BUILDING_USES",
    "CLASSIFICATIONS",
    "DEPARTMENTS",
    "key_column",
]

BUILDING_USES = ("residential", "commercial", "industrial", "public", "mixed")
CLASSIFICATIONS = ("public", "internal", "restricted")

#: Department codes with their bilingual names.
DEPARTMENTS: dict[str, dict[str, str]] = {
    "framework": {"en": "Unified framework", "zh": "基础框架"},
    "planning": {"en": "Planning & natural resources", "zh": "规划和自然资源"},
    "police": {"en": "Public security", "zh": "公安"},
    "education": {"en": "Education", "zh": "教育"},
    "health": {"en": "Health", "zh": "卫生健康"},
    "civil_affairs": {"en": "Civil affairs", "zh": "民政"},
    "environment": {"en": "Ecology & environment", "zh": "生态环境"},
    "emergency": {"en": "Emergency management", "zh": "应急管理"},
    "fire": {"en": "Fire & rescue", "zh": "消防救援"},
    "transport": {"en": "Transport", "zh": "交通运输"},
    "water": {"en": "Water resources", "zh": "水务"},
    "market": {"en": "Market regulation", "zh": "市场监管"},
    "imported": {"en": "Imported data", "zh": "导入数据"},
    "results": {"en": "Query results", "zh": "查询结果"},
}


@dataclass(frozen=True)
class Column:
    """One required column: its name and value kind."""

    name: str
    kind: str  # "int" | "float" | "number" | "str"
    nullable: bool = True


@dataclass(frozen=True)
class LayerSchema:
    """Required columns and geometry type of one layer.

    ``geometry`` is ``"Polygon"``, ``"LineString"``, ``"Point"`` (multi-part
    variants allowed) or ``None`` for a plain table.
    """

    name: str
    geometry: str | None
    key: str | None
    columns: tuple[Column, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


FRAMEWORK: dict[str, LayerSchema] = {
    s.name: s
    for s in (
        LayerSchema(
            "buildings", "Polygon", "building_id",
            (
                Column("building_id", "str", nullable=False),
                Column("use", "str"),
                Column("floors", "int"),
                Column("height_m", "number"),
                Column("year_built", "int"),
                Column("address", "str"),
                Column("community_id", "str"),
            ),
        ),
        LayerSchema(
            "population", None, "building_id",
            (
                Column("building_id", "str", nullable=False),
                Column("residents", "int"),
                Column("age_0_14", "int"),
                Column("age_15_64", "int"),
                Column("age_65_plus", "int"),
            ),
        ),
        LayerSchema(
            "legal_entities", "Point", "uscc",
            (
                Column("uscc", "str", nullable=False),
                Column("name", "str"),
                Column("industry", "str"),
                Column("employees", "int"),
                Column("building_id", "str"),
                Column("hazard_class", "str"),
            ),
        ),
        LayerSchema(
            "communities", "Polygon", "community_id",
            (
                Column("community_id", "str", nullable=False),
                Column("name", "str"),
                Column("district", "str"),
            ),
        ),
        LayerSchema(
            "roads", "LineString", "road_id",
            (
                Column("road_id", "str", nullable=False),
                Column("name", "str"),
                Column("class", "str"),
            ),
        ),
    )
}

#: Columns the bundled overlays carry (not enforced on user overlays).
OVERLAY_SCHEMAS: dict[str, dict] = {
    "districts": {"department": "planning", "geometry": "Polygon",
                  "columns": ["district_id", "name", "name_en"]},
    "land_use": {"department": "planning", "geometry": "Polygon",
                 "columns": ["zone_id", "zone", "block_id"]},
    "river": {"department": "water", "geometry": "Polygon", "columns": ["river_id", "name"]},
    "schools": {"department": "education", "geometry": "Point",
                "columns": ["school_id", "name", "level", "pupils", "building_id"]},
    "hospitals": {"department": "health", "geometry": "Point",
                  "columns": ["hospital_id", "name", "grade", "beds", "building_id"]},
    "elderly_care": {"department": "civil_affairs", "geometry": "Point",
                     "columns": ["home_id", "name", "beds", "building_id"]},
    "police_stations": {"department": "police", "geometry": "Point",
                        "columns": ["station_id", "name", "officers"]},
    "police_precincts": {"department": "police", "geometry": "Polygon",
                         "columns": ["precinct_id", "name", "station_id"]},
    "fire_stations": {"department": "fire", "geometry": "Point",
                      "columns": ["station_id", "name", "engines"]},
    "shelters": {"department": "emergency", "geometry": "Point",
                 "columns": ["shelter_id", "name", "capacity", "kind"]},
    "pollution_sources": {"department": "environment", "geometry": "Point",
                          "columns": ["source_id", "name", "pollutant", "uscc"]},
    "bus_stops": {"department": "transport", "geometry": "Point",
                  "columns": ["stop_id", "name", "lines"]},
    "flood_zones": {"department": "water", "geometry": "Polygon",
                    "columns": ["zone_id", "depth_class", "depth_min_m", "depth_max_m"]},
}


def key_column(layer_name: str, columns) -> str | None:
    """The key (id) column of a layer, per DESIGN.md.

    Framework layers have fixed keys; an overlay's key is its first column
    whose name ends in ``_id``.

    Examples
    --------
    >>> key_column("legal_entities", ["name", "uscc"])
    'uscc'
    >>> key_column("schools", ["name", "school_id", "building_id"])
    'school_id'
    """
    schema = FRAMEWORK.get(layer_name)
    if schema is not None:
        return schema.key
    for c in columns:
        if str(c).endswith("_id"):
            return str(c)
    return None
