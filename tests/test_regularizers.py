"""recurra.regularizers: Keras 3's numbers on the same arrays, names and configs, the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recurra import regularizers
from recurra.errors import ConfigError, UnknownNameError
from tests.keras3 import keras


@pytest.mark.parametrize(
    "name, config",
    [("L1", {"l1": 0.3}), ("L2", {"l2": 0.2}), ("L1L2", {"l1": 0.1, "l2": 0.4}), ("OrthogonalRegularizer", {"factor": 0.5})],
)
def test_equals_keras(rng, name, config):
    w = rng.normal(size=(5, 4))
    ours = float(getattr(regularizers, name)(**config)(torch.tensor(w)))
    theirs = float(keras.ops.convert_to_numpy(getattr(keras.regularizers, name)(**config)(keras.ops.convert_to_tensor(w))))
    assert ours == pytest.approx(theirs, rel=1e-6)


def test_orthogonal_columns_equals_keras(rng):
    w = rng.normal(size=(6, 3))
    ours = float(regularizers.OrthogonalRegularizer(0.2, mode="columns")(torch.tensor(w)))
    theirs = float(
        keras.ops.convert_to_numpy(keras.regularizers.OrthogonalRegularizer(0.2, mode="columns")(keras.ops.convert_to_tensor(w)))
    )
    assert ours == pytest.approx(theirs, rel=1e-6)


@pytest.mark.parametrize("spec", ["l2", "L2", {"class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.2}}, regularizers.L1(0.5)])
def test_get_and_serialize_round_trip(spec):
    found = regularizers.get(spec)
    again = regularizers.get(regularizers.serialize(found))
    assert type(again) is type(found) and again.get_config() == found.get_config()
    w = torch.tensor([1.0, -2.0])
    assert float(again(w)) == float(found(w))
    assert regularizers.get(None) is None and regularizers.serialize(None) is None


def test_keras_default_factor():
    assert float(regularizers.get("l2")(torch.tensor([1.0, 1.0]))) == pytest.approx(0.02)
    assert np.isclose(float(regularizers.get("l1")(torch.tensor([-1.0, 1.0]))), 0.02)


def test_errors_are_named():
    with pytest.raises(UnknownNameError, match=r"unknown regularizer 'l3'"):
        regularizers.get("l3")
    with pytest.raises(ConfigError, match=r"expected l2 to be a finite number >= 0, got -1"):
        regularizers.L2(-1)
    with pytest.raises(ConfigError, match=r"a regularizer given as a plain function cannot be saved"):
        regularizers.get(lambda w: w.sum())
