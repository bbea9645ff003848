"""What CityFrame remembers between sessions (QSettings): window layout,
recent workspaces, language and the last map CRS."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

__all__ = ["Settings", "MAX_RECENT"]

MAX_RECENT = 10


class Settings:
    """Typed access to the application's QSettings (pass one in tests)."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings or QSettings("CityFrame", "CityFrame")

    # language -------------------------------------------------------------
    @property
    def language(self) -> str | None:
        value = self.q.value("ui/language")
        return value if value in ("zh", "en") else None

    @language.setter
    def language(self, value: str) -> None:
        if value not in ("zh", "en"):
            raise ValueError(f"language must be 'zh' or 'en', got {value!r}")
        self.q.setValue("ui/language", value)

    # recent workspaces -----------------------------------------------------
    def recent(self) -> list[str]:
        value = self.q.value("workspaces/recent") or []
        if isinstance(value, str):
            value = [value]
        return [p for p in value if p]

    def add_recent(self, path) -> list[str]:
        path = str(Path(path).absolute())
        items = [path, *[p for p in self.recent() if p != path]][:MAX_RECENT]
        self.q.setValue("workspaces/recent", items)
        return items

    def forget_recent(self, path) -> None:
        self.q.setValue("workspaces/recent", [p for p in self.recent() if p != str(path)])

    # window ------------------------------------------------------------------
    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self.q.setValue("window/geometry", geometry)
        self.q.setValue("window/state", state)

    def window(self) -> tuple[QByteArray | None, QByteArray | None]:
        return self.q.value("window/geometry"), self.q.value("window/state")

    # map ---------------------------------------------------------------------
    @property
    def map_crs(self) -> str | None:
        return self.q.value("map/crs") or None

    @map_crs.setter
    def map_crs(self, value: str) -> None:
        self.q.setValue("map/crs", value)

    def sync(self) -> None:
        self.q.sync()
