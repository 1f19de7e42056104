"""``MinGRU`` and ``MinLSTM``: the minimal RNNs of Feng et al. (2024), "Were RNNs All We Needed?".

The equations and the three ways to run them are in ``recurra.cells.minimal``. The layers take:

- ``units``: the size ``H`` of the state;
- ``activation``: the candidate's non-linearity, ``h~_t = activation(W_h x_t + b_h)``. ``"g"``
  (default) is the paper's ``g(v) = v + 0.5`` for ``v >= 0``, ``σ(v)`` otherwise: positive, so the
  log-space scan applies. Any recurra activation name also works (sequential kernels only);
- ``implementation``: ``"auto"`` (the compiled loop on CPU; the scan where that loop is not
  available: accelerators, no compiler), ``"fused"`` (the sequential elementwise kernel),
  ``"scan"`` (the log-space parallel scan) or ``"reference"`` (``cell.step`` in a loop). All give
  the same numbers up to rounding;
- every other argument of the recurrent layers (``use_bias``, ``kernel_initializer``,
  ``bias_initializer``, ``dropout``, ``return_sequences``, ``return_state`` giving ``(output, h)``,
  ``go_backwards``, ``stateful``, ``input_shape``), masks and ``initial_state=[h]``. There are no
  recurrent weights, so ``recurrent_initializer`` and ``recurrent_dropout`` are refused.

The scan takes ``log h0``: it runs with an initial state that is all positive, or all zero (the
default; no term). With any other initial state it runs the sequential kernel instead and
``layer.kernel`` says so: ``"compiled (not scan: an initial state with entries <= 0 ...)"``.
Otherwise ``layer.kernel`` is ``"compiled"``, ``"elementwise"`` (the loop in torch), ``"scan"`` or
``"reference"``. (States the layers produce are positive with ``"g"``, so carried states scan.)
"""

from __future__ import annotations

from typing import Any, Sequence

from ..cells import MinGRUCell, MinLSTMCell
from ..cells.minimal import G, canonical_activation
from ..cells.scan import use_compiled
from ..errors import ConfigError
from .base import register
from .indrnn import ElementwiseRecurrent

IMPLEMENTATIONS = ("auto", "fused", "scan", "reference")


class _MinimalRecurrent(ElementwiseRecurrent):
    """The layer of a minimal cell: no recurrent weights, a log-space scan besides the loops."""

    def __init__(
        self,
        units: int,
        *,
        activation: str | None = G,
        implementation: str = "auto",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        dropout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        zero_output_for_mask: bool = False,
        input_shape: Sequence[int | None] | None = None,
        name: str | None = None,
        recurrent_initializer: Any = None,
        recurrent_dropout: float = 0.0,
    ):
        """``recurrent_initializer`` and ``recurrent_dropout`` are accepted only to refuse them (Keras code
        passes them): a minimal cell has no recurrent weights."""
        layer = type(self).__name__
        for key, value in (("recurrent_initializer", recurrent_initializer), ("recurrent_dropout", recurrent_dropout)):
            if value not in (None, 0, 0.0):
                raise ConfigError(f"{layer} has no recurrent weights (its gates see only x_t): expected no {key}, got {value!r}")
        if implementation not in IMPLEMENTATIONS:
            raise ConfigError(f"expected implementation in {IMPLEMENTATIONS}, got {implementation!r}")
        candidate = canonical_activation(activation)
        if implementation == "scan" and candidate != G:
            raise ConfigError(
                f"implementation='scan' needs activation={G!r} (positive candidates: the scan runs in log space), "
                f"got {candidate!r}"
            )
        self._candidate = candidate  # before the base builds the cell (input_shape=...)
        super().__init__(
            units,
            activation="linear",
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            dropout=dropout,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            implementation="auto" if implementation == "scan" else implementation,
            zero_output_for_mask=zero_output_for_mask,
            input_shape=input_shape,
            name=name,
        )
        self.activation = candidate
        self.implementation = implementation
        self._reason: str | None = None  # why the last call did not run a fast kernel

    def cell_kwargs(self):
        return dict(
            activation=self._candidate,
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
        )

    def get_config(self):
        config = super().get_config()
        del config["recurrent_initializer"], config["recurrent_dropout"]
        return config

    def fused_reason(self, mask, recurrent_mask):
        self._reason = super().fused_reason(mask, recurrent_mask)
        return self._reason

    def _run_reference(self, x, mask, state, recurrent_mask):
        if self.implementation == "scan":  # a sequence whose steps are all masked: say why the scan did not run
            self.kernel = f"reference (not scan: {self._reason})"
        return super()._run_reference(x, mask, state, recurrent_mask)

    def _run_right_padded(self, x, lengths, state):
        compiled = use_compiled(x)
        # "auto": the scan where the compiled loop is not available (accelerators, no compiler)
        want_scan = self.implementation == "scan" or (
            self.implementation == "auto" and not compiled and self.cell.scan_reason() is None
        )
        reason = self.cell.scan_reason(state) if want_scan else None
        if want_scan and reason is None:
            self.kernel = "scan"
            return self.cell.scan(x, state, lengths=lengths)
        y, state = super()._run_right_padded(x, lengths, state)
        if want_scan:
            self.kernel = f"{self.kernel} (not scan: {reason})"
        return y, state

    def keras_weights(self):
        self._require_built("get_weights()")
        c = self.cell
        return [c.weight_ih.T, *([c.bias] if c.bias is not None else [])]

    def load_keras_weights(self, arrays):
        c = self.cell
        c.weight_ih.copy_(arrays[0].T)
        if c.bias is not None:
            c.bias.copy_(arrays[1])


@register
class MinGRU(_MinimalRecurrent):
    """Minimal GRU (Feng et al., 2024): ``z_t = σ(W_z x_t + b_z)``, ``h~_t = g(W_h x_t + b_h)``,
    ``h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h~_t``.

    Arguments, kernels and initial states: the module docstring. Keras weights:
    ``[kernel (F, 2H), bias (2H,)]``, column blocks in the order ``z, h``.

    >>> import torch
    >>> tuple(MinGRU(8, return_sequences=True)(torch.zeros(2, 5, 3)).shape)
    (2, 5, 8)
    """

    cell_class = MinGRUCell


@register
class MinLSTM(_MinimalRecurrent):
    """Minimal LSTM (Feng et al., 2024): ``f_t = σ(W_f x_t + b_f)``, ``i_t = σ(W_i x_t + b_i)``,
    ``h~_t = g(W_h x_t + b_h)``, ``f'_t = f_t / (f_t + i_t)``, ``i'_t = i_t / (f_t + i_t)``,
    ``h_t = f'_t ⊙ h_{t-1} + i'_t ⊙ h~_t``.

    Arguments, kernels and initial states: the module docstring. Keras weights:
    ``[kernel (F, 3H), bias (3H,)]``, column blocks in the order ``f, i, h``.

    >>> import torch
    >>> tuple(MinLSTM(8)(torch.zeros(2, 5, 3)).shape)
    (2, 8)
    """

    cell_class = MinLSTMCell
