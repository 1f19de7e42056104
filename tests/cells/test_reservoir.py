"""ReservoirCell: ``x_t = (1 - α) x_{t-1} + α tanh(W_in [1; u_t] + W x_{t-1} + W_fb y_{t-1})``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from recurra.cells.reservoir import (
    ReservoirCell,
    ReservoirState,
    kernel_available,
    reservoir_weights,
    run_reservoir,
    spectral_radius_of,
)
from recurra.errors import ConfigError, InputValueError, ShapeError

B, T, F, N, O = 3, 12, 2, 20, 2
BACKENDS = ["cpp", "torch"]


def numpy_reservoir(u, W_in, W, W_fb, alpha, x, y_prev=None):
    """The docstring's equation, one step at a time, in numpy; returns every ``x_t`` ``(B, T, N)``."""
    xs = []
    for t in range(u.shape[1]):
        one_u = np.concatenate([np.ones((u.shape[0], 1)), u[:, t]], 1)  # [1; u_t]
        pre = one_u @ W_in.T + x @ W.T
        if W_fb is not None:
            pre = pre + y_prev[:, t] @ W_fb.T
        x = (1 - alpha) * x + alpha * np.tanh(pre)
        xs.append(x)
    return np.stack(xs, 1)


def step_loop(cell, u, x0, y_prev=None):
    state, xs = ReservoirState(x0), []
    for t, u_t in enumerate(u.unbind(1)):
        x, state = cell.step(u_t, state, y_prev=None if y_prev is None else y_prev[:, t])
        xs.append(x)
    return torch.stack(xs, 1)


def make_cell(density=0.2, leak_rate=0.4, feedback=0, dtype=torch.float64, **kw):
    return ReservoirCell(
        F, N, spectral_radius=0.95, leak_rate=leak_rate, density=density, feedback_size=feedback, seed=5, dtype=dtype, **kw
    )


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("density", [0.15, 0.8], ids=["sparse", "dense"])
@pytest.mark.parametrize("leak_rate", [1.0, 0.3])
@pytest.mark.parametrize("with_initial_state", [False, True], ids=["zero0", "init0"])
@pytest.mark.parametrize("feedback", [0, O], ids=["nofb", "fb"])
def test_fused_matches_reference_step_loop(backend, density, leak_rate, with_initial_state, feedback):
    if backend == "cpp" and not kernel_available():
        pytest.skip("no compiled kernel here")
    cell = make_cell(density, leak_rate, feedback)
    assert cell.is_sparse == (density < 0.3)
    g = torch.Generator().manual_seed(1)
    u = torch.randn(B, T, F, generator=g, dtype=torch.float64)
    x0 = (
        0.5 * torch.randn(B, N, generator=g, dtype=torch.float64)
        if with_initial_state
        else torch.zeros(B, N, dtype=torch.float64)
    )
    y_prev = torch.randn(B, T, O, generator=g, dtype=torch.float64) if feedback else None
    x, last = cell.fused(u, ReservoirState(x0), y_prev=y_prev, backend=backend)
    assert cell.backend == backend
    ref = step_loop(cell, u, x0, y_prev)
    assert x.shape == (B, T, N) and x.dtype == torch.float64
    assert_close(x, ref, atol=1e-13, rtol=0)
    assert_close(last.h, ref[:, -1], atol=1e-13, rtol=0)
    W_fb = None if cell.W_fb is None else cell.W_fb.numpy()
    want = numpy_reservoir(
        u.numpy(), cell.W_in.numpy(), cell.W.numpy(), W_fb, leak_rate, x0.numpy(), None if y_prev is None else y_prev.numpy()
    )
    np.testing.assert_allclose(ref.numpy(), want, atol=1e-13, rtol=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_fused_float32(backend):
    if backend == "cpp" and not kernel_available():
        pytest.skip("no compiled kernel here")
    cell = make_cell(dtype=torch.float32)
    u = torch.randn(B, T, F)
    x, _ = cell.fused(u, cell.zero_state(B, dtype=torch.float32, device="cpu"), backend=backend)
    assert x.dtype == torch.float32
    assert_close(x, step_loop(cell, u, torch.zeros(B, N)), atol=1e-5, rtol=0)


def test_hand_computed_scalar_steps():
    cell = ReservoirCell(1, 1, density=1.0, leak_rate=0.5, seed=0, dtype=torch.float64)
    with torch.no_grad():
        cell.W_in.copy_(torch.tensor([[0.25, 2.0]]))  # b = 0.25, W_u = 2
        cell.W.fill_(-0.5)
    x1, s = cell.step(torch.tensor([[1.0]], dtype=torch.float64), cell.zero_state(1, dtype=torch.float64, device="cpu"))
    assert x1.item() == pytest.approx(0.5 * np.tanh(2.25), abs=1e-15)  # x_0 = 0
    x2, _ = cell.step(torch.tensor([[0.0]], dtype=torch.float64), s)
    assert x2.item() == pytest.approx(0.5 * x1.item() + 0.5 * np.tanh(0.25 - 0.5 * x1.item()), abs=1e-15)


@pytest.mark.parametrize("units, density, rho", [(60, 0.1, 0.9), (150, 0.05, 1.25), (25, 1.0, 0.5), (40, 0.3, 2.0)])
def test_spectral_radius_exact_and_density(units, density, rho):
    cell = ReservoirCell(3, units, spectral_radius=rho, density=density, seed=11, dtype=torch.float64)
    assert np.abs(np.linalg.eigvals(cell.W.numpy())).max() == pytest.approx(rho, abs=1e-6)
    assert spectral_radius_of(cell.W) == pytest.approx(rho, abs=1e-12)
    assert int(torch.count_nonzero(cell.W)) == round(density * units * units)


def test_weights_scalings_seed_and_buffers():
    w = reservoir_weights(
        3,
        30,
        spectral_radius=0.9,
        input_scaling=0.2,
        bias_scaling=0.7,
        density=0.1,
        seed=4,
        feedback_size=2,
        feedback_scaling=0.3,
    )
    assert w["W_in"].shape == (30, 4) and w["W"].shape == (30, 30) and w["W_fb"].shape == (30, 2)
    assert w["W_in"][:, 0].abs().max() <= 0.7 and w["W_in"][:, 0].abs().max() > 0.35  # the bias column
    assert w["W_in"][:, 1:].abs().max() <= 0.2 and w["W_fb"].abs().max() <= 0.3
    again = reservoir_weights(
        3,
        30,
        spectral_radius=0.9,
        input_scaling=0.2,
        bias_scaling=0.7,
        density=0.1,
        seed=4,
        feedback_size=2,
        feedback_scaling=0.3,
    )
    assert all(torch.equal(w[k], again[k]) for k in w)
    other = reservoir_weights(3, 30, spectral_radius=0.9, input_scaling=0.2, bias_scaling=0.7, density=0.1, seed=5)
    assert not torch.equal(w["W"], other["W"])
    cell = ReservoirCell(3, 30, seed=4)
    assert list(cell.parameters()) == []
    assert sorted(cell.state_dict()) == ["W", "W_in"]
    assert cell.W.dtype == torch.get_default_dtype()


def test_seed_none_follows_torch_global_generator():
    torch.manual_seed(3)
    a = ReservoirCell(2, 10)
    torch.manual_seed(3)
    b = ReservoirCell(2, 10)
    assert a.seed == b.seed and torch.equal(a.W, b.W)


def test_sparse_rows_follow_changes_of_W():
    cell = make_cell()
    rows = cell.sparse_rows()
    assert cell.sparse_rows() is rows  # cached
    with torch.no_grad():
        cell.W.mul_(0.5)
    assert cell.sparse_rows() is not rows
    assert_close(cell.sparse_rows().values, rows.values * 0.5)


def test_drawn_W_runs_as_float32_grid_times_scale_and_any_other_W_in_float64():
    cell = make_cell(density=0.15)
    rows = cell.sparse_rows()
    assert rows.kernel_values.dtype == torch.float32 and rows.scale == cell.W.abs().max().item()
    assert torch.equal(rows.kernel_values.double() * rows.scale, rows.values)  # W = s · G exactly
    u = torch.randn(B, T, F, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x0 = torch.full((B, N), 0.1, dtype=torch.float64)
    for off_grid in (False, True):
        if off_grid:  # set by hand: no float32 G behind it, the loop reads the float64 values
            with torch.no_grad():
                cell.W.add_(1e-9 * torch.sign(cell.W))
        rows = cell.sparse_rows()
        assert rows.kernel_values.dtype == (torch.float64 if off_grid else torch.float32)
        x, _ = cell.fused(u, ReservoirState(x0), backend="cpp")
        assert_close(x, step_loop(cell, u, x0), rtol=1e-12, atol=1e-12)


def test_a_nilpotent_draw_is_drawn_again(monkeypatch):
    # 2 units at density 0.25: one non-zero entry, nilpotent unless on the diagonal
    for seed in range(8):
        W = ReservoirCell(1, 2, density=0.25, seed=seed, dtype=torch.float64).W
        assert W.diagonal().abs().sum() > 0 and int(torch.count_nonzero(W)) == 1
    monkeypatch.setattr("recurra.cells.reservoir.spectral_radius_of", lambda W: 0.0)
    with pytest.raises(ConfigError, match=r"has spectral radius 0 in 100 draws and cannot be scaled"):
        ReservoirCell(1, 2, density=0.25, seed=1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(spectral_radius=0.0), r"expected spectral_radius > 0, got 0.0"),
        (dict(spectral_radius=-1), r"expected spectral_radius > 0, got -1"),
        (dict(density=0.0), r"expected density in \(0, 1\], got 0.0"),
        (dict(density=1.5), r"expected density in \(0, 1\], got 1.5"),
        (dict(leak_rate=0.0), r"expected leak_rate in \(0, 1\], got 0.0"),
        (dict(leak_rate=1.01), r"expected leak_rate in \(0, 1\], got 1.01"),
        (dict(input_scaling=-0.1), r"expected input_scaling >= 0, got -0.1"),
        (dict(bias_scaling=float("nan")), r"expected a finite bias_scaling, got nan"),
        (dict(seed=-3), r"expected seed to be a non-negative integer or None, got -3"),
        (dict(spectral_radius="big"), r"expected spectral_radius to be a number, got 'big'"),
    ],
)
def test_argument_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ReservoirCell(2, 10, **kwargs)


def test_units_and_sizes_errors():
    with pytest.raises(ConfigError, match=r"expected units to be a positive integer, got 0"):
        ReservoirCell(2, 0)
    with pytest.raises(ConfigError, match=r"expected input_size to be a positive integer, got 0"):
        ReservoirCell(0, 5)
    cell = make_cell(feedback=O)
    state = cell.zero_state(B, dtype=torch.float64, device="cpu")
    with pytest.raises(ConfigError, match=r"this reservoir has output feedback: step needs y_prev of shape \(batch, 2\)"):
        cell.step(torch.zeros(B, F, dtype=torch.float64), state)
    with pytest.raises(ShapeError, match=r"expected y_prev of shape \(3, 12, 2\)"):
        cell.fused(torch.zeros(B, T, F, dtype=torch.float64), state)
    with pytest.raises(ShapeError, match=r"expected input of shape \(batch, time, 2\), got \(3, 12, 4\)"):
        make_cell().fused(torch.zeros(B, T, 4, dtype=torch.float64), state)
    with pytest.raises(ConfigError, match=r"a reservoir has no recurrent dropout"):
        make_cell().step(torch.zeros(B, F, dtype=torch.float64), state, torch.ones(B, N))


def test_fused_refuses_gradients_and_bad_buffers():
    cell = make_cell()
    u = torch.randn(B, T, F, dtype=torch.float64, requires_grad=True)
    with pytest.raises(ConfigError, match=r"do not propagate gradients; run step\(\)"):
        cell.fused(u, cell.zero_state(B, dtype=torch.float64, device="cpu"))
    z = torch.zeros(T, B, N, dtype=torch.float64).transpose(0, 1)
    with pytest.raises(InputValueError, match=r"expected a contiguous z"):
        run_reservoir(z, torch.zeros(B, N, dtype=torch.float64), cell.W, 0.5)
    with pytest.raises(ShapeError, match=r"expected z \(batch, time, N\), x0 \(batch, N\) and W \(N, N\)"):
        run_reservoir(torch.zeros(B, T, N), torch.zeros(B, N + 1), torch.zeros(N, N), 0.5)
    with pytest.raises(ConfigError, match=r"expected backend in \('auto', 'cpp', 'torch'\), got 'c'"):
        run_reservoir(torch.zeros(B, T, N), torch.zeros(B, N), torch.zeros(N, N), 0.5, backend="c")
    with pytest.raises(InputValueError, match=r"backend='cpp' runs float32/float64 CPU tensors, got torch.float16"):
        run_reservoir(torch.zeros(B, T, N, dtype=torch.float16), torch.zeros(B, N), torch.zeros(N, N), 0.5, backend="cpp")
