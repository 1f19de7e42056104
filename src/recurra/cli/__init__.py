"""The ``recurra`` command line: a package of thin commands over importable functions.

``console`` (errors, exit codes, interrupts, notes, threads), ``options`` (the options every command
shares) and ``progress`` (bars over epochs and runs) serve every command; each application has its
module: ``forecast``, ``text``, ``classify``, ``tag``, ``translate``, ``speech``, ``compare``, and ``demo`` and ``version`` here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .._version import __version__
from ..demo import CELLS, run_demo
from .classify import classify_app
from .compare import compare_command
from .console import console, fail, running, show_progress_messages
from .export import export_command
from .forecast import forecast_app
from .options import Seed, Verbose
from .speech import speech_app
from .tag import tag_app
from .text import text_app
from .translate import translate_app

app = typer.Typer(help="recurra: recurrent neural networks on PyTorch.", no_args_is_help=True, add_completion=False)


@app.callback()
def _every_command() -> None:
    """recurra: recurrent neural networks on PyTorch."""
    show_progress_messages()  # e.g. that a compiled kernel is being built for the first time


@app.command()
def demo(
    cell: Annotated[str, typer.Option(help="Recurrent layer: lstm, gru or rnn.")] = "lstm",
    units: Annotated[int, typer.Option(min=1, help="Units of the recurrent layer.")] = 32,
    epochs: Annotated[int, typer.Option(min=1, help="Training epochs.")] = 8,
    seed: Seed = 0,
    verbose: Verbose = 1,
    checkpoint_dir: Annotated[Path | None, typer.Option("--checkpoint-dir", help="Checkpoint every epoch here.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the newest checkpoint in --checkpoint-dir.")] = False,
) -> None:
    """Train a recurrent network on a generated seasonal series and compare it with naive forecasts."""
    if cell not in CELLS:
        raise fail(f"expected --cell in {', '.join(sorted(CELLS))}, got {cell!r}")
    if resume and checkpoint_dir is None:
        raise fail("--resume needs --checkpoint-dir (where the checkpoints are)")
    console.print(f"Training {cell.upper()}({units}) to forecast sin(2πt/24) + 0.5·sin(2πt/7) + noise one step ahead")
    with running(resume="--resume"):
        r = run_demo(cell, units=units, epochs=epochs, seed=seed, verbose=verbose, checkpoint_dir=checkpoint_dir, resume=resume)
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


app.add_typer(forecast_app, name="forecast")
app.add_typer(text_app, name="text")
app.add_typer(classify_app, name="classify")
app.add_typer(tag_app, name="tag")
app.add_typer(translate_app, name="translate")
app.add_typer(speech_app, name="speech")
app.command("compare")(compare_command)
app.command("export")(export_command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
