"""Context managers over the carried-state contract of recurrent layers (``Recurrent.carried_state``,
``carry_state``, ``reset_states``; ``supports_carry`` says whether a layer takes part).

Used by the training engine (truncated BPTT), by building and summaries (a dummy call must not leave
state behind) and by ``recurra.inspect`` (looking must not change the model).
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from torch import nn

from ..errors import ConfigError


def carriers(module: nn.Module) -> list[nn.Module]:
    """The layers inside ``module`` (itself included) that can carry their state from call to call."""
    return [m for m in module.modules() if getattr(m, "supports_carry", None) is True]


def check_can_carry(module: nn.Module, why: str) -> None:
    """Refuse a module holding a layer that declares it cannot carry state (``supports_carry = False``),
    with the layer's own reason (``Bidirectional``: its backward direction needs the whole sequence)."""
    for m in module.modules():
        if getattr(m, "supports_carry", None) is False:
            reason = getattr(m, "carry_refusal", "it cannot carry its state from call to call")
            raise ConfigError(f"{why} cannot train {type(m).__name__} layers: {reason}")


@contextlib.contextmanager
def keep_carried_state(module: nn.Module) -> Iterator[None]:
    """Within the block, calls of ``module`` leave the carried states of its layers as they were."""
    saved = [(m, m.carried_state) for m in carriers(module)]
    try:
        yield
    finally:
        for m, state in saved:
            m.reset_states(state)


@contextlib.contextmanager
def carried_states(module: nn.Module) -> Iterator[None]:
    """Within the block, the recurrent layers of ``module`` carry their state (detached) from call to
    call (truncated BPTT); afterwards layers that are not ``stateful`` carry nothing."""
    layers = carriers(module)
    for m in layers:
        m.carry_state(True)
    try:
        yield
    finally:
        for m in layers:
            m.carry_state(False)


__all__ = ["carriers", "check_can_carry", "keep_carried_state", "carried_states"]
