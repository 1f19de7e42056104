"""Speed of the elementwise recurrences (IndRNN, MinGRU) against their own input projection.

An IndRNN or a MinGRU spends its arithmetic in one matrix product, the input projection of all
steps (``x W^T + b``); the recurrence itself is elementwise. A good kernel therefore costs little
more than that projection. For each layer, forward + backward (``y.backward(g)`` with a fixed
``g``), float32, batch-first ``(B, T, F)`` inputs that need no gradient (a first layer):

IndRNN(H), relu, ``T = --steps`` (default 1000):

- ``indrnn``: recurra's ``IndRNN(H, return_sequences=True)`` (the compiled kernel on CPU);
- ``projection``: ``F.linear(x, W, b)`` alone, ``W (H, F)`` (goal: ``indrnn / projection <= 1.25``);
- ``eager loop``: the same projection, then ``h = relu(k_t + u * h)`` in a Python loop over the
  steps (``unbind`` once, ``stack``), autograd through it;
- ``nn.RNN``: ``torch.nn.RNN(F, H, nonlinearity="relu")``, a full ``H x H`` recurrence (oneDNN).

MinGRU(H), ``T = --steps`` and ``T = --long-steps`` (default 10000):

- ``mingru``: recurra's ``MinGRU(H, return_sequences=True, implementation="fused")`` (compiled);
- ``projection``: ``F.linear(x, W, b)`` alone, ``W (2H, F)`` (goal: ``mingru / projection <= 1.5``);
- ``mingru scan``: the layer with ``implementation="scan"`` (the log-space parallel scan), timed in
  rounds of its own against the projection (its gigabytes of temporaries would disturb the others).

Each contender runs once untimed, then all are interleaved over ``--rounds`` rounds (the first one
rotates); the table gives the median, min and max milliseconds and each ratio of medians, with the
median of the per-round ratios in brackets (it resists load from other processes).

    python benchmarks/family.py                              # B=64, H=F=256, T=1000 and 10000, 5 rounds
    python benchmarks/family.py --rounds 3 --long-steps 0    # skip the T=10000 MinGRU part
    python benchmarks/family.py --long-batch 16 --no-scan    # a smaller long run, no scan
    python benchmarks/family.py --json family.json
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import sys
import time
from typing import Callable

import torch
import torch.nn.functional as F

GOAL_INDRNN, GOAL_MINGRU = 1.25, 1.5


def timed_rounds(contenders: dict[str, Callable[[], None]], rounds: int) -> dict[str, list[float]]:
    """Seconds per call of each contender: one untimed warm-up, then ``rounds`` interleaved rounds."""
    for fn in contenders.values():
        fn()
    names = list(contenders)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        for n in names[r % len(names) :] + names[: r % len(names)]:
            gc.collect()
            start = time.perf_counter()
            contenders[n]()
            times[n].append(time.perf_counter() - start)
    return times


def fwd_bwd(run: Callable[[], torch.Tensor], grad: torch.Tensor, params: list[torch.Tensor]) -> Callable[[], None]:
    """A call that runs ``run()`` forward and backward with ``grad`` (gradients reset before)."""

    def call() -> None:
        for p in params:
            p.grad = None
        run().backward(grad)

    return call


def indrnn_contenders(B: int, T: int, Fn: int, H: int, seed: int) -> dict[str, Callable[[], None]]:
    from recurra import IndRNN

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, T, Fn, generator=g)
    grad = torch.randn(B, T, H, generator=g)
    layer = IndRNN(H, return_sequences=True, input_shape=(None, Fn))
    W = layer.cell.weight_ih.detach().clone().requires_grad_()
    b = torch.zeros(H, requires_grad=True)
    u = layer.cell.weight_hh.detach().clone().requires_grad_()

    def eager_loop() -> torch.Tensor:
        k = F.linear(x, W, b)  # (B, T, H)
        h, ys = torch.zeros(B, H), []
        for k_t in k.unbind(1):
            h = torch.relu(k_t + u * h)
            ys.append(h)
        return torch.stack(ys, 1)

    rnn = torch.nn.RNN(Fn, H, nonlinearity="relu", batch_first=True)
    return {
        "indrnn": fwd_bwd(lambda: layer(x), grad, list(layer.parameters())),
        "projection": fwd_bwd(lambda: F.linear(x, W, b), grad, [W, b]),
        "eager loop": fwd_bwd(eager_loop, grad, [W, b, u]),
        "nn.RNN": fwd_bwd(lambda: rnn(x)[0], grad, list(rnn.parameters())),
    }


def mingru_contenders(B: int, T: int, Fn: int, H: int, seed: int, implementation: str) -> dict[str, Callable[[], None]]:
    """MinGRU with ``implementation`` ("fused": the compiled loop, or "scan") and its projection."""
    from recurra import MinGRU

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, T, Fn, generator=g)
    grad = torch.randn(B, T, H, generator=g)
    grad_proj = torch.randn(B, T, 2 * H, generator=g)
    layer = MinGRU(H, return_sequences=True, implementation=implementation, input_shape=(None, Fn))
    W = layer.cell.weight_ih.detach().clone().requires_grad_()
    b = torch.zeros(2 * H, requires_grad=True)
    name = "mingru" if implementation == "fused" else "mingru scan"
    return {
        name: fwd_bwd(lambda: layer(x), grad, list(layer.parameters())),
        "projection": fwd_bwd(lambda: F.linear(x, W, b), grad_proj, [W, b]),
    }


def summarize(times: dict[str, list[float]], base: str) -> dict[str, dict]:
    out = {}
    for name, ts in times.items():
        ratios = [t / tb for t, tb in zip(ts, times[base])]
        out[name] = {
            "median_ms": 1000 * statistics.median(ts),
            "min_ms": 1000 * min(ts),
            "max_ms": 1000 * max(ts),
            "ratio": statistics.median(ts) / statistics.median(times[base]),
            "ratio_per_round": statistics.median(ratios),
            "times_s": ts,
        }
    return out


def print_table(title: str, summary: dict[str, dict], base: str, goal: tuple[str, float] | None) -> None:
    print(f"\n{title}")
    print(f"{'contender':<14}{'median ms':>11}{'min':>9}{'max':>9}   ratio to {base}")
    for name, s in summary.items():
        ratio = f"{s['ratio']:.3f} ({s['ratio_per_round']:.3f})"
        print(f"{name:<14}{s['median_ms']:>11.1f}{s['min_ms']:>9.1f}{s['max_ms']:>9.1f}   {ratio}")
    if goal is not None:
        name, value = goal
        met = summary[name]["ratio"] <= value
        print(f"goal {name}/{base} <= {value}: {'met' if met else 'NOT met'} ({summary[name]['ratio']:.3f})")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--units", type=int, default=256, help="H")
    parser.add_argument("--features", type=int, default=256, help="F, the input size")
    parser.add_argument("--steps", type=int, default=1000, help="T for IndRNN and the first MinGRU run")
    parser.add_argument("--long-steps", type=int, default=10000, help="T for the second MinGRU run (0: skip)")
    parser.add_argument("--long-batch", type=int, default=None, help="B for the long MinGRU run (default: --batch)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    parser.add_argument("--only", choices=["indrnn", "mingru"], default=None)
    parser.add_argument("--no-scan", action="store_true", help="skip the log-space scan (slow on CPU, memory-hungry)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write every measurement to this file")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    from recurra.cells.scan import kernel_available

    B, H, Fn, T = args.batch, args.units, args.features, args.steps
    result: dict = {
        "config": vars(args),
        "machine": {
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "processor": platform.processor() or platform.machine(),
            "compiled_kernel": kernel_available(),
        },
    }
    print(f"B={B} F={Fn} H={H} float32, {args.rounds} rounds, {torch.get_num_threads()} threads, forward + backward")

    if args.only in (None, "indrnn"):
        times = timed_rounds(indrnn_contenders(B, T, Fn, H, args.seed), args.rounds)
        result["indrnn"] = summarize(times, "projection")
        print_table(f"IndRNN, T={T}", result["indrnn"], "projection", ("indrnn", GOAL_INDRNN))
        gc.collect()

    if args.only in (None, "mingru"):
        for key, steps, batch in (("mingru", T, B), ("mingru_long", args.long_steps, args.long_batch or B)):
            if steps <= 0:
                continue
            times = timed_rounds(mingru_contenders(batch, steps, Fn, H, args.seed, "fused"), args.rounds)
            result[key] = summarize(times, "projection")
            print_table(f"MinGRU, B={batch} T={steps}", result[key], "projection", ("mingru", GOAL_MINGRU))
            gc.collect()
            if not args.no_scan:  # apart: its gigabytes of temporaries would disturb the loop's timings
                times = timed_rounds(mingru_contenders(batch, steps, Fn, H, args.seed, "scan"), args.rounds)
                result[key + "_scan"] = summarize(times, "projection")
                print_table(f"MinGRU scan, B={batch} T={steps}", result[key + "_scan"], "projection", None)
                gc.collect()

    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    main()
