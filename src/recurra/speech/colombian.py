"""A second real Spanish speaker, to train on: the Colombian Asterisk prompts (Avatar Ltda., voice of
July E. Jiménez, GPL-2; Debian ``asterisk-prompt-es-co``), 8 kHz raw GSM 6.10 files. Debian will not install
the package beside ``asterisk-core-sounds-es`` (both provide ``asterisk-prompt-es``), whose transcript the test
set needs, so unpack it instead::

    apt-get download asterisk-prompt-es-co && dpkg -x asterisk-prompt-es-co_*.deb /opt/asterisk-prompt-es-co

``colombian_prompts`` looks there (``COLOMBIAN_SOUNDS``) and in ``/usr/share/asterisk/sounds/es``, where an
installed package puts them.

No transcript ships with them, but the prompts of dates, times and amounts carry the same names as the
Mexican ones (``digits/5``, ``digits/day-2``, ``digits/mon-4``, ``digits/h-3`` ...), whose transcript gives
their words (``cinco``, ``martes``, ``mayo``, ``tercero``); ``colombian_prompts(kinds)`` pairs each Colombian
recording with the words of the Mexican prompt of its name. The messages (``vm-*``, ``conf-*``) are a
different translation and are left out, as are the names whose wording may differ between the two sets
(``digits/pound``, ``digits/star``, ``digits/oclock``, ``digits/dollars``) and the ordinals 21st to 29th
(``digits/h-21`` … ``h-29``), which the Mexican set does not have.

This is another person than the Mexican speaker of ``asterisk_prompts``, the test set: a recogniser trained
on these recordings is still tested on a voice it never heard.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import InputValueError
from ..signals.audio import read_audio
from .asterisk import SOUNDS, TRANSCRIPT, Prompt, asterisk_prompts
from .synthetic import recordings_through_channels

COLOMBIAN_SOUNDS = Path("/opt/asterisk-prompt-es-co/usr/share/asterisk/sounds/es")
_INSTALLED = Path("/usr/share/asterisk/sounds/es")
COLOMBIAN_KINDS = ("numbers", "weekdays", "months", "words")
_UNSURE = {"digits/pound", "digits/star", "digits/oclock", "digits/dollars"}


def colombian_prompts(
    kinds: tuple[str, ...] = COLOMBIAN_KINDS,
    sounds: str | os.PathLike | None = None,
    mexican_sounds: str | os.PathLike = SOUNDS,
    transcript: str | os.PathLike = TRANSCRIPT,
) -> list[Prompt]:
    """The Colombian recordings of ``kinds`` (among ``numbers``, ``weekdays``, ``months``, ``words``) with the
    texts of the Mexican prompts of the same names, sorted by path (see the module docstring). ``sounds``: the
    directory of the Colombian prompts (default: ``COLOMBIAN_SOUNDS``, else the installed package's)."""
    unknown = [k for k in kinds if k not in COLOMBIAN_KINDS]
    if unknown:
        raise InputValueError(f"expected kinds among {', '.join(COLOMBIAN_KINDS)}, got {', '.join(map(repr, unknown))}")
    has_prompts = lambda d: (d / "digits").is_dir() and any((d / "digits").glob("*.gsm"))  # noqa: E731
    candidates = [Path(sounds)] if sounds is not None else [COLOMBIAN_SOUNDS, _INSTALLED]
    sounds = next((d for d in candidates if has_prompts(d)), None)
    if sounds is None:
        raise InputValueError(
            f"expected the Colombian Asterisk prompts (digits/*.gsm) in {' or '.join(map(str, candidates))}, found none; "
            "unpack them with: apt-get download asterisk-prompt-es-co && dpkg -x asterisk-prompt-es-co_*.deb "
            "/opt/asterisk-prompt-es-co"
        )
    mexican_sounds = Path(mexican_sounds)
    prompts = []
    for mexican in asterisk_prompts(kinds, mexican_sounds, transcript):
        name = mexican.path.relative_to(mexican_sounds).with_suffix("")
        gsm = sounds / name.with_suffix(".gsm")
        if str(name) not in _UNSURE and gsm.is_file():
            prompts.append(Prompt(gsm, mexican.text, mexican.kind))
    return sorted(prompts, key=lambda p: str(p.path))


def colombian_training_speech(copies: int, rng: np.random.Generator, rate: int = 8000) -> tuple[list[np.ndarray], list[str]]:
    """``copies`` versions of each Colombian prompt (``colombian_prompts()``), each through its own random channel
    (``recordings_through_channels``): float32 samples at ``rate`` and the folded texts."""
    spoken = colombian_prompts()
    return recordings_through_channels([read_audio(p.path) for p in spoken], [p.text for p in spoken], copies, rng, rate)
