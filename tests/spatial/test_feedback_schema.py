import pytest

from spatial.errors import Canceled, CityFrameError
from spatial.feedback import Feedback, ensure_feedback
from spatial.schema import FRAMEWORK, key_column


def test_feedback_reports_and_cancels():
    seen, infos = [], []
    fb = Feedback(on_progress=seen.append, on_info=infos.append)
    fb.step(1, 4)
    fb.set_progress(250)
    fb.push_info("half way")
    assert seen == [25.0, 100.0]
    assert infos == ["half way"]
    fb.cancel()
    with pytest.raises(Canceled):
        fb.check()
    assert isinstance(Canceled("x"), CityFrameError)


def test_ensure_feedback_gives_a_silent_one():
    fb = ensure_feedback(None)
    fb.step(3, 3)
    assert fb.progress == 100.0 and not fb.is_canceled()


def test_framework_keys_follow_design():
    assert {n: s.key for n, s in FRAMEWORK.items()} == {
        "buildings": "building_id", "population": "building_id", "legal_entities": "uscc",
        "communities": "community_id", "roads": "road_id",
    }
    assert key_column("shelters", ["name", "shelter_id", "building_id"]) == "shelter_id"
    assert key_column("notes", ["name"]) is None
