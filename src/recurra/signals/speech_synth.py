"""Speech made by code: eSpeak NG (PyPI ``espeakng-loader``: the library and its voices, GPL-3.0+) driven
through ctypes, offline.

``synthesize(text, voice="es", variant="m3", rate=175, pitch=50)`` gives the samples (float32 in ``[-1, 1]``)
and the rate (22,050 Hz) of ``text`` spoken by eSpeak's voice for ``voice`` (a language: ``es``, ``es-419``,
``en`` ...) with a variant (``m1``–``m7``, ``f1``–``f5``, ``klatt`` ...), at ``rate`` words per minute and
``pitch`` (0–99). ``VARIANTS`` lists the variants; many voices, speeds and pitches make a speech-to-text
training set, with noise and room-like filtering added by the caller.

>>> x, rate = synthesize("hola", voice="es")
>>> rate, 0.2 < len(x) / rate < 2.0
(22050, True)
"""

from __future__ import annotations

import ctypes
import threading
from functools import cache

import numpy as np

from ..errors import InputValueError

VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2", "klatt3")
_SYNCHRONOUS, _CHARS_UTF8, _POS_CHARACTER = 2, 1, 1
_RATE, _PITCH = 1, 3
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


def synthesize(
    text: str, voice: str = "es", variant: str = "m3", rate: int = 175, pitch: int = 50, seed: int = 0
) -> tuple[np.ndarray, int]:
    """``(samples, sampling_rate)`` of ``text`` spoken by eSpeak NG (see the module docstring).

    eSpeak's random variation (the breath and flutter of some variants) is seeded with ``seed`` before each
    call. The library also carries state from one call to the next (the same text comes out a few samples
    longer or shorter on the next call): a process that makes the same calls in the same order gets the
    same samples, so a data set made in one go is reproducible.
    """
    if not isinstance(text, str) or not text.strip():
        raise InputValueError(f"expected a text to speak, got {text!r}")
    if variant not in VARIANTS:
        raise InputValueError(f"expected a voice variant among {', '.join(VARIANTS)}, got {variant!r}")
    if not 80 <= rate <= 450 or not 0 <= pitch <= 99:
        raise InputValueError(f"expected rate in 80..450 words per minute and pitch in 0..99, got rate {rate}, pitch {pitch}")
    lib, sampling_rate = _library()
    data = text.encode("utf-8")
    with _lock:
        if lib.espeak_SetVoiceByName(f"{voice}+{variant}".encode()) != 0:
            raise InputValueError(f"eSpeak NG has no voice {voice!r} (a language code such as es, es-419, en)")
        lib.espeak_SetParameter(_RATE, int(rate), 0)
        lib.espeak_SetParameter(_PITCH, int(pitch), 0)
        _samples.clear()
        lib.espeak_ng_SetRandSeed(ctypes.c_long(int(seed)))
        lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        lib.espeak_Synchronize()
        blocks = list(_samples)
        _samples.clear()
    if not blocks:
        raise RuntimeError(f"eSpeak NG wrote no samples for {text!r}")
    return (np.concatenate(blocks).astype(np.float32) / 32768.0), int(sampling_rate)
