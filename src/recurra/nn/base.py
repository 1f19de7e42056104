"""``RNNBase``: what ``recurra.nn``'s modules share with ``torch.nn.RNNBase``.

The constructor, the parameters (torch's names and shapes: ``weight_ih_l{k}``, ``weight_hh_l{k}``,
``bias_ih_l{k}``, ``bias_hh_l{k}``, ``weight_hr_l{k}``, with ``_reverse`` for the second direction),
the call ``(input, hx=None)`` and its outputs. Each layer ``k`` and direction runs one recurra kernel
over the whole sequence (``_run_direction``, the subclass's); the layers are stacked as torch does::

    x^(0)   = input                                     (T, B, F)
    y^(k)   = [→RNN_k(x^(k)), ←RNN_k(x^(k))]            (T, B, D·H_out)  (← on each sequence reversed)
    x^(k+1) = dropout(y^(k))                            training only, between layers
    output  = y^(L-1);  h_n[k·D + d] = the state of layer k, direction d, after its last step

The modules hold no functions: activations are names, so a model built from them pickles with
``torch.save(model)`` and loads with torch's weights-only ``torch.load`` (``recurra.nn`` registers
its classes with ``torch.serialization.add_safe_globals``).
"""

from __future__ import annotations

import math
import numbers
import warnings

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from ..errors import ConfigError, InputValueError, RecurraWarning
from ..layers.onnx_form import exporting, run_scan
from . import inputs
from .step_cells import step_cell

State = tuple[torch.Tensor, ...]


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ConfigError(f"expected {name} to be a positive integer, got {value!r}")
    return int(value)


class RNNBase(nn.Module):
    """The shared module (module docstring); subclasses give the parameters and the kernel.

    Subclasses define ``_layer_shapes(layer_input_size) -> [(role, shape)]`` (roles such as
    ``"weight_ih"``, in torch's order), ``state_fields``/``_state_sizes()``, ``_kernel_name(x, h0)``
    and ``_run_direction(x, batch_sizes, state, weights) -> (y, state)``.
    """

    mode: str = ""
    state_fields: tuple[str, ...] = ("h_0",)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ):
        super().__init__()
        self.input_size = _positive_int("input_size", input_size)
        self.hidden_size = _positive_int("hidden_size", hidden_size)
        self.num_layers = _positive_int("num_layers", num_layers)
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1:
            raise ConfigError(f"expected dropout to be a number in [0, 1] (the probability of a zero), got {dropout!r}")
        if isinstance(proj_size, bool) or not isinstance(proj_size, numbers.Integral) or proj_size < 0:
            raise ConfigError(f"expected proj_size to be 0 (no projection) or a positive integer, got {proj_size!r}")
        if proj_size >= hidden_size:
            raise ConfigError(f"expected proj_size smaller than hidden_size={hidden_size}, got proj_size={proj_size}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"dropout={dropout} acts between layers, after every layer but the last; with num_layers=1 it does nothing",
                RecurraWarning,
                stacklevel=3,
            )
        self.bias, self.batch_first, self.bidirectional = bool(bias), bool(batch_first), bool(bidirectional)
        self.dropout, self.proj_size = float(dropout), int(proj_size)
        self.kernel: str | None = None  # the kernel of the last call
        directions = 2 if self.bidirectional else 1
        real_hidden = self.proj_size or self.hidden_size
        factory = dict(device=device, dtype=dtype)
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                suffix = "_reverse" if direction == 1 else ""
                names = []
                for role, shape in self._layer_shapes(layer_input):
                    name = f"{role}_l{layer}{suffix}"
                    setattr(self, name, nn.Parameter(torch.empty(*shape, **factory)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    # -- what the subclasses define --------------------------------------------------------------------
    def _layer_shapes(self, layer_input_size: int) -> list[tuple[str, tuple[int, ...]]]:
        raise NotImplementedError

    def _state_sizes(self) -> tuple[int, ...]:
        return (self.hidden_size,)

    def _kernel_name(self, x: torch.Tensor, h0: torch.Tensor) -> str:
        raise NotImplementedError

    def _run_direction(
        self, x: torch.Tensor, batch_sizes: torch.Tensor | None, state: State, weights: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, State]:
        raise NotImplementedError

    # -- torch.nn.RNNBase's introspection ------------------------------------------------------------
    def _run_layer(self, x, batch_sizes, state: State, weights) -> tuple[torch.Tensor, State]:
        """One layer and direction: its kernel, or, exported with a padded input, the cell's steps in one
        scan (``step_cells``: the time axis stays free)."""
        if exporting() and batch_sizes is None:
            cell = step_cell(self.mode, weights)
            if cell is not None:
                self.kernel = "export"
                y, final = run_scan(cell, x.transpose(0, 1), None, cell.State(*state), True, False)  # (B, T, H)
                return y.transpose(0, 1), tuple(final)  # (T, B, H)
        return self._run_direction(x, batch_sizes, state, weights)

    def _run_to_lengths(self, x, lengths, state: State, weights, reverse: bool) -> tuple[torch.Tensor, State]:
        """One layer and direction of a traced padded batch ``x (T, B, F)`` kept dense, each row run to its
        length (``lengths (B,)``; ``inputs``' docstring): ``(y (T, B, H_out), 0 after each length; each row's
        state at its last step)``. The reverse direction reads each row reversed within its length. Exported:
        the cell's steps in one scan, masked after each length; compiled: the kernel (``_run_dense_to_lengths``)."""
        valid, index = inputs.within_lengths(lengths, x.shape[0])  # (T, B) each
        if reverse:
            x = inputs.gather_steps(x, index)
        cell = step_cell(self.mode, weights) if exporting() else None
        if cell is not None:
            self.kernel = "export"
            y, final = run_scan(cell, x.transpose(0, 1), valid.transpose(0, 1), cell.State(*state), True, False)
            y, final = y.transpose(0, 1), tuple(final)  # (T, B, H)
        else:
            y, final = self._run_dense_to_lengths(x, lengths, state, weights)
        if reverse:
            y = inputs.gather_steps(y, index)
        return torch.where(valid[:, :, None], y, torch.zeros_like(y)), final

    def _run_dense_to_lengths(self, x, lengths, state: State, weights) -> tuple[torch.Tensor, State]:
        """The kernel over all ``T`` steps of ``x (T, B, F)``: each row's final state is its output at its last
        step (``h_t = y_t`` in every module but the LSTM, which overrides this)."""
        y, _ = self._run_direction(x, None, state, weights)
        last = (lengths - 1).clamp(min=0)[None, :]  # (1, B)
        return y, (inputs.gather_steps(y, last)[0],)

    def reset_parameters(self) -> None:
        """Every parameter uniform in ``[-1/√H, 1/√H]``, as torch.nn draws them."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """Nothing to do: recurra's kernels take the parameters as they are (kept for torch.nn's callers)."""

    @property
    def _flat_weights(self) -> list[torch.Tensor]:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[nn.Parameter]]:
        """The parameters of each layer and direction, in torch's order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        for option, default in (
            ("num_layers", 1),
            ("bias", True),
            ("batch_first", False),
            ("dropout", 0.0),
            ("bidirectional", False),
        ):
            if getattr(self, option) != default:
                s += f", {option}={getattr(self, option)}"
        return s

    # -- the call -----------------------------------------------------------------------------------
    def forward(
        self,
        input: torch.Tensor | PackedSequence,
        hx: torch.Tensor | State | None = None,
        *,
        lengths: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor | PackedSequence, torch.Tensor | State]:
        """``(output, h_n)`` (``(output, (h_n, c_n))`` for the LSTM), as torch.nn's modules.

        ``input``: ``(T, B, F)``, ``(B, T, F)`` with ``batch_first``, ``(T, F)`` unbatched, or a
        ``PackedSequence`` (then ``output`` is one too). ``hx``: ``(L·D, B, H_out)`` (``(L·D, H_out)``
        unbatched), zeros when ``None``. recurra's extras: ``lengths (B,)`` or a right-padded boolean
        ``mask`` laid out as the input's first two dimensions, for a padded batch: each row runs to its
        length, ``h_n`` is its state there, and ``output`` is 0 after it.
        """
        name = type(self).__name__
        batch = inputs.read_input(name, self.input_size, input, self.batch_first, lengths, mask)
        x, batch_sizes = batch.data, batch.batch_sizes  # (T, B, F) or (N, F)
        weight = self._flat_weights[0]
        if x.dtype != weight.dtype:
            raise InputValueError(
                f"{name} expected input of dtype {weight.dtype} (its weights), got {x.dtype}; "
                "convert one to the other (module.to(dtype) or input.to(dtype))"
            )
        directions = 2 if self.bidirectional else 1
        states = inputs.read_states(name, hx, self.state_fields, self._state_sizes(), self.num_layers * directions, batch, x)
        self.kernel = self._kernel_name(x, states[0])
        index = inputs.reverse_index(batch_sizes) if self.bidirectional and batch_sizes is not None else None
        finals: list[State] = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                weights = {n.split("_l")[0]: getattr(self, n) for n in self._all_weights[k]}
                state = tuple(s[k] for s in states)  # each (B, ·)
                if batch.lengths is not None:
                    y, final = self._run_to_lengths(x, batch.lengths, state, weights, direction == 1)
                elif direction == 0:
                    y, final = self._run_layer(x, batch_sizes, state, weights)
                else:
                    y, final = self._run_layer(inputs.reverse(x, batch_sizes, index), batch_sizes, state, weights)
                    y = inputs.reverse(y, batch_sizes, index)
                outputs.append(y)  # (T, B, H_out) or (N, H_out)
                finals.append(final)
            x = outputs[0] if directions == 1 else torch.cat(outputs, -1)  # (T, B, D·H_out) or (N, D·H_out)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        h_n = tuple(torch.stack([f[i] for f in finals]) for i in range(len(states)))  # each (L·D, B, ·)
        output, h_n = inputs.write_output(batch, x, h_n, self.batch_first)
        return output, (h_n[0] if len(h_n) == 1 else h_n)
