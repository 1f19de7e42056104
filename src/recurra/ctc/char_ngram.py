"""A character n-gram language model for CTC's shallow fusion: ``lm(prefix)`` gives the next character's
log-probabilities, as ``prefix_beam_search(lm=...)`` and ``transcribe(lm=...)`` take them.

Interpolated absolute discounting (Ney et al., 1994) with the start of the text padded by ``n - 1`` markers:

    p(c | h) = max(N(h c) - d, 0) / N(h) + d · U(h) / N(h) · p(c | h')

``h`` the last ``n - 1`` characters, ``h'`` the last ``n - 2``, ``N`` counts in the training texts, ``U(h)``
the number of distinct characters seen after ``h``, ``d = 0.75``; an unseen history falls back to ``h'``
whole; the order-0 model is uniform over the alphabet. Each text ends with an end marker, so the model
also learns where words and texts stop (``end_log_probability``).

>>> from recurra.ctc import Alphabet
>>> lm = CharNgram(Alphabet("ab "), n=3).fit(["ab ab", "ab"])
>>> probs = np.exp(lm(lm.alphabet.encode("a")))  # after "a": "b" is all it has seen
>>> bool(probs[2] > 0.8), round(float(probs[1:].sum() + np.exp(lm.end_log_probability(lm.alphabet.encode("a")))), 6)
(True, 1.0)
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from ..errors import InputValueError
from .alphabet import Alphabet

_START, _END = -1, -2


class CharNgram:
    """Character n-gram language model over an ``Alphabet`` (see the module docstring)."""

    def __init__(self, alphabet: Alphabet, n: int = 5, discount: float = 0.75) -> None:
        if not isinstance(n, int) or n < 1:
            raise InputValueError(f"expected an order n >= 1, got {n!r}")
        if not 0 < discount < 1:
            raise InputValueError(f"expected a discount in (0, 1), got {discount!r}")
        self.alphabet, self.n, self.discount = alphabet, n, float(discount)
        self.counts: dict[tuple[int, ...], Counter] = defaultdict(Counter)
        self._cache: dict[tuple[int, ...], np.ndarray] = {}

    def fit(self, texts: Iterable[str]) -> CharNgram:
        """Count the n-grams (every order up to ``n``) of ``texts`` (in the alphabet); returns ``self``."""
        for i, text in enumerate(texts):
            ids = [_START] * (self.n - 1) + self.alphabet.encode(text, where=f"language model text {i}") + [_END]
            for t in range(self.n - 1, len(ids)):
                for order in range(self.n):
                    self.counts[tuple(ids[t - order : t])][ids[t]] += 1
        self._cache.clear()
        return self

    def _probs(self, history: tuple[int, ...]) -> np.ndarray:
        """``(K + 2,)``: probabilities of the blank slot (0), characters ``1..K``, and the end (last)."""
        if history in self._cache:
            return self._cache[history]
        K = len(self.alphabet)
        if not history:
            lower = np.full(K + 1, 1.0 / K)  # uniform over the K - 1 characters and the end
            lower[0] = 0.0
        else:
            lower = self._probs(history[1:])
        seen = self.counts.get(history)
        if not seen:
            out = lower
        else:
            total = sum(seen.values())
            out = lower * (self.discount * len(seen) / total)
            for c, count in seen.items():
                out[c if c != _END else K] += max(count - self.discount, 0.0) / total
        self._cache[history] = out
        return out

    def _history(self, prefix: Sequence[int]) -> tuple[int, ...]:
        padded = [_START] * (self.n - 1) + list(prefix)
        return tuple(padded[len(padded) - (self.n - 1) :]) if self.n > 1 else ()

    def __call__(self, prefix: Sequence[int]) -> np.ndarray:
        """Log-probabilities ``(K,)`` of the next character after ``prefix`` (label ids; entry 0, the blank, -inf)."""
        p = self._probs(self._history(prefix))[:-1]
        with np.errstate(divide="ignore"):
            return np.log(p)

    def end_log_probability(self, prefix: Sequence[int]) -> float:
        """``log p(end | prefix)``: that the text stops after ``prefix``."""
        return float(np.log(self._probs(self._history(prefix))[-1]))
