"""What the inspection functions share: finding the recurrent layer of a model, capturing the input it
receives, running a model without side effects, and turning user data into tensors."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import torch
from torch import nn

from ..errors import ConfigError, NotBuiltError
from ..layers.carry import keep_carried_state
from ..layers.recurrent import Recurrent
from ..train.inputs import to_tensor


def recurrent_layers(module: nn.Module) -> list[Recurrent]:
    """Every recurrent layer inside ``module`` (itself included), in registration order."""
    return [m for m in module.modules() if isinstance(m, Recurrent)]


def find_recurrent(module: Any, layer: Recurrent | None = None, *, what: str) -> Recurrent:
    """The recurrent layer to inspect: ``layer`` (which must be inside ``module``), ``module`` itself,
    or the first recurrent layer of ``module``. Raises ``ConfigError`` naming what was found."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"{what} expected a recurrent layer or a model (torch.nn.Module), got {type(module).__name__}")
    found = recurrent_layers(module)
    if layer is not None:
        if not isinstance(layer, Recurrent):
            raise ConfigError(
                f"{what} expected layer= to be a recurrent layer (SimpleRNN, LSTM, GRU, IndRNN, MinGRU, MinLSTM, "
                f"Reservoir), got {type(layer).__name__}"
            )
        if not any(m is layer for m in found):
            raise ConfigError(f"{what}: layer= {type(layer).__name__} is not part of the given {type(module).__name__}")
        return layer
    if not found:
        inside = sorted({type(m).__name__ for m in module.modules()})
        raise ConfigError(
            f"{what} expected a recurrent layer (SimpleRNN, LSTM, GRU, IndRNN, MinGRU, MinLSTM, Reservoir) or a model "
            f"containing one, got {type(module).__name__} made of {', '.join(inside)}"
        )
    return found[0]


def dtype_of(module: nn.Module) -> torch.dtype:
    for t in list(module.parameters()) + list(module.buffers()):
        if t.is_floating_point():
            return t.dtype
    return torch.get_default_dtype()


def as_tensor(a: Any, name: str, dtype: torch.dtype) -> torch.Tensor:
    """User data as a checked tensor (floats in ``dtype``; integer ids stay integer)."""
    return to_tensor(a, name, dtype)


@contextlib.contextmanager
def inference(module: nn.Module) -> Iterator[None]:
    """Run ``module`` in eval mode (no dropout) without touching carried states; restore both after."""
    was = module.training
    module.eval()
    try:
        with keep_carried_state(module):
            yield
    finally:
        module.train(was)


class LayerCall:
    """The input a layer received in one call: ``x (B, T, F)`` and the keywords (``mask``, ``lengths``,
    ``initial_state``) it was called with."""

    def __init__(self) -> None:
        self.x: torch.Tensor | None = None
        self.kwargs: dict[str, Any] = {}


@contextlib.contextmanager
def capture_input(layer: nn.Module) -> Iterator[LayerCall]:
    """Record what ``layer`` receives during the block (its first call)."""
    call = LayerCall()

    def hook(mod, args, kwargs):
        if call.x is None:
            call.x = args[0] if args else kwargs.get("x")
            call.kwargs = {k: kwargs[k] for k in ("mask", "lengths", "initial_state") if kwargs.get(k) is not None}

    handle = layer.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        yield call
    finally:
        handle.remove()


def layer_input(model: nn.Module, layer: Recurrent, x: torch.Tensor, **kwargs: Any) -> LayerCall:
    """Run ``model(x)`` (no gradients, eval mode) and return what ``layer`` received."""
    if model is layer:
        call = LayerCall()
        call.x, call.kwargs = x, {k: v for k, v in kwargs.items() if v is not None}
        return call
    with capture_input(layer) as call, inference(model), torch.no_grad():
        model(x)
    if call.x is None:
        raise ConfigError(f"the model never called its {type(layer).__name__} layer on this input")
    return call


def require_built(layer: Recurrent, what: str) -> None:
    if not layer.built:
        raise NotBuiltError(f"{what} needs the layer's weights: call it once on an input (or give it input_shape=) first")
