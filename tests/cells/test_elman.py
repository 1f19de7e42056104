"""SimpleRNNCell / SimpleRNN: ``h_t = act(W_xh x_t + W_hh h_{t-1} + b_h)``."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from recurra import SimpleRNN
from recurra.cells import SimpleRNNCell, SimpleRNNState
from recurra.initializers import Constant
from tests.helpers import MASK_KINDS, check_fused_matches_reference, gradcheck_step

ACTS = {"tanh": np.tanh, "relu": lambda v: np.maximum(v, 0.0)}


def numpy_elman(xs, W_xh, W_hh, b_h, h, act):
    """The docstring's equation, one step at a time; returns every ``h_t``."""
    hs = []
    for x_t in xs:  # x_t (B, F)
        h = ACTS[act](x_t @ W_xh.T + h @ W_hh.T + b_h)
        hs.append(h)
    return hs


@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("with_initial_state", [False, True], ids=["zero0", "init0"])
@pytest.mark.parametrize("mask_kind", MASK_KINDS)
@pytest.mark.parametrize("go_backwards", [False, True], ids=["fwd", "bwd"])
@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_fused_matches_reference(activation, return_sequences, go_backwards, mask_kind, with_initial_state, use_bias):
    check_fused_matches_reference(
        SimpleRNN,
        activation=activation,
        return_sequences=return_sequences,
        go_backwards=go_backwards,
        mask_kind=mask_kind,
        with_initial_state=with_initial_state,
        use_bias=use_bias,
    )


def test_hand_computed_scalar_steps():
    cell = SimpleRNNCell(
        1,
        1,
        kernel_initializer=Constant(0.5),
        recurrent_initializer=Constant(-1.0),
        bias_initializer=Constant(0.25),
        dtype=torch.float64,
    )
    h = cell.zero_state(1, dtype=torch.float64, device="cpu")
    y1, h = cell.step(torch.tensor([[2.0]], dtype=torch.float64), h)
    assert y1.item() == pytest.approx(math.tanh(0.5 * 2.0 + 0.25), abs=1e-15)  # tanh(1.25) = 0.848283...
    assert y1.item() == pytest.approx(0.8482836399575129, abs=1e-15)
    y2, h = cell.step(torch.tensor([[1.0]], dtype=torch.float64), h)
    assert y2.item() == pytest.approx(math.tanh(0.5 - 0.8482836399575129 + 0.25), abs=1e-15)
    assert torch.equal(h.h, y2)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_constant_initialisers_golden(activation, use_bias):
    kw = dict(kernel_initializer=Constant(0.3), recurrent_initializer=Constant(-0.2), bias_initializer=Constant(0.1))
    cell = SimpleRNNCell(2, 3, activation=activation, use_bias=use_bias, dtype=torch.float64, **kw)
    assert torch.all(cell.weight_ih == 0.3) and torch.all(cell.weight_hh == -0.2)
    xs = np.array([[[1.0, -2.0], [0.5, 0.25]], [[0.1, 3.0], [-1.0, 1.0]], [[2.0, 2.0], [0.0, -0.5]]])  # (T, B, F)
    W_xh, W_hh = np.full((3, 2), 0.3), np.full((3, 3), -0.2)
    b_h = np.full(3, 0.1) if use_bias else np.zeros(3)
    expected = numpy_elman(xs, W_xh, W_hh, b_h, np.zeros((2, 3)), activation)

    state = cell.zero_state(2, dtype=torch.float64, device="cpu")
    for x_t, want in zip(xs, expected):
        y, state = cell.step(torch.from_numpy(x_t), state)
        assert isinstance(state, SimpleRNNState)
        np.testing.assert_allclose(y.detach().numpy(), want, rtol=0, atol=1e-14)
        assert torch.equal(state.h, y)

    # the layer with the same initialisers (built on a float64 input), both kernels, gives the same sequence
    for implementation in ("auto", "reference"):
        layer = SimpleRNN(3, activation=activation, use_bias=use_bias, return_sequences=True, implementation=implementation, **kw)
        y = layer(torch.from_numpy(xs.transpose(1, 0, 2).copy()))
        assert layer.kernel == ("fused" if implementation == "auto" else "reference")
        np.testing.assert_allclose(y.detach().numpy(), np.stack(expected, 1), rtol=0, atol=1e-12)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_named_weights_golden(rng, activation):
    """Random W_xh, W_hh, b_h put where the docstring says (weight_ih, weight_hh, bias)."""
    cell = SimpleRNNCell(3, 4, activation=activation, dtype=torch.float64)
    W_xh, W_hh, b_h = rng.normal(size=(4, 3)), rng.normal(size=(4, 4)) * 0.5, rng.normal(size=4)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(W_xh))
        cell.weight_hh.copy_(torch.from_numpy(W_hh))
        cell.bias.copy_(torch.from_numpy(b_h))
    xs, h0 = rng.normal(size=(4, 2, 3)), rng.normal(size=(2, 4))
    expected = numpy_elman(xs, W_xh, W_hh, b_h, h0, activation)
    state = SimpleRNNState(torch.from_numpy(h0))
    for x_t, want in zip(xs, expected):
        y, state = cell.step(torch.from_numpy(x_t), state)
        np.testing.assert_allclose(y.detach().numpy(), want, rtol=0, atol=1e-13)


def test_recurrent_mask_multiplies_previous_state_only(rng):
    cell = SimpleRNNCell(3, 4, dtype=torch.float64)
    x, h = torch.from_numpy(rng.normal(size=(2, 3))), torch.from_numpy(rng.normal(size=(2, 4)))
    m = torch.tensor([[0.0, 2.0, 2.0, 0.0], [2.0, 0.0, 2.0, 2.0]], dtype=torch.float64)
    y, _ = cell.step(x, SimpleRNNState(h), m)
    want = torch.tanh(x @ cell.weight_ih.T + (h * m) @ cell.weight_hh.T + cell.bias)
    assert_close(y, want, atol=1e-14, rtol=0)
    y_plain, _ = cell.step(x, SimpleRNNState(h))
    assert not torch.allclose(y, y_plain)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_gradcheck_reference_step(activation, use_bias):
    cell = SimpleRNNCell(3, 2, activation=activation, use_bias=use_bias, dtype=torch.float64)
    assert gradcheck_step(cell)


def test_gradcheck_with_recurrent_mask():
    cell = SimpleRNNCell(3, 2, dtype=torch.float64)
    assert gradcheck_step(cell, recurrent_mask=torch.tensor([[0.0, 2.0], [2.0, 2.0]], dtype=torch.float64))


def test_shapes_state_and_parameters():
    cell = SimpleRNNCell(3, 4)
    assert (cell.input_size, cell.units) == (3, 4)
    assert SimpleRNNCell.State._fields == ("h",)
    assert cell.weight_ih.shape == (4, 3) and cell.weight_hh.shape == (4, 4) and cell.bias.shape == (4,)
    assert sum(p.numel() for p in cell.parameters()) == 4 * 3 + 4 * 4 + 4
    assert SimpleRNNCell(3, 4, use_bias=False).bias is None
    assert len(list(SimpleRNNCell(3, 4, use_bias=False).parameters())) == 2
    s = cell.zero_state(5, dtype=torch.float64, device="cpu")
    assert s.h.shape == (5, 4) and s.h.dtype == torch.float64 and torch.count_nonzero(s.h) == 0
    y, s2 = cell.step(torch.randn(5, 3), cell.zero_state(5, dtype=torch.float32, device="cpu"))
    assert y.shape == (5, 4) and s2.h is y


def test_default_initialisers():
    cell = SimpleRNNCell(3, 4, dtype=torch.float64)
    assert torch.count_nonzero(cell.bias) == 0  # zeros
    assert_close(cell.weight_hh @ cell.weight_hh.T, torch.eye(4, dtype=torch.float64), atol=1e-12, rtol=0)  # orthogonal
    limit = math.sqrt(6 / (3 + 4))  # glorot uniform
    assert cell.weight_ih.abs().max() <= limit and cell.weight_ih.std() > 0


def test_fused_reason():
    assert SimpleRNNCell(2, 3, activation="tanh").fused_reason() is None
    assert SimpleRNNCell(2, 3, activation="relu").fused_reason() is None
    reason = SimpleRNNCell(2, 3, activation="sigmoid").fused_reason()
    assert reason and "sigmoid" in reason
    layer = SimpleRNN(3, activation="sigmoid")
    layer(torch.randn(2, 4, 2))
    assert layer.kernel == "reference"
    layer = SimpleRNN(3, activation="relu")
    layer(torch.randn(2, 4, 2))
    assert layer.kernel == "fused"


def test_lateral_feedback_is_the_default_and_unchanged():
    """feedback="lateral" is Elman's layer as it always was: same parameters, state, weights and kernel."""
    cell = SimpleRNNCell(3, 4)
    assert cell.feedback == "lateral" and cell.output_units is None and cell.output_state == "h"
    assert [n for n, _ in cell.named_parameters()] == ["weight_ih", "weight_hh", "bias"]
    assert cell.State is SimpleRNNState
    torch.manual_seed(3)
    default = SimpleRNN(4, return_sequences=True, input_shape=(None, 3))
    torch.manual_seed(3)
    explicit = SimpleRNN(4, feedback="lateral", return_sequences=True, input_shape=(None, 3))
    assert list(default.state_dict()) == ["cell.weight_ih", "cell.weight_hh", "cell.bias"]
    assert default.state_names == ("h",)
    config = default.get_config()
    assert config["feedback"] == "lateral" and config["output_units"] is None
    x = torch.randn(2, 5, 3)
    assert torch.equal(default(x), explicit(x)) and default.kernel == "fused"
    # a configuration written before the feedback argument existed still loads, as lateral
    old = {k: v for k, v in config.items() if k not in ("feedback", "output_units")}
    assert SimpleRNN.from_config(old).feedback == "lateral"
