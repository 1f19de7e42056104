"""Speed of recurra's LSTM on the CPU (its compiled loop) against torch's own LSTM, with the GEMM peak.

Forward + backward of one LSTM layer (``y.backward(g)`` with a fixed ``g``, ``return_sequences``),
float32, batch-first ``(B, T, F)`` inputs that need no gradient (a first layer), the same weights in
every contender:

- ``recurra``: ``recurra.LSTM(H, return_sequences=True)``, the kernel it chooses (on the CPU: the
  compiled loop of ``recurra/cells/lstm_kernel.py`` up to ``COMPILED_MAX_UNITS`` units, else ``torch.lstm``);
- ``torch.nn.LSTM``: the same weights through ``torch.nn.LSTM(F, H, batch_first=True)`` (oneDNN on the CPU);
- ``compiled loop``: ``lstm_kernel.lstm_sequence`` called directly, at every width (where the layer
  chooses torch's, this shows by how much the loop loses: the crossover);
- ``keras`` (``--keras``): ``keras.layers.LSTM`` with the torch backend (Keras 3), the same weights.

The table gives median milliseconds, ``torch.nn.LSTM / contender`` (above 1: faster than torch's) and
the fraction of the GEMM peak each reaches: the layer's matrix-product arithmetic, ``2·B·T·4H·(2F + 3H)``
floating-point operations (forward: the input projection and ``U h`` per step; backward: ``∂z U`` per
step, ``∂U`` and ``∂W_ih``), divided by its time and by the rate of one large float32 product
(``--peak-size`` cubed, the best of 10 before and of 10 after the sizes) measured in the same run with the
same threads. Contenders
interleaved over ``--rounds`` rounds after one untimed call, for each thread count in ``--threads``.

    python benchmarks/lstm.py                                  # 1 and 2 threads, 5 rounds
    python benchmarks/lstm.py --rounds 3 --steps 50 --threads 1     # a short run
    python benchmarks/lstm.py --json benchmarks/results/lstm.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from typing import Callable

os.environ.setdefault("KERAS_BACKEND", "torch")

import torch  # noqa: E402
from family import fwd_bwd, summarize, timed_rounds  # noqa: E402

SIZES = [(32, 200, 16, 64), (64, 100, 256, 256)]  # (B, T, F, H): the goals' sizes
GOALS = {(32, 200, 16, 64): 1.5, (64, 100, 256, 256): 1.2}  # torch.nn.LSTM / recurra, forward + backward
SWEEP_UNITS = (16, 32, 64, 128, 256, 512)  # at B = 32, F = 16 and --steps steps
BASE = "torch.nn.LSTM"


def gemm_peak(size: int) -> float:
    """GFLOP/s of the best of 10 float32 products ``(size, size) @ (size, size)`` on the current threads."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(10):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def lstm_flops(B: int, T: int, F: int, H: int) -> float:
    """Matrix-product operations of one forward + backward with no input gradient: ``2·B·T·4H·(2F + 3H)``."""
    return 2.0 * B * T * 4 * H * (2 * F + 3 * H)


def _keras_lstm(layer, x: torch.Tensor) -> Callable[[], torch.Tensor] | None:
    """Keras 3's LSTM (torch backend) with ``layer``'s weights, or None without keras."""
    try:
        import keras
    except ImportError:
        return None
    if keras.backend.backend() != "torch":
        return None
    k = keras.layers.LSTM(layer.units, return_sequences=True)
    k.build((None, x.shape[1], x.shape[2]))
    k.set_weights(layer.get_weights())  # recurra's get_weights() is in Keras's layout and gate order
    return lambda: k(x)


def contenders(B: int, T: int, F: int, H: int, seed: int, keras: bool) -> dict[str, Callable[[], None]]:
    from recurra import LSTM
    from recurra.cells import lstm_kernel

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, T, F, generator=g)
    grad = torch.randn(B, T, H, generator=g)
    layer = LSTM(H, return_sequences=True, input_shape=(None, F))
    cell = layer.cell
    torch_lstm = torch.nn.LSTM(F, H, batch_first=True)
    with torch.no_grad():
        torch_lstm.weight_ih_l0.copy_(cell.weight_ih)
        torch_lstm.weight_hh_l0.copy_(cell.weight_hh)
        torch_lstm.bias_ih_l0.copy_(cell.bias)
        torch_lstm.bias_hh_l0.zero_()
    zeros = torch.zeros(B, H)
    params = list(cell.parameters())

    def compiled_loop() -> torch.Tensor:
        return lstm_kernel.lstm_sequence(x, zeros, zeros.clone(), cell.weight_ih, cell.weight_hh, cell.bias, None)[0]

    out = {
        BASE: fwd_bwd(lambda: torch_lstm(x)[0], grad, list(torch_lstm.parameters())),
        "recurra": fwd_bwd(lambda: layer(x), grad, params),
        "compiled loop": fwd_bwd(compiled_loop, grad, params),
    }
    keras_call = _keras_lstm(layer, x) if keras else None
    if keras_call is not None:
        out["keras"] = fwd_bwd(keras_call, grad, [])
    return out


def summarize_size(times: dict[str, list[float]], B: int, T: int, F: int, H: int, peak: float) -> dict:
    """One size: the contenders' summary, each with ``speedup`` (torch.nn.LSTM / it) and ``peak_fraction``."""
    summary = summarize(times, BASE)
    flops = lstm_flops(B, T, F, H)
    for s in summary.values():
        s["speedup"] = 1.0 / s["ratio"]
        s["peak_fraction"] = flops / (s["median_ms"] / 1e3) / (peak * 1e9)
    return summary


def print_size(title: str, summary: dict, goal: float | None) -> None:
    print(f"\n{title}")
    print(f"{'contender':<15}{'median ms':>10}{'min':>8}{'max':>8}  {BASE + ' / it':>19}  of GEMM peak")
    for name, s in summary.items():
        speed = f"{s['speedup']:.2f} ({1 / s['ratio_per_round']:.2f})"
        print(f"{name:<15}{s['median_ms']:>10.1f}{s['min_ms']:>8.1f}{s['max_ms']:>8.1f}  {speed:>19}  {s['peak_fraction']:.2f}")
    if goal is not None:
        reached = summary["recurra"]["speedup"]
        print(f"goal {BASE} / recurra >= {goal}: {'met' if reached >= goal else 'NOT met'} ({reached:.2f})")


def run_threads(threads: int, args) -> dict:
    torch.set_num_threads(threads)
    peak = gemm_peak(args.peak_size)
    print(f"\n=== {threads} thread(s): GEMM peak {peak:.1f} GFLOP/s before the sizes (float32, {args.peak_size}^3) ===")
    result = {"threads": threads, "sizes": [], "sweep": []}
    timed = []  # (key, B, T, F, H, times)
    for B, T, F, H in SIZES:
        timed.append(("sizes", B, T, F, H, timed_rounds(contenders(B, T, F, H, args.seed, args.keras), args.rounds)))
    for H in args.units:
        B, T, F = 32, args.steps, 16
        timed.append(("sweep", B, T, F, H, timed_rounds(contenders(B, T, F, H, args.seed, args.keras), args.rounds)))
    after = gemm_peak(args.peak_size)
    peak = max(peak, after)
    print(f"GEMM peak after the sizes {after:.1f} GFLOP/s; the fractions below use {peak:.1f}")
    result["gemm_peak_gflops"] = peak
    for key, B, T, F, H, times in timed:
        summary = summarize_size(times, B, T, F, H, peak)
        goal = GOALS.get((B, T, F, H)) if key == "sizes" else None
        print_size(f"LSTM({H}), B={B}, T={T}, F={F}: forward + backward", summary, goal)
        result[key].append({"B": B, "T": T, "F": F, "H": H, "contenders": summary})
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=200, help="T of the sweep over widths")
    parser.add_argument("--units", type=int, nargs="*", default=list(SWEEP_UNITS), help="the sweep's widths (none: skip it)")
    parser.add_argument("--peak-size", type=int, default=1024, help="n of the n x n x n product that measures the GEMM peak")
    parser.add_argument("--keras", action="store_true", help="also time Keras 3's LSTM (torch backend; slow)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args(argv)
    from recurra.cells import lstm_kernel

    if not lstm_kernel.usable(torch.zeros(1)):
        sys.exit("the compiled LSTM loop could not be built here: nothing to measure")
    results = {"rounds": args.rounds, "torch": torch.__version__, "machine": platform.machine(), "runs": []}
    for threads in args.threads:
        results["runs"].append(run_threads(threads, args))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
        print(f"\nwrote {args.json}")
    return results


if __name__ == "__main__":
    main()
