"""Models: ``Model`` (Keras's workflow on any module subclass), ``Sequential`` (a stack of layers) and
functional models (``Model(inputs, outputs)``)."""

from .base import MODELS, Model, register_model
from .functional import Functional
from .sequential import Sequential

__all__ = ["Model", "Sequential", "Functional", "register_model", "MODELS"]
