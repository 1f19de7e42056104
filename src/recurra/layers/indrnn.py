"""``IndRNN``: the independently recurrent layer (Li et al., 2018), and the base of the layers whose
cells run the elementwise recurrence kernel.

See ``recurra.cells.indrnn`` for the equations and ``recurra.cells.scan`` for the kernel.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch

from ..cells import IndRNNCell
from ..cells.indrnn import default_recurrent_initializer
from ..cells.scan import use_compiled
from ..errors import ConfigError
from .base import register
from .masking import compaction_order, is_right_padded
from .recurrent import Recurrent


class ElementwiseRecurrent(Recurrent):
    """A recurrent layer whose cell runs ``recurra.cells.scan.elementwise_recurrence``.

    Its fast path takes right-padded rows with ``lengths``; any other mask is first compacted (each
    row's real steps moved to the front, in order), run, and the outputs moved back, so every
    sequence of a padded batch gets what it would get alone. ``kernel`` is ``"compiled"`` (the C++
    loop, on CPU) or ``"elementwise"`` (the same loop in torch: other devices, or no compiler), or
    ``"reference"``.
    """

    def _run_fused(self, x, mask, state):
        B, T, F = x.shape
        lengths = order = None
        if mask is not None:
            lengths = mask.sum(1)  # (B,)
            if not is_right_padded(mask, lengths):
                order = compaction_order(mask)  # (B, T): real steps first
                x = x.gather(1, order[:, :, None].expand(B, T, F))
        y, state = self._run_right_padded(x.contiguous(), lengths, state)
        if order is not None and self.return_sequences:
            y = torch.zeros_like(y).scatter(1, order[:, :, None].expand_as(y), y)  # back to the input's steps
        return y, state

    def _run_right_padded(self, x, lengths, state):
        """The sequential kernel over right-padded rows; sets ``self.kernel``."""
        backend = "cpp" if use_compiled(x) else "torch"
        self.kernel = "compiled" if backend == "cpp" else "elementwise"
        return self.cell.fused(x, state, lengths=lengths, backend=backend)


def check_recurrent_max(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"expected recurrent_max to be a positive number or None, got {value!r}")
    return float(value)


@register
class IndRNN(ElementwiseRecurrent):
    """Independently recurrent layer (Li et al., 2018): ``h_t = act(W x_t + u ⊙ h_{t-1} + b)``,
    with ``u`` a vector (one recurrent weight per unit).

    Extra arguments:

    - ``activation="relu"`` (the paper's); ``"tanh"`` and ``"linear"`` also run the fast kernel, any
      other name the reference loop;
    - ``recurrent_max=None``: a positive bound on ``|u|``, applied as a clamp in the forward pass
      (``u = clamp(weight_hh, -recurrent_max, recurrent_max)``; out-of-range weights get no
      gradient). For sequences of ``T`` steps the paper uses ``recurrent_max = 2 ** (1 / T)``: a relu
      unit can then grow by at most a factor 2 over the sequence;
    - ``recurrent_initializer=None``: the paper's uniform ``[0, 1]``, or ``[0, recurrent_max]`` when
      ``recurrent_max`` is given; or any initializer.

    Everything else is shared with the other recurrent layers (``recurrent_dropout`` drops ``h_{t-1}``
    where it meets ``u``, and runs the reference loop while training).

    Kernels (``layer.kernel``): ``"compiled"`` (one matrix product for the input projection of all
    steps, then the C++ elementwise loop), ``"elementwise"`` (the same in torch: not on CPU, or
    without a compiler), ``"reference"`` (``cell.step`` in a loop).

    Keras weights: ``[kernel (F, H), recurrent_kernel (H,), bias (H,)]``.

    >>> layer = IndRNN(8, return_sequences=True, recurrent_max=2 ** (1 / 5))
    >>> tuple(layer(torch.zeros(2, 5, 3)).shape)
    (2, 5, 8)
    """

    cell_class = IndRNNCell

    def __init__(
        self,
        units: int,
        *,
        activation: str | None = "relu",
        recurrent_max: float | None = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = None,
        bias_initializer: Any = "zeros",
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        implementation: str = "auto",
        zero_output_for_mask: bool = False,
        input_shape: Sequence[int | None] | None = None,
        name: str | None = None,
    ):
        self.recurrent_max = check_recurrent_max(recurrent_max)
        if recurrent_initializer is None:
            recurrent_initializer = default_recurrent_initializer(self.recurrent_max)
        super().__init__(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            implementation=implementation,
            zero_output_for_mask=zero_output_for_mask,
            input_shape=input_shape,
            name=name,
        )

    def cell_kwargs(self):
        return dict(super().cell_kwargs(), recurrent_max=self.recurrent_max)

    def get_config(self):
        return dict(super().get_config(), recurrent_max=self.recurrent_max)

    def keras_weights(self):
        self._require_built("get_weights()")
        c = self.cell
        return [c.weight_ih.T, c.weight_hh, *([c.bias] if c.bias is not None else [])]

    def load_keras_weights(self, arrays):
        c = self.cell
        c.weight_ih.copy_(arrays[0].T)
        c.weight_hh.copy_(arrays[1])
        if c.bias is not None:
            c.bias.copy_(arrays[2])
