"""GlobalAveragePooling1D, GlobalMaxPooling1D, MaxPooling1D, AveragePooling1D: the harness, Keras 3's
numbers (masks and "same" padding included) and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recurra import layers
from recurra.errors import ConfigError, ShapeError
from tests.keras3 import TOLERANCE, keras, same_as_keras
from tests.layers.harness import CHECKS, NEIGHBOUR_CASES

POOLS = ("GlobalAveragePooling1D", "GlobalMaxPooling1D", "MaxPooling1D", "AveragePooling1D")
CASES = [c for c in NEIGHBOUR_CASES if type(c.make()).__name__ in POOLS]
MASK = np.array([[1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1], [0, 1, 1, 0, 1, 1, 0]], dtype=bool)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_harness(case, check):
    check(case)


@pytest.mark.parametrize(
    "name, config, masked",
    [
        ("GlobalAveragePooling1D", {}, False),
        ("GlobalAveragePooling1D", {}, True),
        ("GlobalAveragePooling1D", {"keepdims": True}, True),
        ("GlobalMaxPooling1D", {}, False),
        ("GlobalMaxPooling1D", {"keepdims": True}, False),
        ("MaxPooling1D", {"pool_size": 2}, False),
        ("MaxPooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, False),
        ("MaxPooling1D", {"pool_size": 2, "strides": 1, "padding": "same"}, False),
        ("AveragePooling1D", {"pool_size": 2}, False),
        ("AveragePooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, False),
    ],
)
def test_equals_keras(rng, name, config, masked):
    x = rng.normal(size=(3, 7, 4))
    call = {"mask": MASK} if masked else None
    assert (
        same_as_keras(getattr(layers, name)(**config), getattr(keras.layers, name)(**config, dtype="float64"), x, call=call)
        <= TOLERANCE
    )


def test_average_pooling_same_leaves_padding_out_of_uneven_windows():
    """Keras's TensorFlow and JAX backends average the real places only; its torch backend repeats the edge
    values where the padding is uneven (even pool sizes). recurra follows the former everywhere."""
    x = torch.arange(1.0, 8.0).reshape(1, 7, 1)
    got = layers.AveragePooling1D(4, strides=1, padding="same")(x).flatten().tolist()
    assert got == [2.0, 2.5, 3.5, 4.5, 5.5, 6.0, 6.5]  # windows [_,1,2,3], [1..4], ..., [5,6,7,_], [6,7,_,_]


def test_global_max_under_a_mask_ignores_padding():
    x = torch.tensor([[[1.0], [2.0], [99.0]]])
    assert layers.GlobalMaxPooling1D()(x, mask=torch.tensor([[True, True, False]])).tolist() == [[2.0]]


def test_global_average_of_a_fully_masked_row_is_zero_not_nan():
    x = torch.ones(1, 3, 2)
    out = layers.GlobalAveragePooling1D()(x, mask=torch.zeros(1, 3, dtype=torch.bool))
    assert out.tolist() == [[0.0, 0.0]]


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: layers.MaxPooling1D(2, padding="causal"), ConfigError, r"expected padding in \('valid', 'same'\), got 'causal'"),
        (lambda: layers.AveragePooling1D(0), ConfigError, r"expected pool_size to be a positive integer, got 0"),
        (
            lambda: layers.GlobalAveragePooling1D(data_format="channels_first"),
            ConfigError,
            r"expected data_format='channels_last'",
        ),
    ],
)
def test_bad_settings_are_named(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_a_flat_input_is_refused():
    with pytest.raises(ShapeError, match=r"MaxPooling1D expected input of shape \(batch, time, features\), got \(2, 3\)"):
        layers.MaxPooling1D()(torch.zeros(2, 3))
