"""fit's Keras arguments: sample_weight, class_weight (the same loss as Keras's on the same weights),
steps_per_epoch, validation_steps, validation_freq, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import recurra
from recurra import layers
from recurra.errors import ConfigError, InputValueError, ShapeError
from recurra.train.losses import get as get_loss
from tests.keras3 import keras


@pytest.mark.parametrize(
    "loss, shape, targets",
    [
        ("mse", (6, 3), "float"),
        ("mae", (6, 4, 2), "float"),
        ("binary_crossentropy", (6, 1), "binary"),
        ("categorical_crossentropy", (6, 4), "onehot"),
        ("sparse_categorical_crossentropy", (6, 5, 4), "ids"),
    ],
)
def test_weighted_losses_equal_keras(rng, loss, shape, targets):
    logits = rng.normal(size=shape)
    if targets == "float":
        y_pred, y_true = logits, rng.normal(size=shape)
    elif targets == "binary":
        y_pred, y_true = 1 / (1 + np.exp(-logits)), rng.integers(0, 2, size=shape).astype(float)
    else:
        y_pred = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
        ids = rng.integers(0, shape[-1], size=shape[:-1])
        y_true = np.eye(shape[-1])[ids] if targets == "onehot" else ids
    w = rng.uniform(0, 2, size=shape[:1] if len(shape) == 2 else shape[:2])
    ours = float(get_loss(loss).weighted(torch.tensor(y_pred), torch.tensor(y_true), torch.tensor(w)))
    keras_loss = {
        "mse": keras.losses.MeanSquaredError,
        "mae": keras.losses.MeanAbsoluteError,
        "binary_crossentropy": keras.losses.BinaryCrossentropy,
        "categorical_crossentropy": keras.losses.CategoricalCrossentropy,
        "sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy,
    }[loss]()
    theirs = float(keras.ops.convert_to_numpy(keras_loss(y_true, y_pred, sample_weight=w)))
    assert ours == pytest.approx(theirs, rel=1e-5)


def _model():
    torch.manual_seed(0)
    model = recurra.Sequential([layers.Input((4, 2)), layers.GRU(3), layers.Dense(3, activation="softmax")])
    model.compile(optimizer=recurra.optimizers.SGD(learning_rate=1e-12), loss="sparse_categorical_crossentropy")
    return model


def test_class_weight_and_sample_weight_weigh_the_fit_loss():
    x, y = torch.randn(12, 4, 2), torch.tensor([0, 1, 2] * 4)
    model = _model()
    plain = model.fit(x, y, batch_size=12, epochs=1, verbose=0, shuffle=False).history["loss"][0]
    model.eval()
    per_sample = -torch.log(model(x).gather(1, y[:, None]).squeeze(1).clamp_min(1e-7)).detach()
    assert plain == pytest.approx(float(per_sample.mean()), rel=1e-5)
    weighted = model.fit(x, y, batch_size=12, epochs=1, verbose=0, shuffle=False, class_weight={0: 1.0, 1: 0.0, 2: 3.0}).history
    w = torch.tensor([1.0, 0.0, 3.0])[y]
    assert weighted["loss"][0] == pytest.approx(float((per_sample * w).sum() / 12), rel=1e-5)
    sw = torch.linspace(0, 1, 12)
    by_sample = model.fit(x, y, batch_size=12, epochs=1, verbose=0, shuffle=False, sample_weight=sw).history["loss"][0]
    assert by_sample == pytest.approx(float((per_sample * sw).sum() / 12), rel=1e-5)


def test_weights_follow_their_samples_through_shuffles_and_splits():
    x, y = torch.randn(20, 4, 2), torch.tensor([0, 1] * 10)
    model = _model()
    history = model.fit(x, y, batch_size=3, epochs=2, verbose=0, sample_weight=np.ones(20), validation_split=0.25).history
    assert set(history) >= {"loss", "val_loss"}
    zero = model.fit(x, y, batch_size=3, epochs=1, verbose=0, sample_weight=np.zeros(20)).history["loss"][0]
    assert zero == 0.0


def test_sequence_targets_take_a_weight_per_step():
    x, y = torch.randn(6, 4, 2), torch.randint(0, 3, (6, 4))
    model = recurra.Sequential(
        [layers.Input((4, 2)), layers.LSTM(3, return_sequences=True), layers.Dense(3, activation="softmax")]
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    steps = np.ones((6, 4))
    steps[:, 2:] = 0.0  # padding steps count for nothing
    assert np.isfinite(model.fit(x, y, epochs=1, verbose=0, sample_weight=steps).history["loss"][0])
    assert np.isfinite(model.fit(x, y, epochs=1, verbose=0, class_weight={0: 1.0, 1: 2.0, 2: 0.5}).history["loss"][0])


def test_steps_per_epoch_and_validation_options():
    x, y = torch.randn(40, 4, 2), torch.randint(0, 3, (40,))
    model = _model()
    seen = []
    counter = recurra.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    history = model.fit(x, y, batch_size=4, epochs=4, verbose=0, steps_per_epoch=3, validation_data=(x[:8], y[:8]),
                        validation_steps=1, validation_freq=2, callbacks=[counter]).history  # fmt: skip
    assert seen == [0, 1, 2] * 4
    assert len(history["loss"]) == 4 and len(history["val_loss"]) == 2  # epochs 2 and 4


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (
            {"sample_weight": np.ones(5)},
            ShapeError,
            r"expected sample_weight with one weight per sample \(12\), got shape \(5,\)",
        ),
        ({"sample_weight": -np.ones(12)}, InputValueError, r"expected sample weights >= 0"),
        ({"class_weight": {0: 1.0}}, InputValueError, r"class_weight has no weight for the class\(es\) \[1, 2\] found in y"),
        ({"class_weight": [1, 2]}, InputValueError, r"expected class_weight as a dict"),
        ({"steps_per_epoch": 0}, ConfigError, r"expected steps_per_epoch to be a positive integer or None, got 0"),
        ({"validation_freq": 0}, ConfigError, r"expected validation_freq to be a positive integer"),
    ],
)
def test_bad_weights_and_steps_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        _model().fit(torch.randn(12, 4, 2), torch.tensor([0, 1, 2] * 4), epochs=1, verbose=0, **kwargs)


def test_a_function_loss_refuses_weights():
    model = recurra.Sequential([layers.Input((4, 2)), layers.GRU(3), layers.Dense(1)])
    model.compile(optimizer="sgd", loss=torch.nn.functional.mse_loss)
    with pytest.raises(ConfigError, match=r"gives one number per batch; sample_weight and class_weight need per-sample losses"):
        model.fit(torch.randn(6, 4, 2), torch.randn(6, 1), epochs=1, verbose=0, sample_weight=np.ones(6))
