"""recurra: recurrent neural networks on PyTorch.

The whole family under one interface (``SimpleRNN``, ``LSTM``, ``GRU``, ``Bidirectional`` ...), each
cell with a reference implementation of its equations and a fused fast path, and a Keras-like
``Sequential`` model with ``compile`` / ``fit`` / ``evaluate`` / ``predict`` / ``save``.
"""

from . import activations, cells, errors, initializers, inspect, layers, registry, train
from ._version import __version__ as __version__
from .esn import EchoStateNetwork
from .forecast import BacktestResult, Forecaster, load_forecaster
from .io import load, load_model, load_weights, save_model, save_weights
from .layers import (
    GRU,
    LSTM,
    Activation,
    Bidirectional,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    IndRNN,
    Input,
    Layer,
    Masking,
    MinGRU,
    MinLSTM,
    Reservoir,
    SimpleRNN,
    TimeDistributed,
)
from .model import Model, Sequential
from .registry import register_model
from .text import LanguageModel, SequenceClassifier, load_classifier, load_language_model
from .train import (
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
    Trainer,
    set_seed,
)

__all__ = [
    "activations",
    "cells",
    "errors",
    "initializers",
    "layers",
    "inspect",
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
    "Layer",
    "train",
    "Model",
    "Sequential",
    "register_model",
    "EchoStateNetwork",
    "Trainer",
    "set_seed",
    "EarlyStopping",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "CSVLogger",
    "LambdaCallback",
    "TerminateOnNaN",
    "load",
    "registry",
    "save_model",
    "load_model",
    "save_weights",
    "load_weights",
    "Forecaster",
    "BacktestResult",
    "load_forecaster",
    "LanguageModel",
    "SequenceClassifier",
    "load_language_model",
    "load_classifier",
]
