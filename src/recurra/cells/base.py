"""The cell protocol: a cell is one time step; a layer is the loop.

A cell is a ``torch.nn.Module`` with

- ``units``: the size ``H`` of its hidden state, and of its output ``y_t`` (except as below);
- ``State``: a ``NamedTuple`` class naming its state tensors, each ``(B, H)``
  (``SimpleRNNState(h)``, ``LSTMState(h, c)``, ``GRUState(h)``); a cell whose state tensors have
  other sizes overrides ``zero_state``, which gives the shapes initial states are checked against
  (``SimpleRNNCell`` with ``feedback="indirect"``: ``JordanState(y)``, ``y (B, output_units)``);
- ``output_state`` (optional, default ``"h"``): the ``State`` field holding ``y_t``, the layer's
  output when ``return_sequences=False`` (``"y"`` for ``SimpleRNNCell`` with indirect or complete
  feedback, whose ``y_t`` is ``(B, output_units)``, not ``(B, H)``);
- ``step(x_t, state, recurrent_mask=None) -> (y_t, new_state)``: the reference equations for one
  step, ``x_t`` of shape ``(B, F)``; ``recurrent_mask`` (``(B, H)`` or ``None``) multiplies the
  previous hidden state where it enters the recurrent products (recurrent dropout);
- ``step_quantities(x_t, state, recurrent_mask=None) -> ({name: tensor}, new_state)``: the same step
  with every named quantity of the equations (gates, candidates, states), which
  ``recurra.inspect.trace`` records. recurra's cells write their equations once, here, and the base
  class's ``step`` returns the output field of the new state; a cell may write ``step`` alone
  instead, and then its quantities are the tensors of its new state;
- ``quantities`` (optional): ``{name: equation}`` for each quantity ``step_quantities`` returns, in
  the code's symbols, and ``gates``: the names whose values lie in ``[0, 1]``; ``recurra.inspect``
  reads both to label its traces (the equations are written here, next to the code, and nowhere else);
- ``inference_step(x_t, state) -> new_state`` (optional): the same step for inference (no dropout, no
  recurrent mask), in as few calls as the cell allows — one compiled ATen call for the LSTM, the GRU and
  the Elman network (``torch.lstm_cell``, ``torch.gru_cell``, ``torch.rnn_tanh_cell``); generation,
  streaming and ``recurra.layers.Stepper`` run it one token or frame at a time. By default ``step``'s;
- ``fused_reason() -> str | None``: why the fused kernel cannot run this cell's options, or ``None``;
- ``fused(x, state) -> (y, state)`` over a whole ``(B, T, F)`` batch, and
  ``fused_packed(data, batch_sizes, state)`` over a packed batch, when ``fused_reason()`` is ``None``.

``Recurrent`` layers, ``Bidirectional`` and ``Sequential`` rely on nothing else, so a user-written
cell that follows this protocol works everywhere a built-in one does (the fused methods are optional).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import nn

from .. import initializers
from ..activations import ActivationsByName


class RecurrentCell(ActivationsByName, nn.Module):
    """Base class of recurra's cells (see the module docstring for the protocol)."""

    State: type = NamedTuple
    units: int
    input_size: int
    quantities: dict[str, str] = {}  # name -> its equation, for each quantity step_quantities returns
    gates: frozenset[str] = frozenset()  # the quantities whose values lie in [0, 1]

    @property
    def trace_output(self) -> str:
        """The quantity that is the layer's output ``y_t`` (``"a"`` for the LSTM, else ``output_state``)."""
        return getattr(self, "output_state", "h")

    def trace_reason(self) -> str | None:
        """Why ``recurra.inspect.trace`` cannot replay this cell from its inputs alone, or ``None``."""
        return None

    def zero_state(self, batch: int, *, dtype: torch.dtype, device: torch.device) -> Any:
        """The all-zeros initial state for a batch of ``batch`` sequences."""
        return self.State(*(torch.zeros(batch, self.units, dtype=dtype, device=device) for _ in self.State._fields))

    def step(self, x_t: torch.Tensor, state: Any, recurrent_mask: torch.Tensor | None = None):
        """``(y_t, new_state)``: ``step_quantities``, keeping the new state's ``output_state`` field."""
        if type(self).step_quantities is RecurrentCell.step_quantities:
            raise NotImplementedError(f"{type(self).__name__} defines neither step nor step_quantities")
        _, new_state = self.step_quantities(x_t, state, recurrent_mask)
        return getattr(new_state, getattr(self, "output_state", "h")), new_state

    def step_quantities(self, x_t: torch.Tensor, state: Any, recurrent_mask: torch.Tensor | None = None):
        """``({name: (B, ·) tensor}, new_state)``: by default the cell's ``step`` and its new state's tensors."""
        _, new_state = self.step(x_t, state, recurrent_mask)
        return dict(zip(type(new_state)._fields, new_state)), new_state

    def inference_step(self, x_t: torch.Tensor, state: Any) -> Any:
        """The state after one step ``x_t (B, F)`` from ``state``, for inference: ``step``'s new state here;
        a cell overrides it with fewer, fused calls that give the same numbers."""
        return self.step(x_t, state)[1]

    def fused_reason(self) -> str | None:
        return "this cell has no fused kernel"

    def onnx_operator(self) -> str | None:
        """The ONNX operator ``fused`` exports to (``"LSTM"``, ``"GRU"``: torch's fused kernels map to
        them), or ``None``: exported, the cell's steps run as one ONNX ``Scan`` (``layers.onnx_form``)."""
        return None

    def _new_weight(self, *shape: int, init, dtype, device) -> nn.Parameter:
        w = torch.empty(*shape, dtype=dtype, device=device)
        initializers.get(init)(w)
        return nn.Parameter(w)


def recurrent_input(h: torch.Tensor, recurrent_mask: torch.Tensor | None) -> torch.Tensor:
    """The previous hidden state as it enters the recurrent products (dropped out if asked)."""
    return h if recurrent_mask is None else h * recurrent_mask


def torch_hidden(state_tensor: torch.Tensor) -> torch.Tensor:
    """``(B, H)`` -> ``(1, B, H)``: the layout of torch's fused kernels."""
    return state_tensor.unsqueeze(0)
