"""The training engine any ``torch.nn.Module`` can use: losses, metrics, optimisers, callbacks, the loop."""

from . import callbacks, losses, metrics, optimizers
from .callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
)
from .trainer import Trainer, set_seed

__all__ = [
    "callbacks",
    "losses",
    "metrics",
    "optimizers",
    "Callback",
    "CSVLogger",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
    "Trainer",
    "set_seed",
]
