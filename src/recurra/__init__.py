"""recurra: recurrent neural networks on PyTorch.

The whole family under one interface (``SimpleRNN``, ``LSTM``, ``GRU``, ``Bidirectional`` ...), each
cell with a reference implementation of its equations and a fused fast path, and a Keras-like
``Sequential`` model with ``compile`` / ``fit`` / ``evaluate`` / ``predict`` / ``save``.
"""

from . import activations, cells, errors, initializers, layers
from .layers import (
    GRU,
    LSTM,
    Activation,
    Bidirectional,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    Input,
    Masking,
    SimpleRNN,
    TimeDistributed,
)

__version__ = "0.1.0"

__all__ = [
    "activations",
    "cells",
    "errors",
    "initializers",
    "layers",
    "SimpleRNN",
    "LSTM",
    "GRU",
    "Bidirectional",
    "TimeDistributed",
    "Dense",
    "Embedding",
    "Dropout",
    "Masking",
    "Flatten",
    "Activation",
    "Input",
]
