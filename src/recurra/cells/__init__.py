"""Recurrent cells: one time step each, reference equations plus fused kernels."""

from .base import RecurrentCell
from .elman import SimpleRNNCell, SimpleRNNState
from .gru import GRUCell, GRUState
from .lstm import LSTMCell, LSTMState

__all__ = [
    "RecurrentCell",
    "SimpleRNNCell",
    "SimpleRNNState",
    "LSTMCell",
    "LSTMState",
    "GRUCell",
    "GRUState",
]
