"""The non-recurrent layers Keras users reach for: Dense, Embedding, Dropout, Masking, Flatten,
Activation, Input.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from .. import activations, initializers
from ..dtypes import DTYPES as DTYPES  # noqa: F401 (re-exported: the names Input's dtype takes)
from ..dtypes import dtype_of
from ..errors import ConfigError, InputValueError, ShapeError, format_shape
from ..limits import MAX_FEATURES
from .base import LAYERS, Layer, check_positive_int, check_rate, register
from .symbolic import SymbolicTensor


@register
class InputLayer(Layer):
    """The entry of a model: states the shape of its inputs (``(batch, *shape)``) and checks them.

    ``Input(shape)`` makes one and returns its symbolic tensor (the functional API); as the first
    layer of a ``Sequential`` it states the model's input shape. ``batch_size`` fixes the batch axis.
    """

    supports_masking = True

    def __init__(self, shape: Sequence[int | None], *, batch_size: int | None = None, name: str | None = None,
                 dtype: str | None = None):  # fmt: skip
        super().__init__(input_shape=shape, name=name)
        self.batch_size = None if batch_size is None else check_positive_int("batch_size", batch_size)
        self.dtype_name = None if dtype is None else str(dtype).removeprefix("torch.")
        self._tensor = SymbolicTensor((self.batch_size, *self.input_shape), dtype_of(self.dtype_name), name=name,
                                      input_layer=self)  # fmt: skip
        self.built = True

    @property
    def output(self) -> SymbolicTensor:
        """The symbolic tensor ``Input`` returns (it is the layer's input too)."""
        return self._tensor

    @property
    def input(self) -> SymbolicTensor:
        return self._tensor

    def forward(self, x, mask=None):
        want = self.input_shape
        got = tuple(x.shape[1:])
        if len(got) != len(want) or any(w is not None and w != g for w, g in zip(want, got)):
            raise ShapeError(f"expected input of shape (batch, {', '.join(map(str, want))}), got {format_shape(x.shape)}")
        return x

    def get_config(self):
        return {"shape": list(self.input_shape), "batch_size": self.batch_size, "name": self.name, "dtype": self.dtype_name}


LAYERS["Input"] = InputLayer  # the name configs written before the functional API give it


def Input(
    shape: Sequence[int | None] | None = None,
    batch_size: int | None = None,
    dtype: str | torch.dtype | None = None,
    name: str | None = None,
    *,
    batch_shape: Sequence[int | None] | None = None,
) -> SymbolicTensor:
    """A symbolic input of a functional model, ``(batch, *shape)`` (Keras's ``keras.Input``): call layers
    on it, then ``Model(inputs, outputs)``. As the first entry of a ``Sequential`` it states the input
    shape. ``batch_shape=(B, *shape)`` is ``shape`` and ``batch_size`` at once.

    >>> x = Input(shape=(None, 3))
    >>> x.shape
    (None, None, 3)
    """
    if batch_shape is not None:
        batch_size, shape = batch_shape[0], tuple(batch_shape[1:])
    if shape is None:
        raise ConfigError("Input expected shape=(...) (the shape of one sample) or batch_shape=(batch, ...), got neither")
    return InputLayer(shape, batch_size=batch_size, name=name, dtype=dtype).output


@register
class Dense(Layer):
    """``y = activation(x W + b)`` on the last axis (``x (..., F) -> y (..., units)``).

    Keras weights: ``[kernel (F, units), bias (units,)]``; stored as ``weight (units, F)`` like
    ``torch.nn.Linear``. Masks pass through.

    >>> tuple(Dense(4, activation="relu")(torch.zeros(2, 3)).shape)
    (2, 4)
    """

    supports_masking = True
    activation_attributes = {"act": "activation"}  # the function of each stored name (ActivationsByName)

    def __init__(
        self,
        units: int,
        activation: str | None = None,
        *,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        input_shape=None,
        name: str | None = None,
    ):
        super().__init__(input_shape=input_shape, name=name)
        self.units = check_positive_int("units", units, MAX_FEATURES)
        self.activation = activations.canonical(activation)
        self.resolve_activations()  # self.act
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.serialize(kernel_initializer)
        self.bias_initializer = initializers.serialize(bias_initializer)
        self.in_features: int | None = None
        self._build_from_input_shape()

    def build(self, input_shape, *, dtype=None, device=None):
        if not input_shape or input_shape[-1] is None:
            raise ShapeError(f"Dense expected input of shape (batch, ..., features), got (batch, {input_shape})")
        self.in_features = int(input_shape[-1])
        w = torch.empty(self.units, self.in_features, dtype=dtype, device=device)
        self.weight = nn.Parameter(initializers.get(self.kernel_initializer)(w))
        if self.use_bias:
            b = torch.empty(self.units, dtype=dtype, device=device)
            self.bias = nn.Parameter(initializers.get(self.bias_initializer)(b))
        else:
            self.bias = None
        self.built = True

    def forward(self, x, mask=None):
        if not isinstance(x, torch.Tensor) or x.dim() < 2:
            got = format_shape(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ShapeError(f"Dense expected input of shape (batch, ..., features), got {got}")
        if self.built and x.shape[-1] != self.in_features:
            raise ShapeError(f"Dense expected input of shape (batch, ..., {self.in_features}), got {format_shape(x.shape)}")
        self.maybe_build(x)
        return self.act(nn.functional.linear(x, self.weight, self.bias))

    def keras_weights(self):
        self._require_built("get_weights()")
        return [self.weight.T] + ([self.bias] if self.bias is not None else [])

    def load_keras_weights(self, arrays):
        self.weight.copy_(arrays[0].T)
        if self.bias is not None:
            self.bias.copy_(arrays[1])

    def get_config(self):
        return dict(
            super().get_config(),
            units=self.units,
            activation=self.activation,
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
        )


@register
class Embedding(Layer):
    """Token ids ``(B, T)`` -> vectors ``(B, T, output_dim)``.

    ``mask_zero=True`` makes id 0 padding: the layer then emits the mask ``ids != 0`` for the next
    layer (so ``input_dim`` should count the padding id). Keras weights: ``[embeddings (input_dim, output_dim)]``.

    >>> emb = Embedding(10, 4, mask_zero=True)
    >>> ids = torch.tensor([[3, 5, 0]])
    >>> tuple(emb(ids).shape), emb.compute_mask(ids, None).tolist()
    ((1, 3, 4), [[True, True, False]])
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        *,
        embeddings_initializer="uniform",
        mask_zero: bool = False,
        input_length: int | None = None,
        input_shape=None,
        name: str | None = None,
    ):
        if input_shape is None and input_length is not None:
            input_shape = (input_length,)
        super().__init__(input_shape=input_shape, name=name)
        self.input_dim = check_positive_int("input_dim", input_dim, MAX_FEATURES)
        self.output_dim = check_positive_int("output_dim", output_dim, MAX_FEATURES)
        self.embeddings_initializer = initializers.serialize(embeddings_initializer)
        self.mask_zero = bool(mask_zero)
        self.build_weights(self.input_shape or (None,))  # the table's shape does not depend on the input

    def build(self, input_shape, *, dtype=None, device=None):
        w = torch.empty(self.input_dim, self.output_dim, dtype=dtype, device=device)
        self.embeddings = nn.Parameter(initializers.get(self.embeddings_initializer)(w))
        self.built = True

    def forward(self, ids, mask=None):
        if not isinstance(ids, torch.Tensor):
            raise TypeError(f"Embedding expected a tensor of integer ids, got {type(ids).__name__}")
        checked = not torch.compiler.is_compiling()  # traced graphs (compile, export) cannot branch on values
        if ids.is_floating_point():
            if checked and not bool(torch.all(ids == ids.round())):
                raise InputValueError(f"Embedding expected integer token ids, got non-integer values of dtype {ids.dtype}")
            ids = ids.long()
        if checked and ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.input_dim):
            raise InputValueError(
                f"Embedding expected token ids in [0, {self.input_dim - 1}] (input_dim={self.input_dim}), "
                f"got values from {int(ids.min())} to {int(ids.max())}"
            )
        return nn.functional.embedding(ids, self.embeddings)

    def compute_mask(self, ids, mask):
        if not self.mask_zero:
            return mask
        return ids != 0

    def get_config(self):
        return dict(
            super().get_config(),
            input_dim=self.input_dim,
            output_dim=self.output_dim,
            embeddings_initializer=self.embeddings_initializer,
            mask_zero=self.mask_zero,
        )


@register
class Dropout(Layer):
    """Zeroes a fraction ``rate`` of the inputs while training and scales the rest by ``1/(1-rate)``.

    ``noise_shape`` as in Keras (``None`` entries take the input's size), e.g. ``(None, 1, None)``
    for one mask per sequence.
    """

    supports_masking = True

    def __init__(
        self, rate: float, *, noise_shape: Sequence[int | None] | None = None, name: str | None = None, input_shape=None
    ):
        super().__init__(input_shape=input_shape, name=name)
        self.rate = check_rate("rate", rate)
        self.noise_shape = None if noise_shape is None else list(noise_shape)
        self.built = True

    def forward(self, x, mask=None, training: bool | None = None):
        training = self.training if training is None else training
        if not training or self.rate == 0.0:
            return x
        if self.noise_shape is None:
            return nn.functional.dropout(x, self.rate, True)
        shape = [x.shape[i] if d is None else d for i, d in enumerate(self.noise_shape)]
        keep = 1.0 - self.rate
        return x * torch.bernoulli(x.new_full(shape, keep)) / keep

    def get_config(self):
        return dict(super().get_config(), rate=self.rate, noise_shape=self.noise_shape)


@register
class Masking(Layer):
    """Marks steps whose features all equal ``mask_value`` as padding (``(B, T, F)`` -> mask ``(B, T)``)
    and zeroes them, as Keras does.
    """

    def __init__(self, mask_value: float = 0.0, *, input_shape=None, name: str | None = None):
        super().__init__(input_shape=input_shape, name=name)
        self.mask_value = float(mask_value)
        self.built = True

    def _mask(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 3:
            raise ShapeError(f"Masking expected input of shape (batch, time, features), got {format_shape(x.shape)}")
        return (x != self.mask_value).any(-1)  # (B, T)

    def forward(self, x, mask=None):
        return x * self._mask(x).unsqueeze(-1).to(x.dtype)

    def compute_mask(self, x, mask):
        return self._mask(x)

    def get_config(self):
        return dict(super().get_config(), mask_value=self.mask_value)


@register
class Flatten(Layer):
    """``(B, d1, d2, ...) -> (B, d1 * d2 * ...)``."""

    def __init__(self, *, input_shape=None, name: str | None = None):
        super().__init__(input_shape=input_shape, name=name)
        self.built = True

    def forward(self, x, mask=None):
        return x.reshape(x.shape[0], -1)


@register
class Activation(Layer):
    """Applies an activation by name (``Activation("softmax")``)."""

    supports_masking = True
    activation_attributes = {"act": "activation"}  # the function of each stored name (ActivationsByName)

    def __init__(self, activation: str | None, *, input_shape=None, name: str | None = None):
        super().__init__(input_shape=input_shape, name=name)
        self.activation = activations.canonical(activation)
        self.resolve_activations()  # self.act
        self.built = True

    def forward(self, x, mask=None):
        return self.act(x)

    def get_config(self):
        return dict(super().get_config(), activation=self.activation)


__all__ = ["Input", "Dense", "Embedding", "Dropout", "Masking", "Flatten", "Activation"]
