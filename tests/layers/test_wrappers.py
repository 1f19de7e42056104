"""Bidirectional and TimeDistributed."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.testing import assert_close

from recurra import GRU, LSTM, Bidirectional, Dense, SimpleRNN, TimeDistributed
from recurra.errors import ConfigError, ShapeError
from tests.helpers import randomize
from tests.layers.harness import CHECKS, WRAPPER_CASES

Fn, Hn, Bn, Tn = 3, 4, 3, 5
RNNS = {"simple_rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("case", WRAPPER_CASES, ids=repr)
def test_harness(case, check):
    check(case)


def bidirectional_and_parts(rng, cls, merge_mode="concat", **kw):
    """A float64 Bidirectional with random weights, and standalone forward / go_backwards layers with its weights."""
    bi = Bidirectional(cls(Hn, input_shape=(None, Fn), **kw), merge_mode=merge_mode).double()
    randomize(bi, rng)
    n = len(bi.forward_layer.get_weights())
    weights = bi.get_weights()
    fwd = cls(Hn, input_shape=(None, Fn), **kw).double()
    fwd.set_weights(weights[:n])
    bwd = cls(Hn, input_shape=(None, Fn), go_backwards=True, **kw).double()
    bwd.set_weights(weights[n:])
    return bi, fwd, bwd


# -- Bidirectional ---------------------------------------------------------------------------------


@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("kind", list(RNNS))
def test_merge_modes_shapes_and_values(rng, kind, merge_mode, return_sequences):
    bi, fwd, bwd = bidirectional_and_parts(rng, RNNS[kind], merge_mode, return_sequences=return_sequences)
    x = torch.from_numpy(rng.normal(size=(Bn, Tn, Fn)))
    a = fwd(x)
    b = bwd(x)
    if return_sequences:
        b = b.flip(1)  # back to input time order
    y = bi(x)
    base = (Bn, Tn) if return_sequences else (Bn,)
    if merge_mode is None:
        assert isinstance(y, list) and len(y) == 2
        assert y[0].shape == y[1].shape == (*base, Hn)
        assert_close(y[0], a, atol=1e-12, rtol=0)
        assert_close(y[1], b, atol=1e-12, rtol=0)
        return
    want = {"concat": torch.cat([a, b], -1), "sum": a + b, "mul": a * b, "ave": (a + b) / 2}[merge_mode]
    assert y.shape == (*base, 2 * Hn if merge_mode == "concat" else Hn)
    assert_close(y, want, atol=1e-12, rtol=0)


@pytest.mark.parametrize("kind", list(RNNS))
def test_backward_half_is_the_reversed_sequence(rng, kind):
    """The backward half at step t is the forward recurrence over x[T-1], ..., x[t]."""
    bi, _, _ = bidirectional_and_parts(rng, RNNS[kind], return_sequences=True)
    x = torch.from_numpy(rng.normal(size=(Bn, Tn, Fn)))
    y = bi(x)
    as_forward = twin_forward(bi.backward_layer)
    assert_close(y[..., Hn:], as_forward(x.flip(1)).flip(1), atol=1e-12, rtol=0)
    for t in range(Tn):
        last = twin_forward(bi.backward_layer, return_sequences=False)(x[:, t:].flip(1))
        assert_close(y[:, t, Hn:], last, atol=1e-12, rtol=0)


def twin_forward(layer, **overrides):
    config = dict(layer.get_config(), go_backwards=False, **overrides)
    new = type(layer).from_config(config).double()
    new.set_weights(layer.get_weights())
    return new


@pytest.mark.parametrize(("kind", "n_states"), [("simple_rnn", 1), ("lstm", 2), ("gru", 1)])
@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
def test_return_state(rng, kind, n_states, return_sequences):
    kw = dict(return_sequences=return_sequences, return_state=True)
    bi, fwd, bwd = bidirectional_and_parts(rng, RNNS[kind], **kw)
    x = torch.from_numpy(rng.normal(size=(Bn, Tn, Fn)))
    out = bi(x)
    assert isinstance(out, tuple) and len(out) == 1 + 2 * n_states
    _, *s_f = fwd(x)
    _, *s_b = bwd(x)
    for got, want in zip(out[1:], s_f + s_b):
        assert got.shape == (Bn, Hn)
        assert_close(got, want, atol=1e-12, rtol=0)
    # initial_state: forward states then backward states
    init = [torch.from_numpy(rng.normal(size=(Bn, Hn))) for _ in range(2 * n_states)]
    out = bi(x, initial_state=init)
    _, *s_f = fwd(x, initial_state=init[:n_states])
    _, *s_b = bwd(x, initial_state=init[n_states:])
    for got, want in zip(out[1:], s_f + s_b):
        assert_close(got, want, atol=1e-12, rtol=0)
    expected = rf"Bidirectional expected initial_state with {2 * n_states} tensors \(forward then backward\), got 1"
    with pytest.raises(ShapeError, match=expected):
        bi(x, initial_state=init[:1])


def test_equals_torch_bidirectional_lstm(rng):
    bi = Bidirectional(LSTM(Hn, return_sequences=True, input_shape=(None, Fn))).double()
    randomize(bi, rng)
    ref = nn.LSTM(Fn, Hn, batch_first=True, bidirectional=True).double()
    f, b = bi.forward_layer.cell, bi.backward_layer.cell
    with torch.no_grad():
        for suffix, cell in (("", f), ("_reverse", b)):
            getattr(ref, f"weight_ih_l0{suffix}").copy_(cell.weight_ih)
            getattr(ref, f"weight_hh_l0{suffix}").copy_(cell.weight_hh)
            getattr(ref, f"bias_ih_l0{suffix}").copy_(cell.bias)
            getattr(ref, f"bias_hh_l0{suffix}").zero_()
    x = torch.from_numpy(rng.normal(size=(Bn, Tn, Fn)))
    assert_close(bi(x), ref(x)[0], atol=1e-12, rtol=0)


def test_config_round_trip(rng):
    bi = Bidirectional(GRU(Hn, reset_after=False, return_sequences=True, return_state=True), merge_mode=None, name="bi")
    x = torch.randn(Bn, Tn, Fn)
    bi(x)
    randomize(bi, rng)
    config = bi.get_config()
    assert config["merge_mode"] is None and config["name"] == "bi"
    assert config["layer"]["class_name"] == "GRU" and config["backward_layer"]["class_name"] == "GRU"
    assert config["layer"]["config"]["go_backwards"] is False
    assert config["backward_layer"]["config"]["go_backwards"] is True
    assert config["layer"]["config"]["reset_after"] is False
    clone = Bidirectional.from_config(config)
    assert clone.get_config() == config
    clone(x)
    clone.set_weights(bi.get_weights())
    out, out_clone = bi(x), clone(x)
    assert len(out) == len(out_clone) == 3
    assert all(torch.equal(a, b) for a, b in zip(out[0], out_clone[0]))
    assert all(torch.equal(a, b) for a, b in zip(out[1:], out_clone[1:]))


def test_weights_are_forward_then_backward():
    bi = Bidirectional(LSTM(Hn, input_shape=(None, Fn)))
    weights = bi.get_weights()
    assert [w.shape for w in weights] == [(Fn, 4 * Hn), (Hn, 4 * Hn), (4 * Hn,)] * 2
    np.testing.assert_array_equal(weights[0], bi.forward_layer.get_weights()[0])
    np.testing.assert_array_equal(weights[3], bi.backward_layer.get_weights()[0])
    assert not np.array_equal(weights[0], weights[3])  # two independent layers
    with pytest.raises(ShapeError, match=r"Bidirectional.set_weights expected 6 arrays .* got 3"):
        bi.set_weights(weights[:3])


def test_lazy_and_eager_build():
    lazy = Bidirectional(LSTM(Hn))
    assert not lazy.built and list(lazy.parameters()) == []
    lazy(torch.randn(2, Tn, Fn))
    assert lazy.built and len(lazy.get_weights()) == 6
    eager = Bidirectional(LSTM(Hn), input_shape=(None, Fn))
    assert eager.built and sum(p.numel() for p in eager.parameters()) == 2 * 4 * (Fn * Hn + Hn * Hn + Hn)
    from_layer = Bidirectional(LSTM(Hn, input_shape=(None, Fn)))
    assert from_layer.built and from_layer.backward_layer.built


def test_backward_copy_follows_the_layer_dtype():
    bi = Bidirectional(GRU(Hn, input_shape=(None, Fn)).double())
    assert all(p.dtype == torch.float64 for p in bi.parameters())
    assert bi(torch.randn(2, Tn, Fn, dtype=torch.float64)).dtype == torch.float64


def test_custom_backward_layer_and_errors():
    bi = Bidirectional(LSTM(Hn), backward_layer=GRU(2, go_backwards=True))
    assert bi(torch.randn(2, Tn, Fn)).shape == (2, Hn + 2)
    with pytest.raises(ConfigError, match=r"expected backward_layer.go_backwards to differ from .* both are False"):
        Bidirectional(LSTM(Hn), backward_layer=LSTM(Hn))
    with pytest.raises(ConfigError, match=r"agree on return_sequences and return_state"):
        Bidirectional(LSTM(Hn), backward_layer=LSTM(Hn, go_backwards=True, return_sequences=True))
    with pytest.raises(ConfigError, match=r"Bidirectional expected a recurrent layer, got Dense"):
        Bidirectional(Dense(3))
    with pytest.raises(ConfigError, match=r"expected merge_mode in \('concat', 'sum', 'mul', 'ave', None\), got 'max'"):
        Bidirectional(LSTM(Hn), merge_mode="max")


def test_bidirectional_mask_kernel_stateful_and_compute_mask(rng):
    bi = Bidirectional(LSTM(Hn, return_sequences=True, stateful=True, input_shape=(None, Fn)))
    x = torch.randn(2, Tn, Fn)
    mask = torch.tensor([[True] * Tn, [True, True, False, False, False]])
    assert torch.equal(bi.compute_mask(x, mask), mask)
    y1 = bi(x)
    assert bi.kernel == "fused"
    assert not torch.equal(bi(x), y1)  # both halves carry state
    bi.reset_states()
    assert torch.equal(bi(x), y1)
    last = Bidirectional(LSTM(Hn))
    assert last.compute_mask(x, mask) is None


# -- TimeDistributed -------------------------------------------------------------------------------


def test_time_distributed_dense_per_step(rng):
    td = TimeDistributed(Dense(2, activation="tanh"))
    x = torch.randn(Bn, Tn, Fn)
    y = td(x)
    assert y.shape == (Bn, Tn, 2)
    for t in range(Tn):
        assert_close(y[:, t], td.layer(x[:, t]))
    mask = torch.ones(Bn, Tn, dtype=torch.bool)
    assert td.compute_mask(x, mask) is mask
    assert [w.shape for w in td.get_weights()] == [(Fn, 2), (2,)]


def test_time_distributed_recurrent_per_step(rng):
    td = TimeDistributed(LSTM(2, return_state=False))
    x = torch.randn(2, 4, Tn, Fn)  # (batch, outer time, inner time, features)
    y = td(x)
    assert y.shape == (2, 4, 2)
    for t in range(4):
        assert_close(y[:, t], td.layer(x[:, t]))


def test_time_distributed_build():
    eager = TimeDistributed(Dense(2), input_shape=(Tn, Fn))
    assert eager.built and eager.layer.built and sum(p.numel() for p in eager.parameters()) == Fn * 2 + 2
    lazy = TimeDistributed(Dense(2))
    assert not lazy.built
    lazy.maybe_build(torch.zeros(2, Tn, Fn, dtype=torch.float64))
    assert lazy.built and lazy.layer.built and lazy.layer.weight.dtype == torch.float64
    assert lazy.layer.weight.shape == (2, Fn)


def test_time_distributed_errors():
    with pytest.raises(ShapeError, match=r"TimeDistributed expected input of shape \(batch, time, \.\.\.\), got \(4, 3\)"):
        TimeDistributed(Dense(2))(torch.zeros(4, 3))
    plain = TimeDistributed(nn.Linear(3, 2))
    assert plain(torch.zeros(4, 5, 3)).shape == (4, 5, 2)
    with pytest.raises(ConfigError, match=r"TimeDistributed can only save recurra layers, got Linear"):
        plain.get_config()
