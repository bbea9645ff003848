"""Run long work off the UI thread: a QRunnable that calls a Qt-free function
with a :class:`~spatial.feedback.Feedback`, and reports progress, the result,
an error or a cancellation through Qt signals (delivered on the UI thread).

The function must accept a ``feedback`` keyword.  Cancel sets the feedback's
flag; the function stops at its next ``feedback.check()``.
"""

from __future__ import annotations

import threading
import traceback

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from spatial.errors import Canceled, CityFrameError
from spatial.feedback import Feedback

__all__ = ["Worker", "start_worker"]


_PROJ_CONTEXTS: dict[int, object] = {}


def pin_proj_context() -> None:
    """Keep this thread's PROJ context alive for the thread's lifetime.

    pyproj 3.7.2 keeps each OS thread's PROJ context in thread-specific storage
    but frees it with the Python thread state's ``threading.local`` (pyproj
    issues 1509/1622, fixed upstream by PR 1626, not released).  A Qt pool
    thread gets a fresh thread state per job, so once a CRS made in one job is
    garbage-collected elsewhere, the next pyproj call on that pool thread uses
    a freed context and segfaults.  Holding the context's manager for as long
    as the thread lives avoids that; every Worker job calls this.
    """
    try:
        from pyproj._context import get_context_manager
    except ImportError:  # a pyproj without per-thread contexts
        return
    manager = get_context_manager()
    if manager is not None:
        _PROJ_CONTEXTS[threading.get_native_id()] = manager


class WorkerSignals(QObject):
    progress = Signal(float)
    info = Signal(str)
    finished = Signal(object)
    errored = Signal(str)
    canceled = Signal()


class Worker(QRunnable):
    """One job: ``fn(*args, feedback=..., **kwargs)`` on the global thread pool."""

    def __init__(self, fn, *args, **kwargs) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the caller keeps it to cancel it
        self.signals = WorkerSignals()
        self.feedback = Feedback(on_progress=self.signals.progress.emit,
                                 on_info=self.signals.info.emit)
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self.done = False

    def cancel(self) -> None:
        self.feedback.cancel()

    def run(self) -> None:  # runs on a pool thread
        try:
            try:
                result = self._fn(*self._args, feedback=self.feedback, **self._kwargs)
            finally:
                pin_proj_context()  # before any result reaches (and is freed on) the UI thread
        except Canceled:
            self.done = True
            self.signals.canceled.emit()
        except CityFrameError as exc:
            self.done = True
            self.signals.errored.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - reported to the user, never swallowed
            self.done = True
            self.signals.errored.emit(f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}")
        else:
            self.done = True
            self.signals.finished.emit(result)


def start_worker(fn, *args, on_finished=None, on_error=None, on_progress=None, on_canceled=None,
                 pool: QThreadPool | None = None, **kwargs) -> Worker:
    """Start ``fn`` on a pool thread and connect the callbacks; return the worker."""
    worker = Worker(fn, *args, **kwargs)
    for signal, slot in ((worker.signals.finished, on_finished), (worker.signals.errored, on_error),
                         (worker.signals.progress, on_progress),
                         (worker.signals.canceled, on_canceled)):
        if slot is not None:
            signal.connect(slot)
    (pool or QThreadPool.globalInstance()).start(worker)
    return worker
