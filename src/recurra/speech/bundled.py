"""The Spanish speech recogniser that ships inside the package (``recurra/speech/model``).

Trained by ``python benchmarks/speech.py --save src/recurra/speech/model`` on synthetic speech only
(``recurra.speech.synthetic_speech``: eSpeak NG voices through random channels); it knows numbers, dates,
weekdays, months, ordinals and a few everyday words of telephone menus, at 8 kHz. See ``docs/speech.md``
for what it recognises on real recordings and what it does not.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import InputValueError
from .recognizer import SpeechRecognizer


def bundled_model_path() -> Path:
    """Where the bundled model's directory is."""
    return Path(str(resources.files("recurra.speech").joinpath("model")))


def spanish_model() -> SpeechRecognizer:
    """The bundled Spanish ``SpeechRecognizer`` (see the module docstring)."""
    path = bundled_model_path()
    if not (path / "config.json").is_file():
        raise InputValueError(f"expected the bundled Spanish speech model in {path}, found none: reinstall recurra")
    return SpeechRecognizer.load(path)
