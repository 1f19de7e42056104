"""Training throughput of ``Seq2Seq.fit`` against a hand-written PyTorch encoder–decoder of the same size.

Both train on the same 2,000 Bible verse pairs (Spanish -> English, word level), in the same batches
(``pair_loader``: 64 pairs of similar lengths), with Adam and gradient clipping at norm 1, denormals
flushed to zero in both:

- recurra: ``Seq2Seq(cell="gru", units=256, embedding=128, attention="general", bidirectional_encoder=True)``,
  one epoch of ``fit`` (tokenising, building the vocabularies and the network included);
- PyTorch: ``nn.Embedding`` + ``nn.GRU(bidirectional=True)`` over packed sources (128 units each way) whose
  final states, concatenated, start an ``nn.GRU(256)`` decoder; Luong's general attention
  (``h · W h̄``, masked softmax, ``tanh(W_c [c; h])``) and ``nn.Linear`` to the vocabulary; the loop
  written out by hand.

The two alternate over ``--rounds`` rounds; the medians of target tokens per second are compared
(goal: recurra at least 0.9 of PyTorch). Run: ``python benchmarks/seq2seq_throughput.py --threads 2``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn
from torch.nn import functional as F

from recurra.text.parallel import load_bible_pairs, split_by_books
from recurra.text.seq2seq import Seq2Seq
from recurra.text.seq2seq.batches import pair_loader
from recurra.train.numerics import flush_denormals


class TorchSeq2Seq(nn.Module):
    """The hand-written encoder–decoder (module docstring)."""

    def __init__(self, vs: int, vt: int, units: int = 256, embedding: int = 128):
        super().__init__()
        self.src_embed = nn.Embedding(vs, embedding, padding_idx=0)
        self.tgt_embed = nn.Embedding(vt, embedding)
        self.encoder = nn.GRU(embedding, units // 2, batch_first=True, bidirectional=True)
        self.decoder = nn.GRU(embedding, units, batch_first=True)
        self.w = nn.Linear(units, units, bias=False)
        self.combine = nn.Linear(2 * units, units)
        self.out = nn.Linear(units, vt)

    def forward(self, source: torch.Tensor, target_in: torch.Tensor) -> torch.Tensor:
        mask = source != 0  # (B, S)
        lengths = mask.sum(1)
        source, mask = source[:, : int(lengths.max())], mask[:, : int(lengths.max())]
        packed = nn.utils.rnn.pack_padded_sequence(self.src_embed(source), lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, h = self.encoder(packed)
        memory, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=source.shape[1])  # (B, S, H)
        h0 = torch.cat([h[0], h[1]], -1)[None]  # (1, B, H)
        dec, _ = self.decoder(self.tgt_embed(target_in), h0)  # (B, T, H)
        s = dec @ self.w(memory).transpose(1, 2)  # (B, T, S)
        a = torch.softmax(s.masked_fill(~mask[:, None, :], -1e9), -1)
        context = a @ memory  # (B, T, H)
        return self.out(torch.tanh(self.combine(torch.cat([context, dec], -1))))


def torch_epoch(model: nn.Module, batches: list) -> float:
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    t = time.perf_counter()
    with flush_denormals():
        for (source, target_in), target_out in batches:
            logits = model(source, target_in)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target_out.reshape(-1), ignore_index=0)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
    return time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pairs", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    train, _, _ = split_by_books(load_bible_pairs())
    sub = train.sample(args.pairs, random_state=0)
    src, tgt = sub["es"].tolist(), sub["en"].tolist()
    settings = dict(cell="gru", units=256, embedding=128, attention="general", level="word", epochs=1, batch_size=64,
                    validation=0.0, dropout=0.0, max_source_length=400, max_target_length=400)  # fmt: skip
    probe = Seq2Seq(**settings).fit(src[:64], tgt[:64])  # builds the compiled kernels once
    probe = Seq2Seq(**settings).fit(src, tgt)
    rows = list(zip(probe._ids(src, "source"), probe._ids(tgt, "target")))
    tokens = sum(len(y) + 1 for _, y in rows)
    torch.manual_seed(0)
    batches = list(pair_loader(rows, 64, shuffle=True))
    ours, theirs = [], []
    for r in range(args.rounds):
        t = time.perf_counter()
        Seq2Seq(**settings, seed=r).fit(src, tgt)
        ours.append(tokens / (time.perf_counter() - t))
        torch.manual_seed(r)
        model = TorchSeq2Seq(len(probe.source_vocab_), len(probe.target_vocab_))
        theirs.append(tokens / torch_epoch(model, batches))
        print(f"round {r + 1}: recurra {ours[-1]:,.0f} target tokens/s, PyTorch {theirs[-1]:,.0f}", flush=True)
    a, b = statistics.median(ours), statistics.median(theirs)
    print(
        f"median: recurra Seq2Seq.fit {a:,.0f} tokens/s, hand-written PyTorch {b:,.0f} tokens/s; ratio {a / b:.2f} (goal >= 0.90)"
    )


if __name__ == "__main__":
    main()
