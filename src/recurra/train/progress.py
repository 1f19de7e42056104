"""A Keras-style text progress bar: ``12/40 [=====>......] - 3s 75ms/step - loss: 0.1234``.

``verbose=1``: a bar redrawn in place (at most ten times a second); ``verbose=2``: one line per
epoch; ``verbose=0``: silent. Writes to ``sys.stdout``.
"""

from __future__ import annotations

import sys
import time


def format_logs(logs: dict[str, float]) -> str:
    return " - ".join(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}" for k, v in logs.items())


class ProgressBar:
    def __init__(self, total: int | None, verbose: int = 1, width: int = 30, stream=None):
        self.total, self.verbose, self.width = total, verbose, width
        self.stream = stream or sys.stdout
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self.interactive = verbose == 1 and hasattr(self.stream, "isatty") and self.stream.isatty()

    def _bar(self, done: int) -> str:
        if not self.total:
            return f"{done}"
        filled = int(self.width * done / self.total)
        arrow = ">" if done < self.total else "="
        bar = "=" * max(filled - 1, 0) + (arrow if filled else "") + "." * (self.width - filled)
        return f"{done}/{self.total} [{bar}]"

    def wants_update(self) -> bool:
        """Whether ``update`` would draw now (so the caller can skip computing logs)."""
        return self.interactive and time.perf_counter() - self._last_draw >= 0.1

    def update(self, done: int, logs: dict[str, float]) -> None:
        if not self.interactive:
            return
        self._last_draw = time.perf_counter()
        elapsed = self._last_draw - self.start
        line = f"{self._bar(done)} - {elapsed:.0f}s"
        if logs:
            line += " - " + format_logs(logs)
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()

    def finish(self, done: int, logs: dict[str, float]) -> None:
        if self.verbose == 0:
            return
        elapsed = time.perf_counter() - self.start
        per_step = elapsed / max(done, 1)
        line = f"{self._bar(done)} - {elapsed:.0f}s {per_step * 1e3:.0f}ms/step"
        if logs:
            line += " - " + format_logs(logs)
        self.stream.write(("\r" if self.interactive else "") + line + ("\x1b[K" if self.interactive else "") + "\n")
        self.stream.flush()
