"""Synthetic speech: seeded, at the asked rate, with silence around the words and the texts folded."""

from __future__ import annotations

import numpy as np
import pytest

from recurra.errors import InputValueError
from recurra.speech import fold, random_channel, recordings_through_channels, synthetic_speech


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


def test_real_recordings_go_through_their_own_channels() -> None:
    word = (np.sin(2 * np.pi * 300 * np.arange(8000) / 16000) * np.hanning(8000)).astype(np.float32)  # 0.5 s at 16 kHz
    recordings = [(word, 16000), (word[:4000], 16000)]
    audio, texts = recordings_through_channels(recordings, ["Miércoles", "dos"], 3, np.random.default_rng(1))
    assert texts == ["miercoles"] * 3 + ["dos"] * 3
    assert all(a.dtype == np.float32 and 0.05 - 1e-6 <= np.abs(a).max() <= 0.95 + 1e-6 for a in audio)
    assert all(0.85 * 4000 < len(a) < 1.2 * 4000 + 2 * 0.4 * 8000 + 400 for a in audio[:3])  # at 8 kHz, speed and silence
    assert len({len(a) for a in audio[:3]}) == 3  # each copy its own channel
    again = random_channel(word, 16000, np.random.default_rng(5))
    np.testing.assert_array_equal(again, random_channel(word, 16000, np.random.default_rng(5)))
    with pytest.raises(InputValueError, match="one text per recording, got 2 recordings and 1 texts"):
        recordings_through_channels([(word, 16000)] * 2, ["dos"], 1, np.random.default_rng(0))
    with pytest.raises(InputValueError, match="copies >= 1, got 0"):
        recordings_through_channels([(word, 16000)], ["dos"], 0, np.random.default_rng(0))


def test_a_share_of_the_utterances_is_spoken_by_diphone_voices() -> None:
    rng = np.random.default_rng(3)
    espeak_only, texts = synthetic_speech(8, np.random.default_rng(3), variants=["m1"])
    mixed, mixed_texts = synthetic_speech(8, rng, variants=["m1"], diphone_share=1.0)
    again, _ = synthetic_speech(8, np.random.default_rng(3), variants=["m1"], diphone_share=1.0)
    assert mixed_texts == texts  # the texts are drawn first, the voices after
    assert all(np.array_equal(a, b) for a, b in zip(mixed, again))
    assert all(a.dtype == np.float32 and len(a) > 0.3 * 8000 for a in mixed)
    assert not any(len(a) == len(b) and np.array_equal(a, b) for a, b in zip(mixed, espeak_only))
    with pytest.raises(InputValueError, match=r"diphone_share in \[0, 1\]"):
        synthetic_speech(2, rng, diphone_share=1.5)


def test_missing_diphone_voices_are_named_with_their_install_command(monkeypatch) -> None:
    import recurra.speech.synthetic as synthetic

    monkeypatch.setattr(synthetic, "diphone_voices", lambda: ())
    with pytest.raises(InputValueError, match="install: apt-get install mbrola mbrola-es1"):
        synthetic_speech(2, np.random.default_rng(0), diphone_share=0.5)
    assert len(synthetic_speech(1, np.random.default_rng(0))[0]) == 1  # eSpeak alone still speaks
