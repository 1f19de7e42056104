"""``recurra.models``: Keras's ``keras.models`` (``Sequential``, ``Model``, ``load_model``)."""

from .io import load_model
from .model import Model, Sequential

__all__ = ["Model", "Sequential", "load_model"]
