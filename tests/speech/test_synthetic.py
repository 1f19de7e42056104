"""Synthetic speech: seeded, at the asked rate, with silence around the words and the texts folded."""

from __future__ import annotations

import numpy as np

from recurra.speech import fold, synthetic_speech


def test_synthetic_speech_is_seeded_and_folded() -> None:
    audio, texts = synthetic_speech(6, np.random.default_rng(4), variants=["m1", "f2"])
    again, texts2 = synthetic_speech(6, np.random.default_rng(4), variants=["m1", "f2"])
    assert texts == texts2 and all(t == fold(t) for t in texts)
    assert all(a.dtype == np.float32 and 0.05 - 1e-6 <= np.abs(a).max() <= 0.95 + 1e-6 for a in audio)
    assert all(len(a) > 0.3 * 8000 for a in audio)  # the words and at least 0.1 s of silence


def test_the_rate_is_the_one_asked() -> None:
    (a,), (text,) = synthetic_speech(1, np.random.default_rng(0), rate=16000)
    (b,), _ = synthetic_speech(1, np.random.default_rng(0), rate=8000)
    assert abs(len(a) / len(b) - 2) < 0.05
