"""Whole recurra models through torch's default ``torch.load`` (``weights_only=True``).

``torch.save(model)`` pickles a module by its class and attributes; torch's weights-only unpickler
rebuilds an object only when its class is allowlisted (``torch.serialization.add_safe_globals``).
recurra's layers, cells and models hold tensors, numbers, strings, lists, dicts and a few small
records of their own (cell states, ``DrawnWeights``, a functional graph's ``SymbolicTensor`` and
``Node``); activations are kept by name (``recurra.activations.ActivationsByName``), never as
functions. ``import recurra`` registers all these classes (``register()``), so

    torch.save(recurra.Sequential([...]), "model.pt")
    model = torch.load("model.pt")                    # torch's default: weights only

needs nothing more. A model that holds other classes (its own ``nn.Module`` subclass, torch.nn's
layers, a ``Lambda`` layer's function, a compiled model's trainer and optimizer) needs those allowed by
their owner, as torch asks for any class::

    torch.serialization.add_safe_globals([MyModel, torch.nn.Linear])
"""

from __future__ import annotations

import inspect
import sys

import torch
from torch import nn

# the packages whose modules (layers, cells, models) and records (``NamedTuple``s: cell states, ``DrawnWeights``)
# a saved model may hold; ``recurra.nn`` registers its own classes (``recurra.nn.serialization``)
PACKAGES = ("recurra.cells", "recurra.layers", "recurra.model")
# the base classes of the small objects a layer may hold besides (its regularizers and constraints)
HELD_OBJECTS = (("recurra.regularizers", "Regularizer"), ("recurra.constraints", "Constraint"))
# torch's containers recurra's models hold (``Sequential.layers`` is an ``nn.ModuleList``)
TORCH_CONTAINERS: tuple[type, ...] = (nn.ModuleList, nn.ModuleDict)


def _defined_in(module_name: str) -> list[type]:
    members = inspect.getmembers(sys.modules[module_name], inspect.isclass)
    return list(dict.fromkeys(cls for _, cls in members if cls.__module__ == module_name))


def _is_held(cls: type) -> bool:
    """An ``nn.Module`` or a ``NamedTuple`` record."""
    return issubclass(cls, nn.Module) or (issubclass(cls, tuple) and hasattr(cls, "_fields"))


def recurra_classes() -> list[type]:
    """The classes a saved recurra layer, cell or model may hold: the modules and records of recurra's imported
    modules in ``PACKAGES``, a functional graph's ``SymbolicTensor`` and ``Node``, a Keras cell's ``Layout``
    and ``Leaf``, the regularizer and constraint classes, and torch's containers."""
    from .layers.cell_layout import Layout, Leaf
    from .layers.symbolic import Node, SymbolicTensor

    modules = sorted(m for m in sys.modules if any(m == p or m.startswith(p + ".") for p in PACKAGES))
    classes = [cls for name in modules for cls in _defined_in(name) if _is_held(cls)]
    for module_name, base_name in HELD_OBJECTS:
        base = getattr(sys.modules[module_name], base_name)
        classes += [cls for cls in _defined_in(module_name) if issubclass(cls, base)]
    return list(dict.fromkeys([*classes, SymbolicTensor, Node, Layout, Leaf, *TORCH_CONTAINERS]))


def register() -> None:
    """Allow recurra's classes in ``torch.load(..., weights_only=True)`` (``import recurra`` calls this)."""
    torch.serialization.add_safe_globals(recurra_classes())
