"""Start the desktop application (QApplication, translations, the main window)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, QObject, QSize, QTimer, QTranslator
from PySide6.QtWidgets import QApplication

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
TRANSLATIONS = RESOURCES / "translations"


def make_app(lang: str = "en") -> QApplication:
    """The QApplication (created once), with CityFrame's and Qt's translations."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("CityFrame")
    app.setOrganizationName("CityFrame")
    install_translations(app, lang)
    return app


def install_translations(app: QApplication, lang: str) -> list[QTranslator]:
    """Replace the installed translators by those of ``lang`` ("zh" or "en")."""
    for old in getattr(app, "_cityframe_translators", []):
        app.removeTranslator(old)
    translators = []
    if lang == "zh":
        qt = QTranslator(app)
        if qt.load(QLocale(QLocale.Language.Chinese, QLocale.Country.China), "qtbase", "_",
                   QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
            app.installTranslator(qt)
            translators.append(qt)
        ours = QTranslator(app)
        if ours.load(str(TRANSLATIONS / "cityframe_zh_CN.qm")):
            app.installTranslator(ours)
            translators.append(ours)
    app._cityframe_translators = translators
    return translators


class WindowController(QObject):
    """Owns the main window; switching language rebuilds it around the same workspace."""

    def __init__(self, app: QApplication, workspace, lang: str, settings=None):
        super().__init__()
        from .main_window import MainWindow

        self.app = app
        self._cls = MainWindow
        self._settings = settings
        self.window = None
        self._make(workspace, lang)

    def _make(self, workspace, lang: str) -> None:
        install_translations(self.app, lang)
        window = self._cls(workspace, lang=lang, settings=self._settings)
        window.languageChanged.connect(self.switch_language)
        old, self.window = self.window, window
        if old is not None:
            window.setGeometry(old.geometry())
            window.show()
            old.workspace = None  # handed over: don't ask to save it on close
            old.close()
            old.deleteLater()

    def switch_language(self, lang: str) -> None:
        workspace = self.window.workspace
        self.window.workspace = None
        self._make(workspace, lang)


def run_gui(args, lang: str) -> int:
    from layers.workspace import Workspace
    from sample_data.catalogue import is_bundled, sample_path

    from .settings import Settings

    settings = Settings()
    if args.lang is None and settings.language:
        lang = settings.language
    app = make_app(lang)
    workspace = None
    if args.sample:
        workspace = Workspace.open(sample_path(args.sample), read_only=True)
    elif args.workspace:
        workspace = Workspace.open(args.workspace, read_only=is_bundled(args.workspace))
    controller = WindowController(app, workspace, lang, settings)
    window = controller.window
    if args.run_query and workspace is not None:
        window.query_builder.load_document(Path(args.run_query))
        window.query_builder.resultReady.connect(lambda _r: window.canvas.refresh())
        QTimer.singleShot(0, window.query_builder.run)
    run_drill = getattr(args, "run_drill", None)
    if run_drill and workspace is not None:
        window.docks["Drills"].raise_()
        window.drills.load_scenario(run_drill)
        QTimer.singleShot(0, window.drills.run)
    if args.screenshot:
        try:
            w, h = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            raise ValueError(f"--size {args.size!r}: expected WIDTHxHEIGHT, e.g. 1600x1000") from None
        window.resize(QSize(w, h))
        window.show()
        out = Path(args.screenshot)
        shot = []

        def shoot(*_):
            if shot:
                return
            shot.append(True)
            QTimer.singleShot(200, lambda: (window.grab().save(str(out)), app.quit()))

        if workspace is not None and run_drill:
            window.drills.resultReady.connect(lambda _r: QTimer.singleShot(
                300, lambda: (window.canvas.wait_until_rendered(30000), shoot())))
            QTimer.singleShot(60000, shoot)
        elif workspace is not None and args.run_query:
            # shoot once the result is drawn: the render after the result arrived
            window.query_builder.resultReady.connect(lambda _r: QTimer.singleShot(
                300, lambda: (window.canvas.wait_until_rendered(30000), shoot())))
            QTimer.singleShot(30000, shoot)
        elif workspace is not None:
            window.canvas.renderFinished.connect(shoot)
            QTimer.singleShot(15000, shoot)  # never hang: shoot what is there
        else:
            QTimer.singleShot(300, shoot)
        app.exec()
        window.workspace = None
        return 0 if out.exists() else 2
    window.show()
    return app.exec()
