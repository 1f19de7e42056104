"""The LSTM's compiled loop carried through to ``fit``: the README's LSTM forecast and the char language
model, trained with recurra's compiled LSTM loop and with torch's kernel (``torch.lstm``, oneDNN), in
interleaved rounds on the same data, seeds and settings; seconds per ``fit`` and the ratio
``torch.lstm / compiled`` (above 1: the compiled loop trains faster).

The kernel is switched by ``recurra.cells.lstm.COMPILED_MAX_UNITS`` (0: every width runs ``torch.lstm``);
each run checks which kernel its layers ran (``layer.kernel``).

    python benchmarks/lstm_fit.py                           # 5 rounds, 1 thread
    python benchmarks/lstm_fit.py --rounds 7 --threads 2 --json benchmarks/results/lstm_fit_threads2.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

import recurra
from recurra.cells import lstm as lstm_cell_module
from recurra.data import load_airline
from recurra.text import LanguageModel, bundled_text

RESULTS = Path(__file__).resolve().parent / "results" / "lstm_fit.json"


def with_kernel(kernel: str):
    """Set the LSTM's kernel for the runs that follow: ``"compiled"`` or ``"torch.lstm"``."""
    lstm_cell_module.COMPILED_MAX_UNITS = 256 if kernel == "compiled" else 0


def kernels_of(network: torch.nn.Module) -> set[str]:
    """The fused kernel each LSTM layer of ``network`` runs now (``fused_lstm_kernel`` for its width)."""
    x = torch.zeros(1, 1, 1)
    return {
        lstm_cell_module.fused_lstm_kernel(x, torch.zeros(1, m.units))
        for m in network.modules()
        if isinstance(m, recurra.layers.LSTM)
    }


def forecast(epochs: int) -> tuple[float, set[str]]:
    """The README's forecast: LSTM(32), lookback 24, horizon 12, Gaussian output, batch 16."""
    fc = recurra.Forecaster("lstm", units=32, lookback=24, horizon=12, output="gaussian", epochs=epochs,
                            batch_size=16, learning_rate=3e-3, seed=0)  # fmt: skip
    t = time.perf_counter()
    fc.fit(load_airline(), time_col="month", target="passengers", holdout=24)
    return time.perf_counter() - t, kernels_of(fc.network_)


def language_model(text: str) -> tuple[float, set[str]]:
    """The char model of ``benchmarks/text.py``'s throughput: Embedding 32, LSTM(128), windows 256, BPTT 64."""
    lm = LanguageModel(level="char", cell="lstm", units=128, embedding=32, bptt=64, window=256, batch_size=32,
                       epochs=1, validation=0.0, learning_rate=2e-3, clipnorm=1.0, seed=0)  # fmt: skip
    t = time.perf_counter()
    lm.fit(text, verbose=0)
    return time.perf_counter() - t, kernels_of(lm.network_)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--forecast-epochs", type=int, default=40)
    ap.add_argument("--json", type=Path, default=RESULTS)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    text = bundled_text("refranes")
    jobs = {
        "forecast (README LSTM(32))": lambda: forecast(args.forecast_epochs),
        "char LM (LSTM(128), 1 epoch)": lambda: language_model(text),
    }
    times: dict[str, dict[str, list[float]]] = {job: {"compiled": [], "torch.lstm": []} for job in jobs}
    for job, run in jobs.items():  # one untimed run each, to build and warm up
        for kernel in ("compiled", "torch.lstm"):
            with_kernel(kernel)
            _, ran = run()
            assert ran == {kernel}, f"{job}: expected the {kernel} kernel, the layers ran {ran}"
    for r in range(args.rounds):
        for job, run in jobs.items():
            for kernel in ("compiled", "torch.lstm") if r % 2 == 0 else ("torch.lstm", "compiled"):
                with_kernel(kernel)
                times[job][kernel].append(run()[0])
    with_kernel("compiled")
    print(f"fit, seconds (median of {args.rounds} interleaved rounds, {args.threads} thread(s))")
    print(f"{'job':<30} {'compiled':>9} {'torch.lstm':>10} {'torch.lstm / compiled':>22} {'per-round ratios':>30}")
    out = {"threads": args.threads, "rounds": args.rounds, "jobs": {}}
    for job, t in times.items():
        ratios = [b / a for a, b in zip(t["compiled"], t["torch.lstm"])]
        mc, mt = statistics.median(t["compiled"]), statistics.median(t["torch.lstm"])
        print(f"{job:<30} {mc:>9.2f} {mt:>10.2f} {mt / mc:>22.2f} {', '.join(f'{x:.2f}' for x in ratios):>30}")
        out["jobs"][job] = {
            "compiled_s": t["compiled"],
            "torch_lstm_s": t["torch.lstm"],
            "ratio_of_medians": mt / mc,
            "ratios": ratios,
        }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
