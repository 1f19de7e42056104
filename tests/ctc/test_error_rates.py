"""CER and WER (jiwer) on hand-counted edits."""

from __future__ import annotations

import pytest

from recurra.ctc import cer, wer
from recurra.errors import InputValueError


def test_rates_count_edits_over_the_reference_length():
    # "hola" -> "hila": 1 substitution of 4; "uno dos" -> "uno": 2 deletions (space, d, o, s) = 4 of 7
    assert cer(["hila", "uno"], ["hola", "uno dos"]) == pytest.approx((1 + 4) / (4 + 7))
    assert wer(["hila", "uno"], ["hola", "uno dos"]) == pytest.approx((1 + 1) / (1 + 2))
    assert wer([""], ["tres"]) == 1.0
    assert cer(["uno uno"], ["uno"]) > 1.0


def test_bad_inputs_are_named():
    with pytest.raises(InputValueError, match="one reference per transcript"):
        cer(["a"], ["a", "b"])
    with pytest.raises(InputValueError, match="non-empty references"):
        wer(["a"], [" "])
    with pytest.raises(InputValueError, match="at least one"):
        cer([], [])
