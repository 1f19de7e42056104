"""The ``recurra`` command line (typer). The only module that parses arguments or prints with rich."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from .._version import __version__
from ..demo import CELLS, run_demo
from ..errors import TrainingInterrupted
from .compare import compare_command
from .forecast import forecast_app
from .text import classify_app, text_app

app = typer.Typer(help="recurra: recurrent neural networks on PyTorch.", no_args_is_help=True, add_completion=False)
console = Console()


@app.command()
def demo(
    cell: str = typer.Option("lstm", help="Recurrent layer: lstm, gru or rnn."),
    units: int = typer.Option(32, min=1, help="Units of the recurrent layer."),
    epochs: int = typer.Option(8, min=1, help="Training epochs."),
    seed: int = typer.Option(0, help="Random seed (the same seed repeats the run)."),
    verbose: int = typer.Option(1, min=0, max=2, help="0 silent, 1 progress bar, 2 one line per epoch."),
    checkpoint_dir: str = typer.Option(None, "--checkpoint-dir", help="Checkpoint every epoch into this directory."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the newest checkpoint in --checkpoint-dir."),
) -> None:
    """Train a recurrent network on a generated seasonal series and compare it with naive forecasts."""
    if cell not in CELLS:
        console.print(f"[red]error:[/red] expected --cell in {', '.join(sorted(CELLS))}, got {cell!r}")
        raise typer.Exit(2)
    console.print(f"Training {cell.upper()}({units}) to forecast sin(2πt/24) + 0.5·sin(2πt/7) + noise one step ahead")
    if resume and checkpoint_dir is None:
        console.print("[red]error:[/red] --resume needs --checkpoint-dir (where the checkpoints are)")
        raise typer.Exit(2)
    try:
        r = run_demo(cell, units=units, epochs=epochs, seed=seed, verbose=verbose, checkpoint_dir=checkpoint_dir, resume=resume)
    except TrainingInterrupted as e:
        console.print(f"[yellow]{e}[/yellow]")
        raise typer.Exit(130) from None
    table = Table(title=f"Held-out one-step forecasts ({r.parameters:,} parameters, {r.train_seconds:.1f} s of training)")
    table.add_column("forecaster")
    table.add_column("test MSE", justify="right")
    table.add_row(f"{cell.upper()}({units})", f"{r.test_mse:.4f}")
    table.add_row("naive (last value)", f"{r.naive_mse:.4f}")
    table.add_row("seasonal naive (24 steps back)", f"{r.seasonal_naive_mse:.4f}")
    console.print(table)
    best_baseline = min(r.naive_mse, r.seasonal_naive_mse)
    console.print(f"{cell.upper()} / best baseline MSE: {r.test_mse / best_baseline:.2f} (noise floor ≈ 0.0100)")


@app.command()
def version() -> None:
    """Print recurra's version."""
    console.print(__version__)

app.add_typer(text_app, name="text")
app.add_typer(classify_app, name="classify")


app.command("compare")(compare_command)


app.add_typer(forecast_app, name="forecast")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
