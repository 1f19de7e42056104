"""A small training run driven from the command line, for the engine tests (kill/resume, signals, torchrun).

python engine_run.py OUT [--ckpt DIR] [--resume] [--every N] [--sleep S] [--epochs E] [--dropout P] [--tbptt K]
Writes the final weights to OUT (safetensors) when it finishes.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import recurra
from recurra import LSTM, Dense, LambdaCallback, Sequential


def data(n: int = 96, T: int = 12, F: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, T, F)).astype(np.float32)
    y = x[:, :4, 0].sum(1, keepdims=True).astype(np.float32)
    return x, y


def model(dropout: float = 0.0) -> Sequential:
    torch.manual_seed(0)
    m = Sequential([LSTM(8, input_shape=(None, 3), dropout=dropout), Dense(1)])
    m.compile("adam", "mse")
    return m


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--ckpt")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--every", type=int)
    p.add_argument("--sleep", type=float, default=0.0)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--batch", type=int, default=16)
    a = p.parse_args()
    torch.set_num_threads(1)
    m = model(a.dropout)
    x, y = data()
    slow = LambdaCallback(on_train_batch_end=lambda batch, logs: time.sleep(a.sleep)) if a.sleep else None
    m.fit(
        x,
        y,
        batch_size=a.batch,
        epochs=a.epochs,
        verbose=0,
        seed=0,
        callbacks=[slow] if slow else None,
        checkpoint_dir=a.ckpt,
        checkpoint_every=a.every,
        resume=a.resume,
    )
    if recurra.train.distributed.context().is_main:
        recurra.save_weights(m, a.out)


if __name__ == "__main__":
    main()
