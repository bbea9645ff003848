"""Minimum needs of displaced people: an editable profile turned into quantities.

Issue 5, item 4.  A :class:`NeedsProfile` lists what one displaced person needs
(per day, or once for the stay); :func:`needs_for` multiplies it out for the
displaced residents of a drill.  :data:`DEFAULT_NEEDS` follows the Sphere
Handbook (2018) where Sphere gives a number, and says plainly which figures are
CityFrame's planning assumptions instead.  A scenario may edit the profile
under its ``"needs"`` key (:func:`profile_from_dict`).

Examples
--------
>>> rows = needs_for(1000, DEFAULT_NEEDS, days=3)
>>> [(r["key"], r["quantity"], r["unit_en"]) for r in rows][:3]
[('water_drinking', 9000.0, 'L'), ('water_domestic', 36000.0, 'L'), ('food_energy', 6300000.0, 'kcal')]
>>> next(r["quantity"] for r in rows if r["key"] == "toilets")
50
>>> edited = profile_from_dict({"overrides": {"water_drinking": 4}})
>>> needs_for(10, edited)[0]["quantity"]
40.0
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from ..errors import CityFrameError

__all__ = [
    "DEFAULT_NEEDS",
    "SPHERE_2018",
    "NeedItem",
    "NeedsError",
    "NeedsProfile",
    "needs_for",
    "profile_from_dict",
    "profile_to_dict",
]

SPHERE_2018 = ("Sphere Association, The Sphere Handbook: Humanitarian Charter and Minimum "
               "Standards in Humanitarian Response, fourth edition, Geneva, 2018")


class NeedsError(CityFrameError, ValueError):
    """A needs profile is wrong.  ``key`` is the JSON path (e.g.
    ``needs.items[2].per_person_per_day``), ``reason`` says what is wrong."""

    def __init__(self, key: str, reason: str):
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}" if key else reason)


@dataclass(frozen=True)
class NeedItem:
    """One need of one displaced person.

    Attributes
    ----------
    key : str
        Identifier, e.g. ``"water_drinking"``.
    name_en, name_zh, unit_en, unit_zh : str
        Bilingual name and unit.
    per_person_per_day : float
        The rate per person: per day when ``per_day`` is True, else once for the
        stay (toilets, blankets, floor area).
    per_day : bool
        Whether the quantity grows with the number of days.
    discrete : bool
        Whole pieces (kits, toilets): quantities are rounded up.
    source : str
        Where the number comes from, or that it is an assumption.
    """

    key: str
    name_en: str
    name_zh: str
    unit_en: str
    unit_zh: str
    per_person_per_day: float
    per_day: bool = True
    discrete: bool = False
    source: str = ""


@dataclass(frozen=True)
class NeedsProfile:
    """An ordered set of :class:`NeedItem` and the source of its numbers.

    Attributes
    ----------
    items : tuple of NeedItem
    source : str
        The citation (English).
    source_zh : str
        The citation in Chinese (may be empty).
    """

    items: tuple[NeedItem, ...]
    source: str
    source_zh: str = ""

    def item(self, key: str) -> NeedItem:
        """The item called ``key`` (KeyError when absent)."""
        for it in self.items:
            if it.key == key:
                return it
        raise KeyError(key)


DEFAULT_NEEDS = NeedsProfile(
    items=(
        NeedItem("water_drinking", "Drinking water", "饮用水", "L", "升", 3.0,
                 source="Sphere 2018, basic survival water needs: water intake (drinking and "
                        "food) 2.5–3 L per person per day; the upper value is used."),
        NeedItem("water_domestic", "Water for cooking and hygiene", "炊事和个人卫生用水", "L",
                 "升", 12.0,
                 source="Sphere 2018, Water supply standard 2.1: at least 15 L per person per "
                        "day for drinking and domestic hygiene; 15 L less 3 L drinking water."),
        NeedItem("food_energy", "Food energy", "食物能量", "kcal", "千卡", 2100.0,
                 source="Sphere 2018, Food security and nutrition: planning figure of 2,100 "
                        "kcal per person per day."),
        NeedItem("rice", "Rice or other cereal", "大米或其他谷物", "kg", "千克", 0.4,
                 source="CityFrame assumption, not a Sphere figure: 0.4 kg of cereal per "
                        "person per day (about 1,400 kcal), the cereal part of a typical "
                        "general ration; pulses, oil and other foods make up the 2,100 kcal."),
        NeedItem("hygiene_kits", "Family hygiene kits", "家庭卫生包", "kits", "套", 0.2,
                 per_day=False, discrete=True,
                 source="CityFrame assumption: one family kit (items as listed in Sphere 2018 "
                        "Hygiene promotion standard 2.1) per household of 5 people, lasting "
                        "about a month."),
        NeedItem("toilets", "Shared toilets", "公共厕所（厕位）", "toilets", "个", 0.05,
                 per_day=False, discrete=True,
                 source="Sphere 2018, Excreta management standard 3.2: at least 1 shared "
                        "toilet per 20 people."),
        NeedItem("blankets", "Blankets", "毛毯", "pieces", "条", 1.0,
                 per_day=False, discrete=True,
                 source="CityFrame assumption: one per person (Sphere 2018 Shelter and "
                        "settlement standard 4 asks for enough bedding for every person's "
                        "thermal comfort; give more in cold weather)."),
        NeedItem("floor_area", "Covered living space", "有顶棚的居住面积", "m²", "平方米", 3.5,
                 per_day=False,
                 source="Sphere 2018, Shelter and settlement standard 3: at least 3.5 m² of "
                        "covered living space per person (4.5–5.5 m² in cold climates or "
                        "urban settings where cooking and bathing are indoors)."),
    ),
    source=(f"{SPHERE_2018}: water at least 15 L per person per day, of which 2.5–3 L "
            "for drinking (Water supply standard 2.1 and the table of basic survival water "
            "needs); food energy 2,100 kcal per person per day (Food security and "
            "nutrition); at least 1 shared toilet per 20 people (Excreta management "
            "standard 3.2); at least 3.5 m² of covered living space per person (Shelter and "
            "settlement standard 3).  Rice 0.4 kg per person per day, one family hygiene kit "
            "per 5 people and one blanket per person are CityFrame planning assumptions, "
            "not Sphere figures."),
    source_zh=("《环球计划手册：人道主义宪章与人道主义响应最低标准》（Sphere，2018 年第四版）："
               "每人每天用水不少于 15 升，其中饮用 2.5–3 升（供水标准 2.1 及基本生存用水表）；"
               "每人每天食物能量 2100 千卡（粮食安全与营养）；每 20 人至少 1 个公共厕位"
               "（排泄物管理标准 3.2）；每人有顶棚的居住面积不少于 3.5 平方米（住所与安置"
               "标准 3）。每人每天大米 0.4 千克、每 5 人 1 套家庭卫生包、每人 1 条毛毯是 "
               "CityFrame 的规划假设，并非环球计划的数字。"),
)


def _number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def needs_for(displaced: int, profile: NeedsProfile = DEFAULT_NEEDS, days: float = 1) -> list[dict]:
    """Quantities for ``displaced`` people over ``days`` days.

    Parameters
    ----------
    displaced : int
        Number of displaced people (non-negative).
    profile : NeedsProfile
        Defaults to :data:`DEFAULT_NEEDS`.
    days : float
        Length of the stay, positive; per-stay items do not depend on it.

    Returns
    -------
    list of dict
        One JSON-ready dict per item, in profile order: ``key``, ``name_en``,
        ``name_zh``, ``unit_en``, ``unit_zh``, ``per_person_per_day``,
        ``per_day``, ``discrete``, ``days`` (None for per-stay items),
        ``quantity`` (int rounded up for discrete items, else a float rounded to
        2 decimals) and ``source``.

    Raises
    ------
    TypeError
        When ``displaced`` or ``days`` is not a number, or ``profile`` not a
        :class:`NeedsProfile`.
    ValueError
        When ``displaced`` is negative or fractional, or ``days`` not positive.

    Examples
    --------
    >>> [r["quantity"] for r in needs_for(21)][-4:]   # kits, toilets, blankets, m²
    [5, 2, 21, 73.5]
    """
    if not _number(displaced):
        raise TypeError(f"displaced must be a whole number, not {type(displaced).__name__}")
    if not math.isfinite(displaced) or displaced < 0 or displaced != int(displaced):
        raise ValueError(f"displaced must be a non-negative whole number, got {displaced!r}")
    if not _number(days):
        raise TypeError(f"days must be a number, not {type(days).__name__}")
    if not math.isfinite(days) or days <= 0:
        raise ValueError(f"days must be positive, got {days!r}")
    if not isinstance(profile, NeedsProfile):
        raise TypeError(f"profile must be a NeedsProfile, not {type(profile).__name__}")
    people = int(displaced)
    rows = []
    for it in profile.items:
        raw = it.per_person_per_day * people * (days if it.per_day else 1)
        if it.discrete:
            quantity = math.ceil(raw - 1e-9 * max(1.0, raw))
        else:
            quantity = round(float(raw), 2)
        rows.append({
            "key": it.key, "name_en": it.name_en, "name_zh": it.name_zh,
            "unit_en": it.unit_en, "unit_zh": it.unit_zh,
            "per_person_per_day": it.per_person_per_day, "per_day": it.per_day,
            "discrete": it.discrete, "days": days if it.per_day else None,
            "quantity": quantity, "source": it.source,
        })
    return rows


_ITEM_FIELDS = {f.name for f in fields(NeedItem)}
_REQUIRED = ("key", "name_en", "unit_en", "per_person_per_day")
_TOP_KEYS = ("source", "source_zh", "items", "overrides")


def _rate(value, key: str) -> float:
    if not _number(value):
        raise NeedsError(key, f"must be a number, not {type(value).__name__} {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise NeedsError(key, f"must be a positive number, got {value!r}")
    return float(value)


def _item_from_dict(doc, key: str) -> NeedItem:
    if not isinstance(doc, Mapping):
        raise NeedsError(key, f"must be an object, not {type(doc).__name__}")
    for k in doc:
        if k not in _ITEM_FIELDS:
            raise NeedsError(f"{key}.{k}", f"unknown key; allowed: {', '.join(sorted(_ITEM_FIELDS))}")
    for k in _REQUIRED:
        if k not in doc:
            raise NeedsError(f"{key}.{k}", "is required")
    values = {}
    for k in ("key", "name_en", "name_zh", "unit_en", "unit_zh", "source"):
        if k in doc:
            v = doc[k]
            if not isinstance(v, str):
                raise NeedsError(f"{key}.{k}", f"must be text, not {type(v).__name__}")
            if k in ("key", "name_en", "unit_en") and not v.strip():
                raise NeedsError(f"{key}.{k}", "must not be empty")
            values[k] = v
    for k in ("per_day", "discrete"):
        if k in doc:
            if not isinstance(doc[k], bool):
                raise NeedsError(f"{key}.{k}", f"must be true or false, got {doc[k]!r}")
            values[k] = doc[k]
    values["per_person_per_day"] = _rate(doc["per_person_per_day"], f"{key}.per_person_per_day")
    values.setdefault("name_zh", values["name_en"])
    values.setdefault("unit_zh", values["unit_en"])
    return NeedItem(**values)


def profile_from_dict(doc: Mapping, *, base: NeedsProfile = DEFAULT_NEEDS,
                      key_prefix: str = "needs") -> NeedsProfile:
    """Read a needs profile (the scenario's ``"needs"`` object).

    ``{"items": [...]}`` replaces the items; ``{"overrides": {"key": rate}}``
    changes rates of ``base`` (or of the given items); ``source`` and
    ``source_zh`` replace the citation.  Overrides without a new ``source`` are
    appended to the citation, so an edited profile never passes for the default.

    Parameters
    ----------
    doc : Mapping
        Keys ``source``, ``source_zh``, ``items`` (list of objects with the
        :class:`NeedItem` fields; ``key``, ``name_en``, ``unit_en`` and
        ``per_person_per_day`` required) and ``overrides``.
    base : NeedsProfile
        The profile edited when ``items`` is absent.
    key_prefix : str
        Prefix of the key paths in errors.

    Returns
    -------
    NeedsProfile

    Raises
    ------
    NeedsError
        Naming the key: unknown keys, missing fields, rates that are not
        positive numbers, duplicate or unknown item keys.

    Examples
    --------
    >>> p = profile_from_dict({"items": [{"key": "water", "name_en": "Water",
    ...                                   "unit_en": "L", "per_person_per_day": 15}],
    ...                        "source": "Sphere 2018"})
    >>> p.items[0].name_zh, p.source
    ('Water', 'Sphere 2018')
    >>> profile_from_dict({"overrides": {"toilets": -1}})
    Traceback (most recent call last):
    ...
    spatial.drill.needs.NeedsError: needs.overrides.toilets: must be a positive number, got -1
    """
    pre = f"{key_prefix}." if key_prefix else ""
    if not isinstance(doc, Mapping):
        raise NeedsError(key_prefix, f"must be an object, not {type(doc).__name__}")
    for k in doc:
        if k not in _TOP_KEYS:
            raise NeedsError(f"{pre}{k}", f"unknown key; allowed: {', '.join(_TOP_KEYS)}")
    for k in ("source", "source_zh"):
        if k in doc and not isinstance(doc[k], str):
            raise NeedsError(f"{pre}{k}", f"must be text, not {type(doc[k]).__name__}")
    if "items" in doc:
        raw = doc["items"]
        if not isinstance(raw, list) or not raw:
            raise NeedsError(f"{pre}items", "must be a non-empty list")
        items = [_item_from_dict(d, f"{pre}items[{i}]") for i, d in enumerate(raw)]
        seen = set()
        for i, it in enumerate(items):
            if it.key in seen:
                raise NeedsError(f"{pre}items[{i}].key", f"duplicate item key {it.key!r}")
            seen.add(it.key)
        source = doc.get("source", "Edited needs profile (no source given)")
        source_zh = doc.get("source_zh", "")
    else:
        items = list(base.items)
        source = doc.get("source", base.source)
        source_zh = doc.get("source_zh", base.source_zh if "source" not in doc else "")
    overrides = doc.get("overrides", {})
    if not isinstance(overrides, Mapping):
        raise NeedsError(f"{pre}overrides", "must be an object of item key: rate")
    index = {it.key: i for i, it in enumerate(items)}
    edits = []
    for k, v in overrides.items():
        if k not in index:
            raise NeedsError(f"{pre}overrides.{k}",
                             f"unknown item; known: {', '.join(index)}")
        rate = _rate(v, f"{pre}overrides.{k}")
        items[index[k]] = replace(items[index[k]], per_person_per_day=rate)
        edits.append(f"{k} = {rate:g} {items[index[k]].unit_en}")
    if edits and "source" not in doc:
        source = f"{source}  Edited: {'; '.join(edits)}."
        if source_zh:
            source_zh = f"{source_zh}（已修改：{'；'.join(edits)}）"
    return NeedsProfile(items=tuple(items), source=source, source_zh=source_zh)


def profile_to_dict(profile: NeedsProfile) -> dict:
    """The profile as a JSON-ready dict that :func:`profile_from_dict` reads back.

    Examples
    --------
    >>> profile_from_dict(profile_to_dict(DEFAULT_NEEDS)) == DEFAULT_NEEDS
    True
    """
    if not isinstance(profile, NeedsProfile):
        raise TypeError(f"profile must be a NeedsProfile, not {type(profile).__name__}")
    return {
        "source": profile.source,
        "source_zh": profile.source_zh,
        "items": [{f.name: getattr(it, f.name) for f in fields(NeedItem)}
                  for it in profile.items],
    }
