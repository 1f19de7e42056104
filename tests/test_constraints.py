"""recurra.constraints: Keras 3's numbers on the same arrays, names and configs, the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recurra import constraints
from recurra.errors import ConfigError, UnknownNameError
from tests.keras3 import keras


@pytest.mark.parametrize(
    "name, config",
    [
        ("MaxNorm", {"max_value": 1.5}),
        ("MaxNorm", {"max_value": 1.0, "axis": 1}),
        ("MinMaxNorm", {"min_value": 0.5, "max_value": 1.2, "rate": 0.7}),
        ("UnitNorm", {}),
        ("NonNeg", {}),
    ],
)
def test_equals_keras(rng, name, config):
    w = rng.normal(size=(5, 4)) * 2
    ours = getattr(constraints, name)(**config)(torch.tensor(w)).numpy()
    theirs = keras.ops.convert_to_numpy(getattr(keras.constraints, name)(**config)(keras.ops.convert_to_tensor(w)))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def test_max_norm_bounds_each_units_incoming_weights(rng):
    w = torch.tensor(rng.normal(size=(6, 3)) * 5)
    out = constraints.MaxNorm(2.0)(w)
    assert bool((out.norm(dim=0) <= 2.0 + 1e-6).all())


@pytest.mark.parametrize("spec", ["max_norm", "NonNeg", {"class_name": "UnitNorm", "config": {"axis": 1}}])
def test_get_and_serialize_round_trip(spec):
    found = constraints.get(spec)
    again = constraints.get(constraints.serialize(found))
    assert type(again) is type(found) and again.get_config() == found.get_config()


def test_errors_are_named():
    with pytest.raises(UnknownNameError, match=r"unknown constraint 'max'"):
        constraints.get("max")
    with pytest.raises(ConfigError, match=r"expected min_value <= max_value, got 2.0 > 1.0"):
        constraints.MinMaxNorm(2.0, 1.0)
    with pytest.raises(ConfigError, match=r"a constraint given as a plain function cannot be saved"):
        constraints.get(lambda w: w)
