"""Speech frames: inputs of every form resampled to the model's rate, and the causal normalisation in blocks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.io import wavfile

from recurra.errors import InputValueError
from recurra.signals.audio import log_mel
from recurra.speech.features import audio_samples, running_normalize, speech_frames


def test_audio_from_a_path_a_pair_or_an_array(tmp_path) -> None:
    tone = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)
    wavfile.write(tmp_path / "a.wav", 16000, (tone * 20000).astype(np.int16))
    from_path = audio_samples(tmp_path / "a.wav", 8000)
    from_pair = audio_samples((tone, 16000), 8000)
    assert len(from_path) == len(from_pair) == 8000
    np.testing.assert_allclose(from_path, from_pair * 20000 / 32768, atol=1e-3)
    assert len(audio_samples(tone, 8000)) == 16000  # an array is taken to be at the rate already


@pytest.mark.parametrize("bad, found", [(np.zeros((10, 2)), r"shape \(10, 2\)"), (np.array([0.0, np.nan]), "NaN")])
def test_bad_samples_are_named(bad: np.ndarray, found: str) -> None:
    with pytest.raises(InputValueError, match=found):
        audio_samples(bad, 8000)


def test_running_normalisation_in_blocks_equals_the_whole() -> None:
    rng = np.random.default_rng(0)
    frames = rng.normal(3.0, 2.0, size=(50, 4))
    prior = {"mean": [3.0] * 4, "var": [4.0] * 4}
    whole, _ = running_normalize(frames, prior)
    parts, state = [], None
    for a in range(0, 50, 7):
        out, state = running_normalize(frames[a : a + 7], prior, state)
        parts.append(out)
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-5)
    # frame t is normalised by frames 1..t and the prior only
    t = 9
    count = 50 + t + 1
    mean = (50 * 3.0 + frames[: t + 1].sum(0)) / count
    var = (50 * (4.0 + 9.0) + (frames[: t + 1] ** 2).sum(0)) / count - mean**2
    np.testing.assert_allclose(whole[t], (frames[t] - mean) / np.sqrt(var), atol=1e-5)


@pytest.mark.parametrize("warmup, length", [(12, 50), (12, 8), (1, 50)])
def test_a_warmup_normalises_the_first_frames_together(warmup: int, length: int) -> None:
    rng = np.random.default_rng(2)
    frames = rng.normal(3.0, 2.0, size=(length, 4))
    prior = {"mean": [3.0] * 4, "var": [4.0] * 4}
    plain, _ = running_normalize(frames, prior)
    warm, _ = running_normalize(frames, prior, warmup=warmup)
    last = min(warmup, length) - 1  # the frames before it share its sums
    np.testing.assert_allclose(warm[last:], plain[last:], atol=1e-6)
    count = 50 + last + 1  # the prior's 50 frames and frames 0..last
    mean = (50 * 3.0 + frames[: last + 1].sum(0)) / count
    var = (50 * (4.0 + 9.0) + (frames[: last + 1] ** 2).sum(0)) / count - mean**2
    np.testing.assert_allclose(warm[: last + 1], (frames[: last + 1] - mean) / np.sqrt(var), atol=1e-5)
    # the warmup's frames in a first block of at least `warmup`, then blocks: the same as the whole
    if length > warmup:
        first, state = running_normalize(frames[:warmup], prior, warmup=warmup)
        rest, _ = running_normalize(frames[warmup:], prior, state, warmup=warmup)
        np.testing.assert_allclose(np.concatenate([first, rest]), warm, atol=1e-6)


def test_utterance_normalisation_gives_mean_zero_std_one() -> None:
    x = np.random.default_rng(1).normal(size=8000).astype(np.float32)
    f = speech_frames(x, 8000, 20, "utterance", None)
    assert f.shape == log_mel(x, 8000, 20).shape
    np.testing.assert_allclose(f.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(f.std(0), 1, atol=1e-3)
