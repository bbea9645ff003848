import threading

import pytest
from PySide6.QtCore import QThreadPool

from gui.workers import Worker, start_worker
from spatial.errors import DataImportError

pytestmark = pytest.mark.gui


def _count(n, feedback):
    for i in range(n):
        feedback.step(i + 1, n)
    return threading.get_ident()


def test_worker_reports_progress_and_result_off_the_ui_thread(qtbot):
    progress, results = [], []
    start_worker(_count, 4, on_progress=progress.append, on_finished=results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    assert results[0] != threading.get_ident(), "ran on a pool thread"
    qtbot.waitUntil(lambda: progress[-1:] == [100.0])


def test_worker_cancel_and_error(qtbot):
    gate = threading.Event()

    def slow(feedback):
        gate.wait(5)
        feedback.check()
        return "not reached"

    worker = Worker(slow)
    with qtbot.waitSignal(worker.signals.canceled, timeout=5000):
        QThreadPool.globalInstance().start(worker)
        worker.cancel()
        gate.set()

    def bad(feedback):
        raise DataImportError("wells.csv row 3: not a number")

    worker = Worker(bad)
    with qtbot.waitSignal(worker.signals.errored, timeout=5000) as blocker:
        QThreadPool.globalInstance().start(worker)
    assert blocker.args == ["wells.csv row 3: not a number"]
