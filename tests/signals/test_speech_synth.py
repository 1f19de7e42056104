"""Speech made by eSpeak NG: plausible audio, voices and rates that change it, reproducible runs, named errors."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from recurra.errors import InputValueError
from recurra.signals.audio import log_mel
from recurra.signals.speech_synth import synthesize


def test_spoken_text_is_audio_of_a_plausible_length():
    x, rate = synthesize("veintitrés de marzo", voice="es", variant="m3", rate=150)
    assert rate == 22050 and x.dtype == np.float32
    assert 0.8 < len(x) / rate < 2.0 and 0.05 < float(np.abs(x).max()) <= 1.0
    assert log_mel(x, rate).shape[1] == 40
    fast, _ = synthesize("veintitrés de marzo", voice="es", variant="m3", rate=300)
    assert len(fast) < 0.75 * len(x)
    other, _ = synthesize("veintitrés de marzo", voice="es", variant="f2", rate=150)
    assert not np.array_equal(other[: len(x)], x[: len(other)])


def test_the_same_calls_in_a_new_process_give_the_same_samples():
    script = (
        "import hashlib; from recurra.signals.speech_synth import synthesize; "
        "print(''.join(hashlib.md5(synthesize(t, variant=v)[0].tobytes()).hexdigest()[:8] for t, v in "
        "[('uno', 'm1'), ('dos', 'f3'), ('uno', 'm1')]))"
    )
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout for _ in range(2)]
    assert runs[0] == runs[1] and len(runs[0].strip()) == 24
    assert hashlib.md5(b"").hexdigest()[:8] not in runs[0]


def test_bad_requests_are_named():
    with pytest.raises(InputValueError, match="no voice 'xx'"):
        synthesize("hola", voice="xx")
    with pytest.raises(InputValueError, match="variant among"):
        synthesize("hola", variant="robot")
    with pytest.raises(InputValueError, match="rate in 80..450"):
        synthesize("hola", rate=1000)
    with pytest.raises(InputValueError, match="a text to speak"):
        synthesize("   ")


def test_voice_variants_are_the_human_ones_that_do_not_crash():
    from recurra.signals.speech_synth import VARIANTS, voice_variants

    names = voice_variants()
    assert len(names) == 85 and set(VARIANTS) <= set(names)
    assert not {"Demonic", "whisper", "robosoft3", "rob", "AnxiousAndy"} & set(names)
    x, rate = synthesize("veintitrés", voice="es-419", variant="pedro", rate=90, pitch=30, intonation=90)
    assert rate == 22050 and len(x) > 0.5 * rate  # slow speech: over half a second for four syllables
