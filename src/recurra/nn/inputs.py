"""What ``recurra.nn``'s modules take and give, in torch.nn's conventions, and the one internal layout.

torch.nn's recurrent modules take ``input`` as ``(T, B, F)``, ``(B, T, F)`` (``batch_first=True``),
``(T, F)`` (unbatched) or a ``PackedSequence``, and states ``(L·D, B, H)`` (``(L·D, H)`` unbatched),
with ``L = num_layers`` and ``D = 2`` when bidirectional. Inside, every layer runs one time-major form:

- dense: ``x (T, B, F)`` and ``batch_sizes = None``;
- packed: ``PackedSequence``'s ``data (N, F)`` and ``batch_sizes (T,)``, rows sorted by decreasing
  length (the states permuted to that order with ``sorted_indices``, and back with ``unsorted_indices``).

A padded batch given with ``lengths=`` or ``mask=`` is packed here (``enforce_sorted=False``) and its
output padded back to its own ``T`` (zeros after each row's last step). Traced (``torch.compile``,
``torch.export``, ONNX), packing would make the shapes depend on the lengths' values, so the batch stays
dense, ``(T, B, F)`` with its ``lengths (B,)``, and each layer and direction runs to each row's length
in place (``RNNBase._run_to_lengths``); a reverse direction reads each row reversed within its length
(``within_lengths``). The lengths' range and a mask's right padding are checked in eager calls only.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from ..errors import ConfigError, InputValueError, ShapeError, format_shape


@dataclass
class Batch:
    """An input in the internal layout (module docstring), and what is needed to give the output back."""

    data: torch.Tensor  # (T, B, F) when batch_sizes is None, else (N, F)
    batch_sizes: torch.Tensor | None  # (T,) int64 on the CPU, or None
    sorted_indices: torch.Tensor | None  # (B,): the packed order's rows in the caller's order
    unsorted_indices: torch.Tensor | None  # (B,): the inverse permutation
    batch: int  # B
    unbatched: bool  # the input was (T, F)
    padded_length: int | None  # T of a padded input given with lengths/mask (its output is padded back)
    lengths: torch.Tensor | None = None  # (B,) int64 of a traced padded input kept dense (module docstring)


def traced() -> bool:
    """Whether the call is being traced (``torch.compile``, ``torch.export``, ONNX): no data-dependent shapes."""
    return torch.compiler.is_compiling() or torch.onnx.is_in_onnx_export()


def lengths_from_mask(mask: torch.Tensor, input_shape: torch.Size, batch_first: bool) -> torch.Tensor:
    """``(B,)`` lengths of a right-padded ``mask`` laid out as the input's first two dimensions
    (``(B, T)`` when ``batch_first``, else ``(T, B)``): each row a run of ``True`` then ``False``
    (checked in eager calls; traced, each row's count of ``True`` is its length)."""
    expected = tuple(input_shape[:2])
    if mask.dim() != 2 or tuple(mask.shape) != expected:
        layout = "(batch, time)" if batch_first else "(time, batch)"
        raise ShapeError(f"expected mask of shape {layout} = {format_shape(expected)}, got {format_shape(mask.shape)}")
    m = (mask if batch_first else mask.transpose(0, 1)).bool()  # (B, T)
    lengths = m.sum(1)  # (B,)
    if traced():
        return lengths
    right_padded = torch.arange(m.shape[1], device=m.device)[None, :] < lengths[:, None]  # (B, T)
    if not torch.equal(m, right_padded):
        row = int((m != right_padded).any(1).nonzero()[0])
        raise InputValueError(
            f"expected a right-padded mask (each row's real steps first, then padding); row {row} is "
            f"{m[row].int().tolist()} (pass a PackedSequence or reorder the steps)"
        )
    return lengths


def read_input(
    name: str,
    input_size: int,
    input: torch.Tensor | PackedSequence,
    batch_first: bool,
    lengths: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
) -> Batch:
    """Check ``input`` against ``input_size`` and bring it to the internal layout (module docstring)."""
    if isinstance(input, PackedSequence):
        if lengths is not None or mask is not None:
            raise ConfigError("lengths= and mask= are for a padded input; a PackedSequence carries its own lengths")
        _check_features(name, input_size, input.data, input.data.shape, "a PackedSequence with data (N, F)")
        bs = input.batch_sizes
        return Batch(input.data, bs, input.sorted_indices, input.unsorted_indices, int(bs[0]), False, None)
    if not isinstance(input, torch.Tensor):
        raise InputValueError(f"{name} expected a tensor or a PackedSequence as input, got {type(input).__name__}")
    if input.dim() not in (2, 3):
        layout = "(batch, time, features)" if batch_first else "(time, batch, features)"
        raise ShapeError(
            f"{name} expected input of shape {layout} or (time, features) unbatched, got {format_shape(input.shape)}"
        )
    layout = "(batch, time, features)" if batch_first and input.dim() == 3 else "(time, batch, features)"
    _check_features(name, input_size, input, input.shape, layout if input.dim() == 3 else "(time, features)")
    unbatched = input.dim() == 2
    x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if batch_first else input)  # (T, B, F)
    if (lengths is not None or mask is not None) and unbatched:
        raise ConfigError("lengths= and mask= are for a batched input; cut an unbatched (time, features) input instead")
    if mask is not None:
        if lengths is not None:
            raise ConfigError("expected lengths= or mask=, not both")
        lengths = lengths_from_mask(mask, input.shape, batch_first)
    if lengths is None:
        return Batch(x, None, None, None, x.shape[1], unbatched, None)
    T, B = x.shape[:2]
    if traced():  # dense, each row run to its length in place (module docstring)
        lengths = torch.as_tensor(lengths, device=x.device).to(dtype=torch.int64).reshape(-1)
        if lengths.shape[0] != B:
            raise ShapeError(f"expected lengths of shape ({B},) (one per sequence), got {format_shape(lengths.shape)}")
        return Batch(x, None, None, None, B, unbatched, None, lengths)
    lengths = torch.as_tensor(lengths).to(device="cpu", dtype=torch.int64).reshape(-1)
    if tuple(lengths.shape) != (B,):
        raise ShapeError(f"expected lengths of shape ({B},) (one per sequence), got {format_shape(lengths.shape)}")
    if int(lengths.min()) < 1 or int(lengths.max()) > T:
        raise InputValueError(f"expected lengths between 1 and {T} (the time steps), got {lengths.tolist()}")
    packed = pack_padded_sequence(x, lengths, batch_first=False, enforce_sorted=False)
    return Batch(packed.data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices, B, unbatched, T)


def _check_features(name: str, input_size: int, x: torch.Tensor, shape: torch.Size, layout: str) -> None:
    if shape[-1] != input_size:
        raise ShapeError(
            f"{name} expected input with {input_size} features (input_size={input_size}) as {layout}, "
            f"got {shape[-1]} features: input of shape {format_shape(shape)}"
        )
    if not x.is_floating_point():
        raise InputValueError(f"{name} expected floating-point input, got dtype {x.dtype}")


def read_states(
    name: str,
    hx: torch.Tensor | tuple[torch.Tensor, ...] | None,
    fields: tuple[str, ...],
    sizes: tuple[int, ...],
    layers: int,
    batch: Batch,
    like: torch.Tensor,
) -> tuple[torch.Tensor, ...]:
    """The initial states as ``(L·D, B, size)`` tensors in the packed order: ``hx`` checked, or zeros.

    ``fields``/``sizes``: the names and widths of the state tensors (``("h_0",), (H,)``, or
    ``("h_0", "c_0"), (H_out, H)`` for the LSTM); ``hx`` one tensor, or a tuple of them.
    """
    B = batch.batch
    if hx is None:
        return tuple(like.new_zeros(layers, B, size) for size in sizes)
    given = (hx,) if isinstance(hx, torch.Tensor) else tuple(hx)
    if len(given) != len(fields):
        what = "a tensor" if len(fields) == 1 else f"a tuple ({', '.join(fields)})"
        raise InputValueError(f"{name} expected hx to be {what}, got {len(given)} tensors")
    states = []
    for field, size, h in zip(fields, sizes, given):
        expected = (layers, size) if batch.unbatched else (layers, B, size)
        if tuple(h.shape) != expected:
            kind = "unbatched 2-D" if batch.unbatched else "batched 3-D"
            raise ShapeError(
                f"{name} expected {field} of shape {format_shape(expected)} for {kind} input "
                f"(num_layers * num_directions, {'' if batch.unbatched else 'batch, '}size), got {format_shape(h.shape)}"
            )
        if h.dtype != like.dtype:
            raise InputValueError(f"{name} expected {field} of dtype {like.dtype} (the input's), got {h.dtype}")
        h = h.unsqueeze(1) if batch.unbatched else h  # (L·D, B, size)
        states.append(h if batch.sorted_indices is None else h.index_select(1, batch.sorted_indices.to(h.device)))
    return tuple(states)


def within_lengths(lengths: torch.Tensor, T: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(valid, index)``, each ``(T, B)``, for a dense batch run to ``lengths (B,)``: ``valid[t, b]`` is
    ``t < L_b``; ``index[t, b]`` is ``L_b - 1 - t`` there and ``t`` after, so gathering rows of a
    ``(T, B, ·)`` tensor by it reverses each sequence within its length (twice: the identity)."""
    t = torch.arange(T, device=lengths.device)[:, None]  # (T, 1)
    valid = t < lengths[None, :]  # (T, B)
    return valid, torch.where(valid, lengths[None, :] - 1 - t, t)


def gather_steps(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``x (T, B, ·)`` with row ``(t, b)`` taken from ``(index[t, b], b)``; ``index (T', B)``."""
    return x.gather(0, index[:, :, None].expand(index.shape[0], index.shape[1], x.shape[2]))


def reverse_index(batch_sizes: torch.Tensor) -> torch.Tensor:
    """``(N,)`` row indices that reverse every sequence of a packed batch within its own length.

    Row ``(t, b)`` (``data[off_t + b]``) takes row ``(L_b - 1 - t, b)``; applied twice it is the identity.
    """
    bs = batch_sizes.to(torch.int64)
    T, B = bs.shape[0], int(bs[0])
    off = torch.cumsum(bs, 0) - bs  # (T,): the first row of each step
    b = torch.arange(B)[None, :]  # (1, B)
    valid = b < bs[:, None]  # (T, B): the rows present at each step
    lengths = valid.sum(0)  # (B,)
    t_source = (lengths[None, :] - 1 - torch.arange(T)[:, None]).clamp(min=0)  # (T, B)
    return (off[t_source] + b)[valid]  # (N,), in the packed order (t, then b)


def reverse(x: torch.Tensor, batch_sizes: torch.Tensor | None, index: torch.Tensor | None) -> torch.Tensor:
    """Every sequence of ``x`` in reverse time order: ``(T, B, ·)`` flipped, or packed rows reindexed."""
    return x.flip(0) if batch_sizes is None else x.index_select(0, index.to(x.device))


def write_output(
    batch: Batch, y: torch.Tensor, states: tuple[torch.Tensor, ...], batch_first: bool
) -> tuple[torch.Tensor | PackedSequence, tuple[torch.Tensor, ...]]:
    """The output and final states in the caller's layout (the inverse of ``read_input``)."""
    if batch.unsorted_indices is not None:
        states = tuple(s.index_select(1, batch.unsorted_indices.to(s.device)) for s in states)
    if batch.batch_sizes is not None:
        output = PackedSequence(y, batch.batch_sizes, batch.sorted_indices, batch.unsorted_indices)
        if batch.padded_length is None:
            return output, states
        y, _ = pad_packed_sequence(output, batch_first=False, total_length=batch.padded_length)  # (T, B, ·)
    if batch.unbatched:
        return y.squeeze(1), tuple(s.squeeze(1) for s in states)  # (T, ·), (L·D, ·)
    return (y.transpose(0, 1) if batch_first else y), states
