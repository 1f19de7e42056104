"""``Reservoir``: an Echo State reservoir as a layer, to put before a trained readout.

See ``recurra.cells.reservoir`` for the equations and the kernels, and ``recurra.EchoStateNetwork``
for the readout fitted in closed form.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from ..cells.reservoir import ReservoirCell, check_reservoir_args, draw_seed
from ..errors import ConfigError, InputValueError, format_shape
from .base import Layer, normalize_input_shape, register
from .recurrent import Recurrent, check_sequence_input


@register
class Reservoir(Recurrent):
    """A fixed random leaky reservoir (never trained) over ``(B, T, F)`` inputs::

        x_t = (1 - α) x_{t-1} + α tanh(W_in [1; u_t] + W x_{t-1})

    ``units`` (``N``), ``spectral_radius`` (of ``W``, set exactly), ``leak_rate`` (``α`` in
    ``(0, 1]``), ``input_scaling``, ``bias_scaling``, ``density`` (of ``W``, in ``(0, 1]``), ``seed``
    (``None``: drawn from torch's global generator when the layer is made, then kept in its config,
    so a config rebuilds the same reservoir). The recurrent-layer arguments ``return_sequences``,
    ``return_state``, ``go_backwards``, ``stateful``, ``input_shape`` and the call's ``mask`` /
    ``lengths`` / ``initial_state`` work as for every recurrent layer.

    Its matrices are buffers: ``parameters()`` and ``get_weights()`` are empty, an optimiser never
    sees them, and they are saved with the model. Put a ``Dense`` after it (``return_sequences=True``
    for one output per step) and train that with ``fit``; ``recurra.EchoStateNetwork`` fits the same
    readout in closed form instead.

    Kernels (``layer.kernel``): ``"compiled"`` (the C++ loop of ``recurra.cells.reservoir``, CPU),
    ``"torch"`` (the same loop in torch operations: other devices, or no compiler), or
    ``"reference"`` (``cell.step`` per step: with a mask, for inputs that need gradients, or with
    ``implementation="reference"``).

    Shapes: ``(B, T, F) -> (B, T, N)`` with ``return_sequences``, else ``(B, N)``.

    >>> layer = Reservoir(50, spectral_radius=0.9, leak_rate=0.3, return_sequences=True, seed=0)
    >>> tuple(layer(torch.zeros(2, 7, 3)).shape), list(layer.parameters())
    ((2, 7, 50), [])
    """

    cell_class = ReservoirCell

    def __init__(
        self,
        units: int,
        *,
        spectral_radius: float = 0.9,
        leak_rate: float = 1.0,
        input_scaling: float = 1.0,
        bias_scaling: float = 1.0,
        density: float = 0.1,
        seed: int | None = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        implementation: str = "auto",
        zero_output_for_mask: bool = False,
        input_shape: Sequence[int | None] | None = None,
        name: str | None = None,
    ):
        args = check_reservoir_args(
            units=units,
            spectral_radius=spectral_radius,
            leak_rate=leak_rate,
            input_scaling=input_scaling,
            bias_scaling=bias_scaling,
            density=density,
            seed=seed,
        )
        super().__init__(
            args["units"],
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            implementation=implementation,
            zero_output_for_mask=zero_output_for_mask,
            name=name,
        )
        self.spectral_radius, self.leak_rate, self.density = args["spectral_radius"], args["leak_rate"], args["density"]
        self.input_scaling, self.bias_scaling = args["input_scaling"], args["bias_scaling"]
        self.seed = draw_seed() if args["seed"] is None else args["seed"]
        self._needs_grad = False
        self.input_shape = normalize_input_shape(input_shape)
        if self.input_shape is not None and len(self.input_shape) != 2:
            raise ConfigError(f"Reservoir expected input_shape=(timesteps, features), got {format_shape(self.input_shape)}")
        self._build_from_input_shape()

    def cell_kwargs(self) -> dict[str, Any]:
        return dict(
            spectral_radius=self.spectral_radius,
            leak_rate=self.leak_rate,
            input_scaling=self.input_scaling,
            bias_scaling=self.bias_scaling,
            density=self.density,
            seed=self.seed,
        )

    def forward(self, x, mask=None, lengths=None, initial_state=None, training: bool | None = None):
        check_sequence_input(self, x, self.cell.input_size if self.built else None)
        self.maybe_build(x)
        if x.dtype != self.cell.W.dtype:
            raise InputValueError(
                f"Reservoir expected input of dtype {self.cell.W.dtype} (its matrices), got {x.dtype}; "
                "convert one to the other (layer.to(dtype) or x.to(dtype))"
            )
        states = [] if initial_state is None else self._as_state_list(initial_state)
        self._needs_grad = torch.is_grad_enabled() and (
            x.requires_grad or any(isinstance(s, torch.Tensor) and s.requires_grad for s in states)
        )
        return super().forward(x, mask=mask, lengths=lengths, initial_state=initial_state, training=training)

    def fused_reason(self, mask, recurrent_mask) -> str | None:
        if self.implementation == "reference":
            return "implementation='reference'"
        if mask is not None:
            return "a mask (the fast loops run whole sequences)"
        if self._needs_grad:
            return "an input that needs gradients (the fast loops compute none)"
        return None

    def _run_fused(self, x, mask, state):
        y, state = self.cell.fused(x, state)
        self.kernel = "compiled" if self.cell.backend == "cpp" else "torch"
        return y, state

    def get_config(self) -> dict[str, Any]:
        config = Layer.get_config(self)  # name, input_shape: the recurrent layers' other options do not apply
        config.update(
            units=self.units,
            spectral_radius=self.spectral_radius,
            leak_rate=self.leak_rate,
            input_scaling=self.input_scaling,
            bias_scaling=self.bias_scaling,
            density=self.density,
            seed=self.seed,
            return_sequences=self.return_sequences,
            return_state=self.return_state,
            go_backwards=self.go_backwards,
            stateful=self.stateful,
            implementation=self.implementation,
        )
        return config

    def extra_repr(self) -> str:
        return (
            f"units={self.units}, spectral_radius={self.spectral_radius}, leak_rate={self.leak_rate}, "
            f"density={self.density}, seed={self.seed}, return_sequences={self.return_sequences}"
        )


__all__ = ["Reservoir"]
