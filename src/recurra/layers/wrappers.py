"""Wrappers: ``Bidirectional`` (a forward and a backward copy of a recurrent layer) and
``TimeDistributed`` (a layer applied to every time step)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..errors import ConfigError, ShapeError, format_shape, unknown_name
from .base import LAYERS, Layer, register
from .recurrent import Recurrent

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def layer_to_config(layer: Layer) -> dict[str, Any]:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def layer_from_config(spec: dict[str, Any]) -> Layer:
    name = spec.get("class_name")
    if name not in LAYERS:
        raise unknown_name("layer", name, list(LAYERS))
    return LAYERS[name].from_config(dict(spec.get("config", {})))


@register
class Bidirectional(Layer):
    """Runs ``layer`` forwards and a copy of it backwards over the sequence and merges the two.

    ``merge_mode``: ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"``, or ``None`` (a list of the
    two outputs). With ``return_sequences`` the backward outputs are flipped back so step ``t`` of
    both refers to input step ``t``; with a mask each sequence is reversed over its real steps only.
    ``return_state`` gives ``(output, *forward_states, *backward_states)``; ``initial_state`` takes
    the forward states followed by the backward ones.

    Shapes: ``(B, T, F)`` -> ``(B, T, 2H)`` or ``(B, 2H)`` with concat, ``H`` with the other merges.

    >>> from recurra.layers.rnn import LSTM
    >>> tuple(Bidirectional(LSTM(4, return_sequences=True))(torch.zeros(2, 5, 3)).shape)
    (2, 5, 8)
    """

    supports_carry = False
    carry_refusal = "the backward direction needs the whole sequence"

    def __init__(
        self,
        layer: Recurrent,
        merge_mode: str | None = "concat",
        *,
        backward_layer: Recurrent | None = None,
        input_shape=None,
        name: str | None = None,
    ):
        if not isinstance(layer, Recurrent):
            raise ConfigError(f"Bidirectional expected a recurrent layer, got {type(layer).__name__}")
        if merge_mode not in MERGE_MODES:
            raise ConfigError(f"expected merge_mode in {MERGE_MODES}, got {merge_mode!r}")
        input_shape = input_shape if input_shape is not None else layer.input_shape
        super().__init__(input_shape=input_shape, name=name)
        if backward_layer is None:
            backward_layer = layer.reversed_copy()
        elif backward_layer.go_backwards == layer.go_backwards:
            raise ConfigError(
                "Bidirectional expected backward_layer.go_backwards to differ from layer.go_backwards, both are "
                f"{layer.go_backwards}"
            )
        if backward_layer.return_sequences != layer.return_sequences or backward_layer.return_state != layer.return_state:
            raise ConfigError("Bidirectional expected layer and backward_layer to agree on return_sequences and return_state")
        for lay in (layer, backward_layer):  # as Keras: under a mask, zeros where a sequence has no step
            lay.zero_output_for_mask = lay.return_sequences
        self.forward_layer = layer
        self.backward_layer = backward_layer
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.built = layer.built and backward_layer.built
        if not self.built:
            self._build_from_input_shape()

    def build(self, input_shape, *, dtype=None, device=None):
        for lay in (self.forward_layer, self.backward_layer):
            if not lay.built:
                lay.build_weights(input_shape, dtype=dtype, device=device)
        self.built = True

    @property
    def kernel(self) -> str | None:
        return self.forward_layer.kernel

    def _merge(self, a: torch.Tensor, b: torch.Tensor):
        if self.merge_mode == "concat":
            return torch.cat([a, b], -1)  # (..., H) + (..., H) -> (..., 2H)
        if self.merge_mode == "sum":
            return a + b
        if self.merge_mode == "mul":
            return a * b
        if self.merge_mode == "ave":
            return (a + b) / 2
        return [a, b]

    def forward(self, x, mask=None, lengths=None, initial_state=None, training: bool | None = None):
        fwd_init = bwd_init = None
        if initial_state is not None:
            states = list(initial_state)
            n = len(self.forward_layer.state_names)
            if len(states) != 2 * n:
                raise ShapeError(
                    f"Bidirectional expected initial_state with {2 * n} tensors (forward then backward), got {len(states)}"
                )
            fwd_init, bwd_init = states[:n], states[n:]
        kw = dict(mask=mask, lengths=lengths, training=training)
        y_f = self.forward_layer(x, initial_state=fwd_init, **kw)
        y_b = self.backward_layer(x, initial_state=bwd_init, **kw)
        self.built = True  # both layers built themselves on this call if they had not been
        states: list[torch.Tensor] = []
        if self.return_state:
            y_f, *s_f = y_f
            y_b, *s_b = y_b
            states = s_f + s_b
        if self.return_sequences:
            y_b = y_b.flip(1)  # back to input time order
        y = self._merge(y_f, y_b)
        if self.return_state:
            return (y, *states)
        return y

    def compute_mask(self, x, mask):
        return mask if self.return_sequences else None

    def reset_states(self) -> None:
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def keras_weights(self):
        return self.forward_layer.keras_weights() + self.backward_layer.keras_weights()

    def load_keras_weights(self, arrays):
        n = len(self.forward_layer.keras_weights())
        self.forward_layer.load_keras_weights(arrays[:n])
        self.backward_layer.load_keras_weights(arrays[n:])

    def get_config(self):
        return dict(
            super().get_config(),
            layer=layer_to_config(self.forward_layer),
            backward_layer=layer_to_config(self.backward_layer),
            merge_mode=self.merge_mode,
        )

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        layer = layer_from_config(config.pop("layer"))
        backward = config.pop("backward_layer", None)
        backward = layer_from_config(backward) if backward is not None else None
        return cls(layer, backward_layer=backward, **config)


@register
class TimeDistributed(Layer):
    """Applies ``layer`` to every time step: ``(B, T, ...) -> (B, T, ...)`` via ``(B·T, ...)``.

    >>> from recurra.layers.core import Dense
    >>> tuple(TimeDistributed(Dense(2))(torch.zeros(4, 5, 3)).shape)
    (4, 5, 2)
    """

    supports_masking = True

    def __init__(self, layer: nn.Module, *, input_shape=None, name: str | None = None):
        super().__init__(input_shape=input_shape, name=name)
        self.layer = layer
        self.built = getattr(layer, "built", True)
        if not self.built:
            self._build_from_input_shape()

    def build(self, input_shape, *, dtype=None, device=None):
        if isinstance(self.layer, Layer) and not self.layer.built:
            self.layer.build_weights(tuple(input_shape[1:]), dtype=dtype, device=device)  # one step's shape
        self.built = True

    def forward(self, x, mask=None):
        if x.dim() < 3:
            raise ShapeError(f"TimeDistributed expected input of shape (batch, time, ...), got {format_shape(x.shape)}")
        B, T = x.shape[:2]
        y = self.layer(x.reshape(B * T, *x.shape[2:]))  # (B*T, ...)
        self.built = True
        return y.reshape(B, T, *y.shape[1:])  # (B, T, ...)

    def keras_weights(self):
        return self.layer.keras_weights()

    def load_keras_weights(self, arrays):
        self.layer.load_keras_weights(arrays)

    def get_config(self):
        if not isinstance(self.layer, Layer):
            raise ConfigError(f"TimeDistributed can only save recurra layers, got {type(self.layer).__name__}")
        return dict(super().get_config(), layer=layer_to_config(self.layer))

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(layer_from_config(config.pop("layer")), **config)
