"""Layer metadata: department, bilingual title, classification, source, dates, CRS."""

from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass, field, replace

from spatial.schema import CLASSIFICATIONS

__all__ = ["LayerMetadata"]


@dataclass(frozen=True)
class LayerMetadata:
    """What a department says about one layer.

    Parameters
    ----------
    department : str
        Department code (see :data:`spatial.schema.DEPARTMENTS`); free text allowed.
    title_en, title_zh : str
        The layer's title in English and Chinese.
    classification : {"public", "internal", "restricted"}
    source : str
        Where the data came from (agency, file, licence).
    updated : str
        ISO date of the data's last update.
    crs : str
        The layer's CRS as an authority string or WKT (informational; the
        data itself carries its CRS).
    extra : dict
        Free-form additional fields, kept through save and load.

    Examples
    --------
    >>> m = LayerMetadata(department="education", title_en="Schools", title_zh="学校")
    >>> LayerMetadata.from_dict(m.to_dict()) == m
    True
    >>> m.title("zh")
    '学校'
    """

    department: str = "framework"
    title_en: str = ""
    title_zh: str = ""
    classification: str = "internal"
    source: str = ""
    updated: str = field(default_factory=lambda: _dt.date.today().isoformat())
    crs: str = ""
    extra: dict = field(default_factory=dict, hash=False, compare=True)

    def __post_init__(self) -> None:
        if self.classification not in CLASSIFICATIONS:
            raise ValueError(
                f"classification must be one of {', '.join(CLASSIFICATIONS)}, "
                f"got {self.classification!r}"
            )

    def title(self, lang: str = "en") -> str:
        """The title in ``lang`` ("zh" or "en"), falling back to the other one."""
        if lang.startswith("zh"):
            return self.title_zh or self.title_en
        return self.title_en or self.title_zh

    def with_(self, **changes) -> "LayerMetadata":
        """A copy with some fields changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "LayerMetadata":
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        rest = {k: v for k, v in d.items() if k not in cls.__dataclass_fields__}
        if rest:
            known["extra"] = {**known.get("extra", {}), **rest}
        return cls(**known)
