"""The application estimators' shared training: the ``lr_schedule`` setting reaches the optimiser."""

from __future__ import annotations

import numpy as np
import pytest

from recurra import CTCRecognizer, SequenceClassifier, SequenceTagger
from recurra.errors import ConfigError
from recurra.text import Seq2Seq


def _frames(rng: np.random.Generator) -> list[np.ndarray]:
    return [rng.normal(size=(12, 3)) for _ in range(8)]


@pytest.mark.parametrize("schedule", ["constant", "cosine", "step", "onecycle"])
def test_recognizer_learning_rate_follows_the_schedule(schedule: str) -> None:
    rng = np.random.default_rng(0)
    model = CTCRecognizer("gru", 4, layers=1, epochs=4, batch_size=4, validation=0.0, lr_schedule=schedule)
    rates = model.fit(_frames(rng), ["ab", "ba"] * 4).history_["learning_rate"]
    assert len(rates) == 4
    if schedule == "constant":
        assert rates == [2e-3] * 4
    elif schedule == "step":  # x0.1 every epochs // 3 = 1 epoch: each epoch's rate
        np.testing.assert_allclose(rates, [2e-3, 2e-4, 2e-5, 2e-6], rtol=1e-6)
    elif schedule == "cosine":  # per batch, (1 + cos(pi s / S)) / 2 at the end of each epoch: 0 after the last
        np.testing.assert_allclose(rates, [2e-3 * (1 + np.cos(np.pi * e / 4)) / 2 for e in (1, 2, 3, 4)], atol=1e-12)
    else:  # up, then down far below the peak
        assert rates[-1] < 0.1 * max(rates)


def test_every_shared_estimator_takes_the_schedule() -> None:
    rng = np.random.default_rng(1)
    tagger = SequenceTagger("gru", 4, epochs=2, validation=0.0, lr_schedule="cosine")
    tagger.fit([["a", "b"], ["b", "a"]] * 4, [["X", "Y"], ["Y", "X"]] * 4)
    classifier = SequenceClassifier("gru", 4, epochs=2, validation=0.0, lr_schedule="cosine")
    classifier.fit([rng.normal(size=(6, 2)) for _ in range(8)], ["u", "v"] * 4)
    seq2seq = Seq2Seq(cell="gru", units=8, level="char", epochs=2, validation=0.0, lr_schedule="cosine")
    seq2seq.fit(["ab", "ba"] * 4, ["ba", "ab"] * 4)
    for model in (tagger, classifier, seq2seq):
        assert model.history_["learning_rate"][-1] < model.learning_rate


def test_an_unknown_schedule_is_named() -> None:
    with pytest.raises(ConfigError, match="lr_schedule"):
        CTCRecognizer("gru", 4, lr_schedule="linear")
