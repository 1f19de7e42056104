"""Batches of sentence pairs for teacher forcing, grouped by length so little time is spent on padding.

A pair of id rows ``x`` (source) and ``y`` (target) becomes ``((x, [<start>] + y), y + [<end>])``:
the decoder reads the target shifted right and predicts it, padded with 0 (ignored by the loss).
``LengthBuckets`` shuffles the pairs (from torch's generator, which ``fit(seed=...)`` seeds), cuts
the order into pools of 50 batches, sorts each pool by length and shuffles the batches: each batch
holds pairs of similar lengths and is padded only to its longest.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import torch
from torch.utils.data import DataLoader, Sampler

from ..vocab import Vocabulary

Pair = tuple[list[int], list[int]]
POOL = 50  # batches per sorted pool


class LengthBuckets(Sampler[list[int]]):
    """Batches of indices of pairs of similar lengths (module docstring)."""

    def __init__(self, lengths: Sequence[int], batch_size: int, shuffle: bool):
        self.lengths = list(lengths)
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)

    def __iter__(self) -> Iterator[list[int]]:
        n, bs = len(self.lengths), self.batch_size
        order = torch.randperm(n).tolist() if self.shuffle else list(range(n))
        batches = []
        for a in range(0, n, bs * POOL):
            pool = sorted(order[a : a + bs * POOL], key=lambda i: self.lengths[i])
            batches += [pool[i : i + bs] for i in range(0, len(pool), bs)]
        if self.shuffle:
            batches = [batches[i] for i in torch.randperm(len(batches)).tolist()]
        return iter(batches)

    def __len__(self) -> int:
        return (len(self.lengths) + self.batch_size - 1) // self.batch_size


def pad(rows: Sequence[Sequence[int]]) -> torch.Tensor:
    """Id rows right-padded with 0 ``(N, longest)``."""
    out = torch.zeros(len(rows), max(max(len(r) for r in rows), 1), dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.as_tensor(r, dtype=torch.long)
    return out


def teacher_forcing(pairs: Sequence[Pair]) -> tuple[tuple[torch.Tensor, torch.Tensor], torch.Tensor]:
    """``((source (B, S), target_in (B, T)), target_out (B, T))`` for a batch of pairs."""
    start, end = Vocabulary.start_id, Vocabulary.end_id
    source = pad([x for x, _ in pairs])
    target_in = pad([[start, *y] for _, y in pairs])
    target_out = pad([[*y, end] for _, y in pairs])
    return (source, target_in), target_out


def pair_loader(pairs: Sequence[Pair], batch_size: int, shuffle: bool) -> DataLoader:
    """A DataLoader of teacher-forcing batches of pairs of similar lengths."""
    lengths = [len(x) + len(y) for x, y in pairs]
    return DataLoader(list(pairs), batch_sampler=LengthBuckets(lengths, batch_size, shuffle), collate_fn=teacher_forcing)
