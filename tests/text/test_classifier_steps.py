"""Per-step labels and streaming of SequenceClassifier on sequences of vectors, and standardised features."""

from __future__ import annotations

import numpy as np
import pytest

from recurra.errors import ConfigError, InputValueError
from recurra.text import SequenceClassifier, load_classifier


def signals(n: int = 60, seed: int = 0) -> tuple[list[np.ndarray], list[str]]:
    """Two channels around 1000 (unscaled, like raw sensor counts); class 'up' drifts up, 'down' down."""
    rng = np.random.default_rng(seed)
    seqs, labels = [], []
    for i in range(n):
        T = int(rng.integers(8, 25))
        slope = 1.0 if i % 2 else -1.0
        t = np.arange(T)[:, None]
        seqs.append(1000.0 + 50.0 * slope * t / T + rng.normal(scale=5.0, size=(T, 2)))
        labels.append("up" if i % 2 else "down")
    return seqs, labels


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
def test_steps_and_stream_agree_with_predict_proba(cell, pooling):
    seqs, labels = signals(20)
    clf = SequenceClassifier(cell, 6, layers=2, pooling=pooling, epochs=1, validation=0.0, standardize=True)
    clf.fit(seqs, labels)
    steps = clf.predict_proba_steps(seqs[:4])
    assert [s.shape for s in steps] == [(len(x), 2) for x in seqs[:4]]
    for s, whole in zip(steps, clf.predict_proba(seqs[:4])):
        np.testing.assert_allclose(s[-1], whole, atol=1e-6)
    for i in range(3):  # each prefix alone gives the row of its last step
        np.testing.assert_allclose(clf.predict_proba([seqs[0][: i + 3]])[0], steps[0][i + 2], atol=1e-6)
    stream = clf.stream()
    blocks = np.split(seqs[0], [1, 4, 5])
    streamed = np.concatenate([stream.update(b) for b in blocks if len(b)])
    np.testing.assert_allclose(streamed, steps[0], atol=1e-6)
    assert stream.label(streamed[-1:]) == [clf.predict([seqs[0]])[0]]
    stream.reset()
    np.testing.assert_allclose(stream.update(seqs[1]), steps[1], atol=1e-6)
    assert list(clf.predict_steps(seqs[:1])[0]) == [clf.classes_[k] for k in steps[0].argmax(1)]


def test_standardize_learns_on_training_steps_and_survives_saving(tmp_path):
    seqs, labels = signals(60)
    raw = SequenceClassifier("gru", 8, epochs=8, validation=0.0, seed=1).fit(seqs, labels)
    scaled = SequenceClassifier("gru", 8, epochs=8, validation=0.0, seed=1, standardize=True).fit(seqs, labels)
    assert raw.scaling_ is None
    steps = np.concatenate(seqs)
    np.testing.assert_allclose(scaled.scaling_["mean"], steps.mean(0), rtol=1e-9)
    np.testing.assert_allclose(scaled.scaling_["std"], steps.std(0), rtol=1e-9)
    test, test_labels = signals(40, seed=1)
    assert scaled.evaluate(test, test_labels).accuracy > raw.evaluate(test, test_labels).accuracy
    assert scaled.evaluate(test, test_labels).accuracy >= 0.9
    scaled.save(tmp_path / "m")
    back = load_classifier(tmp_path / "m")
    np.testing.assert_allclose(back.predict_proba(test), scaled.predict_proba(test), atol=1e-7)


def test_steps_need_one_way_layers_and_sequences():
    seqs, labels = signals(10)
    both = SequenceClassifier("gru", 4, bidirectional=True, epochs=1, validation=0.0).fit(seqs, labels)
    with pytest.raises(ConfigError, match="one-way layers"):
        both.predict_proba_steps(seqs[:1])
    with pytest.raises(ConfigError, match="one-way layers"):
        both.stream()
    texts = SequenceClassifier("gru", 4, embedding=4, epochs=1, validation=0.0).fit(["a b", "c d"] * 4, [0, 1] * 4)
    with pytest.raises(ConfigError, match="trained on texts"):
        texts.stream()
    one_way = SequenceClassifier("gru", 4, epochs=1, validation=0.0).fit(seqs, labels)
    bad = seqs[0].copy()
    bad[3, 1] = np.nan
    with pytest.raises(InputValueError, match="nan at step 3, feature 1"):
        one_way.stream().update(bad)


def test_sequences_with_differing_channel_counts_are_named():
    from recurra.errors import ShapeError

    with pytest.raises(ShapeError, match="expected sequences with 3 features, got 2 at position 1"):
        SequenceClassifier("gru", 4, epochs=1, validation=0.0).fit([np.zeros((5, 3)), np.zeros((5, 2))], [0, 1])
