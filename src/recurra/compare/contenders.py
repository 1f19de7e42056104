"""The contenders of a comparison: each cell's network, its parameter count, and the width that meets a
parameter budget."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..data.tasks import Task
from ..errors import unknown_name
from ..layers import Dense
from ..layers.family import recurrent_layer
from ..model import Sequential

RECURRENT = ("rnn", "lstm", "gru", "indrnn", "mingru", "minlstm")  # the family, in the order tables list it
CELLS = (*RECURRENT, "esn", "mlp")
_LIMIT_UNITS = 1_000_000


def _recurrent_layer_count(cell: str, H: int, F: int) -> int:
    """Trainable parameters of one recurrent layer of ``cell`` with ``H`` units on ``F`` inputs."""
    return {
        "rnn": H * F + H * H + H,
        "lstm": 4 * (H * F + H * H + H),
        "gru": 3 * (H * F + H * H) + 6 * H,
        "indrnn": H * F + 2 * H,
        "mingru": 2 * (H * F + H),
        "minlstm": 3 * (H * F + H),
    }[cell]


def parameter_count(cell: str, units: int, task: Task, layers: int = 1) -> int:
    """Trainable parameters of ``cell`` with ``units`` on ``task`` (``layers`` stacked recurrent layers
    of ``units`` each + the output layer), from the layers' shapes: ``F`` features, ``T`` steps, ``O``
    outputs per step, ``H = units``. One recurrent layer with ``F_in`` inputs (``F`` for the first,
    ``H`` for the others):

    ========  ========================================================
    rnn       ``H F_in + H² + H``
    lstm      ``4 (H F_in + H² + H)``
    gru       ``3 (H F_in + H²) + 6 H`` (``reset_after``: two biases)
    indrnn    ``H F_in + 2 H``
    mingru    ``2 (H F_in + H)``
    minlstm   ``3 (H F_in + H)``
    mlp       ``T F H + H`` (one hidden layer on the flattened window; ``layers`` does not apply)
    esn       ``(H + 1) O`` (the fitted readout only; ``layers`` does not apply)
    ========  ========================================================

    plus the output layer ``H O + O`` (``mlp`` with one output per step: ``H T O + T O``).
    """
    H, F, T, O = units, task.features, task.length, task.n_outputs
    if cell in RECURRENT:
        stack = _recurrent_layer_count(cell, H, F) + (layers - 1) * _recurrent_layer_count(cell, H, H)
        return stack + H * O + O
    if cell == "mlp":
        out = T * O if task.kind == "sequence_classification" else O
        return T * F * H + H + H * out + out
    if cell == "esn":
        return (H + 1) * O
    raise unknown_name("cell", cell, CELLS)


def units_for_budget(cell: str, params: int, task: Task, *, esn_max_units: int = 400, layers: int = 1) -> int:
    """The width whose ``parameter_count`` is closest to ``params`` (the smaller on a tie); at least 1.
    For ``esn``, at most ``esn_max_units``."""
    best, best_gap = 1, abs(parameter_count(cell, 1, task, layers) - params)
    H = 1
    while H < _LIMIT_UNITS:
        H += 1
        count = parameter_count(cell, H, task, layers)
        gap = abs(count - params)
        if gap < best_gap:
            best, best_gap = H, gap
        if count > params:
            break
    return min(best, esn_max_units) if cell == "esn" else best


class FlatMLP(nn.Module):
    """The memoryless reference: ``(B, T, F) -> (B, T·F) -> Dense(H, relu) -> Dense(out)``, with
    ``out = (O,)`` or ``(T, O)``; softmax over ``O`` for classification."""

    def __init__(self, steps: int, features: int, units: int, out_shape: tuple[int, ...], softmax: bool):
        super().__init__()
        self.hidden = nn.Linear(steps * features, units)
        self.out = nn.Linear(units, int(np.prod(out_shape)))
        self.out_shape, self.softmax = tuple(out_shape), softmax

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.hidden(x.reshape(x.shape[0], -1)))  # (B, T, F) -> (B, T·F) -> (B, H)
        y = self.out(h).reshape(x.shape[0], *self.out_shape)  # (B, O) or (B, T, O)
        return torch.softmax(y, -1) if self.softmax else y


def build_model(cell: str, units: int, task: Task, layers: int = 1) -> nn.Module:
    """The network of a trained contender (every cell but ``esn``), weights created at once:
    ``layers`` recurrent layers of ``units`` (each but the last returning its whole sequence), then
    ``Dense`` outputs."""
    classify = task.kind != "regression"
    per_step = task.kind == "sequence_classification"
    T, F, O = task.length, task.features, task.n_outputs
    if cell == "mlp":
        return FlatMLP(T, F, units, (T, O) if per_step else (O,), classify)
    if cell not in RECURRENT:
        raise unknown_name("cell", cell, [c for c in CELLS if c != "esn"])
    extra = {"recurrent_max": 2.0 ** (1.0 / T)} if cell == "indrnn" else {}  # |u| <= 2^(1/T), as in Li et al.
    stack = [
        recurrent_layer(cell, units, return_sequences=per_step or i < layers - 1, input_shape=(T, F) if i == 0 else None, **extra)
        for i in range(layers)
    ]
    return Sequential([*stack, Dense(O, activation="softmax" if classify else None)])



__all__ = ["RECURRENT", "CELLS", "parameter_count", "units_for_budget", "FlatMLP", "build_model"]
