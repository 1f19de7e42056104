"""The extension contract: a cell written here, outside recurra, following only the cell protocol
(``recurra.cells.base``), works everywhere a built-in one does — the shared layer harness, masks,
``Bidirectional``, stacking in a ``Sequential``, saving, ``trace`` (which reads its equations from the
cell) and ``gradient_flow``."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest
import torch
from torch import nn

from recurra import Bidirectional, Dense, Sequential, load_model
from recurra.cells.base import RecurrentCell, recurrent_input
from recurra.inspect import gradient_flow, trace
from recurra.layers.base import register
from recurra.layers.recurrent import Recurrent
from tests.helpers import as_tuple, check_each_sequence_alone, mask_of
from tests.layers.harness import CHECKS, Case, _floats


class LeakyState(NamedTuple):
    h: torch.Tensor  # (B, H)


class LeakyCell(RecurrentCell):
    """A leaky-integrator cell: ``c_t = tanh(W x_t + U h_{t-1} + b)``, ``h_t = (1 - α) h_{t-1} + α c_t``."""

    State = LeakyState
    quantities = {"c": "candidate c_t = tanh(W x_t + U h_{t-1} + b)", "h": "state h_t = (1 - α) h_{t-1} + α c_t"}
    alpha = 0.5

    def __init__(self, input_size, units, *, dtype=None, device=None, **_ignored):
        super().__init__()
        self.input_size, self.units = input_size, units
        self.W = self._new_weight(units, input_size, init="glorot_uniform", dtype=dtype, device=device)
        self.U = self._new_weight(units, units, init="orthogonal", dtype=dtype, device=device)
        self.b = nn.Parameter(torch.zeros(units, dtype=dtype, device=device))

    def step_quantities(self, x_t, state, recurrent_mask=None):
        h_prev = recurrent_input(state.h, recurrent_mask)
        c = torch.tanh(x_t @ self.W.T + h_prev @ self.U.T + self.b)  # (B, H)
        h = (1 - self.alpha) * state.h + self.alpha * c
        return {"c": c, "h": h}, LeakyState(h)


@register
class LeakyRNN(Recurrent):
    """A layer over the user's cell: all it says is which cell to loop."""

    cell_class = LeakyCell


def _layer(**kw) -> LeakyRNN:
    return LeakyRNN(4, **kw)


CASES = [
    Case("leaky", lambda: _layer(), _floats(2, 5, 3), (2, 4), 3 * 4 + 4 * 4 + 4),
    Case(
        "leaky_seq_backwards_masked_dropout",
        lambda: _layer(return_sequences=True, go_backwards=True, dropout=0.1, recurrent_dropout=0.1),
        _floats(2, 5, 3),
        (2, 5, 4),
        3 * 4 + 4 * 4 + 4,
        {"lengths": torch.tensor([5, 3])},
    ),
    Case("leaky_built", lambda: _layer(input_shape=(None, 3)), _floats(2, 5, 3), (2, 4), 3 * 4 + 4 * 4 + 4),
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_the_shared_harness(case, check):
    check(case)


@pytest.mark.parametrize("kind", ["lengths", "left", "holes"])
def test_masks_give_each_sequence_what_it_gets_alone(kind):
    torch.manual_seed(0)
    layer = _layer(return_sequences=True, return_state=True).double()
    x = torch.randn(4, 6, 3, dtype=torch.float64)
    layer(x)
    layer = layer.double()
    mask = mask_of(kind)
    check_each_sequence_alone(layer, x, mask, {"mask": mask}, reversed_output=False)
    assert layer.kernel == "reference"  # no fast kernel: the cell's equations ran


def test_bidirectional_stacked_saved_and_loaded(tmp_path):
    torch.manual_seed(0)
    model = Sequential([Bidirectional(_layer(return_sequences=True), input_shape=(None, 3)), _layer(), Dense(1)])
    x = torch.randn(3, 7, 3)
    y = model(x)
    assert tuple(y.shape) == (3, 1)
    model.save(tmp_path / "m")
    again = load_model(tmp_path / "m")
    assert torch.equal(again(x), y)
    y_f, y_b = (as_tuple(lay(x))[0] for lay in (model.layers[0].forward_layer, model.layers[0].backward_layer))
    assert torch.allclose(model.layers[0](x), torch.cat([y_f, y_b.flip(1)], -1))


def test_trace_reads_the_equations_from_the_cell():
    torch.manual_seed(0)
    layer = _layer(return_sequences=True)
    x = torch.randn(2, 5, 3)
    y = layer(x)
    tr = trace(layer, x)
    assert tr.cell == "LeakyCell" and tr.names == ["c", "h"]
    assert tr.descriptions == LeakyCell.quantities
    np.testing.assert_allclose(tr["h"], y.detach().numpy(), atol=1e-6)


def test_gradient_flow_runs_through_the_users_cell():
    torch.manual_seed(0)
    model = Sequential([_layer(input_shape=(None, 3)), Dense(1)])
    x, y = np.random.default_rng(0).normal(size=(4, 20, 3)), np.zeros((4, 1))
    flow = gradient_flow(model, x, y, jacobian_samples=2)
    assert flow.grad_norm.shape == (21,) and np.isfinite(flow.grad_norm).all()
    assert np.isfinite(flow.jacobian_norm) and flow.jacobian_norm > 0


def test_the_stepper_runs_the_users_cell_one_step_at_a_time():
    from recurra.layers import Stepper

    layer = _layer(return_sequences=True)
    x = torch.randn(2, 7, 3)
    with torch.no_grad():
        whole = layer(x)  # (B, T, H)
    stepper = Stepper([layer], batch=2)
    steps = torch.stack([stepper(x[:, t]) for t in range(7)], 1)
    torch.testing.assert_close(steps, whole, atol=1e-6, rtol=0)
