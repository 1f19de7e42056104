"""Keras-like ``torch.nn.Module`` layers built on recurra's cells."""

from .base import LAYERS, Layer, register
from .core import Activation, Dense, Dropout, Embedding, Flatten, Input, Masking
from .recurrent import Recurrent
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
    "Bidirectional",
    "TimeDistributed",
    "Dense",
    "Embedding",
    "Dropout",
    "Masking",
    "Flatten",
    "Activation",
    "Input",
    "layer_from_config",
    "layer_to_config",
]
