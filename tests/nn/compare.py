"""Running a recurra.nn module and a reference side by side on the same input: values and gradients."""

from __future__ import annotations

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

INPUT_KINDS = ("padded", "packed_sorted", "packed_unsorted", "unbatched")
T, B, F = 5, 3, 3  # time steps, batch, features: small enough for every combination in a few seconds
LENGTHS = {"packed_sorted": [5, 4, 2], "packed_unsorted": [3, 5, 1]}

worst: list[float] = [0.0]  # the largest difference any comparison found (reported by test_report)


def make_input(kind: str, batch_first: bool, features: int = F):
    """``(leaf x, the module's input)`` for an input kind; ``x`` is float64 and requires grad."""
    if kind == "unbatched":
        x = torch.randn(T, features, dtype=torch.float64, requires_grad=True)  # (T, F)
        return x, x
    shape = (B, T, features) if batch_first else (T, B, features)
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    if kind == "padded":
        return x, x
    lengths = torch.tensor(LENGTHS[kind])
    return x, pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=kind == "packed_sorted")


def make_states(module, kind: str, given: bool) -> tuple[torch.Tensor, ...] | None:
    """Random initial states in torch.nn's shapes (each requires grad), or None."""
    if not given:
        return None
    layers = module.num_layers * (2 if module.bidirectional else 1)
    sizes = [module.proj_size or module.hidden_size] + ([module.hidden_size] if module.mode == "LSTM" else [])
    batch = () if kind == "unbatched" else (B,)
    return tuple(torch.randn(layers, *batch, s, dtype=torch.float64, requires_grad=True) for s in sizes)


def _flat(out) -> list[torch.Tensor]:
    output, h = out
    output = output.data if isinstance(output, PackedSequence) else output
    return [output, *(h if isinstance(h, tuple) else (h,))]


def run(module, inp, states, leaves: list[torch.Tensor], seed: int = 7):
    """The outputs of ``module(inp, hx)`` and the gradients of a fixed random weighting of them
    with respect to ``leaves`` (inputs, states, then the module's parameters)."""
    hx = None if states is None else (states[0] if len(states) == 1 else states)
    outs = _flat(module(inp, hx))
    g = torch.Generator().manual_seed(seed)
    loss = sum((o * torch.randn(o.shape, generator=g, dtype=o.dtype)).sum() for o in outs)
    grads = torch.autograd.grad(loss, leaves, retain_graph=True)  # the packing of a shared input is reused
    return [o.detach() for o in outs], list(grads)


def assert_same(ours: list[torch.Tensor], theirs: list[torch.Tensor], names: list[str], tol: float = 1e-10):
    assert len(ours) == len(theirs)
    for name, a, b in zip(names, ours, theirs):
        assert a.shape == b.shape, f"{name}: shape {tuple(a.shape)} vs {tuple(b.shape)}"
        diff = float((a - b).detach().abs().max()) if a.numel() else 0.0
        worst[0] = max(worst[0], diff)
        assert diff <= tol, f"{name}: max |difference| {diff:.3g} > {tol}"
