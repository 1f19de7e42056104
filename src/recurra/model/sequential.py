"""``Sequential``: a plain stack of layers, each feeding the next; masks flow from layer to layer.

>>> from recurra import Sequential, SimpleRNN, Dense
>>> model = Sequential([SimpleRNN(8, input_shape=(None, 3)), Dense(1, activation="sigmoid")])
>>> tuple(model(torch.zeros(2, 5, 3)).shape)
(2, 1)
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import torch
from torch import nn

from ..errors import ConfigError, NotBuiltError, format_shape
from ..layers.base import Layer
from ..layers.carry import keep_carried_state
from ..layers.core import Embedding, InputLayer
from ..layers.symbolic import SymbolicTensor
from ..layers.wrappers import layer_from_config, layer_to_config
from ..registry import register_model
from .base import Model
from .summary import layer_label, shape_text, summary_table


@register_model
class Sequential(Model):
    """A plain stack of layers, each feeding the next; masks flow from layer to layer.

    ``Sequential([layer, ...])`` or ``model.add(layer)``; any ``nn.Module`` may be a layer (it then
    receives no mask). ``model(x, mask=None)`` runs the stack.
    """

    def __init__(self, layers: Iterable[nn.Module] | None = None, *, name: str | None = None):
        super().__init__()
        self.name = name
        self.layers = nn.ModuleList()
        self.build_input_shape: tuple | None = None  # (time, features) or (time,) as first seen
        self.build_input_dtype: str | None = None  # "float" or "int"
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: nn.Module | SymbolicTensor) -> None:
        """Append ``layer`` (any ``nn.Module``; an ``Input(...)`` only first)."""
        if isinstance(layer, SymbolicTensor):
            if layer.input_layer is None:
                raise ConfigError(f"Sequential takes layers and, first, an Input(...); got {layer!r}, made by a layer")
            layer = layer.input_layer
        if not isinstance(layer, nn.Module):
            raise TypeError(f"Sequential.add expected a layer (torch.nn.Module), got {type(layer).__name__}")
        if isinstance(layer, InputLayer):
            if len(self.layers):
                raise ConfigError("Input(...) can only be the first layer of a Sequential")
        self.layers.append(layer)
        if self.build_input_shape is None and len(self.layers) == 1:
            shape = getattr(layer, "input_shape", None)
            if shape is not None:
                self.build_input_shape = tuple(shape)
                integer = isinstance(layer, InputLayer) and not layer.output.dtype.is_floating_point
                self.build_input_dtype = "int" if isinstance(layer, Embedding) or integer else "float"
        if self.build_input_shape is not None and not getattr(layer, "built", True):
            self.build()  # as Keras does: with a known input shape every added layer gets its weights at once

    def pop(self) -> nn.Module:
        if not len(self.layers):
            raise ConfigError("Sequential.pop: the model has no layers")
        layer = self.layers[-1]
        del self.layers[-1]
        return layer

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if not len(self.layers):
            raise ConfigError("Sequential has no layers: add some with model.add(layer)")
        if self.build_input_shape is None or self.build_input_dtype is None:
            shape = list(x.shape[1:])
            kind = "float" if x.is_floating_point() else "int"
            if self.build_input_shape is None:
                if len(shape) >= 2 or (kind == "int" and len(shape) == 1):
                    shape[0] = None  # the time axis: any length
                self.build_input_shape = tuple(shape)
            self.build_input_dtype = kind
        for layer in self.layers:
            if isinstance(layer, Layer):
                out = layer(x, mask=mask)
                mask = layer.compute_mask(x, mask)
            else:
                out = layer(x)
                mask = None
            x = out
        return x

    @property
    def built(self) -> bool:
        return all(getattr(layer, "built", True) for layer in self.layers) and len(self.layers) > 0

    def build(self, input_shape: Sequence[int | None] | None = None) -> None:
        """Create every layer's weights for inputs of shape ``(batch, *input_shape)``."""
        shape = tuple(input_shape) if input_shape is not None else self.build_input_shape
        if shape is None:
            raise NotBuiltError("Sequential.build needs an input shape: give the first layer input_shape=, or call build((T, F))")
        self.build_input_shape = shape
        dummy_shape = [1] + [2 if d is None else d for d in shape]
        if self.build_input_dtype == "int" or (self.layers and isinstance(self.layers[0], Embedding)):
            x = torch.zeros(dummy_shape, dtype=torch.long)
            self.build_input_dtype = "int"
        else:
            x = torch.zeros(dummy_shape, dtype=torch.get_default_dtype())
            self.build_input_dtype = "float"
        was = self.training
        self.eval()
        with torch.no_grad(), keep_carried_state(self):
            self(x)
        self.train(was)

    def reset_states(self) -> None:
        for m in self.modules():
            if m is not self and hasattr(m, "reset_states"):
                m.reset_states()

    # -- summary ----------------------------------------------------------------------------------
    def summary(self, print_fn=print) -> str:
        """A table of layers, output shapes and parameter counts (printed, and returned)."""
        if not self.built:
            if self.build_input_shape is None:  # as Keras: the layers, their shapes unknown, unbuilt ones without weights
                rows = [(layer_label(m), "?", f"{sum(p.numel() for p in m.parameters()):,}" if getattr(m, "built", True)
                         else "0 (unbuilt)") for m in self.layers]  # fmt: skip
                return summary_table(self.name or "sequential", rows, ("Layer (type)", "Output Shape", "Param #"), self, print_fn)
            self.build()
        shape = self.build_input_shape
        dtype = torch.long if self.build_input_dtype == "int" else self._dtype()

        def shapes_of(out) -> list[tuple[int, ...]]:
            if isinstance(out, (tuple, list)):
                return [s for o in out for s in shapes_of(o)]
            return [tuple(out.shape[1:])]

        def trace(T: int) -> list[tuple[str, list[tuple[int, ...]], int]]:
            # one pass with every free (None) input axis set to T; records each layer's output shapes
            found: list[tuple[str, list[tuple[int, ...]], int]] = []

            def hook(mod, inp, out):
                found.append((layer_label(mod), shapes_of(out), sum(p.numel() for p in mod.parameters())))

            hooks = [layer.register_forward_hook(hook) for layer in self.layers]
            x = torch.zeros([1, *(T if d is None else d for d in shape)], dtype=dtype)
            was = self.training
            self.eval()
            try:
                with torch.no_grad(), keep_carried_state(self):
                    self(x)
            finally:
                for h in hooks:
                    h.remove()
                self.train(was)
            return found

        # an axis is None in the table where it follows a free input axis: it differs between two runs
        first = trace(7)
        second = trace(11) if any(d is None for d in shape) else first
        rows = []
        for (name, shapes_a, params), (_, shapes_b, _) in zip(first, second):
            shapes = [(None, *(a if a == b else None for a, b in zip(sa, sb))) for sa, sb in zip(shapes_a, shapes_b)]
            rows.append((name, shape_text(shapes), f"{params:,}"))
        return summary_table(self.name or "sequential", rows, ("Layer (type)", "Output Shape", "Param #"), self, print_fn)

    def _dtype(self) -> torch.dtype:
        for p in self.parameters():
            if p.is_floating_point():
                return p.dtype
        return torch.get_default_dtype()

    # -- configuration ----------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        specs = []
        for layer in self.layers:
            if not isinstance(layer, Layer):
                raise ConfigError(f"Sequential can only save recurra layers, got {type(layer).__name__}")
            specs.append(layer_to_config(layer))
        return {
            "name": self.name,
            "layers": specs,
            "build_input_shape": None if self.build_input_shape is None else list(self.build_input_shape),
            "build_input_dtype": self.build_input_dtype,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        model = cls([layer_from_config(spec) for spec in config.get("layers", [])], name=config.get("name"))
        shape = config.get("build_input_shape")
        if shape is not None:
            model.build_input_shape = tuple(shape)
            model.build_input_dtype = config.get("build_input_dtype") or "float"
        return model

    def extra_repr(self) -> str:
        return "" if self.build_input_shape is None else f"input_shape={format_shape(self.build_input_shape)}"
