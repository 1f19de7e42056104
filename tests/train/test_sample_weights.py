"""fit and evaluate's Keras arguments: sample_weight (one array, or one per output), class_weight (the same losses,
histories and weights after training as Keras 3 on the same arrays), validation_data=(x, y, sample_weight),
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


# -- evaluate, validation data, functional and multi-output models: the numbers of Keras 3 itself ------------


@pytest.fixture
def float64():
    """Keras in float64 (its layers and losses), as recurra's models in these tests."""
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    yield
    keras.config.set_floatx("float32")
    keras.config.set_dtype_policy("float32")


def _graph(lib, outputs="list"):
    """One GRU read by a regression head and a classification head (``outputs``: ``"list"``, ``"dict"``), or
    by the classifier alone (``"one"``), written with recurra or with Keras: the same code."""
    inputs = lib.Input((4, 2))
    h = lib.layers.GRU(3, name="gru")(inputs)
    reg = lib.layers.Dense(1, name="reg")(h)
    cls = lib.layers.Dense(3, activation="softmax", name="cls")(h)
    return lib.Model(inputs, {"one": cls, "list": [reg, cls], "dict": {"reg": reg, "cls": cls}}[outputs])


def _pair(outputs, loss, loss_weights=None, lr=0.1):
    """The same model in recurra and in Keras, float64, Keras's weights copied from recurra's layer by layer."""
    torch.manual_seed(0)
    ours, theirs = _graph(recurra, outputs).double(), _graph(keras, outputs)
    for layer in theirs.layers:
        if layer.weights:
            layer.set_weights(ours.get_layer(layer.name).get_weights())
    ours.compile(recurra.optimizers.SGD(learning_rate=lr), loss, metrics=["accuracy"] if outputs == "one" else None,
                 loss_weights=loss_weights)  # fmt: skip
    theirs.compile(keras.optimizers.SGD(learning_rate=lr), loss, metrics=["accuracy"] if outputs == "one" else None,
                   loss_weights=loss_weights)  # fmt: skip
    return ours, theirs


def _data(rng, n=10):
    x = rng.normal(size=(n, 4, 2))
    return x, rng.normal(size=(n, 1)), rng.integers(0, 3, size=n), rng.uniform(0, 2, n), rng.uniform(0, 2, n)


def _loss(logs):
    return logs["loss"] if isinstance(logs, dict) else logs[0] if isinstance(logs, list) else logs


def test_evaluate_and_test_on_batch_weigh_the_loss_as_keras(rng, float64):
    ours, theirs = _pair("one", "sparse_categorical_crossentropy")
    x, _, y, w, _ = _data(rng)
    for batch_size in (10, 3):
        mine = ours.evaluate(x, y, batch_size=batch_size, verbose=0, sample_weight=w, return_dict=True)
        kept = theirs.evaluate(x, y, batch_size=batch_size, verbose=0, sample_weight=w, return_dict=True)
        assert mine["loss"] == pytest.approx(kept["loss"], rel=1e-6)
        assert mine["accuracy"] == pytest.approx(kept["accuracy"])  # metrics are not weighted, as Keras's metrics
    assert mine["loss"] != pytest.approx(ours.evaluate(x, y, verbose=0, return_dict=True)["loss"], rel=1e-3)
    assert ours.evaluate(x, y, 10, 0, w)[0] == pytest.approx(mine["loss"])  # Keras's order of arguments
    first = ours.evaluate(x, y, batch_size=3, verbose=0, sample_weight=w, steps=1)[0]
    assert first == pytest.approx(ours.evaluate(x[:3], y[:3], verbose=0, sample_weight=w[:3])[0])
    on_batch = ours.test_on_batch(x, y, sample_weight=w, return_dict=True)
    assert on_batch["loss"] == pytest.approx(theirs.test_on_batch(x, y, sample_weight=w, return_dict=True)["loss"], rel=1e-6)


@pytest.mark.parametrize("weights", ["list", "one", "dict"])
def test_several_outputs_take_one_weight_array_each_as_in_keras(rng, float64, weights):
    ours, theirs = _pair("list", ["mse", "sparse_categorical_crossentropy"], loss_weights=[1.0, 0.5])
    x, y1, y2, w1, w2 = _data(rng)
    given = {"list": [w1, w2], "one": w1, "dict": {"cls": w2, "reg": w1}}[weights]
    keras_given = [w1, w2] if weights == "dict" else given  # Keras 3 keys a dict of weights by y's keys only
    for batch_size in (10, 3):
        mine = ours.evaluate(x, [y1, y2], batch_size=batch_size, verbose=0, sample_weight=given)
        assert mine == pytest.approx(_loss(theirs.evaluate(x, [y1, y2], batch_size=batch_size, verbose=0,
                                                            sample_weight=keras_given)), rel=1e-6)  # fmt: skip
    on_batch = ours.test_on_batch(x, [y1, y2], sample_weight=given)
    assert on_batch == pytest.approx(_loss(theirs.test_on_batch(x, [y1, y2], sample_weight=keras_given)), rel=1e-6)


def test_a_dict_of_outputs_takes_targets_and_weights_by_name_as_in_keras(rng, float64):
    ours, theirs = _pair("dict", {"reg": "mse", "cls": "sparse_categorical_crossentropy"})
    x, y1, y2, w1, w2 = _data(rng)
    y, w = {"cls": y2, "reg": y1}, {"cls": w2, "reg": w1}  # in another order than the outputs
    mine = ours.evaluate(x, y, verbose=0, sample_weight=w)
    assert mine == pytest.approx(_loss(theirs.evaluate(x, y, verbose=0, sample_weight=w)), rel=1e-6)
    history = ours.fit(x, y, batch_size=5, epochs=2, verbose=0, shuffle=False, sample_weight=w).history
    assert history["loss"] == pytest.approx(theirs.fit(x, y, batch_size=5, epochs=2, verbose=0, shuffle=False,
                                                       sample_weight=w).history["loss"], rel=1e-6)  # fmt: skip


@pytest.mark.parametrize(
    "outputs, weighting",
    [("one", "class_weight"), ("one", "sample_weight"), ("list", "per_output"), ("list", "one_array")],
)
def test_fit_weighs_functional_and_multi_output_models_as_keras(rng, float64, outputs, weighting):
    loss = "sparse_categorical_crossentropy" if outputs == "one" else ["mse", "sparse_categorical_crossentropy"]
    ours, theirs = _pair(outputs, loss, loss_weights=None if outputs == "one" else [0.5, 2.0])
    x, y1, y2, w1, w2 = _data(rng, 12)
    y = y2 if outputs == "one" else [y1, y2]
    kwargs = {
        "class_weight": {"class_weight": {0: 1.0, 1: 0.2, 2: 3.0}},
        "sample_weight": {"sample_weight": w1},
        "per_output": {"sample_weight": [w1, w2]},
        "one_array": {"sample_weight": w2},
    }[weighting]
    mine = ours.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False, **kwargs).history["loss"]
    kept = theirs.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False, **kwargs).history["loss"]
    assert mine == pytest.approx(kept, rel=1e-6)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):  # the same gradients, step after step
        np.testing.assert_allclose(a, keras.ops.convert_to_numpy(b), atol=1e-7)


def test_validation_data_takes_keras_sample_weights(rng, float64):
    ours, theirs = _pair("one", "sparse_categorical_crossentropy", lr=1e-12)
    x, _, y, w, _ = _data(rng, 12)
    mine = ours.fit(x, y, epochs=1, verbose=0, validation_data=(x[:6], y[:6], w[:6])).history
    kept = theirs.fit(x, y, epochs=1, verbose=0, validation_data=(x[:6], y[:6], w[:6])).history
    assert mine["val_loss"][0] == pytest.approx(kept["val_loss"][0], rel=1e-6)
    assert mine["val_loss"][0] == pytest.approx(ours.evaluate(x[:6], y[:6], verbose=0, sample_weight=w[:6])[0], rel=1e-6)
    # class_weight weighs the training samples only, and validation_split carries the sample weights along
    cw = {0: 1.0, 1: 0.0, 2: 3.0}
    mine = ours.fit(x, y, epochs=1, verbose=0, shuffle=False, validation_split=0.5, class_weight=cw).history
    kept = theirs.fit(x, y, epochs=1, verbose=0, shuffle=False, validation_split=0.5, class_weight=cw).history
    assert mine["val_loss"][0] == pytest.approx(kept["val_loss"][0], rel=1e-6)
    split = ours.fit(x, y, epochs=1, verbose=0, validation_split=0.5, sample_weight=w).history
    assert split["val_loss"][0] == pytest.approx(ours.evaluate(x[6:], y[6:], verbose=0, sample_weight=w[6:])[0], rel=1e-6)


@pytest.mark.parametrize(
    "weights, error, message",
    [
        ("three", ShapeError, r"expected one sample_weight array per output \(2\), or one array for all, got 3 arrays"),
        ("short", ShapeError, r"expected sample_weight\[1\] with one weight per sample \(8\), got shape \(5,\)"),
        (
            "unknown",
            InputValueError,
            r"expected sample_weight keyed by the outputs \['reg', 'cls'\] .*got keys \['reg', 'clas'\]",
        ),
        ("negative", InputValueError, r"expected sample weights >= 0 in sample_weight\['cls'\], got negative ones"),
    ],
)
def test_bad_per_output_weights_are_named(weights, error, message):
    torch.manual_seed(0)
    model = _graph(recurra, "list")
    model.compile("sgd", ["mse", "sparse_categorical_crossentropy"])
    x, y = torch.randn(8, 4, 2), [torch.randn(8, 1), torch.randint(0, 3, (8,))]
    given = {
        "three": [np.ones(8)] * 3,
        "short": [np.ones(8), np.ones(5)],
        "unknown": {"reg": np.ones(8), "clas": np.ones(8)},
        "negative": {"reg": np.ones(8), "cls": -np.ones(8)},
    }[weights]
    with pytest.raises(error, match=message):
        model.evaluate(x, y, verbose=0, sample_weight=given)
    with pytest.raises(error, match=message):
        model.fit(x, y, epochs=1, verbose=0, sample_weight=given)


def test_bad_validation_data_and_weights_without_names_are_refused():
    model = _model()
    x, y = torch.randn(6, 4, 2), torch.tensor([0, 1, 2] * 2)
    with pytest.raises(
        InputValueError, match=r"expected validation_data as .*\(x_val, y_val, sample_weight_val\).*got a sequence of 4"
    ):
        model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y, np.ones(6), 1))
    with pytest.raises(InputValueError, match=r"sample_weight given as a dict names the outputs.*got keys \['a'\]"):
        model.evaluate(x, y, verbose=0, sample_weight={"a": np.ones(6)})
    with pytest.raises(ConfigError, match=r"expected steps to be a positive integer or None, got 0"):
        model.evaluate(x, y, verbose=0, steps=0)
