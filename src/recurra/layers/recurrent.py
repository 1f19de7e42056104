"""The one base of every recurrent layer: the loop over time around a cell.

It checks the input, resolves masks and lengths, builds the initial state (given, carried over
from the previous batch when ``stateful``, or zeros), applies input and recurrent dropout, runs
the sequence forwards or backwards, and picks a kernel:

- ``"fused"``: torch's fused RNN/LSTM/GRU kernels, on packed sequences when a mask is given
  (each row's real steps are moved to the front first, so any mask packs);
- ``"reference"``: a Python loop over ``cell.step``, the equations as written.

``layer.kernel`` says which one ran last. ``implementation="reference"`` forces the loop;
``implementation="fused"`` refuses options the fused kernels cannot run.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from .. import activations, constraints, initializers, regularizers
from ..errors import ConfigError, InputValueError, ShapeError, format_shape
from ..limits import MAX_UNITS
from .base import Layer, check_positive_int, check_rate
from .masking import compaction_order, hold_last_output, is_right_padded, resolve_mask
from .onnx_form import exporting, exporting_to_onnx, run_scan

IMPLEMENTATIONS = ("auto", "fused", "reference")
USE_CUDNN = ("auto", True, False)


def check_sequence_input(layer: Layer, x: Any, features: int | None) -> torch.Tensor:
    """Raise a clear error unless ``x`` is a floating ``(B, T, F)`` tensor with ``T > 0``."""
    name = type(layer).__name__
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} expected a torch.Tensor of shape (batch, time, features), got {type(x).__name__}")
    f = "features" if features is None else str(features)
    if x.dim() != 3:
        raise ShapeError(f"{name} expected input of shape (batch, time, {f}), got {format_shape(x.shape)}")
    if not x.is_floating_point():
        raise InputValueError(f"{name} expected a floating-point input, got dtype {x.dtype}")
    if x.shape[1] == 0:
        raise InputValueError(f"{name} got a zero-length sequence: input shape {format_shape(x.shape)}")
    if x.shape[0] == 0:
        raise InputValueError(f"{name} got an empty batch: input shape {format_shape(x.shape)}")
    if features is not None and x.shape[2] != features:
        raise ShapeError(f"{name} expected input of shape (batch, time, {features}), got {format_shape(x.shape)}")
    return x


class StepRecorder:
    """What ``Recurrent.record_steps`` reports to; override the methods you need."""

    def start(self, state: Any) -> Any:
        """The initial state ``s_0``; return the state the loop starts from (by default, the same)."""
        return state

    def step(self, t: int, state: Any) -> None:
        """The state the cell's step ``t`` (0-based) returned, before masking."""

    def end(self, state: Any) -> None:
        """The state the layer ends with (at masked steps it keeps the previous state)."""


class RemovableHandle:
    """Detaches a recorder from its layer: ``handle.remove()``, or use it as a context manager."""

    def __init__(self, owner: list, item: Any):
        self._owner, self._item = owner, item

    def remove(self) -> None:
        if any(i is self._item for i in self._owner):
            self._owner.remove(self._item)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class Recurrent(Layer):
    """A recurrent layer: runs a cell over ``(B, T, F)`` inputs (batch first).

    Arguments (Keras names and defaults): ``units``, ``activation``, ``use_bias``,
    ``kernel_initializer``, ``recurrent_initializer``, ``bias_initializer``, ``dropout`` (on the
    inputs, one mask per sequence), ``recurrent_dropout`` (on ``h_{t-1}`` where it enters the
    recurrent products), ``return_sequences``, ``return_state``, ``go_backwards``, ``stateful``,
    ``input_shape=(timesteps, features)`` (``timesteps=None``: any length).

    Keras's other arguments, with Keras's meaning: ``zero_output_for_mask`` (``False``, Keras's default:
    a masked step repeats the output of the last real step before it, zeros before any; ``True``: zeros,
    which ``Bidirectional`` asks of its layers), ``seed`` (the dropout masks are drawn from a generator
    seeded with it), ``kernel_regularizer``, ``recurrent_regularizer``, ``bias_regularizer``,
    ``activity_regularizer`` (added to the loss ``fit`` minimises; ``layer.losses``),
    ``kernel_constraint``, ``recurrent_constraint``, ``bias_constraint`` (applied after every optimiser
    step), and ``unroll``, ``use_cudnn``, accepted for Keras code and without effect: the kernel is chosen
    by ``implementation`` and computes the same numbers.

    Call: ``layer(x, mask=None, lengths=None, initial_state=None, training=None)``.

    Shapes:
        x: ``(B, T, F)``; mask: ``(B, T)`` bool; lengths: ``(B,)``.
        output: ``(B, T, H)`` with ``return_sequences`` (in reversed time order with ``go_backwards``,
        as in Keras), else ``(B, H)``.
        With ``return_state``: ``(output, *state)``, each state tensor ``(B, H)``.
    """

    cell_class: type = None  # set by subclasses

    def __init__(
        self,
        units: int,
        *,
        activation: str | None = "tanh",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
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
        super().__init__(input_shape=input_shape, name=name, dtype=dtype, trainable=trainable)
        self.units = check_positive_int("units", units, MAX_UNITS)
        self.activation = activations.canonical(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.serialize(kernel_initializer)
        self.recurrent_initializer = initializers.serialize(recurrent_initializer)
        self.bias_initializer = initializers.serialize(bias_initializer)
        self.dropout = check_rate("dropout", dropout)
        self.recurrent_dropout = check_rate("recurrent_dropout", recurrent_dropout)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        if implementation not in IMPLEMENTATIONS:
            raise ConfigError(f"expected implementation in {IMPLEMENTATIONS}, got {implementation!r}")
        self.implementation = implementation
        self.zero_output_for_mask = bool(zero_output_for_mask)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ConfigError(f"expected seed to be an int or None, got {seed!r}")
        self.seed = seed
        self._generator: torch.Generator | None = None  # drawn from seed at the first dropout mask
        self.regularizers = {
            "kernel": regularizers.get(kernel_regularizer),
            "recurrent_kernel": regularizers.get(recurrent_regularizer),
            "bias": regularizers.get(bias_regularizer),
        }
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.constraints = {
            "kernel": constraints.get(kernel_constraint),
            "recurrent_kernel": constraints.get(recurrent_constraint),
            "bias": constraints.get(bias_constraint),
        }
        if use_cudnn not in USE_CUDNN:
            raise ConfigError(f"expected use_cudnn in ('auto', True, False), got {use_cudnn!r}")
        self.unroll, self.use_cudnn = bool(unroll), use_cudnn
        self.kernel: str | None = None  # the kernel of the last call
        self.cell = None
        self._carried_state = None  # stateful layers: the state after the last batch
        self._carry = False  # set by carry_state(True) (truncated BPTT): carry the state like a stateful layer
        self._recorders: list[StepRecorder] = []  # record_steps(): observers of the reference loop
        if self.input_shape is not None and len(self.input_shape) != 2:
            raise ConfigError(
                f"{type(self).__name__} expected input_shape=(timesteps, features), got {format_shape(self.input_shape)}"
            )
        self._build_from_input_shape()

    # -- subclass hooks ---------------------------------------------------------------------------
    def cell_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``cell_class`` beyond input size and units."""
        return dict(
            activation=self.activation,
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            recurrent_initializer=self.recurrent_initializer,
            bias_initializer=self.bias_initializer,
        )

    def build(self, input_shape, *, dtype=None, device=None):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ShapeError(
                f"{type(self).__name__} expected input of shape (batch, time, features), "
                f"got (batch, {', '.join(map(str, input_shape))})"
            )
        self.cell = self.cell_class(int(input_shape[-1]), self.units, dtype=dtype, device=device, **self.cell_kwargs())
        if self.implementation == "fused" and self.cell.fused_reason():
            raise ConfigError(f"implementation='fused' cannot run {self.cell.fused_reason()}")
        self.built = True

    @property
    def state_names(self) -> tuple[str, ...]:
        return self.cell_class.State._fields

    # -- state ----------------------------------------------------------------------------------
    supports_carry = True  # the state can be carried from one call to the next (stateful, truncated BPTT)

    def reset_states(self, states: Any = None) -> None:
        """Forget the carried state of a ``stateful`` layer (or set it to ``states``)."""
        if states is None:
            self._carried_state = None
        else:
            self._carried_state = self.cell.State(*[s.detach() for s in self._as_state_list(states)])

    @property
    def carried_state(self) -> Any:
        """The state the next call starts from when the layer carries state (``stateful``, or while
        ``carry_state(True)``), as the cell's ``State``; ``None`` when nothing is carried."""
        return self._carried_state

    @property
    def carrying(self) -> bool:
        """Whether the layer carries its state from call to call right now."""
        return self.stateful or self._carry

    def carry_state(self, enabled: bool) -> None:
        """Carry the (detached) state from each call into the next, as ``stateful`` does: truncated
        BPTT runs the chunks of one batch this way. Switching it on or off forgets what a layer that
        is not ``stateful`` carried; a ``stateful`` layer keeps its state."""
        self._carry = bool(enabled)
        if not self.stateful:
            self._carried_state = None

    def _as_state_list(self, initial_state: Any) -> list[torch.Tensor]:
        if isinstance(initial_state, torch.Tensor):
            return [initial_state]
        return list(initial_state)

    def get_initial_state(self, x: torch.Tensor, initial_state: Any = None) -> Any:
        """The state a call on ``x (B, T, F)`` starts from: ``initial_state`` when given (checked
        against the expected shapes), else the carried state, else zeros. A cell ``State``."""
        B = x.shape[0]
        names = self.state_names
        if initial_state is None and self.carrying and self._carried_state is not None:
            carried = self._carried_state
            if carried[0].shape[0] != B:
                raise ShapeError(
                    f"stateful {type(self).__name__} expected batches of {carried[0].shape[0]} "
                    f"sequences (the batch size it carries state for), got {B}; call reset_states() first"
                )
            return carried
        if initial_state is None:
            return self.cell.zero_state(B, dtype=x.dtype, device=x.device)
        states = self._as_state_list(initial_state)
        if len(states) != len(names):
            raise ShapeError(
                f"{type(self).__name__} expected initial_state with {len(names)} tensors ({', '.join(names)}), got {len(states)}"
            )
        zeros = self.cell.zero_state(B, dtype=x.dtype, device=x.device)  # the expected shapes, (B, H) or the cell's own
        for n, s, z in zip(names, states, zeros):
            if not isinstance(s, torch.Tensor) or s.shape != z.shape:
                got = format_shape(s.shape) if isinstance(s, torch.Tensor) else type(s).__name__
                raise ShapeError(f"expected initial state {n} of shape {format_shape(z.shape)}, got {got}")
        return self.cell.State(*[s.to(dtype=x.dtype) for s in states])

    # -- recording ----------------------------------------------------------------------------------
    def record_steps(self, recorder: StepRecorder) -> RemovableHandle:
        """While the returned handle is not removed, every call runs the reference loop (the cell's
        equations step by step, the same numbers as the fast kernels) and reports to ``recorder``:
        ``start(state)`` with the initial state (it returns the state to start from: the same values,
        or a leaf that requires gradients), ``step(t, new_state)`` after each step and
        ``end(final_state)``. ``recurra.inspect`` records gradients through time this way."""
        self._recorders.append(recorder)
        return RemovableHandle(self._recorders, recorder)

    # -- the call ---------------------------------------------------------------------------------
    def forward(self, x, mask=None, lengths=None, initial_state=None, training: bool | None = None):
        check_sequence_input(self, x, self.cell.input_size if self.built else None)
        self.maybe_build(x)
        weight = next(self.cell.parameters(), None)
        if weight is not None and x.dtype != weight.dtype:
            raise InputValueError(
                f"{type(self).__name__} expected input of dtype {weight.dtype} (its weights), "
                f"got {x.dtype}; convert one to the other (model.to(dtype) or x.to(dtype))"
            )
        mask = resolve_mask(x, mask, lengths)
        training = self.training if training is None else training
        state = self.get_initial_state(x, initial_state)
        B, T, F = x.shape

        if training and self.dropout > 0:
            keep = 1.0 - self.dropout
            x = x * (self._bernoulli(x.new_full((B, 1, F), keep)) / keep)  # one mask per sequence
        recurrent_mask = None
        if training and self.recurrent_dropout > 0:
            keep = 1.0 - self.recurrent_dropout
            recurrent_mask = self._bernoulli(x.new_full((B, self.units), keep)) / keep

        if self.go_backwards:
            x = x.flip(1)
            mask = None if mask is None else mask.flip(1)

        y, state, mask = self._run(x, mask, state, recurrent_mask)
        if self.return_sequences and y is not None and mask is not None and not self.zero_output_for_mask:
            y = hold_last_output(y, mask)  # Keras: a masked step repeats the last real output
        if self.carrying:
            self._carried_state = self.cell.State(*[s.detach() for s in state])
        # the last real step's output is in the state: field h, or the one the cell names in output_state
        output = y if self.return_sequences else getattr(state, getattr(self.cell, "output_state", "h"))  # (B, T, H) or (B, H)
        if self.return_state:
            return (output, *state)
        return output

    def _run(self, x, mask, state, recurrent_mask):
        """Run the kernel this call allows: ``(y (B, T, H) or None, final state, mask)``, the mask dropped
        when every step is real. Exported to ONNX: ONNX's own operator, or the reference steps as one
        ``Scan`` (``onnx_form``)."""
        if exporting():  # the held outputs of masked steps are written inside the scan
            self.kernel = "export"
            native = exporting_to_onnx() and mask is None and not self.return_sequences and self.implementation != "reference"
            if native and self.cell.onnx_operator() is not None:
                return (*self.cell.fused(x.contiguous(), state), None)
            hold = mask is not None and self.return_sequences and not self.zero_output_for_mask
            return (*run_scan(self.cell, x, mask, state, self.return_sequences, hold), None)
        if mask is not None and bool(mask.all()):
            mask = None
        reason = "a step recorder is attached (record_steps)" if self._recorders else self.fused_reason(mask, recurrent_mask)
        if reason is None:
            self.kernel = "fused"
            return (*self._run_fused(x, mask, state), mask)
        if self.implementation == "fused" and not self._recorders:
            raise ConfigError(f"implementation='fused' cannot run {reason}")
        self.kernel = "reference"
        return (*self._run_reference(x, mask, state, recurrent_mask), mask)

    def _bernoulli(self, probabilities: torch.Tensor) -> torch.Tensor:
        """A dropout mask: from the layer's own generator when it has a ``seed``, else torch's."""
        if self.seed is None:
            return torch.bernoulli(probabilities)
        if self._generator is None or self._generator.device != probabilities.device:
            self._generator = torch.Generator(device=probabilities.device).manual_seed(self.seed)
        return torch.bernoulli(probabilities, generator=self._generator)

    def reversed_copy(self) -> Recurrent:
        """A new layer with these settings, fresh weights and the other direction (``Bidirectional``'s
        backward layer); built like this one when this one is built."""
        config = self.get_config()
        config.update(go_backwards=not self.go_backwards, name=None)
        copy = type(self).from_config(config)
        weight = next(self.parameters(), None)
        if weight is not None:  # a built layer: the copy takes its dtype and device (it was built in the default)
            copy = copy.to(device=weight.device, dtype=weight.dtype)
        return copy

    @property
    def states(self) -> list[torch.Tensor] | None:
        """Keras's ``layer.states``: the state a ``stateful`` layer carries into its next call, as a list
        (``[h]``, ``[h, c]``), or ``None`` before its first call and after ``reset_states()``."""
        return None if self._carried_state is None else list(self._carried_state)

    def keras_weight_roles(self) -> list[str]:
        names = ("kernel", "recurrent_kernel", "bias")
        return list(names[: len(self.keras_weights())])

    def fused_reason(self, mask, recurrent_mask) -> str | None:
        """Why the fused kernel cannot run this call, or ``None`` when it can."""
        if self.implementation == "reference":
            return "implementation='reference'"
        reason = self.cell.fused_reason()
        if reason:
            return reason
        if recurrent_mask is not None:
            return "recurrent_dropout while training"
        if mask is not None and not bool(mask.any(1).all()):
            return "a sequence whose steps are all masked"
        return None

    def _run_fused(self, x, mask, state):
        if mask is None:
            return self.cell.fused(x.contiguous(), state)
        B, T, F = x.shape
        lengths = mask.sum(1)  # (B,)
        order = None
        if not is_right_padded(mask, lengths):
            order = compaction_order(mask)  # (B, T): real steps first
            x = x.gather(1, order[:, :, None].expand(B, T, F))
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        sorted_state = self.cell.State(*[s.index_select(0, packed.sorted_indices) for s in state])
        data, new_state = self.cell.fused_packed(packed.data, packed.batch_sizes, sorted_state)
        state = self.cell.State(*[s.index_select(0, packed.unsorted_indices) for s in new_state])
        y_packed = PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
        y, _ = pad_packed_sequence(y_packed, batch_first=True, total_length=T)  # (B, T, H), zeros past length
        if order is not None:
            y = torch.zeros_like(y).scatter(1, order[:, :, None].expand_as(y), y)
        return y, state

    def _run_reference(self, x, mask, state, recurrent_mask):
        recorders = self._recorders
        for r in recorders:
            state = r.start(state)
        xs = x.unbind(1)  # T tensors (B, F): split once, never x[:, t] per step
        ms = mask.unsqueeze(-1).unbind(1) if mask is not None else None  # T tensors (B, 1)
        outputs = []
        for t, x_t in enumerate(xs):
            y_t, new_state = self.cell.step(x_t, state, recurrent_mask)
            for r in recorders:
                r.step(t, new_state)
            if ms is not None:
                m = ms[t]
                new_state = self.cell.State(*[torch.where(m, n, o) for n, o in zip(new_state, state)])
                y_t = torch.where(m, y_t, torch.zeros_like(y_t))
            state = new_state
            if self.return_sequences:
                outputs.append(y_t)
        for r in recorders:
            r.end(state)
        y = torch.stack(outputs, 1) if self.return_sequences else None  # (B, T, H)
        return y, state

    def compute_mask(self, x, mask):
        if not self.return_sequences or mask is None:
            return None
        return mask.flip(1) if self.go_backwards else mask

    # -- configuration and weights ----------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            units=self.units,
            activation=self.activation,
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            recurrent_initializer=self.recurrent_initializer,
            bias_initializer=self.bias_initializer,
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            return_sequences=self.return_sequences,
            return_state=self.return_state,
            go_backwards=self.go_backwards,
            stateful=self.stateful,
            implementation=self.implementation,
        )
        config["zero_output_for_mask"] = self.zero_output_for_mask
        return config

    def keras_options(self) -> dict[str, Any]:
        """The Keras arguments of Keras's own recurrent layers, as their ``get_config`` writes them."""
        return dict(
            seed=self.seed,
            kernel_regularizer=regularizers.serialize(self.regularizers["kernel"]),
            recurrent_regularizer=regularizers.serialize(self.regularizers["recurrent_kernel"]),
            bias_regularizer=regularizers.serialize(self.regularizers["bias"]),
            activity_regularizer=regularizers.serialize(self.activity_regularizer),
            kernel_constraint=constraints.serialize(self.constraints["kernel"]),
            recurrent_constraint=constraints.serialize(self.constraints["recurrent_kernel"]),
            bias_constraint=constraints.serialize(self.constraints["bias"]),
            unroll=self.unroll,
            use_cudnn=self.use_cudnn,
        )

    def extra_repr(self) -> str:
        return f"units={self.units}, return_sequences={self.return_sequences}"
