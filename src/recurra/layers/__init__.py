"""Keras-like ``torch.nn.Module`` layers built on recurra's cells."""

from .attention import AdditiveAttention, Attention, MultiHeadAttention
from .base import LAYERS, Layer, register
from .conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from .convolutional import Conv1D, Conv2D, Conv3D
from .core import Activation, Dense, Dropout, Embedding, Flatten, Input, InputLayer, Masking
from .crf import CRF
from .generic import RNN
from .indrnn import IndRNN
from .keras_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from .merging import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract
from .minimal import MinGRU, MinLSTM
from .normalization import BatchNormalization, LayerNormalization
from .pooling import AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D, MaxPooling1D
from .recurrent import Recurrent
from .reservoir import Reservoir
from .reshaping import Lambda, Permute, RepeatVector, Reshape
from .rnn import GRU, LSTM, SimpleRNN
from .stepper import Stepper
from .wrappers import Bidirectional, TimeDistributed, layer_from_config, layer_to_config

__all__ = [
    "LAYERS",
    "Layer",
    "register",
    "Recurrent",
    "RNN",
    "SimpleRNNCell",
    "LSTMCell",
    "GRUCell",
    "StackedRNNCells",
    "SimpleRNN",
    "LSTM",
    "GRU",
    "IndRNN",
    "MinGRU",
    "MinLSTM",
    "Reservoir",
    "Stepper",
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
    "Conv2D",
    "Conv3D",
    "ConvLSTM1D",
    "ConvLSTM2D",
    "ConvLSTM3D",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
    "MaxPooling1D",
    "AveragePooling1D",
    "LayerNormalization",
    "BatchNormalization",
    "Attention",
    "AdditiveAttention",
    "MultiHeadAttention",
    "CRF",
    "layer_from_config",
    "layer_to_config",
]
