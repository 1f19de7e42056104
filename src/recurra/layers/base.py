"""The layer base: lazy building, masks, configuration and Keras-layout weights.

Every recurra layer is a ``torch.nn.Module``. Its weights are created by ``build(input_shape)``,
either in the constructor (when ``input_shape=(timesteps, features)`` is given) or on the first
call, from the shape of the first input. ``get_config()`` returns plain JSON types and
``from_config()`` rebuilds the layer; ``get_weights()`` / ``set_weights()`` speak Keras 3's layout.
"""

from __future__ import annotations

import copy
import inspect
from functools import cache
from typing import Any, NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

from .. import constraints, initializers, regularizers
from ..activations import ActivationsByName
from ..dtypes import dtype_of
from ..errors import ConfigError, NotBuiltError, ShapeError, format_shape
from ..registry import LAYERS as LAYERS  # re-exported: the layer registry lives in recurra.registry
from ..registry import register_layer as register  # noqa: F401 (the decorator every layer module imports from here)
from ..tree import flatten, map_structure
from .symbolic import call_symbolically, first_call, has_symbolic


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


def unbuilt_copy(layer: Layer) -> Layer:
    """A copy of ``layer`` with its settings and no weights, ready for ``build``: its sub-layers are copied
    the same way, other sub-modules (a recurrent layer's cell) are left for ``build`` to create again."""
    fresh = copy.copy(layer)
    fresh._parameters, fresh._buffers, fresh._non_persistent_buffers_set = {}, {}, set()
    fresh._modules = {}
    for name, m in layer._modules.items():
        if isinstance(m, Layer):
            fresh._modules[name] = unbuilt_copy(m)
        elif isinstance(m, nn.ModuleList) and all(isinstance(c, Layer) for c in m):  # a list of layers (stacked cells)
            fresh._modules[name] = nn.ModuleList([unbuilt_copy(c) for c in m])
    fresh.built = False
    fresh._variables, fresh._variable_names, fresh._penalties, fresh._constraints = [], [], [], []
    return fresh


@cache
def _parameters_of(function: Any) -> frozenset[str] | None:
    """The keyword names ``function`` accepts (``None``: any, it takes ``**kwargs``)."""
    parameters = inspect.signature(function).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return frozenset(p.name for p in parameters)


def _keras_layout_tensor(shape: tuple[int, ...], dtype, device) -> tuple[torch.Tensor, tuple[int, ...]]:
    """An empty tensor in torch's layout for a weight of Keras layout ``shape`` (``(..., fan_in, fan_out)``),
    and the permutation that turns it back: initializers compute fans in torch's ``(fan_out, fan_in, ...)``."""
    if len(shape) < 2:
        return torch.empty(shape, dtype=dtype, device=device), tuple(range(len(shape)))
    torch_shape = (shape[-1], shape[-2], *shape[:-2])
    back = (*range(2, len(shape)), 1, 0)
    return torch.empty(torch_shape, dtype=dtype, device=device), back


class DrawnWeights(NamedTuple):
    """How ``Layer.build_weights`` drew a layer's weights: the input shape, dtype and device it was
    built for, and each parameter with its version counter at that moment."""

    shape: tuple
    dtype: torch.dtype | None
    device: Any
    weights: list[tuple[torch.Tensor, int]]


def _is_one_shape(shape: Any) -> bool:
    return isinstance(shape, (tuple, list, torch.Size)) and all(d is None or isinstance(d, int) for d in shape)


def _with_batch_axis(shape: Any) -> Any:
    """``(None, *shape)``, for each shape of a nested structure of them (lists, tuples, dicts)."""
    if _is_one_shape(shape):
        return (None, *shape)
    if isinstance(shape, dict):
        return {k: _with_batch_axis(v) for k, v in shape.items()}
    return type(shape)(_with_batch_axis(s) for s in shape)


class Layer(ActivationsByName, nn.Module):
    """Base class of recurra layers.

    Subclasses set ``supports_masking`` (pass an incoming mask through unchanged) or override
    ``compute_mask``, implement ``build`` and ``forward(x, mask=None, ...)``, and list their
    constructor arguments in ``get_config``.

    A layer written Keras's way works too: ``build(self, input_shape)`` (the shape with its batch axis,
    ``(None, ...)``) creating weights with ``add_weight``, and ``call(self, inputs, ...)`` instead of
    ``forward`` (``mask`` and ``training`` are passed only when ``call`` names them, as Keras does).
    ``dtype`` and ``trainable`` are accepted as in Keras.
    """

    supports_masking = False
    # whether the layer carries state from one call to the next (stateful layers, truncated BPTT):
    # None: it holds no such state; True: it can (``Recurrent``); False: it refuses, saying why in
    # ``carry_refusal`` (``Bidirectional``)
    supports_carry: bool | None = None

    def __init__(
        self,
        *,
        input_shape: Sequence[int | None] | None = None,
        name: str | None = None,
        dtype: Any = None,
        trainable: bool = True,
    ):
        super().__init__()
        self.input_shape = normalize_input_shape(input_shape)
        self.name = name
        self.built = False
        self.trainable = bool(trainable)
        self._dtype = dtype  # Keras's dtype argument: the weights' dtype when the layer builds them itself
        self._drawn: DrawnWeights | None = None  # how build_weights drew the weights, for redraw_initial_weights
        self._variables: list[nn.Parameter] = []  # add_weight's weights, in Keras's order
        self._variable_names: list[str] = []
        self._penalties: list[tuple[nn.Parameter, Any]] = []  # add_weight's (weight, regularizer)
        self._constraints: list[tuple[nn.Parameter, Any]] = []  # add_weight's (weight, constraint)
        self._activity_losses: list[torch.Tensor] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the layer; on symbolic tensors (Keras's functional API) record the call and return
        symbolic outputs instead (``recurra.layers.symbolic``)."""
        if has_symbolic(args, kwargs):
            return call_symbolically(self, args, kwargs)
        if any(isinstance(a, np.ndarray) for a in flatten((args, kwargs))):  # Keras converts numpy inputs
            args, kwargs = map_structure(self._from_numpy, (args, kwargs))
        out = super().__call__(*args, **kwargs)
        if self.activity_regularizer is not None:  # the penalty of this call's outputs (the last call's only)
            terms = []
            for y in (out if isinstance(out, (list, tuple)) else [out]):
                if isinstance(y, torch.Tensor) and y.is_floating_point():
                    term = self.activity_regularizer(y)
                    terms.append(term / y.shape[0] if y.dim() else term)  # per sample, as Keras
            self._activity_losses = terms
        return out

    @property
    def input(self) -> Any:
        """The symbolic input of the layer's first call in a functional graph (Keras's ``layer.input``)."""
        return first_call(self, "input")

    @property
    def output(self) -> Any:
        """The symbolic output of the layer's first call in a functional graph (Keras's ``layer.output``):
        what building an inference model from a trained model's layers starts from."""
        return first_call(self, "output")

    def _from_numpy(self, value: Any) -> Any:
        """A numpy array as a tensor: floating point in the weights' dtype (the default dtype before they
        exist), integers and booleans as they are; anything else unchanged."""
        if not isinstance(value, np.ndarray):
            return value
        t = torch.from_numpy(np.ascontiguousarray(value)).clone()
        if t.is_floating_point():
            weight = next(self.parameters(), None)
            t = t.to(weight.dtype if weight is not None else dtype_of(self._dtype) if self._dtype else torch.get_default_dtype())
        return t

    # -- building ---------------------------------------------------------------------------------
    def build(self, input_shape: tuple, *, dtype: torch.dtype | None = None, device=None) -> None:
        """Create the weights for inputs of shape ``(batch, *input_shape)`` (subclasses override it)."""
        self.built = True

    def build_weights(self, input_shape: Sequence[int | None], *, dtype: torch.dtype | None = None, device=None) -> None:
        """``build``, remembering the shape and the weights just drawn: until a step, a load or an
        in-place change alters them, ``fit(seed=...)`` draws them again from its seed
        (``redraw_initial_weights``), so a layer built at construction starts from the same weights as
        one built at the first call."""
        shape = tuple(input_shape) if _is_one_shape(input_shape) else input_shape  # or nested shapes (a cell's inputs)
        self._variables, self._variable_names, self._penalties, self._constraints = [], [], [], []
        self._weight_place = (dtype, device)
        accepted = _parameters_of(type(self).build)
        if accepted is None or "dtype" in accepted:
            self.build(shape, dtype=dtype, device=device)
        else:  # written Keras's way: build(input_shape) with the batch axis
            self.build(_with_batch_axis(shape))
            self.built = True
        for i, (v, name) in enumerate(zip(self._variables, self._variable_names)):  # weights no attribute holds
            if not any(v is p for p in self.parameters()):
                taken = hasattr(self, name) or not name.isidentifier()
                self.register_parameter(f"variable_{i}" if taken else name, v)
        if not self.trainable:
            for p in self.parameters():
                p.requires_grad_(False)
        self._drawn = DrawnWeights(shape, dtype, device, [(p, p._version) for p in self.parameters()])

    def add_weight(
        self,
        shape: Sequence[int] | None = None,
        initializer: Any = None,
        dtype: Any = None,
        trainable: bool = True,
        autocast: bool = True,
        regularizer: Any = None,
        constraint: Any = None,
        aggregation: str = "none",
        overwrite_with_gradient: bool = False,
        name: str | None = None,
    ) -> nn.Parameter:
        """A new weight of Keras layout ``shape`` (Keras's ``add_weight``), drawn by ``initializer`` (default
        ``"glorot_uniform"``; fans as Keras counts them), trainable or not; ``regularizer`` adds a penalty to
        the loss (``layer.losses``), ``constraint`` is applied after each optimiser step. Call it from
        ``build``; the weight is part of ``get_weights`` in the order of the calls. ``autocast``,
        ``aggregation`` and ``overwrite_with_gradient`` are accepted for Keras code and have no effect."""

        shape = tuple(int(d) for d in (shape or ()))
        if any(d < 0 for d in shape):
            raise ConfigError(f"add_weight expected a shape of sizes >= 0, got {shape}")
        place_dtype, device = getattr(self, "_weight_place", (None, None))
        wanted = dtype_of(dtype) if dtype is not None else (dtype_of(self._dtype) if self._dtype else place_dtype)
        wanted = wanted or torch.get_default_dtype()
        t, back = _keras_layout_tensor(shape, wanted, device)
        if wanted.is_floating_point:
            initializers.get(initializer if initializer is not None else "glorot_uniform")(t)
        else:
            t.zero_()
        weight = nn.Parameter(t.permute(*back).contiguous(), requires_grad=bool(trainable) and wanted.is_floating_point)
        self._variables.append(weight)
        self._variable_names.append(name or f"variable_{len(self._variables) - 1}")
        if regularizer is not None:
            self._penalties.append((weight, regularizers.get(regularizer)))
        if constraint is not None:
            self._constraints.append((weight, constraints.get(constraint)))
        return weight

    # -- the call, Keras's way --------------------------------------------------------------------
    def forward(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """Layers written Keras's way define ``call``; this runs it (building the layer first)."""
        call = getattr(type(self), "call", None)
        if call is None:
            raise NotImplementedError(f"{type(self).__name__} defines neither forward nor call")
        if not self.built:
            first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
            if isinstance(first, torch.Tensor):
                self.maybe_build(first)
        accepted = _parameters_of(call)
        if accepted is not None:
            kwargs = {k: v for k, v in kwargs.items() if k in accepted or k not in ("mask", "training")}
            if "training" in accepted and kwargs.get("training") is None:
                kwargs["training"] = self.training
        return call(self, inputs, *args, **kwargs)

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
        fresh = unbuilt_copy(self)
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

    # -- penalties and constraints ------------------------------------------------------------------
    # The Keras role of each entry of keras_weights() ("kernel", "recurrent_kernel", "bias", ...): layers
    # with kernel_regularizer= / kernel_constraint= ... name them so that one mechanism serves them all.
    weight_roles: tuple[str, ...] = ()
    regularizers: dict[str, Any] = {}  # role -> regularizer, set by layers that take *_regularizer
    constraints: dict[str, Any] = {}  # role -> constraint
    activity_regularizer: Any = None

    def keras_weight_roles(self) -> list[str]:
        """The role of each weight of ``get_weights()``, in its order."""
        return list(self.weight_roles)

    @property
    def losses(self) -> list[torch.Tensor]:
        """This layer's penalties (Keras's ``layer.losses``): its weights' regularizers, and its activity
        regularizer on the outputs of its last call."""
        terms = [reg(w) for w, reg in self._penalties]
        if self.regularizers and self.built:
            for role, w in zip(self.keras_weight_roles(), self.keras_weights()):
                if self.regularizers.get(role) is not None:
                    terms.append(self.regularizers[role](w))
        return terms + list(self._activity_losses)

    def has_constraints(self) -> bool:
        """Whether any weight of this layer has a constraint."""
        return bool(self._constraints) or any(c is not None for c in self.constraints.values())

    def apply_constraints(self) -> None:
        """Project the weights onto their constraints (after an optimiser step)."""
        with torch.no_grad():
            for w, constraint in self._constraints:
                w.copy_(constraint(w))
            if self.has_constraints() and self.built:
                roles, weights = self.keras_weight_roles(), self.keras_weights()
                rules = [self.constraints.get(r) for r in roles]
                self.load_keras_weights([(w if rule is None else rule(w)).detach().clone() for rule, w in zip(rules, weights)])

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
        if self._variables:
            return list(self._variables)
        return [p for p in self.parameters()]

    def load_keras_weights(self, arrays: list[torch.Tensor]) -> None:
        """Copy Keras-layout arrays into the parameters (override with the inverse of keras_weights)."""
        for p, a in zip(self._variables or list(self.parameters()), arrays):
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
