"""Keras's cell layers: ``SimpleRNNCell``, ``LSTMCell``, ``GRUCell`` (one time step each) and
``StackedRNNCells`` (several cells as one).

A cell layer is what ``RNN(cell)`` loops over time, as in Keras: ``output, new_states = cell(x_t,
states)`` with ``x_t (B, F)`` and ``states`` a list of ``(B, H)`` tensors (``[h]``, or ``[h, c]`` for
the LSTM). Each holds one of recurra's cells (``recurra.cells``: the equations are written there, once)
and speaks Keras's weight layout, so its weights are interchangeable with the matching layer's:
``RNN(LSTMCell(8)).get_weights()`` has the shapes of ``LSTM(8).get_weights()``. ``RNN`` runs these cells
with recurra's fused kernels where the options allow.

``dropout`` and ``recurrent_dropout`` draw one mask per sequence (``RNN`` draws them; a cell called by
hand draws them on each call while training).

>>> cell = LSTMCell(4)
>>> y, (h, c) = cell(torch.zeros(2, 3), [torch.zeros(2, 4), torch.zeros(2, 4)])
>>> tuple(y.shape), cell.state_size
((2, 4), [4, 4])
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from .. import activations, constraints, initializers, regularizers
from ..cells import GRUCell as CoreGRUCell
from ..cells import LSTMCell as CoreLSTMCell
from ..cells import SimpleRNNCell as CoreSimpleRNNCell
from ..errors import ConfigError, ShapeError, format_shape
from ..limits import MAX_UNITS
from .base import Layer, check_positive_int, check_rate, register
from .rnn import gru_keras_weights, load_gru_keras_weights, load_lstm_keras_weights, lstm_keras_weights

ROLES = ("kernel", "recurrent_kernel", "bias")


class _CellLayer(Layer):
    """The common part of the built-in cell layers: one of recurra's cells, built for ``F`` input features."""

    core_class: type = None  # the recurra.cells class
    weight_roles = ROLES

    def _setup(self, units: int, common: dict[str, Any], dropout: float, recurrent_dropout: float, seed: int | None) -> None:
        self.units = check_positive_int("units", units, MAX_UNITS)
        self.activation = activations.canonical(common["activation"])
        self.use_bias = bool(common["use_bias"])
        self.kernel_initializer = initializers.serialize(common["kernel_initializer"])
        self.recurrent_initializer = initializers.serialize(common["recurrent_initializer"])
        self.bias_initializer = initializers.serialize(common["bias_initializer"])
        self.regularizers = {r: regularizers.get(common[f"{r}_regularizer"]) for r in ROLES}
        self.constraints = {r: constraints.get(common[f"{r.removesuffix('_kernel') or r}_constraint"]) for r in ROLES}
        self.dropout = check_rate("dropout", dropout)
        self.recurrent_dropout = check_rate("recurrent_dropout", recurrent_dropout)
        self.seed = None if seed is None else int(seed)
        self.cell = None

    @property
    def state_size(self) -> list[int]:
        return [self.units] * len(self.core_class.State._fields)

    @property
    def output_size(self) -> int:
        return self.units

    def core_kwargs(self) -> dict[str, Any]:
        return dict(
            activation=self.activation,
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            recurrent_initializer=self.recurrent_initializer,
            bias_initializer=self.bias_initializer,
        )

    def build(self, input_shape, *, dtype=None, device=None):
        if not input_shape or input_shape[-1] is None:
            raise ShapeError(f"{type(self).__name__} expected inputs (batch, features) with known features, got {input_shape}")
        self.cell = self.core_class(int(input_shape[-1]), self.units, dtype=dtype, device=device, **self.core_kwargs())
        self.built = True

    def forward(self, inputs: torch.Tensor, states: Sequence[torch.Tensor], training: bool | None = None):
        """One step: ``(output (B, H), new_states)``; dropout masks drawn for this call while training."""
        if not isinstance(inputs, torch.Tensor) or inputs.dim() != 2:
            found = format_shape(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__
            raise ShapeError(f"{type(self).__name__} expected one step of shape (batch, features), got {found}")
        self.maybe_build(inputs)
        states = [states] if isinstance(states, torch.Tensor) else list(states)
        names = self.core_class.State._fields
        if len(states) != len(names):
            expected = f"{len(names)} state tensor(s) ({', '.join(names)})"
            raise ShapeError(f"{type(self).__name__} expected {expected}, got {len(states)}")
        training = self.training if training is None else training
        recurrent_mask = None
        if training and self.dropout:
            inputs = torch.nn.functional.dropout(inputs, self.dropout)
        if training and self.recurrent_dropout:
            keep = 1.0 - self.recurrent_dropout
            recurrent_mask = torch.bernoulli(inputs.new_full((inputs.shape[0], self.units), keep)) / keep
        y, new_state = self.cell.step(inputs, self.cell.State(*states), recurrent_mask)
        return y, list(new_state)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "recurrent_initializer": self.recurrent_initializer,
            "bias_initializer": self.bias_initializer,
            "kernel_regularizer": regularizers.serialize(self.regularizers["kernel"]),
            "recurrent_regularizer": regularizers.serialize(self.regularizers["recurrent_kernel"]),
            "bias_regularizer": regularizers.serialize(self.regularizers["bias"]),
            "kernel_constraint": constraints.serialize(self.constraints["kernel"]),
            "recurrent_constraint": constraints.serialize(self.constraints["recurrent_kernel"]),
            "bias_constraint": constraints.serialize(self.constraints["bias"]),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }


def _common(**kwargs: Any) -> dict[str, Any]:
    return kwargs


@register
class SimpleRNNCell(_CellLayer):
    """One step of ``SimpleRNN``: ``h_t = act(W_xh x_t + W_hh h_{t-1} + b_h)`` (``recurra.cells.elman``,
    lateral feedback). Keras weights ``[kernel (F, H), recurrent_kernel (H, H), bias (H,)]``."""

    core_class = CoreSimpleRNNCell

    def __init__(
        self,
        units: int,
        activation: str | None = "tanh",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        *,
        name: str | None = None,
        dtype: Any = None,
        trainable: bool = True,
    ):
        super().__init__(name=name, dtype=dtype, trainable=trainable)
        common = _common(activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, recurrent_kernel_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint)  # fmt: skip
        self._setup(units, common, dropout, recurrent_dropout, seed)

    def keras_weights(self):
        self._require_built("get_weights()")
        c = self.cell
        return [c.weight_ih.T, c.weight_hh.T] + ([c.bias] if c.bias is not None else [])

    def load_keras_weights(self, arrays):
        c = self.cell
        c.weight_ih.copy_(arrays[0].T)
        c.weight_hh.copy_(arrays[1].T)
        if c.bias is not None:
            c.bias.copy_(arrays[2])


@register
class LSTMCell(_CellLayer):
    """One step of ``LSTM`` (``recurra.cells.lstm``): states ``[h, c]``. Keras weights ``[kernel (F, 4H),
    recurrent_kernel (H, 4H), bias (4H,)]``, gates ``i, f, c, o``."""

    core_class = CoreLSTMCell

    def __init__(
        self,
        units: int,
        activation: str | None = "tanh",
        recurrent_activation: str | None = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        unit_forget_bias: bool = True,
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        *,
        name: str | None = None,
        dtype: Any = None,
        trainable: bool = True,
    ):
        super().__init__(name=name, dtype=dtype, trainable=trainable)
        common = _common(activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, recurrent_kernel_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint)  # fmt: skip
        self._setup(units, common, dropout, recurrent_dropout, seed)
        self.recurrent_activation = activations.canonical(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    def core_kwargs(self):
        return dict(super().core_kwargs(), recurrent_activation=self.recurrent_activation, unit_forget_bias=self.unit_forget_bias)

    def get_config(self):
        return dict(super().get_config(), recurrent_activation=self.recurrent_activation, unit_forget_bias=self.unit_forget_bias)

    def keras_weights(self):
        self._require_built("get_weights()")
        return lstm_keras_weights(self.cell)

    def load_keras_weights(self, arrays):
        load_lstm_keras_weights(self.cell, arrays)


@register
class GRUCell(_CellLayer):
    """One step of ``GRU`` (``recurra.cells.gru``). Keras weights ``[kernel (F, 3H), recurrent_kernel (H, 3H),
    bias]``, gates ``z, r, h``, ``bias`` ``(2, 3H)`` when ``reset_after`` (the default) else ``(3H,)``."""

    core_class = CoreGRUCell

    def __init__(
        self,
        units: int,
        activation: str | None = "tanh",
        recurrent_activation: str | None = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        reset_after: bool = True,
        seed: int | None = None,
        *,
        name: str | None = None,
        dtype: Any = None,
        trainable: bool = True,
    ):
        super().__init__(name=name, dtype=dtype, trainable=trainable)
        common = _common(activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, recurrent_kernel_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint)  # fmt: skip
        self._setup(units, common, dropout, recurrent_dropout, seed)
        self.recurrent_activation = activations.canonical(recurrent_activation)
        self.reset_after = bool(reset_after)

    def core_kwargs(self):
        return dict(super().core_kwargs(), recurrent_activation=self.recurrent_activation, reset_after=self.reset_after)

    def get_config(self):
        return dict(super().get_config(), recurrent_activation=self.recurrent_activation, reset_after=self.reset_after)

    def keras_weights(self):
        self._require_built("get_weights()")
        return gru_keras_weights(self.cell, self.reset_after)

    def load_keras_weights(self, arrays):
        load_gru_keras_weights(self.cell, self.reset_after, arrays)


def check_cell(cell: Any, where: str = "RNN") -> None:
    """Refuse, by name, what is not a cell: a cell has ``state_size`` and is called as ``cell(x_t, states)``."""
    if isinstance(cell, type):
        raise ConfigError(f"{where} expected a cell instance, got the class {cell.__name__}; write {cell.__name__}(units)")
    if not callable(cell) or getattr(cell, "state_size", None) is None:
        raise ConfigError(
            f"{where} expected a cell: a layer with a state_size attribute and call(inputs, states), "
            f"got {type(cell).__name__}"
        )


def sizes_of(state_size: Any) -> list[int]:
    """``state_size`` (an int, or a list of them) as a list."""
    return [int(state_size)] if isinstance(state_size, int) else [int(s) for s in state_size]


@register
class StackedRNNCells(Layer):
    """Several cells as one (Keras's ``StackedRNNCells``): each step runs them in order, each cell's output
    the next one's input; the states are one list per cell. ``RNN([cell_1, cell_2])`` builds one."""

    def __init__(self, cells: Sequence[Any], *, name: str | None = None, dtype: Any = None, trainable: bool = True):
        super().__init__(name=name, dtype=dtype, trainable=trainable)
        cells = list(cells)
        if not cells:
            raise ConfigError("StackedRNNCells expected at least one cell, got an empty list")
        for cell in cells:
            check_cell(cell, "StackedRNNCells")
        self.cells = torch.nn.ModuleList(cells)

    @property
    def state_size(self) -> list[Any]:
        return [c.state_size for c in self.cells]

    @property
    def output_size(self) -> int:
        last = self.cells[-1]
        return getattr(last, "output_size", None) or sizes_of(last.state_size)[0]

    def build(self, input_shape, *, dtype=None, device=None):
        features = int(input_shape[-1])
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build_weights((features,), dtype=dtype, device=device)
            features = getattr(cell, "output_size", None) or sizes_of(cell.state_size)[0]
        self.built = True

    def forward(self, inputs: torch.Tensor, states: Sequence[Any], training: bool | None = None):
        self.maybe_build(inputs)
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            as_list = isinstance(cell_states, (list, tuple))
            inputs, cell_new = cell(inputs, list(cell_states) if as_list else [cell_states], training=training)
            cell_new = [cell_new] if isinstance(cell_new, torch.Tensor) else list(cell_new)
            new_states.append(cell_new if as_list or len(cell_new) > 1 else cell_new[0])
        return inputs, new_states

    def keras_weights(self):
        self._require_built("get_weights()")
        return [w for c in self.cells for w in c.keras_weights()]

    def load_keras_weights(self, arrays):
        i = 0
        for c in self.cells:
            n = len(c.keras_weights())
            c.load_keras_weights(arrays[i : i + n])
            i += n

    @property
    def losses(self) -> list[torch.Tensor]:
        return []  # each cell reports its own (they are layers of the model too)

    def get_config(self):
        from .wrappers import layer_to_config  # wrappers imports this module's neighbours

        return {**super().get_config(), "cells": [layer_to_config(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config):
        from .wrappers import layer_from_config

        config = dict(config)
        return cls([layer_from_config(c) for c in config.pop("cells")], **config)


__all__ = ["SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells", "check_cell", "sizes_of"]
