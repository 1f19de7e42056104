"""Whole ``recurra.nn`` models through torch's default ``torch.load`` (``weights_only=True``).

``torch.save(model)`` pickles a module by its class and attributes; the weights-only unpickler
accepts a class only when it is allowlisted (``torch.serialization.add_safe_globals``). recurra.nn's
modules hold tensors, strings, numbers and lists only (activations by name), so registering their
classes is all they need; this runs when ``recurra.nn`` is imported. The classes of the model around
them (the user's own ``nn.Module``, ``torch.nn.Linear`` ...) need the same from their owner::

    torch.serialization.add_safe_globals([MyModel, torch.nn.Linear, torch.nn.Dropout])
"""

from __future__ import annotations

import torch


def register_safe_globals(classes: list[type]) -> None:
    """Allow ``classes`` in ``torch.load(..., weights_only=True)``."""
    torch.serialization.add_safe_globals(list(classes))
