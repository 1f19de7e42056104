"""What ``torch.compile`` costs and gives on recurra's layers: compile time, and a compiled training step
against the same step in eager mode.

The step: ``x (B=32, T=100, F=16) -> layer(64, return_sequences=True) -> Dense(1)`` on every step, mean
squared error, ``backward``, an SGD update (the update eager in both). For each layer (``GRU``, ``LSTM``,
``IndRNN``, ``MinGRU``) the model is compiled with ``fullgraph=True`` (a graph break would fail) and the
first compiled step is timed (the compile time); then eager and compiled steps are interleaved over
``--rounds`` rounds (which goes first alternates) and the medians are printed with
``compiled / eager`` (below 1: the compiled step is faster). The losses of the two are checked equal.

    python benchmarks/compile_step.py
    python benchmarks/compile_step.py --rounds 9 --steps 20 --threads 2 --json compile.json
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

import torch

B, T, F, H = 32, 100, 16, 64


def build(name: str) -> torch.nn.Module:
    from recurra import layers

    torch.manual_seed(0)
    recurrent = getattr(layers, name)(H, return_sequences=True)
    return torch.nn.Sequential(recurrent, layers.Dense(1))


def step(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    loss = (model(x) - y).square().mean()
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= 0.01 * p.grad
            p.grad = None
    return loss.item()


def timed(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step(model, x, y)
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", nargs="+", default=["GRU", "LSTM", "IndRNN", "MinGRU"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10, help="training steps per timing")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(B, T, F, generator=g), torch.randn(B, T, 1, generator=g)
    results = {}
    print(f"B={B} T={T} F={F} H={H}, {args.threads} thread(s), {args.rounds} rounds of {args.steps} steps")
    print(f"{'layer':<8} {'compile s':>10} {'eager ms':>9} {'compiled ms':>12} {'compiled/eager':>15} {'loss diff':>10}")
    for name in args.layers:
        eager = build(name)
        eager(x)  # build the weights
        model = copy.deepcopy(eager)
        compiled = torch.compile(model, fullgraph=True)
        start = time.perf_counter()
        first = step(compiled, x, y)
        compile_s = time.perf_counter() - start
        diff = abs(first - step(eager, x, y))
        times: dict[str, list[float]] = {"eager": [], "compiled": []}
        for r in range(args.rounds):
            order = [("eager", eager), ("compiled", compiled)]
            for kind, m in order if r % 2 == 0 else order[::-1]:
                times[kind].append(timed(m, x, y, args.steps))
        e, c = statistics.median(times["eager"]), statistics.median(times["compiled"])
        results[name] = {"compile_s": compile_s, "eager_ms": e * 1e3, "compiled_ms": c * 1e3, "ratio": c / e, "loss_diff": diff}
        print(f"{name:<8} {compile_s:>10.1f} {e * 1e3:>9.1f} {c * 1e3:>12.1f} {c / e:>15.2f} {diff:>10.1e}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
