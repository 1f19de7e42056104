"""From audio to the frames a speech recogniser reads: samples at the model's rate, log-mel frames, normalised.

``audio_samples(item, rate)`` accepts a WAV path (or a raw GSM 6.10 ``.gsm`` file), a ``(samples, sampling_rate)``
pair or a 1-D array already at ``rate``, and returns float32 samples at ``rate`` (resampled when needed).

``speech_frames(x, rate, n_mels, normalization, prior)`` gives ``(T, n_mels)`` log-mel frames
(``recurra.signals.audio.log_mel``: 25 ms windows every 10 ms) normalised per band:

- ``"utterance"``: ``(F_t - μ) / σ`` with the mean and std of the whole utterance (cancels the level and
  the colour of the channel; needs the whole recording, so it suits the bidirectional model);
- ``"running"``: causal — ``μ_t`` and ``σ_t²`` over frames ``1..t`` and ``k`` prior frames of mean ``μ₀``
  and variance ``σ₀²`` (the training set's): ``μ_t = (k μ₀ + Σ_{s≤t} F_s) / (k + t)``,
  ``σ_t² = (k (σ₀² + μ₀²) + Σ_{s≤t} F_s²) / (k + t) - μ_t²``; a frame is normalised with what came before
  it only, so the streaming model sees the same numbers as the whole-file one. With a ``warmup`` of ``W``
  frames the first ``W`` frames are all normalised with ``μ_W`` and ``σ_W`` (with ``μ_T``, ``σ_T`` when the
  recording has only ``T < W``): the start of a recording is read with its own level and colour, at the
  cost of a stream writing nothing until ``W`` frames (``W`` × 10 ms) have arrived.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputValueError
from ..signals.audio import log_mel, normalize_utterance, read_audio, resample

PRIOR_FRAMES = 50.0


def audio_samples(item: Any, rate: int) -> np.ndarray:
    """Float32 samples at ``rate`` from a WAV path, a ``(samples, rate)`` pair or samples already at ``rate``."""
    if isinstance(item, (str, os.PathLike)):
        samples, found = read_audio(Path(item))
        return resample(samples, found, rate)
    if isinstance(item, tuple) and len(item) == 2 and np.isscalar(item[1]):
        samples, found = item
        return resample(_mono(samples), int(found), rate)
    return _mono(item)


def _mono(samples: Any) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 1:
        raise InputValueError(f"expected mono audio samples (a 1-D array), got an array of shape {x.shape}")
    if not np.isfinite(x).all():
        raise InputValueError("expected finite audio samples, got NaN or inf")
    return x


def running_normalize(
    frames: np.ndarray, prior: dict[str, list[float]], start: dict[str, np.ndarray] | None = None, warmup: int = 0
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Causal normalisation of ``frames`` ``(T, B)`` (see the module docstring) and the sums to continue from.

    With ``warmup`` ``W``, the frames of the recording before its ``W``-th are normalised with the sums up to
    the ``W``-th, or up to the last of ``frames`` when there are fewer: a caller that streams gives the first
    ``W`` frames in one call (or all frames, when the recording ends sooner)."""
    mu0, var0 = np.asarray(prior["mean"]), np.asarray(prior["var"])
    state = start or {"count": np.array(PRIOR_FRAMES), "sum": PRIOR_FRAMES * mu0, "squares": PRIOR_FRAMES * (var0 + mu0**2)}
    count = state["count"] + np.arange(1, len(frames) + 1)[:, None]  # (T, 1)
    sums = state["sum"] + np.cumsum(frames, 0)  # (T, B)
    squares = state["squares"] + np.cumsum(frames.astype(np.float64) ** 2, 0)  # (T, B)
    mean = sums / count
    std = np.sqrt(np.maximum(squares / count - mean**2, 1e-8))
    held = min(int(warmup) - int(round(float(state["count"]) - PRIOR_FRAMES)), len(frames))  # frames still in the warmup
    if held > 0:
        mean[:held], std[:held] = mean[held - 1], std[held - 1]
    end = {"count": count[-1, 0] if len(frames) else state["count"], "sum": sums[-1] if len(frames) else state["sum"],
           "squares": squares[-1] if len(frames) else state["squares"]}  # fmt: skip
    return ((frames - mean) / std).astype(np.float32), end


def raw_frames(samples: np.ndarray, rate: int, n_mels: int, cepstra: int = 0) -> np.ndarray:
    """Log-mel frames ``(T, n_mels)``, or with ``cepstra`` their first ``cepstra`` cepstral coefficients
    ``c_k = DCT-II(log-mel)_k`` (MFCC: the smooth spectral envelope, the pitch's ripples left out)."""
    frames = log_mel(samples, rate, n_mels=n_mels)  # (T, n_mels)
    if cepstra:
        from scipy.fft import dct

        frames = dct(frames, type=2, norm="ortho", axis=1)[:, :cepstra].astype(np.float32)  # (T, cepstra)
    return frames


def speech_frames(
    samples: np.ndarray, rate: int, n_mels: int, normalization: str, prior: dict[str, list[float]] | None, cepstra: int = 0,
    warmup: int = 0,
) -> np.ndarray:  # fmt: skip
    """Normalised frames ``(T, n_mels or cepstra)`` of ``samples`` at ``rate`` (see the module docstring)."""
    frames = raw_frames(samples, rate, n_mels, cepstra)
    if normalization == "utterance":
        return normalize_utterance(frames)
    if prior is None:
        return frames
    return running_normalize(frames, prior, warmup=warmup)[0]
