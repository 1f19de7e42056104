"""The Spanish speech recognisers that ship inside the package: ``recurra/speech/model`` (bidirectional, the
default) and ``recurra/speech/model_streaming`` (one-way, for ``stream()``; its running normalisation gathers
the first second of a recording before it normalises the first frames).

Trained by ``python benchmarks/speech.py`` (``--save``, ``--models streaming --save-streaming``; the commands
are in ``docs/speech.md``) on synthetic speech (``recurra.speech.synthetic_speech``: eSpeak NG's voices and
MBROLA's diphone voices — 45 % of 16,000 utterances for both models — through random channels) and 24 copies,
each through a random channel, of the 83 Colombian prompts of numbers and dates (``colombian_prompts``, a real
speaker other than the tested one); it knows numbers, dates, weekdays, months, ordinals and a few everyday
words of telephone menus, at 8 kHz. See ``docs/speech.md`` for what it recognises on real recordings and what it does not.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import InputValueError
from .recognizer import SpeechRecognizer


def bundled_model_path(streaming: bool = False) -> Path:
    """Where the bundled model's directory is (``streaming``: the one-way model that ``stream()`` takes)."""
    return Path(str(resources.files("recurra.speech").joinpath("model_streaming" if streaming else "model")))


def spanish_model(streaming: bool = False) -> SpeechRecognizer:
    """The bundled Spanish ``SpeechRecognizer`` (see the module docstring); ``streaming``: the one-way model
    with causal normalisation, which transcribes while audio arrives (``stream()``)."""
    path = bundled_model_path(streaming)
    if not (path / "config.json").is_file():
        raise InputValueError(f"expected the bundled Spanish speech model in {path}, found none: reinstall recurra")
    return SpeechRecognizer.load(path)
