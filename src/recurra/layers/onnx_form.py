"""How a recurrent layer runs while it is exported: to ONNX (``torch.onnx.export``), or as a
``torch.export`` program.

recurra's compiled loops are not ONNX operators, and a Python loop over time would fix the sequence
length of the exported graph. Exported, a layer runs instead:

- to ONNX, a layer that returns its last state only, without a mask, over a cell whose fused kernel is
  one of torch's and has an ONNX twin (``cell.onnx_operator()``: the LSTM, the GRU with ``reset_after=True``)
  runs that kernel: it exports as ONNX's own ``LSTM`` or ``GRU`` operator;
- anything else runs the cell's reference step, the equations of ``recurra.cells``, once per time step
  inside one ``torch`` scan (``torch.export`` keeps it as a ``scan`` node), which exports as an ONNX
  ``Scan``::

      (s_t, y_t) = step(x_t, s_{t-1})          where m_t
      (s_t, y_t) = (s_{t-1}, y_{t-1} or 0)      where not m_t   (Keras's held output, or zeros)

  (torch 2.13's exporter writes the sequence output of ONNX's ``LSTM`` / ``GRU`` with the export-time
  length, and unrolls ``torch.rnn_tanh`` over it: both would fix the time axis.)

Both keep the batch and time axes free in the exported graph.
"""

from __future__ import annotations

from typing import Any

import torch


def exporting() -> bool:
    """Whether the current call is being traced by ``torch.export`` (which ONNX export runs too)."""
    return torch.compiler.is_exporting() or torch.onnx.is_in_onnx_export()


def exporting_to_onnx() -> bool:
    """Whether the current call is being traced for an ONNX export."""
    return torch.onnx.is_in_onnx_export()


def run_scan(cell: Any, x: torch.Tensor, mask: torch.Tensor | None, state: Any, return_sequences: bool, hold: bool):
    """The cell's reference steps over ``x (B, T, F)`` as one scan: ``(y (B, T, H) or None, final state)``;
    ``mask (B, T)`` keeps the state, and writes the last real output (``hold``) or zeros at masked steps."""
    from torch._higher_order_ops.scan import scan  # torch's scan operator (exported as ONNX Scan)

    State = type(state)
    n = len(state)
    xs = x.transpose(0, 1)  # (T, B, F)
    ms = None if mask is None else mask.transpose(0, 1).unsqueeze(-1)  # (T, B, 1)
    last = torch.zeros_like(getattr(state, getattr(cell, "output_state", "h")))  # (B, H): the last real output

    def step(carry: tuple, inputs: tuple) -> tuple:
        x_t, previous = inputs[0], State(*carry[:n])
        y_t, new_state = cell.step(x_t, previous)
        if ms is not None:
            m_t = inputs[1]
            new_state = State(*[torch.where(m_t, a, b) for a, b in zip(new_state, previous)])
            y_t = torch.where(m_t, y_t, carry[n] if hold else torch.zeros_like(y_t))
        return (*(s.clone() for s in new_state), y_t.clone()), y_t.clone()  # scan's outputs may not alias its carry

    final, ys = scan(step, (*state, last), (xs,) if ms is None else (xs, ms))
    return (ys.transpose(0, 1) if return_sequences else None), State(*final[:n])  # (B, T, H)


__all__ = ["exporting", "exporting_to_onnx", "run_scan"]
