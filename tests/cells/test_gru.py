"""GRUCell / GRU in seed 004's symbols (z, r, h~), both reset_after variants."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from recurra import GRU
from recurra.cells import GRUCell, GRUState
from recurra.errors import ConfigError
from recurra.initializers import Constant
from tests.helpers import MASK_KINDS, check_fused_matches_reference, gradcheck_step


def σ(v):
    return 1.0 / (1.0 + np.exp(-v))


def numpy_gru(xs, W, U, b, b2, h, reset_after):
    """The docstring's equations with named blocks ``W[g], U[g], b[g], b2[g]`` (``b2`` is b')."""
    out = []
    for x_t in xs:  # (B, F)
        z = σ(x_t @ W["z"].T + b["z"] + h @ U["z"].T + b2["z"])  # update gate
        r = σ(x_t @ W["r"].T + b["r"] + h @ U["r"].T + b2["r"])  # reset gate
        if reset_after:
            h_tilde = np.tanh(x_t @ W["h"].T + b["h"] + r * (h @ U["h"].T + b2["h"]))
        else:
            h_tilde = np.tanh(x_t @ W["h"].T + (r * h) @ U["h"].T + b["h"])
        h = z * h + (1 - z) * h_tilde
        out.append(h)
    return out


def set_named(cell: GRUCell, W, U, b, b2):
    """Stack the named blocks in the documented order ``r, z, h``."""
    order = ("r", "z", "h")
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(np.concatenate([W[g] for g in order], 0)))
        cell.weight_hh.copy_(torch.from_numpy(np.concatenate([U[g] for g in order], 0)))
        cell.bias.copy_(torch.from_numpy(np.concatenate([b[g] for g in order], 0)))
        if cell.reset_after:
            cell.recurrent_bias.copy_(torch.from_numpy(np.concatenate([b2[g] for g in order], 0)))


@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("with_initial_state", [False, True], ids=["zero0", "init0"])
@pytest.mark.parametrize("mask_kind", MASK_KINDS)
@pytest.mark.parametrize("go_backwards", [False, True], ids=["fwd", "bwd"])
@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
def test_fused_matches_reference(return_sequences, go_backwards, mask_kind, with_initial_state, use_bias):
    check_fused_matches_reference(
        GRU,
        reset_after=True,
        return_sequences=return_sequences,
        go_backwards=go_backwards,
        mask_kind=mask_kind,
        with_initial_state=with_initial_state,
        use_bias=use_bias,
    )


@pytest.mark.parametrize("reset_after", [True, False])
def test_constant_initialisers_golden(reset_after):
    F, H = 2, 3
    cell = GRUCell(
        F,
        H,
        kernel_initializer=Constant(0.2),
        recurrent_initializer=Constant(-0.3),
        bias_initializer=Constant(0.1),
        reset_after=reset_after,
        dtype=torch.float64,
    )
    W = {g: np.full((H, F), 0.2) for g in "zrh"}
    U = {g: np.full((H, H), -0.3) for g in "zrh"}
    b = {g: np.full(H, 0.1) for g in "zrh"}
    b2 = {g: np.full(H, 0.1 if reset_after else 0.0) for g in "zrh"}
    xs = np.array([[[1.0, -2.0], [0.5, 0.25]], [[0.1, 3.0], [-1.0, 1.0]], [[2.0, 2.0], [0.0, -0.5]]])  # (T, B, F)
    h0 = np.array([[0.5, -0.5, 0.25], [0.0, 1.0, -1.0]])
    expected = numpy_gru(xs, W, U, b, b2, h0, reset_after)
    state = GRUState(torch.from_numpy(h0))
    for x_t, want in zip(xs, expected):
        y, state = cell.step(torch.from_numpy(x_t), state)
        assert isinstance(state, GRUState)
        np.testing.assert_allclose(y.detach().numpy(), want, rtol=0, atol=1e-14)
        assert torch.equal(state.h, y)


@pytest.mark.parametrize("reset_after", [True, False])
def test_named_gates_golden(rng, reset_after):
    """Each gate gets its own random blocks, stacked ``[W_r; W_z; W_h]`` as documented."""
    F, H, Bn = 3, 4, 2
    cell = GRUCell(F, H, reset_after=reset_after, dtype=torch.float64)
    W = {g: rng.normal(size=(H, F)) for g in "zrh"}
    U = {g: rng.normal(size=(H, H)) * 0.5 for g in "zrh"}
    b = {g: rng.normal(size=H) for g in "zrh"}
    b2 = {g: rng.normal(size=H) if reset_after else np.zeros(H) for g in "zrh"}
    set_named(cell, W, U, b, b2)
    xs, h0 = rng.normal(size=(5, Bn, F)), rng.normal(size=(Bn, H))
    expected = numpy_gru(xs, W, U, b, b2, h0, reset_after)
    state = GRUState(torch.from_numpy(h0))
    for x_t, want in zip(xs, expected):
        y, state = cell.step(torch.from_numpy(x_t), state)
        np.testing.assert_allclose(y.detach().numpy(), want, rtol=0, atol=1e-13)

    kernels = ("auto", "reference") if reset_after else ("reference",)
    for implementation in kernels:
        layer = GRU(H, reset_after=reset_after, return_sequences=True, implementation=implementation, input_shape=(None, F))
        layer = layer.double()
        with torch.no_grad():
            for p, q in zip(layer.cell.parameters(), cell.parameters()):
                p.copy_(q)
        y = layer(torch.from_numpy(xs.transpose(1, 0, 2).copy()), initial_state=torch.from_numpy(h0))
        assert layer.kernel == ("fused" if implementation == "auto" else "reference")
        np.testing.assert_allclose(y.detach().numpy(), np.stack(expected, 1), rtol=0, atol=1e-12)


def test_reset_after_variants_differ(rng):
    """Same weights, different candidate equations: the variants must not agree (given a recurrent term)."""
    a = GRUCell(3, 4, reset_after=True, dtype=torch.float64)
    b = GRUCell(3, 4, reset_after=False, dtype=torch.float64)
    with torch.no_grad():
        for p in (a.weight_ih, a.weight_hh, a.bias):
            p.normal_()
        b.weight_ih.copy_(a.weight_ih)
        b.weight_hh.copy_(a.weight_hh)
        b.bias.copy_(a.bias)
    x, h = torch.from_numpy(rng.normal(size=(2, 3))), torch.from_numpy(rng.normal(size=(2, 4)))
    assert not torch.allclose(a.step(x, GRUState(h))[0], b.step(x, GRUState(h))[0])


@pytest.mark.parametrize("reset_after", [True, False])
def test_recurrent_mask_drops_h_in_products_only(rng, reset_after):
    cell = GRUCell(3, 4, reset_after=reset_after, dtype=torch.float64)
    with torch.no_grad():
        cell.bias.normal_()
    x, h = torch.from_numpy(rng.normal(size=(2, 3))), torch.from_numpy(rng.normal(size=(2, 4)))
    m = torch.tensor([[0.0, 2.0, 2.0, 0.0], [2.0, 0.0, 2.0, 2.0]], dtype=torch.float64)
    y, _ = cell.step(x, GRUState(h), m)
    # by hand: h * m in every recurrent product, the plain h in the final interpolation
    W_r, W_z, W_h = cell.weight_ih.chunk(3)
    U_r, U_z, U_h = cell.weight_hh.chunk(3)
    b_r, b_z, b_h = cell.bias.chunk(3)
    b2_r, b2_z, b2_h = cell.recurrent_bias.chunk(3) if reset_after else (0.0, 0.0, 0.0)
    hm = h * m
    z = torch.sigmoid(x @ W_z.T + b_z + hm @ U_z.T + b2_z)
    r = torch.sigmoid(x @ W_r.T + b_r + hm @ U_r.T + b2_r)
    if reset_after:
        h_tilde = torch.tanh(x @ W_h.T + b_h + r * (hm @ U_h.T + b2_h))
    else:
        h_tilde = torch.tanh(x @ W_h.T + (r * hm) @ U_h.T + b_h)
    assert_close(y, z * h + (1 - z) * h_tilde, atol=1e-14, rtol=0)


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("reset_after", [True, False])
def test_gradcheck_reference_step(reset_after, use_bias):
    cell = GRUCell(3, 2, reset_after=reset_after, use_bias=use_bias, dtype=torch.float64)
    with torch.no_grad():
        for p in cell.parameters():
            p.normal_()
    assert gradcheck_step(cell)
    assert gradcheck_step(cell, recurrent_mask=torch.tensor([[0.0, 2.0], [2.0, 2.0]], dtype=torch.float64))


def test_shapes_and_parameters():
    cell = GRUCell(3, 4)
    assert GRUCell.State._fields == ("h",)
    assert cell.weight_ih.shape == (12, 3) and cell.weight_hh.shape == (12, 4)
    assert cell.bias.shape == cell.recurrent_bias.shape == (12,)
    assert sum(p.numel() for p in cell.parameters()) == 3 * (3 * 4 + 4 * 4) + 2 * 12
    old = GRUCell(3, 4, reset_after=False)
    assert old.recurrent_bias is None and sum(p.numel() for p in old.parameters()) == 3 * (3 * 4 + 4 * 4) + 12
    nob = GRUCell(3, 4, use_bias=False)
    assert nob.bias is None and nob.recurrent_bias is None and len(list(nob.parameters())) == 2


def test_fused_reason_and_kernel_choice():
    assert GRUCell(2, 3).fused_reason() is None
    reason = GRUCell(2, 3, reset_after=False).fused_reason()
    assert reason and "reset_after=False" in reason
    assert "hard_sigmoid" in GRUCell(2, 3, recurrent_activation="hard_sigmoid").fused_reason()
    layer = GRU(3, reset_after=False)
    layer(torch.randn(2, 4, 2))
    assert layer.kernel == "reference"
    layer = GRU(3)
    layer(torch.randn(2, 4, 2))
    assert layer.kernel == "fused"
    with pytest.raises(ConfigError, match=r"implementation='fused' cannot run reset_after=False"):
        GRU(3, reset_after=False, implementation="fused", input_shape=(None, 2))
    lazy = GRU(3, reset_after=False, implementation="fused")
    with pytest.raises(ConfigError, match=r"implementation='fused' cannot run reset_after=False"):
        lazy(torch.randn(2, 4, 2))
