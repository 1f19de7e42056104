"""Audio in: WAV files read and checked, resampled, and turned into log-mel frames for recognisers.

- ``read_wav(path)``: mono samples in ``[-1, 1]`` (float32) and the rate, from 8-, 16-, 24- or 32-bit
  integer or float WAV files (scipy); refused by name: a file that is not a WAV, no samples, more than
  one channel, a rate outside 4-192 kHz.
- ``read_gsm(path)``: the samples of a raw GSM 6.10 file (``.gsm``, 8 kHz mono, the telephone codec of
  Asterisk's prompts), decoded by libsndfile (``soundfile``); ``read_audio(path)`` reads either, by suffix.
- ``resample(x, rate, target)``: polyphase resampling (scipy's ``resample_poly``, its anti-aliasing
  filter included).
- ``log_mel(x, rate)``: frames of ``25 ms`` every ``10 ms`` (Hann window), the power spectrum
  ``|STFT|²`` (``torch.stft``), ``n_mels`` triangular filters evenly spaced on the mel scale
  ``m = 2595 log10(1 + f / 700)`` from 0 Hz to half the rate, and ``log(E + 1e-6)``: ``(T, n_mels)`` with
  ``T = 1 + ⌊(N - win) / hop⌋`` (no padding).
- ``normalize_utterance(F)``: each mel band to mean 0, std 1 over the utterance's frames.
- ``spec_augment(F, rng)``: SpecAugment's masks for training — ``time_masks`` runs of at most
  ``time_width`` frames and ``freq_masks`` runs of at most ``freq_width`` bands set to the mean (0 after
  normalisation).

>>> import numpy as np
>>> tone = np.sin(2 * np.pi * 1000 * np.arange(16000) / 16000).astype(np.float32)  # 1 s of 1 kHz
>>> F = log_mel(tone, 16000, n_mels=40)
>>> F.shape
(98, 40)
>>> int(F.mean(0).argmax()) == int(np.argmin(np.abs(mel_band_centres(16000, 40) - 1000)))
True
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from ..errors import InputValueError

MIN_RATE, MAX_RATE = 4_000, 192_000
GSM_RATE, GSM_FRAME_BYTES = 8_000, 33


def read_wav(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """``(samples, rate)``: a mono WAV file's samples as float32 in ``[-1, 1]``, and its sampling rate."""
    from scipy.io import wavfile

    path = Path(path)
    if not path.is_file():
        raise InputValueError(f"expected a WAV file, got {path}: it does not exist")
    try:
        rate, data = wavfile.read(path)
    except (ValueError, EOFError) as e:
        raise InputValueError(f"expected a WAV file (RIFF/WAVE), got {path}, which is not one ({e})") from None
    if data.ndim == 2 and data.shape[1] > 1:
        raise InputValueError(f"expected mono audio, got {data.shape[1]} channels in {path}: mix them down first")
    data = data.reshape(-1)
    if data.size < 2:
        raise InputValueError(f"expected audio samples in {path}, got {data.size}")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise InputValueError(f"expected a sampling rate between {MIN_RATE} and {MAX_RATE} Hz, got {rate} Hz in {path}")
    if data.dtype == np.uint8:
        samples = (data.astype(np.float32) - 128.0) / 128.0
    elif data.dtype.kind == "i":
        samples = data.astype(np.float32) / float(-np.iinfo(data.dtype).min)
    else:
        samples = data.astype(np.float32)
        if not np.isfinite(samples).all():
            raise InputValueError(f"expected finite samples in {path}, got NaN or inf")
    return samples, int(rate)


def read_gsm(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """``(samples, 8000)``: a raw GSM 6.10 file's samples as float32 in ``[-1, 1]`` (frames of 33 bytes, 160 samples)."""
    path = Path(path)
    if not path.is_file():
        raise InputValueError(f"expected a GSM 6.10 file, got {path}: it does not exist")
    size = path.stat().st_size
    if size == 0 or size % GSM_FRAME_BYTES:
        raise InputValueError(
            f"expected a raw GSM 6.10 file (a whole number of {GSM_FRAME_BYTES}-byte frames), got {size} bytes in {path}"
        )
    try:
        import soundfile
    except ImportError:
        raise InputValueError(f"reading {path} needs the soundfile package: pip install soundfile") from None
    samples = soundfile.read(path, format="RAW", subtype="GSM610", samplerate=GSM_RATE, channels=1, dtype="float32")[0]
    return np.asarray(samples, dtype=np.float32).reshape(-1), GSM_RATE


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """``(samples, rate)`` of a WAV file, or of a raw GSM 6.10 file when its name ends in ``.gsm``."""
    return read_gsm(path) if Path(path).suffix.lower() == ".gsm" else read_wav(path)


def resample(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    """``x`` at ``rate`` Hz resampled to ``target`` Hz (float32)."""
    from scipy.signal import resample_poly

    if rate == target:
        return np.asarray(x, dtype=np.float32)
    ratio = Fraction(int(target), int(rate)).limit_denominator(1000)
    return resample_poly(np.asarray(x, dtype=np.float64), ratio.numerator, ratio.denominator).astype(np.float32)


def _mel(f: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + f / 700.0)


def _hz(m: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def mel_band_centres(rate: int, n_mels: int) -> np.ndarray:
    """The centre frequency (Hz) of each of the ``n_mels`` filters."""
    return _hz(np.linspace(0.0, _mel(np.array(rate / 2.0)), n_mels + 2))[1:-1]


def mel_filterbank(rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """``(n_mels, n_fft // 2 + 1)``: triangular filters on the mel scale, each peaking at 1 on its centre."""
    edges = _hz(np.linspace(0.0, _mel(np.array(rate / 2.0)), n_mels + 2))  # (n_mels + 2,)
    bins = np.linspace(0.0, rate / 2.0, n_fft // 2 + 1)  # (n_fft / 2 + 1,)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins - lower) / (centre - lower)
    falling = (upper - bins) / (upper - centre)
    return np.clip(np.minimum(rising, falling), 0.0, None)


def log_mel(x: np.ndarray, rate: int, n_mels: int = 40, window_ms: float = 25.0, hop_ms: float = 10.0) -> np.ndarray:
    """Log-mel frames ``(T, n_mels)`` of the samples ``x`` at ``rate`` (see the module docstring)."""
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    win, hop = int(round(rate * window_ms / 1000)), int(round(rate * hop_ms / 1000))
    if len(x) < win:
        raise InputValueError(f"expected at least one {window_ms:g} ms window of audio ({win} samples), got {len(x)} samples")
    n_fft = win
    spec = torch.stft(torch.from_numpy(x), n_fft=n_fft, hop_length=hop, win_length=win, window=torch.hann_window(win),
                      center=False, return_complex=True)  # fmt: skip
    power = spec.abs().pow(2).numpy()  # (n_fft / 2 + 1, T)
    return np.log(mel_filterbank(rate, n_fft, n_mels) @ power + 1e-6).T.astype(np.float32)  # (T, n_mels)


def normalize_utterance(features: np.ndarray) -> np.ndarray:
    """Each band of ``features`` ``(T, B)`` to mean 0 and std 1 over the frames (std 1 where constant)."""
    std = features.std(0)
    return ((features - features.mean(0)) / np.where(std > 0, std, 1.0)).astype(np.float32)


def spec_augment(
    features: np.ndarray, rng: np.random.Generator, time_masks: int = 2, time_width: int = 10, freq_masks: int = 2,
    freq_width: int = 6,
) -> np.ndarray:  # fmt: skip
    """A copy of ``features`` ``(T, B)`` with SpecAugment's time and frequency masks set to the mean."""
    out = np.array(features, dtype=np.float32, copy=True)
    fill = float(out.mean())
    T, B = out.shape
    for _ in range(time_masks):
        w = int(rng.integers(0, min(time_width, T // 4) + 1))
        t0 = int(rng.integers(0, T - w + 1))
        out[t0 : t0 + w] = fill
    for _ in range(freq_masks):
        w = int(rng.integers(0, min(freq_width, B // 4) + 1))
        f0 = int(rng.integers(0, B - w + 1))
        out[:, f0 : f0 + w] = fill
    return out
