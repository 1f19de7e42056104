"""The Keras arguments every Keras recurrent layer takes: masked outputs as Keras writes them (and the
zero_output_for_mask switch), seed, regularizers (layer.losses, the fit loss), constraints (after each
step), unroll and use_cudnn, dtype and trainable — each against Keras 3 where Keras has a number."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

import recurra
from recurra import layers
from recurra.errors import ConfigError
from tests.keras3 import TOLERANCE, keras

MASK = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [0, 0, 1, 1, 0, 1]], dtype=bool)


def _keras_out(layer, x, mask):
    out = layer(x, mask=mask)
    return [keras.ops.convert_to_numpy(o) for o in recurra.tree.flatten(out)]


@pytest.mark.parametrize("go_backwards", [False, True], ids=["fwd", "bwd"])
@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_masked_outputs_repeat_the_last_real_output_as_in_keras(rng, name, go_backwards):
    x = rng.normal(size=(3, 6, 4))
    ours = getattr(layers, name)(5, return_sequences=True, return_state=True, go_backwards=go_backwards)
    theirs = getattr(keras.layers, name)(5, return_sequences=True, return_state=True, go_backwards=go_backwards, dtype="float64")
    ours(torch.tensor(x))
    theirs(x)
    theirs.set_weights(ours.get_weights())
    got = [o.detach().numpy() for o in ours(torch.tensor(x), mask=torch.tensor(MASK))]
    want = _keras_out(theirs, x, MASK)
    tolerance = 1e-5 if name == "SimpleRNN" else TOLERANCE  # Keras's SimpleRNN multiplies in float32 (tests/keras3.py)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, atol=tolerance, rtol=0)
    assert not np.any(got[0][1, 3:] == 0)  # held, not zero (Keras's default)


def test_zero_output_for_mask_writes_zeros(rng):
    x = torch.tensor(rng.normal(size=(3, 6, 4)))
    layer = layers.LSTM(5, return_sequences=True, zero_output_for_mask=True)
    y = layer(x, mask=torch.tensor(MASK))
    assert torch.count_nonzero(y[torch.tensor(~MASK)]) == 0
    assert layers.LSTM.from_config(layer.get_config()).zero_output_for_mask


@pytest.mark.parametrize("merge_mode", ["concat", "sum"])
def test_bidirectional_with_a_mask_equals_keras(rng, merge_mode):
    x = rng.normal(size=(3, 6, 4))
    ours = layers.Bidirectional(layers.GRU(5, return_sequences=True), merge_mode=merge_mode)
    theirs = keras.layers.Bidirectional(keras.layers.GRU(5, return_sequences=True, dtype="float64"), merge_mode=merge_mode)
    ours(torch.tensor(x))
    theirs(x)
    theirs.set_weights(ours.get_weights())
    got = ours(torch.tensor(x), mask=torch.tensor(MASK)).detach().numpy()
    np.testing.assert_allclose(got, _keras_out(theirs, x, MASK)[0], atol=TOLERANCE, rtol=0)


def test_regularizer_penalties_equal_keras(rng):
    x = rng.normal(size=(2, 5, 3))
    options = dict(kernel_regularizer=recurra.regularizers.L2(0.01), recurrent_regularizer="l1", bias_regularizer=None)
    ours = layers.LSTM(4, **options, activity_regularizer=recurra.regularizers.L2(0.1))
    theirs = keras.layers.LSTM(4, kernel_regularizer=keras.regularizers.L2(0.01), recurrent_regularizer="l1",
                               activity_regularizer=keras.regularizers.L2(0.1), dtype="float64")  # fmt: skip
    ours(torch.tensor(x))
    theirs(x)
    weights = [rng.normal(size=w.shape) for w in ours.get_weights()]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    ours(torch.tensor(x))
    theirs(x)
    got = sorted(float(t.detach()) for t in ours.losses)
    want = sorted(float(keras.ops.convert_to_numpy(t)) for t in theirs.losses)
    assert got == pytest.approx(want, rel=1e-6)
    assert len(got) == 3


def test_fit_minimises_the_loss_plus_the_penalties():
    torch.manual_seed(0)
    model = recurra.Sequential(
        [layers.Input((5, 3)), layers.LSTM(4, kernel_regularizer=recurra.regularizers.L2(10.0)), layers.Dense(1)]
    )
    model.compile(optimizer=recurra.optimizers.SGD(learning_rate=1e-12), loss="mse")  # the logged loss: before the step
    x, y = torch.randn(8, 5, 3), torch.randn(8, 1)
    logged = model.fit(x, y, batch_size=8, epochs=1, verbose=0).history["loss"][0]
    model.eval()
    mse = float(((model(x) - y) ** 2).mean())
    penalty = float(sum(model.losses))
    assert penalty > 1.0
    assert logged == pytest.approx(mse + penalty, rel=1e-5)
    # and training against it shrinks the kernel
    model.compile(optimizer=recurra.optimizers.SGD(learning_rate=0.01), loss="mse")
    before = float(sum(model.losses))
    model.fit(x, y, batch_size=8, epochs=5, verbose=0)
    assert float(sum(model.losses)) < before


def test_constraints_hold_after_every_step():
    model = recurra.Sequential([layers.Input((5, 3)), layers.GRU(4, kernel_constraint=recurra.constraints.MaxNorm(0.5),
                                                                     bias_constraint="non_neg"), layers.Dense(1)])  # fmt: skip
    model.compile(optimizer=recurra.optimizers.Adam(learning_rate=0.1), loss="mse")
    model.fit(torch.randn(16, 5, 3), torch.randn(16, 1), batch_size=4, epochs=2, verbose=0)
    gru = next(layer for layer in model.layers if isinstance(layer, layers.GRU))
    kernel, _, bias = gru.get_weights()
    assert np.all(np.linalg.norm(kernel, axis=0) <= 0.5 + 1e-5)
    assert np.all(bias >= 0)


def test_seed_draws_the_same_dropout_masks():
    x = torch.randn(2, 5, 3)

    def run(seed):
        torch.manual_seed(0)
        layer = layers.LSTM(4, dropout=0.5, recurrent_dropout=0.5, seed=seed)
        torch.manual_seed(123)  # the global stream differs from the layer's own
        return layer(x, training=True)

    assert torch.equal(run(7), run(7))
    assert not torch.equal(run(7), run(8))


def test_unroll_and_use_cudnn_are_accepted_and_saved():
    layer = layers.GRU(3, unroll=True, use_cudnn=False)
    again = layers.GRU.from_config(layer.get_config())
    assert again.unroll is True and again.use_cudnn is False
    x = torch.randn(2, 4, 2)
    again(x)
    layer(x)
    layer.set_weights(again.get_weights())
    assert_close(layer(x), again(x))
    with pytest.raises(ConfigError, match=r"expected use_cudnn in \('auto', True, False\), got 'yes'"):
        layers.GRU(3, use_cudnn="yes")


def test_regularizers_and_constraints_survive_saving(tmp_path):
    model = recurra.Sequential(
        [layers.Input((4, 2)), layers.SimpleRNN(3, kernel_regularizer="l2", recurrent_constraint="unit_norm")]
    )
    model.save(tmp_path / "m.keras")
    loaded = recurra.models.load_model(tmp_path / "m.keras")
    layer = loaded.layers[-1]
    assert isinstance(layer.regularizers["kernel"], recurra.regularizers.L2)
    assert isinstance(layer.constraints["recurrent_kernel"], recurra.constraints.UnitNorm)


def test_trainable_false_freezes_the_layer():
    layer = layers.LSTM(3, trainable=False)
    layer(torch.randn(2, 4, 2))
    assert all(not p.requires_grad for p in layer.parameters())
