"""recurra: recurrent neural networks on PyTorch.

The whole family under one interface (``SimpleRNN``, ``LSTM``, ``GRU``, ``Bidirectional`` ...), each
cell with a reference implementation of its equations and a fused fast path, and a Keras-like
``Sequential`` model with ``compile`` / ``fit`` / ``evaluate`` / ``predict`` / ``save``.
"""

from . import (  # Keras's namespaces
    activations,
    callbacks,
    cells,
    constraints,
    errors,
    initializers,
    inspect,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    preprocessing,
    registry,
    regularizers,
    saving,
    train,
    tree,
    utils,
)
from . import nn as nn  # torch.nn's recurrent modules on recurra's kernels
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
    InputLayer,
    Layer,
    Masking,
    MinGRU,
    MinLSTM,
    Reservoir,
    SimpleRNN,
    TimeDistributed,
)
from .model import Functional, Model, Sequential
from .recognition import CTCRecognizer, load_recognizer
from .registry import register_model
from .safe_globals import register as _register_safe_globals
from .text import LanguageModel, Seq2Seq, SequenceClassifier, SequenceTagger, load_classifier, load_language_model, load_seq2seq
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

_register_safe_globals()  # torch's default torch.load reads whole recurra models (recurra.safe_globals)

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
    "InputLayer",
    "Layer",
    "train",
    "Model",
    "Functional",
    "Sequential",
    "tree",
    "callbacks",
    "constraints",
    "regularizers",
    "losses",
    "metrics",
    "models",
    "ops",
    "preprocessing",
    "optimizers",
    "saving",
    "utils",
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
    "SequenceTagger",
    "CTCRecognizer",
    "load_recognizer",
    "Seq2Seq",
    "load_seq2seq",
    "load_language_model",
    "load_classifier",
]
