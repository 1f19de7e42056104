"""Keras-like ``torch.nn.Module`` layers built on recurra's cells."""

from .base import LAYERS, Layer, register
from .convolutional import Conv1D
from .core import Activation, Dense, Dropout, Embedding, Flatten, Input, InputLayer, Masking
from .indrnn import IndRNN
from .merging import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract
from .minimal import MinGRU, MinLSTM
from .normalization import BatchNormalization, LayerNormalization
from .pooling import AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D, MaxPooling1D
from .recurrent import Recurrent
from .reservoir import Reservoir
from .reshaping import Lambda, Permute, RepeatVector, Reshape
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
    "Add",
    "Subtract",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "Concatenate",
    "Dot",
    "RepeatVector",
    "Reshape",
    "Permute",
    "Lambda",
    "Conv1D",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
    "MaxPooling1D",
    "AveragePooling1D",
    "LayerNormalization",
    "BatchNormalization",
    "layer_from_config",
    "layer_to_config",
]
