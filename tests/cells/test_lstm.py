"""LSTMCell / LSTM, in seed 004's symbols: f, u, c~, c, o, a."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from recurra import LSTM
from recurra.cells import LSTMCell, LSTMState
from recurra.errors import ConfigError
from recurra.initializers import Constant
from tests.helpers import MASK_KINDS, check_fused_matches_reference, gradcheck_step


def σ(v):
    return 1.0 / (1.0 + np.exp(-v))


def numpy_lstm(xs, W, U, b, a, c, hard_sigmoid=False):
    """The docstring's equations with named gate blocks ``W[g], U[g], b[g]`` for ``g`` in f, u, c, o."""
    sig = (lambda v: np.clip((v + 3.0) / 6.0, 0.0, 1.0)) if hard_sigmoid else σ
    out = []
    for x_t in xs:  # (B, F)
        f = sig(x_t @ W["f"].T + a @ U["f"].T + b["f"])  # forget gate
        u = sig(x_t @ W["u"].T + a @ U["u"].T + b["u"])  # update (input) gate
        c_tilde = np.tanh(x_t @ W["c"].T + a @ U["c"].T + b["c"])  # candidate
        c = f * c + u * c_tilde  # cell state
        o = sig(x_t @ W["o"].T + a @ U["o"].T + b["o"])  # output gate
        a = o * np.tanh(c)  # hidden state
        out.append((a, c))
    return out


def set_named(cell: LSTMCell, W, U, b):
    """Stack the named blocks in the documented order ``u, f, c, o``."""
    order = ("u", "f", "c", "o")
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(np.concatenate([W[g] for g in order], 0)))
        cell.weight_hh.copy_(torch.from_numpy(np.concatenate([U[g] for g in order], 0)))
        cell.bias.copy_(torch.from_numpy(np.concatenate([b[g] for g in order], 0)))


@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("with_initial_state", [False, True], ids=["zero0", "init0"])
@pytest.mark.parametrize("mask_kind", MASK_KINDS)
@pytest.mark.parametrize("go_backwards", [False, True], ids=["fwd", "bwd"])
@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
def test_fused_matches_reference(return_sequences, go_backwards, mask_kind, with_initial_state, use_bias):
    check_fused_matches_reference(
        LSTM,
        return_sequences=return_sequences,
        go_backwards=go_backwards,
        mask_kind=mask_kind,
        with_initial_state=with_initial_state,
        use_bias=use_bias,
    )


@pytest.mark.parametrize("unit_forget_bias", [True, False])
def test_constant_initialisers_golden(unit_forget_bias):
    F, H = 2, 3
    cell = LSTMCell(
        F,
        H,
        kernel_initializer=Constant(0.2),
        recurrent_initializer=Constant(-0.3),
        bias_initializer=Constant(0.1),
        unit_forget_bias=unit_forget_bias,
        dtype=torch.float64,
    )
    W = {g: np.full((H, F), 0.2) for g in "fuco"}
    U = {g: np.full((H, H), -0.3) for g in "fuco"}
    b = {g: np.full(H, 0.1) for g in "fuco"}
    if unit_forget_bias:
        b["f"] = np.ones(H)  # b_f starts at 1 whatever bias_initializer says
    xs = np.array([[[1.0, -2.0], [0.5, 0.25]], [[0.1, 3.0], [-1.0, 1.0]], [[2.0, 2.0], [0.0, -0.5]]])  # (T, B, F)
    expected = numpy_lstm(xs, W, U, b, np.zeros((2, H)), np.zeros((2, H)))
    state = cell.zero_state(2, dtype=torch.float64, device="cpu")
    for x_t, (a, c) in zip(xs, expected):
        y, state = cell.step(torch.from_numpy(x_t), state)
        assert isinstance(state, LSTMState)
        np.testing.assert_allclose(y.detach().numpy(), a, rtol=0, atol=1e-14)
        np.testing.assert_allclose(state.c.detach().numpy(), c, rtol=0, atol=1e-14)
        assert torch.equal(state.h, y)


def test_named_gates_golden(rng):
    """Each gate gets its own random blocks, stacked ``[W_u; W_f; W_c; W_o]`` as documented."""
    F, H, Bn = 3, 4, 2
    cell = LSTMCell(F, H, dtype=torch.float64)
    W = {g: rng.normal(size=(H, F)) for g in "fuco"}
    U = {g: rng.normal(size=(H, H)) * 0.5 for g in "fuco"}
    b = {g: rng.normal(size=H) for g in "fuco"}
    set_named(cell, W, U, b)
    xs, a0, c0 = rng.normal(size=(5, Bn, F)), rng.normal(size=(Bn, H)), rng.normal(size=(Bn, H))
    expected = numpy_lstm(xs, W, U, b, a0, c0)
    state = LSTMState(torch.from_numpy(a0), torch.from_numpy(c0))
    for x_t, (a, c) in zip(xs, expected):
        y, state = cell.step(torch.from_numpy(x_t), state)
        np.testing.assert_allclose(y.detach().numpy(), a, rtol=0, atol=1e-13)
        np.testing.assert_allclose(state.c.detach().numpy(), c, rtol=0, atol=1e-13)

    # the whole layer, both kernels, over the same steps
    for implementation in ("auto", "reference"):
        layer = LSTM(H, return_sequences=True, return_state=True, implementation=implementation, input_shape=(None, F)).double()
        with torch.no_grad():
            for p, q in zip(layer.cell.parameters(), cell.parameters()):
                p.copy_(q)
        init = [torch.from_numpy(a0), torch.from_numpy(c0)]
        y, h, c = layer(torch.from_numpy(xs.transpose(1, 0, 2).copy()), initial_state=init)
        np.testing.assert_allclose(y.detach().numpy(), np.stack([a for a, _ in expected], 1), rtol=0, atol=1e-12)
        np.testing.assert_allclose(c.detach().numpy(), expected[-1][1], rtol=0, atol=1e-12)


def test_hard_sigmoid_recurrent_activation_golden(rng):
    F, H = 3, 2
    cell = LSTMCell(F, H, recurrent_activation="hard_sigmoid", dtype=torch.float64)
    assert cell.fused_reason() and "hard_sigmoid" in cell.fused_reason()
    W = {g: rng.normal(size=(H, F)) for g in "fuco"}
    U = {g: rng.normal(size=(H, H)) for g in "fuco"}
    b = {g: rng.normal(size=H) for g in "fuco"}
    set_named(cell, W, U, b)
    xs = rng.normal(size=(3, 2, F)) * 2
    expected = numpy_lstm(xs, W, U, b, np.zeros((2, H)), np.zeros((2, H)), hard_sigmoid=True)
    state = cell.zero_state(2, dtype=torch.float64, device="cpu")
    for x_t, (a, _) in zip(xs, expected):
        y, state = cell.step(torch.from_numpy(x_t), state)
        np.testing.assert_allclose(y.detach().numpy(), a, rtol=0, atol=1e-13)


def test_recurrent_mask_drops_a_prev_not_c_prev(rng):
    cell = LSTMCell(3, 4, dtype=torch.float64)
    x = torch.from_numpy(rng.normal(size=(2, 3)))
    a, c = torch.from_numpy(rng.normal(size=(2, 4))), torch.from_numpy(rng.normal(size=(2, 4)))
    m = torch.tensor([[0.0, 2.0, 2.0, 0.0], [2.0, 0.0, 2.0, 2.0]], dtype=torch.float64)
    y, s = cell.step(x, LSTMState(a, c), m)
    # same as a plain step from (a * m, c): the mask touches only the recurrent products
    y2, s2 = cell.step(x, LSTMState(a * m, c))
    assert_close(y, y2, atol=1e-14, rtol=0)
    assert_close(s.c, s2.c, atol=1e-14, rtol=0)
    y3, _ = cell.step(x, LSTMState(a, c))
    assert not torch.allclose(y, y3)


@pytest.mark.parametrize("use_bias", [True, False])
def test_gradcheck_reference_step(use_bias):
    cell = LSTMCell(3, 2, use_bias=use_bias, dtype=torch.float64)
    with torch.no_grad():
        for p in cell.parameters():
            p.normal_()
    assert gradcheck_step(cell)
    assert gradcheck_step(cell, recurrent_mask=torch.tensor([[0.0, 2.0], [2.0, 2.0]], dtype=torch.float64))


def test_shapes_state_and_unit_forget_bias():
    cell = LSTMCell(3, 4)
    assert LSTMCell.State._fields == ("h", "c")
    assert cell.weight_ih.shape == (16, 3) and cell.weight_hh.shape == (16, 4) and cell.bias.shape == (16,)
    assert sum(p.numel() for p in cell.parameters()) == 4 * (4 * 3 + 4 * 4 + 4)
    expected_bias = torch.zeros(16)
    expected_bias[4:8] = 1.0  # the forget block (second, order u, f, c, o)
    assert torch.equal(cell.bias, expected_bias)
    assert torch.count_nonzero(LSTMCell(3, 4, unit_forget_bias=False).bias) == 0
    assert LSTMCell(3, 4, use_bias=False).bias is None
    s = cell.zero_state(2, dtype=torch.float32, device="cpu")
    y, s2 = cell.step(torch.randn(2, 3), s)
    assert y.shape == (2, 4) and s2.h.shape == s2.c.shape == (2, 4)


def test_fused_reason_and_kernel_choice():
    assert LSTMCell(2, 3).fused_reason() is None
    reason = LSTMCell(2, 3, activation="relu").fused_reason()
    assert reason and "relu" in reason
    layer = LSTM(3, activation="relu")
    layer(torch.randn(2, 4, 2))
    assert layer.kernel == "reference"
    with pytest.raises(ConfigError, match=r"implementation='fused' cannot run activation='relu'"):
        LSTM(3, activation="relu", implementation="fused", input_shape=(None, 2))
