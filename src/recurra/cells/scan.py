"""Kernels shared by the recurrences whose state is updated unit by unit (no ``H x H`` product).

- ``elementwise_recurrence(b, a, h0, activation, lengths)``: the sequential loop ::

      h_t = φ(a_t ⊙ h_{t-1} + b_t)        t = 0 .. T-1,  h_{-1} = h0

  with ``φ`` in ``linear``, ``tanh``, ``relu``. It is IndRNN (``a = u``, one recurrent weight per
  unit, ``b = W x + b``), a simple RNN with direct feedback, and the minimal RNNs of Feng et al.
  (2024) run sequentially (``φ`` linear, ``a_t = 1 - z_t``, ``b_t = z_t ⊙ h~_t``). On CPU tensors it
  runs a compiled C++ loop (``src/recurra/csrc/elementwise_recurrence.cpp``, built on first use with
  ``torch.utils.cpp_extension``), whose backward is the reverse-time loop ::

      δ_t      = (g_t + carry) ⊙ φ'(h_t)     φ' from the output: tanh 1 - h², relu [h > 0], linear 1
      ∂b_t     = δ_t
      ∂a_t     = δ_t ⊙ h_{t-1}                (summed over batch and time when a is shared, (H,))
      carry    = δ_t ⊙ a_t                    (∂h_{t-1}; it starts as the gradient of h_last)
      ∂h0      = the final carry

  where ``g_t`` is the gradient of the output ``y_t = h_t``. Elsewhere (or when the extension
  cannot be built) a pure-torch loop computes the same numbers.

- ``minimal_recurrence(k, h0, kind, candidate, lengths)``: MinGRU / MinLSTM in one compiled loop
  that also computes the gates from the input projection ``k`` (no ``(B, T, H)`` intermediates).

- ``linear_scan_log(log_a, log_b, log_h0)``: ``h_t = a_t h_{t-1} + b_t`` for positive ``a, b, h0``
  as a parallel scan in log space (Heinsen, 2023; Feng et al., 2024) ::

      a*_t  = Σ_{k<=t} log a_k
      log h_t = a*_t + logsumexp(log h0, log b_0 - a*_0, ..., log b_t - a*_t)

  ``cumsum`` and ``logcumsumexp`` over time, in chunks of 64 steps for float32's sake: work in
  parallel over ``T``, for accelerators.

The compiled loops use their own branch-free ``exp`` and ``tanh`` (Cephes's approximations: sigmoid
and tanh within about 2 ulp) so that they vectorise; their results differ from torch's in the last
bits.
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from ..errors import ConfigError, InputValueError, ShapeError, format_shape
from .extensions import CompiledExtension, cpu_build_variants

ACTIVATIONS = {"linear": 0, "tanh": 1, "relu": 2}  # the codes the C++ kernel takes
BACKENDS = ("auto", "cpp", "torch")


def _register_fake_kernels() -> None:
    """The ops' output shapes, for torch.compile and torch.export (which trace with fake tensors)."""

    @torch.library.register_fake("recurra_scan::elementwise_recurrence_forward")
    def _forward(b, a, h0, lengths, activation):
        return torch.empty_like(b), torch.empty_like(h0)

    @torch.library.register_fake("recurra_scan::elementwise_recurrence_backward")
    def _backward(grad_y, grad_h_last, y, a, h0, lengths, activation, need_grad_b, need_grad_a):
        grad_a = (torch.empty_like(y) if a.dim() == 3 else torch.empty_like(h0)) if need_grad_a else y.new_empty(0)
        return torch.empty_like(y), grad_a, torch.empty_like(h0)

    @torch.library.register_fake("recurra_scan::minimal_recurrence_forward")
    def _minimal_forward(k, h0, lengths, kind, candidate):
        B, T, H = k.shape[0], k.shape[1], h0.shape[1]
        return k.new_empty(B, T, H), torch.empty_like(h0)

    @torch.library.register_fake("recurra_scan::minimal_recurrence_backward")
    def _minimal_backward(grad_y, grad_h_last, y, k, h0, lengths, kind, candidate):
        return torch.empty_like(k), torch.empty_like(h0)


EXTENSION = CompiledExtension(
    "elementwise_recurrence.cpp",
    op="recurra_scan.elementwise_recurrence_forward",
    variants=partial(cpu_build_variants, "recurra_elementwise_recurrence"),
    what="elementwise recurrence",
    fallback="IndRNN and the minimal RNNs use a slower pure-torch loop instead",
    on_load=_register_fake_kernels,
)


def kernel_available() -> bool:
    """Whether the compiled CPU kernel is usable; builds it on the first call (a few seconds, once
    per machine: the build is cached in torch's extensions directory). A failed build warns once
    (``RecurraWarning``) and the pure-torch loop is used from then on."""
    return EXTENSION.available()


def release_buffers() -> int:
    """Free the large buffers the compiled kernels keep for reuse; returns the bytes freed.

    The kernels' outputs of 4 MiB and more (the states forward, the gradients backward) come from
    memory that the previous training step freed when it has the same size: a training loop then
    never waits for fresh memory. At most four blocks, and a quarter of the physical memory, are kept
    between calls; this returns them to the system (say, after training a large model).
    """
    if not kernel_available():
        return 0
    return int(torch.ops.recurra_scan.release_buffers())


# -- checks ----------------------------------------------------------------------------------------


def _check(b, a, h0, activation, lengths, backend) -> torch.Tensor | None:
    """Validate the arguments of ``elementwise_recurrence``; return ``lengths`` as int64 or None."""
    if activation not in ACTIVATIONS:
        raise ConfigError(f"expected activation in {tuple(ACTIVATIONS)}, got {activation!r}")
    if backend not in BACKENDS:
        raise ConfigError(f"expected backend in {BACKENDS}, got {backend!r}")
    if not isinstance(b, torch.Tensor) or b.dim() != 3:
        got = format_shape(b.shape) if isinstance(b, torch.Tensor) else type(b).__name__
        raise ShapeError(f"expected b of shape (batch, time, units), got {got}")
    B, T, H = b.shape
    if not b.is_floating_point():
        raise InputValueError(f"expected floating-point b, got dtype {b.dtype}")
    if tuple(a.shape) not in ((H,), (B, T, H)):
        raise ShapeError(f"expected a of shape ({H},) or {format_shape((B, T, H))}, got {format_shape(a.shape)}")
    if tuple(h0.shape) != (B, H):
        raise ShapeError(f"expected h0 of shape ({B}, {H}), got {format_shape(h0.shape)}")
    if a.dtype != b.dtype or h0.dtype != b.dtype:
        raise InputValueError(f"expected a, b and h0 of one dtype, got {a.dtype}, {b.dtype} and {h0.dtype}")
    return _check_lengths(lengths, B, T)


def _check_lengths(lengths, B: int, T: int) -> torch.Tensor | None:
    """``lengths`` as int64 ``(B,)`` with values in ``[1, T]``, or None."""
    if lengths is None:
        return None
    lengths = torch.as_tensor(lengths)
    if tuple(lengths.shape) != (B,):
        raise ShapeError(f"expected lengths of shape ({B},), got {format_shape(lengths.shape)}")
    if lengths.is_floating_point() or lengths.dtype == torch.bool:
        raise InputValueError(f"expected integer lengths, got dtype {lengths.dtype}")
    lo, hi = int(lengths.min()), int(lengths.max())
    if lo < 1 or hi > T:
        raise InputValueError(
            f"expected lengths between 1 and {T} (the time steps): every sequence needs a real step for "
            f"its last state; got values from {lo} to {hi}"
        )
    return lengths.to(torch.int64)


# -- the compiled kernel ---------------------------------------------------------------------------


class _CompiledRecurrence(torch.autograd.Function):
    """``(y, h_last)`` from the C++ loops; the backward is the reverse-time loop of the module docstring."""

    @staticmethod
    def forward(ctx, b, a, h0, lengths, code, overwrite_b):
        if overwrite_b:
            y, h_last = torch.ops.recurra_scan.elementwise_recurrence_forward_(b, a, h0, lengths, code)  # y is b
            ctx.mark_dirty(y)
        else:
            y, h_last = torch.ops.recurra_scan.elementwise_recurrence_forward(b, a, h0, lengths, code)
        ctx.save_for_backward(y, a, h0, lengths)
        ctx.code = code
        ctx.set_materialize_grads(False)  # no gradient for y (return_sequences=False): skip it
        return y, h_last

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_y, grad_h_last):
        y, a, h0, lengths = ctx.saved_tensors
        need_b, need_a, need_h0 = ctx.needs_input_grad[:3]
        if grad_y is None and grad_h_last is None:
            return None, None, None, None, None, None
        grad_y = None if grad_y is None else grad_y.contiguous()
        grad_h_last = None if grad_h_last is None else grad_h_last.contiguous()
        grad_b, grad_a, grad_h0 = torch.ops.recurra_scan.elementwise_recurrence_backward(
            grad_y, grad_h_last, y, a, h0, lengths, ctx.code, need_b, need_a
        )
        if need_a and a.dim() == 1:
            grad_a = grad_a.sum(0)  # (B, H) per-row partial sums -> (H,)
        return (grad_b if need_b else None), (grad_a if need_a else None), (grad_h0 if need_h0 else None), None, None, None


def _compiled(b, a, h0, activation, lengths, overwrite_b):
    overwrite_b = overwrite_b and not torch.compiler.is_compiling()  # traced graphs take the out-of-place op
    B, T, _ = b.shape
    if lengths is None:
        lengths = torch.full((B,), T, dtype=torch.int64)
    code = ACTIVATIONS[activation]
    return _CompiledRecurrence.apply(b.contiguous(), a.contiguous(), h0.contiguous(), lengths.contiguous(), code, overwrite_b)


# -- the pure-torch loop ---------------------------------------------------------------------------

_PHI = {"linear": lambda v: v, "tanh": torch.tanh, "relu": torch.relu}


def _torch_loop(b, a, h0, activation, lengths):
    φ = _PHI[activation]
    B, T, _ = b.shape
    bs = b.unbind(1)  # T tensors (B, H): split once, never b[:, t] per step
    as_ = a.unbind(1) if a.dim() == 3 else (a,) * T
    ms = None
    if lengths is not None:
        mask = torch.arange(T, device=b.device)[None, :] < lengths.to(b.device)[:, None]  # (B, T)
        ms = mask.unsqueeze(-1).unbind(1)  # T tensors (B, 1)
    h, ys = h0, []
    for t in range(T):
        new = φ(as_[t] * h + bs[t])
        if ms is None:
            h = new
            ys.append(new)
        else:
            h = torch.where(ms[t], new, h)
            ys.append(torch.where(ms[t], new, torch.zeros_like(new)))
    return torch.stack(ys, 1), h  # (B, T, H), (B, H)


def use_compiled(b: torch.Tensor) -> bool:
    """Whether ``backend="auto"`` runs the compiled kernel for ``b``: a float32/float64 CPU tensor and
    a kernel that builds."""
    return b.device.type == "cpu" and b.dtype in (torch.float32, torch.float64) and kernel_available()


def elementwise_recurrence(
    b: torch.Tensor,
    a: torch.Tensor,
    h0: torch.Tensor,
    activation: str = "linear",
    lengths: torch.Tensor | None = None,
    backend: str = "auto",
    *,
    overwrite_b: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``h_t = φ(a_t ⊙ h_{t-1} + b_t)`` for ``t = 0 .. T-1``, ``φ`` in ``"linear"``, ``"tanh"``, ``"relu"``.

    Shapes:
        b: ``(B, T, H)``, the input term of every step (e.g. ``W x_t + b`` for all steps at once).
        a: ``(H,)`` (one recurrent weight per unit: IndRNN, direct feedback) or ``(B, T, H)``
        (per step: the minimal RNNs' ``1 - z_t``).
        h0: ``(B, H)``.
        lengths: ``(B,)`` integers in ``[1, T]`` or ``None``; steps ``t >= lengths[i]`` keep the state
        and output 0.
        Returns ``y (B, T, H)`` (every ``h_t``) and ``h_last (B, H)`` (the state after each
        sequence's last real step).

    ``backend``: ``"cpp"`` (the compiled CPU loop; float32 and float64), ``"torch"`` (a pure-torch
    loop, any device and dtype) or ``"auto"`` (``cpp`` when ``use_compiled(b)``, else ``torch``).
    Both are differentiable in ``b``, ``a`` and ``h0`` (first derivatives; the compiled one has no
    double backward).

    ``overwrite_b=True`` lets the compiled kernel write ``y`` into ``b``'s memory (``b``'s values are
    lost and ``y is b``): it saves allocating and faulting in a fresh ``(B, T, H)`` buffer, for
    callers whose ``b`` is an intermediate nobody else reads (such as the input projection of a
    layer). Autograd refuses it where ``b`` is still needed. The torch loop ignores it.

    >>> b = torch.ones(1, 3, 2)
    >>> y, h = elementwise_recurrence(b, torch.full((2,), 0.5), torch.zeros(1, 2))
    >>> y[0, :, 0].tolist()
    [1.0, 1.5, 1.75]
    """
    lengths = _check(b, a, h0, activation, lengths, backend)
    if backend == "cpp":
        if b.device.type != "cpu" or b.dtype not in (torch.float32, torch.float64):
            raise InputValueError(f"backend='cpp' runs float32/float64 CPU tensors, got {b.dtype} on {b.device}")
        if not kernel_available():
            raise ConfigError("backend='cpp': the compiled kernel could not be built (see the RecurraWarning); use 'torch'")
    if backend == "cpp" or (backend == "auto" and use_compiled(b)):
        return _compiled(b, a, h0, activation, None if lengths is None else lengths.cpu(), overwrite_b)
    return _torch_loop(b, a, h0, activation, lengths)


# -- the minimal RNNs with their gates in the compiled loop -----------------------------------------

MINIMAL_KINDS = {"min_gru": 0, "min_lstm": 1}
MINIMAL_CANDIDATES = {"linear": 0, "tanh": 1, "relu": 2, "g": 3}  # the candidate activations it has


class _CompiledMinimal(torch.autograd.Function):
    """``(y, h_last)`` of MinGRU / MinLSTM from the projection ``k``; gates recomputed in the backward."""

    @staticmethod
    def forward(ctx, k, h0, lengths, kind, candidate):
        y, h_last = torch.ops.recurra_scan.minimal_recurrence_forward(k, h0, lengths, kind, candidate)
        ctx.save_for_backward(y, k, h0, lengths)
        ctx.codes = kind, candidate
        ctx.set_materialize_grads(False)
        return y, h_last

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_y, grad_h_last):
        y, k, h0, lengths = ctx.saved_tensors
        if grad_y is None and grad_h_last is None:
            return None, None, None, None, None
        grad_y = None if grad_y is None else grad_y.contiguous()
        grad_h_last = None if grad_h_last is None else grad_h_last.contiguous()
        grad_k, grad_h0 = torch.ops.recurra_scan.minimal_recurrence_backward(grad_y, grad_h_last, y, k, h0, lengths, *ctx.codes)
        return grad_k, (grad_h0 if ctx.needs_input_grad[1] else None), None, None, None


def minimal_recurrence(
    k: torch.Tensor,
    h0: torch.Tensor,
    kind: str,
    candidate: str,
    lengths: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """MinGRU (``kind="min_gru"``) or MinLSTM (``"min_lstm"``) over all steps in the compiled loop, the
    gates computed inside it from the input projection (see ``recurra.cells.minimal`` for the
    equations). Needs ``use_compiled(k)`` and ``candidate`` in ``MINIMAL_CANDIDATES``.

    Shapes: ``k (B, T, nb·H)`` (blocks ``[k_z | k_h]`` or ``[k_f | k_i | k_h]``), ``h0 (B, H)``,
    ``lengths (B,)`` in ``[1, T]`` or ``None``; returns ``y (B, T, H)`` and ``h_last (B, H)``. Its
    memory traffic is one read of ``k`` and one write of ``y`` forward, the same backward: no
    ``(B, T, H)`` intermediate for the gates.
    """
    B, T, _ = k.shape
    if kind not in MINIMAL_KINDS or candidate not in MINIMAL_CANDIDATES:
        raise ConfigError(f"expected kind in {tuple(MINIMAL_KINDS)} and candidate in {tuple(MINIMAL_CANDIDATES)}")
    nb = 2 if kind == "min_gru" else 3
    if tuple(h0.shape) != (B, k.shape[2] // nb) or k.shape[2] % nb:
        raise ShapeError(f"expected k (B, T, {nb}·H) and h0 (B, H), got {format_shape(k.shape)} and {format_shape(h0.shape)}")
    if h0.dtype != k.dtype or k.dtype not in (torch.float32, torch.float64) or k.device.type != "cpu":
        raise InputValueError(f"expected float32/float64 CPU tensors k and h0 of one dtype, got {k.dtype} and {h0.dtype}")
    if not kernel_available():
        raise ConfigError("the compiled kernel could not be built (see the RecurraWarning)")
    lengths = _check_lengths(lengths, B, T)
    if lengths is None:
        lengths = torch.full((B,), T, dtype=torch.int64)
    code = MINIMAL_KINDS[kind], MINIMAL_CANDIDATES[candidate]
    return _CompiledMinimal.apply(k.contiguous(), h0.contiguous(), lengths.cpu().contiguous(), *code)


# -- the log-space parallel scan -------------------------------------------------------------------


def linear_scan_log(
    log_a: torch.Tensor, log_b: torch.Tensor, log_h0: torch.Tensor | None = None, *, chunk_size: int | None = 64
) -> torch.Tensor:
    """``h_t = a_t h_{t-1} + b_t`` for positive ``a, b`` (and ``h0``), computed from their logarithms
    with ``cumsum`` and ``logcumsumexp`` over time (Heinsen's method, as in Feng et al., 2024).

    With ``a*_t = Σ_{k<=t} log a_k`` (the log of the product of the coefficients up to ``t``)::

        h_t = exp(a*_t) · (h0 + Σ_{k<=t} b_k exp(-a*_k))
        log h_t = a*_t + logsumexp(log h0, log b_0 - a*_0, ..., log b_t - a*_t)

    The initial state enters as one more term at time ``-1``, where ``a*`` is 0 (it is neither
    dropped nor multiplied by ``a_0`` twice). ``log_h0=None`` means ``h0 = 0``.

    ``log h_t`` is the difference of two numbers as large as ``|a*_t|``, which grows like
    ``t · |mean log a|``: over thousands of steps float32 loses most of its digits, in the values
    (``|a*| · eps``: ``1e-3`` relative at ``|a*| = 7000``) and far more in the gradients (measured
    with MinGRU at ``T = 10,000``: 27 % off). So the scan runs in chunks of ``chunk_size`` steps:
    each chunk is scanned from a zero state, all chunks at once, then the state entering each chunk
    is carried across the ``T / chunk_size`` chunk boundaries one after the other
    (``log s_n = logaddexp(log h_end_n, a*_end_n + log s_{n-1})``) and added to the chunk's steps
    (``log h_t = logaddexp(log h_local_t, a*_local_t + log s_{n-1})``). The error is then bounded by
    the chunk's length, not the sequence's: with the default 64, about ``1e-5`` (values) and
    ``1e-4`` (gradients) relative in float32 at ``T = 10,000``. ``chunk_size=None``: one chunk (the
    plain method; fine in float64).

    Shapes: ``log_a``, ``log_b``: ``(B, T, H)``; ``log_h0``: ``(B, H)`` or ``None``; returns
    ``h (B, T, H)``. Differentiable by autograd.

    >>> h = linear_scan_log(torch.log(torch.full((1, 3, 1), 0.5)), torch.zeros(1, 3, 1), torch.zeros(1, 1))
    >>> [round(v, 5) for v in h.flatten().tolist()]  # a = 0.5, b = 1, h0 = 1
    [1.5, 1.75, 1.875]
    """
    if log_a.shape != log_b.shape or log_a.dim() != 3:
        raise ShapeError(
            f"expected log_a and log_b of one shape (batch, time, units), got {format_shape(log_a.shape)} "
            f"and {format_shape(log_b.shape)}"
        )
    B, T, H = log_a.shape
    if log_h0 is not None and tuple(log_h0.shape) != (B, H):
        raise ShapeError(f"expected log_h0 of shape ({B}, {H}), got {format_shape(log_h0.shape)}")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ConfigError(f"expected chunk_size to be a positive integer or None, got {chunk_size!r}")
    if chunk_size is None or chunk_size >= T:
        return torch.exp(_log_scan(log_a, log_b, log_h0))

    C = chunk_size
    N = -(-T // C)  # chunks
    pad = N * C - T
    if pad:  # a = b = 1 on the padded steps: they come after every real step and are dropped
        log_a = F.pad(log_a, (0, 0, 0, pad))
        log_b = F.pad(log_b, (0, 0, 0, pad))
    a_star = log_a.reshape(B, N, C, H).cumsum(2)  # (B, T', H) -> (B, N, C, H): log Π within the chunk
    local = a_star + torch.logcumsumexp(log_b.reshape(B, N, C, H) - a_star, dim=2)  # each chunk from h = 0
    ends_a, ends_h = a_star[:, :, -1].unbind(1), local[:, :, -1].unbind(1)  # N tensors (B, H) each
    s = log_h0  # log of the state entering chunk n (None: zero)
    starts = []
    for n in range(N - 1):
        s = ends_h[n] if s is None else torch.logaddexp(ends_h[n], ends_a[n] + s)
        starts.append(s)
    enter = torch.stack(starts, 1)[:, :, None, :]  # (B, N - 1, 1, H)
    rest = torch.logaddexp(local[:, 1:], a_star[:, 1:] + enter)  # (B, N - 1, C, H)
    first = local[:, 0] if log_h0 is None else torch.logaddexp(local[:, 0], a_star[:, 0] + log_h0[:, None, :])
    log_h = torch.cat([first[:, None], rest], 1).reshape(B, N * C, H)  # (B, 1, C, H) + (B, N-1, C, H)
    return torch.exp(log_h[:, :T])


def _log_scan(log_a, log_b, log_h0):
    """``log h`` of the whole sequence in one chunk."""
    a_star = torch.cumsum(log_a, dim=1)  # (B, T, H): log Π_{k<=t} a_k
    values = log_b - a_star  # (B, T, H)
    if log_h0 is None:
        return a_star + torch.logcumsumexp(values, dim=1)
    values = torch.cat([log_h0.unsqueeze(1), values], dim=1)  # (B, 1, H) + (B, T, H) -> (B, 1 + T, H)
    return a_star + torch.logcumsumexp(values, dim=1)[:, 1:]


__all__ = [
    "elementwise_recurrence",
    "kernel_available",
    "linear_scan_log",
    "minimal_recurrence",
    "release_buffers",
    "use_compiled",
]
