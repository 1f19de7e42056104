"""Generated data sets: reproducible from a seed, no files, no downloads."""

from __future__ import annotations

import numpy as np


def seasonal_series(
    n: int = 2000,
    *,
    periods: tuple[float, ...] = (24.0, 7.0),
    amplitudes: tuple[float, ...] = (1.0, 0.5),
    noise: float = 0.1,
    seed: int = 0,
) -> np.ndarray:
    """``s_t = Σ_k A_k sin(2π t / P_k) + ε_t``, ``ε_t ~ N(0, noise²)``; shape ``(n,)``, float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64)
    s = sum(a * np.sin(2 * np.pi * t / p) for a, p in zip(amplitudes, periods))
    return (s + noise * rng.standard_normal(n)).astype(np.float32)


def windows(series: np.ndarray, lookback: int, horizon: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Sliding windows over a series.

    ``x[i] = s[i : i + lookback]`` ``(N, lookback, 1)``; ``y[i] = s[i + lookback + horizon - 1]`` ``(N, 1)``.
    """
    s = np.asarray(series, dtype=np.float32)
    n = len(s) - lookback - horizon + 1
    if n <= 0:
        raise ValueError(f"expected a series longer than lookback + horizon = {lookback + horizon}, got {len(s)} values")
    idx = np.arange(lookback)[None, :] + np.arange(n)[:, None]  # (N, lookback)
    x = s[idx][..., None]  # (N, lookback, 1)
    y = s[lookback + horizon - 1 : lookback + horizon - 1 + n][:, None]  # (N, 1)
    return x, y


def sign_of_early_sum(n: int = 1000, timesteps: int = 20, features: int = 3, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A binary many-to-one task: ``y = 1`` when ``Σ_{t<5} x_{t,0} > 0``; x ``(n, T, F)`` standard normal."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, timesteps, features)).astype(np.float32)
    y = (x[:, :5, 0].sum(1) > 0).astype(np.float32)
    return x, y
