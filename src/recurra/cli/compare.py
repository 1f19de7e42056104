"""``recurra compare``: the recurrent family on one memory task, the same parameter and training budgets
(a thin command over ``recurra.compare.compare``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..compare import CELLS, Comparison, compare, parse_cells
from .console import console, fail, running, set_threads
from .options import BatchSize, Threads
from .progress import CompareBar

Task = Annotated[str, typer.Option(help="adding, copy, recall, digits_rows or digits_pixels.")]
Length = Annotated[int, typer.Option(min=2, help="Steps T of a sequence (adding: T; copy: blanks; recall: T). Not for digits.")]
Cells = Annotated[str, typer.Option(help="Comma-separated contenders.")]
Seeds = Annotated[int, typer.Option(min=1, help="Seeds per contender (FIRST_SEED, FIRST_SEED + 1, ...).")]
FirstSeed = Annotated[int, typer.Option("--first-seed", min=0, help="The first seed.")]
BudgetSteps = Annotated[int | None, typer.Option("--budget-steps", min=1, help="Optimiser steps per run (default 800).")]
BudgetSeconds = Annotated[float | None, typer.Option("--budget-seconds", min=0.001, help="Training seconds per run (or steps).")]
Params = Annotated[int, typer.Option(min=1, help="Parameter budget: each contender's width is chosen to match it.")]
Layers = Annotated[int, typer.Option(min=1, help="Recurrent layers stacked in each recurrent contender (not mlp, esn).")]
LearningRate = Annotated[float, typer.Option("--learning-rate", "--lr", min=0.0, help="Adam's learning rate, the same for all.")]
Schedule = Annotated[str | None, typer.Option("--lr-schedule", help="cosine: decay to 0 over the step budget (default none).")]
Clipnorm = Annotated[float, typer.Option(min=0.0, help="Gradient clipping by global norm (0: none).")]
NTrain = Annotated[int, typer.Option("--n-train", min=1, help="Training sequences (generated tasks).")]
NTest = Annotated[int, typer.Option("--n-test", min=1, help="Held-out sequences (generated tasks).")]
EvalEvery = Annotated[int | None, typer.Option("--eval-every", min=1, help="Steps between learning-curve points.")]
Out = Annotated[Path, typer.Option(help="Directory for results.json (written after every run) and learning_curves.png.")]
SaveModels = Annotated[bool, typer.Option("--save-models", help="Keep every trained network in OUT/models/<cell>-seed<k>/.")]
Resume = Annotated[bool, typer.Option("--resume", help="Keep the runs OUT/results.json already holds; run the others.")]


ALL_CELLS = ",".join(CELLS)
DEFAULT_STEPS = 800  # with the other defaults, the whole family and 2 seeds in about 2 minutes on 2 cores


def _fmt(metric: str, value: float) -> str:
    return f"{value:.4f}" if metric == "mse" else f"{100 * value:.1f} %"


def _table(result: Comparison, budget: str) -> Table:
    better = "higher" if result.higher_is_better else "lower"
    table = Table(title=f"{result.description} — test {result.metric} ({better} is better), {budget} per run")
    for col, justify in (("cell", "left"), ("units", "right"), ("parameters", "right"), (result.metric, "right")):
        table.add_column(col, justify=justify)
    for col in ("best / worst seed", "train s", "steps"):
        table.add_column(col, justify="right")
    m = result.metric
    for row in result.summary():
        lo, hi = row["metric_min"], row["metric_max"]
        best, worst = (hi, lo) if result.higher_is_better else (lo, hi)
        table.add_row(
            row["cell"],
            str(row["units"]),
            f"{row['parameters']:,}" + (" fitted" if row["cell"] == "esn" else ""),
            f"{_fmt(m, row['metric_mean'])} ± {_fmt(m, row['metric_std'])}",
            f"{_fmt(m, best)} / {_fmt(m, worst)}",
            f"{row['train_seconds']:.1f}",
            "closed form" if row["cell"] == "esn" else f"{row['steps']:.0f}",
        )
    return table


def compare_command(
    task: Task = "adding",
    length: Length = 30,
    cells: Cells = ALL_CELLS,
    seeds: Seeds = 2,
    first_seed: FirstSeed = 0,
    budget_steps: BudgetSteps = None,
    budget_seconds: BudgetSeconds = None,
    params: Params = 3_000,
    layers: Layers = 1,
    batch_size: BatchSize = 64,
    learning_rate: LearningRate = 1e-3,
    lr_schedule: Schedule = None,
    clipnorm: Clipnorm = 1.0,
    n_train: NTrain = 10_000,
    n_test: NTest = 1_000,
    eval_every: EvalEvery = None,
    threads: Threads = None,
    out: Out = Path("compare-results"),
    save_models: SaveModels = False,
    resume: Resume = False,
) -> None:
    """Train each cell under the same parameter and step (or time) budget, over several seeds; print the
    table, write results.json (after every run) and learning_curves.png."""
    if budget_steps is not None and budget_seconds is not None:
        raise fail("give one of --budget-steps and --budget-seconds, not both")
    if budget_seconds is None and budget_steps is None:
        budget_steps = DEFAULT_STEPS
    set_threads(threads)
    budget = f"{budget_steps} steps" if budget_steps is not None else f"{budget_seconds:g} s of training"
    with running(resume="--resume"):
        names = parse_cells(cells)
        console.print(
            f"{task}: {', '.join(names)}; ~{params:,} parameters each, {layers} recurrent layer{'s' if layers > 1 else ''}, "
            f"{budget} per run, {seeds} seed{'s' if seeds > 1 else ''} from {first_seed}, batch {batch_size}, "
            f"Adam lr {learning_rate:g}{' (cosine decay)' if lr_schedule == 'cosine' else ''}, clipnorm {clipnorm:g}"
        )
        bar = CompareBar(budget_steps, budget_seconds)
        try:
            result = compare(
                task, cells=names, length=length, seeds=list(range(first_seed, first_seed + seeds)), params=params,
                layers=layers, budget_steps=budget_steps, budget_seconds=budget_seconds, batch_size=batch_size,
                learning_rate=learning_rate, lr_schedule=lr_schedule, clipnorm=clipnorm or None, n_train=n_train,
                n_test=n_test, eval_every=eval_every, out=out, save_models=save_models, resume=resume, monitor=bar,
            )  # fmt: skip
        finally:
            bar.close()
    console.print(_table(result, budget))
    console.print(f"chance level: {_fmt(result.metric, result.chance)}; mean ± std over {seeds} seeds")
    if "esn" in names:
        console.print("esn: readout fitted in closed form (one ridge solve, no gradient steps): its budget is not the others'")
    console.print(f"wrote {out / 'results.json'} and {out / 'learning_curves.png'}")
    if save_models:
        console.print(f"trained networks in {out / 'models'}/")
