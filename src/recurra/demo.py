"""The bundled demo: an LSTM forecasts a generated seasonal series one step ahead.

``run_demo()`` is what ``recurra demo`` calls; it returns the numbers, the CLI prints them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .data.synthetic import seasonal_series, windows
from .layers import Dense
from .layers.family import CELLS as FAMILY
from .model import Sequential
from .train.optimizers import Adam
from .train.trainer import set_seed

CELLS = {name: FAMILY[name] for name in ("lstm", "gru", "rnn")}  # the cells the demo offers


@dataclass
class DemoResult:
    cell: str
    units: int
    epochs: int
    parameters: int
    train_seconds: float
    test_mse: float
    naive_mse: float  # predict s_{t} = s_{t-1}
    seasonal_naive_mse: float  # predict s_{t} = s_{t-24}
    final_loss: float


def run_demo(
    cell: str = "lstm",
    *,
    units: int = 32,
    epochs: int = 8,
    lookback: int = 48,
    seed: int = 0,
    verbose: int = 0,
    checkpoint_dir: str | None = None,
    resume: bool = False,
) -> DemoResult:
    """Train ``cell`` on ``sin(2πt/24) + 0.5 sin(2πt/7) + noise`` and score the last 20% of windows.

    With ``checkpoint_dir`` every epoch is checkpointed; ``resume=True`` continues an interrupted run.
    """
    if cell not in CELLS:
        raise ValueError(f"expected cell in {sorted(CELLS)}, got {cell!r}")
    set_seed(seed)
    series = seasonal_series(2400, seed=seed)
    x, y = windows(series, lookback)  # (N, lookback, 1), (N, 1)
    split = int(0.8 * len(x))
    model = Sequential([CELLS[cell](units, input_shape=(lookback, 1)), Dense(1)])
    model.compile(optimizer=Adam(learning_rate=1e-2), loss="mse")
    start = time.perf_counter()
    history = model.fit(
        x[:split],
        y[:split],
        batch_size=32,
        epochs=epochs,
        verbose=verbose,
        seed=seed,
        checkpoint_dir=checkpoint_dir,
        resume=resume,
    )
    seconds = time.perf_counter() - start
    pred = model.predict(x[split:])
    y_test = y[split:]
    return DemoResult(
        cell=cell,
        units=units,
        epochs=epochs,
        parameters=sum(p.numel() for p in model.parameters()),
        train_seconds=seconds,
        test_mse=float(np.mean((pred - y_test) ** 2)),
        naive_mse=float(np.mean((x[split:, -1] - y_test) ** 2)),
        seasonal_naive_mse=float(np.mean((x[split:, -24] - y_test) ** 2)),
        final_loss=history.history["loss"][-1],
    )
