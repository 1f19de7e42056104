"""Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot: the harness, Keras 3's numbers,
masks along a merge, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from recurra import Model, layers
from recurra.errors import ConfigError, ShapeError
from tests.keras3 import TOLERANCE, keras, same_as_keras
from tests.layers.harness import CHECKS, NEIGHBOUR_CASES

MERGES = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot"]
CASES = [c for c in NEIGHBOUR_CASES if type(c.make()).__name__ in MERGES]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_harness(case, check):
    check(case)


@pytest.mark.parametrize(
    "name, config, shapes",
    [
        ("Add", {}, [(2, 5, 3)] * 3),
        ("Subtract", {}, [(2, 5, 3)] * 2),
        ("Multiply", {}, [(2, 5, 3)] * 3),
        ("Average", {}, [(2, 5, 3)] * 2),
        ("Maximum", {}, [(2, 5, 3)] * 2),
        ("Minimum", {}, [(2, 5, 3)] * 2),
        ("Concatenate", {}, [(2, 5, 3), (2, 5, 4)]),
        ("Concatenate", {"axis": 1}, [(2, 5, 3), (2, 2, 3)]),
        ("Dot", {"axes": (2, 2)}, [(2, 5, 3), (2, 4, 3)]),
        ("Dot", {"axes": (1, 1)}, [(2, 5, 3), (2, 5, 4)]),
        ("Dot", {"axes": 1, "normalize": True}, [(2, 3), (2, 3)]),
        ("Dot", {"axes": -1}, [(2, 3), (2, 3)]),
    ],
)
def test_equals_keras(rng, name, config, shapes):
    xs = [rng.normal(size=s) for s in shapes]
    worst = same_as_keras(getattr(layers, name)(**config), getattr(keras.layers, name)(**config, dtype="float64"), xs)
    assert worst <= TOLERANCE


def test_merged_mask_keeps_a_step_only_where_every_part_keeps_it():
    a = torch.tensor([[1, 1, 0]], dtype=torch.bool)
    b = torch.tensor([[1, 0, 1]], dtype=torch.bool)
    x = torch.zeros(1, 3, 2)
    assert layers.Add().compute_mask([x, x], [a, b]).tolist() == [[True, False, False]]
    assert layers.Concatenate().compute_mask([x, x], [a, None]).tolist() == [[True, True, False]]
    assert layers.Add().compute_mask([x, x], None) is None


def test_merge_masks_travel_through_a_functional_model():
    ids = layers.Input(shape=(None,), dtype="int64")
    embedded = layers.Embedding(10, 3, mask_zero=True)(ids)
    summed = layers.Add()([embedded, layers.Dense(3)(embedded)])  # Dense passes the mask, Add merges it
    model = Model(ids, layers.LSTM(2)(summed))
    padded = model(torch.tensor([[3, 4, 0, 0]]))
    alone = model(torch.tensor([[3, 4]]))
    assert_close(padded, alone)  # the LSTM skipped the padded steps: it received the merged mask


@pytest.mark.parametrize(
    "layer, inputs, message",
    [
        (layers.Add(), torch.zeros(2, 3), r"Add expected a list of at least 2 tensors, got Tensor"),
        (layers.Add(), [torch.zeros(2, 3)], r"Add expected a list of at least 2 tensors, got 1 item"),
        (layers.Add(), [torch.zeros(2, 3), torch.zeros(2, 4)], r"Add expected inputs of one shape, got \(2, 3\), \(2, 4\)"),
        (layers.Subtract(), [torch.zeros(2, 3)] * 3, r"Subtract expected exactly 2 inputs, got 3"),
        (layers.Concatenate(), [torch.zeros(2, 3), torch.zeros(2, 5, 3)], r"Concatenate expected inputs of one rank"),
        (layers.Concatenate(), [torch.zeros(2, 3, 1), torch.zeros(2, 4, 1)], r"match except on that axis, got \(2, 3, 1\)"),
    ],
)
def test_bad_inputs_are_named(layer, inputs, message):
    with pytest.raises(ShapeError, match=message):
        layer(inputs)


def test_dot_refuses_three_axes():
    with pytest.raises(ConfigError, match=r"expected axes as one int or two, got \[1, 2, 3\]"):
        layers.Dot(axes=[1, 2, 3])


def test_dot_normalized_is_the_cosine(rng):
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    got = layers.Dot(axes=1, normalize=True)([torch.tensor(a), torch.tensor(b)]).numpy()[:, 0]
    want = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-12)
