"""``RNN(cell)``: Keras's generic recurrent layer, the loop over time around any cell written Keras's way.

A Keras cell is a layer with ``state_size`` (an int, or a list: one size per state tensor), optionally
``output_size`` and ``get_initial_state(batch_size)``, and ``call(inputs, states, training=None) ->
(output, new_states)``, ``inputs (B, F)``, ``states`` a list of ``(B, size)`` tensors (nested lists for
``StackedRNNCells``). ``RNN`` gives it everything the built-in layers have: masks, ``return_sequences``,
``return_state``, ``go_backwards``, ``stateful``, ``initial_state``, ``Bidirectional``, stacking, saving
(a user cell registered with ``recurra.saving.register_keras_serializable``).

How it runs: ``RNN`` is a ``Recurrent`` layer whose cell is a ``KerasCell``, recurra's cell protocol
(``recurra.cells.base``) over the Keras cell. recurra's own cell layers (``LSTMCell``, ``GRUCell``,
``SimpleRNNCell``) hand their equations to recurra's kernels, fused where the options allow; any other cell
runs the reference loop, one ``call`` per step — or its own fast path: a cell with ``fused_reason()``
returning ``None`` and ``fused(inputs (B, T, F), states) -> (outputs (B, T, O), new_states)`` runs whole
unmasked sequences at once.

>>> from recurra.layers.keras_cells import GRUCell
>>> tuple(RNN(GRUCell(4), return_sequences=True)(torch.zeros(2, 5, 3)).shape)
(2, 5, 4)
"""

from __future__ import annotations

import copy
from collections import namedtuple
from typing import Any, Sequence

import torch

from ..cells.base import RecurrentCell
from ..errors import ConfigError, ShapeError, format_shape
from ..tree import flatten, is_nested, map_structure, pack_sequence_as
from .base import Layer, normalize_input_shape, register, unbuilt_copy
from .cell_layout import Layout, input_layout, size_structure
from .keras_cells import StackedRNNCells, _CellLayer, check_cell
from .recurrent import Recurrent


def state_layout(cell: Any) -> Layout:
    """The states a cell is called with: a list, one entry per state (one list per cell when stacked), each
    leaf a state's shape after the batch axis."""
    if isinstance(cell, StackedRNNCells):
        return Layout([state_layout(c).structure for c in cell.cells])
    structure = size_structure(cell.state_size, f"{type(cell).__name__}.state_size")
    return Layout(structure if isinstance(structure, (list, tuple, dict)) else [structure])


def output_layout(cell: Any) -> Layout:
    """A cell's output ``y_t``: its ``output_size``, else its first state's shape (Keras's rule)."""
    size = getattr(cell, "output_size", None)
    if size is None:
        return Layout(state_layout(cell).leaves[0])
    return Layout(size_structure(size, f"{type(cell).__name__}.output_size"))


def output_size_of(cell: Any) -> int:
    """The size of a cell's output ``y_t`` laid flat (``output_layout``)."""
    return output_layout(cell).size


def _keras_cell_state(n: int) -> type:
    """The state record of a Keras cell with ``n`` flat states: ``(state_0, ..., state_{n-1}, output)``."""
    return namedtuple("KerasCellState", [f"state_{i}" for i in range(n)] + ["output"])


class KerasCell(RecurrentCell):
    """recurra's cell protocol over a Keras cell (module docstring). The Keras cell's weights belong to the
    ``RNN`` that owns both; this object only refers to it."""

    def __init__(self, keras_cell: Any, input_size: int, inputs: Layout | None = None):
        super().__init__()
        object.__setattr__(self, "keras_cell", keras_cell)  # not a sub-module: the RNN holds its weights
        self.input_size = input_size
        self.inputs = inputs  # the layout of nested inputs, None for one (B, F) tensor
        self.builtin = isinstance(keras_cell, _CellLayer)
        self.training_flag = False  # set by the RNN for each call
        if self.builtin:
            core = keras_cell.cell
            self.State, self.units = core.State, core.units
            self.output_state = getattr(core, "output_state", "h")
            self.quantities, self.gates = core.quantities, core.gates
        else:
            self.states = state_layout(keras_cell)
            self.outputs = output_layout(keras_cell)
            self.structure = self.states.structure
            n = len(self.states.leaves)
            self.State = _keras_cell_state(n)
            self.units = self.outputs.size
            self.output_state = "output"  # the last real step's output travels in the state

    def nested_states(self, flat: list[torch.Tensor]) -> Any:
        """Flat ``(B, size)`` states as the cell takes them: each ``(B, *shape)``, in its structure."""
        return pack_sequence_as(self.structure, [s.reshape(s.shape[0], *leaf.shape) for s, leaf in zip(flat, self.states.leaves)])

    def flat_states(self, states: Any, what: str) -> list[torch.Tensor]:
        """States in the cell's structure, each ``(B, *shape)``, as flat ``(B, size)`` tensors."""
        found = [states] if isinstance(states, torch.Tensor) else flatten(states)
        if len(found) != len(self.states.leaves):
            raise ShapeError(
                f"{what} returned {len(found)} state tensor(s); "
                f"its state_size {self.keras_cell.state_size!r} says {len(self.states.leaves)}"
            )
        checked = self.states.leaves_of(found, 1, f"{what} (state_size {self.keras_cell.state_size!r})")
        return [s.reshape(s.shape[0], -1) for s in checked]

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        if not self.builtin:  # a class made here, which pickle cannot name: rebuilt from the layout when read back
            state = {k: v for k, v in state.items() if k != "State"}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        if not self.builtin:
            self.State = _keras_cell_state(len(self.states.leaves))

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name.startswith("_") or name == "keras_cell":
                raise
            return getattr(self.__dict__["keras_cell"], name)  # rnn.cell.units, rnn.cell.kernel ... as in Keras

    @property
    def core(self) -> Any:
        return self.keras_cell.cell

    def zero_state(self, batch: int, *, dtype: torch.dtype, device: Any) -> Any:
        if self.builtin:
            return self.core.zero_state(batch, dtype=dtype, device=device)
        make = getattr(self.keras_cell, "get_initial_state", None)
        if make is not None:
            made = self.flat_states(make(batch_size=batch), f"{type(self.keras_cell).__name__}.get_initial_state")
            states = [t.to(dtype=dtype, device=device) for t in made]
        else:
            states = [torch.zeros(batch, leaf.size, dtype=dtype, device=device) for leaf in self.states.leaves]
        return self.State(*states, torch.zeros(batch, self.units, dtype=dtype, device=device))

    def step(self, x_t: torch.Tensor, state: Any, recurrent_mask: torch.Tensor | None = None):
        if self.builtin:
            return self.core.step(x_t, state, recurrent_mask)
        inputs = x_t if self.inputs is None else self.inputs.unflatten(x_t)  # (B, F) or nested (B, *shape)
        y, new_states = self.keras_cell(inputs, self.nested_states(list(state[:-1])), training=self.training_flag)
        new_flat = self.flat_states(new_states, f"{type(self.keras_cell).__name__}.call")
        if not self.outputs.is_plain:
            y = self.outputs.flatten(y, 1, f"the output of {type(self.keras_cell).__name__}.call")  # (B, O)
        return y, self.State(*new_flat, y)

    def step_quantities(self, x_t, state, recurrent_mask=None):
        if self.builtin:
            return self.core.step_quantities(x_t, state, recurrent_mask)
        return super().step_quantities(x_t, state, recurrent_mask)

    def fused_reason(self) -> str | None:
        if self.builtin:
            return self.core.fused_reason()
        own = getattr(self.keras_cell, "fused_reason", None)
        if own is None or not hasattr(self.keras_cell, "fused"):
            return f"the cell {type(self.keras_cell).__name__} states no fast path (it runs one call per step)"
        return own()

    def fused(self, x: torch.Tensor, state: Any):
        if self.builtin:
            return self.core.fused(x, state)
        y, new_states = self.keras_cell.fused(x, self.nested_states(list(state[:-1])))  # (B, T, O)
        return y, self.State(*self.flat_states(new_states, f"{type(self.keras_cell).__name__}.fused"), y[:, -1])

    def fused_packed(self, data, batch_sizes, state):
        return self.core.fused_packed(data, batch_sizes, state)


@register
class RNN(Recurrent):
    """The loop over time around a Keras cell, or a list of cells (stacked), as Keras's ``RNN`` (module
    docstring). Arguments: Keras's (``return_sequences``, ``return_state``, ``go_backwards``, ``stateful``,
    ``unroll`` (accepted, no effect), ``zero_output_for_mask``), and ``implementation`` as the built-in layers.

    ``return_state`` gives ``(output, *states)`` with the states as the cell takes them: ``h, c`` for an
    ``LSTMCell``, one list per cell for stacked cells. Dropout is the cell's: ``LSTMCell(8, dropout=0.2)``.
    """

    def __init__(
        self,
        cell: Any,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        *,
        implementation: str = "auto",
        input_shape: Sequence[int | None] | None = None,
        name: str | None = None,
        dtype: Any = None,
        trainable: bool = True,
    ):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        check_cell(cell)
        builtin = isinstance(cell, _CellLayer)
        super().__init__(
            output_size_of(cell),
            dropout=cell.dropout if builtin else 0.0,
            recurrent_dropout=cell.recurrent_dropout if builtin else 0.0,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            implementation=implementation,
            zero_output_for_mask=zero_output_for_mask,
            seed=cell.seed if builtin else None,
            unroll=unroll,
            name=name,
            dtype=dtype,
            trainable=trainable,
        )
        self.keras_cell = cell
        self._input_layout: Layout | None = None
        self.input_shape = normalize_input_shape(input_shape)
        if self.input_shape is not None and len(self.input_shape) != 2:
            raise ConfigError(f"RNN expected input_shape=(timesteps, features), got {format_shape(self.input_shape)}")
        self._build_from_input_shape()

    def build(self, input_shape, *, dtype=None, device=None):
        if len(input_shape) != 2 or input_shape[-1] is None:
            found = ", ".join(map(str, input_shape))
            raise ShapeError(f"RNN expected input of shape (batch, time, features), got (batch, {found})")
        features = int(input_shape[-1])
        inputs = self._input_layout  # set by a call on nested inputs
        if inputs is not None and inputs.size != features:
            inputs = None
        if isinstance(self.keras_cell, Layer) and not self.keras_cell.built:
            shape = (features,) if inputs is None else map_structure(lambda leaf: leaf.shape, inputs.structure)
            self.keras_cell.build_weights(shape, dtype=dtype, device=device)
        self.cell = KerasCell(self.keras_cell, features, inputs)
        if self.implementation == "fused" and self.cell.fused_reason():
            raise ConfigError(f"implementation='fused' cannot run {self.cell.fused_reason()}")
        self.built = True

    @property
    def state_names(self) -> tuple[str, ...]:
        if self.cell is not None:
            return self.cell.State._fields
        if isinstance(self.keras_cell, _CellLayer):
            return self.keras_cell.core_class.State._fields
        return tuple(f"state_{i}" for i in range(len(state_layout(self.keras_cell).leaves))) + ("output",)

    def fused_reason(self, mask, recurrent_mask) -> str | None:
        if mask is not None and self.cell is not None and not self.cell.builtin:
            return "a mask (a cell's own fast path runs whole sequences)"
        return super().fused_reason(mask, recurrent_mask)

    def get_initial_state(self, x: torch.Tensor, initial_state: Any = None) -> Any:
        if initial_state is not None:
            flat = [initial_state] if isinstance(initial_state, torch.Tensor) else flatten(initial_state)
            if not self.cell.builtin:  # states of any shape laid flat; the last output starts at zeros
                flat = self.cell.flat_states(flat, "initial_state") if len(flat) == len(self.cell.states.leaves) else flat
                flat = flat + [torch.zeros(x.shape[0], self.units, dtype=x.dtype, device=x.device)]
            initial_state = flat
        return super().get_initial_state(x, initial_state)

    def forward(self, x, mask=None, lengths=None, initial_state=None, training: bool | None = None):
        if is_nested(x):  # a structure of (B, T, *shape) inputs, laid flat as one (B, T, F)
            x = self._flat_inputs(x)
        if isinstance(mask, (list, tuple)):  # the masks of nested inputs: the first one given (Keras's rule)
            mask = next((m for m in mask if m is not None), None)
        if isinstance(x, torch.Tensor) and not self.built:
            self.maybe_build(x)
        self.cell.training_flag = self.training if training is None else bool(training)
        out = super().forward(x, mask=mask, lengths=lengths, initial_state=initial_state, training=training)
        if self.cell.builtin:
            return out
        output, *flat = out if self.return_state else (out,)
        if not self.cell.outputs.is_plain:
            output = self.cell.outputs.unflatten(output)  # (B, [T,] *shape) in the cell's output structure
        if not self.return_state:
            return output
        return (output, *self.cell.nested_states(flat[:-1]))  # the carried last output is not one of the cell's states

    def _flat_inputs(self, x: Any) -> torch.Tensor:
        layout = input_layout(x)
        if not self.built:
            self._input_layout = layout
        elif self.cell.inputs is None or self.cell.inputs.leaves != layout.leaves:
            expected = "one tensor" if self.cell.inputs is None else repr(self.cell.inputs.batched_shapes())
            raise ShapeError(f"RNN was built for inputs {expected}, got {map_structure(lambda t: format_shape(t.shape), x)}")
        return layout.flatten(x, 2, "RNN")  # (B, T, F)

    @property
    def states(self) -> list[Any] | None:
        carried = super().states
        if carried is None or self.cell.builtin:
            return carried
        return self.cell.nested_states(list(carried[:-1]))

    def reversed_copy(self) -> RNN:
        """The backward layer of a ``Bidirectional``: an unbuilt copy of the cell (no registration needed,
        as in Keras), the other direction."""
        cell = unbuilt_copy(self.keras_cell) if isinstance(self.keras_cell, Layer) else copy.deepcopy(self.keras_cell)
        config = {k: v for k, v in self.get_config().items() if k not in ("cell", "name")}
        config["go_backwards"] = not self.go_backwards
        return type(self)(cell, **config)

    def keras_weights(self):
        self._require_built("get_weights()")
        return self.keras_cell.keras_weights() if isinstance(self.keras_cell, Layer) else list(self.keras_cell.parameters())

    def load_keras_weights(self, arrays):
        if isinstance(self.keras_cell, Layer):
            self.keras_cell.load_keras_weights(arrays)
        else:
            for p, a in zip(self.keras_cell.parameters(), arrays):
                p.copy_(a)

    def keras_weight_roles(self) -> list[str]:
        return []  # the cell's own regularizers apply (the cell is a layer of the model)

    def get_config(self) -> dict[str, Any]:
        from .wrappers import layer_to_config  # wrappers imports the recurrent layers

        if not isinstance(self.keras_cell, Layer):
            raise ConfigError(f"RNN cannot save its cell {type(self.keras_cell).__name__}: a cell to save is a recurra Layer")
        config = {
            "name": self.name,
            "cell": layer_to_config(self.keras_cell),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
            "implementation": self.implementation,
        }
        if self.input_shape is not None:
            config["input_shape"] = list(self.input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RNN:
        from .wrappers import layer_from_config

        config = dict(config)
        return cls(layer_from_config(config.pop("cell")), **config)

    def extra_repr(self) -> str:
        return f"cell={type(self.keras_cell).__name__}, return_sequences={self.return_sequences}"


__all__ = ["RNN", "KerasCell", "output_size_of"]
