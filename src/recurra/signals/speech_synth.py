"""Speech made by code: eSpeak NG (PyPI ``espeakng-loader``: the library and its voices, GPL-3.0+) driven
through ctypes, offline.

``synthesize(text, voice="es", variant="m3", rate=175, pitch=50)`` gives the samples (float32 in ``[-1, 1]``)
and the rate (22,050 Hz) of ``text`` spoken by eSpeak's voice for ``voice`` (a language: ``es``, ``es-419``,
``en`` ...) with a variant (``m1``–``m7``, ``f1``–``f5``, ``klatt`` ...), at ``rate`` words per minute and
``pitch`` (0–99), with an ``intonation`` range from monotone (0) to lively (100). ``VARIANTS`` lists the
classic variants, ``voice_variants()`` all 85 that sound human; many voices, speeds and pitches make a
speech-to-text training set, with noise and room-like filtering added by the caller.

>>> x, rate = synthesize("hola", voice="es")
>>> rate, 0.2 < len(x) / rate < 2.0
(22050, True)
"""

from __future__ import annotations

import ctypes
import threading
from functools import cache
from pathlib import Path

import numpy as np

from ..errors import InputValueError

VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2", "klatt3")
# left out: the variants that do not sound like a person (robots, whispers, a demon), and those with a formant
# at 0 Hz, which make this eSpeak NG crash (a segmentation fault) for some rates, pitches and intonations
_NOT_HUMAN = ("Demonic", "UniRobot", "anikaRobot", "whisper", "whisperf", "Mr serious")
_CRASHING = ("Andrea", "Andy", "AnxiousAndy", "antonio", "rob")
_SYNCHRONOUS, _CHARS_UTF8, _POS_CHARACTER = 2, 1, 1
_RATE, _PITCH, _RANGE = 1, 3, 4
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)
_lock = threading.Lock()
_samples: list[np.ndarray] = []


def _collect(wav, count, events) -> int:  # eSpeak calls this with each block of samples
    if count > 0:
        _samples.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
    return 0


_collector = _CALLBACK(_collect)  # kept alive for as long as the library may call it


@cache
def _library() -> tuple[ctypes.CDLL, int]:
    try:
        import espeakng_loader
    except ImportError:
        raise InputValueError("speech synthesis needs eSpeak NG: pip install espeakng-loader") from None
    lib = ctypes.cdll.LoadLibrary(str(espeakng_loader.get_library_path()))
    lib.espeak_Initialize.restype = ctypes.c_int
    rate = lib.espeak_Initialize(_SYNCHRONOUS, 0, str(espeakng_loader.get_data_path()).encode(), 0)
    if rate <= 0:
        raise RuntimeError(f"eSpeak NG did not start (espeak_Initialize gave {rate})")
    lib.espeak_SetSynthCallback(_collector)
    return lib, rate


@cache
def voice_variants() -> tuple[str, ...]:
    """Every voice variant eSpeak NG ships that sounds like a person (85: ``m1``, ``f2``, ``klatt4``, ``Alicia``,
    ``pedro`` ...; robots, whispers and five that crash the library left out), sorted."""
    import espeakng_loader

    folder = Path(espeakng_loader.get_data_path()) / "voices" / "!v"
    names = {p.name for p in folder.iterdir() if p.is_file()} | set(VARIANTS)
    return tuple(sorted(n for n in names if n not in _NOT_HUMAN + _CRASHING and not n.startswith("robosoft")))


def synthesize(
    text: str, voice: str = "es", variant: str = "m3", rate: int = 175, pitch: int = 50, seed: int = 0, intonation: int = 50
) -> tuple[np.ndarray, int]:
    """``(samples, sampling_rate)`` of ``text`` spoken by eSpeak NG (see the module docstring).

    eSpeak's random variation (the breath and flutter of some variants) is seeded with ``seed`` before each
    call. The library also carries state from one call to the next (the same text comes out a few samples
    longer or shorter on the next call): a process that makes the same calls in the same order gets the
    same samples, so a data set made in one go is reproducible.
    """
    if not isinstance(text, str) or not text.strip():
        raise InputValueError(f"expected a text to speak, got {text!r}")
    if variant not in VARIANTS and variant not in voice_variants():
        raise InputValueError(f"expected a voice variant among {', '.join(voice_variants())}, got {variant!r}")
    if not 80 <= rate <= 450 or not 0 <= pitch <= 99 or not 0 <= intonation <= 100:
        raise InputValueError(
            f"expected rate in 80..450 words per minute, pitch in 0..99 and intonation in 0..100, got rate {rate}, "
            f"pitch {pitch}, intonation {intonation}"
        )
    lib, sampling_rate = _library()
    data = text.encode("utf-8")
    with _lock:
        if lib.espeak_SetVoiceByName(f"{voice}+{variant}".encode()) != 0:
            raise InputValueError(f"eSpeak NG has no voice {voice!r} (a language code such as es, es-419, en)")
        lib.espeak_SetParameter(_RATE, int(rate), 0)
        lib.espeak_SetParameter(_PITCH, int(pitch), 0)
        lib.espeak_SetParameter(_RANGE, int(intonation), 0)
        _samples.clear()
        lib.espeak_ng_SetRandSeed(ctypes.c_long(int(seed)))
        lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        lib.espeak_Synchronize()
        blocks = list(_samples)
        _samples.clear()
    if not blocks:
        raise RuntimeError(f"eSpeak NG wrote no samples for {text!r}")
    return (np.concatenate(blocks).astype(np.float32) / 32768.0), int(sampling_rate)
