"""Qt-free progress and cancellation, after QGIS's ``QgsFeedback`` contract.

Long functions take an optional ``feedback`` and call
:meth:`Feedback.set_progress` between chunks and :meth:`Feedback.check` (or
:meth:`Feedback.is_canceled`) to stop early.  The GUI wraps one in a worker
that forwards progress to a progress bar; the command line may print it.

Examples
--------
>>> seen = []
>>> fb = Feedback(on_progress=seen.append)
>>> fb.set_progress(50)
>>> seen
[50.0]
>>> fb.cancel()
>>> fb.is_canceled()
True
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .errors import Canceled

__all__ = ["Feedback", "ensure_feedback"]


class Feedback:
    """Progress (0–100), cancellation flag and info messages, thread-safe.

    Parameters
    ----------
    on_progress : callable, optional
        Called with the new percentage whenever it changes.
    on_info : callable, optional
        Called with each informational message.
    """

    def __init__(
        self,
        on_progress: Callable[[float], None] | None = None,
        on_info: Callable[[str], None] | None = None,
    ) -> None:
        self._on_progress = on_progress
        self._on_info = on_info
        self._canceled = threading.Event()
        self.progress = 0.0
        self.messages: list[str] = []

    def set_progress(self, percent: float) -> None:
        """Record progress in percent, clamped to [0, 100]."""
        percent = float(min(100.0, max(0.0, percent)))
        self.progress = percent
        if self._on_progress is not None:
            self._on_progress(percent)

    def push_info(self, message: str) -> None:
        """Record an informational message."""
        self.messages.append(message)
        if self._on_info is not None:
            self._on_info(message)

    def cancel(self) -> None:
        """Ask the running operation to stop at its next check."""
        self._canceled.set()

    def is_canceled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._canceled.is_set()

    def check(self) -> None:
        """Raise :class:`~spatial.errors.Canceled` if cancellation was asked."""
        if self._canceled.is_set():
            raise Canceled("canceled by the user")

    def step(self, done: int, total: int) -> None:
        """Report ``done`` of ``total`` work units and check cancellation."""
        self.set_progress(100.0 * done / total if total else 100.0)
        self.check()


def ensure_feedback(feedback: Feedback | None) -> Feedback:
    """Return ``feedback`` or a silent one, so callees need no ``None`` checks."""
    return feedback if feedback is not None else Feedback()
