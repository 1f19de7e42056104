"""Keras-like ``torch.nn.Module`` layers built on recurra's cells."""

from .base import LAYERS, Layer, register
from .core import Activation, Dense, Dropout, Embedding, Flatten, Input, InputLayer, Masking
from .indrnn import IndRNN
from .minimal import MinGRU, MinLSTM
from .recurrent import Recurrent
from .reservoir import Reservoir
from .rnn import GRU, LSTM, SimpleRNN
from .wrappers import Bidirectional, TimeDistributed, layer_from_config, layer_to_config

__all__ = [
    "LAYERS",
    "Layer",
    "register",
    "Recurrent",
    "SimpleRNN",
    "LSTM",
    "GRU",
    "IndRNN",
    "MinGRU",
    "MinLSTM",
    "Reservoir",
    "Bidirectional",
    "TimeDistributed",
    "Dense",
    "Embedding",
    "Dropout",
    "Masking",
    "Flatten",
    "Activation",
    "Input",
    "InputLayer",
    "layer_from_config",
    "layer_to_config",
]
