"""Keras 3 weights: shapes, order and meaning of ``get_weights`` / ``set_weights``, checked against
numpy versions of Keras's equations and against ``torch.nn.RNN`` / ``LSTM`` / ``GRU``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.testing import assert_close

from recurra import GRU, LSTM, SimpleRNN
from recurra.errors import ShapeError
from tests.helpers import keras_gru, keras_lstm, keras_simple_rnn

Fn, Hn, Bn, Tn = 3, 4, 2, 5

SPECS = {
    # name: (factory, expected Keras shapes)
    "simple_rnn": (lambda **kw: SimpleRNN(Hn, **kw), [(Fn, Hn), (Hn, Hn), (Hn,)]),
    "simple_rnn_nobias": (lambda **kw: SimpleRNN(Hn, use_bias=False, **kw), [(Fn, Hn), (Hn, Hn)]),
    "lstm": (lambda **kw: LSTM(Hn, **kw), [(Fn, 4 * Hn), (Hn, 4 * Hn), (4 * Hn,)]),
    "lstm_nobias": (lambda **kw: LSTM(Hn, use_bias=False, **kw), [(Fn, 4 * Hn), (Hn, 4 * Hn)]),
    "gru": (lambda **kw: GRU(Hn, **kw), [(Fn, 3 * Hn), (Hn, 3 * Hn), (2, 3 * Hn)]),
    "gru_reset_before": (lambda **kw: GRU(Hn, reset_after=False, **kw), [(Fn, 3 * Hn), (Hn, 3 * Hn), (3 * Hn,)]),
    "gru_nobias": (lambda **kw: GRU(Hn, use_bias=False, **kw), [(Fn, 3 * Hn), (Hn, 3 * Hn)]),
}


def keras_reference(name: str, layer, x: np.ndarray, weights, init=None):
    """Outputs and final states of Keras's equations for the layer called ``name``."""
    init = init or []
    if name.startswith("simple_rnn"):
        return keras_simple_rnn(x, weights, *init, activation=layer.activation)
    if name.startswith("lstm"):
        return keras_lstm(x, weights, *init)
    return keras_gru(x, weights, *init, reset_after=layer.reset_after)


@pytest.mark.parametrize("name", list(SPECS))
def test_get_weights_keras_shapes(name):
    factory, shapes = SPECS[name]
    layer = factory(input_shape=(None, Fn))
    weights = layer.get_weights()
    assert [w.shape for w in weights] == shapes
    assert all(isinstance(w, np.ndarray) and w.dtype == np.float32 for w in weights)
    assert sum(w.size for w in weights) == sum(p.numel() for p in layer.parameters())


@pytest.mark.parametrize("name", list(SPECS))
def test_set_then_get_round_trip_and_copies(rng, name):
    factory, shapes = SPECS[name]
    layer = factory(input_shape=(None, Fn)).double()
    arrays = [rng.normal(size=s) for s in shapes]
    layer.set_weights(arrays)
    got = layer.get_weights()
    for a, g in zip(arrays, got):
        np.testing.assert_array_equal(a, g)
    got[0][...] = 0.0  # get_weights returns copies
    np.testing.assert_array_equal(layer.get_weights()[0], arrays[0])
    layer.set_weights([a.tolist() for a in arrays])  # anything array-like
    np.testing.assert_array_equal(layer.get_weights()[1], arrays[1])


@pytest.mark.parametrize("implementation", ["auto", "reference"])
@pytest.mark.parametrize("with_initial_state", [False, True])
@pytest.mark.parametrize("name", list(SPECS))
def test_outputs_follow_keras_equations(rng, name, with_initial_state, implementation):
    factory, shapes = SPECS[name]
    layer = factory(input_shape=(None, Fn), return_sequences=True, return_state=True, implementation=implementation).double()
    weights = [rng.normal(0.0, 0.5, size=s) for s in shapes]
    layer.set_weights(weights)
    x = rng.normal(size=(Bn, Tn, Fn))
    init = [rng.normal(size=(Bn, Hn)) for _ in layer.state_names] if with_initial_state else None
    want_y, want_states = keras_reference(name, layer, x, weights, init)
    y, *states = layer(torch.from_numpy(x), initial_state=None if init is None else [torch.from_numpy(s) for s in init])
    np.testing.assert_allclose(y.detach().numpy(), want_y, rtol=0, atol=1e-12)
    assert len(states) == len(want_states)
    for s, w in zip(states, want_states):
        np.testing.assert_allclose(s.detach().numpy(), w, rtol=0, atol=1e-12)


def test_simple_rnn_relu_follows_keras_equation(rng):
    layer = SimpleRNN(Hn, activation="relu", return_sequences=True, input_shape=(None, Fn)).double()
    weights = [rng.normal(0.0, 0.5, size=w.shape) for w in layer.get_weights()]
    layer.set_weights(weights)
    x = rng.normal(size=(Bn, Tn, Fn))
    np.testing.assert_allclose(
        layer(torch.from_numpy(x)).detach().numpy(), keras_simple_rnn(x, weights, activation="relu")[0], rtol=0, atol=1e-12
    )


def test_lstm_gate_order_is_i_f_c_o():
    """unit_forget_bias puts its ones in the second (forget) block of Keras's bias, and the kernel is W.T."""
    layer = LSTM(Hn, input_shape=(None, Fn))
    kernel, recurrent_kernel, bias = layer.get_weights()
    np.testing.assert_array_equal(bias, np.r_[np.zeros(Hn), np.ones(Hn), np.zeros(2 * Hn)])
    np.testing.assert_array_equal(kernel, layer.cell.weight_ih.detach().numpy().T)
    np.testing.assert_array_equal(recurrent_kernel, layer.cell.weight_hh.detach().numpy().T)


def test_gru_gate_order_is_z_r_h():
    """recurra stores r, z, h (torch's order); Keras's arrays are z, r, h."""
    layer = GRU(Hn, input_shape=(None, Fn))
    c = layer.cell
    with torch.no_grad():
        c.bias.copy_(torch.arange(3 * Hn, dtype=torch.float32))
        c.recurrent_bias.copy_(100 + torch.arange(3 * Hn, dtype=torch.float32))
    kernel, recurrent_kernel, bias = layer.get_weights()
    W_r, W_z, W_h = (w.detach().numpy() for w in c.weight_ih.chunk(3))
    U_r, U_z, U_h = (w.detach().numpy() for w in c.weight_hh.chunk(3))
    np.testing.assert_array_equal(kernel, np.concatenate([W_z.T, W_r.T, W_h.T], 1))
    np.testing.assert_array_equal(recurrent_kernel, np.concatenate([U_z.T, U_r.T, U_h.T], 1))
    r, z, h = np.arange(Hn), np.arange(Hn, 2 * Hn), np.arange(2 * Hn, 3 * Hn)
    np.testing.assert_array_equal(bias[0], np.r_[z, r, h].astype(np.float32))
    np.testing.assert_array_equal(bias[1], 100 + np.r_[z, r, h].astype(np.float32))
    # and back: set_weights puts every block where it came from
    other = GRU(Hn, input_shape=(None, Fn))
    other.set_weights(layer.get_weights())
    for p, q in zip(other.parameters(), layer.parameters()):
        assert torch.equal(p, q)


# -- wrong arrays ----------------------------------------------------------------------------------


def test_set_weights_wrong_count():
    layer = LSTM(Hn, input_shape=(None, Fn))
    kernel, recurrent_kernel, bias = layer.get_weights()
    with pytest.raises(ShapeError, match=r"LSTM.set_weights expected 3 arrays of shapes \(3, 16\), \(4, 16\), \(16,\), got 2"):
        layer.set_weights([kernel, recurrent_kernel])
    with pytest.raises(ShapeError, match=r"expected 3 arrays .* got 4"):
        layer.set_weights([kernel, recurrent_kernel, bias, bias])
    nobias = LSTM(Hn, use_bias=False, input_shape=(None, Fn))
    with pytest.raises(ShapeError, match=r"LSTM.set_weights expected 2 arrays of shapes \(3, 16\), \(4, 16\), got 3"):
        nobias.set_weights([kernel, recurrent_kernel, bias])


def test_set_weights_wrong_shape_names_expected_shape():
    gru = GRU(Hn, input_shape=(None, Fn))
    kernel, recurrent_kernel, bias = gru.get_weights()
    with pytest.raises(ShapeError, match=r"GRU.set_weights: array 2 expected shape \(2, 12\), got \(12,\)"):
        gru.set_weights([kernel, recurrent_kernel, bias[0]])  # a reset_after=False bias
    with pytest.raises(ShapeError, match=r"GRU.set_weights: array 0 expected shape \(3, 12\), got \(12, 3\)"):
        gru.set_weights([kernel.T, recurrent_kernel, bias])  # torch layout instead of Keras's
    rnn = SimpleRNN(Hn, input_shape=(None, Fn))
    with pytest.raises(ShapeError, match=r"SimpleRNN.set_weights: array 1 expected shape \(4, 4\), got \(4, 5\)"):
        rnn.set_weights([np.zeros((Fn, Hn)), np.zeros((Hn, Hn + 1)), np.zeros(Hn)])
    before = [p.detach().clone() for p in gru.parameters()]
    with pytest.raises(ShapeError):
        gru.set_weights([kernel * 0 + 1, recurrent_kernel, bias[0]])
    assert all(torch.equal(p, b) for p, b in zip(gru.parameters(), before))  # nothing half-loaded


# -- against torch.nn ------------------------------------------------------------------------------


def _compare_with_torch(layer, torch_rnn, x, n_states):
    y_torch, hidden = torch_rnn(x)
    hidden = hidden if isinstance(hidden, tuple) else (hidden,)
    assert len(hidden) == n_states
    for implementation in ("auto", "reference"):
        ours = type(layer).from_config(dict(layer.get_config(), implementation=implementation)).double()
        ours.set_weights(layer.get_weights())
        y, *states = ours(x)
        assert ours.kernel == ("fused" if implementation == "auto" else "reference")
        assert_close(y, y_torch, atol=1e-12, rtol=0)
        for s, t in zip(states, hidden):
            assert_close(s, t[0], atol=1e-12, rtol=0)


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_simple_rnn_equals_torch_rnn(rng, activation, use_bias):
    layer = SimpleRNN(
        Hn, activation=activation, use_bias=use_bias, return_sequences=True, return_state=True, input_shape=(None, Fn)
    ).double()
    layer.set_weights([rng.normal(0.0, 0.5, size=w.shape) for w in layer.get_weights()])
    ref = nn.RNN(Fn, Hn, nonlinearity=activation, bias=use_bias, batch_first=True).double()
    with torch.no_grad():
        ref.weight_ih_l0.copy_(layer.cell.weight_ih)
        ref.weight_hh_l0.copy_(layer.cell.weight_hh)
        if use_bias:
            ref.bias_ih_l0.copy_(layer.cell.bias)
            ref.bias_hh_l0.zero_()
    _compare_with_torch(layer, ref, torch.from_numpy(rng.normal(size=(Bn, Tn, Fn))), 1)


@pytest.mark.parametrize("use_bias", [True, False])
def test_lstm_equals_torch_lstm(rng, use_bias):
    layer = LSTM(Hn, use_bias=use_bias, return_sequences=True, return_state=True, input_shape=(None, Fn)).double()
    layer.set_weights([rng.normal(0.0, 0.5, size=w.shape) for w in layer.get_weights()])
    ref = nn.LSTM(Fn, Hn, bias=use_bias, batch_first=True).double()
    with torch.no_grad():
        ref.weight_ih_l0.copy_(layer.cell.weight_ih)
        ref.weight_hh_l0.copy_(layer.cell.weight_hh)
        if use_bias:
            ref.bias_ih_l0.copy_(layer.cell.bias)
            ref.bias_hh_l0.zero_()
    _compare_with_torch(layer, ref, torch.from_numpy(rng.normal(size=(Bn, Tn, Fn))), 2)


@pytest.mark.parametrize("use_bias", [True, False])
def test_gru_equals_torch_gru(rng, use_bias):
    layer = GRU(Hn, use_bias=use_bias, return_sequences=True, return_state=True, input_shape=(None, Fn)).double()
    layer.set_weights([rng.normal(0.0, 0.5, size=w.shape) for w in layer.get_weights()])
    ref = nn.GRU(Fn, Hn, bias=use_bias, batch_first=True).double()
    with torch.no_grad():
        ref.weight_ih_l0.copy_(layer.cell.weight_ih)
        ref.weight_hh_l0.copy_(layer.cell.weight_hh)
        if use_bias:
            ref.bias_ih_l0.copy_(layer.cell.bias)
            ref.bias_hh_l0.copy_(layer.cell.recurrent_bias)
    _compare_with_torch(layer, ref, torch.from_numpy(rng.normal(size=(Bn, Tn, Fn))), 1)


def test_torch_lstm_weights_via_keras_layout(rng):
    """Weights taken from a torch.nn.LSTM, written in Keras layout, give torch's outputs."""
    ref = nn.LSTM(Fn, Hn, batch_first=True).double()
    w_ih, w_hh = ref.weight_ih_l0.detach().numpy(), ref.weight_hh_l0.detach().numpy()
    bias = (ref.bias_ih_l0 + ref.bias_hh_l0).detach().numpy()  # gates i, f, g, o: already Keras's order
    layer = LSTM(Hn, return_sequences=True, input_shape=(None, Fn)).double()
    layer.set_weights([w_ih.T, w_hh.T, bias])
    x = torch.from_numpy(rng.normal(size=(Bn, Tn, Fn)))
    assert_close(layer(x), ref(x)[0], atol=1e-12, rtol=0)
