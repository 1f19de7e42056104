"""``CRF``: a linear-chain conditional random field over per-step emission scores.

For one sequence of length ``L`` with emission scores ``e`` (``L x K``, from a network), transition
scores ``A`` (``K x K``: ``A[i, j]`` scores tag ``i`` followed by tag ``j``), ``start`` and ``end``
(``K``), a tag sequence ``y_0 .. y_{L-1}`` scores

    score(y) = start[y_0] + e[0, y_0] + sum_{t=1}^{L-1} (A[y_{t-1}, y_t] + e[t, y_t]) + end[y_{L-1}]

and has probability ``p(y) = exp(score(y)) / Z``, ``Z = sum_y' exp(score(y'))`` over all ``K^L`` tag sequences.

- ``log_likelihood`` = ``score(y) - log Z``; ``log Z`` by the forward algorithm, in log space:

      alpha_0[j] = start[j] + e[0, j]
      alpha_t[j] = logsumexp_i(alpha_{t-1}[i] + A[i, j]) + e[t, j]        (t = 1 .. L-1)
      log Z      = logsumexp_j(alpha_{L-1}[j] + end[j])

- ``decode`` = ``argmax_y score(y)`` by Viterbi: the same recursion with ``max`` for ``logsumexp``, keeping
  ``back_t[j] = argmax_i(delta_{t-1}[i] + A[i, j])`` and following it back from ``argmax_j(delta_{L-1}[j] + end[j])``.

Batches are right-padded: ``mask`` ``(B, T)`` is True on the ``L_b`` real steps of row ``b`` (its first
step must be real). At a padded step ``alpha`` (``delta``) is carried unchanged and the back-pointer is
the identity, so every row gets exactly what it gets alone.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import InputValueError, ShapeError


class CRF(nn.Module):
    """A linear-chain CRF over ``num_tags`` tags: ``transitions`` ``(K, K)``, ``start`` ``(K,)``, ``end`` ``(K,)``."""

    def __init__(self, num_tags: int):
        super().__init__()
        if isinstance(num_tags, bool) or not isinstance(num_tags, int) or num_tags < 1:
            raise InputValueError(f"expected num_tags to be an integer >= 1, got {num_tags!r}")
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags).uniform_(-0.1, 0.1))  # A: (K, K)
        self.start = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))  # (K,)
        self.end = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))  # (K,)

    def extra_repr(self) -> str:
        return f"num_tags={self.num_tags}"

    def _check(self, emissions: torch.Tensor, mask: torch.Tensor | None, tags: torch.Tensor | None = None) -> torch.Tensor:
        if emissions.dim() != 3 or emissions.shape[-1] != self.num_tags:
            raise ShapeError(f"expected emissions of shape (B, T, {self.num_tags}), got {tuple(emissions.shape)}")
        B, T, _ = emissions.shape
        if T == 0:
            raise ShapeError("expected emissions with at least one step, got T = 0")
        if tags is not None and tuple(tags.shape) != (B, T):
            raise ShapeError(f"expected tags of shape {(B, T)}, got {tuple(tags.shape)}")
        if mask is None:
            return torch.ones(B, T, dtype=torch.bool, device=emissions.device)
        if tuple(mask.shape) != (B, T):
            raise ShapeError(f"expected mask of shape {(B, T)}, got {tuple(mask.shape)}")
        mask = mask.bool()
        if not bool(mask[:, 0].all()):
            row = int((~mask[:, 0]).nonzero()[0, 0])
            found = f"got a padded first step in row {row}"
            raise InputValueError(f"expected every row's first step to be real (right padding), {found}")
        return mask

    def score(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``score(y)`` of each row's tags ``(B,)`` (module docstring)."""
        return self._score(emissions, tags, self._check(emissions, mask, tags))

    def _score(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        tags = tags.long().masked_fill(~mask, 0)  # (B, T): padded steps point at tag 0, then count for nothing
        m = mask.to(emissions.dtype)  # (B, T)
        emitted = emissions.gather(2, tags.unsqueeze(-1)).squeeze(-1)  # e[t, y_t]: (B, T)
        moved = self.transitions[tags[:, :-1], tags[:, 1:]]  # A[y_{t-1}, y_t]: (B, T - 1)
        last = tags.gather(1, (mask.sum(1) - 1).unsqueeze(1)).squeeze(1)  # y_{L-1}: (B,)
        return self.start[tags[:, 0]] + (emitted * m).sum(1) + (moved * m[:, 1:]).sum(1) + self.end[last]

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``log Z`` of each row ``(B,)`` by the forward algorithm."""
        return self._log_partition(emissions, self._check(emissions, mask))

    def _log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        steps = emissions.unbind(1)  # T x (B, K)
        alpha = self.start + steps[0]  # (B, K)
        A = self.transitions.unsqueeze(0)  # (1, K, K)
        for t in range(1, len(steps)):
            nxt = torch.logsumexp(alpha.unsqueeze(2) + A, dim=1) + steps[t]  # (B, K): over the previous tag i
            alpha = torch.where(mask[:, t : t + 1], nxt, alpha)  # padded steps carry alpha
        return torch.logsumexp(alpha + self.end, dim=1)  # (B,)

    def log_likelihood(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``log p(tags | emissions)`` of each row ``(B,)``: ``score(y) - log Z``."""
        mask = self._check(emissions, mask, tags)
        return self._score(emissions, tags, mask) - self._log_partition(emissions, mask)

    def loss(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """The mean negative log-likelihood over the rows (a scalar)."""
        return -self.log_likelihood(emissions, tags, mask).mean()

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, mask: torch.Tensor | None = None) -> list[list[int]]:
        """The most probable tags of each row (Viterbi), each list as long as the row's real steps."""
        mask = self._check(emissions, mask)
        steps = emissions.unbind(1)  # T x (B, K)
        delta = self.start + steps[0]  # (B, K)
        A = self.transitions.unsqueeze(0)  # (1, K, K)
        identity = torch.arange(self.num_tags, device=emissions.device).expand_as(delta)  # (B, K)
        back = []
        for t in range(1, len(steps)):
            best, arg = (delta.unsqueeze(2) + A).max(dim=1)  # (B, K): best previous tag i for each j
            real = mask[:, t : t + 1]  # (B, 1)
            delta = torch.where(real, best + steps[t], delta)
            back.append(torch.where(real, arg, identity))  # padded steps: the identity, so the tag passes through
        tag = (delta + self.end).argmax(1)  # (B,): the last real step's tag
        path = [tag]
        for pointers in reversed(back):
            tag = pointers.gather(1, tag.unsqueeze(1)).squeeze(1)  # (B,)
            path.append(tag)
        tags = torch.stack(path[::-1], 1).tolist()  # (B, T)
        lengths = mask.sum(1).tolist()
        return [row[:n] for row, n in zip(tags, lengths)]


__all__ = ["CRF"]
