"""Recording the states of a recurrent layer's reference loop, with autograd, for one call."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from ..layers.recurrent import Recurrent


class Recording:
    """What one call of a recurrent layer went through, in the order it ran the steps.

    ``states[0]`` is the initial state ``s_0`` as a fresh leaf that requires gradients (same values
    as the layer's own initial state); ``states[t]`` (``t = 1..T``) is the state the cell's ``step``
    returned at step ``t``; ``final`` is the state the layer ended with (at masked steps the layer
    carries the previous state, so with a mask ``final`` may be an earlier step's state).
    """

    def __init__(self) -> None:
        self.states: list[Any] = []
        self.final: Any = None


@contextlib.contextmanager
def recording(layer: Recurrent) -> Iterator[Recording]:
    """Within the block, ``layer`` runs its reference loop (``cell.step`` per step: the same numbers as
    its fast kernels, which the tests check) and records every state into the returned ``Recording``.
    The layer's ``implementation`` and ``kernel`` are restored afterwards."""
    rec = Recording()
    cell = layer.cell
    step = cell.step
    run = layer._run_reference

    def recording_run(x, mask, state, recurrent_mask):
        leaf = cell.State(*[s.detach().clone().requires_grad_(True) for s in state])  # s_0, a leaf
        rec.states.append(leaf)
        y, final = run(x, mask, leaf, recurrent_mask)
        rec.final = final
        return y, final

    def recording_step(x_t, state, *args, **kwargs):
        y_t, new_state = step(x_t, state, *args, **kwargs)
        rec.states.append(new_state)
        return y_t, new_state

    saved = layer.implementation, layer.kernel
    object.__setattr__(layer, "_run_reference", recording_run)
    object.__setattr__(cell, "step", recording_step)
    layer.implementation = "reference"
    try:
        yield rec
    finally:
        del layer.__dict__["_run_reference"]
        del cell.__dict__["step"]
        layer.implementation, layer.kernel = saved
