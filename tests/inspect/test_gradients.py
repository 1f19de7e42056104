"""gradient_flow: ‖∂L/∂h_t‖ per step and ‖∂h_T/∂h_0‖, against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recurra import GRU, LSTM, Dense, Flatten, IndRNN, Sequential, SimpleRNN, initializers
from recurra.errors import ConfigError
from recurra.inspect import gradient_flow, plot_gradient_flow, state_jacobian


def linear_rnn(w: float) -> SimpleRNN:
    """h_t = x_t + w h_{t-1}: one unit, no bias, no non-linearity."""
    layer = SimpleRNN(1, activation="linear", use_bias=False, input_shape=(None, 1))
    with torch.no_grad():
        layer.cell.weight_ih.fill_(1.0)
        layer.cell.weight_hh.fill_(w)
    return layer


def test_a_one_unit_linear_rnn_matches_the_hand_computed_gradients():
    torch.set_default_dtype(torch.float64)
    w, B, T = 0.9, 3, 12
    layer = linear_rnn(w)
    x = torch.randn(B, T, 1)
    flow = gradient_flow(layer, x, torch.zeros(B, 1), loss=lambda p, t: p.sum())  # L = Σ_b h_T
    # ∂L/∂h_t = w^(T - t) for every sequence: norm sqrt(B) w^(T - t), t = 0..T
    expected = np.sqrt(B) * w ** (T - np.arange(T + 1))
    np.testing.assert_allclose(flow.grad_norm, expected, rtol=1e-12)
    assert flow.jacobian_norm == pytest.approx(w**T, rel=1e-12)  # ∂h_T/∂h_0 = w^T
    assert flow.decay(5) == pytest.approx(w**-5, rel=1e-12)
    assert flow.orders_of_decay(10) == pytest.approx(-10 * np.log10(w), rel=1e-12)
    assert flow.loss == pytest.approx(float(layer(x).detach().sum()), rel=1e-12)


def test_the_jacobian_of_a_linear_rnn_is_a_matrix_power():
    torch.set_default_dtype(torch.float64)
    layer = SimpleRNN(3, activation="linear", input_shape=(None, 2))
    W = torch.tensor([[0.5, 0.2, 0.0], [0.1, -0.7, 0.3], [0.0, 0.4, 0.6]])
    with torch.no_grad():
        layer.cell.weight_hh.copy_(W)
    J, fields, sizes = state_jacobian(layer, torch.randn(2, 6, 2))
    assert fields == ("h",) and sizes == [3]
    torch.testing.assert_close(J, torch.linalg.matrix_power(W, 6).expand(2, 3, 3), rtol=1e-12, atol=1e-14)


def test_the_state_jacobian_equals_autograd_s_full_jacobian_for_an_lstm():
    torch.set_default_dtype(torch.float64)
    layer = LSTM(3, input_shape=(None, 2))
    x = torch.randn(2, 5, 2)
    J, fields, sizes = state_jacobian(layer, x)
    assert fields == ("h", "c") and sizes == [3, 3]

    layer.return_state = True  # the layer's own (fused) kernel, with the state as output

    def final_state(h0, c0):
        _, h, c = layer(x, initial_state=[h0, c0])
        return torch.cat([h, c], -1)  # (2, 6)

    zeros = torch.zeros(2, 3)
    full = torch.autograd.functional.jacobian(final_state, (zeros, zeros))  # ((2, 6, 2, 3), (2, 6, 2, 3))
    for b in range(2):
        expected = torch.cat([full[0][b, :, b], full[1][b, :, b]], -1)  # (6, 6)
        torch.testing.assert_close(J[b], expected, rtol=1e-10, atol=1e-12)


def test_a_simple_rnn_with_small_weights_loses_more_gradient_than_an_lstm_with_an_open_forget_gate():
    torch.set_default_dtype(torch.float64)
    x, y = torch.rand(8, 40, 2), torch.rand(8, 1)
    rnn = Sequential([SimpleRNN(8, recurrent_initializer=initializers.Orthogonal(gain=0.5), input_shape=(None, 2)), Dense(1)])
    lstm = LSTM(8, input_shape=(None, 2))
    with torch.no_grad():
        lstm.cell.bias[8:16] = 4.0  # b_f = 4: f ≈ 0.98, the cell state carries the gradient
    lstm_model = Sequential([lstm, Dense(1)])
    f_rnn, f_lstm = gradient_flow(rnn, x, y), gradient_flow(lstm_model, x, y)
    assert f_rnn.orders_of_decay(30) > 6  # 0.5^30 ≈ 1e-9 at most
    assert f_lstm.orders_of_decay(30) < 3
    assert f_rnn.orders_of_decay(30) > f_lstm.orders_of_decay(30) + 3
    assert set(f_lstm.grad_norms) == {"h", "c"} and f_lstm.output_state == "h"
    assert f_rnn.jacobian_norm < 1e-6 < f_lstm.state_jacobian_norm


def test_gradient_flow_leaves_the_model_as_it_was():
    model = Sequential([GRU(4, input_shape=(None, 3)), Dense(1)])
    model.train()
    x, y = torch.randn(5, 7, 3), torch.randn(5, 1)
    before = model(x).detach()
    layer = model.layers[0]
    assert layer.kernel == "fused"
    first = gradient_flow(model, x, y)
    again = gradient_flow(model, x, y)
    np.testing.assert_array_equal(first.grad_norm, again.grad_norm)
    assert all(p.grad is None for p in model.parameters())  # no gradients left on the weights
    assert model.training and layer.implementation == "auto" and layer.kernel == "fused"
    assert "step" not in vars(layer.cell) and "_run_reference" not in vars(layer)
    torch.testing.assert_close(model(x), before, rtol=0, atol=0)
    assert layer.kernel == "fused"


def test_gradient_flow_reaches_each_step_of_a_many_to_many_model_and_picks_a_layer():
    first, second = IndRNN(4, return_sequences=True, input_shape=(None, 2)), LSTM(3, return_sequences=True)
    model = Sequential([first, second, Dense(1)])
    x, y = torch.randn(2, 6, 2), torch.randn(2, 6, 1)
    flow = gradient_flow(model, x, y, layer=second)
    assert flow.layer == "LSTM" and flow.grad_norm.shape == (7,) and np.all(flow.grad_norm[1:] > 0)
    assert gradient_flow(model, x, y).layer == "IndRNN"  # the first one by default


def test_gradient_flow_refuses_models_without_a_recurrent_layer_and_foreign_layers():
    model = Sequential([Flatten(input_shape=(4, 2)), Dense(1)])
    with pytest.raises(ConfigError, match="gradient_flow expected a recurrent layer .* got Sequential made of"):
        gradient_flow(model, torch.zeros(2, 4, 2), torch.zeros(2, 1))
    rnn = Sequential([SimpleRNN(2, input_shape=(None, 2)), Dense(1)])
    with pytest.raises(ConfigError, match="layer= to be a recurrent layer .* got Dense"):
        gradient_flow(rnn, torch.zeros(2, 4, 2), torch.zeros(2, 1), layer=rnn.layers[1])
    with pytest.raises(ConfigError, match="layer= LSTM is not part of the given Sequential"):
        gradient_flow(rnn, torch.zeros(2, 4, 2), torch.zeros(2, 1), layer=LSTM(2))
    flow = gradient_flow(rnn, torch.zeros(2, 4, 2), torch.zeros(2, 1), jacobian=False)
    with pytest.raises(ConfigError, match=r"expected over in \[1, T\] = \[1, 4\], got 5"):
        flow.decay(5)


def test_plot_gradient_flow_writes_png_and_svg(tmp_path):
    torch.set_default_dtype(torch.float64)
    flows = {"0.9": gradient_flow(linear_rnn(0.9), torch.randn(2, 8, 1), torch.zeros(2, 1), jacobian=False)}
    flows["0.5"] = gradient_flow(linear_rnn(0.5), torch.randn(2, 8, 1), torch.zeros(2, 1), jacobian=False)
    fig = plot_gradient_flow(flows, tmp_path / "flow.png")
    plot_gradient_flow(flows["0.5"], tmp_path / "flow.svg")
    assert (tmp_path / "flow.png").read_bytes()[:4] == b"\x89PNG"
    assert b"<svg" in (tmp_path / "flow.svg").read_bytes()[:400]
    assert len(fig.axes[0].lines) == 2
    with pytest.raises(ConfigError, match="expected a figure path ending in .png, .svg, .pdf"):
        plot_gradient_flow(flows, tmp_path / "flow.jpeg")
    assert flows["0.5"].to_dict()["grad_norm"] == pytest.approx(list(flows["0.5"].grad_norm))
