"""Minimum-needs profile: arithmetic, rounding, validation, round trip (issue 5, item 4)."""

from __future__ import annotations

import json

import pytest

from spatial.drill.needs import (
    DEFAULT_NEEDS,
    NeedItem,
    NeedsError,
    NeedsProfile,
    needs_for,
    profile_from_dict,
    profile_to_dict,
)
from spatial.errors import CityFrameError


def by_key(rows):
    return {r["key"]: r for r in rows}


def test_default_profile_cites_sphere_and_names_its_assumptions():
    assert "Sphere" in DEFAULT_NEEDS.source and "2018" in DEFAULT_NEEDS.source
    assert "assumption" in DEFAULT_NEEDS.source
    assert "环球计划" in DEFAULT_NEEDS.source_zh
    keys = [it.key for it in DEFAULT_NEEDS.items]
    assert keys == ["water_drinking", "water_domestic", "food_energy", "rice", "hygiene_kits",
                    "toilets", "blankets", "floor_area"]
    for it in DEFAULT_NEEDS.items:
        assert it.name_zh and it.unit_zh and it.source
    sphere = [it.key for it in DEFAULT_NEEDS.items if it.source.startswith("Sphere 2018")]
    assumed = [it.key for it in DEFAULT_NEEDS.items
               if it.source.startswith("CityFrame assumption")]
    assert sphere == ["water_drinking", "water_domestic", "food_energy", "toilets", "floor_area"]
    assert assumed == ["rice", "hygiene_kits", "blankets"]
    # Sphere's 15 L a day is split into drinking and the rest.
    assert DEFAULT_NEEDS.item("water_drinking").per_person_per_day + \
        DEFAULT_NEEDS.item("water_domestic").per_person_per_day == 15


def test_needs_for_by_hand():
    rows = by_key(needs_for(1234, DEFAULT_NEEDS, days=3))
    assert rows["water_drinking"]["quantity"] == 1234 * 3 * 3.0
    assert rows["water_domestic"]["quantity"] == 1234 * 12 * 3
    assert rows["food_energy"]["quantity"] == 1234 * 2100 * 3
    assert rows["rice"]["quantity"] == pytest.approx(1480.8)
    assert rows["hygiene_kits"]["quantity"] == 247      # 246.8 rounded up
    assert rows["toilets"]["quantity"] == 62            # 61.7 rounded up
    assert rows["blankets"]["quantity"] == 1234
    assert rows["floor_area"]["quantity"] == pytest.approx(4319.0)
    assert rows["toilets"]["days"] is None and rows["rice"]["days"] == 3
    json.dumps(list(rows.values()), ensure_ascii=False)


def test_discrete_items_round_up_but_exact_multiples_do_not():
    rows = by_key(needs_for(20))
    assert rows["toilets"]["quantity"] == 1 and rows["hygiene_kits"]["quantity"] == 4
    rows = by_key(needs_for(21))
    assert rows["toilets"]["quantity"] == 2 and rows["hygiene_kits"]["quantity"] == 5
    rows = by_key(needs_for(0))
    assert all(r["quantity"] == 0 for r in rows.values())
    assert isinstance(rows["toilets"]["quantity"], int)


def test_per_stay_items_do_not_grow_with_days():
    one, week = by_key(needs_for(100, days=1)), by_key(needs_for(100, days=7))
    assert week["blankets"]["quantity"] == one["blankets"]["quantity"] == 100
    assert week["water_drinking"]["quantity"] == 7 * one["water_drinking"]["quantity"]
    assert by_key(needs_for(100, days=0.5))["water_drinking"]["quantity"] == 150.0


@pytest.mark.parametrize("displaced, days, error", [
    (-1, 1, ValueError), (2.5, 1, ValueError), (True, 1, TypeError), ("10", 1, TypeError),
    (10, 0, ValueError), (10, -2, ValueError), (10, float("nan"), ValueError),
    (10, None, TypeError),
])
def test_needs_for_rejects_bad_numbers(displaced, days, error):
    with pytest.raises(error):
        needs_for(displaced, DEFAULT_NEEDS, days=days)


def test_round_trip():
    doc = profile_to_dict(DEFAULT_NEEDS)
    assert profile_from_dict(json.loads(json.dumps(doc))) == DEFAULT_NEEDS
    custom = NeedsProfile((NeedItem("water", "Water", "水", "L", "升", 20.0),), "local plan")
    assert profile_from_dict(profile_to_dict(custom)) == custom


def test_overrides_edit_the_default_and_say_so():
    p = profile_from_dict({"overrides": {"water_drinking": 4, "floor_area": 4.5}})
    assert p.item("water_drinking").per_person_per_day == 4.0
    assert p.item("floor_area").per_person_per_day == 4.5
    assert p.item("food_energy") == DEFAULT_NEEDS.item("food_energy")
    assert "Edited: water_drinking = 4 L; floor_area = 4.5 m²" in p.source
    assert by_key(needs_for(10, p))["water_drinking"]["quantity"] == 40.0


def test_items_replace_the_profile_with_defaults_for_optional_fields():
    p = profile_from_dict({"items": [
        {"key": "water", "name_en": "Water", "unit_en": "L", "per_person_per_day": 15},
        {"key": "cots", "name_en": "Cots", "name_zh": "行军床", "unit_en": "cots",
         "unit_zh": "张", "per_person_per_day": 1, "per_day": False, "discrete": True},
    ], "source": "District plan 2024"})
    assert [it.key for it in p.items] == ["water", "cots"]
    assert p.items[0].name_zh == "Water" and p.items[0].per_day and not p.items[0].discrete
    assert p.source == "District plan 2024"
    assert by_key(needs_for(3, p, days=2))["cots"]["quantity"] == 3


@pytest.mark.parametrize("doc, key", [
    ({"itemz": []}, "needs.itemz"),
    ({"overrides": {"water_drinking": -3}}, "needs.overrides.water_drinking"),
    ({"overrides": {"water_drinking": 0}}, "needs.overrides.water_drinking"),
    ({"overrides": {"water_drinking": "3"}}, "needs.overrides.water_drinking"),
    ({"overrides": {"water_drinking": True}}, "needs.overrides.water_drinking"),
    ({"overrides": {"beer": 1}}, "needs.overrides.beer"),
    ({"overrides": [1]}, "needs.overrides"),
    ({"items": []}, "needs.items"),
    ({"items": [{"key": "w", "name_en": "W", "unit_en": "L"}]},
     "needs.items[0].per_person_per_day"),
    ({"items": [{"key": "w", "name_en": "W", "unit_en": "L", "per_person_per_day": float("inf")}]},
     "needs.items[0].per_person_per_day"),
    ({"items": [{"key": "w", "name_en": "W", "unit_en": "L", "per_person_per_day": 1,
                 "colour": "blue"}]}, "needs.items[0].colour"),
    ({"items": [{"key": "w", "name_en": "W", "unit_en": "L", "per_person_per_day": 1,
                 "per_day": "yes"}]}, "needs.items[0].per_day"),
    ({"items": [{"key": "w", "name_en": "W", "unit_en": "L", "per_person_per_day": 1},
                {"key": "w", "name_en": "W2", "unit_en": "L", "per_person_per_day": 2}]},
     "needs.items[1].key"),
    ({"items": [{"key": " ", "name_en": "W", "unit_en": "L", "per_person_per_day": 1}]},
     "needs.items[0].key"),
    ({"source": 5}, "needs.source"),
])
def test_profile_errors_name_the_key(doc, key):
    with pytest.raises(NeedsError) as info:
        profile_from_dict(doc)
    assert info.value.key == key
    assert str(info.value).startswith(f"{key}: ")
    assert isinstance(info.value, CityFrameError)


def test_key_prefix_and_non_dict():
    with pytest.raises(NeedsError, match=r"^overrides\.x: "):
        profile_from_dict({"overrides": {"x": 1}}, key_prefix="")
    with pytest.raises(NeedsError, match="must be an object"):
        profile_from_dict([1, 2])
