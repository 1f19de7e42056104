"""How the application estimators train their networks: one place for what they share.

Adam at the estimator's learning rate (constant, or decayed by a named schedule of ``recurra.train.schedules``
such as ``"cosine"``) with gradient clipping, early stopping on the validation loss that
keeps the best weights (when there is validation data and a ``patience``), the engine's ``fit`` with its
checkpoints and resume; the module is left in eval mode and the history returned as plain floats.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from torch import nn

from .callbacks import Callback, EarlyStopping
from .optimizers import Adam
from .trainer import Trainer

LR_SCHEDULES = ("constant", "cosine", "step", "onecycle")  # the estimators' ``lr_schedule`` choices
LR_SCHEDULE_HELP = "the learning rate over the run: constant, cosine (to 0), step (x0.1 each third), onecycle (up, then down)"


def fit_module(
    module: nn.Module,
    loss: Callable[..., Any] | Sequence[Callable[..., Any]],
    x: Any,
    y: Any = None,
    *,
    learning_rate: float,
    clipnorm: float | None,
    lr_schedule: str = "constant",
    patience: int | None,
    epochs: int,
    seed: int,
    batch_size: int | None = None,
    validation_data: Any = None,
    verbose: int = 0,
    checkpoint_dir: str | os.PathLike | None = None,
    resume: bool = False,
    callbacks: Sequence[Callback] | None = None,
    settings: dict[str, Any] | None = None,
) -> dict[str, list[float]]:
    """Train ``module`` on ``x`` (and ``y``) as the estimators do (see the module docstring); the history."""
    trainer = Trainer(module)
    schedule = None if lr_schedule == "constant" else lr_schedule
    trainer.compile(Adam(learning_rate=learning_rate), loss, clipnorm=clipnorm, lr_schedule=schedule)
    callbacks = list(callbacks or [])
    if validation_data is not None and patience is not None:
        callbacks.append(EarlyStopping(monitor="val_loss", patience=int(patience), restore_best_weights=True))
    history = trainer.fit(
        x, y, batch_size=batch_size, epochs=int(epochs), verbose=verbose, validation_data=validation_data, shuffle=True,
        seed=seed, callbacks=callbacks, checkpoint_dir=checkpoint_dir, resume=resume, settings=settings,
    )  # fmt: skip
    module.eval()
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}
