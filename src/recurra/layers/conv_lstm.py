"""``ConvLSTM1D``, ``ConvLSTM2D``, ``ConvLSTM3D``: Keras 3's convolutional LSTM.

An LSTM whose matrix products are convolutions. Inputs ``(B, T, *spatial, C)``, channels last (the
spatial axes: rows; rows, cols; depth, rows, cols); the states ``h`` and ``c`` are images
``(B, *spatial', F)`` with ``F = filters``. With ``⋆`` the input convolution (the layer's
``kernel_size``, ``strides``, ``padding`` and ``dilation_rate``) and ``⊛`` the recurrent one (the same
kernel size, stride 1, ``padding="same"``, no dilation: Keras's), step ``t`` is::

    i_t = σ(W_i ⋆ (x_t ⊙ m_i) + U_i ⊛ (h_{t-1} ⊙ n_i) + b_i)        input gate
    f_t = σ(W_f ⋆ (x_t ⊙ m_f) + U_f ⊛ (h_{t-1} ⊙ n_f) + b_f)        forget gate
    g_t = tanh(W_c ⋆ (x_t ⊙ m_c) + U_c ⊛ (h_{t-1} ⊙ n_c) + b_c)     candidate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t                                  cell state
    o_t = σ(W_o ⋆ (x_t ⊙ m_o) + U_o ⊛ (h_{t-1} ⊙ n_o) + b_o)        output gate
    h_t = o_t ⊙ tanh(c_t)                                            hidden state, the output y_t

``σ`` is ``recurrent_activation`` (sigmoid) and ``tanh`` is ``activation``. ``m_g`` (``dropout``) and
``n_g`` (``recurrent_dropout``) are dropout masks, one per gate, each the shape of one step of ``x`` or
``h``, drawn once per call while training (all ones otherwise), as Keras draws them.

Masks (``mask=`` ``(B, T)`` bool, or ``lengths=``): at a masked step the state stays
``(h_t, c_t) = (h_{t-1}, c_{t-1})`` and the output repeats the previous one, ``y_t = y_{t-1}`` with
``y_{-1} = 0`` (Keras 3's rule; ``zero_output_for_mask=True``: ``y_t = 0``); without
``return_sequences`` the output is the last ``y_t``.

``seed``: the dropout masks come from a generator seeded with it (from torch's global one when
``None``). ``stateful``: each call starts from the ``(h, c)`` the previous one ended with
(``reset_states()`` forgets it); ``initial_state=[h, c]`` (channels last) overrides it. Unlike Keras,
``strides > 1`` together with ``dilation_rate > 1`` is accepted (torch computes it).

Two kernels compute the same numbers: ``implementation="reference"`` is the equations as written (a
convolution per gate and term at every step, ``reference_step``); ``"fast"`` (default) convolves the
inputs of every step for all four gates in one call before the loop, then runs one recurrent
convolution per step for all four gates (under dropout, the four masked copies stacked on the
channels and a grouped convolution). Exported (``torch.export``, ONNX), the fast kernel's steps run
inside one ``scan`` (an ONNX ``Scan``), so the exported graph keeps the batch and time axes free.

Keras weights ``[kernel (*kernel_size, C, 4F), recurrent_kernel (*kernel_size, F, 4F), bias (4F,)]``,
gates ``i, f, c, o``; the parameters are in torch's layout: ``weight_ih = [W_i; W_f; W_c; W_o]``
``(4F, C, *kernel_size)``, ``weight_hh = [U_i; U_f; U_c; U_o]`` ``(4F, F, *kernel_size)``, ``bias``.

>>> layer = ConvLSTM2D(4, 3, padding="same", return_sequences=True, return_state=True)
>>> y, h, c = layer(torch.zeros(2, 5, 8, 8, 1))
>>> tuple(y.shape), tuple(h.shape)
((2, 5, 8, 8, 4), (2, 8, 8, 4))
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn

from .. import activations, initializers
from ..errors import ConfigError, InputValueError, ShapeError, format_shape
from ..limits import MAX_FEATURES
from .base import Layer, check_positive_int, check_rate, register
from .convolutional import (
    PADDINGS,
    check_channels_last,
    check_sizes,
    conv_channels_first,
    keras_kernel,
    output_sizes,
    padding_amounts,
    torch_kernel,
)
from .masking import resolve_mask
from .onnx_form import exporting

IMPLEMENTATIONS = ("fast", "reference")
State = tuple[torch.Tensor, torch.Tensor]  # (h, c)


class _ConvLSTM(Layer):
    """A convolutional LSTM over ``rank`` spatial axes (module docstring); subclasses set ``rank`` and
    ``layout`` (the input shape in words, for messages)."""

    rank: int = 0
    layout: str = ""
    supports_carry = True  # the state can be carried from one call to the next (stateful, truncated BPTT)
    activation_attributes = {"act": "activation", "rec_act": "recurrent_activation"}  # by name (ActivationsByName)

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        data_format: str | None = "channels_last",
        dilation_rate: int | Sequence[int] = 1,
        activation: str | None = "tanh",
        recurrent_activation: str | None = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        unit_forget_bias: bool = True,
        *,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        implementation: str = "fast",
        zero_output_for_mask: bool = False,
        input_shape: Sequence[int | None] | None = None,
        name: str | None = None,
    ):
        super().__init__(input_shape=input_shape, name=name)
        self.filters = check_positive_int("filters", filters, MAX_FEATURES)
        self.kernel_size = check_sizes("kernel_size", kernel_size, self.rank)
        self.strides = check_sizes("strides", strides, self.rank)
        self.dilation_rate = check_sizes("dilation_rate", dilation_rate, self.rank)
        if padding not in PADDINGS:
            raise ConfigError(f"expected padding in {PADDINGS}, got {padding!r}")
        check_channels_last(type(self).__name__, data_format, self.layout)
        self.padding = padding
        self.activation = activations.canonical(activation)
        self.recurrent_activation = activations.canonical(recurrent_activation)
        self.resolve_activations()  # self.act, self.rec_act
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.serialize(kernel_initializer)
        self.recurrent_initializer = initializers.serialize(recurrent_initializer)
        self.bias_initializer = initializers.serialize(bias_initializer)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.dropout = check_rate("dropout", dropout)
        self.recurrent_dropout = check_rate("recurrent_dropout", recurrent_dropout)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ConfigError(f"expected seed as an integer or None, got {seed!r}")
        self.seed = None if seed is None else int(seed)
        self._generator: torch.Generator | None = None  # the dropout masks' own stream when seeded
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        if implementation not in IMPLEMENTATIONS:
            raise ConfigError(f"expected implementation in {IMPLEMENTATIONS}, got {implementation!r}")
        self.implementation = implementation
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self._carried_state: State | None = None  # channels last, detached
        self._carry = False
        self.weight_ih = self.weight_hh = self.bias = None
        if self.input_shape is not None and len(self.input_shape) != self.rank + 2:
            expected = "(" + self.layout.removeprefix("(batch, ")
            raise ConfigError(f"{type(self).__name__} expected input_shape={expected}, got {format_shape(self.input_shape)}")
        self._build_from_input_shape()

    # -- building ---------------------------------------------------------------------------------
    def build(self, input_shape, *, dtype=None, device=None):
        if len(input_shape) != self.rank + 2 or input_shape[-1] is None:
            found = ", ".join(map(str, input_shape))
            raise ShapeError(f"{type(self).__name__} expected input of shape {self.layout}, got (batch, {found})")
        C, F4 = int(input_shape[-1]), 4 * self.filters
        kw = dict(dtype=dtype, device=device)
        w = torch.empty(F4, C, *self.kernel_size, **kw)
        self.weight_ih = nn.Parameter(initializers.get(self.kernel_initializer)(w))
        u = torch.empty(F4, self.filters, *self.kernel_size, **kw)
        self.weight_hh = nn.Parameter(initializers.get(self.recurrent_initializer)(u))
        if self.use_bias:
            b = initializers.get(self.bias_initializer)(torch.empty(F4, **kw))
            if self.unit_forget_bias:
                b[self.filters : 2 * self.filters] = 1.0  # b_f = 1 (Jozefowicz et al., 2015), as Keras
            self.bias = nn.Parameter(b)
        self.built = True

    # -- state ------------------------------------------------------------------------------------
    @property
    def carried_state(self) -> State | None:
        """``(h, c)`` (channels last) the next call starts from when the layer carries state; else ``None``."""
        return self._carried_state

    @property
    def carrying(self) -> bool:
        return self.stateful or self._carry

    def carry_state(self, enabled: bool) -> None:
        """Carry the (detached) state from call to call as ``stateful`` does (truncated BPTT); switching
        it forgets what a layer that is not ``stateful`` carried."""
        self._carry = bool(enabled)
        if not self.stateful:
            self._carried_state = None

    def reset_states(self, states: Sequence[torch.Tensor] | None = None) -> None:
        """Forget the carried state (the next call starts from zeros), or set it to ``states = [h, c]``."""
        if states is None:
            self._carried_state = None
            return
        states = list(states)
        if len(states) != 2 or not all(isinstance(s, torch.Tensor) for s in states):
            raise ShapeError(f"{type(self).__name__}.reset_states expected [h, c], two tensors, got {len(states)} items")
        self._carried_state = (states[0].detach(), states[1].detach())

    def _initial_state(self, x: torch.Tensor, sizes: tuple[int, ...], initial_state: Any) -> State:
        """``(h, c)`` channels first, ``(B, F, *sizes)``: given, carried or zeros."""
        name = type(self).__name__
        shape = (x.shape[0], *sizes, self.filters)  # (B, *spatial', F)
        if initial_state is None and self.carrying and self._carried_state is not None:
            states = list(self._carried_state)
            if tuple(states[0].shape) != shape:
                raise ShapeError(
                    f"stateful {name} expected inputs whose state has shape {format_shape(states[0].shape)} (the one it "
                    f"carries), got input {format_shape(x.shape)} (state {format_shape(shape)}); call reset_states() first"
                )
        elif initial_state is None:
            zeros = x.new_zeros(shape[0], self.filters, *sizes)
            return zeros, zeros
        else:
            states = [initial_state] if isinstance(initial_state, torch.Tensor) else list(initial_state)
            if len(states) != 2:
                raise ShapeError(f"{name} expected initial_state=[h, c], two tensors, got {len(states)}")
            for n, s in zip("hc", states):
                if not isinstance(s, torch.Tensor) or tuple(s.shape) != shape:
                    got = format_shape(s.shape) if isinstance(s, torch.Tensor) else type(s).__name__
                    raise ShapeError(f"{name} expected initial state {n} of shape {format_shape(shape)}, got {got}")
        h, c = (s.to(dtype=x.dtype, device=x.device).movedim(-1, 1) for s in states)  # (B, *S', F) -> (B, F, *S')
        return h, c

    # -- dropout ----------------------------------------------------------------------------------
    def _dropout_masks(self, rate: float, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        """Four masks (one per gate) of ``shape``, ``0`` or ``1 / (1 - rate)``: ``(4, *shape)``."""
        keep = 1.0 - rate
        if self.seed is None:
            return torch.bernoulli(like.new_full((4, *shape), keep)) / keep
        if self._generator is None:
            self._generator = torch.Generator().manual_seed(self.seed)
        drawn = torch.bernoulli(torch.full((4, *shape), keep, dtype=like.dtype), generator=self._generator)
        return drawn.to(like.device) / keep

    # -- the two kernels --------------------------------------------------------------------------
    def reference_step(
        self,
        x_t: torch.Tensor,
        state: State,
        pads: list[tuple[int, int]],
        m: torch.Tensor | None = None,
        n: torch.Tensor | None = None,
    ) -> State:
        """One step, the module docstring's equations term by term. Channels first: ``x_t (B, C, *S)``,
        ``h, c (B, F, *S')``; ``m (4, B, C, *S)``, ``n (4, B, F, *S')`` the dropout masks or ``None``."""
        h_prev, c_prev = state
        W_i, W_f, W_c, W_o = self.weight_ih.chunk(4, 0)
        U_i, U_f, U_c, U_o = self.weight_hh.chunk(4, 0)
        b_i, b_f, b_c, b_o = self.bias.chunk(4, 0) if self.bias is not None else (None,) * 4
        ones = (1,) * self.rank
        same = padding_amounts(h_prev.shape[2:], self.kernel_size, ones, ones, "same")
        σ, tanh = self.rec_act, self.act

        def W_x(W: torch.Tensor, b: torch.Tensor | None, gate: int) -> torch.Tensor:  # W ⋆ (x_t ⊙ m_g) + b
            x = x_t if m is None else x_t * m[gate]
            return conv_channels_first(x, W, b, self.strides, self.dilation_rate, pads)

        def U_h(U: torch.Tensor, gate: int) -> torch.Tensor:  # U ⊛ (h_{t-1} ⊙ n_g)
            h = h_prev if n is None else h_prev * n[gate]
            return conv_channels_first(h, U, None, ones, ones, same)

        i = σ(W_x(W_i, b_i, 0) + U_h(U_i, 0))
        f = σ(W_x(W_f, b_f, 1) + U_h(U_f, 1))
        g = tanh(W_x(W_c, b_c, 2) + U_h(U_c, 2))
        c = f * c_prev + i * g
        o = σ(W_x(W_o, b_o, 3) + U_h(U_o, 3))
        h = o * tanh(c)
        return h, c

    def _reference(self, xs: torch.Tensor, pads, m, n) -> Callable[[int, State], State]:
        steps = xs.unbind(1)  # T tensors (B, C, *S)
        return lambda t, state: self.reference_step(steps[t], state, pads, m, n)

    def _fast_parts(self, xs: torch.Tensor, pads, m, n) -> tuple[torch.Tensor, Callable[[torch.Tensor, State], State]]:
        """The fast kernel's two parts: ``z_x (B, T, 4F, *S')``, ``W ⋆ (x_t ⊙ m) + b`` of every step and gate in
        one convolution, and the step ``(z_x_t, (h, c)) -> (h, c)`` (one recurrent convolution for all gates)."""
        B, T = xs.shape[:2]
        groups = 1
        if m is not None:  # the four masked copies side by side on the channels: (B, T, 4C, *S)
            xs = (xs.unsqueeze(2) * m.transpose(0, 1).unsqueeze(1)).flatten(2, 3)
            groups = 4
        z_x = conv_channels_first(xs.flatten(0, 1), self.weight_ih, self.bias, self.strides, self.dilation_rate, pads, groups)
        z_x = z_x.unflatten(0, (B, T))  # (B, T, 4F, *S')
        ones = (1,) * self.rank
        same = padding_amounts(z_x.shape[3:], self.kernel_size, ones, ones, "same")
        n_stacked = None if n is None else n.transpose(0, 1)  # (B, 4, F, *S')
        σ, tanh = self.rec_act, self.act

        def step(z_x_t: torch.Tensor, state: State) -> State:
            h_prev, c_prev = state
            if n_stacked is None:
                z_h = conv_channels_first(h_prev, self.weight_hh, None, ones, ones, same)
            else:
                h4 = (h_prev.unsqueeze(1) * n_stacked).flatten(1, 2)  # (B, 4F, *S')
                z_h = conv_channels_first(h4, self.weight_hh, None, ones, ones, same, groups=4)
            z_i, z_f, z_c, z_o = (z_x_t + z_h).chunk(4, 1)
            c = σ(z_f) * c_prev + σ(z_i) * tanh(z_c)
            return σ(z_o) * tanh(c), c

        return z_x, step

    def _fast(self, xs: torch.Tensor, pads, m, n) -> Callable[[int, State], State]:
        z_x, step = self._fast_parts(xs, pads, m, n)
        steps = z_x.unbind(1)  # T tensors (B, 4F, *S')
        return lambda t, state: step(steps[t], state)

    def _scan(self, step: Callable[[int, State], State], T: int, state: State, mask: torch.Tensor | None):
        """Run ``step`` over the ``T`` steps with Keras's masking; ``(outputs (B, T, F, *S') or None, last
        output, final state)``."""
        h, c = state
        y = torch.zeros_like(h)  # y_{-1} = 0
        ms = None if mask is None else mask.view(*mask.shape, *(1,) * (h.dim() - 1)).unbind(1)  # T tensors (B, 1, ...)
        outputs = []
        for t in range(T):
            h_new, c_new = step(t, (h, c))
            if ms is None:
                h, c, y = h_new, c_new, h_new
            else:
                y = torch.where(ms[t], h_new, torch.zeros_like(y) if self.zero_output_for_mask else y)
                h = torch.where(ms[t], h_new, h)
                c = torch.where(ms[t], c_new, c)
            if self.return_sequences:
                outputs.append(y)
        return (torch.stack(outputs, 1) if self.return_sequences else None), y, (h, c)

    def _exported_scan(self, xs: torch.Tensor, pads, m, n, state: State, mask: torch.Tensor | None):
        """``_scan`` of the fast kernel as one ``scan`` node (``torch.export``; ONNX ``Scan``), what an exported
        call runs: a Python loop over the steps would fix the time axis of the exported graph. Returns as ``_scan``."""
        from torch._higher_order_ops.scan import scan  # torch's scan operator (exported as ONNX Scan)

        z_x, step = self._fast_parts(xs, pads, m, n)
        h, c = state
        zs = z_x.transpose(0, 1)  # (T, B, 4F, *S')
        ms = None if mask is None else mask.transpose(0, 1).reshape(*mask.shape[::-1], *(1,) * (h.dim() - 1))  # (T, B, 1, ...)

        def scan_step(carry: tuple, inputs: tuple) -> tuple:
            h_prev, c_prev, y_prev = carry
            h_new, c_new = step(inputs[0], (h_prev, c_prev))
            if ms is None:
                h_t, c_t, y_t = h_new, c_new, h_new
            else:
                m_t = inputs[1]
                y_t = torch.where(m_t, h_new, torch.zeros_like(y_prev) if self.zero_output_for_mask else y_prev)
                h_t, c_t = torch.where(m_t, h_new, h_prev), torch.where(m_t, c_new, c_prev)
            return (h_t.clone(), c_t.clone(), y_t.clone()), y_t.clone()  # scan's outputs may not alias its carry

        initial = (h.clone(), c.clone(), torch.zeros_like(h))  # h and c may be one zeros tensor: scan's carries may not alias
        (h, c, y), ys = scan(scan_step, initial, (zs,) if ms is None else (zs, ms))
        return (ys.transpose(0, 1) if self.return_sequences else None), y, (h, c)

    # -- the call ---------------------------------------------------------------------------------
    def _check_input(self, x: Any) -> None:
        name = type(self).__name__
        if not isinstance(x, torch.Tensor) or x.dim() != self.rank + 3:
            found = format_shape(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ShapeError(f"{name} expected input of shape {self.layout}, got {found}")
        if not x.is_floating_point():
            raise InputValueError(f"{name} expected a floating-point input, got dtype {x.dtype}")
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise InputValueError(f"{name} got an empty batch or a zero-length sequence: input shape {format_shape(x.shape)}")
        if self.built:
            C = self.weight_ih.shape[1]
            if x.shape[-1] != C:
                raise ShapeError(f"{name} expected {C} channels, got input {format_shape(x.shape)}")
            if x.dtype != self.weight_ih.dtype:
                raise InputValueError(
                    f"{name} expected input of dtype {self.weight_ih.dtype} (its weights), got {x.dtype}; "
                    "convert one to the other (model.to(dtype) or x.to(dtype))"
                )

    def forward(self, x, mask=None, lengths=None, initial_state=None, training: bool | None = None):
        self._check_input(x)
        self.maybe_build(x)
        B, T = x.shape[:2]
        sizes = tuple(x.shape[2:-1])
        pads = padding_amounts(sizes, self.kernel_size, self.strides, self.dilation_rate, self.padding)
        out_sizes = output_sizes(sizes, self.kernel_size, self.strides, self.dilation_rate, pads)
        if min(out_sizes) < 1:
            reach = tuple((k - 1) * d + 1 for k, d in zip(self.kernel_size, self.dilation_rate))
            raise ShapeError(
                f"{type(self).__name__} with padding={self.padding!r} expected spatial sizes of at least "
                f"{format_shape(reach)} (the kernel's reach), got input {format_shape(x.shape)}"
            )
        mask = resolve_mask(x, mask, lengths)
        training = self.training if training is None else training
        state = self._initial_state(x, out_sizes, initial_state)
        xs = x.movedim(-1, 2)  # (B, T, *S, C) -> (B, T, C, *S)
        m = self._dropout_masks(self.dropout, (B, *xs.shape[2:]), x) if training and self.dropout > 0 else None
        n = (
            self._dropout_masks(self.recurrent_dropout, tuple(state[0].shape), x)
            if training and self.recurrent_dropout > 0
            else None
        )
        if self.go_backwards:
            xs = xs.flip(1)
            mask = None if mask is None else mask.flip(1)
        if exporting():  # one scan: the time axis stays free (the fast kernel: the same numbers as the reference)
            ys, y, (h, c) = self._exported_scan(xs, pads, m, n, state, mask)
        else:
            if mask is not None and bool(mask.all()):
                mask = None
            kernel = self._reference if self.implementation == "reference" else self._fast
            ys, y, (h, c) = self._scan(kernel(xs, pads, m, n), T, state, mask)

        h, c = h.movedim(1, -1), c.movedim(1, -1)  # (B, F, *S') -> (B, *S', F)
        if self.carrying:
            self._carried_state = (h.detach(), c.detach())
        output = ys.movedim(2, -1) if self.return_sequences else y.movedim(1, -1)  # (B, T, *S', F) or (B, *S', F)
        return (output, h, c) if self.return_state else output

    def compute_mask(self, x, mask):
        if not self.return_sequences or mask is None:
            return None
        return mask.flip(1) if self.go_backwards else mask

    # -- weights and configuration ----------------------------------------------------------------
    def keras_weights(self):
        self._require_built("get_weights()")
        weights = [keras_kernel(self.weight_ih), keras_kernel(self.weight_hh)]
        return weights + ([self.bias] if self.bias is not None else [])

    def load_keras_weights(self, arrays):
        self.weight_ih.copy_(torch_kernel(arrays[0]))
        self.weight_hh.copy_(torch_kernel(arrays[1]))
        if self.bias is not None:
            self.bias.copy_(arrays[2])

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "dilation_rate": list(self.dilation_rate),
            "activation": self.activation,
            "recurrent_activation": self.recurrent_activation,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "recurrent_initializer": self.recurrent_initializer,
            "bias_initializer": self.bias_initializer,
            "unit_forget_bias": self.unit_forget_bias,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "implementation": self.implementation,
            "zero_output_for_mask": self.zero_output_for_mask,
        }

    def extra_repr(self) -> str:
        return f"filters={self.filters}, kernel_size={self.kernel_size}, return_sequences={self.return_sequences}"


@register
class ConvLSTM1D(_ConvLSTM):
    """Convolutional LSTM over one spatial axis, inputs ``(B, T, rows, C)`` (module docstring)."""

    rank = 1
    layout = "(batch, time, rows, channels)"


@register
class ConvLSTM2D(_ConvLSTM):
    """Convolutional LSTM over images, inputs ``(B, T, rows, cols, C)`` (module docstring)."""

    rank = 2
    layout = "(batch, time, rows, cols, channels)"


@register
class ConvLSTM3D(_ConvLSTM):
    """Convolutional LSTM over volumes, inputs ``(B, T, depth, rows, cols, C)`` (module docstring)."""

    rank = 3
    layout = "(batch, time, depth, rows, cols, channels)"


__all__ = ["ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"]
