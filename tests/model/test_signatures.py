"""``help(model.fit)`` and an IDE show the real parameters: the model methods and every layer's constructor
have named parameters, not ``(*args, **kwargs)`` wrappers."""

from __future__ import annotations

import inspect
import pydoc

import pytest
import torch

import recurra.layers
import recurra.nn
from recurra import Dense, Input, Model, Sequential, SimpleRNN, Trainer

VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
FIT = ["x", "y", "batch_size", "epochs", "verbose", "callbacks", "validation_split", "validation_data", "shuffle",
       "initial_epoch", "seed", "class_weight", "sample_weight", "tbptt", "checkpoint_dir", "resume", "stop_on_nan"]  # fmt: skip
METHODS = {
    "fit": FIT,
    "compile": ["optimizer", "loss", "metrics", "clipnorm", "clipvalue", "lr_schedule"],
    "evaluate": ["x", "y", "batch_size", "verbose", "sample_weight", "return_dict"],
    "predict": ["x", "batch_size", "verbose"],
    "train_on_batch": ["x", "y", "sample_weight", "class_weight"],
    "save": ["path"],
}


def _variadic(signature: inspect.Signature) -> list[str]:
    return [p.name for p in signature.parameters.values() if p.kind in VARIADIC]


@pytest.mark.parametrize("cls", [Model, Sequential])
@pytest.mark.parametrize("method", list(METHODS))
def test_model_methods_have_named_parameters(cls, method):
    signature = inspect.signature(getattr(cls, method))
    assert not _variadic(signature), f"{cls.__name__}.{method}{signature}"
    missing = [name for name in METHODS[method] if name not in signature.parameters]
    assert not missing, f"{cls.__name__}.{method}{signature} lacks {missing}"


def test_fit_offers_every_parameter_of_the_engine_in_its_order():
    assert list(inspect.signature(Model.fit).parameters) == list(inspect.signature(Trainer.fit).parameters)
    assert inspect.signature(Sequential.fit) == inspect.signature(Model.fit)


def test_the_bound_methods_of_built_models_show_them_too():
    sequential = Sequential([SimpleRNN(3, input_shape=(None, 2)), Dense(1)])
    inputs = Input((None, 2))
    functional = Model(inputs, Dense(1)(SimpleRNN(3)(inputs)))
    for model in (sequential, functional):
        parameters = inspect.signature(model.fit).parameters
        assert list(parameters)[:4] == ["x", "y", "batch_size", "epochs"]
        assert not _variadic(inspect.signature(model.fit))


def test_help_shows_the_parameters_and_their_defaults():
    text = pydoc.render_doc(Sequential.fit, renderer=pydoc.plaintext)
    for shown in ("batch_size", "epochs", "= 1", "validation_data", "checkpoint_dir", "resume"):
        assert shown in text, shown
    assert "*args" not in text and "**kwargs" not in text


LAYERS = [
    getattr(module, name)
    for module in (recurra.layers, recurra.nn)
    for name in module.__all__
    if inspect.isclass(getattr(module, name)) and issubclass(getattr(module, name), torch.nn.Module)
]


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: f"{c.__module__.split('.')[1]}.{c.__name__}")
def test_every_layer_constructor_has_named_parameters(cls):
    signature = inspect.signature(cls.__init__)
    assert not _variadic(signature), f"{cls.__name__}{signature}"


def test_the_layer_table_is_not_empty():
    names = {cls.__name__ for cls in LAYERS}
    assert {"LSTM", "GRU", "SimpleRNN", "Bidirectional", "Dense"} <= names and len(LAYERS) > 40
