"""ConvLSTM1D, ConvLSTM2D, ConvLSTM3D: the harness; Keras 3's numbers (paddings, strides, dilation,
return_sequences, return_state, go_backwards, masks, initial_state); the reference and fast kernels equal
on values and gradients; masks, lengths, stateful, dropout, the errors; and a next-frame model that
trains, saves and loads."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from recurra import layers
from recurra.errors import ConfigError, InputValueError, ShapeError
from tests.helpers import as_tuple
from tests.keras3 import TOLERANCE, keras, randomize
from tests.layers.harness import CHECKS, CONV_CASES

CASES = [c for c in CONV_CASES if type(c.make()).__name__.startswith("ConvLSTM")]

B, T = 2, 4
LAYERS = {  # rank: (recurra's class, Keras's class, spatial sizes of the test inputs)
    1: (layers.ConvLSTM1D, keras.layers.ConvLSTM1D, (7,)),
    2: (layers.ConvLSTM2D, keras.layers.ConvLSTM2D, (6, 5)),
    3: (layers.ConvLSTM3D, keras.layers.ConvLSTM3D, (4, 5, 3)),
}
HOLES = np.array([[1, 0, 1, 1], [0, 0, 1, 0]], dtype=bool)  # a masked first and last step, a row with one real step


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_harness(case, check):
    check(case)


# -- Keras 3 ---------------------------------------------------------------------------------------


def inputs(rank: int, rng: np.random.Generator, channels: int = 2) -> np.ndarray:
    return rng.normal(size=(B, T, *LAYERS[rank][2], channels))


def keras_difference(rank: int, config: dict, x: np.ndarray, *, mask=None, initial_state=None) -> float:
    """Largest |recurra - Keras| over every output (the states too), float64, recurra's random weights in both."""
    ours_class, keras_class, _ = LAYERS[rank]
    ours, theirs = ours_class(**config), keras_class(**config, dtype="float64")
    x64 = torch.tensor(x)
    ours(x64)
    theirs(x)  # both built
    randomize(ours)
    theirs.set_weights(ours.get_weights())
    ours_kw, theirs_kw = {}, {}
    if mask is not None:
        ours_kw["mask"], theirs_kw["mask"] = torch.tensor(mask), mask
    if initial_state is not None:
        ours_kw["initial_state"], theirs_kw["initial_state"] = [torch.tensor(s) for s in initial_state], list(initial_state)
    got = as_tuple(ours(x64, **ours_kw))
    want = [keras.ops.convert_to_numpy(w) for w in as_tuple(theirs(x, **theirs_kw))]
    assert [tuple(g.shape) for g in got] == [w.shape for w in want]
    return max(float(np.max(np.abs(g.detach().numpy() - w))) for g, w in zip(got, want))


KERAS_CONFIGS = [
    {"filters": 3, "kernel_size": 3},
    {"filters": 3, "kernel_size": 2, "padding": "same", "return_sequences": True},
    {"filters": 2, "kernel_size": 3, "padding": "same", "strides": 2, "return_sequences": True, "return_state": True},
    {"filters": 2, "kernel_size": 2, "strides": 2, "go_backwards": True, "return_state": True},
    {"filters": 2, "kernel_size": 2, "dilation_rate": 2, "padding": "same", "return_sequences": True, "go_backwards": True},
    {"filters": 2, "kernel_size": 3, "activation": "relu", "recurrent_activation": "hard_sigmoid", "use_bias": False},
    {"filters": 2, "kernel_size": 2, "return_sequences": True, "zero_output_for_mask": True},
    {"filters": 2, "kernel_size": 2, "go_backwards": True, "zero_output_for_mask": True},
]


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("config", KERAS_CONFIGS, ids=str)
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_equals_keras(rng, rank, config, masked):
    mask = HOLES if masked else None
    assert keras_difference(rank, config, inputs(rank, rng), mask=mask) <= TOLERANCE


@pytest.mark.parametrize("go_backwards", [False, True], ids=["fwd", "bwd"])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_initial_state_equals_keras(rng, rank, go_backwards):
    """A given [h, c]; the masked first step of the second row keeps it, and outputs Keras's zeros there."""
    config = {"filters": 2, "kernel_size": 2, "padding": "same", "return_sequences": True, "return_state": True}
    config["go_backwards"] = go_backwards
    state_shape = (B, *LAYERS[rank][2], 2)
    initial_state = [rng.normal(size=state_shape), rng.normal(size=state_shape)]
    assert keras_difference(rank, config, inputs(rank, rng), mask=HOLES, initial_state=initial_state) <= TOLERANCE


# -- the reference and the fast kernel -------------------------------------------------------------


@pytest.mark.parametrize(
    "rank, config, masked, with_state",
    [
        (1, {"filters": 3, "kernel_size": 3, "padding": "same", "return_sequences": True}, False, False),
        (1, {"filters": 2, "kernel_size": 2, "strides": 2, "go_backwards": True}, True, True),
        (2, {"filters": 3, "kernel_size": (3, 2), "padding": "same", "return_sequences": True}, True, True),
        (
            2,
            {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same", "dropout": 0.3, "recurrent_dropout": 0.4},
            False,
            True,
        ),
        (
            2,
            {"filters": 2, "kernel_size": 2, "dilation_rate": 2, "return_sequences": True, "go_backwards": True, "dropout": 0.3},
            True,
            False,
        ),
        (3, {"filters": 2, "kernel_size": 2, "padding": "same", "recurrent_dropout": 0.3, "return_sequences": True}, True, True),
        (3, {"filters": 2, "kernel_size": 2, "use_bias": False, "activation": "relu"}, False, False),
    ],
    ids=lambda v: str(v) if isinstance(v, dict) else None,
)
def test_fast_equals_reference_values_and_gradients(rng, rank, config, masked, with_state):
    """Float64, training (the same seeded dropout masks in both): every output, and the gradients of a
    random projection of them with respect to the weights, the input and the initial state."""
    cls = LAYERS[rank][0]
    fast = cls(**config, return_state=True, seed=3, implementation="fast").double()
    x = torch.tensor(inputs(rank, rng, channels=3), requires_grad=True)
    fast(x)
    randomize(fast)
    reference = cls.from_config(dict(fast.get_config(), implementation="reference")).double()
    reference(x)
    reference.set_weights(fast.get_weights())
    call = {"training": True}
    if masked:
        call["mask"] = torch.tensor(HOLES)
    leaves = [x]
    if with_state:
        shape = tuple(fast(x)[1].shape)
        call["initial_state"] = [torch.tensor(rng.normal(size=shape), requires_grad=True) for _ in range(2)]
        leaves += call["initial_state"]
    fast._generator = reference._generator = None  # both draw their dropout masks afresh from seed 3

    results = []
    for layer in (fast, reference):
        out = as_tuple(layer(x, **call))
        weights = [torch.tensor(np.random.default_rng(9).normal(size=o.shape)) for o in out]
        loss = sum((o * w).sum() for o, w in zip(out, weights))
        grads = torch.autograd.grad(loss, [*layer.parameters(), *leaves])
        results.append((out, grads))
    (out_fast, grads_fast), (out_ref, grads_ref) = results
    assert len(out_fast) == 3
    for a, b in zip(out_fast, out_ref):
        assert a.dtype == torch.float64
        assert_close(a, b, rtol=0, atol=1e-12)
    names = [n for n, _ in fast.named_parameters()] + ["x", "h0", "c0"][: len(leaves)]
    for name, a, b in zip(names, grads_fast, grads_ref):
        assert a.abs().sum() > 0, name
        assert_close(a, b, rtol=0, atol=1e-10, msg=lambda m, name=name: f"gradient of {name}: {m}")


# -- masks -----------------------------------------------------------------------------------------


def test_masked_steps_keep_the_state_and_repeat_the_output(rng):
    layer = layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True, return_state=True).double()
    x = torch.tensor(inputs(2, rng))
    layer(x)
    randomize(layer)
    mask = torch.tensor(HOLES)
    y, h, c = layer(x, mask=mask)
    for b in range(B):
        alone_y, alone_h, alone_c = layer(x[b : b + 1, mask[b]])
        assert_close(h[b], alone_h[0], rtol=0, atol=1e-12)
        assert_close(c[b], alone_c[0], rtol=0, atol=1e-12)
        previous = torch.zeros_like(y[b, 0])  # before the first real step: zeros
        real = iter(alone_y[0])
        for t in range(T):
            previous = next(real) if mask[b, t] else previous
            assert_close(y[b, t], previous, rtol=0, atol=1e-12)


def test_lengths_equal_the_right_padded_mask(rng):
    layer = layers.ConvLSTM1D(2, 3, return_sequences=True)
    x = torch.tensor(inputs(1, rng), dtype=torch.float32)
    lengths = torch.tensor([4, 2])
    mask = torch.arange(T)[None, :] < lengths[:, None]
    assert torch.equal(layer(x, lengths=lengths), layer(x, mask=mask))


def test_output_mask_follows_the_outputs():
    mask = torch.tensor(HOLES)
    x = torch.zeros(B, T, 5, 5, 1)
    assert layers.ConvLSTM2D(2, 3).compute_mask(x, mask) is None
    assert torch.equal(layers.ConvLSTM2D(2, 3, return_sequences=True).compute_mask(x, mask), mask)
    assert torch.equal(layers.ConvLSTM2D(2, 3, return_sequences=True, go_backwards=True).compute_mask(x, mask), mask.flip(1))


# -- stateful, dropout ----------------------------------------------------------------------------


def test_stateful_carries_the_state_across_calls(rng):
    whole = layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True, return_state=True).double()
    x = torch.tensor(inputs(2, rng))
    whole(x)
    randomize(whole)
    y, h, c = whole(x)
    stateful = layers.ConvLSTM2D.from_config(dict(whole.get_config(), stateful=True)).double()
    stateful(x[:, :1])
    stateful.set_weights(whole.get_weights())
    stateful.reset_states()
    y1, *_ = stateful(x[:, :2])
    y2, h2, c2 = stateful(x[:, 2:])
    assert_close(torch.cat([y1, y2], 1), y, rtol=0, atol=1e-12)
    assert_close(h2, h, rtol=0, atol=1e-12)
    assert_close(stateful.carried_state[1], c, rtol=0, atol=1e-12)
    stateful.reset_states()
    assert_close(stateful(x[:, :2])[0], y1, rtol=0, atol=0)  # from zeros again
    with pytest.raises(ShapeError, match=r"stateful ConvLSTM2D expected inputs whose state has shape \(2, 6, 5, 2\)"):
        stateful(x[:1])


def test_dropout_only_while_training_and_seeded(rng):
    x = torch.tensor(inputs(2, rng), dtype=torch.float32)
    layer = layers.ConvLSTM2D(2, 3, dropout=0.5, recurrent_dropout=0.5, seed=7)
    layer.eval()
    assert torch.equal(layer(x), layer(x))
    assert not torch.equal(layer(x, training=True), layer(x))
    config = dict(layer.get_config(), input_shape=list(x.shape[1:]))
    again, fresh = layers.ConvLSTM2D.from_config(config), layers.ConvLSTM2D.from_config(config)
    again.set_weights(layer.get_weights())
    fresh.set_weights(layer.get_weights())
    assert torch.equal(again(x, training=True), fresh(x, training=True))  # the same seed, the same masks


def test_functional_model_with_initial_state():
    from recurra import Model

    frames = layers.Input((None, 6, 6, 1))
    h0, c0 = layers.Input((6, 6, 2)), layers.Input((6, 6, 2))
    y, h, c = layers.ConvLSTM2D(2, 3, padding="same", return_state=True)(frames, initial_state=[h0, c0])
    model = Model([frames, h0, c0], [y, h, c])
    out = model([torch.randn(3, 5, 6, 6, 1), torch.zeros(3, 6, 6, 2), torch.zeros(3, 6, 6, 2)])
    assert [tuple(o.shape) for o in out] == [(3, 6, 6, 2)] * 3


# -- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: layers.ConvLSTM2D(2, 3, padding="causal"), r"expected padding in \('valid', 'same'\), got 'causal'"),
        (lambda: layers.ConvLSTM3D(2, (3, 3)), r"expected kernel_size as a positive integer or a tuple of 3, got \(3, 3\)"),
        (lambda: layers.ConvLSTM2D(2, 3, dropout=1.0), r"expected dropout in \[0, 1\), got 1.0"),
        (lambda: layers.ConvLSTM2D(2, 3, implementation="fused"), r"expected implementation in \('fast', 'reference'\)"),
        (lambda: layers.ConvLSTM2D(2, 3, data_format="channels_first"), r"expected data_format='channels_last'"),
        (lambda: layers.ConvLSTM1D(2, 3, seed=1.5), r"expected seed as an integer or None, got 1.5"),
        (
            lambda: layers.ConvLSTM2D(2, 3, input_shape=(5, 6, 1)),
            r"ConvLSTM2D expected input_shape=\(time, rows, cols, channels\)",
        ),
    ],
)
def test_bad_settings_are_named(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_bad_inputs_are_named():
    with pytest.raises(
        ShapeError, match=r"ConvLSTM2D expected input of shape \(batch, time, rows, cols, channels\), got \(2, 3, 4\)"
    ):
        layers.ConvLSTM2D(2, 3)(torch.zeros(2, 3, 4))
    with pytest.raises(ShapeError, match=r"ConvLSTM1D with padding='valid' expected spatial sizes of at least \(3,\)"):
        layers.ConvLSTM1D(2, 3)(torch.zeros(2, 3, 2, 1))
    with pytest.raises(InputValueError, match=r"ConvLSTM3D expected a floating-point input, got dtype torch.int64"):
        layers.ConvLSTM3D(2, 1)(torch.zeros(2, 3, 2, 2, 2, 1, dtype=torch.long))
    layer = layers.ConvLSTM2D(3, 3, padding="same")
    layer(torch.zeros(2, 3, 4, 4, 1))
    with pytest.raises(ShapeError, match=r"ConvLSTM2D expected 1 channels, got input \(2, 3, 4, 4, 2\)"):
        layer(torch.zeros(2, 3, 4, 4, 2))
    with pytest.raises(ShapeError, match=r"ConvLSTM2D expected initial state h of shape \(2, 4, 4, 3\), got \(2, 4, 4, 2\)"):
        layer(torch.zeros(2, 3, 4, 4, 1), initial_state=[torch.zeros(2, 4, 4, 2), torch.zeros(2, 4, 4, 3)])
    with pytest.raises(ShapeError, match=r"ConvLSTM2D expected initial_state=\[h, c\], two tensors, got 1"):
        layer(torch.zeros(2, 3, 4, 4, 1), initial_state=[torch.zeros(2, 4, 4, 3)])


# -- a next-frame model ----------------------------------------------------------------------------


def moving_squares(n: int, steps: int, size: int = 8, seed: int = 0) -> torch.Tensor:
    """``(n, steps, size, size, 1)`` frames: a 2x2 square moving one pixel a step, bouncing off the edges."""
    g = np.random.default_rng(seed)
    frames = np.zeros((n, steps, size, size, 1), dtype=np.float32)
    for i in range(n):
        pos, vel = g.integers(0, size - 1, 2), g.choice([-1, 1], 2)
        for t in range(steps):
            frames[i, t, pos[0] : pos[0] + 2, pos[1] : pos[1] + 2] = 1.0
            for a in range(2):
                if not 0 <= pos[a] + vel[a] <= size - 2:
                    vel[a] = -vel[a]
                pos[a] += vel[a]
    return torch.from_numpy(frames)


def test_next_frame_model_trains_saves_and_loads(tmp_path):
    from recurra import Sequential, models

    frames = moving_squares(32, 5)
    x, y = frames[:, :-1], frames[:, 1:]  # (32, 4, 8, 8, 1): predict each next frame
    model = Sequential(
        [
            layers.Input((4, 8, 8, 1)),
            layers.ConvLSTM2D(6, 3, padding="same", return_sequences=True),
            layers.BatchNormalization(),
            layers.Conv3D(1, 3, padding="same", activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    losses = model.fit(x, y, epochs=4, batch_size=8, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    model.save(tmp_path / "m.keras")
    loaded = models.load_model(tmp_path / "m.keras")
    model.eval()
    loaded.eval()
    assert torch.equal(model(x), loaded(x))
