"""The simple recurrent cell, with its four kinds of feedback.

A simple recurrent layer feeds something back into its hidden layer at every step. What comes
back, and from where, gives the four kinds of seed 001 (directa, indirecta, lateral, completa).
With the code's symbols (``⊙`` is the elementwise product)::

    lateral (Elman):   h_t = act(W_xh x_t + W_hh h_{t-1}                + b_h)    y_t = h_t
    direct:            h_t = act(W_xh x_t + w_hh ⊙ h_{t-1}              + b_h)    y_t = h_t
    indirect (Jordan): h_t = act(W_xh x_t                + W_yh y_{t-1} + b_h)    y_t = W_hy h_t + b_y
    complete:          h_t = act(W_xh x_t + W_hh h_{t-1} + W_yh y_{t-1} + b_h)    y_t = W_hy h_t + b_y

- ``lateral`` (the default, seeds 000, 002-004): every neuron of the layer feeds every other one
  (and itself) through the full matrix ``W_hh``;
- ``direct``: every neuron feeds only itself, ``W_hh`` restricted to its diagonal ``w_hh``;
- ``indirect``: the layer's output ``y_{t-1}`` comes back into the hidden layer; the layer owns
  its output projection ``W_hy`` (``output_units`` = ``O`` outputs);
- ``complete``: both ``lateral`` and ``indirect``.

``act`` is ``tanh`` (default), ``relu`` or any activation name.

Parameters in PyTorch layout (``H = units``, ``F`` input features, ``O = output_units``):

==============  ======  ==========  ===========================  ===================================
parameter       symbol  shape       kinds                        initialiser
==============  ======  ==========  ===========================  ===================================
``weight_ih``   W_xh    ``(H, F)``  all                          ``kernel_initializer``
``weight_hh``   W_hh    ``(H, H)``  lateral, complete            ``recurrent_initializer``
``weight_hh``   w_hh    ``(H,)``    direct                       the diagonal of what
                                                                 ``recurrent_initializer`` draws
                                                                 for an ``(H, H)`` matrix
``weight_yh``   W_yh    ``(H, O)``  indirect, complete           ``recurrent_initializer``
``bias``        b_h     ``(H,)``    all (``use_bias``)           ``bias_initializer``
``weight_hy``   W_hy    ``(O, H)``  indirect, complete           ``kernel_initializer``
``output_bias`` b_y     ``(O,)``    indirect, complete           ``bias_initializer``
                                    (``use_bias``)
==============  ======  ==========  ===========================  ===================================

Without ``use_bias``, ``b_h`` and ``b_y`` are zero. The state is what the next step needs, and no
more: ``SimpleRNNState(h)`` for ``lateral`` and ``direct``, ``JordanState(y)`` for ``indirect``
(``h_{t-1}`` does not enter the next step), ``ElmanJordanState(h, y)`` for ``complete``; the zero
state has ``y_0 = 0``. ``step`` returns ``y_t`` as the step's output (``h_t`` for ``lateral`` and
``direct``); ``output_state`` names the state field that holds it.

Kernels: ``lateral`` runs torch's fused ``rnn_tanh`` / ``rnn_relu``; ``direct`` runs
``recurra.cells.scan.elementwise_recurrence`` (``b = W_xh x_t + b_h`` for all steps at once,
``a = w_hh``) for ``tanh``, ``relu`` and ``linear``; ``indirect`` and ``complete`` run ``step`` in a
loop: each step needs ``y_{t-1}``, which passes through ``W_hy`` and ``W_yh``.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from .. import activations, initializers
from ..errors import ConfigError, UnknownNameError
from . import scan
from .base import RecurrentCell, recurrent_input, torch_hidden

FEEDBACK_KINDS = ("lateral", "direct", "indirect", "complete")
_WITH_OUTPUT = ("indirect", "complete")  # the kinds that feed y_{t-1} back, with their own W_hy


class SimpleRNNState(NamedTuple):
    """State of ``feedback="lateral"`` and ``"direct"``."""

    h: torch.Tensor  # (B, H)


class JordanState(NamedTuple):
    """State of ``feedback="indirect"``: the previous output, all the next step needs."""

    y: torch.Tensor  # (B, O)


class ElmanJordanState(NamedTuple):
    """State of ``feedback="complete"``: the previous hidden state and output."""

    h: torch.Tensor  # (B, H)
    y: torch.Tensor  # (B, O)


_STATES = {"lateral": SimpleRNNState, "direct": SimpleRNNState, "indirect": JordanState, "complete": ElmanJordanState}


def check_feedback(feedback: str, output_units) -> tuple[str, int | None]:
    """Validate a ``(feedback, output_units)`` pair; return it with ``output_units`` an ``int`` or ``None``."""
    if feedback not in FEEDBACK_KINDS:
        raise UnknownNameError(
            f"unknown feedback {feedback!r}; expected one of: 'lateral' (Elman, W_hh h_{{t-1}}), "
            "'direct' (w_hh ⊙ h_{t-1}), 'indirect' (Jordan, W_yh y_{t-1}), 'complete' (both W_hh and W_yh)"
        )
    if feedback in _WITH_OUTPUT:
        if output_units is None:
            raise ConfigError(
                f"feedback={feedback!r} feeds the layer's output y_t = W_hy h_t + b_y back and needs its size: "
                "expected output_units=<positive int>, got output_units=None"
            )
        if isinstance(output_units, bool) or not isinstance(output_units, numbers.Integral) or output_units <= 0:
            raise ConfigError(f"expected output_units to be a positive integer, got {output_units!r}")
        return feedback, int(output_units)
    if output_units is not None:
        raise ConfigError(
            f"output_units is for feedback='indirect' or 'complete' (the layer's own output projection); "
            f"got output_units={output_units!r} with feedback={feedback!r} (put a Dense({output_units}) "
            "after the layer instead)"
        )
    return feedback, None


def state_class(feedback: str) -> type:
    """The state ``NamedTuple`` of a feedback kind."""
    return _STATES[feedback]


class SimpleRNNCell(RecurrentCell):
    """One step of a simple recurrent layer with ``feedback`` of one of four kinds.

    ``feedback="lateral"`` (default): ``h_t = act(W_xh x_t + W_hh h_{t-1} + b_h)``, ``y_t = h_t``;
    ``"direct"``: ``h_t = act(W_xh x_t + w_hh ⊙ h_{t-1} + b_h)``, ``y_t = h_t``;
    ``"indirect"``: ``h_t = act(W_xh x_t + W_yh y_{t-1} + b_h)``, ``y_t = W_hy h_t + b_y``;
    ``"complete"``: ``h_t = act(W_xh x_t + W_hh h_{t-1} + W_yh y_{t-1} + b_h)``, ``y_t = W_hy h_t + b_y``.
    ``output_units`` (``O``) is required by ``"indirect"`` and ``"complete"`` and refused otherwise.

    Shapes: ``x_t (B, F)``; ``h (B, H)``, ``y (B, O)``; ``step`` returns ``(y_t, state)`` with
    ``y_t (B, H)`` (lateral, direct) or ``(B, O)`` (indirect, complete). Parameters: module docstring.

    >>> cell = SimpleRNNCell(3, 4)
    >>> y, s = cell.step(torch.zeros(2, 3), cell.zero_state(2, dtype=torch.float32, device="cpu"))
    >>> tuple(y.shape)
    (2, 4)
    >>> cell = SimpleRNNCell(3, 4, feedback="complete", output_units=2)
    >>> y, s = cell.step(torch.zeros(2, 3), cell.zero_state(2, dtype=torch.float32, device="cpu"))
    >>> tuple(y.shape), type(s).__name__, tuple(s.h.shape)
    ((2, 2), 'ElmanJordanState', (2, 4))
    """

    State = SimpleRNNState  # of the default kind; each instance sets its own kind's (``state_class``)
    output_state = "h"
    activation_attributes = {"act": "activation"}  # the function of each stored name (ActivationsByName)

    def __init__(
        self,
        input_size: int,
        units: int,
        *,
        feedback: str = "lateral",
        output_units: int | None = None,
        activation: str | None = "tanh",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ):
        super().__init__()
        self.feedback, self.output_units = check_feedback(feedback, output_units)
        self.State = state_class(self.feedback)
        self.output_state = "y" if self.feedback in _WITH_OUTPUT else "h"  # the state field that holds y_t
        self.input_size, self.units, self.use_bias = input_size, units, use_bias
        self.activation = activations.canonical(activation)
        self.resolve_activations()  # self.act
        H, O = units, self.output_units
        kw = dict(dtype=dtype, device=device)
        self.weight_ih = self._new_weight(H, input_size, init=kernel_initializer, **kw)  # W_xh
        if self.feedback in ("lateral", "complete"):
            self.weight_hh = self._new_weight(H, H, init=recurrent_initializer, **kw)  # W_hh
        elif self.feedback == "direct":
            square = initializers.get(recurrent_initializer)(torch.empty(H, H, **kw))  # (H, H), as lateral's W_hh
            self.weight_hh = torch.nn.Parameter(square.diagonal().clone())  # w_hh (H,)
        else:
            self.weight_hh = None
        self.weight_yh = self._new_weight(H, O, init=recurrent_initializer, **kw) if O else None  # W_yh
        self.bias = self._new_weight(H, init=bias_initializer, **kw) if use_bias else None  # b_h
        self.weight_hy = self._new_weight(O, H, init=kernel_initializer, **kw) if O else None  # W_hy
        self.output_bias = self._new_weight(O, init=bias_initializer, **kw) if O and use_bias else None  # b_y

    def zero_state(self, batch: int, *, dtype: torch.dtype, device: torch.device):
        sizes = {"h": self.units, "y": self.output_units}
        return self.State(*(torch.zeros(batch, sizes[f], dtype=dtype, device=device) for f in self.State._fields))

    # -- the reference step: the module docstring's equations -------------------------------------
    @property
    def quantities(self) -> dict[str, str]:
        feedback = {
            "lateral": "W_hh h_{t-1}",
            "direct": "w_hh ⊙ h_{t-1}",
            "indirect": "W_yh y_{t-1}",
            "complete": "W_hh h_{t-1} + W_yh y_{t-1}",
        }[self.feedback]
        found = {"h": f"state h_t = act(W_xh x_t + {feedback} + b_h)"}
        if self.feedback in _WITH_OUTPUT:
            found["y"] = "output y_t = W_hy h_t + b_y"
        return found

    def step_quantities(self, x_t, state, recurrent_mask=None):
        W_xh, b_h = self.weight_ih, self.bias
        z = x_t @ W_xh.T  # (B, F) @ (F, H) -> (B, H)
        if self.feedback == "lateral" or self.feedback == "complete":
            W_hh = self.weight_hh
            z = z + recurrent_input(state.h, recurrent_mask) @ W_hh.T  # W_hh h_{t-1}
        elif self.feedback == "direct":
            w_hh = self.weight_hh
            z = z + w_hh * recurrent_input(state.h, recurrent_mask)  # w_hh ⊙ h_{t-1}
        elif recurrent_mask is not None:
            raise ConfigError(
                "feedback='indirect' has no h_{t-1} product for a recurrent mask (recurrent dropout) to multiply; "
                "y_{t-1} is fed back, never dropped"
            )
        if self.feedback in _WITH_OUTPUT:
            W_yh = self.weight_yh
            z = z + state.y @ W_yh.T  # W_yh y_{t-1}: (B, O) @ (O, H) -> (B, H)
        if b_h is not None:
            z = z + b_h
        h = self.act(z)  # (B, H)
        if self.feedback == "lateral" or self.feedback == "direct":
            return {"h": h}, SimpleRNNState(h)
        W_hy, b_y = self.weight_hy, self.output_bias
        y = h @ W_hy.T  # (B, H) @ (H, O) -> (B, O)
        if b_y is not None:
            y = y + b_y
        if self.feedback == "indirect":
            return {"h": h, "y": y}, JordanState(y)
        return {"h": h, "y": y}, ElmanJordanState(h, y)

    def inference_step(self, x_t, state):
        """One step in one call for lateral feedback with tanh or relu (``torch.rnn_tanh_cell`` /
        ``torch.rnn_relu_cell``); the reference step otherwise."""
        if self.feedback != "lateral" or self.activation not in ("tanh", "relu"):
            return super().inference_step(x_t, state)
        step = torch.rnn_tanh_cell if self.activation == "tanh" else torch.rnn_relu_cell
        return SimpleRNNState(step(x_t, state.h, self.weight_ih, self.weight_hh, self.bias, None))

    # -- fused kernels: torch.rnn_tanh / torch.rnn_relu (lateral), elementwise_recurrence (direct) --
    def fused_reason(self):
        if self.feedback in _WITH_OUTPUT:
            return f"feedback={self.feedback!r} (y_{{t-1}} feeds the next step through W_hy and W_yh)"
        if self.feedback == "direct":
            if self.activation not in scan.ACTIVATIONS:
                return f"activation {self.activation!r} (the direct kernel has {', '.join(scan.ACTIVATIONS)})"
            return None
        if self.activation not in ("tanh", "relu"):
            return f"activation {self.activation!r} (the fused kernel has tanh and relu)"
        return None

    def _input_term(self, x: torch.Tensor) -> torch.Tensor:
        """``W_xh x_t + b_h`` for every step at once: ``(..., F) -> (..., H)``."""
        z = x @ self.weight_ih.T
        return z if self.bias is None else z + self.bias

    def _direct(self, b: torch.Tensor, h0: torch.Tensor, lengths: torch.Tensor | None = None):
        """``h_t = act(w_hh ⊙ h_{t-1} + b_t)`` over ``b (B, T, H)``: ``(y (B, T, H), h_last (B, H))``."""
        return scan.elementwise_recurrence(b, self.weight_hh, h0, self.activation, lengths)

    def _biases(self) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        return (None, None) if self.bias is None else (self.bias, torch.zeros_like(self.bias))

    def fused(self, x, state):
        if self.feedback == "direct":
            y, h = self._direct(self._input_term(x), state.h)  # (B, T, H), (B, H)
            return y, SimpleRNNState(h)
        weights = (self.weight_ih, self.weight_hh, *self._biases())
        y, h = fused_elman(x.transpose(0, 1), None, state.h, *weights, self.activation)
        return y.transpose(0, 1), SimpleRNNState(h)  # (T, B, H) -> (B, T, H)

    def fused_packed(self, data, batch_sizes, state):
        if self.feedback == "direct":
            # the direct kernel takes a padded batch and lengths: unpack (rows stay sorted by length), run, repack
            b = PackedSequence(self._input_term(data), batch_sizes)  # (N, F) -> (N, H)
            b_padded, lengths = pad_packed_sequence(b, batch_first=True)  # (B, T, H), (B,)
            y, h = self._direct(b_padded, state.h, lengths)
            return pack_padded_sequence(y, lengths, batch_first=True).data, SimpleRNNState(h)
        y, h = fused_elman(data, batch_sizes, state.h, self.weight_ih, self.weight_hh, *self._biases(), self.activation)
        return y, SimpleRNNState(h)

    def extra_repr(self) -> str:
        out = f", output_units={self.output_units}" if self.output_units else ""
        return f"{self.input_size}, {self.units}, feedback={self.feedback!r}{out}, activation={self.activation!r}"


def fused_elman(
    x: torch.Tensor,
    batch_sizes: torch.Tensor | None,
    h0: torch.Tensor,
    weight_ih: torch.Tensor,
    weight_hh: torch.Tensor,
    bias_ih: torch.Tensor | None,
    bias_hh: torch.Tensor | None,
    activation: str,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Lateral feedback, ``h_t = act(W_xh x_t + b_ih + W_hh h_{t-1} + b_hh)`` (torch's two biases; the
    cell passes ``b_hh = 0``), over a whole time-major batch with ``torch.rnn_tanh`` / ``torch.rnn_relu``
    (``activation`` ``"tanh"`` or ``"relu"``).

    ``x``: ``(T, B, F)`` when ``batch_sizes`` is ``None``, else a ``PackedSequence``'s ``data (N, F)``
    with its ``batch_sizes (T,)``; ``h0 (B, H)``. Returns ``y`` (``(T, B, H)`` or ``(N, H)``) and
    ``h_last (B, H)``, each row's state after its own last step.
    """
    if activation not in ("tanh", "relu"):
        raise ConfigError(f"expected activation 'tanh' or 'relu' for the fused kernel, got {activation!r}")
    kernel = torch.rnn_tanh if activation == "tanh" else torch.rnn_relu
    weights = [weight_ih, weight_hh] if bias_ih is None else [weight_ih, weight_hh, bias_ih, bias_hh]
    if batch_sizes is None:
        y, h = kernel(x, torch_hidden(h0), weights, bias_ih is not None, 1, 0.0, False, False, False)
    else:
        y, h = kernel(x, batch_sizes, torch_hidden(h0), weights, bias_ih is not None, 1, 0.0, False, False)
    return y, h[0]


__all__ = [
    "FEEDBACK_KINDS",
    "fused_elman",
    "SimpleRNNCell",
    "SimpleRNNState",
    "JordanState",
    "ElmanJordanState",
    "check_feedback",
    "state_class",
]
