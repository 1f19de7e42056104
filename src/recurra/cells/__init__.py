"""Recurrent cells: one time step each, reference equations plus fused kernels."""

from .base import RecurrentCell
from .elman import ElmanJordanState, JordanState, SimpleRNNCell, SimpleRNNState
from .gru import GRUCell, GRUState
from .indrnn import IndRNNCell, IndRNNState
from .lstm import LSTMCell, LSTMState
from .minimal import MinGRUCell, MinGRUState, MinLSTMCell, MinLSTMState
from .reservoir import ReservoirCell, ReservoirState

__all__ = [
    "RecurrentCell",
    "SimpleRNNCell",
    "SimpleRNNState",
    "JordanState",
    "ElmanJordanState",
    "LSTMCell",
    "LSTMState",
    "GRUCell",
    "GRUState",
    "IndRNNCell",
    "IndRNNState",
    "MinGRUCell",
    "MinGRUState",
    "MinLSTMCell",
    "MinLSTMState",
    "ReservoirCell",
    "ReservoirState",
]
