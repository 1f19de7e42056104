"""Symbolic tensors: what Keras's functional API passes between layers before any data flows.

``Input(shape)`` makes a ``SymbolicTensor``; calling a layer on symbolic tensors (``LSTM(8)(x)``,
``Concatenate()([a, b])``, ``layer(x, initial_state=[h, c])``) records a ``Node`` — the layer and the
exact arguments it was called with — and returns symbolic outputs of the shapes the layer gives. A
``Model(inputs, outputs)`` (``recurra.model.functional``) then replays the nodes with real tensors.

The shapes are found by calling the layer, in eval mode and without gradients, on small tensors of the
inputs' shapes (twice, with two sizes for every free axis, so an output axis that follows a free input
axis is free too); the first call builds the layer's weights, as Keras builds a layer at its first call.
A symbolic tensor also knows whether a mask travels with it (an ``Embedding(mask_zero=True)`` or a
``Masking`` upstream): the model passes masks from layer to layer as ``Sequential`` does.
"""

from __future__ import annotations

import inspect
import weakref
from typing import Any, Callable

import torch
from torch import nn

from ..errors import ConfigError, format_shape
from ..tree import flatten, map_structure
from .carry import keep_carried_state

SIZES = ((2, 3), (3, 5))  # the sizes given to (the batch axis, every other free axis) in the two traces

# each layer's first symbolic call, (inputs, outputs), for Keras's ``layer.input`` / ``layer.output``; held
# weakly and off the module, so copies and state dicts of a layer never carry a graph
_FIRST_CALLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def first_call(layer: nn.Module, attribute: str) -> Any:
    """The symbolic ``input`` or ``output`` of ``layer``'s first call on symbolic tensors (Keras's
    ``layer.input`` / ``layer.output``: a tensor, or the structure the layer returned)."""
    if layer not in _FIRST_CALLS:
        raise ConfigError(  # a ValueError, as Keras's (an AttributeError would be hidden by torch's __getattr__)
            f"{type(layer).__name__} has no {attribute}: it has not been called on symbolic tensors (keras.Input) yet"
        )
    inputs, outputs = _FIRST_CALLS[layer]
    return inputs if attribute == "input" else outputs


class SymbolicTensor:
    """A tensor of a functional model before any data: ``shape`` (batch first, ``None`` where any size
    goes), ``dtype``, whether a mask travels with it, and the ``node`` that made it (``None`` for an
    ``Input``, whose ``input_layer`` is set instead)."""

    def __init__(self, shape: tuple, dtype: torch.dtype, *, node: Node | None = None, index: int = 0,
                 has_mask: bool = False, name: str | None = None, input_layer: Any = None):  # fmt: skip
        self.shape = tuple(shape)
        self.dtype = dtype
        self.node = node
        self.index = index
        self.has_mask = has_mask
        self.name = name
        self.input_layer = input_layer

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        made = f"from {type(self.node.layer).__name__}" if self.node is not None else "an Input"
        name = f" name={self.name!r}" if self.name else ""
        return f"<SymbolicTensor shape={format_shape(self.shape)} dtype={str(self.dtype).removeprefix('torch.')}{name}, {made}>"

    def __bool__(self) -> bool:
        raise TypeError(
            "a SymbolicTensor has no value: it stands for the data a functional model will receive; use it as a "
            "layer's input, and wrap arithmetic on it in a Lambda layer"
        )


class Node:
    """One call of a layer in a functional graph: the layer, the call's arguments as given (symbolic
    tensors in place of data) and its outputs (flat, in the order the call returns them)."""

    def __init__(self, layer: nn.Module, args: tuple, kwargs: dict, outputs: list[SymbolicTensor], structure: Any):
        self.layer, self.args, self.kwargs, self.outputs, self.structure = layer, args, kwargs, outputs, structure

    def inputs(self) -> list[SymbolicTensor]:
        """The symbolic tensors this call reads, in argument order."""
        return [t for t in flatten((self.args, self.kwargs)) if isinstance(t, SymbolicTensor)]


def has_symbolic(args: tuple, kwargs: dict) -> bool:
    return any(isinstance(leaf, SymbolicTensor) for leaf in flatten((args, kwargs)))


# -- calling a layer on symbolic tensors ------------------------------------------------------------
def _concrete(t: SymbolicTensor, sizes: tuple[int, int]) -> torch.Tensor:
    batch, free = sizes
    shape = [batch if t.shape[0] is None else t.shape[0]] + [free if d is None else d for d in t.shape[1:]]
    if t.dtype.is_floating_point:
        return torch.zeros(shape, dtype=t.dtype)
    return torch.ones(shape, dtype=t.dtype)  # ids: 1 is a real token wherever 0 is padding


def named_mask_arguments(layer: Any, args: tuple, kwargs: dict, masks: Callable[[Any], Any]) -> dict[str, Any]:
    """Keras's masks for layers that take several tensors by name (``MultiHeadAttention(query, value, key)``):
    ``{"value_mask": mask of value, ...}`` for each tensor argument ``p`` with a mask whose layer's
    ``forward`` has a ``p_mask`` parameter the call does not give."""
    try:
        parameters = inspect.signature(layer.forward).parameters
        bound = inspect.signature(layer.forward).bind_partial(*args, **kwargs).arguments
    except (TypeError, ValueError):
        return {}
    found = {}
    for name, value in bound.items():
        key = f"{name}_mask"
        if key in parameters and key not in kwargs and not isinstance(value, (list, tuple, dict)):
            m = masks(value)
            if m is not None:
                found[key] = m
    return found


def first_mask_argument(args: tuple, masks: Callable[[Any], Any]) -> Any:
    """The ``mask`` a layer receives with its first argument: that tensor's mask, or the list of the masks
    of a list of tensors (``None`` where none travels)."""
    if not args:
        return None
    first = args[0]
    if isinstance(first, (list, tuple)):
        found = [masks(t) for t in first]
        return found if any(m is not None for m in found) else None
    return masks(first)


def _trace(layer: nn.Module, args: tuple, kwargs: dict, sizes: tuple[int, int]) -> tuple[Any, Any]:
    """Call ``layer`` on concrete stand-ins of the symbolic arguments; its output and its output mask."""
    values: dict[int, torch.Tensor] = {}  # id(symbolic) -> its stand-in (one per symbolic tensor)
    masked: set[int] = set()  # ids of the stand-ins a mask travels with

    def concrete(leaf: Any) -> Any:
        if not isinstance(leaf, SymbolicTensor):
            return leaf
        if id(leaf) not in values:
            values[id(leaf)] = _concrete(leaf, sizes)
            if leaf.has_mask:
                masked.add(id(values[id(leaf)]))
        return values[id(leaf)]

    real_args, real_kwargs = map_structure(concrete, args), map_structure(concrete, kwargs)

    def mask_of(leaf: Any) -> Any:
        return torch.ones(leaf.shape[:2], dtype=torch.bool) if id(leaf) in masked else None

    accepts_mask = hasattr(layer, "compute_mask")
    if accepts_mask and "mask" not in real_kwargs:
        mask = first_mask_argument(real_args, mask_of)
        if mask is not None:
            real_kwargs["mask"] = mask
        real_kwargs.update(named_mask_arguments(layer, real_args, real_kwargs, mask_of))
    was = layer.training
    layer.eval()
    try:
        with torch.no_grad(), keep_carried_state(layer):
            out = nn.Module.__call__(layer, *real_args, **real_kwargs)
    finally:
        layer.train(was)
    out_mask = None
    if accepts_mask and real_args:
        out_mask = layer.compute_mask(real_args[0], real_kwargs.get("mask"))
    return out, out_mask


def call_symbolically(layer: nn.Module, args: tuple, kwargs: dict) -> Any:
    """Record ``layer(*args, **kwargs)`` on symbolic tensors as a ``Node``; return symbolic outputs shaped
    like the layer's real ones (a tensor, or a tuple or list of them)."""
    inputs = [t for t in flatten((args, kwargs)) if isinstance(t, SymbolicTensor)]
    fixed_batch = all(t.shape[0] is not None for t in inputs) and len({t.shape[0] for t in inputs}) == 1
    try:
        first, first_mask = _trace(layer, args, kwargs, SIZES[0])
        second, _ = _trace(layer, args, kwargs, SIZES[1])
    except Exception as e:
        shapes = ", ".join(format_shape(t.shape) for t in inputs)
        raise type(e)(f"calling {type(layer).__name__} on inputs of shape {shapes}: {e}") from e
    leaves_a, leaves_b = flatten(first), flatten(second)
    if not all(isinstance(t, torch.Tensor) for t in leaves_a):
        raise ConfigError(f"{type(layer).__name__} returned something other than tensors; a functional model needs tensors")
    node = Node(layer, args, kwargs, [], first)
    outputs = []
    for i, (a, b) in enumerate(zip(leaves_a, leaves_b)):
        shape = tuple(da if da == db else None for da, db in zip(a.shape, b.shape))
        if not fixed_batch:
            shape = (None, *shape[1:])
        outputs.append(SymbolicTensor(shape, a.dtype, node=node, index=i, has_mask=i == 0 and first_mask is not None))
    node.outputs = outputs
    it = iter(outputs)
    result = map_structure(lambda _: next(it), first)
    if layer not in _FIRST_CALLS:
        _FIRST_CALLS[layer] = (args[0] if len(args) == 1 else list(args), result)
    return result


__all__ = [
    "SymbolicTensor", "Node", "call_symbolically", "first_call", "has_symbolic", "flatten", "map_structure", "first_mask_argument"
]
