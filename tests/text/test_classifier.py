"""SequenceClassifier: padded and masked batches give each text its own result, class weights,
metrics, texts and vector sequences, saving and loading, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, f1_score

from recurra.errors import ConfigError, InputValueError, ModelFileError, ShapeError
from recurra.text import SequenceClassifier, load_classifier
from recurra.text.classifier import classification_report

from ..helpers import rewrite_model_file

POS = ["good", "great", "fine", "lovely", "superb"]
NEG = ["bad", "awful", "poor", "dull", "boring"]
FILL = ["the", "film", "was", "a", "plot", "and", "very", "with", "actors"]


def reviews(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Texts of 2 to 14 words; the label says whether the one opinion word is positive."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        words = list(rng.choice(FILL, size=rng.integers(1, 13)))
        pos = bool(rng.integers(2))
        words.insert(int(rng.integers(len(words) + 1)), str(rng.choice(POS if pos else NEG)))
        texts.append(" ".join(words))
        labels.append("fresh" if pos else "rotten")
    return texts, labels


@pytest.fixture(scope="module")
def data():
    return reviews(300), reviews(60, seed=1)


@pytest.mark.parametrize(
    "cell, bidirectional, pooling",
    [("lstm", True, "last"), ("gru", False, "mean"), ("rnn", True, "max"), ("minlstm", False, "last")],
)
def test_a_padded_batch_gives_every_text_what_it_gets_alone(data, cell, bidirectional, pooling):
    (texts, labels), _ = data
    kw = dict(units=8, embedding=8, epochs=1, validation=0)
    clf = SequenceClassifier(cell=cell, bidirectional=bidirectional, pooling=pooling, **kw)
    clf.fit(texts[:64], labels[:64])
    batch = ["good", "the film was very boring with the actors and a plot", "a lovely film", "dull"]
    together = clf.predict_proba(batch)  # padded to the longest, masked
    alone = np.concatenate([clf.predict_proba([t]) for t in batch])
    np.testing.assert_allclose(together, alone, atol=1e-6)
    assert together.shape == (4, 2) and np.allclose(together.sum(1), 1.0)


def test_it_learns_the_task_and_reports_metrics(data):
    (texts, labels), (test_x, test_y) = data
    clf = SequenceClassifier(cell="gru", units=16, embedding=16, bidirectional=True, epochs=8, learning_rate=0.01, seed=0)
    clf.fit(texts, labels)
    r = clf.evaluate(test_x, test_y)
    assert r.accuracy >= 0.9 and r.macro_f1 >= 0.9
    assert list(r.confusion.index) == ["fresh", "rotten"] and int(r.confusion.to_numpy().sum()) == len(test_y)
    assert set(clf.predict(test_x)) <= {"fresh", "rotten"}
    assert "val_loss" in clf.history_


def test_classification_report_matches_scikit_learn():
    y_true = ["a", "b", "c", "a", "b", "c", "a"]
    y_pred = ["a", "b", "b", "a", "c", "c", "b"]
    r = classification_report(y_true, y_pred, ["a", "b", "c"])
    assert r.macro_f1 == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    np.testing.assert_array_equal(r.confusion.to_numpy(), confusion_matrix(y_true, y_pred, labels=["a", "b", "c"]))
    assert r.accuracy == pytest.approx(4 / 7)


def test_balanced_class_weights():
    texts = ["good"] * 9 + ["bad"] * 3
    labels = ["p"] * 9 + ["n"] * 3
    clf = SequenceClassifier(units=4, embedding=4, epochs=1, validation=0, class_weight="balanced").fit(texts, labels)
    assert clf.classes_ == ["n", "p"] and clf.weights_ == pytest.approx([12 / (2 * 3), 12 / (2 * 9)])
    clf = SequenceClassifier(units=4, embedding=4, epochs=1, validation=0, class_weight={"n": 5.0}).fit(texts, labels)
    assert clf.weights_ == [5.0, 1.0]
    with pytest.raises(ConfigError, match="class_weight names labels not in the data"):
        SequenceClassifier(units=4, epochs=1, validation=0, class_weight={"x": 2.0}).fit(texts, labels)


def test_sequences_of_vectors_of_different_lengths(rng):
    seqs = [rng.normal(size=(int(rng.integers(3, 15)), 2)).astype(np.float32) for _ in range(80)]
    labels = [int(s[:, 0].sum() > 0) for s in seqs]
    clf = SequenceClassifier(cell="lstm", units=8, epochs=2, validation=0).fit(seqs, labels)
    together = clf.predict_proba(seqs[:5])
    alone = np.concatenate([clf.predict_proba([s]) for s in seqs[:5]])
    np.testing.assert_allclose(together, alone, atol=1e-6)
    assert clf.classes_ == [0, 1]
    with pytest.raises(ShapeError, match="expected sequences with 2 features, got 3"):
        clf.predict_proba([np.zeros((4, 3))])
    with pytest.raises(InputValueError, match="trained on sequences, got texts"):
        clf.predict_proba(["a text"])


def test_save_and_load(data, tmp_path):
    (texts, labels), (test_x, _) = data
    clf = SequenceClassifier(cell="gru", units=8, embedding=8, epochs=1, validation=0).fit(texts[:50], labels[:50])
    clf.save(tmp_path / "clf")
    files = sorted(p.name for p in (tmp_path / "clf").iterdir())
    assert files == ["config.json", "manifest.json", "vocab.json", "weights.safetensors"]
    again = load_classifier(tmp_path / "clf")
    np.testing.assert_allclose(again.predict_proba(test_x), clf.predict_proba(test_x), atol=1e-7)
    assert again.classes_ == clf.classes_
    with pytest.raises(ModelFileError, match="expected format 'recurra.sequence_classifier', got 'recurra.language_model'"):
        rewrite_model_file(tmp_path / "clf", "config.json", b'{"format": "recurra.language_model", "config": {}}')
        load_classifier(tmp_path / "clf")


def test_bad_labels_are_refused_clearly(data):
    (texts, labels), _ = data
    with pytest.raises(InputValueError, match="expected at least two classes in the labels, got only 'fresh' \\(5 rows\\)"):
        SequenceClassifier(epochs=1).fit(texts[:5], ["fresh"] * 5)
    clf = SequenceClassifier(units=4, embedding=4, epochs=1, validation=0).fit(texts[:20], labels[:20])
    with pytest.raises(InputValueError, match=r"not trained on: \['meh'\]; known classes: \['fresh', 'rotten'\]"):
        clf.evaluate(texts[:2], ["fresh", "meh"])
    with pytest.raises(ShapeError, match="expected as many labels as inputs, got 3 labels for 2 inputs"):
        SequenceClassifier().fit(texts[:2], labels[:3])
    with pytest.raises(InputValueError, match="got one string"):
        clf.predict("good film")
    assert clf.predict_proba([""]).shape == (1, 2)  # an empty text reads as one unknown word
