"""Audio in: WAV widths, refusals by name, resampling, the mel filterbank, log-mel frames, SpecAugment."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.io import wavfile

from recurra.errors import InputValueError
from recurra.signals.audio import (
    log_mel,
    mel_band_centres,
    mel_filterbank,
    normalize_utterance,
    read_audio,
    read_gsm,
    read_wav,
    resample,
    spec_augment,
)


def tone(freq: float, rate: int, seconds: float = 0.5) -> np.ndarray:
    return 0.5 * np.sin(2 * np.pi * freq * np.arange(int(rate * seconds)) / rate)


@pytest.mark.parametrize(
    "dtype, scale, offset", [(np.int16, 32768, 0), (np.int32, 2**31, 0), (np.uint8, 128, 128), (np.float32, 1, 0)]
)
def test_every_common_width_reads_to_the_same_samples(tmp_path, dtype, scale, offset):
    x = tone(440, 8000)
    data = (x * scale + offset).astype(dtype) if dtype != np.float32 else x.astype(np.float32)
    wavfile.write(tmp_path / "a.wav", 8000, data)
    samples, rate = read_wav(tmp_path / "a.wav")
    assert rate == 8000 and samples.dtype == np.float32
    np.testing.assert_allclose(samples, x, atol=1.0 / 100)


def test_bad_files_are_named(tmp_path):
    wavfile.write(tmp_path / "stereo.wav", 16000, np.zeros((100, 2), dtype=np.int16))
    with pytest.raises(InputValueError, match="expected mono audio, got 2 channels"):
        read_wav(tmp_path / "stereo.wav")
    wavfile.write(tmp_path / "empty.wav", 16000, np.zeros(0, dtype=np.int16))
    with pytest.raises(InputValueError, match="expected audio samples.*got 0"):
        read_wav(tmp_path / "empty.wav")
    wavfile.write(tmp_path / "one.wav", 16000, np.zeros(1, dtype=np.int16))
    with pytest.raises(InputValueError, match="got 1"):
        read_wav(tmp_path / "one.wav")
    wavfile.write(tmp_path / "slow.wav", 1000, np.zeros(100, dtype=np.int16))
    with pytest.raises(InputValueError, match="between 4000 and 192000 Hz, got 1000 Hz"):
        read_wav(tmp_path / "slow.wav")
    (tmp_path / "text.wav").write_text("not audio at all")
    with pytest.raises(InputValueError, match="not one"):
        read_wav(tmp_path / "text.wav")
    with pytest.raises(InputValueError, match="does not exist"):
        read_wav(tmp_path / "missing.wav")
    with pytest.raises(InputValueError, match="at least one 25 ms window"):
        log_mel(np.zeros(100), 16000)


def test_resampling_keeps_the_pitch():
    up = resample(tone(440, 8000), 8000, 16000)
    assert len(up) == 8000
    spectrum = np.abs(np.fft.rfft(up))
    assert np.fft.rfftfreq(len(up), 1 / 16000)[spectrum.argmax()] == pytest.approx(440, abs=2)
    np.testing.assert_array_equal(resample(up, 16000, 16000), up)


def test_the_filterbank_and_log_mel_frames():
    fb = mel_filterbank(16000, 400, 40)
    assert fb.shape == (40, 201) and fb.max() <= 1.0 and (fb.max(1) > 0.5).all()  # no filter falls between bins
    centres = mel_band_centres(16000, 40)
    assert np.all(np.diff(centres) > 0) and centres[-1] < 8000
    for freq in (300, 1000, 3000):
        F = log_mel(tone(freq, 16000, 1.0), 16000)
        assert F.shape == (98, 40)  # 1 + (16000 - 400) // 160
        assert int(F.mean(0).argmax()) == int(np.argmin(np.abs(centres - freq)))
    quiet, loud = log_mel(tone(1000, 16000), 16000), log_mel(2 * tone(1000, 16000), 16000)
    peak = int(quiet.mean(0).argmax())
    np.testing.assert_allclose(loud[:, peak] - quiet[:, peak], np.log(4.0), atol=1e-4)  # twice the amplitude: 4x the power


def test_normalisation_and_spec_augment():
    rng = np.random.default_rng(0)
    F = rng.normal(3.0, 2.0, size=(100, 40))
    N = normalize_utterance(F)
    np.testing.assert_allclose(N.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(N.std(0), 1, atol=1e-5)
    masked = spec_augment(N, np.random.default_rng(1), time_masks=2, time_width=10, freq_masks=2, freq_width=6)
    changed = masked != N
    assert changed.any() and masked.shape == N.shape
    rows, cols = changed.all(1).sum(), changed.all(0).sum()
    assert rows <= 20 and cols <= 12 and (rows > 0 or cols > 0)
    np.testing.assert_array_equal(spec_augment(N, np.random.default_rng(1), time_masks=0, freq_masks=0), N)


def test_gsm_telephone_files_read_back_near_what_was_written(tmp_path):
    import soundfile

    x = tone(440, 8000, seconds=0.4)  # 3,200 samples: 20 frames of 160
    soundfile.write(tmp_path / "a.gsm", x, 8000, format="RAW", subtype="GSM610")
    assert (tmp_path / "a.gsm").stat().st_size == 20 * 33
    samples, rate = read_audio(tmp_path / "a.gsm")
    assert rate == 8000 and samples.dtype == np.float32 and len(samples) == len(x)
    assert np.corrcoef(samples[400:], x[400:])[0, 1] > 0.9  # a lossy codec: near, not equal
    (tmp_path / "cut.gsm").write_bytes(b"\0" * 40)
    with pytest.raises(InputValueError, match="whole number of 33-byte frames\\), got 40 bytes"):
        read_gsm(tmp_path / "cut.gsm")
    with pytest.raises(InputValueError, match="does not exist"):
        read_gsm(tmp_path / "missing.gsm")
    wavfile.write(tmp_path / "b.wav", 8000, x.astype(np.float32))
    assert read_audio(tmp_path / "b.wav")[1] == 8000
