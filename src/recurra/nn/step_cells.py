"""One layer and direction of a ``recurra.nn`` module as one of recurra's cells, for exported graphs.

Exported (``torch.export``, ONNX), a ``recurra.nn`` module runs each layer and direction as the cell's
reference step inside one scan (``recurra.layers.onnx_form.run_scan``), so the time axis stays free. The
cell holds the module's own parameters — torch's layout is the cells' (``GRUCell``'s ``bias`` and
``recurrent_bias`` are ``b_ih`` and ``b_hh``; the LSTM's and the RNN's two biases add up to the cell's
one, ``b = b_ih + b_hh``) — so the step's equations are the cells' (``recurra.cells``), written once.
"""

from __future__ import annotations

import torch
from torch import nn

from ..cells import GRUCell, LSTMCell, SimpleRNNCell
from ..cells.base import RecurrentCell

_ZEROS = {"kernel_initializer": "zeros", "recurrent_initializer": "zeros", "bias_initializer": "zeros"}


def _summed(weights: dict[str, torch.Tensor]) -> torch.Tensor | None:
    b_ih, b_hh = weights.get("bias_ih"), weights.get("bias_hh")
    return None if b_ih is None else b_ih + b_hh


def _install(cell: nn.Module, values: dict[str, torch.Tensor | None]) -> None:
    """Put the module's tensors in place of the cell's (built on the meta device: nothing drawn)."""
    for name, value in values.items():
        if name in cell._parameters:
            del cell._parameters[name]
        object.__setattr__(cell, name, value)


def step_cell(mode: str, weights: dict[str, torch.Tensor]) -> RecurrentCell | None:
    """The cell of one layer and direction (``weights`` by torch's names without the ``_l{k}`` suffix),
    or ``None`` where no cell has the module's equations (the LSTM's ``proj_size``)."""
    w_ih = weights["weight_ih"]
    F, bias = w_ih.shape[1], "bias_ih" in weights
    place = {"dtype": w_ih.dtype, "device": "meta"}
    if mode == "GRU":
        cell = GRUCell(F, w_ih.shape[0] // 3, use_bias=bias, reset_after=True, **_ZEROS, **place)
        _install(cell, {"weight_ih": w_ih, "weight_hh": weights["weight_hh"], "bias": weights.get("bias_ih"),
                        "recurrent_bias": weights.get("bias_hh")})  # fmt: skip
    elif mode == "LSTM":
        if "weight_hr" in weights:
            return None
        cell = LSTMCell(F, w_ih.shape[0] // 4, use_bias=bias, unit_forget_bias=False, **_ZEROS, **place)
        _install(cell, {"weight_ih": w_ih, "weight_hh": weights["weight_hh"], "bias": _summed(weights)})
    elif mode in ("RNN_TANH", "RNN_RELU"):
        activation = "tanh" if mode == "RNN_TANH" else "relu"
        cell = SimpleRNNCell(F, w_ih.shape[0], activation=activation, use_bias=bias, **_ZEROS, **place)
        _install(cell, {"weight_ih": w_ih, "weight_hh": weights["weight_hh"], "bias": _summed(weights)})
    else:
        return None
    return cell


__all__ = ["step_cell"]
