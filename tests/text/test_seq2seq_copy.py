"""Seq2Seq's pointer-generator (``copy=True``): a distribution over the target vocabulary that mixes writing
and copying, the same numbers stepped and teacher-forced, saved and loaded, and a task only copying solves."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recurra import Seq2Seq
from recurra.errors import ConfigError
from recurra.text.seq2seq.batches import pad, teacher_forcing
from recurra.text.seq2seq.decoding import beam_search, greedy
from recurra.text.seq2seq.network import Seq2SeqNetwork

WORDS = [f"w{i}" for i in range(60)]


def third_then_first(n: int, seed: int) -> tuple[list[str], list[str]]:
    """Four distinct words in, the third and the first out: words seen in training, in new combinations."""
    rng = np.random.default_rng(seed)
    sources, targets = [], []
    for _ in range(n):
        k = rng.choice(len(WORDS), 4, replace=False)
        sources.append(" ".join(WORDS[i] for i in k))
        targets.append(f"{WORDS[k[2]]} {WORDS[k[0]]}")
    return sources, targets


def _network(attention: str = "general") -> Seq2SeqNetwork:
    torch.manual_seed(0)
    net = Seq2SeqNetwork(20, 15, cell="gru", units=8, layers=1, embedding=6, bidirectional_encoder=True,
                         attention=attention, bridge="copy", dropout=0.0, copy=True)  # fmt: skip
    net.set_copy_map(torch.tensor([0, 0, 0, 0] + [i % 15 if i % 3 else 0 for i in range(4, 20)]))  # some unmapped
    return net.eval()


@pytest.mark.parametrize("attention", ["additive", "dot", "general"])
def test_copying_gives_a_distribution_and_steps_as_teacher_forcing(attention):
    net = _network(attention)
    (source, target_in), _ = teacher_forcing([([5, 6, 7], [4, 5, 6]), ([4, 9, 10, 11, 12], [8, 9]), ([8], [4])])
    with torch.no_grad():
        whole = net((source, target_in))  # (B, T, V): log P
        mass = whole.exp().sum(-1)  # what is not on <pad> was copied from an unmapped source token, or written
        assert bool(((mass > 0.999) & (mass < 1.001)).all())
        memory, states = net.encode(source)
        for t in range(target_in.shape[1]):
            logp, _, states = net.step(target_in[:, t], states, memory)
            keep = torch.ones(15, dtype=torch.bool)
            keep[[0, 2]] = False
            torch.testing.assert_close(logp[:, keep], torch.log_softmax(whole[:, t, keep], -1), atol=1e-5, rtol=1e-5)


def test_beam_of_one_is_greedy_and_a_batch_decodes_as_single_sentences():
    net = _network()
    rows = [[5, 6, 7], [4, 9, 10, 11, 12, 13], [8]]
    with torch.no_grad():
        memory, states = net.encode(pad(rows))
        g = greedy(net, memory, states, 2, 3, 10)
        memory, states = net.encode(pad(rows))
        assert beam_search(net, memory, states, 2, 3, 10, beam=1) == g
        memory, states = net.encode(pad(rows))
        batched = beam_search(net, memory, states, 2, 3, 10, beam=3)
        single = []
        for row in rows:
            memory, states = net.encode(pad([row]))
            single.append(beam_search(net, memory, states, 2, 3, 10, beam=3)[0])
    assert batched == single


def test_copying_solves_what_writing_alone_does_not(tmp_path):
    sources, targets = third_then_first(400, 0)
    held_src, held_tgt = third_then_first(80, 1)
    options = dict(level="word", units=32, embedding=16, epochs=15, validation=0.0, batch_size=32, dropout=0.0, seed=0)
    copying = Seq2Seq(**options, copy=True).fit(sources, targets)
    writing = Seq2Seq(**options).fit(sources, targets)
    copied, written = copying.evaluate(held_src, held_tgt), writing.evaluate(held_src, held_tgt)
    assert copied.exact_match >= 0.9 and copied.exact_match > written.exact_match + 0.3, (copied, written)
    copying.save(tmp_path / "m")
    again = Seq2Seq.load(tmp_path / "m")
    assert again.copy and again.translate(held_src[:10], beam=3) == copying.translate(held_src[:10], beam=3)


def test_copying_needs_attention():
    with pytest.raises(ConfigError, match="needs attention"):
        Seq2Seq(attention=None, copy=True)
