"""One run of a comparison (one contender, one seed): the budget that stops it, its learning curve, its score."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from ..data.tasks import Task
from ..esn import EchoStateNetwork
from ..io import save_model
from ..train import Trainer, set_seed
from ..train.callbacks import Callback
from ..train.optimizers import Optimizer
from .contenders import build_model, parameter_count


class CompareMonitor:
    """What ``compare`` reports while it runs (the command line draws a progress bar from it); override
    the methods you need."""

    def run_started(self, index: int, total: int, cell: str, seed: int) -> None:
        """Run ``index`` (0-based) of ``total`` starts: ``cell`` with ``seed``."""

    def run_progress(self, steps: int, seconds: float, metric: float) -> None:
        """After each optimiser step: steps and training seconds so far, the last learning-curve metric."""

    def run_finished(self, run: Run) -> None:
        """A run ended (also for runs taken from an earlier ``results.json`` on resume)."""


@dataclass
class Run:
    """One contender, one seed."""

    cell: str
    seed: int
    units: int
    parameters: int
    metric: float
    train_seconds: float
    steps: int
    curve: list[dict[str, float]] = field(default_factory=list)
    fixed_parameters: int = 0  # esn: the reservoir's non-zero fixed weights (never trained)



def score(task: Task, y_pred: np.ndarray, y_true: np.ndarray) -> float:
    """The task's metric: MSE for regression, accuracy otherwise (on the last ``scored_steps`` steps
    for one class per step)."""
    if task.kind == "regression":
        return float(np.mean((np.asarray(y_pred, np.float64) - y_true) ** 2))
    labels = np.asarray(y_pred).argmax(-1)
    if task.kind == "sequence_classification":
        k = task.scored_steps or labels.shape[1]
        return float(np.mean(labels[:, -k:] == y_true[:, -k:]))
    return float(np.mean(labels == y_true))


def _predict(module: nn.Module, x: np.ndarray, batch: int = 1000) -> np.ndarray:
    was = module.training
    module.eval()
    outs = []
    with torch.no_grad():
        for s in range(0, len(x), batch):
            outs.append(module(torch.from_numpy(x[s : s + batch])).numpy())
    module.train(was)
    return np.concatenate(outs, 0)


class _Budget(Callback):
    """Counts steps and training time (evaluation excluded), records the learning curve, stops the run
    at the budget."""

    def __init__(self, steps: int | None, seconds: float | None, every: int, evaluate: Callable[[], float],
                 monitor: CompareMonitor | None = None):  # fmt: skip
        self.max_steps, self.max_seconds, self.every, self.evaluate = steps, seconds, every, evaluate
        self.monitor = monitor
        self.steps, self.seconds = 0, 0.0
        self.curve: list[dict[str, float]] = []
        self._losses: list[float] = []

    def on_train_begin(self, logs=None):
        self.curve.append({"step": 0, "seconds": 0.0, "metric": self.evaluate(), "loss": math.nan})
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.seconds += time.perf_counter() - self._start
        self.steps += 1
        self._losses.append(float(logs["loss"]) if logs else math.nan)
        done = (self.max_steps is not None and self.steps >= self.max_steps) or (
            self.max_seconds is not None and self.seconds >= self.max_seconds
        )
        if self.steps % self.every == 0 or done:
            point = {"step": self.steps, "seconds": self.seconds, "metric": self.evaluate()}
            point["loss"] = float(np.mean(self._losses)) if self._losses else math.nan
            self._losses = []
            self.curve.append(point)
        if self.monitor is not None:
            self.monitor.run_progress(self.steps, self.seconds, self.curve[-1]["metric"])
        if done:
            self.model.stop_training = True
        self._start = time.perf_counter()



def run_esn(task: Task, units: int, seed: int) -> Run:
    per_sequence = task.kind != "sequence_classification"
    T, O = task.length, task.n_outputs
    start = time.perf_counter()
    esn = EchoStateNetwork(units, washout=T - 1 if per_sequence else 0, seed=seed)
    if task.kind == "regression":
        targets = task.y_train.astype(np.float64)  # (n, O)
    else:
        targets = np.eye(O)[task.y_train]  # (n, O) or (n, T, O) one-hot
    if per_sequence:
        targets = np.repeat(targets[:, None, :], T, 1)  # (n, O) -> (n, T, O): only the last step is fitted
    esn.fit(list(task.x_train.astype(np.float64)), list(targets))
    seconds = time.perf_counter() - start
    preds = np.stack(esn.predict(list(task.x_test.astype(np.float64))))  # (n, T, O)
    if per_sequence:
        preds = preds[:, -1]  # (n, O)
    fixed = int(torch.count_nonzero(esn.reservoir.W)) + esn.reservoir.W_in.numel()
    return Run("esn", seed, units, parameter_count("esn", units, task), score(task, preds, task.y_test), seconds, 0, [], fixed)


def run_trained(
    task: Task,
    cell: str,
    units: int,
    seed: int,
    *,
    budget_steps: int | None,
    budget_seconds: float | None,
    batch_size: int,
    learning_rate: float,
    clipnorm: float | None,
    eval_every: int,
    curve_samples: int,
    layers: int = 1,
    lr_schedule: str | None = None,
    save_to: Path | None = None,
    monitor: CompareMonitor | None = None,
) -> Run:
    set_seed(seed)
    model = build_model(cell, units, task, layers)
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    loss = "mse" if task.kind == "regression" else "sparse_categorical_crossentropy"
    trainer = Trainer(model)
    steps_per_epoch = math.ceil(len(task.x_train) / batch_size)
    epochs = math.ceil(budget_steps / steps_per_epoch) if budget_steps is not None else 10**9
    schedule = {"name": "cosine", "T_max": budget_steps} if lr_schedule == "cosine" else None
    trainer.compile(Optimizer("adam", learning_rate=learning_rate), loss, clipnorm=clipnorm, lr_schedule=schedule)
    x_curve, y_curve = task.x_test[:curve_samples], task.y_test[:curve_samples]
    budget = _Budget(budget_steps, budget_seconds, eval_every, lambda: score(task, _predict(model, x_curve), y_curve), monitor)
    trainer.fit(task.x_train, task.y_train, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[budget], seed=seed)
    metric = score(task, _predict(model, task.x_test), task.y_test)
    if save_to is not None:
        save_model(model, save_to / f"{cell}-seed{seed}")
    return Run(cell, seed, units, n_params, metric, budget.seconds, budget.steps, budget.curve)



__all__ = ["CompareMonitor", "Run", "score", "run_esn", "run_trained"]
