"""``SimpleRNN``, ``LSTM`` and ``GRU``: thin layers over their cells.

Each names its cell, adds its own arguments, and converts its weights to and from Keras 3's
layout: ``[kernel (F, G·H), recurrent_kernel (H, G·H), bias]``.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from .. import activations
from ..cells import GRUCell, LSTMCell, SimpleRNNCell
from ..cells.elman import check_feedback, state_class
from ..errors import ConfigError
from .base import register
from .recurrent import Recurrent


def _transposed(w: torch.Tensor) -> torch.Tensor:
    """A matrix transposed (PyTorch layout <-> Keras layout); a vector as it is."""
    return w.T if w.dim() == 2 else w


def _kernel_weights(cell, bias_list: list[torch.Tensor]) -> list[torch.Tensor]:
    return [cell.weight_ih.T, cell.weight_hh.T, *bias_list]


def lstm_keras_weights(cell) -> list[torch.Tensor]:
    """An LSTM cell's weights in Keras's layout: ``[kernel (F, 4H), recurrent_kernel (H, 4H), bias (4H,)]``."""
    return _kernel_weights(cell, [cell.bias] if cell.bias is not None else [])


def load_lstm_keras_weights(cell, arrays: list[torch.Tensor]) -> None:
    cell.weight_ih.copy_(arrays[0].T)
    cell.weight_hh.copy_(arrays[1].T)
    if cell.bias is not None:
        cell.bias.copy_(arrays[2])


def gru_keras_weights(cell, reset_after: bool) -> list[torch.Tensor]:
    """A GRU cell's weights in Keras's layout and gate order ``z, r, h``: ``[kernel (F, 3H), recurrent_kernel
    (H, 3H), bias]``, ``bias`` ``(2, 3H)`` when ``reset_after`` else ``(3H,)``."""
    weights = [_rzh_to_zrh(cell.weight_ih, 0).T, _rzh_to_zrh(cell.weight_hh, 0).T]
    if cell.bias is not None:
        b = _rzh_to_zrh(cell.bias, 0)
        weights.append(torch.stack([b, _rzh_to_zrh(cell.recurrent_bias, 0)]) if reset_after else b)
    return weights


def load_gru_keras_weights(cell, reset_after: bool, arrays: list[torch.Tensor]) -> None:
    cell.weight_ih.copy_(_zrh_to_rzh(arrays[0].T, 0))
    cell.weight_hh.copy_(_zrh_to_rzh(arrays[1].T, 0))
    if cell.bias is not None:
        if reset_after:
            cell.bias.copy_(_zrh_to_rzh(arrays[2][0], 0))
            cell.recurrent_bias.copy_(_zrh_to_rzh(arrays[2][1], 0))
        else:
            cell.bias.copy_(_zrh_to_rzh(arrays[2], 0))


@register
class SimpleRNN(Recurrent):
    """Simple recurrent layer with one of four kinds of ``feedback`` (see ``recurra.cells.elman``).

    ``"lateral"`` (default, Elman): ``h_t = act(W_xh x_t + W_hh h_{t-1} + b_h)``, output ``y_t = h_t``;
    ``"direct"``: ``h_t = act(W_xh x_t + w_hh ⊙ h_{t-1} + b_h)``, output ``y_t = h_t``;
    ``"indirect"`` (Jordan): ``h_t = act(W_xh x_t + W_yh y_{t-1} + b_h)``, output ``y_t = W_hy h_t + b_y``;
    ``"complete"``: ``h_t = act(W_xh x_t + W_hh h_{t-1} + W_yh y_{t-1} + b_h)``, output ``y_t = W_hy h_t + b_y``.

    ``output_units`` (``O``, the size of ``y_t``) is required by ``"indirect"`` and ``"complete"`` and
    refused by the others. ``activation`` is ``"tanh"`` (default) or ``"relu"`` for lateral's fused
    kernel; any other name, and the other kinds, run the reference loop.

    Shapes:
        output: ``(B, T, H)`` / ``(B, H)`` for lateral and direct, ``(B, T, O)`` / ``(B, O)`` for
        indirect and complete. ``return_state`` adds the state, which is also ``initial_state``'s
        form: ``h (B, H)`` (lateral, direct), ``y (B, O)`` (indirect), ``h (B, H), y (B, O)`` (complete).

    ``recurrent_dropout`` multiplies ``h_{t-1}`` where it enters ``W_hh h_{t-1}`` or ``w_hh ⊙ h_{t-1}``;
    the fed-back ``y_{t-1}`` is never dropped, so ``"indirect"`` refuses it.

    Keras weights (``bias`` and ``output_bias`` only with ``use_bias``):

    - lateral: ``[kernel (F, H), recurrent_kernel (H, H), bias (H,)]``;
    - direct: ``[kernel (F, H), recurrent_kernel (H,), bias (H,)]``;
    - indirect: ``[kernel (F, H), feedback_kernel (O, H), bias (H,), output_kernel (H, O), output_bias (O,)]``;
    - complete: ``[kernel, recurrent_kernel (H, H), feedback_kernel (O, H), bias, output_kernel, output_bias]``;

    where ``kernel = W_xh.T``, ``recurrent_kernel = W_hh.T`` (or ``w_hh``), ``feedback_kernel = W_yh.T``,
    ``output_kernel = W_hy.T``.

    >>> layer = SimpleRNN(8, return_sequences=True)
    >>> tuple(layer(torch.zeros(2, 5, 3)).shape)
    (2, 5, 8)
    >>> out, y = SimpleRNN(8, feedback="indirect", output_units=2, return_state=True)(torch.zeros(2, 5, 3))
    >>> tuple(out.shape), tuple(y.shape)
    ((2, 2), (2, 2))
    """

    cell_class = SimpleRNNCell

    def __init__(
        self,
        units: int,
        *,
        feedback: str = "lateral",
        output_units: int | None = None,
        activation: str | None = "tanh",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        implementation: str = "auto",
        zero_output_for_mask: bool = False,
        seed: int | None = None,
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        unroll: bool = False,
        use_cudnn: str | bool = "auto",
        input_shape: Sequence[int | None] | None = None,
        name: str | None = None,
        dtype: Any = None,
        trainable: bool = True,
    ):
        self.feedback, self.output_units = check_feedback(feedback, output_units)
        if self.feedback == "indirect" and recurrent_dropout:
            raise ConfigError(
                "recurrent_dropout drops h_{t-1} where it enters W_hh h_{t-1}, which feedback='indirect' does not have; "
                f"expected recurrent_dropout=0.0, got {recurrent_dropout!r}"
            )
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
            seed=seed,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            unroll=unroll,
            use_cudnn=use_cudnn,
            input_shape=input_shape,
            name=name,
            dtype=dtype,
            trainable=trainable,
        )

    @property
    def state_names(self) -> tuple[str, ...]:
        return state_class(self.feedback)._fields

    def cell_kwargs(self):
        return dict(super().cell_kwargs(), feedback=self.feedback, output_units=self.output_units)

    def get_config(self):
        return dict(super().get_config(), feedback=self.feedback, output_units=self.output_units, **self.keras_options())

    def keras_weight_roles(self) -> list[str]:
        roles = {"weight_ih": "kernel", "weight_hh": "recurrent_kernel", "weight_yh": "recurrent_kernel",
                 "bias": "bias", "weight_hy": "kernel", "output_bias": "bias"}  # fmt: skip
        return [roles[n] for n in self._keras_names()]

    def _keras_names(self) -> list[str]:
        """The cell's parameters in Keras order (``None`` entries skipped)."""
        names = {
            "lateral": ["weight_ih", "weight_hh", "bias"],
            "direct": ["weight_ih", "weight_hh", "bias"],
            "indirect": ["weight_ih", "weight_yh", "bias", "weight_hy", "output_bias"],
            "complete": ["weight_ih", "weight_hh", "weight_yh", "bias", "weight_hy", "output_bias"],
        }[self.feedback]
        return [n for n in names if getattr(self.cell, n) is not None]

    def keras_weights(self):
        self._require_built("get_weights()")
        return [_transposed(getattr(self.cell, n)) for n in self._keras_names()]

    def load_keras_weights(self, arrays):
        for n, a in zip(self._keras_names(), arrays):
            getattr(self.cell, n).copy_(_transposed(a))

    def extra_repr(self) -> str:
        out = f", output_units={self.output_units}" if self.output_units else ""
        return f"units={self.units}, feedback={self.feedback!r}{out}, return_sequences={self.return_sequences}"


@register
class LSTM(Recurrent):
    """Long short-term memory layer (seed 004's f, u, c~, c, o, a; see ``recurra.cells.lstm``).

    Extra arguments: ``recurrent_activation="sigmoid"``, ``unit_forget_bias=True`` (forget-gate bias
    starts at 1). ``return_state`` gives ``(output, h, c)``; ``initial_state=[h, c]``.
    Keras weights: ``[kernel (F, 4H), recurrent_kernel (H, 4H), bias (4H,)]``, gates ``i, f, c, o``.

    >>> out, h, c = LSTM(8, return_state=True)(torch.zeros(2, 5, 3))
    >>> tuple(out.shape), tuple(c.shape)
    ((2, 8), (2, 8))
    """

    cell_class = LSTMCell

    def __init__(
        self,
        units: int,
        *,
        activation: str | None = "tanh",
        recurrent_activation: str | None = "sigmoid",
        unit_forget_bias: bool = True,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        implementation: str = "auto",
        zero_output_for_mask: bool = False,
        seed: int | None = None,
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        unroll: bool = False,
        use_cudnn: str | bool = "auto",
        input_shape: Sequence[int | None] | None = None,
        name: str | None = None,
        dtype: Any = None,
        trainable: bool = True,
    ):
        self.recurrent_activation = activations.canonical(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
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
            seed=seed,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            unroll=unroll,
            use_cudnn=use_cudnn,
            input_shape=input_shape,
            name=name,
            dtype=dtype,
            trainable=trainable,
        )

    def cell_kwargs(self):
        return dict(super().cell_kwargs(), recurrent_activation=self.recurrent_activation, unit_forget_bias=self.unit_forget_bias)

    def get_config(self):
        own = dict(recurrent_activation=self.recurrent_activation, unit_forget_bias=self.unit_forget_bias)
        return dict(super().get_config(), **own, **self.keras_options())

    def keras_weights(self):
        self._require_built("get_weights()")
        return lstm_keras_weights(self.cell)

    def load_keras_weights(self, arrays):
        load_lstm_keras_weights(self.cell, arrays)


def _rzh_to_zrh(w: torch.Tensor, dim: int) -> torch.Tensor:
    """Reorder stacked GRU gates from recurra's (torch's) ``r, z, h`` to Keras's ``z, r, h``."""
    r, z, h = w.chunk(3, dim)
    return torch.cat([z, r, h], dim)


def _zrh_to_rzh(w: torch.Tensor, dim: int) -> torch.Tensor:
    z, r, h = w.chunk(3, dim)
    return torch.cat([r, z, h], dim)


@register
class GRU(Recurrent):
    """Gated recurrent unit layer (seed 004's z, r, h~; see ``recurra.cells.gru``).

    Extra arguments: ``recurrent_activation="sigmoid"``, ``reset_after=True`` (Keras's default; the
    fused kernel's form). Keras weights: ``[kernel (F, 3H), recurrent_kernel (H, 3H), bias]`` with gates
    ``z, r, h`` and ``bias`` of shape ``(2, 3H)`` (input and recurrent bias) when ``reset_after``, else
    ``(3H,)``.

    >>> tuple(GRU(8, reset_after=False)(torch.zeros(2, 5, 3)).shape)
    (2, 8)
    """

    cell_class = GRUCell

    def __init__(
        self,
        units: int,
        *,
        activation: str | None = "tanh",
        recurrent_activation: str | None = "sigmoid",
        reset_after: bool = True,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        implementation: str = "auto",
        zero_output_for_mask: bool = False,
        seed: int | None = None,
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        unroll: bool = False,
        use_cudnn: str | bool = "auto",
        input_shape: Sequence[int | None] | None = None,
        name: str | None = None,
        dtype: Any = None,
        trainable: bool = True,
    ):
        self.recurrent_activation = activations.canonical(recurrent_activation)
        self.reset_after = bool(reset_after)
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
            seed=seed,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            unroll=unroll,
            use_cudnn=use_cudnn,
            input_shape=input_shape,
            name=name,
            dtype=dtype,
            trainable=trainable,
        )

    def cell_kwargs(self):
        return dict(super().cell_kwargs(), recurrent_activation=self.recurrent_activation, reset_after=self.reset_after)

    def get_config(self):
        own = dict(recurrent_activation=self.recurrent_activation, reset_after=self.reset_after)
        return dict(super().get_config(), **own, **self.keras_options())

    def keras_weights(self):
        self._require_built("get_weights()")
        return gru_keras_weights(self.cell, self.reset_after)

    def load_keras_weights(self, arrays):
        load_gru_keras_weights(self.cell, self.reset_after, arrays)
