"""Speech made of recorded human speech: MBROLA's Spanish diphone voices, driven by eSpeak NG, offline.

A diphone voice is a database of short pieces of one person's real speech (each the second half of one sound
and the first half of the next), cut from recordings; MBROLA joins them at the durations and pitch it is
given. eSpeak NG turns the text into those phonemes, durations and pitch points (``espeak-ng --pho``), and
``mbrola`` speaks them. Seven voices ship in Debian (``mbrola-es1`` ... ``mbrola-vz1``, contrib/non-free:
their licence allows synthesising speech with the MBROLA program): ``es1``, ``es2``, ``es4`` (men, Spain),
``es3`` (a woman, Spain), ``mx1``, ``mx2`` (men, Mexico), ``vz1`` (a man, Venezuela).

The phoneme names eSpeak NG 1.51 writes do not all exist in the databases; left as they are, MBROLA
replaces each unknown pair by silence (a ``veintinueve`` loses its last vowel). ``_FIXES`` renames them for
each voice, so that the texts of ``recurra.speech.spanish`` are spoken with no unknown diphone:

- every voice: eSpeak's unstressed final vowels ``e/ o/`` are MBROLA's ``e o``;
- ``es3`` and ``es4`` read eSpeak's phonemes for ``es1`` (``mx1`` for ``es3``, which has no ``T``), their own
  translation tables being broken; neither has ``w`` (``u`` instead); ``es3`` has no ``tS L jj J rr x``
  (``t j j n R H`` instead) and no pair of a phoneme with itself (``s s``, ``n n``: one of them);
- ``l^`` (a palatal ``l`` of some eSpeak words) is ``l``.

``synthesize_diphones(text, voice, rate, pitch)`` gives ``(samples, sampling_rate)``: float32 samples
(16 kHz, 22.05 kHz for ``es2``); ``rate`` in words per minute and ``pitch`` (0-99) are eSpeak's, and
``pitch_ratio`` multiplies every pitch point (a man's voice raised by 1.4 is near a woman's or a child's
pitch; its formants stay his). eSpeak's pitch points are a man's whatever the voice: ``es3``'s are raised
by 1.8 before ``pitch_ratio``, to a woman's.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import numpy as np

from ..errors import InputValueError

MBROLA_FOLDER = Path("/usr/share/mbrola")
VOICES = ("es1", "es2", "es3", "es4", "mx1", "mx2", "vz1")
# the eSpeak NG voice whose phonemes each MBROLA voice reads
_PHONEMES_FROM = {"es1": "mb-es1", "es2": "mb-es2", "es3": "mb-mx1", "es4": "mb-es1", "mx1": "mb-mx1", "mx2": "mb-mx2",
                  "vz1": "mb-vz1"}  # fmt: skip
# eSpeak's pitch points are a man's (its mb- voices are men's); es3's are raised to a woman's
_PITCH = {"es3": 1.8}
_COMMON = {"e/": "e", "o/": "o", "l^": "l"}
_FIXES = {
    "es3": {**_COMMON, "w": "u", "tS": "t", "L": "j", "jj": "j", "J": "n", "rr": "R", "x": "H"},
    "es4": {**_COMMON, "w": "u"},
}
INSTALL_COMMAND = (
    "apt-get install mbrola mbrola-es1 mbrola-es2 mbrola-es3 mbrola-es4 mbrola-mx1 mbrola-mx2 mbrola-vz1 espeak-ng "
    "(Debian contrib and non-free)"
)


@cache
def diphone_voices() -> tuple[str, ...]:
    """The Spanish MBROLA voices installed here (those of ``VOICES`` whose database is found), if the ``mbrola``
    and ``espeak-ng`` programs are installed too; ``()`` otherwise."""
    if shutil.which("mbrola") is None or shutil.which("espeak-ng") is None:
        return ()
    return tuple(v for v in VOICES if (MBROLA_FOLDER / v / v).is_file())


def _fixed(pho: str, voice: str) -> str:
    """eSpeak's phoneme lines renamed to the phonemes of ``voice``'s database (see the module docstring)."""
    fixes = _FIXES.get(voice, _COMMON)
    lines, last = [], ""
    for line in pho.splitlines():
        if not line.strip():
            continue
        name, _, rest = line.partition("\t")
        name = fixes.get(name, name)
        if voice == "es3" and name == last:
            continue  # es3 has no pair of a phoneme with itself (s-s, n-n, o-o): one of them
        lines.append(f"{name}\t{rest}" if rest else name)
        last = name
    return "\n".join(lines) + "\n"


def synthesize_diphones(
    text: str, voice: str = "mx1", rate: int = 150, pitch: int = 50, pitch_ratio: float = 1.0
) -> tuple[np.ndarray, int]:
    """``(samples, sampling_rate)`` of ``text`` spoken by the MBROLA voice ``voice`` (see the module docstring)."""
    if not isinstance(text, str) or not text.strip():
        raise InputValueError(f"expected a text to speak, got {text!r}")
    if voice not in VOICES:
        raise InputValueError(f"expected an MBROLA voice among {', '.join(VOICES)}, got {voice!r}")
    if not 80 <= rate <= 450 or not 0 <= pitch <= 99 or not 0.5 <= pitch_ratio <= 2.0:
        raise InputValueError(
            f"expected rate in 80..450 words per minute, pitch in 0..99 and pitch_ratio in 0.5..2, got rate {rate}, "
            f"pitch {pitch}, pitch_ratio {pitch_ratio}"
        )
    if voice not in diphone_voices():
        raise InputValueError(f"expected the MBROLA voice {voice!r} in {MBROLA_FOLDER / voice}; install with: {INSTALL_COMMAND}")
    pho = subprocess.run(
        ["espeak-ng", "-q", "--pho", "-v", _PHONEMES_FROM[voice], "-s", str(int(rate)), "-p", str(int(pitch)), "--", text],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    if not pho.strip():
        raise InputValueError(f"eSpeak NG gave no phonemes for {text!r}")
    wav = subprocess.run(
        ["mbrola", "-e", "-f", f"{pitch_ratio * _PITCH.get(voice, 1.0):.4f}", str(MBROLA_FOLDER / voice / voice), "-", "-.wav"],
        input=_fixed(pho, voice).encode(), capture_output=True, check=True,
    )  # fmt: skip
    unknown = re.findall(r"Warning: (\S+) unknown", wav.stderr.decode(errors="replace"))
    if unknown:
        raise RuntimeError(f"MBROLA's {voice} has no diphone {', '.join(sorted(set(unknown)))} (for {text!r})")
    return _read_streamed_wav(wav.stdout)


def _read_streamed_wav(data: bytes) -> tuple[np.ndarray, int]:
    """The samples and rate of the 16-bit mono WAV MBROLA writes to a pipe: a 44-byte header whose lengths are 0
    (it cannot seek back to fill them in), then the samples to the end."""
    mono_16_bit = data[22:24] == b"\x01\x00" and data[34:36] == b"\x10\x00"
    if len(data) < 44 or data[:4] != b"RIFF" or data[36:40] != b"data" or not mono_16_bit:
        raise RuntimeError(f"expected a 16-bit mono WAV from mbrola, got {data[:44]!r}")
    samples = np.frombuffer(data[44 : 44 + (len(data) - 44) // 2 * 2], dtype="<i2").astype(np.float32) / 32768.0
    return samples, int.from_bytes(data[24:28], "little")
