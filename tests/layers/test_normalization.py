"""LayerNormalization and BatchNormalization: the harness, Keras 3's numbers (training and inference,
moving statistics), torch's own layers, masks, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from recurra import layers
from recurra.errors import ConfigError, ShapeError
from tests.keras3 import TOLERANCE, keras, same_as_keras
from tests.layers.harness import CHECKS, NEIGHBOUR_CASES

CASES = [c for c in NEIGHBOUR_CASES if type(c.make()).__name__ in ("LayerNormalization", "BatchNormalization")]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_harness(case, check):
    check(case)


@pytest.mark.parametrize("config", [{}, {"epsilon": 1e-5, "center": False}, {"scale": False}])
def test_layer_normalization_equals_keras(rng, config):
    x = rng.normal(size=(3, 5, 4))
    ours = layers.LayerNormalization(**config)
    assert same_as_keras(ours, keras.layers.LayerNormalization(**config, dtype="float64"), x) <= TOLERANCE


def test_layer_normalization_equals_torch(rng):
    x = torch.tensor(rng.normal(size=(3, 5, 4)))
    ours, theirs = layers.LayerNormalization(epsilon=1e-5), torch.nn.LayerNorm(4, eps=1e-5, dtype=torch.float64)
    ours(x)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(rng.normal(size=4)))
        theirs.bias.copy_(torch.tensor(rng.normal(size=4)))
    ours.set_weights([theirs.weight.detach().numpy(), theirs.bias.detach().numpy()])
    assert_close(ours(x), theirs(x), rtol=0, atol=1e-12)


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("config", [{}, {"momentum": 0.9, "epsilon": 1e-5}, {"center": False}])
def test_batch_normalization_equals_keras(rng, training, config):
    x = rng.normal(size=(6, 5, 4))
    ours = layers.BatchNormalization(**config)
    ours.train(training)
    theirs = keras.layers.BatchNormalization(**config, dtype="float64")
    n_affine = int(config.get("center", True)) + int(config.get("scale", True))
    worst = same_as_keras(ours, theirs, x, keras_call={"training": training}, positive=(n_affine + 1,))
    assert worst <= TOLERANCE
    for a, b in zip(ours.get_weights(), theirs.get_weights()):  # the moving statistics moved alike
        np.testing.assert_allclose(a, b, rtol=0, atol=TOLERANCE)


def test_batch_normalization_momentum_is_keras_meaning_and_equals_torch(rng):
    x = torch.tensor(rng.normal(size=(8, 4)))
    ours, theirs = (
        layers.BatchNormalization(momentum=0.9, epsilon=1e-5),
        torch.nn.BatchNorm1d(4, momentum=0.1, dtype=torch.float64),
    )
    for _ in range(3):
        assert_close(ours(x), theirs(x), rtol=0, atol=1e-12)
    # torch's running variance is unbiased, Keras's moving variance is biased (as recurra's)
    assert_close(torch.tensor(ours.get_weights()[2]), theirs.running_mean, rtol=0, atol=1e-12)


def test_batch_normalization_under_a_mask_counts_only_real_steps():
    x = torch.tensor([[[1.0], [3.0], [100.0]], [[5.0], [7.0], [-100.0]]])
    mask = torch.tensor([[True, True, False], [True, True, False]])
    bn = layers.BatchNormalization(momentum=0.0, epsilon=1e-9)
    bn(x, mask=mask)
    assert bn.get_weights()[2].tolist() == [4.0]  # the mean of 1, 3, 5, 7
    assert bn.get_weights()[3].tolist() == [5.0]


@pytest.mark.parametrize(
    "make, x, error, message",
    [
        (lambda: layers.LayerNormalization(axis=1), None, ConfigError, r"expected axis=-1"),
        (lambda: layers.LayerNormalization(epsilon=0), None, ConfigError, r"expected epsilon > 0, got 0"),
        (lambda: layers.BatchNormalization(momentum=1.5), None, ConfigError, r"expected momentum in \[0, 1\), got 1.5"),
    ],
)
def test_bad_settings_are_named(make, x, error, message):
    with pytest.raises(error, match=message):
        make()


def test_other_feature_count_is_refused():
    ln = layers.LayerNormalization()
    ln(torch.zeros(2, 3))
    with pytest.raises(ShapeError, match=r"LayerNormalization expected 3 features, got \(2, 4\)"):
        ln(torch.zeros(2, 4))
