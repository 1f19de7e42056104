"""Training throughput of recurra's ``fit`` against a hand-written PyTorch loop and Keras 3 (torch backend).

The same task for every contender: an LSTM(256) over ``(T=100, F=32)`` float32 sequences, a Dense(1)
head on the last hidden state, Adam, mean squared error, shuffled mini-batches of 64, one epoch per
timed call. Each contender is warmed up with one untimed epoch, then the contenders are interleaved
over ``--rounds`` rounds (the starting contender rotates each round) and the median samples/second of
each is reported, together with

- ``recurra / raw``: recurra's ``fit`` against the hand-written loop (goal: >= 0.95);
- ``recurra / keras``: recurra's ``fit`` against Keras 3's ``fit`` on the torch backend (goal: > 1).

Run from the repository root::

    python benchmarks/fit_overhead.py                      # defaults: 7 rounds, 1024 samples
    python benchmarks/fit_overhead.py --rounds 11 --threads 2 --json fit_overhead.json

Keras is optional (``pip install -r benchmarks/requirements.txt``); without it the Keras column is
skipped and the reason is printed.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from typing import Callable

# Keras reads its backend once, at import time: choose torch before anything can import it.
os.environ["KERAS_BACKEND"] = "torch"

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

T, F, H, BATCH = 100, 32, 256, 64
GOAL_RAW, GOAL_KERAS = 0.95, 1.0


def make_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``x (n, T, F)`` and ``y (n, 1)``, float32, from a fixed seed."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, T, F), dtype=np.float32)
    y = rng.standard_normal((n, 1), dtype=np.float32)
    return x, y


# -- the contenders: each returns a function that trains one epoch ---------------------------------


def setup_recurra(x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    from recurra import LSTM, Dense, Sequential

    model = Sequential([LSTM(H, input_shape=(T, F)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")

    def epoch() -> None:
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=True)

    return epoch


class RawLSTM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(F, H, batch_first=True)
        self.head = nn.Linear(H, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.lstm(x)  # h: (num_layers, B, H)
        return self.head(h[-1])


def setup_raw(x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    model = RawLSTM()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    n = xt.shape[0]

    def epoch() -> None:
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, BATCH):
            idx = perm[i : i + BATCH]
            xb, yb = xt[idx], yt[idx]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()

    return epoch


def setup_keras(x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    import keras

    model = keras.Sequential([keras.Input((T, F)), keras.layers.LSTM(H), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")

    def epoch() -> None:
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=True)

    return epoch


def keras_status() -> tuple[str | None, str | None]:
    """``(version, None)`` when Keras 3 imports on the torch backend, else ``(None, why not)``."""
    try:
        import keras
    except Exception as e:  # ImportError, or a broken install
        return None, f"keras is not importable ({type(e).__name__}: {e}); pip install -r benchmarks/requirements.txt"
    version = getattr(keras, "__version__", "?")
    if not version.startswith("3."):
        return None, f"keras {version} is installed; this benchmark needs Keras 3"
    backend = keras.backend.backend()
    if backend != "torch":
        return None, f"keras was imported with the {backend!r} backend before KERAS_BACKEND=torch could take effect"
    return version, None


# -- measuring -------------------------------------------------------------------------------------


def timed(epoch: Callable[[], None]) -> float:
    gc.collect()
    start = time.perf_counter()
    epoch()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed epochs per contender, interleaved (default 7)")
    parser.add_argument("--samples", type=int, default=1024, help="samples per epoch (default 1024: 16 steps of 64)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's default)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and of torch's generator (default 0)")
    parser.add_argument("--no-keras", action="store_true", help="leave Keras out even when it is installed")
    parser.add_argument("--json", metavar="PATH", default=None, help="also write the results as JSON to PATH")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.samples < 1:
        parser.error("--rounds and --samples must be positive")

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x, y = make_data(args.samples, args.seed)

    contenders: dict[str, Callable[[], None]] = {
        "recurra": setup_recurra(x, y),
        "raw": setup_raw(x, y),
    }
    keras_version, keras_skip = (None, "--no-keras") if args.no_keras else keras_status()
    if keras_version is not None:
        contenders["keras"] = setup_keras(x, y)

    steps = (args.samples + BATCH - 1) // BATCH
    print(
        f"fit_overhead: LSTM({H}) + Dense(1), adam/mse, x ({args.samples}, {T}, {F}) float32, batch {BATCH} "
        f"({steps} steps/epoch), {args.rounds} rounds, torch {torch.__version__} with {torch.get_num_threads()} thread(s)"
        + (f", keras {keras_version}" if keras_version else "")
    )
    if keras_skip:
        print(f"keras: skipped ({keras_skip})")

    names = list(contenders)
    for name in names:  # warm-up: one untimed epoch each (first-call allocations, optimiser state, keras tracing)
        contenders[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(args.rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            times[name].append(timed(contenders[name]))
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(f"{n} {times[n][-1]:.3f} s" for n in names), flush=True)

    results = {}
    for name in names:
        med = statistics.median(times[name])
        results[name] = {
            "median_s_per_epoch": med,
            "median_samples_per_s": args.samples / med,
            "median_ms_per_step": 1e3 * med / steps,
            "min_s_per_epoch": min(times[name]),
            "max_s_per_epoch": max(times[name]),
            "s_per_epoch": times[name],
        }
    sps = {name: results[name]["median_samples_per_s"] for name in names}
    ratios = {"recurra/raw": sps["recurra"] / sps["raw"]}
    if "keras" in sps:
        ratios["recurra/keras"] = sps["recurra"] / sps["keras"]
    # Cross-checks that shrug off a busy machine: the median over rounds of the per-round ratio (both
    # epochs ran back to back, so a burst of load from elsewhere hits both), and the ratio of best epochs.
    robust = {}
    for other in ("raw", "keras"):
        if other in times:
            per_round = [b / a for a, b in zip(times["recurra"], times[other])]  # throughput ratio recurra/other
            robust[f"recurra/{other}"] = {
                "median_of_per_round_ratios": statistics.median(per_round),
                "ratio_of_best_epochs": min(times[other]) / min(times["recurra"]),
            }

    print()
    print(f"{'contender':<10}{'samples/s':>12}{'ms/step':>10}{'s/epoch (median)':>18}{'min':>9}{'max':>9}")
    for name in names:
        r = results[name]
        print(
            f"{name:<10}{r['median_samples_per_s']:>12.1f}{r['median_ms_per_step']:>10.2f}"
            f"{r['median_s_per_epoch']:>18.4f}{r['min_s_per_epoch']:>9.4f}{r['max_s_per_epoch']:>9.4f}"
        )
    print()
    rr = ratios["recurra/raw"]
    rk = ratios.get("recurra/keras")

    def ratio_line(key: str, value: float, goal: str, met: bool) -> str:
        c = robust[key]
        return (
            f"{key:<13} = {value:.3f}  (goal {goal}: {'met' if met else 'NOT met'})"
            f"  [{c['median_of_per_round_ratios']:.3f}; {c['ratio_of_best_epochs']:.3f}]"
        )

    print("ratios of median throughputs  [cross-checks: median of per-round ratios; ratio of best epochs]")
    print(ratio_line("recurra/raw", rr, f">= {GOAL_RAW}", rr >= GOAL_RAW))
    if rk is not None:
        print(ratio_line("recurra/keras", rk, f"> {GOAL_KERAS:g}", rk > GOAL_KERAS))
    else:
        print("recurra/keras = n/a (keras skipped)")

    if args.json:
        payload = {
            "benchmark": "fit_overhead",
            "config": {
                "samples": args.samples,
                "timesteps": T,
                "features": F,
                "units": H,
                "batch_size": BATCH,
                "steps_per_epoch": steps,
                "rounds": args.rounds,
                "seed": args.seed,
            },
            "environment": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpu_count": os.cpu_count(),
                "torch": torch.__version__,
                "torch_threads": torch.get_num_threads(),
                "keras": keras_version,
                "keras_skipped": keras_skip,
            },
            "results": results,
            "ratios": ratios,
            "ratio_cross_checks": robust,
            "goals": {
                "recurra/raw": {"goal": f">= {GOAL_RAW}", "met": rr >= GOAL_RAW},
                "recurra/keras": None if rk is None else {"goal": f"> {GOAL_KERAS:g}", "met": rk > GOAL_KERAS},
            },
        }
        with open(args.json, "w") as fh:
            json.dump(payload, fh, indent=2)
            fh.write("\n")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
