"""Metrics by Keras name: per-epoch means that equal numpy hand computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import recurra
from recurra import Dense, Sequential, SimpleRNN
from recurra.errors import UnknownNameError
from recurra.train import metrics
from recurra.train.trainer import Trainer


class Identity(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x):
        return x * self.scale


def _evaluate(loss, metric_names, y_pred, y_true, batch_size=3):
    trainer = Trainer(Identity().double()).compile("sgd", loss, metric_names)
    return trainer.evaluate(y_pred, y_true, batch_size=batch_size, verbose=0, return_dict=True)


def test_regression_metrics():
    rng = np.random.default_rng(0)
    p, y = rng.normal(size=(7, 2)), rng.normal(size=(7, 2))
    logs = _evaluate("mse", ["mae", "mse"], p, y)
    assert list(logs) == ["loss", "mae", "mse"]
    assert logs["mae"] == pytest.approx(np.mean(np.abs(p - y)), rel=1e-12)
    assert logs["mse"] == pytest.approx(np.mean((p - y) ** 2), rel=1e-12)
    assert logs["loss"] == pytest.approx(logs["mse"], rel=1e-12)


def test_binary_accuracy_from_probabilities():
    p = np.array([[0.9], [0.2], [0.6], [0.4], [0.51]])
    y = np.array([[1.0], [0.0], [0.0], [0.0], [1.0]])
    logs = _evaluate("binary_crossentropy", ["accuracy"], p, y)
    assert logs["accuracy"] == pytest.approx(4 / 5)


def test_categorical_accuracy_from_one_hot():
    p = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6], [0.3, 0.4, 0.3]])
    y = np.eye(3)[[1, 1, 2, 0]]
    logs = _evaluate("categorical_crossentropy", ["accuracy"], p, y)
    assert logs["accuracy"] == pytest.approx(2 / 4)


def test_sparse_categorical_accuracy_from_ids():
    p = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6], [0.3, 0.4, 0.3]])
    ids = np.array([1, 0, 2, 2])
    logs = _evaluate("sparse_categorical_crossentropy", ["accuracy", "acc"], p, ids)
    assert logs["accuracy"] == logs["acc"] == pytest.approx(3 / 4)


def test_metric_objects_and_functions():
    m = metrics.BinaryAccuracy(threshold=0.8)
    m.update(torch.tensor([[0.9], [0.7]]), torch.tensor([[1.0], [1.0]]))
    assert m.result() == pytest.approx(0.5)
    m.reset()
    assert m.result() == 0.0

    def max_error(y_pred, y_true):
        return (y_pred - y_true).abs().amax(-1)

    p, y = np.array([[1.0, 3.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [0.5, 0.0]])
    logs = _evaluate("mse", [max_error, metrics.RootMeanSquaredError()], p, y)
    assert logs["max_error"] == pytest.approx((3.0 + 0.5) / 2)
    assert logs["rmse"] == pytest.approx(np.sqrt(np.mean((p - y) ** 2)))


def test_unknown_metric_lists_known_names():
    with pytest.raises(UnknownNameError, match="unknown metric 'acuracy'; expected one of: .*accuracy.*mae.*mse"):
        metrics.get("acuracy")
    model = Sequential([SimpleRNN(2, input_shape=(None, 1))])
    with pytest.raises(UnknownNameError, match="unknown metric"):
        model.compile("adam", "mse", metrics=["mse", "f1"])


@pytest.mark.parametrize("name", ["accuracy", "mae", "mse"])
def test_each_metric_logged_per_epoch(name):
    recurra.set_seed(0)
    model = Sequential([SimpleRNN(3, input_shape=(4, 2)), Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=[name])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 4, 2)).astype(np.float32)
    y = (x[:, 0, 0] > 0).astype(np.float32)
    history = model.fit(x, y, batch_size=4, epochs=2, validation_data=(x[:6], y[:6]), verbose=0)
    assert set(history.history) == {"loss", name, "val_loss", f"val_{name}", "grad_norm", "grad_norm_max", "learning_rate"}
    assert all(len(v) == 2 for v in history.history.values())
    # the last validation value is the metric of the final weights on the validation data
    p = model.predict(x[:6])[:, 0]
    expected = {
        "accuracy": np.mean((p > 0.5) == (y[:6] > 0.5)),
        "mae": np.mean(np.abs(p - y[:6])),
        "mse": np.mean((p - y[:6]) ** 2),
    }[name]
    assert history.history[f"val_{name}"][-1] == pytest.approx(expected, rel=1e-5, abs=1e-7)


def test_single_metric_not_in_list_accepted():
    trainer = Trainer(Identity()).compile("sgd", "mse", "mae")
    assert [m.name for m in trainer.metrics] == ["mae"]
