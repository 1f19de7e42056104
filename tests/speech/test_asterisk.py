"""The real test recordings: the Asterisk Spanish prompts paired with their transcript, slips corrected."""

from __future__ import annotations

from collections import Counter

import pytest

from recurra.errors import InputValueError
from recurra.signals.audio import read_wav
from recurra.speech import asterisk_prompts


def test_every_kind_is_there_with_its_words() -> None:
    prompts = asterisk_prompts()
    counts = Counter(p.kind for p in prompts)
    assert counts["numbers"] == 48 and counts["weekdays"] == 7 and counts["months"] == 12
    assert counts["phrases"] > 300 and counts["words"] > 40
    by_name = {p.path.relative_to(p.path.parents[1]).as_posix(): p.text for p in prompts if p.kind != "phrases"}
    assert by_name["digits/10.wav"] == "diez" and by_name["digits/0.wav"] == "cero"
    assert by_name["digits/tomorrow.wav"] == "mañana" and by_name["digits/day-3.wav"] == "miercoles"
    assert by_name["digits/mon-8.wav"] == "septiembre" and by_name["digits/22.wav"] == "veintidos"


def test_digits_in_phrases_are_words_and_recordings_are_8_khz() -> None:
    prompts = asterisk_prompts(("phrases",))
    assert all(not any(c.isdigit() for c in p.text) for p in prompts)
    assert any("uno para" in p.text for p in prompts)
    samples, rate = read_wav(prompts[0].path)
    assert rate == 8000 and len(samples) > 800


def test_unknown_kinds_and_missing_files_are_named(tmp_path) -> None:
    with pytest.raises(InputValueError, match="'dates'"):
        asterisk_prompts(("dates",))
    with pytest.raises(InputValueError, match="apt-get install asterisk-core-sounds-es-wav"):
        asterisk_prompts(sounds=tmp_path / "missing")
