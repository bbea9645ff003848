import pytest
from PySide6.QtCore import Qt

from gui.welcome import WelcomeScreen
from sample_data.catalogue import SAMPLES

pytestmark = pytest.mark.gui


def test_every_sample_has_taglines():
    for s in SAMPLES:
        assert s.tagline_en and s.tagline_zh


def test_one_click_on_a_sample_card_opens_it(qtbot):
    w = WelcomeScreen(recent=[], lang="en")
    qtbot.addWidget(w)
    assert set(w.cards) == {s.id for s in SAMPLES}
    with qtbot.waitSignal(w.openSample) as blocker:
        qtbot.mouseClick(w.cards["small"], Qt.MouseButton.LeftButton)
    assert blocker.args == ["small"]


def test_recent_and_chinese_names(qtbot, tmp_path):
    ws = tmp_path / "plan.gpkg"
    ws.write_bytes(b"")
    w = WelcomeScreen(recent=[str(ws), str(tmp_path / "gone.gpkg")], lang="zh")
    qtbot.addWidget(w)
    assert w.recent_list.count() == 2
    assert not (w.recent_list.item(1).flags() & Qt.ItemFlag.ItemIsEnabled)
    with qtbot.waitSignal(w.openPath) as blocker:
        w.recent_list.itemActivated.emit(w.recent_list.item(0))
    assert blocker.args == [str(ws)]
    assert "江城" in w.cards["small"].layout().itemAt(1).widget().text()
