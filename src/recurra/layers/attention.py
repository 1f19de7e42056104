"""Attention layers with Keras 3's arguments, equations, masks and weight layout: ``Attention`` (Luong),
``AdditiveAttention`` (Bahdanau) and ``MultiHeadAttention``.

Symbols: ``q (B, Tq, D)`` the query, ``k (B, Tv, D)`` the key (the value when none is given),
``v (B, Tv, Dv)`` the value; ``i`` a query step, ``j`` a value step.

``Attention``, called on ``[q, v]`` or ``[q, v, k]``, scores every pair of steps::

    score_mode="dot":     s[b, i, j] = γ · Σ_d q[b, i, d] k[b, j, d]
    score_mode="concat":  s[b, i, j] = c · Σ_d tanh(γ (q[b, i, d] + k[b, j, d]))

with ``γ`` the scalar weight ``scale`` (``use_scale=True``; 1 otherwise) and ``c`` the scalar weight
``concat_score_weight`` (``"concat"`` only), both starting at 1. ``AdditiveAttention`` scores with a
vector ``w (D,)`` (``scale``, Glorot-uniform; 1 when ``use_scale=False``)::

    s[b, i, j] = Σ_d w[d] tanh(q[b, i, d] + k[b, j, d])

Then both, as Keras does::

    s[b, i, j] ← s[b, i, j] - 1e9       where value step j is padding (or j > i with use_causal_mask)
    a = softmax_j(s)                     (B, Tq, Tv); dropout on a while training
    y[b, i] = Σ_j a[b, i, j] v[b, j]     (B, Tq, Dv), 0 at padded query steps

``mask=[query_mask, value_mask]`` (``(B, Tq)``, ``(B, Tv)``, True at real steps); the output's mask is
the query mask. ``return_attention_scores=True`` returns ``(y, a)`` (``a`` after dropout, as Keras's).
Keras weights: ``[scale ()]`` if ``use_scale``, then ``[concat_score_weight ()]`` if ``"concat"``;
``AdditiveAttention``: ``[scale (D,)]`` if ``use_scale``.

``MultiHeadAttention(num_heads=N, key_dim=K, value_dim=V)``, called as ``layer(query, value, key=None)``
on ``q (B, Tq, Fq)``, ``v (B, Tv, Fv)``, ``k (B, Tv, Fk)``::

    Q[b, i, n, e]  = Σ_f q[b, i, f] Wq[f, n, e] + bq[n, e]        (B, Tq, N, K)
    Kh[b, j, n, e] = Σ_f k[b, j, f] Wk[f, n, e] + bk[n, e]        (B, Tv, N, K)
    Vh[b, j, n, e] = Σ_f v[b, j, f] Wv[f, n, e] + bv[n, e]        (B, Tv, N, V)
    s[b, n, i, j] = Σ_e (Q[b, i, n, e] / sqrt(K)) Kh[b, j, n, e]  (B, N, Tq, Tv)
    a = softmax_j(where(M, s, -1e9)), then a ← 0 where not M      (B, N, Tq, Tv)
    o[b, i, n, e] = Σ_j a[b, n, i, j] Vh[b, j, n, e]              (B, Tq, N, V)
    y[b, i] = Σ_{n, e} o[b, i, n, e] Wo[n, e] + bo                (B, Tq, *output_shape)

where ``M[b, i, j]`` keeps a pair when every mask given keeps it: ``query_mask[b, i]``,
``value_mask[b, j]``, ``key_mask[b, j]``, ``attention_mask[b, i, j]`` and ``j <= i`` under
``use_causal_mask``; a query step with no pair kept (a padded one) attends nowhere (``a = 0``, ``y = bo``).
``output_shape`` defaults to ``(Fq,)``. Dropout acts on ``a`` while training; ``return_attention_scores=True``
returns ``(y, a)`` with ``a`` before dropout. Keras weights: ``[Wq (Fq, N, K), bq (N, K), Wk (Fk, N, K),
bk (N, K), Wv (Fv, N, V), bv (N, V), Wo (N, V, *output_shape), bo (*output_shape)]`` (no biases with
``use_bias=False``), stored in that layout; a kernel is drawn as Keras 3's ``EinsumDense`` draws it,
``fan_in`` the axes it sums over (``Fq``; ``N·V`` for ``Wo``), ``fan_out`` the others (``N·K``;
``prod(output_shape)``). ``bk`` adds the same amount to every score of a row, which the softmax ignores:
it never changes the output (nor, in Keras, does it).

Where Keras 3 (3.15, torch backend) differs: its ``MultiHeadAttention`` reads the query's mask only from
the mask attached to the query tensor and ignores a ``query_mask=`` argument, which is honoured here; when
it returns no scores and has no dropout it runs a fused kernel that computes in float32 even for float64
inputs and gives padded query steps (rows masked whole) an ordinary attention instead of ``a = 0`` — the
real steps agree. ``attention_axes`` other than the time axis, ``sliding_window``, ``use_gate``,
``flash_attention``, regularisers and constraints are not taken. ``seed`` is kept in the config only:
dropout draws from torch's random state. ``Attention``'s and ``AdditiveAttention``'s scores match Keras's
(whose ``matmul`` rounds float64 to float32 in 3.15).

>>> tuple(Attention()([torch.zeros(2, 5, 4), torch.zeros(2, 7, 4)]).shape)
(2, 5, 4)
>>> tuple(MultiHeadAttention(num_heads=2, key_dim=3)(torch.zeros(2, 5, 4), torch.zeros(2, 7, 6)).shape)
(2, 5, 4)
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from .. import initializers
from ..errors import ConfigError, ShapeError, format_shape
from ..limits import MAX_FEATURES
from .base import Layer, check_positive_int, check_rate, register

SCORE_MODES = ("dot", "concat")


def _large(dtype: torch.dtype) -> float:
    """What Keras subtracts from a masked score: 65504 (the largest float16) in float16, 1e9 otherwise."""
    return 65504.0 if dtype == torch.float16 else 1.0e9


def _found(x: Any) -> str:
    return format_shape(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__


def _check_sequence(layer: str, what: str, x: Any) -> torch.Tensor:
    """``x`` when it is a float tensor ``(batch, steps, features)``; a ``ShapeError`` naming ``what`` otherwise."""
    if not isinstance(x, torch.Tensor) or x.dim() != 3:
        raise ShapeError(f"{layer} expected {what} of shape (batch, time, features), got {_found(x)}")
    if not x.is_floating_point():
        raise ShapeError(f"{layer} expected {what} of floats, got dtype {str(x.dtype).removeprefix('torch.')}")
    return x


def _check_mask(layer: str, what: str, mask: Any, shape: tuple[int, int], device: Any) -> torch.Tensor | None:
    """``mask`` as a bool tensor of ``shape`` (``(batch, steps)``, True at real steps) on ``device``, or None."""
    if mask is None:
        return None
    mask = torch.as_tensor(mask, device=device)
    if tuple(mask.shape) != tuple(shape):
        raise ShapeError(f"{layer} expected {what} of shape {format_shape(shape)} (batch, steps), got {format_shape(mask.shape)}")
    return mask if mask.dtype == torch.bool else mask != 0


def _causal(tq: int, tv: int, device: Any) -> torch.Tensor:
    """``(Tq, Tv)``: True where value step ``j <= i`` (Keras's lower triangle, aligned at the first step)."""
    return torch.ones(tq, tv, dtype=torch.bool, device=device).tril()


def _keras_layout_parameter(initializer: Any, shape: Sequence[int], dtype: torch.dtype | None, device: Any) -> nn.Parameter:
    """A weight of Keras's ``shape`` (a bias), drawn with Keras's fans: recurra's initialisers read a weight in
    torch's layout, the reverse of Keras's axes, so the draw is made on the reversed shape and turned back."""
    t = initializers.get(initializer)(torch.empty(tuple(shape)[::-1], dtype=dtype, device=device))
    return nn.Parameter(t.permute(*reversed(range(t.dim()))).contiguous())


def _projection_kernel(
    initializer: Any, inputs: Sequence[int], outputs: Sequence[int], dtype: torch.dtype | None, device: Any
) -> nn.Parameter:
    """A kernel of Keras's shape ``(*inputs, *outputs)`` drawn as Keras 3's ``EinsumDense`` draws it: as the
    matrix ``(prod(inputs), prod(outputs))`` (``fan_in`` the axes summed over, ``fan_out`` the axes kept),
    here in torch's layout ``(fan_out, fan_in)``, then transposed and reshaped."""
    t = torch.empty(math.prod(outputs), math.prod(inputs), dtype=dtype, device=device)
    t = initializers.get(initializer)(t)  # (fan_out, fan_in)
    return nn.Parameter(t.T.reshape(*inputs, *outputs).contiguous())


# -- Attention, AdditiveAttention ---------------------------------------------------------------------


class _BaseAttention(Layer):
    """The common part of ``Attention`` and ``AdditiveAttention``: inputs, masks, softmax, values (module docstring)."""

    def __init__(self, use_scale: bool, dropout: float, seed: int | None, name: str | None):
        super().__init__(name=name)
        self.use_scale = bool(use_scale)
        self.dropout = check_rate("dropout", dropout)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ConfigError(f"expected seed as an int or None, got {seed!r}")
        self.seed = seed  # kept for Keras's config; the dropout masks come from torch's random state

    def _inputs(self, inputs: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        name = type(self).__name__
        if not isinstance(inputs, (list, tuple)) or not 2 <= len(inputs) <= 3:
            found = f"{len(inputs)} item(s)" if isinstance(inputs, (list, tuple)) else _found(inputs)
            raise ShapeError(f"{name} expected a list [query, value] or [query, value, key], got {found}")
        q = _check_sequence(name, "query", inputs[0])
        v = _check_sequence(name, "value", inputs[1])
        k = _check_sequence(name, "key", inputs[2]) if len(inputs) == 3 else v
        if not q.shape[0] == v.shape[0] == k.shape[0]:
            found = ", ".join(format_shape(x.shape) for x in inputs)
            raise ShapeError(f"{name} expected query, value and key of one batch size, got {found}")
        if k.shape[1] != v.shape[1]:
            raise ShapeError(
                f"{name} expected key and value of one length, got key {format_shape(k.shape)}, value {format_shape(v.shape)}"
            )
        if q.shape[-1] != k.shape[-1]:
            raise ShapeError(
                f"{name} expected query and key with the same features, got query {format_shape(q.shape)}, "
                f"key {format_shape(k.shape)}"
            )
        return q, v, k

    def _masks(self, mask: Any, q: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        name = type(self).__name__
        if mask is None:
            return None, None
        if not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3:
            found = f"{len(mask)} item(s)" if isinstance(mask, (list, tuple)) else _found(mask)
            raise ShapeError(f"{name} expected mask as a list [query_mask, value_mask], got {found}")
        q_mask = _check_mask(name, "query_mask", mask[0], (q.shape[0], q.shape[1]), q.device)
        v_mask = _check_mask(name, "value_mask", mask[1], (v.shape[0], v.shape[1]), q.device)
        return q_mask, v_mask

    def scores(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        """``s (B, Tq, Tv)`` from ``q (B, Tq, D)`` and ``k (B, Tv, D)``."""
        raise NotImplementedError

    def forward(
        self,
        inputs: Sequence[torch.Tensor],
        mask: Sequence[torch.Tensor | None] | None = None,
        training: bool | None = None,
        return_attention_scores: bool = False,
        use_causal_mask: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        q, v, k = self._inputs(inputs)
        q_mask, v_mask = self._masks(mask, q, v)
        self.maybe_build(q)
        s = self.scores(q, k)  # (B, Tq, Tv)
        keep = None if v_mask is None else v_mask[:, None, :]  # (B, 1, Tv)
        if use_causal_mask:
            causal = _causal(q.shape[1], v.shape[1], q.device)[None]  # (1, Tq, Tv)
            keep = causal if keep is None else keep & causal
        if keep is not None:
            s = torch.where(keep, s, s - _large(s.dtype))
        a = torch.softmax(s, dim=-1)  # (B, Tq, Tv)
        training = self.training if training is None else training
        if training and self.dropout > 0:
            a = F.dropout(a, self.dropout, True)
        y = torch.matmul(a, v)  # (B, Tq, Dv)
        if q_mask is not None:
            y = torch.where(q_mask[..., None], y, torch.zeros((), dtype=y.dtype, device=y.device))
        return (y, a) if return_attention_scores else y

    def compute_mask(self, inputs: Any, mask: Any) -> torch.Tensor | None:
        """The query's mask (Keras's rule): a padded query step stays padding."""
        if mask is None or not isinstance(mask, (list, tuple)) or mask[0] is None:
            return None
        m = torch.as_tensor(mask[0])
        return m if m.dtype == torch.bool else m != 0

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "use_scale": self.use_scale, "dropout": self.dropout, "seed": self.seed}


@register
class Attention(_BaseAttention):
    """Dot-product (Luong) attention over ``[query, value]`` or ``[query, value, key]`` (module docstring).

    ``score_mode``: ``"dot"`` (``γ · q·k``) or ``"concat"`` (``c · Σ tanh(γ (q + k))``).
    """

    def __init__(
        self,
        use_scale: bool = False,
        score_mode: str = "dot",
        dropout: float = 0.0,
        seed: int | None = None,
        *,
        name: str | None = None,
    ):
        super().__init__(use_scale, dropout, seed, name)
        if score_mode not in SCORE_MODES:
            raise ConfigError(f"expected score_mode in {SCORE_MODES}, got {score_mode!r}")
        self.score_mode = score_mode
        self.scale = self.concat_score_weight = None

    def build(self, input_shape: tuple, *, dtype: torch.dtype | None = None, device: Any = None) -> None:
        if self.use_scale:
            self.scale = nn.Parameter(torch.ones((), dtype=dtype, device=device))
        if self.score_mode == "concat":
            self.concat_score_weight = nn.Parameter(torch.ones((), dtype=dtype, device=device))
        self.built = True

    def scores(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        if self.score_mode == "dot":
            s = torch.matmul(q, k.transpose(-2, -1))  # (B, Tq, D) @ (B, D, Tv) -> (B, Tq, Tv)
            return s * self.scale if self.scale is not None else s
        pairs = q[:, :, None, :] + k[:, None, :, :]  # (B, Tq, 1, D) + (B, 1, Tv, D) -> (B, Tq, Tv, D)
        if self.scale is not None:
            pairs = self.scale * pairs
        return self.concat_score_weight * torch.tanh(pairs).sum(-1)  # (B, Tq, Tv)

    def keras_weights(self) -> list[torch.Tensor]:
        self._require_built("get_weights()")
        return [w for w in (self.scale, self.concat_score_weight) if w is not None]

    def load_keras_weights(self, arrays: list[torch.Tensor]) -> None:
        for w, a in zip(self.keras_weights(), arrays):
            w.copy_(a)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "score_mode": self.score_mode}


@register
class AdditiveAttention(_BaseAttention):
    """Additive (Bahdanau) attention over ``[query, value]`` or ``[query, value, key]``:
    ``s = Σ_d w_d tanh(q_d + k_d)`` (module docstring)."""

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, seed: int | None = None, *, name: str | None = None):
        super().__init__(use_scale, dropout, seed, name)
        self.scale = None

    def build(self, input_shape: tuple, *, dtype: torch.dtype | None = None, device: Any = None) -> None:
        if not input_shape or input_shape[-1] is None:
            raise ShapeError(f"AdditiveAttention expected a query of shape (batch, time, features), got (batch, {input_shape})")
        if self.use_scale:
            features = int(input_shape[-1])
            self.scale = nn.Parameter(initializers.get("glorot_uniform")(torch.empty(features, dtype=dtype, device=device)))
        self.built = True

    def scores(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        if self.scale is not None and self.scale.shape[0] != q.shape[-1]:
            raise ShapeError(f"AdditiveAttention expected a query of {self.scale.shape[0]} features, got {format_shape(q.shape)}")
        pairs = torch.tanh(q[:, :, None, :] + k[:, None, :, :])  # (B, Tq, Tv, D)
        if self.scale is not None:
            pairs = self.scale * pairs
        return pairs.sum(-1)  # (B, Tq, Tv)

    def keras_weights(self) -> list[torch.Tensor]:
        self._require_built("get_weights()")
        return [] if self.scale is None else [self.scale]

    def load_keras_weights(self, arrays: list[torch.Tensor]) -> None:
        if self.scale is not None:
            self.scale.copy_(arrays[0])


# -- MultiHeadAttention ------------------------------------------------------------------------------


def _check_attention_axes(attention_axes: Any) -> None:
    """``None`` (attention over the time axis), or the same axis written out as Keras writes it in a built
    layer's config (``(1,)``, ``1``, ``(-2,)``); anything else is refused."""
    if attention_axes is None:
        return
    axes = list(attention_axes) if isinstance(attention_axes, (list, tuple)) else [attention_axes]
    if len(axes) == 1 and not isinstance(axes[0], bool) and axes[0] in (1, -2):
        return
    raise ConfigError(
        "MultiHeadAttention supports attention_axes=None only (attention over the time axis of inputs "
        f"(batch, time, features)), got {attention_axes!r}"
    )


def _output_shape(output_shape: Any) -> list[int] | None:
    if output_shape is None:
        return None
    dims = [output_shape] if isinstance(output_shape, int) else output_shape
    if not isinstance(dims, (list, tuple)) or not dims:
        raise ConfigError(f"expected output_shape as an int, a tuple of ints or None, got {output_shape!r}")
    return [check_positive_int("output_shape", d, MAX_FEATURES) for d in dims]


@register
class MultiHeadAttention(Layer):
    """Multi-head dot-product attention (Vaswani et al.) with Keras 3's projections (module docstring).

    ``layer(query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
    return_attention_scores=False, training=None, use_causal_mask=False)``. ``mask`` is the mask that
    travels with the query (a model passes it along): the query mask, and the value's (key's) too when the
    value (key) is the query tensor itself, as in self-attention ``layer(x, x)``. The output's mask is the
    query's.
    """

    supports_masking = True

    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        value_dim: int | None = None,
        dropout: float = 0.0,
        use_bias: bool = True,
        output_shape: int | Sequence[int] | None = None,
        attention_axes: Any = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        seed: int | None = None,
        *,
        name: str | None = None,
    ):
        super().__init__(name=name)
        self.num_heads = check_positive_int("num_heads", num_heads, MAX_FEATURES)
        self.key_dim = check_positive_int("key_dim", key_dim, MAX_FEATURES)
        self.value_dim = self.key_dim if value_dim is None else check_positive_int("value_dim", value_dim, MAX_FEATURES)
        self.dropout = check_rate("dropout", dropout)
        self.use_bias = bool(use_bias)
        self.output_shape = _output_shape(output_shape)
        _check_attention_axes(attention_axes)
        self.kernel_initializer = initializers.serialize(kernel_initializer)
        self.bias_initializer = initializers.serialize(bias_initializer)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ConfigError(f"expected seed as an int or None, got {seed!r}")
        self.seed = seed  # kept for Keras's config; the dropout masks come from torch's random state
        self.features: tuple[int, int, int] | None = None  # (Fq, Fv, Fk) once built
        self.query_kernel = self.query_bias = self.key_kernel = self.key_bias = None
        self.value_kernel = self.value_bias = self.output_kernel = self.output_bias = None

    # -- building ---------------------------------------------------------------------------------
    def build(self, input_shape: tuple, *, dtype: torch.dtype | None = None, device: Any = None) -> None:
        """``input_shape``: the shapes of ``(query, value, key)`` without the batch axis."""
        query_shape, value_shape, key_shape = input_shape
        fq, fv, fk = (int(shape[-1]) for shape in (query_shape, value_shape, key_shape))
        N, K, V = self.num_heads, self.key_dim, self.value_dim
        out = self.output_shape or [fq]

        def kernel(inputs: tuple[int, ...], *outputs: int) -> nn.Parameter:
            return _projection_kernel(self.kernel_initializer, inputs, outputs, dtype, device)

        def bias(*shape: int) -> nn.Parameter | None:
            return _keras_layout_parameter(self.bias_initializer, shape, dtype, device) if self.use_bias else None

        self.query_kernel, self.query_bias = kernel((fq,), N, K), bias(N, K)  # (Fq, N, K), (N, K)
        self.key_kernel, self.key_bias = kernel((fk,), N, K), bias(N, K)  # (Fk, N, K), (N, K)
        self.value_kernel, self.value_bias = kernel((fv,), N, V), bias(N, V)  # (Fv, N, V), (N, V)
        self.output_kernel, self.output_bias = kernel((N, V), *out), bias(*out)  # (N, V, *output_shape), (*output_shape,)
        self.features = (fq, fv, fk)
        self.built = True

    def _inputs(self, query: Any, value: Any, key: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        q = _check_sequence("MultiHeadAttention", "query", query)
        v = _check_sequence("MultiHeadAttention", "value", value)
        k = v if key is None else _check_sequence("MultiHeadAttention", "key", key)
        if not q.shape[0] == v.shape[0] == k.shape[0]:
            found = ", ".join(format_shape(x.shape) for x in (q, v, k))
            raise ShapeError(f"MultiHeadAttention expected query, value and key of one batch size, got {found}")
        if k.shape[1] != v.shape[1]:
            raise ShapeError(
                "MultiHeadAttention expected key and value of one length, "
                f"got key {format_shape(k.shape)}, value {format_shape(v.shape)}"
            )
        if not self.built:
            dtype = q.dtype
            self.build_weights((tuple(q.shape[1:]), tuple(v.shape[1:]), tuple(k.shape[1:])), dtype=dtype, device=q.device)
        for what, x, f in zip(("query", "value", "key"), (q, v, k), self.features):
            if x.shape[-1] != f:
                raise ShapeError(f"MultiHeadAttention expected {what} of shape (batch, time, {f}), got {format_shape(x.shape)}")
        return q, v, k

    def _attention_mask(
        self,
        q: torch.Tensor,
        v: torch.Tensor,
        query_mask: Any,
        value_mask: Any,
        key_mask: Any,
        attention_mask: Any,
        use_causal_mask: bool,
    ) -> torch.Tensor | None:
        """``M (B, Tq, Tv)`` (or broadcastable to it): True where query step i may attend to value step j."""
        B, tq, tv = q.shape[0], q.shape[1], v.shape[1]
        name = "MultiHeadAttention"
        keep = None

        def both(m: torch.Tensor) -> None:
            nonlocal keep
            keep = m if keep is None else keep & m

        q_mask = _check_mask(name, "query_mask", query_mask, (B, tq), q.device)
        if q_mask is not None:
            both(q_mask[:, :, None])  # (B, Tq, 1)
        for what, m in (("value_mask", value_mask), ("key_mask", key_mask)):
            m = _check_mask(name, what, m, (B, tv), q.device)
            if m is not None:
                both(m[:, None, :])  # (B, 1, Tv)
        if use_causal_mask:
            both(_causal(tq, tv, q.device)[None])  # (1, Tq, Tv)
        if attention_mask is not None:
            m = torch.as_tensor(attention_mask, device=q.device)
            ok = m.dim() in (2, 3) and m.shape[-2:] == (tq, tv) and (m.dim() == 2 or m.shape[0] in (1, B))
            if not ok:
                raise ShapeError(
                    f"MultiHeadAttention expected attention_mask of shape (batch, query steps, value steps) = "
                    f"{format_shape((B, tq, tv))}, got {format_shape(m.shape)}"
                )
            both(m if m.dtype == torch.bool else m != 0)
        return keep

    # -- the call ---------------------------------------------------------------------------------
    def forward(
        self,
        query: torch.Tensor,
        value: torch.Tensor,
        key: torch.Tensor | None = None,
        query_mask: torch.Tensor | None = None,
        value_mask: torch.Tensor | None = None,
        key_mask: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        return_attention_scores: bool = False,
        training: bool | None = None,
        use_causal_mask: bool = False,
        mask: torch.Tensor | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        q, v, k = self._inputs(query, value, key)
        if mask is not None:  # the query's mask, as a model passes it: the value's (key's) too when that is the query
            query_mask = mask if query_mask is None else query_mask
            value_mask = mask if value_mask is None and value is query else value_mask
            key_mask = mask if key_mask is None and key is query else key_mask
        keep = self._attention_mask(q, v, query_mask, value_mask, key_mask, attention_mask, use_causal_mask)
        Q = torch.einsum("btf,fnk->btnk", q, self.query_kernel)  # (B, Tq, N, K)
        Kh = torch.einsum("bsf,fnk->bsnk", k, self.key_kernel)  # (B, Tv, N, K)
        Vh = torch.einsum("bsf,fnv->bsnv", v, self.value_kernel)  # (B, Tv, N, V)
        if self.use_bias:
            Q, Kh, Vh = Q + self.query_bias, Kh + self.key_bias, Vh + self.value_bias
        Q = Q * (1.0 / math.sqrt(float(self.key_dim)))
        s = torch.einsum("bsnk,btnk->bnts", Kh, Q)  # (B, N, Tq, Tv)
        if keep is not None:
            keep = keep[:, None] if keep.dim() == 3 else keep  # (B or 1, 1, Tq, Tv): one mask for every head
            s = torch.where(keep, s, torch.full((), -_large(s.dtype), dtype=s.dtype, device=s.device))
        a = torch.softmax(s, dim=-1)  # (B, N, Tq, Tv)
        if keep is not None:
            a = torch.where(keep, a, torch.zeros((), dtype=a.dtype, device=a.device))  # a row masked whole attends nowhere
        training = self.training if training is None else training
        dropped = F.dropout(a, self.dropout, True) if training and self.dropout > 0 else a
        o = torch.einsum("bnts,bsnv->btnv", dropped, Vh)  # (B, Tq, N, V)
        out = self.output_kernel.shape[2:]
        y = torch.einsum("btnv,nvo->bto", o, self.output_kernel.reshape(self.num_heads, self.value_dim, -1))  # (B, Tq, O)
        y = y.reshape(*y.shape[:2], *out)  # (B, Tq, *output_shape)
        if self.output_bias is not None:
            y = y + self.output_bias
        return (y, a) if return_attention_scores else y

    def compute_mask(self, query: Any, mask: Any) -> torch.Tensor | None:
        """The query's mask (Keras's rule)."""
        if mask is None:
            return None
        m = torch.as_tensor(mask)
        return m if m.dtype == torch.bool else m != 0

    # -- weights in Keras layout ------------------------------------------------------------------
    def _weights(self) -> list[nn.Parameter]:
        pairs = [
            (self.query_kernel, self.query_bias),
            (self.key_kernel, self.key_bias),
            (self.value_kernel, self.value_bias),
            (self.output_kernel, self.output_bias),
        ]
        return [w for pair in pairs for w in pair if w is not None]

    def keras_weights(self) -> list[torch.Tensor]:
        self._require_built("get_weights()")
        return list(self._weights())

    def load_keras_weights(self, arrays: list[torch.Tensor]) -> None:
        for w, a in zip(self._weights(), arrays):
            w.copy_(a)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "output_shape": self.output_shape,
            "attention_axes": None,
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
            "seed": self.seed,
        }


__all__ = ["Attention", "AdditiveAttention", "MultiHeadAttention"]
