import pytest
from PySide6.QtCore import QByteArray, QSettings

from gui.settings import MAX_RECENT, Settings

pytestmark = pytest.mark.gui


@pytest.fixture()
def settings(tmp_path):
    return Settings(QSettings(str(tmp_path / "cf.ini"), QSettings.Format.IniFormat))


def test_recent_workspaces_most_recent_first_unique_capped(settings, tmp_path):
    for i in range(MAX_RECENT + 3):
        settings.add_recent(tmp_path / f"w{i}.gpkg")
    settings.add_recent(tmp_path / "w5.gpkg")
    recent = settings.recent()
    assert len(recent) == MAX_RECENT and recent[0].endswith("w5.gpkg")
    assert len(set(recent)) == len(recent)
    settings.forget_recent(recent[0])
    assert not settings.recent()[0].endswith("w5.gpkg")


def test_language_and_window_persist(tmp_path):
    path = str(tmp_path / "cf.ini")
    s = Settings(QSettings(path, QSettings.Format.IniFormat))
    s.language = "zh"
    s.map_crs = "EPSG:4547"
    s.save_window(QByteArray(b"geo"), QByteArray(b"state"))
    s.sync()
    again = Settings(QSettings(path, QSettings.Format.IniFormat))
    assert again.language == "zh" and again.map_crs == "EPSG:4547"
    assert bytes(again.window()[1]) == b"state"
    with pytest.raises(ValueError, match="language"):
        again.language = "fr"
