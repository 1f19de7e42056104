"""``SimpleRNN``, ``LSTM`` and ``GRU``: thin layers over their cells.

Each names its cell, adds its own arguments, and converts its weights to and from Keras 3's
layout: ``[kernel (F, G·H), recurrent_kernel (H, G·H), bias]``.
"""

from __future__ import annotations

from typing import Any

import torch

from .. import activations
from ..cells import GRUCell, LSTMCell, SimpleRNNCell
from .base import register
from .recurrent import Recurrent


def _kernel_weights(cell, bias_list: list[torch.Tensor]) -> list[torch.Tensor]:
    return [cell.weight_ih.T, cell.weight_hh.T, *bias_list]


@register
class SimpleRNN(Recurrent):
    """Fully connected recurrent layer: ``h_t = act(W_xh x_t + W_hh h_{t-1} + b_h)``.

    ``activation`` is ``"tanh"`` (default) or ``"relu"`` for the fused kernel; any other name runs the
    reference loop. Keras weights: ``[kernel (F, H), recurrent_kernel (H, H), bias (H,)]``.

    >>> layer = SimpleRNN(8, return_sequences=True)
    >>> tuple(layer(torch.zeros(2, 5, 3)).shape)
    (2, 5, 8)
    """

    cell_class = SimpleRNNCell

    def keras_weights(self):
        self._require_built("get_weights()")
        c = self.cell
        return _kernel_weights(c, [c.bias] if c.bias is not None else [])

    def load_keras_weights(self, arrays):
        c = self.cell
        c.weight_ih.copy_(arrays[0].T)
        c.weight_hh.copy_(arrays[1].T)
        if c.bias is not None:
            c.bias.copy_(arrays[2])


@register
class LSTM(Recurrent):
    """Long short-term memory layer (seed 004's f, u, c~, c, o, a; see ``recurra.cells.lstm``).

    Extra arguments: ``recurrent_activation="sigmoid"``, ``unit_forget_bias=True`` (forget-gate bias
    starts at 1). ``return_state`` gives ``(output, h, c)``; ``initial_state=[h, c]``.
    Keras weights: ``[kernel (F, 4H), recurrent_kernel (H, 4H), bias (4H,)]``, gates ``i, f, c, o``.

    >>> out, h, c = LSTM(8, return_state=True)(torch.zeros(2, 5, 3))
    >>> tuple(out.shape), tuple(c.shape)
    ((2, 8), (2, 8))
    """

    cell_class = LSTMCell

    def __init__(self, units: int, *, recurrent_activation: str | None = "sigmoid", unit_forget_bias: bool = True, **kwargs: Any):
        self.recurrent_activation = activations.canonical(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        super().__init__(units, **kwargs)

    def cell_kwargs(self):
        return dict(super().cell_kwargs(), recurrent_activation=self.recurrent_activation, unit_forget_bias=self.unit_forget_bias)

    def get_config(self):
        return dict(super().get_config(), recurrent_activation=self.recurrent_activation, unit_forget_bias=self.unit_forget_bias)

    def keras_weights(self):
        self._require_built("get_weights()")
        c = self.cell
        return _kernel_weights(c, [c.bias] if c.bias is not None else [])

    def load_keras_weights(self, arrays):
        c = self.cell
        c.weight_ih.copy_(arrays[0].T)
        c.weight_hh.copy_(arrays[1].T)
        if c.bias is not None:
            c.bias.copy_(arrays[2])


def _rzh_to_zrh(w: torch.Tensor, dim: int) -> torch.Tensor:
    """Reorder stacked GRU gates from recurra's (torch's) ``r, z, h`` to Keras's ``z, r, h``."""
    r, z, h = w.chunk(3, dim)
    return torch.cat([z, r, h], dim)


def _zrh_to_rzh(w: torch.Tensor, dim: int) -> torch.Tensor:
    z, r, h = w.chunk(3, dim)
    return torch.cat([r, z, h], dim)


@register
class GRU(Recurrent):
    """Gated recurrent unit layer (seed 004's z, r, h~; see ``recurra.cells.gru``).

    Extra arguments: ``recurrent_activation="sigmoid"``, ``reset_after=True`` (Keras's default; the
    fused kernel's form). Keras weights: ``[kernel (F, 3H), recurrent_kernel (H, 3H), bias]`` with gates
    ``z, r, h`` and ``bias`` of shape ``(2, 3H)`` (input and recurrent bias) when ``reset_after``, else
    ``(3H,)``.

    >>> tuple(GRU(8, reset_after=False)(torch.zeros(2, 5, 3)).shape)
    (2, 8)
    """

    cell_class = GRUCell

    def __init__(self, units: int, *, recurrent_activation: str | None = "sigmoid", reset_after: bool = True, **kwargs: Any):
        self.recurrent_activation = activations.canonical(recurrent_activation)
        self.reset_after = bool(reset_after)
        super().__init__(units, **kwargs)

    def cell_kwargs(self):
        return dict(super().cell_kwargs(), recurrent_activation=self.recurrent_activation, reset_after=self.reset_after)

    def get_config(self):
        return dict(super().get_config(), recurrent_activation=self.recurrent_activation, reset_after=self.reset_after)

    def keras_weights(self):
        self._require_built("get_weights()")
        c = self.cell
        weights = [_rzh_to_zrh(c.weight_ih, 0).T, _rzh_to_zrh(c.weight_hh, 0).T]
        if c.bias is not None:
            b = _rzh_to_zrh(c.bias, 0)
            weights.append(torch.stack([b, _rzh_to_zrh(c.recurrent_bias, 0)]) if self.reset_after else b)
        return weights

    def load_keras_weights(self, arrays):
        c = self.cell
        c.weight_ih.copy_(_zrh_to_rzh(arrays[0].T, 0))
        c.weight_hh.copy_(_zrh_to_rzh(arrays[1].T, 0))
        if c.bias is not None:
            if self.reset_after:
                c.bias.copy_(_zrh_to_rzh(arrays[2][0], 0))
                c.recurrent_bias.copy_(_zrh_to_rzh(arrays[2][1], 0))
            else:
                c.bias.copy_(_zrh_to_rzh(arrays[2], 0))
