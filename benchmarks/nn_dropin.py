"""recurra.nn.GRU / LSTM against torch.nn.GRU / LSTM on the CPU: forward + backward, same weights.

Each pair gets the same state dict and the same input; one untimed call each, then ``--rounds``
rounds in which the two run alternately (interleaved, so that load on the machine falls on both).
Prints median milliseconds and the ratio torch / recurra (above 1: recurra faster).

    python benchmarks/nn_dropin.py                  # one thread, 7 rounds
    python benchmarks/nn_dropin.py --threads 2 --rounds 11
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.nn.utils.rnn import pack_padded_sequence

from recurra import nn as rnn

# (module, T, B, F, H, num_layers, bidirectional, packed)
CASES = [
    ("GRU", 200, 32, 2, 32, 1, False, False),
    ("GRU", 200, 32, 64, 64, 2, False, False),
    ("GRU", 100, 64, 256, 256, 1, False, False),
    ("GRU", 200, 32, 64, 64, 1, True, True),
    ("LSTM", 200, 32, 64, 64, 2, False, False),
    ("LSTM", 35, 20, 200, 200, 2, False, False),  # word_language_model's default sizes
]


def step(module: torch.nn.Module, x, g: torch.Tensor) -> None:
    out, _ = module(x)
    (out.data if hasattr(out, "batch_sizes") else out).backward(g)


def measure(case, rounds: int) -> tuple[float, float]:
    name, T, B, F, H, layers, bidirectional, packed = case
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(F, H, layers, bidirectional=bidirectional)
    ours = getattr(rnn, name)(F, H, layers, bidirectional=bidirectional)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(T, B, F, requires_grad=True)  # (T, B, F)
    if packed:
        lengths = torch.randint(T // 4, T + 1, (B,))
        lengths[0] = T
        x = pack_padded_sequence(x.detach(), lengths, enforce_sorted=False)
        x = x._replace(data=x.data.requires_grad_())  # a leaf: every round backpropagates to it alone
    out, _ = ours(x)
    g = torch.randn_like(out.data if packed else out)
    times: dict[str, list[float]] = {"torch": [], "recurra": []}
    for module in (theirs, ours):
        step(module, x, g)  # untimed: builds, warms caches
    for _ in range(rounds):
        for label, module in (("torch", theirs), ("recurra", ours)):
            start = time.perf_counter()
            step(module, x, g)
            times[label].append(time.perf_counter() - start)
    return statistics.median(times["torch"]) * 1e3, statistics.median(times["recurra"]) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), float32, forward + backward, median of {args.rounds}")
    head = f"{'module':<6} {'T':>4} {'B':>3} {'F':>4} {'H':>4} {'L':>2} {'bi':>3} {'packed':>6}"
    print(f"{head} {'torch ms':>9} {'recurra ms':>10} {'ratio':>6}")
    for case in CASES:
        theirs, ours = measure(case, args.rounds)
        name, T, B, F, H, layers, bidirectional, packed = case
        bi, pk = ("yes" if flag else "no" for flag in (bidirectional, packed))
        row = f"{name:<6} {T:>4} {B:>3} {F:>4} {H:>4} {layers:>2} {bi:>3} {pk:>6}"
        print(f"{row} {theirs:>9.1f} {ours:>10.1f} {theirs / ours:>6.2f}")


if __name__ == "__main__":
    main()
