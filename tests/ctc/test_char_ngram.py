"""CharNgram: a distribution over the next character and the end after any prefix, learned from counts."""

from __future__ import annotations

import numpy as np
import pytest

from recurra.ctc import Alphabet, CharNgram, prefix_beam_search
from recurra.errors import InputValueError

TEXTS = ["uno", "dos", "tres", "doce", "once", "trece", "dos mil", "uno dos"]


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_next_character_and_end_sum_to_one_after_any_prefix(n: int) -> None:
    alphabet = Alphabet.from_texts(TEXTS + ["xyz"])
    lm = CharNgram(alphabet, n=n).fit(TEXTS)
    rng = np.random.default_rng(n)
    for length in range(6):
        prefix = list(rng.integers(1, len(alphabet), size=length))
        probs = np.exp(lm(prefix))
        assert probs[0] == 0.0  # the blank is never a character
        assert probs[1:].sum() + np.exp(lm.end_log_probability(prefix)) == pytest.approx(1.0, abs=1e-12)


def test_seen_continuations_are_likely_and_unseen_characters_still_possible() -> None:
    alphabet = Alphabet.from_texts(TEXTS + ["xyz"])
    lm = CharNgram(alphabet, n=4).fit(TEXTS)
    after = lm(alphabet.encode("tre"))
    assert alphabet.characters[int(np.argmax(after)) - 1] in "sc"
    assert np.isfinite(after[alphabet.encode("x")[0]])  # never seen, yet not impossible
    assert lm.end_log_probability(alphabet.encode("dos")) > lm.end_log_probability(alphabet.encode("do"))


def test_fusion_turns_an_ambiguous_frame_into_the_known_word() -> None:
    alphabet = Alphabet("dos")
    lm = CharNgram(alphabet, n=3).fit(["dos"] * 5)
    # frames: d, o, then "s" and "o" equally likely
    p = np.full((5, 4), 1e-3)
    p[0, 1] = p[1, 0] = p[2, 2] = p[3, 0] = 1.0
    p[4, 2] = p[4, 3] = 0.5
    lp = np.log(p / p.sum(1, keepdims=True))[None]
    plain = prefix_beam_search(lp, beam=4, merge="max")[0]
    fused = prefix_beam_search(lp, beam=4, lm=lm, lm_weight=1.0, merge="max")[0]
    assert alphabet.decode(fused) == "dos" and alphabet.decode(plain) in ("doo", "dos", "do")


def test_bad_settings_and_texts_are_named() -> None:
    with pytest.raises(InputValueError, match="order n >= 1"):
        CharNgram(Alphabet("ab"), n=0)
    with pytest.raises(InputValueError, match="discount"):
        CharNgram(Alphabet("ab"), discount=1.5)
    with pytest.raises(InputValueError, match="language model text 1 has characters outside"):
        CharNgram(Alphabet("ab")).fit(["ab", "abc"])
