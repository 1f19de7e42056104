"""SIGINT and SIGTERM during ``fit``: finish the current step, checkpoint, stop with a clear message."""

from __future__ import annotations

import signal
import threading
from typing import Any


class GracefulStop:
    """While active, SIGINT/SIGTERM only set ``self.received`` (the loop checks it after each step).

    A second SIGINT while the first is being handled falls through to the previous handler, so a
    stuck run can still be interrupted at once.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: str | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum, frame) -> None:
        if self.received is not None and signum == signal.SIGINT:
            previous = self._previous.get(signum)
            if callable(previous):
                previous(signum, frame)
            raise KeyboardInterrupt
        self.received = signal.Signals(signum).name

    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is threading.main_thread():
            for s in self.SIGNALS:
                self._previous[s] = signal.getsignal(s)
                signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        self._previous.clear()
