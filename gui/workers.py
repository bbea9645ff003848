"""Run long work off the UI thread and report back on it.

:func:`start_worker` calls a Qt-free function with a
:class:`~spatial.feedback.Feedback` on a persistent Python thread pool and
reports progress, the result, an error or a cancellation through Qt signals,
delivered on the UI thread (queued connections).  The function must accept a
``feedback`` keyword; cancel sets the feedback's flag and the function stops at
its next ``feedback.check()``.

Why not ``QThreadPool``: PySide6 drops a pool thread's Python thread state
after each ``QRunnable``, while pyproj 3.7 keeps a PROJ context per OS thread
tied to that state (pyproj issues 1509/1622, fixed upstream after 3.7.2), so
the second job touching a CRS on a reused pool thread segfaults.  Python's own
threads keep their state for their whole life.
"""

from __future__ import annotations

import atexit
import traceback
from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QCoreApplication, QObject, Signal

from spatial.errors import Canceled, CityFrameError
from spatial.feedback import Feedback

__all__ = ["CancellableRun", "Worker", "shutdown_workers", "start_worker"]

_POOL: list[ThreadPoolExecutor] = []
_RUNNING: set = set()  # workers stay alive until their last signal is delivered


def _pool() -> ThreadPoolExecutor:
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(max_workers=2, thread_name_prefix="cityframe-job"))
    return _POOL[0]


@atexit.register
def shutdown_workers() -> None:
    """Cancel queued jobs and stop taking new ones (at exit)."""
    for worker in list(_RUNNING):
        worker.cancel()
    for pool in _POOL:
        pool.shutdown(wait=False, cancel_futures=True)
    _POOL.clear()


class WorkerSignals(QObject):
    progress = Signal(float)
    info = Signal(str)
    finished = Signal(object)
    errored = Signal(str)
    canceled = Signal()


class Worker:
    """One job: ``fn(*args, feedback=..., **kwargs)``; see :func:`start_worker`."""

    def __init__(self, fn, *args, **kwargs) -> None:
        self.signals = WorkerSignals()
        self.feedback = Feedback(on_progress=self.signals.progress.emit,
                                 on_info=self.signals.info.emit)
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self.done = False

    def cancel(self) -> None:
        self.feedback.cancel()

    def run(self) -> None:  # runs on a pool thread
        try:
            result = self._fn(*self._args, feedback=self.feedback, **self._kwargs)
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

    def start(self) -> "Worker":
        """Queue the job; the worker keeps itself alive until it has reported."""
        _RUNNING.add(self)
        for signal in (self.signals.finished, self.signals.errored, self.signals.canceled):
            signal.connect(self._release)
        _pool().submit(self.run)
        return self

    def _release(self, *_args) -> None:
        _RUNNING.discard(self)


def start_worker(fn, *args, on_finished=None, on_error=None, on_progress=None, on_canceled=None,
                 **kwargs) -> Worker:
    """Start ``fn`` on a pool thread and connect the callbacks; return the worker
    (keep it to cancel the job; it need not be kept otherwise)."""
    worker = Worker(fn, *args, **kwargs)
    for signal, slot in ((worker.signals.finished, on_finished), (worker.signals.errored, on_error),
                         (worker.signals.progress, on_progress),
                         (worker.signals.canceled, on_canceled)):
        if slot is not None:
            signal.connect(slot)
    return worker.start()


class CancellableRun:
    """Cancel and progress for a panel that runs one worker at a time.

    The panel provides ``worker`` (the running :class:`Worker` or ``None``),
    ``_cancel_requested``, ``cancel_button``, ``status_label`` and ``progress``.
    """

    def cancel(self) -> None:
        """Ask the running worker to stop (at its next check)."""
        if self.worker is None:
            return
        self._cancel_requested = True
        self.worker.cancel()
        self.cancel_button.setEnabled(False)
        self.status_label.setText(QCoreApplication.translate("CancellableRun", "Cancelling…"))

    def _progress(self, value: float) -> None:
        if self.worker is not None:
            self.progress.setValue(int(value))
