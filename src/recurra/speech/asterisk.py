"""Real Spanish speech to test on: the Asterisk PBX prompts recorded by Allison Smith (Mexican Spanish, 8 kHz).

Debian ships the recordings (``asterisk-core-sounds-es-wav``, in ``/usr/share/asterisk/sounds/es_MX_f_Allison``) and
their transcript (``asterisk-core-sounds-es``: ``core-sounds-es.txt.gz``, lines ``name: text``).
``asterisk_prompts(kinds)`` pairs them up and sorts them into kinds:

- ``numbers``: ``digits/0`` … ``digits/30``, the tens and the hundreds (``cero`` … ``novecientos``);
- ``weekdays`` and ``months``: ``digits/day-0..6``, ``digits/mon-0..11``;
- ``words``: the other words of dates, times and amounts (``hoy``, ``mañana``, ``mil``, ``menos``,
  ordinals ``primero`` … ``vigésimo`` …);
- ``letters``: the names of the letters (``letters/a`` … ``letters/z``);
- ``phrases``: the system's messages (``Por favor ingrese su contraseña ...``), open vocabulary.

Texts are folded (``recurra.speech.spanish.fold``) with digits written out in words. The transcript's slips
are corrected here: ``digits/10`` is listed as ``digits/0: diez``, ``mañana`` as ``manana``, and the
prompts that are not one Spanish word or phrase (tones, ``a.m.``, ``oh``, the fragment ``cient``) are left out.
"""

from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputValueError
from .spanish import fold, number_words

SOUNDS = Path("/usr/share/asterisk/sounds/es_MX_f_Allison")  # also reachable as sounds/es, a link other packages move
TRANSCRIPT = Path("/usr/share/doc/asterisk-core-sounds-es/core-sounds-es.txt.gz")
KINDS = ("numbers", "weekdays", "months", "words", "letters", "phrases")
_LEFT_OUT = {"digits/a-m", "digits/p-m", "digits/oh", "digits/hundred", "digits/21-and", "digits/at_s"}
_CORRECTED = {"digits/tomorrow": "mañana", "digits/20-and": "veinti"}


@dataclass(frozen=True)
class Prompt:
    """One recording: its ``path``, the ``text`` spoken (folded) and its ``kind``."""

    path: Path
    text: str
    kind: str


def _kind(name: str) -> str:
    stem = name.removeprefix("digits/")
    if name.startswith("letters/"):
        return "letters"
    if not name.startswith("digits/"):
        return "phrases"
    if re.fullmatch(r"\d+|\d+-and|1[fm]|1[FM]", stem):
        return "numbers"
    if stem.startswith("day-"):
        return "weekdays"
    if stem.startswith("mon-"):
        return "months"
    return "words"


def _spoken(text: str) -> str:
    return fold(re.sub(r"\d+", lambda m: f" {number_words(int(m.group()))} ", text))


def _transcript(path: Path) -> dict[str, str]:
    texts: dict[str, str] = {}
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            name, sep, text = line.partition(":")
            name, text = name.strip(), text.strip()
            if not sep or name.startswith(";") or not text or text.startswith("["):
                continue
            if name == "digits/0" and fold(text) == "diez":
                name = "digits/10"
            texts.setdefault(name, text)
    return texts


def asterisk_prompts(kinds: tuple[str, ...] = KINDS, sounds: str | os.PathLike = SOUNDS,
                     transcript: str | os.PathLike = TRANSCRIPT) -> list[Prompt]:  # fmt: skip
    """The recordings of ``kinds`` with their texts, sorted by path (see the module docstring)."""
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise InputValueError(f"expected kinds among {', '.join(KINDS)}, got {', '.join(map(repr, unknown))}")
    sounds, transcript = Path(sounds), Path(transcript)
    if not sounds.is_dir() or not transcript.is_file():
        raise InputValueError(
            f"expected the Asterisk Spanish prompts in {sounds} and their transcript {transcript}; install them "
            "with: apt-get install asterisk-core-sounds-es-wav"
        )
    prompts = []
    for name, text in _transcript(transcript).items():
        wav = next((p for p in (sounds / f"{name}.wav", sounds / f"{name[:-1]}{name[-1].upper()}.wav") if p.is_file()), None)
        if wav is None or name in _LEFT_OUT or _kind(name) not in kinds:
            continue
        spoken = _spoken(_CORRECTED.get(name, text))
        if spoken:
            prompts.append(Prompt(wav, spoken, _kind(name)))
    return sorted(prompts, key=lambda p: str(p.path))
