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

Each finished run is written to ``out/results.json`` as it ends; ``resume=True`` skips the runs already
there (same task and budgets). With ``save_models`` every trained network is kept as
``out/models/<cell>-seed<k>/`` (JSON config and safetensors weights, ``recurra.load_model``), so it can be
inspected afterwards (for example with ``recurra.inspect.gradient_flow``).
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from ..checks import Integer, Number
from ..data.tasks import Task, make_task
from ..errors import ConfigError, unknown_name
from ..train.resume import differences
from .contenders import CELLS, RECURRENT, FlatMLP, build_model, parameter_count, units_for_budget
from .results import Comparison
from .runs import CompareMonitor, Run, run_esn, run_trained, score

PLATFORM_KEYS = ("torch", "threads", "machine", "python", "seeds")  # settings a resumed comparison may change


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


def _check_budgets(budget_steps, budget_seconds, lr_schedule, save_models, out, resume) -> None:
    if (budget_steps is None) == (budget_seconds is None):
        raise ConfigError(
            f"expected exactly one of budget_steps and budget_seconds, got budget_steps={budget_steps!r}, "
            f"budget_seconds={budget_seconds!r}"
        )
    Integer(1, optional=True)("budget_steps", budget_steps)
    Number(0, open_min=True, optional=True)("budget_seconds", budget_seconds)
    if lr_schedule not in (None, "cosine"):
        raise unknown_name("learning-rate schedule of compare", lr_schedule, ["cosine"])
    if lr_schedule is not None and budget_steps is None:
        raise ConfigError(f"lr_schedule={lr_schedule!r} decays over the step budget: give budget_steps, not budget_seconds")
    if save_models and out is None:
        raise ConfigError("save_models=True writes the trained networks under out/models/: give out")
    if resume and out is None:
        raise ConfigError("resume=True continues the results.json in out: give out")


def _seed_list(seeds: int | Sequence[int]) -> list[int]:
    seed_list = list(range(seeds)) if isinstance(seeds, int) and not isinstance(seeds, bool) else list(seeds)
    if not seed_list or any(isinstance(s, bool) or not isinstance(s, int) for s in seed_list):
        raise ConfigError(f"expected seeds as a positive count or a list of integers, got {seeds!r}")
    return seed_list


def _previous_runs(path: Path, settings: dict[str, Any]) -> list[Run]:
    """The runs of an earlier ``results.json`` at ``path`` with the same settings (refused, naming each
    difference, when they differ); none when there is no such file."""
    if not path.exists():
        return []
    earlier = Comparison.read_json(path)
    found = [
        d
        for d in differences(
            {k: v for k, v in earlier.settings.items() if k not in PLATFORM_KEYS},
            {k: v for k, v in settings.items() if k not in PLATFORM_KEYS},
            "settings",
        )
    ]
    if found:
        raise ConfigError(
            f"cannot resume from {path}: it was written with other settings ({'; '.join(found[:8])}); resume with the "
            "same task and budgets, or write to another directory"
        )
    return earlier.runs


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
    resume: bool = False,
    progress: Callable[[Run], None] | None = None,
    monitor: CompareMonitor | None = None,
) -> Comparison:
    """Train every cell of ``cells`` on ``task`` under the same budgets (module docstring); return a
    ``Comparison``. With ``out``, write ``out/results.json`` after every run and
    ``out/learning_curves.png`` at the end; ``resume=True`` keeps the runs an earlier ``results.json``
    there already holds (same task and budgets) and runs only the others.

    ``task``: a name of ``recurra.data.tasks.TASKS`` (generated with ``length``, ``n_train``,
    ``n_test``, ``data_seed``) or a ready ``Task``. ``seeds``: a count (seeds ``0..n-1``) or a list.
    Exactly one of ``budget_steps`` / ``budget_seconds``. ``eval_every``: steps between learning-curve
    points (default: a twentieth of the step budget, or 50 steps). ``layers``: recurrent layers stacked
    in every recurrent contender (Li et al.'s IndRNN results use 2; ``mlp`` and ``esn`` stay as they
    are), the width matched to the budget with all of them counted. ``lr_schedule``: ``None`` (constant
    ``learning_rate``) or ``"cosine"`` (from ``learning_rate`` down to 0 at the last of the
    ``budget_steps``; step budgets only). ``save_models`` (needs ``out``): keep every trained network
    in ``out/models/<cell>-seed<k>/``. ``progress(run)`` is called after every run; ``monitor`` (a
    ``CompareMonitor``) hears of every run's start, steps and end.
    """
    names = parse_cells(cells)
    _check_budgets(budget_steps, budget_seconds, lr_schedule, save_models, out, resume)
    seed_list = _seed_list(seeds)
    for name, v in (("params", params), ("batch_size", batch_size), ("curve_samples", curve_samples),
                    ("esn_max_units", esn_max_units), ("layers", layers)):  # fmt: skip
        Integer(1)(name, v)
    if eval_every is None:
        eval_every = max(1, budget_steps // 20) if budget_steps is not None else 50
    Integer(1)("eval_every", eval_every)
    t = task if isinstance(task, Task) else make_task(task, length=length, n_train=n_train, n_test=n_test, seed=data_seed)
    settings = {
        "task": t.name, "length": t.length, "features": t.features, "n_train": int(len(t.x_train)),
        "n_test": int(len(t.x_test)), "data_seed": data_seed, "params": params, "layers": layers,
        "budget_steps": budget_steps, "budget_seconds": budget_seconds, "batch_size": batch_size, "optimizer": "adam",
        "learning_rate": learning_rate, "lr_schedule": lr_schedule, "clipnorm": clipnorm, "seeds": seed_list,
        "eval_every": eval_every, "curve_samples": curve_samples, "esn_max_units": esn_max_units,
        "torch": torch.__version__, "threads": torch.get_num_threads(), "machine": platform.machine(),
        "python": platform.python_version(),
    }  # fmt: skip
    results = Path(out) / "results.json" if out is not None else None
    earlier = _previous_runs(results, settings) if resume else []
    result = Comparison(t.name, t.description, t.metric, t.higher_is_better, t.chance, settings, runs=[])
    plan = [(cell, seed) for cell in names for seed in seed_list]
    kept = {(r.cell, r.seed): r for r in earlier}
    result.runs += [r for r in earlier if (r.cell, r.seed) not in plan]  # runs of an earlier plan are kept too
    for index, (cell, seed) in enumerate(plan):
        if monitor is not None:
            monitor.run_started(index, len(plan), cell, seed)
        run = kept.get((cell, seed))
        if run is None:
            units = units_for_budget(cell, params, t, esn_max_units=esn_max_units, layers=layers)
            if cell == "esn":
                run = run_esn(t, units, seed)
            else:
                run = run_trained(
                    t, cell, units, seed, budget_steps=budget_steps, budget_seconds=budget_seconds, batch_size=batch_size,
                    learning_rate=learning_rate, clipnorm=clipnorm, eval_every=eval_every, curve_samples=curve_samples,
                    layers=layers, lr_schedule=lr_schedule, save_to=Path(out) / "models" if save_models else None,
                    monitor=monitor,
                )  # fmt: skip
        result.runs.append(run)
        if results is not None:
            result.save_json(results)  # every finished run is on disk: an interrupted comparison loses none
        if progress is not None:
            progress(run)
        if monitor is not None:
            monitor.run_finished(run)
    if out is not None:
        result.plot(Path(out) / "learning_curves.png")
    return result


__all__ = [
    "CELLS",
    "RECURRENT",
    "Comparison",
    "CompareMonitor",
    "FlatMLP",
    "Run",
    "build_model",
    "compare",
    "parameter_count",
    "parse_cells",
    "score",
    "units_for_budget",
]
