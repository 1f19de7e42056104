"""CTCRecognizer: batch independence with subsampling, the masked loss, learning a toy task, files, and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import recurra
from recurra.ctc import ctc_loss
from recurra.errors import ConfigError, InputValueError, ShapeError
from recurra.recognition import CTCRecognizer
from recurra.recognition.network import RecognizerNetwork, batch_ctc_loss, subsampled_length

LETTERS = " ab"


def frames(word: str, rng: np.random.Generator, per_letter: int = 3) -> np.ndarray:
    """Each letter as ``per_letter`` frames of its one-hot code (4 features, 0 unused) plus noise."""
    clean = np.concatenate([np.tile(np.eye(4)[LETTERS.index(c) + 1], (per_letter, 1)) for c in word])
    return clean + rng.normal(0, 0.1, clean.shape)


@pytest.fixture(scope="module")
def trained() -> CTCRecognizer:
    rng = np.random.default_rng(0)
    words = ["ab", "ba", "aab", "b a", "a", "bb", "abba", "a b"] * 8
    model = CTCRecognizer("gru", 16, layers=1, epochs=30, batch_size=8, learning_rate=1e-2, validation=0.0)
    return model.fit([frames(w, rng) for w in words], words)


def padded(seqs: list[np.ndarray]) -> torch.Tensor:
    T = max(len(s) for s in seqs)
    x = torch.zeros(len(seqs), T, seqs[0].shape[1] + 1)
    for i, s in enumerate(seqs):
        x[i, : len(s), :-1] = torch.as_tensor(s)
        x[i, : len(s), -1] = 1.0
    return x


@pytest.mark.parametrize("subsample", [1, 2, 4])
@pytest.mark.parametrize(("bidirectional", "chunk"), [(True, 0), (False, 0), (False, 2)])
def test_a_sequence_gets_the_same_output_alone_or_in_a_batch(subsample, bidirectional, chunk):
    torch.manual_seed(0)
    net = RecognizerNetwork(features=3, classes=5, cell="gru", units=6, layers=2, bidirectional=bidirectional,
                            subsample=subsample, conv_channels=4, dropout=0.0, chunk=chunk).eval()  # fmt: skip
    rng = np.random.default_rng(1)
    seqs = [rng.normal(size=(n, 3)).astype(np.float32) for n in (9, 4, 13, 1)]
    x = padded(seqs)
    together, lengths = net(x), net.lengths(x)
    assert lengths.tolist() == [subsampled_length(len(s), subsample) for s in seqs]
    for i, s in enumerate(seqs):
        alone = net(padded([s]))
        n = int(lengths[i])
        torch.testing.assert_close(together[i, :n], alone[0, :n], atol=1e-6, rtol=0)
        assert torch.all(together[i, n:, 0] == 0.0)  # padded frames: the blank for sure


def test_the_masked_batch_loss_is_ctc_over_the_real_frames():
    torch.manual_seed(0)
    net = RecognizerNetwork(features=3, classes=4, cell="lstm", units=5, layers=1, bidirectional=True, subsample=2,
                            conv_channels=4, dropout=0.0).double().eval()  # fmt: skip
    rng = np.random.default_rng(2)
    x = padded([rng.normal(size=(n, 3)) for n in (12, 7, 10)]).double()
    targets = [[1, 2], [3], [1, 1, 2]]
    y = torch.tensor([[1, 2, 0], [3, 0, 0], [1, 1, 2]])
    log_probs = net(x)
    expected = ctc_loss(log_probs, net.lengths(x), targets)
    torch.testing.assert_close(batch_ctc_loss(log_probs, y), expected, atol=1e-9, rtol=0)


def test_it_learns_to_read_and_beam_search_agrees(trained):
    rng = np.random.default_rng(5)
    words = ["ab", "b a", "aab", "abba", "ba"]
    X = [frames(w, rng) for w in words]
    assert trained.transcribe(X) == words
    assert trained.transcribe(X, beam=4) == words
    scores = trained.evaluate(X, words)
    assert scores.cer == 0.0 and scores.wer == 0.0 and scores.count == 5
    wrong = trained.evaluate(X, ["ab", "b b", "aab", "abba", "ba"])
    assert wrong.cer == pytest.approx(1 / sum(map(len, words))) and wrong.wer == pytest.approx(1 / 6)


def test_save_and_load_give_the_same_log_probabilities(trained, tmp_path):
    rng = np.random.default_rng(6)
    X = [frames(w, rng) for w in ["ab", "bba"]]
    trained.save(tmp_path / "reader")
    back = recurra.load(tmp_path / "reader")
    assert isinstance(back, CTCRecognizer) and back.alphabet_ == trained.alphabet_
    for a, b in zip(back.log_probabilities(X), trained.log_probabilities(X)):
        np.testing.assert_allclose(a, b, atol=1e-7)


def test_a_chunked_one_way_model_learns_saves_and_loads(tmp_path):
    rng = np.random.default_rng(0)
    words = ["ab", "ba", "aab", "b a", "a", "bb", "abba", "a b"] * 8
    model = CTCRecognizer("gru", 16, layers=2, bidirectional=False, chunk=3, epochs=30, batch_size=8, learning_rate=1e-2,
                          validation=0.0)  # fmt: skip
    model.fit([frames(w, rng) for w in words], words)
    X = [frames(w, rng) for w in ["ab", "bba", "a b"]]
    assert model.evaluate(X, ["ab", "bba", "a b"]).cer < 0.2
    model.save(tmp_path / "reader")
    back = recurra.load(tmp_path / "reader")
    assert back.chunk == 3
    for a, b in zip(back.log_probabilities(X), model.log_probabilities(X)):
        np.testing.assert_allclose(a, b, atol=1e-7)
    with pytest.raises(ConfigError, match="chunk=3 is for one-way models"):
        CTCRecognizer("gru", 4, chunk=3)


def test_bad_inputs_are_named(trained):
    rng = np.random.default_rng(7)
    model = CTCRecognizer("gru", 4, layers=1, epochs=1, validation=0.0, subsample=2)
    too_short = r"sequence 1 of the training data is too short.*'aab' needs at least 4 frames, got 2"
    with pytest.raises(InputValueError, match=too_short):
        model.fit([frames("ab", rng), frames("aab", rng, per_letter=1)], ["ab", "aab"])
    with pytest.raises(InputValueError, match=r"one text per sequence \(2\), got 1 texts"):
        model.fit([frames("ab", rng), frames("ba", rng)], ["ab"])
    with pytest.raises(InputValueError, match="non-empty text for sequence 0"):
        model.fit([frames("ab", rng)], [""])
    with pytest.raises(ShapeError, match=r"sequence 1 of shape \(time >= 1, 4\), got \(3, 2\)"):
        model.fit([frames("ab", rng), np.zeros((3, 2))], ["ab", "ab"])
    bad = frames("ab", rng)
    bad[2, 1] = np.inf
    with pytest.raises(InputValueError, match="sequence 0 holds inf at frame 2, feature 1"):
        trained.transcribe([bad])
    with pytest.raises(InputValueError, match=r"characters outside the model's alphabet: 'c'"):
        fresh = CTCRecognizer(**trained.get_params())
        fresh.fit([frames("ab", rng)], ["ab"], validation_data=([frames("ab", rng)], ["ac"]), epochs=0)
    with pytest.raises(ShapeError, match="a list of"):
        trained.transcribe(frames("ab", rng))


def test_choices_pick_the_most_probable_of_the_given_texts(trained):
    rng = np.random.default_rng(5)
    X = [frames(w, rng) for w in ["ab", "bb", "a b"]]
    assert trained.transcribe(X, choices=["a b", "ab", "bb", "ba"]) == ["ab", "bb", "a b"]
    assert trained.transcribe(X[:1], choices=["ba", "bb"]) in (["ba"], ["bb"])  # the right text is not offered
    scores = trained.evaluate(X, ["ab", "bb", "a b"], choices=["ab", "bb", "a b"])
    assert scores.cer == 0.0 and scores.wer == 0.0
    with pytest.raises(InputValueError, match="choice 1 has characters outside the model's alphabet: 'z'"):
        trained.transcribe(X, choices=["ab", "z"])
    with pytest.raises(InputValueError, match="a list of texts to choose from"):
        trained.transcribe(X, choices="ab")


def test_the_head_lookahead_starts_as_the_identity() -> None:
    settings = dict(features=3, classes=4, cell="gru", units=5, layers=1, bidirectional=False, subsample=2, conv_channels=6,
                    dropout=0.0)  # fmt: skip
    torch.manual_seed(0)
    plain = RecognizerNetwork(**settings).eval()
    reading = RecognizerNetwork(**settings, head_lookahead=4).eval()
    reading.load_state_dict(plain.state_dict(), strict=False)  # all but the look-ahead's own weights
    x = torch.cat([torch.randn(2, 11, 3), torch.ones(2, 11, 1)], -1)
    x[1, 7:] = 0.0  # the second sequence is 7 frames long
    torch.testing.assert_close(reading(x), plain(x))
    with torch.no_grad():
        reading.head_ahead.weight[:, :, 1:].normal_()
    assert not torch.allclose(reading(x), plain(x))
