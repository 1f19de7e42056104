"""Floating-point settings of a training run.

``flush_denormals()``: while it holds, the CPU treats denormal numbers (magnitudes below ~1.2e-38 in
float32) as zero. Gradients that vanish through a saturated softmax or tanh, and Adam's second moments
of such gradients, fall into that range, where every operation on them is one to two orders of magnitude
slower on x86 CPUs (an encoder–decoder with attention trained 7 to 14 times slower, measured). The
values lost are below float32's normal range; TensorFlow flushes them by default on CPUs.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch


@contextlib.contextmanager
def flush_denormals() -> Iterator[None]:
    """Flush denormals to zero inside the block (where the CPU supports it), then turn it off again."""
    supported = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if supported:
            torch.set_flush_denormal(False)


__all__ = ["flush_denormals"]
