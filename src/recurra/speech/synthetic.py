"""Spoken Spanish made by code for training recognisers: eSpeak NG's voices, then a channel of random colour.

``synthetic_utterance(text, rng, rate)`` speaks ``text`` with a random eSpeak NG voice (``es`` or
``es-419``, one of the 85 human-sounding variants), speed (80–190 words per minute: isolated words spoken with care are
slow), pitch (15–95) and intonation range (0–100), and passes it through
a random channel, each step drawn from ``rng``:

1. speed perturbation: resampled by ``s ~ U(0.85, 1.2)`` (duration × s, pitch and formants / s);
2. a room: convolution with ``h(t) = δ(t) + g e^{-t/τ} n(t)`` (``n`` white noise, ``τ ~ U(10, 80)`` ms,
   ``g`` a random wet level), with probability 0.6;
3. a telephone-like band: a 2nd-order Butterworth band-pass from ``U(80, 400)`` Hz to ``U(2.6, 3.8)`` kHz
   (capped below the Nyquist frequency), and a tilt ``y_t = x_t - a x_{t-1}``, ``a ~ U(-0.5, 0.95)``;
4. silence of ``U(0.05, 0.4)`` s before and after, and white or brown noise at ``U(5, 45)`` dB SNR;
5. a peak level of ``U(0.05, 0.95)``.

``random_channel(x, found, rng, rate)`` is the channel alone (steps 1-5), for real recordings too:
``recordings_through_channels(recordings, texts, copies, rng)`` makes ``copies`` versions of each.

With ``diphone_share`` ``p > 0``, a share ``p`` of the utterances is spoken instead by one of MBROLA's
Spanish diphone voices (``recurra.signals.diphone_synth``: pieces of seven real people's recorded speech, from
Spain, Mexico and Venezuela), at 90-190 words per minute, eSpeak pitch 15-95 and its pitch points times
``U(0.8, 1.5)``, then through the same random channel: voices nearer to a person's than eSpeak's formants.

``synthetic_speech(count, rng, rate)`` draws ``count`` texts with ``recurra.speech.spanish.spoken_texts``
and returns ``(samples, texts)``, the texts folded as recognisers write them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InputValueError
from ..signals.audio import resample
from ..signals.diphone_synth import INSTALL_COMMAND, diphone_voices, synthesize_diphones
from ..signals.speech_synth import synthesize, voice_variants
from .spanish import fold, spoken_texts


def _room(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
    tau = rng.uniform(0.010, 0.080)
    t = np.arange(int(rate * tau * 5)) / rate
    h = rng.uniform(0.05, 0.5) * np.exp(-t / tau) * rng.normal(size=t.shape) / np.sqrt(rate * tau)
    h[0] = 1.0
    return np.convolve(x, h)[: len(x) + len(h) // 2]


def _band(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
    from scipy.signal import butter, lfilter, sosfilt

    low = rng.uniform(80, 400)
    high = min(rng.uniform(2600, 3800), 0.95 * rate / 2)
    y = sosfilt(butter(2, [low, high], btype="bandpass", fs=rate, output="sos"), x)
    return lfilter([1.0, -rng.uniform(-0.5, 0.95)], [1.0], y)


def _noise(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
    pad = lambda: np.zeros(int(rate * rng.uniform(0.05, 0.4)))  # noqa: E731
    x = np.concatenate([pad(), x, pad()])
    noise = rng.normal(size=x.shape)
    if rng.random() < 0.5:  # brown: integrated white noise, its slow drift removed
        noise = np.cumsum(noise)
        noise -= np.convolve(noise, np.ones(401) / 401, mode="same")
    power = np.mean(x**2) + 1e-12
    snr_db = rng.uniform(5, 45)
    return x + noise * np.sqrt(power / (np.mean(noise**2) + 1e-12) / 10 ** (snr_db / 10))


def _checked_share(diphone_share: float) -> None:
    if not 0.0 <= diphone_share <= 1.0:
        raise InputValueError(f"expected diphone_share in [0, 1], got {diphone_share}")
    if diphone_share > 0 and not diphone_voices():
        raise InputValueError(f"expected MBROLA's Spanish voices for diphone_share > 0, found none; install: {INSTALL_COMMAND}")


def synthetic_utterance(
    text: str, rng: np.random.Generator, rate: int = 8000, variants: Sequence[str] | None = None, diphone_share: float = 0.0
) -> np.ndarray:
    """``text`` spoken by a random voice (one of ``variants``, default all of ``voice_variants()``, or with
    probability ``diphone_share`` an MBROLA voice) through a random channel, float32 samples at ``rate``."""
    _checked_share(diphone_share)
    if diphone_share > 0 and rng.random() < diphone_share:
        x, found = synthesize_diphones(
            text, voice=str(rng.choice(diphone_voices())), rate=int(rng.integers(90, 191)), pitch=int(rng.integers(15, 96)),
            pitch_ratio=float(rng.uniform(0.8, 1.5)),
        )  # fmt: skip
        return random_channel(x, found, rng, rate)
    variants = voice_variants() if variants is None else variants
    x, found = synthesize(
        text, voice=str(rng.choice(["es", "es-419"])), variant=str(rng.choice(list(variants))), rate=int(rng.integers(80, 191)),
        pitch=int(rng.integers(15, 96)), seed=int(rng.integers(2**31)), intonation=int(rng.integers(0, 101)),
    )  # fmt: skip
    return random_channel(x, found, rng, rate)


def random_channel(x: np.ndarray, found: int, rng: np.random.Generator, rate: int = 8000) -> np.ndarray:
    """``x`` (samples at ``found`` Hz) through a random channel (steps 1-5 of the module docstring), float32
    samples at ``rate``."""
    x = resample(np.asarray(x, dtype=np.float32), found, int(round(rate * rng.uniform(0.85, 1.2)))).astype(np.float64)
    if rng.random() < 0.6:  # speed above: read back at rate
        x = _room(x, rate, rng)
    x = _noise(_band(x, rate, rng), rate, rng)
    return (x * rng.uniform(0.05, 0.95) / (np.abs(x).max() + 1e-9)).astype(np.float32)


def recordings_through_channels(
    recordings: Sequence[tuple[np.ndarray, int]], texts: Sequence[str], copies: int, rng: np.random.Generator, rate: int = 8000
) -> tuple[list[np.ndarray], list[str]]:
    """``copies`` versions of each real recording ``(samples, found_rate)``, each through its own random channel
    (``random_channel``), and their texts folded: a few real voices made into many training utterances."""
    if len(recordings) != len(texts):
        raise InputValueError(f"expected one text per recording, got {len(recordings)} recordings and {len(texts)} texts")
    if copies < 1:
        raise InputValueError(f"expected copies >= 1, got {copies}")
    audio = [random_channel(x, found, rng, rate) for (x, found) in recordings for _ in range(copies)]
    return audio, [fold(t) for t in texts for _ in range(copies)]


def synthetic_speech(
    count: int, rng: np.random.Generator, rate: int = 8000, variants: Sequence[str] | None = None, diphone_share: float = 0.0
) -> tuple[list[np.ndarray], list[str]]:
    """``count`` synthetic utterances at ``rate`` spoken by ``variants`` (eSpeak's) or, a share ``diphone_share``
    of them, by MBROLA's voices, and their folded texts."""
    _checked_share(diphone_share)
    texts = spoken_texts(count, rng)
    return [synthetic_utterance(t, rng, rate, variants, diphone_share) for t in texts], [fold(t) for t in texts]
