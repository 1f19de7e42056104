"""Losses by Keras name: each equals a numpy hand computation, and each trains a step."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import recurra
from recurra import Dense, Sequential, SimpleRNN
from recurra.errors import ConfigError, ShapeError, UnknownNameError
from recurra.train import losses
from recurra.train.trainer import Trainer

EPS = 1e-7


class Identity(nn.Module):
    """``y_pred = x``: lets ``evaluate`` score fixed predictions against fixed targets."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x):
        return x * self.scale


rng = np.random.default_rng(42)
REG_PRED = rng.normal(size=(6, 2))
REG_TRUE = rng.normal(size=(6, 2)) * 2.0
PROB = rng.uniform(0.01, 0.99, size=(6, 1))
BIN_TRUE = np.array([[0.0], [1.0], [1.0], [0.0], [1.0], [0.0]])
SOFT = rng.uniform(0.05, 1.0, size=(6, 4))
SOFT = SOFT / SOFT.sum(-1, keepdims=True)
CLASS_IDS = np.array([0, 3, 1, 2, 3, 0])
ONE_HOT = np.eye(4)[CLASS_IDS]


def _huber(e, delta=1.0):
    a = np.abs(e)
    return np.where(a <= delta, 0.5 * e**2, delta * (a - 0.5 * delta))


CASES = {
    "mse": (REG_PRED, REG_TRUE, np.mean((REG_PRED - REG_TRUE) ** 2)),
    "mae": (REG_PRED, REG_TRUE, np.mean(np.abs(REG_PRED - REG_TRUE))),
    "huber": (REG_PRED, REG_TRUE, np.mean(_huber(REG_PRED - REG_TRUE))),
    "binary_crossentropy": (PROB, BIN_TRUE, -np.mean(BIN_TRUE * np.log(PROB) + (1 - BIN_TRUE) * np.log(1 - PROB))),
    "categorical_crossentropy": (SOFT, ONE_HOT, -np.mean(np.sum(ONE_HOT * np.log(SOFT), -1))),
    "sparse_categorical_crossentropy": (SOFT, CLASS_IDS, -np.mean(np.log(SOFT[np.arange(6), CLASS_IDS]))),
}


@pytest.mark.parametrize("name", list(CASES))
def test_loss_equals_hand_computation(name):
    y_pred, y_true, expected = CASES[name]
    got = losses.get(name)(torch.tensor(y_pred), torch.tensor(y_true))
    assert got.dim() == 0
    assert float(got) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", list(CASES))
def test_loss_through_evaluate(name):
    y_pred, y_true, expected = CASES[name]
    trainer = Trainer(Identity().double()).compile("sgd", name)
    value = trainer.evaluate(y_pred, y_true, batch_size=4, verbose=0)  # two unequal batches
    assert isinstance(value, float)
    assert value == pytest.approx(expected, rel=1e-9)


def test_binary_crossentropy_clips_probabilities():
    p = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
    y = torch.tensor([[1.0], [0.0]], dtype=torch.float64)
    value = float(losses.get("binary_crossentropy")(p, y))
    assert np.isfinite(value)
    assert value == pytest.approx(-np.log(EPS), rel=1e-6)


def test_categorical_crossentropy_normalises_unnormalised_probabilities():
    p = torch.tensor([[2.0, 6.0]], dtype=torch.float64)  # -> [0.25, 0.75]
    y = torch.tensor([[0.0, 1.0]], dtype=torch.float64)
    assert float(losses.get("categorical_crossentropy")(p, y)) == pytest.approx(-np.log(0.75))


def test_from_logits():
    z = torch.tensor([[0.3, -1.2, 2.0]], dtype=torch.float64)
    ids = torch.tensor([2])
    log_p = torch.log_softmax(z, -1)[0, 2]
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    assert float(loss(z, ids)) == pytest.approx(-float(log_p))
    zb = torch.tensor([[0.7]], dtype=torch.float64)
    yb = torch.tensor([[1.0]], dtype=torch.float64)
    assert float(losses.BinaryCrossentropy(from_logits=True)(zb, yb)) == pytest.approx(np.log1p(np.exp(-0.7)))


def test_targets_without_trailing_unit_axis_match():
    p = torch.tensor([[0.5], [1.5]])
    assert float(losses.get("mse")(p, torch.tensor([1.0, 1.0]))) == pytest.approx(0.25)


def test_mismatched_targets_raise():
    with pytest.raises(ShapeError, match=r"expected targets of shape \(4, 2\).*got \(4, 3\)"):
        losses.get("mse")(torch.zeros(4, 2), torch.zeros(4, 3))
    with pytest.raises(ShapeError, match="sparse_categorical_crossentropy"):
        losses.get("categorical_crossentropy")(torch.full((4, 3), 1 / 3), torch.zeros(4))
    with pytest.raises(ShapeError, match=r"class ids in \[0, 2\], got values from 0 to 5"):
        losses.get("sparse_categorical_crossentropy")(torch.full((2, 3), 1 / 3), torch.tensor([0, 5]))


def test_unknown_loss_lists_known_names():
    with pytest.raises(UnknownNameError, match="unknown loss 'msee'; expected one of: .*binary_crossentropy.*mse"):
        losses.get("msee")
    model = Sequential([SimpleRNN(2, input_shape=(None, 1))])
    with pytest.raises(UnknownNameError, match="unknown loss"):
        model.compile("adam", "msee")


def test_compile_without_loss_raises():
    model = Sequential([SimpleRNN(2, input_shape=(None, 1))])
    with pytest.raises(ConfigError, match="expected a loss .*got None"):
        model.compile("adam")
    with pytest.raises(ConfigError, match="got None"):
        model.compile(optimizer="adam", loss=None)


def test_serialize_round_trip():
    assert losses.get("mse").serialize() == "mse"
    spec = losses.Huber(delta=2.5).serialize()
    assert spec == {"class_name": "huber", "config": {"delta": 2.5}}
    assert losses.get(spec).delta == 2.5
    assert losses.get(nn.MSELoss()).serialize() is None


# -- each loss trains a step of a real model --------------------------------------------------------

_T, _F = 4, 3
_TARGETS = {
    "mse": lambda n: np.random.default_rng(0).normal(size=(n, 3)),
    "mae": lambda n: np.random.default_rng(0).normal(size=(n, 3)),
    "huber": lambda n: np.random.default_rng(0).normal(size=(n, 3)),
    "binary_crossentropy": lambda n: (np.arange(n * 3).reshape(n, 3) % 2).astype(np.float32),
    "categorical_crossentropy": lambda n: np.eye(3)[np.arange(n) % 3],
    "sparse_categorical_crossentropy": lambda n: np.arange(n) % 3,
}
_ACTIVATION = {
    "binary_crossentropy": "sigmoid",
    "categorical_crossentropy": "softmax",
    "sparse_categorical_crossentropy": "softmax",
}


@pytest.mark.parametrize("name", list(_TARGETS))
def test_each_loss_trains_a_step(name):
    recurra.set_seed(0)
    model = Sequential([SimpleRNN(4, input_shape=(_T, _F)), Dense(3, activation=_ACTIVATION.get(name))])
    model.compile("sgd", name)
    x = np.random.default_rng(1).normal(size=(8, _T, _F)).astype(np.float32)
    y = _TARGETS[name](8)
    before = [p.detach().clone() for p in model.parameters()]
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0]) and history.history["loss"][0] > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_torch_loss_module_accepted():
    recurra.set_seed(0)
    x = np.random.default_rng(1).normal(size=(8, 3)).astype(np.float32)
    y = np.random.default_rng(2).normal(size=(8, 3)).astype(np.float32)
    trainer = Trainer(Identity()).compile("sgd", nn.MSELoss())
    assert trainer.evaluate(x, y, verbose=0) == pytest.approx(float(np.mean((x - y) ** 2)), rel=1e-6)
    trainer.fit(x, y, epochs=1, verbose=0)  # trains
    assert float(trainer.module.scale.detach()) != 1.0
