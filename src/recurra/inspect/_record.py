"""Recording the states of a recurrent layer's reference loop, with autograd, for one call."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from ..layers.recurrent import Recurrent, StepRecorder


class Recording(StepRecorder):
    """What one call of a recurrent layer went through, in the order it ran the steps.

    ``states[0]`` is the initial state ``s_0`` as a fresh leaf that requires gradients (same values
    as the layer's own initial state); ``states[t]`` (``t = 1..T``) is the state the cell's ``step``
    returned at step ``t``; ``final`` is the state the layer ended with (at masked steps the layer
    carries the previous state, so with a mask ``final`` may be an earlier step's state).
    """

    def __init__(self) -> None:
        self.states: list[Any] = []
        self.final: Any = None

    def start(self, state: Any) -> Any:
        leaf = type(state)(*[s.detach().clone().requires_grad_(True) for s in state])  # s_0, a leaf
        self.states.append(leaf)
        return leaf

    def step(self, t: int, state: Any) -> None:
        self.states.append(state)

    def end(self, state: Any) -> None:
        self.final = state


@contextlib.contextmanager
def recording(layer: Recurrent) -> Iterator[Recording]:
    """Within the block, ``layer`` runs its reference loop (``cell.step`` per step: the same numbers as
    its fast kernels, which the tests check) and records every state into the returned ``Recording``
    (through the layer's public ``record_steps`` hook). The layer's ``kernel`` is restored afterwards."""
    rec = Recording()
    kernel = layer.kernel
    try:
        with layer.record_steps(rec):
            yield rec
    finally:
        layer.kernel = kernel
