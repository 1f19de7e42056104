"""Exceptions raised at recurra's boundaries.

Every error names what was expected and what was found, e.g.
``expected input of shape (batch, time, 3), got (32, 3)``. They subclass the built-in
``ValueError`` / ``TypeError`` so that code written against plain Python keeps working.
"""

from __future__ import annotations


class RecurraError(Exception):
    """Base class of every error recurra raises on purpose."""


class ShapeError(RecurraError, ValueError):
    """A tensor has the wrong rank, feature count, batch size or length."""


class InputValueError(RecurraError, ValueError):
    """Input values are unusable: NaN, inf, wrong dtype, empty."""


class ConfigError(RecurraError, ValueError):
    """A constructor or compile argument is out of range or inconsistent."""


class UnknownNameError(RecurraError, ValueError):
    """A string name (optimizer, loss, metric, initializer, activation, layer) is not known."""


class NotBuiltError(RecurraError, RuntimeError):
    """A layer or model was used in a way that needs its weights before they exist."""


class ModelFileError(RecurraError, ValueError):
    """A file or directory is not a readable recurra model."""


def unknown_name(kind: str, name: object, known: list[str] | tuple[str, ...]) -> UnknownNameError:
    """Build the error for an unknown ``kind`` name, listing the known ones."""
    return UnknownNameError(f"unknown {kind} {name!r}; expected one of: {', '.join(sorted(known))}")


def format_shape(shape: object) -> str:
    """Write a shape as ``(32, 10, 3)`` whatever container holds it."""
    dims = ["None" if d is None else str(int(d)) for d in tuple(shape)]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


class RecurraWarning(UserWarning):
    """Warnings recurra issues on purpose (turned into errors in its own tests)."""


class TrainingInterrupted(RecurraError):
    """``fit`` stopped on SIGINT/SIGTERM after finishing a step (and writing a checkpoint if it could).

    ``reason``: what stopped it and where ("training stopped by SIGINT after epoch 2, step 14");
    ``checkpoint``: the checkpoint written, or ``None``. The message tells a Python caller how to
    continue (``fit(..., resume=True)``); a command line tells its user (``--resume``).
    """

    def __init__(self, message: str, checkpoint: object = None, reason: str = ""):
        super().__init__(message)
        self.checkpoint = checkpoint
        self.reason = reason or message


class NonFiniteLossError(RecurraError, FloatingPointError):
    """The training loss became NaN or infinite."""


class SeriesError(InputValueError):
    """A time-series table is unusable: a missing column, unsorted or repeated timestamps, a gap, a NaN
    value, a series too short for its windows. The message names the column, the row or the length."""
