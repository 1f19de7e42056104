"""SimpleRNN's four kinds of feedback: lateral (Elman), direct, indirect (Jordan) and complete.

Every kind is checked against numpy written from the cell docstring's equations, in PyTorch layout
(the named parameters) and in Keras layout (``get_weights``); then the layer's contract: masks,
states, configuration, saving, errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from recurra import Bidirectional, Sequential, SimpleRNN, load_model
from recurra.cells.elman import FEEDBACK_KINDS, ElmanJordanState, JordanState, SimpleRNNCell, SimpleRNNState
from recurra.errors import ConfigError, ShapeError, UnknownNameError
from recurra.initializers import Constant, Identity
from tests.helpers import (
    MASK_KINDS,
    B,
    F,
    H,
    T,
    check_each_sequence_alone,
    check_fused_matches_reference,
    mask_kwargs,
    mask_of,
    randomize,
    twin,
)

O = 2  # output_units of the kinds that feed their output back
WITH_OUTPUT = ("indirect", "complete")
ACTS = {"tanh": np.tanh, "relu": lambda v: np.maximum(v, 0.0)}
SYMBOLS = {  # parameter name -> symbol of the docstring (weight_hh is w_hh for "direct")
    "weight_ih": "W_xh",
    "weight_hh": "W_hh",
    "weight_yh": "W_yh",
    "bias": "b_h",
    "weight_hy": "W_hy",
    "output_bias": "b_y",
}


def output_units(kind: str) -> int | None:
    return O if kind in WITH_OUTPUT else None


def out_size(kind: str) -> int:
    return O if kind in WITH_OUTPUT else H


def make(kind: str, rng, units: int = H, **kw) -> SimpleRNN:
    """A float64 layer of ``kind`` built for ``F`` features, with random weights and biases."""
    layer = SimpleRNN(units, feedback=kind, output_units=output_units(kind), input_shape=(None, F), **kw).double()
    randomize(layer, rng)
    return layer


def numpy_feedback(kind, xs, p, h, y, act="tanh"):
    """The docstring's equations, one step at a time over ``xs (T, B, F)``; returns ``[y_t]``, ``h_T``, ``y_T``.

    ``p`` holds the symbols in PyTorch layout: ``W_xh (H, F)``, ``W_hh (H, H)`` / ``w_hh (H,)``,
    ``W_yh (H, O)``, ``b_h (H,)``, ``W_hy (O, H)``, ``b_y (O,)``.
    """
    outputs = []
    for x_t in xs:
        z = x_t @ p["W_xh"].T + p["b_h"]
        if kind in ("lateral", "complete"):
            z = z + h @ p["W_hh"].T  # W_hh h_{t-1}
        if kind == "direct":
            z = z + p["w_hh"] * h  # w_hh ⊙ h_{t-1}
        if kind in WITH_OUTPUT:
            z = z + y @ p["W_yh"].T  # W_yh y_{t-1}
        h = ACTS[act](z)
        y = h @ p["W_hy"].T + p["b_y"] if kind in WITH_OUTPUT else h
        outputs.append(y)
    return outputs, h, y


def symbols_of(cell: SimpleRNNCell) -> dict[str, np.ndarray]:
    """The cell's parameters under the docstring's symbols (zero biases without ``use_bias``)."""
    p = {}
    for name, symbol in SYMBOLS.items():
        w = getattr(cell, name)
        if name == "weight_hh" and cell.feedback == "direct":
            symbol = "w_hh"
        if w is not None:
            p[symbol] = w.detach().numpy().copy()
    p.setdefault("b_h", np.zeros(cell.units))
    p.setdefault("b_y", np.zeros(cell.output_units or cell.units))
    return p


def state_of(kind: str, h: np.ndarray, y: np.ndarray):
    """The cell state of ``kind`` holding ``h`` and ``y`` (only the fields the kind has)."""
    h, y = torch.from_numpy(h), torch.from_numpy(y)
    return {"lateral": lambda: SimpleRNNState(h), "direct": lambda: SimpleRNNState(h), "indirect": lambda: JordanState(y)}.get(
        kind, lambda: ElmanJordanState(h, y)
    )()


# -- golden values ---------------------------------------------------------------------------------


@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("kind", FEEDBACK_KINDS)
def test_constant_initialisers_golden(kind, activation, use_bias):
    kw = dict(kernel_initializer=Constant(0.3), recurrent_initializer=Constant(-0.2), bias_initializer=Constant(0.1))
    Hs, Fs = 3, 2
    cell = SimpleRNNCell(
        Fs,
        Hs,
        feedback=kind,
        output_units=output_units(kind),
        activation=activation,
        use_bias=use_bias,
        dtype=torch.float64,
        **kw,
    )
    shapes = {n: tuple(p.shape) for n, p in cell.named_parameters()}
    expected_shapes = {"weight_ih": (Hs, Fs)}
    if kind != "indirect":
        expected_shapes["weight_hh"] = (Hs,) if kind == "direct" else (Hs, Hs)
    if kind in WITH_OUTPUT:
        expected_shapes.update(weight_yh=(Hs, O), weight_hy=(O, Hs))
    if use_bias:
        expected_shapes["bias"] = (Hs,)
        if kind in WITH_OUTPUT:
            expected_shapes["output_bias"] = (O,)
    assert shapes == expected_shapes

    p = {
        "W_xh": np.full((Hs, Fs), 0.3),
        "W_hh": np.full((Hs, Hs), -0.2),
        "w_hh": np.full(Hs, -0.2),
        "W_yh": np.full((Hs, O), -0.2),
        "b_h": np.full(Hs, 0.1 if use_bias else 0.0),
        "W_hy": np.full((O, Hs), 0.3),
        "b_y": np.full(O, 0.1 if use_bias else 0.0),
    }
    xs = np.array([[[1.0, -2.0], [0.5, 0.25]], [[0.1, 3.0], [-1.0, 1.0]], [[2.0, 2.0], [0.0, -0.5]]])  # (T, B, F)
    expected, _, _ = numpy_feedback(kind, xs, p, np.zeros((2, Hs)), np.zeros((2, O)), activation)

    state = cell.zero_state(2, dtype=torch.float64, device="cpu")
    assert type(state) is type(state_of(kind, np.zeros(1), np.zeros(1)))
    for x_t, want in zip(xs, expected):
        y, state = cell.step(torch.from_numpy(x_t), state)
        np.testing.assert_allclose(y.detach().numpy(), want, rtol=0, atol=1e-14)
        assert torch.equal(getattr(state, cell.output_state), y)

    # the layer with the same initialisers, on a float64 input, both kernels, gives the same sequence
    for implementation in ("auto", "reference"):
        layer = SimpleRNN(
            Hs,
            feedback=kind,
            output_units=output_units(kind),
            activation=activation,
            use_bias=use_bias,
            return_sequences=True,
            implementation=implementation,
            **kw,
        )
        y = layer(torch.from_numpy(xs.transpose(1, 0, 2).copy()))  # (T, B, F) -> (B, T, F)
        fast = implementation == "auto" and kind in ("lateral", "direct")
        assert layer.kernel == ("fused" if fast else "reference")
        np.testing.assert_allclose(y.detach().numpy(), np.stack(expected, 1), rtol=0, atol=1e-12)


def test_indirect_hand_computed_scalar_steps():
    """One unit, one output: h_t = tanh(0.5 x_t - y_{t-1} + 0.25), y_t = 2 h_t - 0.5."""
    cell = SimpleRNNCell(1, 1, feedback="indirect", output_units=1, dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih.fill_(0.5)
        cell.weight_yh.fill_(-1.0)
        cell.bias.fill_(0.25)
        cell.weight_hy.fill_(2.0)
        cell.output_bias.fill_(-0.5)
    state = cell.zero_state(1, dtype=torch.float64, device="cpu")
    y1, state = cell.step(torch.tensor([[2.0]], dtype=torch.float64), state)
    assert y1.item() == pytest.approx(2 * math.tanh(1.25) - 0.5, abs=1e-15)
    assert y1.item() == pytest.approx(1.1965672799150258, abs=1e-15)  # h_1 = 0.848283...
    y2, state = cell.step(torch.tensor([[1.0]], dtype=torch.float64), state)
    assert y2.item() == pytest.approx(-1.3381464474993132, abs=1e-15)  # h_2 = tanh(0.5 - 1.19657 + 0.25) = -0.419073...
    assert state == JordanState(y2)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("kind", FEEDBACK_KINDS)
def test_named_weights_golden(rng, kind, activation):
    """Random weights put where the docstring says (weight_ih = W_xh, ...), from a random initial state."""
    cell = SimpleRNNCell(3, 4, feedback=kind, output_units=output_units(kind), activation=activation, dtype=torch.float64)
    with torch.no_grad():
        for p in cell.parameters():
            p.copy_(torch.from_numpy(rng.normal(0.0, 0.6, size=p.shape)))
    p = symbols_of(cell)
    xs, h0, y0 = rng.normal(size=(4, 2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, out_size(kind)))
    expected, h_T, y_T = numpy_feedback(kind, xs, p, h0, y0, activation)
    state = state_of(kind, h0, y0)
    for x_t, want in zip(xs, expected):
        y, state = cell.step(torch.from_numpy(x_t), state)
        np.testing.assert_allclose(y.detach().numpy(), want, rtol=0, atol=1e-13)
    if "h" in state._fields:
        np.testing.assert_allclose(state.h.detach().numpy(), h_T, rtol=0, atol=1e-13)
    if "y" in state._fields:
        np.testing.assert_allclose(state.y.detach().numpy(), y_T, rtol=0, atol=1e-13)


# -- Keras layout ----------------------------------------------------------------------------------


def numpy_keras(kind, x, weights, use_bias=True):
    """The equations on ``get_weights()``'s documented arrays; ``x (B, T, F)`` -> outputs ``(B, T, ·)``."""
    w = list(weights)
    kernel = w.pop(0)
    recurrent_kernel = w.pop(0) if kind != "indirect" else None
    feedback_kernel = w.pop(0) if kind in WITH_OUTPUT else None
    bias = w.pop(0) if use_bias else 0.0
    output_kernel = w.pop(0) if kind in WITH_OUTPUT else None
    output_bias = w.pop(0) if kind in WITH_OUTPUT and use_bias else 0.0
    assert not w
    units = kernel.shape[1]
    h, y = np.zeros((x.shape[0], units)), np.zeros((x.shape[0], O))
    outputs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + bias
        if kind in ("lateral", "complete"):
            z = z + h @ recurrent_kernel
        if kind == "direct":
            z = z + h * recurrent_kernel
        if kind in WITH_OUTPUT:
            z = z + y @ feedback_kernel
        h = np.tanh(z)
        y = h @ output_kernel + output_bias if kind in WITH_OUTPUT else h
        outputs.append(y)
    return np.stack(outputs, 1)


KERAS_SHAPES = {  # F = 3 features, H = 5 units, O = 2 outputs
    "lateral": [(3, 5), (5, 5), (5,)],
    "direct": [(3, 5), (5,), (5,)],
    "indirect": [(3, 5), (2, 5), (5,), (5, 2), (2,)],
    "complete": [(3, 5), (5, 5), (2, 5), (5,), (5, 2), (2,)],
}


@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("kind", FEEDBACK_KINDS)
def test_keras_weights_layout(rng, kind, use_bias):
    layer = make(kind, rng, use_bias=use_bias, return_sequences=True)
    bias_positions = {"lateral": [2], "direct": [2], "indirect": [2, 4], "complete": [3, 5]}[kind]
    shapes = [s for i, s in enumerate(KERAS_SHAPES[kind]) if use_bias or i not in bias_positions]
    assert [w.shape for w in layer.get_weights()] == shapes
    weights = randomize(layer, rng)
    x = rng.normal(size=(B, T, F))
    np.testing.assert_allclose(layer(torch.from_numpy(x)).detach().numpy(), numpy_keras(kind, x, weights, use_bias), atol=1e-12)
    for a, b in zip(layer.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    # PyTorch layout inside: kernel = W_xh.T, recurrent_kernel = W_hh.T (w_hh), feedback_kernel = W_yh.T, ...
    assert_close(layer.cell.weight_ih, torch.from_numpy(weights[0]).T)
    if kind in WITH_OUTPUT:
        names = ["weight_ih", "weight_hh", "weight_yh", "bias", "weight_hy", "output_bias"]
        names = [n for n in names if getattr(layer.cell, n) is not None]
        assert_close(layer.cell.weight_yh, torch.from_numpy(weights[names.index("weight_yh")]).T)
        assert_close(layer.cell.weight_hy, torch.from_numpy(weights[names.index("weight_hy")]).T)


def test_set_weights_refuses_another_kinds_layout(rng):
    layer = make("complete", rng)
    with pytest.raises(ShapeError, match="expected 6 arrays"):
        layer.set_weights(make("indirect", rng).get_weights())


# -- gradients -------------------------------------------------------------------------------------


class _Step(torch.nn.Module):
    def __init__(self, cell, recurrent_mask=None):
        super().__init__()
        self.cell, self.recurrent_mask = cell, recurrent_mask

    def forward(self, x, *state):
        y, new_state = self.cell.step(x, self.cell.State(*state), self.recurrent_mask)
        return (y, *new_state)


def gradcheck_step(cell, recurrent_mask=None, batch: int = 2) -> bool:
    """``gradcheck`` of one float64 step w.r.t. input, every state tensor (its own size) and every parameter."""
    gen = torch.Generator().manual_seed(3)
    step = _Step(cell, recurrent_mask)
    names = [f"cell.{n}" for n, _ in cell.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in cell.parameters()]
    x = torch.randn(batch, cell.input_size, dtype=torch.float64, generator=gen, requires_grad=True)
    zeros = cell.zero_state(batch, dtype=torch.float64, device="cpu")
    state = [(0.5 * torch.randn(z.shape, dtype=torch.float64, generator=gen)).requires_grad_() for z in zeros]

    def f(x, *rest):
        return torch.func.functional_call(step, dict(zip(names, rest[len(state) :])), (x, *rest[: len(state)]))

    return torch.autograd.gradcheck(f, (x, *state, *params), eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@pytest.mark.parametrize("kind", FEEDBACK_KINDS)
def test_gradcheck_step(kind, activation, use_bias):
    cell = SimpleRNNCell(3, 2, feedback=kind, output_units=output_units(kind), activation=activation, use_bias=use_bias)
    assert gradcheck_step(cell.double())


@pytest.mark.parametrize("kind", ["direct", "complete"])
def test_gradcheck_step_with_recurrent_mask(kind):
    cell = SimpleRNNCell(3, 2, feedback=kind, output_units=output_units(kind), dtype=torch.float64)
    assert gradcheck_step(cell, recurrent_mask=torch.tensor([[0.0, 2.0], [2.0, 2.0]], dtype=torch.float64))


# -- kernels: lateral's fused kernel is tested in test_elman.py; direct's elementwise recurrence here --


@pytest.mark.parametrize("with_initial_state", [False, True], ids=["zero0", "init0"])
@pytest.mark.parametrize("mask_kind", MASK_KINDS)
@pytest.mark.parametrize("go_backwards", [False, True], ids=["fwd", "bwd"])
@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
def test_direct_kernel_matches_reference(return_sequences, go_backwards, mask_kind, with_initial_state):
    """Values, final states and every gradient (weights, input, initial state), float64."""
    check_fused_matches_reference(
        SimpleRNN,
        feedback="direct",
        return_sequences=return_sequences,
        go_backwards=go_backwards,
        mask_kind=mask_kind,
        with_initial_state=with_initial_state,
        use_bias=True,
    )


@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("activation", ["tanh", "relu", "linear"])
def test_direct_kernel_matches_reference_activations(activation, use_bias):
    check_fused_matches_reference(
        SimpleRNN,
        feedback="direct",
        activation=activation,
        return_sequences=True,
        go_backwards=False,
        mask_kind="holes",
        with_initial_state=True,
        use_bias=use_bias,
    )


def test_direct_kernel_float32(rng):
    layer = SimpleRNN(H, feedback="direct", return_sequences=True, input_shape=(None, F))
    randomize(layer, rng)
    reference = twin(layer, implementation="reference")
    x = torch.from_numpy(rng.normal(size=(B, T, F)).astype(np.float32))
    for kw in ({}, mask_kwargs("left")):
        assert_close(layer(x, **kw), reference(x, **kw), atol=1e-6, rtol=1e-6)
    assert layer.kernel == "fused" and reference.kernel == "reference"


def test_which_kernel_runs():
    x = torch.randn(2, 4, 3)
    cases = [("lateral", "tanh", "fused"), ("direct", "tanh", "fused"), ("direct", "sigmoid", "reference")]
    cases += [("indirect", "tanh", "reference"), ("complete", "relu", "reference")]
    for kind, activation, kernel in cases:
        layer = SimpleRNN(3, feedback=kind, output_units=output_units(kind), activation=activation)
        layer(x)
        assert layer.kernel == kernel, (kind, activation)
    layer = SimpleRNN(3, feedback="direct", recurrent_dropout=0.3)
    layer(x, training=True)
    assert layer.kernel == "reference"
    layer(x, training=False)
    assert layer.kernel == "fused"
    with pytest.raises(ConfigError, match=r"implementation='fused' cannot run activation 'sigmoid' \(the direct kernel has"):
        SimpleRNN(3, feedback="direct", activation="sigmoid", implementation="fused", input_shape=(None, 3))


# -- what each kind feeds back ----------------------------------------------------------------------


def step_jacobian(cell, state) -> torch.Tensor:
    """``d h_t / d h_{t-1}`` of one step, ``(H, H)`` for a batch of one."""
    x = torch.randn(1, cell.input_size, dtype=torch.float64)

    def h_next(h):
        return cell.step(x, state._replace(h=h))[1].h[0]

    return torch.autograd.functional.jacobian(h_next, state.h)[:, 0, :]


def test_direct_each_neuron_feeds_only_itself(rng):
    direct = SimpleRNNCell(3, 4, feedback="direct", dtype=torch.float64)
    lateral = SimpleRNNCell(3, 4, dtype=torch.float64)
    h = SimpleRNNState(torch.from_numpy(rng.normal(size=(1, 4))))
    J = step_jacobian(direct, h)
    assert torch.count_nonzero(J - torch.diag(J.diagonal())) == 0 and torch.all(J.diagonal() != 0)
    assert torch.count_nonzero(step_jacobian(lateral, h) - torch.diag(step_jacobian(lateral, h).diagonal())) > 0


def test_direct_is_lateral_with_a_diagonal_recurrent_matrix(rng):
    torch.manual_seed(5)
    direct = SimpleRNN(H, feedback="direct", return_sequences=True, input_shape=(None, F)).double()
    torch.manual_seed(5)
    lateral = SimpleRNN(H, return_sequences=True, input_shape=(None, F)).double()
    # the same draw: w_hh is the diagonal of the orthogonal W_hh lateral gets, W_xh is equal
    assert_close(direct.cell.weight_hh, lateral.cell.weight_hh.diagonal())
    assert_close(direct.cell.weight_ih, lateral.cell.weight_ih)
    randomize(direct, rng)
    with torch.no_grad():
        lateral.cell.weight_ih.copy_(direct.cell.weight_ih)
        lateral.cell.weight_hh.copy_(torch.diag(direct.cell.weight_hh))
        lateral.cell.bias.copy_(direct.cell.bias)
    x = torch.from_numpy(rng.normal(size=(B, T, F)))
    assert_close(direct(x, **mask_kwargs("holes")), lateral(x, **mask_kwargs("holes")), atol=1e-12, rtol=0)


def test_direct_initialiser_is_the_diagonal():
    cell = SimpleRNNCell(3, 4, feedback="direct", recurrent_initializer=Identity(gain=0.9), dtype=torch.float64)
    assert torch.all(cell.weight_hh == 0.9) and cell.weight_hh.shape == (4,)
    cell = SimpleRNNCell(3, 4, feedback="direct", recurrent_initializer="glorot_uniform", dtype=torch.float64)
    assert cell.weight_hh.abs().max() <= math.sqrt(6 / 8) and cell.weight_hh.std() > 0


@pytest.mark.parametrize("kind", WITH_OUTPUT)
def test_output_is_fed_back(rng, kind):
    """W_yh changes every later output but not the first one (y_0 = 0); W_hy changes the first one too."""
    layer = make(kind, rng, return_sequences=True)
    x = torch.from_numpy(rng.normal(size=(B, T, F)))
    before = layer(x).detach()
    assert before.shape == (B, T, O)
    with torch.no_grad():
        layer.cell.weight_yh.add_(torch.from_numpy(rng.normal(0.0, 0.5, size=(H, O))))
    after = layer(x).detach()
    assert torch.equal(after[:, 0], before[:, 0])
    assert bool(((after[:, 1:] - before[:, 1:]).abs() > 1e-6).all())
    # from a non-zero y_0, the first step sees it too
    init = [torch.zeros(B, H, dtype=torch.float64)] if kind == "complete" else []
    y0 = torch.ones(B, O, dtype=torch.float64)
    assert not torch.allclose(layer(x, initial_state=[*init, y0])[:, 0], after[:, 0])
    with torch.no_grad():
        layer.cell.weight_hy.add_(0.1)
    assert not torch.allclose(layer(x)[:, 0], after[:, 0])


def test_indirect_does_not_use_the_previous_hidden_state(rng):
    """Indirect's next step depends on y_{t-1} alone: its state is JordanState(y)."""
    cell = SimpleRNNCell(3, 4, feedback="indirect", output_units=O, dtype=torch.float64)
    assert cell.State is JordanState and cell.output_state == "y"
    x, y0 = torch.from_numpy(rng.normal(size=(2, 3))), torch.from_numpy(rng.normal(size=(2, O)))
    y1, s1 = cell.step(x, JordanState(y0))
    assert s1.y is y1 and y1.shape == (2, O)
    assert SimpleRNNCell(3, 4, feedback="complete", output_units=O).State is ElmanJordanState


# -- the layer: outputs, states, masks -------------------------------------------------------------


@pytest.mark.parametrize("kind", FEEDBACK_KINDS)
def test_return_shapes_and_states(rng, kind):
    layer = make(kind, rng, return_state=True)
    out, *states = layer(torch.from_numpy(rng.normal(size=(B, T, F))))
    assert out.shape == (B, out_size(kind))
    assert layer.state_names == {"lateral": ("h",), "direct": ("h",), "indirect": ("y",), "complete": ("h", "y")}[kind]
    assert [tuple(s.shape) for s in states] == [(B, H) if n == "h" else (B, O) for n in layer.state_names]
    assert torch.equal(out, states[-1])  # the output is the last y (h for lateral and direct)


@pytest.mark.parametrize("mask_kind", ["lengths", "left", "holes"])
@pytest.mark.parametrize("go_backwards", [False, True], ids=["fwd", "bwd"])
@pytest.mark.parametrize("kind", FEEDBACK_KINDS)
def test_each_sequence_as_if_alone(rng, kind, go_backwards, mask_kind):
    """Padded steps keep the whole state (h and y) and output zero; each row gets what it gets alone."""
    layer = make(kind, rng, return_sequences=True, return_state=True, go_backwards=go_backwards)
    mask = mask_of(mask_kind)
    x = torch.from_numpy(rng.normal(size=(B, T, F)))
    x[~mask] = 100.0
    check_each_sequence_alone(layer, x, mask, mask_kwargs(mask_kind), reversed_output=go_backwards)


@pytest.mark.parametrize("go_backwards", [False, True], ids=["fwd", "bwd"])
@pytest.mark.parametrize("kind", WITH_OUTPUT)
def test_last_output_is_the_last_real_y(rng, kind, go_backwards):
    seq = make(kind, rng, return_sequences=True, go_backwards=go_backwards)
    last = twin(seq, return_sequences=False)
    x = torch.from_numpy(rng.normal(size=(B, T, F)))
    lengths = torch.tensor([6, 3, 1, 5])
    y_seq, y_last = seq(x, lengths=lengths), last(x, lengths=lengths)
    assert y_last.shape == (B, O)
    for b, n in enumerate(lengths.tolist()):
        last_step = T - 1 if go_backwards else n - 1  # backwards, the real steps are reversed to the end
        assert_close(y_last[b], y_seq[b, last_step], atol=0, rtol=0)


@pytest.mark.parametrize("kind", WITH_OUTPUT)
def test_initial_state_and_stateful(rng, kind):
    layer = make(kind, rng, return_sequences=True, return_state=True)
    x = torch.from_numpy(rng.normal(size=(B, T, F)))
    whole, *final = layer(x)
    first, *mid = layer(x[:, :2])
    second, *final2 = layer(x[:, 2:], initial_state=mid)
    assert_close(torch.cat([first, second], 1), whole, atol=1e-12, rtol=0)
    for a, b in zip(final, final2):
        assert_close(a, b, atol=1e-12, rtol=0)
    stateful = twin(layer, stateful=True)
    stateful(x[:, :2])
    assert_close(stateful(x[:, 2:])[0], second, atol=1e-12, rtol=0)
    stateful.reset_states()
    assert_close(stateful(x[:, :2])[0], first, atol=1e-12, rtol=0)


def test_initial_state_shapes_are_checked(rng):
    layer = make("complete", rng)
    x = torch.zeros(B, T, F, dtype=torch.float64)
    h, y = torch.zeros(B, H, dtype=torch.float64), torch.zeros(B, O, dtype=torch.float64)
    with pytest.raises(ShapeError, match=r"expected initial state y of shape \(4, 2\), got \(4, 5\)"):
        layer(x, initial_state=[h, h])
    with pytest.raises(ShapeError, match=r"2 tensors \(h, y\), got 1"):
        layer(x, initial_state=[h])
    with pytest.raises(ShapeError, match=r"1 tensors \(y\), got 2"):
        make("indirect", rng)(x, initial_state=[h, y])


@pytest.mark.parametrize("kind", WITH_OUTPUT)
def test_bidirectional(rng, kind):
    layer = Bidirectional(make(kind, rng, return_sequences=True, return_state=True))
    randomize(layer, rng)
    out, *states = layer(torch.from_numpy(rng.normal(size=(B, T, F))))
    assert out.shape == (B, T, 2 * O)
    assert len(states) == 2 * len(layer.forward_layer.state_names)
    mask = mask_of("holes")
    x = torch.from_numpy(rng.normal(size=(B, T, F)))
    check_each_sequence_alone(layer, x, mask, mask_kwargs("holes"), reversed_output=False)


def test_recurrent_dropout(rng):
    """It drops h_{t-1} in W_hh h_{t-1} / w_hh ⊙ h_{t-1}; only while training."""
    for kind in ("direct", "complete"):
        layer = make(kind, rng, recurrent_dropout=0.5)
        x = torch.from_numpy(rng.normal(size=(B, T, F)))
        assert torch.equal(layer(x, training=False), layer(x, training=False))
        torch.manual_seed(1)
        a = layer(x, training=True)
        torch.manual_seed(2)
        assert not torch.allclose(a, layer(x, training=True))


# -- configuration, saving, errors -----------------------------------------------------------------


@pytest.mark.parametrize("kind", FEEDBACK_KINDS)
def test_config_round_trip(rng, kind):
    layer = make(kind, rng, return_sequences=True)
    config = layer.get_config()
    assert config["feedback"] == kind and config["output_units"] == output_units(kind)
    clone = twin(layer)
    assert clone.get_config() == config
    x = torch.from_numpy(rng.normal(size=(B, T, F)))
    assert torch.equal(clone(x), layer(x))


@pytest.mark.parametrize("kind", FEEDBACK_KINDS)
def test_save_and_load(tmp_path, rng, kind):
    model = Sequential(
        [SimpleRNN(H, feedback=kind, output_units=output_units(kind), return_sequences=True, input_shape=(None, F))]
    )
    randomize(model.layers[0], rng)
    x = rng.normal(size=(B, T, F)).astype(np.float32)
    before = model.predict(x)
    assert before.shape == (B, T, out_size(kind))
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.layers[0].feedback == kind and loaded.layers[0].output_units == output_units(kind)
    np.testing.assert_array_equal(loaded.predict(x), before)


def test_summary_shows_the_output_units():
    model = Sequential([SimpleRNN(H, feedback="complete", output_units=O, input_shape=(None, F))])
    text = model.summary(print_fn=lambda s: None)
    assert f"(None, {O})" in text


def test_unknown_feedback_lists_the_four():
    with pytest.raises(UnknownNameError) as info:
        SimpleRNN(H, feedback="jordan")
    message = str(info.value)
    assert "'jordan'" in message
    for kind in FEEDBACK_KINDS:
        assert f"'{kind}'" in message
    with pytest.raises(UnknownNameError, match="unknown feedback"):
        SimpleRNNCell(3, 4, feedback="Lateral")


@pytest.mark.parametrize("kind", WITH_OUTPUT)
def test_output_units_required(kind):
    with pytest.raises(ConfigError, match=rf"feedback='{kind}' .* expected output_units=<positive int>, got output_units=None"):
        SimpleRNN(H, feedback=kind)
    with pytest.raises(ConfigError, match="expected output_units=<positive int>"):
        SimpleRNNCell(3, 4, feedback=kind)


@pytest.mark.parametrize("kind", ["lateral", "direct"])
def test_output_units_refused(kind):
    with pytest.raises(ConfigError, match=rf"got output_units=3 with feedback='{kind}' \(put a Dense\(3\) after the layer"):
        SimpleRNN(H, feedback=kind, output_units=3)


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "3"])
def test_output_units_must_be_positive(bad):
    with pytest.raises(ConfigError, match=rf"expected output_units to be a positive integer, got {bad!r}"):
        SimpleRNN(H, feedback="indirect", output_units=bad)


def test_output_units_numpy_integer():
    assert SimpleRNN(H, feedback="indirect", output_units=np.int64(3)).get_config()["output_units"] == 3


def test_indirect_refuses_recurrent_dropout():
    with pytest.raises(ConfigError, match=r"feedback='indirect' does not have; expected recurrent_dropout=0.0, got 0.2"):
        SimpleRNN(H, feedback="indirect", output_units=O, recurrent_dropout=0.2)
    cell = SimpleRNNCell(3, 4, feedback="indirect", output_units=O)
    with pytest.raises(ConfigError, match="no h_{t-1} product"):
        cell.step(torch.zeros(1, 3), cell.zero_state(1, dtype=torch.float32, device="cpu"), torch.ones(1, 4))


@pytest.mark.parametrize("kind", WITH_OUTPUT)
def test_fused_refused_for_the_output_kinds(kind):
    with pytest.raises(ConfigError, match=rf"implementation='fused' cannot run feedback='{kind}'"):
        SimpleRNN(H, feedback=kind, output_units=O, implementation="fused", input_shape=(None, F))
