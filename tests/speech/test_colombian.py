"""The second real speaker: the Colombian Asterisk prompts paired with the words of the Mexican prompts' names."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from recurra.errors import InputValueError
from recurra.signals.audio import read_audio
from recurra.speech import asterisk_prompts, colombian_prompts


def test_the_prompts_of_dates_and_amounts_are_paired_with_their_words() -> None:
    prompts = colombian_prompts()
    counts = Counter(p.kind for p in prompts)
    assert counts == {"numbers": 37, "words": 27, "months": 12, "weekdays": 7}
    by_name = {p.path.relative_to(p.path.parents[1]).as_posix(): p.text for p in prompts}
    assert by_name["digits/day-2.gsm"] == "martes" and by_name["digits/mon-4.gsm"] == "mayo"
    assert by_name["digits/h-3.gsm"] == "tercero" and by_name["digits/10.gsm"] == "diez"
    assert by_name["digits/tomorrow.gsm"] == "mañana"
    assert not {"digits/pound.gsm", "digits/star.gsm", "digits/oclock.gsm", "digits/dollars.gsm"} & set(by_name)


def test_they_are_another_speakers_recordings_at_8_khz() -> None:
    prompts = colombian_prompts(("weekdays",))
    mexican = {p.text: p.path for p in asterisk_prompts(("weekdays",))}
    for prompt in prompts:
        samples, rate = read_audio(prompt.path)
        other, _ = read_audio(mexican[prompt.text])
        assert rate == 8000 and samples.dtype == np.float32 and np.isfinite(samples).all()
        assert 0.3 * rate < len(samples) < 3 * rate and np.abs(samples).max() > 0.05
        assert len(samples) != len(other)  # the same word, a different recording


def test_unknown_kinds_and_missing_files_are_named(tmp_path) -> None:
    with pytest.raises(InputValueError, match="'phrases'"):
        colombian_prompts(("phrases",))
    with pytest.raises(InputValueError, match="dpkg -x asterisk-prompt-es-co"):
        colombian_prompts(sounds=tmp_path)
