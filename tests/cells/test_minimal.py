"""MinGRU / MinLSTM (Feng et al., 2024): reference step, compiled loop and log-space scan agree."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from recurra import MinGRU, MinLSTM
from recurra.cells import MinGRUCell, MinGRUState, MinLSTMCell, MinLSTMState
from recurra.cells.minimal import g, log_g
from recurra.errors import ConfigError, UnknownNameError
from recurra.initializers import Constant
from tests.cells.test_indrnn import check_fast_matches_reference
from tests.helpers import MASK_KINDS, gradcheck_step, randomize, twin

LAYERS = {"min_gru": MinGRU, "min_lstm": MinLSTM}


def σ(v):
    return 1.0 / (1.0 + np.exp(-v))


def np_g(v):
    return np.where(v >= 0, v + 0.5, σ(v))


def numpy_min_gru(xs, W, b, h):
    """The docstring's equations with named blocks ``W[k], b[k]``, ``k`` in z, h; ``xs (T, B, F)``."""
    out = []
    for x_t in xs:
        z = σ(x_t @ W["z"].T + b["z"])
        h_tilde = np_g(x_t @ W["h"].T + b["h"])
        h = (1 - z) * h + z * h_tilde
        out.append(h)
    return out


def numpy_min_lstm(xs, W, b, h):
    """The docstring's equations with named blocks ``W[k], b[k]``, ``k`` in f, i, h."""
    out = []
    for x_t in xs:
        f = σ(x_t @ W["f"].T + b["f"])
        i = σ(x_t @ W["i"].T + b["i"])
        h_tilde = np_g(x_t @ W["h"].T + b["h"])
        h = f / (f + i) * h + i / (f + i) * h_tilde
        out.append(h)
    return out


# -- the candidate activation ----------------------------------------------------------------------


def test_g_and_log_g():
    v = torch.tensor([-800.0, -30.0, -2.0, -1e-9, 0.0, 1e-9, 0.3, 5.0, 1e4], dtype=torch.float64)
    expected = torch.where(v >= 0, v + 0.5, torch.sigmoid(v))
    assert torch.equal(g(v), expected)
    finite = v > -700  # below, σ(v) underflows to 0 (log_g does not)
    assert (g(v)[finite] > 0).all()
    assert_close(g(torch.tensor([0.0], dtype=torch.float64)), torch.sigmoid(torch.tensor([0.0], dtype=torch.float64)))
    assert_close(log_g(v)[finite], torch.log(g(v))[finite], atol=1e-15, rtol=1e-14)
    assert log_g(v)[0] == -800.0  # log σ(v) = -softplus(-v), where σ(v) itself underflows to 0
    leaf = v.clone().requires_grad_()
    assert torch.isfinite(torch.autograd.grad(log_g(leaf).sum(), leaf)[0]).all()


# -- golden values ---------------------------------------------------------------------------------


def test_min_gru_named_blocks_golden(rng):
    F, H, Bn = 3, 4, 2
    cell = MinGRUCell(F, H, dtype=torch.float64)
    W = {k: rng.normal(size=(H, F)) for k in "zh"}
    b = {k: rng.normal(size=H) for k in "zh"}
    with torch.no_grad():  # stacked in the documented order z, h
        cell.weight_ih.copy_(torch.from_numpy(np.concatenate([W["z"], W["h"]], 0)))
        cell.bias.copy_(torch.from_numpy(np.concatenate([b["z"], b["h"]], 0)))
    xs, h0 = rng.normal(size=(5, Bn, F)) * 2, rng.normal(size=(Bn, H))
    expected = numpy_min_gru(xs, W, b, h0)
    state = MinGRUState(torch.from_numpy(h0))
    for x_t, h in zip(xs, expected):
        y, state = cell.step(torch.from_numpy(x_t), state)
        np.testing.assert_allclose(y.detach().numpy(), h, rtol=0, atol=1e-13)
        assert torch.equal(state.h, y)


def test_min_lstm_named_blocks_golden(rng):
    F, H, Bn = 3, 4, 2
    cell = MinLSTMCell(F, H, dtype=torch.float64)
    W = {k: rng.normal(size=(H, F)) for k in "fih"}
    b = {k: rng.normal(size=H) for k in "fih"}
    with torch.no_grad():  # stacked in the documented order f, i, h
        cell.weight_ih.copy_(torch.from_numpy(np.concatenate([W[k] for k in "fih"], 0)))
        cell.bias.copy_(torch.from_numpy(np.concatenate([b[k] for k in "fih"], 0)))
    xs, h0 = rng.normal(size=(5, Bn, F)) * 2, rng.normal(size=(Bn, H))
    expected = numpy_min_lstm(xs, W, b, h0)
    state = MinLSTMState(torch.from_numpy(h0))
    for x_t, h in zip(xs, expected):
        y, state = cell.step(torch.from_numpy(x_t), state)
        np.testing.assert_allclose(y.detach().numpy(), h, rtol=0, atol=1e-13)


def test_constant_initialisers_golden():
    """All pre-activations 0.5: z = σ(0.5), h~ = 1.0, so h_t = 1 - (1 - z)^(t+1) from h0 = 0."""
    cell = MinGRUCell(2, 3, kernel_initializer=Constant(0.25), bias_initializer=Constant(0.0), dtype=torch.float64)
    x = torch.ones(1, 2, dtype=torch.float64)  # W x = 0.25 + 0.25
    z = 1 / (1 + np.exp(-0.5))
    state = cell.zero_state(1, dtype=torch.float64, device="cpu")
    for t in range(4):
        y, state = cell.step(x, state)
        np.testing.assert_allclose(y.detach().numpy(), np.full((1, 3), 1 - (1 - z) ** (t + 1)), rtol=0, atol=1e-15)
    lstm = MinLSTMCell(2, 3, kernel_initializer=Constant(0.25), dtype=torch.float64)  # f = i: f' = i' = 1/2
    y, _ = lstm.step(x, MinLSTMState(torch.full((1, 3), 3.0, dtype=torch.float64)))
    np.testing.assert_allclose(y.detach().numpy(), np.full((1, 3), 0.5 * 3.0 + 0.5 * 1.0), rtol=0, atol=1e-15)


@pytest.mark.parametrize("kind", list(LAYERS))
def test_keras_weights_layout(kind, rng):
    layer = LAYERS[kind](4, input_shape=(None, 3))
    n = 2 if kind == "min_gru" else 3
    assert [w.shape for w in layer.get_weights()] == [(3, n * 4), (n * 4,)]
    weights = randomize(layer, rng)
    assert torch.equal(layer.cell.weight_ih.detach(), torch.from_numpy(weights[0].T).float())
    assert [w.shape for w in LAYERS[kind](4, use_bias=False, input_shape=(None, 3)).get_weights()] == [(3, n * 4)]


# -- fast paths against the reference --------------------------------------------------------------


@pytest.mark.parametrize("with_initial_state", [False, True], ids=["zero0", "init0"])
@pytest.mark.parametrize("mask_kind", MASK_KINDS)
@pytest.mark.parametrize("go_backwards", [False, True], ids=["fwd", "bwd"])
@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
@pytest.mark.parametrize("kind", list(LAYERS))
def test_compiled_matches_reference(kind, return_sequences, go_backwards, mask_kind, with_initial_state):
    check_fast_matches_reference(
        LAYERS[kind],
        kernel="compiled",
        return_sequences=return_sequences,
        go_backwards=go_backwards,
        mask_kind=mask_kind,
        with_initial_state=with_initial_state,
    )


@pytest.mark.parametrize("with_initial_state", [False, True], ids=["zero0", "init0"])
@pytest.mark.parametrize("mask_kind", MASK_KINDS)
@pytest.mark.parametrize("go_backwards", [False, True], ids=["fwd", "bwd"])
@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
@pytest.mark.parametrize("kind", list(LAYERS))
def test_scan_matches_reference(kind, return_sequences, go_backwards, mask_kind, with_initial_state):
    check_fast_matches_reference(
        LAYERS[kind],
        kernel="scan",
        implementation="scan",
        return_sequences=return_sequences,
        go_backwards=go_backwards,
        mask_kind=mask_kind,
        with_initial_state=with_initial_state,
        positive_initial_state=True,
    )


@pytest.mark.parametrize("kind", list(LAYERS))
def test_no_bias_and_other_activation_match_reference(kind):
    # tanh: in the compiled minimal loop; softplus: gates in torch, then the compiled elementwise loop
    for kwargs in ({"use_bias": False}, {"activation": "tanh"}, {"activation": "softplus"}):
        check_fast_matches_reference(
            LAYERS[kind],
            kernel="compiled",
            implementation="fused",
            return_sequences=True,
            go_backwards=False,
            mask_kind="holes",
            with_initial_state=True,
            **kwargs,
        )


@pytest.mark.parametrize("kind", list(LAYERS))
def test_auto_without_compiled_loop_is_the_scan(kind, monkeypatch):
    """Where the compiled loop is not used (accelerators, no compiler), "auto" runs the scan; with an
    initial state it cannot take, the torch loop."""
    import recurra.layers.indrnn
    import recurra.layers.minimal

    for module in (recurra.layers.indrnn, recurra.layers.minimal):
        monkeypatch.setattr(module, "use_compiled", lambda x: False)
    common = dict(return_sequences=True, go_backwards=False, mask_kind="left", with_initial_state=True)
    check_fast_matches_reference(LAYERS[kind], kernel="scan", positive_initial_state=True, **common)
    check_fast_matches_reference(
        LAYERS[kind],
        kernel="elementwise (not scan: an initial state with entries <= 0 (the log-space scan takes log h0))",
        **common,
    )
    check_fast_matches_reference(LAYERS[kind], kernel="elementwise", implementation="fused", **common)


@pytest.mark.parametrize("kind", list(LAYERS))
def test_scan_falls_back_on_non_positive_initial_state(kind, rng):
    layer = LAYERS[kind](3, return_sequences=True, implementation="scan", input_shape=(None, 2)).double()
    randomize(layer, rng)
    ref = twin(layer, implementation="reference")
    x = torch.tensor(rng.normal(size=(2, 5, 2)))
    h0 = torch.tensor([[0.5, 0.2, 0.1], [0.3, 0.0, 0.4]], dtype=torch.float64)  # one zero entry
    assert_close(layer(x, initial_state=h0), ref(x, initial_state=h0), atol=1e-12, rtol=0)
    assert layer.kernel == "compiled (not scan: an initial state with entries <= 0 (the log-space scan takes log h0))"
    layer(x, initial_state=h0 + 0.1)
    assert layer.kernel == "scan"
    layer(x, initial_state=torch.zeros(2, 3, dtype=torch.float64))  # a constant zero state: no term
    assert layer.kernel == "scan"
    zeros = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)  # its gradient is wanted: log 0 cannot give it
    y = layer(x, initial_state=zeros)
    assert layer.kernel.startswith("compiled (not scan")
    y.sum().backward()
    h0_ref = zeros.detach().clone().requires_grad_()
    ref(x, initial_state=h0_ref).sum().backward()
    assert_close(zeros.grad, h0_ref.grad, atol=1e-12, rtol=0)


def test_states_stay_positive_so_carried_states_scan(rng):
    layer = MinGRU(3, return_state=True, stateful=True, implementation="scan", input_shape=(None, 2)).double()
    randomize(layer, rng, scale=2.0)
    x = torch.tensor(rng.normal(size=(2, 6, 2)) * 3)
    _, h = layer(x)
    assert (h > 0).all()
    layer(x)
    assert layer.kernel == "scan"


@pytest.mark.parametrize("kind", list(LAYERS))
def test_float32_long_sequence(kind):
    """T = 10,000 in float32 against float64, values and gradients: compiled loop within 1e-4, scan
    within 5e-4 (of the largest value; measured: 4e-5 and 1e-4). See linear_scan_log on precision."""
    gen = torch.Generator().manual_seed(0)
    Tn, Fn, Hn = 10_000, 3, 4
    x64 = torch.randn(2, Tn, Fn, generator=gen, dtype=torch.float64)
    h0_64 = torch.rand(2, Hn, generator=gen, dtype=torch.float64) + 0.1
    layer64 = LAYERS[kind](Hn, return_sequences=True, implementation="fused", input_shape=(None, Fn)).double()
    randomize(layer64, np.random.default_rng(3))

    def run(layer, x, h0):
        x, h0 = x.clone().requires_grad_(), h0.clone().requires_grad_()
        y = layer(x, initial_state=h0)
        weights = torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view_as(y)
        (y * weights).sum().backward()
        grads = [p.grad for p in layer.parameters()] + [x.grad, h0.grad]
        return [t.detach().double() for t in (y, *grads)]

    expected = run(layer64, x64, h0_64)
    for implementation, tol in (("fused", 1e-4), ("scan", 5e-4)):
        layer32 = twin(layer64, implementation=implementation).float()
        got = run(layer32, x64.float(), h0_64.float())
        assert layer32.kernel == ("compiled" if implementation == "fused" else "scan")
        for a, e in zip(got, expected):
            assert float((a - e).abs().max()) <= tol * float(e.abs().max()), implementation


# -- generation: one token at a time ---------------------------------------------------------------


@pytest.mark.parametrize("implementation", ["auto", "scan", "reference"])
@pytest.mark.parametrize("kind", list(LAYERS))
def test_stepping_one_token_at_a_time_equals_whole_sequence(kind, implementation, rng):
    layer = LAYERS[kind](4, return_sequences=True, return_state=True, implementation=implementation, input_shape=(None, 3))
    layer = layer.double()
    randomize(layer, rng)
    x = torch.tensor(rng.normal(size=(2, 7, 3)))
    h0 = torch.tensor(rng.uniform(0.1, 1.0, size=(2, 4)))
    y, h = layer(x, initial_state=h0)
    # the cell, step by step with the carried state
    state = layer.cell.State(h0)
    for t in range(7):
        y_t, state = layer.cell.step(x[:, t], state)
        assert_close(y_t, y[:, t], atol=1e-12, rtol=0)
    assert_close(state.h, h, atol=1e-12, rtol=0)
    # the layer, stateful, fed one step per call
    stepper = twin(layer, stateful=True)
    stepper.reset_states([h0])
    for t in range(7):
        y_t, h_t = stepper(x[:, t : t + 1])
        assert_close(y_t[:, 0], y[:, t], atol=1e-12, rtol=0)
    assert_close(h_t, h, atol=1e-12, rtol=0)


# -- cells and arguments ---------------------------------------------------------------------------


@pytest.mark.parametrize("cell_class", [MinGRUCell, MinLSTMCell])
def test_gradcheck_reference_step(cell_class):
    cell = cell_class(3, 2, dtype=torch.float64)
    with torch.no_grad():
        for p in cell.parameters():
            p.normal_()
    assert gradcheck_step(cell)


def test_recurrent_mask_is_not_used():
    cell = MinGRUCell(3, 2, dtype=torch.float64)
    x, h = torch.randn(2, 3, dtype=torch.float64), torch.rand(2, 2, dtype=torch.float64)
    m = torch.zeros(2, 2, dtype=torch.float64)
    assert torch.equal(cell.step(x, MinGRUState(h), m)[0], cell.step(x, MinGRUState(h))[0])


def test_shapes_and_state():
    assert MinGRUCell.State._fields == MinLSTMCell.State._fields == ("h",)
    cell = MinLSTMCell(3, 4)
    assert cell.weight_ih.shape == (12, 3) and cell.bias.shape == (12,)
    assert MinGRUCell(3, 4, use_bias=False).bias is None
    assert sum(p.numel() for p in MinGRUCell(3, 4).parameters()) == 2 * (3 * 4 + 4)
    assert MinGRUCell(3, 4).scan_reason() is None
    assert "activation 'tanh'" in MinGRUCell(3, 4, activation="tanh").scan_reason()


@pytest.mark.parametrize("cls", [MinGRU, MinLSTM])
@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"units": 0}, ConfigError, r"expected units to be a positive integer, got 0"),
        ({"units": 2.5}, ConfigError, r"expected units to be a positive integer, got 2.5"),
        ({"units": 4, "recurrent_dropout": 0.2}, ConfigError, r"has no recurrent weights .* recurrent_dropout, got 0.2"),
        ({"units": 4, "recurrent_initializer": "orthogonal"}, ConfigError, r"expected no recurrent_initializer"),
        ({"units": 4, "implementation": "cuda"}, ConfigError, r"expected implementation in \('auto', 'fused', 'scan'"),
        (
            {"units": 4, "implementation": "scan", "activation": "tanh"},
            ConfigError,
            r"implementation='scan' needs activation='g'",
        ),
        ({"units": 4, "activation": "gg"}, UnknownNameError, r"unknown activation 'gg'; expected one of: .*\bg\b"),
    ],
)
def test_bad_arguments(cls, kwargs, error, message):
    with pytest.raises(error, match=message):
        cls(**kwargs)


@pytest.mark.parametrize("implementation", ["auto", "scan"])
def test_a_sequence_with_no_real_step_runs_the_reference_loop(implementation):
    layer = MinGRU(3, return_sequences=True, return_state=True, implementation=implementation)
    x, h0 = torch.randn(2, 4, 2), torch.rand(2, 3) + 0.1
    y, h = layer(x, lengths=torch.tensor([4, 0]), initial_state=h0)
    if implementation == "scan":
        assert layer.kernel == "reference (not scan: a sequence whose steps are all masked)"
    else:
        assert layer.kernel == "reference"
    assert torch.count_nonzero(y[1]) == 0 and torch.equal(h[1], h0[1])
    assert_close(y[0], layer(x[:1], initial_state=h0[:1])[0][0])
