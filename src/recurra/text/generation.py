"""Choosing the next token: temperature, top-k and nucleus (top-p) sampling, greedy choice.

>>> import torch
>>> logits = torch.tensor([2.0, 1.0, 0.0, -1.0])
>>> filter_logits(logits, top_k=2).isinf().tolist()
[False, False, True, True]
>>> pick(logits, strategy="greedy")
0
"""

from __future__ import annotations

import torch

from ..errors import ConfigError

STRATEGIES = ("sample", "greedy", "beam")


def check_sampling(temperature: float, top_k: int | None, top_p: float | None, strategy: str, beam_width: int) -> None:
    if strategy not in STRATEGIES:
        raise ConfigError(f"expected strategy in {STRATEGIES}, got {strategy!r}")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ConfigError(f"expected temperature > 0, got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ConfigError(f"expected top_k to be a positive integer or None, got {top_k!r}")
    if top_p is not None and (isinstance(top_p, bool) or not isinstance(top_p, (int, float)) or not 0 < top_p <= 1):
        raise ConfigError(f"expected top_p in (0, 1] or None, got {top_p!r}")
    if isinstance(beam_width, bool) or not isinstance(beam_width, int) or beam_width < 1:
        raise ConfigError(f"expected beam_width to be a positive integer, got {beam_width!r}")


def filter_logits(logits: torch.Tensor, top_k: int | None = None, top_p: float | None = None) -> torch.Tensor:
    """``(V,)`` logits with everything outside the top ``k`` and outside the nucleus of mass ``p`` set to -inf."""
    if top_k is None and (top_p is None or top_p >= 1.0):
        return logits
    out = logits.clone()
    if top_k is not None and top_k < out.numel():
        kth = torch.topk(out, top_k).values[-1]
        out[out < kth] = float("-inf")
    if top_p is not None and top_p < 1.0:
        probs = torch.softmax(out, -1)
        sorted_p, order = torch.sort(probs, descending=True)
        before = torch.cumsum(sorted_p, 0) - sorted_p  # mass of the tokens ranked above each one
        drop = order[before >= top_p]  # the smallest set reaching p is kept (always the first token)
        out[drop] = float("-inf")
    return out


def pick(
    logits: torch.Tensor,
    *,
    strategy: str = "sample",
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> int:
    """The next token id from ``(V,)`` logits: argmax (``greedy``) or a draw from the filtered, tempered softmax."""
    if strategy == "greedy":
        return int(torch.argmax(logits))
    filtered = filter_logits(logits.double() / temperature, top_k, top_p)
    return draw(torch.softmax(filtered, -1), generator)


def draw(probs: torch.Tensor, generator: torch.Generator | None = None) -> int:
    """One index drawn from the distribution ``probs (V,)`` by inverting its cumulative sum at a uniform
    ``u``: the first ``i`` with ``P(≤ i) > u``, so a token of probability 0 is never drawn.

    One random number per draw (``torch.multinomial`` draws one per token).

    >>> draw(torch.tensor([0.0, 1.0, 0.0]))
    1
    """
    cdf = probs.cumsum(0)  # (V,)
    u = torch.rand(1, dtype=cdf.dtype, generator=generator) * cdf[-1]
    i = int(torch.searchsorted(cdf, u, right=True))
    return i if i < probs.numel() else int(probs.nonzero()[-1])  # u rounded up to the total: the last possible token
