"""``recurra compare``: the recurrent family on one memory task, same parameter and training budgets.

Registered on the ``recurra`` app by ``cli.py``; like it, the only kind of module that parses
arguments or prints with rich.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from ..compare import compare, parse_cells
from ..errors import RecurraError

console = Console()


def _fmt(metric: str, value: float) -> str:
    return f"{value:.4f}" if metric == "mse" else f"{100 * value:.1f} %"


def compare_command(
    task: str = typer.Option("adding", help="adding, copy, recall, digits_rows or digits_pixels."),
    length: int = typer.Option(100, min=2, help="Steps T of a sequence (adding: T; copy: blanks; recall: T). Not for digits."),
    cells: str = typer.Option("rnn,lstm,gru,indrnn,mingru,minlstm,esn,mlp", help="Comma-separated contenders."),
    seeds: int = typer.Option(3, min=1, help="Seeds per contender (FIRST_SEED, FIRST_SEED + 1, ...)."),
    first_seed: int = typer.Option(0, "--first-seed", min=0, help="The first seed."),
    budget_steps: int = typer.Option(None, "--budget-steps", min=1, help="Optimiser steps per run."),
    budget_seconds: float = typer.Option(None, "--budget-seconds", min=0.001, help="Training seconds per run (or steps)."),
    params: int = typer.Option(10_000, min=1, help="Parameter budget: each contender's width is chosen to match it."),
    layers: int = typer.Option(1, min=1, help="Recurrent layers stacked in each recurrent contender (not mlp, esn)."),
    batch_size: int = typer.Option(64, "--batch-size", min=1),
    lr: float = typer.Option(1e-3, "--lr", min=0.0, help="Adam's learning rate, the same for all."),
    lr_schedule: str = typer.Option(
        None, "--lr-schedule", help="cosine: the learning rate decays to 0 over the step budget (default: constant)."
    ),
    clipnorm: float = typer.Option(1.0, min=0.0, help="Gradient clipping by global norm (0: none)."),
    n_train: int = typer.Option(10_000, "--n-train", min=1, help="Training sequences (generated tasks)."),
    n_test: int = typer.Option(1_000, "--n-test", min=1, help="Held-out sequences (generated tasks)."),
    eval_every: int = typer.Option(None, "--eval-every", min=1, help="Steps between learning-curve points."),
    threads: int = typer.Option(None, min=1, help="torch threads (default: torch's choice)."),
    out: str = typer.Option("compare-results", help="Directory for results.json and learning_curves.png."),
    save_models: bool = typer.Option(
        False, "--save-models", help="Keep every trained network in OUT/models/<cell>-seed<k>/ (recurra.load_model)."
    ),
) -> None:
    """Train each cell under the same parameter and step (or time) budget, over several seeds; print
    the table, write results.json and learning_curves.png."""
    import torch

    out = Path(out)
    if (budget_steps is None) == (budget_seconds is None):
        console.print("[red]error:[/red] give exactly one of --budget-steps and --budget-seconds")
        raise typer.Exit(2)
    try:
        names = parse_cells(cells)
    except RecurraError as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from None
    if threads is not None:
        torch.set_num_threads(threads)
    budget = f"{budget_steps} steps" if budget_steps is not None else f"{budget_seconds:g} s of training"
    console.print(
        f"{task}: {', '.join(names)}; ~{params:,} parameters each, {layers} recurrent layer{'s' if layers > 1 else ''}, "
        f"{budget} per run, {seeds} seed{'s' if seeds > 1 else ''} from {first_seed}, "
        f"batch {batch_size}, Adam lr {lr:g}{' (cosine decay)' if lr_schedule == 'cosine' else ''}, clipnorm {clipnorm:g}"
    )

    def progress(run) -> None:
        console.print(
            f"  {run.cell:<8} seed {run.seed}: {run.metric:.4f} ({run.units} units, {run.parameters:,} parameters, "
            f"{run.steps} steps, {run.train_seconds:.1f} s)"
        )

    try:
        result = compare(
            task,
            cells=names,
            length=length,
            seeds=list(range(first_seed, first_seed + seeds)),
            params=params,
            layers=layers,
            budget_steps=budget_steps,
            budget_seconds=budget_seconds,
            batch_size=batch_size,
            learning_rate=lr,
            lr_schedule=lr_schedule,
            clipnorm=clipnorm or None,
            n_train=n_train,
            n_test=n_test,
            eval_every=eval_every,
            out=out,
            save_models=save_models,
            progress=progress,
        )
    except RecurraError as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from None
    better = "higher" if result.higher_is_better else "lower"
    table = Table(title=f"{result.description} — test {result.metric} ({better} is better), {budget} per run")
    for col, justify in (("cell", "left"), ("units", "right"), ("parameters", "right"), (result.metric, "right")):
        table.add_column(col, justify=justify)
    table.add_column("best / worst seed", justify="right")
    table.add_column("train s", justify="right")
    table.add_column("steps", justify="right")
    for row in result.summary():
        m = result.metric
        params_text = f"{row['parameters']:,}" + (" fitted" if row["cell"] == "esn" else "")
        best, worst = (row["metric_min"], row["metric_max"])
        if result.higher_is_better:
            best, worst = worst, best
        table.add_row(
            row["cell"],
            str(row["units"]),
            params_text,
            f"{_fmt(m, row['metric_mean'])} ± {_fmt(m, row['metric_std'])}",
            f"{_fmt(m, best)} / {_fmt(m, worst)}",
            f"{row['train_seconds']:.1f}",
            "closed form" if row["cell"] == "esn" else f"{row['steps']:.0f}",
        )
    console.print(table)
    console.print(f"chance level: {_fmt(result.metric, result.chance)}; mean ± std over {seeds} seeds")
    if "esn" in names:
        console.print("esn: readout fitted in closed form (one ridge solve, no gradient steps): its budget is not the others'")
    console.print(f"wrote {out / 'results.json'} and {out / 'learning_curves.png'}")
    if save_models:
        console.print(f"trained networks in {out / 'models'}/")
