import threading

import pytest

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
        worker.start()
        worker.cancel()
        gate.set()

    def bad(feedback):
        raise DataImportError("wells.csv row 3: not a number")

    worker = Worker(bad)
    with qtbot.waitSignal(worker.signals.errored, timeout=5000) as blocker:
        worker.start()
    assert blocker.args == ["wells.csv row 3: not a number"]


def test_workers_report_without_a_kept_reference(qtbot):
    import gc

    got = []
    for i in range(5):
        start_worker(lambda feedback, i=i: i, on_finished=got.append)
    gc.collect()
    qtbot.waitUntil(lambda: sorted(got) == [0, 1, 2, 3, 4], timeout=5000)


def test_second_pyproj_job_on_a_reused_thread_does_not_crash(qtbot):
    """pyproj 1622: a CRS made in one job, freed on the UI thread, then another job."""
    import gc

    import pyproj

    results = []
    for _ in range(6):
        start_worker(lambda feedback: pyproj.CRS.from_epsg(4547), on_finished=results.append)
        qtbot.waitUntil(lambda n=len(results): len(results) > n, timeout=5000)
        results[-1] = None  # free the CRS on the UI thread
        gc.collect()
    assert len(results) == 6
