"""The recurrent layers' loop: masks, lengths, go_backwards, stateful, initial_state, dropout,
lazy building and errors."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from recurra import GRU, LSTM, Bidirectional, Embedding, Masking, SimpleRNN
from recurra.cells import LSTMState
from recurra.errors import ConfigError, InputValueError, ShapeError, UnknownNameError
from tests.helpers import (
    B,
    F,
    H,
    T,
    as_tuple,
    assert_masked_outputs,
    build_random,
    check_each_sequence_alone,
    mask_kwargs,
    mask_of,
    padded_input,
    randomize,
    twin,
)
from tests.layers.harness import CHECKS, RECURRENT_CASES

LAYERS = {
    "simple_rnn": lambda **kw: SimpleRNN(H, **kw),
    "simple_rnn_relu": lambda **kw: SimpleRNN(H, activation="relu", **kw),
    "lstm": lambda **kw: LSTM(H, **kw),
    "gru": lambda **kw: GRU(H, **kw),
    "gru_reset_before": lambda **kw: GRU(H, reset_after=False, **kw),
}
FUSED_LAYERS = ["simple_rnn", "lstm", "gru"]


def make(kind: str, rng, features: int = F, **kw):
    """A float64 layer of ``kind`` built for ``features`` features, with random weights and biases."""
    return build_random(LAYERS[kind], rng, features, **kw)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("case", RECURRENT_CASES, ids=repr)
def test_harness(case, check):
    check(case)


# -- masks and lengths: every sequence gets exactly what it would get alone --------------------------


@pytest.mark.parametrize("implementation", ["auto", "reference"])
@pytest.mark.parametrize("mask_kind", ["lengths", "left", "holes"])
@pytest.mark.parametrize("go_backwards", [False, True], ids=["fwd", "bwd"])
@pytest.mark.parametrize("kind", list(LAYERS))
def test_each_sequence_as_if_alone(rng, kind, go_backwards, mask_kind, implementation):
    layer = make(kind, rng, return_sequences=True, return_state=True, go_backwards=go_backwards, implementation=implementation)
    mask = mask_of(mask_kind)
    x = padded_input(rng, mask)
    check_each_sequence_alone(layer, x, mask, mask_kwargs(mask_kind), reversed_output=go_backwards)
    layer(x, **mask_kwargs(mask_kind))
    expected = "fused" if implementation == "auto" and kind != "gru_reset_before" else "reference"
    assert layer.kernel == expected


@pytest.mark.parametrize("mask_kind", ["lengths", "holes"])
@pytest.mark.parametrize("kind", FUSED_LAYERS)
def test_each_sequence_as_if_alone_bidirectional(rng, kind, mask_kind):
    layer = Bidirectional(make(kind, rng, return_sequences=True, return_state=True))
    randomize(layer, rng)
    mask = mask_of(mask_kind)
    x = padded_input(rng, mask)
    check_each_sequence_alone(layer, x, mask, mask_kwargs(mask_kind), reversed_output=False)


def test_mask_last_output_is_last_real_step(rng):
    """return_sequences=False gives each sequence's output at its last real step."""
    layer = make("lstm", rng, return_sequences=False)
    seq = twin(layer, return_sequences=True)
    mask = mask_of("holes")
    x = padded_input(rng, mask)
    last = layer(x, mask=mask)
    y = seq(x, mask=mask)
    for b in range(B):
        t_last = int(torch.nonzero(mask[b])[-1])
        assert_close(last[b], y[b, t_last], atol=1e-12, rtol=0)


def test_int_mask_and_list_lengths_accepted(rng):
    layer = make("gru", rng, return_sequences=True)
    x = torch.tensor(rng.normal(size=(B, T, F)))
    by_bool = layer(x, mask=mask_of("lengths"))
    assert torch.equal(layer(x, mask=mask_of("lengths").long()), by_bool)
    assert torch.equal(layer(x, lengths=[6, 3, 1, 5]), by_bool)
    # an all-True mask is the same as no mask
    assert torch.equal(layer(x, mask=torch.ones(B, T, dtype=torch.bool)), layer(x))


@pytest.mark.parametrize("implementation", ["auto", "reference"])
@pytest.mark.parametrize("kind", FUSED_LAYERS)
def test_fully_masked_sequence_keeps_initial_state(rng, kind, implementation):
    layer = make(kind, rng, return_sequences=True, return_state=True, implementation=implementation)
    x = torch.tensor(rng.normal(size=(B, T, F)))
    init = [torch.tensor(rng.normal(size=(B, H))) for _ in layer.state_names]
    lengths = torch.tensor([6, 0, 2, 0])
    y, *states = layer(x, lengths=lengths, initial_state=init)
    assert layer.kernel == "reference"  # the fused kernels cannot pack an empty sequence
    assert torch.count_nonzero(y[1]) == 0 and torch.count_nonzero(y[3]) == 0
    for s, s0 in zip(states, init):
        assert torch.equal(s[1], s0[1]) and torch.equal(s[3], s0[3])
        assert not torch.equal(s[0], s0[0])
    # the other rows are untouched by the empty ones
    y_alone, *_ = layer(x[:1], initial_state=[s0[:1] for s0 in init])
    assert_close(y[0], y_alone[0], atol=1e-12, rtol=0)


@pytest.mark.parametrize("go_backwards", [False, True], ids=["fwd", "bwd"])
@pytest.mark.parametrize("kind", FUSED_LAYERS)
def test_embedding_mask_zero_into_recurrent(rng, kind, go_backwards):
    emb = Embedding(12, F, mask_zero=True).double()
    randomize(emb, rng)
    ids = torch.tensor([[3, 5, 0, 7, 0, 0], [1, 1, 1, 1, 1, 1], [0, 0, 4, 9, 11, 2], [0, 6, 0, 0, 0, 0]])
    layer = make(kind, rng, return_sequences=True, return_state=True, go_backwards=go_backwards)
    x = emb(ids)
    mask = emb.compute_mask(ids, None)
    y, *states = layer(x, mask=mask)
    for b in range(B):
        kept = ids[b][ids[b] != 0]
        y_alone, *states_alone = layer(emb(kept[None]))
        yb = y[b].flip(0) if go_backwards else y[b]
        ya = y_alone[0].flip(0) if go_backwards else y_alone[0]
        assert_close(yb[mask[b]], ya, atol=1e-12, rtol=0)
        assert_masked_outputs(layer, y[b], mask[b].flip(0) if go_backwards else mask[b])
        for s, sa in zip(states, states_alone):
            assert_close(s[b], sa[0], atol=1e-12, rtol=0)


def test_embedding_mask_through_bidirectional(rng):
    emb = Embedding(12, F, mask_zero=True).double()
    ids = torch.tensor([[3, 5, 0, 7, 0, 0], [1, 1, 1, 1, 1, 1], [0, 0, 4, 9, 11, 2], [0, 6, 0, 0, 0, 0]])
    layer = Bidirectional(make("lstm", rng, return_sequences=True, return_state=True))
    randomize(layer, rng)
    mask = emb.compute_mask(ids, None)
    check_each_sequence_alone(layer, emb(ids), mask, {"mask": mask}, reversed_output=False)


@pytest.mark.parametrize("first_backwards", [False, True])
def test_stacked_layers_propagate_the_mask(rng, first_backwards):
    """compute_mask of a return_sequences layer is the mask of its output (reversed with go_backwards)."""
    first = make("gru", rng, return_sequences=True, go_backwards=first_backwards)
    second = make("lstm", rng, features=H, return_state=True)
    mask = mask_of("holes")
    x = padded_input(rng, mask)
    y1 = first(x, mask=mask)
    m1 = first.compute_mask(x, mask)
    assert torch.equal(m1, mask.flip(1) if first_backwards else mask)
    out, h, c = second(y1, mask=m1)
    for b in range(B):
        out_b, h_b, c_b = second(first(x[b : b + 1, mask[b]]))
        assert_close(out[b], out_b[0], atol=1e-12, rtol=0)
        assert_close(c[b], c_b[0], atol=1e-12, rtol=0)
    assert twin(first, return_sequences=False).compute_mask(x, mask) is None
    assert first.compute_mask(x, None) is None


@pytest.mark.parametrize("kind", FUSED_LAYERS)
def test_masking_layer_into_recurrent(rng, kind):
    masking = Masking(0.0)
    mask = mask_of("holes")
    x = torch.tensor(rng.normal(size=(B, T, F)))
    x[~mask] = 0.0
    layer = make(kind, rng, return_sequences=True, return_state=True)
    m = masking.compute_mask(x, None)
    assert torch.equal(m, mask)
    check_each_sequence_alone(layer, masking(x), m, {"mask": m}, reversed_output=False)


# -- go_backwards ----------------------------------------------------------------------------------


@pytest.mark.parametrize("implementation", ["auto", "reference"])
@pytest.mark.parametrize("kind", list(LAYERS))
def test_go_backwards_is_forward_on_reversed_input(rng, kind, implementation):
    back = make(kind, rng, return_sequences=True, return_state=True, go_backwards=True, implementation=implementation)
    fwd = twin(back, go_backwards=False)
    x = torch.tensor(rng.normal(size=(B, T, F)))
    for a, b in zip(as_tuple(back(x)), as_tuple(fwd(x.flip(1)))):
        assert_close(a, b, atol=1e-12, rtol=0)  # outputs in reversed time order, as in Keras
    assert not torch.allclose(back(x)[1], fwd(x)[1])


# -- stateful --------------------------------------------------------------------------------------


@pytest.mark.parametrize("implementation", ["auto", "reference"])
@pytest.mark.parametrize("kind", list(LAYERS))
def test_stateful_halves_equal_whole(rng, kind, implementation):
    layer = make(kind, rng, return_sequences=True, return_state=True, stateful=True, implementation=implementation)
    whole = twin(layer, stateful=False)
    x = torch.tensor(rng.normal(size=(B, T, F)))
    y1, *s1 = layer(x[:, :2])
    y2, *s2 = layer(x[:, 2:])
    y, *s = whole(x)
    assert_close(torch.cat([y1, y2], 1), y, atol=1e-12, rtol=0)
    for a, b in zip(s2, s):
        assert_close(a, b, atol=1e-12, rtol=0)
    # without a reset the layer goes on from where it stopped ...
    y3, *_ = layer(x[:, :2])
    assert not torch.allclose(y3, y1)
    # ... reset_states() forgets
    layer.reset_states()
    y4, *_ = layer(x[:, :2])
    assert torch.equal(y4, y1)


def test_stateful_carries_values_not_graphs(rng):
    layer = make("lstm", rng, stateful=True)
    x = torch.tensor(rng.normal(size=(B, T, F)))
    layer(x).sum().backward()
    layer(x).sum().backward()  # would fail if the carried state still held the first call's graph


def test_reset_states_with_given_states(rng):
    layer = make("lstm", rng, stateful=True, return_state=True)
    plain = twin(layer, stateful=False)
    x = torch.tensor(rng.normal(size=(B, T, F)))
    h0, c0 = torch.tensor(rng.normal(size=(B, H))), torch.tensor(rng.normal(size=(B, H)))
    layer.reset_states([h0, c0])
    for a, b in zip(layer(x), plain(x, initial_state=[h0, c0])):
        assert torch.equal(a, b)


def test_stateful_with_mask_carries_the_last_real_state(rng):
    layer = make("gru", rng, stateful=True, return_state=True)
    plain = twin(layer, stateful=False)
    x = torch.tensor(rng.normal(size=(B, T, F)))
    lengths = torch.tensor([6, 3, 1, 5])
    _, h1 = layer(x, lengths=lengths)
    _, h2 = layer(x)
    _, h_ref = plain(x, initial_state=plain(x, lengths=lengths)[1])
    assert_close(h2, h_ref, atol=1e-12, rtol=0)
    assert_close(h1, plain(x, lengths=lengths)[1], atol=1e-12, rtol=0)


# -- initial_state ---------------------------------------------------------------------------------


@pytest.mark.parametrize("implementation", ["auto", "reference"])
@pytest.mark.parametrize("kind", FUSED_LAYERS)
def test_initial_state_continues_a_sequence(rng, kind, implementation):
    layer = make(kind, rng, return_sequences=True, return_state=True, implementation=implementation)
    x = torch.tensor(rng.normal(size=(B, T, F)))
    y, *s = layer(x)
    y1, *s1 = layer(x[:, :4])
    y2, *s2 = layer(x[:, 4:], initial_state=s1)
    assert_close(torch.cat([y1, y2], 1), y, atol=1e-12, rtol=0)
    for a, b in zip(s2, s):
        assert_close(a, b, atol=1e-12, rtol=0)
    y_zero = layer(x[:, 4:])[0]
    assert not torch.allclose(y_zero, y2)


def test_initial_state_forms_and_gradient(rng):
    lstm = make("lstm", rng, return_state=True)
    x = torch.tensor(rng.normal(size=(B, T, F)))
    h0 = torch.tensor(rng.normal(size=(B, H)), requires_grad=True)
    c0 = torch.tensor(rng.normal(size=(B, H)), requires_grad=True)
    out_list = lstm(x, initial_state=[h0, c0])
    for form in ((h0, c0), LSTMState(h0, c0)):
        for a, b in zip(lstm(x, initial_state=form), out_list):
            assert torch.equal(a, b)
    out_list[0].sum().backward()
    assert h0.grad is not None and c0.grad is not None and c0.grad.abs().sum() > 0
    gru = make("gru", rng)
    h = torch.tensor(rng.normal(size=(B, H)))
    assert torch.equal(gru(x, initial_state=h), gru(x, initial_state=[h]))
    assert not torch.equal(gru(x, initial_state=h), gru(x))


# -- dropout ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", FUSED_LAYERS)
def test_recurrent_dropout_picks_the_kernel(rng, kind):
    layer = make(kind, rng, recurrent_dropout=0.3)
    x = torch.tensor(rng.normal(size=(B, T, F)))
    layer.train()
    layer(x)
    assert layer.kernel == "reference"
    layer(x, training=False)
    assert layer.kernel == "fused"
    layer.eval()
    layer(x)
    assert layer.kernel == "fused"
    layer(x, training=True)
    assert layer.kernel == "reference"
    with_input_dropout = make(kind, rng, dropout=0.3)
    with_input_dropout.train()
    with_input_dropout(x)
    assert with_input_dropout.kernel == "fused"  # input dropout alone keeps the fused kernel


@pytest.mark.parametrize("kind", list(LAYERS))
def test_dropout_in_eval_mode_changes_nothing(rng, kind):
    layer = make(kind, rng, dropout=0.5, recurrent_dropout=0.5, return_sequences=True)
    plain = twin(layer, dropout=0.0, recurrent_dropout=0.0)
    x = torch.tensor(rng.normal(size=(B, T, F)))
    layer.eval()
    assert torch.equal(layer(x), plain(x))
    assert torch.equal(layer(x, training=False), plain(x))
    layer.train()
    y1 = layer(x)
    assert not torch.allclose(y1, plain(x))
    torch.manual_seed(5)
    y2 = layer(x)
    torch.manual_seed(5)
    assert torch.equal(layer(x), y2)


def test_input_dropout_is_one_mask_per_sequence(rng):
    """With F=2 each sequence's input is x * m for one of 4 masks m in {0, 2}^2, the same at every step."""
    layer = LSTM(3, dropout=0.5, return_sequences=True, input_shape=(None, 2)).double()
    plain = twin(layer, dropout=0.0)
    x = torch.tensor(rng.normal(size=(16, 5, 2)))
    y = layer(x, training=True)
    candidates = [plain(x * torch.tensor(m, dtype=torch.float64)) for m in itertools.product([0.0, 2.0], repeat=2)]
    for b in range(16):
        assert any(torch.allclose(y[b], c[b], atol=1e-12, rtol=0) for c in candidates), b
    assert len({min(range(4), key=lambda i, b=b: (candidates[i][b] - y[b]).abs().max()) for b in range(16)}) > 1


def test_recurrent_dropout_is_one_mask_per_sequence(rng):
    """With H=2 each sequence runs with one of 4 recurrent masks in {0, 2}^2, the same at every step."""
    layer = SimpleRNN(2, recurrent_dropout=0.5, return_sequences=True, input_shape=(None, 3)).double()
    randomize(layer, rng)
    x = torch.tensor(rng.normal(size=(16, 5, 3)))
    y = layer(x, training=True)
    assert layer.kernel == "reference"

    def run(m):
        state = layer.cell.zero_state(16, dtype=torch.float64, device="cpu")
        out = []
        for t in range(5):
            y_t, state = layer.cell.step(x[:, t], state, torch.tensor(m, dtype=torch.float64).expand(16, 2))
            out.append(y_t)
        return torch.stack(out, 1)

    candidates = [run(m) for m in itertools.product([0.0, 2.0], repeat=2)]
    for b in range(16):
        assert any(torch.allclose(y[b], c[b], atol=1e-12, rtol=0) for c in candidates), b


# -- lazy building ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(LAYERS))
def test_lazy_build_on_first_call(kind):
    layer = LAYERS[kind]()
    assert not layer.built and layer.cell is None and list(layer.parameters()) == []
    y = layer(torch.randn(2, 4, 3, dtype=torch.float64))
    assert layer.built and layer.cell.input_size == 3
    assert all(p.dtype == torch.float64 for p in layer.parameters())
    assert y.shape == (2, H)


@pytest.mark.parametrize("kind", list(LAYERS))
def test_input_shape_builds_in_constructor(kind):
    layer = LAYERS[kind](input_shape=(None, 3))
    assert layer.built
    params = list(layer.parameters())
    assert params and all(p.dtype == torch.float32 for p in params)
    assert layer.get_weights()[0].shape[0] == 3
    # timesteps=None: any length
    for steps in (1, 2, 7):
        assert layer(torch.randn(2, steps, 3)).shape == (2, H)
    assert LAYERS[kind](input_shape=(5, 3)).built


# -- errors ----------------------------------------------------------------------------------------


def test_error_2d_input():
    with pytest.raises(ShapeError, match=r"LSTM expected input of shape \(batch, time, 3\), got \(4, 3\)"):
        LSTM(2, input_shape=(None, 3))(torch.zeros(4, 3))
    with pytest.raises(ShapeError, match=r"GRU expected input of shape \(batch, time, features\), got \(4, 3\)"):
        GRU(2)(torch.zeros(4, 3))
    with pytest.raises(TypeError, match=r"expected a torch.Tensor of shape \(batch, time, features\), got str"):
        SimpleRNN(2)("abc")
    assert tuple(SimpleRNN(2)(np.zeros((2, 3, 4))).shape) == (2, 2)  # numpy arrays are taken, as Keras takes them


def test_error_wrong_feature_count_after_build():
    layer = SimpleRNN(2)
    layer(torch.zeros(2, 5, 3))
    with pytest.raises(ShapeError, match=r"SimpleRNN expected input of shape \(batch, time, 3\), got \(2, 5, 4\)"):
        layer(torch.zeros(2, 5, 4))


def test_error_zero_length_and_empty_batch():
    with pytest.raises(InputValueError, match=r"LSTM got a zero-length sequence: input shape \(2, 0, 3\)"):
        LSTM(2)(torch.zeros(2, 0, 3))
    with pytest.raises(InputValueError, match=r"LSTM got an empty batch: input shape \(0, 4, 3\)"):
        LSTM(2)(torch.zeros(0, 4, 3))


def test_error_integer_input():
    with pytest.raises(InputValueError, match=r"LSTM expected a floating-point input, got dtype torch.int64"):
        LSTM(2)(torch.ones(2, 5, 3, dtype=torch.long))


def test_error_dtype_mismatch():
    layer = LSTM(2, input_shape=(None, 3))
    with pytest.raises(InputValueError, match=r"expected input of dtype torch.float32 \(its weights\), got torch.float64"):
        layer(torch.zeros(2, 5, 3, dtype=torch.float64))


@pytest.mark.parametrize("units", [0, -3, 2.5, True, "4"])
def test_error_units(units):
    with pytest.raises(ConfigError, match=rf"expected units to be a positive integer, got {re.escape(repr(units))}"):
        GRU(units)


@pytest.mark.parametrize("arg", ["dropout", "recurrent_dropout"])
@pytest.mark.parametrize("value", [1.5, 1.0, -0.1])
def test_error_dropout_rate(arg, value):
    with pytest.raises(ConfigError, match=rf"expected {arg} in \[0, 1\), got {value}"):
        LSTM(2, **{arg: value})


def test_error_unknown_names():
    with pytest.raises(UnknownNameError, match=r"unknown initializer 'glorot_unifrom'; expected one of: .*glorot_uniform"):
        LSTM(2, kernel_initializer="glorot_unifrom")
    with pytest.raises(UnknownNameError, match=r"unknown initializer 'orthogonall'; expected one of: .*orthogonal"):
        GRU(2, recurrent_initializer="orthogonall")
    with pytest.raises(UnknownNameError, match=r"unknown activation 'tanhh'; expected one of: .*tanh"):
        SimpleRNN(2, activation="tanhh")
    with pytest.raises(UnknownNameError, match=r"unknown activation 'sigmoidd'; expected one of: .*sigmoid"):
        LSTM(2, recurrent_activation="sigmoidd")


def test_error_bad_implementation_and_input_shape():
    with pytest.raises(ConfigError, match=r"expected implementation in \('auto', 'fused', 'reference'\), got 'cudnn'"):
        LSTM(2, implementation="cudnn")
    with pytest.raises(ConfigError, match=r"LSTM expected input_shape=\(timesteps, features\), got \(3,\)"):
        LSTM(2, input_shape=(3,))
    with pytest.raises(ConfigError, match=r"expected input_shape with positive sizes, got \(5, 0\)"):
        LSTM(2, input_shape=(5, 0))


def test_error_fused_implementation_cannot_run():
    with pytest.raises(ConfigError, match=r"implementation='fused' cannot run activation='relu', recurrent_activation='sigmoid'"):
        LSTM(2, activation="relu", implementation="fused", input_shape=(None, 3))
    with pytest.raises(ConfigError, match=r"implementation='fused' cannot run activation='relu'"):
        LSTM(2, activation="relu", implementation="fused")(torch.zeros(2, 4, 3))
    layer = LSTM(2, recurrent_dropout=0.5, implementation="fused", input_shape=(None, 3))
    layer(torch.zeros(2, 4, 3), training=False)
    with pytest.raises(ConfigError, match=r"implementation='fused' cannot run recurrent_dropout while training"):
        layer(torch.zeros(2, 4, 3), training=True)
    with pytest.raises(ConfigError, match=r"implementation='fused' cannot run a sequence whose steps are all masked"):
        layer(torch.zeros(2, 4, 3), lengths=torch.tensor([4, 0]), training=False)


def test_error_masks_and_lengths():
    layer = LSTM(2, input_shape=(None, 3))
    x = torch.zeros(2, 5, 3)
    with pytest.raises(ShapeError, match=r"expected a mask of shape \(2, 5\) \(batch, time\), got \(2, 4\)"):
        layer(x, mask=torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ShapeError, match=r"expected a mask of shape \(2, 5\) \(batch, time\), got \(2, 5, 1\)"):
        layer(x, mask=torch.ones(2, 5, 1, dtype=torch.bool))
    with pytest.raises(InputValueError, match=r"expected lengths between 0 and 5 \(the time steps of the input\), got .* 3 to 6"):
        layer(x, lengths=torch.tensor([3, 6]))
    with pytest.raises(InputValueError, match=r"expected lengths between 0 and 5 .*got values from -1 to 2"):
        layer(x, lengths=torch.tensor([-1, 2]))
    with pytest.raises(ShapeError, match=r"expected lengths of shape \(2,\), got \(3,\)"):
        layer(x, lengths=torch.tensor([1, 2, 3]))
    with pytest.raises(InputValueError, match=r"expected integer lengths, got dtype torch.float32"):
        layer(x, lengths=torch.tensor([1.0, 2.0]))
    with pytest.raises(InputValueError, match=r"expected either mask= or lengths=, got both"):
        layer(x, mask=torch.ones(2, 5, dtype=torch.bool), lengths=torch.tensor([5, 5]))


def test_error_initial_state():
    x = torch.zeros(2, 5, 3)
    lstm = LSTM(4, input_shape=(None, 3))
    with pytest.raises(ShapeError, match=r"LSTM expected initial_state with 2 tensors \(h, c\), got 1"):
        lstm(x, initial_state=torch.zeros(2, 4))
    with pytest.raises(ShapeError, match=r"LSTM expected initial_state with 2 tensors \(h, c\), got 3"):
        lstm(x, initial_state=[torch.zeros(2, 4)] * 3)
    with pytest.raises(ShapeError, match=r"expected initial state c of shape \(2, 4\), got \(2, 3\)"):
        lstm(x, initial_state=[torch.zeros(2, 4), torch.zeros(2, 3)])
    with pytest.raises(ShapeError, match=r"expected initial state h of shape \(2, 4\), got \(3, 4\)"):
        lstm(x, initial_state=[torch.zeros(3, 4), torch.zeros(3, 4)])
    with pytest.raises(ShapeError, match=r"expected initial state h of shape \(2, 4\), got list"):
        lstm(x, initial_state=[[0.0] * 4, torch.zeros(2, 4)])
    with pytest.raises(ShapeError, match=r"GRU expected initial_state with 1 tensors \(h\), got 2"):
        GRU(4, input_shape=(None, 3))(x, initial_state=[torch.zeros(2, 4)] * 2)


def test_error_stateful_batch_size_change():
    layer = LSTM(2, stateful=True, input_shape=(None, 3))
    layer(torch.zeros(4, 5, 3))
    with pytest.raises(ShapeError, match=r"stateful LSTM expected batches of 4 sequences .*got 3; call reset_states\(\) first"):
        layer(torch.zeros(3, 5, 3))
    layer.reset_states()
    assert layer(torch.zeros(3, 5, 3)).shape == (3, 2)
