"""The training engine any ``torch.nn.Module`` can use: losses, metrics, optimisers, callbacks, the loop."""

from . import callbacks, distributed, losses, metrics, optimizers, schedules
from .callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TensorBoard,
    TerminateOnNaN,
)
from .checkpoint import CheckpointManager
from .trainer import Trainer, set_seed

__all__ = [
    "callbacks",
    "distributed",
    "schedules",
    "CheckpointManager",
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
    "TensorBoard",
    "TerminateOnNaN",
    "Trainer",
    "set_seed",
]
