"""The training engine's own cost, measured against a bare PyTorch loop in the same run.

1. Overhead per step: recurra's ``fit`` against a hand-written loop on a small model where overhead
   shows most — LSTM(32) + Dense(1), B=32, T=50, F=8 — interleaved, median over rounds
   (goal: recurra at most 10% slower).
2. Checkpoint cost: the time ``fit`` spends writing one checkpoint (model + Adam state + RNG, atomic,
   checksummed) against the time to serialise the same state once with safetensors.
3. Two processes: LSTM(256) on a global batch of 128 (T=50, F=32) trained by ``torchrun
   --nproc_per_node=2`` (DDP over gloo) against one process, same epochs; the speed-up.

Run from the repository root::

    python benchmarks/engine.py                   # all three parts
    python benchmarks/engine.py --part overhead --rounds 9
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from recurra import LSTM, Dense, Sequential
from recurra.train.checkpoint import CheckpointManager

SMALL = dict(T=50, F=8, H=32, B=32, N=1024)
BIG = dict(T=50, F=32, H=256, B=128, N=2048)


def data(cfg, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((cfg["N"], cfg["T"], cfg["F"]), dtype=np.float32)
    y = rng.standard_normal((cfg["N"], 1), dtype=np.float32)
    return x, y


def recurra_epoch(cfg, x, y):
    model = Sequential([LSTM(cfg["H"], input_shape=(cfg["T"], cfg["F"])), Dense(1)])
    model.compile("adam", "mse")
    return model, lambda: model.fit(x, y, batch_size=cfg["B"], epochs=1, verbose=0)


def raw_epoch(cfg, x, y):
    lstm, head = nn.LSTM(cfg["F"], cfg["H"], batch_first=True), nn.Linear(cfg["H"], 1)
    params = list(lstm.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=1e-3, eps=1e-7)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def epoch():
        order = torch.randperm(len(xt))
        for i in range(0, len(xt), cfg["B"]):
            idx = order[i : i + cfg["B"]]
            opt.zero_grad(set_to_none=True)
            _, (h, _) = lstm(xt[idx])
            loss = nn.functional.mse_loss(head(h[-1]), yt[idx])
            loss.backward()
            opt.step()

    return epoch


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def part_overhead(rounds: int) -> dict:
    cfg = SMALL
    x, y = data(cfg)
    _, rec = recurra_epoch(cfg, x, y)
    raw = raw_epoch(cfg, x, y)
    rec(), raw()  # warm-up
    times = {"recurra": [], "raw": []}
    for r in range(rounds):
        order = [("recurra", rec), ("raw", raw)] if r % 2 == 0 else [("raw", raw), ("recurra", rec)]
        for name, fn in order:
            times[name].append(timed(fn))
    steps = -(-cfg["N"] // cfg["B"])
    med = {k: statistics.median(v) for k, v in times.items()}
    per_round = statistics.median(a / b for a, b in zip(times["recurra"], times["raw"]))
    out = {
        "config": cfg,
        "ms_per_step": {k: 1e3 * v / steps for k, v in med.items()},
        "overhead_ratio_of_medians": med["recurra"] / med["raw"] - 1,
        "overhead_median_per_round": per_round - 1,
        "overhead_of_best_epochs": min(times["recurra"]) / min(times["raw"]) - 1,
        "seconds_per_epoch": times,
        "goal": "recurra at most 10% slower per step",
    }
    print(
        f"[overhead] LSTM({cfg['H']}) B={cfg['B']} T={cfg['T']}: recurra {out['ms_per_step']['recurra']:.3f} ms/step, "
        f"raw {out['ms_per_step']['raw']:.3f} ms/step; overhead {100 * out['overhead_ratio_of_medians']:+.1f}% "
        f"(median of per-round ratios {100 * out['overhead_median_per_round']:+.1f}%, "
        f"best epochs {100 * out['overhead_of_best_epochs']:+.1f}%)"
    )
    return out


def part_checkpoint(rounds: int) -> dict:
    """How long a checkpoint holds up training, against serialising the same state once."""
    from safetensors.torch import save as serialise_to_bytes

    from recurra.train.trainer import History, TensorBatches

    cfg = dict(SMALL, H=256, F=32)
    x, y = data(cfg)
    model, rec = recurra_epoch(cfg, x, y)
    rec()  # builds the optimiser state
    trainer = model._trainer
    train = TensorBatches(torch.from_numpy(x), torch.from_numpy(y), cfg["B"], True)
    serialise, stall, total = [], [], []
    with tempfile.TemporaryDirectory() as d:
        manager = CheckpointManager(Path(d) / "ckpt", keep=2)
        for step in range(rounds):
            tensors, meta = trainer._capture(trainer.optimizer, None, train, None, History())
            meta.update(epoch=0, batch=0, global_step=step, loss_sum=0.0, n_seen=0)
            serialise.append(timed(lambda t=tensors: serialise_to_bytes({k: v.contiguous() for k, v in t.items()})))
            start = time.perf_counter()
            t, m = trainer._capture(trainer.optimizer, None, train, None, History())
            m.update(meta)
            manager.save(step, t, m, background=True)  # what fit does: the write goes on in a thread
            stall.append(time.perf_counter() - start)
            manager.wait()
            total.append(time.perf_counter() - start)
    size = sum(v.numel() * v.element_size() for v in tensors.values())
    out = {
        "state_megabytes": size / 2**20,
        "serialise_once_ms": 1e3 * statistics.median(serialise),
        "stall_ms": 1e3 * statistics.median(stall),
        "write_to_disk_ms": 1e3 * statistics.median(total),
    }
    out["stall_over_serialise"] = out["stall_ms"] / out["serialise_once_ms"]
    print(
        f"[checkpoint] {out['state_megabytes']:.2f} MB of state: serialise once {out['serialise_once_ms']:.2f} ms; "
        f"fit is held up {out['stall_ms']:.2f} ms ({out['stall_over_serialise']:.2f}x; capture + copy), "
        f"the write (serialise, fsync, checksum, rename, prune) finishes in the background after {out['write_to_disk_ms']:.2f} ms"
    )
    return out


SCRIPT = r"""
import sys, time, numpy as np, torch
from recurra import LSTM, Dense, Sequential
T, F, H, B, N, epochs = 50, 32, 256, 128, 2048, int(sys.argv[1])
rng = np.random.default_rng(0)
x = rng.standard_normal((N, T, F), dtype=np.float32); y = rng.standard_normal((N, 1), dtype=np.float32)
torch.manual_seed(0)
m = Sequential([LSTM(H, input_shape=(T, F)), Dense(1)]); m.compile("adam", "mse")
m.fit(x[:B], y[:B], batch_size=B, epochs=1, verbose=0)  # warm-up
start = time.perf_counter(); m.fit(x, y, batch_size=B, epochs=epochs, verbose=0, seed=0)
import recurra.train.distributed as d
if d.context().is_main: print("SECONDS", time.perf_counter() - start)
"""


def part_distributed(epochs: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(SCRIPT)
        script = f.name

    def run(cmd, env):
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-2000:])
        return float(next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("SECONDS")))

    base = dict(os.environ, RECURRA_DIST_BACKEND="gloo")
    one_2t = run([sys.executable, script, str(epochs)], dict(base, OMP_NUM_THREADS="2"))
    one_1t = run([sys.executable, script, str(epochs)], dict(base, OMP_NUM_THREADS="1"))
    two = run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", script, str(epochs)],
        dict(base, OMP_NUM_THREADS="1"),
    )
    os.unlink(script)
    out = {
        "one_process_2_threads_s": one_2t,
        "one_process_1_thread_s": one_1t,
        "two_processes_1_thread_each_s": two,
        "speedup_vs_one_process_2_threads": one_2t / two,
        "speedup_vs_one_process_1_thread": one_1t / two,
    }
    print(
        f"[distributed] LSTM(256), global batch 128, {epochs} epochs of 16 steps: one process (2 threads) {one_2t:.1f} s, "
        f"one process (1 thread) {one_1t:.1f} s, two processes x 1 thread {two:.1f} s; "
        f"speed-up {out['speedup_vs_one_process_2_threads']:.2f}x over 2 threads, "
        f"{out['speedup_vs_one_process_1_thread']:.2f}x over 1 thread"
    )
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", choices=["all", "overhead", "checkpoint", "distributed"], default="all")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--epochs", type=int, default=2, help="epochs of the distributed comparison")
    p.add_argument("--json", help="also write the results to this file")
    a = p.parse_args()
    results = {"torch": torch.__version__, "cpus": os.cpu_count(), "threads": torch.get_num_threads()}
    if a.part in ("all", "overhead"):
        results["overhead"] = part_overhead(a.rounds)
    if a.part in ("all", "checkpoint"):
        results["checkpoint"] = part_checkpoint(a.rounds)
    if a.part in ("all", "distributed"):
        results["distributed"] = part_distributed(a.epochs)
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
