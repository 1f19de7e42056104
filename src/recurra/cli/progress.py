"""Progress the commands draw while they train: epochs of a fit, and runs and steps of a comparison.

Both report through the library's own hooks (a training ``Callback``, a ``CompareMonitor``), drawn
with rich: redrawn in place on a terminal, a final line otherwise.
"""

from __future__ import annotations

from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..compare import CompareMonitor, Run
from ..train.callbacks import Callback
from .console import console


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=30),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
        console=console,
    )


class EpochBar(Callback):
    """A bar over the epochs of each ``fit`` it is given to, with the latest losses (``label``: the first
    words of the line; a second fit in one command, such as a forecaster's calibration, gets its own bar)."""

    def __init__(self, epochs: int, label: str = "training", batches: int | None = None):
        super().__init__()
        self.epochs, self.label = epochs, label
        self.batches = batches  # per epoch: given, the bar moves with every batch (long epochs)
        self.epoch = 0
        self.fits = 0
        self._bar: Progress | None = None
        self._task: Any = None

    def on_train_begin(self, logs=None):
        self.fits += 1
        self._bar = _progress()
        label = self.label if self.fits == 1 else f"{self.label} ({self.fits})"
        self._task = self._bar.add_task(label, total=self.epochs, status="")
        self._bar.start()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.batches and self._bar is not None:
            self._bar.update(self._task, completed=round(self.epoch + min(batch + 1, self.batches) / self.batches, 3))

    def on_epoch_end(self, epoch, logs=None):
        status = " ".join(f"{k} {v:.4g}" for k, v in (logs or {}).items() if k in ("loss", "val_loss"))
        self._bar.update(self._task, completed=epoch + 1, status=status)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


class CompareBar(CompareMonitor):
    """Two bars for ``recurra compare``: the runs done, and the steps (or seconds) of the current run."""

    def __init__(self, budget_steps: int | None, budget_seconds: float | None):
        self.budget_steps, self.budget_seconds = budget_steps, budget_seconds
        self.bar = _progress()
        self.runs = self.bar.add_task("runs", total=None, status="")
        self.steps: Any = None

    def run_started(self, index: int, total: int, cell: str, seed: int) -> None:
        if index == 0:
            self.bar.start()
        self.bar.update(self.runs, total=total, completed=index, status=f"now {cell}, seed {seed}")
        if self.steps is not None:
            self.bar.remove_task(self.steps)
        total_steps = self.budget_steps if self.budget_steps is not None else None
        self.steps = self.bar.add_task(f"  {cell} seed {seed}", total=total_steps, status="")

    def run_progress(self, steps: int, seconds: float, metric: float) -> None:
        self.bar.update(self.steps, completed=steps, status=f"{seconds:.0f} s, test metric {metric:.4g}")

    def run_finished(self, run: Run) -> None:
        self.bar.update(self.runs, advance=1)
        self.bar.console.print(
            f"  {run.cell:<8} seed {run.seed}: {run.metric:.4f} ({run.units} units, {run.parameters:,} parameters, "
            f"{run.steps} steps, {run.train_seconds:.1f} s)",
            highlight=False,
        )

    def close(self) -> None:
        if self.steps is not None:
            self.bar.remove_task(self.steps)
        self.bar.stop()


__all__ = ["EpochBar", "CompareBar"]
