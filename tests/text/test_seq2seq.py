"""Seq2Seq: learns a small translation, decodes step by step with the numbers of teacher forcing, beam 1 is
greedy, batches decode as single sentences do, files round-trip, and bad input is named."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch

import recurra
from recurra.errors import ConfigError, InputValueError, ModelFileError, NotBuiltError
from recurra.text.seq2seq import Seq2Seq, load_seq2seq
from recurra.text.seq2seq.batches import LengthBuckets, pad, teacher_forcing
from recurra.text.seq2seq.decoding import beam_search, greedy
from recurra.text.seq2seq.network import Seq2SeqNetwork
from recurra.text.seq2seq.plots import plot_attention

ES = "cero uno dos tres cuatro cinco seis siete ocho nueve".split()
EN = "zero one two three four five six seven eight nine".split()


def numbers(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Spanish digit words -> the English words in reverse order (1 to 5 words)."""
    rng = random.Random(seed)
    src, tgt = [], []
    for _ in range(n):
        d = [rng.randrange(10) for _ in range(rng.randint(1, 5))]
        src.append(" ".join(ES[i] for i in d))
        tgt.append(" ".join(EN[i] for i in reversed(d)))
    return src, tgt


@pytest.fixture(scope="module")
def trained() -> Seq2Seq:
    src, tgt = numbers(600)
    return Seq2Seq(level="word", units=32, embedding=16, epochs=15, batch_size=32, learning_rate=1e-2, validation=0.1).fit(
        src, tgt
    )


def test_learns_to_translate_and_reverse(trained):
    src, tgt = numbers(60, seed=1)
    scores = trained.evaluate(src, tgt)
    assert scores.exact_match > 0.9
    assert scores.bleu > 90 and scores.chrf > 90
    assert trained.history_["val_loss"][-1] < trained.history_["val_loss"][0]


@pytest.mark.parametrize("attention", ["additive", "dot", "general", None])
@pytest.mark.parametrize("cell", ["lstm", "gru", "minlstm"])
def test_stepping_gives_the_numbers_of_teacher_forcing(attention, cell):
    torch.manual_seed(0)
    net = Seq2SeqNetwork(20, 15, cell=cell, units=8, layers=2, embedding=6, bidirectional_encoder=True, attention=attention,
                         bridge="dense", dropout=0.3).eval()  # fmt: skip
    (source, target_in), _ = teacher_forcing([([5, 6, 7], [4, 5, 6]), ([4, 9, 10, 11, 12], [8, 9]), ([8], [4])])
    whole = torch.log_softmax(net((source, target_in)), -1)  # (B, T, V)
    memory, states = net.encode(source)
    for t in range(target_in.shape[1]):
        logp, alpha, states = net.step(target_in[:, t], states, memory)
        keep = torch.ones(15, dtype=torch.bool)
        keep[[0, 2]] = False  # <pad> and <start> are never written
        torch.testing.assert_close(logp[:, keep], torch.log_softmax(whole[:, t, keep], -1), atol=1e-5, rtol=1e-5)
        if attention is not None:
            torch.testing.assert_close(alpha.sum(-1), torch.ones(3))
            assert (alpha[0, 3:] == 0).all()  # padding gets no attention


def _untrained(attention: str | None = "additive") -> Seq2SeqNetwork:
    torch.manual_seed(1)
    return Seq2SeqNetwork(30, 25, cell="gru", units=16, layers=1, embedding=8, bidirectional_encoder=True, attention=attention,
                          bridge="copy", dropout=0.0).eval()  # fmt: skip


ROWS = [[5, 6, 7], [4, 9, 10, 11, 12, 13, 14], [8], [20, 21, 22, 23]]


@pytest.mark.parametrize("attention", ["additive", None])
def test_beam_of_one_is_greedy_exactly(attention):
    net = _untrained(attention)
    memory, states = net.encode(pad(ROWS))
    g = greedy(net, memory, states, 2, 3, 12)
    memory, states = net.encode(pad(ROWS))
    assert beam_search(net, memory, states, 2, 3, 12, beam=1) == g


@pytest.mark.parametrize("beam", [1, 3])
def test_a_batch_decodes_as_single_sentences_do(beam):
    net = _untrained()
    memory, states = net.encode(pad(ROWS))
    batched = beam_search(net, memory, states, 2, 3, 12, beam=beam)
    single = []
    for row in ROWS:
        memory, states = net.encode(pad([row]))
        single.append(beam_search(net, memory, states, 2, 3, 12, beam=beam)[0])
    assert batched == single


def test_beam_search_finds_a_likelier_output_than_greedy(trained):
    src, _ = numbers(40, seed=2)
    net = trained.network_
    rows = trained._source_batch(src)

    @torch.no_grad()
    def logprob(ids: list[int], row: list[int]) -> float:
        memory, states = net.encode(pad([row]))
        target_in = torch.tensor([[2, *ids]])
        logits = net.decode(target_in, states, memory)[0][0]
        return float(torch.log_softmax(logits, -1)[torch.arange(len(ids) + 1), torch.tensor([*ids, 3])].sum())

    greedy_ids = trained.translate_ids(src)
    beam_ids = trained.translate_ids(src, beam=4, batch_size=7)
    better = [logprob(b, r) >= logprob(g, r) - 1e-4 for b, g, r in zip(beam_ids, greedy_ids, rows)]
    assert sum(better) >= 0.9 * len(better)  # length normalisation may prefer a longer, slightly less likely one


def test_sampling_repeats_with_its_seed(trained):
    src, _ = numbers(5, seed=3)
    a = trained.translate(src, temperature=1.5, seed=4)
    assert a == trained.translate(src, temperature=1.5, seed=4)
    assert any(trained.translate(src, temperature=5.0, seed=s) != a for s in range(5))


def test_attention_weights_and_plot(trained, tmp_path):
    src_tokens, out_tokens, w = trained.attention_weights("uno dos tres")
    assert src_tokens == ["uno", "dos", "tres"] and out_tokens[-1] == "<end>"
    assert w.shape == (len(out_tokens), 3)
    np.testing.assert_allclose(w.sum(1), 1.0, rtol=1e-5)
    path = plot_attention([(src_tokens, out_tokens, w)], tmp_path / "attention.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_save_and_load_give_the_same_outputs(trained, tmp_path):
    src, _ = numbers(20, seed=5)
    trained.save(tmp_path / "m")
    again = recurra.load(tmp_path / "m")
    assert isinstance(again, Seq2Seq)
    assert again.translate(src, beam=3) == trained.translate(src, beam=3)
    assert again.get_params() == trained.get_params()


def test_a_vocabulary_that_does_not_match_is_refused(trained, tmp_path):
    from ..helpers import rewrite_model_file

    trained.save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "target_vocab.json").read_text())
    doc["tokens"] = doc["tokens"][:-1]
    rewrite_model_file(tmp_path / "m", "target_vocab.json", json.dumps(doc).encode())
    with pytest.raises(ModelFileError, match="target_vocab.json does not match the weights"):
        load_seq2seq(tmp_path / "m")


def test_subword_level_round_trips(tmp_path):
    src, tgt = numbers(200)
    m = Seq2Seq(level="subword", subword_vocab=40, units=16, embedding=8, epochs=2, validation=0.0).fit(src, tgt)
    pieces = m.source_tokenizer_.tokenize("cuatro nueve")
    assert m.source_tokenizer_.detokenize(pieces) == "cuatro nueve"
    m.save(tmp_path / "m")
    assert (tmp_path / "m" / "source_subword.json").exists()
    assert load_seq2seq(tmp_path / "m").translate(src[:10], beam=2) == m.translate(src[:10], beam=2)


def test_scheduled_sampling_trains():
    src, tgt = numbers(200)
    a = Seq2Seq(level="word", units=16, embedding=8, epochs=2, validation=0.0).fit(src, tgt)
    b = Seq2Seq(level="word", units=16, embedding=8, epochs=2, validation=0.0, scheduled_sampling=0.5).fit(src, tgt)
    assert np.isfinite(b.history_["loss"]).all()
    assert a.history_["loss"][-1] != b.history_["loss"][-1]


def test_the_same_seed_repeats_a_run():
    src, tgt = numbers(100)
    runs = [Seq2Seq(level="char", units=8, embedding=4, epochs=1, validation=0.0, seed=3).fit(src, tgt) for _ in range(2)]
    for p, q in zip(runs[0].network_.parameters(), runs[1].network_.parameters()):
        assert torch.equal(p, q)


def test_length_buckets_cover_every_pair_once():
    torch.manual_seed(0)
    lengths = [random.Random(i).randint(1, 50) for i in range(1000)]
    batches = list(LengthBuckets(lengths, 16, shuffle=True))
    assert sorted(i for b in batches for i in b) == list(range(1000))
    spread = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches])
    assert spread < 5  # pairs of similar lengths share a batch


def test_csv_and_tsv_pairs(tmp_path):
    (tmp_path / "p.tsv").write_text("es\ten\nuno dos\ttwo one\ntres\tthree\n", encoding="utf-8")
    (tmp_path / "p.csv").write_text('a,b\n"uno, dos","two, one"\ntres,three\n', encoding="utf-8")
    m = Seq2Seq(level="char", units=8, embedding=4, epochs=1, validation=0.0)
    m.fit(tmp_path / "p.tsv")
    assert m.source_vocab_.counts["u"] == 1
    from recurra.text.seq2seq.pairs import read_pairs

    assert read_pairs(tmp_path / "p.csv") == (["uno, dos", "tres"], ["two, one", "three"])
    with pytest.raises(InputValueError, match=r"expected column\(s\) \['x'\]"):
        read_pairs(tmp_path / "p.csv", "x", "b")


@pytest.mark.parametrize(
    "sources, targets, message",
    [
        (["uno", "dos"], ["one"], "expected as many training targets as sources, got 1 targets for 2 sources"),
        ([], [], "expected at least one training pair, got none"),
        (["uno", "  "], ["one", "two"], "expected non-empty training sources, got an empty one at position 1"),
        (["uno", "dos"], ["one", ""], "expected non-empty training targets, got an empty one at position 1"),
        (["uno", 2], ["one", "two"], "expected training sources as strings, got int at position 1"),
        ("uno dos", ["one"], "expected training sources as a list of texts, got one string"),
    ],
)
def test_bad_pairs_are_named(sources, targets, message):
    with pytest.raises(InputValueError, match=message):
        Seq2Seq(level="char", units=8, epochs=1).fit(sources, targets)


def test_too_long_sources_and_bad_decoding_options(trained):
    with pytest.raises(InputValueError, match="source 1 is 6 tokens long, longer than max_source_length=5"):
        Seq2Seq(level="word", units=8, epochs=1, max_source_length=5).fit(["a b", "a b c d e f"], ["x", "y"])
    long = " ".join(["uno"] * 201)
    with pytest.raises(InputValueError, match="source 0 is 201 tokens long"):
        trained.translate([long])
    with pytest.raises(InputValueError, match="expected beam=1"):
        trained.translate(["uno"], beam=2, temperature=1.0)
    with pytest.raises(ConfigError, match="beam"):
        trained.translate(["uno"], beam=0)
    with pytest.raises(InputValueError, match="one string"):
        trained.translate("uno")
    with pytest.raises(NotBuiltError):
        Seq2Seq().translate(["uno"])
    with pytest.raises(ConfigError, match="even units"):
        Seq2Seq(units=7)
    with pytest.raises(ConfigError, match="attention"):
        Seq2Seq(attention="luong")
