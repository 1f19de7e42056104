"""Does the functional API cost anything per step? One network written three ways, trained with ``fit``.

The network: ``Embedding(2000, 64, mask_zero=True) -> LSTM(128, return_sequences=True) -> LSTM(128) ->
Dense(1, sigmoid)`` over padded token ids ``(B, T=80)``, Adam, binary cross-entropy, batches of 64.

- ``sequential``: ``Sequential([...])``;
- ``functional``: ``Input -> layer(tensor) ... -> Model(inputs, outputs)``;
- ``subclass``: a ``Model`` subclass whose ``call`` calls the same layers.

Each is warmed up with one untimed epoch; then the three are interleaved over ``--rounds`` rounds (the
one that goes first rotates each round) and the median samples/second of each is printed with the
ratios ``functional / sequential`` and ``functional / subclass`` (goal: both >= 0.95).

    python benchmarks/functional_overhead.py                  # 7 rounds, 2048 samples
    python benchmarks/functional_overhead.py --rounds 11 --threads 2 --json functional.json
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from typing import Callable

import numpy as np
import torch

VOCAB, T, E, H, BATCH = 2000, 80, 64, 128, 64
GOAL = 0.95


def make_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Token ids ``(n, T)`` right-padded with 0 to random lengths, and binary labels ``(n, 1)``."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, VOCAB, size=(n, T))
    lengths = rng.integers(T // 4, T + 1, size=n)
    ids[np.arange(T)[None, :] >= lengths[:, None]] = 0
    return ids, rng.integers(0, 2, size=(n, 1)).astype(np.float32)


def build(kind: str):
    import recurra
    from recurra import layers

    torch.manual_seed(0)
    parts = [layers.Embedding(VOCAB, E, mask_zero=True), layers.LSTM(H, return_sequences=True), layers.LSTM(H),
             layers.Dense(1, activation="sigmoid")]  # fmt: skip
    if kind == "sequential":
        model = recurra.Sequential([layers.Input((T,), dtype="int64"), *parts])
    elif kind == "functional":
        inputs = layers.Input((T,), dtype="int64")
        x = inputs
        for layer in parts:
            x = layer(x)
        model = recurra.Model(inputs, x)
    else:

        class Classifier(recurra.Model):
            def __init__(self):
                super().__init__()
                self.embed, self.lstm1, self.lstm2, self.head = parts

            def call(self, ids):
                mask = self.embed.compute_mask(ids, None)
                seq = self.lstm1(self.embed(ids), mask=mask)
                return self.head(self.lstm2(seq, mask=mask))

        model = Classifier()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def setup(kind: str, x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    model = build(kind)

    def epoch() -> None:
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=True)

    return epoch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--samples", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x, y = make_data(args.samples, seed=0)
    kinds = ["sequential", "functional", "subclass"]
    epochs = {k: setup(k, x, y) for k in kinds}
    for k in kinds:
        epochs[k]()  # warm-up: kernels, allocator
    rates: dict[str, list[float]] = {k: [] for k in kinds}
    for r in range(args.rounds):
        order = kinds[r % 3 :] + kinds[: r % 3]
        for k in order:
            gc.collect()
            start = time.perf_counter()
            epochs[k]()
            rates[k].append(args.samples / (time.perf_counter() - start))
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(f"{k} {rates[k][-1]:.0f}/s" for k in kinds), flush=True)
    median = {k: statistics.median(v) for k, v in rates.items()}
    ratios = {
        "functional / sequential": median["functional"] / median["sequential"],
        "functional / subclass": median["functional"] / median["subclass"],
    }
    print(f"\nmedian samples/s over {args.rounds} rounds ({args.samples} samples, {args.threads} threads):")
    for k in kinds:
        print(f"  {k:11s} {median[k]:8.0f}")
    for name, value in ratios.items():
        verdict = "goal met" if value >= GOAL else f"below the goal {GOAL}"
        print(f"  {name}: {value:.3f} ({verdict})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"median_samples_per_s": median, "ratios": ratios, "rounds": args.rounds, "samples": args.samples,
                       "threads": args.threads}, f, indent=2)  # fmt: skip


if __name__ == "__main__":
    main()
