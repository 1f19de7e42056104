"""One compiled step of the LSTM and the GRU for inference (``csrc/cell_step.cpp``).

Generation and streaming advance one token or frame at a time, batch of one; there torch's
``torch.lstm_cell`` / ``torch.gru_cell`` spend more in a dozen tensor operations than in the arithmetic.
The compiled step computes the gate pre-activations of a few rows by dot products over the weights' rows
and the gates in one vectorised pass (equations in the source). It records no graph: the cells use it
when no gradient is asked for (``torch.no_grad()``, or no tensor that requires one), on the CPU, in
float32 or float64, outside ``torch.compile`` / export; otherwise torch's cell ops run. Built on first
use like the other loops (``extensions``); without a compiler, torch's cell ops run.
"""

from __future__ import annotations

from functools import partial

import torch

from .extensions import CompiledExtension, cpu_build_variants

EXTENSION = CompiledExtension(
    "cell_step.cpp",
    op="recurra_step.lstm_step",
    variants=partial(cpu_build_variants, "recurra_cell_step"),
    what="one-step LSTM and GRU",
    fallback="generation uses torch.lstm_cell and torch.gru_cell instead",
)


_DTYPES = (torch.float32, torch.float64)


def usable(x: torch.Tensor, *tensors: torch.Tensor | None) -> bool:
    """Whether the compiled step can run on ``x`` and the state and weight ``tensors`` (builds it on the first
    call): CPU, float32/float64, one dtype, no gradient wanted, not traced."""
    if x.dtype not in _DTYPES or x.device.type != "cpu" or torch.compiler.is_compiling():
        return False
    if torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (x, *tensors)):
        return False
    dtype = x.dtype
    for t in tensors:
        if t is not None and t.dtype is not dtype:
            return False
    return EXTENSION.state if EXTENSION.state is not None else EXTENSION.available()


_NO_BIAS = {dtype: torch.empty(0, dtype=dtype) for dtype in _DTYPES}  # "no bias", as the ops take it


def _bias(b: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
    return _NO_BIAS[like.dtype] if b is None else b.contiguous()


def lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh) -> tuple[torch.Tensor, torch.Tensor]:
    """``(h', c')`` after one LSTM step (torch's gate order ``i, f, g, o``); biases may be ``None``."""
    return torch.ops.recurra_step.lstm_step(
        x.contiguous(), h.contiguous(), c.contiguous(), w_ih.contiguous(), w_hh.contiguous(), _bias(b_ih, x), _bias(b_hh, x)
    )


def gru_step(x, h, w_ih, w_hh, b_ih, b_hh) -> torch.Tensor:
    """``h'`` after one reset-after GRU step (torch's gate order ``r, z, n``); biases may be ``None``."""
    return torch.ops.recurra_step.gru_step(
        x.contiguous(), h.contiguous(), w_ih.contiguous(), w_hh.contiguous(), _bias(b_ih, x), _bias(b_hh, x)
    )


def generate(
    embedding: torch.Tensor, layers: list[tuple[torch.Tensor, ...]], states: list[list[torch.Tensor]],
    projection: tuple[torch.Tensor, torch.Tensor | None] | None, out_wt: torch.Tensor, out_b: torch.Tensor | None,
    logits: torch.Tensor, ban: torch.Tensor, uniforms: torch.Tensor | None, temperature: float, length: int, end_id: int,
    start_id: int, stop_at_end: bool,
) -> list[int]:  # fmt: skip
    """Token ids chosen and fed one at a time from ``logits (V,)`` (``csrc/cell_step.cpp`` says how): ``layers`` of
    ``(w_ih, w_hh, b_ih, b_hh)`` (LSTM: 4H gate rows, GRU: 3H; biases may be ``None``) from ``states`` (per layer
    ``[h]`` or ``[h, c]``), an optional ``projection`` ``(W_p, b_p)``, the output matrix transposed ``out_wt (K, V)``
    and its bias; ``uniforms``: one float64 in [0, 1) per token to sample at ``temperature``, None for greedy."""
    x = embedding
    no = _NO_BIAS[x.dtype]  # "none", as the op takes it
    w_ih, w_hh, b_ih, b_hh = ([t.contiguous() if t is not None else no for t in column] for column in zip(*layers))
    h = [s[0] for s in states]
    c = [s[1] if len(s) > 1 else no for s in states]
    proj_w, proj_b = (projection[0].contiguous(), _bias(projection[1], x)) if projection is not None else (no, no)
    ids = torch.ops.recurra_step.generate(
        x.contiguous(), w_ih, w_hh, b_ih, b_hh, h, c, proj_w, proj_b, out_wt.contiguous(), _bias(out_b, x),
        logits.to(x.dtype), ban.to(x.dtype), uniforms if uniforms is not None else _NO_BIAS[torch.float64],
        float(temperature), int(length), int(end_id), int(start_id), bool(stop_at_end),
    )  # fmt: skip
    return ids.tolist()
