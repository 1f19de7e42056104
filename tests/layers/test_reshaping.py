"""RepeatVector, Reshape, Permute, Lambda: the harness, Keras 3's numbers, and what Lambda refuses."""

from __future__ import annotations

import pytest
import torch

from recurra import Model, Sequential, layers
from recurra.errors import ConfigError, ShapeError
from tests.keras3 import TOLERANCE, keras, same_as_keras
from tests.layers.harness import CHECKS, NEIGHBOUR_CASES

CASES = [c for c in NEIGHBOUR_CASES if type(c.make()).__name__ in ("RepeatVector", "Reshape", "Permute", "Lambda")]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_harness(case, check):
    check(case)


@pytest.mark.parametrize(
    "name, config, shape",
    [
        ("RepeatVector", {"n": 4}, (2, 3)),
        ("Reshape", {"target_shape": (3, -1)}, (2, 12)),
        ("Reshape", {"target_shape": (2, 3, 2)}, (2, 4, 3)),
        ("Permute", {"dims": (2, 1)}, (2, 5, 3)),
        ("Permute", {"dims": (3, 1, 2)}, (2, 5, 3, 4)),
    ],
)
def test_equals_keras(rng, name, config, shape):
    x = rng.normal(size=shape)
    assert same_as_keras(getattr(layers, name)(**config), getattr(keras.layers, name)(**config, dtype="float64"), x) <= TOLERANCE


def test_lambda_runs_in_a_model_and_refuses_to_be_saved(tmp_path):
    model = Sequential([layers.Input((5, 3)), layers.Lambda(lambda x: x[:, -1, :] * 2.0), layers.Dense(1)])
    x = torch.randn(2, 5, 3)
    assert model(x).shape == (2, 1)
    with pytest.raises(ConfigError, match="loading a file never runs code"):
        model.save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_lambda_passes_arguments():
    assert layers.Lambda(lambda x, k: x * k, arguments={"k": 3.0})(torch.ones(1, 2)).tolist() == [[3.0, 3.0]]


def test_repeat_vector_feeds_a_decoder():
    """Keras's addition example: encoder summary repeated at each output step."""
    inputs = layers.Input((7, 12))
    summary = layers.LSTM(16)(inputs)
    decoded = layers.LSTM(16, return_sequences=True)(layers.RepeatVector(4)(summary))
    model = Model(inputs, layers.Dense(12, activation="softmax")(decoded))
    assert model(torch.randn(3, 7, 12)).shape == (3, 4, 12)


@pytest.mark.parametrize(
    "make, x, error, message",
    [
        (
            lambda: layers.RepeatVector(3),
            torch.zeros(2, 4, 3),
            ShapeError,
            r"RepeatVector expected input of shape \(batch, features\)",
        ),
        (lambda: layers.Reshape((5, -1)), torch.zeros(2, 12), ShapeError, r"Reshape cannot make \(2, 12\) into \(batch, 5, -1\)"),
        (lambda: layers.Permute((2, 1)), torch.zeros(2, 3), ShapeError, r"Permute\(2, 1\) expected input of rank 3"),
        (lambda: layers.Reshape((-1, -1)), None, ConfigError, r"at most one -1"),
        (lambda: layers.Permute((1, 1)), None, ConfigError, r"a permutation of 1..2"),
        (lambda: layers.Lambda(3), None, ConfigError, r"Lambda expected a function, got int"),
        (lambda: layers.RepeatVector(0), None, ConfigError, r"expected n to be a positive integer"),
    ],
)
def test_bad_input_is_named(make, x, error, message):
    with pytest.raises(error, match=message):
        make()(x)
