"""Start the desktop application (QApplication, translations, the main window)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, QSize, QTimer, QTranslator
from PySide6.QtWidgets import QApplication

RESOURCES = Path(__file__).resolve().parents[1] / "resources"


def make_app(lang: str = "en") -> QApplication:
    """The QApplication (created once), with CityFrame's and Qt's translations."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("CityFrame")
    app.setOrganizationName("CityFrame")
    install_translations(app, lang)
    return app


def install_translations(app: QApplication, lang: str) -> None:
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
        if ours.load(str(RESOURCES / "translations" / "cityframe_zh_CN.qm")):
            app.installTranslator(ours)
            translators.append(ours)
    app._cityframe_translators = translators


def run_gui(args, lang: str) -> int:
    from layers.workspace import Workspace
    from sample_data.catalogue import is_bundled, sample_path

    from .main_window import MainWindow

    app = make_app(lang)
    workspace = None
    if args.sample:
        workspace = Workspace.open(sample_path(args.sample), read_only=True)
    elif args.workspace:
        workspace = Workspace.open(args.workspace, read_only=is_bundled(args.workspace))
    window = MainWindow(workspace, lang=lang)
    if args.screenshot:
        try:
            w, h = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            raise ValueError(f"--size {args.size!r}: expected WIDTHxHEIGHT, e.g. 1600x1000") from None
        window.resize(QSize(w, h))
        window.show()
        out = Path(args.screenshot)

        def shoot():
            window.grab().save(str(out))
            app.quit()

        QTimer.singleShot(300, shoot)
        app.exec()
        return 0 if out.exists() else 2
    window.show()
    return app.exec()
