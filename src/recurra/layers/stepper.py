"""Recurrent layers run one step at a time, the states carried inside: the path of generation and streaming.

A stack of ``L`` one-way recurrent layers maps ``x_t (B, F)`` to ``y_t (B, H_L)``; ``Stepper`` keeps each
layer's state between calls and runs each layer's cell with ``inference_step`` — one compiled ATen call
per layer for the LSTM, the GRU and the Elman network — instead of the layer's whole-sequence machinery
(input checks, masks, a kernel built for ``T`` steps), which costs more than the arithmetic of one step::

    s_t^(1) = cell_1(x_t, s_{t-1}^(1)),   s_t^(l) = cell_l(y_t^(l-1), s_{t-1}^(l)),   y_t = y_t^(L)

It gives what the layers give over the whole sequence, step after step (tests assert it for every cell).

>>> import torch
>>> from recurra.layers import LSTM, GRU
>>> layers = [LSTM(8, input_shape=(None, 3)), GRU(5, input_shape=(None, 8))]
>>> stepper = Stepper(layers, batch=2)
>>> stepper(torch.zeros(2, 3)).shape
torch.Size([2, 5])
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from ..errors import ConfigError, InputValueError

StackState = list[list[torch.Tensor]]  # per layer, its state tensors, each (B, ·)


def step_cells(layers: Sequence[nn.Module]) -> list[nn.Module]:
    """The cells of ``layers`` when each is a built, one-way recurrent layer; otherwise a ``ConfigError``."""
    cells = []
    for i, layer in enumerate(layers):
        cell = getattr(layer, "cell", None)
        if cell is None or not hasattr(cell, "step"):
            raise ConfigError(
                f"expected recurrent layers with a cell (recurra.layers.LSTM, GRU, ...), got {type(layer).__name__} "
                f"at position {i}; a Bidirectional layer reads the whole sequence and cannot step"
            )
        if getattr(layer, "go_backwards", False):
            raise ConfigError(f"layer {i} has go_backwards=True: it reads the sequence from its end and cannot step forward")
        if not getattr(layer, "built", True):
            raise ConfigError(f"layer {i} is not built: call it once on a batch, or give input_shape")
        cells.append(cell)
    return cells


def one_step(cell: nn.Module, x_t: torch.Tensor, state: Any) -> Any:
    """The cell's state after ``x_t``: its ``inference_step``, or its ``step`` for a cell that has only the protocol."""
    fast = getattr(cell, "inference_step", None)
    return fast(x_t, state) if fast is not None else cell.step(x_t, state)[1]


def output_of(cell: nn.Module, state: Any) -> torch.Tensor:
    """The field of ``state`` that is the cell's output ``y_t``."""
    return getattr(state, getattr(cell, "output_state", "h"))


def step_stack(cells: Sequence[nn.Module], x_t: torch.Tensor, states: StackState | None) -> tuple[torch.Tensor, StackState]:
    """``(y_t, new states)`` of ``cells`` stacked, from ``states`` (zeros when ``None``); one call per cell.
    Call it under ``torch.no_grad()`` (it records no graph worth keeping)."""
    new: StackState = []
    y = x_t  # (B, F)
    for i, cell in enumerate(cells):
        if states is None:
            state = cell.zero_state(y.shape[0], dtype=y.dtype, device=y.device)
        else:
            state = cell.State(*states[i])
        state = one_step(cell, y, state)
        y = output_of(cell, state)  # (B, H)
        new.append(list(state))
    return y, new


class Stepper:
    """Runs one-way recurrent layers step by step: ``y_t = stepper(x_t)``, ``x_t (B, F) -> y_t (B, H)``.

    ``batch`` and ``dtype`` fix the shape of the zero states ``reset()`` makes; ``states`` may be set (a
    list per layer of its state tensors, as the layers return them with ``return_state=True``) to start
    from given states. Runs without gradients: it is for inference.
    """

    def __init__(self, layers: Sequence[nn.Module], *, batch: int = 1, dtype: torch.dtype | None = None) -> None:
        self.layers = list(layers)
        self.cells = step_cells(self.layers)
        weight = next(self.cells[0].parameters(), None) if self.cells else None
        self.dtype = dtype or (weight.dtype if weight is not None else torch.get_default_dtype())
        self.device = weight.device if weight is not None else torch.device("cpu")
        self.batch = int(batch)
        self.states: StackState | None = None
        self.reset()

    def reset(self, states: StackState | None = None) -> None:
        """Start again from zero states, or from ``states``."""
        if states is None:
            states = [list(c.zero_state(self.batch, dtype=self.dtype, device=self.device)) for c in self.cells]
        self.states = [list(s) for s in states]

    def __call__(self, x_t: torch.Tensor) -> torch.Tensor:
        """``y_t (B, H)`` after the step ``x_t (B, F)``; the states move on."""
        B, F = self.states[0][0].shape[0], self.cells[0].input_size
        if x_t.dim() != 2 or tuple(x_t.shape) != (B, F):
            raise InputValueError(f"Stepper expected one step of shape (batch={B}, features={F}), got {tuple(x_t.shape)}")
        if x_t.dtype != self.dtype:
            raise InputValueError(f"Stepper expected input of dtype {self.dtype} (its weights), got {x_t.dtype}")
        with torch.no_grad():
            y, self.states = step_stack(self.cells, x_t, self.states)
        return y


def advance_layers(
    layers: Sequence[nn.Module], x: torch.Tensor, states: Sequence[list[torch.Tensor] | None]
) -> tuple[torch.Tensor, StackState]:
    """One-way recurrent layers (built with ``return_state=True``) over a block ``x (B, n, F)`` from ``states``
    (per layer, its state tensors, or ``None`` for zeros): ``(y (B, n, H), the states after)``. A block of one
    step in evaluation goes through the cells' ``inference_step``; longer blocks through the layers' kernels."""
    new: StackState = []
    if x.shape[1] == 1 and not any(layer.training for layer in layers):
        y = x[:, 0]  # (B, F)
        for layer, s in zip(layers, states):
            cell = layer.cell
            state = cell.zero_state(y.shape[0], dtype=y.dtype, device=y.device) if s is None else cell.State(*s)
            state = one_step(cell, y, state)
            y = output_of(cell, state)  # (B, H)
            new.append(list(state))
        return y[:, None], new  # (B, 1, H)
    for layer, s in zip(layers, states):
        out = layer(x, initial_state=s)
        x = out[0]  # (B, n, H)
        new.append(list(out[1:]))
    return x, new
