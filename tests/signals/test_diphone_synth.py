"""Speech made by MBROLA's Spanish diphone voices: every voice speaks the recognisers' texts with no diphone
missing, at the asked speed and pitch, the same each time; bad requests are named."""

from __future__ import annotations

import numpy as np
import pytest

from recurra.errors import InputValueError
from recurra.signals.diphone_synth import VOICES, _fixed, _read_streamed_wav, diphone_voices, synthesize_diphones

# words whose phonemes needed renaming for some voice: final unstressed e/o, w, ch, ll, ñ, rr, j, doubled phonemes
HARD = (
    "uno", "nueve", "jueves", "ciento ochenta y cuatro", "son noventa y uno dólares", "ochocientos", "llamada",
    "año", "perro", "julio", "veintinueve de febrero", "miércoles", "usted tiene dieciséis mensajes nuevos",
)  # fmt: skip


def _f0(x: np.ndarray, rate: int) -> float:
    """The fundamental frequency of the loudest 200 ms of ``x`` by autocorrelation, between 60 and 500 Hz."""
    n = int(0.2 * rate)
    energy = np.convolve(x**2, np.ones(n), mode="valid")
    start = int(np.argmax(energy))
    seg = x[start : start + n] - x[start : start + n].mean()
    ac = np.correlate(seg, seg, mode="full")[n - 1 :]
    lags = np.arange(int(rate / 500), int(rate / 60))
    return rate / lags[int(np.argmax(ac[lags]))]


def test_all_seven_spanish_voices_are_installed():
    assert diphone_voices() == VOICES


@pytest.mark.parametrize("voice", VOICES)
def test_every_voice_speaks_the_hard_words_with_no_diphone_missing(voice):
    for text in HARD:
        x, rate = synthesize_diphones(text, voice, rate=150)  # raises if MBROLA lacked a diphone
        assert rate in (16000, 22050) and x.dtype == np.float32
        assert 0.15 * len(text.split()) < len(x) / rate < 4.0, (voice, text, len(x) / rate)
        assert 0.02 < float(np.abs(x).max()) <= 1.0


def test_speed_and_pitch_do_what_they_say_and_calls_repeat_exactly():
    slow, rate = synthesize_diphones("veintitrés de marzo", "mx1", rate=100)
    fast, _ = synthesize_diphones("veintitrés de marzo", "mx1", rate=250)
    assert len(fast) < 0.7 * len(slow)
    again, _ = synthesize_diphones("veintitrés de marzo", "mx1", rate=100)
    assert np.array_equal(again, slow)
    low, _ = synthesize_diphones("mamá", "es1", rate=100, pitch_ratio=1.0)
    high, _ = synthesize_diphones("mamá", "es1", rate=100, pitch_ratio=1.5)
    assert 1.3 < _f0(high, rate) / _f0(low, rate) < 1.7
    assert 70 < _f0(low, rate) < 200  # a man's voice


def test_the_woman_and_the_men_differ():
    woman, rate = synthesize_diphones("domingo", "es3", rate=120)
    man, rate_man = synthesize_diphones("domingo", "es1", rate=120)
    assert _f0(woman, rate) > 1.3 * _f0(man, rate_man)


def test_espeak_phoneme_names_are_renamed_to_the_databases():
    pho = "u\t60\nn\t50\no/\t80\t0 120 100 110\n_\t100\n"
    assert _fixed(pho, "es1") == "u\t60\nn\t50\no\t80\t0 120 100 110\n_\t100\n"
    assert _fixed("k\t60\nw\t40\na\t90\ns\t50\ns\t50\n", "es3") == "k\t60\nu\t40\na\t90\ns\t50\n"
    assert _fixed("tS\t60\nw\t40\n", "es4") == "tS\t60\nu\t40\n"


def test_bad_requests_are_named():
    with pytest.raises(InputValueError, match="MBROLA voice among"):
        synthesize_diphones("hola", "xx1")
    with pytest.raises(InputValueError, match="rate in 80..450"):
        synthesize_diphones("hola", "es1", rate=1000)
    with pytest.raises(InputValueError, match="pitch_ratio in 0.5..2"):
        synthesize_diphones("hola", "es1", pitch_ratio=3.0)
    with pytest.raises(InputValueError, match="a text to speak"):
        synthesize_diphones("  ", "es1")
    with pytest.raises(RuntimeError, match="16-bit mono WAV"):
        _read_streamed_wav(b"not a wav at all" * 4)
