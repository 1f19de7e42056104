"""Masks and lengths for padded batches.

A mask is a boolean ``(B, T)`` tensor, ``True`` at real steps. ``lengths`` (``(B,)`` integers) is the
short form of a right-padded mask. Padded steps leave a recurrent state unchanged and give zero outputs.
"""

from __future__ import annotations

import torch

from ..errors import InputValueError, ShapeError, format_shape


def lengths_to_mask(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """``(B,)`` lengths -> ``(B, T)`` boolean mask, ``True`` for ``t < length``."""
    return torch.arange(T, device=lengths.device)[None, :] < lengths[:, None]


def resolve_mask(x: torch.Tensor, mask, lengths) -> torch.Tensor | None:
    """Check ``mask`` or ``lengths`` against ``x (B, T, ...)`` and return a ``(B, T)`` bool mask or None."""
    B, T = x.shape[0], x.shape[1]
    if mask is not None and lengths is not None:
        raise InputValueError("expected either mask= or lengths=, got both")
    if lengths is not None:
        lengths = torch.as_tensor(lengths, device=x.device)
        if lengths.dim() != 1 or lengths.shape[0] != B:
            raise ShapeError(f"expected lengths of shape ({B},), got {format_shape(lengths.shape)}")
        if lengths.is_floating_point() or lengths.dtype == torch.bool:
            raise InputValueError(f"expected integer lengths, got dtype {lengths.dtype}")
        if not torch.compiler.is_compiling() and (bool((lengths < 0).any()) or bool((lengths > T).any())):
            raise InputValueError(
                f"expected lengths between 0 and {T} (the time steps of the input), "
                f"got values from {int(lengths.min())} to {int(lengths.max())}"
            )
        return lengths_to_mask(lengths, T)
    if mask is None:
        return None
    mask = torch.as_tensor(mask, device=x.device)
    if tuple(mask.shape) != (B, T):
        raise ShapeError(f"expected a mask of shape ({B}, {T}) (batch, time), got {format_shape(mask.shape)}")
    if mask.dtype != torch.bool:
        mask = mask != 0
    return mask


def is_right_padded(mask: torch.Tensor, lengths: torch.Tensor) -> bool:
    """Whether every row of ``mask`` is ``True`` for its first ``length`` steps and ``False`` after."""
    return bool(torch.equal(mask, lengths_to_mask(lengths, mask.shape[1])))


def compaction_order(mask: torch.Tensor) -> torch.Tensor:
    """``(B, T)`` permutation that moves each row's real steps to the front, in their order."""
    return torch.argsort((~mask).to(torch.uint8), dim=1, stable=True)


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse the first ``lengths[b]`` steps of every row of ``x (B, T, ...)``; padding stays put."""
    T = x.shape[1]
    t = torch.arange(T, device=x.device)[None, :]  # (1, T)
    idx = torch.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)  # (B, T)
    return x.gather(1, idx.view(*idx.shape, *([1] * (x.dim() - 2))).expand_as(x))


def hold_last_output(y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Keras's outputs at masked steps: each masked step repeats the output of the last real step
    before it, zeros before the first. ``y (B, T, H)``, ``mask (B, T)`` bool (both in processing order)."""
    T = y.shape[1]
    steps = torch.arange(T, device=y.device).expand_as(mask)  # (B, T)
    last_real = torch.where(mask, steps, torch.full_like(steps, -1)).cummax(1).values  # (B, T), -1: none yet
    held = y.gather(1, last_real.clamp_min(0).unsqueeze(-1).expand_as(y))  # (B, T, H)
    return torch.where((last_real >= 0).unsqueeze(-1), held, torch.zeros_like(y))
