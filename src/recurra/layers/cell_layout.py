"""The nested inputs, states and outputs of a Keras cell, laid flat along one feature axis and back.

A Keras cell may take a structure of inputs per step (``[(B, i1), (B, i2, i3)]``), keep states that are
not vectors (``state_size = [u1, (u2, u3)]``) and return a structure of outputs (``output_size``). recurra's
loop over time (``Recurrent``) carries one ``(B, T, F)`` input and ``(B, H)`` states; a ``Layout`` is the
bridge: each leaf's trailing shape flattened and the leaves concatenated along the last axis, in
``keras.tree.flatten`` order, and split and reshaped back for the cell. Masks, ``go_backwards``,
``stateful`` and ``initial_state`` then apply to nested cells unchanged.

Sizes are written as Keras writes them, with tuples where Keras has ``TensorShape``: an int is one vector
state, a list or tuple holds one entry per state, and an entry that is itself a tuple of ints is one state
of that shape.

>>> layout = Layout([Leaf((3,)), Leaf((4, 5))])
>>> layout.size, [tuple(t.shape) for t in layout.unflatten(torch.zeros(2, 23))]
(23, [(2, 3), (2, 4, 5)])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from ..errors import ConfigError, ShapeError, format_shape
from ..tree import flatten, map_structure, pack_sequence_as


@dataclass(frozen=True)
class Leaf:
    """One tensor of a nested structure: its shape after the batch (and time) axes."""

    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return math.prod(self.shape)


def _is_shape(spec: Any) -> bool:
    return isinstance(spec, (tuple, list, torch.Size)) and len(spec) > 0 and all(isinstance(d, int) for d in spec)


def _leaf(spec: Any, what: str) -> Leaf:
    if isinstance(spec, bool) or not isinstance(spec, int) and not _is_shape(spec):
        raise ConfigError(f"{what} expected an int or a tuple of ints (a shape), got {spec!r}")
    shape = (spec,) if isinstance(spec, int) else tuple(int(d) for d in spec)
    if any(d <= 0 for d in shape):
        raise ConfigError(f"{what} expected positive sizes, got {spec!r}")
    return Leaf(shape)


def size_structure(spec: Any, what: str) -> Any:
    """``state_size`` or ``output_size`` as a structure of ``Leaf``: an int or a shape is one leaf; a list,
    tuple or dict holds one entry per tensor (an entry may itself be a list, tuple or dict of entries)."""
    if isinstance(spec, int) or isinstance(spec, torch.Size):
        return _leaf(spec, what)
    if isinstance(spec, dict):
        return {k: _entry(v, what) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        entries = [_entry(v, what) for v in spec]
        return type(spec)(*entries) if hasattr(spec, "_fields") else type(spec)(entries)
    raise ConfigError(f"{what} expected an int, a shape or a list of them, got {spec!r}")


def _entry(spec: Any, what: str) -> Any:
    if isinstance(spec, int) or _is_shape(spec) and not isinstance(spec, list):  # a list of ints is a list of states
        return _leaf(spec, what)
    return size_structure(spec, what)


class Layout:
    """A structure of ``Leaf`` shapes, and the flat ``(..., size)`` form of tensors laid out in it."""

    def __init__(self, structure: Any):
        self.structure = structure
        self.leaves: list[Leaf] = flatten(structure)

    @property
    def size(self) -> int:
        return sum(leaf.size for leaf in self.leaves)

    @property
    def is_plain(self) -> bool:
        """One vector: nothing to lay flat."""
        return not isinstance(self.structure, (list, tuple, dict)) and len(self.leaves[0].shape) == 1

    def leaves_of(self, tensors: Any, lead: int, what: str) -> list[torch.Tensor]:
        """The tensors of a structure, flat order, each checked to be ``(*L, *shape)`` (``lead = len(L)``)."""
        found = [tensors] if isinstance(tensors, torch.Tensor) else flatten(tensors)
        if len(found) != len(self.leaves):
            raise ShapeError(f"{what} expected {len(self.leaves)} tensor(s), got {len(found)}")
        for i, (t, leaf) in enumerate(zip(found, self.leaves)):
            if not isinstance(t, torch.Tensor) or tuple(t.shape[lead:]) != leaf.shape:
                got = format_shape(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
                expected = "(" + ", ".join([*("batch", "time")[:lead], *map(str, leaf.shape)]) + ")"
                raise ShapeError(f"{what} expected tensor {i} of shape {expected}, got {got}")
        return found

    def flatten(self, tensors: Any, lead: int, what: str) -> torch.Tensor:
        """Tensors ``(*L, *shape)`` laid out in this structure as one ``(*L, size)`` tensor (``lead = len(L)``)."""
        flat = [t.reshape(*t.shape[:lead], leaf.size) for t, leaf in zip(self.leaves_of(tensors, lead, what), self.leaves)]
        return flat[0] if len(flat) == 1 else torch.cat(flat, dim=-1)

    def split(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``x (*L, size)`` cut into the leaves' tensors ``(*L, *shape)``, flat order."""
        parts = torch.split(x, [leaf.size for leaf in self.leaves], dim=-1)
        return [p.reshape(*x.shape[:-1], *leaf.shape) for p, leaf in zip(parts, self.leaves)]

    def unflatten(self, x: torch.Tensor) -> Any:
        """``x (*L, size)`` as tensors ``(*L, *shape)`` laid out in this structure."""
        return pack_sequence_as(self.structure, self.split(x))

    def batched_shapes(self) -> Any:
        """The structure with each leaf as its shape with a batch axis first, ``(None, *shape)``: what a
        Keras cell's ``build`` receives."""
        return map_structure(lambda leaf: (None, *leaf.shape), self.structure)


def input_layout(x: Any) -> Layout:
    """The layout of nested inputs ``(B, T, *shape)``, read from the tensors themselves."""
    leaves = flatten(x)
    if not leaves or not all(isinstance(t, torch.Tensor) and t.ndim >= 3 for t in leaves):
        found = ", ".join(format_shape(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__ for t in leaves)
        raise ShapeError(f"RNN expected nested inputs of tensors (batch, time, ...), got {found or 'nothing'}")
    if len({tuple(t.shape[:2]) for t in leaves}) != 1:
        found = ", ".join(format_shape(t.shape) for t in leaves)
        raise ShapeError(f"RNN expected nested inputs with one batch and time size, got {found}")
    return Layout(map_structure(lambda t: Leaf(tuple(t.shape[2:])), x))


__all__ = ["Leaf", "Layout", "size_structure", "input_layout"]
