"""Helpers shared by the cell and layer tests: masks, weight copies, the fused-vs-reference and
"each sequence alone" checks, and numpy versions of Keras's recurrent equations in Keras layout."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.testing import assert_close

# Small sizes everywhere: batch, time steps, features, units.
B, T, F, H = 4, 6, 3, 5

MASK_KINDS = ("none", "lengths", "left", "holes")

LENGTHS = [6, 3, 1, 5]  # one full row, one single step
HOLES = [
    [1, 0, 1, 1, 0, 1],
    [0, 1, 1, 0, 0, 1],
    [1, 1, 1, 1, 1, 1],
    [0, 0, 0, 1, 0, 0],
]


def mask_of(kind: str, batch: int = B, steps: int = T) -> torch.Tensor | None:
    """The ``(B, T)`` bool mask of a padding layout (``None`` for ``"none"``)."""
    assert (batch, steps) == (B, T) or kind == "none"
    if kind == "none":
        return None
    lengths = torch.tensor(LENGTHS)
    t = torch.arange(steps)[None, :]
    if kind == "lengths":
        return t < lengths[:, None]  # right padded
    if kind == "left":
        return t >= steps - lengths[:, None]  # left padded
    if kind == "holes":
        return torch.tensor(HOLES, dtype=torch.bool)
    raise AssertionError(kind)


def mask_kwargs(kind: str) -> dict[str, Any]:
    """Call keywords for a padding layout: ``lengths=`` for right padding, ``mask=`` otherwise."""
    if kind == "none":
        return {}
    if kind == "lengths":
        return {"lengths": torch.tensor(LENGTHS)}
    return {"mask": mask_of(kind)}


def randomize(layer, rng: np.random.Generator, scale: float = 0.5) -> list[np.ndarray]:
    """Give ``layer`` random Keras-layout weights (biases included) and return them."""
    weights = [rng.normal(0.0, scale, size=w.shape) for w in layer.get_weights()]
    layer.set_weights(weights)
    return weights


def build_random(factory, rng: np.random.Generator, features: int = F, **kw):
    """A float64 layer from ``factory(input_shape=..., **kw)``, built for ``features``, random weights and biases."""
    layer = factory(input_shape=(None, features), **kw).double()
    randomize(layer, rng)
    return layer


def padded_input(rng: np.random.Generator, mask: torch.Tensor) -> torch.Tensor:
    """Random float64 ``(B, T, F)`` input with large garbage at the padded steps."""
    x = torch.tensor(rng.normal(size=(B, T, F)))
    x[~mask] = 100.0 * torch.tensor(rng.normal(size=(int((~mask).sum()), F)))
    return x


def dtype_of(layer) -> torch.dtype:
    return next(layer.parameters()).dtype


def twin(layer, **overrides):
    """A new layer of the same class and config (with ``overrides``), dtype and weights."""
    config = dict(layer.get_config(), **overrides)
    new = type(layer).from_config(config).to(dtype_of(layer))
    new.set_weights(layer.get_weights())
    return new


def as_tuple(out) -> tuple:
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def check_fused_matches_reference(
    cls, *, return_sequences: bool, go_backwards: bool, mask_kind: str, with_initial_state: bool, use_bias: bool, **kwargs
) -> None:
    """Fused and reference kernels of ``cls`` agree on outputs, final states and every gradient (float64)."""
    rng = np.random.default_rng(7)
    fused = cls(
        H,
        return_sequences=return_sequences,
        return_state=True,
        go_backwards=go_backwards,
        use_bias=use_bias,
        input_shape=(None, F),
        **kwargs,
    ).double()
    randomize(fused, rng)
    ref = twin(fused, implementation="reference")
    n_states = len(fused.state_names)

    x = torch.tensor(rng.normal(size=(B, T, F)), requires_grad=True)
    x_ref = x.detach().clone().requires_grad_()
    init = init_ref = None
    if with_initial_state:
        init = [torch.tensor(rng.normal(0, 0.5, size=(B, H)), requires_grad=True) for _ in range(n_states)]
        init_ref = [s.detach().clone().requires_grad_() for s in init]

    out_f = as_tuple(fused(x, initial_state=init, **mask_kwargs(mask_kind)))
    assert fused.kernel == "fused"
    out_r = as_tuple(ref(x_ref, initial_state=init_ref, **mask_kwargs(mask_kind)))
    assert ref.kernel == "reference"

    assert len(out_f) == len(out_r) == 1 + n_states
    expected_shape = (B, T, H) if return_sequences else (B, H)
    assert out_f[0].shape == expected_shape
    for a, b in zip(out_f, out_r):
        assert a.dtype == torch.float64
        assert_close(a, b, atol=1e-10, rtol=0)

    sum(o.sum() for o in out_f).backward()
    sum(o.sum() for o in out_r).backward()
    names_f = [n for n, _ in fused.named_parameters()]
    names_r = [n for n, _ in ref.named_parameters()]
    assert names_f == names_r and names_f
    for (name, p), q in zip(fused.named_parameters(), ref.parameters()):
        assert p.grad is not None and q.grad is not None, name
        assert p.grad.abs().sum() > 0, name
        assert_close(p.grad, q.grad, atol=1e-10, rtol=0, msg=lambda m, name=name: f"gradient of {name}: {m}")
    assert_close(x.grad, x_ref.grad, atol=1e-10, rtol=0)
    if with_initial_state:
        for s, s_ref in zip(init, init_ref):
            assert_close(s.grad, s_ref.grad, atol=1e-10, rtol=0)


def assert_masked_outputs(layer, y_run: torch.Tensor, mask_run: torch.Tensor) -> None:
    """Keras's outputs at the masked steps of one sequence, ``y_run (T, H)`` and ``mask_run (T,)`` in the
    order the layer ran: zeros with ``zero_output_for_mask=True``, else the last real output before each
    masked step (zeros before any)."""
    if getattr(layer, "zero_output_for_mask", True):
        assert torch.count_nonzero(y_run[~mask_run]) == 0
        return
    previous = torch.zeros_like(y_run[0])
    for t in range(y_run.shape[0]):
        if mask_run[t]:
            previous = y_run[t]
        else:
            assert torch.equal(y_run[t], previous), f"masked step {t}"


def check_each_sequence_alone(layer, x: torch.Tensor, mask: torch.Tensor, call_kwargs: dict, *, reversed_output: bool) -> None:
    """A padded batch gives every sequence exactly what it gets alone, unpadded.

    ``layer`` has ``return_sequences=True`` and ``return_state=True``; ``reversed_output`` says the
    outputs come in reversed time order (``go_backwards``). Padded steps must output what Keras outputs
    there: exact zeros with ``zero_output_for_mask=True``, else the last real output before them (in the
    order the layer ran), zeros before any.
    """
    y, *states = as_tuple(layer(x, **call_kwargs))
    assert y.shape[:2] == mask.shape
    for b in range(x.shape[0]):
        m = mask[b]
        y_alone, *states_alone = as_tuple(layer(x[b : b + 1, m]))
        assert y_alone.shape[1] == int(m.sum())
        yb = y[b].flip(0) if reversed_output else y[b]  # in input time order
        ya = y_alone[0].flip(0) if reversed_output else y_alone[0]
        assert_close(yb[m], ya, atol=1e-12, rtol=0)
        assert_masked_outputs(layer, y[b], m.flip(0) if reversed_output else m)
        assert len(states) == len(states_alone)
        for s, sa in zip(states, states_alone):
            assert_close(s[b], sa[0], atol=1e-12, rtol=0)


# -- Keras's equations, in Keras layout ------------------------------------------------------------


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def _act(name: str):
    return {"tanh": np.tanh, "relu": lambda v: np.maximum(v, 0.0), "sigmoid": _sigmoid}[name]


def keras_simple_rnn(x, weights, h0=None, activation="tanh"):
    """``h = act(x @ kernel + h @ recurrent_kernel + bias)``; returns ``(outputs (B, T, H), [h])``."""
    kernel, recurrent_kernel, *rest = weights
    bias = rest[0] if rest else 0.0
    h = np.zeros((x.shape[0], kernel.shape[1])) if h0 is None else h0
    outputs = []
    for t in range(x.shape[1]):
        h = _act(activation)(x[:, t] @ kernel + h @ recurrent_kernel + bias)
        outputs.append(h)
    return np.stack(outputs, 1), [h]


def keras_lstm(x, weights, h0=None, c0=None):
    """Keras LSTM: gates ``i, f, c, o`` side by side in the kernel's columns."""
    kernel, recurrent_kernel, *rest = weights
    units = recurrent_kernel.shape[0]
    bias = rest[0] if rest else np.zeros(4 * units)
    h = np.zeros((x.shape[0], units)) if h0 is None else h0
    c = np.zeros((x.shape[0], units)) if c0 is None else c0
    outputs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent_kernel + bias
        z_i, z_f, z_c, z_o = (z[:, k * units : (k + 1) * units] for k in range(4))
        i, f, o = _sigmoid(z_i), _sigmoid(z_f), _sigmoid(z_o)
        c = f * c + i * np.tanh(z_c)
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, 1), [h, c]


def keras_gru(x, weights, h0=None, reset_after=True):
    """Keras GRU: gates ``z, r, h``; bias ``(2, 3H)`` (input, recurrent) with ``reset_after`` else ``(3H,)``."""
    kernel, recurrent_kernel, *rest = weights
    units = recurrent_kernel.shape[0]
    if rest:
        bias = rest[0]
        input_bias, recurrent_bias = (bias[0], bias[1]) if reset_after else (bias, np.zeros(3 * units))
    else:
        input_bias = recurrent_bias = np.zeros(3 * units)
    h = np.zeros((x.shape[0], units)) if h0 is None else h0

    def split(m):
        return m[..., :units], m[..., units : 2 * units], m[..., 2 * units :]

    k_z, k_r, k_h = split(kernel)
    rk_z, rk_r, rk_h = split(recurrent_kernel)
    b_z, b_r, b_h = split(input_bias)
    rb_z, rb_r, rb_h = split(recurrent_bias)
    outputs = []
    for t in range(x.shape[1]):
        x_t = x[:, t]
        if reset_after:
            z = _sigmoid(x_t @ k_z + b_z + h @ rk_z + rb_z)
            r = _sigmoid(x_t @ k_r + b_r + h @ rk_r + rb_r)
            hh = np.tanh(x_t @ k_h + b_h + r * (h @ rk_h + rb_h))
        else:
            z = _sigmoid(x_t @ k_z + b_z + h @ rk_z)
            r = _sigmoid(x_t @ k_r + b_r + h @ rk_r)
            hh = np.tanh(x_t @ k_h + b_h + (r * h) @ rk_h)
        h = z * h + (1 - z) * hh
        outputs.append(h)
    return np.stack(outputs, 1), [h]


# -- cells ---------------------------------------------------------------------------------------


class _Step(torch.nn.Module):
    """``forward(x, *state) = (y, *new_state)`` of one ``cell.step``, for ``torch.func.functional_call``."""

    def __init__(self, cell, recurrent_mask=None):
        super().__init__()
        self.cell = cell
        self.recurrent_mask = recurrent_mask

    def forward(self, x, *state):
        y, new_state = self.cell.step(x, self.cell.State(*state), self.recurrent_mask)
        return (y, *new_state)


def gradcheck_step(cell, batch: int = 2, recurrent_mask: torch.Tensor | None = None) -> bool:
    """``torch.autograd.gradcheck`` of one float64 reference step w.r.t. input, state and every parameter."""
    gen = torch.Generator().manual_seed(3)
    step = _Step(cell, recurrent_mask)
    names = [f"cell.{n}" for n, _ in cell.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in cell.parameters()]
    x = torch.randn(batch, cell.input_size, dtype=torch.float64, generator=gen, requires_grad=True)
    state = [
        (0.5 * torch.randn(batch, cell.units, dtype=torch.float64, generator=gen)).requires_grad_() for _ in cell.State._fields
    ]
    n_state = len(state)

    def f(x, *rest):
        return torch.func.functional_call(step, dict(zip(names, rest[n_state:])), (x, *rest[:n_state]))

    return torch.autograd.gradcheck(f, (x, *state, *params), eps=1e-6, atol=1e-7)


def rewrite_model_file(directory: Any, name: str, data: bytes | None) -> None:
    """Replace (or with ``None`` remove) one file of a saved model directory and record the change in its
    manifest, as a tool that writes a consistent directory would: what recurra then reads is the content,
    not a checksum mismatch."""
    import hashlib
    import json
    from pathlib import Path

    directory = Path(directory)
    manifest = json.loads((directory / "manifest.json").read_text())
    if data is None:
        (directory / name).unlink()
        manifest["files"].pop(name, None)
    else:
        (directory / name).write_bytes(data)
        manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    (directory / "manifest.json").write_text(json.dumps(manifest))
