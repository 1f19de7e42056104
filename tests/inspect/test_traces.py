"""trace: every gate and state per step, recomputed, equal to what the layer's fast kernels output."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recurra import GRU, LSTM, Dense, EchoStateNetwork, Embedding, IndRNN, MinGRU, MinLSTM, Reservoir, Sequential, SimpleRNN
from recurra.cells.reservoir import ReservoirState
from recurra.errors import ConfigError
from recurra.inspect import plot_trace, trace

LAYERS = {
    "simple": (lambda: SimpleRNN(5, return_sequences=True), "fused", ["h"]),
    "simple-direct": (lambda: SimpleRNN(5, feedback="direct", return_sequences=True), "fused", ["h"]),
    "simple-complete": (
        lambda: SimpleRNN(5, feedback="complete", output_units=2, return_sequences=True),
        "reference",
        ["h", "y"],
    ),
    "lstm": (lambda: LSTM(5, return_sequences=True), "fused", ["f", "u", "c_tilde", "c", "o", "a"]),
    "lstm-backwards": (lambda: LSTM(5, return_sequences=True, go_backwards=True), "fused", ["f", "u", "c_tilde", "c", "o", "a"]),
    "gru": (lambda: GRU(5, return_sequences=True), "fused", ["z", "r", "h_tilde", "h"]),
    "gru-reset-before": (lambda: GRU(5, reset_after=False, return_sequences=True), "reference", ["z", "r", "h_tilde", "h"]),
    "indrnn": (lambda: IndRNN(5, return_sequences=True, recurrent_max=1.1), "compiled", ["h"]),
    "mingru": (lambda: MinGRU(5, return_sequences=True), "compiled", ["z", "h_tilde", "h"]),
    "mingru-scan": (lambda: MinGRU(5, return_sequences=True, implementation="scan"), "scan", ["z", "h_tilde", "h"]),
    "minlstm": (lambda: MinLSTM(5, return_sequences=True), "compiled", ["f", "i", "f_prime", "i_prime", "h_tilde", "h"]),
    "reservoir": (lambda: Reservoir(6, return_sequences=True, seed=3), "compiled", ["h"]),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_the_traced_states_equal_the_fast_kernel_s_outputs(name):
    torch.set_default_dtype(torch.float64)
    make, kernel, names = LAYERS[name]
    layer = make()
    x = torch.randn(3, 7, 4)
    with torch.no_grad():
        y = layer(x)  # (B, T, H)
    assert layer.kernel == kernel
    tr = trace(layer, x)
    assert tr.names == names and tr.go_backwards == layer.go_backwards
    out = tr[tr.output]
    assert out.shape == tuple(y.shape)
    np.testing.assert_allclose(out, y.numpy(), rtol=1e-12, atol=1e-13)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), y, rtol=0, atol=0)  # the layer gives what it gave before
    assert layer.kernel == kernel
    for g in set(names) & {"f", "u", "o", "z", "r", "i", "f_prime", "i_prime"}:
        assert np.all((tr[g] >= 0) & (tr[g] <= 1)), g


def test_lstm_quantities_satisfy_the_cell_equations():
    torch.set_default_dtype(torch.float64)
    layer = LSTM(4, return_sequences=True, return_state=True)
    x = torch.randn(2, 6, 3)
    _, h, c = layer(x)
    tr = trace(layer, x)
    f, u, c_tilde, cs, o, a = (tr[k] for k in ("f", "u", "c_tilde", "c", "o", "a"))
    c_prev = np.concatenate([np.zeros_like(cs[:, :1]), cs[:, :-1]], 1)
    np.testing.assert_allclose(cs, f * c_prev + u * c_tilde, rtol=1e-12)
    np.testing.assert_allclose(a, o * np.tanh(cs), rtol=1e-12)
    np.testing.assert_allclose(cs[:, -1], c.detach().numpy(), rtol=1e-12, atol=1e-13)
    assert "forget gate" in tr.descriptions["f"]


def test_masked_steps_are_nan_and_real_steps_match_the_layer():
    torch.set_default_dtype(torch.float64)
    layer = GRU(3, return_sequences=True)
    x = torch.randn(3, 5, 2)
    lengths = torch.tensor([5, 2, 4])
    y = layer(x, lengths=lengths).detach().numpy()
    tr = trace(layer, x, lengths=lengths)
    real = (np.arange(5)[None, :] < lengths.numpy()[:, None])[..., None].repeat(3, -1)
    np.testing.assert_allclose(tr["h"][real], y[real], rtol=1e-12)
    assert np.isnan(tr["h"][~real]).all() and np.isnan(tr["z"][~real]).all()


def test_a_model_s_layer_is_traced_on_the_input_it_receives():
    torch.set_default_dtype(torch.float64)
    model = Sequential([Embedding(10, 4, mask_zero=True), LSTM(3, return_sequences=True), Dense(1)])
    ids = torch.tensor([[3, 4, 5, 0, 0], [1, 2, 3, 4, 5]])
    model(ids)
    lstm = model.layers[1]
    emb = model.layers[0](ids)
    expected = lstm(emb, mask=ids != 0).detach().numpy()
    tr = trace(model, ids)
    np.testing.assert_allclose(tr["a"][1], expected[1], rtol=1e-12)
    np.testing.assert_allclose(tr["a"][0, :3], expected[0, :3], rtol=1e-12)
    assert np.isnan(tr["a"][0, 3:]).all()  # the Embedding's mask reached the trace
    with pytest.raises(ConfigError, match="mask=, lengths= and initial_state= are for tracing a layer"):
        trace(model, ids, lengths=torch.tensor([3, 5]))


def test_an_echo_state_network_s_reservoir_states_are_traced():
    esn = EchoStateNetwork(20, seed=1, washout=5)
    u = np.sin(np.arange(40) / 3.0)[:, None]
    esn.fit(u[:-1], u[1:])
    tr = trace(esn, u[:10])
    cell = esn.reservoir
    x, _ = cell.fused(torch.as_tensor(u[None, :10]), ReservoirState(torch.zeros(1, 20, dtype=torch.float64)))
    assert tr.cell == "ReservoirCell" and tr["h"].shape == (1, 10, 20)
    np.testing.assert_allclose(tr["h"], x.numpy(), rtol=1e-12, atol=1e-14)
    with pytest.raises(ConfigError, match="fit it"):
        trace(EchoStateNetwork(10, seed=0), u)


def test_plot_trace_draws_one_heatmap_per_quantity(tmp_path):
    layer = LSTM(4, return_sequences=True)
    layer(torch.zeros(1, 2, 3))
    tr = trace(layer, torch.randn(2, 9, 3))
    fig = plot_trace(tr, tmp_path / "lstm.png", sample=1)
    assert (tmp_path / "lstm.png").stat().st_size > 1000
    assert len([ax for ax in fig.axes if ax.images]) == 6
    with pytest.raises(KeyError, match="LSTMCell trace has no 'q'; it has f, u, c_tilde, c, o, a"):
        plot_trace(tr, names=["q"])
    with pytest.raises(ConfigError, match=r"expected sample in \[0, 1\], got 2"):
        plot_trace(tr, sample=2)


def test_trace_refuses_what_is_not_recurrent():
    with pytest.raises(ConfigError, match="trace expected a recurrent layer"):
        trace(Dense(3), torch.zeros(1, 2, 3))
    with pytest.raises(TypeError, match="trace expected a recurrent layer or a model"):
        trace("lstm", torch.zeros(1, 2, 3))
