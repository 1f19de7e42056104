"""Nested structures of tensors (lists, tuples, dicts), as Keras's ``keras.tree`` has them: what models
with several inputs or outputs take and return.

>>> flatten({"b": [1, 2], "a": 3})
[1, 2, 3]
>>> map_structure(lambda v: v * 10, ([1, 2], {"a": 3}))
([10, 20], {'a': 30})
"""

from __future__ import annotations

from typing import Any, Callable


def is_nested(structure: Any) -> bool:
    """Whether ``structure`` is a list, a tuple or a dict (not a leaf)."""
    return isinstance(structure, (list, tuple, dict))


def flatten(structure: Any) -> list[Any]:
    """The leaves of nested lists, tuples and dicts, left to right (a dict's values in its keys' order)."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for key in structure for leaf in flatten(structure[key])]
    return [structure]


def map_structure(fn: Callable[..., Any], structure: Any, *others: Any) -> Any:
    """``structure`` with ``fn`` applied to every leaf (and to the matching leaves of ``others``, which
    have the same nesting); lists, tuples and dicts are kept as they are."""
    if isinstance(structure, list):
        return [map_structure(fn, *items) for items in zip(structure, *others)]
    if isinstance(structure, tuple):
        mapped = [map_structure(fn, *items) for items in zip(structure, *others)]
        return type(structure)(*mapped) if hasattr(structure, "_fields") else tuple(mapped)  # named tuples keep their type
    if isinstance(structure, dict):
        return {key: map_structure(fn, structure[key], *(o[key] for o in others)) for key in structure}
    return fn(structure, *others)


def pack_sequence_as(structure: Any, flat: list[Any]) -> Any:
    """``flat`` laid out in the nesting of ``structure`` (the inverse of ``flatten``)."""
    leaves = iter(flat)
    return map_structure(lambda _: next(leaves), structure)


__all__ = ["is_nested", "flatten", "map_structure", "pack_sequence_as"]
