"""The layer base: lazy building, masks, configuration and Keras-layout weights.

Every recurra layer is a ``torch.nn.Module``. Its weights are created by ``build(input_shape)``,
either in the constructor (when ``input_shape=(timesteps, features)`` is given) or on the first
call, from the shape of the first input. ``get_config()`` returns plain JSON types and
``from_config()`` rebuilds the layer; ``get_weights()`` / ``set_weights()`` speak Keras 3's layout.
"""

from __future__ import annotations

import copy
from typing import Any, NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError, NotBuiltError, ShapeError, format_shape
from ..registry import LAYERS as LAYERS  # re-exported: the layer registry lives in recurra.registry
from ..registry import register_layer as register  # noqa: F401 (the decorator every layer module imports from here)
from .symbolic import call_symbolically, has_symbolic


def check_positive_int(name: str, value: Any, maximum: int | None = None) -> int:
    """``value`` as an int when it is a positive integer (at most ``maximum``); a ``ConfigError`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ConfigError(f"expected {name} to be a positive integer, got {value!r}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"expected {name} to be at most {maximum:,} (recurra.limits), got {value!r}")
    return int(value)


def check_rate(name: str, value: Any) -> float:
    if not isinstance(value, (int, float)) or not 0.0 <= float(value) < 1.0:
        raise ConfigError(f"expected {name} in [0, 1), got {value!r}")
    return float(value)


def normalize_input_shape(input_shape: Any) -> tuple | None:
    if input_shape is None:
        return None
    if isinstance(input_shape, (int, np.integer)):
        input_shape = (int(input_shape),)
    try:
        shape = tuple(None if d is None else int(d) for d in input_shape)
    except (TypeError, ValueError):
        raise ConfigError(f"expected input_shape as a tuple of ints or None, got {input_shape!r}") from None
    if any(d is not None and d <= 0 for d in shape):
        raise ConfigError(f"expected input_shape with positive sizes, got {format_shape(shape)}")
    return shape


def _unbuilt_copy(layer: Layer) -> Layer:
    """A copy of ``layer`` with its settings and no weights, ready for ``build``: its sub-layers are copied
    the same way, other sub-modules (a recurrent layer's cell) are left for ``build`` to create again."""
    fresh = copy.copy(layer)
    fresh._parameters, fresh._buffers, fresh._non_persistent_buffers_set = {}, {}, set()
    fresh._modules = {name: _unbuilt_copy(m) for name, m in layer._modules.items() if isinstance(m, Layer)}
    fresh.built = False
    return fresh


class DrawnWeights(NamedTuple):
    """How ``Layer.build_weights`` drew a layer's weights: the input shape, dtype and device it was
    built for, and each parameter with its version counter at that moment."""

    shape: tuple
    dtype: torch.dtype | None
    device: Any
    weights: list[tuple[torch.Tensor, int]]


class Layer(nn.Module):
    """Base class of recurra layers.

    Subclasses set ``supports_masking`` (pass an incoming mask through unchanged) or override
    ``compute_mask``, implement ``build`` and ``forward(x, mask=None, ...)``, and list their
    constructor arguments in ``get_config``.
    """

    supports_masking = False
    # whether the layer carries state from one call to the next (stateful layers, truncated BPTT):
    # None: it holds no such state; True: it can (``Recurrent``); False: it refuses, saying why in
    # ``carry_refusal`` (``Bidirectional``)
    supports_carry: bool | None = None

    def __init__(self, *, input_shape: Sequence[int | None] | None = None, name: str | None = None):
        super().__init__()
        self.input_shape = normalize_input_shape(input_shape)
        self.name = name
        self.built = False
        self._drawn: DrawnWeights | None = None  # how build_weights drew the weights, for redraw_initial_weights

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the layer; on symbolic tensors (Keras's functional API) record the call and return
        symbolic outputs instead (``recurra.layers.symbolic``)."""
        if has_symbolic(args, kwargs):
            return call_symbolically(self, args, kwargs)
        return super().__call__(*args, **kwargs)

    # -- building ---------------------------------------------------------------------------------
    def build(self, input_shape: tuple, *, dtype: torch.dtype | None = None, device=None) -> None:
        """Create the weights for inputs of shape ``(batch, *input_shape)`` (subclasses override it)."""
        self.built = True

    def build_weights(self, input_shape: Sequence[int | None], *, dtype: torch.dtype | None = None, device=None) -> None:
        """``build``, remembering the shape and the weights just drawn: until a step, a load or an
        in-place change alters them, ``fit(seed=...)`` draws them again from its seed
        (``redraw_initial_weights``), so a layer built at construction starts from the same weights as
        one built at the first call."""
        shape = tuple(input_shape)
        self.build(shape, dtype=dtype, device=device)
        self._drawn = DrawnWeights(shape, dtype, device, [(p, p._version) for p in self.parameters()])

    def maybe_build(self, x: torch.Tensor) -> None:
        if not self.built:
            dtype = x.dtype if x.is_floating_point() else torch.get_default_dtype()
            self.build_weights(tuple(x.shape[1:]), dtype=dtype, device=x.device)

    def _build_from_input_shape(self) -> None:
        if self.input_shape is not None and all(d is not None for d in self.input_shape[-1:]):
            self.build_weights(self.input_shape)

    def untouched_since_drawn(self) -> bool:
        """Whether the weights are still exactly those ``build_weights`` drew (no step, load or edit since)."""
        drawn = self._drawn
        if drawn is None or not self.built:
            return False
        now = list(self.parameters())
        return len(now) == len(drawn.weights) and all(p is q and p._version == v for p, (q, v) in zip(now, drawn.weights))

    def redraw(self) -> None:
        """Draw the weights again, from the current random state, exactly as ``build_weights`` drew them
        (the values are copied into the existing parameters, so optimisers holding them stay valid)."""
        drawn = self._drawn
        if drawn is None:
            raise NotBuiltError(f"{type(self).__name__} was not built by build_weights: nothing to draw again")
        fresh = _unbuilt_copy(self)
        fresh.build_weights(drawn.shape, dtype=drawn.dtype, device=drawn.device)
        with torch.no_grad():  # sub-modules build does not create (a plain module inside TimeDistributed) keep theirs
            self.load_state_dict(fresh.state_dict(), strict=False)
        self._drawn = DrawnWeights(drawn.shape, drawn.dtype, drawn.device, [(p, p._version) for p in self.parameters()])

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise NotBuiltError(
                f"{type(self).__name__} has no weights yet: {what} needs them; give input_shape= "
                "or call the layer on an input first"
            )

    # -- masks ------------------------------------------------------------------------------------
    def compute_mask(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor | None:
        """The mask of this layer's output, given its input and input mask."""
        return mask if self.supports_masking else None

    # -- configuration ----------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name}
        if self.input_shape is not None:
            config["input_shape"] = list(self.input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        return cls(**config)

    # -- weights in Keras layout ------------------------------------------------------------------
    def keras_weights(self) -> list[torch.Tensor]:
        """Tensors in Keras's order and layout (views or copies of the parameters)."""
        return [p for p in self.parameters()]

    def load_keras_weights(self, arrays: list[torch.Tensor]) -> None:
        """Copy Keras-layout arrays into the parameters (override with the inverse of keras_weights)."""
        for p, a in zip(self.parameters(), arrays):
            p.copy_(a)

    def get_weights(self) -> list[np.ndarray]:
        """The weights as numpy arrays, in Keras 3's order and layout."""
        self._require_built("get_weights()")
        return [w.detach().cpu().numpy().copy() for w in self.keras_weights()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Load weights given in Keras 3's order and layout (as returned by ``get_weights``)."""
        self._require_built("set_weights()")
        expected = [tuple(w.shape) for w in self.keras_weights()]
        weights = list(weights)
        if len(weights) != len(expected):
            raise ShapeError(
                f"{type(self).__name__}.set_weights expected {len(expected)} arrays of shapes "
                f"{', '.join(format_shape(s) for s in expected)}, got {len(weights)}"
            )
        if not expected:
            return  # a layer without weights takes the empty list
        ref = next(self.parameters())
        arrays = []
        for i, (w, shape) in enumerate(zip(weights, expected)):
            a = torch.as_tensor(np.asarray(w), dtype=ref.dtype, device=ref.device)
            if tuple(a.shape) != shape:
                raise ShapeError(
                    f"{type(self).__name__}.set_weights: array {i} expected shape {format_shape(shape)}, "
                    f"got {format_shape(a.shape)}"
                )
            arrays.append(a)
        with torch.no_grad():
            self.load_keras_weights(arrays)

    def extra_repr(self) -> str:
        keys = [k for k in self.get_config() if k not in ("name",)]
        config = self.get_config()
        return ", ".join(f"{k}={config[k]!r}" for k in keys[:6])
