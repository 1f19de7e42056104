"""Conv1D, Conv2D, Conv3D: the harness, Keras 3's numbers for every padding, stride, dilation and groups,
torch's own convolution, causality, and the errors."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from recurra import layers
from recurra.errors import ConfigError, InputValueError, ShapeError
from tests.keras3 import TOLERANCE, keras, same_as_keras
from tests.layers.harness import CHECKS, CONV_CASES, NEIGHBOUR_CASES

CASES = [c for c in NEIGHBOUR_CASES if type(c.make()).__name__ == "Conv1D"]
ND_CASES = [c for c in CONV_CASES if type(c.make()).__name__ in ("Conv2D", "Conv3D")]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_harness(case, check):
    check(case)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("case", ND_CASES, ids=repr)
def test_harness_2d_3d(case, check):
    check(case)


@pytest.mark.parametrize(
    "config",
    [
        {"filters": 5, "kernel_size": 3},
        {"filters": 5, "kernel_size": 3, "padding": "same", "activation": "relu"},
        {"filters": 5, "kernel_size": 4, "padding": "same", "strides": 2},
        {"filters": 5, "kernel_size": 2, "padding": "same", "strides": 3},
        {"filters": 5, "kernel_size": 3, "padding": "causal", "dilation_rate": 2},
        {"filters": 4, "kernel_size": 3, "groups": 2, "use_bias": False, "activation": "tanh"},
        {"filters": 5, "kernel_size": (3,), "strides": (2,)},
    ],
)
def test_equals_keras(rng, config):
    x = rng.normal(size=(3, 9, 4))
    assert same_as_keras(layers.Conv1D(**config), keras.layers.Conv1D(**config, dtype="float64"), x) <= TOLERANCE


def test_equals_torch_conv1d(rng):
    x = torch.tensor(rng.normal(size=(2, 8, 3)))
    theirs = torch.nn.Conv1d(3, 4, 3, padding=1, dtype=torch.float64)
    ours = layers.Conv1D(4, 3, padding="same")
    ours(x)
    ours.set_weights([theirs.weight.detach().permute(2, 1, 0).numpy(), theirs.bias.detach().numpy()])
    assert_close(ours(x), theirs(x.transpose(1, 2)).transpose(1, 2), rtol=0, atol=1e-12)


def test_causal_output_sees_no_future():
    conv = layers.Conv1D(2, 3, padding="causal", dilation_rate=2)
    x = torch.randn(1, 10, 3)
    later = x.clone()
    later[:, 6:] += 5.0  # change steps 6..9 only
    assert_close(conv(x)[:, :6], conv(later)[:, :6])
    assert not torch.allclose(conv(x)[:, 6:], conv(later)[:, 6:])


def test_kernel_is_in_keras_layout():
    conv = layers.Conv1D(5, 3, input_shape=(None, 4))
    assert [w.shape for w in conv.get_weights()] == [(3, 4, 5), (5,)]


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: layers.Conv1D(4, 3, padding="full"), ConfigError, r"expected padding in \('valid', 'same', 'causal'\)"),
        (lambda: layers.Conv1D(4, 3, padding="causal", strides=2), ConfigError, r"padding='causal' expected strides=1, got 2"),
        (lambda: layers.Conv1D(5, 3, groups=2), ConfigError, r"expected filters \(5\) divisible by groups \(2\)"),
        (lambda: layers.Conv1D(0, 3), ConfigError, r"expected filters to be a positive integer, got 0"),
        (lambda: layers.Conv1D(4, 3, data_format="channels_first"), ConfigError, r"expected data_format='channels_last'"),
    ],
)
def test_bad_settings_are_named(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_bad_inputs_are_named():
    with pytest.raises(ShapeError, match=r"Conv1D expected input of shape \(batch, time, channels\), got \(2, 3\)"):
        layers.Conv1D(4, 3)(torch.zeros(2, 3))
    with pytest.raises(ConfigError, match=r"expected input channels \(3\) divisible by groups \(2\)"):
        layers.Conv1D(4, 3, groups=2)(torch.zeros(2, 6, 3))


def test_other_channel_count_is_refused():
    conv = layers.Conv1D(4, 3)
    conv(torch.zeros(2, 6, 3))
    with pytest.raises(ShapeError, match=r"Conv1D expected 3 channels, got input \(2, 6, 5\)"):
        conv(torch.zeros(2, 6, 5))


def test_a_conv_lstm_stack_trains_saves_and_loads_equal(tmp_path):
    """Conv1D, BatchNormalization (moving statistics), pooling, LSTM, LayerNormalization in one Sequential."""
    from recurra import Sequential, models

    model = Sequential(
        [
            layers.Input((20, 3)),
            layers.Conv1D(8, 3, padding="causal", activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling1D(2),
            layers.LSTM(6, return_sequences=True),
            layers.LayerNormalization(),
            layers.GlobalAveragePooling1D(),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = torch.randn(64, 20, 3)
    y = (x[:, :, 0].sum(1) > 0).long()
    losses = model.fit(x, y, epochs=3, batch_size=16, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    norm = next(layer for layer in model.layers if isinstance(layer, layers.BatchNormalization))
    assert norm.get_weights()[2].any()  # the moving mean moved
    model.save(tmp_path / "cnn.keras")
    loaded = models.load_model(tmp_path / "cnn.keras")
    model.eval()
    loaded.eval()
    assert torch.equal(model(x), loaded(x))


# -- Conv2D, Conv3D --------------------------------------------------------------------------------

CONV2D_CONFIGS = [
    {"filters": 5, "kernel_size": 3},
    {"filters": 5, "kernel_size": (3, 2), "padding": "same", "activation": "relu"},
    {"filters": 5, "kernel_size": 4, "padding": "same", "strides": 2},
    {"filters": 5, "kernel_size": (2, 3), "padding": "same", "strides": (3, 2)},
    {"filters": 5, "kernel_size": 3, "padding": "valid", "strides": (2, 1)},
    {"filters": 5, "kernel_size": 3, "padding": "same", "dilation_rate": (2, 3)},
    {"filters": 4, "kernel_size": 3, "groups": 2, "use_bias": False, "activation": "tanh"},
    {"filters": 8, "kernel_size": 2, "groups": 4, "padding": "same", "strides": 2},
]
CONV3D_CONFIGS = [
    {"filters": 3, "kernel_size": 2},
    {"filters": 3, "kernel_size": (3, 2, 2), "padding": "same", "activation": "sigmoid"},
    {"filters": 3, "kernel_size": 2, "padding": "same", "strides": (1, 2, 3)},
    {"filters": 3, "kernel_size": 2, "dilation_rate": (2, 1, 2), "padding": "same"},
    {"filters": 4, "kernel_size": (1, 2, 3), "groups": 2, "use_bias": False},
]


@pytest.mark.parametrize("config", CONV2D_CONFIGS, ids=str)
def test_conv2d_equals_keras(rng, config):
    x = rng.normal(size=(2, 9, 8, 4))
    assert same_as_keras(layers.Conv2D(**config), keras.layers.Conv2D(**config, dtype="float64"), x) <= TOLERANCE


@pytest.mark.parametrize("config", CONV3D_CONFIGS, ids=str)
def test_conv3d_equals_keras(rng, config):
    x = rng.normal(size=(2, 5, 7, 6, 4))
    assert same_as_keras(layers.Conv3D(**config), keras.layers.Conv3D(**config, dtype="float64"), x) <= TOLERANCE


def test_strides_with_dilation_equal_torch(rng):
    """Keras refuses strides > 1 with dilation > 1; recurra runs them, as torch does (odd "same" padding after)."""
    x = torch.tensor(rng.normal(size=(2, 9, 8, 3)))
    ours = layers.Conv2D(4, 3, strides=2, dilation_rate=2, padding="same")
    ours(x)
    theirs = torch.nn.Conv2d(3, 4, 3, stride=2, dilation=2, dtype=torch.float64)
    ours.set_weights([theirs.weight.detach().permute(2, 3, 1, 0).numpy(), theirs.bias.detach().numpy()])
    # rows: 9 -> 5 outputs, total padding (5 - 1) * 2 + 5 - 9 = 4: 2 and 2; cols: 8 -> 4, total 3: 1 before, 2 after
    want = theirs(torch.nn.functional.pad(x.movedim(-1, 1), (1, 2, 2, 2))).movedim(1, -1)
    assert_close(ours(x), want, rtol=0, atol=1e-12)


def test_2d_3d_kernels_are_in_keras_layout():
    conv2d = layers.Conv2D(6, (3, 2), groups=2, input_shape=(None, None, 4))
    assert [w.shape for w in conv2d.get_weights()] == [(3, 2, 2, 6), (6,)]
    conv3d = layers.Conv3D(5, (1, 2, 3), use_bias=False, input_shape=(4, 5, 6, 3))
    assert [w.shape for w in conv3d.get_weights()] == [(1, 2, 3, 3, 5)]


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: layers.Conv2D(4, 3, padding="causal"), ConfigError, r"expected padding in \('valid', 'same'\), got 'causal'"),
        (
            lambda: layers.Conv2D(4, (3, 3, 3)),
            ConfigError,
            r"expected kernel_size as a positive integer or a tuple of 2, got \(3, 3, 3\)",
        ),
        (lambda: layers.Conv3D(4, 3, strides=(1, 0, 1)), ConfigError, r"expected strides to be a positive integer, got 0"),
        (lambda: layers.Conv3D(6, 3, groups=4), ConfigError, r"expected filters \(6\) divisible by groups \(4\)"),
        (lambda: layers.Conv2D(4, 3, data_format="channels_first"), ConfigError, r"expected data_format='channels_last'"),
        (lambda: layers.Conv2D(4, 3, input_shape=(5, 3)), ConfigError, r"Conv2D expected input_shape=\(rows, cols, channels\)"),
    ],
)
def test_2d_3d_bad_settings_are_named(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_2d_3d_bad_inputs_are_named():
    with pytest.raises(ShapeError, match=r"Conv2D expected input of shape \(batch, rows, cols, channels\), got \(2, 3, 4\)"):
        layers.Conv2D(4, 3)(torch.zeros(2, 3, 4))
    with pytest.raises(
        ShapeError, match=r"Conv3D expected input of shape \(batch, depth, rows, cols, channels\), got \(2, 3, 4, 5\)"
    ):
        layers.Conv3D(4, 3)(torch.zeros(2, 3, 4, 5))
    with pytest.raises(ShapeError, match=r"Conv2D with padding='valid' expected spatial sizes of at least \(3, 5\)"):
        layers.Conv2D(4, 3, dilation_rate=(1, 2))(torch.zeros(2, 6, 4, 1))
    conv = layers.Conv2D(4, 3)
    conv(torch.zeros(2, 6, 6, 3))
    with pytest.raises(ShapeError, match=r"Conv2D expected 3 channels, got input \(2, 6, 6, 5\)"):
        conv(torch.zeros(2, 6, 6, 5))
    with pytest.raises(InputValueError, match=r"Conv2D expected input of dtype torch.float32 \(its weights\), got torch.float64"):
        conv(torch.zeros(2, 6, 6, 3, dtype=torch.float64))
