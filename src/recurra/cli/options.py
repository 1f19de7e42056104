"""Options the commands share, written once: the same name, type and help wherever they appear.

Defaults that differ from command to command are given where the option is used; ``None`` there means
"the command's preset" (the estimator's own default, or a data set's chosen settings).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..layers.family import CELLS

CELL_NAMES = ", ".join(CELLS)

Cell = Annotated[str | None, typer.Option(help=f"The recurrent cell: {CELL_NAMES}.")]
Units = Annotated[int | None, typer.Option(min=1, help="Units per recurrent layer.")]
Layers = Annotated[int | None, typer.Option(min=1, help="Stacked recurrent layers.")]
Dropout = Annotated[float | None, typer.Option(min=0.0, max=0.99, help="Dropout rate.")]
Epochs = Annotated[int | None, typer.Option(min=0, help="Training epochs.")]
BatchSize = Annotated[int | None, typer.Option("--batch-size", min=1, help="Samples per batch.")]
LearningRate = Annotated[float | None, typer.Option("--learning-rate", help="Adam's learning rate.")]
LrSchedule = Annotated[
    str | None, typer.Option("--lr-schedule", help="The learning rate over the run: constant, cosine, step or onecycle.")
]
Seed = Annotated[int, typer.Option(help="Random seed (the same seed repeats the run).")]
Verbose = Annotated[int, typer.Option(min=0, max=2, help="0 silent, 1 a progress bar, 2 a line per epoch.")]
Threads = Annotated[int | None, typer.Option(min=1, help="CPU threads for torch (1: small networks train fastest on one).")]
ModelOut = Annotated[Path, typer.Option("--out", help="Directory for the trained model (checkpoints in OUT/checkpoints).")]
Resume = Annotated[bool, typer.Option("--resume", help="Continue an interrupted (or finished) run from its newest checkpoint.")]
ModelDir = Annotated[Path, typer.Argument(help="A model directory written by the train command.")]


def given(**options: object) -> dict[str, object]:
    """The options the user gave (those not ``None``), by name: what overrides a preset."""
    return {name: value for name, value in options.items() if value is not None}


__all__ = [
    "Cell",
    "Units",
    "Layers",
    "Dropout",
    "Epochs",
    "BatchSize",
    "LearningRate",
    "LrSchedule",
    "Seed",
    "Verbose",
    "Threads",
    "ModelOut",
    "Resume",
    "ModelDir",
    "given",
]
