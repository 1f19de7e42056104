"""A fair comparison of the recurrent family on one memory task.

Every contender gets:

- the same **parameter budget** ``P``: its width (units) is chosen so that its trainable parameter
  count, recurrent layer and output layer together, is as close to ``P`` as the width allows (the
  actual counts are reported);
- the same **training budget**: ``budget_steps`` optimiser steps, or ``budget_seconds`` seconds of
  training (wall clock, evaluation excluded);
- the same data (generated once from ``data_seed``), optimiser (Adam, ``learning_rate``, and the same
  ``lr_schedule``: none, or ``"cosine"`` down to 0 over the step budget), batch size, gradient
  clipping (``clipnorm``), loss and metric; several seeds (initial weights and batch order).

Contenders (``CELLS``), each a recurrent layer of ``H`` units and a ``Dense`` output layer:
``rnn`` (SimpleRNN, tanh), ``lstm``, ``gru``, ``indrnn`` (relu, ``|u| <= 2^(1/T)`` as in Li et al.),
``mingru``, ``minlstm``; and two references:

- ``mlp``: no memory at all in the recurrent sense, the whole window flattened into one vector,
  ``Dense(H, relu)`` then the output layer (``T · F · H`` weights: long windows leave it few units);
- ``esn``: an ``EchoStateNetwork`` whose readout is fitted in closed form (ridge regression, one
  solve, no gradient steps). Its budget is different by nature: ``N = min(P / O - 1, esn_max_units)``
  reservoir units (``O`` outputs), ``(N + 1) · O`` fitted weights, and ``N² · density`` fixed random
  ones; its time is the time of the fit. For tasks with one target per sequence only each
  sequence's last state is fitted (``washout = T - 1``).

Metrics: MSE (regression; lower is better) or accuracy (classification; for the copy task counted on
the copied steps only), on a held-out test set, next to the task's chance level
(``recurra.data.tasks``). Learning curves: the metric on the first ``curve_samples`` test sequences
every ``eval_every`` steps.

With ``save_models`` every trained network is kept as ``out/models/<cell>-seed<k>/`` (JSON config and
safetensors weights, ``recurra.load_model``), so it can be inspected afterwards (for example with
``recurra.inspect.gradient_flow``).
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn

from .data.tasks import Task, make_task
from .errors import ConfigError, unknown_name
from .esn import EchoStateNetwork
from .io import save_model
from .layers import Dense
from .layers.family import recurrent_layer
from .model import Sequential
from .train import Trainer, set_seed
from .train.callbacks import Callback
from .train.optimizers import Optimizer

RECURRENT = ("rnn", "lstm", "gru", "indrnn", "mingru", "minlstm")  # the family, in the order tables list it
CELLS = (*RECURRENT, "esn", "mlp")
_LIMIT_UNITS = 1_000_000


# -- the contenders --------------------------------------------------------------------------------


def _recurrent_layer_count(cell: str, H: int, F: int) -> int:
    """Trainable parameters of one recurrent layer of ``cell`` with ``H`` units on ``F`` inputs."""
    return {
        "rnn": H * F + H * H + H,
        "lstm": 4 * (H * F + H * H + H),
        "gru": 3 * (H * F + H * H) + 6 * H,
        "indrnn": H * F + 2 * H,
        "mingru": 2 * (H * F + H),
        "minlstm": 3 * (H * F + H),
    }[cell]


def parameter_count(cell: str, units: int, task: Task, layers: int = 1) -> int:
    """Trainable parameters of ``cell`` with ``units`` on ``task`` (``layers`` stacked recurrent layers
    of ``units`` each + the output layer), from the layers' shapes: ``F`` features, ``T`` steps, ``O``
    outputs per step, ``H = units``. One recurrent layer with ``F_in`` inputs (``F`` for the first,
    ``H`` for the others):

    ========  ========================================================
    rnn       ``H F_in + H² + H``
    lstm      ``4 (H F_in + H² + H)``
    gru       ``3 (H F_in + H²) + 6 H`` (``reset_after``: two biases)
    indrnn    ``H F_in + 2 H``
    mingru    ``2 (H F_in + H)``
    minlstm   ``3 (H F_in + H)``
    mlp       ``T F H + H`` (one hidden layer on the flattened window; ``layers`` does not apply)
    esn       ``(H + 1) O`` (the fitted readout only; ``layers`` does not apply)
    ========  ========================================================

    plus the output layer ``H O + O`` (``mlp`` with one output per step: ``H T O + T O``).
    """
    H, F, T, O = units, task.features, task.length, task.n_outputs
    if cell in RECURRENT:
        stack = _recurrent_layer_count(cell, H, F) + (layers - 1) * _recurrent_layer_count(cell, H, H)
        return stack + H * O + O
    if cell == "mlp":
        out = T * O if task.kind == "sequence_classification" else O
        return T * F * H + H + H * out + out
    if cell == "esn":
        return (H + 1) * O
    raise unknown_name("cell", cell, CELLS)


def units_for_budget(cell: str, params: int, task: Task, *, esn_max_units: int = 400, layers: int = 1) -> int:
    """The width whose ``parameter_count`` is closest to ``params`` (the smaller on a tie); at least 1.
    For ``esn``, at most ``esn_max_units``."""
    best, best_gap = 1, abs(parameter_count(cell, 1, task, layers) - params)
    H = 1
    while H < _LIMIT_UNITS:
        H += 1
        count = parameter_count(cell, H, task, layers)
        gap = abs(count - params)
        if gap < best_gap:
            best, best_gap = H, gap
        if count > params:
            break
    return min(best, esn_max_units) if cell == "esn" else best


class FlatMLP(nn.Module):
    """The memoryless reference: ``(B, T, F) -> (B, T·F) -> Dense(H, relu) -> Dense(out)``, with
    ``out = (O,)`` or ``(T, O)``; softmax over ``O`` for classification."""

    def __init__(self, steps: int, features: int, units: int, out_shape: tuple[int, ...], softmax: bool):
        super().__init__()
        self.hidden = nn.Linear(steps * features, units)
        self.out = nn.Linear(units, int(np.prod(out_shape)))
        self.out_shape, self.softmax = tuple(out_shape), softmax

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.hidden(x.reshape(x.shape[0], -1)))  # (B, T, F) -> (B, T·F) -> (B, H)
        y = self.out(h).reshape(x.shape[0], *self.out_shape)  # (B, O) or (B, T, O)
        return torch.softmax(y, -1) if self.softmax else y


def build_model(cell: str, units: int, task: Task, layers: int = 1) -> nn.Module:
    """The network of a trained contender (every cell but ``esn``), weights created at once:
    ``layers`` recurrent layers of ``units`` (each but the last returning its whole sequence), then
    ``Dense`` outputs."""
    classify = task.kind != "regression"
    per_step = task.kind == "sequence_classification"
    T, F, O = task.length, task.features, task.n_outputs
    if cell == "mlp":
        return FlatMLP(T, F, units, (T, O) if per_step else (O,), classify)
    if cell not in RECURRENT:
        raise unknown_name("cell", cell, [c for c in CELLS if c != "esn"])
    extra = {"recurrent_max": 2.0 ** (1.0 / T)} if cell == "indrnn" else {}  # |u| <= 2^(1/T), as in Li et al.
    stack = [
        recurrent_layer(cell, units, return_sequences=per_step or i < layers - 1, input_shape=(T, F) if i == 0 else None, **extra)
        for i in range(layers)
    ]
    return Sequential([*stack, Dense(O, activation="softmax" if classify else None)])


# -- scoring ---------------------------------------------------------------------------------------


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

    def __init__(self, steps: int | None, seconds: float | None, every: int, evaluate: Callable[[], float]):
        self.max_steps, self.max_seconds, self.every, self.evaluate = steps, seconds, every, evaluate
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
        if done:
            self.model.stop_training = True
        self._start = time.perf_counter()


# -- results ---------------------------------------------------------------------------------------


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


@dataclass
class Comparison:
    """The result of ``compare``: the settings, the task, every run, and per-cell summaries."""

    task: str
    description: str
    metric: str
    higher_is_better: bool
    chance: float
    settings: dict[str, Any]
    runs: list[Run]

    def summary(self) -> list[dict[str, Any]]:
        """Per cell (in the order run): units, parameters, metric mean / std / min / max over the seeds,
        mean training seconds and steps."""
        rows = []
        for cell in dict.fromkeys(r.cell for r in self.runs):
            runs = [r for r in self.runs if r.cell == cell]
            m = np.array([r.metric for r in runs], dtype=np.float64)
            rows.append(
                {
                    "cell": cell,
                    "units": runs[0].units,
                    "parameters": runs[0].parameters,
                    "fixed_parameters": runs[0].fixed_parameters,
                    "metric_mean": float(m.mean()),
                    "metric_std": float(m.std(ddof=1)) if len(m) > 1 else 0.0,
                    "metric_min": float(m.min()),
                    "metric_max": float(m.max()),
                    "seeds": len(runs),
                    "train_seconds": float(np.mean([r.train_seconds for r in runs])),
                    "steps": float(np.mean([r.steps for r in runs])),
                }
            )
        return rows

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "runs"}
        d["summary"] = self.summary()
        d["runs"] = [asdict(r) for r in self.runs]
        return d

    def save_json(self, path: str | os.PathLike) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1, allow_nan=True) + "\n")

    def plot(self, path: str | os.PathLike | None = None) -> Any:
        """The learning curves: the metric (mean over the seeds, the band from the worst to the best seed)
        against steps, or seconds for a time budget; ``esn`` as a horizontal line (fitted in one solve);
        chance level dashed. Writes ``path`` when given; returns the ``Figure``."""
        from .inspect import _plot

        by_time = self.settings.get("budget_seconds") is not None
        fig = _plot.new_figure(7.0, 4.4)
        ax = fig.add_subplot()
        for cell in dict.fromkeys(r.cell for r in self.runs):
            runs = [r for r in self.runs if r.cell == cell]
            if cell == "esn" or not runs[0].curve:
                ax.axhline(float(np.mean([r.metric for r in runs])), linestyle=":", label=f"{cell} (closed form)", color="0.3")
                continue
            n = min(len(r.curve) for r in runs)
            xs = np.array([[p["seconds" if by_time else "step"] for p in r.curve[:n]] for r in runs]).mean(0)
            ys = np.array([[p["metric"] for p in r.curve[:n]] for r in runs])  # (seeds, points)
            (line,) = ax.plot(xs, ys.mean(0), label=cell)
            ax.fill_between(xs, ys.min(0), ys.max(0), color=line.get_color(), alpha=0.15)
        ax.axhline(self.chance, linestyle="--", color="k", linewidth=0.8, label="chance")
        if self.metric == "mse":
            ax.set_yscale("log")
        ax.set_xlabel("training seconds" if by_time else "optimiser steps")
        ax.set_ylabel(f"test {self.metric}")
        ax.set_title(self.description, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, ncol=2)
        _plot.save(fig, path)
        return fig


# -- the comparison --------------------------------------------------------------------------------


def parse_cells(cells: str | Sequence[str]) -> list[str]:
    """``"rnn,lstm"`` or ``["rnn", "lstm"]`` -> a checked list (``UnknownNameError`` lists the valid names)."""
    names = [c.strip().lower() for c in (cells.split(",") if isinstance(cells, str) else cells) if c.strip()]
    if not names:
        raise ConfigError(f"expected at least one cell of {', '.join(CELLS)}, got none")
    for c in names:
        if c not in CELLS:
            raise unknown_name("cell", c, CELLS)
    if len(set(names)) != len(names):
        raise ConfigError(f"expected each cell once, got {', '.join(names)}")
    return names


def _run_esn(task: Task, units: int, seed: int) -> Run:
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


def _run_trained(
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
    budget = _Budget(budget_steps, budget_seconds, eval_every, lambda: score(task, _predict(model, x_curve), y_curve))
    trainer.fit(task.x_train, task.y_train, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[budget], seed=seed)
    metric = score(task, _predict(model, task.x_test), task.y_test)
    if save_to is not None:
        save_model(model, save_to / f"{cell}-seed{seed}")
    return Run(cell, seed, units, n_params, metric, budget.seconds, budget.steps, budget.curve)


def compare(
    task: str | Task = "adding",
    *,
    cells: str | Sequence[str] = CELLS,
    length: int = 100,
    seeds: int | Sequence[int] = 3,
    params: int = 10_000,
    budget_steps: int | None = None,
    budget_seconds: float | None = None,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    clipnorm: float | None = 1.0,
    n_train: int = 10_000,
    n_test: int = 1_000,
    data_seed: int = 0,
    eval_every: int | None = None,
    curve_samples: int = 500,
    esn_max_units: int = 400,
    layers: int = 1,
    lr_schedule: str | None = None,
    out: str | os.PathLike | None = None,
    save_models: bool = False,
    progress: Callable[[Run], None] | None = None,
) -> Comparison:
    """Train every cell of ``cells`` on ``task`` under the same budgets (module docstring); return a
    ``Comparison``. With ``out``, write ``out/results.json`` and ``out/learning_curves.png``.

    ``task``: a name of ``recurra.data.tasks.TASKS`` (generated with ``length``, ``n_train``,
    ``n_test``, ``data_seed``) or a ready ``Task``. ``seeds``: a count (seeds ``0..n-1``) or a list.
    Exactly one of ``budget_steps`` / ``budget_seconds``. ``eval_every``: steps between learning-curve
    points (default: a twentieth of the step budget, or 50 steps). ``layers``: recurrent layers stacked
    in every recurrent contender (Li et al.'s IndRNN results use 2; ``mlp`` and ``esn`` stay as they
    are), the width matched to the budget with all of them counted. ``lr_schedule``: ``None`` (constant
    ``learning_rate``) or ``"cosine"`` (from ``learning_rate`` down to 0 at the last of the
    ``budget_steps``; step budgets only). ``save_models`` (needs ``out``): keep every trained network
    in ``out/models/<cell>-seed<k>/``. ``progress(run)`` is called after every run.
    """
    names = parse_cells(cells)
    if (budget_steps is None) == (budget_seconds is None):
        raise ConfigError(
            f"expected exactly one of budget_steps and budget_seconds, got budget_steps={budget_steps!r}, "
            f"budget_seconds={budget_seconds!r}"
        )
    if budget_steps is not None and (isinstance(budget_steps, bool) or not isinstance(budget_steps, int) or budget_steps < 1):
        raise ConfigError(f"expected budget_steps to be a positive integer, got {budget_steps!r}")
    if budget_seconds is not None and (not isinstance(budget_seconds, (int, float)) or not budget_seconds > 0):
        raise ConfigError(f"expected budget_seconds > 0, got {budget_seconds!r}")
    if isinstance(params, bool) or not isinstance(params, int) or params < 1:
        raise ConfigError(f"expected params (the parameter budget) to be a positive integer, got {params!r}")
    seed_list = list(range(seeds)) if isinstance(seeds, int) and not isinstance(seeds, bool) else list(seeds)
    if not seed_list or any(isinstance(s, bool) or not isinstance(s, int) for s in seed_list):
        raise ConfigError(f"expected seeds as a positive count or a list of integers, got {seeds!r}")
    for name, v in (
        ("batch_size", batch_size),
        ("curve_samples", curve_samples),
        ("esn_max_units", esn_max_units),
        ("layers", layers),
    ):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ConfigError(f"expected {name} to be a positive integer, got {v!r}")
    if lr_schedule not in (None, "cosine"):
        raise unknown_name("learning-rate schedule of compare", lr_schedule, ["cosine"])
    if lr_schedule is not None and budget_steps is None:
        raise ConfigError(f"lr_schedule={lr_schedule!r} decays over the step budget: give budget_steps, not budget_seconds")
    if save_models and out is None:
        raise ConfigError("save_models=True writes the trained networks under out/models/: give out")
    if eval_every is None:
        eval_every = max(1, budget_steps // 20) if budget_steps is not None else 50
    if isinstance(eval_every, bool) or not isinstance(eval_every, int) or eval_every < 1:
        raise ConfigError(f"expected eval_every to be a positive integer, got {eval_every!r}")
    t = task if isinstance(task, Task) else make_task(task, length=length, n_train=n_train, n_test=n_test, seed=data_seed)

    units = {c: units_for_budget(c, params, t, esn_max_units=esn_max_units, layers=layers) for c in names}
    runs: list[Run] = []
    for cell in names:
        for seed in seed_list:
            if cell == "esn":
                run = _run_esn(t, units[cell], seed)
            else:
                run = _run_trained(
                    t,
                    cell,
                    units[cell],
                    seed,
                    budget_steps=budget_steps,
                    budget_seconds=budget_seconds,
                    batch_size=batch_size,
                    learning_rate=learning_rate,
                    clipnorm=clipnorm,
                    eval_every=eval_every,
                    curve_samples=curve_samples,
                    layers=layers,
                    lr_schedule=lr_schedule,
                    save_to=Path(out) / "models" if save_models else None,
                )
            runs.append(run)
            if progress is not None:
                progress(run)
    settings = {
        "task": t.name,
        "length": t.length,
        "features": t.features,
        "n_train": int(len(t.x_train)),
        "n_test": int(len(t.x_test)),
        "data_seed": data_seed,
        "params": params,
        "layers": layers,
        "budget_steps": budget_steps,
        "budget_seconds": budget_seconds,
        "batch_size": batch_size,
        "optimizer": "adam",
        "learning_rate": learning_rate,
        "lr_schedule": lr_schedule,
        "clipnorm": clipnorm,
        "seeds": seed_list,
        "eval_every": eval_every,
        "curve_samples": curve_samples,
        "esn_max_units": esn_max_units,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "python": platform.python_version(),
    }
    result = Comparison(t.name, t.description, t.metric, t.higher_is_better, t.chance, settings, runs)
    if out is not None:
        out = Path(out)
        result.save_json(out / "results.json")
        result.plot(out / "learning_curves.png")
    return result


__all__ = [
    "CELLS",
    "Comparison",
    "FlatMLP",
    "Run",
    "build_model",
    "compare",
    "parameter_count",
    "parse_cells",
    "score",
    "units_for_budget",
]
