"""Translation tables (IBM Model 1, Dice) and Seq2Seq's lexicon bias (``lexicon=k``): the bias as its formula,
the same numbers stepped and teacher-forced, saved and loaded, and a task the lexicon learns faster."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recurra import Seq2Seq
from recurra.errors import ConfigError, InputValueError
from recurra.text.seq2seq.batches import pad, teacher_forcing
from recurra.text.seq2seq.decoding import beam_search, greedy
from recurra.text.seq2seq.lexicon import translation_table
from recurra.text.seq2seq.network import LEXICON_EPSILON, Seq2SeqNetwork

SOURCE_WORDS = [f"s{i}" for i in range(40)]
TARGET_WORDS = [f"t{(7 * i) % 40}" for i in range(40)]  # word i translates to TARGET_WORDS[i]


def reversed_translation(n: int, seed: int) -> tuple[list[str], list[str]]:
    """Three to five distinct words in, their translations out in reverse order."""
    rng = np.random.default_rng(seed)
    sources, targets = [], []
    for _ in range(n):
        k = rng.choice(len(SOURCE_WORDS), int(rng.integers(3, 6)), replace=False)
        sources.append(" ".join(SOURCE_WORDS[i] for i in k))
        targets.append(" ".join(TARGET_WORDS[i] for i in k[::-1]))
    return sources, targets


def test_model1_finds_the_translations_a_word_shares_sentences_with():
    sources = [["la", "casa"], ["la", "flor"], ["una", "casa"], ["una", "flor", "roja"], ["la", "casa", "roja"]]
    targets = [["the", "house"], ["the", "flower"], ["a", "house"], ["a", "red", "flower"], ["the", "red", "house"]]
    table = translation_table(sources, targets)
    assert table.best() == {"la": "the", "casa": "house", "flor": "flower", "una": "a", "roja": "red"}
    top = table.top(2)
    assert top["casa"][0][0] == "house" and len(top["casa"][0]) == 2
    assert top["casa"][1][0] >= top["casa"][1][1] > 0
    by_source: dict = {}
    for s, p in zip(table.source, table.score):  # t(· | f) sums to 1 over the targets f was seen with
        by_source[s] = by_source.get(s, 0.0) + p
    assert all(abs(v - 1) < 1e-9 for v in by_source.values())
    dice = translation_table(sources, targets, method="dice").best()
    assert dice["flor"] == "flower" and dice["una"] == "a"


def test_translation_table_refuses_bad_input():
    with pytest.raises(InputValueError, match="as many targets as sources"):
        translation_table([["a"]], [])
    with pytest.raises(InputValueError, match="iterations"):
        translation_table([["a"]], [["b"]], iterations=0)
    with pytest.raises(ConfigError, match="method"):
        translation_table([["a"]], [["b"]], method="model9")
    with pytest.raises(InputValueError, match="k >= 1"):
        translation_table([["a"]], [["b"]]).top(0)


def _network(k: int = 3) -> Seq2SeqNetwork:
    torch.manual_seed(0)
    net = Seq2SeqNetwork(20, 15, cell="gru", units=8, layers=1, embedding=6, bidirectional_encoder=True,
                         attention="general", bridge="copy", dropout=0.0, lexicon=k)  # fmt: skip
    ids = torch.randint(1, 15, (20, k))
    probs = torch.rand(20, k) / k
    probs[:, -1] = 0  # fewer translations than k
    net.set_lexicon(ids, probs)
    return net.eval()


def test_the_bias_is_the_log_of_the_attended_translations():
    net = _network()
    (source, target_in), _ = teacher_forcing([([5, 6, 7], [4, 5, 6]), ([4, 9, 10, 11, 12], [8, 9])])
    with torch.no_grad():
        memory, states = net.encode(source)
        biased, alpha, _ = net.decode(target_in, states, memory)
        net.lexicon = 0  # the same network without the bias
        plain, _, _ = net.decode(target_in, states, memory)
        net.lexicon = 3
    b, t = 1, 2
    expected = torch.full((15,), LEXICON_EPSILON)
    for s, x in enumerate(source[b].tolist()):
        for j in range(3):
            expected[net.lexicon_ids[x, j]] += alpha[b, t, s] * net.lexicon_probs[x, j]
    torch.testing.assert_close(biased[b, t] - plain[b, t], torch.log(expected), atol=1e-6, rtol=1e-6)


def test_stepping_with_a_lexicon_equals_teacher_forcing_and_beam_one_is_greedy():
    net = _network()
    (source, target_in), _ = teacher_forcing([([5, 6, 7], [4, 5, 6]), ([4, 9, 10, 11, 12], [8, 9]), ([8], [4])])
    with torch.no_grad():
        whole = net((source, target_in))
        memory, states = net.encode(source)
        keep = torch.ones(15, dtype=torch.bool)
        keep[[0, 2]] = False
        for t in range(target_in.shape[1]):
            logp, _, states = net.step(target_in[:, t], states, memory)
            torch.testing.assert_close(logp[:, keep], torch.log_softmax(whole[:, t, keep], -1), atol=1e-5, rtol=1e-5)
        rows = [[5, 6, 7], [4, 9, 10, 11, 12, 13], [8]]
        memory, states = net.encode(pad(rows))
        g = greedy(net, memory, states, 2, 3, 10)
        memory, states = net.encode(pad(rows))
        assert beam_search(net, memory, states, 2, 3, 10, beam=1) == g


def test_a_lexicon_of_the_wrong_shape_is_refused():
    net = _network()
    with pytest.raises(ConfigError, match="lexicon of shape"):
        net.set_lexicon(torch.zeros(20, 2, dtype=torch.long), torch.zeros(20, 2))
    with pytest.raises(ConfigError, match="needs attention"):
        Seq2Seq(attention=None, lexicon=4)


def test_the_lexicon_learns_word_translations_sooner(tmp_path):
    sources, targets = reversed_translation(300, 0)
    held_src, held_tgt = reversed_translation(60, 1)
    options = dict(level="word", units=32, embedding=16, epochs=6, validation=0.0, batch_size=16, dropout=0.0, seed=0)
    with_lexicon = Seq2Seq(**options, lexicon=2).fit(sources, targets)
    without = Seq2Seq(**options).fit(sources, targets)
    a, b = with_lexicon.evaluate(held_src, held_tgt), without.evaluate(held_src, held_tgt)
    assert a.chrf > b.chrf + 10, (a, b)
    ids = with_lexicon.network_.lexicon_ids
    vocab_s, vocab_t = with_lexicon.source_vocab_, with_lexicon.target_vocab_
    best = {vocab_s.tokens[i]: vocab_t.tokens[int(ids[i, 0])] for i in range(4, len(vocab_s))}
    assert sum(best[w] == t for w, t in zip(SOURCE_WORDS, TARGET_WORDS) if w in best) >= 38  # IBM Model 1 found them
    with_lexicon.save(tmp_path / "m")
    again = Seq2Seq.load(tmp_path / "m")
    assert again.lexicon == 2 and torch.equal(again.network_.lexicon_probs, with_lexicon.network_.lexicon_probs)
    assert again.translate(held_src[:10], beam=3) == with_lexicon.translate(held_src[:10], beam=3)
