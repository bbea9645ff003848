"""The welcome screen: open recent, open a file, new workspace, and the bundled
sample cities with a thumbnail and one line each — one click opens a city."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sample_data.catalogue import SAMPLES

__all__ = ["WelcomeScreen", "THUMBNAILS"]

THUMBNAILS = Path(__file__).resolve().parents[1] / "resources" / "thumbnails"
THUMB_SIZE = QSize(320, 200)


class SampleCard(QFrame):
    """One sample city: thumbnail, bilingual name, one-line description; clicking opens it."""

    clicked = Signal(str)

    def __init__(self, sample, lang: str, parent=None):
        super().__init__(parent)
        self.sample_id = sample.id
        self.setObjectName(f"sample_{sample.id}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        layout = QVBoxLayout(self)
        thumb = QLabel()
        thumb.setFixedSize(THUMB_SIZE)
        thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        pixmap = QPixmap(str(THUMBNAILS / f"{sample.id}.png"))
        if pixmap.isNull():
            thumb.setText(self.tr("(no preview)"))
            thumb.setStyleSheet("background:#e8ecef;color:#667")
        else:
            thumb.setPixmap(pixmap.scaled(THUMB_SIZE, Qt.AspectRatioMode.KeepAspectRatio,
                                          Qt.TransformationMode.SmoothTransformation))
        self.thumbnail = thumb
        layout.addWidget(thumb)
        title = QLabel(f"<b>{sample.name_zh if lang == 'zh' else sample.name_en}</b>")
        layout.addWidget(title)
        text = sample.description_zh if lang == "zh" else sample.description_en
        line = QLabel(sample.tagline_zh if lang == "zh" else sample.tagline_en)
        line.setWordWrap(True)
        line.setToolTip(text)
        line.setMaximumWidth(THUMB_SIZE.width())
        layout.addWidget(line)
        self.button = QPushButton(self.tr("Open"))
        self.button.clicked.connect(lambda: self.clicked.emit(self.sample_id))
        layout.addWidget(self.button)

    def mouseReleaseEvent(self, event):  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.sample_id)
        super().mouseReleaseEvent(event)


class WelcomeScreen(QWidget):
    """Shown when no workspace is open.

    Signals
    -------
    openSample(str)   a bundled sample id
    openPath(str)     a workspace file (recent list)
    openFileRequested()  the user wants a file dialog
    newWorkspace()
    """

    openSample = Signal(str)
    openPath = Signal(str)
    openFileRequested = Signal()
    newWorkspace = Signal()

    def __init__(self, recent: list[str], lang: str = "en", parent=None):
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(40, 30, 40, 30)
        heading = QLabel(self.tr("<h1>CityFrame</h1><p>Offline GIS for cross-agency decision "
                                 "support: one city framework, every department's data.</p>"))
        outer.addWidget(heading)

        row = QHBoxLayout()
        new_btn = QPushButton(self.tr("New workspace"))
        new_btn.clicked.connect(self.newWorkspace)
        open_btn = QPushButton(self.tr("Open a file…"))
        open_btn.clicked.connect(self.openFileRequested)
        row.addWidget(new_btn)
        row.addWidget(open_btn)
        row.addStretch(1)
        outer.addLayout(row)

        outer.addWidget(QLabel(self.tr("<h3>Sample cities</h3>")))
        grid = QGridLayout()
        self.cards: dict[str, SampleCard] = {}
        for i, sample in enumerate(s for s in SAMPLES if s.exists):
            card = SampleCard(sample, lang)
            card.clicked.connect(self.openSample)
            grid.addWidget(card, 0, i)
            self.cards[sample.id] = card
        grid.setColumnStretch(len(self.cards), 1)
        outer.addLayout(grid)

        outer.addWidget(QLabel(self.tr("<h3>Recent workspaces</h3>")))
        self.recent_list = QListWidget()
        for path in recent:
            item = QListWidgetItem(Path(path).name)
            item.setToolTip(path)
            item.setData(Qt.ItemDataRole.UserRole, path)
            if not Path(path).exists():
                item.setText(self.tr("{0} (missing)").replace("{0}", Path(path).name))
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.recent_list.addItem(item)
        if not recent:
            self.recent_list.addItem(self.tr("No recent workspaces yet."))
        self.recent_list.itemActivated.connect(self._open_recent)
        self.recent_list.itemDoubleClicked.connect(self._open_recent)
        self.recent_list.setMaximumHeight(160)
        outer.addWidget(self.recent_list)
        outer.addStretch(1)

    def _open_recent(self, item: QListWidgetItem) -> None:
        path = item.data(Qt.ItemDataRole.UserRole)
        if path:
            self.openPath.emit(path)


def make_thumbnails(out_dir: Path = THUMBNAILS) -> list[Path]:
    """Render each bundled sample city into ``<id>.png`` (run: ``python -m gui.welcome``)."""
    from layers.selection import Selection
    from layers.workspace import Workspace
    from sample_data.catalogue import sample_path

    from .app import make_app
    from .canvas import MapCanvas

    make_app("en")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for sample in SAMPLES:
        ws = Workspace.open(sample_path(sample.id), read_only=True)
        canvas = MapCanvas()
        canvas.resize(THUMB_SIZE * 2)
        canvas.show()
        canvas.set_workspace(ws, Selection())
        canvas.zoom_full()
        canvas.wait_until_rendered(60000)
        target = out_dir / f"{sample.id}.png"
        canvas.grab().scaled(THUMB_SIZE, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation).save(str(target))
        written.append(target)
        canvas.shutdown()
        canvas.close()
        ws.close()
    return written


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    print(*make_thumbnails(), sep="\n")
